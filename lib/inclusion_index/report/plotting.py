"""Charts for the series: matplotlib Figures (no pyplot state) readable at page width for ~150 LAs.

One palette: LAs grey, the highlighted LA red, England black (dashed), its region blue (dotted),
fits blue with a light band. :func:`_finish` lays every chart out alike; :func:`save_figure`
writes PNG, SVG and the chart's data as CSV, and displays as the PNG in a notebook.
"""

from __future__ import annotations

import itertools
import os
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backend_bases import RendererBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.text import Annotation, Text

from inclusion_index.csv_export import write_csv
from inclusion_index.index.uncertainty import funnel_limits
from inclusion_index.report.templates import words
from inclusion_index.sources.geography import region_order

WIDTH = 8.0  # inches; 1200 px at 150 dpi
DPI = 150
COLORS = {
    "la": "#8c96a3",
    "la_light": "#c9ced6",
    "highlight": "#c8102e",
    "england": "#1a1a1a",
    "region": "#1f5fa8",
    "fit": "#1f5fa8",
    # more / less inclusive: dark green and orange, 3.3:1 apart in luminance (and each at least 3:1
    # on white), so a reader who cannot tell the hues apart still sees dark against light
    "up": "#08432f",
    "down": "#e66100",
    "box": "#e8ebf0",
}
FONT = {"title": 12, "label": 10, "tick": 8.5, "note": 8}
_NOTES = words("parts/charts.md")  # the charts' default footnotes


class _ChartLayout(ConstrainedLayoutEngine):
    """Constrained layout that pins the shared x label (``supxlabel``) in the room it reserves at the
    bottom of ``rect``, not at the figure's bottom edge, where the footnote goes."""

    def execute(self, fig: Figure) -> None:
        super().execute(fig)
        lab = fig._supxlabel  # no public getter for the Text artist
        if lab is not None and lab._autopos and lab.get_in_layout():
            lab.set_y(self._params["rect"][1] + self._params["h_pad"] / fig.get_figheight())


def _figure(height: float, nrows: int = 0, ncols: int = 1) -> tuple[Figure, Any]:
    """A chart ``height`` inches tall with one axes, or (``nrows``) a grid of them."""
    fig = Figure(figsize=(WIDTH, height), dpi=DPI, layout=_ChartLayout())
    FigureCanvasAgg(fig)  # a renderer to measure text with while the chart is laid out
    return fig, fig.subplots(nrows, ncols, squeeze=False) if nrows else fig.add_subplot()


def _style(ax, title: str | None, xlabel: str | None, ylabel: str | None, grid: str = "y") -> None:
    if title:
        ax.set_title(title, fontsize=FONT["title"], loc="left")
    if xlabel is not None:
        ax.set_xlabel(xlabel, fontsize=FONT["label"])
    if ylabel is not None:
        ax.set_ylabel(ylabel, fontsize=FONT["label"])
    ax.tick_params(labelsize=FONT["tick"])
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis=grid, color="#eeeeee", linewidth=0.8)
    ax.set_axisbelow(True)

PAD = 0.08  # inches kept clear at the figure's edges and between neighbouring titles
NOTE_GAP = 0.08  # inches between the lowest axis label and a footnote


def renderer_of(fig: Figure) -> RendererBase:
    """A renderer for measuring text on ``fig`` (attaching an Agg canvas if it has none)."""
    if not hasattr(fig.canvas, "get_renderer"):
        FigureCanvasAgg(fig)
    return fig.canvas.get_renderer()


def wrap_to_width(text: str, width_px: float, fontproperties: FontProperties, renderer: RendererBase) -> str:
    """``text`` re-broken at spaces so that no line is wider than ``width_px`` as measured by the
    renderer (not counted in characters); line breaks are kept, a word wider than the room is not cut."""
    def width(s: str) -> float:
        return renderer.get_text_width_height_descent(s, fontproperties, ismath=False)[0]

    out = []
    for para in text.split("\n"):
        line, *rest = para.split(" ")
        for w in rest:
            if width(f"{line} {w}") <= width_px:
                line = f"{line} {w}"
            else:
                out.append(line)
                line = w
        out.append(line)
    return "\n".join(out)


def fit_text(t: Text | None, width_px: float, renderer: RendererBase) -> bool:
    """Wrap a text artist to ``width_px``; True if its text changed."""
    if t is None or not t.get_visible() or not t.get_text() or width_px <= 0:
        return False
    old = t.get_text()
    new = wrap_to_width(old, width_px, t.get_fontproperties(), renderer)
    t.set_text(new)
    return new != old


def fit_titles(fig: Figure, renderer: RendererBase | None = None) -> None:
    """Wrap the suptitle, every axes title and axis label to its room once laid out: a left-aligned
    title up to the figure's edge or the next title in its row, a centred one and labels to their axes."""
    renderer = renderer or renderer_of(fig)
    engine = fig.get_layout_engine()
    if engine is not None:
        engine.execute(fig)
    pad = PAD * fig.dpi
    right = fig.bbox.x1 - pad
    changed = False
    for t in (fig._suptitle, fig._supxlabel):  # no public getter for the Text artists
        if t is not None and t.get_text():
            left = t.get_window_extent(renderer).x0 if t.get_ha() == "left" else pad
            changed |= fit_text(t, right - max(left, pad), renderer)
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.axison]
    boxes = {ax: ax.get_position().transformed(fig.transFigure) for ax in axes}
    for ax, box in boxes.items():
        limit = right
        for other, ob in boxes.items():
            if other is not ax and ob.y1 > box.y0 and ob.y0 < box.y1 and ob.x0 > box.x0:
                limit = min(limit, ob.x0 - pad)  # the next title in the row starts there
        changed |= fit_text(ax._left_title, limit - box.x0, renderer)  # no public getter either
        changed |= fit_text(ax.title, box.width, renderer)
        # an axis label may overhang its axes a little before it needs a second line
        changed |= fit_text(ax.xaxis.label, 1.1 * box.width, renderer)
        changed |= fit_text(ax.yaxis.label, 1.2 * box.height, renderer)
    if changed and engine is not None:
        engine.execute(fig)  # wrapped titles are taller: lay out again


def _finish(fig: Figure, note: str | None) -> Figure:
    """Lay a chart out for saving: the footnote below everything else, titles and labels
    wrapped to fit, fitted-line statistics moved to the emptiest corner of their axes."""
    renderer = renderer_of(fig)
    if note:
        w, h = fig.get_size_inches()
        t = fig.text(PAD / w, 0, note, fontsize=FONT["note"], color="#555555", ha="left", va="bottom",
                     gid="footnote")
        fit_text(t, (w - 2 * PAD) * fig.dpi, renderer)
        # the figure grows by the note's band, so the chart keeps its size, and the layout
        # engine keeps every axis label above that band
        band = t.get_window_extent(renderer).height / fig.dpi + NOTE_GAP + PAD
        fig.set_figheight(h + band)
        t.set_y(PAD / (h + band))
        engine = fig.get_layout_engine()
        if engine is not None:
            engine.set(rect=(0, band / (h + band), 1, 1 - band / (h + band)))
    fit_titles(fig, renderer)
    for ax in fig.axes:
        place_labels(ax, renderer)
        for t in ax.texts:
            if t.get_gid() == STATS_GID:
                _place_in_emptiest_corner(ax, t, renderer)
    return fig


STATS_GID = "fit-stats"
POINT_LABEL_GID = "point-label"  # a point's name: the placer may move it anywhere near its point
LINE_LABEL_GID = "line-label"  # a horizontal reference line's label: it may slide along its line
_RADII = (4, 9, 16, 26, 38, 52, 70, 95, 125, 160)  # points from the point, nearest first
_ANGLES = np.deg2rad([15, -45, 165, -135, 90, -90, 45, 135, -15, -165, 0, 180, 30, -30, 150, -150, 60, -60, 120,
                      -120, 75, -75, 105, -105])  # first right and a little up, then round the point
LEADER_FROM = 12  # points: a name further than this from its point is tied to it by a leader line


def _text_box(t: Text, renderer: RendererBase):
    """The box of a text's letters only (an annotation's own extent also covers its leader line)."""
    if isinstance(t, Annotation):
        t.update_positions(renderer)
    return Text.get_window_extent(t, renderer)


def _obstacles(ax, renderer: RendererBase) -> tuple[np.ndarray, np.ndarray]:
    """What a label must not cover, in display pixels: the plotted points (x, y, radius) and
    the plotted lines, as points no more than 2 px apart along each line."""
    pts = [np.empty((0, 3))]
    for c in ax.collections:
        if isinstance(c, PathCollection) and c.get_visible() and len(c.get_offsets()):
            xy = c.get_offset_transform().transform(np.asarray(c.get_offsets(), dtype="float64"))
            r = np.broadcast_to(np.sqrt(c.get_sizes()) / 2 * ax.figure.dpi / 72, (len(xy),))
            pts.append(np.column_stack([xy, r]))
    lines = [np.empty((0, 2))]
    for ln in ax.lines:
        if not ln.get_visible() or ln.get_linestyle() in ("None", "") or len(ln.get_xydata()) < 2:
            continue
        xy = ln.get_transform().transform(np.asarray(ln.get_xydata(), dtype="float64"))
        xy = xy[np.isfinite(xy).all(axis=1)]
        for a, b in itertools.pairwise(xy):
            n = max(2, int(np.hypot(*(b - a)) / 2) + 1)
            lines.append(a + np.linspace(0, 1, n)[:, None] * (b - a))
    return np.vstack(pts), np.vstack(lines)


def _clashes(bb, pts: np.ndarray, lines: np.ndarray, boxes: list, frame) -> int:
    """How badly the box ``bb`` clashes: one per point it covers, five for covering a line, twenty
    per label it overlaps, and a thousand for leaving the axes."""
    box = (bb.x0 - 1.5, bb.y0 - 1.5, bb.x1 + 1.5, bb.y1 + 1.5)
    outside = bb.x0 < frame.x0 or bb.x1 > frame.x1 or bb.y0 < frame.y0 or bb.y1 > frame.y1
    return (_n_in(pts, *box, pts[:, 2]) + 5 * (_n_in(lines, *box) > 0) + 20 * sum(bb.overlaps(o) for o in boxes)
            + 1000 * outside)


def _n_in(xy: np.ndarray, x0: float, y0: float, x1: float, y1: float, r: np.ndarray | float = 0.0) -> int:
    """How many points (x, y first in each row) lie within ``r`` of the box."""
    return int(((xy[:, 0] >= x0 - r) & (xy[:, 0] <= x1 + r) & (xy[:, 1] >= y0 - r) & (xy[:, 1] <= y1 + r)).sum())


def _candidates(t: Text) -> list[tuple]:
    """Where a label may go: (xy, offset in points, ha, va), first choice first."""
    if t.get_gid() == LINE_LABEL_GID:
        y = t.xy[1]
        return [((fx, y), (0, dy), ha, va) for fx, ha in ((0.99, "right"), (0.01, "left"), (0.75, "center"),
                                                         (0.25, "center"), (0.5, "center"))
                for dy, va in ((3, "bottom"), (-3, "top"))]
    return [(t.xy, (r * np.cos(a), r * np.sin(a)), "left" if np.cos(a) > 0.3 else "right" if np.cos(a) < -0.3
             else "center", "bottom" if np.sin(a) > 0.3 else "top" if np.sin(a) < -0.3 else "center")
            for r in _RADII for a in _ANGLES]


def place_labels(ax, renderer: RendererBase) -> None:
    """Put each point's name and reference line's label, in drawing order (the highlighted LA first),
    at the nearest spot clear of points, lines and text; a name moved away gets a leader line."""
    labels = [t for t in ax.texts if t.get_gid() in (POINT_LABEL_GID, LINE_LABEL_GID) and t.get_text()]
    if not labels:
        return
    pts, lines = _obstacles(ax, renderer)
    frame = ax.get_window_extent(renderer)
    boxes = [_text_box(t, renderer) for t in ax.texts if t.get_text() and t not in labels
             and t.get_gid() != STATS_GID]
    for t in labels:
        best, best_n = None, np.inf
        for xy, off, ha, va in _candidates(t):
            t.xy = xy
            t.xyann = off
            t.set(ha=ha, va=va)
            bb = _text_box(t, renderer)
            n = _clashes(bb, pts, lines, boxes, frame)
            if np.hypot(*off) > LEADER_FROM:  # nor may its leader line cross another label
                start = ax.transData.transform(t.xy)
                seg = start + np.linspace(0, 1, 30)[:, None] * (np.array([bb.x0 + bb.x1, bb.y0 + bb.y1]) / 2 - start)
                n += sum(o.count_contains(seg) > 0 for o in boxes)
            if n < best_n:
                best, best_n = (xy, off, ha, va), n
            if n == 0:
                break
        xy, off, ha, va = best
        t.xy = xy
        t.xyann = off
        t.set(ha=ha, va=va)
        if t.arrow_patch is not None:
            t.arrow_patch.set_visible(bool(np.hypot(*off) > LEADER_FROM))
        boxes.append(_text_box(t, renderer))


_CORNERS = (("left", "top"), ("right", "top"), ("right", "bottom"), ("left", "bottom"))  # preference order


def _place_in_emptiest_corner(ax, box: Text, renderer: RendererBase) -> None:
    """Move a statistics box to the axes corner where it hides the fewest points, point labels
    and stretches of fitted line (upper left first on a tie)."""
    pts = [c.get_offsets() for c in ax.collections if isinstance(c, PathCollection) and len(c.get_offsets())]
    pts = ax.transData.transform(np.vstack(pts)) if pts else np.empty((0, 2))
    line = [ax.transData.transform(ln.get_xydata()) for ln in ax.lines if len(ln.get_xydata()) > 2]
    line_pts = np.vstack(line) if line else np.empty((0, 2))
    labels = [t.get_window_extent(renderer) for t in ax.texts if t is not box and t.get_text()]

    def put(ha: str, va: str) -> None:
        box.set_position((0.02 if ha == "left" else 0.98, 0.98 if va == "top" else 0.02))
        box.set(ha=ha, va=va)

    def score(corner: tuple[str, str]) -> float:
        put(*corner)
        bb = box.get_window_extent(renderer).expanded(1.1, 1.2)
        return (3 * _n_in(pts, *bb.extents) + 5 * sum(bb.overlaps(lb) for lb in labels)
                + 0.2 * _n_in(line_pts, *bb.extents))

    put(*min(_CORNERS, key=score))  # the first of equally good corners


def _fmt(v: float, dp: int | None = None) -> str:
    if v is None or not np.isfinite(v):
        return "n/a"
    if dp is None:
        dp = 2 if abs(v) < 1 else 1
    return f"{v:,.{dp}f}"


def _point_label(ax, text: str, xy: tuple, color: str = "#444444", fontsize: float = FONT["note"] - 0.5,
                 **kw) -> Annotation:
    """A name for the point at ``xy``; :func:`place_labels` finds its spot and leader line (inside
    the axes, so the layout need not make room for it)."""
    return ax.annotate(text, xy, xytext=(4, 1), textcoords="offset points", color=color, gid=POINT_LABEL_GID,
                       fontsize=fontsize, in_layout=False, **kw,
                       arrowprops={"arrowstyle": "-", "color": color, "lw": 0.6, "alpha": 0.6, "shrinkA": 1,
                                   "shrinkB": 3})


def _line_label(ax, text: str, y: float, color: str, linestyle: str = "--", linewidth: float = 1) -> Annotation:
    """A horizontal line at ``y`` and its label, which :func:`place_labels` slides along the line."""
    ax.axhline(y, color=color, linestyle=linestyle, linewidth=linewidth, zorder=1)
    return ax.annotate(text, (0.99, y), xycoords=ax.get_yaxis_transform(), xytext=(0, 3),
                       textcoords="offset points", ha="right", va="bottom", fontsize=FONT["note"], color=color,
                       gid=LINE_LABEL_GID, in_layout=False)


def _empty(fig: Figure, ax, message: str) -> Figure:
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=FONT["label"], wrap=True, transform=ax.transAxes)
    return fig


def dot_chart(data: pd.DataFrame, value: str, *, title: str, value_label: str, label: str = "la_name",
              region: str = "region", england: float | None = None, england_label: str = "England",
              highlight: str | None = None, code: str = "la_code", n_label: int = 3,
              higher_is_better: bool | None = None, interval: tuple[str, str] | None = None,
              range_label: str = "90% range", note: str | None = None) -> Figure:
    """LAs sorted by ``value`` (rank on x) with England's line; the ``n_label`` highest and lowest
    named. A highlighted LA is red and named, with its region's mean of LAs dotted and its rank
    range (``interval``: the columns of e.g. ``overall_rank_lo`` and ``_hi``) in its label."""
    fig, ax = _figure(4.2)
    extra = [c for c in (interval or ()) if c in data.columns]
    d = data[[code, label, region, value, *extra]].dropna(subset=[value]).sort_values(value, ascending=False)
    d = d.reset_index(drop=True)
    if d.empty:
        return _empty(fig, ax, f"No LA has a value for {value_label}.")
    d["pos"] = np.arange(1, len(d) + 1)
    ax.scatter(d["pos"], d[value], s=14, color=COLORS["la"], zorder=2, linewidths=0)
    yr = float(d[value].max() - d[value].min()) or 1.0
    if england is not None and np.isfinite(england):
        _line_label(ax, f"{england_label} {_fmt(england)}", england, COLORS["england"])
    for _, r in d[d[code] == highlight].head(1).iterrows():
        reg_mean = float(d.loc[d[region] == r[region], value].mean())
        _line_label(ax, f"{r[region]} average {_fmt(reg_mean)}", reg_mean, COLORS["region"], ":", 1.2)
        ax.scatter([r["pos"]], [r[value]], s=60, color=COLORS["highlight"], zorder=4, edgecolor="white")
        place = f"{int(r['pos'])} of {len(d)}"
        if len(extra) == 2 and pd.notna(r[extra[0]]) and pd.notna(r[extra[1]]):
            place += f", {range_label} {int(r[extra[0]])}–{int(r[extra[1]])}"
        _point_label(ax, f"{r[label]} ({_fmt(r[value])}, {place})", (r["pos"], r[value]), COLORS["highlight"],
                     fontsize=FONT["label"], fontweight="bold")
    # name the extremes, outermost first (the placer keeps them off the points and each other)
    n = min(n_label, len(d) // 2)
    for k in range(n):
        for r in (d.iloc[k], d.iloc[len(d) - 1 - k]):
            if not (highlight and r[code] == highlight):  # already named in red
                _point_label(ax, f"{r[label]} {_fmt(r[value])}", (r["pos"], r[value]), fontsize=FONT["note"])
    ax.set_xlim(-2, len(d) + 3)
    ax.set_ylim(d[value].min() - 0.16 * yr, d[value].max() + 0.08 * yr)  # room for the lowest LAs' names
    xl = f"LAs ranked from highest to lowest ({len(d)} LAs)" + (
        "" if higher_is_better is None else f"; {'higher' if higher_is_better else 'lower'} is more inclusive")
    _style(ax, title, xl, value_label)
    ax.set_xticks([1, *range(25, len(d) + 1, 25)])
    return _finish(fig, note)


def region_chart(data: pd.DataFrame, value: str, *, title: str, value_label: str, region: str = "region",
                 label: str = "la_name", code: str = "la_code", england: float | None = None,
                 england_label: str = "England", highlight: str | None = None,
                 order: Sequence[str] | None = None, note: str | None = None) -> Figure:
    """One row per region: a light box (quartiles) with every LA as a dot; England as a dashed line."""
    d = data[[code, label, region, value]].dropna(subset=[value])
    regions = list(order) if order else [r for r in region_order() if r in set(d[region])]
    regions += [r for r in sorted(set(d[region])) if r not in regions]
    fig, ax = _figure(0.42 * max(len(regions), 3) + 1.3)
    if d.empty:
        return _empty(fig, ax, f"No LA has a value for {value_label}.")
    groups = [d.loc[d[region] == r, value].to_numpy(dtype="float64") for r in regions]
    ax.boxplot(groups, positions=np.arange(len(regions)), orientation="horizontal", widths=0.6,
               showfliers=False, patch_artist=True, whis=(0, 100),
               boxprops={"facecolor": COLORS["box"], "edgecolor": "#9aa3ad", "linewidth": 0.8},
               medianprops={"color": "#555555"}, whiskerprops={"color": "#9aa3ad"}, capprops={"color": "#9aa3ad"})
    rng = np.random.default_rng(1)  # fixed jitter: the same data give the same picture
    for k, g in enumerate(groups):
        ax.scatter(g, k + rng.uniform(-0.18, 0.18, len(g)), s=12, color=COLORS["la"], alpha=0.9, linewidths=0,
                   zorder=3)
    means = d.groupby(region)[value].mean().reindex(regions)
    ax.scatter(means.to_numpy(), np.arange(len(regions)), marker="|", s=160, color=COLORS["region"], zorder=4,
               label="Regional average (mean of LAs)")
    if england is not None and np.isfinite(england):
        ax.axvline(england, color=COLORS["england"], linestyle="--", linewidth=1,
                   label=f"{england_label} {_fmt(england)}")
    for _, r in d[d[code] == highlight].head(1).iterrows():
        ypos = regions.index(r[region])
        ax.scatter([r[value]], [ypos], s=60, color=COLORS["highlight"], zorder=5, edgecolor="white")
        _point_label(ax, f"{r[label]} {_fmt(r[value])}", (r[value], ypos), COLORS["highlight"],
                     fontsize=FONT["note"], fontweight="bold")
    counts = d.groupby(region).size().reindex(regions).fillna(0).astype(int)
    ax.set_yticks(range(len(regions)), [f"{r} ({counts[r]})" for r in regions])
    ax.set_ylim(len(regions) - 0.5, -0.5)  # first region at the top
    _style(ax, title, value_label, "", grid="x")
    fig.legend(fontsize=FONT["note"], frameon=False, loc="outside upper right", ncols=2)
    return _finish(fig, note or _NOTES.region())


def _slope_text(out: dict, n: int, per: float | None, unit: str | None) -> str:
    """'slope … (95% CI …)' per ``per`` units of x (1 when not given), then R² and n."""
    k = 1.0 if per is None else float(per)

    def f(v: float) -> str:
        return _fmt(v * k, 3 if abs(v * k) < 0.1 else 2)

    step = "" if per is None else f" per {per:g}{' ' + unit if unit else ''}"
    return (f"slope {f(out['slope'])}{step} (95% CI {f(out['lo'])} to {f(out['hi'])})\n"
            f"R² {out['r2']:.2f}, n = {n}")


def _scatter_panel(ax, d: pd.DataFrame, x: str, y: str, *, label: str, code: str, highlight: str | None,
                   fit: bool = True, annotate: str = "full", n_label: int = 0, point_size: float = 16,
                   slope_per: float | None = None, slope_unit: str | None = None) -> dict:
    d = d.dropna(subset=[x, y])
    out: dict = {"n": len(d)}
    ax.scatter(d[x], d[y], s=point_size, color=COLORS["la"], alpha=0.85, linewidths=0, zorder=2)
    if fit and len(d) >= 10 and d[x].std() > 0:
        import statsmodels.api as sm

        # the OLS line and its 95% CI band (for the mean) over the range of x
        model = sm.OLS(d[y].to_numpy(dtype="float64"),
                       sm.add_constant(d[x].to_numpy(dtype="float64"), has_constant="add")).fit()
        grid = np.linspace(float(d[x].min()), float(d[x].max()), 60)
        band = model.get_prediction(sm.add_constant(grid, has_constant="add")).summary_frame(alpha=0.05)
        ax.fill_between(grid, band["mean_ci_lower"], band["mean_ci_upper"], color=COLORS["fit"], alpha=0.15,
                        linewidth=0, zorder=1)
        ax.plot(grid, band["mean"], color=COLORS["fit"], linewidth=1.6, zorder=3)
        ci = model.conf_int(alpha=0.05)[1]
        out.update(slope=float(model.params[1]), lo=float(ci[0]), hi=float(ci[1]), r2=float(model.rsquared))
        # the box starts in the upper left; _finish moves it to the corner it hides least in
        if annotate:
            short = annotate == "short"
            ax.text(0.02, 0.98, f"R² {out['r2']:.2f}, n = {len(d)}" if short else _slope_text(out, len(d), slope_per, slope_unit),
                    transform=ax.transAxes, va="top", ha="left", fontsize=FONT["note"] - 0.5 * short, gid=STATS_GID,
                    zorder=6, bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1.5 - 0.5 * short})
    if n_label:
        # name the LAs furthest from the line (or from the centre) so outliers can be found
        resid = d[y] - (np.poly1d(np.polyfit(d[x], d[y], 1))(d[x]) if len(d) > 2 else d[y].mean())
        named = d.loc[resid.abs().sort_values(ascending=False).index[:n_label]]
    else:
        named = d.iloc[0:0]
    _name_points(ax, d, named, x, y, label=label, code=code, highlight=highlight)
    return out


def _name_points(ax, d: pd.DataFrame, named: pd.DataFrame, x: str, y: str, *, label: str, code: str,
                 highlight: str | None) -> None:
    """Mark and name the highlighted LA of ``d`` in red, then name the ``named`` points in grey."""
    for _, r in d[d[code] == highlight].head(1).iterrows():
        ax.scatter([r[x]], [r[y]], s=60, color=COLORS["highlight"], zorder=5, edgecolor="white")
        _point_label(ax, str(r[label]), (r[x], r[y]), COLORS["highlight"], fontsize=FONT["label"] - 1,
                     fontweight="bold")
    for _, r in named.iterrows():
        if not (highlight and r[code] == highlight):
            _point_label(ax, str(r[label]), (r[x], r[y]))


def scatter_fit(data: pd.DataFrame, x: str, y: str, *, title: str, xlabel: str, ylabel: str,
                label: str = "la_name", code: str = "la_code", highlight: str | None = None, n_label: int = 4,
                note: str | None = None, slope_per: float | None = None, slope_unit: str | None = None,
                annotate: str = "full") -> Figure:
    """One dot per LA with the OLS line and its 95% band; slope (per ``slope_per`` ``slope_unit`` of
    ``x``, e.g. 0.05 of IDACI), R² and n in the emptiest corner (``annotate="short"``: R² and n only)."""
    fig, ax = _figure(4.8)
    d = data.dropna(subset=[x, y])
    if len(d) < 3:
        return _empty(fig, ax, f"Too few LAs have both {xlabel} and {ylabel}.")
    _scatter_panel(ax, d, x, y, label=label, code=code, highlight=highlight, n_label=n_label, annotate=annotate,
                   slope_per=slope_per, slope_unit=slope_unit)
    _style(ax, title, xlabel, ylabel)
    return _finish(fig, note or _NOTES.scatter())


def slope_chart(improvement: pd.DataFrame, *, early_label: str, late_label: str, title: str,
                label: str = "la_name", code: str = "la_code", early: str = "score_early",
                late: str = "score_late", top: int = 10, significant: str | None = None,
                highlight: str | None = None, value_label: str | None = None, note: str | None = None,
                range_label: str = "90% range") -> Figure:
    """The ``top`` largest rises and falls: a row per LA, an arrow from its early to its late score,
    both ends' values shown (a highlighted LA outside them gets a row between, in red). With
    ``significant`` (and ``declined_significant``) only moves beyond uncertainty are green or orange.
    (151 crossing lines of a slope chart hid all but the largest moves.)"""
    d = improvement.dropna(subset=[early, late])
    d = d.assign(change=d[late] - d[early]).sort_values("change", ascending=False, ignore_index=True)
    k = min(top, len(d) // 2)
    shown = pd.concat([d.head(k), d.tail(k)]) if len(d) > 1 else d
    hl = d[(d[code] == highlight) & ~d[code].isin(shown[code])] if highlight else d.iloc[0:0]
    rows = pd.concat([d.head(k), hl, d.tail(k)]) if len(d) > 1 else d
    fig, ax = _figure(0.24 * len(rows) + 1.9)
    if d.empty:
        return _empty(fig, ax, "No LA has a score in both years.")
    if value_label is None:
        compared = improvement.attrs.get("indicators_compared") or []
        value_label = (f"Overall score re-scored on the {len(compared)} indicators in both years (0-100)"
                       if len(compared) else "Overall score (0-100)")
    rise = (rows[significant].fillna(False).astype(bool) if significant else rows["change"] > 0).to_numpy()
    fall = (rows["declined_significant"].fillna(False).astype(bool) if significant and "declined_significant"
            in rows else rows["change"] < 0).to_numpy()
    # a gap of one row between the rises and the falls (the highlighted LA sits in it)
    y = np.arange(len(rows)) + (np.arange(len(rows)) >= k) + (np.arange(len(rows)) >= k + len(hl))
    for (_, r), yy, up, down in zip(rows.iterrows(), y, rise, fall, strict=True):
        c = COLORS["highlight"] if r[code] == highlight else COLORS["up"] if up else COLORS["down"] if down \
            else COLORS["la"]
        ax.annotate("", (r[late], yy), xytext=(r[early], yy),
                    arrowprops={"arrowstyle": "-|>", "color": c, "lw": 1.8, "shrinkA": 0, "shrinkB": 0,
                                "mutation_scale": 11})
        ax.scatter([r[early]], [yy], s=22, facecolors="white", edgecolors=c, linewidths=1.4, zorder=3)
        lo_end, hi_end = sorted([(r[early], "early"), (r[late], "late")])
        for (v, _), dx, ha in ((lo_end, -6, "right"), (hi_end, 6, "left")):
            ax.annotate(_fmt(v, 1), (v, yy), xytext=(dx, 0), textcoords="offset points", ha=ha, va="center",
                        fontsize=FONT["note"], color=c)
    ax.set_yticks(y, [f"{r[label]} ({r['change']:+.1f})" for _, r in rows.iterrows()])
    for t, c in zip(ax.get_yticklabels(), rows[code], strict=True):
        if c == highlight:
            t.set(color=COLORS["highlight"], fontweight="bold")
    if len(d) > 2 * k:
        ax.text(0.5, k + 0.5 * (not len(hl)),
                f"{len(d) - 2 * k - len(hl)} other LAs between", transform=ax.get_yaxis_transform(), ha="center",
                va="center", fontsize=FONT["note"], color="#555555", style="italic")
    lo_x, hi_x = float(rows[[early, late]].min().min()), float(rows[[early, late]].max().max())
    pad = 0.12 * ((hi_x - lo_x) or 10.0)
    ax.set_xlim(lo_x - pad, hi_x + pad)
    ax.set_ylim(y[-1] + 0.7, -0.7)
    _style(ax, title, value_label, "", grid="x")
    ax.tick_params(axis="y", length=0)
    return _finish(fig, note or _NOTES.slope(early_label, late_label, k, len(d), range_label, bool(significant)))


def rank_interval_chart(data: pd.DataFrame, *, rank: str, lo: str, hi: str, title: str,
                        median: str | None = None, label: str = "la_name", code: str = "la_code",
                        highlight: str | None = None, top: int = 10,
                        rank_label: str = "Rank (1 = most inclusive)", range_label: str = "90% range",
                        note: str | None = None, row_height: float = 0.16, name_size: float = 7.0) -> Figure:
    """Every ranked LA, named and best first: its rank a dot, its interval a bar, the top ``top``
    places marked. ``row_height`` inches is about 1.6 times the ``name_size``-point names, so
    neighbouring names never touch."""
    cols = [c for c in (code, label, rank, lo, hi, median) if c]
    d = data[cols].dropna(subset=[rank]).sort_values([rank, label]).reset_index(drop=True)
    fig, ax = _figure(row_height * max(len(d), 20) + 1.5)
    if d.empty:
        return _empty(fig, ax, "No LA is ranked.")
    y = np.arange(len(d))

    def num(c: str) -> np.ndarray:  # Int64 with <NA>, or an all-NA object column
        return pd.to_numeric(d[c], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)

    lo_v, hi_v, rank_v = num(lo), num(hi), num(rank)
    has = np.isfinite(lo_v) & np.isfinite(hi_v)
    ax.hlines(y[has], lo_v[has], hi_v[has], color=COLORS["la"], linewidth=1.6, zorder=2)
    ax.scatter(rank_v, y, s=9, color=COLORS["england"], zorder=3, linewidths=0, label="Rank")
    if median and np.isfinite(num(median)).any():
        ax.scatter(num(median), y, s=16, marker="|", color=COLORS["fit"], zorder=3, label="Median over the draws")
    ax.axvline(top + 0.5, color=COLORS["region"], linestyle=":", linewidth=1, zorder=1)
    ax.annotate(f"top {top}", (top + 0.5, 0), xytext=(3, 0), textcoords="offset points", fontsize=FONT["note"],
                color=COLORS["region"], va="top")
    ax.set_yticks(y, [str(v) for v in d[label]])
    for t, c in zip(ax.get_yticklabels(), d[code], strict=True):
        t.set_color(COLORS["highlight"] if highlight and c == highlight else "#333333")
    for k in d.index[d[code] == highlight][:1]:
        if has[k]:
            ax.hlines([k], [lo_v[k]], [hi_v[k]], color=COLORS["highlight"], linewidth=2.6, zorder=4)
        ax.scatter([rank_v[k]], [k], s=30, color=COLORS["highlight"], zorder=5)
    ax.set_ylim(len(d) - 0.5, -0.5)
    ax.set_xlim(0, len(d) + 1)
    _style(ax, title, rank_label, "", grid="x")
    ax.tick_params(axis="y", labelsize=name_size)  # _style sets every tick label's size
    ax.tick_params(axis="x", which="both", top=True, bottom=True, labeltop=True)
    ax.legend(fontsize=FONT["note"], frameon=False, loc="upper right")
    return _finish(fig, note or _NOTES.ranks(range_label))


def funnel_plot(data: pd.DataFrame, *, title: str | None = None, value_label: str | None = None,
                denominator_label: str = "Pupils behind the value (log scale)", label: str = "la_name",
                code: str = "la_code", highlight: str | None = None, overdispersed: bool = True,
                n_label: int = 6, note: str | None = None) -> Figure:
    """A funnel plot of :func:`inclusion_index.index.uncertainty.funnel_table` (docs/METHOD.md):
    exact limits solid, limits allowing for overdispersion dashed; LAs outside coloured by
    direction, the ``n_label`` furthest out named."""
    fig, ax = _figure(5.3)
    a = data.attrs
    d = data.dropna(subset=["denominator", "value"])
    if d.empty or not a:
        return _empty(fig, ax, "No LA has both a value and a denominator.")
    levels = sorted(a.get("levels", []))
    lab = f"{max(levels) * 100:g}".replace(".", "") if levels else ""
    use_od = overdispersed and a.get("tau2", 0) > 0 and f"od_flag_{lab}" in d
    flag = f"od_flag_{lab}" if use_od else f"flag_{lab}"
    direction = f"od_direction_{lab}" if use_od else f"direction_{lab}"
    n = d["denominator"].to_numpy(dtype="float64")
    grid = np.geomspace(max(1.0, float(np.nanmin(n)) * 0.8), float(np.nanmax(n)) * 1.15, 200)
    od = {"phi": a["phi"] if a.get("overdispersion") == "multiplicative" else 1.0,
          "tau2": a["tau2"] if a.get("overdispersion") == "additive" else 0.0}
    kinds = [({}, "#6b7785", "-", "chance alone"), (od, COLORS["region"], "--", "allowing for LA-to-LA variation")]
    for level, lw in zip(levels, [0.9, 1.4, 1.8], strict=False):
        for extra, colour, ls, what in kinds[:1 + use_od]:
            lo, hi = funnel_limits(a["target_per_pupil"], grid, a["model"], level, scale=a["scale"],
                                   pupil_sd=a["pupil_sd"], **extra)
            ax.plot(grid, lo, color=colour, lw=lw, ls=ls, zorder=1, label=f"{level:.1%} limits, {what}")
            ax.plot(grid, hi, color=colour, lw=lw, ls=ls, zorder=1)
    inside = d[flag] == "within" if flag in d else pd.Series(True, index=d.index)
    ax.scatter(d.loc[inside, "denominator"], d.loc[inside, "value"], s=13, color=COLORS["la"], linewidths=0, zorder=2)
    # shape and lightness as well as hue tell the two apart (WCAG 1.4.1)
    for what, colour, marker in (("more inclusive", COLORS["up"], "^"), ("less inclusive", COLORS["down"], "v")):
        m = ~inside & (d[direction] == what) if direction in d else ~inside
        if m.any():
            ax.scatter(d.loc[m, "denominator"], d.loc[m, "value"], s=24, color=colour, marker=marker, linewidths=0,
                       zorder=3,
                       label=f"Outside the {levels[-1]:.1%} limits: {what}" if levels else what)
    _line_label(ax, f"England (pooled) {_fmt(a['target'])}", a["target"], COLORS["england"])
    out = d[~inside].assign(_z=d["z"].abs()).sort_values("_z", ascending=False).head(n_label)
    _name_points(ax, d, out, "denominator", "value", label=label, code=code, highlight=highlight)
    ax.set_xscale("log")
    _style(ax, textwrap.fill(title or f"{a.get('name', '')}: funnel plot", 80), denominator_label,
           value_label or a.get("name", ""))
    fig.legend(fontsize=FONT["note"] - 0.5, frameon=False, loc="outside upper right", ncols=2)
    return _finish(fig, note or _NOTES.funnel(bool(use_od)))


@dataclass
class Panel:
    """One panel of :func:`small_multiples`: ``y`` against ``x`` (scatter) or ``y`` alone (hist)."""

    y: str
    title: str
    ylabel: str = ""
    x: str | None = None
    xlabel: str = ""
    reference: float | None = None  # e.g. England, drawn as a dashed line


def small_multiples(data: pd.DataFrame, panels: Sequence[Panel | dict], *, title: str, kind: str = "scatter",
                    ncols: int = 3, label: str = "la_name", code: str = "la_code",
                    highlight: str | None = None, note: str | None = None) -> Figure:
    """A grid of small charts sharing a style: scatters with OLS fits, or histograms of LA values."""
    ps = [p if isinstance(p, Panel) else Panel(**p) for p in panels]
    ncols = max(1, min(ncols, len(ps) or 1))
    nrows = max(1, int(np.ceil(len(ps) / ncols)))
    fig, axes = _figure(2.55 * nrows + 0.7, nrows, ncols)
    fig.suptitle(title, fontsize=FONT["title"], x=0.01, ha="left")
    for ax, p in zip(axes.flat, ps, strict=False):
        d = data.dropna(subset=[c for c in (p.x, p.y) if c])
        if d.empty:
            _empty(fig, ax, f"{p.title}: no data")
            continue
        if kind == "hist":
            vals = d[p.y].astype("float64")
            ax.hist(vals, bins=min(20, max(5, len(vals) // 6)), color=COLORS["la"], edgecolor="white", linewidth=0.5)
            if p.reference is not None and np.isfinite(p.reference):
                ax.axvline(p.reference, color=COLORS["england"], linestyle="--", linewidth=1)
            for v in d.loc[d[code] == highlight, p.y].head(1):
                ax.axvline(float(v), color=COLORS["highlight"], linewidth=1.8)
            _style(ax, None, p.ylabel, "LAs")
        else:
            # no R² in a panel: it is one predictor's, where the text quotes the model's (review, section 5)
            _scatter_panel(ax, d, p.x, p.y, label=label, code=code, highlight=highlight, point_size=9, annotate=False)
            if p.reference is not None and np.isfinite(p.reference):
                ax.axhline(p.reference, color=COLORS["england"], linestyle="--", linewidth=0.8)
            _style(ax, None, p.xlabel, p.ylabel)
        ax.set_title(p.title, fontsize=FONT["label"], loc="left")
        ax.xaxis.label.set_size(FONT["note"] + 0.5)
        ax.yaxis.label.set_size(FONT["note"] + 0.5)
    for ax in list(axes.flat)[len(ps):]:
        ax.axis("off")
    xlabels = {p.xlabel if kind != "hist" else p.ylabel for p in ps}
    if len(ps) > 1 and len(xlabels) == 1 and next(iter(xlabels)):
        # one shared x label instead of a repeated (and overlapping) one under every panel
        for ax in axes.flat:
            ax.set_xlabel("")
        fig.supxlabel(next(iter(xlabels)), fontsize=FONT["label"])
    return _finish(fig, note)


@dataclass
class SavedFigure:
    """Paths of a saved chart; displays as its PNG in a notebook."""

    png: Path
    svg: Path
    csv: Path
    alt: str = ""
    key: list[tuple[str, str]] = field(default_factory=list)  # a hex map's (code, LA name) pairs

    def _repr_png_(self) -> tuple[bytes, dict]:
        # IPython keeps the metadata with the output and nbconvert writes it as the <img> alt
        # text, so screen readers get the chart's title instead of "No description ..."; the
        # page prints a hex map's key below it
        return self.png.read_bytes(), {"alt": self.alt or f"Chart: {self.png.stem.replace('_', ' ')}",
                                       "csv": f"{self.csv.parent.name}/{self.csv.name}",
                                       "svg": f"{self.svg.parent.name}/{self.svg.name}",
                                       **({"key": [list(k) for k in self.key]} if self.key else {})}


_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def save_figure(fig: Figure, data: pd.DataFrame, out_dir: str | os.PathLike[str], name: str) -> SavedFigure:
    """Write ``name``.png, .svg and the chart's data as .csv into ``out_dir`` (each to a temporary
    name, then moved into place); the alt text starts with the figure's title."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = _SAFE.sub("_", name).strip("_") or "figure"
    targets = {"png": out / f"{stem}.png", "svg": out / f"{stem}.svg", "csv": out / f"{stem}.csv"}
    tmp = {k: p.with_name(f".{p.name}.part") for k, p in targets.items()}
    meta = {"Title": _title_of(fig)}
    try:
        fig.savefig(tmp["png"], format="png", dpi=DPI, metadata={**meta, "Software": "inclusion-index"})
        engine = fig.get_layout_engine()
        if engine is not None:  # the SVG as laid out for the PNG, not laid out a third time
            fig.set_layout_engine("none")
        fig.savefig(tmp["svg"], format="svg", metadata={**meta, "Date": None})
        if engine is not None:
            fig.set_layout_engine(engine)
        frame = data.reset_index() if data.index.name or isinstance(data.index, pd.MultiIndex) else data
        write_csv(frame, tmp["csv"])
        for k in targets:
            os.replace(tmp[k], targets[k])
    finally:
        for p in tmp.values():
            p.unlink(missing_ok=True)
    # a hex map's three-letter codes, each with the LA it stands for (hexmap.py names its labels)
    key = sorted({(t.get_text(), t.get_label()) for ax in fig.axes for t in ax.texts if t.get_gid() == "hex-label"})
    keyed = f"The key below the map gives the LA for each of its {len(key)} codes." if key else ""
    alt = " ".join(x for x in (f"{meta['Title']}." if meta["Title"] else "", _alt_summary(frame, stem), keyed) if x)
    return SavedFigure(png=targets["png"], svg=targets["svg"], csv=targets["csv"], alt=alt, key=key)


def _alt_summary(frame: pd.DataFrame, stem: str) -> str:
    """The chart in words (WCAG 1.1.1): for one value per LA the three highest and lowest LAs; for
    any chart, where every plotted value is as text (a title alone says nothing of a map)."""
    route = f"Every plotted value is in the chart's data ({stem}.csv), linked below the chart."
    if "la_name" not in frame.columns:
        return route
    # a chart of changes (most improved) is summed up by its largest rises and falls
    values = ["change"] if "change" in frame else [c for c in frame.select_dtypes("number").columns
                                                   if c != "la_code"]
    if len(values) != 1:
        return route
    col = values[0]
    s = frame.dropna(subset=[col]).sort_values(col, ascending=False, kind="stable")
    if len(s) < 6:
        return route
    def name(rows: pd.DataFrame) -> str:
        return ", ".join(f"{n} {v:.1f}" for n, v in zip(rows["la_name"], rows[col], strict=True))
    what = col.replace("_", " ")
    return (f"{len(s)} LAs; highest {what}: {name(s.head(3))}; lowest: {name(s.tail(3).iloc[::-1])}. {route}")


def _title_of(fig: Figure) -> str:
    # titles are wrapped to the figure by replacing spaces with line breaks: undo that for alt text
    titles = (fig.get_suptitle(), *(ax.get_title(loc="left") or ax.get_title() for ax in fig.axes))
    return " ".join(next((t for t in titles if t), "").split())
