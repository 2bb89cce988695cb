"""The key index's runs and the index itself (`meshlake.write.key_index`): sorted keys with their row numbers, the
files of the row space, and the search of a run (through its fences when large)."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa

from meshlake.write import key_hashing
from meshlake.write.key_hashing import Column, key_values
from meshlake.write.key_sorting import sorted_by


@dataclass(frozen=True)
class Run:
    """Sorted keys (`sort_key`), their row numbers and, for a compound or string key, the key columns in the same
    order; for a tombstone run, sorted row numbers only (`keys` is None)."""

    name: str
    rows: np.ndarray
    keys: np.ndarray | None = None
    unique: bool = True
    columns: tuple[Column, ...] = ()
    level: int = 0
    """1 for a middle run (`key_merge`), else 0: the base (the first run) or a small run of one catch-up."""


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
    keys = key_hashing.sort_key(columns)
    order = np.argsort(keys)  # not stable: equal sort keys are told apart by their columns, in any order
    return SortedKeys(kinds, keys[order], order, tuple(take(c, order, in_memory=True) for c in columns), pa.table({}))


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
        ordered = needles if isinstance(needles, SortedKeys) else _sorted(needles, kinds_of(self))
        keys, needles = ordered.keys, list(ordered.columns)
        found = []
        for run in self.runs:
            which, at = _matches(run, keys)
            if run.columns:
                exact = np.ones(len(at), bool)
                for mine, theirs in zip(run.columns, needles, strict=True):
                    exact &= _equal(take(mine, at), take(theirs, which))
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
            raise BrokenIndexError("a row number outside its data file")
        return file_ids, positions

    def _offsets(self) -> tuple[np.ndarray, np.ndarray]:
        offsets = np.array([e.offset for e in self.files], np.int64)
        live = np.array([e.live for e in self.files], bool)
        return offsets, live

    @property
    def delta_rows(self) -> int:
        return sum(len(r.rows) for r in self.runs[1:]) + sum(len(t.rows) for t in self.tombstones)


class BrokenIndexError(Exception):
    """An index entry that does not hold together: ignored, and the index rebuilt."""


def take(column: Column, at: np.ndarray, *, in_memory: bool = False) -> Column:
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
        raise BrokenIndexError("a string key's offsets point outside its bytes")


def _equal(mine: Column, theirs: Column) -> np.ndarray:
    if isinstance(mine, pa.Array):
        import pyarrow.compute as pc

        return np.asarray(pc.equal(mine, theirs).to_numpy(zero_copy_only=False), bool)
    return np.asarray(mine == theirs)


def select(column: Column, mask: np.ndarray) -> Column:
    if isinstance(column, pa.Array):
        return take(column, np.flatnonzero(mask))
    return np.asarray(column)[mask]


def concat(columns: Sequence[Column]) -> Column:
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
    fences, n = fences_of(run), len(keys)
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


def fences_of(run: Run) -> np.ndarray:
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


def new_run(keys: np.ndarray, rows: np.ndarray, columns: Sequence[Column] = ()) -> Run:
    """A key run of (`keys`, `rows`, `columns`), sorted by `keys` here unless it already is. `columns` are built in
    memory (by `key_values`, or taken from a checked run), none mapped from an index file."""
    keys = np.asarray(keys, np.int64)
    if len(keys) > 1 and not bool(np.all(keys[1:] >= keys[:-1])):
        # in the order of `np.argsort(keys, kind="stable")`, found several times faster (`key_sorting.sorted_by`)
        rows = np.asarray(rows, np.int64)
        counted = _counting(rows)  # 0…n-1 (a build reading whole files): sorted, they are the order itself
        ints = [np.asarray(c) for c in columns if not isinstance(c, pa.Array)]
        keys, order, taken = sorted_by(keys, [*([] if counted else [rows]), *ints])
        rows = order if counted else taken.pop(0)
        held = iter(taken)
        columns = [take(c, order, in_memory=True) if isinstance(c, pa.Array) else next(held) for c in columns]
    unique = len(keys) < 2 or bool(np.all(keys[1:] != keys[:-1]))
    kept = tuple(c if isinstance(c, pa.Array) else np.ascontiguousarray(c, np.int64) for c in columns)
    return Run(uuid.uuid4().hex, np.ascontiguousarray(rows, np.int64), np.ascontiguousarray(keys), unique, kept)


def _counting(rows: np.ndarray) -> bool:
    """Whether `rows` are 0, 1, … n-1."""
    n = len(rows)
    return n > 0 and rows[0] == 0 and rows[-1] == n - 1 and bool(np.all(rows[1:] > rows[:-1]))


def tombstone_run(rows: np.ndarray) -> Run:
    return Run(uuid.uuid4().hex, _unique(rows))


def kinds_of(index: KeyIndex) -> tuple[str, ...]:
    return index.kinds or ("integer",) * len(index.key)
