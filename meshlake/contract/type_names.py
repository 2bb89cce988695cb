"""Type names of `expect_column_values_to_be_of_type` / `_in_type_list`, in every spelling GE suites use.

GE compares a pandas dtype, a SQL type or a Spark type with the name, depending on the backend; a port's columns
have one contract type, so each name means the column type families (`type_family`) it stands for, and for the
sized names (`int32`, `BIGINT`, `FLOAT4` …) the exact DuckDB type. Names are matched case-insensitively.
"""

from __future__ import annotations

import difflib
from typing import Any

_FAMILIES: dict[str, frozenset[str]] = {}
_EXACT: dict[str, frozenset[str]] = {}


def _family(families: str, *names: str) -> None:
    for name in names:
        _FAMILIES[name.lower()] = frozenset(families.split())


def _exact(duckdb_types: str, *names: str) -> None:
    for name in names:
        _EXACT[name.lower()] = frozenset(duckdb_types.split(","))


_family("integer", "int", "integer", "integertype", "longtype", "shorttype", "bytetype", "int_", "long", "number_int")
_family("float", "float", "double", "double_precision", "floattype", "doubletype", "real", "float_", "floating")
_family("float decimal integer", "number", "numeric_any")
_family("decimal", "decimal", "numeric", "decimaltype", "bignumeric")
_family("string", "str", "string", "text", "varchar", "char", "nvarchar", "stringtype", "unicode", "str_", "utf8")
_family("boolean", "bool", "boolean", "booleantype", "bool_", "bit")
_family("date", "date", "datetype", "date32")
_family("time", "time", "time_of_day")
_family("timestamp", "datetime64", "datetime", "timestamp_ntz", "timestampntztype")
_family("timestamp timestamptz", "timestamp", "timestamptype", "datetime64[ns]")
_family("timestamptz", "datetimetzdtype", "datetimetzdtypetype", "timestamptz", "timestamp_tz", "datetime64[ns, utc]")
_family("binary", "bytes", "binary", "blob", "bytea", "varbinary", "binarytype", "bytes_")
_family("uuid", "uuid")
_family("nested", "list", "array", "struct", "map", "arraytype", "structtype", "maptype", "dict")
_family("string binary date time uuid nested decimal", "object", "object_", "o")
_exact("TINYINT", "int8", "tinyint", "byte")
_exact("SMALLINT", "int16", "smallint", "short")
_exact("INTEGER", "int32", "int4")
_exact("BIGINT", "int64", "bigint", "int8_sql")
_exact("HUGEINT", "hugeint", "int128")
_exact("UTINYINT", "uint8")
_exact("USMALLINT", "uint16")
_exact("UINTEGER", "uint32")
_exact("UBIGINT", "uint64")
_exact("FLOAT", "float32", "float4")
_exact("DOUBLE", "float64", "float8", "double_sql")
_exact("TIMESTAMP WITH TIME ZONE,TIMESTAMPTZ", "datetime64[ns, tz]")
KNOWN = frozenset(_FAMILIES) | frozenset(_EXACT)


def check_type_name(name: Any, field: str) -> None:
    """Raise `ExpectationConfigError` for a type name meshlake does not know (with the closest known one)."""
    from meshlake.contract.expectation_args import ExpectationConfigError

    if not isinstance(name, str) or name.lower() not in KNOWN:
        close = difflib.get_close_matches(str(name).lower(), sorted(KNOWN), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise ExpectationConfigError(
            f"unknown type name {name!r}{hint} (pandas, Python, SQL and Spark names are known: int, float, str, bool, "
            "datetime64, Timestamp, object, int64, INTEGER, VARCHAR, TEXT, DOUBLE_PRECISION, BOOLEAN, StringType …)",
            field=field,
        )


def type_matches(name: str, duckdb_type: str, family: str) -> bool:
    """Whether a column of `duckdb_type` (of `family`, see `type_family`) is of the type called `name`."""
    key = name.lower()
    if key in _EXACT:
        return duckdb_type.upper() in _EXACT[key]
    return family in _FAMILIES.get(key, frozenset())
