"""`Port`: one output port — write it, read it at any point in its history, tag and roll it back."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pyiceberg.expressions import BooleanExpression
from pyiceberg.table import Table
from pyiceberg.table.refs import MAIN_BRANCH, SnapshotRefType

from meshlake.contract.address import Address, Ref, validate_ref_name
from meshlake.contract.autocompact import auto_compact_setting
from meshlake.contract.descriptor import Descriptor, OutputPort
from meshlake.contract.stamps import Stamps, default_writer, new_run_id, user_stamps
from meshlake.errors import CommitConflictError, InvalidNameError, QualityGateError, SnapshotNotFoundError, require
from meshlake.query.history import History, port_history
from meshlake.snapshot import PortSnapshot
from meshlake.write.commit import QUARANTINE_PREFIX
from meshlake.write.flow import discard, publish, stage_write
from meshlake.write.modes import RowChangeMode, WriteMode
from meshlake.write.results import StagedWrite, WriteResult

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import pandas
    import polars
    import pyarrow as pa

    from meshlake.access.enforce import PortReader
    from meshlake.lake import Lake
    from meshlake.lifecycle.diff import Diff
    from meshlake.maintenance.maintain import MaintenanceReport
    from meshlake.quality.quarantine import Quarantine
    from meshlake.quality.report import ExpectationResult, QualityReport
    from meshlake.quality.slo import SloReport
    from meshlake.streams.consume import BatchResult, StreamReport
    from meshlake.streams.serve import ServeReport, StreamSink
    from meshlake.streams.source import Position, StreamSource
    from meshlake.write.results import RebaseCheck


class Port:
    """An output port `domain.product.port`; a thin handle, the table is loaded per operation."""

    def __init__(self, lake: Lake, address: Address, descriptor: Descriptor) -> None:
        self.lake = lake
        self.address = address.unpinned
        self.descriptor = descriptor
        self.contract: OutputPort = descriptor.output(address.port)

    def __repr__(self) -> str:
        return f"Port({self.address})"

    @property
    def name(self) -> str:
        return str(self.address)

    def table(self) -> Table:
        """The pyiceberg table behind this port, freshly loaded (`BrokenProductError` if it cannot be read,
        `AccessDeniedError` if the object store refuses the caller's storage credentials)."""
        from meshlake.contract.registry import load_port_table

        return load_port_table(self.lake.catalog, self.address, principal=str(self.lake.principal))

    # -- writing ----------------------------------------------------------------------------------
    def write(
        self,
        data: Any,
        *,
        mode: WriteMode = "append",
        where: str | BooleanExpression | None = None,
        inputs: Mapping[str, int] | None = None,
        run_id: str | None = None,
        writer: str | None = None,
        stamps: Mapping[str, str] | None = None,
        rebase_check: RebaseCheck | None = None,
        write_mode: RowChangeMode | None = None,
    ) -> WriteResult:
        """Write `data` (anything that exports Arrow) as one checked snapshot.

        Modes: "append", "overwrite" (replace everything), "replace" (rows matching `where`),
        "upsert" (by primary key). Columns are cast to the contract only when no value can change
        (int → long, int → decimal with room, float → double, a float → decimal that reads back the
        same, nested fields by name); anything else raises `ContractViolationError` naming the column
        path (`st.a`, `items[].price`), both types and an example value. Raises `QualityGateError`
        when expectations fail, `CommitConflictError` when a concurrent commit makes the write unsafe;
        in every case `main` does not change. `inputs` (address → snapshot id read) and extra
        `stamps` land in the snapshot summary under `meshlake.` (a stamp named with that prefix, or naming one
        of meshlake's own stamps such as `quality`, raises `InvalidNameError`).

        `where` is a SQL condition in meshlake's filter grammar (see `delete`), or a pyiceberg
        `BooleanExpression`. `write_mode` overrides the port's `write_mode` for this write: how "upsert" and
        "replace" remove old rows ("copy-on-write" rewrites their files, "merge-on-read" records them in position
        delete files, "auto" chooses per write; docs/write-modes.md). `WriteModeError` for merge-on-read on a
        format-version-1 table.
        In a lake with a mesh policy only the product's owners and the mesh admins write
        (`AccessDeniedError` otherwise). Once a partition holds the port's `auto_compact.min_files` small files, the
        write compacts them after its commit (`WriteResult.auto_compaction`; docs/write-modes.md); a malformed
        `meshlake.auto-compact.*` table property is a `ConfigError` before anything is written.
        """
        self._check_write("write")
        staged = self.stage(
            data,
            mode=mode,
            where=where,
            inputs=inputs,
            run_id=run_id,
            writer=writer,
            stamps=stamps,
            rebase_check=rebase_check,
            write_mode=write_mode,
        )
        return self.publish(staged)

    def stage(
        self,
        data: Any,
        *,
        mode: WriteMode = "append",
        where: str | BooleanExpression | None = None,
        inputs: Mapping[str, int] | None = None,
        run_id: str | None = None,
        writer: str | None = None,
        stamps: Mapping[str, str] | None = None,
        rebase_check: RebaseCheck | None = None,
        write_mode: RowChangeMode | None = None,
    ) -> StagedWrite:
        """The first half of `write`: write the files and run the gate, publishing nothing.

        Then `publish(staged)` commits it (or quarantines it when `staged.passed` is False), or
        `discard(staged)` drops its files. Pipelines stage every output before publishing any.
        `rebase_check(table, old_base, new_head)` is called before the write is re-applied on a `main`
        that moved; raising `CommitConflictError` there stops it.
        """
        self._check_write("stage")
        if inputs:
            self.lake.governance_gate_runtime(self.descriptor, point="write", inputs=list(inputs))
        stamps_ = self._stamps(mode, inputs, run_id, writer, stamps)
        table = self.table()
        auto_compact_setting(table.properties)  # a malformed setting is refused before anything is written
        return stage_write(
            self.lake.catalog,
            table,
            data,
            address=str(self.address),
            mode=mode,
            where=where,
            primary_key=list(self.contract.primary_key),
            stamps=stamps_,
            gate=self.lake._gate_for(self),
            quarantine_name=f"{QUARANTINE_PREFIX}{stamps_.run_id}",
            rebase_check=rebase_check,
            write_mode=write_mode or self.contract.write_mode,
        )

    def publish(self, staged: StagedWrite) -> WriteResult:
        """Commit a staged write: to `main` if it passed its gate, else to quarantine (raising QualityGateError)."""
        self._check_write("publish")
        try:
            result = publish(staged)
        except QualityGateError:
            self._expire_quarantine()
            raise
        return self.compacted_after(staged, result)

    def compacted_after(self, staged: StagedWrite, result: WriteResult) -> WriteResult:
        """`result` with the automatic compaction that ran after it, if the port's setting made one due: every
        write path that commits a data change onto `main` (`publish`, so `write`, `delete` and the distributed
        sinks; a quarantined write's release) calls it after its commit. It never raises (docs/write-modes.md)."""
        if staged.committed is None or not result.changed:
            return result
        from dataclasses import replace

        from meshlake.maintenance.auto_compact import after_write

        done = after_write(
            self.lake.catalog, staged.committed, product_version=self.descriptor.version, run_id=new_run_id()
        )
        if done is None:
            return result
        return replace(result, auto_compaction=done, phases={**result.phases, "auto compact": done["seconds"]})

    def daft_sink(self, *, mode: str = "append", **options: Any) -> Any:
        """A Daft `DataSink` writing this port through its gate: `df.write_sink(port.daft_sink(mode="append"))`.

        Workers conform and write Parquet files; the driver gates them and commits one stamped snapshot (or
        quarantines it). Modes: "append", "overwrite", "replace" (with `where=`), "upsert". Prefer `write_daft`,
        which also cleans up after a failure.
        Needs `meshlake[daft]`; see `meshlake.distributed`.
        """
        require("daft", extra="daft", feature="port.daft_sink()")
        from meshlake.distributed.daft_sink import daft_sink

        return daft_sink(self, mode=mode, **options)

    def write_daft(self, frame: Any, *, mode: str = "append", **options: Any) -> WriteResult:
        """Write a Daft DataFrame as one checked snapshot, in parallel on Daft's workers (on Ray or locally).

        The frame's schema is checked on the driver first; a worker whose rows break the contract stops the
        write, every file it left is deleted, and meshlake's own error is raised (`ContractViolationError`,
        `QualityGateError` …). `mode`: "append", "overwrite", "upsert" (by primary key) or "replace" (`where=`:
        meshlake's filter text; every row written must match it, as for `write`), or "delete" (the rows whose
        primary key is in `frame`, or with `frame=None` those matching `where=`); `run_id`, `writer`, `stamps`,
        `write_mode` as for `write`. `unique_on_engine` ("auto", True, False): where the write's (any mode's)
        uniqueness expectations are counted, by a shuffle by key on the engine or on the driver ("auto": on the
        engine above `meshlake.distributed.unique.ENGINE_ROWS`, 100 M rows). An upsert's join and a delete run on
        Daft's workers as position deletes when the port's `write_mode` allows merge-on-read (`result.fallback`
        says why one ran on the driver instead).
        """
        require("daft", extra="daft", feature="port.write_daft()")
        from meshlake.distributed.daft_sink import write_daft

        return write_daft(self, frame, mode=mode, **options)

    def ray_sink(self, *, mode: str = "append", **options: Any) -> Any:
        """A Ray Data `Datasink` writing this port through its gate: `ds.write_datasink(port.ray_sink())`."""
        require("ray", extra="ray", feature="port.ray_sink()")
        from meshlake.distributed.ray_sink import ray_sink

        return ray_sink(self, mode=mode, **options)

    def write_ray(self, dataset: Any, *, mode: str = "append", **options: Any) -> WriteResult:
        """Write a Ray Dataset as one checked snapshot (as `write_daft`, for Ray Data)."""
        require("ray", extra="ray", feature="port.write_ray()")
        from meshlake.distributed.ray_sink import write_ray

        return write_ray(self, dataset, mode=mode, **options)

    @staticmethod
    def discard(staged: StagedWrite) -> None:
        """Drop a staged write without publishing it (its files are deleted)."""
        discard(staged)

    def delete(
        self,
        where: str | BooleanExpression,
        *,
        run_id: str | None = None,
        writer: str | None = None,
        write_mode: RowChangeMode | None = None,
    ) -> WriteResult:
        """Delete the rows matching `where` (e.g. `"shipped_at < '2026-01-01T00:00:00+00:00'"`).

        `where` is a SQL condition on the port's top-level columns, meaning exactly what it means in
        SQL (and DuckDB): `col op literal` with `= == != <> < <= > >=` (the literal may come first),
        `col [NOT] IN (…)`, `col [NOT] BETWEEN a AND b`, `col [NOT] LIKE 'p' [ESCAPE 'c']` (`%` any run,
        `_` one character, case-sensitive, no escape character unless ESCAPE), `col IS [NOT] NULL`,
        combined with AND, OR, NOT and parentheses. Literals: `'text'` (`''` for a quote), numbers,
        TRUE/FALSE, `DATE '…'`, `TIMESTAMP '…'`, `TIMESTAMPTZ '…'` or a quoted date/time; each must
        fit its column's type (a timestamptz needs a zone). A comparison with NULL selects nothing.
        Anything else raises `InvalidFilterError` showing the part it could not read (a pyiceberg
        `BooleanExpression` is accepted too). Nothing is deleted unless the filter parses. `write_mode` overrides
        the port's: "merge-on-read" records the rows in position delete files instead of rewriting their files.
        Like `write`, a delete that leaves a partition with the port's `auto_compact.min_files` small files of one size
        class compacts them after its commit (`WriteResult.auto_compaction`).
        """
        self._check_write("delete")
        stamps = self._stamps("delete", None, run_id, writer)
        table = self.table()
        auto_compact_setting(table.properties)  # a malformed setting is refused before anything is written
        staged = stage_write(
            self.lake.catalog,
            table,
            None,
            address=str(self.address),
            mode="delete",
            where=where,
            primary_key=[],
            stamps=stamps,
            gate=self.lake._gate_for(self),
            quarantine_name=f"{QUARANTINE_PREFIX}{stamps.run_id}",
            write_mode=write_mode or self.contract.write_mode,
        )
        return self.publish(staged)

    def stream(
        self,
        source: StreamSource,
        *,
        max_rows: int = 10_000,
        max_bytes: int = 64 << 20,
        max_wait: float = 1.0,
        max_batches: int | None = None,
        idle: float | None = None,
        retry_for: float = 30.0,
        start: Mapping[str, Position] | None = None,
        on_batch: Callable[[BatchResult], None] | None = None,
        serve: StreamSink | None = None,
        compact_every: float | None = None,
    ) -> StreamReport:
        """Consume `source` in micro-batches, each conformed, gated and committed as one snapshot.

        A batch closes at `max_rows` messages, `max_bytes` bytes or `max_wait` seconds after its first
        message; the loop ends after `max_batches` batches or `idle` seconds without a message (both None:
        it runs until interrupted). Each snapshot's summary carries `meshlake.stream.<source_id>`, the next
        offsets per partition, and consuming resumes from there (never from the broker's acknowledgements),
        so rows land exactly once whatever crashes. Messages that are not rows of the contract go to
        `meshlake.system.stream_rejects` with their offsets; a batch that fails the gate is quarantined with
        its offsets, then the port's `stream: {on_failure: stop|skip}` decides (`StreamStoppedError` on stop).
        Refused: a source id recorded for another stream (`StreamSourceMismatchError`), offsets the broker
        no longer holds (`StreamGapError`; pass `start=` to accept a gap), a broker unreachable for
        `retry_for` seconds (`StreamSourceUnavailableError`). With a `serve` sink (the port must declare
        `serve: [table, stream]`), each committed snapshot's rows are published to it as well (`serve_stream`).
        `compact_every` (seconds) compacts the port's small files meanwhile, so queries do not slow down as
        the stream ages (never rewriting a batch before it lands): a worker process reads and rewrites them and
        this process commits them (`MESHLAKE_STREAM_COMPACTION=thread`: all in a thread of this process).
        See docs/streaming.md.
        """
        from meshlake.streams.consume import Limits, consume

        self._check_write("stream")
        if serve is not None:
            self._check_serves()
        limits = Limits(max_rows, max_bytes, max_wait, max_batches, idle, retry_for, compact_every)
        return consume(self, source, limits, start=start, on_batch=on_batch, serve=serve)

    def serve_stream(self, sink: StreamSink, *, rows_per_message: int = 500) -> ServeReport:
        """Publish the new rows of every snapshot of `main` that the port's stream lacks, oldest first.

        Messages go to the subject named by the port's address, with `<snapshot id>:<part>/<parts>` as their
        de-duplication id (JetStream's `Nats-Msg-Id`); what is missing is read from the stream's last
        message, so calling it again after a crash publishes nothing twice. The port must declare
        `serve: [table, stream]` (`StreamNotServedError` otherwise). See docs/streaming.md.
        """
        from meshlake.streams.serve import serve_snapshots

        self._check_write("stream")
        self._check_serves()
        return serve_snapshots(self, sink, rows_per_message=rows_per_message)

    def _check_serves(self) -> None:
        from meshlake.errors import StreamNotServedError

        if "stream" not in self.contract.serve:
            raise StreamNotServedError(str(self.address))

    def _expire_quarantine(self) -> None:
        """Drop quarantined writes older than the `quarantine_retention` setting (best effort)."""
        from meshlake.contract.durations import parse_duration
        from meshlake.quality.quarantine import expire_quarantine

        try:
            expire_quarantine(self.lake.catalog, self.table(), parse_duration(self.lake.settings.quarantine_retention))
        except Exception:
            return

    def _stamps(
        self,
        mode: str,
        inputs: Mapping[str, int] | None,
        run_id: str | None,
        writer: str | None,
        extra: Mapping[str, str] | None = None,
    ) -> Stamps:
        return Stamps(
            writer=writer or default_writer(),
            run_id=run_id or new_run_id(),
            product_version=self.descriptor.version,
            mode=mode,
            inputs=dict(inputs or {}),
            extra=user_stamps(extra, address=str(self.address)),
        )

    # -- reading and time travel ------------------------------------------------------------------
    def latest(self) -> PortSnapshot:
        """The published snapshot (`main`).

        Like `at` and `as_of`, it raises `AccessDeniedError` before anything is loaded when the caller may not
        read the port; the snapshot's reads are filtered and masked as the caller's rights say.
        """
        reader = self._reader()
        table = self.table()
        return self._snapshot(table, table.metadata.snapshot_by_name(MAIN_BRANCH), reader)

    def at(self, ref: int | str | None = None, *, release: str | None = None) -> PortSnapshot:
        """The snapshot with this id, tag or branch name (or a zoned ISO-8601 time), or of a product release.

        `release="1.4.0"` (or `ref="release:1.4.0"`) reads the snapshot the product's release 1.4.0 recorded for
        this port; a range (`release="^1.4"`) reads the newest matching release. `ReleaseError` if none matches.
        """
        if (ref is None) == (release is None):
            raise InvalidNameError("at() takes a ref or release=…, exactly one", name=f"{ref!r}, release={release!r}")
        parsed = Ref.parse(ref) if ref is not None else Ref.parse(f"release:{release}")
        if parsed.at is not None:
            return self.as_of(parsed.at)
        reader = self._reader()
        table = self.table()
        if parsed.release is not None:
            from meshlake.contract.releases import release_snapshot

            _release, snapshot_id = release_snapshot(self.lake.catalog, self.address, parsed.release)
            snapshot = table.metadata.snapshot_by_id(snapshot_id)
        elif parsed.snapshot_id is not None:
            snapshot = table.metadata.snapshot_by_id(parsed.snapshot_id)
        else:
            snapshot = table.metadata.snapshot_by_name(parsed.name or "")
        if snapshot is None:
            raise SnapshotNotFoundError(str(self.address), str(parsed), exists=self._what_exists(table))
        return self._snapshot(table, snapshot, reader)

    def as_of(self, when: datetime) -> PortSnapshot:
        """The snapshot that was published at instant `when` (a timezone-aware datetime)."""
        if not isinstance(when, datetime) or when.tzinfo is None:
            raise InvalidNameError(
                "as_of() needs a timezone-aware datetime, e.g. datetime(2026, 11, 1, tzinfo=UTC)",
                name=str(when),
            )
        reader = self._reader()
        table = self.table()
        snapshot = table.snapshot_as_of_timestamp(int(when.timestamp() * 1000), inclusive=True)
        if snapshot is None:
            raise SnapshotNotFoundError(str(self.address), when.isoformat(), exists=self._what_exists(table))
        return self._snapshot(table, snapshot, reader)

    def diff(
        self,
        a: int | str | PortSnapshot,
        b: int | str | PortSnapshot | None = None,
        *,
        key: Sequence[str] | None = None,
        samples: int = 5,
        check_keys: bool = False,
    ) -> Diff:
        """What changed from snapshot `a` to snapshot `b` (default: the published one): the schema by field id, rows
        added, removed and changed by `key` (default: the primary key), changes per column, sample rows.

        Reads only the data files the two snapshots do not share (and their delete files), as the caller may see
        them (masked, row-filtered). `DiffError` for snapshots of different tables or a key that is not unique;
        `check_keys=True` also checks the key against the shared files. See `meshlake.lifecycle.diff`.

        >>> port.diff("release:1.4.0").column_changes  # doctest: +SKIP
        """
        from meshlake.lifecycle.diff import diff_snapshots

        before = a if isinstance(a, PortSnapshot) else self.at(a)
        after = self.latest() if b is None else b if isinstance(b, PortSnapshot) else self.at(b)
        columns = list(key) if key is not None else list(self.contract.primary_key)
        return diff_snapshots(before, after, key=columns, samples=samples, check_keys=check_keys)

    def history(self) -> History:
        """One row per published snapshot, oldest first, with meshlake's stamps (for the port's readers).

        Each row says whether the snapshot is `foreign` (not written by meshlake, or its stamps do not match
        its files: `meshlake.query.provenance`); a snapshot without a row total in its summary gets one from its
        manifests."""
        self._reader()
        table = self.table()
        return port_history(table.metadata, table.io)

    def to_arrow(self) -> pa.Table:
        return self.latest().to_arrow()

    def to_polars(self) -> polars.LazyFrame:
        return self.latest().to_polars()

    def to_pandas(self) -> pandas.DataFrame:
        return self.latest().to_pandas()

    def to_daft(self) -> Any:
        """The published snapshot as a lazy Daft DataFrame (see `PortSnapshot.to_daft`)."""
        return self.latest().to_daft()

    def to_ray(self) -> Any:
        """The published snapshot as a Ray Dataset (see `PortSnapshot.to_ray`)."""
        return self.latest().to_ray()

    # -- quality --------------------------------------------------------------------------------
    def check(self, ref: int | str | None = None, *, run_id: str | None = None) -> QualityReport:
        """Run the port's expectations on a snapshot (default: the published one) and record the report.

        Returns the report (it does not raise on failed expectations: only the write gate does). A check reads
        every row: a caller whose reads are row-filtered gets `AccessDeniedError`, one whose reads are masked
        gets the samples masked.
        """
        from dataclasses import replace

        from meshlake.quality.gate import check_snapshot

        shown = self._review("check")
        snapshot = self.latest() if ref is None else self.at(ref)
        report = check_snapshot(self.lake, self, snapshot, run_id=run_id or new_run_id())
        return replace(report, results=shown(report.results))

    def quarantine(self) -> Quarantine:
        """Writes stopped by the gate, newest first, each with its quality report.

        A sequence of `QuarantinedWrite`, which also reviews and settles them by branch, run id or snapshot
        id: `.show(id)`, `.release(id)` (through the gate onto the current `main`), `.release(id, force=True,
        reason=…)`, `.drop(id)`. See `meshlake.quality.quarantine`.
        """
        from meshlake.quality.quarantine import quarantine_of

        self._review("list the quarantine of")
        return quarantine_of(self.lake, self)

    def slo(self) -> SloReport:
        """Freshness, volume and quality pass rate against the port's `slo`, from metadata and history."""
        from meshlake.quality.slo import evaluate_slo

        return evaluate_slo(self.lake, self)

    def maintain(
        self,
        *,
        apply: bool = False,
        expire: bool = True,
        orphans: bool = True,
        compact: bool = True,
        now: datetime | None = None,
        orphan_age: str | timedelta = "1h",
    ) -> MaintenanceReport:
        """`lake.maintain()` for this port alone (a dry run unless `apply=True`; applying is for owners)."""
        from meshlake.maintenance.maintain import port_target, run

        if apply:
            self._check_write("maintain")

        steps = {"expire": expire, "orphans": orphans, "compact": compact}
        return run(self.lake, [port_target(self)], apply=apply, steps=steps, now=now, orphan_age=orphan_age)

    # -- refs -------------------------------------------------------------------------------------
    def tag(self, name: str, snapshot: int | str | None = None) -> PortSnapshot:
        """Tag a snapshot (default: the published one); tags are kept by maintenance."""
        self._check_write("tag")
        validate_ref_name(name)
        if name.startswith(QUARANTINE_PREFIX) or name == MAIN_BRANCH:
            raise InvalidNameError(f"tag name {name!r} is reserved by meshlake", name=name)
        target = self.latest() if snapshot is None else self.at(snapshot)
        if target.snapshot_id is None:
            raise SnapshotNotFoundError(str(self.address), "latest", exists="The port has never been written.")
        table = self.table()
        existing = table.metadata.refs.get(name)
        if existing is not None:
            if existing.snapshot_ref_type == SnapshotRefType.TAG and existing.snapshot_id == target.snapshot_id:
                return target
            raise InvalidNameError(
                f"{self.address} already has a {existing.snapshot_ref_type.value} '{name}' at snapshot "
                f"{existing.snapshot_id}; tags do not move — choose another name",
                name=name,
            )
        table.manage_snapshots().create_tag(target.snapshot_id, name).commit()
        return target

    def rollback(self, *, to: int | str | datetime) -> PortSnapshot:
        """Point `main` at another published snapshot (by id, tag or time): back, or forward again after a rollback.

        Any snapshot that is or was on `main` and is still kept can be the target (`history().moves`
        records each move); a snapshot that was never published (a quarantined write) is refused, as is
        one expired by maintenance. Raises `SnapshotNotFoundError`, or `CommitConflictError` if `main`
        moved meanwhile.
        """
        self._check_write("rollback")
        from pyiceberg.exceptions import CommitFailedException

        from meshlake.query.history import published_snapshot_ids

        target = self.as_of(to) if isinstance(to, datetime) else self.at(to)
        assert target.snapshot_id is not None
        table = self.table()
        head = table.metadata.snapshot_by_name(MAIN_BRANCH)
        if target.snapshot_id not in published_snapshot_ids(table.metadata):
            raise SnapshotNotFoundError(
                str(self.address),
                str(to),
                exists=f"Snapshot {target.snapshot_id} was never published on main (a quarantined write is "
                "published with `meshlake quarantine release`); `main` can only move to snapshots it was on, "
                "see `meshlake history`.",
            )
        if head is not None and head.snapshot_id == target.snapshot_id:
            return target
        try:
            table.manage_snapshots().set_current_snapshot(snapshot_id=target.snapshot_id).commit()
        except CommitFailedException as exc:
            raise CommitConflictError("main moved while it was being rolled back.", address=str(self.address)) from exc
        return target

    def is_on_main(self, ref: int | str | datetime) -> bool:
        """Whether the snapshot `ref` names is `main`'s head or one of its ancestors."""
        from meshlake.query.history import is_ancestor

        target = self.as_of(ref) if isinstance(ref, datetime) else self.at(ref)
        table = self.table()
        head = table.metadata.snapshot_by_name(MAIN_BRANCH)
        return target.snapshot_id is not None and is_ancestor(
            table.metadata, target.snapshot_id, head.snapshot_id if head else None
        )

    # -- helpers ----------------------------------------------------------------------------------
    def _check_write(self, action: str) -> None:
        """Raise `AccessDeniedError` unless the caller owns this port's product (or is a mesh admin)."""
        self.lake.check_write(self.descriptor, action=action, address=str(self.address))

    def _snapshot(self, table: Table, snapshot: Any, reader: PortReader | None) -> PortSnapshot:
        policy = reader.bind(table.metadata.schema()) if reader is not None else None
        return PortSnapshot(
            str(self.address),
            table.metadata,
            table.io,
            snapshot,
            table.metadata_location,
            policy,
            read_log=self.lake._read_recorder(),
        )

    def _reader(self) -> PortReader | None:
        """The caller's reads of this port, checked before anything is loaded; None when nothing is enforced."""
        policy = self.lake.mesh_policy
        if policy is None:
            return None
        from meshlake.access.enforce import port_reader

        return port_reader(self.lake.identity, policy, self.descriptor, self.contract.name)

    def _review(self, action: str) -> Callable[[Sequence[ExpectationResult]], tuple[ExpectationResult, ...]]:
        """How quality results of this port are shown to the caller (`AccessDeniedError` first if not at all)."""
        from functools import partial

        reader = self._reader()
        if reader is None:
            return tuple
        reader.review((), action=action)
        return partial(reader.review, action=action)

    def _recorded(self, report: QualityReport) -> QualityReport:
        """`report` as the quality history keeps it: samples of masked and classified columns masked."""
        policy = self.lake.mesh_policy
        if policy is None:
            return report
        from meshlake.access.enforce import recorded

        return recorded(report, self.contract, policy)

    def _what_exists(self, table: Table) -> str:
        history = port_history(table.metadata)
        if not len(history):
            return "The port has never been written."
        tags = sorted(n for n, r in table.metadata.refs.items() if r.snapshot_ref_type == SnapshotRefType.TAG)
        branches = sorted(
            n
            for n, r in table.metadata.refs.items()
            if r.snapshot_ref_type == SnapshotRefType.BRANCH and not n.startswith(QUARANTINE_PREFIX)
        )
        first, last = history[0], history[-1]
        return (
            f"It has {len(history)} published snapshot(s) from {first.committed_at.isoformat()} "
            f"(id {first.snapshot_id}) to {last.committed_at.isoformat()} (id {last.snapshot_id}); "
            f"tags: {', '.join(tags) or 'none'}; branches: {', '.join(branches)}."
        )
