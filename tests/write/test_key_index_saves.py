"""Deferred saves of the key index (`meshlake.write.index_keeper.save_later`): back-to-back upserts save only the
newest index, every saved index is exactly that of the snapshot it names, and an index left behind by skipped or
lost saves is caught up right."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import meshlake as ml
from meshlake.write import index_keeper, key_index, key_index_keeping, key_index_store
from tests.conftest import DescriptorWriter
from tests.write.test_key_index import (
    KEYED,
    _indexed_port,
    _load_current,
    assert_same,
    head_id,
    index_folder,
    rows,
    state,
)


@pytest.fixture
def keyed(lake: ml.Lake, write_descriptor: DescriptorWriter) -> ml.Lake:
    lake.deploy(write_descriptor(KEYED))
    return lake


def saved_snapshots(port: Any) -> set[int]:
    return {int(p.name[len("snap-") : -len(".json")]) for p in index_folder(port).glob("snap-*.json")}


def upserts(port: Any, count: int, first: int) -> list[Any]:
    """`count` upserts back to back, no wait: each changes two old keys and adds one."""
    return [
        port.write(
            rows([first + n, first + 50 + n, 2000 + first + n], float(first + n)),
            mode="upsert",
            write_mode="merge-on-read",
        )
        for n in range(count)
    ]


def settled(keeping: Any, timeout: float = 60.0) -> None:
    """Wait until `keeping` is done without asking for its save (as `Keeping.wait` would)."""
    deadline = time.monotonic() + timeout
    while not keeping.done:
        assert time.monotonic() < deadline, "the keeping never finished"
        time.sleep(0.01)


def test_back_to_back_upserts_save_only_the_newest_index(keyed: ml.Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    port = _indexed_port(keyed)
    before = saved_snapshots(port)
    monkeypatch.setattr(index_keeper, "SAVE_DELAY_SECONDS", 60.0)
    written = upserts(port, 4, first=10)
    keepings = [result.index_keeping for result in written]
    assert all(k is not None for k in keepings)
    for keeping in keepings[:-1]:
        settled(keeping)
        assert keeping.superseded and keeping.error is None and keeping.seconds is not None
    assert not keepings[-1].done and saved_snapshots(port) == before, "the newest save waits"
    assert key_index_keeping._recent[str(port.table().metadata.table_uuid)].snapshot_id == head_id(port)
    assert index_keeper.wait_all(60), "waiting runs the deferred save at once"
    assert not keepings[-1].superseded and keepings[-1].error is None
    assert saved_snapshots(port) - before == {head_id(port)}
    assert str(port.table().metadata.table_uuid) not in key_index_keeping._recent, "saved: served from disk again"
    loaded = _load_current(port)
    assert loaded is not None and loaded.snapshot_id == head_id(port)
    found = state(port)
    assert len(found) == 100 + 1 + 4 and all(found[(10 + n,)] == float(10 + n) for n in range(4))
    assert_same(port, rows([*range(0, 70), *range(2000, 2020)], 0.0).select(["id"]))


def test_a_save_waits_at_most_the_delay_without_a_newer_keeping(
    keyed: ml.Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = _indexed_port(keyed)
    monkeypatch.setattr(index_keeper, "SAVE_DELAY_SECONDS", 0.2)
    result = upserts(port, 1, first=20)[0]
    assert result.index_keeping is not None
    settled(result.index_keeping)
    assert not result.index_keeping.superseded and result.snapshot_id in saved_snapshots(port)


def test_no_more_than_the_maximum_of_saves_in_a_row_are_skipped(
    keyed: ml.Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = _indexed_port(keyed)
    monkeypatch.setattr(index_keeper, "SAVE_DELAY_SECONDS", 60.0)
    monkeypatch.setattr(index_keeper, "SKIPPED_SAVES_MAX", 2)
    written = upserts(port, 5, first=30)
    keepings = [result.index_keeping for result in written]
    settled(keepings[3])
    assert [k.superseded for k in keepings[:4]] == [True, True, False, True]
    assert written[2].snapshot_id in saved_snapshots(port), "the third ran at once: two were skipped before it"
    assert index_keeper.wait_all(60)
    assert {written[2].snapshot_id, written[4].snapshot_id} <= saved_snapshots(port)
    assert not {written[n].snapshot_id for n in (0, 1, 3)} & saved_snapshots(port)
    assert_same(port, rows([*range(25, 90), *range(2025, 2040)], 0.0).select(["id"]))


def test_a_failed_newer_keeping_leaves_the_deferred_save_of_the_older(
    keyed: ml.Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = _indexed_port(keyed)
    monkeypatch.setattr(index_keeper, "SAVE_DELAY_SECONDS", 60.0)
    first = upserts(port, 1, first=40)[0]
    first.index_keeping.wait_ready(60)
    original = key_index.catch_up

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk gone")

    monkeypatch.setattr(key_index, "catch_up", broken)
    second = upserts(port, 1, first=41)[0]
    settled(second.index_keeping)
    monkeypatch.setattr(key_index, "catch_up", original)
    assert isinstance(second.index_keeping.error, RuntimeError)
    assert not first.index_keeping.done, "not superseded by a keeping that has no index to save"
    assert index_keeper.wait_all(60) and not first.index_keeping.superseded
    assert first.snapshot_id in saved_snapshots(port) and second.snapshot_id not in saved_snapshots(port)
    third = upserts(port, 1, first=42)[0]  # caught up from the first's index, past the second's snapshot
    assert third.rows_updated == 2 and index_keeper.wait_all(60)
    assert third.snapshot_id in saved_snapshots(port)
    assert_same(port, rows([*range(35, 100), *range(2035, 2050)], 0.0).select(["id"]))


def test_a_lookup_catches_up_from_an_unsaved_index_in_memory(keyed: ml.Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another writer committed after this process's upsert, whose index is in memory, not saved: the next upsert
    catches up from it (reading only what the other writer added), not from an older index on disk."""
    port = _indexed_port(keyed)
    monkeypatch.setattr(index_keeper, "SAVE_DELAY_SECONDS", 60.0)
    first = upserts(port, 1, first=20)[0]
    first.index_keeping.wait_ready(60)
    appended = port.write(rows([3000, 3001], 5.0)).snapshot_id  # an append by another writer
    loaded: list[int] = []
    load = key_index_store.load

    def counted(folder: Path, table: Any, snapshot_id: int, *args: Any, **kwargs: Any) -> Any:
        loaded.append(snapshot_id)
        return load(folder, table, snapshot_id, *args, **kwargs)

    monkeypatch.setattr(key_index_store, "load", counted)
    second = upserts(port, 1, first=25)[0]
    assert second.rows_updated == 2
    assert loaded == [appended], "none saved for the head; the first upsert's snapshot's came from memory"
    monkeypatch.setattr(key_index_store, "load", load)
    assert index_keeper.wait_all(60)
    found = state(port)
    assert found[(20,)] == 20.0 and found[(75,)] == 25.0 and found[(3000,)] == 5.0
    assert_same(port, rows([*range(15, 80), 2020, 2025, 3000, 3001], 0.0).select(["id"]))


KILLED_IN_A_STREAM = """
import os, signal, sys
import pyarrow as pa
import meshlake as ml
from meshlake.write import index_keeper

index_keeper.SAVE_DELAY_SECONDS = 60.0
port = ml.connect(home=sys.argv[1]).port("keys.idx.single")
for n in range(3):
    ids = [70 + n, 120 + n, 2070 + n]
    change = pa.table({"id": pa.array(ids, pa.int64()), "part": pa.array([i % 3 for i in ids], pa.int32()),
                       "v": pa.array([float(70 + n)] * 3)})
    result = port.write(change, mode="upsert", write_mode="merge-on-read")
    result.index_keeping.wait_ready(60)
print(result.snapshot_id, flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # between upserts: the newest index is in memory only
"""


def test_a_process_killed_in_a_stream_of_upserts_leaves_an_older_index_the_next_upsert_catches_up(
    keyed: ml.Lake, tmp_path: Path
) -> None:
    port = _indexed_port(keyed)
    before = saved_snapshots(port)
    child = subprocess.run(
        [sys.executable, "-c", KILLED_IN_A_STREAM, str(tmp_path / ".meshlake")],
        check=False,
        capture_output=True,
        timeout=300,
    )
    assert child.returncode == -9, child.stderr.decode()
    committed = int(child.stdout.split()[0])
    assert head_id(port) == committed and saved_snapshots(port) == before, "no save ran: all deferred"
    assert _load_current(port) is None
    for snapshot_id in before:  # every saved index is exactly that of the snapshot it names
        key_index_store._memo.clear()
        assert key_index_store.load(index_folder(port), port.table(), snapshot_id, ("id",), (1,)) is not None
    assert_same(port, rows([*range(60, 130), *range(2070, 2075)], 0.0).select(["id"]))
    result = port.write(rows([72, 73, 2080], 9.0), mode="upsert", write_mode="merge-on-read")
    assert result.rows_updated == 2 and index_keeper.wait_all(60)
    found = state(port)
    assert found[(70,)] == 70.0 and found[(71,)] == 71.0 and found[(72,)] == 9.0 and found[(2072,)] == 72.0
    assert result.snapshot_id in saved_snapshots(port)
    assert_same(port, rows([*range(60, 130), *range(2070, 2085)], 0.0).select(["id"]))
