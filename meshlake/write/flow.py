"""A port write from start to publish: conform, write files, stage, check, publish (write-audit-publish)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.expressions import AlwaysTrue, BooleanExpression
from pyiceberg.io.pyarrow import schema_to_pyarrow
from pyiceberg.manifest import DataFile, ManifestFile
from pyiceberg.table import Table
from pyiceberg.table.refs import MAIN_BRANCH

from meshlake.contract.stamps import Stamps
from meshlake.errors import CommitConflictError, ContractViolationError, QualityGateError, WriteModeError
from meshlake.write import commit, faults
from meshlake.write.casts import shown
from meshlake.write.commit import Change, MainMovedError, RebaseConflictError, ReplacedKeys
from meshlake.write.datafiles import ROW_GROUP_ROWS, DataFileWriter, RowGroupObserver
from meshlake.write.index_keeper import Keeping
from meshlake.write.ingest import Conformer, to_reader
from meshlake.write.manifest_merge import merge_clock
from meshlake.write.modes import MODES, ROW_CHANGE_MODES, WriteMode  # noqa: F401 - re-exported
from meshlake.write.positions import NOTHING, PositionDeletes, deletes_for_keys, deletes_where, scoped_deletes
from meshlake.write.rewrite import Rewrite, extension_storage, key_filter, parse_filter, rewrite_keys, rewrite_where
from meshlake.write.rowfilter import RowFilter
from meshlake.write.staged_manifests import StagedManifests, write_manifests

if TYPE_CHECKING:
    from pyiceberg.schema import Schema

    from meshlake.quality.report import QualityReport  # the gate is handed in; see `Gate`
    from meshlake.write.key_runs import SortedKeys

    RebaseCheck = Callable[[Table, int | None, int | None], None]
    """Called with the table, the old base and `main`'s new head before a write is re-applied on a moved `main`;
    raising `CommitConflictError` there stops the write (a stream refuses a second consumer this way)."""


class Gate(Protocol):
    """A port's quality gate: checks a staged change before it is committed, and records the verdict."""

    def check(
        self, table: Table, base_id: int | None, change: Change, stamps: Stamps, streamed: Any = None
    ) -> QualityReport:
        """Run the expectations on `base_id` + `change` (the staged snapshot), reading files in place; `streamed`:
        what the gate's `tap` measured on the rows of `change.new_rows` while they were written."""
        ...

    def tap(self, table: Table, mode: str) -> MetricTap | None:
        """An observer of the row groups a write of `mode` encodes, measuring what the check needs of them."""
        ...

    def metric_plan(self, table: Table, mode: str) -> Any:
        """What a tap measures (it pickles: distributed workers measure it), or None."""
        ...

    def record(self, report: QualityReport, snapshot_id: int, *, published: bool) -> QualityReport:
        """Append the report to the quality history, for the committed snapshot; returns it with the id."""
        ...


class MetricTap(RowGroupObserver, Protocol):
    """A gate's observer of a write's row groups (`meshlake.quality.metrics.MetricTap`)."""

    def partials(self) -> Any:
        """What it measured (handed to `Gate.check` as `streamed`), or None."""
        ...


@dataclass(frozen=True)
class WriteResult:
    """What a write published."""

    address: str
    mode: str
    snapshot_id: int | None
    rows: int
    run_id: str
    rows_deleted: int = 0
    rows_updated: int = 0
    rows_inserted: int = 0
    files_added: int = 0
    files_deleted: int = 0
    rebases: int = 0
    """Times `main` moved under the write and it was re-applied on the new head."""
    commit_retries: int = 0
    """Catalog commits retried after a lost race in which `main` did not move."""
    quality: QualityReport | None = None
    seconds: float = 0.0
    changed: bool = True
    write_mode: str | None = None
    """How old rows were removed: "copy-on-write" or "merge-on-read" (None when none were)."""
    delete_files_added: int = 0
    fallback: str | None = None
    """Why a distributed write ran part of its work on the driver instead of the engine (None: it did not)."""
    phases: Mapping[str, float] = field(default_factory=dict)
    """Seconds by phase of the write, where it measures them: `conform` (incl. the new keys' uniqueness, checked
    while the rows are encoded), `key lookup` (finding the old rows of a merge-on-read upsert's keys; `key lookup
    and rewrite` for a copy-on-write one), `write rows` (encoding the new rows, and for merge-on-read their
    manifest; an upsert runs it alongside the key lookup, so phases may add up to more than `seconds`), `deletes`
    (writing the delete files and their manifest), `gate`, `commit` (incl.
    any rebase and re-check), and within it `commit lock wait` (waiting for another thread of the process to
    finish committing to the same table; only when it did wait) and `merge in commit` (merging full tiers of
    manifests, `meshlake.write.manifest_merge`, of the port or of the quality records the commit appends; only
    when one merged), `key index wait` (before its key lookup, waiting
    for this process to finish keeping the key index of the previous upsert; only when it did wait, alongside
    `write rows`), then `key index` (a merge-on-read upsert bringing its key index to the snapshot it committed,
    when that runs inside the write: `MESHLAKE_KEY_INDEX_KEEPING=inline`; by default it runs after the write
    returns, see `index_keeping`). An upsert measures them all; other writes `gate` and
    `commit`. A distributed write adds its workers' phases, added up over every sink call (`worker receive`,
    `worker conform`, `worker encode`, `worker metrics`, `worker close`, `worker call`: see
    `meshlake.distributed.staging.write_partition`), each also as CPU seconds (`worker encode cpu`, …)."""
    index_keeping: Keeping | None = None
    """A merge-on-read upsert's keeping of its key index, running on the keeper thread after the write returned
    (`meshlake.write.index_keeper`): `index_keeping.wait()` gives the seconds it took; None when there is none."""
    auto_compaction: Mapping[str, Any] | None = None
    """What the automatic compaction after the write did (`meshlake.maintenance.auto_compact`): its snapshot id,
    files before and after, re-bases and seconds, or an `error` (the write stays committed); None when none ran."""

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k not in ("quality", "index_keeping")}
        data["phases"] = dict(self.phases)
        data["auto_compaction"] = dict(self.auto_compaction) if self.auto_compaction is not None else None
        keeping = self.index_keeping
        data["key_index_seconds"] = keeping.seconds if keeping is not None else None
        data["quality"] = self.quality.to_dict() if self.quality else None
        return data


AUTO_MAX_SHARE = 0.2
"""`write_mode: auto` records old rows as position deletes while they are under this share of the live rows of
the files holding them, and rewrites those files otherwise: merge-on-read saves rewriting the other 80 % of a
file, and readers anti-join a delete list of at most a fifth of its rows until compaction folds it in."""


@dataclass
class _Prepared:
    change: Change
    rows: int
    rows_deleted: int = 0
    rows_updated: int = 0
    written_paths: list[str] = field(default_factory=list)
    write_mode: str | None = None
    phases: dict[str, float] = field(default_factory=dict)
    after_commit: Callable[[Table, int], Keeping] | None = None
    """Run once the change is committed (the table as committed, the new snapshot id): keeps the key index current
    (inline, or handed to the keeper thread)."""


@dataclass
class StagedWrite:
    """A write whose files are written and whose expectations ran, not yet committed (see `stage_write`)."""

    catalog: Catalog
    table: Table
    address: str
    mode: str
    stamps: Stamps
    gate: Gate | None
    quarantine_name: str
    prepared: _Prepared
    base_id: int | None
    report: QualityReport | None
    started: float
    rebase_check: RebaseCheck | None = None
    committed: Table | None = None
    """The table as `publish` committed it to `main` (None before, or when nothing was committed)."""

    @property
    def passed(self) -> bool:
        """False when the gate refused the staged snapshot."""
        return self.report is None or self.report.passed

    @property
    def changed(self) -> bool:
        return not self.prepared.change.is_empty


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
    _check_mode(mode, where, primary_key, address)
    row_changes = _row_change_mode(table, write_mode, address)
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
    prepared.change = _with_scoped_deletes_removed(table, base_id, prepared.change)
    faults.reached("files", table.name())
    streamed = tap.partials() if tap is not None and gate is not None and not prepared.change.is_empty else None
    report = _checked(gate, table, base_id, prepared, stamps, streamed)
    if report is not None:
        faults.reached("checked", table.name())
    return StagedWrite(
        catalog, table, address, mode, stamps, gate, quarantine_name, prepared, base_id, report, started, rebase_check
    )


def publish(staged: StagedWrite) -> WriteResult:
    """Commit a staged write: to `main` if it passed (re-checked after a rebase), else to quarantine (raises)."""
    prepared, stamps, table = staged.prepared, staged.stamps, staged.table
    if not staged.changed:
        _delete_files(table, prepared.written_paths)
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
            committed, snapshot_id, report, rebases = _commit_loop(
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
        _delete_files(table, prepared.written_paths)
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
    _delete_files(staged.table, staged.prepared.written_paths)


def stage_change(
    catalog: Catalog,
    table: Table,
    change: Change,
    *,
    address: str,
    rows: int,
    base_id: int | None,
    stamps: Stamps,
    gate: Gate | None,
    quarantine_name: str,
) -> StagedWrite:
    """Stage files that already exist (a quarantined write, for one) as a write on `base_id`, and run the gate.

    The files belong to another snapshot: whatever happens to this write, none of them is ever deleted.
    """
    started = time.perf_counter()
    report = gate.check(table, base_id, change, stamps) if gate is not None and not change.is_empty else None
    prepared = _Prepared(change, rows, written_paths=[])
    return StagedWrite(
        catalog, table, address, stamps.mode, stamps, gate, quarantine_name, prepared, base_id, report, started
    )


def stage_files(
    catalog: Catalog,
    table: Table,
    added: Sequence[DataFile],
    *,
    address: str,
    mode: str,
    rows: int,
    stamps: Stamps,
    gate: Gate | None,
    quarantine_name: str,
    where: str | None = None,
    primary_key: Sequence[str] = (),
    streamed: Any = None,
) -> StagedWrite:
    """Stage data files written elsewhere for this write (by distributed workers) as an append, overwrite, replace
    (`where`: the rows of `main`'s head they replace; the workers checked that every row they wrote matches it) or
    upsert (by `primary_key`: the keys are read back from the files, only those columns) on `main`'s head, and run
    the gate (`streamed`: what the gate's taps measured on the workers, joined). Unlike `stage_change`, the files
    belong to this write: a write that is not published deletes them."""
    started = time.perf_counter()
    _check_mode(mode, where, list(primary_key), address)
    if mode not in ("append", "overwrite", "replace", "upsert"):
        raise ValueError(f"mode={mode!r} is not supported for files written by workers")
    base_id = commit.main_head(table)
    base = table.metadata.snapshot_by_name(MAIN_BRANCH)
    files = tuple(added)
    if mode == "append":
        prepared = _Prepared(Change("append", files, new_rows=files), rows)
    elif mode == "overwrite":
        prepared = _overwrite(table, base, files, rows)
    elif mode == "upsert":
        keys = _keys_of(table, files, primary_key)
        try:
            _check_unique_keys(keys, primary_key, address)
        except ContractViolationError:
            _delete_files(table, [f.file_path for f in files])
            raise
        prepared = _upsert(rewrite_keys(table, base, keys), keys, files, rows)
    else:
        assert where is not None
        prepared = _replace(table, base, parse_filter(where, table), files, rows)
    prepared.written_paths = [*(f.file_path for f in files), *prepared.written_paths]
    report = _checked(gate, table, base_id, prepared, stamps, streamed)
    return StagedWrite(catalog, table, address, mode, stamps, gate, quarantine_name, prepared, base_id, report, started)


def stage_written_change(
    catalog: Catalog,
    table: Table,
    change: Change,
    *,
    address: str,
    mode: str,
    rows: int,
    base_id: int | None,
    stamps: Stamps,
    gate: Gate | None,
    quarantine_name: str,
    rows_deleted: int = 0,
    rows_updated: int = 0,
    written_paths: Sequence[str] = (),
    write_mode: str | None = None,
    streamed: Any = None,
) -> StagedWrite:
    """Stage a change whose files were all written elsewhere (a distributed upsert or delete: the workers wrote its
    data and position delete files) as a write on `base_id`, the snapshot the change was computed from, and run the
    gate. The files in `written_paths` belong to this write: a write that is not published deletes them; the commit
    rebases or raises `CommitConflictError` as a local write of the same change would."""
    started = time.perf_counter()
    change = _with_scoped_deletes_removed(table, base_id, change)
    prepared = _Prepared(change, rows, rows_deleted, rows_updated, list(written_paths), write_mode)
    report = _checked(gate, table, base_id, prepared, stamps, streamed)
    return StagedWrite(catalog, table, address, mode, stamps, gate, quarantine_name, prepared, base_id, report, started)


def _checked(
    gate: Gate | None, table: Table, base_id: int | None, prepared: _Prepared, stamps: Stamps, streamed: Any
) -> QualityReport | None:
    """The gate's report on the prepared change (None without a gate or a change), timed as the `gate` phase; a
    gate that raises deletes the write's files first."""
    if gate is None or prepared.change.is_empty:
        return None
    checking = time.perf_counter()
    try:
        report = gate.check(table, base_id, prepared.change, stamps, streamed=streamed)
    except BaseException:
        _delete_files(table, prepared.written_paths)
        raise
    prepared.phases["gate"] = time.perf_counter() - checking
    return report


def delete_rows(
    catalog: Catalog,
    table: Table,
    where: str | BooleanExpression,
    *,
    address: str,
    stamps: Stamps,
    gate: Gate | None,
    quarantine_name: str,
    write_mode: str = "copy-on-write",
) -> WriteResult:
    """Delete the rows matching `where` (as `write_mode` says), through the same gate as writes."""
    return write_port(
        catalog,
        table,
        None,
        address=address,
        mode="delete",
        where=where,
        primary_key=[],
        stamps=stamps,
        gate=gate,
        quarantine_name=quarantine_name,
        write_mode=write_mode,
    )


def _row_change_mode(table: Table, write_mode: str, address: str) -> str:
    """The row-change mode a write on `table` uses: `write_mode`, or copy-on-write where deletes cannot be held."""
    if write_mode not in ROW_CHANGE_MODES:
        raise WriteModeError(
            f"unknown write_mode {write_mode!r}; use one of {', '.join(ROW_CHANGE_MODES)}",
            address=address,
            write_mode=write_mode,
        )
    if write_mode != "copy-on-write" and table.metadata.format_version < 2:
        if write_mode == "merge-on-read":
            raise WriteModeError(
                f"write_mode='merge-on-read' needs an Iceberg format-version 2 table (this one is version "
                f"{table.metadata.format_version}, which cannot hold delete files); use write_mode='copy-on-write', "
                "or upgrade the table (pyiceberg: table.transaction().upgrade_table_version(2)). Nothing was written.",
                address=address,
                write_mode=write_mode,
            )
        return "copy-on-write"
    return write_mode


def _position_deletes(
    write_mode: str, find: Callable[[float | None], PositionDeletes | None]
) -> PositionDeletes | None:
    """The position deletes a merge-on-read change records, or None when it copies on write instead."""
    if write_mode == "copy-on-write":
        return None
    from meshlake.query.errors import UnsupportedScanError

    try:
        return find(AUTO_MAX_SHARE if write_mode == "auto" else None)
    except UnsupportedScanError:
        if write_mode == "merge-on-read":
            raise
        return None  # files read by name (imported without field ids): rewrite them


def _check_mode(mode: str, where: object, primary_key: list[str], address: str) -> None:
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
) -> _Prepared:
    """Write the files of a change; `tap` observes the rows written by an append or overwrite."""
    base = table.metadata.snapshot_by_name(MAIN_BRANCH)
    if mode == "delete":
        assert where is not None
        doomed = parse_filter(where, table)
        deletes = _position_deletes(write_mode, lambda limit: deletes_where(table, base, doomed, max_share=limit))
        if deletes is not None:
            change = Change(
                "overwrite",
                conflict_filter=doomed.prune,
                delete_files=deletes.delete_files,
                referenced=deletes.referenced,
            )
            paths = list(deletes.written_paths)
            return _Prepared(change, 0, deletes.rows_removed, written_paths=paths, write_mode="merge-on-read")
        rewrite = rewrite_where(table, base, doomed)
        change = Change("overwrite", rewrite.added, rewrite.deleted, conflict_filter=doomed.prune)
        return _Prepared(
            change, 0, rewrite.rows_removed, written_paths=list(rewrite.written_paths), write_mode="copy-on-write"
        )
    target = schema_to_pyarrow(table.schema(), include_field_ids=True)
    conformer = Conformer(target, address)
    reader = to_reader(data)
    conformer.check_schema(reader.schema)
    if mode == "upsert":
        return _prepare_upsert(table, conformer, reader, base, primary_key, address, write_mode)
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
        return _Prepared(Change("append", tuple(added), new_rows=tuple(added)), counter.rows, written_paths=paths)
    if mode == "overwrite":
        prepared = _overwrite(table, base, tuple(added), counter.rows)
        prepared.written_paths = paths
        return prepared
    assert replaced is not None
    try:
        prepared = _replace(table, base, replaced, tuple(added), counter.rows, write_mode)
    except BaseException:
        _delete_files(table, paths)
        raise
    prepared.written_paths = [*paths, *prepared.written_paths]
    return prepared


def _replace(
    table: Table,
    base: Any,
    replaced: RowFilter,
    added: tuple[DataFile, ...],
    rows: int,
    write_mode: str = "copy-on-write",
) -> _Prepared:
    """Remove the rows of `base` matching `replaced` (recorded as position deletes, or files rewritten without
    them) and add `added`."""
    deletes = _position_deletes(write_mode, lambda limit: deletes_where(table, base, replaced, max_share=limit))
    if deletes is not None:
        change = Change(
            "overwrite",
            added,
            (),
            replaced.prune,
            new_rows=added,
            delete_files=deletes.delete_files,
            referenced=deletes.referenced,
        )
        paths = list(deletes.written_paths)
        return _Prepared(change, rows, deletes.rows_removed, written_paths=paths, write_mode="merge-on-read")
    rewrite = rewrite_where(table, base, replaced)
    change = Change("overwrite", (*rewrite.added, *added), rewrite.deleted, replaced.prune, new_rows=added)
    paths = list(rewrite.written_paths)
    return _Prepared(change, rows, rewrite.rows_removed, written_paths=paths, write_mode="copy-on-write")


def _with_scoped_deletes_removed(table: Table, base_id: int | None, change: Change) -> Change:
    """`change` also removing the file-scoped position deletes of the data files it removes (a copy-on-write
    rewrite or an overwrite): once their file is gone they apply to nothing, and left in the snapshot they would
    be dangling records every reader plans. Removed in the same commit, as compaction does."""
    if base_id is None or not change.deleted:
        return change
    from meshlake.query.plan import cached_plan

    scoped = scoped_deletes(cached_plan(table, base_id), {f.file_path for f in change.deleted})
    if not scoped:
        return change
    return replace(change, removed_deletes=tuple(sorted({*change.removed_deletes, *scoped})))


def _overwrite(table: Table, base: Any, added: tuple[DataFile, ...], rows: int) -> _Prepared:
    """Replace every live file of `base` by `added`."""
    live = tuple(task.file for task in table.scan(snapshot_id=base.snapshot_id).plan_files()) if base else ()
    removed = sum(f.record_count for f in live)
    return _Prepared(Change("overwrite", added, live, AlwaysTrue(), new_rows=added), rows, removed)


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


def _prepare_upsert(
    table: Table,
    conformer: Conformer,
    reader: pa.RecordBatchReader,
    base: Any,
    primary_key: list[str],
    address: str,
    write_mode: str = "copy-on-write",
) -> _Prepared:
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
        presorted = _check_unique_keys(keys, primary_key, address, table.schema())
        phases["conform"] = time.perf_counter() - started
        found = _old_rows(table, base, keys, write_mode, snapshot_id, phases, presorted)
        conflict_filter = key_filter(keys)
    except BaseException:
        writing.exception()  # wait: its files exist only once it is done
        _delete_files(table, [*job.written_paths, *found.written_paths])
        raise
    try:
        added = writing.result()
    except BaseException:
        _delete_files(table, found.written_paths)
        raise
    deletes, staged = found.deletes, None
    if deletes is None:
        _delete_files(table, [m.manifest_path for m in job.manifests])  # copy-on-write: its commit writes its own
        assert found.rewrite is not None
        prepared = _upsert(found.rewrite, keys, added, rows.num_rows)
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
    prepared = _Prepared(change, rows.num_rows, 0, deletes.rows_removed, paths, "merge-on-read", phases)
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
    deletes = _position_deletes(
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
            _delete_files(table, list(deletes.written_paths))
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


def _check_unique_keys(
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


def _upsert(rewrite: Rewrite, keys: pa.Table, added: tuple[DataFile, ...], rows: int) -> _Prepared:
    """Add `added` and rewrite the base files holding any of `keys` without those rows (counted as updated)."""
    change = Change("overwrite", (*rewrite.added, *added), rewrite.deleted, key_filter(keys), new_rows=added)
    return _Prepared(change, rows, 0, rewrite.rows_removed, written_paths=list(rewrite.written_paths))


def _keys_of(table: Table, files: Sequence[DataFile], primary_key: Sequence[str]) -> pa.Table:
    """The primary-key columns of the rows in `files` (written by meshlake: columns named as in the schema)."""
    import pyarrow.parquet as pq

    target = schema_to_pyarrow(table.schema(), include_field_ids=False)
    key_schema = pa.schema([target.field(name) for name in primary_key])
    parts = []
    for file in files:
        with table.io.new_input(file.file_path).open() as stream:
            parts.append(pq.read_table(stream, columns=list(primary_key)).cast(key_schema))
    return pa.concat_tables(parts) if parts else key_schema.empty_table()


def _commit_loop(
    catalog: Catalog,
    table: Table,
    change: Change,
    base_id: int | None,
    *,
    stamps: Stamps,
    gate: Gate | None,
    quarantine_name: str,
    stats: commit.CommitStats | None = None,
    first_report: QualityReport | None = None,
    rebase_check: RebaseCheck | None = None,
) -> tuple[Table, int, QualityReport | None, int]:
    """Check the staged change, then commit it as `main`'s next snapshot with the verdict stamped on it.

    A failed check commits the staged snapshot to a quarantine branch instead. When `main` moved,
    the change is rebased (if nothing it depends on was touched) and checked again. `first_report` is the
    check already run on `base_id` (by `stage_write`).
    """
    rebases = 0
    report = first_report
    while True:
        if gate is not None and (report is None or rebases):
            report = gate.check(table, base_id, change, stamps)
            faults.reached("checked", table.name())
        properties = stamps.properties(quality=verdict(report))
        if gate is not None and report is not None and not report.passed:
            table, kept = commit.commit_snapshot(
                catalog, table, change, branch=quarantine_name, base_id=base_id, properties=properties, stats=stats
            )
            report = gate.record(report, kept, published=False)
            raise QualityGateError(stamps_address(table), report, quarantine_branch=quarantine_name)
        try:
            table, snapshot_id = commit.commit_snapshot(
                catalog, table, change, branch=MAIN_BRANCH, base_id=base_id, properties=properties, stats=stats
            )
        except MainMovedError as moved:
            table = moved.table
            try:
                commit.check_rebase(table, change, old_base=base_id, new_head=moved.head)
            except RebaseConflictError as conflict:
                raise CommitConflictError(
                    f"a concurrent commit changed data this {stamps.mode} replaces ({conflict}).",
                    address=stamps_address(table),
                ) from conflict
            if rebase_check is not None:
                rebase_check(table, base_id, moved.head)
            base_id = moved.head
            rebases += 1
            continue
        if gate is not None and report is not None:
            report = gate.record(report, snapshot_id, published=True)
        return table, snapshot_id, report, rebases


def verdict(report: QualityReport | None) -> str | None:
    """The `meshlake.quality` stamp: a compact JSON verdict (the full report is in the quality history).

    A passed report of the native engine also carries its `basis` (`fingerprint`, `rows`, `aggregates`):
    what the next append's check builds on instead of re-reading this snapshot.
    """
    if report is None:
        return None
    failed = [result.expectation for result in report.results if result.blocking]
    stamp = {
        "verdict": "passed" if report.passed else "failed",
        "engine": report.engine,
        "expectations": len(report.results),
        "failed": failed,
    }
    warned = [result.expectation for result in report.results if not result.success and not result.blocking]
    if warned:
        stamp["warned"] = warned
    if report.passed and report.basis:
        stamp |= report.basis
    return json.dumps(stamp, separators=(",", ":"), default=str)


def stamps_address(table: Table) -> str:
    return ".".join(table.name())


class _RowCounter:
    def __init__(self) -> None:
        self.rows = 0

    def count(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            self.rows += batch.num_rows
            yield batch


def only_matching(batches: Iterator[pa.RecordBatch], where: RowFilter, address: str) -> Iterator[pa.RecordBatch]:
    """`batches`, raising `ContractViolationError` at the first row outside `where` (mode='replace')."""
    import pyarrow.compute as pc

    for batch in batches:
        matching = int(pc.sum(where.matches(pa.Table.from_batches([batch]))).as_py() or 0)
        if matching != batch.num_rows:
            raise ContractViolationError(
                f"{address}: {batch.num_rows - matching} row(s) of the data fall outside where={shown(where.text)}; "
                "mode='replace' only writes rows inside the replaced range. Nothing was written.",
                address=address,
            )
        yield batch


def _delete_files(table: Table, paths: list[str]) -> None:
    for path in paths:
        try:
            table.io.delete(path)
        except Exception:
            continue
