"""Part 4: placement of EHC plan pupils against special-school supply and deprivation; AP/PRU and
no school place as context, never scored."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from inclusion_index.report.series.context import (
    ContextMeasure,
    context_measure,
    deprivation,
    measure_years,
    ratio_measure,
)
from inclusion_index.report.series.edition_facts import IndicatorFacts, check_highlight, la_table
from inclusion_index.report.series.funnels import closing_sections
from inclusion_index.report.series.models import region_variation, spread
from inclusion_index.report.series.part import Part, context_frame, la_list, published_indicators
from inclusion_index.report.series.text import (
    and_join,
    dp_for,
    fmt,
    fmt_int,
    fmt_value,
    lower_first,
    plural,
    sentence_case,
    year_label,
    years_label,
)
from inclusion_index.report.templates import words
from inclusion_index.sources.geography import region_order

_WORDS = words("parts/beyond.md")


class Beyond(NamedTuple):
    """A placement described beside the index indicators, never scored."""

    pct: str  # share of the LA's plans (SEN2 measure)
    count: str  # the plans behind it
    phrase: str  # noun phrase for sentences
    short: str  # table heading
    where: str  # after a share: "4.2% in AP/PRU"


# Keys are the column stems of frames["beyond"] (``<key>_pct``, ``<key>``).
BEYOND: dict[str, Beyond] = {
    "ap_pru": Beyond("sen2_ehcp_ap_pru_pct", "sen2_ehcp_ap_pru",
                     "the share of EHC plans in alternative provision or pupil referral units (AP/PRU)", "AP/PRU",
                     "in AP/PRU"),
    "no_school_place": Beyond("sen2_ehcp_no_school_place_pct", "sen2_ehcp_no_school_place",
                              "the share of EHC plans with no school place", "No school place",
                              "with no school place")}

def placement(ed, highlight: str | int | None = None) -> Part:
    """Part 4: placement, AP/PRU and no school place (context), special-school supply, deprivation."""
    p = Part("placement", "Placement")
    t, ind = la_table(ed), IndicatorFacts(ed)
    all_inds, inds = published_indicators(p, ed, t, ind, "placement")
    dep = deprivation(ed)
    schools, candidates = supply_count(ed)
    plans = context_measure(ed, "sen2_ehcp_total", year=schools.year if schools.available else ed.final_year)
    supply = ratio_measure(schools, plans, 1000.0, "State-funded special schools per 1,000 EHC plans",
                           "per 1,000 plans", names=dict(zip(t["la_code"], t["la_name"], strict=True)))
    p.measures = [dep, schools, plans]
    p.data = d = context_frame(t, {"idaci": dep, "special_schools": schools, "ehc_plans": plans,
                                   "schools_per_1000_plans": supply})
    p.labels = {f"{i}_value": ind.axis(i) for i in all_inds} | {
        "idaci": dep.label, "schools_per_1000_plans": "State-funded special schools per 1,000 EHC plans" + (
            f" ({ed.run.placement.supply_counts[schools.measure][0]}, {year_label(str(schools.year))})" if supply.available else "")}
    rows = []
    for i in inds:
        s = spread(t[f"{i}_value"], t["la_name"], ind.phrase(i), "%", 1)
        p.say("summary", f"{s['sentence']} {ind.england_text(i, 1)} ({year_label(ind.year(i))}).")
        rows.append({"Indicator": ind.short(i), "Data year": year_label(ind.year(i)), "England": ind.england(i),
                     "Lowest LA": s["lowest"], "Lowest": s["min"], "Median": s["median"],
                     "Highest LA": s["highest"], "Highest": s["max"], "LAs": s["n"]})
        p.numbers.update({f"{i}_min": s["min"], f"{i}_max": s["max"], f"{i}_median": s["median"]})
        p.tables[f"highest_{i}"] = la_list(t, f"{i}_value", ind.axis(i), ascending=False, extra={
            "placement_unrecorded_pct": "Placement not recorded (%)"} if t["placement_unrecorded_pct"].gt(0).any() else None)
    p.tables["summary"] = pd.DataFrame(rows)
    if inds:
        recording_section(p, ed, t, ind.year(inds[0]))
    beyond_section(p, ed, t, check_highlight(ed, highlight)[0])
    beyond = p.frames.get("beyond", pd.DataFrame())
    lowest = {ind.phrase(i): t[f"{i}_value"] for i in inds} | {
        BEYOND[k].phrase: beyond[f"{k}_pct"] for k in BEYOND if f"{k}_pct" in beyond}
    p.say("beyond", *_lowest_on_several(lowest, t["la_name"].reset_index(drop=True)))
    labels = {f"{i}_value": ind.phrase(i) for i in inds} | {
        "idaci": "the " + dep.label,
        "schools_per_1000_plans": "the number of state-funded special schools per 1,000 EHC plans"}
    units = {f"{i}_value": "%" for i in inds}
    p.say("supply", _supply_choice_sentence(ed, schools, candidates), plans.note,
          supply.note if supply.available else "")
    if supply.available:
        s = spread(d["schools_per_1000_plans"], d["la_name"], "special-school supply", "per 1,000 EHC plans", 1)
        p.say("supply", s["sentence"])
        p.numbers.update(supply_min=s["min"], supply_max=s["max"], supply_median=s["median"])
        if gap := _start(ed.final_year) - _start(str(schools.year)):
            p.say("supply", _WORDS.supply_gap(year_label(ed.final_year), plural(gap, "year")))
    else:
        p.notes.append(supply.note)
        p.say("supply", _WORDS.no_supply())
    p.say("deprivation", dep.note)
    fits = (("supply", "schools_per_1000_plans", [supply], "supply"), ("idaci", "idaci", [dep], "deprivation"),
            ("supply_idaci", ["schools_per_1000_plans", "idaci"], [supply, dep], None))
    for i in inds:
        for key, x, ctx, say in fits:
            if all(c.available for c in ctx):
                p.fit(f"{i}_{key}", d, f"{i}_value", x, sources=[*ind.t.loc[i, "source_ids"], *(
                      s for c in ctx for s in c.source_ids)], labels=labels, units=units, say=say)
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
        p.say("regions", _WORDS.within(fmt(min(within), 0), fmt(max(within), 0), min(within) > 50))
    return closing_sections(p, ed, t, ind, inds, highlight, all_inds)


# England rows of section "recording": (measure, what it is, where it comes from)
_ENGLAND_PLACEMENT = [
    ("sen2_ehcp_state_special_pct_recorded", "State-funded special schools, % of the plans with a recorded placement",
     "the index's definition, from DfE's national counts"),
    ("sen2_ehcp_indep_nmss_pct_recorded",
     "Independent or non-maintained schools, % of the plans with a recorded placement",
     "the index's definition, from DfE's national counts"),
    ("sen2_ehcp_placement_unknown_pct", "Placement not recorded, % of all plans", "DfE's national counts"),
    ("sen2_ehcp_special_any_pct_published", "Special schools of any kind (state-funded, non-maintained, "
     "independent), % of all plans", "DfE's published percentage (special_total_pc)"),
    ("sen2_ehcp_placement_unknown_pct_published", "Placement not recorded, % of all plans",
     "DfE's published percentage (placement_unknown_pc)"),
]


def recording_section(p: Part, ed, t: pd.DataFrame, year: str) -> None:
    """Section "recording": the plans the shares are of, LAs' unrecorded placements (flagged above the
    method's threshold) and England's figures beside DfE's own (docs/METHOD.md, placement denominators)."""
    u = t.set_index("la_name")["placement_unrecorded_pct"].dropna()
    if not u.gt(0).any():
        return
    above = u[u > ed.method.unrecorded_flag_pct].sort_values(ascending=False)
    pw = words("parts/placement.md")
    f = {"recorded_only": ed.method.placement_recorded_only, "year": year_label(year), "median": fmt(u.median(), 1),
         "max": fmt(u.max(), 1), "flag": fmt(ed.method.unrecorded_flag_pct, 0), "flagged": list(above.index),
         "flagged_list": and_join([f"{n} ({fmt(x, 1)}%)" for n, x in above.items()])}
    p.say("recording", pw.basis(f), pw.unrecorded(f))
    p.numbers.update(unrecorded_median=float(u.median()), unrecorded_max=float(u.max()),
                     unrecorded_flagged=len(above))
    e = pd.concat({m: _england(ed, m, [year]).iloc[0] for m, _, _ in _ENGLAND_PLACEMENT}, axis=1).T
    if e["value"].isna().all():
        return
    p.tables["recording"] = pd.DataFrame({
        "England figure": [w for _, w, _ in _ENGLAND_PLACEMENT], "Basis": [b for _, _, b in _ENGLAND_PLACEMENT],
        "%": e["value"].to_numpy(), "Plans": e["numerator"].to_numpy(), "Of plans": e["denominator"].to_numpy()})
    ss, ind_, unk, any_pub, unk_pub = (e.loc[m] for m, _, _ in _ENGLAND_PLACEMENT)
    lg = ed.long
    la = lg[(lg["level"] == "la") & (lg["year"] == year)]
    la_unk = la[la["measure"] == "sen2_ehcp_placement_unknown"]
    plans = la[(la["measure"] == "sen2_ehcp_total") & la["la_code"].isin(la_unk.loc[la_unk["value"].isna(), "la_code"])]
    f |= {"special": _pct(ss["value"], 1), "recorded": fmt_int(ss["denominator"]), "independent": _pct(ind_["value"], 1),
          "all": fmt_int(unk["denominator"]), "any_special": _pct(any_pub["value"], 1),
          "not_recorded": _pct(unk_pub["value"], 1), "unknown": fmt_int(unk["numerator"]),
          "extra": fmt_int(unk["numerator"] - la_unk["value"].sum()), "plans": fmt_int(plans["value"].sum()),
          "las": and_join(sorted(plans["la_name"].astype(str)))}
    p.say("recording", pw.england(f), pw.published(f) if np.isfinite(any_pub["value"]) else "",
          pw.withheld(f) if unk["numerator"] > la_unk["value"].sum() and len(plans) else "")
    p.numbers.update({f"england_{m}": float(e.loc[m, "value"]) for m, _, _ in _ENGLAND_PLACEMENT})


def _start(year: str) -> int:
    return int(str(year)[:4])


def supply_count(ed) -> tuple[ContextMeasure, list[ContextMeasure]]:
    """(the special-school count the supply measure uses by the placement.yml rule, or the first
    candidate, unavailable; every candidate)."""
    cands = [context_measure(ed, m) for m in ed.run.placement.supply_counts]
    have = [c for c in cands if c.available]
    if not have:
        return cands[0], cands
    # the nearest year to the edition's; of equally near counts, the first listed (min keeps the first)
    return min(have, key=lambda c: abs(_start(ed.final_year) - _start(str(c.year)))), cands


def _supply_choice_sentence(ed, chosen: ContextMeasure, cands: Sequence[ContextMeasure]) -> str:
    """Which count the supply measure uses, for which year, what it counts, and why not the others."""
    if not chosen.available:
        return " ".join(c.note for c in cands)
    counts = ed.run.placement.supply_counts
    facts = [{"label": lower_first(c.label), "counts": counts[c.measure][1], "final": year_label(ed.final_year),
              "note": c.note, "year": year_label(str(c.year)) if c.available else "",
              "years": ", ".join(year_label(y) for y in measure_years(ed, c.measure))} for c in cands]
    chosen_at = [c.measure for c in cands].index(chosen.measure)
    return words("parts/placement.md").supply(facts[chosen_at], facts[:chosen_at] + facts[chosen_at + 1:])


def _england(ed, measure: str, years: Sequence[str]) -> pd.DataFrame:
    """DfE's published England figure of a measure by year: value, numerator, denominator."""
    lg = ed.long
    n = lg[(lg["measure"] == measure) & (lg["level"] == "national") & lg["year"].isin(list(years))]
    return n.drop_duplicates("year").set_index("year")[["value", "numerator", "denominator"]].astype(
        "float64").reindex(list(years))


def _pct(x: float, dp: int) -> str:
    return f"{fmt_value(x, min(dp, 1)) if x else '0'}%"  # as the tables print it


def _where(v: pd.Series, names: pd.Series, x: float) -> str:
    """'in Newham', 'in Barnet and Brent', or 'in 13 LAs' for every LA at value ``x``."""
    at = sorted(names[v == x].astype(str))
    return f"in {and_join(at)}" if len(at) <= 3 else f"in {plural(len(at), 'LA')}"


def _spread_sentence(v: pd.Series, names: pd.Series, phrase: str, dp: int) -> tuple[str, dict]:
    """The range across LAs, naming every LA tied at an end (many LAs have no AP/PRU plans)."""
    s = spread(v, names, phrase, "%", dp)
    text = (f"{sentence_case(phrase)} ranges from {_pct(s['min'], dp)} {_where(v, names, s['min'])} to "
            f"{_pct(s['max'], dp)} {_where(v, names, s['max'])}; the middle half of the {s['n']} LAs lie between {_pct(s['q1'], dp)} "
            f"and {_pct(s['q3'], dp)} (median {_pct(s['median'], dp)}).")
    return text, s


def _england_change_sentence(ed, key: str, e: pd.DataFrame, dp: int) -> str:
    """England's change over the edition's years, split at a series break inside them."""
    b = BEYOND[key]
    years = [y for y in ed.years if np.isfinite(e.loc[y, "value"])]
    if not years:
        return f"No England figure of {b.phrase} is in the data for {years_label(ed.years)}."
    brk = ed.run.placement.series_breaks.get(b.pct)
    split = brk and years[0] < brk[0] <= years[-1]
    segs = [([y for y in years if y < brk[0]], "earlier"), ([y for y in years if y >= brk[0]], "new")] if split \
        else [(years, "")]
    segments = [{"which": which, "years": [year_label(y) for y in (seg[0], seg[-1])][:len(seg)],
                 "figs": [_pct(e.loc[y, "value"], dp) for y in (seg[0], seg[-1])][:len(seg)],
                 "plans": [fmt_int(e.loc[y, "numerator"]) for y in (seg[0], seg[-1])][:len(seg)],
                 "up": e.loc[seg[-1], "value"] > e.loc[seg[0], "value"]} for seg, which in segs]
    # year key 201819 is the January 2019 census
    return words("parts/placement.md").england_change(
        b.phrase, segments, {"year": _start(brk[0]) + 1, "why": brk[1]} if split else None)


def beyond_section(p: Part, ed, t: pd.DataFrame, highlight: str | None) -> None:
    """Section "beyond": plans in AP/PRU and with no school place (context, never scored) across LAs,
    regions and England's years."""
    final = ed.final_year
    names = t["la_name"].reset_index(drop=True)
    frame = t[["la_code", "la_name", "region"]].reset_index(drop=True)
    frame["ehc_plans"] = frame["la_code"].map(context_measure(ed, "sen2_ehcp_total", year=final).values)
    shares = {k: context_measure(ed, b.pct, year=final) for k, b in BEYOND.items()}
    if not any(c.available for c in shares.values()):
        p.say("beyond", *(c.note for c in shares.values()))
        return
    p.say("beyond", _WORDS.intro())
    eng = pd.DataFrame({"Year": [year_label(y) for y in ed.years]})
    summary = []
    dps: dict[str, int] = {}
    missing: dict[str, list[str]] = {}
    for k, b in BEYOND.items():
        c = shares[k]
        # the pct measures' own years, so the sources table lists every year the England change reads
        p.measures.extend(context_measure(ed, b.pct, year=y) for y in ed.years)
        if not c.available:
            p.say("beyond", c.note)
            continue
        v = frame["la_code"].map(c.values).astype("float64")
        frame[f"{k}_pct"] = v
        frame[k] = frame["la_code"].map(context_measure(ed, b.count, year=final).values)
        dp = dps[k] = dp_for(v.dropna())
        text, s = _spread_sentence(v, names, b.phrase, dp)
        e = _england(ed, b.pct, ed.years)
        ef = e.loc[final]
        england = (f" England {_pct(ef['value'], dp)} in {year_label(final)} ({fmt_int(ef['numerator'])} of "
                   f"{fmt_int(ef['denominator'])} plans)." if np.isfinite(ef["value"])
                   else f" No England figure for {year_label(final)} is in the data.")
        missing[k] = sorted(names[v.isna()].astype(str))
        p.say("beyond", text + england)
        p.numbers.update({f"{k}_min": s["min"], f"{k}_max": s["max"], f"{k}_median": s["median"],
                          f"{k}_england": float(ef["value"])})
        summary.append({"Placement": b.short, "Year": year_label(final), "England (%)": float(ef["value"]),
                        "Lowest (%)": s["min"], "Median (%)": s["median"], "Highest (%)": s["max"], "LAs": s["n"]})
        eng[[f"{b.short} (%)", f"{b.short} (plans)", "All EHC plans"]] = e[["value", "numerator", "denominator"]].to_numpy()
        p.say("beyond_england", _england_change_sentence(ed, k, e, dp))
    if not summary:
        return
    p.say("beyond", *_missing_sentences(missing, final))
    marked = frame.set_index("la_code")["la_name"].get(highlight) if highlight else None
    left_out = [f"{n} (highlighted)" if n == marked else n for n in missing.get("no_school_place", [])]
    p.labels["no_school_place_note"] = (f"Not shown, no figure in the source: {and_join(left_out)}."
                                        if left_out else "")
    p.tables.update(beyond_summary=pd.DataFrame(summary), beyond_regions=_region_table(frame, dps, p), beyond_england=eng)
    p.frames["beyond"] = frame
    p.labels |= {f"{k}_pct": f"{BEYOND[k].short} (% of the LA's EHC plans)" for k in dps}
    p.say("beyond", *_highlight_beyond(frame, highlight, dps, final))


def _lowest_on_several(shares: dict[str, pd.Series], names: pd.Series) -> list[str]:
    """A reporter's question (REVIEW_READERS 5): an LA alone at the bottom of three or more placement
    shares at once may be recording its plans differently, not placing children differently."""
    alone = {}
    for phrase, v in shares.items():
        v = v.reset_index(drop=True)
        if v.notna().any() and (v == v.min()).sum() == 1:
            alone.setdefault(str(names[v.idxmin()]), []).append(phrase)
    return [_WORDS.lowest_on_several(la, and_join(ps)) for la, ps in alone.items() if len(ps) >= 3]


def _missing_sentences(missing: dict[str, list[str]], year: str) -> list[str]:
    """The LAs left out of each share (one sentence when the same LAs miss both)."""
    lists = [m for m in missing.values() if m]  # none missing: the list below is empty
    both = len(lists) == len(missing) and all(m == lists[0] for m in lists)
    return [_WORDS.missing(and_join(m), len(m), year_label(year), "" if both else BEYOND[k].phrase)
            for k, m in missing.items() if m][:1 if both else None]


def _region_table(frame: pd.DataFrame, dps: dict[str, int], p: Part) -> pd.DataFrame:
    """Per region (and England, DfE's published figure): the LAs' plans pooled, and the LA median."""
    present = set(frame["region"].dropna())
    regions = [r for r in region_order() if r in present] + sorted(present - set(region_order()))

    def row(name: str, g: pd.DataFrame, england: bool = False) -> dict[str, object]:
        out: dict[str, object] = {"Region": name, "LAs": int(g[[f"{k}_pct" for k in dps]].notna().any(axis=1).sum())}
        for k in dps:
            ok = g[f"{k}_pct"].notna() & g["ehc_plans"].gt(0) & g[k].notna()
            out[f"{BEYOND[k].short} (% of the region's plans)"] = p.numbers[f"{k}_england"] if england else (
                float(g.loc[ok, k].sum() / g.loc[ok, "ehc_plans"].sum() * 100) if ok.any() else np.nan)
            out[f"{BEYOND[k].short}: LA median (%)"] = float(g[f"{k}_pct"].median())
        return out

    out = pd.DataFrame([*(row(r, frame[frame["region"] == r]) for r in regions), row("England (published)", frame, True)])
    for k, dp in dps.items():
        col = f"{BEYOND[k].short} (% of the region's plans)"
        reg = out.iloc[:-1].dropna(subset=[col])
        if len(reg) > 1:
            lo, hi = reg.loc[reg[col].idxmin()], reg.loc[reg[col].idxmax()]
            p.say("beyond_regions", f"By region, {BEYOND[k].phrase} runs from {_pct(lo[col], dp)} of plans in "
                  f"{lo['Region']} to {_pct(hi[col], dp)} in {hi['Region']} (each region's LAs' plans pooled).")
    return out


def _highlight_beyond(frame: pd.DataFrame, code: str | None, dps: dict[str, int], year: str) -> list[str]:
    if not code:
        return []
    r = frame.set_index("la_code").loc[code]
    if all(pd.isna(r[f"{k}_pct"]) for k in dps):
        return [f"{r['la_name']} has no figure for these placements in {year_label(year)} in the source."]
    vals = [f"{_pct(r[f'{k}_pct'], dp)} of its EHC plans {BEYOND[k].where}" if pd.notna(r[f"{k}_pct"]) else
            f"no figure for its EHC plans {BEYOND[k].where}" for k, dp in dps.items()]
    return [f"{r['la_name']}: {and_join(vals)} ({year_label(year)})."]
