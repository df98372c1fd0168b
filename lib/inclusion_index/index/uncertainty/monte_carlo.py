"""Monte Carlo rank intervals, and improvement beyond uncertainty.

* :func:`monte_carlo` re-scores the index many times with :func:`scoring.score_year`, each draw
  perturbing (a) the weights, (b) the normalisation, (c) which years make the headline, (d) the
  missing-data rule, (e) the data themselves (sampling noise given each value's
  denominator), (f) the count imputed for suppressed small counts and (g) the aggregation of
  the overall score (equal weight per indicator or per area), and summarises each LA's rank by
  its median and 90% interval. With (g) on, the draws that chose the alternative aggregation
  are re-scored with the headline one, so the result states how much (g) widens the ranges
  (:class:`RangeWidening`).
* A rise in score counts as "improvement beyond uncertainty" only if the 90% interval of the
  change over the same draws (each applied to both years) lies above 0.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_all_start_methods, get_context
from typing import Any

import numpy as np
import pandas as pd

from inclusion_index.config import CHOICES, UncertaintySettings, run_settings
from inclusion_index.index.inputs import IndexInputs
from inclusion_index.index.scoring import TARGETS
from inclusion_index.index.uncertainty.fast_engine import _choose_engine, _score_variant
from inclusion_index.index.uncertainty.plan import _build_plan, _Plan, _random_variant, _Variant

_WORKER_PLAN: _Plan | None = None


def _init_worker(plan: _Plan) -> None:
    global _WORKER_PLAN
    _WORKER_PLAN = plan


def _run_chunk(args: tuple[list[int], tuple[str, ...], bool]) -> list[tuple[np.ndarray, np.ndarray, dict]]:
    draws, enabled, with_change = args
    assert _WORKER_PLAN is not None
    return _run_serial(_WORKER_PLAN, draws, enabled, with_change)


def _run_serial(plan: _Plan, draws: Sequence[int], enabled: Iterable[str], with_change: bool):
    out = []
    for d in draws:
        var, choice = _random_variant(plan, d, enabled)
        ranks, change, scores = _score_variant(plan, var, with_change=with_change)
        out.append((ranks, change, choice, scores))
    return out


def _run_draws(plan: _Plan, draws: Sequence[int], enabled: Iterable[str], with_change: bool):
    """Run draws in-process, or in worker processes for the slow score_year engine."""
    enabled = tuple(enabled)
    jobs = max(1, int(plan.unc.n_jobs))
    if plan.engine == "fast" or jobs == 1 or len(draws) < 4 * jobs:
        return _run_serial(plan, draws, enabled, with_change)
    method = plan.unc.mp_context
    if method not in get_all_start_methods():
        method = "spawn"
    chunks = [list(draws[i::jobs * 4]) for i in range(jobs * 4)]
    results: dict[int, Any] = {}
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context(method),
                             initializer=_init_worker, initargs=(plan,)) as pool:
        for chunk, res in zip(chunks, pool.map(_run_chunk, [(c, enabled, with_change) for c in chunks]),
                              strict=True):
            results.update(dict(zip(chunk, res, strict=True)))
    return [results[d] for d in draws]


def _quantiles(a: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """Quantiles over axis 0 ignoring NaN, by inverted CDF (so a rank quantile is a rank that
    occurred); all-NaN columns give NaN."""
    out = np.full((len(qs), *a.shape[1:]), np.nan)
    flat = a.reshape(a.shape[0], -1)
    res = out.reshape(len(qs), -1)
    for j in range(flat.shape[1]):
        col = flat[:, j]
        col = col[np.isfinite(col)]
        if len(col):
            res[:, j] = np.quantile(col, qs, method="inverted_cdf")
    return out


@dataclass(frozen=True)
class RangeWidening:
    """How much the aggregation choice (g) widens the overall rank ranges: the same draws
    scored with and without it (without: every draw aggregates as the headline method does).

    Widths are hi - lo of each LA's ``interval`` range as the score table shows it (the published
    rank kept inside: lo = min(lo, rank), hi = max(hi, rank), index/tables.py), over the
    ``n_las`` LAs with a published rank and a range in both runs; ``outside_*`` count the LAs
    whose published (nominal) rank lies outside the Monte Carlo's own range, before that;
    ``seconds`` is the time spent re-scoring the ``draws_rescored`` draws that chose the
    alternative aggregation."""

    headline: str  # the edition's own aggregation (scoring's overall_from)
    draws_rescored: int
    n_las: int
    median_without: float
    median_with: float
    mean_without: float
    mean_with: float
    p90_without: float
    p90_with: float
    n_wider: int
    n_narrower: int
    outside_without: int
    outside_with: int
    seconds: float


def _range_widening(with_ranks: np.ndarray, without_ranks: np.ndarray, nominal: np.ndarray, interval: float,
                    headline: str, draws_rescored: int, seconds: float) -> RangeWidening:
    a = (1 - interval) / 2
    q_with, q_without = (_quantiles(r[:, :, 0], [a, 1 - a]) for r in (with_ranks, without_ranks))
    ok = np.isfinite(q_with).all(axis=0) & np.isfinite(q_without).all(axis=0) & np.isfinite(nominal[:, 0])
    nom = nominal[ok, 0]
    w_with, w_without = (np.fmax(q[1, ok], nom) - np.fmin(q[0, ok], nom) for q in (q_with, q_without))

    def outside(q: np.ndarray) -> int:
        return int(((nom < q[0, ok]) | (nom > q[1, ok])).sum())

    return RangeWidening(
        headline=headline, draws_rescored=draws_rescored, n_las=int(ok.sum()),
        median_without=float(np.median(w_without)), median_with=float(np.median(w_with)),
        mean_without=float(w_without.mean()), mean_with=float(w_with.mean()),
        p90_without=float(np.quantile(w_without, 0.9)), p90_with=float(np.quantile(w_with, 0.9)),
        n_wider=int((w_with > w_without).sum()), n_narrower=int((w_with < w_without).sum()),
        outside_without=outside(q_without), outside_with=outside(q_with), seconds=seconds)


@dataclass
class MonteCarloResult:
    """The draws of :func:`monte_carlo`.

    Attributes:
        la_codes: LAs, in the order of the arrays.
        ranks: draws x LAs x targets (``TARGETS``: overall then the areas); NaN where the LA
            was not scored in that draw.
        change: draws x LAs: overall score change, final minus first index year, over the
            indicators present in both (percentile points; z-score draws rescaled).
        choices: one row per draw: what it chose.
        nominal_ranks: LAs x targets under the edition's own settings (no perturbation).
        nominal_change: LAs.
        settings: the settings used; ``enabled``: the choices perturbed; ``engine``: fast
            (verified against score_year) or score_year; ``seconds``: run time.
        no_noise: cells whose value could not be redrawn (no denominator or cohort size).
        scores: draws x LAs x targets: each draw's scores (on its own normalisation's scale),
            from which context-adjusted ranks get their intervals (extended.py).
        fixed_aggregation_ranks: with choice (g) on, the ranks of the same draws with the
            aggregation held at the headline method's (draws x LAs x targets), else None.
        aggregation_widening: with (g) on, how much it widens the overall rank ranges.
    """

    la_codes: list[str]
    ranks: np.ndarray
    change: np.ndarray
    choices: pd.DataFrame
    nominal_ranks: np.ndarray
    nominal_change: np.ndarray
    settings: UncertaintySettings
    enabled: tuple[str, ...]
    engine: str
    seconds: float
    no_noise: pd.DataFrame = field(default_factory=pd.DataFrame)
    scores: np.ndarray | None = None
    fixed_aggregation_ranks: np.ndarray | None = None
    aggregation_widening: RangeWidening | None = None

    def summary(self) -> pd.DataFrame:
        """Per LA (index la_code): ``<target>_rank_median``, ``_rank_lo``, ``_rank_hi`` (the
        ``interval`` of the draws, e.g. 5th-95th percentile), ``<target>_share_scored``,
        ``overall_change_lo`` / ``_hi`` and ``improvement_significant`` (lo > 0)."""
        a = (1 - self.settings.interval) / 2
        q = _quantiles(self.ranks, [a, 0.5, 1 - a])
        out = pd.DataFrame(index=pd.Index(self.la_codes, name="la_code"))
        for j, t in enumerate(TARGETS):
            for i, part in enumerate(("lo", "median", "hi")):
                out[f"{t}_rank_{part}"] = pd.array(q[i, :, j], dtype="Float64").round().astype("Int64")
            out[f"{t}_share_scored"] = np.isfinite(self.ranks[:, :, j]).mean(axis=0)
        qc = _quantiles(self.change, [a, 1 - a])
        out["overall_change_lo"] = qc[0]
        out["overall_change_hi"] = qc[1]
        sig = pd.array(qc[0] > 0, dtype="boolean")
        sig[~np.isfinite(qc[0])] = pd.NA
        out["improvement_significant"] = sig
        return out


def _enabled(settings: UncertaintySettings) -> tuple[str, ...]:
    return tuple(c for c in CHOICES if c in settings.perturb)


def monte_carlo(edition: IndexInputs, settings: UncertaintySettings | None = None, *,
                enabled: Iterable[str] | None = None) -> MonteCarloResult:
    """Rank uncertainty by Monte Carlo: ``settings.n_draws`` re-scorings of the edition, each
    with its own seeded choices (see module docstring).

    ``enabled`` restricts which of the choices (a)-(g) are perturbed (default: settings.perturb).
    Each draw has its own random stream (``SeedSequence(seed, spawn_key=(d,))``), so results do
    not depend on the engine, on ``n_jobs`` or on which other draws are run.
    """
    settings = settings or run_settings().uncertainty
    en = tuple(c for c in CHOICES if c in set(enabled if enabled is not None else _enabled(settings)))
    t0 = time.perf_counter()
    plan = _build_plan(edition, settings)
    plan.engine = _choose_engine(plan, en)
    nominal_ranks, nominal_change, _ = _score_variant(plan, _Variant())
    res = _run_draws(plan, list(range(settings.n_draws)), en, True)
    ranks = np.stack([r[0] for r in res])
    choices = pd.DataFrame([r[2] for r in res])
    fixed, widening = None, None
    headline = plan.scoring.overall_from
    if "aggregation" in en and set(settings.aggregations) - {headline}:
        # Switching (g) off leaves a draw's other choices as they were (plan._random_variant), so
        # the run without (g) differs only in the draws that chose the alternative: re-score those.
        t1 = time.perf_counter()
        alt = [int(d) for d in np.flatnonzero(choices["aggregation"].to_numpy() != headline)]
        fixed = ranks.copy()
        for d, r in zip(alt, _run_draws(plan, alt, tuple(c for c in en if c != "aggregation"), False),
                        strict=True):
            fixed[d] = r[0]
        widening = _range_widening(ranks, fixed, nominal_ranks, settings.interval, headline, len(alt),
                                   time.perf_counter() - t1)
    return MonteCarloResult(
        la_codes=plan.la_codes, ranks=ranks, change=np.stack([r[1] for r in res]),
        choices=choices, scores=np.stack([r[3] for r in res]),
        nominal_ranks=nominal_ranks, nominal_change=nominal_change, settings=settings, enabled=en,
        engine=plan.engine, seconds=time.perf_counter() - t0, no_noise=plan.no_noise,
        fixed_aggregation_ranks=fixed, aggregation_widening=widening)

