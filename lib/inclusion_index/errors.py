"""Errors that tell a user which file, column and year went wrong, and what was expected."""

from __future__ import annotations


class InclusionIndexError(Exception):
    """Base class for every error the project raises on purpose."""


class SourceError(InclusionIndexError):
    """A problem with one source file. The message always names the file."""

    def __init__(self, file: str, problem: str, *, column: str | None = None, year: str | None = None,
                 expected: str | None = None) -> None:
        self.file, self.problem, self.column, self.year, self.expected = file, problem, column, year, expected
        where = {"column": None if column is None else repr(column), "year": year, "expected": expected}
        super().__init__("; ".join([f"{file}: {problem}", *(f"{k} {v}" for k, v in where.items() if v is not None)]))

    def __reduce__(self) -> tuple:
        # rebuilt from its fields when it crosses from a worker process to the parent
        return _rebuild, (type(self), self.file, self.problem, self.column, self.year, self.expected)


def _rebuild(cls: type[SourceError], file: str, problem: str, column: str | None, year: str | None,
             expected: str | None) -> SourceError:
    return cls(file, problem, column=column, year=year, expected=expected)


class MissingSourceError(SourceError):
    """A registered file is not in the data folder."""


class ChecksumError(SourceError):
    """A file's sha256 differs from the registry."""


class SchemaError(SourceError):
    """A file does not have the shape its loader declares (columns, types, ranges, keys)."""


class UnknownLACodeError(SchemaError):
    """A file names an LA code that the LA reference does not know."""


class ConfigError(InclusionIndexError):
    """A registry or settings file is malformed."""
