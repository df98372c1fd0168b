"""What the index engines read: an edition's tables and settings before any result, so no engine
can depend on another's output by reaching into the finished Edition."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from inclusion_index.config import RunSettings
from inclusion_index.index.indicators import Method
from inclusion_index.index.scoring import ScoringSettings
from inclusion_index.sources.geography import LAReference


@dataclass(frozen=True, eq=False)
class IndexInputs:
    """An edition's inputs: its years, method and settings, LAs, indicator registry, the cell
    values of every index year (with their notes as columns) and England's figures, and the
    harmonised long table that context measures come from."""

    final_year: str
    years: list[str]
    method: Method
    settings: ScoringSettings
    geography: pd.DataFrame
    indicators: pd.DataFrame
    values: pd.DataFrame
    england: pd.DataFrame
    long: pd.DataFrame
    # where the data came from, so neighbour and hex-map files are read from the same folder
    data_dir: Path | None
    ref: LAReference | None
    # every registry settings file, parsed once (config.py); steps and reports read them from here
    run: RunSettings
    # the declared measures (data/registry/measures/*.csv: measure, description, unit, ...)
    measures: pd.DataFrame

    @property
    def first_year(self) -> str:
        return self.years[0]
