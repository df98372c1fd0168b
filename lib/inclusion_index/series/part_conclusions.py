"""Part 6: the overall ranking, regional summary and most improved LAs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .adjusted import adjusted_section
from .edition_facts import change_range, la_name, la_table, range_label, rank_words, uncertainty_settings
from .models import region_variation
from .part import IndicatorFacts, Part, highlight_section, ranking_frame, ranking_table
from .part_introduction import LIMITS
from .text import fmt, year_label


def improvement_frame(ed, t: pd.DataFrame | None = None) -> pd.DataFrame:
    """ed.improvement per LA with its name, region, the change's Monte Carlo range
    (``change_lo``, ``change_hi``) and ``significant`` (a rise beyond uncertainty), ordered by
    change; empty for a single-year edition."""
    imp = ed.improvement
    if imp is None or imp.empty:
        return pd.DataFrame()
    t = la_table(ed) if t is None else t
    ext = t.set_index("la_code")
    i = imp.reset_index().merge(ed.geography[["la_code", "la_name", "region"]], on="la_code", how="left")
    i = i.dropna(subset=["change"]).sort_values(["improvement_rank", "score_late"], ascending=[True, False])
    for col, src in (("change_lo", "overall_change_lo"), ("change_hi", "overall_change_hi")):
        i[col] = i["la_code"].map(ext[src]).astype("float64") if src in ext else np.nan
    if "improvement_significant" in ext:
        i["significant"] = i["la_code"].map(ext["improvement_significant"]).astype("boolean").fillna(False).astype(bool)
    else:
        i["significant"] = False
    i["declined_significant"] = i["change_hi"] < 0
    i.attrs.update(imp.attrs)
    return i.reset_index(drop=True)


def conclusions(ed, highlight: str | int | None = None) -> Part:
    """Part 6: overall ranking with rank ranges and adjusted ranks, regional summary, most
    improved with the change's range and which rises exceed their uncertainty, limits."""
    p = Part("conclusions", "Conclusions")
    t = la_table(ed)
    ind = IndicatorFacts(ed)
    settings = uncertainty_settings()
    p.data = t
    p.labels = {"overall_score": "Overall score (0-100, higher = more inclusive)"}
    p.tables["ranking"] = ranking_table(t, adjusted=True)
    p.frames["ranking"] = ranking_frame(t)
    scored = t[t["scored"]].sort_values(["overall_rank", "la_name"])
    reg = ed.regional().reset_index().sort_values("overall_score", ascending=False).reset_index(drop=True)
    p.tables["regions"] = reg
    top, bot = reg.iloc[0], reg.iloc[-1]
    p.numbers.update(region_top_score=float(top["overall_score"]), region_bottom_score=float(bot["overall_score"]),
                     top_score=float(scored["overall_score"].iloc[0]),
                     bottom_score=float(scored["overall_score"].iloc[-1]))
    first, last = scored.iloc[0], scored.iloc[-1]
    n = len(scored)
    p.say("ranking", f"{first['la_name']} has the highest score of {n} LAs in {year_label(ed.final_year)}, "
          f"{fmt(first['overall_score'])}, and ranks {rank_words(1, first.get('overall_rank_lo'), first.get('overall_rank_hi'))}; "
          f"{last['la_name']} has the lowest, {fmt(last['overall_score'])}, and ranks "
          f"{rank_words(last['overall_rank'], last.get('overall_rank_lo'), last.get('overall_rank_hi'))}.")
    if "overall_rank_lo" in scored and scored["overall_rank_lo"].notna().any():
        width = (scored["overall_rank_hi"] - scored["overall_rank_lo"]).astype("float64")
        p.numbers["rank_interval_median_width"] = float(width.median())
        p.say("ranking", f"Ranks carry uncertainty: the table gives each LA's {range_label()} over "
              f"{settings.n_draws} runs that vary the method's choices and redraw the data (median width "
              f"{fmt(width.median(), 0)} places), and, beside the index, its score and rank adjusted for "
              "deprivation and the number of EHC plans (0 = as expected for its context).")
    adjusted_section(p, ed, t, "overall")
    p.say("regions", f"By region (the unweighted mean of its LAs' scores), {top['region']} scores highest "
          f"({fmt(top['overall_score'])}) and {bot['region']} lowest ({fmt(bot['overall_score'])}).")
    rv = region_variation(t, "overall_score", label="the overall score")
    p.numbers["between_region_share"] = rv["between_share"]
    p.say("regions", rv["sentence"])
    i = improvement_frame(ed, t)
    if i.empty:
        p.say("improved", f"This edition has a single index year ({year_label(ed.final_year)}), so there is no "
              "most-improved comparison.")
    else:
        compared = list(i.attrs.get("indicators_compared", []))
        p.frames["improvement"] = i
        e, f = year_label(ed.first_year), year_label(ed.final_year)
        rl = range_label()
        tab = pd.DataFrame({
            "Local authority": i["la_name"], "Region": i["region"], f"Score {e}": i["score_early"],
            f"Score {f}": i["score_late"], "Change": i["change"],
            f"Change ({rl})": [change_range(a, b) for a, b in zip(i["change_lo"], i["change_hi"], strict=True)],
            "Improved beyond uncertainty": np.where(i["significant"], "yes", ""),
            "Fell beyond uncertainty": np.where(i["declined_significant"], "yes", ""),
            "Places moved": i["rank_change"],
        })
        p.tables["improved"] = tab.drop(columns="Fell beyond uncertainty").head(10).reset_index(drop=True)
        p.tables["declined"] = tab.drop(columns="Improved beyond uncertainty").tail(10).iloc[::-1].reset_index(drop=True)
        sig = i[i["significant"]]
        p.tables["significant"] = tab.loc[i["significant"].to_numpy()].drop(
            columns=["Improved beyond uncertainty", "Fell beyond uncertainty"]).reset_index(drop=True)
        top_i = i.iloc[0]
        k, m = int(i["significant"].sum()), int(i["declined_significant"].sum())
        p.numbers.update(improved_change=float(top_i["change"]), n_compared=len(compared), n_changed=len(i),
                         n_improved_significant=k, n_declined_significant=m)
        beyond = (f"; the whole {rl} is above zero, so the rise exceeds its uncertainty" if top_i["significant"]
                  else f"; the {rl} includes no change, so the rise is within its uncertainty")
        p.say("improved",
              f"Most improved compares {e} with {f} over the {len(compared)} indicators published in both years "
              f"({', '.join(ind.short(c) for c in compared)}), re-scoring both years on those indicators only.",
              f"{top_i['la_name']} rose most, from {fmt(top_i['score_early'])} to {fmt(top_i['score_late'])} "
              f"({fmt(top_i['change'], sign=True)} points, {rl} {change_range(top_i['change_lo'], top_i['change_hi'])}"
              f"){beyond if pd.notna(top_i['change_lo']) else ''}.",
              f"{k} of the {len(i)} LAs compared improved beyond uncertainty: the {rl} of their change, over "
              f"{settings.n_draws} runs that vary the method's choices and redraw the data (the same run applied to "
              f"both years), lies above zero. {m} fell beyond uncertainty; for the other {len(i) - k - m} the change "
              "is within its uncertainty.")
        if k and not top_i["significant"]:
            b = sig.iloc[0]
            p.say("improved", f"Of the LAs that improved beyond uncertainty, {b['la_name']} rose most "
                  f"({fmt(b['change'], sign=True)} points, {rl} {change_range(b['change_lo'], b['change_hi'])}).")
        p.say("improved", "Because scores are percentile ranks, a rise means overtaking other LAs on these "
              "indicators, not necessarily better outcomes in absolute terms.")
        left_out = [c for c in ind.t.index if c not in compared]
        if left_out:
            p.say("improved", "Left out of the comparison because they are missing in one of the two years: "
                  + ", ".join(ind.short(c) for c in left_out) + ".")
    p.say("limits", *LIMITS)
    unpub = ind.t[ind.t["las_with_value"] == 0]
    if len(unpub):
        p.say("limits", f"In {year_label(ed.final_year)} the index rests on {len(ind.t) - len(unpub)} of its "
              f"{len(ind.t)} indicators: {', '.join(unpub['short_name'])} "
              f"{'is' if len(unpub) == 1 else 'are'} not published for the data year.")
    for y in ed.years:
        p.notes.extend(f"{year_label(y)}: {n}" for n in ed.scored[y].notes)
    code = highlight_section(p, ed, highlight, t, ind, [])
    if code and not i.empty and code in set(i["la_code"]):
        r = i.set_index("la_code").loc[code]
        verdict = ("a rise beyond uncertainty" if r["significant"] else "a fall beyond uncertainty"
                   if r["declined_significant"] else "within its uncertainty")
        p.say("highlight", f"{la_name(ed, code)} moved {fmt(r['change'], sign=True)} points between "
              f"{year_label(ed.first_year)} and {year_label(ed.final_year)} ({range_label()} "
              f"{change_range(r['change_lo'], r['change_hi'])}: {verdict}).")
    return p
