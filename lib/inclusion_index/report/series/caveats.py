"""The 'data and caveats' tables: sources and years, substitutions, suppression, small cohorts."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress

import pandas as pd

from inclusion_index.index.indicator_facts import source_id
from inclusion_index.index.scoring import AREAS
from inclusion_index.report.notes import edition_note
from inclusion_index.report.series.context import ContextMeasure, context_measure
from inclusion_index.report.series.edition_facts import (
    IndicatorFacts,
    area_indicators,
    carried_words,
    indicator_cohorts,
    la_coverage,
    measure_caveats,
    measure_name,
)
from inclusion_index.report.series.text import and_join, fmt, iod_label, plural, year_label
from inclusion_index.report.templates import render_template, words
from inclusion_index.sources.geography import label_years
from inclusion_index.sources.registry import load_registry

CAVEAT_TABLES = {
    "sources": "Sources and the years used",
    "substitutions": "Gaps and substitutions by index year",
    "suppression": "Values missing in the source (suppressed or not published by DfE)",
    "small_cohorts": "Small cohorts"}


# The glossary's terms (templates/glossary.html, on the method page as #glossary-<slug>) as they
# are written in the parts' sentences; Part.markdown links the first use of each on a page.
GLOSSARY = {"attainment-8": r"Attainment 8", "progress-8": r"Progress 8",
            "ks2-progress": r"KS2 (?:reading|writing|maths) progress(?: scores?)?|KS2 progress(?: scores?)?",
            "ehc-plan": r"EHC plans?", "sen-support": r"SEN support", "neet": r"NEET",
            "suspension": r"[Ss]uspensions?|[Ff]ixed-period exclusions?", "permanent-exclusion": r"[Pp]ermanent exclusions?",
            "special-school": r"special schools?", "independent-school": r"[Ii]ndependent (?:and|or) non-maintained",
            "idaci": r"IDACI", "90-range": r"90% ranges?", "score": r"(?:overall|area) scores?"}
METHOD_PAGE = "../method.html"  # from a part page (reports/<edition>/) to the site's method notes
PAGE_LINKS = {"method notes": METHOD_PAGE, "your own weights": "explore.html",
              **{pat: f"{METHOD_PAGE}#glossary-{slug}" for slug, pat in GLOSSARY.items()}}


def data_caveats(ed, measures: Sequence[ContextMeasure | str] = (), *, small_cohort: int | None = None,
                 part: str | None = None) -> dict:
    """CAVEAT_TABLES' tables and ``text`` (templates/caveats.md) for an edition or one ``part``, with its
    context ``measures`` among the sources."""
    keep = set(area_indicators(ed, part)) if part in AREAS else None
    edition_wide = part in (None, "introduction", "conclusions")
    small_cohort = ed.run.uncertainty.small_cohort if small_cohort is None else small_cohort
    reg = load_registry()
    ind = IndicatorFacts(ed)
    used: dict[str, set[str]] = {}
    years: dict[str, set[str]] = {}
    v = ed.values if keep is None else ed.values[ed.values["indicator"].isin(keep)]
    for y in ed.years:
        ids = ed.indicator_years[y].set_index("indicator")["source_ids"]
        for i in [i for i in ind.t.index if keep is None or i in keep]:
            dy = v.loc[(v["indicator"] == i) & (v["index_year"] == y), "data_year"]
            for sid in ids[i]:
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
        # the indices of deprivation are named by release (IoD2015), not by an academic year
        label = iod_label if sid.startswith("iod") else year_label
        row = {"Source": sid, "Release": "", "Dataset": "", "Years used": ", ".join(
            label(y) for y in sorted(years[sid])), "Used for": "; ".join(sorted(used[sid])), "File": "",
            "Licence": "", "Derived table": ""}
        with suppress(KeyError):  # a source missing from the registry keeps its id
            s = reg[sid]
            row.update({"Source": s.publication, "Release": s.release, "Dataset": s.dataset, "File": s.path,
                        "Licence": s.licence, "Derived table": "yes" if s.derived else "no"})
        rows.append(row)
    sources = pd.DataFrame(rows)
    sub = ed.substitutions()
    sub["note"] = [edition_note(r) for r in sub.to_dict("records")]
    gaps = sub[((sub["note"] != "") | (sub["las_with_value"] < sub["las"]))
               & (sub["indicator"].isin(keep) if keep else True)].copy()
    gaps = pd.DataFrame({
        "Index year": gaps["index_year"].map(year_label),
        "Indicator": gaps["indicator"].map(ind.short),
        "Data year": gaps["data_year"].map(year_label),
        "Measure": gaps["measure"].map(lambda m: measure_name(ed, m)),
        "LAs without a value": gaps["las"] - gaps["las_with_value"],
        "Note": [carried_words(ed, i, y, label_years(n)) for i, y, n in zip(gaps["indicator"], gaps["index_year"],
                                                                           gaps["note"], strict=True)],
    }).reset_index(drop=True)
    miss = v[v["missing_reason"].isin(["not_in_source", "source_marker"])].copy()
    miss["reason"] = miss["missing_marker"].where(miss["missing_reason"] == "source_marker", "not in source")
    supp = miss.groupby(["index_year", "indicator", "reason"]).size().rename("LAs").reset_index()
    supp = pd.DataFrame({"Index year": supp["index_year"].map(year_label), "Indicator": supp["indicator"].map(ind.short),
                         "Reason": supp["reason"], "LAs": supp["LAs"]})
    small = _small_cohorts(ed, ind, small_cohort) if part in (None, "attainment") else pd.DataFrame()
    cov = la_coverage(ed)
    moved = v[(v["index_year"] == ed.final_year) & (v["predecessors"] != "")]
    text = str(render_template(
        "caveats.md", part=part, edition_wide=edition_wide, n_sources=len(sources), n_las=len(ed.geography),
        n_england=cov["n_england"], excluded=cov["excluded_sentence"], n_gaps=len(gaps),
        n_supp=int(supp["LAs"].sum()) if len(supp) else 0, n_imputed=int(v["imputed_count"].notna().sum()), n_moved=moved["la_code"].nunique(),
        measure_notes=measure_caveats(ed, indicators=keep) if part in (None, *AREAS) else [],
        recorded_only=ed.method.placement_recorded_only, small=small.attrs.get("sentence", ""))).split("\n")
    return {"sources": sources, "substitutions": gaps, "suppression": supp, "small_cohorts": small,
            "text": [" ".join(t.split()) for t in text if t.strip()]}


def weight_facts(ed) -> dict[str, object]:
    """Each area's count of the headline's equally weighted indicators, and the Spearman correlation
    of the equal-area ranking with the headline from the Monte Carlo sensitivity table, never typed in."""
    areas = ed.indicators.set_index("indicator").loc[list(ed.method.indicators), "area"].value_counts()
    s = ed.sensitivity.set_index("choice") if ed.sensitivity is not None else pd.DataFrame()
    rho = s["rank_correlation"].get("aggregation") if "rank_correlation" in s else None
    return {"n": int(areas.sum()), **{a: int(areas.get(a, 0)) for a in AREAS}, "year": year_label(ed.final_year),
            "att_pct": fmt(100 * areas.get("attainment", 0) / areas.sum(), 0), "rho": fmt(rho, 2) if pd.notna(rho) else ""}


def weights_sentence(ed) -> str:
    """What the headline weighs, in plain words (templates/weights.md), one line of text."""
    return " ".join(str(render_template("weights.md", f=weight_facts(ed))).split())


# Cohorts checked for small numbers: (indicators whose funnel denominators give the cohort, first
# with values wins; column heading; words for the sentence).
SMALL_COHORT_CHECKS = (
    (("att_ks2_rwm_ehcp", "att_ks2_read_prog_ehcp", "att_ks2_write_prog_ehcp", "att_ks2_maths_prog_ehcp"),
     "KS2 pupils with an EHC plan", "at the end of KS2"),
    (("att_ks4_a8_ehcp", "att_ks4_p8_ehcp"), "KS4 pupils with an EHC plan", "at the end of KS4"))


def _small_cohorts(ed, ind: IndicatorFacts, threshold: int) -> pd.DataFrame:
    """LAs whose KS2 or KS4 EHC plan cohort is under ``threshold`` (without counts: the fewest plans)."""
    names = ed.geography.set_index("la_code")["la_name"]
    cols: dict[str, pd.Series] = {}
    said = []
    for inds, heading, where in SMALL_COHORT_CHECKS:
        for i in inds:
            if i not in ind.t.index or int(ind.t.loc[i, "las_with_value"]) == 0:
                continue
            c = indicator_cohorts(ed, i)
            if c.notna().any():
                cols[heading] = c
                k = int((c < threshold).sum())
                said.append(f"{plural(k, 'LA')} {where} ({year_label(ind.year(i))})")
                break
    if cols:
        frame = pd.DataFrame(cols)
        small = frame[(frame < threshold).any(axis=1)]
        small = small.loc[small.min(axis=1).sort_values(kind="stable").index]
        out = pd.DataFrame({"Local authority": names.reindex(small.index).to_numpy(),
                            **{h: small[h].to_numpy() for h in cols}})
        sentence = words("parts/cohorts.md").small(threshold, and_join(said))
    elif (plans := context_measure(ed, "sen2_ehcp_total", year=ed.final_year)).available:
        few = plans.values.dropna().sort_values().head(10)
        out = pd.DataFrame({"Local authority": names.reindex(few.index).to_numpy(), "EHC plans": few.to_numpy()})
        sentence = words("parts/cohorts.md").fewest(year_label(ed.final_year))
    else:
        out, sentence = pd.DataFrame(columns=["Local authority"]), "No cohort counts are in the data for this edition's years."
    out.attrs["sentence"] = sentence
    return out
