"""Service-level objectives of a port, from metadata and the quality history only (no data scan).

- freshness: age of the latest published snapshot against `slo.freshness`;
- volume: rows of the latest snapshot against `slo.min_rows`, and the change in rows between the last
  two snapshots against `slo.max_row_change` (0.5 = ±50 %);
- quality: the share of quality runs in `slo.window` that passed, against `slo.quality_pass_rate`. The runs
  that count are the gate's verdicts (of published and of quarantined writes) and checks of `main`'s head;
  ad-hoc checks (of an old snapshot, a tag, a quarantine branch) are recorded but do not count.
- provenance: added (violated) when snapshots on `main` are foreign (`meshlake.query.provenance`): their
  rows did not pass meshlake's gate, and the next gated write checks the port in full.
Each objective is met, violated, or unknown (not declared, or nothing to judge yet), with a reason.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from meshlake.contract.durations import format_duration, parse_duration
from meshlake.query.history import port_history

if TYPE_CHECKING:
    from meshlake.lake import Lake
    from meshlake.port import Port

Status = Literal["met", "violated", "unknown"]


@dataclass(frozen=True)
class SloCheck:
    """One objective's verdict."""

    objective: str
    status: Status
    reason: str
    observed: Any = None
    target: Any = None


@dataclass(frozen=True)
class SloReport:
    """All objectives of one port at one instant."""

    address: str
    evaluated_at: datetime
    checks: tuple[SloCheck, ...] = field(default_factory=tuple)

    @property
    def status(self) -> Status:
        """violated if any objective is, met if all declared ones are, else unknown."""
        statuses = {check.status for check in self.checks}
        if "violated" in statuses:
            return "violated"
        return "met" if statuses == {"met"} else "unknown"

    def to_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "status": self.status,
            "evaluated_at": self.evaluated_at.isoformat(),
            "checks": [asdict(check) for check in self.checks],
        }


def evaluate_slo(lake: Lake, port: Port, *, at: datetime | None = None) -> SloReport:
    """Judge the port's declared objectives now (or at `at`)."""
    now = at or datetime.now(UTC)
    slo = port.contract.slo
    address = str(port.address)
    if slo is None:
        return SloReport(address, now, (SloCheck("slo", "unknown", "the port declares no slo"),))
    # a compaction (`meshlake maintain`) rewrites files, not data: it makes a port neither fresher nor bigger
    table = port.table()
    every = port_history(table.metadata, table.io)
    history = [entry for entry in every if entry.mode != "compact"]
    latest = history[-1] if history else None
    checks: list[SloCheck] = []
    if slo.freshness:
        limit = parse_duration(slo.freshness)
        if latest is None:
            checks.append(SloCheck("freshness", "unknown", "never written", None, slo.freshness))
        else:
            age = now - latest.committed_at
            status: Status = "met" if age <= limit else "violated"
            reason = f"latest snapshot is {format_duration(age)} old (limit {slo.freshness})"
            checks.append(SloCheck("freshness", status, reason, age.total_seconds(), limit.total_seconds()))
    if slo.min_rows is not None:
        if latest is None:
            checks.append(SloCheck("min_rows", "unknown", "never written", None, slo.min_rows))
        else:
            status = "met" if latest.rows_total >= slo.min_rows else "violated"
            reason = f"{latest.rows_total:,} rows (minimum {slo.min_rows:,})"
            checks.append(SloCheck("min_rows", status, reason, latest.rows_total, slo.min_rows))
    if slo.max_row_change is not None:
        checks.append(_row_change(history, slo.max_row_change))
    if slo.quality_pass_rate is not None:
        checks.append(_quality(lake, address, now, slo.window, slo.quality_pass_rate))
    foreign = [entry.snapshot_id for entry in every if entry.foreign]
    if foreign:
        reason = (
            f"{len(foreign)} of {len(every)} snapshot(s) on main were not written by meshlake or do not match their "
            f"stamps (latest {foreign[-1]}); `meshlake doctor {address}` explains"
        )
        checks.append(SloCheck("provenance", "violated", reason, len(foreign), 0))
    if not checks:
        checks.append(SloCheck("slo", "unknown", "the slo declares no objective"))
    return SloReport(address, now, tuple(checks))


def _row_change(history: Any, limit: float) -> SloCheck:
    if len(history) < 2:
        return SloCheck("max_row_change", "unknown", "fewer than two snapshots", None, limit)
    before, after = history[-2].rows_total, history[-1].rows_total
    change = abs(after - before) / max(before, 1)
    status: Status = "met" if change <= limit else "violated"
    reason = f"rows changed by {change:.1%} between the last two snapshots ({before:,} → {after:,}; limit {limit:.0%})"
    return SloCheck("max_row_change", status, reason, change, limit)


def _quality(lake: Lake, address: str, now: datetime, window: str, target: float) -> SloCheck:
    from meshlake.quality.records import read_results, reports_from_rows

    since = now - parse_duration(window)
    reports = [r for r in reports_from_rows(read_results(lake.catalog, address=address, since=since)) if not r.ad_hoc]
    if not reports:
        return SloCheck("quality_pass_rate", "unknown", f"no quality check in the last {window}", None, target)
    passed = sum(1 for report in reports if report.passed)
    rate = passed / len(reports)
    status: Status = "met" if rate >= target else "violated"
    reason = f"{passed} of {len(reports)} quality runs passed in the last {window} ({rate:.0%}; target {target:.0%})"
    return SloCheck("quality_pass_rate", status, reason, rate, target)
