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
    lacks in a year where it has some values (no counts; the measure's source names the fallback).
    ``agree`` (derived.csv ``agree``: ``count/base=published`` pairs joined by ';'): the counts stand
    only where they reproduce DfE's published LA percentage to within ``tolerance`` (its rounding):
    a school missing from a school-level download (Camden, January 2019: an independent school
    with 130 pupils with a plan a year earlier) otherwise passes an incomplete count off as exact."""

    measure: str
    numerator: str
    denominator: tuple[str, ...]
    scale: float
    description: str
    input_kind: str = "percentages"
    fallback: str = ""
    # (count measure, base count measure, published % measure): the counts are used for an LA
    # only where count / base x 100 is within ``tolerance`` of the published percentage
    agree: tuple[tuple[str, str, str], ...] = ()
    tolerance: float = 0.0

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
        agree = []
        for pair in filter(None, (getattr(r, "agree", "") or "").split(";")):
            try:
                ratio, published = pair.split("=")
                count, base = ratio.split("/")
            except ValueError as e:
                raise ConfigError(f"{path}: {r.measure} agree {pair!r}: expected count/base=published") from e
            agree.append((count.strip(), base.strip(), published.strip()))
        tol = getattr(r, "tolerance", "") or "0"
        out[r.measure] = DerivedMeasure(r.measure, r.numerator, tuple(r.denominator.split("|")),
                                        float(r.scale), r.description, inputs, getattr(r, "fallback", "") or "",
                                        tuple(agree), float(tol))
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
            # LA rows: 'derived: <inputs>' (the report resolves it to registry ids), with the
            # fallback's inputs, which fill the cells without usable counts; England: the
            # numerator's source, which says whether the counts are DfE's national ones
            fb = derived_measures().get(spec.fallback)
            d["source"] = "derived: " + " / ".join([*parts, *(fb.inputs if fb else [])])
            src = sub[sub["measure"] == spec.numerator].drop_duplicates(keys).set_index(keys)["source"]
            nat = (d["level"] == "national").to_numpy()
            d.loc[nat, "source"] = ("derived from counts: " + " / ".join(parts) + " (" + src.reindex(
                pd.MultiIndex.from_frame(d.loc[nat, keys])).astype("string").fillna("").to_numpy() + ")")
        if spec.agree:
            d = _check_agreement(long, d, spec, keys)
        names = sub.drop_duplicates(keys).set_index(keys)["la_name"]
        d["la_name"] = names.reindex(pd.MultiIndex.from_frame(d[keys])).to_numpy()
        out.append(d[long.columns.intersection(d.columns)])
    res = pd.concat(out, ignore_index=True)
    res = _fill_from_fallbacks(res)
    for c in ("level", "la_code", "year", "measure", "missing_reason", "source", "la_name"):
        res[c] = res[c].astype("string")
    return res


def _check_agreement(long: pd.DataFrame, d: pd.DataFrame, spec: DerivedMeasure, keys: list[str]) -> pd.DataFrame:
    """Blank (with the reason) each LA row whose counts do not reproduce a published percentage;
    England rows are kept (national counts are checked against DfE's publication, not LAIT)."""
    idx = pd.MultiIndex.from_frame(d[keys])
    def get(m: str) -> pd.Series:
        r = long[long["measure"] == m].drop_duplicates(keys).set_index(keys)["value"]
        return pd.Series(r.reindex(idx).to_numpy(dtype="float64"), index=d.index)
    why = pd.Series(pd.NA, index=d.index, dtype="string")
    for count, base, published in spec.agree:
        pct = 100 * get(count) / get(base).replace(0, np.nan)
        gap = (pct - get(published)).abs()
        off = (gap > spec.tolerance) & (d["level"] == "la") & why.isna()
        why[off] = (f"counts not used: {count} is " + pct[off].round(2).astype(str) + f"% of {base}, "
                    + f"{published} published " + get(published)[off].astype(str) + "%")
    bad = why.notna() & d["value"].notna()
    d.loc[bad, ["value", "numerator", "denominator"]] = np.nan
    d.loc[bad, "missing_reason"] = why[bad]
    return d


def _fill_from_fallbacks(long: pd.DataFrame) -> pd.DataFrame:
    """A derived measure with a ``fallback``: in each year it has any value, its missing cells (and
    LAs it lacks) take the fallback measure's value, with no numerator or denominator, so that one
    indicator does not switch measure by year alone and each cell shows whether it rests on counts.
    The rows keep the measure's source for that year (one source per measure and year, as the LA
    coverage check expects), which names the fallback."""
    keys = ["level", "la_code", "year"]
    for name, spec in derived_measures().items():
        if not spec.fallback:
            continue
        is_own = long["measure"] == name
        own = long[is_own]
        years = sorted(set(own.loc[own["value"].notna(), "year"].astype(str)))
        if not years:
            continue
        # LA cells only: England (and any region) is the measure's own figure or nothing
        fb = long[(long["measure"] == spec.fallback) & long["year"].astype(str).isin(years)
                  & long["value"].notna() & (long["level"] == "la")].drop_duplicates(keys).set_index(keys)
        src = own.groupby(["year", "level"])["source"].first()
        at = pd.MultiIndex.from_frame(long[keys])
        fill = is_own & long["value"].isna() & at.isin(fb.index)
        long = long.copy()
        long.loc[fill, "value"] = fb["value"].reindex(at[fill]).to_numpy()
        long.loc[fill, ["numerator", "denominator"]] = np.nan
        long.loc[fill, "missing_reason"] = pd.NA
        new = fb[~fb.index.isin(pd.MultiIndex.from_frame(own[keys]))].reset_index()
        new = new.assign(measure=name, numerator=np.nan, denominator=np.nan, missing_reason=pd.NA)
        long = pd.concat([long, new[long.columns.intersection(new.columns)]], ignore_index=True)
        m = (long["measure"] == name) & long["year"].astype(str).isin(years)
        sy = pd.MultiIndex.from_frame(long.loc[m, ["year", "level"]])
        long.loc[m, "source"] = src.reindex(sy).to_numpy()
    return long
