"""Best and worst overall rank of every LA under any weighting of the four areas (Lorenz, Brauer and
Lorenz 2016, "rank-optimal weighting") on a grid, and the ranks explore.html computes from a reader's
grades: docs/METHOD.md "Rank under any weighting of the areas" and "Your own index" give the method."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from inclusion_index.index.scoring import AREAS, rank_desc

MAX_GRADE = 5  # explore.html's grades run 0-5, as the OECD Better Life Index's
GRID_STEPS = 20  # 5% steps
BOUNDS = ("best", "worst")
HEADLINE = "indicators"  # weights_for_* where the headline method (equal weight per indicator) gives the bound


@dataclass(frozen=True)
class WeightingRanks:
    """``ranks`` per scored LA: ``overall_rank_best_weights``, ``overall_rank_worst_weights`` and the
    shares giving each (``best_<area>``, ``worst_<area>``; NaN where the headline method gives it)."""

    ranks: pd.DataFrame
    steps: int
    n_weightings: int
    headline: tuple[float, ...]


def simplex_grid(steps: int, k: int = len(AREAS)) -> np.ndarray:
    """Every ``k``-vector of multiples of ``1/steps`` that sums to 1 (stars and bars)."""
    bars = np.array(list(itertools.combinations(range(steps + k - 1), k - 1)))
    edges = np.column_stack([np.full(len(bars), -1), bars, np.full(len(bars), steps + k - 1)])
    return (np.diff(edges, axis=1) - 1) / steps


def ranks_under(weights: np.ndarray, areas: np.ndarray, decimals: int | None = 9) -> np.ndarray:
    """Ranks (1 = highest score, ties ``min``) of every LA (column of ``areas``' transpose) under
    every weighting (row of ``weights``); NaN where the LA has no score under it."""
    has = np.isfinite(areas)
    num, den = weights @ np.where(has, areas, 0.0).T, weights @ has.T.astype("float64")
    s = np.divide(num, den, out=np.full(num.shape, -np.inf), where=den > 0)
    r = stats.rankdata(-(s if decimals is None else s.round(decimals)), method="min", axis=1).astype("float64")
    return np.where(den > 0, r, np.nan)


def headline_area_weights(indicators: pd.DataFrame, available: Sequence[str], overall_from: str) -> np.ndarray:
    """The area weights the headline gives an LA with every available indicator: each area's
    share of the indicator weights (``overall_from: areas``: equal over the areas available)."""
    ind = indicators[indicators["indicator"].isin(available)]
    w = ind.groupby("area")["weight"].sum().reindex(list(AREAS), fill_value=0.0).astype("float64")
    w = (w > 0).astype("float64") if overall_from == "areas" else w
    return (w / w.sum()).to_numpy()


def weighting_ranks(areas: pd.DataFrame, headline_rank: pd.Series, headline_weights: np.ndarray, *,
                    steps: int = GRID_STEPS, decimals: int | None = 9, chunk: int = 20_000) -> WeightingRanks:
    """Best and worst rank of each LA (rows of ``areas``: the scored LAs' ``<area>_score``)
    over the grid and the headline's weights, widened to contain ``headline_rank``."""
    grid = np.vstack([headline_weights, simplex_grid(steps)])
    grid = grid[np.argsort(np.abs(grid - headline_weights).sum(axis=1), kind="stable")]  # nearest the headline first
    a, cols = areas[[f"{x}_score" for x in AREAS]].to_numpy("float64"), np.arange(len(areas))
    best, worst = np.full(len(a), np.inf), np.full(len(a), -np.inf)
    at = {b: np.zeros(len(a), dtype=int) for b in BOUNDS}
    for start in range(0, len(grid), chunk):
        r = ranks_under(grid[start:start + chunk], a, decimals)
        for bound, sign, held in (("best", 1, best), ("worst", -1, worst)):
            k = np.argmin(np.nan_to_num(sign * r, nan=np.inf), axis=0)
            v, moved = r[k, cols], sign * r[k, cols] < sign * held
            held[moved], at[bound][moved] = v[moved], start + k[moved]
    out = pd.DataFrame(index=areas.index)
    h = headline_rank.reindex(areas.index).to_numpy("float64", na_value=np.nan)
    for bound, held, beats in (("best", best, h < best), ("worst", worst, h > worst)):
        out[f"overall_rank_{bound}_weights"] = pd.array(np.where(beats, h, held), dtype="Float64").astype("Int64")
        shares = np.where(beats[:, None], np.nan, grid[at[bound]])
        out[[f"{bound}_{x}" for x in AREAS]] = shares
    return WeightingRanks(out, steps, len(grid), tuple(float(x) for x in headline_weights))


def weighting_columns(table: pd.DataFrame, w: WeightingRanks) -> pd.DataFrame:
    """The score table with ``overall_rank_best_weights``, ``overall_rank_worst_weights`` and the
    weights giving each, ``weights_for_best_rank`` / ``weights_for_worst_rank``: "E,A,P,T"
    shares, or "indicators" for the headline method (blank for an unscored LA)."""
    out, la = table.copy(), table["la_code"].astype(str)
    for bound in BOUNDS:
        out[f"overall_rank_{bound}_weights"] = w.ranks[f"overall_rank_{bound}_weights"].reindex(la).array
    for bound in BOUNDS:
        shares = w.ranks[[f"{bound}_{x}" for x in AREAS]].reindex(la)
        text = [",".join(f"{round(x, 3):g}" for x in row) for row in shares.to_numpy()]
        scored = w.ranks[f"overall_rank_{bound}_weights"].reindex(la).notna().to_numpy()
        out[f"weights_for_{bound}_rank"] = np.where(~scored, "", np.where(shares.isna().all(axis=1), HEADLINE, text))
    return out


Grades = Sequence[int] | Literal["indicators"]


def ranks_for_grades(table: pd.DataFrame, grades: Grades, *, decimals: int | None = 9) -> pd.Series:
    """Rank of every scored LA (index ``la_code``; ``overall_score`` not NaN) under explore.html's
    ``#weights=`` grades: four whole grades 0-5 in area order (all 0 rank nobody) or "indicators",
    the headline's ranks; anything else is an error, not a guess. The Python twin of
    templates/explore.js: tests/test_explore.py holds the two equal."""
    g = grades if isinstance(grades, str) else tuple(grades)
    if g != HEADLINE and (isinstance(g, str) or len(g) != len(AREAS)
                          or not all(float(x).is_integer() and 0 <= x <= MAX_GRADE for x in g)):
        raise ValueError(f"weights must be {len(AREAS)} whole grades 0-{MAX_GRADE} ({', '.join(AREAS)}) "
                         f"or {HEADLINE!r}, not {grades!r}")
    t = table.set_index("la_code") if "la_code" in table.columns else table
    t = t[t["overall_score"].notna()]
    if g == HEADLINE:
        return rank_desc(t["overall_score"], "min", decimals=decimals).astype("Int64").rename("rank")
    w = np.asarray(g, dtype="float64")
    if w.sum() == 0:
        return pd.Series(pd.NA, index=t.index, dtype="Int64", name="rank")
    r = ranks_under((w / w.sum())[None, :], t[[f"{a}_score" for a in AREAS]].to_numpy("float64"), decimals)[0]
    return pd.Series(pd.array(r, dtype="Float64").astype("Int64"), index=t.index, name="rank")
