"""An in-memory stand-in for confluent-kafka's `Consumer`, over `MemorySource`'s partitions.

No Kafka broker can be installed here (not packaged in Debian or PyPI), so `KafkaSource` is tested through
this: the few `Consumer` methods it calls, with Kafka's semantics (watermarks, explicit assignment, offsets).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meshlake.streams.memory import MemorySource


@dataclass
class _Record:
    _partition: int
    _offset: int
    _value: bytes

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def value(self) -> bytes:
        return self._value

    def error(self) -> None:
        return None


@dataclass
class _Topic:
    partitions: dict[int, Any]
    error: Any = None


@dataclass
class _Metadata:
    topics: dict[str, _Topic]


class StandInConsumer:
    def __init__(self, broker: MemorySource, topic: str, config: dict[str, Any]) -> None:
        self.broker = broker
        self.topic = topic
        self.config = config
        self.assigned: dict[int, int] = {}
        self.committed: dict[int, int] = {}

    def list_topics(self, topic: str, timeout: float) -> _Metadata:
        partitions = {int(p): None for p in self.broker.first_positions()}
        return _Metadata({self.topic: _Topic(partitions)})

    def get_watermark_offsets(self, tp: Any, timeout: float) -> tuple[int, int]:
        first = int(self.broker.first_positions()[str(tp.partition)])
        return first, first + len(self.broker._messages[str(tp.partition)])

    def assign(self, partitions: list[Any]) -> None:
        self.assigned = {tp.partition: tp.offset for tp in partitions}

    def consume(self, num_messages: int, timeout: float) -> list[_Record]:
        messages = self.broker.fetch(
            {str(p): o for p, o in self.assigned.items()}, max_messages=num_messages, timeout=timeout
        )
        for m in messages:
            self.assigned[int(m.partition)] = int(m.next)
        return [_Record(int(m.partition), int(m.position), m.payload) for m in messages]

    def commit(self, offsets: list[Any], asynchronous: bool) -> None:
        self.committed.update({tp.partition: tp.offset for tp in offsets})

    def close(self) -> None:
        return None


def kafka_standin(source_id: str, broker: MemorySource, topic: str = "orders") -> Any:
    from meshlake.streams.kafka import KafkaSource

    return KafkaSource(
        source_id,
        bootstrap="standin:9092",
        topic=topic,
        consumer=lambda config: StandInConsumer(broker, topic, config),
    )
