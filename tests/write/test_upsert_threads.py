"""An upsert encodes its new rows on the process's kept threads (`meshlake.write.upsert_threads`): reused from
upsert to upsert, several upserts at once each get one, and a forked child has threads of its own."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from meshlake.write import upsert_threads
from tests.workers import batch
from tests.write.test_merge_on_read import changes, rows_of


@pytest.fixture
def filled(port: Any) -> Any:
    port.write(batch("a", 0, 10))
    return port


def encoding_threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("meshlake-upsert")}


def test_upserts_reuse_the_kept_threads(filled: Any) -> None:
    filled.write(changes(["a-0-1", "new-1"], 2.0), mode="upsert", write_mode="merge-on-read")
    started = encoding_threads()
    assert started, "the new rows were encoded on a kept thread"
    for n in range(3):
        filled.write(changes([f"a-0-{n}", f"new-{n}"], 3.0), mode="upsert", write_mode="merge-on-read")
    assert encoding_threads() == started, "no thread started per upsert"
    found = rows_of(filled)
    assert found["a-0-0"] == found["new-2"] == 3.0 and len(found) == 13


def test_upserts_of_several_threads_at_once_each_encode(filled: Any, port: Any) -> None:
    barrier = threading.Barrier(3)

    def upsert(n: int) -> None:
        barrier.wait(30)
        filled.write(changes([f"new-{n}"], float(n)), mode="upsert", write_mode="merge-on-read")

    with ThreadPoolExecutor(3) as callers:
        for done in [callers.submit(upsert, n) for n in range(3)]:
            done.result(120)
    found = rows_of(filled)
    assert [found[f"new-{n}"] for n in range(3)] == [0.0, 1.0, 2.0]


def _encode_in_child() -> None:
    import sys

    sys.exit(0 if upsert_threads.pool().submit(lambda: 42).result(60) == 42 else 1)


def test_a_forked_child_encodes_on_threads_of_its_own(filled: Any) -> None:
    """Only the pool is tried in the child: the DuckDB database a process shares does not survive a fork."""
    filled.write(changes(["a-0-1"], 2.0), mode="upsert", write_mode="merge-on-read")
    assert upsert_threads._threads.pool is not None, "the parent's pool is running when it forks"
    child = multiprocessing.get_context("fork").Process(target=_encode_in_child)
    child.start()
    child.join(30)
    if child.is_alive():
        child.kill()
        pytest.fail("the child waited for its parent's threads")
    assert child.exitcode == 0
    assert upsert_threads.pool().submit(lambda: 7).result(60) == 7, "the parent's pool still serves it"
