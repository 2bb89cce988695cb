"""Fixtures for meshlake's DuckDB extension (`meshlake.query.native`): a connection that loaded it, a build of it
in a fresh cache folder, and reads of a snapshot compared across the native path, the SQL path and pyiceberg."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from pyiceberg.table import Table

from meshlake.query.native import build
from meshlake.query.native.masks import connect, loaded, masks, native_mode
from meshlake.query.plan import ScanPlan, plan_scan
from meshlake.query.sql import scan_sql
from tests.workers import batch

Row = tuple[Any, ...]


@pytest.fixture(params=["scan", "filter"])
def native_con(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection with meshlake's extensions loaded, once applying deletes in `meshlake_scan` and once in
    the C extension's `meshlake_kept` filter (`MESHLAKE_NATIVE_DELETES=filter`); the test is skipped, saying why,
    where that cannot be had."""
    if request.param == "filter":
        monkeypatch.setenv("MESHLAKE_NATIVE_DELETES", "filter")
    else:
        build.scan_extension_path()  # compiled now, not on a thread of its own while `connect` filters
    con = connect()
    if native_mode(con) != request.param:
        con.close()
        why = build.scan_unavailable_reason() if loaded(con) else build.unavailable_reason()
        pytest.skip(f"meshlake's DuckDB extension cannot apply deletes by {request.param} here: {why}")
    yield con
    con.close()


@pytest.fixture
def fresh_build(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """The extension's cache in a new folder (returned) and build.py's per-process results forgotten, so the next
    `extension_path()` looks at that folder; the masks the test loads are dropped after it."""
    masks.clear()
    forget_build(monkeypatch)
    cache = tmp_path / "extension-cache"
    monkeypatch.setenv("MESHLAKE_CACHE_DIR", str(cache))
    yield cache
    monkeypatch.delenv("MESHLAKE_NATIVE_DELETES", raising=False)
    masks.clear()


@pytest.fixture
def deleted(port: Any) -> Any:
    """A port of two files with merge-on-read deletes in both (read in one masked scan)."""
    port.write(batch("a", 0, 1000))
    port.write(batch("b", 0, 1000))
    port.delete("shipment_id IN ('a-0-1', 'b-0-2')", write_mode="merge-on-read")
    return port


def forget_build(monkeypatch: pytest.MonkeyPatch, *, scan: bool = False) -> None:
    """Forget what build.py found, so the next `extension_path()` checks the cache (or the compiler) again; with
    `scan`, `scan_extension_path()` too (else its build of this process is kept: it takes C++ 15 s to compile)."""

    def kept(found: dict[str, Any]) -> dict[str, Any]:
        return {} if scan else {k: v for k, v in found.items() if k.startswith(f"{build.SCAN_NAME}:")}

    monkeypatch.setattr(build, "_built", kept(build._built))
    monkeypatch.setattr(build, "_why", kept(build._why))
    monkeypatch.setattr(build, "_failed", kept(build._failed))
    if scan:
        monkeypatch.setattr(build, "_compiling", {})


def sorted_rows(table: pa.Table) -> list[Row]:
    """A table's rows as tuples, in an order that does not depend on the reader (values compared as text)."""
    return sorted((tuple(row.values()) for row in table.to_pylist()), key=lambda row: [str(v) for v in row])


def read(con: duckdb.DuckDBPyConnection, sql: str) -> list[Row]:
    return sorted_rows(con.sql(sql).to_arrow_table())


def mask_keys(sql: str) -> set[str]:
    """The mask keys a native `scan_sql` text tests rows against."""
    return set(re.findall(r"(?:meshlake_kept\(|meshlake_mask = )'(ml[0-9a-f]+)'", sql))


def current(table: Table) -> ScanPlan:
    return plan_scan(table, table.current_snapshot().snapshot_id)  # type: ignore[union-attr]


def shape(sql: str) -> str:
    """How a `scan_sql` text applies deletes: `sql` (joins, or none), `one scan` (every file in one masked scan:
    `meshlake_scan`, or `read_parquet` filtered by `meshlake_kept`) or `clean plain + dirty masked` (the latter's
    files with deletes apart)."""
    if "meshlake_scan(" in sql:
        return "one scan" if sql.count("meshlake_scan(") == 1 and "read_parquet(" not in sql else "several scans"
    if "meshlake_kept" not in sql:
        return "sql"
    return "one scan" if sql.count("read_parquet(") == 1 else "clean plain + dirty masked"


def reads_agree(table: Table, con: duckdb.DuckDBPyConnection, *, equality: bool = False) -> list[str]:
    """Every snapshot of `table` read natively on `con`, by the SQL path and by pyiceberg (by Polars for a table
    with `equality` deletes, which pyiceberg does not read): the same rows. Returns each snapshot's `shape` of the
    native read."""
    shapes = []
    for snapshot in table.snapshots():
        plan = plan_scan(table, snapshot.snapshot_id)
        native = scan_sql(plan, native=native_mode(con))
        rows = read(con, native)
        label = f"snapshot {snapshot.snapshot_id} ({shape(native)})"
        assert rows == read(con, scan_sql(plan)), f"{label}: the native read differs from the SQL path"
        if equality:
            assert rows == sorted_rows(plan.to_polars().collect().to_arrow()), f"{label}: Polars"
        else:
            assert rows == sorted_rows(table.scan(snapshot_id=snapshot.snapshot_id).to_arrow()), f"{label}: pyiceberg"
        shapes.append(shape(native))
    return shapes
