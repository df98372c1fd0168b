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


def _vector(x: Any) -> tuple[np.ndarray, pd.Index | None]:
    if isinstance(x, pd.Series):
        return pd.to_numeric(x, errors="coerce").to_numpy(dtype="float64"), x.index
    return np.atleast_1d(np.asarray(x, dtype="float64")), None


def _check_level(level: float) -> float:
    if not 0.0 < float(level) < 1.0:
        raise UncertaintyError(f"level must be in (0, 1), got {level!r}")
    return float(level)


def binomial_ci(k: Any, n: Any, level: float = 0.95, *, scale: float = 1.0) -> pd.DataFrame:
    """Clopper–Pearson interval for ``k / n`` x ``scale``; non-integer counts (from a rounded
    percentage) are allowed, as the beta form extends smoothly."""
    level = _check_level(level)
    kk, idx = _vector(k)
    nn, idx_n = _vector(n)
    kk, nn = np.broadcast_arrays(kk, nn)
    alpha = 1.0 - level
    ok = np.isfinite(kk) & np.isfinite(nn) & (nn > 0) & (kk >= 0) & (kk <= nn)
    est = np.full(kk.shape, np.nan)
    lo = np.full(kk.shape, np.nan)
    hi = np.full(kk.shape, np.nan)
    est[ok] = kk[ok] / nn[ok]
    with np.errstate(invalid="ignore"):
        lo_ok = ok & (kk > 0)
        lo[ok & (kk == 0)] = 0.0
        lo[lo_ok] = stats.beta.ppf(alpha / 2, kk[lo_ok], nn[lo_ok] - kk[lo_ok] + 1)
        hi_ok = ok & (kk < nn)
        hi[ok & (kk == nn)] = 1.0
        hi[hi_ok] = stats.beta.ppf(1 - alpha / 2, kk[hi_ok] + 1, nn[hi_ok] - kk[hi_ok])
    index = idx if idx is not None else idx_n
    if index is not None and len(index) != len(kk):
        index = None
    return pd.DataFrame({"estimate": est * scale, "lower": lo * scale, "upper": hi * scale}, index=index)


def poisson_rate_ci(events: Any, exposure: Any, level: float = 0.95, *, per: float = 100.0) -> pd.DataFrame:
    """Garwood's exact interval for a rate ``events / exposure x per``: Poisson, because one pupil
    can be excluded several times."""
    level = _check_level(level)
    kk, idx = _vector(events)
    ee, idx_e = _vector(exposure)
    kk, ee = np.broadcast_arrays(kk, ee)
    alpha = 1.0 - level
    ok = np.isfinite(kk) & np.isfinite(ee) & (ee > 0) & (kk >= 0)
    rate = np.full(kk.shape, np.nan)
    lo = np.full(kk.shape, np.nan)
    hi = np.full(kk.shape, np.nan)
    rate[ok] = kk[ok] / ee[ok]
    pos = ok & (kk > 0)
    lo[ok & (kk == 0)] = 0.0
    lo[pos] = stats.chi2.ppf(alpha / 2, 2 * kk[pos]) / 2 / ee[pos]
    hi[ok] = stats.chi2.ppf(1 - alpha / 2, 2 * kk[ok] + 2) / 2 / ee[ok]
    index = idx if idx is not None else idx_e
    if index is not None and len(index) != len(kk):
        index = None
    return pd.DataFrame({"rate": rate * per, "lower": lo * per, "upper": hi * per}, index=index)


def normal_mean_ci(mean: Any, sd: float, n: Any, level: float = 0.95) -> pd.DataFrame:
    """``mean +- z x sd / sqrt(n)``: DfE's interval for a progress score, given a pupil-level SD."""
    level = _check_level(level)
    mm, idx = _vector(mean)
    nn, _ = _vector(n)
    mm, nn = np.broadcast_arrays(mm, nn)
    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = np.where(nn > 0, z * float(sd) / np.sqrt(nn), np.nan)
    return pd.DataFrame({"estimate": mm, "lower": mm - half, "upper": mm + half}, index=idx)
