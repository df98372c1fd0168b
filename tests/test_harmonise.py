import io

import pandas as pd
import pytest

from inclusion_index.errors import MissingSourceError, SchemaError, UnknownLACodeError
from inclusion_index.sources.harmonise import LoadReport, coverage, coverage_matrix, load_inputs
from inclusion_index.sources.loaders.lait import academic_year_from_label

from .conftest import mirror_with

LAIT = "lait_la_indicators/bds_long_0.parquet"


@pytest.fixture(scope="module", autouse=True)
def parsers_see_broken_copies():
    """The failure tests here feed altered copies of real files to the parsers and validators;
    the load-time checksum check would refuse them first (tests/test_input_integrity.py)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("INCLUSION_VERIFY_CHECKSUMS", "0")
    yield
    mp.undo()


@pytest.fixture(scope="module")
def lait_long(data_dir, cache_dir):
    return load_inputs(data_dir, families=["lait"], cache_dir=cache_dir)  # the run's shared cache


def _value(long, measure, year, code):
    r = long[(long["measure"] == measure) & (long["year"] == year) & (long["la_code"] == code)]
    assert len(r) == 1
    return r["value"].iloc[0]


def test_year_labels():
    assert academic_year_from_label("2019") == "201819"
    assert academic_year_from_label("2018/19") == "201819"
    assert academic_year_from_label("2016-17 (OT)") is None


def test_lait_real_values(lait_long):
    assert _value(lait_long, "lait_ks4_a8_ehcp", "201819", "E92000001") == 13.7
    assert _value(lait_long, "lait_ehcp_pct_pupils", "201819", "E92000001") == 3.1
    assert _value(lait_long, "lait_ks4_a8_ehcp", "201718", "837") == 13.0  # Bournemouth, pre-merger
    assert _value(lait_long, "lait_ks4_a8_ehcp", "201819", "839") == 13.1  # BCP reports 2019 results


# LAIT Short Desc, year label, England and Barnet (302) as printed in bds_long_0.parquet
_LAIT_CHECKED = [
    ("lait_ehcp_pct_pupils_primary", "PrimStatements", "2019", 1.6, 2.1),
    ("lait_ehcp_pct_pupils_secondary", "SecStatements", "2019", 1.66, 2.31),
    ("lait_sen_support_pct_pupils_primary", "PrimNoStatements", "2019", 12.6, 11.8),
    ("lait_sen_support_pct_pupils_secondary", "SecNoStatements", "2019", 10.8, 8.7),
    ("lait_ks4_dest_sustained_ehcp", "SusEdOverall_SEN_Stat_incSpec", "2023", 87.0, 87.1),
    ("lait_ks4_dest_sustained_sen_support", "SusEdOverall_SEN_NoStat_incSpec", "2023", 84.5, 87.7),
    ("lait_ks4_dest_sustained_no_sen", "SusEdOverall_NoSEN_incSpec", "2023", 92.9, 95.8),
    ("lait_ks4_dest_sustained_all_send", "KS4_SEN_Des_incSpec", "2023", 85.2, 87.5),
    ("lait_ks2_read_progress_no_sen", "KS2_NonSEN_Reading_Progress", "2019", 0.35, 2.03),
    ("lait_ks2_write_progress_no_sen", "KS2_NonSEN_Writing_Progress", "2019", 0.52, 1.01),
    ("lait_ks2_maths_progress_no_sen", "KS2_NonSEN_Maths_Progress", "2019", 0.37, 2.31),
    ("lait_send_1617_in_et_pct", "16-17YroldSEN_ET", "2019", 88.6, 99.3),
    ("lait_excl_perm_rate_all", "TotPermEx", "2018/19", 0.09651, 0.05259),
    ("lait_excl_fixed_rate_all", "TotFixedEx", "2018/19", 5.3581, 3.38293),
    ("lait_excl_one_plus_fixed_rate_all", "Total_ Pup_FixedEx", "2018/19", 2.44227, 2.09524),
]


@pytest.mark.parametrize(("measure", "short_desc", "label", "england", "barnet"), _LAIT_CHECKED)
def test_lait_phase_destination_and_all_pupil_measures(lait_long, measure, short_desc, label, england, barnet):
    from inclusion_index.sources.harmonise import measures_table

    assert measures_table(["lait"]).set_index("measure").loc[measure, "source_column"] == short_desc
    year = academic_year_from_label(label)
    assert _value(lait_long, measure, year, "E92000001") == pytest.approx(england)
    assert _value(lait_long, measure, year, "302") == pytest.approx(barnet)


def test_lait_new_measures_cover_every_la(lait_long):
    """Which years and how many LAs (City of London and Isles of Scilly may be absent)."""
    la = lait_long[lait_long["level"] == "la"]
    n = la[la["value"].notna()].groupby(["measure", "year"])["la_code"].nunique().unstack()
    phase = n.loc["lait_ehcp_pct_pupils_secondary"].dropna()
    assert list(phase.index) == [f"{y}{(y + 1) % 100:02d}" for y in range(2015, 2025)]
    assert phase["201819"] == 151 and phase["202425"] == 152  # no Isles of Scilly row
    dest = n.loc["lait_ks4_dest_sustained_sen_support"].dropna()
    assert list(dest.index) == [f"{y}{(y + 1) % 100:02d}" for y in range(2016, 2023)] and dest["202223"] == 152
    ks2 = n.loc["lait_ks2_read_progress_no_sen"].dropna()
    assert list(ks2.index) == ["201617", "201718", "201819", "202122", "202223"]  # no tests 2020, 2021


def test_lait_las_have_region_and_ons_code(lait_long):
    la = lait_long[lait_long["level"] == "la"]
    assert la["region"].notna().all()
    assert la["ons_code"].str.match(r"^E0[689]|^E10").all()
    per_year = la[la["measure"] == "lait_ehcp_pct_pupils"].groupby("year")["value"].count()
    assert per_year["201819"] == 152 and per_year["202425"] == 153


def test_suppressed_lait_cells_are_missing_with_reason(lait_long):
    city = lait_long[(lait_long["la_code"] == "201") & (lait_long["measure"] == "lait_ks4_a8_ehcp")]
    assert city["value"].isna().all()
    assert city["missing_reason"].str.startswith("not published").all()


def test_coverage_report(lait_long):
    cov = coverage(lait_long)
    row = cov[(cov["measure"] == "lait_ks2_read_progress_ehcp") & (cov["year"] == "201920")]
    assert row["las_with_value"].iloc[0] == 0  # no KS2 tests in 2020 (COVID)
    mat = coverage_matrix(lait_long)
    assert mat.loc["lait_ks4_a8_ehcp", "201819"] == 149


def test_cache_is_used_on_second_load(data_dir, tmp_path):
    rep1, rep2 = LoadReport(), LoadReport()
    a = load_inputs(data_dir, families=["lait"], cache_dir=tmp_path, report=rep1)
    b = load_inputs(data_dir, families=["lait"], cache_dir=tmp_path, report=rep2)
    assert rep1.cached == {"lait": False} and rep2.cached == {"lait": True}
    pd.testing.assert_frame_equal(a, b)


def _lait_variant(data_dir, edit) -> bytes:
    df = pd.read_parquet(data_dir / LAIT)
    df = edit(df)
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def _load_broken(data_dir, tmp_path, content):
    d = mirror_with(data_dir, tmp_path / "raw", {LAIT: content})
    return load_inputs(d, families=["lait"], use_cache=False)


def test_missing_file_is_named(data_dir, tmp_path):
    with pytest.raises(MissingSourceError, match=r"bds_long_0.parquet: file missing"):
        _load_broken(data_dir, tmp_path, None)


def test_renamed_column_is_named(data_dir, tmp_path):
    content = _lait_variant(data_dir, lambda d: d.rename(columns={"Values": "Value"}))
    with pytest.raises(SchemaError, match=r"bds_long_0.parquet.*Values"):
        _load_broken(data_dir, tmp_path, content)


def test_unknown_la_code_names_file_column_and_year(data_dir, tmp_path):
    def edit(d):
        d.loc[(d["LA Number"] == 302) & (d["Years"] == "2019"), "LA Number"] = 999
        return d
    with pytest.raises(UnknownLACodeError, match=r"bds_long_0.parquet: unknown LA code '999'.*column 'la_code'; year 2018"):
        _load_broken(data_dir, tmp_path, _lait_variant(data_dir, edit))


def test_out_of_range_rate_names_file_column_and_year(data_dir, tmp_path):
    def edit(d):
        m = (d["Short Desc"] == "SEN_TotStat") & (d["LA Number"] == 302) & (d["Years"] == "2019")
        d.loc[m, "Values"] = "130"
        return d
    with pytest.raises(SchemaError, match=r"value 130 out of range.*column 'SEN_TotStat'; year 201819; expected 0 to 100"):
        _load_broken(data_dir, tmp_path, _lait_variant(data_dir, edit))


def test_duplicate_la_rows_are_refused(data_dir, tmp_path):
    def edit(d):
        m = (d["Short Desc"] == "SEN_TotStat") & (d["LA Number"] == 302) & (d["Years"] == "2019")
        return pd.concat([d, d[m]])
    with pytest.raises(SchemaError, match=r"duplicate rows for LA 302.*year 201819"):
        _load_broken(data_dir, tmp_path, _lait_variant(data_dir, edit))


def test_unknown_marker_names_file_column_and_year(data_dir, tmp_path):
    def edit(d):
        m = (d["Short Desc"] == "SEN_TotStat") & (d["LA Number"] == 302) & (d["Years"] == "2017")
        d.loc[m, "Values"] = "n.a."
        return d
    with pytest.raises(SchemaError, match=r"column 'Values'; year 201617"):
        _load_broken(data_dir, tmp_path, _lait_variant(data_dir, edit))
