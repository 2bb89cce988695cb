"""The stream-source protocol contract: every adapter (in memory, Kafka's stand-in, JetStream, Redis) passes these.

A `Harness` is a source plus the broker-side moves a test needs: publish a payload, and drop old messages
(retention). Each `check_*` function asserts one promise of `meshlake.streams.source.StreamSource`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from meshlake.streams.source import StreamSource, position_order


@dataclass
class Harness:
    source: StreamSource
    publish: Callable[[bytes], Any]
    """Publish one payload (to the source's first partition); returns its position."""
    drop_before: Callable[[Any], None]
    """Drop the messages before a position (what retention does)."""


def _read_all(source: StreamSource, positions: dict[str, Any] | None = None, *, limit: int = 1000) -> list[Any]:
    found: list[Any] = []
    reading = dict(positions or {})
    while True:
        batch = source.fetch(reading, max_messages=limit, timeout=0.2)
        if not batch:
            return found
        for message in batch:
            found.append(message)
            reading[message.partition] = message.next


def check_reads_in_order_from_a_position(h: Harness) -> None:
    positions = [h.publish(f'{{"n": {i}}}'.encode()) for i in range(5)]
    everything = _read_all(h.source)
    assert [m.payload for m in everything] == [f'{{"n": {i}}}'.encode() for i in range(5)]
    assert [m.position for m in everything] == positions
    for message in everything:
        assert position_order(message.next) > position_order(message.position)
    third = everything[2]
    rest = _read_all(h.source, {third.partition: third.position})
    assert [m.payload for m in rest] == [m.payload for m in everything[2:]]
    after = _read_all(h.source, {everything[-1].partition: everything[-1].next})
    assert after == []


def check_fetch_honours_max_messages(h: Harness) -> None:
    for i in range(7):
        h.publish(f'{{"n": {i}}}'.encode())
    batch = h.source.fetch({}, max_messages=3, timeout=0.5)
    assert 1 <= len(batch) <= 3


def check_fetch_waits_at_most_its_timeout(h: Harness) -> None:
    last = h.publish(b'{"n": 0}')
    first = _read_all(h.source)[-1]
    assert first.position == last
    started = time.monotonic()
    assert h.source.fetch({first.partition: first.next}, max_messages=10, timeout=0.3) == []
    assert time.monotonic() - started < 5


def check_first_positions_follow_retention(h: Harness) -> None:
    positions = [h.publish(f'{{"n": {i}}}'.encode()) for i in range(4)]
    partition = _read_all(h.source)[0].partition
    assert position_order(h.source.first_positions()[partition]) <= position_order(positions[0])
    h.drop_before(positions[2])
    assert h.source.first_positions()[partition] == positions[2]
    assert [m.position for m in _read_all(h.source)] == positions[2:]


CHECKS = [
    check_reads_in_order_from_a_position,
    check_fetch_honours_max_messages,
    check_fetch_waits_at_most_its_timeout,
    check_first_positions_follow_retention,
]
