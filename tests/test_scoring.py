"""Scoring on small hand-made tables whose answers are worked out by hand in the comments."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inclusion_index.index.scoring import (
    AREAS,
    ScoringInputError,
    ScoringSettings,
    most_improved,
    normalise,
    percentile_rank,
    rank_desc,
    regional_summary,
    score_year,
)


def tidy(table: dict[str, dict[str, float]]) -> pd.DataFrame:
    """{indicator: {la_code: value}} -> tidy la_code, indicator, value."""
    rows = [(la, ind, v) for ind, col in table.items() for la, v in col.items()]
    return pd.DataFrame(rows, columns=["la_code", "indicator", "value"])


def indicator_table(*rows: tuple[str, str, int] | tuple[str, str, int, float]) -> pd.DataFrame:
    full = [(*r, 1.0) if len(r) == 3 else r for r in rows]
    return pd.DataFrame(full, columns=["indicator", "area", "polarity", "weight"])


NAN = float("nan")


# ----------------------------------------------------------------- rank_desc, percentiles


def test_rank_desc_min_ties_and_missing() -> None:
    s = pd.Series([9.0, 7.0, 7.0, 5.0, NAN], index=list("abcde"))
    assert rank_desc(s, "min").tolist() == [1, 2, 2, 4, pd.NA]
    assert rank_desc(s, "dense").tolist()[:4] == [1, 2, 2, 3]
    assert rank_desc(s, "average").tolist()[:4] == [1.0, 2.5, 2.5, 4.0]
    assert str(rank_desc(s, "min").dtype) == "Int64"


def test_rank_desc_floating_point_noise_still_ties() -> None:
    # 0.1 + 0.2 = 0.30000000000000004 in floating point; as a score it is a tie with 0.3.
    s = pd.Series([0.1 + 0.2, 0.3, 0.1])
    assert rank_desc(s, "min").tolist() == [1, 1, 3]
    assert rank_desc(s, "min", decimals=None).tolist() == [1, 2, 3]


def test_rank_desc_permutation_without_ties() -> None:
    s = pd.Series([3.2, -1.0, 8.5, 0.0, 4.4])
    assert sorted(rank_desc(s).tolist()) == [1, 2, 3, 4, 5]
    assert rank_desc(s).tolist() == [3, 5, 1, 4, 2]


def test_percentile_rank_ties_averaged() -> None:
    # Ascending average ranks of 10, 20, 20, 30 are 1, 2.5, 2.5, 4 (n = 4).
    s = pd.Series([10.0, 20.0, 20.0, 30.0, NAN])
    # (r - 1) / (n - 1): 0, 1.5/3, 1.5/3, 1
    assert percentile_rank(s, "inclusive").tolist()[:4] == [0.0, 0.5, 0.5, 1.0]
    # r / n: 1/4, 2.5/4, 2.5/4, 4/4
    assert percentile_rank(s, "rank_over_n").tolist()[:4] == [0.25, 0.625, 0.625, 1.0]
    # (r - 0.5) / n: 0.5/4, 2/4, 2/4, 3.5/4
    assert percentile_rank(s, "hazen").tolist()[:4] == [0.125, 0.5, 0.5, 0.875]
    assert all(math.isnan(percentile_rank(s, f).iloc[4]) for f in ("inclusive", "rank_over_n", "hazen"))


def test_percentile_rank_single_value_is_middle() -> None:
    assert percentile_rank(pd.Series([NAN, 4.0])).tolist()[1] == 0.5


# ----------------------------------------------------------------- polarity and normalisation


def test_lower_is_better_ranks_lowest_value_first() -> None:
    ind = indicator_table(("fpe_rate", "exclusions", -1))
    vals = tidy({"fpe_rate": {"A": 1.0, "B": 2.0, "C": 3.0, "D": 4.0}})
    s = score_year(vals, ind, ScoringSettings(min_indicators_per_area=0)).scores
    # Oriented values -1, -2, -3, -4 -> A highest: (4-1)/3, (3-1)/3, (2-1)/3, 0 -> x100.
    assert s["fpe_rate_score"].tolist() == pytest.approx([100.0, 200 / 3, 100 / 3, 0.0])
    assert s["overall_rank"].tolist() == [1, 2, 3, 4]
    assert s["exclusions_rank"].tolist() == [1, 2, 3, 4]
    # The same values with "higher is better" reverse the order.
    ind_up = indicator_table(("fpe_rate", "exclusions", 1))
    assert score_year(vals, ind_up).scores["overall_rank"].tolist() == [4, 3, 2, 1]


def test_minmax_by_hand() -> None:
    ind = indicator_table(("down", "placement", -1), ("up", "attainment", 1))
    vals = tidy({"down": {"A": 10.0, "B": 15.0, "C": 30.0}, "up": {"A": 0.0, "B": 5.0, "C": 10.0}})
    s = score_year(vals, ind, ScoringSettings(normalisation="minmax")).scores
    # down: (max - x) / (max - min) = 20/20, 15/20, 0/20 -> 100, 75, 0
    assert s["down_score"].tolist() == pytest.approx([100.0, 75.0, 0.0])
    # up: (x - min) / (max - min) -> 0, 50, 100
    assert s["up_score"].tolist() == pytest.approx([0.0, 50.0, 100.0])
    # overall: A (100+0)/2 = 50, B (75+50)/2 = 62.5, C (0+100)/2 = 50
    assert s["overall_score"].tolist() == pytest.approx([50.0, 62.5, 50.0])
    assert s["overall_rank"].tolist() == [2, 1, 2]


def test_zscore_by_hand() -> None:
    ind = indicator_table(("i", "assessment", 1), ("j", "attainment", -1))
    vals = tidy({"i": {"A": 2.0, "B": 4.0, "C": 6.0}, "j": {"A": 0.0, "B": 0.0, "C": 3.0}})
    s = score_year(vals, ind, ScoringSettings(normalisation="zscore")).scores
    # i: mean 4, sample sd sqrt((4+0+4)/2) = 2 -> -1, 0, 1 (not multiplied by 100)
    assert s["i_score"].tolist() == pytest.approx([-1.0, 0.0, 1.0])
    # j: mean 1, sample sd sqrt((1+1+4)/2) = sqrt(3); z = -1/√3, -1/√3, 2/√3; lower is
    # better so flipped: 1/√3, 1/√3, -2/√3
    r3 = math.sqrt(3)
    assert s["j_score"].tolist() == pytest.approx([1 / r3, 1 / r3, -2 / r3])
    # overall = mean of z's: A (-1 + 1/√3)/2 = -0.2113, B (0 + 1/√3)/2 = 0.2887,
    # C (1 - 2/√3)/2 = -0.0774 -> ranks B, C, A
    assert s["overall_score"].tolist() == pytest.approx([(-1 + 1 / r3) / 2, (1 / r3) / 2, (1 - 2 / r3) / 2])
    assert s["overall_rank"].tolist() == [3, 1, 2]
    # Population sd (ddof=0) for i: sqrt(8/3) -> z = ±2/sqrt(8/3) = ±1.2247
    z0 = score_year(vals, ind, ScoringSettings(normalisation="zscore", zscore_ddof=0)).scores
    assert z0["i_score"].tolist() == pytest.approx([-2 / math.sqrt(8 / 3), 0.0, 2 / math.sqrt(8 / 3)])


def test_constant_indicator_gets_the_middle() -> None:
    x = pd.Series([5.0, 5.0, NAN])
    assert normalise(x, 1).tolist()[:2] == [50.0, 50.0]
    assert normalise(x, 1, ScoringSettings(normalisation="minmax")).tolist()[:2] == [50.0, 50.0]
    assert normalise(x, -1, ScoringSettings(normalisation="zscore")).tolist()[:2] == [0.0, 0.0]


MIXED = tidy(
    {
        "a": {"A": 3.1, "B": 0.4, "C": 7.7, "D": 0.4, "E": 2.0, "F": NAN},
        "b": {"A": 55.0, "B": 61.0, "C": 40.0, "D": 48.0, "E": 70.0, "F": 52.0},
    }
)
MIXED_IND = indicator_table(("a", "exclusions", -1), ("b", "attainment", 1))


@pytest.mark.parametrize(
    ("how", "transform"),
    [
        ("percentile", lambda v: 10 * v + 3),
        ("percentile", np.exp),  # any increasing transformation
        ("minmax", lambda v: 10 * v + 3),
        ("zscore", lambda v: 10 * v + 3),
    ],
)
def test_invariance_to_rescaling_an_indicator(how: str, transform) -> None:
    cfg = ScoringSettings(normalisation=how, min_indicators_per_area=0)
    before = score_year(MIXED, MIXED_IND, cfg).scores
    changed = MIXED.copy()
    is_a = changed["indicator"] == "a"
    changed.loc[is_a, "value"] = transform(changed.loc[is_a, "value"])
    after = score_year(changed, MIXED_IND, cfg).scores
    for col in ["a_score", "b_score", "overall_score", "exclusions_score", "attainment_score"]:
        pd.testing.assert_series_equal(before[col], after[col], check_exact=False, rtol=1e-12)
    pd.testing.assert_series_equal(before["overall_rank"], after["overall_rank"])


# ----------------------------------------------------------------- weights


WEIGHT_VALUES = tidy({"i1": {"A": 1.0, "B": 2.0, "C": 3.0}, "i2": {"A": 3.0, "B": 1.0, "C": 2.0}})


def test_equal_weights_by_hand() -> None:
    ind = indicator_table(("i1", "assessment", 1), ("i2", "attainment", 1))
    s = score_year(WEIGHT_VALUES, ind).scores
    # i1 -> A 0, B 50, C 100; i2 -> A 100, B 0, C 50
    # overall: A 50, B 25, C 75
    assert s["overall_score"].tolist() == pytest.approx([50.0, 25.0, 75.0])
    assert s["overall_rank"].tolist() == [2, 3, 1]


def test_doubling_a_weight_by_hand() -> None:
    ind = indicator_table(("i1", "assessment", 1, 2.0), ("i2", "attainment", 1, 1.0))
    s = score_year(WEIGHT_VALUES, ind).scores
    # A (2*0 + 100)/3 = 33.33, B (2*50 + 0)/3 = 33.33, C (2*100 + 50)/3 = 83.33
    assert s["overall_score"].tolist() == pytest.approx([100 / 3, 100 / 3, 250 / 3])
    # 'min' ties: C first, then A and B share 2nd
    assert s["overall_rank"].tolist() == [2, 2, 1]
    # Area scores are unaffected by a weight on a one-indicator area.
    assert s["assessment_score"].tolist() == pytest.approx([0.0, 50.0, 100.0])


# ----------------------------------------------------------------- missing-data rules

# Five LAs; indicator 'gone' was published for nobody, 'sparse' for 2 of 5 (40% < 50%).
MISSING_IND = indicator_table(
    ("e1", "exclusions", -1),
    ("a1", "assessment", -1),
    ("p1", "placement", -1),
    ("t1", "attainment", 1),
    ("t2", "attainment", 1),
    ("gone", "attainment", 1),
    ("sparse", "attainment", 1),
)
MISSING_VALUES = tidy(
    {
        "e1": {"A": 1, "B": 2, "C": 3, "D": NAN, "E": NAN},
        "a1": {"A": 10, "B": 30, "C": 20, "D": NAN, "E": 5},
        "p1": {"A": 5, "B": 5, "C": 1, "D": NAN, "E": 9},
        "t1": {"A": 1, "B": 2, "C": 3, "D": 4, "E": 5},
        "t2": {"A": 5, "B": 4, "C": 3, "D": 2, "E": 1},
        "sparse": {"A": 1, "B": 2},
    }
)
# Percentiles x100 among the LAs with a value (lower is better for e1, a1, p1):
#   e1 (A,B,C):   A 100, B 50, C 0
#   a1 (A,B,C,E): best E(5) A(10) C(20) B(30) -> E 100, A 66.67, C 33.33, B 0
#   p1 (A,B,C,E): best C(1), A=B(5) tied, E(9) -> C 100, A 50, B 50, E 0
#   t1: A 0, B 25, C 50, D 75, E 100;  t2: A 100, B 75, C 50, D 25, E 0
# Available: e1 a1 p1 t1 t2 (5); gone (0%) and sparse (40%) are not.
# Overall A (100+66.67+50+0+100)/5 = 63.33; B (50+0+50+25+75)/5 = 40; C (0+33.33+100+50+50)/5 = 46.67


def test_missing_rules_default() -> None:
    res = score_year(MISSING_VALUES, MISSING_IND)
    s = res.scores
    assert list(s.index) == ["A", "B", "C", "D", "E"]  # nobody dropped
    assert res.available == ("e1", "a1", "p1", "t1", "t2")
    assert (s["n_indicators_available"] == 5).all()
    assert s["n_indicators"].tolist() == [5, 5, 5, 2, 4]
    assert s["overall_score"].tolist()[:3] == pytest.approx([190 / 3, 40.0, 140 / 3])
    assert s["overall_rank"].tolist()[:3] == [1, 3, 2]
    assert s["scored"].tolist() == [True, True, True, False, False]
    # D misses 3 of the 5 available indicators (at most 2 allowed)
    assert "too few indicators (2 of 5)" in s.loc["D", "flags"]
    assert "area missing: exclusions" in s.loc["D", "flags"]
    # E misses only e1, which is its whole exclusions area
    assert s.loc["E", "flags"] == "area missing: exclusions"
    for la in ["D", "E"]:
        assert pd.isna(s.loc[la, "overall_score"]) and pd.isna(s.loc[la, "overall_rank"])
        assert all(pd.isna(s.loc[la, f"{a}_score"]) for a in AREAS)
    assert (s.loc[["A", "B", "C"], "flags"] == "").all()
    # Unavailable indicators keep their raw values but get no score.
    assert s.loc["A", "sparse_value"] == 1.0 and pd.isna(s.loc["A", "sparse_score"])
    assert s["gone_value"].isna().all()
    assert any("sparse" in n for n in res.notes) and any("gone" in n for n in res.notes)
    # Area scores (weighted means within area) and area ranks among scored LAs.
    assert s["attainment_score"].tolist()[:3] == pytest.approx([50.0, 50.0, 50.0])
    assert s["attainment_rank"].tolist()[:3] == [1, 1, 1]
    assert s["assessment_rank"].tolist()[:3] == [1, 3, 2]
    assert s["exclusions_n_indicators"].tolist() == [1, 1, 1, 0, 0]
    # Long table: one row per LA x indicator, 'used' = available and present.
    long = res.long
    assert len(long) == 5 * 7
    assert long.loc[(long.la_code == "E") & (long.indicator == "a1"), "score"].item() == pytest.approx(100.0)
    assert int(long["used"].sum()) == int(s["n_indicators"].sum())


def test_missing_rules_relaxed() -> None:
    # Without the area rule E is scored: (a1 100 + p1 0 + t1 100 + t2 0) / 4 = 50.
    s = score_year(MISSING_VALUES, MISSING_IND, ScoringSettings(min_indicators_per_area=0)).scores
    assert s.loc["E", "overall_score"] == pytest.approx(50.0)
    assert pd.isna(s.loc["E", "exclusions_score"])
    # scored, but the empty area is still flagged (METHOD.md: "the area is blank and flagged")
    assert s.loc["E", "flags"] == "area missing: exclusions (overall score kept)"
    assert s["overall_rank"].tolist() == [1, 4, 3, pd.NA, 2]
    # Allowing 3 missing also scores D: (t1 75 + t2 25)/2 = 50, tying E (min ranks 2, 2, 4).
    s3 = score_year(
        MISSING_VALUES, MISSING_IND, ScoringSettings(min_indicators_per_area=0, max_missing_indicators=3)
    ).scores
    assert s3.loc["D", "overall_score"] == pytest.approx(50.0)
    assert s3["overall_rank"].tolist() == [1, 5, 4, 2, 2]


def test_area_scores_for_unscored_option() -> None:
    s = score_year(MISSING_VALUES, MISSING_IND, ScoringSettings(area_scores_for_unscored=True)).scores
    assert pd.isna(s.loc["E", "overall_score"])
    # E attainment: (t1 100 + t2 0)/2 = 50
    assert s.loc["E", "attainment_score"] == pytest.approx(50.0)
    assert pd.isna(s.loc["E", "exclusions_score"])


def test_overall_from_areas_by_hand() -> None:
    s = score_year(MISSING_VALUES, MISSING_IND, ScoringSettings(overall_from="areas")).scores
    # A (100 + 66.67 + 50 + 50)/4 = 66.67; B (50+0+50+50)/4 = 37.5; C (0+33.33+100+50)/4 = 45.83
    assert s["overall_score"].tolist()[:3] == pytest.approx([200 / 3, 37.5, 550 / 12])


def test_indicator_absent_for_everyone_does_not_penalise() -> None:
    # With 'gone' and 'sparse' removed from the table the result is identical.
    full = score_year(MISSING_VALUES, MISSING_IND).scores
    ind = MISSING_IND[~MISSING_IND.indicator.isin(["gone", "sparse"])]
    vals = MISSING_VALUES[MISSING_VALUES.indicator != "sparse"]
    less = score_year(vals, ind).scores
    pd.testing.assert_frame_equal(full[less.columns], less)


def test_area_with_no_available_indicator() -> None:
    ind = indicator_table(("e1", "exclusions", -1), ("t1", "attainment", 1))
    vals = tidy({"e1": {"A": NAN, "B": NAN, "C": NAN}, "t1": {"A": 1.0, "B": 2.0, "C": 3.0}})
    res = score_year(vals, ind)
    s = res.scores
    # Nobody has exclusions: the area is NaN for all, noted once, and nobody is penalised.
    assert s["exclusions_score"].isna().all()
    assert "area not available: exclusions" in res.notes
    assert "area has no indicators: placement" in res.notes
    assert s["scored"].all()
    assert s["overall_score"].tolist() == [0.0, 50.0, 100.0]


def test_la_with_no_rows_is_kept() -> None:
    ind = indicator_table(("t1", "attainment", 1))
    vals = tidy({"t1": {"A": 1.0, "B": 2.0}})
    s = score_year(vals, ind, la_codes=["A", "B", "Z"]).scores
    assert list(s.index) == ["A", "B", "Z"]
    assert not s.loc["Z", "scored"]
    assert s.loc["Z", "flags"].startswith("no indicator values")


def test_bad_inputs_raise() -> None:
    ind = indicator_table(("t1", "attainment", 1))
    with pytest.raises(ScoringInputError, match="not in the indicator table"):
        score_year(tidy({"tx": {"A": 1.0}}), ind)
    dup = pd.concat([tidy({"t1": {"A": 1.0}})] * 2)
    with pytest.raises(ScoringInputError, match="duplicated"):
        score_year(dup, ind)
    with pytest.raises(ScoringInputError, match="unknown area"):
        score_year(tidy({"t1": {"A": 1.0}}), indicator_table(("t1", "wellbeing", 1)))
    with pytest.raises(ScoringInputError, match="polarity"):
        score_year(tidy({"t1": {"A": 1.0}}), indicator_table(("t1", "attainment", 0)))
    with pytest.raises(ScoringInputError, match="normalisation"):
        ScoringSettings(normalisation="rank")  # type: ignore[arg-type]


# ----------------------------------------------------------------- regions, improvement


def test_regional_summary_means() -> None:
    scores = pd.DataFrame(
        {
            "overall_score": [60.0, NAN, 40.0, 20.0],
            "exclusions_score": [80.0, NAN, 10.0, 30.0],
            "assessment_score": [50.0, NAN, 50.0, 50.0],
            "placement_score": [NAN, NAN, 70.0, 90.0],
            "attainment_score": [40.0, NAN, 60.0, 0.0],
        },
        index=pd.Index(["A", "B", "C", "D"], name="la_code"),
    )
    regions = pd.Series({"A": "North", "B": "North", "C": "South", "D": "South", "X": "East"})
    out = regional_summary(scores, regions)
    assert list(out.index) == ["North", "South"]
    assert out["n_las"].tolist() == [2, 2]
    assert out["n_scored"].tolist() == [1, 2]
    # North: only A scored -> 60; South: (40 + 20)/2 = 30
    assert out["overall_score"].tolist() == pytest.approx([60.0, 30.0])
    # South exclusions (10 + 30)/2 = 20; North placement has no value -> NaN
    assert out.loc["South", "exclusions_score"] == pytest.approx(20.0)
    assert pd.isna(out.loc["North", "placement_score"])
    with pytest.raises(ScoringInputError, match="no region"):
        regional_summary(scores, regions.drop("D"))


def test_most_improved_three_las() -> None:
    ind = indicator_table(
        ("i1", "assessment", 1),
        ("i2", "attainment", 1),
        ("i3", "exclusions", -1),  # early year only
        ("i4", "placement", -1),  # late year only
    )
    early = tidy(
        {"i1": {"A": 1, "B": 2, "C": 3}, "i2": {"A": 2, "B": 1, "C": 3}, "i3": {"A": 9, "B": 1, "C": 9}}
    )
    late = tidy(
        {"i1": {"A": 3, "B": 1, "C": 2}, "i2": {"A": 3, "B": 2, "C": 1}, "i4": {"A": 9, "B": 1, "C": 5}}
    )
    # Compared over i1, i2 only.
    # Early: i1 A 0, B 50, C 100; i2 A 50, B 0, C 100 -> A 25, B 25, C 100; ranks A 2, B 2, C 1
    # Late:  i1 A 100, B 0, C 50; i2 A 100, B 50, C 0 -> A 100, B 25, C 25; ranks A 1, B 2, C 2
    out = most_improved(early, late, ind).sort_index()
    assert out["score_early"].tolist() == pytest.approx([25.0, 25.0, 100.0])
    assert out["score_late"].tolist() == pytest.approx([100.0, 25.0, 25.0])
    assert out["change"].tolist() == pytest.approx([75.0, 0.0, -75.0])
    assert out["rank_early"].tolist() == [2, 2, 1]
    assert out["rank_late"].tolist() == [1, 2, 2]
    assert out["rank_change"].tolist() == [1, 0, -1]
    assert out["improvement_rank"].tolist() == [1, 2, 3]
    assert (out["indicators_compared"] == 2).all()
    assert out.attrs["indicators_compared"] == ["i1", "i2"]
    # The full early scoring (with i3) differs: B is best on i3 -> B (50+0+100)/3 = 50.
    full_early = score_year(early, ind, ScoringSettings(min_indicators_per_area=0)).scores
    assert full_early.loc["B", "overall_score"] == pytest.approx(50.0)


# ----------------------------------------------------------------- properties


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(finite, min_size=2, max_size=60), st.sampled_from([1, -1]))
def test_percentile_scores_bounded_and_centred(xs: list[float], polarity: int) -> None:
    s = normalise(pd.Series(xs), polarity)
    assert ((s >= 0.0) & (s <= 100.0)).all()
    # Averaged ties keep the mean rank at (n+1)/2, so the mean score is exactly 50.
    assert s.mean() == pytest.approx(50.0)


@settings(max_examples=200, deadline=None)
@given(st.lists(finite, min_size=1, max_size=60, unique=True))
def test_ranks_are_a_permutation_for_distinct_values(xs: list[float]) -> None:
    vals = pd.DataFrame({"la_code": [f"L{i:03d}" for i in range(len(xs))], "indicator": "t1", "value": xs})
    s = score_year(vals, indicator_table(("t1", "attainment", 1))).scores
    # Distinct values can still round to equal scores only if they are within 1e-9 of
    # each other on the 0-100 scale; with n <= 60 the percentile steps are >= 100/59.
    assert sorted(s["overall_rank"].tolist()) == list(range(1, len(xs) + 1))
    assert ((s["overall_score"] >= 0) & (s["overall_score"] <= 100)).all()
