"""The quality gate of a port: run its expectations on a staged write, in place, before anything is published.

Every verdict is recorded in the quality history, together with any verdict the port's recent snapshots
carry in their stamp but the history lacks (a writer that died between its commit and its record; see
`meshlake.quality.records`).

The staged snapshot is the base snapshot's files minus the files the write removes plus the files it
adds; row-level checks read only the files holding the written rows, table-level checks all of them, or,
for an append onto a snapshot the native gate published, the base's stamped aggregates and the new rows
(`meshlake.quality.incremental`). The native engine stamps those aggregates on what it checks (`basis`).

An append or overwrite is measured while it is written: the gate's `tap` computes the aggregates that merge on
each row group the writer encodes, and the check merges them instead of reading the files for them
(`meshlake.quality.metrics`); distributed workers return theirs to the driver (`metric_plan`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import TYPE_CHECKING, Literal

from pyiceberg.io import FileIO
from pyiceberg.manifest import DataFile
from pyiceberg.table import Table
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.table.refs import MAIN_BRANCH

from meshlake.contract.expectations import Expectation
from meshlake.contract.stamps import Stamps
from meshlake.quality.bitmap import RangeLookup, staged_ranges
from meshlake.quality.budget import DEFAULT_SECONDS, budget_seconds
from meshlake.quality.records import RECOVERED, append_results, now, remember_recorded, unrecorded_verdicts
from meshlake.quality.report import ExpectationResult, QualityReport
from meshlake.query.plan import DataTask, PartitionKey, ScanPlan, may_reference, partition_key, plan_snapshot
from meshlake.query.provenance import live_records
from meshlake.write.commit import Change

if TYPE_CHECKING:
    import duckdb

    from meshlake.lake import Lake
    from meshlake.port import Port
    from meshlake.quality.incremental import Incremental
    from meshlake.quality.metrics import KeyCounts, MetricPartials, MetricPlan, MetricTap
    from meshlake.quality.native import NativeRun, OtherRows
    from meshlake.snapshot import PortSnapshot

KeyCounter = Callable[[Table, int | None, Change, ScanPlan, ScanPlan, ScanPlan], "Mapping[int, KeyCounts] | None"]
"""(table, base id, change, base plan, staged plan, plan of the new rows) → uniqueness checks of that staged snapshot
answered elsewhere (a distributed engine's shuffle by key, `meshlake.distributed.unique`), by expectation index."""


class PortGate:
    """Checks staged writes of one port and records every verdict in the quality history."""

    def __init__(self, lake: Lake, port: Port) -> None:
        self.lake = lake
        self.port = port
        self.address = str(port.address)
        self.expectations = port.contract.expectation_list
        self.engine = port.contract.quality.engine
        self.sample_size = port.contract.quality.sample_size
        self.time_budget = budget_seconds(lake.settings.quality_time_budget)
        self._staged: tuple[str, ScanPlan] | None = None
        self.count_keys: KeyCounter | None = None
        """Asked by every native `check` (a rebased write's too) for the uniqueness checks a distributed engine
        answers on exactly the snapshot being staged; the report then says, with every uniqueness result, where it
        ran. None: all run here."""
        self._seen: tuple[TableMetadata, int | None, FileIO] | None = None

    def metric_plan(self, table: Table, mode: str) -> MetricPlan | None:
        """The mergeable aggregates a write of `mode` to `table` can measure while it is written, or None.

        Those of row checks always (they read the new rows); those of table checks when the staged snapshot will
        hold only the new rows (an overwrite, an append to an empty port).
        """
        if self.engine != "native":
            return None
        from meshlake.quality.metrics import measurable, table_columns

        head = table.metadata.snapshot_by_name(MAIN_BRANCH)
        empty = head is None or (head.summary is not None and int(head.summary["total-records"] or 0) == 0)
        whole = mode == "overwrite" or (mode == "append" and empty)
        return measurable(self.expectations, table_columns(table.schema()), whole=whole)

    def tap(self, table: Table, mode: str) -> MetricTap | None:
        plan = self.metric_plan(table, mode)
        return plan.tap() if plan is not None else None

    def check(
        self,
        table: Table,
        base_id: int | None,
        change: Change,
        stamps: Stamps,
        streamed: MetricPartials | None = None,
    ) -> QualityReport:
        self._seen = (table.metadata, base_id, table.io)
        uuid = str(table.metadata.table_uuid)
        base = _published(uuid, base_id) or plan_snapshot(table.metadata, table.io, base_id, name=self.address)
        staged, new_rows = staged_plans(base, change, table.metadata)
        only_new = len(staged.tasks) == len(new_rows.tasks)
        # the partials, if they are of exactly the new rows (see meshlake.quality.metrics)
        measured: tuple[Literal["table", "new"], MetricPartials] | None = None
        if streamed is not None and not staged.has_deletes and streamed.row_count == new_rows.record_count:
            measured = ("table" if only_new else "new"), streamed
        pure_append = change.kind == "append" and not change.deleted and not staged.has_deletes
        self._staged = (uuid, staged) if pure_append else None
        if self.engine != "native":
            results = evaluate(
                self.engine,
                staged,
                None if only_new else new_rows,
                self.expectations,
                self.sample_size,
                table.io,
                time_budget=self.time_budget,
                other_rows=port_rows(self.lake),
            )
            return QualityReport(self.address, None, stamps.run_id, self.engine, now(), results)
        # -- native: incremental table checks on appends (see meshlake.quality.incremental) --
        from meshlake.contract.deploy import UNMEASURED
        from meshlake.quality.incremental import (
            Incremental,
            fingerprint,
            on_snapshot,
            prior_aggregates,
            upsert_basis,
            withhold_values,
        )
        from meshlake.query.sql import scan_sql

        key = fingerprint(self.expectations, table.metadata.current_schema_id)
        rows = None if staged.has_deletes else staged.record_count
        incremental = None
        if not only_new and base_id is not None:
            prior = prior_aggregates(table.metadata, base_id, change, key, base, table.io)
            snapshot = table.metadata.snapshot_by_id(base_id)
            upserted = upsert_basis(table.metadata, base_id, change, key, base, table.io) if prior is None else None
            if prior is not None and snapshot is not None:
                aggregates, base_rows = prior
                rows = base_rows + sum(f.record_count for f in change.new_rows)
                incremental = on_snapshot(base, snapshot, table.io, rows, aggregates, change.new_rows)
            elif upserted is not None:  # a merge-on-read upsert: its key lookup tells what it replaced
                aggregates, rows = upserted
                required = frozenset(f.name for f in table.schema().fields if f.required)
                incremental = Incremental(
                    lambda: f"({scan_sql(base)})", rows, aggregates, replaced=change.replaced_keys, required=required
                )
        key_counts = None
        if self.count_keys is not None:
            key_counts = self.count_keys(table, base_id, change, base, staged, new_rows)
        if rows is None:
            rows = live_rows(staged, table.io)
        ranges = staged_ranges(table.metadata, table.io, base_id, staged, change.added)
        run = run_native_on(
            staged,
            None if only_new else new_rows,
            self.expectations,
            self.sample_size,
            table.io,
            incremental,
            ranges,
            time_budget=self.time_budget,
            other_rows=port_rows(self.lake),
            streamed=measured,
            key_counts=key_counts,
        )
        classified = {c.name for c in self.port.contract.columns if c.classification in UNMEASURED}
        aggregates = withhold_values(run.aggregates, self.expectations, classified)  # metadata holds no PII
        basis = None if rows is None else {"fingerprint": key, "rows": rows, "aggregates": aggregates}
        return QualityReport(self.address, None, stamps.run_id, self.engine, now(), run.results, basis)

    def record(self, report: QualityReport, snapshot_id: int, *, published: bool) -> QualityReport:
        if published and self._staged is not None:
            _remember(self._staged[0], snapshot_id, self._staged[1])
        recorded = replace(report, snapshot_id=snapshot_id)
        recovered: list[tuple[QualityReport, bool]] = []
        if self._seen is not None:
            metadata, base_id, io = self._seen
            recovered = _unrecorded(self.lake, metadata, io, self.address, base_id, exclude=(snapshot_id,))
        batch = [(self.port._recorded(recorded), "gate", published), *((r, RECOVERED, p) for r, p in recovered)]
        append_results(self.lake.catalog, self.lake.location_root, batch)
        if self._seen is not None:
            remember_recorded(str(self._seen[0].table_uuid), [snapshot_id, *(r.snapshot_id or 0 for r, _ in recovered)])
        return recorded


def live_rows(plan: ScanPlan, io: FileIO) -> int:
    """The rows of a plan with its delete files applied (what the stamp's `rows` says the gate checked)."""
    import duckdb

    from meshlake.query.engine import register_filesystems
    from meshlake.query.sql import scan_sql

    con = duckdb.connect()
    try:
        register_filesystems(con, plan, io)
        found = con.execute(f"SELECT count(*) FROM ({scan_sql(plan)})").fetchone()
    finally:
        con.close()
    return int(found[0]) if found else 0


def port_rows(lake: Lake) -> OtherRows:
    """Another port's current row count, from its `main` snapshot's summary (no data is read): what
    `expect_table_row_count_to_equal_other_table` compares with."""

    def count(address: str) -> int:
        table = lake.port(address).table()
        snapshot = table.metadata.snapshot_by_name(MAIN_BRANCH)
        if snapshot is None or snapshot.summary is None:
            return 0
        return live_records(snapshot.summary.additional_properties)

    return count


def make_gate(lake: Lake, port: Port) -> PortGate:
    return PortGate(lake, port)


# -- plans of snapshots this process published by appends: the base of the next append's check -------------
# Planning a new base from its manifests costs O(manifests) on every append (one manifest per append); the
# snapshot an append published is exactly its staged plan (base files + added files, no delete file).
_PUBLISHED: OrderedDict[tuple[str, int], ScanPlan] = OrderedDict()
_PUBLISHED_LOCK = threading.Lock()


def _remember(table_uuid: str, snapshot_id: int, staged: ScanPlan) -> None:
    with _PUBLISHED_LOCK:
        _PUBLISHED[(table_uuid, snapshot_id)] = staged.appended((), snapshot_id=snapshot_id)
        while len(_PUBLISHED) > 64:
            _PUBLISHED.popitem(last=False)


def _published(table_uuid: str, snapshot_id: int | None) -> ScanPlan | None:
    with _PUBLISHED_LOCK:
        return _PUBLISHED.get((table_uuid, snapshot_id)) if snapshot_id is not None else None


def staged_plans(base: ScanPlan, change: Change, metadata: TableMetadata) -> tuple[ScanPlan, ScanPlan]:
    """The plan of the snapshot `change` would make on `base`, and the plan of just its written rows."""
    removed = {f.file_path for f in change.deleted}
    partitions = list(base.partitions)
    index = {key: i for i, key in enumerate(partitions)}
    sequence = getattr(metadata, "last_sequence_number", 0) + 1
    new_rows = {f.file_path for f in change.new_rows}
    added: list[DataTask] = []
    written: list[DataTask] = []
    for data_file in change.added:
        key = (data_file.spec_id, tuple(data_file.partition[i] for i in range(len(data_file.partition))))
        if key not in index:
            index[key] = len(partitions)
            partitions.append(key)
        task = DataTask(
            path=data_file.file_path,
            file_format=str(data_file.file_format.value),
            sequence_number=sequence,
            record_count=data_file.record_count,
            file_size=data_file.file_size_in_bytes,
            partition=index[key],
        )
        added.append(task)
        if data_file.file_path in new_rows:
            written.append(task)
    kept = replace(base, tasks=tuple(task for task in base.tasks if task.path not in removed)) if removed else base
    if change.delete_files:
        kept = replace(kept, tasks=with_deletes(kept.tasks, change.delete_files, kept.partitions, sequence))
    staged = kept.appended(
        tuple(added),
        snapshot_id=None,
        schema=metadata.schema(),
        partitions=tuple(partitions),
        schemas=tuple(metadata.schemas),
    )
    return staged, replace(staged, tasks=tuple(written))


def with_deletes(
    tasks: Sequence[DataTask], delete_files: Sequence[DataFile], partitions: Sequence[PartitionKey], sequence: int
) -> tuple[DataTask, ...]:
    """`tasks` with the position delete files a change adds attached where the spec applies them (same partition,
    the data file's path within the delete file's `file_path` bounds)."""
    from meshlake.query.plan import delete_file_of

    index = {key: i for i, key in enumerate(partitions)}
    deletes = [delete_file_of(f, index.get(partition_key(f), -1), sequence) for f in delete_files]
    attached = []
    for task in tasks:
        applying = tuple(d for d in deletes if d.partition == task.partition and may_reference(d, task.path))
        attached.append(replace(task, position_deletes=(*task.position_deletes, *applying)) if applying else task)
    return tuple(attached)


def evaluate(
    engine: str,
    plan: ScanPlan,
    new_rows: ScanPlan | None,
    expectations: Sequence[Expectation],
    sample_size: int,
    io: FileIO,
    ranges: RangeLookup | None = None,
    *,
    time_budget: float = DEFAULT_SECONDS,
    other_rows: OtherRows | None = None,
) -> tuple[ExpectationResult, ...]:
    """Run `expectations` on a planned relation with the chosen engine (`ranges`: see `run_native_on`)."""
    if engine == "great_expectations":
        from meshlake.quality.gx import run_great_expectations
        from meshlake.query.engine import read_arrow

        return run_great_expectations(
            read_arrow(plan, io=io),
            expectations,
            new_rows=read_arrow(new_rows, io=io) if new_rows is not None else None,
            sample_size=sample_size,
            time_budget=time_budget,
            other_rows=other_rows,
        )
    return run_native_on(
        plan, new_rows, expectations, sample_size, io, ranges=ranges, time_budget=time_budget, other_rows=other_rows
    ).results


def run_native_on(
    plan: ScanPlan,
    new_rows: ScanPlan | None,
    expectations: Sequence[Expectation],
    sample_size: int,
    io: FileIO,
    incremental: Incremental | None = None,
    ranges: RangeLookup | None = None,
    *,
    time_budget: float = DEFAULT_SECONDS,
    other_rows: OtherRows | None = None,
    streamed: tuple[Literal["table", "new"], MetricPartials] | None = None,
    key_counts: Mapping[int, KeyCounts] | None = None,
) -> NativeRun:
    """The native engine on a planned relation, on a shared DuckDB database (`meshlake.query.session`).

    `ranges` gives the bounds of integer columns over `plan`'s files (`meshlake.quality.bitmap`). SQL
    expectations read the same files in place, in a sandbox that may read only them (`meshlake.quality.sandbox`).
    """
    from meshlake.quality import sandbox
    from meshlake.quality.native import evaluate_native
    from meshlake.query.engine import register_filesystems
    from meshlake.query.session import connection
    from meshlake.query.sql import empty_relation, scan_sql

    relation_sql = f"({scan_sql(plan)})"  # raises UnsupportedScanError for what DuckDB would misread

    def open_sandbox() -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        paths = [t.path for t in plan.tasks]
        paths += [d.path for t in plan.tasks for d in (*t.position_deletes, *t.equality_deletes)]
        return sandbox.on_files(relation_sql, paths, lambda con: register_filesystems(con, plan, io))

    with connection(plan, io) as con:
        return evaluate_native(
            con,
            relation_sql=relation_sql,
            new_rows_sql=f"({scan_sql(new_rows)})" if new_rows is not None else None,
            expectations=expectations,
            sample_size=sample_size,
            incremental=incremental,
            schema_sql=f"({empty_relation(plan.schema)})",
            ranges=ranges,
            sandbox=open_sandbox,
            time_budget=time_budget,
            other_rows=other_rows,
            streamed=streamed,
            key_counts=key_counts,
        )


def check_snapshot(lake: Lake, port: Port, snapshot: PortSnapshot, *, run_id: str) -> QualityReport:
    """Run a port's expectations on one of its snapshots (whole table) and record the report.

    The history keeps the samples of masked and classified columns masked (`port._recorded`); the report
    returned is the full one.
    """
    contract = port.contract
    results = evaluate(
        contract.quality.engine,
        snapshot.plan,
        None,
        contract.expectation_list,
        contract.quality.sample_size,
        snapshot.io,
        staged_ranges(snapshot.metadata, snapshot.io, snapshot.snapshot_id, snapshot.plan, ()),
        time_budget=budget_seconds(lake.settings.quality_time_budget),
        other_rows=port_rows(lake),
    )
    head = snapshot.metadata.snapshot_by_name(MAIN_BRANCH)
    head_id = head.snapshot_id if head is not None else None
    address = str(port.address)
    ad_hoc = snapshot.snapshot_id != head_id  # only checks of main's head count in the quality SLO
    report = QualityReport(
        address, snapshot.snapshot_id, run_id, contract.quality.engine, now(), results, ad_hoc=ad_hoc
    )
    recovered = _unrecorded(lake, snapshot.metadata, snapshot.io, address, head_id)
    batch = [(port._recorded(report), "check", None), *((r, RECOVERED, p) for r, p in recovered)]
    append_results(lake.catalog, lake.location_root, batch)
    remember_recorded(str(snapshot.metadata.table_uuid), [r.snapshot_id or 0 for r, _ in recovered])
    return report


def _unrecorded(
    lake: Lake,
    metadata: TableMetadata,
    io: FileIO,
    address: str,
    head_id: int | None,
    exclude: tuple[int, ...] = (),
) -> list[tuple[QualityReport, bool]]:
    """Stamped verdicts missing from the history (best effort: looking them up never fails a record)."""
    try:
        return unrecorded_verdicts(lake.catalog, metadata, address, head_id=head_id, exclude=exclude, io=io)
    except Exception:
        return []
