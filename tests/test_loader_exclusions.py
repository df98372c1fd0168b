"""Exclusions by SEN provision: the 2011/12-2016/17 count file and the 2019/20+ termly rates."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from inclusion_index.errors import MissingSourceError, SchemaError, UnknownLACodeError
from inclusion_index.sources import harmonise
from inclusion_index.sources.geography import load_la_reference
from inclusion_index.sources.loaders import exclusions
from inclusion_index.sources.loaders.base import LONG_COLUMNS, LoadContext
from inclusion_index.sources.registry import load_registry

ZIP_YEARS = ["201112", "201213", "201314", "201415", "201516", "201617"]
GROUPS = ["ehcp", "sen_support", "no_sen", "all"]


@pytest.fixture(scope="module")
def ctx(data_dir: Path) -> LoadContext:
    return LoadContext(data_dir=data_dir, registry=load_registry())


@pytest.fixture(scope="module")
def frame(ctx: LoadContext) -> pd.DataFrame:
    return exclusions.load(ctx)


def _one(frame: pd.DataFrame, la_code: str, year: str, measure: str) -> pd.Series:
    rows = frame[(frame["la_code"] == la_code) & (frame["year"] == year) & (frame["measure"] == measure)]
    assert len(rows) == 1, (la_code, year, measure, len(rows))
    return rows.iloc[0]


def test_layout_and_validation(frame: pd.DataFrame, data_dir: Path) -> None:
    assert list(frame.columns) == LONG_COLUMNS
    harmonise.validate_long(frame, load_la_reference(data_dir), harmonise.measures_table(["exclusions"]))
    declared = set(harmonise.measures_table(["exclusions"])["measure"])
    assert set(frame["measure"]) == declared


def test_barnet_2016_17_permanent_exclusions_by_group(frame: pd.DataFrame) -> None:
    nums = {g: _one(frame, "302", "201617", f"excl_perm_rate_{g}")["numerator"] for g in GROUPS}
    assert (nums["no_sen"], nums["ehcp"], nums["sen_support"]) == (26, 0, 18)
    assert nums["no_sen"] + nums["ehcp"] + nums["sen_support"] == nums["all"] == 44
    assert _one(frame, "302", "201617", "excl_headcount_all")["value"] == 57032
    ehcp = _one(frame, "302", "201617", "excl_fixed_rate_ehcp")
    assert (ehcp["value"], ehcp["numerator"], ehcp["denominator"]) == (13.16, 210, 1596)


def test_england_2016_17_ehcp_fixed_rate(frame: pd.DataFrame) -> None:
    r = _one(frame, "E92000001", "201617", "excl_fixed_rate_ehcp")
    assert r["level"] == "national"
    assert (r["value"], r["numerator"], r["denominator"]) == (15.93, 36005, 225955)


def test_la_headcounts_add_up_to_england(frame: pd.DataFrame) -> None:
    hc = frame[frame["measure"].str.startswith("excl_headcount_")]
    las = hc[hc["level"] == "la"].groupby(["measure", "year"])["value"].sum()
    eng = hc[hc["level"] == "national"].set_index(["measure", "year"])["value"]
    assert len(eng) == 24
    pd.testing.assert_series_equal(las.sort_index(), eng.sort_index(), check_names=False)


def test_zip_has_152_las_every_year(frame: pd.DataFrame) -> None:
    z = frame[(frame["source"] == "excl_la_char_zip") & (frame["level"] == "la")]
    counts = z.groupby(["measure", "year"])["la_code"].nunique()
    assert sorted(z["year"].unique()) == ZIP_YEARS
    assert (counts == 152).all()
    # terminated LAs of the time are kept, not dropped
    assert {"835", "836", "837", "909", "928"} <= set(z["la_code"])


def test_suppressed_cells_are_nan_with_reason(frame: pd.DataFrame) -> None:
    perm = frame[(frame["measure"] == "excl_perm_rate_ehcp") & (frame["level"] == "la")]
    sup = perm[perm["value"].isna()]
    assert len(sup) == 303  # x = 1 or 2 exclusions: a third of LA-years for EHCP pupils
    assert sup["missing_reason"].str.startswith("suppressed (x").all()
    assert sup["numerator"].isna().all()
    halton = _one(frame, "876", "201617", "excl_fixed_rate_ehcp")
    assert pd.isna(halton["value"]) and halton["missing_reason"].startswith("suppressed")
    assert halton["denominator"] == 404


def test_termly_sum_of_three_terms(frame: pd.DataFrame) -> None:
    # Barnet 2022/23, EHC plan suspensions: 3.444 + 3.615 + 4.290
    assert _one(frame, "302", "202223", "excl_fixed_rate_termsum_ehcp")["value"] == pytest.approx(11.349)
    assert _one(frame, "302", "202223", "excl_perm_rate_termsum_no_sen")["value"] == pytest.approx(0.018)
    r = _one(frame, "302", "202223", "excl_perm_rate_termsum_ehcp")
    assert r["source"] == "excl_termly_sen" and pd.isna(r["numerator"]) and pd.isna(r["denominator"])


def test_termly_la_counts_and_partial_years(frame: pd.DataFrame) -> None:
    t = frame[frame["source"] == "excl_termly_sen"]
    assert set(t["level"]) == {"la"}
    with_value = t[t["measure"] == "excl_fixed_rate_termsum_ehcp"].groupby("year")["value"].count()
    assert with_value.to_dict() == {"201920": 151, "202021": 150, "202122": 152, "202223": 152,
                                    "202324": 153, "202425": 0}
    late = t[t["year"] == "202425"]
    # 6 termly-sum measures and 3 annual ones (two rates and the estimated-term count)
    assert len(late) == 153 * 9 and late["value"].isna().all()
    assert (late["missing_reason"] == "partial year (2 of 3 terms)").all()
    # Northamptonshire has no summer 2020/21 term (it was abolished on 1 April 2021)
    n = _one(frame, "928", "202021", "excl_perm_rate_termsum_sen_support")
    assert pd.isna(n["value"]) and n["missing_reason"] == "partial year (2 of 3 terms)"


def test_termly_ons_codes_reach_one_la_code(frame: pd.DataFrame) -> None:
    t = frame[(frame["source"] == "excl_termly_sen") & (frame["measure"] == "excl_fixed_rate_termsum_ehcp")]
    # Buckinghamshire (E10000002 -> E06000060 in 2020) and North Yorkshire / Somerset
    # (E10 -> E06 in 2023) keep DfE codes 825, 815 and 933 throughout
    for code in ("825", "815", "933"):
        assert sorted(t.loc[t["la_code"] == code, "year"]) == [
            "201920", "202021", "202122", "202223", "202324", "202425"]


# ------------------------------------------------------------------ broken copies

def _broken_dir(tmp_path: Path, data_dir: Path) -> Path:
    """A data folder holding the LA lookup (needed to map ONS codes) and nothing else yet."""
    (tmp_path / "la_lookup").symlink_to(data_dir / "la_lookup", target_is_directory=True)
    return tmp_path


def test_zip_renamed_column_names_file_column_year(tmp_path: Path, data_dir: Path, ctx: LoadContext) -> None:
    reg = ctx.registry
    src = reg["excl_la_char_zip"]
    dest = _broken_dir(tmp_path, data_dir) / src.path
    dest.parent.mkdir(parents=True)
    with zipfile.ZipFile(ctx.path("excl_la_char_zip")) as zin, zin.open(exclusions._ZIP_MEMBER) as fh:
        head = [next(fh).decode("utf-8") for _ in range(50)]
    head[0] = head[0].replace("fixed_excl_rate", "fixed_rate")
    with zipfile.ZipFile(dest, "w") as zout:
        zout.writestr(exclusions._ZIP_MEMBER, "".join(head))
    broken = LoadContext(data_dir=tmp_path, registry=reg)
    with pytest.raises(SchemaError) as e:
        exclusions._load_zip(broken)
    msg = str(e.value)
    assert src.path in msg and "fixed_excl_rate" in msg and "2011/12-2016/17" in msg


def _termly_copy(tmp_path: Path, data_dir: Path, ctx: LoadContext, edit) -> LoadContext:
    src = ctx.source("excl_termly_sen")
    dest = _broken_dir(tmp_path, data_dir) / src.path
    dest.parent.mkdir(parents=True)
    with gzip.open(ctx.path("excl_termly_sen"), "rt", encoding="utf-8") as fh:
        text = fh.read()
    with gzip.open(dest, "wt", encoding="utf-8") as fh:
        fh.write(edit(text))
    return LoadContext(data_dir=tmp_path, registry=ctx.registry)


def test_termly_renamed_column(tmp_path: Path, data_dir: Path, ctx: LoadContext) -> None:
    def rename(text: str) -> str:
        header, rest = text.split("\n", 1)
        return header.replace(",metric,", ",measure_name,") + "\n" + rest
    broken = _termly_copy(tmp_path, data_dir, ctx, rename)
    with pytest.raises(SchemaError) as e:
        exclusions._load_termly(broken)
    msg = str(e.value)
    assert ctx.source("excl_termly_sen").path in msg and "'metric'" in msg and "2019/20-2024/25" in msg


def test_termly_bad_cell_names_year(tmp_path: Path, data_dir: Path, ctx: LoadContext) -> None:
    def spoil(text: str) -> str:
        lines = text.split("\n")
        i = next(i for i, ln in enumerate(lines) if ln.startswith("202223,") and ",Total," in ln
                 and ln.endswith(",susp_rate,3.444"))
        lines[i] = lines[i][: -len("3.444")] + "three"
        return "\n".join(lines)
    broken = _termly_copy(tmp_path, data_dir, ctx, spoil)
    with pytest.raises(SchemaError) as e:
        exclusions._load_termly(broken)
    msg = str(e.value)
    assert "'value'" in msg and "year 202223" in msg and "'three'" in msg


def test_termly_unknown_ons_code(tmp_path: Path, data_dir: Path, ctx: LoadContext) -> None:
    broken = _termly_copy(tmp_path, data_dir, ctx, lambda t: t.replace(",E09000003,", ",E09999999,"))
    with pytest.raises(UnknownLACodeError) as e:
        exclusions._load_termly(broken)
    assert "E09999999" in str(e.value) and "new_la_code" in str(e.value)


def test_missing_file_is_reported(tmp_path: Path, ctx: LoadContext) -> None:
    broken = LoadContext(data_dir=tmp_path, registry=ctx.registry)
    with pytest.raises(MissingSourceError) as e:
        exclusions._load_zip(broken)
    assert ctx.source("excl_la_char_zip").path in str(e.value)
