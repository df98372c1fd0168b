"""Two editions compared: each LA's overall and area scores and ranks in an earlier edition
against a later one (e.g. 2018/19 against 2024/25).

The earlier edition's scores are moved onto the later edition's LAs through the boundary-change
table (geography.map_to_geography): a split LA takes its predecessor's score, a merged LA the
unweighted mean of its predecessors', both flagged, and a merged LA has no earlier rank. Scores
are percentile-based, so a change means moving past other LAs; the two editions may use
different methods (data/registry/editions.yml), which the output names. A change is called
"beyond uncertainty" only when the two 90% Monte Carlo rank ranges do not overlap.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .geography import boundary_edges, boundary_reference, map_to_geography, related_in
from .indicators import AREAS

TARGETS: tuple[str, ...] = ("overall", *AREAS)


def compare_editions(earlier: Any, later: Any) -> pd.DataFrame:
    """One row per LA of ``later``: ``<target>_score_from``/``_to``, ``<target>_score_change``,
    ``overall_rank_from``/``_to`` (with their 90% ranges), ``overall_rank_change`` (positive =
    moved up), ``ranges_overlap`` and ``note`` (boundary mapping); plus the editions' years
    and methods."""
    a = earlier.score_table_cached().set_index("la_code")
    b = later.score_table_cached().set_index("la_code")
    codes = [str(c) for c in later.geography["la_code"]]
    ref = later.ref if later.ref is not None else boundary_reference()
    out = pd.DataFrame(index=pd.Index(codes, name="la_code"))
    out["la_name"] = b["la_name"].reindex(codes)
    out["region"] = b["region"].reindex(codes)
    out["edition_from"], out["edition_to"] = earlier.final_year, later.final_year
    out["method_from"], out["method_to"] = earlier.method.key, later.method.key
    for t in TARGETS:
        col = f"{t}_score"
        src = a[[col]].rename(columns={col: "value"}).reset_index()
        src = src[src["value"].notna()]
        moved = map_to_geography(src, codes, ref).drop_duplicates("la_code").set_index("la_code")
        out[f"{t}_score_from"] = moved["value"].reindex(codes).astype("float64")
        out[f"{t}_score_to"] = pd.to_numeric(b[col].reindex(codes), errors="coerce").astype("float64")
        out[f"{t}_score_change"] = out[f"{t}_score_to"] - out[f"{t}_score_from"]
    # where each later LA's earlier figures come from: itself, one predecessor (a split or a
    # recode: its rank carries over, flagged) or several (a merge: no earlier rank)
    pred = boundary_edges(ref.changes, "predecessor")
    names = {**a["la_name"].astype(str).to_dict()}
    origin = {c: [c] if c in a.index else related_in(c, set(a.index), pred) for c in codes}
    single = pd.Series({c: o[0] if len(o) == 1 else None for c, o in origin.items()})
    for part in ("", "_lo", "_hi"):
        col = f"overall_rank{part}"
        ra = pd.to_numeric(a[col], errors="coerce") if col in a else pd.Series(np.nan, index=a.index)
        rb = pd.to_numeric(b[col], errors="coerce") if col in b else pd.Series(np.nan, index=b.index)
        out[f"overall_rank_from{part}"] = pd.array(
            [ra.get(s, np.nan) if s is not None else np.nan for s in single.reindex(codes)],
            dtype="Float64").round().astype("Int64")
        out[f"overall_rank_to{part}"] = pd.array(rb.reindex(codes).to_numpy(dtype="float64", na_value=np.nan),
                                                 dtype="Float64").round().astype("Int64")
    out["overall_rank_change"] = out["overall_rank_from"] - out["overall_rank_to"]
    lo_a, hi_a = out["overall_rank_from_lo"].astype("Float64"), out["overall_rank_from_hi"].astype("Float64")
    lo_b, hi_b = out["overall_rank_to_lo"].astype("Float64"), out["overall_rank_to_hi"].astype("Float64")
    out["ranges_overlap"] = ((lo_a <= hi_b) & (lo_b <= hi_a)).astype("boolean")
    note = []
    for c in codes:
        o = origin[c]
        if o == [c]:
            note.append("")
        elif len(o) == 1:
            note.append(f"earlier figures are {names.get(o[0], o[0])}'s ({o[0]}; boundary change)")
        elif o:
            note.append("merged: earlier score is the unweighted mean of " +
                        ", ".join(f"{names.get(x, x)} ({x})" for x in o) + "; no earlier rank")
        else:
            note.append("not in the earlier edition")
    out["note"] = note
    return out.reset_index()


def comparison_summary(table: pd.DataFrame) -> dict[str, float]:
    """Counts a reader can quote: LAs compared, up / down beyond uncertainty, median |change|."""
    ch = table["overall_score_change"]
    beyond = table["ranges_overlap"].eq(False).fillna(False).astype(bool)
    return {
        "las_compared": int(ch.notna().sum()),
        "up_beyond_uncertainty": int((beyond & (table["overall_rank_change"] > 0).fillna(False)).sum()),
        "down_beyond_uncertainty": int((beyond & (table["overall_rank_change"] < 0).fillna(False)).sum()),
        "median_abs_score_change": float(ch.abs().median()) if ch.notna().any() else float("nan"),
    }


__all__ = ["compare_editions", "comparison_summary"]
