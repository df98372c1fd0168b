"""SEND Inclusion Index: load DfE statistics, score local authorities, render the series."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("inclusion-index")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+src"
