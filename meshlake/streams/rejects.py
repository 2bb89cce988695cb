"""Malformed messages, kept: `meshlake.system.stream_rejects`, one row per message that is not a row of its port.

Each row names the port (`address`), the source, the message's partition and position, its bytes, the reason
and the batch's run id. A message is recorded before its batch commits (two tables cannot commit as one), so
a run that crashed or stopped between the two leaves rows past the offsets the port committed. When the
stream starts again, `pending_rejects` reads those (one query, at start only) and the run records none of
them again: each message is in the table once, whatever crashed where.
Readers see the rows of the ports they own (the system tables' access rule: an `address` column).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

import pyarrow as pa
from pyiceberg.types import BinaryType, StringType, TimestamptzType

from meshlake.write.system_table import SystemTable

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

    from meshlake.streams.decode import Rejected
    from meshlake.streams.source import Position

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


def pending_rejects(
    catalog: Catalog, *, address: str, source_id: str, committed: Mapping[str, Position]
) -> frozenset[tuple[str, str]]:
    """(partition, position) of the messages of `source_id` into `address` recorded as rejected at or past the
    offsets the port `committed`: recorded by a run that ended before committing their batch."""
    import duckdb
    from pyiceberg.exceptions import NoSuchTableError

    from meshlake.query.engine import register_filesystems
    from meshlake.query.plan import plan_snapshot
    from meshlake.query.sql import scan_sql
    from meshlake.streams.source import position_order

    try:
        table = catalog.load_table(REJECTS.identifier)
    except NoSuchTableError:
        return frozenset()
    if table.metadata.current_snapshot_id is None:
        return frozenset()
    plan = plan_snapshot(table.metadata, table.io, table.metadata.current_snapshot_id, name=REJECTS.address)
    con = duckdb.connect()
    try:
        register_filesystems(con, plan, table.io)
        rows = con.sql(
            f'SELECT DISTINCT "partition", "position" FROM ({scan_sql(plan)}) '
            "WHERE address = $address AND source_id = $source_id",
            params={"address": address, "source_id": source_id},
        ).fetchall()
    finally:
        con.close()
    return frozenset(
        (str(partition), str(position))
        for partition, position in rows
        if partition not in committed or position_order(position) >= position_order(committed[partition])
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
    recorded: Collection[tuple[str, str]] = (),
) -> int:
    """Append the rejected messages of one batch as one snapshot, but those already `recorded` (partition,
    position); returns how many were appended."""
    rejected = [r for r in rejected if (r.message.partition, str(r.message.position)) not in recorded]
    if not rejected:
        return 0
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
    return len(rows)
