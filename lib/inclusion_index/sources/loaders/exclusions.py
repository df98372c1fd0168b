"""Exclusions of pupils by SEN provision, by LA: ``la_char_zip`` (2011/12-2016/17, DfE's LA x
characteristic file, counts with the January headcount) and ``termly_sen_d2i`` (2019/20-2024/25,
Data to Insight's termly RATES, no England row). For pupils with an EHC plan the annual rate is
rebuilt on the January headcount (docs/DATA_LOG.md, "Annual exclusion rates from the termly file");
the sum of the termly rates is kept as ``excl_*_rate_termsum_*``. Nothing covers 2017/18-2018/19 by
SEN and LA. DfE renamed fixed-period exclusions "suspensions" from 2021/22; codes keep "fixed".
"""

from __future__ import annotations

import zipfile
import zlib

import numpy as np
import pandas as pd

from inclusion_index.errors import SchemaError, UnknownLACodeError
from inclusion_index.sources.geography import NATIONAL_CODE, load_la_reference
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


def _load_zip(ctx: LoadContext, sid: str = "excl_la_char_zip") -> pd.DataFrame:
    src = ctx.source(sid)
    file = f"{src.path}!{_ZIP_MEMBER}"
    try:
        zf = zipfile.ZipFile(ctx.path(sid))
    except zipfile.BadZipFile as e:
        raise SchemaError(src.path, f"not a readable zip ({e})", expected=f"a zip holding {_ZIP_MEMBER}") from e
    with zf:
        if _ZIP_MEMBER not in zf.namelist():
            raise SchemaError(src.path, f"zip lacks {_ZIP_MEMBER}", expected=f"members {zf.namelist()} to include it")
        try:
            with zf.open(_ZIP_MEMBER) as fh:
                header = pd.read_csv(fh, nrows=0, encoding="utf-8-sig").rename(columns=lambda c: str(c).strip())
            # year: the whole span, since a header problem affects every year in the file
            require_columns(header, _ZIP_KEYS + _ZIP_VALUES, file, year=src.years)
            with zf.open(_ZIP_MEMBER) as fh:
                # The file is 34 MB and ~199k rows; only 14 of its columns matter here.
                raw = pd.read_csv(fh, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                                  usecols=lambda c: c.strip() in _ZIP_KEYS + _ZIP_VALUES)
        except (*_UNREADABLE, pd.errors.EmptyDataError) as e:
            raise SchemaError(file, f"cannot read ({type(e).__name__}: {e})",
                              expected="a complete zip holding a UTF-8 CSV with a header row; re-fetch it") from e
    raw.columns = [c.strip() for c in raw.columns]
    sel = raw[raw["characteristic and group"].isin(["SEN provision", "Total"])
              & raw["school_type"].eq("Total")
              & raw["characteristic"].isin(list(_ZIP_GROUPS))].copy()
    if sel.empty:
        raise SchemaError(file, "no rows for school_type 'Total' and SEN provision / Total",
                          column="characteristic", expected=f"characteristics {list(_ZIP_GROUPS)}")
    for y, part in sel.groupby("time_period"):
        if absent := set(_ZIP_GROUPS) - set(part["characteristic"]):
            raise SchemaError(file, "SEN provision group(s) missing", column="characteristic", year=str(y),
                              expected=f"rows for {sorted(absent)}")
    check_year_keys(sel, file)
    levels = sel["geographic_level"].str.strip().str.lower()
    if unknown := sorted(set(levels) - set(_ZIP_LEVELS)):
        raise SchemaError(file, f"unexpected geographic_level {unknown}", column="geographic_level",
                          expected=f"one of {sorted(_ZIP_LEVELS)}")
    sel["level"] = levels.map(_ZIP_LEVELS)
    sel["la_code"] = la_code3(sel["old_la_code"]).where(sel["level"].eq("la"), NATIONAL_CODE)
    sel["la_name"] = sel["la_name"].where(sel["level"].eq("la"), "England")
    check_la_codes(sel, sel["level"].eq("la"), file)
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


# ---------------------------------------------------------------- 2019/20-2024/25 (termly rates)

_TERMLY_COLUMNS = ["time_period", "time_identifier", "education_phase", "send_category",
                   "new_la_code", "la_name", "metric", "value"]
_TERMS = ("Autumn term", "Spring term", "Summer term")
_TERMLY_GROUPS = {"EHC plan": "ehcp", "SEN support": "sen_support", "No SEN": "no_sen"}
# susp_rate is DfE's name for the fixed-period exclusion rate from 2021/22 (same event).
# one_plus_susp_rate is deliberately not summed: a pupil suspended in two terms would be
# counted twice, so the sum of termly "one or more" rates is not an annual rate.
_TERMLY_METRICS = {"susp_rate": "excl_fixed_rate_termsum", "perm_excl_rate": "excl_perm_rate_termsum"}


def _load_termly(ctx: LoadContext, sid: str = "excl_termly_sen") -> pd.DataFrame:
    src = ctx.source(sid)
    raw = read_csv(ctx, sid, required=_TERMLY_COLUMNS, year=src.years)
    d = raw[raw["education_phase"].str.strip().eq("Total")
            & raw["metric"].isin([*_TERMLY_METRICS, *_ANNUAL_METRICS])].copy()
    if d.empty:
        raise SchemaError(src.path, "no rows for education_phase 'Total'", column="education_phase",
                          expected="phase 'Total' with metrics " + ", ".join(_TERMLY_METRICS))
    check_year_keys(d, src.path)
    d["time_identifier"] = d["time_identifier"].str.strip()
    if odd_terms := sorted(set(d["time_identifier"]) - set(_TERMS)):
        y = d.loc[~d["time_identifier"].isin(_TERMS), "time_period"].iloc[0]
        raise SchemaError(src.path, f"unexpected time_identifier {odd_terms}", column="time_identifier",
                          year=y, expected=f"one of {list(_TERMS)}")
    if odd_groups := sorted(set(d["send_category"]) - set(_TERMLY_GROUPS)):
        raise SchemaError(src.path, f"unexpected send_category {odd_groups}", column="send_category",
                          expected=f"one of {list(_TERMLY_GROUPS)}")

    # The file has ONS codes only; DfE reissued ONS codes for unchanged 3-digit LAs
    # (Buckinghamshire E10000002 -> E06000060, North Yorkshire and Somerset E10 -> E06), so
    # the mapping goes through every dated spell in DfE's LA list.
    ref = load_la_reference(ctx.data_dir)
    ons_to_la = dict(zip(ref.table["ons_code"], ref.table["la_code"], strict=False))
    d["la_code"] = d["new_la_code"].str.strip().map(ons_to_la)
    if (r := first_row(d, d["la_code"].isna())) is not None:
        raise UnknownLACodeError(src.path, f"ONS code {r['new_la_code']!r} ({r['la_name']}) not in DfE's LA list",
                                 column="new_la_code", year=r["time_period"],
                                 expected="an ONS code listed in la_lookup/las.csv")
    keys = ["time_period", "la_code", "send_category", "metric"]
    if (r := first_row(d, d.duplicated([*keys, "time_identifier"], keep=False))) is not None:
        raise SchemaError(src.path, f"two rows for LA {r['la_code']} ({r['la_name']}) {r['send_category']} "
                          f"{r['metric']} {r['time_identifier']}", column="new_la_code", year=r["time_period"],
                          expected="one row per LA, term, SEN group and metric")
    d["v"], d["why"] = parse_values(d, "value", src.path, year_column="time_period")
    # the school phases' rates, only as a check on the Total headcounts (see recover_terms)
    ph = raw[raw["send_category"].eq(_ANNUAL_GROUP) & raw["metric"].isin(_ANNUAL_METRICS)
             & ~raw["education_phase"].str.strip().eq("Total")].copy()
    ph["la_code"] = ph["new_la_code"].str.strip().map(ons_to_la)
    ph["time_identifier"] = ph["time_identifier"].str.strip()
    ph["v"] = pd.to_numeric(ph["value"], errors="coerce")
    phases = ph.pivot_table(index=["time_period", "la_code", "time_identifier", "education_phase"], columns="metric",
                            values="v", aggfunc="first").reset_index()
    annual = _load_annual(d, sid, phases)
    d = d[d["metric"].isin(list(_TERMLY_METRICS))]

    g = d.groupby(keys, sort=True)
    out = g.agg(
        la_name=("la_name", "last"), n_terms=("time_identifier", "nunique"), n_values=("v", "count"),
        total=("v", "sum"),
        first_reason=("why", lambda s: s.dropna().iloc[0] if s.notna().any() else pd.NA)).reset_index()
    complete = out["n_terms"].eq(3) & out["n_values"].eq(3)
    value = out["total"].where(complete, np.nan)
    reason = _year_reason(out["n_terms"], out["first_reason"].astype("string").fillna("blank").where(~complete))
    termsum = long_frame(
        level="la", la_code=out["la_code"], la_name=out["la_name"], year=out["time_period"],
        measure=out["metric"].map(_TERMLY_METRICS) + "_" + out["send_category"].map(_TERMLY_GROUPS),
        value=value, missing_reason=reason, source=sid)
    return pd.concat([termsum, annual], ignore_index=True)


# ------------------------------------------ annual rates on one headcount
#
# How the headcounts are recovered: docs/DATA_LOG.md, "Annual exclusion rates from the termly file".
# January is exact when no rival lies within 25%, another term when one candidate is in its band.

_ANNUAL_GROUP = "EHC plan"   # only this group: its headcounts (< 25,000 an LA) keep the search short
_ANNUAL_METRICS = ("susp_rate", "one_plus_susp_rate", "perm_excl_rate")
_ANNUAL_MEASURES = {"susp_rate": "excl_fixed_rate_annual_ehcp", "perm_excl_rate": "excl_perm_rate_annual_ehcp"}
APPROX_MEASURE = "excl_annual_approx_terms_ehcp"
_MAX_HEADCOUNT = 25_000
# Half a unit of the 3rd decimal, plus half of the 4th: some published rates were rounded twice
# (Hartlepool spring 2019/20: 9/437 = 2.05950 -> 2.0595 -> published 2.06).
_RATE_TOLERANCE = 0.00055 + 1e-9
# term headcount / January headcount: observed 0.86-1.10 (autumn) and 0.95-1.22 (summer) over the
# uniquely identified LA-years, so these bands hold every identified case with a margin.
_BANDS = {"Autumn term": (0.80, 1.12), "Summer term": (0.90, 1.25)}
_TYPICAL = {"Autumn term": 0.962, "Summer term": 1.042}
_WINDOW = 1.25
_SPRING = "Spring term"


def headcount_candidates(rates: dict[str, float], max_headcount: int = _MAX_HEADCOUNT) -> np.ndarray:
    """Every integer headcount (1..max) for which integer counts reproduce all ``rates``
    (metric -> published rate per 100) to the published precision."""
    h = np.arange(1, max_headcount + 1, dtype=float)
    counts: dict[str, np.ndarray] = {}
    for metric, r in rates.items():  # each metric tests only the headcounts the others left
        c = np.rint(r * h / 100)
        ok = (np.abs(100 * c / h - r) <= _RATE_TOLERANCE) & ((c > 0) if r > 0 else True)
        h, counts = h[ok], {m: v[ok] for m, v in [*counts.items(), (metric, c)]}
    if "one_plus_susp_rate" in counts and "susp_rate" in counts:
        # pupils suspended at least once cannot outnumber suspensions
        h = h[counts["one_plus_susp_rate"] <= counts["susp_rate"]]
    return h.astype(int)


def _in_band(cands: np.ndarray, spring: int, term: str) -> np.ndarray:
    lo, hi = _BANDS[term]
    return cands[(cands >= lo * spring) & (cands <= hi * spring)]


def _misfit(cands: dict[str, np.ndarray], zero: dict[str, bool], spring: int) -> float:
    """How far the other terms' nearest headcounts sit from the typical ratios to ``spring``
    (sum of |log ratio - log typical|); terms with every rate 0 do not count."""
    return sum(float(np.min(np.abs(np.log(_in_band(cands[t], spring, t) / spring) - np.log(_TYPICAL[t]))))
               for t in _BANDS if not zero[t])


def _phase_sums(phases: pd.DataFrame, max_headcount: int = _MAX_HEADCOUNT) -> np.ndarray:
    """Boolean over 0..max: which totals the phases' own candidate headcounts can add up to
    (primary + secondary + special = Total). A phase not in the file may hold any number."""
    fft_n = 1 << int(np.ceil(np.log2(2 * max_headcount + 2)))
    acc = None
    for row in phases[list(_ANNUAL_METRICS)].to_numpy(dtype=float):
        rates = {m: v for m, v in zip(_ANNUAL_METRICS, row, strict=True) if not np.isnan(v)}
        mask = np.ones(max_headcount + 1)
        if rates:
            mask[:] = 0
            mask[headcount_candidates(rates, max_headcount)] = 1
        if acc is not None:
            mask = np.fft.irfft(np.fft.rfft(acc, fft_n) * np.fft.rfft(mask, fft_n), fft_n)[:max_headcount + 1] > 0.5
        acc = mask.astype(float)
    if acc is None or len(phases) < 3:
        # a missing phase could hold any headcount (0 included), so nothing is excluded
        return np.ones(max_headcount + 1, dtype=bool)
    return acc > 0.5


def _feasible(cands: dict[str, np.ndarray], zero: dict[str, bool]) -> np.ndarray:
    """The January candidates with a candidate of every other term (unless all 0) in its band."""
    spring = cands[_SPRING]
    fits = np.ones(spring.size, dtype=bool)
    for t, (lo, hi) in _BANDS.items():
        if not zero[t]:
            fits &= np.searchsorted(cands[t], hi * spring, "right") > np.searchsorted(cands[t], lo * spring)
    return spring[fits]


def recover_terms(rates: pd.DataFrame, phases: pd.DataFrame | None = None) -> pd.DataFrame:
    """``rates`` (one row per year, LA and term, a column per _ANNUAL_METRICS; phase Total, pupils with
    an EHC plan) with ``headcount``, ``n_<metric>`` counts, ``exact`` and ``n_candidates`` (in band),
    for LA-years with all three terms' rates published. ``phases``: the same per school phase; a Total
    candidate the phases' own candidates cannot add up to is dropped (most chance fits in large LAs).
    """
    out = []
    by_phase = dict(iter(phases.groupby(["time_period", "la_code", "time_identifier"]))) if phases is not None else {}
    for (year, la), g in rates.groupby(["time_period", "la_code"], sort=True):
        r = {t: dict(zip(_ANNUAL_METRICS, v, strict=True))
             for t, v in zip(g["time_identifier"], g[list(_ANNUAL_METRICS)].to_numpy(dtype=float), strict=True)}
        if set(r) != set(_TERMS) or np.isnan(g[list(_ANNUAL_METRICS)].to_numpy(dtype=float)).any():
            continue
        full = {t: headcount_candidates(r[t]) for t in _TERMS}
        zero = {t: all(v == 0 for v in r[t].values()) for t in _TERMS}
        # The phases' sums are convolved only up to ``upto``. The choice below looks at candidates
        # up to 1.96 x the smallest feasible January (window 1.25, rivals 1.25, band 1.25), so a
        # bound of twice that gives the same result as the full range, which is the fallback.
        first = _feasible(full, zero)
        for upto in (min(2 ** int(np.log2(5 * first[0] + 2048)) - 1, _MAX_HEADCOUNT) if first.size
                     else _MAX_HEADCOUNT, _MAX_HEADCOUNT):
            cands = {t: c[c <= upto] for t, c in full.items()}
            for t in _TERMS:
                if (year, la, t) in by_phase and full[t].size < _MAX_HEADCOUNT and cands[t].size:
                    cands[t] = cands[t][_phase_sums(by_phase[(year, la, t)], upto)[cands[t]]]
            if zero[_SPRING] and not all(zero.values()):
                # a January with no exclusions fits any headcount: start from the other terms' smallest
                floor = min((cands[t][0] / _BANDS[t][1] for t in _BANDS if not zero[t] and cands[t].size),
                            default=np.inf)
                cands[_SPRING] = cands[_SPRING][cands[_SPRING] >= floor]
            feasible = list(_feasible(cands, zero))
            if upto == _MAX_HEADCOUNT or (feasible and 2 * feasible[0] <= upto
                                          and all(zero[t] or cands[t].size for t in _BANDS)):
                break
        # within _WINDOW of the smallest: beyond lie the multiples (same ratios) and chance fits
        window = [h for h in feasible if h <= _WINDOW * feasible[0]] if feasible else []
        hs = min(window, key=lambda h: (round(_misfit(cands, zero, h), 9), h)) if window else None
        for t in _TERMS:
            rec = {"time_period": year, "la_code": la, "time_identifier": t, "all_zero": all(zero.values()),
                   **{m: float(r[t][m]) for m in _ANNUAL_METRICS}}
            if all(zero.values()) or hs is None:
                # no exclusion all year (City of London, Isles of Scilly: rate 0) or no fit: headcount unknown
                rec.update(spring=np.nan, headcount=np.nan, n_candidates=0, exact=zero[t])
            elif t == _SPRING:
                rivals = sum(1 for h in feasible if h != hs and abs(np.log(h / hs)) <= np.log(1.25))
                rec.update(spring=float(hs), headcount=float(hs), n_candidates=1 + rivals, exact=rivals == 0)
            else:
                inband = _in_band(cands[t], hs, t)
                k = len(inband)
                rec.update(spring=float(hs), headcount=float(inband[0]) if k == 1 else np.nan,
                           n_candidates=k, exact=zero[t] or k == 1, _cands=inband)
            out.append(rec)
    cols = ["time_period", "la_code", "time_identifier", "all_zero", *_ANNUAL_METRICS, "spring", "headcount",
            "n_candidates", "exact"]
    if not out:   # nothing published in full (every rate a marker): no LA-year to resolve
        return pd.DataFrame(columns=[*cols, *("n_" + m for m in _ANNUAL_METRICS)])
    df = pd.DataFrame(out)
    # the estimate for the rest: spring headcount x that year's median ratio over the exact LAs
    ident = df[df["exact"] & df["headcount"].notna() & df["time_identifier"].ne(_SPRING)]
    ratio = (ident["headcount"] / ident["spring"]).groupby([ident["time_period"], ident["time_identifier"]]).median()
    typical = pd.Series([ratio.get((y, t), np.nan) for y, t in zip(df["time_period"], df["time_identifier"],
                                                                    strict=True)], index=df.index)
    need = df["headcount"].isna() & df["spring"].notna()
    for i in df.index[need]:
        target = typical[i] * df.at[i, "spring"]
        c = df.at[i, "_cands"] if "_cands" in df.columns else None
        if isinstance(c, np.ndarray) and len(c) > 1:
            # several candidates reproduce the rates: take the one nearest the typical ratio
            df.at[i, "headcount"] = float(c[np.argmin(np.abs(c - target))])
        else:
            df.at[i, "headcount"] = target   # none in the band: not an integer, and flagged
    df = df.drop(columns=["_cands"], errors="ignore")
    # a headcount that is one of the candidates (exact, or the nearest of several) has integer
    # counts reproducing the rates; only the January x ratio estimate keeps rate x headcount
    candidate = df["headcount"].eq(np.rint(df["headcount"]))
    counts = {m: df[m] * df["headcount"] / 100 for m in _ANNUAL_METRICS}
    for m, c in counts.items():
        candidate &= (np.abs(100 * np.rint(c) / df["headcount"] - df[m]) <= _RATE_TOLERANCE) | df[m].isna()
    for m, c in counts.items():
        df["n_" + m] = np.where(candidate, np.rint(c), c)
    return df


def _year_reason(n_terms: pd.Series, missing: pd.Series, otherwise: pd.Series | None = None) -> pd.Series:
    """Why an LA-year has no figure: a partial year, else the marker of a missing termly rate, else ``otherwise``."""
    reason = "a termly rate is missing (" + missing.astype("string") + ")"
    reason = reason if otherwise is None else reason.fillna(otherwise)
    return reason.mask(n_terms < 3, "partial year (" + n_terms.astype(str) + " of 3 terms)")


def _load_annual(d: pd.DataFrame, sid: str, phases: pd.DataFrame) -> pd.DataFrame:
    """Annual rates per 100 pupils with an EHC plan on the January headcount (see above)."""
    sel = d[d["send_category"].eq(_ANNUAL_GROUP) & d["metric"].isin(_ANNUAL_METRICS)]
    wide = sel.pivot_table(index=["time_period", "la_code", "time_identifier"], columns="metric", values="v",
                           aggfunc="first").reset_index()
    # a metric with no number anywhere gets no pivot column: an empty one keeps recover_terms' layout
    terms = recover_terms(*(t.assign(**{m: np.nan for m in _ANNUAL_METRICS if m not in t.columns})
                            for t in (wide, phases)))
    keys = ["time_period", "la_code"]
    per = terms.groupby(keys).agg(
        spring=("spring", "first"), approx=("exact", lambda s: int((~s).sum())), all_zero=("all_zero", "all"),
        **{"n_" + m: ("n_" + m, "sum") for m in _ANNUAL_METRICS}).reset_index()
    # every LA-year in the file, so the ones not formed say why
    allkeys = (sel.groupby(keys, sort=False).agg(n_terms=("time_identifier", "nunique"), la_name=("la_name", "last"))
               .reset_index().merge(per, on=keys, how="left"))
    # a rate not published (a marker) in any term: say which marker, as the termly sums do
    why = sel[sel["v"].isna()].groupby(keys)["why"].first()
    gap = pd.Series(why.reindex(pd.MultiIndex.from_frame(allkeys[keys])).to_numpy(), index=allkeys.index)
    lost = pd.Series("termly headcounts not recoverable from the published rates", index=allkeys.index,
                     dtype="string").where(allkeys["spring"].isna() & ~allkeys["all_zero"].eq(True))
    reason = _year_reason(allkeys["n_terms"], gap, lost)
    la_name = allkeys["la_name"]
    frames = []
    for m, measure in _ANNUAL_MEASURES.items():
        num = allkeys["n_" + m]
        frames.append(long_frame(
            level="la", la_code=allkeys["la_code"], la_name=la_name, year=allkeys["time_period"], measure=measure,
            value=pd.Series(np.where(allkeys["all_zero"].eq(True), 0.0, 100 * num / allkeys["spring"]),
                            index=allkeys.index),
            numerator=num, denominator=allkeys["spring"],
            missing_reason=reason, source=sid))
    frames.append(long_frame(
        level="la", la_code=allkeys["la_code"], la_name=la_name, year=allkeys["time_period"],
        measure=APPROX_MEASURE, value=allkeys["approx"].astype("float64"), missing_reason=reason, source=sid))
    return pd.concat(frames, ignore_index=True)


FORMATS = {"la_char_zip": _load_zip, "termly_sen_d2i": _load_termly}


# la_list_dfe (through the LA reference) turns the termly file's ONS codes into DfE's
# 3-digit codes, so a change to it must invalidate the cache as well
sources, load = family("exclusions", FORMATS, also=("la_list_dfe",))
SOURCES = sources()
