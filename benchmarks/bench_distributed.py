"""Daft on Ray through meshlake, side by side with Daft on its own (run in the distributed venv).

    bash .ci/distributed-venv.sh
    .venv-distributed/bin/python -m benchmarks.bench_distributed [--read-rows 2000000] [--write-rows 4000000]
        [--big-rows 10000000] [--partitions 8] [--repeat 3] [--upsert-rows 4000000] [--upsert-share 0.01]
        [--unique-rows 4000000]

On a local Ray cluster of 2 CPUs bound to 127.0.0.1 (`ray.init(num_cpus=2, include_dashboard=False,
_node_ip_address="127.0.0.1")`, `RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`):

- read: `port.to_daft()` of a `--read-rows` lineitem port (written in 4 appends) against Daft's own
  `daft.read_iceberg(table, snapshot_id=…)` of the same snapshot: a full scan to Arrow and an aggregate (TPC-H Q6's
  filter and sum), median of `--repeat` warm runs, the two interleaved (the order reversed every other run), with
  the CPU time of the driver and every Ray process beside the wall time;
- write: `--write-rows` rows generated on the workers (`daft.range`, never on the driver) appended through
  `port.write_daft` to a port with three expectations (id not null, id unique, value in a range), against Daft
  writing the same frame as zstd Parquet files (the port's codec) with no gate (`df.write_parquet`), wall and CPU
  time (driver and Ray processes), the load average and both sides' file counts; the gate's share is the
  driver's commit phase (gate + catalog commit) over the whole write. A third variant computes the same frame and
  hands it to a Python sink that drops the rows (what both writes pay before encoding), so each writer's own cost
  is its CPU time beyond it; the three alternate (A B C, then C B A). meshlake's workers report their phases
  (`WriteResult.phases`: receiving the rows, conforming, encoding, the gate's metrics, closing the files), added
  up over the sink's calls;
- big: `--big-rows` through the sink, with the driver's peak RSS (`ru_maxrss`) before and after;
- upsert: `--upsert-share` (1 %) of the ids of a `--upsert-rows` port, spread over every data file, upserted through
  `port.write_daft(mode="upsert")`: the join on the engine writing position deletes (write_mode merge-on-read)
  against the driver's copy-on-write path (write_mode copy-on-write: the keys read back on the driver, every file
  holding one rewritten there), each on a fresh port with the same rows; wall time, the driver's CPU time (the
  workers' is not in it) and the load average;
- unique: the gate's uniqueness check of `--unique-rows` shuffled ids (no tap can prove them distinct while they
  stream) on the engine (`unique_on_engine=True`: a shuffle by key on Ray) and on the driver (`False`: DuckDB over
  the staged files): an overwrite (every key counted), an append onto it (incremental) and an upsert of
  `--upsert-share` of the ids (copy-on-write: every key of the result counted), each port receiving the same
  writes, engine and driver alternating; wall time, the gate phase, the driver's CPU time and the load average;
- per-file and per-row costs of the driver's commit phase, from which docs/scaling.md projects 1 B rows / 10,000
  files.

Targets (issue 17): read ≤ 1.1 × Daft's own; write ≤ 1.3 × Daft's ungated Parquet write, on this
shared 2-core machine (the issue's 6 M and 20 M rows ran here, 100 M did not): say which ones ran.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # read when Ray is imported: listeners on 127.0.0.1
os.environ.setdefault("DAFT_PROGRESS_BAR", "0")

import daft
import ray
from daft.io import DataSink
from daft.io.sink import WriteResult as DaftWriteResult
from daft.recordbatch import MicroPartition

import meshlake as ml
from benchmarks.common import LINEITEM_YAML, fresh_dir, lineitem, machine, save
from meshlake.distributed.daft_sink import partition_per_call
from meshlake.distributed.driver import DistributedWrite
from meshlake.distributed.staging import WORKER_PHASE
from meshlake.write.phases import CPU_SUFFIX

EVENTS_YAML = """\
apiVersion: meshlake/v1
domain: bench
name: stream
version: 1.0.0
owner: {team: bench}
outputs:
  - name: events
    columns:
      - {name: id, type: long, required: true}
      - {name: value, type: double}
      - {name: tag, type: string}
    expectations:
      - expect_column_values_to_not_be_null: {column: id}
      - expect_column_values_to_be_unique: {column: id}
      - expect_column_values_to_be_between: {column: value, min_value: 0, max_value: 1000}
"""
READ_TARGET = 1.1
WRITE_TARGET = 1.3


def _median(runs: list[float]) -> float:
    return statistics.median(runs)


def _interleaved(repeat: int, cpu: dict[str, float] | None = None, **variants: Callable[[], Any]) -> dict[str, float]:
    """Median seconds of each variant over `repeat` runs, after one warm-up each, run by run interleaved (in
    reverse order every other run: the variant that runs right after another's large result was freed is not
    always the same); with `cpu`, also each variant's median CPU seconds of the driver and Ray's workers
    (`_cluster_cpu`) into it."""
    for run in variants.values():
        run()
    times: dict[str, list[float]] = {name: [] for name in variants}
    cpus: dict[str, list[float]] = {name: [] for name in variants}
    for attempt in range(repeat):
        ordered = list(variants.items())
        for name, run in ordered if attempt % 2 == 0 else ordered[::-1]:
            started, used = time.perf_counter(), _cluster_cpu()
            run()
            times[name].append(time.perf_counter() - started)
            cpus[name].append(_cluster_cpu() - used)
    if cpu is not None:
        cpu.update({name: _median(found) for name, found in cpus.items()})
    return {name: _median(found) for name, found in times.items()}


def _cluster_cpu() -> float:
    """CPU seconds used so far by this process and every process it started (the local Ray cluster's workers):
    on a loaded machine the wall time follows the load, the CPU time what the work costs."""
    import psutil

    found = 0.0
    for process in [psutil.Process(), *psutil.Process().children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.Error:  # a process that ended meanwhile
            continue
        found += times.user + times.system
    return found


def _events(rows: int, partitions: int, first: int = 0) -> daft.DataFrame:
    """Rows generated on the workers: unique ids, values in range, a short tag."""
    frame = daft.range(first, first + rows, partitions=partitions)
    return frame.select(
        daft.col("id"),
        ((daft.col("id") % 1000).cast(daft.DataType.float64())).alias("value"),
        (daft.col("id") % 97).cast(daft.DataType.string()).alias("tag"),
    )


def bench_read(lake: ml.Lake, home: Path, rows: int, repeat: int) -> dict[str, Any]:
    lake.deploy(_descriptor(home, "lineitem", LINEITEM_YAML))
    port = lake.port("bench.tpch.lineitem")
    step = rows // 4
    for i in range(4):
        port.write(lineitem(step, seed=i + 1, first_order=i * step))
    snapshot = port.latest()
    table = port.table()

    def own() -> daft.DataFrame:
        return daft.read_iceberg(table, snapshot_id=snapshot.snapshot_id)

    def ours() -> daft.DataFrame:
        return port.latest().to_daft()

    def q6(frame: daft.DataFrame) -> Any:
        col = daft.col
        return (
            frame.where((col("l_discount") >= 0.05) & (col("l_discount") <= 0.07) & (col("l_quantity") < 24))
            .agg(
                (col("l_extendedprice") * col("l_discount")).sum().alias("revenue"),
                col("l_quantity").count().alias("rows"),
            )
            .to_pydict()
        )

    load = os.getloadavg()[0]
    scan_cpu: dict[str, float] = {}
    scan = _interleaved(
        repeat, scan_cpu, daft_read_iceberg=lambda: own().to_arrow(), meshlake_to_daft=lambda: ours().to_arrow()
    )
    agg = _interleaved(repeat, daft_read_iceberg=lambda: q6(own()), meshlake_to_daft=lambda: q6(ours()))
    # The same rows (exact count), the same revenue up to the order Ray combined the partial float sums in:
    # even one frame's sum differs in its last bits from run to run.
    theirs, mine = q6(own()), q6(ours())
    assert theirs["rows"] == mine["rows"], (theirs, mine)
    assert math.isclose(theirs["revenue"][0], mine["revenue"][0], rel_tol=1e-12), (theirs, mine)
    return {
        "rows": rows,
        "scan_s": scan,
        "q6_s": agg,
        "scan_ratio": scan["meshlake_to_daft"] / scan["daft_read_iceberg"],
        "scan_cpu_s": scan_cpu,
        "scan_cpu_ratio": scan_cpu["meshlake_to_daft"] / scan_cpu["daft_read_iceberg"],
        "load_1m": load,
        "q6_ratio": agg["meshlake_to_daft"] / agg["daft_read_iceberg"],
    }


class RowsOnlySink(DataSink):  # type: ignore[misc]  # daft is untyped here
    """Receives each partition's rows as meshlake's sink does (as Arrow) and drops them: what computing the frame
    and handing it to a Python sink costs, which both writes pay before encoding a byte."""

    def schema(self) -> daft.Schema:
        return daft.Schema.from_pydict({"rows": daft.DataType.int64()})

    def write(self, micropartitions: Any) -> Any:
        rows = sum(part.to_arrow().num_rows for part in micropartitions)
        yield DaftWriteResult(result=rows, bytes_written=0, rows_written=rows)

    def finalize(self, write_results: list[Any]) -> MicroPartition:
        return MicroPartition.from_pydict({"rows": [sum(result.result for result in write_results)]})


def bench_write(lake: ml.Lake, home: Path, rows: int, partitions: int, repeat: int) -> dict[str, Any]:
    lake.deploy(_descriptor(home, "events", EVENTS_YAML))
    port = lake.port("bench.stream.events")
    port.write_daft(_events(1000, 2), mode="overwrite")  # warm-up: workers import meshlake once
    commit_s: list[float] = []
    original = DistributedWrite.commit

    def timed_commit(self: DistributedWrite, files: Any, count: int, shares: Any = None, engine: Any = None) -> Any:
        started = time.perf_counter()
        try:
            return original(self, files, count, shares, engine)
        finally:
            commit_s.append(time.perf_counter() - started)

    plain_dir = home / "plain"
    runs: dict[str, list[float]] = {"sink": [], "plain": [], "rows_only": []}
    cpus: dict[str, list[float]] = {name: [] for name in runs}
    files: list[int] = []
    phases: list[dict[str, float]] = []

    def sink(run: int) -> None:
        result = port.write_daft(_events(rows, partitions, first=(run + 1) * rows * 10), mode="append")
        files.append(result.files_added)
        phases.append({k: v for k, v in result.phases.items() if k.startswith(WORKER_PHASE)})

    def plain(run: int) -> None:
        frame = _events(rows, partitions, first=(run + 1) * rows * 10)
        frame.write_parquet(str(plain_dir / f"run{run}"), compression="zstd")  # the port's codec

    def rows_only(run: int) -> None:
        with partition_per_call():  # the sink's calls as write_daft makes them
            _events(rows, partitions, first=(run + 1) * rows * 10).write_sink(RowsOnlySink()).collect()

    variants: dict[str, Callable[[int], None]] = {"sink": sink, "plain": plain, "rows_only": rows_only}
    DistributedWrite.commit = timed_commit  # type: ignore[method-assign]
    load = os.getloadavg()[0]
    try:
        rows_only(-1)  # warm-up: the workers import the benchmark's sink once
        for run in range(repeat):  # A B C, then C B A: each variant runs after each other as often
            order = list(variants) if run % 2 == 0 else list(variants)[::-1]
            for name in order:
                started, cpu = time.perf_counter(), _cluster_cpu()
                variants[name](run)
                runs[name].append(time.perf_counter() - started)
                cpus[name].append(_cluster_cpu() - cpu)
    finally:
        DistributedWrite.commit = original  # type: ignore[method-assign]
    wall = {name: _median(found) for name, found in runs.items()}
    cpu_s = {name: _median(found) for name, found in cpus.items()}
    gate = _median(commit_s[1:] or commit_s)
    plain_files = [len(list((plain_dir / f"run{run}").rglob("*.parquet"))) for run in range(repeat)]
    worker = {name: _median([found.get(name, 0.0) for found in phases]) for name in phases[0]} if phases else {}
    return {
        "rows": rows,
        "partitions": partitions,
        "files_per_write": files,
        "plain_files_per_write": plain_files,
        "sink_s": wall["sink"],
        "plain_parquet_s": wall["plain"],
        "rows_only_s": wall["rows_only"],
        "ratio": wall["sink"] / wall["plain"],
        "sink_cpu_s": cpu_s["sink"],
        "plain_parquet_cpu_s": cpu_s["plain"],
        "rows_only_cpu_s": cpu_s["rows_only"],
        "cpu_ratio": cpu_s["sink"] / cpu_s["plain"],
        "runs_s": runs,
        "runs_cpu_s": cpus,
        "driver_commit_s": gate,
        "gate_share": gate / wall["sink"],
        "worker_phases_s": worker,
        "rows_after": port.latest().rows,
        "load_1m": load,
        "load_1m_after": os.getloadavg()[0],
    }


def bench_big(lake: ml.Lake, home: Path, rows: int, partitions: int) -> dict[str, Any]:
    """`rows` through the sink; the driver's peak RSS is the process's: run it alone (`--read-rows 0
    --write-rows 0`) to see what the write itself costs the driver."""
    if not lake.catalog.table_exists(("bench", "stream", "events")):
        lake.deploy(_descriptor(home, "events", EVENTS_YAML))
    port = lake.port("bench.stream.events")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    result = port.write_daft(_events(rows, partitions, first=10**12), mode="append")
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "rows": rows,
        "seconds": seconds,
        "files": result.files_added,
        "driver_peak_rss_mb_before": before / 1024,
        "driver_peak_rss_mb_after": after / 1024,
        "rows_per_s": rows / seconds,
    }


def bench_commit(lake: ml.Lake, home: Path, counts: list[int]) -> dict[str, Any]:
    """The driver's commit of `count` staged files (1,000 rows each, written in this process as workers would):
    seconds per file, without a gate (a port with no expectations) — the per-file cost docs/scaling.md projects."""
    import pyarrow as pa

    from meshlake.distributed.staging import write_partition

    lake.deploy(
        _descriptor(home, "files", EVENTS_YAML.replace("name: stream", "name: files").split("    expectations")[0])
    )
    port = lake.port("bench.files.events")
    found = {}
    for count in counts:
        write = DistributedWrite(port)
        files = []
        for n in range(count):
            ids = pa.array(range(n * 1000, (n + 1) * 1000), pa.int64())
            batch = pa.record_batch({"id": ids, "value": pa.array([1.0] * 1000), "tag": pa.array(["t"] * 1000)})
            files += write_partition(write.spec, [batch]).files
        started = time.perf_counter()
        write.commit(files, count * 1000)
        seconds = time.perf_counter() - started
        found[str(count)] = {"seconds": seconds, "per_file_ms": seconds / count * 1000}
    return found


def bench_upsert(lake: ml.Lake, home: Path, rows: int, partitions: int, share: float) -> dict[str, Any]:
    """Upsert `share` of the ids of a `rows` port (spread over every file) with the join on the engine (merge-on-read)
    and on the driver (copy-on-write), each on a fresh port holding the same rows."""
    every = max(round(1 / share), 1)
    found: dict[str, Any] = {"rows": rows, "share": share, "partitions": partitions}
    for name, write_mode in (("engine_merge_on_read", "merge-on-read"), ("driver_copy_on_write", "copy-on-write")):
        product = f"upsert{len(found)}"
        text = EVENTS_YAML.replace("name: stream", f"name: {product}").replace(
            "    expectations:", f"    primary_key: [id]\n    write_mode: {write_mode}\n    expectations:"
        )
        lake.deploy(_descriptor(home, product, text))
        port = lake.port(f"bench.{product}.events")
        base = port.write_daft(_events(rows, partitions), mode="append")
        col = daft.col
        changed = (
            daft.range(0, rows, partitions=partitions)
            .where(col("id") % every == 0)
            .select(
                col("id"),
                ((col("id") % 1000).cast(daft.DataType.float64()) + 0.5).alias("value"),
                daft.lit("changed").alias("tag"),
            )
        )
        load = os.getloadavg()[0]
        wall, cpu = time.perf_counter(), time.process_time()
        result = port.write_daft(changed, mode="upsert")
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        assert result.rows_updated == (rows + every - 1) // every and port.latest().rows == rows
        found[name] = {
            "wall_s": wall,
            "driver_cpu_s": cpu,
            "load_1m": load,
            "base_files": base.files_added,
            "write_mode": result.write_mode,
            "rows_updated": result.rows_updated,
            "files_added": result.files_added,
            "files_rewritten": result.files_deleted,
            "delete_files": result.delete_files_added,
        }
    found["ratio"] = found["engine_merge_on_read"]["wall_s"] / found["driver_copy_on_write"]["wall_s"]
    return found


def _shuffled(rows: int, partitions: int, first: int = 0) -> daft.DataFrame:
    """`_events` with the ids `first` … `first + rows - 1` in no order (a permutation: 7919 is a prime that does not
    divide `rows`), so that no writer's tap can prove them distinct while streaming and the gate must count them."""
    step = 7919 if rows % 7919 else 7907
    frame = daft.range(0, rows, partitions=partitions)
    shuffled = ((daft.col("id") * step) % rows + first).alias("id")
    return frame.select(shuffled).select(
        daft.col("id"),
        ((daft.col("id") % 1000).cast(daft.DataType.float64())).alias("value"),
        (daft.col("id") % 97).cast(daft.DataType.string()).alias("tag"),
    )


def bench_unique(lake: ml.Lake, home: Path, rows: int, partitions: int, share: float) -> dict[str, Any]:
    """The gate's uniqueness check of a distributed write on the engine (`unique_on_engine=True`) and on the driver
    (`False`), each on its own port receiving the same writes, the two alternating (engine first, then driver first):
    an overwrite of `rows` shuffled ids (the check counts all of them), an append of `rows` more onto it
    (incremental: the new keys, and the base's files that may hold them) and an upsert of `share` of the ids
    (copy-on-write: the files holding them rewritten on the driver; the check counts every key of the result)."""
    found: dict[str, Any] = {"rows": rows, "partitions": partitions, "upsert_rows": max(int(rows * share), 1)}
    yaml = EVENTS_YAML.replace("    columns:", "    primary_key: [id]\n    columns:")
    lake.deploy(_descriptor(home, "uniquewarm", yaml.replace("name: stream", "name: uniquewarm")))
    warm = lake.port("bench.uniquewarm.events")
    for option in (True, False):  # Ray's workers and Daft's jobs started before anything is timed
        warm.write_daft(_shuffled(10_000, partitions), mode="overwrite", unique_on_engine=option)
        warm.write_daft(_shuffled(100, partitions), mode="upsert", write_mode="copy-on-write", unique_on_engine=option)
    ports = {}
    for where in ("engine", "driver"):
        product = f"unique{where}"
        lake.deploy(_descriptor(home, product, yaml.replace("name: stream", f"name: {product}")))
        ports[where] = lake.port(f"bench.{product}.events")
    writes = (
        ("overwrite", lambda: _shuffled(rows, partitions), {}),
        ("append", lambda: _shuffled(rows, partitions, rows), {}),
        ("upsert", lambda: _shuffled(found["upsert_rows"], partitions), {"write_mode": "copy-on-write"}),
    )
    for turn, (mode, frame, options) in enumerate(writes):
        order = ("engine", "driver") if turn % 2 == 0 else ("driver", "engine")
        for where in order:
            option = where == "engine"
            load = os.getloadavg()[0]
            wall, cpu = time.perf_counter(), time.process_time()
            result = ports[where].write_daft(frame(), mode=mode, unique_on_engine=option, **options)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            assert result.quality is not None
            unique = result.quality.results[1]
            assert unique.status == "passed" and unique.ran_on == ("daft" if option else "driver")
            found[f"{mode}_{where}"] = {
                "wall_s": wall,
                "driver_cpu_s": cpu,
                "gate_s": result.phases.get("gate", math.nan),
                "load_1m": load,
                "phases": dict(result.phases),
                "method": unique.method,
            }
    return found


def _descriptor(home: Path, name: str, text: str) -> Path:
    folder = home / "products" / name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "dataproduct.yaml"
    path.write_text(text)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--read-rows", type=int, default=2_000_000)
    parser.add_argument("--write-rows", type=int, default=4_000_000)
    parser.add_argument("--big-rows", type=int, default=10_000_000)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--upsert-rows", type=int, default=4_000_000)
    parser.add_argument("--upsert-share", type=float, default=0.01)
    parser.add_argument("--unique-rows", type=int, default=4_000_000)
    parser.add_argument("--files", default="", help="commit this many staged files (e.g. 100,1000): cost per file")
    args = parser.parse_args()
    home = fresh_dir("distributed")
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    daft.set_runner_ray()
    try:
        lake = ml.connect(home=str(home / ".meshlake"))
        read = bench_read(lake, home, args.read_rows, args.repeat) if args.read_rows else None
        write = bench_write(lake, home, args.write_rows, args.partitions, args.repeat) if args.write_rows else None
        big = bench_big(lake, home, args.big_rows, args.partitions) if args.big_rows else None
        upsert = (
            bench_upsert(lake, home, args.upsert_rows, args.partitions, args.upsert_share) if args.upsert_rows else None
        )
        unique = (
            bench_unique(lake, home, args.unique_rows, args.partitions, args.upsert_share) if args.unique_rows else None
        )
        counts = [int(n) for n in args.files.split(",") if n]
        commit = bench_commit(lake, home, counts) if counts else None
    finally:
        ray.shutdown()
    results = {
        "machine": machine() | {"daft": daft.__version__, "ray": ray.__version__},
        "read": read,
        "write": write,
        "big": big,
        "commit": commit,
        "upsert": upsert,
        "unique": unique,
    }
    ran = [k for k in ("read", "write", "big", "commit", "upsert", "unique") if results[k]]
    name = "distributed" if read and write else "distributed_" + "_".join(ran)
    save(name, results, _markdown(results, args))


def _worker_lines(write: dict[str, Any]) -> list[str]:
    """The sink's worker phases (median over the runs of their sums over every sink call), with the call's whole."""
    found = write.get("worker_phases_s") or {}
    names = [k.removeprefix(WORKER_PHASE) for k in found if not k.endswith(CPU_SUFFIX)]
    if not names:
        return []
    calls = write["partitions"]
    lines = [
        "",
        f"meshlake's workers, added up over every sink call (about one per partition: {calls}); a call's CPU is its "
        "calling thread's, encoding runs in the writer's thread:",
        "",
        "| worker phase | wall | CPU | CPU per partition |",
        "|---|---|---|---|",
    ]
    for name in sorted(names, key=lambda n: (n == "call", -found[f"{WORKER_PHASE}{n}{CPU_SUFFIX}"])):
        wall, cpu = found[f"{WORKER_PHASE}{name}"], found[f"{WORKER_PHASE}{name}{CPU_SUFFIX}"]
        lines.append(f"| {name} | {wall:.3f} s | {cpu:.3f} s | {cpu / calls * 1000:.1f} ms |")
    return lines


def _markdown(results: dict[str, Any], args: argparse.Namespace) -> str:
    read, write, big, host = results["read"], results["write"], results["big"], results["machine"]
    lines = [
        "# Daft on Ray through meshlake (`benchmarks/bench_distributed.py`)",
        "",
        f"{host['when']}, {host['cpus']} CPUs (shared), Ray 2 CPUs on 127.0.0.1, daft {host['daft']}, "
        f"ray {host['ray']}, pyarrow {host['pyarrow']}. Command: `.venv-distributed/bin/python -m "
        f"benchmarks.bench_distributed --read-rows {args.read_rows} --write-rows {args.write_rows} --big-rows "
        f"{args.big_rows} --partitions {args.partitions} --repeat {args.repeat} --upsert-rows {args.upsert_rows} "
        f"--upsert-share {args.upsert_share} --unique-rows {args.unique_rows}"
        + (f" --files {args.files}" if args.files else "")
        + "`.",
    ]
    if read or write:
        lines += ["", "| measure | meshlake | Daft alone | ratio | target |", "|---|---|---|---|---|"]
    if read:
        lines += [
            f"| read {read['rows']:,} rows, full scan | {read['scan_s']['meshlake_to_daft']:.3f} s | "
            f"{read['scan_s']['daft_read_iceberg']:.3f} s | {read['scan_ratio']:.2f} | ≤ {READ_TARGET} |",
            f"| the same, CPU time of the driver and Ray's workers (load average {read.get('load_1m', 0):.1f}) | "
            f"{read['scan_cpu_s']['meshlake_to_daft']:.2f} s | {read['scan_cpu_s']['daft_read_iceberg']:.2f} s | "
            f"{read['scan_cpu_ratio']:.2f} | |",
            f"| read {read['rows']:,} rows, Q6 | {read['q6_s']['meshlake_to_daft']:.3f} s | "
            f"{read['q6_s']['daft_read_iceberg']:.3f} s | {read['q6_ratio']:.2f} | ≤ {READ_TARGET} |",
        ]
    if write:
        lines += [
            f"| append {write['rows']:,} rows ({write['partitions']} partitions) | {write['sink_s']:.3f} s | "
            f"{write['plain_parquet_s']:.3f} s (zstd Parquet, no gate) | {write['ratio']:.2f} | ≤ {WRITE_TARGET} |",
            f"| the same, CPU time of the driver and Ray's workers | {write['sink_cpu_s']:.2f} s | "
            f"{write['plain_parquet_cpu_s']:.2f} s | {write['cpu_ratio']:.2f} | |",
            "",
            f"Driver commit phase (gate over the staged files + one catalog commit): {write['driver_commit_s']:.3f} "
            f"s, {write['gate_share']:.0%} of the append (load average {write.get('load_1m', 0):.1f} when it "
            f"started, {write.get('load_1m_after', 0):.1f} at the end); files per append: "
            f"{write['files_per_write']} (Daft alone: {write['plain_files_per_write']}).",
            "",
            f"What both writes share, the frame computed and handed to a Python sink that drops the rows (the sink's "
            f"calls as `write_daft` makes them): {write['rows_only_s']:.3f} s, {write['rows_only_cpu_s']:.2f} s CPU. "
            f"Beyond it, Daft's own Parquet writer costs {write['plain_parquet_cpu_s'] - write['rows_only_cpu_s']:.2f} "
            f"s CPU and meshlake's sink {write['sink_cpu_s'] - write['rows_only_cpu_s']:.2f} s CPU.",
            *_worker_lines(write),
        ]
    if big:
        lines += [
            "",
            f"{big['rows']:,} rows through the sink: {big['seconds']:.1f} s ({big['rows_per_s']:,.0f} rows/s), "
            f"{big['files']} files; driver peak RSS {big['driver_peak_rss_mb_before']:.0f} MB before, "
            f"{big['driver_peak_rss_mb_after']:.0f} MB after.",
        ]
    for count, found in (results["commit"] or {}).items():
        lines += [
            "",
            f"Commit of {count} staged files (no gate): {found['seconds']:.3f} s, {found['per_file_ms']:.2f} ms/file.",
        ]
    upsert = results["upsert"]
    if upsert:
        lines += [
            "",
            f"Upsert of {upsert['share']:.0%} of {upsert['rows']:,} rows (ids spread over every file, "
            f"{upsert['partitions']} partitions): wall {upsert['ratio']:.2f} × the driver's copy-on-write.",
            "",
            "| path | wall | driver CPU | load (1 min) | files added | files rewritten | delete files |",
            "|---|---|---|---|---|---|---|",
        ]
        for name in ("engine_merge_on_read", "driver_copy_on_write"):
            run = upsert[name]
            lines.append(
                f"| {name.replace('_', ' ')} | {run['wall_s']:.2f} s | {run['driver_cpu_s']:.2f} s | "
                f"{run['load_1m']:.1f} | {run['files_added']} | {run['files_rewritten']} | {run['delete_files']} |"
            )
    unique = results["unique"]
    if unique:
        lines += [
            "",
            f"The gate's uniqueness check of {unique['rows']:,} shuffled ids written through the Daft sink "
            f"({unique['partitions']} partitions), on the engine (`unique_on_engine=True`) and on the driver "
            "(`False`):",
            "",
            "| write | check ran on | method | wall | gate phase | driver CPU | load (1 min) |",
            "|---|---|---|---|---|---|---|",
        ]
        sizes = {"overwrite": unique["rows"], "append": unique["rows"], "upsert": unique.get("upsert_rows", 0)}
        for mode in ("overwrite", "append", "upsert"):
            for where in ("engine", "driver"):
                run = unique.get(f"{mode}_{where}")
                if run is None:
                    continue
                lines.append(
                    f"| {mode} of {sizes[mode]:,} rows | {where} | {run['method']} | {run['wall_s']:.2f} s | "
                    f"{run.get('gate_s', math.nan):.2f} s | {run['driver_cpu_s']:.2f} s | {run['load_1m']:.1f} |"
                )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
