"""What a stream source is: partitions of ordered messages, read from positions the port keeps.

    source.fetch({"0": 41}, max_messages=1000, timeout=0.5)   # messages of partition "0" from offset 41 on
    source.first_positions()                                  # what the broker still holds, per partition

A position is an int (Kafka offsets, JetStream sequence numbers) or a text of dash-separated integers
(Redis Streams ids `1700000000000-3`); `Message.next` is where to resume after the message. Consumers never
ask the broker where they stopped: the port's snapshots say it (`meshlake.streams.offsets`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

Position = int | str


@dataclass(frozen=True)
class Message:
    """One message: where it is (`partition`, `position`), where the next one is, and its bytes."""

    partition: str
    position: Position
    next: Position
    payload: bytes


@runtime_checkable
class StreamSource(Protocol):
    """A broker's stream, as meshlake consumes it.

    `source_id` is the name the port records offsets under (`meshlake.stream.<source_id>`); `identity` says
    which stream it is (broker, stream, subject), so a source id reused for another stream is refused.
    """

    source_id: str
    identity: str

    def fetch(self, positions: Mapping[str, Position], *, max_messages: int, timeout: float) -> list[Message]:
        """Up to `max_messages` messages at or after `positions` (a partition not named: from its first
        message), in order within each partition; waits at most `timeout` seconds when none is there yet.
        Raises `ConnectionError` (or `OSError`) when the broker cannot be reached."""
        ...

    def first_positions(self) -> dict[str, Position]:
        """Per partition, the first position the broker still holds (after its last message when empty)."""
        ...

    def acknowledge(self, positions: Mapping[str, Position]) -> None:
        """Tell the broker what is consumed (after a commit); resuming never depends on it."""
        ...

    def close(self) -> None: ...


def position_order(position: Position) -> tuple[int, ...]:
    """A sort key for positions: ints as themselves, `a-b` texts by their integer parts."""
    if isinstance(position, int):
        return (position,)
    return tuple(int(part) for part in str(position).split("-"))


def later(a: Position, b: Position) -> Position:
    """The later of two positions."""
    return a if position_order(a) >= position_order(b) else b
