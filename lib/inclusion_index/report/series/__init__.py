"""Analyses behind the six-part series (METHOD.md "What each part of the series examined").

Every function takes an :class:`~inclusion_index.index.edition.Edition` and returns plain
results: DataFrames, dicts of numbers and short plain-English sentences built from those
numbers (no figure is ever typed into a sentence). The notebooks only call these functions
and :mod:`inclusion_index.report.plotting`, so the same numbers feed the reports, the figures' CSVs
and ``findings.md``.

Context measures (deprivation, SEMH share, special-school counts, EHC plan totals, KS4
cohorts) come from ``edition.long``. Where a measure does not exist for the edition's years
the part says so in its text and notes; context values are never imputed.

Associations are ordinary least squares across LAs (statsmodels) with conventional standard
errors: they describe how LA figures move together, not what causes what.

Ranks are never shown bare: every rank comes with its Monte Carlo 90% range from the score
table (``<target>_rank_lo`` / ``_hi``, docs/UNCERTAINTY.md), context-adjusted scores sit beside
the raw ones, and funnel plots show which LAs stand out beyond chance.

Modules: ``text``, ``edition_facts``, ``context``, ``models``, ``part``, ``funnels``, ``adjusted``, ``part_introduction``, ``part_exclusions``, ``part_assessment``, ``part_placement``, ``part_attainment``, ``part_conclusions``, ``caveats``, ``findings``.
"""

from __future__ import annotations

from inclusion_index.index.scoring import AREA_NAMES, AREAS
from inclusion_index.report.series.adjusted import ADJUSTED_COLUMNS
from inclusion_index.report.series.caveats import CAVEAT_TABLES, data_caveats
from inclusion_index.report.series.context import ContextMeasure, context_measure, deprivation
from inclusion_index.report.series.edition_facts import (
    area_indicators,
    change_range,
    chart_title,
    check_highlight,
    data_years_sentence,
    edition_header,
    england,
    england_line,
    la_table,
    range_label,
    rank_cell,
    rank_column,
    rank_words,
    short_names,
)
from inclusion_index.report.series.findings import build_findings, findings, findings_markdown, findings_table
from inclusion_index.report.series.funnels import funnel_frames
from inclusion_index.report.series.models import MODEL_COLUMNS, effect_text, ols, region_variation, spread
from inclusion_index.report.series.part import link_profiles
from inclusion_index.report.series.part_assessment import assessment
from inclusion_index.report.series.part_attainment import attainment
from inclusion_index.report.series.part_conclusions import conclusions
from inclusion_index.report.series.part_exclusions import exclusions
from inclusion_index.report.series.part_introduction import introduction
from inclusion_index.report.series.part_placement import placement
from inclusion_index.report.series.text import (
    and_join,
    chance_count,
    fmt,
    fmt_int,
    fmt_value,
    level_label,
    lower_first,
    md,
    ordinal,
    plural,
    style_table,
    year_label,
    years_label,
)

PARTS = {"introduction": introduction, "exclusions": exclusions, "assessment": assessment,
    "placement": placement, "attainment": attainment, "conclusions": conclusions}
