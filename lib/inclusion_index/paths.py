"""Where the project's folders are. One place, so every command agrees."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_DIR = Path(os.environ.get("INCLUSION_PROJECT_DIR", Path(__file__).resolve().parents[2]))
REGISTRY_DIR = PROJECT_DIR / "data" / "registry"
DEFAULT_DATA_DIR = PROJECT_DIR / "data" / "raw"
CACHE_DIR = Path(os.environ.get("INCLUSION_CACHE_DIR", PROJECT_DIR / "data" / "cache"))
REPORTS_DIR = PROJECT_DIR / "reports"
NOTEBOOKS_DIR = PROJECT_DIR / "notebooks"


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The data folder: an explicit argument, else $INCLUSION_DATA_DIR, else data/raw."""
    chosen = explicit or os.environ.get("INCLUSION_DATA_DIR")
    return Path(chosen).expanduser().resolve() if chosen else DEFAULT_DATA_DIR
