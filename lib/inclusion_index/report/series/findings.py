"""Quotable headline findings for article drafting (findings.md), from the same computations as the notebooks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from inclusion_index.report.series.context import context_measure
from inclusion_index.report.series.edition_facts import (
    MEASURE_SHORT_NOTES,
    IndicatorFacts,
    change_range,
    data_years_sentence,
    data_years_text,
    indicator_cohorts,
    indicator_source_ids,
    la_coverage,
    la_table,
    range_label,
    rank_words,
    short_citation,
)
from inclusion_index.report.series.models import effect_text, spread
from inclusion_index.report.series.part import estimate_note, estimated, has_values
from inclusion_index.report.series.part_conclusions import chance_sentence, headline_same, improvement_frame
from inclusion_index.report.series.part_exclusions import exclusions
from inclusion_index.report.series.part_placement import placement
from inclusion_index.report.series.text import (
    agree,
    dp_for,
    dp_for_step,
    fmt,
    iod_label,
    nice_step,
    unit_level,
    year_label,
    years_label,
)


def findings(ed) -> list[dict]:
    """Short quotable sentences for findings.md: dicts of text, number, years and source.

    ``years`` is the finding's real data years in words (an index-wide finding rests on every
    indicator's data year, which is older than the edition's name for most of them) and
    ``data_years`` the same as year keys, so a finding is never stamped with the edition's year."""
    out: list[dict] = []
    t = la_table(ed)
    ind = IndicatorFacts(ed)
    scored = t[t["scored"]].sort_values(["overall_rank", "la_name"])
    all_ids = sorted({sid for ids in ind.t["source_ids"] for sid in ids})
    index_src = f"SEND inclusion index ({ed.method.name}) from {short_citation(all_ids)}"
    yl = year_label(ed.final_year)
    edn = f"the {yl} edition"
    every = list(ind.t.index)
    all_years = data_years_text(ed, every)

    def add(text: str, number: float, years: str, source: str, data_years: tuple[str, ...] = ()) -> None:
        out.append({"text": text, "number": float(number), "years": years, "source": source,
                    "data_years": tuple(sorted(set(data_years)))})

    def keys(indicators, index_years=(ed.final_year,)) -> tuple[str, ...]:
        v = ed.values
        m = v["indicator"].isin(list(indicators)) & v["index_year"].isin(list(index_years))
        return tuple(sorted(set(v.loc[m, "data_year"].dropna().astype(str))))

    every_keys = keys(every)

    top, bot = scored.iloc[0], scored.iloc[-1]
    settings = ed.monte_carlo_settings()
    rl = range_label()
    cov = la_coverage(ed)
    of = f"the {len(scored)} LAs ranked" + (f" (of England's {cov['n_england']}: {cov['excluded_short']})"
                                            if cov["excluded_short"] else "")
    mc_src = f"{index_src}; rank ranges from {settings.n_draws} Monte Carlo runs"
    add(f"{top['la_name']} has the highest overall score of {of} on the SEND inclusion index in {edn}, "
        f"{fmt(top['overall_score'])} out of 100, and ranks "
        f"{rank_words(top['overall_rank'], top.get('overall_rank_lo'), top.get('overall_rank_hi'))}.",
        top["overall_score"], all_years, mc_src, every_keys)
    add(f"{bot['la_name']} has the lowest overall score of the {len(scored)} LAs ranked in {edn}, "
        f"{fmt(bot['overall_score'])}, and ranks "
        f"{rank_words(bot['overall_rank'], bot.get('overall_rank_lo'), bot.get('overall_rank_hi'))}.",
        bot["overall_score"], all_years, mc_src, every_keys)
    if "overall_rank_lo" in scored and scored["overall_rank_lo"].notna().any():
        width = (scored["overall_rank_hi"] - scored["overall_rank_lo"]).astype("float64")
        overlap = int((scored["overall_rank_lo"] <= 10).sum())
        add(f"Ranks on the index are uncertain: the typical LA's {rl} spans {fmt(width.median(), 0)} places when "
            f"the method's choices and chance are varied ({settings.n_draws} runs, {edn}), and {overlap} LAs' ranges "
            "overlap the top 10.", width.median(), all_years, mc_src, every_keys)
    reg = ed.regional().sort_values("overall_score", ascending=False)
    add(f"{reg.index[0]} has the highest average overall score of the {len(reg)} regions in {edn} "
        f"({fmt(reg['overall_score'].iloc[0])}); {reg.index[-1]} has the lowest ({fmt(reg['overall_score'].iloc[-1])}).",
        reg["overall_score"].iloc[0], all_years, index_src, every_keys)
    imp = improvement_frame(ed, t)
    if len(imp):
        r = imp.iloc[0]
        yrs = f"{year_label(ed.first_year)} to {yl}"
        # the two index years' own data years: both rest on older data than their names
        imp_keys = keys(every, (ed.first_year, ed.final_year))
        imp_years = (f"index years {yrs}, on data from {year_label(imp_keys[0])} to {year_label(imp_keys[-1])}"
                     if imp_keys else f"index years {yrs}")
        verdict = ("beyond uncertainty" if r["significant"] else "though within uncertainty")
        n_ind = int(r["indicators_compared"])
        compared = list(imp.attrs.get("indicators_compared", []))
        imp_ids = sorted({sid for y in (ed.first_year, ed.final_year) for i in compared
                          for sid in indicator_source_ids(ed, i, y)})
        imp_src = (f"SEND inclusion index ({ed.method.name}) re-scored on the indicators of both years, from "
                   f"{short_citation(imp_ids)}; change ranges from {settings.n_draws} Monte Carlo runs")
        same = headline_same(imp)
        add(f"{r['la_name']} is the most improved LA from {yrs}, up {fmt(r['change'])} points when both years are "
            f"scored on only the {n_ind} indicators published in both (from {fmt(r['score_early'])} to "
            f"{fmt(r['score_late'])}; {rl} {change_range(r['change_lo'], r['change_hi'])}, {verdict})"
            + ("." if same else f"; these like-for-like scores differ from its headline scores "
               f"({fmt(r['headline_early'])} in {year_label(ed.first_year)}, {fmt(r['headline_late'])} in {yl})."),
            r["change"], imp_years, imp_src, imp_keys)
        k, m = int(imp["significant"].sum()), int(imp["declined_significant"].sum())
        chance, _ = chance_sentence(len(imp), k, m, settings)
        add(f"{k} of the {len(imp)} LAs compared improved beyond uncertainty from {yrs}, and {m} fell beyond "
            f"uncertainty: the {rl} of their change in overall score, over {settings.n_draws} Monte Carlo runs, lies "
            f"wholly above (or below) zero. {chance}", k, imp_years, imp_src, imp_keys)
    for i in ("excl_fixed_ehcp", "assess_ehcp_share", "place_indep_nmss", "att_ks4_a8_ehcp"):
        if i not in ind.t.index or not has_values(t, i):
            continue
        # an estimate set for a suppressed small count is never named as the lowest or highest
        s = spread(t[f"{i}_value"], t["la_name"], ind.phrase(i), ind.unit(i), estimated=estimated(ed, t, i),
                   estimate_note=estimate_note(ed, i), cohort=t["la_code"].map(indicator_cohorts(ed, i)),
                   small=ed.run.uncertainty.small_cohort)
        u = unit_level(ind.unit(i))
        k = s["n_estimated"]
        among = (f" among the {s['n_published']} LAs with a published figure ({k} more "
                 f"{agree(k, 'has', 'have')} only an estimate from a suppressed count)" if k else "")
        measure = str(ind.t.loc[i, "measure"])
        kind = (f" The rate is a {MEASURE_SHORT_NOTES[measure]}, not directly comparable with the annual rates of "
                "earlier editions." if measure in MEASURE_SHORT_NOTES else "")
        add(f"Across LAs, {ind.phrase(i)} ranges from {fmt(s['min'], s['dp'])}{u} {s['lowest_text']} to "
            f"{fmt(s['max'], s['dp'])}{u} {s['highest_text']}{among} ({year_label(ind.year(i))}; "
            f"{ind.england_text(i, s['dp'])}).{kind}", s["max"], year_label(ind.year(i)),
            short_citation(ind.t.loc[i, "source_ids"]), keys([i]))
    pl = placement(ed)
    for key in ("place_state_special_supply", "place_state_special_idaci"):
        m = pl.models.get(key)
        if m:
            # cite the data this model uses: the indicator and its own predictors only
            add(m.sentence(), m.term(m.x[0])["per_step"], data_years_text(ed, ["place_state_special"]),
                short_citation(m.source_ids), keys(["place_state_special"]))
    share = pl.numbers.get("place_state_special_between_region_share")
    if share is not None and np.isfinite(share):
        add(f"Regions account for {fmt(share * 100, 0)}% of the variation between LAs in "
            f"{ind.phrase('place_state_special')} ({year_label(ind.year('place_state_special'))}); the rest lies "
            "between LAs of the same region.", share * 100, data_years_text(ed, ["place_state_special"]),
            short_citation(ind.t.loc["place_state_special", "source_ids"]), keys(["place_state_special"]))
    res = ed.adjustment
    fit = res.fits.get("overall")
    if fit is not None and "idaci" in fit.covariates:
        c = fit.coefficients.set_index("term").loc["idaci"]
        step = nice_step(float(res.scores.loc[fit.expected.notna(), "idaci"].std()))
        eff, lo, hi = (float(c[k]) * step for k in ("coef", "ci_lower", "ci_upper"))
        dep_ids = context_measure(ed, ed.method.deprivation_measure, year=ed.method.deprivation_year).source_ids
        held, plans = "", []
        if "ehcp_pct_pupils" in fit.covariates:
            held = " (taking the share of pupils with an EHC plan into account)"
            plans = context_measure(ed, res.settings.ehcp_rate_measure, year=ed.final_year).source_ids
        elif "log_ehcp_total" in fit.covariates:
            held = " (taking the number of EHC plans into account)"
            plans = context_measure(ed, res.settings.ehcp_measure, year=ed.final_year).source_ids
        add(f"Across {fit.n} LAs in {edn}, where child deprivation (the IDACI average score, "
            f"{iod_label(ed.method.deprivation_year)}) is {fmt(step, dp_for_step(step))} higher{held}, "
            f"the overall inclusion score is on average {effect_text(eff, lo, hi, ' points')}.", eff, all_years,
            short_citation([*all_ids, *dep_ids, *plans]), every_keys)
    ex = exclusions(ed)
    if "idaci" in ex.models:
        m = ex.models["idaci"]
        i = m.y.removesuffix("_value")
        add(m.sentence(), m.term("idaci")["per_step"], year_label(ind.year(i)), short_citation(m.source_ids),
            keys([i]))
    return out


def number_text(x: float) -> str:
    """A finding's number as text: counts without decimals, other figures to sensible places."""
    x = float(x)
    return fmt(x, 0) if np.isfinite(x) and x == round(x) else fmt(x, max(1, dp_for(x)))


def findings_table(ed, items: list[dict] | None = None) -> pd.DataFrame:
    """The findings as a display table (Finding, Number, Data years, Source); numbers as text, so a
    count never shows decimals."""
    items = items if items is not None else findings(ed)
    out = pd.DataFrame(items, columns=["text", "number", "years", "source"]).rename(
        columns={"text": "Finding", "number": "Number", "years": "Data years", "source": "Source"})
    out["Number"] = out["Number"].map(number_text)
    return out


def findings_markdown(ed, items: list[dict] | None = None) -> str:
    """findings.md text: one bullet per finding with its years and source."""
    items = items if items is not None else findings(ed)
    lines = [f"# Findings: SEND inclusion index, {year_label(ed.final_year)} edition", "",
             f"Method: {ed.method.name}. Index years {years_label(ed.years)}.", "",
             f"{data_years_sentence(ed)} Each finding gives the data years it rests on.", ""]
    lines += [f"- {f['text']} (Data years: {f['years']}. Source: {f['source']}.)" for f in items]
    return "\n".join(lines) + "\n"
