"""Editions: a final index year plus a run of index years, scored with one method.

:class:`Edition` is the finished, typed build product (build.build_edition fills it step by
step); ``score_table`` is the tidy per-LA table the CLI writes and the notebooks show.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from inclusion_index.config import Method, UncertaintySettings
from inclusion_index.csv_export import write_csv
from inclusion_index.index.adjustment import AdjustmentResult
from inclusion_index.index.indicators import labelled_for, score_column_texts
from inclusion_index.index.inputs import IndexInputs
from inclusion_index.index.neighbours import NeighbourSet
from inclusion_index.index.scoring import (
    AREAS,
    TARGETS,
    ScoredYear,
    ScoringSettings,
    rank_desc,
    regional_summary,
)
from inclusion_index.index.tables import enrich_score_table
from inclusion_index.index.uncertainty import MonteCarloResult, UncertaintyError
from inclusion_index.index.weightings import BOUNDS, WeightingRanks, weighting_columns
from inclusion_index.sources.geography import year_label


def settings_from(method: Method) -> ScoringSettings:
    allowed = {f.name for f in dataclasses.fields(ScoringSettings)}
    return ScoringSettings(**{k: v for k, v in method.scoring.items() if k in allowed})


@dataclass(frozen=True)
class StepRecord:
    """One build step's log line (COINr's ``.$Log``): what ran, on which settings, how long, how big."""

    step: str
    settings_digest: str
    seconds: float
    rows: int


@dataclass(frozen=True, eq=False)
class Edition(IndexInputs):
    """A finished edition: its inputs plus one typed field per build step (build.STEPS), and
    the log of the steps that filled them. Readers (parts, profiles, writers) only read it."""

    scored: dict[str, ScoredYear] = field(default_factory=dict)
    improvement: pd.DataFrame = field(default_factory=pd.DataFrame)
    monte_carlo: MonteCarloResult | None = None
    sensitivity: pd.DataFrame | None = None
    adjustment: AdjustmentResult | None = None
    # (indicator, index year) -> funnel table, or the reason there is none (no counts or cohort)
    funnels: dict[tuple[str, str], pd.DataFrame | str] = field(default_factory=dict, repr=False)
    score_table: pd.DataFrame | None = None
    # the finished score table indexed by LA code: a profile page looks its LA up a dozen times
    scores_by_la: pd.DataFrame | None = field(default=None, repr=False)
    # best and worst overall rank of each LA under any weighting of the four areas
    weightings: WeightingRanks | None = None
    # per (indicator, LA) of the headline year: pupils behind the value and its exact 95% interval
    profile_intervals: pd.DataFrame | None = None
    # England pooled from the LA figures per indicator (the funnels' centre line, headline year)
    pooled_england: dict[str, float] = field(default_factory=dict)
    neighbours: NeighbourSet | None = None
    # per LA: itself, its statistical neighbours and their mean, with scores and ranks
    neighbour_comparisons: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    # index year -> its indicators named for the measures they used (indicators.label_table)
    labels: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    # index year -> what each indicator rests on (indicator_facts.indicator_years)
    indicator_years: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    # indicator -> decimals of the LAs' headline-year values
    value_decimals: dict[str, int] = field(default_factory=dict)
    log: tuple[StepRecord, ...] = ()

    def monte_carlo_settings(self) -> UncertaintySettings:
        """The settings of the Monte Carlo behind the score table (the run's own when it is
        switched off), for text that describes that result."""
        return self.monte_carlo.settings if self.monte_carlo is not None else self.run.uncertainty

    def headline(self) -> ScoredYear:
        return self.scored[self.final_year]

    def regional(self, year: str | None = None) -> pd.DataFrame:
        return regional_summary(self.scored[year or self.final_year].scores, self.geography.set_index("la_code")["region"])

    def funnel(self, indicator: str, index_year: str | None = None) -> pd.DataFrame:
        """The funnel table of one indicator and index year (a copy, with ``attrs``); raises
        UncertaintyError where the indicator has no counts or cohort to build one from."""
        f = self.funnels[(indicator, str(index_year or self.final_year))]
        if isinstance(f, str):
            raise UncertaintyError(f)
        return f.copy()

    def funnel_target(self, indicator: str, index_year: str | None = None) -> float:
        """The funnel's centre line, England pooled from the LA figures, without copying the
        funnel table; NaN where the indicator has no funnel."""
        f = self.funnels.get((indicator, str(index_year or self.final_year)))
        return float(f.attrs["target"]) if isinstance(f, pd.DataFrame) else float("nan")

    def substitutions(self) -> pd.DataFrame:
        """Edition-wide gaps and substitutions: which measure and data year fed each cell, the
        year carried forward from (``carried_from``) instead of ``expected_year``, and
        ``missing_reason`` 'no_la_values' where no LA has a value (notes.edition_note words them)."""
        v = self.values
        g = v.groupby(["index_year", "indicator"], sort=False)
        out = g.agg(measure=("measure", "first"), data_year=("data_year", "first"),
                    las_with_value=("value", "count"), las=("la_code", "size"),
                    source=("source", lambda s: ", ".join(sorted({x for x in s if x}))),
                    carried_from=("carried_from", "first"), expected_year=("expected_year", "first"),
                    missing_reason=("missing_reason", lambda s: "no_la_values" if s.eq("no_la_values").all() else ""))
        return out.reset_index()


def score_table(ed: Edition, *, extended: bool = True) -> pd.DataFrame:
    """One row per LA: identity, headline scores and ranks, indicators, history, flags; then
    (``extended``) context-adjusted scores, Monte Carlo rank intervals and improvement
    significance from extended.enrich_score_table, out of the edition's Monte Carlo and
    adjustment steps."""
    head = ed.headline().scores
    geo = ed.geography.set_index("la_code")
    t = geo.join(head, how="left")
    if ed.method.headline == "mean" and len(ed.years) > 1:
        t["overall_score"] = pd.concat([ed.scored[y].scores["overall_score"] for y in ed.years], axis=1).mean(
            axis=1, skipna=False)
        t["overall_rank"] = rank_desc(t["overall_score"], ed.settings.tie_method)
    for k, (col, v) in enumerate((("edition", ed.final_year), ("index_year", ed.final_year), ("method", ed.method.key))):
        t.insert(k, col, v)
    for y in ed.years[:-1]:
        t[f"overall_score_{y}"], t[f"overall_rank_{y}"] = ed.scored[y].scores["overall_score"], ed.scored[y].scores["overall_rank"]
    if not ed.improvement.empty:
        t["improvement_from"] = ed.years[0]
        # the change re-scores both years on the indicators present in both, so its start and end
        # scores (..._from, ..._to) differ from the headline ones; publish them so the two are never confused
        for col, src in (("overall_change", "change"), ("overall_rank_change", "rank_change"),
                         ("improvement_rank", "improvement_rank"), ("overall_change_score_from", "score_early"),
                         ("overall_change_score_to", "score_late"), ("change_indicators_compared", "indicators_compared")):
            t[col] = ed.improvement[src]
    final = ed.values[ed.values["index_year"] == ed.final_year]
    for ind_code, g in final.groupby("indicator", sort=False):
        t[f"{ind_code}_data_year"] = g.set_index("la_code")["data_year"].reindex(t.index)
    place = final.dropna(subset=["placement_unrecorded_pct"]).drop_duplicates("la_code").set_index("la_code")
    t["placement_unrecorded_pct"] = place["placement_unrecorded_pct"].reindex(t.index)
    t = t.reset_index()
    front = ["edition", "index_year", "method", "la_code", "la_name", "ons_code", "region", "overall_score",
             "overall_rank", *(f"{a}_{x}" for a in AREAS for x in ("score", "rank"))]
    rest = [c for c in t.columns if c not in front]
    out = t[front + rest].astype({c: "Int64" for c in t.columns
                                  if c.endswith("_rank") or c.startswith("overall_rank")})
    if ed.weightings is not None:
        out = weighting_columns(out, ed.weightings)
    if extended:
        out = enrich_score_table(out, ed.monte_carlo, ed.adjustment)
    return out


def data_dictionary(table: pd.DataFrame, ed: Edition) -> pd.DataFrame:
    """Description of every column of the score table, from data/registry/score_columns.csv (its
    first matching pattern); an indicator's columns are named for the measure, unit and data year
    the headline year actually used (indicators.labelled_for)."""
    ind = labelled_for(ed).set_index("indicator")
    level = ed.monte_carlo_settings().interval
    steps = ed.weightings.steps if ed.weightings is not None else 1
    slots = {"bound": BOUNDS, "end": ("lo", "hi"), "target": TARGETS, "area": AREAS, "indicator": tuple(map(re.escape, ind.index)),
             "year": (r"\d{6}",)}
    patterns = [(re.compile(re.sub(r"\\{(\w+)\\}", lambda m: f"(?P<{m[1]}>{'|'.join(slots[m[1]])})",
                                   re.escape(c))), d) for c, d in score_column_texts()]
    fixed = {"pct": f"{level:.0%}", "lo_q": f"{(1 - level) / 2:.0%}", "hi_q": f"{1 - (1 - level) / 2:.0%}",
             "step": f"{1 / steps:.0%}", "final_year": year_label(ed.final_year)}

    def describe(c: str) -> str:
        for pattern, text in patterns:
            if m := pattern.fullmatch(c):
                return text.format(**fixed, **_slot_words(m.groupdict(), ind, fixed))
        return ""

    return pd.DataFrame([{"column": c, "description": describe(c), "dtype": str(table[c].dtype)}
                         for c in table.columns])


def _slot_words(g: dict[str, str], ind: pd.DataFrame, fixed: dict[str, str]) -> dict[str, object]:
    """The words a matched column pattern's description names (its area, bound, interval end, ...)."""
    out: dict[str, object] = {**g, **{k.title(): g[k].title() for k in ("bound", "area") if k in g}}
    if "target" in g:
        out["what"] = "overall score" if g["target"] == "overall" else f"{g['target']} area score"
    if "end" in g:
        out |= {"word": "Best", "q": fixed["lo_q"]} if g["end"] == "lo" else {"word": "Worst", "q": fixed["hi_q"]}
    if "year" in g:
        out["year_label"] = year_label(g["year"])
    if "indicator" in g:
        r = ind.loc[g["indicator"]]
        out |= {"name": r["name"], "unit": r["unit"], "measure": r["measure"], "short_name": r["short_name"],
                "data_year_label": year_label(r["data_year"]) or "none",
                "data": f"{year_label(r['data_year'])} data" if r["data_year"] else "no data",
                "note": f" ({r['note']})" if r["note"] else "", "better": "Lower" if r["polarity"] < 0 else "Higher"}
    return out


def write_score_table(ed: Edition, out: Path, table: pd.DataFrame) -> list[Path]:
    """``table`` (notes.score_table_text(ed): the score table with its notes in words) as CSV at
    `out`, Parquet beside it, and the data dictionary as <stem>.dictionary.csv."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    pq, dic = out.with_suffix(".parquet"), out.with_name(out.stem + ".dictionary.csv")
    write_csv(table, out)
    table.to_parquet(pq, index=False)
    write_csv(data_dictionary(table, ed), dic)
    return [out, pq, dic]
