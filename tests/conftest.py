"""Shared fixtures: the real data folder (../shared/data/raw or $INCLUSION_DATA_DIR)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Tests check the Monte Carlo's mechanics, not its precision: 50 draws keep each score table
# a second or two (the reports use data/registry/uncertainty.yml's 500). Kernels inherit this.
os.environ.setdefault("INCLUSION_UNCERTAINTY_DRAWS", "50")


@pytest.fixture(autouse=True)
def _fresh_run_settings():
    """Tests change INCLUSION_UNCERTAINTY_DRAWS with monkeypatch; the settings cached from one
    test must not leak its draw count into the next (the backtests need the 50 set above)."""
    from inclusion_index.config import run_settings

    run_settings.cache_clear()
    yield
    run_settings.cache_clear()


def real_data_dir() -> Path:
    env = os.environ.get("INCLUSION_DATA_DIR")
    return Path(env) if env else (REPO.parent / "shared" / "data" / "raw").resolve()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    d = real_data_dir()
    if not d.is_dir():
        pytest.fail(f"real data folder not found at {d}; set INCLUSION_DATA_DIR")
    return d


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


def mirror_with(real: Path, dest: Path, replace: dict[str, bytes | None]) -> Path:
    """A data folder whose files link to the real ones, except registry paths in `replace`
    (new content, or None to leave the file out). For bad-input tests on real files."""
    from inclusion_index.sources.registry import load_registry

    for s in load_registry().sources:
        target = dest / s.path
        target.parent.mkdir(parents=True, exist_ok=True)
        if s.path in replace:
            content = replace[s.path]
            if content is not None:
                target.write_bytes(content)
        else:
            target.symlink_to(real / s.path)
    return dest


@pytest.fixture(scope="module")
def editions(data_dir, tmp_path_factory):
    """Both rendered editions built through the core steps only (no Monte Carlo, adjustment,
    funnels or neighbours), for tests that use only the headline and area scores."""
    from inclusion_index.index.build import CORE_STEPS, build_edition
    from inclusion_index.sources.harmonise import load_inputs

    long = load_inputs(data_dir, cache_dir=tmp_path_factory.mktemp("cache"))
    return {y: build_edition(y, long=long, data_dir=data_dir, steps=CORE_STEPS) for y in ("201819", "202425")}


@pytest.fixture
def browser():
    """A headless Chromium, quit after the test (see tests/browser.py)."""
    from .browser import chrome

    d = chrome()
    try:
        yield d
    finally:
        d.quit()
