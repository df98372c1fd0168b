"""What every loader shares: finding its files in the registry, the long layout, column
checks and number parsing that name the file, column and year when something is wrong."""

from __future__ import annotations

import csv
import difflib
import gzip
import io
import itertools
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd

from inclusion_index.errors import ConfigError, SchemaError
from inclusion_index.sources.geography import check_year_key
from inclusion_index.sources.parsing import parse_numeric_column
from inclusion_index.sources.registry import Registry, Source, load_registry, resolve

# level: "national" | "regional" | "la"; la_code: 3-digit DfE code for LAs, E92000001 for
# England, the ONS region code for regions; year: academic-year key such as "201819".
LONG_COLUMNS = ["level", "la_code", "la_name", "year", "measure", "value", "numerator", "denominator",
                "missing_reason", "source"]


@dataclass(frozen=True)
class LoadContext:
    data_dir: Path
    registry: Registry

    def source(self, source_id: str) -> Source:
        return self.registry[source_id]

    def path(self, source_id: str) -> Path:
        return resolve(self.registry[source_id], self.data_dir)


# --------------------------------------------------------------------------- the registry

def entries(registry: Registry, loader: str, formats: Mapping[str, object], *,
            required: bool = True) -> tuple[Source, ...]:
    """The registry entries one loader reads, in registry order, each with a format it knows.

    ``required``: a loader with no entry at all is a registry mistake (a family would vanish
    from the index without a word), so it is an error unless asked otherwise.
    """
    found = registry.for_loader(loader)
    for s in found:
        if s.format not in formats:
            raise ConfigError(
                f"{registry.origin}: entry {s.id!r} ({s.path}) has format {s.format!r}, which "
                f"loaders/{loader}.py does not read (its formats: {', '.join(sorted(formats))}); "
                "a genuinely new file layout needs a reader there (docs/NEW_YEAR.md)")
    if required and not found:
        raise ConfigError(f"{registry.origin}: no entry has `loader: {loader}`; its measures would be "
                          "missing from the index")
    return found


def source_ids(loader: str, registry: Registry | None = None, *, also: Sequence[str] = ()) -> tuple[str, ...]:
    """Ids of the entries a loader reads (plus ``also``: files it reads by name, such as the LA
    list behind the LA reference), for harmonise's cache key and checksum check."""
    reg = registry or load_registry()
    return tuple(dict.fromkeys([*(s.id for s in reg.for_loader(loader)), *also]))


def latest_release_wins(parts: Sequence[tuple[Source, pd.DataFrame]],
                        keys: Sequence[str] = ("year", "measure")) -> list[pd.DataFrame]:
    """Where several releases hold the same ``keys`` (by default a measure in a year), only the rows
    of the latest by ``published``; an earlier release keeps the years only it has, and overlapping
    entries without distinct dates are refused (docs/DATA_LOG.md, "overlapping releases"). Frames
    come back in the order given."""
    cover = [set(df[list(keys)].drop_duplicates().itertuples(index=False, name=None)) for _, df in parts]
    for (i, (a, _)), (j, (b, _)) in itertools.combinations(enumerate(parts), 2):
        shared = cover[i] & cover[j]
        if shared and (not a.published or not b.published or a.published == b.published):
            example = ", ".join(map(str, sorted(shared)[0]))
            raise ConfigError(
                f"registry entries {a.id!r} and {b.id!r} both hold {len(shared)} "
                f"{'/'.join(keys)} combination(s) (e.g. {example}) but cannot be ordered "
                f"(published: {a.published!r}, {b.published!r}); give each a distinct `published` "
                "date (the later release wins) or remove the superseded entry")
    out: list[pd.DataFrame] = [df for _, df in parts]
    taken: set[tuple] = set()
    for i in sorted(range(len(parts)), key=lambda k: parts[k][0].published or "", reverse=True):
        df = parts[i][1]
        if taken & cover[i]:
            kept = ~pd.MultiIndex.from_frame(df[list(keys)]).isin(list(taken))
            out[i] = df[kept]
        taken |= cover[i]
    return out


Reader = Callable[[LoadContext, str], pd.DataFrame]


def family(loader: str, formats: Mapping[str, Reader], *, also: Sequence[str] = ()
           ) -> tuple[Callable[..., tuple[str, ...]], Callable[[LoadContext], pd.DataFrame]]:
    """A loader module's ``sources(registry=None)`` (the ids it reads, plus ``also``) and ``load(ctx)``
    (each registered file read by its format, the later release winning where two overlap)."""
    def sources(registry: Registry | None = None) -> tuple[str, ...]:
        return source_ids(loader, registry, also=also)

    def load(ctx: LoadContext) -> pd.DataFrame:
        found = entries(ctx.registry, loader, formats)
        return pd.concat(latest_release_wins([(s, formats[s.format](ctx, s.id)) for s in found]), ignore_index=True)

    return sources, load


# --------------------------------------------------------------------------- reading files

def read_csv(ctx: LoadContext, source_id: str, *, needed: Sequence[str] | None = None, required: Sequence[str] = (),
             year: str | Callable[[pd.DataFrame], str | None] | None = None, **kwargs) -> pd.DataFrame:
    """Read a registered CSV (optionally gzipped) as text, tolerating a UTF-8 BOM, with the columns
    ``required`` (a missing one is reported in ``year``, or ``year(table)``).

    Everything is read as text so that suppression markers survive to be parsed with reasons.
    The bytes are decompressed and decoded here rather than by pandas so that a cut .gz, a
    non-UTF-8 file or a row cut short is reported with the file's name, not as a pandas error.
    """
    src = ctx.source(source_id)
    data = ctx.path(source_id).read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (EOFError, OSError, zlib.error) as e:
            raise SchemaError(src.path, f"cannot decompress ({type(e).__name__}: {e})",
                              expected="a complete gzip file; re-fetch it") from e
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise SchemaError(src.path, f"not valid UTF-8 text ({e.reason} at byte {e.start})",
                          expected="a UTF-8 CSV as published by DfE") from e
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, **kwargs)
    except pd.errors.EmptyDataError as e:
        raise SchemaError(src.path, "file is empty", expected="a CSV with a header row") from e
    except pd.errors.ParserError as e:
        raise SchemaError(src.path, f"malformed CSV ({e})", expected="a well-formed CSV") from e
    df.columns = [str(c).strip() for c in df.columns]
    if df.empty:
        raise SchemaError(src.path, "file has a header but no rows", expected="data rows")
    check_complete_rows(text, src.path, needed=needed)
    require_columns(df, required, src.path, year(df) if callable(year) else year)
    return df


def check_complete_rows(text: str, file: str, needed: Sequence[str] | None = None) -> None:
    """Refuse a row with fewer fields than the header.

    pandas pads a short row with empty cells instead of failing, so a file cut mid-row would
    otherwise load with its last LA's cells read as blanks (or a number cut short).
    ``needed``: the columns the loader reads; a row need only reach the last of them (DfE's
    January 2021 school census file ends independent schools' rows before its last two FSM
    columns); a needed column missing from the header is left to :func:`require_columns`.
    """
    reader = csv.reader(io.StringIO(text))
    header = next(reader, [])
    names = [h.strip() for h in header]
    width = len(header) if needed is None else max([names.index(c) + 1 for c in needed if c in names] or [1])
    for row in reader:
        if row and len(row) < width:
            raise SchemaError(file, f"line {reader.line_num} has {len(row)} of {len(header)} fields (file "
                              "truncated or a row cut short)", column=header[len(row)].strip(),
                              expected="every row as long as the header; re-fetch the file")


def read_sheet_columns(path: Path, file: str, year: str, sheet: str, columns: Sequence[str]) -> pd.DataFrame:
    """Only ``columns`` of one workbook sheet, as text, streamed (a school census sheet has ~24k
    rows); a missing sheet or column, or no rows, names file, column and year."""
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises several types for a broken workbook
        raise SchemaError(file, f"cannot open workbook ({e})", year=year, expected="an .xlsx workbook") from e
    try:
        if sheet not in wb.sheetnames:
            raise SchemaError(file, f"sheet {sheet!r} not found (sheets: {wb.sheetnames})", year=year,
                              expected=f"a sheet named {sheet!r}")
        rows = wb[sheet].iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
        require_columns(pd.DataFrame(columns=header), columns, file, year, sheet=sheet)
        idx = [header.index(c) for c in columns]
        data = [["" if i >= len(r) or r[i] is None else str(r[i]).strip() for i in idx]
                for r in rows if any(v is not None for v in r)]
    finally:
        wb.close()
    if not data:
        raise SchemaError(file, f"sheet {sheet!r} has a header but no rows", year=year, expected="data rows")
    return pd.DataFrame(data, columns=list(columns), dtype="string")


def require_columns(df: pd.DataFrame, columns: Iterable[str], file: str, year: str | None = None,
                    sheet: str | None = None) -> None:
    columns = list(columns)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        # a renamed column usually looks like the old name: say which, so the fix is obvious
        spare = [str(c) for c in df.columns if c not in columns]
        similar = {m: difflib.get_close_matches(m, spare, n=1, cutoff=0.8) for m in missing}
        hint = "; ".join(f"found {s[0]!r}, renamed?" for s in similar.values() if s)
        where = f" in sheet {sheet!r}" if sheet else f" ({hint})" if hint else ""
        raise SchemaError(file, "required column missing" + where, column=", ".join(missing), year=year,
                          expected=f"columns {columns} (found {list(df.columns)[:12]}…)"
                          + (f"; {hint}" if sheet and hint else ""))


def parse_values(df: pd.DataFrame, column: str, file: str, year_column: str | None = None, *,
                 count: bool = False) -> tuple[pd.Series, pd.Series]:
    """Parse one numeric column; on a bad cell, name file, column and the year of that row.

    ``count``: the column holds head counts (pupils, plans, exclusions, schools), so a negative
    number is an error, not a value: a sum of components would otherwise hide it.
    """
    try:
        values, reasons = parse_numeric_column(df[column])
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
    if count and (values < 0).any():
        i = int(np.flatnonzero((values < 0).to_numpy())[0])
        row = df.iloc[i]
        year = str(row[year_column]) if year_column is not None and year_column in df.columns else None
        where = next((str(row[c]) for c in ("la_name", "LA Name", "new_la_code", "old_la_code") if c in df.columns), "")
        raise SchemaError(file, f"negative count {values.iloc[i]:g}" + (f" ({where})" if where else ""),
                          column=column, year=year, expected="a count of 0 or more")
    return values, reasons


def first_row(df: pd.DataFrame | pd.Series, bad: pd.Series) -> pd.Series | object | None:
    """The first row (value) of ``df`` where ``bad`` holds (the one an error names), or None."""
    return df[bad].iloc[0] if bad.any() else None


def check_year_keys(df: pd.DataFrame, file: str, column: str = "time_period") -> pd.Series:
    """The column stripped, refused unless every value is an academic-year key such as '201819'."""
    s = df[column].str.strip()
    for y in s.unique():
        try:
            check_year_key(str(y))
        except ValueError as e:
            raise SchemaError(file, f"unexpected {column} {y!r}", column=column, year=str(y),
                              expected="an academic-year key such as '201819'") from e
    return s


def check_la_codes(df: pd.DataFrame, is_la: pd.Series, file: str, year: str | None = None) -> None:
    """Refuse an LA row whose ``la_code`` is not 3 digits: it would join no other source.
    ``df`` keeps the row's own ``la_name`` (and ``time_period``, the year when ``year`` is None)."""
    bad = is_la & ~df["la_code"].str.fullmatch(r"\d{3}", na=False)
    if (r := first_row(df, bad)) is not None:
        raise SchemaError(file, f"LA row without a 3-digit old_la_code ({r['la_name']!r})", column="old_la_code",
                          year=year if year is not None else str(r["time_period"]),
                          expected="a 3-digit DfE LA code on every Local authority row")


GEO_LEVELS = ("National", "Regional", "Local authority")


def check_levels(geo: pd.Series, file: str, year: str | None = None) -> None:
    """Refuse a geographic_level DfE does not use: its rows would otherwise drop out unseen."""
    bad = ~geo.isin(GEO_LEVELS)
    if bad.any():
        raise SchemaError(file, f"unknown geographic levels {sorted(set(geo[bad]))}", column="geographic_level",
                          year=year, expected="National, Regional or Local authority")


def one_academic_year(source: Source, what: str) -> str:
    """A registry entry's ``years`` '2018/19' -> '201819', for files holding one academic year."""
    y = str(source.years).strip()
    if not (len(y) == 7 and y[4] == "/" and y[:4].isdigit() and y[5:].isdigit()
            and int(y[5:]) == (int(y[:4]) + 1) % 100):
        raise ConfigError(f"registry entry {source.id!r} ({source.path}): {what} entry's years must be "
                          f"one academic year like '2023/24', got {source.years!r}")
    return y[:4] + y[5:]


def la_code3(codes: pd.Series) -> pd.Series:
    """'302', 302, 302.0 -> '302'; anything else is kept as text for the unknown-code check."""
    s = codes.astype("string").str.strip().str.replace(r"\.0$", "", regex=True)
    return s.where(~s.str.fullmatch(r"\d{1,3}", na=False), s.str.zfill(3))


# census_year and school_rows serve the census and context families, so they live here, in the module
# every family's cache key covers (harmonise._code_fingerprint), not in either family's own module
def census_year(source: Source) -> str:
    """The registry's ``years`` '2023/24' -> '202324' (one January census per file)."""
    return one_academic_year(source, "a school census")


def school_rows(raw: pd.DataFrame, file: str, year: str, types: list[str], where: str, *,
                identical_once: bool = False) -> pd.DataFrame:
    """The school rows of a census file (numeric URN; "NAT" rows are DfE's summaries) with ``la_code``,
    refused on a URN twice (an identical repeat counts once if ``identical_once``), a ``SCHOOLTYPE``
    (where read) not in ``types`` (``where`` classifies them) or an LA that is not 3 digits."""
    urn = raw["URN"].str.strip().str.replace(r"\.0$", "", regex=True)
    school = urn.str.fullmatch(r"\d+")
    if (odd := first_row(urn, ~school & (urn != "NAT"))) is not None:
        raise SchemaError(file, f"row with URN {odd!r} is neither a school nor a summary row", column="URN",
                          year=year, expected="a numeric URN, or one of ['NAT']")
    df = raw[school].assign(URN=urn[school])
    # the January 2018 file repeats one school's row (URN 141353) byte for byte: counted once
    df = df.drop_duplicates() if identical_once else df
    if (r := first_row(df, df["URN"].duplicated())) is not None:
        raise SchemaError(file, f"URN {r['URN']} appears more than once", column="URN", year=year,
                          expected="one row per school")
    if "SCHOOLTYPE" in df:
        df["SCHOOLTYPE"] = df["SCHOOLTYPE"].str.strip()
        if (r := first_row(df, ~df["SCHOOLTYPE"].isin(types))) is not None:
            raise SchemaError(file, f"unknown school type {r['SCHOOLTYPE']!r}", column="SCHOOLTYPE", year=year,
                              expected=f"one of {sorted(types)}; classify it in {where}")
    df["la_code"] = la_code3(df["LA"])
    if (r := first_row(df, ~df["la_code"].str.fullmatch(r"\d{3}", na=False))) is not None:
        raise SchemaError(file, f"school {r['URN']} has LA {r['LA']!r}", column="LA", year=year,
                          expected="a 3-digit DfE LA code on every school row")
    return df


def long_frame(*, level: pd.Series | str, la_code: pd.Series, la_name: pd.Series, year: pd.Series | str,
               measure: pd.Series | str, value: pd.Series, source: str,
               missing_reason: pd.Series | None = None, numerator: pd.Series | None = None,
               denominator: pd.Series | None = None) -> pd.DataFrame:
    """Assemble rows in the long layout with the right dtypes."""
    idx = value.index
    def col(v, dtype):
        if isinstance(v, pd.Series):
            return v.astype(dtype)
        return pd.Series(v if v is not None else (np.nan if dtype == "float64" else pd.NA),
                         index=idx, dtype=dtype)
    out = pd.DataFrame({
        "level": col(level, "string"), "la_code": col(la_code, "string"), "la_name": col(la_name, "string"),
        "year": col(year, "string"), "measure": col(measure, "string"), "value": col(value, "float64"),
        "numerator": col(numerator, "float64"), "denominator": col(denominator, "float64"),
        "missing_reason": col(missing_reason, "string"), "source": col(source, "string")})
    out.loc[out["value"].isna() & out["missing_reason"].isna(), "missing_reason"] = "blank"
    return out.reset_index(drop=True)
