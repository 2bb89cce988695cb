"""Background threads that yield the cores to the work users wait for.

On Linux a thread has a niceness of its own (`setpriority` on its native id), so a background thread of meshlake
(the key index's merge, a stream's manifest merges ahead of its commits) can run below the writes and the stream's
batches: it takes the CPU they leave, and does not slow their commits. Elsewhere, or where the system refuses it,
nothing changes.
"""

from __future__ import annotations

import contextlib
import os
import threading

BACKGROUND_NICENESS = 10
"""How much lower a background thread runs than the process's other threads."""


def lower_this_thread(niceness: int = BACKGROUND_NICENESS) -> None:
    """Lower the calling thread's CPU priority by `niceness` (Linux; elsewhere, or refused, nothing)."""
    if not hasattr(os, "setpriority"):
        return
    with contextlib.suppress(OSError):
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + niceness)
