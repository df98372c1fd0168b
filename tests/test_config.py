"""RunSettings: every registry settings file parsed once, frozen, with environment overrides in
config.py, which is the only module that reads YAML."""

from __future__ import annotations

import ast
import dataclasses
import shutil
from pathlib import Path

import pytest

import inclusion_index
from inclusion_index.config import (
    RunSettings,
    load_run_settings,
    parse_uncertainty,
    run_settings,
    verify_checksums,
)
from inclusion_index.errors import ConfigError
from inclusion_index.paths import REGISTRY_DIR

LIB = Path(inclusion_index.__file__).parent


def test_the_real_registry_parses_into_run_settings():
    run = load_run_settings()
    assert isinstance(run, RunSettings) and run == run_settings()
    assert run.uncertainty.seed == 20191125 and run.uncertainty.small_cohort == 30
    assert run.adjustment.covariates_for("assessment") == ["idaci"]
    assert set(run.methods) == {p.stem for p in (REGISTRY_DIR / "methods").glob("*.yml")}
    assert run.methods["current"].measures["att_neet_1617"] == ["neet_nk_ehcp_pct"]
    assert run.editions.spec("201819").method == "original_2019" and run.editions.render == ("201819", "202425")
    assert run.editions.spec("203031") == run.editions.default  # a year not listed takes the default
    assert [m.source for m in run.neighbours] == ["sn_2021", "sn_2025"]
    assert run.hexmaps.get("hex_hocl").format == "gpkg" and run.hexmaps.labels.overrides["889"] == "BWD"
    assert run.placement.supply_counts and run.placement.series_breaks["sen2_ehcp_no_school_place_pct"][0] == "201819"
    assert run.known_gaps[0].years == ("202324", "202425")
    assert run.middle_bands.above == 60


def test_settings_are_frozen_all_the_way_down():
    run = run_settings()
    sections = [run, *(getattr(run, f.name) for f in dataclasses.fields(run)
                       if dataclasses.is_dataclass(getattr(run, f.name)))]
    sections += [*run.neighbours, *run.known_gaps, *run.methods.values(), *run.hexmaps.maps]
    for s in sections:
        assert type(s).__dataclass_params__.frozen, type(s).__name__
        first = dataclasses.fields(s)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(s, first, None)


def test_environment_overrides_the_files(monkeypatch):
    monkeypatch.setenv("INCLUSION_UNCERTAINTY_DRAWS", "7")
    monkeypatch.setenv("INCLUSION_UNCERTAINTY_JOBS", "3")
    u = load_run_settings().uncertainty
    assert (u.n_draws, u.n_jobs) == (7, 3)
    assert parse_uncertainty(REGISTRY_DIR / "uncertainty.yml").n_draws == 500  # the file itself
    monkeypatch.setenv("INCLUSION_VERIFY_CHECKSUMS", "off")
    assert not verify_checksums()
    monkeypatch.delenv("INCLUSION_VERIFY_CHECKSUMS")
    assert verify_checksums()


def test_errors_name_the_file_and_key(tmp_path):
    reg = tmp_path / "registry"
    shutil.copytree(REGISTRY_DIR, reg)
    (reg / "neighbours.yml").write_text("models:\n  - source: sn_2021\n    last_final_year: '2022'\n")
    with pytest.raises(ConfigError, match=r"neighbours\.yml: model sn_2021 last_final_year"):
        load_run_settings(reg)
    shutil.copy(REGISTRY_DIR / "neighbours.yml", reg / "neighbours.yml")
    (reg / "uncertainty.yml").write_text("sampling:\n  indicators:\n    excl_perm_ehcp: {modle: poisson}\n")
    with pytest.raises(ConfigError, match=r"uncertainty\.yml: sampling\.indicators\.excl_perm_ehcp: unknown key"):
        load_run_settings(reg)
    (reg / "uncertainty.yml").write_text("monte_carlo: [unclosed\n")
    with pytest.raises(ConfigError, match=r"uncertainty\.yml: cannot read uncertainty settings"):
        load_run_settings(reg)


def test_only_config_imports_yaml():
    readers = []
    for path in sorted(LIB.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n == "yaml" or n.startswith("yaml.") for n in names):
                readers.append(str(path.relative_to(LIB)))
    assert readers == ["config.py"]
