"""Funnel-plot sections (which LAs differ from England beyond chance) and the sections every area part closes with."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from inclusion_index.config import SamplingSpec
from inclusion_index.index.indicators import labels_for
from inclusion_index.index.uncertainty import UncertaintyError
from inclusion_index.report.series.adjusted import adjusted_section
from inclusion_index.report.series.edition_facts import IndicatorFacts, check_highlight
from inclusion_index.report.series.models import models_table
from inclusion_index.report.series.part import Part, highlight_section
from inclusion_index.report.series.text import (
    and_join,
    dp_for,
    fmt,
    level_label,
    unit_level,
    year_label,
)
from inclusion_index.report.templates import words

_COHORT_SOURCE = re.compile(r"^cohort (\S+) (\d{6})")


def funnel_frames(p: Part) -> dict[str, pd.DataFrame]:
    """A part's funnel tables (the edition's funnels step), by indicator."""
    return {k.removeprefix("funnel_"): f for k, f in p.frames.items() if k.startswith("funnel_")}


def _denominator_sentence(f: pd.DataFrame, spec) -> str:
    src = f["denominator_source"].astype(str)
    if src.eq("denominator in source").all():
        return "Denominators are the source's own counts."
    found = [m.groups() for m in (_COHORT_SOURCE.match(x) for x in src) if m]
    if not found:
        return "Denominators come from the source where given, otherwise from the settings' default cohort."
    measure = found[0][0]
    what = labels_for("cohort_phrase").get(measure, measure)
    if spec.cohort_multiplier != 1:
        what += f" × {spec.cohort_multiplier:g} (an assumed ratio, set in the method's settings)"
    data_year = str(f["data_year"].iloc[0])
    other = sorted({y for _, y in found if y != data_year})
    n_other = sum(1 for _, y in found if y != data_year)
    own = int(src.eq("denominator in source").sum())
    head = (f"No count is published with {'every' if own else 'the'} value, so the limits use cohort sizes"
            + (f" where it is missing ({len(f) - own} LAs)" if own else "") + f": {what}")
    others = ", ".join(year_label(y) for y in other)
    if not other:
        return f"{head}, {year_label(data_year)}."
    if n_other == len(found):
        return f"{head}, {others} (the nearest published year to {year_label(data_year)})."
    return f"{head}, {year_label(data_year)} (for {n_other} LAs the nearest published year, {others})."


def _funnel_sentences(f: pd.DataFrame, ind: IndicatorFacts, i: str, code: str | None, names: pd.Series,
                      spec: SamplingSpec) -> tuple[list[str], dict]:
    a, top = f.attrs, max(f.attrs["levels"])
    key, n, dp, u = f"{top * 100:g}".replace(".", ""), len(f), dp_for(f["value"]), unit_level(ind.unit(i))
    outside = f[f[f"flag_{key}"] != "within"]
    more = int((outside[f"direction_{key}"] == "more inclusive").sum())
    less = int((outside[f"direction_{key}"] == "less inclusive").sum())
    expected = n * (1 - top)
    od_col = f"od_flag_{key}"
    od = f[f[od_col] != "within"] if a["tau2"] > 0 and od_col in f else None
    nums = {"n": n, "outside": len(outside), "more": more, "less": less, "phi": float(a["phi"]),
            "tau2": float(a["tau2"]), "od_outside": np.nan if od is None else len(od)}
    edp = max(dp, dp_for(a["target"]))
    published = ind.england(i)
    # two England figures on one page: say which is which when they print differently
    shown = fmt(published, edp) != fmt(a["target"], edp) and np.isfinite(published)
    facts = nums | {"phrase": ind.phrase(i), "year": year_label(f["data_year"].iloc[0]), "level": level_label(top),
                    "target": f"{fmt(a['target'], edp)}{u}", "published": f"{fmt(published, edp)}{u}" if shown else "",
                    "chance": "fewer than one" if expected < 1 else f"about {fmt(expected, 0)}",
                    "tau2": fmt(a["tau2"], 3), "pupil_sd": fmt(a.get("pupil_sd"), 1),
                    "od": None if od is None else [f"{r.la_name} ({getattr(r, f'od_direction_{key}')})" for r in od.itertuples()]}
    t = words("parts/funnels.md")
    out = [t.outside(facts), t.spread(facts), _denominator_sentence(f, spec), t.normal(facts) if a["model"] == "normal" else ""]
    if code and len(r := f[f["la_code"] == code]):
        r = r.iloc[0]
        where = r[f"flag_{key}"]
        state = (f"within the {level_label(top)} limits" if where == "within" else
                 f"{where} the {level_label(top)} limits ({r[f'direction_{key}']} than England)")
        od_state = "" if od is None else ("; within the limits allowing for LA-to-LA variation" if r[od_col] ==
                                          "within" else f"; {r[od_col]} even the limits allowing for LA-to-LA variation")
        out.append(f"{names.get(code, code)}: {fmt(r['value'], dp)}{u}, {state}{od_state}.")
    # the statistic behind "vary more than chance" goes to the technical notes, the England note beside the chart
    return out, nums | {"technical": t.technical(facts), "note": t.note(facts)}


def _no_funnel_sentence(ind: IndicatorFacts, i: str, model: str, values: pd.DataFrame) -> str:
    v = values[(values["indicator"] == i) & (values["data_year"] == ind.year(i))].drop_duplicates("la_code")
    n = v["value_source"].value_counts()
    if model == "rounding" and n.get("published", 0) == n.sum():
        why = ("it is derived from two percentages published to one decimal place, with no counts to set limits "
               "from")
    elif model == "rounding":  # name what each cell rests on (value_source)
        kinds = {"counts": "census counts for {} LAs", "published_counts": "DfE's published LA counts for {}",
                 "published_2dp": "DfE's two-decimal percentages for {}",
                 "published": "LAIT's one-decimal percentages for {}"}
        why = (f"it rests on {and_join([w.format(n[k]) for k, w in kinds.items() if n.get(k, 0)])}, and a share "
               "from published percentages has no counts to set limits from")
    elif model == "none":
        why = "no count or cohort size is available for it"
    else:
        why = f"no LA has both a value and a denominator for {year_label(ind.year(i))}"
    return f"No funnel plot for {ind.phrase(i)}: {why}."


def funnel_section(p: Part, ed, ind: IndicatorFacts, indicators: Sequence[str], code: str | None) -> None:
    """Funnel tables and sentences for the part's indicators (the edition's funnels step)."""
    names = ed.geography.set_index("la_code")["la_name"]
    settings = ed.run.uncertainty
    for i in indicators:
        try:
            f = ed.funnel(i)
        except UncertaintyError:
            p.say("funnels", _no_funnel_sentence(ind, i, settings.spec(i).model, ed.values))
            continue
        p.frames[f"funnel_{i}"] = f
        p.labels[f"funnel_{i}"] = ind.axis(i)
        text, nums = _funnel_sentences(f, ind, i, code, names, settings.spec(i))
        p.say("funnels", *text)
        p.say("technical", nums.pop("technical"))
        p.labels[f"funnel_{i}_note"] = nums.pop("note")
        p.numbers.update({f"{i}_funnel_{k}": v for k, v in nums.items()})
    if any(k.startswith("funnel_") for k in p.frames):
        p.say("funnels", words("parts/funnels.md").how())


def closing_sections(p: Part, ed, t: pd.DataFrame, ind: IndicatorFacts, indicators: Sequence[str],
                     highlight: str | int | None, shown: Sequence[str]) -> Part:
    """An area part's last sections: its models table, funnels for its published ``indicators``, its
    context-adjusted score and the highlighted LA on ``shown``."""
    p.tables["models"] = models_table(p.models.values())
    funnel_section(p, ed, ind, indicators, check_highlight(ed, highlight)[0])
    adjusted_section(p, ed, t, p.key)
    highlight_section(p, ed, highlight, t, ind, shown)
    return p
