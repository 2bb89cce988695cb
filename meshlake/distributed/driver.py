"""The driver's side of a distributed write: prepare it, then gate and commit what the workers wrote, or clean up.

`DistributedWrite` is made on the driver before any worker starts: it checks that the caller may write the
port and the mode, stamps the write (run id, writer, product version, extra stamps) and hands workers a
`WorkerSpec`. When every worker is done, `commit` stages their files as one append, overwrite or replace (the
rows of `main`'s head matching `where` are rewritten away on the driver) or upsert (the written keys are read back
from the staged files, one column each, and the base rows holding them rewritten away) of `main`'s head,
runs the port's quality gate over the staged files in place (DuckDB reads them from storage: the driver never
holds the data; the aggregates that merge were measured by the workers while they wrote, and are merged from their
partials, `meshlake.quality.metrics`; the uniqueness checks of a large write, in any mode, are counted on the
engine over the staged snapshot, `meshlake.distributed.unique`, `unique_on_engine`) and publishes one stamped
snapshot, or quarantines it (`QualityGateError`).
`abort` deletes every file of the write, found by its name prefix under the table's data folder, whichever worker
wrote it.

Keyed writes (upsert, and delete by key or `where`) of a port whose old rows can be removed by position deletes
(format v2, `write_mode` merge-on-read or auto) run their join on the engine (`meshlake.distributed.keyed`): only
counts, the keys' range and the delete files' metadata come back, and the driver commits data and delete files in
one gated snapshot on the snapshot pinned when the write started (a file removed or rewritten meanwhile: rebase or
`CommitConflictError`). A format-version-1 table or a copy-on-write port falls back to the driver's copy-on-write
path, and the result says why (`WriteResult.fallback`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from pyiceberg.manifest import DataFile

from meshlake.distributed.keyed import BROADCAST_KEYS, FILES_PER_TASK, KeyedPlan, KeyedSpec, KeyEngine
from meshlake.distributed.staging import Share, WorkerSpec
from meshlake.errors import ContractViolationError, WriteModeError
from meshlake.write.commit import QUARANTINE_PREFIX, Change, ReplacedKeys, main_head
from meshlake.write.gate_protocol import Gate
from meshlake.write.modes import ROW_CHANGE_MODES
from meshlake.write.prewritten import stage_files, stage_written_change
from meshlake.write.results import StagedWrite, WriteResult
from meshlake.write.row_changes import AUTO_MAX_SHARE

if TYPE_CHECKING:
    from pyiceberg.expressions import BooleanExpression
    from pyiceberg.table import Table

    from meshlake.port import Port
    from meshlake.write.positions import PositionDeletes

MODES = ("append", "overwrite", "replace", "upsert", "delete")
"""The modes a distributed write supports (a delete writes no rows: `port.write_daft(keys, mode="delete")`)."""
SINK_MODES = ("append", "overwrite", "replace", "upsert")
"""The modes of the engines' sinks (`port.daft_sink`, `port.ray_sink`)."""


class DistributedWrite:
    """One distributed write of a port (see the module docstring)."""

    def __init__(
        self,
        port: Port,
        *,
        mode: str = "append",
        where: str | None = None,
        run_id: str | None = None,
        writer: str | None = None,
        stamps: dict[str, str] | None = None,
        write_mode: str | None = None,
        unique_on_engine: Any = "auto",
    ) -> None:
        from meshlake.distributed.unique import check_option

        port._check_write("delete" if mode == "delete" else "write")
        self.unique_on_engine = check_option(str(port.address), unique_on_engine)
        if mode not in MODES:
            raise ValueError(
                f"a distributed write of {port.address} supports mode {' or '.join(repr(m) for m in MODES)}, "
                f"not {mode!r}; write other modes with port.write()"
            )
        takes_where = ("replace", "delete") if where is not None else ("append", "overwrite", "upsert", "delete")
        if not isinstance(where, str | None) or mode not in takes_where:
            raise ValueError(
                f"a distributed write of {port.address} takes where='…' (meshlake's filter text) with mode='replace' "
                "(required) or mode='delete', and only then"
            )
        if mode in ("upsert", "delete") and where is None and not port.contract.primary_key:
            raise ContractViolationError(
                f"{port.address}: {mode} by key needs a primary_key in the port's contract; add one to "
                "dataproduct.yaml and deploy" + (", or delete with where='…'" if mode == "delete" else ""),
                address=str(port.address),
            )
        self.port = port
        self.mode = mode
        self.stamps = port._stamps(mode, None, run_id, writer, stamps)
        table = port.table()
        if where is not None:
            from meshlake.write.rowfilter import row_filter

            row_filter(where, table.schema())  # InvalidFilterError now, before any worker starts
        self.base_id = main_head(table)
        """The snapshot the write started from: a keyed write's join reads it, and its commit is based on it."""
        self.row_changes, self.fallback = _row_changes(table, mode, write_mode or port.contract.write_mode, port)
        gate = port.lake._gate_for(port)
        self.spec = WorkerSpec(
            str(port.address),
            table.metadata,
            dict(table.io.properties),
            self.stamps.run_id,
            where=where if mode == "replace" else None,
            metrics=gate.metric_plan(table, mode) if gate is not None and mode != "delete" else None,
        )
        self.where = where
        self.keyed = KeyedSpec(
            self.spec.address,
            table.metadata,
            self.spec.io_properties,
            self.spec.file_prefix,
            tuple(port.contract.primary_key),
        )
        self.result: WriteResult | None = None
        self.worker_phases: dict[str, float] = {}
        """The workers' phases added up over every sink call (`Share.phases`), added to the result's `phases`."""

    @property
    def on_engine(self) -> bool:
        """Whether this write's old rows are found on the engine and recorded as position deletes."""
        return self.mode in ("upsert", "delete") and self.fallback is None

    def check_schema(self, schema: pa.Schema) -> None:
        """Refuse, before any worker starts, data whose columns do not fit the contract (`ContractViolationError`);
        for a delete by key, a frame without the key columns or with types they cannot take."""
        if self.mode != "delete":
            self.spec.conformer().check_schema(schema)
            return
        from meshlake.write.ingest import Conformer

        for name in self.keyed.primary_key:
            if name not in schema.names:
                raise ContractViolationError(
                    f"{self.spec.address}: a delete by key needs the primary-key column {name!r} in the frame (it has "
                    f"{', '.join(schema.names) or 'no columns'}). Nothing was deleted.",
                    address=self.spec.address,
                    column=name,
                )
        target = self.spec.target()
        keys = self.keyed.primary_key
        Conformer(pa.schema([target.field(n) for n in keys]), self.spec.address).check_schema(
            pa.schema([schema.field(n) for n in keys])
        )

    def commit(
        self,
        files: Sequence[DataFile],
        rows: int,
        shares: Sequence[Share] | None = None,
        engine: KeyEngine | None = None,
    ) -> WriteResult:
        """Gate the workers' files and publish them as one snapshot (or quarantine them: `QualityGateError`);
        `shares`: what each worker returned, whose partials the gate merges; `engine`: where an upsert's join runs
        (without one, the driver's copy-on-write path)."""
        from meshlake.quality.metrics import MetricPartials
        from meshlake.write.phases import added_up

        self.worker_phases = added_up(share.phases for share in shares or ())
        streamed = MetricPartials.join([share.partials for share in shares]) if shares else None
        if self.mode == "upsert" and self.on_engine:
            if engine is None:
                self.fallback = "no engine was given to run the upsert join: the old rows were rewritten on the driver"
            else:
                staged = self._stage_keyed_upsert(engine, files, rows, streamed)
                if staged is not None:
                    return self._publish(staged)
        lake = self.port.lake
        gate = self._gate(engine)
        table = self.port.table()
        staged = stage_files(
            lake.catalog,
            table,
            files,
            address=self.spec.address,
            mode=self.mode,
            rows=rows,
            stamps=self.stamps,
            gate=gate,
            quarantine_name=f"{QUARANTINE_PREFIX}{self.stamps.run_id}",
            where=self.spec.where,
            primary_key=list(self.port.contract.primary_key),
            streamed=streamed,
        )
        if self.mode in ("upsert", "replace"):
            staged.prepared.write_mode = "copy-on-write"  # the driver rewrites the files holding old rows
        return self._publish(staged)

    def _gate(self, engine: KeyEngine | None) -> Gate | None:
        """The port's gate; with an engine, its uniqueness checks of large writes are counted there
        (`meshlake.distributed.unique`, `unique_on_engine`), whatever the mode."""
        from meshlake.distributed.unique import EngineKeyCounter
        from meshlake.quality.gate import PortGate

        gate = self.port.lake._gate_for(self.port)
        if isinstance(gate, PortGate) and engine is not None:
            gate.count_keys = EngineKeyCounter(self.port, self.keyed, engine, self.unique_on_engine, self.abort)
        return gate

    def delete(self, engine: KeyEngine, frame: Any = None) -> WriteResult:
        """Remove the rows whose primary key is in `frame` (or, without one, the rows matching `where`) in one
        gated snapshot: position deletes written on the engine, or the driver's copy-on-write (`fallback`)."""
        if (frame is None) == (self.where is None):
            raise ValueError(
                f"a distributed delete of {self.spec.address} takes a frame of keys or where='…', exactly one of them"
            )
        table = self.port.table()
        if not self.on_engine:
            return self._publish(self._stage_driver_delete(engine, table, frame))
        from meshlake.write.rewrite import key_filter
        from meshlake.write.rowfilter import row_filter

        conflict: BooleanExpression | None
        found: PositionDeletes
        try:
            if self.where is not None:
                doomed = row_filter(self.where, table.schema())
                plan = KeyedPlan.of(table, self.base_id, doomed.prune, None)
                written = engine.where_deletes(self.keyed, plan, self.where) if plan.chunks else None
                found = plan.deletes(written) if written is not None else _nothing()
                conflict = doomed.prune
            else:
                keys, stats = engine.stats(self.keyed, engine.frame_keys(self.keyed, frame))
                found = self._join(engine, table, keys, stats)
                conflict = key_filter(stats.bounds(self.keyed.key_schema())) if stats.rows else None
            deletes = self._auto(table, found)
        except BaseException:
            self.abort()
            raise
        if deletes is None:
            return self._publish(self._stage_driver_delete(engine, table, frame))
        change = Change(
            "overwrite", conflict_filter=conflict, delete_files=deletes.delete_files, referenced=deletes.referenced
        )
        return self._publish(self._stage(engine, table, change, 0, deletes, rows_deleted=deletes.rows_removed))

    def _stage_keyed_upsert(
        self, engine: KeyEngine, files: Sequence[DataFile], rows: int, streamed: Any
    ) -> StagedWrite | None:
        """The upsert's change with its join run on the engine; None when it copies on write after all (auto)."""
        from meshlake.write.rewrite import key_filter

        table = self.port.table()
        paths = [f.file_path for f in files]
        try:
            chunks = [paths[i : i + FILES_PER_TASK] for i in range(0, len(paths), FILES_PER_TASK)]
            keys, stats = engine.stats(self.keyed, engine.staged_keys(self.keyed, chunks))
            stats.check_unique(self.spec.address, self.keyed.primary_key)
            deletes = self._auto(table, self._join(engine, table, keys, stats))
        except BaseException:
            self.abort()
            raise
        if deletes is None:
            return None
        added = tuple(files)
        conflict = key_filter(stats.bounds(self.keyed.key_schema())) if stats.rows else None
        change = Change(
            "overwrite",
            added,
            (),
            conflict,
            new_rows=added,
            delete_files=deletes.delete_files,
            referenced=deletes.referenced,
            # what the join established, as a local merge-on-read upsert's lookup: every live row of the base
            # holding a new key is deleted, and the new keys are unique (the gate derives the key's uniqueness)
            replaced_keys=ReplacedKeys(self.keyed.primary_key, self.base_id, deletes.rows_removed)
            if self.base_id is not None
            else None,
        )
        return self._stage(
            engine, table, change, rows, deletes, rows_updated=deletes.rows_removed, written=paths, streamed=streamed
        )

    def _join(self, engine: KeyEngine, table: Table, keys: Any, stats: Any) -> PositionDeletes:
        """Position deletes for the live rows of the pinned snapshot whose key is in `keys` (written on the engine)."""
        from meshlake.write.rewrite import key_filter

        if not stats.rows:
            return _nothing()
        bounds = stats.bounds(self.keyed.key_schema())
        plan = KeyedPlan.of(table, self.base_id, key_filter(bounds), self.keyed.primary_key)
        if not plan.chunks:
            return _nothing()
        return plan.deletes(engine.join_deletes(self.keyed, keys, plan, stats.rows <= BROADCAST_KEYS))

    def _auto(self, table: Table, deletes: PositionDeletes) -> PositionDeletes | None:
        """`deletes`, or None (their files deleted) when `write_mode: auto` copies on write instead: the removed rows
        are `AUTO_MAX_SHARE` or more of the rows of the files holding them."""
        if self.row_changes != "auto" or deletes.rows_removed < AUTO_MAX_SHARE * deletes.rows_touched:
            return deletes
        for path in deletes.written_paths:
            table.io.delete(path)
        self.fallback = (
            f"write_mode auto: the removed rows are {deletes.rows_removed} of the {deletes.rows_touched} rows of the "
            f"files holding them (at least {AUTO_MAX_SHARE:.0%}): those files were rewritten (copy-on-write) on the "
            "driver"
        )
        return None

    def _stage(
        self,
        engine: KeyEngine,
        table: Table,
        change: Change,
        rows: int,
        deletes: PositionDeletes,
        *,
        rows_deleted: int = 0,
        rows_updated: int = 0,
        written: Sequence[str] = (),
        streamed: Any = None,
    ) -> StagedWrite:
        lake = self.port.lake
        return stage_written_change(
            lake.catalog,
            table,
            change,
            address=self.spec.address,
            mode=self.mode,
            rows=rows,
            base_id=self.base_id,
            stamps=self.stamps,
            gate=self._gate(engine),
            quarantine_name=f"{QUARANTINE_PREFIX}{self.stamps.run_id}",
            rows_deleted=rows_deleted,
            rows_updated=rows_updated,
            written_paths=[*written, *deletes.written_paths],
            write_mode="merge-on-read",
            streamed=streamed,
        )

    def _stage_driver_delete(self, engine: KeyEngine, table: Table, frame: Any) -> StagedWrite:
        """The delete as the driver's copy-on-write runs it (the keys are collected to the driver)."""
        lake = self.port.lake
        gate = self._gate(engine)
        quarantine = f"{QUARANTINE_PREFIX}{self.stamps.run_id}"
        if self.where is not None:
            from meshlake.write.flow import stage_write

            return stage_write(
                lake.catalog,
                table,
                None,
                address=self.spec.address,
                mode="delete",
                where=self.where,
                primary_key=[],
                stamps=self.stamps,
                gate=gate,
                quarantine_name=quarantine,
                write_mode="copy-on-write",
            )
        from meshlake.catalog.metadata import snapshot_by_id
        from meshlake.write.rewrite import key_filter, rewrite_keys

        keys = engine.collect(engine.frame_keys(self.keyed, frame))
        rewrite = rewrite_keys(table, snapshot_by_id(table.metadata, self.base_id), keys)
        change = Change("overwrite", rewrite.added, rewrite.deleted, key_filter(keys) if keys.num_rows else None)
        return stage_written_change(
            lake.catalog,
            table,
            change,
            address=self.spec.address,
            mode="delete",
            rows=0,
            base_id=self.base_id,
            stamps=self.stamps,
            gate=gate,
            quarantine_name=quarantine,
            rows_deleted=rewrite.rows_removed,
            written_paths=rewrite.written_paths,
            write_mode="copy-on-write",
        )

    def _publish(self, staged: StagedWrite) -> WriteResult:
        published = self.port.publish(staged)
        phases = {**published.phases, **self.worker_phases}
        self.result = replace(published, fallback=self.fallback, phases=phases)
        return self.result

    def abort(self, settle_seconds: float = 0.5, at_most_seconds: float = 30.0) -> list[str]:
        """Delete every data file of this write that exists (workers' finished and unfinished files alike).

        An engine reports the first failed task while its other tasks may still be writing: the files are listed
        and deleted again until a listing `settle_seconds` after the last deletion finds none of this write's
        (for at most `at_most_seconds`), so a file a late task finishes is not left behind."""
        import time

        from meshlake.maintenance.storage import Storage

        table = self.port.table()
        data = f"{table.metadata.location.rstrip('/')}/data"
        storage = Storage(table.io, data)
        deleted: list[str] = []
        deadline = time.monotonic() + at_most_seconds
        waited = False
        while True:
            doomed = [f for f in storage.list(data) if f.key.rsplit("/", 1)[-1].startswith(self.spec.file_prefix)]
            for found in doomed:
                storage.delete(found.key)
            deleted += [found.location for found in doomed]
            if (waited and not doomed) or time.monotonic() > deadline:
                break
            time.sleep(settle_seconds)
            waited = True
        return deleted


def _row_changes(table: Table, mode: str, write_mode: str, port: Port) -> tuple[str, str | None]:
    """How a keyed write removes old rows, and why it runs on the driver (None: it runs on the engine)."""
    if mode not in ("upsert", "delete"):
        return "", None
    if write_mode not in ROW_CHANGE_MODES:
        raise WriteModeError(
            f"unknown write_mode {write_mode!r}; use one of {', '.join(ROW_CHANGE_MODES)}",
            address=str(port.address),
            write_mode=write_mode,
        )
    if table.metadata.format_version < 2:
        return "copy-on-write", (
            f"the table is Iceberg format version {table.metadata.format_version}, which cannot hold position "
            "deletes: the old rows were rewritten (copy-on-write) on the driver"
        )
    if write_mode == "copy-on-write":
        return "copy-on-write", (
            "the write_mode is copy-on-write: the files holding old rows were rewritten on the driver "
            "(merge-on-read or auto runs the join on the engine)"
        )
    return write_mode, None


def _nothing() -> PositionDeletes:
    from meshlake.write.positions import NOTHING

    return NOTHING
