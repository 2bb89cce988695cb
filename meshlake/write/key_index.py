"""A key index: where each live row of a port is, by its primary key, so a merge-on-read upsert costs what it changes.

Without it, `deletes_for_keys` reads the key column of every live row the keys' min/max cannot prune (with keys
spread over the port: all of them): O(port). With it, the old rows of m keys are found by `np.searchsorted` in a
sorted, memory-mapped array: O(m log n). Like Hudi's record index or Paimon's, but kept as a *verified cache*:

- Scope: ports whose primary key is one integer column (Iceberg `int`/`long`). Any other key (strings, compound
  keys) and a port with equality deletes are looked up by today's scan; so is every port when the caches are off.
- Folder: `keyindex/<table uuid>/` in meshlake's cache folder (`meshlake.catalog.disk_cache`; `MESHLAKE_CACHE_DIR=off`
  turns it off). Deleting it is always safe: the next upsert rebuilds it from the scan it then pays anyway.
- Layout (LSM): an index is bound to one snapshot of one table (`snap-<snapshot id>.json`: table uuid, snapshot id,
  key column and field id, the data files it covers with the delete files applied to each, and its runs). Rows live
  in a row space where data file i holds rows [offset_i, offset_i + record_count_i). Runs are immutable `.npy`
  pairs: keys (sorted int64) and row numbers; tombstones are sorted row numbers of rows deleted since. A data file
  gone from the snapshot is marked dead (null). When deltas and tombstones pass `MERGE_SHARE` of the base, they
  are merged into a new base (O(n), `np.insert` of the sorted deltas; no sort of the base).
- Catch-up: an index of an ancestor snapshot is brought to the snapshot looked up by what changed in between,
  whoever wrote it (meshlake, another process, pyiceberg, an engine, compaction): the key columns of the data files
  added since (or whose deletes cannot be explained as additions) are read, data files removed are marked dead,
  and the positions of delete files added since become tombstones. More than `REBUILD_SHARE` of the port to read,
  or no ancestor's index: rebuilt from a full scan (today's lookup cost plus a sort). A meshlake upsert brings the
  index to the snapshot it commits right after the commit, from what it wrote (no delete file read back).
- Trust: entries are written atomically (temporary file renamed), runs before the manifest naming them. On load,
  the manifest is checked (version, table uuid, snapshot id, key column, types), each run's `.npy` header, length
  and byte size, and a CRC-32: of the whole file below `FULL_CHECK_BYTES`, else of `SAMPLES` blocks spread over it
  plus its first and last block (a torn, truncated, zero-filled or overwritten file fails it; a single flipped bit
  between samples would not: the base run of 20 M rows is 320 MB, and a full CRC costs ~0.4 s per load).
  Anything that fails is ignored and rebuilt. Row numbers are checked to fall in a live file before use.
- Size: 16 bytes per indexed row (8 key, 8 row number) in the base run, i.e. 16 MB per million rows, memory-mapped.
"""

from __future__ import annotations

import itertools
import json
import os
import time
import uuid
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from meshlake.catalog import disk_cache
from meshlake.write import faults

if TYPE_CHECKING:
    from pyiceberg.table import Table

    from meshlake.query.plan import DataTask, ScanPlan

VERSION = 1
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
_INTEGER_KEYS = (pa.int8(), pa.int16(), pa.int32(), pa.int64())


def folder_of(table: Table) -> Path | None:
    """The index folder of `table`, None when the caches are off."""
    base = disk_cache.cache_folder("keyindex")
    return None if base is None else base / str(table.metadata.table_uuid)


def indexable_key(keys: pa.Table) -> tuple[str, ...] | None:
    """The key columns an index can serve (integer columns), else None."""
    if keys.num_columns == 0 or any(f.type not in _INTEGER_KEYS for f in keys.schema):
        return None
    return tuple(keys.column_names)


def sort_key(columns: Sequence[np.ndarray]) -> np.ndarray:
    """What an index sorts by: the key itself (one column), or a 64-bit hash of the key columns (compound keys;
    a hash match is a candidate, checked against the key columns the index also holds)."""
    if len(columns) == 1:
        return np.asarray(columns[0], np.int64)
    hashed = np.zeros(len(columns[0]), np.uint64)
    with np.errstate(over="ignore"):
        for column in columns:
            hashed = _mix(hashed ^ (np.asarray(column, np.int64).view(np.uint64) + np.uint64(0x9E3779B97F4A7C15)))
    return hashed.view(np.int64)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    mixed: np.ndarray = x ^ (x >> np.uint64(31))
    return mixed


@dataclass(frozen=True)
class Run:
    """Sorted keys (`sort_key`), their row numbers and, for a compound key, the key columns in the same order;
    for a tombstone run, sorted row numbers only (`keys` is None)."""

    name: str
    rows: np.ndarray
    keys: np.ndarray | None = None
    unique: bool = True
    columns: tuple[np.ndarray, ...] = ()


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

    def find(self, needles: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """The (index into `self.files`, position) of the live rows whose key is one of `needles` (one int64
        array per key column)."""
        keys = sort_key(needles)
        order = np.argsort(keys, kind="stable")
        keys, needles = keys[order], [np.asarray(c, np.int64)[order] for c in needles]
        found = []
        for run in self.runs:
            which, at = _matches(run, keys)
            if run.columns:
                exact = np.ones(len(at), bool)
                for mine, theirs in zip(run.columns, needles, strict=True):
                    exact &= np.asarray(mine[at]) == theirs[which]
                at = at[exact]
            found.append(np.asarray(run.rows[at], np.int64))
        rows = np.unique(np.concatenate(found)) if found else np.empty(0, np.int64)
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


def _matches(run: Run, needles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each entry of `run` whose sort key is one of `needles` (sorted): (which needle, where in the run)."""
    assert run.keys is not None
    keys = run.keys
    if len(keys) == 0 or len(needles) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    low = np.searchsorted(keys, needles, side="left")
    hit = (low < len(keys)) & (keys[np.minimum(low, len(keys) - 1)] == needles)
    which = np.flatnonzero(hit)
    if run.unique:
        return which, low[hit]
    starts = low[hit]
    lengths = np.searchsorted(keys, needles[hit], side="right") - starts
    firsts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    at = np.repeat(starts - firsts, lengths) + np.arange(int(lengths.sum()))
    return np.repeat(which, lengths), at


def _member(sorted_rows: np.ndarray, rows: np.ndarray) -> np.ndarray:
    if len(sorted_rows) == 0 or len(rows) == 0:
        return np.zeros(len(rows), bool)
    at = np.minimum(np.searchsorted(sorted_rows, rows), len(sorted_rows) - 1)
    return np.asarray(sorted_rows[at] == rows)


# ---------------------------------------------------------------------------------------------------- lookup


def lookup(table: Table, plan: ScanPlan, keys: pa.Table) -> tuple[KeyIndex, np.ndarray, np.ndarray] | None:
    """The index for `plan`'s snapshot (loaded, caught up or built) and the (index into `plan.tasks`, position)
    of the live rows whose key is in `keys`; None when no index applies (the caller scans)."""
    key = indexable_key(keys)
    folder = folder_of(table)
    if key is None or folder is None or plan.snapshot_id is None or not _plannable(plan):
        return None
    from meshlake.write import index_keeper

    index_keeper.wait_for(str(table.metadata.table_uuid))  # an index this process is still keeping for the table
    index = current(table, plan, key, folder)
    import pyarrow.compute as pc

    keys = keys.filter(pc.invert(pc.is_null(keys.column(0)))) if keys.num_columns == 1 else keys.drop_null()
    needles = [keys.column(name).cast(pa.int64()).to_numpy() for name in key]
    try:
        file_ids, positions = index.find(needles)
    except _BrokenIndexError:
        index = build(table, plan, key)
        save(folder, index)
        file_ids, positions = index.find(needles)
    task_of = {task.path: i for i, task in enumerate(plan.tasks)}
    tasks = np.array([task_of.get(e.path, -1) if e.live else -1 for e in index.files], np.int64)[file_ids]
    if np.any(tasks < 0):
        return None  # cannot happen for an index of this plan; never trust one that says otherwise
    return index, tasks, positions


def current(table: Table, plan: ScanPlan, key: tuple[str, ...], folder: Path) -> KeyIndex:
    """The index for `plan`'s snapshot: its own, an ancestor's caught up (and saved), or a new one (saved)."""
    assert plan.snapshot_id is not None
    field_ids = tuple(plan.schema.find_field(name).field_id for name in key)
    for snapshot_id in _ancestors(table, plan.snapshot_id):
        found = load(folder, table, snapshot_id, key, field_ids)
        if found is None:
            continue
        if snapshot_id == plan.snapshot_id and covers(found, plan):
            return found
        caught = catch_up(table, found, plan)
        if caught is not None:
            save(folder, caught)
            return caught
        break
    built = build(table, plan, key)
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


def build(table: Table, plan: ScanPlan, key: tuple[str, ...]) -> KeyIndex:
    """A new index of `plan`'s live rows from a full scan of the key columns (one column: sorted by DuckDB)."""
    assert plan.snapshot_id is not None
    files = tuple(_entries(plan.tasks, 0))
    base = _keyed_run(table, plan, plan.tasks, key, files)
    field_ids = tuple(plan.schema.find_field(name).field_id for name in key)
    next_row = files[-1].offset + files[-1].count if files else 0
    return KeyIndex(str(table.metadata.table_uuid), plan.snapshot_id, key, field_ids, files, (base,), (), next_row)


def _keyed_run(
    table: Table, plan: ScanPlan, tasks: Sequence[DataTask], key: tuple[str, ...], entries: Sequence[FileEntry]
) -> Run:
    """A run of the live rows of `tasks` (whose entries are `entries`, in the same order)."""
    read = _read_keys(table, plan, tasks, key, ordered=len(key) == 1)
    offsets = np.array([e.offset for e in entries], np.int64)
    rows = offsets[read.column("f").to_numpy()] + read.column("p").to_numpy()
    columns = [read.column(f"k{i}").to_numpy() for i in range(len(key))]
    return _run(sort_key(columns), rows, columns if len(key) > 1 else ())


def _entries(tasks: Sequence[DataTask], offset: int) -> list[FileEntry]:
    entries = []
    for task in tasks:
        deletes = frozenset(d.path for d in task.position_deletes)
        entries.append(FileEntry(task.path, offset, task.record_count, deletes))
        offset += task.record_count
    return entries


def _run(keys: np.ndarray, rows: np.ndarray, columns: Sequence[np.ndarray] = ()) -> Run:
    """A key run of (`keys`, `rows`, `columns`), sorted by `keys` here unless it already is."""
    keys = np.asarray(keys, np.int64)
    if len(keys) > 1 and not bool(np.all(keys[1:] >= keys[:-1])):
        order = np.argsort(keys, kind="stable")
        keys, rows, columns = keys[order], rows[order], [c[order] for c in columns]
    unique = len(keys) < 2 or bool(np.all(keys[1:] != keys[:-1]))
    kept = tuple(np.ascontiguousarray(c, np.int64) for c in columns)
    return Run(uuid.uuid4().hex, np.ascontiguousarray(rows, np.int64), np.ascontiguousarray(keys), unique, kept)


def _tombstone_run(rows: np.ndarray) -> Run:
    return Run(uuid.uuid4().hex, np.unique(np.asarray(rows, np.int64)))


def _read_keys(
    table: Table, plan: ScanPlan, tasks: Sequence[DataTask], key: tuple[str, ...], *, ordered: bool
) -> pa.Table:
    """`k0`… (the key columns), `f` (index into `tasks`), `p` (position) of the live rows of `tasks` with no
    null key column."""
    from meshlake.query.session import connection
    from meshlake.query.sql import positions_sql
    from meshlake.query.types import quote_ident

    sub = replace(plan, schema=plan.schema.select(*key), tasks=tuple(tasks))
    columns = [quote_ident(name) for name in key]
    selected = ", ".join(f"CAST({c} AS BIGINT) AS k{i}" for i, c in enumerate(columns))
    order = " ORDER BY k0" if ordered else ""
    query = (
        f"SELECT {selected}, CAST(__ml_file AS BIGINT) AS f, CAST(__ml_pos AS BIGINT) AS p "
        f"FROM ({positions_sql(sub)}) WHERE {' AND '.join(f'{c} IS NOT NULL' for c in columns)}{order}"
    )
    with connection(sub, table.io) as con:
        return con.sql(query).to_arrow_table().combine_chunks()


# ---------------------------------------------------------------------------------------------------- catch-up


def catch_up(
    table: Table, index: KeyIndex, plan: ScanPlan, known: Mapping[str, tuple[str, np.ndarray]] | None = None
) -> KeyIndex | None:
    """`index` brought to `plan`'s snapshot from what changed in between; None when rebuilding is cheaper or
    the change cannot be followed. `known`: positions of delete files this process wrote (delete file path ->
    (data file path, positions)), so they are not read back."""
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
        runs.append(_keyed_run(table, plan, reread, index.key, added))
    caught = replace(
        index,
        snapshot_id=plan.snapshot_id,
        files=tuple(files),
        runs=tuple(runs),
        tombstones=tuple(tombstones),
        next_row=next_row,
    )
    return merged(caught) if _due(caught) else caught


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
    kept = []
    for run in index.runs:
        assert run.keys is not None
        mask = alive[run.rows]
        kept.append([np.asarray(a)[mask] for a in (run.keys, run.rows, *run.columns)])
    if not kept:
        return replace(index, tombstones=())
    base = kept[0]
    if len(kept) > 1:
        delta = [np.concatenate(arrays) for arrays in zip(*kept[1:], strict=True)]
        order = np.argsort(delta[0], kind="stable")
        delta = [a[order] for a in delta]
        at = np.searchsorted(base[0], delta[0], side="right")
        base = [np.insert(b, at, d) for b, d in zip(base, delta, strict=True)]
    return replace(index, runs=(_run(base[0], base[1], base[2:]),), tombstones=())


# ---------------------------------------------------------------------------------------------------- storage


def save(folder: Path, index: KeyIndex) -> bool:
    """Write `index` (its new runs first, then its manifest); False when it could not be written."""
    runs = []
    for run in (*index.runs, *index.tombstones):
        arrays = {"rows": run.rows} if run.keys is None else {"keys": run.keys, "rows": run.rows}
        arrays |= {f"c{i}": column for i, column in enumerate(run.columns)}
        described: dict[str, Any] = {"name": run.name, "count": len(run.rows), "unique": run.unique}
        for kind, array in arrays.items():
            target = folder / f"{run.name}.{kind}.npy"
            if target.exists() and _memo.get(target) is not None:
                described[kind] = _memo_check(target)
                continue
            written = _write_array(target, np.asarray(array, np.int64))
            if written is None:
                return False
            described[kind] = {"size": written[0], "crc": written[1]}
            _memo[target] = written
        runs.append(described)
    faults.reached("key index")  # its runs are written, the manifest naming them is next
    manifest = {
        "version": VERSION,
        "table": index.table_uuid,
        "snapshot": index.snapshot_id,
        "key": list(index.key),
        "field_ids": list(index.field_ids),
        "next_row": index.next_row,
        "files": [[e.path, e.offset, e.count, sorted(e.deletes), e.live] for e in index.files],
        "runs": runs[: len(index.runs)],
        "tombstones": runs[len(index.runs) :],
    }
    kept = disk_cache.write_atomically(_manifest_path(folder, index.snapshot_id), json.dumps(manifest).encode())
    if kept:
        prune(folder)
    return kept


def prune(folder: Path, *, keep: int = KEEP, grace_seconds: float = GRACE_SECONDS) -> None:
    """Delete all but the `keep` newest manifests of `folder`, and the run files none of them names that are older
    than `grace_seconds` (another process may be writing runs for a manifest it has not renamed yet)."""
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
    folder: Path, table: Table, snapshot_id: int, key: tuple[str, ...], field_ids: tuple[int, ...]
) -> KeyIndex | None:
    """The index kept for `snapshot_id` of `table` on `key`, None when there is none or it fails a check."""
    try:
        found = json.loads(_manifest_path(folder, snapshot_id).read_bytes())
        if not (
            isinstance(found, dict)
            and found.get("version") == VERSION
            and found.get("table") == str(table.metadata.table_uuid)
            and found.get("snapshot") == snapshot_id
            and found.get("key") == list(key)
            and found.get("field_ids") == list(field_ids)
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
        runs = tuple(_load_run(folder, r, columns=len(key) if len(key) > 1 else 0) for r in found["runs"])
        tombs = tuple(_load_run(folder, r, columns=None) for r in found["tombstones"])
        return KeyIndex(found["table"], snapshot_id, key, field_ids, tuple(files), runs, tombs, found["next_row"])
    except (OSError, ValueError, TypeError, KeyError, _BrokenIndexError):
        return None


def _manifest_path(folder: Path, snapshot_id: int) -> Path:
    return folder / f"snap-{snapshot_id}.json"


def _load_run(folder: Path, described: Mapping[str, Any], *, columns: int | None) -> Run:
    """A run as described in a manifest: a key run with `columns` key columns, or (None) a tombstone run."""
    name, count = described["name"], described["count"]
    if not (isinstance(name, str) and name.isalnum() and type(count) is int):
        raise _BrokenIndexError("a malformed run")
    rows = _load_array(folder / f"{name}.rows.npy", described["rows"], count)
    if columns is None:
        return Run(name, rows)
    keys = _load_array(folder / f"{name}.keys.npy", described["keys"], count)
    kept = tuple(_load_array(folder / f"{name}.c{i}.npy", described[f"c{i}"], count) for i in range(columns))
    return Run(name, rows, keys, described["unique"] is True, kept)


_memo: dict[Path, tuple[int, int] | None] = {}
"""Arrays this process wrote or checked: path -> (size, checksum); runs never change once written."""


def _memo_check(path: Path) -> dict[str, int]:
    size, crc = _memo[path]  # type: ignore[misc]
    return {"size": size, "crc": crc}


def _load_array(path: Path, described: Mapping[str, Any], count: int) -> np.ndarray:
    size, crc = described["size"], described["crc"]
    if path.stat().st_size != size:
        raise _BrokenIndexError(f"{path.name} has the wrong size")
    if _memo.get(path) != (size, crc):
        with path.open("rb") as stream:
            if _checksum_file(stream, size) != crc:
                raise _BrokenIndexError(f"{path.name} fails its checksum")
        _memo[path] = (size, crc)
    array: np.ndarray = np.load(path, mmap_mode="r", allow_pickle=False)
    if array.dtype != np.dtype("<i8") or array.shape != (count,):
        raise _BrokenIndexError(f"{path.name} has the wrong shape")
    return array


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
    table: Table, index: KeyIndex, plan: ScanPlan, known: Mapping[str, tuple[str, np.ndarray]], folder: Path
) -> None:
    """Bring `index` to `plan`'s snapshot and keep it in `folder` (after a meshlake commit)."""
    caught = catch_up(table, index, plan, known)
    if caught is not None:
        save(folder, caught)
