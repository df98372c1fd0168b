"""Part 1: the index, how it is built and the headline ranking."""

from __future__ import annotations

import numpy as np
import pandas as pd

from inclusion_index.index.scoring import AREA_NAMES, AREAS
from inclusion_index.report.series.caveats import weights_sentence
from inclusion_index.report.series.edition_facts import (
    IndicatorFacts,
    carried_note,
    data_years_sentence,
    la_coverage,
    la_table,
    range_label,
    rank_words,
    short_citation,
)
from inclusion_index.report.series.part import Part, highlight_section, rank_certainty_section, ranking_table
from inclusion_index.report.series.text import (
    agree,
    and_join,
    fmt,
    lower_first,
    plural,
    year_label,
    years_label,
)
from inclusion_index.report.templates import words

_WORDS = words("parts/introduction.md")
LIMITS = str(_WORDS.limits()).split("\n")


def introduction(ed, highlight: str | int | None = None) -> Part:
    """Part 1: what the index is, its indicators with sources and data years, the headline ranking."""
    p = Part("introduction", "The SEND inclusion index")
    t, ind, cov = la_table(ed), IndicatorFacts(ed), la_coverage(ed)
    iy, n_scored = ind.t.reset_index(), int(t["scored"].sum())
    areas_n = iy.groupby("area").size().reindex(AREAS).fillna(0).astype(int)
    f = {"n_scored": n_scored, "n_england": cov["n_england"], "n": len(iy), "n_areas": len(AREAS),
         "areas": ", ".join(f"{AREA_NAMES[a].lower()} ({areas_n[a]})" for a in AREAS), "method": ed.method.name,
         "years": years_label(ed.years), "year": year_label(ed.final_year)}
    p.say("what", _WORDS.what(f), cov["excluded_sentence"] + "." if cov["excluded_sentence"] else "",
          _WORDS.method(f), weights_sentence(ed) + " Choose your own weights for the four areas and see every LA "
          "re-ranked.", _WORDS.index_years(), data_years_sentence(ed))
    if len(missing := iy[iy["las_with_value"] == 0]):
        p.say("what", f"No LA values for {year_label(ed.final_year)} in this project's data, so left out of every "
              "score that year: " + "; ".join(f"{r.short_name} ({r.note or 'no LA values'})"
                                              for r in missing.itertuples()) + ".")
    if len(carried := iy[iy["carried"] & (iy["las_with_value"] > 0)]):
        groups: dict[tuple[str, str], list[str]] = {}
        for r in carried.itertuples():
            c = carried_note(ed, r.indicator) or (year_label(r.data_year), r.note)
            groups.setdefault(c, []).append(lower_first(str(r.short_name)))
        p.say("what", "Some indicators repeat an earlier data year because the expected one is missing: " + "; ".join(
            f"the {y} figures for {and_join(names)} ({why})" for (y, why), names in groups.items()) + ".")
    p.tables["indicators"] = pd.DataFrame({
        "Area": iy["area"].map(AREA_NAMES), "Indicator": iy["short_name"], "Measure": iy["name"],
        "Unit": iy["unit"],
        "More inclusive when": np.where(iy["polarity"] < 0, "lower", "higher"),
        "Data year": iy["data_year"].map(year_label), "LAs with a value": iy["las_with_value"],
        "England": [ind.england_best(i)[0] for i in iy["indicator"]],
        "England figure": [ind.england_best(i)[1] or "none in the data" for i in iy["indicator"]],
        "Source": [short_citation(ids) or "no LA values in this project's data" for ids in iy["source_ids"]]})
    ranking = ranking_table(t)
    p.tables.update(top10=ranking.head(10), bottom10=ranking.tail(10).reset_index(drop=True))
    scored = t[t["scored"]].sort_values(["overall_rank", "la_name"])
    sc = scored["overall_score"]
    p.numbers.update(n_las=len(t), n_scored=n_scored, score_min=float(sc.min()), score_max=float(sc.max()),
                     score_median=float(sc.median()), score_q1=float(sc.quantile(0.25)),
                     score_q3=float(sc.quantile(0.75)), n_indicators=len(iy),
                     n_indicators_available=int((iy["las_with_value"] > 0).sum()))
    top, bottom = scored.iloc[0], scored.iloc[-1]
    p.say("headline",
          f"{top['la_name']} ({top['region']}) has the highest overall score, {fmt(top['overall_score'])}, and ranks "
          f"{rank_words(top['overall_rank'], top.get('overall_rank_lo'), top.get('overall_rank_hi'))}; "
          f"{bottom['la_name']} ({bottom['region']}) has the lowest of {n_scored}, {fmt(bottom['overall_score'])}, "
          f"and ranks {rank_words(bottom['overall_rank'], bottom.get('overall_rank_lo'), bottom.get('overall_rank_hi'))}.",
          _WORDS.scores({k: fmt(p.numbers[f"score_{k}"]) for k in ("min", "max", "q1", "q3", "median")}),
          _WORDS.ranges(range_label()))
    rank_certainty_section(p, ed, t)
    if len(unscored := cov["unscored"]):
        p.say("headline", f"{plural(len(unscored), 'LA')} of the edition {agree(len(unscored), 'has', 'have')} too "
              "few indicators to be scored: " + "; ".join(
                  f"{r.la_name} ({r.flags})" for r in unscored.itertuples()) + ".")
    p.labels |= {f"{a}_score": f"{AREA_NAMES[a]} score (0-100)" for a in AREAS} | {
        "overall_score": "Overall score (0-100, higher = more inclusive)"}
    highlight_section(p, ed, highlight, t, ind, [])
    p.data = t
    return p
