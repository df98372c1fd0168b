"""LA profile pages as report/profiles.py renders them, read as a reader would: no raw
missing values, no internal codes, every rank with its range, and the national chart present."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from inclusion_index.index.build import read_edition
from inclusion_index.report.profiles import profile_pool, render_profiles, start_profiles

from .conftest import edition_path

# the LAs the reader review named, per edition
LAS = {"201819": ["207", "837"], "202425": ["812", "857", "873", "940"]}


def _text(page: str) -> str:
    """The page's visible text; inline tags join their neighbours, block tags separate them."""
    t = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S)
    t = re.sub(r"</?(strong|em|code|a|span)\b[^>]*>", "", t)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", t)))


@pytest.fixture(scope="module")
def pages(data_dir, cache_dir, tmp_path_factory) -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INCLUSION_CACHE_DIR", str(cache_dir))  # the kernels find the editions built here
        for edition, codes in LAS.items():
            file = edition_path(edition, data_dir)  # edition_file's, as the pipeline hands it over
            ed = read_edition(file)
            names = dict(zip(ed.geography["la_code"], ed.geography["la_name"], strict=True))
            dest = tmp_path_factory.mktemp(f"la{edition}")
            las = [(c, names[c]) for c in codes]
            res = render_profiles(edition, las, years=len(ed.years), data_dir=data_dir, out_dir=dest, workers=1,
                                  log=lambda s: None, edition_file=file)
            assert res.pages == len(codes) and not res.failures and not res.kept
            again = render_profiles(edition, las, years=len(ed.years), data_dir=data_dir, out_dir=dest, workers=1,
                                    log=lambda s: None, edition_file=file)
            assert again.kept and again.pages == len(codes)  # nothing changed: the pages are kept
            for c in codes:
                out[(edition, c)] = (Path(dest) / f"{c}.html").read_text(encoding="utf-8")
    return out


def test_pages_queued_in_a_shared_pool_are_the_same_and_can_be_thrown_away(pages, data_dir, tmp_path):
    # the pipeline queues the pages in a pool forked before the notebook kernels start
    file = edition_path("202425", data_dir)
    ed = read_edition(file)
    names = dict(zip(ed.geography["la_code"], ed.geography["la_name"], strict=True))
    las = [(c, names[c]) for c in LAS["202425"]]
    kw = {"years": len(ed.years), "data_dir": data_dir, "workers": 2, "log": lambda s: None, "edition_file": file,
          "ed": ed, "rerun": True}
    pool = profile_pool({"202425": ed}, 2)
    try:
        res = start_profiles("202425", las, out_dir=tmp_path / "e" / "la", pool=pool, staging=tmp_path / ".s1", **kw)()
        dropped = start_profiles("202425", las, out_dir=tmp_path / "x" / "la", pool=pool, staging=tmp_path / ".s2",
                                 **kw)(keep=False)
    finally:
        pool.shutdown()
    assert res.pages == dropped.pages == len(las) and not res.failures
    for c, _ in las:
        assert (tmp_path / "e" / "la" / f"{c}.html").read_text(encoding="utf-8") == pages[("202425", c)]
    assert not any((tmp_path / d).exists() for d in (".s1", ".s2", "x"))


def test_no_raw_missing_value_or_code_on_any_page(pages):
    for (edition, code), page in pages.items():
        text = _text(page)
        for bad in (r"\bNaN\b", r"\bnan\b", r"<NA>", r"\bNone\b", r"sn_20\d\d", r"\b20\d\d\d\d\b", r"\.\.\.$"):
            assert not re.search(bad, text), (edition, code, bad, re.search(bad, text))
        assert "Traceback" not in page and " ," not in text


def test_every_rank_on_the_page_carries_its_range(pages):
    for (edition, code), page in pages.items():
        cells = re.findall(r"<td[^>]*>([^<]*)</td>", page)
        ranks = [c.strip() for c in cells if re.fullmatch(r"\s*\d+ \(\d+–\d+\)\s*", c)]
        unranked = page.count(">not ranked<")
        assert len(ranks) + unranked == 4 + 11, (edition, code)  # four areas, the LA and its ten neighbours
        assert "Overall rank (90% range)" in page and "Rank (90% range)" in page


def test_pages_explain_what_is_missing_and_how_the_change_was_made(pages):
    nel = _text(pages[("202425", "812")])
    assert "not ranked" in nel and "Placement: no score or rank" in nel
    assert "England's published figure is not in this project's data" in nel
    assert re.search(r"Suspensions \(annual rate\) Exclusions .{0,80}25\.62 \(pooled from LA "
                     r"figures\)", nel)
    assert "same 12 indicators for every LA" in nel and "less certain" in nel
    bournemouth = _text(pages[("201819", "837")])
    assert "like for like" not in bournemouth and "2016/17 and 2018/19" in bournemouth
    assert "own values differ between the two years" in bournemouth
    assert "the trend table below scores each year" in bournemouth.lower()
    assert "DfE's children's services statistical neighbour model" in bournemouth
    assert "DfE's list of neighbours for the councils before the 2019 boundary change" in bournemouth
    assert "Old SNs" not in bournemouth and "weighted by slot" not in bournemouth
    assert "Neighbours' average" in bournemouth
    assert "Allowing for child deprivation and the share of pupils with an EHC plan," in bournemouth
    assert "caseload" not in bournemouth
    kc = _text(pages[("201819", "207")])
    assert re.search(r"City of London Not close – not ranked", kc)


def test_every_chart_on_every_page_has_alt_text_from_its_data(pages):
    for (edition, code), page in pages.items():
        assert "No description has been provided" not in page, (edition, code)
        # inline SVG, an image to assistive technology, named by its title, described by its alt text
        svgs = re.findall(r"<svg [^>]*>.*?</svg>", page, flags=re.S)
        assert len(svgs) == 3 and "<img" not in page, (edition, code)
        assert all(re.search(r'role="img" aria-labelledby="([\w-]+)-title" aria-describedby="\1-desc"', s)
                   for s in svgs), (edition, code)
        alts = [html.unescape(re.search(r"<desc [^>]*>([^<]*)</desc>", s).group(1)) for s in svgs]
        national, indicators, trend = alts
        assert re.fullmatch(r"Overall scores of all \d+ ranked LAs in \d{4}/\d{2}, highest first, with .+ "
                            r"highlighted: \d+\.\d, \d+(st|nd|rd|th) \(\d+% range \d+(st|nd|rd|th) to "
                            r"\d+(st|nd|rd|th)\)\.", national), national
        assert indicators.startswith("Bar chart of ") and "12 indicator scores" in indicators
        assert trend.startswith("Line chart of ") and re.search(r"Overall \d+\.\d, \d+\.\d, \d+\.\d;", trend)
        assert len(page) < 120_000, (edition, code, len(page))  # no embedded PNGs: a light page


def test_notes_say_what_is_imputed(pages):
    for (edition, code), page in pages.items():
        text = _text(page)
        assert "never filled in" not in text and "imputed as 1.5" in text, (edition, code)
    kc = _text(pages[("201819", "207")])
    assert "This LA has 1 imputed value in 2018/19: Permanent exclusions (annual rate)." in kc
    assert 'imputed as 1.5 (DfE published the count only as "1 or 2 exclusions")' in kc


def test_pages_link_neighbours_and_the_other_edition(pages):
    page = pages[("202425", "940")]  # North Northamptonshire, formed from Northamptonshire
    assert 'href="../../201819/la/928.html"' in page and "formed from" in page
    assert len(re.findall(r'<a href="\d{3}\.html">', page)) >= 5  # its statistical neighbours' profiles
    assert 'href="../../202425/la/837.html"' not in pages[("201819", "837")]  # Bournemouth: now BCP (839)
    assert 'href="../../202425/la/839.html"' in pages[("201819", "837")]


def test_rutland_page_warns_on_its_small_cohorts_and_explains_its_figures(pages):
    text = _text(pages[("202425", "857")])
    assert "KS4 Attainment 8 (99, 2023/24 data; caution: from about 11 pupils, fewer than 30)" in text
    assert "caution: its 95% interval includes the middle LA's value" in text
    assert "fewer than 30" in text.split("Trend over")[0]  # the table's caution column, not only the list
    assert "not a percentage" in text and "out of 100" not in text and "plausible range" not in text
    assert "Ranks are given only" not in text and "ranks within that comparison" in text
    assert "explains 2% of the differences between councils" in text
    assert 'Why "better if lower" for EHC plan share of SEN pupils.' in text and "contested" in text
    assert "5 of the indicators are measured differently in the 2018/19 edition" in text
    page = pages[("202425", "857")]
    assert 'href="../03_assessment.html"' in page and 'href="../../201819/la/857.html"' in page
    assert re.search(r"<li>16-17 NEET or not known \(EHC plan\): ", page)  # the changed measures as a list
