"""reports/<edition>/explore.html, "Your own index" (issue 14): the reader grades the four areas
0-5 and the LAs re-rank in the browser (templates/explore.js, the twin of
index.weightings.ranks_for_grades, inlined with the score table as JSON); nothing here ranks.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from inclusion_index.index.edition import Edition
from inclusion_index.index.scoring import AREA_NAMES, AREAS
from inclusion_index.index.weightings import HEADLINE, MAX_GRADE
from inclusion_index.report.profiles import search_key
from inclusion_index.report.render import nav_html
from inclusion_index.report.templates import render_template
from inclusion_index.sources.geography import la_aliases, year_label

PAGE = "explore.html"
# one colour per fifth of the ranking, top fifth darkest: a single-hue sequential scale whose
# steps differ in lightness, so it reads without colour vision; every dot has a dark outline
FIFTHS = ("#08306b", "#2171b5", "#6baed6", "#c6dbef", "#f7fbff")
CHART = {"left": 210, "width": 560, "row": 30, "top": 24}


def _num(x: object) -> float | None:
    """JSON has no NaN: a missing value travels as null. Full precision, so the browser ranks
    exactly the numbers Python ranks."""
    return None if x is None or pd.isna(x) else float(x)


def _one(x: float | None) -> str:
    return "–" if x is None else f"{x:.1f}"


def _headline_areas(ed: Edition) -> list[dict[str, object]]:
    """Per area: its name, the short names of the headline's indicators in it, and their share
    of the indicator weights (so of the headline score)."""
    ind = ed.indicators[ed.indicators["indicator"].isin(ed.headline().available)]
    total = float(ind["weight"].sum())
    return [{"key": a, "name": AREA_NAMES[a], "n": len(mine), "share": float(mine["weight"].sum()) / total if total
             else 0.0, "indicators": ", ".join(mine["short_name"])}
            for a, mine in ((a, ind[ind["area"] == a]) for a in AREAS)]


def explore_context(ed: Edition) -> dict[str, object]:
    """Everything explore.html shows, from the finished edition's score table."""
    t = ed.score_table.sort_values(["overall_rank", "la_name"], na_position="last", kind="stable")
    aliases = la_aliases()
    areas = _headline_areas(ed)
    regions = sorted(t["region"].dropna().astype(str).unique())
    cols = [f"{a}_score" for a in AREAS]
    values = t[["overall_score", *cols]].to_numpy("float64", na_value=math.nan).ravel()
    finite = [v for v in values if math.isfinite(v)]
    lo, hi = (0.0, 100.0) if finite and min(finite) >= 0 and max(finite) <= 100 else (
        math.floor(min(finite, default=0.0)), math.ceil(max(finite, default=1.0)))
    has_bounds = "overall_rank_best_weights" in t
    las, rows, dots = [], [], []
    per_region: dict[str, int] = {}
    for r in t.itertuples(index=False):
        code, name, region = str(r.la_code), str(r.la_name), str(r.region) if pd.notna(r.region) else ""
        overall = _num(r.overall_score)
        scores = [_num(getattr(r, c)) for c in cols]
        las.append({"code": code, "name": name, "key": search_key(name, code, aliases.get(code, [])),
                    "overall": overall, "areas": scores})
        bounds = has_bounds and pd.notna(r.overall_rank_best_weights)
        rows.append({"code": code, "name": name, "region": region,
                     "rank": "–" if pd.isna(r.overall_rank) else str(int(r.overall_rank)),
                     "overall": _one(overall), "areas": [_one(s) for s in scores],
                     "range": f"{int(r.overall_rank_best_weights)}–{int(r.overall_rank_worst_weights)}"
                     if bounds else "–"})
        if overall is not None and region in regions:
            k = per_region[region] = per_region.get(region, -1) + 1
            # three lanes per region row, so that LAs with close scores do not hide each other
            y = CHART["top"] + CHART["row"] * regions.index(region) + CHART["row"] / 2 + (k % 3 - 1) * 6
            dots.append({"code": code, "name": name, "y": f"{y:.1f}",
                         "x": f"{CHART['left'] + (overall - lo) * CHART['width'] / (hi - lo):.1f}"})
    n_ind = sum(int(a["n"]) for a in areas)
    headline_words = ", ".join(f"{str(a['name']).lower()} {a['n']} of {n_ind} indicators, {float(a['share']):.0%}"
                               for a in sorted(areas, key=lambda a: -float(a["share"])))
    data = {"areas": [[a, AREA_NAMES[a]] for a in AREAS], "max_grade": MAX_GRADE, "las": las,
            "names": {la["code"]: la["name"] for la in las}, "colours": list(FIFTHS),
            "headline_words": headline_words,
            "chart": {"left": CHART["left"], "width": CHART["width"], "lo": lo, "hi": hi}}
    chart = {**CHART, "height": CHART["top"] + CHART["row"] * len(regions) + 30, "lo": lo, "hi": hi,
             "regions": [(reg, CHART["top"] + CHART["row"] * i + CHART["row"] / 2) for i, reg in enumerate(regions)],
             "ticks": [(f"{v:g}", f"{CHART['left'] + (v - lo) * CHART['width'] / (hi - lo):.1f}")
                       for v in (lo + i * ((hi - lo) / 4) for i in range(5))], "dots": dots}
    top = max(areas, key=lambda a: float(a["share"]))
    return {"edition": ed.final_year, "edition_label": year_label(ed.final_year), "areas": areas,
            "rows": rows, "data": data, "chart": chart, "n_scored": int(t["overall_score"].notna().sum()),
            "n_indicators": n_ind, "top_area": top, "headline": HEADLINE, "max_grade": MAX_GRADE,
            "has_bounds": has_bounds, "colours": FIFTHS}


def explore_html(ed: Edition) -> str:
    ctx = explore_context(ed)
    return str(render_template("explore.html", title=f"Your own index: choose the weights ({ctx['edition_label']})",
                               nav=nav_html(ed.final_year, "explore"), **ctx))


def write_explore(ed: Edition, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)  # written whole, then moved into place
    tmp = out.with_suffix(".html.part")
    tmp.write_text(explore_html(ed), encoding="utf-8")
    tmp.replace(out)
    return out
