"""The Monte Carlo's plan: an edition laid out as LA x indicator arrays per index year, the
samplers that redraw each value given its denominator (choice (e)), the cells imputed from a
suppressed small count (choice (f)), and each draw's seeded choices (a ``_Variant``), among them
the aggregation of the overall score (choice (g)).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from inclusion_index.config import SamplingSpec, UncertaintySettings
from inclusion_index.index.inputs import IndexInputs
from inclusion_index.index.scoring import ScoringSettings, common_indicators
from inclusion_index.index.uncertainty.funnels import _indicator_counts, measure_on_geography
from inclusion_index.sources.derived import derived_measures


@dataclass
class _Sampler:
    """Noise for one indicator in one index year, vectorised over its LAs."""

    la_pos: np.ndarray  # rows of the year's LA x indicator matrix (positions in plan.la_codes)
    ind_pos: int | np.ndarray  # column of the matrix (per cell once merged, see _merged)
    key: int | np.ndarray  # which block of uniforms (shared by every index year fed by the same data)
    model: str
    value: np.ndarray
    n: np.ndarray
    k: np.ndarray
    scale: float | np.ndarray
    sd: float | np.ndarray = 0.0
    half_unit: float | np.ndarray = 0.05  # rounding: per cell, the rounding of its inputs
    inputs: np.ndarray | None = None  # rounding: numerator input, then the other inputs


@dataclass
class _Plan:
    la_codes: list[str]
    years: list[str]
    final_year: str
    ind: pd.DataFrame
    scoring: ScoringSettings
    headline: str
    base: dict[str, np.ndarray]  # year -> LAs x indicators values
    samplers: dict[str, list[_Sampler]]
    n_keys: int
    common: tuple[str, ...]
    unc: UncertaintySettings
    no_noise: pd.DataFrame  # cells left unperturbed, and why
    engine: str = "score_year"
    # year -> (LA rows, indicator columns, denominators, per) of cells imputed from a suppressed
    # small count, which choice (f) re-imputes
    imputed: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, float]] = field(default_factory=dict)


def _build_plan(edition: IndexInputs, unc: UncertaintySettings) -> _Plan:
    codes = [str(c) for c in edition.geography["la_code"]]
    pos = {c: i for i, c in enumerate(codes)}
    ind = edition.indicators[["indicator", "area", "polarity", "weight"]].reset_index(drop=True)
    names = list(ind["indicator"])
    base, samplers, keys, skipped = {}, {}, {}, []
    for y in edition.years:
        v = edition.values[edition.values["index_year"] == y]
        wide = v.pivot_table(index="la_code", columns="indicator", values="value", aggfunc="first", dropna=False)
        base[y] = wide.reindex(index=codes, columns=names).to_numpy(dtype="float64")
        samplers[y] = []
        for j, name in enumerate(names):
            sub = v[v["indicator"] == name]
            if sub.empty or sub["value"].notna().sum() == 0:
                continue
            spec = unc.spec(name)
            key = keys.setdefault((name, str(sub["measure"].iloc[0]), str(sub["data_year"].iloc[0])), len(keys))
            if spec.model == "none":
                continue
            if spec.model == "rounding":
                s = _rounding_sampler(edition, sub, j, pos, key, spec)
                if s is not None:
                    samplers[y].append(s)
                continue
            c = _indicator_counts(sub, edition.long, spec, codes, unc.default_cohort)
            ok = (c["value"].notna() & c["n"].notna()).to_numpy()
            skipped += [{"index_year": y, "indicator": name, "la_code": la, "reason": "no denominator or cohort size"}
                        for la in c.index[c["value"].notna() & c["n"].isna()]]
            if not ok.any():
                continue
            samplers[y].append(_Sampler(
                la_pos=np.array([pos[c_] for c_ in c.index[ok]]), ind_pos=j, key=key, model=spec.model,
                value=c["value"].to_numpy()[ok], n=c["n"].to_numpy()[ok], k=c["k"].to_numpy()[ok],
                scale=spec.scale, sd=float(spec.pupil_sd or 0.0)))
    samplers = {y: _merged(ss) for y, ss in samplers.items()}
    common: tuple[str, ...] = ()
    if len(edition.years) > 1:
        # the indicators most_improved compares: available (coverage rule) in both years
        common = common_indicators(_long_values(codes, names, base[edition.years[0]]),
                                   _long_values(codes, names, base[edition.years[-1]]), ind, edition.settings)
    return _Plan(la_codes=codes, years=list(edition.years), final_year=edition.final_year, ind=ind,
                 scoring=edition.settings, headline=edition.method.headline, base=base,
                 samplers=samplers, n_keys=max(1, len(keys)), common=common, unc=unc,
                 no_noise=pd.DataFrame(skipped, columns=["index_year", "indicator", "la_code", "reason"]),
                 imputed=_imputed_cells(edition, codes, names))


def _merged(samplers: list[_Sampler]) -> list[_Sampler]:
    """One sampler per model (rounding ones apart), so a draw calls each inverse CDF once a year
    rather than once an indicator; every cell gets the same value as from its own sampler."""
    out = [s for s in samplers if s.model == "rounding"]
    for model in dict.fromkeys(s.model for s in samplers if s.model != "rounding"):
        g = [s for s in samplers if s.model == model]
        cat = {f: np.concatenate([np.broadcast_to(getattr(s, f), s.la_pos.shape) for s in g])
               for f in ("la_pos", "ind_pos", "key", "value", "n", "k", "scale", "sd")}
        out.append(_Sampler(model=model, **cat))
    return out


def _imputed_cells(edition: IndexInputs, codes: list[str], names: list[str]
                   ) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, float]]:
    rule = getattr(edition.method, "impute_small_counts", {}) or {}
    per = float(rule.get("per", 100.0))
    pos, col = {c: i for i, c in enumerate(codes)}, {n: j for j, n in enumerate(names)}
    v = edition.values
    v = v[v["imputed_count"].notna() & v["denominator"].gt(0)
          & v["la_code"].isin(pos) & v["indicator"].isin(col)]
    return {str(y): (g["la_code"].map(pos).to_numpy(dtype=int), g["indicator"].map(col).to_numpy(dtype=int),
                     g["denominator"].to_numpy(dtype="float64"), per)
            for y, g in v.groupby("index_year")}


def _long_values(codes: list[str], names: list[str], x: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"la_code": np.repeat(np.array(codes, dtype=object), len(names)),
                         "indicator": np.tile(np.array(names, dtype=object), len(codes)),
                         "value": x.ravel()})


def _rounding_sampler(edition: IndexInputs, sub: pd.DataFrame, j: int, pos: dict, key: int,
                      spec: SamplingSpec) -> _Sampler | None:
    measures = derived_measures()
    if (derived := measures.get(str(sub["measure"].iloc[0]))) is None:
        return None
    year, las = str(sub["data_year"].iloc[0]), [str(x) for x in sub["la_code"]]
    # each cell is redrawn from the inputs and rounding of the measure its value is: a cell filled
    # from a fallback (value_source published / published_2dp) is not the counts it replaced
    inputs, half = None, np.full(len(las), np.nan)
    kinds = sub["value_source"].to_numpy() if "value_source" in sub else np.full(len(las), derived.value_source)
    for d in [derived, *(measures[f] for f in derived.fallback)]:
        here = (kinds == d.value_source) & np.isnan(half)
        # the numerator is also a denominator part: keep it once, first, then the others
        others = [m for m in d.denominator if m != d.numerator]
        cols = np.vstack([measure_on_geography(edition.long, m, year, las)[0].to_numpy()
                          for m in [d.numerator, *others]])
        inputs = np.where(here, cols, np.nan if inputs is None else inputs)
        half[here] = spec.half_unit if np.isnan(d.half_unit) else d.half_unit
    ok = np.isfinite(inputs).all(axis=0) & sub["value"].notna().to_numpy()
    if not ok.any():
        return None
    return _Sampler(la_pos=np.array([pos[c] for c in np.array(las)[ok]]), ind_pos=j, key=key,
                    model="rounding", value=sub["value"].to_numpy()[ok], n=np.full(ok.sum(), np.nan),
                    k=np.full(ok.sum(), np.nan), scale=derived.scale, half_unit=half[ok],
                    inputs=inputs[:, ok])


def _noisy(s: _Sampler, u: np.ndarray, how: str) -> np.ndarray:
    """New values for a sampler's cells from uniforms ``u`` (cells x 2), by inverse CDF so the
    same uniforms give the same noise whatever else a draw does."""
    u0 = np.clip(u[:, 0], 1e-12, 1 - 1e-12)
    if s.model == "normal":
        return s.value + stats.norm.ppf(u0) * s.sd / np.sqrt(s.n)
    if s.model in ("binomial", "poisson"):
        k, n = np.clip(s.k, 0, s.n if s.model == "binomial" else None), np.rint(s.n)
        if how == "jeffreys":  # Jeffreys posteriors, so a 0 / n cell still varies
            q = (stats.beta.ppf(u0, k + 0.5, s.n - k + 0.5) if s.model == "binomial"
                 else stats.gamma.ppf(u0, k + 0.5) / s.n)
        else:
            q = stats.binom.ppf(u0, n, k / s.n) / n if s.model == "binomial" else stats.poisson.ppf(u0, k) / s.n
        return q * s.scale
    if s.model == "rounding":
        assert s.inputs is not None
        # each published input is somewhere within +-half_unit of its rounded value
        num = np.clip(s.inputs[0] + (u[:, 0] - 0.5) * 2 * s.half_unit, 0.0, None)
        rest = np.clip(s.inputs[1:].sum(axis=0) + (u[:, 1] - 0.5) * 2 * s.half_unit * (len(s.inputs) - 1),
                       0.0, None)
        den = num + rest
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, num / den * s.scale, s.value)
    return s.value


@dataclass(frozen=True)
class _Variant:
    weights: np.ndarray | None = None  # multipliers per indicator
    normalisation: str | None = None
    years: str | None = None
    missing: int | None = None
    u: np.ndarray | None = None  # n_keys x n_la x 2 uniforms for sampling noise
    impute: float | None = None  # count for imputed cells; NaN = leave them missing
    aggregation: str | None = None  # scoring's overall_from: "indicators" or "areas"


def _values_for(plan: _Plan, year: str, u: np.ndarray | None, impute: float | None = None) -> np.ndarray:
    x = plan.base[year]
    cells = plan.imputed.get(year) if impute is not None else None
    if (u is None or not plan.samplers[year]) and cells is None:
        return x
    x = x.copy()
    if u is not None:
        for s in plan.samplers[year]:
            x[s.la_pos, s.ind_pos] = _noisy(s, u[s.key, s.la_pos, :], plan.unc.sampling_draw)
    if cells is not None:
        # after the noise: a re-imputed cell is a choice about an unknown count, not a measurement
        rows, cols, den, per = cells
        x[rows, cols] = impute / den * per if np.isfinite(impute) else np.nan
    return x


def _random_variant(plan: _Plan, d: int, enabled: Iterable[str]) -> tuple[_Variant, dict]:
    """Draw d's choices. Every random number is drawn whether or not its choice is enabled,
    in a fixed order, so switching a choice off leaves the others' draws unchanged."""
    unc = plan.unc
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(unc.seed, spawn_key=(d,))))
    w = unc.weights_half_width
    mult = rng.uniform(1 - w, 1 + w, size=len(plan.ind))
    i_norm = int(rng.integers(len(unc.normalisations)))
    i_years = int(rng.integers(len(unc.years)))
    i_miss = int(rng.integers(len(unc.max_missing_indicators)))
    u = rng.random((plan.n_keys, len(plan.la_codes), 2))
    i_imp = int(rng.integers(len(unc.imputed_counts)))  # drawn after the others: they stay as they were
    i_agg = int(rng.integers(len(unc.aggregations)))  # drawn last, for the same reason
    en = set(enabled)
    var = _Variant(
        weights=mult if "weights" in en else None,
        normalisation=unc.normalisations[i_norm] if "normalisation" in en else None,
        years=unc.years[i_years] if "years" in en and len(plan.years) > 1 else None,
        missing=unc.max_missing_indicators[i_miss] if "missing" in en else None,
        u=u if "sampling" in en else None,
        impute=_impute_value(unc.imputed_counts[i_imp]) if "imputation" in en else None,
        aggregation=unc.aggregations[i_agg] if "aggregation" in en else None)
    choice: dict[str, Any] = {
        "draw": d,
        "normalisation": var.normalisation or plan.scoring.normalisation,
        "years": var.years or plan.headline,
        "max_missing_indicators": var.missing if var.missing is not None else plan.scoring.max_missing_indicators,
        "sampling": "sampling" in en,
        "imputed_count": (("missing" if unc.imputed_counts[i_imp] is None else unc.imputed_counts[i_imp])
                          if "imputation" in en else "nominal"),
        "aggregation": var.aggregation or plan.scoring.overall_from}
    choice.update({f"w_{name}": float(m) if "weights" in en else 1.0
                   for name, m in zip(plan.ind["indicator"], mult, strict=True)})
    return var, choice


def _impute_value(count: float | None) -> float:
    return float("nan") if count is None else float(count)
