"""SQL spelling for the read engine: Iceberg types as DuckDB types, quoted identifiers and literals.

Every name and path that reaches SQL goes through `quote_ident` or `quote_literal`, even though names are
validated elsewhere: file paths and nested field names come from catalog metadata and are untrusted.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from pyiceberg.types import (
    BinaryType,
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    FixedType,
    FloatType,
    IcebergType,
    IntegerType,
    ListType,
    LongType,
    MapType,
    StringType,
    StructType,
    TimestampNanoType,
    TimestampType,
    TimestamptzType,
    TimeType,
    UUIDType,
)

from meshlake.query.errors import UnsupportedScanError

_PRIMITIVES: dict[type[IcebergType], str] = {
    BooleanType: "BOOLEAN",
    IntegerType: "INTEGER",
    LongType: "BIGINT",
    FloatType: "FLOAT",
    DoubleType: "DOUBLE",
    StringType: "VARCHAR",
    BinaryType: "BLOB",
    FixedType: "BLOB",
    DateType: "DATE",
    TimeType: "TIME",
    TimestampType: "TIMESTAMP",
    TimestamptzType: "TIMESTAMP WITH TIME ZONE",
    TimestampNanoType: "TIMESTAMP_NS",
    UUIDType: "UUID",
}


def quote_ident(name: str) -> str:
    """`name` as a DuckDB identifier: double-quoted, with `"` doubled."""
    if "\x00" in name:
        raise ValueError(f"identifier {name!r} contains a NUL character")
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """`text` as a DuckDB string literal: single-quoted, with `'` doubled."""
    if "\x00" in text:
        raise ValueError(f"string {text!r} contains a NUL character")
    return "'" + text.replace("'", "''") + "'"


def duckdb_type(iceberg_type: IcebergType) -> str:
    """The DuckDB type that an Iceberg type reads as, e.g. `DECIMAL(12,2)`, `STRUCT("a" INTEGER)[]`."""
    if isinstance(iceberg_type, DecimalType):
        return f"DECIMAL({iceberg_type.precision},{iceberg_type.scale})"
    if isinstance(iceberg_type, StructType):
        members = ", ".join(f"{quote_ident(f.name)} {duckdb_type(f.field_type)}" for f in iceberg_type.fields)
        return f"STRUCT({members})"
    if isinstance(iceberg_type, ListType):
        return f"{duckdb_type(iceberg_type.element_type)}[]"
    if isinstance(iceberg_type, MapType):
        return f"MAP({duckdb_type(iceberg_type.key_type)}, {duckdb_type(iceberg_type.value_type)})"
    name = _PRIMITIVES.get(type(iceberg_type))
    if name is None:
        raise UnsupportedScanError(
            f"Iceberg type {iceberg_type} has no DuckDB equivalent in meshlake's reader",
            hint="read this column with Polars or pyiceberg, or leave it out of the port",
        )
    return name


def default_literal(value: object) -> str:
    """An Iceberg `initial-default` as a DuckDB literal that DuckDB casts to the column type."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return quote_literal(str(value))
    if isinstance(value, (str, uuid.UUID)):
        return quote_literal(str(value))
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return quote_literal(value.isoformat())
    raise UnsupportedScanError(
        f"a column default of type {type(value).__name__} cannot be read by DuckDB in meshlake",
        hint="read the port with Polars or pyiceberg",
    )
