"""Part 2: exclusions of pupils with an EHC plan, against SEMH need and deprivation."""

from __future__ import annotations

import pandas as pd

from inclusion_index.report.series.context import context_measure, deprivation
from inclusion_index.report.series.edition_facts import (
    IndicatorFacts,
    carried_note,
    indicator_cohorts,
    la_table,
    measure_caveats,
)
from inclusion_index.report.series.funnels import closing_sections
from inclusion_index.report.series.models import region_variation, spread
from inclusion_index.report.series.part import (
    Part,
    context_frame,
    estimate_note,
    estimated,
    highlight_section,
    imputed_rows,
    la_list,
    published_indicators,
)
from inclusion_index.report.series.text import iod_label, year_label
from inclusion_index.report.templates import words

_WORDS = words("parts/exclusions.md")


def exclusions(ed, highlight: str | int | None = None) -> Part:
    """Part 2: exclusion rates of pupils with an EHC plan; regions; SEMH share and deprivation."""
    p = Part("exclusions", "Exclusions")
    t, ind = la_table(ed), IndicatorFacts(ed)
    inds, avail = published_indicators(p, ed, t, ind, "exclusions")
    dep = deprivation(ed)
    semh = context_measure(ed, "sen2_semh_pct_ehcp")
    p.measures = [dep, semh]
    p.data = d = context_frame(t, {"idaci": dep, "semh_pct": semh})
    p.labels = {f"{i}_value": ind.axis(i) for i in inds} | {"idaci": dep.label,
                                                            "semh_pct": "EHC plans with SEMH as primary need (%)"}
    rows = []
    for i in avail:
        est = estimated(ed, t, i)
        # no "x times the lowest": the lowest rates are often imputed small counts
        s = spread(t[f"{i}_value"], t["la_name"], ind.phrase(i), ind.unit(i), ratio=False, estimated=est,
                   estimate_note=estimate_note(ed, i), cohort=t["la_code"].map(indicator_cohorts(ed, i)),
                   small=ed.run.uncertainty.small_cohort)
        p.say("summary", f"{s['sentence']} Data year {year_label(ind.year(i))}; {ind.england_text(i, s['dp'])}.")
        eng, kind = ind.england_best(i)
        rows.append({"Indicator": ind.short(i), "Data year": year_label(ind.year(i)), "England": eng,
                     "England figure": kind or "none in the data",
                     "Lowest LA": s["lowest"], "Lowest": s["min"], "Median": s["median"],
                     "Highest LA": s["highest"], "Highest": s["max"], "LAs": s["n"],
                     "Estimates (not named)": s["n_estimated"]})
        p.numbers.update({f"{i}_min": s["min"], f"{i}_max": s["max"], f"{i}_median": s["median"],
                          f"{i}_n_estimated": s["n_estimated"]})
        if c := carried_note(ed, i):
            p.say("summary", f"{ind.short(i)}: the {c[0]} figures are used, carried forward ({c[1]}).")
    p.say("summary", *measure_caveats(ed, indicators=avail))
    if len(imputed := imputed_rows(ed, avail)):
        p.say("summary", _WORDS.imputed(len(imputed)))
    p.tables["summary"] = pd.DataFrame(rows)
    p.say("context", dep.note, semh.note, "" if semh.available else _WORDS.no_semh())
    if not avail:
        p.notes.append("No exclusion indicator is published for this index year.")
        p.say("summary", _WORDS.no_rates())
        highlight_section(p, ed, highlight, t, ind, inds)
        return p
    main = avail[0]
    col, est = f"{main}_value", estimated(ed, t, main)
    p.numbers["main_indicator"] = main  # type: ignore[assignment]
    p.tables["highest"] = la_list(t, col, ind.axis(main), ascending=False, estimate=est)
    p.tables["lowest"] = la_list(t, col, ind.axis(main), ascending=True, estimate=est)
    rv = region_variation(t, col, label=ind.phrase(main), unit=ind.unit(main))
    p.tables["regions"] = rv["table"]
    p.numbers["between_region_share"] = rv["between_share"]
    p.say("regions", rv["sentence"])
    labels = {col: ind.phrase(main), "idaci": "the " + dep.label,
              "semh_pct": "the share of EHC plans for social, emotional and mental health (SEMH) needs"}
    units = {col: ind.unit(main), "semh_pct": "%"}
    if dep.available and p.fit("idaci", d, col, "idaci", sources=[*ind.t.loc[main, "source_ids"], *dep.source_ids],
                               labels=labels, units=units, say="context") and dep.year != ind.year(main):
        p.say("context", f"Deprivation is from {iod_label(dep.year)}; the exclusion rates are for "
              f"{year_label(ind.year(main))}.")
    if semh.available:
        m = p.fit("semh", d, col, "semh_pct", sources=[*ind.t.loc[main, "source_ids"], *semh.source_ids],
                  labels=labels, units=units, say="context")
        if m and semh.year != ind.year(main):
            p.say("context", f"The SEMH share is for {year_label(semh.year)}, the exclusion rates for "
                  f"{year_label(ind.year(main))}.")
        if dep.available:
            p.fit("semh_idaci", d, col, ["semh_pct", "idaci"],
                  sources=[*ind.t.loc[main, "source_ids"], *semh.source_ids, *dep.source_ids],
                  labels=labels, units=units, say="context", terms=["semh_pct"])
    else:
        p.notes.append(semh.note)
    return closing_sections(p, ed, t, ind, avail, highlight, inds)
