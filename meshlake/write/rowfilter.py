"""A `where` filter at work: which files may hold matching rows (pruning), and exactly which rows match.

The text is parsed by `where` (meshlake's grammar, SQL semantics) and evaluated here with Arrow compute, never
pasted into SQL. Pruning uses a pyiceberg expression that selects at least every matching row (NOT is pushed
down to the predicates; LIKE prunes only by a literal prefix), so a file is skipped only when no row can match.
A pyiceberg `BooleanExpression` is accepted too and keeps pyiceberg's meaning.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.expressions import (
    AlwaysTrue,
    And,
    BooleanExpression,
    EqualTo,
    GreaterThan,
    GreaterThanOrEqual,
    In,
    IsNaN,
    IsNull,
    LessThan,
    LessThanOrEqual,
    NotEqualTo,
    NotIn,
    NotNull,
    Or,
    StartsWith,
)
from pyiceberg.schema import Schema
from pyiceberg.types import DoubleType, FloatType

from meshlake.contract import filters as grammar

# pyiceberg's predicates take (term, literal) positionally; the pydantic mypy plugin types their
# constructors by field name, so they are called through untyped aliases.
_Binary = Callable[[str, object], BooleanExpression]
_Unary = Callable[[str], BooleanExpression]
_PREDICATES: dict[str, _Binary] = {
    "=": cast(_Binary, EqualTo),
    "!=": cast(_Binary, NotEqualTo),
    "<": cast(_Binary, LessThan),
    "<=": cast(_Binary, LessThanOrEqual),
    ">": cast(_Binary, GreaterThan),
    ">=": cast(_Binary, GreaterThanOrEqual),
}
_OPPOSITE = {"=": "!=", "!=": "=", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
_ARROW = {
    "=": pc.equal,
    "!=": pc.not_equal,
    "<": pc.less,
    "<=": pc.less_equal,
    ">": pc.greater,
    ">=": pc.greater_equal,
}
_in = cast(Callable[[str, object], BooleanExpression], In)
_not_in = cast(Callable[[str, object], BooleanExpression], NotIn)
_is_null = cast(_Unary, IsNull)
_not_null = cast(_Unary, NotNull)
_is_nan = cast(_Unary, IsNaN)
_EPOCH = dt.datetime(1970, 1, 1)
_EPOCH_UTC = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICRO = dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class RowFilter:
    """The rows a write or delete touches: `prune` plans files, `matches` decides each row."""

    text: str
    prune: BooleanExpression
    node: grammar.Node | None = None
    expression: BooleanExpression | None = None
    schema: Schema | None = None

    def __str__(self) -> str:
        return self.text

    def matches(self, rows: pa.Table) -> pa.ChunkedArray:
        """True for each row the filter selects (unknown, as for NULLs, is False), in row order."""
        if self.node is not None:
            return pc.fill_null(_evaluate(self.node, rows), False)
        assert self.expression is not None and self.schema is not None
        return _pyiceberg_mask(self.expression, self.schema, rows)


def row_filter(where: str | BooleanExpression, schema: Schema) -> RowFilter:
    """Parse `where` against `schema` (or take a pyiceberg expression as it is)."""
    if isinstance(where, BooleanExpression):
        from pyiceberg.expressions.visitors import bind

        bind(schema, where, case_sensitive=True)  # raises on unknown columns
        return RowFilter(str(where), where, expression=where, schema=schema)
    node = grammar.parse_where(where, schema)
    return RowFilter(where, _prune(node, negate=False), node=node)


# -- pruning ----------------------------------------------------------------------------------------------


def _prune(node: grammar.Node, *, negate: bool) -> BooleanExpression:
    """A pyiceberg expression true for every row where `node` (or NOT `node`) is true."""
    if isinstance(node, grammar.Not):
        return _prune(node.child, negate=not negate)
    if isinstance(node, (grammar.And, grammar.Or)):
        left, right = _prune(node.left, negate=negate), _prune(node.right, negate=negate)
        return Or(left, right) if isinstance(node, grammar.And) == negate else And(left, right)
    column = node.column
    name, floating = column.name, isinstance(column.type, (FloatType, DoubleType))
    if isinstance(node, grammar.IsNull):
        return _not_null(name) if node.negated != negate else _is_null(name)
    if isinstance(column.type, FloatType):
        return AlwaysTrue()  # a float literal would be rounded to the column's precision
    if isinstance(node, grammar.Comparison):
        op = _OPPOSITE[node.op] if negate else node.op
        predicate = _PREDICATES[op](name, _iceberg_value(node.value))
        return Or(predicate, _is_nan(name)) if floating and op in (">", ">=") else predicate
    if isinstance(node, grammar.InList):
        values = [_iceberg_value(v) for v in node.values]
        return _not_in(name, values) if node.negated != negate else _in(name, values)
    if isinstance(node, grammar.Between):
        low, high = _iceberg_value(node.low), _iceberg_value(node.high)
        if node.negated != negate:
            above: BooleanExpression = _PREDICATES[">"](name, high)
            return Or(_PREDICATES["<"](name, low), Or(above, _is_nan(name)) if floating else above)
        at_least = _PREDICATES[">="](name, low)
        return And(Or(at_least, _is_nan(name)) if floating else at_least, _PREDICATES["<="](name, high))
    assert isinstance(node, grammar.Like)
    if node.negated != negate:
        return AlwaysTrue()
    parts = grammar.like_parts(node.pattern, node.escape)
    if len(parts) == 1 and parts[0][0] == "text":
        return _PREDICATES["="](name, parts[0][1])
    if len(parts) == 2 and parts[0][0] == "text" and parts[1][0] == "any":
        return cast(_Binary, StartsWith)(name, parts[0][1])
    return AlwaysTrue()


def _iceberg_value(value: object) -> object:
    """A literal as pyiceberg reads it for the column's type (times as microseconds)."""
    if isinstance(value, dt.datetime):
        return (value - (_EPOCH_UTC if value.tzinfo else _EPOCH)) // _MICRO
    if isinstance(value, dt.time):
        return (value.hour * 3600 + value.minute * 60 + value.second) * 1_000_000 + value.microsecond
    return value


# -- row evaluation ---------------------------------------------------------------------------------------


def _evaluate(node: grammar.Node, rows: pa.Table) -> pa.ChunkedArray:
    """SQL's three-valued verdict of `node` for each row (null = unknown)."""
    if isinstance(node, grammar.Not):
        return pc.invert(_evaluate(node.child, rows))
    if isinstance(node, grammar.And):
        return pc.and_kleene(_evaluate(node.left, rows), _evaluate(node.right, rows))
    if isinstance(node, grammar.Or):
        return pc.or_kleene(_evaluate(node.left, rows), _evaluate(node.right, rows))
    values = _column(rows, node.column.name)
    if isinstance(node, grammar.IsNull):
        return pc.is_valid(values) if node.negated else pc.is_null(values)
    if isinstance(node, grammar.Comparison):
        return _compare(values, node.op, node.value)
    if isinstance(node, grammar.InList):
        if pa.types.is_floating(values.type):  # by value: -0.0 is 0.0 (a hash set tells them apart)
            found = _compare(values, "=", node.values[0])
            for value in node.values[1:]:
                found = pc.or_kleene(found, _compare(values, "=", value))
        else:
            value_set = pa.array([_arrow_value(v) for v in node.values], _scalar_type(values))
            found = pc.if_else(pc.is_valid(values), pc.is_in(values, value_set=value_set), None)
        return pc.invert(found) if node.negated else found
    if isinstance(node, grammar.Between):
        inside = pc.and_kleene(_compare(values, ">=", node.low), _compare(values, "<=", node.high))
        return pc.invert(inside) if node.negated else inside
    assert isinstance(node, grammar.Like)
    matched = pc.match_substring_regex(values, like_regex(node.pattern, node.escape))
    return pc.invert(matched) if node.negated else matched


def _compare(values: pa.ChunkedArray, op: str, value: object) -> pa.ChunkedArray:
    result = _ARROW[op](values, pa.scalar(_arrow_value(value), _scalar_type(values)))
    if op in (">", ">=") and pa.types.is_floating(values.type):
        result = pc.or_kleene(result, pc.is_nan(values))  # NaN sorts above every number, as in SQL engines
    return result


def _column(rows: pa.Table, name: str) -> pa.ChunkedArray:
    values = rows.column(name)
    if isinstance(values.type, pa.BaseExtensionType):  # uuid: compare the 16 bytes
        return pa.chunked_array([chunk.storage for chunk in values.chunks], values.type.storage_type)
    return values


def _scalar_type(values: pa.ChunkedArray) -> pa.DataType:
    return pa.float64() if pa.types.is_floating(values.type) else values.type


def _arrow_value(value: object) -> object:
    import uuid

    return value.bytes if isinstance(value, uuid.UUID) else value


_REGEX_SPECIAL = set(r"\.^$|?*+()[]{}")


def like_regex(pattern: str, escape: str | None) -> str:
    """A LIKE pattern as an anchored RE2 expression (`%` any run, `_` one character, newlines included)."""
    pieces = []
    for kind, text in grammar.like_parts(pattern, escape):
        if kind == "any":
            pieces.append(".*")
        elif kind == "one":
            pieces.append(".")
        else:
            pieces.append("".join("\\" + c if c in _REGEX_SPECIAL else c for c in text))
    return "(?s)^" + "".join(pieces) + "$"


def _pyiceberg_mask(expression: BooleanExpression, schema: Schema, rows: pa.Table) -> pa.ChunkedArray:
    import numpy as np
    from pyiceberg.expressions.visitors import bind
    from pyiceberg.io.pyarrow import expression_to_pyarrow

    indexed = rows.append_column("__meshlake_row", pa.array(np.arange(rows.num_rows)))
    selected = indexed.filter(expression_to_pyarrow(bind(schema, expression, case_sensitive=True), schema))
    mask = np.zeros(rows.num_rows, dtype=bool)
    mask[selected.column("__meshlake_row").to_numpy()] = True
    return pa.chunked_array([pa.array(mask)])
