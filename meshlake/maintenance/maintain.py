"""`lake.maintain()`: keep each port's history within its retention, remove orphan files, compact small files.

A dry run by default: nothing changes and the report says what would be done; `apply=True` does it.
Per port, in order (each step can be turned off):

1. **expire**: quarantine branches older than the lake's `quarantine_retention`, other `meshlake-*` branches
   older than a day (crashed writers' staging leftovers), then snapshots outside `retention` (see
   `meshlake.maintenance.expire` for what is always kept: tags, branches, `min_snapshots`, the window);
2. **orphans**: files under the table's `data/` and `metadata/` no live snapshot or metadata file refers to,
   older than `orphan_age` (default 1 h: a writer may not have committed its files yet);
3. **compact**: partitions with many small data files rewritten into few, as one `compact` snapshot.

One broken port or product (its table cannot be loaded, its descriptor cannot be read) never stops the
run: it is reported (address and reason, in `report.errors`) and the others are maintained.

meshlake's own quality history (`meshlake.system.quality_results`, one snapshot per check run) is maintained
too when no product is named: it keeps a day of snapshots and at least its newest 100 (`SYSTEM_RETENTION`).

Maintenance with `apply` changes ports, so in a lake with a mesh policy it is for owners and admins: a named
product or port the caller does not own raises `AccessDeniedError`; a lake-wide run maintains what the caller
owns (everything, for an admin) and reports the rest in `skipped`.

>>> report = lake.maintain()                        # doctest: +SKIP
>>> report = lake.maintain("logistics.shipments", apply=True)   # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.table import Table

from meshlake.contract.address import SYSTEM_DOMAIN, Address
from meshlake.contract.descriptor import Retention
from meshlake.contract.durations import format_duration, parse_duration
from meshlake.contract.stamps import new_run_id
from meshlake.maintenance.compact import Compaction, Options
from meshlake.maintenance.compact import compact as compact_table
from meshlake.maintenance.expire import Policy
from meshlake.maintenance.expire import expire as expire_table
from meshlake.maintenance.orphans import delete_orphans, find_orphans

if TYPE_CHECKING:
    from meshlake.contract.principals import Principal
    from meshlake.lake import Lake
    from meshlake.port import Port

SYSTEM_RETENTION = Retention(time_travel="1d", min_snapshots=100)
ORPHAN_AGE = "1h"

Progress = Callable[[str, str], None]
"""Called with (address, step) as work goes: step is `expire`, `orphans`, `compact`, `compact 2/7` or `done`."""


class FileCounts(NamedTuple):
    """Data files before → after a compaction: the small files rewritten, the files written in their place.

    In a dry run `after` is the number of rewrite groups: at least one file each.
    """

    before: int
    after: int


@dataclass
class PortMaintenance:
    """What maintenance did (or, in a dry run, would do) to one port."""

    address: str
    snapshots_expired: list[int] = field(default_factory=list)
    snapshots_kept: int = 0
    quarantine_removed: list[str] = field(default_factory=list)
    stale_branches_removed: list[str] = field(default_factory=list)
    orphan_files: list[str] = field(default_factory=list)
    """Orphans found (old enough to remove); with `apply` they are deleted (see `orphan_files_removed`)."""
    orphan_bytes: int = 0
    orphan_files_removed: list[str] = field(default_factory=list)
    orphan_files_too_young: int = 0
    """Unreferenced files younger than the safety age: left alone (a writer may still commit them)."""
    files_compacted: FileCounts | None = None
    compaction: dict[str, Any] | None = None
    planning_ms_before: float | None = None
    planning_ms_after: float | None = None
    errors: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        """Whether anything was (or would be) done."""
        return bool(
            self.snapshots_expired
            or self.quarantine_removed
            or self.stale_branches_removed
            or self.orphan_files
            or self.files_compacted
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["files_compacted"] = self.files_compacted._asdict() if self.files_compacted else None
        return data


@dataclass
class MaintenanceReport:
    """One maintenance run: per port, what was (or would be) done, and every error."""

    applied: bool
    now: datetime
    orphan_age: timedelta
    steps: dict[str, bool]
    ports: list[PortMaintenance] = field(default_factory=list)
    seconds: float = 0.0
    skipped: dict[str, str] = field(default_factory=dict)
    """Tables left alone because the caller may not change them: address → the grant it lacks."""

    @property
    def errors(self) -> list[str]:
        return [f"{port.address}: {error}" for port in self.ports for error in port.errors]

    @property
    def ok(self) -> bool:
        return not self.errors

    def port(self, address: str) -> PortMaintenance:
        return next(p for p in self.ports if p.address == address)

    def to_dict(self) -> dict[str, Any]:
        return {
            "applied": self.applied,
            "now": self.now.isoformat(),
            "orphan_age": format_duration(self.orphan_age),
            "steps": dict(self.steps),
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "ports": [port.to_dict() for port in self.ports],
            "skipped": dict(self.skipped),
            "errors": self.errors,
        }


@dataclass(frozen=True)
class Target:
    """One table to maintain: how to load it and how long it keeps its history.

    `problem` is set for a port (or product) that could not even be listed: it is reported, not maintained.
    """

    address: str
    load: Callable[[], Table]
    retention: Retention
    product_version: str
    owners: tuple[Principal, ...] = ()
    """Who may change it besides the mesh admins (none: meshlake's own tables)."""
    problem: str | None = None


def is_broken_part(exc: BaseException) -> bool:
    """Whether `exc` says one port or product is broken (report it, go on), rather than a bug in meshlake."""
    from meshlake.errors import MeshlakeError

    return isinstance(exc, MeshlakeError | OSError | ValueError) or type(exc).__module__.startswith("pyiceberg")


def describe_failure(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def maintain(
    lake: Lake,
    product: str | None = None,
    *,
    apply: bool = False,
    expire: bool = True,
    orphans: bool = True,
    compact: bool = True,
    now: datetime | None = None,
    orphan_age: str | timedelta = ORPHAN_AGE,
    compaction: Options | None = None,
    progress: Progress | None = None,
) -> MaintenanceReport:
    """Maintain every port (or those of `product`, `domain.product`, or one port `domain.product.port`).

    `now` is the instant retention is judged at (default: now; a later one previews what will expire).
    The orphan safety age `orphan_age` is always counted back from the real clock (or an earlier `now`).
    `compaction` sets when a partition is compacted (`meshlake.maintenance.compact.Options`).
    """
    tables = targets(lake, product)
    if apply and product is not None:
        check_owned(lake, tables)
    return run(
        lake,
        tables,
        apply=apply,
        steps={"expire": expire, "orphans": orphans, "compact": compact},
        now=now,
        orphan_age=orphan_age,
        compaction=compaction,
        progress=progress,
    )


def targets(lake: Lake, selection: str | None = None) -> list[Target]:
    """The tables `maintain(lake, selection)` works on, in order."""
    from meshlake.quality.records import RESULTS_ADDRESS, RESULTS_TABLE

    system = Target(RESULTS_ADDRESS, lambda: lake.catalog.load_table(RESULTS_TABLE), SYSTEM_RETENTION, "1")
    if selection is not None and selection.split(".")[0] == SYSTEM_DOMAIN:
        return [system]
    if selection is not None and selection.count(".") == 2:
        ports = [lake.port(Address.parse(selection))]
    elif selection is not None:
        ports = lake.product(selection).ports
    else:
        return [*_every_port(lake), *([system] if lake.catalog.table_exists(RESULTS_TABLE) else [])]
    found = [port_target(port) for port in ports]
    if selection is None and lake.catalog.table_exists(RESULTS_TABLE):
        found.append(system)
    return found


def port_target(port: Port) -> Target:
    return Target(
        str(port.address), port.table, port.contract.retention_policy, port.descriptor.version, port.descriptor.owners
    )


def check_owned(lake: Lake, tables: list[Target]) -> None:
    """Raise `AccessDeniedError` for the first of `tables` the caller may not maintain (named work is all or none)."""
    for target in tables:
        lake.check_write(target.owners, action="maintain", address=target.address)


def _every_port(lake: Lake) -> list[Target]:
    """A target per port of every deployed product; a product that cannot be read is one broken target."""
    from meshlake.contract.registry import list_products

    found = []
    for name in list_products(lake.catalog):
        try:
            ports = lake.product(str(name)).ports
        except Exception as exc:
            if not is_broken_part(exc):
                raise
            found.append(_broken(str(name), f"the product cannot be read: {describe_failure(exc)}"))
            continue
        found.extend(port_target(port) for port in ports)
    return found


def _broken(address: str, problem: str) -> Target:
    def load() -> Table:
        raise AssertionError("a broken target is never loaded")

    return Target(address, load, SYSTEM_RETENTION, "", problem=problem)


def run(
    lake: Lake,
    tables: list[Target],
    *,
    apply: bool,
    steps: dict[str, bool],
    now: datetime | None = None,
    orphan_age: str | timedelta = ORPHAN_AGE,
    compaction: Options | None = None,
    progress: Progress | None = None,
) -> MaintenanceReport:
    """Maintain `tables`, one after the other; an error stops that table's later steps, not the run."""
    started = time.perf_counter()
    when = now or datetime.now(UTC)
    if when.tzinfo is None:
        raise ValueError("now= must be timezone-aware, e.g. datetime(2026, 11, 1, tzinfo=UTC)")
    age = parse_duration(orphan_age) if isinstance(orphan_age, str) else orphan_age
    report = MaintenanceReport(applied=apply, now=when, orphan_age=age, steps=dict(steps))
    job = _Job(lake, apply, steps, when, age, compaction or Options(), progress or _quiet, new_run_id())
    for target in tables:
        refusal = lake.write_refusal(target.owners, action="maintain", address=target.address) if apply else None
        if refusal is not None:
            report.skipped[target.address] = refusal
            (progress or _quiet)(target.address, "done")
            continue
        report.ports.append(job.maintain(target))
    report.seconds = time.perf_counter() - started
    return report


def _quiet(address: str, step: str) -> None:
    return None


@dataclass
class _Job:
    lake: Lake
    apply: bool
    steps: dict[str, bool]
    now: datetime
    orphan_age: timedelta
    options: Options
    progress: Progress
    run_id: str

    def maintain(self, target: Target) -> PortMaintenance:
        result = PortMaintenance(target.address)
        if target.problem is not None:
            result.errors.append(target.problem)
            self.progress(target.address, "done")
            return result
        try:
            table = target.load()
        except NoSuchTableError:
            if not target.address.startswith(f"{SYSTEM_DOMAIN}."):
                result.errors.append("the port's table does not exist; run `meshlake deploy` for its product")
            self.progress(target.address, "done")
            return result
        except Exception as exc:  # a broken table (e.g. its metadata file is gone): report it, go on
            if not is_broken_part(exc):
                raise
            result.errors.append(f"the port's table cannot be loaded: {describe_failure(exc)}; nothing was done")
            self.progress(target.address, "done")
            return result
        expired: set[int] = set()
        for step in ("expire", "orphans", "compact"):
            if not self.steps.get(step, True):
                continue
            if step == "orphans" and result.errors:  # never delete files while anything is in doubt
                result.errors.append("orphans: skipped after the error above")
                continue
            self.progress(target.address, step)
            started = time.perf_counter()
            try:
                if step == "expire":
                    table = self._expire(table, target, result, expired)
                elif step == "orphans":
                    self._orphans(table, result, expired)
                else:
                    table = self._compact(table, target, result)
            except Exception as exc:  # one table's failure must not stop the others
                result.errors.append(f"{step}: {type(exc).__name__}: {exc}")
            result.seconds[step] = round(time.perf_counter() - started, 3)
        self.progress(target.address, "done")
        return result

    def _expire(self, table: Table, target: Target, result: PortMaintenance, expired: set[int]) -> Table:
        policy = Policy(
            time_travel=parse_duration(target.retention.time_travel),
            min_snapshots=target.retention.min_snapshots,
            quarantine=parse_duration(self.lake.settings.quarantine_retention),
        )
        table, expiry = expire_table(self.lake.catalog, table, policy, now=self.now, apply=self.apply)
        result.quarantine_removed = expiry.quarantine
        result.stale_branches_removed = expiry.staging
        result.snapshots_expired = expiry.snapshots
        result.snapshots_kept = expiry.kept
        expired.update(expiry.snapshots)
        if expiry.lost_refs:
            result.errors.append(
                f"expire: ref(s) {', '.join(expiry.lost_refs)} were created during maintenance on a snapshot it "
                "expired, and went with it; their files are kept (orphan removal skipped)"
            )
        return table

    def _orphans(self, table: Table, result: PortMaintenance, expired: set[int]) -> None:
        # A dry run judges files as if its expiry had happened, so both runs report the same orphans.
        live = [s for s in table.metadata.snapshots if s.snapshot_id not in expired]
        # The safety age protects writers running now, in real time: a `now` in the future does not shorten it.
        cutoff = min(self.now, datetime.now(UTC)) - self.orphan_age
        scan = find_orphans(table, live, older_than=cutoff)
        result.orphan_files = [f.location for f in scan.orphans]
        result.orphan_bytes = scan.orphan_bytes
        result.orphan_files_too_young = len(scan.young)
        if self.apply and scan.orphans:
            deleted, errors = delete_orphans(table, scan)
            result.orphan_files_removed = [f.location for f in deleted]
            result.errors.extend(f"orphans: {error}" for error in errors)

    def _compact(self, table: Table, target: Target, result: PortMaintenance) -> Table:
        def on_group(done: int, total: int) -> None:
            self.progress(target.address, f"compact {done}/{total}")

        table, done = compact_table(
            self.lake.catalog,
            table,
            product_version=target.product_version,
            run_id=self.run_id,
            apply=self.apply,
            options=self.options,
            on_group=on_group,
        )
        if done.groups:
            result.files_compacted = FileCounts(done.files_before, done.files_after)
            result.compaction = _compaction_dict(done)
            result.planning_ms_before = done.planning_ms_before
            result.planning_ms_after = done.planning_ms_after
        return table


def _compaction_dict(done: Compaction) -> dict[str, Any]:
    return {
        "partitions": done.partitions,
        "files_before": done.files_before,
        "files_after": done.files_after,
        "bytes_before": done.bytes_before,
        "bytes_after": done.bytes_after,
        "rows": done.rows,
        "data_files_before": done.data_files_before,
        "data_files_after": done.data_files_after,
        "snapshot_id": done.snapshot_id,
        "rebases": done.rebases,
    }
