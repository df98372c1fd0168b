"""English Indices of Deprivation, upper-tier LA summaries (IoD2015, IoD2019).

Each edition keys areas by the ONS codes of its year (read from the header, "... code (2019)"),
and each ONS code maps to one DfE code, so old and new Dorset areas keep their own (835-837 vs
838-839). ``years`` is the publication year (IoD2019, September 2019 -> "201920"). Ranks are
1 = most deprived; City of London and Isles of Scilly have their own rows; there is no England row.
"""

from __future__ import annotations

import re

import pandas as pd

from inclusion_index.errors import ConfigError, SchemaError, UnknownLACodeError
from inclusion_index.sources.geography import load_la_reference, year_key
from inclusion_index.sources.loaders.base import (
    LoadContext,
    family,
    long_frame,
    parse_values,
    require_columns,
)
from inclusion_index.sources.registry import Source

_CODE_COLUMN = re.compile(r"Upper Tier Local Authority District code \((\d{4})\)")

# (sheet, column after normalisation, measure)
_MEASURES = (
    ("IDACI", "IDACI - Average score", "iod_idaci_avg_score"),
    ("IDACI", "IDACI - Rank of average score", "iod_idaci_rank_avg_score"),
    ("IDACI", "IDACI - Proportion of LSOAs in most deprived 10% nationally", "iod_idaci_prop_lsoa_10pct"),
    ("IMD", "IMD - Average score", "iod_imd_avg_score"),
    ("IMD", "IMD - Rank of average score", "iod_imd_rank_avg_score"))

_IDACI_LONG = "Income Deprivation Affecting Children Index (IDACI)"


def normalise_header(text: object) -> str:
    """Collapse runs of spaces, strip, and use the short 'IDACI' label IoD2019 uses.

    IoD2019 headers carry trailing and doubled spaces; IoD2015 spells IDACI out in full.
    """
    s = re.sub(r"\s+", " ", str(text)).strip()
    return s.replace(_IDACI_LONG, "IDACI")


def edition_year(source: Source) -> str:
    """The registry's ``years`` (publication year, '2019') -> the academic year it falls in
    ('201920': the indices are published in the autumn)."""
    y = str(source.years).strip()
    if not (len(y) == 4 and y.isdigit()):
        raise ConfigError(f"registry entry {source.id!r} ({source.path}): an IoD entry's years must be "
                          f"its 4-digit publication year, got {source.years!r}")
    return year_key(int(y))


def _code_year(columns: list[str], file: str, sheet: str, year: str) -> str:
    """The year of the ONS codes a sheet uses, from its code column's header."""
    found = sorted({m.group(1) for c in columns if (m := _CODE_COLUMN.fullmatch(c))})
    if len(found) != 1:
        problem = (f"required column missing in sheet {sheet!r}" if not found else
                   f"area code columns for several years {found} in sheet {sheet!r}")
        raise SchemaError(file, problem, column="Upper Tier Local Authority District code (YYYY)", year=year,
                          expected=f"one such column (found {columns[:6]}…)")
    return found[0]


def load_edition(ctx: LoadContext, source_id: str) -> pd.DataFrame:
    year = edition_year(ctx.source(source_id))
    file = ctx.source(source_id).path
    ref = load_la_reference(ctx.data_dir).table
    ons_to_dfe = ref.drop_duplicates("ons_code").set_index("ons_code")["la_code"]
    ambiguous = ref.groupby("ons_code")["la_code"].nunique()
    if (ambiguous > 1).any():
        raise SchemaError("la_lookup/las.csv", "ONS code maps to several DfE codes", column="new_la_code",
                          expected=f"one DfE code per ONS code, got {list(ambiguous[ambiguous > 1].index)}")
    try:
        sheets = pd.read_excel(ctx.path(source_id), sheet_name=["IDACI", "IMD"], dtype=object)
    except Exception as e:  # ValueError for a missing sheet; zipfile/openpyxl errors for a broken workbook
        raise SchemaError(file, f"cannot read sheets IDACI and IMD ({type(e).__name__}: {e})", year=year,
                          expected="an .xlsx workbook with sheets named 'IDACI' and 'IMD'") from e
    frames = []
    for sheet, df in sheets.items():
        df = df.rename(columns=normalise_header)
        code_year = _code_year([str(c) for c in df.columns], file, sheet, year)
        code_col = f"Upper Tier Local Authority District code ({code_year})"
        name_col = f"Upper Tier Local Authority District name ({code_year})"
        wanted = {c: m for s, c, m in _MEASURES if s == sheet}
        require_columns(df, [code_col, name_col, *wanted], file, year, sheet=sheet)
        df = df[df[code_col].notna()].copy()
        ons = df[code_col].astype("string").str.strip()
        if ons.duplicated().any():
            raise SchemaError(file, f"duplicate area code {ons[ons.duplicated()].iloc[0]} in sheet {sheet!r}",
                              column=code_col, year=year, expected="one row per upper-tier LA")
        la_code = ons.map(ons_to_dfe)
        unknown = la_code.isna()
        if unknown.any():
            raise UnknownLACodeError(
                file, f"ONS code(s) {sorted(ons[unknown])} not in the LA reference (sheet {sheet!r})",
                column=code_col, year=year, expected="an upper-tier ONS code listed in la_lookup/las.csv")
        names = df[name_col].astype("string").str.strip()
        df["_year"] = year  # so a bad cell's error names the edition's year
        for col, measure in wanted.items():
            value, why = parse_values(df, col, file, year_column="_year")
            frames.append(long_frame(
                level="la", la_code=la_code, la_name=names, year=year, measure=measure,
                value=value, missing_reason=why, source=source_id))
    return pd.concat(frames, ignore_index=True)


FORMATS = {"iod_utla": load_edition}


# the LA list maps ONS codes to DfE codes here, so a new one must invalidate the cache
sources, load = family("deprivation", FORMATS, also=("la_list_dfe",))
SOURCES = sources()
