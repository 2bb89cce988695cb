"""Manifest merges built in the background while a stream runs, so no batch's commit waits for a large one.

After each committed batch the loop wakes `Premerger`'s thread, which (at most every `LOOK_EVERY` seconds) looks
at the port's `main` on a catalog of its own: an offer a commit swapped in is settled, one whose manifests `main` no
longer lists is dropped, and when none is pending and a tier is one manifest short of merging, the merge is written
now and offered to the next commit (`meshlake.write.manifest_premerge`); manifests of only removed files (one per
compaction) are offered for dropping as soon as they appear, unread. It does the same for the lake's quality
records (`meshlake.system.quality_results`), which every gated batch's commit appends its verdict to: that table's
manifests merge by the same tiers, and at its 4,096th append a commit merged 4,096 entries (a 0.7 s commit in the
10-minute benchmark); a port without expectations has no gate and appends no verdict, so its stream leaves that
table alone. No other system table is written on every batch (a stream's rejects are appended only with malformed
messages). A failure is reported and the commit merges as before; it never stops the stream.
`MESHLAKE_STREAM_PREMERGE=off` leaves every merge to the commits (to measure the difference).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from meshlake.streams.switches import switch
from meshlake.write.priority import lower_this_thread

if TYPE_CHECKING:
    from pyiceberg.table import Table

    from meshlake.port import Port

_LOG = logging.getLogger("meshlake.streams")
ENV = "MESHLAKE_STREAM_PREMERGE"
MODES = ("on", "off")
LOOK_EVERY = 0.5
"""Seconds at least between two looks at `main` (a tier stays one manifest short for `min_count` commits: 1.6 s
at 10 commits/s for the smallest merged ahead), so the thread costs the commits little."""


def premerge_mode() -> str:
    """`on` (the default) or `off`, as `MESHLAKE_STREAM_PREMERGE` says; an unknown value is a `ConfigError`."""
    return switch(ENV, MODES, "a mode")


@dataclass
class Premerges:
    """What the thread did: merges offered, swapped in by a commit, dropped, the seconds spent, the failures."""

    offered: int = 0
    swapped: int = 0
    dropped: int = 0
    seconds: float = 0.0
    spans: list[tuple[float, float]] = field(default_factory=list)
    """When each merge was written (`time.monotonic()` at its start and end)."""
    errors: list[str] = field(default_factory=list)
    records_swapped: int = 0
    """Of `swapped`, the merges of the quality records' manifests."""


class Premerger:
    """Merges `port`'s manifests ahead of its commits, woken by `committed()`, until the `with` block ends."""

    def __init__(self, port: Port) -> None:
        self.port = port
        self.done = Premerges()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._table: Table | None = None
        self._records: Table | None = None
        self._thread = threading.Thread(target=self._loop, name=f"premerge {port.address}", daemon=True)

    def __enter__(self) -> Premerger:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        from meshlake.write.manifest_premerge import withdraw

        self._stop.set()
        self._wake.set()
        self._thread.join()
        for table in (self._table, self._records):
            if table is None:
                continue
            try:
                withdraw(table.refresh())
            except Exception as failed:  # the offer's file is an orphan for maintenance then
                self.done.errors.append(f"{type(failed).__name__}: {failed}"[:500])

    def committed(self) -> None:
        """A batch committed: look at `main` again."""
        self._wake.set()

    def _loop(self) -> None:
        from meshlake.catalog.catalogs import open_catalog

        lower_this_thread()  # a tier's merge reads every manifest of it: below the batches, not beside them
        catalog = open_catalog(self.port.lake.settings)
        while not self._stop.is_set():
            self._wake.wait()
            self._wake.clear()
            if self._stop.is_set():
                return
            self.once(catalog)
            self._stop.wait(LOOK_EVERY)

    def once(self, catalog: Any) -> None:
        from meshlake.contract.registry import load_port_table

        try:
            self._table = load_port_table(catalog, self.port.address)
            self._merge_ahead(self._table, records=False)
        except Exception as exc:  # reported; the commits merge as they would without it
            self.done.errors.append(f"{type(exc).__name__}: {exc}"[:500])
            _LOG.warning("%s: merging manifests ahead of the commits failed (%s)", self.port.address, exc)
        if not self.port.contract.expectations:
            return  # no gate: the stream's batches append nothing to the quality records
        try:
            records = self._records = _quality_records(catalog)
            if records is not None:
                self._merge_ahead(records, records=True)
        except Exception as exc:  # as above
            self.done.errors.append(f"quality records: {type(exc).__name__}: {exc}"[:500])
            _LOG.warning("merging the quality records' manifests ahead of the commits failed (%s)", exc)

    def _merge_ahead(self, table: Table, *, records: bool) -> None:
        """Settle `table`'s offer; offer a merge when none is pending and a tier is one manifest short."""
        from meshlake.write.manifest_premerge import offer, offered, premerge, settle

        settled = settle(table)
        self.done.swapped += settled == "swapped"
        self.done.records_swapped += records and settled == "swapped"
        self.done.dropped += settled == "dropped"
        if offered(str(table.metadata.table_uuid)) is not None:
            return
        began = time.monotonic()
        merged = premerge(table)
        if merged is not None:
            offer(merged)
            self.done.offered += 1
            self.done.spans.append((began, time.monotonic()))
            self.done.seconds += time.monotonic() - began


def _quality_records(catalog: Any) -> Table | None:
    """The lake's quality records table, None while no gate has written it."""
    from pyiceberg.exceptions import NoSuchTableError

    from meshlake.quality.records import RESULTS_TABLE

    try:
        table: Table = catalog.load_table(RESULTS_TABLE)
    except NoSuchTableError:
        return None
    return table
