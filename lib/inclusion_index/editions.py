"""Editions: a final index year plus a run of index years, scored with one method.

``build_edition("201819")`` is the whole index for an edition as data; ``score_table`` is
the tidy per-LA table the CLI writes and the notebooks show.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd
import yaml

from .csv_export import write_csv
from .geography import LAReference, check_year_key, load_la_reference, shift_year, year_label
from .harmonise import load_inputs
from .indicators import AREAS, Method, add_derived_measures, indicator_table, indicator_values, load_method
from .paths import CACHE_DIR, REGISTRY_DIR
from .paths import data_dir as default_data_dir
from .scoring import ScoredYear, ScoringSettings, most_improved, regional_summary, score_year


@lru_cache(maxsize=1)
def editions_config() -> dict:
    return yaml.safe_load((REGISTRY_DIR / "editions.yml").read_text(encoding="utf-8"))


def edition_defaults(final_year: str) -> dict:
    cfg = editions_config()
    return {**cfg["default"], **(cfg.get("editions") or {}).get(final_year, {})}


def rendered_editions() -> list[str]:
    return [str(e) for e in editions_config().get("render", [])]


def latest_supported_year(long: pd.DataFrame, method: Method) -> str:
    """The latest January census year for which the method's census-based indicators exist."""
    lag0 = indicator_table(method)
    measures = {m for ms, lag in zip(lag0["measure_list"], lag0["lag_years"], strict=True) if lag == 0 for m in ms}
    years = long.loc[long["measure"].isin(measures) & long["value"].notna(), "year"]
    return str(years.max())


def settings_from(method: Method) -> ScoringSettings:
    allowed = {f.name for f in dataclasses.fields(ScoringSettings)}
    return ScoringSettings(**{k: v for k, v in method.scoring.items() if k in allowed})


@dataclass
class Edition:
    final_year: str
    years: list[str]
    method: Method
    settings: ScoringSettings
    geography: pd.DataFrame
    indicators: pd.DataFrame
    values: pd.DataFrame
    england: pd.DataFrame
    scored: dict[str, ScoredYear]
    improvement: pd.DataFrame
    long: pd.DataFrame
    cache: dict = field(default_factory=dict, repr=False)
    # where the edition's data came from, so later steps (neighbours, profiles) read the same files
    data_dir: Path | None = field(default=None, repr=False)
    ref: LAReference | None = field(default=None, repr=False)

    def score_table_cached(self) -> pd.DataFrame:
        """score_table, computed once per Edition object."""
        if "score_table" not in self.cache:
            self.cache["score_table"] = score_table(self)
        return self.cache["score_table"]

    @property
    def first_year(self) -> str:
        return self.years[0]

    def headline(self) -> ScoredYear:
        return self.scored[self.final_year]

    def regions(self) -> pd.Series:
        return self.geography.set_index("la_code")["region"]

    def regional(self, year: str | None = None) -> pd.DataFrame:
        return regional_summary(self.scored[year or self.final_year].scores, self.regions())

    def substitutions(self) -> pd.DataFrame:
        """Edition-wide gaps and substitutions: which measure and data year fed each cell, the
        year carried forward from (``carried_from``) instead of ``expected_year``, and
        ``missing_reason`` 'no_la_values' where no LA has a value (notes.edition_note words them)."""
        v = self.values
        g = v.groupby(["index_year", "indicator"], sort=False)
        out = g.agg(measure=("measure", "first"), data_year=("data_year", "first"),
                    las_with_value=("value", "count"), las=("la_code", "size"),
                    source=("source", lambda s: ", ".join(sorted({x for x in s if x}))),
                    carried_from=("carried_from", "first"), expected_year=("expected_year", "first"),
                    missing_reason=("missing_reason", lambda s: "no_la_values" if s.eq("no_la_values").all() else ""))
        return out.reset_index()

    def score_table(self) -> pd.DataFrame:
        return score_table(self)


def build_edition(
    final_year: str,
    *,
    years: int | None = None,
    method: str | Method | None = None,
    data_dir: Path | None = None,
    long: pd.DataFrame | None = None,
    ref: LAReference | None = None,
) -> Edition:
    """Score every index year of an edition and compare its first and last year."""
    check_year_key(final_year)
    defaults = edition_defaults(final_year)
    n_years = int(years or defaults["years"])
    if n_years < 1:
        raise ValueError("an edition needs at least one index year")
    m = method if isinstance(method, Method) else load_method(method or defaults["method"])
    data_dir = Path(data_dir) if data_dir else default_data_dir()
    if long is None:
        long = load_inputs(data_dir)
    if "assess_ehcp_share_send" not in set(long["measure"].unique()):
        long = add_derived_measures(long)
    ref = ref or load_la_reference(data_dir)
    target = ref.geography_for_year(final_year)[["la_code", "la_name", "ons_code", "region_group"]]
    target = target.rename(columns={"region_group": "region"}).reset_index(drop=True)
    index_years = [shift_year(final_year, -k) for k in range(n_years - 1, -1, -1)]
    settings = settings_from(m)
    ind = indicator_table(m)
    values, england, scored = [], [], {}
    for y in index_years:
        v, e = indicator_values(long, m, y, target, ref)
        values.append(v)
        england.append(e)
        scored[y] = score_year(v[["la_code", "indicator", "value"]], ind, settings,
                               la_codes=list(target["la_code"]))
    all_values = pd.concat(values, ignore_index=True)
    improvement = pd.DataFrame()
    if len(index_years) > 1:
        early = all_values[all_values["index_year"] == index_years[0]]
        late = all_values[all_values["index_year"] == index_years[-1]]
        improvement = most_improved(early[["la_code", "indicator", "value"]],
                                    late[["la_code", "indicator", "value"]], ind, settings,
                                    la_codes=list(target["la_code"]))
    return Edition(final_year=final_year, years=index_years, method=m, settings=settings,
                   geography=target, indicators=ind, values=all_values,
                   england=pd.concat(england, ignore_index=True), scored=scored,
                   improvement=improvement, long=long, data_dir=data_dir, ref=ref)


def _fingerprint(data_dir: Path) -> str:
    """Changes whenever the code, the registry or any registered raw file changes."""
    from .harmonise import _file_digest
    from .sources import load_registry

    h = hashlib.sha256()
    pkg = Path(__file__).parent
    for p in sorted([*pkg.rglob("*.py"), *REGISTRY_DIR.rglob("*")]):
        if p.is_file():
            h.update(p.name.encode())
            h.update(p.read_bytes())
    for s in load_registry().sources:
        p = data_dir / s.path
        h.update(_file_digest(p).encode() if p.exists() else b"missing")
    return h.hexdigest()[:20]


def load_edition(
    final_year: str,
    *,
    years: int | None = None,
    method: str | None = None,
    data_dir: Path | str | None = None,
    use_cache: bool = True,
    cache_dir: Path | None = None,
) -> Edition:
    """build_edition, cached on disk (keyed by code, registry and raw-file checksums), so the
    six notebooks and ~150 profiles build each edition once."""
    data_dir = Path(data_dir) if data_dir else default_data_dir()
    # resolve defaults first, so load_edition("201819") and load_edition("201819", years=3)
    # share one cache entry
    defaults = edition_defaults(final_year)
    years = int(years or defaults["years"])
    method = method or defaults["method"]
    if not use_cache:
        return build_edition(final_year, years=years, method=method, data_dir=data_dir)
    from .uncertainty import load_uncertainty_settings

    # the pickle holds the Monte Carlo score table: INCLUSION_UNCERTAINTY_DRAWS (tests use 50)
    # must not hand a 50-draw table to a 500-draw report, or the reverse
    draws = load_uncertainty_settings().n_draws
    key = hashlib.sha256(
        f"{final_year}|{years}|{method}|draws={draws}|{_fingerprint(data_dir)}".encode()).hexdigest()[:20]
    path = (cache_dir or CACHE_DIR) / "editions" / f"{final_year}-{key}.pkl"
    if path.exists():
        with path.open("rb") as fh:
            return pickle.load(fh)
    ed = build_edition(final_year, years=years, method=method, data_dir=data_dir)
    ed.score_table_cached()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(ed, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return ed


def score_table(ed: Edition, *, extended: bool = True) -> pd.DataFrame:
    """One row per LA: identity, headline scores and ranks, indicators, history, flags; then
    (``extended``) context-adjusted scores, Monte Carlo rank intervals and improvement
    significance from extended.enrich_score_table (cached on the Edition)."""
    head = ed.headline().scores
    geo = ed.geography.set_index("la_code")
    t = geo.join(head, how="left")
    if ed.method.headline == "mean" and len(ed.years) > 1:
        t["overall_score"] = pd.concat([ed.scored[y].scores["overall_score"] for y in ed.years], axis=1).mean(
            axis=1, skipna=False)
        from .scoring import rank_desc
        t["overall_rank"] = rank_desc(t["overall_score"], ed.settings.tie_method)
    t.insert(0, "edition", ed.final_year)
    t.insert(1, "index_year", ed.final_year)
    t.insert(2, "method", ed.method.key)
    for y in ed.years[:-1]:
        prev = ed.scored[y].scores
        t[f"overall_score_{y}"] = prev["overall_score"]
        t[f"overall_rank_{y}"] = prev["overall_rank"]
    if not ed.improvement.empty:
        imp = ed.improvement
        t["improvement_from"] = ed.years[0]
        t["overall_change"] = imp["change"]
        t["overall_rank_change"] = imp["rank_change"]
        t["improvement_rank"] = imp["improvement_rank"]
        # the change re-scores both years on the indicators present in both, so its start and end
        # scores differ from the headline ones; publish them so the two are never confused
        t["overall_change_score_from"] = imp["score_early"]
        t["overall_change_score_to"] = imp["score_late"]
        t["change_indicators_compared"] = imp["indicators_compared"]
    final = ed.values[ed.values["index_year"] == ed.final_year]
    for ind_code, g in final.groupby("indicator", sort=False):
        t[f"{ind_code}_data_year"] = g.set_index("la_code")["data_year"].reindex(t.index)
    t = t.reset_index()
    front = ["edition", "index_year", "method", "la_code", "la_name", "ons_code", "region",
             "overall_score", "overall_rank"]
    for a in AREAS:
        front += [f"{a}_score", f"{a}_rank"]
    rest = [c for c in t.columns if c not in front]
    out = t[front + rest]
    for c in [c for c in out.columns if c.endswith("_rank") or c.startswith("overall_rank")]:
        out[c] = out[c].astype("Int64")
    if extended:
        from .extended import enrich_score_table
        out = enrich_score_table(out, ed)
    return out


def data_dictionary(table: pd.DataFrame, ed: Edition) -> pd.DataFrame:
    """Description of every column of the score table."""
    ind = ed.indicators.set_index("indicator")
    fixed = {
        "edition": "Edition: its final index year (academic year key, e.g. 201819 = 2018/19)",
        "index_year": "Index year the headline scores refer to (named by its January census)",
        "method": "Method file in data/registry/methods/ used",
        "la_code": "3-digit DfE local authority code",
        "la_name": "Local authority name",
        "ons_code": "ONS code of the LA (current spell)",
        "region": "Region (London split into Inner and Outer London)",
        "overall_score": "Overall score: weighted mean of available indicator scores (0-100, higher = more inclusive)",
        "overall_rank": "Rank of overall_score, 1 = most inclusive; ties share the best rank",
        "n_indicators": "Number of indicators the LA has among those published that year",
        "n_indicators_available": "Number of indicators published for the index year",
        "scored": "Whether the LA met the missing-data rule and received an overall score",
        "flags": "Why a score is missing, and cells that were missing or moved across a boundary change",
        "improvement_from": "First index year of the most-improved comparison",
        "overall_change": "Change in overall score from improvement_from to the headline year, over indicators present in both",
        "overall_rank_change": "Places moved up (positive) between those years",
        "improvement_rank": "1 = largest rise in overall score",
        "overall_change_score_from": "Overall score in improvement_from re-scored on only the indicators present in "
                                     "both years (the start of overall_change; differs from overall_score_<year>)",
        "overall_change_score_to": "Overall score in the headline year re-scored on the same indicators (the end "
                                   "of overall_change; differs from overall_score)",
        "change_indicators_compared": "Number of indicators present in both years that overall_change uses",
        "change_note": "Where the change's starting values are a predecessor LA's (boundary change)",
    }
    rows = []
    for c in table.columns:
        desc = fixed.get(c)
        if desc is None:
            desc = _describe_column(c, ind, ed)
        rows.append({"column": c, "description": desc, "dtype": str(table[c].dtype)})
    return pd.DataFrame(rows)


def _describe_column(c: str, ind: pd.DataFrame, ed: Edition) -> str:
    from .extended import describe_column
    extra = describe_column(c)
    if extra:
        return extra
    for a in AREAS:
        if c == f"{a}_score":
            return f"{a.title()} area score: mean of its indicator scores (0-100)"
        if c == f"{a}_rank":
            return f"Rank of the {a} area score, 1 = most inclusive"
        if c == f"{a}_n_indicators":
            return f"Number of {a} indicators the LA has"
    for i in ind.index:
        if c == f"{i}_value":
            r = ind.loc[i]
            return f"{r['name']} ({r['unit']}); raw value, {'lower' if r['polarity'] < 0 else 'higher'} is more inclusive"
        if c == f"{i}_score":
            return f"{ind.loc[i, 'name']}: percentile score oriented so higher = more inclusive (0-100)"
        if c == f"{i}_data_year":
            return (f"{ind.loc[i, 'name']}: academic year of the data behind {i}_value (it can lag the index year, "
                    "or be carried forward from an earlier year; see docs/METHOD.md)")
    y = c.rsplit("_", 1)[1]
    label = year_label(y)
    if c.startswith("overall_score_"):
        return f"Overall score in index year {label} (every indicator of that year; no rank range)"
    if c.startswith("overall_rank_"):
        return f"Overall rank in index year {label} (no Monte Carlo range: only the headline year has one)"
    return ""


def write_score_table(ed: Edition, out: Path, table: pd.DataFrame) -> list[Path]:
    """``table`` (notes.score_table_text(ed): the score table with its notes in words) as CSV at
    `out`, Parquet beside it, and the data dictionary as <stem>.dictionary.csv."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_csv(table, out)
    pq = out.with_suffix(".parquet")
    table.to_parquet(pq, index=False)
    dic = out.with_name(out.stem + ".dictionary.csv")
    write_csv(data_dictionary(table, ed), dic)
    return [out, pq, dic]


__all__ = ["Edition", "build_edition", "data_dictionary", "load_edition", "score_table", "write_score_table"]
