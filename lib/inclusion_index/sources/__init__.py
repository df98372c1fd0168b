"""Stage 1, sources: everything that opens a raw DfE file or a registry file.

The source registry and fetch (``registry``), one loader per source family (``loaders/``),
derived measures as registry data (``derived``), the validated long table and its cache
(``harmonise``), LA geography and boundary changes (``geography``), DfE's suppression markers
(``parsing``), statistical-neighbour workbooks (``neighbour_files``) and hex-map files (``hexes``). Nothing outside this package reads a raw file.
"""
