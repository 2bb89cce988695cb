"""Output ports that serve a stream too (`serve: [table, stream]`): each snapshot's new rows, published.

    serve_snapshots(port, JetStreamSink(url="nats://127.0.0.1:4222"))

After a commit, the rows the snapshot added are published to the subject named by the port's address
(`sales.orders.placed`), as JSON messages of up to `rows_per_message` rows:
`{"address", "snapshot_id", "committed_at_ms", "operation", "part", "parts", "rows": [...]}`, each with the
de-duplication id `<snapshot id>:<part>/<parts>` (JetStream's `Nats-Msg-Id`). What is published is decided from the
stream itself: the last message on the subject names the last snapshot (and part) published, and every later
snapshot of `main` is published, oldest first. So a crash between a commit and its publish re-publishes
what is missing on the next call, and nothing twice (the de-duplication id covers a crash mid-publish).
Consumers reconcile the stream with the table by snapshot id.

A stream has no readers meshlake can check: it is read by whoever reads the broker's subject, which the port
declares as `access.broker_readers` (default `*`, anyone). So the rows are published as those readers may all
read them (`meshlake.access.rights.broker_decision`): masked columns masked unless every broker reader is
`unmasked`, and only the rows every row filter of the port lets through. A broker reader that is not one of the
port's readers is refused at deploy (or, for the mesh's default readers, when serving: `AccessDeniedError`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from pyiceberg.table.refs import MAIN_BRANCH

from meshlake.catalog.metadata import snapshot_index

if TYPE_CHECKING:
    from pyiceberg.table import Table
    from pyiceberg.table.snapshots import Snapshot

    from meshlake.access.enforce import PortReader
    from meshlake.port import Port


class StreamSink(Protocol):
    """Where served snapshots go."""

    def publish(self, subject: str, payload: bytes, *, message_id: str) -> bool:
        """Publish one message; False when the broker already held `message_id`."""
        ...

    def last_message_id(self, subject: str) -> str | None:
        """The de-duplication id of the last message on `subject` (None when there is none)."""
        ...

    def close(self) -> None: ...


@dataclass
class ServeReport:
    address: str
    published: list[int] = field(default_factory=list)
    """Snapshot ids published by this call, oldest first."""
    messages: int = 0
    duplicates: int = 0
    """Messages the broker already held (a re-publish after a crash mid-publish)."""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def message_id(snapshot_id: int, part: int, parts: int) -> str:
    """`<snapshot id>:<part>/<parts>`: the message's de-duplication id (parts count from 0)."""
    return f"{snapshot_id}:{part}/{parts}"


def serve_snapshots(port: Port, sink: StreamSink, *, rows_per_message: int = 500) -> ServeReport:
    """Publish the new rows of every snapshot of `main` the stream does not hold yet (see the module docstring)."""
    address = str(port.address)
    table = port.table()
    audience = broker_audience(port, table)
    report = ServeReport(address)
    last = sink.last_message_id(address)
    last_id, next_part = None, 0
    if last:
        snapshot_text, _, part_text = last.partition(":")
        last_part, _, last_parts = part_text.partition("/")
        last_id, next_part = int(snapshot_text), int(last_part) + 1
        if next_part >= int(last_parts):
            next_part = -1  # that snapshot is whole on the stream
    for snapshot in _unpublished(table, last_id):
        first = next_part if snapshot.snapshot_id == last_id else 0
        if first < 0:
            continue
        sent = 0
        for part, parts, payload in _messages(table, snapshot, address, rows_per_message, audience):
            if part < first:
                continue
            sent += 1
            if not sink.publish(address, payload, message_id=message_id(snapshot.snapshot_id, part, parts)):
                report.duplicates += 1
        report.messages += sent
        if sent:
            report.published.append(snapshot.snapshot_id)
    return report


def _unpublished(table: Table, last_id: int | None) -> list[Snapshot]:
    """`main`'s snapshots after `last_id` (it included: it may be partly published), oldest first."""
    index = snapshot_index(table.metadata)
    ref = table.metadata.refs.get(MAIN_BRANCH)
    found: list[Snapshot] = []
    snapshot = index.get(ref.snapshot_id) if ref is not None else None
    while snapshot is not None:
        found.append(snapshot)
        if snapshot.snapshot_id == last_id:
            break
        snapshot = index.get(snapshot.parent_snapshot_id) if snapshot.parent_snapshot_id is not None else None
    return found[::-1]


def _messages(
    table: Table, snapshot: Snapshot, address: str, rows_per_message: int, audience: PortReader
) -> Iterator[tuple[int, int, bytes]]:
    rows = _new_rows(table, snapshot, audience)
    parts = max(1, -(-len(rows) // rows_per_message))
    operation = snapshot.summary.operation.value if snapshot.summary else "append"
    for part in range(parts):
        chunk = rows[part * rows_per_message : (part + 1) * rows_per_message]
        body = {
            "address": address,
            "snapshot_id": snapshot.snapshot_id,
            "committed_at_ms": snapshot.timestamp_ms,
            "operation": operation,
            "part": part,
            "parts": parts,
            "rows": chunk,
        }
        yield part, parts, json.dumps(body, default=_json_value, separators=(",", ":")).encode()


def _new_rows(table: Table, snapshot: Snapshot, audience: PortReader) -> list[dict[str, Any]]:
    """The rows in the data files `snapshot` added, read in place like any snapshot."""
    from meshlake.quality.gate import staged_plans
    from meshlake.quality.quarantine import quarantined_change
    from meshlake.query.engine import read_arrow
    from meshlake.query.plan import cached_plan

    change = quarantined_change(table, snapshot)
    if not change.new_rows:
        return []
    base = cached_plan(table, snapshot.parent_snapshot_id)
    _, written = staged_plans(base, change, table.metadata)
    rows: list[dict[str, Any]] = read_arrow(written, io=table.io, policy=audience).to_pylist()
    return rows


def broker_audience(port: Port, table: Table) -> PortReader:
    """The reads of whoever reads the port's stream on the broker (see the module docstring)."""
    from meshlake.access.enforce import PortReader, column_types
    from meshlake.access.rights import broker_decision

    decision = broker_decision(port.descriptor, port.contract.name, port.lake.mesh_policy)
    reader = PortReader(decision, column_types(port.contract)).bind(table.schema())
    reader.check("serve")
    return reader


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"cannot serve a {type(value).__name__} as JSON")


class MemorySink:
    """Messages kept in memory, de-duplicated by id like JetStream (for tests and the in-process demo)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str, bytes]] = []
        self.fail_after: int | None = None

    def publish(self, subject: str, payload: bytes, *, message_id: str) -> bool:
        if self.fail_after is not None:
            if self.fail_after <= 0:
                raise ConnectionError("memory sink: broker unreachable (simulated)")
            self.fail_after -= 1
        if any(m[0] == subject and m[1] == message_id for m in self.messages):
            return False
        self.messages.append((subject, message_id, payload))
        return True

    def last_message_id(self, subject: str) -> str | None:
        ids = [m[1] for m in self.messages if m[0] == subject]
        return ids[-1] if ids else None

    def close(self) -> None:
        return None
