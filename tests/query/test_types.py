"""Iceberg types and names spelled for DuckDB."""

from __future__ import annotations

from typing import Any

import pytest
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
    NestedField,
    StringType,
    StructType,
    TimestampType,
    TimestamptzType,
    TimeType,
    UnknownType,
    UUIDType,
)

from meshlake.query.errors import UnsupportedScanError
from meshlake.query.types import duckdb_type, quote_ident, quote_literal

CASES: list[tuple[IcebergType, str]] = [
    (BooleanType(), "BOOLEAN"),
    (IntegerType(), "INTEGER"),
    (LongType(), "BIGINT"),
    (FloatType(), "FLOAT"),
    (DoubleType(), "DOUBLE"),
    (DecimalType(12, 2), "DECIMAL(12,2)"),
    (DecimalType(38, 0), "DECIMAL(38,0)"),
    (StringType(), "VARCHAR"),
    (BinaryType(), "BLOB"),
    (FixedType(16), "BLOB"),
    (DateType(), "DATE"),
    (TimeType(), "TIME"),
    (TimestampType(), "TIMESTAMP"),
    (TimestamptzType(), "TIMESTAMP WITH TIME ZONE"),
    (UUIDType(), "UUID"),
    (ListType(1, LongType()), "BIGINT[]"),
    (MapType(1, StringType(), 2, DoubleType()), "MAP(VARCHAR, DOUBLE)"),
    (
        StructType(NestedField(1, "a", IntegerType()), NestedField(2, "b", ListType(3, StringType()))),
        'STRUCT("a" INTEGER, "b" VARCHAR[])',
    ),
]


@pytest.mark.parametrize(("iceberg", "expected"), CASES, ids=[c[1] for c in CASES])
def test_duckdb_type_spells_each_iceberg_type(iceberg: IcebergType, expected: str, duck: Any) -> None:
    assert duckdb_type(iceberg) == expected
    described = str(duck.sql(f"SELECT CAST(NULL AS {expected}) AS c").types[0])
    assert described.replace(" ", "") == expected.replace(" ", "").replace('"', "")


def test_struct_member_names_are_quoted_so_any_name_round_trips(duck: Any) -> None:
    nasty = ['we"ird', "it's", "select", "a b", "ünï"]
    struct = StructType(*(NestedField(i + 1, name, IntegerType()) for i, name in enumerate(nasty)))
    spelled = duckdb_type(struct)
    value = duck.sql(f"SELECT CAST(NULL AS {spelled}) AS s").to_arrow_table().schema.field("s").type
    assert [value.field(i).name for i in range(value.num_fields)] == nasty


def test_quote_ident_and_literal_double_their_quote() -> None:
    assert quote_ident('a"b') == '"a""b"'
    assert quote_literal("it's") == "'it''s'"
    with pytest.raises(ValueError, match="NUL"):
        quote_literal("a\x00b")


def test_a_type_duckdb_cannot_read_raises_instead_of_guessing() -> None:
    with pytest.raises(UnsupportedScanError):
        duckdb_type(UnknownType())
