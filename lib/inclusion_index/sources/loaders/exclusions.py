"""Exclusions of pupils by SEN provision, by LA: two sources for two periods.

Registry entries with ``loader: exclusions``, read by their ``format``:

* ``la_char_zip``: ``excl_la_char_zip`` (2011/12-2016/17), DfE's LA × pupil characteristic
  file, with counts (exclusions, pupils with one or more fixed-period exclusions) and the
  January census headcount, so every rate has its numerator and denominator.
* ``termly_sen_d2i``: ``excl_termly_sen`` (2019/20-2024/25), termly RATES only, derived by
  Data to Insight from DfE's termly EES release. No counts, no England row. Annual rates are
  rebuilt as the sum of the three termly rates (see the note above ``_load_termly``).

Years come from each file's ``time_period``; where two entries hold the same year and
measure, the later-published wins (:func:`.base.latest_release_wins`).

Nothing covers 2017/18 and 2018/19 by SEN provision and LA: that gap is real, not a bug.
Fixed-period exclusions were renamed "suspensions" by DfE from 2021/22; the measure codes keep
"fixed" because it is the same event.
"""

from __future__ import annotations

import zipfile
import zlib

import numpy as np
import pandas as pd

from inclusion_index.errors import SchemaError, UnknownLACodeError
from inclusion_index.sources.geography import NATIONAL_CODE, check_year_key, load_la_reference
from inclusion_index.sources.loaders.base import (
    LoadContext,
    combine,
    entries,
    la_code3,
    long_frame,
    parse_values,
    read_csv,
    require_columns,
    source_ids,
)
from inclusion_index.sources.registry import Registry

# ---------------------------------------------------------------- 2011/12-2016/17 (counts)

_ZIP_MEMBER = "exclusions_by_characteristic.csv"
_ZIP_KEYS = ["time_period", "geographic_level", "old_la_code", "la_name", "school_type",
             "characteristic and group", "characteristic"]
_ZIP_VALUES = ["headcount", "perm_excl", "perm_excl_rate", "fixed_excl", "fixed_excl_rate",
               "one_plus_fixed", "one_plus_fixed_rate"]

# DfE's characteristic labels (spelling and capitals exactly as published) -> pupil group.
# "SEN provision unclassified" (3 LA rows in 2013/14, all headcount 0) is left out on purpose.
_ZIP_GROUPS = {
    "SEN provision SEN with statement EHC": "ehcp",
    "SEN provision SEN without statement": "sen_support",
    "SEN Provision No SEN": "no_sen",
    "Total": "all"}

# (measure prefix, value column, numerator column); the denominator is always the headcount.
_ZIP_MEASURES = [
    ("excl_fixed_rate", "fixed_excl_rate", "fixed_excl"),
    ("excl_perm_rate", "perm_excl_rate", "perm_excl"),
    ("excl_one_plus_fixed_rate", "one_plus_fixed_rate", "one_plus_fixed"),
    ("excl_headcount", "headcount", None)]

_ZIP_LEVELS = {"local authority": "la", "national": "national"}

# In this release DfE used "x" for cells of 1 or 2 (and rates built on them), not for "not
# available"; say so rather than the generic meaning of x.
_ZIP_X_REASON = "suppressed (x: 1 or 2 exclusions or pupils)"


# what reading a damaged zip member can raise (bad CRC, cut stream, bytes that are not UTF-8)
_UNREADABLE = (zipfile.BadZipFile, EOFError, zlib.error, UnicodeDecodeError, pd.errors.ParserError)


def _read_zip_csv(ctx: LoadContext, sid: str = "excl_la_char_zip") -> pd.DataFrame:
    src = ctx.source(sid)
    path = ctx.path(sid)
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        raise SchemaError(src.path, f"not a readable zip ({e})", expected=f"a zip holding {_ZIP_MEMBER}") from e
    with zf:
        if _ZIP_MEMBER not in zf.namelist():
            raise SchemaError(src.path, f"zip lacks {_ZIP_MEMBER}", expected=f"members {zf.namelist()} to include it")
        try:
            with zf.open(_ZIP_MEMBER) as fh:
                header = pd.read_csv(fh, nrows=0, encoding="utf-8-sig")
        except (*_UNREADABLE, pd.errors.EmptyDataError) as e:
            raise SchemaError(f"{src.path}!{_ZIP_MEMBER}", f"cannot read ({type(e).__name__}: {e})",
                              expected="a complete zip holding a UTF-8 CSV with a header row") from e
        header.columns = [str(c).strip() for c in header.columns]
        # year: the whole span, since a header problem affects every year in the file
        require_columns(header, _ZIP_KEYS + _ZIP_VALUES, f"{src.path}!{_ZIP_MEMBER}", year=src.years)
        try:
            with zf.open(_ZIP_MEMBER) as fh:
                # The file is 34 MB and ~199k rows; only 14 of its columns matter here.
                df = pd.read_csv(fh, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                                 usecols=lambda c: c.strip() in _ZIP_KEYS + _ZIP_VALUES)
        except _UNREADABLE as e:
            raise SchemaError(f"{src.path}!{_ZIP_MEMBER}", f"cannot read ({type(e).__name__}: {e})",
                              expected="a complete zip holding a UTF-8 CSV; re-fetch it") from e
    return df


def _load_zip(ctx: LoadContext, sid: str = "excl_la_char_zip") -> pd.DataFrame:
    src = ctx.source(sid)
    file = f"{src.path}!{_ZIP_MEMBER}"
    raw = _read_zip_csv(ctx, sid)
    raw.columns = [c.strip() for c in raw.columns]
    sel = raw[raw["characteristic and group"].isin(["SEN provision", "Total"])
              & raw["school_type"].eq("Total")
              & raw["characteristic"].isin(list(_ZIP_GROUPS))].copy()
    if sel.empty:
        raise SchemaError(file, "no rows for school_type 'Total' and SEN provision / Total",
                          column="characteristic", expected=f"characteristics {list(_ZIP_GROUPS)}")
    for y, part in sel.groupby("time_period"):
        absent = set(_ZIP_GROUPS) - set(part["characteristic"])
        if absent:
            raise SchemaError(file, "SEN provision group(s) missing", column="characteristic", year=str(y),
                              expected=f"rows for {sorted(absent)}")
    bad_years = [y for y in sel["time_period"].unique() if not _is_year_key(y)]
    if bad_years:
        raise SchemaError(file, f"unrecognised time_period {bad_years[0]!r}", column="time_period",
                          expected="an academic-year key such as '201617'")
    levels = sel["geographic_level"].str.strip().str.lower()
    unknown = sorted(set(levels) - set(_ZIP_LEVELS))
    if unknown:
        raise SchemaError(file, f"unexpected geographic_level {unknown}", column="geographic_level",
                          expected=f"one of {sorted(_ZIP_LEVELS)}")
    sel["level"] = levels.map(_ZIP_LEVELS)
    sel["la_code"] = la_code3(sel["old_la_code"]).where(sel["level"].eq("la"), NATIONAL_CODE)
    sel["la_name"] = sel["la_name"].where(sel["level"].eq("la"), "England")
    bad_code = sel["level"].eq("la") & ~sel["la_code"].str.fullmatch(r"\d{3}", na=False)
    if bad_code.any():
        r = sel[bad_code].iloc[0]
        raise SchemaError(file, f"LA row without a 3-digit old_la_code ({r['la_name']!r})",
                          column="old_la_code", year=r["time_period"], expected="a DfE LA number")
    group = sel["characteristic"].map(_ZIP_GROUPS)

    parsed = {c: parse_values(sel, c, file, year_column="time_period", count=not c.endswith("_rate"))
              for c in _ZIP_VALUES}
    headcount = parsed["headcount"][0]
    frames = []
    for prefix, col, num_col in _ZIP_MEASURES:
        value, reason = parsed[col]
        reason = reason.replace("not available (x)", _ZIP_X_REASON)
        frames.append(long_frame(
            level=sel["level"], la_code=sel["la_code"], la_name=sel["la_name"],
            year=sel["time_period"], measure=prefix + "_" + group, value=value,
            missing_reason=reason,
            numerator=parsed[num_col][0] if num_col else None,
            denominator=headcount if num_col else None,
            source=sid))
    return pd.concat(frames, ignore_index=True)


def _is_year_key(y: str) -> bool:
    try:
        check_year_key(str(y))
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------- 2019/20-2024/25 (termly rates)

_TERMLY_COLUMNS = ["time_period", "time_identifier", "education_phase", "send_category",
                   "new_la_code", "la_name", "metric", "value"]
_TERMS = ("Autumn term", "Spring term", "Summer term")
_TERMLY_GROUPS = {"EHC plan": "ehcp", "SEN support": "sen_support", "No SEN": "no_sen"}
# susp_rate is DfE's name for the fixed-period exclusion rate from 2021/22 (same event).
# one_plus_susp_rate is deliberately not summed: a pupil suspended in two terms would be
# counted twice, so the sum of termly "one or more" rates is not an annual rate.
_TERMLY_METRICS = {"susp_rate": "excl_fixed_rate_termsum", "perm_excl_rate": "excl_perm_rate_termsum"}

# Why the sum of termly rates is the annual rate: DfE divides each term's exclusions by the
# same headcount (pupils on roll at that academic year's January census), and the annual count
# is the sum of the termly counts, so sum(count_t / H) * 100 = annual count / H * 100. The
# only error is the rounding of each published termly rate to 3 decimals (at most 0.0015
# per term). With a term missing the sum would understate the year, so it is not formed.


def _load_termly(ctx: LoadContext, sid: str = "excl_termly_sen") -> pd.DataFrame:
    src = ctx.source(sid)
    raw = read_csv(ctx, sid)
    require_columns(raw, _TERMLY_COLUMNS, src.path, year=src.years)
    d = raw[raw["education_phase"].str.strip().eq("Total")
            & raw["metric"].isin(list(_TERMLY_METRICS))].copy()
    if d.empty:
        raise SchemaError(src.path, "no rows for education_phase 'Total'", column="education_phase",
                          expected="phase 'Total' with metrics " + ", ".join(_TERMLY_METRICS))
    bad_years = [y for y in d["time_period"].unique() if not _is_year_key(y)]
    if bad_years:
        raise SchemaError(src.path, f"unrecognised time_period {bad_years[0]!r}", column="time_period",
                          expected="an academic-year key such as '202223'")
    d["time_identifier"] = d["time_identifier"].str.strip()
    odd_terms = sorted(set(d["time_identifier"]) - set(_TERMS))
    if odd_terms:
        y = d.loc[~d["time_identifier"].isin(_TERMS), "time_period"].iloc[0]
        raise SchemaError(src.path, f"unexpected time_identifier {odd_terms}", column="time_identifier",
                          year=y, expected=f"one of {list(_TERMS)}")
    odd_groups = sorted(set(d["send_category"]) - set(_TERMLY_GROUPS))
    if odd_groups:
        raise SchemaError(src.path, f"unexpected send_category {odd_groups}", column="send_category",
                          expected=f"one of {list(_TERMLY_GROUPS)}")

    # The file has ONS codes only; DfE reissued ONS codes for unchanged 3-digit LAs
    # (Buckinghamshire E10000002 -> E06000060, North Yorkshire and Somerset E10 -> E06), so
    # the mapping goes through every dated spell in DfE's LA list.
    ref = load_la_reference(ctx.data_dir)
    ons_to_la = dict(zip(ref.table["ons_code"], ref.table["la_code"], strict=False))
    d["la_code"] = d["new_la_code"].str.strip().map(ons_to_la)
    unknown = d[d["la_code"].isna()]
    if len(unknown):
        r = unknown.iloc[0]
        raise UnknownLACodeError(src.path, f"ONS code {r['new_la_code']!r} ({r['la_name']}) not in DfE's LA list",
                                 column="new_la_code", year=r["time_period"],
                                 expected="an ONS code listed in la_lookup/las.csv")
    keys = ["time_period", "la_code", "send_category", "metric"]
    dup = d.duplicated([*keys, "time_identifier"], keep=False)
    if dup.any():
        r = d[dup].iloc[0]
        raise SchemaError(src.path, f"two rows for LA {r['la_code']} ({r['la_name']}) {r['send_category']} "
                          f"{r['metric']} {r['time_identifier']}", column="new_la_code", year=r["time_period"],
                          expected="one row per LA, term, SEN group and metric")
    d["v"], d["why"] = parse_values(d, "value", src.path, year_column="time_period")

    g = d.groupby(keys, sort=True)
    out = g.agg(
        la_name=("la_name", "last"), n_terms=("time_identifier", "nunique"), n_values=("v", "count"),
        total=("v", "sum"),
        first_reason=("why", lambda s: s.dropna().iloc[0] if s.notna().any() else pd.NA)).reset_index()
    complete = out["n_terms"].eq(3) & out["n_values"].eq(3)
    value = out["total"].where(complete, np.nan)
    reason = pd.Series(pd.NA, index=out.index, dtype="string")
    partial = out["n_terms"] < 3
    reason[partial] = "partial year (" + out.loc[partial, "n_terms"].astype(str) + " of 3 terms)"
    gap = ~partial & ~complete
    reason[gap] = ("a termly rate is missing (" + out.loc[gap, "first_reason"].astype("string").fillna("blank")
                   + ")")
    return long_frame(
        level="la", la_code=out["la_code"], la_name=out["la_name"], year=out["time_period"],
        measure=out["metric"].map(_TERMLY_METRICS) + "_" + out["send_category"].map(_TERMLY_GROUPS),
        value=value, missing_reason=reason, source=sid)


FORMATS = {"la_char_zip": _load_zip, "termly_sen_d2i": _load_termly}


def sources(registry: Registry | None = None) -> tuple[str, ...]:
    # la_list_dfe is read (through the LA reference) to turn the termly file's ONS codes into
    # DfE's 3-digit codes, so a change to it must invalidate the cache as well.
    return source_ids("exclusions", registry, also=("la_list_dfe",))


SOURCES = sources()


def load(ctx: LoadContext) -> pd.DataFrame:
    return combine([(s, FORMATS[s.format](ctx, s.id)) for s in entries(ctx.registry, "exclusions", FORMATS)])
