"""CSV for people who open it in a spreadsheet.

Score tables and chart data are meant to be opened in Excel or LibreOffice by journalists
and council officers. A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is read there as a formula (CSV injection, OWASP), and LA names and file
contents are untrusted text. Such cells get a leading apostrophe, which spreadsheets show
as plain text; numeric columns are never touched, so negative numbers stay numbers.
Parquet outputs keep the raw values (typed readers do not evaluate formulas).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from pandas.api.types import is_numeric_dtype

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """A text value made safe to open in a spreadsheet; anything else unchanged."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) else value


def spreadsheet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells (values, index and column labels) cannot run as formulas."""
    out = df.copy()
    for col in out.columns:
        if not is_numeric_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    out.columns = [neutralise(c) for c in out.columns]
    if not is_numeric_dtype(out.index):
        out.index = out.index.map(neutralise)
    return out


def write_csv(df: pd.DataFrame, path: str | Path, *, index: bool = False) -> Path:
    """Write ``df`` as UTF-8 CSV with formula-like text neutralised."""
    path = Path(path)
    spreadsheet_safe(df).to_csv(path, index=index)
    return path
