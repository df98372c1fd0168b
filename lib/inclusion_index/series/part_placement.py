"""Part 4: placement of EHC plan pupils in special and independent schools, against special-school supply and deprivation."""

from __future__ import annotations

import pandas as pd

from .adjusted import adjusted_section
from .context import context_measure, deprivation, ratio_measure
from .edition_facts import check_highlight, la_table
from .funnels import funnel_section
from .models import models_table, region_variation, spread
from .part import IndicatorFacts, Part, context_frame, highlight_section, la_list, published_indicators
from .text import fmt, year_label


def placement(ed, highlight: str | int | None = None) -> Part:
    """Part 4: special and independent placement; special-school supply; deprivation; regions."""
    p = Part("placement", "Placement")
    t = la_table(ed)
    ind = IndicatorFacts(ed)
    all_inds, inds = published_indicators(p, ed, t, ind, "placement")
    dep = deprivation(ed)
    schools = context_measure(ed, "ofsted_state_special_schools")
    plans = context_measure(ed, "sen2_ehcp_total", year=schools.year if schools.available else ed.final_year)
    supply = ratio_measure(schools, plans, 1000.0, "State-funded special schools per 1,000 EHC plans",
                           "per 1,000 plans", names=dict(zip(t["la_code"], t["la_name"], strict=True)))
    p.measures = [dep, schools, plans]
    d = context_frame(t, {"idaci": dep, "special_schools": schools, "ehc_plans": plans,
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
        p.tables[f"highest_{i}"] = la_list(t, f"{i}_value", ind.axis(i), ascending=False)
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
            p.fit(f"{i}_supply", d, y, "schools_per_1000_plans", sources=[*ind.t.loc[i, "source_ids"],
                  *supply.source_ids], labels=labels, units=units, say="supply")
        if dep.available:
            p.fit(f"{i}_idaci", d, y, "idaci", sources=[*ind.t.loc[i, "source_ids"], *dep.source_ids],
                  labels=labels, units=units, say="deprivation")
        if supply.available and dep.available:
            p.fit(f"{i}_supply_idaci", d, y, ["schools_per_1000_plans", "idaci"],
                  sources=[*ind.t.loc[i, "source_ids"], *supply.source_ids, *dep.source_ids],
                  labels=labels, units=units)
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
    funnel_section(p, ed, ind, inds, check_highlight(ed, highlight)[0])
    adjusted_section(p, ed, t, "placement")
    highlight_section(p, ed, highlight, t, ind, all_inds)
    return p
