"""Funnel plots (Spiegelhalter 2005; docs/UNCERTAINTY.md), and each LA's denominator or cohort size
through boundary changes, which the funnels and the Monte Carlo need."""

from __future__ import annotations

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
    """(values, note) of one LA-level measure ``field`` for one year, moved onto ``codes`` through
    boundary changes; note names any predecessor. ``count=True``: a head count, summed over merged
    predecessors and a split county's shared equally (pupil-level data would be needed to do better)."""
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
    """(n, source) per LA for an indicator without its own denominator: ``spec.cohort_measure`` in
    the data year, else the nearest year within ``cohort_max_gap`` (later on a tie), then
    ``cohort_fallback`` the same way (e.g. census EHCP headcounts, else 0.7 x SEN2 plans)."""
    codes = [str(c) for c in codes]
    n = pd.Series(np.nan, index=pd.Index(codes, name="la_code"), dtype="float64")
    src = pd.Series("", index=n.index, dtype="object")
    tiers = [(spec.cohort_measure, spec.cohort_field, spec.cohort_multiplier, spec.cohort_max_gap)]
    if spec.cohort_measure and spec.cohort_fallback:
        tiers.append((*spec.cohort_fallback, None))
    gap = lambda y: abs(int(y[:4]) - int(data_year[:4]))  # noqa: E731
    for measure, field_, mult, max_gap in tiers:
        if not measure:
            break
        years = sorted(set(long.loc[(long["measure"] == measure) & (long["level"] == "la"), "year"].astype(str)))
        years = [y for y in years if max_gap is None or gap(y) <= max_gap]
        for y in sorted(years, key=lambda y: (gap(y), -int(y[:4]))):  # the later year on a tie
            if n.notna().all():
                break
            x, _ = measure_on_geography(long, measure, y, codes, field=field_, count=True, ref=ref)
            fill = n.isna() & x.notna() & (x > 0)
            n[fill] = x[fill] * mult
            src[fill] = f"{measure} {y}" + ("" if y == data_year else f" (nearest to {data_year})")
    return n, src


# --------------------------------------------------------------------------- funnel plots


def _exact_limit(kind: str, p: float, target: float, n: np.ndarray) -> np.ndarray:
    """Spiegelhalter's (2005, appendix) interpolated exact p-quantile of k / n under the target."""
    n = np.asarray(n, dtype="float64")
    out = np.full(n.shape, np.nan)
    ok = np.isfinite(n) & (n > 0)
    nn = np.rint(n[ok]) if kind == "binomial" else n[ok]
    dist = stats.binom(nn, target) if kind == "binomial" else stats.poisson(nn * target)
    r = dist.ppf(p)
    f_r, f_r1 = dist.cdf(r), dist.cdf(r - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = np.where(f_r > f_r1, (f_r - p) / (f_r - f_r1), 0.0)
    out[ok] = np.clip((r - alpha) / nn, 0.0, None)
    return out


def funnel_limits(target: float, denominators: Any, kind: str, level: float, *, scale: float = 100.0,
                  pupil_sd: float | None = None, phi: float = 1.0,
                  tau2: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper control limits (in the indicator's units) at each denominator: exact ones
    around a binomial / poisson ``target`` per pupil (Spiegelhalter's interpolation), else (a normal
    ``kind``, ``phi != 1`` or ``tau2 > 0``) ``target +- z sqrt(phi V / n + tau2)``."""
    level = _check_level(level)
    n = np.asarray(denominators, dtype="float64")
    p_lo, p_hi = (1 - level) / 2, 1 - (1 - level) / 2
    if kind not in ("binomial", "poisson", "normal"):
        raise UncertaintyError(f"funnel kind must be binomial, poisson or normal, got {kind!r}")
    if kind == "normal" and not pupil_sd:
        raise UncertaintyError("a normal funnel needs pupil_sd")
    if kind == "normal" or phi != 1.0 or tau2 > 0:
        var = pupil_sd**2 if kind == "normal" else target * (1 - target) if kind == "binomial" else target
        with np.errstate(divide="ignore", invalid="ignore"):
            half = stats.norm.ppf(p_hi) * np.sqrt(phi * var / n + tau2)
        if kind == "normal":  # target in score units
            return target - half, target + half
        hi = target + half
        hi = np.clip(hi, None, 1.0) if kind == "binomial" else hi
        return np.clip(target - half, 0.0, None) * scale, hi * scale
    return _exact_limit(kind, p_lo, target, n) * scale, _exact_limit(kind, p_hi, target, n) * scale


def _overdispersion(z: np.ndarray, s2: np.ndarray, winsorise: float) -> tuple[float, float]:
    """Spiegelhalter's phi and the DerSimonian–Laird tau^2 (docs/UNCERTAINTY.md); tau^2 is 0 (and
    the multiplicative limits use phi = 1) when chi-square finds no overdispersion."""
    z = z[np.isfinite(z)]
    if len(z) < 3:
        return 1.0, 0.0
    lo, hi = np.quantile(z, [winsorise, 1 - winsorise])
    zw = np.clip(z, lo, hi)
    n_la, phi = len(zw), float(np.mean(zw**2))
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
    den = v["denominator"].astype("float64")
    out = pd.DataFrame({"value": v["value"].astype("float64"), "n": den.where(den > 0)}, index=v.index)
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
    out["k"] = num.where(num.notna() & out["n_source"].eq("denominator in source"),
                         out["value"] / spec.scale * out["n"]) if spec.model in ("binomial", "poisson") else np.nan
    return out


def funnel_table(edition: IndexInputs, indicator: str, index_year: str | None = None,
                 settings: UncertaintySettings | None = None) -> pd.DataFrame:
    """A row per LA with a value and a denominator for one indicator and index year (default: the
    final one): its exact 95% interval, z-score, limits and flags per level (docs/UNCERTAINTY.md)."""
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
    # the target is pooled over the LAs plotted, so the plot is self-consistent
    if kind == "normal":
        est = c["value"].to_numpy()
        target = float(np.sum(n * est) / np.sum(n))
        own = normal_mean_ci(est, spec.pupil_sd, n, 0.95)
        s2, scale = spec.pupil_sd**2 / n, 1.0
    else:
        k = c["k"].to_numpy()
        est, target, scale = k / n, float(np.sum(k) / np.sum(n)), spec.scale
        own = binomial_ci(k, n, 0.95, scale=scale) if kind == "binomial" else poisson_rate_ci(k, n, 0.95, per=scale)
        s2 = (target * (1 - target) if kind == "binomial" else target) / n
    z = (est - target) / np.sqrt(s2)
    out["target"] = target * scale
    out["value_lower_95"], out["value_upper_95"], out["z"] = own["lower"].to_numpy(), own["upper"].to_numpy(), z
    polarity = int(ind.loc[indicator, "polarity"])
    phi, tau2 = _overdispersion(np.asarray(z), np.asarray(s2), settings.funnel_winsorise)
    od = settings.funnel_overdispersion
    od_limits = {"multiplicative": (phi if tau2 > 0 else 1.0, 0.0), "additive": (1.0, tau2)}
    variants = [("", 1.0, 0.0)] + ([("od_", *od_limits[od])] if od in od_limits else [])
    for level in settings.funnel_levels:
        lab = f"{level * 100:g}".replace(".", "")
        for prefix, ph, t2 in variants:  # tau2 is on the per-pupil (or score) scale of s2
            lo, hi = funnel_limits(target, n, kind, level, scale=scale, pupil_sd=spec.pupil_sd, phi=ph, tau2=t2)
            out[f"{prefix}lower_{lab}"], out[f"{prefix}upper_{lab}"] = lo, hi
            flag = np.where(out["value"] > hi, "above", np.where(out["value"] < lo, "below", "within"))
            out[f"{prefix}flag_{lab}"] = flag
            out[f"{prefix}direction_{lab}"] = np.select(
                [flag == "within", flag == ("above" if polarity > 0 else "below")], ["", "more inclusive"],
                "less inclusive")
    out = out.reset_index()
    pub = edition.england.loc[lambda e: (e["indicator"] == indicator) & (e["index_year"] == year), "value"]
    out.attrs.update({
        "indicator": indicator, "index_year": year, "model": kind, "target": float(out["target"].iloc[0]),
        "target_per_pupil": target, "scale": scale, "pupil_sd": spec.pupil_sd, "phi": phi, "tau2": tau2,
        "overdispersion": od, "levels": list(settings.funnel_levels), "polarity": polarity,
        "england_published": float(pub.iloc[0]) if len(pub) else float("nan"),
        "name": str(ind.loc[indicator, "name"])})
    return out

