"""The row masks loaded into meshlake's DuckDB extension: an LRU bounded by bytes, whose drops the C side follows;
a bound query keeps its mask; one process's masks serve every DuckDB database in it."""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa
import pytest

from meshlake.query.native import masks as native_masks
from meshlake.query.native.masks import MaskRegistry, connect, loaded, masks, native_mode
from meshlake.query.plan import DataTask
from meshlake.query.sql import scan_sql
from tests.workers import batch

from .conftest import current, mask_keys, read, sorted_rows


@pytest.fixture
def dirty(port: Any) -> list[DataTask]:
    """Three data files of 1,000 rows, each with a merge-on-read delete: a mask of one of them is 128 bytes."""
    for writer in "abc":
        port.write(batch(writer, 0, 1000))
    port.delete("shipment_id IN ('a-0-1', 'b-0-2', 'c-0-3')", write_mode="merge-on-read")
    tasks = [t for t in current(port.table()).tasks if t.position_deletes]
    assert len(tasks) == 3
    return tasks


def binds(con: duckdb.DuckDBPyConnection, key: str) -> bool:
    """Whether a query testing rows against `key` binds (its mask is loaded)."""
    try:
        con.sql(f"SELECT meshlake_kept('{key}', 0, 0)").fetchall()
    except duckdb.BinderException as exc:
        assert key in str(exc)
        return False
    return True


def test_the_registry_drops_the_least_recently_used_masks_past_its_bytes(
    dirty: list[DataTask], native_con: Any
) -> None:
    library = native_masks._lib()
    assert library is not None
    before = library.count()
    registry = MaskRegistry(max_bytes=256, min_kept=1)
    a, b = registry.ensure(dirty[:1]), registry.ensure(dirty[1:2])
    assert (len(registry), registry.bytes, library.count() - before) == (2, 256, 2)
    c = registry.ensure(dirty[2:])
    assert (len(registry), registry.bytes, library.count() - before) == (2, 256, 2)
    assert [binds(native_con, k) for k in (a, b, c)] == [False, True, True], "the oldest went, on the C side too"
    assert registry.ensure(dirty[1:2]) == b and library.count() - before == 2, "a loaded mask is only touched"
    registry.ensure(dirty[:1])
    assert [binds(native_con, k) for k in (a, b, c)] == [True, True, False], "c was the least recently used"
    everything = registry.ensure(dirty)  # 3,000 bits, past the bound alone: kept, every other one dropped
    assert (len(registry), registry.bytes) == (1, 376) and library.count() - before == 1
    registry.clear()
    assert len(registry) == 0 and library.count() == before and not binds(native_con, everything)


def test_a_bound_query_keeps_its_mask_while_the_registry_drops_it(port: Any, native_con: Any) -> None:
    port.write(batch("a", 0, 3000))
    port.delete("shipment_id IN ('a-0-1', 'a-0-2999')", write_mode="merge-on-read")
    sql = scan_sql(current(port.table()), native=native_mode(native_con))
    [key] = mask_keys(sql)
    reader = native_con.sql(sql).to_arrow_reader(1000)
    first = reader.read_next_batch()
    assert first.num_rows < 2998, "the query is under way, not done"
    masks.clear()
    assert not binds(native_con, key), "dropped: a new query cannot bind it"
    rest = reader.read_all()
    rows = sorted_rows(pa.Table.from_batches([first, *rest.to_batches()], schema=first.schema))
    assert rows == sorted_rows(port.table().scan().to_arrow()) and len(rows) == 2998


def test_masks_serve_connections_of_different_databases(dirty: list[DataTask], port: Any) -> None:
    one, other = connect(), connect()
    if not (loaded(one) and loaded(other)):
        pytest.skip("meshlake's DuckDB extension cannot be loaded here")
    library = native_masks._lib()
    assert library is not None
    one.execute("CREATE TABLE only_here AS SELECT 1")
    with pytest.raises(duckdb.CatalogException):
        other.sql("SELECT * FROM only_here").fetchall()  # two databases, not two cursors of one
    sql = scan_sql(current(port.table()), native=native_mode(one))
    count = library.count()
    assert read(one, sql) == read(other, sql) == sorted_rows(port.table().scan().to_arrow())
    assert library.count() == count, "the second database used the mask the first did"


def test_a_views_kept_text_is_planned_again_when_its_mask_was_dropped(port: Any, shipments: Any) -> None:
    """A `lake.duckdb()` session keeps each view's relation text; once the registry drops its mask (the LRU, or
    `clear`), the next read plans it again instead of failing at bind."""
    port.write(batch("a", 0, 1000))
    port.delete("shipment_id IN ('a-0-1', 'a-0-2')", write_mode="merge-on-read")
    con = shipments.duckdb()
    if not loaded(con):
        pytest.skip("meshlake's DuckDB extension cannot be loaded here")
    query = "SELECT * FROM logistics.shipments.daily"
    expected = sorted_rows(port.table().scan().to_arrow())
    assert read(con, query) == expected
    masks.clear()
    assert read(con, query) == expected and len(masks) == 1
    masks.clear()
    assert sorted_rows(shipments.sql(query).to_arrow_table()) == expected


def test_the_most_recently_used_masks_stay_past_the_bound(port: Any, native_con: Any) -> None:
    """A mask just handed out survives other threads' masks made before its query binds: the `min_kept` newest are
    never dropped, whatever the bytes they hold."""
    port.write(batch("a", 0, 1000))
    port.write(batch("b", 0, 1000))
    port.write(batch("c", 0, 1000))
    port.delete("shipment_id IN ('a-0-1', 'b-0-1', 'c-0-1')", write_mode="merge-on-read")
    dirty = [t for t in current(port.table()).tasks if t.position_deletes]
    assert len(dirty) == 3
    registry = MaskRegistry(max_bytes=1, min_kept=2)
    a, b = registry.ensure(dirty[:1]), registry.ensure(dirty[1:2])
    assert len(registry) == 2 and registry.bytes > registry.max_bytes, "both kept past the bound"
    c = registry.ensure(dirty[2:])
    assert [binds(native_con, k) for k in (a, b, c)] == [False, True, True], "only the least recently used went"
    registry.clear()
