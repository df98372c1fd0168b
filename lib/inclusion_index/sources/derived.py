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

    ``input_kind`` (``inputs``) 'counts': each row records numerator and denominator; 'percentages':
    published %, no counts. ``fallback``: measures ('|', in order) filling the LA cells this one
    lacks in a year it has values (``missing_reason`` 'fallback <measure>: <why>'). ``agree``
    ``count/other=pub/pub2|...`` with one ``tolerance`` each: counts stand only where their share
    lies within the shares the first published pair present allows, each % moved by its tolerance
    (a school missing from a download otherwise passes an incomplete count off as exact)."""

    measure: str
    numerator: str
    denominator: tuple[str, ...]
    scale: float
    description: str
    input_kind: str = "percentages"
    fallback: tuple[str, ...] = ()
    # (count, other count, ((published, published other, tolerance), ...)): first pair present decides
    agree: tuple[tuple[str, str, tuple[tuple[str, str, float], ...]], ...] = ()
    value_source: str = "published"
    half_unit: float = float("nan")  # blank: the indicator's half_unit in uncertainty.yml

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
        inputs = r.inputs or "percentages"
        if inputs not in ("counts", "percentages"):
            raise ConfigError(f"{path}: {r.measure} has inputs {inputs!r}; expected counts or percentages")
        agree = []
        if r.agree:
            try:
                counts, published = r.agree.split("=")
                count, other = counts.split("/")
                pubs = [(*pair.split("/"), float(t)) for pair, t in
                        zip(published.split("|"), r.tolerance.split("|"), strict=True)]
                if any(len(p) != 3 for p in pubs):
                    raise ValueError(pubs)
            except ValueError as e:
                raise ConfigError(f"{path}: {r.measure} agree {r.agree!r} / tolerance {r.tolerance!r}: expected "
                                  "count/other=pub/pub2|pub/pub2 with one tolerance per pair") from e
            agree.append((count, other, tuple(pubs)))
        out[r.measure] = DerivedMeasure(r.measure, r.numerator, tuple(r.denominator.split("|")), float(r.scale),
                                        r.description, inputs, tuple(filter(None, r.fallback.split("|"))),
                                        tuple(agree), r.value_source or "published", float(r.half_unit or "nan"))
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
        d["missing_reason"] = pd.Series("an input is missing", index=d.index, dtype="string").where(d["value"].isna())
        # LA rows: 'derived: <inputs>' (the report resolves it to registry ids), from counts with the
        # fallback's inputs, which fill the cells without usable counts; England from counts: the
        # numerator's source, which says whether the counts are DfE's national ones
        fb = [i for f in spec.fallback for i in derived_measures()[f].inputs] if counts else []
        d["source"] = "derived: " + " / ".join(dict.fromkeys([*parts, *fb]))
        if counts:
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
    """Blank (with the reason) each LA row whose count share lies outside the shares the published
    percentages allow; England rows are kept (national counts are DfE's own, not an LA sum)."""
    idx = pd.MultiIndex.from_frame(d[keys])
    def get(m: str) -> pd.Series:
        r = long[long["measure"] == m].drop_duplicates(keys).set_index(keys)["value"]
        return pd.Series(r.reindex(idx).to_numpy(dtype="float64"), index=d.index)
    why = pd.Series(pd.NA, index=d.index, dtype="string")
    la = d["level"] == "la"
    for count, other, published in spec.agree:
        c, o = get(count), get(other)
        share = 100 * c / (c + o).replace(0, np.nan)
        decided = pd.Series(False, index=d.index)
        for p, q, tol in published:
            pp, qq = get(p), get(q)
            have = pp.notna() & qq.notna() & ~decided & la
            lo, hi = 100 * (pp - tol) / (pp + qq), 100 * (pp + tol) / (pp + qq)
            off = have & ((share < lo) | (share > hi))
            why[off] = (f"counts not used: {count} / ({count} + {other}) = " + share[off].round(3).astype(str)
                        + "%, outside the " + lo[off].round(3).astype(str) + "-" + hi[off].round(3).astype(str)
                        + f"% that {p} " + pp[off].astype(str) + f" and {q} " + qq[off].astype(str)
                        + f" allow (+-{tol})")
            decided |= have
    bad = why.notna() & d["value"].notna()
    d.loc[bad, ["value", "numerator", "denominator"]] = np.nan
    d.loc[bad, "missing_reason"] = why[bad]
    return d


def _fill_from_fallbacks(long: pd.DataFrame) -> pd.DataFrame:
    """A derived measure with ``fallback``s: in each year it has any value, its missing LA cells (and
    LAs it lacks) take the first fallback's value that exists, with no numerator or denominator and
    ``missing_reason`` 'fallback <measure>: <why>' naming the measure the value is (a fallback's own
    fallback passes through), so that one indicator does not switch measure by year alone. The rows
    keep the measure's source for that year (one source per measure and year, as the LA coverage
    check expects), which names the fallbacks' inputs."""
    keys = ["level", "la_code", "year"]
    for name, spec in derived_measures().items():
        own = long[long["measure"] == name]
        years = sorted(set(own.loc[own["value"].notna(), "year"].astype(str)))
        if not spec.fallback or not years:
            continue
        src = own.groupby(["year", "level"])["source"].first()
        for f in spec.fallback:
            # LA cells only: England (and any region) is the measure's own figure or nothing
            fb = long[(long["measure"] == f) & long["year"].astype(str).isin(years)
                      & long["value"].notna() & (long["level"] == "la")].drop_duplicates(keys).set_index(keys)
            is_own = long["measure"] == name
            at = pd.MultiIndex.from_frame(long[keys])
            fill = is_own & long["value"].isna() & at.isin(fb.index)
            # a fallback's own fallback passes through: the marker names the measure the value is
            chained = fb["missing_reason"].where(fb["missing_reason"].str.startswith("fallback ", na=False))
            marker = chained.reindex(at[fill]).to_numpy()
            marker = np.where(pd.isna(marker), (f"fallback {f}: " + long.loc[fill, "missing_reason"].fillna(
                "no value")).to_numpy(), marker)
            long = long.copy()
            long.loc[fill, "value"] = fb["value"].reindex(at[fill]).to_numpy()
            long.loc[fill, ["numerator", "denominator"]] = np.nan
            long.loc[fill, "missing_reason"] = marker
            new = fb[~fb.index.isin(pd.MultiIndex.from_frame(long.loc[is_own, keys]))]
            new = new.assign(measure=name, numerator=np.nan, denominator=np.nan,
                             missing_reason=chained.reindex(new.index).fillna(f"fallback {f}: no row")).reset_index()
            long = pd.concat([long, new[long.columns.intersection(new.columns)]], ignore_index=True)
        m = (long["measure"] == name) & long["year"].astype(str).isin(years)
        sy = pd.MultiIndex.from_frame(long.loc[m, ["year", "level"]])
        long.loc[m, "source"] = src.reindex(sy).to_numpy()
    return long
