"""Build an edition: assemble its inputs, then run a named list of steps (COINr's coin and
``Regen``; NHS RAP's one call per stage), each filling typed fields of the Edition and logging a
StepRecord. Nothing is computed later on demand, and :func:`load_edition` caches the finished
object so every notebook kernel and profile worker reads the same build (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import dataclasses
import hashlib
import pickle
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from inclusion_index.config import Method, RunSettings, run_settings
from inclusion_index.index.adjustment import adjust_scores
from inclusion_index.index.edition import Edition, StepRecord, score_table, settings_from
from inclusion_index.index.indicator_facts import indicator_years, value_decimals
from inclusion_index.index.indicators import indicator_table, indicator_values, label_table, load_method
from inclusion_index.index.neighbours import neighbour_comparison, statistical_neighbours
from inclusion_index.index.scoring import most_improved, score_year
from inclusion_index.index.tables import enrich_score_table
from inclusion_index.index.uncertainty import UncertaintyError, funnel_table, monte_carlo, sensitivity_table
from inclusion_index.index.weightings import headline_area_weights, weighting_columns, weighting_ranks
from inclusion_index.paths import CACHE_DIR, write_atomic
from inclusion_index.paths import data_dir as default_data_dir
from inclusion_index.sources.geography import LAReference, check_year_key, load_la_reference, shift_year
from inclusion_index.sources.harmonise import code_and_data_digest, load_inputs, measures_table

Fields = dict[str, object]


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[Edition], Fields]
    # the settings the step depends on, digested into its log record
    uses: Callable[[Edition], object]


def _indicator_values(ed: Edition) -> Fields:
    values, england = zip(*(indicator_values(ed.long, ed.method, y, ed.geography, ed.ref) for y in ed.years),
                          strict=True)
    v = pd.concat(values, ignore_index=True)
    return {"values": v, "england": pd.concat(england, ignore_index=True), "labels": {
        y: label_table(v, ed.indicators, ed.measures, ed.run.measure_labels, y) for y in ed.years}}


def _indicator_years(ed: Edition) -> Fields:
    return {"indicator_years": indicator_years(ed), "value_decimals": value_decimals(ed)}


def _scoring(ed: Edition) -> Fields:
    codes = list(ed.geography["la_code"])
    return {"scored": {y: score_year(ed.values.loc[ed.values["index_year"] == y, ["la_code", "indicator", "value"]],
                                     ed.indicators, ed.settings, la_codes=codes) for y in ed.years}}


def _improvement(ed: Edition) -> Fields:
    if len(ed.years) < 2:
        return {"improvement": pd.DataFrame()}
    early, late = (ed.values.loc[ed.values["index_year"] == y, ["la_code", "indicator", "value"]]
                   for y in (ed.years[0], ed.years[-1]))
    return {"improvement": most_improved(early, late, ed.indicators, ed.settings,
                                         la_codes=list(ed.geography["la_code"]))}


def _headline_table(ed: Edition) -> Fields:
    return {"score_table": score_table(ed, extended=False)}


def _weightings(ed: Edition) -> Fields:
    t = ed.score_table.set_index("la_code")
    t = t[t["overall_score"].notna()]
    w = weighting_ranks(t, t["overall_rank"], headline_area_weights(ed.indicators, ed.headline().available,
                                                                    ed.settings.overall_from),
                        decimals=ed.settings.rank_decimals)
    return {"weightings": w, "score_table": weighting_columns(ed.score_table, w)}


def _monte_carlo(ed: Edition) -> Fields:
    return {"monte_carlo": monte_carlo(ed, ed.run.uncertainty) if ed.run.uncertainty.enabled else None}


def _sensitivity(ed: Edition) -> Fields:
    return {"sensitivity": sensitivity_table(ed, ed.run.uncertainty, mc=ed.monte_carlo)}


def _adjustment(ed: Edition) -> Fields:
    return {"adjustment": adjust_scores(ed, ed.score_table, ed.run.adjustment)}


def _enrich(ed: Edition) -> Fields:
    t = enrich_score_table(ed.score_table, ed.monte_carlo, ed.adjustment)
    return {"score_table": t, "scores_by_la": t.set_index("la_code")}


def _funnels(ed: Edition) -> Fields:
    out: dict[tuple[str, str], pd.DataFrame | str] = {}
    for y in ed.years:
        for i in ed.indicators["indicator"]:
            try:
                out[(str(i), y)] = funnel_table(ed, str(i), y, ed.run.uncertainty)
            except UncertaintyError as e:  # no counts or cohort: the reason is kept for readers
                out[(str(i), y)] = str(e)
    return {"funnels": out}


def _profile_intervals(ed: Edition) -> Fields:
    """Per (indicator, LA) of the headline year: pupils behind the value and its exact 95%
    interval, whether it rests on a small cohort, whether the interval contains the middle
    (median) LA's value; and England pooled from the LA figures (the funnels' centre line).
    A profile names such an indicator a strength or weakness only with that warning."""
    frames, pooled = [], {}
    cols = ["denominator", "estimated", "value_lower_95", "value_upper_95", "small_cohort", "middle_value",
            "contains_middle"]
    final = ed.values[ed.values["index_year"] == ed.final_year]
    middle = final.groupby("indicator")["value"].median()
    for i in ed.indicators["indicator"]:
        f = ed.funnels.get((str(i), ed.final_year))
        if not isinstance(f, pd.DataFrame):
            continue
        pooled[str(i)] = float(f.attrs["target"])
        f = f.assign(estimated=f["denominator_source"].astype(str) != "denominator in source",
                     small_cohort=f["denominator"] < ed.run.uncertainty.small_cohort,
                     middle_value=middle.get(i, float("nan")))
        f["contains_middle"] = (f["value_lower_95"] <= f["middle_value"]) & (f["middle_value"] <= f["value_upper_95"])
        frames.append(f[["indicator", "la_code", *cols]])
    table = (pd.concat(frames, ignore_index=True).set_index(["indicator", "la_code"]) if frames
             else pd.DataFrame(columns=cols))
    return {"profile_intervals": table, "pooled_england": pooled}


def _neighbours(ed: Edition) -> Fields:
    ns = statistical_neighbours(ed.final_year, la_codes=list(ed.geography["la_code"]), data_dir=ed.data_dir,
                                ref=ed.ref)
    names = ed.ref.names() if ed.ref is not None else {}
    return {"neighbours": ns, "neighbour_comparisons": {
        str(c): neighbour_comparison(ed.score_table, str(c), ns, names) for c in ed.score_table["la_code"]}}


def _scoring_settings(ed: Edition) -> object:
    return (ed.method.key, ed.settings)


CORE_STEPS: tuple[Step, ...] = (
    Step("indicator_values", _indicator_values, lambda ed: (ed.method.key, ed.years)),
    Step("indicator_years", _indicator_years, lambda ed: (ed.method.key, ed.years)),
    Step("scoring", _scoring, _scoring_settings),
    Step("improvement", _improvement, _scoring_settings),
    Step("headline_table", _headline_table, _scoring_settings),
    Step("weightings", _weightings, _scoring_settings),
)
STEPS: tuple[Step, ...] = (
    *CORE_STEPS,
    Step("monte_carlo", _monte_carlo, lambda ed: ed.run.uncertainty),
    Step("sensitivity", _sensitivity, lambda ed: ed.run.uncertainty),
    Step("adjustment", _adjustment, lambda ed: ed.run.adjustment),
    Step("score_table", _enrich, lambda ed: (ed.run.uncertainty, ed.run.adjustment)),
    Step("funnels", _funnels, lambda ed: ed.run.uncertainty),
    Step("profile_intervals", _profile_intervals, lambda ed: ed.run.uncertainty),
    Step("neighbours", _neighbours, lambda ed: ed.final_year),
)


def _digest(obj: object) -> str:
    return hashlib.sha256(repr(obj).encode()).hexdigest()[:12]


def _rows(fields: Fields) -> int:
    """A size for the log: rows of the tables a step filled (draws for the Monte Carlo, LAs for
    the weightings: the length of their ``ranks``)."""
    return sum(len(v) if isinstance(v, pd.DataFrame | dict) else len(v.ranks) for v in fields.values()
               if isinstance(v, pd.DataFrame | dict) or hasattr(v, "ranks"))


def run_step(step: Step, ed: Edition) -> Edition:
    t0 = time.perf_counter()
    fields = step.run(ed)
    record = StepRecord(step.name, _digest(step.uses(ed)), round(time.perf_counter() - t0, 3),
                        _rows(fields))
    return dataclasses.replace(ed, **fields, log=(*ed.log, record))


def assemble(final_year: str, *, years: int | None = None, method: str | Method | None = None,
             data_dir: Path | None = None, long: pd.DataFrame | None = None,
             ref: LAReference | None = None, run: RunSettings | None = None) -> Edition:
    """The edition before any step: its years, method, LAs, settings and the long table."""
    check_year_key(final_year)
    run = run or run_settings()
    defaults = run.editions.spec(final_year)
    n_years = int(years or defaults.years)
    if n_years < 1:
        raise ValueError("an edition needs at least one index year")
    m = method if isinstance(method, Method) else load_method(method or defaults.method, run)
    data_dir = Path(data_dir) if data_dir else default_data_dir()
    if long is None:
        long = load_inputs(data_dir)
    ref = ref or load_la_reference(data_dir)
    target = ref.geography_for_year(final_year)[["la_code", "la_name", "ons_code", "region_group"]]
    target = target.rename(columns={"region_group": "region"}).reset_index(drop=True)
    index_years = [shift_year(final_year, -k) for k in range(n_years - 1, -1, -1)]
    return Edition(final_year=final_year, years=index_years, method=m, settings=settings_from(m),
                   geography=target, indicators=indicator_table(m), values=pd.DataFrame(),
                   england=pd.DataFrame(), long=long, data_dir=data_dir, ref=ref, run=run,
                   measures=measures_table())


def build_edition(
    final_year: str,
    *,
    years: int | None = None,
    method: str | Method | None = None,
    data_dir: Path | None = None,
    long: pd.DataFrame | None = None,
    ref: LAReference | None = None,
    steps: Sequence[Step] = STEPS,
    run: RunSettings | None = None,
) -> Edition:
    """Assemble the edition and run ``steps`` in order (default: every step)."""
    ed = assemble(final_year, years=years, method=method, data_dir=data_dir, long=long, ref=ref, run=run)
    for step in steps:
        ed = run_step(step, ed)
    return ed


def edition_file(
    final_year: str,
    *,
    years: int | None = None,
    method: str | None = None,
    data_dir: Path | str | None = None,
    cache_dir: Path | None = None,
) -> Path:
    """The finished edition's file in the cache (keyed by code, registry, raw-file checksums and
    settings), built first if it is not there. The render hands this file to every notebook
    kernel and profile worker, which only read it (:func:`read_edition`)."""
    data_dir = Path(data_dir) if data_dir else default_data_dir()
    # resolve defaults first, so ("201819") and ("201819", years=3) share one cache entry
    run = run_settings()
    defaults = run.editions.spec(final_year)
    years = int(years or defaults.years)
    method = method or defaults.method
    # the settings are in the key: INCLUSION_UNCERTAINTY_DRAWS (tests use 50) must not hand a
    # 50-draw build to a 500-draw report, or the reverse
    key = hashlib.sha256(
        f"{final_year}|{years}|{method}|{run.uncertainty!r}|{run.adjustment!r}|{code_and_data_digest(data_dir)}".encode()
    ).hexdigest()[:20]
    path = (cache_dir or CACHE_DIR) / "editions" / f"{final_year}-{key}.pkl"
    if path.exists():
        return path
    ed = build_edition(final_year, years=years, method=method, data_dir=data_dir, run=run)
    write_atomic(path, lambda tmp: tmp.write_bytes(pickle.dumps(ed, protocol=pickle.HIGHEST_PROTOCOL)))
    return path


_KEPT: dict[tuple[str, int], Edition] = {}


def read_edition(path: Path | str, *, keep: bool = False) -> Edition:
    """A finished edition from :func:`edition_file`'s file (a pickle this project wrote); with
    ``keep``, once per file and process: a kept notebook kernel then unpickles each edition
    (~40 MB, ~0.4 s CPU) once, not once per notebook. Readers never change an edition."""
    key = (str(Path(path).resolve()), Path(path).stat().st_mtime_ns)
    if not (keep and key in _KEPT):
        ed = pickle.loads(Path(path).read_bytes())
        if not isinstance(ed, Edition):
            raise TypeError(f"{path}: not an edition file")
        _KEPT.update({key: ed} if keep else {})
    return _KEPT[key] if keep else ed


def load_edition(
    final_year: str,
    *,
    years: int | None = None,
    method: str | None = None,
    data_dir: Path | str | None = None,
    use_cache: bool = True,
    cache_dir: Path | None = None,
) -> Edition:
    """The finished edition: from the cache (:func:`edition_file`), or built afresh."""
    if not use_cache:
        return build_edition(final_year, years=years, method=method, data_dir=Path(data_dir) if data_dir else None)
    return read_edition(edition_file(final_year, years=years, method=method, data_dir=data_dir,
                                     cache_dir=cache_dir))
