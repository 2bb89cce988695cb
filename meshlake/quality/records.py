"""The quality history: every check run appends its results to `meshlake.system.quality_results`.

The table is an ordinary Iceberg table in meshlake's reserved namespace, so it reads through
`lake.duckdb()` like any port: `SELECT * FROM meshlake.system.quality_results`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NamespaceAlreadyExistsError, NoSuchTableError, TableAlreadyExistsError
from pyiceberg.schema import Schema
from pyiceberg.table import Table
from pyiceberg.types import (
    BooleanType,
    DoubleType,
    LongType,
    NestedField,
    StringType,
    TimestamptzType,
)

from meshlake.address import SYSTEM_DOMAIN, location_under
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
]
RESULTS_SCHEMA = Schema(*(NestedField(i + 1, name, kind, required=req) for i, (name, kind, req) in enumerate(_FIELDS)))


def results_table(catalog: Catalog, warehouse: str) -> Table:
    """The quality-results table, created on first use."""
    with contextlib.suppress(NoSuchTableError):
        return catalog.load_table(RESULTS_TABLE)
    with contextlib.suppress(NamespaceAlreadyExistsError):
        catalog.create_namespace(
            (SYSTEM_DOMAIN, SYSTEM_PRODUCT), {"owner": "meshlake", "description": "meshlake records"}
        )
    location = location_under(warehouse, *RESULTS_TABLE) if "://" in warehouse else None
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
        return catalog.load_table(RESULTS_TABLE)


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
            }
        )
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    return pa.Table.from_pylist(rows, schema=schema_to_pyarrow(RESULTS_SCHEMA))


def append_results(catalog: Catalog, warehouse: str, reports: Sequence[tuple[QualityReport, str, bool | None]]) -> None:
    """Append reports (report, trigger, published) to the quality history as one snapshot."""
    from meshlake.stamps import Stamps, default_writer, new_run_id
    from meshlake.write import write_port

    tables = [report_rows(report, trigger=trigger, published=published) for report, trigger, published in reports]
    if not tables:
        return
    table = results_table(catalog, warehouse)
    stamps = Stamps(writer=default_writer(), run_id=new_run_id(), product_version="1", mode="append")
    write_port(
        catalog,
        table,
        pa.concat_tables(tables),
        address=RESULTS_ADDRESS,
        mode="append",
        where=None,
        primary_key=[],
        stamps=stamps,
        gate=None,
        quarantine_name="",
    )


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
            )
            for item in items
        )
        first = items[0]
        reports.append(
            QualityReport(first["address"], snapshot_id, run_id, first["engine"], first["checked_at"], results)
        )
    return reports
