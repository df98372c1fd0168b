"""Inputs that must never pass quietly: a file edited in place, rows cut on a row boundary,
an LA's rows deleted, negative counts, an England total that disagrees (naming the file that
holds that year), and a web mirror that fails. Broken copies of the real files throughout."""

from __future__ import annotations

import functools
import http.server
import re
import threading

import pytest

from inclusion_index.cli import main
from inclusion_index.errors import ChecksumError, SchemaError
from inclusion_index.sources.harmonise import load_inputs

from .test_bad_inputs import P, broken, csv_bytes, gz, real_text, rows_of


@pytest.fixture()
def unverified(monkeypatch):
    """For the cases below the checksum: what the validators say about the content."""
    monkeypatch.setenv("INCLUSION_VERIFY_CHECKSUMS", "0")


def test_a_file_edited_in_place_is_refused_at_load(data_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("INCLUSION_VERIFY_CHECKSUMS", raising=False)
    t = real_text(data_dir, "neet_2023").replace(b"Barnet", b"Barnett", 1)
    d = broken(data_dir, tmp_path, {"neet_2023": t})
    with pytest.raises(ChecksumError, match=re.escape(f"{P('neet_2023')}: checksum mismatch")):
        load_inputs(d, families=["neet"], use_cache=False)
    assert main(["load", "--data-dir", str(d)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {P('neet_2023')}: checksum mismatch (sha256 ")
    # the untouched real files load with the check on
    assert len(load_inputs(data_dir, families=["neet"], use_cache=False)) > 1000


def test_rows_cut_on_a_row_boundary_are_refused(data_dir, tmp_path, unverified):
    lines = real_text(data_dir, "neet_2023").rstrip(b"\n").split(b"\n")
    d = broken(data_dir, tmp_path, {"neet_2023": b"\n".join(lines[:-30]) + b"\n"})  # 30 LAs gone
    with pytest.raises(SchemaError) as e:
        load_inputs(d, families=["neet"], use_cache=False)
    msg = str(e.value)
    assert msg.startswith(f"{P('neet_2023')}: ")
    assert re.search(r"\d+ LAs have no rows for neet_\w+", msg) and "year 202223" in msg
    assert "cut short or rows deleted" in msg


def test_one_las_rows_deleted_are_refused_naming_the_la(data_dir, tmp_path, unverified):
    r = rows_of(real_text(data_dir, "sen2_caseload_2025"))
    h = r[0]
    keep = [x for x in r if not (x[h.index("old_la_code")] == "302" and x[h.index("time_period")] == "202324")]
    assert len(r) - len(keep) >= 1
    d = broken(data_dir, tmp_path, {"sen2_caseload_2025": gz(csv_bytes(keep))})
    with pytest.raises(SchemaError, match=r"1 LA has no rows for sen2_\w+: 302 Barnet; column 'LA code'; "
                                          r"year 202324"):
        load_inputs(d, families=["sen2"], use_cache=False)


def test_negative_count_is_refused(data_dir, tmp_path, unverified):
    r = rows_of(real_text(data_dir, "sen2_caseload_2025"))
    h = r[0]
    hit = 0
    for x in r[1:]:
        if x[h.index("old_la_code")] == "302" and x[h.index("time_period")] == "202324" \
                and x[h.index("breakdown")] == "All EHC plans":
            x[h.index("special_independent")] = "-40"
            hit += 1
    assert hit == 1
    d = broken(data_dir, tmp_path, {"sen2_caseload_2025": gz(csv_bytes(r))})
    with pytest.raises(SchemaError, match=r"negative count -40 \(Barnet\); column 'special_independent'; "
                                          r"year 202324"):
        load_inputs(d, families=["sen2"], use_cache=False)


def test_england_total_mismatch_names_the_file_that_has_the_year(data_dir, tmp_path, unverified):
    r = rows_of(real_text(data_dir, "sen2_caseload_2025"))
    h = r[0]
    for x in r[1:]:
        if (x[h.index("geographic_level")] == "National" and x[h.index("time_period")] == "202324"
                and x[h.index("breakdown")] == "All EHC plans"):
            x[h.index("ehcplans")] = str(int(x[h.index("ehcplans")]) + 60000)
    d = broken(data_dir, tmp_path, {"sen2_caseload_2025": gz(csv_bytes(r))})
    with pytest.raises(SchemaError, match="^" + re.escape(P("sen2_caseload_2025")) + r".*England says.*year 202324"):
        load_inputs(d, families=["sen2"], use_cache=False)


@pytest.fixture()
def empty_server(tmp_path):
    h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), h)
    threading.Thread(target=s.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{s.server_address[1]}"
    s.shutdown()


def test_fetch_from_a_web_mirror_without_the_file_exits_2_naming_it(empty_server, tmp_path, capsys):
    rc = main(["fetch", "--data-dir", str(tmp_path / "d"), "--base-url", empty_server, "--only", "neet_2023"])
    assert rc == 2
    err = capsys.readouterr().err
    assert f"error: {P('neet_2023')}: download from {empty_server}/{P('neet_2023')} failed" in err
    assert "404" in err and not list((tmp_path / "d").rglob("*.csv"))
