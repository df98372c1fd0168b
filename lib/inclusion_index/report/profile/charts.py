"""The profile's charts as small inline SVG with alt text (templates/chart.html, role="img"): every
LA's overall score, this LA's indicator scores by area and its scores over the years. A millisecond
each where matplotlib PNGs cost 0.5 s of a profile's 0.6 s, and sharp at any zoom."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pandas as pd
from markupsafe import Markup

from inclusion_index.index.edition import Edition
from inclusion_index.index.scoring import AREA_NAMES, AREAS
from inclusion_index.report.plotting import COLORS
from inclusion_index.report.profile.tables import _row, _scores, indicator_table, trend_table
from inclusion_index.report.series.text import ordinal
from inclusion_index.report.templates import render_template
from inclusion_index.sources.geography import year_label

# Areas are not performance: no red or green, and colours a colour-blind reader tells apart by
# lightness (Paul Tol's colour-blind-safe set, each 3:1 or more on white); the key names each area.
AREA_COLOURS = {"Exclusions": "#004488", "Assessment": "#997700", "Placement": "#5588bb", "Attainment": "#555555"}
# and a line style per area on the trend chart (SVG stroke-dasharray), so lines differ without colour
AREA_MARKS = {"Exclusions": "", "Assessment": "6 3", "Placement": "2 2", "Attainment": "8 3 2 3"}
GREY = "#555"


@dataclass
class SVGChart:
    """A rendered chart: inline SVG markup and its alt text; displays as itself in a notebook."""

    svg: Markup
    alt: str

    def _repr_html_(self) -> str:
        return str(self.svg)


@dataclass
class _Canvas:
    """Shapes in SVG user units (1 unit = 1 CSS pixel at full width), y growing downwards."""

    width: int
    height: int
    title: str
    rects: list[dict] = field(default_factory=list)
    lines: list[dict] = field(default_factory=list)
    texts: list[dict] = field(default_factory=list)
    polylines: list[dict] = field(default_factory=list)
    dots: list[dict] = field(default_factory=list)

    def text(self, x: float, y: float, s: str, *, anchor: str = "start", size: float = 11, fill: str = "#111",
             rotate: bool = False, bold: bool = False) -> None:
        self.texts.append({"x": round(x, 1), "y": round(y, 1), "s": s, "anchor": anchor, "size": size,
                           "fill": fill, "rotate": rotate, "bold": bold})

    def line(self, x1: float, y1: float, x2: float, y2: float, *, stroke: str = GREY, width: float = 1,
             dash: str = "") -> None:
        self.lines.append({"x1": round(x1, 1), "y1": round(y1, 1), "x2": round(x2, 1), "y2": round(y2, 1),
                           "stroke": stroke, "width": width, "dash": dash})

    def rect(self, x: float, y: float, w: float, h: float, fill: str, opacity: float = 1.0) -> None:
        self.rects.append({"x": round(x, 2), "y": round(y, 2), "w": round(max(w, 0), 2), "h": round(max(h, 0), 2),
                           "fill": fill, "opacity": opacity})

    def render(self, chart_id: str, alt: str) -> SVGChart:
        return SVGChart(render_template("chart.html", c=self, id=chart_id, alt=alt), alt)


def _y_axis(c: _Canvas, left: float, top: float, bottom: float, label: str, y) -> None:
    """A 0-100 score axis at ``y(score)``: ticks every 20, the label turned along it."""
    for v in range(0, 101, 20):
        c.line(left - 4, y(v), left, y(v))
        c.text(left - 7, y(v) + 4, str(v), anchor="end", size=10)
    c.line(left, top, left, bottom)
    c.text(14, (top + bottom) / 2, label, anchor="middle", size=11, rotate=True)


def plot_national(ed: Edition, code: str) -> SVGChart:
    """Every LA's overall score as a bar, highest first, with this LA's bar in red, its rank range
    shaded and its score and rank labelled above the bars."""
    t = _scores(ed)
    s = t["overall_score"].dropna().sort_values(ascending=False, kind="mergesort")
    n = len(s)
    c = _Canvas(750, 270, f"Overall score of every LA in England, {year_label(ed.final_year)}")
    left, right, top, bottom = 52, 740, 46, 222
    step = (right - left) / max(n, 1)
    y = lambda v: bottom - (bottom - top) * float(v) / 115  # noqa: E731 - headroom above 100 for the label
    name = str(_row(ed, code)["la_name"])
    everyone = f"Overall scores of all {n} ranked LAs in {year_label(ed.final_year)}, highest first,"
    pos = int((s.index == code).argmax()) + 1 if code in s.index else 0
    if pos:
        lo, hi = t.at[code, "overall_rank_lo"], t.at[code, "overall_rank_hi"]
        if pd.notna(lo) and pd.notna(hi):
            c.rect(left + (int(lo) - 1) * step, top, (int(hi) - int(lo) + 1) * step, bottom - top,
                   COLORS["highlight"], 0.12)
    for i, v in enumerate(s.to_numpy()):
        colour = COLORS["highlight"] if i + 1 == pos else COLORS["la_light"]
        c.rect(left + i * step + step * 0.15, y(v), step * (1.6 if i + 1 == pos else 0.7), bottom - y(v), colour)
    c.line(left, y(50), right, y(50), dash="4 3")
    c.text(right, y(50) - 4, "50 = middle LA", anchor="end", size=10, fill=GREY)
    _y_axis(c, left, top, bottom, "Overall score (0–100)", y)
    c.line(left, bottom, right, bottom)
    c.text((left + right) / 2, bottom + 36, f"Rank among the {n} LAs with an overall score (1 = most inclusive)",
           anchor="middle", size=11)
    for r in [1, *range(25, n + 1, 25)]:
        x = left + (r - 0.5) * step
        c.line(x, bottom, x, bottom + 4)
        c.text(x, bottom + 16, str(r), anchor="middle", size=10)
    if pos:
        score = float(s.iloc[pos - 1])
        rank = int(t.at[code, "overall_rank"])
        label = f"{name}: {score:.1f}, rank {rank}"
        alt = f"{everyone} with {name} highlighted: {score:.1f}, {ordinal(rank)}"
        if pd.notna(lo) and pd.notna(hi):
            pct = f"{ed.monte_carlo_settings().interval:.0%}"
            label += f" ({pct} range {int(lo)}–{int(hi)}, shaded)"
            alt += f" ({pct} range {ordinal(int(lo))} to {ordinal(int(hi))})"
        x = left + (pos - 0.5) * step
        c.line(x, y(score), x, y(106), stroke=COLORS["highlight"], width=0.8)
        c.text(x, y(106) - 3, label, anchor="start" if pos < n * 0.6 else "end", size=11, fill=COLORS["highlight"])
    else:
        msg = f"{name} has no overall score in {year_label(ed.final_year)}"
        c.text((left + right) / 2, top + 8, msg, anchor="middle", size=11, fill=COLORS["highlight"])
        alt = f"{everyone[:-1]}; {msg}"
    return c.render("chart-national", alt + ".")


def plot_indicator_scores(ed: Edition, code: str, table: pd.DataFrame | None = None) -> SVGChart:
    """Each indicator's score as a bar coloured by area (named in a key), the middle LA's 50 marked."""
    t = indicator_table(ed, code) if table is None else table
    row_h, left, right, top = 24, 330, 760, 58
    bottom = top + row_h * len(t)
    c = _Canvas(780, bottom + 44, "Indicator scores, coloured by area (data year in brackets)")
    x = lambda v: left + (right - left) * float(v) / 100  # noqa: E731
    kx = left
    for area, colour in AREA_COLOURS.items():  # the key: colour is never the only way to tell areas apart
        c.rect(kx, 30, 11, 11, colour, 0.85)
        c.text(kx + 15, 40, area, size=11)
        kx += 22 + 7 * len(area)
    for i, (ind, r) in enumerate(t.iterrows()):
        yc = top + row_h * (i + 0.5)
        c.text(left - 6, yc + 4, f"{ind} ({r['Data year']})" if r["Data year"] else str(ind), anchor="end", size=11)
        if pd.isna(r["Score (0-100)"]):
            c.text(left + 4, yc + 4, "no data", size=10, fill=GREY)
        else:
            c.rect(left, yc - row_h * 0.35, x(r["Score (0-100)"]) - left, row_h * 0.7, AREA_COLOURS[r["Area"]], 0.85)
    c.line(x(50), top - 4, x(50), bottom, dash="4 3")
    c.text(x(50) + 3, top - 6, "middle LA", size=10, fill=GREY)
    c.line(left, bottom, right, bottom)
    for v in range(0, 101, 20):
        c.line(x(v), bottom, x(v), bottom + 4)
        c.text(x(v), bottom + 16, str(v), anchor="middle", size=10)
    c.text((left + right) / 2, bottom + 36, "Indicator score (percentile among LAs, 100 = most inclusive)",
           anchor="middle", size=11)
    name = str(_row(ed, code)["la_name"])
    by_area = "; ".join(
        f"{area}: " + ", ".join(f"{i} ({d or 'no data'}) {'no score' if pd.isna(s) else f'{float(s):.0f}'}"
                                for i, d, s in zip(g.index, g["Data year"], g["Score (0-100)"], strict=True))
        for area, g in t.groupby("Area", sort=False))
    alt = (f"Bar chart of {name}'s {len(t)} indicator scores in the {year_label(ed.final_year)} edition (0 to 100, "
           f"the middle LA scores 50), by area, each with its data year. {by_area}.")
    return c.render("chart-indicators", alt)


def plot_trend(ed: Edition, code: str) -> SVGChart:
    """The overall and area scores in each index year, as lines with a key beside them."""
    t = trend_table(ed, code)
    c = _Canvas(620, 300, "Scores over the edition's years")
    left, right, top, bottom = 52, 470, 36, 250
    y = lambda v: bottom - (bottom - top) * float(v) / 100  # noqa: E731
    _y_axis(c, left, top, bottom, "Score (0-100)", y)
    c.line(left, bottom, right, bottom)
    xs = [left + (right - left) * (k + 0.5) / max(len(t), 1) for k in range(len(t))]
    for xk, label in zip(xs, t.index, strict=True):
        c.line(xk, bottom, xk, bottom + 4)
        c.text(xk, bottom + 16, label, anchor="middle", size=10)
    c.text((left + right) / 2, bottom + 36, "Index year", anchor="middle", size=11)
    series = [("Overall", "Overall score", "#111", 2.0, "")] + [
        (AREA_NAMES[a], f"{AREA_NAMES[a]} score", AREA_COLOURS[AREA_NAMES[a]], 1.2, AREA_MARKS[AREA_NAMES[a]])
        for a in AREAS]
    for k, (label, col, colour, width, dash) in enumerate(series):
        pts = [(xk, y(v)) if pd.notna(v) else None for xk, v in zip(xs, t[col], strict=True)]
        for has, run in itertools.groupby(pts, key=bool):  # a missing year breaks the line
            if has and len(run := list(run)) > 1:
                c.polylines.append({"points": " ".join(f"{a:.1f},{b:.1f}" for a, b in run),
                                    "stroke": colour, "width": width, "dash": dash})
        c.dots += [{"x": round(p[0], 1), "y": round(p[1], 1), "r": 3.5 if k == 0 else 2.5, "fill": colour}
                   for p in pts if p]
        c.line(right + 16, top + 10 + 20 * k, right + 36, top + 10 + 20 * k, stroke=colour, width=width)
        c.text(right + 42, top + 14 + 20 * k, label, size=11)
    name = str(_row(ed, code)["la_name"])
    if t.empty:
        return c.render("chart-trend", f"Line chart of {name}'s scores by index year: no year has a score.")
    lines = "; ".join(f"{col.removesuffix(' score')} " + ", ".join(
        f"{s:.1f}" if pd.notna(s) else "no score" for s in t[col])
        for col in ["Overall score", *(f"{AREA_NAMES[a]} score" for a in AREAS)])
    alt = f"Line chart of {name}'s overall and area scores (0 to 100) in {', '.join(t.index)}: {lines}."
    return c.render("chart-trend", alt)
