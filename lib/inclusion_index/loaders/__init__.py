"""One module per source family, in the long layout of :data:`inclusion_index.loaders.base.LONG_COLUMNS`.

Each loader module exposes:

* ``FORMATS``: format name -> reader ``(ctx, source_id) -> DataFrame``. The registry entries
  with ``loader: <module>`` are dispatched by their ``format``; a format is code, a new year
  of it is only a registry entry.
* ``SOURCES``: the registry ids it reads (from the project registry; harmonise hashes them for
  its cache key and checks their checksums), and ``sources(registry)`` for another registry.
* ``load(ctx) -> DataFrame``: every registered file of the loader, combined.

Measures each loader emits are declared in ``data/registry/measures/<module>.csv``.

This file must not import the loader modules: the registry (``sources.py``) asks
:func:`loader_names` while a loader is being imported.
"""

from __future__ import annotations

import pkgutil
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..sources import Registry

# modules of this package that are helpers, not loaders
_HELPERS = frozenset({"base"})


def loader_names() -> list[str]:
    """Names a registry entry's ``loader`` may take: the loader modules of this package."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name not in _HELPERS
                  and not m.name.startswith("_"))


def check_registry(registry: Registry) -> None:
    """Every entry's loader and format exist (the whole registry at once, e.g. for a test or
    ``verify``; each loader also checks its own entries whenever it loads)."""
    import importlib

    from .base import entries

    for name in loader_names():
        module = importlib.import_module(f"{__name__}.{name}")
        entries(registry, name, module.FORMATS, required=False)
