"""Compaction: rewrite a partition's many small data files into few, as one `overwrite` snapshot on `main`.

Per partition (spec and values), the data files smaller than `small_file_bytes` are rewritten when there are
at least `min_files` of them; larger files are left alone, unless their pending deletes (merge-on-read writes,
docs/write-modes.md) remove at least `deleted_share` of their rows or come from at least `max_delete_files`
delete files: those are rewritten with the deletes applied, whatever their size, so readers stop merging them.
A file-scoped position delete file (all its rows name one data file, as meshlake writes them) is removed in the
same commit as its rewritten file; a delete file naming several files stays, dangling, as Iceberg's
RewriteDataFiles leaves it: it applies only to data files of its sequence number or older, never to a rewritten
file.

Rows are read through meshlake's read engine, so
position and equality deletes are applied, and written with `DataFileWriter` (field ids, partition
fan-out, the table's target file size). The commit does not go through the quality gate, since the rows do
not change: the rows read must equal the rows written (and the rewritten files' record counts when no delete
applies), or nothing is committed.

Concurrent writers: the snapshot is based on the `main` head that was read. When `main` moved, the rewrite is
re-based on the new head if `check_rebase` finds every rewritten file still live and no delete file was
added meanwhile (a new delete could apply to rows copied into the new files); appended files stay as they
are. Otherwise the compaction gives up and deletes the files it wrote.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.expressions import AlwaysFalse
from pyiceberg.io.pyarrow import schema_to_pyarrow
from pyiceberg.manifest import DataFile, DataFileContent, ManifestContent
from pyiceberg.table import Table
from pyiceberg.table.refs import MAIN_BRANCH
from pyiceberg.table.snapshots import ancestors_between

from meshlake.contract.stamps import Stamps, default_writer
from meshlake.query.manifests import read_manifest
from meshlake.query.plan import FILE_PATH_FIELD_ID, POS_FIELD_ID, ScanPlan, clear_plan_cache, plan_snapshot
from meshlake.write.commit import (
    Change,
    LostRaces,
    MainMovedError,
    RebaseConflictError,
    check_rebase,
    commit_snapshot,
)
from meshlake.write.datafiles import DataFileWriter
from meshlake.write.positions import scoped_deletes

SMALL_FILE_BYTES = 32 * 1024 * 1024
MIN_FILES = 5
MAX_GROUP_BYTES = 1024 * 1024 * 1024
MAX_REBASES = 20
BATCH_ROWS = 256 * 1024
DELETED_SHARE = 0.05
MAX_DELETE_FILES = 10

PartitionKey = tuple[int, tuple[object, ...]]
_DELETE_COUNTS = ("added-delete-files", "added-position-delete-files", "added-equality-delete-files")


class CompactionError(Exception):
    """Compaction stopped without committing (its files were deleted); the table is unchanged."""


@dataclass(frozen=True)
class Options:
    """When a partition is compacted."""

    small_file_bytes: int = SMALL_FILE_BYTES
    min_files: int = MIN_FILES
    max_group_bytes: int = MAX_GROUP_BYTES
    deleted_share: float = DELETED_SHARE
    max_delete_files: int = MAX_DELETE_FILES
    max_bytes: int | None = None
    """Bytes of small files one run rewrites at most (oldest first; None: all of them). A partition qualifies by
    all its small files, so a run that stops at the limit leaves the newest for the next one."""
    fold_deletes: bool = True
    """Also rewrite files of any size whose pending deletes pass `deleted_share` or `max_delete_files` (small files
    are rewritten with their deletes applied either way)."""
    size_classes: bool = False
    """Compact small files only with files of their size class (`size_class`), each class needing `min_files`: a
    compacted file is rewritten again only with files of its own size, so each row is rewritten once per class
    instead of with every run until its file passes `small_file_bytes`."""


@dataclass
class Compaction:
    """What compaction did (or, in a dry run, would do) to one table."""

    partitions: int = 0
    files_before: int = 0
    """Small files rewritten."""
    files_after: int = 0
    """Files written in their place (a dry run counts one per rewrite group: at least this many)."""
    bytes_before: int = 0
    bytes_after: int = 0
    rows: int = 0
    deletes_folded: int = 0
    """Files rewritten because of their pending deletes (counted in `files_before` too)."""
    data_files_before: int = 0
    data_files_after: int | None = None
    snapshot_id: int | None = None
    rebases: int = 0
    planning_ms_before: float | None = None
    planning_ms_after: float | None = None
    groups: list[list[DataFile]] = field(default_factory=list, repr=False)


def find_groups(table: Table, options: Options) -> Compaction:
    """The rewrite groups of `main`'s head: per partition, small files in bins of at most `max_group_bytes`
    (a manifest that records only removed files, by its counts in the manifest list, is not read)."""
    found = Compaction()
    head = table.metadata.snapshot_by_name(MAIN_BRANCH)
    if head is None:
        return found
    entries = [
        entry
        for manifest in head.manifests(table.io)
        if manifest.content == ManifestContent.DATA and (manifest.has_added_files() or manifest.has_existing_files())
        for entry in read_manifest(table.io, manifest)
        if entry.data_file.content == DataFileContent.DATA
    ]
    found.data_files_before = len(entries)
    partitions: dict[tuple[PartitionKey, int], list[DataFile]] = {}
    # oldest first, so rows keep the order they were written in (time-ordered appends stay clustered)
    for entry in sorted(entries, key=lambda e: e.sequence_number or 0):
        size = entry.data_file.file_size_in_bytes
        if size < options.small_file_bytes:
            key = (_partition_key(entry.data_file), size_class(size) if options.size_classes else 0)
            partitions.setdefault(key, []).append(entry.data_file)
    budget = options.max_bytes
    for small in partitions.values():
        if len(small) < max(options.min_files, 2) or (budget is not None and budget <= 0):
            continue
        taken = small if budget is None else _within(small, budget)
        if budget is not None:
            budget -= sum(f.file_size_in_bytes for f in taken)
        found.partitions += 1
        found.groups.extend(_bins(taken, options.max_group_bytes))
    if not options.fold_deletes:
        return _counted(found)
    deleted = _pending_deletes(table, head.snapshot_id, options)
    grouped = {f.file_path for group in found.groups for f in group}
    folding: dict[PartitionKey, list[DataFile]] = {}
    for entry in sorted(entries, key=lambda e: e.sequence_number or 0):
        data_file = entry.data_file
        if data_file.file_path in deleted and data_file.file_path not in grouped:
            folding.setdefault(_partition_key(data_file), []).append(data_file)
    for files in folding.values():
        found.partitions += 1
        found.deletes_folded += len(files)
        found.groups.extend(_bins(files, options.max_group_bytes))
    return _counted(found)


def _counted(found: Compaction) -> Compaction:
    found.files_before = sum(len(group) for group in found.groups)
    found.bytes_before = sum(f.file_size_in_bytes for group in found.groups for f in group)
    found.rows = sum(f.record_count for group in found.groups for f in group)
    found.files_after = len(found.groups)
    return found


def _within(files: list[DataFile], budget: int) -> list[DataFile]:
    """The oldest of `files` whose sizes add up to at most `budget` (at least two: a rewrite of one file is none)."""
    taken: list[DataFile] = []
    size = 0
    for data_file in files:
        if len(taken) >= 2 and size + data_file.file_size_in_bytes > budget:
            break
        taken.append(data_file)
        size += data_file.file_size_in_bytes
    return taken


def _pending_deletes(table: Table, snapshot_id: int, options: Options) -> set[str]:
    """The data files of the snapshot whose position or equality deletes pass `options`' thresholds."""
    plan = plan_snapshot(table.metadata, table.io, snapshot_id, metadata_location=table.metadata_location)
    dirty = [task for task in plan.tasks if task.has_deletes]
    if not dirty:
        return set()
    over = {
        task.path for task in dirty if task.equality_deletes or len(task.position_deletes) >= options.max_delete_files
    }
    files = sorted({d.path for task in dirty if task.path not in over for d in task.position_deletes})
    if not files:
        return over
    import duckdb

    from meshlake.query.engine import register_filesystems
    from meshlake.query.sql import path_list

    schema = (
        f"MAP {{{FILE_PATH_FIELD_ID}: {{name: 'file_path', type: 'VARCHAR', default_value: NULL}}, "
        f"{POS_FIELD_ID}: {{name: 'pos', type: 'BIGINT', default_value: NULL}}}}"
    )
    source = f"read_parquet({path_list(files)}, schema = {schema})"
    con = duckdb.connect()
    try:
        register_filesystems(con, plan, table.io)
        rows = con.sql(f"SELECT file_path, count(DISTINCT pos) FROM {source} GROUP BY ALL").fetchall()
    finally:
        con.close()
    counts = {str(path): int(count) for path, count in rows}
    for task in dirty:
        if counts.get(task.path, 0) >= options.deleted_share * max(task.record_count, 1):
            over.add(task.path)
    return over


def compact(
    catalog: Catalog,
    table: Table,
    *,
    product_version: str,
    run_id: str,
    apply: bool,
    options: Options | None = None,
    on_group: Callable[[int, int], None] | None = None,
    before_commit: Callable[[], None] | None = None,
    measure_planning: bool = True,
) -> tuple[Table, Compaction]:
    """Compact `table`'s `main`; returns the table after the commit and what was done.

    `on_group(done, total)` reports progress; `before_commit` runs once between rewriting and committing
    (a seam for tests that race a concurrent write against compaction). `measure_planning` times cold planning
    before and after (`planning_ms`, which empties the process's plan cache). Raises `CompactionError`.
    """
    found = find_groups(table, options or Options())
    head = table.metadata.snapshot_by_name(MAIN_BRANCH)
    if not found.groups or head is None:
        return table, found
    if measure_planning:
        found.planning_ms_before = planning_ms(table, head.snapshot_id)
    if not apply:
        return table, found
    rewritten = rewrite(
        table, found, head.snapshot_id, product_version=product_version, run_id=run_id, on_group=on_group
    )
    try:
        if before_commit is not None:
            before_commit()
        table, snapshot_id = commit_rewrite(catalog, table, rewritten, found)
    except BaseException:
        discard(table, rewritten)
        raise
    if measure_planning:
        found.planning_ms_after = planning_ms(table, snapshot_id)
    return table, found


@dataclass(frozen=True)
class Rewritten:
    """Compaction's files, written and not committed yet: the change, the head it was read from, its stamps."""

    change: Change
    base_id: int
    properties: dict[str, str]
    rows: int


def rewrite(
    table: Table,
    found: Compaction,
    base_id: int,
    *,
    product_version: str,
    run_id: str,
    on_group: Callable[[int, int], None] | None = None,
) -> Rewritten:
    """Read `found`'s groups of snapshot `base_id` and write their rows into new files (deleted again if it
    fails); `commit_rewrite` commits them. The two may run in different processes (a stream's compactor,
    `meshlake.streams.compactor_process`): a `Rewritten` pickles."""
    plan = plan_snapshot(table.metadata, table.io, base_id, metadata_location=table.metadata_location)
    writer = DataFileWriter(table.metadata, table.io, schema=plan.schema)
    try:
        added, rows = _rewrite(table, plan, found, writer, on_group)
    except BaseException:
        writer.abort()
        raise
    deleted = tuple(f for group in found.groups for f in group)
    change = Change(
        "overwrite",
        tuple(added),
        deleted,
        conflict_filter=AlwaysFalse(),
        removed_deletes=scoped_deletes(plan, {f.file_path for f in deleted}),
    )
    stamps = Stamps(
        writer=default_writer(),
        run_id=run_id,
        product_version=product_version,
        mode="compact",
        extra={"compacted-files": f"{len(deleted)}->{len(added)}"},
    )
    return Rewritten(change, base_id, stamps.properties(), rows)


def commit_rewrite(catalog: Catalog, table: Table, rewritten: Rewritten, found: Compaction) -> tuple[Table, int]:
    """Commit `rewritten` on `main` (re-based on what was committed since, `_commit`), filling in `found`; returns
    the table after the commit and its snapshot id. Raises `CompactionError` (then `discard` the files)."""
    change = rewritten.change
    table, snapshot_id, found.rebases = _commit(catalog, table, change, rewritten.base_id, rewritten.properties)
    found.rows, found.snapshot_id, found.files_after = rewritten.rows, snapshot_id, len(change.added)
    found.bytes_after = sum(f.file_size_in_bytes for f in change.added)
    found.data_files_after = found.data_files_before - len(change.deleted) + len(change.added)
    return table, snapshot_id


def discard(table: Table, rewritten: Rewritten) -> None:
    """Delete the files of a rewrite that was not committed (what is left is an orphan for `meshlake maintain`)."""
    for data_file in rewritten.change.added:
        with contextlib.suppress(Exception):
            table.io.delete(data_file.file_path)


def planning_ms(table: Table, snapshot_id: int, repeat: int = 3) -> float:
    """Cold planning time of a snapshot (plan cache and manifest readers cleared), median of `repeat`."""
    times = []
    for _ in range(repeat):
        clear_plan_cache()
        started = time.perf_counter()
        plan_snapshot(table.metadata, table.io, snapshot_id, metadata_location=table.metadata_location)
        times.append((time.perf_counter() - started) * 1000)
    clear_plan_cache()
    return round(statistics.median(times), 3)


def _rewrite(
    table: Table,
    plan: ScanPlan,
    found: Compaction,
    writer: DataFileWriter,
    on_group: Callable[[int, int], None] | None,
) -> tuple[list[DataFile], int]:
    """Read each group's live rows and write them; returns the new files and the rows copied."""
    by_path = {task.path: task for task in plan.tasks}
    target = schema_to_pyarrow(plan.schema, include_field_ids=True)
    rows = 0
    for index, group in enumerate(found.groups):
        tasks = tuple(by_path[f.file_path] for f in group)
        read = 0
        for batch in _read(replace(plan, tasks=tasks), table):
            read += batch.num_rows
            writer.add(batch.cast(target))
        if not any(task.has_deletes for task in tasks) and read != sum(f.record_count for f in group):
            raise CompactionError(f"read {read} rows from files that hold {sum(f.record_count for f in group)}")
        rows += read
        if on_group is not None:
            on_group(index + 1, len(found.groups))
    added = writer.finish()
    written = sum(f.record_count for f in added)
    if written != rows:
        raise CompactionError(f"wrote {written} rows where {rows} were read; nothing was committed")
    return added, rows


def _read(plan: ScanPlan, table: Table) -> Iterator[pa.RecordBatch]:
    """The plan's live rows, streamed from DuckDB with types Arrow can cast back losslessly."""
    from meshlake.query.engine import read_lossless

    return read_lossless(plan, io=table.io, rows=BATCH_ROWS)


def _commit(
    catalog: Catalog, table: Table, change: Change, base_id: int, properties: dict[str, str]
) -> tuple[Table, int, int]:
    """Commit on `main` at `base_id`, re-basing on each new head that left the rewritten files alone.

    After the first lost race, the re-base and the commit hold this process's commit lock on the table
    (`LostRaces`): a stream in the same process committing every 100 ms would otherwise win every race."""
    with LostRaces(MAX_REBASES) as races:
        while True:
            try:
                table, snapshot_id = commit_snapshot(
                    catalog, table, change, branch=MAIN_BRANCH, base_id=base_id, properties=properties, races=races
                )
            except MainMovedError as moved:
                table = moved.table
                if not races.lost(table):
                    raise CompactionError(f"main kept moving: gave up after {MAX_REBASES} re-bases") from None
                if moved.head is None:
                    raise CompactionError("main was removed while compacting") from None
                try:
                    check_rebase(table, change, old_base=base_id, new_head=moved.head)
                except RebaseConflictError as conflict:
                    raise CompactionError(f"a concurrent commit replaced files being compacted ({conflict})") from None
                _refuse_new_deletes(table, base_id, moved.head)
                base_id = moved.head
                continue
            return table, snapshot_id, races.count


def _refuse_new_deletes(table: Table, old_base: int, new_head: int) -> None:
    base = table.metadata.snapshot_by_id(old_base)
    head = table.metadata.snapshot_by_id(new_head)
    assert head is not None
    for snapshot in ancestors_between(base, head, table.metadata):
        if snapshot.snapshot_id == old_base:
            break
        summary = snapshot.summary.additional_properties if snapshot.summary else {}
        if any(int(summary.get(key, 0)) for key in _DELETE_COUNTS):
            raise CompactionError(f"snapshot {snapshot.snapshot_id} added delete files while compacting")


def _bins(files: list[DataFile], max_bytes: int) -> list[list[DataFile]]:
    """Consecutive files in bins of at most `max_bytes`; a last bin of one file joins the one before."""
    bins: list[list[DataFile]] = [[]]
    size = 0
    for data_file in files:
        if bins[-1] and size + data_file.file_size_in_bytes > max_bytes:
            bins.append([])
            size = 0
        bins[-1].append(data_file)
        size += data_file.file_size_in_bytes
    if len(bins) > 1 and len(bins[-1]) == 1:
        bins[-2].extend(bins.pop())
    return bins


SIZE_CLASS_BASE = 256 * 1024
SIZE_CLASS_RATIO = 8


def size_class(size: int) -> int:
    """0 under `SIZE_CLASS_BASE` (256 KB), then one class per factor of `SIZE_CLASS_RATIO` (8): 256 KB–2 MB is 1,
    2–16 MB is 2. Fifty files of a class make a file of a higher one."""
    klass = 0
    bound = SIZE_CLASS_BASE
    while size >= bound:
        klass += 1
        bound *= SIZE_CLASS_RATIO
    return klass


def _partition_key(data_file: DataFile) -> PartitionKey:
    partition = data_file.partition
    return (data_file.spec_id, tuple(partition[i] for i in range(len(partition))))
