"""Python's garbage collector while a stream runs: long-lived objects frozen, so a full collection stays short.

A full (generation-2) collection walks every container object of the process: about 150,000 once meshlake is
imported and a port deployed (pyiceberg, pydantic, pyarrow and DuckDB bindings, the gate's expectations), 90–130 ms
of CPU each on a 2-core machine, with every thread stopped. A stream of 1,000-row batches every 100 ms allocates
enough to trigger one every few seconds, in the fetch, the decode or the commit of whichever batch is running.

`steady_collection()` collects once when the stream starts and freezes what survives (`gc.freeze()`: the
collector skips it from then on), then, between batches every `REFREEZE_EVERY` seconds, collects what the stream
made since (short: frozen objects are skipped) and freezes the survivors too. Frozen objects are still freed by
reference counting as usual; only a reference cycle among them that becomes garbage waits for the end of the
stream, when everything is unfrozen and collectable again. Freezing is process-wide: a stream started while
something is frozen (the application's own `gc.freeze()`, or another stream of the process) leaves the collector as
it is, and so does `MESHLAKE_STREAM_GC=default` (to measure the difference). `frozen` (or unset) is the tuning;
any other value is refused with a `ConfigError` before the stream reads anything (`gc_mode`).
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Iterator
from dataclasses import dataclass

from meshlake.streams.switches import switch

REFREEZE_EVERY = 30.0
"""Seconds between two collections (of what is not frozen yet) and freezes of their survivors, between batches."""
ENV = "MESHLAKE_STREAM_GC"
MODES = ("frozen", "default")
"""`frozen`: the tuning of this module (the default); `default`: Python's collector as it is."""


def gc_mode() -> str:
    """The collector `MESHLAKE_STREAM_GC` asks for (`frozen` when unset); an unknown value is a `ConfigError`."""
    return switch(ENV, MODES, "a collector mode")


@dataclass
class Collection:
    """What the stream's collector did: refreezes (`between_batches`) and the seconds they took."""

    enabled: bool
    refreezes: int = 0
    seconds: float = 0.0
    _last: float = 0.0

    def between_batches(self) -> None:
        """Collect what the stream made since the last freeze and freeze what survives, every `REFREEZE_EVERY`."""
        now = time.monotonic()
        if not self.enabled or now - self._last < REFREEZE_EVERY:
            return
        gc.collect()
        gc.freeze()
        self._last = time.monotonic()
        self.refreezes += 1
        self.seconds += self._last - now


@contextlib.contextmanager
def steady_collection() -> Iterator[Collection]:
    """The collector tuned for a stream (see the module docstring); everything unfrozen again on exit."""
    enabled = gc_mode() == "frozen" and gc.isenabled() and gc.get_freeze_count() == 0
    collection = Collection(enabled, _last=time.monotonic())
    if enabled:
        started = time.monotonic()
        gc.collect()
        gc.freeze()
        collection.seconds += time.monotonic() - started
    try:
        yield collection
    finally:
        if enabled:
            gc.unfreeze()
