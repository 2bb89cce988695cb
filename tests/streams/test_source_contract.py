"""Every in-process stream source keeps the protocol's promises (brokers: tests/integration/test_stream_brokers.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from meshlake.streams.memory import MemorySource
from meshlake.streams.source import StreamSource
from tests.streams.contract import CHECKS, Harness
from tests.streams.kafka_standin import kafka_standin


def _memory() -> Harness:
    source = MemorySource("orders")
    return Harness(source, source.publish, lambda position: source.trim("0", before=int(position)))


def _kafka() -> Harness:
    pytest.importorskip("confluent_kafka", reason="confluent-kafka (meshlake[streams]) is not installed")
    broker = MemorySource("broker")
    source = kafka_standin("orders", broker)
    return Harness(source, broker.publish, lambda position: broker.trim("0", before=int(position)))


HARNESSES: dict[str, Callable[[], Harness]] = {"memory": _memory, "kafka-standin": _kafka}


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
@pytest.mark.parametrize("kind", list(HARNESSES))
def test_source_keeps_the_protocol_contract(kind: str, check: Callable[[Harness], Any]) -> None:
    harness = HARNESSES[kind]()
    assert isinstance(harness.source, StreamSource)
    try:
        check(harness)
    finally:
        harness.source.close()


def test_kafka_adapter_acknowledges_committed_offsets_to_its_group() -> None:
    pytest.importorskip("confluent_kafka", reason="confluent-kafka (meshlake[streams]) is not installed")
    broker = MemorySource("broker", partitions=2)
    source = kafka_standin("orders", broker)
    source.acknowledge({"0": 5, "1": 7})
    assert source._consumer.committed == {0: 5, 1: 7}
