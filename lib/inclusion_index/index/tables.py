"""The score table's columns beyond the original index, from the build's results: context-adjusted
scores (adjustment.py), Monte Carlo rank intervals and improvement beyond uncertainty (uncertainty/)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from inclusion_index.index.adjustment import AdjustmentResult
from inclusion_index.index.scoring import TARGETS
from inclusion_index.index.uncertainty import MonteCarloResult
from inclusion_index.index.uncertainty.monte_carlo import _quantiles


def extended_columns() -> list[str]:
    """The columns enrich_score_table adds, in order."""
    return [*(f"{t}_adjusted_{k}" for t in TARGETS for k in ("score", "rank", "rank_lo", "rank_hi")),
            "adjustment_flag", *(f"{t}_rank_{k}" for t in TARGETS for k in ("median", "lo", "hi")),
            "overall_change_lo", "overall_change_hi", "improvement_significant"]


def _column(frame: pd.DataFrame | None, c: str, n: int, dtype: str) -> pd.api.extensions.ExtensionArray:
    """``frame[c]`` as a ``dtype`` array; all missing (length ``n``) without that frame or column."""
    return pd.array(frame[c].to_numpy() if frame is not None and c in frame else [pd.NA] * n, dtype=dtype)


def adjusted_rank_intervals(mc: MonteCarloResult, adj: AdjustmentResult) -> pd.DataFrame:
    """Monte Carlo intervals for the context-adjusted ranks: the model refitted to each draw's scores
    and its residuals ranked, so they carry the score's uncertainty and the model's (residual
    ranks do not depend on a draw's normalisation scale, so the draws mix)."""
    codes = pd.Index(mc.la_codes, name="la_code")
    out = pd.DataFrame({f"{t}_adjusted_rank_{end}": pd.array([pd.NA] * len(codes), dtype="Int64")
                        for t in TARGETS for end in ("lo", "hi")}, index=codes)
    a = (1 - mc.settings.interval) / 2
    for t in TARGETS:
        fit = adj.fits.get(t)
        if mc.scores is None or fit is None or fit.result is None:
            continue
        rows = pd.Index([str(r) for r in fit.result.model.data.row_labels])
        pos = codes.get_indexer(rows)
        keep = pos >= 0
        X, pos = fit.result.model.exog[keep], pos[keep]
        y_all = mc.scores[:, pos, TARGETS.index(t)]
        ranks = np.full(y_all.shape, np.nan)
        for d, y in enumerate(y_all):
            ok = np.isfinite(y)
            if ok.sum() < X.shape[1] + 2:
                continue
            beta, *_ = np.linalg.lstsq(X[ok], y[ok], rcond=None)
            ranks[d, ok] = stats.rankdata(-(y[ok] - X[ok] @ beta), method="min")
        for end, v in zip(("lo", "hi"), _quantiles(ranks, [a, 1 - a]), strict=True):
            out.loc[rows[keep], f"{t}_adjusted_rank_{end}"] = pd.array(v, dtype="Float64").round().astype("Int64")
    return out


def _add_interval(out: pd.DataFrame, rank_col: str, source: pd.DataFrame | None, parts: tuple[str, ...]) -> None:
    """Add ``<rank_col>_<part>`` interval columns, blank where the LA has no nominal rank, with the
    published rank kept inside its own interval: "150 (138-149)" would contradict itself
    (docs/UNCERTAINTY.md records how often that widens a range)."""
    rank = _column(out, rank_col, len(out), "Float64").to_numpy(dtype="float64", na_value=np.nan)
    for part in parts:
        c = f"{rank_col}_{part}"
        vals = _column(source, c, len(out), "Float64").to_numpy(dtype="float64", na_value=np.nan)
        vals = np.fmin(vals, rank) if part == "lo" else np.fmax(vals, rank) if part == "hi" else vals
        out[c] = pd.array(np.where(np.isnan(rank), np.nan, vals), dtype="Float64").round().astype("Int64")


def enrich_score_table(table: pd.DataFrame, mc: MonteCarloResult | None, adjustment: AdjustmentResult | None
                       ) -> pd.DataFrame:
    """Add adjusted scores and ranks, Monte Carlo rank intervals and improvement significance after
    the existing columns; with the Monte Carlo switched off (``mc`` None) they are blank."""
    out = table.copy()
    la = out["la_code"].astype(str)
    adj = adjustment.scores.reindex(la) if adjustment is not None else pd.DataFrame(index=la)
    for t in TARGETS:
        out[f"{t}_adjusted_score"] = adj[f"{t}_adjusted_score"].to_numpy() if f"{t}_adjusted_score" in adj \
            else np.nan
        out[f"{t}_adjusted_rank"] = _column(adj, f"{t}_adjusted_rank", len(out), "Int64")
    adj_iv = adjusted_rank_intervals(mc, adjustment).reindex(la) if mc is not None and adjustment is not None \
        else None
    out["adjustment_flag"] = adj["adjustment_flag"].fillna("").to_numpy() if "adjustment_flag" in adj else ""
    summ = mc.summary().reindex(la) if mc is not None else None
    for t in TARGETS:
        _add_interval(out, f"{t}_rank", summ, ("median", "lo", "hi"))
        _add_interval(out, f"{t}_adjusted_rank", adj_iv, ("lo", "hi"))
    for c in ("overall_change_lo", "overall_change_hi"):
        out[c] = summ[c].to_numpy() if summ is not None else np.nan
    out["improvement_significant"] = _column(summ, "improvement_significant", len(out), "boolean")
    ext = extended_columns()
    return out[[*(c for c in table.columns if c not in ext), *ext]]
