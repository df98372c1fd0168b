"""The source registry (data/registry/sources.yml): what each raw file is, and fetching it. An entry
names the ``loader`` module and ``format`` reading it, and ``published`` orders releases covering the
same years (docs/DATA_LOG.md, "Which loader reads which file").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from inclusion_index.config import read_yaml_file
from inclusion_index.errors import ChecksumError, ConfigError, MissingSourceError
from inclusion_index.paths import REGISTRY_DIR, write_atomic

# most files are DfE's own; sources.yml names the publisher of the others
DEFAULT_PUBLISHER = "Department for Education"
REQUIRED_FIELDS = ("id", "path", "dataset", "publication", "release", "years", "licence", "sha256")


@dataclass(frozen=True)
class Source:
    id: str
    path: str
    dataset: str
    publication: str
    release: str
    years: str
    licence: str
    sha256: str
    url: str | None = None
    derived: bool = False
    bytes: int | None = None
    loader: str | None = None
    format: str | None = None
    published: str | None = None
    publisher: str = DEFAULT_PUBLISHER


@dataclass(frozen=True)
class Registry:
    sources: tuple[Source, ...]
    origin: str = "data/registry/sources.yml"

    def __getitem__(self, source_id: str) -> Source:
        for s in self.sources:
            if s.id == source_id:
                return s
        raise KeyError(f"source {source_id!r} is not in the registry")

    def for_loader(self, loader: str) -> tuple[Source, ...]:
        """Entries one loader reads, in registry order."""
        return tuple(s for s in self.sources if s.loader == loader)


@lru_cache(maxsize=8)
def registry_table(name: str) -> pd.DataFrame:
    """data/registry/<name>, a CSV of the project's own settings, as text (callers convert and copy)."""
    return pd.read_csv(REGISTRY_DIR / name, dtype=str, keep_default_na=False)


def load_registry(path: Path | None = None) -> Registry:
    path = path or REGISTRY_DIR / "sources.yml"
    return _load_registry_cached(str(path))


@lru_cache(maxsize=8)
def _load_registry_cached(path: str) -> Registry:
    raw = read_yaml_file(Path(path), "source registry")
    entries = raw.get("sources") if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: expected a mapping with a 'sources' list")
    out = []
    for i, e in enumerate(entries):
        if missing := [f for f in REQUIRED_FIELDS if not e.get(f)]:
            raise ConfigError(f"{path}: entry {i} ({e.get('id', '?')}) lacks {missing}")
        if any(s.id == e["id"] for s in out):
            raise ConfigError(f"{path}: duplicate source id {e['id']!r}")
        if unknown := sorted(set(e) - set(Source.__dataclass_fields__)):
            raise ConfigError(f"{path}: entry {e['id']!r} has unknown field(s) {unknown}")
        fields = {k: e.get(k) for k in Source.__dataclass_fields__}
        fields["published"] = _published(fields["published"], path, e["id"])
        fields["publisher"] = str(fields["publisher"] or DEFAULT_PUBLISHER)
        out.append(Source(**fields))
        _check_loader(out[-1], path)
    return Registry(tuple(out), origin=path)


_PUBLISHED = re.compile(r"\d{4}-\d{2}(-\d{2})?")


def _published(value: object, path: str, source_id: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date):  # YAML reads an unquoted 2025-06-26 as a date
        value = value.isoformat()
    if not (isinstance(value, str) and _PUBLISHED.fullmatch(value)):
        raise ConfigError(f"{path}: entry {source_id!r} has published {value!r}; expected YYYY-MM or "
                          "YYYY-MM-DD (it orders releases covering the same years)")
    return value


def _check_loader(s: Source, path: str) -> None:
    """loader and format come together (whether they exist is loaders.check_registry's question: the
    registry does not import the loaders, which read it)."""
    if (s.loader is not None or s.format is not None) and not (
            isinstance(s.loader, str) and s.loader and isinstance(s.format, str) and s.format):
        raise ConfigError(f"{path}: entry {s.id!r} must give both `loader` and `format` as names "
                          f"(got loader={s.loader!r}, format={s.format!r})")


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def resolve(source: Source, data_dir: Path, *, verify: bool = False) -> Path:
    """Path of a source in the data folder, failing clearly when it is absent or altered."""
    p = data_dir / source.path
    if not p.is_file():
        raise MissingSourceError(
            source.path,
            f"file missing from data folder {data_dir}",
            expected=f"the {source.publication} file ({source.release}); run "
            "`inclusion-index fetch --mirror DIR` or set INCLUSION_DATA_DIR")
    if verify:
        verify_checksum(source, p)
    return p


def verify_checksum(source: Source, path: Path, *, digest: str | None = None) -> None:
    """Refuse a file whose sha256 (``digest`` if already computed) differs from the registry."""
    got = digest or sha256_of(path)
    if got != source.sha256:
        raise ChecksumError(
            source.path,
            f"checksum mismatch (sha256 {got[:12]}…)",
            expected=f"sha256 {source.sha256[:12]}… as registered; the file has changed: if this is a new "
            "DfE release, register it as a new source (docs/NEW_YEAR.md); to load it once before "
            "registering it, set INCLUSION_VERIFY_CHECKSUMS=0")


def _copy_atomic(src_open, dest: Path, source: Source) -> None:
    """Copy, then check the copy before it takes dest's place."""
    def write(tmp: Path) -> None:
        with src_open() as fin, tmp.open("wb") as fout:
            shutil.copyfileobj(fin, fout)
        verify_checksum(source, tmp)
    write_atomic(dest, write, prefix=".fetch-")


def fetch(data_dir: Path, *, mirror: Path | None = None, base_url: str | None = None,
          registry: Registry | None = None, only: list[str] | None = None, log=print) -> list[Path]:
    """Fill data_dir from a local mirror folder or by HTTP, verifying every checksum.

    Files already present with the right checksum are kept; a present file with the
    wrong checksum is replaced from the mirror (and refused if the mirror's is wrong too).
    """
    if (mirror is None) == (base_url is None):
        raise ValueError("give exactly one of mirror or base_url")
    registry = registry or load_registry()
    done = []
    for s in registry.sources:
        if only and s.id not in only:
            continue
        dest = data_dir / s.path
        if dest.is_file() and sha256_of(dest) == s.sha256:
            log(f"ok       {s.path}")
            done.append(dest)
            continue
        if mirror is not None:
            src = Path(mirror) / s.path
            if not src.is_file():
                raise MissingSourceError(s.path, f"not found in mirror {mirror}")
            _copy_atomic(lambda src=src: src.open("rb"), dest, s)
        else:
            url = f"{base_url.rstrip('/')}/{s.path}"
            try:
                _copy_atomic(lambda url=url: urllib.request.urlopen(url, timeout=60), dest, s)
            except (urllib.error.URLError, OSError) as e:
                # HTTPError (404, 500) is a URLError; a refused or timed-out connection an OSError
                raise MissingSourceError(s.path, f"download from {url} failed ({e})",
                                         expected="a web mirror holding the registered path; "
                                         "or use --mirror DIR") from e
        log(f"fetched  {s.path}")
        done.append(dest)
    return done
