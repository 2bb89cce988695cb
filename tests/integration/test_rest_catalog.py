"""meshlake's REST catalog client (`meshlake.catalog.rest_catalog`) against SeaweedFS's Iceberg REST catalog: writes
read no snapshot list (their cost must not grow with the history), and what they leave is what pyiceberg's own
`RestCatalog` reads back. Skipped, with the reason, when SeaweedFS is not installed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pyiceberg.catalog import load_catalog
from pyiceberg.table import Table
from pyiceberg.table.metadata import TableMetadata

import meshlake as ml
from meshlake.catalog import loading, rest_catalog
from meshlake.catalog.loading import is_complete
from meshlake.catalog.rest_catalog import LakeRestCatalog
from meshlake.quality.records import RECOVERY_GRACE, read_results
from meshlake.write import faults
from tests.backends import shipments
from tests.integration.conftest import BackendLake, backend_lake
from tests.services import SeaweedFS


@pytest.fixture
def rest_lake(request: pytest.FixtureRequest, tmp_path: Path) -> BackendLake:
    return backend_lake(request, "rest-s3", tmp_path)


def _committed(lake: ml.Lake, address: str) -> TableMetadata | None:
    """The metadata the newest commit of this process to the port's table got back."""
    catalog = lake.catalog
    assert isinstance(catalog, LakeRestCatalog)
    table = lake.port(address).table()
    return rest_catalog._COMMITTED.get(catalog._cached(table.name()), table.metadata_location)


def _read_whole(table: Table) -> bool:
    """Whether the snapshots of the table's metadata (loaded lazily) were read from its file (by pyiceberg's parse,
    or as history's plain entries)."""
    pending = table.metadata.__pydantic_private__["_pending"]  # type: ignore[index]
    return pending is None or pending.entries is not None


def test_writes_read_no_snapshot_list_and_pyiceberg_reads_what_they_committed(
    rest_lake: BackendLake, seaweedfs: SeaweedFS
) -> None:
    lake = rest_lake.deploy()
    port = lake.port(rest_lake.address)
    port.write(shipments("s", 0, size=1))
    first = port.table().metadata.current_snapshot()
    seen = []
    for n in range(1, 5):
        port.write(shipments("s", n, size=1))
        seen.append(_committed(lake, rest_lake.address))

    loaded = port.table()
    assert all(m is not None and not is_complete(m) for m in seen), "a write read the whole snapshot list"
    assert not is_complete(loaded.metadata)
    pyicebergs = load_catalog("peer", **seaweedfs.rest_catalog_properties()).load_table(loaded.name())
    assert pyicebergs.metadata_location == loaded.metadata_location
    assert [row.snapshot_id for row in port.history()] == [s.snapshot_id for s in pyicebergs.metadata.snapshots]
    assert loaded.metadata.current_snapshot() == pyicebergs.metadata.current_snapshot()
    assert first is not None
    assert port.at(first.snapshot_id).to_arrow()["shipment_id"].to_pylist() == ["s-0-0"]  # reads the rest on demand
    assert sorted(port.to_arrow()["shipment_id"].to_pylist()) == [f"s-{n}-0" for n in range(5)]


def test_a_write_after_another_client_committed_builds_on_what_the_server_holds(rest_lake: BackendLake) -> None:
    lake = rest_lake.deploy()
    other = rest_lake.connect()  # another client (in this process: the cache of commits is shared)
    lake.port(rest_lake.address).write(shipments("a", 1, size=1))
    other.port(rest_lake.address).write(shipments("b", 2, size=1))

    lake.port(rest_lake.address).write(shipments("c", 3, size=1))

    port = other.port(rest_lake.address)
    assert sorted(port.to_arrow()["shipment_id"].to_pylist()) == ["a-1-0", "b-2-0", "c-3-0"]
    assert len(port.history()) == 3


def test_history_after_a_write_reads_the_journal_the_commit_kept_not_the_metadata_file(
    rest_lake: BackendLake,
) -> None:
    lake = rest_lake.deploy()
    port = lake.port(rest_lake.address)
    for n in range(3):
        port.write(shipments("s", n, size=1))
    before = [row.snapshot_id for row in port.history()]  # reads the file once, and writes the journal

    port.write(shipments("s", 3, size=1))
    loaded = port.table()
    history = port.history()

    assert not _read_whole(loaded), "history read the whole metadata file after a write"
    assert [row.snapshot_id for row in history][:3] == before and len(history) == 4
    assert history[-1].snapshot_id == loaded.metadata.current_snapshot_id


def test_duckdb_learns_the_planned_files_sizes_from_the_manifests_not_from_the_storage(
    rest_lake: BackendLake, seaweedfs: SeaweedFS
) -> None:
    from meshlake.catalog.storage import s3_filesystem

    lake = rest_lake.deploy()
    port = lake.port(rest_lake.address)
    for n in range(3):
        port.write(shipments("s", n, size=2))
    plan = port.latest().plan
    fs = s3_filesystem(seaweedfs.pyiceberg_s3_properties() | {"s3.path-style-access": "true"})
    task = plan.tasks[0]

    answered = fs.info(task.path)  # no HEAD request: what the manifest says (a HEAD's answer has an ETag)
    assert answered == {"name": task.path.removeprefix("s3://"), "size": task.file_size, "type": "file"}
    assert fs.info(task.path, refresh=True)["size"] == task.file_size  # the storage agrees
    assert fs.modified(task.path).year >= 2026  # known from the storage now: its own time
    unplanned = f"{task.path.rsplit('/', 1)[0]}/not-planned.parquet"
    with pytest.raises(FileNotFoundError):
        fs.info(unplanned)  # a file no plan named is asked of the storage
    rows = lake.sql(f"SELECT count(*), count(DISTINCT shipment_id) FROM {rest_lake.address}").fetchall()
    assert rows == [(6, 6)]

    port.write(shipments("s", 0, size=1, weight=9.0), mode="upsert", write_mode="merge-on-read")
    deletes = {d.path: d.file_size for t in port.latest().plan.tasks for d in t.position_deletes}
    assert len(deletes) == 1
    path, size = next(iter(deletes.items()))
    assert fs.info(path) == {"name": path.removeprefix("s3://"), "size": size, "type": "file"}
    assert fs.info(path, refresh=True)["size"] == size
    rows = lake.sql(f"SELECT count(*), sum(weight_kg) FROM {rest_lake.address}").fetchall()
    assert rows == [(6, 15.0)]  # s-0-0 weighs 9 now: 9 + 0 + 1 + 1 + 2 + 2


_WRITER = """
import json, sys
import meshlake as ml
from tests.backends import shipments
settings, address, writer = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
ml.connect(**settings).port(address).write(shipments(writer, 1, size=1))
"""


def _write_elsewhere(rest_lake: BackendLake, writer: str, *, killed_after_commit: bool) -> None:
    """A write by another process; `killed_after_commit`: SIGKILLed after its commit, before its quality record."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    if killed_after_commit:
        env[faults.CRASH_AT] = "committed:1"
    command = [sys.executable, "-c", _WRITER, json.dumps(rest_lake.settings), rest_lake.address, writer]
    done = subprocess.run(command, env=env, check=False, capture_output=True, text=True)
    assert done.returncode == (-signal.SIGKILL if killed_after_commit else 0), done.stderr[-2000:]


def test_a_gated_write_after_other_writers_recovers_a_lost_verdict_walking_only_the_ancestors(
    rest_lake: BackendLake, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = rest_lake.deploy()
    port = lake.port(rest_lake.address)
    port.write(shipments("a", 1, size=1))
    _write_elsewhere(rest_lake, "b", killed_after_commit=False)
    _write_elsewhere(rest_lake, "c", killed_after_commit=True)  # the head this process has not seen, unrecorded
    time.sleep(RECOVERY_GRACE.total_seconds() + 0.1)
    before = [row.snapshot_id for row in port.history()]
    recorded = read_results(lake.catalog, address=rest_lake.address, snapshot_ids=before, columns=["snapshot_id"])
    assert len(before) == 3 and len(recorded) == 2  # c's verdict is lost
    full_parses: list[str] = []
    parse = loading._Pending.load
    monkeypatch.setattr(loading._Pending, "load", lambda self: full_parses.append(self.location) or parse(self))

    port.write(shipments("d", 1, size=1))

    assert full_parses == [], "the gate's recovery built every snapshot of the metadata file"
    published = [row.snapshot_id for row in port.history()]
    rows = read_results(lake.catalog, address=rest_lake.address, snapshot_ids=published, columns=["snapshot_id"])
    assert len(published) == 4 and sorted(r["snapshot_id"] for r in rows) == sorted(published)  # c recovered once


def test_a_loaded_table_has_its_files_last_updated_time_not_the_time_of_the_load(
    rest_lake: BackendLake, seaweedfs: SeaweedFS, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = rest_lake.deploy()
    port = lake.port(rest_lake.address)
    port.write(shipments("a", 1, size=1))
    table = port.table()
    table.transaction().set_properties({"note": "changed after the snapshot"}).commit_transaction()
    monkeypatch.setattr(rest_catalog, "_COMMITTED", rest_catalog.MetadataCache())  # as a new process loads it
    heads: list[str] = []
    read = loading._Pending.read_updated
    monkeypatch.setattr(loading._Pending, "read_updated", lambda self: heads.append(self.location) or read(self))
    time.sleep(0.05)

    port.write(shipments("b", 2, size=1))  # a write does not need it
    assert heads == []
    monkeypatch.setattr(rest_catalog, "_COMMITTED", rest_catalog.MetadataCache())
    time.sleep(0.05)
    loaded = port.table()
    pyicebergs = load_catalog("peer", **seaweedfs.rest_catalog_properties()).load_table(loaded.name())

    assert pyicebergs.metadata_location == loaded.metadata_location
    assert loaded.metadata.last_updated_ms == pyicebergs.metadata.last_updated_ms  # the file's, read from its start
    assert heads == [loaded.metadata_location] and not is_complete(loaded.metadata)
    table.transaction().set_properties({"note": "and again"}).commit_transaction()
    monkeypatch.setattr(rest_catalog, "_COMMITTED", rest_catalog.MetadataCache())
    again = port.table()
    newest = load_catalog("peer", **seaweedfs.rest_catalog_properties()).load_table(loaded.name()).metadata
    assert again.metadata.last_updated_ms == newest.last_updated_ms > newest.current_snapshot().timestamp_ms  # type: ignore[union-attr]
