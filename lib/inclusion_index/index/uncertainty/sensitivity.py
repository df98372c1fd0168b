"""Sensitivity: :func:`sensitivity_table` perturbs one choice at a time, to show which moves ranks most."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from inclusion_index.config import CHOICES, UncertaintySettings, run_settings
from inclusion_index.index.inputs import IndexInputs
from inclusion_index.index.scoring import TARGETS
from inclusion_index.index.uncertainty.fast_engine import _choose_engine, _score_variant
from inclusion_index.index.uncertainty.intervals import UncertaintyError
from inclusion_index.index.uncertainty.monte_carlo import MonteCarloResult, _enabled, _run_draws
from inclusion_index.index.uncertainty.plan import _build_plan, _impute_value, _Variant

CHOICE_LABELS = {
    "weights": "(a) indicator weights x U(1-w, 1+w)",
    "normalisation": "(b) normalisation: percentile / z-score / min-max",
    "years": "(c) headline: final year / mean of the edition's years",
    "missing": "(d) missing-data rule: max missing indicators",
    "sampling": "(e) sampling noise in each value given its denominator",
    "imputation": "(f) suppressed small counts: imputed as 1, 1.5 or 2, or left missing",
    "aggregation": "(g) overall score: equal weight per indicator / equal weight per area",
    "all": "(a)-(g) together (the Monte Carlo of the score table)"}


def _nominal_imputed_count(edition: IndexInputs) -> float | None:
    """The count the edition's method imputed for suppressed small counts (None: none imputed)."""
    v = edition.values
    c = v["imputed_count"].dropna() if "imputed_count" in v else pd.Series(dtype="float64")
    return float(c.iloc[0]) if len(c) else None



def sensitivity_table(edition: IndexInputs, settings: UncertaintySettings | None = None, *,
                      target: str = "overall", mc: MonteCarloResult | None = None) -> pd.DataFrame:
    """How far each choice (a)-(g), perturbed alone, moves ranks from the nominal ranking
    (docs/UNCERTAINTY.md "Sensitivity"): discrete choices enumerated, each option once, so the mean
    is the Monte Carlo's expectation; ``attrs["by_option"]`` per option. ``mc``: the full Monte
    Carlo on the same settings, as a last row, its engine reused (no second fast-engine check)."""
    settings = settings or run_settings().uncertainty
    if target not in TARGETS:
        raise UncertaintyError(f"target must be one of {TARGETS}")
    j = TARGETS.index(target)
    plan = _build_plan(edition, settings)
    plan.engine = mc.engine if mc is not None else _choose_engine(plan, _enabled(settings))
    nominal = _score_variant(plan, _Variant(), with_change=False)[0]
    nom = nominal[:, j]

    def shifts(ranks: list[np.ndarray]) -> np.ndarray:
        out = [np.abs(r[:, j] - nom)[np.isfinite(r[:, j]) & np.isfinite(nom)] for r in ranks]
        return np.concatenate(out) if out else np.array([])

    def spearman(r: np.ndarray) -> float:
        ok = np.isfinite(r[:, j]) & np.isfinite(nom)
        return float(stats.spearmanr(r[ok, j], nom[ok]).statistic) if ok.sum() > 2 else np.nan

    def row(choice: str, s: np.ndarray, runs: int, option: str = "", rho: float = np.nan) -> dict:
        return {"choice": choice, "option": option, "label": CHOICE_LABELS[choice], "runs": runs,
                "mean_abs_shift": float(s.mean()) if len(s) else np.nan,
                "median_abs_shift": float(np.median(s)) if len(s) else np.nan,
                "p90_abs_shift": float(np.quantile(s, 0.9)) if len(s) else np.nan,
                "max_abs_shift": float(s.max()) if len(s) else np.nan,
                "share_moved_10plus": float((s >= 10).mean()) if len(s) else np.nan,
                "rank_correlation": rho}

    rows, by_option = [], []
    discrete = {
        "normalisation": [_Variant(normalisation=o) for o in settings.normalisations],
        "years": [_Variant(years=o) for o in settings.years] if len(plan.years) > 1 else [_Variant()],
        "missing": [_Variant(missing=o) for o in settings.max_missing_indicators],
        "imputation": [_Variant(impute=_impute_value(o)) for o in settings.imputed_counts],
        "aggregation": [_Variant(aggregation=o) for o in settings.aggregations]}
    labels = {"normalisation": settings.normalisations, "years": settings.years,
              "missing": [str(x) for x in settings.max_missing_indicators],
              "imputation": ["left missing" if o is None else f"{o:g}" for o in settings.imputed_counts],
              "aggregation": settings.aggregations}
    # the edition's own option of each discrete choice: its runs reproduce the nominal ranking,
    # so they are left out of the rank correlation (which would otherwise mix in 1s)
    own = {"normalisation": [plan.scoring.normalisation], "years": [plan.headline],
           "missing": [plan.scoring.max_missing_indicators], "aggregation": [plan.scoring.overall_from],
           "imputation": [_nominal_imputed_count(edition)]}
    options = {c: list(getattr(settings, a)) for c, a in (
        ("normalisation", "normalisations"), ("years", "years"), ("missing", "max_missing_indicators"),
        ("imputation", "imputed_counts"), ("aggregation", "aggregations"))}
    for choice in CHOICES:
        if choice in discrete:
            ranks = [_score_variant(plan, v, with_change=False)[0] for v in discrete[choice]]
            rhos = [spearman(r) for r in ranks]
            for lab, r, rho in zip(labels[choice], ranks, rhos, strict=False):
                by_option.append(row(choice, shifts([r]), 1, str(lab), rho))
            other = [rho for o, rho in zip(options[choice], rhos, strict=False) if o not in own[choice]]
            rows.append(row(choice, shifts(ranks), len(ranks), rho=float(np.mean(other or rhos))))
        else:
            res = _run_draws(plan, list(range(settings.sensitivity_draws)), (choice,), False)
            rows.append(row(choice, shifts([r[0] for r in res]), len(res),
                            rho=float(np.mean([spearman(r[0]) for r in res]))))
    if mc is not None:
        rows.append(row("all", shifts(list(mc.ranks)), mc.ranks.shape[0],
                        rho=float(np.mean([spearman(r) for r in mc.ranks]))))
    out = pd.DataFrame(rows)
    out.attrs["by_option"] = pd.DataFrame(by_option)
    out.attrs["target"] = target
    return out

