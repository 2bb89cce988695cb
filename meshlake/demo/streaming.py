"""The demo's streaming hook: drones report telemetry through NATS JetStream, when a broker is there.

With a NATS server with JetStream at `MESHLAKE_DEMO_NATS` (default `nats://127.0.0.1:4222`, what
`bash .ci/nats.sh` starts) and nats-py installed (`pip install 'meshlake[streams]'`), the demo publishes a few
telemetry readings per drone to the JetStream stream `MESHLAKE_DEMO_TELEMETRY` (made afresh each run) and
`fleet.drones.telemetry` consumes them with `port.stream`: exactly-once micro-batches, offsets in the
snapshot summary. Without either, the demo runs with table ports only and says how to turn streaming on.

`sales.orders.placed` serves its stream too (`serve: [table, stream]`): its new rows are published to the
subject `sales.orders.placed`, as its `access.broker_readers` (the north hub's staff) may read them — customer
emails masked, the north hub's orders only — since a broker's subscribers are outside meshlake's access
control (docs/streaming.md).
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import meshlake as ml

NATS_ENV = "MESHLAKE_DEMO_NATS"
DEFAULT_NATS = "nats://127.0.0.1:4222"
STREAM = "MESHLAKE_DEMO_TELEMETRY"
SUBJECT = "demo.drones.telemetry"
TELEMETRY = "fleet.drones.telemetry"
ORDERS = "sales.orders.placed"
DRONES = ["DR-001", "DR-002", "DR-003", "DR-004"]
TURN_ON = "bash .ci/nats.sh (NATS JetStream on 127.0.0.1:4222), pip install 'meshlake[streams]', run the demo again"


@dataclass(frozen=True)
class StreamDemo:
    """What the streaming hook did: a row for the demo's summary."""

    port: str
    source: str
    rows: int
    batches: int
    note: str

    def row(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 4222), timeout=0.3):
            return True
    except OSError:
        return False


def stream_telemetry(lake: ml.Lake, day: date) -> StreamDemo:
    """Publish telemetry to JetStream and consume it into `fleet.drones.telemetry`, or say why not."""
    url = os.environ.get(NATS_ENV, DEFAULT_NATS)
    try:
        import nats  # noqa: F401
    except ImportError:
        return StreamDemo(TELEMETRY, url, 0, 0, f"streaming off (nats-py missing): {TURN_ON}")
    if not _reachable(url):
        return StreamDemo(TELEMETRY, url, 0, 0, f"streaming off (no broker at {url}): {TURN_ON}")
    from meshlake.streams.nats import JetStreamSink, JetStreamSource

    sink = JetStreamSink(url=url)
    try:
        try:
            sink._run(sink._io.js.delete_stream(STREAM))
        except Exception as exc:  # none there yet
            if type(exc).__name__ != "NotFoundError":
                raise
        sink._run(sink._io.js.add_stream(name=STREAM, subjects=[SUBJECT]))
        for reading in range(4):
            at = datetime(day.year, day.month, day.day, 20, 15 * reading, tzinfo=UTC)
            for number, drone in enumerate(DRONES):
                message = {
                    "drone_id": drone,
                    "reported_at": at.isoformat(),
                    "battery_pct": 95.0 - 7 * reading - number,
                    "lat": 59.33 + number / 100,
                    "lon": 18.06 + reading / 100,
                    "status": "flying" if reading % 2 else "charging",
                }
                sink.publish(SUBJECT, json.dumps(message).encode(), message_id=f"{drone}@{at.isoformat()}")
    finally:
        sink.close()
    source = JetStreamSource("devices", url=url, stream=STREAM)
    try:
        report = lake.port(TELEMETRY).stream(source, max_rows=8, max_wait=0.1, idle=1.0)
    finally:
        source.close()
    return StreamDemo(
        TELEMETRY,
        f"{url}/{STREAM}",
        report.rows,
        len(report.batches),
        f"offsets in the snapshot summary: meshlake.stream.devices = {json.dumps(report.offsets)}",
    )


def serve_orders(lake: ml.Lake) -> StreamDemo:
    """Publish `sales.orders.placed`'s snapshots to JetStream (masked and filtered for its broker readers), or say
    why not."""
    url = os.environ.get(NATS_ENV, DEFAULT_NATS)
    try:
        import nats  # noqa: F401
    except ImportError:
        return StreamDemo(ORDERS, url, 0, 0, f"serving off (nats-py missing): {TURN_ON}")
    if not _reachable(url):
        return StreamDemo(ORDERS, url, 0, 0, f"serving off (no broker at {url}): {TURN_ON}")
    from meshlake.streams.nats import JetStreamSink

    sink = JetStreamSink(url=url)
    try:
        report = lake.port(ORDERS).serve_stream(sink)
    finally:
        sink.close()
    return StreamDemo(
        ORDERS,
        f"{url} subject {ORDERS}",
        report.messages,
        len(report.published),
        "served: north hub orders, emails masked (what its broker_readers read); messages and snapshots published",
    )
