"""What every file of a data file writer shares (`datafiles._Columns`) is worked out once per schema object and
table properties, and never served for another schema or other properties."""

from __future__ import annotations

from pyiceberg.schema import Schema
from pyiceberg.types import LongType, NestedField, StringType

from meshlake.write.datafiles import _Columns


def schema() -> Schema:
    return Schema(
        NestedField(1, "id", LongType(), required=True), NestedField(2, "email", StringType(), required=False)
    )


def test_columns_are_kept_for_one_schema_object_and_its_properties() -> None:
    table_schema, properties = schema(), {"write.parquet.compression-codec": "zstd"}
    kept = _Columns.of(table_schema, properties)
    assert _Columns.of(table_schema, dict(properties)) is kept
    assert kept.measured is None and kept.mapping == {"id": 1, "email": 2}
    hidden = _Columns.of(table_schema, {**properties, "write.metadata.metrics.column.email": "none"})
    assert hidden is not kept and hidden.measured == ["id"], "other properties: worked out again"
    same_shape = schema()
    again = _Columns.of(same_shape, properties)
    assert again is not kept and again.schema is same_shape, "another schema object: worked out for it"
    properties["write.metadata.metrics.default"] = "none"
    assert _Columns.of(table_schema, properties).measured == [], "the caller's properties changed: not the kept"
