"""The quality gate as the write engine sees it: a protocol handed in (so `write` does not depend on `quality`),
run on a prepared change (`checked`)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Protocol

from pyiceberg.table import Table

from meshlake.contract.stamps import Stamps
from meshlake.write.commit import Change
from meshlake.write.datafiles import RowGroupObserver
from meshlake.write.staged_manifests import delete_all

if TYPE_CHECKING:
    from meshlake.quality.report import QualityReport
    from meshlake.write.results import Prepared


class Gate(Protocol):
    """A port's quality gate: checks a staged change before it is committed, and records the verdict."""

    def check(
        self, table: Table, base_id: int | None, change: Change, stamps: Stamps, streamed: Any = None
    ) -> QualityReport:
        """Run the expectations on `base_id` + `change` (the staged snapshot), reading files in place; `streamed`:
        what the gate's `tap` measured on the rows of `change.new_rows` while they were written."""
        ...

    def tap(self, table: Table, mode: str) -> MetricTap | None:
        """An observer of the row groups a write of `mode` encodes, measuring what the check needs of them."""
        ...

    def metric_plan(self, table: Table, mode: str) -> Any:
        """What a tap measures (it pickles: distributed workers measure it), or None."""
        ...

    def record(self, report: QualityReport, snapshot_id: int, *, published: bool) -> QualityReport:
        """Append the report to the quality history, for the committed snapshot; returns it with the id."""
        ...


class MetricTap(RowGroupObserver, Protocol):
    """A gate's observer of a write's row groups (`meshlake.quality.metrics.MetricTap`)."""

    def partials(self) -> Any:
        """What it measured (handed to `Gate.check` as `streamed`), or None."""
        ...


def checked(
    gate: Gate | None, table: Table, base_id: int | None, prepared: Prepared, stamps: Stamps, streamed: Any
) -> QualityReport | None:
    """The gate's report on the prepared change (None without a gate or a change), timed as the `gate` phase; a
    gate that raises deletes the write's files first."""
    if gate is None or prepared.change.is_empty:
        return None
    checking = time.perf_counter()
    try:
        report = gate.check(table, base_id, prepared.change, stamps, streamed=streamed)
    except BaseException:
        delete_all(table, prepared.written_paths)
        raise
    prepared.phases["gate"] = time.perf_counter() - checking
    return report
