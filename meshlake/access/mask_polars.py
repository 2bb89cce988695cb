"""A `Decision` applied to a Polars LazyFrame: the row filter on the original values, then the masks.

`restricted_frame(decision, frame, schema)` is `frame.filter(<row filter>).with_columns(<masks>)`: the filter
is compiled from the grammar's tree into Polars expressions (so Polars pushes it down into the scan), every
mask is an expression under the column's own name with the column's own dtype (`apply-expression`: Boolean),
and NULL stays NULL. Every mask is elementwise (a default is a scalar literal), so Polars pushes a `head` or
`slice` of the frame below the masks — filter, then limit, then mask: only the rows returned are masked — but
never below the filter, which always sees the original values. The semantics are the DuckDB compiler's
(`mask_sql`), value for value:

- comparisons of float columns are made in Float64 (a literal is never rounded to Float32); NaN equals NaN and
  sorts above every number, as in DuckDB; `IN` on floats compares by value (-0.0 is 0.0);
- LIKE is an anchored regular expression over code points (`%` any run, `_` one, newlines included);
- truncation of a zoned timestamp is done in UTC; `mask-alphanum` and `show-*` count code points;
- SHA-256 has no Polars expression: the hashed column goes through `hashlib`, a batch at a time.

`sha-256-query-local` gets one salt per `restricted_frame` call: every collect of that frame uses it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pyiceberg.schema import Schema
from pyiceberg.types import (
    BinaryType,
    DecimalType,
    DoubleType,
    FloatType,
    IcebergType,
    IntegerType,
    LongType,
    StringType,
    TimestamptzType,
)

from meshlake.access.masks import ColumnRestriction, Restrictions, default_value, resolve
from meshlake.access.rights import Decision
from meshlake.contract import filters as grammar
from meshlake.errors import ReadRestrictionError
from meshlake.write.rowfilter import like_regex

if TYPE_CHECKING:
    import polars as pl

__all__ = ["filter_expr", "restricted_frame"]

_NOT_KEPT = r"[^0-9(),.@\-]"


def restricted_frame(
    decision: Decision,
    frame: pl.LazyFrame,
    schema: Schema,
    *,
    salt: bytes | None = None,
    contract: Schema | None = None,
) -> pl.LazyFrame:
    """`frame` (with `schema`'s columns) as `decision` lets its principal read it; unchanged when unrestricted.

    Arguments and errors as `mask_sql.restricted_sql`.
    """
    if decision.unrestricted:
        return frame
    return compile_frame(resolve(decision, schema, contract=contract, salt=salt), frame)


def compile_frame(restrictions: Restrictions, frame: pl.LazyFrame) -> pl.LazyFrame:
    """`frame` filtered, then masked, as resolved `restrictions` say."""
    if restrictions.row_filter is not None:
        frame = frame.filter(filter_expr(restrictions.row_filter))
    masked = restrictions.masked
    if not masked:
        return frame
    dtypes = frame.collect_schema()
    return frame.with_columns([_mask_expr(column, dtypes[column.name], restrictions) for column in masked])


# -- row filters ------------------------------------------------------------------------------------------


def filter_expr(node: grammar.Node) -> pl.Expr:
    """A parsed filter as a Polars boolean expression (Kleene logic: unknown is null, and drops the row)."""
    if isinstance(node, grammar.Not):
        return ~filter_expr(node.child)
    if isinstance(node, grammar.And):
        return filter_expr(node.left) & filter_expr(node.right)
    if isinstance(node, grammar.Or):
        return filter_expr(node.left) | filter_expr(node.right)
    column = node.column
    value = _column(column)
    if isinstance(node, grammar.IsNull):
        return value.is_not_null() if node.negated else value.is_null()
    if isinstance(node, grammar.Comparison):
        return _compare(value, node.op, _literal(node.value, column.type))
    if isinstance(node, grammar.InList):
        found = _compare(value, "=", _literal(node.values[0], column.type))
        for item in node.values[1:]:
            found = found | _compare(value, "=", _literal(item, column.type))
        return ~found if node.negated else found
    if isinstance(node, grammar.Between):
        low, high = _literal(node.low, column.type), _literal(node.high, column.type)
        inside = _compare(value, ">=", low) & _compare(value, "<=", high)
        return ~inside if node.negated else inside
    assert isinstance(node, grammar.Like)
    matched = value.str.contains(like_regex(node.pattern, node.escape))
    return ~matched if node.negated else matched


def _column(column: grammar.Column) -> pl.Expr:
    import polars as pl

    expr = pl.col(column.name)
    return expr.cast(pl.Float64) if isinstance(column.type, (FloatType, DoubleType)) else expr


def _compare(left: pl.Expr, op: str, right: pl.Expr) -> pl.Expr:
    operations: dict[str, Callable[[pl.Expr, pl.Expr], pl.Expr]] = {
        "=": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }
    return operations[op](left, right)


def _literal(value: object, kind: IcebergType) -> pl.Expr:
    """A grammar literal as a typed Polars constant of the column's type (floats as Float64)."""
    import polars as pl

    if isinstance(kind, (FloatType, DoubleType)):
        return pl.lit(value, dtype=pl.Float64)
    if isinstance(value, uuid.UUID):
        return pl.lit(value.bytes, dtype=pl.Binary)
    if isinstance(value, Decimal) and isinstance(kind, DecimalType):
        return pl.lit(value, dtype=pl.Decimal(kind.precision, kind.scale))
    if isinstance(value, bool):
        return pl.lit(value, dtype=pl.Boolean)
    if isinstance(value, int):
        return pl.lit(value, dtype=pl.Int64)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return pl.lit(value.astimezone(dt.UTC), dtype=pl.Datetime("us", "UTC"))
    return pl.lit(value)


# -- masks ------------------------------------------------------------------------------------------------


def _mask_expr(column: ColumnRestriction, dtype: pl.DataType, restrictions: Restrictions) -> pl.Expr:
    import polars as pl

    mask = column.mask
    assert mask is not None
    name, kind = column.name, column.field.field_type
    value = pl.col(name)
    try:
        if mask.action == "apply-expression":
            assert column.expression is not None
            unknown = pl.lit(None, dtype=pl.Boolean)
            return pl.when(value.is_null()).then(unknown).otherwise(filter_expr(column.expression)).alias(name)
        if mask.action == "replace-with-null":
            return pl.lit(None, dtype=dtype).alias(name)
        if mask.action == "mask-to-default":
            default = _constant(_polars_value(default_value(kind), dtype), dtype, name)
            return pl.when(value.is_null()).then(pl.lit(None, dtype=dtype)).otherwise(default).alias(name)
        if mask.action == "mask-alphanum":
            return alphanum_expr(value).alias(name)
        if mask.action == "show-first-4":
            rest = alphanum_expr(value.str.slice(4))
            return pl.when(value.str.len_chars() <= 4).then(value).otherwise(value.str.slice(0, 4) + rest).alias(name)
        if mask.action == "show-last-4":
            hidden = alphanum_expr(value.str.slice(0, value.str.len_chars() - 4))
            return pl.when(value.str.len_chars() <= 4).then(value).otherwise(hidden + value.str.slice(-4)).alias(name)
        if mask.action in ("truncate-to-year", "truncate-to-month"):
            every = "1y" if mask.action == "truncate-to-year" else "1mo"
            zone = getattr(dtype, "time_zone", None)
            if isinstance(kind, TimestamptzType) and zone is not None:
                truncated = value.dt.convert_time_zone("UTC").dt.truncate(every).dt.convert_time_zone(zone)
                return truncated.alias(name)
            return value.dt.truncate(every).cast(dtype).alias(name)
        if mask.action in ("sha-256-global", "sha-256-query-local"):
            salt = restrictions.salt if mask.action == "sha-256-query-local" else b""
            if salt is None:
                raise TypeError("sha-256-query-local needs the query's salt")
            hashed = value.map_batches(_hasher(kind, salt, dtype), return_dtype=dtype, is_elementwise=True)
            return hashed.alias(name)
        raise TypeError(f"unknown mask action {mask.action!r}")
    except TypeError as exc:
        raise ReadRestrictionError(
            restrictions.address, str(exc), restriction=f"mask '{mask.action}'", column=name
        ) from None


def alphanum_expr(text: pl.Expr) -> pl.Expr:
    """`mask-alphanum` of a String expression: every code point but 0-9 and `( ) , . - @` → `x`, then 0-9 → `n`."""
    return text.str.replace_all(_NOT_KEPT, "x").str.replace_all("[0-9]", "n")


def _constant(value: Any, dtype: pl.DataType, name: str) -> pl.Expr:
    """`value` as a scalar literal of `dtype`: elementwise, so Polars pushes a `head`/`slice` below the masks.

    A type Polars cannot make a scalar of takes the first value of a one-row Series (correct, but an
    aggregation: a slice then stays above the masks).
    """
    import polars as pl

    try:
        return pl.lit(value, dtype=dtype)
    except (TypeError, ValueError, pl.exceptions.PolarsError):
        return pl.lit(pl.Series(name, [value], dtype=dtype)).first()


def _polars_value(value: Any, dtype: Any) -> Any:
    """A default value as Polars takes it for `dtype` (a UUID as its 16 bytes, a map as its entries)."""
    import polars as pl

    if isinstance(value, uuid.UUID):
        return value.bytes
    if isinstance(value, dict) and isinstance(dtype, pl.Struct):
        inner = {f.name: f.dtype for f in dtype.fields}
        return {k: _polars_value(v, inner[k]) for k, v in value.items()}
    if isinstance(value, dict):
        return []  # a map's entries
    return value


def _hasher(kind: IcebergType, salt: bytes, dtype: pl.DataType) -> Callable[[pl.Series], pl.Series]:
    """SHA-256 of each value's canonical bytes after `salt`, in the column's type (see `masks.sha256_value`)."""
    import numpy as np
    import polars as pl

    if not isinstance(kind, (StringType, BinaryType, IntegerType, LongType)):
        raise TypeError(f"sha-256 applies to string, int, long and binary columns, not {kind}")

    def digest(data: bytes) -> bytes:
        return hashlib.sha256(salt + data).digest()

    def run(series: pl.Series) -> pl.Series:
        if isinstance(kind, StringType):
            values = [None if v is None else digest(v.encode("utf-8")).hex() for v in series.to_list()]
            return pl.Series(series.name, values, dtype=dtype)
        if isinstance(kind, BinaryType):
            return pl.Series(series.name, [None if v is None else digest(v) for v in series.to_list()], dtype=dtype)
        width = 4 if isinstance(kind, IntegerType) else 8
        little = np.dtype("<i4" if width == 4 else "<i8")
        raw = series.fill_null(0).to_numpy().astype(little).tobytes()
        hashed = b"".join(digest(raw[i : i + width])[:width] for i in range(0, len(raw), width))
        result = pl.Series(series.name, np.frombuffer(hashed, dtype=little), dtype=dtype)
        if not series.null_count():
            return result
        return result.zip_with(series.is_not_null(), pl.Series(series.name, [None] * len(series), dtype=dtype))

    return run
