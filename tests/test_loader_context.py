"""Special schools (Ofsted) and KS2-by-SEN dashboard loaders: LA names matched to codes."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from inclusion_index.errors import ConfigError, SchemaError, UnknownLACodeError
from inclusion_index.sources.geography import load_la_reference
from inclusion_index.sources.harmonise import measures_table, validate_long
from inclusion_index.sources.loaders import context
from inclusion_index.sources.loaders.base import LoadContext
from inclusion_index.sources.registry import load_registry


@pytest.fixture(scope="module")
def ctx(data_dir: Path) -> LoadContext:
    return LoadContext(data_dir=data_dir, registry=load_registry())


@pytest.fixture(scope="module")
def long(ctx: LoadContext) -> pd.DataFrame:
    return context.load(ctx)


def row(df: pd.DataFrame, code: str, year: str, measure: str) -> pd.Series:
    r = df[(df["la_code"] == code) & (df["year"] == year) & (df["measure"] == measure)]
    assert len(r) == 1, (code, year, measure)
    return r.iloc[0]


def test_passes_project_validation(long: pd.DataFrame, ctx: LoadContext) -> None:
    validate_long(long, load_la_reference(ctx.data_dir), measures_table(["context"]))


# --- special schools


def test_special_school_counts(long: pd.DataFrame) -> None:
    m = "ofsted_state_special_schools"
    assert row(long, "302", "201819", m)["value"] == 4  # Barnet, 31 August 2019
    assert row(long, "302", "202223", m)["value"] == 6
    assert row(long, "E92000001", "201819", m)["value"] == 970
    assert row(long, "E92000001", "201819", "ofsted_nmss_schools")["value"] == 58


def test_special_school_years_and_las(long: pd.DataFrame) -> None:
    s = long[long["measure"].str.startswith("ofsted_") & (long["level"] == "la")]
    n = s.groupby(["measure", "year"])["la_code"].nunique().unstack()
    assert list(n.columns) == ["201819", "201920", "202021", "202122", "202223"]
    assert n.loc["ofsted_state_special_schools"].tolist() == [151, 151, 152, 152, 153]
    assert s["value"].notna().all()
    y19 = set(s.loc[s["year"] == "201819", "la_code"])
    assert {"838", "839"} <= y19 and not {"835", "836", "837"} & y19  # August 2019 = BCP geography
    assert {"940", "941"} <= set(s.loc[s["year"] == "202122", "la_code"])
    assert {"942", "943"} <= set(s.loc[s["year"] == "202223", "la_code"])


def test_absent_type_is_zero_and_totals_add_up(long: pd.DataFrame) -> None:
    s = long[long["measure"].str.startswith("ofsted_")]
    sums = s.groupby(["measure", "year", "level"])["value"].sum().unstack()
    assert (sums["la"] == sums["national"]).all()
    assert row(long, "201", "201819", "ofsted_state_special_schools")["value"] == 0  # City of London
    assert (s.loc[(s["measure"] == "ofsted_nmss_schools") & (s["year"] == "201819"), "value"] == 0).sum() == 110


# --- special schools in the January 2024 school census


def test_census_special_school_counts(long: pd.DataFrame) -> None:
    # State-funded special schools with a row in the January 2024 census file (SCHOOLTYPE
    # "State-funded special school"): 1,041 in England, Kent 24, Barnet 7, City of London 0.
    m = "census_state_special_schools"
    assert row(long, "E92000001", "202324", m)["value"] == 1041
    assert row(long, "886", "202324", m)["value"] == 24
    assert row(long, "302", "202324", m)["value"] == 7
    assert row(long, "201", "202324", m)["value"] == 0
    assert row(long, "E92000001", "202324", "census_nmss_schools")["value"] == 52
    assert row(long, "886", "202324", "census_nmss_schools")["value"] == 2
    c = long[long["measure"].str.startswith("census_")]
    assert set(c["year"]) == {"202324"} and c["source"].eq("school_census_202324").all()
    assert c["value"].notna().all()
    la = c[c["level"] == "la"]
    assert la.groupby("measure")["la_code"].nunique().eq(153).all()  # January 2024 geography
    assert {"942", "943"} <= set(la["la_code"]) and not {"909", "928"} & set(la["la_code"])
    sums = c.groupby(["measure", "level"])["value"].sum().unstack()
    assert (sums["la"] == sums["national"]).all()


def test_census_matches_the_school_list(ctx: LoadContext, long: pd.DataFrame) -> None:
    """Counted independently with pandas from the raw workbook, summary rows (URN 'NAT') dropped."""
    raw = pd.read_excel(ctx.path("school_census_202324"), sheet_name="england", dtype=str)
    schools = raw[raw["URN"].str.fullmatch(r"\d+", na=False)]
    want = schools[schools["SCHOOLTYPE"] == "State-funded special school"].groupby("LA").size()
    ours = long[(long["measure"] == "census_state_special_schools") & (long["level"] == "la")].set_index("la_code")
    assert (ours["value"][ours["value"] > 0] == want.reindex(ours.index[ours["value"] > 0])).all()
    assert ours["value"].sum() == want.sum()


def test_census_and_ofsted_counts_differ_by_definition(long: pd.DataFrame) -> None:
    """The census counts every special school with pupils in January (never-inspected ones too),
    Ofsted only graded ones at 31 August, hospital schools included: two measures, not one."""
    ofsted = long[(long["measure"] == "ofsted_state_special_schools") & (long["year"] == "202223")]
    census = long[long["measure"] == "census_state_special_schools"]
    both = pd.concat({"ofsted": ofsted.set_index(["level", "la_code"])["value"],
                      "census": census.set_index(["level", "la_code"])["value"]}, axis=1)
    assert both.loc[("national", "E92000001")].tolist() == [989, 1041]
    la = both.loc["la"]
    assert la.loc[["886", "302", "926", "202", "942"]].to_dict("index") == {
        "886": {"ofsted": 24, "census": 24},  # Kent
        "302": {"ofsted": 6, "census": 7},  # Barnet
        "926": {"ofsted": 13, "census": 16},  # Norfolk: new schools not yet graded
        "202": {"ofsted": 5, "census": 3},  # Camden: its two hospital schools are not in the census file
        "942": {"ofsted": 2, "census": 3},  # Cumberland
    }
    diff = la["census"] - la["ofsted"]
    assert diff.eq(0).sum() == 104 and diff.gt(0).sum() == 43 and diff.lt(0).sum() == 6


def _census_copy(tmp_path: Path, ctx: LoadContext, rows: list[list],
                 header: tuple[str, ...] = ("URN", "LA", "Estab", "SCHOOLTYPE", "NOR")) -> LoadContext:
    import openpyxl

    broken, dest = _copy(tmp_path, ctx, "special_schools_ofsted")  # for the LA reference links
    dest = tmp_path / ctx.source("school_census_202324").path
    dest.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "england"
    ws.append(list(header))
    for r in rows:
        ws.append(r)
    wb.save(dest)
    return broken


def test_census_unknown_school_type_is_refused(tmp_path: Path, ctx: LoadContext) -> None:
    broken = _census_copy(tmp_path, ctx, [[100000, 201, 3614, "State-funded primary", 244],
                                          [100001, 302, 7001, "Special school (state-funded)", 80]])
    with pytest.raises(SchemaError) as e:
        context.load_census_special_schools(broken)
    msg = str(e.value)
    assert "school_level_census_2023_24/england_census.xlsx" in msg
    assert "'Special school (state-funded)'" in msg and "'SCHOOLTYPE'" in msg and "202324" in msg


def test_census_renamed_column_and_odd_rows_are_refused(tmp_path: Path, ctx: LoadContext) -> None:
    broken = _census_copy(tmp_path, ctx, [[100000, 201, 3614, "State-funded primary", 244],
                                          ["TOTAL", None, "SPE", "Special school", 160420]])
    with pytest.raises(SchemaError, match=r"URN 'TOTAL' is neither a school nor a summary row.*'URN'.*202324"):
        context.load_census_special_schools(broken)
    broken = _census_copy(tmp_path / "b", ctx, [[100000, 201, 3614, "State-funded primary", 244],
                                                [100000, 201, 3614, "State-funded primary", 244]])
    with pytest.raises(SchemaError, match=r"URN 100000 appears more than once"):
        context.load_census_special_schools(broken)
    broken = _census_copy(tmp_path / "c", ctx, [[100000, 201, 3614, "State-funded primary", 244]],
                          header=("URN", "LA", "Estab", "SCHOOL_TYPE", "NOR"))
    with pytest.raises(SchemaError) as e:
        context.load_census_special_schools(broken)
    assert "found 'SCHOOL_TYPE', renamed?" in str(e.value) and "'SCHOOLTYPE'" in str(e.value)
    assert "england_census.xlsx" in str(e.value) and "202324" in str(e.value)


def test_census_year_comes_from_the_registry(ctx: LoadContext) -> None:
    import dataclasses

    src = ctx.source("school_census_202324")
    assert context.census_year(src) == "202324"
    with pytest.raises(ConfigError, match="one academic year like '2023/24', got '2024'"):
        context.census_year(dataclasses.replace(src, years="2024"))


# --- KS2 dashboard


def test_ks2_values(long: pd.DataFrame) -> None:
    eng = row(long, "E92000001", "201819", "ks2dash_rwm_exp_ehcp")
    assert eng["value"] == pytest.approx(100 * 1961 / 21473)
    assert (eng["numerator"], eng["denominator"]) == (1961, 21473)
    # Gateshead 2018/19 EHC plan: 3 of 79 (dashboard shows 3.8%)
    assert round(row(long, "390", "201819", "ks2dash_rwm_exp_ehcp")["value"], 1) == 3.8


def test_ks2_rows_per_year(long: pd.DataFrame) -> None:
    k = long[long["measure"].str.startswith("ks2dash_") & (long["level"] == "la")]
    n = k.groupby(["year", "measure"])["la_code"].nunique().unstack()
    assert n.loc["201819"].eq(151).all() and n.loc["202122"].eq(152).all() and n.loc["202223"].eq(153).all()


def test_ks2_suppression_and_absent_rows(long: pd.DataFrame) -> None:
    col = row(long, "201", "202122", "ks2dash_rwm_exp_ehcp")
    assert pd.isna(col["value"]) and col["missing_reason"] == "suppressed (confidential, c)"
    scilly = row(long, "420", "201819", "ks2dash_rwm_exp_no_sen")
    assert pd.isna(scilly["value"]) and scilly["missing_reason"] == "not available (x)"
    absent = row(long, "201", "201819", "ks2dash_rwm_exp_ehcp")
    assert pd.isna(absent["value"]) and absent["missing_reason"] == context.NO_ROW


# --- name matching


@pytest.mark.parametrize(("a", "b"), [
    ("Bristol, City of", "City of Bristol"),
    ("Bristol, City of", "bristol"),
    ("Herefordshire, County of", "Herefordshire"),
    ("Kingston upon Hull, City of ", "Kingston Upon Hull"),
    ("St. Helens", "St Helens"),
    ("Brighton & Hove", "Brighton and Hove"),
    ("Stockton-on-Tees", "Stockton on Tees"),
])
def test_normalise_la_name(a: str, b: str) -> None:
    assert context.normalise_la_name(a) == context.normalise_la_name(b)


def test_city_of_london_is_not_stripped() -> None:
    assert context.normalise_la_name("City of London") == "city of london"


def test_match_picks_the_la_in_operation(ctx: LoadContext) -> None:
    ref = load_la_reference(ctx.data_dir)
    names = pd.Series(["Dorset", "St Helens", "Bristol"], dtype="string")
    kw = {"file": "f.csv", "column": "la_name", "year": "201718"}
    assert context.match_la_names(names, date(2018, 8, 31), ref, **kw).tolist() == ["835", "342", "801"]
    assert context.match_la_names(names, date(2019, 8, 31), ref, **kw).tolist() == ["838", "342", "801"]


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


def test_unmatched_name_raises_with_file_column_year(tmp_path: Path, ctx: LoadContext) -> None:
    broken, dest = _copy(tmp_path, ctx, "special_schools_ofsted")
    df = pd.read_csv(dest, dtype=str, keep_default_na=False)
    df.loc[(df["la_name"] == "Barnet") & (df["Year"] == "2019"), "la_name"] = "Barsetshire"
    df.to_csv(dest, index=False)
    with pytest.raises(UnknownLACodeError) as e:
        context.load_special_schools(broken)
    msg = str(e.value)
    assert "special_schools/ofsted_inspected_schools_by_type_la_2019_2023.csv" in msg
    assert "Barsetshire" in msg and "'la_name'" in msg and "201819" in msg


def test_ks2_renamed_column_names_file_and_column(tmp_path: Path, ctx: LoadContext) -> None:
    broken, dest = _copy(tmp_path, ctx, "ks2_sen_dashboard")
    text = dest.read_text(encoding="utf-8")
    dest.write_text(text.replace("t_rwm_eligible_pupils", "eligible", 1), encoding="utf-8")
    with pytest.raises(SchemaError) as e:
        context.load_ks2_dashboard(broken)
    msg = str(e.value)
    assert "send_ap_dashboard_tables/ks2_attainment.csv" in msg
    assert "t_rwm_eligible_pupils" in msg and "201819" in msg


def test_ofsted_grades_must_add_up(tmp_path: Path, ctx: LoadContext) -> None:
    broken, dest = _copy(tmp_path, ctx, "special_schools_ofsted")
    df = pd.read_csv(dest, dtype=str, keep_default_na=False)
    hit = (df["la_name"] == "Barnet") & (df["Year"] == "2020") & (df["school_type"] == "State-funded special school")
    df.loc[hit, "grand_total_schools"] = "9"
    df.to_csv(dest, index=False)
    with pytest.raises(SchemaError, match=r"grand_total_schools.*201920"):
        context.load_special_schools(broken)
