"""Notes as data: each note kind worded from hand-made rows, and no code outside notes.py
reading the words back."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from inclusion_index.index.indicators import NOTE_COLUMNS
from inclusion_index.report import notes

LIB = Path(notes.__file__).parents[1]  # the whole package


def cell(**kw) -> dict:
    """A values row with nothing to say, changed by ``kw``."""
    r = {"carried_from": pd.NA, "expected_year": "202324", "predecessors": "", "combined": "",
         "imputed_count": np.nan, "imputed_range": "", "missing_reason": "", "missing_marker": "",
         "unrecorded_pct_flagged": np.nan}
    assert set(r) == set(NOTE_COLUMNS)
    return {**r, **kw}


@pytest.mark.parametrize(("row", "flag", "reader"), [
    (cell(), "", ""),
    (cell(carried_from="202223"), "carried forward from 202223 (no 202324 data in this project)",
     "carried forward from 2022/23 (no 2023/24 data in this project)"),
    (cell(missing_reason="no_la_values"), "no LA values for 202324 in this project's data",
     "no LA values for 2023/24 in this project's data"),
    (cell(predecessors="909"), "boundary: from predecessor 909", "boundary: from predecessor 909"),
    (cell(predecessors="836,837", combined="weighted"),
     "boundary: combined from predecessors 836, 837 (weighted by denominator)",
     "boundary: combined from predecessors 836, 837 (weighted by denominator)"),
    (cell(predecessors="836,837", combined="unweighted"), "boundary: unweighted mean of predecessors 836, 837",
     "boundary: unweighted mean of predecessors 836, 837"),
    (cell(imputed_count=1.5, imputed_range="1 or 2 exclusions"),
     "imputed: 1.5 for a suppressed count (1 or 2 exclusions)",
     'imputed as 1.5 (DfE published the count only as "1 or 2 exclusions")'),
    (cell(unrecorded_pct_flagged=26.175), "placement not recorded for 26.2% of the LA's EHC plans",
     "placement not recorded for 26.2% of its EHC plans"),
    (cell(missing_reason="not_in_source"), "missing: not in source", "missing: not in source"),
    (cell(missing_reason="source_marker", missing_marker="placement split not published (x); total plans given"),
     "missing: placement split not published (x); total plans given",
     "missing: placement split not published (x); total plans given"),
    (cell(carried_from="202223", predecessors="909", imputed_count=1.0, imputed_range="1 or 2 exclusions"),
     "carried forward from 202223 (no 202324 data in this project); boundary: from predecessor 909; "
     "imputed: 1 for a suppressed count (1 or 2 exclusions)",
     "carried forward from 2022/23 (no 2023/24 data in this project); boundary: from predecessor 909; "
     'imputed as 1 (DfE published the count only as "1 or 2 exclusions")'),
])
def test_each_note_kind_in_both_wordings(row, flag, reader):
    assert notes.cell_flag(row) == flag
    assert notes.cell_flag(row, reader=True) == reader


def test_the_edition_wide_part_can_be_left_out():
    row = cell(carried_from="202223", missing_reason="not_in_source")
    assert notes.edition_note(row) == "carried forward from 202223 (no 202324 data in this project)"
    assert notes.cell_flag(row, shared=False) == "missing: not in source"
    assert notes.edition_note(cell(missing_reason="no_la_values")) == "no LA values for 202324 in this project's data"
    assert notes.cell_flag(cell(missing_reason="no_la_values"), shared=False) == ""


def test_values_csv_puts_the_flag_last_in_place_of_the_note_columns():
    v = pd.DataFrame([{"la_code": "201", "value": 1.0, **cell()},
                      {"la_code": "202", "value": np.nan, **cell(missing_reason="not_in_source")}])
    out = notes.values_csv(v)
    assert list(out.columns) == ["la_code", "value", "flag"]
    assert out["flag"].tolist() == ["", "missing: not in source"]


def test_neighbour_notes_in_both_wordings():
    names = {"837": "Bournemouth", "941": "West Northamptonshire", "928": "Northamptonshire"}
    own = {"la_code": "882", "from_old_model": False, "borrowed_from": "", "borrowed_how": ""}
    assert notes.neighbour_note(own, names) == notes.neighbour_note(own, names, reader=True) == ""
    old = {**own, "la_code": "837", "from_old_model": True}
    assert notes.neighbour_note(old, names) == ("LA's neighbours from the file's 'Old SNs' rows "
                                                "(pre-reorganisation model)")
    assert notes.neighbour_note(old, names, reader=True) == ("From DfE's list of neighbours for the councils "
                                                             "before the 2019 boundary change")
    lent = {**own, "la_code": "941", "borrowed_from": "928", "borrowed_how": "predecessor"}
    assert notes.neighbour_note(lent, names) == ("the file gives no neighbours for 941 (West Northamptonshire); "
                                                 "those of its predecessor 928 (Northamptonshire)")
    assert notes.neighbour_note(lent, names, reader=True).startswith("DfE's model lists no neighbours for 941")


# what parsing the notes' words looked like; only notes.py may mention the wording
PARSES = [
    r'str\.(contains|extract|startswith)\(r?"[^"]*(imputed|missing|predecessor|carried)',
    r'(startswith|split|removeprefix)\(\(?"(carried|no LA values|from predecessor)',
    r're\.\w+\(r?"[^"]*(imputed|carried forward|not published|predecessor)',
    r'\["(flag|edition_note|boundary_note)"\]\.str\.',
    r'"(edition_note|boundary_note)"',
]
# code allowed to match note words (none: the statistical neighbours' notes are typed columns too)
KNOWN_REMAINING: set[tuple[str, str]] = set()


def test_no_code_outside_notes_parses_note_words():
    found = []
    for path in sorted(LIB.rglob("*.py")):
        if path.name == "notes.py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            neighbour_regex = "re.compile(" in line and any(w in line for w in ("SNs", "no neighbours"))
            known = any(path.name == f and name in line for f, name in KNOWN_REMAINING)
            if any(re.search(p, line) for p in PARSES) or (neighbour_regex and not known):
                found.append(f"{path.relative_to(LIB)}:{n}: {line.strip()}")
    assert not found, "\n".join(found)


def test_computing_modules_never_import_notes():
    for path in [*(LIB / "index").rglob("*.py"), *(LIB / "sources").rglob("*.py")]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"report\.notes import|import notes", text), path
