"""Writes the quality gate stopped: kept on `meshlake-quarantine-<run id>` branches, with their reports.

`port.quarantine()` lists them (newest first) as a `Quarantine`, which also reviews and settles each one,
named by its branch, its run id or its snapshot id:

- `show(id)`: the recorded report, and the port's expectations run again on the quarantined snapshot
  (as the gate runs them: row checks on the written rows), with sample failing rows;
- `release(id)`: publish it after review. The write is re-applied onto the *current* `main` and goes
  through the gate again; it is refused with `CommitConflictError` when `main` has since changed data
  it replaces (an `append` applies on any head), and with `QualityGateError` while it still fails (nothing
  moves then). `release(id, force=True, reason=…)` skips the gate and stamps the reason on the snapshot
  (`meshlake.release-reason`). Either way the quarantine branch is dropped once the write is published;
- `drop(id)`: delete the branch (its snapshot expires and its files go with the next `meshlake maintain`).

>>> quarantine = port.quarantine()                        # doctest: +SKIP
>>> quarantine.show(quarantine[0].branch).failed          # doctest: +SKIP
>>> quarantine.release(quarantine[0].run_id)              # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pyiceberg.catalog import Catalog
from pyiceberg.expressions import AlwaysTrue
from pyiceberg.manifest import DataFile, DataFileContent, ManifestContent, ManifestEntryStatus
from pyiceberg.table import Table
from pyiceberg.table.refs import SnapshotRefType
from pyiceberg.table.snapshots import Snapshot
from pyiceberg.table.update import RemoveSnapshotRefUpdate, TableUpdate

from meshlake.contract.stamps import (
    INPUTS,
    LIBRARY_VERSION,
    PREFIX,
    QUALITY,
    Stamps,
    default_writer,
    new_run_id,
    read_stamps,
)
from meshlake.errors import CommitConflictError, QualityGateError, SnapshotNotFoundError
from meshlake.quality.records import append_results, read_results, reports_from_rows
from meshlake.quality.report import ExpectationResult, QualityReport
from meshlake.write.commit import QUARANTINE_PREFIX, Change, RebaseConflictError, check_rebase, drop_branch, main_head

if TYPE_CHECKING:
    from meshlake.lake import Lake
    from meshlake.port import Port
    from meshlake.write.results import WriteResult

RELEASED_FROM = "meshlake.released-from"
RELEASED_BY = "meshlake.released-by"
RELEASE_REASON = "meshlake.release-reason"


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


@dataclass(frozen=True)
class QuarantineReview:
    """A quarantined write under review: why it was stopped, and what the port's expectations say now."""

    write: QuarantinedWrite
    results: tuple[ExpectationResult, ...]
    """The port's current expectations on the quarantined snapshot, with sample failing rows."""

    @property
    def failed(self) -> tuple[ExpectationResult, ...]:
        return tuple(result for result in self.results if not result.success)

    @property
    def passes_now(self) -> bool:
        """Whether the write passes the port's expectations as they stand (so `release` would pass the gate)."""
        return not self.failed

    def to_dict(self) -> dict[str, Any]:
        return {
            "write": self.write.to_dict(),
            "passes_now": self.passes_now,
            "results": [result.to_dict() for result in self.results],
        }


class Quarantine(list[QuarantinedWrite]):
    """A port's quarantined writes, newest first (a list); `show`, `release` or `drop` one by branch, run id or
    snapshot id."""

    def __init__(self, port: Port, writes: Iterable[QuarantinedWrite] = ()) -> None:
        super().__init__(writes)
        self.port = port

    def find(self, id: str | int) -> QuarantinedWrite:
        """The quarantined write named by its branch, its run id or its snapshot id (`SnapshotNotFoundError`)."""
        key = str(id)
        for write in self:
            if key in (write.branch, write.run_id, str(write.snapshot_id)):
                return write
        listed = ", ".join(w.branch for w in self) or "none"
        raise SnapshotNotFoundError(
            str(self.port.address),
            key,
            exists=f"It is not a quarantined write of the port (by branch, run id or snapshot id); "
            f"quarantined writes: {listed}. See `meshlake quarantine list {self.port.address}`.",
        )

    def show(self, id: str | int, *, rows: int | None = None) -> QuarantineReview:
        """The write, its recorded report, and the port's expectations run on it now (`rows` samples each).

        Failing rows are shown as the caller may see them: masked for a reader with masks; a caller that may
        not read the port, or whose reads are row-filtered, gets `AccessDeniedError` before anything is read.
        """
        from meshlake.quality.gate import evaluate

        shown = self.port._review("review quarantined writes of")
        write = self.find(id)
        table = self.port.table()
        snapshot = _quarantined(table, write, str(self.port.address))
        contract = self.port.contract
        at = self.port.at(write.branch)
        added = {f.file_path for f in quarantined_change(table, snapshot).added}
        plan = at.plan
        new_rows = replace(plan, tasks=tuple(task for task in plan.tasks if task.path in added))
        results = evaluate(
            contract.quality.engine,
            plan,
            None if len(new_rows.tasks) == len(plan.tasks) else new_rows,
            contract.expectation_list,
            contract.quality.sample_size if rows is None else rows,
            at.io,
        )
        return QuarantineReview(write, shown(results))

    def release(self, id: str | int, *, force: bool = False, reason: str | None = None) -> WriteResult:
        """Publish a quarantined write onto the current `main`, through the gate (or, with `force`, without).

        Raises `CommitConflictError` if `main` changed data the write replaces, `QualityGateError` if it
        still fails (it stays in quarantine), `ValueError` for `force` without a `reason`.
        """
        if force and not (reason and reason.strip()):
            raise ValueError("release(force=True) needs reason=… (it is stamped on the published snapshot)")
        write = self.find(id)
        return release_write(self.port, write, force=force, reason=reason.strip() if reason else None)

    def drop(self, id: str | int) -> QuarantinedWrite:
        """Delete a quarantined write's branch; its files go with the next `meshlake maintain --apply`."""
        write = self.find(id)
        lake = self.port.lake
        drop_branch(lake.catalog, self.port.table(), write.branch)
        return write


def quarantine_of(lake: Lake, port: Port) -> Quarantine:
    """`port.quarantine()`: the port's quarantined writes, newest first, with their reports."""
    return Quarantine(port, list_quarantine(lake, port))


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
    # the gate's verdict (or the one recovered from its stamp) over ad-hoc checks and refused releases
    ordered = sorted(reports_from_rows(rows), key=lambda report: not report.ad_hoc)
    reports = {report.snapshot_id: report for report in ordered}
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


def quarantined_change(table: Table, snapshot: Snapshot) -> Change:
    """What a quarantined snapshot did to its base: the data files it added and removed, and the position delete
    files it added (a merge-on-read write), with the data files they name (from its manifests)."""
    added: list[DataFile] = []
    deleted: list[DataFile] = []
    delete_files: list[DataFile] = []
    for manifest in snapshot.manifests(table.io):
        if manifest.added_snapshot_id != snapshot.snapshot_id:
            continue
        for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=False):
            if entry.snapshot_id != snapshot.snapshot_id:
                continue
            content = entry.data_file.content
            if content == DataFileContent.POSITION_DELETES and entry.status == ManifestEntryStatus.ADDED:
                delete_files.append(entry.data_file)
            elif content != DataFileContent.DATA or manifest.content != ManifestContent.DATA:
                continue
            elif entry.status == ManifestEntryStatus.ADDED:
                added.append(entry.data_file)
            elif entry.status == ManifestEntryStatus.DELETED:
                deleted.append(entry.data_file)
    mode = read_stamps(snapshot.summary.additional_properties if snapshot.summary else {}).get("mode")
    if mode == "append" and not deleted and not delete_files:
        return Change("append", tuple(added), new_rows=tuple(added))
    referenced: tuple[DataFile, ...] = ()
    if delete_files and snapshot.parent_snapshot_id is not None:
        named = {_named_file(f) for f in delete_files}
        parent = table.scan(snapshot_id=snapshot.parent_snapshot_id).plan_files()
        referenced = tuple(task.file for task in parent if task.file.file_path in named)
    # The write's own filter is not kept: any data committed on main since its base counts as a conflict.
    return Change(
        "overwrite",
        tuple(added),
        tuple(deleted),
        AlwaysTrue(),
        new_rows=tuple(added),
        delete_files=tuple(delete_files),
        referenced=referenced,
    )


def _named_file(delete_file: DataFile) -> str | None:
    """The one data file a file-scoped position delete file names (its equal `file_path` bounds)."""
    from meshlake.query.plan import FILE_PATH_FIELD_ID

    lower = (delete_file.lower_bounds or {}).get(FILE_PATH_FIELD_ID)
    upper = (delete_file.upper_bounds or {}).get(FILE_PATH_FIELD_ID)
    return lower.decode() if lower is not None and lower == upper else None


def release_write(port: Port, write: QuarantinedWrite, *, force: bool, reason: str | None) -> WriteResult:
    """Re-apply a quarantined write on the current `main` (gated unless `force`); then drop its branch."""
    from meshlake.write.flow import publish
    from meshlake.write.prewritten import stage_change

    lake, address = port.lake, str(port.address)
    table = port.table()
    snapshot = _quarantined(table, write, address)
    change = quarantined_change(table, snapshot)
    head = main_head(table)
    if head != snapshot.parent_snapshot_id:
        try:
            check_rebase(table, change, old_base=snapshot.parent_snapshot_id, new_head=head)
        except RebaseConflictError as conflict:
            raise CommitConflictError(
                f"main moved since the write on '{write.branch}' was quarantined and changed data this "
                f"{write.mode} replaces ({conflict}); it cannot be applied cleanly. Write it again on the "
                "current data, or drop it.",
                address=address,
            ) from conflict
    stamps = _release_stamps(snapshot, write, force=force, reason=reason, version=port.descriptor.version)
    gate = None if force else lake._gate_for(port)
    staged = stage_change(
        lake.catalog,
        table,
        change,
        address=address,
        rows=sum(f.record_count for f in change.added),
        base_id=head,
        stamps=stamps,
        gate=gate,
        quarantine_name=write.branch,
    )
    if staged.report is not None and not staged.report.passed:
        refused = replace(staged.report, snapshot_id=write.snapshot_id, run_id=new_run_id(), ad_hoc=True)
        append_results(lake.catalog, lake.location_root, [(port._recorded(refused), "release", False)])
        raise QualityGateError(address, refused, quarantine_branch=write.branch)
    result = publish(staged)
    drop_branch(lake.catalog, port.table(), write.branch)
    return port.compacted_after(staged, result)


def _release_stamps(
    snapshot: Snapshot, write: QuarantinedWrite, *, force: bool, reason: str | None, version: str
) -> Stamps:
    """The quarantined write's own stamps (writer, run, inputs …), plus who released it, from where and why."""
    props = snapshot.summary.additional_properties if snapshot.summary else {}
    stamps = read_stamps(props)
    skipped = {INPUTS, QUALITY, LIBRARY_VERSION, RELEASED_FROM, RELEASED_BY, RELEASE_REASON}
    own = ("meshlake.writer", "meshlake.run-id", "meshlake.product-version", "meshlake.mode")
    extra = {k: v for k, v in props.items() if k.startswith(PREFIX) and k not in skipped and k not in own}
    extra[RELEASED_FROM] = f"{write.branch}@{write.snapshot_id}"
    extra[RELEASED_BY] = default_writer()
    if force:
        extra[RELEASE_REASON] = reason or ""
    inputs = stamps.get("inputs")
    return Stamps(
        writer=str(stamps.get("writer") or default_writer()),
        run_id=str(stamps.get("run-id") or write.run_id or write.branch.removeprefix(QUARANTINE_PREFIX)),
        product_version=str(stamps.get("product-version") or version),
        mode=str(stamps.get("mode") or "append"),
        inputs={str(k): int(v) for k, v in inputs.items()} if isinstance(inputs, dict) else {},
        extra=extra,
    )


def _quarantined(table: Table, write: QuarantinedWrite, address: str) -> Snapshot:
    """The quarantined snapshot, still on its branch in the freshly loaded table."""
    ref = table.metadata.refs.get(write.branch)
    snapshot = table.metadata.snapshot_by_id(write.snapshot_id)
    if ref is None or ref.snapshot_id != write.snapshot_id or snapshot is None:
        raise SnapshotNotFoundError(
            address,
            write.branch,
            exists="The quarantined write was released, dropped or expired meanwhile; list the quarantine again.",
        )
    return snapshot
