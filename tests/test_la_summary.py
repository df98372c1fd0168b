import pytest

from inclusion_index import la_summary as S
from inclusion_index.editions import load_edition
from inclusion_index.neighbours import statistical_neighbours


@pytest.fixture(scope="module")
def ed(data_dir, tmp_path_factory):
    return load_edition("201819", data_dir=data_dir, cache_dir=tmp_path_factory.mktemp("c"))


def test_headline_states_score_rank_and_its_range(ed):
    row = ed.score_table_cached().set_index("la_code").loc["886"]
    text = S.headline(ed, "886")
    assert text.startswith("# Kent")
    assert f"{row['overall_score']:.1f}" in text
    assert f"{int(row['overall_rank'])} of 150" in text
    assert f"plausible range {int(row['overall_rank_lo'])}–{int(row['overall_rank_hi'])}" in text


def test_indicator_table_and_strengths(ed):
    t = S.indicator_table(ed, "302")
    assert len(t) == 12 and set(t["Area"]) == {"Exclusions", "Assessment", "Placement", "Attainment"}
    assert t.loc["Fixed-period exclusions", "Note"].startswith("carried forward from 201617")
    best = t["Score (0-100)"].idxmax()
    assert best in S.strengths_and_weaknesses(ed, "302").split("**Weaknesses**")[0]


def test_neighbours_and_context(ed, data_dir):
    ns = statistical_neighbours("201819", la_codes=list(ed.geography["la_code"]), data_dir=data_dir)
    t = S.neighbour_table(ed, "302", ns)
    assert len(t) == 12  # Barnet, ten neighbours, their mean
    assert "of 11" in S.neighbour_text(ed, "302", ns)
    assert "beside the raw score" in S.context_text(ed, "302")


def test_unknown_la_is_a_clear_error(ed):
    with pytest.raises(KeyError, match="not in edition 201819"):
        S.headline(ed, "201")
