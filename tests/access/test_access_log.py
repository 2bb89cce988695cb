"""The access log: every read through meshlake is recorded, buffered, and written to `meshlake.system.access_log`.

Reads never pay a commit each (the snapshots of the log table are counted); the buffer is written when it holds
`access_log_flush_entries`, after `access_log_flush_interval`, on `close()` and at a normal exit; concurrent
writers lose nothing; a write that fails keeps its entries and never fails the read, until the bounded buffer
is full.
"""

from __future__ import annotations

import copy
import logging
import multiprocessing
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pyiceberg.exceptions import NoSuchTableError

import meshlake as ml
from meshlake.access.log import ACCESS_LOG, AccessEntry, AccessLog, LogSettings, flush_all
from meshlake.errors import AccessLogError, ConfigError
from tests.access.conftest import as_caller, run_cli
from tests.access.log_workers import read_and_close
from tests.conftest import SHIPMENTS, DescriptorWriter
from tests.test_pipelines import ORDERS, PICKING, PICKING_PIPELINE, UPSTREAM, make_product, orders

ADDRESS = "logistics.shipments.daily"
COLUMNS = ["shipment_id", "shipped_at", "weight_kg", "customer_email"]


def rows(*ids: str, weight: float = 1.5) -> pa.Table:
    return pa.table(
        {
            "shipment_id": list(ids),
            "shipped_at": pa.array([datetime(2026, 11, 2, 8, tzinfo=UTC)] * len(ids), pa.timestamp("us", "UTC")),
            "weight_kg": [weight] * len(ids),
            "customer_email": [f"{i}@example.com" for i in ids],
        }
    )


def deploy_shipments(lake: ml.Lake, write_descriptor: DescriptorWriter) -> None:
    """logistics.shipments, owned by group:logistics, with a row filter for group:analytics; written once."""
    data = copy.deepcopy(SHIPMENTS)
    data["owner"]["principals"] = ["group:logistics"]
    data["outputs"][0]["access"] = {"row_filters": [{"principals": ["group:analytics"], "where": "weight_kg > 1.0"}]}
    owner = as_caller(lake, "user:olga", "logistics")
    owner.deploy(write_descriptor(data))
    owner.port(ADDRESS).write(rows("s1", "s2"))


@pytest.fixture
def governed(lake: ml.Lake, write_descriptor: DescriptorWriter) -> ml.Lake:
    """A lake with a mesh policy (so reads are logged by default) and the shipments port written once."""
    lake.init_access(["group:platform"])
    deploy_shipments(lake, write_descriptor)
    return lake


@pytest.fixture
def logging_on(tmp_path: Path, write_descriptor: DescriptorWriter) -> ml.Lake:
    """A lake without a mesh policy whose reads are logged (`access_log=on`), the shipments port written once."""
    lake = ml.connect(home=str(tmp_path / ".meshlake"), access_log="on")
    deploy_shipments(lake, write_descriptor)
    return lake


def log_rows(lake: ml.Lake) -> list[dict[str, Any]]:
    """Every entry of the access log, oldest first, read as a mesh admin (after writing this lake's buffer)."""
    lake.close()
    admin = as_caller(lake, "user:pat", "platform")
    try:
        table = admin.sql("SELECT * FROM meshlake.system.access_log ORDER BY accessed_at").to_arrow_table()
    except Exception as exc:  # no log table yet
        assert "access_log" in str(exc)
        return []
    found: list[dict[str, Any]] = table.to_pylist()
    for row in found:
        row["masks"] = dict(row["masks"])
    return found


def log_snapshots(lake: ml.Lake) -> int:
    try:
        return len(lake.catalog.load_table(ACCESS_LOG.identifier).metadata.snapshots)
    except NoSuchTableError:
        return 0


def block_log_table(lake: ml.Lake) -> Path:
    """Put a file where the log table's folder must be, so that writing the log fails (even for root)."""
    blocker = lake.settings.home_path / "warehouse" / "meshlake" / "system" / "access_log"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("not a folder")
    return blocker


def entry(address: str = ADDRESS) -> AccessEntry:
    return AccessEntry(datetime.now(UTC), "user:t", False, address, 1, ("a",), "arrow")


# -- what is recorded ------------------------------------------------------------------------------------
def test_each_read_path_logs_principal_port_snapshot_columns_and_path(governed: ml.Lake) -> None:
    owner = as_caller(governed, "user:olga", "logistics")
    port = owner.port(ADDRESS)
    snapshot_id = port.latest().snapshot_id
    port.latest().to_arrow()
    port.latest().to_polars()
    port.latest().to_pandas()
    port.latest().sql()
    owner.sql(f"SELECT count(*) FROM {ADDRESS}").fetchall()
    owner.duckdb().execute(f"SELECT count(*) FROM {ADDRESS}").fetchall()
    owner.close()

    entries = log_rows(governed)

    assert [e["path"] for e in entries] == ["arrow", "polars", "pandas", "relation", "sql", "duckdb"]
    for found in entries:
        assert found["principal"] == "user:olga" and found["verified"] is False
        assert (found["address"], found["snapshot_id"], found["columns"]) == (ADDRESS, snapshot_id, COLUMNS)
        assert found["masks"] == {} and found["row_filter"] is None, "an owner reads unrestricted"
        assert found["accessed_at"].tzinfo is not None
    assert [e["query_id"] is not None for e in entries] == [False, False, False, False, True, False]


def test_a_readers_entries_carry_the_masks_and_row_filter_of_its_rights(governed: ml.Lake) -> None:
    ann = as_caller(governed, "user:ann", "analytics")
    ann.port(ADDRESS).latest().to_arrow()
    ann.sql(f"SELECT * FROM {ADDRESS}").fetchall()
    ann.close()

    entries = log_rows(governed)

    assert len(entries) == 2
    for found in entries:
        assert found["principal"] == "user:ann"
        assert found["masks"] == {"customer_email": "mask-to-default"}
        assert found["row_filter"] == "(weight_kg > 1.0)"


def test_a_lake_sql_query_is_one_entry_per_port_and_snapshot_with_its_query_id(governed: ml.Lake) -> None:
    port = governed.port(ADDRESS)
    first = port.latest().snapshot_id
    as_caller(governed, "user:olga", "logistics").port(ADDRESS).write(rows("s3"))
    second = port.latest().snapshot_id
    governed.sql(f"SELECT * FROM {ADDRESS} a JOIN {ADDRESS} b USING (shipment_id)").fetchall()
    governed.sql(
        f"SELECT * FROM {ADDRESS} AT (VERSION => {first}) UNION ALL SELECT * FROM {ADDRESS} AT (VERSION => {second})"
    ).fetchall()

    entries = log_rows(governed)

    assert [(e["path"], e["snapshot_id"]) for e in entries] == [("sql", second), ("sql", first), ("sql", second)]
    assert entries[1]["query_id"] == entries[2]["query_id"] != entries[0]["query_id"]


def test_a_statement_lake_sql_logged_is_not_logged_again_when_it_runs(governed: ml.Lake) -> None:
    owner = as_caller(governed, "user:olga", "logistics")
    query = f"SELECT * FROM {ADDRESS} a JOIN {ADDRESS} b USING (shipment_id)"
    kept = owner.sql(query)
    kept.fetchall()
    kept.fetchall()  # lake.sql's own connection: one entry per call, however often its relation runs
    con = owner.duckdb()
    relation = owner.sql(query, con=con)
    relation.fetchall()  # DuckDB binds it again to run it: the same scans, not logged twice
    relation.limit(1).fetchall()  # a new statement on the connection: each scan is a read
    con.execute(f"SELECT count(*) FROM {ADDRESS}").fetchall()
    owner.close()

    entries = log_rows(governed)

    assert [e["path"] for e in entries] == ["sql", "sql", "duckdb", "duckdb", "duckdb"]
    assert entries[0]["query_id"] != entries[1]["query_id"]


def test_reads_of_the_access_log_are_not_logged(governed: ml.Lake) -> None:
    governed.port(ADDRESS).latest().to_arrow()
    assert len(log_rows(governed)) == 1
    con = governed.duckdb()
    for _ in range(3):
        governed.sql("SELECT count(*) FROM meshlake.system.access_log").fetchall()
        con.execute("SELECT count(*) FROM meshlake.system.access_log").fetchall()

    log = governed.access_log
    assert log is not None and log.pending == 0
    assert [e["address"] for e in log_rows(governed)] == [ADDRESS]


def test_a_pipeline_run_logs_its_input_reads_as_the_product_with_the_run_id(tmp_path: Path) -> None:
    lake = ml.connect(home=str(tmp_path / ".meshlake"), access_log="on")
    lake.deploy(make_product(tmp_path / "products" / "orders", UPSTREAM, "def build(inputs):\n    return {}\n"))
    picking = make_product(tmp_path / "products" / "picking", PICKING, PICKING_PIPELINE)
    lake.deploy(picking)
    lake.port(ORDERS).write(orders(("o1", 10.0)))

    result = lake.run(picking)

    entries = log_rows(lake)
    assert entries, "the run read its input"
    assert {(e["principal"], e["address"], e["path"], e["query_id"]) for e in entries} == {
        ("product:logistics.picking", ORDERS, "pipeline", result.run_id)
    }


def test_cli_reads_are_logged_as_cli(logging_on: ml.Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MESHLAKE_ACCESS_LOG", "on")
    result = run_cli("sql", f"SELECT count(*) AS n FROM {ADDRESS}")
    assert result.exit_code == 0, result.output
    flush_all()  # the command's lake is gone; at exit its entries would be written the same way

    entries = log_rows(logging_on)
    assert [(e["address"], e["path"]) for e in entries] == [(ADDRESS, "cli")]
    assert entries[0]["query_id"] is not None


# -- when it is on ---------------------------------------------------------------------------------------
def test_reads_are_logged_by_default_only_in_a_lake_with_a_mesh_policy(
    lake: ml.Lake, write_descriptor: DescriptorWriter
) -> None:
    deploy_shipments(lake, write_descriptor)
    lake.port(ADDRESS).latest().to_arrow()
    assert lake.access_log is None and log_snapshots(lake) == 0

    lake.init_access(["group:platform"])
    governed = ml.Lake(lake.settings)
    governed.port(ADDRESS).latest().to_arrow()
    assert governed.access_log is not None and governed.access_log.pending == 1

    off = ml.connect(home=str(lake.settings.home_path), access_log="off")
    off.port(ADDRESS).latest().to_arrow()
    assert off.access_log is None


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("access_log", "sometimes"),
        ("access_log_flush_entries", "0"),
        ("access_log_flush_entries", "many"),
        ("access_log_flush_interval", "soon"),
        ("access_log_flush_interval", "0s"),
        ("access_log_max_entries", "10"),  # fewer than flush_entries (1000)
    ],
)
def test_a_bad_access_log_setting_is_a_config_error_at_connect(tmp_path: Path, key: str, value: str) -> None:
    with pytest.raises(ConfigError) as error:
        ml.connect(home=str(tmp_path / ".meshlake"), **{key: value})
    assert error.value.key == key


# -- buffering and flushing ------------------------------------------------------------------------------
def test_reads_are_buffered_not_committed_one_by_one(governed: ml.Lake) -> None:
    port = governed.port(ADDRESS)
    for _ in range(20):
        port.latest().to_arrow()
    governed.sql(f"SELECT count(*) FROM {ADDRESS}").fetchall()

    assert log_snapshots(governed) == 0
    log = governed.access_log
    assert log is not None and log.pending == 21

    governed.close()

    assert log_snapshots(governed) == 1 and log.pending == 0 and log.written == 21
    assert len(log_rows(governed)) == 21


def test_leaving_a_with_block_writes_the_log(governed: ml.Lake) -> None:
    with ml.Lake(governed.settings) as lake:
        lake.port(ADDRESS).latest().to_arrow()
        assert log_snapshots(lake) == 0
    assert log_snapshots(governed) == 1 and len(log_rows(governed)) == 1


def test_the_log_is_written_once_flush_entries_are_buffered(tmp_path: Path, governed: ml.Lake) -> None:
    lake = ml.connect(home=str(tmp_path / ".meshlake"), access_log_flush_entries="5")
    port = lake.port(ADDRESS)
    for _ in range(12):
        port.latest().to_arrow()

    log = lake.access_log
    assert log is not None and (log.commits, log.pending) == (2, 2)
    assert log_snapshots(lake) == 2


def test_the_log_is_written_when_the_flush_interval_has_passed(lake: ml.Lake) -> None:
    now = [100.0]
    log = AccessLog(lake.catalog, lake.location_root, LogSettings("on", flush_seconds=30.0), clock=lambda: now[0])
    log.record(entry())
    now[0] = 129.0
    log.record(entry())
    assert (log.commits, log.pending) == (0, 2), "not due yet"

    now[0] = 130.0
    log.record(entry())

    assert (log.commits, log.pending) == (1, 0)
    now[0] = 150.0
    log.record(entry())
    assert (log.commits, log.pending) == (1, 1), "the interval counts from the last write"


def test_a_process_that_exits_without_closing_writes_its_entries(governed: ml.Lake, tmp_path: Path) -> None:
    home = str(governed.settings.home_path)
    code = textwrap.dedent(
        f"""
        import meshlake as ml

        def read():
            lake = ml.connect(home={home!r}, principal="user:leaving")
            for _ in range(3):
                lake.port({ADDRESS!r}).latest().to_arrow()
            assert lake.access_log.pending == 3 and lake.access_log.commits == 0

        read()  # the lake is gone before the process exits; its entries are not
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path, timeout=120)

    entries = log_rows(governed)
    assert [e["principal"] for e in entries] == ["user:leaving"] * 3


@pytest.mark.slow
def test_concurrent_flushers_lose_no_entry(governed: ml.Lake) -> None:
    home = str(governed.settings.home_path)
    workers, reads = 4, 24
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers) as pool:
        commits = pool.starmap(read_and_close, [(home, f"user:w{i}", reads, 5) for i in range(workers)])

    assert all(count == 5 for count in commits), "each process wrote 4 full buffers and the rest on close"
    entries = log_rows(governed)
    counts = {f"user:w{i}": 0 for i in range(workers)}
    for found in entries:
        counts[found["principal"]] += 1
    assert counts == {f"user:w{i}": reads for i in range(workers)}
    assert log_snapshots(governed) == workers * 5


# -- when the log cannot be written ----------------------------------------------------------------------
def test_a_failed_flush_keeps_its_entries_warns_and_the_read_succeeds(
    tmp_path: Path, governed: ml.Lake, caplog: pytest.LogCaptureFixture
) -> None:
    lake = ml.connect(home=str(tmp_path / ".meshlake"), access_log_flush_entries="2")
    blocker = block_log_table(lake)
    port = lake.port(ADDRESS)

    with caplog.at_level(logging.WARNING, logger="meshlake.access.log"):
        tables = [port.latest().to_arrow() for _ in range(3)]

    assert all(table.num_rows == 2 for table in tables), "every read returned its data"
    log = lake.access_log
    assert log is not None and (log.pending, log.commits, log.failures) == (3, 0, 1)
    assert log.last_error is not None and "access_log" in caplog.text and "could not be written" in caplog.text
    with pytest.raises(AccessLogError) as failed:
        lake.close()
    assert failed.value.pending == 3 and not failed.value.full and log.pending == 3

    blocker.unlink()
    lake.close()

    assert (log.pending, log.written, log.failures) == (0, 3, 0)
    assert len(log_rows(governed)) == 3


def test_a_full_buffer_that_cannot_be_written_refuses_reads(tmp_path: Path, governed: ml.Lake) -> None:
    lake = ml.connect(home=str(tmp_path / ".meshlake"), access_log_flush_entries="2", access_log_max_entries="3")
    blocker = block_log_table(lake)
    port = lake.port(ADDRESS)
    for _ in range(3):
        port.latest().to_arrow()

    with pytest.raises(AccessLogError) as refused:
        port.latest().to_arrow()
    assert refused.value.full and refused.value.pending == 3

    blocker.unlink()
    port.latest().to_arrow()  # the full buffer is written first, then this read is logged

    log = lake.access_log
    assert log is not None and (log.written, log.pending) == (3, 1)
    assert len(log_rows(lake)) == 4, "the refused read returned nothing and is not logged"
