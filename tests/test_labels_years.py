"""Issue 12 items 4-5: labels name the measure an edition uses, and data years travel with values.

On the real data: the 2024/25 edition's indicator 12 is the share of 16-17-year-olds with an EHC
plan who are NEET or whose activity is not known (the 2018/19 edition's is NEET among all young
people), its exclusions are sums of termly rates, and its 12 indicators rest on three data years
(4 from 2024/25, 5 from 2023/24, 3 from 2022/23), which every header, the findings and the
profiles must say rather than stamping "2024/25" on older data.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from inclusion_index.config import load_run_settings, parse_measure_labels
from inclusion_index.errors import ConfigError
from inclusion_index.index.indicators import data_years, labelled_for
from inclusion_index.sources.geography import year_label

from .conftest import full_edition

NEET_NK = "% of 16-17-year-olds with an EHC plan who are NEET or whose activity is not known"
NEET_NK_SHORT = "16-17 NEET or not known (EHC plan)"
YEAR = re.compile(r"\b\d{4}/\d{2}\b")


@pytest.fixture(scope="module")
def ed(data_dir):
    """The full 2024/25 edition (Monte Carlo, funnels, profiles' intervals): findings need them."""
    return full_edition("202425", data_dir)


@pytest.fixture(scope="module")
def ed_2019(editions):
    return editions["201819"]


# ---------------------------------------------------------------- the registry


def test_measure_labels_are_read_once_by_config():
    labels = load_run_settings().measure_labels
    assert labels["neet_nk_ehcp_pct"].name == NEET_NK
    assert labels["neet_nk_ehcp_pct"].short_name == NEET_NK_SHORT
    assert labels["lait_neet_all_pct"].short_name == "16-17 NEET (all young people)"
    assert "sum of" in labels["excl_fixed_rate_termsum_ehcp"].short_name
    assert "annual" in labels["excl_fixed_rate_ehcp"].short_name


def test_measure_labels_refuse_a_duplicate_or_unnamed_measure(tmp_path):
    p = tmp_path / "measure_labels.csv"
    p.write_text("measure,name,short_name,note\nm,A,a,\nm,B,b,\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="twice"):
        parse_measure_labels(p)
    p.write_text("measure,name,short_name,note\nm,A,,\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="without a name"):
        parse_measure_labels(p)


# ---------------------------------------------------------------- labels follow the measure used


def test_indicator_12_is_named_for_the_measure_each_edition_uses(ed, ed_2019):
    new = labelled_for(ed).set_index("indicator").loc["att_neet_1617"]
    old = labelled_for(ed_2019).set_index("indicator").loc["att_neet_1617"]
    assert (new["measure"], new["name"], new["short_name"]) == ("neet_nk_ehcp_pct", NEET_NK, NEET_NK_SHORT)
    assert (old["measure"], old["short_name"]) == ("lait_neet_all_pct", "16-17 NEET (all young people)")
    # exclusions: what each edition's values actually are
    ex_new = labelled_for(ed).set_index("indicator").loc["excl_fixed_ehcp"]
    ex_old = labelled_for(ed_2019).set_index("indicator").loc["excl_fixed_ehcp"]
    assert ex_new["measure"] == "excl_fixed_rate_annual_ehcp" and "annual rate" in ex_new["name"]  # rebuilt from termly counts
    assert ex_old["measure"] == "excl_fixed_rate_ehcp" and "annual rate" in ex_old["name"]


def test_a_measure_without_a_label_row_keeps_the_indicator_name_and_its_definition(ed):
    """A new measure (e.g. another helper's annual rate from termly counts) needs no text edits:
    it is named by indicators.csv and defined by the measures registry until it gets a row."""
    run = ed.run
    bare = type(run)(**{**vars(run), "measure_labels": {}})
    stub = type("Stub", (), {"run": bare, "values": ed.values, "indicators": ed.indicators,
                             "measures": ed.measures, "final_year": ed.final_year})()
    r = labelled_for(stub).set_index("indicator").loc["att_neet_1617"]
    assert r["short_name"] == ed.indicators.set_index("indicator").loc["att_neet_1617", "short_name"]
    assert r["note"].startswith("% of 16-17-year-olds with an EHC plan who are NEET")


def test_2024_25_dictionary_names_neet_or_not_known_with_unit_and_data_year(ed):
    from inclusion_index.index.edition import data_dictionary
    from inclusion_index.report.notes import score_table_text

    table = score_table_text(ed)
    d = data_dictionary(table, ed).set_index("column")["description"]
    assert NEET_NK in d["att_neet_1617_value"]
    assert "not in education, employment or training" not in d["att_neet_1617_value"]
    assert "Data year: 2024/25" in d["att_neet_1617_value"] and "Unit: %" in d["att_neet_1617_value"]
    assert "termly" in d["excl_fixed_ehcp_value"] and "Data year: 2023/24" in d["excl_fixed_ehcp_value"]
    assert "Data year: 2022/23" in d["att_ks2_read_prog_ehcp_value"]
    assert not d.str.contains("raw value").any()
    # the data year travels with each value as a column of the score table, equal to the values table's
    v = ed.values[ed.values["index_year"] == ed.final_year].set_index(["la_code", "indicator"])["data_year"]
    for i in ("att_neet_1617", "att_ks2_read_prog_ehcp", "excl_fixed_ehcp"):
        col = table.set_index("la_code")[f"{i}_data_year"].astype(str)
        assert (col == v.xs(i, level="indicator").reindex(col.index).astype(str)).all()


def test_part_1_table_and_a_profile_name_neet_or_not_known(ed):
    from inclusion_index.report.profile.tables import indicator_table
    from inclusion_index.report.profile.words import strengths_and_weaknesses
    from inclusion_index.report.series import introduction

    tab = introduction(ed).tables["indicators"].set_index("Indicator")
    assert tab.loc[NEET_NK_SHORT, "Measure"] == NEET_NK
    assert tab.loc[NEET_NK_SHORT, "Data year"] == "2024/25"
    assert "16-17 NEET" not in [x for x in tab.index if x != NEET_NK_SHORT]
    prof = indicator_table(ed, "857")  # Rutland
    assert NEET_NK_SHORT in prof.index and "16-17 NEET" not in prof.index
    assert prof.loc["KS2 reading progress", "Data year"] == "2022/23"
    # the strengths sentence gives each named indicator its own data year
    words = strengths_and_weaknesses(ed, "857")
    assert "2022/23 data" in words or "2023/24 data" in words


# ---------------------------------------------------------------- data years


def test_data_years_sentence_counts_match_the_values_table(ed, ed_2019):
    from inclusion_index.report.series import data_years_sentence, edition_header

    for e in (ed, ed_2019):
        v = e.values[e.values["index_year"] == e.final_year].drop_duplicates("indicator")
        counts = Counter(v["data_year"])
        groups = data_years(e)
        assert {dy: len(ii) for dy, ii in groups} == dict(counts)
        s = data_years_sentence(e)
        said = {m.group(2): int(m.group(1)) for m in re.finditer(r"(\d+) (?:of its \d+ indicators use data )?"
                                                                   r"from (\d{4}/\d{2})", s)}
        assert said == {year_label(k): n for k, n in counts.items()}, s
        assert s in edition_header(e).replace("\\", "")
    # the figures the review measured by hand for the 2024/25 edition
    assert data_years_sentence(ed).startswith("2024/25 edition: 4 of its 12 indicators use data from 2024/25")
    assert "5 from 2023/24" in data_years_sentence(ed) and "3 from 2022/23" in data_years_sentence(ed)


def test_index_page_says_which_data_years_an_edition_rests_on(ed, tmp_path):
    from inclusion_index.report.render import EditionRender, write_index
    from inclusion_index.report.series import data_years_sentence

    s = data_years_sentence(ed)
    page = write_index(tmp_path, [EditionRender("202425", {"final_year": "202425"})], [], {},
                       data_years={"202425": s}).read_text(encoding="utf-8")
    assert "4 of its 12 indicators use data from 2024/25" in page


def _stamped(text: str, name: str, edition_label: str) -> list[str]:
    """Clauses where ``name`` is followed, before the next ';' ':' or sentence end, first by
    the edition's year: an indicator stamped with a year that is not its data year."""
    out = []
    for m in re.finditer(re.escape(name.lower()), text.lower()):
        clause = re.split(r"[;:]|\. ", text[m.end():], maxsplit=1)[0]
        y = YEAR.search(clause)
        if y and y.group(0) == edition_label:
            out.append(f"{name}: {clause[:100]}")
    return out


def test_no_text_stamps_the_edition_year_on_older_data(ed):
    from inclusion_index.report.series import PARTS, findings, findings_markdown
    from inclusion_index.report.series.edition_facts import IndicatorFacts

    yl = year_label(ed.final_year)
    ind = IndicatorFacts(ed)
    older = [i for i in ind.t.index if ind.year(i) != ed.final_year]
    assert len(older) == 8  # 5 from 2023/24 and 3 from 2022/23
    items = findings(ed)
    texts = [f"{f.headline} {f.caveat}" for f in items]
    for key in ("introduction", "exclusions", "attainment", "conclusions"):
        part = PARTS[key](ed)
        texts += [t for ts in part.sections.values() for t in ts]
    bad = [c for t in texts for i in older for name in {ind.phrase(i), ind.short(i)} for c in _stamped(t, name, yl)]
    assert not bad, bad
    # every finding states its real data period in words; none is stamped with the edition's name
    md = findings_markdown(ed)
    assert "Years: 2024/25." not in md
    assert "4 of its 12 indicators use data from 2024/25" in md
    for f in items:
        assert f.data_period and f.data_period != yl, f.headline
    # the index-wide findings rest on all three data years, each named
    top = next(f for f in items if f.id == "overall_top")
    assert all(y in top.data_period for y in ("2022/23", "2023/24", "2024/25")), top.data_period
    # exam results are 2023/24 data: a finding on them never says 2024/25
    exams = [f for f in items if "GCSE" in f.headline or "Attainment 8" in f.headline]
    assert exams and all("2023/24" in f.data_period and "2024/25" not in f.data_period for f in exams), \
        [f.data_period for f in exams]
