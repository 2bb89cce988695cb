"""Tiered merges of the key index's runs (`meshlake.write.key_merge`): a middle merge leaves the base's files alone and
writes only its new runs, and every merge, rebase and save keeps the index's lookups exact."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import meshlake as ml
from meshlake.write import index_keeper, key_index_keeping, key_index_store, key_merge, key_runs
from meshlake.write.key_runs import FileEntry, KeyIndex
from tests.conftest import DescriptorWriter
from tests.write.test_key_index import (
    KEYED,
    KILLED_WHILE_KEEPING,
    Story,
    _indexed_port,
    _load_current,
    assert_right_after_the_killed_upsert,
    assert_same,
    head_id,
    index_folder,
    rows,
    state,
)


class Model:
    """A port's row space kept by hand: each upsert adds a data file (rows numbered from `next_row`, in the index
    as a small run) and tombstones the old rows of its keys; a delete tombstones rows; `live` is the brute-force
    answer, key -> (file index, position)."""

    def __init__(self, rng: random.Random, keys: int) -> None:
        self.rng = rng
        first = list(range(keys))
        rng.shuffle(first)
        self.live: dict[int, tuple[int, int]] = {k: (0, p) for p, k in enumerate(first)}
        base = key_runs.new_run(np.array(first, np.int64), np.arange(keys, dtype=np.int64))
        files = (FileEntry("f0", 0, keys, frozenset()),)
        self.index = KeyIndex("t", 1, ("id",), (1,), files, (base,), (), keys)
        self.gone: set[int] = set()
        self.next_key = keys

    def row_of(self, key: int) -> int:
        file_id, position = self.live[key]
        return self.index.files[file_id].offset + position

    def upsert(self) -> None:
        rng, live = self.rng, sorted(self.live)
        changed = rng.sample(live, min(len(live), rng.randint(0, 6)))
        again = rng.sample(sorted(self.gone), min(len(self.gone), rng.randint(0, 3)))  # deleted, inserted again
        new = list(range(self.next_key, self.next_key + rng.randint(0, 4)))
        self.next_key += len(new)
        keys = [*changed, *again, *new]
        rng.shuffle(keys)
        tombs = [self.row_of(k) for k in changed]
        file_id, offset = len(self.index.files), self.index.next_row
        for position, key in enumerate(keys):
            self.live[key] = (file_id, position)
        self.gone -= set(again)
        files = (*self.index.files, FileEntry(f"f{file_id}", offset, len(keys), frozenset()))
        runs = self.index.runs
        if keys:
            order = np.array(keys, np.int64)
            runs = (*runs, key_runs.new_run(order, offset + np.arange(len(keys), dtype=np.int64)))
        self._caught(files, runs, tombs, offset + len(keys))

    def delete(self) -> None:
        live = sorted(self.live)
        dropped = self.rng.sample(live, min(len(live), self.rng.randint(1, 5)))
        tombs = [self.row_of(k) for k in dropped]
        for key in dropped:
            del self.live[key]
        self.gone |= set(dropped)
        self._caught(self.index.files, self.index.runs, tombs, self.index.next_row)

    def _caught(self, files: Any, runs: Any, tombs: list[int], next_row: int) -> None:
        tombstones = self.index.tombstones
        if tombs:
            tombstones = (*tombstones, key_runs.tombstone_run(np.array(tombs, np.int64)))
        self.index = KeyIndex("t", self.index.snapshot_id + 1, ("id",), (1,), files, runs, tombstones, next_row)

    def check(self, index: KeyIndex) -> None:
        probe = sorted({*self.live, *self.gone, self.next_key, -1})
        file_ids, positions = index.find([np.array(probe, np.int64)])
        found = sorted(zip(file_ids.tolist(), positions.tolist(), strict=True))
        assert found == sorted(self.live.values())


@pytest.mark.parametrize("seed", range(12))
def test_merged_and_rebased_indexes_find_what_a_brute_force_set_finds(
    seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Random series of upserts (changed, new, and deleted keys inserted again) and deletes; after each step the
    index, merged whenever due (middle or base, by small thresholds), a merge of an older index rebased onto it,
    and the index saved and loaded again, find exactly the live keys' rows."""
    rng = random.Random(seed)
    monkeypatch.setattr(key_merge, "SMALL_RUNS", rng.choice([0, 1, 2, 4]))
    monkeypatch.setattr(key_merge, "MERGE_SHARE", rng.choice([0.05, 0.3, 1.0, 100.0]))
    model = Model(rng, rng.choice([1, 30, 200]))
    merges = {"middle": 0, "base": 0}
    pending: tuple[KeyIndex, KeyIndex] | None = None  # a merge of an older index, to rebase onto
    for step in range(80):
        model.upsert() if rng.random() < 0.75 else model.delete()
        model.check(model.index)
        if pending is not None and rng.random() < 0.5:
            rebased = key_index_keeping._rebased_on(model.index, pending)
            assert rebased is not model.index, "derives from the merge's source: rebased"
            model.check(rebased)
            model.index, pending = rebased, None
        if pending is None and key_merge.due(model.index):  # one merge at a time, as `_merge_aside` runs them
            full = key_merge._base_due(model.index)
            done = key_merge.merged(model.index)
            merges["base" if full else "middle"] += 1
            assert len(done.runs) <= 2 and len(done.tombstones) <= (0 if full else 1)
            assert full or done.runs[0] is model.index.runs[0], "a middle merge keeps the base as it is"
            model.check(done)
            if rng.random() < 0.5:
                pending = (model.index, done)  # rebased later, after more catch-ups
            else:
                model.index = done
        if step % 10 == 9:
            folder = tmp_path / str(step)
            assert key_index_store.save(folder, model.index)
            key_index_store._memo.clear()
            table = type("T", (), {"metadata": type("M", (), {"table_uuid": "t"})()})()
            loaded = key_index_store.load(folder, table, model.index.snapshot_id, ("id",), (1,))  # type: ignore[arg-type]
            assert loaded is not None and [r.level for r in loaded.runs] == [r.level for r in model.index.runs]
            model.check(loaded)
    assert sum(merges.values()) > 0 or key_merge.SMALL_RUNS >= 4


def test_a_middle_merge_writes_only_its_runs_and_leaves_the_base_files(
    keyed: ml.Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = _indexed_port(keyed)
    monkeypatch.setattr(key_merge, "SMALL_RUNS", 1)
    monkeypatch.setattr(key_merge, "MERGE_SHARE", 100.0)  # never a base merge
    before = _load_current(port)
    assert before is not None
    base = before.runs[0].name
    folder = index_folder(port)
    stamps = {p.name: (p.stat().st_mtime_ns, p.stat().st_ino) for p in folder.glob(f"{base}.*.npy")}
    assert stamps
    for n in range(6):
        port.write(rows([10 + n, 40 + n, 500 + n], float(n)), mode="upsert", write_mode="merge-on-read")
        assert index_keeper.wait_all(60)
    after = _load_current(port)
    assert after is not None and after.runs[0].name == base, "the base is the one built first"
    assert len(after.runs) <= 3 and any(r.level == 1 for r in after.runs) and len(after.tombstones) <= 3
    assert {p.name: (p.stat().st_mtime_ns, p.stat().st_ino) for p in folder.glob(f"{base}.*.npy")} == stamps
    found = state(port)
    assert len(found) == 101 + 6 and all(found[(10 + n,)] == found[(500 + n,)] == float(n) for n in range(6))
    assert_same(port, rows(list(range(0, 520, 3)), 0.0).select(["id"]))


@pytest.mark.parametrize(("small_runs", "share"), [(0, 100.0), (1, 0.5)])
def test_middle_merges_of_a_lake_index_find_what_the_scan_finds_after_any_sequence_of_writes(
    keyed: ml.Lake, monkeypatch: pytest.MonkeyPatch, small_runs: int, share: float
) -> None:
    """As `test_key_index`'s story (upserts, deletes, copy-on-write, compaction, pyiceberg's writes, rollbacks), with
    a middle merge due at nearly every keeping and base merges never or rarely."""
    monkeypatch.setattr(key_merge, "SMALL_RUNS", small_runs)
    monkeypatch.setattr(key_merge, "MERGE_SHARE", share)
    port = keyed.port("keys.idx.single")
    story = Story(keyed, port, ("id",))
    first = rows(story.fresh(60), 1.0)
    port.write(first)
    story.put(first)
    for n in range(50):
        story.step(n)
    assert index_keeper.wait_all(60)
    assert state(port) == story.model
    saved = _load_current(port)
    assert saved is None or len(saved.runs) <= 2 + small_runs + 1


@pytest.fixture
def keyed(lake: ml.Lake, write_descriptor: DescriptorWriter) -> ml.Lake:
    lake.deploy(write_descriptor(KEYED))
    return lake


MIDDLE_MERGES = "from meshlake.write import key_merge\nkey_merge.SMALL_RUNS = 0\nkey_merge.MERGE_SHARE = 100.0\n"


def test_a_process_killed_after_writing_a_middle_merges_runs_leaves_a_usable_index(
    keyed: ml.Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed once the merged runs' files are written, before any manifest names them: whatever index is saved is
    right, the next upsert is right, and the unnamed files are pruned."""
    port = _indexed_port(keyed)
    monkeypatch.setenv("MESHLAKE_CRASH_AT", "key index merge written")
    script = MIDDLE_MERGES + KILLED_WHILE_KEEPING
    args = [sys.executable, "-c", script, str(tmp_path / ".meshlake"), "wait"]
    child = subprocess.run(args, check=False, capture_output=True, timeout=300)
    monkeypatch.delenv("MESHLAKE_CRASH_AT")
    assert child.returncode == -9, child.stderr.decode()
    assert head_id(port) == int(child.stdout.split()[0]), "the upsert committed before its keeping"
    kept = _load_current(port)
    assert kept is None or not any(r.level == 1 for r in kept.runs), "no manifest names the merged runs"
    folder = index_folder(port)
    unnamed = _runs_on_disk(folder) - _named(folder)
    assert unnamed, "the merge wrote its runs before the kill"
    assert_right_after_the_killed_upsert(port)
    key_index_store.prune(folder, grace_seconds=0.0)
    assert not _runs_on_disk(folder) & unnamed, "the merged runs no manifest names are pruned"


def _runs_on_disk(folder: Path) -> set[str]:
    return {p.name.split(".")[0] for p in folder.glob("*.npy")}


def _named(folder: Path) -> set[str]:
    names: set[str] = set()
    for manifest in folder.glob("snap-*.json"):
        found = json.loads(manifest.read_bytes())
        names |= {r["name"] for r in (*found["runs"], *found["tombstones"])}
    return names
