"""Automatic compaction after a write (`meshlake.maintenance.auto_compact`) — on real embedded lakes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

import meshlake as ml
from meshlake.contract.autocompact import ENABLED_PROPERTY, MIN_FILES, MIN_FILES_PROPERTY
from meshlake.errors import ConfigError, DescriptorError, QualityGateError
from meshlake.maintenance.auto_compact import after_write, suspended
from meshlake.maintenance.compact import size_class
from meshlake.write import faults
from tests.conftest import DescriptorWriter
from tests.test_maintain import ADDRESS, deploy, rows


def ids(snapshot: Any) -> list[str]:
    return sorted(str(r["shipment_id"]) for r in snapshot.to_arrow().to_pylist())


def files(port: Any) -> int:
    return len(port.latest().plan.tasks)


def modes(port: Any) -> list[str | None]:
    return [entry.mode for entry in port.history()]


@pytest.fixture
def port(lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter) -> Any:
    return deploy(lake, descriptor, write_descriptor, auto_compact={"min_files": 5})


def test_the_setting_is_on_by_default_and_visible_as_table_properties(lake: ml.Lake, port: Any) -> None:
    props = port.table().properties
    assert props[ENABLED_PROPERTY] == "true" and props[MIN_FILES_PROPERTY] == "5"
    default = lake.port("logistics.shipments.daily")
    assert default.contract.auto_compact.enabled and MIN_FILES == 50


def test_a_write_compacts_once_a_partition_holds_min_files_small_files_and_not_before(port: Any) -> None:
    results = [port.write(rows([f"s{i}a", f"s{i}b"])) for i in range(4)]
    assert all(r.auto_compaction is None for r in results) and files(port) == 4
    assert "compact" not in modes(port)

    fifth = port.write(rows(["s4a", "s4b"]))

    done = fifth.auto_compaction
    assert done is not None and done["files_before"] == 5 and done["files_after"] == 1
    assert fifth.snapshot_id != done["snapshot_id"] == port.latest().snapshot_id
    assert "auto compact" in fifth.phases and json.dumps(fifth.to_dict())
    assert files(port) == 1 and modes(port)[-2:] == ["append", "compact"]
    assert ids(port.latest()) == sorted(f"s{i}{c}" for i in range(5) for c in "ab")


def test_every_snapshot_reads_the_same_rows_after_compactions(port: Any) -> None:
    seen: dict[int, list[str]] = {}
    for index in range(12):
        result = port.write(rows([f"s{index:02d}"], day=1 + index % 2))
        seen[result.snapshot_id] = ids(port.at(result.snapshot_id))
    compactions = [e.snapshot_id for e in port.history() if e.mode == "compact"]
    assert len(compactions) == 2, "one per day partition, each at its 5th small file"
    for snapshot_id, expected in seen.items():
        assert ids(port.at(snapshot_id)) == expected
    assert ids(port.latest()) == sorted(f"s{i:02d}" for i in range(12))


def test_switched_off_in_the_descriptor_nothing_is_rewritten(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    port = deploy(lake, descriptor, write_descriptor, auto_compact=False)
    assert port.table().properties[ENABLED_PROPERTY] == "false"
    results = [port.write(rows([f"s{i}"])) for i in range(8)]
    assert all(r.auto_compaction is None for r in results)
    assert files(port) == 8 and "compact" not in modes(port)


def test_switched_off_as_a_table_property_nothing_is_rewritten(port: Any) -> None:
    port.table().transaction().set_properties({ENABLED_PROPERTY: "false"}).commit_transaction()
    results = [port.write(rows([f"s{i}"])) for i in range(6)]
    assert all(r.auto_compaction is None for r in results) and files(port) == 6


@pytest.mark.parametrize(
    ("key", "value"), [(ENABLED_PROPERTY, "yes"), (MIN_FILES_PROPERTY, "1"), (MIN_FILES_PROPERTY, "x")]
)
def test_a_malformed_table_property_refuses_the_write_before_anything_changes(port: Any, key: str, value: str) -> None:
    port.write(rows(["s0"]))
    before = port.latest().snapshot_id
    port.table().transaction().set_properties({key: value}).commit_transaction()

    with pytest.raises(ConfigError) as refused:
        port.write(rows(["s1"]))

    assert refused.value.key == key
    assert port.latest().snapshot_id == before and ids(port.latest()) == ["s0"]


@pytest.mark.parametrize("value", [{"min_files": 1}, {"min_files": "many"}, {"enabled": "sometimes"}, "yes"])
def test_a_malformed_descriptor_setting_is_a_descriptor_error(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter, value: Any
) -> None:
    descriptor["outputs"][0]["auto_compact"] = value
    with pytest.raises(DescriptorError) as refused:
        lake.deploy(write_descriptor(descriptor))
    assert "auto_compact" in str(refused.value)


def test_small_files_with_merge_on_read_deletes_are_rewritten_with_the_deletes_applied(port: Any) -> None:
    for index in range(3):
        port.write(rows([f"s{index}a", f"s{index}b"]))
    port.write(rows(["s0a"], weight=9.0), mode="upsert", write_mode="merge-on-read")
    assert port.latest().plan.has_deletes and files(port) == 4
    before = weights(port.latest())
    assert before["s0a"] == 9.0 and len(before) == 6

    fifth = port.write(rows(["s3a"]))

    assert fifth.auto_compaction is not None and fifth.auto_compaction["files_before"] == 5
    plan = port.latest().plan
    assert len(plan.tasks) == 1 and not plan.has_deletes, "the delete applied and its file removed"
    assert weights(port.latest()) == {**before, "s3a": 1.5}
    assert port.latest().rows == 7


def weights(snapshot: Any) -> dict[str, float]:
    found = {str(r["shipment_id"]): float(r["weight_kg"]) for r in snapshot.to_arrow().to_pylist()}
    assert len(found) == snapshot.rows, "no key twice"
    return found


def small_files_waiting(port: Any, count: int) -> None:
    """`count` appends of one row each that no automatic compaction follows (as if written by a stream)."""
    with suspended():
        for index in range(count):
            port.write(rows([f"s{index}"]))


def test_a_concurrent_append_during_compaction_is_kept(port: Any, lake: ml.Lake) -> None:
    small_files_waiting(port, 5)

    def append() -> None:
        with suspended():
            port.write(rows(["late"]))

    done = after_write(lake.catalog, port.table(), product_version="1", run_id="r1", before_commit=append)

    assert done is not None and done["rebases"] == 1 and done["files_before"] == 5
    assert ids(port.latest()) == sorted([*(f"s{i}" for i in range(5)), "late"])
    assert files(port) == 2 and modes(port)[-2:] == ["append", "compact"]


def test_compaction_gives_up_when_a_concurrent_overwrite_replaced_its_files(port: Any, lake: ml.Lake) -> None:
    small_files_waiting(port, 5)
    before = set(table_files(port))
    written: set[str] = set()

    def overwrite() -> None:
        port.write(rows(["new"]), mode="overwrite")
        written.update(set(table_files(port)) - before)

    done = after_write(lake.catalog, port.table(), product_version="1", run_id="r2", before_commit=overwrite)

    assert done is not None and "CompactionError" in done["error"]
    assert ids(port.latest()) == ["new"] and "compact" not in modes(port)
    assert not set(table_files(port)) - before - written, "the files it wrote are deleted"


def test_compaction_gives_up_when_merge_on_read_deletes_landed_meanwhile(port: Any, lake: ml.Lake) -> None:
    small_files_waiting(port, 5)

    def delete() -> None:
        with suspended():  # the delete's own compaction (it compacts as a write does) is not what this tests
            port.delete("shipment_id = 's2'", write_mode="merge-on-read")

    done = after_write(lake.catalog, port.table(), product_version="1", run_id="r3", before_commit=delete)

    assert done is not None and "CompactionError" in done["error"]
    assert ids(port.latest()) == ["s0", "s1", "s3", "s4"], "the deleted row stays deleted"
    assert modes(port)[-1] != "compact"


def test_concurrent_writers_lose_nothing_while_their_writes_compact(port: Any) -> None:
    failures: list[BaseException] = []
    results: list[Any] = []

    def writer(name: str) -> None:
        try:
            for index in range(12):
                results.append(port.write(rows([f"{name}{index:02d}"])))
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(name,)) for name in "abc"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not failures
    assert ids(port.latest()) == sorted(f"{n}{i:02d}" for n in "abc" for i in range(12))
    assert "compact" in modes(port), [r.auto_compaction for r in results]
    assert files(port) < 36


KILLED_WRITER = """
import sys
from datetime import UTC, datetime
import pyarrow as pa
import meshlake as ml

data = pa.table({
    "shipment_id": pa.array([sys.argv[2]], pa.string()),
    "shipped_at": pa.array([datetime(2026, 11, 1, tzinfo=UTC)], pa.timestamp("us", tz="UTC")),
    "weight_kg": pa.array([1.5], pa.float64()),
})
ml.connect(home=sys.argv[1]).port("logistics.shipments.daily").write(data)
"""


@pytest.mark.parametrize("phase", ["auto compact", "auto compact commit"])
def test_a_kill_during_compaction_leaves_a_readable_port_with_every_row(lake: ml.Lake, port: Any, phase: str) -> None:
    small_files_waiting(port, 4)
    env = {**os.environ, faults.CRASH_AT: phase}
    script = textwrap.dedent(KILLED_WRITER)
    child = subprocess.run([sys.executable, "-c", script, str(lake.settings.home), "killed"], env=env, check=False)
    assert child.returncode == -signal.SIGKILL

    assert ids(port.latest()) == sorted(["killed", *(f"s{i}" for i in range(4))]), "the write committed first"
    assert modes(port)[-1] == "append" and files(port) == 5
    again = port.write(rows(["after"]))
    assert again.auto_compaction is not None and again.auto_compaction["files_before"] == 6
    assert ids(port.latest()) == sorted(["after", "killed", *(f"s{i}" for i in range(4))])


def table_files(port: Any) -> list[str]:
    location = Path(port.table().metadata.location.removeprefix("file://"))
    return [str(p) for p in location.rglob("*.parquet")]


def test_the_gate_builds_on_the_stamp_of_the_write_before_a_compaction(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    unique = [{"expect_column_values_to_be_unique": {"column": "shipment_id"}}]
    port = deploy(lake, descriptor, write_descriptor, auto_compact={"min_files": 5}, expectations=unique)
    for index in range(5):
        port.write(rows([f"s{index}"]))
    assert modes(port)[-1] == "compact"

    after = port.write(rows(["s5"]))
    assert after.quality is not None and [r.method for r in after.quality.results] == ["incremental"]
    with pytest.raises(QualityGateError) as refused:
        port.write(rows(["s2"]))  # a duplicate of a row the compaction rewrote
    (result,) = refused.value.report.results
    assert result.method == "incremental" and result.unexpected_count == 2


def test_a_patch_release_switches_it_off_and_sets_the_table_property(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    lake.deploy(write_descriptor(descriptor))
    port = lake.port(ADDRESS)
    assert port.table().properties[ENABLED_PROPERTY] == "true"
    descriptor["outputs"][0]["auto_compact"] = {"enabled": False}
    descriptor["version"] = "1.4.1"
    path = write_descriptor(descriptor)
    changes = lake.plan(path).changes
    assert [c.level for c in changes if "auto_compact" in str(c)] == ["patch"]
    lake.deploy(path)
    assert lake.port(ADDRESS).table().properties[ENABLED_PROPERTY] == "false"


def test_a_compacted_file_is_not_rewritten_with_files_far_smaller_than_itself(port: Any) -> None:
    big = rows([os.urandom(16).hex() for _ in range(40_000)])
    port.write(big)
    (big_file,) = [task for task in port.latest().plan.tasks]
    assert size_class(big_file.file_size) == 1, "256 KB to 2 MB"
    results = [port.write(rows([f"s{i}"])) for i in range(5)]

    done = results[-1].auto_compaction
    assert done is not None and done["files_before"] == 5, "the five small ones, not the big one"
    paths = {task.path for task in port.latest().plan.tasks}
    assert big_file.path in paths and len(paths) == 2
    assert port.latest().rows == 40_005


APPENDING_WRITER = """
import sys
from datetime import UTC, datetime
import pyarrow as pa
import meshlake as ml

port = ml.connect(home=sys.argv[1]).port("logistics.shipments.daily")
for index in range(int(sys.argv[3])):
    port.write(pa.table({
        "shipment_id": pa.array([f"{sys.argv[2]}{index:02d}"], pa.string()),
        "shipped_at": pa.array([datetime(2026, 11, 1, tzinfo=UTC)], pa.timestamp("us", tz="UTC")),
        "weight_kg": pa.array([1.5], pa.float64()),
    }))
"""


def test_writer_processes_lose_nothing_while_their_writes_compact(lake: ml.Lake, port: Any) -> None:
    script = textwrap.dedent(APPENDING_WRITER)
    home = str(lake.settings.home)
    children = [subprocess.Popen([sys.executable, "-c", script, home, name, "15"]) for name in "pq"]
    assert [child.wait(timeout=600) for child in children] == [0, 0]

    assert ids(port.latest()) == sorted(f"{n}{i:02d}" for n in "pq" for i in range(15))
    assert "compact" in modes(port) and files(port) < 30
