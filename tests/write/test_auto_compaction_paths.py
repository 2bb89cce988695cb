"""Automatic compaction after every data-changing port write, not only `write`: `delete` and a quarantined write's
release compact too (`Port.compacted_after`) — on real embedded lakes."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest

import meshlake as ml
from meshlake.contract.autocompact import ENABLED_PROPERTY, MIN_FILES_PROPERTY
from meshlake.errors import ConfigError, QualityGateError
from meshlake.maintenance.auto_compact import suspended
from meshlake.maintenance.compact import size_class
from tests.conftest import DescriptorWriter
from tests.test_maintain import deploy, rows

BIG_ROWS = 40_000
KEPT = 10
BIG_DELETE = "shipment_id BETWEEN 'b00010' AND 'b99999'"
"""Removes all but the first `KEPT` rows of the big file (`b00000…` to `b00009…` stay); no small file's row."""


def ids(snapshot: Any) -> list[str]:
    return sorted(str(r["shipment_id"]) for r in snapshot.to_arrow().to_pylist())


def modes(port: Any) -> list[str | None]:
    return [entry.mode for entry in port.history()]


def files(port: Any) -> list[Any]:
    return list(port.latest().plan.tasks)


def big_and_four_small(port: Any) -> list[str]:
    """One file of the 256 KB-2 MB class and four one-row files beside it (four small ones: not due at 5); the ids
    the delete `BIG_DELETE` keeps."""
    big = [f"b{i:05d}{os.urandom(16).hex()}" for i in range(BIG_ROWS)]
    port.write(rows(big))
    assert size_class(files(port)[0].file_size) == 1
    results = [port.write(rows([f"s{i}"])) for i in range(4)]
    assert all(r.auto_compaction is None for r in results) and len(files(port)) == 5
    return sorted([*big[:KEPT], *(f"s{i}" for i in range(4))])


@pytest.fixture
def port(lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter) -> Any:
    return deploy(lake, descriptor, write_descriptor, auto_compact={"min_files": 5})


def test_a_delete_that_leaves_min_files_small_files_compacts_them(port: Any) -> None:
    kept = big_and_four_small(port)
    before = port.latest().snapshot_id
    rows_before = ids(port.at(before))

    result = port.delete(BIG_DELETE, write_mode="copy-on-write")

    done = result.auto_compaction
    assert done is not None and "error" not in done, done
    assert done["files_before"] == 5 and done["files_after"] == 1, "the rewritten 10-row file joined the four"
    assert result.snapshot_id != done["snapshot_id"] == port.latest().snapshot_id
    assert modes(port)[-2:] == ["delete", "compact"] and "auto compact" in result.phases
    assert len(files(port)) == 1 and ids(port.latest()) == kept
    assert ids(port.at(result.snapshot_id)) == kept, "the delete's own snapshot reads the same rows"
    assert ids(port.at(before)) == rows_before and len(rows_before) == BIG_ROWS + 4, "time travel is unchanged"


def test_a_delete_that_removes_nothing_does_not_compact(port: Any) -> None:
    big_and_four_small(port)
    before = port.latest().snapshot_id

    result = port.delete("shipment_id = 'nobody'")

    assert result.auto_compaction is None and port.latest().snapshot_id == before and len(files(port)) == 5


def test_switched_off_a_delete_compacts_nothing(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    port = deploy(lake, descriptor, write_descriptor, auto_compact=False)
    assert port.table().properties[ENABLED_PROPERTY] == "false"
    port.table().transaction().set_properties({MIN_FILES_PROPERTY: "5"}).commit_transaction()
    kept = big_and_four_small(port)

    result = port.delete(BIG_DELETE, write_mode="copy-on-write")

    assert result.auto_compaction is None and "compact" not in modes(port)
    assert len(files(port)) == 5 and ids(port.latest()) == kept


def test_a_malformed_setting_refuses_the_delete_before_anything_changes(port: Any) -> None:
    port.write(rows(["s0", "s1"]))
    before = port.latest().snapshot_id
    port.table().transaction().set_properties({MIN_FILES_PROPERTY: "1"}).commit_transaction()

    with pytest.raises(ConfigError) as refused:
        port.delete("shipment_id = 's0'")

    assert refused.value.key == MIN_FILES_PROPERTY
    assert port.latest().snapshot_id == before and ids(port.latest()) == ["s0", "s1"]


def test_a_concurrent_writer_loses_nothing_while_deletes_compact(port: Any) -> None:
    kept = big_and_four_small(port)
    appended: list[str] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def writer() -> None:
        try:
            with suspended():  # its own appends leave their small files for the deletes' compactions
                index = 0
                # at least 10 appends race the deletes; at most 40 keeps the test short (a delete that lost a race
                # makes these appends wait for it, `test_commit_fairness`, so it ends without the cap too)
                while index < 10 or (not stop.is_set() and index < 40):
                    port.write(rows([f"w{index:03d}"]))
                    appended.append(f"w{index:03d}")
                    index += 1
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        first = port.delete(BIG_DELETE, write_mode="copy-on-write")
        second = port.delete("shipment_id = 's0'", write_mode="copy-on-write")
    finally:
        stop.set()
        thread.join()

    assert not failures
    compactions = [r.auto_compaction for r in (first, second) if r.auto_compaction is not None]
    assert compactions and any("snapshot_id" in c for c in compactions), compactions
    assert "compact" in modes(port)
    assert ids(port.latest()) == sorted([*(k for k in kept if k != "s0"), *appended])


def test_a_released_quarantined_write_compacts_after_its_commit(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    gate = [{"expect_column_values_to_be_between": {"column": "weight_kg", "min_value": 0, "max_value": 50}}]
    port = deploy(lake, descriptor, write_descriptor, auto_compact={"min_files": 5}, expectations=gate)
    for index in range(4):
        port.write(rows([f"s{index}"]))
    with pytest.raises(QualityGateError):
        port.write(rows(["heavy"], weight=99.0), run_id="heavyrun")
    assert len(files(port)) == 4

    result = port.quarantine().release("heavyrun", force=True, reason="grams, checked by hand")

    done = result.auto_compaction
    assert done is not None and done["files_before"] == 5 and done["files_after"] == 1, done
    assert modes(port)[-1] == "compact" and len(files(port)) == 1
    assert ids(port.latest()) == sorted(["heavy", *(f"s{i}" for i in range(4))])
    assert ids(port.at(result.snapshot_id)) == ids(port.latest())
    assert len(port.quarantine()) == 0
