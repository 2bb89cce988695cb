"""Keeping the key index after a meshlake commit (`meshlake.write.key_index`): the caught-up index served from memory
until saved, merges of its runs on a thread of their own, and the newest index rebased onto a merge that ended."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from meshlake.write import faults, key_index, key_index_store, key_merge, key_runs
from meshlake.write.key_runs import KeyIndex, SortedKeys, kinds_of

if TYPE_CHECKING:
    from pyiceberg.table import Table

    from meshlake.query.plan import ScanPlan


def keep_current(
    table: Table,
    index: KeyIndex,
    plan: ScanPlan,
    known: Mapping[str, tuple[str, np.ndarray]],
    folder: Path,
    written: Mapping[str, pa.Table] | None = None,
    presorted: SortedKeys | None = None,
) -> None:
    """Bring `index` to `plan`'s snapshot and keep it in `folder` (after a meshlake commit; `known`, `written` and
    `presorted` as for `catch_up`). Lookups of this process use it from memory (`index_keeper.ready`) until it is
    saved, which the keeper may defer or skip for a newer keeping's (`index_keeper.save_later`).

    A merge of its runs, when due (`merged`: O(rows of the port)), runs aside, on a thread of its own
    (`_merge_aside`), so neither the next lookup nor the next keeping waits for it: the index is caught up from the
    newest merge it derives from (`_rebased`), and when a merge ends the newest index is rebased onto it."""
    from meshlake.write import index_keeper

    caught = key_index.catch_up(table, _rebased(index), plan, known, written, presorted, merge=False)
    if caught is None:
        return
    with _recent_lock:  # rebased (again: a merge may have ended meanwhile) and served in one step, see `_merge_aside`
        caught = _rebased_on(caught, _merges.get(caught.table_uuid))
        _recent[caught.table_uuid] = caught
    index_keeper.ready()
    if key_merge.due(caught):
        _merge_aside(table, caught, folder)
    index_keeper.save_later(lambda: _save_recent(folder, caught))


def _merge_aside(table: Table, index: KeyIndex, folder: Path) -> None:
    """Merge `index`'s runs on a thread of its own (one merge per table at a time; `index_keeper.aside`), write the
    merged runs' files (off the keeper: its next save only names them; a middle merge leaves the base's as they
    are), then serve the index served now rebased onto
    it (`_rebased_on`; under the lock a keeping serves its index with, so neither replaces the other's unseen). A
    merge that fails or dies leaves the indexes as they were (right, with more runs)."""
    from meshlake.write import index_keeper

    table_uuid, name = index.table_uuid, ".".join(table.name())
    with _recent_lock:
        if table_uuid in _merging:
            return
        _merging.add(table_uuid)

    def job() -> None:
        unsaved: tuple[Path, KeyIndex] | None = None
        try:
            faults.reached("key index merge")
            done = key_merge.merged(index)
            for run in done.runs:
                if len(run.rows) >= key_runs.FENCED_RUN:
                    key_runs.fences_of(run)  # made here, not by the next lookup
            for run in (*done.runs, *done.tombstones):  # written here (only the new ones): the keeper's next save
                key_index_store.written_run(folder, run)  # only names them
            faults.reached("key index merge written")
            with _recent_lock:
                _merges[table_uuid] = (index, done)
                served = _recent.get(table_uuid)
                saved = _saved_while_merging.get(table_uuid)
                if served is not None:
                    _recent[table_uuid] = _rebased_on(served, (index, done))
                elif saved is not None and _derives(saved[1], index):  # saved and no longer served: save it rebased
                    unsaved = (saved[0], _rebased_on(saved[1], (index, done)))
        finally:
            with _recent_lock:
                _merging.discard(table_uuid)
                _saved_while_merging.pop(table_uuid, None)
        if unsaved is not None:
            _save_recent(*unsaved)

    index_keeper.aside(job, name)


def _rebased(index: KeyIndex) -> KeyIndex:
    """`index` on the newest merge of an index it derives from, if one ended (`_rebased_on`)."""
    with _recent_lock:
        found = _merges.get(index.table_uuid)
    return _rebased_on(index, found)


def _rebased_on(index: KeyIndex, found: tuple[KeyIndex, KeyIndex] | None) -> KeyIndex:
    """`index` on the merge `found` (its source, the merged index) if it derives from that source: a catch-up only
    appends runs, tombstones and files (and marks files dead), so an index whose first runs, tombstones and files
    are the source's is the merged runs and tombstones plus what it added since; else `index` itself."""
    if found is None:
        return index
    source, done = found
    if not _derives(index, source):
        return index
    return replace(
        index,
        runs=(*done.runs, *index.runs[len(source.runs) :]),
        tombstones=(*done.tombstones, *index.tombstones[len(source.tombstones) :]),
    )


def _derives(index: KeyIndex, source: KeyIndex) -> bool:
    """Whether `index` is `source` caught up (possibly again and again): same table and key, `source`'s runs and
    tombstones (by name: runs never change) first, its files first at the same rows."""
    if (index.table_uuid, index.key, index.field_ids, kinds_of(index)) != (
        source.table_uuid,
        source.key,
        source.field_ids,
        kinds_of(source),
    ):
        return False
    if len(index.runs) < len(source.runs) or len(index.tombstones) < len(source.tombstones):
        return False
    if len(index.files) < len(source.files) or index.next_row < source.next_row:
        return False
    runs = all(a.name == b.name for a, b in zip(index.runs, source.runs, strict=False))
    tombstones = all(a.name == b.name for a, b in zip(index.tombstones, source.tombstones, strict=False))
    files = all(
        (a.path, a.offset, a.count) == (b.path, b.offset, b.count)
        for a, b in zip(index.files, source.files, strict=False)
    )
    return runs and tombstones and files


def _starts_with(index: KeyIndex, done: KeyIndex) -> bool:
    """Whether `index`'s first runs and tombstones are those of `done` (a merge's result): rebased onto it."""
    runs = [r.name for r in index.runs[: len(done.runs)]] == [r.name for r in done.runs]
    tombs = [t.name for t in index.tombstones[: len(done.tombstones)]] == [t.name for t in done.tombstones]
    return bool(done.runs) and runs and tombs


def _same_snapshot(a: KeyIndex, b: KeyIndex) -> bool:
    """Whether `a` and `b` index the same snapshot of the same table by the same key (possibly in other runs)."""
    same = (a.table_uuid, a.snapshot_id, a.key, a.field_ids) == (b.table_uuid, b.snapshot_id, b.key, b.field_ids)
    return same and kinds_of(a) == kinds_of(b)


def _save_recent(folder: Path, index: KeyIndex) -> None:
    """Save `index`, a keeping's (or the index of its snapshot served in its place since: rebased onto a merge,
    also when that happened while it was being saved), then stop serving it from memory unless a newer keeping's
    replaced it there; once an index rebased onto the newest merge is saved, that merge is no longer needed to
    rebase onto."""
    for _ in range(2):
        with _recent_lock:
            served = _recent.get(index.table_uuid)
        if served is not None and served is not index and _same_snapshot(served, index):
            index = served
        try:
            key_index_store.save(folder, index)
        finally:
            with _recent_lock:
                served = _recent.get(index.table_uuid)
                if served is index:
                    del _recent[index.table_uuid]
                if index.table_uuid in _merging:
                    _saved_while_merging[index.table_uuid] = (folder, index)
                found = _merges.get(index.table_uuid)
                if found and _starts_with(index, found[1]):
                    del _merges[index.table_uuid]
        if served is None or served is index or not _same_snapshot(served, index):
            return


_recent: dict[str, KeyIndex] = {}
"""By table uuid: the index a keeping of this process has caught up and not saved yet (`keep_current`)."""
_recent_lock = threading.Lock()
_merges: dict[str, tuple[KeyIndex, KeyIndex]] = {}
"""By table uuid: the newest merge that ended, (its source, the merged index), until an index rebased onto it is
saved (`_rebased`)."""
_merging: set[str] = set()
"""Tables whose index is being merged aside (`_merge_aside`)."""
_saved_while_merging: dict[str, tuple[Path, KeyIndex]] = {}
"""By table uuid: the index a keeping saved (and stopped serving) while a merge ran, which the merge saves again
rebased onto it when it ends."""


def in_memory(
    table: Table, key: tuple[str, ...], field_ids: tuple[int, ...], kinds: tuple[str, ...]
) -> KeyIndex | None:
    """The index a keeping caught up and has not saved yet (see `keep_current`), if it is one of the same key: of
    the snapshot looked up, or of an ancestor to catch up from (`current` checks which, as for a loaded one)."""
    with _recent_lock:
        found = _recent.get(str(table.metadata.table_uuid))
    if found is None or found.key != key or found.field_ids != field_ids:
        return None
    if kinds_of(found) != (kinds or ("integer",) * len(field_ids)):
        return None
    return found
