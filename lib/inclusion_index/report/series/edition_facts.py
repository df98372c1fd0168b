"""Facts about an edition the parts share: its score table, indicator years, England values, sources and rank ranges."""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from inclusion_index.config import england_decimals, run_settings
from inclusion_index.index.edition import Edition
from inclusion_index.index.indicator_facts import NOTE_INPUTS
from inclusion_index.index.indicators import data_years, first_clause, labelled_for
from inclusion_index.index.uncertainty import UncertaintyError
from inclusion_index.report.notes import edition_note, score_table_text
from inclusion_index.report.series.text import (
    NA,
    and_join,
    dp_for,
    fmt,
    md,
    ordinal,
    unit_level,
    year_label,
    years_label,
)
from inclusion_index.report.templates import words
from inclusion_index.sources.geography import EXCLUDED_FROM_RANKING, label_years
from inclusion_index.sources.registry import load_registry

# Measures that change what an indicator means from some year on (labels only, no figures):
# what the measure is, and the measure it replaces, whose last England figure the caveat quotes.
MEASURE_NOTES: dict[str, tuple[str, str]] = {
    m: ("the sum of three termly rates (autumn, spring and summer, each over that term's own census headcount) "
        "that Data to Insight derived from DfE's termly data, not an annual rate published by DfE",
        m.replace("_termsum", ""))
    for m in ("excl_fixed_rate_termsum_ehcp", "excl_perm_rate_termsum_ehcp", "excl_fixed_rate_termsum_sen_support",
              "excl_perm_rate_termsum_sen_support")}

# The same in a few words, for a table cell or a quoted finding.
# (The annual rates rebuilt on the January headcount, excl_*_rate_annual_ehcp, are DfE's annual
# definition, so they carry no such caveat; their measure_phrase in labels.csv names them.)
MEASURE_SHORT_NOTES: dict[str, str] = {m: "sum of three termly rates" for m in MEASURE_NOTES}

_EXTENDED_SUFFIXES = ("_rank_lo", "_rank_median", "_rank_hi", "_adjusted_score", "_adjusted_rank",
                      "_adjusted_rank_lo", "_adjusted_rank_hi", "_data_year")
_EXTENDED_COLUMNS = ("overall_change_lo", "overall_change_hi", "improvement_significant", "adjustment_flag",
                     "overall_change_score_from", "overall_change_score_to", "change_indicators_compared",
                     "change_note", "placement_unrecorded_pct")


def la_table(ed, year: str | None = None) -> pd.DataFrame:
    """One row per LA for an index year: identity, scores, values; for the headline year also the
    score table's ranges and adjusted scores."""
    y = year or ed.final_year
    t = ed.geography.set_index("la_code")[["la_name", "region"]].join(ed.scored[y].scores, how="left")
    if y == ed.final_year:
        ext = score_table_text(ed).set_index("la_code")  # with change_note
        cols = [c for c in ext.columns if (c.endswith(_EXTENDED_SUFFIXES) or c in _EXTENDED_COLUMNS)
                and c not in t.columns]
        t = t.join(ext[cols], how="left")
    return t.reset_index()


def indicator_cohorts(ed, indicator: str, year: str | None = None) -> pd.Series:
    """The funnel plot's denominators (pupils or plans behind each value) by la_code; empty if none."""
    try:
        f = ed.funnel(indicator, year)
    except UncertaintyError:
        return pd.Series(dtype="float64")
    return f.set_index("la_code")["denominator"].astype("float64")


def carried_note(ed, indicator: str, year: str | None = None) -> tuple[str, str] | None:
    """(data year used, why: known_gaps.yml, else "not in this project's data") for an indicator
    carried forward in an index year, else None."""
    y = year or ed.final_year
    sub = ed.substitutions()
    r = sub[(sub["index_year"] == y) & (sub["indicator"] == indicator)]
    if r.empty or pd.isna(r["carried_from"].iloc[0]):
        return None
    used, expected = str(r["data_year"].iloc[0]), str(r["expected_year"].iloc[0])
    why = next((g.why.format(year=year_label(expected)) for g in ed.run.known_gaps
                if str(r["measure"].iloc[0]) in g.measures and expected in g.years), "") \
        or f"{year_label(expected)} is not in this project's data"
    same = sorted(set(sub.loc[(sub["indicator"] == indicator) & (sub["data_year"] == used)
                              & (sub["index_year"] != y), "index_year"]))
    if same:
        why += (f"; the same {year_label(used)} values also feed index year "
                f"{and_join([year_label(x) for x in same])}")
    return year_label(used), why

def carried_words(ed, indicator: str, year: str | None = None, note: str = "") -> str:
    """A note for readers: a carried-forward value says why (:func:`carried_note`), else ``note``."""
    return f"carried forward from {c[0]} ({c[1]})" if (c := carried_note(ed, indicator, year)) else note


def range_label() -> str:
    """'90% range' (the interval of this run's uncertainty settings)."""
    return f"{run_settings().uncertainty.interval:.0%} range"


def rank_column() -> str:
    """Header of the rank column of every rank table: 'Rank (90% range)'."""
    return f"Rank ({range_label()})"


def rank_cell(rank: object, lo: object, hi: object) -> str:
    """'3 (1–12)': a rank and its range for a table cell ('3' without a range, 'n/a' without a rank)."""
    if pd.isna(rank):
        return NA
    r = str(int(rank))  # type: ignore[call-overload]
    return r if pd.isna(lo) or pd.isna(hi) else f"{r} ({int(lo)}–{int(hi)})"  # type: ignore[call-overload]


def rank_words(rank: object, lo: object, hi: object, n: int | None = None) -> str:
    """'3rd of 150, plausibly anywhere from 1st to 12th (90% range)'; the rank alone without a range."""
    if pd.isna(rank):
        return "not ranked"
    head = ordinal(int(rank)) + (f" of {n}" if n else "")  # type: ignore[call-overload]
    if pd.isna(lo) or pd.isna(hi):
        return head
    lo_, hi_ = int(lo), int(hi)  # type: ignore[call-overload]
    return (f"{head} ({range_label()}: {ordinal(lo_)} only)" if lo_ == hi_
            else f"{head}, plausibly anywhere from {ordinal(lo_)} to {ordinal(hi_)} ({range_label()})")


def change_range(lo: object, hi: object) -> str:
    """'-1.7 to +21.2' for a score change's range (n/a without one)."""
    return NA if pd.isna(lo) or pd.isna(hi) else f"{fmt(lo, sign=True)} to {fmt(hi, sign=True)}"


def area_indicators(ed, area: str) -> list[str]:
    ind = ed.indicators
    return list(ind.loc[ind["area"] == area, "indicator"])


def indicator_years(ed, year: str | None = None) -> pd.DataFrame:
    """Per indicator for an index year (the build's ``ed.indicator_years``), with its ``note``."""
    t = ed.indicator_years[year or ed.final_year].copy()
    t["note"] = [label_years(edition_note(r)) for r in t[NOTE_INPUTS].to_dict("records")]
    return t.drop(columns=NOTE_INPUTS)


def short_citation(source_ids: Iterable[str]) -> str:
    """Publication and release only, for table cells."""
    reg = load_registry()
    out = []
    for sid in sorted(set(source_ids)):
        try:
            s = reg[sid]
            # a release with its own brackets ("reporting year 2025 (June 2025)") is not nested
            out.append(f"{s.publication} ({s.release.replace(' (', ', ').replace(')', '')})")
        except KeyError:
            out.append(sid)
    return "; ".join(dict.fromkeys(out))


def england(ed, indicator: str, year: str | None = None) -> float:
    """England's value of an indicator in an index year (NaN when not published)."""
    return float(indicator_years(ed, year).set_index("indicator").loc[indicator, "england"])


def chart_title(ed, indicator: str, year: str | None = None) -> str:
    """'<indicator name>, <data year>' for a chart title."""
    iy = indicator_years(ed, year).set_index("indicator").loc[indicator]
    return f"{iy['name']}, {year_label(iy['data_year'])}"


def edition_header(ed) -> str:
    """One Markdown line naming the edition, its index years, method and LAs (and those left out)."""
    cov = la_coverage(ed)
    left = f" ({cov['excluded_short']})" if len(cov["excluded"]) else ""
    return md(f"Edition {year_label(ed.final_year)}: index years {years_label(ed.years)}; method: {ed.method.name}; "
              f"{len(ed.geography)} of England's {cov['n_england']} local authorities{left}. "
              f"{data_years_sentence(ed)}")


def short_names(ed, year: str | None = None) -> dict[str, str]:
    """indicator -> short name for the measure it uses in an index year (default: the headline year)."""
    t = labelled_for(ed, year)
    return dict(zip(t["indicator"], t["short_name"], strict=True))


def data_years_sentence(ed, year: str | None = None) -> str:
    """'2024/25 edition: 4 of its 12 indicators use data from 2024/25 (...), 5 from 2023/24 (...)...',
    counted from the values of the headline year (or ``year``)."""
    y = year or ed.final_year
    groups = data_years(ed, y)
    names = short_names(ed, y)
    n = sum(len(ii) for _, ii in groups)
    head = (f"{year_label(ed.final_year)} edition" if y == ed.final_year
            else f"Index year {year_label(y)} of the {year_label(ed.final_year)} edition")
    if not groups:
        return f"{head}: no indicator has data."
    if len(groups) == 1:
        return f"{head}: all {n} of its indicators use data from {year_label(groups[0][0])}."
    # "4 of its 12 indicators use data from 2024/25 (...), 5 from 2023/24 (...)"
    parts = [f"{len(ii)}{f' of its {n} indicators use data' if k == 0 else ''} from {year_label(dy)} "
             f"({'; '.join(names[i] for i in ii)})" for k, (dy, ii) in enumerate(groups)]
    return f"{head}: {and_join(parts)}."


def la_coverage(ed) -> dict:
    """England's LAs (``n_england``), those the method leaves out (``excluded``, with words) and
    those without an overall score (``unscored``)."""
    if ed.ref is not None:
        every = ed.ref.geography_for_year(ed.final_year, include_excluded=True)
        gone = every[~every["la_code"].isin(ed.geography["la_code"])]
        n_all = len(every)
    else:  # an edition built without its LA reference: only the known exclusions can be named
        gone = pd.DataFrame({"la_code": list(EXCLUDED_FROM_RANKING), "la_name": list(EXCLUDED_FROM_RANKING.values())})
        n_all = len(ed.geography) + len(gone)
    lg = ed.long
    plans = lg[(lg["measure"] == "sen2_ehcp_total") & (lg["level"] == "la") & lg["la_code"].isin(gone["la_code"])
               & (lg["year"] <= ed.final_year) & lg["value"].notna()].sort_values("year")
    latest = plans.drop_duplicates("la_code", keep="last").set_index("la_code")
    rows = [{"la_code": c, "la_name": n, "ehc_plans": float(latest["value"].get(c, np.nan)),
             "plans_year": str(latest["year"].get(c, ""))} for c, n in zip(gone["la_code"], gone["la_name"], strict=True)]
    excluded = pd.DataFrame(rows, columns=["la_code", "la_name", "ehc_plans", "plans_year"])
    sentence = short = ""
    if len(excluded):
        names = and_join(list(excluded["la_name"]))
        counts = ""
        if excluded["ehc_plans"].notna().all():
            years = sorted(set(excluded["plans_year"]))
            counts = (f": {and_join([fmt(v, 0) for v in excluded['ehc_plans']])} EHC plans respectively in "
                      f"{years_label(years)}" if len(excluded) > 1 else
                      f": {fmt(excluded['ehc_plans'].iloc[0], 0)} EHC plans in {year_label(years[0])}")
        short = f"{names} {'are' if len(excluded) > 1 else 'is'} too small to score"
        sentence = (f"{short}{counts}. That is too few pupils for rates that mean anything, so the method leaves "
                    f"{'them' if len(excluded) > 1 else 'it'} out (see the method notes)")
    t = ed.headline().scores
    geo = ed.geography.set_index("la_code")
    uns = t.index[~t["scored"].fillna(False).astype(bool)] if "scored" in t else pd.Index([])
    unscored = pd.DataFrame({"la_code": list(uns), "la_name": [geo["la_name"].get(c, c) for c in uns],
                             "flags": [plain_codes(ed, t["flags"].get(c, "")) if "flags" in t else "" for c in uns]})
    return {"n_england": n_all, "n_edition": len(ed.geography), "excluded": excluded,
            "excluded_sentence": sentence, "excluded_short": short, "unscored": unscored}


def plain_codes(ed, text: object) -> str:
    """Free text (flags, notes) for readers: indicator codes become short names, year keys '2016/17'."""
    out = label_years(str(text if text is not None and not (isinstance(text, float) and np.isnan(text)) else ""))
    names = short_names(ed)
    for code in sorted(names, key=len, reverse=True):
        out = re.sub(rf"\b{re.escape(code)}\b", str(names[code]), out)
    return out


def measure_name(ed: Edition, measure: str) -> str:
    """A measure's plain name from data/registry/measures (its description's first clause)."""
    desc = ed.measures.set_index("measure")["description"].to_dict()
    d = re.sub(r"\s*\((?:numerator|denominator)[^)]*\)\s*$", "", first_clause(str(desc.get(measure, ""))))
    return d + (f", {MEASURE_SHORT_NOTES[measure]}" if measure in MEASURE_SHORT_NOTES else "") if d else measure


def measure_caveats(ed, year: str | None = None, indicators: Iterable[str] | None = None) -> list[str]:
    """A sentence per MEASURE_NOTES note of the year's measures (templates/parts/measures.md)."""
    lg = ed.long
    keep = set(indicators) if indicators is not None else None
    groups: dict[tuple[str, str, str], list] = {}
    for r in indicator_years(ed, year).itertuples():
        if r.measure not in MEASURE_NOTES or r.las_with_value == 0 or (keep is not None and r.indicator not in keep):
            continue
        what, old = MEASURE_NOTES[r.measure]
        nat = lg[(lg["measure"] == old) & (lg["level"] == "national") & lg["value"].notna()
                 & (lg["year"] <= str(r.data_year))].sort_values("year")
        last = (str(nat["year"].iloc[-1]), float(nat["value"].iloc[-1])) if len(nat) else None
        groups.setdefault((what, str(r.data_year), last[0] if last else ""), []).append((r, last))
    return [words("parts/measures.md").caveat({
        "names": and_join([r.phrase for r, _ in rows]), "one": len(rows) == 1, "what": what,
        "year": year_label(data_year), "last_year": year_label(last_year) if last_year else "",
        "figures": and_join([fmt(v, 2 if abs(v) < 1 else 1) for _, (_, v) in rows]) if last_year else "",
        "unit": unit_level(rows[0][0].phrase_unit)}) for (what, data_year, last_year), rows in groups.items()]


def data_years_compared(ed, indicators: Iterable[str]) -> list[tuple[list[str], str, str]]:
    """([short names], first data year, final data year) of the first and final index years, by pair."""
    dy = ed.values.dropna(subset=["data_year"]).drop_duplicates(["indicator", "index_year"]).set_index(
        ["indicator", "index_year"])["data_year"]
    names = short_names(ed)
    groups: dict[tuple[str, ...], list[str]] = {}
    for i in indicators:
        groups.setdefault(tuple(str(dy.get((i, y), "")) for y in (ed.first_year, ed.final_year)), []).append(
            str(names[i]))
    return [(names, a, b) for (a, b), names in groups.items()]


def check_highlight(ed, la_code: str | int | None) -> tuple[str | None, str]:
    """(code or None, sentence): an unknown code is reported, never an error (papermill passes ints)."""
    code = str(la_code if la_code is not None else "").strip()
    if not code:
        return None, ""
    code = code.zfill(3) if code.isdigit() else code  # papermill's 202 or 2 -> "202", "002"
    if code not in set(ed.geography["la_code"]):
        return None, (f"LA code {code} is not one of the {len(ed.geography)} LAs of this edition, "
                      "so nothing is highlighted.")
    return code, ""


def england_figure(indicator: str, e: float, dp: int) -> str:
    """England's figure as every page quotes it: DfE's precision (england_decimals.csv), else the
    LAs' ``dp``, never padded past the source's places (-3.8, not -3.80)."""
    base = max(dp, dp_for(e))
    number = fmt(e, england_decimals().get(indicator, base))
    while "." in number and number.endswith("0") and len(number.split(".")[1]) > base:
        number = number[:-1]
    return number.removesuffix(".")


class IndicatorFacts:
    """Indicator facts for one index year, looked up once per part."""

    def __init__(self, ed, year: str | None = None) -> None:
        self.t = indicator_years(ed, year).set_index("indicator")
        self._ed = ed
        self._year = year or ed.final_year

    def phrase(self, i: str) -> str:
        return str(self.t.loc[i, "phrase"])

    def unit(self, i: str) -> str:
        return str(self.t.loc[i, "phrase_unit"])

    def short(self, i: str) -> str:
        return str(self.t.loc[i, "short_name"])

    def year(self, i: str) -> str:
        return str(self.t.loc[i, "data_year"])

    def england(self, i: str) -> float:
        """The published England figure (NaN when none is in the data)."""
        return float(self.t.loc[i, "england"])

    def england_best(self, i: str) -> tuple[float, str]:
        """(England figure, 'published' | 'pooled from LA figures' | ''): the published one, else the
        one pooled from the LA figures, as the funnel plot's centre line."""
        e = self.england(i)
        if np.isfinite(e):
            return e, "published"
        p = self._ed.funnel_target(i, self._year)
        return (p, "pooled from LA figures") if np.isfinite(p) else (float("nan"), "")

    def england_text(self, i: str, dp: int) -> str:
        e, kind = self.england_best(i)
        if not kind:
            return "no England figure in the data"
        text = f"England {england_figure(i, e, dp)}{unit_level(self.unit(i))}"
        if kind == "published" and self.t.loc[i, "england_basis"] == "national counts":
            return text + " from DfE's national counts"
        return text if kind == "published" else text + " pooled from the LA figures"

    def axis(self, i: str) -> str:
        """'KS2 reading progress (points, 2022/23)': chart axes, panel titles and table headers
        carry the value's own data year, which can be older than the edition's name."""
        y = year_label(self.year(i)) if self.year(i) else ""
        return f"{self.short(i)} ({self.unit(i)}{', ' + y if y else ''})"


def england_line(ed, indicator: str, year: str | None = None) -> dict[str, object]:
    """Keyword arguments for a chart's England line (IndicatorFacts.england_best), labelled."""
    value, kind = IndicatorFacts(ed, year).england_best(indicator)
    return {"england": value if kind else None,
            "england_label": "England" if kind == "published" else "England (pooled from LAs)"}
