"""Placement shares over the plans whose placement is recorded (methods' placement.recorded_only):
the values, the unrecorded share beside them and its flag, England's figures, and the effect."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from inclusion_index.index.build import CORE_STEPS, build_edition
from inclusion_index.index.edition import score_table
from inclusion_index.index.indicators import load_method
from inclusion_index.report.notes import cell_flag, values_csv

WOLVERHAMPTON, STOCKPORT = "336", "356"


def _switched(edition: str, method: str, on: bool, data_dir, long: pd.DataFrame):
    m = load_method(method)
    m = dataclasses.replace(m, placement={**m.placement, "recorded_only": on})
    return build_edition(edition, method=m, long=long, data_dir=data_dir, steps=CORE_STEPS)


@pytest.fixture(scope="module")
def all_plans(editions, data_dir):
    """The 2024/25 edition with placement shares over all plans (the setting off)."""
    return _switched("202425", "current", False, data_dir, editions["202425"].long)


def _cell(ed, code: str, indicator: str, year: str = "202425") -> pd.Series:
    v = ed.values
    return v[(v["la_code"] == code) & (v["indicator"] == indicator) & (v["index_year"] == year)].iloc[0]


def test_settings_default_on_and_the_2019_method_off():
    assert load_method("current").placement_recorded_only
    assert not load_method("original_2019").placement_recorded_only
    assert load_method("current").unrecorded_flag_pct == 10.0
    bare = dataclasses.replace(load_method("current"), placement={})
    assert bare.placement_recorded_only and bare.unrecorded_flag_pct == 10.0


def test_wolverhampton_over_recorded_placements(editions, all_plans):
    ed = editions["202425"]
    c = _cell(ed, WOLVERHAMPTON, "place_state_special")
    assert c["measure"] == "sen2_ehcp_state_special_pct_recorded"
    assert (c["numerator"], c["denominator"]) == (753, 3148 - 824)
    assert round(c["value"], 1) == 32.4
    assert round(c["placement_unrecorded_pct"], 1) == 26.2 and c["unrecorded_pct_flagged"] == c["placement_unrecorded_pct"]
    off = _cell(all_plans, WOLVERHAMPTON, "place_state_special")
    assert off["measure"] == "sen2_ehcp_state_special_pct" and round(off["value"], 1) == 23.9
    assert round(off["placement_unrecorded_pct"], 1) == 26.2  # shown whichever denominator is used
    # flagged above 10%: Wolverhampton and Stockport (11.3%) only, on both placement indicators
    v = ed.values[ed.values["index_year"] == "202425"]
    flagged = v[v["unrecorded_pct_flagged"].notna()]
    assert set(flagged["la_code"]) == {WOLVERHAMPTON, STOCKPORT}
    assert set(flagged["indicator"]) == {"place_state_special", "place_indep_nmss"}
    assert v.loc[~v["indicator"].str.startswith("place_"), "placement_unrecorded_pct"].isna().all()
    assert cell_flag(c) == "placement not recorded for 26.2% of the LA's EHC plans"
    assert "placement_unrecorded_pct" in values_csv(ed.values).columns
    t = score_table(ed, extended=False).set_index("la_code")
    assert round(t.loc[STOCKPORT, "placement_unrecorded_pct"], 1) == 11.3


def test_england_from_national_counts(editions, all_plans):
    e = editions["202425"].england.set_index(["index_year", "indicator"])["value"]
    assert round(e[("202425", "place_state_special")], 2) == 25.81  # 159,852 of 619,406 recorded
    assert round(e[("202425", "place_indep_nmss")], 2) == 6.65
    e_all = all_plans.england.set_index(["index_year", "indicator"])["value"]
    assert round(e_all[("202425", "place_state_special")], 2) == 25.03  # 159,852 of 638,745


def test_ranks_move(editions, all_plans):
    """Wolverhampton moves from 87th to 103rd overall, Stockport from 41st to 48th (on the annual
    exclusion rates; before them 86th to 103rd and 41st to 47th)."""
    new, old = editions["202425"].headline().scores, all_plans.headline().scores
    assert (old.loc[WOLVERHAMPTON, "overall_rank"], new.loc[WOLVERHAMPTON, "overall_rank"]) == (87, 103)
    assert (old.loc[STOCKPORT, "overall_rank"], new.loc[STOCKPORT, "overall_rank"]) == (41, 48)
    moved = (new["overall_rank"].astype(float) - old["overall_rank"].astype(float)).abs()
    assert ((moved > 0).sum(), moved.max()) == (71, 16)


def test_2018_19_unaffected(editions, data_dir):
    """SEN2 has no 'not recorded' category before January 2023: the setting changes nothing."""
    on = _switched("201819", "original_2019", True, data_dir, editions["201819"].long)
    base = editions["201819"]
    pd.testing.assert_series_equal(on.values["value"], base.values["value"])
    pd.testing.assert_frame_equal(on.headline().scores, base.headline().scores)
    place = base.values[base.values["indicator"].str.startswith("place_")]
    assert place["placement_unrecorded_pct"].eq(0).all() and place["unrecorded_pct_flagged"].isna().all()
    assert np.isnan(base.values["unrecorded_pct_flagged"]).all()
