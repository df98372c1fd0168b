"""DfE Local Authority Interactive Tool (LAIT) big data set: many DfE releases in one long file, in
its latest vintage only (revised figures, today's LA list, 3-digit LA numbers). Which LAIT measure
feeds which project measure is data/registry/measures/lait.csv (`source_column` = `Short Desc`).
"""

from __future__ import annotations

import pandas as pd

from inclusion_index.errors import SchemaError
from inclusion_index.paths import REGISTRY_DIR
from inclusion_index.sources.loaders.base import (
    LoadContext,
    family,
    first_row,
    la_code3,
    long_frame,
    parse_values,
    require_columns,
)

_COLUMNS = ["Short Desc", "Years", "LA and Regions", "Values", "LA Number"]

# LAIT numbers its England and region rows; map them to ONS codes so they join other sources.
_LAIT_AREAS = {"970": ("national", "E92000001"), **{str(n): ("regional", code) for n, code in zip(range(980, 991), (
    "E12000001", "E12000002", "E12000003", "E12000004", "E12000005", "E12000006", "E12000007", "E13000001",
    "E13000002", "E12000008", "E12000009"), strict=True)}}


def academic_year_from_label(label: str) -> str | None:
    """LAIT year labels -> academic-year key.

    '2019' names the summer (exams), the January (census) or the December-February window
    (NEET) that fall in academic year 2018/19; '2018/19' names it directly.
    """
    s = str(label).strip()
    if len(s) == 4 and s.isdigit():
        y = int(s)
        return f"{y - 1}{y % 100:02d}"
    if len(s) == 7 and s[4] == "/" and s[:4].isdigit() and s[5:].isdigit():
        return s[:4] + s[5:]
    return None


def load_bds(ctx: LoadContext, sid: str = "lait_bds") -> pd.DataFrame:
    """Format ``lait_bds_long``: LAIT's big data set, one row per measure × area × year."""
    src = ctx.source(sid)
    try:
        raw = pd.read_parquet(ctx.path(sid), columns=_COLUMNS)
    except Exception as e:  # pyarrow raises several types for a broken or renamed file
        raise SchemaError(src.path, f"cannot read LAIT parquet ({e})",
                          expected=f"a parquet file with columns {_COLUMNS}") from e
    require_columns(raw, _COLUMNS, src.path)
    spec = pd.read_csv(REGISTRY_DIR / "measures" / "lait.csv", dtype=str)
    wanted = dict(zip(spec["source_column"], spec["measure"], strict=True))
    if missing := sorted(set(wanted) - set(raw["Short Desc"].unique())):
        raise SchemaError(src.path, "LAIT measure(s) not found", column="Short Desc",
                          expected=f"rows for {missing}")
    df = raw[raw["Short Desc"].isin(list(wanted))].copy()
    df["year"] = df["Years"].map(academic_year_from_label)
    if (r := first_row(df, df["year"].isna())) is not None:
        raise SchemaError(src.path, f"unrecognised year label {r['Years']!r} for {r['Short Desc']}",
                          column="Years", expected="'YYYY' or 'YYYY/YY'")
    df["code"] = la_code3(df["LA Number"])
    df["level"], df["la_code"] = zip(*df["code"].map(lambda c: _LAIT_AREAS.get(c, ("la", c))), strict=True)
    values, reason = parse_values(df, "Values", src.path, year_column="year")
    return long_frame(level=df["level"], la_code=df["la_code"], la_name=df["LA and Regions"].str.strip(),
                      year=df["year"], measure=df["Short Desc"].map(wanted), value=values,
                      missing_reason=reason, source=sid)


FORMATS = {"lait_bds_long": load_bds}


sources, load = family("lait", FORMATS)
SOURCES = sources()
