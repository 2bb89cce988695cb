"""meshlake's tables read by other Iceberg readers: DuckDB's own iceberg extension, pyiceberg and Polars.

Commits render `metadata.json` from cached parts and merge manifests in tiers (`meshlake.write.manifest_merge`):
every snapshot of such a port must read the same rows in every engine: one written by batches (copy-on-write),
one by merge-on-read upserts, deletes and replaces, and one fed by a stream (issue 15's "interop test on the streamed
port") with the compactions of its stream and of automatic compaction after batch appends. DuckDB's iceberg
extension exists only for duckdb 1.4.4 (meshlake uses 2.x), so it runs in a venv of its own that
`.ci/interop-venv.sh` creates (CI does; `MESHLAKE_INTEROP_PYTHON` names its python, default
`.venv-interop/bin/python`). Without it the DuckDB test skips with that reason, or fails under
MESHLAKE_TEST_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import meshlake as ml
from tests.conftest import DescriptorWriter
from tests.integration.conftest import service_unavailable
from tests.streams.feeding import compaction_landed, feed_until

INTEROP_PYTHON = "MESHLAKE_INTEROP_PYTHON"
_REPO = Path(__file__).resolve().parents[2]
_DUCKDB_SCRIPT = """
import json, sys
import duckdb, duckdb_ext
location, snapshots = json.loads(sys.stdin.read())
con = duckdb.connect()
duckdb_ext.init(con)
for name in ("avro", "iceberg"):
    con.execute(f"LOAD {name}")
found = {}
for snapshot in snapshots:
    rows = con.execute(
        "SELECT shipment_id, weight_kg FROM iceberg_scan(?, snapshot_from_id = ?) ORDER BY shipment_id",
        [location, snapshot],
    ).fetchall()
    found[str(snapshot)] = [list(row) for row in rows]
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def interop_python() -> str:
    path = os.environ.get(INTEROP_PYTHON) or str(_REPO / ".venv-interop" / "bin" / "python")
    if not Path(path).exists():
        service_unavailable(
            f"DuckDB's iceberg extension is not installed ({path} does not exist): run `bash .ci/interop-venv.sh`"
        )
    return path


def _rows(ids: range, weight: float = 1.0) -> pa.Table:
    return pa.table(
        {
            "shipment_id": [f"s{i:04d}" for i in ids],
            "shipped_at": [datetime(2026, 1, 1 + i % 3, tzinfo=UTC) for i in ids],
            "weight_kg": [weight + i for i in ids],
            "customer_email": [None for _ in ids],
        }
    )


@pytest.fixture
def long_port(lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter) -> tuple[Any, list[int]]:
    """A partitioned port after 40 writes (appends, deletes, upserts, an overwrite) with manifests merged from 4."""
    lake.deploy(write_descriptor(descriptor))
    port = lake.port("logistics.shipments.daily")
    port.table().transaction().set_properties({"commit.manifest.min-count-to-merge": "4"}).commit_transaction()
    snapshots = []
    for i in range(40):
        if i == 30:
            result = port.write(_rows(range(100, 110)), mode="overwrite")
        elif i % 9 == 8:
            result = port.delete(f"shipment_id = 's{i - 3:04d}'")
        elif i % 7 == 6:
            result = port.write(_rows(range(i - 2, i + 1), weight=70.0), mode="upsert")
        else:
            result = port.write(_rows(range(i, i + 1)))
        snapshots.append(result.snapshot_id)
    return port, snapshots


@pytest.fixture
def mor_port(lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter) -> tuple[Any, list[int]]:
    """A partitioned port after 20 writes whose upserts, deletes and replaces are merge-on-read (position deletes,
    some files deleted from several times), with manifests merged from 4."""
    lake.deploy(write_descriptor(descriptor))
    port = lake.port("logistics.shipments.daily")
    port.table().transaction().set_properties({"commit.manifest.min-count-to-merge": "4"}).commit_transaction()
    snapshots = [port.write(_rows(range(0, 300))).snapshot_id, port.write(_rows(range(300, 600))).snapshot_id]
    for i in range(18):
        if i % 6 == 5:
            where = f"shipment_id >= 's{i * 20:04d}' AND shipment_id <= 's{i * 20 + 5:04d}'"
            result = port.write(
                _rows(range(i * 20, i * 20 + 3), weight=50.0),
                mode="replace",
                where=where,
                write_mode="merge-on-read",
            )
        elif i % 3 == 2:
            result = port.delete(f"shipment_id IN ('s{i * 7:04d}', 's{i * 7 + 301:04d}')", write_mode="merge-on-read")
        else:
            result = port.write(
                _rows(range(i * 11, i * 11 + 4), weight=70.0 + i), mode="upsert", write_mode="merge-on-read"
            )
        assert result.write_mode == "merge-on-read"
        snapshots.append(result.snapshot_id)
    return port, snapshots


def _shipment(i: int) -> bytes:
    """One shipment message, as a producer would publish it (ids below 100,000: the batch appends use those above)."""
    day = datetime(2026, 1, 1 + i % 3, tzinfo=UTC).isoformat()
    return json.dumps({"shipment_id": f"s{i:04d}", "shipped_at": day, "weight_kg": 1.0 + i}).encode()


@pytest.fixture
def streamed_port(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> tuple[Any, list[int]]:
    """A partitioned port fed by a stream that compacted while it ran (`compact_every`), then by batch appends
    that compacted automatically after their writes (4 small files a partition), with manifests merged from 4:
    every snapshot of its history, the rewrites included."""
    from meshlake.contract.autocompact import MIN_FILES_PROPERTY
    from meshlake.streams.memory import MemorySource

    lake.deploy(write_descriptor(descriptor))
    port = lake.port("logistics.shipments.daily")
    properties = {"commit.manifest.min-count-to-merge": "4", MIN_FILES_PROPERTY: "4"}
    port.table().transaction().set_properties(properties).commit_transaction()
    source = MemorySource("shipments")

    def feed() -> None:  # until the stream's compactor has committed once (its worker process starts slowly)
        feed_until(source.publish, lambda: compaction_landed(port), message=_shipment, batch=6)

    feeder = threading.Thread(target=feed)
    feeder.start()
    report = port.stream(source, max_rows=6, max_wait=0.02, idle=1.0, compact_every=0.3)
    feeder.join()
    assert report.compactions, "the stream compacted while it ran"
    compacted = [port.write(_rows(range(100_000 + 4 * i, 100_004 + 4 * i))).auto_compaction for i in range(10)]
    assert any(done and "snapshot_id" in done for done in compacted), compacted
    snapshots = [entry.snapshot_id for entry in port.table().metadata.snapshots]
    return port, snapshots


@pytest.fixture(params=["long_port", "mor_port", "streamed_port"])
def ports(request: pytest.FixtureRequest) -> tuple[Any, list[int]]:
    """Each port history the readers must agree on: copy-on-write writes, merge-on-read ones, and a stream's with
    the compactions that ran while it streamed and after batch appends."""
    found: tuple[Any, list[int]] = request.getfixturevalue(request.param)
    return found


def _meshlake_rows(port: Any, snapshot_id: int) -> list[list[Any]]:
    table = port.at(snapshot_id).to_arrow().select(["shipment_id", "weight_kg"]).sort_by("shipment_id")
    return [list(row.values()) for row in table.to_pylist()]


def test_duckdbs_iceberg_extension_reads_every_snapshot_of_a_port_with_merged_manifests(
    interop_python: str, ports: tuple[Any, list[int]]
) -> None:
    port, snapshots = ports
    table = port.table()
    assert len(table.metadata.current_snapshot().manifests(table.io)) < 12, "the manifests were merged"
    request = json.dumps([table.metadata_location, snapshots])

    out = subprocess.run(
        [interop_python, "-c", _DUCKDB_SCRIPT], input=request, capture_output=True, text=True, check=True
    ).stdout

    theirs = json.loads(out)
    for snapshot_id in snapshots:
        assert theirs[str(snapshot_id)] == _meshlake_rows(port, snapshot_id), snapshot_id


def test_pyiceberg_and_polars_read_every_snapshot_of_a_port_with_merged_manifests(
    ports: tuple[Any, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    import polars as pl

    monkeypatch.setenv("POLARS_ICEBERG_PLANNER", "pyiceberg")  # Polars' own default, minus the plugin advert
    from pyiceberg.catalog.sql import SqlCatalog

    port, snapshots = ports
    ours = port.table()
    # pyiceberg's own catalog on the same database: reads the metadata files meshlake rendered
    catalog = SqlCatalog(port.lake.settings.catalog_name, **ours.catalog.properties)
    table = catalog.load_table(ours.name())
    for snapshot_id in snapshots:
        expected = _meshlake_rows(port, snapshot_id)
        scanned = table.scan(snapshot_id=snapshot_id).to_arrow().select(["shipment_id", "weight_kg"])
        assert [list(r.values()) for r in scanned.sort_by("shipment_id").to_pylist()] == expected
        frame = pl.scan_iceberg(table, snapshot_id=snapshot_id).select("shipment_id", "weight_kg").collect()
        assert [list(r) for r in frame.sort("shipment_id").rows()] == expected
