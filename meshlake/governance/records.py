"""Findings kept over time: `meshlake.system.governance_findings`, queryable from DuckDB like any port.

    SELECT product, code, count(*) FROM meshlake.system.governance_findings
    WHERE point = 'deploy' AND NOT waived GROUP BY ALL

One row per finding of a check (`check_id`), with where it was checked (`point`: `deploy`, `lint`, `run` or
`write`), against which policy version, by whom. A check without findings writes nothing; `products_checked`
on each row says how many products the check covered. `address` is the port (`domain.product.port`) or, for a
finding about the whole product, the product (`domain.product`): a product's owners read the rows of their
products and ports, mesh admins every row (`meshlake.access.system`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from pyiceberg.types import BooleanType, DateType, LongType, StringType, TimestamptzType

from meshlake.write.system_table import SystemTable

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

    from meshlake.governance.engine import Report

_FIELDS: Final = (
    ("checked_at", TimestamptzType(), True),
    ("check_id", StringType(), True),
    ("point", StringType(), True),
    ("policy_version", LongType(), False),
    ("principal", StringType(), False),
    ("products_checked", LongType(), True),
    ("product", StringType(), True),
    ("address", StringType(), True),
    ("port", StringType(), False),
    ("column_name", StringType(), False),
    ("code", StringType(), True),
    ("rule", StringType(), True),
    ("severity", StringType(), True),
    ("blocking", BooleanType(), True),
    ("message", StringType(), True),
    ("file", StringType(), False),
    ("line", LongType(), False),
    ("field", StringType(), False),
    ("waived", BooleanType(), True),
    ("waiver_owner", StringType(), False),
    ("waiver_reason", StringType(), False),
    ("waiver_expires", DateType(), False),
)
FINDINGS: Final = SystemTable(
    "governance_findings", _FIELDS, "Every finding of every governance check: deploys, lint --record, runs, writes."
)
FINDINGS_ADDRESS: Final = FINDINGS.address


def record_findings(
    catalog: Catalog,
    warehouse: str | None,
    report: Report,
    *,
    point: str,
    check_id: str,
    principal: str | None,
    now: datetime | None = None,
) -> int:
    """Append the report's findings (one snapshot); returns how many rows were written (0: nothing to write)."""
    if not report.findings:
        return 0
    import pyarrow as pa

    at = now or datetime.now(UTC)
    rows = [
        {
            "checked_at": at,
            "check_id": check_id,
            "point": point,
            "policy_version": report.policy_version,
            "principal": principal,
            "products_checked": len(report.products),
            "product": f.product,
            "address": f.address,
            "port": f.port,
            "column_name": f.column,
            "code": f.code,
            "rule": f.name,
            "severity": f.severity,
            "blocking": f.blocking,
            "message": f.message,
            "file": f.file,
            "line": f.line,
            "field": f.field,
            "waived": f.waived is not None,
            "waiver_owner": f.waived.owner if f.waived else None,
            "waiver_reason": f.waived.reason if f.waived else None,
            "waiver_expires": f.waived.expires if f.waived else None,
        }
        for f in report.findings
    ]
    FINDINGS.append(catalog, warehouse, pa.Table.from_pylist(rows, schema=FINDINGS.arrow_schema))
    return len(rows)
