"""Columns beyond the original index, added to the score table: context-adjusted scores
(adjustment.py) and Monte Carlo rank intervals and improvement beyond uncertainty
(uncertainty.py), from the results the edition's build steps hold.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from inclusion_index.index.adjustment import AdjustmentResult
from inclusion_index.index.scoring import TARGETS
from inclusion_index.index.uncertainty import MonteCarloResult


def extended_columns() -> list[str]:
    """The columns enrich_score_table adds, in order."""
    cols = []
    for t in TARGETS:
        cols += [f"{t}_adjusted_score", f"{t}_adjusted_rank", f"{t}_adjusted_rank_lo", f"{t}_adjusted_rank_hi"]
    cols.append("adjustment_flag")
    for t in TARGETS:
        cols += [f"{t}_rank_median", f"{t}_rank_lo", f"{t}_rank_hi"]
    cols += ["overall_change_lo", "overall_change_hi", "improvement_significant"]
    return cols


def adjusted_rank_intervals(mc: MonteCarloResult, adj: AdjustmentResult) -> pd.DataFrame:
    """Monte Carlo intervals for the context-adjusted ranks: the model refitted to each draw's scores
    and its residuals ranked, so they carry the score's uncertainty and the model's (residual
    ranks do not depend on a draw's normalisation scale, so the draws mix)."""
    codes = pd.Index(mc.la_codes, name="la_code")
    out = pd.DataFrame(index=codes)
    a = (1 - mc.settings.interval) / 2
    for t in TARGETS:
        out[f"{t}_adjusted_rank_lo"] = pd.array([pd.NA] * len(codes), dtype="Int64")
        out[f"{t}_adjusted_rank_hi"] = pd.array([pd.NA] * len(codes), dtype="Int64")
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
        lo, hi = [], []
        for col in ranks.T:
            col = col[np.isfinite(col)]
            lo.append(np.quantile(col, a, method="inverted_cdf") if len(col) else np.nan)
            hi.append(np.quantile(col, 1 - a, method="inverted_cdf") if len(col) else np.nan)
        out.loc[rows[keep], f"{t}_adjusted_rank_lo"] = pd.array(lo, dtype="Float64").round().astype("Int64")
        out.loc[rows[keep], f"{t}_adjusted_rank_hi"] = pd.array(hi, dtype="Float64").round().astype("Int64")
    return out


def _add_interval(out: pd.DataFrame, rank_col: str, source: pd.DataFrame | None, parts: tuple[str, ...]) -> None:
    """Add ``<rank_col>_<part>`` interval columns, blank where the LA has no nominal rank, with the
    published rank kept inside its own interval: "150 (138-149)" would contradict itself
    (docs/UNCERTAINTY.md records how often that widens a range)."""
    rank = pd.array(out[rank_col].to_numpy(), dtype="Float64") if rank_col in out else pd.array(
        [pd.NA] * len(out), dtype="Float64")
    has = ~pd.isna(rank)
    for part in parts:
        c = f"{rank_col}_{part}"
        vals = pd.array(source[c].to_numpy(), dtype="Float64") if source is not None and c in source else \
            pd.array([pd.NA] * len(out), dtype="Float64")
        if part in ("lo", "hi"):
            bound = np.fmin if part == "lo" else np.fmax
            vals = pd.array(bound(vals.to_numpy(dtype="float64", na_value=np.nan),
                                  rank.to_numpy(dtype="float64", na_value=np.nan)), dtype="Float64")
        vals = vals.round().astype("Int64")
        vals[~has] = pd.NA
        out[c] = vals


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
        rank = adj[f"{t}_adjusted_rank"] if f"{t}_adjusted_rank" in adj else pd.Series(pd.NA, index=adj.index)
        out[f"{t}_adjusted_rank"] = pd.array(rank.to_numpy(), dtype="Int64")
    adj_iv = adjusted_rank_intervals(mc, adjustment).reindex(la) if mc is not None and adjustment is not None \
        else None
    out["adjustment_flag"] = adj["adjustment_flag"].fillna("").to_numpy() if "adjustment_flag" in adj else ""
    summ = mc.summary().reindex(la) if mc is not None else None
    for t in TARGETS:
        _add_interval(out, f"{t}_rank", summ, ("median", "lo", "hi"))
        _add_interval(out, f"{t}_adjusted_rank", adj_iv, ("lo", "hi"))
    for c in ("overall_change_lo", "overall_change_hi"):
        out[c] = summ[c].to_numpy() if summ is not None else np.nan
    sig = pd.array(summ["improvement_significant"].to_numpy(), dtype="boolean") if summ is not None else \
        pd.array([pd.NA] * len(out), dtype="boolean")
    out["improvement_significant"] = sig
    ext = extended_columns()
    return out[[*(c for c in table.columns if c not in ext), *ext]]


def describe_column(c: str, level: float) -> str | None:
    """Data-dictionary text for a column added here (None for any other column); ``level``: the
    interval of the Monte Carlo behind the table."""
    if c not in extended_columns():
        return None
    pct = f"{level:.0%}"
    lo_q, hi_q = f"{(1 - level) / 2:.0%}", f"{1 - (1 - level) / 2:.0%}"
    for t in TARGETS:
        what = "overall score" if t == "overall" else f"{t} area score"
        if c == f"{t}_adjusted_score":
            return (f"Context-adjusted {what}: observed minus expected from an OLS across LAs on child "
                    "deprivation (IDACI) and log EHC plans (data/registry/adjustment.yml); 0 = as expected, "
                    "positive = more inclusive than LAs in a similar position. Shown beside, not instead of, "
                    "the score")
        if c == f"{t}_adjusted_rank":
            return f"Rank of {t}_adjusted_score, 1 = most inclusive given its context"
        if c in (f"{t}_adjusted_rank_lo", f"{t}_adjusted_rank_hi"):
            end = "Best" if c.endswith("_lo") else "Worst"
            q = lo_q if c.endswith("_lo") else hi_q
            return (f"{end} end of the {pct} Monte Carlo interval of the adjusted {what} rank ({q} quantile): "
                    "the adjustment model refitted to every draw's scores")
        if c == f"{t}_rank_median":
            return (f"Median {what} rank over the Monte Carlo draws (weights, normalisation, years, "
                    "missing-data rule, sampling noise and imputed small counts perturbed; data/registry/uncertainty.yml)")
        if c == f"{t}_rank_lo":
            return f"Best end of the {pct} Monte Carlo interval of the {what} rank ({lo_q} quantile of the draws)"
        if c == f"{t}_rank_hi":
            return f"Worst end of the {pct} Monte Carlo interval of the {what} rank ({hi_q} quantile of the draws)"
    fixed = {
        "adjustment_flag": "Why an LA has no adjusted score, or where its context values came from "
                           "(boundary changes)",
        "overall_change_lo": f"{lo_q} quantile of the Monte Carlo overall score change (same draws applied "
                             "to both years; percentile points)",
        "overall_change_hi": f"{hi_q} quantile of the Monte Carlo overall score change",
        "improvement_significant": f"True if the score rose beyond uncertainty: the {pct} Monte Carlo interval "
                                   "of the change lies above 0"}
    return fixed.get(c)
