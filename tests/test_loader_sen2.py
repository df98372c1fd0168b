"""SEN2 (EHC plans) loader: real DfE values, LA coverage, release overlap and broken files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from inclusion_index.errors import SchemaError
from inclusion_index.sources.geography import year_key
from inclusion_index.sources.loaders import sen2
from inclusion_index.sources.loaders.base import LONG_COLUMNS, LoadContext
from inclusion_index.sources.registry import load_registry

# LAs DfE published each January (PROVENANCE.md, la_lookup/derived_la_codes_*): mergers in
# 2019 (BCP, Dorset) and 2021 (Northamptonshire split from Jan 2022), Cumbria split 2023.
EXPECTED_LAS = {
    **{year_key(y - 1): 152 for y in range(2010, 2020)},
    "201920": 151, "202021": 151, "202122": 152, "202223": 152, "202324": 153, "202425": 153,
}
COUNTS = ["sen2_ehcp_total", "sen2_ehcp_state_special", "sen2_ehcp_indep_nmss", "sen2_ehcp_ap_pru",
          "sen2_ehcp_no_school_place"]
PLACEMENT = ["sen2_ehcp_state_special", "sen2_ehcp_indep_nmss", "sen2_ehcp_ap_pru", "sen2_ehcp_no_school_place",
             "sen2_ehcp_state_special_pct", "sen2_ehcp_indep_nmss_pct", "sen2_ehcp_mainstream_pct",
             "sen2_ehcp_ap_pru_pct", "sen2_ehcp_no_school_place_pct", "sen2_ehcp_placement_unknown",
             "sen2_ehcp_placement_unknown_pct", "sen2_ehcp_state_special_pct_recorded",
             "sen2_ehcp_indep_nmss_pct_recorded"]


@pytest.fixture(scope="module")
def ctx(data_dir: Path) -> LoadContext:
    return LoadContext(data_dir=data_dir, registry=load_registry())


@pytest.fixture(scope="module")
def long(ctx: LoadContext) -> pd.DataFrame:
    return sen2.load(ctx)


@pytest.fixture(scope="module")
def overlap(ctx: LoadContext) -> pd.DataFrame:
    return compare_releases(ctx)


def compare_releases(ctx: LoadContext, old_id: str = "sen2_caseload_2022",
                     new_id: str = "sen2_caseload_2025") -> pd.DataFrame:
    """Two caseload vintages side by side for the years they share (January 2019–2022 for
    the 2022 and 2025 releases).

    One row per (level, la_code, year, measure) with ``value_2022``, ``value_2025`` (the
    older and newer release) and ``diff`` = newer − older.
    """
    old, new = (sen2.FORMATS[ctx.source(i).format](ctx, i) for i in (old_id, new_id))
    shared = sorted(set(old["year"]) & set(new["year"]))
    on = ["level", "la_code", "year", "measure"]
    a = old[old["year"].isin(shared)].set_index(on)["value"].rename("value_2022")
    b = new[new["year"].isin(shared)].set_index(on)["value"].rename("value_2025")
    out = pd.concat([a, b], axis=1).reset_index()
    out["diff"] = out["value_2025"] - out["value_2022"]
    return out


def _value(long: pd.DataFrame, code: str, year: str, measure: str) -> pd.Series:
    row = long[(long["la_code"] == code) & (long["year"] == year) & (long["measure"] == measure)]
    assert len(row) == 1, (code, year, measure, len(row))
    return row.iloc[0]


def test_layout_and_unique_keys(long: pd.DataFrame) -> None:
    assert list(long.columns) == LONG_COLUMNS
    assert not long.duplicated(["level", "la_code", "year", "measure"]).any()
    assert set(long["year"]) == set(EXPECTED_LAS)
    assert long["year"].str.fullmatch(r"\d{6}").all()


def test_england_totals(long: pd.DataFrame) -> None:
    jan2019 = _value(long, "E92000001", "201819", "sen2_ehcp_total")
    assert jan2019["value"] == 353_995
    assert jan2019["source"] == "sen2_caseload_2025"  # later release preferred on the overlap
    assert _value(long, "E92000001", "202425", "sen2_ehcp_total")["value"] == 638_745
    jan2010 = _value(long, "E92000001", "200910", "sen2_ehcp_total")
    assert jan2010["value"] == 228_221
    assert jan2010["source"] == "sen2_caseload_2022"


def test_la_count_per_year(long: pd.DataFrame) -> None:
    la = long[long["level"] == "la"]
    for measure in ["sen2_ehcp_total", "sen2_ehcp_state_special_pct", "sen2_ehcp_indep_nmss_pct",
                    "sen2_ehcp_ap_pru_pct", "sen2_ehcp_no_school_place_pct"]:
        got = la[la["measure"] == measure].groupby("year")["la_code"].nunique().to_dict()
        assert got == EXPECTED_LAS, measure
    semh = la[la["measure"] == "sen2_semh_pct_ehcp"]
    assert set(semh["year"]) == {"202425"} and semh["value"].notna().sum() == 153


def test_la_sums_equal_england(long: pd.DataFrame) -> None:
    sub = long[long["measure"].isin(COUNTS)]
    nat = sub[sub["level"] == "national"].set_index(["measure", "year"])["value"]
    las = sub[sub["level"] == "la"].groupby(["measure", "year"])["value"].sum()
    diff = (las - nat).dropna()
    # Totals add up exactly in every year of both releases.
    assert (diff.loc["sen2_ehcp_total"] == 0).all()
    # Placement counts add up exactly except where DfE withheld an LA's split (x):
    # Peterborough and Hackney Jan 2024, North East Lincolnshire and Cambridgeshire Jan 2025.
    placement = diff.drop("sen2_ehcp_total", level="measure")
    assert (placement.drop(["202324", "202425"], level="year") == 0).all()
    # There, England counts some of those LAs' plans: never more than the plans withheld.
    withheld = long[(long["level"] == "la") & (long["measure"] == "sen2_ehcp_state_special") & long["value"].isna()]
    plans = long[long["measure"] == "sen2_ehcp_total"].set_index(["la_code", "year"])["value"]
    cap = plans.reindex(pd.MultiIndex.from_frame(withheld[["la_code", "year"]])).groupby(level="year").sum()
    assert cap.to_dict() == {"202324": 2625 + 3525, "202425": 1983 + 8007}
    gap = placement.abs().groupby(level="year").max()
    assert (gap.reindex(cap.index) <= cap).all() and gap.reindex(cap.index).gt(0).all()


def test_known_la_values(long: pd.DataFrame) -> None:
    # Kent, January 2019 (2025 release): 4,108 of 11,763 plans in state-funded special schools.
    kent = _value(long, "886", "201819", "sen2_ehcp_state_special_pct")
    assert (kent["numerator"], kent["denominator"]) == (4108, 11763)
    assert kent["value"] == pytest.approx(100 * 4108 / 11763)
    # Kent, January 2017 (2022 release): special LA maintained + academy/free + hospital.
    kent17 = _value(long, "886", "201617", "sen2_ehcp_state_special_pct")
    assert (kent17["numerator"], kent17["denominator"]) == (3128, 8199)
    assert _value(long, "886", "201617", "sen2_ehcp_indep_nmss")["value"] == 565
    # England January 2025: 159,852 plans in state special, 41,202 NMSS/independent.
    assert _value(long, "E92000001", "202425", "sen2_ehcp_state_special")["value"] == 85_920 + 73_932
    assert _value(long, "E92000001", "202425", "sen2_ehcp_indep_nmss")["value"] == 29_647 + 4_381 + 7_174


def test_percentages_consistent_with_counts(long: pd.DataFrame) -> None:
    pct = long[long["measure"].str.endswith("_pct") & long["value"].notna()]
    assert np.allclose(pct["value"], 100 * pct["numerator"] / pct["denominator"])
    assert pct["value"].between(0, 100).all()
    counts = long[long["measure"].isin(COUNTS)].set_index(["level", "la_code", "year", "measure"])["value"]
    sp = long[long["measure"] == "sen2_ehcp_state_special_pct"].set_index(["level", "la_code", "year"])
    tot = counts.xs("sen2_ehcp_total", level="measure")
    assert (sp["denominator"].dropna() == tot.reindex(sp["denominator"].dropna().index)).all()


def test_withheld_placement_is_nan_with_reason(long: pd.DataFrame) -> None:
    for code, year, total in [("874", "202324", 2625), ("204", "202324", 3525),
                              ("812", "202425", 1983), ("873", "202425", 8007)]:
        assert _value(long, code, year, "sen2_ehcp_total")["value"] == total
        for m in PLACEMENT:
            r = _value(long, code, year, m)
            assert np.isnan(r["value"])
            assert "(x)" in r["missing_reason"]
    missing = long[long["value"].isna()]
    assert missing["missing_reason"].notna().all()
    missing = missing[~missing["measure"].str.endswith("_published")]  # DfE's *_pc: x where not collected
    assert len(missing) == 4 * len(PLACEMENT)  # 4 LA-years × the placement measures, nothing else


def test_northamptonshire_2021_mainstream_from_total(long: pd.DataFrame) -> None:
    # 2025 release blanks two tiny free-school columns (x) but gives mainstream_total 1,475,
    # of which 20 independent: the state mainstream share must still be there.
    r = _value(long, "928", "202021", "sen2_ehcp_mainstream_pct")
    assert (r["numerator"], r["denominator"]) == (1455, 4847)


def test_release_overlap(overlap: pd.DataFrame, long: pd.DataFrame) -> None:
    """January 2019–2022 in both releases: how many LA-year values differ, and by how much."""
    # The 2022 release labels January 2019 as calendar "2019": it must land on 201819.
    eng = overlap[(overlap["la_code"] == "E92000001") & (overlap["measure"] == "sen2_ehcp_total")]
    assert eng.set_index("year")["value_2022"].to_dict() == {
        "201819": 353_995, "201920": 390_109, "202021": 430_697, "202122": 473_255}
    # DfE's rounded *_pc shares are read from the 2025 layout only
    la = overlap[(overlap["level"] == "la") & ~overlap["measure"].str.endswith("_published")]
    assert sorted(la["year"].unique()) == ["201819", "201920", "202021", "202122"]
    assert la[["value_2022", "value_2025"]].notna().all().all()  # same LAs in both
    differs = la["diff"].abs() > 1e-9
    summary = la.assign(differs=differs, abs_diff=la["diff"].abs()).groupby("measure").agg(
        values=("diff", "size"), differ=("differs", "sum"), max_abs_diff=("abs_diff", "max"))
    print("\nSEN2 2022 vs 2025 release, Jan 2019–2022 (LA level):\n", summary.to_string())
    # 14 measures × (152+151+151+152) LA-years; DfE's 2025 release reproduces the 2022 figures
    # exactly once hospital schools are counted with state special (as the 2025 file does), and
    # AP and "no school place" column for column (await_prov_2022 = the six awaiting types).
    assert len(la) == 14 * 606
    assert differs.sum() == 0
    # Which is why the output takes 2019–2022 from the 2025 release only.
    assert set(long.loc[long["year"].isin(la["year"]), "source"]) == {"sen2_caseload_2025"}


def test_hospital_schools_sit_in_2025_special_la_maintained(ctx: LoadContext) -> None:
    raw = pd.read_csv(ctx.path("sen2_caseload_2022"), dtype=str, keep_default_na=False)
    nat = raw[(raw["geographic_level"] == "National") & (raw["time_period"] == "2019")]
    by_type = nat.set_index("establishment_type")["Total_all"].astype(int)
    assert by_type["Special - LA maintained"] + by_type["Hospital School"] == 84_033  # 2025 file


def test_semh_share(long: pd.DataFrame, ctx: LoadContext) -> None:
    eng = _value(long, "E92000001", "202425", "sen2_semh_pct_ehcp")
    assert (eng["numerator"], eng["denominator"]) == (132_217, 638_745)
    assert eng["value"] == pytest.approx(20.7, abs=0.05)
    raw = pd.read_csv(ctx.path("sen2_needs_2025"), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    raw = raw[(raw["breakdown_topic"] == "All EHC plans") & (raw["geographic_level"] == "Local authority")]
    dfe = raw.set_index("old_la_code")["semh_pc"].astype(float)
    ours = long[(long["measure"] == "sen2_semh_pct_ehcp") & (long["level"] == "la")].set_index("la_code")
    assert (ours["value"] - dfe.reindex(ours.index)).abs().max() <= 0.05 + 1e-9  # DfE rounds to 1 dp
    # The needs file counts the same plans as the caseload file.
    tot = long[(long["measure"] == "sen2_ehcp_total") & (long["year"] == "202425")
               & (long["level"] == "la")].set_index("la_code")["value"]
    assert (ours["denominator"] == tot.reindex(ours.index)).all()


def test_ap_pru_values(long: pd.DataFrame) -> None:
    # England: ap_pru_total, January 2019 and 2025 (2025 release); January 2010 (2022 release
    # "Alternative provision/Pupil referral unit" group total).
    for year, n, total in [("201819", 2_731, 353_995), ("202425", 4_858, 638_745), ("200910", 1_707, 228_221)]:
        r = _value(long, "E92000001", year, "sen2_ehcp_ap_pru_pct")
        assert (r["numerator"], r["denominator"]) == (n, total)
        assert r["value"] == pytest.approx(100 * n / total)
        assert _value(long, "E92000001", year, "sen2_ehcp_ap_pru")["value"] == n
    # Kent: 3 PRU + 16 AP academy + 0 free school in January 2025; 5 (all PRU) in January 2018.
    assert _value(long, "886", "202425", "sen2_ehcp_ap_pru")["value"] == 19
    kent18 = _value(long, "886", "201718", "sen2_ehcp_ap_pru_pct")
    assert (kent18["numerator"], kent18["denominator"]) == (5, 8957)
    assert kent18["source"] == "sen2_caseload_2022"


def test_no_school_place_values(long: pd.DataFrame) -> None:
    # England January 2019 = the 2022 release's Educated elsewhere 9,327 + NEET 5,876 + Other
    # 1,902, which the 2025 release reproduces from its columns (elective home education not
    # collected that year, x on every row, so 0).
    assert _value(long, "E92000001", "201819", "sen2_ehcp_no_school_place")["value"] == 9_327 + 5_876 + 1_902
    # January 2018: Educated elsewhere only (NEET and Other not yet collected).
    assert _value(long, "E92000001", "201718", "sen2_ehcp_no_school_place")["value"] == 6_892
    # January 2025: DfE's ed_elsewhere 49,750 less Welsh schools 402 and other schools 175.
    eng = _value(long, "E92000001", "202425", "sen2_ehcp_no_school_place_pct")
    assert (eng["numerator"], eng["denominator"]) == (49_750 - 402 - 175, 638_745)
    # Kent January 2025: EHE 355 + other arrangements LA 399 + parents 59 + online 0 + other
    # placements 416 + NEET 221 + not in education or training 0 + 80 + 249.
    assert _value(long, "886", "202425", "sen2_ehcp_no_school_place")["value"] == 1_779
    # Kent January 2019: DfE's ed_elsewhere says 295, but awaiting provision alone is 591.
    assert _value(long, "886", "201819", "sen2_ehcp_no_school_place")["value"] == 134 + 96 + 15 + 591 + 6 + 65


def test_placement_families_partition_the_plans(ctx: LoadContext, long: pd.DataFrame) -> None:
    """With further education, early years, Welsh/other schools and "not recorded", the five
    families add up to every LA's plans in every year of the 2025 release: nothing counted
    twice or left out."""
    raw = pd.read_csv(ctx.path("sen2_caseload_2025"), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    raw = raw[(raw["breakdown_topic"] == "All EHC plans") & (raw["breakdown"] == "All EHC plans")
              & (raw["geographic_level"] == "Local authority")]
    rest = ["fe_total", "nm_early_years", "w_settings", "other_schools", "placement_unknown"]
    other = raw[rest].apply(pd.to_numeric, errors="coerce").fillna(0).sum(axis=1)
    other.index = pd.MultiIndex.from_arrays([raw["old_la_code"], raw["time_period"]])
    la = long[(long["level"] == "la") & (long["source"] == "sen2_caseload_2025")
              & ~long["measure"].str.endswith("_published")]
    wide = la.pivot(index=["la_code", "year"], columns="measure", values="value").dropna()
    fam = ["sen2_ehcp_state_special", "sen2_ehcp_indep_nmss", "sen2_ehcp_ap_pru", "sen2_ehcp_no_school_place"]
    main = (wide["sen2_ehcp_mainstream_pct"] * wide["sen2_ehcp_total"] / 100).round()
    parts = wide[fam].sum(axis=1) + main + other.reindex(wide.index)
    assert len(wide) == sum(EXPECTED_LAS[y] for y in ["201819", "201920", "202021", "202122", "202223"]) \
        + 2 * 151  # all LA-years with a split
    assert (parts - wide["sen2_ehcp_total"]).abs().max() < 1e-6


def test_new_measures_pass_the_load_time_checks(long: pd.DataFrame, ctx: LoadContext) -> None:
    """Known LA codes, every LA of each year's geography, ranges, England = sum of LAs."""
    from inclusion_index.sources.geography import load_la_reference
    from inclusion_index.sources.harmonise import measures_table, validate_long

    validate_long(long, load_la_reference(ctx.data_dir), measures_table(["sen2"]))


# --------------------------------------------------------------------------- broken copies

def _broken_ctx(ctx: LoadContext, tmp_path: Path, source_id: str, edit) -> LoadContext:
    rel = ctx.source(source_id).path
    df = pd.read_csv(ctx.path(source_id), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    df = edit(df)
    dest = tmp_path / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(dest, index=False, compression="gzip")
    return LoadContext(data_dir=tmp_path, registry=ctx.registry)


def test_renamed_column_names_file_column_years(ctx: LoadContext, tmp_path: Path) -> None:
    bad = _broken_ctx(ctx, tmp_path, "sen2_caseload_2022", lambda d: d.rename(columns={"Total_all": "total"}))
    with pytest.raises(SchemaError) as e:
        sen2.load_caseload_2022(bad)
    msg = str(e.value)
    assert "ehcp_sen2/ees_2022_release/sen2_estab_caseload.csv.gz" in msg
    assert "'Total_all'" in msg and "year 2010-2022" in msg


def test_bad_cell_names_file_column_year(ctx: LoadContext, tmp_path: Path) -> None:
    def edit(d: pd.DataFrame) -> pd.DataFrame:
        hit = (d["time_period"] == "202324") & (d["old_la_code"] == "886")
        d.loc[hit, "special_independent"] = "n.a."
        return d
    bad = _broken_ctx(ctx, tmp_path, "sen2_caseload_2025", edit)
    with pytest.raises(SchemaError) as e:
        sen2.load_caseload_2025(bad)
    msg = str(e.value)
    assert "ehcp_sen2/ees_2025_release/caseload.csv.gz" in msg
    assert "'special_independent'" in msg and "year 202324" in msg


def test_unclassified_establishment_type_is_refused(ctx: LoadContext, tmp_path: Path) -> None:
    def edit(d: pd.DataFrame) -> pd.DataFrame:
        hit = (d["time_period"] == "2021") & (d["establishment_type"] == "Special - Non-maintained")
        d.loc[hit, "establishment_type"] = "Special - Other"
        return d
    bad = _broken_ctx(ctx, tmp_path, "sen2_caseload_2022", edit)
    with pytest.raises(SchemaError) as e:
        sen2.load_caseload_2022(bad)
    msg = str(e.value)
    assert "sen2_estab_caseload.csv.gz" in msg and "'establishment_type'" in msg and "year 2021" in msg
    assert "Special - Other" in msg


def test_one_withheld_no_school_place_column_is_unknown_not_zero(ctx: LoadContext, tmp_path: Path) -> None:
    """x for one LA (not the whole year) is a withheld value: the family is unknown, with the
    reason, while a column x on every row of a year (not collected) counts 0."""
    def edit(d: pd.DataFrame) -> pd.DataFrame:
        hit = (d["time_period"] == "202324") & (d["old_la_code"] == "886") & (d["breakdown"] == "All EHC plans")
        assert hit.sum() == 1
        d.loc[hit, "neet"] = "x"
        return d
    out = sen2.load_caseload_2025(_broken_ctx(ctx, tmp_path, "sen2_caseload_2025", edit))
    r = _value(out, "886", "202324", "sen2_ehcp_no_school_place_pct")
    assert np.isnan(r["value"]) and r["missing_reason"] == sen2.PLACEMENT_X
    assert _value(out, "886", "202324", "sen2_ehcp_ap_pru")["value"] == 9  # the rest still there
    assert _value(out, "886", "202425", "sen2_ehcp_no_school_place")["value"] == 1_779


def test_ap_total_disagreeing_with_its_parts_is_refused(ctx: LoadContext, tmp_path: Path) -> None:
    def edit(d: pd.DataFrame) -> pd.DataFrame:
        hit = (d["time_period"] == "202223") & (d["old_la_code"] == "302") & (d["breakdown"] == "All EHC plans")
        d.loc[hit, "ap_pru_academy"] = "500"
        return d
    with pytest.raises(SchemaError) as e:
        sen2.load_caseload_2025(_broken_ctx(ctx, tmp_path, "sen2_caseload_2025", edit))
    msg = str(e.value)
    assert "caseload.csv.gz" in msg and "'ap_pru_total'" in msg and "year 202223" in msg and "Barnet" in msg


def test_unclassified_educated_elsewhere_type_is_refused(ctx: LoadContext, tmp_path: Path) -> None:
    def edit(d: pd.DataFrame) -> pd.DataFrame:
        hit = (d["time_period"] == "2020") & (d["establishment_type"] == "Elective home education")
        d.loc[hit, "establishment_type"] = "Flexi-schooling"
        return d
    with pytest.raises(SchemaError) as e:
        sen2.load_caseload_2022(_broken_ctx(ctx, tmp_path, "sen2_caseload_2022", edit))
    assert "'Flexi-schooling'" in str(e.value) and "year 2020" in str(e.value)


def test_placement_shares_over_recorded_plans(long: pd.DataFrame) -> None:
    """2024/25 (January 2025): Wolverhampton has 824 of its 3,148 plans with placement not
    recorded (26.2%); its 753 state-special plans are 23.9% of all plans but 32.4% of the 2,324
    with a recorded placement. England's figures come from DfE's national counts; DfE's own
    one-decimal shares of all plans are read beside them."""
    wolv = _value(long, "336", "202425", "sen2_ehcp_placement_unknown_pct")
    assert (wolv["numerator"], wolv["denominator"]) == (824, 3148)
    assert round(wolv["value"], 1) == 26.2
    rec = _value(long, "336", "202425", "sen2_ehcp_state_special_pct_recorded")
    assert (rec["numerator"], rec["denominator"]) == (753, 3148 - 824)
    assert round(rec["value"], 1) == 32.4
    assert round(_value(long, "336", "202425", "sen2_ehcp_state_special_pct")["value"], 1) == 23.9
    assert round(_value(long, "356", "202425", "sen2_ehcp_placement_unknown_pct")["value"], 1) == 11.3  # Stockport
    eng = _value(long, "E92000001", "202425", "sen2_ehcp_state_special_pct_recorded")
    assert (eng["numerator"], eng["denominator"]) == (85_920 + 73_932, 638_745 - 19_339)
    assert round(eng["value"], 2) == 25.81
    assert round(_value(long, "E92000001", "202425", "sen2_ehcp_indep_nmss_pct_recorded")["value"], 2) == 6.65
    assert _value(long, "E92000001", "202425", "sen2_ehcp_special_any_pct_published")["value"] == 30.4
    assert _value(long, "E92000001", "202425", "sen2_ehcp_placement_unknown_pct_published")["value"] == 3.0
    # before January 2023 there is no "not recorded" category: the two shares are one
    early = long[long["year"] <= "202122"]
    assert early.loc[early["measure"] == "sen2_ehcp_placement_unknown", "value"].eq(0).all()
    on = ["level", "la_code", "year"]
    a = early[early["measure"] == "sen2_ehcp_state_special_pct"].set_index(on)["value"]
    b = early[early["measure"] == "sen2_ehcp_state_special_pct_recorded"].set_index(on)["value"]
    pd.testing.assert_series_equal(a, b.reindex(a.index), check_names=False)
