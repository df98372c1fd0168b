"""Exact intervals: :func:`binomial_ci` (Clopper–Pearson) and :func:`poisson_rate_ci` (exact,
chi-square) for a proportion or a rate per 100, and :func:`normal_mean_ci` for a mean score.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from inclusion_index.errors import InclusionIndexError


class UncertaintyError(InclusionIndexError, ValueError):
    """Uncertainty cannot be computed as asked (e.g. a funnel for an indicator without counts)."""


def _check_level(level: float) -> float:
    if not 0.0 < float(level) < 1.0:
        raise UncertaintyError(f"level must be in (0, 1), got {level!r}")
    return float(level)


def _pair(a: Any, b: Any, *, b_index: bool = True) -> tuple[np.ndarray, np.ndarray, pd.Index | None]:
    """Both inputs as broadcast float arrays, and the index of the first Series (``b`` only if
    ``b_index``) when it fits."""
    idx = [x.index for x in ((a, b) if b_index else (a,)) if isinstance(x, pd.Series)]
    aa, bb = np.broadcast_arrays(*(np.atleast_1d(pd.to_numeric(x, errors="coerce") if isinstance(x, pd.Series)
                                                 else x).astype("float64") for x in (a, b)))
    return aa, bb, idx[0] if idx and len(idx[0]) == len(aa) else None


def _frame(ok: np.ndarray, index: pd.Index | None, scale: float, **cols: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({k: np.where(ok, v, np.nan) * scale for k, v in cols.items()}, index=index)


def binomial_ci(k: Any, n: Any, level: float = 0.95, *, scale: float = 1.0) -> pd.DataFrame:
    """Clopper–Pearson interval for ``k / n`` x ``scale``; non-integer counts (from a rounded
    percentage) are allowed, as the beta form extends smoothly."""
    alpha = 1.0 - _check_level(level)
    kk, nn, index = _pair(k, n)
    ok = np.isfinite(kk) & np.isfinite(nn) & (nn > 0) & (kk >= 0) & (kk <= nn)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _frame(ok, index, scale, estimate=kk / nn,
                      lower=np.where(kk > 0, stats.beta.ppf(alpha / 2, kk, nn - kk + 1), 0.0),
                      upper=np.where(kk < nn, stats.beta.ppf(1 - alpha / 2, kk + 1, nn - kk), 1.0))


def poisson_rate_ci(events: Any, exposure: Any, level: float = 0.95, *, per: float = 100.0) -> pd.DataFrame:
    """Garwood's exact interval for a rate ``events / exposure x per``: Poisson, because one pupil
    can be excluded several times."""
    alpha = 1.0 - _check_level(level)
    kk, ee, index = _pair(events, exposure)
    ok = np.isfinite(kk) & np.isfinite(ee) & (ee > 0) & (kk >= 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _frame(ok, index, per, rate=kk / ee,
                      lower=np.where(kk > 0, stats.chi2.ppf(alpha / 2, 2 * kk) / 2 / ee, 0.0),
                      upper=stats.chi2.ppf(1 - alpha / 2, 2 * kk + 2) / 2 / ee)


def normal_mean_ci(mean: Any, sd: float, n: Any, level: float = 0.95) -> pd.DataFrame:
    """``mean +- z x sd / sqrt(n)``: DfE's interval for a progress score, given a pupil-level SD."""
    z = stats.norm.ppf(0.5 + _check_level(level) / 2)
    mm, nn, index = _pair(mean, n, b_index=False)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = np.where(nn > 0, z * float(sd) / np.sqrt(nn), np.nan)
    return pd.DataFrame({"estimate": mm, "lower": mm - half, "upper": mm + half}, index=index)
