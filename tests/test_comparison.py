"""Two editions compared LA by LA, through boundary changes, with uncertainty."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from inclusion_index import pipeline
from inclusion_index.cli import main
from inclusion_index.index.comparison import compare_editions, comparison_summary, definition_changes
from inclusion_index.report import render
from inclusion_index.report.render import comparison_html

from .conftest import edition_path


@pytest.fixture(scope="module")
def table(editions):
    # the shared fixture's editions carry no Monte Carlo ranges: add stand-ins of known width
    for ed in editions.values():
        st = ed.score_table
        if "overall_rank_lo" not in st:
            st["overall_rank_lo"] = (st["overall_rank"] - 5).clip(lower=1)
            st["overall_rank_hi"] = st["overall_rank"] + 5
    return compare_editions(editions["201819"], editions["202425"])


def test_every_later_la_once_with_both_scores(table, editions):
    assert len(table) == 151 and table["la_code"].is_unique
    a = editions["201819"].score_table.set_index("la_code")
    b = editions["202425"].score_table.set_index("la_code")
    t = table.set_index("la_code")
    # an LA in both editions: its own scores and ranks, change = later - earlier, moved up = positive
    for code in ("213", "302", "886"):
        assert t.loc[code, "overall_score_from"] == pytest.approx(a.loc[code, "overall_score"])
        assert t.loc[code, "overall_score_to"] == pytest.approx(b.loc[code, "overall_score"])
        assert t.loc[code, "overall_rank_change"] == a.loc[code, "overall_rank"] - b.loc[code, "overall_rank"]
    assert t["overall_score_from"].notna().all() and t["overall_score_to"].notna().all()


def test_boundary_changes_are_followed_and_said(table, editions):
    a = editions["201819"].score_table.set_index("la_code")
    t = table.set_index("la_code")
    # North and West Northamptonshire (2021) both start from Northamptonshire, with its rank
    for code in ("940", "941"):
        assert t.loc[code, "overall_score_from"] == pytest.approx(a.loc["928", "overall_score"])
        assert t.loc[code, "overall_rank_from"] == a.loc["928", "overall_rank"]
        assert "Northamptonshire's (928" in t.loc[code, "note"]
    # BCP (2019) merges Bournemouth and Poole: the mean of their scores, and no earlier rank
    assert t.loc["839", "overall_score_from"] == pytest.approx(a.loc[["836", "837"], "overall_score"].mean())
    assert pd.isna(t.loc["839", "overall_rank_from"]) and t.loc["839", "note"].startswith("merged")
    assert t.loc["213", "note"] == ""


def test_large_moves_only_when_ranges_do_not_overlap_and_only_las_in_both(table, editions):
    s = comparison_summary(table)
    moved = table.dropna(subset=["overall_rank_change"])
    apart = moved[moved["ranges_overlap"].eq(False)]
    # stand-in ranges are rank +-5: apart exactly when the rank moved more than 10 places
    assert (apart["overall_rank_change"].abs() > 10).all()
    # LAs compared with a predecessor's figures are listed but never counted
    both = apart[apart["note"].eq("")]
    assert s["up_beyond_uncertainty"] == int((both["overall_rank_change"] > 0).sum())
    assert s["down_beyond_uncertainty"] == int((both["overall_rank_change"] < 0).sum())
    in_both = set(editions["201819"].geography["la_code"]) & set(editions["202425"].geography["la_code"])
    assert s["las_compared"] == len(in_both) and s["las_compared"] + s["las_via_predecessor"] == 151
    changes = definition_changes(editions["201819"], editions["202425"])
    # NEET: all young people (LAIT) in 2018/19, NEET or not known with an EHC plan (NCCIS) in 2024/25
    neet = next(c for c in changes if c["indicator"] == "att_neet_1617")
    assert (neet["from"], neet["to"]) == ("lait_neet_all_pct", "neet_nk_ehcp_pct")
    assert neet["from_label"] == "% of 16-17 year olds NEET (all young people; December-February average)"
    assert neet["to_label"].startswith("% of 16-17-year-olds with an EHC plan who are NEET or whose activity")
    assert any(c["indicator"] == "excl_fixed_ehcp" and "annual" in c["to"] for c in changes)
    page = comparison_html(table, "compare.csv", changes, ("original", "current"))
    assert "2018/19 and 2024/25 editions" in page and "measured differently" in page
    assert "not proven ones" in page and "compare.dictionary.csv" in page


def test_cli_compare_writes_the_csv(tmp_path, data_dir, capsys):
    # the CLI loads both finished editions from the cache: the run's shared ones (built once, locked)
    for e in ("201819", "202425"):
        edition_path(e, data_dir)
    out = tmp_path / "c.csv"
    assert main(["compare", "--from", "201819", "--to", "202425", "--data-dir", str(data_dir), "--out", str(out)]) == 0
    t = pd.read_csv(out, dtype={"la_code": str})
    assert len(t) == 151 and {"overall_score_change", "overall_rank_change", "ranges_overlap", "note"} <= set(t.columns)
    printed = capsys.readouterr().out
    assert "LAs in both editions" in printed and "measured differently: 16-17 NEET" in printed
    d = pd.read_csv(tmp_path / "c.dictionary.csv")
    assert set(d["column"]) == set(t.columns) and d["description"].notna().all()


def test_render_loads_each_edition_once_and_compares_them_on_the_index(table, editions, tmp_path, monkeypatch):
    loads, extras, profiled = [], [], []

    def fake_render(files, *, reports_dir, **kw):
        out = {}
        for e in files:  # every edition in one call, as the pipeline renders them side by side
            extras.append(kw["extras"][e])  # the edition's score table and findings, written by the pipeline
            (reports_dir / e).mkdir(parents=True, exist_ok=True)
            out[e] = (render.RenderError(f"edition {e}: 02_exclusions, cell 3: <boom>") if e == "209900"
                      else render.EditionRender(e, {"final_year": e, "n_years": 3}))
        return out

    monkeypatch.setattr(pipeline, "edition_file", lambda e, **kw: loads.append(e) or Path(e))
    monkeypatch.setattr(pipeline, "read_edition", lambda p: editions.get(str(p), editions["201819"]))
    monkeypatch.setattr(pipeline, "render_editions", fake_render)
    monkeypatch.setattr(pipeline, "render_profiles", lambda e, las, **kw: profiled.append((e, len(las))))
    rc = pipeline.render(["201819", "202425", "209900"], years=None, data_dir=None, reports_dir=str(tmp_path),
                         highlight_la="", parts=None, workers=1, profiles=True, profiles_limit=2)
    assert rc == 1  # one edition failed
    assert loads == ["201819", "202425", "209900"]  # once each: the comparison reuses them
    assert len(extras) == 3 and profiled == [("201819", 2), ("202425", 2)]
    page = (tmp_path / "index.html").read_text()
    assert "Between the 2018/19 and 2024/25 editions" in page and 'href="compare_201819_202425.csv"' in page
    assert 'id="la-search"' in page and "&lt;boom&gt;" not in page  # no last good report of 209900 to keep
    assert (tmp_path / "compare_201819_202425.csv").exists()
    # what the score weighs sits under each edition, and quoting across the editions is warned against
    assert page.count("about 58% of the headline score is exam results and NEET") == 2
    assert 'id="quoting-across-editions"' in page and "measures_changed" in page


def test_measures_changed_marks_every_move_across_a_change_of_measure(table, editions):
    changed = {c["name"] for c in definition_changes(editions["201819"], editions["202425"])}
    # the review's list: exclusion rates, NEET, the placement denominator, census counts
    assert {"Fixed-period exclusions", "Permanent exclusions", "16-17 NEET", "State-funded special schools",
            "EHC plan share of SEN pupils"} <= changed
    marked = table["measures_changed"].str.split("; ")
    assert marked.map(lambda m: set(m) <= changed).all()
    assert (marked.str.len() >= 4).all()  # every LA has values on at least the exclusion, assessment, NEET changes
    # the existing columns are contracts: still there, in their order, with the new one after them
    assert list(table.columns[-2:]) == ["note", "measures_changed"]
