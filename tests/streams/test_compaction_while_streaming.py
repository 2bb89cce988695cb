"""Small files compacted while a stream runs: every row stays exactly once, and the files stay few."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from meshlake.streams.memory import MemorySource
from tests.streams.conftest import order, port_ids


def test_compaction_runs_while_streaming_and_loses_or_repeats_nothing(orders: Callable[..., Any]) -> None:
    port = orders()
    source = MemorySource("orders")

    def feed() -> None:
        for i in range(240):
            source.publish(order(i))
            time.sleep(0.01)

    feeder = threading.Thread(target=feed)
    feeder.start()
    report = port.stream(source, max_rows=5, max_wait=0.02, idle=1.5, compact_every=0.4)
    feeder.join()
    assert report.compactions, report.to_dict()
    assert port_ids(port) == list(range(240))
    files = len(port.table().inspect.files())
    assert files < len(report.batches), (files, len(report.batches))
    modes = [s.mode for s in port.history()]
    assert "compact" in modes


def test_compact_every_must_be_positive(orders: Callable[..., Any]) -> None:
    with pytest.raises(ValueError, match="compact_every"):
        orders().stream(MemorySource("orders"), compact_every=0)
