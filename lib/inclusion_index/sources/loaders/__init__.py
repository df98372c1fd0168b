"""One module per source family, in the long layout of :data:`.base.LONG_COLUMNS`: ``FORMATS``
(format name -> reader ``(ctx, source_id) -> DataFrame``, dispatched by each registry entry's
``format``), ``sources(registry)`` and ``SOURCES`` (the files harmonise hashes and checksums) and
``load(ctx)``; ``base.family`` makes the last two. docs/NEW_YEAR.md says how a new year or layout
is added; measures are declared in ``data/registry/measures/<module>.csv``.
"""

from __future__ import annotations

import importlib
import pkgutil

from inclusion_index.errors import ConfigError
from inclusion_index.sources.loaders.base import entries
from inclusion_index.sources.registry import Registry


def loader_names() -> list[str]:
    """Names a registry entry's ``loader`` may take: the modules of this package but base (helpers)."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name != "base" and not m.name.startswith("_"))


def check_registry(registry: Registry) -> None:
    """Every entry's loader and format exist (the whole registry at once: harmonise's
    ``load_inputs`` and ``verify`` call it; each loader also checks its own entries whenever it loads)."""
    known = loader_names()
    for s in registry.sources:
        if s.loader is not None and s.loader not in known:
            raise ConfigError(f"{registry.origin}: entry {s.id!r} names loader {s.loader!r}, which is not a "
                              f"module of lib/inclusion_index/loaders/ (known: {', '.join(known)})")
    for name in known:
        module = importlib.import_module(f"{__name__}.{name}")
        entries(registry, name, module.FORMATS, required=False)
