"""Committing a staged change: the verdict stamped on it, quarantine when the gate refused it, and re-basing
(then re-checking) when `main` moved under it."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from pyiceberg.catalog import Catalog
from pyiceberg.table import Table
from pyiceberg.table.refs import MAIN_BRANCH

from meshlake.contract.stamps import Stamps
from meshlake.errors import CommitConflictError, QualityGateError
from meshlake.write import commit, faults
from meshlake.write.commit import Change, MainMovedError, RebaseConflictError

if TYPE_CHECKING:
    from meshlake.quality.report import QualityReport
    from meshlake.write.gate_protocol import Gate
    from meshlake.write.results import RebaseCheck

MAX_REBASES = 100
"""Re-bases after which a write gives up with `CommitConflictError`: writers of other processes (or engines) kept
committing faster than it could check its change against their commits."""


def commit_loop(
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
    the change is rebased (if nothing it depends on was touched) and checked again. After the first lost race,
    this process's other writers to the table wait for this one until it commits (`LostRaces`); after
    `MAX_REBASES` lost races (to writers elsewhere) it gives up with `CommitConflictError`. `first_report` is the
    check already run on `base_id` (by `stage_write`).
    """
    report = first_report
    with commit.LostRaces(MAX_REBASES) as races:
        while True:
            if gate is not None and (report is None or races.count):
                report = gate.check(table, base_id, change, stamps)
                faults.reached("checked", table.name())
            properties = stamps.properties(quality=verdict(report))
            if gate is not None and report is not None and not report.passed:
                table, kept = commit.commit_snapshot(
                    catalog, table, change, branch=quarantine_name, base_id=base_id, properties=properties, stats=stats
                )
                races.close()
                report = gate.record(report, kept, published=False)
                raise QualityGateError(stamps_address(table), report, quarantine_branch=quarantine_name)
            try:
                table, snapshot_id = commit.commit_snapshot(
                    catalog,
                    table,
                    change,
                    branch=MAIN_BRANCH,
                    base_id=base_id,
                    properties=properties,
                    stats=stats,
                    races=races,
                )
            except MainMovedError as moved:
                table = moved.table
                # From the first lost race, this process's writers to the table wait for this one (the lock is
                # held across the re-base, the re-check and the commit), so they cannot starve it.
                if not races.lost(table):
                    raise CommitConflictError(
                        f"main moved {races.count + 1} times while this {stamps.mode} was committing: writers "
                        "elsewhere kept committing faster than it could re-base onto their commits.",
                        address=stamps_address(table),
                    ) from None
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
                continue
            races.close()  # the waiting writers go now, not after the verdict's append to the quality history
            if gate is not None and report is not None:
                report = gate.record(report, snapshot_id, published=True)
            return table, snapshot_id, report, races.count


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
