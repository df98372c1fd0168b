"""Statistical neighbours: the real DfE files, their move onto each edition's geography, and
comparisons with scores; broken copies of the workbook fail naming file, column and year."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from inclusion_index.errors import SchemaError
from inclusion_index.index.edition import score_table
from inclusion_index.index.neighbours import neighbour_comparison, statistical_neighbours
from inclusion_index.sources.loaders.base import LoadContext
from inclusion_index.sources.neighbour_files import model_for, read_sn_file
from inclusion_index.sources.registry import load_registry

from .conftest import mirror_with

SN_2025 = "statistical_neighbours/sn_may_2025.xlsx"


@pytest.fixture(scope="module")
def ctx(data_dir: Path) -> LoadContext:
    return LoadContext(data_dir=data_dir, registry=load_registry())


def test_model_choice() -> None:
    assert model_for("201819") == "sn_2021"
    assert model_for("202223") == "sn_2021"
    assert model_for("202324") == "sn_2025"
    assert model_for("202425") == "sn_2025"


def test_read_real_files(ctx: LoadContext) -> None:
    sn21 = read_sn_file(ctx, "sn_2021")
    sn25 = read_sn_file(ctx, "sn_2025")
    # 2021: Cumberland and Westmorland are listed with '-' in every cell (the model predates them)
    no_nb = sn21.listed.loc[~sn21.listed["has_neighbours"], "la_code"]
    assert set(no_nb) == {"942", "943"}
    assert set(sn21.listed.loc[sn21.listed["section"] == "old", "la_code"]) == {"835", "836", "837", "928"}
    assert set(sn25.listed.loc[sn25.listed["section"] == "old", "la_code"]) == {"835", "836", "837", "928", "909"}
    assert sn25.listed["has_neighbours"].all()
    for sn in (sn21, sn25):
        assert not sn.listed.duplicated(["la_code", "section"]).any()
        counts = sn.neighbours.groupby(["la_code", "section"])["neighbour_rank"].agg(["count", "min", "max"])
        assert (counts["count"] == 10).all() and (counts["min"] == 1).all() and (counts["max"] == 10).all()
        # two capitalisations in the files ("Very Close", "Very close") become one set of bands
        assert set(sn.neighbours["closeness"]) <= {"Extremely close", "Very close", "Close", "Somewhat close",
                                                   "Not close"}
    assert len(sn21.listed) == 158 and len(sn25.listed) == 158


def _nb(sn, la: str, rank: int, section: str = "current") -> tuple[str, str]:
    r = sn.neighbours[(sn.neighbours["la_code"] == la) & (sn.neighbours["section"] == section)
                      & (sn.neighbours["neighbour_rank"] == rank)]
    assert len(r) == 1
    return r["neighbour_code"].iloc[0], r["closeness"].iloc[0]


def test_known_pairs(ctx: LoadContext) -> None:
    sn21 = read_sn_file(ctx, "sn_2021")
    sn25 = read_sn_file(ctx, "sn_2025")
    assert _nb(sn21, "202", 1) == ("213", "Very close")  # Camden -> Westminster
    assert _nb(sn21, "884", 1) == ("893", "Extremely close")  # Herefordshire -> Shropshire
    assert _nb(sn21, "884", 10) == ("909", "Very close")  # ... and Cumbria, still one county
    assert _nb(sn25, "370", 1) == ("372", "Very close")  # Barnsley -> Rotherham
    assert _nb(sn25, "301", 10) == ("203", "Somewhat close")  # Barking and Dagenham -> Greenwich
    assert _nb(sn25, "943", 1) == ("884", "Very close")  # Westmorland and Furness -> Herefordshire
    assert _nb(sn25, "837", 1, "old") == ("882", "Very close")  # Bournemouth (old rows) -> Southend


@pytest.mark.parametrize("year,source", [("201819", "sn_2021"), ("202425", "sn_2025")])
def test_every_la_has_ten_neighbours(editions, data_dir: Path, year: str, source: str) -> None:
    ed = editions[year]
    ns = statistical_neighbours(year, la_codes=list(ed.geography["la_code"]), data_dir=data_dir)
    assert ns.source_id == source
    assert set(ns.table["la_code"]) == set(ed.geography["la_code"])
    assert np.allclose(ns.table.groupby("la_code")["weight"].sum(), 10)  # slots filled
    assert (ns.table.groupby("la_code")["neighbour_rank"].nunique() == 10).all()
    assert ns.issues.empty, ns.issues
    # every neighbour is an LA of the edition's January census (City of London may be one)
    live = set(ed.geography["la_code"]) | {"201", "420"}
    assert set(ns.table["neighbour_code"]) <= live
    assert not (ns.table["la_code"] == ns.table["neighbour_code"]).any()


def test_2019_geography_mapping(data_dir: Path) -> None:
    ns = statistical_neighbours("201819", data_dir=data_dir)
    t = ns.table
    # Southend names BCP (839, from April 2019): Poole and Bournemouth share its slot
    sth = t[(t["la_code"] == "882") & (t["file_code"] == "839")]
    assert set(sth["neighbour_code"]) == {"836", "837"}
    assert sth["weight"].tolist() == [0.5, 0.5] and sth["neighbour_rank"].nunique() == 1
    assert sth["flag"].str.contains("predecessors 836").all()
    # Swindon names North and West Northamptonshire (2021): both slots go to Northamptonshire
    sw = t[(t["la_code"] == "866") & (t["neighbour_code"] == "928")]
    assert sorted(sw["file_code"]) == ["940", "941"] and sw["weight"].sum() == 2
    # Dorset unitary (838) -> Dorset county (835) one to one
    assert set(t.loc[t["file_code"] == "838", "neighbour_code"]) == {"835"}
    # LAs gone by 2021 take their rows from the file's Old SNs section
    old = t[t["la_code"].isin(["835", "836", "837", "928"])]
    assert old["from_old_model"].all() and not t.loc[~t.index.isin(old.index), "from_old_model"].any()
    assert (t["borrowed_from"] == "").all()
    assert t.loc[(t["la_code"] == "837") & (t["neighbour_rank"] == 1), "neighbour_code"].item() == "882"


def _ns(ed, data_dir: Path):
    return statistical_neighbours(ed.final_year, la_codes=list(ed.geography["la_code"]), data_dir=data_dir)


def _compare(ed, code: str, data_dir: Path):
    return neighbour_comparison(ed.score_table, code, _ns(ed, data_dir), ed.ref.names())


def test_comparison(editions, data_dir: Path) -> None:
    ed = editions["202425"]
    c = _compare(ed, "370", data_dir)  # Barnsley
    assert list(c["role"]) == ["la"] + ["neighbour"] * 10 + ["neighbour mean"]
    assert c["neighbour_rank"].iloc[1:11].tolist() == list(range(1, 11))
    assert c["la_code"].iloc[1] == "372"
    s = score_table(ed, extended=False).set_index("la_code")
    nb = c[c["role"] == "neighbour"]
    assert np.allclose(nb["overall_score"], s.loc[nb["la_code"], "overall_score"])
    assert c["overall_score"].iloc[-1] == pytest.approx(s.loc[nb["la_code"], "overall_score"].mean())
    for a in ("overall", "placement"):
        scores = c.loc[c["role"] != "neighbour mean", f"{a}_score"]
        pos = c.loc[0, f"{a}_group_position"]
        assert pos == 1 + (scores.iloc[1:] > scores.iloc[0]).sum()
    with pytest.raises(ValueError, match="999"):
        _compare(ed, "999", data_dir)


def test_comparison_shared_slots(editions, data_dir: Path) -> None:
    c = _compare(editions["201819"], "866", data_dir)  # Swindon
    nb = c[c["role"] == "neighbour"]
    assert nb["weight"].sum() == pytest.approx(10)
    assert nb.loc[nb["la_code"] == "928", "weight"].item() == 2
    assert nb.loc[nb["la_code"].isin(["836", "837"]), "weight"].tolist() == [0.5, 0.5]
    assert c["overall_score"].iloc[-1] == pytest.approx(np.average(nb["overall_score"], weights=nb["weight"]))


def _edit_workbook(real: Path, edit) -> bytes:
    wb = openpyxl.load_workbook(real)
    edit(wb["LA SN Groups"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_renamed_header_names_file_column_year(data_dir: Path, tmp_path: Path) -> None:
    def rename(ws) -> None:
        assert ws.cell(row=3, column=10).value == "SN3"
        ws.cell(row=3, column=10).value = "SN 3 (neighbour)"

    mirror = mirror_with(data_dir, tmp_path / "raw", {SN_2025: _edit_workbook(data_dir / SN_2025, rename)})
    with pytest.raises(SchemaError) as e:
        statistical_neighbours("202425", data_dir=mirror)
    msg = str(e.value)
    assert SN_2025 in msg and "'SN3'" in msg and "year 2025" in msg and "SN 3 (neighbour)" in msg


def test_bad_band_and_missing_sheet(data_dir: Path, tmp_path: Path) -> None:
    def bad_band(ws) -> None:
        ws.cell(row=4, column=7).value = "Quite close"

    mirror = mirror_with(data_dir, tmp_path / "a", {SN_2025: _edit_workbook(data_dir / SN_2025, bad_band)})
    with pytest.raises(SchemaError, match=r"sn_may_2025\.xlsx.*Quite close.*SNP"):
        statistical_neighbours("202425", data_dir=mirror)

    def rename_sheet(ws) -> None:
        ws.title = "Neighbours"

    mirror = mirror_with(data_dir, tmp_path / "b", {SN_2025: _edit_workbook(data_dir / SN_2025, rename_sheet)})
    with pytest.raises(SchemaError, match=r"sn_may_2025\.xlsx.*LA SN Groups"):
        statistical_neighbours("202425", data_dir=mirror)


def test_unknown_neighbour_code(data_dir: Path, tmp_path: Path) -> None:
    def bad_code(ws) -> None:
        ws.cell(row=4, column=6).value = "999"

    mirror = mirror_with(data_dir, tmp_path / "raw", {SN_2025: _edit_workbook(data_dir / SN_2025, bad_code)})
    with pytest.raises(SchemaError, match=r"sn_may_2025\.xlsx.*999"):
        statistical_neighbours("202425", data_dir=mirror)
