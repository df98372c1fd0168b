"""Part 5: attainment and progress of EHC plan pupils and NEET, against cohort size and deprivation."""

from __future__ import annotations

import pandas as pd

from inclusion_index.report.series.context import context_measure, deprivation, ratio_measure
from inclusion_index.report.series.edition_facts import (
    IndicatorFacts,
    carried_words,
    indicator_cohorts,
    la_table,
)
from inclusion_index.report.series.funnels import closing_sections
from inclusion_index.report.series.models import spread
from inclusion_index.report.series.part import Part, context_frame, published_indicators
from inclusion_index.report.series.text import year_label
from inclusion_index.report.templates import words

_WORDS = words("parts/attainment.md")


def attainment(ed, highlight: str | int | None = None) -> Part:
    """Part 5: KS2/KS4 attainment and progress vs EHC plan cohort size and deprivation; NEET."""
    p = Part("attainment", "Attainment and NEET")
    t, ind = la_table(ed), IndicatorFacts(ed)
    inds, avail = published_indicators(p, ed, t, ind, "attainment")
    dep = deprivation(ed)
    ks = [i for i in avail if i.startswith(("att_ks2", "att_ks4"))]
    data_year = ind.year(ks[0]) if ks else ed.final_year
    cohort = context_measure(ed, "lait_ehcp_pct_pupils", year=data_year)
    ks4_year = ind.year("att_ks4_a8_ehcp") if "att_ks4_a8_ehcp" in ind.t.index else data_year
    ks4_e = context_measure(ed, "ks4raw_pupils_ehcp", year=ks4_year)
    ks4_all = context_measure(ed, "ks4raw_pupils_all", year=ks4_year)
    ks4_share = ratio_measure(ks4_e, ks4_all, 100.0, "Pupils with an EHC plan as % of the KS4 cohort", "%",
                              names=dict(zip(t["la_code"], t["la_name"], strict=True)))
    p.measures = [dep, cohort, ks4_e, ks4_all]
    p.data = d = context_frame(t, {"idaci": dep, "ehcp_pct_pupils": cohort, "ks4_ehcp_pupils": ks4_e,
                                   "ks4_ehcp_share": ks4_share})
    p.labels = {f"{i}_value": ind.axis(i) for i in inds} | {
        "idaci": dep.label, "ehcp_pct_pupils": f"Pupils with an EHC plan, % of all pupils ({year_label(data_year)})",
        "ks4_ehcp_share": "Pupils with an EHC plan, % of the KS4 cohort"}
    rows = []
    for i in avail:
        v = t[f"{i}_value"]
        rows.append({"Indicator": ind.short(i), "Unit": ind.unit(i), "Data year": year_label(ind.year(i)),
                     "England": ind.england(i), "Lowest": v.min(), "Median": v.median(), "Highest": v.max(),
                     "LAs": int(v.notna().sum()), "Note": carried_words(ed, i, note=str(ind.t.loc[i, "note"]))})
    p.tables["summary"] = pd.DataFrame(rows)
    for i in ks:
        s = spread(t[f"{i}_value"], t["la_name"], ind.phrase(i), ind.unit(i),
                   cohort=t["la_code"].map(indicator_cohorts(ed, i)), small=ed.run.uncertainty.small_cohort)
        p.say("summary", f"{s['sentence']} {ind.england_text(i, s['dp'])} ({year_label(ind.year(i))}).")
        p.numbers.update({f"{i}_min": s["min"], f"{i}_max": s["max"], f"{i}_median": s["median"]})
    f = {"year": year_label(data_year), "dep": dep.label, "ks4_year": year_label(ks4_year)}
    p.say("cohort", _WORDS.cohort(f), cohort.note, dep.note, ks4_share.note if ks4_share.available else _WORDS.no_ks4(f))
    labels = {f"{i}_value": ind.phrase(i) for i in avail} | {
        "ehcp_pct_pupils": "the share of all pupils who have an EHC plan", "idaci": "the " + dep.label,
        "ks4_ehcp_share": "the EHC plan share of the KS4 cohort"}
    units = {f"{i}_value": ind.unit(i) for i in avail} | {"ehcp_pct_pupils": "%", "ks4_ehcp_share": "%"}
    ctx = {c: m for c, m in (("ehcp_pct_pupils", cohort), ("idaci", dep)) if m.available}
    xs = list(ctx)
    for i in ks if xs else []:
        p.fit(i, d, f"{i}_value", xs, sources=[*ind.t.loc[i, "source_ids"], *(s for m in ctx.values()
              for s in m.source_ids)], labels=labels, units=units, say="models", terms=xs)
        if i.startswith("att_ks4") and ks4_share.available:
            xs4 = ["ks4_ehcp_share"] + (["idaci"] if dep.available else [])
            p.fit(f"{i}_ks4share", d, f"{i}_value", xs4, sources=[*ind.t.loc[i, "source_ids"],
                  *ks4_share.source_ids, *(dep.source_ids if dep.available else [])], labels=labels, units=units,
                  say="models", terms=["ks4_ehcp_share"])
    for i in [i for i in avail if "neet" in i]:
        s = spread(t[f"{i}_value"], t["la_name"], ind.phrase(i), "%", 1)
        p.say("neet", f"{s['sentence']} {ind.england_text(i, 1)} ({year_label(ind.year(i))}).")
        if ind.t.loc[i, "measure"] == "lait_neet_all_pct":
            p.say("neet", _WORDS.neet_all())
        p.numbers.update({f"{i}_min": s["min"], f"{i}_max": s["max"]})
        if dep.available:
            p.fit(i, d, f"{i}_value", "idaci", sources=[*ind.t.loc[i, "source_ids"], *dep.source_ids],
                  labels=labels, units=units, say="neet")
    return closing_sections(p, ed, t, ind, avail, highlight, inds)
