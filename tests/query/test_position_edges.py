"""Position deletes at the edges of what the DuckDB and Polars readers join: every row of a file, its first
and last rows, one row, the same row listed twice, and file-scoped next to shared delete files.

Each test compares DuckDB (`scan_sql`), Polars and pyiceberg with the rows the deletes leave, with DuckDB's
groups as for a real port, with one group per data file (`sql.GROUP_DELETES`) — both with position masks however
few rows are deleted (`sql.MASK_MIN_DELETES`) — and with anti joins instead of masks (`sql.MASK_BITS`).
"""

from __future__ import annotations

from typing import Any

import pytest
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.schema import Schema
from pyiceberg.table import Table
from pyiceberg.types import LongType, NestedField, StringType

from meshlake.query import sql
from meshlake.query.plan import ScanPlan, plan_scan
from meshlake.query.sql import positions_sql

from .conftest import Files, duck_rows


def current(table: Table) -> ScanPlan:
    return plan_scan(table, table.current_snapshot().snapshot_id)


def read_all(table: Table, duck: Any) -> tuple[list[int], list[int], list[int]]:
    """The ids DuckDB, Polars and pyiceberg read from the current snapshot, sorted."""
    plan = current(table)
    from_duck = [r["id"] for r in duck_rows(duck, plan.to_duckdb_sql(), order='"id"')]
    from_polars = sorted(plan.to_polars().collect()["id"].to_list())
    from_pyiceberg = sorted(table.scan().to_arrow()["id"].to_pylist())
    return from_duck, from_polars, from_pyiceberg


def add(table: Table, mor: type[Files], ids: list[int]) -> str:
    before = set(mor.files_of(table))
    mor.append(table, [{"id": i, "v": f"v{i}"} for i in ids])
    (path,) = set(mor.files_of(table)) - before
    return path


@pytest.fixture(autouse=True, params=["grouped", "one-join-per-file", "anti-joins"])
def groups(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(sql, "MASK_MIN_DELETES", 0)  # masks however few rows the tests delete
    if request.param == "one-join-per-file":
        monkeypatch.setattr(sql, "GROUP_DELETES", 1)
    if request.param == "anti-joins":
        monkeypatch.setattr(sql, "MASK_BITS", 0)
    return str(request.param)


@pytest.fixture
def table(catalog: SqlCatalog) -> Table:
    catalog.create_namespace("e")
    schema = Schema(NestedField(1, "id", LongType(), required=False), NestedField(2, "v", StringType(), required=False))
    return catalog.create_table("e.t", schema=schema)


@pytest.mark.parametrize("bounds", [True, False], ids=["file-scoped", "shared"])
def test_a_file_whose_every_row_is_deleted_reads_no_rows_and_its_neighbour_reads_all(
    table: Table, mor: type[Files], duck: Any, bounds: bool
) -> None:
    gone = add(table, mor, list(range(200)))
    add(table, mor, [1000, 1001])
    mor.commit(table, deletes=[mor.position_deletes(table, [(gone, p) for p in range(200)], bounds=bounds)])
    expected = [1000, 1001]
    assert read_all(table, duck) == (expected, expected, expected)


@pytest.mark.parametrize("bounds", [True, False], ids=["file-scoped", "shared"])
def test_deletes_at_the_first_and_the_last_row_of_a_file_drop_exactly_those(
    table: Table, mor: type[Files], duck: Any, bounds: bool
) -> None:
    a = add(table, mor, list(range(130)))
    b = add(table, mor, list(range(500, 564)))  # 64 rows: its last row is at position 63
    mor.commit(table, deletes=[mor.position_deletes(table, [(a, 0), (a, 129), (b, 63)], bounds=bounds)])
    expected = [*range(1, 129), *range(500, 563)]
    assert read_all(table, duck) == (expected, expected, expected)


def test_one_delete_in_one_of_many_files_drops_one_row(table: Table, mor: type[Files], duck: Any) -> None:
    files = [mor.data_file(table, [{"id": 10 * n + i, "v": "x"} for i in range(5)]) for n in range(80)]
    mor.commit(table, add=files)
    mor.commit(table, deletes=[mor.position_deletes(table, [(files[41].file_path, 2)])])
    expected = sorted(10 * n + i for n in range(80) for i in range(5) if (n, i) != (41, 2))
    assert read_all(table, duck) == (expected, expected, expected)


def test_a_row_listed_by_two_delete_files_is_dropped_once(table: Table, mor: type[Files], duck: Any) -> None:
    a = add(table, mor, [1, 2, 3])
    mor.commit(table, deletes=[mor.position_deletes(table, [(a, 1)])])
    mor.commit(table, deletes=[mor.position_deletes(table, [(a, 1), (a, 2)], bounds=False)])
    expected = [1]
    assert read_all(table, duck) == (expected, expected, expected)


def test_file_scoped_and_shared_deletes_of_the_same_file_both_apply(table: Table, mor: type[Files], duck: Any) -> None:
    a = add(table, mor, list(range(10)))
    b = add(table, mor, list(range(100, 110)))
    mor.commit(
        table,
        deletes=[
            mor.position_deletes(table, [(a, 0), (a, 9)]),
            mor.position_deletes(table, [(a, 5), (b, 0)], bounds=False),
        ],
    )
    expected = [1, 2, 3, 4, 6, 7, 8, *range(101, 110)]
    assert read_all(table, duck) == (expected, expected, expected)


def test_time_travel_reads_the_rows_before_and_after_each_delete(table: Table, mor: type[Files], duck: Any) -> None:
    a = add(table, mor, list(range(6)))
    before = table.current_snapshot().snapshot_id
    mor.commit(table, deletes=[mor.position_deletes(table, [(a, 0), (a, 5)])])
    middle = table.current_snapshot().snapshot_id
    mor.commit(table, deletes=[mor.position_deletes(table, [(a, 3)])])
    reads = []
    for snapshot in (before, middle, table.current_snapshot().snapshot_id):
        plan = plan_scan(table, snapshot)
        reads.append([r["id"] for r in duck_rows(duck, plan.to_duckdb_sql(), order='"id"')])
        assert sorted(plan.to_polars().collect()["id"].to_list()) == reads[-1]
    assert reads == [[0, 1, 2, 3, 4, 5], [1, 2, 3, 4], [1, 2, 4]]


def test_positions_of_live_rows_index_every_file_of_the_plan(
    table: Table, mor: type[Files], duck: Any, groups: str
) -> None:
    files = [mor.data_file(table, [{"id": 10 * n + i, "v": "x"} for i in range(4)]) for n in range(5)]
    mor.commit(table, add=files)
    deleted = {(0, 0), (1, 3), (3, 1), (3, 2), (4, 0)}
    by_path = {f.file_path: n for n, f in enumerate(files)}
    mor.commit(table, deletes=[mor.position_deletes(table, [(files[n].file_path, p)]) for n, p in sorted(deleted)])
    plan = current(table)
    order = [by_path[t.path] for t in plan.tasks]
    text = positions_sql(plan)
    assert ("__ml_pos3" in text) == (groups == "one-join-per-file")  # four anti joins (one file is clean), or one
    rows = duck.sql(f"SELECT id, __ml_file, __ml_pos FROM ({text})").fetchall()
    # Each live row's file index (in the plan's order) and position say where its id was written.
    assert sorted((order[f], p) for _, f, p in rows) == sorted(
        (n, p) for n in range(5) for p in range(4) if (n, p) not in deleted
    )
    assert all(i == 10 * order[f] + p for i, f, p in rows)


def test_shared_delete_files_keep_one_anti_join_so_they_are_read_once(
    table: Table, mor: type[Files], duck: Any, groups: str
) -> None:
    a = add(table, mor, [1, 2, 3])
    b = add(table, mor, [4, 5, 6])
    mor.commit(table, deletes=[mor.position_deletes(table, [(a, 0), (b, 2)], bounds=False)])
    plan = current(table)
    text = plan.to_duckdb_sql()
    assert "__ml_pos1" not in text  # one group even with one join per file asked for
    assert read_all(table, duck) == ([2, 3, 4, 5], [2, 3, 4, 5], [2, 3, 4, 5])


def test_file_scoped_deletes_of_two_files_are_two_anti_joins_when_groups_are_small(
    table: Table, mor: type[Files], duck: Any, groups: str
) -> None:
    a = add(table, mor, [1, 2, 3])
    b = add(table, mor, [4, 5, 6])
    mor.commit(table, deletes=[mor.position_deletes(table, [(a, 0)]), mor.position_deletes(table, [(b, 2)])])
    text = current(table).to_duckdb_sql()
    assert ("__ml_pos1" in text) == (groups == "one-join-per-file")
    assert read_all(table, duck) == ([2, 3, 4, 5], [2, 3, 4, 5], [2, 3, 4, 5])


def test_deletes_at_row_group_boundaries_drop_exactly_those(table: Table, mor: type[Files], duck: Any) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pyiceberg.manifest import DataFile, DataFileContent, FileFormat
    from pyiceberg.typedef import Record

    arrow = pa.Table.from_pylist([{"id": i, "v": f"v{i}"} for i in range(350)], schema=table.schema().as_arrow())
    path = f"{table.location()}/data/row-groups.parquet"
    with table.io.new_output(path).create() as out:
        pq.write_table(arrow, out, row_group_size=100)
    assert pq.ParquetFile(path.removeprefix("file://")).num_row_groups == 4
    size = len(table.io.new_input(path))
    data = DataFile.from_args(
        content=DataFileContent.DATA,
        file_path=path,
        file_format=FileFormat.PARQUET,
        partition=Record(),
        record_count=350,
        file_size_in_bytes=size,
    )
    mor.commit(table, add=[data])
    edges = [0, 99, 100, 199, 200, 299, 300, 349]
    mor.commit(table, deletes=[mor.position_deletes(table, [(path, p) for p in edges])])
    expected = [i for i in range(350) if i not in edges]
    assert read_all(table, duck) == (expected, expected, expected)


def test_a_file_with_more_deletes_than_a_group_holds_reads_right_next_to_small_ones(
    table: Table, mor: type[Files], duck: Any
) -> None:
    big = add(table, mor, list(range(200_000)))
    small = add(table, mor, [-1, -2, -3])
    gone = [p for p in range(200_000) if p % 3]
    assert len(gone) > sql.GROUP_DELETES or sql.GROUP_DELETES == 1
    mor.commit(table, deletes=[mor.position_deletes(table, [(small, 1)])])
    mor.commit(table, deletes=[mor.position_deletes(table, [(big, p) for p in gone])])
    expected = sorted([-3, -1, *range(0, 200_000, 3)])
    assert read_all(table, duck) == (expected, expected, expected)


@pytest.mark.parametrize("bounds", [True, False], ids=["file-scoped", "shared"])
def test_a_delete_file_naming_a_data_file_outside_the_snapshot_drops_only_rows_of_live_files(
    table: Table, mor: type[Files], duck: Any, bounds: bool
) -> None:
    a = add(table, mor, list(range(5)))
    ghost = a.rsplit("/", 1)[0] + "/never-committed.parquet"
    deletes = [mor.position_deletes(table, [(ghost, 0), (ghost, 1)], bounds=bounds)]
    deletes.append(mor.position_deletes(table, [(a, 2)], bounds=bounds))
    mor.commit(table, deletes=deletes)
    expected = [0, 1, 3, 4]
    assert read_all(table, duck) == (expected, expected, expected)


def test_a_data_file_of_no_rows_next_to_a_dirty_file_reads_nothing_extra(
    table: Table, mor: type[Files], duck: Any
) -> None:
    empty = mor.data_file(table, [])
    full = mor.data_file(table, [{"id": i, "v": "x"} for i in range(4)])
    mor.commit(table, add=[empty, full])
    mor.commit(table, deletes=[mor.position_deletes(table, [(full.file_path, 3)])])
    expected = [0, 1, 2]
    assert read_all(table, duck) == (expected, expected, expected)


def test_files_of_different_sizes_share_one_mask_size_and_drop_exactly_their_rows(
    table: Table, mor: type[Files], duck: Any, groups: str
) -> None:
    sizes = [1, 7, 64, 65, 300]
    paths = [add(table, mor, [1000 * n + i for i in range(size)]) for n, size in enumerate(sizes)]
    gone = {(0, 0), (1, 6), (2, 63), (3, 64), (4, 0), (4, 150), (4, 299)}
    mor.commit(table, deletes=[mor.position_deletes(table, [(paths[n], p) for n, p in sorted(gone)])])
    text = current(table).to_duckdb_sql()
    assert ("__ml_mask" in text) == (groups != "anti-joins")
    expected = sorted(1000 * n + i for n, size in enumerate(sizes) for i in range(size) if (n, i) not in gone)
    assert read_all(table, duck) == (expected, expected, expected)


def test_a_delete_past_the_last_row_of_its_file_deletes_nothing(table: Table, mor: type[Files], duck: Any) -> None:
    a = add(table, mor, [1, 2, 3])
    b = add(table, mor, list(range(10, 20)))
    mor.commit(table, deletes=[mor.position_deletes(table, [(a, 1), (a, 5), (b, 10)], bounds=False)])
    from_duck = [r["id"] for r in duck_rows(duck, current(table).to_duckdb_sql(), order='"id"')]
    assert from_duck == [1, 3, *range(10, 20)]


def test_a_data_file_holding_more_rows_than_its_manifest_counts_fails_instead_of_keeping_rows_unchecked(
    table: Table, mor: type[Files], duck: Any, groups: str
) -> None:
    import dataclasses

    import duckdb

    a = add(table, mor, list(range(10)))
    mor.commit(table, deletes=[mor.position_deletes(table, [(a, 8)])])
    plan = current(table)
    understated = dataclasses.replace(plan, tasks=tuple(dataclasses.replace(t, record_count=5) for t in plan.tasks))
    if groups == "anti-joins":  # the anti join needs no row count: it reads right
        rows = duck_rows(duck, understated.to_duckdb_sql(), order='"id"')
        assert [r["id"] for r in rows] == [0, 1, 2, 3, 4, 5, 6, 7, 9]
        return
    with pytest.raises(duckdb.InvalidInputException, match="manifest"):
        duck_rows(duck, understated.to_duckdb_sql())


def test_a_group_with_few_deletes_keeps_the_anti_join(
    table: Table, mor: type[Files], duck: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sql, "MASK_MIN_DELETES", 3)
    monkeypatch.setattr(sql, "MASK_BITS", 1 << 30)
    a = add(table, mor, list(range(10)))
    mor.commit(table, deletes=[mor.position_deletes(table, [(a, 1), (a, 2)])])
    assert "__ml_mask" not in current(table).to_duckdb_sql()
    mor.commit(table, deletes=[mor.position_deletes(table, [(a, 3)])])
    assert "__ml_mask" in current(table).to_duckdb_sql()
    assert read_all(table, duck)[0] == [0, 4, 5, 6, 7, 8, 9]
