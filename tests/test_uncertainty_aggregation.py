"""Choice (g) of the Monte Carlo: the overall score aggregated with equal weight per indicator
(the headline) or per area. A hand-made table first, then both real editions with few draws."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from inclusion_index.config import CHOICES, UncertaintySettings, run_settings
from inclusion_index.index import uncertainty as U
from inclusion_index.index.scoring import ScoringSettings, score_year
from inclusion_index.index.uncertainty.fast_engine import _score_variant
from inclusion_index.index.uncertainty.plan import _build_plan, _Plan, _random_variant, _Variant

# ----------------------------------------------------------------------------- by hand

CODES = ["201", "202", "203", "204", "205"]
IND = pd.DataFrame({"indicator": ["e1", "e2", "a1", "p1", "t1", "t2"],
                    "area": ["exclusions", "exclusions", "assessment", "placement", "attainment", "attainment"],
                    "polarity": [1, 1, 1, 1, 1, 1], "weight": [1.0] * 6})
# LAs x indicators; LA 205 has no attainment figures, so its area mean is over three areas
X = np.array([[1.0, 5.0, 3.0, 2.0, 10.0, 4.0],
              [2.0, 4.0, 1.0, 5.0, 20.0, 3.0],
              [3.0, 3.0, 5.0, 1.0, 30.0, 2.0],
              [4.0, 2.0, 2.0, 4.0, 40.0, 1.0],
              [5.0, 1.0, 4.0, 3.0, np.nan, np.nan]])


def _hand_plan(settings: ScoringSettings) -> _Plan:
    return _Plan(la_codes=CODES, years=["201819"], final_year="201819", ind=IND, scoring=settings,
                 headline="latest", base={"201819": X}, samplers={"201819": []}, n_keys=1, common=(),
                 unc=UncertaintySettings(), no_noise=pd.DataFrame())


def _hand_area_scores() -> np.ndarray:
    """Inclusive percentiles (rank - 1) / (n - 1) x 100 of each indicator over the LAs that have
    it, averaged within each area: written out, not computed by the code under test."""
    pct = np.full(X.shape, np.nan)
    for j in range(X.shape[1]):
        ok = np.isfinite(X[:, j])
        r = stats.rankdata(X[ok, j])
        pct[ok, j] = (r - 1) / (ok.sum() - 1) * 100
    areas = [[0, 1], [2], [3], [4, 5]]
    out = np.full((X.shape[0], len(areas)), np.nan)
    for a, cols in enumerate(areas):
        for i in range(X.shape[0]):
            have = pct[i, cols][np.isfinite(pct[i, cols])]
            if len(have):
                out[i, a] = have.mean()
    return out


@pytest.mark.parametrize("engine", ["fast", "score_year"])
def test_area_aggregation_draw_equals_the_area_mean_by_hand(engine):
    # the attainment area rule off, so LA 205 is scored over the three areas it has
    settings = ScoringSettings(min_indicators_per_area=0)
    plan = _hand_plan(settings)
    ranks, _, scores = _score_variant(plan, _Variant(aggregation="areas"), with_change=False, engine=engine)
    area = _hand_area_scores()
    expected = np.array([np.mean(row[np.isfinite(row)]) for row in area])
    # e.g. LA 205: exclusions (100 + 0) / 2 = 50, assessment 75, placement 50 -> 58.33
    assert expected[4] == pytest.approx((50 + 75 + 50) / 3)
    np.testing.assert_allclose(scores[:, 0], expected, atol=1e-9)
    np.testing.assert_allclose(scores[:, 1:], area, atol=1e-9)
    np.testing.assert_array_equal(ranks[:, 0], stats.rankdata(-np.round(expected, 9), method="min"))
    # the headline (per indicator) differs: LA 205's five figures out of six count equally
    head = _score_variant(plan, _Variant(), with_change=False, engine=engine)[2][:, 0]
    pct5 = np.array([100.0, 0.0, 75.0, 50.0])  # e1, e2, a1, p1 for LA 205
    assert head[4] == pytest.approx(pct5.mean())
    assert not np.allclose(head, expected)


def test_area_aggregation_matches_score_year_overall_from_areas():
    settings = ScoringSettings(min_indicators_per_area=0)
    long = pd.DataFrame({"la_code": np.repeat(CODES, len(IND)), "indicator": np.tile(IND["indicator"], len(CODES)),
                         "value": X.ravel()})
    ref = score_year(long, IND, dataclasses.replace(settings, overall_from="areas"),
                     la_codes=CODES).scores.reindex(pd.Index(CODES))
    got = _score_variant(_hand_plan(settings), _Variant(aggregation="areas"), with_change=False, engine="fast")[2]
    np.testing.assert_allclose(got[:, 0], ref["overall_score"].to_numpy(dtype="float64"), atol=1e-9)


def test_settings_validate_aggregations():
    assert "aggregation" in CHOICES
    assert run_settings().uncertainty.aggregations == ("indicators", "areas")
    assert "aggregation" in run_settings().uncertainty.perturb
    with pytest.raises(Exception, match="aggregations"):
        UncertaintySettings(aggregations=("indicators", "regions"))


# ----------------------------------------------------------------------------- real editions


@pytest.fixture(scope="module")
def few():
    return run_settings().uncertainty.replace(n_draws=40, verify_draws=2, sensitivity_draws=10, n_jobs=1)


@pytest.fixture(scope="module")
def runs(editions, few):
    return {y: U.monte_carlo(ed, few) for y, ed in editions.items()}


def test_fast_engine_verified_on_the_area_aggregation(editions, few):
    ed = editions["201819"]
    plan = _build_plan(ed, few)
    for norm in (None, *few.normalisations):
        var = _Variant(aggregation="areas", normalisation=norm)
        r_fast, c_fast, _ = _score_variant(plan, var, engine="fast")
        r_ref, c_ref, _ = _score_variant(plan, var, engine="score_year")
        np.testing.assert_array_equal(r_fast, r_ref)
        np.testing.assert_allclose(c_fast, c_ref, atol=1e-9)
    # the alternative really is a different ranking
    assert not np.array_equal(r_fast[:, 0], _score_variant(plan, _Variant(), engine="fast")[0][:, 0])


@pytest.mark.parametrize("year", ["201819", "202425"])
def test_ranges_with_the_aggregation_choice_are_at_least_as_wide(runs, editions, few, year):
    mc = runs[year]
    assert mc.engine == "fast"
    w = mc.aggregation_widening
    assert w is not None and w.headline == "indicators"
    chose = (mc.choices["aggregation"] == "areas").to_numpy()
    assert w.draws_rescored == chose.sum() and 0 < chose.sum() < few.n_draws  # both options drawn
    assert w.n_las >= 140
    assert w.median_with >= w.median_without and w.mean_with >= w.mean_without and w.p90_with >= w.p90_without
    assert w.mean_with > w.mean_without  # on real data the choice matters
    assert w.n_wider > w.n_narrower
    # the shortcut (re-scoring only the draws that chose the alternative) equals a run without (g)
    without = U.monte_carlo(editions[year], few, enabled=[c for c in CHOICES if c != "aggregation"])
    np.testing.assert_array_equal(mc.fixed_aggregation_ranks, without.ranks)
    assert without.aggregation_widening is None and without.fixed_aggregation_ranks is None
    # draws that kept the headline aggregation are the same draws in both runs
    np.testing.assert_array_equal(mc.ranks[~chose], without.ranks[~chose])
    cols = [c for c in without.choices.columns if c != "aggregation"]
    pd.testing.assert_frame_equal(mc.choices[cols], without.choices[cols])
    # the widths are those of the ranges the score table shows: the published rank kept inside
    s = mc.summary()
    nom = pd.Series(mc.nominal_ranks[:, 0], index=s.index)
    lo, hi = s["overall_rank_lo"].astype("float64"), s["overall_rank_hi"].astype("float64")
    width = (np.fmax(hi, nom) - np.fmin(lo, nom)).dropna()
    assert len(width) == w.n_las
    assert w.median_with == pytest.approx(width.median()) and w.mean_with == pytest.approx(width.mean())
    assert w.outside_with == int(((nom < lo) | (nom > hi)).sum())


def test_sensitivity_table_has_the_aggregation_row(runs, editions, few):
    ed = editions["201819"]
    t = U.sensitivity_table(ed, few, mc=runs["201819"])
    assert list(t["choice"]) == [*CHOICES, "all"]
    row = t.set_index("choice").loc["aggregation"]
    assert row["runs"] == 2 and row["max_abs_shift"] > 0
    # rank_correlation: Spearman of the area-weighted ranking against the headline, by hand
    # the edition's headline years rule is "latest" (the final index year)
    v = ed.values.loc[ed.values["index_year"] == ed.final_year, ["la_code", "indicator", "value"]]
    codes = list(ed.geography["la_code"])
    head = score_year(v, ed.indicators, ed.settings, la_codes=codes).scores
    areas = score_year(v, ed.indicators, dataclasses.replace(ed.settings, overall_from="areas"), la_codes=codes).scores
    both = pd.concat([head["overall_rank"], areas["overall_rank"]], axis=1).dropna().astype("float64")
    rho = stats.spearmanr(both.iloc[:, 0], both.iloc[:, 1]).statistic
    assert row["rank_correlation"] == pytest.approx(rho, abs=1e-12)
    assert 0.6 < rho < 0.8  # issue 14 measured 0.71 on this edition
    by = t.attrs["by_option"].set_index(["choice", "option"])
    assert by.loc[("aggregation", "indicators"), "max_abs_shift"] == 0
    assert by.loc[("aggregation", "indicators"), "rank_correlation"] == pytest.approx(1.0)
    assert t["rank_correlation"].between(-1, 1).all()


def test_aggregation_is_drawn_last(editions, few):
    plan = _build_plan(editions["201819"], few)
    before = [c for c in CHOICES if c != "aggregation"]
    for d in range(5):
        a, ca = _random_variant(plan, d, before)
        b, cb = _random_variant(plan, d, CHOICES)
        assert a.aggregation is None and b.aggregation in few.aggregations
        assert {k: v for k, v in ca.items() if k != "aggregation"} == {
            k: v for k, v in cb.items() if k != "aggregation"}
        np.testing.assert_array_equal(a.weights, b.weights)
        np.testing.assert_array_equal(a.u, b.u)


# ----------------------------------------------------------------------------- the reports' words


@pytest.fixture(scope="module")
def full(data_dir):
    from .conftest import full_edition

    return full_edition("201819", data_dir)


def test_part1_and_part6_state_the_widening_from_the_result(full):
    from inclusion_index.report import series
    from inclusion_index.report.series.text import fmt

    w = full.monte_carlo.aggregation_widening
    assert w is not None
    p1 = series.introduction(full)
    text = " ".join(p1.sections["certainty"])
    assert p1.numbers["aggregation_range_median_with"] == w.median_with
    assert p1.numbers["aggregation_range_median_without"] == w.median_without
    # the result's widths are the score table's: Part 1's own median width is the same number
    assert p1.numbers["rank_interval_median_width"] == pytest.approx(w.median_with)
    assert f"{w.draws_rescored} of the {full.monte_carlo.ranks.shape[0]} runs use it" in text
    assert (f"range is {fmt(w.median_with, 0)} places wide, against {fmt(w.median_without, 0)} places without it"
            in text)
    assert f"mean {fmt(w.mean_with)} against {fmt(w.mean_without)} places" in text
    rho = full.sensitivity.set_index("choice").loc["aggregation", "rank_correlation"]
    assert f"correlates {fmt(rho, 2)} with the headline" in text
    assert "how the indicators combine" in text  # (g) in the list of choices, its options in the table
    sens = p1.tables["sensitivity"]
    assert sens.astype(str).apply(lambda c: c.str.contains("equal weight per area")).any().any()
    assert "Rank correlation with the headline" in sens and len(sens) == len(CHOICES) + 1
    p6 = series.conclusions(full)
    text6 = " ".join(p6.sections["ranking"])
    assert (f"{w.draws_rescored} of those runs weight each area equally instead of each indicator: without that "
            f"choice the median width would be {fmt(w.median_without, 0)} places rather than "
            f"{fmt(w.median_with, 0)}.") in text6
