"""Every HTML template, filled with hostile text, escapes it; pages load nothing from outside."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
from markupsafe import Markup

from inclusion_index.report import render, templates
from inclusion_index.report.explore import explore_html
from inclusion_index.report.profile.charts import _Canvas
from inclusion_index.report.profiles import profile_index, search_box_html
from inclusion_index.report.series.findings import Finding, Findings, SourceRef
from inclusion_index.report.templates import render_template

EVIL = '<script>alert("x")</script>'
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"
TEMPLATES = Path(templates.__file__).parent


def _safe(name: str, page: str) -> None:
    assert EVIL not in page and ESCAPED in page, name
    # self-contained: no outside scripts, styles or fonts
    assert not re.search(r"<(script|img)[^>]+src=\"(https?:)?//|<link\b|@import|url\(", page), name


def page_has_main(page: str) -> bool:
    return page.count("<main>") == 1 and page.count("</main>") == 1


def _comparison_table() -> pd.DataFrame:
    return pd.DataFrame({"edition_from": ["201819"], "edition_to": ["202425"], "method_from": [EVIL],
                         "method_to": ["m"], "note": [""], "overall_score_change": [1.0],
                         "ranges_overlap": [True], "overall_rank_change": [-60], "la_name": [EVIL]})


def _hostile_edition() -> SimpleNamespace:
    """Just what report.explore reads of an edition, with hostile names."""
    areas = ("exclusions", "assessment", "placement", "attainment")
    table = pd.DataFrame({"la_code": ["302", "303"], "la_name": [EVIL, "B"], "region": [EVIL, EVIL],
                          "overall_score": [60.0, 40.0], "overall_rank": pd.array([1, 2], dtype="Int64"),
                          **{f"{a}_score": [50.0, 50.0] for a in areas}})
    ind = pd.DataFrame({"indicator": list(areas), "area": list(areas), "weight": 1.0, "short_name": EVIL})
    return SimpleNamespace(score_table=table, indicators=ind, final_year="201819",
                           headline=lambda: SimpleNamespace(available=list(areas)))


def test_every_template_escapes_hostile_text(tmp_path):
    pages = {
        "nav.html": render.nav_html(EVIL),
        "img.html": render_template("img.html", png="AAAA", alt=EVIL),
        "profile.html": render_template("profile.html", title=EVIL,
                                        p=defaultdict(lambda: Markup(f"<p>{ESCAPED}</p>"))),
        "chart.html": _Canvas(100, 50, EVIL, texts=[{"x": 1, "y": 2, "s": EVIL, "anchor": "start", "size": 9,
                                                       "fill": "#111", "rotate": False, "bold": False}]
                              ).render("c", EVIL).svg,
        "profile_index.html": profile_index("201819", [("302", EVIL)]),
        "method.html": render_template("method.html", title=EVIL, body=Markup(f"<p>{ESCAPED}</p>"), version=EVIL),
        "search.html": search_box_html({"201819": [("302", EVIL)]}),
        "comparison.html": render.comparison_html(_comparison_table(), "c.csv",
                                                  [{"name": EVIL, "from_label": "a", "to_label": "b"}]),
    }
    pages["glossary.html"] = pages["method.html"]  # the glossary is part of the method page
    assert 'id="glossary-attainment-8"' in pages["method.html"]
    pages["explore.html"] = explore_html(_hostile_edition())
    finding = Finding(id="x", headline=EVIL, number=1.0, unit=EVIL, place=EVIL, data_period=EVIL, england_figure=EVIL,
                      caveat=EVIL, strength="robust", source_ids=("s",), link=f"01_introduction.html#{EVIL}")
    pages["findings.html"] = render.findings_html(
        Findings(edition="201819", items=[finding], sources=[SourceRef(1, "s", EVIL, EVIL, EVIL, EVIL)], describe=EVIL,
                 dont_write=[EVIL], title=EVIL, refs={"s": 1}), "201819")
    figures = tmp_path / "r" / "201819" / "figures"
    figures.mkdir(parents=True)
    (figures / f"{EVIL.replace('/', '_')}.png").write_bytes(b"x")
    pages["figures.html"] = render.write_figure_index(figures, EVIL).read_text()
    # the profile's paragraphs (report/profile/words.py and tables.py): every field from data escaped
    e = EVIL
    words = {
        "caution": {"small": e}, "trend": {"year": e, "places": True, "n_common": e},
        "change": {"first": e, "last": e, "n_common": e, "change": 1.0, "start": 1.0, "end": 1.0, "places": 1,
                   "early_rank": e, "late_rank": e, "same": False, "own": [(e, [e], 1), (e, [], 2)], "interval": e, "left_out": [e], "lo": e,
                   "hi": e, "lo_value": 1, "hi_value": 2, "note": e, "headline": e, "trend_first": e, "trend_last": e},
        "context": dict.fromkeys(["allowing", "gap", "side", "adjusted_rank", "raw_rank", "r2", "n", "raw_gap",
                                  "adjusted"], e),
        "direction": dict.fromkeys(["indicator", "area", "la", "value", "england", "score", "part"], e),
        "editions": {"changes": [{"short": e, "there": e, "here": e}], "other": e, "interval": e},
        "indicator_caption": {"bands": e, "missing": e, "not_in_data": e, "pooled": [e], "pooled_label": e,
                              "no_england": [e], "value_missing": True, "imputed": [e], "rule_label": e, "midpoint": 1.5,
                              "unrecorded": 1.0, "recorded_only": True, "england_unrecorded": 1.0, "contested": [e]},
        "weights": {"average": e, "odd": {e: 2.0}},
        "weighting": {"step": e, "la": e, "best": e, "worst": e, "first": e},
        "boundary": {"own": e, "later": True, "other": e, "label": e, "related": [("301", e), ("302", e)]},
        "neighbours": {"la": e, "place": 1, "n": e, "score": 1.0, "mean": 1.0, "model": e},
        "notes": {"missing": e, "carry": 1, "mine": [e], "rule": {"label": e, "midpoint": 1.5}, "any_imputed": True,
                  "year": e},
    }
    pages |= {f"profile_{k}.html": render_template(f"profile_{k}.html", **v) for k, v in words.items()}
    # the index page nests two rendered sections (Markup, kept) and a plain string (escaped)
    ed = render.EditionRender("201819", {"final_year": "201819", "n_years": 3, "data_dir": EVIL,
                                         "highlight_la": EVIL})
    source = {k: EVIL for k in ("publication", "release", "years", "path", "licence", "url")}
    index = render.write_index(tmp_path / "r", [ed], [source], {"201819": EVIL},
                               extra_sections=pages["search.html"], run_settings={EVIL: EVIL},
                               weights={"201819": EVIL}).read_text()
    pages["index.html"] = pages["base.html"] = index
    assert 'id="la-search"' in index and "addEventListener" in index  # the section and its script, inlined
    assert ESCAPED in render.write_index(tmp_path, [], [], {}, extra_sections=EVIL).read_text()
    assert {p.name for p in TEMPLATES.glob("*.html")} == set(pages)  # a new template needs a case here
    for name in ("profile.html", "profile_index.html", "index.html", "figures.html", "explore.html", "findings.html",
                 "method.html"):  # whole pages
        assert page_has_main(pages[name]), name
    for name, page in pages.items():
        if name == "figures.html":  # file names keep no "/", so the closing tag reads <_script>
            assert "<script" not in page and "&lt;script&gt;" in page
            continue
        _safe(name, page)
