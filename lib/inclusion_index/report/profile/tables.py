"""The profile's tables: ``*_table`` returns the numbers as a DataFrame (missing = NaN, for tests
and reuse) and ``*_view`` the same table styled for readers (a pandas Styler); and what every part
of a profile shares: the LA's score-table row, the marks for a missing value or rank."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
from pandas.io.formats.style import Styler

from inclusion_index.config import MiddleBands
from inclusion_index.index.edition import Edition
from inclusion_index.index.indicator_facts import england_value
from inclusion_index.index.indicators import UNRECORDED
from inclusion_index.index.scoring import AREA_NAMES, AREAS
from inclusion_index.report.notes import cell_flag, neighbour_note
from inclusion_index.report.series.edition_facts import england_figure, short_names
from inclusion_index.report.templates import render_template
from inclusion_index.sources.geography import label_years, year_label

MISSING = "–"
NOT_RANKED = "not ranked"
NOT_IN_DATA = "not in this project's data"
ENGLAND_POOLED = "pooled from LA figures"
NEIGHBOURS_AVERAGE = "Neighbours' average"


def _scores(ed: Edition) -> pd.DataFrame:
    by_la = getattr(ed, "scores_by_la", None)  # None on an edition a test rebuilt by hand
    return ed.score_table.set_index("la_code") if by_la is None else by_la


def _row(ed: Edition, code: str) -> pd.Series:
    t = _scores(ed)
    if code not in t.index:
        raise KeyError(f"LA {code!r} is not in edition {ed.final_year} "
                       f"(it has {len(t)} LAs; City of London and Isles of Scilly are not ranked)")
    return t.loc[code]


def reader_note(note: object) -> str:
    """A note in a reader's words (e.g. from notes.py) with years as '2022/23', in sentence case; '' for none."""
    s = label_years(note) if isinstance(note, str) else ""
    return s[:1].upper() + s[1:]


def say(template: str, **words: object) -> str:
    """A paragraph from a profile template (templates/profile_*.html) on one line; a line that
    starts "- " (a Markdown list item) keeps its own."""
    return re.sub(r"\s*\n(?!- )\s*", " ", str(render_template(template, **words)).strip())


def rank_with_range(rank, lo=None, hi=None) -> str:
    """'12 (5–30)' for a table cell; 'not ranked' when there is no rank."""
    if rank is None or pd.isna(rank):
        return NOT_RANKED
    if lo is None or hi is None or pd.isna(lo) or pd.isna(hi):
        return f"{int(rank)} (no range)"
    return f"{int(rank)} ({int(lo)}–{int(hi)})"


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


def area_table(ed: Edition, code: str) -> pd.DataFrame:
    """Each area's score, rank and Monte Carlo rank range, and how many indicators it rests on."""
    r = _row(ed, code)
    return pd.DataFrame([{"Area": AREA_NAMES[a], "Score (0-100)": r[f"{a}_score"], "Rank": r[f"{a}_rank"],
                          "Rank low": r.get(f"{a}_rank_lo"), "Rank high": r.get(f"{a}_rank_hi"),
                          "Indicators with a value": r.get(f"{a}_n_indicators")} for a in AREAS]).set_index("Area")


def area_view(ed: Edition, code: str) -> Styler:
    t = area_table(ed, code)
    rank = f"Rank ({ed.monte_carlo_settings().interval:.0%} range)"
    out = pd.DataFrame({
        "Score (0-100)": t["Score (0-100)"].astype("float64"),
        rank: [rank_with_range(*x) for x in zip(t["Rank"], t["Rank low"], t["Rank high"], strict=True)],
        "Indicators with a value": t["Indicators with a value"].astype("Int64"),
    }, index=t.index)
    missing = [a for a, s in t["Score (0-100)"].items() if pd.isna(s)]
    caption = (f"{', '.join(missing)}: no score or rank, because none of the area's indicators has a value "
               "for this LA (see the notes in the indicator table).") if missing else ""
    return _styled(out, caption=caption, right=list(out.columns), bold=["Area"], uid=f"area{code}")


def indicator_table(ed: Edition, code: str, bands: MiddleBands | None = None) -> pd.DataFrame:
    """Each indicator: the LA's value with its exact 95% interval and pupils, England's (published,
    else pooled: ``England basis``), its score and where it sits against the middle LA (``bands``)."""
    bands = bands or ed.run.middle_bands
    r = _row(ed, code)
    ci = ed.profile_intervals  # this LA's rows as dicts, read once (profile_page shares the table it builds)
    ci = ci.xs(code, level="la_code").to_dict("index") if code in ci.index.get_level_values(-1) else {}
    eng = ed.england[ed.england["index_year"] == ed.final_year].set_index("indicator")["value"]
    v = ed.values[(ed.values["index_year"] == ed.final_year) & (ed.values["la_code"] == code)].set_index("indicator")
    vr = v.to_dict("index")
    rows = []
    # named for the measure each indicator uses in the headline year (16-17 NEET differs by method)
    named = short_names(ed)
    for ind in ed.indicators.itertuples():
        c = ci.get(ind.indicator, {})
        score = r.get(f"{ind.indicator}_score")
        england, basis = eng.get(ind.indicator, np.nan), "published"
        if pd.isna(england):
            england = ed.pooled_england.get(ind.indicator, np.nan)
            basis = ENGLAND_POOLED if pd.notna(england) else ""
        rows.append({
            "Indicator": named[ind.indicator], "Area": AREA_NAMES[ind.area],
            "Value": r.get(f"{ind.indicator}_value"),
            "95% interval low": c.get("value_lower_95", np.nan), "95% interval high": c.get("value_upper_95", np.nan),
            "Pupils": c.get("denominator", np.nan), "Pupils estimated": bool(c.get("estimated", False)),
            "Small cohort": bool(c.get("small_cohort", False)),
            "Contains the middle LA": bool(c.get("contains_middle", False)),
            "England": england, "England basis": basis, "Unit": ind.unit,
            "Better if": "lower" if ind.polarity < 0 else "higher", "Score (0-100)": score,
            "Against the middle LA": bands.label(score),
            "Data year": year_label(vr[ind.indicator]["data_year"]) if ind.indicator in vr else "",
            "Note": reader_note(cell_flag(vr[ind.indicator], reader=True)) if ind.indicator in vr else "",
        })
    out = pd.DataFrame(rows).set_index("Indicator")
    out.attrs["unrecorded"] = v["placement_unrecorded_pct"].dropna().max() if len(v) else np.nan
    # which values are imputed, for the caption (a column test, not a search of the notes' words)
    out.attrs["imputed"] = [named[i] for i in ed.indicators["indicator"]
                            if i in vr and pd.notna(vr[i]["imputed_count"])]
    return out


def caution(row: pd.Series, small_cohort: int) -> str:
    """Why an indicator's value could be chance, in words ('' when it is clear): fewer pupils
    than the small-cohort threshold, or a 95% interval that contains the middle LA's value."""
    why = []
    if row["Small cohort"]:
        why.append(f"from {'about ' if row['Pupils estimated'] else ''}{float(row['Pupils']):,.0f} pupils, "
                   f"fewer than {small_cohort}")
    if row["Contains the middle LA"]:
        why.append("its 95% interval includes the middle LA's value")
    return "; ".join(why)


def _number(x: object, dp: int) -> str:
    if x is None or pd.isna(x):
        return MISSING
    v = round(float(x), dp)
    return f"{0.0 if v == 0 else v:,.{dp}f}"


def england_cell(indicator: str, x: object, basis: str, dps: dict[str, int]) -> str:
    """England's figure at the series' precision (edition_facts.england_figure), labelled if pooled."""
    if x is None or pd.isna(x):
        return MISSING
    return england_figure(indicator, float(x), dps.get(indicator, 2)) + (f" ({ENGLAND_POOLED})" if basis == ENGLAND_POOLED else "")


def indicator_view(ed: Edition, code: str, bands: MiddleBands | None = None, table: pd.DataFrame | None = None) -> Styler:
    bands = bands or ed.run.middle_bands
    t = indicator_table(ed, code, bands) if table is None else table
    dps = ed.value_decimals
    ids = list(ed.indicators["indicator"])
    out = t.copy()
    out["Value"] = [_number(x, dps.get(i, 2)) for x, i in zip(t["Value"], ids, strict=True)]
    # the value's chance range given the pupils behind it: wide for small cohorts
    out.insert(out.columns.get_loc("Value") + 1, "95% interval", [
        MISSING if pd.isna(lo) or pd.isna(hi) else f"{_number(lo, dps.get(i, 2))} to {_number(hi, dps.get(i, 2))}"
        for lo, hi, i in zip(t["95% interval low"], t["95% interval high"], ids, strict=True)])
    out["Pupils"] = [MISSING if pd.isna(n) else f"{'≈' if est else ''}{float(n):,.0f}"
                     for n, est in zip(t["Pupils"], t["Pupils estimated"], strict=True)]
    out["Caution"] = [caution(row, ed.run.uncertainty.small_cohort) for _, row in t.iterrows()]
    out = out.drop(columns=["95% interval low", "95% interval high", "Pupils estimated", "England basis",
                            "Small cohort", "Contains the middle LA"])
    out["England"] = [england_cell(i, x, b, dps) for x, i, b in zip(t["England"], ids, t["England basis"], strict=True)]
    out["Score (0-100)"] = t["Score (0-100)"].astype("float64")
    unrecorded, rule = ed.values["placement_unrecorded_pct"], ed.method.impute_small_counts
    shown = unrecorded.gt(0).any() and pd.notna(t.attrs["unrecorded"])
    lower = ed.indicators[(ed.indicators["area"] == "assessment") & (ed.indicators["polarity"] < 0)]["indicator"]
    caption = html.unescape(say("profile_indicator_caption.html", bands=bands.explanation(), missing=MISSING, not_in_data=NOT_IN_DATA,
                  pooled=[str(i) for i, b in t["England basis"].items() if b == ENGLAND_POOLED],
                  pooled_label=ENGLAND_POOLED, no_england=[str(i) for i, e in t["England"].items() if pd.isna(e)],
                  value_missing=out["Value"].eq(MISSING).any(), imputed=[str(i) for i in t.attrs.get("imputed", [])],
                  rule_label=rule.get("label", "suppressed"), midpoint=float(rule.get("midpoint", 1.5)),
                  unrecorded=t.attrs["unrecorded"] if shown else None, recorded_only=ed.method.placement_recorded_only,
                  england_unrecorded=england_value(ed, UNRECORDED, ed.values.loc[unrecorded.notna(), "data_year"].max())
                  if shown else None, contested=[str(t.index[ids.index(i)]) for i in lower if i in ids]))
    sty = _styled(out, caption=caption, right=["Value", "95% interval", "Pupils", "England", "Score (0-100)"],
                  bold=["Indicator"], uid=f"ind{code}")
    # a pooled England figure carries its label, so that column may wrap
    return sty.set_table_styles({"Against the middle LA": [{"selector": "td", "props": "white-space: nowrap"}],
                                 "England": [{"selector": "td", "props": "text-align: right; white-space: normal"}]},
                                overwrite=False)


def trend_table(ed: Edition, code: str) -> pd.DataFrame:
    """Scores in each index year, each on every indicator available that year. No ranks: only
    the final year's rank has a Monte Carlo range (it is in the headline)."""
    scored = [(y, ed.scored[y].scores) for y in ed.years]
    return pd.DataFrame([{"Index year": year_label(y), "Overall score": s.at[code, "overall_score"],
                          **{f"{AREA_NAMES[a]} score": s.at[code, f"{a}_score"] for a in AREAS},
                          "Indicators with a value": s.at[code, "n_indicators"]}
                         for y, s in scored if code in s.index]).set_index("Index year")


def trend_view(ed: Edition, code: str) -> Styler:
    t = trend_table(ed, code)
    out = t.astype({c: "float64" for c in t.columns if c.endswith("score")})
    out["Indicators with a value"] = t["Indicators with a value"].astype("Int64")
    return _styled(out, right=list(out.columns), bold=["Index year"], uid=f"trend{code}")


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
    out.attrs["weights"] = t[t["role"] == "neighbour"].set_index("la_name")["weight"].astype("float64").to_dict()
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
            out[rank] = [MISSING if m else rank_with_range(a, lo, hi) for m, a, lo, hi
                         in zip(is_mean, t["Overall rank"], t["Rank low"], t["Rank high"], strict=True)]
    roles = _comparison(ed, code)["role"].to_numpy()
    # where the LA's neighbours come from (notes.py) leads each neighbour's note: one sentence per page
    own = ed.neighbours.table[ed.neighbours.table["la_code"] == code]
    where = neighbour_note(own.iloc[0], ed.ref.names(), reader=True) if len(own) else ""
    notes = pd.Series([reader_note("; ".join(x for x in (where if role == "neighbour" else "", note) if x))
                       for note, role in zip(t["Note"].fillna(""), roles, strict=True)], index=t.index)
    # the average's weights are explained only where one differs from 1 (plain text: _styled escapes it)
    odd = {n: w for n, w in t.attrs.get("weights", {}).items() if not np.isclose(w, 1.0)}
    caption = html.unescape(say("profile_weights.html", average=NEIGHBOURS_AVERAGE, odd=odd)) if odd else ""
    shared = notes[[not m for m in is_mean]].iloc[1:]
    if len(shared) and shared.nunique() == 1 and shared.iloc[0]:
        caption = f"{caption} Note for every neighbour: {shared.iloc[0]}.".strip()
        notes = notes.where([i == 0 or m for i, m in enumerate(is_mean)], "")
    if notes.ne("").any():
        out["Note"] = notes.to_numpy()
    sty = _styled(out, caption=caption, right=[c for c in out.columns if "score" in c or "rank" in c],
                  bold=["Local authority"], uid=f"nb{code}")
    # each neighbour's name links to its own profile (the formatter receives the escaped name)
    pages = {name: c for name, c in zip(t.index, _comparison(ed, code)["la_code"], strict=True)
             if c != code and c in set(ed.geography["la_code"])}
    return sty.format(lambda name: f'<a href="{pages[html.unescape(name)]}.html">{name}</a>'
                      if html.unescape(name) in pages else name, subset=["Local authority"], escape="html")
