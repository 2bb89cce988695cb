"""The quality history: every check run appends its results to `meshlake.system.quality_results`.

The table is an ordinary Iceberg table in meshlake's reserved namespace, so it reads through
`lake.duckdb()` like any port: `SELECT * FROM meshlake.system.quality_results`.

A record is one Iceberg append on the write path of every gated write, so it is lean: the table handle
is kept per catalog (a stale one costs a retry, never a lost record) and the rows, already in the table's
schema, go straight to a data file and a commit. Tables made before the `method` column existed get it
(optional, NULL in older rows) the first time this version opens them.
"""

from __future__ import annotations

import contextlib
import json
import threading
import weakref
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import (
    CommitFailedException,
    NoSuchTableError,
    TableAlreadyExistsError,
)
from pyiceberg.schema import Schema
from pyiceberg.table import Table
from pyiceberg.table.refs import MAIN_BRANCH
from pyiceberg.types import (
    BooleanType,
    DoubleType,
    LongType,
    NestedField,
    StringType,
    TimestamptzType,
)

from meshlake.catalog.catalogs import create_namespace_once
from meshlake.contract.address import SYSTEM_DOMAIN, location_under
from meshlake.quality.report import QualityReport

SYSTEM_PRODUCT = "system"
RESULTS_TABLE = (SYSTEM_DOMAIN, SYSTEM_PRODUCT, "quality_results")
RESULTS_ADDRESS = ".".join(RESULTS_TABLE)

_FIELDS = [
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
]
RESULTS_SCHEMA = Schema(*(NestedField(i + 1, name, kind, required=req) for i, (name, kind, req) in enumerate(_FIELDS)))


def results_table(catalog: Catalog, warehouse: str | None) -> Table:
    """The quality-results table, created on first use (under `warehouse`, else where the catalog puts it)."""
    with contextlib.suppress(NoSuchTableError):
        return _migrated(catalog.load_table(RESULTS_TABLE))
    namespace = (SYSTEM_DOMAIN, SYSTEM_PRODUCT)
    create_namespace_once(catalog, namespace, {"owner": "meshlake", "description": "meshlake records"})
    location = location_under(warehouse, *RESULTS_TABLE) if warehouse and "://" in warehouse else None
    try:
        return catalog.create_table(
            RESULTS_TABLE,
            schema=RESULTS_SCHEMA,
            location=location,
            properties={
                "format-version": "2",
                "write.parquet.compression-codec": "zstd",
                "comment": "Every expectation result of every quality check run.",
            },
        )
    except TableAlreadyExistsError:
        return _migrated(catalog.load_table(RESULTS_TABLE))


def _migrated(table: Table) -> Table:
    """The table with every column of `RESULTS_SCHEMA` (added as optional columns where missing)."""
    for _ in range(5):
        present = {field.name for field in table.schema().fields}
        missing = [(name, kind) for name, kind, _ in _FIELDS if name not in present]
        if not missing:
            return table
        try:
            with table.update_schema() as update:
                for name, kind in missing:
                    update.add_column(name, kind)
        except (CommitFailedException, ValueError):
            pass  # another process migrated it first (or raced us): look again
        table = table.refresh()
    return table


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
            }
        )
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    return pa.Table.from_pylist(rows, schema=schema_to_pyarrow(RESULTS_SCHEMA))


def append_results(
    catalog: Catalog, warehouse: str | None, reports: Sequence[tuple[QualityReport, str, bool | None]]
) -> None:
    """Append reports (report, trigger, published) to the quality history as one snapshot."""
    from meshlake.contract.stamps import Stamps, default_writer, new_run_id

    tables = [report_rows(report, trigger=trigger, published=published) for report, trigger, published in reports]
    if not tables:
        return
    with _HANDLES_LOCK:
        table = _HANDLES.get(catalog)
    if table is None:
        table = results_table(catalog, warehouse)
    stamps = Stamps(writer=default_writer(), run_id=new_run_id(), product_version="1", mode="append")
    rows = pa.concat_tables(tables)
    try:
        table = _append(catalog, table, rows, stamps.properties())
    except NoSuchTableError:  # dropped since this process last wrote it: create it again
        table = _append(catalog, results_table(catalog, warehouse), rows, stamps.properties())
    table = _trim(table)
    with _HANDLES_LOCK:
        _HANDLES[catalog] = table


TRIM_ABOVE = 300
KEEP_SNAPSHOTS = 100


def _trim(table: Table) -> Table:
    """Keep the history table's metadata small: past `TRIM_ABOVE` snapshots, expire all but the newest 100.

    Every check adds a snapshot, and each commit rewrites the whole metadata, so an untrimmed history
    table makes every gate slower. Its rows stay (expiry removes snapshots, not data); only time travel
    on the history table itself is bounded. `meshlake maintain` removes the data files nothing needs.
    """
    snapshots = table.metadata.snapshots
    if len(snapshots) <= TRIM_ABOVE:
        return table
    keep = {ref.snapshot_id for ref in table.metadata.refs.values()}
    newest = sorted(snapshots, key=lambda s: s.timestamp_ms)[-KEEP_SNAPSHOTS:]
    keep.update(s.snapshot_id for s in newest)
    expired = [s.snapshot_id for s in snapshots if s.snapshot_id not in keep]
    try:
        table.maintenance.expire_snapshots().by_ids(expired).commit()
    except Exception:
        return table
    return table.refresh()


_HANDLES: weakref.WeakKeyDictionary[Catalog, Table] = weakref.WeakKeyDictionary()
"""The results table as this process last committed it, per catalog."""
_HANDLES_LOCK = threading.Lock()


def _append(catalog: Catalog, table: Table, rows: pa.Table, properties: dict[str, str]) -> Table:
    """Commit `rows` as one appended data file on `main`, re-applied on the head when `main` moved."""
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    from meshlake.write.commit import Change, MainMovedError, commit_snapshot, main_head
    from meshlake.write.datafiles import DataFileWriter

    target = schema_to_pyarrow(table.schema(), include_field_ids=True)
    batches = rows.select(target.names).cast(target).to_batches()
    writer = DataFileWriter(table.metadata, table.io)
    added = tuple(writer.write_all(batches))
    change = Change("append", added, new_rows=added)
    base_id = main_head(table)
    try:
        for _ in range(100):
            try:
                table, _snapshot = commit_snapshot(
                    catalog, table, change, branch=MAIN_BRANCH, base_id=base_id, properties=properties
                )
                return table
            except MainMovedError as moved:  # another writer recorded first: an append applies on any head
                table, base_id = moved.table, moved.head
        raise CommitFailedException(f"{RESULTS_ADDRESS}: main kept moving; the quality record was not written")
    except BaseException:
        for path in writer.written_paths:
            with contextlib.suppress(Exception):
                table.io.delete(path)
        raise


def now() -> datetime:
    return datetime.now(UTC)


def read_results(
    catalog: Catalog, *, address: str, since: datetime | None = None, snapshot_ids: Sequence[int] | None = None
) -> list[dict[str, Any]]:
    """Rows of the quality history for one port (optionally since an instant or for some snapshots)."""
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
        query = f"SELECT * FROM ({scan_sql(plan)}) WHERE {' AND '.join(conditions)} ORDER BY checked_at"
        rows: list[dict[str, Any]] = con.sql(query, params=params).to_arrow_table().to_pylist()
    finally:
        con.close()
    return rows


def reports_from_rows(rows: Sequence[dict[str, Any]]) -> list[QualityReport]:
    """Group history rows back into reports (one per run and snapshot)."""
    from meshlake.quality.report import ExpectationResult

    grouped: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault((row["run_id"], row["snapshot_id"]), []).append(row)
    reports = []
    for (run_id, snapshot_id), items in grouped.items():
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
            )
            for item in items
        )
        first = items[0]
        reports.append(
            QualityReport(first["address"], snapshot_id, run_id, first["engine"], first["checked_at"], results)
        )
    return reports
