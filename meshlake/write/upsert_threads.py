"""The process's threads that encode an upsert's new rows while its keys are looked up (`upsert.prepare_upsert`).

Kept for the life of the process rather than started per upsert: starting a thread and waiting for it to run
costs ~0.1 ms on an idle machine and was measured at tens of milliseconds on a loaded one (the writer waits until
the new thread is scheduled), on the critical path of every upsert. Idle threads are reused; more start only when
several upserts of the process encode at once (up to `WORKERS`). A forked child starts afresh.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

WORKERS = 8


class _Threads:
    """The pool, started on first use; forgotten in a forked child (its parent's threads are not there)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.lock = threading.Lock()
        self.pool: ThreadPoolExecutor | None = None

    def get(self) -> ThreadPoolExecutor:
        with self.lock:
            if self.pool is None:
                self.pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="meshlake-upsert")
            return self.pool


_threads = _Threads()


def pool() -> ThreadPoolExecutor:
    """The process's pool of upsert encoding threads."""
    return _threads.get()


os.register_at_fork(after_in_child=_threads.reset)
