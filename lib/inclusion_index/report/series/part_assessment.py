"""Part 3: the EHC plan share of pupils with SEN, its variation and relation to deprivation and outcomes."""

from __future__ import annotations

from inclusion_index.report.series.context import context_measure, deprivation
from inclusion_index.report.series.edition_facts import IndicatorFacts, area_indicators, la_table
from inclusion_index.report.series.funnels import closing_sections
from inclusion_index.report.series.models import models_table, region_variation, spread
from inclusion_index.report.series.part import (
    Part,
    context_frame,
    has_values,
    highlight_section,
    la_list,
    unpublished_sentence,
)
from inclusion_index.report.series.text import year_label
from inclusion_index.report.templates import words

_WORDS = words("parts/assessment.md")


def assessment(ed, highlight: str | int | None = None) -> Part:
    """Part 3: the EHC plan share of SEN pupils; its relation to deprivation and to EHCP outcomes."""
    p = Part("assessment", "Assessment")
    t, ind, dep = la_table(ed), IndicatorFacts(ed), deprivation(ed)
    ehcp_pct = context_measure(ed, "lait_ehcp_pct_pupils", year=ed.final_year)
    p.measures = [dep, ehcp_pct]
    p.data = d = context_frame(t, {"idaci": dep, "ehcp_pct_pupils": ehcp_pct})
    inds = area_indicators(ed, "assessment")
    a = inds[0] if inds else None
    if a is None or not has_values(t, a):
        p.say("summary", unpublished_sentence(ind, a, ed.final_year) if a else "The method has no assessment "
              "indicator.")
        highlight_section(p, ed, highlight, t, ind, inds)
        return p
    col = f"{a}_value"
    p.labels = {col: ind.axis(a), "idaci": dep.label, "ehcp_pct_pupils": "Pupils with an EHC plan (% of all pupils)"}
    s = spread(t[col], t["la_name"], ind.phrase(a), "%", 1)
    p.numbers.update(share_min=s["min"], share_max=s["max"], share_median=s["median"], share_england=ind.england(a))
    p.say("summary", f"{s['sentence']} {ind.england_text(a, 1)} (January census {year_label(ind.year(a))}).",
          _WORDS.direction())
    if ehcp_pct.available:
        e = spread(d["ehcp_pct_pupils"], d["la_name"], "the share of all pupils with an EHC plan", "%", 1)
        p.say("summary", e["sentence"])
        p.numbers.update(ehcp_pct_min=e["min"], ehcp_pct_max=e["max"])
    extra = {"ehcp_pct_pupils": "Pupils with an EHC plan (% of all)"} if ehcp_pct.available else {}
    p.tables["highest"] = la_list(d, col, ind.axis(a), ascending=False, extra=extra)
    p.tables["lowest"] = la_list(d, col, ind.axis(a), ascending=True, extra=extra)
    rv = region_variation(t, col, label=ind.phrase(a), unit="%")
    p.tables["regions"] = rv["table"]
    p.numbers["between_region_share"] = rv["between_share"]
    p.say("regions", rv["sentence"])
    labels = {col: ind.phrase(a), "idaci": "the " + dep.label}
    units = {col: "%"}
    p.say("deprivation", dep.note)
    if dep.available:
        p.fit("deprivation", d, col, "idaci", sources=[*ind.t.loc[a, "source_ids"], *dep.source_ids],
              labels=labels, units=units, say="deprivation")
    outcomes = [i for i in ("att_ks2_rwm_ehcp", "att_ks4_a8_ehcp", "att_ks4_p8_ehcp", "excl_fixed_ehcp",
                            "excl_perm_ehcp") if i in ind.t.index]
    rows = []
    for o in outcomes:
        if not has_values(t, o):
            p.say("outcomes", unpublished_sentence(ind, o, ed.final_year))
            continue
        lab = {f"{o}_value": ind.phrase(o), **labels}
        u = {f"{o}_value": ind.unit(o), **units}
        m = p.fit(f"outcome_{o}", d, f"{o}_value", col, sources=[*ind.t.loc[o, "source_ids"],
                  *ind.t.loc[a, "source_ids"]], labels=lab, units=u, say="outcomes")
        if m is None:
            continue
        rows.append(m)
        p.labels[f"{o}_value"] = ind.axis(o)
        if dep.available and (m2 := p.fit(f"outcome_{o}_idaci", d, f"{o}_value", [col, "idaci"],
                                          sources=[*m.source_ids, *dep.source_ids], labels=lab, units=u)):
            rows.append(m2)
    p.tables["outcomes"] = models_table(rows)
    if rows:
        p.say("outcomes", _WORDS.outcomes())
    return closing_sections(p, ed, t, ind, inds, highlight, inds)
