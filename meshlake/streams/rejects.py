"""Malformed messages, kept: `meshlake.system.stream_rejects`, one row per message that is not a row of its port.

Each row names the port (`address`), the source, the message's partition and position, its bytes, the reason
and the batch's run id. A message is recorded before its batch commits, so a crash between the two records
it again when the batch is consumed again: read the table by `(address, source_id, partition, position)`.
Readers see the rows of the ports they own (the system tables' access rule: an `address` column).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

import pyarrow as pa
from pyiceberg.types import BinaryType, StringType, TimestamptzType

from meshlake.write.system_table import SystemTable

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

    from meshlake.streams.decode import Rejected

REJECTS: Final = SystemTable(
    "stream_rejects",
    (
        ("address", StringType(), True),
        ("source_id", StringType(), True),
        ("source", StringType(), True),
        ("partition", StringType(), True),
        ("position", StringType(), True),
        ("payload", BinaryType(), True),
        ("reason", StringType(), True),
        ("run_id", StringType(), True),
        ("rejected_at", TimestamptzType(), True),
    ),
    "Every stream message that was not a row of its port: where it was, its bytes and why.",
)


def record_rejects(
    catalog: Catalog,
    warehouse: str | None,
    *,
    address: str,
    source_id: str,
    identity: str,
    run_id: str,
    rejected: Sequence[Rejected],
) -> None:
    """Append the rejected messages of one batch as one snapshot."""
    if not rejected:
        return
    now = datetime.now(UTC)
    rows = [
        {
            "address": address,
            "source_id": source_id,
            "source": identity,
            "partition": r.message.partition,
            "position": str(r.message.position),
            "payload": r.message.payload,
            "reason": r.reason,
            "run_id": run_id,
            "rejected_at": now,
        }
        for r in rejected
    ]
    REJECTS.append(catalog, warehouse, pa.Table.from_pylist(rows, schema=REJECTS.arrow_schema))
