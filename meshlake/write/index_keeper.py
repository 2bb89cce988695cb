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
- Saves are deferred (`save_later`): a keeping's caught-up index serves this process's lookups from memory, and its
  save waits `SAVE_DELAY_SECONDS` for a newer keeping of the same table, which makes it unneeded (skipped, the
  keeping `superseded`): back-to-back upserts (a change-data-capture stream) save only the newest index instead of
  writing one per snapshot beside the next upsert. At most `SKIPPED_SAVES_MAX` saves in a row are skipped; waiting
  for a keeping (`Keeping.wait`, `wait_all`, interpreter exit) runs its deferred save at once. A skipped or lost
  save only leaves the saved index of an older snapshot, which a later lookup catches up (each saved index is
  exactly that of the snapshot it names).
- Work on a kept index too long for the queue (a merge of its runs, O(port)) runs `aside`, on a thread of its own,
  and hands its result back as a keeping; `wait_all` (and interpreter exit) waits for it too.
- Errors are logged, never raised into a later write: the next lookup catches up or rebuilds.
- Interpreter exit waits up to `EXIT_WAIT_SECONDS` for pending keepings and saves; a process killed meanwhile leaves
  at most temporary files (pruned later) and runs no manifest names, never a torn index that is trusted.
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

from meshlake.write.priority import lower_this_thread

KEEPING = "MESHLAKE_KEY_INDEX_KEEPING"
EXIT_WAIT_SECONDS = 60.0
LOOKUP_WAIT_SECONDS = 120.0
"""A lookup waits at most this long for a pending keeping, then goes on without it (it catches up itself)."""
SAVE_DELAY_SECONDS = 0.5
"""A keeping's save waits this long for a newer keeping of the same table, whose save makes it unneeded."""
SKIPPED_SAVES_MAX = 8
"""After this many saves of a table skipped in a row, the newest runs at once: a process killed in a stream of
upserts leaves a saved index at most this many snapshots (and the one being kept) behind, caught up from there
(`key_index.ANCESTORS`)."""

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
        self.superseded = False
        """Whether its save was skipped for a newer keeping of the same table (which saves a later snapshot)."""
        self._save: Callable[[], None] | None = None
        self._worked = 0.0
        self._done = threading.Event()
        self._ready = threading.Event()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> float | None:
        """Wait until the keeping is done (at most `timeout` seconds): its index saved (a deferred save is run now)
        or superseded; the seconds it took, None if not done."""
        if not self._done.is_set():
            _keeper.flush(self.table_uuid)
        self._done.wait(timeout)
        return self.seconds

    def wait_ready(self, timeout: float | None = None) -> None:
        """Wait until the keeping has the index in memory (`ready`) or is done (at most `timeout` seconds)."""
        self._ready.wait(timeout)

    def run(self) -> None:
        """Run the job; done unless it left a save for later (`save_later`: the keeper runs or skips it)."""
        started = time.perf_counter()
        _running.keeping = self
        try:
            self.job()
        except Exception as error:  # a cache: the commit stands, the next lookup catches up or rebuilds
            self.error = error
            self._save = None
            _log.warning("key index of %s not kept: %s", self.name, error)
        finally:
            _running.keeping = None
            self._worked = time.perf_counter() - started
            self.job = _nothing
            self._ready.set()
            if self._save is None:
                self._finish()

    @property
    def saving(self) -> bool:
        """Whether its index is caught up in memory and still to be saved."""
        return self._save is not None and not self.done

    def save(self) -> None:
        """Run the save its job left for later; then it is done."""
        save, self._save = self._save, None
        started = time.perf_counter()
        try:
            if save is not None:
                save()
        except Exception as error:  # as in `run`
            self.error = error
            _log.warning("key index of %s not saved: %s", self.name, error)
        finally:
            self._worked += time.perf_counter() - started
            self._finish()

    def supersede(self) -> None:
        """Skip its save: a newer keeping of the same table has its index in memory and saves it."""
        self._save = None
        self.superseded = True
        self._finish()

    def _finish(self) -> None:
        self.seconds = self._worked
        self._ready.set()
        self._done.set()


_running = threading.local()


def ready() -> None:
    """Called by a keeping's job once the index it keeps is in memory for lookups (`meshlake.write.key_index`):
    lookups waiting for it go on while it saves the index."""
    keeping = getattr(_running, "keeping", None)
    if keeping is not None:
        keeping._ready.set()


def save_later(save: Callable[[], None]) -> None:
    """Called by a keeping's job, its index in memory (`ready`), with what saves that index: on the keeper thread
    the save is deferred (see the module docstring); inline, or outside a keeping, it runs now."""
    keeping = getattr(_running, "keeping", None)
    if keeping is None or keeping.inline:
        save()
        return
    keeping._save = save


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


def aside(job: Callable[[], None], name: str = "") -> None:
    """Run `job` on a thread of its own rather than the keeper's: work on a kept index that would hold the keeper's
    queue too long (a key index merge, O(port)), which hands its result back through `keep`. Inline (see
    `background`) it runs here. `wait_all` waits for it first. Errors are logged (a cache)."""
    if not background():
        _run_aside(job, name)
        return
    with _keeper.asides:
        _keeper.aside_running += 1
    threading.Thread(target=_run_aside, args=(job, name, True), name="meshlake-key-index-aside", daemon=True).start()


def _run_aside(job: Callable[[], None], name: str, counted: bool = False) -> None:
    if counted:  # below the writes (Linux thread niceness): it yields the cores to them, and takes what they leave
        lower_this_thread()
    try:
        job()
    except Exception as error:  # as in `Keeping.run`
        _log.warning("key index of %s: %s", name, error)
    finally:
        if counted:
            with _keeper.asides:
                _keeper.aside_running -= 1
                _keeper.asides.notify_all()


def wait_all(timeout: float | None = None) -> bool:
    """Wait for every job running `aside` and every pending keeping of this process, deferred saves run now; False
    when some were still running at `timeout`."""
    deadline = None if timeout is None else time.perf_counter() + timeout

    def left() -> float | None:
        return None if deadline is None else max(0.0, deadline - time.perf_counter())

    while True:  # a keeping may start a job aside, which may save when it ends
        with _keeper.asides:
            aside_done = _keeper.asides.wait_for(lambda: _keeper.aside_running == 0, left())
        _keeper.flush()
        pending = _keeper.pending()
        for keeping in pending:
            keeping.wait(left())
        kept = all(k.done for k in pending)
        with _keeper.asides:
            settled = _keeper.aside_running == 0
        if settled or not (aside_done and kept) or left() == 0.0:
            return settled and aside_done and kept


class _Keeper:
    """The process's keeper thread (started on first use), the keepings queued, running or with a deferred save,
    by table, and the deferred saves (one per table: the newest keeping's)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Start afresh (a forked child has no keeper thread; its parent's keepings are the parent's)."""
        self.lock = threading.Lock()
        self.queue: queue.SimpleQueue[Keeping | None] = queue.SimpleQueue()
        self.by_table: dict[str, list[Keeping]] = {}
        self.thread: threading.Thread | None = None
        self.deferred: dict[str, tuple[Keeping, float]] = {}
        """By table: the keeping whose save waits, and when it is due."""
        self.skipped: dict[str, int] = {}
        """By table: saves skipped in a row since the last one that ran."""
        self.flushing: set[str | None] = set()
        """Tables whose deferred save is wanted now (None: every table's)."""
        self.asides = threading.Condition()
        self.aside_running = 0
        """Jobs running `aside`."""

    def submit(self, keeping: Keeping) -> None:
        with self.lock:
            self.by_table.setdefault(keeping.table_uuid, []).append(keeping)
            self._start()
        self.queue.put(keeping)

    def flush(self, table_uuid: str | None = None) -> None:
        """Have the deferred save of `table_uuid` (None: of every table) run now."""
        with self.lock:
            if not self.deferred and not any(self.by_table.values()):
                return
            self.flushing.add(table_uuid)
            self._start()
        self.queue.put(None)  # wakes the keeper thread

    def _start(self) -> None:
        if self.thread is None or not self.thread.is_alive():
            self.thread = threading.Thread(target=self.work, name="meshlake-key-index-keeper", daemon=True)
            self.thread.start()

    def pending(self, table_uuid: str | None = None) -> list[Keeping]:
        with self.lock:
            if table_uuid is not None:
                return list(self.by_table.get(table_uuid, ()))
            return [k for ks in self.by_table.values() for k in ks]

    def work(self) -> None:
        while True:
            try:
                keeping = self.queue.get(timeout=self._until_due())
            except queue.Empty:
                keeping = None
            if keeping is not None:
                try:
                    keeping.run()
                finally:
                    self._after(keeping)
            self._save_due()

    def _after(self, keeping: Keeping) -> None:
        """Defer the save `keeping` left (skipping the one it supersedes), or let it go when it is done."""
        if not keeping.saving:
            self._gone(keeping)
            return
        table = keeping.table_uuid
        with self.lock:
            older = self.deferred.pop(table, None)
            skipped = self.skipped.get(table, 0) + (older is not None)
            self.skipped[table] = skipped
            self.deferred[table] = (keeping, time.perf_counter() + SAVE_DELAY_SECONDS)
        if older is not None:
            older[0].supersede()
            self._gone(older[0])
        if skipped >= SKIPPED_SAVES_MAX:
            self.flush(table)

    def _until_due(self) -> float | None:
        with self.lock:
            if self.flushing:
                return 0.0
            if not self.deferred:
                return None
            return max(0.0, min(due for _, due in self.deferred.values()) - time.perf_counter())

    def _save_due(self) -> None:
        """Run the deferred saves that are due or wanted now."""
        now = time.perf_counter()
        with self.lock:
            flushing = self.flushing
            queued = {t for t, ks in self.by_table.items() if any(not k.done and not k.saving for k in ks)}
            # a flush also wants the saves of the keepings still queued: it stays until they have run
            self.flushing = {t for t in flushing if t in queued or (t is None and queued)}
            due = [
                table
                for table, (_, when) in self.deferred.items()
                if when <= now or table in flushing or None in flushing
            ]
            saves = [self.deferred.pop(table)[0] for table in due]
            for table in due:
                self.skipped.pop(table, None)
        for keeping in saves:
            keeping.save()
            self._gone(keeping)

    def _gone(self, keeping: Keeping) -> None:
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
