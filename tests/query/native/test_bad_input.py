"""Malformed and malicious input to meshlake's DuckDB extension: every case is a clear error, never rows read
without their deletes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from meshlake.query.native import masks as native_masks
from meshlake.query.native.build import scan_extension_path, scan_unavailable_reason
from meshlake.query.native.masks import connect, masks, native_mode
from meshlake.query.sql import scan_sql

from .conftest import current, mask_keys, shape


def local(path: str) -> Path:
    return Path(path.removeprefix("file://"))


def test_a_text_whose_mask_is_not_loaded_fails_at_bind_naming_the_key(deleted: Any, native_con: Any) -> None:
    sql = scan_sql(current(deleted.table()), native=native_mode(native_con))
    assert shape(sql) == "one scan"
    [key] = mask_keys(sql)
    masks.clear()
    with pytest.raises(duckdb.BinderException, match=f"no row mask is loaded under the key '{key}'"):
        native_con.sql(sql).fetchall()


def test_a_data_file_holding_more_rows_than_its_manifest_counts_fails_the_read(deleted: Any, native_con: Any) -> None:
    plan = current(deleted.table())
    dirty = local(plan.tasks[0].path)
    rows = pq.read_table(dirty)
    pq.write_table(pa.concat_tables([rows, rows.slice(0, 5)]), dirty)  # 1,005 rows; the manifest says 1,000
    with pytest.raises(duckdb.InvalidInputException, match="holds more rows than its manifest entry counts"):
        native_con.sql(scan_sql(plan, native=native_mode(native_con))).fetchall()


def test_a_data_file_missing_from_storage_fails_the_read(deleted: Any, native_con: Any) -> None:
    plan = current(deleted.table())
    local(plan.tasks[1].path).unlink()
    with pytest.raises(duckdb.IOException, match=r"No files found|No such file"):
        native_con.sql(scan_sql(plan, native=native_mode(native_con))).fetchall()


@pytest.mark.parametrize(
    ("damage", "error"), [("missing", FileNotFoundError), ("truncated", pl.exceptions.ComputeError)]
)
def test_a_damaged_delete_file_fails_while_the_mask_is_built(
    deleted: Any, native_con: Any, damage: str, error: type[Exception]
) -> None:
    plan = current(deleted.table())
    delete_file = local(plan.tasks[0].position_deletes[0].path)
    if damage == "missing":
        delete_file.unlink()
    else:
        delete_file.write_bytes(delete_file.read_bytes()[: delete_file.stat().st_size // 2])
    before = len(masks)
    with pytest.raises(error):
        scan_sql(plan, native=native_mode(native_con))
    assert len(masks) == before, "no mask was loaded for the damaged plan"


def test_a_key_that_is_not_a_constant_is_refused_at_bind(deleted: Any, native_con: Any) -> None:
    [key] = mask_keys(scan_sql(current(deleted.table()), native="filter"))  # loaded: only the key's form is wrong
    query = f"SELECT meshlake_kept(k, 0, 0) FROM (VALUES ('{key}')) AS t(k)"
    with pytest.raises(duckdb.BinderException, match="the mask key must be a constant"):
        native_con.sql(query).fetchall()


@pytest.mark.parametrize(
    ("offsets", "counts", "bits"),
    [([5], [10], 8), ([0], [9], 8), ([-2], [1], 8), ([0], [-1], 8), ([-1], [4], -1), ([0], [4], 65), ([0, 4], [4], 8)],
    ids=[
        "offset past the bits",
        "count past the bits",
        "offset below -1",
        "negative count",
        "negative bits",
        "bits past the words",
        "an offset without a count",
    ],
)
def test_the_extension_refuses_a_mask_whose_files_lie_outside_its_bits(
    native_con: Any, offsets: list[int], counts: list[int], bits: int
) -> None:
    library = native_masks._lib()
    assert library is not None
    before = library.count()
    with pytest.raises(ValueError, match=r"refused the row mask|row mask ml-bad is malformed"):
        library.put("ml-bad", np.array(offsets, np.int64), np.array(counts, np.int64), np.zeros(1, np.uint64), bits)
    assert library.count() == before


@pytest.fixture
def scan_con() -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection with `meshlake_scan` loaded (skipped, saying why, where it cannot be)."""
    scan_extension_path()
    con = connect()
    if native_mode(con) != "scan":
        pytest.skip(f"meshlake_scan cannot be loaded here: {scan_unavailable_reason()}")
    yield con
    con.close()


def test_meshlake_scan_refuses_a_null_mask(deleted: Any, scan_con: Any) -> None:
    con = scan_con
    path = current(deleted.table()).tasks[0].path.removeprefix("file://")
    with pytest.raises(duckdb.BinderException, match="meshlake_mask must name a row mask, not NULL"):
        con.sql(f"SELECT count(*) FROM meshlake_scan('{path}', meshlake_mask = NULL)").fetchall()


def test_meshlake_scan_refuses_a_file_past_the_files_of_its_mask(deleted: Any, scan_con: Any) -> None:
    con = scan_con
    tasks = current(deleted.table()).tasks
    assert len(tasks) == 2 and all(t.position_deletes for t in tasks)
    key = masks.ensure(tasks[:1])  # a mask of the first file only
    paths = ", ".join(f"'{t.path.removeprefix('file://')}'" for t in tasks)
    with pytest.raises(duckdb.InvalidInputException, match=f"the row mask '{key}' covers 1 files, not file 1"):
        con.sql(f"SELECT count(*) FROM meshlake_scan([{paths}], meshlake_mask = '{key}')").fetchall()
