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
  gone from the snapshot is marked dead (null). Merges are tiered (`key_merge`): more than `SMALL_RUNS` small runs
  are merged into a middle run (O(middle), the base's files untouched); the runs after the base and the tombstones
  are merged into a new base (O(n), `np.insert` of the sorted deltas; no sort of the base) only once they pass
  `MERGE_SHARE` of it. Either runs on a thread of its own (`key_index_keeping`), the newest index then rebased
  onto it.
- Catch-up: an index of an ancestor snapshot is brought to the snapshot looked up by what changed in between,
  whoever wrote it (meshlake, another process, pyiceberg, an engine, compaction): the key columns of the data files
  added since (or whose deletes cannot be explained as additions) are read, data files removed are marked dead,
  and the positions of delete files added since become tombstones. More than `REBUILD_SHARE` of the port to read,
  or no ancestor's index: rebuilt from a full scan (files without deletes read by pyarrow, `key_scan`; sorted by
  `key_sorting`), saved on the keeper thread. A meshlake upsert brings the
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

This module finds, builds and catches up an index; its parts live beside it: `key_runs` (the index, its runs and
their search), `key_sorting` (sorting a run), `key_scan` (reading whole files' keys), `key_index_store` (manifests
and run files on disk, their checks and pruning), `key_merge` (merging runs) and `key_index_keeping` (the keeping
after a commit: served from memory, merged aside, rebased).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from meshlake.write import key_hashing, key_index_store, key_merge, key_scan
from meshlake.write.key_hashing import Column, holds_columns, key_kinds, key_values
from meshlake.write.key_runs import (
    BrokenIndexError,
    FileEntry,
    KeyIndex,
    Run,
    SortedKeys,
    concat,
    new_run,
    tombstone_run,
)

if TYPE_CHECKING:
    from pyiceberg.table import Table

    from meshlake.query.plan import DataTask, ScanPlan

REBUILD_SHARE = 0.5
"""Rebuild from a full scan when catching up would read more than this share of the port's rows."""
ANCESTORS = 64
"""How many ancestors of a snapshot are searched for an index to catch up from."""


# ---------------------------------------------------------------------------------------------------- lookup


def lookup(
    table: Table, plan: ScanPlan, keys: pa.Table, presorted: SortedKeys | None = None
) -> tuple[KeyIndex, np.ndarray, np.ndarray] | None:
    """The index for `plan`'s snapshot (loaded, caught up or built) and the (index into `plan.tasks`, position)
    of the live rows whose key is in `keys`; None when no index applies (the caller scans). `presorted`: `keys`
    already sorted (`sorted_keys`, by the upsert's uniqueness check), used when of the kinds of `plan`'s schema."""
    key = tuple(keys.column_names)
    kinds = key_kinds(plan.schema, key)
    folder = key_index_store.folder_of(table)
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
    except BrokenIndexError:
        index = build(table, plan, key, kinds)
        _save_built(table, folder, index)
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
    from meshlake.write.key_index_keeping import in_memory

    kept = in_memory(table, key, field_ids, kinds)
    for snapshot_id in _ancestors(table, plan.snapshot_id):
        mine = kept is not None and kept.snapshot_id == snapshot_id
        found = kept if mine else key_index_store.load(folder, table, snapshot_id, key, field_ids, kinds)
        if found is None:
            continue
        if snapshot_id == plan.snapshot_id and covers(found, plan):
            return found
        caught = catch_up(table, found, plan)
        if caught is not None:
            key_index_store.save(folder, caught)
            return caught
        break
    built = build(table, plan, key, kinds)
    _save_built(table, folder, built)
    return built


def _save_built(table: Table, folder: Path, index: KeyIndex) -> None:
    """Save a new index on the keeper thread (`index_keeper.keep`; inline when keeping is), off the lookup's path:
    its runs are written while the upsert writes and commits (a 20 M-row index is 640 MB of run files), in the
    keeper's order, before the keeping of the snapshot the upsert commits. A lookup of this process waits for it
    (`index_keeper.wait_for`); a process killed meanwhile leaves no manifest (the next lookup builds again)."""
    from meshlake.write import index_keeper

    def save() -> None:
        key_index_store.save(folder, index)

    index_keeper.keep(index.table_uuid, save, name=".".join(table.name()))


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
    """A new index of `plan`'s live rows from a full scan of the key columns (`_keyed_run`)."""
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
        return new_run(presorted.keys, entries[0].offset + presorted.order, held_columns)
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
    plain = [(task, entry) for task, entry in unread if key_scan.plain(task)]
    if plain:
        field_ids = [plan.schema.find_field(name).field_id for name in key]
        scanned = key_scan.read_keys(table.io, [task for task, _ in plain], field_ids, kinds)
        for (_, entry), found in zip(plain, scanned, strict=True):
            if found is not None:
                rows.append(entry.offset + found[0])
                columns.append(found[1])
        done = {task.path for (task, _), found in zip(plain, scanned, strict=True) if found is not None}
        unread = [(task, entry) for task, entry in unread if task.path not in done]
    if unread or not rows:
        ordered = not holds_columns(kinds) and not rows
        read = _read_keys(table, plan, [t for t, _ in unread], key, kinds, ordered=ordered)
        offsets = np.array([e.offset for _, e in unread], np.int64)
        rows.append(offsets[read.column("f").to_numpy()] + read.column("p").to_numpy())
        columns.append([key_values(read.column(f"k{i}"), kind) for i, kind in enumerate(kinds)])
    joined = [concat(parts) for parts in zip(*columns, strict=True)]
    return new_run(
        key_hashing.sort_key(joined),
        np.concatenate(rows).astype(np.int64, copy=False),
        joined if holds_columns(kinds) else (),
    )


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
        tombstones.append(tombstone_run(tombs))
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
    return key_merge.merged(caught) if merge and key_merge.due(caught) else caught


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
