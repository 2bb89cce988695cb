"""The key index's post-commit keeping, off the write's critical path: one keeper thread per process.

A merge-on-read upsert that found its rows in a key index (`meshlake.write.key_index`) brings that index to the
snapshot it committed, from what it wrote. That keeping is a cache update: the commit stands whatever happens to
it. So the write hands it to the keeper and returns right after the commit:

- One daemon thread and one queue per process, jobs run in order: two keepings of this process never write the
  same index folder at once. Another process may (its files have other names; manifests are renamed into place
  whole, and every entry is checked before use).
- A later key lookup on the same table first waits for the keeping still pending for it (`wait_for`): it then
  finds the index of its base snapshot ready, instead of catching up from an ancestor itself and reading back the
  delete files the keeping had in memory (measured in NOTES and the benchmark's back-to-back series). It waits
  only until the keeping has the index in memory (`ready`), not for its saving to disk.
- Errors are logged, never raised into a later write: the next lookup catches up or rebuilds.
- Interpreter exit waits up to `EXIT_WAIT_SECONDS` for pending keepings; a process killed meanwhile leaves at
  most temporary files (pruned later) and runs no manifest names, never a torn index that is trusted.
- `MESHLAKE_KEY_INDEX_KEEPING=inline` keeps the index inside the write instead (the benchmark's A/B).
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
from collections.abc import Callable

KEEPING = "MESHLAKE_KEY_INDEX_KEEPING"
EXIT_WAIT_SECONDS = 60.0
LOOKUP_WAIT_SECONDS = 120.0
"""A lookup waits at most this long for a pending keeping, then goes on without it (it catches up itself)."""

_log = logging.getLogger(__name__)


class Keeping:
    """One pending or finished keeping of a table's key index: `seconds` it took (None until done)."""

    def __init__(self, table_uuid: str, job: Callable[[], None], name: str = "") -> None:
        self.table_uuid = table_uuid
        self.name = name or table_uuid
        self.job = job
        self.inline = False
        """Whether it ran inside the write (`MESHLAKE_KEY_INDEX_KEEPING=inline`) rather than on the keeper thread."""
        self.seconds: float | None = None
        self.error: BaseException | None = None
        self._done = threading.Event()
        self._ready = threading.Event()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> float | None:
        """Wait until the keeping is done (at most `timeout` seconds); the seconds it took, None if not done."""
        self._done.wait(timeout)
        return self.seconds

    def wait_ready(self, timeout: float | None = None) -> None:
        """Wait until the keeping has the index in memory (`ready`) or is done (at most `timeout` seconds)."""
        self._ready.wait(timeout)

    def run(self) -> None:
        started = time.perf_counter()
        _running.keeping = self
        try:
            self.job()
        except Exception as error:  # a cache: the commit stands, the next lookup catches up or rebuilds
            self.error = error
            _log.warning("key index of %s not kept: %s", self.name, error)
        finally:
            _running.keeping = None
            self.seconds = time.perf_counter() - started
            self.job = _nothing
            self._ready.set()
            self._done.set()


_running = threading.local()


def ready() -> None:
    """Called by a keeping's job once the index it keeps is in memory for lookups (`meshlake.write.key_index`):
    lookups waiting for it go on while it saves the index."""
    keeping = getattr(_running, "keeping", None)
    if keeping is not None:
        keeping._ready.set()


def _nothing() -> None:
    return None


def background() -> bool:
    """Whether keepings run on the keeper thread (the default) rather than inside the write."""
    return os.environ.get(KEEPING, "background").strip().lower() != "inline"


def keep(table_uuid: str, job: Callable[[], None], *, name: str = "") -> Keeping:
    """Run `job` (keeping the key index of table `table_uuid`, called `name` in logs) on the keeper thread, or here
    when keeping is inline; the returned `Keeping` says when it is done and how long it took."""
    keeping = Keeping(table_uuid, job, name)
    if background():
        _keeper.submit(keeping)
    else:
        keeping.inline = True
        keeping.run()
    return keeping


def wait_for(table_uuid: str, timeout: float | None = None) -> float:
    """Wait until the keepings of table `table_uuid` pending in this process have their index in memory (`ready`;
    at most `timeout`, by default `LOOKUP_WAIT_SECONDS`); the seconds waited."""
    pending = _keeper.pending(table_uuid)
    if not pending:
        return 0.0
    timeout = LOOKUP_WAIT_SECONDS if timeout is None else timeout
    started = time.perf_counter()
    for keeping in pending:
        keeping.wait_ready(max(0.0, started + timeout - time.perf_counter()))
    return time.perf_counter() - started


def wait_all(timeout: float | None = None) -> bool:
    """Wait for every pending keeping of this process; False when some were still running at `timeout`."""
    pending = _keeper.pending()
    deadline = None if timeout is None else time.perf_counter() + timeout
    for keeping in pending:
        keeping.wait(None if deadline is None else max(0.0, deadline - time.perf_counter()))
    return all(k.done for k in pending)


class _Keeper:
    """The process's keeper thread (started on first use) and the keepings queued or running, by table."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Start afresh (a forked child has no keeper thread; its parent's keepings are the parent's)."""
        self.lock = threading.Lock()
        self.queue: queue.SimpleQueue[Keeping] = queue.SimpleQueue()
        self.by_table: dict[str, list[Keeping]] = {}
        self.thread: threading.Thread | None = None

    def submit(self, keeping: Keeping) -> None:
        with self.lock:
            self.by_table.setdefault(keeping.table_uuid, []).append(keeping)
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self.work, name="meshlake-key-index-keeper", daemon=True)
                self.thread.start()
        self.queue.put(keeping)

    def pending(self, table_uuid: str | None = None) -> list[Keeping]:
        with self.lock:
            if table_uuid is not None:
                return list(self.by_table.get(table_uuid, ()))
            return [k for ks in self.by_table.values() for k in ks]

    def work(self) -> None:
        while True:
            keeping = self.queue.get()
            try:
                keeping.run()
            finally:
                with self.lock:
                    left = [k for k in self.by_table.get(keeping.table_uuid, ()) if k is not keeping]
                    if left:
                        self.by_table[keeping.table_uuid] = left
                    else:
                        self.by_table.pop(keeping.table_uuid, None)


_keeper = _Keeper()


def _at_exit() -> None:
    if not wait_all(EXIT_WAIT_SECONDS):
        _log.warning("key index keeping still running at exit: abandoned (the next upsert catches up)")


atexit.register(_at_exit)
os.register_at_fork(after_in_child=_keeper.reset)
