"""Quotable findings of an edition (findings.csv / .html / .md): one headline with one number each,
its data period, caveat, strength from the edition's intervals and cohorts, numbered sources and a link."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial

import numpy as np
import pandas as pd

from inclusion_index.index.indicator_facts import source_id
from inclusion_index.report.series.caveats import weights_sentence
from inclusion_index.report.series.context import context_measure
from inclusion_index.report.series.edition_facts import (
    MEASURE_SHORT_NOTES,
    IndicatorFacts,
    change_range,
    data_years_sentence,
    indicator_cohorts,
    la_coverage,
    la_table,
    range_label,
)
from inclusion_index.report.series.models import OLSResult
from inclusion_index.report.series.part import estimated, has_values
from inclusion_index.report.series.part_conclusions import improvement_frame
from inclusion_index.report.series.part_exclusions import exclusions
from inclusion_index.report.series.part_placement import placement
from inclusion_index.report.series.text import (
    chance_count,
    dp_for,
    dp_for_step,
    fmt,
    iod_label,
    nice_step,
    ordinal,
    year_label,
    years_label,
)
from inclusion_index.report.templates import render_template
from inclusion_index.sources.geography import january_of
from inclusion_index.sources.registry import load_registry

ROBUST, WITHIN, SMALL = "robust", "within uncertainty", "small cohort"
STRENGTHS = (ROBUST, WITHIN, SMALL)
COLUMNS = ["id", "headline", "number", "unit", "place", "data_period", "england_figure", "caveat", "strength",
           "sources", "link"]
SOURCE_COLUMNS = ["ref", "publisher", "title", "release_date", "url"]
# a headline is a sentence a journalist can lift: at most this many words and one number
MAX_HEADLINE_WORDS = 20
# digits with thousands separators and decimals, signs and slashes included ("2024/25" is a number)

# Part pages the links point into (render.PARTS' file names)
P1, P2, P3, P4, P5, P6 = ("01_introduction", "02_exclusions", "03_assessment", "04_placement", "05_attainment",
                          "06_conclusions")


@dataclass(frozen=True)
class Finding:
    """One quotable finding (a row of findings.csv)."""

    id: str
    headline: str
    number: float
    unit: str
    data_period: str
    caveat: str
    source_ids: tuple[str, ...]
    link: str  # "<part>.html#<anchor>"
    place: str = "England"
    england_figure: str = ""
    strength: str = ROBUST
    dp: int = 1  # decimals the headline shows the number with

    def __post_init__(self) -> None:
        if self.strength not in STRENGTHS:
            raise ValueError(f"finding {self.id}: strength {self.strength!r} is not one of {STRENGTHS}")


@dataclass(frozen=True)
class SourceRef:
    """One row of the sources table every finding cites by number."""

    ref: int
    id: str
    publisher: str
    title: str
    release_date: str
    url: str


@dataclass
class Findings:
    """An edition's findings, the sources they cite, and the words around them."""

    edition: str
    items: list[Finding]
    sources: list[SourceRef]
    describe: str
    dont_write: list[str]
    title: str
    refs: dict[str, int] = field(default_factory=dict)

    def frame(self) -> pd.DataFrame:
        """findings.csv: exactly COLUMNS; ``sources`` as '1; 4' into the sources table."""
        # number as the headline shows it, without separators: a count never reads 638745.0
        return pd.DataFrame([asdict(f) | {"sources": "; ".join(str(self.refs[s]) for s in f.source_ids)}
                             for f in self.items], columns=COLUMNS).assign(number=[f"{f.number:.{f.dp}f}" for f in self.items])

    def sources_frame(self) -> pd.DataFrame:
        """findings_sources.csv: one row per cited source, numbered as the findings cite them."""
        return pd.DataFrame([asdict(s) for s in self.sources], columns=SOURCE_COLUMNS)


def _period_words(ed, indicators: Iterable[str]) -> str:
    """'exclusions 2023/24; January 2025 school census; exam results 2023/24' for indicators' data years."""
    ind = IndicatorFacts(ed)
    kinds: dict[str, list[str]] = {}  # kind of data -> its years, so a kind is named once
    for i in indicators:
        if i in ind.t.index and (y := ind.year(i)):
            kind, year = {"exclusions": ("exclusions", year_label(y)), "assessment": (f"{_jan(y)} school census", ""),
                          "placement": ("EHC plans at", _jan(y)), "neet": ("NEET figures", year_label(y))}.get(
                              "neet" if "neet" in i else str(ind.t.loc[i, "area"]), ("exam results", year_label(y)))
            if year not in kinds.setdefault(kind, []):
                kinds[kind].append(year)
    # one kind of data with several years reads "exam results 2022/23 and 2023/24"
    return "; ".join(f"{k} {' and '.join(sorted(v))}".strip() for k, v in kinds.items())


def _rank_strength(lo: object, hi: object, target: int) -> str:
    """Robust when the rank's whole range is the claimed rank, else within uncertainty."""
    return ROBUST if pd.notna(lo) and pd.notna(hi) and int(lo) == int(hi) == target else WITHIN


def _rank_caveat(lo: object, hi: object) -> str:
    base = "Scores compare councils with each other, not with a standard; 50 is the middle council."
    if pd.isna(lo) or pd.isna(hi):
        return base
    rng = (f"Its rank is {ordinal(int(lo))} in every run." if int(lo) == int(hi)
           else f"Its rank could be anywhere from {ordinal(int(lo))} to {ordinal(int(hi))} ({range_label()}).")
    return f"{rng} {base}"


def _rank_width(scored: pd.DataFrame) -> float | None:
    """The median width of the scored LAs' rank ranges (None without ranges)."""
    if "overall_rank_lo" not in scored or scored["overall_rank_lo"].isna().all():
        return None
    return float((scored["overall_rank_hi"] - scored["overall_rank_lo"]).astype("float64").median())


def findings(ed) -> list[Finding]:
    """The edition's quotable findings, in reading order."""
    t, ind = la_table(ed), IndicatorFacts(ed)
    scored = t[t["scored"]].sort_values(["overall_rank", "la_name"])
    all_ids = tuple(sorted({sid for ids in ind.t["source_ids"] for sid in ids}))
    period = _period_words(ed, ed.method.indicators)
    return [*_ranking(ed, scored, all_ids, period), *_improvement(ed, t, period), *_national(ed),
            *_indicator_extremes(ed, t, ind), *_associations(ed, ind, all_ids)]


def _ranking(ed, scored: pd.DataFrame, ids: tuple[str, ...], period: str) -> list[Finding]:
    out = []
    for key, r, word, target in (("top", scored.iloc[0], "highest", 1), ("bottom", scored.iloc[-1], "lowest", len(scored))):
        lo, hi = r.get("overall_rank_lo"), r.get("overall_rank_hi")
        out.append(Finding(
            id=f"overall_{key}", headline=f"{r['la_name']} has the {word} SEND inclusion score of England's "
            f"ranked councils: {fmt(r['overall_score'], 1)}.", number=float(r["overall_score"]),
            unit="score (0 to 100; 50 is the middle council)",
            place=str(r["la_name"]), data_period=period, caveat=_rank_caveat(lo, hi),
            strength=_rank_strength(lo, hi, target), source_ids=ids, link=f"{P6}.html#fig-06_overall_ranking"))
    if (width := _rank_width(scored)) is not None:
        draws = ed.monte_carlo_settings().n_draws
        out.append(Finding(
            id="rank_uncertainty", headline=f"A typical council's plausible rank spans {fmt(width, 0)} places, "
            "so small rank differences mean little.", number=round(width), unit="places", data_period=period, dp=0,
            caveat=f"The median width of the councils' {range_label()}s over {draws} runs varying the method's "
                   "choices and chance.", source_ids=ids, link=f"{P1}.html#fig-01_rank_intervals"))
    reg = ed.regional().sort_values("overall_score", ascending=False)
    if len(reg) > 1:
        # strength from the LAs' rank ranges: the top region's LAs' worst plausible ranks against
        # the next region's best plausible ranks (robust when the ranges do not meet on average)
        sc = scored.set_index("region")
        for key, a, b, word in (("top", 0, 1, "highest"), ("bottom", -1, -2, "lowest")):
            name = str(reg.index[a])
            first, second = sc.loc[[name]], sc.loc[[str(reg.index[b])]]
            clear = width is not None and (first["overall_rank_hi"].mean() < second["overall_rank_lo"].mean() if key == "top"
                                    else first["overall_rank_lo"].mean() > second["overall_rank_hi"].mean())
            out.append(Finding(
                id=f"region_{key}", headline=f"{name} has the {word} average SEND inclusion score of England's "
                f"regions: {fmt(reg['overall_score'].iloc[a], 1)}.", number=float(reg["overall_score"].iloc[a]),
                unit="average score of the region's councils (0 to 100)", place=name, data_period=period,
                caveat="An unweighted average of the region's councils' scores.",
                strength=ROBUST if clear else WITHIN, source_ids=ids, link=f"{P6}.html#fig-06_overall_by_region"))
    return out


def _improvement(ed, t: pd.DataFrame, period: str) -> list[Finding]:
    imp = improvement_frame(ed, t)
    if not len(imp):
        return []
    compared = list(imp.attrs.get("indicators_compared", []))
    ids = tuple(sorted({sid for y in (ed.first_year, ed.final_year) for i in compared
                        for sid in ed.indicator_years[y].set_index("indicator").at[i, "source_ids"]}))
    yrs = f"{year_label(ed.first_year)} to {year_label(ed.final_year)}"
    r, link = imp.iloc[0], f"{P6}.html#fig-06_most_improved"
    rng = "" if pd.isna(r["change_lo"]) or pd.isna(r["change_hi"]) else (
        f" Its {range_label()} of change runs from {change_range(r['change_lo'], r['change_hi'])} points.")
    out = [Finding(
        id="most_improved", headline=f"{r['la_name']} is the most improved council, up {fmt(r['change'], 1)} "
        "points when scored like for like.", number=float(round(r["change"], 1)), unit="points of overall score",
        place=str(r["la_name"]), data_period=f"index years {yrs} ({period})",
        caveat=f"Both years scored on only the {int(r['indicators_compared'])} indicators published in both, from "
               f"{fmt(r['score_early'])} to {fmt(r['score_late'])}.{rng}",
        strength=ROBUST if bool(r["significant"]) else WITHIN, source_ids=ids, link=link)]
    expected = chance_count((1 - ed.monte_carlo_settings().interval) / 2, len(imp))
    for key, k, word in (("rises", int(imp["significant"].sum()), "rose"),
                         ("falls", int(imp["declined_significant"].sum()), "fell")):
        out.append(Finding(
            id=f"improvement_{key}", headline=f"{k} councils' inclusion scores {word} beyond uncertainty over the "
            "edition's years.", number=k, unit="councils", dp=0, data_period=f"index years {yrs}",
            caveat=f"Of {len(imp)} councils compared like for like. Chance alone would put about {expected} beyond "
                   "uncertainty in each direction.",
            strength=ROBUST if k > 2 * expected else WITHIN, source_ids=ids, link=link))
    return out


def _england_series(ed, measure: str) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """DfE's England rows of a measure over the edition's years (value, numerator, denominator) and
    the registry ids of their sources."""
    lg = ed.long
    n = lg[(lg["measure"] == measure) & (lg["level"] == "national") & lg["year"].isin(ed.years) & lg["value"].notna()]
    n = n.drop_duplicates("year").set_index("year").sort_index()
    return n, tuple(sorted({source_id(s) for s in n["source"].dropna()}))


def _jan(year: str) -> str:
    return f"January {january_of(year).year}"  # the census that names the year key


def _national(ed) -> list[Finding]:
    """England's EHC plans and plans with no school place, from DfE's England rows (SEN2)."""
    plans, ids = _england_series(ed, "sen2_ehcp_total")
    if plans.empty:
        return []
    first, final = plans.index[0], plans.index[-1]
    jan0, jan, start, total = _jan(first), _jan(final), float(plans["value"].iloc[0]), float(plans["value"].iloc[-1])
    plan = partial(Finding, unit="EHC plans", dp=0, link=f"{P4}.html#T_beyond_england")
    out = [plan(id="england_ehc_plans", headline=f"Councils in England maintained {fmt(total, 0)} EHC plans.",
                number=total, data_period=f"EHC plans at {jan}", england_figure=f"{fmt(total, 0)} (DfE, SEN2 return)",
                caveat=(f"Up from {fmt(start, 0)} in {jan0}. " if first != final else "")
                + "Plans for children and young people aged 0 to 25, not only pupils.", source_ids=ids)]
    if first != final:
        out.append(plan(
            id="england_ehc_plans_rise", headline=f"The number of EHC plans in England grew by {fmt(total - start, 0)} "
            "in the edition's years.", number=total - start, data_period=f"EHC plans at {jan0} and {jan}",
            england_figure=f"{fmt(total, 0)} in {jan}", source_ids=ids,
            caveat=f"From {fmt(start, 0)} to {fmt(total, 0)}; a count of plans, not of need."))
    none, ids = _england_series(ed, "sen2_ehcp_no_school_place_pct")
    if none.empty or final not in none.index:
        return out
    brk = ed.run.placement.series_breaks.get("sen2_ehcp_no_school_place_pct")
    comparable = [y for y in none.index if not (brk and y < brk[0] <= final)]
    last, a = none.loc[final], none.loc[comparable[0]]
    since = (f"Up from {fmt(a['numerator'], 0)} ({fmt(a['value'], 1)}%) in {_jan(comparable[0])}. "
             if len(comparable) > 1 else f"Not comparable with years before {_jan(brk[0])}: {brk[1]}. "
             if brk and first < brk[0] <= final else "")
    out.append(plan(
        id="england_no_school_place", headline=f"{fmt(last['numerator'], 0)} children and young people with EHC "
        "plans in England had no school place.", number=float(last["numerator"]), data_period=f"EHC plans at {jan}",
        england_figure=f"{fmt(last['value'], 1)}% of {fmt(last['denominator'], 0)} plans", source_ids=ids,
        caveat=since + "Includes those awaiting provision, home educated and not in education or training."))
    if len(comparable) > 1:
        out.append(plan(
            id="england_no_school_place_rise", headline=f"EHC plans with no school place in England rose by "
            f"{fmt(float(last['numerator'] - a['numerator']), 0)} in the edition's years.",
            number=float(last["numerator"] - a["numerator"]), data_period=f"EHC plans at {_jan(comparable[0])} and {jan}",
            england_figure=f"{fmt(a['value'], 1)}% then, {fmt(last['value'], 1)}% now", source_ids=ids,
            caveat=f"From {fmt(a['numerator'], 0)} to {fmt(last['numerator'], 0)} plans, while all plans also rose."))
    return out


# indicator -> (chart anchor, what the figure is in a headline, its unit in a headline)
_EXTREMES: dict[str, tuple[str, str, str]] = {
    "excl_fixed_ehcp": (f"{P2}.html#fig-02_exclusion_rate_by_la",
                        "suspension rate for pupils with EHC plans", " per hundred pupils"),
    "assess_ehcp_share": (f"{P3}.html#fig-03_ehcp_share_by_la", "share of pupils with SEN who have an EHC plan",
                          "%"),
    "place_indep_nmss": (f"{P4}.html#fig-04_place_indep_nmss_by_la",
                         "share of EHC plans placed in independent or non-maintained schools", "%"),
    "att_ks4_a8_ehcp": (f"{P5}.html#fig-05_attainment_distributions",
                        "average GCSE score of pupils with EHC plans", ""),
}


def _indicator_extremes(ed, t: pd.DataFrame, ind: IndicatorFacts) -> list[Finding]:
    """The highest and lowest LA on four indicators; an LA named only on a published figure,
    and marked 'small cohort' when its figure rests on fewer pupils than the method's threshold."""
    out = []
    small = ed.run.uncertainty.small_cohort
    for i, (link, what, u) in _EXTREMES.items():
        if i not in ind.t.index or not has_values(t, i):
            continue
        v = t[f"{i}_value"].astype("float64")
        ok = v.notna() & ~estimated(ed, t, i)
        dp = dp_for(v[ok])
        cohort = t["la_code"].map(indicator_cohorts(ed, i)).astype("float64")
        e, e_kind = ind.england_best(i)
        pooled = " (pooled from the council figures; no published England figure)" if e_kind not in ("", "published") else ""
        measure = str(ind.t.loc[i, "measure"])
        kind = (f" A {MEASURE_SHORT_NOTES[measure]}, not comparable with earlier editions' annual rates."
                if measure in MEASURE_SHORT_NOTES else "")
        ids = tuple(ind.t.loc[i, "source_ids"])
        unit_words = {"%": "%", "": "Attainment 8 score"}.get(u, str(ind.unit(i)))
        for key, word, x in (("highest", "highest", v[ok].max()), ("lowest", "lowest", v[ok].min())):
            at = ok & (v.round(dp) == round(float(x), dp))
            if at.sum() != 1:  # a tie names no single council
                continue
            r = t[at].iloc[0]
            n = float(cohort[at].iloc[0]) if cohort[at].notna().any() else np.nan
            is_small = bool(np.isfinite(n) and small and n < small)
            out.append(Finding(
                id=f"{i}_{key}", headline=f"{r['la_name']} has England's {word} {what}: {fmt(x, dp)}{u}.",
                number=float(round(x, dp)), unit=unit_words, place=str(r["la_name"]),
                data_period=_period_words(ed, [i]), dp=dp,
                england_figure=f"{fmt(e, dp)}{u}{pooled}" if np.isfinite(e) else "",
                caveat=(f"Based on about {fmt(n, 0)} pupils, too few to rule out chance. " if is_small else "")
                + f"One council's published figure; {len(v[ok])} councils have one.{kind}",
                strength=SMALL if is_small else ROBUST, source_ids=ids, link=link))
    return out


_IDACI = "Per step of {step} in the IDACI child poverty score"
_PLACED = "percentage points of plans in state special schools"


def _association(id_: str, m: OLSResult | tuple[float, ...] | None, headline: str, words: tuple[str, str],
                 unit: str, period: str, per: str, tail: str, link: str, ids: Sequence[str] = ()) -> list[Finding]:
    """An association across LAs (``m``: a fit's first term, or effect, low, high, step) as a finding, only
    where its 95% interval excludes no difference (a 'no clear difference' is not a finding); the step goes in
    the caveat."""
    if isinstance(m, OLSResult):
        r, ids = m.term(m.x[0]), m.source_ids
        m = tuple(float(r[k]) for k in ("per_step", "per_step_low", "per_step_high", "step"))
    eff, lo, hi, step = m or (np.nan,) * 4
    if not (lo > 0 or hi < 0):  # NaN bounds (or no fit) too
        return []
    per = per.format(step=fmt(step, dp_for_step(step)), school="school" if step == 1 else "schools")
    return [Finding(id=id_, headline=headline.format(x=fmt(abs(eff), 1), d=words[0 if eff > 0 else 1]),
                    number=round(abs(eff), 1), unit=unit, data_period=period, source_ids=tuple(ids), link=link,
                    caveat=f"{per} (95% CI {fmt(lo, 1)} to {fmt(hi, 1)}). An association{tail}.")]


def _associations(ed, ind: IndicatorFacts, all_ids: tuple[str, ...]) -> list[Finding]:
    """Associations across LAs: placement, overall score and suspensions against their context."""
    pl, special = placement(ed), "place_state_special"
    period = _period_words(ed, [special])
    out = _association(
        "special_supply", pl.models.get(f"{special}_supply"), "Where councils have more state special schools, more "
        "children with EHC plans attend them: {x} points {d}.", ("more", "fewer"), _PLACED, period,
        "Per {step} more special {school} per 1,000 plans", ", not proof of cause", f"{P4}.html#fig-04_{special}_vs_supply")
    out += _association(
        "special_deprivation", pl.models.get(f"{special}_idaci"), "Councils with more child poverty place more "
        "children with EHC plans in special schools: {x} points {d}.", ("more", "fewer"), _PLACED,
        f"{period}; deprivation {iod_label(ed.method.deprivation_year)}",
        _IDACI + ", about one standard deviation across councils", "", f"{P4}.html#fig-04_placement_vs_deprivation")
    share = pl.numbers.get("place_state_special_between_region_share")
    if share is not None and np.isfinite(share):
        out.append(Finding(
            id="special_regions", headline=f"Regions explain {fmt(share * 100, 0)}% of the differences between "
            "councils in special-school placement.", number=round(share * 100), unit="% of the variation", dp=0,
            data_period=period, source_ids=tuple(ind.t.loc[special, "source_ids"]),
            caveat="The rest lies between councils of the same region, so a council's region says little about it.",
            link=f"{P4}.html#fig-04_{special}_by_region"))
    fit = ed.adjustment.fits.get("overall")
    if fit is not None and "idaci" in fit.covariates:
        c = fit.coefficients.set_index("term").loc["idaci"]
        step = nice_step(float(ed.adjustment.scores.loc[fit.expected.notna(), "idaci"].std()))
        dep = context_measure(ed, ed.method.deprivation_measure, year=ed.method.deprivation_year).source_ids
        out += _association(
            "overall_deprivation", (*(float(c[k]) * step for k in ("coef", "ci_lower", "ci_upper")), step),
            "Councils with more child poverty score {x} points {d} on the inclusion index.", ("higher", "lower"),
            "points of overall score", f"{year_label(ed.final_year)} index", _IDACI, ", not proof of cause",
            f"{P6}.html#T_adjusted_model", sorted({*all_ids, *dep}))
    if m := exclusions(ed).models.get("idaci"):
        out += _association(
            "exclusions_deprivation", m, "Councils with more child poverty suspend pupils with EHC plans {d}: {x} per "
            "100 pupils.", ("more", "less"), "per 100 pupils", _period_words(ed, [m.y.removesuffix("_value")]),
            _IDACI, "", f"{P2}.html#fig-02_exclusions_vs_deprivation")
    return out


def source_table(items: Sequence[Finding]) -> tuple[list[SourceRef], dict[str, int]]:
    """Every source the findings cite, numbered in order of first citation."""
    reg = load_registry()
    refs = {sid: n for n, sid in enumerate(dict.fromkeys(s for f in items for s in f.source_ids), start=1)}
    rows = []
    for sid, n in refs.items():
        try:
            s = reg[sid]
            # 'June 2025' from the registry's YYYY-MM[-DD], else its release words ('2026 snapshot')
            date = pd.Timestamp(s.published).strftime("%-d %B %Y" if len(s.published) > 7 else "%B %Y") \
                if s.published else s.release
            rows.append(SourceRef(n, sid, s.publisher, s.publication, date, s.url or ""))
        except KeyError:
            rows.append(SourceRef(n, sid, "", sid, "", ""))
    return rows, refs


def _words(ed, what: str) -> list[str]:
    """templates/describe.md's paragraphs ('describe' or 'dont'), filled from the edition's facts."""
    scored = la_table(ed).pipe(lambda t: t[t["scored"]]).sort_values("overall_rank")
    ranged = (width := _rank_width(scored)) is not None
    top, bottom = scored.iloc[0], scored.iloc[-1]
    text = render_template(
        "describe.md", what=what, year=year_label(ed.final_year), n_scored=len(scored), n=len(ed.method.indicators),
        n_england=la_coverage(ed)["n_england"], weights=weights_sentence(ed), period=_period_words(ed, ed.method.indicators),
        range=range_label(), small=ed.run.uncertainty.small_cohort, top=top["la_name"],
        top_score=fmt(top["overall_score"], 0), bottom=bottom["la_name"] if ranged else "",
        width=fmt(width, 0) if ranged else "", bottom_lo=ordinal(int(bottom["overall_rank_lo"])) if ranged else "",
        bottom_hi=ordinal(int(bottom["overall_rank_hi"])) if ranged else "")
    return [" ".join(p.split()) for p in str(text).split("\n") if p.strip()]


def describe_index(ed) -> str:
    """The pasteable 'How to describe this index' paragraph, from the edition's own facts."""
    return _words(ed, "describe")[0]


def dont_write(ed) -> list[str]:
    """The 'What not to write' list, with this edition's figures."""
    return _words(ed, "dont")


def build_findings(ed, items: list[Finding] | None = None) -> Findings:
    items = items if items is not None else findings(ed)
    sources, refs = source_table(items)
    return Findings(edition=ed.final_year, items=items, sources=sources, describe=describe_index(ed),
                    dont_write=dont_write(ed), refs=refs,
                    title=f"Findings: SEND inclusion index, {year_label(ed.final_year)} edition")


def number_text(x: float) -> str:
    """A finding's number as text: counts without decimals, other figures to sensible places."""
    x = float(x)
    return fmt(x, 0) if np.isfinite(x) and x == round(x) else fmt(x, max(1, dp_for(x)))


def findings_table(ed, items: list[Finding] | None = None) -> pd.DataFrame:
    """The findings as a display table for Part 6 (numbers as text, so a count shows no decimals)."""
    out = build_findings(ed, items).frame()
    return pd.DataFrame({"Finding": out["headline"], "Number": [number_text(x) for x in out["number"]],
                         "Data": out["data_period"], "Strength": out["strength"], "Sources": out["sources"]})


def findings_markdown(ed, items: list[Finding] | None = None) -> str:
    """findings.md (templates/findings.md): each finding as a headline and its caveat, sources cited by number."""
    return str(render_template("findings.md", f=build_findings(ed, items), method=ed.method.name,
                               years=years_label(ed.years), data_years=data_years_sentence(ed)))
