"""An in-process stream source: partitions of messages in lists; what the protocol contract tests run on.

source = MemorySource("orders", partitions=2)
source.publish(b'{"id": 1}', partition="1")     # -> the message's offset
source.trim("1", before=10)                     # retention: drop offsets below 10
source.fail_next(3)                             # the next 3 calls raise ConnectionError (a broker outage)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping

from meshlake.streams.source import Message, Position


class MemorySource:
    """Messages kept in memory, offsets from 0 per partition (the `Kafka` layout)."""

    def __init__(self, source_id: str, *, name: str | None = None, partitions: int = 1) -> None:
        self.source_id = source_id
        self.identity = f"memory:{name or source_id}"
        self._messages: dict[str, list[bytes]] = {str(p): [] for p in range(partitions)}
        self._first: dict[str, int] = {str(p): 0 for p in range(partitions)}
        self._failures = 0
        self._lock = threading.Condition()
        self.acknowledged: dict[str, Position] = {}
        self.fetches = 0

    def publish(self, payload: bytes, *, partition: str = "0") -> int:
        with self._lock:
            messages = self._messages[partition]
            messages.append(payload)
            self._lock.notify_all()
            return self._first[partition] + len(messages) - 1

    def trim(self, partition: str, *, before: int) -> None:
        """Drop the messages of `partition` below offset `before` (what a broker's retention does)."""
        with self._lock:
            drop = max(0, min(before - self._first[partition], len(self._messages[partition])))
            del self._messages[partition][:drop]
            self._first[partition] += drop

    def fail_next(self, calls: int) -> None:
        """Make the next `calls` calls raise `ConnectionError`, as an unreachable broker does."""
        self._failures = calls

    def _maybe_fail(self) -> None:
        if self._failures > 0:
            self._failures -= 1
            raise ConnectionError(f"{self.identity}: broker unreachable (simulated)")

    def fetch(self, positions: Mapping[str, Position], *, max_messages: int, timeout: float) -> list[Message]:
        self._maybe_fail()
        self.fetches += 1
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = self._collect(positions, max_messages)
                left = deadline - time.monotonic()
                if found or left <= 0:
                    return found
                self._lock.wait(left)

    def _collect(self, positions: Mapping[str, Position], max_messages: int) -> list[Message]:
        found: list[Message] = []
        for partition, messages in self._messages.items():
            first = self._first[partition]
            start = max(int(positions.get(partition, first)), first)
            for offset in range(start, first + len(messages)):
                if len(found) >= max_messages:
                    return found
                found.append(Message(partition, offset, offset + 1, messages[offset - first]))
        return found

    def first_positions(self) -> dict[str, Position]:
        self._maybe_fail()
        with self._lock:
            return dict(self._first)

    def acknowledge(self, positions: Mapping[str, Position]) -> None:
        self.acknowledged = dict(positions)

    def close(self) -> None:
        return None
