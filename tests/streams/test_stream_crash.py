"""Exactly-once under SIGKILL: consumers killed at exact and random points; the port holds every id once.

A few kills here (a file-backed source, no broker); tests/integration/test_stream_brokers.py kills JetStream
consumers, and benchmarks/bench_stream_crash.py does 50 and more.
"""

from __future__ import annotations

import random
from pathlib import Path

import meshlake as ml
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
