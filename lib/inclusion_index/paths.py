"""Where the project's folders are. One place, so every command agrees."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

PROJECT_DIR = Path(os.environ.get("INCLUSION_PROJECT_DIR", Path(__file__).resolve().parents[2]))
REGISTRY_DIR = PROJECT_DIR / "data" / "registry"
DEFAULT_DATA_DIR = PROJECT_DIR / "data" / "raw"
CACHE_DIR = Path(os.environ.get("INCLUSION_CACHE_DIR", PROJECT_DIR / "data" / "cache"))
REPORTS_DIR = PROJECT_DIR / "reports"
NOTEBOOKS_DIR = PROJECT_DIR / "notebooks"


def write_atomic(dest: Path, write: Callable[[Path], None], prefix: str = ".") -> None:
    """``write(tmp)`` to a temporary file beside ``dest``, then move it into place, so a reader (a
    worker, a rerun) never sees half a file and a failed or refused write leaves nothing behind."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=prefix, suffix=".part")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, dest)
    finally:
        Path(tmp).unlink(missing_ok=True)


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The data folder: an explicit argument, else $INCLUSION_DATA_DIR, else data/raw."""
    chosen = explicit or os.environ.get("INCLUSION_DATA_DIR")
    return Path(chosen).expanduser().resolve() if chosen else DEFAULT_DATA_DIR
