"""The indicator registry (data/registry/indicators.csv), methods (data/registry/methods/*.yml)
and the values each indicator takes for an index year.

Which data year feeds an index year is data: ``lag_years`` per indicator (KS2, KS4 and
exclusions lag the January census by one academic year). When a measure is unpublished
for that data year the method may carry the latest earlier year forward, flagged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
import yaml

from .errors import ConfigError
from .geography import LAReference, map_to_geography, shift_year
from .paths import REGISTRY_DIR

AREAS = ["exclusions", "assessment", "placement", "attainment"]
AREA_NAMES = {
    "exclusions": "Exclusions",
    "assessment": "Assessment",
    "placement": "Placement",
    "attainment": "Attainment",
}


@dataclass(frozen=True)
class Method:
    key: str
    name: str
    description: str
    indicators: tuple[str, ...]
    weights: dict[str, float] = field(default_factory=dict)
    measures: dict[str, list[str]] = field(default_factory=dict)
    scoring: dict = field(default_factory=dict)
    substitution: dict = field(default_factory=dict)
    headline: str = "latest"
    deprivation_measure: str = "iod_idaci_avg_score"
    deprivation_year: str = "201920"

    @property
    def impute_small_counts(self) -> dict:
        return dict(self.substitution.get("suppressed_small_counts") or {})

    @property
    def carry_forward_years(self) -> int:
        return int(self.substitution.get("carry_forward_years", 0))

    @property
    def min_indicator_coverage(self) -> float:
        return float(self.scoring.get("min_indicator_coverage", 0.5))


def list_methods() -> list[str]:
    return sorted(p.stem for p in (REGISTRY_DIR / "methods").glob("*.yml"))


@lru_cache(maxsize=16)
def load_method(key: str) -> Method:
    path = REGISTRY_DIR / "methods" / f"{key}.yml"
    if not path.exists():
        raise ConfigError(f"method {key!r} not found: expected {path} (have {list_methods()})")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        m = Method(
            key=key,
            name=raw["name"],
            description=str(raw.get("description", "")).strip(),
            indicators=tuple(raw["indicators"]),
            weights={k: float(v) for k, v in (raw.get("weights") or {}).items()},
            measures={k: list(v) for k, v in (raw.get("measures") or {}).items()},
            scoring=dict(raw.get("scoring") or {}),
            substitution=dict(raw.get("substitution") or {}),
            headline=raw.get("headline", "latest"),
            deprivation_measure=raw.get("deprivation_measure", "iod_idaci_avg_score"),
            deprivation_year=str(raw.get("deprivation_year", "201920")),
        )
    except KeyError as e:
        raise ConfigError(f"{path}: missing key {e}") from e
    known = set(indicator_registry()["indicator"])
    unknown = [i for i in m.indicators if i not in known]
    if unknown:
        raise ConfigError(f"{path}: unknown indicators {unknown}; see data/registry/indicators.csv")
    return m


@lru_cache(maxsize=1)
def indicator_registry() -> pd.DataFrame:
    t = pd.read_csv(REGISTRY_DIR / "indicators.csv", dtype=str, keep_default_na=False)
    t["polarity"] = t["polarity"].astype(int)
    t["lag_years"] = t["lag_years"].astype(int)
    bad = set(t["area"]) - set(AREAS)
    if bad:
        raise ConfigError(f"indicators.csv: unknown areas {sorted(bad)}")
    if not t["polarity"].isin([-1, 1]).all():
        raise ConfigError("indicators.csv: polarity must be 1 or -1")
    return t


def indicator_table(method: Method) -> pd.DataFrame:
    """The method's indicators with weights and measure lists, in the method's order."""
    reg = indicator_registry().set_index("indicator")
    t = reg.loc[list(method.indicators)].reset_index()
    t["weight"] = [method.weights.get(i, 1.0) for i in t["indicator"]]
    t["measure_list"] = [
        method.measures.get(i, m.split("|")) for i, m in zip(t["indicator"], t["measures"], strict=True)
    ]
    return t


# Derived measures: ratio = numerator / sum(denominator parts) * scale, per LA and year.
DERIVED_MEASURES = {
    "assess_ehcp_share_send": {
        "numerator": "lait_ehcp_pct_pupils",
        "denominator": ["lait_ehcp_pct_pupils", "lait_sen_support_pct_pupils"],
        "scale": 100.0,
    },
}


def add_derived_measures(long: pd.DataFrame) -> pd.DataFrame:
    """Append derived measures (rows marked source 'derived:<inputs>')."""
    out = [long]
    keys = ["level", "la_code", "year"]
    for name, spec in DERIVED_MEASURES.items():
        parts = sorted({spec["numerator"], *spec["denominator"]})
        sub = long[long["measure"].isin(parts)]
        if sub.empty:
            continue
        # unstack keeps only (level, LA, year) combinations that exist; a missing input is NaN
        wide = sub.drop_duplicates([*keys, "measure"]).set_index([*keys, "measure"])["value"].unstack("measure")
        meta = sub.drop_duplicates(keys).set_index(keys)
        if not set(parts) <= set(wide.columns):
            continue
        den = wide[spec["denominator"]].sum(axis=1, min_count=len(spec["denominator"]))
        val = wide[spec["numerator"]] / den.replace(0, np.nan) * spec["scale"]
        d = val.rename("value").reset_index()
        d["measure"] = name
        d["numerator"] = np.nan
        d["denominator"] = np.nan
        d["missing_reason"] = pd.Series(pd.NA, index=d.index, dtype="string")
        d.loc[d["value"].isna(), "missing_reason"] = "an input is missing"
        d["source"] = "derived: " + " / ".join(parts)
        for c in ("la_name", "ons_code", "region"):
            if c in meta.columns:
                d[c] = meta[c].reindex(pd.MultiIndex.from_frame(d[keys])).to_numpy()
        out.append(d[long.columns.intersection(d.columns)])
    res = pd.concat(out, ignore_index=True)
    for c in ("level", "la_code", "year", "measure", "missing_reason", "source", "la_name"):
        if c in res.columns:
            res[c] = res[c].astype("string")
    return res


def _measure_rows(long: pd.DataFrame, measure: str, year: str, level: str = "la") -> pd.DataFrame:
    m = (long["measure"] == measure) & (long["year"] == year) & (long["level"] == level)
    return long.loc[m]


def impute_small_counts(rows: pd.DataFrame, rule: dict) -> pd.DataFrame:
    """Cells suppressed because the count was tiny (e.g. DfE's 'x' = 1 or 2 exclusions) are
    not unknown: the rate lies between 1/denominator and 2/denominator. Leaving them out would
    drop the LAs with the fewest exclusions from the exclusions area, so the method can set
    them to the midpoint count over the published denominator. Returns the rows with
    ``imputed_count`` (the count used, NaN where nothing was done) and ``imputed_range`` (the
    marker's meaning, e.g. '1 or 2 exclusions')."""
    out = rows.copy()
    out["imputed_count"], out["imputed_range"] = np.nan, ""
    prefix = rule.get("reason_prefix")
    if not rule.get("enabled") or not prefix:
        return out
    m = (out["value"].isna() & out["denominator"].gt(0)
         & out["missing_reason"].fillna("").str.startswith(prefix))
    count = float(rule.get("midpoint", 1.5))
    out.loc[m, "value"] = count / out.loc[m, "denominator"] * float(rule.get("per", 100.0))
    out.loc[m, "imputed_count"] = count
    out.loc[m, "imputed_range"] = str(rule.get("label", prefix))
    return out


# A cell's story as data, worded by notes.py: year carried from and year expected, predecessor LAs
# and how several were combined, count imputed, why missing (a code, and the source's marker meaning).
NOTE_COLUMNS = ["carried_from", "expected_year", "predecessors", "combined", "imputed_count", "imputed_range",
                "missing_reason", "missing_marker"]


def indicator_values(
    long: pd.DataFrame,
    method: Method,
    index_year: str,
    target: pd.DataFrame,
    ref: LAReference,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every indicator's value for every target LA in one index year.

    Returns (values, england): values has one row per LA × indicator with value, numerator,
    denominator, data_year, measure, source and the NOTE_COLUMNS (why a value is missing,
    carried forward, imputed or moved across a boundary change); england has the national
    value per indicator.
    """
    codes = list(target["la_code"])
    min_n = method.min_indicator_coverage * len(codes)
    rows, eng = [], []
    for ind in indicator_table(method).itertuples():
        data_year = shift_year(index_year, -ind.lag_years)
        chosen = None
        for back in range(method.carry_forward_years + 1):
            y = shift_year(data_year, -back)
            for m in ind.measure_list:
                sub = _measure_rows(long, m, y)
                if sub["value"].notna().sum() == 0:
                    continue
                sub = impute_small_counts(sub, method.impute_small_counts)
                mapped = map_to_geography(sub[["la_code", "value", "numerator", "denominator", "missing_reason",
                                               "source", "imputed_count", "imputed_range"]], codes, ref)
                if mapped["value"].notna().sum() >= min_n:
                    chosen = (m, y, back, mapped)
                    break
            if chosen:
                break
        base = pd.DataFrame({"la_code": codes})
        base["indicator"] = ind.indicator
        base["index_year"] = index_year
        base["expected_year"] = data_year
        if chosen is None:
            base["value"] = np.nan
            base[["numerator", "denominator"]] = np.nan
            base["data_year"] = data_year
            base["measure"] = ind.measure_list[0]
            base["source"] = ""
            # "not in this project's data": DfE may publish it in a file the registry lacks
            rows.append(base.assign(missing_reason="no_la_values"))
            continue
        m, y, back, mapped = chosen
        got = base.merge(mapped.rename(columns={"missing_reason": "missing_marker"}), on="la_code", how="left")
        got["data_year"] = y
        got["measure"] = m
        got["carried_from"] = y if back else pd.NA
        miss = got["value"].isna()
        got["missing_reason"] = np.where(miss, np.where(got["missing_marker"].isna(), "not_in_source",
                                                         "source_marker"), "")
        got["missing_marker"] = got["missing_marker"].where(miss, "")
        got["source"] = got["source"].fillna("")
        got.loc[got["imputed_count"].notna(), "source"] += " (imputed)"
        rows.append(got)
        nat = _measure_rows(long, m, y, level="national")
        eng.append({"indicator": ind.indicator, "index_year": index_year, "data_year": y, "measure": m,
                    "value": nat["value"].iloc[0] if len(nat) else np.nan})
    values = pd.concat(rows, ignore_index=True)
    text = [c for c in NOTE_COLUMNS if c not in ("carried_from", "imputed_count")]
    values[text] = values[text].fillna("").astype(str)
    values = values.astype({"carried_from": "string", "imputed_count": "float64"})
    return values, pd.DataFrame(eng)
