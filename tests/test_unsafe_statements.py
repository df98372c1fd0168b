"""A journalist's check (issue 13, "Done when"): the three statements REVIEW_READERS.md flags as
unsafe cannot be drawn from a page without their caveat beside them.

1. Problem 1, small cohorts headlined: "Rutland ... Pulling up most: KS4 Attainment 8 (99)" from
   about 11 pupils.
2. Problem 7: "the overall score is 14.3 points above what LAs in a similar position score" on a
   model that explains about 2% of the variation between LAs.
3. Problem 5: "Sunderland -95 places" from the comparison CSV, across a change of measures.

Each test renders the words of the page as the reports do (templates and part sentences) from
the real 2024/25 edition, and looks for the caveat next to the statement.
"""

from __future__ import annotations

import re

import pytest

from inclusion_index.index.comparison import compare_editions, definition_changes
from inclusion_index.report import series
from inclusion_index.report.profile import words
from inclusion_index.report.render import comparison_html, findings_html

from .conftest import core_editions, full_edition

RUTLAND = "857"


@pytest.fixture(scope="module")
def ed25(data_dir):
    return full_edition("202425", data_dir)


def test_small_cohort_strengths_carry_their_caution(ed25):
    small = series.data_caveats(ed25, part="attainment")["small_cohorts"]
    assert "Rutland" in set(small["Local authority"])  # the review's case is still a small cohort
    text = words.strengths_and_weaknesses(ed25, RUTLAND)
    named = re.findall(r"(KS4 Attainment 8|KS2 writing progress) \(([^)]*)\)", text)
    assert named, text  # Rutland's small-cohort attainment scores are still among its extremes
    for name, inside in named:
        assert "caution: from about" in inside and "fewer than 30" in inside, (name, inside)
    # the attainment part's own caveats name the small cohort beside the figures
    cav = series.data_caveats(ed25, part="attainment")["text"]
    assert any("Fewer than 30 pupils" in s and "move a lot" in s for s in cav)


def test_adjusted_score_in_part_6_sits_beside_the_share_the_model_explains(ed25):
    adjusted = series.conclusions(ed25).markdown("adjusted")
    assert "furthest above expectation" in adjusted
    # in plain words (the R² itself is in the technical notes): "... together explain 2% of the differences"
    assert re.search(r"explains? \d+% of the differences in the overall score between LAs", adjusted), adjusted


def test_profile_adjusted_score_gives_the_share_the_model_explains(ed25):
    text = words.context_text(ed25, RUTLAND)
    assert "points above" in text
    assert re.search(r"explains (about )?\d+% of the", text), text


def test_cross_edition_rank_moves_carry_the_change_of_measures(data_dir, ed25):
    a = core_editions(data_dir)["201819"]  # scores and ranks are all it needs
    table = compare_editions(a, ed25)
    changes = definition_changes(a, ed25)
    assert {"16-17 NEET", "Permanent exclusions"} <= {c["name"] for c in changes}
    fall = table[table["note"].eq("")].sort_values("overall_rank_change").iloc[0]
    assert fall["overall_rank_change"] < -50  # the review's "Sunderland -95 places" kind of move
    assert "16-17 NEET" in fall["measures_changed"]  # the CSV marks it beside the move
    page = str(comparison_html(table, "compare.csv", changes))
    quoting = " ".join(page[page.index('id="quoting-across-editions"'):].split())
    assert f"Do not quote it as the LA's own change: not \"{fall['la_name']} fell " \
           f"{-int(fall['overall_rank_change'])} places\"" in quoting
    assert "mixes the change of measure with any real change" in quoting
    # findings.html's "What not to write" says the same
    f = series.build_findings(ed25)
    html = findings_html(f, "202425")
    dont = html[html.index('id="dont"'):html.index('id="sources"')]
    assert "Rank moves between editions" in dont and "measures_changed" in dont
