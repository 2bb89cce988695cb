"""Row filters of a port's `access.row_filters` (and `apply-expression` masks): checked text, never SQL.

A filter is a boolean expression over the port's columns in meshlake's filter grammar. It is checked when the
descriptor loads and compiled (never pasted) when a read applies it. `validate_row_filter` refuses what can
never be a filter (empty text, `;`, control characters), then parses the text with the grammar of
`meshlake.contract.filters` and type-checks its literals against the port's columns.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from pyiceberg.schema import Schema
from pyiceberg.types import NestedField

from meshlake.contract.filters import Node, parse_where
from meshlake.contract.types import TypeSyntaxError, parse_type
from meshlake.errors import InvalidFilterError


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
    parse_row_filter(where, columns)
    return where


def parse_row_filter(where: str, columns: Mapping[str, str]) -> Node:
    """`where` parsed and type-checked over `columns` (name → contract type text); `RowFilterError` otherwise."""
    try:
        return parse_where(where, columns_schema(columns))
    except InvalidFilterError as exc:
        raise RowFilterError(str(exc), where=where, column=exc.column) from exc


def columns_schema(columns: Mapping[str, str]) -> Schema:
    """An Iceberg schema of `columns` for the grammar's type checks (types that do not parse are left out)."""
    fields = []
    for index, (name, text) in enumerate(columns.items(), start=1):
        try:
            kind = parse_type(text)
        except TypeSyntaxError:
            continue  # reported on the column itself
        fields.append(NestedField(index, name, kind, required=False))
    return Schema(*fields)
