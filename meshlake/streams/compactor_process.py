"""Compaction beside a stream with its reading and rewriting in a worker process, so they do not hold the stream's
GIL.

A compaction finds the small files (reading manifests), plans, reads them through DuckDB and rewrites them with
pyarrow: in a thread of the stream's process its Python parts hold the GIL the stream's commits need, and the
commits that overlapped it ran 4-10 times slower (benchmarks/results/stream.md). `CompactorProcess` starts one
long-lived worker (multiprocessing's `spawn`: no lock or thread state is copied from the stream) when the stream
starts. The worker opens the catalog from the lake's settings and, every `every` seconds, finds and rewrites the
small files (`meshlake.maintenance.compact.rewrite`), then hands the uncommitted rewrite to the stream's process
through a pipe. There the consume loop commits it between two batches (`between_batches`, on the stream's own
thread: `commit_rewrite` re-bases it onto the batches committed meanwhile), records the run, and answers; a failed
commit's files are deleted by the worker. Committed between batches, the compaction neither holds the commit lock
while a batch waits for it nor makes a batch re-base onto it: the next batch simply builds on it (a thread committing
beside the stream made the batches in its windows wait 78-157 ms for the lock, or re-base, in the 10-minute run). A
rewrite the loop does not take within `HANDOFF_WAIT` seconds (no batch came, or the compactor runs beside a stream
that does not call `between_batches`) is committed by the thread that reads the pipe, as before. The commit stays in
the stream's process because that process holds the table's parsed metadata: a commit made by another process would
make the stream's next commit parse and render the whole `metadata.json` again (measured: a 1.6 s commit at 700
snapshots on a loaded machine; it grows with the history).

When the stream ends, the worker is asked to stop and finishes its current compaction (killed after `STOP_WAIT`
seconds). It exits as soon as its parent does, however that ends (it watches the parent's sentinel), so it is
never an orphan. A kill of either at any point leaves what a kill of a thread would: the catalog's commit is
atomic, and files written and not committed are orphans for `meshlake maintain`. A worker that dies mid-stream
(killed, out of memory) is started again after `RESTART_BACKOFF` seconds, doubling, at most `MAX_RESTARTS` times
per stream, each death listed in `done.errors`; the worker is told to stop by the closing of a pipe of its own (a
multiprocessing `Event.set` would wait forever for a worker killed while it waited on the event). A worker that
cannot open the catalog or the port reports that in `done.errors` (logged too) and exits, and is not restarted; the
stream goes on without compaction.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import multiprocessing
import os
import sys
import threading
import time
import types
from collections.abc import Iterator
from multiprocessing.connection import Connection, wait
from typing import TYPE_CHECKING, Any

from meshlake.catalog.settings import redact_uri
from meshlake.errors import BrokenProductError
from meshlake.streams.compactor import MIN_FILES, CompactionRuns, check_every, compaction_options, run_record

if TYPE_CHECKING:
    from pyiceberg.table import Table

    from meshlake.catalog.settings import Settings
    from meshlake.contract.address import Address
    from meshlake.maintenance.compact import Compaction, Options, Rewritten
    from meshlake.port import Port

_LOG = logging.getLogger("meshlake.streams")
STOP_WAIT = 60.0
"""Seconds the stream's end waits for the worker's current compaction before killing the worker."""
HANDOFF_WAIT = 2.0
"""Seconds a finished rewrite waits for the consume loop to commit it between two batches, before the pipe's reader
thread commits it itself."""
MAX_RESTARTS = 3
"""Workers started again in one stream after the one before died (killed, out of memory): past that, the stream goes on
without compaction."""
RESTART_BACKOFF = 1.0
"""Seconds before the first restart; each next one waits twice as long."""
OPEN_ATTEMPTS = 5
"""Attempts at opening the catalog and loading the port when the worker starts: a stream committing every few
milliseconds can supersede and delete the metadata file a load just found (a later load finds the new one)."""


class CompactorProcess:
    """Compacts `port` every `every` seconds (partitions with at least `min_files` small files), rewriting in a
    worker process and committing in a thread of this one, from the `with` block's start to its end. `settings`
    (the worker's catalog) defaults to the port's lake's."""

    def __init__(
        self, port: Port, every: float, *, min_files: int = MIN_FILES, settings: Settings | None = None
    ) -> None:
        check_every(every)
        self.port = port
        self.every = every
        self.done = CompactionRuns()
        self.pid: int | None = None
        """The current worker's process id, once started."""
        self.restarts = 0
        """Workers started again after the one before died."""
        self._context = multiprocessing.get_context("spawn")
        self._stop = threading.Event()
        """Set when the stream ends (each worker is told through its own pipe, `_stop_worker`)."""
        self._stop_worker: Connection | None = None
        options = compaction_options(min_files)
        self._args = (settings or port.lake.settings, port.address, port.descriptor.version, every, options)
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None
        self._workers_lock = threading.Lock()
        self._stopping = False
        self._reported: set[int | None] = set()
        """The workers whose death is in `done.errors` already."""
        self._reader = threading.Thread(target=self._read, name=f"compact commits {port.address}", daemon=True)
        self._handoff_lock = threading.Lock()
        self._handed: _Handoff | None = None
        self._taking = True
        """Whether the consume loop still takes rewrites between batches (until the `with` block ends)."""

    def __enter__(self) -> CompactorProcess:
        self._start_worker()
        self._reader.start()
        return self

    def _start_worker(self) -> None:
        """Start a worker with a pipe of its own (the reader reads the newest)."""
        conn, child_end = self._context.Pipe()
        # Stopping is the closing of a pipe, not a multiprocessing Event: an Event's `set` waits for every waiter
        # to wake, forever for a worker killed while it waited.
        stop_end, stop_worker = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=work,
            args=self._args,
            kwargs={"stop": stop_end, "conn": child_end},
            name=f"meshlake compact {self.port.address}",
            daemon=True,
        )
        with _main_not_imported():
            process.start()
        child_end.close()  # the worker's end: its exit then ends the reader's `recv` with EOFError
        stop_end.close()
        self._process, self._conn, self._stop_worker, self.pid = process, conn, stop_worker, process.pid

    def __exit__(self, *exc: object) -> None:
        with self._handoff_lock:
            self._taking = False
        self.between_batches()  # a rewrite handed over as the loop ended: committed here rather than after a wait
        with self._workers_lock:
            self._stopping = True
            process = self._process
        self._stop.set()
        assert process is not None and self._stop_worker is not None
        self._stop_worker.close()  # the worker's `poll` sees the end of the pipe
        process.join(STOP_WAIT)
        if process.is_alive():
            _LOG.warning("%s: the compactor did not stop within %g s; killed", self.port.address, STOP_WAIT)
            process.kill()
            process.join()
        elif process.exitcode != 0 and process.pid not in self._reported:
            self.done.errors.append(f"the compactor's worker exited with status {process.exitcode}")
        self._reader.join()
        assert self._conn is not None
        self._conn.close()
        process.close()

    def _read(self) -> None:
        """Commit the workers' rewrites and record their reports; start a new worker when one dies mid-stream."""
        while self._read_worker() and self._restart():
            pass

    def _read_worker(self) -> bool:
        """Read the current worker's pipe until it closes; whether the worker died (rather than stopped or gave up)."""
        conn, process = self._conn, self._process
        assert conn is not None and process is not None
        catalog = None
        while True:
            try:
                kind, value = conn.recv()
            except (EOFError, OSError):
                break
            if kind == "rewritten":
                handed = self._hand_over(value)
                if handed is not None:
                    answer = handed
                else:
                    if catalog is None:
                        from meshlake.catalog.catalogs import open_catalog

                        catalog = open_catalog(self.port.lake.settings)
                    answer = self._commit(catalog, *value)
                with contextlib.suppress(OSError):  # the worker is gone: the commit stands or failed alone
                    conn.send(answer)
            elif kind == "span":
                self.done.spans.append((value[0], value[1]))
            elif kind == "error":
                self._failed(value)
        process.join(STOP_WAIT)
        return not self._stop.is_set() and process.exitcode not in (0, None)

    def _restart(self) -> bool:
        """After a worker died: start another one after a backoff, at most `MAX_RESTARTS` times in a stream; each
        death is listed in `done.errors`. Whether one was started."""
        process = self._process
        assert process is not None
        status = process.exitcode
        self._reported.add(process.pid)
        if self.restarts >= MAX_RESTARTS:
            self._failed(f"the compactor's worker died (exit status {status}); not restarted after {MAX_RESTARTS}")
            return False
        self.restarts += 1
        self._failed(f"the compactor's worker died (exit status {status}); restart {self.restarts} of {MAX_RESTARTS}")
        if self._stop.wait(RESTART_BACKOFF * 2 ** (self.restarts - 1)):
            return False
        with self._workers_lock:
            if self._stopping:
                return False
            assert self._conn is not None and self._stop_worker is not None
            self._conn.close()
            self._stop_worker.close()
            process.close()
            self._start_worker()
        return True

    def between_batches(self) -> None:
        """Commit the rewrite the worker handed over, if one waits: the consume loop calls this after each batch, so
        the compaction's commit lands between two of the stream's commits instead of beside one."""
        handed = self._handed
        if handed is None or not handed.claim():
            return
        try:
            handed.answer = self._commit(self.port.lake.catalog, *handed.value)
        finally:
            handed.done.set()

    def _hand_over(self, value: tuple[Any, ...]) -> tuple[str, str | None] | None:
        """Offer a rewrite to the consume loop (`between_batches`) and wait for its answer; None when the loop did
        not take it within `HANDOFF_WAIT` seconds (or no longer takes any): the caller commits it then."""
        handed = _Handoff(value)
        with self._handoff_lock:
            if not self._taking:
                return None
            self._handed = handed
        answer: tuple[str, str | None] | None = None
        if handed.done.wait(HANDOFF_WAIT) or not handed.claim():
            handed.done.wait()  # the loop took it: its commit may still be running
            answer = handed.answer
        with self._handoff_lock:
            self._handed = None
        return answer

    def _commit(
        self, catalog: Any, rewritten: Rewritten, found: Compaction, began: float, seconds: float
    ) -> tuple[str, str | None]:
        """Commit the worker's rewrite here; the answer says whether it landed (else the worker deletes its files)."""
        from meshlake.contract.registry import load_port_table
        from meshlake.maintenance.compact import commit_rewrite

        started = time.perf_counter()
        try:
            commit_rewrite(catalog, load_port_table(catalog, self.port.address), rewritten, found)
        except Exception as exc:  # reported; the worker tries again at the next interval
            self.done.spans.append((began, time.monotonic()))
            self._failed(f"{type(exc).__name__}: {exc}"[:500])
            return ("failed", None)
        self.done.spans.append((began, time.monotonic()))
        committing = time.perf_counter() - started
        self.done.runs.append(run_record(found, seconds + committing, committing))
        return ("committed", None)

    def _failed(self, error: str) -> None:
        self.done.errors.append(error)
        _LOG.warning("%s: compaction while streaming failed (%s)", self.port.address, error)


class _Handoff:
    """A rewrite offered to the consume loop: whoever claims it first (the loop, or the reader after its wait)
    commits it and sets `done`."""

    def __init__(self, value: tuple[Any, ...]) -> None:
        self.value = value
        self.done = threading.Event()
        self.answer: tuple[str, str | None] = ("unknown", None)
        """Stays `unknown` when the commit was cut short (Ctrl-C lands in the stream's thread): it may have landed,
        so the worker keeps the files (orphans for `meshlake maintain` if it did not)."""
        self._claimed = False
        self._lock = threading.Lock()

    def claim(self) -> bool:
        with self._lock:
            if self._claimed:
                return False
            self._claimed = True
            return True


@contextlib.contextmanager
def _main_not_imported() -> Iterator[None]:
    """Start the worker without the stream's `__main__`: `spawn` would import the script that started the stream
    in the worker (run again, top level and all, when it has no `if __name__ == "__main__"` guard); the worker needs
    nothing from it. The module is swapped for the instant of `Process.start`, which reads it."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def work(
    settings: Settings,
    address: Address,
    product_version: str,
    every: float,
    options: Options,
    *,
    stop: Connection,
    conn: Connection,
) -> None:
    """The worker: rewrite every `every` seconds and hand each rewrite over, until `stop` is closed or the parent is
    gone."""
    from meshlake.catalog.catalogs import open_catalog

    _exit_with_parent()
    for attempt in range(OPEN_ATTEMPTS):
        try:
            catalog = open_catalog(settings)
            _load(catalog, address)
            break
        except Exception as exc:  # the port's metadata file may be superseded and deleted while it is read
            if attempt + 1 < OPEN_ATTEMPTS:
                time.sleep(0.2 * (attempt + 1))
                continue
            secrets = (settings.s3_secret_access_key or "", settings.rest_credential or "", settings.rest_token or "")
            reason = redact_uri(f"{type(exc).__name__}: {exc}", secrets)[:500]
            conn.send(("error", f"the compactor could not open the catalog or the port {address}: {reason}"))
            conn.close()
            return
    while not stop.poll(every):  # True once the stream's end closed its side
        _rewrite_once(catalog, address, product_version, options, conn)
    conn.close()


def _rewrite_once(catalog: Any, address: Address, product_version: str, options: Options, conn: Connection) -> None:
    """Find and rewrite the port's small files, hand the rewrite to the stream's process, and delete its files
    if the commit there failed."""
    from pyiceberg.table.refs import MAIN_BRANCH

    from meshlake.contract.stamps import new_run_id
    from meshlake.maintenance.compact import discard, find_groups, rewrite

    began, started = time.monotonic(), time.perf_counter()
    try:
        table = _load(catalog, address)
        found = find_groups(table, options)
        head = table.metadata.snapshot_by_name(MAIN_BRANCH)
        if not found.groups or head is None:
            conn.send(("span", (began, time.monotonic())))
            return
        rewritten = rewrite(table, found, head.snapshot_id, product_version=product_version, run_id=new_run_id())
    except Exception as exc:  # reported; the next interval tries again
        conn.send(("span", (began, time.monotonic())))
        conn.send(("error", f"{type(exc).__name__}: {exc}"[:500]))
        return
    conn.send(("rewritten", (rewritten, dataclasses.replace(found, groups=[]), began, time.perf_counter() - started)))
    try:
        answer, _ = conn.recv()
    except EOFError:  # the stream's process is gone: whether the commit landed is the catalog's to say
        return
    if answer == "failed":
        discard(table, rewritten)


def _load(catalog: Any, address: Address) -> Table:
    """The port's table, loaded again once when its metadata file was superseded and deleted while it was read."""
    from meshlake.contract.registry import load_port_table

    try:
        return load_port_table(catalog, address)
    except BrokenProductError:
        time.sleep(0.1)
        return load_port_table(catalog, address)


def _exit_with_parent() -> None:
    """Exit the worker at once when the stream's process is gone (killed, or ended without stopping it)."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    sentinel = parent.sentinel

    def watch() -> None:
        wait([sentinel])
        os._exit(0)  # nothing to flush: a rewrite cut short leaves orphan files, as a kill does

    threading.Thread(target=watch, name="parent watch", daemon=True).start()
