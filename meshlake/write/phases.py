"""Where a write's time goes: wall and CPU seconds by phase, added up over the threads that spend them.

A distributed worker times each sink call's phases (receiving the engine's rows, conforming them, encoding the
Parquet files, the gate's metrics, closing the files) with a `PhaseClock`; the seconds travel back with its files
(`meshlake.distributed.staging.Share`) and the driver adds them up over every call into the write's
`WriteResult.phases` (`worker encode`, `worker encode cpu`, …). CPU seconds are the thread's own
(`time.thread_time`): on a loaded machine wall time follows the load, CPU time what the work costs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

CPU_SUFFIX = " cpu"
"""A phase's CPU seconds are reported under its name with this suffix (`worker encode cpu`)."""


class PhaseClock:
    """Wall and thread CPU seconds by phase name (thread-safe: phases of several threads add up)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seconds: dict[str, list[float]] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time the block as `name` (added to what `name` already spent, in any thread)."""
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - wall, time.thread_time() - cpu)

    def timed(self, name: str, items: Iterable[T]) -> Iterator[T]:
        """`items`, the time spent getting each one (e.g. an engine handing over its rows) timed as `name`."""
        found = iter(items)
        while True:
            with self.phase(name):
                try:
                    item = next(found)
                except StopIteration:
                    return
            yield item

    def add(self, name: str, wall: float, cpu: float) -> None:
        with self._lock:
            found = self._seconds.setdefault(name, [0.0, 0.0])
            found[0] += wall
            found[1] += cpu

    def seconds(self, prefix: str = "") -> dict[str, float]:
        """Each phase's wall seconds as `<prefix><name>` and its CPU seconds as `<prefix><name> cpu`."""
        with self._lock:
            found = {}
            for name, (wall, cpu) in self._seconds.items():
                found[f"{prefix}{name}"] = wall
                found[f"{prefix}{name}{CPU_SUFFIX}"] = cpu
            return found


def added_up(parts: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """The seconds of every part added up by name (the workers' calls of one write)."""
    total: dict[str, float] = {}
    for part in parts:
        for name, seconds in part.items():
            total[name] = total.get(name, 0.0) + seconds
    return total
