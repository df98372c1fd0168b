"""explore.html, "Your own index" (issue 14 items 1 and 4): the ranks the page computes in the
browser equal Python's ranks_for_grades for every LA of both editions, under weightings set by
the URL fragment and by the keyboard; the page passes axe-core, works with the network cut and
asks for nothing but itself."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from inclusion_index.index.scoring import AREAS, rank_desc
from inclusion_index.index.weightings import ranks_for_grades
from inclusion_index.report import templates
from inclusion_index.report.explore import PAGE, write_explore
from inclusion_index.report.render import nav_html
from inclusion_index.report.templates import render_template

from .browser import axe_violations, chrome, network_cut_flags

EDITIONS = ("201819", "202425")
# one area alone, all equal, lopsided, a zero grade, the headline method (issue 14's contract)
WEIGHTINGS = [(0, 0, 0, 5), (1, 1, 1, 1), (5, 1, 0, 2), (3, 0, 4, 1), (2, 5, 2, 0), "indicators"]
MAX_BYTES = 150_000

ROWS_JS = ("return Array.from(document.querySelectorAll('#explore-table tr[data-la-code]'))"
           ".map(tr => [tr.dataset.laCode, tr.querySelector('td.rank').textContent]);")


def _fragment(w: tuple[int, ...] | str) -> str:
    return "#weights=" + (w if isinstance(w, str) else ",".join(map(str, w)))


def _expected(table: pd.DataFrame, w: tuple[int, ...] | str) -> dict[str, str]:
    """Every LA's rank cell as Python computes it: the rank, or a dash for an LA with none."""
    r = ranks_for_grades(table, w)
    return {str(c): ("–" if pd.isna(r.get(c, pd.NA)) else str(int(r[c]))) for c in table["la_code"].astype(str)}


def _page_ranks(driver) -> dict[str, str]:
    return dict(driver.execute_script(ROWS_JS))


def _wait_reranks(driver, before: int) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 10).until(lambda d: d.execute_script("return window.exploreTimings.length") > before)


@pytest.fixture(scope="module")
def pages(editions, tmp_path_factory) -> dict[str, tuple[pd.DataFrame, str]]:
    """explore.html of both editions, written into a temporary folder without a full render."""
    out = tmp_path_factory.mktemp("explore")
    return {y: (editions[y].score_table, write_explore(editions[y], out / y / PAGE).as_uri()) for y in EDITIONS}


@pytest.fixture(scope="module")
def offline():
    """One headless Chromium with the network cut, shared by this module's browser tests."""
    d = chrome(*network_cut_flags())
    try:
        yield d
    finally:
        d.quit()


# ---- the Python twin ------------------------------------------------------------------------

def test_ranks_for_grades_on_a_tiny_example():
    # A: 100 on exclusions only; B: 100 on assessment; C: 50 everywhere; D: attainment only;
    # E: unscored (no headline score), so never ranked
    t = pd.DataFrame({"la_code": list("ABCDE"), "overall_score": [60, 40, 50, 80, np.nan],
                      "exclusions_score": [100, 0, 50, np.nan, 90], "assessment_score": [0, 100, 50, np.nan, 90],
                      "placement_score": [0, 0, 50, np.nan, 90], "attainment_score": [0, 0, 50, 80, 90]})
    r = ranks_for_grades(t, (5, 0, 0, 0))  # D has no weighted area: no score, no rank
    assert r[["A", "B", "C"]].tolist() == [1, 3, 2]
    assert pd.isna(r["D"]) and "E" not in r.index
    # 1,1,0,0: A and B 50, C 50: a three-way tie shares the best rank
    assert ranks_for_grades(t, (1, 1, 0, 0)).dropna().tolist() == [1, 1, 1]
    # only proportions matter; "indicators" ranks the headline score
    assert ranks_for_grades(t, (1, 1, 1, 1)).equals(ranks_for_grades(t, (5, 5, 5, 5)))
    assert ranks_for_grades(t, "indicators").tolist() == [2, 4, 3, 1]
    assert ranks_for_grades(t, (0, 0, 0, 0)).isna().all()
    for bad in [(1, 2, 3), (6, 0, 0, 0), (1.5, 1, 1, 1), (-1, 1, 1, 1), "areas"]:
        with pytest.raises(ValueError):
            ranks_for_grades(t, bad)


@pytest.mark.parametrize("edition", EDITIONS)
def test_ranks_for_grades_agrees_with_the_score_table(editions, edition):
    t = editions[edition].score_table
    scored = t[t["overall_score"].notna()].set_index("la_code")
    head = ranks_for_grades(t, "indicators")
    assert head.equals(scored["overall_rank"].astype("Int64").rename("rank"))
    # one area alone is that area's own ranking, among the scored LAs
    for i, a in enumerate(AREAS):
        g = [0] * 4
        g[i] = 3
        assert ranks_for_grades(t, tuple(g)).equals(rank_desc(scored[f"{a}_score"]).rename("rank")), a
    # every rank lies within the best and worst rank the weightings step found for the LA
    for w in WEIGHTINGS[:-1]:
        r = ranks_for_grades(t, w)
        assert (scored["overall_rank_best_weights"] <= r).all() and (r <= scored["overall_rank_worst_weights"]).all()


def test_equal_area_weights_rank_differently_from_the_headline(editions):
    # issue 14 measured 0.71 on 2018/19: equal weight per area is a different index
    t = editions["201819"].score_table
    rho = stats.spearmanr(ranks_for_grades(t, (1, 1, 1, 1)), ranks_for_grades(t, "indicators")).statistic
    assert rho == pytest.approx(0.71, abs=0.01)


# ---- the page --------------------------------------------------------------------------------

def test_every_page_links_to_it():
    assert 'href="explore.html"' in nav_html("201819", "02_exclusions")
    assert '<strong aria-current="page">Your own index</strong>' in nav_html("201819", "explore")
    index = render_template("index.html", title="t", editions=[{"edition": "202425", "title": "x", "failed": "",
                            "parameters": {}, "year": "2024/25", "data_years": ""}], parts=[], extra_sections="", sources=[], method=None, coverage=None,
                            run_settings={}, version="v", now="now")
    assert 'href="202425/explore.html"' in index
    profile = Path(templates.__file__).with_name("profile.html").read_text(encoding="utf-8")
    assert 'href="../explore.html"' in profile


@pytest.mark.parametrize("edition", EDITIONS)
def test_the_page_is_small_and_self_contained(pages, edition):
    html = Path(urlparse(pages[edition][1]).path).read_text(encoding="utf-8")
    assert len(html.encode()) < MAX_BYTES
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing fetched from elsewhere
    assert "<link" not in html and "@import" not in html
    t = pages[edition][0]
    assert html.count("<tr data-la-code=") == len(t)
    assert "<caption>" in html and 'scope="col"' in html and 'aria-live="polite"' in html


@pytest.mark.parametrize("edition", EDITIONS)
def test_browser_ranks_equal_python_ranks(pages, offline, edition):
    table, url = pages[edition]
    d = offline
    d.get("about:blank")
    # the first weighting by loading the page, the others through the fragment (hashchange)
    d.get(url + _fragment(WEIGHTINGS[0]))
    assert _page_ranks(d) == _expected(table, WEIGHTINGS[0])
    for w in WEIGHTINGS[1:]:
        n = d.execute_script("return window.exploreTimings.length")
        d.execute_script("location.hash = arguments[0]", _fragment(w))
        _wait_reranks(d, n)
        assert _page_ranks(d) == _expected(table, w), w
        status = d.find_element("id", "explore-status").text
        assert ("headline method" in status) if w == "indicators" else ("your grades" in status)
    # the rows are in rank order and the chart has a dot per ranked LA
    ranks = [int(r) for r in _page_ranks(d).values() if r != "–"]
    assert ranks == sorted(ranks)
    assert len(d.find_elements("css selector", "#explore-chart circle[data-la-code]")) == len(ranks)
    # nothing but the page itself was requested, and it works with the network cut
    assert d.execute_script("return performance.getEntriesByType('resource').map(e => e.name)") == []
    timings = d.execute_script("return window.exploreTimings")
    print(f"{edition}: re-rank ms {[round(x, 1) for x in timings]}")
    assert max(timings[1:]) < 500


@pytest.mark.parametrize("edition", EDITIONS)
def test_keyboard_changes_the_weights_and_the_url(pages, offline, edition):
    from selenium.webdriver.common.keys import Keys

    table, url = pages[edition]
    d = offline
    d.get("about:blank")
    d.get(url + "#weights=1,1,1,1")
    slider = d.find_element("id", "grade-attainment")
    n = d.execute_script("return window.exploreTimings.length")
    slider.send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)
    _wait_reranks(d, n + 1)
    assert d.execute_script("return location.hash") == "#weights=1,1,1,3"
    assert d.find_element("id", "grade-attainment-value").text == "3"
    assert _page_ranks(d) == _expected(table, (1, 1, 1, 3))
    # Home takes exclusions to 0
    n = d.execute_script("return window.exploreTimings.length")
    d.find_element("id", "grade-exclusions").send_keys(Keys.HOME)
    _wait_reranks(d, n)
    assert d.execute_script("return location.hash") == "#weights=0,1,1,3"
    assert _page_ranks(d) == _expected(table, (0, 1, 1, 3))
    # the headline method by keyboard: Space on its radio button
    n = d.execute_script("return window.exploreTimings.length")
    d.find_element("id", "mode-indicators").send_keys(Keys.SPACE)
    _wait_reranks(d, n)
    assert d.execute_script("return location.hash") == "#weights=indicators"
    assert _page_ranks(d) == _expected(table, "indicators")
    # the search highlights one LA (found by its code: a name can be part of another's) and says its rank
    code, rank = table.sort_values("overall_rank").iloc[4][["la_code", "overall_rank"]]
    d.find_element("id", "explore-search").send_keys(str(code))
    row = d.find_element("css selector", f'tr[data-la-code="{code}"]')
    assert "hl" in row.get_attribute("class").split()
    assert d.find_elements("css selector", "tr.hl") == [row]
    assert f"ranked {int(rank)}." in d.find_element("id", "search-result").text


@pytest.mark.parametrize("edition", EDITIONS)
def test_no_accessibility_violation_above_minor(pages, offline, edition):
    d = offline
    d.get("about:blank")
    d.get(pages[edition][1] + "#weights=5,1,0,2")
    assert axe_violations(d, "moderate") == []


def test_a_bad_fragment_falls_back_to_the_headline_and_says_so(pages, offline):
    table, url = pages["202425"]
    offline.get("about:blank")
    offline.get(url + "#weights=9,9")
    assert _page_ranks(offline) == _expected(table, "indicators")
    assert "not understood" in offline.find_element("id", "explore-status").text
    offline.execute_script("location.hash = '#weights=0,0,0,0'")
    _wait_reranks(offline, 1)
    assert set(_page_ranks(offline).values()) == {"–"}
    assert "All four grades are 0" in offline.find_element("id", "explore-status").text
