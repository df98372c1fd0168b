"""Raw DfE KS4 performance files by LA and pupil characteristic, one academic year a file (2017/18
``char_totals_csv``: totals only, so A8 = t_att8 / t_pupils and P8 = t_p8score / t_inp8calc, not rounded;
2018/19 ``char_xlsx``: published averages, A8 1 dp and P8 2 dp, with the same totals): LAIT's KS4-by-SEN
figures with the pupil counts and score totals it lacks, so averages can be re-weighted. State-funded
schools (LA) only; an LA lacking a SEN group (Isles of Scilly: no EHCP row) gets an explicit missing row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from inclusion_index.errors import SchemaError
from inclusion_index.sources.geography import NATIONAL_CODE
from inclusion_index.sources.loaders.base import (
    LoadContext,
    check_la_codes,
    check_levels,
    family,
    first_row,
    la_code3,
    long_frame,
    one_academic_year,
    parse_values,
    read_csv,
    read_sheet_columns,
)

GROUPS = ("ehcp", "sen_support", "no_sen", "all")

_SEN_201718 = {"SenStateEhc": "ehcp", "Sen_Supp": "sen_support", "No_Sen": "no_sen"}
_SEN_201819 = {"SEN State EHC": "ehcp", "SEN Supp": "sen_support", "No SEN": "no_sen"}

_TOTALS = ["t_pupils", "t_att8", "t_inp8calc", "t_p8score"]
# never negative: pupils and total Attainment 8 points (a Progress 8 total can be)
_COUNTS = {"t_pupils", "t_att8", "t_inp8calc"}

_ID = ["time_period", "geographic_level", "old_la_code", "la_name", "version", "school_characteristic",
              "breakdown"]
_CHAR_201718 = [
    "characteristic_gender", "characteristic_free_school_meals", "characteristic_disadvantage",
    "characteristic_first_language", "characteristic_sen_status", "characteristic_ethnic_major"]

_CHAR_201819 = ["gender", "ethnic_major", "free_school_meals", "sen_status", "sen_description",
                "disadvantage", "first_language"]
_AVG_201819 = ["avg_att8", "avg_p8score"]

NO_ROW = "no row in source for this group"
ZERO_DENOMINATOR = "no pupils in the measure (denominator 0)"


def _check_single(df: pd.DataFrame, column: str, expected: str, file: str, year: str) -> None:
    # a workbook's time_period may come back as 201819.0
    found = sorted(set(df[column].astype("string").str.strip().str.replace(r"\.0$", "", regex=True).dropna()))
    if found != [expected]:
        raise SchemaError(file, f"unexpected values {found}", column=column, year=year,
                          expected=f"only {expected!r}")


def _area_columns(df: pd.DataFrame, file: str, year: str, values: list[str]) -> pd.DataFrame:
    """The revised state-funded rows of the year, checked, with level, la_code, la_name for national
    and LA rows (regional rows are dropped: both London halves share one region code) and ``values``
    parsed (``<column>_why`` the reason a cell is not a number)."""
    _check_single(df, "time_period", year, file, year)
    _check_single(df, "version", "Revised", file, year)
    _check_single(df, "school_characteristic", "State-funded schools (LA)", file, year)
    geo = df["geographic_level"].astype("string").str.strip()
    check_levels(geo, file, year)
    out = df[geo != "Regional"].copy()
    is_nat = geo[out.index] == "National"
    out["level"] = np.where(is_nat, "national", "la")
    out["la_code"] = la_code3(out["old_la_code"]).where(~is_nat, NATIONAL_CODE)
    out["la_name"] = out["la_name"].astype("string").str.strip().where(~is_nat, "England")
    check_la_codes(out, out["level"] == "la", file, year)
    for c in values:
        out[c], out[c + "_why"] = parse_values(out, c, file, year_column="time_period", count=c in _COUNTS)
    return out


def _totals_only_filter(df: pd.DataFrame, columns: list[str], keep: str) -> pd.Series:
    """Rows where every characteristic column except ``keep`` is 'Total'."""
    return df[[c for c in columns if c != keep]].apply(lambda s: s.astype("string").str.strip().eq("Total")).all(axis=1)


def load_201718(ctx: LoadContext, sid: str = "ks4_la_char_201718") -> pd.DataFrame:
    """Format ``char_totals_csv``: the EES CSV with totals only."""
    file = ctx.source(sid).path
    year = one_academic_year(ctx.source(sid), "a KS4")
    raw = read_csv(ctx, sid, required=_ID + _CHAR_201718 + _TOTALS, year=year)
    df = _area_columns(raw, file, year, _TOTALS)

    sen = df[(df["breakdown"].str.strip() == "SEN_status")
             & _totals_only_filter(df, _CHAR_201718, "characteristic_sen_status")].copy()
    sen["group"] = sen["characteristic_sen_status"].str.strip().map(_SEN_201718)
    if (r := first_row(sen, sen["group"].isna() & (sen["characteristic_sen_status"].str.strip() != "Total"))) is not None:
        raise SchemaError(file, f"unknown SEN status {r['characteristic_sen_status']!r}",
                          column="characteristic_sen_status", year=year,
                          expected=f"one of {sorted(_SEN_201718)}")
    sen = sen[sen["group"].notna()]

    # No national or "all pupils" row in this file: the two disadvantage groups partition the cohort
    # (in 2018/19 their sum is the published total exactly).
    dis = df[(df["breakdown"].str.strip() == "Disadvantage")
             & _totals_only_filter(df, _CHAR_201718, "characteristic_disadvantage")]
    if dis.empty:
        raise SchemaError(file, "no disadvantage breakdown rows", column="breakdown", year=year,
                          expected="'Disadvantage' rows to build the all-pupils totals")
    parts = dis.groupby(["level", "la_code", "la_name"], sort=False)
    # min_count=2: with one group suppressed the other alone is not the total
    allp = parts[_TOTALS].sum(min_count=2).reset_index()
    n_parts = parts.size().reset_index(name="n")["n"]
    why = parts[[c + "_why" for c in _TOTALS]].first().reset_index(drop=True)
    allp["group"] = "all"
    incomplete = (n_parts != 2).to_numpy()
    allp.loc[incomplete, _TOTALS] = np.nan
    for c in _TOTALS:
        allp[c + "_why"] = why[c + "_why"].astype("string").where(allp[c].isna())
        allp.loc[incomplete, c + "_why"] = "incomplete disadvantage breakdown"
    both = pd.concat([sen, allp], ignore_index=True)
    both["avg_att8"] = _ratio(both["t_att8"], both["t_pupils"])
    both["avg_p8score"] = _ratio(both["t_p8score"], both["t_inp8calc"])
    both["avg_att8_why"] = both["t_att8_why"].fillna(both["t_pupils_why"])
    both["avg_p8score_why"] = both["t_p8score_why"].fillna(both["t_inp8calc_why"])
    return _to_long(both, year, sid, file)


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    return (num / den.where(den != 0)).astype("float64")


def load_201819(ctx: LoadContext, sid: str = "ks4_la_char_201819") -> pd.DataFrame:
    """Format ``char_xlsx``: the revised workbook's Sheet1, with published averages."""
    file = ctx.source(sid).path
    year = one_academic_year(ctx.source(sid), "a KS4")
    raw = read_sheet_columns(ctx.path(sid), file, year, "Sheet1", _ID + _CHAR_201819 + _TOTALS + _AVG_201819)
    df = _area_columns(raw, file, year, _TOTALS + _AVG_201819)

    sen = df[(df["breakdown"] == "SEN status") & _totals_only_filter(df, _CHAR_201819, "sen_status")].copy()
    sen["group"] = sen["sen_status"].map(_SEN_201819)
    if (r := first_row(sen, sen["group"].isna())) is not None:
        raise SchemaError(file, f"unknown SEN status {r['sen_status']!r}",
                          column="sen_status", year=year, expected=f"one of {sorted(_SEN_201819)}")
    allp = df[(df["breakdown"] == "Total") & _totals_only_filter(df, _CHAR_201819, "")].copy()
    allp["group"] = "all"
    both = pd.concat([sen, allp], ignore_index=True)
    # DfE publishes an average even when no pupil counts towards it; that is not a score.
    for avg, den in (("avg_att8", "t_pupils"), ("avg_p8score", "t_inp8calc")):
        zero = both[den] == 0
        both.loc[zero, avg] = np.nan
        both.loc[zero, avg + "_why"] = ZERO_DENOMINATOR
    return _to_long(both, year, sid, file)


def _to_long(df: pd.DataFrame, year: str, source: str, file: str) -> pd.DataFrame:
    """One row per area × group × measure; absent groups of a present area become missing rows."""
    if (r := first_row(df, df.duplicated(["level", "la_code", "group"], keep=False))) is not None:
        raise SchemaError(file, f"several rows for {r['la_name']} ({r['la_code']}), group {r['group']}",
                          column="la_code", year=year, expected="one row per area and SEN group")
    areas = df[["level", "la_code", "la_name"]].drop_duplicates(["level", "la_code"])
    grid = areas.merge(pd.DataFrame({"group": list(GROUPS)}), how="cross")
    full = grid.merge(df.drop(columns=["la_name"]), on=["level", "la_code", "group"], how="left",
                      indicator=True)
    absent = full["_merge"] == "left_only"
    frames = []
    for prefix, value_col, num_col, den_col in (("ks4raw_a8_", "avg_att8", "t_att8", "t_pupils"),
                                                ("ks4raw_p8_", "avg_p8score", "t_p8score", "t_inp8calc"),
                                                ("ks4raw_pupils_", "t_pupils", None, None)):
        value = full[value_col].astype("float64")
        why = full[value_col + "_why"].astype("string").where(~absent, NO_ROW)
        if den_col is not None:
            why = why.where(~(value.isna() & why.isna() & (full[den_col] == 0)), ZERO_DENOMINATOR)
        frames.append(long_frame(
            level=full["level"], la_code=full["la_code"], la_name=full["la_name"], year=year,
            measure=prefix + full["group"], value=value, missing_reason=why.where(value.isna()),
            numerator=full[num_col] if num_col else None,
            denominator=full[den_col] if den_col else None, source=source))
    return pd.concat(frames, ignore_index=True)


FORMATS = {"char_totals_csv": load_201718, "char_xlsx": load_201819}


sources, load = family("ks4", FORMATS)
SOURCES = sources()
