"""16-17-year-olds NEET or activity not known, by LA and SEND (DfE NCCIS LA dashboard files), one a
year named by its ``release`` ("2022": the December 2021-February 2022 average, academic year "202122").
SEND splits are % of each group's cohort; denominators are the cohort times the group's rounded share
(approximate), numerators left empty. docs/DATA_LOG.md ("NEET") has the gaps and the copied England row.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from inclusion_index.errors import ConfigError, SchemaError
from inclusion_index.sources.geography import NATIONAL_CODE, year_key
from inclusion_index.sources.loaders.base import (
    LoadContext,
    check_la_codes,
    entries,
    family,
    la_code3,
    latest_release_wins,
    long_frame,
    parse_values,
    read_csv,
)
from inclusion_index.sources.registry import Source

_COHORT = "Cohort_DJFavg"
# (measure, value column, cohort-share column giving the denominator; None = whole cohort)
_MEASURES = [
    ("neet_nk_ehcp_pct", "NEET_NK_EHCP_percent", "cohort_EHCP_percent"),
    ("neet_nk_sen_support_pct", "NEET_NK_SENDsupport_percent", "cohort_SENDsupport_percent"),
    ("neet_nk_no_sen_pct", "NEET_NK_noSEN_percent", "cohort_noSEN_percent"),
    ("neet_nk_all_pct", "NEET_not_known_percent", None),
    ("neet_all_pct", "NEET_percent", None),
    ("neet_cohort_ehcp_pct", "cohort_EHCP_percent", None)]
_SEND_COLUMNS = sorted({c for _, v, s in _MEASURES for c in (v, s) if c and ("SEN" in c or "EHCP" in c)})
# Only what this loader uses is required: the files gain and lose other columns between years
# (2024 onwards have no Age1617_ONS_population, for example).
_VALUE_COLUMNS = list(dict.fromkeys(c for _, v, s in _MEASURES for c in (v, s) if c))
_REQUIRED = ["time_period", "geographic_level", "old_la_code", "la_name", _COHORT, *_VALUE_COLUMNS]
_LEVELS = {"national": "national", "local authority": "la", "regional": None}


def file_label(source: Source) -> str:
    """The registry's ``release`` ('2022'): the year DfE names the file by (its January-February)."""
    label = str(source.release).strip()
    if not (len(label) == 4 and label.isdigit()):
        raise ConfigError(f"registry entry {source.id!r} ({source.path}): an nccis_dashboard entry's "
                          f"release must be the 4-digit year DfE names the file by, got {source.release!r}")
    return label


def academic_year(label: str) -> str:
    """NCCIS '2022' (Dec 2021-Feb 2022 average) -> '202122'."""
    return year_key(int(label) - 1)


def _read_one(ctx: LoadContext, source_id: str) -> pd.DataFrame:
    src = ctx.source(source_id)
    label = file_label(src)
    key = academic_year(label)
    raw = read_csv(ctx, source_id, required=_REQUIRED, year=key)
    periods = sorted(set(raw["time_period"].str.strip()))
    if periods != [label]:
        raise SchemaError(src.path, f"time_period is {periods}, not the file's year", column="time_period",
                          year=key, expected=f"'{label}' (Dec {int(label) - 1}-Feb {label} average)")
    level_text = raw["geographic_level"].str.strip().str.lower()
    if unknown := sorted(set(level_text) - set(_LEVELS)):
        raise SchemaError(src.path, f"unexpected geographic_level {unknown}", column="geographic_level",
                          year=key, expected="National, Regional or Local authority")
    df = raw.assign(level=level_text.map(_LEVELS))
    # The 2021 file carries a made-up "LA demo" / "Region demo" pair used to draw the dashboard;
    # they are not places.
    demo = df["la_name"].str.strip().str.lower().eq("la demo")
    df = df[df["level"].notna() & ~demo].copy()
    is_la = df["level"].eq("la")
    df["la_code"] = la_code3(df["old_la_code"]).where(is_la, NATIONAL_CODE)
    check_la_codes(df, is_la, src.path, key)
    df["la_name"] = df["la_name"].str.strip().where(is_la, "England")
    df["year"] = key
    df["label"] = label
    return df


def _national_send(df: pd.DataFrame) -> tuple[str, ...] | None:
    nat = df[df["level"].eq("national")]
    return tuple(str(nat[c].iloc[0]).strip() for c in _SEND_COLUMNS) if len(nat) == 1 else None


FORMATS = {"nccis_dashboard": _read_one}


# load is its own: two files for one year keep the later one, and a copied England row is dropped
sources, _ = family("neet", FORMATS)
SOURCES = sources()


def load(ctx: LoadContext) -> pd.DataFrame:
    found = entries(ctx.registry, "neet", FORMATS)
    read = [(s, FORMATS[s.format](ctx, s.id)) for s in found]
    # two files for one year (a re-issued dashboard) keep the later-published one
    kept = latest_release_wins(read, keys=("year",))
    files = {s.id: df for (s, _), df in zip(read, kept, strict=True) if len(df)}
    labels = {sid: file_label(ctx.source(sid)) for sid in files}
    # The 2021 file's England SEND figures are the 2022 file's, digit for digit in all six
    # columns (4.4, 8.6, 8.4, 4.2, 7.9, 87.7): a copy, not a 2021 estimate. Any year whose
    # England SEND row repeats the next year's exactly is treated as not published.
    copied: dict[str, str] = {}
    ordered = sorted(files, key=labels.__getitem__)
    for this, nxt in itertools.pairwise(ordered):
        a, b = _national_send(files[this]), _national_send(files[nxt])
        if a is not None and a == b and any(a):
            copied[this] = labels[nxt]

    frames = []
    for sid, df in files.items():
        file = ctx.source(sid).path
        label, key = labels[sid], df["year"].iloc[0]
        is_la = df["level"].eq("la")
        cohort, _ = parse_values(df, _COHORT, file, year_column="year")
        parsed = {c: parse_values(df, c, file, year_column="year") for c in _VALUE_COLUMNS}
        for measure, col, share_col in _MEASURES:
            value, reason = (s.copy() for s in parsed[col])
            if col in _SEND_COLUMNS:
                la_blank = is_la & reason.eq("blank")
                if la_blank.any() and la_blank.sum() == is_la.sum():
                    reason[la_blank] = f"not published for LAs in {label}"
                if sid in copied:
                    nat = df["level"].eq("national")
                    value[nat] = np.nan
                    reason[nat] = f"England SEND figures in the {label} file repeat the {copied[sid]} file's"
            denominator = cohort.copy() if share_col is None else cohort * parsed[share_col][0] / 100
            denominator[value.isna()] = np.nan
            frames.append(long_frame(
                level=df["level"], la_code=df["la_code"], la_name=df["la_name"], year=key,
                measure=measure, value=value, missing_reason=reason, denominator=denominator, source=sid))
    return pd.concat(frames, ignore_index=True)
