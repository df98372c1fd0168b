"""Context-adjusted scores: how inclusive is an LA compared with LAs in a similar position? OLS
residuals of each score on child deprivation and EHC plans, ranked beside the index, never instead
of it (docs/UNCERTAINTY.md "Context adjustment")."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from inclusion_index.config import AdjustmentSettings, run_settings
from inclusion_index.errors import InclusionIndexError
from inclusion_index.index.inputs import IndexInputs
from inclusion_index.index.scoring import rank_desc
from inclusion_index.index.uncertainty import measure_on_geography


class AdjustmentError(InclusionIndexError, ValueError):
    """The adjustment cannot be fitted as asked."""


@dataclass
class FittedAdjustment:
    """One target's model. ``expected`` and ``adjusted`` are indexed like the input score
    (NaN where the score or any covariate is missing)."""

    target: str
    covariates: list[str]
    n: int
    expected: pd.Series
    adjusted: pd.Series
    coefficients: pd.DataFrame
    r2: float
    adj_r2: float
    bp_pvalue: float
    cooks: pd.Series
    result: Any = field(repr=False, default=None)


def fit_adjustment(score: pd.Series, context: pd.DataFrame, covariates: list[str], *,
                   cov_type: str = "nonrobust", target: str = "score", min_n: int = 3) -> FittedAdjustment:
    """OLS of ``score`` on ``context[covariates]`` (plus an intercept) over the rows with all
    values; residual = observed - expected. Raises AdjustmentError with fewer than ``min_n``
    complete rows or a covariate with no variation."""
    if missing := [c for c in covariates if c not in context.columns]:
        raise AdjustmentError(f"context lacks covariate column(s) {missing}")
    y = pd.to_numeric(score, errors="coerce").astype("float64")
    x = context.reindex(y.index)[covariates].astype("float64")
    ok = y.notna() & x.notna().all(axis=1)
    n = int(ok.sum())
    if n < max(min_n, len(covariates) + 2):
        raise AdjustmentError(f"{target}: only {n} LAs have a score and every covariate (need {min_n})")
    if flat := [c for c in covariates if x.loc[ok, c].nunique() < 2]:
        raise AdjustmentError(f"{target}: covariate(s) {flat} do not vary")
    # statsmodels late: every notebook kernel and profile worker imports this module to read an
    # edition, and statsmodels.api alone costs about 0.4 s of CPU in each; only a build fits
    import statsmodels.api as sm
    from statsmodels.stats.diagnostic import het_breuschpagan
    from statsmodels.stats.outliers_influence import OLSInfluence

    exog = sm.add_constant(x[ok], has_constant="add")
    res = sm.OLS(y[ok], exog).fit(cov_type=cov_type)
    expected = res.fittedvalues.reindex(y.index)
    adjusted = (y - expected).where(ok)
    ci = res.conf_int(alpha=0.05)
    sd = x[ok].std(ddof=1)
    coefs = pd.DataFrame({
        "target": target, "term": list(exog.columns), "coef": res.params.to_numpy(), "std_err": res.bse.to_numpy(),
        "ci_lower": ci[0].to_numpy(), "ci_upper": ci[1].to_numpy(), "p_value": res.pvalues.to_numpy(),
        # change in score for one SD of the covariate: comparable across covariates
        "coef_per_sd": [np.nan if t == "const" else res.params[t] * sd[t] for t in exog.columns]})
    try:
        bp = float(het_breuschpagan(res.resid, exog)[1])
    except (ValueError, np.linalg.LinAlgError):
        bp = float("nan")
    cooks = pd.Series(OLSInfluence(res).cooks_distance[0], index=y.index[ok]).sort_values(ascending=False)
    return FittedAdjustment(target=target, covariates=list(covariates), n=n, expected=expected,
                            adjusted=adjusted, coefficients=coefs, r2=float(res.rsquared),
                            adj_r2=float(res.rsquared_adj), bp_pvalue=bp, cooks=cooks, result=res)


def context_table(edition: IndexInputs, settings: AdjustmentSettings | None = None) -> pd.DataFrame:
    """Per LA (index la_code): ``idaci``, ``ehcp_pct_pupils``, ``ehcp_total``, ``log_ehcp_total`` and
    ``context_note`` (a value moved across a boundary change, or missing)."""
    settings = settings or run_settings().adjustment
    codes = [str(c) for c in edition.geography["la_code"]]
    long = edition.long

    def get(measure: str, year: str, count: bool = False) -> tuple[pd.Series, pd.Series]:
        if settings.map_boundary_changes:
            return measure_on_geography(long, measure, year, codes, count=count)
        m = (long["measure"] == measure) & (long["year"] == year) & (long["level"] == "la")
        s = long.loc[m].drop_duplicates("la_code").set_index("la_code")["value"].astype("float64")
        s = s.reindex(pd.Index(codes, name="la_code"))
        return s, pd.Series("", index=s.index, dtype="object")

    idaci, n1 = get(edition.method.deprivation_measure, edition.method.deprivation_year)
    ehcp, n2 = get(settings.ehcp_measure, edition.final_year, count=True)
    rate, n3 = get(settings.ehcp_rate_measure, edition.final_year)
    # no plans (or none recorded) is no log: NaN, not -inf
    out = pd.DataFrame({"idaci": idaci, "ehcp_pct_pupils": rate, "ehcp_total": ehcp,
                        "log_ehcp_total": np.log(ehcp.where(ehcp > 0))}, index=pd.Index(codes, name="la_code"))
    moved = (("IDACI", n1), ("EHC plans", n2), ("EHC plan rate", n3))
    gaps = ((settings.deprivation, "idaci", f"no {edition.method.deprivation_measure} for "
             f"{edition.method.deprivation_year}"),
            (settings.ehcp_rate, "ehcp_pct_pupils", f"no {settings.ehcp_rate_measure} for {edition.final_year}"),
            (settings.log_ehcp_total, "log_ehcp_total", f"no {settings.ehcp_measure} for {edition.final_year}"))
    out["context_note"] = ["; ".join([*(f"{w} {n[la]}" for w, n in moved if n[la]),
                                      *(msg for on, c, msg in gaps if on and pd.isna(out.at[la, c]))]) for la in codes]
    return out


@dataclass
class AdjustmentResult:
    """Adjusted scores for an edition: per-LA scores (with ``adjustment_flag``: why unadjusted, or
    where the context came from), coefficients with 95% intervals, and per-target model checks."""

    scores: pd.DataFrame
    coefficients: pd.DataFrame
    models: pd.DataFrame
    caveat: str
    settings: AdjustmentSettings
    fits: dict[str, FittedAdjustment] = field(default_factory=dict, repr=False)


def adjust_scores(edition: IndexInputs, table: pd.DataFrame,
                  settings: AdjustmentSettings | None = None) -> AdjustmentResult:
    """Context-adjusted overall and area scores of the score ``table``; an LA without a score or
    context keeps NaN (flagged), a target with too few LAs gets no model (noted)."""
    settings = settings or run_settings().adjustment
    scores = table.set_index("la_code") if "la_code" in table.columns else table
    ctx = context_table(edition, settings)
    names = edition.geography.set_index("la_code")["la_name"]
    out = pd.DataFrame(index=ctx.index)
    coef_rows, model_rows, fits = [], [], {}
    for t in settings.targets:
        y = scores.get(f"{t}_score", pd.Series(np.nan, index=scores.index)).reindex(ctx.index)
        y = pd.to_numeric(y, errors="coerce").astype("float64")
        try:
            fit = fit_adjustment(y, ctx, settings.covariates_for(t), cov_type=settings.cov_type, target=t,
                                 min_n=settings.min_n)
        except AdjustmentError as e:
            out[[f"{t}_expected", f"{t}_adjusted_score"]] = np.nan
            out[f"{t}_adjusted_rank"] = pd.array([pd.NA] * len(out), dtype="Int64")
            model_rows.append({"target": t, "n": int(y.notna().sum()), "r2": np.nan, "adj_r2": np.nan,
                               "bp_pvalue": np.nan, "max_cooks": np.nan, "top_cooks": "", "note": str(e)})
            continue
        fits[t] = fit
        out[f"{t}_expected"] = fit.expected
        out[f"{t}_adjusted_score"] = fit.adjusted
        out[f"{t}_adjusted_rank"] = rank_desc(fit.adjusted, edition.settings.tie_method).astype("Int64")
        coef_rows.append(fit.coefficients)
        top = fit.cooks.head(settings.cooks_top)
        model_rows.append({
            "target": t, "n": fit.n, "r2": fit.r2, "adj_r2": fit.adj_r2, "bp_pvalue": fit.bp_pvalue,
            "max_cooks": float(top.iloc[0]) if len(top) else np.nan,
            "top_cooks": "; ".join(f"{names.get(la, la)} ({d:.2f})" for la, d in top.items()),
            "note": ""})
    out = out.join(ctx[["idaci", "ehcp_pct_pupils", "ehcp_total", "log_ehcp_total"]])
    scored = scores[[f"{t}_score" for t in settings.targets if f"{t}_score" in scores.columns]].notna().any(axis=1)
    flags = []
    for la in ctx.index:
        lacks, note = [c for c in settings.covariates if pd.isna(ctx.at[la, c])], ctx.at[la, "context_note"]
        flags.append("; ".join([*([f"not adjusted: no context ({', '.join(lacks)})"] if scored.get(la, False) and lacks
                                  else []), *([f"context: {note}"] if note else [])]))
    out["adjustment_flag"] = flags
    coefficients = pd.concat(coef_rows, ignore_index=True) if coef_rows else pd.DataFrame(
        columns=["target", "term", "coef", "std_err", "ci_lower", "ci_upper", "p_value", "coef_per_sd"])
    return AdjustmentResult(scores=out, coefficients=coefficients, models=pd.DataFrame(model_rows),
                            caveat=settings.caveat, settings=settings, fits=fits)
