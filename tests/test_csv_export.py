"""CSV outputs cannot smuggle spreadsheet formulas (LA names and file contents are untrusted)."""

from __future__ import annotations

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from inclusion_index.csv_export import FORMULA_PREFIXES, neutralise, spreadsheet_safe, write_csv


def test_formula_like_text_is_quoted_and_numbers_untouched(tmp_path):
    df = pd.DataFrame({
        "la_name": ['=HYPERLINK("http://evil","x")', "+SUM(A1)", "-2+3", "@cmd", "\tTab", "Barnsley", None],
        "overall_score": [-1.5, 2.0, -3.0, 4.0, 5.0, 6.0, 7.0],
    })
    out = write_csv(df, tmp_path / "t.csv")
    back = pd.read_csv(out, keep_default_na=False)
    assert back["la_name"].tolist()[:6] == ["'=HYPERLINK(\"http://evil\",\"x\")", "'+SUM(A1)", "'-2+3", "'@cmd",
                                             "'\tTab", "Barnsley"]
    assert back["overall_score"].tolist() == [-1.5, 2.0, -3.0, 4.0, 5.0, 6.0, 7.0]
    # the frame passed in is not modified
    assert df.loc[0, "la_name"].startswith("=")


def test_index_and_column_labels_are_neutralised():
    df = pd.DataFrame({"=bad": ["ok"]}, index=pd.Index(["=idx"], name="measure"))
    safe = spreadsheet_safe(df)
    assert list(safe.columns) == ["'=bad"]
    assert list(safe.index) == ["'=idx"]


@given(st.text())
def test_neutralised_text_never_starts_with_a_formula_prefix(s):
    out = neutralise(s)
    assert not str(out).startswith(FORMULA_PREFIXES)
    # only ever adds one apostrophe, so the original is recoverable
    assert out == s or out == "'" + s


def test_score_table_of_a_real_edition_neutralises_a_formula_name(editions, tmp_path):
    import dataclasses

    from inclusion_index.index.edition import write_score_table
    from inclusion_index.report.notes import score_table_text
    table = editions["201819"].score_table.copy()
    table.loc[table["la_code"] == "202", "la_name"] = '=HYPERLINK("http://x","Camden")'
    ed = dataclasses.replace(editions["201819"], score_table=table)
    csv, pq, _dic = write_score_table(ed, tmp_path / "scores.csv", score_table_text(ed))
    t = pd.read_csv(csv, dtype=str, keep_default_na=False).set_index("la_code")
    assert t.loc["202", "la_name"] == "'=HYPERLINK(\"http://x\",\"Camden\")"
    assert not t["la_name"].str.startswith(FORMULA_PREFIXES).any()
    assert len(t) == 150 and t.loc["370", "la_name"] == "Barnsley"
    # Parquet keeps the raw value; typed readers do not evaluate formulas
    assert pd.read_parquet(pq).set_index("la_code").loc["202", "la_name"].startswith("=HYPERLINK")
    assert float(t.loc["202", "overall_score"]) == table.set_index("la_code").loc["202", "overall_score"]
