"""A `Decision` compiled into DuckDB SQL over a relation: the row filter on the original values, then the masks.

    restricted_sql(decision, "SELECT * FROM read_parquet(...)", schema)
    → SELECT "id", CAST(regexp_replace(...) AS VARCHAR) AS "email", …
      FROM (SELECT * FROM read_parquet(...)) AS __ml_base
      WHERE ("region" = CAST('eu' AS VARCHAR))

The filter is compiled from the grammar's tree (`meshlake.contract.filters`): every identifier quoted, every
literal a typed constant (`CAST('…' AS <the column's DuckDB type>)`), never the filter's text. Each masked
column is cast back to its DuckDB type (`apply-expression` excepted: it is BOOLEAN), and NULL stays NULL.
Everything is a DuckDB built-in, so the SQL runs on any connection with nothing registered:

| action | DuckDB |
|---|---|
| mask-alphanum | `regexp_replace` (RE2 works on code points): non-kept → `x`; then `translate` 0-9 → `n` |
| show-first-4 / show-last-4 | `length`, `left`, `right`, `substr` count code points |
| truncate-to-year / -month | `date_trunc`; timestamptz via `timezone('UTC', …)` and back (any session TimeZone) |
| sha-256-global | `sha256` (UTF-8 bytes of a string, lowercase hex; `unhex` for binary); int and long: their 4 / 8 |
| | little-endian bytes built with `printf`/`unhex`, the first 4 / 8 digest bytes read back little-endian |
| sha-256-query-local | the same over `salt ‖ bytes`, the salt a literal fresh for each compiled query |
| mask-to-default | the type's default constant (`masks.default_value`) |
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING

from pyiceberg.schema import Schema
from pyiceberg.types import (
    BinaryType,
    DoubleType,
    FloatType,
    IcebergType,
    IntegerType,
    ListType,
    LongType,
    MapType,
    StringType,
    StructType,
    TimestamptzType,
)

from meshlake.access.masks import ColumnRestriction, Restrictions, default_value, needs_salt, resolve
from meshlake.access.rights import Decision
from meshlake.contract import filters as grammar
from meshlake.errors import ReadRestrictionError
from meshlake.query.errors import UnsupportedScanError
from meshlake.query.types import duckdb_type, quote_ident, quote_literal

if TYPE_CHECKING:
    import duckdb

__all__ = ["filter_sql", "needs_salt", "register_mask_functions", "restricted_sql"]

BASE = "__ml_base"
DIGESTS = "__ml_digests"
_OPERATORS = {"=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_NOT_KEPT = "'[^0-9(),.@-]'"


def restricted_sql(
    decision: Decision,
    relation_sql: str,
    schema: Schema,
    *,
    salt: bytes | None = None,
    contract: Schema | None = None,
) -> str:
    """`relation_sql` (a SELECT producing `schema`'s columns) as `decision` lets its principal read it.

    `SELECT <each column, or its masked expression AS the column> FROM (<relation_sql>) AS __ml_base WHERE
    <row filter>`; an unrestricted decision returns `relation_sql` unchanged. `salt` (>= 16 bytes) is the
    `sha-256-query-local` salt, fresh (`secrets.token_bytes(16)`) when not given; `contract` is the schema the
    decision's column names refer to when the relation is an older snapshot (columns then match by field id).
    Raises `AccessDeniedError` for a decision that does not read, `ReadRestrictionError` for a restriction
    this relation cannot take (nothing is read unmasked).
    """
    if decision.unrestricted:
        return relation_sql
    return compile_sql(resolve(decision, schema, contract=contract, salt=salt), relation_sql)


def compile_sql(restrictions: Restrictions, relation_sql: str) -> str:
    """The SELECT applying resolved `restrictions` to `relation_sql`.

    Digests that an expression reads several times (int and long hashes) are computed once, in a projection
    between the filtered relation and the masks.
    """
    digests: dict[str, str] = {}
    select = ", ".join(_column_sql(column, restrictions, digests) for column in restrictions.columns)
    source = f"({relation_sql}) AS {BASE}"
    if restrictions.row_filter is not None:
        source += f" WHERE {filter_sql(restrictions.row_filter)}"
    if digests:
        computed = ", ".join(f"{expression} AS {quote_ident(name)}" for name, expression in digests.items())
        source = f"(SELECT *, {computed} FROM {source}) AS {DIGESTS}"
    return f"SELECT {select} FROM {source}"


def register_mask_functions(con: duckdb.DuckDBPyConnection) -> None:
    """Prepare `con` for restricted SQL: nothing to do, every mask compiles to DuckDB built-ins.

    Kept so a read path may call it on any connection it opens; it never changes the connection.
    """
    del con


# -- row filters ------------------------------------------------------------------------------------------


def filter_sql(node: grammar.Node) -> str:
    """A parsed filter as a DuckDB boolean expression (SQL's three-valued logic, as the grammar means it)."""
    if isinstance(node, grammar.Not):
        return f"(NOT {filter_sql(node.child)})"
    if isinstance(node, grammar.And):
        return f"({filter_sql(node.left)} AND {filter_sql(node.right)})"
    if isinstance(node, grammar.Or):
        return f"({filter_sql(node.left)} OR {filter_sql(node.right)})"
    column = node.column
    name = quote_ident(column.name)
    if isinstance(node, grammar.IsNull):
        return f"({name} IS {'NOT ' if node.negated else ''}NULL)"
    if isinstance(node, grammar.Comparison):
        return f"({name} {_OPERATORS[node.op]} {literal_sql(node.value, column.type)})"
    if isinstance(node, grammar.InList):
        values = ", ".join(literal_sql(v, column.type) for v in node.values)
        return f"({name} {'NOT ' if node.negated else ''}IN ({values}))"
    if isinstance(node, grammar.Between):
        low, high = literal_sql(node.low, column.type), literal_sql(node.high, column.type)
        return f"({name} {'NOT ' if node.negated else ''}BETWEEN {low} AND {high})"
    assert isinstance(node, grammar.Like)
    escape = f" ESCAPE {quote_literal(node.escape)}" if node.escape is not None else ""
    return f"({name} {'NOT ' if node.negated else ''}LIKE {quote_literal(node.pattern)}{escape})"


def literal_sql(value: object, kind: IcebergType) -> str:
    """A Python value of `kind` as a typed DuckDB constant (a float column's literal is a DOUBLE, unrounded)."""
    if value is None:
        return f"CAST(NULL AS {_sql_type(kind)})"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(kind, (FloatType, DoubleType)):
        return f"CAST({quote_literal(repr(float(value)))} AS DOUBLE)"  # type: ignore[arg-type]
    if isinstance(value, (bytes, bytearray)):
        return f"unhex({quote_literal(bytes(value).hex())})"
    if isinstance(value, dt.datetime):
        text = value.isoformat(sep=" ")
    elif isinstance(value, (dt.date, dt.time)):
        text = value.isoformat()
    elif isinstance(value, Decimal):
        text = format(value, "f")
    elif isinstance(value, (uuid.UUID, int, str)):
        text = str(value)
    else:
        raise TypeError(f"no DuckDB literal for a {type(value).__name__} of type {kind}")
    return f"CAST({quote_literal(text)} AS {_sql_type(kind)})"


def _sql_type(kind: IcebergType) -> str:
    try:
        return duckdb_type(kind)
    except UnsupportedScanError as exc:
        raise TypeError(str(exc)) from None


# -- masks ------------------------------------------------------------------------------------------------


def _column_sql(column: ColumnRestriction, restrictions: Restrictions, digests: dict[str, str]) -> str:
    name = quote_ident(column.name)
    mask = column.mask
    if mask is None:
        return name
    try:
        if mask.action == "apply-expression":
            assert column.expression is not None
            return f"CASE WHEN {name} IS NULL THEN NULL ELSE {filter_sql(column.expression)} END AS {name}"
        kind = column.field.field_type
        expression = _mask_sql(mask.action, name, kind, restrictions.salt, digests)
        return f"CAST({expression} AS {_sql_type(kind)}) AS {name}"
    except TypeError as exc:
        raise ReadRestrictionError(
            restrictions.address, str(exc), restriction=f"mask '{mask.action}'", column=column.name
        ) from None


def _mask_sql(action: str, name: str, kind: IcebergType, salt: bytes | None, digests: dict[str, str]) -> str:
    if action == "replace-with-null":
        return "NULL"
    if action == "mask-to-default":
        return f"CASE WHEN {name} IS NULL THEN NULL ELSE {default_sql(kind)} END"
    if action == "mask-alphanum":
        return alphanum_sql(name)
    if action == "show-first-4":
        rest = alphanum_sql(f"substr({name}, 5)")
        return f"CASE WHEN length({name}) <= 4 THEN {name} ELSE left({name}, 4) || {rest} END"
    if action == "show-last-4":
        kept = f"left({name}, length({name}) - 4)"
        return f"CASE WHEN length({name}) <= 4 THEN {name} ELSE {alphanum_sql(kept)} || right({name}, 4) END"
    if action in ("truncate-to-year", "truncate-to-month"):
        unit = "'year'" if action == "truncate-to-year" else "'month'"
        if isinstance(kind, TimestamptzType):  # truncated in UTC, whatever the session's TimeZone
            return f"timezone('UTC', date_trunc({unit}, timezone('UTC', {name})))"
        return f"date_trunc({unit}, {name})"
    if action in ("sha-256-global", "sha-256-query-local"):
        if action == "sha-256-query-local" and salt is None:
            raise TypeError("sha-256-query-local needs the query's salt")
        return sha256_sql(name, kind, salt if action == "sha-256-query-local" else None, digests)
    raise TypeError(f"unknown mask action {action!r}")


def alphanum_sql(text_sql: str) -> str:
    """`mask-alphanum` of a VARCHAR expression: every code point but 0-9 and `( ) , . - @` → `x`, then 0-9 → `n`."""
    return f"translate(regexp_replace({text_sql}, {_NOT_KEPT}, 'x', 'g'), '0123456789', 'nnnnnnnnnn')"


def sha256_sql(name: str, kind: IcebergType, salt: bytes | None, digests: dict[str, str]) -> str:
    """SHA-256 of the column's canonical bytes (after `salt`), in the column's type.

    An int or long digest is read back byte by byte: it is added to `digests` (a helper column computed once
    per row) and the expression reads that column.
    """
    prefix = f"unhex({quote_literal(salt.hex())}) || " if salt else ""
    if isinstance(kind, StringType):
        return f"sha256({prefix}encode({name}))" if salt else f"sha256({name})"
    if isinstance(kind, BinaryType):
        return f"unhex(sha256({prefix}{name}))"
    if isinstance(kind, (IntegerType, LongType)):
        width = 4 if isinstance(kind, IntegerType) else 8
        helper = f"__ml_digest{len(digests)}"
        digest = f"sha256({prefix}{_little_endian_bytes(name, width)})"
        unsigned = "BIGINT" if width == 4 else "UBIGINT"  # the first bytes, big-endian, as an unsigned number
        digests[helper] = f"CAST('0x' || left({digest}, {2 * width}) AS {unsigned})"
        return _little_endian_int(quote_ident(helper), width)
    raise TypeError(f"sha-256 applies to string, int, long and binary columns, not {kind}")


def _little_endian_bytes(name: str, width: int) -> str:
    """The `width` little-endian two's-complement bytes of an integer column, as a BLOB."""
    value = f"CAST({name} AS BIGINT)"
    byte = [f"(({value} >> {8 * i}) & 255)" for i in range(width)]
    # each group of 4 bytes printed as one 8-digit hex number, most significant = first byte
    groups = [" | ".join(f"({byte[g + j]} << {8 * (3 - j)})" for j in range(4)) for g in range(0, width, 4)]
    return f"unhex(printf({quote_literal('%08x' * len(groups))}, {', '.join(groups)}))"


def _little_endian_int(big_endian: str, width: int) -> str:
    """`big_endian` (the first `width` digest bytes as an unsigned number) read as a signed little-endian integer.

    The bytes are swapped, and the sign bit (the top bit of the last byte read, so of `big_endian`'s lowest
    byte) subtracts 2^(8·width−1): two's complement without leaving the integer types.
    """
    swapped = " | ".join(f"((({big_endian} >> {8 * i}) & 255) << {8 * (width - 1 - i)})" for i in range(width))
    top = 2 ** (8 * width - 1)
    low = f"CAST(({swapped}) & {top - 1} AS {'INTEGER' if width == 4 else 'BIGINT'})"
    return f"({low} + CASE WHEN ({big_endian} & 128) = 128 THEN -{top - 1} - 1 ELSE 0 END)"


def default_sql(kind: IcebergType) -> str:
    """The `mask-to-default` value of `kind` as a DuckDB constant of the column's type."""
    if isinstance(kind, StructType):
        members = ", ".join(f"{quote_ident(f.name)} := {default_sql(f.field_type)}" for f in kind.fields)
        return f"CAST(struct_pack({members}) AS {_sql_type(kind)})"
    if isinstance(kind, ListType):
        return f"CAST([] AS {_sql_type(kind)})"
    if isinstance(kind, MapType):
        return f"CAST(MAP {{}} AS {_sql_type(kind)})"
    try:
        return literal_sql(default_value(kind), kind)
    except ValueError as exc:
        raise TypeError(str(exc)) from None
