"""Analyses behind the six-part series (METHOD.md "What each part of the series examined").

Every function takes an :class:`~inclusion_index.editions.Edition` and returns plain
results: DataFrames, dicts of numbers and short plain-English sentences built from those
numbers (no figure is ever typed into a sentence). The notebooks only call these functions
and :mod:`inclusion_index.plotting`, so the same numbers feed the reports, the figures' CSVs
and ``findings.md``.

Context measures (deprivation, SEMH share, special-school counts, EHC plan totals, KS4
cohorts) come from ``edition.long``. Where a measure does not exist for the edition's years
the part says so in its text and notes; context values are never imputed.

Associations are ordinary least squares across LAs (statsmodels) with conventional standard
errors: they describe how LA figures move together, not what causes what.

Ranks are never shown bare: every rank comes with its Monte Carlo 90% range from the score
table (``<target>_rank_lo`` / ``_hi``, docs/UNCERTAINTY.md), context-adjusted scores sit beside
the raw ones, and funnel plots show which LAs stand out beyond chance.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from .extended import adjustment_for
from .geography import LAReference, map_to_geography, region_order, shift_year
from .indicators import AREA_NAMES, AREAS
from .paths import REGISTRY_DIR
from .sources import load_registry
from .uncertainty import (
    CHOICES,
    UncertaintyError,
    UncertaintySettings,
    funnel_data,
    load_uncertainty_settings,
    sensitivity_table,
)

NA = "n/a"

# Short labels and units of the context measures the series uses. Labels only: every
# number comes from the data.
CONTEXT_LABELS: dict[str, tuple[str, str]] = {
    "iod_idaci_avg_score": ("IDACI average score (share of children in income-deprived families)", "score 0-1"),
    "iod_imd_avg_score": ("IMD average score", "score"),
    "sen2_semh_pct_ehcp": ("EHC plans with SEMH as primary need", "%"),
    "sen2_ehcp_total": ("EHC plans maintained by the LA", "plans"),
    "lait_ehcp_pct_pupils": ("Pupils with an EHC plan", "% of pupils"),
    "lait_sen_support_pct_pupils": ("Pupils on SEN support", "% of pupils"),
    "ofsted_state_special_schools": ("State-funded special schools (Ofsted-graded)", "schools"),
    "ks4raw_pupils_ehcp": ("Pupils with an EHC plan at the end of KS4", "pupils"),
    "ks4raw_pupils_all": ("Pupils at the end of KS4", "pupils"),
}

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

LIMITS = [
    "The index uses public data only; it cannot see what happens inside schools or families.",
    "It has no measure of social and emotional outcomes or wellbeing.",
    "Off-rolling (pupils removed from a school's roll without a formal exclusion) is not measured; "
    "it is invisible in public data.",
    "It is an EHC-plan view: pupils on SEN support appear only through the assessment indicator.",
    "Its starting assumption is that education in a mainstream setting is the inclusive default; "
    "it is not a judgement that mainstream suits every child.",
    "Scores are percentile ranks: a change in score means moving past other LAs, not necessarily "
    "a change in absolute terms.",
]


# --------------------------------------------------------------------------- formatting


def fmt(x: object, dp: int = 1, *, pct: bool = False, sign: bool = False, na: str = NA) -> str:
    """A number for text and tables: thousands separators, ``dp`` decimals, optional % and sign.

    >>> fmt(12345.678), fmt(0.5, pct=True), fmt(2, 0, sign=True), fmt(float("nan"))
    ('12,345.7', '0.5%', '+2', 'n/a')
    """
    if x is None or isinstance(x, str):
        return na if x is None else x
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return na
    if not math.isfinite(v):
        return na
    if round(v, dp) == 0:
        v = 0.0  # no "-0.0"
    s = f"{v:{'+' if sign else ''},.{dp}f}"
    return s + ("%" if pct else "")


def fmt_int(x: object, na: str = NA) -> str:
    return fmt(x, 0, na=na)


def unit_level(unit: str) -> str:
    """Suffix for a level: '%' sticks to the number, scores take none, rates read in words."""
    u = (unit or "").strip()
    if u == "%" or u.startswith("% of"):
        return "%"
    if u in ("", "score", "points", "score 0-1", "index", "rank"):
        return ""
    return f" {u}"


def unit_diff(unit: str) -> str:
    """Suffix for a difference: percentages become percentage points."""
    u = (unit or "").strip()
    if u == "%" or u.startswith("% of"):
        return " percentage points"
    if u in ("score", "points"):
        return " points"
    if u in ("", "score 0-1", "index", "rank"):
        return ""
    return f" {u}"


def dp_for(values: Iterable[float] | float) -> int:
    """Decimals for a set of figures: 0 for whole numbers, 2 when typically below 1, else 1."""
    arr = np.atleast_1d(np.asarray(values, dtype="float64"))
    arr = arr[np.isfinite(arr)]
    if not arr.size:
        return 1
    if np.allclose(arr, arr.round(0)):
        return 0
    return 2 if np.median(np.abs(arr)) < 1 else 1


_YEAR_KEY = re.compile(r"\b(20\d{2})(\d{2})\b")


def label_years(text: str) -> str:
    """Academic-year keys inside free text become labels ('from 201617' -> 'from 2016/17')."""
    def sub(m: re.Match) -> str:
        a, b = m.group(1), m.group(2)
        return f"{a}/{b}" if (int(a) + 1) % 100 == int(b) else m.group(0)
    return _YEAR_KEY.sub(sub, str(text))


def ordinal(n: int) -> str:
    n = int(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def year_label(year: str) -> str:
    """'201819' -> '2018/19'."""
    y = str(year)
    return f"{y[:4]}/{y[4:]}" if len(y) == 6 and y.isdigit() else y


def years_label(years: Sequence[str]) -> str:
    ys = sorted({str(y) for y in years if y})
    if not ys:
        return NA
    if len(ys) == 1:
        return year_label(ys[0])
    return f"{year_label(ys[0])} to {year_label(ys[-1])}"


def iod_label(year: str) -> str:
    """Deprivation year key -> the release name ('201516' -> 'IoD2015')."""
    return f"IoD{str(year)[:4]}"


def esc(text: object) -> str:
    """HTML-escape untrusted text (LA names) for HTML output."""
    return html.escape(str(text), quote=True)


_MD_SPECIAL = re.compile(r"([\\`*_\[\]])")


def esc_md(text: object) -> str:
    """Escape text for Markdown: HTML-escaped, and Markdown's emphasis/link characters backslashed."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(str(text), quote=False))


def md(sentences: str | Iterable[str], *, bullets: bool = False, heading: str | None = None) -> str:
    """Markdown from plain sentences, every sentence escaped (LA names are data, not markup)."""
    items = [sentences] if isinstance(sentences, str) else [s for s in sentences if s]
    body = "\n".join(f"- {esc_md(s)}" for s in items) if bullets else "\n\n".join(esc_md(s) for s in items)
    return (f"**{esc_md(heading)}**\n\n" if heading else "") + body


# Decimals by column name where the default would mislead (p-values, R², effects).
_COLUMN_DP = {"p-value": 3, "p_value": 3, "R²": 2, "r2": 2, "F": 1, "Breusch–Pagan p": 3}


def style_table(df: pd.DataFrame, dp: int | dict[str, int] = 1, caption: str | None = None,
                hide_index: bool = True):
    """A rounded, HTML-escaped pandas Styler for display (separators, NaN as n/a).

    Whole-number columns show no decimals; p-values three, R² two; other figures ``dp``
    decimals, or two when below 1 in size (so 0.16 does not print as 0.2). Columns named in
    a ``dp`` dict get exactly that many.
    """
    fmts = {}
    for c in df.columns:
        col = df[c]
        if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            continue
        vals = pd.to_numeric(col, errors="coerce").astype("float64")
        finite = vals[np.isfinite(vals)]
        if isinstance(dp, dict) and c in dp:
            fmts[c] = lambda v, d=dp[c]: fmt(v, d)
        elif c in _COLUMN_DP:
            fmts[c] = lambda v, d=_COLUMN_DP[c]: fmt(v, d)
        elif c in _AUTO_DP_COLUMNS:
            fmts[c] = lambda v: fmt(v, _dp_for(abs(v)) if np.isfinite(v) and v != 0 else 1)
        elif pd.api.types.is_integer_dtype(col) or (len(finite) and np.allclose(finite, finite.round(0))):
            fmts[c] = lambda v: fmt(v, 0)
        else:
            base = dp if isinstance(dp, int) else 1
            fmts[c] = lambda v, d=base: fmt(v, max(d, 2) if np.isfinite(v) and 0 < abs(v) < 1 else d)
    st = df.style.format(fmts, na_rep=NA, escape="html")
    st = st.format_index(escape="html", axis=1)
    if hide_index:
        st = st.hide(axis="index")
    if caption:
        st = st.set_caption(esc(caption))
    return st


# --------------------------------------------------------------------------- edition helpers


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


# --------------------------------------------------------------------------- rank ranges


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


# --------------------------------------------------------------------------- context measures


@dataclass
class ContextMeasure:
    """A context measure on the edition's LAs: values by la_code, the year used and why."""

    measure: str
    label: str
    unit: str
    values: pd.Series
    year: str | None
    source_ids: list[str]
    note: str
    moved: list[str] = field(default_factory=list)  # LAs whose value comes from a predecessor

    @property
    def available(self) -> bool:
        return self.year is not None and bool(self.values.notna().any())

    @property
    def n(self) -> int:
        return int(self.values.notna().sum())


@lru_cache(maxsize=1)
def _boundary_ref() -> LAReference:
    # map_to_geography only needs the boundary-change table; the Edition does not keep its
    # LAReference (or data folder), so build the change part here from the registry file.
    changes = pd.read_csv(REGISTRY_DIR / "boundary_changes.csv", dtype=str)
    changes["effective"] = pd.to_datetime(changes["effective"])
    changes["use_for_values"] = changes["use_for_values"].str.lower().eq("true")
    return LAReference(table=pd.DataFrame(columns=["la_code"]), changes=changes)


def measure_years(ed, measure: str) -> list[str]:
    lg = ed.long
    m = (lg["measure"] == measure) & (lg["level"] == "la") & lg["value"].notna()
    return sorted(set(lg.loc[m, "year"]))


def context_measure(ed, measure: str, *, year: str | None = None, window: tuple[str, str] | None = None,
                    label: str | None = None) -> ContextMeasure:
    """A context measure for the edition's LAs.

    ``year`` picks an exact year; otherwise the latest year inside ``window`` (default: from
    the year before the edition's first index year, so lagged data years count, to its final
    year). Outside that window the measure is reported as unavailable, with the years it
    does exist for. Values move across boundary changes as the indicators do.
    """
    lab, unit = CONTEXT_LABELS.get(measure, (measure, ""))
    lab = label or lab
    codes = list(ed.geography["la_code"])
    empty = pd.Series(np.nan, index=pd.Index(codes, name="la_code"), dtype="float64")
    have = measure_years(ed, measure)
    if not have:
        return ContextMeasure(measure, lab, unit, empty, None, [],
                              f"{lab}: not in the loaded data for any year.")
    if year is None:
        lo, hi = window or (shift_year(ed.first_year, -1), ed.final_year)
        inside = [y for y in have if lo <= y <= hi]
        if not inside:
            return ContextMeasure(
                measure, lab, unit, empty, None, [],
                f"{lab}: published by LA only for {', '.join(year_label(y) for y in have)}, "
                f"so not available for this edition ({years_label([lo, hi])}).")
        year = inside[-1]
    elif year not in have:
        return ContextMeasure(measure, lab, unit, empty, None, [],
                              f"{lab}: not published for {year_label(year)} "
                              f"(available: {', '.join(year_label(y) for y in have)}).")
    lg = ed.long
    sub = lg[(lg["measure"] == measure) & (lg["year"] == year) & (lg["level"] == "la")]
    cols = [c for c in ("la_code", "value", "numerator", "denominator", "missing_reason", "source") if c in sub]
    mapped = map_to_geography(sub[cols], codes, _boundary_ref())
    vals = mapped.drop_duplicates("la_code").set_index("la_code")["value"].astype("float64").reindex(codes)
    vals.index.name = "la_code"
    moved = mapped.loc[mapped["boundary_note"].astype(str) != "", "la_code"].tolist()
    missing = len(codes) - int(vals.notna().sum())
    note = f"{lab}: {year_label(year)}, {int(vals.notna().sum())} of {len(codes)} LAs"
    if missing:
        note += f" ({missing} without a value)"
    if moved:
        note += f"; {len(moved)} LA(s) take a predecessor's value across a boundary change"
    ids = sorted({str(s) for s in sub["source"].dropna().unique()})
    return ContextMeasure(measure, lab, unit, vals, year, ids, note + ".", moved=sorted(set(moved)))


def deprivation(ed) -> ContextMeasure:
    """The method's deprivation measure (IDACI average score, IoD year set by the method)."""
    m = ed.method
    c = context_measure(ed, m.deprivation_measure, year=m.deprivation_year)
    c.label = f"IDACI average score ({iod_label(m.deprivation_year)})" if m.deprivation_measure == \
        "iod_idaci_avg_score" else c.label
    return c


def ratio_measure(num: ContextMeasure, den: ContextMeasure, scale: float, label: str, unit: str,
                  names: dict[str, str] | None = None) -> ContextMeasure:
    """num / den x scale, LA by LA, when both exist for the same year.

    An LA whose numerator or denominator (not both) comes from a predecessor across a
    boundary change gets no ratio: a split LA's own count over its predecessor's total (or the
    reverse) would be wrong.
    """
    name = f"{num.measure}_per_{den.measure}"
    if not (num.available and den.available):
        why = num.note if not num.available else den.note
        return ContextMeasure(name, label, unit, num.values * np.nan, None, [], why)
    if num.year != den.year:
        return ContextMeasure(name, label, unit, num.values * np.nan, None, [],
                              f"{label}: {num.label} ({year_label(num.year)}) and {den.label} "
                              f"({year_label(den.year)}) are not for the same year.")
    v = num.values / den.values.where(den.values > 0) * scale
    mixed = sorted(set(num.moved) ^ set(den.moved))
    v[v.index.isin(mixed)] = np.nan
    note = f"{label}: {year_label(num.year)}, {int(v.notna().sum())} LAs"
    if mixed:
        note += (f"; left out for {len(mixed)} LA(s) where only one of the two counts is a predecessor "
                 f"authority's ({', '.join((names or {}).get(c, c) for c in mixed)})")
    return ContextMeasure(name, label, unit, v, num.year, sorted(set(num.source_ids) | set(den.source_ids)),
                          note + ".", moved=sorted(set(num.moved) & set(den.moved)))


# --------------------------------------------------------------------------- statistics


def nice_step(sd: float) -> float:
    """A round step (1, 2 or 5 x 10^k) near one standard deviation, for readable slopes."""
    if not np.isfinite(sd) or sd <= 0:
        return 1.0
    k = math.floor(math.log10(sd))
    for m in (1, 2, 5, 10):
        if m * 10**k >= sd * 0.7:
            return float(m * 10**k)
    return float(10 ** (k + 1))


def _dp_for(step: float) -> int:
    return max(0, -math.floor(math.log10(step))) if step > 0 else 1


@dataclass
class OLSResult:
    """An OLS fit across LAs: y on one or more x."""

    y: str
    x: list[str]
    labels: dict[str, str]
    units: dict[str, str]
    n: int
    r2: float
    adj_r2: float
    coefs: pd.DataFrame  # term, label, coef, ci_low, ci_high, p_value, step, per_step, per_step_low, per_step_high
    data: pd.DataFrame
    model: object = field(repr=False, default=None)

    def term(self, name: str) -> pd.Series:
        return self.coefs.set_index("term").loc[name]

    def predict_band(self, grid: np.ndarray, term: str | None = None) -> pd.DataFrame:
        """Fitted mean and its 95% CI over ``grid`` for one x (others at their mean)."""
        term = term or self.x[0]
        exog = pd.DataFrame({t: (grid if t == term else np.full(len(grid), self.data[t].mean())) for t in self.x})
        exog.insert(0, "const", 1.0)
        pr = self.model.get_prediction(exog).summary_frame(alpha=0.05)
        return pd.DataFrame({"x": grid, "fit": pr["mean"].to_numpy(), "lo": pr["mean_ci_lower"].to_numpy(),
                             "hi": pr["mean_ci_upper"].to_numpy()})

    def sentence(self, term: str | None = None) -> str:
        """'Across 148 LAs, where X is 0.05 higher, Y is on average 1.2 points higher (95% CI ...); R² ...'."""
        term = term or self.x[0]
        r = self.term(term)
        eff, lo, hi = float(r["per_step"]), float(r["per_step_low"]), float(r["per_step_high"])
        yu = unit_diff(self.units.get(self.y, ""))
        others = [self.labels[t] for t in self.x if t != term]
        held = f" (taking {' and '.join(others)} into account)" if others else ""
        step_unit = unit_diff(self.units.get(term, ""))
        if r["step"] == 1:
            step_unit = step_unit.replace("points", "point")
        step = f"{fmt(r['step'], _dp_for(r['step']))}{step_unit}"
        return (f"Across {self.n} LAs, where {self.labels[term]} is {step} higher{held}, {self.labels[self.y]} "
                f"is on average {effect_text(eff, lo, hi, yu)}; the model explains {fmt(self.r2 * 100, 0)}% of the "
                f"variation between LAs (R² {fmt(self.r2, 2)}).")

    def table(self) -> pd.DataFrame:
        """Quotable coefficient table: per-step effects with 95% CIs, R² and n."""
        t = self.coefs[self.coefs["term"] != "const"].copy()
        out = pd.DataFrame({
            "Outcome": _cap(self.labels[self.y]),
            "Predictor": t["label"].map(_cap),
            "Step": t["step"],
            "Effect of one step": t["per_step"],
            "95% CI low": t["per_step_low"],
            "95% CI high": t["per_step_high"],
            "p-value": t["p_value"],
            "R²": self.r2,
            "LAs": self.n,
        })
        return out.reset_index(drop=True)


def effect_text(eff: float, lo: float, hi: float, unit: str = "") -> str:
    """'1.2 points higher (95% CI 0.4 to 2.0 points higher)', saying when the CI spans 0.

    ``unit`` is a difference suffix (:func:`unit_diff`).
    """
    dp = 2 if max(abs(lo), abs(hi), abs(eff)) < 1 else 1

    def word(v: float) -> str:
        return f"{fmt(abs(v), dp)}{unit} {'higher' if v >= 0 else 'lower'}"

    if lo < 0 < hi:
        ci = f"95% CI from {word(lo)} to {word(hi)}: no clear difference"
    elif hi <= 0:
        ci = f"95% CI {fmt(abs(hi), dp)} to {fmt(abs(lo), dp)}{unit} lower"
    else:
        ci = f"95% CI {fmt(lo, dp)} to {fmt(hi, dp)}{unit} higher"
    return f"{word(eff)} ({ci})"


MODEL_COLUMNS = ["Outcome", "Predictor", "Step", "Effect of one step", "95% CI low", "95% CI high", "p-value",
                 "R²", "LAs"]
_AUTO_DP_COLUMNS = {"Step"}


def _cap(phrase: str) -> str:
    p = str(phrase).removeprefix("the ")
    return p[:1].upper() + p[1:]


def ols(data: pd.DataFrame, y: str, x: str | Sequence[str], *, labels: dict[str, str] | None = None,
        units: dict[str, str] | None = None, min_n: int = 10) -> OLSResult | None:
    """OLS of ``y`` on ``x`` over the rows with every variable present; None if too few rows."""
    import statsmodels.api as sm

    xs = [x] if isinstance(x, str) else list(x)
    cols = [y, *xs]
    keep = [c for c in ("la_code", "la_name", "region") if c in data.columns]
    d = data[keep + cols].copy()
    for c in cols:
        d[c] = pd.to_numeric(d[c], errors="coerce").astype("float64")
    d = d.dropna(subset=cols)
    if len(d) < max(min_n, len(xs) + 3):
        return None
    if any(d[c].std() == 0 for c in xs):
        return None
    exog = sm.add_constant(d[xs], has_constant="add")
    res = sm.OLS(d[y], exog).fit()
    ci = res.conf_int(alpha=0.05)
    labels = {c: c for c in cols} | (labels or {})
    units = units or {}
    rows = []
    for t in ["const", *xs]:
        step = 1.0 if t == "const" else nice_step(float(d[t].std()))
        rows.append({
            "term": t, "label": labels.get(t, t), "coef": float(res.params[t]),
            "ci_low": float(ci.loc[t, 0]), "ci_high": float(ci.loc[t, 1]), "p_value": float(res.pvalues[t]),
            "step": step, "per_step": float(res.params[t]) * step,
            "per_step_low": float(ci.loc[t, 0]) * step, "per_step_high": float(ci.loc[t, 1]) * step,
        })
    return OLSResult(y=y, x=xs, labels=labels, units=units, n=int(res.nobs), r2=float(res.rsquared),
                     adj_r2=float(res.rsquared_adj), coefs=pd.DataFrame(rows), data=d.reset_index(drop=True),
                     model=res)


def models_table(models: Iterable[OLSResult | None]) -> pd.DataFrame:
    frames = [m.table() for m in models if m is not None]
    if not frames:
        return pd.DataFrame(columns=MODEL_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def region_variation(data: pd.DataFrame, value: str, *, region: str = "region", label: str | None = None,
                     unit: str = "") -> dict:
    """How much of the variation between LAs lies between regions (one-way ANOVA).

    Returns numbers (``between_share`` = R² of value ~ region, i.e. eta squared;
    ``within_share``; F test ``f`` and ``p_value``; ``n``; ``n_regions``; SDs), a per-region
    ``table`` (n, mean, median, min, max, sd, in region order) and a ``sentence``.
    """
    import statsmodels.formula.api as smf

    d = data[[region, value]].dropna(subset=[value]).rename(columns={value: "v", region: "g"})
    lab = label or value
    u = unit_level(unit)
    out: dict = {"label": lab, "n": len(d), "n_regions": int(d["g"].nunique())}
    per = d.groupby("g")["v"].agg(n="count", mean="mean", median="median", min="min", max="max", sd="std")
    order = [r for r in region_order() if r in per.index] + [r for r in per.index if r not in region_order()]
    per = per.reindex(order)
    per.index.name = "region"
    out["table"] = per.reset_index()
    if len(d) < 10 or out["n_regions"] < 2:
        out.update(between_share=np.nan, within_share=np.nan, f=np.nan, p_value=np.nan,
                   sentence=f"Too few LAs have a value of {lab} to compare regions.")
        return out
    res = smf.ols("v ~ C(g)", data=d).fit()
    dp = dp_for(d["v"])
    out.update(between_share=float(res.rsquared), within_share=1 - float(res.rsquared), f=float(res.fvalue),
               p_value=float(res.f_pvalue), sd_all=float(d["v"].std()), sd_within_mean=float(per["sd"].mean()),
               region_mean_min=float(per["mean"].min()), region_mean_max=float(per["mean"].max()),
               region_min=str(per["mean"].idxmin()), region_max=str(per["mean"].idxmax()))
    widest = (per["max"] - per["min"]).idxmax()
    out["widest_region"] = str(widest)
    out["widest_range"] = float(per.loc[widest, "max"] - per.loc[widest, "min"])
    out["sentence"] = (
        f"Regions account for {fmt(out['between_share'] * 100, 0)}% of the variation in {lab} between the "
        f"{out['n']} LAs; the other {fmt(out['within_share'] * 100, 0)}% lies between LAs in the same region. "
        f"Regional averages run from {fmt(out['region_mean_min'], dp)}{u} ({out['region_min']}) to "
        f"{fmt(out['region_mean_max'], dp)}{u} ({out['region_max']}); the widest spread inside one region is "
        f"{fmt(out['widest_range'], dp)}{unit_diff(unit)} in {out['widest_region']}.")
    return out


def _sent(phrase: str) -> str:
    return phrase[:1].upper() + phrase[1:]


def spread(values: pd.Series, names: pd.Series, label: str, unit: str = "", dp: int | None = None, *,
           ratio: bool = True) -> dict:
    """Range across LAs with the highest and lowest LA, quartiles and a sentence.

    ``label`` is a noun phrase ("the share of ..."), ``unit`` as in :func:`unit_level`.
    """
    v = pd.Series(values.to_numpy(dtype="float64"), index=names.to_numpy()).dropna()
    if v.empty:
        return {"n": 0, "sentence": f"No LA has a value of {label}."}
    dp = dp_for(v) if dp is None else dp
    u = unit_level(unit)
    hi, lo = v.idxmax(), v.idxmin()
    d = {"n": len(v), "min": float(v.min()), "max": float(v.max()), "median": float(v.median()),
         "q1": float(v.quantile(0.25)), "q3": float(v.quantile(0.75)), "highest": str(hi), "lowest": str(lo),
         "dp": dp}
    d["ratio"] = d["max"] / d["min"] if d["min"] > 0 else np.nan
    times = (f", {fmt(d['ratio'])} times the lowest" if ratio and np.isfinite(d["ratio"]) and d["ratio"] >= 1.5
             and d["min"] >= 10 ** -dp else "")
    d["sentence"] = (f"{_sent(label)} ranges from {fmt(d['min'], dp)}{u} in {lo} to {fmt(d['max'], dp)}{u} in "
                     f"{hi}{times}; the middle half of the {d['n']} LAs lie between {fmt(d['q1'], dp)}{u} and "
                     f"{fmt(d['q3'], dp)}{u} (median {fmt(d['median'], dp)}{u}).")
    return d


# --------------------------------------------------------------------------- parts


@dataclass
class Part:
    """What one part of the series found: sentences by section, tables, numbers, models, chart data.

    ``data`` has one row per LA with the values the part's charts use; ``frames`` holds
    other chart data; ``measures`` lists the context measures used (for ``data_caveats``).
    """

    key: str
    title: str
    text: list[str] = field(default_factory=list)
    sections: dict[str, list[str]] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    numbers: dict[str, float] = field(default_factory=dict)
    models: dict[str, OLSResult] = field(default_factory=dict)
    data: pd.DataFrame = field(default_factory=pd.DataFrame)
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    measures: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)

    def say(self, section: str, *sentences: str) -> None:
        ss = [s for s in sentences if s]
        self.sections.setdefault(section, []).extend(ss)
        self.text.extend(ss)

    def markdown(self, section: str | None = None, *, bullets: bool = False) -> str:
        """The sentences of a section (or all), HTML-escaped, as Markdown."""
        return md(self.sections.get(section, []) if section else self.text, bullets=bullets)


class _Ind:
    """Indicator facts for one index year, looked up once per part."""

    def __init__(self, ed, year: str | None = None) -> None:
        self.t = indicator_years(ed, year).set_index("indicator")

    def phrase(self, i: str) -> str:
        return str(self.t.loc[i, "phrase"])

    def unit(self, i: str) -> str:
        return str(self.t.loc[i, "phrase_unit"])

    def short(self, i: str) -> str:
        return str(self.t.loc[i, "short_name"])

    def year(self, i: str) -> str:
        return str(self.t.loc[i, "data_year"])

    def england(self, i: str) -> float:
        return float(self.t.loc[i, "england"])

    def england_text(self, i: str, dp: int) -> str:
        e = self.england(i)
        return f"England {fmt(e, dp)}{unit_level(self.unit(i))}" if np.isfinite(e) else "no England figure"

    def axis(self, i: str) -> str:
        u = self.unit(i)
        return f"{self.short(i)} ({'%' if u == '%' else u})"


def _available(t: pd.DataFrame, indicator: str) -> bool:
    col = f"{indicator}_value"
    return col in t.columns and bool(t[col].notna().any())


def _unpublished_sentence(ind: _Ind, i: str, year: str) -> str:
    note = ind.t.loc[i, "note"] or "no LA values"
    return (f"{_sent(ind.phrase(i))}: {note} (index year {year_label(year)}), so it is left out of this year's "
            "figures.")


def _published(p: Part, ed, t: pd.DataFrame, ind: _Ind, area: str) -> tuple[list[str], list[str]]:
    """(all the area's indicators, those with LA values this year); says which are left out."""
    inds = area_indicators(ed, area)
    avail = [i for i in inds if _available(t, i)]
    for i in inds:
        if i not in avail:
            p.say("summary", _unpublished_sentence(ind, i, ed.final_year))
    return inds, avail


def _context_frame(t: pd.DataFrame, contexts: dict[str, ContextMeasure]) -> pd.DataFrame:
    d = t.copy()
    for col, c in contexts.items():
        d[col] = d["la_code"].map(c.values)
    return d


def _la_list(t: pd.DataFrame, col: str, label: str, *, ascending: bool, n: int = 10,
             extra: dict[str, str] | None = None) -> pd.DataFrame:
    cols = {"la_name": "Local authority", "region": "Region", col: label} | (extra or {})
    d = t.dropna(subset=[col]).sort_values([col, "la_name"], ascending=[ascending, True])
    return d[list(cols)].rename(columns=cols).head(n).reset_index(drop=True)


def _highlight_sentences(ed, code: str | None, t: pd.DataFrame, ind: _Ind, indicators: Sequence[str]) -> list[str]:
    if not code:
        return []
    r = t.set_index("la_code").loc[code]
    n = int(t["overall_rank"].notna().sum())
    if pd.notna(r.get("overall_rank")):
        head = (f"{r['la_name']} ({r['region']}) ranks "
                f"{rank_words(r['overall_rank'], r.get('overall_rank_lo'), r.get('overall_rank_hi'), n)}, with "
                f"an overall score of {fmt(r['overall_score'])}")
    else:
        head = f"{r['la_name']} ({r['region']}) has no overall score this year ({label_years(r.get('flags', ''))})"
    out = [head + "."]
    for i in indicators:
        v = r.get(f"{i}_value", np.nan)
        if pd.isna(v):
            out.append(f"{r['la_name']}: {ind.phrase(i)} is not available for {year_label(ind.year(i))}.")
            continue
        dp = dp_for(t[f"{i}_value"])
        out.append(f"{r['la_name']}: {ind.phrase(i)} is {fmt(v, dp)}{unit_level(ind.unit(i))} in "
                   f"{year_label(ind.year(i))} ({ind.england_text(i, dp)}).")
    return out


def _highlight(p: Part, ed, highlight: str | int | None, t: pd.DataFrame, ind: _Ind, indicators: Sequence[str]) -> str | None:
    code, warn = check_highlight(ed, highlight)
    p.say("highlight", warn, *_highlight_sentences(ed, code, t, ind, indicators))
    return code


RANKING_FRAME_COLUMNS = ["la_code", "la_name", "region", "overall_rank", "overall_rank_lo", "overall_rank_median",
                         "overall_rank_hi", "overall_score", "overall_adjusted_score", "overall_adjusted_rank"]


def ranking_frame(t: pd.DataFrame) -> pd.DataFrame:
    """The scored LAs, best first, with the numbers behind a ranking table (for charts and CSVs)."""
    scored = t[t["scored"].fillna(False).astype(bool)].sort_values(["overall_rank", "la_name"])
    cols = [c for c in RANKING_FRAME_COLUMNS if c in scored.columns]
    return scored[cols + [f"{a}_score" for a in AREAS if f"{a}_score" in scored]].reset_index(drop=True)


def _rank_cells(d: pd.DataFrame, target: str) -> list[str]:
    lo, hi = d.get(f"{target}_rank_lo"), d.get(f"{target}_rank_hi")
    return [rank_cell(r, a, b) for r, a, b in zip(
        d[f"{target}_rank"], lo if lo is not None else [None] * len(d), hi if hi is not None else [None] * len(d),
        strict=True)]


def _ranking_table(t: pd.DataFrame, *, adjusted: bool = False) -> pd.DataFrame:
    """Display table: rank with its range, LA, region, overall and area scores (and the
    context-adjusted score and rank beside them)."""
    f = ranking_frame(t)
    out = pd.DataFrame({rank_column(): _rank_cells(f, "overall"), "Local authority": f["la_name"],
                        "Region": f["region"], "Overall score": f["overall_score"]})
    for a in AREAS:
        if f"{a}_score" in f:
            out[AREA_NAMES[a]] = f[f"{a}_score"]
    if adjusted and "overall_adjusted_score" in f:
        out["Adjusted score"] = f["overall_adjusted_score"]
        out["Adjusted rank"] = f["overall_adjusted_rank"]
    return out.dropna(axis=1, how="all").reset_index(drop=True)


def _choice_phrases(settings: UncertaintySettings) -> dict[str, str]:
    """Plain words for each Monte Carlo choice, with its options from the settings."""
    w = settings.weights_half_width
    miss = settings.max_missing_indicators
    return {
        "weights": f"the weight of each indicator (multiplied by a random factor from {fmt(1 - w, 2)} to "
                   f"{fmt(1 + w, 2)})",
        "normalisation": "how values become scores (" + ", ".join(
            {"percentile": "percentile ranks", "zscore": "z-scores", "minmax": "min-max scaling"}.get(o, o)
            for o in settings.normalisations) + ")",
        "years": "which years make the headline (the final index year, or the mean of the edition's years)",
        "missing": "how many indicators an LA may miss and still be scored (" + ", ".join(
            str(m) for m in miss[:-1]) + (" or " if len(miss) > 1 else "") + str(miss[-1]) + ")",
        "sampling": "chance in the data (each value redrawn given the number of pupils behind it)",
        "all": "all of these together",
    }


def _places(x: float) -> str:
    return f"{fmt(x, 0)} place{'' if round(float(x)) == 1 else 's'}"


def _rank_certainty(p: Part, ed, t: pd.DataFrame) -> None:
    """Part 1's "How certain are these ranks?": rank ranges, their overlap with the top and
    bottom 10, and which method choice moves ranks most (uncertainty.sensitivity_table)."""
    settings = uncertainty_settings()
    s = t[t["scored"].fillna(False).astype(bool)]
    n = len(s)
    p.frames["rank_intervals"] = ranking_frame(t)
    if "overall_rank_lo" not in s or s["overall_rank_lo"].isna().all():
        p.say("certainty", "The Monte Carlo of rank uncertainty is switched off in data/registry/uncertainty.yml, "
              "so no rank ranges are shown: read every rank as uncertain.")
        return
    lo = s["overall_rank_lo"].astype("float64")
    hi = s["overall_rank_hi"].astype("float64")
    width = hi - lo
    names = s["la_name"]
    k = 10
    overlap_top = int((lo <= k).sum())
    overlap_bottom = int((hi > n - k).sum())
    sure_top = int((hi <= k).sum())
    p.numbers.update(rank_interval_median_width=float(width.median()), rank_interval_min_width=float(width.min()),
                     rank_interval_max_width=float(width.max()), overlap_top10=overlap_top,
                     overlap_bottom10=overlap_bottom, always_top10=sure_top, n_draws=settings.n_draws)
    narrow, wide = width.idxmin(), width.idxmax()
    best = s.sort_values(["overall_rank", "la_name"]).iloc[0]
    worst = s.sort_values(["overall_rank", "la_name"]).iloc[-1]
    p.say("certainty",
          f"A rank depends on choices made in building the index and on chance: each LA's figures rest on a "
          f"limited number of pupils. To see how much that matters, the index was recomputed {settings.n_draws} "
          "times, each time varying at random " + "; ".join(
              ("and " if k == len(CHOICES) - 1 else "") + _choice_phrases(settings)[c] for k, c in enumerate(CHOICES))
          + " (docs/UNCERTAINTY.md). An LA's " + range_label() + " is where its rank fell in the middle "
          f"{settings.interval:.0%} of those runs.",
          f"The typical LA's {range_label()} is {_places(width.median())} wide (median over {n} LAs); the "
          f"narrowest is {_places(width[narrow])} ({names[narrow]}), the widest {_places(width[wide])} "
          f"({names[wide]}).",
          f"{best['la_name']} ranks {rank_words(best['overall_rank'], best['overall_rank_lo'], best['overall_rank_hi'])}; "
          f"{worst['la_name']} ranks {rank_words(worst['overall_rank'], worst['overall_rank_lo'], worst['overall_rank_hi'])}.",
          f"{overlap_top} LAs' ranges overlap the top {k}, and {overlap_bottom} overlap the bottom {k}; "
          f"{sure_top} LA(s) stay in the top {k} across their whole range. LAs a few places apart should not be "
          "read as different.")
    sens = sensitivity_table(ed, settings)
    phrases = _choice_phrases(settings)
    p.tables["sensitivity"] = pd.DataFrame({
        "Choice varied": [_sent(phrases[c]) for c in sens["choice"]],
        "Runs": sens["runs"],
        "Average move (places)": sens["mean_abs_shift"],
        "Median move": sens["median_abs_shift"],
        "90th percentile move": sens["p90_abs_shift"],
        "Largest move": sens["max_abs_shift"],
        "Moves of 10+ places (% of LA-runs)": sens["share_moved_10plus"] * 100,
    })
    p.frames["sensitivity"] = sens
    one = sens[sens["choice"] != "all"].set_index("choice")
    most, least = one["mean_abs_shift"].idxmax(), one["mean_abs_shift"].idxmin()
    p.numbers.update(sensitivity_most=most, sensitivity_most_mean=float(one.loc[most, "mean_abs_shift"]))  # type: ignore[dict-item]
    least_text = (f"{phrases[least]} moves no LA in this edition" if one.loc[least, "mean_abs_shift"] == 0 else
                  f"{phrases[least]} moves them least ({fmt(one.loc[least, 'mean_abs_shift'])} places on average)")
    text = [f"Which choice moves ranks most? Varied on its own, {phrases[most]} moves an LA "
            f"{fmt(one.loc[most, 'mean_abs_shift'])} places on average, and in a typical run "
            f"{fmt(one.loc[most, 'share_moved_10plus'] * 100, 0)}% of LAs move 10 places or more; {least_text}."]
    if "all" in set(sens["choice"]):
        a = sens.set_index("choice").loc["all"]
        text.append(f"With everything varied together the average move is {fmt(a['mean_abs_shift'])} places, and "
                    f"{fmt(a['share_moved_10plus'] * 100, 0)}% of LA-runs move 10 places or more.")
    if len(ed.years) == 1:
        text.append("This edition has a single index year, so the choice of headline years changes nothing.")
    p.say("sensitivity", *text)


# --------------------------------------------------------------------------- funnels and adjustment


# How a cohort measure standing in for a missing denominator reads in a sentence (labels only).
COHORT_PHRASES: dict[str, str] = {
    "ks2dash_rwm_exp_ehcp": "pupils with an EHC plan at the end of KS2",
    "ks4raw_pupils_ehcp": "pupils with an EHC plan at the end of KS4",
    "ks4raw_p8_ehcp": "pupils with an EHC plan with a Progress 8 score",
    "ks4raw_pupils_all": "pupils at the end of KS4 (all pupils)",
    "sen2_ehcp_total": "EHC plans maintained by the LA",
}
_COHORT_SOURCE = re.compile(r"^cohort (\S+) (\d{6})")


def _level_key(level: float) -> str:
    return f"{level * 100:g}".replace(".", "")


def funnel_frames(p: Part) -> dict[str, pd.DataFrame]:
    """A part's funnel tables (uncertainty.funnel_data), by indicator."""
    return {k.removeprefix("funnel_"): f for k, f in p.frames.items() if k.startswith("funnel_")}


def _denominator_sentence(f: pd.DataFrame, spec) -> str:
    src = f["denominator_source"].astype(str)
    if src.eq("denominator in source").all():
        return "Denominators are the source's own counts."
    found = [m.groups() for m in (_COHORT_SOURCE.match(x) for x in src) if m]
    if not found:
        return "Denominators come from the source where given, otherwise from the settings' default cohort."
    measure = found[0][0]
    what = COHORT_PHRASES.get(measure, measure)
    if spec.cohort_multiplier != 1:
        what += f" × {spec.cohort_multiplier:g} (an assumed ratio, data/registry/uncertainty.yml)"
    data_year = str(f["data_year"].iloc[0])
    other = sorted({y for _, y in found if y != data_year})
    n_other = sum(1 for _, y in found if y != data_year)
    own = int(src.eq("denominator in source").sum())
    head = (f"No count is published with {'every' if own else 'the'} value, so the limits use cohort sizes"
            + (f" where it is missing ({len(f) - own} LAs)" if own else "") + f": {what}")
    others = ", ".join(year_label(y) for y in other)
    if not other:
        return f"{head}, {year_label(data_year)}."
    if n_other == len(found):
        return f"{head}, {others} (the nearest published year to {year_label(data_year)})."
    return f"{head}, {year_label(data_year)} (for {n_other} LAs the nearest published year, {others})."


def _funnel_sentences(f: pd.DataFrame, ind: _Ind, i: str, code: str | None, names: pd.Series) -> tuple[list[str], dict]:
    a = f.attrs
    levels = sorted(a["levels"])
    top = levels[-1]
    key = _level_key(top)
    n = len(f)
    dp = dp_for(f["value"])
    u = unit_level(ind.unit(i))
    outside = f[f[f"flag_{key}"] != "within"]
    more = int((outside[f"direction_{key}"] == "more inclusive").sum())
    less = int((outside[f"direction_{key}"] == "less inclusive").sum())
    expected = n * (1 - top)
    chance = "fewer than one" if expected < 1 else f"about {fmt(expected, 0)}"
    nums = {"n": n, "outside": len(outside), "more": more, "less": less, "phi": float(a["phi"]),
            "tau2": float(a["tau2"]), "od_outside": np.nan}
    out = [f"{_sent(ind.phrase(i))} ({year_label(f['data_year'].iloc[0])}): {len(outside)} of the {n} LAs lie "
           f"outside the {top:.1%} limits around England's figure pooled over these LAs "
           f"({fmt(a['target'], max(dp, dp_for(a['target'])))}{u}); {more} more and {less} less inclusive than "
           "England. Chance alone "
           f"would put {chance} there."]
    od_col = f"od_flag_{key}"
    if a["tau2"] > 0 and od_col in f:
        od = f[f[od_col] != "within"]
        nums["od_outside"] = len(od)
        listed = ""
        if 0 < len(od) <= 6:
            listed = ": " + "; ".join(f"{r.la_name} ({getattr(r, f'od_direction_{key}')})" for r in od.itertuples())
        out.append(f"But LAs vary {fmt(a['phi'], 1)} times as much as chance alone would make them (the "
                   "overdispersion φ; 1 = chance alone), so a point outside the solid limits is not by itself "
                   f"unusual. Allowing for that ordinary variation between LAs (dashed limits), {len(od)} LA(s) "
                   f"stand out{listed}.")
    else:
        out.append(f"The LAs vary about as much as chance alone would make them (overdispersion φ "
                   f"{fmt(a['phi'], 2)}, not more than chance allows), so the limits need no widening.")
    spec = uncertainty_settings().spec(i)
    out.append(_denominator_sentence(f, spec))
    if a["model"] == "normal":
        out.append(f"For a mean score the limits assume a pupil-level standard deviation of {fmt(a['pupil_sd'], 1)} "
                   "points, a national all-pupil figure (no figure is published for pupils with an EHC plan by "
                   "LA), so they are approximate.")
    if code:
        r = f[f["la_code"] == code]
        if len(r):
            r = r.iloc[0]
            where = r[f"flag_{key}"]
            state = (f"within the {top:.1%} limits" if where == "within" else
                     f"{where} the {top:.1%} limits ({r[f'direction_{key}']} than England)")
            od_state = ""
            if od_col in f and a["tau2"] > 0:
                w2 = r[od_col]
                od_state = ("; within the limits allowing for LA-to-LA variation" if w2 == "within" else
                            f"; {w2} even the limits allowing for LA-to-LA variation")
            out.append(f"{names.get(code, code)}: {fmt(r['value'], dp)}{u}, {state}{od_state}.")
    return out, nums


def _no_funnel_sentence(ind: _Ind, i: str) -> str:
    model = uncertainty_settings().spec(i).model
    if model == "rounding":
        why = ("it is derived from two percentages published to one decimal place, with no counts to set limits "
               "from")
    elif model == "none":
        why = "no count or cohort size is available for it"
    else:
        why = f"no LA has both a value and a denominator for {year_label(ind.year(i))}"
    return f"No funnel plot for {ind.phrase(i)}: {why}."


def _funnels(p: Part, ed, ind: _Ind, indicators: Sequence[str], code: str | None) -> None:
    """Funnel tables and sentences for the part's indicators (uncertainty.funnel_data)."""
    names = ed.geography.set_index("la_code")["la_name"]
    settings = uncertainty_settings()
    for i in indicators:
        try:
            f = funnel_data(ed, i, settings=settings)
        except UncertaintyError:
            p.say("funnels", _no_funnel_sentence(ind, i))
            continue
        p.frames[f"funnel_{i}"] = f
        p.labels[f"funnel_{i}"] = ind.axis(i)
        text, nums = _funnel_sentences(f, ind, i, code, names)
        p.say("funnels", *text)
        p.numbers.update({f"{i}_funnel_{k}": v for k, v in nums.items()})
    if any(k.startswith("funnel_") for k in p.frames):
        p.say("funnels", "A funnel plot sets each LA's figure against the number of pupils behind it: small LAs "
              "scatter more by chance, so the limits narrow as LAs get bigger. An LA outside them differs from "
              "England by more than chance; it does not say why.")


ADJUSTED_COLUMNS = ["Score", "Predictor", "Step", "Effect of one step", "95% CI low", "95% CI high", "p-value", "R²",
                    "LAs", "Breusch–Pagan p"]


def _adjusted(p: Part, ed, t: pd.DataFrame, target: str) -> None:
    """The target's context-adjusted score beside the raw one: model summary, top and bottom
    LAs by adjusted score, how far the two rankings agree, and the caveat."""
    res = adjustment_for(ed, ed.score_table_cached())
    what = "overall score" if target == "overall" else f"{AREA_NAMES[target].lower()} score"
    models = res.models.set_index("target")
    if target not in res.fits:
        why = models.loc[target, "note"] if target in models.index else "no model was fitted"
        p.say("adjusted", f"No context-adjusted {what}: {why}.")
        return
    fit = res.fits[target]
    ctx = res.scores
    labels = {"idaci": f"the IDACI average score ({iod_label(ed.method.deprivation_year)})",
              "log_ehcp_total": f"the number of EHC plans the LA maintains ({year_label(ed.final_year)})"}
    its = {"idaci": f"its IDACI average score ({iod_label(ed.method.deprivation_year)}, child deprivation)",
           "log_ehcp_total": f"the number of EHC plans it maintains ({year_label(ed.final_year)})"}
    coefs = fit.coefficients.set_index("term")
    rows, effects = [], []
    for term in fit.covariates:
        c = coefs.loc[term]
        if term == "log_ehcp_total":
            step, step_text = math.log(2), "doubling"
            lead = "where an LA maintains twice as many EHC plans"
        else:
            step = nice_step(float(ctx.loc[fit.expected.notna(), term].std()))
            step_text = f"+{fmt(step, _dp_for(step))}"
            lead = f"where {labels.get(term, term)} is {fmt(step, _dp_for(step))} higher"
        eff, lo, hi = c["coef"] * step, c["ci_lower"] * step, c["ci_upper"] * step
        effects.append(f"{lead}, the {what} is on average {effect_text(eff, lo, hi, ' points')}")
        rows.append({"Score": _sent(what), "Predictor": _sent(labels.get(term, term).removeprefix("the ")),
                     "Step": step_text, "Effect of one step": eff, "95% CI low": lo, "95% CI high": hi,
                     "p-value": c["p_value"], "R²": fit.r2, "LAs": fit.n, "Breusch–Pagan p": fit.bp_pvalue})
        p.numbers[f"{target}_adjustment_{term}_effect"] = float(eff)
    p.tables["adjusted_model"] = pd.DataFrame(rows, columns=ADJUSTED_COLUMNS)
    bp = fit.bp_pvalue
    bp_text = ("" if not np.isfinite(bp) else
               f" The Breusch–Pagan test gives p = {fmt(bp, 3)}: " + (
                   "the spread around the line changes with context, so the confidence intervals are approximate."
                   if bp < 0.05 else "no sign that the spread around the line changes with context."))
    held = " and ".join(its.get(c, c) for c in fit.covariates)
    sc, rk, adj, adj_rk = f"{target}_score", f"{target}_rank", f"{target}_adjusted_score", f"{target}_adjusted_rank"
    d = t[t[adj].notna()].copy()
    rho = float(d[sc].corr(d[adj], method="spearman")) if len(d) > 2 else float("nan")
    moved = int(((d[rk].astype("float64") - d[adj_rk].astype("float64")).abs() >= 20).sum())
    p.numbers.update({f"{target}_adjustment_r2": fit.r2, f"{target}_adjustment_n": fit.n,
                      f"{target}_adjustment_bp_p": bp, f"{target}_adjustment_spearman": rho,
                      f"{target}_adjustment_moved20": moved})
    d = d.sort_values([adj, "la_name"], ascending=[False, True])
    best, worst = d.iloc[0], d.iloc[-1]
    p.say("adjusted",
          f"Adjusted for context, each LA's {what} is compared with the score a straight line fitted across "
          f"{fit.n} LAs predicts from {held}. The adjusted score is the difference: 0 = as expected, positive = "
          "more inclusive than LAs in a similar position.",
          f"Across {fit.n} LAs, " + "; ".join(effects) + f". The model explains {fmt(fit.r2 * 100, 0)}% of "
          f"the variation in the {what} between LAs (R² {fmt(fit.r2, 2)}).{bp_text}",
          f"Adjusted for context, {best['la_name']} is furthest above expectation, {fmt(best[adj], sign=True)} "
          f"points; its unadjusted {what} ranks {rank_words(best[rk], best.get(f'{rk}_lo'), best.get(f'{rk}_hi'))}. "
          f"{worst['la_name']} is furthest below, {fmt(worst[adj], sign=True)} points.",
          f"Raw and adjusted {what}s rank LAs {'very similarly' if rho >= 0.9 else 'similarly' if rho >= 0.7 else 'differently'} "
          f"(rank correlation {fmt(rho, 2)}); {moved} LA(s) move 20 or more places. Adjusted ranks have no "
          "range of their own here: they are at least as uncertain as the raw ranks.",
          res.caveat)
    cols = {"la_name": "Local authority", "region": "Region", sc: _sent(what)}
    table = d[list(cols)].rename(columns=cols)
    table.insert(3, rank_column(), _rank_cells(d, target))
    table["Adjusted score"] = d[adj].to_numpy()
    table["Adjusted rank"] = d[adj_rk].to_numpy()
    p.tables["adjusted_top"] = table.head(10).reset_index(drop=True)
    p.tables["adjusted_bottom"] = table.tail(10).iloc[::-1].reset_index(drop=True)
    p.frames["adjusted"] = d[["la_code", "la_name", "region", sc, rk, f"{rk}_lo", f"{rk}_hi", adj, adj_rk]].reset_index(
        drop=True)


def introduction(ed, highlight: str | int | None = None) -> Part:
    """Part 1: what the index is, its indicators with sources and data years, the headline ranking."""
    p = Part("introduction", "The SEND inclusion index")
    t = la_table(ed)
    ind = _Ind(ed)
    iy = ind.t.reset_index()
    n_scored = int(t["scored"].sum())
    areas_n = iy.groupby("area").size().reindex(AREAS).fillna(0).astype(int)
    p.say("what", (
        f"The index ranks {n_scored} of England's {len(t)} local authorities (LAs) on how inclusive education is "
        f"for pupils with special educational needs and disabilities (SEND), using {len(iy)} indicators in "
        f"{len(AREAS)} areas: " + ", ".join(f"{AREA_NAMES[a].lower()} ({areas_n[a]})" for a in AREAS) + "."),
        (f"Each indicator becomes a percentile rank across LAs (0 = least, 100 = most inclusive), and an LA's "
         f"overall score is the mean of its available indicator scores, so each indicator counts equally. "
         f"Method: {ed.method.name}. Index years: {years_label(ed.years)}; the headline ranking is for "
         f"{year_label(ed.final_year)}."),
        ("An index year is named by its January school census; exclusions, KS2 and KS4 results come from the "
         "previous academic year, the latest published by the autumn of the index year."))
    missing = iy[iy["las_with_value"] == 0]
    if len(missing):
        p.say("what", f"Not published for {year_label(ed.final_year)}, and so left out of every score that "
              "year: " + "; ".join(f"{r.short_name} ({r.note or 'no LA values'})" for r in missing.itertuples())
              + ".")
    carried = iy[iy["note"].str.startswith("carried forward") & (iy["las_with_value"] > 0)]
    if len(carried):
        p.say("what", "Carried forward from an earlier year because the data year is not published: " + "; ".join(
            f"{r.short_name}: {r.note}" for r in carried.itertuples()) + ".")
    p.tables["indicators"] = pd.DataFrame({
        "Area": iy["area"].map(AREA_NAMES),
        "Indicator": iy["short_name"],
        "Unit": iy["unit"],
        "More inclusive when": np.where(iy["polarity"] < 0, "lower", "higher"),
        "Data year": iy["data_year"].map(year_label),
        "LAs with a value": iy["las_with_value"],
        "England": iy["england"],
        "Source": [short_citation(ids) or "not published" for ids in iy["source_ids"]],
    })
    ranking = _ranking_table(t)
    p.tables["top10"] = ranking.head(10)
    p.tables["bottom10"] = ranking.tail(10).reset_index(drop=True)
    scored = t[t["scored"]].sort_values(["overall_rank", "la_name"])
    sc = scored["overall_score"]
    p.numbers.update(n_las=len(t), n_scored=n_scored, score_min=float(sc.min()), score_max=float(sc.max()),
                     score_median=float(sc.median()), score_q1=float(sc.quantile(0.25)),
                     score_q3=float(sc.quantile(0.75)), n_indicators=len(iy),
                     n_indicators_available=int((iy["las_with_value"] > 0).sum()))
    top, bottom = scored.iloc[0], scored.iloc[-1]
    p.say("headline",
          f"{top['la_name']} ({top['region']}) has the highest overall score, {fmt(top['overall_score'])}, and ranks "
          f"{rank_words(top['overall_rank'], top.get('overall_rank_lo'), top.get('overall_rank_hi'))}; "
          f"{bottom['la_name']} ({bottom['region']}) has the lowest of {n_scored}, {fmt(bottom['overall_score'])}, "
          f"and ranks {rank_words(bottom['overall_rank'], bottom.get('overall_rank_lo'), bottom.get('overall_rank_hi'))}.",
          f"Overall scores run from {fmt(sc.min())} to {fmt(sc.max())}; half of the LAs score between "
          f"{fmt(p.numbers['score_q1'])} and {fmt(p.numbers['score_q3'])} (median {fmt(sc.median())}).",
          f"Every rank below comes with its {range_label()}: how far it moves when the method's choices and "
          "chance are varied (see \"How certain are these ranks?\").")
    _rank_certainty(p, ed, t)
    unscored = t[~t["scored"]]
    if len(unscored):
        p.say("headline", f"{len(unscored)} LA(s) have too few indicators to be scored: " + "; ".join(
            f"{r.la_name} ({label_years(r.flags)})" for r in unscored.itertuples()) + ".")
    for a in AREAS:
        p.labels[f"{a}_score"] = f"{AREA_NAMES[a]} score (0-100)"
    p.labels["overall_score"] = "Overall score (0-100, higher = more inclusive)"
    _highlight(p, ed, highlight, t, ind, [])
    p.data = t
    return p


def exclusions(ed, highlight: str | int | None = None) -> Part:
    """Part 2: exclusion rates of pupils with an EHC plan; regions; SEMH share and deprivation."""
    p = Part("exclusions", "Exclusions")
    t = la_table(ed)
    ind = _Ind(ed)
    inds, avail = _published(p, ed, t, ind, "exclusions")
    dep = deprivation(ed)
    semh = context_measure(ed, "sen2_semh_pct_ehcp")
    p.measures = [dep.measure, semh.measure]
    d = _context_frame(t, {"idaci": dep, "semh_pct": semh})
    p.data = d
    p.labels = {f"{i}_value": ind.axis(i) for i in inds} | {"idaci": dep.label,
                                                            "semh_pct": "EHC plans with SEMH as primary need (%)"}
    rows = []
    for i in avail:
        # no "x times the lowest": the lowest rates are often imputed small counts
        s = spread(t[f"{i}_value"], t["la_name"], ind.phrase(i), ind.unit(i), ratio=False)
        p.say("summary", f"{s['sentence']} Data year {year_label(ind.year(i))}; {ind.england_text(i, s['dp'])}.")
        rows.append({"Indicator": ind.short(i), "Data year": year_label(ind.year(i)), "England": ind.england(i),
                     "Lowest LA": s["lowest"], "Lowest": s["min"], "Median": s["median"],
                     "Highest LA": s["highest"], "Highest": s["max"], "LAs": s["n"]})
        p.numbers.update({f"{i}_min": s["min"], f"{i}_max": s["max"], f"{i}_median": s["median"]})
        if ind.t.loc[i, "note"]:
            p.say("summary", f"{ind.short(i)}: {ind.t.loc[i, 'note']}.")
    imputed = ed.values[(ed.values["index_year"] == ed.final_year) & ed.values["indicator"].isin(avail)
                        & ed.values["flag"].str.contains("imputed", regex=False)]
    if len(imputed):
        p.say("summary", f"{len(imputed)} LA values are small suppressed counts set to the midpoint of their "
              "possible range (flagged in the scores table), so the LAs with the fewest exclusions stay in.")
    p.tables["summary"] = pd.DataFrame(rows)
    p.say("context", dep.note, semh.note)
    if not avail:
        p.notes.append("No exclusion indicator is published for this index year.")
        p.say("summary", "With no exclusion rates for pupils with an EHC plan this year, the regional and context "
              "analyses of this part cannot be made.")
        _highlight(p, ed, highlight, t, ind, inds)
        return p
    main = avail[0]
    col = f"{main}_value"
    p.numbers["main_indicator"] = main  # type: ignore[assignment]
    p.tables["highest"] = _la_list(t, col, ind.axis(main), ascending=False)
    p.tables["lowest"] = _la_list(t, col, ind.axis(main), ascending=True)
    rv = region_variation(t, col, label=ind.phrase(main), unit=ind.unit(main))
    p.tables["regions"] = rv["table"]
    p.numbers["between_region_share"] = rv["between_share"]
    p.say("regions", rv["sentence"])
    labels = {col: ind.phrase(main), "idaci": "the " + dep.label,
              "semh_pct": "the share of EHC plans for social, emotional and mental health (SEMH) needs"}
    units = {col: ind.unit(main), "semh_pct": "%"}
    if dep.available:
        m = ols(d, col, "idaci", labels=labels, units=units)
        if m:
            p.models["idaci"] = m
            p.say("context", m.sentence())
            if dep.year != ind.year(main):
                p.say("context", f"Deprivation is from {iod_label(dep.year)}; the exclusion rates are for "
                      f"{year_label(ind.year(main))}.")
    if semh.available:
        m = ols(d, col, "semh_pct", labels=labels, units=units)
        if m:
            p.models["semh"] = m
            p.say("context", m.sentence())
            if semh.year != ind.year(main):
                p.say("context", f"The SEMH share is for {year_label(semh.year)}, the exclusion rates for "
                      f"{year_label(ind.year(main))}.")
        if dep.available:
            m2 = ols(d, col, ["semh_pct", "idaci"], labels=labels, units=units)
            if m2:
                p.models["semh_idaci"] = m2
                p.say("context", m2.sentence("semh_pct"))
    else:
        p.notes.append(semh.note)
        p.say("context", "So the relation between exclusions and the share of pupils with SEMH needs cannot be "
              "examined for this edition.")
    p.tables["models"] = models_table(p.models.values())
    _funnels(p, ed, ind, avail, check_highlight(ed, highlight)[0])
    _adjusted(p, ed, t, "exclusions")
    _highlight(p, ed, highlight, t, ind, inds)
    return p


def assessment(ed, highlight: str | int | None = None) -> Part:
    """Part 3: the EHC plan share of SEN pupils; its relation to deprivation and to EHCP outcomes."""
    p = Part("assessment", "Assessment")
    t = la_table(ed)
    ind = _Ind(ed)
    dep = deprivation(ed)
    ehcp_pct = context_measure(ed, "lait_ehcp_pct_pupils", year=ed.final_year)
    p.measures = [dep.measure, ehcp_pct.measure]
    d = _context_frame(t, {"idaci": dep, "ehcp_pct_pupils": ehcp_pct})
    p.data = d
    inds = area_indicators(ed, "assessment")
    a = inds[0] if inds else None
    if a is None or not _available(t, a):
        p.say("summary", _unpublished_sentence(ind, a, ed.final_year) if a else "The method has no assessment "
              "indicator.")
        _highlight(p, ed, highlight, t, ind, inds)
        return p
    col = f"{a}_value"
    p.labels = {col: ind.axis(a), "idaci": dep.label, "ehcp_pct_pupils": "Pupils with an EHC plan (% of all pupils)"}
    s = spread(t[col], t["la_name"], ind.phrase(a), "%", 1)
    p.numbers.update(share_min=s["min"], share_max=s["max"], share_median=s["median"], share_england=ind.england(a))
    p.say("summary", f"{s['sentence']} {ind.england_text(a, 1)} (January census {year_label(ind.year(a))}).",
          "A higher share scores as less inclusive: the original series used this indicator as a counterweight, "
          "because LAs that issue more plans tend to show better outcomes for a wider, abler EHC plan cohort.")
    if ehcp_pct.available:
        e = spread(d["ehcp_pct_pupils"], d["la_name"], "the share of all pupils with an EHC plan", "%", 1)
        p.say("summary", e["sentence"])
        p.numbers.update(ehcp_pct_min=e["min"], ehcp_pct_max=e["max"])
    extra = {"ehcp_pct_pupils": "Pupils with an EHC plan (% of all)"} if ehcp_pct.available else {}
    p.tables["highest"] = _la_list(d, col, ind.axis(a), ascending=False, extra=extra)
    p.tables["lowest"] = _la_list(d, col, ind.axis(a), ascending=True, extra=extra)
    rv = region_variation(t, col, label=ind.phrase(a), unit="%")
    p.tables["regions"] = rv["table"]
    p.numbers["between_region_share"] = rv["between_share"]
    p.say("regions", rv["sentence"])
    labels = {col: ind.phrase(a), "idaci": "the " + dep.label}
    units = {col: "%"}
    p.say("deprivation", dep.note)
    if dep.available:
        m = ols(d, col, "idaci", labels=labels, units=units)
        if m:
            p.models["deprivation"] = m
            p.say("deprivation", m.sentence())
    outcomes = [i for i in ("att_ks2_rwm_ehcp", "att_ks4_a8_ehcp", "att_ks4_p8_ehcp", "excl_fixed_ehcp",
                            "excl_perm_ehcp") if i in ind.t.index]
    rows = []
    for o in outcomes:
        if not _available(t, o):
            p.say("outcomes", _unpublished_sentence(ind, o, ed.final_year))
            continue
        lab = {f"{o}_value": ind.phrase(o), **labels}
        u = {f"{o}_value": ind.unit(o), **units}
        m = ols(d, f"{o}_value", col, labels=lab, units=u)
        if m is None:
            continue
        p.models[f"outcome_{o}"] = m
        p.say("outcomes", m.sentence())
        rows.append(m)
        p.labels[f"{o}_value"] = ind.axis(o)
        if dep.available:
            m2 = ols(d, f"{o}_value", [col, "idaci"], labels=lab, units=u)
            if m2:
                p.models[f"outcome_{o}_idaci"] = m2
                rows.append(m2)
    p.tables["outcomes"] = models_table(rows)
    p.tables["models"] = models_table(p.models.values())
    if rows:
        p.say("outcomes", "The outcomes are those the index uses for this index year (KS2, KS4 and exclusions "
              "from the previous academic year); in the table, rows with two predictors take deprivation into "
              "account.")
    _funnels(p, ed, ind, inds, check_highlight(ed, highlight)[0])
    _adjusted(p, ed, t, "assessment")
    _highlight(p, ed, highlight, t, ind, inds)
    return p


def placement(ed, highlight: str | int | None = None) -> Part:
    """Part 4: special and independent placement; special-school supply; deprivation; regions."""
    p = Part("placement", "Placement")
    t = la_table(ed)
    ind = _Ind(ed)
    all_inds, inds = _published(p, ed, t, ind, "placement")
    dep = deprivation(ed)
    schools = context_measure(ed, "ofsted_state_special_schools")
    plans = context_measure(ed, "sen2_ehcp_total", year=schools.year if schools.available else ed.final_year)
    supply = ratio_measure(schools, plans, 1000.0, "State-funded special schools per 1,000 EHC plans",
                           "per 1,000 plans", names=dict(zip(t["la_code"], t["la_name"], strict=True)))
    p.measures = [dep.measure, schools.measure, plans.measure]
    d = _context_frame(t, {"idaci": dep, "special_schools": schools, "ehc_plans": plans,
                           "schools_per_1000_plans": supply})
    p.data = d
    p.labels = {f"{i}_value": ind.axis(i) for i in all_inds} | {
        "idaci": dep.label, "schools_per_1000_plans": "State-funded special schools per 1,000 EHC plans"}
    rows = []
    for i in inds:
        s = spread(t[f"{i}_value"], t["la_name"], ind.phrase(i), "%", 1)
        p.say("summary", f"{s['sentence']} {ind.england_text(i, 1)} ({year_label(ind.year(i))}).")
        rows.append({"Indicator": ind.short(i), "Data year": year_label(ind.year(i)), "England": ind.england(i),
                     "Lowest LA": s["lowest"], "Lowest": s["min"], "Median": s["median"],
                     "Highest LA": s["highest"], "Highest": s["max"], "LAs": s["n"]})
        p.numbers.update({f"{i}_min": s["min"], f"{i}_max": s["max"], f"{i}_median": s["median"]})
        p.tables[f"highest_{i}"] = _la_list(t, f"{i}_value", ind.axis(i), ascending=False)
    p.tables["summary"] = pd.DataFrame(rows)
    labels = {f"{i}_value": ind.phrase(i) for i in inds} | {
        "idaci": "the " + dep.label,
        "schools_per_1000_plans": "the number of state-funded special schools per 1,000 EHC plans"}
    units = {f"{i}_value": "%" for i in inds}
    p.say("supply", schools.note, plans.note, supply.note if supply.available else "")
    if supply.available:
        s = spread(d["schools_per_1000_plans"], d["la_name"], "special-school supply", "per 1,000 EHC plans", 1)
        p.say("supply", s["sentence"] + " Ofsted counts only schools that have been graded, so new schools may be "
              "missing.")
        p.numbers.update(supply_min=s["min"], supply_max=s["max"], supply_median=s["median"])
        if schools.year != ed.final_year:
            p.say("supply", f"Special-school counts are for {year_label(schools.year)}, the latest in the data "
                  f"within this edition; the placement shares are for {year_label(ed.final_year)}.")
    else:
        p.notes.append(supply.note)
        p.say("supply", "The relation between placement and the supply of special schools cannot be examined "
              "for this edition.")
    p.say("deprivation", dep.note)
    for i in inds:
        y = f"{i}_value"
        if supply.available:
            m = ols(d, y, "schools_per_1000_plans", labels=labels, units=units)
            if m:
                p.models[f"{i}_supply"] = m
                p.say("supply", m.sentence())
        if dep.available:
            m = ols(d, y, "idaci", labels=labels, units=units)
            if m:
                p.models[f"{i}_idaci"] = m
                p.say("deprivation", m.sentence())
        if supply.available and dep.available:
            m = ols(d, y, ["schools_per_1000_plans", "idaci"], labels=labels, units=units)
            if m:
                p.models[f"{i}_supply_idaci"] = m
    p.tables["models"] = models_table(p.models.values())
    reg_rows = []
    for i in inds:
        rv = region_variation(t, f"{i}_value", label=ind.phrase(i), unit="%")
        p.tables[f"regions_{i}"] = rv["table"]
        p.say("regions", rv["sentence"])
        p.numbers[f"{i}_between_region_share"] = rv["between_share"]
        reg_rows.append({"Indicator": ind.short(i), "Between regions (%)": rv["between_share"] * 100,
                         "Within regions (%)": rv["within_share"] * 100, "F": rv["f"], "p-value": rv["p_value"],
                         "Lowest regional mean (%)": rv.get("region_mean_min"),
                         "Highest regional mean (%)": rv.get("region_mean_max"), "LAs": rv["n"]})
    p.tables["consistency"] = pd.DataFrame(reg_rows)
    if reg_rows:
        within = [r["Within regions (%)"] for r in reg_rows]
        p.say("regions", f"Between {fmt(min(within), 0)}% and {fmt(max(within), 0)}% of the variation in placement "
              "lies between LAs of the same region: placement decisions differ more from LA to LA than from "
              "region to region." if min(within) > 50 else "A large part of the variation in placement follows "
              "regional lines.")
    _funnels(p, ed, ind, inds, check_highlight(ed, highlight)[0])
    _adjusted(p, ed, t, "placement")
    _highlight(p, ed, highlight, t, ind, all_inds)
    return p


def attainment(ed, highlight: str | int | None = None) -> Part:
    """Part 5: KS2/KS4 attainment and progress vs EHC plan cohort size and deprivation; NEET."""
    p = Part("attainment", "Attainment")
    t = la_table(ed)
    ind = _Ind(ed)
    inds, avail = _published(p, ed, t, ind, "attainment")
    dep = deprivation(ed)
    ks = [i for i in avail if i.startswith(("att_ks2", "att_ks4"))]
    data_year = ind.year(ks[0]) if ks else ed.final_year
    cohort = context_measure(ed, "lait_ehcp_pct_pupils", year=data_year)
    ks4_year = ind.year("att_ks4_a8_ehcp") if "att_ks4_a8_ehcp" in ind.t.index else data_year
    ks4_e = context_measure(ed, "ks4raw_pupils_ehcp", year=ks4_year)
    ks4_all = context_measure(ed, "ks4raw_pupils_all", year=ks4_year)
    ks4_share = ratio_measure(ks4_e, ks4_all, 100.0, "Pupils with an EHC plan as % of the KS4 cohort", "%",
                              names=dict(zip(t["la_code"], t["la_name"], strict=True)))
    p.measures = [dep.measure, cohort.measure, ks4_e.measure, ks4_all.measure]
    d = _context_frame(t, {"idaci": dep, "ehcp_pct_pupils": cohort, "ks4_ehcp_pupils": ks4_e,
                           "ks4_ehcp_share": ks4_share})
    p.data = d
    p.labels = {f"{i}_value": ind.axis(i) for i in inds} | {
        "idaci": dep.label, "ehcp_pct_pupils": f"Pupils with an EHC plan, % of all pupils ({year_label(data_year)})",
        "ks4_ehcp_share": "Pupils with an EHC plan, % of the KS4 cohort"}
    rows = []
    for i in avail:
        v = t[f"{i}_value"]
        rows.append({"Indicator": ind.short(i), "Unit": ind.unit(i), "Data year": year_label(ind.year(i)),
                     "England": ind.england(i), "Lowest": v.min(), "Median": v.median(), "Highest": v.max(),
                     "LAs": int(v.notna().sum()), "Note": ind.t.loc[i, "note"]})
    p.tables["summary"] = pd.DataFrame(rows)
    for i in ks:
        s = spread(t[f"{i}_value"], t["la_name"], ind.phrase(i), ind.unit(i))
        p.say("summary", f"{s['sentence']} {ind.england_text(i, s['dp'])} ({year_label(ind.year(i))}).")
        p.numbers.update({f"{i}_min": s["min"], f"{i}_max": s["max"], f"{i}_median": s["median"]})
    p.say("cohort", f"EHC plan cohort size is measured as the share of pupils with an EHC plan in the January census "
          f"of the exam year ({year_label(data_year)}); deprivation as the {dep.label}.", cohort.note, dep.note)
    if ks4_share.available:
        p.say("cohort", ks4_share.note)
    else:
        p.say("cohort", f"KS4 cohort counts by SEN are not in the data for {year_label(ks4_year)}, so the KS4 models "
              "use the census share only.")
    labels = {f"{i}_value": ind.phrase(i) for i in avail} | {
        "ehcp_pct_pupils": "the share of pupils with an EHC plan", "idaci": "the " + dep.label,
        "ks4_ehcp_share": "the EHC plan share of the KS4 cohort"}
    units = {f"{i}_value": ind.unit(i) for i in avail} | {"ehcp_pct_pupils": "%", "ks4_ehcp_share": "%"}
    xs = [c for c, ctx in (("ehcp_pct_pupils", cohort), ("idaci", dep)) if ctx.available]
    for i in ks:
        if not xs:
            break
        m = ols(d, f"{i}_value", xs, labels=labels, units=units)
        if m:
            p.models[i] = m
            p.say("models", *(m.sentence(x) for x in xs))
        if i.startswith("att_ks4") and ks4_share.available:
            xs4 = ["ks4_ehcp_share"] + (["idaci"] if dep.available else [])
            m4 = ols(d, f"{i}_value", xs4, labels=labels, units=units)
            if m4:
                p.models[f"{i}_ks4share"] = m4
                p.say("models", m4.sentence("ks4_ehcp_share"))
    for i in [i for i in avail if "neet" in i]:
        s = spread(t[f"{i}_value"], t["la_name"], ind.phrase(i), "%", 1)
        p.say("neet", f"{s['sentence']} {ind.england_text(i, 1)} ({year_label(ind.year(i))}).")
        if ind.t.loc[i, "measure"] == "lait_neet_all_pct":
            p.say("neet", "This NEET measure covers all young people, not only those with SEND: a SEND-specific "
                  "figure by LA is published only from 2022.")
        p.numbers.update({f"{i}_min": s["min"], f"{i}_max": s["max"]})
        if dep.available:
            m = ols(d, f"{i}_value", "idaci", labels=labels, units=units)
            if m:
                p.models[i] = m
                p.say("neet", m.sentence())
    p.tables["models"] = models_table(p.models.values())
    _funnels(p, ed, ind, avail, check_highlight(ed, highlight)[0])
    _adjusted(p, ed, t, "attainment")
    _highlight(p, ed, highlight, t, ind, inds)
    return p


def improvement_frame(ed, t: pd.DataFrame | None = None) -> pd.DataFrame:
    """ed.improvement per LA with its name, region, the change's Monte Carlo range
    (``change_lo``, ``change_hi``) and ``significant`` (a rise beyond uncertainty), ordered by
    change; empty for a single-year edition."""
    imp = ed.improvement
    if imp is None or imp.empty:
        return pd.DataFrame()
    t = la_table(ed) if t is None else t
    ext = t.set_index("la_code")
    i = imp.reset_index().merge(ed.geography[["la_code", "la_name", "region"]], on="la_code", how="left")
    i = i.dropna(subset=["change"]).sort_values(["improvement_rank", "score_late"], ascending=[True, False])
    for col, src in (("change_lo", "overall_change_lo"), ("change_hi", "overall_change_hi")):
        i[col] = i["la_code"].map(ext[src]).astype("float64") if src in ext else np.nan
    if "improvement_significant" in ext:
        i["significant"] = i["la_code"].map(ext["improvement_significant"]).astype("boolean").fillna(False).astype(bool)
    else:
        i["significant"] = False
    i["declined_significant"] = i["change_hi"] < 0
    i.attrs.update(imp.attrs)
    return i.reset_index(drop=True)


def conclusions(ed, highlight: str | int | None = None) -> Part:
    """Part 6: overall ranking with rank ranges and adjusted ranks, regional summary, most
    improved with the change's range and which rises exceed their uncertainty, limits."""
    p = Part("conclusions", "Conclusions")
    t = la_table(ed)
    ind = _Ind(ed)
    settings = uncertainty_settings()
    p.data = t
    p.labels = {"overall_score": "Overall score (0-100, higher = more inclusive)"}
    p.tables["ranking"] = _ranking_table(t, adjusted=True)
    p.frames["ranking"] = ranking_frame(t)
    scored = t[t["scored"]].sort_values(["overall_rank", "la_name"])
    reg = ed.regional().reset_index().sort_values("overall_score", ascending=False).reset_index(drop=True)
    p.tables["regions"] = reg
    top, bot = reg.iloc[0], reg.iloc[-1]
    p.numbers.update(region_top_score=float(top["overall_score"]), region_bottom_score=float(bot["overall_score"]),
                     top_score=float(scored["overall_score"].iloc[0]),
                     bottom_score=float(scored["overall_score"].iloc[-1]))
    first, last = scored.iloc[0], scored.iloc[-1]
    n = len(scored)
    p.say("ranking", f"{first['la_name']} has the highest score of {n} LAs in {year_label(ed.final_year)}, "
          f"{fmt(first['overall_score'])}, and ranks {rank_words(1, first.get('overall_rank_lo'), first.get('overall_rank_hi'))}; "
          f"{last['la_name']} has the lowest, {fmt(last['overall_score'])}, and ranks "
          f"{rank_words(last['overall_rank'], last.get('overall_rank_lo'), last.get('overall_rank_hi'))}.")
    if "overall_rank_lo" in scored and scored["overall_rank_lo"].notna().any():
        width = (scored["overall_rank_hi"] - scored["overall_rank_lo"]).astype("float64")
        p.numbers["rank_interval_median_width"] = float(width.median())
        p.say("ranking", f"Ranks carry uncertainty: the table gives each LA's {range_label()} over "
              f"{settings.n_draws} runs that vary the method's choices and redraw the data (median width "
              f"{fmt(width.median(), 0)} places), and, beside the index, its score and rank adjusted for "
              "deprivation and the number of EHC plans (0 = as expected for its context).")
    _adjusted(p, ed, t, "overall")
    p.say("regions", f"By region (the unweighted mean of its LAs' scores), {top['region']} scores highest "
          f"({fmt(top['overall_score'])}) and {bot['region']} lowest ({fmt(bot['overall_score'])}).")
    rv = region_variation(t, "overall_score", label="the overall score")
    p.numbers["between_region_share"] = rv["between_share"]
    p.say("regions", rv["sentence"])
    i = improvement_frame(ed, t)
    if i.empty:
        p.say("improved", f"This edition has a single index year ({year_label(ed.final_year)}), so there is no "
              "most-improved comparison.")
    else:
        compared = list(i.attrs.get("indicators_compared", []))
        p.frames["improvement"] = i
        e, f = year_label(ed.first_year), year_label(ed.final_year)
        rl = range_label()
        tab = pd.DataFrame({
            "Local authority": i["la_name"], "Region": i["region"], f"Score {e}": i["score_early"],
            f"Score {f}": i["score_late"], "Change": i["change"],
            f"Change ({rl})": [change_range(a, b) for a, b in zip(i["change_lo"], i["change_hi"], strict=True)],
            "Improved beyond uncertainty": np.where(i["significant"], "yes", ""),
            "Fell beyond uncertainty": np.where(i["declined_significant"], "yes", ""),
            "Places moved": i["rank_change"],
        })
        p.tables["improved"] = tab.drop(columns="Fell beyond uncertainty").head(10).reset_index(drop=True)
        p.tables["declined"] = tab.drop(columns="Improved beyond uncertainty").tail(10).iloc[::-1].reset_index(drop=True)
        sig = i[i["significant"]]
        p.tables["significant"] = tab.loc[i["significant"].to_numpy()].drop(
            columns=["Improved beyond uncertainty", "Fell beyond uncertainty"]).reset_index(drop=True)
        top_i = i.iloc[0]
        k, m = int(i["significant"].sum()), int(i["declined_significant"].sum())
        p.numbers.update(improved_change=float(top_i["change"]), n_compared=len(compared), n_changed=len(i),
                         n_improved_significant=k, n_declined_significant=m)
        beyond = (f"; the whole {rl} is above zero, so the rise exceeds its uncertainty" if top_i["significant"]
                  else f"; the {rl} includes no change, so the rise is within its uncertainty")
        p.say("improved",
              f"Most improved compares {e} with {f} over the {len(compared)} indicators published in both years "
              f"({', '.join(ind.short(c) for c in compared)}), re-scoring both years on those indicators only.",
              f"{top_i['la_name']} rose most, from {fmt(top_i['score_early'])} to {fmt(top_i['score_late'])} "
              f"({fmt(top_i['change'], sign=True)} points, {rl} {change_range(top_i['change_lo'], top_i['change_hi'])}"
              f"){beyond if pd.notna(top_i['change_lo']) else ''}.",
              f"{k} of the {len(i)} LAs compared improved beyond uncertainty: the {rl} of their change, over "
              f"{settings.n_draws} runs that vary the method's choices and redraw the data (the same run applied to "
              f"both years), lies above zero. {m} fell beyond uncertainty; for the other {len(i) - k - m} the change "
              "is within its uncertainty.")
        if k and not top_i["significant"]:
            b = sig.iloc[0]
            p.say("improved", f"Of the LAs that improved beyond uncertainty, {b['la_name']} rose most "
                  f"({fmt(b['change'], sign=True)} points, {rl} {change_range(b['change_lo'], b['change_hi'])}).")
        p.say("improved", "Because scores are percentile ranks, a rise means overtaking other LAs on these "
              "indicators, not necessarily better outcomes in absolute terms.")
        left_out = [c for c in ind.t.index if c not in compared]
        if left_out:
            p.say("improved", "Left out of the comparison because they are missing in one of the two years: "
                  + ", ".join(ind.short(c) for c in left_out) + ".")
    p.say("limits", *LIMITS)
    unpub = ind.t[ind.t["las_with_value"] == 0]
    if len(unpub):
        p.say("limits", f"In {year_label(ed.final_year)} the index rests on {len(ind.t) - len(unpub)} of its "
              f"{len(ind.t)} indicators: {', '.join(unpub['short_name'])} "
              f"{'is' if len(unpub) == 1 else 'are'} not published for the data year.")
    for y in ed.years:
        p.notes.extend(f"{year_label(y)}: {n}" for n in ed.scored[y].notes)
    code = _highlight(p, ed, highlight, t, ind, [])
    if code and not i.empty and code in set(i["la_code"]):
        r = i.set_index("la_code").loc[code]
        verdict = ("a rise beyond uncertainty" if r["significant"] else "a fall beyond uncertainty"
                   if r["declined_significant"] else "within its uncertainty")
        p.say("highlight", f"{la_name(ed, code)} moved {fmt(r['change'], sign=True)} points between "
              f"{year_label(ed.first_year)} and {year_label(ed.final_year)} ({range_label()} "
              f"{change_range(r['change_lo'], r['change_hi'])}: {verdict}).")
    return p


PARTS = {"introduction": introduction, "exclusions": exclusions, "assessment": assessment,
         "placement": placement, "attainment": attainment, "conclusions": conclusions}


# --------------------------------------------------------------------------- caveats and findings


CAVEAT_TABLES = {
    "sources": "Sources and the years used",
    "substitutions": "Gaps and substitutions by index year",
    "suppression": "Values missing in the source (suppressed or not published)",
    "small_cohorts": "Small cohorts",
}


def data_caveats(ed, measures: Sequence[str] = (), *, small_cohort: int = 30) -> dict:
    """Sources with years, substitutions and gaps, suppression counts and small-cohort LAs.

    ``measures`` adds context measures (a part's ``measures``) to the source list. Returns a
    dict of DataFrames (``sources``, ``substitutions``, ``suppression``, ``small_cohorts``)
    and ``text`` (sentences).
    """
    reg = load_registry()
    ind = _Ind(ed)
    used: dict[str, set[str]] = {}
    years: dict[str, set[str]] = {}
    v = ed.values
    for y in ed.years:
        for i in ind.t.index:
            dy = v.loc[(v["indicator"] == i) & (v["index_year"] == y), "data_year"]
            for sid in indicator_source_ids(ed, i, y):
                used.setdefault(sid, set()).add(ind.short(i))
                years.setdefault(sid, set()).update(dy.dropna())
    lg = ed.long
    for m in dict.fromkeys(measures):
        sub = lg[(lg["measure"] == m) & (lg["level"] == "la")]
        for sid, g in sub.groupby("source"):
            used.setdefault(source_id(sid), set()).add(CONTEXT_LABELS.get(m, (m, ""))[0] + " (context)")
            years.setdefault(source_id(sid), set()).update(g["year"])
    rows = []
    for sid in sorted(used):
        row = {"Source": sid, "Release": "", "Dataset": "", "Years used": ", ".join(
            year_label(y) for y in sorted(years[sid])), "Used for": "; ".join(sorted(used[sid])), "File": "",
            "Licence": "", "Derived table": ""}
        try:
            s = reg[sid]
            row.update({"Source": s.publication, "Release": s.release, "Dataset": s.dataset, "File": s.path,
                        "Licence": s.licence, "Derived table": "yes" if s.derived else "no"})
        except KeyError:
            pass
        rows.append(row)
    sources = pd.DataFrame(rows)
    sub = ed.substitutions()
    gaps = sub[(sub["edition_note"] != "") | (sub["las_with_value"] < sub["las"])].copy()
    gaps = pd.DataFrame({
        "Index year": gaps["index_year"].map(year_label),
        "Indicator": gaps["indicator"].map(ind.short),
        "Data year": gaps["data_year"].map(year_label),
        "Measure": gaps["measure"],
        "LAs without a value": gaps["las"] - gaps["las_with_value"],
        "Note": gaps["edition_note"].map(label_years),
    }).reset_index(drop=True)
    miss = v[v["value"].isna() & v["flag"].str.contains("missing: ", regex=False)].copy()
    miss["reason"] = miss["flag"].str.extract(r"missing: ([^;]+)")[0].str.strip()
    supp = miss.groupby(["index_year", "indicator", "reason"]).size().rename("LAs").reset_index()
    supp = pd.DataFrame({"Index year": supp["index_year"].map(year_label), "Indicator": supp["indicator"].map(ind.short),
                         "Reason": supp["reason"], "LAs": supp["LAs"]})
    imp = v[v["flag"].str.contains("imputed", regex=False)]
    small = _small_cohorts(ed, ind, small_cohort)
    text = [
        f"Sources: {len(sources)} files, listed below with the years used.",
        f"{len(gaps)} indicator-year cells have a gap or substitution (an indicator not published for its data "
        "year, carried forward from an earlier year, or missing for some LAs).",
        f"{int(supp['LAs'].sum()) if len(supp) else 0} LA values across the edition's years are missing because "
        "the source suppresses or does not publish them; they are never treated as zero.",
    ]
    if len(imp):
        text.append(f"{len(imp)} LA values across the edition's years are small suppressed counts set to the "
                    "midpoint of their possible range (flagged 'imputed').")
    text.append(small.attrs.get("sentence", ""))
    moved = v[(v["index_year"] == ed.final_year) & v["flag"].str.contains("predecessor", regex=False)]
    if len(moved):
        text.append(f"{moved['la_code'].nunique()} LA(s) take values from predecessor authorities across a boundary "
                    "change in some indicators (flagged in the scores table).")
    return {"sources": sources, "substitutions": gaps, "suppression": supp, "small_cohorts": small,
            "text": [s for s in text if s]}


def _small_cohorts(ed, ind: _Ind, threshold: int) -> pd.DataFrame:
    """LAs whose KS4 EHC plan cohort is under ``threshold`` pupils, or (no KS4 counts) the fewest plans."""
    ks4_year = ind.year("att_ks4_a8_ehcp") if "att_ks4_a8_ehcp" in ind.t.index else ed.final_year
    c = context_measure(ed, "ks4raw_pupils_ehcp", year=ks4_year)
    names = ed.geography.set_index("la_code")["la_name"]
    if c.available:
        small = c.values[c.values < threshold].sort_values()
        out = pd.DataFrame({"Local authority": names.reindex(small.index).to_numpy(),
                            "KS4 pupils with an EHC plan": small.to_numpy()})
        out.attrs["sentence"] = (
            f"{len(out)} LA(s) had fewer than {threshold} pupils with an EHC plan at the end of KS4 in "
            f"{year_label(c.year)}; their KS4 averages move a lot with a few pupils.")
        return out
    plans = context_measure(ed, "sen2_ehcp_total", year=ed.final_year)
    if not plans.available:
        out = pd.DataFrame(columns=["Local authority"])
        out.attrs["sentence"] = "No cohort counts are in the data for this edition's years."
        return out
    few = plans.values.dropna().sort_values().head(10)
    out = pd.DataFrame({"Local authority": names.reindex(few.index).to_numpy(), "EHC plans": few.to_numpy()})
    out.attrs["sentence"] = (
        f"KS4 cohort counts by SEN are not in the data for {year_label(ks4_year)}; the table lists the 10 LAs with the "
        f"fewest EHC plans in {year_label(ed.final_year)}, whose rates and averages rest on the fewest pupils.")
    return out


def findings(ed) -> list[dict]:
    """Short quotable sentences for findings.md: dicts of text, number, years and source."""
    out: list[dict] = []
    t = la_table(ed)
    ind = _Ind(ed)
    scored = t[t["scored"]].sort_values(["overall_rank", "la_name"])
    all_ids = sorted({sid for ids in ind.t["source_ids"] for sid in ids})
    index_src = f"SEND inclusion index ({ed.method.name}) from {short_citation(all_ids)}"
    yl = year_label(ed.final_year)

    def add(text: str, number: float, years: str, source: str) -> None:
        out.append({"text": text, "number": float(number), "years": years, "source": source})

    top, bot = scored.iloc[0], scored.iloc[-1]
    settings = uncertainty_settings()
    rl = range_label()
    mc_src = f"{index_src}; rank ranges from {settings.n_draws} Monte Carlo runs (docs/UNCERTAINTY.md)"
    add(f"{top['la_name']} has the highest overall score of {len(scored)} LAs on the SEND inclusion index in {yl}, "
        f"{fmt(top['overall_score'])} out of 100, and ranks "
        f"{rank_words(top['overall_rank'], top.get('overall_rank_lo'), top.get('overall_rank_hi'))}.",
        top["overall_score"], yl, mc_src)
    add(f"{bot['la_name']} has the lowest overall score of {len(scored)} LAs in {yl}, {fmt(bot['overall_score'])}, "
        f"and ranks {rank_words(bot['overall_rank'], bot.get('overall_rank_lo'), bot.get('overall_rank_hi'))}.",
        bot["overall_score"], yl, mc_src)
    if "overall_rank_lo" in scored and scored["overall_rank_lo"].notna().any():
        width = (scored["overall_rank_hi"] - scored["overall_rank_lo"]).astype("float64")
        overlap = int((scored["overall_rank_lo"] <= 10).sum())
        add(f"Ranks on the index are uncertain: the typical LA's {rl} spans {fmt(width.median(), 0)} places when "
            f"the method's choices and chance are varied ({settings.n_draws} runs, {yl}), and {overlap} LAs' ranges "
            "overlap the top 10.", width.median(), yl, mc_src)
    reg = ed.regional().sort_values("overall_score", ascending=False)
    add(f"{reg.index[0]} has the highest average overall score of the {len(reg)} regions in {yl} "
        f"({fmt(reg['overall_score'].iloc[0])}); {reg.index[-1]} has the lowest ({fmt(reg['overall_score'].iloc[-1])}).",
        reg["overall_score"].iloc[0], yl, index_src)
    imp = improvement_frame(ed, t)
    if len(imp):
        r = imp.iloc[0]
        yrs = f"{year_label(ed.first_year)} to {yl}"
        verdict = ("beyond uncertainty" if r["significant"] else "though within uncertainty")
        add(f"{r['la_name']} is the most improved LA from {yrs}, up {fmt(r['change'])} points over the "
            f"{int(r['indicators_compared'])} indicators published in both years ({rl} "
            f"{change_range(r['change_lo'], r['change_hi'])}, {verdict}).", r["change"], yrs, mc_src)
        k = int(imp["significant"].sum())
        add(f"{k} of the {len(imp)} LAs compared improved beyond uncertainty from {yrs}: the {rl} of their change "
            f"in overall score, over {settings.n_draws} Monte Carlo runs, lies above zero.", k, yrs, mc_src)
    for i in ("excl_fixed_ehcp", "assess_ehcp_share", "place_indep_nmss", "att_ks4_a8_ehcp"):
        if i not in ind.t.index or not _available(t, i):
            continue
        s = spread(t[f"{i}_value"], t["la_name"], ind.phrase(i), ind.unit(i))
        eng = ind.england(i)
        e = f"; {ind.england_text(i, s['dp'])}" if np.isfinite(eng) else ""
        add(f"Across LAs, {ind.phrase(i)} ranges from {fmt(s['min'], s['dp'])}{unit_level(ind.unit(i))} in "
            f"{s['lowest']} to {fmt(s['max'], s['dp'])}{unit_level(ind.unit(i))} in {s['highest']} "
            f"({year_label(ind.year(i))}{e}).", s["max"], year_label(ind.year(i)),
            short_citation(ind.t.loc[i, "source_ids"]))
    pl = placement(ed)
    for key in ("place_state_special_supply", "place_state_special_idaci"):
        m = pl.models.get(key)
        if m:
            ctx = [sid for c in pl.measures for sid in context_measure(ed, c).source_ids]
            add(m.sentence(), m.term(m.x[0])["per_step"], yl,
                short_citation([*ind.t.loc["place_state_special", "source_ids"], *ctx]))
    share = pl.numbers.get("place_state_special_between_region_share")
    if share is not None and np.isfinite(share):
        add(f"Regions account for {fmt(share * 100, 0)}% of the variation between LAs in the share of EHC plans in "
            f"state-funded special schools ({yl}); the rest lies between LAs of the same region.", share * 100, yl,
            short_citation(ind.t.loc["place_state_special", "source_ids"]))
    res = adjustment_for(ed, ed.score_table_cached())
    fit = res.fits.get("overall")
    if fit is not None and "idaci" in fit.covariates:
        c = fit.coefficients.set_index("term").loc["idaci"]
        step = nice_step(float(res.scores.loc[fit.expected.notna(), "idaci"].std()))
        eff, lo, hi = (float(c[k]) * step for k in ("coef", "ci_lower", "ci_upper"))
        dep_ids = context_measure(ed, ed.method.deprivation_measure, year=ed.method.deprivation_year).source_ids
        plans = context_measure(ed, "sen2_ehcp_total", year=ed.final_year).source_ids
        held = " (taking the number of EHC plans into account)" if "log_ehcp_total" in fit.covariates else ""
        add(f"Across {fit.n} LAs in {yl}, where child deprivation (the IDACI average score, "
            f"{iod_label(ed.method.deprivation_year)}) is {fmt(step, _dp_for(step))} higher{held}, "
            f"the overall inclusion score is on average {effect_text(eff, lo, hi, ' points')}.", eff, yl,
            short_citation([*all_ids, *dep_ids, *plans]))
    ex = exclusions(ed)
    if "idaci" in ex.models:
        m = ex.models["idaci"]
        i = m.y.removesuffix("_value")
        ctx = context_measure(ed, ed.method.deprivation_measure, year=ed.method.deprivation_year).source_ids
        add(m.sentence(), m.term("idaci")["per_step"], year_label(ind.year(i)),
            short_citation([*ind.t.loc[i, "source_ids"], *ctx]))
    return out


def findings_table(ed, items: list[dict] | None = None) -> pd.DataFrame:
    """The findings as a display table (Finding, Number, Years, Source)."""
    items = items if items is not None else findings(ed)
    return pd.DataFrame(items, columns=["text", "number", "years", "source"]).rename(
        columns={"text": "Finding", "number": "Number", "years": "Years", "source": "Source"})


def findings_markdown(ed, items: list[dict] | None = None) -> str:
    """findings.md text: one bullet per finding with its years and source."""
    items = items if items is not None else findings(ed)
    lines = [f"# Findings: SEND inclusion index, {year_label(ed.final_year)} edition", "",
             f"Method: {ed.method.name}. Index years {years_label(ed.years)}.", ""]
    lines += [f"- {f['text']} (Years: {f['years']}. Source: {f['source']}.)" for f in items]
    return "\n".join(lines) + "\n"


__all__ = [
    "ADJUSTED_COLUMNS",
    "CAVEAT_TABLES",
    "COHORT_PHRASES",
    "CONTEXT_LABELS",
    "LIMITS",
    "MODEL_COLUMNS",
    "PARTS",
    "PHRASES",
    "ContextMeasure",
    "OLSResult",
    "Part",
    "assessment",
    "attainment",
    "axis_label",
    "change_range",
    "chart_title",
    "check_highlight",
    "citation",
    "conclusions",
    "context_measure",
    "data_caveats",
    "deprivation",
    "edition_header",
    "effect_text",
    "england",
    "esc",
    "esc_md",
    "exclusions",
    "findings",
    "findings_markdown",
    "findings_table",
    "fmt",
    "fmt_int",
    "funnel_frames",
    "improvement_frame",
    "indicator_source_ids",
    "indicator_years",
    "introduction",
    "la_table",
    "md",
    "models_table",
    "ols",
    "ordinal",
    "placement",
    "range_label",
    "rank_cell",
    "rank_column",
    "rank_words",
    "ranking_frame",
    "ratio_measure",
    "region_variation",
    "spread",
    "style_table",
    "uncertainty_settings",
    "year_label",
    "years_label",
]
