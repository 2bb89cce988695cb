"""A connection with meshlake's DuckDB extension, locked to the port's folders: it loads nothing else, and its
masked reads still work."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from meshlake.query.lockdown import lock_connection
from meshlake.query.native import build
from meshlake.query.native.masks import native_mode
from meshlake.query.sql import scan_sql
from tests.workers import batch

from .conftest import current, read, shape, sorted_rows


def test_a_locked_connection_refuses_another_extension_and_keeps_reading_masked(
    port: Any, native_con: Any, tmp_path: Path
) -> None:
    port.write(batch("a", 0, 1000))
    port.delete("shipment_id IN ('a-0-1', 'a-0-2')", write_mode="merge-on-read")
    path = build.extension_path()
    assert path is not None
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    renamed, same_name = elsewhere / "other.duckdb_extension", elsewhere / path.name
    shutil.copy(path, renamed)
    shutil.copy(path, same_name)
    lock_connection(native_con, [port.table().location().removeprefix("file://")])
    with pytest.raises(duckdb.PermissionException, match="Loading external extensions is disabled"):
        native_con.execute(f"LOAD '{renamed}'")
    with pytest.raises(duckdb.Error, match="locked"):
        native_con.execute("SET allow_unsigned_extensions = false")
    # DuckDB skips a LOAD of an extension name already loaded: the copy's (empty) mask registry never replaces
    # the one meshlake loaded its masks into, so masked reads keep binding.
    native_con.execute(f"LOAD '{same_name}'")
    sql = scan_sql(current(port.table()), native=native_mode(native_con))
    assert shape(sql) == "one scan"
    assert read(native_con, sql) == sorted_rows(port.table().scan().to_arrow())


def test_meshlake_scan_reaches_no_file_read_parquet_may_not_on_a_locked_connection(
    port: Any, native_con: Any, tmp_path: Path
) -> None:
    """`meshlake_scan` opens files as `read_parquet` does: outside the allowed folders both are refused."""
    if native_mode(native_con) != "scan":
        pytest.skip("the filter connection has no meshlake_scan (the scan case covers it)")
    port.write(batch("a", 0, 100))
    outside = tmp_path / "outside"
    outside.mkdir()
    inside = Path(current(port.table()).tasks[0].path.removeprefix("file://"))
    secret = outside / "secret.parquet"
    shutil.copy(inside, secret)
    lock_connection(native_con, [port.table().location().removeprefix("file://")])
    assert native_con.sql(f"SELECT count(*) FROM meshlake_scan('{inside}')").fetchall() == [(100,)]
    for function in ("read_parquet", "meshlake_scan"):
        with pytest.raises(duckdb.PermissionException, match="disabled by configuration"):
            native_con.sql(f"SELECT count(*) FROM {function}('{secret}')").fetchall()
