"""The profile's charts, rendered to PNG with alt text: every LA's overall score with this one
highlighted, its indicator scores by area, and its scores over the edition's years."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import matplotlib.image
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from inclusion_index.index.edition import Edition
from inclusion_index.index.scoring import AREA_NAMES, AREAS
from inclusion_index.report.plotting import COLORS
from inclusion_index.report.profile._common import _row, _scores
from inclusion_index.report.profile.tables import indicator_table, trend_table
from inclusion_index.report.series.text import ordinal
from inclusion_index.report.templates import render_template
from inclusion_index.sources.geography import year_label

# Areas are not performance: no red or green, and colours a colour-blind reader tells apart by
# lightness (Paul Tol's colour-blind-safe set, each 3:1 or more on white), with a hatch and a line
# style per area as well; performance is in the scores and their text, never in a colour alone.
AREA_COLOURS = {"Exclusions": "#004488", "Assessment": "#997700", "Placement": "#5588bb", "Attainment": "#555555"}
AREA_MARKS = {"Exclusions": ("", "-"), "Assessment": ("//", "--"), "Placement": ("..", "-."), "Attainment": ("xx", ":")}


@dataclass
class PNGChart:
    """A rendered chart: displays in a notebook as an <img> with alt text (and as PNG elsewhere)."""

    data: bytes
    alt: str

    def _repr_png_(self) -> bytes:
        return self.data

    def _repr_html_(self) -> str:
        b64 = base64.b64encode(self.data).decode("ascii")
        return str(render_template("img.html", png=b64, alt=self.alt))


def _chart(fig: Figure, alt: str) -> PNGChart:
    """A drawn figure as a PNG with alt text; nbconvert would otherwise describe a matplotlib
    figure to screen readers as "No description has been provided for this image"."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return PNGChart(buf.getvalue(), alt)


# ---------------------------------------------------------------- national picture


@dataclass
class _NationalBase:
    """The part of the national chart that is the same for every LA, drawn once per edition."""

    ed: Edition
    fig: Figure
    ax: object
    canvas: FigureCanvasAgg
    background: object
    scores: pd.Series


_NATIONAL: dict[str, _NationalBase] = {}
NATIONAL_SIZE = (7.5, 2.6)  # inches, at CHART_DPI like the page's other charts
CHART_DPI = 100


def _national_base(ed: Edition) -> _NationalBase:
    # keyed by edition and checked by identity: an Edition is unhashable (a dataclass with eq)
    base = _NATIONAL.get(ed.final_year)
    if base is not None and base.ed is ed:
        return base
    s = _scores(ed)["overall_score"].dropna().sort_values(ascending=False, kind="mergesort")
    n = len(s)
    fig = Figure(figsize=NATIONAL_SIZE, dpi=CHART_DPI)
    canvas = FigureCanvasAgg(fig)
    fig.subplots_adjust(left=0.085, right=0.985, bottom=0.19, top=0.87)
    ax = fig.add_subplot()
    ax.vlines(np.arange(1, n + 1), 0, s.to_numpy(), color=COLORS["la_light"], lw=2.2)
    ax.axhline(50, color="#555", lw=0.8, ls="--")
    ax.text(n + 0.5, 51, "50 = middle LA", ha="right", va="bottom", fontsize=7.5, color="#555")
    ax.set_xlim(0.5, n + 0.5)
    ax.set_ylim(0, 115)
    ax.set_yticks([0, 20, 40, 60, 80, 100])
    ax.set_xlabel(f"Rank among the {n} LAs with an overall score (1 = most inclusive)", fontsize=9)
    ax.set_ylabel("Overall score (0–100)", fontsize=9)
    ax.set_title(f"Overall score of every LA in England, {year_label(ed.final_year)}", fontsize=11, loc="left")
    ax.tick_params(labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    canvas.draw()
    base = _NationalBase(ed, fig, ax, canvas, canvas.copy_from_bbox(fig.bbox), s)
    _NATIONAL.clear()
    _NATIONAL[ed.final_year] = base
    return base


def plot_national(ed: Edition, code: str) -> PNGChart:
    """Every LA's overall score, sorted, with this LA highlighted and its rank range shaded.

    The bars of all LAs are drawn once per edition; each page only draws this LA's bar, band and
    label over a copy of them, which keeps the chart to a few milliseconds per profile.
    """
    b = _national_base(ed)
    t, s, ax = _scores(ed), b.scores, b.ax
    n = len(s)
    name = str(_row(ed, code)["la_name"]).replace("$", r"\$")
    everyone = f"Overall scores of all {n} ranked LAs in {year_label(ed.final_year)}, highest first,"
    artists = []
    if code in s.index:
        pos = int(np.flatnonzero(s.index == code)[0]) + 1
        score = float(s.iloc[pos - 1])
        lo, hi = t.at[code, "overall_rank_lo"], t.at[code, "overall_rank_hi"]
        rank = int(t.at[code, "overall_rank"])
        label = f"{name}: {score:.1f}, rank {rank}"
        alt = f"{everyone} with {name} highlighted: {score:.1f}, {ordinal(rank)}"
        if pd.notna(lo) and pd.notna(hi):
            artists.append(ax.axvspan(int(lo) - 0.5, int(hi) + 0.5, color=COLORS["highlight"], alpha=0.12, lw=0))
            label += f" ({ed.monte_carlo_settings().interval:.0%} range {int(lo)}–{int(hi)}, shaded)"
            alt += f" ({ed.monte_carlo_settings().interval:.0%} range {ordinal(int(lo))} to {ordinal(int(hi))})"
        artists.append(ax.vlines([pos], 0, [score], color=COLORS["highlight"], lw=3))
        # the label sits above every bar (scores stay below 100), with a line down to this LA's
        left = pos < n * 0.6
        artists.append(ax.annotate(label, (pos, score), xytext=(pos, 106), fontsize=8.5, color=COLORS["highlight"],
                                   ha="left" if left else "right", va="bottom",
                                   arrowprops={"arrowstyle": "-", "color": COLORS["highlight"], "lw": 0.8,
                                               "shrinkA": 0, "relpos": (0, 0) if left else (1, 0)}))
    else:
        msg = f"{name} has no overall score in {year_label(ed.final_year)}"
        artists.append(ax.text(0.5, 0.92, msg, transform=ax.transAxes, ha="center", fontsize=9,
                               color=COLORS["highlight"]))
        alt = f"{everyone[:-1]}; {msg}"
    b.canvas.restore_region(b.background)
    for a in artists:
        ax.draw_artist(a)
    buf = io.BytesIO()
    # imsave encodes the canvas as it stands; print_png would redraw every bar
    matplotlib.image.imsave(buf, np.asarray(b.canvas.buffer_rgba()), format="png")
    for a in artists:
        a.remove()
    return PNGChart(buf.getvalue(), alt.replace(r"\$", "$") + ".")


# ---------------------------------------------------------------- indicators


def _score_words(x: object) -> str:
    return "no score" if x is None or pd.isna(x) else f"{float(x):.0f}"


def plot_indicator_scores(ed: Edition, code: str) -> PNGChart:
    """Each indicator's score as a bar coloured by area, with the middle LA's 50 marked."""
    t = indicator_table(ed, code).iloc[::-1]
    fig = Figure(figsize=(7.5, 0.32 * len(t) + 1.2), dpi=CHART_DPI)
    ax = fig.add_subplot()
    y = np.arange(len(t))
    ax.barh(y, t["Score (0-100)"].fillna(0), color=[AREA_COLOURS[a] for a in t["Area"]], edgecolor="white",
            hatch=[AREA_MARKS[a][0] for a in t["Area"]])
    for i, s in enumerate(t["Score (0-100)"]):
        if pd.isna(s):
            ax.text(1, i, "no data", va="center", fontsize=8, color="#555")
    ax.axvline(50, color="#555", lw=1, ls="--")
    ax.text(50, len(t) - 0.4, " middle LA", fontsize=8, color="#555")
    # each bar carries its own data year: an edition's indicators rest on different years' data
    dated = [f"{n} ({d})" if d else str(n) for n, d in zip(t.index, t["Data year"], strict=True)]
    ax.set_yticks(y, dated, fontsize=9)
    ax.set_xlim(0, 100)
    ax.set_xlabel("Indicator score (percentile among LAs, 100 = most inclusive)")
    ax.set_title("Indicator scores by area (data year in brackets)", fontsize=11, loc="left")
    ax.legend(handles=[Patch(facecolor=c, edgecolor="white", hatch=AREA_MARKS[a][0], label=a) for a, c in AREA_COLOURS.items()
                       if a in set(t["Area"])], fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.spines[["top", "right"]].set_visible(False)
    name = str(_row(ed, code)["la_name"])
    by_area = "; ".join(
        f"{area}: " + ", ".join(f"{i} ({d or 'no data'}) {_score_words(s)}"
                                for i, d, s in zip(g.index, g["Data year"], g["Score (0-100)"], strict=True))
        for area, g in t.iloc[::-1].groupby("Area", sort=False))
    alt = (f"Bar chart of {name}'s {len(t)} indicator scores in the {year_label(ed.final_year)} edition (0 to 100, "
           f"the middle LA scores 50), by area, each with its data year. {by_area}.")
    return _chart(fig, alt)


# ---------------------------------------------------------------- trend


def plot_trend(ed: Edition, code: str) -> PNGChart:
    """The overall and area scores in each index year, as lines."""
    t = trend_table(ed, code)
    fig = Figure(figsize=(6, 3), dpi=CHART_DPI)
    ax = fig.add_subplot()
    ax.plot(t.index, t["Overall score"], marker="o", color="#111", label="Overall")
    for a in AREAS:
        ax.plot(t.index, t[f"{AREA_NAMES[a]} score"], marker=".", lw=1.2, color=AREA_COLOURS[AREA_NAMES[a]],
                ls=AREA_MARKS[AREA_NAMES[a]][1], label=AREA_NAMES[a])
    ax.set_ylim(0, 100)
    ax.set_ylabel("Score (0-100)")
    ax.set_xlabel("Index year")
    # beside the plot, so it never covers a line that runs low
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_title("Scores over the edition's years", fontsize=11, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    name = str(_row(ed, code)["la_name"])
    if t.empty:
        return _chart(fig, f"Line chart of {name}'s scores by index year: no year has a score.")
    lines = "; ".join(f"{col.removesuffix(' score')} " + ", ".join(
        f"{s:.1f}" if pd.notna(s) else "no score" for s in t[col])
        for col in ["Overall score", *(f"{AREA_NAMES[a]} score" for a in AREAS)])
    alt = (f"Line chart of {name}'s overall and area scores (0 to 100) in {', '.join(t.index)}: {lines}.")
    return _chart(fig, alt)
