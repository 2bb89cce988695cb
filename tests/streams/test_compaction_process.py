"""Compaction beside a stream in a worker process: it compacts, reports its failures, and never outlives the stream."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import meshlake as ml
from meshlake.errors import ConfigError
from meshlake.streams.compactor import ENV
from meshlake.streams.compactor_process import CompactorProcess
from meshlake.streams.memory import MemorySource
from tests.streams.conftest import ADDRESS, deploy_orders, order, port_ids
from tests.streams.feeding import compaction_landed, feed_until
from tests.streams.file_source import FileSource

WORKER = "meshlake compact"
WAIT = 90.0
"""Seconds a test waits for the worker (it imports meshlake first: slow on a loaded machine)."""


def _alive(pid: int) -> bool:
    """Whether process `pid` runs (a zombie, exited and not yet reaped by whoever inherited it, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def test_the_stream_compacts_in_a_worker_process_that_is_gone_when_it_ends(
    orders: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV, raising=False)  # process is the default
    port = orders()
    source = MemorySource("orders")
    workers: set[int] = set()

    def seen(_: Any) -> None:
        workers.update(p.pid for p in multiprocessing.active_children() if p.name.startswith(WORKER) and p.pid)

    fed: list[tuple[int, bool]] = []
    feeder = threading.Thread(target=lambda: fed.append(feed_until(source.publish, lambda: compaction_landed(port))))
    feeder.start()
    report = port.stream(source, max_rows=5, max_wait=0.02, idle=1.0, compact_every=0.3, on_batch=seen)
    feeder.join()
    ((sent, compacted),) = fed
    assert compacted, "no compaction committed while streaming"
    assert report.compactions, report.to_dict()
    assert not report.compaction_errors
    assert report.compaction_spans
    assert port_ids(port) == list(range(sent))
    assert len(port.table().inspect.files()) < len(report.batches)
    (pid,) = workers
    assert pid != os.getpid()
    assert not _alive(pid), "the worker outlived the stream"


def test_a_compactor_that_cannot_open_the_catalog_says_so_and_the_stream_goes_on(orders: Callable[..., Any]) -> None:
    port = orders()
    source = MemorySource("orders")
    for i in range(20):
        source.publish(order(i))
    unreachable = "postgresql+psycopg2://meshlake:s3cret@127.0.0.1:9/lake"
    settings = dataclasses.replace(port.lake.settings, catalog_uri=unreachable)
    with CompactorProcess(port, 0.2, settings=settings) as worker:
        report = port.stream(source, max_rows=5, max_wait=0.02, idle=0.5)
    (error,) = worker.done.errors
    assert error.startswith(f"the compactor could not open the catalog or the port {ADDRESS}: CatalogUnavailableError")
    assert "s3cret" not in error and "meshlake:***@127.0.0.1:9" in error
    assert not worker.done.runs
    assert len(report.batches) == 4
    assert port_ids(port) == list(range(20))
    assert worker.pid is not None and not _alive(worker.pid)


def test_a_compaction_that_fails_is_reported_and_the_stream_goes_on(orders: Callable[..., Any]) -> None:
    """A data file gone from storage: every compaction of its partition fails reading it; the stream's appends
    (which read no old file) go on, and nothing is compacted."""
    port = orders()
    source = MemorySource("orders")
    for i in range(40):
        source.publish(order(i))
    port.stream(source, max_rows=5, max_wait=0.02, idle=0.3)
    table = port.table()
    table.io.delete(table.inspect.files().column("file_path")[0].as_py())
    before = port.latest().snapshot_id
    worker = CompactorProcess(port, 0.2, min_files=2)
    with worker:
        streaming: list[Any] = []
        runner = threading.Thread(
            target=lambda: streaming.append(port.stream(source, max_rows=5, max_wait=0.02, idle=1.0))
        )
        runner.start()
        sent, failed = feed_until(source.publish, lambda: bool(worker.done.errors), first=40)
        runner.join()
    assert failed, "no compaction failed"
    assert all(e.startswith(("FileNotFoundError", "OSError", "IOException")) for e in worker.done.errors), worker.done
    assert not worker.done.runs
    (report,) = streaming
    assert report.rows == sent - 40
    assert port.latest().snapshot_id != before
    assert "compact" not in [s.mode for s in port.history()]
    assert worker.pid is not None and not _alive(worker.pid)


@pytest.mark.parametrize("every", [0.3, 120.0], ids=["after-a-compaction", "while-the-worker-waits"])
def test_a_killed_stream_leaves_no_worker_and_its_rows_land_exactly_once(
    lake: ml.Lake, tmp_path: Path, every: float
) -> None:
    """Killed once a compaction committed (the worker is likely amid the next), or while the worker waits for
    its first interval (it would send nothing, so only its watch on the parent ends it)."""
    port = deploy_orders(lake, tmp_path / "orders")
    printed = tmp_path / "worker.pid"
    stream = FileSource("orders", tmp_path / "orders.stream")
    code = (
        "import multiprocessing, os, meshlake as ml\n"
        "from tests.streams.file_source import FileSource\n"
        f"port = ml.connect(home={str(tmp_path / '.meshlake')!r}).port({ADDRESS!r})\n"
        "def seen(_):\n"
        "    for p in multiprocessing.active_children():\n"
        f"        if p.name.startswith({WORKER!r}):\n"
        f"            open({str(printed) + '.part'!r}, 'w').write(str(p.pid))\n"  # renamed whole: the test may
        f"            os.replace({str(printed) + '.part'!r}, {str(printed)!r})\n"  # read it as soon as it exists
        f"port.stream(FileSource('orders', {str(stream.path)!r}), max_rows=5, max_wait=0.02, compact_every={every},\n"
        "            on_batch=seen)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], cwd=Path(__file__).parents[2])
    try:
        ready = (lambda: compaction_landed(port)) if every < 1 else printed.exists
        sent, done = feed_until(stream.publish, ready)
        assert done, "no compaction committed while streaming" if every < 1 else "no worker started"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
    pid = int(printed.read_text())
    ends = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < ends:
        time.sleep(0.1)
    assert not _alive(pid), "the worker outlived the killed stream"
    port.stream(stream, max_rows=50, max_wait=0.02, idle=0.5)
    assert port_ids(port) == list(range(sent))


def test_an_unknown_compaction_mode_is_refused_before_anything_is_consumed(
    orders: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    port = orders()
    source = MemorySource("orders")
    source.publish(order(0))
    monkeypatch.setenv(ENV, "proces")
    with pytest.raises(ConfigError, match=r"MESHLAKE_STREAM_COMPACTION='proces'.*process, thread"):
        port.stream(source, idle=0.2, compact_every=1)
    assert port.latest().snapshot_id is None


def test_a_script_without_a_main_guard_is_not_run_again_by_the_worker(lake: ml.Lake, tmp_path: Path) -> None:
    """`spawn` imports the parent's `__main__` in the child: a stream started at a script's top level would start
    again in the worker. The worker is started without it, so the script's top level runs once."""
    deploy_orders(lake, tmp_path / "orders")
    stream = FileSource("orders", tmp_path / "orders.stream")
    for i in range(30):
        stream.publish(order(i))
    runs = tmp_path / "runs.txt"
    script = tmp_path / "unguarded.py"
    script.write_text(
        "import os, meshlake as ml\n"
        "from tests.streams.file_source import FileSource\n"
        f"with open({str(runs)!r}, 'a') as runs:\n"
        "    runs.write(f'{os.getpid()}\\n')\n"
        f"port = ml.connect(home={str(tmp_path / '.meshlake')!r}).port({ADDRESS!r})\n"
        f"report = port.stream(FileSource('orders', {str(stream.path)!r}), max_rows=5, max_wait=0.02, idle=3,\n"
        "                     compact_every=0.2)\n"
        "assert not report.compaction_errors, report.compaction_errors\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    done = subprocess.run([sys.executable, str(script)], env=env, cwd=tmp_path, timeout=WAIT, check=False)
    assert done.returncode == 0
    assert len(runs.read_text().split()) == 1, "the script's top level ran again"
    assert port_ids(ml.connect(home=str(tmp_path / ".meshlake")).port(ADDRESS)) == list(range(30))


def _committers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the threads that commit compactions from now on (a spy around the real `commit_rewrite`)."""
    import meshlake.maintenance.compact as compact_module

    commit = compact_module.commit_rewrite
    threads: list[str] = []

    def spied(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        return commit(*args, **kwargs)

    monkeypatch.setattr(compact_module, "commit_rewrite", spied)
    return threads


def test_the_worker_s_compaction_commits_between_two_batches_so_no_batch_waits_for_it_or_re_bases(
    orders: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV, raising=False)
    committers = _committers(monkeypatch)
    port = orders()
    source = MemorySource("orders")
    fed: list[tuple[int, bool]] = []
    feeder = threading.Thread(target=lambda: fed.append(feed_until(source.publish, lambda: compaction_landed(port))))
    feeder.start()
    report = port.stream(source, max_rows=5, max_wait=0.02, idle=1.0, compact_every=0.3)
    feeder.join()
    ((sent, compacted),) = fed
    assert compacted and report.compactions, report.to_dict()
    assert not report.compaction_errors
    assert set(committers) == {threading.current_thread().name}, committers
    assert not [b.rebases for b in report.batches if b.rebases], "a batch re-based onto a compaction"
    assert not [b.phases for b in report.batches if "commit lock wait" in b.phases]
    assert port_ids(port) == list(range(sent))


def test_a_rewrite_no_batch_takes_is_committed_by_the_compactor_s_own_thread(
    orders: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beside a stream that never calls `between_batches` (or one idle for longer than `HANDOFF_WAIT`), the rewrite
    is committed by the thread reading the worker's pipe after the wait, as before the hand-over."""
    from meshlake.streams import compactor_process

    monkeypatch.setattr(compactor_process, "HANDOFF_WAIT", 0.2)
    committers = _committers(monkeypatch)
    port = orders()
    source = MemorySource("orders")
    for i in range(40):
        source.publish(order(i))
    port.stream(source, max_rows=5, max_wait=0.02, idle=0.3)
    with CompactorProcess(port, 0.2, min_files=2) as worker:
        ends = time.monotonic() + WAIT
        while not worker.done.runs and not worker.done.errors and time.monotonic() < ends:
            time.sleep(0.1)
    assert worker.done.runs and not worker.done.errors, worker.done
    assert committers and threading.current_thread().name not in committers, committers
    assert compaction_landed(port)
    assert port_ids(port) == list(range(40))


def test_a_worker_killed_mid_stream_is_restarted_and_the_next_one_compacts(
    orders: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV, raising=False)
    port = orders()
    source = MemorySource("orders")
    workers: list[int] = []

    def seen(_: Any) -> None:
        for child in multiprocessing.active_children():
            if child.name.startswith(WORKER) and child.pid and child.pid not in workers:
                workers.append(child.pid)

    def compactions() -> int:
        return sum(s.mode == "compact" for s in port.history())

    fed: list[tuple[int, bool]] = []

    def feed() -> None:
        sent, done = feed_until(source.publish, lambda: compactions() >= 1)
        if done:
            os.kill(workers[0], signal.SIGKILL)
            sent, done = feed_until(source.publish, lambda: compactions() >= 2 and len(workers) >= 2, first=sent)
        fed.append((sent, done))

    feeder = threading.Thread(target=feed)
    feeder.start()
    report = port.stream(source, max_rows=5, max_wait=0.02, idle=1.0, compact_every=0.3, on_batch=seen)
    feeder.join()
    ((sent, done),) = fed
    assert done, ("no compaction after the kill", report.compaction_errors, workers)
    died = [e for e in report.compaction_errors if "died" in e]
    assert died == [f"the compactor's worker died (exit status {-signal.SIGKILL}); restart 1 of 3"], report
    assert len(report.compactions) >= 2
    assert len(workers) == 2 and not any(_alive(pid) for pid in workers)
    assert port_ids(port) == list(range(sent))


def test_a_worker_that_keeps_dying_is_restarted_a_bounded_number_of_times(
    orders: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from meshlake.streams import compactor_process

    monkeypatch.setattr(compactor_process, "MAX_RESTARTS", 1)
    monkeypatch.setattr(compactor_process, "RESTART_BACKOFF", 0.05)
    port = orders()
    source = MemorySource("orders")
    for i in range(20):
        source.publish(order(i))
    killed: list[int] = []
    with CompactorProcess(port, 60.0) as worker:
        ends = time.monotonic() + WAIT
        while len(killed) < 2 and time.monotonic() < ends:
            if worker.pid is not None and worker.pid not in killed:
                time.sleep(0.2)
                os.kill(worker.pid, signal.SIGKILL)
                killed.append(worker.pid)
            time.sleep(0.05)
        while len(worker.done.errors) < 2 and time.monotonic() < ends:
            time.sleep(0.05)
        report = port.stream(source, max_rows=5, max_wait=0.02, idle=0.3)
    status = -signal.SIGKILL
    assert worker.done.errors == [
        f"the compactor's worker died (exit status {status}); restart 1 of 1",
        f"the compactor's worker died (exit status {status}); not restarted after 1",
    ]
    assert worker.restarts == 1 and len(killed) == 2
    assert report.rows == 20 and port_ids(port) == list(range(20))
