"""The fast engine: scoring.score_year's rules re-implemented on arrays (about 100 times faster).

It is never trusted on its own: every run re-scores its first draws with score_year and
falls back to score_year throughout if anything differs (:func:`_choose_engine`, called by
monte_carlo).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterable

import numpy as np
import pandas as pd

from inclusion_index.index.scoring import AREAS, TARGETS, ScoringSettings, score_year
from inclusion_index.index.uncertainty.plan import (
    _impute_value,
    _long_values,
    _Plan,
    _random_variant,
    _values_for,
    _Variant,
)


def _rankdata(v: np.ndarray, method: str) -> np.ndarray:
    """scipy.stats.rankdata's numbers for a 1-D array without NaN, as its _rankdata computes them,
    minus the per-call overhead that was a third of each draw."""
    order = np.argsort(v, kind="stable")
    ranks = np.arange(1, v.size + 1, dtype="float64")
    if method != "ordinal":
        y = v[order]
        first = np.flatnonzero(np.r_[True, y[:-1] != y[1:]])
        counts = np.diff(first, append=v.size)
        ranks = np.repeat({"min": ranks[first], "max": ranks[first] + counts - 1,
                           "average": ranks[first] + (counts - 1.0) / 2,
                           "dense": np.arange(1, first.size + 1, dtype="float64")}[method], counts)
    out = np.empty(v.size)
    out[order] = ranks
    return out


def _rank_desc_np(x: np.ndarray, tie: str, decimals: int | None) -> np.ndarray:
    out = np.full(x.shape, np.nan)
    ok = np.isfinite(x)
    if not ok.any():
        return out
    v = np.round(x[ok], decimals) if decimals is not None else x[ok]
    out[ok] = _rankdata(-v, {"first": "ordinal"}.get(tie, tie))
    return out


def _normalise_np(x: np.ndarray, polarity: int, s: ScoringSettings) -> np.ndarray:
    x = polarity * x
    ok = np.isfinite(x)
    out = np.full(x.shape, np.nan)
    n = int(ok.sum())
    if n == 0:
        return out
    v = x[ok]
    if s.normalisation == "percentile":
        r = _rankdata(v, "average")
        if s.percentile_formula == "inclusive":
            p = np.full(n, 0.5) if n == 1 else (r - 1.0) / (n - 1)
        elif s.percentile_formula == "rank_over_n":
            p = r / n
        else:
            p = (r - 0.5) / n
        out[ok] = p * s.scale
    elif s.normalisation == "minmax":
        lo, hi = v.min(), v.max()
        out[ok] = 0.5 * s.scale if hi == lo else (v - lo) / (hi - lo) * s.scale
    else:  # no more values than ddof: no SD, so every LA gets 0 (as normalise)
        sd = float(np.std(v, ddof=s.zscore_ddof)) if n > s.zscore_ddof else 0.0
        out[ok] = 0.0 if (not np.isfinite(sd) or sd == 0.0) else (v - v.mean()) / sd
    return out


def _wmean_np(scores: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Row-wise weighted mean over the finite cells; NaN where a row has none (or no column)."""
    present = np.isfinite(scores)
    num = (np.where(present, scores, 0.0) * w).sum(axis=1)
    den = (present * w).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def _fast_scores(x: np.ndarray, polarity: np.ndarray, weights: np.ndarray, areas: np.ndarray,
                 s: ScoringSettings) -> np.ndarray:
    """LAs x TARGETS scores for one year, following score_year (scoring.py, steps 1-5)."""
    n_la = x.shape[0]
    coverage = np.isfinite(x).mean(axis=0)
    avail = (coverage >= s.min_indicator_coverage) & (coverage > 0)
    norm = np.full(x.shape, np.nan)
    for j in np.flatnonzero(avail):
        norm[:, j] = _normalise_np(x[:, j], int(polarity[j]), s)
    has = np.isfinite(x[:, avail])
    n_used = has.sum(axis=1)
    too_few = (int(avail.sum()) - n_used) > s.max_missing_indicators
    ok = ~too_few & (n_used > 0)  # as score_year: a score needs at least one value
    area_scores = np.full((n_la, len(AREAS)), np.nan)
    for a, area in enumerate(AREAS):
        members = avail & (areas == area)
        if not members.any():
            continue
        n_in = np.isfinite(x[:, members]).sum(axis=1)
        area_scores[:, a] = _wmean_np(norm[:, members], weights[members])
        ok &= ~(n_in < s.min_indicators_per_area)
    if s.overall_from == "indicators":
        overall = _wmean_np(norm[:, avail], weights[avail])
    else:
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            overall = np.nanmean(area_scores, axis=1)
    out = np.column_stack([overall, area_scores])
    out[~ok, 0 if s.area_scores_for_unscored else slice(None)] = np.nan
    return out


def _year_scores(plan: _Plan, x: np.ndarray, ind: pd.DataFrame, settings: ScoringSettings,
                 engine: str, cols: np.ndarray | None = None) -> np.ndarray:
    """LAs x TARGETS scores of one year's LA x indicator matrix ``x`` (columns = ``ind``, or its
    positions ``cols``)."""
    if cols is not None:
        x = x[:, cols]
    if engine == "fast":
        pick = slice(None) if cols is None else cols
        return _fast_scores(x, ind["polarity"].to_numpy()[pick], ind["weight"].to_numpy(dtype="float64")[pick],
                            ind["area"].to_numpy()[pick], settings)
    if cols is not None:
        ind = ind.iloc[cols].reset_index(drop=True)
    v = _long_values(plan.la_codes, list(ind["indicator"]), x)
    s = score_year(v, ind, settings, la_codes=plan.la_codes).scores.reindex(pd.Index(plan.la_codes))
    return np.column_stack([s[f"{t}_score"].to_numpy(dtype="float64", na_value=np.nan) for t in TARGETS])


def _score_variant(plan: _Plan, var: _Variant, *, with_change: bool = True,
                   engine: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ranks (LAs x targets), overall score change (LAs) and scores (LAs x targets) for one
    set of choices; a None choice keeps the edition's own setting."""
    engine = engine or plan.engine
    ind = plan.ind
    if var.weights is not None:
        ind = ind.assign(weight=ind["weight"].to_numpy(dtype="float64") * var.weights)
    changes = (("normalisation", var.normalisation), ("max_missing_indicators", var.missing),
               ("overall_from", var.aggregation))
    settings = dataclasses.replace(plan.scoring, **{k: v for k, v in changes if v is not None})
    years_rule = var.years or plan.headline
    values: dict[str, np.ndarray] = {}

    def year_values(y: str) -> np.ndarray:  # only the years this variant scores are redrawn
        if y not in values:
            values[y] = _values_for(plan, y, var.u, var.impute)
        return values[y]

    if years_rule == "mean" and len(plan.years) > 1:
        scores = sum(_year_scores(plan, year_values(y), ind, settings, engine) for y in plan.years) / len(plan.years)
    else:
        scores = _year_scores(plan, year_values(plan.final_year), ind, settings, engine)
    ranks = np.column_stack([_rank_desc_np(scores[:, j], settings.tie_method, settings.rank_decimals)
                             for j in range(len(TARGETS))])
    change = np.full(len(plan.la_codes), np.nan)
    if with_change and plan.common:
        cols = np.flatnonzero(ind["indicator"].isin(plan.common).to_numpy())
        first, last = plan.years[0], plan.years[-1]
        late = _year_scores(plan, year_values(last), ind, settings, engine, cols)[:, 0]
        early = _year_scores(plan, year_values(first), ind, settings, engine, cols)[:, 0]
        change = late - early
        if settings.normalisation == "zscore":
            change = change * plan.unc.z_to_percentile_scale
    return ranks, change, scores


def _same(a: np.ndarray, b: np.ndarray, atol: float = 0.0) -> bool:
    return bool(np.array_equal(np.isnan(a), np.isnan(b)) and np.allclose(
        np.nan_to_num(a), np.nan_to_num(b), rtol=0.0, atol=atol))


def _choose_engine(plan: _Plan, enabled: Iterable[str]) -> str:
    """'fast' if it reproduces score_year on the nominal, each discrete option (the years rule;
    the aggregation alone and with each normalisation) and the first verify_draws draws (ranks
    exactly, score changes to 1e-9), else 'score_year' with a warning. Every option is checked on
    its own, so the draws add only the continuous choices (weights, sampling noise) in mixes:
    3 draws do that (each option's code path is the same in every draw) at 1.5 s less per build."""
    want = plan.unc.engine
    if want == "score_year":
        return "score_year"
    checks = [_Variant()] + [_random_variant(plan, d, enabled)[0] for d in range(plan.unc.verify_draws)]
    checks += [_Variant(normalisation=o) for o in plan.unc.normalisations if o != plan.scoring.normalisation]
    checks += [_Variant(years=o) for o in plan.unc.years if o != plan.headline and len(plan.years) > 1]
    checks += [_Variant(missing=o) for o in plan.unc.max_missing_indicators
               if o != plan.scoring.max_missing_indicators]
    checks += [_Variant(impute=_impute_value(o)) for o in plan.unc.imputed_counts]
    # (g): the area aggregation on its own and with each other normalisation, since the area mean
    # of z-scores or min-max scores takes a different path through both engines than percentiles
    checks += [_Variant(aggregation=o, normalisation=n) for o in plan.unc.aggregations
               if o != plan.scoring.overall_from
               for n in (None, *(n for n in plan.unc.normalisations if n != plan.scoring.normalisation))]
    for var in checks:
        r_fast, c_fast, _ = _score_variant(plan, var, engine="fast")
        r_ref, c_ref, _ = _score_variant(plan, var, engine="score_year")
        if not (_same(r_fast, r_ref) and _same(c_fast, c_ref, atol=1e-9)):
            warnings.warn("uncertainty: the fast engine differs from scoring.score_year on a check draw; "
                          "every draw is re-scored with score_year instead (slower)", RuntimeWarning,
                          stacklevel=3)
            return "score_year"
    return "fast"

