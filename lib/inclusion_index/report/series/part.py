"""The Part container and the sections every part of the series shares (published indicators, highlight, ranking, rank certainty)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from inclusion_index.config import CHOICES, UncertaintySettings
from inclusion_index.index.edition import Edition
from inclusion_index.index.scoring import AREA_NAMES, AREAS
from inclusion_index.report.series.caveats import PAGE_LINKS
from inclusion_index.report.series.context import ContextMeasure
from inclusion_index.report.series.edition_facts import (
    IndicatorFacts,
    area_indicators,
    check_highlight,
    plain_codes,
    range_label,
    rank_cell,
    rank_column,
    rank_words,
    short_names,
)
from inclusion_index.report.series.models import OLSResult, ols
from inclusion_index.report.series.text import (
    LA_COLUMN,
    and_join,
    common_tail,
    dp_for,
    fmt,
    md,
    plural,
    sentence_case,
    unit_level,
    year_label,
)
from inclusion_index.report.templates import words


def link_profiles(part: Part, ed: Edition) -> Part:
    """Mark every table that names LAs with their profile pages (style_table then links them)."""
    pages = dict(zip(ed.geography["la_name"], ed.geography["la_code"], strict=True))
    for t in part.tables.values():
        if isinstance(t, pd.DataFrame) and LA_COLUMN in t.columns:
            t.attrs["profiles"] = pages
    return part


@dataclass
class Part:
    """What one part found: sentences by section, tables, numbers, models; chart data per LA (``data``)
    and other (``frames``); the context measures used (``measures``, for ``data_caveats``)."""

    key: str
    title: str
    sections: dict[str, list[str]] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    numbers: dict[str, float] = field(default_factory=dict)
    models: dict[str, OLSResult] = field(default_factory=dict)
    data: pd.DataFrame = field(default_factory=pd.DataFrame)
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    measures: list[ContextMeasure | str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    linked: set[str] = field(default_factory=set)
    # (section, predictor, what it allows for) -> (its "no clear link" sentence's place in the section, the outcomes listed)
    unclear: dict[tuple[str, str, str], tuple[int, list[str]]] = field(default_factory=dict)

    @property
    def text(self) -> list[str]:
        return [s for ss in self.sections.values() for s in ss]

    def say(self, section: str, *sentences: str) -> None:
        self.sections.setdefault(section, []).extend(s for s in sentences if s)

    def say_link(self, section: str, link: dict) -> None:
        """An association in plain words (templates/parts/links.md): a clear one as its own sentence,
        the ones with no clear link grouped into one sentence per predictor."""
        t = words("parts/links.md")
        ss = self.sections.setdefault(section, [])
        if link["clear"]:
            ss.append(t.clear(link, len(ss)))
            return
        at, ys = self.unclear.setdefault((section, link["x"], link["others"]), (len(ss), []))
        ys.append(link["y"])
        sentence = t.unclear(link["x"], common_tail(ys), link["others"])
        ss[at:at + 1] = [sentence]  # appends the first time, then rewrites it in place

    def fit(self, key: str, data: pd.DataFrame, y: str, x: str | Sequence[str], *, sources: Iterable[str],
            labels: dict[str, str] | None = None, units: dict[str, str] | None = None,
            say: str | None = None, terms: Sequence[str] | None = None) -> OLSResult | None:
        """OLS across LAs kept as ``models[key]`` with its sources, a sentence per ``terms`` in section
        ``say``; None when too few LAs have every variable."""
        if (m := ols(data, y, x, labels=labels, units=units)) is None:
            return None
        m.source_ids = list(dict.fromkeys(sources))
        self.models[key] = m
        for t in (terms or m.x[:1]) if say else []:
            self.say_link(say, m.link(t))
            self.say("technical", m.technical(t))
        return m

    def markdown(self, section: str | None = None, *, bullets: bool = False, sentences: list[str] | None = None) -> str:
        """A section's sentences (or all, or ``sentences``) as escaped Markdown, each PAGE_LINKS term's
        first use on the page linked (the notebook shows sections in page order)."""
        out = md(sentences if sentences is not None else self.sections.get(section, []) if section else self.text,
                 bullets=bullets)
        for pat, href in (m for m in PAGE_LINKS.items() if m[0] not in self.linked):
            m = next((m for m in re.finditer(rf"\b(?:{pat})\b", out)  # never inside a link made already
                      if out.count("[", 0, m.start()) == out.count("]", 0, m.start())), None)
            if m:
                out = f"{out[:m.start()]}[{m.group(0)}]({href}){out[m.end():]}"
                self.linked.add(pat)
        return out


def has_values(t: pd.DataFrame, indicator: str) -> bool:
    col = f"{indicator}_value"
    return col in t.columns and bool(t[col].notna().any())


def imputed_rows(ed, indicators: Iterable[str], year: str | None = None) -> pd.DataFrame:
    """The values rows of ``indicators`` in an index year that are estimates set for a suppressed
    small count (the values table's ``imputed_count``)."""
    v = ed.values
    return v[(v["index_year"] == (year or ed.final_year)) & v["indicator"].isin(list(indicators))
             & v["imputed_count"].notna()]


def estimated(ed, t: pd.DataFrame, indicator: str, year: str | None = None) -> pd.Series:
    """Per row of ``t``: True where the indicator's value is an estimate (:func:`imputed_rows`)."""
    return t["la_code"].isin(set(imputed_rows(ed, [indicator], year)["la_code"])).set_axis(t.index)


def estimate_note(ed, indicator: str, year: str | None = None) -> str:
    """'a suppressed count of 1 or 2 exclusions' from the values' ``imputed_range`` ('' if none)."""
    ranges = imputed_rows(ed, [indicator], year)["imputed_range"]
    return f"a suppressed count of {ranges.iloc[0]}" if len(ranges) else ""


def unpublished_sentence(ind: IndicatorFacts, i: str, year: str) -> str:
    note = ind.t.loc[i, "note"] or "no LA values"
    return (f"{sentence_case(ind.phrase(i))}: {note} (index year {year_label(year)}), so it is left out of this year's "
            "figures.")


def published_indicators(p: Part, ed, t: pd.DataFrame, ind: IndicatorFacts, area: str) -> tuple[list[str], list[str]]:
    """(all the area's indicators, those with LA values this year); says which are left out."""
    inds = area_indicators(ed, area)
    avail = [i for i in inds if has_values(t, i)]
    p.say("summary", *(unpublished_sentence(ind, i, ed.final_year) for i in inds if i not in avail))
    return inds, avail


def context_frame(t: pd.DataFrame, contexts: dict[str, ContextMeasure]) -> pd.DataFrame:
    return t.assign(**{col: t["la_code"].map(c.values) for col, c in contexts.items()})


def la_list(t: pd.DataFrame, col: str, label: str, *, ascending: bool, n: int = 10,
             extra: dict[str, str] | None = None, estimate: pd.Series | None = None,
             estimate_note: str = "") -> pd.DataFrame:
    """The ``n`` highest or lowest LAs on ``col``. With ``estimate`` (a mask of estimated
    values) the estimates are left out, and the table's attrs say how many were."""
    cols = {"la_name": "Local authority", "region": "Region", col: label} | (extra or {})
    d = t.dropna(subset=[col])
    mask = estimate.reindex(d.index).fillna(False).astype(bool) if estimate is not None else d[col].isna()
    d = d[~mask].sort_values([col, "la_name"], ascending=[ascending, True])
    out = d[list(cols)].rename(columns=cols).head(n).reset_index(drop=True)
    out.attrs["estimates_left_out"] = int(mask.sum())
    return out


def _highlight_sentences(ed, code: str | None, t: pd.DataFrame, ind: IndicatorFacts, indicators: Sequence[str]) -> list[str]:
    if not code:
        return []
    r = t.set_index("la_code").loc[code]
    n = int(t["overall_rank"].notna().sum())
    if pd.notna(r.get("overall_rank")):
        head = (f"{r['la_name']} ({r['region']}) ranks "
                f"{rank_words(r['overall_rank'], r.get('overall_rank_lo'), r.get('overall_rank_hi'), n)}, with "
                f"an overall score of {fmt(r['overall_score'])}")
    else:
        head = f"{r['la_name']} ({r['region']}) has no overall score this year ({plain_codes(ed, r.get('flags', ''))})"
    out = [head + "."]
    for i in indicators:
        v = r.get(f"{i}_value", np.nan)
        if pd.isna(v):
            out.append(f"{r['la_name']}: {ind.phrase(i)} is not available for {year_label(ind.year(i))}.")
            continue
        dp = dp_for(t[f"{i}_value"])
        est = bool(estimated(ed, t[t["la_code"] == code], i).any())
        out.append(f"{r['la_name']}: {ind.phrase(i)} is {fmt(v, dp)}{unit_level(ind.unit(i))} in "
                   f"{year_label(ind.year(i))}" + (f", an estimate from {estimate_note(ed, i) or 'a suppressed count'}"
                                                   if est else "") + f" ({ind.england_text(i, dp)}).")
    return out


def highlight_section(p: Part, ed, highlight: str | int | None, t: pd.DataFrame, ind: IndicatorFacts, indicators: Sequence[str]) -> str | None:
    code, warn = check_highlight(ed, highlight)
    p.say("highlight", warn, *_highlight_sentences(ed, code, t, ind, indicators))
    return code


RANKING_FRAME_COLUMNS = ["la_code", "la_name", "region", "overall_rank", "overall_rank_lo", "overall_rank_median",
                         "overall_rank_hi", "overall_score", "overall_adjusted_score", "overall_adjusted_rank",
                         "overall_adjusted_rank_lo", "overall_adjusted_rank_hi"]


def ranking_frame(t: pd.DataFrame) -> pd.DataFrame:
    """The scored LAs, best first, with the numbers behind a ranking table (for charts and CSVs)."""
    scored = t[t["scored"].fillna(False).astype(bool)].sort_values(["overall_rank", "la_name"])
    cols = [c for c in RANKING_FRAME_COLUMNS if c in scored.columns]
    return scored[cols + [f"{a}_score" for a in AREAS if f"{a}_score" in scored]].reset_index(drop=True)


def rank_cells(d: pd.DataFrame, target: str) -> list[str]:
    return [rank_cell(*x) for x in zip(*(d.get(f"{target}_rank{s}", [None] * len(d)) for s in ("", "_lo", "_hi")),
                                       strict=True)]


def ranking_table(t: pd.DataFrame, *, adjusted: bool = False) -> pd.DataFrame:
    """Display table: rank with its range, LA, region, overall, area (and ``adjusted``) scores."""
    f = ranking_frame(t)
    out = pd.DataFrame({rank_column(): rank_cells(f, "overall"), "Local authority": f["la_name"],
                        "Region": f["region"], "Overall score": f["overall_score"]})
    out = out.assign(**{AREA_NAMES[a]: f[f"{a}_score"] for a in AREAS if f"{a}_score" in f})
    if adjusted and "overall_adjusted_score" in f:
        out["Adjusted score"] = f["overall_adjusted_score"]
        out["Adjusted rank"] = rank_cells(f, "overall_adjusted")
    return out.dropna(axis=1, how="all").reset_index(drop=True)


def _choice_options(settings: UncertaintySettings) -> dict[str, object]:
    """The options of each Monte Carlo choice in words (templates/parts/certainty.md's ``option``)."""
    w, miss = settings.weights_half_width, [str(m) for m in settings.max_missing_indicators]
    return {"lo": fmt(1 - w, 2), "hi": fmt(1 + w, 2), "missing": ", ".join(miss[:-1]) + (" or " if len(miss) > 1 else "")
            + miss[-1], "normalisations": [{"percentile": "percentile ranks", "zscore": "z-scores",
                                            "minmax": "min-max scaling"}.get(o, o) for o in settings.normalisations],
            "imputed": ["left missing" if c is None else fmt(c, 1 if c % 1 else 0) for c in settings.imputed_counts],
            "aggregations": [{"indicators": "equal weight per indicator", "areas": "equal weight per area"}.get(o, o)
                             for o in settings.aggregations]}


def _not_redrawn_sentences(p: Part, ed, settings: UncertaintySettings) -> list[str]:
    """The values the Monte Carlo could not redraw, and the indicators it never redraws."""
    if "sampling" not in settings.perturb:
        return ["Chance in the data is not varied in this run's settings, so the ranges leave it out."]
    nn = ed.monte_carlo.no_noise
    short = short_names(ed)
    p.numbers.update(cells_not_redrawn=len(nn), cells_not_redrawn_final_year=int(
        (nn["index_year"] == ed.final_year).sum()) if len(nn) else 0)
    by_year = [f"in {year_label(str(y))}, " + ", ".join(f"{short.get(i, i)} ({plural(n, 'LA')})" for i, n in
                                                        g.groupby("indicator", sort=False)["la_code"].nunique().items())
               for y, g in nn.groupby("index_year", sort=True)] if len(nn) else []
    never = [str(short.get(i, i)) for i in ed.indicators["indicator"] if settings.spec(i).model == "none"]
    w = words("parts/certainty.md")
    return [w.not_redrawn(plural(len(nn), "value"), by_year), w.never(and_join(never), len(never)) if never else ""]


def missing_rule_facts(ed) -> dict:
    """The missing-data rule as applied (counted against the indicators published that year): ``rule``,
    ``n`` indicators, ``published`` and ``most_missing`` (the most any LA misses) by index year."""
    v = ed.values[ed.values["la_code"].isin(ed.geography["la_code"])]
    pub = v[v.groupby(["index_year", "indicator"])["value"].transform("count") > 0]  # some LA has a value
    published = pub.groupby("index_year")["indicator"].nunique()
    most = pub["value"].isna().groupby([pub["index_year"], pub["la_code"]]).sum().groupby(level=0).max()
    years = sorted(set(v["index_year"].astype(str)))
    return {"rule": int(ed.method.scoring.get("max_missing_indicators", 2)), "n": len(ed.indicators),
            "published": {y: int(published.get(y, 0)) for y in years},
            "most_missing": {y: int(most.get(y, 0)) for y in years}}


def _missing_rule_sentence(ed, sens: pd.DataFrame, settings: UncertaintySettings) -> str:
    """The missing-data rule as applied, and whether varying it moved any LA (the sensitivity
    table says)."""
    s = sens.set_index("choice")
    if "missing" not in s.index:
        return ""
    f = missing_rule_facts(ed)
    most, r = f["most_missing"], s.loc["missing"]
    earlier = [m for y, m in most.items() if y != ed.final_year]
    return words("parts/certainty.md").missing_rule(f | {
        "fewer": [f"{k} of {f['n']} in {year_label(y)}" for y, k in f["published"].items() if k < f["n"]],
        "rules": ", ".join(str(m) for m in settings.max_missing_indicators), "year": year_label(ed.final_year),
        "moved_none": float(r["max_abs_shift"]) == 0, "final": most.get(ed.final_year, 0),
        "final_n": plural(most.get(ed.final_year, 0), "published indicator"),
        "earlier": max(earlier) if earlier else None, "mean": fmt(r["mean_abs_shift"], 2),
        "max": round(float(r["max_abs_shift"]))})


def aggregation_widening_sentences(p: Part, ed, sens: pd.DataFrame | None = None) -> list[str]:
    """How much the aggregation choice widens the rank ranges (the Monte Carlo's RangeWidening) and
    the area-weighted ranking's correlation with the headline (the sensitivity table)."""
    if (w := getattr(ed.monte_carlo, "aggregation_widening", None)) is None:  # None without a Monte Carlo too
        return []
    p.numbers.update({f"aggregation_{'' if k.startswith('outside') else 'range_'}{k}_{x}": getattr(w, f"{k}_{x}")
                      for k in ("median", "mean", "p90", "outside") for x in ("without", "with")})
    headline, alternative = ("equal weight per area", "equal weight per indicator")[::1 if w.headline == "areas" else -1]
    t = words("parts/certainty.md")
    f = {"headline": headline, "alternative": alternative, "draws": w.draws_rescored, "range": range_label(),
         "runs": ed.monte_carlo.ranks.shape[0], "mean_without": fmt(w.mean_without), "mean_with": fmt(w.mean_with),
         "wider": w.n_wider, "narrower": w.n_narrower, "outside_with": w.outside_with,
         "outside_without": w.outside_without, "interval": f"{ed.monte_carlo.settings.interval:.0%}"} | {
        k: round(float(getattr(w, k))) for k in ("median_without", "median_with", "p90_without", "p90_with")}
    out = [t.aggregation(f), t.outside(f) if w.outside_without or w.outside_with else ""]
    if sens is not None and "rank_correlation" in sens and "aggregation" in set(sens["choice"]):
        rho = float(sens.set_index("choice").loc["aggregation", "rank_correlation"])
        p.numbers["aggregation_rank_correlation"] = rho
        out.append(f"Scored with {alternative} alone, the ranking correlates {fmt(rho, 2)} with the headline "
                   "(Spearman).")
    return out


def rank_certainty_section(p: Part, ed, t: pd.DataFrame) -> None:
    """Part 1's "How certain are these ranks?" and which method choice moves ranks most."""
    settings = ed.monte_carlo_settings()
    s = t[t["scored"].fillna(False).astype(bool)]
    n = len(s)
    p.frames["rank_intervals"] = ranking_frame(t)
    if "overall_rank_lo" not in s or s["overall_rank_lo"].isna().all():
        p.say("certainty", words("parts/certainty.md").switched_off())
        return
    lo, hi = (s[f"overall_rank_{x}"].astype("float64") for x in ("lo", "hi"))
    width, names, k = hi - lo, s["la_name"], 10
    overlap_top, overlap_bottom, sure_top = int((lo <= k).sum()), int((hi > n - k).sum()), int((hi <= k).sum())
    p.numbers.update(rank_interval_median_width=float(width.median()), rank_interval_min_width=float(width.min()),
                     rank_interval_max_width=float(width.max()), overlap_top10=overlap_top,
                     overlap_bottom10=overlap_bottom, always_top10=sure_top, n_draws=settings.n_draws)
    narrow, wide = width.idxmin(), width.idxmax()
    best, worst = (s.sort_values(["overall_rank", "la_name"]).iloc[j] for j in (0, -1))
    w = words("parts/certainty.md")
    f = {"n_draws": settings.n_draws, "choices": CHOICES, "range": range_label(), "interval": f"{settings.interval:.0%}",
         "median": round(float(width.median())), "n": n, "narrowest": round(float(width[narrow])),
         "narrow_la": names[narrow], "widest": round(float(width[wide])), "wide_la": names[wide],
         "top": overlap_top, "bottom": overlap_bottom, "sure": sure_top, "k": k}
    p.say("certainty", w.how(f), w.widths(f),
          f"{best['la_name']} ranks {rank_words(best['overall_rank'], best['overall_rank_lo'], best['overall_rank_hi'])}; "
          f"{worst['la_name']} ranks {rank_words(worst['overall_rank'], worst['overall_rank_lo'], worst['overall_rank_hi'])}.",
          w.overlap(f))
    sens = ed.sensitivity
    p.say("certainty", *aggregation_widening_sentences(p, ed, sens), *_not_redrawn_sentences(p, ed, settings),
          _missing_rule_sentence(ed, sens, settings))
    options = _choice_options(settings)
    p.tables["sensitivity"] = pd.DataFrame({
        "Choice varied": [sentence_case(w.option(c, options)) for c in sens["choice"]], "Runs": sens["runs"],
        "Average move (places)": sens["mean_abs_shift"], "Median move": sens["median_abs_shift"],
        "90th percentile move": sens["p90_abs_shift"], "Largest move": sens["max_abs_shift"],
        "Moves of 10+ places (% of LA-runs)": sens["share_moved_10plus"] * 100,
        "Rank correlation with the headline": sens["rank_correlation"]})
    p.frames["sensitivity"] = sens
    one = sens[sens["choice"] != "all"].set_index("choice")
    most = one["mean_abs_shift"].idxmax()
    # the missing-data rule has its own sentence in "certainty"; name the least of the others here
    others = one.drop(index=[c for c in ("missing", most) if c in one.index])
    least = others["mean_abs_shift"].idxmin() if len(others) else one["mean_abs_shift"].idxmin()
    p.numbers.update(sensitivity_most=most, sensitivity_most_mean=float(one.loc[most, "mean_abs_shift"]))  # type: ignore[dict-item]
    text = [w.most({"most": most, "most_mean": fmt(one.loc[most, "mean_abs_shift"]), "least": least,
                    "most_share": fmt(one.loc[most, "share_moved_10plus"] * 100, 0),
                    "least_zero": one.loc[least, "mean_abs_shift"] == 0, "least_mean": fmt(one.loc[least, "mean_abs_shift"]),
                    "lowest": least == one["mean_abs_shift"].idxmin()})]
    if "all" in set(sens["choice"]):
        a = sens.set_index("choice").loc["all"]
        text.append(w.together(fmt(a["mean_abs_shift"]), fmt(a["share_moved_10plus"] * 100, 0)))
    p.say("sensitivity", *text, w.single_year() if len(ed.years) == 1 else "")
