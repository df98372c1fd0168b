"""Pupil counts per LA (pupils with a statement or EHC plan, on SEN support, on roll) summed over the
schools of DfE's school-level census files: ``_all`` every school row, ``_state`` state-funded primary,
secondary and special (by ``SCHOOLTYPE`` or, without it, by ESTAB range). England is DfE's published
pair of counts where listed, else the rows pooled (docs/DATA_LOG.md, "Census counts over rounded shares").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from inclusion_index.config import parse_england_counts
from inclusion_index.errors import SchemaError
from inclusion_index.paths import REGISTRY_DIR
from inclusion_index.sources.geography import NATIONAL_CODE, load_la_reference
from inclusion_index.sources.loaders.base import (
    LoadContext,
    census_year,
    family,
    first_row,
    long_frame,
    parse_values,
    read_csv,
    read_sheet_columns,
    school_rows,
)

_COUNTS = {"TSENELSE": "census_ehcp_pupils", "TSENELK": "census_sen_support_pupils", "NOR": "census_pupils"}
_STATE_TYPES = {"State-funded primary", "State-funded secondary", "State-funded special school"}
_OTHER_TYPES = {"Independent school", "Non-maintained special school", "Pupil referral unit",
                "State-funded AP school", "State-funded nursery"}
# ESTAB ranges outside "state-funded" for the files without SCHOOLTYPE (docs/DATA_LOG.md)
_NOT_STATE_ESTAB = [(1000, 1199), (6000, 6899)]

NATIONAL_SOURCE_COUNTS = "DfE national count"
NATIONAL_SOURCE_POOLED = "pooled from the file's school rows"


def _school_rows(ctx: LoadContext, sid: str, *, with_type: bool) -> tuple[pd.DataFrame, str, str]:
    src = ctx.source(sid)
    file, year = src.path, census_year(src)
    if src.format == "census_school_xlsx":  # January 2024: the workbook, read by name (see load)
        raw = read_sheet_columns(ctx.path(sid), file, year, "england", ["URN", "LA", "SCHOOLTYPE", *_COUNTS])
    else:
        cols = ["URN", "LA", "ESTAB", *_COUNTS, *(["SCHOOLTYPE"] if with_type else [])]
        raw = read_csv(ctx, sid, needed=cols, required=cols, year=year)
    df = school_rows(raw, file, year, [*_STATE_TYPES, *_OTHER_TYPES], "loaders/census.py", identical_once=True)
    df["year"] = year  # so that a bad cell's error names it
    for c in _COUNTS:
        df[c], _ = parse_values(df, c, file, year_column="year", count=True)
    if with_type:
        df["state"] = df["SCHOOLTYPE"].isin(list(_STATE_TYPES))
    else:
        estab = pd.to_numeric(df["ESTAB"], errors="coerce")
        if (r := first_row(df, estab.isna())) is not None:
            raise SchemaError(file, f"school {r['URN']} has ESTAB {r['ESTAB']!r}", column="ESTAB", year=year,
                              expected="a 4-digit establishment number on every school row")
        df["state"] = ~np.any([estab.between(lo, hi).to_numpy() for lo, hi in _NOT_STATE_ESTAB], axis=0)
    return df, file, year


def _frames(ctx: LoadContext, sid: str, df: pd.DataFrame, year: str, groups: dict[str, pd.Series]) -> pd.DataFrame:
    names = load_la_reference(ctx.data_dir).names()
    las = sorted(set(df["la_code"]))
    published = {c.measure: c for c in parse_england_counts(REGISTRY_DIR / "england_counts.csv")
                 if c.census_january == str(int(year[:4]) + 1)}
    frames = []
    for suffix, keep in groups.items():
        part = df[keep]
        sums = part.groupby("la_code")[list(_COUNTS)].sum(min_count=1).reindex(las)
        measures = {c: f"{m}_{suffix}" for c, m in _COUNTS.items()}
        # DfE's national counts only as a pair (plan and SEN support): a share from one published
        # count and one pooled count would mix two coverages
        use_published = all(measures[c] in published for c in ("TSENELSE", "TSENELK"))
        for col, measure in measures.items():
            nat = published.get(measure) if use_published else None
            nat_value = nat.value if nat else float(part[col].sum(min_count=1))
            # '<id> (note)' without commas or inner brackets: the report reads the id back
            publication = nat.publication.split(" (")[0].replace(",", ";") if nat else ""
            nat_source = (f"{sid} (England: {NATIONAL_SOURCE_COUNTS}; {publication}; all schools)" if nat
                          else f"{sid} (England: {NATIONAL_SOURCE_POOLED})")
            la = sums[col]
            why = pd.Series([pd.NA, *np.where(la.isna(), "no school with a published count", pd.NA)], dtype="string")
            f = long_frame(
                level=pd.Series(["national", *["la"] * len(las)]),
                la_code=pd.Series([NATIONAL_CODE, *las]),
                la_name=pd.Series(["England", *[names.get(c, "") for c in las]]),
                year=year, measure=measure, value=pd.Series([nat_value, *la.to_numpy()]),
                missing_reason=why, source=sid)
            f.loc[0, "source"] = nat_source
            frames.append(f)
    return pd.concat(frames, ignore_index=True)


def load_perf_census(ctx: LoadContext, sid: str) -> pd.DataFrame:
    """Format ``perf_census_csv`` (SCHOOLTYPE column): all-school and state-funded counts."""
    df, _, year = _school_rows(ctx, sid, with_type=True)
    return _frames(ctx, sid, df, year, {"all": pd.Series(True, index=df.index), "state": df["state"]})


def load_perf_census_estab(ctx: LoadContext, sid: str) -> pd.DataFrame:
    """Format ``perf_census_csv_estab`` (no SCHOOLTYPE): state-funded counts by ESTAB only."""
    df, _, year = _school_rows(ctx, sid, with_type=False)
    return _frames(ctx, sid, df, year, {"state": df["state"]})


FORMATS = {"perf_census_csv": load_perf_census, "perf_census_csv_estab": load_perf_census_estab}
# The January 2024 school-level workbook: its registry entry belongs to loaders/context.py (special
# schools), so it is read here by name, with the same school rows and groups as perf_census_csv.
_LATER_SCHOOL_LIST = "school_census_202324"


sources, _load_registered = family("census", FORMATS, also=("la_list_dfe", _LATER_SCHOOL_LIST))
SOURCES = sources()


def load(ctx: LoadContext) -> pd.DataFrame:
    later = any(s.id == _LATER_SCHOOL_LIST for s in ctx.registry.sources)
    return pd.concat([_load_registered(ctx), *([load_perf_census(ctx, _LATER_SCHOOL_LIST)] if later else [])],
                     ignore_index=True)
