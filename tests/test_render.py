"""Rendering mechanics on tiny notebooks: typed parameters, hidden code, failures that keep
the last good report and name the notebook and cell."""

import re
from pathlib import Path

import nbformat
import pytest

from inclusion_index.report import render
from inclusion_index.report.render import RenderError, describe_failure, render_edition, write_index


def _nb(path: Path, body: str) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(
        'final_year = "000000"\nn_years = 1\ndata_dir = ""\noutput_dir = "."\nhighlight_la = ""')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Test part"), params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture()
def two_parts(monkeypatch, tmp_path):
    nbdir = tmp_path / "nbs"
    nbdir.mkdir()
    monkeypatch.setattr(render, "PARTS", [("a", "Part A"), ("b", "Part B")])
    ok = ('assert isinstance(final_year, str) and final_year == "201819", repr(final_year)\n'
          'assert highlight_la == "001"\n'
          'print("typed parameters survived:", final_year, highlight_la)')
    _nb(nbdir / "a.ipynb", ok)
    _nb(nbdir / "b.ipynb", ok)
    return nbdir


def test_render_keeps_strings_hides_code_and_writes_html(two_parts, tmp_path):
    res = render_edition("201819", years=1, reports_dir=tmp_path / "r", highlight_la="001",
                         notebooks_dir=two_parts, log=lambda s: None)
    assert res.ok
    page = (tmp_path / "r" / "201819" / "a.html").read_text()
    assert "typed parameters survived: 201819 001" in page
    assert "assert isinstance" not in page  # code hidden
    # self-contained: nbconvert's lab template would load require.js and MathJax from a CDN
    assert "<script src" not in page and "cdnjs" not in page and "<link" not in page
    assert 'href="b.html"' in page and 'href="../index.html"' in page
    assert not (tmp_path / "r" / ".staging-201819").exists()


def test_failed_notebook_keeps_previous_report_and_names_cell(two_parts, tmp_path):
    reports = tmp_path / "r"
    render_edition("201819", years=1, reports_dir=reports, highlight_la="001",
                   notebooks_dir=two_parts, log=lambda s: None)
    good = (reports / "201819" / "b.html").read_text()
    _nb(two_parts / "b.ipynb", "x = 1\nraise ValueError('boom in part b')")
    with pytest.raises(RenderError, match=r"b, cell \d+: ValueError: boom in part b"):
        render_edition("201819", years=1, reports_dir=reports, highlight_la="001",
                       notebooks_dir=two_parts, log=lambda s: None)
    assert (reports / "201819" / "b.html").read_text() == good
    assert (reports / ".failed-201819" / "notebooks" / "b.ipynb").exists()


def test_unchanged_inputs_keep_pages_and_any_change_or_rerun_executes_again(two_parts, tmp_path):
    edition_file = tmp_path / "201819-abc.pkl"  # the notebooks here do not read it; its name is the key
    edition_file.write_bytes(b"edition")
    reports = tmp_path / "r"

    def run(**kw):
        return render_edition("201819", years=1, reports_dir=reports, highlight_la="001", notebooks_dir=two_parts,
                              log=lambda s: None, edition_file=edition_file, **kw)

    assert not any(p.kept for p in run().parts)
    key = (reports / "201819" / render.KEY_FILE).read_text()
    assert key == render.render_key(edition_file, run().parameters, [two_parts / "a.ipynb", two_parts / "b.ipynb"])
    assert all(p.kept for p in run().parts)
    assert not any(p.kept for p in run(rerun=True).parts)
    _nb(two_parts / "b.ipynb", 'print("b changed")')
    assert not any(p.kept for p in run().parts)
    assert "b changed" in (reports / "201819" / "b.html").read_text()
    # a partial run with other inputs leaves pages of two renders: the next full run executes all
    _nb(two_parts / "a.ipynb", 'print("a changed")')
    run(parts=["a"])
    assert not (reports / "201819" / render.KEY_FILE).exists()
    assert not any(p.kept for p in run().parts)
    assert render.render_key(None, {}, []) is None


def test_describe_failure_without_papermill_details():
    assert describe_failure("x", KeyError("k")) == "x, before execution: KeyError: 'k'"


def test_index_escapes_untrusted_text(tmp_path):
    r = render.EditionRender("201819", {"highlight_la": "<script>alert(1)</script>"})
    out = write_index(tmp_path, [r], [{"publication": "A & B <i>", "release": "r", "years": "y",
                                       "path": "p.csv", "licence": "OGL", "url": "https://x/?a=1&b=2"}],
                      {"201819": "<b>title</b>"})
    page = out.read_text()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "&lt;b&gt;title&lt;/b&gt;" in page and "A &amp; B &lt;i&gt;" in page


def test_index_links_the_method_notes_and_coverage_and_says_where_each_source_link_goes(tmp_path):
    (tmp_path / "coverage.csv").write_text("measure,year,n_las\nx,2024,151\n")
    out = write_index(tmp_path, [], [{"publication": "Special educational needs in England", "release": "June 2025",
                                      "years": "y", "path": "p.csv", "licence": "OGL", "url": "https://x/sen"}], {})
    page = out.read_text()
    assert '<a href="coverage.csv">' in page and '<a href="method.html">' in page
    assert ">link<" not in page  # a link's text says where it goes (WCAG 2.4.4)
    assert '<a href="https://x/sen">Special educational needs in England, June 2025 (DfE release page)</a>' in page
    # docs/METHOD.md ships as a page of the site, its headings and text intact
    method = (tmp_path / "method.html").read_text()
    assert "<main>" in method and '<a href="index.html">All reports</a>' in method
    assert re.search(r"<h1[^>]*>Method", method) and "Boundary changes" in method and "`" not in method
    # without a coverage report, no link to one
    (tmp_path / "coverage.csv").unlink()
    assert 'href="coverage.csv"' not in write_index(tmp_path, [], [], {}).read_text()


def test_index_states_parameters_in_words_version_and_keeps_a_failed_editions_last_report(tmp_path):
    good = render.EditionRender("202425", {"final_year": "202425", "n_years": 3, "data_dir": "",
                                           "output_dir": ".", "highlight_la": ""})
    old = tmp_path / "201819"
    (old / "figures").mkdir(parents=True)
    (old / "01_introduction.html").write_text("old report")
    for ext in ("png", "svg", "csv"):
        (old / "figures" / f"01_<x>_chart.{ext}").write_text("x")
    out = write_index(tmp_path, [good], [], {}, run_settings={"Monte Carlo": "500 draws, seed 1"},
                      kept={"201819": "edition 201819: 03_assessment, cell 4: ValueError: <boom>"})
    page = out.read_text()
    assert "final index year 2024/25; 3 index years; data: the registered DfE files listed below" in page
    assert "checksum; Monte Carlo: 500 draws, seed 1" in page and "highlighted LA" not in page
    # the failed edition's last good report stays linked, marked, with the error escaped
    assert '<a href="201819/01_introduction.html">' in page
    assert "Not updated in this run" in page and "ValueError: &lt;boom&gt;" in page
    # figures are browsable without directory listings, names escaped
    fig = (old / "figures" / "index.html").read_text()
    assert "01 &lt;x&gt; chart" in fig and 'href="01_&lt;x&gt;_chart.svg"' in fig
    assert '<a href="201819/figures/index.html">' in page
    # the version names the code's commit in a git checkout
    assert "inclusion-index " + render.code_version() in page


def test_code_version_names_the_commit():
    v = render.code_version()
    assert v.startswith(render.__version__)
    if (render.PROJECT_DIR / ".git").exists():
        assert "(commit " in v


def test_figure_alt_text_reaches_the_html(tmp_path):
    import base64

    import nbformat

    png = base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode()
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("fig")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"image/png": png},
                               metadata={"image/png": {"alt": 'Score "by" <LA>, 2024/25',
                                                       "csv": "figures/a.csv", "svg": "figures/a.svg"}}),
        nbformat.v4.new_output("display_data", data={"image/png": png}),
    ]
    nb.cells = [cell]
    src = tmp_path / "a.ipynb"
    nbformat.write(nb, src)
    out = tmp_path / "a.html"
    render.to_html(src, out, "T", "")
    page = out.read_text()
    # nbconvert re-serialises the page, so the attribute may use either quote; the text is escaped
    assert ("alt='Score \"by\" &lt;LA&gt;, 2024/25'" in page
            or 'alt="Score &quot;by&quot; &lt;LA&gt;, 2024/25"' in page)
    assert "<LA>" not in page
    assert 'href="figures/a.csv"' in page and 'href="figures/a.svg"' in page  # the data behind the chart
    assert page.count(f"data:image/png;base64,{png}") == 2
    # an image without alt metadata keeps nbconvert's default
    assert page.count("No description has been provided for this image") == 1
