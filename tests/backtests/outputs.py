"""The outputs the backtests freeze, computed the way the reports compute them.

``python -m tests.backtests.outputs`` regenerates ``ground_truth/`` (run it only in a commit
whose message says which output changed and why); ``test_backtests.py`` compares a fresh
build with it. Draws are fixed at the tests' 50 so the Monte Carlo columns are frozen too.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

os.environ["INCLUSION_UNCERTAINTY_DRAWS"] = "50"

import pandas as pd

GROUND_TRUTH = Path(__file__).with_name("ground_truth")
EDITIONS = ("201819", "202425")
PARTS = ("introduction", "exclusions", "assessment", "placement", "attainment", "conclusions")


def outputs(data_dir: Path, cache_dir: Path, editions: Mapping[str, Any] | None = None) -> dict[str, pd.DataFrame | str]:
    """Every frozen output by file name: score tables, cell values, part numbers and sentences, findings.
    ``editions``: both editions already built with every step (the tests' shared ones), else built here."""
    from inclusion_index.index.build import build_edition
    from inclusion_index.report.notes import score_table_text, values_csv
    from inclusion_index.report.series import PARTS as PART_FUNCS
    from inclusion_index.report.series import findings_markdown
    from inclusion_index.sources.harmonise import load_inputs

    long = None if editions else load_inputs(data_dir, cache_dir=cache_dir)
    out: dict[str, pd.DataFrame | str] = {}
    for e in EDITIONS:
        ed = editions[e] if editions else build_edition(e, long=long, data_dir=data_dir)
        out[f"scores_{e}.csv"] = score_table_text(ed)  # what write_score_table writes
        out[f"values_{e}.csv"] = values_csv(ed.values)
        numbers, sentences = [], []
        for key in PARTS:
            part = PART_FUNCS[key](ed)
            numbers += [{"part": key, "number": k, "value": v} for k, v in part.numbers.items()]
            sentences += [{"part": key, "section": s, "i": i, "sentence": t}
                          for s, ts in part.sections.items() for i, t in enumerate(ts)]
        out[f"part_numbers_{e}.csv"] = pd.DataFrame(numbers, columns=["part", "number", "value"])
        out[f"part_sentences_{e}.csv"] = pd.DataFrame(sentences, columns=["part", "section", "i", "sentence"])
        out[f"findings_{e}.md"] = findings_markdown(ed)
    return out


def read_frame(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"la_code": str, "edition": str, "index_year": str}, keep_default_na=True)


def write(outs: dict[str, pd.DataFrame | str], folder: Path = GROUND_TRUTH) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, obj in outs.items():
        if isinstance(obj, str):
            (folder / name).write_text(obj, encoding="utf-8")
        else:
            obj.to_csv(folder / name, index=False, lineterminator="\n")


if __name__ == "__main__":
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.conftest import real_data_dir

    with tempfile.TemporaryDirectory() as tmp:
        write(outputs(real_data_dir(), Path(tmp)))
    print(f"ground truth written to {GROUND_TRUTH}")
