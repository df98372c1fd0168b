"""What one LA's profile says: scores, ranks, trend, strengths and weaknesses, in plain words.

Tables come twice: ``*_table`` returns the numbers as a DataFrame (missing = NaN, for tests
and reuse) and ``*_view`` the same table styled for readers (a pandas Styler: "–" for a missing
value, "not ranked" for a missing rank, every rank with its Monte Carlo range, scores to 1 dp,
counts as integers, no index-name row, LA names escaped). Sentences never show a raw NaN.

Ranks come with their uncertainty or not at all: the score table holds Monte Carlo ranges
(``<target>_rank_lo`` / ``_hi``) for the edition's final index year only, so earlier years'
ranks are left out of the trend table rather than shown bare.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.image
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from pandas.io.formats.style import Styler

from inclusion_index.config import MiddleBands
from inclusion_index.index.edition import Edition
from inclusion_index.index.scoring import AREA_NAMES, AREAS
from inclusion_index.report.notes import cell_flag, change_notes, la_flags, neighbour_note
from inclusion_index.report.plotting import COLORS
from inclusion_index.report.series.adjusted import adjusted_for_words
from inclusion_index.report.series.text import dp_for, ordinal
from inclusion_index.report.templates import render_template
from inclusion_index.sources.geography import label_years, year_label

MISSING = "–"
NOT_RANKED = "not ranked"
NOT_IN_DATA = "not in this project's data"
ENGLAND_POOLED = "pooled from LA figures"
AREA_COLOURS = {"Exclusions": "#b91c1c", "Assessment": "#7c3aed", "Placement": "#0369a1", "Attainment": "#15803d"}




def _scores(ed: Edition) -> pd.DataFrame:
    return ed.score_table.set_index("la_code")


def _n_ranked(ed: Edition) -> int:
    return int(ed.headline().scores["scored"].sum())


def _row(ed: Edition, code: str) -> pd.Series:
    t = _scores(ed)
    if code not in t.index:
        raise KeyError(f"LA {code!r} is not in edition {ed.final_year} "
                       f"(it has {len(t)} LAs; City of London and Isles of Scilly are not ranked)")
    return t.loc[code]


def _rank_cols(r: pd.Series, target: str) -> tuple:
    return r.get(f"{target}_rank"), r.get(f"{target}_rank_lo"), r.get(f"{target}_rank_hi")


def _rank_text(rank, lo=None, hi=None, n: int = 150) -> str:
    if rank is None or pd.isna(rank):
        return NOT_RANKED
    s = f"{int(rank)} of {n}"
    if lo is not None and hi is not None and not (pd.isna(lo) or pd.isna(hi)):
        s += f" (plausible range {int(lo)}–{int(hi)})"
    return s


def rank_with_range(rank, lo=None, hi=None) -> str:
    """'12 (5–30)' for a table cell; 'not ranked' when there is no rank."""
    if rank is None or pd.isna(rank):
        return NOT_RANKED
    if lo is None or hi is None or pd.isna(lo) or pd.isna(hi):
        return f"{int(rank)} (no range)"
    return f"{int(rank)} ({int(lo)}–{int(hi)})"


def reader_note(note: object) -> str:
    """A note (already in a reader's words, e.g. from notes.py) with year keys as '2022/23',
    in sentence case; '' for none."""
    s = label_years(note) if isinstance(note, str) else ""
    return s[:1].upper() + s[1:]


def _named(ed: Edition, text: str) -> str:
    """Indicator codes inside a note (from the score table's flags) as their short names."""
    for code, name in zip(ed.indicators["indicator"], ed.indicators["short_name"], strict=True):
        text = re.sub(rf"\b{re.escape(str(code))}\b", str(name), text)
    return text


def _styled(df: pd.DataFrame, *, caption: str = "", right: Sequence[str] = (), bold: Sequence[str] = (),
            uid: str = "") -> Styler:
    """A reader's table: index hidden (the first column names the rows), '–' for anything
    missing, floats to 1 dp, cells and caption (plain text) escaped as HTML, numbers right-aligned."""
    sty = Styler(df.reset_index(), cell_ids=False, uuid=uid or None)
    sty = sty.format(na_rep=MISSING, precision=1, escape="html").format_index(escape="html", axis=1)
    sty = sty.hide(axis="index")
    styles = {c: [{"selector": "td", "props": "text-align: right; white-space: nowrap"}] for c in right}
    styles |= {c: [{"selector": "td", "props": "font-weight: 600"}] for c in bold if c not in styles}
    sty = sty.set_table_styles(styles, overwrite=False)
    if caption:
        sty = sty.set_caption(html.escape(caption, quote=False)).set_table_styles(
            [{"selector": "caption", "props": "caption-side: bottom; text-align: left; font-size: 12px; color: #444"}],
            overwrite=False)
    return sty


# ---------------------------------------------------------------- headline and change


def headline(ed: Edition, code: str) -> str:
    """Markdown: the LA's name, region, overall score and rank, and its like-for-like change."""
    r = _row(ed, code)
    n = _n_ranked(ed)
    name = html.escape(str(r["la_name"]))
    lines = [f"# {name}", "",
             f"**Region:** {html.escape(str(r['region']))}. **Edition:** {year_label(ed.final_year)} "
             f"(index years {', '.join(year_label(y) for y in ed.years)}; {html.escape(ed.method.name)})."]
    if not bool(r.get("scored", False)):
        why = html.escape(_named(ed, reader_note(la_flags(ed, code, reader=True))) or "too few indicators with a value",
                          quote=False)
        lines += ["", f"{name} has no overall score in {year_label(ed.final_year)}: {why}."]
        return "\n".join(lines)
    lines += ["",
              f"Overall inclusion score **{r['overall_score']:.1f}** out of 100 (England's LAs average 50), "
              f"rank **{_rank_text(r['overall_rank'], r.get('overall_rank_lo'), r.get('overall_rank_hi'), n)}**, "
              "where 1 is the most inclusive."]
    change = change_text(ed, code)
    if change:
        lines += ["", change]
    return "\n".join(lines)


def change_text(ed: Edition, code: str) -> str:
    """The like-for-like change since the edition's first index year, with its basis in words.

    It is the score table's ``overall_change``: both years re-scored on only the indicators
    available in both (scoring.most_improved), so it can differ from the trend table, which
    scores each year on everything available that year. Empty for a one-year edition.
    """
    imp = ed.improvement
    if imp.empty or code not in imp.index or pd.isna(imp.at[code, "change"]):
        return ""
    r, i = _row(ed, code), imp.loc[code]
    first, last = year_label(ed.years[0]), year_label(ed.final_year)
    common = [str(x) for x in imp.attrs.get("indicators_compared") or []]
    n_common = len(common) or int(r.get("change_indicators_compared", i["indicators_compared"]))
    start = r.get("overall_change_score_from", i["score_early"])
    end = r.get("overall_change_score_to", i["score_late"])
    own = _own_values_differ(ed, code, common) if common else ""
    direction = "up" if i["change"] > 0 else "down"
    moved = ""
    if pd.notna(i["rank_early"]) and pd.notna(i["rank_late"]):
        places = int(i["rank_change"])
        n_places = f"{abs(places)} place{'s' if abs(places) != 1 else ''}"
        how = (f"moved up {n_places}" if places > 0 else f"moved down {n_places}" if places < 0
               else "kept its place")
        moved = f", and it {how}, from {ordinal(int(i['rank_early']))} to {ordinal(int(i['rank_late']))}"
    went = f"its score went {direction} by {abs(i['change']):.1f} points, from {start:.1f} to {end:.1f}{moved}"
    if _same_indicators(ed):
        text = (f"**Change since {first}:** {went[:1].upper()}{went[1:]}, with both years scored on the same "
                f"{n_common} indicators for every LA.{f' {own}' if own else ''}")
        why_differs = "This matches the trend table below (up to rounding)."
    else:
        early_av, late_av = list(ed.scored[ed.years[0]].available), list(ed.headline().available)
        short = ed.indicators.set_index("indicator")["short_name"]
        left_out = [str(short.get(x, x)) for x in dict.fromkeys(early_av + late_av) if x not in common]
        aside = f" (leaving out {html.escape(', '.join(left_out), quote=False)})" if left_out else ""
        label = "like for like" if not own else "on the same indicators for every LA"
        text = (f"**Change since {first}, {label}:** re-scoring {first} and {last} on only the {n_common} "
                f"indicators available in both years{aside}, {went}.{f' {own}' if own else ''}")
        why_differs = ("The trend table below scores each year on every indicator available that year, so its "
                       "scores, and the difference between them, are not the same as these.")
    lo, hi = r.get("overall_change_lo"), r.get("overall_change_hi")
    if lo is not None and hi is not None and pd.notna(lo) and pd.notna(hi):
        verdict = ("a rise beyond the uncertainty" if lo > 0 else "a fall beyond the uncertainty" if hi < 0
                   else "the change is within the uncertainty")
        text += f" The {ed.monte_carlo_settings().interval:.0%} range of the change is {_signed(lo)} to {_signed(hi)} points: {verdict}."
    note = change_notes(ed).get(code)
    if isinstance(note, str) and note:
        text += f" Note: {html.escape(reader_note(note), quote=False)}."
    return f"{text} {why_differs}"


def _signed(x: float) -> str:
    """'+1.2' / '-0.4'; a bound that rounds to zero keeps its side ('-0.03', not '-0.0')."""
    if x == 0:
        return "0.0"
    for dp in (1, 2):
        s = f"{x:+.{dp}f}"
        if s.strip("+-0.") != "":
            return s
    return "just below 0" if x < 0 else "just above 0"


def _same_indicators(ed: Edition) -> bool:
    """Whether the like-for-like comparison uses every indicator of both its years."""
    common = set(ed.improvement.attrs.get("indicators_compared") or [])
    return bool(common) and common == set(ed.scored[ed.years[0]].available) == set(ed.headline().available)


def _lacking(ed: Edition, code: str, indicators: Sequence[str], year: str) -> list[str]:
    """Short names of ``indicators`` this LA has no value for in ``year``, in method order."""
    v = ed.values
    have = set(v.loc[(v["la_code"] == code) & (v["index_year"] == year) & v["value"].notna(), "indicator"])
    short = ed.indicators.set_index("indicator")["short_name"]
    return [str(short.get(i, i)) for i in indicators if i not in have]


def _own_values_differ(ed: Edition, code: str, common: Sequence[str]) -> str:
    """The comparison scores both years on the same indicators for every LA, but an LA missing
    some of them in one year has its score rest on fewer then: say which, and what it means."""
    years = (ed.years[0], ed.final_year)
    lacks = {y: _lacking(ed, code, common, y) for y in years}
    if not any(lacks.values()):
        return ""
    n = len(common)
    parts = [f"{len(miss)} of them in {year_label(y)} ({html.escape(', '.join(miss), quote=False)})"
             for y, miss in lacks.items() if miss]
    rests = " and ".join(f"{n - len(miss)} in {year_label(y)}" for y, miss in lacks.items())
    when = "in that year" if len(parts) == 1 else "in each year"
    return (f"This LA's own values differ between the two years, though: it has no value for "
            f"{' and '.join(parts)}, so its score rests on fewer indicators {when} ({rests}, of {n}). "
            "That makes its change less certain than if it had values for the same indicators in both years.")


# ---------------------------------------------------------------- national picture


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
    ax.text(n + 0.5, 51, "50 = average LA", ha="right", va="bottom", fontsize=7.5, color="#555")
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


# ---------------------------------------------------------------- areas


def area_table(ed: Edition, code: str) -> pd.DataFrame:
    """Each area's score, rank and Monte Carlo rank range, and how many indicators it rests on."""
    r = _row(ed, code)
    rows = []
    for a in AREAS:
        rows.append({
            "Area": AREA_NAMES[a],
            "Score (0-100)": r[f"{a}_score"],
            "Rank": r[f"{a}_rank"],
            "Rank low": r.get(f"{a}_rank_lo"),
            "Rank high": r.get(f"{a}_rank_hi"),
            "Indicators with a value": r.get(f"{a}_n_indicators"),
        })
    return pd.DataFrame(rows).set_index("Area")


def area_view(ed: Edition, code: str) -> Styler:
    t = area_table(ed, code)
    rank = f"Rank ({ed.monte_carlo_settings().interval:.0%} range)"
    out = pd.DataFrame({
        "Score (0-100)": t["Score (0-100)"].astype("float64"),
        rank: [rank_with_range(*x) for x in zip(t["Rank"], t["Rank low"], t["Rank high"], strict=True)],
        "Indicators with a value": t["Indicators with a value"].astype("Int64"),
    }, index=t.index)
    missing = [a for a, s in t["Score (0-100)"].items() if pd.isna(s)]
    caption = ""
    if missing:
        caption = (f"{', '.join(missing)}: no score or rank, because none of the area's indicators has a value "
                   "for this LA (see the notes in the indicator table).")
    return _styled(out, caption=caption, right=list(out.columns), bold=["Area"], uid=f"area{code}")


# ---------------------------------------------------------------- indicators


def _value_decimals(ed: Edition) -> dict[str, int]:
    """Decimals per indicator from all LAs' values (whole numbers stay whole, rates below 1 get 2)."""
    v = ed.values[ed.values["index_year"] == ed.final_year]
    return {str(k): dp_for(g["value"]) for k, g in v.groupby("indicator", sort=False)}


def indicator_table(ed: Edition, code: str, bands: MiddleBands | None = None) -> pd.DataFrame:
    """Each indicator: the LA's value with its exact 95% interval and the pupils behind it,
    England's, its score, and where that score sits against the middle LA (``bands``).

    England is DfE's published figure, else (``England basis`` = ENGLAND_POOLED) the LA figures
    pooled as in the series parts, else NaN."""
    bands = bands or ed.run.middle_bands
    r = _row(ed, code)
    ci = ed.profile_intervals
    eng = ed.england[ed.england["index_year"] == ed.final_year].set_index("indicator")["value"]
    pooled = ed.pooled_england
    v = ed.values[(ed.values["index_year"] == ed.final_year) & (ed.values["la_code"] == code)].set_index("indicator")
    rows = []
    for ind in ed.indicators.itertuples():
        score = r.get(f"{ind.indicator}_score")
        england, basis = eng.get(ind.indicator, np.nan), "published"
        if pd.isna(england):
            england = pooled.get(ind.indicator, np.nan)
            basis = ENGLAND_POOLED if pd.notna(england) else ""
        rows.append({
            "Indicator": ind.short_name,
            "Area": AREA_NAMES[ind.area],
            "Value": r.get(f"{ind.indicator}_value"),
            "95% interval low": ci["value_lower_95"].get((ind.indicator, code), np.nan),
            "95% interval high": ci["value_upper_95"].get((ind.indicator, code), np.nan),
            "Pupils": ci["denominator"].get((ind.indicator, code), np.nan),
            "Pupils estimated": bool(ci["estimated"].get((ind.indicator, code), False)),
            "England": england,
            "England basis": basis,
            "Unit": ind.unit,
            "Better if": "lower" if ind.polarity < 0 else "higher",
            "Score (0-100)": score,
            "Against the middle LA": bands.label(score),
            "Data year": year_label(v.loc[ind.indicator, "data_year"]) if ind.indicator in v.index else "",
            "Note": reader_note(cell_flag(v.loc[ind.indicator], reader=True)) if ind.indicator in v.index else "",
        })
    out = pd.DataFrame(rows).set_index("Indicator")
    # which values are imputed, for the caption (a column test, not a search of the notes' words)
    out.attrs["imputed"] = [i.short_name for i in ed.indicators.itertuples()
                            if i.indicator in v.index and pd.notna(v.loc[i.indicator, "imputed_count"])]
    return out


def _number(x: object, dp: int) -> str:
    if x is None or pd.isna(x):
        return MISSING
    v = round(float(x), dp)
    return f"{0.0 if v == 0 else v:,.{dp}f}"


def indicator_view(ed: Edition, code: str, bands: MiddleBands | None = None) -> Styler:
    bands = bands or ed.run.middle_bands
    t = indicator_table(ed, code, bands)
    dps = _value_decimals(ed)
    ids = list(ed.indicators["indicator"])
    out = t.copy()
    out["Value"] = [_number(x, dps.get(i, 2)) for x, i in zip(t["Value"], ids, strict=True)]
    # the value's chance range given the pupils behind it: wide for small cohorts
    out.insert(out.columns.get_loc("Value") + 1, "95% interval", [
        MISSING if pd.isna(lo) or pd.isna(hi) else f"{_number(lo, dps.get(i, 2))} to {_number(hi, dps.get(i, 2))}"
        for lo, hi, i in zip(t["95% interval low"], t["95% interval high"], ids, strict=True)])
    out["Pupils"] = [MISSING if pd.isna(n) else f"{'≈' if est else ''}{float(n):,.0f}"
                     for n, est in zip(t["Pupils"], t["Pupils estimated"], strict=True)]
    out = out.drop(columns=["95% interval low", "95% interval high", "Pupils estimated", "England basis"])
    out["England"] = [_number(x, dps.get(i, 2)) + (f" ({ENGLAND_POOLED})" if b == ENGLAND_POOLED else "")
                      for x, i, b in zip(t["England"], ids, t["England basis"], strict=True)]
    out["Score (0-100)"] = t["Score (0-100)"].astype("float64")
    no_england = [str(i) for i, e in t["England"].items() if pd.isna(e)]
    pooled = [str(i) for i, b in t["England basis"].items() if b == ENGLAND_POOLED]
    caption = bands.explanation()
    if pooled:
        caption += (f" England {ENGLAND_POOLED} ({', '.join(pooled)}): England's published figure is {NOT_IN_DATA}, "
                    "so it is pooled from the LAs' own figures (their counts added up over their pupils, or a "
                    "pupil-weighted mean of average scores), as in the series' funnel plots.")
    if no_england:
        caption += f" England: {MISSING} where England's figure is {NOT_IN_DATA} ({', '.join(no_england)})."
    if out["Value"].eq(MISSING).any():
        caption += f" Value {MISSING}: no value for this LA (the note says why)."
    imputed = [str(i) for i in t.attrs.get("imputed", [])]
    rule = ed.method.impute_small_counts
    if imputed:
        caption += (f" Imputed ({', '.join(imputed)}): DfE published this LA's count only as "
                    f"\"{rule.get('label', 'suppressed')}\", so the value takes {float(rule.get('midpoint', 1.5)):g} "
                    "over the published pupils rather than leave the LA out.")
    caption += (" 95% interval: the range the value could plausibly take by chance, given the pupils behind it "
                f"(exact binomial or Poisson; {MISSING} where no pupil count is published). Pupils ≈: not "
                "published with the value, so taken from a related count (the cohort in the nearest year, or EHC "
                "plans for the termly exclusion rates), which makes the interval approximate.")
    sty = _styled(out, caption=caption, right=["Value", "95% interval", "Pupils", "England", "Score (0-100)"],
                  bold=["Indicator"], uid=f"ind{code}")
    # a pooled England figure carries its label, so that column may wrap
    return sty.set_table_styles({"Against the middle LA": [{"selector": "td", "props": "white-space: nowrap"}],
                                 "England": [{"selector": "td", "props": "text-align: right; white-space: normal"}]},
                                overwrite=False)


def _average_is_overall(ed: Edition, r: pd.Series, t: pd.DataFrame) -> tuple[bool, float]:
    """Whether the overall score is the (weighted) mean of the indicator scores shown."""
    if ed.method.headline != "latest" or ed.settings.overall_from != "indicators" or pd.isna(r["overall_score"]):
        return False, float("nan")
    w = ed.indicators.set_index("short_name")["weight"].reindex(t.index).astype("float64")
    s = t["Score (0-100)"].astype("float64")
    ok = s.notna()
    mean = float((s[ok] * w[ok]).sum() / w[ok].sum())
    return abs(mean - float(r["overall_score"])) < 0.05, mean


def strengths_and_weaknesses(ed: Edition, code: str, k: int = 3) -> str:
    """The highest and lowest indicator scores; where the overall score is their average, which
    of them pull it up (above the LA's own average) and which pull it down."""
    r = _row(ed, code)
    t = indicator_table(ed, code).dropna(subset=["Score (0-100)"])
    if t.empty:
        return "No indicator has a value for this LA."

    def fmt(d: pd.DataFrame) -> str:
        return ", ".join(f"{html.escape(str(i))} ({s:.0f})" for i, s in d["Score (0-100)"].items())

    is_mean, mean = _average_is_overall(ed, r, t)
    if not is_mean:
        top = t.sort_values("Score (0-100)", ascending=False).head(k)
        low = t.sort_values("Score (0-100)").head(k)
        return (f"**Strengths** (highest indicator scores): {fmt(top)}.  \n"
                f"**Weaknesses** (lowest): {fmt(low)}.")
    weighted = "weighted " if ed.indicators["weight"].nunique() > 1 else ""
    up = t[t["Score (0-100)"] > mean].sort_values("Score (0-100)", ascending=False).head(k)
    down = t[t["Score (0-100)"] < mean].sort_values("Score (0-100)").head(k)
    text = (f"The overall score ({mean:.1f}) is the {weighted}average of this LA's {len(t)} indicator scores, "
            "so an indicator scoring above it pulls the overall score up and one below it pulls it down.")
    if len(up):
        text += f"  \n**Pulling up most** (highest scores): {fmt(up)}."
    if len(down):
        text += f"  \n**Pulling down most** (lowest scores): {fmt(down)}."
    return text


def _chart(fig: Figure, alt: str) -> PNGChart:
    """A drawn figure as a PNG with alt text; nbconvert would otherwise describe a matplotlib
    figure to screen readers as "No description has been provided for this image"."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return PNGChart(buf.getvalue(), alt)


def _score_words(x: object) -> str:
    return "no score" if x is None or pd.isna(x) else f"{float(x):.0f}"


def plot_indicator_scores(ed: Edition, code: str) -> PNGChart:
    """Each indicator's score as a bar coloured by area, with the middle LA's 50 marked."""
    t = indicator_table(ed, code).iloc[::-1]
    fig = Figure(figsize=(7.5, 0.32 * len(t) + 1.2), dpi=CHART_DPI)
    ax = fig.add_subplot()
    y = np.arange(len(t))
    ax.barh(y, t["Score (0-100)"].fillna(0), color=[AREA_COLOURS[a] for a in t["Area"]], alpha=0.85)
    for i, s in enumerate(t["Score (0-100)"]):
        if pd.isna(s):
            ax.text(1, i, "no data", va="center", fontsize=8, color="#555")
    ax.axvline(50, color="#555", lw=1, ls="--")
    ax.text(50, len(t) - 0.4, " middle LA", fontsize=8, color="#555")
    ax.set_yticks(y, t.index, fontsize=9)
    ax.set_xlim(0, 100)
    ax.set_xlabel("Indicator score (percentile among LAs, 100 = most inclusive)")
    ax.set_title("Indicator scores, coloured by area", fontsize=11, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    name = str(_row(ed, code)["la_name"])
    by_area = "; ".join(
        f"{area}: " + ", ".join(f"{i} {_score_words(s)}" for i, s in g["Score (0-100)"].items())
        for area, g in t.iloc[::-1].groupby("Area", sort=False))
    alt = (f"Bar chart of {name}'s {len(t)} indicator scores in {year_label(ed.final_year)} (0 to 100, the middle "
           f"LA scores 50), by area. {by_area}.")
    return _chart(fig, alt)


# ---------------------------------------------------------------- trend


def trend_table(ed: Edition, code: str) -> pd.DataFrame:
    """Scores in each index year, each on every indicator available that year. No ranks: only
    the final year's rank has a Monte Carlo range (it is in the headline)."""
    rows = []
    for y in ed.years:
        s = ed.scored[y].scores
        if code not in s.index:
            continue
        r = s.loc[code]
        rows.append({"Index year": year_label(y), "Overall score": r["overall_score"],
                     **{f"{AREA_NAMES[a]} score": r[f"{a}_score"] for a in AREAS},
                     "Indicators with a value": r["n_indicators"]})
    return pd.DataFrame(rows).set_index("Index year")


def trend_text(ed: Edition, code: str) -> str:
    t = trend_table(ed, code)
    if t.empty:
        return "No index year has a score for this LA."
    text = ("Each year is scored on every indicator available that year; the last column counts those this LA "
            f"has a value for. Ranks are given only for {year_label(ed.final_year)}, at the top of the page, because "
            "only the final index year has a Monte Carlo rank range.")
    if change_text(ed, code) and not _same_indicators(ed):
        n_common = len(ed.improvement.attrs.get("indicators_compared") or [])
        text += (f" The change at the top compares the first and last years on only the {n_common} indicators "
                 "available in both, so it is not the difference between these rows.")
    return text


def trend_view(ed: Edition, code: str) -> Styler:
    t = trend_table(ed, code)
    out = t.astype({c: "float64" for c in t.columns if c.endswith("score")})
    out["Indicators with a value"] = t["Indicators with a value"].astype("Int64")
    return _styled(out, right=list(out.columns), bold=["Index year"], uid=f"trend{code}")


def plot_trend(ed: Edition, code: str) -> PNGChart:
    """The overall and area scores in each index year, as lines."""
    t = trend_table(ed, code)
    fig = Figure(figsize=(6, 3), dpi=CHART_DPI)
    ax = fig.add_subplot()
    ax.plot(t.index, t["Overall score"], marker="o", color="#111", label="Overall")
    for a in AREAS:
        ax.plot(t.index, t[f"{AREA_NAMES[a]} score"], marker=".", lw=1, color=AREA_COLOURS[AREA_NAMES[a]],
                alpha=0.8, label=AREA_NAMES[a])
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


# ---------------------------------------------------------------- context and neighbours


def context_text(ed: Edition, code: str) -> str:
    """The adjusted score beside the raw one, with the caveat (never instead of it)."""
    r = _row(ed, code)
    adj = r.get("overall_adjusted_score")
    n = _n_ranked(ed)
    if adj is None or pd.isna(adj):
        why = reader_note(r.get("adjustment_flag")) or "context data missing"
        return f"No context-adjusted score: {html.escape(why)}."
    side = "above" if adj > 0 else "below"
    # the fitted model's covariates, so the sentence follows data/registry/adjustment.yml
    allowing = adjusted_for_words(ed, "overall") or "the context model's covariates"
    return (f"Allowing for {allowing}, the overall score "
            f"is **{abs(adj):.1f} points {side}** what LAs in a similar position score on average "
            f"(adjusted rank {_rank_text(*_rank_cols(r, 'overall_adjusted'), n)}; raw rank "
            f"{_rank_text(*_rank_cols(r, 'overall'), n)}). Adjustment shows what context "
            "explains statistically; it can also hide real differences in provision, so read it beside the "
            "raw score, not instead of it.")


def _comparison(ed: Edition, code: str) -> pd.DataFrame:
    if code not in ed.neighbour_comparisons:
        raise ValueError(f"LA {code!r} is not in the {ed.final_year} edition")
    return ed.neighbour_comparisons[code]


def neighbour_table(ed: Edition, code: str) -> pd.DataFrame:
    """The LA, its ten DfE statistical neighbours and their mean: scores, ranks, rank ranges."""
    t = _comparison(ed, code)
    scores = _scores(ed)
    cols = {"la_name": "Local authority", "closeness": "Closeness", "overall_score": "Overall score",
            "overall_rank": "Overall rank", **{f"{a}_score": f"{AREA_NAMES[a]} score" for a in AREAS},
            "flag": "Note"}
    out = t[list(cols)].rename(columns=cols)
    # the comparison carries ranks only; their Monte Carlo ranges are in the score table
    for col, src in (("Rank low", "overall_rank_lo"), ("Rank high", "overall_rank_hi")):
        vals = t["la_code"].map(scores[src]) if src in scores else pd.Series(pd.NA, index=t.index)
        out.insert(out.columns.get_loc("Overall rank") + (1 if col == "Rank low" else 2), col, vals.astype("Int64"))
    is_mean = t["role"] == "neighbour mean"
    out.loc[is_mean, "Local authority"] = NEIGHBOURS_AVERAGE
    out.attrs["mean_row"] = list(is_mean)
    out.attrs["weights"] = dict(zip(t.loc[t["role"] == "neighbour", "la_name"],
                                    t.loc[t["role"] == "neighbour", "weight"].astype("float64"), strict=True))
    return out.set_index("Local authority")


def neighbour_view(ed: Edition, code: str) -> Styler:
    t = neighbour_table(ed, code)
    is_mean = t.attrs.get("mean_row", [False] * len(t))
    rank = f"Overall rank ({ed.monte_carlo_settings().interval:.0%} range)"
    out = pd.DataFrame(index=t.index)
    out["Closeness"] = t["Closeness"].fillna("")
    for c in [c for c in t.columns if c.endswith("score")]:
        out[c] = t[c].astype("float64")
        if c == "Overall score":
            out[rank] = [MISSING if m else rank_with_range(*x)
                         for m, x in zip(is_mean, zip(t["Overall rank"], t["Rank low"], t["Rank high"],
                                                      strict=True), strict=True)]
    roles = _comparison(ed, code)["role"].to_numpy()
    notes = pd.Series([_neighbour_note(ed, code, x, role == "neighbour")
                       for x, role in zip(t["Note"].fillna(""), roles, strict=True)], index=t.index)
    caption = _weights_caption(t.attrs.get("weights", {}))
    shared = notes[[not m for m in is_mean]].iloc[1:]
    if len(shared) and shared.nunique() == 1 and shared.iloc[0]:
        caption = f"{caption} Note for every neighbour: {shared.iloc[0]}.".strip()
        notes = notes.where([i == 0 or m for i, m in enumerate(is_mean)], "")
    if notes.ne("").any():
        out["Note"] = notes.to_numpy()
    return _styled(out, caption=caption, right=[c for c in out.columns if "score" in c or "rank" in c],
                   bold=["Local authority"], uid=f"nb{code}")


NEIGHBOURS_AVERAGE = "Neighbours' average"


def _neighbour_note(ed: Edition, code: str, note: str, neighbour: bool) -> str:
    """A row's note; a neighbour's first says where the LA's neighbours come from (notes.py)."""
    own = ed.neighbours.table[ed.neighbours.table["la_code"] == code] if neighbour else pd.DataFrame()
    where = neighbour_note(own.iloc[0], ed.ref.names(), reader=True) if len(own) else ""
    return reader_note("; ".join(x for x in (where, note) if x))


def _weights_caption(weights: dict[str, float]) -> str:
    """Explain the average's weights only where one differs from 1 (a neighbour filling two of
    the ten slots, or successors sharing one after a boundary change; neighbours.py)."""
    odd = {n: w for n, w in weights.items() if not np.isclose(w, 1.0)}
    if not odd:
        return ""
    each = ", ".join(f"{n} {w:g}" for n, w in odd.items())  # plain text: _styled escapes the caption
    return (f"{NEIGHBOURS_AVERAGE}: each neighbour counts by its share of DfE's ten neighbour slots, 1 for all "
            f"but {each} (a neighbour that fills two slots counts 2; councils that share a slot after a "
            "boundary change count a share each).")


def _model_name(source_id: str) -> str:
    from inclusion_index.sources.registry import load_registry

    try:
        release = f", {load_registry()[source_id].release} release"
    except KeyError:
        release = ""
    return f"DfE's children's services statistical neighbour model{release}"


def neighbour_text(ed: Edition, code: str) -> str:
    t = _comparison(ed, code)
    me = t[t["role"] == "la"].iloc[0]
    mean = t[t["role"] == "neighbour mean"].iloc[0]
    n = int(t["overall_score"].notna().sum()) - 1  # less the mean row
    model = html.escape(_model_name(str(t.attrs.get("neighbour_source", ""))), quote=False)
    if pd.isna(me["overall_score"]):
        return (f"This LA has no overall score to compare with its statistical neighbours. "
                f"The neighbours are those named by {model}.")
    return (f"Among itself and its statistical neighbours (LAs DfE judges most similar), "
            f"{html.escape(str(me['la_name']))} places **{int(me['overall_group_position'])} of {n}** on the overall "
            f"score: {me['overall_score']:.1f} against the neighbours' average of {mean['overall_score']:.1f}. "
            f"The neighbours are those named by {model}.")


# ---------------------------------------------------------------- notes


def notes_text(ed: Edition, code: str) -> str:
    """How to read the page: relative scores, and exactly what the method fills in where DfE's
    data have a gap (carried-forward years, boundary changes, imputed small counts), with this
    LA's imputed values named."""
    text = ("Scores are relative: 50 is the middle LA, not a standard to reach. An indicator score compares this "
            f"LA's value with every other LA's in the same year. \"{MISSING}\" marks a value that is missing, and "
            "the notes column says why.")
    fills = []
    carry = ed.method.carry_forward_years
    if carry:
        back = "the year before" if carry == 1 else f"up to {carry} years before"
        fills.append(f"a value missing for a year is carried forward from {back}")
    fills.append("a council created by a boundary change takes its predecessor councils' values")
    rule = ed.method.impute_small_counts
    if rule.get("enabled"):
        fills.append(f"a count DfE published only as \"{rule.get('label', 'suppressed')}\" is imputed as "
                     f"{float(rule.get('midpoint', 1.5)):g}")
    listed = fills[0] if len(fills) == 1 else f"{'; '.join(fills[:-1])}; and {fills[-1]}"
    n = len(fills)
    text += (f" Otherwise gaps are left as gaps, with {n} exception{'s' if n != 1 else ''}, each named in the "
             f"notes column where it applies: {listed}.")
    if rule.get("enabled"):
        v = ed.values[ed.values["index_year"] == ed.final_year]
        flagged = v["imputed_count"].notna()
        short = ed.indicators.set_index("indicator")["short_name"]
        mine = [str(short.get(i, i)) for i in v.loc[flagged & (v["la_code"] == code), "indicator"]]
        year = year_label(ed.final_year)
        if mine:
            text += (f" This LA has {len(mine)} imputed value{'s' if len(mine) != 1 else ''} in {year}: "
                     f"{html.escape(', '.join(mine), quote=False)}.")
        elif flagged.any():
            text += f" This LA has no imputed value in {year}."
        else:
            text += f" No LA's {year} value needed imputing."
    return text
