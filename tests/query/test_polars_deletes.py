"""Polars' read of data files with file-scoped position deletes: the files are scanned together with a row index
running across them and each file's deleted positions, shifted by the rows before it, filtered out
(`polars_scan._scan_file_scoped`), and must read exactly what Polars' own deletion-file reader
(`FILTERED_MAX_FILES = 0`), DuckDB and pyiceberg read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.manifest import DataFile, DataFileContent, FileFormat
from pyiceberg.schema import Schema
from pyiceberg.table import Table
from pyiceberg.types import LongType, NestedField, StringType

from meshlake.query import polars_scan
from meshlake.query.errors import UnsupportedScanError
from meshlake.query.plan import ScanPlan, plan_scan

from .conftest import Files, duck_rows


@pytest.fixture
def table(catalog: SqlCatalog) -> Table:
    catalog.create_namespace("e")
    schema = Schema(NestedField(1, "id", LongType(), required=False), NestedField(2, "v", StringType(), required=False))
    return catalog.create_table("e.t", schema=schema)


@pytest.fixture(autouse=True)
def nothing_kept() -> Iterator[None]:
    polars_scan.delete_positions.clear()
    polars_scan.row_counts.clear()
    yield
    polars_scan.delete_positions.clear()
    polars_scan.row_counts.clear()


def current(table: Table) -> ScanPlan:
    return plan_scan(table, table.current_snapshot().snapshot_id)


def add(
    table: Table,
    mor: type[Files],
    ids: list[int],
    *,
    row_group_size: int | None = None,
    record_count: int | None = None,
) -> str:
    """A data file of `ids` (in row groups of `row_group_size`; its manifest entry saying `record_count` rows if
    given), committed; its path."""
    data = pa.Table.from_pylist([{"id": i, "v": f"v{i}"} for i in ids], schema=table.schema().as_arrow())
    file = mor.data_file(table, data)
    if row_group_size is not None or record_count is not None:
        with table.io.new_output(file.file_path).create(overwrite=True) as out:
            pq.write_table(data, out, row_group_size=row_group_size)
        file = DataFile.from_args(
            content=DataFileContent.DATA,
            file_path=file.file_path,
            file_format=FileFormat.PARQUET,
            partition=file.partition,
            record_count=data.num_rows if record_count is None else record_count,
            file_size_in_bytes=len(table.io.new_input(file.file_path)),
        )
    mor.commit(table, add=[file])
    return file.file_path


def native(plan: ScanPlan, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    with monkeypatch.context() as patched:
        patched.setattr(polars_scan, "FILTERED_MAX_FILES", 0)
        return sorted(plan.to_polars().collect()["id"].to_list())


def test_filtered_and_native_polars_reads_drop_exactly_the_deleted_rows(
    table: Table, mor: type[Files], duck: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = add(table, mor, list(range(1000)), row_group_size=100)
    b = add(table, mor, list(range(2000, 2010)))
    add(table, mor, [5000, 5001])
    gone_a = [0, 99, 100, 101, 555, 999]
    mor.commit(table, deletes=[mor.position_deletes(table, [(a, p) for p in gone_a[:3]])])
    mor.commit(table, deletes=[mor.position_deletes(table, [(a, p) for p in gone_a[2:]])])  # 100 listed twice
    mor.commit(table, deletes=[mor.position_deletes(table, [(b, 9)])])
    plan = current(table)
    assert sum(1 for t in plan.tasks if t.position_deletes) == 2
    expected = sorted([i for i in range(1000) if i not in gone_a] + list(range(2000, 2009)) + [5000, 5001])
    assert sorted(plan.to_polars().collect()["id"].to_list()) == expected
    assert native(plan, monkeypatch) == expected
    assert [r["id"] for r in duck_rows(duck, plan.to_duckdb_sql(), order='"id"')] == expected
    assert sorted(table.scan().to_arrow()["id"].to_pylist()) == expected


def test_a_filter_on_a_file_with_deletes_reads_only_live_matching_rows(table: Table, mor: type[Files]) -> None:
    a = add(table, mor, list(range(1000)), row_group_size=100)
    mor.commit(table, deletes=[mor.position_deletes(table, [(a, 450), (a, 451), (a, 900)])])
    frame = current(table).to_polars().filter(pl.col("id").is_between(440, 460))
    assert sorted(frame.collect()["id"].to_list()) == [i for i in range(440, 461) if i not in (450, 451)]


def test_files_keep_the_plan_order_around_a_filtered_file(table: Table, mor: type[Files]) -> None:
    live = {add(table, mor, [1, 2]): [1, 2], add(table, mor, [10, 11, 12]): [10, 12], add(table, mor, [20]): [20]}
    dirty = next(path for path, ids in live.items() if ids == [10, 12])
    mor.commit(table, deletes=[mor.position_deletes(table, [(dirty, 1)])])
    plan = current(table)
    expected = [i for t in plan.tasks for i in live[t.path]]
    assert plan.to_polars().collect()["id"].to_list() == expected


def test_positions_outside_the_file_delete_nothing(table: Table, mor: type[Files]) -> None:
    a = add(table, mor, [1, 2, 3])
    mor.commit(table, deletes=[mor.position_deletes(table, [(a, -1), (a, 1), (a, 3), (a, 1 << 40)])])
    assert sorted(current(table).to_polars().collect()["id"].to_list()) == [1, 3]


def test_a_position_past_a_files_rows_does_not_delete_a_row_of_the_next_file(table: Table, mor: type[Files]) -> None:
    a = add(table, mor, [1, 2, 3])
    b = add(table, mor, [10, 11, 12])
    mor.commit(table, deletes=[mor.position_deletes(table, [(a, 3), (a, 4), (a, 0)])])
    mor.commit(table, deletes=[mor.position_deletes(table, [(b, 2)])])
    plan = current(table)
    assert [t.record_count for t in plan.tasks] == [3, 3]
    assert sorted(plan.to_polars().collect()["id"].to_list()) == [2, 3, 10, 11]


@pytest.mark.parametrize("counted", [2, 4], ids=["fewer", "more"])
def test_a_data_file_whose_manifest_miscounts_its_rows_fails_the_polars_read(
    table: Table, mor: type[Files], counted: int
) -> None:
    """The row index runs across files, so a wrong record count would shift the next file's deletes: refused."""
    a = add(table, mor, [1, 2, 3], record_count=counted)
    b = add(table, mor, [10, 11, 12])
    mor.commit(table, deletes=[mor.position_deletes(table, [(a, 0)]), mor.position_deletes(table, [(b, 0)])])
    with pytest.raises(UnsupportedScanError, match=f"holds 3 rows, its manifest entry says {counted}"):
        current(table).to_polars()


def test_clean_files_before_and_after_the_dirty_ones_are_read_plainly_in_plan_order(
    table: Table, mor: type[Files]
) -> None:
    """Only the files from the first dirty one to the last share the row index, so only their counts must hold."""
    first = add(table, mor, [1, 2], record_count=5)  # miscounted, but outside the span: no position depends on it
    dirty = add(table, mor, [10, 11, 12])
    last = add(table, mor, [20, 21], record_count=7)
    mor.commit(table, deletes=[mor.position_deletes(table, [(dirty, 0)])])
    live = {first: [1, 2], dirty: [11, 12], last: [20, 21]}
    plan = current(table)
    assert plan.to_polars().collect()["id"].to_list() == [i for t in plan.tasks for i in live[t.path]]


def test_delete_positions_are_read_once_per_delete_file_and_kept_within_their_bound(
    table: Table, mor: type[Files], monkeypatch: pytest.MonkeyPatch
) -> None:
    read: list[str] = []
    reader = polars_scan._read_positions

    def recording(paths: list[str], options: Any) -> Any:
        read.extend(paths)
        return reader(paths, options)

    monkeypatch.setattr(polars_scan, "_read_positions", recording)
    a = add(table, mor, list(range(10)))
    b = add(table, mor, list(range(10, 20)))
    first = [mor.position_deletes(table, [(a, 1), (a, 2)]), mor.position_deletes(table, [(b, 3)])]
    mor.commit(table, deletes=first)
    kept = polars_scan.DeletePositions()
    dirty = [t for t in current(table).tasks if t.position_deletes]
    assert sorted(s.to_list() for s in kept.load(dirty, None).values()) == [[1, 2], [3]]
    assert sorted(read) == sorted(f.file_path for f in first)
    read.clear()
    mor.commit(table, deletes=[mor.position_deletes(table, [(a, 2), (a, 7)])])  # 2 listed again
    dirty = [t for t in current(table).tasks if t.position_deletes]
    assert sorted(kept.of(t, None).to_list() for t in dirty) == [[1, 2, 7], [3]]
    assert len(read) == 1, "only the new delete file is read; the others are kept"
    span = list(current(table).tasks)
    shift = {t.path: sum(u.record_count for u in span[:i]) for i, t in enumerate(span)}
    expected = sorted([p + shift[a] for p in (1, 2, 7)] + [3 + shift[b]])
    assert kept.across(span, None).to_list() == expected, "each file's positions shifted by the rows before it"
    assert len(read) == 1, "the span's positions come from the kept ones"
    small = polars_scan.DeletePositions(max_positions=2)
    assert sorted(small.of(t, None).to_list() for t in dirty) == [[1, 2, 7], [3]]
    assert len(small._files) <= 2 and len(small._sets) <= 2, "the bound holds: the least recently used went"


def test_a_corrupted_delete_file_fails_the_polars_read(table: Table, mor: type[Files]) -> None:
    a = add(table, mor, [1, 2, 3])
    deletes = mor.position_deletes(table, [(a, 1)])
    mor.commit(table, deletes=[deletes])
    Path(deletes.file_path.removeprefix("file://")).write_bytes(b"not a parquet file" * 10)
    with pytest.raises(pl.exceptions.PolarsError):
        current(table).to_polars().collect()


@pytest.mark.parametrize("first", ["with-row", "without-row"])
def test_delete_files_with_and_without_the_deleted_row_column_are_read_together(
    table: Table, mor: type[Files], duck: Any, first: str
) -> None:
    a = add(table, mor, list(range(10)))
    plain = mor.position_deletes(table, [(a, 1)])
    written = mor.position_deletes(table, [(a, 4)])
    rows = pq.read_table(written.file_path.removeprefix("file://"))
    rows = rows.append_column("row", pa.array(["v4"]))  # the spec's optional deleted-row column
    # Delete files are read in the order of their paths: name this one to come first or last.
    path = f"{table.location()}/data/{'0' if first == 'with-row' else 'z'}-deletes-with-row.parquet"
    with table.io.new_output(path).create() as out:
        pq.write_table(rows, out)
    with_row = DataFile.from_args(
        content=DataFileContent.POSITION_DELETES,
        file_path=path,
        file_format=FileFormat.PARQUET,
        partition=written.partition,
        record_count=1,
        file_size_in_bytes=len(table.io.new_input(path)),
        lower_bounds=written.lower_bounds,
        upper_bounds=written.upper_bounds,
    )
    mor.commit(table, deletes=[plain, with_row])
    expected = [0, 2, 3, 5, 6, 7, 8, 9]
    assert sorted(current(table).to_polars().collect()["id"].to_list()) == expected
    assert [r["id"] for r in duck_rows(duck, current(table).to_duckdb_sql(), order='"id"')] == expected
