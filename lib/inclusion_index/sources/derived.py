"""Derived measures (data/registry/derived.csv): measures computed from other measures of the
long table, such as the EHC plan share of SEN pupils from LAIT's two census percentages.

``harmonise.load_inputs`` adds them before validation, so each is declared in
data/registry/measures/derived.csv and range-checked like a measure read from a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from inclusion_index.errors import ConfigError
from inclusion_index.paths import REGISTRY_DIR


@dataclass(frozen=True)
class DerivedMeasure:
    """``combine`` 'ratio': numerator / sum(denominator parts) * scale, per LA and year.

    ``input_kind`` (derived.csv column ``inputs``) 'counts': the parts are head counts, so each row records its numerator and
    denominator (and the national row names where England's counts come from); 'percentages':
    published percentages, no counts. ``fallback``: a measure whose value fills a cell this one
    lacks in a year where it has some values (the cell keeps the fallback's source and no counts)."""

    measure: str
    numerator: str
    denominator: tuple[str, ...]
    scale: float
    description: str
    input_kind: str = "percentages"
    fallback: str = ""

    @property
    def inputs(self) -> list[str]:
        return sorted({self.numerator, *self.denominator})


@lru_cache(maxsize=1)
def derived_measures() -> dict[str, DerivedMeasure]:
    path = REGISTRY_DIR / "derived.csv"
    out = {}
    for r in pd.read_csv(path, dtype=str, keep_default_na=False).itertuples():
        if r.combine != "ratio":  # the only rule the noise model (uncertainty._rounding_sampler) knows
            raise ConfigError(f"{path}: {r.measure} has combine {r.combine!r}; expected 'ratio'")
        inputs = getattr(r, "inputs", "") or "percentages"
        if inputs not in ("counts", "percentages"):
            raise ConfigError(f"{path}: {r.measure} has inputs {inputs!r}; expected counts or percentages")
        out[r.measure] = DerivedMeasure(r.measure, r.numerator, tuple(r.denominator.split("|")),
                                        float(r.scale), r.description, inputs, getattr(r, "fallback", "") or "")
    return out


def add_derived_measures(long: pd.DataFrame) -> pd.DataFrame:
    """Append derived measures (rows marked source 'derived: <inputs>') to a long table."""
    out = [long]
    keys = ["level", "la_code", "year"]
    for name, spec in derived_measures().items():
        parts = spec.inputs
        sub = long[long["measure"].isin(parts)]
        if sub.empty:
            continue
        # unstack keeps only (level, LA, year) combinations that exist; a missing input is NaN
        wide = sub.drop_duplicates([*keys, "measure"]).set_index([*keys, "measure"])["value"].unstack("measure")
        if not set(parts) <= set(wide.columns):
            continue
        den = wide[list(spec.denominator)].sum(axis=1, min_count=len(spec.denominator))
        val = wide[spec.numerator] / den.replace(0, np.nan) * spec.scale
        d = val.rename("value").reset_index()
        d["measure"] = name
        counts = spec.input_kind == "counts"
        d["numerator"] = wide[spec.numerator].to_numpy() if counts else np.nan
        d["denominator"] = den.to_numpy() if counts else np.nan
        d["missing_reason"] = pd.Series(pd.NA, index=d.index, dtype="string")
        d.loc[d["value"].isna(), "missing_reason"] = "an input is missing"
        d["source"] = "derived: " + " / ".join(parts)
        if counts:
            # the numerator's source: for England it says whether the counts are DfE's national ones
            src = sub[sub["measure"] == spec.numerator].drop_duplicates(keys).set_index(keys)["source"]
            d["source"] = ("derived from counts: " + " / ".join([spec.numerator, *[m for m in spec.denominator
                           if m != spec.numerator]]) + " (" + src.reindex(pd.MultiIndex.from_frame(d[keys]))
                           .astype("string").fillna("").to_numpy() + ")")
        names = sub.drop_duplicates(keys).set_index(keys)["la_name"]
        d["la_name"] = names.reindex(pd.MultiIndex.from_frame(d[keys])).to_numpy()
        out.append(d[long.columns.intersection(d.columns)])
    res = pd.concat(out, ignore_index=True)
    res = _fill_from_fallbacks(res)
    for c in ("level", "la_code", "year", "measure", "missing_reason", "source", "la_name"):
        res[c] = res[c].astype("string")
    return res


def _fill_from_fallbacks(long: pd.DataFrame) -> pd.DataFrame:
    """A derived measure with a ``fallback``: in each year it has any value, its missing cells (and
    LAs it lacks) take the fallback measure's value, so one indicator never mixes two
    measures by year alone but each cell says which it used (its source, and counts or none)."""
    keys = ["level", "la_code", "year"]
    for name, spec in derived_measures().items():
        if not spec.fallback:
            continue
        own = long[(long["measure"] == name)]
        years = set(own.loc[own["value"].notna(), "year"].astype(str))
        fb = long[(long["measure"] == spec.fallback) & long["year"].astype(str).isin(years)
                  & long["value"].notna()]
        if fb.empty:
            continue
        have = pd.MultiIndex.from_frame(own.loc[own["value"].notna(), keys].astype(str))
        take = ~pd.MultiIndex.from_frame(fb[keys].astype(str)).isin(have)
        if not take.any():
            continue
        add = fb[take].assign(measure=name, numerator=np.nan, denominator=np.nan)
        # the fallback replaces the measure's own empty row for that cell
        drop = (long["measure"] == name) & long["value"].isna() & pd.MultiIndex.from_frame(
            long[keys].astype(str)).isin(pd.MultiIndex.from_frame(add[keys].astype(str)))
        long = pd.concat([long[~drop], add], ignore_index=True)
    return long
