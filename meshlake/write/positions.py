"""Merge-on-read row changes: the rows a `where` filter or a set of keys selects, recorded as position deletes.

Where copy-on-write (`meshlake.write.rewrite`) rewrites every file holding a selected row, merge-on-read lists
the rows as (data file, row position) in Iceberg v2 position delete files and leaves the data files alone: a
change costs what it changes, not what the files it touches hold. Positions are the physical row numbers of
each file, read with DuckDB's `file_row_number` from the file's *live* rows (the delete files already applying
to it are anti-joined first), so a row an earlier delete removed is never listed again nor mis-indexed.

One delete file is written per data file touched (file-scoped, Iceberg's `write.delete.granularity=file`, Spark's
default since Iceberg 1.5), its positions sorted, with equal `file_path` lower and upper bounds: every reader
applies it to that one file only (Polars natively, without a join), and compaction can drop it with its file.

Deletion vectors (format v3) are not written. Checked here: pyiceberg 0.12 writes manifests of format
versions 1 and 2 only (`write_manifest` raises for 3), so no meshlake commit could land on a v3 table; DuckDB
1.4's iceberg extension does not apply deletion vectors (support comes with DuckDB 2), and meshlake's own
DuckDB read path refuses Puffin delete files (`meshlake.query.sql.check_readable`). Position deletes are read
by all of them, by Polars `scan_iceberg`, Spark and Trino.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyiceberg.conversions import to_bytes
from pyiceberg.io.pyarrow import schema_to_pyarrow
from pyiceberg.manifest import DataFile, DataFileContent, FileFormat
from pyiceberg.schema import Schema
from pyiceberg.table import Table
from pyiceberg.table.snapshots import Snapshot
from pyiceberg.types import LongType, StringType

from meshlake.query.plan import FILE_PATH_FIELD_ID, POS_FIELD_ID, ScanPlan, cached_plan
from meshlake.query.types import quote_ident
from meshlake.write.rewrite import extension_storage, key_filter, plan_files
from meshlake.write.rowfilter import RowFilter

if TYPE_CHECKING:
    import duckdb
    from pyiceberg.io import FileIO

    from meshlake.query.plan import DataTask
    from meshlake.write.key_runs import SortedKeys

DELETE_SCHEMA = pa.schema(
    [
        pa.field("file_path", pa.string(), False, {b"PARQUET:field_id": str(FILE_PATH_FIELD_ID).encode()}),
        pa.field("pos", pa.int64(), False, {b"PARQUET:field_id": str(POS_FIELD_ID).encode()}),
    ]
)


@dataclass(frozen=True)
class PositionDeletes:
    """Delete files written for a change, the data files they reference, and what the touched files hold."""

    delete_files: tuple[DataFile, ...]
    referenced: tuple[DataFile, ...]
    rows_removed: int
    rows_touched: int
    """Rows of the data files holding a removed row (what copy-on-write would have read and rewritten)."""
    write_seconds: float = 0.0
    """Of the time it took, the part spent writing the delete files (the rest found the rows)."""
    key_index: Any = None
    """The key index (`meshlake.write.key_runs.KeyIndex`) of the base snapshot the rows were found in, if one."""
    positions: Mapping[str, tuple[str, np.ndarray]] = field(default_factory=dict)
    """With `key_index`: what each delete file written holds (its path -> (data file path, positions))."""

    @property
    def written_paths(self) -> tuple[str, ...]:
        return tuple(f.file_path for f in self.delete_files)


NOTHING = PositionDeletes((), (), 0, 0)


def deletes_where(
    table: Table, snapshot: Snapshot | None, where: RowFilter, *, max_share: float | None = None
) -> PositionDeletes | None:
    """Position deletes for the rows of `snapshot` matching `where`; None (nothing written) when they are
    `max_share` or more of the rows of the files holding them."""
    if snapshot is None:
        return NOTHING
    files = [task.file for task in plan_files(table, snapshot, where.prune)]
    schema = table.schema()
    target = schema_to_pyarrow(schema, include_field_ids=True)

    def matching(con: duckdb.DuckDBPyConnection, live: str) -> pa.Table:
        rows = con.sql(live).to_arrow_table()
        data = pa.Table.from_arrays([rows.column(f.name).cast(f.type) for f in target], schema=target)
        return rows.select(["__ml_file", "__ml_pos"]).filter(pc.fill_null(where.matches(data), False))

    return _deletes(table, snapshot, files, schema, matching, max_share)


def values_withheld(table: Table, columns: Sequence[str]) -> bool:
    """Whether a column's values are kept out of the table's metadata (`write.metadata.metrics.column.<name>` or
    the default `none`: deploy sets it for `pii` and `confidential` columns). The key index, a copy of the key's
    values on local disk, is then not used: such values are in the data files and nowhere else."""
    properties = table.properties
    default = properties.get("write.metadata.metrics.default", "")
    modes = (properties.get(f"write.metadata.metrics.column.{name}", default) for name in columns)
    return any(mode.strip().lower() == "none" for mode in modes)


def deletes_for_keys(
    table: Table,
    snapshot: Snapshot | None,
    keys: pa.Table,
    *,
    max_share: float | None = None,
    use_index: bool = True,
    presorted: SortedKeys | None = None,
) -> PositionDeletes | None:
    """Position deletes for the rows of `snapshot` whose primary key is in `keys`; None as for `deletes_where`.

    A port keyed by columns of any type but float and double is looked up in its key index
    (`meshlake.write.key_index`: loaded, caught up to `snapshot` or built from the scan below), O(keys × log rows).
    Otherwise (or with `use_index=False`, or the caches off), files are pruned by the keys' min/max against their
    column bounds (pyiceberg's planning over the manifests: clustered keys skip most files); only the key columns of
    the rest are read, once, and matched to `keys` by a semi-join in DuckDB. A compound key is first narrowed by its
    most selective column alone (`IN`), which DuckDB probes several times faster than the multi-column join it then
    runs on the few rows left. `presorted`: `keys` sorted for the index already (`key_runs.sorted_keys`)."""
    if snapshot is None or keys.num_rows == 0:
        return NOTHING
    names = keys.column_names
    if use_index and not values_withheld(table, names):
        from meshlake.write import key_index

        plan = cached_plan(table, snapshot.snapshot_id)
        found = key_index.lookup(table, plan, keys, presorted) if plan.tasks else None
        if found is not None:
            index, task_ids, positions = found
            touched = {plan.tasks[i].path for i in distinct(task_ids, len(plan.tasks))}
            data_files = data_files_of(table, snapshot, touched)
            if len(data_files) == len(touched):
                result = _record(table, plan.tasks, data_files, task_ids, positions, max_share)
                return result if result is None else replace(result, key_index=index)
    scan = table.scan(row_filter=key_filter(keys), snapshot_id=snapshot.snapshot_id)
    files = [task.file for task in scan.plan_files()]

    def matching(con: duckdb.DuckDBPyConnection, live: str) -> pa.Table:
        con.register("__ml_keys", keys)
        on = " AND ".join(f"l.{quote_ident(n)} = k.{quote_ident(n)}" for n in names)
        source = f"({live})"
        if len(names) > 1:
            first = quote_ident(most_selective(keys))
            source = f"(SELECT * FROM ({live}) AS l WHERE {first} IN (SELECT {first} FROM __ml_keys))"
        query = f"SELECT l.__ml_file, l.__ml_pos FROM {source} AS l SEMI JOIN __ml_keys AS k ON {on}"
        return con.sql(query).to_arrow_table()

    return _deletes(table, snapshot, files, table.schema().select(*names), matching, max_share)


def distinct(index: np.ndarray, size: int) -> list[int]:
    """The distinct values of `index` (indices into a sequence of `size`), ascending: counted in one pass, where
    `np.unique` (hash-based in NumPy 2, or a sort) cost ~1 ms on the 10 k rows of a 1 M-row port's upsert."""
    found: list[int] = np.flatnonzero(np.bincount(np.asarray(index, np.int64), minlength=size)).tolist()
    return found


def data_files_of(table: Table, snapshot: Snapshot, paths: set[str]) -> dict[str, DataFile]:
    """The live data files of `snapshot` whose path is in `paths`, by path, read from its data manifests (each
    manifest's files, and the newest manifest lists, kept by the process: they never change, and back-to-back
    upserts share all but the newest), instead of planning a scan of the whole snapshot."""
    from pyiceberg.manifest import ManifestContent

    from meshlake.write.staged_manifests import manifest_list

    found: dict[str, DataFile] = {}
    for manifest in manifest_list(snapshot, table):
        if manifest.content == ManifestContent.DATA and len(found) < len(paths):
            files = _manifest_files(table, manifest)
            found |= {path: files[path] for path in paths & files.keys()}
    return found


def _manifest_files(table: Table, manifest: Any) -> Mapping[str, DataFile]:
    from meshlake.query.manifests import read_manifest

    key = f"{table.metadata.table_uuid}:{manifest.manifest_path}"
    with _manifest_lock:
        files = _manifest_cache.get(key)
        if files is not None:
            _manifest_cache.move_to_end(key)
            return files
    files = {entry.data_file.file_path: entry.data_file for entry in read_manifest(table.io, manifest)}
    with _manifest_lock:
        _manifest_cache[key] = files
        while len(_manifest_cache) > MANIFESTS_KEPT:
            _manifest_cache.popitem(last=False)
    return files


MANIFESTS_KEPT = 256
_manifest_cache: OrderedDict[str, Mapping[str, DataFile]] = OrderedDict()
_manifest_lock = threading.Lock()


def most_selective(keys: pa.Table) -> str:
    """The key column with the most distinct values in `keys` (the first on a tie)."""
    names: list[str] = keys.column_names
    counts = [int(pc.count_distinct(extension_storage(keys.column(name))).as_py()) for name in names]
    return names[counts.index(max(counts))]


def _deletes(
    table: Table,
    snapshot: Snapshot,
    files: Sequence[DataFile],
    schema: Schema,
    matching: Callable[[duckdb.DuckDBPyConnection, str], pa.Table],
    max_share: float | None,
) -> PositionDeletes | None:
    """Position deletes for the live rows of `files` that `matching(con, live_rows_sql)` returns as
    (`__ml_file`, `__ml_pos`)."""
    if not files:
        return NOTHING
    from meshlake.query.session import connection
    from meshlake.query.sql import positions_sql

    plan = cached_plan(table, snapshot.snapshot_id)
    by_path = {task.path: task for task in plan.tasks}
    tasks = tuple(by_path[f.file_path] for f in files if f.file_path in by_path)
    sub = replace(plan, schema=schema, tasks=tasks)
    with connection(sub, table.io) as con:
        con.execute("SET SESSION arrow_lossless_conversion = true")  # this cursor only: the database is shared
        chosen = matching(con, positions_sql(sub))
    data_files = {f.file_path: f for f in files}
    file_index = chosen.column("__ml_file").to_numpy()
    return _record(table, tasks, data_files, file_index, chosen.column("__ml_pos").to_numpy(), max_share)


def _record(
    table: Table,
    tasks: Sequence[DataTask],
    data_files: Mapping[str, DataFile],
    index: np.ndarray,
    positions: np.ndarray,
    max_share: float | None,
) -> PositionDeletes | None:
    """Write the position deletes of rows (`tasks[index]`, `positions`), one delete file per data file."""
    if len(index) == 0:
        return NOTHING
    touched = distinct(index, len(tasks))
    referenced = tuple(data_files[tasks[i].path] for i in touched)
    removed, rows = len(index), sum(tasks[i].record_count for i in touched)
    if max_share is not None and removed >= max_share * rows:
        return None
    positions = np.asarray(positions, np.int64)
    if not _in_order(index, positions):  # the key index finds rows in order of its files, mostly the plan's
        order = np.lexsort((positions, index))
        index, positions = index[order], positions[order]
    starts = np.searchsorted(index, touched, side="left")
    ends = np.searchsorted(index, touched, side="right")
    looked_up = time.perf_counter()
    held: dict[str, tuple[str, np.ndarray]] = {}

    def write(i: int, start: int, end: int) -> DataFile:
        part = pa.table(
            {"file_path": pa.repeat(tasks[i].path, end - start), "pos": pa.array(positions[start:end])},
            schema=DELETE_SCHEMA,
        )
        written = _write(table, part, data_files[tasks[i].path])
        held[written.file_path] = (tasks[i].path, positions[start:end])
        return written

    jobs = list(zip(touched, starts.tolist(), ends.tolist(), strict=True))
    written = _write_all(table, write, jobs)
    return PositionDeletes(written, referenced, removed, rows, time.perf_counter() - looked_up, positions=held)


def _in_order(index: np.ndarray, positions: np.ndarray) -> bool:
    """Whether the rows (`index`, `positions`) are sorted by file, then position (no repeats)."""
    if len(index) < 2:
        return True
    step = np.diff(index)
    return bool(np.all((step > 0) | ((step == 0) & (np.diff(positions) > 0))))


def _write_all(
    table: Table, write: Callable[[int, int, int], DataFile], jobs: Sequence[tuple[int, int, int]]
) -> tuple[DataFile, ...]:
    """Write one delete file per job, a few at a time (encoding and storage writes release the GIL); on any
    failure, delete every file written and raise."""
    from concurrent.futures import ThreadPoolExecutor

    workers = max(1, min(len(jobs), 4, os.cpu_count() or 1))
    if workers == 1:  # one file: written here, without starting a thread
        return _write_each(table, write, jobs)
    with ThreadPoolExecutor(workers, thread_name_prefix="meshlake-deletes") as pool:
        futures = [pool.submit(write, *job) for job in jobs]
    written, failure = [], None
    for future in futures:
        error = future.exception()
        if error is None:
            written.append(future.result())
        else:
            failure = failure or error
    if failure is not None:
        for f in written:
            table.io.delete(f.file_path)
        raise failure
    return tuple(written)


def _write_each(
    table: Table, write: Callable[[int, int, int], DataFile], jobs: Sequence[tuple[int, int, int]]
) -> tuple[DataFile, ...]:
    """Write one delete file per job here, one after the other; on any failure, delete every file written."""
    written: list[DataFile] = []
    try:
        for job in jobs:
            written.append(write(*job))
    except BaseException:
        for f in written:
            table.io.delete(f.file_path)
        raise
    return tuple(written)


def live_positions(plan: ScanPlan, io: FileIO) -> pa.Table:
    """The live rows of `plan`'s data files (the delete files applying to them anti-joined first), columns of
    `plan.schema`, with `__ml_file` (the index of their data file in `plan.tasks`) and `__ml_pos` (their row number
    in it): what a distributed merge-on-read write reads of the files one worker owns
    (`meshlake.distributed.keyed`)."""
    import duckdb

    from meshlake.query.engine import register_filesystems
    from meshlake.query.sql import positions_sql

    con = duckdb.connect()
    try:
        con.execute("SET arrow_lossless_conversion = true")
        register_filesystems(con, plan, io)
        return con.sql(positions_sql(plan)).to_arrow_table()
    finally:
        con.close()


def write_file_deletes(
    table: Table, data_file: DataFile, positions: pa.Array | pa.ChunkedArray, *, name_prefix: str = ""
) -> DataFile:
    """One file-scoped position delete file listing rows `positions` of `data_file` (sorted here), its name
    starting with `name_prefix` (a distributed write names every file it writes by its run)."""
    pos = pc.sort_indices(positions)
    ordered = pc.take(positions, pos).cast(pa.int64())
    rows = pa.table({"file_path": pa.repeat(data_file.file_path, len(ordered)), "pos": ordered}, schema=DELETE_SCHEMA)
    return _write(table, rows, data_file, name_prefix=name_prefix)


def _write(table: Table, rows: pa.Table, like: DataFile, *, name_prefix: str = "") -> DataFile:
    """Write one position delete file for data files of `like`'s partition."""
    name = f"{name_prefix}{uuid.uuid4()}-deletes.parquet"
    path = table.location_provider().new_data_location(name)
    buffer = pa.BufferOutputStream()
    pq.write_table(rows, buffer, compression="zstd")
    content = buffer.getvalue()
    with table.io.new_output(path).create(overwrite=True) as stream:
        stream.write(content.to_pybytes())
    paths = rows.column("file_path")
    positions = pc.min_max(rows.column("pos"))
    file = DataFile.from_args(
        content=DataFileContent.POSITION_DELETES,
        file_path=path,
        file_format=FileFormat.PARQUET,
        partition=like.partition,
        record_count=rows.num_rows,
        file_size_in_bytes=content.size,
        lower_bounds={
            FILE_PATH_FIELD_ID: to_bytes(StringType(), paths[0].as_py()),
            POS_FIELD_ID: to_bytes(LongType(), positions["min"].as_py()),
        },
        upper_bounds={
            FILE_PATH_FIELD_ID: to_bytes(StringType(), paths[-1].as_py()),
            POS_FIELD_ID: to_bytes(LongType(), positions["max"].as_py()),
        },
    )
    file.spec_id = like.spec_id
    return file


def scoped_deletes(plan: ScanPlan, files: set[str]) -> tuple[str, ...]:
    """The position delete files of `plan` that name only one of `files` (file-scoped): once that file is
    rewritten or removed they apply to nothing, so they leave in the same commit (compaction, copy-on-write)."""
    return tuple(
        sorted(
            {
                delete.path
                for task in plan.tasks
                if task.path in files
                for delete in task.position_deletes
                if delete.referenced_file == task.path
            }
        )
    )
