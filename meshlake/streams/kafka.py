"""Kafka topics as a stream source, through confluent-kafka (`pip install 'meshlake[streams]'`).

    source = KafkaSource("orders", bootstrap="broker:9092", topic="orders")

Partitions are the topic's partitions, positions their offsets. The consumer is assigned explicit offsets
from the port's snapshots (no consumer-group offset is ever used to resume); `acknowledge` commits the same
offsets to the group for monitoring only. No Kafka broker can be installed on meshlake's CI machines (Kafka is
not packaged in Debian or PyPI), so this adapter is tested against the protocol contract tests with an
in-memory stand-in of confluent-kafka's `Consumer`, not against a real broker.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from meshlake.errors import require
from meshlake.streams.source import Message, Position


class KafkaSource:
    """One topic of a Kafka cluster; `consumer` builds confluent-kafka's `Consumer` from a config dict."""

    def __init__(
        self,
        source_id: str,
        *,
        bootstrap: str,
        topic: str,
        group: str | None = None,
        config: Mapping[str, Any] | None = None,
        consumer: Callable[[dict[str, Any]], Any] | None = None,
    ) -> None:
        self.source_id = source_id
        self.topic = topic
        self.identity = f"kafka://{bootstrap}/{topic}"
        settings = {
            "bootstrap.servers": bootstrap,
            "group.id": group or f"meshlake-{source_id}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            **dict(config or {}),
        }
        if consumer is None:
            kafka = require("confluent_kafka", extra="streams", feature="Kafka streams")
            consumer = kafka.Consumer
        self._consumer = consumer(settings)
        self._assigned: dict[str, int] = {}

    def _partitions(self) -> list[int]:
        metadata = self._consumer.list_topics(self.topic, timeout=10)
        topic = metadata.topics[self.topic]
        if getattr(topic, "error", None) is not None:
            raise ConnectionError(f"{self.identity}: {topic.error}")
        return sorted(topic.partitions)

    def _topic_partition(self, partition: int, offset: int) -> Any:
        kafka = require("confluent_kafka", extra="streams", feature="Kafka streams")
        return kafka.TopicPartition(self.topic, partition, offset)

    def fetch(self, positions: Mapping[str, Position], *, max_messages: int, timeout: float) -> list[Message]:
        wanted: dict[str, int] = {}
        for number in self._partitions():
            start = positions.get(str(number))
            if start is None:
                start, _ = self._consumer.get_watermark_offsets(self._topic_partition(number, 0), timeout=10)
            wanted[str(number)] = int(start)
        if wanted != self._assigned:
            self._consumer.assign([self._topic_partition(int(p), o) for p, o in wanted.items()])
            self._assigned = dict(wanted)
        found: list[Message] = []
        deadline = time.monotonic() + timeout
        while len(found) < max_messages:
            left = deadline - time.monotonic()
            batch = self._consumer.consume(num_messages=max_messages - len(found), timeout=max(left, 0))
            for record in batch:
                if record.error() is not None:
                    raise ConnectionError(f"{self.identity}: {record.error()}")
                name, offset = str(record.partition()), int(record.offset())
                found.append(Message(name, offset, offset + 1, bytes(record.value() or b"")))
                self._assigned[name] = offset + 1
            if found or left <= 0:
                break
        return found

    def first_positions(self) -> dict[str, Position]:
        first: dict[str, Position] = {}
        for partition in self._partitions():
            low, _ = self._consumer.get_watermark_offsets(self._topic_partition(partition, 0), timeout=10)
            first[str(partition)] = int(low)
        return first

    def acknowledge(self, positions: Mapping[str, Position]) -> None:
        offsets = [self._topic_partition(int(p), int(o)) for p, o in positions.items()]
        if offsets:
            self._consumer.commit(offsets=offsets, asynchronous=True)

    def close(self) -> None:
        self._consumer.close()
