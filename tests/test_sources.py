import functools
import http.server
import shutil
import threading

import pytest

from inclusion_index.cli import main
from inclusion_index.errors import ChecksumError, MissingSourceError
from inclusion_index.sources import Registry, fetch, load_registry, resolve, sha256_of

SMALL = ["la_list_dfe", "neet_2022"]


def test_registry_lists_every_file_once_with_required_fields():
    reg = load_registry()
    assert len(reg.sources) >= 20
    assert len(set(reg.ids())) == len(reg.sources)
    assert len({s.path for s in reg.sources}) == len(reg.sources)
    for s in reg.sources:
        assert len(s.sha256) == 64 and s.licence and s.publication


def test_every_registered_file_is_in_the_mirror_with_its_checksum(data_dir):
    for s in load_registry().sources:
        resolve(s, data_dir, verify=True)


def _subset(ids: list[str]) -> Registry:
    reg = load_registry()
    return Registry(tuple(reg[i] for i in ids))


def test_fetch_from_mirror_copies_and_verifies(tmp_path, data_dir):
    dest = tmp_path / "raw"
    got = fetch(dest, mirror=data_dir, registry=_subset(SMALL), log=lambda s: None)
    assert len(got) == 2
    for sid in SMALL:
        s = load_registry()[sid]
        assert sha256_of(dest / s.path) == s.sha256
    # second run keeps the verified files
    lines: list[str] = []
    fetch(dest, mirror=data_dir, registry=_subset(SMALL), log=lines.append)
    assert all(line.startswith("ok") for line in lines)


def test_fetch_refuses_a_mirror_file_with_the_wrong_checksum(tmp_path, data_dir):
    mirror = tmp_path / "mirror"
    s = load_registry()["neet_2022"]
    (mirror / s.path).parent.mkdir(parents=True)
    text = (data_dir / s.path).read_bytes().replace(b"Barnet", b"Barnett", 1)
    (mirror / s.path).write_bytes(text)
    with pytest.raises(ChecksumError, match=r"UD_NEETNK_LA_dashboard_2022_final\.csv: checksum mismatch"):
        fetch(tmp_path / "raw", mirror=mirror, registry=_subset(["neet_2022"]), log=lambda s: None)
    assert not (tmp_path / "raw" / s.path).exists(), "a refused file must not be left in the data folder"


def test_fetch_reports_a_file_missing_from_the_mirror(tmp_path):
    with pytest.raises(MissingSourceError, match=r"las\.csv: not found in mirror"):
        fetch(tmp_path / "raw", mirror=tmp_path, registry=_subset(["la_list_dfe"]), log=lambda s: None)


@pytest.fixture()
def http_mirror(data_dir):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(data_dir))
    handler.log_message = lambda *a, **k: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_fetch_by_http_from_a_local_server(tmp_path, http_mirror):
    dest = tmp_path / "raw"
    got = fetch(dest, base_url=http_mirror, registry=_subset(SMALL), log=lambda s: None)
    assert [p.name for p in got] == ["las.csv", "UD_NEETNK_LA_dashboard_2022_final.csv"]


def test_resolve_names_a_missing_file(tmp_path):
    with pytest.raises(MissingSourceError, match=r"la_lookup/las.csv: file missing.*inclusion-index fetch"):
        resolve(load_registry()["la_list_dfe"], tmp_path)


def test_cli_fetch_and_verify(tmp_path, data_dir, capsys):
    dest = tmp_path / "raw"
    assert main(["fetch", "--data-dir", str(dest), "--mirror", str(data_dir), "--only", "la_list_dfe"]) == 0
    # verify fails (exit 2, clear message) because the other files are absent
    assert main(["verify", "--data-dir", str(dest)]) == 2
    err = capsys.readouterr().err
    assert "file missing from data folder" in err
    shutil.rmtree(dest)
