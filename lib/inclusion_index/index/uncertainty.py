"""How sure can we be of an LA's place? Exact intervals, funnel plots, Monte Carlo rank
intervals, sensitivity of ranks to each method choice, and improvement beyond uncertainty.

Settings live in ``data/registry/uncertainty.yml`` (parsed by :mod:`inclusion_index.config`).

* :func:`binomial_ci` (Clopper–Pearson) and :func:`poisson_rate_ci` (exact, chi-square) give
  exact intervals for a proportion or a rate per 100.
* :func:`funnel_table` lays out a funnel plot (Spiegelhalter 2005, *Statistics in Medicine*
  24:1185): each LA's rate against its denominator, with exact 95% and 99.8% control limits
  around the pooled England rate, and each LA flagged above, below or within them.
* :func:`monte_carlo` re-scores the index many times with :func:`scoring.score_year`, each draw
  perturbing (a) the weights, (b) the normalisation, (c) which years make the headline, (d) the
  missing-data rule and (e) the data themselves (sampling noise given each value's
  denominator), and summarises each LA's rank by its median and 90% interval.
* :func:`sensitivity_table` perturbs one choice at a time, to show which moves ranks most.
* A rise in score counts as "improvement beyond uncertainty" only if the 90% interval of the
  change over the same draws (each applied to both years) lies above 0.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_all_start_methods, get_context
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from inclusion_index.config import CHOICES, SamplingSpec, UncertaintySettings, run_settings
from inclusion_index.errors import InclusionIndexError
from inclusion_index.index.inputs import IndexInputs
from inclusion_index.index.scoring import AREAS, TARGETS, ScoringSettings, common_indicators, score_year
from inclusion_index.sources.derived import derived_measures
from inclusion_index.sources.geography import (
    LAReference,
    _successors_in,
    boundary_reference,
    boundary_words,
    map_to_geography,
)

CHOICE_LABELS = {
    "weights": "(a) indicator weights x U(1-w, 1+w)",
    "normalisation": "(b) normalisation: percentile / z-score / min-max",
    "years": "(c) headline: final year / mean of the edition's years",
    "missing": "(d) missing-data rule: max missing indicators",
    "sampling": "(e) sampling noise in each value given its denominator",
    "imputation": "(f) suppressed small counts: imputed as 1, 1.5 or 2, or left missing",
    "all": "(a)-(f) together (the Monte Carlo of the score table)",
}


class UncertaintyError(InclusionIndexError, ValueError):
    """Uncertainty cannot be computed as asked (e.g. a funnel for an indicator without counts)."""


# --------------------------------------------------------------------------- exact intervals


def _vector(x: Any) -> tuple[np.ndarray, pd.Index | None]:
    if isinstance(x, pd.Series):
        return pd.to_numeric(x, errors="coerce").to_numpy(dtype="float64"), x.index
    return np.atleast_1d(np.asarray(x, dtype="float64")), None


def _check_level(level: float) -> float:
    if not 0.0 < float(level) < 1.0:
        raise UncertaintyError(f"level must be in (0, 1), got {level!r}")
    return float(level)


def binomial_ci(k: Any, n: Any, level: float = 0.95, *, scale: float = 1.0) -> pd.DataFrame:
    """Exact (Clopper–Pearson) interval for the proportion ``k / n``, vectorised.

    ``lower = Beta(a/2; k, n-k+1)`` (0 when k = 0), ``upper = Beta(1-a/2; k+1, n-k)`` (1 when
    k = n). Non-integer counts (derived from a rounded percentage) are allowed: the beta form
    extends smoothly. NaN or ``n <= 0`` gives NaN. Multiply by ``scale`` (100 for percent).

    Returns a frame with ``estimate``, ``lower``, ``upper`` (index of ``k`` when it is a Series).
    """
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
    """Exact interval for a rate ``events / exposure x per`` (events Poisson), vectorised.

    Garwood's interval from the chi-square distribution: ``lower = chi2(a/2; 2k) / 2`` (0 when
    k = 0), ``upper = chi2(1-a/2; 2k+2) / 2``, each divided by the exposure. Suits exclusions
    per 100 pupils, where one pupil can be excluded several times.

    Returns ``rate``, ``lower``, ``upper`` (index of ``events`` when it is a Series).
    """
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


# --------------------------------------------------------------------------- denominators


def measure_on_geography(
    long: pd.DataFrame, measure: str, year: str, codes: Sequence[str], *, field: str = "value",
    count: bool = False, ref: LAReference | None = None,
) -> tuple[pd.Series, pd.Series]:
    """One LA-level measure for one year, moved onto the LAs ``codes`` through boundary changes.

    ``field`` picks ``value`` or ``denominator``. With ``count=True`` the field is a head
    count: merged predecessors are summed and a split county's count is shared equally among
    its successors (pupil-level data would be needed to do better). Returns (values, note),
    indexed by ``codes``; note says where a value came from a predecessor.
    """
    ref = ref or boundary_reference()
    codes = [str(c) for c in codes]
    m = (long["measure"] == measure) & (long["year"] == year) & (long["level"] == "la")
    sub = long.loc[m, ["la_code", field]].rename(columns={field: "x"})
    sub = sub[sub["x"].notna()]
    empty = pd.Series(np.nan, index=pd.Index(codes, name="la_code"), dtype="float64")
    if sub.empty:
        return empty, pd.Series("", index=empty.index, dtype="object")
    frame = pd.DataFrame({"la_code": sub["la_code"].astype(str).to_numpy(),
                          "value": sub["x"].astype("float64").to_numpy()})
    if count:
        # as a denominator, the count is summed over merged predecessors by _combine
        frame["numerator"] = np.nan
        frame["denominator"] = frame["value"]
    mapped = map_to_geography(frame, codes, ref).set_index("la_code")
    x = (mapped["denominator"] if count else mapped["value"]).astype("float64")
    preds, how = mapped["predecessors"].fillna("").astype(str), mapped["combined"].fillna("").astype(str)
    note = pd.Series([boundary_words(p, c) if p else "" for p, c in zip(preds, how, strict=True)],
                     index=mapped.index, dtype="object")
    if count:
        succ = _successors_in(set(codes), ref.changes[ref.changes["use_for_values"]])
        for la, pred, c, n in zip(preds.index, preds, how, note, strict=True):
            if pred and not c:  # one predecessor's count, copied to each of its successors: share it
                k = max(1, len(succ.get(pred, [])))
                x[la] = x[la] / k
                note[la] = f"{n} (count shared among {k} successors)" if k > 1 else n
    x = x[~x.index.duplicated()].reindex(codes)
    note = note[~note.index.duplicated()].reindex(codes).fillna("")
    x.index.name = note.index.name = "la_code"
    return x, note


def cohort_sizes(
    long: pd.DataFrame, spec: SamplingSpec, codes: Sequence[str], data_year: str,
    *, ref: LAReference | None = None,
) -> tuple[pd.Series, pd.Series]:
    """Cohort size per LA for an indicator without its own denominator (spec.cohort_*).

    The measure for the data year; else, per LA, its nearest published year (later year on a
    tie). Returns (n, source) where source names the measure and year used.
    """
    codes = [str(c) for c in codes]
    n = pd.Series(np.nan, index=pd.Index(codes, name="la_code"), dtype="float64")
    src = pd.Series("", index=n.index, dtype="object")
    if not spec.cohort_measure:
        return n, src
    m = long["measure"] == spec.cohort_measure
    years = sorted(set(long.loc[m & (long["level"] == "la"), "year"].astype(str)))
    key = lambda y: (abs(int(y[:4]) - int(data_year[:4])), -int(y[:4]))  # noqa: E731
    for y in sorted(years, key=key):
        if n.notna().all():
            break
        x, _ = measure_on_geography(long, spec.cohort_measure, y, codes, field=spec.cohort_field,
                                    count=True, ref=ref)
        fill = n.isna() & x.notna() & (x > 0)
        n[fill] = x[fill] * spec.cohort_multiplier
        label = f"{spec.cohort_measure} {y}" + ("" if y == data_year else f" (nearest to {data_year})")
        src[fill] = label
    return n, src


# --------------------------------------------------------------------------- funnel plots


def _level_label(level: float) -> str:
    return f"{level * 100:g}".replace(".", "")


def _exact_limit(kind: str, p: float, target: float, n: np.ndarray) -> np.ndarray:
    """Spiegelhalter's (2005, appendix) interpolated exact p-quantile of k / n under the target."""
    n = np.asarray(n, dtype="float64")
    out = np.full(n.shape, np.nan)
    ok = np.isfinite(n) & (n > 0)
    if kind == "binomial":
        nn = np.rint(n[ok])
        dist = stats.binom(nn, target)
    else:
        nn = n[ok]
        dist = stats.poisson(nn * target)
    r = dist.ppf(p)
    f_r = dist.cdf(r)
    f_r1 = dist.cdf(r - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = np.where(f_r > f_r1, (f_r - p) / (f_r - f_r1), 0.0)
    out[ok] = np.clip((r - alpha) / nn, 0.0, None)
    return out


def funnel_limits(
    target: float, denominators: Any, kind: str, level: float, *, scale: float = 100.0,
    pupil_sd: float | None = None, phi: float = 1.0, tau2: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper control limits (in the indicator's units) at each denominator.

    ``kind`` binomial or poisson: exact limits around the proportion / rate per pupil
    ``target`` (Spiegelhalter's interpolation), unless ``phi != 1`` or ``tau2 > 0``, when
    the overdispersed normal limits ``target +- z sqrt(phi V / n + tau2)`` are returned.
    ``kind`` normal: ``target +- z sqrt(phi pupil_sd^2 / n + tau2)`` (target in score units).
    """
    level = _check_level(level)
    n = np.asarray(denominators, dtype="float64")
    p_lo, p_hi = (1 - level) / 2, 1 - (1 - level) / 2
    z = stats.norm.ppf(p_hi)
    if kind == "normal":
        if not pupil_sd:
            raise UncertaintyError("a normal funnel needs pupil_sd")
        with np.errstate(divide="ignore", invalid="ignore"):
            half = z * np.sqrt(phi * pupil_sd**2 / n + tau2)
        return target - half, target + half
    if kind not in ("binomial", "poisson"):
        raise UncertaintyError(f"funnel kind must be binomial, poisson or normal, got {kind!r}")
    if phi != 1.0 or tau2 > 0:
        var = target * (1 - target) if kind == "binomial" else target
        with np.errstate(divide="ignore", invalid="ignore"):
            half = z * np.sqrt(phi * var / n + tau2)
        lo = np.clip(target - half, 0.0, None)
        hi = target + half
        if kind == "binomial":
            hi = np.clip(hi, None, 1.0)
        return lo * scale, hi * scale
    return _exact_limit(kind, p_lo, target, n) * scale, _exact_limit(kind, p_hi, target, n) * scale


def _overdispersion(z: np.ndarray, s2: np.ndarray, winsorise: float) -> tuple[float, float]:
    """Spiegelhalter's phi (mean of squared winsorised z) and additive tau^2 (DerSimonian–Laird
    form). When I x phi does not exceed the 95th percentile of chi-square on I-1 degrees of
    freedom there is no evidence of overdispersion: phi is reported but tau^2 is 0 (and the
    multiplicative limits use phi = 1), so the exact limits stand."""
    z = z[np.isfinite(z)]
    if len(z) < 3:
        return 1.0, 0.0
    lo, hi = np.quantile(z, [winsorise, 1 - winsorise])
    zw = np.clip(z, lo, hi)
    n_la = len(zw)
    phi = float(np.mean(zw**2))
    if n_la * phi <= stats.chi2.ppf(0.95, n_la - 1):
        return phi, 0.0
    w = 1.0 / s2[np.isfinite(s2) & (s2 > 0)]
    denom = w.sum() - (w**2).sum() / w.sum()
    tau2 = max(0.0, (n_la * phi - (n_la - 1)) / denom) if denom > 0 else 0.0
    return phi, float(tau2)


def _indicator_counts(
    v: pd.DataFrame, long: pd.DataFrame, spec: SamplingSpec, codes: Sequence[str],
    default_cohort: float | None = None,
) -> pd.DataFrame:
    """Per LA (index la_code): value, n (denominator or cohort), k (events/successes where the
    model has them), n_source. ``v`` = one year's rows of Edition.values for one indicator."""
    v = v.set_index("la_code").reindex(list(codes))
    out = pd.DataFrame(index=v.index)
    out["value"] = v["value"].astype("float64")
    den = v["denominator"].astype("float64")
    out["n"] = den.where(den > 0)
    out["n_source"] = np.where(out["n"].notna(), "denominator in source", "")
    data_year = str(v["data_year"].dropna().iloc[0]) if v["data_year"].notna().any() else ""
    need = out["n"].isna() & out["value"].notna()
    if need.any() and spec.cohort_measure and data_year:
        n, src = cohort_sizes(long, spec, list(codes), data_year)
        fill = need & n.notna()
        out.loc[fill, "n"] = n[fill]
        out.loc[fill, "n_source"] = "cohort " + src[fill]
    if default_cohort:
        fill = out["n"].isna() & out["value"].notna()
        out.loc[fill, "n"] = float(default_cohort)
        out.loc[fill, "n_source"] = "default cohort (setting)"
    num = v["numerator"].astype("float64")
    if spec.model in ("binomial", "poisson"):
        out["k"] = num.where(num.notna() & out["n_source"].eq("denominator in source"),
                             out["value"] / spec.scale * out["n"])
    else:
        out["k"] = np.nan
    return out


def funnel_table(
    edition: IndexInputs, indicator: str, index_year: str | None = None,
    settings: UncertaintySettings | None = None,
) -> pd.DataFrame:
    """Tidy funnel-plot table for one indicator and index year (default: the headline year).

    One row per LA with a value and a denominator: ``numerator``, ``denominator`` (and where it
    came from), ``value``, its own exact 95% interval, the pooled England ``target``, the
    z-score, control limits ``lower_<L>`` / ``upper_<L>`` for each level (``95``, ``998``) and
    ``flag_<L>`` = above / below / within; with overdispersion, ``od_lower_<L>``,
    ``od_upper_<L>``, ``od_flag_<L>`` too. ``direction_<L>`` says whether an LA outside the
    limits is more or less inclusive than England (polarity-aware).

    The target is pooled over the LAs plotted (sum of numerators / sum of denominators, or
    the cohort-weighted mean score), so the plot is self-consistent;
    ``attrs["england_published"]`` holds DfE's England figure for comparison.
    """
    settings = settings or run_settings().uncertainty
    year = str(index_year or edition.final_year)
    if year not in edition.years:
        raise UncertaintyError(f"index year {year} is not in edition {edition.final_year} ({edition.years})")
    ind = edition.indicators.set_index("indicator")
    if indicator not in ind.index:
        raise UncertaintyError(f"indicator {indicator!r} is not in the edition's method ({list(ind.index)})")
    spec = settings.spec(indicator)
    kind = spec.model
    if kind not in ("binomial", "poisson", "normal"):
        raise UncertaintyError(
            f"no funnel for {indicator}: its sampling model is {kind!r}; a funnel needs counts "
            "(binomial / poisson) or a cohort and pupil SD (normal) - see uncertainty.yml")
    v = edition.values[(edition.values["index_year"] == year) & (edition.values["indicator"] == indicator)]
    codes = list(edition.geography["la_code"])
    c = _indicator_counts(v, edition.long, spec, codes)
    c = c[c["value"].notna() & c["n"].notna() & (c["n"] > 0)]
    if c.empty:
        raise UncertaintyError(
            f"no funnel for {indicator} in {year}: no LA has both a value and a denominator or cohort size")
    geo = edition.geography.set_index("la_code")
    meta = v.iloc[0]
    out = pd.DataFrame(index=c.index)
    out["la_name"] = geo["la_name"].reindex(c.index)
    out["region"] = geo["region"].reindex(c.index)
    out["indicator"] = indicator
    out["index_year"] = year
    out["data_year"] = meta["data_year"]
    out["measure"] = meta["measure"]
    out["model"] = kind
    out["numerator"] = c["k"]
    out["denominator"] = c["n"]
    out["denominator_source"] = c["n_source"]
    out["value"] = c["value"]
    n = c["n"].to_numpy()
    if kind == "normal":
        y = c["value"].to_numpy()
        target = float(np.sum(n * y) / np.sum(n))
        own = normal_mean_ci(y, spec.pupil_sd, n, 0.95)
        s2 = spec.pupil_sd**2 / n
        scale = 1.0
        out["target"] = target
        z = (y - target) / np.sqrt(s2)
    else:
        k = c["k"].to_numpy()
        p0 = float(np.sum(k) / np.sum(n))
        own = binomial_ci(k, n, 0.95, scale=spec.scale) if kind == "binomial" else poisson_rate_ci(
            k, n, 0.95, per=spec.scale)
        var = p0 * (1 - p0) if kind == "binomial" else p0
        s2 = var / n
        scale = spec.scale
        target = p0
        out["target"] = p0 * scale
        z = (k / n - p0) / np.sqrt(s2)
    out["value_lower_95"] = own["lower"].to_numpy()
    out["value_upper_95"] = own["upper"].to_numpy()
    out["z"] = z
    polarity = int(ind.loc[indicator, "polarity"])
    phi, tau2 = _overdispersion(np.asarray(z), np.asarray(s2), settings.funnel_winsorise)
    od = settings.funnel_overdispersion
    for level in settings.funnel_levels:
        lab = _level_label(level)
        variants = [("", 1.0, 0.0)]
        if od == "multiplicative":
            variants.append(("od_", phi if tau2 > 0 else 1.0, 0.0))
        elif od == "additive":
            variants.append(("od_", 1.0, tau2))
        for prefix, ph, t2 in variants:
            t2_units = t2  # tau2 is on the per-pupil (or score) scale of s2
            lo, hi = funnel_limits(target, n, kind, level, scale=scale, pupil_sd=spec.pupil_sd,
                                   phi=ph, tau2=t2_units)
            out[f"{prefix}lower_{lab}"] = lo
            out[f"{prefix}upper_{lab}"] = hi
            flag = np.where(out["value"] > hi, "above", np.where(out["value"] < lo, "below", "within"))
            out[f"{prefix}flag_{lab}"] = flag
            more = (flag == "above") if polarity > 0 else (flag == "below")
            out[f"{prefix}direction_{lab}"] = np.where(flag == "within", "",
                                                       np.where(more, "more inclusive", "less inclusive"))
    out = out.reset_index()
    eng = edition.england
    pub = eng[(eng["indicator"] == indicator) & (eng["index_year"] == year)]["value"]
    out.attrs.update({
        "indicator": indicator, "index_year": year, "model": kind, "target": float(out["target"].iloc[0]),
        "target_per_pupil": target, "scale": scale, "pupil_sd": spec.pupil_sd, "phi": phi, "tau2": tau2,
        "overdispersion": od, "levels": list(settings.funnel_levels), "polarity": polarity,
        "england_published": float(pub.iloc[0]) if len(pub) else float("nan"),
        "name": str(ind.loc[indicator, "name"]),
    })
    return out


# --------------------------------------------------------------------------- Monte Carlo


@dataclass
class _Sampler:
    """Noise for one indicator in one index year, vectorised over its LAs."""

    la_pos: np.ndarray  # rows of the year's LA x indicator matrix (positions in plan.la_codes)
    ind_pos: int  # column of the matrix
    key: int  # which block of uniforms (shared by every index year fed by the same data)
    model: str
    value: np.ndarray
    n: np.ndarray
    k: np.ndarray
    scale: float
    sd: float = 0.0
    half_unit: float = 0.05
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
            for la in c.index[c["value"].notna() & c["n"].isna()]:
                skipped.append({"index_year": y, "indicator": name, "la_code": la,
                                "reason": "no denominator or cohort size"})
            if not ok.any():
                continue
            samplers[y].append(_Sampler(
                la_pos=np.array([pos[c_] for c_ in c.index[ok]]), ind_pos=j, key=key, model=spec.model,
                value=c["value"].to_numpy()[ok], n=c["n"].to_numpy()[ok], k=c["k"].to_numpy()[ok],
                scale=spec.scale, sd=float(spec.pupil_sd or 0.0)))
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
    measure = str(sub["measure"].iloc[0])
    derived = derived_measures().get(measure)
    if derived is None:
        return None
    year = str(sub["data_year"].iloc[0])
    las = [str(x) for x in sub["la_code"]]
    # the numerator is also a denominator part: keep it once, first, then the others
    others = [m for m in derived.denominator if m != derived.numerator]
    cols = [measure_on_geography(edition.long, m, year, las)[0].to_numpy() for m in [derived.numerator, *others]]
    inputs = np.vstack(cols)
    ok = np.isfinite(inputs).all(axis=0) & sub["value"].notna().to_numpy()
    if not ok.any():
        return None
    return _Sampler(la_pos=np.array([pos[c] for c in np.array(las)[ok]]), ind_pos=j, key=key,
                    model="rounding", value=sub["value"].to_numpy()[ok], n=np.full(ok.sum(), np.nan),
                    k=np.full(ok.sum(), np.nan), scale=derived.scale, half_unit=spec.half_unit,
                    inputs=inputs[:, ok])


def _noisy(s: _Sampler, u: np.ndarray, how: str) -> np.ndarray:
    """New values for a sampler's cells from uniforms ``u`` (cells x 2), by inverse CDF so the
    same uniforms give the same noise whatever else a draw does."""
    u0 = np.clip(u[:, 0], 1e-12, 1 - 1e-12)
    if s.model == "normal":
        return s.value + stats.norm.ppf(u0) * s.sd / np.sqrt(s.n)
    if s.model == "binomial":
        k = np.clip(s.k, 0, s.n)
        if how == "jeffreys":
            return stats.beta.ppf(u0, k + 0.5, s.n - k + 0.5) * s.scale
        return stats.binom.ppf(u0, np.rint(s.n), k / s.n) / np.rint(s.n) * s.scale
    if s.model == "poisson":
        k = np.clip(s.k, 0, None)
        if how == "jeffreys":
            return stats.gamma.ppf(u0, k + 0.5) / s.n * s.scale
        return stats.poisson.ppf(u0, k) / s.n * s.scale
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


# The fast engine re-implements scoring.score_year's rules on arrays (about 100 times faster).
# It is never trusted on its own: every run re-scores its first draws with score_year and
# falls back to score_year throughout if anything differs (see monte_carlo).


def _rank_desc_np(x: np.ndarray, tie: str, decimals: int | None) -> np.ndarray:
    out = np.full(x.shape, np.nan)
    ok = np.isfinite(x)
    if not ok.any():
        return out
    v = np.round(x[ok], decimals) if decimals is not None else x[ok]
    method = {"first": "ordinal"}.get(tie, tie)
    out[ok] = stats.rankdata(-v, method=method)
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
        r = stats.rankdata(v, method="average")
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
    else:
        if n <= s.zscore_ddof:
            out[ok] = 0.0
            return out
        sd = float(np.std(v, ddof=s.zscore_ddof))
        out[ok] = 0.0 if (not np.isfinite(sd) or sd == 0.0) else (v - v.mean()) / sd
    return out


def _wmean_np(scores: np.ndarray, w: np.ndarray) -> np.ndarray:
    if scores.shape[1] == 0:
        return np.full(scores.shape[0], np.nan)
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
    ok = ~too_few & ~((n_used == 0) & ~too_few)
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
    if s.area_scores_for_unscored:
        out[~ok, 0] = np.nan
    else:
        out[~ok, :] = np.nan
    return out


def _year_scores(plan: _Plan, x: np.ndarray, ind: pd.DataFrame, settings: ScoringSettings,
                 engine: str) -> np.ndarray:
    """LAs x TARGETS scores of one year's LA x indicator matrix ``x`` (columns = ``ind``)."""
    if engine == "fast":
        return _fast_scores(x, ind["polarity"].to_numpy(), ind["weight"].to_numpy(dtype="float64"),
                            ind["area"].to_numpy(), settings)
    v = _long_values(plan.la_codes, list(ind["indicator"]), x)
    s = score_year(v, ind, settings, la_codes=plan.la_codes).scores.reindex(pd.Index(plan.la_codes))
    return np.column_stack([s[f"{t}_score"].to_numpy(dtype="float64", na_value=np.nan) for t in TARGETS])


def _score_variant(plan: _Plan, var: _Variant, *, with_change: bool = True,
                   engine: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ranks (LAs x targets), overall score change (LAs) and scores (LAs x targets) for one
    set of choices; a None choice keeps the edition's own setting."""
    engine = engine or plan.engine
    ind = plan.ind.copy()
    if var.weights is not None:
        ind["weight"] = ind["weight"].to_numpy(dtype="float64") * var.weights
    changes: dict[str, Any] = {}
    if var.normalisation is not None:
        changes["normalisation"] = var.normalisation
    if var.missing is not None:
        changes["max_missing_indicators"] = int(var.missing)
    settings = dataclasses.replace(plan.scoring, **changes)
    years_rule = var.years or plan.headline
    values = {y: _values_for(plan, y, var.u, var.impute) for y in plan.years}
    if years_rule == "mean" and len(plan.years) > 1:
        scores = sum(_year_scores(plan, values[y], ind, settings, engine) for y in plan.years) / len(plan.years)
    else:
        scores = _year_scores(plan, values[plan.final_year], ind, settings, engine)
    ranks = np.column_stack([_rank_desc_np(scores[:, j], settings.tie_method, settings.rank_decimals)
                             for j in range(len(TARGETS))])
    change = np.full(len(plan.la_codes), np.nan)
    if with_change and plan.common:
        cols = np.flatnonzero(ind["indicator"].isin(plan.common).to_numpy())
        ind_c = ind.iloc[cols].reset_index(drop=True)
        first, last = plan.years[0], plan.years[-1]
        late = _year_scores(plan, values[last][:, cols], ind_c, settings, engine)[:, 0]
        early = _year_scores(plan, values[first][:, cols], ind_c, settings, engine)[:, 0]
        change = late - early
        if settings.normalisation == "zscore":
            change = change * plan.unc.z_to_percentile_scale
    return ranks, change, scores


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
    i_imp = int(rng.integers(len(unc.imputed_counts)))  # drawn last: earlier draws stay as they were
    en = set(enabled)
    var = _Variant(
        weights=mult if "weights" in en else None,
        normalisation=unc.normalisations[i_norm] if "normalisation" in en else None,
        years=unc.years[i_years] if "years" in en and len(plan.years) > 1 else None,
        missing=unc.max_missing_indicators[i_miss] if "missing" in en else None,
        u=u if "sampling" in en else None,
        impute=_impute_value(unc.imputed_counts[i_imp]) if "imputation" in en else None,
    )
    choice: dict[str, Any] = {
        "draw": d,
        "normalisation": var.normalisation or plan.scoring.normalisation,
        "years": var.years or plan.headline,
        "max_missing_indicators": var.missing if var.missing is not None else plan.scoring.max_missing_indicators,
        "sampling": "sampling" in en,
        "imputed_count": (("missing" if unc.imputed_counts[i_imp] is None else unc.imputed_counts[i_imp])
                          if "imputation" in en else "nominal"),
    }
    for name, m in zip(plan.ind["indicator"], mult, strict=True):
        choice[f"w_{name}"] = float(m) if "weights" in en else 1.0
    return var, choice


def _impute_value(count: float | None) -> float:
    return float("nan") if count is None else float(count)


_WORKER_PLAN: _Plan | None = None


def _init_worker(plan: _Plan) -> None:
    global _WORKER_PLAN
    _WORKER_PLAN = plan


def _run_chunk(args: tuple[list[int], tuple[str, ...], bool]) -> list[tuple[np.ndarray, np.ndarray, dict]]:
    draws, enabled, with_change = args
    assert _WORKER_PLAN is not None
    return _run_serial(_WORKER_PLAN, draws, enabled, with_change)


def _run_serial(plan: _Plan, draws: Sequence[int], enabled: Iterable[str], with_change: bool):
    out = []
    for d in draws:
        var, choice = _random_variant(plan, d, enabled)
        ranks, change, scores = _score_variant(plan, var, with_change=with_change)
        out.append((ranks, change, choice, scores))
    return out


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
    results: dict[int, Any] = {}
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context(method),
                             initializer=_init_worker, initargs=(plan,)) as pool:
        for chunk, res in zip(chunks, pool.map(_run_chunk, [(c, enabled, with_change) for c in chunks]),
                              strict=True):
            results.update(dict(zip(chunk, res, strict=True)))
    return [results[d] for d in draws]


def _same(a: np.ndarray, b: np.ndarray, atol: float = 0.0) -> bool:
    return bool(np.array_equal(np.isnan(a), np.isnan(b)) and np.allclose(
        np.nan_to_num(a), np.nan_to_num(b), rtol=0.0, atol=atol))


def _choose_engine(plan: _Plan, enabled: Iterable[str]) -> str:
    """'fast' if it reproduces score_year on the nominal and the first verify_draws draws
    (ranks exactly, score changes to 1e-9), else 'score_year' with a warning."""
    want = plan.unc.engine
    if want == "score_year":
        return "score_year"
    checks = [_Variant()] + [_random_variant(plan, d, enabled)[0] for d in range(plan.unc.verify_draws)]
    checks += [_Variant(normalisation=o) for o in plan.unc.normalisations if o != plan.scoring.normalisation]
    checks += [_Variant(missing=o) for o in plan.unc.max_missing_indicators
               if o != plan.scoring.max_missing_indicators]
    checks += [_Variant(impute=_impute_value(o)) for o in plan.unc.imputed_counts]
    for var in checks:
        r_fast, c_fast, _ = _score_variant(plan, var, engine="fast")
        r_ref, c_ref, _ = _score_variant(plan, var, engine="score_year")
        if not (_same(r_fast, r_ref) and _same(c_fast, c_ref, atol=1e-9)):
            warnings.warn("uncertainty: the fast engine differs from scoring.score_year on a check draw; "
                          "every draw is re-scored with score_year instead (slower)", RuntimeWarning,
                          stacklevel=3)
            return "score_year"
    return "fast"


def _quantiles(a: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """Quantiles over axis 0 ignoring NaN, by inverted CDF (so a rank quantile is a rank that
    occurred); all-NaN columns give NaN."""
    out = np.full((len(qs), *a.shape[1:]), np.nan)
    flat = a.reshape(a.shape[0], -1)
    res = out.reshape(len(qs), -1)
    for j in range(flat.shape[1]):
        col = flat[:, j]
        col = col[np.isfinite(col)]
        if len(col):
            res[:, j] = np.quantile(col, qs, method="inverted_cdf")
    return out


@dataclass
class MonteCarloResult:
    """The draws of :func:`monte_carlo`.

    Attributes:
        la_codes: LAs, in the order of the arrays.
        ranks: draws x LAs x targets (``TARGETS``: overall then the areas); NaN where the LA
            was not scored in that draw.
        change: draws x LAs: overall score change, final minus first index year, over the
            indicators present in both (percentile points; z-score draws rescaled).
        choices: one row per draw: what it chose.
        nominal_ranks: LAs x targets under the edition's own settings (no perturbation).
        nominal_change: LAs.
        settings: the settings used; ``enabled``: the choices perturbed; ``engine``: fast
            (verified against score_year) or score_year; ``seconds``: run time.
        no_noise: cells whose value could not be redrawn (no denominator or cohort size).
        scores: draws x LAs x targets: each draw's scores (on its own normalisation's scale),
            from which context-adjusted ranks get their intervals (extended.py).
    """

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

    def summary(self) -> pd.DataFrame:
        """Per LA (index la_code): ``<target>_rank_median``, ``_rank_lo``, ``_rank_hi`` (the
        ``interval`` of the draws, e.g. 5th-95th percentile), ``<target>_share_scored``,
        ``overall_change_lo`` / ``_hi`` and ``improvement_significant`` (lo > 0)."""
        a = (1 - self.settings.interval) / 2
        q = _quantiles(self.ranks, [a, 0.5, 1 - a])
        out = pd.DataFrame(index=pd.Index(self.la_codes, name="la_code"))
        for j, t in enumerate(TARGETS):
            for i, part in enumerate(("lo", "median", "hi")):
                out[f"{t}_rank_{part}"] = pd.array(q[i, :, j], dtype="Float64").round().astype("Int64")
            out[f"{t}_share_scored"] = np.isfinite(self.ranks[:, :, j]).mean(axis=0)
        qc = _quantiles(self.change, [a, 1 - a])
        out["overall_change_lo"] = qc[0]
        out["overall_change_hi"] = qc[1]
        sig = pd.array(qc[0] > 0, dtype="boolean")
        sig[~np.isfinite(qc[0])] = pd.NA
        out["improvement_significant"] = sig
        return out


def _enabled(settings: UncertaintySettings) -> tuple[str, ...]:
    return tuple(c for c in CHOICES if c in settings.perturb)


def monte_carlo(edition: IndexInputs, settings: UncertaintySettings | None = None, *,
                enabled: Iterable[str] | None = None) -> MonteCarloResult:
    """Rank uncertainty by Monte Carlo: ``settings.n_draws`` re-scorings of the edition, each
    with its own seeded choices (see module docstring).

    ``enabled`` restricts which of the choices (a)-(f) are perturbed (default: settings.perturb).
    Each draw has its own random stream (``SeedSequence(seed, spawn_key=(d,))``), so results do
    not depend on the engine, on ``n_jobs`` or on which other draws are run.
    """
    settings = settings or run_settings().uncertainty
    en = tuple(c for c in CHOICES if c in set(enabled if enabled is not None else _enabled(settings)))
    t0 = time.perf_counter()
    plan = _build_plan(edition, settings)
    plan.engine = _choose_engine(plan, en)
    nominal_ranks, nominal_change, _ = _score_variant(plan, _Variant())
    res = _run_draws(plan, list(range(settings.n_draws)), en, True)
    result = MonteCarloResult(
        la_codes=plan.la_codes,
        ranks=np.stack([r[0] for r in res]),
        change=np.stack([r[1] for r in res]),
        choices=pd.DataFrame([r[2] for r in res]),
        scores=np.stack([r[3] for r in res]),
        nominal_ranks=nominal_ranks, nominal_change=nominal_change,
        settings=settings, enabled=en, engine=plan.engine, seconds=time.perf_counter() - t0,
        no_noise=plan.no_noise,
    )
    return result


def sensitivity_table(edition: IndexInputs, settings: UncertaintySettings | None = None, *,
                      target: str = "overall", mc: MonteCarloResult | None = None) -> pd.DataFrame:
    """How far each choice (a)-(f), perturbed alone, moves ranks from the nominal ranking.

    Discrete choices are enumerated (each option once, the nominal one included, so the mean
    equals the expectation under the Monte Carlo's uniform choice); weights and sampling noise
    use ``settings.sensitivity_draws`` seeded draws. Shifts are |rank - nominal rank| over the
    LAs ranked in both. Rows: choice, label, runs, mean / median / 90th percentile / max
    absolute shift, share of LA-runs moving 10+ places. ``attrs["by_option"]``: the same per
    option of the discrete choices. With ``mc`` (the full Monte Carlo on the same settings), a last
    row for it, and its engine is reused (no second check of the fast engine).
    """
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

    def row(choice: str, s: np.ndarray, runs: int, option: str = "") -> dict:
        return {"choice": choice, "option": option, "label": CHOICE_LABELS[choice], "runs": runs,
                "mean_abs_shift": float(s.mean()) if len(s) else np.nan,
                "median_abs_shift": float(np.median(s)) if len(s) else np.nan,
                "p90_abs_shift": float(np.quantile(s, 0.9)) if len(s) else np.nan,
                "max_abs_shift": float(s.max()) if len(s) else np.nan,
                "share_moved_10plus": float((s >= 10).mean()) if len(s) else np.nan}

    rows, by_option = [], []
    discrete = {
        "normalisation": [_Variant(normalisation=o) for o in settings.normalisations],
        "years": [_Variant(years=o) for o in settings.years] if len(plan.years) > 1 else [_Variant()],
        "missing": [_Variant(missing=o) for o in settings.max_missing_indicators],
        "imputation": [_Variant(impute=_impute_value(o)) for o in settings.imputed_counts],
    }
    labels = {"normalisation": settings.normalisations, "years": settings.years,
              "missing": [str(x) for x in settings.max_missing_indicators],
              "imputation": ["left missing" if o is None else f"{o:g}" for o in settings.imputed_counts]}
    for choice in CHOICES:
        if choice in discrete:
            ranks = [_score_variant(plan, v, with_change=False)[0] for v in discrete[choice]]
            for lab, r in zip(labels[choice], ranks, strict=False):
                by_option.append(row(choice, shifts([r]), 1, str(lab)))
            rows.append(row(choice, shifts(ranks), len(ranks)))
        else:
            res = _run_draws(plan, list(range(settings.sensitivity_draws)), (choice,), False)
            rows.append(row(choice, shifts([r[0] for r in res]), len(res)))
    if mc is not None:
        rows.append(row("all", shifts(list(mc.ranks)), mc.ranks.shape[0]))
    out = pd.DataFrame(rows)
    out.attrs["by_option"] = pd.DataFrame(by_option)
    out.attrs["target"] = target
    return out
