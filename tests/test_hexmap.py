"""Hex maps: every LA of both editions gets a hex (or is reported), the figure renders with its
attribution, and the GeoPackage/hexjson readers fail clearly on broken files."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from inclusion_index.config import parse_hexmaps
from inclusion_index.errors import ConfigError, SchemaError
from inclusion_index.index.edition import score_table
from inclusion_index.paths import REGISTRY_DIR
from inclusion_index.report import hexmap as H
from inclusion_index.report.hexmap import (
    _centroid,
    _path,
    best_hexmap,
    la_labels,
    layout_for,
    plot_hexmap,
)
from inclusion_index.sources.hexes import hexmap_for, load_hexes, parse_gpkg_geometry

from .conftest import mirror_with

OPL = "Contains Parliamentary information licensed under the Open Parliament Licence v3.0"
HOCL = "geography/hocl_LocalAuthorities-uppertier-2023.gpkg"
ODI = "geography/odileeds_uk-upper-tier-local-authorities.hexjson"


def _layout(ed, data_dir: Path) -> pd.DataFrame:
    return layout_for(ed.geography, hexmap_for(ed.final_year), year=ed.final_year, data_dir=data_dir).tidy()


def test_layout_choice() -> None:
    assert hexmap_for("201819") == "hex_odileeds"
    assert hexmap_for("202021") == "hex_odileeds"
    assert hexmap_for("202122") == "hex_hocl"
    assert hexmap_for("202425") == "hex_hocl"


def test_real_files(data_dir: Path) -> None:
    hocl = load_hexes("hex_hocl", data_dir)
    odi = load_hexes("hex_odileeds", data_dir)
    # England only: 153 upper-tier LAs on April 2023 codes; ODI Leeds 151 on 2019-20 codes
    assert len(hocl.shapes) == 153 and all(c.startswith("E") for c in hocl.shapes)
    assert len(odi.shapes) == 151
    assert {"E06000060", "E06000063", "E06000064", "E06000065", "E06000066"} <= set(hocl.shapes)
    assert {"E10000002", "E10000021", "E10000006", "E06000058", "E06000059"} <= set(odi.shapes)
    # British National Grid metres: Hampshire's hexes sit in southern England
    x, y = _centroid(hocl.shapes["E10000014"])
    assert 0 < x < 700_000 and 0 < y < 700_000


@pytest.mark.parametrize("year,source,n_las", [("201819", "hex_odileeds", 150), ("202425", "hex_hocl", 151)])
def test_every_la_has_a_hex(editions, data_dir: Path, year: str, source: str, n_las: int) -> None:
    ed = editions[year]
    t = _layout(ed, data_dir)
    assert len(ed.geography) == n_las
    assert set(ed.geography["la_code"]) <= set(t["la_code"].dropna())
    assert not t["match"].eq("missing").any()
    assert not t["match"].eq("unused").any()
    drawn = t[t["x"].notna()]
    assert set(drawn["la_code"]) == set(ed.geography["la_code"]) | {"201", "420"}
    # City of London and Isles of Scilly are drawn, not ranked
    assert not t.loc[t["la_code"].isin(["201", "420"]), "in_index"].any()
    assert t.loc[t["la_code"].isin(ed.geography["la_code"]), "in_index"].all()
    assert best_hexmap(ed.geography, data_dir) == source


def test_2019_substitutions(editions, data_dir: Path) -> None:
    t = _layout(editions["201819"], data_dir).set_index(["la_code", "part"])
    # Poole and Bournemouth (until March 2019) share the BCP hex, Poole in the west strip
    assert t.loc[("836", 1), "hex_code"] == t.loc[("837", 2), "hex_code"] == "E06000058"
    assert t.loc[("836", 1), "x"] < t.loc[("837", 2), "x"]
    assert t.loc[("835", 1), "hex_code"] == "E06000059" and t.loc[("835", 1), "match"] == "successor"


@pytest.mark.parametrize("year,source", [("201819", "hex_hocl"), ("202425", "hex_odileeds")])
def test_cross_vintage_layouts_lose_no_la(editions, data_dir: Path, year: str, source: str) -> None:
    ed = editions[year]
    lay = layout_for(ed.geography, source, year=year, data_dir=data_dir)
    t = lay.tidy()
    assert lay.missing().empty and not lay.table["match"].eq("unused").any()
    assert set(ed.geography["la_code"]) <= set(t["la_code"].dropna())
    by = t.drop_duplicates("la_code").set_index("la_code")
    if source == "hex_hocl":  # 2019 LAs on 2023 codes
        assert by.loc["825", "match"] == "ons_other_spell"  # Buckinghamshire E10000002 -> E06000060
        assert set(t.loc[t["la_code"] == "909", "hex_code"]) == {"E06000063", "E06000064"}  # Cumbria
        assert set(t.loc[t["la_code"] == "928", "hex_code"]) == {"E06000061", "E06000062"}
    else:  # 2025 LAs on 2019 codes
        assert by.loc["815", "match"] == "ons_other_spell"  # North Yorkshire E06000065 -> E10000023
        nn = t[t["hex_code"] == "E10000021"].sort_values("part")
        assert nn["la_code"].tolist() == ["941", "940"] and (nn["n_parts"] == 2).all()  # West, then North


def test_missing_la_is_reported(editions, data_dir: Path) -> None:
    ed = editions["202425"]
    geo = pd.concat([ed.geography, pd.DataFrame([{"la_code": "999", "la_name": "Nowhere",
                                                  "ons_code": "E99999999", "region": "London"}])],
                    ignore_index=True)
    lay = layout_for(geo, "hex_hocl", year="202425", data_dir=data_dir)
    assert lay.missing()["la_code"].tolist() == ["999"]
    values = pd.Series(50.0, index=geo["la_code"])
    with pytest.warns(UserWarning, match="999"):
        fig = plot_hexmap(values, geo, "t", "l", layout=lay)
    text = "\n".join(t.get_text() for t in fig.texts)
    assert "not drawn: Nowhere (999)" in text


def test_figure_renders_with_attribution(editions, data_dir: Path) -> None:
    ed = editions["202425"]
    s = score_table(ed, extended=False).set_index("la_code")["overall_score"].copy()
    s.iloc[:3] = np.nan
    fig = plot_hexmap(s, ed, "Overall score, 2024/25", "Overall score", highlight_la="370",
                      data_dir=data_dir)
    assert isinstance(fig, Figure)
    texts = [t.get_text() for t in fig.texts]
    assert any(OPL in t for t in texts)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "No score" in legend and any("Not ranked" in x for x in legend)
    # the highlighted LA is outlined and named in the legend with its label
    assert "Barnsley (BRN), outlined" in legend
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=50)
    assert buf.getvalue()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="999"):
        plot_hexmap(pd.Series({"999": 1.0}), ed, "t", "l", data_dir=data_dir)


def test_edition_map_2019(editions, data_dir: Path) -> None:
    ed = editions["201819"]
    fig = plot_hexmap(ed.score_table.set_index("la_code")["overall_score"], ed, "Overall score", "0-100",
                      data_dir=data_dir)
    text = "\n".join(t.get_text() for t in fig.texts)
    assert "ODI Leeds" in text and "MIT licence" in text
    assert "Poole (836), Bournemouth (837)" in text


def test_la_labels_rule_overrides_and_uniqueness() -> None:
    names = {"302": "Barnet", "370": "Barnsley", "808": "Stockton-on-Tees", "810": "Kingston upon Hull, City of",
             "301": "Barking and Dagenham", "889": "Blackburn with Darwen", "800": "Bath and North East Somerset",
             "342": "St. Helens", "373": "Sheffield", "392": "North Tyneside"}
    lab = la_labels(names)
    assert lab["302"] == "BAR" and lab["370"] == "BRN"  # the lower code keeps the first candidate
    assert lab["808"] == "STE"  # "on" is skipped (quoted in hexmaps.yml: bare on is YAML for true)
    assert lab["810"] == "KHU" and lab["301"] == "BDA" and lab["800"] == "BNE"
    assert lab["342"] == "SHE" and lab["373"] == "SHF"
    assert lab["889"] == "BWD" and lab["392"] == "NTY"  # overrides from hexmaps.yml
    assert len(set(lab.values())) == len(lab) and all(len(v) == 3 and v.isupper() for v in lab.values())
    # an LA's label does not depend on LAs with higher codes
    assert la_labels({"302": "Barnet"})["302"] == la_labels({"302": "Barnet", "370": "Barnsley"})["302"]


def test_label_config_refuses_yaml_booleans(tmp_path: Path) -> None:
    text = (REGISTRY_DIR / "hexmaps.yml").read_text(encoding="utf-8")
    bad = tmp_path / "hexmaps.yml"
    bad.write_text(text.replace('skip_words: ["and", "of", "upon", "on",', 'skip_words: ["and", "of", "upon", on,'),
                   encoding="utf-8")
    assert bad.read_text(encoding="utf-8") != text
    with pytest.raises(ConfigError, match="skip_words"):
        parse_hexmaps(bad)


@pytest.mark.parametrize("year,source", [("201819", "hex_odileeds"), ("202425", "hex_hocl")])
def test_every_la_is_labelled_inside_its_shape_with_contrast(editions, data_dir: Path, year: str,
                                                             source: str, tmp_path: Path) -> None:
    ed = editions[year]
    s = score_table(ed, extended=False).set_index("la_code")["overall_score"]
    fig = plot_hexmap(s, ed, "t", "l", highlight_la="370", data_dir=data_dir, vmin=0, vmax=100)
    assert fig.get_layout_engine() is None  # fixed axes: the labels' positions are final
    ax = fig.axes[0]
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    lay = layout_for(ed.geography, source, year=year, data_dir=data_dir)
    t = lay.table[lay.table["la_code"].notna()]
    # London's labels are drawn in its enlarged inset where its shapes are small (House of Commons Library)
    texts = [(a, x) for a in fig.axes for x in a.texts if x.get_gid() == "hex-label"]
    by_label = {x.get_text(): x for _, x in texts}
    axes_of = {x.get_text(): a for a, x in texts}
    assert len(by_label) == len(texts)  # one label per LA, never repeated
    london = t["ons_code"].astype(str).str.startswith("E09") & t["in_index"]
    inset = {a for a, _ in texts} - {ax}
    assert len(inset) == (1 if source == "hex_hocl" else 0)
    assert set(by_label) <= set(t["label"])
    # ODI Leeds: one whole hex (or strip) per LA, every LA labelled; the House of Commons
    # Library's clusters of small hexes leave a few tiny or broken shapes without a label
    share = len(by_label) / t["la_code"].nunique()
    assert share == 1.0 if source == "hex_odileeds" else share >= 0.95
    for k, row in t.iterrows():
        x = by_label.get(row["label"])
        if x is None:
            continue
        assert H.MIN_LABEL_SIZE <= x.get_fontsize() <= H.LABEL_SIZE
        # readable on the page: at least 9 px high where the chart shows 1050 px wide (the review
        # measured London's labels at about 7 px), and London's at least 11 px in a 1024-px window
        assert x.get_fontsize() / 72 * H.PAGE_PX / fig.get_figwidth() >= 9.0, row["la_name"]
        if london[k]:
            assert x.get_fontsize() / 72 * 943 / fig.get_figwidth() >= 11.0, row["la_name"]
        a = axes_of[row["label"]]
        assert (a is ax) == (not london[k] or not inset), row["la_name"]
        shape = _path(row["polygons"]).transformed(a.transData)
        box = x.get_window_extent(r)
        cx, cy = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
        assert shape.contains_point((cx, cy)), row["la_name"]
        if x.get_rotation() == 0:
            # the capitals (not the line's full height) lie inside the LA's own shape
            half_h = H.CAP_HEIGHT * x.get_fontsize() * fig.dpi / 72 / 2
            corners = [(box.x0 + 1, cy - half_h), (box.x1 - 1, cy - half_h), (box.x0 + 1, cy + half_h),
                       (box.x1 - 1, cy + half_h)]
            assert shape.contains_points(corners).all(), row["la_name"]
        face = _face_of(a, row["polygons"])
        assert _contrast(x.get_color(), face) >= 4.0, (row["la_name"], x.get_color(), face)
    # the legend (naming the outlined LA) sits where it covers no LA's shape
    leg = ax.get_legend().get_window_extent(r)
    assert "Barnsley (BRN), outlined" in [x.get_text() for x in ax.get_legend().get_texts()]
    gx, gy = np.meshgrid(np.linspace(leg.x0, leg.x1, 25), np.linspace(leg.y0, leg.y1, 8))
    probe = np.column_stack([gx.ravel(), gy.ravel()])
    for patch in ax.patches:
        assert not patch.get_path().transformed(patch.get_transform()).contains_points(probe).any()
    # every code on the map is keyed to its LA, below the map on the page and in the alt text's pointer
    from inclusion_index.report.plotting import save_figure
    from inclusion_index.report.render import _with_alt_text

    saved = save_figure(fig, s.reset_index(), tmp_path, "map")
    names = dict(zip(t["label"], t["la_name"], strict=False))
    assert saved.key == sorted((code, names[code]) for code in by_label)
    assert f"The key below the map gives the LA for each of its {len(by_label)} codes." in saved.alt
    _png, meta = saved._repr_png_()
    html = _with_alt_text({"output_type": "display_data", "data": {"image/png": "AAAA"}, "metadata": meta})
    page = html["data"]["text/html"]
    assert "<details><summary>Key: the local authority for each of the map" in page
    for code in ("BAR", "BRN"):
        assert f"<tr><td>{code}</td><td>{names[code]}</td></tr>" in page
    # white on the dark end of the scale, near-black on the light end
    assert H._text_colour((0.267, 0.005, 0.329)) == "#ffffff"
    assert H._text_colour((0.993, 0.906, 0.144)) == H.DARK_TEXT


def _face_of(ax, polys) -> tuple:
    target = _path(polys).vertices
    for p in ax.patches:
        if p.get_facecolor()[3] > 0 and len(p.get_path().vertices) == len(target) and \
                np.allclose(p.get_path().vertices, target):
            return p.get_facecolor()
    raise AssertionError("no patch for the shape")


def _contrast(a, b) -> float:
    from matplotlib.colors import to_rgb

    def lum(c) -> float:
        rgb = np.asarray(to_rgb(c))
        lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
        return float(lin @ [0.2126, 0.7152, 0.0722])

    hi, lo = sorted([lum(a), lum(b)], reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _gp_polygon(ring: list[tuple[float, float]], envelope: bool = True) -> bytes:
    flags = 0b00000011 if envelope else 0b00000001
    head = b"GP" + bytes([0, flags]) + struct.pack("<i", 27700)
    if envelope:
        xs, ys = [p[0] for p in ring], [p[1] for p in ring]
        head += struct.pack("<4d", min(xs), max(xs), min(ys), max(ys))
    wkb = struct.pack("<BII", 1, 3, 1) + struct.pack("<I", len(ring))
    wkb += b"".join(struct.pack("<2d", *p) for p in ring)
    multi = struct.pack("<BII", 1, 6, 1) + wkb
    return head + multi


def test_gpkg_geometry_parser() -> None:
    ring = [(0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0), (0.0, 0.0)]
    for env in (True, False):
        polys = parse_gpkg_geometry(_gp_polygon(ring, env))
        assert len(polys) == 1 and np.allclose(polys[0][0], ring)
    assert _centroid(parse_gpkg_geometry(_gp_polygon(ring))) == pytest.approx((1.0, 1.0))
    with pytest.raises(ValueError, match="GP"):
        parse_gpkg_geometry(b"XX" + bytes(30))


def test_broken_files_name_the_file(data_dir: Path, tmp_path: Path) -> None:
    mirror = mirror_with(data_dir, tmp_path / "a", {HOCL: b"not a database at all" * 100})
    with pytest.raises(SchemaError, match=r"hocl_LocalAuthorities-uppertier-2023\.gpkg"):
        load_hexes("hex_hocl", mirror)
    doc = (data_dir / ODI).read_text(encoding="utf-8").replace('"q"', '"col"', 1)
    mirror = mirror_with(data_dir, tmp_path / "b", {ODI: doc.encode()})
    with pytest.raises(SchemaError, match=r"odileeds_uk-upper-tier-local-authorities\.hexjson.*q"):
        load_hexes("hex_odileeds", mirror)
