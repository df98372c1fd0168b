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
    """``combine`` 'ratio': numerator / sum(denominator parts) * scale, per LA and year."""

    measure: str
    numerator: str
    denominator: tuple[str, ...]
    scale: float
    description: str

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
        out[r.measure] = DerivedMeasure(r.measure, r.numerator, tuple(r.denominator.split("|")),
                                        float(r.scale), r.description)
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
        d["numerator"] = np.nan
        d["denominator"] = np.nan
        d["missing_reason"] = pd.Series(pd.NA, index=d.index, dtype="string")
        d.loc[d["value"].isna(), "missing_reason"] = "an input is missing"
        d["source"] = "derived: " + " / ".join(parts)
        names = sub.drop_duplicates(keys).set_index(keys)["la_name"]
        d["la_name"] = names.reindex(pd.MultiIndex.from_frame(d[keys])).to_numpy()
        out.append(d[long.columns.intersection(d.columns)])
    res = pd.concat(out, ignore_index=True)
    for c in ("level", "la_code", "year", "measure", "missing_reason", "source", "la_name"):
        res[c] = res[c].astype("string")
    return res
