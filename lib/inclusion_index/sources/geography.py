"""LA codes, names, regions and boundary changes.

The stable key is DfE's 3-digit LA code (``old_la_code``). The reference is built from
DfE's LA list (dates of operation and termination, ONS codes), LAIT's list (region groups
with London split into Inner and Outer) and the project's own boundary-change table
(data/registry/boundary_changes.csv), which says how old LAs' values reach new ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import pandas as pd

from inclusion_index.config import verify_checksums
from inclusion_index.errors import SchemaError
from inclusion_index.paths import REGISTRY_DIR
from inclusion_index.sources.registry import load_registry, resolve

NATIONAL_CODE = "E92000001"

# Tiny LAs the method keeps out of the ranking on purpose (METHOD.md "Unit"): both have
# cohorts of a handful of pupils, so their rates are mostly noise.
EXCLUDED_FROM_RANKING = {"201": "City of London", "420": "Isles of Scilly"}


@dataclass(frozen=True)
class LAReference:
    """One row per (la_code, ONS code) spell, with its dates and region."""

    table: pd.DataFrame  # la_code, ons_code, la_name, region_code, region, region_group, start, end
    changes: pd.DataFrame  # predecessor, successor, effective, kind, use_for_values, note

    def known_codes(self) -> set[str]:
        return set(self.table["la_code"])

    def live_at(self, when: date) -> pd.DataFrame:
        """LAs in operation on a date, one row each (the spell live on that date)."""
        t = self.table
        ts = pd.Timestamp(when)
        live = t[(t["start"] <= ts) & (t["end"].isna() | (t["end"] >= ts))]
        return live.drop_duplicates("la_code", keep="last").reset_index(drop=True)

    def geography_for_year(self, year: str, *, include_excluded: bool = False) -> pd.DataFrame:
        """The LAs of an academic year's January census (e.g. '201819' -> January 2019)."""
        las = self.live_at(january_of(year))
        if not include_excluded:
            las = las[~las["la_code"].isin(EXCLUDED_FROM_RANKING)]
        return las.sort_values("la_code").reset_index(drop=True)

    def names(self) -> dict[str, str]:
        return dict(zip(self.table["la_code"], self.table["la_name"], strict=False))


def january_of(year: str) -> date:
    """Academic year key '201819' -> 1 January 2019 (the census date that names it)."""
    check_year_key(year)
    return date(int(year[:4]) + 1, 1, 15)


def check_year_key(year: str) -> str:
    if not (isinstance(year, str) and len(year) == 6 and year.isdigit()
            and int(year[4:]) == (int(year[:4]) + 1) % 100):
        raise ValueError(f"academic year key must look like '201819', got {year!r}")
    return year


def year_label(year: str) -> str:
    """'201819' -> '2018/19' for readers; anything that is not a year key is returned as it is."""
    y = str(year)
    return f"{y[:4]}/{y[4:]}" if len(y) == 6 and y.isdigit() else y


_YEAR_KEY = re.compile(r"\b(20\d{2})(\d{2})\b")


def label_years(text: str) -> str:
    """Academic-year keys inside free text become labels ('from 201617' -> 'from 2016/17')."""
    def sub(m: re.Match) -> str:
        a, b = m.group(1), m.group(2)
        return f"{a}/{b}" if (int(a) + 1) % 100 == int(b) else m.group(0)
    return _YEAR_KEY.sub(sub, str(text))


def year_key(start_calendar_year: int) -> str:
    """2018 -> '201819'."""
    return f"{start_calendar_year}{(start_calendar_year + 1) % 100:02d}"


def shift_year(year: str, by: int) -> str:
    return year_key(int(check_year_key(year)[:4]) + by)


@lru_cache(maxsize=4)
def load_la_reference(data_dir: Path) -> LAReference:
    data_dir = Path(data_dir)
    reg = load_registry()
    las_src = reg["la_list_dfe"]
    try:
        las = pd.read_csv(resolve(las_src, data_dir, verify=verify_checksums()), dtype=str, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.EmptyDataError, pd.errors.ParserError) as e:
        # every loader and the validator depend on this list: name it, not a pandas internal
        raise SchemaError(las_src.path, f"cannot read the LA list ({type(e).__name__}: {e})",
                          expected="DfE las.csv layout, UTF-8") from e
    needed = {"new_la_code", "la_name", "date_of_operation", "date_of_termination",
              "parent_geography_code", "old_la_code"}
    if missing := needed - set(las.columns):
        raise SchemaError(las_src.path, "LA list lacks columns", column=", ".join(sorted(missing)),
                          expected="DfE las.csv layout")
    # Combined rows ("314 / 318") describe shared services, not LAs; 'x' rows are pre-2009.
    las = las[las["old_la_code"].str.fullmatch(r"\d{3}", na=False)].copy()
    table = pd.DataFrame({
        "la_code": las["old_la_code"], "ons_code": las["new_la_code"], "la_name": las["la_name"].str.strip(),
        "region_code": las["parent_geography_code"],
        "start": pd.to_datetime(las["date_of_operation"], format="%d/%m/%Y"),
        "end": pd.to_datetime(las["date_of_termination"], format="%d/%m/%Y")})
    # Northamptonshire and Cumbria (and others) may be missing from the live list after they end
    # but are in DfE's own list with dates; anything still absent is added from the change table.
    lait_src = reg["la_list_lait"]
    try:
        lait = pd.read_excel(resolve(lait_src, data_dir, verify=verify_checksums()), dtype={"LA Number": str})
    except Exception as e:  # openpyxl and zipfile raise several types for a broken workbook
        raise SchemaError(lait_src.path, f"cannot read the LAIT LA list ({type(e).__name__}: {e})",
                          expected="an .xlsx workbook") from e
    lait = lait.rename(columns={"LA Number": "la_code", "Region": "region_group", "LA Name": "lait_name"})
    lait["la_code"] = lait["la_code"].str.strip().str.zfill(3)
    table = table.merge(lait[["la_code", "region_group"]].drop_duplicates("la_code"), on="la_code", how="left")
    regions = pd.read_csv(REGISTRY_DIR / "regions.csv", dtype=str)
    region_name = dict(zip(regions["region_code"], regions["region"], strict=False))
    table["region"] = table["region_code"].map(region_name)
    table["region_group"] = table["region_group"].fillna(table["region"])
    if unknown_groups := set(table["region_group"].dropna()) - set(regions["region_group"]):
        raise SchemaError(lait_src.path, "unknown region names", column="Region",
                          expected=f"one of {sorted(regions['region_group'])}, got {sorted(unknown_groups)}")
    table = table.sort_values(["la_code", "start"]).reset_index(drop=True)
    return LAReference(table=table, changes=boundary_changes())


def boundary_changes() -> pd.DataFrame:
    """The registry's boundary-change table (data/registry/boundary_changes.csv), parsed."""
    changes = pd.read_csv(REGISTRY_DIR / "boundary_changes.csv", dtype=str)
    changes["effective"] = pd.to_datetime(changes["effective"])
    changes["use_for_values"] = changes["use_for_values"].str.lower().eq("true")
    return changes


@lru_cache(maxsize=1)
def boundary_reference() -> LAReference:
    """Just the boundary-change table (all map_to_geography needs), without the raw LA lists:
    for code that moves values onto an edition's LAs but has no data folder at hand."""
    return LAReference(table=pd.DataFrame(columns=["la_code"]), changes=boundary_changes())


def la_aliases() -> dict[str, list[str]]:
    """Other names readers search for, per LA code (data/registry/la_aliases.csv: "BCP", "Hull")."""
    t = pd.read_csv(REGISTRY_DIR / "la_aliases.csv", dtype=str)
    return {code: list(g["alias"]) for code, g in t.groupby("la_code")}


def region_order() -> list[str]:
    regions = pd.read_csv(REGISTRY_DIR / "regions.csv", dtype=str)
    return list(regions.sort_values("order", key=lambda s: s.astype(int))["region_group"])


def map_to_geography(values: pd.DataFrame, target_codes: list[str] | set[str],
                     ref: LAReference) -> pd.DataFrame:
    """Move LA rows onto a target geography through the boundary-change table.

    ``values`` holds one measure and year: la_code, value and optionally numerator/denominator.
    Rows whose code is in the target pass unchanged. A predecessor's row goes to every
    successor in the target (a split copies it, flagged). Several predecessors of one
    successor (a merge) are combined: summed counts where both numerator and denominator
    exist, otherwise a denominator-weighted mean, otherwise an unweighted mean, flagged.
    Adds ``predecessors`` (the codes a moved row came from, comma-separated; empty where nothing
    was done) and ``combined`` ('weighted' or 'unweighted' where several were combined, else '').
    """
    target = set(target_codes)
    out = values.copy()
    out["predecessors"], out["combined"] = "", ""
    inside = out[out["la_code"].isin(target)]
    # rows of LAs outside the target carry information only where they have a value (LAIT,
    # for instance, lists terminated LAs with blanks for the years after they ended)
    outside = out[~out["la_code"].isin(target) & out["value"].notna()]
    if outside.empty:
        return inside
    succ = _successors_in(target, ref.changes)
    # a successor that reports its own value keeps it
    own = set(inside.loc[inside["value"].notna(), "la_code"])
    moved = []
    for pred, rows in outside.groupby("la_code", sort=False):
        for s in succ.get(pred, []):
            if s in own:
                continue
            r = rows.copy()
            r["la_code"] = s
            r["predecessors"] = pred
            moved.append(r)
    if not moved:
        return inside
    combined = _combine(pd.concat(moved, ignore_index=True))
    inside = inside[~inside["la_code"].isin(set(combined["la_code"]))]
    return pd.concat([inside, combined], ignore_index=True)


def boundary_edges(changes: pd.DataFrame, direction: str = "successor") -> dict[str, list[str]]:
    """predecessor -> successors (or successor -> predecessors) over the value-carrying changes."""
    ch = changes[changes["use_for_values"]]
    a, b = ("predecessor", "successor") if direction == "successor" else ("successor", "predecessor")
    out: dict[str, list[str]] = {}
    for x, y in zip(ch[a], ch[b], strict=True):
        out.setdefault(x, []).append(y)
    return out


def reachable(code: str, edges: dict[str, list[str]], stop: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """Every LA reached from code along the edges, nearest first, not going on from an LA in ``stop``."""
    seen, frontier, out = {code}, [code], []
    while frontier:
        for n in edges.get(frontier.pop(), []):
            if n not in seen:
                seen.add(n)
                out.append(n)
                if n not in stop:
                    frontier.append(n)
    return out


def related_in(code: str, target: set[str], edges: dict[str, list[str]]) -> list[str]:
    """LAs in the target reached from code, following chains through LAs outside it."""
    return sorted(n for n in reachable(code, edges, target) if n in target)


def boundary_words(predecessors: str, combined: str) -> str:
    """Where a moved value came from, in words (map_to_geography's ``predecessors``/``combined``).
    Here, not in notes.py, because the context model's notes (adjustment) use them too."""
    codes = predecessors.replace(",", ", ")
    if combined == "weighted":
        return f"combined from predecessors {codes} (weighted by denominator)"
    return f"unweighted mean of predecessors {codes}" if combined else f"from predecessor {codes}"


def _successors_in(target: set[str], changes: pd.DataFrame) -> dict[str, list[str]]:
    """For each predecessor, its successors that are in the target (following chains)."""
    edges = boundary_edges(changes)
    return {p: related_in(p, target, edges) for p in edges}


def _combine(moved: pd.DataFrame) -> pd.DataFrame:
    """One row per successor; several predecessors are combined (see map_to_geography)."""
    rows = []
    for _, g in moved.groupby("la_code", sort=False):
        first = g.iloc[0].copy()
        if len(g) == 1:
            rows.append(first)
            continue
        first["predecessors"] = ",".join(sorted(g["predecessors"]))
        num = g.get("numerator")
        den = g.get("denominator")
        vals = g["value"]
        if den is not None and den.notna().all() and den.sum() > 0:
            # a denominator-weighted mean of rates equals the rate of the summed counts
            first["value"] = (vals * den).sum() / den.sum()
            first["denominator"] = den.sum()
            if num is not None:
                first["numerator"] = num.sum() if num.notna().all() else float("nan")
            first["combined"] = "weighted"
        else:
            first["value"] = vals.mean() if vals.notna().all() else float("nan")
            first["combined"] = "unweighted"
        rows.append(first)
    return pd.DataFrame(rows).reset_index(drop=True)
