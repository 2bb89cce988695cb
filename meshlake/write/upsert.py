"""An upsert's change: its new rows encoded while their keys are checked for uniqueness and their old rows looked
up (in the key index, or by a copy-on-write rewrite), and the keeping of the key index after the commit."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from pyiceberg.io.pyarrow import schema_to_pyarrow
from pyiceberg.manifest import DataFile, ManifestFile
from pyiceberg.table import Table

from meshlake.errors import ContractViolationError
from meshlake.write.commit import Change, ReplacedKeys
from meshlake.write.datafiles import ROW_GROUP_ROWS, DataFileWriter
from meshlake.write.index_keeper import Keeping
from meshlake.write.ingest import Conformer
from meshlake.write.positions import NOTHING, PositionDeletes, deletes_for_keys
from meshlake.write.results import Prepared
from meshlake.write.rewrite import Rewrite, extension_storage, key_filter, rewrite_keys
from meshlake.write.row_changes import position_deletes
from meshlake.write.staged_manifests import StagedManifests, delete_all, write_manifests

if TYPE_CHECKING:
    from pyiceberg.schema import Schema

    from meshlake.write.key_runs import SortedKeys


class _RowsWrite:
    """An upsert's new rows encoded as data files (in a thread: `run`) and, when `snapshot_id` is set, listed in a
    manifest for that snapshot, written right after them (`meshlake.write.staged_manifests`)."""

    def __init__(self, table: Table, rows: pa.Table, snapshot_id: int | None, phases: dict[str, float]) -> None:
        self.table, self.rows, self.snapshot_id, self.phases = table, rows, snapshot_id, phases
        # already a thread of its own: one file (an unpartitioned port, one row group's rows) encodes right here
        inline = table.spec().is_unpartitioned() and rows.num_rows <= ROW_GROUP_ROWS
        self.writer = DataFileWriter(table.metadata, table.io, threads=not inline)
        self.manifests: list[ManifestFile] = []

    def run(self) -> tuple[DataFile, ...]:
        began = time.perf_counter()
        files = tuple(self.writer.write_all(self.rows.to_batches()))
        if self.snapshot_id is not None:
            self.manifests = write_manifests(self.table, files, self.snapshot_id, deletes=False)
        self.phases["write rows"] = time.perf_counter() - began
        return files

    @property
    def written_paths(self) -> list[str]:
        return [*self.writer.written_paths, *(m.manifest_path for m in self.manifests)]


def prepare_upsert(
    table: Table,
    conformer: Conformer,
    reader: pa.RecordBatchReader,
    base: Any,
    primary_key: list[str],
    address: str,
    write_mode: str = "copy-on-write",
) -> Prepared:
    """Write the new rows and remove the old rows of their keys. The new rows are encoded in a thread while their
    keys are checked for uniqueness and the old rows are looked up (DuckDB and Parquet encoding both release the
    GIL): the lookup reads, the write encodes. Unless the write is copy-on-write, the manifests of the new rows and
    of the delete files are written too, for a snapshot id chosen here, so that the commit writes only its manifest
    list (`meshlake.write.staged_manifests`); an `auto` write that copies on write deletes them."""
    from meshlake.write import upsert_threads

    phases: dict[str, float] = {}
    started = time.perf_counter()
    rows = pa.Table.from_batches(list(conformer.conform(reader)), schema=conformer.target)
    snapshot_id = table.metadata.new_snapshot_id() if write_mode != "copy-on-write" else None
    job = _RowsWrite(table, rows, snapshot_id, phases)
    keys = rows.select(primary_key)
    writing = upsert_threads.pool().submit(job.run)
    found = _OldRows(None)
    try:
        presorted = check_unique_keys(keys, primary_key, address, table.schema())
        phases["conform"] = time.perf_counter() - started
        found = _old_rows(table, base, keys, write_mode, snapshot_id, phases, presorted)
        conflict_filter = key_filter(keys)
    except BaseException:
        writing.exception()  # wait: its files exist only once it is done
        delete_all(table, [*job.written_paths, *found.written_paths])
        raise
    try:
        added = writing.result()
    except BaseException:
        delete_all(table, found.written_paths)
        raise
    deletes, staged = found.deletes, None
    if deletes is None:
        delete_all(table, [m.manifest_path for m in job.manifests])  # copy-on-write: its commit writes its own
        assert found.rewrite is not None
        prepared = upsert_by_rewrite(found.rewrite, keys, added, rows.num_rows)
        prepared.written_paths = [*job.writer.written_paths, *prepared.written_paths]
        prepared.write_mode = "copy-on-write"
        prepared.phases = phases
        return prepared
    if snapshot_id is not None:
        manifests = (tuple(job.manifests), tuple(found.manifests))
        staged = StagedManifests(snapshot_id, added, deletes.delete_files, *manifests)
    replaced = ReplacedKeys(tuple(primary_key), base.snapshot_id, deletes.rows_removed) if base else None
    change = Change(
        "overwrite",
        added,
        (),
        conflict_filter,
        new_rows=added,
        delete_files=deletes.delete_files,
        referenced=deletes.referenced,
        replaced_keys=replaced,
        staged=staged,
    )
    paths = [*job.written_paths, *found.written_paths]
    prepared = Prepared(change, rows.num_rows, 0, deletes.rows_removed, paths, "merge-on-read", phases)
    if deletes.key_index is not None:
        # one data file holds the rows in their order (several: a partitioned port, or past a row group; read back)
        written = {added[0].file_path: keys} if len(added) == 1 else {}
        prepared.after_commit = _index_keeper(deletes, written, presorted)
    return prepared


@dataclass(frozen=True)
class _OldRows:
    """How an upsert removes the old rows of its keys: position `deletes` (and their `manifests`), or a `rewrite`."""

    deletes: PositionDeletes | None
    rewrite: Rewrite | None = None
    manifests: tuple[ManifestFile, ...] = ()

    @property
    def written_paths(self) -> list[str]:
        rewritten = self.rewrite.written_paths if self.rewrite is not None else ()
        return [*(self.deletes or NOTHING).written_paths, *rewritten, *(m.manifest_path for m in self.manifests)]


def _old_rows(
    table: Table,
    base: Any,
    keys: pa.Table,
    write_mode: str,
    snapshot_id: int | None,
    phases: dict[str, float],
    presorted: SortedKeys | None = None,
) -> _OldRows:
    """Find the old rows of `keys` in `base` and record them as position deletes (with their manifest for snapshot
    `snapshot_id`, when set), or rewrite their files; phases `key index wait`, `key lookup`, `deletes` (incl. the
    manifest) or `key lookup and rewrite`. `presorted`: `keys` as the key index sorts them, if sorted already."""
    if write_mode != "copy-on-write":  # the key index of the base may still be kept (by this process's last upsert)
        from meshlake.write import index_keeper

        waited = index_keeper.wait_for(str(table.metadata.table_uuid))
        if waited >= 0.001:
            phases["key index wait"] = waited
    looking = time.perf_counter()
    deletes = position_deletes(
        write_mode, lambda limit: deletes_for_keys(table, base, keys, max_share=limit, presorted=presorted)
    )
    if deletes is None:
        rewrite = rewrite_keys(table, base, keys)
        phases["key lookup and rewrite"] = time.perf_counter() - looking
        return _OldRows(None, rewrite)
    manifests: tuple[ManifestFile, ...] = ()
    if snapshot_id is not None:
        began = time.perf_counter()
        try:
            manifests = tuple(write_manifests(table, deletes.delete_files, snapshot_id, deletes=True))
        except BaseException:
            delete_all(table, list(deletes.written_paths))
            raise
        deletes = replace(deletes, write_seconds=deletes.write_seconds + time.perf_counter() - began)
    phases["key lookup"] = time.perf_counter() - looking - deletes.write_seconds
    phases["deletes"] = deletes.write_seconds
    return _OldRows(deletes, manifests=manifests)


def _index_keeper(
    deletes: PositionDeletes, written: Mapping[str, pa.Table], presorted: SortedKeys | None = None
) -> Callable[[Table, int], Keeping]:
    """Bring the key index the upsert's rows were found in to the snapshot it committed, from what it wrote (the
    positions of its delete files, and `written`: the keys of its data files, path -> key columns in file order,
    `presorted`: those keys as the lookup sorted them), on the keeper thread (a cache: a failure is logged and only
    means the next upsert catches up or rebuilds; the commit stands)."""

    def keep(committed: Table, snapshot_id: int) -> Keeping:
        from meshlake.write import index_keeper
        from meshlake.write.key_index_keeping import keep_current
        from meshlake.write.key_index_store import folder_of

        folder = folder_of(committed)  # the cache folder of now, whatever the environment is when the job runs

        def job() -> None:
            from meshlake.query.plan import cached_plan

            if folder is not None:
                plan = cached_plan(committed, snapshot_id)
                keep_current(committed, deletes.key_index, plan, deletes.positions, folder, written, presorted)

        return index_keeper.keep(str(committed.metadata.table_uuid), job, name=".".join(committed.name()))

    return keep


def check_unique_keys(
    keys: pa.Table, primary_key: Sequence[str], address: str, schema: Schema | None = None
) -> SortedKeys | None:
    """Refuse `keys` if one repeats; returns them sorted as the key index sorts them (`key_runs.sorted_keys`) when
    the key's columns can be indexed (`schema` given): then only the rows whose sort keys are equal are grouped
    exactly, and the lookup and the keeping reuse the sort. Otherwise all rows are grouped."""
    from meshlake.write import key_hashing, key_runs

    kinds = key_hashing.key_kinds(schema, primary_key) if schema is not None else None
    presorted = key_runs.sorted_keys(keys, kinds) if kinds is not None else None
    suspects = keys if presorted is None else keys.take(pa.array(presorted.repeated()))
    suspects = pa.table([extension_storage(c) for c in suspects.columns], names=suspects.column_names)  # UUIDs
    grouped = suspects.group_by(list(primary_key), use_threads=False).aggregate([]).num_rows if suspects.num_rows else 0
    if grouped != suspects.num_rows:
        raise ContractViolationError(
            f"{address}: the data repeats a primary key ({', '.join(primary_key)}); upsert needs one row per key. "
            "Nothing was written.",
            address=address,
            column=primary_key[0],
        )
    return presorted


def upsert_by_rewrite(rewrite: Rewrite, keys: pa.Table, added: tuple[DataFile, ...], rows: int) -> Prepared:
    """Add `added` and rewrite the base files holding any of `keys` without those rows (counted as updated)."""
    change = Change("overwrite", (*rewrite.added, *added), rewrite.deleted, key_filter(keys), new_rows=added)
    return Prepared(change, rows, 0, rewrite.rows_removed, written_paths=list(rewrite.written_paths))


def keys_of(table: Table, files: Sequence[DataFile], primary_key: Sequence[str]) -> pa.Table:
    """The primary-key columns of the rows in `files` (written by meshlake: columns named as in the schema)."""
    import pyarrow.parquet as pq

    target = schema_to_pyarrow(table.schema(), include_field_ids=False)
    key_schema = pa.schema([target.field(name) for name in primary_key])
    parts = []
    for file in files:
        with table.io.new_input(file.file_path).open() as stream:
            parts.append(pq.read_table(stream, columns=list(primary_key)).cast(key_schema))
    return pa.concat_tables(parts) if parts else key_schema.empty_table()
