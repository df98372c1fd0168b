"""Context-adjusted scores: a known slope on synthetic data, residuals that sum to 0, and the
real editions (IDACI from IoD2015 / IoD2019, EHC plans from SEN2)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from inclusion_index.config import parse_adjustment, run_settings
from inclusion_index.errors import ConfigError
from inclusion_index.index.adjustment import (
    AdjustmentError,
    adjust_scores,
    context_table,
    fit_adjustment,
)

from .conftest import full_edition


def synthetic(n: int = 150, seed: int = 3) -> tuple[pd.Series, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    idx = pd.Index([f"{i:03d}" for i in range(n)], name="la_code")
    ctx = pd.DataFrame({"idaci": rng.uniform(0.08, 0.35, n), "log_ehcp_total": rng.normal(7.5, 0.6, n)},
                       index=idx)
    y = 60 - 40 * ctx["idaci"] + 3 * ctx["log_ehcp_total"] + rng.normal(0, 2, n)
    return y, ctx


def test_regression_recovers_known_slopes():
    y, ctx = synthetic()
    fit = fit_adjustment(y, ctx, ["idaci", "log_ehcp_total"], target="overall")
    c = fit.coefficients.set_index("term")
    assert c.loc["idaci", "coef"] == pytest.approx(-40, abs=6)
    assert c.loc["idaci", "ci_lower"] < -40 < c.loc["idaci", "ci_upper"]
    assert c.loc["log_ehcp_total", "ci_lower"] < 3 < c.loc["log_ehcp_total", "ci_upper"]
    assert fit.n == 150 and 0 < fit.r2 < 1
    assert fit.adjusted.sum() == pytest.approx(0, abs=1e-8 * fit.n)
    np.testing.assert_allclose(fit.expected + fit.adjusted, y)
    assert 0 <= fit.bp_pvalue <= 1 and fit.cooks.iloc[0] == fit.cooks.max()


def test_exact_line_has_zero_residuals():
    idx = pd.Index(list("abcdefghij"), name="la_code")
    ctx = pd.DataFrame({"idaci": np.linspace(0.1, 0.4, 10)}, index=idx)
    y = 50 + 100 * ctx["idaci"]
    fit = fit_adjustment(y, ctx, ["idaci"])
    assert fit.coefficients.set_index("term").loc["idaci", "coef"] == pytest.approx(100)
    assert np.abs(fit.adjusted).max() < 1e-9


def test_missing_context_stays_missing_and_too_few_raises():
    y, ctx = synthetic(40)
    ctx.iloc[:3, 0] = np.nan
    y.iloc[5] = np.nan
    fit = fit_adjustment(y, ctx, ["idaci", "log_ehcp_total"])
    assert fit.adjusted.iloc[:3].isna().all() and np.isnan(fit.adjusted.iloc[5])
    assert fit.n == 36
    with pytest.raises(AdjustmentError, match="only"):
        fit_adjustment(y.iloc[:10], ctx, ["idaci"], min_n=30)


def test_settings():
    s = run_settings().adjustment
    assert s.covariates == ["idaci", "ehcp_pct_pupils"] and "hide" in s.caveat
    assert s.cov_type == "HC3"
    # the assessment indicator contains the EHC plan share: its model leaves that covariate out
    assert s.covariates_for("assessment") == ["idaci"] and s.covariates_for("overall") == s.covariates
    assert s.replace(ehcp_rate=False).covariates == ["idaci"]
    assert s.replace(log_ehcp_total=True).covariates == ["idaci", "ehcp_pct_pupils", "log_ehcp_total"]
    with pytest.raises(ConfigError):
        s.replace(deprivation=False, ehcp_rate=False)


def test_unknown_leave_out_covariate_is_refused(tmp_path):
    bad = tmp_path / "adjustment.yml"
    bad.write_text("leave_out:\n  assessment: [ehcp_share_typo]\n")
    with pytest.raises(ConfigError, match="ehcp_share_typo"):
        parse_adjustment(bad)


@pytest.fixture(scope="module")
def editions(data_dir):
    return {y: full_edition(y, data_dir) for y in ("201819", "202425")}


@pytest.mark.parametrize("year", ["201819", "202425"])
def test_real_editions_adjusted_scores(editions, year):
    ed = editions[year]
    res = adjust_scores(ed, ed.score_table)
    s = res.scores
    assert len(s) == len(ed.geography)
    models = res.models.set_index("target")
    for t in ("overall", "placement", "attainment"):
        adj = s[f"{t}_adjusted_score"].dropna()
        assert len(adj) == models.loc[t, "n"] >= 140
        assert abs(adj.sum()) < 1e-8 * len(adj)
        assert s.loc[adj.idxmax(), f"{t}_adjusted_rank"] == 1
        assert 0 <= models.loc[t, "r2"] < 1 and 0 <= models.loc[t, "bp_pvalue"] <= 1
        assert models.loc[t, "top_cooks"]
    c = res.coefficients
    assert ((c["ci_lower"] <= c["coef"]) & (c["coef"] <= c["ci_upper"])).all()
    assert set(c["term"]) == {"const", "idaci", "ehcp_pct_pupils"}
    assert set(c.loc[c["target"] == "assessment", "term"]) == {"const", "idaci"}
    # % of pupils with an EHC plan: LAs range from under 1% (Newham, 2018/19) to about 6%
    assert s["ehcp_pct_pupils"].between(0.5, 10).all() and s["ehcp_pct_pupils"].median() > 2
    # IDACI is a 0-1 share; the LA range is roughly 0.05-0.45
    assert s["idaci"].between(0.02, 0.6).all()


def test_context_through_boundary_changes(editions):
    ed = editions["202425"]
    ctx = context_table(ed)
    # IoD2019 predates the Cumbria split: both successors take the county's IDACI, flagged
    assert ctx.loc["942", "idaci"] == ctx.loc["943", "idaci"]
    assert "predecessor 909" in ctx.loc["942", "context_note"]
    unmapped = adjust_scores(ed, ed.score_table, settings=run_settings().adjustment.replace(map_boundary_changes=False))
    flagged = unmapped.scores.loc[["942", "943"]]
    assert flagged["overall_adjusted_score"].isna().all()
    assert flagged["adjustment_flag"].str.contains("not adjusted: no context").all()


# --------------------------------------------------------------------------- adjusted rank intervals


def _mc_with_scores(codes: list[str], scores: np.ndarray):
    """A MonteCarloResult carrying only what adjusted_rank_intervals reads (draws x LAs x targets)."""
    from inclusion_index.index.uncertainty import MonteCarloResult

    n_d, n_la = scores.shape[:2]
    return MonteCarloResult(la_codes=codes, ranks=np.full((n_d, n_la, 5), np.nan), change=np.zeros((n_d, n_la)),
                            choices=pd.DataFrame(), nominal_ranks=np.zeros((n_la, 5)),
                            nominal_change=np.zeros(n_la), settings=run_settings().uncertainty, enabled=(),
                            engine="fast", seconds=0.0, scores=scores)


def _adjustment_of(y: pd.Series, ctx: pd.DataFrame):
    from inclusion_index.index.adjustment import AdjustmentResult

    fit = fit_adjustment(y, ctx, ["idaci", "log_ehcp_total"], target="overall")
    return AdjustmentResult(scores=pd.DataFrame(index=ctx.index), coefficients=pd.DataFrame(),
                            models=pd.DataFrame(), caveat="", settings=run_settings().adjustment,
                            fits={"overall": fit}), fit


def test_adjusted_rank_intervals_collapse_without_noise_and_ignore_each_draws_scale():
    from inclusion_index.index.scoring import rank_desc
    from inclusion_index.index.tables import adjusted_rank_intervals

    y, ctx = synthetic(60)
    adj, fit = _adjustment_of(y, ctx)
    nominal = rank_desc(fit.adjusted).astype("float64")
    draws = np.full((6, 60, 5), np.nan)
    # every draw is the nominal score under a different positive affine rescaling (as a z-score
    # or min-max draw would be): OLS residual ranks do not change, so the interval is one rank
    for d, (a, b) in enumerate([(1, 0), (0.03, -1.5), (2, 10), (0.5, 0), (1, -50), (7, 3)]):
        draws[d, :, 0] = a * y.to_numpy() + b
    out = adjusted_rank_intervals(_mc_with_scores(list(ctx.index), draws), adj)
    np.testing.assert_array_equal(out["overall_adjusted_rank_lo"].astype("float64"), nominal)
    np.testing.assert_array_equal(out["overall_adjusted_rank_hi"].astype("float64"), nominal)
    assert out["exclusions_adjusted_rank_lo"].isna().all()  # no model for that target: no interval


def test_adjusted_rank_intervals_cover_the_nominal_rank_under_noise():
    from inclusion_index.index.scoring import rank_desc
    from inclusion_index.index.tables import adjusted_rank_intervals

    y, ctx = synthetic(80, seed=5)
    adj, fit = _adjustment_of(y, ctx)
    rng = np.random.default_rng(0)
    draws = np.full((400, 80, 5), np.nan)
    draws[:, :, 0] = y.to_numpy() + rng.normal(0, 1.0, (400, 80))
    draws[:7, 3, 0] = np.nan  # an LA unscored in some draws takes no rank in them
    out = adjusted_rank_intervals(_mc_with_scores(list(ctx.index), draws), adj)
    lo, hi = out["overall_adjusted_rank_lo"].astype("float64"), out["overall_adjusted_rank_hi"].astype("float64")
    nominal = rank_desc(fit.adjusted).astype("float64")
    assert (lo <= hi).all() and lo.min() >= 1 and hi.max() <= 80
    assert ((lo <= nominal) & (nominal <= hi)).mean() >= 0.95
    # noise of SD 1 against residual SD 2 moves ranks: intervals have width
    assert (hi - lo).median() >= 3
