"""The series analyses and charts on the real 2018/19 edition, and the notebooks' shape."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from inclusion_index import plotting, series
from inclusion_index.editions import build_edition

REPO = Path(__file__).resolve().parents[1]
PARTS = ["introduction", "exclusions", "assessment", "placement", "attainment", "conclusions"]


@pytest.fixture(scope="module")
def ed(data_dir):
    return build_edition("201819", data_dir=data_dir)


@pytest.fixture(scope="module")
def parts(ed):
    return {name: getattr(series, name)(ed, highlight="873") for name in PARTS}


# --------------------------------------------------------------------------- formatting


def test_fmt_and_labels():
    assert series.fmt(12345.678) == "12,345.7"
    assert series.fmt(0.456, 2, pct=True) == "0.46%"
    assert series.fmt(2, 0, sign=True) == "+2"
    assert series.fmt(-0.04) == "0.0"  # never "-0.0"
    assert series.fmt(float("nan")) == "n/a" and series.fmt(None) == "n/a"
    assert series.year_label("201819") == "2018/19"
    assert series.years_label(["201819", "201617"]) == "2016/17 to 2018/19"
    assert series.label_years("carried forward from 201617 (201718 not published)") == \
        "carried forward from 2016/17 (2017/18 not published)"
    assert [series.ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 112)] == \
        ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "112th"]


def test_markdown_and_tables_escape_la_names():
    text = series.md(["<script>alert(1)</script> & [x](y) *z*"], bullets=True)
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert r"\[x\](y)" in text and r"\*z\*" in text
    html = series.style_table(pd.DataFrame({"Local authority": ["<b>Evil</b>"], "Score": [1.234]})).to_html()
    assert "<b>Evil</b>" not in html and "&lt;b&gt;Evil&lt;/b&gt;" in html and "1.2" in html


# --------------------------------------------------------------------------- statistics


def test_ols_matches_numpy_and_has_cis(ed):
    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    d = pd.DataFrame({"x": x, "y": 3 + 2 * x + rng.normal(scale=0.5, size=200)})
    m = series.ols(d, "y", "x")
    slope, intercept = np.polyfit(d["x"], d["y"], 1)
    r = m.term("x")
    assert math.isclose(r["coef"], slope, rel_tol=1e-9)
    assert math.isclose(m.term("const")["coef"], intercept, rel_tol=1e-9)
    assert r["ci_low"] < r["coef"] < r["ci_high"]
    assert 0 <= m.r2 <= 1 and m.n == 200
    assert series.ols(d.head(5), "y", "x") is None  # too few rows


@pytest.mark.parametrize("name", PARTS)
def test_parts_models_have_cis_r2_and_n(parts, name):
    for key, m in parts[name].models.items():
        c = m.coefs.set_index("term").drop(index="const")
        assert (c["ci_low"] <= c["coef"]).all() and (c["coef"] <= c["ci_high"]).all(), key
        assert 0 <= m.r2 <= 1 and 10 <= m.n <= 152, key
        assert m.n == len(m.data)
    t = parts[name].tables.get("models")
    if t is not None and len(t):
        assert list(t.columns) == series.MODEL_COLUMNS
        assert t["R²"].between(0, 1).all()


def test_region_variation_is_eta_squared(ed):
    t = series.la_table(ed)
    rv = series.region_variation(t, "overall_score")
    d = t.dropna(subset=["overall_score"])
    grand = d["overall_score"].mean()
    between = d.groupby("region")["overall_score"].apply(lambda s: len(s) * (s.mean() - grand) ** 2).sum()
    total = ((d["overall_score"] - grand) ** 2).sum()
    assert math.isclose(rv["between_share"], between / total, rel_tol=1e-9)
    assert math.isclose(rv["between_share"] + rv["within_share"], 1)
    assert rv["n_regions"] == 10 and rv["table"]["n"].sum() == len(d)


def test_rank_intervals_bracket_plausibly(ed):
    ri = series.rank_intervals(ed, n_boot=200)
    n = int(ed.headline().scores["scored"].sum())
    assert len(ri) == n
    assert (ri["rank_low"] <= ri["rank_high"]).all()
    assert ri["rank_low"].min() >= 1 and ri["rank_high"].max() <= n
    # the observed rank lies inside its interval for the great majority of LAs
    inside = (ri["rank_low"] <= ri["rank"].astype(int)) & (ri["rank"].astype(int) <= ri["rank_high"])
    assert inside.mean() > 0.8


# --------------------------------------------------------------------------- parts on the real edition


def test_parts_say_something_and_never_print_nan(parts):
    for name, p in parts.items():
        assert p.text, name
        for s in p.text:
            assert "nan" not in s.lower().split() and "n/a%" not in s, (name, s)


def test_introduction_numbers_match_the_scores(ed, parts):
    scores = ed.headline().scores
    scored = scores[scores["scored"]]
    p = parts["introduction"]
    assert p.numbers["n_scored"] == len(scored) == 150
    assert math.isclose(p.numbers["score_max"], scored["overall_score"].max())
    top = p.tables["top10"].iloc[0]
    assert top["Rank"] == 1 and math.isclose(top["Overall score"], scored["overall_score"].max())
    assert len(p.tables["indicators"]) == 12


def test_context_measures_missing_for_the_edition_are_stated(ed, parts):
    semh = series.context_measure(ed, "sen2_semh_pct_ehcp")
    assert not semh.available and "2024/25" in semh.note
    ex = parts["exclusions"]
    assert "semh" not in ex.models
    assert any("SEMH" in s and "not available" in s for s in ex.text)
    dep = series.deprivation(ed)
    assert dep.available and dep.year == "201516" and dep.n == 150


def test_placement_supply_uses_same_year_counts(ed, parts):
    p = parts["placement"]
    d = p.data.dropna(subset=["schools_per_1000_plans"])
    assert len(d) >= 140
    r = d.iloc[0]
    assert math.isclose(r["schools_per_1000_plans"], r["special_schools"] / r["ehc_plans"] * 1000)
    assert "place_state_special_supply" in p.models


def test_highlight_unknown_code_is_reported_not_raised(ed):
    code, msg = series.check_highlight(ed, "999")
    assert code is None and "999" in msg
    assert series.check_highlight(ed, "") == (None, "")
    p = series.conclusions(ed, highlight="999")
    assert any("999" in s for s in p.sections["highlight"])


def test_improvement_states_years_and_indicators(ed, parts):
    p = parts["conclusions"]
    text = " ".join(p.sections["improved"])
    assert "2016/17" in text and "2018/19" in text
    n = len(ed.improvement.attrs["indicators_compared"])
    assert p.numbers["n_compared"] == n
    assert math.isclose(p.numbers["improved_change"], ed.improvement["change"].max())


# --------------------------------------------------------------------------- findings and caveats


def test_findings_numbers_match_the_edition(ed):
    found = series.findings(ed)
    assert len(found) >= 6
    for f in found:
        assert set(f) == {"text", "number", "years", "source"}
        assert f["text"] and f["years"] and f["source"] and math.isfinite(f["number"])
    scores = ed.headline().scores
    best = scores.loc[scores["overall_rank"] == 1].iloc[0]
    name = ed.geography.set_index("la_code").loc[scores.index[scores["overall_rank"] == 1][0], "la_name"]
    assert math.isclose(found[0]["number"], best["overall_score"])
    assert name in found[0]["text"] and series.fmt(best["overall_score"]) in found[0]["text"]
    worst = scores["overall_score"].min()
    assert math.isclose(found[1]["number"], worst) and series.fmt(worst) in found[1]["text"]
    improved = [f for f in found if "most improved" in f["text"]]
    assert improved and math.isclose(improved[0]["number"], ed.improvement["change"].max())
    assert improved[0]["years"] == "2016/17 to 2018/19"
    md = series.findings_markdown(ed, found)
    assert md.count("\n- ") == len(found)


def test_data_caveats(ed, parts):
    cav = series.data_caveats(ed, parts["placement"].measures)
    src = cav["sources"]
    assert src["Used for"].str.len().gt(0).all()
    assert src["Source"].str.contains("Local Authority Interactive Tool").any()
    assert src["Used for"].str.contains("(context)", regex=False).any()
    assert {"Index year", "Indicator", "Data year", "Note"} <= set(cav["substitutions"].columns)
    assert cav["text"] and all(isinstance(s, str) for s in cav["text"])
    assert {"sources", "substitutions", "suppression", "small_cohorts"} == set(series.CAVEAT_TABLES)


# --------------------------------------------------------------------------- charts


def test_save_figure_writes_png_svg_csv(tmp_path, parts):
    p = parts["exclusions"]
    fig = plotting.dot_chart(p.data, "excl_fixed_ehcp_value", title="Test chart", value_label="Rate (per 100)",
                             england=15.0, highlight="873", higher_is_better=False)
    data = p.data[["la_code", "la_name", "excl_fixed_ehcp_value"]]
    saved = plotting.save_figure(fig, data, tmp_path / "figures", "02 test/chart")
    assert saved.png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in saved.svg.read_bytes()[:400]
    back = pd.read_csv(saved.csv, dtype={"la_code": str})
    assert len(back) == len(data) and list(back.columns) == list(data.columns)
    assert saved.png.parent == tmp_path / "figures" and "/" not in saved.png.name
    assert saved.alt == "Test chart" and saved._repr_png_()[:4] == b"\x89PNG"
    assert not list((tmp_path / "figures").glob(".*part"))


def test_every_chart_handles_data_and_no_data(parts):
    d = parts["attainment"].data
    empty = d.assign(att_ks4_a8_ehcp_value=np.nan)
    for frame in (d, empty):
        figs = [
            plotting.dot_chart(frame, "att_ks4_a8_ehcp_value", title="t", value_label="v"),
            plotting.region_chart(frame, "att_ks4_a8_ehcp_value", title="t", value_label="v", highlight="873"),
            plotting.scatter_fit(frame, "idaci", "att_ks4_a8_ehcp_value", title="t", xlabel="x", ylabel="y"),
            plotting.small_multiples(frame, [dict(x="idaci", y="att_ks4_a8_ehcp_value", title="a"),
                                             dict(x="idaci", y="att_ks4_p8_ehcp_value", title="b")], title="t"),
        ]
        assert all(f.axes for f in figs)
    imp = parts["conclusions"].frames["improvement"]
    fig = plotting.slope_chart(imp, early_label="2016/17", late_label="2018/19", title="t", highlight="873")
    assert fig.axes


# --------------------------------------------------------------------------- notebooks


def _make_notebooks():
    spec = importlib.util.spec_from_file_location("make_notebooks", REPO / "tools" / "make_notebooks.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_notebooks_match_their_source_and_are_stripped():
    mod = _make_notebooks()
    assert mod.main(["--check"]) == 0, "run .venv/bin/python tools/make_notebooks.py"
    for stem in mod.NOTEBOOK_CELLS:
        nb = nbformat.read(REPO / "notebooks" / f"{stem}.ipynb", as_version=4)
        assert nb["metadata"]["kernelspec"]["name"] == "python3"
        assert nb["cells"][0]["cell_type"] == "markdown" and nb["cells"][0]["source"].startswith("# ")
        params = nb["cells"][1]
        assert params["metadata"]["tags"] == ["parameters"]
        assert params["source"] == ('final_year = "201819"\nn_years = 3\ndata_dir = ""\noutput_dir = "."\n'
                                    'highlight_la = ""')
        for c in nb["cells"]:
            if c["cell_type"] == "code":
                assert c["outputs"] == [] and c["execution_count"] is None
                assert "def " not in c["source"]
        assert any(c["cell_type"] == "markdown" and c["source"] == "## Data and caveats" for c in nb["cells"])
