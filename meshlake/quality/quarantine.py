"""Writes the quality gate stopped: kept on `meshlake-quarantine-<run id>` branches, with their reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pyiceberg.catalog import Catalog
from pyiceberg.table import Table
from pyiceberg.table.refs import SnapshotRefType
from pyiceberg.table.update import RemoveSnapshotRefUpdate, TableUpdate

from meshlake.contract.stamps import read_stamps
from meshlake.quality.records import read_results, reports_from_rows
from meshlake.quality.report import QualityReport
from meshlake.write.commit import QUARANTINE_PREFIX

if TYPE_CHECKING:
    from meshlake.lake import Lake
    from meshlake.port import Port


@dataclass(frozen=True)
class QuarantinedWrite:
    """One write that failed its quality gate: the staged snapshot and the report that stopped it."""

    address: str
    branch: str
    snapshot_id: int
    run_id: str | None
    committed_at: datetime
    rows_added: int
    mode: str | None
    report: QualityReport | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "branch": self.branch,
            "snapshot_id": self.snapshot_id,
            "run_id": self.run_id,
            "committed_at": self.committed_at.isoformat(),
            "rows_added": self.rows_added,
            "mode": self.mode,
            "report": self.report.to_dict() if self.report else None,
        }


def list_quarantine(lake: Lake, port: Port) -> list[QuarantinedWrite]:
    """The port's quarantined writes, newest first, with reports from the quality history."""
    table = port.table()
    found = []
    for name, ref in table.metadata.refs.items():
        if ref.snapshot_ref_type != SnapshotRefType.BRANCH or not name.startswith(QUARANTINE_PREFIX):
            continue
        snapshot = table.metadata.snapshot_by_id(ref.snapshot_id)
        if snapshot is None:
            continue
        props = snapshot.summary.additional_properties if snapshot.summary else {}
        stamps = read_stamps(props)
        found.append((name, snapshot, stamps, int(props.get("added-records", 0))))
    rows = read_results(lake.catalog, address=str(port.address), snapshot_ids=[s.snapshot_id for _, s, _, _ in found])
    reports = {report.snapshot_id: report for report in reports_from_rows(rows)}
    writes = [
        QuarantinedWrite(
            address=str(port.address),
            branch=name,
            snapshot_id=snapshot.snapshot_id,
            run_id=stamps.get("run-id"),
            committed_at=datetime.fromtimestamp(snapshot.timestamp_ms / 1000, tz=UTC),
            rows_added=added,
            mode=stamps.get("mode"),
            report=reports.get(snapshot.snapshot_id),
        )
        for name, snapshot, stamps, added in found
    ]
    return sorted(writes, key=lambda w: w.committed_at, reverse=True)


def expire_quarantine(
    catalog: Catalog, table: Table, retention: timedelta, *, now: datetime | None = None, apply: bool = True
) -> list[str]:
    """Drop quarantine branches older than `retention` (as of `now`); returns their names.

    With `apply=False` nothing is dropped: the names are what would be.
    """
    cutoff = (now or datetime.now(UTC)) - retention
    expired = []
    for name, ref in table.metadata.refs.items():
        snapshot = table.metadata.snapshot_by_id(ref.snapshot_id)
        old = snapshot is not None and datetime.fromtimestamp(snapshot.timestamp_ms / 1000, tz=UTC) < cutoff
        if name.startswith(QUARANTINE_PREFIX) and old:
            expired.append(name)
    if expired and apply:
        updates: tuple[TableUpdate, ...] = tuple(RemoveSnapshotRefUpdate(ref_name=name) for name in expired)
        catalog.commit_table(table, (), updates)
    return expired
