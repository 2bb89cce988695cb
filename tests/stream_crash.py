"""Crash runs of the consume loop: SIGKILL stream consumers again and again, then check exactly-once by ids.

    run = stream_crash_run(settings, address, source_spec, workdir, kills=6, rng=random.Random(1))
    run.ok, run.duplicates, run.missing, run.kills_by_phase

Before each kill the parent publishes a chunk of orders (ids counting up). Half the kills (by default) hit an
exact point through meshlake's crash seam (`MESHLAKE_CRASH_AT`): the loop's own phases (`stream-fetched`,
`stream-committed`, `stream-acknowledged`) and the write's (`files`, `checked`, `commit`, `committed`); the
others land at a random instant. Then one consumer runs to the end, uninterrupted, and the port must hold
every published id exactly once. Nothing is mocked: real processes, SIGKILL, a real lake and source.

`source_spec` is `{"kind": "file", "path": …}` (tests/streams/file_source.py) or `{"kind": "nats", "url": …,
"stream": …, "subject": …}` (a JetStream stream).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import meshlake as ml
from meshlake.write import faults
from tests.streams.conftest import order

PHASES = ("stream-fetched", "files", "checked", "commit", "committed", "stream-committed", "stream-acknowledged")
_PRELOAD = ["meshlake", "duckdb", "pyarrow.parquet", "pyiceberg.catalog.sql", "tests.stream_crash"]


@dataclass
class StreamCrashRun:
    kills: list[dict[str, Any]] = field(default_factory=list)
    published: int = 0
    rows: int = 0
    duplicates: list[int] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)
    unknown: list[int] = field(default_factory=list)
    snapshots: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not (self.duplicates or self.missing or self.unknown) and self.rows == self.published

    @property
    def killed(self) -> int:
        return sum(1 for kill in self.kills if kill["how"] in ("exact", "random"))

    @property
    def kills_by_phase(self) -> dict[str, int]:
        return dict(Counter(str(kill["last_phase"]) for kill in self.kills if kill["how"] in ("exact", "random")))

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "killed": self.killed,
            "published": self.published,
            "rows": self.rows,
            "duplicates": self.duplicates[:20],
            "missing": self.missing[:20],
            "unknown": self.unknown[:20],
            "snapshots": self.snapshots,
            "kills_by_phase": self.kills_by_phase,
            "kills_by_how": dict(Counter(kill["how"] for kill in self.kills)),
            "seconds": round(self.seconds, 1),
        }


def open_spec(spec: dict[str, Any]) -> Any:
    if spec["kind"] == "file":
        from tests.streams.file_source import FileSource

        return FileSource("orders", Path(spec["path"]))
    from meshlake.streams.nats import JetStreamSource

    return JetStreamSource("orders", url=spec["url"], stream=spec["stream"])


class _Publisher:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        if spec["kind"] == "file":
            from tests.streams.file_source import FileSource

            self.file = FileSource("orders", Path(spec["path"]))
        else:
            from meshlake.streams.nats import JetStreamSink

            self.sink = JetStreamSink(url=spec["url"])

    def publish(self, order_id: int) -> None:
        if self.spec["kind"] == "file":
            self.file.publish(order(order_id))
        else:  # the order id as de-duplication id: a re-sent message is stored once
            self.sink.publish(self.spec["subject"], order(order_id), message_id=f"order-{order_id}")

    def close(self) -> None:
        if self.spec["kind"] != "file":
            self.sink.close()


def _feed(publisher: _Publisher, ids: range) -> None:
    for order_id in ids:
        publisher.publish(order_id)
        time.sleep(0.004)


def _consumer(
    settings: dict[str, Any], address: str, spec: dict[str, Any], crash_at: str | None, trace: str, ready: str
) -> None:
    if crash_at:
        os.environ[faults.CRASH_AT] = crash_at
    os.environ[faults.CRASH_TRACE] = trace
    port = ml.connect(**settings).port(address)
    source = open_spec(spec)
    Path(ready).touch()
    port.stream(source, max_rows=25, max_wait=0.05, idle=2.0)


def stream_crash_run(
    settings: dict[str, Any],
    address: str,
    spec: dict[str, Any],
    workdir: Path,
    *,
    kills: int,
    rng: random.Random,
    chunk: int = 60,
    exact_share: float = 0.5,
    random_delay: tuple[float, float] = (0.05, 1.5),
) -> StreamCrashRun:
    """Kill `kills` consumers of `spec` into `address` (deployed already), then drain and check."""
    started = time.perf_counter()
    workdir.mkdir(parents=True, exist_ok=True)
    context: Any = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    run = StreamCrashRun()
    publisher = _Publisher(spec)
    try:
        for index in range(kills):
            crash_at = f"{rng.choice(PHASES)}:{rng.randint(1, 3)}" if rng.random() < exact_share else None
            first, count = run.published, rng.randint(chunk // 2, chunk)
            run.published += count
            feed = threading.Thread(target=_feed, args=(publisher, range(first, first + count)))
            kill = _kill_one(context, settings, address, spec, workdir, index, crash_at, rng, random_delay, feed)
            run.kills.append(kill)
    finally:
        publisher.close()
    port = ml.connect(**settings).port(address)
    source = open_spec(spec)
    try:
        port.stream(source, max_rows=500, max_wait=0.05, idle=2.0)
    finally:
        source.close()
    ids = port.latest().to_arrow().column("order_id").to_pylist() if port.latest().snapshot_id else []
    counts = Counter(ids)
    run.rows = len(ids)
    run.duplicates = sorted(i for i, n in counts.items() if n > 1)
    run.missing = sorted(set(range(run.published)) - set(counts))
    run.unknown = sorted(set(counts) - set(range(run.published)))
    run.snapshots = len(port.history())
    run.seconds = time.perf_counter() - started
    return run


def _kill_one(
    context: Any,
    settings: dict[str, Any],
    address: str,
    spec: dict[str, Any],
    workdir: Path,
    index: int,
    crash_at: str | None,
    rng: random.Random,
    random_delay: tuple[float, float],
    feed: threading.Thread,
) -> dict[str, Any]:
    trace, ready = workdir / f"k{index}.trace", workdir / f"k{index}.ready"
    process = context.Process(target=_consumer, args=(settings, address, spec, crash_at, str(trace), str(ready)))
    process.start()
    deadline = time.monotonic() + 120
    while not ready.exists() and process.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    feed.start()  # messages arrive while the consumer runs, so kills land in the middle of its batches
    if crash_at is not None:
        process.join(timeout=120)
    else:
        time.sleep(rng.uniform(*random_delay))
    if process.is_alive():
        os.kill(process.pid, signal.SIGKILL)
        how = "random" if crash_at is None else "timeout"
    else:
        how = "exact" if process.exitcode == -signal.SIGKILL else f"ended (exit status {process.exitcode})"
    process.join(timeout=30)
    feed.join()
    lines = trace.read_text().split("\n") if trace.exists() else []
    last = lines[-2].split()[1] if len(lines) >= 2 else None
    return {"index": index, "crash_at": crash_at, "how": how, "last_phase": last, "exitcode": process.exitcode}


def summary(run: StreamCrashRun) -> str:
    return json.dumps(run.to_dict(), indent=2)
