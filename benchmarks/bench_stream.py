"""Sustained micro-batch ingestion from NATS JetStream into a gated port.

    python -m benchmarks.bench_stream [--seconds 600] [--batch 1000] [--interval 0.1] [--window 10]

Starts its own NATS server (Debian `nats-server`, `.ci/nats.sh`) on a free loopback port. A publisher process
sends `--batch` orders every `--interval` seconds (1,000 every 100 ms: 10,000 rows/s offered) for `--seconds`;
the port (one expectation in its gate) consumes them with `port.stream(max_rows=--batch, max_wait=--interval)`.
Reported: rows/s consumed, the lag at the end, commit latency (stage + gate + commit of one batch) p50/p99 per
`--window` seconds (flat or not) with the commit's CPU time p50 and the load average, the p99 of the commits
no compaction touched and of those during which none ran at all, how many batches re-based or waited for the
commit lock, the GC pauses inside commits and Python's collections by generation over the run (`--gc default`
runs the stream with Python's default collector instead of `meshlake.streams.collection`'s, to compare), data
files, and query latency (`SELECT count(*), avg(weight_kg)` through `lake.sql`, median of 5) before and after
`port.maintain(apply=True)` compacts the small files — and, with `--compact-every S`, compactions run while the
stream does. Each window also gives the table at its end (manifests its snapshot lists, snapshots, the size of the
snapshot log every commit re-renders) and the p99 of the commits during which neither a compaction nor a background
manifest merge ran; `--premerge off` leaves every manifest merge to the commits (`meshlake.streams.premerge`).
`--compaction thread` runs the compactions in a thread of the stream's process instead of a worker process
(`MESHLAKE_STREAM_COMPACTION`), to compare: the commit p99 while a compaction ran and while none did, and the CPU
seconds of the stream's process and of the compactor's worker, tell them apart. `--size-classes off` compacts every
small file of a partition together, as the compactor did before it kept to size classes
(`MESHLAKE_STREAM_COMPACTION_CLASSES`), to compare: the bytes the compactions rewrote and their commits' time on
the stream's thread (p50, max) are reported. Each window also names its slowest
commit with its phases (staging, gate, commit, the manifest merge inside the commit, the wait for the commit lock),
the collector's pause inside it and what ran beside it, so a lone slow window says what it was.
Writes benchmarks/results/stream.json and .md (`--name` for other names).
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import resource
import statistics
import time
import uuid
from dataclasses import dataclass
from typing import Any

import meshlake as ml
from benchmarks.common import fresh_dir, machine, save
from meshlake.streams.collection import ENV
from meshlake.streams.compactor import CLASSES_ENV
from meshlake.streams.compactor import ENV as COMPACTION_ENV
from meshlake.streams.premerge import ENV as PREMERGE_ENV
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


@dataclass(frozen=True)
class Batch:
    """One committed batch as the benchmark saw it (times in ms; `at` in seconds since the stream started)."""

    at: float
    rows: int
    wall: float
    cpu: float
    load: float
    phases: dict[str, float]
    rebases: int
    gc_pause: float = 0.0
    """Time the garbage collector stopped every thread during the commit (any generation)."""
    gc_full: int = 0
    """Generation-2 (full) collections during the commit."""
    compacting: bool = False
    """Whether a compaction attempt ran (reading, rewriting or committing) at any time during the commit."""
    premerging: bool = False
    """Whether a manifest merge was being written in the background at any time during the commit."""
    snapshot_id: int | None = None


class GcPauses:
    """Every collection of the process's garbage collector, from `gc.callbacks`: (start, end, generation)."""

    def __init__(self) -> None:
        self.pauses: list[tuple[float, float, int]] = []
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.monotonic()
        else:
            self.pauses.append((self._started, time.monotonic(), info["generation"]))

    def __enter__(self) -> GcPauses:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)

    def within(self, start: float, end: float) -> tuple[float, int]:
        """Seconds of collection inside [start, end], and how many of them were full (generation 2)."""
        found = [(b, e, g) for b, e, g in self.pauses if e > start and b < end]
        return sum(min(e, end) - max(b, start) for b, e, _ in found), sum(g == 2 for _, _, g in found)


def _touched(batch: Batch) -> bool:
    """Whether a compaction committed during the batch's commit (it re-based) or made it wait for the lock."""
    return batch.rebases > 0 or batch.phases.get("commit lock wait", 0.0) > 0


def _windows(batches: list[Batch], elapsed: float, window: float) -> list[dict[str, Any]]:
    windows = []
    for start in range(0, int(elapsed) + 1, int(window)):
        inside = [b for b in batches if start <= b.at < start + window]
        if inside:
            walls = [b.wall for b in inside]
            alone = [b.wall for b in inside if not b.compacting]
            windows.append(
                {
                    "from_s": start,
                    "batches": len(inside),
                    "p50_ms": round(statistics.median(walls), 1),
                    "p99_ms": round(_percentile(walls, 0.99), 1),
                    "p99_untouched_ms": round(_percentile([b.wall for b in inside if not _touched(b)], 0.99), 1),
                    "p99_no_compaction_ms": round(_percentile(alone, 0.99), 1) if alone else None,
                    "max_ms": round(max(walls), 1),
                    "cpu_p50_ms": round(statistics.median(b.cpu for b in inside), 1),
                    "gc_ms": round(sum(b.gc_pause for b in inside), 1),
                    "gc_full": sum(b.gc_full for b in inside),
                    "load": round(statistics.median(b.load for b in inside), 1),
                    "slowest_commit": _breakdown(max(inside, key=lambda b: b.wall)),
                }
            )
    return windows


INSIDE_COMMIT = ("commit lock wait", "merge in commit")
"""Phases measured inside the `commit` phase."""


def _breakdown(batch: Batch) -> dict[str, Any]:
    """Where one commit spent its time (ms): staging (what no phase covers: decoding into files, manifests),
    each phase, the GC pause inside it, and what ran beside it."""
    phases = {k: round(v, 1) for k, v in batch.phases.items()}
    staging = batch.wall - sum(v for k, v in batch.phases.items() if k not in INSIDE_COMMIT)
    return {
        "at_s": round(batch.at, 1),
        "total": round(batch.wall, 1),
        "cpu": round(batch.cpu, 1),
        "stage": round(staging, 1),
        **phases,
        "gc_pause": round(batch.gc_pause, 1),
        "gc_full": batch.gc_full,
        "rebases": batch.rebases,
        "compacting": batch.compacting,
        "premerging": batch.premerging,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=0.1)
    parser.add_argument("--window", type=float, default=10)
    parser.add_argument("--compact-every", type=float, default=None)
    parser.add_argument(
        "--gc",
        choices=["frozen", "default"],
        default="frozen",
        help="the stream's garbage collector: frozen (meshlake.streams.collection) or Python's default (to compare)",
    )
    parser.add_argument(
        "--premerge",
        choices=["on", "off"],
        default="on",
        help="merge manifests in the background ahead of the commits (meshlake.streams.premerge) or only in them",
    )
    parser.add_argument(
        "--compaction",
        choices=["process", "thread"],
        default="process",
        help="where --compact-every's compactions run: a worker process (the default) or a thread of the stream's",
    )
    parser.add_argument(
        "--size-classes",
        choices=["on", "off"],
        default="on",
        help="--compact-every's compactions by size classes (the default) or every small file of a partition "
        "together, as before (MESHLAKE_STREAM_COMPACTION_CLASSES), to compare",
    )
    parser.add_argument("--name", default="stream", help="result files benchmarks/results/NAME.json and .md")
    args = parser.parse_args()
    os.environ[ENV] = args.gc
    os.environ[PREMERGE_ENV] = args.premerge
    os.environ[COMPACTION_ENV] = args.compaction
    os.environ[CLASSES_ENV] = args.size_classes
    work = fresh_dir(args.name)
    lake = ml.connect(home=str(work / ".meshlake"))
    port = deploy_orders(lake, work / "orders")
    server = start_nats(work / "nats")
    try:  # the broker is stopped however the run ends
        result, windows, elapsed = _run(args, lake, port, server)
    finally:
        server.stop()
    save(args.name, result, _markdown(args, result, windows, elapsed, result["compactions_while_streaming"]))


def _run(args: Any, lake: ml.Lake, port: Any, server: Any) -> tuple[dict[str, Any], list[dict[str, Any]], float]:
    """Publish and consume for `--seconds`, then measure the port: the result, its windows, the seconds consumed."""
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
    seen: list[tuple[Any, float, float]] = []
    started = time.monotonic()

    def on_batch(batch: Any) -> None:
        seen.append((batch, time.monotonic() - started, os.getloadavg()[0]))

    before = _cpu()
    try:
        with GcPauses() as pauses:
            report = port.stream(
                source,
                max_rows=args.batch,
                max_wait=args.interval,
                idle=5.0,
                on_batch=on_batch,
                compact_every=args.compact_every,
            )
        cpu = {k: round(v - before[k], 2) for k, v in _cpu().items()}  # before the publisher is reaped
    finally:
        publisher.join(timeout=60)
    spans = report.premerges.spans if report.premerges is not None else []
    batches = [_batch(b, at, load, pauses, report.compaction_spans, spans) for b, at, load in seen]
    elapsed = batches[-1].at if batches else 0.0
    source.close()
    admin.close()  # idle for the whole run (its loop never ran): ask on a fresh connection
    admin = JetStreamSink(url=server.url)
    published = int(admin._run(admin._io.js.stream_info(name)).state.messages)
    admin.close()
    rows = sum(b.rows for b in batches)
    windows = _windows(batches, elapsed, args.window)
    _add_table_growth(port, batches, windows, args.window)
    compaction = _compaction(lake, port)
    commits = [b.wall for b in batches]
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
        "commit_p99_compacting_ms": round(_percentile([b.wall for b in batches if b.compacting], 0.99), 1),
        "commit_p99_not_compacting_ms": round(_percentile([b.wall for b in batches if not b.compacting], 0.99), 1),
        "batches_rebased": sum(1 for b in batches if b.rebases),
        "batches_waited_for_lock": sum(1 for b in batches if b.phases.get("commit lock wait", 0.0) > 0),
        "cpu_s": cpu,
        "compaction": args.compaction,
        "compaction_runs": report.compactions,
        "size_classes": args.size_classes,
        "compaction_bytes_rewritten": sum(run.get("bytes_before", 0) for run in report.compactions),
        "compaction_commit_ms": _spread(
            [r["commit_seconds"] * 1000 for r in report.compactions if r.get("commit_seconds") is not None]
        ),
        "compaction_errors": report.compaction_errors[:5],
        "windows": windows,
        "slowest": _slowest(batches),
        "gc": args.gc,
        "gc_refreezes": report.collection.refreezes if report.collection else 0,
        "gc_pauses_ms": _gc_totals(pauses),
        "commits": [_commit_row(b) for b in batches],
        "compactions_while_streaming": len(report.compactions),
        "premerge": args.premerge,
        "premerges": _premerges(report),
        **compaction,
        "rows_in_port": port.latest().rows,
    }
    return result, windows, elapsed


def _spread(values: list[float]) -> dict[str, float] | None:
    """p50 and max of `values` (None when there are none)."""
    if not values:
        return None
    return {"p50": round(statistics.median(values), 1), "max": round(max(values), 1)}


def _cpu() -> dict[str, float]:
    """CPU seconds (user + system) of this process, all threads, and of its children reaped so far (the
    compactor's worker is, when the stream ends)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"stream": own.ru_utime + own.ru_stime, "compactor_process": children.ru_utime + children.ru_stime}


def _premerges(report: Any) -> dict[str, Any] | None:
    done = report.premerges
    if done is None:
        return None
    return {
        "offered": done.offered,
        "swapped": done.swapped,
        "dropped": done.dropped,
        "seconds": round(done.seconds, 2),
        "errors": done.errors[:5],
    }


def _add_table_growth(port: Any, batches: list[Batch], windows: list[dict[str, Any]], window: float) -> None:
    """Each window's table at its last batch: manifests its snapshot lists, snapshots kept, and the JSON size of
    the snapshot log (what every commit re-renders into `metadata.json`), read after the run (not on the way)."""
    table = port.table()
    snapshots = table.metadata.snapshots
    order = {s.snapshot_id: i for i, s in enumerate(snapshots)}
    for found in windows:
        inside = [b for b in batches if found["from_s"] <= b.at < found["from_s"] + window and b.snapshot_id]
        last = inside[-1].snapshot_id if inside else None
        snapshot = table.metadata.snapshot_by_id(last) if last is not None else None
        if snapshot is None:
            continue
        kept = order.get(snapshot.snapshot_id, 0) + 1
        found["manifests"] = len(snapshot.manifests(table.io))
        found["snapshots"] = kept
        found["snapshot_log_kb"] = round(sum(len(s.model_dump_json()) for s in snapshots[:kept]) / 1024, 1)
        found["p99_no_premerge_ms"] = round(
            _percentile([b.wall for b in inside if not b.premerging and not b.compacting], 0.99), 1
        )


def _compaction(lake: ml.Lake, port: Any) -> dict[str, Any]:
    """Data files and query latency before and after `maintain` compacts what the stream left."""
    files_before = len(port.table().inspect.files())
    query_before = _query_ms(lake)
    started = time.perf_counter()
    port.maintain(apply=True, expire=False, orphans=False)
    seconds = time.perf_counter() - started
    return {
        "files_before_compaction": files_before,
        "files_after_compaction": len(port.table().inspect.files()),
        "compaction_seconds": round(seconds, 2),
        "query_ms_before_compaction": round(query_before, 1),
        "query_ms_after_compaction": round(_query_ms(lake), 1),
    }


def _commit_row(b: Batch) -> list[Any]:
    """One commit in the JSON: seconds since start, wall ms, CPU ms, GC pause ms, whether a compaction ran."""
    return [round(b.at, 2), round(b.wall, 1), round(b.cpu, 1), round(b.gc_pause, 1), b.compacting]


def _batch(
    result: Any,
    at: float,
    load: float,
    pauses: GcPauses,
    compactions: list[tuple[float, float]],
    premerges: list[tuple[float, float]],
) -> Batch:
    start, end = result.commit_started, result.commit_started + result.commit_seconds
    gc_pause, gc_full = pauses.within(start, end)
    return Batch(
        at=at,
        rows=result.rows,
        wall=result.commit_seconds * 1000,
        cpu=result.commit_cpu_seconds * 1000,
        load=load,
        phases={name: seconds * 1000 for name, seconds in result.phases.items()},
        rebases=result.rebases,
        gc_pause=gc_pause * 1000,
        gc_full=gc_full,
        compacting=any(e > start and b < end for b, e in compactions),
        premerging=any(e > start and b < end for b, e in premerges),
        snapshot_id=result.snapshot_id,
    )


def _gc_totals(pauses: GcPauses) -> dict[str, Any]:
    """The collector's pauses over the whole run, by generation: count, total and longest ms."""
    found: dict[str, Any] = {}
    for generation in (0, 1, 2):
        times = [(e - b) * 1000 for b, e, g in pauses.pauses if g == generation]
        found[str(generation)] = {
            "count": len(times),
            "total_ms": round(sum(times), 1),
            "max_ms": round(max(times), 1) if times else 0.0,
        }
    return found


def _slowest(batches: list[Batch], share: float = 0.01) -> dict[str, Any]:
    """Where the slowest `share` of the commits spent their time, against all commits (median ms by phase)."""
    ordered = sorted(batches, key=lambda b: -b.wall)
    slow = ordered[: max(1, int(len(ordered) * share))] if ordered else []
    names = sorted({name for b in batches for name in b.phases})

    def medians(group: list[Batch]) -> dict[str, float]:
        found = {"total": statistics.median(b.wall for b in group)} if group else {}
        found["staging (total − phases)"] = (
            statistics.median(b.wall - sum(v for k, v in b.phases.items() if k not in INSIDE_COMMIT) for b in group)
            if group
            else 0.0
        )
        for name in names:
            found[name] = statistics.median(b.phases.get(name, 0.0) for b in group) if group else 0.0
        found["GC pause"] = statistics.median(b.gc_pause for b in group) if group else 0.0
        return {k: round(v, 1) for k, v in found.items()}

    return {
        "count": len(slow),
        "touched_by_compaction": sum(_touched(b) for b in slow),
        "during_compaction": sum(b.compacting for b in slow),
        "with_full_gc": sum(b.gc_full > 0 for b in slow),
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
        f"| {w['p99_untouched_ms']} | {w['p99_no_compaction_ms']} | {w['max_ms']} | {w['cpu_p50_ms']} "
        f"| {w['gc_ms']} ({w['gc_full']}) | {w['load']} | {w.get('manifests', '')} | {w.get('snapshots', '')} "
        f"| {w.get('snapshot_log_kb', '')} | {w.get('p99_no_premerge_ms', '')} |"
        for w in windows
    )
    slow = r["slowest"]
    phases = "\n".join(
        f"| {name} | {slow['slowest_ms'].get(name, 0.0)} | {slow['all_ms'].get(name, 0.0)} |" for name in slow["all_ms"]
    )
    slowest = "\n".join(
        f"| {w['from_s']}–{w['from_s'] + int(args.window)} s | {c['at_s']} | {c['total']} | {c['cpu']} | {c['stage']} "
        f"| {c.get('gate', '')} | {c.get('commit', '')} | {c.get('merge in commit', '')} "
        f"| {c.get('commit lock wait', '')} | {c['gc_pause']} ({c['gc_full']}) | {c['rebases']} "
        f"| {'yes' if c['compacting'] else ''} | {'yes' if c['premerging'] else ''} |"
        for w in windows
        for c in [w["slowest_commit"]]
    )
    cpu = r["cpu_s"]
    gc_line = "; ".join(
        f"generation {g}: {v['count']:,} collections, {v['total_ms']:,} ms in all, longest {v['max_ms']} ms"
        for g, v in r["gc_pauses_ms"].items()
    )
    command = f"python -m benchmarks.bench_stream --seconds {args.seconds:g} --batch {args.batch}"
    command += f" --interval {args.interval:g}"
    if args.compact_every:
        command += f" --compact-every {args.compact_every:g} --size-classes {args.size_classes}"
    command += f" --premerge {args.premerge}"
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
| compactions while streaming (`--compaction {r["compaction"]}`) | {compactions}, errors: {r["compaction_errors"]} |
| commit p99 while a compaction ran / while none did | {r["commit_p99_compacting_ms"]} ms / \
{r["commit_p99_not_compacting_ms"]} ms |
| batches re-based / that waited for the commit lock (a compaction committing beside them) | \
{r["batches_rebased"]} / {r["batches_waited_for_lock"]} |
| CPU seconds: the stream's process (all threads) / the compactor's worker (0 with a thread) | {cpu["stream"]} / \
{cpu["compactor_process"]} |
| bytes rewritten by those compactions (`--size-classes {r["size_classes"]}`) / their commits on the stream's \
thread (ms) | {r["compaction_bytes_rewritten"]:,} / {r["compaction_commit_ms"]} |
| manifest merges ahead of the commits (`--premerge`) | {r["premerges"]} |
| data files before / after `maintain` | {files} |
| query (`count(*)`, `avg`) before / after | {queries} |

Commit latency over time:

| window | batches | p50 ms | p99 ms | p99 ms, commits no compaction touched | p99 ms, no compaction running | max ms \
| CPU p50 ms | GC pause ms in commits (full collections) | load average | manifests | snapshots | snapshot log KB \
| p99 ms, no compaction or background merge running |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
{table}

The slowest commit of each window, ms by phase (stage: what no phase covers; merge in commit and commit lock wait
are inside commit; GC: the collector's pause inside the commit, with the full collections):

| window | at s | total | CPU | stage | gate | commit | merge in commit | commit lock wait | GC (full) | rebases \
| compaction running | background merge running |
|---|---|---|---|---|---|---|---|---|---|---|---|---|
{slowest}

Python's garbage collector over the run (all threads; `--gc {r["gc"]}`, {r["gc_refreezes"]} refreezes): {gc_line}.

The slowest 1 % of the commits ({slow["count"]}; {slow["touched_by_compaction"]} of them re-based onto a compaction
or waited for its commit lock, {slow["during_compaction"]} ran while a compaction did, {slow["with_full_gc"]} included a
full collection), median ms by phase (`WriteResult.phases`), against all commits:

| phase | slowest 1 % | all |
|---|---|---|
{phases}
"""
    return markdown


if __name__ == "__main__":
    main()
