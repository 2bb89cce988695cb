"""The quality history: every check run appends its results to `meshlake.system.quality_results`.

The table is an ordinary Iceberg table in meshlake's reserved namespace, so it reads through
`lake.duckdb()` like any port: `SELECT * FROM meshlake.system.quality_results`.

A record is one Iceberg append on the write path of every gated write, so it is lean: the rows, already in
the table's schema, go straight to a data file and a commit (`meshlake.write.system_table`, shared with the
access log). Tables made before a column existed (`method`, `ad_hoc`, `ran_on`) get it (optional, NULL in older rows)
the first time this version opens them.

Who ran a check is the `trigger`: `gate` (a write's verdict, `published` or quarantined), `check` (a check
of a snapshot; `ad_hoc` when it was not `main`'s head, so it does not count in the SLO), `release` (a
quarantined write checked again before it is published) or `recovered` (see below).

The verdict stamped on a snapshot (`meshlake.quality`) is the truth; the history is completed from it. A
writer that dies between its commit and its record leaves a stamped snapshot without rows: the next write
or check of the port finds such snapshots (the newest `RECOVERY_DEPTH` of `main`, and quarantine heads,
committed more than `RECOVERY_GRACE` ago) and records their stamped verdict with `trigger = 'recovered'`,
under the writer's run id. Should the writer record after all, its own rows win (`reports_from_rows`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.io import FileIO
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.table.refs import SnapshotRefType
from pyiceberg.table.snapshots import Snapshot
from pyiceberg.types import (
    BooleanType,
    DoubleType,
    LongType,
    StringType,
    TimestamptzType,
)

from meshlake.catalog.metadata import ancestors, snapshot_by_id
from meshlake.contract.stamps import QUALITY, RUN_ID
from meshlake.quality.report import ExpectationResult, QualityReport
from meshlake.query.provenance import provenance
from meshlake.write.commit import QUARANTINE_PREFIX
from meshlake.write.system_table import SystemTable

_FIELDS = (
    ("address", StringType(), True),
    ("snapshot_id", LongType(), False),
    ("run_id", StringType(), True),
    ("trigger", StringType(), True),
    ("published", BooleanType(), False),
    ("engine", StringType(), True),
    ("expectation", StringType(), True),
    ("kwargs", StringType(), False),
    ("column_name", StringType(), False),
    ("scope", StringType(), True),
    ("status", StringType(), True),
    ("success", BooleanType(), True),
    ("observed_value", StringType(), False),
    ("element_count", LongType(), False),
    ("unexpected_count", LongType(), False),
    ("unexpected_percent", DoubleType(), False),
    ("error", StringType(), False),
    ("sample", StringType(), False),
    ("checked_at", TimestamptzType(), True),
    ("method", StringType(), False),
    ("ad_hoc", BooleanType(), False),
    ("ran_on", StringType(), False),
)
RESULTS = SystemTable("quality_results", _FIELDS, "Every expectation result of every quality check run.")
RESULTS_TABLE = RESULTS.identifier
RESULTS_ADDRESS = RESULTS.address
RESULTS_SCHEMA = RESULTS.schema


def report_rows(report: QualityReport, *, trigger: str, published: bool | None) -> pa.Table:
    """A report as rows of the quality-results table."""
    rows: list[dict[str, Any]] = []
    for result in report.results:
        rows.append(
            {
                "address": report.address,
                "snapshot_id": report.snapshot_id,
                "run_id": report.run_id,
                "trigger": trigger,
                "published": published,
                "engine": report.engine,
                "expectation": result.expectation,
                "kwargs": json.dumps(result.kwargs, default=str, sort_keys=True),
                "column_name": result.column,
                "scope": result.scope,
                "status": result.status,
                "success": result.success,
                "observed_value": None
                if result.observed_value is None
                else json.dumps(result.observed_value, default=str),
                "element_count": result.element_count,
                "unexpected_count": result.unexpected_count,
                "unexpected_percent": result.unexpected_percent,
                "error": result.error,
                "sample": json.dumps(result.sample, default=str) if result.sample else None,
                "checked_at": report.checked_at.astimezone(UTC),
                "method": result.method,
                "ad_hoc": report.ad_hoc,
                "ran_on": result.ran_on,
            }
        )
    return pa.Table.from_pylist(rows, schema=RESULTS.arrow_schema)


def append_results(
    catalog: Catalog, warehouse: str | None, reports: Sequence[tuple[QualityReport, str, bool | None]]
) -> None:
    """Append reports (report, trigger, published) to the quality history as one snapshot."""
    tables = [report_rows(report, trigger=trigger, published=published) for report, trigger, published in reports]
    if tables:
        RESULTS.append(catalog, warehouse, pa.concat_tables(tables))


def now() -> datetime:
    return datetime.now(UTC)


def read_results(
    catalog: Catalog,
    *,
    address: str,
    since: datetime | None = None,
    snapshot_ids: Sequence[int] | None = None,
    columns: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Rows of the quality history for one port (optionally since an instant or for some snapshots).

    `columns` (names of `RESULTS_SCHEMA`) narrows what is read; each distinct row is returned once then.
    """
    import duckdb

    from meshlake.query.engine import register_filesystems
    from meshlake.query.plan import plan_snapshot
    from meshlake.query.sql import scan_sql

    try:
        table = catalog.load_table(RESULTS_TABLE)
    except NoSuchTableError:
        return []
    plan = plan_snapshot(table.metadata, table.io, table.metadata.current_snapshot_id, name=RESULTS_ADDRESS)
    conditions, params = ["address = $address"], {"address": address}
    if since is not None:
        conditions.append("checked_at >= $since")
        params["since"] = since  # type: ignore[assignment]
    if snapshot_ids is not None:
        conditions.append(f"snapshot_id IN ({', '.join(str(int(i)) for i in snapshot_ids) or 'NULL'})")
    con = duckdb.connect()
    try:
        register_filesystems(con, plan, table.io)
        known = {name for name, _, _ in _FIELDS}
        if columns is not None and not set(columns) <= known:
            raise ValueError(f"unknown quality-history column(s): {sorted(set(columns) - known)}")
        select = "*" if columns is None else "DISTINCT " + ", ".join(columns)
        order = " ORDER BY checked_at" if columns is None else ""
        query = f"SELECT {select} FROM ({scan_sql(plan)}) WHERE {' AND '.join(conditions)}{order}"
        rows: list[dict[str, Any]] = con.sql(query, params=params).to_arrow_table().to_pylist()
    finally:
        con.close()
    return rows


def reports_from_rows(rows: Sequence[dict[str, Any]]) -> list[QualityReport]:
    """Group history rows back into reports (one per run and snapshot).

    A recovered verdict gives way to the writer's own record of the same run and snapshot, if both exist.
    """
    grouped: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault((row["run_id"], row["snapshot_id"]), []).append(row)
    reports = []
    for (run_id, snapshot_id), group in grouped.items():
        own = [item for item in group if item.get("trigger") != RECOVERED]
        items = own or group
        results = tuple(
            ExpectationResult(
                expectation=item["expectation"],
                kwargs=json.loads(item["kwargs"] or "{}"),
                status=item["status"],
                scope=item["scope"],
                observed_value=json.loads(item["observed_value"]) if item["observed_value"] is not None else None,
                element_count=item["element_count"],
                unexpected_count=item["unexpected_count"],
                unexpected_percent=item["unexpected_percent"],
                error=item["error"],
                sample=json.loads(item["sample"]) if item.get("sample") else [],
                method=item.get("method") or "full",
                ran_on=item.get("ran_on"),
            )
            for item in items
        )
        first = items[0]
        reports.append(
            QualityReport(
                first["address"],
                snapshot_id,
                run_id,
                first["engine"],
                first["checked_at"],
                results,
                ad_hoc=bool(first.get("ad_hoc")),
            )
        )
    return reports


# -- completing the history from the stamps ------------------------------------------------------------

RECOVERED = "recovered"
RECOVERY_GRACE = timedelta(seconds=2)
"""A stamped snapshot younger than this may still be recorded by its writer: it is not recovered yet."""
RECOVERY_DEPTH = 100
"""How many of `main`'s newest gated snapshots a write or check looks at for a missing record."""
_KNOWN_LIMIT = 100_000

_KNOWN: dict[str, set[int]] = {}
"""Per table uuid: snapshot ids this process knows to be in the history (recorded or looked up)."""
_KNOWN_LOCK = threading.Lock()


def unrecorded_verdicts(
    catalog: Catalog,
    metadata: TableMetadata,
    address: str,
    *,
    head_id: int | None,
    exclude: Iterable[int] = (),
    at: datetime | None = None,
    io: FileIO | None = None,
) -> list[tuple[QualityReport, bool]]:
    """Stamped snapshots of the port without a record, as (report from the stamp, published) to append.

    Looks at the newest `RECOVERY_DEPTH` gated snapshots behind `head_id` on `main` and at quarantine
    branch heads, leaving out `exclude`, those this process knows are recorded and those younger than
    `RECOVERY_GRACE` (as of `at`). One query of the history, only when there is anything to look up.
    With `io`, a foreign snapshot's stamp (`meshlake.query.provenance`) is never taken for a verdict.
    """
    uuid = str(metadata.table_uuid)
    cutoff_ms = int(((at or now()) - RECOVERY_GRACE).timestamp() * 1000)
    skip = set(exclude)
    with _KNOWN_LOCK:
        known = set(_KNOWN.get(uuid, ()))
    candidates: dict[int, tuple[Snapshot, bool]] = {}
    for snapshot, published in _gated_snapshots(metadata, head_id, known):
        sid = snapshot.snapshot_id
        if sid in known or sid in skip or snapshot.timestamp_ms > cutoff_ms:
            continue
        if io is not None and provenance(uuid, snapshot, io).foreign:
            continue
        candidates.setdefault(sid, (snapshot, published))
    if not candidates:
        return []
    rows = read_results(catalog, address=address, snapshot_ids=list(candidates), columns=["snapshot_id"])
    recorded = {row["snapshot_id"] for row in rows}
    remember_recorded(uuid, recorded)
    return [
        (_report_from_stamp(address, snapshot), published)
        for sid, (snapshot, published) in candidates.items()
        if sid not in recorded
    ]


def remember_recorded(table_uuid: str, snapshot_ids: Iterable[int]) -> None:
    """Note snapshots whose verdict is in the history, so later writes of this process skip them."""
    with _KNOWN_LOCK:
        known = _KNOWN.setdefault(table_uuid, set())
        if len(known) > _KNOWN_LIMIT:
            known.clear()
        known.update(snapshot_ids)


def _gated_snapshots(
    metadata: TableMetadata, head_id: int | None, known: Collection[int] = ()
) -> list[tuple[Snapshot, bool]]:
    """The newest `RECOVERY_DEPTH` stamped snapshots behind `head_id` (published), then quarantine heads.

    Snapshots in `known` (recorded, hence stamped) count without their stamp being read.
    """
    found: list[tuple[Snapshot, bool]] = []
    for snapshot in ancestors(metadata, snapshot_by_id(metadata, head_id)):
        if len(found) >= RECOVERY_DEPTH:
            break
        if snapshot.snapshot_id in known or _stamp(snapshot) is not None:
            found.append((snapshot, True))
    for name, ref in metadata.refs.items():
        if ref.snapshot_ref_type == SnapshotRefType.BRANCH and name.startswith(QUARANTINE_PREFIX):
            branch_head = snapshot_by_id(metadata, ref.snapshot_id)
            if branch_head is not None and _stamp(branch_head) is not None:
                found.append((branch_head, False))
    return found


def _stamp(snapshot: Snapshot) -> dict[str, Any] | None:
    props = snapshot.summary.additional_properties if snapshot.summary else {}
    try:
        stamp = json.loads(props[QUALITY])
    except (KeyError, TypeError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) and stamp.get("verdict") in ("passed", "failed") else None


def _report_from_stamp(address: str, snapshot: Snapshot) -> QualityReport:
    """The verdict a snapshot carries, as a report: the stamp keeps the verdict and the failed expectations."""
    stamp = _stamp(snapshot) or {}
    props = snapshot.summary.additional_properties if snapshot.summary else {}
    note = "recovered from the snapshot's meshlake.quality stamp (the writer stopped before recording it)"
    failed = [str(name) for name in stamp.get("failed") or []]
    results: tuple[ExpectationResult, ...]
    if stamp.get("verdict") == "passed":
        results = (
            ExpectationResult(
                "all_expectations_passed", {"expectations": stamp.get("expectations")}, "passed", observed_value=note
            ),
        )
    else:
        results = tuple(
            ExpectationResult(name, {}, "failed", observed_value=note) for name in failed or ["unknown_expectation"]
        )
    return QualityReport(
        address,
        snapshot.snapshot_id,
        props.get(RUN_ID) or f"recovered-{snapshot.snapshot_id}",
        str(stamp.get("engine") or "unknown"),
        datetime.fromtimestamp(snapshot.timestamp_ms / 1000, tz=UTC),
        results,
    )
