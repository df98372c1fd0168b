"""DfE statistical neighbours (the children's services model LAIT uses): each LA's ten most similar
LAs, moved onto an edition's geography through boundary changes (flagged; LAs standing in for
one neighbour share its slot), and each LA's scores beside its neighbours'.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from inclusion_index.index.scoring import TARGETS
from inclusion_index.paths import data_dir as default_data_dir
from inclusion_index.sources.geography import (
    LAReference,
    boundary_edges,
    check_year_key,
    load_la_reference,
    related_in,
)
from inclusion_index.sources.loaders.base import LoadContext
from inclusion_index.sources.neighbour_files import N_NEIGHBOURS, model_for, read_sn_file
from inclusion_index.sources.registry import Registry, load_registry

# where the LA's rows come from when not its own current ones (notes.neighbour_note words them):
# the file's 'Old SNs' rows, or those of its one predecessor or successor (borrowed_how) the file has
NEIGHBOUR_COLUMNS = ["la_code", "neighbour_rank", "neighbour_code", "closeness", "weight", "file_code",
                     "from_old_model", "borrowed_from", "borrowed_how", "flag"]


@dataclass(frozen=True)
class NeighbourSet:
    """Neighbours of every LA of a geography, in the model assigned to its final year."""

    final_year: str
    source_id: str
    table: pd.DataFrame  # NEIGHBOUR_COLUMNS; ranks 1-10, several rows per rank where shared
    issues: pd.DataFrame  # la_code, issue: everything dropped, missing or incomplete


def statistical_neighbours(final_year: str, la_codes: list[str] | None = None, *, data_dir: Path | None = None,
                           source_id: str | None = None, ref: LAReference | None = None,
                           registry: Registry | None = None) -> NeighbourSet:
    """Ten neighbours per LA of the final year's geography (``la_codes``, default: the ranked LAs);
    a neighbour outside it is replaced by its successors or predecessors in it, sharing the slot,
    else dropped; each replacement is flagged and each drop or shortfall listed in ``issues``."""
    check_year_key(final_year)
    data_dir = Path(data_dir) if data_dir else default_data_dir()
    ref = ref or load_la_reference(data_dir)
    registry = registry or load_registry()
    source_id = source_id or model_for(final_year)
    sn = read_sn_file(LoadContext(data_dir=data_dir, registry=registry), source_id, ref.known_codes())
    target = set(ref.geography_for_year(final_year, include_excluded=True)["la_code"])
    if la_codes is None:
        la_codes = list(ref.geography_for_year(final_year)["la_code"])
    names = ref.names()
    succ, pred = boundary_edges(ref.changes, "successor"), boundary_edges(ref.changes, "predecessor")
    by_la = dict(list(sn.neighbours.groupby(["la_code", "section"], sort=False)))
    sections = sn.listed[sn.listed["has_neighbours"]].groupby("la_code")["section"].agg(set).to_dict()
    out: list[dict] = []
    issues: list[dict] = []

    def nm(c: str) -> str:
        return f"{c} ({names.get(c, '?')})"

    for la in la_codes:
        rows, old, borrowed, how_borrowed = _own_rows(la, sections, by_la, succ, pred)
        if rows is None:
            issues.append({"la_code": la, "issue": f"{sn.path} gives no neighbours for {nm(la)} "
                           "(nor for a single predecessor or successor)"})
            continue
        for r in rows.itertuples(index=False):
            n = r.neighbour_code
            stand_in, how = ([n], "") if n in target else (related_in(n, target, succ), "successor")
            if not stand_in:
                stand_in, how = related_in(n, target, pred), "predecessor"
            if not stand_in:
                issues.append({"la_code": la, "issue": f"neighbour {r.neighbour_rank} {nm(n)} is not an LA in "
                               f"{final_year} and has no successor or predecessor that is; dropped"})
                continue
            many = len(stand_in) > 1
            flag = (f"neighbour {nm(n)} is not an LA in {final_year}; its {how}{'s' if many else ''} "
                    f"{', '.join(nm(s) for s in stand_in)} stand{'' if many else 's'} in"
                    f"{' with an equal share of the slot' if many else ''}") if how else ""
            for s in stand_in:
                if s == la:
                    issues.append({"la_code": la, "issue": f"neighbour {r.neighbour_rank} {nm(n)} maps onto the "
                                   "LA itself; that share of the slot is dropped"})
                    continue
                out.append({"la_code": la, "neighbour_rank": int(r.neighbour_rank), "neighbour_code": s,
                            "closeness": r.closeness, "weight": 1.0 / len(stand_in), "file_code": n,
                            "from_old_model": old, "borrowed_from": borrowed, "borrowed_how": how_borrowed,
                            "flag": flag})
    table = pd.DataFrame(out, columns=NEIGHBOUR_COLUMNS)
    slots = table.groupby("la_code")["weight"].sum()
    for la, got in slots.reindex(la_codes).dropna().items():
        if not np.isclose(got, N_NEIGHBOURS):
            issues.append({"la_code": la, "issue": f"only {got:g} of {N_NEIGHBOURS} neighbour slots filled"})
    return NeighbourSet(final_year=final_year, source_id=source_id, table=table,
                        issues=pd.DataFrame(issues, columns=["la_code", "issue"]))


def _own_rows(la: str, sections: dict, by_la: dict, succ: dict,
              pred: dict) -> tuple[pd.DataFrame | None, bool, str, str]:
    """The LA's own neighbour row (current section first), else a single predecessor's or
    successor's: (rows, from the 'Old SNs' section, whose rows they are if not the LA's, how related)."""
    for sec in ("current", "old"):
        if sec in sections.get(la, set()):
            return by_la[(la, sec)], sec == "old", "", ""
    for edges, how in ((pred, "predecessor"), (succ, "successor")):
        rel = [c for c in edges.get(la, []) if c in sections]
        if len(rel) == 1:
            sec = "current" if "current" in sections[rel[0]] else "old"
            return by_la[(rel[0], sec)], sec == "old", rel[0], how
    return None, False, "", ""


def neighbour_comparison(table: pd.DataFrame, la_code: str, ns: NeighbourSet, names: dict[str, str]) -> pd.DataFrame:
    """The LA, its neighbours and their mean weighted by ``weight`` (the share of the ten slots each
    fills), with scores, ranks and ``*_group_position`` (1 = highest in the group)."""
    scores = table.set_index("la_code")[["la_name", "region"] + [f"{a}_{k}" for a in TARGETS
                                                           for k in ("score", "rank")]]
    if la_code not in scores.index:
        raise ValueError(f"LA {la_code!r} is not in the {ns.final_year} edition")
    nb = ns.table[ns.table["la_code"] == la_code]
    grouped = []
    for code, g in nb.groupby("neighbour_code", sort=False):
        g = g.sort_values("neighbour_rank")
        flags = [f for f in dict.fromkeys(g["flag"]) if f]
        if g["neighbour_rank"].nunique() > 1:
            flags.append(f"fills neighbour slots {', '.join(str(k) for k in g['neighbour_rank'])}")
        if code not in scores.index or pd.isna(scores.at[code, "overall_score"]):
            flags.append("no overall score in this edition")
        grouped.append({"role": "neighbour", "la_code": code, "neighbour_rank": int(g["neighbour_rank"].iloc[0]),
                        "closeness": g["closeness"].iloc[0], "weight": float(g["weight"].sum()),
                        "flag": "; ".join(flags)})
    la_row = {"role": "la", "la_code": la_code, "neighbour_rank": 0, "closeness": "", "weight": np.nan,
              "flag": "; ".join(ns.issues.loc[ns.issues["la_code"] == la_code, "issue"])}
    t = pd.DataFrame([la_row, *sorted(grouped, key=lambda r: (r["neighbour_rank"], r["la_code"]))])
    t["la_name"] = [scores["la_name"].get(c, names.get(c, "")) for c in t["la_code"]]
    t = t.join(scores.drop(columns=["la_name"]), on="la_code")
    for a in TARGETS:
        t[f"{a}_group_position"] = t[f"{a}_score"].rank(ascending=False, method="min").astype("Int64")
    is_nb = t["role"].eq("neighbour")
    mean = {"role": "neighbour mean", "la_code": "", "la_name": "Neighbours' mean (weighted by slot)",
            "neighbour_rank": pd.NA, "closeness": "", "weight": float(t.loc[is_nb, "weight"].sum()), "flag": "",
            "region": "", **{f"{a}_score": _wmean(t.loc[is_nb, f"{a}_score"], t.loc[is_nb, "weight"]) for a in TARGETS}}
    t = pd.concat([t, pd.DataFrame([mean])], ignore_index=True)
    front = ["role", "la_code", "la_name", "region", "neighbour_rank", "closeness", "weight"]
    cols = front + [f"{a}_{k}" for a in TARGETS for k in ("score", "rank", "group_position")] + ["flag"]
    t = t[cols].astype({c: "Int64" for c in cols if c.endswith(("_rank", "_group_position"))})
    t.attrs["neighbour_source"] = ns.source_id
    return t


def _wmean(values: pd.Series, weights: pd.Series) -> float:
    w = weights[values.notna()]
    return float((values * weights).sum() / w.sum()) if w.sum() > 0 else float("nan")

