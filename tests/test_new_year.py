"""Adding a year is new files and registry entries, no code (issue 4, docs/NEW_YEAR.md).

Each test builds a data folder like the real one plus one real DfE file re-registered as next
year's release under a new id and path, writes a copy of data/registry/sources.yml with that
entry, and loads it through harmonise.load_inputs(..., registry=copy) with the project's code
untouched: the new year must come out with the file's values, and every other year exactly as
from the real registry.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from inclusion_index.errors import ConfigError, SchemaError
from inclusion_index.paths import REGISTRY_DIR
from inclusion_index.sources.harmonise import load_inputs
from inclusion_index.sources.loaders import base, neet
from inclusion_index.sources.registry import Registry, Source, load_registry, sha256_of

from .conftest import mirror_with

KEY = ["level", "la_code", "year", "measure"]
BARNET = "302"
REAL = load_registry()


def _registry_with(tmp_path: Path, data: Path, new: list[dict]) -> Registry:
    """A copy of the project registry plus ``new`` entries (sha256 and size filled in)."""
    raw = yaml.safe_load((REGISTRY_DIR / "sources.yml").read_text(encoding="utf-8"))
    for e in new:
        f = data / e["path"]
        raw["sources"].append({**e, "sha256": sha256_of(f), "bytes": f.stat().st_size})
    path = tmp_path / "registry" / "sources.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return load_registry(path)


def _entry(like: str, **changes: str) -> dict:
    """A registry entry copied from an existing one (same loader and format), then changed."""
    s = REAL[like]
    e = {k: getattr(s, k) for k in Source.__dataclass_fields__ if getattr(s, k) is not None}
    e.pop("sha256"), e.pop("bytes", None)
    return {**e, **changes}


def _indexed(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(KEY).set_index(KEY)


@pytest.fixture(scope="module")
def real_long(data_dir: Path, cache_dir: Path) -> pd.DataFrame:
    return load_inputs(data_dir, families=["neet", "sen2", "deprivation"], cache_dir=cache_dir)  # the run's shared cache


def _same_except(new: pd.DataFrame, real: pd.DataFrame, drop: pd.Series) -> None:
    """Every row of ``real`` not dropped is in ``new`` unchanged, and nothing else is."""
    kept = new[~new["source"].str.endswith("_next")]
    pd.testing.assert_frame_equal(_indexed(kept), _indexed(real[~drop]))


# ------------------------------------------------------------------ NEET: a 2026 dashboard

def test_a_new_neet_dashboard_is_a_registry_entry(data_dir: Path, tmp_path: Path,
                                                  real_long: pd.DataFrame) -> None:
    d = mirror_with(data_dir, tmp_path / "raw", {})
    src = pd.read_csv(data_dir / REAL["neet_2025"].path, dtype=str, keep_default_na=False)
    nxt = src.assign(time_period="2026")
    barnet = nxt["old_la_code"].eq(BARNET)
    nxt.loc[barnet, "NEET_NK_EHCP_percent"] = "4.2"  # so the value is seen to come from this file
    # England's SEND row differs from 2025's, else 2025's would read as a copy of it (neet.py)
    nxt.loc[nxt["geographic_level"].eq("National"), "NEET_NK_noSEN_percent"] = "4.3"
    rel = "neet_la/nccis_la_dashboard/UD_NEETNK_LA_dashboard_2026_final.csv"
    nxt.to_csv(d / rel, index=False)
    reg = _registry_with(tmp_path, d, [_entry("neet_2025", id="neet_next", path=rel, release="2026",
                                              years="Dec 2025-Feb 2026")])
    assert "neet_next" in neet.sources(reg) and "neet_next" not in neet.SOURCES

    new = load_inputs(d, registry=reg, families=["neet"], cache_dir=tmp_path / "cache")

    real = real_long[real_long["source"].str.startswith("neet_")]
    _same_except(new, real, pd.Series(False, index=real.index))
    y26 = _indexed(new[new["year"] == "202526"])
    y25 = _indexed(real[real["year"] == "202425"])
    assert set(new.loc[new["year"] == "202526", "source"]) == {"neet_next"}
    assert y26.index.droplevel("year").equals(y25.index.droplevel("year"))
    assert y26.index.get_level_values("la_code").nunique() == 152  # 151 LAs and England
    same = ~(y26.index.get_level_values("la_code").isin([BARNET, "E92000001"]))
    np.testing.assert_array_equal(y26["value"].to_numpy()[same], y25["value"].to_numpy()[same])
    np.testing.assert_allclose(y26["denominator"].to_numpy(), y25["denominator"].to_numpy())
    assert y26.loc[("la", BARNET, "202526", "neet_nk_ehcp_pct"), "value"] == 4.2
    assert y25.loc[("la", BARNET, "202425", "neet_nk_ehcp_pct"), "value"] != 4.2
    assert y26.loc[("national", "E92000001", "202526", "neet_nk_no_sen_pct"), "value"] == 4.3


def test_a_dashboard_whose_year_disagrees_with_its_entry_is_refused(data_dir: Path, tmp_path: Path) -> None:
    d = mirror_with(data_dir, tmp_path / "raw", {})
    rel = "neet_la/next.csv"
    shutil.copyfile(data_dir / REAL["neet_2025"].path, d / rel)
    reg = _registry_with(tmp_path, d, [_entry("neet_2025", id="neet_next", path=rel, release="2026")])
    with pytest.raises(SchemaError, match=r"neet_la/next.csv: time_period is \['2025'\], not the file's year"):
        load_inputs(d, registry=reg, families=["neet"], use_cache=False)


# ------------------------------------------------------------------ SEN2: a later release

def _sen2_next(data_dir: Path, d: Path) -> str:
    """The 2025 caseload release as if re-issued in 2026: January 2026 added (a copy of
    January 2025) and Barnet's January 2024 total revised up by 10."""
    df = pd.read_csv(data_dir / REAL["sen2_caseload_2025"].path, dtype=str, keep_default_na=False,
                     encoding="utf-8-sig")
    jan25 = df[df["time_period"] == "202425"].assign(time_period="202526")
    df = pd.concat([df, jan25], ignore_index=True)
    hit = (df["time_period"] == "202324") & (df["old_la_code"] == BARNET) & df["breakdown"].eq("All EHC plans")
    assert hit.sum() == 1
    df.loc[hit, "ehcplans"] = str(int(df.loc[hit, "ehcplans"].iloc[0]) + 10)
    rel = "ehcp_sen2/ees_2026_release/caseload.csv.gz"
    (d / rel).parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(d / rel, "wt", encoding="utf-8", newline="") as fh:
        df.to_csv(fh, index=False)
    return rel


def test_a_later_sen2_release_wins_for_the_years_it_covers(data_dir: Path, tmp_path: Path,
                                                            real_long: pd.DataFrame) -> None:
    d = mirror_with(data_dir, tmp_path / "raw", {})
    rel = _sen2_next(data_dir, d)
    reg = _registry_with(tmp_path, d, [_entry("sen2_caseload_2025", id="sen2_caseload_next", path=rel,
                                              release="reporting year 2026", years="Jan 2019-Jan 2026",
                                              published="2026-06")])

    new = load_inputs(d, registry=reg, families=["sen2"], cache_dir=tmp_path / "cache")

    real = real_long[real_long["source"].str.startswith("sen2_")]
    by_year = new.groupby("year")["source"].agg(lambda s: ", ".join(sorted(set(s))))
    assert (by_year[by_year.index < "201819"] == "sen2_caseload_2022").all()
    # the later release replaces the 2025 one for January 2019-2025; SEMH stays 2025's
    assert (by_year[(by_year.index >= "201819") & (by_year.index < "202425")] == "sen2_caseload_next").all()
    assert by_year["202425"] == "sen2_caseload_next, sen2_needs_2025"
    assert by_year["202526"] == "sen2_caseload_next"
    assert "sen2_caseload_2025" not in set(new["source"])

    # years only the 2022 release has, and the SEMH file, are exactly as before
    old = real["source"].isin(["sen2_caseload_2022", "sen2_needs_2025"])
    pd.testing.assert_frame_equal(_indexed(new[new["source"].isin(["sen2_caseload_2022", "sen2_needs_2025"])]),
                                  _indexed(real[old]))
    total = new[new["measure"] == "sen2_ehcp_total"].set_index(["la_code", "year"])["value"]
    real_total = real[real["measure"] == "sen2_ehcp_total"].set_index(["la_code", "year"])["value"]
    assert total[(BARNET, "202324")] == real_total[(BARNET, "202324")] + 10
    jan26 = total.xs("202526", level="year").sort_index()
    jan25 = real_total.xs("202425", level="year").sort_index()
    pd.testing.assert_series_equal(jan26, jan25)
    for y in ("201819", "202021", "202425"):  # unrevised years carry the same values
        pd.testing.assert_series_equal(total.xs(y, level="year").sort_index(),
                                       real_total.xs(y, level="year").sort_index())


def test_overlapping_releases_without_published_dates_are_refused(data_dir: Path, tmp_path: Path) -> None:
    d = mirror_with(data_dir, tmp_path / "raw", {})
    rel = _sen2_next(data_dir, d)
    reg = _registry_with(tmp_path, d, [_entry("sen2_caseload_2025", id="sen2_caseload_next", path=rel,
                                              published="2025-06")])
    with pytest.raises(ConfigError, match=r"'sen2_caseload_2025' and 'sen2_caseload_next' both hold .*published"):
        load_inputs(d, registry=reg, families=["sen2"], use_cache=False)


# ------------------------------------------------------------------ IoD: a new edition

def test_a_new_iod_edition_in_the_same_format_is_a_registry_entry(data_dir: Path, tmp_path: Path,
                                                                  real_long: pd.DataFrame) -> None:
    d = mirror_with(data_dir, tmp_path / "raw", {})
    rel = "deprivation_iod/iod_next/File_11_upper_tier_summaries.xlsx"
    (d / rel).parent.mkdir(parents=True)
    shutil.copyfile(data_dir / REAL["iod2019_utla"].path, d / rel)
    reg = _registry_with(tmp_path, d, [_entry("iod2019_utla", id="iod_next", path=rel, years="2025")])

    new = load_inputs(d, registry=reg, families=["deprivation"], cache_dir=tmp_path / "cache")

    assert sorted(new["year"].unique()) == ["201516", "201920", "202526"]
    real = real_long[real_long["source"].str.startswith("iod")]
    _same_except(new, real, pd.Series(False, index=real.index))
    y = new[new["year"] == "202526"].drop(columns=["year", "source"]).sort_values(KEY[:2] + KEY[3:])
    was = real[real["year"] == "201920"].drop(columns=["year", "source"]).sort_values(KEY[:2] + KEY[3:])
    pd.testing.assert_frame_equal(y.reset_index(drop=True), was.reset_index(drop=True))


# ------------------------------------------------------------------ the rule, on its own

def _src(sid: str, published: str | None) -> Source:
    return Source(id=sid, path=f"{sid}.csv", dataset="d", publication="p", release="r", years="y",
                  licence="OGL-3.0", sha256="0" * 64, loader="sen2", format="caseload_ees2025",
                  published=published)


def _frame(years: list[str], value: float) -> pd.DataFrame:
    return pd.DataFrame({"year": years, "measure": "m", "value": value})


def test_latest_release_wins_year_by_year_and_keeps_the_order() -> None:
    a = _frame(["201718", "201819", "201920"], 1.0)
    b = _frame(["201819", "201920", "202021"], 2.0)
    kept = base.latest_release_wins([(_src("old", "2022-06"), a), (_src("new", "2025-06-26"), b)])
    assert kept[0]["year"].tolist() == ["201718"] and kept[1].equals(b)
    # the registry order of entries does not matter, only their dates
    kept = base.latest_release_wins([(_src("new", "2025-06"), b), (_src("old", "2022-06"), a)])
    assert kept[0].equals(b) and kept[1]["year"].tolist() == ["201718"]
    # releases that do not overlap need no dates
    c = _frame(["202122"], 3.0)
    assert base.latest_release_wins([(_src("x", None), a), (_src("y", None), c)])[1].equals(c)
    with pytest.raises(ConfigError, match=r"'x' and 'y' both hold 2 year/measure combination\(s\)"):
        base.latest_release_wins([(_src("x", None), a), (_src("y", "2025-06"), b)])


def test_a_shared_cache_sees_a_new_registry_entry(data_dir: Path, tmp_path: Path) -> None:
    d = mirror_with(data_dir, tmp_path / "raw", {})
    rel = "neet_la/next.csv"
    src = pd.read_csv(data_dir / REAL["neet_2025"].path, dtype=str, keep_default_na=False)
    src.assign(time_period="2026", NEET_percent="3.0").to_csv(d / rel, index=False)
    reg = _registry_with(tmp_path, d, [_entry("neet_2025", id="neet_next", path=rel, release="2026")])
    load_inputs(d, families=["neet"], cache_dir=tmp_path / "cache")
    new = load_inputs(d, registry=reg, families=["neet"], cache_dir=tmp_path / "cache")
    assert "202526" in set(new["year"])
