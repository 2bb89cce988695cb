"""A filter DuckDB offers an Arrow source, as SQL with parameters for the private database to apply.

DuckDB's Arrow scan offers each source the filters of a query (a tree of `duckdb._sources.nodes`: AND, OR,
NOT, comparisons of a column with a constant, IS [NOT] NULL, IN). `predicate_sql` renders one as SQL text in
which every column is a quoted identifier of the source's own columns and every constant a `?` parameter cast
to the constant's type — nothing of the query's text is pasted — or returns None for anything it cannot render
exactly, which DuckDB then applies itself.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Collection
from decimal import Decimal
from typing import Any

from meshlake.query.types import quote_ident

MAX_DEPTH = 64
_COMPARISONS = frozenset({"=", "!=", "<", "<=", ">", ">="})
_INTEGERS = frozenset({"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"})
_DECIMAL = re.compile(r"DECIMAL\(\d{1,2}, ?\d{1,2}\)")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class _Unrendered(ValueError):  # noqa: N818 - internal: the filter stays with DuckDB
    pass


def predicate_sql(node: Any, columns: Collection[str]) -> tuple[str, list[Any]] | None:
    """(SQL text, parameters) of `node` over a source with `columns`, or None when it cannot be rendered."""
    params: list[Any] = []
    try:
        return _render(node, set(columns), params, 0), params
    except (_Unrendered, RecursionError):
        return None


def _render(node: Any, columns: set[str], params: list[Any], depth: int) -> str:
    if depth > MAX_DEPTH:
        raise _Unrendered("too deep")
    kind = type(node).__name__
    if kind == "Binary":
        op = node.op
        if op in ("AND", "OR"):
            left = _render(node.left, columns, params, depth + 1)
            right = _render(node.right, columns, params, depth + 1)
            return f"({left} {op} {right})"
        if op in _COMPARISONS:
            return f"({_column(node.left, columns)} {op} {_constant(node.right, params)})"
        raise _Unrendered(op)
    if kind == "Unary" and node.op == "NOT":
        return f"(NOT {_render(node.operand, columns, params, depth + 1)})"
    if kind == "Postfix" and node.op in ("IS NULL", "IS NOT NULL"):
        return f"({_column(node.operand, columns)} {node.op})"
    if kind == "In" and node.values:
        values = ", ".join(_constant(value, params) for value in node.values)
        return f"({_column(node.operand, columns)} IN ({values}))"
    raise _Unrendered(kind)


def _column(node: Any, columns: set[str]) -> str:
    parts = getattr(node, "parts", None) if type(node).__name__ == "Col" else None
    if not parts or len(parts) != 1 or parts[0] not in columns:
        raise _Unrendered("not a top-level column")
    return quote_ident(parts[0])


def _constant(node: Any, params: list[Any]) -> str:
    if type(node).__name__ != "Lit":
        raise _Unrendered("not a constant")
    value, kind = _value(node.value, str(node.type))
    params.append(value)
    return f"CAST(? AS {kind})"


def _value(value: Any, kind: str) -> tuple[Any, str]:
    """The parameter value and the SQL type it is cast to; `_Unrendered` unless both are exactly known."""
    if kind == "BOOLEAN" and isinstance(value, bool):
        return value, kind
    if kind in _INTEGERS and isinstance(value, int) and not isinstance(value, bool):
        return value, kind
    if kind in ("FLOAT", "DOUBLE") and isinstance(value, float) and math.isfinite(value):
        return value, kind
    if kind == "VARCHAR" and isinstance(value, str):
        return value, kind
    if kind == "DATE" and isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value, kind
    if kind == "TIMESTAMP" and isinstance(value, dt.datetime) and value.tzinfo is None:
        return value, kind
    if kind == "TIMESTAMP WITH TIME ZONE" and isinstance(value, int) and not isinstance(value, bool):
        try:
            return _EPOCH + dt.timedelta(microseconds=value), "TIMESTAMPTZ"
        except OverflowError:
            raise _Unrendered("out of range") from None
    if _DECIMAL.fullmatch(kind) and isinstance(value, Decimal) and value.is_finite():
        return value, kind
    raise _Unrendered(kind)
