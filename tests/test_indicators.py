import numpy as np
import pandas as pd
import pytest

from inclusion_index.errors import ConfigError
from inclusion_index.index.indicators import (
    impute_small_counts,
    indicator_registry,
    indicator_table,
    labels_for,
    load_method,
)
from inclusion_index.sources.derived import add_derived_measures, derived_measures
from inclusion_index.sources.harmonise import measures_table

RULE = {"enabled": True, "reason_prefix": "suppressed (x: 1 or 2", "midpoint": 1.5, "per": 100,
        "label": "1 or 2 exclusions"}


def test_registry_has_the_twelve_indicators_in_four_areas():
    m = load_method("original_2019")
    t = indicator_table(m)
    assert len(t) == 12
    assert t.groupby("area").size().to_dict() == {"assessment": 1, "attainment": 7, "exclusions": 2, "placement": 2}
    assert set(indicator_registry()["polarity"]) == {-1, 1}
    assert load_method("current").measures["att_neet_1617"] == ["neet_nk_ehcp_pct"]


def test_unknown_method_and_indicator_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="method 'nope' not found"):
        load_method("nope")


def test_small_suppressed_counts_become_midpoint_rates_flagged():
    rows = pd.DataFrame({
        "la_code": ["a", "b", "c", "d"],
        "value": [0.5, np.nan, np.nan, np.nan],
        "denominator": [400.0, 300.0, 0.0, 200.0],
        "missing_reason": [pd.NA, "suppressed (x: 1 or 2 exclusions or pupils)",
                           "suppressed (x: 1 or 2 exclusions or pupils)", "not published (-)"],
    })
    out = impute_small_counts(rows, RULE).set_index("la_code")
    assert out.loc["a", "value"] == 0.5 and np.isnan(out.loc["a", "imputed_count"])
    assert out.loc["b", "value"] == pytest.approx(0.5)  # 1.5 / 300 * 100
    assert out.loc["b", "imputed_count"] == 1.5 and out.loc["b", "imputed_range"] == RULE["label"]
    assert np.isnan(out.loc["c", "value"])  # no denominator: cannot impute
    assert np.isnan(out.loc["d", "value"])  # other reasons are never filled
    off = impute_small_counts(rows, {**RULE, "enabled": False})
    assert off["value"].isna().sum() == 3


def test_assessment_share_is_derived_from_census_percentages():
    long = pd.DataFrame({
        "level": ["la", "la", "la"], "la_code": ["302", "302", "303"], "la_name": ["B", "B", "X"],
        "year": ["201819"] * 3, "measure": ["lait_ehcp_pct_pupils", "lait_sen_support_pct_pupils",
                                            "lait_ehcp_pct_pupils"],
        "value": [3.0, 12.0, 2.0], "numerator": np.nan, "denominator": np.nan,
        "missing_reason": pd.array([pd.NA] * 3, dtype="string"), "source": "lait_bds"})
    out = add_derived_measures(long)
    share = out[out["measure"] == "assess_ehcp_share_send"].set_index("la_code")
    assert share.loc["302", "value"] == pytest.approx(20.0)
    assert np.isnan(share.loc["303", "value"]) and share.loc["303", "missing_reason"] == "an input is missing"


def test_every_derived_measure_is_declared_with_its_inputs():
    # declared in data/registry/measures/, so validation range-checks the derived values too
    declared = set(measures_table()["measure"])
    for d in derived_measures().values():
        assert d.measure in declared and set(d.inputs) <= declared


def test_every_indicator_reads_in_a_sentence_and_context_labels_have_units():
    reg = indicator_registry()
    assert (reg["phrase"] != "").all() and (reg["phrase_unit"] != "").all()
    assert set(labels_for("context")) == set(labels_for("context", "unit"))
    assert set(labels_for("covariate")) == set(labels_for("covariate_similar"))
