"""Context measures (deprivation, SEMH need, special-school supply, cohort sizes) aligned to an edition's LAs."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from inclusion_index.index.indicators import labels_for
from inclusion_index.report.series.text import agree, iod_label, plural, year_label, years_label
from inclusion_index.sources.geography import boundary_reference, map_to_geography, shift_year


@dataclass
class ContextMeasure:
    """A context measure on the edition's LAs: values by la_code, the year used and why."""

    measure: str
    label: str
    unit: str
    values: pd.Series
    year: str | None
    source_ids: list[str]
    note: str
    moved: list[str] = field(default_factory=list)  # LAs whose value comes from a predecessor

    @property
    def available(self) -> bool:
        return self.year is not None and bool(self.values.notna().any())


def measure_years(ed, measure: str) -> list[str]:
    lg = ed.long
    m = (lg["measure"] == measure) & (lg["level"] == "la") & lg["value"].notna()
    return sorted(set(lg.loc[m, "year"]))


def context_measure(ed, measure: str, *, year: str | None = None, window: tuple[str, str] | None = None,
                    label: str | None = None) -> ContextMeasure:
    """A context measure on the edition's LAs: ``year``, else the latest inside ``window`` (default:
    the year before the first index year, for lagged data, to the final one); never imputed."""
    lab, unit = label or labels_for("context").get(measure, measure), labels_for("context", "unit").get(measure, "")
    codes = list(ed.geography["la_code"])
    have = measure_years(ed, measure)

    def unavailable(why: str) -> ContextMeasure:
        empty = pd.Series(np.nan, index=pd.Index(codes, name="la_code"), dtype="float64")
        return ContextMeasure(measure, lab, unit, empty, None, [], f"{lab}: {why}.")

    if not have:
        return unavailable("not in the loaded data for any year")
    if year is None:
        lo, hi = window or (shift_year(ed.first_year, -1), ed.final_year)
        inside = [y for y in have if lo <= y <= hi]
        if not inside:
            return unavailable(f"published by LA only for {', '.join(year_label(y) for y in have)}, "
                               f"so not available for this edition ({years_label([lo, hi])})")
        year = inside[-1]
    elif year not in have:
        return unavailable(f"not in the data for {year_label(year)} (available: "
                           f"{', '.join(year_label(y) for y in have)})")
    lg = ed.long
    sub = lg[(lg["measure"] == measure) & (lg["year"] == year) & (lg["level"] == "la")]
    cols = [c for c in ("la_code", "value", "numerator", "denominator", "missing_reason", "source") if c in sub]
    mapped = map_to_geography(sub[cols], codes, boundary_reference())
    vals = mapped.drop_duplicates("la_code").set_index("la_code")["value"].astype("float64").reindex(codes)
    moved = mapped.loc[mapped["predecessors"] != "", "la_code"].tolist()
    missing = len(codes) - int(vals.notna().sum())
    # deprivation is named by its release (IoD2015), not by the academic year it is keyed to
    when = iod_label(year) if measure.startswith("iod_") else year_label(year)
    note = f"{lab}: {when}, {int(vals.notna().sum())} of {len(codes)} LAs" + (
        f" ({missing} without a value)" if missing else "")
    if moved:
        note += (f"; {plural(len(moved), 'LA')} {agree(len(moved), 'takes', 'take')} a predecessor's value across a "
                 "boundary change")
    ids = sorted({str(s) for s in sub["source"].dropna().unique()})
    return ContextMeasure(measure, lab, unit, vals, year, ids, note + ".", moved=sorted(set(moved)))


def deprivation(ed) -> ContextMeasure:
    """The method's deprivation measure (IDACI average score, IoD year set by the method)."""
    m = ed.method
    c = context_measure(ed, m.deprivation_measure, year=m.deprivation_year)
    c.label = f"IDACI average score ({iod_label(m.deprivation_year)})" if m.deprivation_measure == \
        "iod_idaci_avg_score" else c.label
    if c.available:
        c.note += (f" The indices of deprivation describe conditions some years before their release, so "
                   f"{iod_label(str(c.year))} is dated against the index years ({years_label(ed.years)}).")
    return c


def ratio_measure(num: ContextMeasure, den: ContextMeasure, scale: float, label: str, unit: str,
                  names: dict[str, str] | None = None) -> ContextMeasure:
    """num / den x scale, LA by LA, for the same year; none where only one of the two is a
    predecessor's across a boundary change (a split LA's count over its predecessor's total)."""
    name = f"{num.measure}_per_{den.measure}"
    if not (num.available and den.available):
        return ContextMeasure(name, label, unit, num.values * np.nan, None, [], den.note if num.available else num.note)
    if num.year != den.year:
        return ContextMeasure(name, label, unit, num.values * np.nan, None, [],
                              f"{label}: {num.label} ({year_label(num.year)}) and {den.label} "
                              f"({year_label(den.year)}) are not for the same year.")
    v = num.values / den.values.where(den.values > 0) * scale
    mixed = sorted(set(num.moved) ^ set(den.moved))
    v[v.index.isin(mixed)] = np.nan
    note = f"{label}: {year_label(num.year)}, {int(v.notna().sum())} LAs"
    if mixed:
        note += (f"; left out for {plural(len(mixed), 'LA')} where only one of the two counts is a predecessor "
                 f"authority's ({', '.join((names or {}).get(c, c) for c in mixed)})")
    return ContextMeasure(name, label, unit, v, num.year, sorted(set(num.source_ids) | set(den.source_ids)),
                          note + ".", moved=sorted(set(num.moved) & set(den.moved)))
