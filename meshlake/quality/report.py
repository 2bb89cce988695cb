"""Check results as data: one `ExpectationResult` per expectation, one `QualityReport` per run."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

Status = Literal["passed", "failed", "errored"]
Scope = Literal["new_rows", "table"]
Method = Literal["full", "incremental"]
"""How a result was computed: `full` read everything its scope covers; `incremental` (table checks of an
append) combined the base snapshot's stamped aggregates with the new rows (see `meshlake.quality.incremental`)."""


@dataclass(frozen=True)
class ExpectationResult:
    """The outcome of one expectation on one snapshot."""

    expectation: str
    kwargs: dict[str, Any]
    status: Status
    scope: Scope = "table"
    observed_value: Any = None
    element_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    sample: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    method: Method = "full"
    ran_on: str | None = field(default=None, compare=False, repr=False)
    """Where a uniqueness check of a distributed write ran: `driver` (meshlake's DuckDB over the staged files) or
    the engine's name (`daft`, `ray`: a shuffle by key on its workers); None for every other check. Not part of
    the result's value: the same result computed in two places compares equal."""

    @property
    def success(self) -> bool:
        return self.status == "passed"

    @property
    def severity(self) -> str:
        """`error` (a failure stops the write) or `warn` (a failure is reported and recorded only)."""
        return "warn" if self.kwargs.get("severity") == "warn" else "error"

    @property
    def blocking(self) -> bool:
        """True when this result stops the write: it did not pass and its severity is `error`."""
        return not self.success and self.severity == "error"

    @property
    def column(self) -> str | None:
        column = self.kwargs.get("column")
        return str(column) if column is not None else None

    def summary(self) -> str:
        """One line: expectation, column, status and what was observed."""
        target = f"({self.column})" if self.column else ""
        if self.status == "errored":
            return f"{self.expectation}{target}: errored: {self.error}"
        details = []
        if self.observed_value is not None or self.unexpected_count is None:
            details.append(f"observed {self.observed_value!r}")
        if self.unexpected_count is not None:
            of = f" of {self.element_count} rows" if self.element_count is not None else ""
            details.append(f"{self.unexpected_count} unexpected{of}")
        return f"{self.expectation}{target}: {self.status}, {', '.join(details)}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"success": self.success, "severity": self.severity}


@dataclass(frozen=True)
class QualityReport:
    """All expectation results of one check run on one snapshot."""

    address: str
    snapshot_id: int | None
    run_id: str
    engine: str
    checked_at: datetime
    results: tuple[ExpectationResult, ...]
    basis: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    """What the next append's check can build on (`fingerprint`, `rows`, `aggregates` by expectation index),
    stamped on the published snapshot with the verdict; None when the engine keeps none."""
    ad_hoc: bool = False
    """A check of something other than `main`'s head (an old snapshot, a tag, a quarantine branch): recorded,
    but not counted in the port's quality SLO."""

    @property
    def passed(self) -> bool:
        """True when no `error`-severity expectation failed or errored (a `warn` one only warns)."""
        return not any(result.blocking for result in self.results)

    @property
    def failed(self) -> tuple[ExpectationResult, ...]:
        """The results that stop the write (`error` severity, failed or errored)."""
        return tuple(result for result in self.results if result.blocking)

    @property
    def warnings(self) -> tuple[ExpectationResult, ...]:
        """The `warn`-severity results that failed or errored: reported and recorded, the write goes on."""
        return tuple(result for result in self.results if not result.success and not result.blocking)

    def to_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "snapshot_id": self.snapshot_id,
            "run_id": self.run_id,
            "engine": self.engine,
            "checked_at": self.checked_at.isoformat(),
            "passed": self.passed,
            "ad_hoc": self.ad_hoc,
            "results": [result.to_dict() for result in self.results],
        }
