import dataclasses
import html
import re

import numpy as np
import pandas as pd
import pytest

from inclusion_index.config import MiddleBands
from inclusion_index.report import profile as S
from inclusion_index.report.series.text import ordinal

from .conftest import full_edition

# LAs the reader review named (missing England figures, a missing placement split, City of
# London as a neighbour, a change on a different basis from the trend) and a few ordinary ones
SAMPLE = {"201819": ["207", "837", "302", "886", "213"], "202425": ["812", "873", "940", "942", "213"]}
RAW_MISSING = re.compile(r"\b[Nn][Aa][Nn]\b|<NA>|&lt;NA&gt;|\bNone\b|\bNaT\b")


@pytest.fixture(scope="module")
def ed(data_dir):
    return full_edition("201819", data_dir)


@pytest.fixture(scope="module")
def ed25(data_dir):
    return full_edition("202425", data_dir)


@pytest.fixture(scope="module")
def editions(ed, ed25):
    return {"201819": ed, "202425": ed25}


def _visible(html_text: str) -> str:
    """What a reader sees of an HTML fragment: no styles, no tags, entities decoded."""
    t = re.sub(r"<style.*?</style>", " ", html_text, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", t))


def test_headline_states_score_rank_and_its_range(ed):
    row = ed.score_table.set_index("la_code").loc["886"]
    text = S.headline(ed, "886")
    assert text.startswith("# Kent")
    assert f"{row['overall_score']:.1f}" in text
    assert f"{int(row['overall_rank'])} of 150" in text
    assert f"90% range {int(row['overall_rank_lo'])}–{int(row['overall_rank_hi'])}" in text
    # a score, not a percentage, said at first mention; 50 is the middle LA (not an average)
    assert "not a percentage: 50 is the middle LA on each indicator, and the middle LA's overall score is " in text
    assert "average 50" not in text and "out of 100" not in text


def test_indicator_table_and_strengths(ed):
    t = S.indicator_table(ed, "302")
    assert len(t) == 12 and set(t["Area"]) == {"Exclusions", "Assessment", "Placement", "Attainment"}
    # year keys become labels, and a year missing here is not called unpublished (indicators.py's
    # wording is rewritten if it still says so)
    note = t.loc["Fixed-period exclusions (annual rate)", "Note"]
    assert note.startswith("Carried forward from 2016/17 (") and "2017/18" in note
    assert "this project" in note and "not published" not in note
    best = t["Score (0-100)"].idxmax()
    assert best in S.strengths_and_weaknesses(ed, "302").split("**Pulling down most**")[0]


def test_reader_note_labels_years_in_sentence_case():
    assert S.reader_note("change from 202223") == "Change from 2022/23"
    assert S.reader_note(np.nan) == "" and S.reader_note(None) == ""


def test_effect_labels_compare_with_the_middle_la_not_the_las_own_score():
    bands = MiddleBands()
    scores = [100, 60, 59.9, 50.3, 40.1, 40, 0, np.nan]
    assert [bands.label(s) for s in scores] == [
        "above the middle", "above the middle", "near the middle", "near the middle", "near the middle",
        "below the middle", "below the middle", S.MISSING]
    strict = MiddleBands(above=75, below=25)
    assert [strict.label(s) for s in (74, 75, 25, 26)] == [
        "near the middle", "above the middle", "below the middle", "near the middle"]
    words = bands.explanation()
    assert "60 or more" in words and "40 or less" in words and "50" in words


def test_effect_column_follows_the_bands_whatever_the_overall_score(ed25):
    # North East Lincolnshire: KS4 Attainment 8 equals England's, score about 50, overall about 60;
    # the old rule (own overall ±10) called it a drag
    t = S.indicator_table(ed25, "812")
    assert t.loc["KS4 Attainment 8", "Against the middle LA"] == "near the middle"
    for _, row in t.iterrows():
        assert row["Against the middle LA"] == ed25.run.middle_bands.label(row["Score (0-100)"])
    strict = S.indicator_table(ed25, "812", MiddleBands(above=95, below=5))
    assert (strict["Against the middle LA"] == "above the middle").sum() < (
        t["Against the middle LA"] == "above the middle").sum()


def test_pull_up_and_down_are_relative_to_the_las_own_average(ed25):
    t = S.indicator_table(ed25, "940").dropna(subset=["Score (0-100)"])
    overall = ed25.score_table.set_index("la_code").at["940", "overall_score"]
    text = S.strengths_and_weaknesses(ed25, "940")
    assert f"({overall:.1f}) is the average of this LA's {len(t)} indicator scores" in text
    up, down = text.split("**Pulling down most**")
    for name, score in t["Score (0-100)"].items():
        if f"{name} ({score:.0f})" in up:
            assert score > overall
        if f"{name} ({score:.0f})" in down:
            assert score < overall


def test_change_sentence_states_its_basis_and_uncertainty(ed):
    # Bournemouth 2018/19: the like-for-like change uses fewer indicators than the trend table
    text = S.change_text(ed, "837")
    common = ed.improvement.attrs["indicators_compared"]
    row = ed.score_table.set_index("la_code").loc["837"]
    assert len(common) < len(ed.headline().available)
    assert f"on only the {len(common)} indicators available in both years" in text
    assert "2016/17 and 2018/19" in text
    assert f"from {row['overall_change_score_from']:.1f} to {row['overall_change_score_to']:.1f}" in text
    assert f"{S.words._signed(row['overall_change_lo'])} to {S.words._signed(row['overall_change_hi'])} points" in text
    assert "trend table below" in text
    # Bournemouth lacks the KS2 expected standard in 2016/17: not like for like for this LA
    lacks = S.words._lacking(ed, "837", common, ed.years[0])
    assert lacks == ["KS2 expected standard (RWM)"] and not S.words._lacking(ed, "837", common, ed.final_year)
    assert "like for like" not in text and "on the same indicators for every LA" in text
    assert f"no value for 1 of them in 2016/17 ({lacks[0]})" in text
    assert f"{len(common) - 1} in 2016/17 and {len(common)} in 2018/19, of {len(common)}" in text
    assert "less certain" in text
    assert "like for like" in S.change_text(ed, "207")  # Kensington has every common indicator in both years
    assert text in S.headline(ed, "837")
    assert f"on only the {len(common)} indicators available in both" in S.trend_text(ed, "837")


def test_change_bounds_never_read_minus_zero():
    assert [S.words._signed(x) for x in (-8.64, -0.04, -0.004, 0.004, 0.0, -0.0, 0.3)] == [
        "-8.6", "-0.04", "just below 0", "just above 0", "0.0", "0.0", "+0.3"]


def test_change_sentence_on_the_same_indicators_says_it_matches_the_trend(ed25):
    text = S.change_text(ed25, "812")
    n = len(ed25.improvement.attrs["indicators_compared"])
    assert f"same {n} indicators for every LA" in text and "matches the trend table" in text
    assert "2022/23" in text
    # the placement split is missing for this LA in the final year: said plainly, with what it means
    lacks = S.words._lacking(ed25, "812", ed25.improvement.attrs["indicators_compared"], ed25.final_year)
    assert lacks == ["State-funded special schools", "Independent and non-maintained schools"]
    assert f"no value for 2 of them in 2024/25 ({', '.join(lacks)})" in text
    assert f"({n} in 2022/23 and {n - 2} in 2024/25, of {n})" in text and "less certain" in text
    assert "own values differ" not in S.change_text(ed25, "940")  # a value for every indicator in both years


def test_ranks_always_carry_their_range_or_are_left_out(ed, data_dir):
    t = S.neighbour_table(ed, "207")
    assert len(t) == 12  # the LA, ten neighbours, their mean
    view = S.neighbour_view(ed, "207").data
    ranks = view["Overall rank (90% range)"]
    assert ranks.str.fullmatch(r"\d+ \(\d+–\d+\)|not ranked|–").all()
    assert ranks[view["Local authority"] == "City of London"].tolist() == ["not ranked"]
    assert ranks.iloc[-1] == S.MISSING  # the neighbours' mean has no rank
    row = ed.score_table.set_index("la_code").loc["207"]
    assert ranks.iloc[0] == f"{int(row['overall_rank'])} ({int(row['overall_rank_lo'])}–{int(row['overall_rank_hi'])})"
    assert not any("rank" in c.lower() for c in S.trend_table(ed, "207").columns)
    assert "It shows scores, not ranks: only the 2018/19 rank" in S.trend_text(ed, "207")


def test_neighbour_text_names_the_dfe_model_in_words(ed, data_dir):
    text = S.neighbour_text(ed, "302")
    assert "of 11" in text
    assert "statistical neighbour model, April 2021 release" in text and "sn_2021" not in text
    assert "beside the raw score" in S.context_text(ed, "302")


def test_context_sentence_names_the_fitted_models_covariates(ed25):
    from inclusion_index.index.indicators import labels_for

    fit = ed25.adjustment.fits["overall"]
    assert fit.covariates == ["idaci", "ehcp_pct_pupils"]  # data/registry/adjustment.yml
    text = S.context_text(ed25, "812")
    assert text.startswith(f"Allowing for {' and '.join(labels_for('covariate')[c] for c in fit.covariates)}, ")
    assert "caseload" not in text
    adj = ed25.score_table.set_index("la_code").at["812", "overall_adjusted_score"]
    assert f"**{abs(adj):.1f} points {'above' if adj > 0 else 'below'}**" in text


@pytest.mark.parametrize("edition", ["201819", "202425"])
def test_no_raw_missing_values_anywhere_in_a_profile(editions, edition, data_dir):
    ed = editions[edition]
    for code in SAMPLE[edition]:
        parts = [S.headline(ed, code), S.context_text(ed, code), S.neighbour_text(ed, code),
                 S.strengths_and_weaknesses(ed, code), S.trend_text(ed, code), S.plot_national(ed, code).alt]
        for view in (S.area_view(ed, code), S.neighbour_view(ed, code), S.indicator_view(ed, code),
                     S.trend_view(ed, code)):
            parts.append(_visible(view.to_html()))
        text = "\n".join(parts)
        assert not RAW_MISSING.search(text), (code, RAW_MISSING.search(text))
        assert not re.search(r"\b20\d\d(\d\d)\b", text), (code, "raw year key")


def test_missing_england_figure_and_placement_are_explained(ed25):
    view = S.indicator_view(ed25, "812")
    data = view.data.set_index("Indicator")
    # no published England exclusion figure: the pooled one, as in the series parts

    # named for the 2024/25 measure (sums of termly rates), not the 2018/19 annual rates
    for name, code in (("Suspensions (annual rate)", "excl_fixed_ehcp"),
                       ("Permanent exclusions (annual rate)", "excl_perm_ehcp")):
        f = ed25.funnel(code)
        assert np.isnan(f.attrs["england_published"])
        # DfE's 2 dp for exclusion rates (england_decimals.csv), the precision the parts quote
        assert data.loc[name, "England"] == f"{f.attrs['target']:.2f} (pooled from LA figures)"
    assert data.loc["Suspensions (annual rate)", "England"] == "25.62 (pooled from LA figures)"  # as the parts
    assert ("England pooled from LA figures (Suspensions (annual rate), Permanent exclusions (annual rate))"
            in view.caption)
    assert "published figure is not in this project's data" in view.caption
    table = S.indicator_table(ed25, "812")
    assert table.loc["EHC plan share of SEN pupils", "England basis"] == "published"
    area = S.area_view(ed25, "812")
    placement = area.data.set_index("Area").loc["Placement"]
    assert placement["Rank (90% range)"] == S.NOT_RANKED and pd.isna(placement["Score (0-100)"])
    assert "Placement: no score or rank" in area.caption
    assert ">–<" in area.to_html()  # the missing score shows as a dash


def test_tables_escape_names_and_hide_the_index_name_row(ed):
    sty = S.tables._styled(pd.DataFrame({"Local authority": ["<script>x</script>"], "Score": [1.0]}).set_index(
        "Local authority"), uid="t")
    out = sty.to_html()
    assert "<script>x" not in out and "&lt;script&gt;x" in out
    assert out.count("<tr>") == 2  # one header row (no index-name row), one data row
    trend = S.trend_view(ed, "302").to_html()
    assert re.search(r">\s*12\s*<", trend) and not re.search(r">\s*12\.0\s*<", trend)  # counts as integers


def test_national_chart_marks_the_la_and_its_rank_range(ed25):
    row = ed25.score_table.set_index("la_code").loc["940"]
    chart = S.plot_national(ed25, "940")
    assert chart.svg.startswith('<figure class="chart" id="chart-national">') and 'role="img"' in chart.svg
    n = int(ed25.score_table["overall_score"].notna().sum())
    assert chart.alt == (f"Overall scores of all {n} ranked LAs in 2024/25, highest first, with North "
                         f"Northamptonshire highlighted: {row['overall_score']:.1f}, "
                         f"{ordinal(int(row['overall_rank']))} ({ed25.monte_carlo_settings().interval:.0%} range {ordinal(int(row['overall_rank_lo']))} "
                         f"to {ordinal(int(row['overall_rank_hi']))}).")
    assert '-desc">Overall scores of all' in chart._repr_html_()
    # another LA's chart differs, the same LA's is identical
    assert S.plot_national(ed25, "812").svg != chart.svg
    assert S.plot_national(ed25, "940").svg == chart.svg


def test_an_unscored_la_reads_in_words(ed):
    # no LA is unscored in the rendered editions, so make one: Barnet without scores
    t = ed.score_table.set_index("la_code").copy()
    t.loc["302", ["scored", "overall_score", "overall_rank", "overall_rank_lo", "overall_rank_hi"]] = [
        False, np.nan, pd.NA, pd.NA, pd.NA]
    # the reasons come from the scoring's flags and the cell's note columns, as in a real build
    scores = ed.headline().scores.copy()
    scores.loc["302", "flags"] = "too few indicators (8 of 11)"
    v = ed.values.copy()
    cell = (v["index_year"] == ed.final_year) & (v["la_code"] == "302") & (v["indicator"] == "place_state_special")
    v.loc[cell, ["value", "missing_reason"]] = [np.nan, "not_in_source"]
    fake = dataclasses.replace(ed, score_table=t.reset_index(), scores_by_la=t, values=v, scored={
        **ed.scored, ed.final_year: dataclasses.replace(ed.headline(), scores=scores)})
    text = S.headline(fake, "302")
    assert "Barnet has no overall score in 2018/19: Too few indicators (8 of 11); State-funded special schools" \
        in text
    chart = S.plot_national(fake, "302")
    assert "Barnet has no overall score in 2018/19" in chart.alt and f"all {int(t['overall_score'].notna().sum())} " \
        in chart.alt
    assert not RAW_MISSING.search(text + chart.alt)


def test_unknown_la_is_a_clear_error(ed):
    with pytest.raises(KeyError, match="not in edition 201819"):
        S.headline(ed, "201")


def test_search_keys_ignore_punctuation_and_include_the_code():
    from inclusion_index.report.profiles import search_box_html, search_key

    assert search_key("St. Helens", "342") == "st helens 342"
    assert search_key("Brighton & Hove", "846") == "brighton and hove 846"
    assert search_key("Stoke-on-Trent", "861") == "stoke on trent 861"
    assert search_key("Saint Helens", "342", ["X-Y"]) == "st helens x y 342"
    box = search_box_html({"201819": [("342", "St. Helens"), ("999", "<b>Evil</b>")]})
    assert 'data-key="st helens 342"' in box and '201819/la/342.html" aria-label="St. Helens, 2018/19 profile"' in box
    assert "<b>Evil</b>" not in box and "&lt;b&gt;Evil&lt;/b&gt;" in box
    assert 'id="la-none"' in box


def test_indicator_values_carry_their_exact_interval_and_pupils(ed2019_for_ci):
    ed = ed2019_for_ci
    t = S.indicator_table(ed, "857")  # Rutland: 6 KS2 pupils with an EHC plan
    ks2 = t.loc["KS2 expected standard (RWM)"]
    assert ks2["Value"] == 0 and ks2["Pupils"] == 6 and bool(ks2["Pupils estimated"])
    # Clopper-Pearson 95% upper limit for 0 of 6 is 1 - 0.025 ** (1 / 6) = 45.9%
    assert ks2["95% interval high"] == pytest.approx(100 * (1 - 0.025 ** (1 / 6)), rel=1e-6)
    have = t.dropna(subset=["95% interval low"])
    assert ((have["95% interval low"] <= have["Value"]) & (have["Value"] <= have["95% interval high"])).all()
    assert pd.isna(t.loc["EHC plan share of SEN pupils", "95% interval low"])  # no pupil count: no interval
    html_ = S.indicator_view(ed, "857").to_html()
    assert "0 to 46" in html_ and "≈6" in html_ and "Pupils ≈" in html_  # KS2 shares are published as whole %


@pytest.fixture(scope="module")
def ed2019_for_ci(data_dir):
    return full_edition("201819", data_dir)


def test_indicator_and_trend_charts_carry_alt_text_from_their_data(ed25):
    t = S.indicator_table(ed25, "812")
    chart = S.plot_indicator_scores(ed25, "812")
    assert '-desc">Bar chart of North East Lincolnshire' in chart._repr_html_()
    for name, score in t["Score (0-100)"].items():  # each bar names its data year
        year = t.loc[name, "Data year"] or "no data"
        assert f"{name} ({year}) {'no score' if pd.isna(score) else f'{score:.0f}'}" in chart.alt
    year = t.loc["State-funded special schools", "Data year"] or "no data"
    assert f"Placement: State-funded special schools ({year}) no score" in chart.alt
    trend = S.trend_table(ed25, "812")
    alt = S.plot_trend(ed25, "812").alt
    assert alt.startswith("Line chart of North East Lincolnshire's overall and area scores (0 to 100) in "
                          "2022/23, 2023/24, 2024/25: ")
    assert "Overall " + ", ".join(f"{x:.1f}" for x in trend["Overall score"]) in alt
    assert alt.count("no score") == int(trend["Placement score"].isna().sum()) == 1


def test_notes_say_what_is_filled_in_and_name_this_las_imputed_values(ed, ed25):
    v = ed.values[(ed.values["index_year"] == ed.final_year) & (ed.values["la_code"] == "207")]
    assert v.loc[v["imputed_count"].notna(), "indicator"].tolist() == ["excl_perm_ehcp"]
    notes = S.notes_text(ed, "207")
    assert "never filled in" not in notes
    assert 'a count DfE published only as "1 or 2 exclusions" is imputed as 1.5' in notes
    assert "This LA has 1 imputed value in 2018/19: Permanent exclusions (annual rate)." in notes
    assert "This LA has no imputed value in 2018/19." in S.notes_text(ed, "837")
    assert "No LA's 2024/25 value needed imputing." in S.notes_text(ed25, "812")
    view = S.indicator_view(ed, "207")
    note = view.data.set_index("Indicator").loc["Permanent exclusions (annual rate)", "Note"]
    assert note.endswith('imputed as 1.5 (DfE published the count only as "1 or 2 exclusions")')
    assert 'Imputed (Permanent exclusions (annual rate)): DfE published this LA\'s count only as "1 or 2 exclusions"' in view.caption
    assert "Imputed (" not in S.indicator_view(ed, "837").caption


def test_neighbours_average_is_labelled_plainly_and_weights_explained_only_when_uneven(ed, ed25, data_dir):
    view = S.neighbour_view(ed25, "812")
    assert view.data["Local authority"].iloc[-1] == "Neighbours' average" and not view.caption
    assert "neighbours' average of" in S.neighbour_text(ed25, "812")
    # Bedford: Northamptonshire stands in for both its successors, so it fills two slots
    weights = ed.neighbours.table[ed.neighbours.table["la_code"] == "822"].groupby("neighbour_code")["weight"].sum()
    assert weights["928"] == 2 and (weights.drop("928") == 1).all()
    cap = S.neighbour_view(ed, "822").caption
    assert "1 for all but Northamptonshire 2" in cap
    # Bournemouth's neighbours come from the old councils' list: said without the file's jargon
    bournemouth = S.neighbour_view(ed, "837")
    assert "before the 2019 boundary change" in bournemouth.caption
    assert "Old SNs" not in bournemouth.to_html() and "the file" not in bournemouth.to_html()


def test_small_cohorts_and_chance_values_are_never_named_without_a_caution(ed, ed25):
    # Rutland (857): KS4 from about 11 pupils, KS2 from about 14; permanent exclusions about 1
    # exclusion, its 95% interval (0.02 to 2.50 per 100) containing the middle LA's rate
    t = S.indicator_table(ed25, "857")
    assert t.loc["KS4 Attainment 8", "Small cohort"] and t.loc["Permanent exclusions (annual rate)",
                                                                 "Contains the middle LA"]
    words = S.strengths_and_weaknesses(ed25, "857")
    assert "KS4 Attainment 8 (99, 2023/24 data; caution: from about 11 pupils, fewer than 30)" in words
    assert re.search(r"Permanent exclusions \(annual rate\) \(\d+, 2023/24 data; caution: its 95% interval includes "
                     r"the middle LA's value\)", words), words
    view = S.indicator_view(ed25, "857").to_html()
    assert "Caution" in view and "fewer than 30" in view
    for e in (ed, ed25):
        for code in e.geography["la_code"]:
            t = S.indicator_table(e, code)
            words = S.strengths_and_weaknesses(e, code)
            for name, row in t.dropna(subset=["Score (0-100)"]).iterrows():
                named = re.findall(rf"{re.escape(str(name))} \(\d+(?:, \d{{4}}/\d{{2}} data)?(;[^)]*)?\)", words)
                risky = row["Small cohort"] or row["Contains the middle LA"]
                assert all(("caution" in n) == risky for n in named), (e.final_year, code, name, named)


def test_profiles_link_the_other_edition_and_name_boundary_changes(ed, ed25):
    assert S.other_editions_text(ed, "886").startswith("[This LA in the 2024/25 edition](../../202425/la/886.html).")
    assert S.other_editions_text(ed, "928").startswith(
        "Northamptonshire was replaced by [North Northamptonshire](../../202425/la/940.html) and "
        "[West Northamptonshire](../../202425/la/941.html) in a boundary change; their profiles are in the "
        "2024/25 edition.")
    assert "formed from [Northamptonshire](../../201819/la/928.html)" in S.other_editions_text(ed25, "940")
    view = S.neighbour_view(ed25, "886").to_html()
    assert '<a href="881.html">Essex</a>' in view and 'href="886.html"' not in view  # neighbours, not itself


# ---------------------------------------------------------------- issue 13: the reader review's profile problems


def test_assessment_says_why_better_if_lower_and_that_it_is_contested(ed, ed25):
    # Tower Hamlets ranks 2nd overall with an assessment score of 0: the reason sits beside it
    words = S.strengths_and_weaknesses(ed25, "211")
    t = S.indicator_table(ed25, "211").loc["EHC plan share of SEN pupils"]
    assert t["Better if"] == "lower" and t["Score (0-100)"] == 0
    assert 'Why "better if lower" for EHC plan share of SEN pupils.' in words
    assert "counterweight" in words and "contested" in words and "(../03_assessment.html)" in words
    assert f"The share in Tower Hamlets is {t['Value']:.1f}% (England {t['England']:.1f}%), which scores 0." in words
    assert "contested" in S.indicator_view(ed25, "211").caption
    for e, code in ((ed, "857"), (ed25, "857"), (ed, "928")):  # on every profile, whatever the score
        assert S.strengths_and_weaknesses(e, code).count("counterweight") == 1


def test_context_adjustment_quotes_how_little_its_model_explains(ed, ed25):
    for e in (ed, ed25):
        fit = e.adjustment.fits["overall"]
        text = S.context_text(e, "857")
        pct = round(fit.r2 * 100)
        assert (f"explains {pct}% of the differences" if pct >= 1 else "explains less than 1% of the differences") in text
        row = e.score_table.set_index("la_code").loc["857"]
        gap = row["overall_score"] - fit.expected.mean()
        assert f"here {S.words._signed(gap)} points against the adjusted {S.words._signed(row['overall_adjusted_score'])}" in text
    assert "explains 2% of the differences between councils" in S.context_text(ed25, "857")  # Part 6's R² 0.02


def test_england_figures_are_quoted_as_the_series_quotes_them(ed, ed25):
    from inclusion_index.report.series.edition_facts import IndicatorFacts

    for e in (ed, ed25):
        facts, view = IndicatorFacts(e), S.indicator_view(e, "857").data.set_index("Indicator")
        for ind, name in S.words.short_names(e).items():
            number = view.loc[name, "England"].split(" (")[0]
            assert f"England {number}" in facts.england_text(ind, e.value_decimals.get(ind, 2)), (ind, number)
    view = S.indicator_view(ed25, "857").data.set_index("Indicator")["England"]
    assert view["Suspensions (annual rate)"] == "25.62 (pooled from LA figures)" and view["KS2 reading progress"] == "-4.36"


def test_trend_and_change_say_which_score_and_rank_is_which(ed, ed25):
    # Rutland 2024/25: the change names places, so the trend text must not say ranks exist only for 2024/25
    assert "moved down 5 places, from 18th to 23rd" in S.change_text(ed25, "857")
    trend = S.trend_text(ed25, "857")
    assert "Ranks are given only" not in trend and "ranks within that comparison" in trend
    # Northamptonshire 2018/19: the like-for-like, headline and trend-table scores are each named
    row, t = ed.score_table.set_index("la_code").loc["928"], S.trend_table(ed, "928")["Overall score"]
    text = S.change_text(ed, "928")
    assert (f"So 2018/19 has two scores on this page: {row['overall_change_score_to']:.1f} here, on the 8 shared "
            f"indicators, and {row['overall_score']:.1f}, {ordinal(int(row['overall_rank']))} in the headline") in text
    assert f"(2016/17 {t['2016/17']:.1f}, 2018/19 {t['2018/19']:.1f})" in text


def test_profiles_name_the_measures_that_changed_between_editions(ed, ed25):
    later, earlier = S.other_editions_text(ed25, "857"), S.other_editions_text(ed, "928")
    for text in (later, earlier):
        assert "5 of the indicators are measured differently" in text
        assert '"% of 16-17-year-olds not in education, employment or training (all young people)"' in text  # NEET
        assert '"% of 16-17-year-olds with an EHC plan who are NEET or whose activity is not known"' in text
        assert "rebuilt from DfE&#39;s termly rates" in text  # exclusion rates' basis
        assert '"% of EHC plans with a recorded placement that are in state-funded special schools"' in text
        assert "(all plans maintained by the LA)" in text  # placement denominator
        assert "EHC plan share" not in text and "KS4" not in text  # unchanged measures are not listed
    assert "in the 2018/19 edition;" in later and "in the 2024/25 edition;" in earlier
    assert "West Northamptonshire" in earlier


def test_area_colours_are_not_red_or_green_and_stand_out_from_white():
    import colorsys

    from inclusion_index.report.profile.charts import AREA_COLOURS, AREA_MARKS

    def luminance(hex_: str) -> float:
        c = [int(hex_[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        c = [x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    for area, colour in AREA_COLOURS.items():
        h, _lightness, sat = colorsys.rgb_to_hls(*(int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)))
        hue = h * 360
        assert sat < 0.15 or not (hue < 25 or hue > 335 or 75 < hue < 165), (area, colour)  # no red, no green
        assert 1.05 / (luminance(colour) + 0.05) >= 3, (area, colour)  # WCAG 1.4.11 against white
    assert len({m for m in AREA_MARKS.values()}) == len(AREA_MARKS)  # a hatch and line style per area too


def test_city_of_london_and_scilly_are_not_scored_so_get_no_profile(ed, ed25):
    for e in (ed, ed25):
        assert not {"201", "906"} & set(e.score_table["la_code"])
        with pytest.raises(KeyError, match="not ranked"):
            S.headline(e, "201")
