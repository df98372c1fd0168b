"""The series analyses and charts on the real 2018/19 edition, and the notebooks' shape."""

from __future__ import annotations

import importlib.util
import math
import re
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from inclusion_index.config import CHOICES
from inclusion_index.index.indicators import labelled_for
from inclusion_index.report import plotting, series
from inclusion_index.report.series.text import dp_for
from inclusion_index.sources.geography import label_years

from .conftest import full_edition

REPO = Path(__file__).resolve().parents[1]
PARTS = ["introduction", "exclusions", "assessment", "placement", "attainment", "conclusions"]


@pytest.fixture(scope="module")
def ed(data_dir):
    return full_edition("201819", data_dir)


@pytest.fixture(scope="module")
def parts(ed):
    return {name: getattr(series, name)(ed, highlight="873") for name in PARTS}


@pytest.fixture(scope="module")
def ed25(data_dir):
    """The 2024/25 edition: termly exclusion rates, boundary changes (Cumbria's successors)."""
    return full_edition("202425", data_dir)


# --------------------------------------------------------------------------- formatting


def test_fmt_and_labels():
    assert series.fmt(12345.678) == "12,345.7"
    assert series.fmt(0.456, 2, pct=True) == "0.46%"
    assert series.fmt(2, 0, sign=True) == "+2"
    assert series.fmt(-0.04) == "0.0"  # never "-0.0"
    assert series.fmt(float("nan")) == "n/a" and series.fmt(None) == "n/a"
    assert series.year_label("201819") == "2018/19"
    assert series.years_label(["201819", "201617"]) == "2016/17 to 2018/19"
    assert label_years("carried forward from 201617 (201718 not published)") == \
        "carried forward from 2016/17 (2017/18 not published)"
    assert [series.ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 112)] == \
        ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "112th"]


def test_plain_words_helpers():
    assert series.lower_first("IDACI average score (IoD2015)") == "IDACI average score (IoD2015)"
    assert series.lower_first("Pupils with an EHC plan") == "pupils with an EHC plan"
    assert series.lower_first("KS2 reading progress") == "KS2 reading progress"
    assert (series.plural(1, "LA"), series.plural(5, "LA")) == ("1 LA", "5 LAs")
    assert (series.level_label(0.95), series.level_label(0.998)) == ("95%", "99.8%")
    assert series.and_join(["Cumberland", "Westmorland and Furness"]) == "Cumberland, and Westmorland and Furness"
    assert series.chance_count((1 - 0.9) / 2, 150) == round(0.05 * 150) == 8
    # a figure that rounds to zero gets more places, never "0.00 points lower"
    text = series.effect_text(-0.43, -0.85, 0.0012, " percentage points")
    assert "0.00 percentage points" not in text and "0.001 percentage points higher" in text
    assert series.effect_text(0.0, -0.04, 0.04, " points").startswith("no different")


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
    assert rv["n_regions"] == 10 and rv["table"]["LAs"].sum() == len(d)
    # reader-facing headers, never code-style ones
    assert list(rv["table"].columns) == ["Region", "LAs", "Mean", "Median", "Lowest", "Highest", "Standard deviation"]


def test_rank_text_helpers():
    assert series.rank_cell(3, 1, 12) == "3 (1–12)" and series.rank_cell(3, pd.NA, pd.NA) == "3"
    assert series.rank_words(3, 1, 12, 150) == "3rd of 150, plausibly anywhere from 1st to 12th (90% range)"
    assert series.rank_words(1, 1, 1) == "1st (90% range: 1st only)"
    assert series.rank_words(5, None, None) == "5th"
    assert series.change_range(-1.66, 21.2) == "-1.7 to +21.2"
    assert not hasattr(series, "rank_intervals")  # the bootstrap stand-in is gone


def test_ranking_tables_show_the_monte_carlo_ranges(ed, parts):
    st = ed.score_table.set_index("la_code")
    scored = st[st["overall_rank"].notna()]
    c = parts["conclusions"]
    f = c.frames["ranking"].set_index("la_code")
    assert len(f) == len(scored) == 150
    for col in ("overall_rank", "overall_rank_lo", "overall_rank_median", "overall_rank_hi", "overall_adjusted_rank"):
        assert (f[col] == scored.loc[f.index, col]).all(), col
    lo, med, hi, rank = (f[c_].astype("float64") for c_ in ("overall_rank_lo", "overall_rank_median",
                                                              "overall_rank_hi", "overall_rank"))
    assert ((lo <= med) & (med <= hi)).all() and lo.min() >= 1 and hi.max() <= 150
    # the nominal rank lies in its range for (nearly) every LA; at the reports' 500 draws, every one
    assert ((lo <= rank) & (rank <= hi)).mean() > 0.9
    table = c.tables["ranking"]
    col = series.rank_column()
    assert col == "Rank (90% range)" and {"Adjusted score", "Adjusted rank"} <= set(table.columns)
    expected = [f"{int(r)} ({int(a)}–{int(b)})" for r, a, b in zip(rank, lo, hi, strict=True)]
    assert list(table[col]) == expected
    intro = parts["introduction"]
    assert list(intro.tables["top10"][col]) == expected[:10]
    # the adjusted tables show the raw rank with its range beside the adjusted one
    adj = parts["exclusions"].tables["adjusted_top"]
    adj_col = "Adjusted rank (90% range)"
    assert {col, "Adjusted score", adj_col, "Exclusions score"} <= set(adj.columns)
    adj_ranks = [int(c.split(" ")[0]) for c in adj[adj_col]]
    assert adj_ranks == sorted(adj_ranks)
    # every adjusted rank comes with its own Monte Carlo range
    for cell in adj[adj_col]:
        _r, lo, hi = (int(x) for x in cell.replace("(", "").replace(")", "").replace("–", " ").split())
        assert lo <= hi and lo >= 1 and hi <= 150
    fr = parts["exclusions"].frames["adjusted"]
    inside = (fr["exclusions_adjusted_rank_lo"] <= fr["exclusions_adjusted_rank"]) & (
        fr["exclusions_adjusted_rank"] <= fr["exclusions_adjusted_rank_hi"])
    assert inside.mean() > 0.9


def test_text_never_gives_a_bare_rank(ed, parts):
    st = ed.score_table
    top = st.sort_values("overall_rank").iloc[0]
    rng = f"plausibly anywhere from {series.ordinal(top['overall_rank_lo'])} to " \
          f"{series.ordinal(top['overall_rank_hi'])}" if top["overall_rank_lo"] != top["overall_rank_hi"] else \
          f"(90% range: {series.ordinal(top['overall_rank_lo'])} only)"
    assert rng in " ".join(parts["introduction"].sections["headline"])
    assert rng in " ".join(parts["conclusions"].sections["ranking"])
    hl = " ".join(parts["exclusions"].sections["highlight"])
    r = st.set_index("la_code").loc["873"]
    assert f"ranks {series.ordinal(r['overall_rank'])} of 150, plausibly anywhere from " \
           f"{series.ordinal(r['overall_rank_lo'])} to {series.ordinal(r['overall_rank_hi'])}" in hl
    # no "ranks first/last" without its range anywhere in the series
    for p in parts.values():
        for sent in p.text:
            assert "ranks first" not in sent and "ranks last" not in sent, sent


def test_how_certain_are_the_ranks(ed, parts):
    p = parts["introduction"]
    st = ed.score_table
    s = st[st["overall_rank"].notna()]
    width = (s["overall_rank_hi"] - s["overall_rank_lo"]).astype("float64")
    assert math.isclose(p.numbers["rank_interval_median_width"], width.median())
    assert p.numbers["overlap_top10"] == int((s["overall_rank_lo"] <= 10).sum())
    text = " ".join(p.sections["certainty"])
    assert f"{p.numbers['overlap_top10']} LAs' ranges overlap the top 10" in text
    assert f"is {series.fmt(width.median(), 0)} places wide" in text
    sens = p.tables["sensitivity"]
    assert len(sens) == len(CHOICES) + 1 and sens["Average move (places)"].ge(0).all()
    most = p.numbers["sensitivity_most"]
    one = p.frames["sensitivity"].set_index("choice").drop(index="all")
    assert most == one["mean_abs_shift"].idxmax()
    assert series.fmt(one.loc[most, "mean_abs_shift"]) in " ".join(p.sections["sensitivity"])


@pytest.mark.parametrize("name", ["exclusions", "placement", "attainment"])
def test_funnel_sentences_count_what_funnel_data_flags(ed, parts, name):
    p = parts[name]
    frames = series.funnel_frames(p)
    assert frames
    text = " ".join(p.sections["funnels"])
    for i, f in frames.items():
        ref = ed.funnel(i)
        assert len(f) == len(ref)
        outside = int((ref["flag_998"] != "within").sum())
        assert p.numbers[f"{i}_funnel_outside"] == outside
        assert f"{outside} of the {len(ref)} LAs lie outside the 99.8% limits" in text
        if ref.attrs["tau2"] > 0:  # overdispersed: the caveat and the count allowing for it
            od = int((ref["od_flag_998"] != "within").sum())
            assert p.numbers[f"{i}_funnel_od_outside"] == od
            assert "more than chance alone would make them" in text  # in words; the statistic in the notes
            assert f"overdispersion φ {series.fmt(ref.attrs['phi'], 2)}" in " ".join(p.sections["technical"])
            assert f"{series.plural(od, 'LA')} {'stands' if od == 1 else 'stand'} out" in text


def test_assessment_says_why_it_has_no_funnel(parts):
    p = parts["assessment"]
    assert not series.funnel_frames(p)
    # the sentence names what the share rests on (census counts, DfE's two decimals, LAIT's one)
    why = [s for s in p.sections["funnels"] if s.startswith("No funnel plot for")]
    assert len(why) == 1 and "no counts to set limits from" in why[0]
    assert "census counts for" in why[0] or "one decimal place" in why[0]


@pytest.mark.parametrize("area", ["exclusions", "assessment", "placement", "attainment"])
def test_adjusted_score_beside_the_raw_one(ed, parts, area):
    from inclusion_index.report.series.adjusted import caveat_for

    p = parts[area]
    res = ed.adjustment
    fit = res.fits[area]
    m = p.tables["adjusted_model"]
    assert list(m.columns) == series.ADJUSTED_COLUMNS and len(m) == len(fit.covariates)
    assert (m["R²"] == fit.r2).all() and (m["LAs"] == fit.n).all() and (m["Breusch–Pagan p"] == fit.bp_pvalue).all()
    idaci = fit.coefficients.set_index("term").loc["idaci"]
    row = m[m["Predictor"].str.startswith("IDACI")].iloc[0]
    step = float(row["Step"].lstrip("+"))
    assert math.isclose(row["Difference per step"], idaci["coef"] * step)
    assert math.isclose(row["95% CI low"], idaci["ci_lower"] * step)
    text = " ".join(p.sections["adjusted"])
    assert caveat_for(res.caveat, list(fit.covariates)) in text and "beside the index, not instead of it" in text
    top = p.tables["adjusted_top"].iloc[0]
    raw = f"{AREA_NAME[area]} score"
    assert raw in p.tables["adjusted_top"].columns  # the raw score stays beside the adjusted one
    st = ed.score_table.set_index("la_name")
    assert math.isclose(top["Adjusted score"], st[f"{area}_adjusted_score"].max())
    assert math.isclose(top[raw], st.loc[top["Local authority"], f"{area}_score"])


AREA_NAME = {"exclusions": "Exclusions", "assessment": "Assessment", "placement": "Placement",
             "attainment": "Attainment"}


def test_conclusions_give_every_rank_under_any_area_weighting(ed, parts):
    p = parts["conclusions"]
    st = ed.score_table[ed.score_table["scored"]]
    first = st.loc[st["overall_rank_best_weights"] == 1, "la_name"]
    assert p.numbers["n_first_any_weighting"] == len(first) > 0
    text = " ".join(p.sections["weightings"])
    assert f"{len(first)} of the {len(st)} LAs can rank first under some weighting: " in text
    assert all(name in text for name in first)
    assert "exclusions 17%, assessment 8%, placement 17% and attainment 58% (each indicator counting equally)" in text
    width = st["overall_rank_worst_weights"] - st["overall_rank_best_weights"]
    assert p.numbers["weighting_range_max_width"] == width.max()
    f = p.frames["weightings"]
    assert len(f) == len(st) and (f["overall_rank_best_weights"] <= f["overall_rank"]).all()
    fig = plotting.rank_interval_chart(f, rank="overall_rank", lo="overall_rank_best_weights",
                                       hi="overall_rank_worst_weights", title="t", note=p.labels["weightings_chart"])
    assert len(fig.axes[0].collections[0].get_segments()) == len(st)


def test_improvement_marks_only_changes_beyond_uncertainty(ed, parts):
    p = parts["conclusions"]
    st = ed.score_table.set_index("la_code")
    sig = st["improvement_significant"].fillna(False).astype(bool)
    k = int(sig.sum())
    assert p.numbers["n_improved_significant"] == k
    text = " ".join(p.sections["improved"])
    assert f"{k} of the {p.numbers['n_changed']} LAs compared improved beyond uncertainty" in text
    imp = p.frames["improvement"].set_index("la_code")
    assert (imp["significant"] == sig.reindex(imp.index)).all()
    assert (imp.loc[imp["significant"], "change_lo"] > 0).all()
    t = p.tables["improved"]
    marked = t["Beyond uncertainty?"] == "yes, a rise"
    names = set(st.loc[sig[sig].index, "la_name"])
    assert set(t.loc[marked, "Local authority"]) <= names
    assert not set(t.loc[~marked, "Local authority"]) & names
    first = imp.iloc[0]
    assert t["Change (90% range)"].iloc[0] == series.change_range(first["change_lo"], first["change_hi"])
    assert set(p.tables["significant"]["Local authority"]) == names
    # every row says yes or no: never a blank cell, and the rank change is never shown bare
    for key in ("improved", "declined"):
        col = p.tables[key]["Beyond uncertainty?"]
        assert col.isin(["yes, a rise", "yes, a fall", "no"]).all(), key
        assert "Places moved" not in p.tables[key].columns
    falls = p.tables["declined"]
    fell = set(imp.index[imp["declined_significant"]])
    assert set(falls.loc[falls["Beyond uncertainty?"] == "yes, a fall", "Local authority"]) == \
        set(st.loc[list(fell), "la_name"]) & set(falls["Local authority"])


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
    assert top[series.rank_column()].startswith("1 (") and math.isclose(top["Overall score"],
                                                                         scored["overall_score"].max())
    assert len(p.tables["indicators"]) == 12


def test_context_measures_missing_for_the_edition_are_stated(ed, parts):
    semh = series.context_measure(ed, "sen2_semh_pct_ehcp")
    assert not semh.available and "2024/25" in semh.note
    ex = parts["exclusions"]
    assert "semh" not in ex.models
    assert any("SEMH" in s and "not available" in s for s in ex.text)
    dep = series.deprivation(ed)
    assert dep.available and dep.year == "201516" and dep.values.notna().sum() == 150


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
    found = {f.id: f for f in series.findings(ed)}
    assert len(found) >= 6
    for f in found.values():
        assert f.headline and f.data_period and f.source_ids and math.isfinite(f.number)
    scores = ed.headline().scores
    best = scores.loc[scores["overall_rank"] == 1].iloc[0]
    name = ed.geography.set_index("la_code").loc[scores.index[scores["overall_rank"] == 1][0], "la_name"]
    top = found["overall_top"]
    assert math.isclose(top.number, best["overall_score"])
    assert name in top.headline and series.fmt(best["overall_score"]) in top.headline
    worst = scores["overall_score"].min()
    assert math.isclose(found["overall_bottom"].number, worst) and series.fmt(worst) in found["overall_bottom"].headline
    assert math.isclose(found["most_improved"].number, round(ed.improvement["change"].max(), 1))
    assert found["most_improved"].data_period.startswith("index years 2016/17 to 2018/19")
    st = ed.score_table
    # rank uncertainty: the median width of the 90% rank range
    s = st[st["overall_rank"].notna()]
    width = float((s["overall_rank_hi"] - s["overall_rank_lo"]).astype("float64").median())
    ranks = found["rank_uncertainty"]
    assert ranks.number == round(width) and f"spans {series.fmt(width, 0)} places" in ranks.headline
    assert "runs" in ranks.caveat
    # the significant improvers: the score table's count
    k = int(st["improvement_significant"].fillna(False).sum())
    assert found["improvement_rises"].number == k and found["improvement_rises"].headline.startswith(f"{k} councils")
    # England's EHC plans: DfE's national count for January 2019
    lg = ed.long
    plans = lg[(lg["measure"] == "sen2_ehcp_total") & (lg["level"] == "national") & (lg["year"] == ed.final_year)]
    assert found["england_ehc_plans"].number == float(plans["value"].iloc[0]) == 353995
    md = series.findings_markdown(ed, list(found.values()))
    assert md.count("\n- ") == len(found) + len(series.build_findings(ed).dont_write)


def test_data_caveats(ed, parts):
    cav = series.data_caveats(ed, parts["placement"].measures)
    src = cav["sources"]
    assert src["Used for"].str.len().gt(0).all()
    assert src["Source"].str.contains("Local Authority Interactive Tool").any()
    assert src["Used for"].str.contains("(context)", regex=False).any()
    assert {"Index year", "Indicator", "Data year", "Note"} <= set(cav["substitutions"].columns)
    assert cav["text"] and all(isinstance(s, str) for s in cav["text"])
    assert {"sources", "substitutions", "suppression", "small_cohorts"} == set(series.CAVEAT_TABLES)


def test_each_part_keeps_only_its_own_caveats(ed, parts):
    """Issue 13 problem 10: not the same block on all six parts; each points to the method notes."""
    every = series.data_caveats(ed, parts["placement"].measures)
    cav = {k: series.data_caveats(ed, p.measures, part=k) for k, p in parts.items()}
    text = {k: " ".join(c["text"]) for k, c in cav.items()}
    small, excl = "Fewer than 30 pupils with an EHC plan", "Suspension rates count suspensions, not pupils"
    assert small in text["attainment"] and excl in text["exclusions"] and "records" in text["placement"]
    assert all(small not in t for k, t in text.items() if k != "attainment")
    assert all(excl not in t for k, t in text.items() if k != "exclusions")
    assert all(len(c["small_cohorts"]) == 0 for k, c in cav.items() if k != "attainment")
    assert all("City of London" not in t for k, t in text.items() if k not in ("introduction", "conclusions"))
    assert all(c["text"][-1].startswith("The caveats that apply to every part") for c in cav.values())
    # the area parts list only their own indicators' sources and gaps, and say less than the whole block
    names = {"exclusions": "exclusions", "attainment": "Attainment 8"}
    assert not cav["exclusions"]["sources"]["Used for"].str.contains(names["attainment"]).any()
    assert set(cav["attainment"]["substitutions"]["Indicator"]) <= set(every["substitutions"]["Indicator"])
    full = len(" ".join(every["text"]).split())
    assert all(len(t.split()) < full for k, t in text.items() if k in series.AREAS), (full, text)


def test_glossary_terms_link_to_the_method_page(ed, parts, tmp_path):
    from inclusion_index.report.render import write_method_page
    from inclusion_index.report.series.caveats import GLOSSARY, METHOD_PAGE

    page = write_method_page(tmp_path).read_text()
    for slug in GLOSSARY:
        assert f'id="glossary-{slug}"' in page, slug
    p = series.attainment(ed)
    text = p.markdown("summary") + "".join(p.markdown(s) for s in p.sections)
    for slug in ("attainment-8", "progress-8", "ehc-plan", "neet"):
        link = f"({METHOD_PAGE}#glossary-{slug})"
        assert text.count(link) == 1, slug  # the first use only
    assert "](../method.html)" in series.introduction(ed).markdown("what")  # "see the method notes" is a link


def test_part_1_says_what_the_headline_weighs(ed, parts):
    what = " ".join(parts["introduction"].sections["what"])
    rho = float(ed.sensitivity.set_index("choice").loc["aggregation", "rank_correlation"])
    assert "7 of the 12 indicators are attainment" in what and "about 58% of the headline score" in what
    assert f"correlates only {series.fmt(rho, 2)} with the headline" in what and 0.6 < rho < 0.8
    assert "your own weights" in what
    assert "about 58% of the headline score" in series.findings_markdown(ed)


# --------------------------------------------------------------------------- reviewers' defects


def test_introduction_names_the_las_too_small_to_score(ed, parts):
    every = ed.ref.geography_for_year(ed.final_year, include_excluded=True)
    gone = every[~every["la_code"].isin(ed.geography["la_code"])]
    assert set(gone["la_name"]) == {"City of London", "Isles of Scilly"} and len(every) == 152
    what = " ".join(parts["introduction"].sections["what"])
    assert f"ranks 150 of England's {len(every)} local authorities" in what
    assert "City of London and Isles of Scilly are too small to score" in what
    lg = ed.long
    plans = lg[(lg["measure"] == "sen2_ehcp_total") & (lg["year"] == ed.final_year) & lg["la_code"].isin(gone["la_code"])]
    for v in plans["value"]:
        assert f"{series.fmt(v, 0)}" in what
    assert any("City of London" in t and "Isles of Scilly" in t for t in series.data_caveats(ed)["text"])
    assert "150 of England's 152 local authorities" in series.edition_header(ed)


def test_rank_certainty_discloses_values_not_redrawn_and_the_missing_rule(ed, parts):
    p = parts["introduction"]
    text = " ".join(p.sections["certainty"])
    nn = ed.monte_carlo.no_noise
    assert len(nn) and p.numbers["cells_not_redrawn"] == len(nn)
    assert f"could not be redrawn for {len(nn)} values" in text
    short = ed.indicators.set_index("indicator")["short_name"]
    for i, g in nn[nn["index_year"] == ed.final_year].groupby("indicator"):
        assert f"{short[i]} ({series.plural(g['la_code'].nunique(), 'LA')})" in text
    sens = p.frames["sensitivity"].set_index("choice")
    assert sens.loc["missing", "max_abs_shift"] == 0
    assert "Varying that maximum (1, 2, 3) moved no LA in this edition" in text
    assert "no LA misses any published indicator in 2018/19 (at most 2 in the edition's earlier index years)" in text


def test_counts_beyond_uncertainty_say_what_chance_alone_gives(ed, parts):
    assert ed.run.uncertainty.interval == 0.9
    p = parts["conclusions"]
    n = p.numbers["n_changed"]
    expected = round(0.05 * n)
    assert p.numbers["n_expected_by_chance"] == expected
    k, m = p.numbers["n_improved_significant"], p.numbers["n_declined_significant"]
    chance = f"about {expected} of these {n} rising and {expected} falling, against {k} rises and {m} falls here"
    assert chance in " ".join(p.sections["improved"])
    counts = next(f for f in series.findings(ed) if f.id == "improvement_rises")
    assert counts.number == k and f"about {expected} beyond uncertainty in each direction" in counts.caveat


def test_most_improved_explains_like_for_like_scores(ed, parts):
    p = parts["conclusions"]
    st = ed.score_table.set_index("la_code")
    n = int(st["change_indicators_compared"].dropna().iloc[0])
    text = " ".join(p.sections["improved"])
    assert f"Both years are scored on only the {n} indicators published in both" in text
    assert "differ from each year's headline score" in text
    # the data years behind the comparison: exclusions 2015/16 (index year 2016/17) against 2016/17
    assert "fixed-period exclusions (annual rate) and permanent exclusions (annual rate), 2015/16 against 2016/17" in text
    top = p.frames["improvement"].iloc[0]
    r = st.loc[top["la_code"]]
    assert f"from {series.fmt(r['overall_change_score_from'])} to {series.fmt(r['overall_change_score_to'])}" in text
    assert f"{series.fmt(r['overall_score'])} in 2018/19" in text  # its headline score, named as such
    found = next(f for f in series.findings(ed) if f.id == "most_improved")
    assert f"only the {n} indicators published in both" in found.caveat
    assert f"from {series.fmt(r['overall_change_score_from'])} to {series.fmt(r['overall_change_score_to'])}" in found.caveat
    # the 2016/17 placement data come from the 2022 SEN2 release, which the finding cites
    assert "sen2_caseload_2022" in found.source_ids


def test_findings_cite_the_inputs_of_each_model(ed, ed25):
    found = {f.id: f for f in series.findings(ed)}
    supply = found["special_supply"].source_ids
    assert "special_schools_ofsted" in supply and not any(s.startswith("iod") for s in supply)
    assert "iod2015_utla" in found["special_deprivation"].source_ids
    assert "special_schools_ofsted" not in found["special_deprivation"].source_ids
    idaci25 = next(f for f in series.findings(ed25) if f.id == "special_deprivation")
    assert "iod2019_utla" in idaci25.source_ids and "special_schools_ofsted" not in idaci25.source_ids
    # a count shows no decimals in the findings table
    table = series.findings_table(ed).set_index("Finding")
    counts = found["improvement_rises"]
    assert table.loc[counts.headline, "Number"] == str(int(counts.number))


def test_extremes_never_name_an_estimated_value(ed, parts):
    v = ed.values
    names = ed.geography.set_index("la_code")["la_name"]
    p = parts["exclusions"]
    for i in ("excl_fixed_ehcp", "excl_perm_ehcp"):
        sub = v[(v["index_year"] == ed.final_year) & (v["indicator"] == i)]
        est = set(names[sub.loc[sub["imputed_count"].notna(), "la_code"]])
        assert est, i
        row = p.tables["summary"].set_index("Indicator").loc[labelled_for(ed).set_index("indicator").loc[i, "short_name"]]
        assert row["Lowest LA"] not in est and row["Highest LA"] not in est
        assert row["Estimates (not named)"] == len(est)
        if i == p.numbers["main_indicator"]:  # the tables of highest and lowest LAs are for the main indicator
            assert not (set(p.tables["lowest"]["Local authority"]) | set(p.tables["highest"]["Local authority"])) & est
    sub = v[(v["index_year"] == ed.final_year) & (v["indicator"] == "excl_fixed_ehcp")]
    est = set(names[sub.loc[sub["imputed_count"].notna(), "la_code"]])
    fixed = [f for f in series.findings(ed) if f.id.startswith("excl_fixed_ehcp_")]
    assert fixed and not {f.place for f in fixed} & est


def test_reader_tables_and_text_have_no_codes(ed, parts):
    import re

    key = re.compile(r"\b20\d{4}\b")
    for name, p in parts.items():
        for s in p.text:
            assert "LA(s)" not in s and not key.search(s) and "95.0%" not in s, (name, s)
            assert not re.search(r"\b0\.00 (percentage )?points", s), (name, s)
        for tname, tb in p.tables.items():
            for c in tb.columns:
                assert "_" not in str(c), (name, tname, c)
            for col in tb.columns:
                if tb[col].dtype == object or pd.api.types.is_string_dtype(tb[col]):
                    assert not tb[col].astype(str).str.contains(key).any(), (name, tname, col)
    assert "Taking into account" in parts["exclusions"].tables["models"].columns
    assert list(parts["conclusions"].tables["regions"].columns[:3]) == ["Region", "LAs", "LAs scored"]
    cav = series.data_caveats(ed, parts["placement"].measures)
    assert not cav["substitutions"]["Measure"].str.contains("_").any()
    assert all("LA(s)" not in s for s in cav["text"])


def test_sources_list_only_what_the_part_used(ed, ed25, parts):
    src = series.data_caveats(ed, parts["exclusions"].measures)["sources"]
    # 2018/19 uses IoD2015 only, and the SEMH share (2024/25 only) is not available to it
    assert src["Source"].str.contains("indices of deprivation 2015", case=False).any()
    assert not src["Source"].str.contains("indices of deprivation 2019", case=False).any()
    assert not src["Used for"].str.contains("SEMH").any()
    ex25 = series.exclusions(ed25)
    src25 = series.data_caveats(ed25, ex25.measures)["sources"]
    assert not src25["Source"].str.contains("indices of deprivation 2015", case=False).any()
    assert src25["Source"].str.contains("indices of deprivation 2019", case=False).any()


def test_termly_exclusion_rates_are_explained_and_england_is_pooled(ed25):
    p = series.exclusions(ed25)
    text = " ".join(p.sections["summary"])
    # 2024/25: DfE's annual definition rebuilt from the termly rates (issue 12), named as such
    assert "annual suspension rate" in text  # in plain words; the full name, in the tables, defines it
    from inclusion_index.report.series.edition_facts import indicator_years

    names = " ".join(indicator_years(ed25)["name"])
    assert "annual rate on the January census headcount, rebuilt from DfE's termly rates" in names
    assert "sum of three termly rates" not in text
    assert "no England figure" not in text
    pooled = ed25.funnel("excl_fixed_ehcp").attrs["target"]
    assert f"England {series.fmt(pooled, 2)} per 100 pupils pooled from the LA figures" in text  # DfE publishes 2 dp
    row = p.tables["summary"].iloc[0]
    assert math.isclose(row["England"], pooled) and row["England figure"] == "pooled from LA figures"
    assert not any("sum of three termly rates" in s for s in series.data_caveats(ed25)["text"])
    quoted = next(f for f in series.findings(ed25) if f.id == "excl_fixed_ehcp_highest")
    assert "pooled from the council figures" in quoted.england_figure
    c = series.conclusions(ed25)
    imp = " ".join(c.sections["improved"])
    assert "Cumberland" in imp and "Cumbria" in imp and "before a boundary change" in imp


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
    png, meta = saved._repr_png_()
    top = data.sort_values("excl_fixed_ehcp_value", ascending=False)["la_name"].iloc[0]
    assert saved.alt.startswith(f"Test chart. {data['excl_fixed_ehcp_value'].notna().sum()} LAs; highest "
                                f"excl fixed ehcp value: {top} ")
    assert saved.alt.endswith("(02_test_chart.csv), linked below the chart.")
    assert png[:4] == b"\x89PNG" and meta == {
        "alt": saved.alt, "csv": "figures/02_test_chart.csv", "svg": "figures/02_test_chart.svg"}
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
    fig = plotting.slope_chart(imp, early_label="2016/17", late_label="2018/19", title="t", significant="significant")
    green = [t for t in fig.axes[0].texts if getattr(t, "arrow_patch", None)
             and to_hex(t.arrow_patch.get_edgecolor()) == plotting.COLORS["up"]]
    assert len(green) == int(imp.sort_values("change", ascending=False)["significant"].head(10).sum())
    ri = parts["introduction"].frames["rank_intervals"]
    for frame in (ri, ri.assign(overall_rank_lo=pd.NA, overall_rank_hi=pd.NA), ri.iloc[0:0]):
        fig = plotting.rank_interval_chart(frame, rank="overall_rank", lo="overall_rank_lo", hi="overall_rank_hi",
                                           median="overall_rank_median", title="t", highlight="873")
        assert fig.axes
    f = series.funnel_frames(parts["placement"])["place_state_special"]
    fig = plotting.funnel_plot(f, highlight="873")
    assert fig.axes[0].get_xscale() == "log"
    empty_f = f.iloc[0:0].copy()
    empty_f.attrs = {}
    assert plotting.funnel_plot(empty_f).axes


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
        assert params["source"] == ('final_year = "201819"\nn_years = 3\ndata_dir = ""\nedition_file = ""  # the '
                                    'render passes the edition it built; empty: look it up or build it\n'
                                    'output_dir = "."\nhighlight_la = ""')
        for c in nb["cells"]:
            if c["cell_type"] == "code":
                assert c["outputs"] == [] and c["execution_count"] is None
                assert "def " not in c["source"]
        assert any(c["cell_type"] == "markdown" and c["source"] == "## Data and caveats" for c in nb["cells"])


def test_notebook_markdown_links_glossary_terms_once():
    from inclusion_index.report.series.caveats import METHOD_PAGE

    nb = nbformat.read(REPO / "notebooks" / "04_placement.ipynb", as_version=4)
    intro, setup = nb["cells"][0]["source"], next(c["source"] for c in nb["cells"] if "link_profiles(" in c["source"])
    # the first use of each term in the fixed markdown links to the method page's glossary, once
    for term, slug in (("EHC plans", "ehc-plan"), ("special schools", "special-school")):
        assert intro.count(f"[{term}]({METHOD_PAGE}#glossary-{slug})") == 1
        assert intro.count(f"#glossary-{slug}") == 1
    # and the part's own sentences then leave those terms unlinked (Part.markdown reads part.linked)
    assert "part.linked.update(['EHC plans?', 'special schools?'" in setup
    assert not any("glossary" in line for c in nb["cells"] if c["cell_type"] == "markdown"
                   for line in c["source"].splitlines() if line.startswith("#"))


# --------------------------------------------------------------------------- placement beyond the index


@pytest.fixture(scope="module")
def placement25(ed25):
    return series.placement(ed25, highlight="873")


def _la_values(ed, measure: str, year: str) -> pd.Series:
    """A measure's LA values for a year straight from ed.long, on the edition's LAs."""
    lg = ed.long
    sub = lg[(lg["measure"] == measure) & (lg["year"] == year) & (lg["level"] == "la")
             & lg["la_code"].isin(ed.geography["la_code"])]
    return sub.set_index("la_code")["value"].astype("float64")


def _england_value(ed, measure: str, year: str) -> pd.Series:
    lg = ed.long
    return lg[(lg["measure"] == measure) & (lg["year"] == year) & (lg["level"] == "national")].iloc[0]


def _pct_text(x: float, dp: int) -> str:
    """As the tables print it: one decimal, two below 1 (series.fmt_value)."""
    return f"{series.fmt_value(x, min(dp, 1)) if x else '0'}%"


@pytest.mark.parametrize("which", ["201819", "202425"])
def test_ap_pru_and_no_school_place_sentences_match_ed_long(ed, ed25, parts, placement25, which):
    e, p = (ed, parts["placement"]) if which == "201819" else (ed25, placement25)
    text = " ".join(p.sections["beyond"])
    assert "context, not index indicators" in text and "enter no score" in text
    names = e.geography.set_index("la_code")["la_name"]
    y = e.final_year
    for key, measure, phrase in [("ap_pru", "sen2_ehcp_ap_pru_pct", "alternative provision or pupil referral"),
                                 ("no_school_place", "sen2_ehcp_no_school_place_pct", "with no school place")]:
        v = _la_values(e, measure, y).dropna()
        dp = dp_for(v)
        sentence = next(s for s in p.sections["beyond"] if phrase in s and "ranges from" in s)
        lo, hi = v.min(), v.max()
        at_lo = v[v == lo].index
        lo_where = names[at_lo[0]] if len(at_lo) == 1 else f"{len(at_lo)} LAs"
        assert f"ranges from {_pct_text(lo, dp)} in {lo_where} to {_pct_text(hi, dp)} in {names[v.idxmax()]}" \
            in sentence, sentence
        assert f"middle half of the {len(v)} LAs lie between {_pct_text(v.quantile(0.25), dp)} and " \
               f"{_pct_text(v.quantile(0.75), dp)} (median {_pct_text(v.median(), dp)})" in sentence
        eng = _england_value(e, measure, y)
        assert f"England {_pct_text(eng['value'], dp)} in {series.year_label(y)} " \
               f"({series.fmt_int(eng['numerator'])} of {series.fmt_int(eng['denominator'])} plans)" in sentence
        assert math.isclose(p.numbers[f"{key}_england"], eng["value"])
        assert math.isclose(p.numbers[f"{key}_median"], v.median())
        # the regional table pools the LAs' plans: counts over plans from ed.long
        counts = _la_values(e, measure.removesuffix("_pct"), y)
        plans = _la_values(e, "sen2_ehcp_total", y)
        reg = e.geography.set_index("la_code")["region"]
        sw = [c for c in v.index if reg[c] == "South West"]
        row = p.tables["beyond_regions"].set_index("Region").loc["South West"]
        short = "AP/PRU" if key == "ap_pru" else "No school place"
        assert math.isclose(row[f"{short} (% of the region's plans)"], counts[sw].sum() / plans[sw].sum() * 100)
        # England over the edition's years, from the published national rows
        first = _england_value(e, measure, e.first_year)
        change = next(s for s in p.sections["beyond_england"] if phrase in s)
        assert _pct_text(first["value"], dp) in change and series.year_label(e.first_year) in change
        assert _pct_text(eng["value"], dp) in change and series.fmt_int(eng["numerator"]) in change
    nsp = next(s for s in p.sections["beyond_england"] if "no school place" in s)
    if which == "201819":  # January 2019, inside this edition, starts the new definition
        assert "not comparable before and after January 2019" in nsp and "NEET" in nsp
    else:
        assert "not comparable" not in nsp
    assert len(p.tables["beyond_england"]) == len(e.years)


def test_no_school_place_highlight_and_missing_las(parts, placement25):
    p = parts["placement"]
    b = p.frames["beyond"].set_index("la_code")
    hl = next(s for s in p.sections["beyond"] if s.startswith("Cambridgeshire:"))
    assert f"{series.fmt(b.loc['873', 'no_school_place_pct'], 1)}% of its EHC plans with no school place" in hl
    # 2024/25: Cambridgeshire and North East Lincolnshire have no placement split, said once, and on the chart
    text = " ".join(placement25.sections["beyond"])
    assert text.count("North East Lincolnshire") == 1 and "left out of both shares" in text
    assert "Cambridgeshire (highlighted)" in placement25.labels["no_school_place_note"]


def test_supply_uses_the_count_nearest_the_final_year(ed, ed25, parts, placement25):
    old, new = parts["placement"], placement25
    # 2018/19: the Ofsted count of that year; the census count (2023/24) is after the edition
    m = old.models["place_state_special_supply"]
    assert "special_schools_ofsted" in m.source_ids and "school_census_202324" not in m.source_ids
    used = {(c.measure, c.year) for c in old.measures if isinstance(c, series.ContextMeasure)}
    assert ("ofsted_state_special_schools", "201819") in used
    assert not any(c[0] == "census_state_special_schools" for c in used)
    # 2024/25: the January 2024 census (2023/24) is nearer than the last Ofsted count (2022/23)
    m = new.models["place_state_special_supply"]
    assert "school_census_202324" in m.source_ids and "special_schools_ofsted" not in m.source_ids
    used = {(c.measure, c.year) for c in new.measures if isinstance(c, series.ContextMeasure)}
    assert ("census_state_special_schools", "202324") in used and ("sen2_ehcp_total", "202324") in used
    assert not any(c[0] == "ofsted_state_special_schools" for c in used)
    census = _la_values(ed25, "census_state_special_schools", "202324")
    plans = _la_values(ed25, "sen2_ehcp_total", "202324")
    d = new.data.set_index("la_code")
    assert np.allclose(d["special_schools"].reindex(census.index), census, equal_nan=True)
    r = d.loc["873"]
    assert math.isclose(r["schools_per_1000_plans"], census["873"] / plans["873"] * 1000)
    text = " ".join(new.sections["supply"])
    assert "January school census) for 2023/24" in text and "inspected or not" in text
    assert "Ofsted-graded) are in the data up to 2022/23" in text and "only one count is used" in text
    assert "(January school census, 2023/24)" in new.labels["schools_per_1000_plans"]
    assert "Ofsted-graded) for 2018/19" in " ".join(old.sections["supply"])
    src = series.data_caveats(ed25, new.measures)["sources"]
    assert src["Used for"].str.contains("January school census").any()
    assert src["Used for"].str.contains("no school place").any()
    assert not src["Used for"].str.contains("Ofsted-graded").any()


def test_no_school_place_chart_csv_in_the_render(site, placement25):
    fig = site / "202425" / "figures"
    assert (fig / "04_no_school_place_by_la.png").stat().st_size > 0
    csv = pd.read_csv(fig / "04_no_school_place_by_la.csv", dtype={"la_code": str}).set_index("la_code")
    b = placement25.frames["beyond"].set_index("la_code")
    assert {"no_school_place_pct", "ap_pru_pct", "ehc_plans"} <= set(csv.columns)
    assert np.allclose(csv["no_school_place_pct"], b["no_school_place_pct"].reindex(csv.index), equal_nan=True)
    page = (site / "202425" / "04_placement.html").read_text()
    assert "Beyond the index" in page and "January school census" in page


# --------------------------------------------------------------------------- final reader review


def test_adjusted_rank_width_verdict_follows_its_numbers(parts):
    import re

    for name in ("exclusions", "assessment", "placement", "attainment", "conclusions"):
        s = next(x for x in parts[name].sections["adjusted"] if x.startswith("Refitting"))
        adj, raw = (int(x) for x in re.search(r"span of (\d+) places .*against (\d+) for the raw", s).groups())
        verdict = s.rsplit("adjusted ranks are ", 1)[1]
        expect = "more uncertain" if adj > raw else "as uncertain as" if adj == raw else "less uncertain"
        assert verdict.startswith(expect) or (adj < raw and expect in verdict), (name, s)
        assert "at least as uncertain" not in s


def test_adjustment_caveat_and_caption_name_each_models_own_covariates(ed, parts):

    fits = ed.adjustment.fits
    assert fits["assessment"].covariates == ["idaci"]
    text = " ".join(parts["assessment"].sections["adjusted"])
    assert "LAs of similar child deprivation." in text and "a similar share of pupils" not in text
    assert "EHC" not in parts["assessment"].labels["adjusted_model_caption"]
    assert "a similar share of pupils with an EHC plan" in " ".join(parts["exclusions"].sections["adjusted"])
    assert "share of pupils with an EHC plan" in parts["exclusions"].labels["adjusted_model_caption"]


def test_spread_counts_ties_at_the_precision_shown_and_flags_small_cohorts():
    names = pd.Series(["Ayr", "Bute", "Cork", "Dee", "Eden", "Fife"])
    s = series.spread(pd.Series([0.001, 0.0, 0.004, 0.0, 0.5, 0.9]), names, "the rate", "per 100 pupils", 2)
    # printed as the tables print them (fmt_value): 0 is "0.0", 0.001 "0.00", so only the true zeros tie
    assert "0.0 per 100 pupils in 2 LAs (Bute and Dee)" in s["sentence"] and s["lowest"] == "Bute and Dee"
    s = series.spread(pd.Series([2.2, 2.4, 5.0, 9.0, 9.0, 7.0]), names, "the share", "%", 0,
                      cohort=pd.Series([6, 300, 300, 11, 300, 300]), small=30)
    # 2.2 and 2.4 both print as 2%; 9% is shared by Dee (11 pupils) and Eden
    assert "from 2% in 2 LAs (Ayr, from only 6 pupils; Bute)" in s["sentence"], s["sentence"]
    assert "9% in 2 LAs (Dee, from only 11 pupils; Eden)" in s["sentence"] and s["highest"] == "Dee and Eden"
    s = series.spread(pd.Series([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), names, "the score", "points", 1,
                      cohort=pd.Series([6, 300, 300, 300, 300, 300]), small=30)
    assert "1.0 in Ayr (from only 6 pupils) to 6.0 in Fife," in s["sentence"]


def test_small_cohorts_named_as_extremes_say_so_and_ks2_is_in_the_caveat(ed, parts):
    from inclusion_index.report.series.edition_facts import indicator_cohorts

    k = ed.run.uncertainty.small_cohort
    t = series.la_table(ed)
    rut = t.set_index("la_name").loc["Rutland", "la_code"]
    ks2 = indicator_cohorts(ed, "att_ks2_rwm_ehcp")
    assert ks2[rut] < k
    rwm = next(x for x in parts["attainment"].sections["summary"] if "KS2 expected standard" in x)
    assert f"in Rutland (from only {series.fmt(ks2[rut], 0)} pupils)" in rwm
    ks4 = indicator_cohorts(ed, "att_ks4_a8_ehcp")
    a8 = [f for f in series.findings(ed) if f.id.startswith("att_ks4_a8_ehcp_")]
    assert a8
    codes = t.set_index("la_name")["la_code"]
    for f in a8:  # an extreme from a small cohort is marked and says how few pupils
        n = ks4[codes[f.place]]
        assert (f.strength == "small cohort") == (n < k)
        assert (f"Based on about {series.fmt(n, 0)} pupils" in f.caveat) == (n < k)
    small = series.data_caveats(ed)["small_cohorts"]
    assert {"KS2 pupils with an EHC plan", "KS4 pupils with an EHC plan"} <= set(small.columns)
    assert "Rutland" in set(small["Local authority"])
    assert set(small["Local authority"]) == set(t.set_index("la_code").loc[
        sorted(set(ks2.index[ks2 < k]) | set(ks4.index[ks4 < k])), "la_name"])


def test_adjusted_extremes_never_rest_on_an_estimate(ed, parts):
    from inclusion_index.report.series.adjusted import estimate_las

    names = ed.geography.set_index("la_code")["la_name"]
    est = {names[c] for c in estimate_las(ed, "exclusions")}
    assert "Halton" in est
    p = parts["exclusions"]
    top = p.tables["adjusted_top"].set_index("Local authority")
    assert top.loc["Halton", "Uses an estimate"].startswith("yes")
    s = next(x for x in p.sections["adjusted"] if "furthest above expectation" in x)
    best = s.split("Adjusted for context, ", 1)[1].split(" is furthest above")[0]
    worst = s.split(". ", 1)[1].split(" is furthest below")[0]
    assert best not in est and worst not in est


def test_ks2_progress_gap_is_dfes_and_the_values_feed_two_index_years(ed25):
    p = series.introduction(ed25)
    what = " ".join(p.sections["what"])
    assert "DfE published no KS2 progress scores for 2023/24" in what and "KS1 baseline" in what
    assert "the same 2022/23 values also feed index year 2023/24" in what
    assert "no 2023/24 data in this project" not in what
    notes = series.data_caveats(ed25)["substitutions"]
    ks2 = notes[notes["Indicator"].str.contains("KS2") & notes["Note"].str.startswith("carried forward")]
    assert len(ks2) == 3 and ks2["Note"].str.contains("KS1 baseline").all()


def test_two_england_figures_are_told_apart(parts):
    p = parts["exclusions"]
    perm = next(s for s in p.sections["funnels"] if s.startswith("The permanent exclusion rate"))
    assert "(0.17 per 100 pupils, pooled from these LAs' counts; DfE publishes 0.16" in perm
    assert "0.16 per 100 pupils" in perm


def test_reader_text_has_no_file_paths_or_nested_brackets(ed, parts):
    import re

    texts = [s for p in parts.values() for s in p.text] + [f.headline + " " + f.caveat for f in series.findings(ed)]
    texts += series.data_caveats(ed)["text"]
    for s in texts:
        assert not re.search(r"docs/|\.md\b|\.yml\b|registry/", s), s
        assert "reporting year 2025 (June 2025)" not in s
        assert "0 LAs move" not in s and "is 0 places" not in s
    assert "SEN2 return (DfE's annual count of EHC plans" in " ".join(parts["placement"].sections["beyond"])


def test_missing_rule_is_stated_as_applied(parts):
    text = " ".join(parts["introduction"].sections["certainty"])
    assert "counted against those published, not all 12 (8 of 12 in 2016/17)" in text
    assert "no LA misses enough indicators" not in text


def test_chart_england_line_is_published_else_pooled_and_says_which(ed, ed25):
    # 2018/19: DfE's published England rate; 2024/25 termly rates have none, so the LAs' pooled figure
    line = series.england_line(ed, "excl_fixed_ehcp")
    assert line == {"england": pytest.approx(15.93), "england_label": "England"}
    pooled = series.england_line(ed25, "excl_fixed_ehcp")
    assert pooled["england"] == pytest.approx(ed25.funnel("excl_fixed_ehcp").attrs["target"])
    assert pooled["england_label"] == "England (pooled from LAs)"
    from inclusion_index.report import plotting
    t = series.la_table(ed25)
    fig = plotting.dot_chart(t, "excl_fixed_ehcp_value", title="x", value_label="per 100", **pooled)
    texts = [a.get_text() for a in fig.axes[0].texts]
    # pooled on the recovered January headcounts of pupils (25.6), no longer on SEN2 plans (26.0)
    assert any(s.startswith("England (pooled from LAs) 25.6") for s in texts)


def test_placement_recording_names_each_england_figure(ed, parts, ed25, placement25):
    """2024/25: the shares are of the plans whose placement is recorded; Wolverhampton (26.2%) and
    Stockport (11.3%) flagged; England on the index's definition from DfE's national counts beside
    DfE's own percentages of all plans (30.4% in special schools of any kind, 3.0% not recorded)."""
    text = " ".join(placement25.sections["recording"])
    assert "2 LAs are above 10% and flagged: Wolverhampton (26.2%) and Stockport (11.3%)" in text
    assert ("England on the index's definition, from DfE's national counts: 25.8% of the 619,406 plans with a "
            "recorded placement are in state-funded special schools and 6.7% in independent") in text
    assert ("DfE's own published percentages are of all 638,745 plans: 30.4% in special schools of any kind "
            "(state-funded, non-maintained and independent) and 3.0% with placement not recorded") in text
    assert "(Cambridgeshire and North East Lincolnshire) hold 9,990 plans" in text
    rec = placement25.tables["recording"].set_index("Basis")
    assert rec.loc["DfE's published percentage (special_total_pc)", "%"] == 30.4
    assert placement25.numbers["england_sen2_ehcp_state_special_pct_recorded"] == pytest.approx(159_852 / 619_406 * 100)
    top = placement25.tables["highest_place_state_special"]
    assert "Placement not recorded (%)" in top.columns
    # 2018/19: SEN2 had no "not recorded" category, so Part 4 says nothing of it
    assert "recording" not in parts["placement"].sections and "recording" not in parts["placement"].tables


def test_profile_shows_the_unrecorded_share(ed, ed25):
    from inclusion_index.report.profile.tables import indicator_table, indicator_view

    t = indicator_table(ed25, "336")
    assert round(t.attrs["unrecorded"], 1) == 26.2
    assert t.loc["State-funded special schools", "Note"].startswith("Placement not recorded for 26.2% of its EHC plans")
    assert round(t.loc["State-funded special schools", "Value"], 1) == 32.4
    caption = indicator_view(ed25, "336").caption
    assert ("SEN2 records no placement for 26.2% of this LA's EHC plans (England 3.0%); the placement shares are of "
            "the plans whose placement is recorded.") in caption
    assert "records no placement" not in indicator_view(ed, "873").caption  # 2018/19: no such category


# --------------------------------------------------------------------------- plain words (issue 13, problems 10 and 12)

READER_JARGON = ("φ", "overdispersion", "Breusch", "p-value", "p = ", "R²", "95% CI")


@pytest.mark.parametrize("name", ["exclusions", "assessment", "placement", "attainment", "conclusions"])
def test_reader_text_is_plain_and_the_statistics_sit_in_technical_notes(parts, name):
    p = parts[name]
    reader = {sec: ss for sec, ss in p.sections.items() if sec != "technical"}
    text = " ".join(s for ss in reader.values() for s in ss)
    assert not re.search(r"Across \d+ LAs, where", text)
    assert [w for w in READER_JARGON if w in text] == []
    tech = " ".join(p.sections.get("technical", []))
    assert "R²" in tech and "95% CI" in tech and "p = " in tech
    # the findings with no clear link are grouped: one sentence per predictor, not one per outcome
    for sec, ss in reader.items():
        unclear = [s.split(" shows no clear link")[0] + s.rpartition("comparing")[2] for s in ss if "no clear link" in s]
        assert len(unclear) == len(set(unclear)), (sec, unclear)


def test_attainment_findings_are_short_plain_sentences(ed25):
    p = series.attainment(ed25)
    models = p.sections["models"]
    n_terms = sum(len(m.x) for k, m in p.models.items() if not k.endswith("ks4share"))
    assert len(models) < n_terms  # 12 model terms, the unclear ones grouped
    assert any("no clear link" in s for s in models)
    assert any(s.startswith("Where child deprivation is higher") for s in models + p.sections["adjusted"])
    assert "IDACI +0.05" in " ".join(models)
    assert len(p.sections["technical"]) >= n_terms


def test_one_formatter_for_a_figure_in_text_and_table():
    v = pd.Series([0.08, 7.71, 3.0, 4.0])
    s = series.spread(v, pd.Series(["Newham", "York", "a", "b"]), "the share of plans", "%")
    html = series.style_table(pd.DataFrame({"Lowest": [0.08], "Highest": [7.71]})).to_html()
    assert "0.08% in Newham" in s["sentence"] and "7.7% in York" in s["sentence"]
    assert ">0.08<" in html and ">7.7<" in html
    # whole-number percentages: "about 13 times", not a false "13.0 times"
    s = series.spread(pd.Series([2.0, 26.0, 8.0, 9.0]), pd.Series(list("abcd")), "the share", "%")
    assert "about 13 times the lowest" in s["sentence"]


def test_placement_funnel_says_which_england_figure_is_which(placement25):
    notes = [v for k, v in placement25.labels.items() if k.startswith("funnel_") and k.endswith("_note")]
    assert notes and all("pooled from these LAs' counts" in n for n in notes)
    assert any("DfE's published England figure is" in n for n in notes)
    text = " ".join(placement25.text)
    assert "for want of" not in text and "this project's data" not in " ".join(placement25.sections["funnels"])


def test_part_5_heading_matches_its_navigation_and_technical_notes_follow_the_text():
    from inclusion_index.report.render import PARTS as NAV

    spec = importlib.util.spec_from_file_location("make_notebooks", REPO / "tools" / "make_notebooks.py")
    mk = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mk)
    nav = dict(NAV)
    for stem, cells in mk.NOTEBOOK_CELLS.items():
        if stem == "01_introduction":  # Part 1's heading names the index, its nav entry the part
            continue
        h1 = cells[0][1].splitlines()[0]
        assert h1.split(": ", 1)[1] == nav[stem].split(". ", 1)[1], (h1, nav[stem])
        heads = [c[1] for c in cells if c[0] == "md"]
        assert "## Technical notes" in heads
        cut = next(k for k, c in enumerate(cells) if c[0] == "md" and c[1] == "## Technical notes")
        before = " ".join(c[1] for c in cells[:cut] if c[0] == "code")
        assert "Ordinary least squares" not in before and "adjusted_model" not in before


def test_an_la_lowest_on_three_placement_shares_is_flagged_as_a_possible_recording_pattern(placement25, parts):
    # REVIEW_READERS 5: Newham is the lowest LA on both placement indicators and on plans with no school
    # place in 2024/25; a reporter should ask whether that is how it records placements
    b = placement25.frames["beyond"]
    assert b.loc[b["no_school_place_pct"].idxmin(), "la_name"] == "Newham"
    said = [s for s in placement25.sections["beyond"] if "lowest figure of any LA" in s]
    assert len(said) == 1 and said[0].startswith("Newham has the lowest figure of any LA on ")
    assert "records placements in its SEN2 return" in said[0] and "ask the LA" in said[0]
    # 2018/19: no LA is alone at the bottom of three shares, so no such sentence
    assert not [s for s in parts["placement"].sections.get("beyond", []) if "lowest figure of any LA" in s]
