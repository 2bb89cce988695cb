"""Tracing the lineage graph: the exact input snapshots a snapshot was built from, and who read a snapshot.

Upstream follows the `meshlake.inputs` stamps (the pinned snapshots, not today's); downstream finds every kept
snapshot of every port whose stamp names the snapshot, and what was built from those in turn. A stamp naming
a port no product has any more, or a snapshot its port no longer keeps (expired), is a step with that status,
never dropped; a step already shown on the path is marked `cycle` and not followed again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from meshlake.lineage.graph import LineageGraph, SnapshotRecord

StepStatus = Literal["ok", "missing-port", "missing-snapshot", "hidden", "broken", "cycle"]


@dataclass(frozen=True)
class Step:
    """One snapshot reached by a trace, `depth` stamps away from where it started."""

    depth: int
    address: str
    snapshot_id: int
    status: StepStatus
    via_address: str
    via_snapshot_id: int
    """The snapshot whose stamp led here (upstream: the reader; downstream: the snapshot read)."""
    committed_at: datetime | None = None
    run_id: str | None = None
    verdict: str | None = None
    on_main: bool | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "depth": self.depth,
            "address": self.address,
            "snapshot_id": self.snapshot_id,
            "status": self.status,
            "via": f"{self.via_address}@{self.via_snapshot_id}",
            "committed_at": self.committed_at.isoformat() if self.committed_at else None,
            "run_id": self.run_id,
            "verdict": self.verdict,
            "on_main": self.on_main,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Trace:
    """Where a trace started and the steps it found, in depth-first order."""

    direction: Literal["upstream", "downstream"]
    address: str
    snapshot_id: int
    steps: tuple[Step, ...]
    hidden_readers: tuple[str, ...] = ()
    """Downstream: ports the caller may not read whose products declare reading a port of the trace (their
    snapshots, and whether they read these ones, are not shown)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "direction": self.direction,
            "address": self.address,
            "snapshot_id": self.snapshot_id,
            "steps": [step.to_dict() for step in self.steps],
            "hidden_readers": list(self.hidden_readers),
        }


def upstream(graph: LineageGraph, address: str, snapshot_id: int, *, depth: int | None = None) -> Trace:
    """The input snapshots `address@snapshot_id` was built from, recursively (at most `depth` stamps away)."""
    steps: list[Step] = []
    _up(graph, address, snapshot_id, 1, depth, (f"{address}@{snapshot_id}",), steps)
    return Trace("upstream", address, snapshot_id, tuple(steps))


def _up(
    graph: LineageGraph,
    address: str,
    snapshot_id: int,
    level: int,
    limit: int | None,
    path: tuple[str, ...],
    out: list[Step],
) -> None:
    record = graph.snapshot(address, snapshot_id)
    if record is None or (limit is not None and level > limit):
        return
    for source, source_id in sorted(record.inputs.items()):
        step = _step(graph, source, source_id, level, address, snapshot_id, path)
        out.append(step)
        if step.status == "ok":
            _up(graph, source, source_id, level + 1, limit, (*path, f"{source}@{source_id}"), out)


def downstream(graph: LineageGraph, address: str, snapshot_id: int, *, depth: int | None = None) -> Trace:
    """Every kept snapshot built from `address@snapshot_id`, and what was built from those (impact)."""
    steps: list[Step] = []
    _down(graph, address, snapshot_id, 1, depth, (f"{address}@{snapshot_id}",), steps)
    traced = {address} | {step.address for step in steps}
    hidden = sorted(
        {target for source, target in graph.declared if source in traced and graph.port(target).status == "hidden"}
    )
    return Trace("downstream", address, snapshot_id, tuple(steps), tuple(hidden))


def _down(
    graph: LineageGraph,
    address: str,
    snapshot_id: int,
    level: int,
    limit: int | None,
    path: tuple[str, ...],
    out: list[Step],
) -> None:
    if limit is not None and level > limit:
        return
    for reader in graph.readers_of(address, snapshot_id):
        key = f"{reader.address}@{reader.snapshot_id}"
        status: StepStatus = "cycle" if key in path else "ok"
        out.append(_from_record(reader, level, address, snapshot_id, status))
        if status == "ok":
            _down(graph, reader.address, reader.snapshot_id, level + 1, limit, (*path, key), out)


def _step(
    graph: LineageGraph, address: str, snapshot_id: int, level: int, via: str, via_id: int, path: tuple[str, ...]
) -> Step:
    port = graph.port(address)
    if f"{address}@{snapshot_id}" in path:
        return Step(level, address, snapshot_id, "cycle", via, via_id, reason="already on this path")
    if port.status == "missing":
        return Step(level, address, snapshot_id, "missing-port", via, via_id, reason=port.reason)
    if port.status in ("hidden", "broken"):
        return Step(level, address, snapshot_id, port.status, via, via_id, reason=port.reason)
    record = port.snapshots.get(snapshot_id)
    if record is None:
        return Step(
            level,
            address,
            snapshot_id,
            "missing-snapshot",
            via,
            via_id,
            reason="the port no longer keeps this snapshot (expired or rolled away)",
        )
    return _from_record(record, level, via, via_id, "ok")


def _from_record(record: SnapshotRecord, level: int, via: str, via_id: int, status: StepStatus) -> Step:
    return Step(
        level,
        record.address,
        record.snapshot_id,
        status,
        via,
        via_id,
        committed_at=record.committed_at,
        run_id=record.run_id,
        verdict=record.verdict,
        on_main=record.on_main,
        reason="the quality gate stopped this write" if record.stopped else None,
    )
