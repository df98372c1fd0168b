"""The profile's sentences (Markdown): headline, change, strengths and weaknesses, context,
trend, neighbours and how to read the page, with the rank wording they share."""

from __future__ import annotations

import html
from collections.abc import Sequence
from contextlib import suppress

import pandas as pd

from inclusion_index.index.edition import Edition
from inclusion_index.index.indicators import indicator_values, load_method
from inclusion_index.index.scoring import AREA_NAMES, AREAS
from inclusion_index.report.notes import change_notes, la_flags
from inclusion_index.report.profile.tables import (
    MISSING,
    NOT_RANKED,
    _comparison,
    _number,
    _row,
    caution,
    england_cell,
    indicator_table,
    reader_note,
    say,
    trend_table,
)
from inclusion_index.report.render import PARTS
from inclusion_index.report.series.adjusted import adjusted_for_words
from inclusion_index.report.series.edition_facts import data_years_sentence, plain_codes, short_names
from inclusion_index.report.series.text import fmt, ordinal, weights_words
from inclusion_index.sources.geography import boundary_edges, related_in, year_label
from inclusion_index.sources.registry import load_registry


def _n_ranked(ed: Edition) -> int:
    return int(ed.headline().scores["scored"].sum())


def _rank_cols(r: pd.Series, target: str) -> tuple:
    return r.get(f"{target}_rank"), r.get(f"{target}_rank_lo"), r.get(f"{target}_rank_hi")


def _rank_text(rank, lo=None, hi=None, n: int = 150, range_name: str = "90% range") -> str:
    if rank is None or pd.isna(rank):
        return NOT_RANKED
    s = f"{int(rank)} of {n}"
    if lo is not None and hi is not None and not (pd.isna(lo) or pd.isna(hi)):
        s += f" ({range_name} {int(lo)}–{int(hi)})"  # named as on the series pages
    return s


def headline(ed: Edition, code: str) -> str:
    """Markdown: the LA's name, region, overall score and rank, and its like-for-like change."""
    r = _row(ed, code)
    name = html.escape(str(r["la_name"]))
    lines = [f"# {name}", "",
             f"**Region:** {html.escape(str(r['region']))}. **Edition:** {year_label(ed.final_year)} "
             f"(index years {', '.join(year_label(y) for y in ed.years)}; {html.escape(ed.method.name)}). "
             + html.escape(data_years_sentence(ed), quote=False)]
    if not bool(r.get("scored", False)):
        why = html.escape(plain_codes(ed, reader_note(la_flags(ed, code, reader=True))) or "too few indicators with a value",
                          quote=False)
        lines += ["", f"{name} has no overall score in {year_label(ed.final_year)}: {why}."]
        return "\n".join(lines)
    scores = ed.headline().scores
    middle = scores.loc[scores["scored"].astype(bool), "overall_score"].median()
    range_name = f"{ed.monte_carlo_settings().interval:.0%} range"
    rank = _rank_text(*_rank_cols(r, "overall"), _n_ranked(ed), range_name)
    lines += ["",
              f"Overall inclusion score **{r['overall_score']:.1f}**, a relative score from 0 to 100 and not a "
              f"percentage: 50 is the middle LA on each indicator, and the middle LA's overall score is {middle:.1f}. "
              f"Rank **{rank}**, where 1 is the most inclusive."]
    lines += [x for text in (change_text(ed, code), weighting_text(ed, code)) if text for x in ("", text)]
    return "\n".join(lines)


def other_editions_text(ed: Edition, code: str) -> str:
    """Links to this LA's profile in the other rendered editions; across a boundary change, to
    its predecessors or successors there, named as such."""
    names, out = ed.ref.names(), []
    for other in (e for e in ed.run.editions.render if e != ed.final_year):
        there = set(ed.ref.geography_for_year(other)["la_code"])
        label = year_label(other)
        later = other > ed.final_year
        related = related_in(code, there, boundary_edges(ed.ref.changes, "successor" if later else "predecessor"))
        if code not in there and not related:
            continue
        out.append(f"[This LA in the {label} edition](../../{other}/la/{code}.html)." if code in there else
                   say("profile_boundary.html", own=names.get(code, code), later=later, other=other, label=label,
                       related=[(c, names.get(c, c)) for c in related]))
        out.append(say("profile_editions.html", changes=_changed_measures(ed, other), other=label,
                        interval=f"{ed.monte_carlo_settings().interval:.0%}"))
    return "\n\n".join(x for x in out if x)


_MEASURES: dict[tuple[str, str], tuple[object, list[dict[str, str]]]] = {}


def _changed_measures(ed: Edition, other: str) -> list[dict[str, str]]:
    """Indicators whose measure has another name in edition ``other``'s final year, chosen from this
    edition's inputs as its build does; once per edition pair."""
    kept = _MEASURES.get((ed.final_year, other))
    if kept is not None and kept[0] is ed:  # checked by identity: an Edition is unhashable
        return kept[1]
    method = load_method(ed.run.editions.spec(other).method, ed.run)
    there, _ = indicator_values(ed.long, method, other, ed.ref.geography_for_year(other), ed.ref)
    here = ed.values[ed.values["index_year"] == ed.final_year]
    labels, own = ed.run.measure_labels, ed.indicators.set_index("indicator")["name"]
    name = {i: {m: labels[m].name if m in labels else own[i] for m in g["measure"].unique()}
            for i, g in pd.concat([here, there]).groupby("indicator")}
    first = [v.groupby("indicator")["measure"].first() for v in (there, here)]
    changes = [{"short": str(short_names(ed).get(i, i)), "there": name[i][first[0][i]], "here": name[i][first[1][i]]}
               for i in ed.indicators["indicator"] if i in first[0] and i in first[1]
               and name[i][first[0][i]] != name[i][first[1][i]]]
    _MEASURES[(ed.final_year, other)] = (ed, changes)
    return changes


def weighting_text(ed: Edition, code: str) -> str:
    """Its best and worst overall rank under any weighting of the four areas, and the weights
    that make it first where some do; empty where it has no such ranks."""
    w = ed.weightings
    if w is None or code not in w.ranks.index:
        return ""
    r = w.ranks.loc[code]
    best, worst = int(r["overall_rank_best_weights"]), int(r["overall_rank_worst_weights"])
    return say("profile_weighting.html", step=f"{1 / w.steps:.0%}", la=_row(ed, code)["la_name"], best=ordinal(best),
               worst=ordinal(worst), first=weights_words({a: r[f"best_{a}"] for a in AREAS}, w.headline)
               if best == 1 and worst > 1 else "")


def change_text(ed: Edition, code: str) -> str:
    """The like-for-like change since the first index year (the score table's ``overall_change``,
    scoring.most_improved), which can differ from the trend table; empty for a one-year edition."""
    i, ranked = _change_of(ed, code)
    if i is None:
        return ""
    r = _row(ed, code)
    first, last = year_label(ed.years[0]), year_label(ed.final_year)
    common = [str(x) for x in ed.improvement.attrs.get("indicators_compared") or []]
    n_common = len(common) or int(r.get("change_indicators_compared", i["indicators_compared"]))
    start = r.get("overall_change_score_from", i["score_early"])
    end = r.get("overall_change_score_to", i["score_late"])
    # an LA missing some shared indicators in one year has its score rest on fewer then
    own = [(year_label(y), (m := _lacking(ed, code, common, y)), len(common) - len(m))
           for y in (ed.years[0], ed.final_year)]
    lo, hi = r.get("overall_change_lo"), r.get("overall_change_hi")
    ok = lo is not None and hi is not None and pd.notna(lo) and pd.notna(hi)
    avail = dict.fromkeys([*ed.scored[ed.years[0]].available, *ed.headline().available])
    trend, rank = trend_table(ed, code)["Overall score"], r.get("overall_rank")
    return say("profile_change.html", first=first, last=last, n_common=n_common, change=float(i["change"]),
               start=float(start), end=float(end), places=int(i["rank_change"]) if ranked else None,
               early_rank=ordinal(int(i["rank_early"])) if ranked else "", late_rank=ordinal(int(i["rank_late"]))
               if ranked else "", same=_same_indicators(ed), own=own if any(m for _, m, _ in own) else [], interval=f"{ed.monte_carlo_settings().interval:.0%}",
               left_out=[str(short_names(ed).get(x, x)) for x in avail if x not in common], lo=_signed(lo) if ok else None,
               hi=_signed(hi) if ok else None, lo_value=lo, hi_value=hi, note=reader_note(change_notes(ed).get(code)),
               headline=f"{r['overall_score']:.1f}" + (f", {ordinal(int(rank))}" if pd.notna(rank) else ""),
               trend_first=_number(trend.get(first), 1), trend_last=_number(trend.get(last), 1))


def _change_of(ed: Edition, code: str) -> tuple[pd.Series | None, bool]:
    """The LA's like-for-like change (None: there is none to tell) and whether both its ranks exist:
    the facts change_text words and trend_text refers to."""
    imp = ed.improvement
    if imp.empty or code not in imp.index or pd.isna(imp.at[code, "change"]):
        return None, False
    i = imp.loc[code]
    return i, bool(pd.notna(i["rank_early"]) and pd.notna(i["rank_late"]))


def _signed(x: float) -> str:
    """'+1.2' / '-0.4'; a bound that rounds to zero keeps its side ('-0.03', not '-0.0')."""
    if x == 0:
        return "0.0"
    for dp in (1, 2):
        s = f"{x:+.{dp}f}"
        if s.strip("+-0.") != "":
            return s
    return "just below 0" if x < 0 else "just above 0"


def _same_indicators(ed: Edition) -> bool:
    """Whether the like-for-like comparison uses every indicator of both its years."""
    common = set(ed.improvement.attrs.get("indicators_compared") or [])
    return bool(common) and common == set(ed.scored[ed.years[0]].available) == set(ed.headline().available)


def _lacking(ed: Edition, code: str, indicators: Sequence[str], year: str) -> list[str]:
    """Short names of ``indicators`` this LA has no value for in ``year``, in method order."""
    v = ed.values
    have = set(v.loc[(v["la_code"] == code) & (v["index_year"] == year) & v["value"].notna(), "indicator"])
    short = short_names(ed)
    return [str(short.get(i, i)) for i in indicators if i not in have]


def _average_is_overall(ed: Edition, r: pd.Series, t: pd.DataFrame) -> tuple[bool, float]:
    """Whether the overall score is the (weighted) mean of the indicator scores shown."""
    if ed.method.headline != "latest" or ed.settings.overall_from != "indicators" or pd.isna(r["overall_score"]):
        return False, float("nan")
    w = ed.indicators.set_index(ed.indicators["indicator"].map(short_names(ed)))["weight"]
    w = w.reindex(t.index).astype("float64")
    s = t["Score (0-100)"].astype("float64")
    ok = s.notna()
    mean = float((s[ok] * w[ok]).sum() / w[ok].sum())
    return abs(mean - float(r["overall_score"])) < 0.05, mean


def strengths_and_weaknesses(ed: Edition, code: str, k: int = 3, table: pd.DataFrame | None = None) -> str:
    """The highest and lowest indicator scores; where the overall score is their average, which
    of them pull it up (above the LA's own average) and which pull it down."""
    r = _row(ed, code)
    t = (indicator_table(ed, code) if table is None else table).dropna(subset=["Score (0-100)"])
    if t.empty:
        return "No indicator has a value for this LA."

    small = ed.run.uncertainty.small_cohort

    def fmt(d: pd.DataFrame) -> str:
        # an indicator that could be chance is never named without saying so
        # the score with its data year: an edition's indicators rest on different years' data
        return ", ".join(f"{html.escape(str(i))} ({row['Score (0-100)']:.0f}"
                         + (f", {row['Data year']} data" if row.get("Data year") else "")
                         + (f"; caution: {c}" if (c := caution(row, small)) else "") + ")"
                         for i, row in d.iterrows())

    is_mean, mean = _average_is_overall(ed, r, t)
    s = t["Score (0-100)"]
    up, down = (t[s > mean], t[s < mean]) if is_mean else (t, t)
    up, down = up.sort_values("Score (0-100)", ascending=False).head(k), down.sort_values("Score (0-100)").head(k)
    weighted = "weighted " if ed.indicators["weight"].nunique() > 1 else ""
    head = [(f"The overall score ({mean:.1f}) is the {weighted}average of this LA's {len(t)} indicator scores, so an "
             "indicator scoring above it pulls the overall score up and one below it pulls it down.")] if is_mean else []
    names = ("**Pulling up most** (highest scores)", "**Pulling down most** (lowest scores)") if is_mean else (
        "**Strengths** (highest indicator scores)", "**Weaknesses** (lowest)")
    text = "  \n".join(head + [f"{n}: {fmt(d)}." for n, d in zip(names, (up, down), strict=True) if len(d)])
    if any(caution(r, small) for _, r in pd.concat([up, down]).iterrows()):
        text += "  \n" + say("profile_caution.html", small=small)
    return text + direction_text(ed, code, t)


def direction_text(ed: Edition, code: str, t: pd.DataFrame) -> str:
    """Why the assessment indicator is 'better if lower', and that this is contested (Part 3
    argues it at length), for the indicators of ``t`` (indicator_table); the table shows only the direction."""
    dps, out, lower = ed.value_decimals, [], (ed.indicators["area"] == "assessment") & (ed.indicators["polarity"] < 0)
    for i in (i for i in ed.indicators.loc[lower].itertuples() if (name := short_names(ed)[i.indicator]) in t.index):
        row, unit = t.loc[name], "%" if i.unit == "%" else f" {i.unit}"
        out.append(say("profile_direction.html", indicator=name, area=AREA_NAMES[i.area], la=_row(ed, code)["la_name"],
                        value=_number(row["Value"], dps.get(i.indicator, 1)) + unit,
                        england=england_cell(i.indicator, row["England"], row["England basis"], dps) + unit,
                        score=_number(row["Score (0-100)"], 0),
                        part=f"../{next(f for f, _ in PARTS if f.endswith(i.area))}.html"))
    return "".join(f"\n\n{x}" for x in out)


def trend_text(ed: Edition, code: str) -> str:
    if trend_table(ed, code).empty:
        return "No index year has a score for this LA."
    i, places = _change_of(ed, code)  # what the change at the top of the page says
    return say("profile_trend.html", year=year_label(ed.final_year), places=places,
               n_common=len(ed.improvement.attrs.get("indicators_compared") or [])
               if i is not None and not _same_indicators(ed) else 0)


def context_text(ed: Edition, code: str) -> str:
    """The adjusted score beside the raw one, with the caveat (never instead of it)."""
    r = _row(ed, code)
    adj = r.get("overall_adjusted_score")
    n = _n_ranked(ed)
    if adj is None or pd.isna(adj):
        why = reader_note(r.get("adjustment_flag")) or "context data missing"
        return f"No context-adjusted score: {html.escape(why)}."
    # the built edition's own fit: its covariates (data/registry/adjustment.yml) and its R², which
    # readers need to weigh the adjusted figure (2% of the differences in 2024/25)
    fit = ed.adjustment.fits["overall"]
    raw_gap = float(r["overall_score"]) - float(fit.expected.mean())  # OLS: mean fitted = mean score
    return say("profile_context.html", allowing=adjusted_for_words(ed, "overall"), gap=f"{abs(adj):.1f}",
                side="above" if adj > 0 else "below", adjusted_rank=_rank_text(*_rank_cols(r, "overall_adjusted"), n),
                raw_rank=_rank_text(*_rank_cols(r, "overall"), n), r2=fmt(fit.r2 * 100, 0) if fit.r2 >= 0.005 else "less than 1", n=fit.n,
                raw_gap=_signed(raw_gap), adjusted=_signed(float(adj)))


def neighbour_text(ed: Edition, code: str) -> str:
    t = _comparison(ed, code)
    me, mean = t[t["role"] == "la"].iloc[0], t[t["role"] == "neighbour mean"].iloc[0]
    release = ""
    with suppress(KeyError):
        release = f", {load_registry()[str(t.attrs.get('neighbour_source', ''))].release} release"
    return say("profile_neighbours.html", la=me["la_name"], place=me["overall_group_position"], n=int(
        t["overall_score"].notna().sum()) - 1, score=None if pd.isna(me["overall_score"]) else me["overall_score"],
        mean=mean["overall_score"], model=f"DfE's children's services statistical neighbour model{release}")  # n: less the mean row


def notes_text(ed: Edition, code: str) -> str:
    """How to read the page: relative scores, and what the method fills in (templates/profile_notes.html)."""
    rule = ed.method.impute_small_counts
    v = ed.values[ed.values["index_year"] == ed.final_year]
    flagged = v["imputed_count"].notna()
    mine = [str(short_names(ed).get(i, i)) for i in v.loc[flagged & (v["la_code"] == code), "indicator"]]
    return say("profile_notes.html", missing=MISSING, carry=ed.method.carry_forward_years, mine=mine,
                rule={"label": rule.get("label", "suppressed"), "midpoint": float(rule.get("midpoint", 1.5))}
                if rule.get("enabled") else None, any_imputed=bool(flagged.any()), year=year_label(ed.final_year))
