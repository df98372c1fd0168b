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
from inclusion_index.index.uncertainty.monte_carlo import MonteCarloResult, _run_draws
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


# discrete choice -> (its options in UncertaintySettings, the _Variant field it sets)
_DISCRETE = {"normalisation": ("normalisations", "normalisation"), "years": ("years", "years"),
             "missing": ("max_missing_indicators", "missing"), "imputation": ("imputed_counts", "impute"),
             "aggregation": ("aggregations", "aggregation")}
_STATS = {"mean_abs_shift": np.mean, "median_abs_shift": np.median,
          "p90_abs_shift": lambda s: np.quantile(s, 0.9), "max_abs_shift": np.max,
          "share_moved_10plus": lambda s: (s >= 10).mean()}


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
    plan.engine = mc.engine if mc is not None else _choose_engine(plan, settings.perturb)
    nom = _score_variant(plan, _Variant(), with_change=False)[0][:, j]

    def shifts(ranks: list[np.ndarray]) -> np.ndarray:
        out = [np.abs(r[:, j] - nom)[np.isfinite(r[:, j]) & np.isfinite(nom)] for r in ranks]
        return np.concatenate(out) if out else np.array([])

    def spearman(r: np.ndarray) -> float:
        ok = np.isfinite(r[:, j]) & np.isfinite(nom)
        return float(stats.spearmanr(r[ok, j], nom[ok]).statistic) if ok.sum() > 2 else np.nan

    def row(choice: str, ranks: list[np.ndarray], option: str = "", rho: float | None = None) -> dict:
        s = shifts(ranks)
        return {"choice": choice, "option": option, "label": CHOICE_LABELS[choice], "runs": len(ranks),
                **{k: float(f(s)) if len(s) else np.nan for k, f in _STATS.items()},
                "rank_correlation": float(np.mean([spearman(r) for r in ranks])) if rho is None else rho}

    # the edition's own option of each discrete choice: its runs reproduce the nominal ranking,
    # so they are left out of the rank correlation (which would otherwise mix in 1s)
    c = edition.values["imputed_count"].dropna() if "imputed_count" in edition.values else []
    own = {"normalisation": plan.scoring.normalisation, "years": plan.headline,
           "missing": plan.scoring.max_missing_indicators, "aggregation": plan.scoring.overall_from,
           "imputation": float(c.iloc[0]) if len(c) else None}
    rows, by_option = [], []
    for choice in CHOICES:
        if choice not in _DISCRETE:
            rows.append(row(choice, [r[0] for r in _run_draws(
                plan, list(range(settings.sensitivity_draws)), (choice,), False)]))
            continue
        attr, fld = _DISCRETE[choice]
        options = list(getattr(settings, attr))
        variants = [_Variant(**{fld: _impute_value(o) if fld == "impute" else o}) for o in options]
        if choice == "years" and len(plan.years) < 2:
            variants = [_Variant()]
        ranks = [_score_variant(plan, v, with_change=False)[0] for v in variants]
        rhos = [spearman(r) for r in ranks]
        labels = ["left missing" if o is None else f"{o:g}" for o in options] if fld == "impute" else options
        by_option += [row(choice, [r], str(lab), rho) for lab, r, rho in zip(labels, ranks, rhos, strict=False)]
        other = [rho for o, rho in zip(options, rhos, strict=False) if o != own[choice]]
        rows.append(row(choice, ranks, rho=float(np.mean(other or rhos))))
    if mc is not None:
        rows.append(row("all", list(mc.ranks)))
    out = pd.DataFrame(rows)
    out.attrs["by_option"] = pd.DataFrame(by_option)
    out.attrs["target"] = target
    return out

