"""EHC plans (SEN2 return): where plans are held (placement) and SEMH primary need, from DfE's
releases in three formats (``caseload_ees2022``, ``caseload_ees2025``, ``needs_ees2025``); the latest
release wins for every year it covers. Shares are over all plans from the counts, except
``*_pct_recorded``, over the plans whose placement is recorded (docs/METHOD.md); DfE's rounded ``*_pc``
are only ``*_pct_published``. The families: data/registry/measures/sen2.csv and docs/DATA_LOG.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from inclusion_index.errors import SchemaError
from inclusion_index.sources.geography import NATIONAL_CODE, year_key
from inclusion_index.sources.loaders.base import (
    LoadContext,
    check_la_codes,
    check_year_keys,
    family,
    first_row,
    la_code3,
    long_frame,
    parse_values,
    read_csv,
    require_columns,
)

_LEVELS = {"National": "national", "Regional": "regional", "Local authority": "la"}
_KEYS = ["level", "la_code", "la_name", "year"]
_ALL_PLANS = "All EHC plans"
ZERO_DENOMINATOR = "no EHC plans (zero denominator)"
PLACEMENT_X = "placement split not published for this LA and year (x); total plans given"
ROW_MISSING = "no row in source for this establishment type"

# ---------------------------------------------------------------------------------------
# 2022 release: (establishment_group, establishment_type) -> placement families.
#
# State-funded special = LA maintained special, special academies and special free schools
# (published separately 2012–2016, as "Special - Academy/free" from 2017) and hospital
# schools. Hospital schools are counted because the 2025 release folds them into its
# `special_la_maintained` column (Jan 2019: 83,934 LA maintained + 99 hospital = 84,033 in
# the 2025 file), so including them keeps the two vintages on one definition; they are
# state-funded and only ~100–180 plans nationally.
# Independent / non-maintained = non-maintained special, independent special and mainstream
# independent schools: the original index counted independent mainstream too, because it
# shows families finding alternatives to state provision. Post-16 "Independent specialist
# providers" / "Specialist post-16 institutions" are FE colleges, not schools, so they are
# left out (as the 2025 release keeps them under FE).
# State mainstream = LA maintained, academy and free schools including their resourced
# provision and SEN units (units are part of a mainstream school), but not independent.
_STATE_SPECIAL_2022 = [("Special school", f"Special - {t}") for t in (
    "LA maintained", "Academy", "Free school", "Academy/free")] + [("Special school", "Hospital School")]
_INDEP_NMSS_2022 = [("Special school", "Special - Non-maintained"), ("Special school", "Special - Independent"),
                    ("Mainstream school", "Mainstream - Independent")]
_STATE_MAINSTREAM_2022 = [("Mainstream school", f"Mainstream - {t}") for t in (
    "LA maintained", "LA maintained - Resourced provision", "LA maintained - SEN unit", "Academy",
    "Academy - Resourced Provision", "Academy - SEN unit", "Free school", "Free school - Resourced provision",
    "Free school - SEN unit")]
_AP_GROUP = "Alternative provision/Pupil referral unit"
_AP_PRU_2022 = [(_AP_GROUP, f"AP/PRU - {t}") for t in ("LA maintained", "Academy", "Free school")]
# No school place = Educated elsewhere + NEET + Other: every plan not in a school, college or
# early-years setting (docs/DATA_LOG.md, "SEN2 alternative provision and 'no school place'", has
# the types by year; NEET and Other are rows from January 2019, so the series steps up there).
_EDUCATED_ELSEWHERE = "Educated elsewhere"
_NO_SCHOOL_PLACE_2022 = [(_EDUCATED_ELSEWHERE, t) for t in (
    "Awaiting provision - total", *(f"Awaiting provision - {age} and {edu}" for age in (
        "above compulsory school age", "below compulsory school age", "compulsory school age")
        for edu in ("in education", "not in education")),
    "Elective home education", "Other arrangements by local authority", "Other arrangements by parents",
    "Permanently excluded")] + [("NEET", "NEET"), ("Other", "Other")]
_TOTAL_2022 = [("Total", "Total")]
# Types in the groups we split must all be classified: a type DfE adds later would
# otherwise fall silently out of (or into) a placement share.
_CLASSIFIED_GROUPS = {"Special school", "Mainstream school", _AP_GROUP, _EDUCATED_ELSEWHERE, "NEET", "Other"}
_GROUP_SUBTOTAL = "Total"
_FAMILIES = ("total", "state_special", "indep_nmss", "state_mainstream", "ap_pru", "no_school_place",
             "placement_unknown")

# 2025 release: one column per placement; same families as above (hospital schools are
# inside special_la_maintained there).
_STATE_SPECIAL_2025 = ["special_la_maintained", "special_academy_free"]
_INDEP_NMSS_2025 = ["special_non_maintained", "special_independent", "mainstream_independent"]
_STATE_MAINSTREAM_2025 = [f"mainstream_{k}{part}" for k in ("la_maintained", "academy", "free_school")
                          for part in ("", "_resourced_provision", "_senunit")]
_AP_PRU_2025 = ["ap_pru_la_maintained", "ap_pru_academy", "ap_pru_free_school"]
# The same "no school place" as the 2022 release, column for type for January 2019-2022 (DATA_LOG
# has the columns added since). Left out: w_settings and other_schools (school places DfE files under
# "educated elsewhere"), placement_unknown, and DfE's ed_elsewhere total, not the sum of its parts.
_NO_SCHOOL_PLACE_2025 = [
    "elective_home_education", "other_arrangements_la", "other_arrangements_parents",
    "online_provider", "other_placement_settings", "await_prov_2022", "perm_ex_2022",
    "neet", "neet_ntci", "neet_other", "neet_other_csa",
]
_TOTAL_2025 = ["ehcplans"]

_GEO_COLUMNS = ["time_period", "time_identifier", "geographic_level", "region_code", "old_la_code",
                "la_name"]


# --------------------------------------------------------------------------- shared helpers

def _span(df: pd.DataFrame) -> str | None:
    """Years a file covers, for messages about a column missing from all of them."""
    if "time_period" not in df.columns:
        return None
    tp = sorted(df["time_period"].str.strip().unique())
    return tp[0] if len(tp) == 1 else f"{tp[0]}-{tp[-1]}"


def _with_keys(df: pd.DataFrame, file: str) -> pd.DataFrame:
    """``df`` with level / la_code / la_name for EES rows (England, region, LA)."""
    level = df["geographic_level"].str.strip().map(_LEVELS)
    if (r := first_row(df, level.isna())) is not None:
        raise SchemaError(file, f"unknown geographic_level {r['geographic_level']!r}", column="geographic_level",
                          year=str(r["time_period"]), expected=f"one of {list(_LEVELS)}")
    code = la_code3(df["old_la_code"])
    code = code.where(level != "regional", df["region_code"].str.strip())
    code = code.where(level != "national", NATIONAL_CODE)
    name = df["la_name"].str.strip()
    name = name.where(level != "regional", df["region_name"].str.strip() if "region_name" in df else name)
    name = name.where(level != "national", "England")
    check_la_codes(df.assign(la_code=code), level.eq("la"), file)
    return pd.concat([df.drop(columns=["la_name"]),
                      pd.DataFrame({"level": level, "la_code": code, "la_name": name}, index=df.index)], axis=1)


def _check_time(df: pd.DataFrame, file: str, identifier: str) -> None:
    ident = df["time_identifier"].str.strip()
    if (r := first_row(df, ~ident.eq(identifier))) is not None:
        raise SchemaError(file, f"unexpected time_identifier {r['time_identifier']!r}",
                          column="time_identifier", year=str(r["time_period"]),
                          expected=f"{identifier!r} on every row")


def _sum_components(values: pd.DataFrame, reasons: pd.DataFrame, cols: list[str]
                    ) -> tuple[pd.Series, pd.Series]:
    """Sum placement columns; unknown if any part is unknown (with that part's reason)."""
    v = values[cols].sum(axis=1, min_count=len(cols))  # NaN unless every part is known
    r = reasons[cols[0]]
    for c in cols[1:]:  # the first part's reason that is known (a row-wise bfill, without transposing)
        r = r.fillna(reasons[c])
    r = r.astype("string")
    return v, r.where(v.isna())


def _percent(num: pd.Series, num_reason: pd.Series, den: pd.Series, den_reason: pd.Series
             ) -> tuple[pd.Series, pd.Series]:
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = (100.0 * num / den).where(den > 0)
    reason = num_reason.fillna(den_reason).astype("string")
    reason = reason.mask(reason.isna() & den.eq(0), ZERO_DENOMINATOR)
    return pct, reason.where(pct.isna())


def _placement_measures(keys: pd.DataFrame, values: pd.DataFrame, reasons: pd.DataFrame,
                        families: dict[str, list[str]], source: str) -> pd.DataFrame:
    """Counts and shares for one release, from placement columns grouped into families (_FAMILIES)."""
    fam = {k: _sum_components(values, reasons, cols) for k, cols in families.items()}
    total, total_r = fam["total"]
    # "Not recorded" (2025 release, from January 2023; 0 before: every plan had a placement). The
    # index's placement shares leave it out of the denominator (methods' placement.recorded_only).
    unknown, unknown_r = fam["placement_unknown"]
    recorded, recorded_r = total - unknown, total_r.fillna(unknown_r)
    frames = []

    def add(measure: str, value, reason, num=None, den=None) -> None:
        frames.append(long_frame(level=keys["level"], la_code=keys["la_code"], la_name=keys["la_name"],
                                 year=keys["year"], measure="sen2_ehcp_" + measure, value=value,
                                 missing_reason=reason, numerator=num, denominator=den, source=source))

    for k in ("total", "state_special", "indep_nmss", "ap_pru", "no_school_place", "placement_unknown"):
        add(k, *fam[k])
    for k in ("state_special", "indep_nmss", "state_mainstream", "ap_pru", "no_school_place", "placement_unknown"):
        add(("mainstream" if k == "state_mainstream" else k) + "_pct",
            *_percent(*fam[k], total, total_r), num=fam[k][0], den=total)
    for k in ("state_special", "indep_nmss"):
        add(k + "_pct_recorded", *_percent(*fam[k], recorded, recorded_r), num=fam[k][0], den=recorded)
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- 2022 release

def load_caseload_2022(ctx: LoadContext, sid: str = "sen2_caseload_2022") -> pd.DataFrame:
    """All measures from a release in the 2022 layout (format ``caseload_ees2022``), every
    year it has (January 2010–2022 in the 2022 release)."""
    file = ctx.source(sid).path
    df = read_csv(ctx, sid, required=[*_GEO_COLUMNS, "region_name", "establishment_group", "establishment_type",
                                      "Total_all"], year=_span)
    _check_time(df, file, "Calendar year")
    tp = df["time_period"].str.strip()
    if (bad := first_row(tp, ~tp.str.fullmatch(r"\d{4}"))) is not None:
        raise SchemaError(file, f"unexpected time_period {bad!r}", column="time_period", year=bad,
                          expected="a 4-digit calendar year naming the January count (e.g. 2019)")
    # January 2019 belongs to academic year 2018/19.
    df["year"] = tp.astype(int).sub(1).map(year_key)
    df["group"] = df["establishment_group"].str.strip()
    df["type"] = df["establishment_type"].str.strip()

    known = {t for fam in (_STATE_SPECIAL_2022, _INDEP_NMSS_2022, _STATE_MAINSTREAM_2022, _AP_PRU_2022,
                           _NO_SCHOOL_PLACE_2022) for t in fam} | {(g, _GROUP_SUBTOTAL) for g in _CLASSIFIED_GROUPS}
    pairs = set(zip(df["group"], df["type"], strict=True))
    if unclassified := sorted(p for p in pairs if p[0] in _CLASSIFIED_GROUPS and p not in known):
        g, t = unclassified[0]
        yr = df.loc[(df["group"] == g) & (df["type"] == t), "time_period"].iloc[0]
        raise SchemaError(file, f"establishment type {t!r} in group {g!r} is not classified",
                          column="establishment_type", year=str(yr),
                          expected="a known placement type; classify it in loaders/sen2.py")
    if _TOTAL_2022[0] not in pairs:
        raise SchemaError(file, "no Total/Total rows", column="establishment_type",
                          expected="establishment_group == establishment_type == 'Total' per area")

    values, reasons = parse_values(df, "Total_all", file, year_column="time_period", count=True)
    df = _with_keys(df, file)
    df["value"], df["reason"] = values, reasons
    df["pair"] = df["group"] + "|" + df["type"]
    if (r := first_row(df, df.duplicated([*_KEYS[:2], "year", "pair"], keep=False))) is not None:
        raise SchemaError(file, f"{r['la_name']} has more than one {r['pair']!r} row",
                          column="establishment_type", year=str(r["time_period"]),
                          expected="one row per area, year and establishment type")

    def wide(col: str) -> pd.DataFrame:
        return df.pivot(index=["level", "la_code", "year"], columns="pair", values=col)

    vals, why = wide("value"), wide("reason").astype("string")
    # A type absent for every area of a year was not collected separately that year (e.g.
    # "Special - Academy/free" before 2017): its plans sit under other types, so it adds 0.
    # A type present for some areas but not others would be a gap: left unknown, with a reason.
    present = df.groupby("year")["pair"].agg(set)
    years = vals.index.get_level_values("year")
    for pair in vals.columns:
        collected = years.map(lambda y, p=pair: p in present[y])
        absent = vals[pair].isna() & why[pair].isna()
        vals.loc[absent & ~collected, pair] = 0.0
        why.loc[absent & collected, pair] = ROW_MISSING

    def cols(fam: list[tuple[str, str]]) -> list[str]:
        out = [f"{g}|{t}" for g, t in fam]
        for c in out:
            if c not in vals.columns:
                vals[c], why[c] = 0.0, pd.NA
        return out

    vals["unknown"], why["unknown"] = 0.0, pd.NA  # no "not recorded" category in this layout
    families = dict(zip(_FAMILIES, [*map(cols, (_TOTAL_2022, _STATE_SPECIAL_2022, _INDEP_NMSS_2022,
                                                 _STATE_MAINSTREAM_2022, _AP_PRU_2022, _NO_SCHOOL_PLACE_2022)),
                                     ["unknown"]], strict=True))
    names = df.drop_duplicates(["level", "la_code", "year"]).set_index(["level", "la_code", "year"])["la_name"]
    keys = vals.index.to_frame(index=False)
    keys["la_name"] = names.reindex(vals.index).to_numpy()
    vals, why = vals.reset_index(drop=True), why.reset_index(drop=True)
    return _placement_measures(keys, vals, why, families, sid)


# --------------------------------------------------------------------------- 2025 release

def _all_plans_rows(df: pd.DataFrame, file: str) -> pd.DataFrame:
    """The totals rows of a 2025-layout release, one per area and academic year, with its keys."""
    require_columns(df, ["breakdown_topic", "breakdown"], file, _span(df))
    rows = df[df["breakdown_topic"].str.strip().eq(_ALL_PLANS) & df["breakdown"].str.strip().eq(_ALL_PLANS)].copy()
    if rows.empty:
        raise SchemaError(file, f"no {_ALL_PLANS!r} rows", column="breakdown_topic",
                          expected=f"breakdown_topic == breakdown == {_ALL_PLANS!r} for totals")
    _check_time(rows, file, "Academic year")
    rows["year"] = check_year_keys(rows, file)
    rows = _with_keys(rows, file).reset_index(drop=True)
    if (r := first_row(rows, rows.duplicated(["level", "la_code", "year"], keep=False))) is not None:
        raise SchemaError(file, f"more than one {_ALL_PLANS!r} row for {r['la_name']}",
                          column="old_la_code", year=r["year"], expected="one row per area and year")
    return rows


def _uncollected(df: pd.DataFrame, columns: list[str]) -> dict[str, set[str]]:
    """Per column, the years in which DfE did not collect it: ``x`` on every row of that year
    (England, regions, LAs, every breakdown), e.g. ``await_prov_2022`` from 2022/23 or
    ``online_provider`` before 2024/25. Such a column adds 0 to a family that year. An ``x``
    on only some rows is a withheld value and stays unknown."""
    all_x = df[columns].apply(lambda s: s.str.strip().eq("x")).groupby(df["time_period"].str.strip()).all()
    return {c: {str(y) for y in all_x.index[all_x[c]]} for c in columns if all_x[c].any()}


def load_caseload_2025(ctx: LoadContext, sid: str = "sen2_caseload_2025") -> pd.DataFrame:
    """All measures from a release in the 2025 layout (format ``caseload_ees2025``), every
    year it has (January 2019–2025 in the 2025 release)."""
    file = ctx.source(sid).path
    placement = [*_TOTAL_2025, *_STATE_SPECIAL_2025, *_INDEP_NMSS_2025, *_STATE_MAINSTREAM_2025,
                 *_AP_PRU_2025, *_NO_SCHOOL_PLACE_2025, "placement_unknown"]
    df = read_csv(ctx, sid, required=[*_GEO_COLUMNS, "region_name", *placement, "mainstream_total", "ap_pru_total",
                                      "special_total_pc", "placement_unknown_pc"], year=_span)
    uncollected = _uncollected(df, [*_NO_SCHOOL_PLACE_2025, "placement_unknown"])
    df = _all_plans_rows(df, file)
    vals, why = {}, {}
    for c in [*placement, "mainstream_total", "ap_pru_total"]:
        # x here means DfE could not publish the placement split for that LA-year (e.g.
        # Peterborough and Hackney Jan 2024); the total is still given.
        vals[c], why[c] = parse_values(df, c, file, year_column="year", count=True)
    vals, why = pd.DataFrame(vals), pd.DataFrame(why).astype("string")
    for c, years in uncollected.items():
        off = df["year"].isin(years)
        vals.loc[off, c], why.loc[off, c] = 0.0, pd.NA
    split = [c for c in why.columns if c not in _TOTAL_2025]
    why[split] = why[split].replace("not available (x)", PLACEMENT_X)
    # State mainstream = mainstream_total − mainstream_independent rather than the sum of its
    # nine parts: DfE blanks tiny parts with x while still publishing the total (Northamptonshire
    # Jan 2021: free-school units x, total 1,475), and where every part is published the two
    # agree exactly, which is checked here so a change of meaning cannot pass unnoticed.
    parts, _ = _sum_components(vals, why, _STATE_MAINSTREAM_2025)
    state_main, state_main_r = _sum_components(
        vals.assign(neg_indep=-vals["mainstream_independent"]),
        why.assign(neg_indep=why["mainstream_independent"]), ["mainstream_total", "neg_indep"])
    off = parts.notna() & state_main.notna() & (parts - state_main).abs().gt(0.5)
    if (r := first_row(df, off)) is not None:
        raise SchemaError(file, f"state mainstream parts add up to {parts[off].iloc[0]:g} but "
                          f"mainstream_total − mainstream_independent = {state_main[off].iloc[0]:g} "
                          f"({r['la_name']})", column="mainstream_total", year=r["year"],
                          expected="mainstream_total = the nine state mainstream columns + independent")
    vals["state_mainstream"] = state_main.fillna(parts)
    why["state_mainstream"] = state_main_r.where(vals["state_mainstream"].isna())
    # AP is summed from its three columns; ap_pru_total must agree wherever both are published.
    ap, _ = _sum_components(vals, why, _AP_PRU_2025)
    off = ap.notna() & vals["ap_pru_total"].notna() & (ap - vals["ap_pru_total"]).abs().gt(0.5)
    if (r := first_row(df, off)) is not None:
        raise SchemaError(file, f"AP/PRU columns add up to {ap[off].iloc[0]:g} but ap_pru_total is "
                          f"{vals.loc[off, 'ap_pru_total'].iloc[0]:g} ({r['la_name']})", column="ap_pru_total",
                          year=r["year"], expected="ap_pru_total = " + " + ".join(_AP_PRU_2025))
    families = dict(zip(_FAMILIES, (_TOTAL_2025, _STATE_SPECIAL_2025, _INDEP_NMSS_2025, ["state_mainstream"],
                                    _AP_PRU_2025, _NO_SCHOOL_PLACE_2025, ["placement_unknown"]), strict=True))
    # DfE's own one-decimal shares of all plans, for naming beside the index's figures (never scored)
    published = []
    for m, c in (("special_any", "special_total_pc"), ("placement_unknown", "placement_unknown_pc")):
        pc, pc_r = parse_values(df, c, file, year_column="year")
        published.append(long_frame(level=df["level"], la_code=df["la_code"], la_name=df["la_name"], year=df["year"],
                                    measure=f"sen2_ehcp_{m}_pct_published", value=pc, missing_reason=pc_r, source=sid))
    return pd.concat([_placement_measures(df[_KEYS], vals, why, families, sid), *published], ignore_index=True)


def load_needs_2025(ctx: LoadContext, sid: str = "sen2_needs_2025") -> pd.DataFrame:
    """% of EHC plans whose primary need is SEMH (format ``needs_ees2025``; January 2025 in
    the 2025 release, the only LA-level SEMH data)."""
    file = ctx.source(sid).path
    df = read_csv(ctx, sid, required=[*_GEO_COLUMNS, "region_name", "ehc_plans", "number_semh"], year=_span)
    df = _all_plans_rows(df, file)
    num, num_r = parse_values(df, "number_semh", file, year_column="year", count=True)
    den, den_r = parse_values(df, "ehc_plans", file, year_column="year", count=True)
    # Computed from the counts: DfE's semh_pc is rounded to one decimal place.
    pct, pct_r = _percent(num, num_r, den, den_r)
    return long_frame(level=df["level"], la_code=df["la_code"], la_name=df["la_name"], year=df["year"],
                      measure="sen2_semh_pct_ehcp", value=pct, missing_reason=pct_r, numerator=num,
                      denominator=den, source=sid)


# --------------------------------------------------------------------------- entry points

FORMATS = {
    "caseload_ees2022": load_caseload_2022,
    "caseload_ees2025": load_caseload_2025,
    "needs_ees2025": load_needs_2025,
}


sources, load = family("sen2", FORMATS)
SOURCES = sources()
