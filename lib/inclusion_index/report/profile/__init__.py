"""What one LA's profile says: scores, ranks, trend, strengths and weaknesses, in plain words.

Tables come twice: ``*_table`` returns the numbers as a DataFrame (missing = NaN, for tests
and reuse) and ``*_view`` the same table styled for readers (a pandas Styler: "–" for a missing
value, "not ranked" for a missing rank, every rank with its Monte Carlo range, scores to 1 dp,
counts as integers, no index-name row, LA names escaped). Sentences never show a raw NaN.

Ranks come with their uncertainty or not at all: the score table holds Monte Carlo ranges
(``<target>_rank_lo`` / ``_hi``) for the edition's final index year only, so earlier years'
ranks are left out of the trend table rather than shown bare.

Modules: ``tables`` (DataFrames and Stylers), ``words`` (sentences), ``charts`` (inline SVG charts with
alt text), ``_common`` (the LA's score-table row and the missing marks they share).
"""

from inclusion_index.report.profile._common import MISSING, NOT_RANKED, reader_note
from inclusion_index.report.profile.charts import SVGChart, plot_indicator_scores, plot_national, plot_trend
from inclusion_index.report.profile.tables import (
    area_table,
    area_view,
    indicator_table,
    indicator_view,
    neighbour_table,
    neighbour_view,
    rank_with_range,
    trend_table,
    trend_view,
)
from inclusion_index.report.profile.words import (
    change_text,
    context_text,
    headline,
    neighbour_text,
    notes_text,
    other_editions_text,
    strengths_and_weaknesses,
    trend_text,
    weighting_text,
)

__all__ = [
    "MISSING", "NOT_RANKED", "SVGChart", "area_table", "area_view", "change_text", "context_text", "headline",
    "indicator_table", "indicator_view", "neighbour_table", "neighbour_text", "neighbour_view", "notes_text", "other_editions_text",
    "plot_indicator_scores", "plot_national", "plot_trend", "rank_with_range", "reader_note",
    "strengths_and_weaknesses", "trend_table", "trend_text", "trend_view", "weighting_text"]
