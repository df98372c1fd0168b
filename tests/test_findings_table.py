"""findings.csv, findings_sources.csv, findings.html and findings.md of both built editions,
with the part pages their links point into (conftest's `site`, rendered from the same editions)."""

from __future__ import annotations

import re
import statistics
from pathlib import Path

import pandas as pd
import pytest

from inclusion_index.index.build import read_edition
from inclusion_index.pipeline import write_outputs
from inclusion_index.report.series.findings import (
    COLUMNS,
    MAX_HEADLINE_WORDS,
    SOURCE_COLUMNS,
    STRENGTHS,
)

from .browser import axe_violations
from .conftest import edition_path

EDITIONS = ("201819", "202425")
NUMBER = re.compile(r"[-+−]?\d[\d,]*(?:\.\d+)?(?:/\d+)?")


def headline_numbers(text: str) -> list[float]:
    """The numbers a headline states, as floats ('638,745' -> 638745.0): the test reads the words
    back; the findings code never does (it writes them from typed facts)."""
    return [float(n.replace(",", "").replace("−", "-")) for n in NUMBER.findall(text)]


def sentences(text: str) -> list[str]:
    """Sentences of running text (for measuring findings.md): split at . ! ? before a space or end."""
    return [s for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]


@pytest.fixture(scope="module")
def built(data_dir, tmp_path_factory) -> dict[str, dict]:
    """Per edition: the edition, its output folder with the findings files, and the findings read back."""
    out = {}
    for e in EDITIONS:
        f = edition_path(e, data_dir)
        folder = tmp_path_factory.mktemp(f"findings_{e}")
        ed = read_edition(f)
        write_outputs(ed, folder)
        table = pd.read_csv(folder / "findings.csv", dtype=str, keep_default_na=False)
        out[e] = {"ed": ed, "file": f, "folder": folder, "table": table,
                  "sources": pd.read_csv(folder / "findings_sources.csv", dtype=str, keep_default_na=False)}
    return out


@pytest.fixture(scope="module")
def rendered(built, site) -> Path:
    """Both editions' part pages, findings pages and reports/index.html, as the render writes them
    from the edition files `built` reads (the render exits 0 only if every page rendered)."""
    for e in EDITIONS:
        assert (site / e / "findings.csv").read_bytes() == (built[e]["folder"] / "findings.csv").read_bytes()
    return site


@pytest.mark.parametrize("edition", EDITIONS)
def test_columns_and_one_number_headlines(built, edition):
    t = built[edition]["table"]
    assert list(t.columns) == COLUMNS
    assert len(t) >= 15 and t["id"].is_unique
    for _, r in t.iterrows():
        words = r["headline"].split()
        assert len(words) <= MAX_HEADLINE_WORDS, r["headline"]
        nums = headline_numbers(r["headline"])
        assert len(nums) == 1, r["headline"]  # no year, no "out of 100", no "per 100" in a headline
        assert nums[0] == float(r["number"]), (r["headline"], r["number"])
        assert r["strength"] in STRENGTHS
        assert r["data_period"] and re.search(r"\d{4}", r["data_period"]), r["id"]
        assert r["unit"] and r["place"] and r["caveat"]


@pytest.mark.parametrize("edition", EDITIONS)
def test_every_source_reference_resolves(built, edition):
    t, src = built[edition]["table"], built[edition]["sources"]
    assert list(src.columns) == SOURCE_COLUMNS
    assert list(src["ref"].astype(int)) == list(range(1, len(src) + 1))
    for c in ("publisher", "title", "release_date", "url"):
        assert src[c].str.len().gt(0).all(), c
    assert src["url"].str.startswith("https://").all()
    cited = {int(n) for refs in t["sources"] for n in refs.split("; ")}
    assert cited == set(src["ref"].astype(int))  # every reference resolves, every source is cited


def test_national_numbers_are_dfe_england_counts(built):
    t = built["202425"]["table"].set_index("id")
    assert t.loc["england_ehc_plans", "number"] == "638745"
    assert "517,048" in t.loc["england_ehc_plans", "caveat"]
    assert t.loc["england_no_school_place", "number"] == "49173"
    assert "36,138" in t.loc["england_no_school_place", "caveat"]
    assert t.loc["england_no_school_place_rise", "number"] == str(49173 - 36138)
    assert t.loc["england_ehc_plans", "data_period"] == "EHC plans at January 2025"
    # 2018/19: the no-school-place series breaks in January 2019, so no rise is claimed across it
    t19 = built["201819"]["table"].set_index("id")
    assert "england_no_school_place_rise" not in t19.index
    assert "Not comparable" in t19.loc["england_no_school_place", "caveat"]


@pytest.mark.parametrize("edition", EDITIONS)
def test_strength_follows_the_edition_intervals_and_cohorts(built, edition):
    ed, t = built[edition]["ed"], built[edition]["table"].set_index("id")
    st = ed.score_table.set_index("la_code")
    top = st[st["overall_rank"] == 1].iloc[0]
    whole = int(top["overall_rank_lo"]) == int(top["overall_rank_hi"]) == 1
    assert t.loc["overall_top", "strength"] == ("robust" if whole else "within uncertainty")
    small = t[t["strength"] == "small cohort"]
    assert small["caveat"].str.contains("pupils, too few to rule out chance").all()


@pytest.mark.parametrize("edition", EDITIONS)
def test_every_link_anchor_exists_in_its_part_page(built, rendered, edition):
    ids: dict[str, set[str]] = {}
    for link in built[edition]["table"]["link"]:
        page, _, anchor = link.partition("#")
        assert anchor, link
        if page not in ids:
            html = (rendered / edition / page).read_text(encoding="utf-8")
            ids[page] = set(re.findall(r'\bid="([^"]+)"', html))
        assert anchor in ids[page], link


@pytest.mark.parametrize("edition", EDITIONS)
def test_findings_html_is_accessible_and_self_contained(built, rendered, edition, browser):
    label = f"{edition[:4]}/{edition[4:]}"
    page = rendered / edition / "findings.html"
    html = page.read_text(encoding="utf-8")
    assert re.search(rf"<title>[^<]*{re.escape(label)}[^<]*</title>", html)
    assert html.count("<main>") == 1 and "<caption>" in html and 'scope="col"' in html and 'scope="row"' in html
    assert not re.search(r'<(script|link)\b[^>]*(src|href)="https?:', html)  # nothing from outside the site
    assert "How to describe this index" in html and "What not to write" in html
    t = built[edition]["table"]
    for _, r in t.iterrows():
        assert f'id="{r["id"]}"' in html
    assert html.count('id="source-') == len(built[edition]["sources"])
    browser.get(page.as_uri())
    assert axe_violations(browser) == []


def test_index_links_findings(rendered):
    index = (rendered / "index.html").read_text(encoding="utf-8")
    for e in EDITIONS:
        assert f'href="{e}/findings.html"' in index and f'href="{e}/findings.csv"' in index


@pytest.mark.parametrize("edition", EDITIONS)
def test_findings_md_is_quotable(built, edition):
    md = (built[edition]["folder"] / "findings.md").read_text(encoding="utf-8")
    body = md.split("## What not to write")[0]
    bullets = [ln[2:] for ln in body.splitlines() if ln.startswith("- ")]
    # the claim's own sentences: headline and caveat, without the data/strength label and citations
    claims = [s for b in bullets for s in sentences(re.sub(r" _Data: .*$", "", b))]
    assert statistics.median(len(s.split()) for s in claims) <= 25
    assert "where the IDACI" not in md and "R²" not in md  # no regression-speak
    src = built[edition]["sources"]
    for url in src["url"]:  # each source given once, cited by number (two releases may share a page)
        assert md.count(url) == int((src["url"] == url).sum())
    assert re.search(r"\[\d+\]", body)
    ed = built[edition]["ed"]
    describe = md.split("## How to describe this index")[1].split("##")[0]
    n_att = int((ed.indicators["area"] == "attainment").sum())
    assert f"{n_att} of the {len(ed.method.indicators)} indicators are attainment" in " ".join(describe.split())
    assert "50 is the middle council" in describe and "rank" in describe
