"""Hex maps of England's LAs on data/registry/hexmaps.yml's cartograms: LAs join hexes on ONS codes,
else on their successors' or predecessors' hexes (in vertical strips); every step is recorded and
noted on the figure, and an LA left without a hex is reported, never dropped."""

from __future__ import annotations

import itertools
import re
import warnings
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize, to_rgb
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path as MplPath

from inclusion_index.config import LabelRules, run_settings
from inclusion_index.index.edition import Edition
from inclusion_index.paths import data_dir as default_data_dir
from inclusion_index.report.plotting import fit_text, renderer_of
from inclusion_index.sources.geography import (
    EXCLUDED_FROM_RANKING,
    LAReference,
    boundary_edges,
    january_of,
    load_la_reference,
    reachable,
)
from inclusion_index.sources.hexes import Polygon, hexmap_for, load_hexes
from inclusion_index.sources.registry import Registry

WIDTH = 7.0  # inches; the map fills the width, and the figure is as tall as the layout needs
# On a part page in a 1280-px-wide window the chart shows at its full 1050 px (measured in
# Chromium; 943 px in a 1024-px window), so a label of p points shows p / 72 * 1050 / WIDTH px
# high there: 4.4 points is 9.2 px
PAGE_PX = 1050
LABEL_SIZE = 6.0  # points: the largest LA label
MIN_LABEL_SIZE = 4.4  # points: a shape too small for a label this size goes without one
CAP_HEIGHT = 0.73  # DejaVu Sans capitals, as a fraction of the font size
TURN_BELOW = 0.75  # a label that fits only below this share of LABEL_SIZE level may be turned...
TURNS = (90, 60, -60)  # ...by one of these angles (degrees), along a hex grid's directions
INSET_SCALE = (1.5, 2.0)  # London's inset: 1.5 to 2 times the map, as its labels need to reach LABEL_SIZE
DARK_TEXT = "#1a1a1a"
NO_SCORE_COLOUR = "#b3b3b3"
NOT_RANKED_COLOUR = "#e3e3e3"
UNUSED_COLOUR = "#ffffff"
EDGE_COLOUR = "#ffffff"

LAYOUT_COLUMNS = ["la_code", "la_name", "ons_code", "in_index", "hex_code", "hex_name", "match",
                  "part", "n_parts", "x", "y", "note", "label"]


@dataclass(frozen=True)
class HexLayout:
    """A geography on a cartogram: a row per drawn piece, plus missing and unused rows. ``match``: ons,
    ons_other_spell (another ONS code DfE lists for the LA), successor / predecessor (on the hex of an LA
    it became or came from), missing (not drawn) or unused (a hex no LA claims)."""

    source_id: str
    attribution: str
    table: pd.DataFrame  # LAYOUT_COLUMNS + polygons (object)

    def tidy(self) -> pd.DataFrame:
        return self.table[LAYOUT_COLUMNS].copy()

    def missing(self) -> pd.DataFrame:
        return self.tidy()[self.table["match"].eq("missing")]

    def notes(self) -> list[str]:
        """Substitutions and gaps worth printing under the map (ONS code changes are not)."""
        t = self.table
        out = []
        moved = t[t["match"].isin(["successor", "predecessor"])]
        for hex_code, g in moved.groupby("hex_code", sort=False):
            g = g.sort_values("part")
            las = ", ".join(dict.fromkeys(f"{n} ({c})" for n, c in zip(g["la_name"], g["la_code"], strict=True)))
            how = "strips (west to east) of" if g["n_parts"].iloc[0] > 1 else "the hex of"
            whose = "their" if g["la_code"].nunique() > 1 else "its"
            out.append(f"{las} drawn in {how} {g['hex_name'].iloc[0]} ({hex_code}), {whose} {g['match'].iloc[0]}.")
        for match, key, head in (("missing", "la", "No hex in this layout, not drawn: "),
                                 ("unused", "hex", "Hexes with no LA in this geography (blank): ")):
            g = t[t["match"].eq(match)]
            if not g.empty:
                out.append(head + ", ".join(f"{n} ({c})" for n, c in zip(g[f"{key}_name"], g[f"{key}_code"], strict=True)) + ".")
        return out


def _label_candidates(name: str, cfg: LabelRules) -> list[str]:
    """Possible labels for one name, best first (see hexmaps.yml ``labels``)."""
    n = cfg.length
    for suffix in cfg.drop_suffixes:
        name = name.removesuffix(suffix)
    words = [w for w in (re.sub(r"[^A-Za-z]", "", w) for w in re.split(r"[\s\-,.]+", name)) if w]
    sig = [w for w in words if w.lower() not in cfg.skip_words] or words
    if not sig:
        return []
    first: list[str] = []
    if len(sig) >= n:
        first.append("".join(w[0] for w in sig[:n]))
    elif len(sig) > 1:
        # the first word's initial, then as many letters of the later words as fill the label
        head = "".join(w[0] for w in sig[:-1])
        first.append(head + sig[-1][: n - len(head)])
        first.append(sig[0][: n - len(sig) + 1] + "".join(w[0] for w in sig[1:]))
    joined = "".join(sig)
    first.append(joined[:n])
    consonants = [c for c in joined[1:] if c.lower() not in "aeiou"]
    first.append(joined[0] + "".join(consonants[: n - 1]))
    rest = ["".join(joined[i] for i in (0, *idx)) for idx in itertools.combinations(range(1, len(joined)), n - 1)]
    out = [c.upper() for c in first + rest if len(c) == n]
    return list(dict.fromkeys(out))


def la_labels(names: dict[str, str], cfg: LabelRules | None = None) -> dict[str, str]:
    """A short label per LA code, unique among ``names`` (LA code -> name): hexmaps.yml's overrides, then
    each LA in code order its first candidate not yet used (so no label depends on higher codes)."""
    cfg = cfg or run_settings().hexmaps.labels
    out = {c: cfg.overrides[c] for c in names if c in cfg.overrides}
    used = set(out.values())
    for code in (c for c in sorted(names) if c not in out):
        out[code] = next((c for c in _label_candidates(str(names[code]), cfg) if c not in used), code)
        used.add(out[code])
    return out


def _with_unranked(geography: pd.DataFrame, ref: LAReference, year: str | None) -> pd.DataFrame:
    """The geography plus City of London and Isles of Scilly, drawn grey as 'not ranked'."""
    geo = geography[["la_code", "la_name", "ons_code"]].copy()
    geo["in_index"] = ~geo["la_code"].isin(EXCLUDED_FROM_RANKING)
    t = ref.live_at(january_of(year)) if year else ref.table.drop_duplicates("la_code", keep="last")
    extra = t[t["la_code"].isin(EXCLUDED_FROM_RANKING) & ~t["la_code"].isin(geo["la_code"])]
    extra = extra[["la_code", "la_name", "ons_code"]].assign(in_index=False)
    return pd.concat([geo, extra], ignore_index=True)


def layout_for(geography: pd.DataFrame, source_id: str, *, year: str | None = None, data_dir: Path | None = None,
               ref: LAReference | None = None, registry: Registry | None = None) -> HexLayout:
    """Place every LA of ``geography`` (la_code, la_name, ons_code) on a cartogram."""
    data_dir = Path(data_dir) if data_dir else default_data_dir()
    ref = ref or load_la_reference(data_dir)
    hexes = load_hexes(source_id, data_dir, registry)
    geo = _with_unranked(geography, ref, year)
    hex_codes = set(hexes.shapes)
    ons_by_la = ref.table.groupby("la_code")["ons_code"].agg(lambda s: list(dict.fromkeys(s.dropna())))
    claims: dict[str, list[tuple[str, str, str]]] = defaultdict(list)  # hex -> [(la_code, match, note)]
    missing = []
    own: dict[str, str] = {}
    for r in geo.itertuples(index=False):
        others = [o for o in ons_by_la.get(r.la_code, []) if o in hex_codes]
        if r.ons_code in hex_codes:
            own[r.la_code] = r.ons_code
            claims[r.ons_code].append((r.la_code, "ons", ""))
        elif others:
            own[r.la_code] = h = others[-1]
            claims[h].append((r.la_code, "ons_other_spell", f"joined on {h}, another ONS code DfE lists for LA "
                              f"{r.la_code} (the geography gives {r.ons_code})"))
    taken = set(own.values())
    succ, pred = boundary_edges(ref.changes, "successor"), boundary_edges(ref.changes, "predecessor")
    for r in (r for r in geo.itertuples(index=False) if r.la_code not in own):
        for edges, how in ((succ, "successor"), (pred, "predecessor")):
            found = [(c, h) for c in reachable(r.la_code, edges) for h in ons_by_la.get(c, [])
                     if h in hex_codes and h not in taken]
            for c, h in dict.fromkeys(found):
                claims[h].append((r.la_code, how, f"no hex of its own; drawn on the hex of its {how} {c} ({h})"))
            if found:
                break
        else:
            missing.append(r)
    rows = []
    info = geo.set_index("la_code")
    order = run_settings().hexmaps.strip_order
    for h, cl in claims.items():
        cl = sorted(cl, key=lambda c: (order.get(c[0], (len(order), 0)), c[0]))
        strips = _strips(hexes.shapes[h], len(cl)) if len(cl) > 1 else [hexes.shapes[h]]
        for part, ((la, match, note), piece) in enumerate(zip(cl, strips, strict=True), start=1):
            if len(cl) > 1:
                note = "; ".join(x for x in (note, f"shares the hex with {len(cl) - 1} other LA(s), strip {part} of "
                                             f"{len(cl)} from the west") if x)
            rows.append((la, info.at[la, "la_name"], info.at[la, "ons_code"], bool(info.at[la, "in_index"]), h,
                         hexes.names[h], match, part, len(cl), *_centroid(piece), note, piece))
    rows += [(r.la_code, r.la_name, r.ons_code, r.in_index, pd.NA, pd.NA, "missing", 0, 0, np.nan, np.nan,
              f"no hex for ONS code {r.ons_code}, any other ONS code of LA {r.la_code}, or its successors or "
              "predecessors", []) for r in missing]
    rows += [(pd.NA, pd.NA, pd.NA, False, h, hexes.names[h], "unused", 1, 1, *_centroid(hexes.shapes[h]),
              "no LA of this geography claims the hex", hexes.shapes[h]) for h in sorted(hex_codes - set(claims))]
    labels = la_labels(dict(zip(info.index, info["la_name"], strict=True)))
    table = pd.DataFrame(rows, columns=[*LAYOUT_COLUMNS[:-1], "polygons"])
    table.insert(len(LAYOUT_COLUMNS) - 1, "label", table["la_code"].map(labels).astype("string"))
    table = table.sort_values(["la_code", "part"], na_position="last").reset_index(drop=True)
    return HexLayout(source_id=source_id, attribution=" ".join(run_settings().hexmaps.get(source_id).attribution.split()),
                     table=table)


def _strips(polys: list[Polygon], k: int) -> list[list[Polygon]]:
    """Cut a shape into k vertical strips of equal width, west to east."""
    out = []
    for a, b in itertools.pairwise(np.linspace(*_bounds(polys)[:, 0], k + 1)):
        piece = []
        for p in polys:
            rings = [_clip(_clip(ring, a, +1), b, -1) for ring in p]
            if len(rings[0]) >= 3:
                piece.append([r for r in rings if len(r) >= 3])
        out.append(piece)
    return out


def _clip(ring: np.ndarray, c: float, sign: int) -> np.ndarray:
    """Sutherland-Hodgman clip of a ring to the half-plane sign*(x - c) >= 0."""
    pts = ring[:-1] if len(ring) > 1 and np.allclose(ring[0], ring[-1]) else ring
    out = []
    for i in range(len(pts)):
        p, q = pts[i - 1], pts[i]
        p_in, q_in = sign * (p[0] - c) >= 0, sign * (q[0] - c) >= 0
        if q_in != p_in:
            t = (c - p[0]) / (q[0] - p[0])
            out.append((c, p[1] + t * (q[1] - p[1])))
        if q_in:
            out.append((q[0], q[1]))
    return np.array(out, dtype=float).reshape(-1, 2)


def _centroid(polys: list[Polygon]) -> tuple[float, float]:
    area = cx = cy = 0.0
    for p in polys:
        x, y = p[0][:, 0], p[0][:, 1]
        x1, y1 = np.roll(x, -1), np.roll(y, -1)
        cross = x * y1 - x1 * y
        a = cross.sum() / 2
        if a == 0:
            continue
        # rings may run either way round; each polygon counts with positive area
        sign = 1.0 if a > 0 else -1.0
        area += sign * a
        cx += sign * ((x + x1) * cross).sum() / 6
        cy += sign * ((y + y1) * cross).sum() / 6
    if area == 0:
        return float("nan"), float("nan")
    return cx / area, cy / area


def _label_spot(polys: list[Polygon], aspect: float, steps: int = 20) -> tuple[float, float, float]:
    """Where a label fits best in a shape: a point and the largest half-height ``h`` of a box (half-width
    ``aspect * h``) inside the shape there. The centroid wins unless a grid point has clearly more room
    (the House of Commons Library's LAs may be long and thin or ring-shaped, leaving the centroid none)."""
    path = _path(polys)
    rings = [ring for p in polys for ring in p]
    lo, hi = _bounds(polys)
    step = float(max(hi - lo)) / 80
    edge = np.vstack([_densify(r, step) for r in rings])

    def room(pts: np.ndarray) -> np.ndarray:
        # the box may grow until its edge meets the nearest boundary point (L-infinity distance in
        # box units), less half the spacing of those points
        d = np.maximum(np.abs(pts[:, None, 0] - edge[:, 0]) / aspect, np.abs(pts[:, None, 1] - edge[:, 1]))
        r = d.min(axis=1) - step / 2
        return np.where(path.contains_points(pts), np.maximum(r, 0.0), -1.0)

    def grid(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
        gx, gy = np.meshgrid(np.linspace(a[0], b[0], n), np.linspace(a[1], b[1], n))
        return np.column_stack([gx.ravel(), gy.ravel()])

    centre = np.array(_centroid(polys))
    pts = grid(lo, hi, steps)
    r = room(pts)
    k = int(np.argmax(r))
    cell = (hi - lo) / (steps - 1)
    fine = grid(pts[k] - cell, pts[k] + cell, 9)
    fr = room(fine)
    best, best_r = (fine[int(np.argmax(fr))], float(fr.max())) if fr.max() > r[k] else (pts[k], float(r[k]))
    if np.isfinite(centre).all():
        cr = float(room(centre[None, :])[0])
        if cr >= 0.9 * best_r:
            return float(centre[0]), float(centre[1]), cr
    return float(best[0]), float(best[1]), max(best_r, 0.0)


def _densify(ring: np.ndarray, step: float) -> np.ndarray:
    """Points along a ring's edges no further apart than ``step``."""
    a, b = ring, np.roll(ring, -1, axis=0)
    n = np.maximum(np.ceil(np.hypot(*(b - a).T) / step).astype(int), 1)
    return np.vstack([a[i] + np.linspace(0, 1, n[i], endpoint=False)[:, None] * (b[i] - a[i])
                      for i in range(len(a))])


def best_hexmap(geography: pd.DataFrame, data_dir: Path | None = None) -> str:
    """The registered layout holding the most of the geography's ONS codes (first wins ties)."""
    codes = set(geography["ons_code"])
    scores = [(len(codes & set(load_hexes(m.source, data_dir).shapes)), -i, m.source)
              for i, m in enumerate(run_settings().hexmaps.maps)]
    return max(scores)[2]


def plot_hexmap(values: pd.Series, geography: pd.DataFrame | Edition, title: str, label: str,
                highlight_la: str | None = None, cmap: str = "viridis", *, year: str | None = None,
                hexmap: str | None = None, layout: HexLayout | None = None, data_dir: Path | None = None,
                vmin: float | None = None, vmax: float | None = None, width: float = WIDTH,
                labels: bool = True, label_size: float = LABEL_SIZE) -> Figure:
    """A hex map of ``values`` (by 3-digit LA code; others are an error) with a colour bar and attribution,
    on hexmaps.yml's layout for the final year of ``geography`` (an Edition, or la_code, la_name, ons_code),
    else the one holding most ONS codes; with ``labels`` each LA's short label, in its best contrast."""
    if hasattr(geography, "final_year") and hasattr(geography, "geography"):
        year = year or geography.final_year
        geography = geography.geography
    if layout is None:
        source_id = hexmap or (hexmap_for(year) if year else best_hexmap(geography, data_dir))
        layout = layout_for(geography, source_id, year=year, data_dir=data_dir)
    values = pd.Series(values, dtype=float)
    values.index = values.index.astype(str)
    if stray := sorted(set(values.index) - set(layout.table["la_code"].dropna())):
        raise ValueError(f"values for LA codes not in the geography: {stray}")
    if not layout.missing().empty:
        warnings.warn("LAs without a hex, not drawn: " + ", ".join(layout.missing()["la_code"]), stacklevel=2)
    finite = values[np.isfinite(values)]
    lo = vmin if vmin is not None else (float(finite.min()) if len(finite) else 0.0)
    hi = vmax if vmax is not None else (float(finite.max()) if len(finite) else 1.0)
    norm = Normalize(lo, hi if hi > lo else lo + 1.0)
    colormap = plt.get_cmap(cmap)

    # the map fills the figure's width, with bands for the title above and the legend, colour bar and
    # footnote below, in inches; London, where its shapes are too small for full-size labels, is drawn
    # again enlarged in a band of its own between the legend and the colour bar
    t = layout.table
    (x0, y0), (x1, y1) = _bounds(itertools.chain.from_iterable(t["polygons"]))
    inch = (width - 0.1) / (x1 - x0)  # inches per map unit
    map_h = inch * (y1 - y0)
    renderer = renderer_of(Figure())
    london = t["hex_code"].astype("string").str.startswith("E09").fillna(False) & t["polygons"].map(bool)
    # (City of London, unranked and too small for any label, does not set the scale)
    small = min([f[2] for f in _label_fits(t[london & t["in_index"]], inch * 72, label_size, renderer)]
                if labels and london.any() else [label_size])
    scale = min(max(INSET_SCALE[0], label_size / small), INSET_SCALE[1], 0.9 * width / (inch * _extent(t[london])[0])) \
        if small < label_size else 0.0
    inset_h = scale * inch * _extent(t[london])[1] + 0.75 if scale else 0.0
    top, below = 0.55, 2.0 + inset_h
    height = map_h + top + below
    fig = Figure(figsize=(width, height))
    renderer = renderer_of(fig)
    ax = fig.add_axes((0.05 / width, below / height, (width - 0.1) / width, map_h / height), aspect="equal")
    ax.set_axis_off()
    faces: dict[int, object] = {}
    for i, r in zip(t.index, t.itertuples(index=False), strict=True):
        if r.polygons:
            v = values.get(r.la_code, np.nan) if r.in_index else np.nan
            faces[i] = (UNUSED_COLOUR if r.match == "unused" else NOT_RANKED_COLOUR if not r.in_index else
                        colormap(norm(v)) if np.isfinite(v) else NO_SCORE_COLOUR)
            ax.add_patch(PathPatch(_path(r.polygons), facecolor=faces[i], linewidth=0.6,
                                   edgecolor=NO_SCORE_COLOUR if r.match == "unused" else EDGE_COLOUR))
    hl = t[t["la_code"].eq(highlight_la)]
    if highlight_la is not None and hl.empty:
        raise ValueError(f"highlight_la {highlight_la!r} is not in the geography")
    for polys in filter(None, hl["polygons"]):
        ax.add_patch(PathPatch(_path(polys), facecolor="none", edgecolor="black", linewidth=2.2, zorder=5))
    drawn = hl[hl["x"].notna()]
    ax.autoscale_view()
    if labels:
        _draw_labels(ax, t[~london] if scale else t, faces, label_size, renderer)
    if scale:
        _london_inset(fig, t[london], faces, scale, inch, inset_h, label_size, highlight_la, renderer)
        (lx0, ly0), (lx1, ly1) = _bounds(itertools.chain.from_iterable(t.loc[london, "polygons"]))
        ax.add_patch(PathPatch(MplPath([(lx0, ly0), (lx1, ly0), (lx1, ly1), (lx0, ly1), (lx0, ly0)]), fill=False,
                               edgecolor=DARK_TEXT, linewidth=0.8, linestyle="--", zorder=5))
    fit_text(ax.set_title(title, fontsize=12, loc="left"), ax.bbox.width, renderer)
    cax = fig.add_axes((0.12, 1.25 / height, 0.76, 0.18 / height))
    cb = fig.colorbar(ScalarMappable(norm=norm, cmap=colormap), cax=cax, orientation="horizontal")
    cb.set_label(label, fontsize=9)
    cb.ax.tick_params(labelsize=8)
    # the highlighted LA is named in the legend, not on the map, where it would hide its neighbours' labels
    handles = [Patch(facecolor="none", edgecolor="black", linewidth=2.2,
                     label=f"{r['la_name']} ({r['label']}), outlined") for _, r in drawn.head(1).iterrows()]
    handles += [Patch(facecolor=c, edgecolor="none", label=text) for c, text in (
        (NO_SCORE_COLOUR, "No score"), (NOT_RANKED_COLOUR, "Not ranked (City of London, Isles of Scilly)"))
        if c in faces.values()]
    if handles:
        # below the map, above the colour bar: the legend hides no LA
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.005), ncols=len(handles),
                  frameon=False, fontsize=8)
    fit_text(fig.text(0.02, 0.05 / height, "\n".join([*layout.notes(), layout.attribution]), fontsize=6.5, ha="left",
                      va="bottom", color="#444444", gid="footnote"), 0.96 * fig.bbox.width, renderer)
    return fig


def _bounds(polys: Iterable[Polygon]) -> np.ndarray:
    rings = np.vstack([ring for p in polys for ring in p])
    return np.array([rings.min(axis=0), rings.max(axis=0)])


def _extent(t: pd.DataFrame) -> np.ndarray:
    return np.diff(_bounds(itertools.chain.from_iterable(t["polygons"])), axis=0)[0]


def _london_inset(fig: Figure, t: pd.DataFrame, faces: dict[int, object], scale: float, inch: float,
                  inset_h: float, size: float, highlight_la: str | None, renderer) -> None:
    """London's LAs again, ``scale`` times larger, centred in the band below the legend."""
    w, h = scale * inch * _extent(t)
    fw, fh = fig.get_size_inches()
    ax = fig.add_axes(((fw - w) / 2 / fw, 2.05 / fh, w / fw, h / fh), aspect="equal")
    ax.set_axis_off()
    for i, r in t.iterrows():
        ax.add_patch(PathPatch(_path(r["polygons"]), facecolor=faces[i], edgecolor=EDGE_COLOUR, linewidth=0.6))
        if r["la_code"] == highlight_la:
            ax.add_patch(PathPatch(_path(r["polygons"]), facecolor="none", edgecolor="black", linewidth=2.2, zorder=5))
    ax.autoscale_view()
    ax.set_title("London (dashed box above), enlarged", fontsize=9, loc="left")
    _draw_labels(ax, t, faces, size, renderer)


def _label_fits(t: pd.DataFrame, pt_per_unit: float, size: float, renderer) -> list[tuple]:
    """(row index, label, font size, x, y, rotation) for each labelled piece: as large as the piece
    has room for at ``pt_per_unit`` points per map unit, up to ``size``."""
    prop = FontProperties(size=10)
    half_h = CAP_HEIGHT / 2  # per point of font size
    out = []
    for i, r in t[t["label"].notna()].iterrows():
        text = str(r["label"])
        aspect = renderer.get_text_width_height_descent(text, prop, ismath=False)[0] * 72 / renderer.dpi / 20 / half_h
        h, x, y, rotation = _turned_spot(r["polygons"], aspect, 0)
        if h * pt_per_unit / half_h < TURN_BELOW * size:
            # a long thin shape (a strip of a shared hex, a diagonal chain of small hexes) may
            # take a label along its length; level text is kept unless turning clearly helps
            turned = max(_turned_spot(r["polygons"], aspect, a) for a in TURNS)
            if turned[0] > 1.25 * h:
                h, x, y, rotation = turned
        out.append((i, text, min(size, 0.95 * h * pt_per_unit / half_h), x, y, rotation))
    return out


def _draw_labels(ax, t: pd.DataFrame, faces: dict[int, object], size: float, renderer) -> None:
    """Each LA's short label in its piece(s); a shape too small for MIN_LABEL_SIZE goes without."""
    ax.apply_aspect()  # the equal aspect fixes the data-to-points scale only once applied
    origin, unit = ax.transData.transform([(0.0, 0.0), (1.0, 0.0)])
    names = t["la_name"]
    for i, text, fontsize, x, y, rotation in _label_fits(t.loc[[k for k in t.index if k in faces]],
                                                          abs(unit[0] - origin[0]) * 72 / ax.figure.dpi, size, renderer):
        if fontsize >= MIN_LABEL_SIZE:  # the LA's name goes with its label, for the key save_figure makes
            ax.text(x, y, text, fontsize=fontsize, ha="center", va="center", rotation=rotation,
                    rotation_mode="anchor", color=_text_colour(faces[i]), zorder=6, gid="hex-label", label=names[i])


def _turned_spot(polys: list[Polygon], aspect: float, rotation: float) -> tuple[float, float, float, float]:
    """:func:`_label_spot` for a label turned by ``rotation`` degrees: (room, x, y, rotation)."""
    c, s = np.cos(np.deg2rad(rotation)), np.sin(np.deg2rad(rotation))
    turn = np.array([[c, s], [-s, c]])
    # find the spot in the shape turned the other way, where the label lies level, then turn back
    x, y, h = _label_spot([[ring @ turn.T for ring in p] for p in polys], aspect)
    x, y = np.array([x, y]) @ turn
    return h, float(x), float(y), rotation


def _text_colour(face) -> str:
    """White or near-black, whichever has the higher WCAG contrast ratio against ``face``."""
    def luminance(c) -> float:
        rgb = np.asarray(to_rgb(c))
        lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
        return float(lin @ [0.2126, 0.7152, 0.0722])

    bg = luminance(face)
    on_white = 1.05 / (bg + 0.05)
    on_dark = (bg + 0.05) / (luminance(DARK_TEXT) + 0.05)
    return "#ffffff" if on_white >= on_dark else DARK_TEXT


def _path(polys: list[Polygon]) -> MplPath:
    verts, codes = [], []
    for p in polys:
        for i, ring in enumerate(p):
            # exterior anticlockwise, holes clockwise, so the non-zero fill rule leaves holes open
            if ((ring[:, 0] * np.roll(ring[:, 1], -1) - np.roll(ring[:, 0], -1) * ring[:, 1]).sum() > 0) != (i == 0):
                ring = ring[::-1]
            verts.extend(ring.tolist())
            verts.append(ring[0].tolist())
            codes.extend([MplPath.MOVETO] + [MplPath.LINETO] * (len(ring) - 1) + [MplPath.CLOSEPOLY])
    return MplPath(np.asarray(verts), codes)

