"""Run settings: every data/registry/*.yml parsed once into frozen dataclasses, in the only
module that reads YAML, with the environment's overrides of settings (paths are paths.py's).

:func:`run_settings` caches :func:`load_run_settings` for the process and ``build_edition``
hands it to the edition (``ed.run``). Parsers name the file and key they refuse. Dataclasses
may hold dicts: a mapping proxy would be immutable but cannot be pickled with the edition.
"""

from __future__ import annotations

import dataclasses
import math
import os
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from inclusion_index.errors import ConfigError
from inclusion_index.index.scoring import AREAS
from inclusion_index.paths import REGISTRY_DIR


def read_yaml_file(path: Path, what: str) -> Any:
    """The parsed file ({} when empty), or a ConfigError naming the file."""
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"{path}: cannot read {what} ({e})") from e


def _convert(tp: Any, v: Any) -> Any:
    """``v`` as a field of type ``tp``: bool, int, float, str, optionals, tuples, lists and dicts of them."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if v is None:
        return None
    if isinstance(tp, types.UnionType):
        return _convert(next(a for a in args if a is not type(None)), v)
    if origin in (tuple, list):
        return origin(_convert(args[0], x) for x in v)
    if origin is dict:
        return {k: _convert(args[1], x) for k, x in v.items()}
    return tp(v)


def _typed(cls: type, raw: dict, where: object, **special: Callable[[Any], Any]) -> dict[str, Any]:
    """``raw`` as keyword arguments of ``cls``, each converted to its field's type (or by ``special``);
    a key that is not a field is refused, naming ``where``; a null keeps the field's default."""
    hints = typing.get_type_hints(cls)
    if unknown := sorted(set(raw) - set(hints)):
        raise ConfigError(f"{where}: unknown key(s) {unknown}")
    return {k: special[k](v) if k in special else _convert(hints[k], v) for k, v in raw.items() if v is not None}


# --------------------------------------------------------------------------- uncertainty.yml

CHOICES: tuple[str, ...] = ("weights", "normalisation", "years", "missing", "sampling", "imputation",
                            "aggregation")
_MODELS = ("binomial", "poisson", "normal", "rounding", "none")


@dataclass(frozen=True)
class SamplingSpec:
    """How one indicator's value is redrawn (see uncertainty.yml ``sampling``)."""

    indicator: str
    model: str = "none"
    scale: float = 100.0
    pupil_sd: float | None = None
    half_unit: float = 0.05
    cohort_measure: str | None = None
    cohort_field: str = "denominator"
    cohort_multiplier: float = 1.0
    # the cohort measure's years used: within this many years of the data year (None: any)
    cohort_max_gap: int | None = None
    # a second cohort (measure, field, multiplier) for LAs the first leaves without a size
    cohort_fallback: tuple[str, str, float] | None = None


@dataclass(frozen=True)
class UncertaintySettings:
    """Everything uncertainty.yml sets. Frozen and hashable, so it keys the edition's cache."""

    enabled: bool = True
    n_draws: int = 500
    seed: int = 20191125
    n_jobs: int = 1
    mp_context: str = "fork"
    interval: float = 0.90
    perturb: tuple[str, ...] = CHOICES
    weights_half_width: float = 0.25
    normalisations: tuple[str, ...] = ("percentile", "zscore", "minmax")
    years: tuple[str, ...] = ("latest", "mean")
    max_missing_indicators: tuple[int, ...] = (1, 2, 3)
    # (f) the count given to a cell suppressed as "1 or 2"; None leaves the cell missing
    imputed_counts: tuple[float | None, ...] = (1.0, 1.5, 2.0, None)
    # (g) how the overall score aggregates: equal weight per indicator (scoring's overall_from
    # "indicators") or per area (the mean of the area scores an LA has)
    aggregations: tuple[str, ...] = ("indicators", "areas")
    z_to_percentile_scale: float = 100.0 / math.sqrt(12.0)
    sensitivity_draws: int = 200
    engine: str = "auto"
    verify_draws: int = 10
    sampling_draw: str = "jeffreys"
    default_cohort: float | None = None
    sampling: tuple[SamplingSpec, ...] = ()
    funnel_levels: tuple[float, ...] = (0.95, 0.998)
    funnel_overdispersion: str = "additive"
    funnel_winsorise: float = 0.10
    # reporting.small_cohort: pupils below which a named figure is flagged as resting on few pupils
    small_cohort: int = 30

    def __post_init__(self) -> None:
        bad_perturb = sorted(set(self.perturb) - set(CHOICES))
        bad_norm = sorted(set(self.normalisations) - {"percentile", "zscore", "minmax"})
        problems = [msg for failed, msg in (
            (self.n_draws < 1, "n_draws must be >= 1"),
            (not 0 < self.interval < 1, "interval must be in (0, 1)"),
            (not 0 <= self.weights_half_width < 1, "weights_half_width must be in [0, 1)"),
            (bool(bad_perturb), f"perturb: unknown choice(s) {bad_perturb}; expected {list(CHOICES)}"),
            (bool(bad_norm) or not self.normalisations, f"normalisations: unknown {bad_norm}"),
            (bool(set(self.years) - {"latest", "mean"}) or not self.years,
             "years must be a non-empty subset of [latest, mean]"),
            (not self.max_missing_indicators or min(self.max_missing_indicators) < 0,
             "max_missing_indicators must be non-negative integers"),
            (not self.imputed_counts or any(c is not None and c <= 0 for c in self.imputed_counts),
             "imputed_counts must be positive counts or null (leave missing)"),
            (not self.aggregations or bool(set(self.aggregations) - {"indicators", "areas"}),
             "aggregations must be a non-empty subset of [indicators, areas]"),
            (self.engine not in ("auto", "score_year"), "engine must be auto or score_year"),
            (self.verify_draws < 0, "verify_draws must be >= 0"),
            (self.sampling_draw not in ("jeffreys", "bootstrap"), "sampling.draw must be jeffreys or bootstrap"),
            (self.funnel_overdispersion not in ("none", "multiplicative", "additive"),
             "funnel.overdispersion must be none, multiplicative or additive"),
        ) if failed]
        problems += [f"sampling {s.indicator}: {msg}" for s in self.sampling for failed, msg in (
            (s.model not in _MODELS, f"model must be one of {_MODELS}"),
            (s.model == "normal" and not (s.pupil_sd and s.pupil_sd > 0), "a normal model needs pupil_sd > 0"),
            (s.cohort_field not in ("value", "denominator"), "cohort field must be value or denominator")) if failed]
        if problems:
            raise ConfigError("uncertainty settings: " + "; ".join(problems))

    def spec(self, indicator: str) -> SamplingSpec:
        return next((s for s in self.sampling if s.indicator == indicator), SamplingSpec(indicator=indicator))

    def replace(self, **changes: Any) -> UncertaintySettings:
        return dataclasses.replace(self, **changes)


def parse_uncertainty(path: Path) -> UncertaintySettings:
    """uncertainty.yml as settings (without the environment's overrides: see :func:`_with_env`)."""
    raw = read_yaml_file(path, "uncertainty settings")
    mc, sm, fn, rep = (dict(raw.get(k) or {}) for k in ("monte_carlo", "sampling", "funnel", "reporting"))
    specs = []
    for ind, s in (sm.pop("indicators", None) or {}).items():
        s = dict(s or {})
        cohort = dict(s.pop("cohort", None) or {})
        fallback = dict(s.pop("cohort_fallback", None) or {})
        unknown = set(s) - {"model", "scale", "pupil_sd", "half_unit"}
        unknown |= {f"cohort.{k}" for k in set(cohort) - {"measure", "field", "multiplier", "max_year_gap"}}
        unknown |= {f"cohort_fallback.{k}" for k in set(fallback) - {"measure", "field", "multiplier"}}
        if fallback and "measure" not in fallback:
            unknown.add("cohort_fallback without a measure")
        if unknown:
            raise ConfigError(f"{path}: sampling.indicators.{ind}: unknown key(s) {sorted(unknown)}")
        cohort = {("cohort_max_gap" if k == "max_year_gap" else f"cohort_{k}"): v for k, v in cohort.items()}
        specs.append(SamplingSpec(str(ind), **_typed(SamplingSpec, {**s, **cohort}, path), cohort_fallback=(
            str(fallback["measure"]), str(fallback.get("field", "denominator")),
            float(fallback.get("multiplier", 1.0))) if fallback else None))
    flat = {**mc, **{("sampling_draw" if k == "draw" else k): v for k, v in sm.items()},
            **{f"funnel_{k}": v for k, v in fn.items()}, **rep}
    return UncertaintySettings(**_typed(UncertaintySettings, flat, path), sampling=tuple(specs))


def _with_env(unc: UncertaintySettings) -> UncertaintySettings:
    """INCLUSION_UNCERTAINTY_DRAWS and INCLUSION_UNCERTAINTY_JOBS override the draws and worker
    count (tests run 50 draws); environment variables, so notebook kernels inherit them."""
    env = {f: int(os.environ[v]) for f, v in (("n_draws", "INCLUSION_UNCERTAINTY_DRAWS"),
                                              ("n_jobs", "INCLUSION_UNCERTAINTY_JOBS")) if os.environ.get(v)}
    return unc.replace(**env) if env else unc


def verify_checksums() -> bool:
    """Whether loading checks every file's sha256 (INCLUSION_VERIFY_CHECKSUMS=0: no, e.g. to try a new
    DfE file before registering it). Read at each call, not cached: tests switch it per test."""
    return os.environ.get("INCLUSION_VERIFY_CHECKSUMS", "1").strip().lower() not in {"0", "false", "no", "off"}


# --------------------------------------------------------------------------- adjustment.yml

_TARGETS: tuple[str, ...] = ("overall", *AREAS)
COVARIATE_COLUMNS = {"deprivation": "idaci", "ehcp_rate": "ehcp_pct_pupils", "log_ehcp_total": "log_ehcp_total"}


@dataclass(frozen=True)
class AdjustmentSettings:
    deprivation: bool = True
    ehcp_rate: bool = True
    log_ehcp_total: bool = False
    ehcp_measure: str = "sen2_ehcp_total"
    ehcp_rate_measure: str = "lait_ehcp_pct_pupils"
    targets: tuple[str, ...] = _TARGETS
    map_boundary_changes: bool = True
    cov_type: str = "HC3"
    min_n: int = 30
    cooks_top: int = 5
    caveat: str = ""
    # per target, covariate switches (keys of COVARIATE_COLUMNS) left out of that target's model
    leave_out: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def __post_init__(self) -> None:
        if bad := set(self.targets) - set(_TARGETS):
            raise ConfigError(f"adjustment settings: unknown target(s) {sorted(bad)}; expected {list(_TARGETS)}")
        if not (self.deprivation or self.ehcp_rate or self.log_ehcp_total):
            raise ConfigError("adjustment settings: at least one covariate must be switched on")
        if self.min_n < 3:
            raise ConfigError("adjustment settings: min_n must be >= 3")

    @property
    def covariates(self) -> list[str]:
        return [col for k, col in COVARIATE_COLUMNS.items() if getattr(self, k)]

    def covariates_for(self, target: str) -> list[str]:
        """The target's covariates: those switched on, less any the target leaves out."""
        out = set(dict(self.leave_out).get(target, ()))
        return [col for k, col in COVARIATE_COLUMNS.items() if getattr(self, k) and k not in out]

    def replace(self, **changes: Any) -> AdjustmentSettings:
        return dataclasses.replace(self, **changes)


def parse_adjustment(path: Path) -> AdjustmentSettings:
    raw = dict(read_yaml_file(path, "adjustment settings"))
    cov = raw.pop("covariates", None) or {}
    if unknown := set(cov) - set(COVARIATE_COLUMNS):
        raise ConfigError(f"{path}: unknown covariate(s) {sorted(unknown)}; expected {list(COVARIATE_COLUMNS)}")
    kw = _typed(AdjustmentSettings, {**cov, **raw}, path, caveat=lambda x: " ".join(str(x).split()),
                leave_out=lambda d: tuple((str(k), tuple(str(c) for c in (v or ()))) for k, v in d.items()))
    if bad := {c for _, cs in kw.get("leave_out", ()) for c in cs} - set(COVARIATE_COLUMNS):
        raise ConfigError(f"{path}: leave_out names unknown covariate(s) {sorted(bad)}; expected "
                          f"{list(COVARIATE_COLUMNS)}")
    return AdjustmentSettings(**kw)


# --------------------------------------------------------------------------- methods/*.yml


@dataclass(frozen=True)
class Method:
    key: str
    name: str
    description: str
    indicators: tuple[str, ...]
    weights: dict[str, float] = field(default_factory=dict)
    measures: dict[str, list[str]] = field(default_factory=dict)
    scoring: dict = field(default_factory=dict)
    substitution: dict = field(default_factory=dict)
    headline: str = "latest"
    deprivation_measure: str = "iod_idaci_avg_score"
    deprivation_year: str = "201920"
    placement: dict = field(default_factory=dict)

    @property
    def placement_recorded_only(self) -> bool:
        """Placement shares over the plans whose placement is recorded (default), else over all plans."""
        return bool(self.placement.get("recorded_only", True))

    @property
    def unrecorded_flag_pct(self) -> float:
        """% of an LA's plans with placement not recorded above which its placement figures are flagged."""
        return float(self.placement.get("flag_unrecorded_above", 10.0))

    @property
    def impute_small_counts(self) -> dict:
        return dict(self.substitution.get("suppressed_small_counts") or {})

    @property
    def carry_forward_years(self) -> int:
        return int(self.substitution.get("carry_forward_years", 0))

    @property
    def min_indicator_coverage(self) -> float:
        return float(self.scoring.get("min_indicator_coverage", 0.5))


def parse_method(path: Path) -> Method:
    """One method file (its key is the file's stem); indicators.load_method checks its
    indicators against indicators.csv."""
    raw = read_yaml_file(path, "method")
    if missing := [k for k in ("name", "indicators") if k not in raw]:
        raise ConfigError(f"{path}: missing key {missing[0]!r}")
    return Method(key=path.stem, **_typed(Method, {"description": "", **raw}, path, description=lambda x: str(x).strip()))


# --------------------------------------------------------------------------- editions.yml


@dataclass(frozen=True)
class EditionSpec:
    """An edition's defaults: its method, number of index years and title."""

    method: str
    years: int
    title: str | None = None


@dataclass(frozen=True)
class EditionsSettings:
    default: EditionSpec
    editions: dict[str, EditionSpec]
    render: tuple[str, ...]

    def spec(self, final_year: str) -> EditionSpec:
        """The listed edition's entry, else the default (a final year not listed)."""
        return self.editions.get(final_year, self.default)


def parse_editions(path: Path) -> EditionsSettings:
    raw = read_yaml_file(path, "editions")
    default = EditionSpec(method=str(raw["default"]["method"]), years=int(raw["default"]["years"]))
    editions = {str(y): EditionSpec(str(e.get("method", default.method)), int(e.get("years", default.years)),
                                    e.get("title")) for y, e in (raw.get("editions") or {}).items()}
    return EditionsSettings(default, editions, tuple(str(e) for e in raw.get("render") or ()))


# --------------------------------------------------------------------------- which file covers a final year


@dataclass(frozen=True)
class Covering:
    """A registry file serving editions whose final year is in [first, last] (open where None)."""

    source: str
    first_final_year: str | None = None
    last_final_year: str | None = None


def covering(entries: tuple[Covering, ...], final_year: str, file: str, what: str) -> str:
    """The one entry's source covering ``final_year``; a ConfigError unless exactly one does."""
    hits = [e.source for e in entries
            if (e.first_final_year or "000000") <= final_year <= (e.last_final_year or "999999")]
    if len(hits) != 1:
        raise ConfigError(f"data/registry/{file}: {len(hits)} {what} cover final year {final_year} "
                          f"({hits}); exactly one must")
    return hits[0]


def _years(m: dict, path: Path, what: str) -> dict[str, str | None]:
    """first/last_final_year as academic year keys (geography.check_year_key's rule), naming the file."""
    out = {k: None if m.get(k) is None else str(m[k]) for k in ("first_final_year", "last_final_year")}
    for k, y in out.items():
        if y is not None and not (len(y) == 6 and y.isdigit() and int(y[4:]) == (int(y[:4]) + 1) % 100):
            raise ConfigError(f"{path}: {what} {k}: academic year key must look like '201819', got {m[k]!r}")
    return out


# --------------------------------------------------------------------------- hexmaps.yml


@dataclass(frozen=True)
class Hexmap(Covering):
    format: str = "hexjson"
    attribution: str = ""
    geography: str = ""
    layer: str | None = None
    code_field: str | None = None
    name_field: str | None = None
    code_prefix: str = ""


@dataclass(frozen=True)
class LabelRules:
    """hexmaps.yml ``labels``: how LA labels are made from names."""

    length: int = 3
    drop_suffixes: tuple[str, ...] = ()
    skip_words: frozenset[str] = frozenset()
    overrides: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class HexmapSettings:
    maps: tuple[Hexmap, ...]
    # LA code -> (group, place): where LAs share a hex, strips run west to east in this order
    strip_order: dict[str, tuple[int, int]]
    labels: LabelRules

    def get(self, source_id: str) -> Hexmap:
        if m := next((m for m in self.maps if m.source == source_id), None):
            return m
        raise ConfigError(f"data/registry/hexmaps.yml has no hexmap {source_id!r}")


def _entries(path: Path, what: str, key: str) -> tuple[dict, list]:
    """The file's mapping and its non-empty ``key`` list, or a ConfigError naming the file."""
    raw = read_yaml_file(path, what)
    entries = raw.get(key) if isinstance(raw, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{path}: expected a mapping with a non-empty {key!r} list")
    return raw, entries


def parse_hexmaps(path: Path) -> HexmapSettings:
    raw, maps = _entries(path, "hex map settings", "hexmaps")
    out = []
    for m in maps:
        for k in ("source", "format", "attribution"):
            if not m.get(k):
                raise ConfigError(f"{path}: hexmap {m.get('source', '?')} lacks {k!r}")
        if m["format"] not in ("hexjson", "gpkg"):
            raise ConfigError(f"{path}: hexmap {m['source']}: format must be hexjson or gpkg")
        if m["format"] == "gpkg" and not all(m.get(k) for k in ("layer", "code_field", "name_field")):
            raise ConfigError(f"{path}: gpkg hexmap {m['source']} needs layer, code_field and name_field")
        where = f"hexmap {m['source']}"
        out.append(Hexmap(**_typed(Hexmap, {**m, **_years(m, path, where)}, f"{path}: {where}")))
    order = {str(code): (i, j) for i, group in enumerate(raw.get("strip_order") or [])
             for j, code in enumerate(group)}
    return HexmapSettings(tuple(out), order, _label_rules(raw.get("labels") or {}, path))


def _label_rules(raw: dict, path: Path) -> LabelRules:
    length = raw.get("length", 3)
    if not isinstance(length, int) or length < 2:
        raise ConfigError(f"{path}: labels.length must be an integer of at least 2")
    overrides = raw.get("overrides") or {}
    if not isinstance(overrides, dict) or not all(isinstance(v, str) and v.strip() for v in overrides.values()):
        raise ConfigError(f"{path}: labels.overrides must map LA codes to non-empty labels")
    words = raw.get("skip_words") or []
    if not all(isinstance(w, str) for w in words):
        # YAML reads a bare on / off / yes / no as a boolean, which would never match a word
        raise ConfigError(f"{path}: labels.skip_words must all be strings (quote on, off, yes, no): {words}")
    if len(set(overrides.values())) < len(overrides):
        raise ConfigError(f"{path}: labels.overrides gives two LAs the same label")
    return LabelRules(length=length, drop_suffixes=tuple(str(x) for x in raw.get("drop_suffixes") or []),
                      skip_words=frozenset(w.lower() for w in words),
                      overrides={str(k).zfill(3): str(v).strip() for k, v in overrides.items()})


# --------------------------------------------------------------------------- neighbours.yml


def parse_neighbours(path: Path) -> tuple[Covering, ...]:
    out = []
    for m in _entries(path, "statistical-neighbour settings", "models")[1]:
        if not m.get("source"):
            raise ConfigError(f"{path}: every model needs a 'source' id")
        out.append(Covering(source=str(m["source"]), **_years(m, path, f"model {m['source']}")))
    return tuple(out)


# --------------------------------------------------------------------------- placement.yml, known_gaps.yml, profiles.yml


@dataclass(frozen=True)
class PlacementSettings:
    """placement.yml: the special-school counts the supply measure can use and breaks in a series."""

    # measure: (short tag for chart labels, what it counts), preferred first on a tie
    supply_counts: dict[str, tuple[str, str]]
    # measure: (first year key on the new definition, what changed)
    series_breaks: dict[str, tuple[str, str]]


def parse_placement(path: Path) -> PlacementSettings:
    raw = read_yaml_file(path, "placement settings")
    return PlacementSettings(
        {c["measure"]: (c["tag"], " ".join(c["counts"].split())) for c in raw["special_school_counts"]},
        {m: (str(b["year"]), " ".join(b["change"].split())) for m, b in (raw.get("series_breaks") or {}).items()})


@dataclass(frozen=True)
class NationalCount:
    """A national count DfE published (data/registry/england_counts.csv) that no raw file holds:
    England's figure comes from it, not from summing school rows a download may lack."""

    census_january: str
    measure: str
    value: float
    publication: str
    url: str


def parse_england_counts(path: Path) -> tuple[NationalCount, ...]:
    import csv

    if not path.exists():
        return ()
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    out = []
    for i, r in enumerate(rows, start=2):
        try:
            out.append(NationalCount(str(r["census_january"]).strip(), r["measure"].strip(),
                                     float(r["value"]), r["publication"].strip(), r["url"].strip()))
        except (KeyError, ValueError, AttributeError) as e:
            raise ConfigError(f"{path}: line {i}: expected census_january, measure, numeric value, "
                              f"publication, url ({e})") from e
    return tuple(out)


@lru_cache(maxsize=1)
def england_decimals(path: Path = REGISTRY_DIR / "england_decimals.csv") -> dict[str, int]:
    """Decimal places DfE publishes each indicator's England figure to (england_decimals.csv),
    so the text quotes England as DfE does (Progress 8 -1.09, not -1.1)."""
    try:
        t = pd.read_csv(path, dtype=str) if path.exists() else pd.DataFrame(columns=["indicator", "decimals"])
        return {i.strip(): int(d) for i, d in zip(t["indicator"], t["decimals"], strict=True)}
    except (KeyError, ValueError) as e:
        raise ConfigError(f"{path}: expected columns indicator, decimals (an integer) ({e})") from e


@dataclass(frozen=True)
class KnownGap:
    """Years in which DfE published no figure for some measures, and why ({year} in ``why``)."""

    measures: tuple[str, ...]
    years: tuple[str, ...]
    why: str


def parse_known_gaps(path: Path) -> tuple[KnownGap, ...]:
    raw = read_yaml_file(path, "known gaps") if path.exists() else {}
    return tuple(KnownGap(tuple(str(m) for m in g.get("measures", [])), tuple(str(y) for y in g.get("years", [])),
                          " ".join(str(g.get("why", "")).split())) for g in raw.get("gaps") or [])


@dataclass(frozen=True)
class MiddleBands:
    """How a profile places an indicator score (a percentile rank x 100) against the middle LA's:
    ``above`` or more, ``below`` or less, or near it between (profiles.yml explains 60/40)."""

    middle: float = 50.0
    above: float = 60.0
    below: float = 40.0

    def __post_init__(self) -> None:
        if not self.below < self.middle < self.above:
            raise ValueError(f"MiddleBands needs below < middle < above, got {self.below}, {self.middle}, "
                             f"{self.above}")

    def label(self, score: float | None) -> str:
        if score is None or pd.isna(score):
            return "–"  # la_summary.MISSING
        return f"{'above' if score >= self.above else 'below' if score <= self.below else 'near'} the middle"

    def explanation(self) -> str:
        return (f"\"Against the middle LA\" compares each indicator score with {self.middle:g}, the middle LA's: "
                f"above the middle means {self.above:g} or more (more inclusive than about {self.above:g}% of "
                f"LAs on that indicator), below the middle {self.below:g} or less, near the middle anything "
                "between.")


def parse_profiles(path: Path) -> MiddleBands:
    """The bands from profiles.yml (the defaults above if the file has none)."""
    raw = read_yaml_file(path, "profile settings") if path.exists() else {}
    return MiddleBands(**{k: float(v) for k, v in (raw.get("middle_bands") or {}).items()})


# --------------------------------------------------------------------------- measure_labels.csv


@dataclass(frozen=True)
class MeasureLabel:
    """What an indicator is called while it uses a measure: the same indicator (e.g. 16-17 NEET)
    means different things under different measures, so its reader labels follow the measure an
    edition actually used, not the indicator code."""

    measure: str
    name: str
    short_name: str
    note: str


def parse_measure_labels(path: Path) -> dict[str, MeasureLabel]:
    """measure -> label from measure_labels.csv ({} when the file is absent: indicators then keep
    the names of indicators.csv)."""
    if not path.exists():
        return {}
    t = pd.read_csv(path, dtype=str, keep_default_na=False)
    need = {"measure", "name", "short_name", "note"}
    if not need <= set(t.columns):
        raise ConfigError(f"{path}: expected columns {sorted(need)}, got {list(t.columns)}")
    if t["measure"].duplicated().any():
        raise ConfigError(f"{path}: measures listed twice: {sorted(set(t.loc[t['measure'].duplicated(), 'measure']))}")
    blank = t.loc[(t["name"].str.strip() == "") | (t["short_name"].str.strip() == ""), "measure"]
    if len(blank):
        raise ConfigError(f"{path}: measures without a name or short_name: {list(blank)}")
    return {r.measure: MeasureLabel(r.measure, r.name.strip(), r.short_name.strip(), r.note.strip())
            for r in t.itertuples()}


# --------------------------------------------------------------------------- the whole run


@dataclass(frozen=True)
class RunSettings:
    """Every registry settings file of one run, parsed once (sources.yml stays sources.py's Registry)."""

    uncertainty: UncertaintySettings
    adjustment: AdjustmentSettings
    methods: dict[str, Method]
    editions: EditionsSettings
    hexmaps: HexmapSettings
    neighbours: tuple[Covering, ...]
    placement: PlacementSettings
    known_gaps: tuple[KnownGap, ...]
    middle_bands: MiddleBands
    registry_dir: Path = REGISTRY_DIR
    # measure -> reader labels of an indicator using it (measure_labels.csv)
    measure_labels: dict[str, MeasureLabel] = field(default_factory=dict)


def load_run_settings(registry_dir: Path = REGISTRY_DIR) -> RunSettings:
    """Parse every settings file of ``registry_dir`` once, with the environment's overrides."""
    d = Path(registry_dir)
    return RunSettings(
        uncertainty=_with_env(parse_uncertainty(d / "uncertainty.yml")),
        adjustment=parse_adjustment(d / "adjustment.yml"),
        methods={p.stem: parse_method(p) for p in sorted((d / "methods").glob("*.yml"))},
        editions=parse_editions(d / "editions.yml"),
        hexmaps=parse_hexmaps(d / "hexmaps.yml"),
        neighbours=parse_neighbours(d / "neighbours.yml"),
        placement=parse_placement(d / "placement.yml"),
        known_gaps=parse_known_gaps(d / "known_gaps.yml"),
        middle_bands=parse_profiles(d / "profiles.yml"),
        registry_dir=d,
        measure_labels=parse_measure_labels(d / "measure_labels.csv"))


@lru_cache(maxsize=1)
def run_settings() -> RunSettings:
    """This process's run settings (the project registry), parsed on first use."""
    return load_run_settings()

