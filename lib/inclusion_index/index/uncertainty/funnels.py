"""Funnel plots (Spiegelhalter 2005; docs/UNCERTAINTY.md), and each LA's denominator or cohort size
through boundary changes, which the funnels and the Monte Carlo need."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from inclusion_index.config import SamplingSpec, UncertaintySettings, run_settings
from inclusion_index.index.inputs import IndexInputs
from inclusion_index.index.uncertainty.intervals import (
    UncertaintyError,
    _check_level,
    binomial_ci,
    normal_mean_ci,
    poisson_rate_ci,
)
from inclusion_index.sources.geography import (
    LAReference,
    _successors_in,
    boundary_reference,
    boundary_words,
    map_to_geography,
)

# --------------------------------------------------------------------------- denominators


def measure_on_geography(long: pd.DataFrame, measure: str, year: str, codes: Sequence[str], *,
                         field: str = "value", count: bool = False,
                         ref: LAReference | None = None) -> tuple[pd.Series, pd.Series]:
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


def cohort_sizes(long: pd.DataFrame, spec: SamplingSpec, codes: Sequence[str], data_year: str,
                 *, ref: LAReference | None = None) -> tuple[pd.Series, pd.Series]:
    """Cohort size per LA for an indicator without its own denominator (spec.cohort_*).

    The measure for the data year; else, per LA, its nearest published year (later year on a
    tie) within ``spec.cohort_max_gap`` years; then, for LAs still without one, the
    ``spec.cohort_fallback`` measure the same way (e.g. census EHCP headcounts, else 0.7 x SEN2
    plans). Returns (n, source) where source names the measure and year used.
    """
    codes = [str(c) for c in codes]
    n = pd.Series(np.nan, index=pd.Index(codes, name="la_code"), dtype="float64")
    src = pd.Series("", index=n.index, dtype="object")
    if not spec.cohort_measure:
        return n, src
    m = long["measure"] == spec.cohort_measure
    years = sorted(set(long.loc[m & (long["level"] == "la"), "year"].astype(str)))
    key = lambda y: (abs(int(y[:4]) - int(data_year[:4])), -int(y[:4]))  # noqa: E731
    if spec.cohort_max_gap is not None:
        years = [y for y in years if abs(int(y[:4]) - int(data_year[:4])) <= spec.cohort_max_gap]
    for y in sorted(years, key=key):
        if n.notna().all():
            break
        x, _ = measure_on_geography(long, spec.cohort_measure, y, codes, field=spec.cohort_field,
                                    count=True, ref=ref)
        fill = n.isna() & x.notna() & (x > 0)
        n[fill] = x[fill] * spec.cohort_multiplier
        label = f"{spec.cohort_measure} {y}" + ("" if y == data_year else f" (nearest to {data_year})")
        src[fill] = label
    if spec.cohort_fallback and n.isna().any():
        measure, field_, mult = spec.cohort_fallback
        fb = dataclasses.replace(spec, cohort_measure=measure, cohort_field=field_, cohort_multiplier=mult,
                                 cohort_max_gap=None, cohort_fallback=None)
        n2, src2 = cohort_sizes(long, fb, codes, data_year, ref=ref)
        fill = n.isna() & n2.notna()
        n[fill], src[fill] = n2[fill], src2[fill]
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


def funnel_limits(target: float, denominators: Any, kind: str, level: float, *, scale: float = 100.0,
                  pupil_sd: float | None = None, phi: float = 1.0,
                  tau2: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
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


def _indicator_counts(v: pd.DataFrame, long: pd.DataFrame, spec: SamplingSpec, codes: Sequence[str],
                      default_cohort: float | None = None) -> pd.DataFrame:
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


def funnel_table(edition: IndexInputs, indicator: str, index_year: str | None = None,
                 settings: UncertaintySettings | None = None) -> pd.DataFrame:
    """Funnel table for one indicator and index year (default: the headline year): a row per LA
    with a value and a denominator, its exact 95% interval, z-score, limits and flags per level
    (``od_`` with overdispersion; ``direction_`` says more or less inclusive). The target is pooled
    over the LAs plotted, so the plot is self-consistent; DfE's England figure is in attrs."""
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
    out = pd.DataFrame({"la_name": geo["la_name"].reindex(c.index), "region": geo["region"].reindex(c.index),
                        "indicator": indicator, "index_year": year, "data_year": meta["data_year"],
                        "measure": meta["measure"], "model": kind, "numerator": c["k"], "denominator": c["n"],
                        "denominator_source": c["n_source"], "value": c["value"]}, index=c.index)
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
        for prefix, ph, t2 in variants:  # tau2 is on the per-pupil (or score) scale of s2
            lo, hi = funnel_limits(target, n, kind, level, scale=scale, pupil_sd=spec.pupil_sd, phi=ph, tau2=t2)
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
        "name": str(ind.loc[indicator, "name"])})
    return out

