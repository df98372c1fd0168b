"""Exact intervals, funnel plots and Monte Carlo rank uncertainty: known answers first, then
the real 2018/19 edition with few draws."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from inclusion_index.config import CHOICES, SamplingSpec, load_run_settings, run_settings
from inclusion_index.errors import ConfigError
from inclusion_index.index import uncertainty as U
from inclusion_index.index.build import STEPS
from inclusion_index.index.edition import data_dictionary, score_table
from inclusion_index.index.scoring import TARGETS
from inclusion_index.index.tables import extended_columns
from inclusion_index.index.uncertainty.funnels import _overdispersion
from inclusion_index.index.uncertainty.plan import _build_plan, _values_for

from .conftest import full_edition

# ----------------------------------------------------------------------------- exact intervals


def test_clopper_pearson_known_values():
    ci = U.binomial_ci([0, 5, 10], [10, 10, 10])
    # published Clopper-Pearson 95% limits: 0/10 -> (0, 0.3085), 5/10 -> (0.1871, 0.8129)
    assert ci.loc[0, "lower"] == 0.0
    assert ci.loc[0, "upper"] == pytest.approx(0.30850, abs=1e-5)
    assert ci.loc[1, "lower"] == pytest.approx(0.18709, abs=1e-5)
    assert ci.loc[1, "upper"] == pytest.approx(0.81291, abs=1e-5)
    assert ci.loc[2, "upper"] == 1.0
    for k in (0, 5, 10):
        ref = stats.binomtest(k, 10).proportion_ci(confidence_level=0.95, method="exact")
        assert ci.loc[[0, 5, 10].index(k), "lower"] == pytest.approx(ref.low, abs=1e-12)
        assert ci.loc[[0, 5, 10].index(k), "upper"] == pytest.approx(ref.high, abs=1e-12)


def test_binomial_ci_vectorised_over_series_with_scale_and_missing():
    k = pd.Series([3.0, np.nan, 4.0, 2.0], index=["a", "b", "c", "d"])
    n = pd.Series([20.0, 10.0, 0.0, 40.0], index=["a", "b", "c", "d"])
    ci = U.binomial_ci(k, n, 0.9, scale=100)
    assert list(ci.index) == ["a", "b", "c", "d"]
    assert ci.loc["a", "estimate"] == pytest.approx(15.0)
    assert ci.loc[["b", "c"]].isna().all().all()  # missing count, zero denominator
    assert (ci.loc[["a", "d"], "lower"] < ci.loc[["a", "d"], "estimate"]).all()
    wider = U.binomial_ci(3, 20, 0.99)
    assert wider.loc[0, "upper"] - wider.loc[0, "lower"] > (ci.loc["a", "upper"] - ci.loc["a", "lower"]) / 100


def test_poisson_rate_ci_known_values():
    ci = U.poisson_rate_ci([0, 10], [1, 1], per=1)
    # exact (Garwood) 95% limits for a Poisson count: 0 -> (0, 3.689), 10 -> (4.795, 18.390)
    assert ci.loc[0, "lower"] == 0.0
    assert ci.loc[0, "upper"] == pytest.approx(3.68888, abs=1e-4)
    assert ci.loc[1, "lower"] == pytest.approx(4.79539, abs=1e-4)
    assert ci.loc[1, "upper"] == pytest.approx(18.39036, abs=1e-4)
    # the same as a rate per 100 pupils: 10 exclusions among 500 pupils
    r = U.poisson_rate_ci(10, 500)
    assert r.loc[0, "rate"] == pytest.approx(2.0)
    assert r.loc[0, "lower"] == pytest.approx(4.79539 / 5, abs=1e-4)
    assert r.loc[0, "lower"] < 2.0 < r.loc[0, "upper"]


def test_normal_mean_ci():
    ci = U.normal_mean_ci([-1.0], 1.3, [100])
    assert ci.loc[0, "upper"] - ci.loc[0, "lower"] == pytest.approx(2 * 1.959964 * 0.13, abs=1e-5)


def test_bad_level_rejected():
    with pytest.raises(U.UncertaintyError):
        U.binomial_ci(1, 2, level=1.5)


# ----------------------------------------------------------------------------- funnel limits


@pytest.mark.parametrize("kind", ["binomial", "poisson"])
def test_funnel_limits_narrow_with_denominator_and_contain_target(kind):
    n = np.array([20, 50, 100, 500, 1000, 5000, 20000])
    target = 0.2
    for level in (0.95, 0.998):
        lo, hi = U.funnel_limits(target, n, kind, level, scale=100)
        assert (lo <= 20.0).all() and (hi >= 20.0).all()
        width = hi - lo
        assert (np.diff(width) < 0).all()
    lo95, hi95 = U.funnel_limits(target, n, kind, 0.95, scale=100)
    lo998, hi998 = U.funnel_limits(target, n, kind, 0.998, scale=100)
    assert (lo998 <= lo95).all() and (hi998 >= hi95).all()
    # for a large denominator the exact limits meet the normal approximation
    var = target * (1 - target) if kind == "binomial" else target
    half = 1.959964 * np.sqrt(var / 20000) * 100
    assert hi95[-1] == pytest.approx(20 + half, rel=2e-3)
    assert lo95[-1] == pytest.approx(20 - half, rel=2e-3)


def test_funnel_exact_limit_is_spiegelhalter_interpolation():
    # n = 10, p = 0.5: the 97.5% quantile of Binomial(10, .5) is r = 8 with F(8) = 0.98926 and
    # F(7) = 0.94531, so alpha = (0.98926 - 0.975) / (0.98926 - 0.94531) and the limit (8 - alpha)/10
    f8, f7 = stats.binom.cdf(8, 10, 0.5), stats.binom.cdf(7, 10, 0.5)
    expected = (8 - (f8 - 0.975) / (f8 - f7)) / 10
    _, hi = U.funnel_limits(0.5, [10], "binomial", 0.95, scale=1)
    assert hi[0] == pytest.approx(expected, abs=1e-12)


def test_overdispersion_none_when_data_are_binomial():
    rng = np.random.default_rng(1)
    n = rng.integers(200, 5000, size=150).astype(float)
    k = rng.binomial(n.astype(int), 0.1)
    p0 = k.sum() / n.sum()
    s2 = p0 * (1 - p0) / n
    z = (k / n - p0) / np.sqrt(s2)
    phi, tau2 = _overdispersion(z, s2, 0.1)
    assert phi < 1.3 and tau2 == 0.0
    # add real between-LA variation: detected
    p = np.clip(rng.normal(0.1, 0.03, size=150), 0.01, 0.5)
    k2 = rng.binomial(n.astype(int), p)
    z2 = (k2 / n - p0) / np.sqrt(s2)
    phi2, tau2b = _overdispersion(z2, s2, 0.1)
    assert phi2 > 3 and tau2b > 0


# ----------------------------------------------------------------------------- real edition


@pytest.fixture(scope="module")
def ed(data_dir):
    return full_edition("201819", data_dir)


@pytest.fixture(scope="module")
def small():
    return run_settings().uncertainty.replace(n_draws=40, verify_draws=2, sensitivity_draws=20, n_jobs=1)


def test_settings_file_loads_and_validates(monkeypatch):
    s = run_settings().uncertainty
    assert s.seed == 20191125 and s.interval == pytest.approx(0.9)
    assert s.spec("place_state_special").model == "binomial"
    assert s.spec("att_ks4_p8_ehcp").pupil_sd > 0
    monkeypatch.setenv("INCLUSION_UNCERTAINTY_DRAWS", "7")
    assert load_run_settings().uncertainty.n_draws == 7
    with pytest.raises(ConfigError, match="normalisations"):
        s.replace(normalisations=("rank",))


def test_funnel_data_placement(ed, small):
    f = U.funnel_table(ed, "place_state_special", settings=small)
    assert len(f) == 150 and f["la_code"].is_unique
    # England target pooled over the LAs, and close to DfE's own England figure
    assert f.attrs["target"] == pytest.approx(f["numerator"].sum() / f["denominator"].sum() * 100)
    assert f.attrs["target"] == pytest.approx(f.attrs["england_published"], abs=0.5)
    for lab in ("95", "998"):
        above = f["value"] > f[f"upper_{lab}"]
        below = f["value"] < f[f"lower_{lab}"]
        assert (f.loc[above, f"flag_{lab}"] == "above").all()
        assert (f.loc[below, f"flag_{lab}"] == "below").all()
        assert (f.loc[~above & ~below, f"flag_{lab}"] == "within").all()
        assert ((f[f"lower_{lab}"] <= f["target"]) & (f["target"] <= f[f"upper_{lab}"])).all()
    # 99.8% limits are wider than 95%, and overdispersed limits wider still (big denominators)
    assert (f["upper_998"] >= f["upper_95"]).all()
    assert f.attrs["phi"] > 1 and (f["od_upper_998"] >= f["upper_998"]).all()
    # lower is more inclusive for special-school placement
    d = f[f["flag_998"] == "below"]
    assert (d["direction_998"] == "more inclusive").all()


def test_funnel_data_other_kinds(ed, small):
    ex = U.funnel_table(ed, "excl_fixed_ehcp", "201718", settings=small)
    assert ex.attrs["model"] == "poisson" and (ex["data_year"] == "201617").all()
    p8 = U.funnel_table(ed, "att_ks4_p8_ehcp", settings=small)
    assert p8.attrs["model"] == "normal"
    assert p8["denominator_source"].str.startswith("cohort ks4raw_p8_ehcp").all()
    with pytest.raises(U.UncertaintyError, match="no funnel"):
        U.funnel_table(ed, "assess_ehcp_share", settings=small)


def test_funnel_plot_draws(ed, small):
    from inclusion_index.report.plotting import funnel_plot

    f = U.funnel_table(ed, "place_indep_nmss", settings=small)
    ax = funnel_plot(f, highlight=f["la_code"].iloc[0]).axes[0]
    # exact and overdispersed limits at two levels, upper and lower: 8 curves
    assert ax.get_xscale() == "log" and len(ax.lines) >= 8


@pytest.fixture(scope="module")
def mc(ed, small):
    """One 40-draw Monte Carlo for the tests that only read it (the next test checks a rerun equals it)."""
    return U.monte_carlo(ed, small)


def test_monte_carlo_reproducible_and_seed_dependent(ed, small, mc):
    a = mc
    b = U.monte_carlo(ed, small)
    np.testing.assert_array_equal(a.ranks, b.ranks)
    np.testing.assert_array_equal(a.change, b.change)
    c = U.monte_carlo(ed, small.replace(seed=7))
    assert not np.array_equal(np.nan_to_num(a.ranks), np.nan_to_num(c.ranks))
    assert a.ranks.shape == (40, 150, len(TARGETS))


def test_fast_engine_equals_score_year(ed, small):
    s = small.replace(n_draws=3)
    fast = U.monte_carlo(ed, s)
    ref = U.monte_carlo(ed, s.replace(engine="score_year"))
    assert fast.engine == "fast" and ref.engine == "score_year"
    np.testing.assert_array_equal(fast.ranks, ref.ranks)
    np.testing.assert_allclose(fast.change, ref.change, atol=1e-9)


def test_monte_carlo_nominal_is_the_index_and_intervals_are_sane(ed, mc):
    t = score_table(ed, extended=False).set_index("la_code").reindex(mc.la_codes)
    for j, target in enumerate(TARGETS):
        nominal = t[f"{target}_rank"].astype("float64").to_numpy()
        np.testing.assert_array_equal(np.isnan(mc.nominal_ranks[:, j]), np.isnan(nominal))
        ok = ~np.isnan(nominal)
        np.testing.assert_array_equal(mc.nominal_ranks[ok, j], nominal[ok])
    np.testing.assert_allclose(mc.nominal_change, ed.improvement["change"].reindex(mc.la_codes), atol=1e-9)
    s = mc.summary()
    lo, med, hi = (s[f"overall_rank_{p}"].astype("float64") for p in ("lo", "median", "hi"))
    assert ((lo <= med) & (med <= hi)).all()
    nominal = t["overall_rank"].astype("float64")
    inside = ((lo <= nominal) & (nominal <= hi))[nominal.notna()]
    assert inside.mean() > 0.9
    assert (hi - lo).median() > 0  # ranks are uncertain
    sig = s["improvement_significant"]
    assert (s.loc[sig.fillna(False).astype(bool), "overall_change_lo"] > 0).all()


def test_switching_off_choices(ed, small):
    quick = small.replace(n_draws=5, verify_draws=0)
    none = U.monte_carlo(ed, quick, enabled=())
    assert (none.ranks == none.nominal_ranks[None]).sum() == np.isfinite(none.nominal_ranks).sum() * 5
    only_w = U.monte_carlo(ed, quick, enabled=("weights",))
    assert set(only_w.choices["normalisation"]) == {"percentile"}
    assert only_w.choices.filter(like="w_").ne(1.0).any().any()


def test_imputation_choice_reimputes_only_the_suppressed_small_counts(ed, small):
    plan = _build_plan(ed, small)
    # 2018/19 edition: 58 + 56 + 56 exclusion cells DfE suppressed as "1 or 2", imputed as 1.5
    assert {y: len(c[0]) for y, c in plan.imputed.items()} == {"201617": 58, "201718": 56, "201819": 56}
    rows, cols, den, per = plan.imputed["201819"]
    base = plan.base["201819"]
    np.testing.assert_allclose(base[rows, cols], 1.5 / den * per)
    two = _values_for(plan, "201819", None, 2.0)
    np.testing.assert_allclose(two[rows, cols], 2.0 / den * per)
    gone = _values_for(plan, "201819", None, float("nan"))
    assert np.isnan(gone[rows, cols]).all()
    # every other cell is untouched
    mask = np.ones(base.shape, dtype=bool)
    mask[rows, cols] = False
    np.testing.assert_array_equal(np.nan_to_num(two[mask], nan=-1), np.nan_to_num(base[mask], nan=-1))
    # adding the choice left the other choices' random draws as they were (it is drawn last)
    a = U.monte_carlo(ed, small.replace(n_draws=8, verify_draws=0),
                      enabled=("weights", "normalisation", "years", "missing", "sampling"))
    b = U.monte_carlo(ed, small.replace(n_draws=8, verify_draws=0))
    cols_ab = [c for c in a.choices.columns if c not in ("imputed_count", "aggregation")]
    pd.testing.assert_frame_equal(a.choices[cols_ab], b.choices[cols_ab])
    assert set(b.choices["imputed_count"]) <= {1.0, 1.5, 2.0, "missing"}


def test_sensitivity_table(ed, small, mc):
    t = U.sensitivity_table(ed, small, mc=mc)
    assert list(t["choice"]) == [*CHOICES, "all"]
    assert list(U.sensitivity_table(ed, small)["choice"]) == list(CHOICES)  # no Monte Carlo, no "all" row
    assert (t["mean_abs_shift"] >= 0).all() and (t["max_abs_shift"] >= t["mean_abs_shift"]).all()
    by = t.attrs["by_option"]
    nominal = by[(by["choice"] == "normalisation") & (by["option"] == "percentile")]
    assert nominal["max_abs_shift"].iloc[0] == 0  # the nominal option moves nobody
    assert t.set_index("choice").loc["sampling", "mean_abs_shift"] > 0


def test_cohort_and_geography_helpers():
    long = pd.DataFrame({
        "level": "la", "year": "202122", "measure": "m",
        "la_code": ["909", "837", "836", "201"], "value": [100.0, 30.0, 20.0, 5.0],
        "denominator": [100.0, 30.0, 20.0, 5.0],
    })
    codes = ["942", "943", "839", "201", "999"]
    x, note = U.measure_on_geography(long, "m", "202122", codes, count=True)
    assert x["942"] == 50 and x["943"] == 50  # a split county's count is shared
    assert x["839"] == 50  # Bournemouth + Poole summed
    assert np.isnan(x["999"]) and "predecessor 909" in note["942"]
    spec = SamplingSpec("i", model="normal", pupil_sd=1, cohort_measure="m", cohort_field="value",
                          cohort_multiplier=2)
    n, src = U.cohort_sizes(long, spec, ["201"], "202324")
    assert n["201"] == 10 and "nearest to 202324" in src["201"]


def test_score_table_gains_the_extended_columns(ed):
    base = score_table(ed, extended=False)
    t = score_table(ed)
    assert list(t.columns[: base.shape[1]]) == list(base.columns)
    assert list(t.columns[base.shape[1]:]) == extended_columns()
    pd.testing.assert_frame_equal(t[base.columns], base)
    assert str(t["overall_rank_lo"].dtype) == "Int64" and str(t["improvement_significant"].dtype) == "boolean"
    assert t.loc[t["overall_rank"].isna(), "overall_rank_lo"].isna().all()
    # the table is the build's own: the score_table step wrote it from the same results
    pd.testing.assert_frame_equal(t, ed.score_table)
    assert [r.step for r in ed.log] == [s.name for s in STEPS] and all(r.seconds >= 0 for r in ed.log)
    d = data_dictionary(t, ed).set_index("column")["description"]
    assert all(d[c] for c in extended_columns())
    assert "90%" in d["overall_rank_lo"] and "5%" in d["overall_rank_lo"]


def test_funnels_are_a_build_step_handed_out_as_copies(ed):
    """Every indicator's funnel of every index year is built once, by the funnels step; readers
    get copies, and an indicator without counts keeps the reason instead of a table."""
    assert set(ed.funnels) == {(i, y) for i in ed.indicators["indicator"] for y in ed.years}
    a = ed.funnel("place_state_special")
    a.loc[:, "value"] = -1.0  # a caller changing its copy changes nobody else's
    b = ed.funnel("place_state_special")
    assert (b["value"] >= 0).all() and b.attrs["target"] == a.attrs["target"]
    with pytest.raises(U.UncertaintyError):
        ed.funnel("assess_ehcp_share")
