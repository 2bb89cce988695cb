"""Background threads run below the threads users wait for (`meshlake.write.priority`)."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from meshlake.write.priority import BACKGROUND_NICENESS, lower_this_thread

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="a niceness per thread is Linux's (elsewhere nothing changes)"
)


def _niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_a_thread_lowers_only_itself() -> None:
    base = _niceness()
    seen: list[int] = []

    def background() -> None:
        lower_this_thread()
        seen.append(_niceness())

    thread = threading.Thread(target=background)
    thread.start()
    thread.join()
    assert seen == [min(base + BACKGROUND_NICENESS, 19)]
    assert _niceness() == base, "the calling process's other threads keep their priority"
