"""The indicator registry (data/registry/indicators.csv), methods (data/registry/methods/*.yml) and
the values each indicator takes for an index year (data years, carry-forward: docs/METHOD.md)."""

from __future__ import annotations

from functools import lru_cache
from itertools import accumulate

import numpy as np
import pandas as pd

from inclusion_index.config import Method, RunSettings, run_settings
from inclusion_index.errors import ConfigError
from inclusion_index.index.scoring import AREAS
from inclusion_index.sources.derived import derived_measures
from inclusion_index.sources.geography import LAReference, map_to_geography, shift_year
from inclusion_index.sources.registry import registry_table


def load_method(key: str, run: RunSettings | None = None) -> Method:
    """A method of the run settings (data/registry/methods/<key>.yml), its indicators checked
    against indicators.csv."""
    run = run or run_settings()
    path = run.registry_dir / "methods" / f"{key}.yml"
    if key not in run.methods:
        raise ConfigError(f"method {key!r} not found: expected {path} (have {sorted(run.methods)})")
    m = run.methods[key]
    known = set(indicator_registry()["indicator"])
    if unknown := [i for i in m.indicators if i not in known]:
        raise ConfigError(f"{path}: unknown indicators {unknown}; see data/registry/indicators.csv")
    return m


@lru_cache(maxsize=1)
def indicator_registry() -> pd.DataFrame:
    t = registry_table("indicators.csv").copy()
    t["polarity"] = t["polarity"].astype(int)
    t["lag_years"] = t["lag_years"].astype(int)
    if bad := set(t["area"]) - set(AREAS):
        raise ConfigError(f"indicators.csv: unknown areas {sorted(bad)}")
    if not t["polarity"].isin([-1, 1]).all():
        raise ConfigError("indicators.csv: polarity must be 1 or -1")
    return t


# A placement share over the plans whose placement is recorded ends so; without the suffix, the same
# share over all plans (data/registry/measures/sen2.csv). UNRECORDED is each LA's share not recorded.
RECORDED, UNRECORDED = "_recorded", "sen2_ehcp_placement_unknown_pct"


def indicator_table(method: Method) -> pd.DataFrame:
    """The method's indicators with weights and measure lists, in the method's order."""
    reg = indicator_registry().set_index("indicator")
    t = reg.loc[list(method.indicators)].reset_index()
    t["weight"] = [method.weights.get(i, 1.0) for i in t["indicator"]]
    t["measure_list"] = [[m if method.placement_recorded_only else m.removesuffix(RECORDED)
                          for m in method.measures.get(i, ms.split("|"))]
                         for i, ms in zip(t["indicator"], t["measures"], strict=True)]
    return t


def score_column_texts() -> tuple[tuple[str, str], ...]:
    """(column pattern, description) of the score table's data dictionary, in matching order."""
    t = registry_table("score_columns.csv")
    return tuple(zip(t["column"], t["description"], strict=True))


def labels_for(use: str, column: str = "label") -> dict[str, str]:
    """Reader labels by key from data/registry/labels.csv for one ``use``: context (``column="unit"``: its
    unit), covariate / covariate_similar (after "LAs of"), measure_phrase, cohort_phrase."""
    t = registry_table("labels.csv")
    t = t[t["use"] == use]
    return dict(zip(t["key"], t[column], strict=True))


def _measure_rows(long: pd.DataFrame, measure: str, year: str, level: str = "la") -> pd.DataFrame:
    return long.loc[(long["measure"] == measure) & (long["year"] == year) & (long["level"] == level)]


def impute_small_counts(rows: pd.DataFrame, rule: dict) -> pd.DataFrame:
    """A cell suppressed as a tiny count (DfE's 'x' = 1 or 2) set to the method's midpoint count over its
    denominator, so the LAs with the fewest exclusions stay in (docs/METHOD.md); adds ``imputed_count``, ``imputed_range``."""
    out = rows.copy()
    out["imputed_count"], out["imputed_range"] = np.nan, ""
    prefix = rule.get("reason_prefix")
    if not rule.get("enabled") or not prefix:
        return out
    m = (out["value"].isna() & out["denominator"].gt(0)
         & out["missing_reason"].fillna("").str.startswith(prefix))
    count = float(rule.get("midpoint", 1.5))
    out.loc[m, "value"] = count / out.loc[m, "denominator"] * float(rule.get("per", 100.0))
    out.loc[m, "imputed_count"] = count
    out.loc[m, "imputed_range"] = str(rule.get("label", prefix))
    return out


# A cell's story as data, worded by notes.py: year carried from and year expected, predecessor LAs
# and how several were combined, count imputed, why missing (a code, and the source's marker meaning).
NOTE_COLUMNS = ["carried_from", "expected_year", "predecessors", "combined", "imputed_count", "imputed_range",
                "missing_reason", "missing_marker", "unrecorded_pct_flagged"]


def england_basis(source: str) -> str:
    """What England's figure is, from its row's source: DfE's published national figure, one
    computed from DfE's national counts, or one pooled from the LAs' (or schools') counts."""
    return next((basis for mark, basis in (("England: DfE national count", "national counts"),
                                           ("England: pooled", "pooled from school counts")) if mark in source),
                "published national")


def indicator_values(long: pd.DataFrame, method: Method, index_year: str, target: pd.DataFrame,
                     ref: LAReference) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(values, england) of one index year: a row per LA × indicator with value, counts, data year, measure,
    source, the NOTE_COLUMNS and, for placement, ``placement_unrecorded_pct``; England's value per indicator."""
    codes = list(target["la_code"])
    min_n = method.min_indicator_coverage * len(codes)
    rows, eng = [], []

    def usable(m: str, y: str) -> pd.DataFrame | None:
        """Measure ``m`` of year ``y`` on the geography, if enough LAs have it."""
        sub = _measure_rows(long, m, y)
        if sub["value"].isna().all():
            return None
        sub = impute_small_counts(sub, method.impute_small_counts)
        mapped = map_to_geography(sub[["la_code", "value", "numerator", "denominator", "missing_reason",
                                       "source", "imputed_count", "imputed_range"]], codes, ref)
        return mapped if mapped["value"].notna().sum() >= min_n else None

    for ind in indicator_table(method).itertuples():
        data_year = shift_year(index_year, -ind.lag_years)
        # the first measure (method order) of the data year, else of up to carry_forward_years before it
        chosen = next(((m, y, back, mapped) for back in range(method.carry_forward_years + 1)
                       for y in [shift_year(data_year, -back)] for m in ind.measure_list
                       if (mapped := usable(m, y)) is not None), None)
        base = pd.DataFrame({"la_code": codes, "indicator": ind.indicator, "index_year": index_year,
                             "expected_year": data_year})
        if chosen is None:
            # "not in this project's data": DfE may publish it in a file the registry lacks
            rows.append(base.assign(value=np.nan, numerator=np.nan, denominator=np.nan, data_year=data_year,
                                    measure=ind.measure_list[0], source="", value_source="",
                                    missing_reason="no_la_values"))
            continue
        m, y, back, mapped = chosen
        got = base.merge(mapped.rename(columns={"missing_reason": "missing_marker"}), on="la_code", how="left")
        got = got.assign(data_year=y, measure=m, carried_from=y if back else pd.NA)
        miss = got["value"].isna()
        got["missing_reason"] = np.where(miss, np.where(got["missing_marker"].isna(), "not_in_source",
                                                         "source_marker"), "")
        # counts: the cell records its numerator and denominator (e.g. census pupil counts); else
        # what the derived measure it is says (published_2dp: DfE's two-decimal %), by default
        # published (a figure read as published, e.g. LAIT's one decimal); a fallback cell names it
        fell = got["missing_marker"].fillna("").str.extract(r"^fallback (\S+):", expand=False).fillna(m)
        kind = fell.map({k: d.value_source for k, d in derived_measures().items()}).fillna("published")
        got["value_source"] = np.where(got["value"].isna(), "", np.where(
            got["numerator"].notna() & got["denominator"].notna(), "counts", kind))
        got["missing_marker"] = got["missing_marker"].where(miss, "")
        got["source"] = got["source"].fillna("")
        got.loc[got["imputed_count"].notna(), "source"] += " (imputed)"
        if ind.area == "placement":
            u = map_to_geography(_measure_rows(long, UNRECORDED, y)[["la_code", "value"]], codes, ref)
            got["placement_unrecorded_pct"] = got["la_code"].map(u.set_index("la_code")["value"])
        rows.append(got)
        nat = _measure_rows(long, m, y, level="national")
        eng.append({"indicator": ind.indicator, "index_year": index_year, "data_year": y, "measure": m,
                    **{c: nat[c].iloc[0] if len(nat) else np.nan for c in ("value", "numerator", "denominator")},
                    "basis": england_basis(str(nat["source"].iloc[0])) if len(nat) else ""})
    values = pd.concat(rows, ignore_index=True)
    pct = values.get("placement_unrecorded_pct", pd.Series(np.nan, index=values.index)).astype("float64")
    values["placement_unrecorded_pct"] = pct
    values["unrecorded_pct_flagged"] = pct.where(pct > method.unrecorded_flag_pct)
    text = [c for c in NOTE_COLUMNS if c not in ("carried_from", "imputed_count", "unrecorded_pct_flagged")]
    values[text] = values[text].fillna("").astype(str)
    values = values.astype({"carried_from": "string", "imputed_count": "float64"})
    return values, pd.DataFrame(eng)

LABEL_COLUMNS = ["indicator", "area", "unit", "polarity", "measure", "data_year", "name", "short_name", "note"]


def first_clause(text: str) -> str:
    """A measure description up to its first ';' outside parentheses (its plain definition)."""
    depth = accumulate((ch == "(") - (ch == ")") for ch in text)
    end = next((k for k, (ch, d) in enumerate(zip(text, depth, strict=True)) if ch == ";" and d == 0), len(text))
    return text[:end].strip()


def labelled_for(ed, year: str | None = None) -> pd.DataFrame:
    """The edition's indicators named for the measure each used in an index year (default: the
    headline year): the build's ``ed.labels`` (see :func:`label_table`); a copy."""
    y = str(year or ed.final_year)
    t = getattr(ed, "labels", {}).get(y)
    return (label_table(ed.values, ed.indicators, ed.measures, ed.run.measure_labels, y) if t is None else t).copy()


def label_table(values: pd.DataFrame, indicators: pd.DataFrame, measures: pd.DataFrame | None,
                labels: dict, y: str) -> pd.DataFrame:
    """Indicators (method order) with ``name``, ``short_name`` and ``note`` from measure_labels.csv
    for the measure the values table records in index year ``y``, never the indicator code: a
    measure swap relabels with no text edited. A measure without a row keeps indicators.csv's
    names and takes its definition from the measures registry as the note."""
    v = values[values["index_year"] == y]
    first = v.drop_duplicates("indicator").set_index("indicator") if len(v) else pd.DataFrame()
    desc = measures.set_index("measure")["description"].to_dict() if measures is not None and len(measures) else {}
    rows = []
    for r in indicators.itertuples():
        i = r.indicator
        measure = str(first.loc[i, "measure"]) if i in first.index else ""
        lab = labels.get(measure)
        rows.append({"indicator": i, "area": r.area, "unit": r.unit, "polarity": int(r.polarity),
                     "measure": measure, "data_year": str(first.loc[i, "data_year"]) if i in first.index else "",
                     "name": lab.name if lab else str(r.name),
                     "short_name": lab.short_name if lab else str(r.short_name),
                     "note": lab.note if lab else first_clause(str(desc.get(measure, "")))})
    return pd.DataFrame(rows, columns=LABEL_COLUMNS)


def data_years(ed, year: str | None = None) -> list[tuple[str, list[str]]]:
    """[(data year, [indicators in method order])], newest data year first: which years of data an
    index year (default: the headline year) rests on, from the values table it was built on."""
    t = labelled_for(ed, year)
    return [(str(dy), list(g["indicator"])) for dy, g in reversed(list(t[t["data_year"] != ""].groupby("data_year")))]
