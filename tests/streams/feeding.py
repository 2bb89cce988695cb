"""Publishing messages to a stream's source, from a test's thread, until something happened (a compaction landed,
a worker failed): a compactor's worker process starts slowly on a loaded machine, so tests feed until it acts."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tests.streams.conftest import order

WAIT = 90.0
"""Seconds a feed goes on at most (a worker imports meshlake first: slow on a loaded machine)."""


def compaction_landed(port: Any) -> bool:
    """Whether a compaction is in the port's history."""
    return any(s.mode == "compact" for s in port.history())


def feed_until(
    publish: Callable[[bytes], Any],
    done: Callable[[], bool],
    *,
    message: Callable[[int], bytes] = order,
    first: int = 0,
    at_least: int = 0,
    batch: int = 10,
    pause: float = 0.05,
) -> tuple[int, bool]:
    """Publish `message(i)` for i from `first`, `batch` at a time with `pause` seconds between, until at least
    `at_least` were published and `done()`, or `WAIT` seconds passed (and `at_least` were published); returns the
    next i and whether `done()` came true."""
    ends = time.monotonic() + WAIT
    sent = first
    while sent < at_least or time.monotonic() < ends:
        for _ in range(batch):
            publish(message(sent))
            sent += 1
        time.sleep(pause)
        if sent >= at_least and done():
            return sent, True
    return sent, False
