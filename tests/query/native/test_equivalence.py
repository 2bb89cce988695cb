"""Reads through meshlake's DuckDB extensions (`scan_sql(plan, native="scan" | "filter")`) return exactly the rows of
the SQL path and of pyiceberg, for every snapshot of ports written by merge-on-read upserts and deletes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.schema import Schema
from pyiceberg.table import Table
from pyiceberg.types import LongType, NestedField, StringType

import meshlake as ml
from meshlake.query.engine import read_arrow
from meshlake.query.native.masks import loaded, maskable, masks, native_mode
from meshlake.query.plan import plan_scan
from meshlake.query.sql import scan_sql
from tests.conftest import DescriptorWriter
from tests.query.conftest import Files
from tests.workers import batch
from tests.write.test_merge_on_read import changes

from .conftest import current, read, reads_agree, shape, sorted_rows

MOR = {"mode": "upsert", "write_mode": "merge-on-read"}
PORT = "logistics.shipments.daily"


def data_paths(port: Any) -> set[str]:
    return {f["file_path"] for f in port.table().inspect.files().to_pylist() if f["content"] == 0}


@pytest.fixture
def upserted(port: Any) -> Any:
    """Two files of 1,000 rows; two upserts touching both (so a file has several delete files), then deletes of
    rows the first upsert wrote and of rows of the first files: most rows sit in files with deletes."""
    port.write(batch("a", 0, 1000))
    port.write(batch("b", 0, 1000))
    first = data_paths(port)
    port.write(changes([f"a-0-{i}" for i in range(0, 1000, 7)] + [f"b-0-{i}" for i in range(0, 1000, 5)], 2.0), **MOR)
    port.write(changes([f"a-0-{i}" for i in range(3, 1000, 11)] + ["new-1", "new-2"], 3.0), **MOR)
    port.delete("weight_kg = 2.0 AND shipment_id LIKE 'b-%'", write_mode="merge-on-read")
    port.delete("shipment_id IN ('a-0-1', 'a-0-2', 'b-0-999', 'new-1')", write_mode="merge-on-read")
    dirty = [t for t in current(port.table()).tasks if t.position_deletes]
    assert max(len(t.position_deletes) for t in dirty) >= 2, "a file with several delete files"
    assert any(t.path not in first for t in dirty), "deletes on a file an upsert wrote"
    return port


def test_every_snapshot_of_merge_on_read_upserts_reads_the_same_natively(upserted: Any, native_con: Any) -> None:
    shapes = reads_agree(upserted.table(), native_con)
    assert "one scan" in shapes and shapes[:2] == ["sql", "sql"], shapes


def test_few_dirty_rows_are_masked_apart_from_the_clean_files_and_read_the_same(port: Any, native_con: Any) -> None:
    for writer in "abcd":
        port.write(batch(writer, 0, 500))
    port.write(changes([f"c-0-{i}" for i in range(0, 500, 3)], 2.0), **MOR)
    port.delete("shipment_id IN ('c-0-1', 'c-0-499')", write_mode="merge-on-read")
    shapes = reads_agree(port.table(), native_con)
    apart = "one scan" if native_mode(native_con) == "scan" else "clean plain + dirty masked"  # no test per clean row
    assert shapes[-2:] == [apart] * 2, shapes


def test_columns_named_like_the_scans_own_columns_read_the_same(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter, native_con: Any
) -> None:
    """`read_parquet(..., file_row_number = true)` adds `file_row_number` and reads `file_index`: the port's own
    columns of those names keep their values."""
    columns = descriptor["outputs"][0]["columns"]
    columns[2:] = [{"name": "file_row_number", "type": "long"}, {"name": "file_index", "type": "long"}]
    lake.deploy(write_descriptor(descriptor))
    port = lake.port(PORT)

    def rows(ids: list[str], offset: int) -> pa.Table:
        return pa.table(
            {
                "shipment_id": ids,
                "shipped_at": pa.array([datetime(2026, 11, 1, tzinfo=UTC)] * len(ids), pa.timestamp("us", tz="UTC")),
                "file_row_number": [offset + n for n in range(len(ids))],
                "file_index": [-offset - n for n in range(len(ids))],
            }
        )

    port.write(rows([f"a-{i}" for i in range(1000)], 10_000))
    port.write(rows([f"a-{i}" for i in range(0, 1000, 4)], 50_000), **MOR)
    port.delete("shipment_id IN ('a-1', 'a-2')", write_mode="merge-on-read")
    assert reads_agree(port.table(), native_con)[-1] == "one scan"
    latest = read(native_con, scan_sql(current(port.table()), native=native_mode(native_con)))
    assert {r[2] for r in latest if r[0] == "a-3"} == {10_003} and {r[3] for r in latest if r[0] == "a-4"} == {-50_001}


def test_a_port_with_only_clean_files_reads_plainly(port: Any, native_con: Any) -> None:
    port.write(batch("a", 0, 1000))
    port.write(batch("b", 0, 1000))
    plan = current(port.table())
    assert scan_sql(plan, native=native_mode(native_con)) == scan_sql(plan)
    assert reads_agree(port.table(), native_con) == ["sql", "sql"]


def test_a_file_whose_every_row_is_deleted_reads_none_of_them(port: Any, native_con: Any) -> None:
    port.write(batch("a", 0, 1000))
    port.write(batch("b", 0, 1000))
    port.delete("shipment_id LIKE 'a-%'", write_mode="merge-on-read")
    [gone] = [t for t in current(port.table()).tasks if t.position_deletes]
    assert sum(d.record_count for d in gone.position_deletes) == gone.record_count
    assert reads_agree(port.table(), native_con)[-1] == "one scan"
    latest = read(native_con, scan_sql(current(port.table()), native=native_mode(native_con)))
    assert len(latest) == 1000 and all(r[0].startswith("b-") for r in latest)


@pytest.fixture
def table(catalog: SqlCatalog) -> Table:
    catalog.create_namespace("n")
    schema = Schema(NestedField(1, "id", LongType(), required=False), NestedField(2, "v", StringType(), required=False))
    return catalog.create_table("n.t", schema=schema)


def _file(table: Table, mor: type[Files], ids: range) -> str:
    before = set(mor.files_of(table))
    mor.append(table, [{"id": i, "v": f"v{i}"} for i in ids])
    (path,) = set(mor.files_of(table)) - before
    return path


@pytest.mark.parametrize("kind", ["equality", "shared position"])
def test_deletes_a_mask_cannot_hold_fall_back_to_the_sql_path(
    table: Table, mor: type[Files], native_con: Any, kind: str
) -> None:
    a = _file(table, mor, range(1000))
    b = _file(table, mor, range(1000, 2000))
    mor.commit(table, deletes=[mor.position_deletes(table, [(a, 3), (a, 4)])])  # file-scoped, maskable alone
    if kind == "equality":
        mor.commit(table, deletes=[mor.equality_deletes(table, {"id": [7, 1500]})])
    else:
        mor.commit(table, deletes=[mor.position_deletes(table, [(a, 7), (b, 500)], bounds=False)])
    plan = current(table)
    assert not maskable(plan.tasks)
    assert scan_sql(plan, native=native_mode(native_con)) == scan_sql(plan)
    assert reads_agree(table, native_con, equality=kind == "equality") == ["sql", "sql", "one scan", "sql"]
    ids = [r[0] for r in read(native_con, scan_sql(plan, native=native_mode(native_con)))]
    assert len(ids) == 1996 and not {3, 4, 7, 1500} & set(ids)


def test_lake_duckdb_views_and_lake_sql_time_travel_read_the_same(upserted: Any, shipments: ml.Lake) -> None:
    table = upserted.table()
    masks.clear()
    con = shipments.duckdb()
    assert loaded(con), "lake.duckdb() loads the extension"
    latest = sorted_rows(table.scan().to_arrow())
    assert read(con, f"SELECT * FROM {PORT}") == latest
    assert len(masks) >= 1, "the view read through a row mask"
    for snapshot in table.snapshots():
        at = f"SELECT * FROM {PORT} AT (VERSION => {snapshot.snapshot_id})"
        expected = sorted_rows(table.scan(snapshot_id=snapshot.snapshot_id).to_arrow())
        assert sorted_rows(shipments.sql(at).to_arrow_table()) == expected, snapshot.snapshot_id
        assert sorted_rows(shipments.sql(at, con=con).to_arrow_table()) == expected, snapshot.snapshot_id


def test_a_plain_connection_never_gets_the_native_text(upserted: Any, native_con: Any) -> None:
    """A connection that did not load the extensions cannot run `meshlake_scan` or `meshlake_kept`: the SQL path it
    gets reads right."""
    plain = duckdb.connect()
    plan = current(upserted.table())
    native = native_mode(native_con)
    assert shape(scan_sql(plan, native=native)) == "one scan"
    with pytest.raises(duckdb.CatalogException, match="meshlake_scan" if native == "scan" else "meshlake_kept"):
        plain.sql(scan_sql(plan, native=native)).fetchall()
    assert read(plain, scan_sql(plan)) == sorted_rows(upserted.table().scan().to_arrow())


def test_read_arrow_applies_the_deletes_with_a_row_mask(upserted: Any, native_con: Any) -> None:
    table = upserted.table()
    masks.clear()
    for snapshot in table.snapshots():
        got = read_arrow(plan_scan(table, snapshot.snapshot_id), io=table.io)
        assert sorted_rows(got) == sorted_rows(table.scan(snapshot_id=snapshot.snapshot_id).to_arrow())
    assert len(masks) >= 2, "the snapshots with deletes were read through row masks"
