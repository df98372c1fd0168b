import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from inclusion_index.sources.parsing import SUPPRESSION_MARKERS, parse_numeric_column


def parse_number(cell: object) -> tuple[float, str | None]:
    """One cell through the column parser: (value, None) for a number, (nan, reason) for a marker."""
    values, reasons = parse_numeric_column(pd.Series([cell], dtype=object))
    return float(values.iloc[0]), None if pd.isna(reasons.iloc[0]) else str(reasons.iloc[0])


@pytest.mark.parametrize("marker", ["c", "x", "z", ":", "-", "low", "SUPP", "NA", "", " x ", "C", "Low"])
def test_markers_are_missing_with_reason_never_zero(marker):
    value, reason = parse_number(marker)
    assert math.isnan(value)
    assert reason


def test_numbers_with_commas_percent_and_exponent():
    assert parse_number("1,234") == (1234.0, None)
    assert parse_number("0.40%") == (0.4, None)
    assert parse_number("3.0849999999999999E-2")[0] == pytest.approx(0.03085)
    assert parse_number("-1.02") == (-1.02, None)


def test_unknown_text_is_an_error_not_missing():
    with pytest.raises(ValueError, match="neither numbers"):
        parse_number("n.a.")
    with pytest.raises(ValueError, match=r"1 cell\(s\).*'twelve'"):
        parse_numeric_column(pd.Series(["1", "twelve", "x"]))


def test_column_parse_keeps_reasons_aligned():
    vals, reasons = parse_numeric_column(pd.Series(["5", "c", "z", "7.5", ""]))
    assert vals.tolist()[0] == 5.0 and vals.tolist()[3] == 7.5
    assert np.isnan(vals.iloc[1]) and np.isnan(vals.iloc[2]) and np.isnan(vals.iloc[4])
    assert reasons.tolist()[1].startswith("suppressed")
    assert reasons.tolist()[2].startswith("not applicable")
    assert reasons.tolist()[4] == "blank"
    assert reasons.isna().tolist() == [True, False, False, True, False]


_markers = st.sampled_from([m for m in SUPPRESSION_MARKERS if m != "nan"])
_numbers = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9)


@given(st.lists(st.one_of(_markers, _numbers.map(repr)), min_size=1, max_size=40))
def test_property_every_cell_is_a_number_or_a_reason(cells):
    vals, reasons = parse_numeric_column(pd.Series(cells, dtype="string"))
    for cell, v, r in zip(cells, vals, reasons, strict=True):
        if cell.strip().lower() in SUPPRESSION_MARKERS:
            assert np.isnan(v) and isinstance(r, str)
        else:
            assert v == pytest.approx(float(cell)) and r is pd.NA


def test_commas_only_as_thousands_separators():
    assert parse_number("1,234") == (1234.0, None)
    assert parse_number("-12,345.5") == (-12345.5, None)
    for bad in ("1,5", "12,34", "1,2345"):
        with pytest.raises(ValueError, match="neither numbers"):
            parse_number(bad)
    values, _ = parse_numeric_column(pd.Series(["1,234", "x", "3.5"]))
    assert values.tolist()[0] == 1234.0 and values.tolist()[2] == 3.5
    with pytest.raises(ValueError, match="'1,5'"):
        parse_numeric_column(pd.Series(["2", "1,5"]))
