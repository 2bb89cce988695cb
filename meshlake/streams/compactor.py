"""Compaction while a stream runs: a thread that compacts the port's small files every few seconds.

It uses maintenance's compaction (`meshlake.maintenance.compact`) on a catalog of its own. Compaction
rewrites only files already on `main` when it reads the head; a batch being committed meanwhile is not among
them, and whichever commits second is re-based onto the other (an append onto the compaction, or the
compaction onto the append, which leaves appended files alone). So query speed does not decay with the
stream's age, and no batch is rewritten before it lands. A compaction that fails is reported and retried at
the next interval; it never stops the stream.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from meshlake.port import Port

_LOG = logging.getLogger("meshlake.streams")


@dataclass
class CompactionRuns:
    """What the compactor did: one entry per compaction that committed, and the failures."""

    runs: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    spans: list[tuple[float, float]] = field(default_factory=list)
    """When each attempt ran, committed or not (`time.monotonic()` at its start and end)."""


class Compactor:
    """Compacts `port` every `every` seconds (partitions with at least `min_files` small files) until stopped."""

    def __init__(self, port: Port, every: float, *, min_files: int = 8) -> None:
        if every <= 0:
            raise ValueError(f"compact_every must be positive (seconds), got {every}")
        self.port = port
        self.every = every
        self.min_files = min_files
        self.done = CompactionRuns()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"compact {port.address}", daemon=True)

    def __enter__(self) -> Compactor:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        from meshlake.catalog.catalogs import open_catalog

        catalog = open_catalog(self.port.lake.settings)
        while not self._stop.wait(self.every):
            self.once(catalog)

    def once(self, catalog: Any) -> None:
        from meshlake.contract.registry import load_port_table
        from meshlake.contract.stamps import new_run_id
        from meshlake.maintenance.compact import Options, compact

        started, began = time.perf_counter(), time.monotonic()
        try:
            table = load_port_table(catalog, self.port.address)
            _, found = compact(
                catalog,
                table,
                product_version=self.port.descriptor.version,
                run_id=new_run_id(),
                apply=True,
                options=Options(min_files=self.min_files),
            )
        except Exception as exc:  # reported; the next interval tries again
            self.done.spans.append((began, time.monotonic()))
            self.done.errors.append(f"{type(exc).__name__}: {exc}"[:500])
            _LOG.warning("%s: compaction while streaming failed (%s)", self.port.address, exc)
            return
        self.done.spans.append((began, time.monotonic()))
        if found.snapshot_id is not None:
            self.done.runs.append(
                {
                    "snapshot_id": found.snapshot_id,
                    "files_before": found.files_before,
                    "files_after": found.files_after,
                    "rebases": found.rebases,
                    "seconds": round(time.perf_counter() - started, 3),
                }
            )
