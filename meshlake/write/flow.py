"""A port write from start to publish: conform, write files, stage, check, publish (write-audit-publish).

The flow of one write: `stage_write` prepares the change by mode (`row_changes` for replace, overwrite and
delete, `upsert` for upserts), writes its files and runs the gate on the staged snapshot; `publish` commits it
(`commit_loop`) or quarantines it; `discard` drops it. Its types are in `results`, the gate's protocol in
`gate_protocol`; changes whose files were written elsewhere are staged by `prewritten`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.expressions import BooleanExpression
from pyiceberg.io.pyarrow import schema_to_pyarrow
from pyiceberg.table import Table
from pyiceberg.table.refs import MAIN_BRANCH

from meshlake.contract.stamps import Stamps
from meshlake.errors import CommitConflictError, ContractViolationError
from meshlake.write import commit, faults
from meshlake.write.commit import Change
from meshlake.write.commit_loop import commit_loop
from meshlake.write.datafiles import DataFileWriter
from meshlake.write.gate_protocol import Gate, MetricTap, checked
from meshlake.write.ingest import Conformer, to_reader
from meshlake.write.manifest_merge import merge_clock
from meshlake.write.modes import MODES
from meshlake.write.results import Prepared, StagedWrite, WriteResult
from meshlake.write.rewrite import parse_filter
from meshlake.write.row_changes import (
    only_matching,
    overwrite_all,
    prepare_delete,
    replace_rows,
    row_change_mode,
    with_scoped_deletes_removed,
)
from meshlake.write.rowfilter import RowFilter
from meshlake.write.staged_manifests import delete_all
from meshlake.write.upsert import prepare_upsert

if TYPE_CHECKING:
    from meshlake.write.results import RebaseCheck


def write_port(
    catalog: Catalog,
    table: Table,
    data: Any,
    *,
    address: str,
    mode: str,
    where: str | BooleanExpression | None,
    primary_key: list[str],
    stamps: Stamps,
    gate: Gate | None,
    quarantine_name: str,
    write_mode: str = "copy-on-write",
) -> WriteResult:
    """Write `data` to `table` in `mode`; publish only what passed the gate and did not race. `write_mode`
    (copy-on-write, merge-on-read or auto) says how upsert, replace and delete remove old rows."""
    staged = stage_write(
        catalog,
        table,
        data,
        address=address,
        mode=mode,
        where=where,
        primary_key=primary_key,
        stamps=stamps,
        gate=gate,
        quarantine_name=quarantine_name,
        write_mode=write_mode,
    )
    return publish(staged)


def stage_write(
    catalog: Catalog,
    table: Table,
    data: Any,
    *,
    address: str,
    mode: str,
    where: str | BooleanExpression | None,
    primary_key: list[str],
    stamps: Stamps,
    gate: Gate | None,
    quarantine_name: str,
    rebase_check: RebaseCheck | None = None,
    write_mode: str = "copy-on-write",
) -> StagedWrite:
    """Conform and write the data files, then run the gate on the staged snapshot; commit nothing."""
    started = time.perf_counter()
    check_mode(mode, where, primary_key, address)
    row_changes = row_change_mode(table, write_mode, address)
    base_id = commit.main_head(table)
    tap = gate.tap(table, mode) if gate is not None and mode in ("append", "overwrite") else None
    prepared = _prepare(
        table,
        data,
        address=address,
        mode=mode,
        where=where,
        primary_key=primary_key,
        write_mode=row_changes,
        tap=tap,
    )
    prepared.change = with_scoped_deletes_removed(table, base_id, prepared.change)
    faults.reached("files", table.name())
    streamed = tap.partials() if tap is not None and gate is not None and not prepared.change.is_empty else None
    report = checked(gate, table, base_id, prepared, stamps, streamed)
    if report is not None:
        faults.reached("checked", table.name())
    return StagedWrite(
        catalog, table, address, mode, stamps, gate, quarantine_name, prepared, base_id, report, started, rebase_check
    )


def publish(staged: StagedWrite) -> WriteResult:
    """Commit a staged write: to `main` if it passed (re-checked after a rebase), else to quarantine (raises)."""
    prepared, stamps, table = staged.prepared, staged.stamps, staged.table
    if not staged.changed:
        delete_all(table, prepared.written_paths)
        return WriteResult(
            staged.address,
            staged.mode,
            staged.base_id,
            0,
            stamps.run_id,
            seconds=time.perf_counter() - staged.started,
            changed=False,
        )
    stats = commit.CommitStats()
    committing = time.perf_counter()
    try:
        with merge_clock() as merges:
            committed, snapshot_id, report, rebases = commit_loop(
                staged.catalog,
                table,
                prepared.change,
                staged.base_id,
                stamps=stamps,
                gate=staged.gate,
                quarantine_name=staged.quarantine_name,
                stats=stats,
                first_report=staged.report,
                rebase_check=staged.rebase_check,
            )
    except CommitConflictError:
        delete_all(table, prepared.written_paths)
        raise
    inserted = prepared.rows - prepared.rows_updated if staged.mode == "upsert" else 0
    phases = {**prepared.phases, "commit": time.perf_counter() - committing}
    if stats.lock_wait >= 0.001:
        phases["commit lock wait"] = stats.lock_wait
    if merges.manifests:
        phases["merge in commit"] = merges.seconds
    staged.committed = committed
    keeping = prepared.after_commit(committed, snapshot_id) if prepared.after_commit is not None else None
    if keeping is not None and keeping.inline and keeping.seconds is not None:
        phases["key index"] = keeping.seconds
    return WriteResult(
        address=staged.address,
        mode=staged.mode,
        snapshot_id=snapshot_id,
        rows=prepared.rows,
        run_id=stamps.run_id,
        rows_deleted=prepared.rows_deleted,
        rows_updated=prepared.rows_updated,
        rows_inserted=inserted,
        files_added=len(prepared.change.added),
        files_deleted=len(prepared.change.deleted),
        rebases=rebases,
        commit_retries=stats.retries,
        quality=report,
        seconds=time.perf_counter() - staged.started,
        write_mode=prepared.write_mode,
        delete_files_added=len(prepared.change.delete_files),
        phases=phases,
        index_keeping=keeping,
    )


def discard(staged: StagedWrite) -> None:
    """Drop a staged write that will not be published: delete the files it wrote."""
    delete_all(staged.table, staged.prepared.written_paths)


def check_mode(mode: str, where: object, primary_key: list[str], address: str) -> None:
    if mode == "delete":
        return
    if mode not in MODES:
        raise ValueError(f"unknown write mode {mode!r}; use one of {', '.join(MODES)}")
    if mode == "replace" and where is None:
        raise ValueError("mode='replace' needs where=… (the rows to replace); use mode='overwrite' to replace all")
    if mode != "replace" and where is not None:
        raise ValueError(f"where=… only applies to mode='replace' (and port.delete), not mode={mode!r}")
    if mode == "upsert" and not primary_key:
        raise ContractViolationError(
            f"{address}: upsert needs a primary_key in the port's contract; add one to dataproduct.yaml and deploy",
            address=address,
        )


def _prepare(
    table: Table,
    data: Any,
    *,
    address: str,
    mode: str,
    where: str | BooleanExpression | None,
    primary_key: list[str],
    write_mode: str = "copy-on-write",
    tap: MetricTap | None = None,
) -> Prepared:
    """Write the files of a change; `tap` observes the rows written by an append or overwrite."""
    base = table.metadata.snapshot_by_name(MAIN_BRANCH)
    if mode == "delete":
        assert where is not None
        return prepare_delete(table, base, parse_filter(where, table), write_mode)
    target = schema_to_pyarrow(table.schema(), include_field_ids=True)
    conformer = Conformer(target, address)
    reader = to_reader(data)
    conformer.check_schema(reader.schema)
    if mode == "upsert":
        return prepare_upsert(table, conformer, reader, base, primary_key, address, write_mode)
    counter = _RowCounter()
    batches = counter.count(conformer.conform(reader))
    replaced: RowFilter | None = None
    if mode == "replace":
        assert where is not None
        replaced = parse_filter(where, table)
        batches = only_matching(batches, replaced, address)
    writer = DataFileWriter(table.metadata, table.io, observer=tap if mode in ("append", "overwrite") else None)
    added = writer.write_all(batches)
    paths = writer.written_paths
    if mode == "append":
        return Prepared(Change("append", tuple(added), new_rows=tuple(added)), counter.rows, written_paths=paths)
    if mode == "overwrite":
        prepared = overwrite_all(table, base, tuple(added), counter.rows)
        prepared.written_paths = paths
        return prepared
    assert replaced is not None
    try:
        prepared = replace_rows(table, base, replaced, tuple(added), counter.rows, write_mode)
    except BaseException:
        delete_all(table, paths)
        raise
    prepared.written_paths = [*paths, *prepared.written_paths]
    return prepared


class _RowCounter:
    def __init__(self) -> None:
        self.rows = 0

    def count(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            self.rows += batch.num_rows
            yield batch
