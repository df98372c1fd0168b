"""Funnel-plot sections: which LAs differ from England beyond chance for each indicator."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from inclusion_index.config import SamplingSpec
from inclusion_index.index.indicators import labels_for
from inclusion_index.index.uncertainty import UncertaintyError
from inclusion_index.report.series.edition_facts import IndicatorFacts
from inclusion_index.report.series.part import Part
from inclusion_index.report.series.text import (
    agree,
    dp_for,
    fmt,
    level_label,
    plural,
    sentence_case,
    unit_level,
    year_label,
)

_COHORT_SOURCE = re.compile(r"^cohort (\S+) (\d{6})")


def _level_key(level: float) -> str:
    return f"{level * 100:g}".replace(".", "")


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
    a = f.attrs
    levels = sorted(a["levels"])
    top = levels[-1]
    key = _level_key(top)
    n = len(f)
    dp = dp_for(f["value"])
    u = unit_level(ind.unit(i))
    outside = f[f[f"flag_{key}"] != "within"]
    more = int((outside[f"direction_{key}"] == "more inclusive").sum())
    less = int((outside[f"direction_{key}"] == "less inclusive").sum())
    expected = n * (1 - top)
    chance = "fewer than one" if expected < 1 else f"about {fmt(expected, 0)}"
    nums = {"n": n, "outside": len(outside), "more": more, "less": less, "phi": float(a["phi"]),
            "tau2": float(a["tau2"]), "od_outside": np.nan}
    edp = max(dp, dp_for(a["target"]))
    published = ind.england(i)
    # two England figures on one page: say which is which when they print differently
    other = (f"; DfE's published England figure, quoted above, is {fmt(published, edp)}{u}"
             if np.isfinite(published) and fmt(published, edp) != fmt(a["target"], edp) else "")
    out = [f"{sentence_case(ind.phrase(i))} ({year_label(f['data_year'].iloc[0])}): {len(outside)} of the {n} LAs "
           f"{agree(len(outside), 'lies', 'lie')} outside the {level_label(top)} limits around England's figure "
           f"pooled from these LAs' counts ({fmt(a['target'], edp)}{u}{other}); {more} more and {less} less "
           f"inclusive than England. Chance alone would put {chance} there."]
    od_col = f"od_flag_{key}"
    if a["tau2"] > 0 and od_col in f:
        od = f[f[od_col] != "within"]
        nums["od_outside"] = len(od)
        listed = ""
        if 0 < len(od) <= 6:
            listed = ": " + "; ".join(f"{r.la_name} ({getattr(r, f'od_direction_{key}')})" for r in od.itertuples())
        out.append(f"But LAs vary {fmt(a['phi'], 1)} times as much as chance alone would make them (the "
                   "overdispersion φ; 1 = chance alone), so a point outside the solid limits is not by itself "
                   f"unusual. Allowing for that ordinary variation between LAs (dashed limits), "
                   f"{plural(len(od), 'LA')} {agree(len(od), 'stands', 'stand')} out{listed}.")
    else:
        out.append(f"The LAs vary about as much as chance alone would make them (overdispersion φ "
                   f"{fmt(a['phi'], 2)}, not more than chance allows), so the limits need no widening.")
    out.append(_denominator_sentence(f, spec))
    if a["model"] == "normal":
        out.append(f"For a mean score the limits assume a pupil-level standard deviation of {fmt(a['pupil_sd'], 1)} "
                   "points, a national all-pupil figure (no figure is published for pupils with an EHC plan by "
                   "LA), so they are approximate.")
    if code:
        r = f[f["la_code"] == code]
        if len(r):
            r = r.iloc[0]
            where = r[f"flag_{key}"]
            state = (f"within the {level_label(top)} limits" if where == "within" else
                     f"{where} the {level_label(top)} limits ({r[f'direction_{key}']} than England)")
            od_state = ""
            if od_col in f and a["tau2"] > 0:
                w2 = r[od_col]
                od_state = ("; within the limits allowing for LA-to-LA variation" if w2 == "within" else
                            f"; {w2} even the limits allowing for LA-to-LA variation")
            out.append(f"{names.get(code, code)}: {fmt(r['value'], dp)}{u}, {state}{od_state}.")
    return out, nums


def _no_funnel_sentence(ind: IndicatorFacts, i: str, model: str) -> str:
    if model == "rounding":
        why = ("it is derived from two percentages published to one decimal place, with no counts to set limits "
               "from")
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
            p.say("funnels", _no_funnel_sentence(ind, i, settings.spec(i).model))
            continue
        p.frames[f"funnel_{i}"] = f
        p.labels[f"funnel_{i}"] = ind.axis(i)
        text, nums = _funnel_sentences(f, ind, i, code, names, settings.spec(i))
        p.say("funnels", *text)
        p.numbers.update({f"{i}_funnel_{k}": v for k, v in nums.items()})
    if any(k.startswith("funnel_") for k in p.frames):
        p.say("funnels", "A funnel plot sets each LA's figure against the number of pupils behind it: small LAs "
              "scatter more by chance, so the limits narrow as LAs get bigger. An LA outside them differs from "
              "England by more than chance; it does not say why.")
