"""Merge-on-read tables as Spark and Flink write them: position and equality delete files.

pyiceberg never writes delete files, so the fixtures write them per the Iceberg spec (see conftest) and
commit them in DELETES manifests. DuckDB and Polars must both return exactly the live rows.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.manifest import FileFormat
from pyiceberg.schema import Schema
from pyiceberg.table import Table
from pyiceberg.types import LongType, NestedField, StringType

from meshlake.query.errors import UnsupportedScanError
from meshlake.query.plan import ScanPlan, plan_scan

from .conftest import Files, duck_rows


def current(table: Table) -> ScanPlan:
    return plan_scan(table, table.current_snapshot().snapshot_id)


def both(plan: ScanPlan, duck: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from_duck = duck_rows(duck, plan.to_duckdb_sql(), order='"id" NULLS FIRST, "v"')
    from_polars = plan.to_polars().sort(["id", "v"], nulls_last=False).collect().to_dicts()
    return from_duck, from_polars


def add(table: Table, mor: type[Files], rows: list[dict[str, Any]]) -> str:
    """Append rows as one new data file and return its path."""
    before = set(mor.files_of(table))
    mor.append(table, rows)
    (path,) = set(mor.files_of(table)) - before
    return path


def rows_of(ids: list[int | None]) -> list[dict[str, Any]]:
    return [{"id": i, "v": f"v{i}"} for i in ids]


@pytest.fixture
def table(catalog: SqlCatalog) -> Table:
    catalog.create_namespace("d")
    schema = Schema(NestedField(1, "id", LongType(), required=False), NestedField(2, "v", StringType(), required=False))
    return catalog.create_table("d.t", schema=schema)


@pytest.mark.parametrize("bounds", [True, False], ids=["file-scoped", "partition-scoped"])
def test_position_deletes_drop_exactly_the_listed_rows(table: Table, mor: type[Files], duck: Any, bounds: bool) -> None:
    a = add(table, mor, rows_of([1, 2, 3]))
    b = add(table, mor, rows_of([4, 5, 6]))
    if bounds:  # Spark >= 1.5 default: one delete file per data file, with equal file_path bounds
        deletes = [mor.position_deletes(table, [(a, 0), (a, 2)]), mor.position_deletes(table, [(b, 1)])]
    else:  # one delete file holding rows of several data files, no bounds
        deletes = [mor.position_deletes(table, [(a, 0), (a, 2), (b, 1)], bounds=False)]
    mor.commit(table, deletes=deletes)
    expected = rows_of([2, 4, 6])
    assert both(current(table), duck) == (expected, expected)
    assert sorted(table.scan().to_arrow().to_pylist(), key=lambda r: r["id"]) == expected  # pyiceberg agrees


def test_many_file_scoped_delete_files_each_drop_rows_of_their_own_file_only(
    table: Table, mor: type[Files], duck: Any
) -> None:
    # More delete files than a list literal holds (`sql._LONG_LIST`), in an order unlike their data files'.
    files = [mor.data_file(table, rows_of([10 * n, 10 * n + 1, 10 * n + 2])) for n in range(70)]
    mor.commit(table, add=files)
    deletes = [mor.position_deletes(table, [(f.file_path, n % 3)]) for n, f in reversed(list(enumerate(files)))]
    mor.commit(table, deletes=deletes)
    expected = rows_of(sorted(10 * n + i for n in range(70) for i in range(3) if i != n % 3))
    assert both(current(table), duck) == (expected, expected)


def test_position_deletes_survive_filters_pushed_into_the_scan(table: Table, mor: type[Files], duck: Any) -> None:
    a = add(table, mor, rows_of(list(range(10))))
    mor.commit(table, deletes=[mor.position_deletes(table, [(a, 7), (a, 8)], bounds=False)])
    sql = current(table).to_duckdb_sql()
    assert duck.sql(f"SELECT id FROM ({sql}) WHERE id > 5 ORDER BY id").fetchall() == [(6,), (9,)]
    lazy = current(table).to_polars().filter(pl.col("id") > 5).select("id").sort("id")
    assert lazy.collect()["id"].to_list() == [6, 9]


@pytest.mark.parametrize("bounds", [True, False], ids=["file-scoped", "partition-scoped"])
def test_a_position_delete_older_than_the_data_file_does_not_apply(
    table: Table, mor: type[Files], duck: Any, bounds: bool
) -> None:
    add(table, mor, rows_of([1]))
    future = mor.data_file(table, rows_of([7, 8]))
    # The delete names a path that only becomes a data file in a later commit (higher sequence number).
    mor.commit(table, deletes=[mor.position_deletes(table, [(future.file_path, 0)], bounds=bounds)])
    mor.commit(table, add=[future])
    expected = rows_of([1, 7, 8])
    assert both(current(table), duck) == (expected, expected)


def test_equality_deletes_apply_only_to_older_data_files(table: Table, mor: type[Files], duck: Any) -> None:
    add(table, mor, rows_of([1, 2, 3, None]))
    # Flink upsert: in one commit, delete keys 2, 3 and NULL, and write the new version of 2.
    new_two = mor.data_file(table, [{"id": 2, "v": "new"}])
    mor.commit(table, add=[new_two], deletes=[mor.equality_deletes(table, {"id": [2, 3, None]})])
    add(table, mor, rows_of([3]))  # re-inserted after the delete: stays
    expected = [{"id": 1, "v": "v1"}, {"id": 2, "v": "new"}, {"id": 3, "v": "v3"}]
    assert both(current(table), duck) == (expected, expected)


def test_equality_deletes_on_two_columns_match_both(table: Table, mor: type[Files], duck: Any) -> None:
    add(table, mor, [{"id": 1, "v": "a"}, {"id": 1, "v": "b"}, {"id": 2, "v": "a"}])
    mor.commit(table, deletes=[mor.equality_deletes(table, {"id": [1], "v": ["a"]})])
    expected = [{"id": 1, "v": "b"}, {"id": 2, "v": "a"}]
    assert both(current(table), duck) == (expected, expected)


def test_equality_deletes_on_a_since_dropped_column_still_apply(table: Table, mor: type[Files], duck: Any) -> None:
    with table.update_schema() as update:
        update.add_column("code", StringType())
    mor.append(table, [{"id": 1, "v": "a", "code": "x"}, {"id": 2, "v": "b", "code": "y"}])
    mor.commit(table, deletes=[mor.equality_deletes(table, {"code": ["x"]})])
    with table.update_schema() as update:
        update.delete_column("code")
    add(table, mor, [{"id": 3, "v": "c"}])
    expected = [{"id": 2, "v": "b"}, {"id": 3, "v": "c"}]
    assert both(current(table), duck) == (expected, expected)


def test_mixed_position_and_equality_deletes_with_clean_files(table: Table, mor: type[Files], duck: Any) -> None:
    a = add(table, mor, rows_of([1, 2, 3]))
    mor.commit(
        table,
        deletes=[mor.position_deletes(table, [(a, 0)]), mor.equality_deletes(table, {"id": [3]})],
    )
    add(table, mor, rows_of([10, 11]))  # a clean file, read on the plain path
    plan = current(table)
    assert sum(not t.has_deletes for t in plan.tasks) == 1
    expected = rows_of([2, 10, 11])
    assert both(plan, duck) == (expected, expected)


@pytest.fixture
def regional(catalog: SqlCatalog) -> Table:
    """Unpartitioned at first (spec 0), then partitioned by region (spec 1)."""
    catalog.create_namespace("r")
    schema = Schema(
        NestedField(1, "id", LongType(), required=False),
        NestedField(2, "v", StringType(), required=False),
        NestedField(3, "region", StringType(), required=False),
    )
    table = catalog.create_table("r.t", schema=schema)
    with table.update_spec() as update:
        update.add_identity("region")
    return table


def test_partition_equality_deletes_stay_in_their_partition_and_global_ones_do_not(
    regional: Table, mor: type[Files], duck: Any
) -> None:
    mor.append(regional, [{"id": i, "v": f"{r}{i}", "region": r} for r in ("eu", "us") for i in (1, 2)])
    eu_only = mor.equality_deletes(regional, {"id": [1]}, partition=("eu",))
    mor.commit(regional, deletes=[eu_only])
    everywhere = mor.equality_deletes(regional, {"id": [2]}, spec_id=0)
    mor.commit(regional, deletes=[everywhere], delete_spec_id=0)
    plan = current(regional)
    expected = [{"id": 1, "v": "us1", "region": "us"}]
    assert duck_rows(duck, plan.to_duckdb_sql(), order='"v"') == expected
    assert plan.to_polars().collect().to_dicts() == expected


def test_partition_scoped_position_deletes_only_touch_their_partition(
    regional: Table, mor: type[Files], duck: Any
) -> None:
    mor.append(regional, [{"id": i, "v": f"{r}{i}", "region": r} for r in ("eu", "us") for i in (1, 2)])
    by_region = {t.file.partition[0]: t.file.file_path for t in regional.scan().plan_files()}
    deletes = mor.position_deletes(regional, [(by_region["eu"], 0)], partition=("eu",), bounds=False)
    mor.commit(regional, deletes=[deletes])
    plan = current(regional)
    assert [len(t.position_deletes) for t in sorted(plan.tasks, key=lambda t: t.path != by_region["eu"])] == [
        1,
        0,
    ]
    expected = ["eu2", "us1", "us2"]
    assert [r["v"] for r in duck_rows(duck, plan.to_duckdb_sql(), order='"v"')] == expected
    assert sorted(plan.to_polars().collect()["v"].to_list()) == expected


def test_deletion_vectors_and_non_parquet_files_raise_instead_of_reading_wrong_rows(
    table: Table, mor: type[Files]
) -> None:
    a = add(table, mor, rows_of([1, 2]))
    dv = mor.position_deletes(table, [(a, 0)], file_format=FileFormat.PUFFIN)
    mor.commit(table, deletes=[dv])
    plan = current(table)
    with pytest.raises(UnsupportedScanError) as info:
        plan.to_duckdb_sql()
    assert info.value.address == "d.t"
    with pytest.raises(UnsupportedScanError):
        plan.to_polars()
    orc = dataclasses.replace(plan.tasks[0], file_format="ORC", position_deletes=())
    with pytest.raises(UnsupportedScanError):
        dataclasses.replace(plan, tasks=(orc,)).to_duckdb_sql()


def test_files_without_field_ids_read_by_name_mapping_in_duckdb_and_polars(
    table: Table, tmp_path: Any, duck: Any
) -> None:
    path = tmp_path / "foreign.parquet"
    pq.write_table(pa.table({"v": ["x", "y"], "id": pa.array([5, 6], pa.int32())}), path)  # other order, int32
    table.add_files([f"file://{path}"])  # sets the table's name mapping
    table.append(pa.table({"id": pa.array([7], pa.int64()), "v": ["z"]}))  # a file with field ids
    plan = current(table)
    assert plan.name_mapping
    assert list(plan.unmapped) == [f"file://{path}"]

    from_duck, from_polars = both(plan, duck)

    expected = [{"id": 5, "v": "x"}, {"id": 6, "v": "y"}, {"id": 7, "v": "z"}]
    assert from_duck == from_polars == expected


def test_deletes_on_a_file_without_field_ids_are_refused_by_duckdb(
    table: Table, mor: type[Files], tmp_path: Any
) -> None:
    path = tmp_path / "foreign.parquet"
    pq.write_table(pa.table({"id": pa.array([5, 6], pa.int64()), "v": ["x", "y"]}), path)
    table.add_files([f"file://{path}"])
    deletes = mor.position_deletes(table, [(f"file://{path}", 0)])
    mor.commit(table, deletes=[deletes])

    with pytest.raises(UnsupportedScanError) as info:
        current(table).to_duckdb_sql()

    assert "no field ids" in str(info.value)


def test_imported_files_in_an_identity_partitioned_table_are_refused_by_both_engines(
    regional: Table, tmp_path: Any
) -> None:
    path = tmp_path / "hive.parquet"
    pq.write_table(pa.table({"id": pa.array([1], pa.int64()), "v": ["x"], "region": ["eu"]}), path)
    regional.add_files([f"file://{path}"])
    plan = current(regional)
    with pytest.raises(UnsupportedScanError):
        plan.to_duckdb_sql()
    with pytest.raises(UnsupportedScanError):
        plan.to_polars()
