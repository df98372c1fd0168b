"""Stage 2, index: the build. Pure engines (indicators, scoring, uncertainty, adjustment,
neighbours, comparison) and the steps that apply them to an edition (``build``), producing the
closed, typed :class:`~inclusion_index.index.edition.Edition`. Imports sources, never report.
"""
