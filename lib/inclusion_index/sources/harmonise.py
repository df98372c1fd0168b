"""One validated long table of every input, LA × academic year × measure.

Each loader's output is cached as Parquet under data/cache, keyed by the sha256 of the raw
files it reads and the source code that parses them, so an unchanged file is parsed once.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pandas as pd

from inclusion_index.config import verify_checksums
from inclusion_index.errors import SchemaError, UnknownLACodeError
from inclusion_index.paths import CACHE_DIR, REGISTRY_DIR, write_atomic
from inclusion_index.sources import parsing
from inclusion_index.sources.derived import add_derived_measures
from inclusion_index.sources.geography import (
    NATIONAL_CODE,
    LAReference,
    boundary_edges,
    load_la_reference,
    reachable,
)
from inclusion_index.sources.loaders import base, check_registry, loader_names
from inclusion_index.sources.registry import Registry, load_registry, sha256_of, verify_checksum


@dataclass
class LoadReport:
    seconds: dict[str, float] = field(default_factory=dict)
    cached: dict[str, bool] = field(default_factory=dict)


def measures_table(families: list[str] | None = None) -> pd.DataFrame:
    """Declared measures (data/registry/measures/<name>.csv) of the given loader families; by
    default of every family and of the derived measures (measures/derived.csv)."""
    frames = []
    for name in families or [*loader_names(), "derived"]:
        p = REGISTRY_DIR / "measures" / f"{name}.csv"
        try:
            m = pd.read_csv(p, dtype=str, keep_default_na=False)
        except (FileNotFoundError, pd.errors.ParserError) as e:
            raise SchemaError(f"data/registry/measures/{name}.csv", f"cannot read measure declarations ({e})") from e
        m["loader"] = p.stem
        frames.append(m)
    out = pd.concat(frames, ignore_index=True)
    dup = out["measure"][out["measure"].duplicated()]
    if len(dup):
        raise SchemaError("data/registry/measures", "measure declared twice", column="measure",
                          expected=f"unique codes, got {sorted(set(dup))}")
    for c in ("min", "max"):
        out[c] = pd.to_numeric(out[c].replace("", None))
    return out


def _code_fingerprint(module) -> str:
    h = hashlib.sha256()
    for m in (module, base, parsing):
        h.update(inspect.getsource(m).encode())
    mfile = REGISTRY_DIR / "measures" / f"{module.__name__.rsplit('.', 1)[-1]}.csv"
    if mfile.exists():
        h.update(mfile.read_bytes())
    return h.hexdigest()[:16]


def _cache_key(module, ctx: base.LoadContext) -> str:
    h = hashlib.sha256(_code_fingerprint(module).encode())
    for sid in module.sources(ctx.registry):
        src = ctx.registry[sid]
        # how a file is read (format, release date) is part of the parse, like its bytes
        h.update(f"{sid}|{src.format}|{src.published}|{src.release}|{src.years}".encode())
        h.update(_file_digest(ctx.path(sid)).encode())
    return h.hexdigest()[:20]


_DIGESTS: dict[tuple[str, int, int], str] = {}


def _file_digest(path: Path) -> str:
    """sha256 of a file, remembered per (path, size, mtime) within a process."""
    st = path.stat()
    k = (str(path), st.st_size, st.st_mtime_ns)
    if k not in _DIGESTS:
        _DIGESTS[k] = sha256_of(path)
    return _DIGESTS[k]


def code_and_data_digest(data_dir: Path, registry: Registry | None = None) -> str:
    """Changes whenever the package's code, the registry or any registered raw file changes."""
    h = hashlib.sha256()
    for p in sorted([*Path(__file__).resolve().parents[1].rglob("*.py"), *REGISTRY_DIR.rglob("*")]):
        if p.is_file():
            h.update(p.name.encode())
            h.update(p.read_bytes())
    for s in (registry or load_registry()).sources:
        p = Path(data_dir) / s.path
        h.update(_file_digest(p).encode() if p.exists() else b"missing")
    return h.hexdigest()[:20]


def cache_path(name: str, ctx: base.LoadContext, cache_dir: Path | None = None) -> Path:
    module = importlib.import_module(f"inclusion_index.sources.loaders.{name}")
    return (cache_dir or CACHE_DIR) / "harmonised" / f"{name}-{_cache_key(module, ctx)}.parquet"


def load_source_family(name: str, ctx: base.LoadContext, *, use_cache: bool = True,
                       cache_dir: Path | None = None) -> tuple[pd.DataFrame, bool]:
    """One family's table and whether it came from the cache (load_inputs writes the cache once the
    whole table is validated)."""
    module = importlib.import_module(f"inclusion_index.sources.loaders.{name}")
    if verify_checksums():
        # the cache key hashes every file anyway, so checking it against the registry is free:
        # a file edited in place must not feed reports that cite the registered one
        for sid in module.sources(ctx.registry):
            path = ctx.path(sid)
            verify_checksum(ctx.registry[sid], path, digest=_file_digest(path))
    path = cache_path(name, ctx, cache_dir)
    if use_cache and path.exists():
        try:
            return pd.read_parquet(path), True
        except Exception:  # a damaged cache entry is a miss: the raw files are the truth
            pass
    return module.load(ctx), False


def _timed_family(name: str, ctx: base.LoadContext, use_cache: bool,
                  cache_dir: Path | None) -> tuple[pd.DataFrame, bool, float]:
    t0 = time.perf_counter()
    return (*load_source_family(name, ctx, use_cache=use_cache, cache_dir=cache_dir), time.perf_counter() - t0)


def validate_long(df: pd.DataFrame, ref: LAReference, measures: pd.DataFrame) -> pd.DataFrame:
    """Schema, known LA codes, declared measures, ranges, unique keys, England consistency."""
    import pandera.pandas as pa  # 1.5 s of imports (hypothesis): only when a table is validated

    schema = pa.DataFrameSchema({
        "level": pa.Column("string", pa.Check.isin(["national", "regional", "la"])),
        "la_code": pa.Column("string", nullable=False), "la_name": pa.Column("string", nullable=True),
        "year": pa.Column("string", pa.Check.str_matches(r"^\d{6}$")), "measure": pa.Column("string"),
        "value": pa.Column("float64", nullable=True), "numerator": pa.Column("float64", nullable=True),
        "denominator": pa.Column("float64", nullable=True), "missing_reason": pa.Column("string", nullable=True),
        "source": pa.Column("string")}, strict=True, coerce=False)
    try:
        schema.validate(df, lazy=False)
    except pa.errors.SchemaError as e:
        src = df["source"].iloc[0] if len(df) else "?"
        raise SchemaError(src, f"long table fails its schema: {e}") from e
    la = df[df["level"] == "la"]
    if (r := base.first_row(la, ~la["la_code"].isin(ref.known_codes()))) is not None:
        raise UnknownLACodeError(
            _file_of(r["source"]), f"unknown LA code {r['la_code']!r} ({r['la_name']})", column="la_code",
            year=r["year"], expected="a 3-digit DfE LA code in la_lookup/las.csv; add boundary changes to "
            "data/registry/boundary_changes.csv")
    _check_la_coverage(la, ref)
    declared = measures.set_index("measure")
    if (r := base.first_row(df, ~df["measure"].isin(declared.index))) is not None:
        raise SchemaError(_file_of(r["source"]), f"measure {r['measure']!r} is not declared",
                          column="measure", expected="an entry in data/registry/measures/")
    lo = df["measure"].map(declared["min"])
    hi = df["measure"].map(declared["max"])
    if (r := base.first_row(df, (df["value"] < lo) | (df["value"] > hi))) is not None:
        raise SchemaError(
            _file_of(r["source"]), f"value {r['value']:g} out of range for {r['measure']} ({r['la_name']})",
            column=declared.loc[r["measure"], "source_column"] or r["measure"], year=r["year"],
            expected=f"{declared.loc[r['measure'], 'min']:g} to {declared.loc[r['measure'], 'max']:g}")
    # denominators are pupil counts; numerators are counts except for mean scores, whose
    # numerator is a total of scores that can be negative (Progress 8)
    counted = df["measure"].map(declared["unit"]).isin(["percent", "rate", "count"])
    for part in ("numerator", "denominator"):
        if (r := base.first_row(df, (df[part] < 0) & (counted if part == "numerator" else True))) is not None:
            raise SchemaError(
                _file_of(r["source"]), f"negative {part} {r[part]:g} for {r['measure']} ({r['la_name']})",
                column=f"{part} of {r['measure']} (from {declared.loc[r['measure'], 'source_column'] or r['measure']})",
                year=r["year"], expected="a count of 0 or more")
    dups = df.duplicated(["level", "la_code", "year", "measure"], keep=False)
    if (r := base.first_row(df, dups)) is not None:
        raise SchemaError(
            _file_of(r["source"]), f"duplicate rows for LA {r['la_code']} ({r['la_name']}), {r['measure']}",
            column="la_code", year=r["year"], expected="one row per LA, year and measure")
    _check_england_totals(df, declared)
    return df


def _check_la_coverage(la: pd.DataFrame, ref: LAReference) -> None:
    """Every LA of a year's geography appears in each (source, year, measure), so a file cut on a row
    boundary cannot pass as "not in source"; a boundary relative stands in for an LA (a source may use
    its publication's geography: BCP for Bournemouth + Poole + Dorset). City of London and the Isles
    of Scilly, which the index does not rank, may be absent."""
    succ, pred = boundary_edges(ref.changes, "successor"), boundary_edges(ref.changes, "predecessor")
    expected_by_year = {y: set(ref.geography_for_year(y)["la_code"]) for y in la["year"].unique()}
    relatives: dict[str, set[str]] = {}
    for (src, y, m), codes in la.groupby(["source", "year", "measure"], sort=True)["la_code"]:
        have = set(codes)
        lost = []
        for c in sorted(expected_by_year[y] - have):
            if c not in relatives:
                relatives[c] = set(reachable(c, succ)) | set(reachable(c, pred))
            if not relatives[c] & have:
                lost.append(c)
        if lost:
            names = ref.names()
            shown = ", ".join(f"{c} {names.get(c, '')}".strip() for c in lost[:8])
            raise SchemaError(
                _file_of(src), f"{len(lost)} {'LAs have' if len(lost) > 1 else 'LA has'} no rows for {m}: "
                f"{shown}{' …' if len(lost) > 8 else ''}", column="LA code", year=y,
                expected=f"a row for every LA in the January {int(y[:4]) + 1} geography (the file may be cut "
                "short or rows deleted; re-fetch it)")


def _file_of(source_id: str) -> str:
    try:
        return load_registry()[source_id].path
    except KeyError:
        return source_id


def _check_england_totals(df: pd.DataFrame, declared: pd.DataFrame, tolerance: float = 0.02) -> None:
    """For additive counts, the LAs must add up to England (within rounding and suppression)."""
    additive = declared.index[declared["additive"].str.lower() == "true"]
    sub = df[df["measure"].isin(additive)]
    if sub.empty:
        return
    nat = sub[sub["level"] == "national"].set_index(["measure", "year"])["value"]
    las = sub[sub["level"] == "la"].groupby(["measure", "year"])["value"].sum(min_count=1)
    both = pd.concat({"england": nat, "las": las}, axis=1).dropna()
    off = both[(both["las"] - both["england"]).abs() > tolerance * both["england"].abs()]
    if len(off):
        (m, y), r = next(iter(off.iterrows()))
        src = sub[(sub["measure"] == m) & (sub["year"] == y)]["source"].iloc[0]
        raise SchemaError(
            _file_of(src), f"LA values for {m} add up to {r['las']:,.0f}, England says {r['england']:,.0f}",
            column=declared.loc[m, "source_column"] or m, year=y,
            expected=f"LA total within {tolerance:.0%} of England")


def load_inputs(data_dir: Path, *, use_cache: bool = True, cache_dir: Path | None = None,
                families: list[str] | None = None, registry: Registry | None = None,
                report: LoadReport | None = None, log: Callable[[str], None] | None = None,
                jobs: int = 1) -> pd.DataFrame:
    """The harmonised long table with LA ONS code and region attached, validated; ``jobs`` forked
    processes read the families (they are independent: a cold read then uses both cores)."""
    registry = registry or load_registry()
    check_registry(registry)
    ctx = base.LoadContext(data_dir=Path(data_dir), registry=registry)
    ref = load_la_reference(Path(data_dir))
    families = families or loader_names()
    report, log = report if report is not None else LoadReport(), log or (lambda _: None)
    # the finished table too, so a warm run neither re-reads each family nor re-validates; the
    # key holds every file's sha256 and the registry's checksums, hence no separate check on a hit
    key = hashlib.sha256(repr((code_and_data_digest(data_dir, registry), registry.sources, families,
                               verify_checksums())).encode()).hexdigest()[:20]
    whole = (cache_dir or CACHE_DIR) / "harmonised" / f"long-{key}.parquet"
    if use_cache and whole.exists():
        try:
            long = pd.read_parquet(whole)
        except Exception:  # a damaged entry is a miss, as for a family
            pass
        else:
            report.seconds.update(dict.fromkeys(families, 0.0))
            report.cached.update(dict.fromkeys(families, True))
            log(f"{'all sources':18s} {len(long):8,d} rows  cache (validated)")
            return long
    measures = measures_table([*families, "derived"])
    frames, to_cache = [], []
    read = partial(_timed_family, ctx=ctx, use_cache=use_cache, cache_dir=cache_dir)
    if jobs > 1 and "fork" in multiprocessing.get_all_start_methods():
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            results = list(pool.map(read, families))
    else:
        results = map(read, families)
    for name, (df, hit, seconds) in zip(families, results, strict=True):
        report.seconds[name], report.cached[name] = seconds, hit
        log(f"{name:18s} {len(df):8,d} rows  {'cache' if hit else 'parsed'}")
        frames.append(df)
        if use_cache and not hit:
            to_cache.append((df, cache_path(name, ctx, cache_dir)))
    # derived before validation, so their declared ranges are checked like every other measure's
    long = add_derived_measures(pd.concat(frames, ignore_index=True))
    validate_long(long, ref, measures)
    # cached only once validated: a file that fails validation leaves no cache entry behind
    for df, path in to_cache:
        write_atomic(path, lambda tmp, df=df: df.to_parquet(tmp, index=False))
    long = attach_geography(long, ref)
    if use_cache:
        write_atomic(whole, lambda tmp: long.to_parquet(tmp, index=False))
    return long


def attach_geography(long: pd.DataFrame, ref: LAReference) -> pd.DataFrame:
    spells = ref.table.drop_duplicates("la_code", keep="last").set_index("la_code")
    out = long.copy()
    is_la = out["level"] == "la"
    out["ons_code"] = out["la_code"].map(spells["ons_code"]).where(is_la, out["la_code"])
    out.loc[out["level"] == "national", "ons_code"] = NATIONAL_CODE
    out["region"] = out["la_code"].map(spells["region_group"]).where(is_la)
    names = out["la_code"].map(spells["la_name"])
    out["la_name"] = names.where(is_la & names.notna(), out["la_name"]).astype("string")
    return out


def coverage(long: pd.DataFrame) -> pd.DataFrame:
    """measure × year × number of LAs with a value (and without, with the commonest reason)."""
    la = long[long["level"] == "la"]
    # a filled cell's reason ('fallback <measure>: ...') says where its value is from, not why it is missing
    la = la.assign(missing_reason=la["missing_reason"].where(la["value"].isna()))
    g = la.groupby(["measure", "year"])
    return pd.DataFrame({
        "las_with_value": g["value"].count(), "las_missing": g["value"].apply(lambda s: int(s.isna().sum())),
        "top_missing_reason": g["missing_reason"].agg(lambda s: s.dropna().mode().iloc[0] if s.notna().any()
                                                      else ""),
        "source": g["source"].agg(lambda s: ", ".join(sorted(set(s))))}).reset_index()


def coverage_matrix(long: pd.DataFrame) -> pd.DataFrame:
    cov = coverage(long)
    return cov.pivot(index="measure", columns="year", values="las_with_value").fillna(0).astype(int)
