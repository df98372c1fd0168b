"""Shared fixtures: the real data folder (../shared/data/raw or $INCLUSION_DATA_DIR), and the
expensive things built from it once per test run, not once per module or per xdist worker."""

from __future__ import annotations

import fcntl
import functools
import hashlib
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]

# Tests check the Monte Carlo's mechanics, not its precision: 50 draws keep each score table
# a second or two (the reports use data/registry/uncertainty.yml's 500). Kernels inherit this.
os.environ.setdefault("INCLUSION_UNCERTAINTY_DRAWS", "50")


def real_data_dir() -> Path:
    env = os.environ.get("INCLUSION_DATA_DIR")
    return Path(env) if env else (REPO.parent / "shared" / "data" / "raw").resolve()


def _code_digest() -> str:
    """Changes with the code, notebooks, docs, registry, this file, the draw count or the data
    folder, so the shared folder never hands one code's results to another (checkouts share /tmp)."""
    h = hashlib.sha256(f"{real_data_dir()}|{os.environ['INCLUSION_UNCERTAINTY_DRAWS']}".encode())
    # lib: code and templates; notebooks and docs/METHOD.md: the rendered pages
    for p in sorted([*(REPO / "lib").rglob("*"), *(REPO / "notebooks").rglob("*"), *(REPO / "docs").rglob("*"),
                     *(REPO / "data" / "registry").rglob("*"), Path(__file__)]):
        if p.is_file() and "__pycache__" not in p.parts and ".egg-info" not in str(p):
            h.update(p.relative_to(REPO).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


# One folder for the whole run and both xdist workers: the harmonised-input cache (a cold read
# parses every raw file, about a minute of CPU) and the editions built from it. The kernels and
# profile workers of a render inherit INCLUSION_CACHE_DIR, so they find the same files.
SHARED = Path(tempfile.gettempdir()) / f"inclusion-index-tests-{_code_digest()}"
os.environ.setdefault("INCLUSION_CACHE_DIR", str(SHARED / "cache"))
EDITIONS = ("201819", "202425")


@contextmanager
def locked(name: str) -> Iterator[None]:
    """Hold an exclusive lock shared by every worker: the first builds, the others wait and read."""
    SHARED.mkdir(parents=True, exist_ok=True)
    with (SHARED / f"{name}.lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def shared_pickle(name: str, build: Callable[[], Any]) -> Any:
    """``build()`` once per run (whichever worker comes first); every call returns a fresh copy,
    so a module that changes what it gets cannot leak into another."""
    path = SHARED / f"{name}.pkl"
    with locked(name):
        if not path.exists():
            obj = build()
            tmp = path.with_suffix(f".{os.getpid()}.part")
            tmp.write_bytes(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))
            tmp.replace(path)
    return pickle.loads(path.read_bytes())


@pytest.fixture(autouse=True)
def _fresh_run_settings():
    """Tests change INCLUSION_UNCERTAINTY_DRAWS with monkeypatch; the settings cached from one
    test must not leak its draw count into the next (the backtests need the 50 set above)."""
    from inclusion_index.config import run_settings

    run_settings.cache_clear()
    yield
    run_settings.cache_clear()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    d = real_data_dir()
    if not d.is_dir():
        pytest.fail(f"real data folder not found at {d}; set INCLUSION_DATA_DIR")
    return d


@functools.cache
def _long(data_dir: Path) -> Any:
    """The harmonised long table, through the shared cache; one worker parses the raw files
    while the other waits, then reads the cache."""
    from inclusion_index.sources.harmonise import load_inputs

    with locked("harmonised"):
        return load_inputs(data_dir)


@pytest.fixture(scope="session")
def cache_dir(data_dir) -> Path:
    """The shared cache (INCLUSION_CACHE_DIR), warmed: every source family parsed and cached."""
    _long(data_dir)
    return Path(os.environ["INCLUSION_CACHE_DIR"])


@pytest.fixture(scope="module")
def long(data_dir):
    """The harmonised long table of every source family (a copy per module)."""
    return _long(data_dir).copy()


def edition_path(year: str, data_dir: Path) -> Path:
    """The finished edition's file (every step, the tests' draw count) in the shared cache, as
    the pipeline's edition_file writes it, built by one worker while the other waits."""
    from inclusion_index.index.build import edition_file

    _long(data_dir)
    with locked(f"edition-{year}"):
        return edition_file(year, data_dir=data_dir)


def full_edition(year: str, data_dir: Path) -> Any:
    """A fresh copy of the finished edition, built once per run (:func:`edition_path`)."""
    from inclusion_index.index.build import read_edition

    return read_edition(edition_path(year, data_dir))


def core_editions(data_dir: Path) -> dict[str, Any]:
    """Fresh copies of both rendered editions built through the core steps only, built once per run."""
    from inclusion_index.index.build import CORE_STEPS, build_edition

    def build() -> dict[str, Any]:
        long = _long(data_dir)
        return {y: build_edition(y, long=long, data_dir=data_dir, steps=CORE_STEPS) for y in EDITIONS}

    return shared_pickle("core-editions", build)


@pytest.fixture(scope="session")
def site(data_dir) -> Path:
    """Both editions' reports as `inclusion-index render` writes them (six parts, scores, findings,
    explore, the index, five LA profiles each, so axe-core checks ten), rendered once per run for every test that reads
    them (test_series_render, test_findings_table, test_series). Read it; never write into it."""
    out, done = SHARED / "site", SHARED / "site.ok"
    for e in EDITIONS:
        edition_path(e, data_dir)
    with locked("site"):
        if not done.exists():  # a render cut short leaves no mark: start again
            shutil.rmtree(out, ignore_errors=True)
            # in a process of its own: a render moves the process's working directory while
            # notebooks run (papermill), which must not leak into the tests that run after it here
            cli = "import sys; from inclusion_index.cli import main; sys.exit(main(sys.argv[1:]))"
            r = subprocess.run([sys.executable, "-c", cli, "render", "--data-dir", str(data_dir), "--reports-dir",
                                str(out), "--years", "3", "--profiles-limit", "5", "--edition", *EDITIONS],
                               cwd=REPO, capture_output=True, text=True)
            assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
            done.touch()
    return out


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
def editions(data_dir):
    """Both rendered editions built through the core steps only (no Monte Carlo, adjustment,
    funnels or neighbours), for tests that use only the headline and area scores. A copy per
    module: test_comparison adds columns to the score tables."""
    return core_editions(data_dir)


@pytest.fixture
def browser():
    """A headless Chromium, quit after the test (see tests/browser.py)."""
    from .browser import chrome

    d = chrome()
    try:
        yield d
    finally:
        d.quit()
