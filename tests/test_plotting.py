"""Chart layout: titles wrapped to the room they have, footnotes below every axis label,
readable LA names on the rank chart, statistics boxes clear of the points, slope-chart names
tied to their lines. Checked on the laid-out figures' text extents, on made-up LAs (no data
files needed), with the long titles and labels the series really uses."""

from __future__ import annotations

import io
import itertools

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from matplotlib.colors import to_hex, to_rgb
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.transforms import Bbox

from inclusion_index.report import plotting
from inclusion_index.sources.geography import region_order

N = 150
NAMES = ["Kingston upon Hull, City of", "Bournemouth, Christchurch and Poole", "Richmond upon Thames",
         "Westmorland and Furness", "Hammersmith and Fulham", "Barking and Dagenham", "Bath and North East Somerset"]


def _las(seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    regions = region_order()
    d = pd.DataFrame({
        "la_code": [f"{300 + i}" for i in range(N)],
        "la_name": [NAMES[i] if i < len(NAMES) else f"Local authority number {i}" for i in range(N)],
        "region": [regions[i % len(regions)] for i in range(N)],
        "idaci": rng.uniform(0.05, 0.4, N),
    })
    d["value"] = 20 + 30 * d["idaci"] + rng.normal(0, 3, N)
    d["other"] = rng.normal(50, 10, N)
    d["score"] = rng.uniform(0, 100, N)
    return d


def _laid_out(fig: Figure):
    """Save (which runs the final layout) and return a renderer for measuring the result."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=plotting.DPI)
    assert buf.getvalue()[:4] == b"\x89PNG"
    return fig.canvas.get_renderer()


def _titles(fig: Figure) -> list:
    out = [t for ax in fig.axes for t in (ax._left_title, ax.title) if t.get_text()]
    return out + ([fig._suptitle] if fig._suptitle is not None else [])


def _inside(inner: Bbox, outer: Bbox, tol: float = 1.0) -> bool:
    return (inner.x0 >= outer.x0 - tol and inner.x1 <= outer.x1 + tol and inner.y0 >= outer.y0 - tol
            and inner.y1 <= outer.y1 + tol)


def _footnote(fig: Figure):
    notes = [t for t in fig.texts if t.get_gid() == "footnote"]
    assert len(notes) == 1
    return notes[0]


def _assert_note_below_everything(fig: Figure, renderer) -> None:
    note = _footnote(fig).get_window_extent(renderer)
    assert _inside(note, fig.bbox)
    above = [ax.get_tightbbox(renderer) for ax in fig.axes if ax.get_visible()]
    if fig._supxlabel is not None:
        above.append(fig._supxlabel.get_window_extent(renderer))
    for ax in fig.axes:
        if ax.xaxis.label.get_text():
            above.append(ax.xaxis.label.get_window_extent(renderer))
    # every axis label, tick label and axes sits above the footnote
    assert note.y1 < min(b.y0 for b in above), (note, min(b.y0 for b in above))


def _assert_titles_fit(fig: Figure, renderer) -> None:
    boxes = [t.get_window_extent(renderer) for t in _titles(fig)]
    assert boxes
    for b in boxes:
        assert _inside(b, fig.bbox), b
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), (a, b)


# --------------------------------------------------------------------------- wrapping


def test_wrap_to_width_measures_lines_and_keeps_every_word() -> None:
    fig, _ = plotting._figure(2)
    r = plotting.renderer_of(fig)
    prop = FontProperties(size=12)
    text = "Fixed-period exclusions (suspensions) per 100 pupils with an EHC plan, 2023/24, by region"
    out = plotting.wrap_to_width(text, 300, prop, r)
    assert out.replace("\n", " ") == text
    assert out.count("\n") >= 2
    assert all(r.get_text_width_height_descent(line, prop, ismath=False)[0] <= 300 for line in out.split("\n"))
    # a word wider than the room stays whole; existing line breaks are kept
    assert plotting.wrap_to_width("Supercalifragilistic", 10, prop, r) == "Supercalifragilistic"
    assert plotting.wrap_to_width("a\nb", 1000, prop, r) == "a\nb"


# --------------------------------------------------------------------------- titles


@pytest.mark.parametrize("kind", ["hist", "scatter"])
def test_small_multiples_titles_do_not_collide(kind: str) -> None:
    d = _las()
    titles = ["Overall score (0-100, higher = more inclusive)", "Exclusions score (0-100)",
              "Assessment score (0-100)", "Fixed-period exclusions (per 100 pupils)",
              "Permanent exclusions (per 100 pupils)"]
    panels = [dict(x="idaci", y=c, title=t, xlabel="IDACI average score (IoD2015)", ylabel=t)
              for c, t in zip(["value", "other", "score", "value", "other"], titles, strict=True)]
    fig = plotting.small_multiples(d, panels, kind=kind, title="Overall and area scores across LAs, 2024/25",
                                   note="A footnote.")
    r = _laid_out(fig)
    _assert_titles_fit(fig, r)
    # wrapping only breaks lines: the words and their case are the caller's
    shown = [t.get_text().replace("\n", " ") for ax in fig.axes for t in (ax._left_title,) if t.get_text()]
    assert shown == titles
    _assert_note_below_everything(fig, r)


def test_long_region_title_wraps_inside_the_figure_keeping_the_year() -> None:
    d = _las()
    title = "Fixed-period exclusions (suspensions) per 100 pupils with an EHC plan, 2023/24, by region"
    fig = plotting.region_chart(d, "value", title=title, value_label="Fixed-period exclusions (per 100 pupils)",
                                england=25.0, highlight="305")
    r = _laid_out(fig)
    _assert_titles_fit(fig, r)
    t = fig.axes[0]._left_title
    assert "\n" in t.get_text() and t.get_text().replace("\n", " ") == title
    legend = fig.legends[0].get_window_extent(r)
    assert not legend.overlaps(t.get_window_extent(r))
    _assert_note_below_everything(fig, r)


def test_every_chart_keeps_its_title_in_the_figure_and_its_note_below_the_axis_labels() -> None:
    d = _las()
    long = "A deliberately long chart title that would run off the right-hand edge of the figure, 2024/25"
    figs = [
        plotting.dot_chart(d, "value", title=long, value_label="Rate", england=25.0, highlight="305",
                           note="Note under the dot chart."),
        plotting.region_chart(d, "value", title=long, value_label="Rate"),
        plotting.scatter_fit(d, "idaci", "value", title=long, xlabel="IDACI average score (IoD2019)", ylabel="Rate"),
        plotting.slope_chart(_improvement(), early_label="2022/23", late_label="2024/25", title=long,
                             significant="significant"),
        plotting.rank_interval_chart(_ranks(), rank="rank", lo="lo", hi="hi", title=long),
        plotting.funnel_plot(_funnel(), title=long, value_label="Exclusions (per 100 pupils)"),
    ]
    for fig in figs:
        r = _laid_out(fig)
        _assert_titles_fit(fig, r)
        _assert_note_below_everything(fig, r)


def test_funnel_footnote_clears_the_x_label_by_a_margin() -> None:
    fig = plotting.funnel_plot(_funnel(), value_label="Exclusions (per 100 pupils)")
    r = _laid_out(fig)
    note = _footnote(fig).get_window_extent(r)
    xlabel = fig.axes[0].xaxis.label.get_window_extent(r)
    assert xlabel.y0 - note.y1 >= 0.05 * fig.dpi
    # the note is wrapped inside the figure, not left to run past its right edge
    assert note.x1 <= fig.bbox.x1 - 0.05 * fig.dpi


def test_funnel_outliers_differ_in_shape_not_only_colour() -> None:
    fig = plotting.funnel_plot(_funnel(), value_label="Exclusions (per 100 pupils)")
    ax = fig.axes[0]
    handles, labels = ax.get_legend_handles_labels()
    shapes = {lab.rsplit(": ", 1)[-1]: tuple(map(tuple, h.get_paths()[0].vertices.round(3)))
              for h, lab in zip(handles, labels, strict=True) if "inclusive" in lab}
    assert set(shapes) == {"more inclusive", "less inclusive"}  # both kinds occur in the fixture
    assert shapes["more inclusive"] != shapes["less inclusive"]
    # and in lightness: the review measured the old green and orange at 1.02:1, one olive for a
    # reader with deuteranopia; now at least 3:1 apart and each at least 3:1 on white (WCAG 1.4.11)
    up, down = plotting.COLORS["up"], plotting.COLORS["down"]
    assert _contrast(up, down) >= 3.0 and _contrast(up, "white") >= 3.0 and _contrast(down, "white") >= 3.0
    colours = {lab.rsplit(": ", 1)[-1]: to_hex(h.get_facecolor()[0]) for h, lab in zip(handles, labels, strict=True)
               if "inclusive" in lab}
    assert colours == {"more inclusive": up, "less inclusive": down}


def _contrast(a: str, b: str) -> float:
    def lum(c: str) -> float:
        rgb = np.asarray(to_rgb(c))
        return float(np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4) @ [0.2126, 0.7152, 0.0722])

    hi, lo = sorted([lum(a), lum(b)], reverse=True)
    return (hi + 0.05) / (lo + 0.05)


# --------------------------------------------------------------------------- label placement


def _assert_labels_clear(fig: Figure, r) -> int:
    """Every name and line label in the axes, measured on the saved figure: no two overlap, none
    crosses a plotted line (limits, England, fitted line) or covers a plotted point. Returns
    how many labels were checked."""
    checked = 0
    for ax in fig.axes:
        labels = [t for t in ax.texts if t.get_text() and t.get_visible() and t.get_gid() != plotting.STATS_GID]
        boxes = [plotting._text_box(t, r) for t in labels]
        for (a, ta), (b, tb) in itertools.combinations(zip(boxes, labels, strict=True), 2):
            assert not a.overlaps(b), (ta.get_text(), tb.get_text())
        for ln in ax.lines:
            path = ln.get_path().transformed(ln.get_transform())
            for b, t in zip(boxes, labels, strict=True):
                assert not path.intersects_bbox(b, filled=False), (t.get_text(), ln.get_label())
        for c in ax.collections:
            if isinstance(c, PathCollection) and len(c.get_offsets()):
                pts = c.get_offset_transform().transform(np.asarray(c.get_offsets(), dtype="float64"))
                for b, t in zip(boxes, labels, strict=True):
                    assert not b.count_contains(pts), t.get_text()
        checked += len(labels)
    return checked


def _crowded() -> pd.DataFrame:
    """LAs whose lowest values bunch together, as the exclusion rates of Part 2 do."""
    d = _las()
    d["value"] = np.sort(np.concatenate([np.linspace(48, 10, N - 6), [67.1, 56.2, 54.4, 9.2, 8.0, 7.6]]))[::-1]
    return d


def test_dot_chart_names_clear_of_points_lines_and_each_other() -> None:
    # the review's case: "Hammersmith and Fulham 9.2" printed over the lowest LAs' points
    for hl in (None, "305", "449"):
        fig = plotting.dot_chart(_crowded(), "value", title="Suspensions per 100 pupils with an EHC plan, 2023/24",
                                 value_label="Rate", england=25.6, england_label="England (pooled from LAs)",
                                 highlight=hl, n_label=3, higher_is_better=False)
        r = _laid_out(fig)
        names = {t.get_text() for t in fig.axes[0].texts}
        assert any(n.endswith(" 9.2") for n in names)
        assert _assert_labels_clear(fig, r) >= 7
        # a name moved away from its point is tied to it by a leader line
        for t in fig.axes[0].texts:
            if t.get_gid() == plotting.POINT_LABEL_GID:
                far = np.hypot(*t.xyann) > plotting.LEADER_FROM
                assert t.arrow_patch.get_visible() == far


def test_funnel_names_and_england_label_clear_of_the_limit_lines() -> None:
    # the review's cases: an LA's name struck through by the 99.8% line; "England (pooled)" on the limits
    f = _funnel()
    f.loc[:3, "z"] = [-7.0, -8.0, 7.5, 9.0]
    f.loc[:3, "value"] = [10.0, 8.0, 40.0, 45.0]
    for prefix in ("", "od_"):
        f.loc[:3, f"{prefix}flag_998"] = ["below", "below", "above", "above"]
        f.loc[:3, f"{prefix}direction_998"] = ["more inclusive"] * 2 + ["less inclusive"] * 2
    for hl in (None, "310"):
        fig = plotting.funnel_plot(f, value_label="Exclusions (per 100 pupils)", highlight=hl)
        r = _laid_out(fig)
        texts = [t.get_text() for t in fig.axes[0].texts]
        assert any(t.startswith("England (pooled) 25.0") for t in texts)
        assert _assert_labels_clear(fig, r) >= 5


def test_scatter_and_region_names_clear() -> None:
    d = _las()
    figs = [plotting.scatter_fit(d, "idaci", "value", title="t", xlabel="x", ylabel="y", n_label=6, highlight="303"),
            plotting.region_chart(d, "value", title="t", value_label="Rate", england=25.0, highlight="305")]
    for fig in figs:
        assert _assert_labels_clear(fig, _laid_out(fig)) >= 1


# --------------------------------------------------------------------------- rank chart


def _ranks() -> pd.DataFrame:
    d = _las()[["la_code", "la_name"]].copy()
    d["rank"] = np.arange(1, N + 1)
    d["lo"] = np.clip(d["rank"] - 10, 1, N)
    d["hi"] = np.clip(d["rank"] + 12, 1, N)
    return d


def test_rank_interval_names_never_touch() -> None:
    fig = plotting.rank_interval_chart(_ranks(), rank="rank", lo="lo", hi="hi", title="Overall rank, 2024/25",
                                       highlight="310")
    r = _laid_out(fig)
    ax = fig.axes[0]
    boxes = sorted((t.get_window_extent(r) for t in ax.get_yticklabels() if t.get_text()), key=lambda b: -b.y0)
    assert len(boxes) == N
    gaps = [a.y0 - b.y1 for a, b in itertools.pairwise(boxes)]
    assert min(gaps) > 0, min(gaps)
    # the row pitch leaves room around names of the chosen size (about 1.6 times the font)
    pitch = (boxes[0].y0 - boxes[-1].y0) / (N - 1) * 72 / fig.dpi
    assert pitch >= 1.4 * ax.get_yticklabels()[0].get_fontsize()


# --------------------------------------------------------------------------- scatter


def test_scatter_slope_per_step_and_unit() -> None:
    d = _las()
    default = plotting.scatter_fit(d, "idaci", "value", title="t", xlabel="x", ylabel="y")
    stepped = plotting.scatter_fit(d, "idaci", "value", title="t", xlabel="IDACI average score (IoD2015)",
                                   ylabel="EHC plan share (%)", slope_per=0.05, slope_unit="IDACI points")
    short = plotting.scatter_fit(d, "idaci", "value", title="t", xlabel="x", ylabel="y", annotate="short")

    def stats(fig: Figure) -> str:
        (t,) = [t for t in fig.axes[0].texts if t.get_gid() == plotting.STATS_GID]
        return t.get_text()

    import statsmodels.api as sm

    slope = sm.OLS(d["value"], sm.add_constant(d["idaci"])).fit().params["idaci"]
    assert stats(default).startswith(f"slope {slope:.2f} (95% CI")
    assert stats(stepped).startswith(f"slope {slope * 0.05:.2f} per 0.05 IDACI points (95% CI")
    assert stats(short).startswith("R² ") and "slope" not in stats(short)
    # labels keep the caller's case, whatever the wrapping
    _laid_out(stepped)
    assert stepped.axes[0].get_xlabel().replace("\n", " ") == "IDACI average score (IoD2015)"
    assert stepped.axes[0].get_ylabel().replace("\n", " ") == "EHC plan share (%)"


def test_statistics_box_moves_to_the_emptiest_corner() -> None:
    rng = np.random.default_rng(5)
    n = 120
    # a cloud high on the left and low on the right: upper left and lower right are crowded
    x = rng.uniform(0, 1, n)
    y = 1 - x + rng.normal(0, 0.08, n)
    x[:15], y[:15] = rng.uniform(0, 0.2, 15), rng.uniform(1.0, 1.1, 15)
    d = pd.DataFrame({"la_code": [str(i) for i in range(n)], "la_name": [f"LA {i}" for i in range(n)],
                      "x": x, "y": y})
    fig = plotting.scatter_fit(d, "x", "y", title="t", xlabel="x", ylabel="y", n_label=4)
    r = _laid_out(fig)
    ax = fig.axes[0]
    (box,) = [t for t in ax.texts if t.get_gid() == plotting.STATS_GID]
    bb = box.get_window_extent(r)
    pts = ax.transData.transform(np.column_stack([x, y]))
    hidden = ((pts[:, 0] >= bb.x0) & (pts[:, 0] <= bb.x1) & (pts[:, 1] >= bb.y0) & (pts[:, 1] <= bb.y1)).sum()
    assert hidden == 0
    assert box.get_position()[0] > 0.5 or box.get_position()[1] < 0.5  # not left in the crowded upper left
    for t in ax.texts:
        if t is not box:
            assert not t.get_window_extent(r).overlaps(bb), t.get_text()


def test_names_of_neighbouring_points_do_not_overlap() -> None:
    d = _las()
    # three outliers far from the line, almost on top of each other
    for k, (x, y) in enumerate([(0.30, 80.0), (0.301, 79.5), (0.302, 80.3)]):
        d.loc[k, ["idaci", "value"]] = (x, y)
    fig = plotting.scatter_fit(d, "idaci", "value", title="t", xlabel="x", ylabel="y", n_label=4)
    r = _laid_out(fig)
    names = [t for t in fig.axes[0].texts if t.get_gid() == plotting.POINT_LABEL_GID]
    assert {t.get_text() for t in names} >= set(d["la_name"].iloc[:3])
    for a, b in itertools.combinations(names, 2):
        assert not a.get_window_extent(r).overlaps(b.get_window_extent(r)), (a.get_text(), b.get_text())


# --------------------------------------------------------------------------- slope chart


def _improvement(compared: list[str] | None = None) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    d = _las()[["la_code", "la_name", "region"]].copy()
    d["score_early"] = rng.uniform(15, 85, N)
    d["score_late"] = np.clip(d["score_early"] + rng.normal(0, 8, N), 0, 100)
    d["change"] = d["score_late"] - d["score_early"]
    d["significant"] = d["change"] > 9
    if compared is not None:
        d.attrs["indicators_compared"] = compared
    return d


def test_most_improved_chart_ranks_the_largest_rises_and_falls_labelled_at_both_ends() -> None:
    # the review: 151 tangled grey lines, only the right-hand ends labelled
    imp = _improvement()
    imp["declined_significant"] = imp["change"] < -9
    fig = plotting.slope_chart(imp, early_label="2022/23", late_label="2024/25", title="Most improved",
                               significant="significant", top=10, highlight="340")
    r = _laid_out(fig)
    ax = fig.axes[0]
    ranked = imp.sort_values("change", ascending=False)
    shown = [*ranked["la_code"].head(10), "340", *ranked["la_code"].tail(10)]
    names = [t.get_text() for t in ax.get_yticklabels()]
    by_code = imp.set_index("la_code")
    assert names == [f"{by_code.at[c, 'la_name']} ({by_code.at[c, 'change']:+.1f})" for c in shown]
    arrows = [t for t in ax.texts if getattr(t, "arrow_patch", None) and not t.get_text()]
    assert len(arrows) == 21
    colour = {plotting.COLORS["up"]: "significant", plotting.COLORS["down"]: "declined_significant"}
    for c, a in zip(shown, arrows, strict=True):
        # each arrow runs from the early to the late score, in the colour of its kind of change
        assert a.xyann == (by_code.at[c, "score_early"], a.xy[1]) and a.xy[0] == by_code.at[c, "score_late"]
        col = a.arrow_patch.get_edgecolor()
        kind = colour.get(to_hex(col))
        if c == "340":
            assert to_hex(col) == plotting.COLORS["highlight"]
        elif kind:
            assert by_code.at[c, kind]
        else:
            assert not by_code.at[c, "significant"] and not by_code.at[c, "declined_significant"]
    # both ends carry their values, and no two texts overlap
    values = {t.get_text() for t in ax.texts if t.get_text()}
    for c in shown:
        assert {f"{by_code.at[c, 'score_early']:.1f}", f"{by_code.at[c, 'score_late']:.1f}"} <= values
    boxes = [plotting._text_box(t, r) for t in ax.texts if t.get_text()]
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)


def test_slope_chart_says_when_scores_are_like_for_like_re_scores() -> None:
    kw = dict(early_label="2016/17", late_label="2018/19", title="t")
    plain = plotting.slope_chart(_improvement(), **kw)
    assert plain.axes[0].get_xlabel() == "Overall score (0-100)"
    fig = plotting.slope_chart(_improvement(["a", "b", "c", "d", "e", "f", "g", "h"]), **kw)
    _laid_out(fig)
    assert fig.axes[0].get_xlabel().replace("\n", " ") == \
        "Overall score re-scored on the 8 indicators in both years (0-100)"
    given = plotting.slope_chart(_improvement(["a"]), value_label="My label", **kw)
    assert given.axes[0].get_xlabel() == "My label"


# --------------------------------------------------------------------------- funnel data


def _funnel() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    d = _las()[["la_code", "la_name"]].copy()
    n = rng.uniform(200, 15000, N)
    p0 = 0.25
    k = rng.poisson(p0 * n * rng.uniform(0.6, 1.4, N))
    d["denominator"] = n
    d["value"] = 100 * k / n
    d["z"] = (k / n - p0) / np.sqrt(p0 / n)
    for prefix in ("", "od_"):
        flag = np.where(d["z"] > 6, "above", np.where(d["z"] < -6, "below", "within"))
        d[f"{prefix}flag_998"] = flag
        d[f"{prefix}direction_998"] = np.where(flag == "within", "",
                                               np.where(flag == "below", "more inclusive", "less inclusive"))
    d.attrs.update({"model": "poisson", "target": p0 * 100, "target_per_pupil": p0, "scale": 100.0,
                    "pupil_sd": None, "phi": 4.0, "tau2": 0.001, "overdispersion": "additive",
                    "levels": [0.95, 0.998], "name": "Fixed-period exclusions (suspensions) per 100 pupils "
                    "with an EHC plan, 2023/24"})
    return d


def test_saved_alt_text_is_the_unwrapped_title(tmp_path) -> None:
    d = _las()
    title = "Fixed-period exclusions (suspensions) per 100 pupils with an EHC plan, 2023/24, by region"
    fig = plotting.region_chart(d, "value", title=title, value_label="Rate")
    assert "\n" in fig.axes[0].get_title(loc="left")
    saved = plotting.save_figure(fig, d, tmp_path, "chart")
    # the title first, then the words a reader who cannot see the chart needs: its extremes and the data
    assert saved.alt.startswith(title + ".")
    assert "chart.csv" in saved.alt


def test_alt_text_of_a_one_value_per_la_chart_names_its_extremes(tmp_path) -> None:
    d = pd.DataFrame({"la_code": [f"{i:03d}" for i in range(301, 311)], "la_name": [f"LA {i}" for i in range(10)],
                      "region": "London", "overall_score": np.arange(10) * 10.0})
    fig = Figure()
    fig.add_subplot().set_title("Overall score, 2024/25")
    saved = plotting.save_figure(fig, d, tmp_path, "01_overall_score_hexmap")
    assert saved.alt == ("Overall score, 2024/25. 10 LAs; highest overall score: LA 9 90.0, LA 8 80.0, LA 7 70.0; "
                         "lowest: LA 0 0.0, LA 1 10.0, LA 2 20.0. Every plotted value is in the chart's data "
                         "(01_overall_score_hexmap.csv), linked below the chart.")
