"""Raw DfE KS4 LA-characteristics loader, checked against real published figures."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from inclusion_index.errors import SchemaError
from inclusion_index.sources.geography import load_la_reference
from inclusion_index.sources.harmonise import measures_table, validate_long
from inclusion_index.sources.loaders import ks4
from inclusion_index.sources.loaders.base import LoadContext
from inclusion_index.sources.registry import load_registry


@pytest.fixture(scope="module")
def ctx(data_dir: Path) -> LoadContext:
    return LoadContext(data_dir=data_dir, registry=load_registry())


@pytest.fixture(scope="module")
def long(ctx: LoadContext) -> pd.DataFrame:
    return ks4.load(ctx)


def value(df: pd.DataFrame, code: str, year: str, measure: str) -> float:
    row = df[(df["la_code"] == code) & (df["year"] == year) & (df["measure"] == measure)]
    assert len(row) == 1, (code, year, measure)
    return float(row["value"].iloc[0])


def test_passes_project_validation(long: pd.DataFrame, ctx: LoadContext) -> None:
    validate_long(long, load_la_reference(ctx.data_dir), measures_table(["ks4"]))


def test_england_2018_19_published_values(long: pd.DataFrame) -> None:
    assert value(long, "E92000001", "201819", "ks4raw_a8_ehcp") == pytest.approx(13.7)
    assert value(long, "E92000001", "201819", "ks4raw_p8_ehcp") == pytest.approx(-1.17)
    assert value(long, "E92000001", "201819", "ks4raw_a8_all") == pytest.approx(46.8)
    assert value(long, "E92000001", "201819", "ks4raw_pupils_ehcp") == 20371


def test_barnet_matches_lait(long: pd.DataFrame) -> None:
    # LAIT: Barnet EHC P8 2019 -1.02; 2018 EHC A8 19.5, P8 -0.67, all-pupil A8 56.0
    assert value(long, "302", "201819", "ks4raw_p8_ehcp") == pytest.approx(-1.02)
    assert value(long, "302", "201718", "ks4raw_a8_ehcp") == pytest.approx(2656.25 / 136)
    assert round(value(long, "302", "201718", "ks4raw_p8_ehcp"), 2) == -0.67
    assert round(value(long, "302", "201718", "ks4raw_a8_all"), 1) == 56.0


def test_numerator_and_denominator_filled(long: pd.DataFrame) -> None:
    r = long[(long["la_code"] == "302") & (long["year"] == "201819") & (long["measure"] == "ks4raw_p8_ehcp")]
    assert r["numerator"].iloc[0] == pytest.approx(-113.61)
    assert r["denominator"].iloc[0] == 111


def test_rows_per_year(long: pd.DataFrame) -> None:
    la = long[long["level"] == "la"]
    n = la.groupby(["year", "measure"])["la_code"].nunique()
    assert set(n.loc["201718"]) == {151}  # no City of London
    assert set(n.loc["201819"]) == {150}  # BCP and Dorset (2019) replace 835/836/837
    assert {"835", "836", "837"} <= set(la.loc[la["year"] == "201718", "la_code"])
    assert {"838", "839"} <= set(la.loc[la["year"] == "201819", "la_code"])
    assert set(long.loc[long["level"] == "national", "year"]) == {"201819"}


def test_absent_group_is_missing_with_reason(long: pd.DataFrame) -> None:
    scilly = long[(long["la_code"] == "420") & long["measure"].str.endswith("_ehcp")]
    assert len(scilly) == 6
    assert scilly["value"].isna().all()
    assert set(scilly["missing_reason"]) == {ks4.NO_ROW}
    assert long.loc[long["value"].notna(), "missing_reason"].isna().all()


def test_pupil_counts_add_up_to_england(long: pd.DataFrame) -> None:
    y = long[(long["year"] == "201819") & long["measure"].str.startswith("ks4raw_pupils_")]
    sums = y.groupby(["measure", "level"])["value"].sum().unstack()
    assert (sums["la"] == sums["national"]).all()


def _ctx_with_copy(tmp_path: Path, ctx: LoadContext, source_id: str) -> tuple[LoadContext, Path]:
    rel = ctx.source(source_id).path
    dest = tmp_path / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(ctx.path(source_id), dest)
    dest.chmod(0o644)
    return LoadContext(data_dir=tmp_path, registry=load_registry()), dest


def test_renamed_column_names_file_column_year(tmp_path: Path, ctx: LoadContext) -> None:
    broken, dest = _ctx_with_copy(tmp_path, ctx, "ks4_la_char_201718")
    text = dest.read_text(encoding="utf-8")
    dest.write_text(text.replace(",t_att8,", ",t_att8_total,", 1), encoding="utf-8")
    with pytest.raises(SchemaError) as e:
        ks4.load_201718(broken)
    msg = str(e.value)
    assert "ks4_sen_la/2017-18/KS4_2018_LA_Char_Testdata.csv" in msg
    assert "t_att8" in msg and "201718" in msg


def test_unknown_marker_names_column_and_year(tmp_path: Path, ctx: LoadContext) -> None:
    broken, dest = _ctx_with_copy(tmp_path, ctx, "ks4_la_char_201718")
    df = pd.read_csv(dest, dtype=str, keep_default_na=False)
    df.loc[5, "t_pupils"] = "oops"
    df.to_csv(dest, index=False)
    with pytest.raises(SchemaError, match=r"KS4_2018_LA_Char_Testdata\.csv.*'t_pupils'.*201718"):
        ks4.load_201718(broken)


def test_xlsx_missing_column_names_file_column_year(tmp_path: Path, ctx: LoadContext) -> None:
    rel = ctx.source("ks4_la_char_201819").path
    dest = tmp_path / rel
    dest.parent.mkdir(parents=True)
    # a small workbook with the real header minus avg_p8score stands in for a renamed column
    header = [c for c in ks4._ID + ks4._CHAR_201819 + ks4._TOTALS + ks4._AVG_201819 if c != "avg_p8score"]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(header)
    wb.save(dest)
    with pytest.raises(SchemaError) as e:
        ks4.load_201819(LoadContext(data_dir=tmp_path, registry=load_registry()))
    msg = str(e.value)
    assert rel in msg and "avg_p8score" in msg and "201819" in msg
