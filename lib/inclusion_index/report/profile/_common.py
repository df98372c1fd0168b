"""What every part of an LA's profile shares: its row of the score table and the marks for a
missing value or rank."""

from __future__ import annotations

import re

import pandas as pd

from inclusion_index.index.edition import Edition
from inclusion_index.report.templates import render_template
from inclusion_index.sources.geography import label_years

MISSING = "–"
NOT_RANKED = "not ranked"


def _scores(ed: Edition) -> pd.DataFrame:
    by_la = getattr(ed, "scores_by_la", None)  # None on an edition a test rebuilt by hand
    return ed.score_table.set_index("la_code") if by_la is None else by_la


def _row(ed: Edition, code: str) -> pd.Series:
    t = _scores(ed)
    if code not in t.index:
        raise KeyError(f"LA {code!r} is not in edition {ed.final_year} "
                       f"(it has {len(t)} LAs; City of London and Isles of Scilly are not ranked)")
    return t.loc[code]


def reader_note(note: object) -> str:
    """A note (already in a reader's words, e.g. from notes.py) with year keys as '2022/23',
    in sentence case; '' for none."""
    s = label_years(note) if isinstance(note, str) else ""
    return s[:1].upper() + s[1:]


def say(template: str, **words: object) -> str:
    """A paragraph from a profile template (templates/profile_*.html) on one line; a line that
    starts "- " (a Markdown list item) keeps its own."""
    return re.sub(r"\s*\n(?!- )\s*", " ", str(render_template(template, **words)).strip())
