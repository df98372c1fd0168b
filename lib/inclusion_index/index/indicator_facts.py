"""What each indicator of an edition rests on, per index year (the build's indicator_years step):
data year, measure, LAs with a value, England's figure, sources, and how it reads in a sentence."""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from inclusion_index.index.indicators import _measure_rows, labelled_for, labels_for

_DERIVED = re.compile(r"^derived:\s*(.+)$")
_SUFFIX = re.compile(r"\s*\([^)]*\)\s*$")
# an Edition.substitutions() row's columns the report words as the ``note`` (notes.edition_note)
NOTE_INPUTS = ["carried_from", "expected_year", "missing_reason"]


def dp_for(values: Iterable[float] | float) -> int:
    """Decimals for a set of figures: 0 for whole numbers, 2 when typically below 1, else 1."""
    arr = np.atleast_1d(np.asarray(values, dtype="float64"))
    arr = arr[np.isfinite(arr)]
    if not arr.size:
        return 1
    if np.allclose(arr, arr.round(0)):
        return 0
    return 2 if np.median(np.abs(arr)) < 1 else 1


def england_value(ed, measure: str, year: str) -> float:
    """The first non-missing England row of a measure and year in the long table (NaN if none)."""
    v = _measure_rows(ed.long, measure, year, level="national")["value"].dropna()
    return float(v.iloc[0]) if len(v) else float("nan")


def source_id(text: str) -> str:
    """Registry id from a values ``source`` cell ('excl_la_char_zip (imputed)' -> 'excl_la_char_zip')."""
    return _SUFFIX.sub("", str(text)).strip()


def indicator_source_ids(ed, indicator: str, year: str) -> list[str]:
    """Registry ids behind an indicator's values (derived measures resolved to their inputs)."""
    v = ed.values[(ed.values["indicator"] == indicator) & (ed.values["index_year"] == year)]
    ids: set[str] = set()
    for part in (p.strip() for s in set(v["source"].dropna()) for p in str(s).split(",")):
        if m := _DERIVED.match(part):
            lg = ed.long
            src = lg.loc[lg["measure"].isin([x.strip() for x in m.group(1).split("/")])
                         & lg["year"].isin(set(v["data_year"])), "source"]
            ids |= {source_id(x) for x in src.dropna().unique()}
        elif part:
            ids.add(source_id(part))
    return sorted(ids)


def _year_table(ed, y: str, substitutions: pd.DataFrame) -> pd.DataFrame:
    sub = substitutions[substitutions["index_year"] == y].set_index("indicator")
    eng_rows = ed.england[ed.england["index_year"] == y].set_index("indicator")
    # what England's figure is (indicators.england_basis): national counts, published, pooled
    basis = eng_rows["basis"] if "basis" in eng_rows else pd.Series(dtype="object")
    meta = ed.indicators.set_index("indicator")
    named = labelled_for(ed, y).set_index("indicator")
    measure_phrases = labels_for("measure_phrase")
    rows = []
    for i in meta.index:
        r = sub.loc[i] if i in sub.index else None
        measure, data_year = (str(r["measure"]), str(r["data_year"])) if r is not None else ("", "")
        e = float(eng_rows["value"].get(i, np.nan))
        if not np.isfinite(e) and r is not None and int(r["las_with_value"]) > 0:
            e = england_value(ed, measure, data_year)
        rows.append({"indicator": i, "short_name": named.loc[i, "short_name"], "name": named.loc[i, "name"],
                     "measure_note": named.loc[i, "note"], "area": meta.loc[i, "area"],
                     "unit": meta.loc[i, "unit"], "polarity": int(meta.loc[i, "polarity"]),
                     "data_year": data_year, "measure": measure,
                     "las_with_value": int(r["las_with_value"]) if r is not None else 0,
                     "las": int(r["las"]) if r is not None else len(ed.geography), "england": e,
                     "england_basis": str(basis.get(i, "") or ""),
                     "source_ids": indicator_source_ids(ed, i, y), "note": "",
                     "carried": r is not None and pd.notna(r["carried_from"]),
                     "phrase": measure_phrases.get(measure) or meta.loc[i, "phrase"] or str(meta.loc[i, "name"]),
                     "phrase_unit": meta.loc[i, "phrase_unit"] or str(meta.loc[i, "unit"]),
                     **{c: r[c] if r is not None else np.nan for c in NOTE_INPUTS}})
    return pd.DataFrame(rows)


def indicator_years(ed) -> dict[str, pd.DataFrame]:
    """Index year -> one row per indicator (method order); ``note`` is left for the report to word."""
    sub = ed.substitutions()  # every year's, grouped once
    return {y: _year_table(ed, y, sub) for y in ed.years}


def value_decimals(ed) -> dict[str, int]:
    """Decimals per indicator from all LAs' headline-year values (whole numbers stay whole, rates below 1 get 2)."""
    v = ed.values[ed.values["index_year"] == ed.final_year]
    return {str(k): dp_for(g["value"]) for k, g in v.groupby("indicator", sort=False)}
