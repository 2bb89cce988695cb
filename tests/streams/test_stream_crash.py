"""Exactly-once under SIGKILL: consumers killed at exact and random points; the port holds every id once.

A few kills here (a file-backed source, no broker); tests/integration/test_stream_brokers.py kills JetStream
consumers, and benchmarks/bench_stream_crash.py does 50 and more.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import meshlake as ml
from meshlake.write import faults
from tests.stream_crash import stream_crash_run, summary
from tests.streams.conftest import ADDRESS, deploy_orders


def test_killed_stream_consumers_commit_every_message_exactly_once(lake: ml.Lake, tmp_path: Path) -> None:
    deploy_orders(lake, tmp_path / "orders", on_failure="skip")
    settings = {"home": str(tmp_path / ".meshlake")}
    spec = {"kind": "file", "path": str(tmp_path / "orders.stream")}
    run = stream_crash_run(settings, ADDRESS, spec, tmp_path / "crash", kills=6, rng=random.Random(15))
    assert run.ok, summary(run)
    assert run.published > 0 and run.rows == run.published
    assert run.killed >= 3, summary(run)


def _consume_in_child(home: Path, stream: Path, crash_at: str) -> int:
    """Consume `stream` into the orders port in a new process that SIGKILLs itself at `crash_at`."""
    code = (
        "import sys, meshlake as ml\n"
        "from tests.streams.file_source import FileSource\n"
        f"port = ml.connect(home={str(home)!r}).port({ADDRESS!r})\n"
        f"port.stream(FileSource('orders', {str(stream)!r}), max_rows=100, max_wait=0.05, idle=1.0)\n"
    )
    env = {**os.environ, faults.CRASH_AT: crash_at}
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=Path(__file__).parents[2], check=False).returncode


def test_a_consumer_killed_after_recording_rejects_records_each_once(lake: ml.Lake, tmp_path: Path) -> None:
    """Rejects are appended before their batch commits: the run after a crash between the two finds them past
    the port's offsets and does not append them again."""
    from tests.streams.conftest import order, port_ids
    from tests.streams.file_source import FileSource

    port = deploy_orders(lake, tmp_path / "orders", on_failure="skip")
    stream = FileSource("orders", tmp_path / "orders.stream")
    for i in range(3):
        stream.publish(order(i))
    bad = [stream.publish(b"not json"), stream.publish(b'{"order_id": 7}')]
    for i in range(3, 6):
        stream.publish(order(i))

    status = _consume_in_child(tmp_path / ".meshlake", stream.path, "stream-rejected")

    assert status == -signal.SIGKILL, "the child died between recording its rejects and committing the batch"
    rejects = "SELECT position FROM meshlake.system.stream_rejects WHERE source_id = 'orders' ORDER BY 1"
    assert [int(p) for (p,) in lake.sql(rejects).fetchall()] == bad
    assert port.latest().snapshot_id is None
    report = port.stream(stream, max_rows=4, max_wait=0.05, idle=0.5)  # other batch boundaries than the child's
    assert report.rejected == len(bad)
    assert [int(p) for (p,) in lake.sql(rejects).fetchall()] == bad, "each malformed message recorded once"
    assert port_ids(port) == list(range(6))
