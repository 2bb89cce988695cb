"""Compaction while a stream runs: the port's small files compacted every few seconds beside the consume loop.

It uses maintenance's compaction (`meshlake.maintenance.compact`) on a catalog of its own, by size classes
(`compaction_options`): small files are compacted only with files of their own size class (`compact.size_class`:
under 256 KB, to 2 MB, to 16 MB, ...), `MIN_FILES` of a class at a time, so the file a run made is rewritten again
only with files of its own size (a row once per class), not with every run until it passes the small-file size.
Compaction rewrites only files already on `main` when it reads the head; a batch being committed meanwhile is not among
them, and whichever commits second is re-based onto the other (an append onto the compaction, or the
compaction onto the append, which leaves appended files alone). So query speed does not decay with the
stream's age, and no batch is rewritten before it lands. A compaction that fails is reported and retried at
the next interval; it never stops the stream.

Where it runs is `MESHLAKE_STREAM_COMPACTION`'s choice (`background_compactor`): `process` (the default) in a
worker process of its own (`meshlake.streams.compactor_process`), so its reading and rewriting do not hold the
stream's GIL; `thread` in a thread of the stream's process (`Compactor`), which costs no process start and no
second import of meshlake (the worker's resident memory was about 240 MB, shared pages included), for a machine
whose memory is tight.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from meshlake.streams.switches import switch

if TYPE_CHECKING:
    from meshlake.contract.address import Address
    from meshlake.maintenance.compact import Compaction, Options
    from meshlake.port import Port

_LOG = logging.getLogger("meshlake.streams")
ENV = "MESHLAKE_STREAM_COMPACTION"
MODES = ("process", "thread")
CLASSES_ENV = "MESHLAKE_STREAM_COMPACTION_CLASSES"
CLASS_MODES = ("on", "off")
MIN_FILES = 8
"""Small files (of one size class) a partition needs before it is compacted while streaming."""


def compaction_mode() -> str:
    """`process` (the default) or `thread`, as `MESHLAKE_STREAM_COMPACTION` says; an unknown value is a
    `ConfigError`."""
    return switch(ENV, MODES, "where compaction runs beside a stream")


@dataclass
class CompactionRuns:
    """What the compactor did: one entry per compaction that committed, and the failures."""

    runs: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    spans: list[tuple[float, float]] = field(default_factory=list)
    """When each attempt ran, committed or not (`time.monotonic()` at its start and end)."""


class BackgroundCompactor(Protocol):
    """A compactor the consume loop runs beside itself for the `with` block: what it did is in `done`."""

    done: CompactionRuns

    def __enter__(self) -> BackgroundCompactor: ...

    def __exit__(self, *exc: object) -> None: ...

    def between_batches(self) -> None:
        """Called by the consume loop after each batch: the moment to commit what is ready without racing a batch."""


def compaction_options(min_files: int = MIN_FILES) -> Options:
    """The options of a compaction while streaming: by size classes unless `MESHLAKE_STREAM_COMPACTION_CLASSES` is
    `off` (every small file of a partition together, as before, to compare); an unknown value is a `ConfigError`."""
    from meshlake.maintenance.compact import Options

    classes = switch(CLASSES_ENV, CLASS_MODES, "whether compaction while streaming keeps to size classes") == "on"
    return Options(min_files=min_files, size_classes=classes)


def background_compactor(port: Port, every: float, *, min_files: int = MIN_FILES) -> BackgroundCompactor:
    """The compactor `MESHLAKE_STREAM_COMPACTION` chooses, compacting `port` every `every` seconds."""
    if compaction_mode() == "thread":
        return Compactor(port, every, min_files=min_files)
    from meshlake.streams.compactor_process import CompactorProcess

    return CompactorProcess(port, every, min_files=min_files)


def check_every(every: float) -> None:
    """Refuse an interval that is not a positive, finite number of seconds (`ValueError`)."""
    if not math.isfinite(every) or every <= 0:
        raise ValueError(f"compact_every must be positive (seconds), got {every}")


class Compactor:
    """Compacts `port` every `every` seconds (partitions with at least `min_files` small files) until stopped,
    in a thread of this process."""

    def __init__(self, port: Port, every: float, *, min_files: int = MIN_FILES) -> None:
        check_every(every)
        self.port = port
        self.every = every
        self.options = compaction_options(min_files)
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

    def between_batches(self) -> None:
        """Nothing: this thread commits its own compactions (re-based onto, or re-basing, the stream's batches)."""

    def once(self, catalog: Any) -> None:
        compact_once(catalog, self.port.address, self.port.descriptor.version, self.options, self.done)


def compact_once(
    catalog: Any,
    address: Address,
    product_version: str,
    options: Options,
    done: CompactionRuns,
) -> None:
    """One compaction of the port at `address`, recorded in `done` (a failure too: it is never raised)."""
    from meshlake.contract.registry import load_port_table
    from meshlake.contract.stamps import new_run_id
    from meshlake.maintenance.compact import compact

    started, began = time.perf_counter(), time.monotonic()
    try:
        table = load_port_table(catalog, address)
        _, found = compact(
            catalog,
            table,
            product_version=product_version,
            run_id=new_run_id(),
            apply=True,
            options=options,
        )
    except Exception as exc:  # reported; the next interval tries again
        done.spans.append((began, time.monotonic()))
        done.errors.append(f"{type(exc).__name__}: {exc}"[:500])
        _LOG.warning("%s: compaction while streaming failed (%s)", address, exc)
        return
    done.spans.append((began, time.monotonic()))
    if found.snapshot_id is not None:
        done.runs.append(run_record(found, time.perf_counter() - started))


def run_record(found: Compaction, seconds: float, commit_seconds: float | None = None) -> dict[str, Any]:
    """One committed compaction in `CompactionRuns.runs`: `seconds` in all, `commit_seconds` of its commit on the
    stream's side (`CompactorProcess`; a thread's run does not time its commit apart)."""
    return {
        "snapshot_id": found.snapshot_id,
        "files_before": found.files_before,
        "files_after": found.files_after,
        "bytes_before": found.bytes_before,
        "rebases": found.rebases,
        "seconds": round(seconds, 3),
        "commit_seconds": round(commit_seconds, 4) if commit_seconds is not None else None,
    }
