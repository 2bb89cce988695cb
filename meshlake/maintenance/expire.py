"""Expire what a table no longer needs: stale quarantine and staging branches, then old snapshots.

Snapshots are kept when any of these holds, and expired otherwise:

- a tag or branch points at it (tags survive maintenance: meshlake promises it);
- it is one of the newest `min_snapshots` of `main`'s history;
- it was committed inside the time-travel window (`now - time_travel` or later);
- it is the snapshot `main` was at when the window opens, so `as_of` any instant inside the window reads.

Expiry only removes snapshots from the metadata (pyiceberg's `expire_snapshots`, which deletes no file);
files are removed by the orphan step alone. The commit asserts every ref it saw, so a ref that moved
meanwhile makes it re-plan; a ref created meanwhile on an expiring snapshot is detected afterwards.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import CommitFailedException
from pyiceberg.serializers import FromInputFile
from pyiceberg.table import Table
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.table.refs import MAIN_BRANCH, SnapshotRefType
from pyiceberg.table.update import (
    AssertRefSnapshotId,
    RemoveSnapshotRefUpdate,
    RemoveSnapshotsUpdate,
    TableRequirement,
    TableUpdate,
)

from meshlake.catalog.commits import commit_table
from meshlake.catalog.metadata import ancestors
from meshlake.quality.quarantine import expire_quarantine
from meshlake.write.commit import QUARANTINE_PREFIX

STAGING_PREFIX = "meshlake-"
STAGING_MAX_AGE = timedelta(days=1)
ATTEMPTS = 10


@dataclass(frozen=True)
class Policy:
    """How long a table keeps its history."""

    time_travel: timedelta
    min_snapshots: int
    quarantine: timedelta
    staging: timedelta = STAGING_MAX_AGE


@dataclass
class Expiry:
    """What expiry removed (or, in a dry run, would remove)."""

    quarantine: list[str] = field(default_factory=list)
    staging: list[str] = field(default_factory=list)
    snapshots: list[int] = field(default_factory=list)
    kept: int = 0
    lost_refs: list[str] = field(default_factory=list)
    """Refs created concurrently on a snapshot this run expired (so removed with it): an error."""


def expire(catalog: Catalog, table: Table, policy: Policy, *, now: datetime, apply: bool) -> tuple[Table, Expiry]:
    """Remove stale branches, then expired snapshots; returns the (reloaded) table and what was done."""
    result = Expiry()
    result.quarantine = expire_quarantine(catalog, table, policy.quarantine, now=now, apply=apply)
    if apply and result.quarantine:
        table = table.refresh()
    gone = set(result.quarantine) if not apply else set()
    result.staging = stale_staging(table.metadata, policy.staging, now)
    if apply and result.staging:
        table = _remove_branches(catalog, table, result.staging)
    gone |= set(result.staging) if not apply else set()
    for attempt in range(ATTEMPTS):
        expired, kept = plan_snapshots(table.metadata, policy, now, ignore_refs=gone)
        result.kept = kept
        if not apply or not expired:
            result.snapshots = expired
            return table, result
        try:
            table, lost = _commit_expiry(catalog, table, expired)
        except CommitFailedException:
            if attempt == ATTEMPTS - 1:
                raise
            table = table.refresh()
            continue
        result.snapshots, result.lost_refs = expired, lost
        return table, result
    raise AssertionError("unreachable")


def stale_staging(metadata: TableMetadata, max_age: timedelta, now: datetime) -> list[str]:
    """Branches named `meshlake-*` (not quarantine) whose head is older than `max_age`: crashed writers' leftovers."""
    cutoff_ms = _millis(now - max_age)
    stale = []
    for name, ref in metadata.refs.items():
        if ref.snapshot_ref_type != SnapshotRefType.BRANCH or not name.startswith(STAGING_PREFIX):
            continue
        if name.startswith(QUARANTINE_PREFIX):
            continue
        snapshot = metadata.snapshot_by_id(ref.snapshot_id)
        if snapshot is None or snapshot.timestamp_ms < cutoff_ms:
            stale.append(name)
    return sorted(stale)


def plan_snapshots(
    metadata: TableMetadata, policy: Policy, now: datetime, *, ignore_refs: Collection[str] = ()
) -> tuple[list[int], int]:
    """The snapshot ids to expire (oldest first) and how many are kept; `ignore_refs` count as removed."""
    cutoff_ms = _millis(now - policy.time_travel)
    keep = {ref.snapshot_id for name, ref in metadata.refs.items() if name not in ignore_refs}
    head = metadata.snapshot_by_name(MAIN_BRANCH)
    if head is not None:
        for index, snapshot in enumerate(ancestors(metadata, head)):
            if index >= policy.min_snapshots:
                break
            keep.add(snapshot.snapshot_id)
    at_cutoff = [entry.snapshot_id for entry in metadata.snapshot_log if entry.timestamp_ms <= cutoff_ms]
    if at_cutoff:
        keep.add(at_cutoff[-1])
    ordered = sorted(metadata.snapshots, key=lambda s: s.timestamp_ms)
    expired = [s.snapshot_id for s in ordered if s.snapshot_id not in keep and s.timestamp_ms < cutoff_ms]
    return expired, len(ordered) - len(expired)


def _commit_expiry(catalog: Catalog, table: Table, expired: list[int]) -> tuple[Table, list[str]]:
    """Remove `expired` (none of them a ref's head: `plan_snapshots` keeps those) in one commit.

    The update is built directly: pyiceberg's `expire_snapshots().by_ids` copies the whole metadata once per
    id, which made expiring thousands of snapshots take hours.
    """
    seen: tuple[TableRequirement, ...] = tuple(
        AssertRefSnapshotId(ref=name, snapshot_id=ref.snapshot_id) for name, ref in table.metadata.refs.items()
    )
    response = commit_table(catalog, table, seen, (RemoveSnapshotsUpdate(snapshot_ids=expired),))
    updated = _table(table, catalog, response.metadata, response.metadata_location)
    return updated, _lost_refs(updated)


def _lost_refs(table: Table) -> list[str]:
    """Refs the commit's base had but its result lacks: created on an expiring snapshot after planning.

    Every ref seen while planning was asserted unchanged, so only such a ref can have gone with its snapshot.
    """
    log = table.metadata.metadata_log
    if not log:
        return []
    previous = FromInputFile.table_metadata(table.io.new_input(log[-1].metadata_file))
    return sorted(set(previous.refs) - set(table.metadata.refs))


def _table(table: Table, catalog: Catalog, metadata: TableMetadata, location: str) -> Table:
    return Table(identifier=table.name(), metadata=metadata, metadata_location=location, io=table.io, catalog=catalog)


def _remove_branches(catalog: Catalog, table: Table, names: list[str]) -> Table:
    """Drop branches in one commit, only if none of them moved since they were judged stale."""
    for attempt in range(ATTEMPTS):
        present = [name for name in names if name in table.metadata.refs]
        if not present:
            return table
        updates: tuple[TableUpdate, ...] = tuple(RemoveSnapshotRefUpdate(ref_name=name) for name in present)
        requirements: tuple[TableRequirement, ...] = tuple(
            AssertRefSnapshotId(ref=name, snapshot_id=table.metadata.refs[name].snapshot_id) for name in present
        )
        try:
            response = commit_table(catalog, table, requirements, updates)
        except CommitFailedException:
            if attempt == ATTEMPTS - 1:
                raise
            table = table.refresh()
            names = [n for n in names if n in table.metadata.refs]
            continue
        return _table(table, catalog, response.metadata, response.metadata_location)
    return table


def _millis(when: datetime) -> int:
    return int(when.astimezone(UTC).timestamp() * 1000)
