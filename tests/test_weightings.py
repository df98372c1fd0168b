"""Best and worst overall rank under any weighting of the four areas (issue 14, item 2): a tiny
example with a known answer, the bounds on both real editions, and a brute-force check."""

from __future__ import annotations

import itertools
from math import comb

import numpy as np
import pandas as pd
import pytest

from inclusion_index.index.scoring import AREAS, rank_desc
from inclusion_index.index.weightings import simplex_grid, weighting_columns, weighting_ranks
from inclusion_index.report import profile as S
from inclusion_index.report.series.text import ordinal, weights_words

COLS = [f"{a}_score" for a in AREAS]
EQUAL = np.full(4, 0.25)


def _areas(rows: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame.from_dict(rows, orient="index", columns=COLS).rename_axis("la_code")


def test_simplex_grid_covers_the_simplex_in_equal_steps():
    g = simplex_grid(20)
    assert g.shape == (comb(23, 3), 4) == (1771, 4)
    assert np.allclose(g.sum(axis=1), 1) and (g >= 0).all()
    assert len({tuple(np.round(r * 20).astype(int)) for r in g}) == len(g)
    assert np.allclose(np.round(g * 20), g * 20)
    assert {tuple(r) for r in simplex_grid(1)} == {tuple(r) for r in np.eye(4)}


def test_a_tiny_example_with_a_known_answer():
    # A scores 100 w_E, B 100 w_A, C 50 whatever the weights; D has attainment only (80), so it
    # has a score only when attainment weighs something. Worked by hand:
    # A first at (1,0,0,0); last (4th) at (0,.5,0,.5): B 50, C 50, D 80, A 0.
    # C first at (.5,.5,0,0) (A, B, C tie at 50: all first); 3rd at (.6,0,0,.4): D 80, A 60, C 50.
    # D first at (0,0,0,1); never below 2nd, as A and B cannot both beat 80.
    areas = _areas({"A": [100, 0, 0, 0], "B": [0, 100, 0, 0], "C": [50, 50, 50, 50],
                    "D": [np.nan, np.nan, np.nan, 80]})
    headline = rank_desc(pd.Series((areas.fillna(0) * EQUAL).sum(axis=1) / (areas.notna() * EQUAL).sum(axis=1)))
    w = weighting_ranks(areas, headline, EQUAL)
    r = w.ranks
    assert r["overall_rank_best_weights"].tolist() == [1, 1, 1, 1]
    assert r["overall_rank_worst_weights"].tolist() == [4, 4, 3, 2]
    assert w.n_weightings == 1772 and w.steps == 20 and w.headline == (0.25,) * 4
    # the weights reported give the rank reported (checked by hand for A and D)
    a_best = r.loc["A", [f"best_{a}" for a in AREAS]].to_numpy()
    assert a_best[0] >= 0.5 and a_best[0] >= a_best[1]  # A = 100 w_E at least C's 50 and B's 100 w_A
    d = r.loc["D"]  # 2nd: attainment weighs something and A or B passes 80
    assert d["worst_attainment"] > 0 and max(d["worst_exclusions"], d["worst_assessment"]) > 0.8
    # the headline rank lies outside what the grid finds: the bound widens to it, and the headline
    # method is named as what gives it
    wide = weighting_ranks(areas, headline.where(headline.index != "D", 3), EQUAL)
    assert wide.ranks.at["D", "overall_rank_worst_weights"] == 3
    assert wide.ranks.loc["D", [f"worst_{a}" for a in AREAS]].isna().all()
    table = weighting_columns(pd.DataFrame({"la_code": ["A", "D", "Z"]}), wide)
    assert table["weights_for_worst_rank"].tolist()[1:] == ["indicators", ""]
    assert table["weights_for_best_rank"].iloc[0].count(",") == 3
    assert table["overall_rank_best_weights"].isna().tolist() == [False, False, True]


@pytest.mark.parametrize("edition", ["201819", "202425"])
def test_bounds_contain_the_headline_rank_for_every_la(editions, edition):
    ed = editions[edition]
    t = ed.score_table
    scored = t["overall_score"].notna()
    best, rank, worst = (t.loc[scored, c].astype(int) for c in
                         ("overall_rank_best_weights", "overall_rank", "overall_rank_worst_weights"))
    assert (best <= rank).all() and (rank <= worst).all() and (best >= 1).all()
    assert (worst <= scored.sum()).all()
    assert t.loc[~scored, ["overall_rank_best_weights", "overall_rank_worst_weights"]].isna().all().all()
    for c in ("weights_for_best_rank", "weights_for_worst_rank"):
        shares = t.loc[scored, c]
        numeric = shares[shares != "indicators"].str.split(",", expand=True).astype(float)
        assert numeric.shape[1] == 4 and np.allclose(numeric.sum(axis=1), 1, atol=0.002)
    assert ed.weightings.headline == pytest.approx((2 / 12, 1 / 12, 2 / 12, 7 / 12))
    rec = next(r for r in ed.log if r.step == "weightings")
    assert rec.seconds < 5 and rec.rows > 0


def _brute_ranks(areas: pd.DataFrame, w: tuple[float, ...]) -> pd.Series:
    """Ranks under one weighting, written plainly with pandas and the scoring's rank_desc."""
    weights = pd.Series(w, index=COLS)
    den = areas.notna().mul(weights, axis=1).sum(axis=1)
    score = areas.fillna(0).mul(weights, axis=1).sum(axis=1) / den
    return rank_desc(score.where(den > 0), "min")


@pytest.mark.parametrize("edition", ["201819", "202425"])
def test_bounds_hold_by_brute_force_on_a_10_percent_grid(editions, edition):
    t = editions[edition].score_table.set_index("la_code")
    t = t[t["overall_score"].notna()]
    areas = t[COLS]
    # ten LAs spread over the ranking, with an LA missing an area where there is one
    picks = list(t.sort_values("overall_rank").index[::len(t) // 9][:9])
    picks.append(next(iter(areas.index[areas.isna().any(axis=1)]), t.index[-1]))
    grid = [tuple(k / 10 for k in c) for c in itertools.product(range(11), repeat=4) if sum(c) == 10]
    assert len(grid) == comb(13, 3)
    brute = pd.DataFrame({w: _brute_ranks(areas, w) for w in grid}).loc[picks]
    assert (t.loc[picks, "overall_rank_best_weights"] <= brute.min(axis=1)).all()
    assert (t.loc[picks, "overall_rank_worst_weights"] >= brute.max(axis=1)).all()
    # and the weights the table gives for each bound produce that rank
    for code in picks:
        for bound in ("best", "worst"):
            shares = t.at[code, f"weights_for_{bound}_rank"]
            if shares != "indicators":
                w = tuple(float(x) for x in shares.split(","))
                assert _brute_ranks(areas, w)[code] == t.at[code, f"overall_rank_{bound}_weights"], (code, bound)


def test_the_profile_says_it(editions):
    ed = editions["201819"]
    r = ed.weightings.ranks
    first = r.index[(r["overall_rank_best_weights"] == 1) & (r["overall_rank_worst_weights"] > 1)][0]
    name = ed.geography.set_index("la_code").at[first, "la_name"]
    text = S.weighting_text(ed, first)
    how = weights_words({a: r.at[first, f"best_{a}"] for a in AREAS}, ed.weightings.headline)
    assert f"{name} ranks between 1st and " in text and f", and ranks first {how}." in text
    assert text in S.headline(ed, first)
    kent = S.weighting_text(ed, "886")
    lo, hi = (int(r.at["886", f"overall_rank_{b}_weights"]) for b in ("best", "worst"))
    assert f"Kent ranks between {ordinal(lo)} and {ordinal(hi)}" in kent and "5% steps" in kent
    assert weights_words({"exclusions": 0.5, "placement": 0.5, "attainment": 0.0}) == \
        "when the weights are exclusions 50% and placement 50%"
    assert weights_words({"attainment": 1.0, "placement": 0.0}) == "when attainment alone counts"
    assert weights_words({"exclusions": 0.25, "attainment": 0.75}, (0.25, 0.75)) == "under the headline weighting"
    assert weights_words({"exclusions": np.nan, "attainment": np.nan}) == "under the headline weighting"
