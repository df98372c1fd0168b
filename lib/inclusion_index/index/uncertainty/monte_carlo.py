"""Monte Carlo rank intervals over choices (a)-(g), and improvement beyond uncertainty (the 90%
interval of the change above 0); docs/UNCERTAINTY.md describes each choice and what (g) adds."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_all_start_methods, get_context

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
    """Per draw: its ranks, score change and scores (_score_variant), then its choices."""
    return [(*_score_variant(plan, var, with_change=with_change), choice)
            for var, choice in (_random_variant(plan, d, enabled) for d in draws)]


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
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context(method),
                             initializer=_init_worker, initargs=(plan,)) as pool:
        done = zip(chunks, pool.map(_run_chunk, [(c, enabled, with_change) for c in chunks]), strict=True)
        results = {d: r for chunk, res in done for d, r in zip(chunk, res, strict=True)}
    return [results[d] for d in draws]


def _quantiles(a: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """Quantiles over axis 0 ignoring NaN, by inverted CDF (so a rank quantile is a rank that
    occurred); all-NaN columns give NaN (an LA never scored: numpy's warning is expected)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanquantile(np.asarray(a, dtype="float64"), qs, axis=0, method="inverted_cdf")


@dataclass(frozen=True)
class RangeWidening:
    """How much choice (g) widens the overall rank ranges: the same draws scored with and without
    it, widths as the score table shows them (published rank kept inside, index/tables.py);
    ``outside_*`` count published ranks outside the Monte Carlo's own range before that."""

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
    """The draws of :func:`monte_carlo`: ``ranks`` and ``scores`` are draws x LAs x ``TARGETS`` (NaN
    where unscored), ``change`` draws x LAs (final minus first index year, common indicators);
    ``fixed_aggregation_ranks`` the same draws with (g) held at the headline method."""

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
        """Per LA: each target's median rank and interval, share of draws scored, the interval of
        the overall change and ``improvement_significant`` (its lower end above 0)."""
        a = (1 - self.settings.interval) / 2
        q = _quantiles(self.ranks, [a, 0.5, 1 - a])
        out = pd.DataFrame(index=pd.Index(self.la_codes, name="la_code"))
        for j, t in enumerate(TARGETS):
            for i, part in enumerate(("lo", "median", "hi")):
                out[f"{t}_rank_{part}"] = pd.array(q[i, :, j], dtype="Float64").round().astype("Int64")
            out[f"{t}_share_scored"] = np.isfinite(self.ranks[:, :, j]).mean(axis=0)
        out["overall_change_lo"], out["overall_change_hi"] = _quantiles(self.change, [a, 1 - a])
        # NA where the change has no interval (a NaN quantile is NA as Float64)
        out["improvement_significant"] = pd.array(out["overall_change_lo"], dtype="Float64") > 0
        return out


def monte_carlo(edition: IndexInputs, settings: UncertaintySettings | None = None, *,
                enabled: Iterable[str] | None = None) -> MonteCarloResult:
    """``settings.n_draws`` seeded re-scorings of the edition, perturbing ``enabled`` (default
    settings.perturb). Each draw has its own stream (``SeedSequence(seed, spawn_key=(d,))``), so
    results do not depend on the engine, ``n_jobs`` or which other draws run."""
    settings = settings or run_settings().uncertainty
    en = tuple(c for c in CHOICES if c in set(settings.perturb if enabled is None else enabled))
    t0 = time.perf_counter()
    plan = _build_plan(edition, settings)
    plan.engine = _choose_engine(plan, en)
    nominal_ranks, nominal_change, _ = _score_variant(plan, _Variant())
    *drawn, chosen = zip(*_run_draws(plan, list(range(settings.n_draws)), en, True), strict=True)
    ranks, change, scores = map(np.stack, drawn)
    choices = pd.DataFrame(list(chosen))
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
        la_codes=plan.la_codes, ranks=ranks, change=change, choices=choices, scores=scores,
        nominal_ranks=nominal_ranks, nominal_change=nominal_change, settings=settings, enabled=en,
        engine=plan.engine, seconds=time.perf_counter() - t0, no_noise=plan.no_noise,
        fixed_aggregation_ranks=fixed, aggregation_widening=widening)

