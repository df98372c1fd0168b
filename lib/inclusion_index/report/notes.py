"""The one place a cell's story becomes words: indicator_values records it as columns
(indicators.NOTE_COLUMNS), code tests those, and readers get sentences from here."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from inclusion_index.index.edition import Edition
from inclusion_index.index.indicators import NOTE_COLUMNS
from inclusion_index.sources.geography import boundary_changes, boundary_words, label_years, year_label


def edition_note(r: Mapping) -> str:
    """The part of a cell's note every LA shares for its indicator and year (carried forward, or
    no LA values at all); ``r`` is a values row or an Edition.substitutions() row."""
    if pd.notna(r["carried_from"]):
        return f"carried forward from {r['carried_from']} (no {r['expected_year']} data in this project)"
    if r["missing_reason"] == "no_la_values":
        return f"no LA values for {r['expected_year']} in this project's data"
    return ""


def cell_flag(r: Mapping, *, reader: bool = False, shared: bool = True) -> str:
    """One cell's note: 'carried forward from 202223 (…); boundary: from predecessor 909; imputed: …'.
    ``reader``: the profile's wording; ``shared=False``: without the edition-wide part (edition_note)."""
    parts = [edition_note(r)] if shared else []
    if r["predecessors"]:
        parts.append("boundary: " + boundary_words(r["predecessors"], r["combined"]))
    if pd.notna(r["imputed_count"]):
        parts.append(f'imputed as {r["imputed_count"]:g} (DfE published the count only as "{r["imputed_range"]}")'
                     if reader else f"imputed: {r['imputed_count']:g} for a suppressed count ({r['imputed_range']})")
    if pd.notna(r["unrecorded_pct_flagged"]):
        parts.append(f"placement not recorded for {r['unrecorded_pct_flagged']:.1f}% of "
                     + ("its EHC plans" if reader else "the LA's EHC plans"))
    if r["missing_reason"] in ("not_in_source", "source_marker"):
        parts.append("missing: " + ("not in source" if r["missing_reason"] == "not_in_source"
                                    else str(r["missing_marker"])))
    s = "; ".join(p for p in parts if p)
    return label_years(s) if reader else s


def neighbour_note(r: Mapping, names: Mapping[str, str], *, reader: bool = False) -> str:
    """Where an LA's neighbours come from when not its own current row of DfE's file (a neighbour
    table row); '' otherwise. ``reader``: what the rows are, not the file's layout."""
    la, b = r["la_code"], r["borrowed_from"]
    if b:
        head = "DfE's model lists no neighbours for" if reader else "the file gives no neighbours for"
        return f"{head} {la} ({names.get(la, '?')}); those of its {r['borrowed_how']} {b} ({names.get(b, '?')})"
    if not r["from_old_model"]:
        return ""
    if not reader:
        return "LA's neighbours from the file's 'Old SNs' rows (pre-reorganisation model)"
    bc = boundary_changes()
    years = sorted({str(d)[:4] for d in bc.loc[bc["predecessor"].astype(str) == la, "effective"]})
    when = f"the {' and '.join(years)} boundary change" if years else "a boundary change"
    return f"From DfE's list of neighbours for the councils before {when}"


def values_csv(values: pd.DataFrame) -> pd.DataFrame:
    """The values table as published: the note columns become one ``flag`` sentence, last."""
    out = values.drop(columns=NOTE_COLUMNS)
    out["flag"] = [cell_flag(r) for r in values[NOTE_COLUMNS].to_dict("records")]
    return out


def la_cell_notes(ed: Edition, *, reader: bool = False) -> pd.Series:
    """Per LA: 'indicator: note' for the headline year's cells, without the edition-wide notes."""
    v = ed.values[ed.values["index_year"] == ed.final_year]
    notes = [(la, f"{i}: {n}") for la, i, r in zip(v["la_code"], v["indicator"], v[NOTE_COLUMNS].to_dict("records"),
                                                    strict=True) if (n := cell_flag(r, reader=reader, shared=False))]
    return pd.DataFrame(notes, columns=["la_code", "note"]).groupby("la_code")["note"].agg("; ".join)


def change_notes(ed: Edition) -> pd.Series:
    """Per LA whose starting values are a predecessor's (a boundary change): say so."""
    v = ed.values
    first = v[(v["index_year"] == ed.years[0]) & (v["predecessors"] != "")]
    names = ed.ref.names() if ed.ref is not None else {}
    notes = {}
    for la, g in first.groupby("la_code"):
        preds = sorted({c for p in g["predecessors"] for c in p.split(",")})
        who = ", ".join(f"{names.get(c, c)} ({c})" for c in preds)
        notes[la] = (f"{len(g)} of its {year_label(ed.years[0])} starting values are those of {who} (boundary "
                     "change): the change compares this LA with its predecessor's figures")
    return pd.Series(notes, dtype="object")


def score_table_text(ed: Edition) -> pd.DataFrame:
    """The score table as published: ``flags`` gains the cell notes, ``change_note`` follows
    ``change_indicators_compared``."""
    t = ed.score_table.copy()
    cells = t["la_code"].map(la_cell_notes(ed))
    t["flags"] = ["; ".join(x for x in (a, b) if isinstance(x, str) and x)
                  for a, b in zip(t["flags"], cells, strict=True)]
    if "change_indicators_compared" in t:
        t.insert(t.columns.get_loc("change_indicators_compared") + 1, "change_note",
                 t["la_code"].map(change_notes(ed)).astype(object).fillna(""))
    return t


def la_flags(ed: Edition, code: str, *, reader: bool = False) -> str:
    """The score table's ``flags`` for one LA: the scoring's reasons, then its cells' notes."""
    scoring = ed.headline().scores["flags"].get(code, "")
    scoring = label_years(scoring) if reader and isinstance(scoring, str) else scoring
    cells = la_cell_notes(ed, reader=reader).get(code, "")
    return "; ".join(x for x in (scoring, cells) if isinstance(x, str) and x)
