"""Sustained micro-batch ingestion from NATS JetStream into a gated port.

    python -m benchmarks.bench_stream [--seconds 600] [--batch 1000] [--interval 0.1] [--window 10]

Starts its own NATS server (Debian `nats-server`, `.ci/nats.sh`) on a free loopback port. A publisher process
sends `--batch` orders every `--interval` seconds (1,000 every 100 ms: 10,000 rows/s offered) for `--seconds`;
the port (one expectation in its gate) consumes them with `port.stream(max_rows=--batch, max_wait=--interval)`.
Reported: rows/s consumed, the lag at the end, commit latency (stage + gate + commit of one batch) p50/p99 per
`--window` seconds (flat or not) with the commit's CPU time p50 and the load average, data files, and query
latency (`SELECT count(*), avg(weight_kg)` through `lake.sql`, median of 5) before and after
`port.maintain(apply=True)` compacts the small files — and, with `--compact-every S`, compactions run while the
stream does. Writes benchmarks/results/stream.json and .md.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import time
import uuid
from typing import Any

import meshlake as ml
from benchmarks.common import fresh_dir, machine, save
from tests.stream_services import start_nats
from tests.streams.conftest import ADDRESS, deploy_orders, order


def _publisher(url: str, subject: str, batch: int, interval: float, seconds: float, ready: Any) -> None:
    import asyncio

    import nats

    async def run() -> None:
        nc = await nats.connect(url)
        ready.set()
        sent, started = 0, time.monotonic()
        while time.monotonic() - started < seconds:
            tick = time.monotonic()
            for _ in range(batch):
                await nc.publish(subject, order(sent))
                sent += 1
            await nc.flush()
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - tick)))
        await nc.close()

    asyncio.run(run())


def _query_ms(lake: ml.Lake, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        lake.sql(f"SELECT count(*), avg(weight_kg) FROM {ADDRESS}").fetchall()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


Batch = tuple[float, int, float, float, float, dict[str, float], int]
"""(seconds since start, rows, commit ms, commit CPU ms, load average, phases in ms, rebases)."""


def _touched(batch: Batch) -> bool:
    """Whether a compaction committed during the batch's commit (it re-based) or made it wait for the lock."""
    return batch[6] > 0 or batch[5].get("commit lock wait", 0.0) > 0


def _windows(batches: list[Batch], elapsed: float, window: float) -> list[dict[str, Any]]:
    windows = []
    for start in range(0, int(elapsed) + 1, int(window)):
        inside = [b for b in batches if start <= b[0] < start + window]
        if inside:
            walls = [b[2] for b in inside]
            windows.append(
                {
                    "from_s": start,
                    "batches": len(inside),
                    "p50_ms": round(statistics.median(walls), 1),
                    "p99_ms": round(_percentile(walls, 0.99), 1),
                    "p99_untouched_ms": round(_percentile([b[2] for b in inside if not _touched(b)], 0.99), 1),
                    "cpu_p50_ms": round(statistics.median(b[3] for b in inside), 1),
                    "load": round(statistics.median(b[4] for b in inside), 1),
                }
            )
    return windows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=0.1)
    parser.add_argument("--window", type=float, default=10)
    parser.add_argument("--compact-every", type=float, default=None)
    args = parser.parse_args()
    work = fresh_dir("stream")
    lake = ml.connect(home=str(work / ".meshlake"))
    port = deploy_orders(lake, work / "orders")
    server = start_nats(work / "nats")
    from meshlake.streams.nats import JetStreamSink, JetStreamSource

    name = f"S{uuid.uuid4().hex[:8]}"
    subject = f"{name.lower()}.orders"
    admin = JetStreamSink(url=server.url)
    admin._io.run(admin._io.js.add_stream(name=name, subjects=[subject]))
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    publisher = context.Process(
        target=_publisher, args=(server.url, subject, args.batch, args.interval, args.seconds, ready)
    )
    publisher.start()
    ready.wait(30)
    source = JetStreamSource("orders", url=server.url, stream=name)
    batches: list[Batch] = []
    started = time.monotonic()

    def on_batch(batch: Any) -> None:
        batches.append(
            (
                time.monotonic() - started,
                batch.rows,
                batch.commit_seconds * 1000,
                batch.commit_cpu_seconds * 1000,
                os.getloadavg()[0],
                {name: seconds * 1000 for name, seconds in batch.phases.items()},
                batch.rebases,
            )
        )

    try:
        report = port.stream(
            source,
            max_rows=args.batch,
            max_wait=args.interval,
            idle=5.0,
            on_batch=on_batch,
            compact_every=args.compact_every,
        )
    finally:
        publisher.join(timeout=60)
    elapsed = batches[-1][0] if batches else 0.0
    source.close()
    admin.close()  # idle for the whole run (its loop never ran): ask on a fresh connection
    admin = JetStreamSink(url=server.url)
    published = int(admin._run(admin._io.js.stream_info(name)).state.messages)
    admin.close()
    rows = sum(b[1] for b in batches)
    windows = _windows(batches, elapsed, args.window)
    files_before = len(port.table().inspect.files())
    query_before = _query_ms(lake)
    compact_started = time.perf_counter()
    port.maintain(apply=True, expire=False, orphans=False)
    compact_seconds = time.perf_counter() - compact_started
    files_after = len(port.table().inspect.files())
    query_after = _query_ms(lake)
    server.stop()
    commits = [b[2] for b in batches]
    result = {
        "machine": machine(),
        "seconds_asked": args.seconds,
        "batch": args.batch,
        "interval_s": args.interval,
        "offered_rows_per_s": args.batch / args.interval,
        "published": published,
        "rows_consumed": rows,
        "rows_per_s": round(rows / elapsed, 1) if elapsed else None,
        "batches": len(batches),
        "commit_p50_ms": round(statistics.median(commits), 1) if commits else None,
        "commit_p99_ms": round(_percentile(commits, 0.99), 1),
        "windows": windows,
        "slowest": _slowest(batches),
        "compactions_while_streaming": len(report.compactions),
        "files_before_compaction": files_before,
        "files_after_compaction": files_after,
        "compaction_seconds": round(compact_seconds, 2),
        "query_ms_before_compaction": round(query_before, 1),
        "query_ms_after_compaction": round(query_after, 1),
        "rows_in_port": port.latest().rows,
    }
    save("stream", result, _markdown(args, result, windows, elapsed, len(report.compactions)))


def _slowest(batches: list[Batch], share: float = 0.01) -> dict[str, Any]:
    """Where the slowest `share` of the commits spent their time, against all commits (median ms by phase)."""
    ordered = sorted(batches, key=lambda b: -b[2])
    slow = ordered[: max(1, int(len(ordered) * share))] if ordered else []
    names = sorted({name for b in batches for name in b[5]})

    def medians(group: list[Batch]) -> dict[str, float]:
        found = {"total": statistics.median(b[2] for b in group)} if group else {}
        found["staging (total − phases)"] = (
            statistics.median(b[2] - sum(v for k, v in b[5].items() if k != "commit lock wait") for b in group)
            if group
            else 0.0
        )
        for name in names:
            found[name] = statistics.median(b[5].get(name, 0.0) for b in group) if group else 0.0
        return {k: round(v, 1) for k, v in found.items()}

    return {
        "count": len(slow),
        "touched_by_compaction": sum(_touched(b) for b in slow),
        "slowest_ms": medians(slow),
        "all_ms": medians(batches),
    }


def _markdown(
    args: Any, result: dict[str, Any], windows: list[dict[str, Any]], elapsed: float, compactions: int
) -> str:
    r = result
    files = f"{r['files_before_compaction']:,} / {r['files_after_compaction']:,} ({r['compaction_seconds']} s)"
    queries = f"{r['query_ms_before_compaction']} ms / {r['query_ms_after_compaction']} ms"
    table = "\n".join(
        f"| {w['from_s']}–{w['from_s'] + int(args.window)} s | {w['batches']} | {w['p50_ms']} | {w['p99_ms']} "
        f"| {w['p99_untouched_ms']} | {w['cpu_p50_ms']} | {w['load']} |"
        for w in windows
    )
    slow = r["slowest"]
    phases = "\n".join(
        f"| {name} | {slow['slowest_ms'].get(name, 0.0)} | {slow['all_ms'].get(name, 0.0)} |" for name in slow["all_ms"]
    )
    command = f"python -m benchmarks.bench_stream --seconds {args.seconds:g} --batch {args.batch}"
    command += f" --interval {args.interval:g}"
    if args.compact_every:
        command += f" --compact-every {args.compact_every:g}"
    markdown = f"""# Sustained JetStream ingestion into a gated port

`{command}` (publishing lasted {args.seconds:g} s; consuming, {elapsed:.0f} s). Machine: 2 cores shared with
other work (load average at the end: {os.getloadavg()[0]:.1f}). One expectation in the gate; every batch is one
snapshot. Commit latency follows the machine's load more than the port's age: read the windows with it (CPU p50
is the process's CPU time during each commit, all threads, which the neighbours move less than wall time; the
load average is sampled at each batch).

| | |
|---|---|
| offered | {args.batch / args.interval:,.0f} rows/s ({args.batch:,} every {args.interval * 1000:.0f} ms) |
| published | {result["published"]:,} |
| consumed | {result["rows_consumed"]:,} rows in {result["batches"]} batches ({result["rows_per_s"]:,} rows/s) |
| rows in the port | {result["rows_in_port"]:,} |
| commit latency (stage + gate + commit) | p50 {result["commit_p50_ms"]} ms, p99 {result["commit_p99_ms"]} ms |
| compactions while streaming | {compactions} |
| data files before / after `maintain` | {files} |
| query (`count(*)`, `avg`) before / after | {queries} |

Commit latency over time:

| window | batches | p50 ms | p99 ms | p99 ms, commits no compaction touched | CPU p50 ms | load average |
|---|---|---|---|---|---|---|
{table}

The slowest 1 % of the commits ({slow["count"]}; {slow["touched_by_compaction"]} of them re-based onto a compaction
or waited for its commit lock), median ms by phase (`WriteResult.phases`), against all commits:

| phase | slowest 1 % | all |
|---|---|---|
{phases}
"""
    return markdown


if __name__ == "__main__":
    main()
