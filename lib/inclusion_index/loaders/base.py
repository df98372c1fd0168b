"""What every loader shares: the long layout, column checks and number parsing that name
the file, column and year when something is wrong."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import SchemaError
from ..parsing import parse_numeric_column
from ..sources import Registry, Source, resolve

# level: "national" | "regional" | "la"; la_code: 3-digit DfE code for LAs, E92000001 for
# England, the ONS region code for regions; year: academic-year key such as "201819".
LONG_COLUMNS = [
    "level", "la_code", "la_name", "year", "measure",
    "value", "numerator", "denominator", "missing_reason", "source",
]


@dataclass(frozen=True)
class LoadContext:
    data_dir: Path
    registry: Registry

    def source(self, source_id: str) -> Source:
        return self.registry[source_id]

    def path(self, source_id: str) -> Path:
        return resolve(self.registry[source_id], self.data_dir)


def read_csv(ctx: LoadContext, source_id: str, **kwargs) -> pd.DataFrame:
    """Read a registered CSV (optionally gzipped) as text, tolerating a UTF-8 BOM.

    Everything is read as text so that suppression markers survive to be parsed with reasons.
    """
    src = ctx.source(source_id)
    path = ctx.path(source_id)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", **kwargs)
    except UnicodeDecodeError as e:
        raise SchemaError(src.path, f"not valid UTF-8 text ({e.reason} at byte {e.start})",
                          expected="a UTF-8 CSV as published by DfE") from e
    except pd.errors.EmptyDataError as e:
        raise SchemaError(src.path, "file is empty", expected="a CSV with a header row") from e
    except pd.errors.ParserError as e:
        raise SchemaError(src.path, f"malformed CSV ({e})", expected="a well-formed CSV") from e
    df.columns = [str(c).strip() for c in df.columns]
    if df.empty:
        raise SchemaError(src.path, "file has a header but no rows", expected="data rows")
    return df


def require_columns(df: pd.DataFrame, columns: Iterable[str], file: str, year: str | None = None) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise SchemaError(
            file, "required column missing", column=", ".join(missing), year=year,
            expected=f"columns {list(columns)} (found {list(df.columns)[:12]}…)",
        )


def parse_values(df: pd.DataFrame, column: str, file: str, year_column: str | None = None
                 ) -> tuple[pd.Series, pd.Series]:
    """Parse one numeric column; on a bad cell, name file, column and the year of that row."""
    try:
        return parse_numeric_column(df[column])
    except ValueError as e:
        year = None
        if year_column is not None and year_column in df.columns:
            for y, part in df.groupby(year_column, sort=True):
                try:
                    parse_numeric_column(part[column])
                except ValueError:
                    year = str(y)
                    break
        raise SchemaError(file, str(e), column=column, year=year,
                          expected="a number or a DfE suppression marker (c, x, z, :, -, low, …)") from e


def la_code3(codes: pd.Series) -> pd.Series:
    """'302', 302, 302.0 -> '302'; anything else is kept as text for the unknown-code check."""
    s = codes.astype("string").str.strip()
    s = s.str.replace(r"\.0$", "", regex=True)
    return s.where(~s.str.fullmatch(r"\d{1,3}", na=False), s.str.zfill(3))


def long_frame(
    *,
    level: pd.Series | str,
    la_code: pd.Series,
    la_name: pd.Series,
    year: pd.Series | str,
    measure: pd.Series | str,
    value: pd.Series,
    source: str,
    missing_reason: pd.Series | None = None,
    numerator: pd.Series | None = None,
    denominator: pd.Series | None = None,
) -> pd.DataFrame:
    """Assemble rows in the long layout with the right dtypes."""
    idx = value.index
    def col(v, dtype):
        if isinstance(v, pd.Series):
            return v.astype(dtype)
        return pd.Series(v if v is not None else (np.nan if dtype == "float64" else pd.NA),
                         index=idx, dtype=dtype)
    out = pd.DataFrame({
        "level": col(level, "string"),
        "la_code": col(la_code, "string"),
        "la_name": col(la_name, "string"),
        "year": col(year, "string"),
        "measure": col(measure, "string"),
        "value": col(value, "float64"),
        "numerator": col(numerator, "float64"),
        "denominator": col(denominator, "float64"),
        "missing_reason": col(missing_reason, "string"),
        "source": col(source, "string"),
    })
    out.loc[out["value"].isna() & out["missing_reason"].isna(), "missing_reason"] = "blank"
    return out.reset_index(drop=True)
