"""The quality gate of a port: run its expectations on a staged write, in place, before anything is published.

The staged snapshot is the base snapshot's files minus the files the write removes plus the files it
adds; row-level checks read only the files holding the written rows, table-level checks all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from pyiceberg.io import FileIO
from pyiceberg.table import Table
from pyiceberg.table.metadata import TableMetadata

from meshlake.commit import Change
from meshlake.quality.expectations import Expectation
from meshlake.quality.records import append_results, now
from meshlake.quality.report import ExpectationResult, QualityReport
from meshlake.query.plan import DataTask, ScanPlan, plan_snapshot
from meshlake.stamps import Stamps

if TYPE_CHECKING:
    from meshlake.lake import Lake
    from meshlake.port import Port
    from meshlake.snapshot import PortSnapshot


class PortGate:
    """Checks staged writes of one port and records every verdict in the quality history."""

    def __init__(self, lake: Lake, port: Port) -> None:
        self.lake = lake
        self.address = str(port.address)
        self.expectations = port.contract.expectation_list
        self.engine = port.contract.quality.engine
        self.sample_size = port.contract.quality.sample_size

    def check(self, table: Table, base_id: int | None, change: Change, stamps: Stamps) -> QualityReport:
        base = plan_snapshot(table.metadata, table.io, base_id, name=self.address)
        staged, new_rows = staged_plans(base, change, table.metadata)
        only_new = len(staged.tasks) == len(new_rows.tasks)
        results = evaluate(
            self.engine, staged, None if only_new else new_rows, self.expectations, self.sample_size, table.io
        )
        return QualityReport(self.address, None, stamps.run_id, self.engine, now(), results)

    def record(self, report: QualityReport, snapshot_id: int, *, published: bool) -> QualityReport:
        recorded = replace(report, snapshot_id=snapshot_id)
        append_results(self.lake.catalog, self.lake.warehouse, [(recorded, "gate", published)])
        return recorded


def make_gate(lake: Lake, port: Port) -> PortGate:
    return PortGate(lake, port)


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
    kept = tuple(task for task in base.tasks if task.path not in removed)
    staged = replace(
        base,
        snapshot_id=None,
        schema=metadata.schema(),
        tasks=(*kept, *added),
        partitions=tuple(partitions),
        schemas=tuple(metadata.schemas),
    )
    return staged, replace(staged, tasks=tuple(written))


def evaluate(
    engine: str,
    plan: ScanPlan,
    new_rows: ScanPlan | None,
    expectations: Sequence[Expectation],
    sample_size: int,
    io: FileIO,
) -> tuple[ExpectationResult, ...]:
    """Run `expectations` on a planned relation with the chosen engine."""
    if engine == "great_expectations":
        from meshlake.quality.gx import run_great_expectations
        from meshlake.query.engine import read_arrow

        return run_great_expectations(
            read_arrow(plan, io=io),
            expectations,
            new_rows=read_arrow(new_rows, io=io) if new_rows is not None else None,
            sample_size=sample_size,
        )
    import duckdb

    from meshlake.quality.native import run_native
    from meshlake.query.engine import register_filesystems
    from meshlake.query.sql import scan_sql

    con = duckdb.connect()
    try:
        register_filesystems(con, plan, io)
        return run_native(
            con,
            relation_sql=f"({scan_sql(plan)})",
            new_rows_sql=f"({scan_sql(new_rows)})" if new_rows is not None else None,
            expectations=expectations,
            sample_size=sample_size,
        )
    finally:
        con.close()


def check_snapshot(lake: Lake, port: Port, snapshot: PortSnapshot, *, run_id: str) -> QualityReport:
    """Run a port's expectations on one of its snapshots (whole table) and record the report."""
    contract = port.contract
    results = evaluate(
        contract.quality.engine,
        snapshot.plan,
        None,
        contract.expectation_list,
        contract.quality.sample_size,
        snapshot.io,
    )
    report = QualityReport(str(port.address), snapshot.snapshot_id, run_id, contract.quality.engine, now(), results)
    append_results(lake.catalog, lake.warehouse, [(report, "check", None)])
    return report
