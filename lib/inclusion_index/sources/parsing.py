"""Turn DfE cells into numbers, keeping the reason whenever a cell is not a number.

DfE and its derived tables mark missing cells with several codes; none of them is a zero.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

# Code -> reason shown to readers. Matching is case-insensitive, after stripping spaces.
SUPPRESSION_MARKERS: dict[str, str] = {
    "c": "suppressed (confidential, c)", "x": "not available (x)", "z": "not applicable (z)",
    ":": "not available (:)", "-": "not published (-)", "..": "not available (..)", "~": "fewer than 0.5 (~)",
    "low": "suppressed (low)", "supp": "suppressed (SUPP)", "na": "not available (NA)",
    "n/a": "not available (n/a)", "nan": "blank", "": "blank", "u": "unreliable (u)", "*": "suppressed (*)",
    "np": "not published (NP)"}

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?\s*%?$")


def parse_numeric_column(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Vectorised parse of a column. Returns (float values, reason or <NA>).

    Raises ValueError naming the first unparseable cell and how many there are.
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        out = values.astype("float64")
        reason = pd.Series(pd.NA, index=values.index, dtype="string")
        reason[out.isna()] = "blank"
        return out, reason
    text = values.astype("string").str.strip()
    # a comma is a thousands separator only in groups of three ("1,234"); "1,5" is not 15
    grouped = text.str.fullmatch(_THOUSANDS.pattern).fillna(False).astype(bool)
    cleaned = text.where(~grouped, text.str.replace(",", "", regex=False)).str.replace("%", "", regex=False)
    is_num = cleaned.str.fullmatch(_NUMBER.pattern).fillna(False).astype(bool)
    out = pd.Series(np.nan, index=values.index, dtype="float64")
    out[is_num] = cleaned[is_num].astype("float64")
    lowered = text.str.lower().fillna("")
    known = lowered.isin(list(SUPPRESSION_MARKERS))
    bad = ~is_num & ~known
    if bad.any():
        raise ValueError(f"{int(bad.sum())} cell(s) are neither numbers nor known suppression markers "
                         f"(first: {text[bad].iloc[0]!r})")
    reason = pd.Series(pd.NA, index=values.index, dtype="string")
    reason[~is_num] = lowered[~is_num].map(SUPPRESSION_MARKERS)
    return out, reason
