"""Row filters of a port's `access.row_filters` (and `apply-expression` masks): checked text, never SQL.

A filter is a boolean expression over the port's columns in meshlake's filter grammar. It is checked when the
descriptor loads and compiled (never pasted) when a read applies it. `validate_row_filter` is the single seam:
today it refuses what can never be a filter (empty text, `;`, control characters); the filter grammar plugs in
here to parse the text and type-check it against the port's columns.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping


class RowFilterError(ValueError):
    """A row filter that is not a valid filter over the port's columns; `problem` says why."""

    def __init__(self, problem: str, *, where: str, column: str | None = None) -> None:
        self.problem = problem
        self.where = where
        self.column = column
        super().__init__(problem)


def validate_row_filter(where: object, columns: Mapping[str, str]) -> str:
    """Return `where` if it is a filter over `columns` (name → contract type text), else raise `RowFilterError`."""
    if not isinstance(where, str):
        raise RowFilterError(f"a row filter is text, got {type(where).__name__}", where=str(where))
    if not where.strip():
        raise RowFilterError("the row filter is empty", where=where)
    if ";" in where:
        raise RowFilterError("a row filter is one boolean expression: ';' is not allowed", where=where)
    for char in where:
        if unicodedata.category(char) == "Cc" and char not in "\t\n\r":
            raise RowFilterError(f"the row filter contains the control character U+{ord(char):04X}", where=where)
    return where
