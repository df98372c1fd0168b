"""Associations across LAs: ordinary least squares fits, regional variation and spreads, as sentences and tables."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from inclusion_index.report.series.text import (
    agree,
    and_join,
    dp_for,
    dp_for_step,
    fmt,
    fmt_value,
    nice_step,
    plain_label,
    plural,
    sentence_case,
    unit_diff,
    unit_level,
)
from inclusion_index.report.templates import words
from inclusion_index.sources.geography import region_order


@dataclass
class OLSResult:
    """An OLS fit across LAs: y on one or more x."""

    y: str
    x: list[str]
    labels: dict[str, str]
    units: dict[str, str]
    n: int
    r2: float
    coefs: pd.DataFrame  # term, label, coef, ci_low, ci_high, p_value, step, per_step, per_step_low, per_step_high
    data: pd.DataFrame
    # registry ids of the data behind y and every x, set by the part that fits it (findings cite them)
    source_ids: list[str] = field(default_factory=list)

    def term(self, name: str) -> pd.Series:
        return self.coefs.set_index("term").loc[name]

    def step_of(self, name: str) -> float | None:
        """The step the text reports ``name``'s effect per, for the notebooks' chart annotation (None if absent)."""
        return float(self.term(name)["step"]) if name in set(self.coefs["term"]) else None

    def link(self, term: str | None = None) -> dict:
        """The typed facts of one term's association, for templates/parts/links.md: plain labels
        (parentheses dropped) for the reader, full ones and the statistics for the technical notes."""
        term = term or self.x[0]
        r = self.term(term)
        eff, lo, hi = float(r["per_step"]), float(r["per_step_low"]), float(r["per_step_high"])
        yu = unit_diff(self.units.get(self.y, ""))
        step_unit = unit_diff(self.units.get(term, "")).replace("points", "point" if r["step"] == 1 else "points")
        dp = 2 if max(abs(lo), abs(hi), abs(eff)) < 1 else 1
        others = [t for t in self.x if t != term]
        return {"x": plain_label(self.labels[term]), "y": plain_label(self.labels[self.y]), "up": eff >= 0,
                "others": and_join([plain_label(self.labels[t]) for t in others]), "clear": not lo < 0 < hi,
                "size": f"{_magnitude(eff, dp) or '0'}{yu}", "n": self.n, "r2": fmt(self.r2, 2),
                "step": ("IDACI " if "IDACI" in self.labels[term] else "") + f"+{fmt(r['step'], dp_for_step(r['step']))}{step_unit}",
                "y_full": self.labels[self.y], "x_full": self.labels[term],
                "others_full": " and ".join(self.labels[t] for t in others),
                "effect": effect_text(eff, lo, hi, yu), "p": fmt(r["p_value"], 3)}

    def technical(self, term: str | None = None) -> str:
        """The term's statistics for the part's technical notes (coefficient, 95% CI, R², p)."""
        return words("parts/links.md").technical(self.link(term))

    def table(self) -> pd.DataFrame:
        """Quotable coefficient table: per-step effects with 95% CIs, R² and n."""
        t = self.coefs[self.coefs["term"] != "const"]
        return pd.DataFrame({
            "Outcome": _cap(self.labels[self.y]), "Predictor": t["label"].map(_cap),
            "Taking into account": [_cap(" and ".join(self.labels[o].removeprefix("the ") for o in self.x if o != term))
                                    or "Nothing else (one predictor)" for term in t["term"]],
            "Step": t["step"], "Difference per step": t["per_step"], "95% CI low": t["per_step_low"],
            "95% CI high": t["per_step_high"], "p-value": t["p_value"], "R²": self.r2, "LAs": self.n}).reset_index(drop=True)


def _magnitude(v: float, dp: int) -> str | None:
    """|v| with ``dp`` decimals, or up to two more when it would round to 0; None when it is 0."""
    for d in (dp, dp + 1, dp + 2):
        if round(abs(v), d) != 0:
            return fmt(abs(v), d)
    return None


def effect_text(eff: float, lo: float, hi: float, unit: str = "") -> str:
    """"1.2 points higher (95% CI 0.4 to 2.0 points higher)", saying when the CI spans 0; a figure
    that rounds to zero gets more decimals, never "0.00 points lower"."""
    dp = 2 if max(abs(lo), abs(hi), abs(eff)) < 1 else 1

    def word(v: float) -> str:
        m = _magnitude(v, dp)
        return f"{m}{unit} {'higher' if v >= 0 else 'lower'}" if m else "no different"

    near, far, side = (hi, lo, "lower") if hi <= 0 else (lo, hi, "higher")  # the bound nearer 0 first
    ci = (f"95% CI from {word(lo)} to {word(hi)}: no clear difference" if lo < 0 < hi else
          f"95% CI {_magnitude(near, dp) or '0'} to {_magnitude(far, dp) or '0'}{unit} {side}")
    return f"{word(eff)} ({ci})"


MODEL_COLUMNS = ["Outcome", "Predictor", "Taking into account", "Step", "Difference per step", "95% CI low", "95% CI high", "p-value",
                 "R²", "LAs"]


def _cap(phrase: str) -> str:
    p = str(phrase).removeprefix("the ")
    return p[:1].upper() + p[1:]


def ols(data: pd.DataFrame, y: str, x: str | Sequence[str], *, labels: dict[str, str] | None = None,
        units: dict[str, str] | None = None, min_n: int = 10) -> OLSResult | None:
    """OLS of ``y`` on ``x`` over the rows with every variable present; None if too few rows."""
    import statsmodels.api as sm

    xs = [x] if isinstance(x, str) else list(x)
    cols = [y, *xs]
    d = data[[c for c in ("la_code", "la_name", "region") if c in data.columns] + cols].copy()
    d[cols] = d[cols].apply(pd.to_numeric, errors="coerce").astype("float64")
    d = d.dropna(subset=cols)
    if len(d) < max(min_n, len(xs) + 3) or any(d[c].std() == 0 for c in xs):
        return None
    exog = sm.add_constant(d[xs], has_constant="add")
    res = sm.OLS(d[y], exog).fit()
    ci = res.conf_int(alpha=0.05)
    labels, terms = {c: c for c in cols} | (labels or {}), ["const", *xs]
    step = np.array([1.0] + [nice_step(float(d[t].std())) for t in xs])
    coef, lo, hi = (np.asarray(x, dtype="float64") for x in (res.params[terms], ci.loc[terms, 0], ci.loc[terms, 1]))
    coefs = pd.DataFrame({"term": terms, "label": [labels.get(t, t) for t in terms], "coef": coef, "ci_low": lo,
                          "ci_high": hi, "p_value": np.asarray(res.pvalues[terms], dtype="float64"), "step": step,
                          "per_step": coef * step, "per_step_low": lo * step, "per_step_high": hi * step})
    return OLSResult(y=y, x=xs, labels=labels, units=units or {}, n=int(res.nobs), r2=float(res.rsquared),
                     coefs=coefs, data=d.reset_index(drop=True))


def models_table(models: Iterable[OLSResult | None]) -> pd.DataFrame:
    frames = [m.table() for m in models if m is not None]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=MODEL_COLUMNS)


REGION_TABLE_COLUMNS = {"region": "Region", "n": "LAs", "mean": "Mean", "median": "Median", "min": "Lowest",
                        "max": "Highest", "sd": "Standard deviation"}


def region_variation(data: pd.DataFrame, value: str, *, region: str = "region", label: str | None = None,
                     unit: str = "") -> dict:
    """The share of LA variation between regions (one-way ANOVA), a region ``table`` and a ``sentence``."""
    import statsmodels.formula.api as smf

    d = data[[region, value]].dropna(subset=[value]).rename(columns={value: "v", region: "g"})
    lab, u = label or value, unit_level(unit)
    out: dict = {"label": lab, "n": len(d), "n_regions": int(d["g"].nunique())}
    per = d.groupby("g")["v"].agg(n="count", mean="mean", median="median", min="min", max="max", sd="std")
    order = [r for r in region_order() if r in per.index] + [r for r in per.index if r not in region_order()]
    per = per.reindex(order).rename_axis("region")
    out["table"] = per.reset_index().rename(columns=REGION_TABLE_COLUMNS)
    if len(d) < 10 or out["n_regions"] < 2:
        out.update(between_share=np.nan, within_share=np.nan, f=np.nan, p_value=np.nan,
                   sentence=f"Too few LAs have a value of {lab} to compare regions.")
        return out
    res = smf.ols("v ~ C(g)", data=d).fit()
    dp = dp_for(d["v"])
    out.update(between_share=float(res.rsquared), within_share=1 - float(res.rsquared), f=float(res.fvalue),
               p_value=float(res.f_pvalue), sd_all=float(d["v"].std()), sd_within_mean=float(per["sd"].mean()),
               region_mean_min=float(per["mean"].min()), region_mean_max=float(per["mean"].max()),
               region_min=str(per["mean"].idxmin()), region_max=str(per["mean"].idxmax()))
    widest = (per["max"] - per["min"]).idxmax()
    out.update(widest_region=str(widest), widest_range=float(per.loc[widest, "max"] - per.loc[widest, "min"]))
    out["sentence"] = words("parts/regions.md").regions(out | {
        "between": fmt(out["between_share"] * 100, 0), "within": fmt(out["within_share"] * 100, 0),
        "low": f"{fmt(out['region_mean_min'], dp)}{u}", "high": f"{fmt(out['region_mean_max'], dp)}{u}",
        "widest": f"{fmt(out['widest_range'], dp)}{unit_diff(unit)}"})
    return out


def _range_text(v: pd.Series, dp: int, u: str) -> str:
    lo, hi = fmt_value(v.min(), dp), fmt_value(v.max(), dp)
    return f"{lo}{u}" if lo == hi else f"{lo}{u} to {hi}{u}"


def _who(v: pd.Series, x: float, dp: int, cohort: pd.Series | None, small: int | None,
         cohort_noun: str) -> tuple[str, str]:
    """(table cell, words after the figure) for every LA at the extreme ``x`` as printed, with
    "(from only 6 pupils)" for a named LA under ``small`` pupils."""
    shown = fmt_value(x, dp)
    at = sorted({str(n) for n, val in v.items() if fmt_value(val, dp) == shown})

    def few(n: str) -> str:
        c = cohort.get(n, np.nan) if cohort is not None else np.nan
        return f"from only {fmt(c, 0)} {cohort_noun}" if small is not None and np.isfinite(c) and c < small else ""

    if len(at) == 1:
        note = few(at[0])
        return at[0], f"in {at[0]}" + (f" ({note})" if note else "")
    if len(at) <= 3:
        notes = [few(n) for n in at]
        listed = "; ".join(f"{n}, {k}" if k else n for n, k in zip(at, notes, strict=True)) if any(notes) \
            else and_join(at)
        return and_join(at), f"in {len(at)} LAs ({listed})"
    return f"{len(at)} LAs, including {at[0]}", f"in {len(at)} LAs (including {at[0]})"


def spread(values: pd.Series, names: pd.Series, label: str, unit: str = "", dp: int | None = None, *,
           ratio: bool = True, estimated: pd.Series | None = None, estimate_note: str = "",
           cohort: pd.Series | None = None, small: int | None = None, cohort_noun: str = "pupils") -> dict:
    """Range across LAs, its ends' LAs (ties named when 2 or 3, never an ``estimated`` one, a ``cohort``
    under ``small`` said), quartiles and a sentence."""
    est = pd.Series(False if estimated is None else estimated.to_numpy(dtype=bool), index=names.to_numpy())
    coh = (pd.Series(pd.to_numeric(cohort, errors="coerce").to_numpy(dtype="float64"), index=names.to_numpy())
           if cohort is not None else None)
    v_all = pd.Series(values.to_numpy(dtype="float64"), index=names.to_numpy())
    keep = v_all.notna()
    v_all, est = v_all[keep], est[keep.to_numpy()]
    v = v_all[~est.to_numpy()]
    if v.empty:
        return {"n": 0, "sentence": f"No LA has a value of {label}."}
    # the decimals the summary tables print (fmt_value: one more place only below 1 in size)
    dp = min(dp_for(v_all) if dp is None else dp, 1)
    u = unit_level(unit)
    lo_cell, lo_text = _who(v, float(v.min()), dp, coh, small, cohort_noun)
    hi_cell, hi_text = _who(v, float(v.max()), dp, coh, small, cohort_noun)
    d = {"n": len(v_all), "n_published": len(v), "n_estimated": int(est.sum()), "min": float(v.min()),
         "max": float(v.max()), "median": float(v_all.median()), "q1": float(v_all.quantile(0.25)),
         "q3": float(v_all.quantile(0.75)), "highest": hi_cell, "lowest": lo_cell, "highest_text": hi_text,
         "lowest_text": lo_text, "dp": dp, "ratio": float(v.max()) / float(v.min()) if v.min() > 0 else np.nan}
    # "about 13 times", not "13.0": the ends are often whole-number percentages
    times = (f", about {fmt(d['ratio'], 0 if d['ratio'] >= 3 else 1)} times the lowest" if ratio and np.isfinite(d["ratio"]) and d["ratio"] >= 1.5
             and d["min"] >= 10 ** -dp else "")
    among = ""
    if d["n_estimated"]:  # one point a sentence: the range, the estimates, the middle half
        among = (f" among the {d['n_published']} LAs with a published figure. {plural(d['n_estimated'], 'LA')} "
                 f"{agree(d['n_estimated'], 'has', 'have')} only an estimate from {estimate_note or 'a suppressed count'}"
                 f" ({_range_text(v_all[est.to_numpy()], dp, u)})")
    f = {k: f"{fmt_value(d[k], dp)}{u}" for k in ("min", "max", "q1", "q3", "median")}
    d["sentence"] = (f"{sentence_case(label)} ranges from {f['min']} {lo_text} to {f['max']} {hi_text}{times}{among}. "
                     f"The middle half of {'all ' if among else 'the '}{d['n']} LAs lie between {f['q1']} and "
                     f"{f['q3']} (median {f['median']}).")
    return d
