"""Hex-map files: the cartograms data/registry/hexmaps.yml registers, read into polygons.

ODI Leeds' hexjson of the 2019-20 upper-tier LAs and the House of Commons Library's GeoPackage
of April 2023 upper-tier LAs. The GeoPackage is read with the standard library's sqlite3 and its
geometry blobs (GeoPackage header + WKB polygons) are parsed here, so no GIS dependency is
needed. report/hexmap.py places a geography on these shapes and draws them.
"""

from __future__ import annotations

import json
import sqlite3
import struct
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inclusion_index.config import covering, run_settings
from inclusion_index.errors import SchemaError
from inclusion_index.paths import data_dir as default_data_dir
from inclusion_index.sources.geography import check_year_key
from inclusion_index.sources.loaders.base import LoadContext
from inclusion_index.sources.registry import Registry, load_registry

Polygon = list[np.ndarray]  # outer ring then holes, each an (n, 2) array


@dataclass(frozen=True)
class HexShapes:
    """The shapes of one cartogram file: polygons per area code, in the file's own units."""

    source_id: str
    path: str
    shapes: dict[str, list[Polygon]]
    names: dict[str, str]


def hexmap_for(final_year: str) -> str:
    """The hexmap source id hexmaps.yml assigns to an edition's final year."""
    return covering(run_settings().hexmaps.maps, check_year_key(final_year), "hexmaps.yml", "hexmaps")


def load_hexes(source_id: str, data_dir: Path | None = None, registry: Registry | None = None) -> HexShapes:
    """Polygons per area code of a registered cartogram (hexjson or GeoPackage)."""
    ctx = LoadContext(data_dir=Path(data_dir) if data_dir else default_data_dir(), registry=registry or load_registry())
    cfg = run_settings().hexmaps.get(source_id)
    src = ctx.source(source_id)
    path = ctx.path(source_id)
    if cfg.format == "hexjson":
        shapes, names = _read_hexjson(path, src.path)
    else:
        shapes, names = _read_gpkg(path, src.path, cfg.layer, cfg.code_field, cfg.name_field, cfg.code_prefix)
    if not shapes:
        raise SchemaError(src.path, "no areas in the cartogram", expected="one shape per upper-tier LA")
    return HexShapes(source_id=source_id, path=src.path, shapes=shapes, names=names)


def _read_hexjson(path: Path, file: str) -> tuple[dict[str, list[Polygon]], dict[str, str]]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SchemaError(file, f"not valid JSON ({e})", expected="a hexjson document") from e
    layout = doc.get("layout") if isinstance(doc, dict) else None
    hexes = doc.get("hexes") if isinstance(doc, dict) else None
    if layout not in ("odd-r", "even-r", "odd-q", "even-q"):
        raise SchemaError(file, f"unknown hexjson layout {layout!r}", column="layout",
                          expected="odd-r, even-r, odd-q or even-q")
    if not isinstance(hexes, dict) or not hexes:
        raise SchemaError(file, "no 'hexes' mapping", column="hexes", expected="{code: {q, r, n}}")
    shapes, names = {}, {}
    for code, h in hexes.items():
        try:
            q, r = int(h["q"]), int(h["r"])
        except (KeyError, TypeError, ValueError) as e:
            raise SchemaError(file, f"hex {code!r} lacks integer q/r coordinates", column="q, r",
                              expected="integer column q and row r for every hex") from e
        shapes[code] = [[_hex_ring(q, r, layout)]]
        names[code] = str(h.get("n") or h.get("name") or code)
    return shapes, names


def _hex_ring(q: int, r: int, layout: str) -> np.ndarray:
    """Corners of one hex, centre-to-centre distance 1; rows count northwards as in the file."""
    if layout.endswith("-r"):  # pointy-topped, alternate rows shifted half a hex to the right
        shifted = (r % 2 == 1) if layout == "odd-r" else (r % 2 == 0)
        cx, cy = q + (0.5 if shifted else 0.0), r * np.sqrt(3) / 2
        angles = np.deg2rad(np.arange(6) * 60 + 30)
    else:  # flat-topped, alternate columns shifted half a hex up
        shifted = (q % 2 == 1) if layout == "odd-q" else (q % 2 == 0)
        cx, cy = q * np.sqrt(3) / 2, r + (0.5 if shifted else 0.0)
        angles = np.deg2rad(np.arange(6) * 60)
    s = 1 / np.sqrt(3)
    return np.column_stack([cx + s * np.cos(angles), cy + s * np.sin(angles)])


def _read_gpkg(path: Path, file: str, layer: str, code_field: str, name_field: str,
               prefix: str) -> tuple[dict[str, list[Polygon]], dict[str, str]]:
    # immutable: the data folder is read-only and nothing else writes to it while we read
    uri = path.resolve().as_uri() + "?mode=ro&immutable=1"
    try:
        with closing(sqlite3.connect(uri, uri=True)) as con:
            layers = [r[0] for r in con.execute("SELECT table_name FROM gpkg_geometry_columns")]
            row = con.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?",
                              (layer,)).fetchone()
            if row is None:
                raise SchemaError(file, f"no feature layer {layer!r}", expected=f"one of {layers}")
            geom_col = row[0]
            cols = [r[1] for r in con.execute(f'PRAGMA table_info("{layer}")')]
            for c in (code_field, name_field):
                if c not in cols:
                    raise SchemaError(file, f"layer {layer!r} lacks a field", column=c,
                                      expected=f"fields {code_field!r} and {name_field!r} (found {cols})")
            rows = con.execute(f'SELECT "{code_field}", "{name_field}", "{geom_col}" FROM "{layer}"').fetchall()
    except sqlite3.DatabaseError as e:
        raise SchemaError(file, f"not a readable GeoPackage ({e})", expected="an SQLite GeoPackage") from e
    shapes: dict[str, list[Polygon]] = {}
    names: dict[str, str] = {}
    for code, name, blob in rows:
        if not isinstance(code, str) or not code.startswith(prefix):
            continue
        try:
            polys = parse_gpkg_geometry(blob)
        except (ValueError, struct.error) as e:
            raise SchemaError(file, f"geometry of {code} cannot be read ({e})", column=geom_col,
                              expected="GeoPackage binary polygons") from e
        shapes.setdefault(code, []).extend(polys)
        names[code] = str(name)
    return shapes, names


def parse_gpkg_geometry(blob: bytes) -> list[Polygon]:
    """Polygons of a GeoPackage geometry blob: 'GP' header, optional envelope, then WKB."""
    if not isinstance(blob, bytes | bytearray | memoryview) or bytes(blob[:2]) != b"GP":
        raise ValueError("no GeoPackage 'GP' header")
    flags = blob[3]
    envelope = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}.get((flags >> 1) & 0b111)
    if envelope is None:
        raise ValueError(f"invalid envelope code in flags {flags:#04x}")
    if flags & 0b10000:  # empty geometry
        return []
    polys, _ = _read_wkb(memoryview(blob), 8 + envelope)
    return polys


def _read_wkb(buf: memoryview, off: int) -> tuple[list[Polygon], int]:
    order = "<" if buf[off] == 1 else ">"
    (gtype,) = struct.unpack_from(order + "I", buf, off + 1)
    off += 5
    # ISO WKB adds 1000/2000/3000 for Z/M/ZM; EWKB sets high bits instead (and may add an SRID)
    has_z = bool(gtype & 0x80000000) or (gtype % 10000) // 1000 in (1, 3)
    has_m = bool(gtype & 0x40000000) or (gtype % 10000) // 1000 in (2, 3)
    if gtype & 0x20000000:
        off += 4
    base = (gtype & 0x0FFFFFFF) % 1000
    dims = 2 + int(has_z) + int(has_m)
    if base == 3:
        (nrings,) = struct.unpack_from(order + "I", buf, off)
        off += 4
        rings = []
        for _ in range(nrings):
            (npts,) = struct.unpack_from(order + "I", buf, off)
            off += 4
            pts = np.frombuffer(buf, dtype=order + "f8", count=npts * dims, offset=off).reshape(npts, dims)
            off += 8 * npts * dims
            rings.append(np.array(pts[:, :2], dtype=float))
        return [rings], off
    if base in (6, 7):  # multipolygon, geometry collection
        (n,) = struct.unpack_from(order + "I", buf, off)
        off += 4
        polys: list[Polygon] = []
        for _ in range(n):
            sub, off = _read_wkb(buf, off)
            polys.extend(sub)
        return polys, off
    raise ValueError(f"WKB geometry type {gtype} is not a polygon")


__all__ = ["HexShapes", "Polygon", "hexmap_for", "load_hexes", "parse_gpkg_geometry"]
