"""IoD2015 / IoD2019 upper-tier LA summaries loader."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from inclusion_index.errors import SchemaError, UnknownLACodeError
from inclusion_index.sources.geography import load_la_reference
from inclusion_index.sources.harmonise import measures_table, validate_long
from inclusion_index.sources.loaders import deprivation
from inclusion_index.sources.loaders.base import LoadContext
from inclusion_index.sources.registry import load_registry


@pytest.fixture(scope="module")
def ctx(data_dir: Path) -> LoadContext:
    return LoadContext(data_dir=data_dir, registry=load_registry())


@pytest.fixture(scope="module")
def long(ctx: LoadContext) -> pd.DataFrame:
    return deprivation.load(ctx)


def value(df: pd.DataFrame, code: str, year: str, measure: str) -> float:
    row = df[(df["la_code"] == code) & (df["year"] == year) & (df["measure"] == measure)]
    assert len(row) == 1, (code, year, measure)
    return float(row["value"].iloc[0])


def test_passes_project_validation(long: pd.DataFrame, ctx: LoadContext) -> None:
    validate_long(long, load_la_reference(ctx.data_dir), measures_table(["deprivation"]))


def test_row_counts(long: pd.DataFrame) -> None:
    n = long.groupby(["year", "measure"])["la_code"].nunique()
    assert set(n.loc["201516"]) == {152}
    assert set(n.loc["201920"]) == {151}
    assert long["value"].notna().all()
    assert (long["level"] == "la").all()


def test_rank_one(long: pd.DataFrame) -> None:
    top = long[long["measure"].str.contains("rank") & (long["value"] == 1)]
    got = dict(zip(zip(top["year"], top["measure"], strict=True), top["la_name"], strict=True))
    assert got == {
        ("201516", "iod_idaci_rank_avg_score"): "Tower Hamlets",
        ("201516", "iod_imd_rank_avg_score"): "Blackpool",
        ("201920", "iod_idaci_rank_avg_score"): "Middlesbrough",
        ("201920", "iod_imd_rank_avg_score"): "Blackpool",
    }


def test_known_values(long: pd.DataFrame) -> None:
    assert value(long, "805", "201516", "iod_idaci_avg_score") == pytest.approx(0.307)  # Hartlepool
    assert value(long, "805", "201920", "iod_idaci_avg_score") == pytest.approx(0.283)
    assert value(long, "806", "201920", "iod_imd_avg_score") == pytest.approx(40.460)  # Middlesbrough
    assert value(long, "806", "201920", "iod_idaci_prop_lsoa_10pct") == pytest.approx(0.4767)


def test_codes_follow_each_edition_geography(long: pd.DataFrame) -> None:
    y15 = set(long.loc[long["year"] == "201516", "la_code"])
    y19 = set(long.loc[long["year"] == "201920", "la_code"])
    assert {"835", "836", "837"} <= y15 and not {"838", "839"} & y15
    assert {"838", "839"} <= y19 and not {"835", "836", "837"} & y19


def test_city_of_london_and_scilly_have_own_values(long: pd.DataFrame) -> None:
    for year in ("201516", "201920"):
        m = "iod_idaci_avg_score"
        assert value(long, "201", year, m) != value(long, "204", year, m)  # Hackney
        assert value(long, "420", year, m) != value(long, "908", year, m)  # Cornwall
    assert value(long, "420", "201920", "iod_idaci_avg_score") == pytest.approx(0.032)


def test_normalise_header() -> None:
    assert deprivation.normalise_header("IDACI - Proportion  of LSOAs in most deprived 10% nationally ") == (
        "IDACI - Proportion of LSOAs in most deprived 10% nationally")
    assert deprivation.normalise_header(
        "Income Deprivation Affecting Children Index (IDACI) - Average score") == "IDACI - Average score"


def _copy(tmp_path: Path, ctx: LoadContext, source_id: str) -> tuple[LoadContext, Path]:
    dest = tmp_path / ctx.source(source_id).path
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(ctx.path(source_id), dest)
    dest.chmod(0o644)
    for ref_id in ("la_list_dfe", "la_list_lait"):  # the LA reference is read from the same folder
        link = tmp_path / ctx.source(ref_id).path
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(ctx.path(ref_id))
    return LoadContext(data_dir=tmp_path, registry=load_registry()), dest


def _edit_cell(path: Path, sheet: str, cell: str, new: object) -> None:
    with warnings.catch_warnings():  # the Notes sheet's text box is dropped; data sheets are kept
        warnings.simplefilter("ignore", UserWarning)
        wb = openpyxl.load_workbook(path)
    wb[sheet][cell] = new
    wb.save(path)


def test_renamed_column_names_file_column_year(tmp_path: Path, ctx: LoadContext) -> None:
    broken, dest = _copy(tmp_path, ctx, "iod2019_utla")
    _edit_cell(dest, "IDACI", "E1", "IDACI avg")  # was 'IDACI - Average score '
    with pytest.raises(SchemaError) as e:
        deprivation.load_edition(broken, "iod2019_utla")
    msg = str(e.value)
    assert "File_11_-_IoD2019" in msg and "IDACI - Average score" in msg and "201920" in msg


def test_unknown_area_code_is_an_error(tmp_path: Path, ctx: LoadContext) -> None:
    broken, dest = _copy(tmp_path, ctx, "iod2015_utla")
    _edit_cell(dest, "IMD", "A2", "E06999999")
    with pytest.raises(UnknownLACodeError, match=r"2015_Upper-tier.*E06999999.*201516"):
        deprivation.load_edition(broken, "iod2015_utla")


def test_bad_cell_names_column_and_year(tmp_path: Path, ctx: LoadContext) -> None:
    broken, dest = _copy(tmp_path, ctx, "iod2015_utla")
    _edit_cell(dest, "IMD", "E3", "n/k")
    with pytest.raises(SchemaError, match=r"IMD - Average score.*201516"):
        deprivation.load_edition(broken, "iod2015_utla")
