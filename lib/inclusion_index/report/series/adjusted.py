"""Context-adjusted score sections: observed minus expected given deprivation, beside the raw score."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from inclusion_index.index.indicators import labels_for
from inclusion_index.index.scoring import AREA_NAMES
from inclusion_index.report.series.context import context_measure, deprivation
from inclusion_index.report.series.edition_facts import range_label, rank_column, rank_words
from inclusion_index.report.series.models import effect_text
from inclusion_index.report.series.part import Part, imputed_rows, rank_cells
from inclusion_index.report.series.text import (
    and_join,
    dp_for_step,
    fmt,
    iod_label,
    nice_step,
    plain_label,
    plural,
    sentence_case,
    year_label,
)
from inclusion_index.report.templates import words

ADJUSTED_COLUMNS = ["Score", "Predictor", "Step", "Difference per step", "95% CI low", "95% CI high", "p-value", "R²",
                    "LAs", "Breusch–Pagan p"]


def caveat_for(caveat: str, covariates: list[str]) -> str:
    """adjustment.yml's caveat after a first sentence naming the target's own covariates."""
    names = " and ".join(labels_for("covariate_similar").get(c, c) for c in covariates)
    return f"Adjusted scores compare each LA with LAs of {names}. {' '.join(str(caveat).split())}".strip()


def estimate_las(ed, target: str, year: str | None = None) -> set[str]:
    """LAs whose ``target`` score (an area, or overall) uses a value estimated for a suppressed
    small count in the index year."""
    ind = ed.indicators
    rows = imputed_rows(ed, ind["indicator"] if target == "overall" else ind.loc[ind["area"] == target, "indicator"],
                        year)
    return set(rows.loc[rows["value"].notna(), "la_code"])


def adjusted_for_words(ed, target: str = "overall") -> str:
    """What the target's context model adjusts for, in words ('' without a model)."""
    fit = ed.adjustment.fits.get(target)
    return " and ".join(labels_for("covariate").get(c, c) for c in fit.covariates) if fit is not None else ""


def adjusted_section(p: Part, ed, t: pd.DataFrame, target: str) -> None:
    """The target's context-adjusted score beside the raw one: model, extremes, agreement, caveat."""
    res = ed.adjustment
    what = "overall score" if target == "overall" else f"{AREA_NAMES[target].lower()} score"
    models = res.models.set_index("target")
    if target not in res.fits:
        why = models.loc[target, "note"] if target in models.index else "no model was fitted"
        p.say("adjusted", f"No context-adjusted {what}: {why}.")
        return
    fit = res.fits[target]
    # the part's context inputs, listed in its sources table with the year each used
    dep = deprivation(ed)
    rate = context_measure(ed, res.settings.ehcp_rate_measure, year=ed.final_year)
    plans = context_measure(ed, res.settings.ehcp_measure, year=ed.final_year)
    p.measures.extend(c for term, c in (("idaci", dep), ("ehcp_pct_pupils", rate), ("log_ehcp_total", plans))
                      if term in fit.covariates)
    labels = {"idaci": f"the IDACI average score ({iod_label(ed.method.deprivation_year)})",
              "ehcp_pct_pupils": f"the share of pupils with an EHC plan ({year_label(ed.final_year)})",
              "log_ehcp_total": f"the number of EHC plans the LA maintains ({year_label(ed.final_year)})"}
    its = {"idaci": f"its IDACI average score ({iod_label(ed.method.deprivation_year)}, child deprivation)",
           "ehcp_pct_pupils": f"the share of its pupils with an EHC plan ({year_label(ed.final_year)})",
           "log_ehcp_total": f"the number of EHC plans it maintains ({year_label(ed.final_year)})"}
    coefs = fit.coefficients.set_index("term")
    rows, effects = [], []
    t_words = words("parts/links.md")
    for term in fit.covariates:
        c = coefs.loc[term]
        if term == "log_ehcp_total":
            step, step_text = math.log(2), "doubling"
        else:
            step = nice_step(float(res.scores.loc[fit.expected.notna(), term].std()))
            u = f" percentage point{'' if step == 1 else 's'}" if term == "ehcp_pct_pupils" else ""
            step_text = f"+{fmt(step, dp_for_step(step))}{u}"
        eff, lo, hi = c["coef"] * step, c["ci_lower"] * step, c["ci_upper"] * step
        link = {"x": plain_label(labels.get(term, term)), "y": f"the {what}", "up": eff >= 0, "others": "",
                "clear": not lo < 0 < hi, "size": f"{fmt(abs(eff), 1)} points",
                "step": ("IDACI " if term == "idaci" else "") + step_text, "n": fit.n,
                "r2": fmt(fit.r2, 2), "y_full": f"the {what}", "x_full": labels.get(term, term), "others_full":
                " and ".join(labels.get(o, o) for o in fit.covariates if o != term),
                "effect": effect_text(eff, lo, hi, " points"), "p": fmt(c["p_value"], 3)}
        effects.append(link)
        p.say("technical", t_words.technical(link))
        rows.append({"Score": sentence_case(what), "Predictor": sentence_case(labels.get(term, term).removeprefix("the ")),
                     "Step": step_text, "Difference per step": eff, "95% CI low": lo, "95% CI high": hi,
                     "p-value": c["p_value"], "R²": fit.r2, "LAs": fit.n, "Breusch–Pagan p": fit.bp_pvalue})
        p.numbers[f"{target}_adjustment_{term}_effect"] = float(eff)
    p.tables["adjusted_model"] = pd.DataFrame(rows, columns=ADJUSTED_COLUMNS)
    # the model table's caption, from the target's own covariates (the notebook's caption is generic)
    p.labels["adjusted_model_caption"] = f"Context model: OLS across LAs of the {what} on {adjusted_for_words(ed, target)}"
    bp = fit.bp_pvalue
    sc, rk, adj, adj_rk = f"{target}_score", f"{target}_rank", f"{target}_adjusted_score", f"{target}_adjusted_rank"
    d = t[t[adj].notna()].copy()
    rho = float(d[sc].corr(d[adj], method="spearman")) if len(d) > 2 else float("nan")
    moved = int(((d[rk].astype("float64") - d[adj_rk].astype("float64")).abs() >= 20).sum())
    width, raw_width = ((d[f"{r}_hi"].astype("float64") - d[f"{r}_lo"].astype("float64")).median() if f"{r}_lo" in d
                        else np.nan for r in (adj_rk, rk))
    p.numbers.update({f"{target}_adjustment_r2": fit.r2, f"{target}_adjustment_n": fit.n,
                      f"{target}_adjustment_bp_p": bp, f"{target}_adjustment_spearman": rho,
                      f"{target}_adjustment_moved20": moved, f"{target}_adjusted_rank_width_median": float(width)})
    d = d.sort_values([adj, "la_name"], ascending=[False, True])
    # an LA whose score uses an estimate for a suppressed count is never named as an extreme
    est = d["la_code"].isin(estimate_las(ed, target))
    sure = d[~est] if (~est).any() else d
    best, worst = sure.iloc[0], sure.iloc[-1]
    above = int(est.iloc[:d.index.get_loc(best.name)].sum()) if len(d) else 0
    below = int(est.iloc[d.index.get_loc(worst.name) + 1:].sum()) if len(d) else 0
    p.numbers[f"{target}_adjusted_estimates"] = int(est.sum())
    f = {"what": what, "n": fit.n, "held": " and ".join(its.get(c, c) for c in fit.covariates), "r2": fit.r2,
         "bp": bp, "rho": rho, "moved": moved, "aw": width, "rw": raw_width, "range": range_label(),
         "above": above, "below": below, "skipped": and_join([x for x in (
             f"{plural(above, 'LA')} further above" if above else "",
             f"{plural(below, 'LA')} further below" if below else "") if x]),
         "best": best["la_name"], "best_adj": fmt(best[adj], sign=True),
         "best_rank": rank_words(best[rk], best.get(f"{rk}_lo"), best.get(f"{rk}_hi")),
         "worst": worst["la_name"], "worst_adj": fmt(worst[adj], sign=True),
         "worst_rank": rank_words(worst[adj_rk], worst.get(f"{adj_rk}_lo"), worst.get(f"{adj_rk}_hi"))}
    a_words = words("parts/adjusted.md")
    p.say("technical", a_words.technical(f) if np.isfinite(bp) else "")
    p.say("adjusted", a_words.intro(f), t_words.explains(what, fmt(fit.r2 * 100, 0), " and ".join(
        plain_label(labels.get(c, c)) for c in fit.covariates)))
    for link in effects:
        p.say_link("adjusted", link)
    p.say("adjusted", a_words.extremes(f), a_words.agreement(f),
          a_words.width(f) if np.isfinite(width) and np.isfinite(raw_width) else "",
          caveat_for(res.caveat, list(fit.covariates)))
    table = pd.DataFrame({"Local authority": d["la_name"], "Region": d["region"], sentence_case(what): d[sc],
                          rank_column(): rank_cells(d, target), "Adjusted score": d[adj],
                          f"Adjusted rank ({range_label()})": rank_cells(d, f"{target}_adjusted")})
    if est.any():
        table["Uses an estimate"] = np.where(est.to_numpy(), "yes: a suppressed small count", "")
    p.tables["adjusted_top"] = table.head(10).reset_index(drop=True)
    p.tables["adjusted_bottom"] = table.tail(10).iloc[::-1].reset_index(drop=True)
    p.frames["adjusted"] = d[["la_code", "la_name", "region", sc, rk, f"{rk}_lo", f"{rk}_hi", adj, adj_rk, f"{adj_rk}_lo", f"{adj_rk}_hi"]].reset_index(
        drop=True)
