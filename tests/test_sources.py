import datetime
import functools
import http.server
import importlib
import shutil
import threading

import pytest
import yaml

from inclusion_index.cli import main
from inclusion_index.errors import ChecksumError, ConfigError, MissingSourceError
from inclusion_index.paths import REGISTRY_DIR
from inclusion_index.sources.harmonise import load_inputs
from inclusion_index.sources.loaders import check_registry, loader_names
from inclusion_index.sources.registry import Registry, fetch, load_registry, resolve, sha256_of

SMALL = ["la_list_dfe", "neet_2022"]


def test_registry_lists_every_file_once_with_required_fields():
    reg = load_registry()
    assert len(reg.sources) >= 20
    assert len({s.id for s in reg.sources}) == len(reg.sources)
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


# ------------------------------------------------------------------ loader and format

LOADERS = ["census", "context", "deprivation", "exclusions", "ks4", "lait", "neet", "sen2"]


def _registry_file(tmp_path, edit) -> str:
    """A copy of the project registry with one entry edited, as a path for load_registry."""
    raw = yaml.safe_load((REGISTRY_DIR / "sources.yml").read_text(encoding="utf-8"))
    edit({e["id"]: e for e in raw["sources"]})
    p = tmp_path / "sources.yml"
    p.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return p


def test_every_loader_reads_its_files_from_the_registry():
    reg = load_registry()
    assert loader_names() == LOADERS
    check_registry(reg)
    for name in LOADERS:
        module = importlib.import_module(f"inclusion_index.sources.loaders.{name}")
        mine = [s.id for s in reg.sources if s.loader == name]
        assert mine, name
        assert all(reg[i].format in module.FORMATS for i in mine)
        # the LA list is read by name wherever the LA reference maps codes or names
        extra = ("la_list_dfe",) if name in {"census", "context", "deprivation", "exclusions"} else ()
        # census also reads the January 2024 workbook, whose entry is context's (special schools)
        extra += ("school_census_202324",) if name == "census" else ()
        assert module.SOURCES == (*mine, *extra) == module.sources(reg)
    # files no loader reads are LA lists, statistical neighbours and hex maps, read by name
    others = [s.id for s in reg.sources if s.loader is None]
    assert {"la_list_dfe", "la_list_lait", "sn_2025", "hex_hocl"} <= set(others)
    assert all(i.startswith(("la_", "sn_", "hex_")) for i in others), others


def test_the_latest_sen2_release_is_dated():
    reg = load_registry()
    assert reg["sen2_caseload_2025"].published > reg["sen2_caseload_2022"].published


@pytest.mark.parametrize(("edit", "message"), [
    (lambda e: e["neet_2025"].update(loader="neat"),
     r"entry 'neet_2025' names loader 'neat', which is not a module of lib/inclusion_index/loaders/ "
     r"\(known: census, context, deprivation"),
    (lambda e: e["neet_2025"].pop("format"), r"entry 'neet_2025' must give both `loader` and `format`"),
    (lambda e: e["la_list_dfe"].update(loader="base", format="x"), r"entry 'la_list_dfe' names loader 'base'"),
    (lambda e: e["sen2_caseload_2025"].update(published="June 2025"),
     r"entry 'sen2_caseload_2025' has published 'June 2025'; expected YYYY-MM"),
    (lambda e: e["neet_2025"].update(fromat="nccis_dashboard"), r"entry 'neet_2025' has unknown field\(s\) \['fromat'\]"),
])
def test_a_malformed_loader_entry_is_refused_naming_it(tmp_path, edit, message):
    with pytest.raises(ConfigError, match=message):
        check_registry(load_registry(_registry_file(tmp_path, edit)))


def test_an_unknown_format_is_refused_naming_the_entry(tmp_path, data_dir):
    reg = load_registry(_registry_file(tmp_path, lambda e: e["neet_2024"].update(format="nccis_dashbord")))
    expected = (r"entry 'neet_2024' \(neet_la/nccis_la_dashboard/UD_NEETNK_LA_dashboard_2024_final.csv\) has "
                r"format 'nccis_dashbord', which loaders/neet.py does not read \(its formats: nccis_dashboard\)")
    with pytest.raises(ConfigError, match=expected):
        check_registry(reg)
    with pytest.raises(ConfigError, match=expected):
        load_inputs(data_dir, registry=reg, families=["neet"], use_cache=False)


def test_a_published_date_may_be_a_yaml_date(tmp_path):
    reg = load_registry(_registry_file(tmp_path, lambda e: e["sen2_caseload_2025"].update(
        published=datetime.date(2025, 6, 26))))
    assert reg["sen2_caseload_2025"].published == "2025-06-26"


def test_a_loader_with_no_entry_is_refused(tmp_path, data_dir):
    def drop_ks4(e):
        for s in e.values():
            if s.get("loader") == "ks4":
                s.pop("loader"), s.pop("format")
    reg = load_registry(_registry_file(tmp_path, drop_ks4))
    with pytest.raises(ConfigError, match=r"no entry has `loader: ks4`"):
        load_inputs(data_dir, registry=reg, families=["ks4"], use_cache=False)
