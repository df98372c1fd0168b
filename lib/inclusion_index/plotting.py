"""Charts for the series: matplotlib/seaborn Figures readable at page width for ~150 LAs.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot's global
state (so nothing is shown or leaked by accident) and takes a tidy frame with one row per LA.
:func:`save_figure` writes PNG, SVG and the chart's data as CSV for article writers; the object
it returns displays as the PNG in a notebook.

One palette throughout: LAs in grey, the highlighted LA in red, England in black (dashed),
the highlighted LA's region in blue (dotted), fitted lines in blue with a light band.
"""

from __future__ import annotations

import os
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .csv_export import write_csv
from .geography import region_order

WIDTH = 8.0  # inches; 1200 px at 150 dpi
DPI = 150
COLORS = {
    "la": "#8c96a3",
    "la_light": "#c9ced6",
    "highlight": "#c8102e",
    "england": "#1a1a1a",
    "region": "#1f5fa8",
    "fit": "#1f5fa8",
    "up": "#1b7f5a",
    "down": "#b35806",
    "box": "#e8ebf0",
}
FONT = {"title": 12, "label": 10, "tick": 8.5, "note": 8}

__all__ = ["COLORS", "SavedFigure", "dot_chart", "funnel_plot", "rank_interval_chart", "region_chart", "save_figure",
           "scatter_fit", "slope_chart", "small_multiples"]


def _figure(height: float, width: float = WIDTH, **kw) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained", **kw)
    return fig


def _style(ax, title: str | None, xlabel: str | None, ylabel: str | None) -> None:
    if title:
        ax.set_title(title, fontsize=FONT["title"], loc="left")
    if xlabel is not None:
        ax.set_xlabel(xlabel, fontsize=FONT["label"])
    if ylabel is not None:
        ax.set_ylabel(ylabel, fontsize=FONT["label"])
    ax.tick_params(labelsize=FONT["tick"])
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="y", color="#eeeeee", linewidth=0.8)
    ax.set_axisbelow(True)


def _note(fig: Figure, text: str | None) -> None:
    if text:
        fig.get_layout_engine().set(rect=(0, 0.04, 1, 0.96))
        fig.text(0.01, 0.005, text, fontsize=FONT["note"], color="#555555", ha="left", va="bottom", wrap=True)


def _fmt(v: float, dp: int | None = None) -> str:
    if v is None or not np.isfinite(v):
        return "n/a"
    if dp is None:
        dp = 2 if abs(v) < 1 else 1
    return f"{v:,.{dp}f}"


def _empty(fig: Figure, ax, message: str) -> Figure:
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=FONT["label"], wrap=True, transform=ax.transAxes)
    return fig


def _spread_positions(y: Sequence[float], min_gap: float) -> np.ndarray:
    """Nudge label positions apart so that no two are closer than ``min_gap`` (order kept)."""
    y = np.asarray(y, dtype="float64")
    order = np.argsort(y)
    pos = y[order].copy()
    for k in range(1, len(pos)):
        pos[k] = max(pos[k], pos[k - 1] + min_gap)
    # centre the shift so labels do not all drift upwards
    shift = (pos - y[order]).mean()
    pos -= shift / 2
    out = np.empty_like(pos)
    out[order] = pos
    return out


# --------------------------------------------------------------------------- charts


def dot_chart(
    data: pd.DataFrame,
    value: str,
    *,
    title: str,
    value_label: str,
    label: str = "la_name",
    region: str = "region",
    england: float | None = None,
    highlight: str | None = None,
    code: str = "la_code",
    n_label: int = 3,
    higher_is_better: bool | None = None,
    interval: tuple[str, str] | None = None,
    range_label: str = "90% range",
    note: str | None = None,
) -> Figure:
    """LAs sorted by ``value`` (rank on x, value on y) with England and regional reference lines.

    The highest and lowest ``n_label`` LAs are named; a highlighted LA (by ``code``) is marked in
    red and named, with a dotted line at its region's average (unweighted mean of its LAs).
    ``interval`` names the columns of the highlighted LA's rank range (e.g. the Monte Carlo
    ``overall_rank_lo``, ``overall_rank_hi``), added to its label so its place is never bare.
    """
    fig = _figure(4.2)
    ax = fig.add_subplot()
    extra = [c for c in (interval or ()) if c in data.columns]
    d = data[[code, label, region, value, *extra]].dropna(subset=[value]).sort_values(value, ascending=False)
    d = d.reset_index(drop=True)
    if d.empty:
        return _empty(fig, ax, f"No LA has a value for {value_label}.")
    d["pos"] = np.arange(1, len(d) + 1)
    ax.scatter(d["pos"], d[value], s=14, color=COLORS["la"], zorder=2, linewidths=0)
    yr = float(d[value].max() - d[value].min()) or 1.0
    if england is not None and np.isfinite(england):
        ax.axhline(england, color=COLORS["england"], linestyle="--", linewidth=1, zorder=1)
        ax.annotate(f"England {_fmt(england)}", (len(d), england), xytext=(0, 3), textcoords="offset points",
                    ha="right", va="bottom", fontsize=FONT["note"], color=COLORS["england"])
    hl = d[d[code] == highlight] if highlight else d.iloc[0:0]
    if len(hl):
        r = hl.iloc[0]
        reg_mean = float(d.loc[d[region] == r[region], value].mean())
        ax.axhline(reg_mean, color=COLORS["region"], linestyle=":", linewidth=1.2, zorder=1)
        ax.annotate(f"{r[region]} average {_fmt(reg_mean)}", (1, reg_mean), xytext=(0, 3),
                    textcoords="offset points", ha="left", va="bottom", fontsize=FONT["note"],
                    color=COLORS["region"])
        ax.scatter([r["pos"]], [r[value]], s=60, color=COLORS["highlight"], zorder=4, edgecolor="white")
        # the areas above the (falling) line on the right and below it on the left are empty:
        # a top-half LA is named in the upper right, a bottom-half LA in the lower left
        top_half = r["pos"] <= len(d) / 2
        place = f"{int(r['pos'])} of {len(d)}"
        if len(extra) == 2 and pd.notna(r[extra[0]]) and pd.notna(r[extra[1]]):
            place += f", {range_label} {int(r[extra[0]])}–{int(r[extra[1]])}"
        ax.annotate(f"{r[label]} ({_fmt(r[value])}, {place})", (r["pos"], r[value]),
                    xytext=(0.98, 0.97) if top_half else (0.02, 0.04), textcoords="axes fraction",
                    ha="right" if top_half else "left", va="top" if top_half else "bottom",
                    fontsize=FONT["label"], color=COLORS["highlight"], fontweight="bold",
                    arrowprops={"arrowstyle": "-", "color": COLORS["highlight"], "lw": 0.8})
    # name the extremes in the empty corners: top LAs to the upper right, bottom LAs to the lower left
    n = min(n_label, len(d) // 2)
    for k in range(n):
        top = d.iloc[k]
        bot = d.iloc[len(d) - 1 - k]
        if highlight and highlight in (top[code], bot[code]):
            continue  # already named in red
        ax.annotate(f"{top[label]} {_fmt(top[value])}", (top["pos"], top[value]),
                    xytext=(0.22 * len(d), d[value].max() - (k + 0.2) * 0.075 * yr), textcoords="data",
                    fontsize=FONT["note"], ha="left", va="center",
                    arrowprops={"arrowstyle": "-", "color": COLORS["la_light"], "lw": 0.6})
        ax.annotate(f"{bot[label]} {_fmt(bot[value])}", (bot["pos"], bot[value]),
                    xytext=(0.78 * len(d), d[value].min() + (k + 0.2) * 0.075 * yr), textcoords="data",
                    fontsize=FONT["note"], ha="right", va="center",
                    arrowprops={"arrowstyle": "-", "color": COLORS["la_light"], "lw": 0.6})
    ax.set_xlim(-2, len(d) + 3)
    ax.set_ylim(d[value].min() - 0.08 * yr, d[value].max() + 0.08 * yr)
    xl = f"LAs ranked from highest to lowest ({len(d)} LAs)"
    if higher_is_better is not None:
        xl += "; " + ("higher is more inclusive" if higher_is_better else "lower is more inclusive")
    _style(ax, title, xl, value_label)
    ax.set_xticks([1, *range(25, len(d) + 1, 25)])
    _note(fig, note)
    return fig


def region_chart(
    data: pd.DataFrame,
    value: str,
    *,
    title: str,
    value_label: str,
    region: str = "region",
    label: str = "la_name",
    code: str = "la_code",
    england: float | None = None,
    highlight: str | None = None,
    order: Sequence[str] | None = None,
    note: str | None = None,
) -> Figure:
    """One row per region: a light box (quartiles) with every LA as a dot; England as a dashed line."""
    d = data[[code, label, region, value]].dropna(subset=[value])
    regions = list(order) if order else [r for r in region_order() if r in set(d[region])]
    regions += [r for r in sorted(set(d[region])) if r not in regions]
    fig = _figure(0.42 * max(len(regions), 3) + 1.3)
    ax = fig.add_subplot()
    if d.empty:
        return _empty(fig, ax, f"No LA has a value for {value_label}.")
    groups = [d.loc[d[region] == r, value].to_numpy(dtype="float64") for r in regions]
    ax.boxplot(groups, positions=np.arange(len(regions)), orientation="horizontal", widths=0.6,
               showfliers=False, patch_artist=True, whis=(0, 100),
               boxprops={"facecolor": COLORS["box"], "edgecolor": "#9aa3ad", "linewidth": 0.8},
               medianprops={"color": "#555555"}, whiskerprops={"color": "#9aa3ad"}, capprops={"color": "#9aa3ad"})
    rng = np.random.default_rng(1)  # fixed jitter: the same data give the same picture
    for k, g in enumerate(groups):
        ax.scatter(g, k + rng.uniform(-0.18, 0.18, len(g)), s=12, color=COLORS["la"], alpha=0.9, linewidths=0,
                   zorder=3)
    means = d.groupby(region)[value].mean().reindex(regions)
    ax.scatter(means.to_numpy(), np.arange(len(regions)), marker="|", s=160, color=COLORS["region"], zorder=4,
               label="Regional average (mean of LAs)")
    if england is not None and np.isfinite(england):
        ax.axvline(england, color=COLORS["england"], linestyle="--", linewidth=1, label=f"England {_fmt(england)}")
    if highlight:
        hl = d[d[code] == highlight]
        if len(hl):
            r = hl.iloc[0]
            ypos = regions.index(r[region])
            ax.scatter([r[value]], [ypos], s=60, color=COLORS["highlight"], zorder=5, edgecolor="white")
            ax.annotate(f"{r[label]} {_fmt(r[value])}", (r[value], ypos), xytext=(6, -12),
                        textcoords="offset points", fontsize=FONT["note"], color=COLORS["highlight"],
                        fontweight="bold")
    counts = d.groupby(region).size().reindex(regions).fillna(0).astype(int)
    ax.set_yticks(range(len(regions)), [f"{r} ({counts[r]})" for r in regions])
    ax.set_ylim(len(regions) - 0.5, -0.5)  # first region at the top
    _style(ax, title, value_label, "")
    ax.grid(axis="x", color="#eeeeee", linewidth=0.8)
    ax.grid(axis="y", visible=False)
    fig.legend(fontsize=FONT["note"], frameon=False, loc="outside upper right", ncols=2)
    _note(fig, note or "Region labels show the number of LAs with a value. Boxes span the middle half of each "
          "region's LAs; whiskers the full range.")
    return fig


def _fit_band(x: pd.Series, y: pd.Series, model=None) -> tuple[pd.DataFrame, object]:
    """Fitted line and 95% CI band (for the mean) over the range of x, from statsmodels OLS."""
    import statsmodels.api as sm

    if model is None:
        exog = sm.add_constant(x.to_numpy(dtype="float64"), has_constant="add")
        model = sm.OLS(y.to_numpy(dtype="float64"), exog).fit()
    grid = np.linspace(float(x.min()), float(x.max()), 60)
    pr = model.get_prediction(sm.add_constant(grid, has_constant="add")).summary_frame(alpha=0.05)
    return pd.DataFrame({"x": grid, "fit": pr["mean"].to_numpy(), "lo": pr["mean_ci_lower"].to_numpy(),
                         "hi": pr["mean_ci_upper"].to_numpy()}), model


def _scatter_panel(ax, d: pd.DataFrame, x: str, y: str, *, label: str, code: str, highlight: str | None,
                   fit: bool = True, annotate: str = "full", n_label: int = 0, point_size: float = 16) -> dict:
    d = d.dropna(subset=[x, y])
    out: dict = {"n": len(d)}
    ax.scatter(d[x], d[y], s=point_size, color=COLORS["la"], alpha=0.85, linewidths=0, zorder=2)
    if fit and len(d) >= 10 and d[x].std() > 0:
        band, model = _fit_band(d[x], d[y])
        ax.fill_between(band["x"], band["lo"], band["hi"], color=COLORS["fit"], alpha=0.15, linewidth=0, zorder=1)
        ax.plot(band["x"], band["fit"], color=COLORS["fit"], linewidth=1.6, zorder=3)
        ci = model.conf_int(alpha=0.05)[1]
        out.update(slope=float(model.params[1]), lo=float(ci[0]), hi=float(ci[1]), r2=float(model.rsquared))
        if annotate == "short":
            ax.text(0.02, 0.98, f"R² {out['r2']:.2f}, n = {len(d)}", transform=ax.transAxes, va="top", ha="left",
                    fontsize=FONT["note"] - 0.5, bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8,
                                                      "pad": 1.0})
        elif annotate:
            ax.text(0.02, 0.98, f"slope {_fmt(out['slope'], 3 if abs(out['slope']) < 0.1 else 2)} "
                    f"(95% CI {_fmt(out['lo'], 3 if abs(out['lo']) < 0.1 else 2)} to "
                    f"{_fmt(out['hi'], 3 if abs(out['hi']) < 0.1 else 2)})\nR² {out['r2']:.2f}, n = {len(d)}",
                    transform=ax.transAxes, va="top", ha="left", fontsize=FONT["note"],
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1.5})
    if n_label:
        # name the LAs furthest from the line (or from the centre) so outliers can be found
        resid = d[y] - (np.poly1d(np.polyfit(d[x], d[y], 1))(d[x]) if len(d) > 2 else d[y].mean())
        for _, r in d.loc[resid.abs().sort_values(ascending=False).index[:n_label]].iterrows():
            if highlight and r[code] == highlight:
                continue
            ax.annotate(str(r[label]), (r[x], r[y]), xytext=(4, 3), textcoords="offset points",
                        fontsize=FONT["note"] - 0.5, color="#444444")
    if highlight:
        hl = d[d[code] == highlight]
        if len(hl):
            r = hl.iloc[0]
            ax.scatter([r[x]], [r[y]], s=60, color=COLORS["highlight"], zorder=5, edgecolor="white")
            ax.annotate(str(r[label]), (r[x], r[y]), xytext=(6, 6), textcoords="offset points",
                        fontsize=FONT["label"] - 1, color=COLORS["highlight"], fontweight="bold")
    return out


def scatter_fit(
    data: pd.DataFrame,
    x: str,
    y: str,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    label: str = "la_name",
    code: str = "la_code",
    highlight: str | None = None,
    n_label: int = 4,
    note: str | None = None,
) -> Figure:
    """One dot per LA with the OLS line and its 95% confidence band; slope, R² and n in a corner."""
    fig = _figure(4.8)
    ax = fig.add_subplot()
    d = data.dropna(subset=[x, y])
    if len(d) < 3:
        return _empty(fig, ax, f"Too few LAs have both {xlabel} and {ylabel}.")
    _scatter_panel(ax, d, x, y, label=label, code=code, highlight=highlight, n_label=n_label)
    _style(ax, title, xlabel, ylabel)
    _note(fig, note or "Line: ordinary least squares fit with 95% confidence band. An association across LAs, "
          "not a cause.")
    return fig


def slope_chart(
    improvement: pd.DataFrame,
    *,
    early_label: str,
    late_label: str,
    title: str,
    label: str = "la_name",
    code: str = "la_code",
    early: str = "score_early",
    late: str = "score_late",
    top: int = 10,
    significant: str | None = None,
    highlight: str | None = None,
    value_label: str = "Overall score (0-100)",
    note: str | None = None,
) -> Figure:
    """Early → late score for every LA (faint) with the ``top`` most improved drawn and named.

    With ``significant`` (a boolean column), only the LAs whose rise exceeds its uncertainty
    are drawn in green (the ``top`` largest of them named), whatever their place by change.
    """
    fig = _figure(5.6)
    ax = fig.add_subplot()
    d = improvement.dropna(subset=[early, late]).copy()
    if d.empty:
        return _empty(fig, ax, "No LA has a score in both years.")
    d["change"] = d[late] - d[early]
    d = d.sort_values("change", ascending=False).reset_index(drop=True)
    if significant is not None:
        marked = d[significant].fillna(False).astype(bool).to_numpy()
    else:
        marked = np.arange(len(d)) < top
    for _, r in d[~marked].iterrows():
        ax.plot([0, 1], [r[early], r[late]], color=COLORS["la_light"], linewidth=0.6, alpha=0.7, zorder=1)
    for _, r in d[marked].iterrows():
        ax.plot([0, 1], [r[early], r[late]], color=COLORS["up"], linewidth=1.6, zorder=3, marker="o", markersize=3.5)
    best = d[marked].iloc[:top]
    pos = _spread_positions(best[late].to_numpy(), 0.035 * (d[[early, late]].max().max() - d[[early, late]].min().min()))
    for (_, r), yp in zip(best.iterrows(), pos, strict=True):
        ax.annotate(f"{r[label]} (+{r['change']:.1f})", (1, r[late]), xytext=(1.04, yp), textcoords="data",
                    va="center", fontsize=FONT["note"], color=COLORS["up"],
                    arrowprops={"arrowstyle": "-", "color": COLORS["la_light"], "lw": 0.5})
    if highlight:
        hl = d[d[code] == highlight]
        if len(hl):
            r = hl.iloc[0]
            ax.plot([0, 1], [r[early], r[late]], color=COLORS["highlight"], linewidth=2.2, zorder=4, marker="o",
                    markersize=4.5)
            ax.annotate(f"{r[label]} ({r['change']:+.1f})", (0, r[early]), xytext=(-0.04, r[early]),
                        textcoords="data", ha="right", va="center", fontsize=FONT["note"] + 0.5,
                        color=COLORS["highlight"], fontweight="bold")
    ax.set_xlim(-0.75 if highlight else -0.3, 1.6)
    ax.set_xticks([0, 1], [early_label, late_label], fontsize=FONT["label"])
    _style(ax, title, None, value_label)
    ax.spines["bottom"].set_visible(False)
    ax.tick_params(axis="x", length=0)
    if significant is not None:
        k = int(marked.sum())
        default = (f"Green: the {k} LAs whose rise exceeds its uncertainty (90% range of the change above 0)"
                   + (f", the {top} largest named" if k > top else "") + "; grey: all other LAs." if k else
                   "No LA's rise exceeds its uncertainty; grey: every LA.")
    else:
        default = f"Green: the {top} most improved LAs; grey: all other LAs."
    _note(fig, note or default)
    return fig


def rank_interval_chart(
    data: pd.DataFrame,
    *,
    rank: str,
    lo: str,
    hi: str,
    title: str,
    median: str | None = None,
    label: str = "la_name",
    code: str = "la_code",
    highlight: str | None = None,
    top: int = 10,
    rank_label: str = "Rank (1 = most inclusive)",
    range_label: str = "90% range",
    note: str | None = None,
) -> Figure:
    """Every ranked LA, best first, with its rank as a dot and its uncertainty interval as a
    horizontal bar; a dotted line marks the top ``top`` places. Every LA is named so readers
    can find their own; a highlighted LA is drawn in red."""
    cols = [c for c in (code, label, rank, lo, hi, median) if c]
    d = data[cols].dropna(subset=[rank]).sort_values([rank, label]).reset_index(drop=True)
    fig = _figure(0.085 * max(len(d), 20) + 1.4)
    ax = fig.add_subplot()
    if d.empty:
        return _empty(fig, ax, "No LA is ranked.")
    y = np.arange(len(d))

    def num(c: str) -> np.ndarray:  # Int64 with <NA>, or an all-NA object column
        return pd.to_numeric(d[c], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)

    lo_v, hi_v, rank_v = num(lo), num(hi), num(rank)
    has = np.isfinite(lo_v) & np.isfinite(hi_v)
    ax.hlines(y[has], lo_v[has], hi_v[has], color=COLORS["la"], linewidth=1.6, zorder=2)
    ax.scatter(rank_v, y, s=9, color=COLORS["england"], zorder=3, linewidths=0, label="Rank")
    if median and np.isfinite(num(median)).any():
        ax.scatter(num(median), y, s=16, marker="|", color=COLORS["fit"], zorder=3, label="Median over the draws")
    ax.axvline(top + 0.5, color=COLORS["region"], linestyle=":", linewidth=1, zorder=1)
    ax.annotate(f"top {top}", (top + 0.5, 0), xytext=(3, 0), textcoords="offset points", fontsize=FONT["note"],
                color=COLORS["region"], va="top")
    tick_colors = [COLORS["highlight"] if highlight and c == highlight else "#333333" for c in d[code]]
    ax.set_yticks(y, [str(v) for v in d[label]], fontsize=5.5)
    for t, c in zip(ax.get_yticklabels(), tick_colors, strict=True):
        t.set_color(c)
    if highlight:
        hl = d.index[d[code] == highlight]
        if len(hl):
            k = int(hl[0])
            if has[k]:
                ax.hlines([k], [lo_v[k]], [hi_v[k]], color=COLORS["highlight"], linewidth=2.6, zorder=4)
            ax.scatter([rank_v[k]], [k], s=30, color=COLORS["highlight"], zorder=5)
    ax.set_ylim(len(d) - 0.5, -0.5)
    ax.set_xlim(0, len(d) + 1)
    _style(ax, title, rank_label, "")
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", color="#eeeeee", linewidth=0.8)
    ax.xaxis.set_ticks_position("both")
    ax.tick_params(axis="x", labeltop=True)
    ax.legend(fontsize=FONT["note"], frameon=False, loc="upper right")
    _note(fig, note or f"Bars: the {range_label} of each LA's rank over the Monte Carlo draws; dots: its rank.")
    return fig


def funnel_plot(
    data: pd.DataFrame,
    *,
    title: str | None = None,
    value_label: str | None = None,
    denominator_label: str = "Pupils behind the value (log scale)",
    label: str = "la_name",
    code: str = "la_code",
    highlight: str | None = None,
    overdispersed: bool = True,
    n_label: int = 6,
    note: str | None = None,
) -> Figure:
    """A funnel plot from :func:`inclusion_index.uncertainty.funnel_data`: each LA's value
    against its denominator (log scale), the pooled England value, exact control limits (solid)
    and, when the LAs vary beyond chance, limits allowing for that (dashed). LAs outside the
    widest limits are coloured by direction (green more, orange less inclusive than England)
    and the ``n_label`` furthest out are named."""
    from .uncertainty import funnel_limits

    fig = _figure(5.3)
    ax = fig.add_subplot()
    a = data.attrs
    d = data.dropna(subset=["denominator", "value"])
    if d.empty or not a:
        return _empty(fig, ax, "No LA has both a value and a denominator.")
    levels = sorted(a.get("levels", []))
    lab = f"{max(levels) * 100:g}".replace(".", "") if levels else ""
    use_od = overdispersed and a.get("tau2", 0) > 0 and f"od_flag_{lab}" in d
    flag = f"od_flag_{lab}" if use_od else f"flag_{lab}"
    direction = f"od_direction_{lab}" if use_od else f"direction_{lab}"
    n = d["denominator"].to_numpy(dtype="float64")
    grid = np.geomspace(max(1.0, float(np.nanmin(n)) * 0.8), float(np.nanmax(n)) * 1.15, 200)
    widths = [0.9, 1.4, 1.8]
    for level, lw in zip(levels, widths, strict=False):
        lo, hi = funnel_limits(a["target_per_pupil"], grid, a["model"], level, scale=a["scale"], pupil_sd=a["pupil_sd"])
        ax.plot(grid, lo, color="#6b7785", lw=lw, zorder=1, label=f"{level:.1%} limits, chance alone")
        ax.plot(grid, hi, color="#6b7785", lw=lw, zorder=1)
        if use_od:
            ph = a["phi"] if a.get("overdispersion") == "multiplicative" else 1.0
            t2 = a["tau2"] if a.get("overdispersion") == "additive" else 0.0
            lo, hi = funnel_limits(a["target_per_pupil"], grid, a["model"], level, scale=a["scale"],
                                   pupil_sd=a["pupil_sd"], phi=ph, tau2=t2)
            ax.plot(grid, lo, color=COLORS["region"], lw=lw, ls="--", zorder=1,
                    label=f"{level:.1%} limits, allowing for LA-to-LA variation")
            ax.plot(grid, hi, color=COLORS["region"], lw=lw, ls="--", zorder=1)
    inside = d[flag] == "within" if flag in d else pd.Series(True, index=d.index)
    ax.scatter(d.loc[inside, "denominator"], d.loc[inside, "value"], s=13, color=COLORS["la"], linewidths=0, zorder=2)
    for what, colour in (("more inclusive", COLORS["up"]), ("less inclusive", COLORS["down"])):
        m = ~inside & (d[direction] == what) if direction in d else ~inside
        if m.any():
            ax.scatter(d.loc[m, "denominator"], d.loc[m, "value"], s=18, color=colour, linewidths=0, zorder=3,
                       label=f"Outside the {levels[-1]:.1%} limits: {what}" if levels else what)
    ax.axhline(a["target"], color=COLORS["england"], linestyle="--", linewidth=1, zorder=1)
    ax.annotate(f"England (pooled) {_fmt(a['target'])}", (grid[-1], a["target"]), xytext=(0, 3),
                textcoords="offset points", ha="right", va="bottom", fontsize=FONT["note"], color=COLORS["england"])
    out = d[~inside].assign(_z=d["z"].abs()).sort_values("_z", ascending=False).head(n_label)
    for _, r in out.iterrows():
        if highlight and r[code] == highlight:
            continue
        ax.annotate(str(r[label]), (r["denominator"], r["value"]), xytext=(4, 3), textcoords="offset points",
                    fontsize=FONT["note"] - 0.5, color="#444444")
    if highlight:
        hl = d[d[code] == highlight]
        if len(hl):
            r = hl.iloc[0]
            ax.scatter([r["denominator"]], [r["value"]], s=60, color=COLORS["highlight"], zorder=5, edgecolor="white")
            ax.annotate(str(r[label]), (r["denominator"], r["value"]), xytext=(6, 6), textcoords="offset points",
                        fontsize=FONT["label"] - 1, color=COLORS["highlight"], fontweight="bold")
    ax.set_xscale("log")
    _style(ax, textwrap.fill(title or f"{a.get('name', '')}: funnel plot", 80), denominator_label,
           value_label or a.get("name", ""))
    fig.legend(fontsize=FONT["note"] - 0.5, frameon=False, loc="outside upper right", ncols=2)
    _note(fig, note or ("Each dot is an LA. Solid lines: where 95% and 99.8% of LAs would lie if they differed "
                        "only by chance; dashed: the same allowing for ordinary variation between LAs."
                        if use_od else "Each dot is an LA. Lines: where 95% and 99.8% of LAs would lie if they "
                        "differed only by chance."))
    return fig


@dataclass
class Panel:
    """One panel of :func:`small_multiples`: ``y`` against ``x`` (scatter) or ``y`` alone (hist)."""

    y: str
    title: str
    ylabel: str = ""
    x: str | None = None
    xlabel: str = ""
    reference: float | None = None  # e.g. England, drawn as a dashed line


def small_multiples(
    data: pd.DataFrame,
    panels: Sequence[Panel | dict],
    *,
    title: str,
    kind: str = "scatter",
    ncols: int = 3,
    label: str = "la_name",
    code: str = "la_code",
    highlight: str | None = None,
    note: str | None = None,
) -> Figure:
    """A grid of small charts sharing a style: scatters with OLS fits, or histograms of LA values."""
    ps = [p if isinstance(p, Panel) else Panel(**p) for p in panels]
    ncols = max(1, min(ncols, len(ps) or 1))
    nrows = max(1, int(np.ceil(len(ps) / ncols)))
    fig = _figure(2.55 * nrows + 0.7)
    fig.suptitle(title, fontsize=FONT["title"], x=0.01, ha="left")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax, p in zip(axes.flat, ps, strict=False):
        d = data.dropna(subset=[c for c in (p.x, p.y) if c])
        if d.empty:
            _empty(fig, ax, f"{p.title}: no data")
            continue
        if kind == "hist":
            vals = d[p.y].astype("float64")
            ax.hist(vals, bins=min(20, max(5, len(vals) // 6)), color=COLORS["la"], edgecolor="white", linewidth=0.5)
            if p.reference is not None and np.isfinite(p.reference):
                ax.axvline(p.reference, color=COLORS["england"], linestyle="--", linewidth=1)
            if highlight:
                hl = d[d[code] == highlight]
                if len(hl):
                    ax.axvline(float(hl.iloc[0][p.y]), color=COLORS["highlight"], linewidth=1.8)
            _style(ax, None, p.ylabel, "LAs")
        else:
            _scatter_panel(ax, d, p.x, p.y, label=label, code=code, highlight=highlight, point_size=9,
                           annotate="short")
            if p.reference is not None and np.isfinite(p.reference):
                ax.axhline(p.reference, color=COLORS["england"], linestyle="--", linewidth=0.8)
            _style(ax, None, p.xlabel, p.ylabel)
        ax.set_title(p.title, fontsize=FONT["label"], loc="left")
        ax.xaxis.label.set_size(FONT["note"] + 0.5)
        ax.yaxis.label.set_size(FONT["note"] + 0.5)
    for ax in list(axes.flat)[len(ps):]:
        ax.axis("off")
    xlabels = {p.xlabel if kind != "hist" else p.ylabel for p in ps}
    if len(ps) > 1 and len(xlabels) == 1 and next(iter(xlabels)):
        # one shared x label instead of a repeated (and overlapping) one under every panel
        for ax in axes.flat:
            ax.set_xlabel("")
        fig.supxlabel(next(iter(xlabels)), fontsize=FONT["label"])
    _note(fig, note)
    return fig


# --------------------------------------------------------------------------- saving


@dataclass
class SavedFigure:
    """Paths of a saved chart; displays as its PNG in a notebook."""

    png: Path
    svg: Path
    csv: Path
    alt: str = ""

    def _repr_png_(self) -> bytes:
        return self.png.read_bytes()

    def paths(self) -> list[Path]:
        return [self.png, self.svg, self.csv]


_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def save_figure(fig: Figure, data: pd.DataFrame, out_dir: str | os.PathLike[str], name: str) -> SavedFigure:
    """Write ``name``.png, ``name``.svg and the chart's data as ``name``.csv into ``out_dir``.

    Files are written to temporary names and moved into place, so a failure never leaves a
    half-written chart. The figure's title becomes the returned object's alt text.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = _SAFE.sub("_", name).strip("_") or "figure"
    targets = {"png": out / f"{stem}.png", "svg": out / f"{stem}.svg", "csv": out / f"{stem}.csv"}
    tmp = {k: p.with_name(f".{p.name}.part") for k, p in targets.items()}
    meta = {"Title": _title_of(fig)}
    try:
        fig.savefig(tmp["png"], format="png", dpi=DPI, metadata={**meta, "Software": "inclusion-index"})
        fig.savefig(tmp["svg"], format="svg", metadata={**meta, "Date": None})
        frame = data.reset_index() if data.index.name or isinstance(data.index, pd.MultiIndex) else data
        write_csv(frame, tmp["csv"])
        for k in targets:
            os.replace(tmp[k], targets[k])
    finally:
        for p in tmp.values():
            p.unlink(missing_ok=True)
    return SavedFigure(png=targets["png"], svg=targets["svg"], csv=targets["csv"], alt=meta["Title"])


def _title_of(fig: Figure) -> str:
    if fig.get_suptitle():
        return fig.get_suptitle()
    for ax in fig.axes:
        t = ax.get_title(loc="left") or ax.get_title()
        if t:
            return t
    return ""
