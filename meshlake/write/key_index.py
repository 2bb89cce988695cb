"""A key index: where each live row of a port is, by its primary key, so a merge-on-read upsert costs what it changes.

Without it, `deletes_for_keys` reads the key column of every live row the keys' min/max cannot prune (with keys
spread over the port: all of them): O(port). With it, the old rows of m keys are found by `np.searchsorted` in a
sorted, memory-mapped array: O(m log n). Like Hudi's record index or Paimon's, but kept as a *verified cache*:

- Scope: ports whose primary key columns are of any primitive type a key may have but float and double (which a
  contract refuses as keys, and whose equality is not their bits'), one column or several (`key_kind`). One
  integer, boolean, date (days), time or timestamp (microseconds) column, or a decimal of precision ≤ 18 (its
  unscaled int64), is sorted by its value; a compound key, or one held as bytes (strings' UTF-8, UUIDs, binary,
  fixed, decimals wider than 18 digits as 16 bytes), by a 64-bit hash of its columns (splitmix64's finalizer over
  the int64 values and over each value's bytes, 8 at a time: `string_hash`, defined in `key_hashing` so it
  never changes under an index), and the index holds the key columns too (bytes as Arrow offsets + bytes), so a
  hash match is a candidate checked exactly against them. Nanosecond timestamps and a port with equality deletes
  are looked up by the scan; so is every port when the caches are off.
- Folder: `keyindex/<table uuid>/` in meshlake's cache folder (`meshlake.catalog.disk_cache`; `MESHLAKE_CACHE_DIR=off`
  turns it off). Deleting it is always safe: the next upsert rebuilds it from the scan it then pays anyway.
- Layout (LSM): an index is bound to one snapshot of one table (`snap-<snapshot id>.json`: table uuid, snapshot id,
  key column and field id, the data files it covers with the delete files applied to each, and its runs). Rows live
  in a row space where data file i holds rows [offset_i, offset_i + record_count_i). Runs are immutable `.npy`
  pairs: keys (sorted int64) and row numbers; tombstones are sorted row numbers of rows deleted since. A data file
  gone from the snapshot is marked dead (null). When deltas and tombstones pass `MERGE_SHARE` of the base, they
  are merged into a new base (O(n), `np.insert` of the sorted deltas; no sort of the base), on a thread of its own
  (`_merge_aside`), the newest index then rebased onto it (`_rebased`).
- Catch-up: an index of an ancestor snapshot is brought to the snapshot looked up by what changed in between,
  whoever wrote it (meshlake, another process, pyiceberg, an engine, compaction): the key columns of the data files
  added since (or whose deletes cannot be explained as additions) are read, data files removed are marked dead,
  and the positions of delete files added since become tombstones. More than `REBUILD_SHARE` of the port to read,
  or no ancestor's index: rebuilt from a full scan (today's lookup cost plus a sort). A meshlake upsert brings the
  index to the snapshot it commits right after the commit, from what it wrote (no delete file read back, nor
  its data file when it wrote one: the keys it holds are in the file's order, sorted already by the lookup:
  `SortedKeys`); lookups of the process use that index from memory while it is saved.
- Trust: entries are written atomically (temporary file renamed), runs before the manifest naming them. On load,
  the manifest is checked (version, table uuid, snapshot id, key columns, their kinds — a decimal's with its
  scale — and, for keys held as bytes, the hashes of `HASH_PROBE`), each run's `.npy` header, length
  and byte size, and a CRC-32: of the whole file below `FULL_CHECK_BYTES`, else of `SAMPLES` blocks spread over it
  plus its first and last block (a torn, truncated, zero-filled or overwritten file fails it; a single flipped bit
  between samples would not: the base run of 20 M rows is 320 MB, and a full CRC costs ~0.4 s per load).
  Anything that fails is ignored and rebuilt. Row numbers are checked to fall in a live file before use.
- Size: 16 bytes per indexed row (8 key, 8 row number) in the base run, i.e. 16 MB per million rows, memory-mapped;
  a held key column adds 8 bytes per row, a column held as bytes 8 bytes of offset plus its bytes.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import threading
import time
import uuid
import zlib
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from meshlake.catalog import disk_cache
from meshlake.write import faults
from meshlake.write.key_hashing import (
    Column,
    held_as_bytes,
    holds_columns,
    key_kinds,
    key_values,
    sort_key,
    string_hash,
)

if TYPE_CHECKING:
    from pyiceberg.table import Table

    from meshlake.query.plan import DataTask, ScanPlan

_log = logging.getLogger(__name__)

VERSION = 2
MERGE_SHARE = 0.125
"""Merge deltas and tombstones into a new base once they hold this share of the base's rows (or `MAX_RUNS`)."""
MAX_RUNS = 12
REBUILD_SHARE = 0.5
"""Rebuild from a full scan when catching up would read more than this share of the port's rows."""
ANCESTORS = 64
"""How many ancestors of a snapshot are searched for an index to catch up from."""
KEEP = 8
"""Manifests kept per table (the newest); older ones and the runs only they named are deleted."""
GRACE_SECONDS = 600.0
FULL_CHECK_BYTES = 8 << 20
SAMPLES = 64
BLOCK = 4096
HASH_PROBE = ("", "a", "meshlake", "ünïcode ✓", "x" * 23)
"""Strings whose `string_hash` a manifest records: an index of keys held as bytes is loaded only where they hash the
same."""


def folder_of(table: Table) -> Path | None:
    """The index folder of `table`, None when the caches are off."""
    base = disk_cache.cache_folder("keyindex")
    return None if base is None else base / str(table.metadata.table_uuid)


@dataclass(frozen=True)
class Run:
    """Sorted keys (`sort_key`), their row numbers and, for a compound or string key, the key columns in the same
    order; for a tombstone run, sorted row numbers only (`keys` is None)."""

    name: str
    rows: np.ndarray
    keys: np.ndarray | None = None
    unique: bool = True
    columns: tuple[Column, ...] = ()


@dataclass(frozen=True)
class SortedKeys:
    """An upsert's keys (a table of the key columns, no nulls) as an index holds them, sorted once by their sort key
    for all that wants them in that order: the new keys' uniqueness check (`repeated`), the lookup
    (`KeyIndex.find`) and the keeping's run of the data file holding them in `source`'s order (`catch_up`)."""

    kinds: tuple[str, ...]
    keys: np.ndarray
    """Their `sort_key`s, sorted."""
    order: np.ndarray
    """The row of `source` of each."""
    columns: tuple[Column, ...]
    """The key columns (`key_values`) in that order."""
    source: pa.Table

    def repeated(self) -> np.ndarray:
        """Rows of `source` that may repeat another's key: those whose sort key is another's (for a hashed key a
        candidate, to be compared exactly); empty when every key is unique."""
        same = np.flatnonzero(self.keys[1:] == self.keys[:-1])
        if len(same) == 0:
            return np.empty(0, np.int64)
        return np.asarray(self.order[np.union1d(same, same + 1)], np.int64)


def sorted_keys(keys: pa.Table, kinds: Sequence[str]) -> SortedKeys | None:
    """`keys` (the key columns, of `kinds`) sorted by their sort key; None when a key column holds a null or a
    value its kind cannot hold exactly (then the caller goes on without: the lookup filters and scans as before)."""
    if keys.num_columns != len(kinds) or any(column.null_count for column in keys.columns):
        return None
    try:
        columns = [key_values(column, kind) for column, kind in zip(keys.columns, kinds, strict=True)]
    except (ValueError, pa.ArrowException):
        return None
    return replace(_sorted(columns, tuple(kinds)), source=keys)


def _sorted(columns: Sequence[Column], kinds: tuple[str, ...]) -> SortedKeys:
    keys = sort_key(columns)
    order = np.argsort(keys)  # not stable: equal sort keys are told apart by their columns, in any order
    return SortedKeys(kinds, keys[order], order, tuple(_take(c, order, in_memory=True) for c in columns), pa.table({}))


def _unique(values: np.ndarray) -> np.ndarray:
    """`np.unique` of int64 `values` by a sort (NumPy 2's hash-based unique was 5-8 × slower on the 100 k row
    numbers of a 20 M-row port's lookup)."""
    ordered = np.sort(np.asarray(values, np.int64))
    if len(ordered) < 2:
        return ordered
    keep = np.empty(len(ordered), bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


@dataclass(frozen=True)
class FileEntry:
    path: str
    offset: int
    count: int
    deletes: frozenset[str]
    live: bool = True


@dataclass(frozen=True)
class KeyIndex:
    """The live rows of one snapshot of one table, by key (see the module docstring)."""

    table_uuid: str
    snapshot_id: int
    key: tuple[str, ...]
    field_ids: tuple[int, ...]
    files: tuple[FileEntry, ...]
    runs: tuple[Run, ...]
    tombstones: tuple[Run, ...]
    next_row: int
    kinds: tuple[str, ...] = ()
    """The key columns' `key_kind`s (integer ones when empty)."""

    def find(self, needles: Sequence[Column] | SortedKeys) -> tuple[np.ndarray, np.ndarray]:
        """The (index into `self.files`, position) of the live rows whose key is one of `needles` (one column per
        key column, as `key_values` gives them, or already sorted: `sorted_keys`)."""
        ordered = needles if isinstance(needles, SortedKeys) else _sorted(needles, _kinds(self))
        keys, needles = ordered.keys, list(ordered.columns)
        found = []
        for run in self.runs:
            which, at = _matches(run, keys)
            if run.columns:
                exact = np.ones(len(at), bool)
                for mine, theirs in zip(run.columns, needles, strict=True):
                    exact &= _equal(_take(mine, at), _take(theirs, which))
                at = at[exact]
            found.append(np.asarray(run.rows[at], np.int64))
        rows = _unique(np.concatenate(found)) if found else np.empty(0, np.int64)
        offsets, live = self._offsets()
        file_ids = np.searchsorted(offsets, rows, side="right") - 1
        alive = live[file_ids] if len(rows) else np.zeros(0, bool)
        for tomb in self.tombstones:
            alive &= ~_member(tomb.rows, rows)
        rows, file_ids = rows[alive], file_ids[alive]
        positions = rows - offsets[file_ids]
        counts = np.array([e.count for e in self.files], np.int64)
        if len(rows) and (positions.min() < 0 or np.any(positions >= counts[file_ids])):
            raise _BrokenIndexError("a row number outside its data file")
        return file_ids, positions

    def _offsets(self) -> tuple[np.ndarray, np.ndarray]:
        offsets = np.array([e.offset for e in self.files], np.int64)
        live = np.array([e.live for e in self.files], bool)
        return offsets, live

    @property
    def delta_rows(self) -> int:
        return sum(len(r.rows) for r in self.runs[1:]) + sum(len(t.rows) for t in self.tombstones)


class _BrokenIndexError(Exception):
    """An index entry that does not hold together: ignored, and the index rebuilt."""


def _take(column: Column, at: np.ndarray, *, in_memory: bool = False) -> Column:
    """`column`'s values at `at`; bytes' offsets checked first unless the column was built `in_memory` (not mapped
    from an index file)."""
    if isinstance(column, pa.Array):
        if len(at) and isinstance(column, pa.LargeBinaryArray) and not in_memory:
            _check_offsets(column, at)
        taken: pa.LargeBinaryArray = column.take(pa.array(at, pa.int64()))
        return taken
    return np.asarray(column[at])


def _check_offsets(strings: pa.LargeBinaryArray, at: np.ndarray) -> None:
    """Refuse to read strings of a (memory-mapped) column whose offsets at `at` point outside its bytes."""
    buffers = strings.buffers()
    offsets = np.frombuffer(buffers[1], np.int64)[strings.offset : strings.offset + len(strings) + 1]
    size = buffers[2].size if buffers[2] is not None else 0
    low, high = offsets[at], offsets[np.asarray(at) + 1]
    if len(at) and (low.min() < 0 or np.any(high < low) or high.max() > size):
        raise _BrokenIndexError("a string key's offsets point outside its bytes")


def _equal(mine: Column, theirs: Column) -> np.ndarray:
    if isinstance(mine, pa.Array):
        import pyarrow.compute as pc

        return np.asarray(pc.equal(mine, theirs).to_numpy(zero_copy_only=False), bool)
    return np.asarray(mine == theirs)


def _select(column: Column, mask: np.ndarray) -> Column:
    if isinstance(column, pa.Array):
        return _take(column, np.flatnonzero(mask))
    return np.asarray(column)[mask]


def _concat(columns: Sequence[Column]) -> Column:
    """`columns` one after the other; one column as it is (its callers' columns are their own: no copy needed)."""
    if len(columns) == 1:
        return columns[0]
    if isinstance(columns[0], pa.Array):
        joined: pa.LargeBinaryArray = pa.concat_arrays(list(columns))
        return joined
    return np.concatenate(columns)


def _matches(run: Run, needles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each entry of `run` whose sort key is one of `needles` (sorted): (which needle, where in the run)."""
    assert run.keys is not None
    keys = run.keys
    if len(keys) == 0 or len(needles) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    low = _search(run, needles)
    hit = (low < len(keys)) & (keys[np.minimum(low, len(keys) - 1)] == needles)
    which = np.flatnonzero(hit)
    if run.unique:
        return which, low[hit]
    starts = low[hit]
    lengths = np.searchsorted(keys, needles[hit], side="right") - starts
    firsts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    at = np.repeat(starts - firsts, lengths) + np.arange(int(lengths.sum()))
    return np.repeat(which, lengths), at


FENCE_STRIDE = 64
FENCED_RUN = 1 << 20
"""Runs of at least this many keys are searched through their fences (`_search`)."""
FENCES_KEPT = 8


def _search(run: Run, needles: np.ndarray) -> np.ndarray:
    """`np.searchsorted(run.keys, needles, side="left")`. For a run of `FENCED_RUN` keys or more, through its
    fences (every `FENCE_STRIDE`-th key, 1/64 of the keys: 2.5 MB for 20 M, mostly in cache), then a branchless
    binary search of all needles at once within the block of `FENCE_STRIDE` keys each fell in, one step per
    NumPy call: a plain binary search of 200 k keys in a 20 M-key run misses the cache at nearly each of its 25
    steps, one needle after the other (~45 ms; this, ~30 ms)."""
    assert run.keys is not None
    keys = run.keys
    if len(keys) < FENCED_RUN:
        return np.asarray(np.searchsorted(keys, needles, side="left"), np.int64)
    fences, n = _fences_of(run), len(keys)
    # the first key >= needle is at or after the block's start, and no further than its last key (a fence)
    position = np.searchsorted(fences, needles, side="left").astype(np.int64) * FENCE_STRIDE
    width = FENCE_STRIDE
    while width > 1:  # the answer lies in [position, position + width]
        half = width >> 1
        probe = np.minimum(position + (half - 1), n - 1)
        position = np.where(keys[probe] < needles, position + half, position)
        width -= half
    last = np.minimum(position, n - 1)
    position = np.where((position < n) & (keys[last] < needles), position + 1, position)
    return np.minimum(position, n)


def _fences_of(run: Run) -> np.ndarray:
    """Every `FENCE_STRIDE`-th key of `run` (the last of each block), kept by run name (runs never change)."""
    assert run.keys is not None
    with _fences_lock:
        found = _fences.get(run.name)
        if found is not None:
            _fences.move_to_end(run.name)
    if found is not None and len(found) == len(run.keys) // FENCE_STRIDE:
        return found
    fences = np.ascontiguousarray(run.keys[FENCE_STRIDE - 1 :: FENCE_STRIDE], np.int64)
    with _fences_lock:
        _fences[run.name] = fences
        while len(_fences) > FENCES_KEPT:
            _fences.popitem(last=False)
    return fences


_fences: OrderedDict[str, np.ndarray] = OrderedDict()
_fences_lock = threading.Lock()


def _member(sorted_rows: np.ndarray, rows: np.ndarray) -> np.ndarray:
    if len(sorted_rows) == 0 or len(rows) == 0:
        return np.zeros(len(rows), bool)
    at = np.minimum(np.searchsorted(sorted_rows, rows), len(sorted_rows) - 1)
    return np.asarray(sorted_rows[at] == rows)


# ---------------------------------------------------------------------------------------------------- lookup


def lookup(
    table: Table, plan: ScanPlan, keys: pa.Table, presorted: SortedKeys | None = None
) -> tuple[KeyIndex, np.ndarray, np.ndarray] | None:
    """The index for `plan`'s snapshot (loaded, caught up or built) and the (index into `plan.tasks`, position)
    of the live rows whose key is in `keys`; None when no index applies (the caller scans). `presorted`: `keys`
    already sorted (`sorted_keys`, by the upsert's uniqueness check), used when of the kinds of `plan`'s schema."""
    key = tuple(keys.column_names)
    kinds = key_kinds(plan.schema, key)
    folder = folder_of(table)
    if kinds is None or folder is None or plan.snapshot_id is None or not _plannable(plan):
        return None
    from meshlake.write import index_keeper

    index_keeper.wait_for(str(table.metadata.table_uuid))  # an index this process is still keeping for the table
    needles: Sequence[Column] | SortedKeys
    if presorted is not None and presorted.kinds == kinds and presorted.source is keys:
        needles = presorted
    else:
        import pyarrow.compute as pc

        keys = keys.filter(pc.invert(pc.is_null(keys.column(0)))) if keys.num_columns == 1 else keys.drop_null()
        try:
            needles = [key_values(keys.column(name), kind) for name, kind in zip(key, kinds, strict=True)]
        except (ValueError, pa.ArrowException):
            return None  # a key the column cannot hold exactly (a wider decimal, finer time): the scan tells
    try:
        index = current(table, plan, key, folder, kinds)
        file_ids, positions = index.find(needles)
    except _BrokenIndexError:
        index = build(table, plan, key, kinds)
        save(folder, index)
        file_ids, positions = index.find(needles)
    task_of = {task.path: i for i, task in enumerate(plan.tasks)}
    tasks = np.array([task_of.get(e.path, -1) if e.live else -1 for e in index.files], np.int64)[file_ids]
    if np.any(tasks < 0):
        return None  # cannot happen for an index of this plan; never trust one that says otherwise
    return index, tasks, positions


def current(table: Table, plan: ScanPlan, key: tuple[str, ...], folder: Path, kinds: tuple[str, ...] = ()) -> KeyIndex:
    """The index for `plan`'s snapshot: its own, an ancestor's caught up (and saved), or a new one (saved)."""
    assert plan.snapshot_id is not None
    field_ids = tuple(plan.schema.find_field(name).field_id for name in key)
    kept = _in_memory(table, key, field_ids, kinds)
    for snapshot_id in _ancestors(table, plan.snapshot_id):
        mine = kept is not None and kept.snapshot_id == snapshot_id
        found = kept if mine else load(folder, table, snapshot_id, key, field_ids, kinds)
        if found is None:
            continue
        if snapshot_id == plan.snapshot_id and covers(found, plan):
            return found
        caught = catch_up(table, found, plan)
        if caught is not None:
            save(folder, caught)
            return caught
        break
    built = build(table, plan, key, kinds)
    save(folder, built)
    return built


def covers(index: KeyIndex, plan: ScanPlan) -> bool:
    """Whether `index` covers exactly `plan`'s data files, each with the same rows and delete files."""
    live = {(e.path, e.count, e.deletes) for e in index.files if e.live}
    planned = {(t.path, t.record_count, frozenset(d.path for d in t.position_deletes)) for t in plan.tasks}
    return live == planned and len(live) == sum(e.live for e in index.files)


def _plannable(plan: ScanPlan) -> bool:
    return not plan.unmapped and not any(task.equality_deletes for task in plan.tasks)


def _ancestors(table: Table, snapshot_id: int) -> list[int]:
    found: list[int] = []
    current_id: int | None = snapshot_id
    while current_id is not None and len(found) < ANCESTORS:
        found.append(current_id)
        snapshot = table.metadata.snapshot_by_id(current_id)
        current_id = snapshot.parent_snapshot_id if snapshot is not None else None
    return found


# ---------------------------------------------------------------------------------------------------- building


def build(table: Table, plan: ScanPlan, key: tuple[str, ...], kinds: tuple[str, ...] = ()) -> KeyIndex:
    """A new index of `plan`'s live rows from a full scan of the key columns (one column: sorted by DuckDB)."""
    assert plan.snapshot_id is not None
    kinds = kinds or ("integer",) * len(key)
    files = tuple(_entries(plan.tasks, 0))
    base = _keyed_run(table, plan, plan.tasks, key, files, kinds)
    field_ids = tuple(plan.schema.find_field(name).field_id for name in key)
    next_row = files[-1].offset + files[-1].count if files else 0
    uuid_ = str(table.metadata.table_uuid)
    return KeyIndex(uuid_, plan.snapshot_id, key, field_ids, files, (base,), (), next_row, kinds)


def _keyed_run(
    table: Table,
    plan: ScanPlan,
    tasks: Sequence[DataTask],
    key: tuple[str, ...],
    entries: Sequence[FileEntry],
    kinds: tuple[str, ...],
    written: Mapping[str, pa.Table] | None = None,
    presorted: SortedKeys | None = None,
) -> Run:
    """A run of the live rows of `tasks` (whose entries are `entries`, in the same order). `written`: the key
    columns of data files this process just wrote (path -> their rows' keys, in file order), used instead of
    reading a file back when it has no delete file and as many rows; `presorted`: one such file's keys sorted
    already (by the upsert's lookup), taken as the run when that file is the only one."""
    known = written or {}
    held = [_held(task, known) for task in tasks]
    if len(held) == 1 and presorted is not None and presorted.source is held[0] and presorted.kinds == kinds:
        held_columns = presorted.columns if holds_columns(kinds) else ()
        return _run(presorted.keys, entries[0].offset + presorted.order, held_columns)
    rows: list[np.ndarray] = []
    columns: list[list[Column]] = []
    for entry, keys in zip(entries, held, strict=True):
        if keys is not None:
            valid = np.ones(keys.num_rows, bool)
            for name in key:
                valid &= np.asarray(keys.column(name).is_valid().to_numpy(zero_copy_only=False), bool)
            rows.append(entry.offset + np.flatnonzero(valid))
            mask = pa.array(valid)
            columns.append([key_values(keys.column(n).filter(mask), k) for n, k in zip(key, kinds, strict=True)])
    unread = [(task, entry) for task, entry, keys in zip(tasks, entries, held, strict=True) if keys is None]
    if unread or not rows:
        ordered = not holds_columns(kinds) and not rows
        read = _read_keys(table, plan, [t for t, _ in unread], key, kinds, ordered=ordered)
        offsets = np.array([e.offset for _, e in unread], np.int64)
        rows.append(offsets[read.column("f").to_numpy()] + read.column("p").to_numpy())
        columns.append([key_values(read.column(f"k{i}"), kind) for i, kind in enumerate(kinds)])
    joined = [_concat(parts) for parts in zip(*columns, strict=True)]
    return _run(sort_key(joined), np.concatenate(rows).astype(np.int64), joined if holds_columns(kinds) else ())


def _held(task: DataTask, written: Mapping[str, pa.Table]) -> pa.Table | None:
    keys = written.get(task.path)
    if keys is None or task.position_deletes or task.equality_deletes or keys.num_rows != task.record_count:
        return None
    return keys


def _entries(tasks: Sequence[DataTask], offset: int) -> list[FileEntry]:
    entries = []
    for task in tasks:
        deletes = frozenset(d.path for d in task.position_deletes)
        entries.append(FileEntry(task.path, offset, task.record_count, deletes))
        offset += task.record_count
    return entries


def _run(keys: np.ndarray, rows: np.ndarray, columns: Sequence[Column] = ()) -> Run:
    """A key run of (`keys`, `rows`, `columns`), sorted by `keys` here unless it already is. `columns` are built in
    memory (by `key_values`, or taken from a checked run), none mapped from an index file."""
    keys = np.asarray(keys, np.int64)
    if len(keys) > 1 and not bool(np.all(keys[1:] >= keys[:-1])):
        order = np.argsort(keys, kind="stable")
        keys, rows, columns = keys[order], rows[order], [_take(c, order, in_memory=True) for c in columns]
    unique = len(keys) < 2 or bool(np.all(keys[1:] != keys[:-1]))
    kept = tuple(c if isinstance(c, pa.Array) else np.ascontiguousarray(c, np.int64) for c in columns)
    return Run(uuid.uuid4().hex, np.ascontiguousarray(rows, np.int64), np.ascontiguousarray(keys), unique, kept)


def _tombstone_run(rows: np.ndarray) -> Run:
    return Run(uuid.uuid4().hex, _unique(rows))


def _read_keys(
    table: Table,
    plan: ScanPlan,
    tasks: Sequence[DataTask],
    key: tuple[str, ...],
    kinds: tuple[str, ...],
    *,
    ordered: bool,
) -> pa.Table:
    """`k0`… (the key columns), `f` (index into `tasks`), `p` (position) of the live rows of `tasks` with no
    null key column. Byte kinds but strings are cast to BLOB: DuckDB gives a UUID column to Arrow as its text
    unless told (and a UUID or fixed column read without its logical type is a BLOB already)."""
    from meshlake.query.session import connection
    from meshlake.query.sql import positions_sql
    from meshlake.query.types import quote_ident

    sub = replace(plan, schema=plan.schema.select(*key), tasks=tuple(tasks))
    columns = [quote_ident(name) for name in key]
    as_blob = ("uuid", "binary", "fixed:")
    as_read = [f"CAST({c} AS BLOB)" if k.startswith(as_blob) else c for c, k in zip(columns, kinds, strict=True)]
    selected = ", ".join(f"{c} AS k{i}" for i, c in enumerate(as_read))  # as `key_values` holds them
    order = " ORDER BY k0" if ordered else ""
    query = (
        f"SELECT {selected}, CAST(__ml_file AS BIGINT) AS f, CAST(__ml_pos AS BIGINT) AS p "
        f"FROM ({positions_sql(sub)}) WHERE {' AND '.join(f'{c} IS NOT NULL' for c in columns)}{order}"
    )
    with connection(sub, table.io) as con:
        return con.sql(query).to_arrow_table().combine_chunks()


# ---------------------------------------------------------------------------------------------------- catch-up


def catch_up(
    table: Table,
    index: KeyIndex,
    plan: ScanPlan,
    known: Mapping[str, tuple[str, np.ndarray]] | None = None,
    written: Mapping[str, pa.Table] | None = None,
    presorted: SortedKeys | None = None,
    *,
    merge: bool = True,
) -> KeyIndex | None:
    """`index` brought to `plan`'s snapshot from what changed in between; None when rebuilding is cheaper or
    the change cannot be followed. `known`: positions of delete files this process wrote (delete file path ->
    (data file path, positions)), and `written`: the keys of data files it wrote (data file path -> their key
    columns, in file order), so they are not read back; `presorted`: those keys sorted (see `_keyed_run`).
    `merge`: merge the runs when due (`merged`); else the caller does."""
    assert plan.snapshot_id is not None
    if not _plannable(plan):
        return None
    files = list(index.files)
    by_path = {e.path: i for i, e in enumerate(files) if e.live}
    reread: list[DataTask] = []
    needed: dict[str, list[int]] = {}
    seen: set[int] = set()
    for task in plan.tasks:
        file_id = by_path.get(task.path)
        deletes = frozenset(d.path for d in task.position_deletes)
        if file_id is None:
            reread.append(task)
            continue
        seen.add(file_id)
        entry = files[file_id]
        if entry.count != task.record_count or not entry.deletes <= deletes:
            files[file_id] = replace(entry, live=False)  # deletes rewritten or removed: read its live rows again
            reread.append(task)
            continue
        for path in deletes - entry.deletes:
            needed.setdefault(path, []).append(file_id)
        files[file_id] = replace(entry, deletes=deletes)
    for file_id, entry in enumerate(files):
        if entry.live and file_id not in seen:
            files[file_id] = replace(entry, live=False)
    total = sum(task.record_count for task in plan.tasks)
    if sum(task.record_count for task in reread) > REBUILD_SHARE * max(total, 1):
        return None
    tombs = _tombstones(table, files, needed, known or {})
    if tombs is None:
        return None
    runs, tombstones = list(index.runs), list(index.tombstones)
    if len(tombs):
        tombstones.append(_tombstone_run(tombs))
    next_row = index.next_row
    if reread:
        added = _entries(reread, next_row)
        files.extend(added)
        next_row = added[-1].offset + added[-1].count
        kinds = index.kinds or ("integer",) * len(index.key)
        runs.append(_keyed_run(table, plan, reread, index.key, added, kinds, written, presorted))
    caught = replace(
        index,
        snapshot_id=plan.snapshot_id,
        files=tuple(files),
        runs=tuple(runs),
        tombstones=tuple(tombstones),
        next_row=next_row,
    )
    return merged(caught) if merge and _due(caught) else caught


def _tombstones(
    table: Table,
    files: Sequence[FileEntry],
    needed: Mapping[str, list[int]],
    known: Mapping[str, tuple[str, np.ndarray]],
) -> np.ndarray | None:
    """Row numbers of the positions the delete files `needed` (path -> ids of the files they newly apply to)
    delete; None when a position lies outside its file."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    parts = []
    for delete_path, file_ids in needed.items():
        targets = {files[i].path: files[i] for i in file_ids}
        if delete_path in known:
            data_path, positions = known[delete_path]
            pairs = [(data_path, positions)] if data_path in targets else []
        else:
            with table.io.new_input(delete_path).open() as stream:
                rows = pq.read_table(stream, columns=["file_path", "pos"])
            pairs = []
            for path in targets:
                mask = pc.equal(rows.column("file_path"), path)
                pairs.append((path, rows.column("pos").filter(mask).to_numpy()))
        for path, positions in pairs:
            entry = targets[path]
            if len(positions) and (positions.min() < 0 or positions.max() >= entry.count):
                return None
            parts.append(entry.offset + np.asarray(positions, np.int64))
    return np.concatenate(parts) if parts else np.empty(0, np.int64)


def _due(index: KeyIndex) -> bool:
    base = len(index.runs[0].rows) if index.runs else 0
    return len(index.runs) + len(index.tombstones) > MAX_RUNS or index.delta_rows > MERGE_SHARE * max(base, 1)


def merged(index: KeyIndex) -> KeyIndex:
    """`index` with its runs and tombstones merged into one base run (same snapshot, same row space)."""
    alive = np.zeros(index.next_row, bool)
    for entry in index.files:
        if entry.live:
            alive[entry.offset : entry.offset + entry.count] = True
    for tomb in index.tombstones:
        alive[tomb.rows] = False
    kept: list[list[Column]] = []
    for run in index.runs:
        assert run.keys is not None
        mask = alive[run.rows]
        kept.append([np.asarray(run.keys)[mask], np.asarray(run.rows)[mask], *(_select(c, mask) for c in run.columns)])
    if not kept:
        return replace(index, tombstones=())
    base = kept[0]
    if len(kept) > 1:
        delta = [_concat(arrays) for arrays in zip(*kept[1:], strict=True)]
        order = np.argsort(delta[0], kind="stable")
        delta = [_take(a, order) for a in delta]
        at = np.searchsorted(np.asarray(base[0]), np.asarray(delta[0]), side="right")
        placed = np.insert(np.arange(len(base[0])), at, len(base[0]) + np.arange(len(delta[0])))
        base = [
            np.insert(b, at, d) if isinstance(b, np.ndarray) else _take(_concat([b, d]), placed)
            for b, d in zip(base, delta, strict=True)
        ]
    keys, rows = np.asarray(base[0]), np.asarray(base[1])
    return replace(index, runs=(_run(keys, rows, base[2:]),), tombstones=())


# ---------------------------------------------------------------------------------------------------- storage


def save(folder: Path, index: KeyIndex) -> bool:
    """Write `index` (its new runs first, then its manifest); False when it could not be written."""
    runs = []
    for run in (*index.runs, *index.tombstones):
        described = _written_run(folder, run)
        if described is None:
            return False
        runs.append(described)
    faults.reached("key index")  # its runs are written, the manifest naming them is next
    manifest = {
        "version": VERSION,
        "table": index.table_uuid,
        "snapshot": index.snapshot_id,
        "key": list(index.key),
        "field_ids": list(index.field_ids),
        "kinds": list(_kinds(index)),
        "hash_probe": _hash_probe(),
        "next_row": index.next_row,
        "files": [[e.path, e.offset, e.count, sorted(e.deletes), e.live] for e in index.files],
        "runs": runs[: len(index.runs)],
        "tombstones": runs[len(index.runs) :],
    }
    kept = disk_cache.write_atomically(_manifest_path(folder, index.snapshot_id), json.dumps(manifest).encode())
    if kept:
        prune(folder)
    return kept


def _written_run(folder: Path, run: Run) -> dict[str, Any] | None:
    """Write `run`'s files unless this process wrote or checked them already (runs never change); how a manifest
    describes it, None when it could not be written. Files no manifest names are pruned after `GRACE_SECONDS`."""
    described: dict[str, Any] = {"name": run.name, "count": len(run.rows), "unique": run.unique}
    for kind, array in _arrays_of(run).items():
        target = folder / f"{run.name}.{kind}.npy"
        if target.exists() and _memo.get(target) is not None:
            described[kind] = _memo_check(target)
        else:
            values = np.asarray(array(), np.int64)
            written = _write_array(target, values)
            if written is None:
                return None
            described[kind] = {"size": written[0], "crc": written[1]}
            _memo[target] = written
        if kind.startswith("b"):
            described[kind]["words"] = (target.stat().st_size - _npy_header(target)) // 8
    return described


def _kinds(index: KeyIndex) -> tuple[str, ...]:
    return index.kinds or ("integer",) * len(index.key)


def _hash_probe() -> list[int]:
    """`string_hash` of `HASH_PROBE`: an index of keys held as bytes is used only where they hash as when it was
    written."""
    return [int(h) for h in string_hash(pa.array(HASH_PROBE, pa.large_string()))]


def _arrays_of(run: Run) -> dict[str, Any]:
    """The int64 arrays a run is stored as, by file kind, each computed when called: `keys`, `rows`, and per key
    column `c<i>` (int64 values; for strings, offsets into `b<i>`, their UTF-8 bytes in 8-byte words)."""
    arrays: dict[str, Any] = {"rows": lambda: run.rows}
    if run.keys is not None:
        arrays["keys"] = lambda: run.keys
    for i, column in enumerate(run.columns):
        if isinstance(column, pa.Array):
            offsets, data = _string_buffers(column)
            arrays[f"c{i}"] = lambda offsets=offsets: offsets
            arrays[f"b{i}"] = lambda data=data: data
        else:
            arrays[f"c{i}"] = lambda column=column: column
    return arrays


def _string_buffers(strings: pa.LargeBinaryArray) -> tuple[np.ndarray, np.ndarray]:
    """`strings`' offsets (from 0) and bytes (zero-padded to 8-byte words), as int64 arrays."""
    buffers = strings.buffers()
    n = len(strings)
    offsets = np.frombuffer(buffers[1], np.int64)[strings.offset : strings.offset + n + 1]
    first, last = (int(offsets[0]), int(offsets[-1])) if n else (0, 0)
    data = np.frombuffer(buffers[2], np.uint8)[first:last] if buffers[2] is not None else np.empty(0, np.uint8)
    words = np.zeros((len(data) + 7) // 8 * 8, np.uint8)
    words[: len(data)] = data
    return offsets - first, words.view(np.int64)


def _npy_header(path: Path) -> int:
    with path.open("rb") as stream:
        np.lib.format.read_magic(stream)
        np.lib.format.read_array_header_1_0(stream)
        return stream.tell()


def prune(folder: Path, *, keep: int | None = None, grace_seconds: float = GRACE_SECONDS) -> None:
    """Delete all but the `keep` (by default `KEEP`) most recently written or loaded manifests of `folder`, and the
    run files none of them names that are older than `grace_seconds` (another process may be writing runs for a
    manifest it has not renamed yet)."""
    keep = KEEP if keep is None else keep
    try:
        manifests = sorted(folder.glob("snap-*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in manifests[keep:]:
            old.unlink(missing_ok=True)
        named = set()
        for manifest in manifests[:keep]:
            try:
                found = json.loads(manifest.read_bytes())
                named |= {run["name"] for run in (*found["runs"], *found["tombstones"])}
            except (OSError, ValueError, TypeError, KeyError):
                continue
        now = time.time()
        for array in folder.glob("*.npy"):
            if array.name.split(".")[0] not in named and now - array.stat().st_mtime > grace_seconds:
                array.unlink(missing_ok=True)
                _memo.pop(array, None)
        for torn in folder.glob("*.tmp"):  # left by a process killed while writing
            if now - torn.stat().st_mtime > grace_seconds:
                torn.unlink(missing_ok=True)
    except OSError:
        return


def load(
    folder: Path,
    table: Table,
    snapshot_id: int,
    key: tuple[str, ...],
    field_ids: tuple[int, ...],
    kinds: tuple[str, ...] = (),
) -> KeyIndex | None:
    """The index kept for `snapshot_id` of `table` on `key` (of `kinds`: integers when empty), None when there is
    none or it fails a check."""
    kinds = kinds or ("integer",) * len(key)
    try:
        path = _manifest_path(folder, snapshot_id)
        found = json.loads(path.read_bytes())
        with contextlib.suppress(OSError):
            os.utime(path)  # used: `prune` keeps the most recently used manifests
        if not (
            isinstance(found, dict)
            and found.get("version") == VERSION
            and found.get("table") == str(table.metadata.table_uuid)
            and found.get("snapshot") == snapshot_id
            and found.get("key") == list(key)
            and found.get("field_ids") == list(field_ids)
            and found.get("kinds") == list(kinds)
            and (not any(held_as_bytes(k) for k in kinds) or found.get("hash_probe") == _hash_probe())
            and type(found.get("next_row")) is int
        ):
            return None
        files: list[FileEntry] = []
        for path, offset, count, deletes, live in found["files"]:
            if not (type(path) is str and type(offset) is int and type(count) is int and isinstance(deletes, list)):
                return None
            if type(live) is not bool or any(type(d) is not str for d in deletes):
                return None
            files.append(FileEntry(path, offset, count, frozenset(deletes), live))
        if any(b.offset < a.offset + a.count for a, b in itertools.pairwise(files)):
            return None
        held = kinds if holds_columns(kinds) else ()
        runs = tuple(_load_run(folder, r, columns=held) for r in found["runs"])
        tombs = tuple(_load_run(folder, r, columns=None) for r in found["tombstones"])
        next_row = found["next_row"]
        return KeyIndex(found["table"], snapshot_id, key, field_ids, tuple(files), runs, tombs, next_row, kinds)
    except (OSError, ValueError, TypeError, KeyError, _BrokenIndexError):
        return None


def _manifest_path(folder: Path, snapshot_id: int) -> Path:
    return folder / f"snap-{snapshot_id}.json"


def _load_run(folder: Path, described: Mapping[str, Any], *, columns: tuple[str, ...] | None) -> Run:
    """A run as described in a manifest: a key run holding key columns of `columns` kinds, or (None) a tombstone
    run."""
    name, count = described["name"], described["count"]
    if not (isinstance(name, str) and name.isalnum() and type(count) is int):
        raise _BrokenIndexError("a malformed run")
    rows = _load_array(folder / f"{name}.rows.npy", described["rows"], count)
    if columns is None:
        return Run(name, rows)
    keys = _load_array(folder / f"{name}.keys.npy", described["keys"], count)
    kept = tuple(_load_column(folder, name, i, kind, described, count) for i, kind in enumerate(columns))
    return Run(name, rows, keys, described["unique"] is True, kept)


def _load_column(folder: Path, name: str, i: int, kind: str, described: Mapping[str, Any], count: int) -> Column:
    if not held_as_bytes(kind):
        return _load_array(folder / f"{name}.c{i}.npy", described[f"c{i}"], count)
    offsets = _load_array(folder / f"{name}.c{i}.npy", described[f"c{i}"], count + 1)
    words = described[f"b{i}"].get("words")
    if type(words) is not int or words < 0:
        raise _BrokenIndexError("a malformed string column")
    data = _load_array(folder / f"{name}.b{i}.npy", described[f"b{i}"], words)
    if offsets[0] != 0 or offsets[-1] > 8 * words:
        raise _BrokenIndexError("a string column's offsets do not fit its bytes")
    held: pa.LargeBinaryArray = pa.Array.from_buffers(
        pa.large_binary(), count, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )
    return held


_memo: dict[Path, tuple[int, int] | None] = {}
"""Arrays this process wrote or checked: path -> (size, checksum); runs never change once written."""


def _memo_check(path: Path) -> dict[str, int]:
    size, crc = _memo[path]  # type: ignore[misc]
    return {"size": size, "crc": crc}


def _load_array(path: Path, described: Mapping[str, Any], count: int) -> np.ndarray:
    size, crc = described["size"], described["crc"]
    stat = path.stat()
    if stat.st_size != size:
        raise _BrokenIndexError(f"{path.name} has the wrong size")
    identity = (size, crc, stat.st_mtime_ns, stat.st_ino)
    with _mapped_lock:
        mapped = _mapped.get(path)
        if mapped is not None:
            _mapped.move_to_end(path)
    if mapped is not None and mapped[0] == identity and _memo.get(path) == (size, crc):
        return _shaped(path, mapped[1], count)
    if _memo.get(path) != (size, crc):
        with path.open("rb") as stream:
            if _checksum_file(stream, size) != crc:
                raise _BrokenIndexError(f"{path.name} fails its checksum")
        _memo[path] = (size, crc)
    array: np.ndarray = np.load(path, mmap_mode="r", allow_pickle=False)
    with _mapped_lock:
        _mapped[path] = (identity, array)
        while len(_mapped) > MAPPED:
            _mapped.popitem(last=False)
    return _shaped(path, array, count)


def _shaped(path: Path, array: np.ndarray, count: int) -> np.ndarray:
    if array.dtype != np.dtype("<i8") or array.shape != (count,):
        raise _BrokenIndexError(f"{path.name} has the wrong shape")
    return array


MAPPED = 64
_mapped_lock = threading.Lock()
_mapped: OrderedDict[Path, tuple[tuple[int, int, int, int], np.ndarray]] = OrderedDict()
"""Run files this process mapped, with the (size, checksum, mtime, inode) they had: a later lookup reuses the
mapping, whose pages are already mapped in (a new mapping of a 20 M-row base run faults its pages in again)."""


def _write_array(target: Path, array: np.ndarray) -> tuple[int, int] | None:
    """Write `array` as `.npy` to a temporary file renamed to `target` (streamed: no copy in memory); its size and
    checksum, None when it could not be written."""
    temporary = disk_cache.temporary_for(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with temporary.open("wb") as stream:
            np.save(stream, array, allow_pickle=False)
        size = temporary.stat().st_size
        with temporary.open("rb") as stream:
            crc = _checksum_file(stream, size)
        os.replace(temporary, target)
    except OSError:
        temporary.unlink(missing_ok=True)
        return None
    return size, crc


def _sample_offsets(size: int) -> list[int]:
    if size <= FULL_CHECK_BYTES:
        return []
    step = (size - BLOCK) // SAMPLES
    return [*(i * step for i in range(SAMPLES)), size - BLOCK]


def _checksum_file(stream: Any, size: int) -> int:
    offsets = _sample_offsets(size)
    if not offsets:
        return zlib.crc32(stream.read())
    crc = 0
    for at in offsets:
        stream.seek(at)
        crc = zlib.crc32(stream.read(BLOCK), crc)
    return crc


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

    caught = catch_up(table, _rebased(index), plan, known, written, presorted, merge=False)
    if caught is None:
        return
    with _recent_lock:  # rebased (again: a merge may have ended meanwhile) and served in one step, see `_merge_aside`
        caught = _rebased_on(caught, _merges.get(caught.table_uuid))
        _recent[caught.table_uuid] = caught
    index_keeper.ready()
    if _due(caught):
        _merge_aside(table, caught, folder)
    index_keeper.save_later(lambda: _save_recent(folder, caught))


def _merge_aside(table: Table, index: KeyIndex, folder: Path) -> None:
    """Merge `index`'s runs on a thread of its own (one merge per table at a time; `index_keeper.aside`), write the
    new base's files (off the keeper: its next save only names them), then serve the index served now rebased onto
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
            done = merged(index)
            if done.runs and len(done.runs[0].rows) >= FENCED_RUN:
                _fences_of(done.runs[0])  # made here, not by the next lookup
            for run in done.runs:  # the new base's files, written here: the keeper's next save only names them
                _written_run(folder, run)
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
    are the source's is the merged base plus what it added since; else `index` itself."""
    if found is None:
        return index
    source, done = found
    if not _derives(index, source):
        return index
    return replace(
        index,
        runs=(*done.runs, *index.runs[len(source.runs) :]),
        tombstones=index.tombstones[len(source.tombstones) :],
    )


def _derives(index: KeyIndex, source: KeyIndex) -> bool:
    """Whether `index` is `source` caught up (possibly again and again): same table and key, `source`'s runs and
    tombstones (by name: runs never change) first, its files first at the same rows."""
    if (index.table_uuid, index.key, index.field_ids, _kinds(index)) != (
        source.table_uuid,
        source.key,
        source.field_ids,
        _kinds(source),
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


def _same_snapshot(a: KeyIndex, b: KeyIndex) -> bool:
    """Whether `a` and `b` index the same snapshot of the same table by the same key (possibly in other runs)."""
    same = (a.table_uuid, a.snapshot_id, a.key, a.field_ids) == (b.table_uuid, b.snapshot_id, b.key, b.field_ids)
    return same and _kinds(a) == _kinds(b)


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
            save(folder, index)
        finally:
            with _recent_lock:
                served = _recent.get(index.table_uuid)
                if served is index:
                    del _recent[index.table_uuid]
                if index.table_uuid in _merging:
                    _saved_while_merging[index.table_uuid] = (folder, index)
                found = _merges.get(index.table_uuid)
                if found and index.runs and found[1].runs and index.runs[0].name == found[1].runs[0].name:
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


def _in_memory(
    table: Table, key: tuple[str, ...], field_ids: tuple[int, ...], kinds: tuple[str, ...]
) -> KeyIndex | None:
    """The index a keeping caught up and has not saved yet (see `keep_current`), if it is one of the same key: of
    the snapshot looked up, or of an ancestor to catch up from (`current` checks which, as for a loaded one)."""
    with _recent_lock:
        found = _recent.get(str(table.metadata.table_uuid))
    if found is None or found.key != key or found.field_ids != field_ids:
        return None
    if _kinds(found) != (kinds or ("integer",) * len(field_ids)):
        return None
    return found
