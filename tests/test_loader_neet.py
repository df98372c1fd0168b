"""16-17 NEET or not known by SEND, NCCIS LA dashboard files 2021-2025."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pandas as pd
import pytest

from inclusion_index.errors import ConfigError, SchemaError
from inclusion_index.sources import harmonise
from inclusion_index.sources.geography import load_la_reference
from inclusion_index.sources.loaders import neet
from inclusion_index.sources.loaders.base import LONG_COLUMNS, LoadContext
from inclusion_index.sources.registry import load_registry

SEND = ["neet_nk_ehcp_pct", "neet_nk_sen_support_pct", "neet_nk_no_sen_pct", "neet_cohort_ehcp_pct"]


@pytest.fixture(scope="module")
def ctx(data_dir: Path) -> LoadContext:
    return LoadContext(data_dir=data_dir, registry=load_registry())


@pytest.fixture(scope="module")
def frame(ctx: LoadContext) -> pd.DataFrame:
    return neet.load(ctx)


def _one(frame: pd.DataFrame, la_code: str, year: str, measure: str) -> pd.Series:
    rows = frame[(frame["la_code"] == la_code) & (frame["year"] == year) & (frame["measure"] == measure)]
    assert len(rows) == 1, (la_code, year, measure, len(rows))
    return rows.iloc[0]


def test_year_labels() -> None:
    reg = load_registry()
    assert neet.file_label(reg["neet_2022"]) == "2022"  # the entry's release
    assert neet.academic_year("2022") == "202122"  # Dec 2021-Feb 2022 average
    with pytest.raises(ConfigError, match=r"'neet_2022'.*4-digit year.*'June 2022'"):
        neet.file_label(dataclasses.replace(reg["neet_2022"], release="June 2022"))


def test_reads_every_nccis_dashboard_in_the_registry() -> None:
    reg = load_registry()
    assert tuple(s.id for s in reg.sources if s.format == "nccis_dashboard") == neet.SOURCES
    assert len(neet.SOURCES) == 5


def test_layout_and_validation(frame: pd.DataFrame, data_dir: Path) -> None:
    assert list(frame.columns) == LONG_COLUMNS
    harmonise.validate_long(frame, load_la_reference(data_dir), harmonise.measures_table(["neet"]))
    assert sorted(frame["year"].unique()) == ["202021", "202122", "202223", "202324", "202425"]
    assert set(frame["level"]) == {"la", "national"}
    vals = frame["value"].dropna()
    assert vals.between(0, 100).all()


def test_la_counts_per_year(frame: pd.DataFrame) -> None:
    la = frame[frame["level"] == "la"]
    counts = la.groupby("year")["la_code"].nunique().to_dict()
    # City of London and Isles of Scilly are reported with Hackney and Cornwall; the 2021
    # file's "LA demo" row is dropped, leaving 149 real LAs (Jan 2021 geography)
    assert counts == {"202021": 149, "202122": 150, "202223": 150, "202324": 151, "202425": 151}
    assert "LA demo" not in set(la["la_name"])
    assert not {"201", "420"} & set(la["la_code"])


def test_england_and_barnet_values(frame: pd.DataFrame) -> None:
    assert _one(frame, "E92000001", "202223", "neet_nk_ehcp_pct")["value"] == 10.1
    assert _one(frame, "E92000001", "202425", "neet_nk_all_pct")["value"] == 5.6
    b = _one(frame, "302", "202223", "neet_nk_ehcp_pct")
    assert b["value"] == 3.5
    assert b["denominator"] == pytest.approx(8348 * 4.0 / 100)  # derived EHCP cohort
    assert _one(frame, "302", "202223", "neet_all_pct")["denominator"] == 8348


def test_2021_send_not_published_for_las(frame: pd.DataFrame) -> None:
    y = frame[(frame["year"] == "202021") & (frame["level"] == "la")]
    send = y[y["measure"].isin(SEND)]
    assert send["value"].isna().all()
    assert (send["missing_reason"] == "not published for LAs in 2021").all()
    assert y.loc[y["measure"] == "neet_nk_all_pct", "value"].notna().sum() == 149


def test_2021_england_send_copied_from_2022_is_dropped(frame: pd.DataFrame) -> None:
    r = _one(frame, "E92000001", "202021", "neet_nk_ehcp_pct")
    assert pd.isna(r["value"]) and "repeat the 2022 file" in r["missing_reason"]
    assert _one(frame, "E92000001", "202021", "neet_nk_all_pct")["value"] == 5.5


def test_suppressed_and_not_applicable(frame: pd.DataFrame) -> None:
    s = frame[(frame["measure"] == "neet_nk_sen_support_pct") & (frame["year"] == "202122")
              & (frame["level"] == "la")]
    reasons = s.loc[s["value"].isna(), "missing_reason"].value_counts().to_dict()
    assert reasons == {"suppressed (confidential, c)": 4, "not applicable (z)": 2}
    assert _one(frame, "831", "202122", "neet_nk_sen_support_pct")["missing_reason"] == "not applicable (z)"


# ------------------------------------------------------------------ broken copies

def _copy_all(tmp_path: Path, ctx: LoadContext) -> LoadContext:
    for sid in neet.SOURCES:
        dest = tmp_path / ctx.source(sid).path
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ctx.path(sid), dest)
    return LoadContext(data_dir=tmp_path, registry=ctx.registry)


def _edit_header(path: Path, old: str, new: str | None) -> None:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df = df.drop(columns=old) if new is None else df.rename(columns={old: new})
    df.to_csv(path, index=False)


def test_renamed_column_names_file_column_year(tmp_path: Path, ctx: LoadContext) -> None:
    broken = _copy_all(tmp_path, ctx)
    _edit_header(broken.path("neet_2024"), "NEET_NK_EHCP_percent", "NEET_NK_EHCP_pct")
    with pytest.raises(SchemaError) as e:
        neet.load(broken)
    msg = str(e.value)
    assert ctx.source("neet_2024").path in msg and "NEET_NK_EHCP_percent" in msg and "year 202324" in msg


def test_unused_columns_may_come_and_go(tmp_path: Path, ctx: LoadContext) -> None:
    broken = _copy_all(tmp_path, ctx)
    _edit_header(broken.path("neet_2022"), "Age1617_ONS_population", None)
    _edit_header(broken.path("neet_2023"), "avg_att8", None)
    out = neet.load(broken)
    assert out["year"].nunique() == 5


def test_wrong_time_period_is_caught(tmp_path: Path, ctx: LoadContext) -> None:
    broken = _copy_all(tmp_path, ctx)
    p = broken.path("neet_2025")
    df = pd.read_csv(p, dtype=str, keep_default_na=False)
    df["time_period"] = "2024"
    df.to_csv(p, index=False)
    with pytest.raises(SchemaError) as e:
        neet.load(broken)
    assert "time_period" in str(e.value) and "year 202425" in str(e.value)


def test_unknown_cell_names_column_and_year(tmp_path: Path, ctx: LoadContext) -> None:
    broken = _copy_all(tmp_path, ctx)
    p = broken.path("neet_2023")
    df = pd.read_csv(p, dtype=str, keep_default_na=False)
    df.loc[df["la_name"] == "Barnet", "NEET_percent"] = "n.a."
    df.to_csv(p, index=False)
    with pytest.raises(SchemaError) as e:
        neet.load(broken)
    msg = str(e.value)
    assert ctx.source("neet_2023").path in msg and "'NEET_percent'" in msg and "year 202223" in msg
