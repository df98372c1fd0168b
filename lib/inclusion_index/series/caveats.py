"""The 'data and caveats' tables: sources and years, substitutions, suppression, small cohorts."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ..sources import load_registry
from .context import ContextMeasure, context_measure
from .edition_facts import indicator_source_ids, la_coverage, measure_caveats, measure_name, source_id
from .part import IndicatorFacts
from .text import agree, label_years, plural, year_label

CAVEAT_TABLES = {
    "sources": "Sources and the years used",
    "substitutions": "Gaps and substitutions by index year",
    "suppression": "Values missing in the source (suppressed or not published by DfE)",
    "small_cohorts": "Small cohorts",
}


def data_caveats(ed, measures: Sequence[ContextMeasure | str] = (), *, small_cohort: int = 30) -> dict:
    """Sources with years, substitutions and gaps, suppression counts and small-cohort LAs.

    ``measures`` adds context measures (a part's ``measures``: ContextMeasure objects, listed
    with the year and files each used, or measure codes, taken for the year
    :func:`context_measure` picks) to the source list; measures the edition has no year of
    add nothing. Returns a
    dict of DataFrames (``sources``, ``substitutions``, ``suppression``, ``small_cohorts``)
    and ``text`` (sentences).
    """
    reg = load_registry()
    ind = IndicatorFacts(ed)
    used: dict[str, set[str]] = {}
    years: dict[str, set[str]] = {}
    v = ed.values
    for y in ed.years:
        for i in ind.t.index:
            dy = v.loc[(v["indicator"] == i) & (v["index_year"] == y), "data_year"]
            for sid in indicator_source_ids(ed, i, y):
                used.setdefault(sid, set()).add(ind.short(i))
                years.setdefault(sid, set()).update(dy.dropna())
    seen: set[tuple[str, str | None]] = set()
    for m in measures:
        c = m if isinstance(m, ContextMeasure) else context_measure(ed, m)
        if not c.available or (c.measure, c.year) in seen:
            continue
        seen.add((c.measure, c.year))
        for sid in c.source_ids:
            used.setdefault(source_id(sid), set()).add(c.label + " (context)")
            years.setdefault(source_id(sid), set()).add(str(c.year))
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
        "Measure": gaps["measure"].map(measure_name),
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
    cov = la_coverage(ed)
    text = [
        f"Sources: {len(sources)} files, listed below with the years used.",
        (f"LAs: {len(ed.geography)} of England's {cov['n_england']}; {cov['excluded_sentence']}."
         if cov["excluded_sentence"] else ""),
        f"{len(gaps)} indicator-year cells have a gap or substitution (an indicator with no LA values for its "
        "data year in this project's data, carried forward from an earlier year, or missing for some LAs).",
        f"{int(supp['LAs'].sum()) if len(supp) else 0} LA values across the edition's years are missing because "
        "the source suppresses or does not publish them; they are never treated as zero.",
        *measure_caveats(ed),
    ]
    if len(imp):
        text.append(f"{len(imp)} LA values across the edition's years are small suppressed counts set to the "
                    "midpoint of their possible range (flagged 'imputed').")
    text.append(small.attrs.get("sentence", ""))
    moved = v[(v["index_year"] == ed.final_year) & v["flag"].str.contains("predecessor", regex=False)]
    if len(moved):
        k = moved["la_code"].nunique()
        text.append(f"{plural(k, 'LA')} {agree(k, 'takes', 'take')} values from predecessor authorities across a "
                    "boundary change in some indicators (flagged in the scores table).")
    return {"sources": sources, "substitutions": gaps, "suppression": supp, "small_cohorts": small,
            "text": [s for s in text if s]}


def _small_cohorts(ed, ind: IndicatorFacts, threshold: int) -> pd.DataFrame:
    """LAs whose KS4 EHC plan cohort is under ``threshold`` pupils, or (no KS4 counts) the fewest plans."""
    ks4_year = ind.year("att_ks4_a8_ehcp") if "att_ks4_a8_ehcp" in ind.t.index else ed.final_year
    c = context_measure(ed, "ks4raw_pupils_ehcp", year=ks4_year)
    names = ed.geography.set_index("la_code")["la_name"]
    if c.available:
        small = c.values[c.values < threshold].sort_values()
        out = pd.DataFrame({"Local authority": names.reindex(small.index).to_numpy(),
                            "KS4 pupils with an EHC plan": small.to_numpy()})
        out.attrs["sentence"] = (
            f"{plural(len(out), 'LA')} had fewer than {threshold} pupils with an EHC plan at the end of KS4 in "
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
