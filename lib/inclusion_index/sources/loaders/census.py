"""Pupil counts per LA from DfE's school-level census files (``england_census.csv``, January 2016,
2018, 2019, 2021, 2023; the January 2024 workbook ``school_census_202324`` read by name): pupils with
a statement or EHC plan (``TSENELSE``), on SEN support (``TSENELK``) and on roll (``NOR``), summed
over schools (numeric ``URN``; ``NP``/``NA`` cells left out of a sum, never 0). ``_all``: every
school row (``perf_census_csv`` only); ``_state``: state-funded primary, secondary and special, by
``SCHOOLTYPE`` or, in ``perf_census_csv_estab`` files, by ESTAB range. England is DfE's published
pair of counts (england_counts.csv) where listed, else the school rows pooled, its ``source``
saying which. docs/DATA_LOG.md ("Census counts over rounded shares") has the details and figures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from inclusion_index.config import NationalCount, parse_england_counts
from inclusion_index.errors import SchemaError
from inclusion_index.paths import REGISTRY_DIR
from inclusion_index.sources.derived import derived_measures
from inclusion_index.sources.geography import NATIONAL_CODE, load_la_reference
from inclusion_index.sources.loaders.base import (
    LoadContext,
    entries,
    la_code3,
    long_frame,
    parse_values,
    read_csv,
    read_sheet_columns,
    require_columns,
    source_ids,
)
from inclusion_index.sources.loaders.context import census_year
from inclusion_index.sources.registry import Registry

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
        raw["URN"] = raw["URN"].str.replace(r"\.0$", "", regex=True)
    else:
        cols = ["URN", "LA", "ESTAB", *_COUNTS, *(["SCHOOLTYPE"] if with_type else [])]
        raw = read_csv(ctx, sid, needed=cols)
        require_columns(raw, cols, file, year)
    urn = raw["URN"].str.strip()
    school = urn.str.fullmatch(r"\d+")
    odd = ~school & (urn != "NAT")
    if odd.any():
        raise SchemaError(file, f"row with URN {urn[odd].iloc[0]!r} is neither a school nor a national row",
                          column="URN", year=year, expected="a numeric URN, or NAT")
    # the January 2018 file repeats one school's row (URN 141353) byte for byte: counted once;
    # two different rows for one URN are an error
    df = raw[school].drop_duplicates().copy()
    dup = df["URN"].duplicated()
    if dup.any():
        raise SchemaError(file, f"URN {df.loc[dup, 'URN'].iloc[0]} has two different rows", column="URN",
                          year=year, expected="one row per school")
    df["la_code"] = la_code3(df["LA"])
    bad = ~df["la_code"].str.fullmatch(r"\d{3}", na=False)
    if bad.any():
        r = df[bad].iloc[0]
        raise SchemaError(file, f"school {r['URN']} has LA {r['LA']!r}", column="LA", year=year,
                          expected="a 3-digit DfE LA code on every school row")
    for c in _COUNTS:
        try:
            df[c], _ = parse_values(df, c, file, count=True)
        except SchemaError as e:
            raise SchemaError(file, e.problem, column=c, year=year, expected=e.expected) from e
    if with_type:
        df["SCHOOLTYPE"] = df["SCHOOLTYPE"].str.strip()
        unknown = ~df["SCHOOLTYPE"].isin([*_STATE_TYPES, *_OTHER_TYPES])
        if unknown.any():
            raise SchemaError(file, f"unknown school type {df.loc[unknown, 'SCHOOLTYPE'].iloc[0]!r}",
                              column="SCHOOLTYPE", year=year,
                              expected=f"one of {sorted([*_STATE_TYPES, *_OTHER_TYPES])}; classify it in "
                              "loaders/census.py")
        df["state"] = df["SCHOOLTYPE"].isin(list(_STATE_TYPES))
    else:
        estab = pd.to_numeric(df["ESTAB"], errors="coerce")
        if estab.isna().any():
            r = df[estab.isna()].iloc[0]
            raise SchemaError(file, f"school {r['URN']} has ESTAB {r['ESTAB']!r}", column="ESTAB", year=year,
                              expected="a 4-digit establishment number on every school row")
        out = np.zeros(len(df), dtype=bool)
        for lo, hi in _NOT_STATE_ESTAB:
            out |= estab.between(lo, hi).to_numpy()
        df["state"] = ~out
    return df, file, year


def _national_counts(year: str) -> dict[str, NationalCount]:
    january = str(int(year[:4]) + 1)
    return {c.measure: c for c in parse_england_counts(REGISTRY_DIR / "england_counts.csv")
            if c.census_january == january}


def _frames(ctx: LoadContext, sid: str, df: pd.DataFrame, year: str, groups: dict[str, pd.Series]) -> pd.DataFrame:
    names = load_la_reference(ctx.data_dir).names()
    las = sorted(set(df["la_code"]))
    frames = []
    for suffix, keep in groups.items():
        part = df[keep]
        sums = part.groupby("la_code")[list(_COUNTS)].sum(min_count=1).reindex(las)
        published = _national_counts(year)
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
            why = pd.Series(pd.NA, index=range(len(las) + 1), dtype="string")
            why.iloc[1:] = np.where(la.isna().to_numpy(), "no school with a published count", pd.NA)
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


def sources(registry: Registry | None = None) -> tuple[str, ...]:
    return source_ids("census", registry, also=("la_list_dfe", _LATER_SCHOOL_LIST))


SOURCES = sources()


def load(ctx: LoadContext) -> pd.DataFrame:
    found = entries(ctx.registry, "census", FORMATS)
    frames = [FORMATS[s.format](ctx, s.id) for s in found]
    if any(s.id == _LATER_SCHOOL_LIST for s in ctx.registry.sources):
        frames.append(load_perf_census(ctx, _LATER_SCHOOL_LIST))
    return pd.concat(frames, ignore_index=True)


# ------------------------------------------------------------------ why counts and LAIT differ


def _urns(ctx: LoadContext, sid: str) -> pd.DataFrame:
    """URN, LA and the three counts (NaN where NA/NP) of every school row of one census file."""
    df, _, _ = _school_rows(ctx, sid, with_type=ctx.source(sid).format != "perf_census_csv_estab")
    return df[["URN", "la_code", *_COUNTS]].rename(columns=_COUNTS)


def count_gaps(ctx: LoadContext, long: pd.DataFrame) -> pd.DataFrame:
    """Every LA whose census counts do not stand for the EHC plan share (``assess_ehcp_share_counts``
    without a numerator) in a year with all-school counts, with what the file shows for it: its
    sums, the % they give against the published % the rule checked them with (DfE's two decimals,
    else LAIT's one), the share gap, and the reason: schools on roll in the census files a year
    either side but absent from this one (their counts from the earlier file), schools whose
    counts are ``NA`` or whose SEN support is 0 against 5 or more either side, or none of these.

    ``long`` is the harmonised long table (the published percentages and the derived shares)."""
    found = [*entries(ctx.registry, "census", FORMATS),
             *(x for x in ctx.registry.sources if x.id == _LATER_SCHOOL_LIST)]
    found = sorted(found, key=census_year)
    years = [census_year(s) for s in found]
    la = long[long["level"] == "la"]
    (_, _, published), = derived_measures()["assess_ehcp_share_counts"].agree

    def get(measure: str, year: str, col: str = "value") -> pd.Series:
        r = la[(la["measure"] == measure) & (la["year"] == year)].drop_duplicates("la_code")
        return r.set_index("la_code")[col]

    rows = []
    for i, s in enumerate(found):
        if s.format == "perf_census_csv_estab":  # no all-school SEN support count: no counts share
            continue
        year = years[i]
        share = get("assess_ehcp_share_counts", year, "numerator")
        off = share[share.isna()].index
        if off.empty:
            continue
        this = _urns(ctx, s.id)
        before = _urns(ctx, found[i - 1].id) if i > 0 else this.iloc[:0]
        nxt = _urns(ctx, found[i + 1].id) if i + 1 < len(found) else this.iloc[:0]
        after = set(nxt["URN"])
        # SEN support 0 this January but 5 or more the January before or after (the 2018 file has
        # no independent school's SEN support, so 2019 leans on 2021): a count not published
        near_sup = pd.concat([f[["URN", "census_sen_support_pupils"]] for f in (before, nxt)]
                             ).groupby("URN")["census_sen_support_pupils"].max()
        zero = this[(this["census_sen_support_pupils"] == 0)].assign(
            near=lambda d, m=near_sup: d["URN"].map(m)).query("near >= 5")
        # on roll the January before and the January after, yet no row this January
        gone = before[~before["URN"].isin(set(this["URN"])) & before["URN"].isin(after)]
        sums = this.groupby("la_code")[list(_COUNTS.values())].sum(min_count=1)
        na = this[this[list(_COUNTS.values())].isna().any(axis=1)].groupby("la_code").size()
        pub = [(p, q, get(p, year), get(q, year)) for p, q, _ in published]
        names = get("assess_ehcp_share_counts", year, "la_name")
        for code in off:
            e, sp, n = (float(sums.at[code, c]) for c in _COUNTS.values())
            g = gone[gone["la_code"] == code]
            k = int(na.get(code, 0))
            why = []
            if len(g):
                why.append(f"{len(g)} school{'s' * (len(g) > 1)} absent ({g['census_pupils'].sum():,.0f} pupils, "
                           f"{g['census_ehcp_pupils'].sum():,.0f} with a plan in January {int(years[i - 1][:4]) + 1})")
            if k:
                why.append(f"{k} school{'s' * (k > 1)} with NA counts")
            z = zero[zero["la_code"] == code]
            if len(z):
                why.append(f"{len(z)} school{'s' * (len(z) > 1)} with SEN support 0 ({z['near'].sum():,.0f} a year "
                           "or two either side)")
            # the published pair the rule checked this LA against: the first one present
            p, _, pe_, ps_ = next(x for x in pub if code in x[2].index and code in x[3].index)
            le, ls = float(pe_[code]), float(ps_[code])
            pe, ps = 100 * e / n, 100 * sp / n
            rows.append({
                "la_code": code, "la_name": names.get(code, ""), "year": year, "published": p,
                "ehcp": e, "sen_support": sp, "pupils": n,
                "ehcp_pct": pe, "sen_support_pct": ps, "pub_ehcp_pct": le, "pub_sen_support_pct": ls,
                "gap_ehcp": pe - le, "gap_sen_support": ps - ls,
                "share_counts": 100 * e / (e + sp), "share_published": 100 * le / (le + ls),
                "absent_schools": len(g), "absent_pupils": float(g["census_pupils"].sum()),
                "absent_ehcp": float(g["census_ehcp_pupils"].sum()), "na_schools": k,
                "zero_sen_support_schools": len(z), "zero_sen_support_near": float(z["near"].sum()),
                "reason": "; ".join(why) or "no school absent, NA or 0 in the file: cause not found",
            })
    out = pd.DataFrame(rows)
    if len(out):
        out["share_gap"] = out["share_counts"] - out["share_published"]
    return out
