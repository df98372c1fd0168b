"""What one LA's profile says: scores, ranks, trend, strengths and weaknesses, in plain words."""

from __future__ import annotations

import html

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .editions import Edition
from .indicators import AREA_NAMES, AREAS
from .uncertainty import load_uncertainty_settings


def _year(y: str) -> str:
    return f"{y[:4]}/{y[4:]}"


def _row(ed: Edition, code: str) -> pd.Series:
    t = ed.score_table_cached().set_index("la_code")
    if code not in t.index:
        raise KeyError(f"LA {code!r} is not in edition {ed.final_year} "
                       f"(it has {len(t)} LAs; City of London and Isles of Scilly are not ranked)")
    return t.loc[code]


def _rank_cols(r: pd.Series, target: str) -> tuple:
    return r.get(f"{target}_rank"), r.get(f"{target}_rank_lo"), r.get(f"{target}_rank_hi")


def _rank_text(rank, lo=None, hi=None, n: int = 150) -> str:
    if pd.isna(rank):
        return "not ranked"
    s = f"{int(rank)} of {n}"
    if lo is not None and hi is not None and not (pd.isna(lo) or pd.isna(hi)):
        s += f" (plausible range {int(lo)}–{int(hi)})"
    return s


def headline(ed: Edition, code: str) -> str:
    """Markdown: the LA's name, region, overall score and rank, and what limits them."""
    r = _row(ed, code)
    n = int(ed.headline().scores["scored"].sum())
    name = html.escape(str(r["la_name"]))
    lines = [f"# {name}", "",
             f"**Region:** {html.escape(str(r['region']))}. **Edition:** {_year(ed.final_year)} "
             f"(index years {', '.join(_year(y) for y in ed.years)}; {html.escape(ed.method.name)})."]
    if not bool(r.get("scored", False)):
        lines += ["", f"{name} has no overall score in {_year(ed.final_year)}: {html.escape(str(r['flags']))}."]
        return "\n".join(lines)
    lines += ["",
              f"Overall inclusion score **{r['overall_score']:.1f}** out of 100 (England's LAs average 50), "
              f"rank **{_rank_text(r['overall_rank'], r.get('overall_rank_lo'), r.get('overall_rank_hi'), n)}**, "
              "where 1 is the most inclusive."]
    if "overall_change" in r and pd.notna(r["overall_change"]):
        direction = "up" if r["overall_change"] > 0 else "down"
        lo, hi = r.get("overall_change_lo"), r.get("overall_change_hi")
        verdict = ""
        if lo is not None and hi is not None and pd.notna(lo) and pd.notna(hi):
            beyond = "a rise beyond" if lo > 0 else ("a fall beyond" if hi < 0 else "within")
            verdict = (f"; {load_uncertainty_settings().interval:.0%} range of the change {lo:+.1f} to {hi:+.1f}, "
                       f"{beyond} uncertainty")
        lines.append(f"Since {_year(ed.years[0])} its score has gone {direction} by "
                     f"{abs(r['overall_change']):.1f} points (rank change {int(r['overall_rank_change']):+d}"
                     f"{verdict}).")
    return "\n".join(lines)


def area_table(ed: Edition, code: str) -> pd.DataFrame:
    r = _row(ed, code)
    rows = []
    for a in AREAS:
        rows.append({
            "Area": AREA_NAMES[a],
            "Score (0-100)": round(r[f"{a}_score"], 1) if pd.notna(r[f"{a}_score"]) else None,
            "Rank": r[f"{a}_rank"],
            f"Rank range ({load_uncertainty_settings().interval:.0%})": (f"{int(r[f'{a}_rank_lo'])}–{int(r[f'{a}_rank_hi'])}"
                                 if f"{a}_rank_lo" in r and pd.notna(r[f"{a}_rank_lo"]) else ""),
        })
    return pd.DataFrame(rows).set_index("Area")


def indicator_table(ed: Edition, code: str) -> pd.DataFrame:
    """Each indicator: the LA's value, England's, its score, and whether it lifts or drags."""
    r = _row(ed, code)
    eng = ed.england[ed.england["index_year"] == ed.final_year].set_index("indicator")["value"]
    v = ed.values[(ed.values["index_year"] == ed.final_year) & (ed.values["la_code"] == code)].set_index("indicator")
    overall = r["overall_score"]
    rows = []
    for ind in ed.indicators.itertuples():
        score = r.get(f"{ind.indicator}_score")
        effect = ""
        if pd.notna(score) and pd.notna(overall):
            effect = "lifts" if score > overall + 10 else "drags" if score < overall - 10 else "neutral"
        rows.append({
            "Indicator": ind.short_name,
            "Area": AREA_NAMES[ind.area],
            "Value": r.get(f"{ind.indicator}_value"),
            "England": eng.get(ind.indicator, np.nan),
            "Unit": ind.unit,
            "Better if": "lower" if ind.polarity < 0 else "higher",
            "Score (0-100)": score,
            "Effect on overall": effect,
            "Data year": _year(v.loc[ind.indicator, "data_year"]) if ind.indicator in v.index else "",
            "Note": v.loc[ind.indicator, "flag"] if ind.indicator in v.index else "",
        })
    return pd.DataFrame(rows).set_index("Indicator").round(2)


def strengths_and_weaknesses(ed: Edition, code: str, k: int = 3) -> str:
    t = indicator_table(ed, code).dropna(subset=["Score (0-100)"])
    if t.empty:
        return "No indicator has a value for this LA."
    top = t.sort_values("Score (0-100)", ascending=False).head(k)
    low = t.sort_values("Score (0-100)").head(k)
    fmt = lambda d: ", ".join(f"{html.escape(i)} ({s:.0f})" for i, s in d["Score (0-100)"].items())  # noqa: E731
    return (f"**Strengths** (highest indicator scores): {fmt(top)}.  \n"
            f"**Weaknesses** (lowest): {fmt(low)}.")


def trend_table(ed: Edition, code: str) -> pd.DataFrame:
    rows = []
    for y in ed.years:
        s = ed.scored[y].scores
        if code not in s.index:
            continue
        r = s.loc[code]
        rows.append({"Index year": _year(y), "Overall score": r["overall_score"], "Overall rank": r["overall_rank"],
                     **{f"{AREA_NAMES[a]} score": r[f"{a}_score"] for a in AREAS},
                     "Indicators": r["n_indicators"]})
    return pd.DataFrame(rows).set_index("Index year").round(1)


def plot_indicator_scores(ed: Edition, code: str):
    t = indicator_table(ed, code)
    t = t.iloc[::-1]
    fig, ax = plt.subplots(figsize=(7.5, 0.32 * len(t) + 1.2))
    colours = {"Exclusions": "#b91c1c", "Assessment": "#7c3aed", "Placement": "#0369a1", "Attainment": "#15803d"}
    y = np.arange(len(t))
    ax.barh(y, t["Score (0-100)"].fillna(0), color=[colours[a] for a in t["Area"]], alpha=0.85)
    for i, (s, lab) in enumerate(zip(t["Score (0-100)"], t.index, strict=True)):
        ax.text(1, i, "no data" if pd.isna(s) else "", va="center", fontsize=8, color="#555")
        del lab
    ax.axvline(50, color="#555", lw=1, ls="--")
    ax.text(50, len(t) - 0.4, " middle LA", fontsize=8, color="#555")
    ax.set_yticks(y, t.index, fontsize=9)
    ax.set_xlim(0, 100)
    ax.set_xlabel("Indicator score (percentile among LAs, 100 = most inclusive)")
    ax.set_title("Indicator scores, coloured by area", fontsize=11, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def plot_trend(ed: Edition, code: str):
    t = trend_table(ed, code)
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot(t.index, t["Overall score"], marker="o", color="#111", label="Overall")
    for a, c in zip(AREAS, ["#b91c1c", "#7c3aed", "#0369a1", "#15803d"], strict=True):
        ax.plot(t.index, t[f"{AREA_NAMES[a]} score"], marker=".", lw=1, color=c, alpha=0.8, label=AREA_NAMES[a])
    ax.set_ylim(0, 100)
    ax.set_ylabel("Score (0-100)")
    ax.set_xlabel("Index year")
    ax.legend(fontsize=7, ncol=3, frameon=False, loc="lower left")
    ax.set_title("Scores over the edition's years", fontsize=11, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def context_text(ed: Edition, code: str) -> str:
    """The adjusted score beside the raw one, with the caveat (never instead of it)."""
    r = _row(ed, code)
    adj = r.get("overall_adjusted_score")
    n = int(ed.headline().scores["scored"].sum())
    if adj is None or pd.isna(adj):
        why = r.get("adjustment_flag") or "context data missing"
        return f"No context-adjusted score: {html.escape(str(why))}."
    side = "above" if adj > 0 else "below"
    return (f"Allowing for child deprivation (IDACI) and the size of its EHC plan caseload, the overall score "
            f"is **{abs(adj):.1f} points {side}** what LAs in a similar position score on average "
            f"(adjusted rank {_rank_text(*_rank_cols(r, 'overall_adjusted'), n)}; raw rank "
            f"{_rank_text(*_rank_cols(r, 'overall'), n)}). Adjustment shows what context "
            "explains statistically; it can also hide real differences in provision, so read it beside the "
            "raw score, not instead of it.")


def neighbour_table(ed: Edition, code: str, neighbours) -> pd.DataFrame:
    """The LA and its ten DfE statistical neighbours, with scores and ranks."""
    from .neighbours import neighbour_comparison

    t = neighbour_comparison(ed, code, neighbours=neighbours)
    cols = {"la_name": "Local authority", "closeness": "Closeness", "overall_score": "Overall score",
            "overall_rank": "Overall rank", **{f"{a}_score": f"{AREA_NAMES[a]} score" for a in AREAS},
            "flag": "Note"}
    out = t[list(cols)].rename(columns=cols)
    out["Overall rank"] = out["Overall rank"].astype("object").where(out["Overall rank"].notna(), "")
    return out.set_index("Local authority").round(1)


def neighbour_text(ed: Edition, code: str, neighbours) -> str:
    from .neighbours import neighbour_comparison

    t = neighbour_comparison(ed, code, neighbours=neighbours)
    me = t[t["role"] == "la"].iloc[0]
    mean = t[t["role"] == "neighbour mean"].iloc[0]
    n = int(t["overall_score"].notna().sum()) - 1  # less the mean row
    if pd.isna(me["overall_score"]):
        return "This LA has no overall score to compare with its statistical neighbours."
    return (f"Among itself and its statistical neighbours (LAs DfE judges most similar), "
            f"{html.escape(str(me['la_name']))} places **{int(me['overall_group_position'])} of {n}** on the overall "
            f"score: {me['overall_score']:.1f} against the neighbours' mean of {mean['overall_score']:.1f}. "
            f"Neighbour model: `{html.escape(str(t.attrs.get('neighbour_source', '')))}`.")
