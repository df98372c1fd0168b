"""One module per source family. Each exposes ``SOURCES`` (registry ids it reads) and
``load(ctx) -> DataFrame`` in the long layout of :data:`inclusion_index.loaders.base.LONG_COLUMNS`.
Measures each loader emits are declared in ``data/registry/measures/<module>.csv``.
"""
