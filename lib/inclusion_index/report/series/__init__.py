"""Analyses behind the six-part series (docs/METHOD.md "What each part of the series examined"):
functions of an Edition returning DataFrames, numbers and sentences built from them (no figure is
typed into a sentence); the notebooks call only these and report.plotting (docs/ARCHITECTURE.md)."""

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
