"""The access log: every read of a port through meshlake, kept in `meshlake.system.access_log`.

A read calls the lake's `Recorder` (the `ReadRecorder` hook of `meshlake.query.read_log`), which adds an
`AccessEntry` — time, principal and whether it was verified, port, snapshot, columns, masks and row filter
applied, the read path and the query or run id — to the lake's `AccessLog`. Reads never pay a catalog commit
each: entries are buffered in memory and written as one append to the system table (the commit machinery of
`meshlake.write.system_table`, rebased when another process wrote first) when

- `flush_entries` entries are buffered, or `flush_interval` has passed since the last write (checked when an
  entry is recorded; the read that finds it due writes the buffer);
- the lake is closed (`lake.close()`), or `flush()` is called;
- the process exits normally (an exit hook writes every log that still holds entries, even of lakes that
  are gone).

A write that fails never fails the read: its entries stay buffered, in order, a warning (logger
`meshlake.access.log`) gives the reason, and the next due read retries (after a back-off of 1 s, doubling up
to `flush_interval`). The buffer is bounded (`max_entries`): when it is full and still cannot be written, a
read raises `AccessLogError` rather than go unlogged. Entries are written at least once: a write whose
outcome is unknown and is retried may leave a duplicate, never a gap.

Reads of the access log itself are not logged.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from pyiceberg.types import (
    BooleanType,
    ListType,
    LongType,
    MapType,
    StringType,
    TimestamptzType,
)

from meshlake.errors import AccessLogError, ConfigError
from meshlake.write.system_table import SystemTable

if TYPE_CHECKING:
    import pyarrow as pa
    from pyiceberg.catalog import Catalog

    from meshlake.access.identity import Identity
    from meshlake.access.policy import MeshPolicy
    from meshlake.access.rights import Decision
    from meshlake.catalog.settings import Settings

ACCESS_LOG = SystemTable(
    "access_log",
    (
        ("accessed_at", TimestamptzType(), True),
        ("principal", StringType(), True),
        ("verified", BooleanType(), True),
        ("address", StringType(), True),
        ("snapshot_id", LongType(), False),
        ("columns", ListType(101, StringType(), element_required=True), True),
        ("masks", MapType(102, StringType(), 103, StringType(), value_required=True), True),
        ("row_filter", StringType(), False),
        ("path", StringType(), True),
        ("query_id", StringType(), False),
    ),
    "Every read of a port through meshlake: who, what, which snapshot, masks and filter applied, and how.",
)
ACCESS_LOG_ADDRESS = ACCESS_LOG.address

_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class AccessEntry:
    """One read of one port."""

    accessed_at: datetime
    principal: str
    verified: bool
    address: str
    snapshot_id: int | None
    """None for a port never written (it reads as an empty table)."""
    columns: tuple[str, ...]
    path: str
    """How it was read: `arrow`, `polars`, `pandas`, `relation`, `sql`, `duckdb`, `pipeline`, `cli`."""
    masks: Mapping[str, str] = field(default_factory=dict)
    """Column → mask action applied (`apply-expression(<filter>)` for an expression)."""
    row_filter: str | None = None
    query_id: str | None = None


def entry_rows(entries: Sequence[AccessEntry]) -> pa.Table:
    """Entries as rows of the access-log table."""
    import pyarrow as pa

    columns = {
        "accessed_at": [e.accessed_at for e in entries],
        "principal": [e.principal for e in entries],
        "verified": [e.verified for e in entries],
        "address": [e.address for e in entries],
        "snapshot_id": [e.snapshot_id for e in entries],
        "columns": [list(e.columns) for e in entries],
        "masks": [list(e.masks.items()) for e in entries],
        "row_filter": [e.row_filter for e in entries],
        "path": [e.path for e in entries],
        "query_id": [e.query_id for e in entries],
    }
    return pa.Table.from_pydict(columns, schema=ACCESS_LOG.arrow_schema)


# -- settings -------------------------------------------------------------------------------------------

Mode = Literal["auto", "on", "off"]
_MODES: dict[str, Mode] = {
    "auto": "auto",
    "on": "on",
    "true": "on",
    "yes": "on",
    "1": "on",
    "off": "off",
    "false": "off",
    "no": "off",
    "0": "off",
}
_SECONDS = re.compile(r"^\d+(\.\d*)?$")


@dataclass(frozen=True)
class LogSettings:
    """The access log's settings, checked: `access_log`, `access_log_flush_entries`, `…_flush_interval`,
    `…_max_entries`."""

    mode: Mode = "auto"
    flush_entries: int = 1000
    flush_seconds: float = 30.0
    max_entries: int = 100_000

    @classmethod
    def of(cls, settings: Settings) -> LogSettings:
        """The log settings of a lake; `ConfigError` naming the key for a value that is not one."""
        mode = _MODES.get(str(settings.access_log).strip().lower())
        if mode is None:
            raise ConfigError(f"access_log must be auto, on or off, not {settings.access_log!r}.", key="access_log")
        flush_entries = _count(settings.access_log_flush_entries, "access_log_flush_entries")
        max_entries = _count(settings.access_log_max_entries, "access_log_max_entries")
        if max_entries < flush_entries:
            raise ConfigError(
                f"access_log_max_entries ({max_entries}) must be at least access_log_flush_entries ({flush_entries}).",
                key="access_log_max_entries",
            )
        return cls(mode, flush_entries, _seconds(settings.access_log_flush_interval), max_entries)

    def enabled(self, policy: MeshPolicy | None) -> bool:
        """Whether reads are logged: `on`, or `auto` in a lake with a mesh policy."""
        return self.mode == "on" or (self.mode == "auto" and policy is not None)


def _count(value: object, key: str) -> int:
    text = str(value).strip()
    if not text.isdigit() or not 0 < int(text) <= 100_000_000:
        raise ConfigError(f"{key} must be a whole number from 1 to 100000000, not {value!r}.", key=key)
    return int(text)


def _seconds(value: object) -> float:
    from meshlake.contract.durations import parse_duration

    text = str(value).strip()
    try:
        seconds = float(text) if _SECONDS.match(text) else parse_duration(text).total_seconds()
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 86_400:
        raise ConfigError(
            f"access_log_flush_interval must be a duration from 1s to 1d (such as 30s or 5m) or a number of seconds, "
            f"not {value!r}.",
            key="access_log_flush_interval",
        )
    return seconds


# -- the buffer -----------------------------------------------------------------------------------------


class AccessLog:
    """The buffered access log of one lake (see the module docstring for when it is written)."""

    def __init__(
        self,
        catalog: Catalog,
        warehouse: str | None,
        settings: LogSettings | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings or LogSettings(mode="on")
        self._catalog = catalog
        self._warehouse = warehouse
        self._clock = clock
        self._entries: list[AccessEntry] = []
        self._lock = threading.Lock()
        """Guards `_entries` and this log's place in `_PENDING`."""
        self._flushing = threading.Lock()
        """One write at a time."""
        self._last_flush = clock()
        self._retry_at = 0.0
        self.failures = 0
        """Failed writes since the last one that succeeded."""
        self.last_error: str | None = None
        self.written = 0
        """Entries this log has written."""
        self.commits = 0
        """Appends this log has committed (one per write)."""

    @property
    def pending(self) -> int:
        """Entries recorded and not written yet."""
        return len(self._entries)

    def record(self, entry: AccessEntry) -> None:
        """Buffer `entry`; write the buffer when it is due. Raises `AccessLogError` only when the buffer is full
        and cannot be written (the read must then be refused)."""
        with self._lock:
            room = len(self._entries) < self.settings.max_entries
            if room:
                self._entries.append(entry)
                _PENDING.add(self)
                count = len(self._entries)
        if not room:
            self._record_when_full(entry)
            return
        now = self._clock()
        if count >= self.settings.flush_entries or now - self._last_flush >= self.settings.flush_seconds:
            self._flush_quietly(now)

    def flush(self) -> int:
        """Write every buffered entry now, as one append; returns how many were written.

        Raises `AccessLogError` when the write fails; the entries then stay buffered.
        """
        with self._flushing:
            return self._write()

    def close(self) -> None:
        """Write what is buffered (`flush`)."""
        self.flush()

    def _write(self) -> int:
        with self._lock:
            batch, self._entries = self._entries, []
        if not batch:
            self._last_flush = self._clock()
            return 0
        try:
            ACCESS_LOG.append(self._catalog, self._warehouse, entry_rows(batch))
        except BaseException as exc:
            with self._lock:
                self._entries[:0] = batch
                pending = len(self._entries)
            self.failures += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            self._retry_at = self._clock() + min(self.settings.flush_seconds, 2.0 ** min(self.failures - 1, 16))
            if not isinstance(exc, Exception):
                raise
            raise AccessLogError(self.last_error, pending=pending) from exc
        with self._lock:
            if not self._entries:
                _PENDING.discard(self)
        self._last_flush = self._clock()
        self.failures, self.last_error, self._retry_at = 0, None, 0.0
        self.commits += 1
        self.written += len(batch)
        return len(batch)

    def _flush_quietly(self, now: float) -> None:
        """A due write from a read: skipped while backing off or while another thread writes; never raises."""
        if now < self._retry_at or not self._flushing.acquire(blocking=False):
            return
        try:
            self._write()
        except AccessLogError as exc:
            wait = max(0.0, self._retry_at - self._clock())
            _LOG.warning("%s (next attempt in %.0f s)", exc, wait)
        finally:
            self._flushing.release()

    def _record_when_full(self, entry: AccessEntry) -> None:
        """The buffer is full: write it now (whatever the back-off), then buffer `entry`; or refuse the read."""
        try:
            self.flush()
        except AccessLogError as exc:
            raise AccessLogError(exc.reason, pending=exc.pending, full=True) from exc
        with self._lock:
            self._entries.append(entry)
            _PENDING.add(self)


_PENDING: set[AccessLog] = set()
"""Every log holding unwritten entries (held here so that the exit hook finds them, even without their lake)."""


def flush_all() -> None:
    """Write every log that holds entries; log an error for each that cannot be written (run at exit)."""
    for log in list(_PENDING):
        try:
            log.flush()
        except AccessLogError as exc:
            _LOG.error("%s The process is exiting: these entries are lost.", exc)


def _forget_in_child() -> None:
    """A forked child does not write its parent's entries (the parent does); it starts with empty buffers."""
    for log in list(_PENDING):
        log._entries = []
        log._lock = threading.Lock()
        log._flushing = threading.Lock()
    _PENDING.clear()


def _register_exit_hook() -> None:
    """Write the logs when the interpreter exits normally: among threading's exit hooks, which run before its
    thread pools stop taking work (pyiceberg writes manifests through one), and at `atexit` for what is left."""
    import concurrent.futures.thread  # noqa: F401 - its exit hook must be registered before ours (they run last first)

    register = getattr(threading, "_register_atexit", None)
    if register is not None:
        register(flush_all)
    atexit.register(flush_all)  # entries recorded after that (by other exit hooks) are tried once more


_register_exit_hook()
os.register_at_fork(after_in_child=_forget_in_child)


# -- one caller's reads ---------------------------------------------------------------------------------


class Recorder:
    """The `ReadRecorder` a lake hands its read paths: one caller's reads, into one `AccessLog`.

    `rights(address)` gives the caller's `Decision` on a port (None when nothing is enforced); masks and row
    filter come from it when a read path does not say what it applied. `path` and `query_id`, when given,
    label every read (`cli`; `pipeline` with the run id).
    """

    def __init__(
        self,
        log: AccessLog,
        identity: Identity,
        *,
        rights: Callable[[str], Decision | None] | None = None,
        path: str | None = None,
        query_id: str | None = None,
    ) -> None:
        self.log = log
        self.identity = identity
        self._principal = str(identity.principal)
        self._rights = rights
        self._path = path
        self._query_id = query_id
        self._applied: dict[str, tuple[dict[str, str], str | None]] = {}

    def __call__(
        self,
        address: str,
        snapshot_id: int | None,
        columns: Sequence[str],
        *,
        path: str,
        query_id: str | None = None,
        masks: Mapping[str, str] | None = None,
        row_filter: str | None = None,
    ) -> None:
        if address == ACCESS_LOG_ADDRESS:
            return
        if masks is None:
            masks, row_filter = self._restrictions(address)
        self.log.record(
            AccessEntry(
                accessed_at=datetime.now(UTC),
                principal=self._principal,
                verified=self.identity.verified,
                address=address,
                snapshot_id=snapshot_id,
                columns=tuple(columns),
                path=self._path or path,
                masks=masks,
                row_filter=row_filter,
                query_id=self._query_id or query_id,
            )
        )

    def _restrictions(self, address: str) -> tuple[dict[str, str], str | None]:
        """The masks and row filter the caller's rights put on `address` (decided once per port)."""
        known = self._applied.get(address)
        if known is not None:
            return known
        decision = None
        if self._rights is not None:
            try:
                decision = self._rights(address)
            except Exception as exc:  # the read went through: log it without the restrictions
                _LOG.warning("access log: the rights of %s on %s are unknown (%s)", self._principal, address, exc)
        if decision is None or not decision.enforced:
            known = ({}, None)
        else:
            masks = {name: str(mask) for name, mask in decision.masks.items()}
            known = (masks, str(decision.row_filter) if decision.row_filter else None)
        self._applied[address] = known
        return known


def open_access_log(
    catalog: Catalog, warehouse: str | None, settings: Settings, policy: MeshPolicy | None
) -> AccessLog | None:
    """The access log for a lake with these settings and mesh policy, or None when reads are not logged."""
    chosen = LogSettings.of(settings)
    return AccessLog(catalog, warehouse, chosen) if chosen.enabled(policy) else None
