"""Reading snapshots in place from DuckDB and Polars: schema evolution, nested types, partitions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pyarrow as pa
import pytest
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.table import Table
from pyiceberg.transforms import DayTransform, IdentityTransform
from pyiceberg.types import (
    DoubleType,
    FloatType,
    IntegerType,
    ListType,
    LongType,
    MapType,
    NestedField,
    StringType,
    StructType,
    TimestamptzType,
)

from meshlake.query.errors import UnsupportedScanError
from meshlake.query.plan import ScanPlan, cached_plan, plan_scan

from .conftest import Files, duck_rows


def both(plan: ScanPlan, duck: Any, key: str = "id") -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The plan's rows read by DuckDB and by Polars, each sorted by `key`."""
    from_duck = duck_rows(duck, plan.to_duckdb_sql(), order=f'"{key}"')
    from_polars = plan.to_polars().sort(key).collect().to_dicts()
    return from_duck, from_polars


def current(table: Table) -> ScanPlan:
    snapshot = table.current_snapshot()
    return plan_scan(table, snapshot.snapshot_id if snapshot else None)


@pytest.fixture
def evolved(catalog: SqlCatalog, mor: type[Files]) -> tuple[Table, int]:
    """id int -> long, amount float -> double renamed to amt, name dropped, note added; old files kept."""
    catalog.create_namespace("d")
    schema = Schema(
        NestedField(1, "id", IntegerType(), required=False),
        NestedField(2, "amount", FloatType(), required=False),
        NestedField(3, "name", StringType(), required=False),
    )
    table = catalog.create_table("d.evolved", schema=schema)
    mor.append(table, [{"id": 1, "amount": 1.5, "name": "a"}, {"id": 2, "amount": 2.5, "name": "b"}])
    first = table.current_snapshot().snapshot_id
    with table.update_schema() as update:
        update.update_column("id", LongType())
        update.update_column("amount", DoubleType())
        update.rename_column("amount", "amt")
        update.delete_column("name")
        update.add_column("note", StringType())
        update.add_column("name", StringType())  # same name as the dropped column, new field id
    mor.append(table, [{"id": 3_000_000_000, "amt": 3.25, "note": "n", "name": "fresh"}])
    return table, first


def test_renamed_added_dropped_and_widened_columns_resolve_by_field_id(evolved: tuple[Table, int], duck: Any) -> None:
    table, _ = evolved
    expected = [
        {"id": 1, "amt": 1.5, "note": None, "name": None},
        {"id": 2, "amt": 2.5, "note": None, "name": None},
        {"id": 3_000_000_000, "amt": 3.25, "note": "n", "name": "fresh"},
    ]
    from_duck, from_polars = both(current(table), duck)
    assert from_duck == expected
    assert from_polars == expected
    relation = duck.sql(current(table).to_duckdb_sql())
    types = dict(zip(relation.columns, map(str, relation.types), strict=True))
    assert types == {"id": "BIGINT", "amt": "DOUBLE", "note": "VARCHAR", "name": "VARCHAR"}


def test_an_old_snapshot_reads_with_the_schema_of_its_time(evolved: tuple[Table, int], duck: Any) -> None:
    table, first = evolved
    plan = plan_scan(table, first)
    assert [f.name for f in plan.schema.fields] == ["id", "amount", "name"]
    expected = [{"id": 1, "amount": 1.5, "name": "a"}, {"id": 2, "amount": 2.5, "name": "b"}]
    from_duck, from_polars = both(plan, duck)
    assert from_duck == expected
    assert from_polars == expected
    assert [str(t) for t in duck.sql(plan.to_duckdb_sql()).types] == ["INTEGER", "FLOAT", "VARCHAR"]


def test_filters_and_projections_apply_on_the_in_place_scan(evolved: tuple[Table, int], duck: Any) -> None:
    table, _ = evolved
    sql = current(table).to_duckdb_sql()
    assert duck.sql(f"SELECT amt FROM ({sql}) WHERE id >= 2 ORDER BY id").fetchall() == [(2.5,), (3.25,)]
    lazy = current(table).to_polars().filter(pl.col("id") >= 2).select("amt").sort("amt")
    assert lazy.collect()["amt"].to_list() == [2.5, 3.25]


def test_an_empty_table_reads_as_a_typed_relation_with_no_rows(catalog: SqlCatalog, duck: Any) -> None:
    catalog.create_namespace("d")
    table = catalog.create_table("d.empty", schema=pa.schema([("id", pa.int64()), ("at", pa.timestamp("us", "UTC"))]))
    plan = current(table)
    assert plan.tasks == ()
    relation = duck.sql(plan.to_duckdb_sql())
    assert relation.fetchall() == []
    assert [str(t) for t in relation.types] == ["BIGINT", "TIMESTAMP WITH TIME ZONE"]
    frame = plan.to_polars().collect()
    assert frame.height == 0
    assert frame.schema == pl.Schema({"id": pl.Int64, "at": pl.Datetime("us", "UTC")})


def test_unknown_snapshot_id_raises_snapshot_not_found(evolved: tuple[Table, int]) -> None:
    from meshlake.errors import SnapshotNotFoundError

    table, _ = evolved
    with pytest.raises(SnapshotNotFoundError) as info:
        plan_scan(table, 42)
    assert info.value.ref == "42"


def test_plans_are_cached_per_snapshot(evolved: tuple[Table, int]) -> None:
    table, first = evolved
    assert cached_plan(table, first) is cached_plan(table, first)
    assert cached_plan(table, first) is not cached_plan(table, table.current_snapshot().snapshot_id)


@pytest.fixture
def nested(catalog: SqlCatalog, mor: type[Files]) -> Table:
    """A struct, a list of structs and a map of structs, then a nested field added and one widened."""
    catalog.create_namespace("d")
    point = StructType(NestedField(10, "x", IntegerType(), required=False))
    schema = Schema(
        NestedField(1, "id", LongType(), required=False),
        NestedField(2, "s", StructType(NestedField(3, "a", IntegerType(), required=False)), required=False),
        NestedField(4, "pts", ListType(5, point, element_required=False), required=False),
        NestedField(6, "m", MapType(7, StringType(), 8, point, value_required=False), required=False),
    )
    table = catalog.create_table("d.nested", schema=schema)
    mor.append(table, [{"id": 1, "s": {"a": 1}, "pts": [{"x": 1}, {"x": 2}], "m": {"k": {"x": 3}}}])
    with table.update_schema() as update:
        update.add_column(("s", "b"), StringType())
        update.update_column(("s", "a"), LongType())
        update.add_column(("pts", "element", "y"), DoubleType())
    row = {"id": 2, "s": {"a": 2**40, "b": "bee"}, "pts": [{"x": 7, "y": 0.5}], "m": None}
    mor.append(table, [row])
    return table


def test_nested_struct_list_and_map_read_across_evolution(nested: Table, duck: Any) -> None:
    expected = [
        {
            "id": 1,
            "s": {"a": 1, "b": None},
            "pts": [{"x": 1, "y": None}, {"x": 2, "y": None}],
            "m": [("k", {"x": 3})],
        },
        # pyarrow writes the null map as an empty one
        {"id": 2, "s": {"a": 2**40, "b": "bee"}, "pts": [{"x": 7, "y": 0.5}], "m": []},
    ]
    from_duck, _ = both(current(nested), duck)
    assert from_duck == expected
    frame = current(nested).to_polars().sort("id").collect()
    assert frame["s"].to_list() == [{"a": 1, "b": None}, {"a": 2**40, "b": "bee"}]
    assert frame["pts"].to_list() == expected_pts(expected)


def expected_pts(expected: list[dict[str, Any]]) -> list[Any]:
    return [row["pts"] for row in expected]


def test_a_renamed_nested_field_refuses_duckdb_but_reads_by_id_in_polars(
    nested: Table, mor: type[Files], duck: Any
) -> None:
    with nested.update_schema() as update:
        update.rename_column("s.a", "alpha")
    # No file has the new name yet: the snapshot still reads with its own schema, in DuckDB too.
    assert len(duck.sql(current(nested).to_duckdb_sql()).fetchall()) == 2
    mor.append(nested, [{"id": 3, "s": {"alpha": 3, "b": "c"}, "pts": [], "m": {}}])
    plan = current(nested)
    with pytest.raises(UnsupportedScanError) as info:
        plan.to_duckdb_sql()
    assert "s.alpha" in info.value.problem
    assert info.value.address == "d.nested"
    frame = plan.to_polars().sort("id").collect()
    assert frame["s"].to_list() == [
        {"alpha": 1, "b": None},
        {"alpha": 2**40, "b": "bee"},
        {"alpha": 3, "b": "c"},
    ]


def test_identity_and_day_partitioned_tables_read_and_prune(catalog: SqlCatalog, mor: type[Files], duck: Any) -> None:
    catalog.create_namespace("d")
    schema = Schema(
        NestedField(1, "id", LongType(), required=False),
        NestedField(2, "region", StringType(), required=False),
        NestedField(3, "at", TimestamptzType(), required=False),
    )
    spec = PartitionSpec(
        PartitionField(source_id=2, field_id=1000, transform=IdentityTransform(), name="region"),
        PartitionField(source_id=3, field_id=1001, transform=DayTransform(), name="at_day"),
    )
    table = catalog.create_table("d.parted", schema=schema, partition_spec=spec)
    utc = dt.UTC
    rows = [
        {"id": 1, "region": "eu", "at": dt.datetime(2026, 11, 1, 8, tzinfo=utc)},
        {"id": 2, "region": "us", "at": dt.datetime(2026, 11, 1, 9, tzinfo=utc)},
        {"id": 3, "region": "eu", "at": dt.datetime(2026, 11, 2, 8, tzinfo=utc)},
    ]
    mor.append(table, rows)
    plan = current(table)
    assert len(plan.tasks) == 3
    assert len(set(plan.partitions)) == 3
    from_duck, from_polars = both(plan, duck)
    assert from_duck == rows
    assert from_polars == rows
    sql = f"SELECT id FROM ({plan.to_duckdb_sql()}) WHERE region = 'eu' ORDER BY id"
    assert duck.sql(sql).fetchall() == [(1,), (3,)]


def test_read_arrow_and_plan_snapshot_serve_the_port_snapshot_api(evolved: tuple[Table, int]) -> None:
    from meshlake.query.engine import read_arrow
    from meshlake.query.plan import plan_snapshot

    table, first = evolved
    plan = plan_snapshot(table.metadata, table.io, first, metadata_location=table.metadata_location, name="d.e")
    assert plan is plan_snapshot(table.metadata, table.io, first)  # cached: same snapshot, same plan
    arrow = read_arrow(plan, io=table.io)
    assert arrow.schema.names == ["id", "amount", "name"]
    assert sorted(arrow.to_pylist(), key=lambda r: r["id"]) == [
        {"id": 1, "amount": 1.5, "name": "a"},
        {"id": 2, "amount": 2.5, "name": "b"},
    ]
