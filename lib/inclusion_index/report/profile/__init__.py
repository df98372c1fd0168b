"""One LA's profile in plain words: ``tables`` (numbers as DataFrames, styled as Stylers),
``words`` (sentences, never a raw NaN) and ``charts`` (inline SVG with alt text). Ranks come with
their Monte Carlo range or not at all, so earlier years' ranks stay out of the trend table."""

from inclusion_index.report.profile.charts import SVGChart, plot_indicator_scores, plot_national, plot_trend
from inclusion_index.report.profile.tables import (
    MISSING,
    NOT_RANKED,
    area_table,
    area_view,
    indicator_table,
    indicator_view,
    neighbour_table,
    neighbour_view,
    rank_with_range,
    reader_note,
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
