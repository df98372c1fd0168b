"""Part 6: the overall ranking, regional summary and most improved LAs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from inclusion_index.index.scoring import AREA_NAMES, AREAS
from inclusion_index.report.series.adjusted import adjusted_for_words, adjusted_section
from inclusion_index.report.series.edition_facts import (
    IndicatorFacts,
    change_range,
    data_years_compared,
    la_table,
    plain_codes,
    range_label,
    rank_words,
)
from inclusion_index.report.series.models import region_variation
from inclusion_index.report.series.part import Part, highlight_section, ranking_frame, ranking_table
from inclusion_index.report.series.part_introduction import LIMITS
from inclusion_index.report.series.text import (
    NA,
    agree,
    and_join,
    chance_count,
    fmt,
    level_label,
    lower_first,
    ordinal,
    plural,
    year_label,
)
from inclusion_index.report.templates import words


def improvement_frame(ed, t: pd.DataFrame | None = None) -> pd.DataFrame:
    """ed.improvement per LA with name, region, the change's range, ``significant`` /
    ``declined_significant`` / ``beyond``, both years' headline scores and ``change_note``, by change."""
    imp = ed.improvement
    if imp is None or imp.empty:
        return pd.DataFrame()
    ext = (la_table(ed) if t is None else t).set_index("la_code")
    i = imp.reset_index().merge(ed.geography[["la_code", "la_name", "region"]], on="la_code", how="left")
    i = i.dropna(subset=["change"]).sort_values(["improvement_rank", "score_late"], ascending=[True, False])
    for col, src in (("change_lo", "overall_change_lo"), ("change_hi", "overall_change_hi")):
        i[col] = i["la_code"].map(ext[src]).astype("float64") if src in ext else np.nan
    i["significant"] = (i["la_code"].map(ext["improvement_significant"]).astype("boolean").fillna(False).astype(bool)
                        if "improvement_significant" in ext else False)
    i["declined_significant"] = i["change_hi"] < 0
    i["beyond"] = np.select([i["significant"], i["declined_significant"], i["change_lo"].isna()],
                            ["yes, a rise", "yes, a fall", "no range"], "no")
    for k, y in (("early", ed.first_year), ("late", ed.final_year)):
        i[f"headline_{k}"] = i["la_code"].map(ed.scored[y].scores["overall_score"]).astype("float64")
    i["change_note"] = i["la_code"].map(ext["change_note"]).fillna("") if "change_note" in ext else ""
    i.attrs.update(imp.attrs)
    return i.reset_index(drop=True)


def headline_same(i: pd.DataFrame) -> bool:
    """True when the like-for-like scores are the headline scores (every indicator in both years)."""
    a = i[["score_early", "headline_early", "score_late", "headline_late"]].astype("float64").dropna()
    return bool(len(a)) and bool(np.allclose(a["score_early"], a["headline_early"])
                                 and np.allclose(a["score_late"], a["headline_late"]))


def chance_sentence(n: int, rises: int, falls: int, settings) -> tuple[str, int]:
    """What chance alone would give each way with the interval's tails; (sentence, count expected)."""
    tail = (1 - settings.interval) / 2
    k = chance_count(tail, n)
    return (f"A {level_label(settings.interval)} range is not a test: even if no LA had really changed, chance "
            f"alone would put about {level_label(round(tail, 9))} of LAs beyond uncertainty in each direction, "
            f"about {k} of these {n} rising and {k} falling, against {rises} rises and {falls} falls here.", k)


def _predecessor_sentence(ed, i: pd.DataFrame) -> str:
    """LAs whose starting values are a predecessor's (boundary change), with that predecessor."""
    noted = i[i["change_note"].astype(str) != ""]
    if noted.empty:
        return ""
    first = ed.values[(ed.values["index_year"] == ed.first_year) & ed.values["la_code"].isin(noted["la_code"])]
    codes = {c for p in first["predecessors"] if p for c in p.split(",")}
    names = ed.ref.names() if ed.ref is not None else {}
    who = and_join(sorted(names.get(c, c) for c in codes)) or "a predecessor LA"
    whose = "its" if len(noted) == 1 else "each one's"
    return (f"For {and_join(list(noted['la_name']))}, the {year_label(ed.first_year)} starting values are those of "
            f"{who}, before a boundary change: {whose} change compares the new LA with {who}'s figures.")


def _improved_section(p: Part, ed, ind: IndicatorFacts, t: pd.DataFrame, settings) -> None:
    i = improvement_frame(ed, t)
    if i.empty:
        p.say("improved", words("parts/conclusions.md").single_year(year_label(ed.final_year)))
        return
    compared = list(i.attrs.get("indicators_compared", []))
    n_ind = (int(t["change_indicators_compared"].dropna().iloc[0]) if "change_indicators_compared" in t
             and t["change_indicators_compared"].notna().any() else len(compared))
    p.frames["improvement"] = i
    e, f, rl = year_label(ed.first_year), year_label(ed.final_year), range_label()
    tab = pd.DataFrame({
        "Local authority": i["la_name"], "Region": i["region"], f"Like-for-like score {e}": i["score_early"],
        f"Like-for-like score {f}": i["score_late"], "Change": i["change"],
        f"Change ({rl})": [change_range(a, b) for a, b in zip(i["change_lo"], i["change_hi"], strict=True)],
        "Beyond uncertainty?": i["beyond"],
        f"Rank on these indicators, {e} → {f}": [f"{int(a)} → {int(b)}" if pd.notna(a) and pd.notna(b) else NA
                   for a, b in zip(i["rank_early"], i["rank_late"], strict=True)],
        f"Headline score {f}": i["headline_late"]})
    if headline_same(i):  # the like-for-like scores are the headline ones: no need to show both
        tab = tab.drop(columns=f"Headline score {f}")
    p.tables["improved"] = tab.head(10).reset_index(drop=True)
    p.tables["declined"] = tab.tail(10).iloc[::-1].reset_index(drop=True)
    sig = i[i["significant"]]
    p.tables["significant"] = tab.loc[i["significant"].to_numpy()].drop(columns=["Beyond uncertainty?"]).reset_index(
        drop=True)
    top_i, k, m = i.iloc[0], int(i["significant"].sum()), int(i["declined_significant"].sum())
    chance, expected = chance_sentence(len(i), k, m, settings)
    p.numbers.update(improved_change=float(top_i["change"]), n_compared=n_ind, n_changed=len(i),
                     n_improved_significant=k, n_declined_significant=m, n_expected_by_chance=expected)
    years = "; ".join(f"{and_join([lower_first(x) for x in names])}, {year_label(a)} against {year_label(b)}"
                      for names, a, b in data_years_compared(ed, compared))
    cw = words("parts/conclusions.md")
    facts = {"e": e, "f": f, "n_ind": n_ind, "compared": ", ".join(ind.short(c) for c in compared), "rl": rl,
             "same": headline_same(i), "top": top_i["la_name"], "early": fmt(top_i["score_early"]),
             "late": fmt(top_i["score_late"]), "change": fmt(top_i["change"], sign=True),
             "range": change_range(top_i["change_lo"], top_i["change_hi"]), "ranged": pd.notna(top_i["change_lo"]),
             "significant": top_i["significant"], "headline_early": fmt(top_i["headline_early"]),
             "headline_late": fmt(top_i["headline_late"]), "k": k, "m": m, "n": len(i), "draws": settings.n_draws,
             "k_las": plural(k, "LA")}
    p.say("improved", cw.improved(facts), f"The data years compared are: {years}.")
    p.say("improved", cw.top(facts), cw.beyond(facts), chance)
    if k and not top_i["significant"]:
        b = sig.iloc[0]
        p.say("improved", f"Of the LAs that improved beyond uncertainty, {b['la_name']} rose most "
              f"({fmt(b['change'], sign=True)} points, {rl} {change_range(b['change_lo'], b['change_hi'])}).")
    p.say("improved", _predecessor_sentence(ed, i), cw.chart(facts), cw.percentile())
    if left_out := [ind.short(c) for c in ind.t.index if c not in compared]:
        p.say("improved", f"Left out of the comparison because they are missing in one of the two years: {', '.join(left_out)}.")


def _weightings_section(p: Part, ed, t: pd.DataFrame) -> None:
    """Each LA's best and worst rank under any area weighting (``ed.weightings``), in words and a frame."""
    w = ed.weightings
    if w is None or w.ranks.empty:
        return
    cols = ["overall_rank_best_weights", "overall_rank_worst_weights"]
    f = ranking_frame(t).join(w.ranks[cols], on="la_code")
    p.frames["weightings"] = f
    width = (f[cols[1]] - f[cols[0]]).astype("float64")
    first, widest, step = f[f[cols[0]] == 1], f.loc[width.idxmax()], f"{1 / w.steps:.0%}"
    p.numbers.update(n_first_any_weighting=len(first), weighting_range_median_width=float(width.median()),
                     weighting_range_max_width=float(width.max()))
    equal = " (each indicator counting equally)" if ed.settings.overall_from == "indicators" and \
        ed.indicators["weight"].nunique() == 1 else ""
    facts = {"headline": and_join([f"{a} {s:.0%}" for a, s in zip(AREAS, w.headline, strict=True)]), "step": step,
             "equal": equal, "n_weightings": f"{w.n_weightings:,}", "median": fmt(width.median(), 0),
             "n_first": len(first), "n": len(f), "first": and_join(list(first["la_name"]))}
    p.labels["weightings_chart"] = (f"Bars: from each LA's best to its worst overall rank under any weighting of "
                                    f"the four areas ({step} steps); dots: its headline rank.")
    cw = words("parts/conclusions.md")
    p.say("weightings", cw.weightings(facts), cw.first(facts),
          f"{widest['la_name']} has the widest range, from {ordinal(int(widest[cols[0]]))} to "
          f"{ordinal(int(widest[cols[1]]))}.", cw.weightings_chart())


REGION_COLUMNS = {"region": "Region", "n_las": "LAs", "n_scored": "LAs scored", "overall_score": "Overall score"} | {
    f"{a}_score": f"{AREA_NAMES[a]} score" for a in AREAS}


def conclusions(ed, highlight: str | int | None = None) -> Part:
    """Part 6: the overall ranking, regions, most improved beyond uncertainty, weightings, limits."""
    p = Part("conclusions", "Conclusions")
    p.data = t = la_table(ed)
    ind, settings = IndicatorFacts(ed), ed.monte_carlo_settings()
    p.labels = {"overall_score": "Overall score (0-100, higher = more inclusive)"}
    p.tables["ranking"] = ranking_table(t, adjusted=True)
    p.frames["ranking"] = ranking_frame(t)
    scored = t[t["scored"]].sort_values(["overall_rank", "la_name"])
    reg = ed.regional().reset_index().sort_values("overall_score", ascending=False).reset_index(drop=True)
    p.tables["regions"] = reg.rename(columns=REGION_COLUMNS)
    top, bot, first, last = reg.iloc[0], reg.iloc[-1], scored.iloc[0], scored.iloc[-1]
    p.numbers.update(region_top_score=float(top["overall_score"]), region_bottom_score=float(bot["overall_score"]),
                     top_score=float(first["overall_score"]), bottom_score=float(last["overall_score"]))
    cw = words("parts/conclusions.md")
    p.say("ranking", cw.ranking({
        "first": first["la_name"], "n": len(scored), "year": year_label(ed.final_year),
        "first_score": fmt(first["overall_score"]), "last": last["la_name"], "last_score": fmt(last["overall_score"]),
        "first_rank": rank_words(1, first.get("overall_rank_lo"), first.get("overall_rank_hi")),
        "last_rank": rank_words(last["overall_rank"], last.get("overall_rank_lo"), last.get("overall_rank_hi"))}))
    if "overall_rank_lo" in scored and scored["overall_rank_lo"].notna().any():
        width = (scored["overall_rank_hi"] - scored["overall_rank_lo"]).astype("float64")
        p.numbers["rank_interval_median_width"] = float(width.median())
        p.say("ranking", cw.uncertain({"range": range_label(), "draws": settings.n_draws, "width": fmt(width.median(), 0),
                                       "context": adjusted_for_words(ed, "overall")}))
        if (w := getattr(ed.monte_carlo, "aggregation_widening", None)) is not None:
            # numbers from the Monte Carlo result (RangeWidening), as in Part 1
            p.numbers.update(aggregation_range_median_without=w.median_without,
                             aggregation_range_median_with=w.median_with)
            p.say("ranking", cw.widening(w, fmt(w.median_without, 0), fmt(w.median_with, 0)))
    adjusted_section(p, ed, t, "overall")
    _weightings_section(p, ed, t)
    p.say("regions", f"By region (the unweighted mean of its LAs' scores), {top['region']} scores highest "
          f"({fmt(top['overall_score'])}) and {bot['region']} lowest ({fmt(bot['overall_score'])}).")
    rv = region_variation(t, "overall_score", label="the overall score")
    p.numbers["between_region_share"] = rv["between_share"]
    p.say("regions", rv["sentence"])
    _improved_section(p, ed, ind, t, settings)
    i = p.frames.get("improvement", pd.DataFrame())
    p.say("limits", *LIMITS)
    if len(unpub := ind.t[ind.t["las_with_value"] == 0]):
        p.say("limits", f"In {year_label(ed.final_year)} the index rests on {len(ind.t) - len(unpub)} of its "
              f"{len(ind.t)} indicators: {', '.join(unpub['short_name'])} "
              f"{agree(len(unpub), 'has', 'have')} no LA values for the data year in this project's data.")
    for y in ed.years:
        p.notes.extend(f"{year_label(y)}: {plain_codes(ed, n)}" for n in ed.scored[y].notes)
    code = highlight_section(p, ed, highlight, t, ind, [])
    if code and not i.empty and code in set(i["la_code"]):
        r = i.set_index("la_code").loc[code]
        verdict = ("a rise beyond uncertainty" if r["significant"] else "a fall beyond uncertainty"
                   if r["declined_significant"] else "within its uncertainty")
        p.say("highlight", f"{r['la_name']} moved {fmt(r['change'], sign=True)} points between "
              f"{year_label(ed.first_year)} and {year_label(ed.final_year)} on the indicators published in both "
              f"years ({range_label()} {change_range(r['change_lo'], r['change_hi'])}: {verdict}).")
    return p
