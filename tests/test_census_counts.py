"""The EHC-plan share of SEN pupils from pupil counts (DfE's school-level census files) rather than
LAIT's one-decimal percentages; England from DfE's national counts; the census EHCP headcounts
in the exclusions noise model (issue 12 item 3)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from inclusion_index.config import run_settings
from inclusion_index.errors import SchemaError
from inclusion_index.index.uncertainty.funnels import cohort_sizes
from inclusion_index.sources.loaders import census
from inclusion_index.sources.loaders.base import LoadContext
from inclusion_index.sources.registry import load_registry

from .conftest import mirror_with

JAN2019 = "school_level_census_perf_tables/jan2019_2018-19/england_census.csv"
CENSUS_YEARS = ("201819", "202021", "202223")


def cell(long: pd.DataFrame, code: str, year: str, measure: str) -> pd.Series:
    r = long[(long["la_code"] == code) & (long["year"] == year) & (long["measure"] == measure)]
    assert len(r) == 1, (code, year, measure)
    return r.iloc[0]


def hand_sums(path: Path, la: str) -> tuple[int, int]:
    """Pupils with a plan and on SEN support in one LA's school rows, summed here with the csv
    module, independently of the loader (numeric URNs only; no school in these LAs is NP/NA)."""
    ehcp = sen = 0
    with path.open(encoding="utf-8-sig", newline="") as f:
        for r in csv.DictReader(f):
            if r["URN"].isdigit() and r["LA"] == la:
                ehcp += int(r["TSENELSE"])
                sen += int(r["TSENELK"])
    return ehcp, sen


@pytest.mark.parametrize(("la", "rel", "year", "ehcp", "sen_support"), [
    ("302", JAN2019, "201819", 1981, 7117),                                               # Barnet
    ("330", JAN2019, "201819", 6822, 29064),                                              # Birmingham
    ("886", "school_level_census_perf_tables/jan2021_2020-21/england_census.csv", "202021", 11073, 28114),  # Kent
])
def test_three_las_pinned_to_hand_sums(long, data_dir, la, rel, year, ehcp, sen_support) -> None:
    assert hand_sums(data_dir / rel, la) == (ehcp, sen_support)
    r = cell(long, la, year, "assess_ehcp_share_counts")
    assert (r["numerator"], r["denominator"]) == (ehcp, ehcp + sen_support)
    assert r["value"] == pytest.approx(100 * ehcp / (ehcp + sen_support), abs=1e-12)
    # the published route gives a different figure from the same census (one-decimal rounding)
    assert r["value"] != pytest.approx(cell(long, la, year, "assess_ehcp_share_send")["value"], abs=1e-6)


def test_barnet_2019_value(long) -> None:
    # 1,981 / (1,981 + 7,117) = 21.774%; LAIT's 3.0% and 10.7% give 21.898%
    assert cell(long, "302", "201819", "assess_ehcp_share_counts")["value"] == pytest.approx(21.7740162, abs=1e-6)
    assert cell(long, "302", "201819", "assess_ehcp_share_send")["value"] == pytest.approx(21.8978102, abs=1e-6)


def test_england_2019_reads_20_6_from_national_counts(long, editions) -> None:
    r = cell(long, "E92000001", "201819", "assess_ehcp_share_counts")
    assert (r["numerator"], r["denominator"]) == (271165, 271165 + 1047115)
    assert f"{r['value']:.1f}" == "20.6"
    assert "DfE national count" in r["source"]
    # the school rows alone sum to 269,074 / 1,040,760 = 20.5%: why national counts are used
    school = long[(long["measure"] == "census_ehcp_pupils_all") & (long["year"] == "201819") & (long["level"] == "la")]
    assert school["value"].sum() == 269074
    eng = editions["201819"].england
    e = eng[(eng["indicator"] == "assess_ehcp_share") & (eng["index_year"] == "201819")].iloc[0]
    assert f"{e['value']:.1f}" == "20.6"
    assert e["basis"] == "national counts"
    assert e["measure"] == "assess_ehcp_share_counts"


def test_la_shares_in_census_years_are_count_over_count(long, editions) -> None:
    for ed in editions.values():
        v = ed.values[(ed.values["indicator"] == "assess_ehcp_share") & ed.values["value"].notna()]
        census_years = v[v["data_year"].isin(CENSUS_YEARS)]
        other = v[~v["data_year"].isin(CENSUS_YEARS)]
        assert (other["value_source"] == "published").all() and other["numerator"].isna().all()
        counts = census_years[census_years["value_source"] == "counts"]
        assert len(counts) > 0
        assert np.allclose(counts["value"], 100 * counts["numerator"] / counts["denominator"], rtol=0, atol=1e-12)
        # numerator and denominator are the loader's LA sums of the school rows
        for r in counts.head(40).itertuples():
            assert r.numerator == cell(long, r.la_code, r.data_year, "census_ehcp_pupils_all")["value"]
            assert r.denominator == r.numerator + cell(long, r.la_code, r.data_year,
                                                       "census_sen_support_pupils_all")["value"]


def test_counts_used_only_where_they_reproduce_published_percentages(long) -> None:
    la = long[long["level"] == "la"]
    for year, n_counts, n_published in [("201819", 105, 47), ("202021", 151, 0), ("202223", 147, 5)]:
        s = la[(la["measure"] == "assess_ehcp_share_counts") & (la["year"] == year)]
        assert (s["numerator"].notna().sum(), s["numerator"].isna().sum()) == (n_counts, n_published)
        lait = la[(la["measure"] == "assess_ehcp_share_send") & (la["year"] == year)].set_index("la_code")["value"]
        fell_back = s[s["numerator"].isna()].set_index("la_code")["value"]
        assert (fell_back == lait.reindex(fell_back.index)).all()
    # Camden, January 2019: an independent school with 130 pupils with a plan in January 2018
    # (URN 135140) is missing from the download, so the file's 3.23% with a plan is below LAIT's
    # 3.6% and its count share (1,042 / 4,952 = 21.04%) 2.18 points below LAIT's 23.23%
    camden = cell(long, "202", "201819", "assess_ehcp_share_counts")
    assert np.isnan(camden["numerator"])
    assert camden["value"] == pytest.approx(100 * 3.6 / (3.6 + 11.9))
    assert cell(long, "202", "201819", "census_ehcp_pupils_all")["value"] == 1042


def test_loader_totals_and_groups(data_dir) -> None:
    d = census.load(LoadContext(data_dir=data_dir, registry=load_registry()))
    nat = d[d["level"] == "national"].set_index(["year", "measure"])["value"]
    assert nat[("202021", "census_ehcp_pupils_all")] == 325618  # = DfE's January 2021 count
    assert nat[("202223", "census_sen_support_pupils_all")] == 1183384  # DfE's national count
    # Jan 2016 and 2018 lack independent schools' SEN support: no all-school measures
    assert not d[d["year"].isin(["201516", "201718"]) & d["measure"].str.endswith("_all")].shape[0]
    # state-funded primary, secondary and special schools, Barnet January 2019
    assert cell(d, "302", "201819", "census_ehcp_pupils_state")["value"] == 1821


def test_renamed_column_names_file_column_and_year(data_dir, tmp_path) -> None:
    text = (data_dir / JAN2019).read_bytes().decode("utf-8-sig")
    bad = text.replace("TSENELK", "TSENELK_RENAMED", 1).encode()
    d = mirror_with(data_dir, tmp_path / "raw", {JAN2019: bad})
    with pytest.raises(SchemaError) as e:
        census.load(LoadContext(data_dir=d, registry=load_registry()))
    err = e.value
    assert (err.file, err.column, err.year) == (JAN2019, "TSENELK", "201819")
    assert "TSENELK_RENAMED" in str(err)  # the renamed column is suggested


def test_bad_count_cell_names_file_column_and_year(data_dir, tmp_path) -> None:
    rows = list(csv.reader(io.StringIO((data_dir / JAN2019).read_bytes().decode("utf-8-sig"))))
    col = rows[0].index("TSENELSE")
    rows[5][col] = "lots"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    d = mirror_with(data_dir, tmp_path / "raw", {JAN2019: out.getvalue().encode()})
    with pytest.raises(SchemaError) as e:
        census.load(LoadContext(data_dir=d, registry=load_registry()))
    assert (e.value.file, e.value.column, e.value.year) == (JAN2019, "TSENELSE", "201819")


def test_exclusion_cohorts_from_census_headcounts(long) -> None:
    spec = run_settings().uncertainty.spec("excl_fixed_ehcp")
    codes = ["302", "886", "330"]
    n, src = cohort_sizes(long, spec, codes, "202223")
    assert n["302"] == cell(long, "302", "202223", "census_ehcp_pupils_state")["value"]
    assert src["302"] == "census_ehcp_pupils_state 202223"
    # 2023/24: the January 2023 census, one year off; 2024/25: no census within a year, 0.7 x plans
    _, src24 = cohort_sizes(long, spec, codes, "202324")
    assert src24["886"] == "census_ehcp_pupils_state 202223 (nearest to 202324)"
    n25, src25 = cohort_sizes(long, spec, codes, "202425")
    assert src25["886"] == "sen2_ehcp_total 202425"
    assert n25["886"] == pytest.approx(0.7 * cell(long, "886", "202425", "sen2_ehcp_total")["value"])


def test_england_quoted_at_dfe_precision_and_named(editions) -> None:
    from inclusion_index.report.series.edition_facts import IndicatorFacts

    facts = IndicatorFacts(editions["201819"], "201819")
    p8 = facts.england_text("att_ks4_p8_ehcp", 1)
    assert re.fullmatch(r"England -\d\.\d\d.*", p8), p8  # DfE: Progress 8 to 2 decimal places
    share = facts.england_text("assess_ehcp_share", 1)
    assert share.startswith("England 20.6") and share.endswith("from DfE's national counts"), share


def _data_log_gap_rows() -> list[list[str]]:
    text = (Path(__file__).resolve().parents[1] / "docs" / "DATA_LOG.md").read_text(encoding="utf-8")
    section = text.split("## Why an LA's census counts and LAIT differ")[1].split("\n## ")[0]
    # the first table of the section: from its header to the first line that is not a row
    table = section.split("\n| LA | January |")[1].split("\n\n")[0]
    lines = [ln for ln in table.splitlines()[1:] if ln.startswith("| ")]
    return [[c.strip() for c in ln.strip("|").split("|")] for ln in lines]


def test_why_counts_fall_back_per_la(long, data_dir) -> None:
    """Every LA on LAIT's fallback in a census year, with the cause found in the files, and the
    table in docs/DATA_LOG.md is this one (sums, gaps and reasons)."""
    g = census.count_gaps(LoadContext(data_dir=data_dir, registry=load_registry()), long)
    assert g.groupby("year").size().to_dict() == {"201819": 47, "202223": 5}
    camden = g[(g["la_code"] == "202") & (g["year"] == "201819")].iloc[0]
    # URN 135140 (467 pupils, 130 with a plan in January 2018) has no row in January 2019
    assert (camden["ehcp"], camden["absent_schools"], camden["absent_pupils"], camden["absent_ehcp"]) == (
        1042, 1, 467, 130)
    assert camden["share_gap"] == pytest.approx(100 * 1042 / 4952 - 100 * 3.6 / 15.5)
    # Kensington and Chelsea 2019: 4,401 pupils of absent schools lift its census % above LAIT's
    kc = g[(g["la_code"] == "207") & (g["year"] == "201819")].iloc[0]
    assert kc["absent_pupils"] == 4401 and kc["gap_sen_support"] > 1.8
    assert set(g.loc[g["reason"].str.startswith("no school"), "la_name"]) == {"St. Helens", "Southwark", "Leicester"}
    rows = _data_log_gap_rows()
    assert len(rows) == len(g)
    for doc, r in zip(rows, g.itertuples(), strict=True):
        assert doc[0] == r.la_name and doc[1] == str(int(r.year[:4]) + 1)
        assert doc[2] == f"{r.ehcp:,.0f} / {r.sen_support:,.0f} / {r.pupils:,.0f}"
        assert doc[5] == f"{r.gap_ehcp:+.2f} / {r.gap_sen_support:+.2f}"
        assert doc[6] == f"{r.share_counts:.2f} / {r.share_lait:.2f} ({r.share_gap:+.2f})"
        assert doc[7] == r.reason
