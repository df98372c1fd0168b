"""Facts about an edition the parts share: its score table, indicator years, England values, sources and rank ranges."""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..sources import load_registry
from ..uncertainty import (
    UncertaintySettings,
    load_uncertainty_settings,
)
from .text import NA, fmt, label_years, md, ordinal, year_label, years_label

# How each indicator reads inside a sentence, and its unit (labels only, no figures).
PHRASES: dict[str, tuple[str, str]] = {
    "excl_fixed_ehcp": ("the fixed-period exclusion rate of pupils with an EHC plan", "per 100 pupils"),
    "excl_perm_ehcp": ("the permanent exclusion rate of pupils with an EHC plan", "per 100 pupils"),
    "excl_fixed_sen_support": ("the fixed-period exclusion rate of pupils on SEN support", "per 100 pupils"),
    "excl_perm_sen_support": ("the permanent exclusion rate of pupils on SEN support", "per 100 pupils"),
    "assess_ehcp_share": ("the EHC plan share of pupils with SEN", "%"),
    "place_state_special": ("the share of EHC plans in state-funded special schools", "%"),
    "place_indep_nmss": ("the share of EHC plans in independent or non-maintained schools", "%"),
    "att_ks2_rwm_ehcp": ("the share of pupils with an EHC plan reaching the KS2 expected standard in reading, "
                         "writing and maths", "%"),
    "att_ks2_read_prog_ehcp": ("the KS2 reading progress score of pupils with an EHC plan", "points"),
    "att_ks2_write_prog_ehcp": ("the KS2 writing progress score of pupils with an EHC plan", "points"),
    "att_ks2_maths_prog_ehcp": ("the KS2 maths progress score of pupils with an EHC plan", "points"),
    "att_ks4_a8_ehcp": ("the average Attainment 8 score of pupils with an EHC plan", "points"),
    "att_ks4_p8_ehcp": ("the average Progress 8 score of pupils with an EHC plan", "points"),
    "att_neet_1617": ("the share of 16-17-year-olds not in education, employment or training", "%"),
}


MEASURE_PHRASES: dict[str, str] = {
    "neet_nk_ehcp_pct": "the share of 16-17-year-olds with an EHC plan who are NEET or whose activity is not known",
    "neet_nk_all_pct": "the share of 16-17-year-olds who are NEET or whose activity is not known",
}


_EXTENDED_SUFFIXES = ("_rank_lo", "_rank_median", "_rank_hi", "_adjusted_score", "_adjusted_rank")


_EXTENDED_COLUMNS = ("overall_change_lo", "overall_change_hi", "improvement_significant", "adjustment_flag")


def la_table(ed, year: str | None = None) -> pd.DataFrame:
    """One row per LA of the edition for an index year: identity, scores, indicator values.

    For the headline year, the score table's Monte Carlo rank ranges (``<target>_rank_lo``,
    ``_median``, ``_hi``), change ranges, ``improvement_significant`` and context-adjusted
    scores and ranks are joined on.
    """
    y = year or ed.final_year
    s = ed.scored[y].scores
    t = ed.geography.set_index("la_code")[["la_name", "region"]].join(s, how="left")
    if y == ed.final_year:
        ext = ed.score_table_cached().set_index("la_code")
        cols = [c for c in ext.columns if c.endswith(_EXTENDED_SUFFIXES) or c in _EXTENDED_COLUMNS]
        t = t.join(ext[cols], how="left")
    t.index.name = "la_code"
    return t.reset_index()


def uncertainty_settings() -> UncertaintySettings:
    """The Monte Carlo settings the score table was built with (uncertainty.yml + environment)."""
    return load_uncertainty_settings()


def range_label() -> str:
    """'90% range' (the interval of uncertainty.yml)."""
    return f"{uncertainty_settings().interval:.0%} range"


def rank_column() -> str:
    """Header of the rank column of every rank table: 'Rank (90% range)'."""
    return f"Rank ({range_label()})"


def _isna(x: object) -> bool:
    return x is None or bool(pd.isna(x))


def rank_cell(rank: object, lo: object, hi: object) -> str:
    """'3 (1–12)': a rank and its range for a table cell ('3' when there is no range).

    >>> rank_cell(3, 1, 12), rank_cell(3, None, None), rank_cell(None, 1, 2)
    ('3 (1–12)', '3', 'n/a')
    """
    if _isna(rank):
        return NA
    r = str(int(rank))  # type: ignore[call-overload]
    return r if _isna(lo) or _isna(hi) else f"{r} ({int(lo)}–{int(hi)})"  # type: ignore[call-overload]


def rank_words(rank: object, lo: object, hi: object, n: int | None = None) -> str:
    """A rank with its range: '3rd of 150, plausibly anywhere from 1st to 12th (90% range)'.

    Without a range (Monte Carlo switched off) only the rank is given.
    """
    if _isna(rank):
        return "not ranked"
    head = ordinal(int(rank)) + (f" of {n}" if n else "")  # type: ignore[call-overload]
    if _isna(lo) or _isna(hi):
        return head
    lo_, hi_ = int(lo), int(hi)  # type: ignore[call-overload]
    if lo_ == hi_:
        return f"{head} ({range_label()}: {ordinal(lo_)} only)"
    return f"{head}, plausibly anywhere from {ordinal(lo_)} to {ordinal(hi_)} ({range_label()})"


def change_range(lo: object, hi: object) -> str:
    """'-1.7 to +21.2' for a score change's range (n/a without one)."""
    if _isna(lo) or _isna(hi):
        return NA
    return f"{fmt(lo, sign=True)} to {fmt(hi, sign=True)}"


def indicator_meta(ed) -> pd.DataFrame:
    return ed.indicators.set_index("indicator")


def area_indicators(ed, area: str) -> list[str]:
    ind = ed.indicators
    return list(ind.loc[ind["area"] == area, "indicator"])


def indicator_years(ed, year: str | None = None) -> pd.DataFrame:
    """Per indicator for an index year: data year, measure, sources, coverage, England value, note.

    ``phrase`` and ``unit`` say how the indicator reads in a sentence.
    """
    y = year or ed.final_year
    sub = ed.substitutions()
    sub = sub[sub["index_year"] == y].set_index("indicator")
    eng = ed.england[ed.england["index_year"] == y].set_index("indicator")["value"]
    meta = indicator_meta(ed)
    rows = []
    for i in meta.index:
        r = sub.loc[i] if i in sub.index else None
        measure = str(r["measure"]) if r is not None else ""
        data_year = str(r["data_year"]) if r is not None else ""
        e = float(eng.get(i, np.nan))
        if not np.isfinite(e) and r is not None and int(r["las_with_value"]) > 0:
            e = england_value(ed, measure, data_year)
        phrase, unit = PHRASES.get(i, (str(meta.loc[i, "name"]), str(meta.loc[i, "unit"])))
        phrase = MEASURE_PHRASES.get(measure, phrase)
        rows.append({
            "indicator": i,
            "short_name": meta.loc[i, "short_name"],
            "area": meta.loc[i, "area"],
            "unit": meta.loc[i, "unit"],
            "polarity": int(meta.loc[i, "polarity"]),
            "data_year": data_year,
            "measure": measure,
            "las_with_value": int(r["las_with_value"]) if r is not None else 0,
            "las": int(r["las"]) if r is not None else len(ed.geography),
            "england": e,
            "source_ids": indicator_source_ids(ed, i, y),
            "note": label_years(r["edition_note"]) if r is not None else "",
            "phrase": phrase,
            "phrase_unit": unit,
        })
    return pd.DataFrame(rows)


def england_value(ed, measure: str, year: str) -> float:
    """The first non-missing England row of a measure and year in the long table (NaN if none)."""
    lg = ed.long
    m = (lg["measure"] == measure) & (lg["year"] == year) & (lg["level"] == "national") & lg["value"].notna()
    v = lg.loc[m, "value"]
    return float(v.iloc[0]) if len(v) else float("nan")


_DERIVED = re.compile(r"^derived:\s*(.+)$")


_SUFFIX = re.compile(r"\s*\([^)]*\)\s*$")


def source_id(text: str) -> str:
    """Registry id from a values ``source`` cell ('excl_la_char_zip (imputed)' -> 'excl_la_char_zip')."""
    return _SUFFIX.sub("", str(text)).strip()


def indicator_source_ids(ed, indicator: str, year: str | None = None) -> list[str]:
    """Registry ids behind an indicator's values (derived measures resolved to their inputs)."""
    y = year or ed.final_year
    v = ed.values[(ed.values["indicator"] == indicator) & (ed.values["index_year"] == y)]
    ids: set[str] = set()
    data_years = set(v["data_year"])
    for s in set(v["source"].dropna()):
        for part in str(s).split(","):
            part = part.strip()
            if not part:
                continue
            m = _DERIVED.match(part)
            if m:
                inputs = [x.strip() for x in m.group(1).split("/")]
                lg = ed.long
                src = lg.loc[lg["measure"].isin(inputs) & lg["year"].isin(data_years), "source"]
                ids |= {source_id(x) for x in src.dropna().unique()}
            else:
                ids.add(source_id(part))
    return sorted(ids)


def citation(source_ids: Iterable[str]) -> str:
    """'; '-joined registry citations for source ids (unknown ids are shown as they are)."""
    reg = load_registry()
    out = []
    for sid in sorted(set(source_ids)):
        try:
            out.append(reg[sid].citation())
        except KeyError:
            out.append(sid)
    return "; ".join(out)


def short_citation(source_ids: Iterable[str]) -> str:
    """Publication and release only, for table cells."""
    reg = load_registry()
    out = []
    for sid in sorted(set(source_ids)):
        try:
            s = reg[sid]
            out.append(f"{s.publication} ({s.release})")
        except KeyError:
            out.append(sid)
    return "; ".join(dict.fromkeys(out))


def england(ed, indicator: str, year: str | None = None) -> float:
    """England's value of an indicator in an index year (NaN when not published)."""
    return float(indicator_years(ed, year).set_index("indicator").loc[indicator, "england"])


def chart_title(ed, indicator: str, year: str | None = None) -> str:
    """'<indicator name>, <data year>' for a chart title."""
    iy = indicator_years(ed, year).set_index("indicator").loc[indicator]
    return f"{indicator_meta(ed).loc[indicator, 'name']}, {year_label(iy['data_year'])}"


def axis_label(ed, indicator: str) -> str:
    """'<short name> (<unit>)' for an axis."""
    meta = indicator_meta(ed).loc[indicator]
    return f"{meta['short_name']} ({meta['unit']})"


def edition_header(ed) -> str:
    """One Markdown line naming the edition, its index years and method."""
    return md(f"Edition {year_label(ed.final_year)}: index years {years_label(ed.years)}; method: {ed.method.name}; "
              f"{len(ed.geography)} local authorities.")


def la_name(ed, code: str) -> str:
    g = ed.geography.set_index("la_code")["la_name"]
    return str(g.get(code, code))


def check_highlight(ed, la_code: str | int | None) -> tuple[str | None, str]:
    """(code or None, sentence). An unknown code is reported, never an error.

    Accepts an int too (papermill's ``-p highlight_la 873`` arrives as one).
    """
    code = str(la_code if la_code is not None else "").strip()
    if not code:
        return None, ""
    if code.isdigit() and len(code) < 3:
        code = code.zfill(3)
    if code not in set(ed.geography["la_code"]):
        return None, (f"LA code {code} is not one of the {len(ed.geography)} LAs of this edition, "
                      "so nothing is highlighted.")
    return code, ""
