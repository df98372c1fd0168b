"""DfE's statistical-neighbour workbooks: sheet 'LA SN Groups' read as it is, before any geography.

DfE's children's services statistical-neighbour model (the one LAIT uses) names, for every LA,
ten LAs ranked by similarity with a closeness band; data/registry/neighbours.yml assigns a model
to each edition (``model_for``). index/neighbours.py moves the model onto an edition's geography.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass

import numpy as np
import pandas as pd
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from inclusion_index.config import covering, run_settings
from inclusion_index.errors import SchemaError, UnknownLACodeError
from inclusion_index.sources.geography import check_year_key
from inclusion_index.sources.loaders.base import LoadContext

SHEET = "LA SN Groups"
N_NEIGHBOURS = 10
ID_HEADERS = ("LA num", "LA Name", "LA number", "GOInd", "GOReg")
HEADERS = ID_HEADERS + tuple(h for k in range(1, N_NEIGHBOURS + 1) for h in (f"SN{k}", "SNP"))
# DfE writes the bands in two capitalisations ("Very Close" in 2021, "Very close" in 2025)
CLOSENESS = ("Extremely close", "Very close", "Close", "Somewhat close", "Not close")
_BANDS = {c.lower(): c for c in CLOSENESS}
NO_NEIGHBOURS = "-"  # placeholder DfE puts in every SN cell of an LA the model does not cover
HEADER_SEARCH_ROWS = 10


@dataclass(frozen=True)
class SNFile:
    """One statistical-neighbour workbook as read, before any geography is applied."""

    source_id: str
    path: str
    listed: pd.DataFrame  # la_code, la_name, region, section ("current"|"old"), has_neighbours
    neighbours: pd.DataFrame  # la_code, section, neighbour_rank, neighbour_code, closeness


def read_sn_file(ctx: LoadContext, source_id: str, known_codes: set[str] | None = None) -> SNFile:
    """Parse sheet 'LA SN Groups': find the header row, check it, read LA rows in both sections.

    The sheet has two lines of column letters/numbers above the real header, blank rows, and
    below an 'Old SNs:' line the rows of LAs that no longer exist (section 'old').
    """
    src = ctx.source(source_id)
    year = src.years
    try:
        raw = pd.read_excel(ctx.path(source_id), sheet_name=SHEET, header=None, dtype=str)
    except (ValueError, KeyError, zipfile.BadZipFile, InvalidFileException) as e:
        raise SchemaError(src.path, f"cannot read sheet {SHEET!r} ({e})", year=year,
                          expected=f"an .xlsx workbook with a sheet {SHEET!r}") from e
    raw = raw.map(lambda x: x.strip() if isinstance(x, str) else x)
    header_row = _find_header(raw, src.path, year)
    body = raw.iloc[header_row + 1:]
    listed, rows = [], []
    section = "current"
    for i, r in body.iterrows():
        excel_row = int(i) + 1
        cells = [r.iloc[j] if j < len(r) else np.nan for j in range(len(HEADERS))]
        if all(pd.isna(c) or c == "" for c in cells):
            continue
        la = cells[0]
        if pd.isna(la):
            if isinstance(cells[1], str) and cells[1].lower().startswith("old sns"):
                section = "old"
                continue
            raise SchemaError(src.path, f"row {excel_row} has no LA number", column="LA num",
                              year=year, expected="a 3-digit LA number in every non-blank row")
        if not re.fullmatch(r"\d{3}", la):
            raise SchemaError(src.path, f"row {excel_row}: {la!r} is not a 3-digit LA number",
                              column="LA num", year=year, expected="DfE 3-digit LA codes")
        codes = cells[5::2]
        bands = cells[6::2]
        has = not all(pd.isna(c) or c == NO_NEIGHBOURS for c in codes)
        listed.append({"la_code": la, "la_name": cells[1], "region": cells[4], "section": section,
                       "has_neighbours": has, "row": excel_row})
        if not has:
            continue
        for k, (code, band) in enumerate(zip(codes, bands, strict=True), start=1):
            if pd.isna(code) or not re.fullmatch(r"\d{3}", code):
                raise SchemaError(src.path, f"row {excel_row} (LA {la}): neighbour {code!r} is not a 3-digit LA number",
                                  column=f"SN{k}", year=year, expected="ten neighbour LA numbers per LA")
            band_norm = _BANDS.get(" ".join(band.split()).lower()) if isinstance(band, str) else None
            if band_norm is None:
                raise SchemaError(src.path, f"row {excel_row} (LA {la}): closeness {band!r} is not a known band",
                                  column=f"SNP (after SN{k})", year=year, expected=f"one of {list(CLOSENESS)}")
            rows.append({"la_code": la, "section": section, "neighbour_rank": k,
                         "neighbour_code": code, "closeness": band_norm})
    listed_df = pd.DataFrame(listed, columns=["la_code", "la_name", "region", "section", "has_neighbours", "row"])
    if listed_df.empty:
        raise SchemaError(src.path, "no LA rows under the header", column="LA num", year=year,
                          expected="one row per LA")
    dup = listed_df[listed_df.duplicated(["la_code", "section"], keep=False)]
    if not dup.empty:
        raise SchemaError(src.path, f"LA listed twice in one section (rows {list(dup['row'])})",
                          column="LA num", year=year, expected="one row per LA")
    nb = pd.DataFrame(rows, columns=["la_code", "section", "neighbour_rank", "neighbour_code", "closeness"])
    if known_codes is not None and (
            unknown := sorted((set(listed_df["la_code"]) | set(nb["neighbour_code"])) - known_codes)):
        raise UnknownLACodeError(src.path, f"LA numbers not in DfE's LA list: {unknown}",
                                 column="LA num / SN1-SN10", year=year, expected="codes from la_lookup/las.csv")
    return SNFile(source_id=source_id, path=src.path, listed=listed_df.drop(columns="row"), neighbours=nb)


def _find_header(raw: pd.DataFrame, file: str, year: str) -> int:
    first = raw.iloc[:HEADER_SEARCH_ROWS, 0] if raw.shape[1] else pd.Series(dtype=object)
    hits = [i for i, v in first.items() if isinstance(v, str) and v.lower() == HEADERS[0].lower()]
    if not hits:
        raise SchemaError(file, f"no header row starting {HEADERS[0]!r} in the first {HEADER_SEARCH_ROWS} rows "
                          f"of sheet {SHEET!r}", column=HEADERS[0], year=year,
                          expected="header " + ", ".join(HEADERS[:7]) + ", …, SN10, SNP")
    h = int(hits[0])
    got = [raw.iat[h, j] if j < raw.shape[1] else None for j in range(len(HEADERS))]
    for j, (want, have) in enumerate(zip(HEADERS, got, strict=True)):
        if not (isinstance(have, str) and have.lower() == want.lower()):
            raise SchemaError(file, f"header row {h + 1} has {have!r} in spreadsheet column {get_column_letter(j + 1)} of "
                              f"sheet {SHEET!r}", column=want, year=year,
                              expected="header " + ", ".join(HEADERS[:7]) + ", …, SN10, SNP")
    return h


def model_for(final_year: str) -> str:
    """The neighbour source id neighbours.yml assigns to an edition's final year."""
    return covering(run_settings().neighbours, check_year_key(final_year), "neighbours.yml", "models")


__all__ = ["N_NEIGHBOURS", "SNFile", "model_for", "read_sn_file"]
