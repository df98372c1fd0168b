"""Context tables, mostly by LA name (matched after normalising case, '&'/'and', punctuation and ', City
of', to the LA in operation on the table's date: Dorset 835 before April 2019, 838 after; a name matching
no LA is an error naming file, column and year, never dropped). DfE's SEND & AP dashboard:
``dashboard_ofsted`` (special schools with an Ofsted grade at 31 August of ``Year``, 2019 -> "201819"; an
LA listed that Year without a type has none of it, so LAs add up to England), ``dashboard_ks2`` (KS2 RWM
by SEN group, from the counts), ``dashboard_pct_pupils``; the census's ``census_school_xlsx`` and
``sen_la_totals_xlsx`` (docs/DATA_LOG.md, "Special schools").
"""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd

from inclusion_index.errors import SchemaError, UnknownLACodeError
from inclusion_index.sources.geography import (
    NATIONAL_CODE,
    LAReference,
    january_of,
    load_la_reference,
    year_key,
)
from inclusion_index.sources.loaders.base import (
    LoadContext,
    census_year,
    check_levels,
    check_year_keys,
    family,
    first_row,
    long_frame,
    parse_values,
    read_csv,
    read_sheet_columns,
    school_rows,
)

NO_ROW = "no row in source for this group"
ZERO_DENOMINATOR = "no eligible pupils (denominator 0)"


def normalise_la_name(name: str) -> str:
    """A matching key for LA names as written by different DfE tables."""
    s = str(name).lower().replace("&", " and ")
    s = re.sub(r"[.'’]", "", s)
    s = s.replace("-", " ")
    s = re.sub(r",\s*(city|county) of\s*$", "", s)  # "Bristol, City of" -> "bristol"
    s = re.sub(r"^(city|county) of (?!london)", "", s)  # "City of Bristol" -> "bristol"
    s = s.replace(",", " ")
    return re.sub(r"\s+", " ", s).strip()


def match_la_names(names: pd.Series, when: date, ref: LAReference, *, file: str, column: str,
                   year: str) -> pd.Series:
    """3-digit DfE codes for LA names, choosing the LA in operation on ``when``.

    Raises UnknownLACodeError naming file, column and year for a name that matches no LA,
    or matches several LAs none (or more than one) of which was in operation on ``when``.
    """
    t = ref.table.copy()
    t["key"] = t["la_name"].map(normalise_la_name)
    ts = pd.Timestamp(when)
    t["live"] = (t["start"] <= ts) & (t["end"].isna() | (t["end"] >= ts))
    out: dict[str, str] = {}
    for name in pd.unique(names.astype("string")):
        cands = t[t["key"] == normalise_la_name(name)]
        codes = sorted(set(cands["la_code"]))
        live_codes = sorted(set(cands.loc[cands["live"], "la_code"]))
        if len(live_codes) == 1:
            out[name] = live_codes[0]
        elif not live_codes and len(codes) == 1:
            out[name] = codes[0]  # an LA reported just after it ended keeps its own code
        else:
            problem = (f"LA name {name!r} matches no LA in the LA reference" if not codes else
                       f"LA name {name!r} matches several LAs {codes}, not one in operation on {when}")
            raise UnknownLACodeError(file, problem, column=column, year=year,
                                     expected="a name in la_lookup/las.csv (case, '&', 'St.' and "
                                     "', City of' are normalised)")
    return names.astype("string").map(out)


# --- special schools (Ofsted) -------------------------------------------------------------

_OFSTED_COLUMNS = ["Year", "school_type", "Overall effectiveness", "grand_total_schools",
                   "geographic_level", "la_name", "Measure", "Value"]
_OFSTED_TYPES = {
    "State-funded special school": "ofsted_state_special_schools",
    "Non-maintained special school": "ofsted_nmss_schools"}
_COUNT_MEASURE = "Overall effectiveness (number of schools)"


def load_special_schools(ctx: LoadContext, sid: str = "special_schools_ofsted") -> pd.DataFrame:
    file, raw = _read_table(ctx, sid, _OFSTED_COLUMNS, "Year", calendar=True)
    if (r := first_row(raw, ~raw["Year"].str.fullmatch(r"20\d\d"))) is not None:
        raise SchemaError(file, f"unrecognised Year {r['Year']!r}", column="Year",
                          expected="a calendar year YYYY (inspections as at 31 August)")
    # 31 August of Year is the last day of the academic year that started the year before.
    raw["year"] = raw["Year"].astype(int).map(lambda y: year_key(y - 1))
    df = raw[(raw["Measure"] == _COUNT_MEASURE) & raw["school_type"].isin(list(_OFSTED_TYPES))].copy()
    for y, part in raw.groupby("year"):
        found = set(part.loc[part["Measure"] == _COUNT_MEASURE, "school_type"])
        if not set(_OFSTED_TYPES) <= found:
            raise SchemaError(file, f"no {_COUNT_MEASURE!r} rows for {sorted(set(_OFSTED_TYPES) - found)}",
                              column="school_type", year=str(y), expected=f"rows for {sorted(_OFSTED_TYPES)}")
    geo = df["geographic_level"]
    check_levels(geo, file)
    df = df[geo != "Regional"].copy()
    df["count"], df["count_why"] = parse_values(df, "grand_total_schools", file, year_column="year", count=True)
    df["by_grade"], _ = parse_values(df, "Value", file, year_column="year")

    keys = ["year", "school_type", "geographic_level", "la_name"]
    g = df.groupby(keys, sort=False)
    per = g.agg(count=("count", "first"), n_counts=("count", "nunique"),
                by_grade=("by_grade", "sum"), count_why=("count_why", "first")).reset_index()
    if (r := first_row(per, per["n_counts"] > 1)) is not None:
        raise SchemaError(file, f"grand_total_schools differs between grade rows for {r['la_name'] or 'England'}",
                          column="grand_total_schools", year=r["year"], expected="one total per LA and type")
    if (r := first_row(per, per["count"].notna() & (per["count"] != per["by_grade"]))) is not None:
        raise SchemaError(file, f"grand_total_schools {r['count']:g} but grades add up to {r['by_grade']:g} "
                          f"for {r['la_name'] or 'England'}, {r['school_type']}",
                          column="grand_total_schools", year=r["year"], expected="the sum over grades")

    ref = load_la_reference(ctx.data_dir)
    areas = []
    for y, part in raw.groupby("year", sort=True):
        names = sorted(set(part.loc[part["geographic_level"] == "Local authority", "la_name"]))
        codes = match_la_names(pd.Series(names, dtype="string"), date(int(y[:4]) + 1, 8, 31), ref, file=file,
                               column="la_name", year=str(y))
        areas.append(pd.DataFrame({"geographic_level": ["National", *["Local authority"] * len(names)],
                                   "la_name": ["", *names], "la_code": [NATIONAL_CODE, *codes], "year": y}))
    grid = pd.concat(areas, ignore_index=True).merge(pd.DataFrame({"school_type": list(_OFSTED_TYPES)}), how="cross")
    full = grid.merge(per, on=["year", "school_type", "geographic_level", "la_name"], how="left")
    full.loc[full["count"].isna() & full["count_why"].isna(), "count"] = 0.0  # no row: no graded school of the type
    is_nat = full["geographic_level"] == "National"
    return _check_unique(long_frame(
        level=pd.Series(np.where(is_nat, "national", "la"), index=full.index), la_code=full["la_code"],
        la_name=full["la_name"].where(~is_nat, "England"), year=full["year"],
        measure=full["school_type"].map(_OFSTED_TYPES), value=full["count"],
        missing_reason=full["count_why"].astype("string"), source=sid), file)


# --- KS2 by SEN (dashboard) ---------------------------------------------------------------

_KS2_COLUMNS = ["time_period", "geographic_level", "la_name", "characteristic",
                "t_rwm_met_expected_standard", "t_rwm_eligible_pupils"]
_KS2_GROUPS = {"EHC plan": "ehcp", "SEN support": "sen_support", "No SEN": "no_sen", "All SEN": "all_send"}


def load_ks2_dashboard(ctx: LoadContext, sid: str = "ks2_sen_dashboard") -> pd.DataFrame:
    file, raw = _read_table(ctx, sid, _KS2_COLUMNS, "time_period")
    check_year_keys(raw, file)
    unknown = ~raw["characteristic"].isin(list(_KS2_GROUPS))
    if (r := first_row(raw, unknown)) is not None:
        raise SchemaError(file, f"unknown characteristic {r['characteristic']!r}", column="characteristic",
                          year=r["time_period"], expected=f"one of {sorted(_KS2_GROUPS)}")
    geo = raw["geographic_level"]
    check_levels(geo, file)
    df = raw[geo != "Regional"].copy()  # regions mix 'London' with Inner/Outer London
    num, num_why = parse_values(df, "t_rwm_met_expected_standard", file, year_column="time_period", count=True)
    den, den_why = parse_values(df, "t_rwm_eligible_pupils", file, year_column="time_period", count=True)
    df["num"], df["den"] = num, den
    df["why"] = num_why.fillna(den_why)
    df.loc[df["why"].isna() & (df["den"] == 0), "why"] = ZERO_DENOMINATOR
    df["value"] = 100 * df["num"] / df["den"].where(df["den"] != 0)
    df["group"] = df["characteristic"].map(_KS2_GROUPS)

    ref = load_la_reference(ctx.data_dir)
    df = df.sort_values("time_period", kind="stable")
    is_la = df["geographic_level"] == "Local authority"
    df["la_code"] = NATIONAL_CODE
    for y, part in df[is_la].groupby("time_period"):
        # the revised KS2 release uses the LAs in operation at the end of the academic year
        df.loc[part.index, "la_code"] = match_la_names(part["la_name"], date(int(y[:4]) + 1, 8, 31), ref, file=file,
                                                       column="la_name", year=str(y)).to_numpy()
    df["level"] = np.where(is_la, "la", "national")
    df.loc[~is_la, "la_name"] = "England"
    keys = ["time_period", "level", "la_code"]
    if (r := first_row(df, df.duplicated([*keys, "group"], keep=False))) is not None:
        raise SchemaError(file, f"several rows for {r['la_name']}, {r['characteristic']}", column="la_name",
                          year=r["time_period"], expected="one row per LA and SEN group")
    grid = df[[*keys, "la_name"]].drop_duplicates(keys).merge(pd.DataFrame({"group": list(_KS2_GROUPS.values())}),
                                                              how="cross")
    full = grid.merge(df.drop(columns=["la_name", "level"]), on=["time_period", "la_code", "group"], how="left",
                      indicator=True)
    why = full["why"].astype("string").where(full["_merge"] == "both", NO_ROW)
    return _check_unique(long_frame(
        level=full["level"], la_code=full["la_code"], la_name=full["la_name"], year=full["time_period"],
        measure="ks2dash_rwm_exp_" + full["group"], value=full["value"], numerator=full["num"],
        denominator=full["den"], missing_reason=why.where(full["value"].isna()), source=sid), file)


# --- special schools counted in the school-level census ------------------------------------

_CENSUS_SHEET = "england"
_CENSUS_COLUMNS = ["URN", "LA", "SCHOOLTYPE"]
_CENSUS_TYPES = {
    "State-funded special school": "census_state_special_schools",
    "Non-maintained special school": "census_nmss_schools"}
# Every other type in the file; a type not listed anywhere is an error rather than schools
# silently left out of (or a renamed special type missing from) the counts.
_CENSUS_OTHER_TYPES = {"State-funded primary", "State-funded secondary", "State-funded nursery",
                       "State-funded AP school", "Independent school"}


def load_census_special_schools(ctx: LoadContext, sid: str = "school_census_202324") -> pd.DataFrame:
    """Format ``census_school_xlsx``: state-funded and non-maintained special schools per LA."""
    src = ctx.source(sid)
    file, year = src.path, census_year(src)
    raw = read_sheet_columns(ctx.path(sid), file, year, _CENSUS_SHEET, _CENSUS_COLUMNS)
    df = school_rows(raw, file, year, [*_CENSUS_TYPES, *_CENSUS_OTHER_TYPES], "loaders/context.py")
    # Every LA with a school of any type is listed; one with no special school counts 0, so
    # the LA rows add up to England exactly.
    las = sorted(set(df["la_code"]))
    counts = (df[df["SCHOOLTYPE"].isin(list(_CENSUS_TYPES))].groupby(["la_code", "SCHOOLTYPE"]).size()
              .unstack(fill_value=0).reindex(index=las, columns=list(_CENSUS_TYPES), fill_value=0))
    names = load_la_reference(ctx.data_dir).names()
    frames = []
    for school_type, measure in _CENSUS_TYPES.items():
        la = counts[school_type].astype("float64")
        frames.append(long_frame(
            level=pd.Series(["national", *["la"] * len(las)]),
            la_code=pd.Series([NATIONAL_CODE, *las]),
            la_name=pd.Series(["England", *[names.get(c, "") for c in las]]),
            year=year, measure=measure, value=pd.Series([la.sum(), *la.to_numpy()]), source=sid))
    return pd.concat(frames, ignore_index=True)


# --- % of pupils with an EHC plan / on SEN support (dashboard, two decimals) ----------------

_PCT_COLUMNS = ["time_period", "geographic_level", "la_name", "new_la_code", "SEN provision", "% of pupils"]
_PCT_GROUPS = {"EHC plan": "dash_ehcp_pct_pupils", "SEN support": "dash_sen_support_pct_pupils"}


def load_dashboard_pct_pupils(ctx: LoadContext, sid: str = "dashboard_pct_pupils_ehcp") -> pd.DataFrame:
    """Format ``dashboard_pct_pupils``: DfE's two-decimal % of all pupils with an EHC plan and on
    SEN support per LA and January (``time_period`` '201819.0' = January 2019). LAs are mapped by
    ``new_la_code`` where the LA list gives it one old code, else by name on the census date."""
    file, raw = _read_table(ctx, sid, _PCT_COLUMNS, "time_period")
    raw["time_period"] = raw["time_period"].str.replace(r"\.0$", "", regex=True)
    check_year_keys(raw, file)
    check_levels(raw["geographic_level"], file)
    df = raw[raw["geographic_level"] != "Regional"].copy()
    unknown = ~df["SEN provision"].isin(list(_PCT_GROUPS))
    if (r := first_row(df, unknown)) is not None:
        raise SchemaError(file, f"unknown SEN provision {r['SEN provision']!r}", column="SEN provision",
                          year=r["time_period"], expected=f"one of {sorted(_PCT_GROUPS)}")
    df["value"], df["why"] = parse_values(df, "% of pupils", file, year_column="time_period")
    ref = load_la_reference(ctx.data_dir)
    codes = ref.table.groupby("ons_code")["la_code"].unique()
    one = codes[codes.map(len) == 1].map(lambda c: c[0])
    is_la = df["geographic_level"] == "Local authority"
    df["la_code"] = df["new_la_code"].map(one).where(is_la, NATIONAL_CODE)
    for y, part in df[is_la & df["la_code"].isna()].groupby("time_period"):
        df.loc[part.index, "la_code"] = match_la_names(part["la_name"], january_of(str(y)), ref, file=file,
                                                       column="la_name", year=str(y)).to_numpy()
    return _check_unique(long_frame(
        level=pd.Series(np.where(is_la, "la", "national"), index=df.index), la_code=df["la_code"],
        la_name=df["la_name"].where(is_la, "England"), year=df["time_period"],
        measure=df["SEN provision"].map(_PCT_GROUPS), value=df["value"], missing_reason=df["why"], source=sid), file)


_TOTALS = {"ehc_plan": "la_ehcp_pupils_all", "sen_support": "la_sen_support_pupils_all",
           "total_pupils": "la_pupils_all"}


def load_sen_la_totals(ctx: LoadContext, sid: str) -> pd.DataFrame:
    """Format ``sen_la_totals_xlsx``: one row per LA by name (sheet ``Sheet1``), one January."""
    src = ctx.source(sid)
    file, year = src.path, census_year(src)
    df = read_sheet_columns(ctx.path(sid), file, year, "Sheet1", ["la_name", *_TOTALS])
    codes = match_la_names(df["la_name"], january_of(year), load_la_reference(ctx.data_dir), file=file,
                           column="la_name", year=year)
    frames = []
    for col, measure in _TOTALS.items():
        v, why = parse_values(df.assign(year=year), col, file, year_column="year", count=True)
        frames.append(long_frame(
            level=pd.Series(["national", *["la"] * len(df)]), la_code=pd.Series([NATIONAL_CODE, *codes]),
            la_name=pd.Series(["England", *df["la_name"]]), year=year, measure=measure,
            value=pd.Series([v.sum(min_count=len(v)), *v]), missing_reason=pd.Series([pd.NA, *why], dtype="string"),
            source=sid))
    return _check_unique(pd.concat(frames, ignore_index=True), file)


def _read_table(ctx: LoadContext, sid: str, columns: list[str], year_column: str, *,
                calendar: bool = False) -> tuple[str, pd.DataFrame]:
    """A dashboard CSV with ``columns`` stripped; a lost column names the academic years the file covers."""
    def covered(raw: pd.DataFrame) -> str | None:
        if year_column not in raw.columns:
            return None
        return ", ".join(year_key(int(v) - 1) if calendar and v.isdigit() else v
                         for v in sorted(set(raw[year_column].str.strip())))

    raw = read_csv(ctx, sid, required=columns, year=covered)
    return ctx.source(sid).path, raw.assign(**{c: raw[c].str.strip() for c in columns})


def _check_unique(out: pd.DataFrame, file: str) -> pd.DataFrame:
    """``out``, refused if two names normalised to the same LA (they would give duplicate rows)."""
    if (r := first_row(out, out.duplicated(["level", "la_code", "year", "measure"], keep=False))) is not None:
        raise SchemaError(file, f"two rows map to LA {r['la_code']} ({r['la_name']}) for {r['measure']}",
                          column="la_name", year=r["year"], expected="one row per LA, year and measure")
    return out


FORMATS = {"dashboard_ofsted": load_special_schools, "dashboard_ks2": load_ks2_dashboard,
           "census_school_xlsx": load_census_special_schools, "dashboard_pct_pupils": load_dashboard_pct_pupils,
           "sen_la_totals_xlsx": load_sen_la_totals}


# LA names are matched through the LA list, so a new one must invalidate the cache
sources, load = family("context", FORMATS, also=("la_list_dfe",))
SOURCES = sources()
