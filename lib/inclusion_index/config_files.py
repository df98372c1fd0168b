"""Reading the YAML configuration files (data/registry/*.yml) once per version of each file.

Settings loaders run many times while a report is built (the uncertainty settings about a
hundred times for the six parts); parsing the same YAML each time cost about a seventh of the
parts' build time. The parsed content is kept per (path, size, modification time), so an
edited file is read again, and every caller gets its own copy to change freely.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml


@lru_cache(maxsize=64)
def _parsed(path: str, size: int, mtime_ns: int) -> Any:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def read_yaml(path: str | Path) -> Any:
    """The parsed YAML file (None for an empty file). Raises OSError and yaml.YAMLError like
    ``yaml.safe_load(open(path))`` would, so callers keep their own error messages."""
    p = Path(path)
    st = p.stat()
    return copy.deepcopy(_parsed(str(p.resolve()), st.st_size, st.st_mtime_ns))


__all__ = ["read_yaml"]
