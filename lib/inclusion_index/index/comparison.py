"""Two editions compared LA by LA, the earlier moved onto the later LAs through boundary changes.
Rank ranges apart mean a move larger than each edition's own uncertainty, not proof of change: they
do not cover a change of definition, which the output names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from inclusion_index.csv_export import write_csv
from inclusion_index.index.edition import Edition
from inclusion_index.index.indicators import first_clause
from inclusion_index.index.scoring import TARGETS
from inclusion_index.sources.geography import boundary_edges, boundary_reference, map_to_geography, related_in


def compare_editions(earlier: Edition, later: Edition) -> pd.DataFrame:
    """One row per LA of ``later``: scores from / to / change per target, overall ranks with their 90%
    ranges, ``ranges_overlap``, boundary ``note`` and ``measures_changed``, with both editions' years and methods."""
    a = earlier.score_table.set_index("la_code")
    b = later.score_table.set_index("la_code")
    codes = [str(c) for c in later.geography["la_code"]]
    ref = later.ref if later.ref is not None else boundary_reference()
    out = b[["la_name", "region"]].reindex(pd.Index(codes, name="la_code"))
    out["edition_from"], out["edition_to"] = earlier.final_year, later.final_year
    out["method_from"], out["method_to"] = earlier.method.key, later.method.key
    for t in TARGETS:
        col = f"{t}_score"
        moved = map_to_geography(a[col].dropna().rename("value").reset_index(), codes, ref).drop_duplicates("la_code").set_index("la_code")
        out[f"{t}_score_from"] = moved["value"].reindex(codes).astype("float64")
        out[f"{t}_score_to"] = pd.to_numeric(b[col].reindex(codes), errors="coerce").astype("float64")
        out[f"{t}_score_change"] = out[f"{t}_score_to"] - out[f"{t}_score_from"]
    # where each later LA's earlier figures come from: itself, one predecessor (a split or a
    # recode: its rank carries over, flagged) or several (a merge: no earlier rank)
    pred = boundary_edges(ref.changes, "predecessor")
    names = a["la_name"].astype(str).to_dict()
    origin = {c: [c] if c in a.index else related_in(c, set(a.index), pred) for c in codes}
    single = [o[0] if len(o) == 1 else None for o in origin.values()]

    def ranks(t: pd.DataFrame, col: str, at: list) -> pd.api.extensions.ExtensionArray:
        r = pd.to_numeric(t.get(col, pd.Series(np.nan, index=t.index)), errors="coerce").reindex(at)
        return pd.array(r.to_numpy(dtype="float64", na_value=np.nan), dtype="Float64").round().astype("Int64")

    for part in ("", "_lo", "_hi"):
        out[f"overall_rank_from{part}"] = ranks(a, f"overall_rank{part}", single)
        out[f"overall_rank_to{part}"] = ranks(b, f"overall_rank{part}", codes)
    out["overall_rank_change"] = out["overall_rank_from"] - out["overall_rank_to"]
    out["ranges_overlap"] = ((out["overall_rank_from_lo"] <= out["overall_rank_to_hi"])
                             & (out["overall_rank_to_lo"] <= out["overall_rank_from_hi"])).astype("boolean")
    out["note"] = ["" if o == [c] else f"earlier figures are {names.get(o[0], o[0])}'s ({o[0]}; boundary change)"
                   if len(o) == 1 else "merged: earlier score is the unweighted mean of " + ", ".join(
                       f"{names.get(x, x)} ({x})" for x in o) + "; no earlier rank" if o else
                   "not in the earlier edition" for c, o in origin.items()]
    # the LA's indicators whose measure changed between the editions: its moves mix that change with real change
    v = later.values[(later.values["index_year"] == later.final_year) & later.values["value"].notna()]
    has, changed = v.groupby("la_code")["indicator"].agg(set), definition_changes(earlier, later)
    out["measures_changed"] = ["; ".join(d["name"] for d in changed if d["indicator"] in has.get(c, set()))
                               for c in codes]
    return out.reset_index()


def comparison_dictionary(table: pd.DataFrame) -> pd.DataFrame:
    """What each column of the comparison table means."""
    fixed = {
        "la_code": "3-digit DfE local authority code (the later edition's LAs)",
        "la_name": "Local authority name", "region": "Region (London split into Inner and Outer London)",
        "edition_from": "Earlier edition (its final index year, e.g. 201819 = 2018/19)",
        "edition_to": "Later edition", "method_from": "Method of the earlier edition (data/registry/methods/)",
        "method_to": "Method of the later edition",
        "overall_rank_change": "Places moved up (positive) from the earlier to the later overall rank",
        "ranges_overlap": "False if the two 90% Monte Carlo rank ranges do not overlap (a large move; the ranges "
                          "do not cover changes of method or definition between editions)",
        "note": "Where the earlier figures come from a predecessor LA (boundary change); empty if the LA is in both",
        "measures_changed": "The LA's indicators measured differently in the two editions (definition_changes): its "
                            "score and rank changes mix the change of measure with any real change; do not quote them "
                            "as the LA's own change",
    }
    for t in TARGETS:
        what = "overall score" if t == "overall" else f"{t} area score"
        fixed |= {f"{t}_score_from": f"Earlier edition's {what} (0-100; a merged LA's is the mean of its predecessors')",
                  f"{t}_score_to": f"Later edition's {what} (0-100)",
                  f"{t}_score_change": f"Later minus earlier {what} (percentile points: relative to other LAs)"}
    for part, words in (("", "rank"), ("_lo", "best end of the 90% rank range"),
                        ("_hi", "worst end of the 90% rank range")):
        fixed |= {f"overall_rank_from{part}": f"Earlier edition's overall {words} (a split LA takes its "
                                              "predecessor's; a merged LA has none)",
                  f"overall_rank_to{part}": f"Later edition's overall {words}"}
    return pd.DataFrame({"column": table.columns, "description": [fixed.get(c, "") for c in table.columns]})


def write_comparison(earlier: Edition, later: Edition, out: Path) -> pd.DataFrame:
    """The comparison as CSV at ``out`` with its data dictionary beside it; returns the table."""
    table = compare_editions(earlier, later)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_csv(table, out)
    write_csv(comparison_dictionary(table), out.with_name(out.stem + ".dictionary.csv"))
    return table


def definition_changes(earlier: Edition, later: Edition) -> list[dict[str, str]]:
    """Indicators whose source measure differs between the two editions' final index years
    (e.g. NEET of all young people against NEET-or-not-known of those with an EHC plan)."""
    def measures(ed: Edition) -> dict[str, str]:
        v = ed.values[ed.values["index_year"] == ed.final_year]
        return v.groupby("indicator")["measure"].first().to_dict()

    a, b = measures(earlier), measures(later)
    names = later.indicators.set_index("indicator")["short_name"].to_dict()
    desc = {m: first_clause(d) for m, d in later.measures.set_index("measure")["description"].items()}
    return [{"indicator": i, "name": str(names.get(i, i)), "from": a[i], "to": b[i],
             "from_label": desc.get(a[i], a[i]), "to_label": desc.get(b[i], b[i])}
            for i in later.indicators["indicator"] if i in a and i in b and a[i] != b[i]]


def comparison_summary(table: pd.DataFrame) -> dict[str, float | str]:
    """Counts a reader can quote, over the LAs present in both editions: compared, moved up /
    down with 90% rank ranges apart, median absolute change in overall score."""
    both = table["note"].fillna("").eq("")
    ch = table.loc[both, "overall_score_change"]
    beyond = table["ranges_overlap"].eq(False).fillna(False).astype(bool) & both
    moves = table.loc[both, ["la_name", "overall_rank_change"]].dropna().sort_values("overall_rank_change")
    return {
        # the largest fall, for the index page's "do not write" example (as the review found it quoted)
        "largest_fall_la": str(moves["la_name"].iloc[0]) if len(moves) else "",
        "largest_fall": int(-moves["overall_rank_change"].iloc[0]) if len(moves) else 0,
        "las_compared": int(ch.notna().sum()),
        "las_via_predecessor": int((~both).sum()),
        "up_beyond_uncertainty": int((beyond & (table["overall_rank_change"] > 0).fillna(False)).sum()),
        "down_beyond_uncertainty": int((beyond & (table["overall_rank_change"] < 0).fillna(False)).sum()),
        "median_abs_score_change": float(ch.abs().median()) if ch.notna().any() else float("nan")}
