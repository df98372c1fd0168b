"""Backtests: a fresh build of both editions against the frozen ground truth (the NHS RAP pattern).

Every output a reader or tool sees is compared: score tables, each cell's value and note,
each part's numbers and sentences, and findings.md. A restructure must leave them all
unchanged; an intended change regenerates ``ground_truth/`` (``python -m tests.backtests.outputs``)
in its own commit that says why.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ..conftest import full_edition
from .outputs import EDITIONS, GROUND_TRUTH, outputs, read_frame, write


@pytest.fixture(scope="module")
def fresh(data_dir, cache_dir, tmp_path_factory):
    # both editions as build_edition makes them (edition_file's, built once for the whole run)
    folder = tmp_path_factory.mktemp("backtest")
    write(outputs(data_dir, cache_dir, {e: full_edition(e, data_dir) for e in EDITIONS}), folder)
    return folder


FRAMES = sorted(p.name for p in GROUND_TRUTH.glob("*.csv"))
TEXTS = sorted(p.name for p in GROUND_TRUTH.glob("*.md"))


def test_ground_truth_is_complete():
    for e in ("201819", "202425"):
        for stem in ("scores", "values", "part_numbers", "part_sentences"):
            assert f"{stem}_{e}.csv" in FRAMES
        assert f"findings_{e}.md" in TEXTS


@pytest.mark.parametrize("name", FRAMES)
def test_frame_unchanged(fresh, name):
    expected, got = read_frame(GROUND_TRUTH / name), read_frame(fresh / name)
    assert list(got.columns) == list(expected.columns), f"{name}: columns changed"
    # a column mixing numbers and words (part_numbers' value) is compared as text by pandas, so the
    # last-digit noise of a float sum (BLAS, summation order) would fail it: numbers there get the
    # same tolerance as numeric columns, words stay exact
    for col in expected.select_dtypes(include="object").columns:
        e, g = pd.to_numeric(expected[col], errors="coerce"), pd.to_numeric(got[col], errors="coerce")
        both = e.notna() & g.notna()
        close = np.isclose(g[both], e[both], rtol=1e-9, atol=1e-12)
        bad = both[both].index[~close]
        assert not len(bad), f"{name}: {col} row {bad[0]}: {got.at[bad[0], col]!r} != {expected.at[bad[0], col]!r}"
        expected.loc[both, col] = got.loc[both, col]
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-9, atol=1e-12, obj=name)


@pytest.mark.parametrize("name", TEXTS)
def test_text_unchanged(fresh, name):
    assert (fresh / name).read_text(encoding="utf-8") == (GROUND_TRUTH / name).read_text(encoding="utf-8")
