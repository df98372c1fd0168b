"""One index year's indicator values -> the inclusion index: pure, the steps of docs/METHOD.md "Scoring".

The default percentile rank ``(r - 1) / (n - 1)`` is the reading of "0-1, ties averaged" whose range
really is 0-1 (Excel's PERCENTRANK.INC); z-scores are not multiplied by ``scale``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

import numpy as np
import pandas as pd

from inclusion_index.errors import InclusionIndexError

AREAS: tuple[str, ...] = ("exclusions", "assessment", "placement", "attainment")
AREA_NAMES = {a: a.capitalize() for a in AREAS}
TARGETS: tuple[str, ...] = ("overall", *AREAS)  # what gets a score and a rank: overall, then each area

Normalisation = Literal["percentile", "zscore", "minmax"]
PercentileFormula = Literal["inclusive", "rank_over_n", "hazen"]
OverallFrom = Literal["indicators", "areas"]
TieMethod = Literal["min", "max", "average", "first", "dense"]
_RESERVED_NAMES = frozenset(AREAS) | {"overall"}


class ScoringInputError(InclusionIndexError, ValueError):
    """The values, indicator table or settings handed to the scorer are malformed."""


def _one_of(value: object, choices: object, name: str) -> None:
    if value not in get_args(choices):
        raise ScoringInputError(f"{name} must be one of {get_args(choices)}, got {value!r}")


@dataclass(frozen=True)
class ScoringSettings:
    """Every choice the reconstruction had to make; defaults = the "2019 method" (METHOD.md).

    ``zscore_ddof`` 1 is the sample SD, as R's ``sd()`` and COINr use. ``rank_decimals``: scores
    are rounded before ranking so that means equal in exact arithmetic but not in the last bit
    tie as they should (None ranks the raw floats). ``area_scores_for_unscored`` keeps area
    scores for LAs failing the overall missing-data rule (off: an unscored LA is NaN throughout).
    """

    normalisation: Normalisation = "percentile"
    percentile_formula: PercentileFormula = "inclusive"
    zscore_ddof: int = 1
    overall_from: OverallFrom = "indicators"
    max_missing_indicators: int = 2
    min_indicator_coverage: float = 0.5
    min_indicators_per_area: int = 1
    scale: float = 100.0
    tie_method: TieMethod = "min"
    rank_decimals: int | None = 9
    area_scores_for_unscored: bool = False

    def __post_init__(self) -> None:
        for name, choices in (("normalisation", Normalisation), ("percentile_formula", PercentileFormula),
                              ("overall_from", OverallFrom), ("tie_method", TieMethod)):
            _one_of(getattr(self, name), choices, f"ScoringSettings: {name}")
        for ok, message in ((self.max_missing_indicators >= 0, "max_missing_indicators must be >= 0"),
                            (0.0 <= self.min_indicator_coverage <= 1.0, "min_indicator_coverage must be in [0, 1]"),
                            (self.min_indicators_per_area >= 0, "min_indicators_per_area must be >= 0"),
                            (self.scale > 0, "scale must be > 0"), (self.zscore_ddof >= 0, "zscore_ddof must be >= 0")):
            if not ok:
                raise ScoringInputError(f"ScoringSettings: {message}")

DEFAULT_SETTINGS = ScoringSettings()


@dataclass(frozen=True)
class ScoredYear:
    """The index for one year: ``scores`` per LA (read ``scores["flags"]``: ``.flags`` is a pandas
    attribute), ``long`` per (LA, indicator) with ``available`` and ``used``, ``notes`` on what is missing."""

    scores: pd.DataFrame
    long: pd.DataFrame
    settings: ScoringSettings
    coverage: pd.Series
    available: tuple[str, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)


def rank_desc(series: pd.Series, tie_method: str = "min", *, decimals: int | None = 9) -> pd.Series:
    """Rank so that the highest value is 1 (NaN takes no rank), after rounding to ``decimals`` so
    floating-point noise does not break real ties; Int64, but float for "average" (halves)."""
    _one_of(tie_method, TieMethod, "tie_method")
    s = pd.to_numeric(series, errors="raise").astype("float64")
    if decimals is not None:
        s = s.round(decimals)
    ranks = s.rank(ascending=False, method=tie_method, na_option="keep")
    return ranks if tie_method == "average" else ranks.astype("Int64")


def percentile_rank(series: pd.Series, formula: str = "inclusive") -> pd.Series:
    """Percentile rank in 0–1 among the non-missing values, ties averaged (a lone value gets 0.5)."""
    _one_of(formula, PercentileFormula, "percentile_formula")
    r = series.astype("float64").rank(method="average", ascending=True, na_option="keep")
    n = max(int(r.notna().sum()), 1)  # with no value r is all NaN whatever it is divided by
    if formula == "inclusive":
        return r.where(r.isna(), 0.5) if n == 1 else (r - 1.0) / (n - 1)
    return r / n if formula == "rank_over_n" else (r - 0.5) / n


def normalise(series: pd.Series, polarity: int, settings: ScoringSettings = DEFAULT_SETTINGS) -> pd.Series:
    """Normalise one indicator across LAs, oriented so that higher = more inclusive; where all
    LAs have one value, min-max gives them the middle and z-scores 0."""
    if polarity not in (1, -1):
        raise ScoringInputError(f"polarity must be +1 or -1, got {polarity!r}")
    x = polarity * series.astype("float64")
    valid = x.dropna()
    if settings.normalisation == "percentile":
        return percentile_rank(x, settings.percentile_formula) * settings.scale
    if settings.normalisation == "minmax":  # with no value lo and hi are NaN, and so is every result
        lo, hi = valid.min(), valid.max()
        if hi == lo:
            return x.where(x.isna(), 0.5 * settings.scale)
        return (x - lo) / (hi - lo) * settings.scale
    sd = float(valid.std(ddof=settings.zscore_ddof))  # zscore; NaN with no more values than ddof
    if not np.isfinite(sd) or sd == 0.0:
        return x.where(x.isna(), 0.0)
    return (x - valid.mean()) / sd


def _weighted_mean(scores: pd.DataFrame, weights: pd.Series) -> pd.Series:
    """Row-wise weighted mean over the non-missing cells; NaN where a row has none (or no column)."""
    w = weights.reindex(scores.columns).astype("float64")
    num = scores.fillna(0.0).mul(w, axis=1).sum(axis=1)
    den = scores.notna().astype("float64").mul(w, axis=1).sum(axis=1)
    return (num / den).where(den > 0)


def _require(table: pd.DataFrame, what: str, columns: list[str]) -> pd.DataFrame:
    if missing := [c for c in columns if c not in table.columns]:
        raise ScoringInputError(f"{what} table lacks column(s) {missing}")
    return table[columns]


def _check_indicators(indicators: pd.DataFrame) -> pd.DataFrame:
    _require(indicators, "indicator", ["indicator", "area", "polarity"])
    ind = indicators.assign(weight=indicators.get("weight", 1.0))[["indicator", "area", "polarity", "weight"]]
    ind = ind.reset_index(drop=True).astype({"indicator": str, "area": str})
    ind["weight"] = pd.to_numeric(ind["weight"]).astype("float64").fillna(1.0)
    dup = ind["indicator"][ind["indicator"].duplicated()].tolist()
    bad_area = sorted(set(ind["area"]) - set(AREAS))
    bad_pol = ind.loc[~ind["polarity"].isin([1, -1]), "indicator"].tolist()
    bad_w = ind.loc[~(ind["weight"] > 0), "indicator"].tolist()
    reserved = sorted(set(ind["indicator"]) & _RESERVED_NAMES)
    if problems := [msg for bad, msg in (
        (dup, f"duplicated indicator(s) {dup}"), (bad_area, f"unknown area(s) {bad_area}; expected one of {list(AREAS)}"),
        (bad_pol, f"polarity must be +1 or -1 for {bad_pol}"), (bad_w, f"weight must be > 0 for {bad_w}"),
        (reserved, f"indicator name(s) {reserved} clash with area/overall column names")) if bad]:
        raise ScoringInputError("indicator table: " + "; ".join(problems))
    ind["polarity"] = ind["polarity"].astype(int)
    return ind


def _check_values(values: pd.DataFrame, known: Iterable[str]) -> pd.DataFrame:
    v = _require(values, "values", ["la_code", "indicator", "value"]).astype({"la_code": str, "indicator": str})
    v["value"] = pd.to_numeric(v["value"], errors="raise").astype("float64")
    if unknown := sorted(set(v["indicator"]) - set(known)):
        raise ScoringInputError(f"values table has indicator(s) not in the indicator table: {unknown}")
    dup = v[v.duplicated(["la_code", "indicator"], keep=False)]
    if not dup.empty:
        pairs = dup[["la_code", "indicator"]].drop_duplicates().head(5).to_numpy().tolist()
        raise ScoringInputError(f"values table has duplicated (la_code, indicator) pairs, e.g. {pairs}")
    return v


def score_year(values: pd.DataFrame, indicators: pd.DataFrame, settings: ScoringSettings = DEFAULT_SETTINGS,
               *, la_codes: Iterable[str] | None = None) -> ScoredYear:
    """Score every LA for one index year over the LAs in ``values`` (plus ``la_codes``, which get a row
    even without values); nobody is dropped: an unscored LA keeps its row, with why."""
    ind = _check_indicators(indicators)
    vals = _check_values(values, ind["indicator"])
    universe = sorted(set(vals["la_code"]) | {str(c) for c in (la_codes or [])})
    if not universe:
        raise ScoringInputError("values table has no LAs")
    names = ind["indicator"].tolist()
    index = pd.Index(universe, name="la_code", dtype="str")

    wide = vals.pivot(index="la_code", columns="indicator", values="value").reindex(index=index, columns=names)
    wide = wide.astype("float64").rename_axis(columns=None)
    coverage = wide.notna().mean(axis=0).rename_axis("indicator")
    is_available = (coverage >= settings.min_indicator_coverage) & (coverage > 0)
    available = [i for i in names if is_available[i]]
    meta = ind.set_index("indicator")
    weights, area_of = meta["weight"], meta["area"]

    norm = pd.DataFrame(np.nan, index=index, columns=names, dtype="float64")
    for name in available:
        norm[name] = normalise(wide[name], meta.at[name, "polarity"], settings)

    notes = [f"indicator not available: {i} (coverage {coverage[i]:.0%})" for i in names if not is_available[i]]
    has = wide[available].notna()
    n_used = has.sum(axis=1).astype(int)
    n_avail = len(available)
    flags: dict[str, list[str]] = {la: [] for la in universe}
    if n_avail == 0:
        notes.append("no indicator available this year")
    too_few = (n_avail - n_used) > settings.max_missing_indicators
    for la in index[too_few]:
        flags[la].append(f"too few indicators ({n_used[la]} of {n_avail})")
    # With a lax rule (few indicators, generous max_missing) an LA could pass with
    # nothing at all; a score needs at least one value.
    empty = (n_used == 0) & ~too_few
    for la in index[empty]:
        flags[la].append("no indicator values" if n_avail else "no indicator available this year")
    ok = ~too_few & ~empty

    area_scores: dict[str, pd.Series] = {}
    area_n: dict[str, pd.Series] = {}
    for area in AREAS:
        members = [i for i in available if area_of[i] == area]
        if not members:
            notes.append(f"area {'not available' if area in set(area_of) else 'has no indicators'}: {area}")
            area_scores[area] = pd.Series(np.nan, index=index, dtype="float64")
            area_n[area] = pd.Series(0, index=index, dtype=int)
            continue
        n_in_area = has[members].sum(axis=1).astype(int)
        area_n[area] = n_in_area
        area_scores[area] = _weighted_mean(norm[members], weights)
        short = n_in_area < settings.min_indicators_per_area
        # an empty area is flagged even when the rule lets the LA keep its overall score
        for la in index[(n_in_area == 0) & ~short]:
            flags[la].append(f"area missing: {area} (overall score kept)")
        for la in index[short]:
            flags[la].append(f"area missing: {area}" if n_in_area[la] == 0 else f"too few indicators in area {area} "
                             f"({n_in_area[la]} of {len(members)}, need {settings.min_indicators_per_area})")
        ok &= ~short

    overall = (_weighted_mean(norm[available], weights) if settings.overall_from == "indicators"
               else pd.DataFrame(area_scores).mean(axis=1, skipna=True)).where(ok)

    out = pd.DataFrame({
        "overall_score": overall, "overall_rank": rank_desc(overall, settings.tie_method, decimals=settings.rank_decimals),
        "scored": ok.astype(bool), "n_indicators": n_used, "n_indicators_available": n_avail,
        "flags": pd.Series({la: "; ".join(f) for la, f in flags.items()}, dtype="str").reindex(index)}, index=index)
    for area in AREAS:
        a = area_scores[area] if settings.area_scores_for_unscored else area_scores[area].where(ok)
        out[f"{area}_score"] = a
        out[f"{area}_rank"] = rank_desc(a, settings.tie_method, decimals=settings.rank_decimals)
        out[f"{area}_n_indicators"] = area_n[area]
    for name in names:
        out[f"{name}_value"] = wide[name]
        out[f"{name}_score"] = norm[name]

    long = _long_table(wide, norm, ind, is_available)
    return ScoredYear(scores=out, long=long, settings=settings, coverage=coverage, available=tuple(available),
                      notes=tuple(notes))


def _long_table(wide: pd.DataFrame, norm: pd.DataFrame, ind: pd.DataFrame, is_available: pd.Series) -> pd.DataFrame:
    long = wide.melt(ignore_index=False, var_name="indicator", value_name="value").reset_index()
    long["score"] = norm.to_numpy().ravel(order="F")  # melt's order: one indicator's LAs after another's
    long = long.merge(ind, on="indicator", how="left", validate="many_to_one")
    long["available"] = long["indicator"].map(is_available).astype(bool)
    long["used"] = long["available"] & long["value"].notna()
    cols = ["la_code", "indicator", "area", "polarity", "weight", "value", "score", "available", "used"]
    return long[cols].reset_index(drop=True)


def regional_summary(scores: pd.DataFrame, regions: pd.Series | Mapping[str, str]) -> pd.DataFrame:
    """Unweighted mean of LA scores per region (METHOD.md step 9): each LA counts once whatever
    its size, as the figure describes its LAs' decisions, not its pupils. Unscored LAs count
    in ``n_las`` only."""
    reg = pd.Series(regions, dtype="object")  # a new Series: relabelling it leaves the caller's alone
    reg.index = reg.index.astype(str)
    region_of = reg.reindex(scores.index.astype(str))
    if lacking := sorted(region_of.index[region_of.isna()]):
        raise ScoringInputError(f"no region for LA(s) {lacking[:10]}{' ...' if len(lacking) > 10 else ''}")
    cols = [f"{a}_score" for a in AREAS if f"{a}_score" in scores.columns] + ["overall_score"]
    if "overall_score" not in scores.columns:
        raise ScoringInputError("scores table lacks overall_score")
    grouped = scores[cols].astype("float64").assign(region=region_of.astype(str).to_numpy()).groupby("region")
    out = grouped[cols].mean()
    out.insert(0, "n_scored", grouped["overall_score"].count().astype(int))
    out.insert(0, "n_las", grouped.size().astype(int))
    return out


def common_indicators(values_early: pd.DataFrame, values_late: pd.DataFrame, indicators: pd.DataFrame,
                      settings: ScoringSettings = DEFAULT_SETTINGS) -> tuple[str, ...]:
    """Indicators available (by the coverage rule) in both years, in indicator-table order."""
    early = score_year(values_early, indicators, settings).available
    late = set(score_year(values_late, indicators, settings).available)
    return tuple(i for i in early if i in late)


def most_improved(values_early: pd.DataFrame, values_late: pd.DataFrame, indicators: pd.DataFrame,
                  settings: ScoringSettings = DEFAULT_SETTINGS, *,
                  la_codes: Iterable[str] | None = None) -> pd.DataFrame:
    """Change in overall score and rank between two index years, both re-scored over the
    indicators available in both (METHOD.md step 8), so a new or discontinued indicator cannot
    move anyone; ``rank_change`` > 0 = moved up, ``attrs["indicators_compared"]`` lists them."""
    ind = _check_indicators(indicators)
    common = common_indicators(values_early, values_late, ind, settings)
    if not common:
        raise ScoringInputError("no indicator is available in both years; nothing to compare")
    ind_c = ind[ind["indicator"].isin(common)]
    wanted = {str(c) for c in (la_codes or [])}
    seen = set(values_early["la_code"].astype(str)) | set(values_late["la_code"].astype(str))
    index = pd.Index(sorted(seen | wanted), name="la_code", dtype="str")

    def restricted(values: pd.DataFrame) -> pd.DataFrame:
        # Each year is normalised over its own LAs (as in the full scoring); an LA that
        # exists in one year only simply has no score in the other.
        v = values[values["indicator"].astype(str).isin(common)]
        return score_year(v, ind_c, settings, la_codes=wanted).scores.reindex(index)

    early, late = restricted(values_early), restricted(values_late)
    out = pd.DataFrame({"score_early": early["overall_score"], "score_late": late["overall_score"],
                        "change": late["overall_score"] - early["overall_score"],
                        "rank_early": early["overall_rank"], "rank_late": late["overall_rank"],
                        "rank_change": early["overall_rank"] - late["overall_rank"]}, index=index)
    out["improvement_rank"] = rank_desc(out["change"], settings.tie_method, decimals=settings.rank_decimals)
    out["indicators_compared"] = len(common)
    out = out.sort_values(["improvement_rank", "score_late"], ascending=[True, False], na_position="last")
    out.attrs["indicators_compared"] = list(common)
    return out
