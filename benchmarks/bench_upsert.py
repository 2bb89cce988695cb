"""Upserts at the limit: merge-on-read vs copy-on-write vs writing only the changed rows, and reads with deletes.

    python -m benchmarks.bench_upsert [--sizes 1000000,6000000] [--share 0.01] [--repeat 3] [--upserts 10]
                                      [--pyiceberg-timeout 120] [--skip-pyiceberg] [--skip-reads | --reads-only]
                                      [--series-length 5] [--name upsert] [--key-type decimal|uuid]

For each port size, one upsert of `share` of the rows (half changed rows spread over the port, half new keys),
side by side in one run:

- the limit: only the upserted rows written as Parquet (zstd) by the fastest of the raw writers of
  `bench_write.raw_writers` (pyarrow in one thread or in threads, `write_dataset`, DuckDB `COPY`), what any writer
  must at least do;
- meshlake `write(mode="upsert", write_mode="merge-on-read")`: new rows + position deletes, with its phases
  (`WriteResult.phases`: conform, key lookup, write rows — alongside the lookup —, deletes, gate, commit, key
  index — bringing the key index to the committed snapshot, on the keeper thread after the write returned); in the
  steady state of a pipeline upserting daily: the key index (`meshlake.write.key_index`) exists for the base
  snapshot;
- the same upsert with the key index kept inline vs in the background (alternating runs): the latency the write
  returns with, and the keeping's own time;
- back-to-back series of upserts, each on top of the previous one with no wait (a change-data-capture stream),
  inline vs background in alternating series: what an upsert costs when the next lookup pays any keeping still
  running (`--series-length` upserts, 5 by default: the fifth, and every fifth after it, merges the key index's
  small runs into a middle run, `key_merge.SMALL_RUNS`);
- the first such upsert of the port, which builds the key index from its full scan of the keys (its index folder
  removed before each run), next to a build's limit: the key columns read and one 64-bit value per row sorted;
- the same upsert with the changed rows clustered (one run of consecutive keys), where the manifests' key bounds
  prune the files the lookup reads;
- the same upsert on a port with a four-expectation gate (`bench_write.GATE_YAML`: compound-key uniqueness, two
  set memberships, a range);
- meshlake `write(mode="upsert", write_mode="copy-on-write")`: every touched file rewritten;
- pyiceberg's `upsert` (in a child process, cut off after `--pyiceberg-timeout`; crashes are reported).

Wall and CPU time (of this process: DuckDB's and Arrow's threads included) and the load average are reported;
the machine may be shared.

Then `--upserts` such upserts in a row (merge-on-read) and a TPC-H Q1-like aggregate on the DuckDB
(`lake.sql`) and Polars (`to_polars`) paths, with the pending deletes (read by time travel, `AT (VERSION => …)`)
and after compaction folded them in, one engine at a time (DuckDB's rounds, then Polars': a Polars read right after
a DuckDB query ran slower, so mixing them weighed on whichever followed DuckDB more often), its reads alternating
(pending, compacted, pending, …, after one untimed read of each): wall and CPU time (of every thread of the process)
and the load average, as the machine may be shared. DuckDB reads on three connections of `lake.duckdb()`:
meshlake's own, with its DuckDB extensions loaded (the default: a row mask applied inside the Parquet scan by
`meshlake_scan`, `meshlake.query.native`; compiled on first use), one opened with `MESHLAKE_NATIVE_DELETES=filter`
(the mask tested in a filter above the scan by the C extension's `meshlake_kept`, what other DuckDB versions get),
and one with DuckDB's defaults, which refuse unsigned extensions, so its views apply the deletes in SQL (the
fallback). Then each path's first read of the pending snapshot, with what
it keeps per snapshot dropped before each run (DuckDB's row mask and the positions it is built from, Polars' kept
positions and row counts), and the mask build alone.
`--reads-only` runs only this part.

`--key-type decimal|uuid` runs instead one series on a port keyed by a single `decimal(18,2)` or `uuid` column:
the upsert with its rows found by the key index vs by the scan of every live key, alternating, next to the limit
(`benchmarks.upsert_key_types`).

Targets (issue 18): merge-on-read upsert ≤ 3 × the changed-rows Parquet write and ≥ 5 × faster than
copy-on-write; a read with pending deletes ≤ 1.3 × the compacted read. `run(...)` returns the results dict so
`bench_write` can include it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from benchmarks import iceberg_extension_peer
from benchmarks.bench_write import GATE_YAML, KEYS, new_port, raw_writers, run_pyiceberg_upsert
from benchmarks.common import fresh_dir, lineitem, machine, runs_summary, save, timed
from meshlake.write import index_keeper, key_index_store

PHASES = ("conform", "key index wait", "key lookup", "write rows", "deletes", "gate", "commit", "key index")

ADDRESS = "bench.tpch.lineitem"
Q1 = f"""
SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty, sum(l_extendedprice) AS sum_base_price,
       sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price, avg(l_quantity) AS avg_qty, count(*) AS n
FROM {ADDRESS} WHERE l_shipdate <= DATE '1998-09-02' GROUP BY ALL ORDER BY ALL
"""


def change_of(base: pa.Table, rows: int, seed: int, first_new: int, *, clustered: bool = False) -> pa.Table:
    """Half changed rows of `base` (random, spread over the port; or, `clustered`, one run of consecutive rows at a
    random place), half new orders from `first_new`."""
    rng = np.random.default_rng(seed)
    if clustered:
        start = int(rng.integers(0, base.num_rows - rows // 2 + 1))
        picked = np.arange(start, start + rows // 2)
    else:
        picked = np.sort(rng.choice(base.num_rows, rows // 2, replace=False))
    changed = base.take(pa.array(picked))
    changed = changed.set_column(4, "l_quantity", pc.add(changed["l_quantity"], 1.0))
    new = lineitem(rows - changed.num_rows, seed=seed + 1000, first_order=first_new)
    return pa.concat_tables([changed, new])


def q1_polars(port: Any, snapshot_id: int | None = None) -> Any:
    frame = (port.latest() if snapshot_id is None else port.at(snapshot_id)).to_polars()
    return q1_of(frame)


def q1_of(frame: Any) -> Any:
    """The TPC-H Q1-like aggregate of a Polars LazyFrame of lineitem rows, collected."""
    import datetime

    import polars as pl

    return (
        frame.filter(pl.col("l_shipdate") <= datetime.date(1998, 9, 2))
        .group_by("l_returnflag", "l_linestatus")
        .agg(
            pl.col("l_quantity").sum().alias("sum_qty"),
            pl.col("l_extendedprice").sum().alias("sum_base_price"),
            (pl.col("l_extendedprice") * (1 - pl.col("l_discount"))).sum().alias("sum_disc_price"),
            pl.col("l_quantity").mean().alias("avg_qty"),
            pl.len().alias("n"),
        )
        .sort("l_returnflag", "l_linestatus")
        .collect()
    )


def clocked(function: Callable[[], Any], repeat: int, setup: Callable[[], Any] | None = None) -> dict[str, Any]:
    """`timed`, with this process's CPU time of each run too, and what each run returned."""
    walls: list[float] = []
    cpus: list[float] = []
    returned: list[Any] = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        wall, cpu = time.perf_counter(), time.process_time()
        returned.append(function())
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return {**runs_summary(walls, cpus), "returned": returned}


def fastest_limit(change: pa.Table, root: Path, repeat: int) -> dict[str, Any]:
    """The upserted rows written as Parquet by each raw writer; the fastest (by median wall time) is the limit."""
    folder = root / "limit"
    folder.mkdir(parents=True, exist_ok=True)
    writers = {name: clocked(writer, repeat) for name, writer in raw_writers(change, folder).items()}
    for timing in writers.values():
        timing.pop("returned")
    best = min(writers, key=lambda name: writers[name]["median_s"])
    return {**writers[best], "writer": best, "writers": writers}


KEEPINGS = ("inline", "background")
"""Where a merge-on-read upsert keeps its key index after the commit (`MESHLAKE_KEY_INDEX_KEEPING`)."""
SERIES_KEEPINGS = (*KEEPINGS, "background, no wait")
"""For back-to-back upserts also: kept in the background, but the next lookup does not wait for it: it takes the
caught-up index from memory if the keeping has it ready, else catches up from the ancestor's index itself
(reading back the delete files the keeping had in memory)."""
LOOKUP_WAIT = index_keeper.LOOKUP_WAIT_SECONDS


def keeping(mode: str) -> None:
    """Make the next upserts keep the key index `mode` (one of `SERIES_KEEPINGS`)."""
    os.environ[index_keeper.KEEPING] = mode.split(",", maxsplit=1)[0]
    index_keeper.LOOKUP_WAIT_SECONDS = 0.0 if mode.endswith("no wait") else LOOKUP_WAIT


def kept_seconds(outcome: Any) -> float:
    """Seconds the upsert's key index keeping took, inline (a phase) or on the keeper thread (waited for here)."""
    if "key index" in outcome.phases:
        return float(outcome.phases["key index"])
    return float(outcome.index_keeping.wait() or 0.0) if outcome.index_keeping is not None else 0.0


def summary(timing: dict[str, Any], outcomes: list[Any]) -> dict[str, Any]:
    """`timing` with the median of each phase, the key index keeping's seconds (`key index`, wherever it ran)."""
    kept = [kept_seconds(outcome) for outcome in outcomes]
    phases = {
        phase: statistics.median(outcome.phases.get(phase, 0.0) for outcome in outcomes)
        for phase in PHASES
        if any(phase in outcome.phases for outcome in outcomes)
    }
    if any(kept):
        phases["key index"] = statistics.median(kept)
    last = outcomes[-1]
    return {
        **timing,
        "phases": phases,
        "key_index_s": statistics.median(kept),
        "key_index_inline": "key index" in last.phases,
        "delete_files_added": last.delete_files_added,
        "rows_updated": last.rows_updated,
    }


def merge_on_read(port: Any, change: pa.Table, start_id: int, repeat: int, *, warm: bool = True) -> dict[str, Any]:
    """Median wall and CPU time of a merge-on-read upsert of `change` onto `start_id` (the latency the write
    returns with), and of each phase; `warm`: after one untimed upsert, so that the key index of `start_id` exists
    (the steady state). Each run starts once the previous one's keeping is done (untimed)."""

    def reset() -> None:
        index_keeper.wait_all()
        port.rollback(to=start_id)

    if warm:
        port.write(change, mode="upsert", write_mode="merge-on-read")
        reset()
    timing = clocked(lambda: port.write(change, mode="upsert", write_mode="merge-on-read"), repeat, setup=reset)
    outcomes = timing.pop("returned")
    return summary(timing, outcomes)


def first_upserts(port: Any, change: pa.Table, start_id: int, repeat: int) -> dict[str, Any]:
    """The port's first merge-on-read upsert of `change` onto `start_id`, `repeat` times: its key index folder
    removed before each (untimed, with the previous keeping done), so each builds the index from a full scan."""

    def reset() -> None:
        index_keeper.wait_all()
        port.rollback(to=start_id)
        folder = key_index_store.folder_of(port.table())
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)

    timing = clocked(lambda: port.write(change, mode="upsert", write_mode="merge-on-read"), repeat, setup=reset)
    outcomes = timing.pop("returned")
    return summary(timing, outcomes)


def build_limit(port: Any, repeat: int) -> dict[str, Any]:
    """What any full build of the key index must at least do: read the port's key columns (pyarrow, two files at a
    time) and sort one 64-bit value per row (NumPy's vector sort of random values, as the hashes of a compound key
    are; an index also needs the permutation, which costs more)."""
    import pyarrow.parquet as pq

    table = port.table()
    paths = [task.file.file_path for task in table.scan().plan_files()]
    rows = sum(pq.ParquetFile(table.io.new_input(path).open()).metadata.num_rows for path in paths)
    values = np.random.default_rng(0).integers(0, 2**63, rows, dtype=np.int64).view(np.uint64)
    scratch: list[np.ndarray] = []

    def read(path: str) -> pa.Table:
        with table.io.new_input(path).open() as stream:
            return pq.read_table(stream, columns=KEYS)

    def run() -> None:
        with ThreadPoolExecutor(2) as pool:
            assert sum(read.num_rows for read in pool.map(read, paths)) == rows
        scratch[0].sort()

    def fresh() -> None:
        scratch[:] = [values.copy()]

    timing = clocked(run, repeat, setup=fresh)
    timing.pop("returned")
    return timing


def keeping_ab(port: Any, change: pa.Table, start_id: int, repeat: int) -> dict[str, Any]:
    """The steady-state upsert with the key index kept inline vs in the background, alternating (ABAB…)."""
    outcomes: dict[str, list[Any]] = {mode: [] for mode in KEEPINGS}
    walls: dict[str, list[float]] = {mode: [] for mode in KEEPINGS}
    cpus: dict[str, list[float]] = {mode: [] for mode in KEEPINGS}
    port.write(change, mode="upsert", write_mode="merge-on-read")  # the index of start_id exists
    for _ in range(repeat):
        for mode in KEEPINGS:
            index_keeper.wait_all()
            port.rollback(to=start_id)
            keeping(mode)
            wall, cpu = time.perf_counter(), time.process_time()
            outcomes[mode].append(port.write(change, mode="upsert", write_mode="merge-on-read"))
            walls[mode].append(time.perf_counter() - wall)
            cpus[mode].append(time.process_time() - cpu)
    keeping("background")
    index_keeper.wait_all()
    return {
        mode: summary(
            {
                "median_s": statistics.median(walls[mode]),
                "min_s": min(walls[mode]),
                "runs_s": walls[mode],
                "cpu_median_s": statistics.median(cpus[mode]),
                "cpu_runs_s": cpus[mode],
            },
            outcomes[mode],
        )
        for mode in KEEPINGS
    }


def back_to_back(
    port: Any, base: pa.Table, share: float, first_new: int, start_id: int, repeat: int, length: int = 5
) -> dict[str, Any]:
    """Series of `length` upserts, each on top of the previous one with no wait in between (a CDC stream's steady
    state: the next lookup pays any keeping still running), for each of `SERIES_KEEPINGS` in turn (ABCABC…). Per
    mode: the median upsert's wall and CPU time, and each series' total until its last keeping is done."""
    size = int(base.num_rows * share)
    changes = [change_of(base, size, seed=100 + n, first_new=first_new + (n + 1) * size) for n in range(length)]
    found: dict[str, dict[str, list[Any]]] = {
        mode: {"walls": [], "cpus": [], "totals": [], "out": []} for mode in SERIES_KEEPINGS
    }
    port.write(changes[0], mode="upsert", write_mode="merge-on-read")  # the index of start_id exists
    for _ in range(repeat):
        for mode in SERIES_KEEPINGS:
            index_keeper.wait_all()
            port.rollback(to=start_id)
            keeping(mode)
            began = time.perf_counter()
            for change in changes:
                wall, cpu = time.perf_counter(), time.process_time()
                found[mode]["out"].append(port.write(change, mode="upsert", write_mode="merge-on-read"))
                found[mode]["walls"].append(time.perf_counter() - wall)
                found[mode]["cpus"].append(time.process_time() - cpu)
            index_keeper.wait_all()
            found[mode]["totals"].append(time.perf_counter() - began)
    keeping("background")
    return {
        mode: {
            **summary(
                {
                    "median_s": statistics.median(got["walls"]),
                    "min_s": min(got["walls"]),
                    "runs_s": got["walls"],
                    "cpu_median_s": statistics.median(got["cpus"]),
                    "cpu_runs_s": got["cpus"],
                },
                got["out"],
            ),
            "length": length,
            "series_total_median_s": statistics.median(got["totals"]),
            "lookup_median_s": statistics.median(o.phases.get("key lookup", 0.0) for o in got["out"]),
            "wait_median_s": statistics.median(o.phases.get("key index wait", 0.0) for o in got["out"]),
        }
        for mode, got in found.items()
    }


def bench_size(
    rows: int,
    share: float,
    root: Path,
    repeat: int,
    upserts: int,
    pyiceberg_timeout: float | None,
    reads_only: bool = False,
    reads: bool = True,
    series_length: int = 5,
) -> dict[str, Any]:
    load_before = os.getloadavg()
    base = lineitem(rows)
    first_new = int(pc.max(base["l_orderkey"]).as_py()) + 1
    if reads_only:
        return {"base_rows": rows, "reads": bench_reads(root, base, rows, share, upserts, first_new, repeat)}
    change = change_of(base, int(rows * share), seed=1, first_new=first_new)
    clustered = change_of(base, int(rows * share), seed=1, first_new=first_new, clustered=True)
    limit = fastest_limit(change, root, repeat)
    port = new_port(root, f"upsert_{rows}")
    start_id = port.write(base).snapshot_id
    first = first_upserts(port, change, start_id, repeat)  # each builds the key index of start_id
    first_limit = build_limit(port, repeat)
    mor = merge_on_read(port, change, start_id, repeat, warm=False)
    mor_rows = port.latest().to_arrow().num_rows
    ab = keeping_ab(port, change, start_id, repeat)
    series = back_to_back(port, base, share, first_new, start_id, repeat, series_length)
    mor_clustered = merge_on_read(port, clustered, start_id, repeat)
    gated_port = new_port(root, f"gated_{rows}", GATE_YAML)
    gated = merge_on_read(gated_port, change, gated_port.write(base).snapshot_id, repeat)
    outcomes: dict[str, Any] = {}

    def copy_on_write() -> None:
        outcomes["copy-on-write"] = port.write(change, mode="upsert", write_mode="copy-on-write")

    cow = timed(copy_on_write, repeat, setup=lambda: port.rollback(to=start_id))
    cow_rows = port.latest().to_arrow().num_rows
    result: dict[str, Any] = {
        "base_rows": rows,
        "upsert_rows": change.num_rows,
        "changed_rows": change.num_rows // 2,
        "limit_changed_rows_parquet": limit,
        "meshlake_merge_on_read": mor,
        "meshlake_merge_on_read_first": first,
        "limit_first_build": first_limit,
        "keeping_ab": ab,
        "back_to_back": series,
        "meshlake_merge_on_read_clustered": mor_clustered,
        "meshlake_merge_on_read_gated": gated,
        "meshlake_copy_on_write": cow,
        "rows_after": {"merge-on-read": mor_rows, "copy-on-write": cow_rows, "expected": rows + change.num_rows // 2},
        "delete_files_added": mor["delete_files_added"],
        "files_rewritten_by_copy_on_write": outcomes["copy-on-write"].files_deleted,
        "ratio_mor_to_limit": mor["median_s"] / limit["median_s"],
        "ratio_back_to_back_to_limit": series["background"]["median_s"] / limit["median_s"],
        "ratio_first_to_limit": first["median_s"] / limit["median_s"],
        "ratio_first_to_build_limit": first["median_s"] / first_limit["median_s"],
        "ratio_clustered_to_limit": mor_clustered["median_s"] / limit["median_s"],
        "ratio_gated_to_limit": gated["median_s"] / limit["median_s"],
        "speedup_mor_vs_cow": cow["median_s"] / mor["median_s"],
    }
    result["meets_targets"] = result["ratio_mor_to_limit"] <= 3 and result["speedup_mor_vs_cow"] >= 5
    if pyiceberg_timeout is not None:
        result["pyiceberg_upsert"] = run_pyiceberg_upsert(root, port, base, change, pyiceberg_timeout)
    result["load_average"] = {"before": load_before[0], "after": os.getloadavg()[0]}
    if reads:
        result["reads"] = bench_reads(root, base, rows, share, upserts, first_new, repeat)
    return result


def bench_reads(
    root: Path, base: pa.Table, rows: int, share: float, upserts: int, first_new: int, repeat: int
) -> dict[str, Any]:
    """Q1 on DuckDB and Polars after `upserts` merge-on-read upserts (read by time travel to that snapshot) and
    after compaction, one engine at a time, its reads alternating (`alternating`). DuckDB twice: on a connection
    of `lake.duckdb()` (meshlake's extension loaded where it can be built: the default) and on one that refuses
    unsigned extensions (the SQL path, the fallback). Then each path's first read of the pending snapshot, its
    row mask or kept positions dropped before each run (`first_reads`)."""
    import duckdb

    from meshlake.maintenance.compact import Options, compact
    from meshlake.query.native import build
    from meshlake.query.native.masks import loaded, native_mode

    build.scan_extension_path()  # compiled now (once per machine), not aside while the first connections filter
    port = new_port(root, f"reads_{rows}")
    port.write(base)
    size = int(rows * share)
    for index in range(upserts):
        port.write(
            change_of(base, size, seed=10 + index, first_new=first_new + index * size),
            mode="upsert",
            write_mode="merge-on-read",
        )
    plan = port.latest().plan
    pending = {
        "data_files": len(plan.tasks),
        "delete_files": len({d.path for t in plan.tasks for d in t.position_deletes}),
    }
    lake = port.lake
    pending_id = port.latest().snapshot_id
    answer = lake.sql(Q1).fetchall()
    polars_answer = q1_polars(port)
    _, done = compact(
        lake.catalog,
        port.table(),
        product_version="1.0.0",
        run_id="bench",
        apply=True,
        options=Options(deleted_share=0.0),
    )
    assert not port.latest().plan.has_deletes
    # Connected after the compaction: a connection's views stay on the snapshots they were first planned at.
    native_con = lake.duckdb()  # a connection of meshlake's own: the extensions loaded when they can be
    with setting(build.SETTING, "filter"):
        filter_con = lake.duckdb()  # meshlake's C extension only: the deletes tested in a filter above the scan
    sql_con = lake.duckdb(duckdb.connect())  # DuckDB's defaults refuse unsigned extensions: the SQL path
    native = {
        "loaded": loaded(native_con),
        "mode": native_mode(native_con),
        "unavailable": build.unavailable_reason(),
        "scan_unavailable": build.scan_unavailable_reason(),
    }
    if loaded(sql_con):
        raise RuntimeError("the SQL path's connection loaded meshlake's extension: it would time the native path")
    if native_mode(filter_con) == "scan":
        raise RuntimeError("the filter connection loaded meshlake_scan: it would time the scan twice")
    pending_sql = Q1.replace(f"FROM {ADDRESS}", f"FROM {ADDRESS} AT (VERSION => {pending_id})")
    reads: dict[str, Callable[[], Any]] = {
        "duckdb_pending": lambda: lake.sql(pending_sql, con=native_con).fetchall(),
        "duckdb_compacted": lambda: lake.sql(Q1, con=native_con).fetchall(),
        "duckdb_filter_pending": lambda: lake.sql(pending_sql, con=filter_con).fetchall(),
        "duckdb_filter_compacted": lambda: lake.sql(Q1, con=filter_con).fetchall(),
        "duckdb_sql_pending": lambda: lake.sql(pending_sql, con=sql_con).fetchall(),
        "duckdb_sql_compacted": lambda: lake.sql(Q1, con=sql_con).fetchall(),
        "polars_pending": lambda: q1_polars(port, pending_id),
        "polars_compacted": lambda: q1_polars(port),
    }
    timings: dict[str, dict[str, Any]] = {}
    for engine in ENGINES:  # one engine at a time: a Polars read right after a DuckDB query is slower
        timings |= alternating({name: read for name, read in reads.items() if name.startswith(engine)}, repeat)
    firsts = first_reads(reads, port.table(), pending_id, repeat)
    same = all(_close(answer, reads[name]()) for name in reads if name.startswith("duckdb")) and all(
        _close(polars_answer.rows(), reads[name]().rows()) for name in reads if name.startswith("polars")
    )
    ratios = {
        f"ratio_{path}{cpu}": timings[f"{path}_pending"][f"{kind}median_s"]
        / timings[f"{path}_compacted"][f"{kind}median_s"]
        for path in ("duckdb", "duckdb_filter", "duckdb_sql", "polars")
        for cpu, kind in (("", ""), ("_cpu", "cpu_"))
    }
    return {
        "upserts": upserts,
        "pending": pending,
        "files_compacted": done.files_before,
        "native": native,
        "duckdb_iceberg_extension": extension_reads(port, pending_id, answer, repeat),
        **timings,
        **firsts,
        **ratios,
        "load_average": os.getloadavg(),
        "same_answers": same,
    }


@contextmanager
def setting(name: str, value: str) -> Iterator[None]:
    """The environment variable `name` set to `value` inside the block, as it was after it."""
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            del os.environ[name]
        else:
            os.environ[name] = before


def first_reads(reads: dict[str, Callable[[], Any]], table: Any, pending_id: int, repeat: int) -> dict[str, Any]:
    """The first read of the pending snapshot on each path that keeps something per snapshot, timed with that
    dropped before each run: DuckDB's native path builds its row mask (`masks.ensure`, from the delete files' kept
    positions, dropped too), Polars reads its delete files and checks its data files' row counts again. Also the
    mask build alone (`build_mask` of the snapshot's files, its delete files read afresh)."""
    from meshlake.query.native.masks import build_mask, masks
    from meshlake.query.plan import cached_plan
    from meshlake.query.polars_scan import delete_positions, row_counts

    def forget() -> None:
        masks.clear()
        delete_positions.clear()
        row_counts.clear()

    tasks = cached_plan(table, pending_id).tasks
    found = {
        "duckdb_first_read": clocked(reads["duckdb_pending"], repeat, setup=forget),
        "duckdb_mask_build": clocked(lambda: build_mask(tasks), repeat, setup=forget),
        "polars_first_read": clocked(reads["polars_pending"], repeat, setup=forget),
    }
    for timing in found.values():
        timing.pop("returned")
    return found


def extension_reads(port: Any, pending_id: int, answer: list[tuple[Any, ...]], repeat: int) -> dict[str, Any]:
    """The same Q1 on the same two snapshots read by DuckDB's own iceberg extension, the peer that applies the
    deletes inside its Parquet scan (`benchmarks.iceberg_extension_peer`), or why it did not run."""
    missing = iceberg_extension_peer.unavailable()
    if missing:
        print(f"DuckDB's iceberg extension not timed: {missing}")
        return {"skipped": missing}
    found = iceberg_extension_peer.time_snapshots(
        port.table().metadata_location,
        {"pending": pending_id, "compacted": port.latest().snapshot_id},
        Q1.replace(f"FROM {ADDRESS}", "FROM {scan}"),
        repeat,
    )
    timings = found["timings"]
    same = all(_close_text(rows, answer) for rows in found["answers"].values())
    return {
        "duckdb_version": found["duckdb_version"],
        "pending": timings["pending"],
        "compacted": timings["compacted"],
        "ratio": timings["pending"]["median_s"] / timings["compacted"]["median_s"],
        "ratio_cpu": timings["pending"]["cpu_median_s"] / timings["compacted"]["cpu_median_s"],
        "same_answers": same,
    }


def _close_text(text_rows: list[list[str]], rows: list[tuple[Any, ...]]) -> bool:
    """Rows another process printed as text against this process's rows: floats within `_close`'s tolerance,
    everything else by its text."""

    def same(text: str, value: Any) -> bool:
        if isinstance(value, float):
            return abs(float(text) - value) <= 1e-6 * max(1.0, abs(value))
        return text == str(value)

    return len(text_rows) == len(rows) and all(
        len(t) == len(r) and all(same(v, x) for v, x in zip(t, r, strict=True))
        for t, r in zip(text_rows, rows, strict=True)
    )


ENGINES = ("duckdb", "polars")
"""The read paths timed, one after the other, each engine's pending and compacted reads alternating."""


def alternating(functions: dict[str, Callable[[], Any]], repeat: int) -> dict[str, dict[str, Any]]:
    """Each function run once untimed (the views and plans are made once, as for any later query; the first timed
    run follows its own kind, not what ran before), then timed `repeat` times, one run of each per round in the
    same order (A B A B …), so that the load of the machine weighs on all alike: `clocked`'s keys without what the
    runs returned."""
    walls: dict[str, list[float]] = {name: [] for name in functions}
    cpus: dict[str, list[float]] = {name: [] for name in functions}
    names = list(functions)
    for function in functions.values():
        function()
    for _ in range(repeat):
        for name in names:
            wall, cpu = time.perf_counter(), time.process_time()
            functions[name]()
            walls[name].append(time.perf_counter() - wall)
            cpus[name].append(time.process_time() - cpu)
    return {name: runs_summary(walls[name], cpus[name]) for name in names}


def _close(a: list[tuple[Any, ...]], b: list[tuple[Any, ...]]) -> bool:
    if len(a) != len(b):
        return False
    for row_a, row_b in zip(a, b, strict=True):
        for x, y in zip(row_a, row_b, strict=True):
            if isinstance(x, float) and isinstance(y, float):
                if abs(x - y) > 1e-6 * max(1.0, abs(x)):
                    return False
            elif x != y:
                return False
    return True


def ms(timing: dict[str, Any]) -> str:
    return f"{timing['median_s'] * 1000:,.0f} ms"


def ms_cpu(timing: dict[str, Any]) -> str:
    cpu = timing.get("cpu_median_s")
    return ms(timing) + (f" ({cpu * 1000:,.0f} ms)" if cpu is not None else "")


def ratio(reads: dict[str, Any], engine: str) -> str:
    cpu = reads.get(f"ratio_{engine}_cpu")
    return f"{reads[f'ratio_{engine}']:.2f} ×" + (f" ({cpu:.2f} ×)" if cpu is not None else "")


def first_upsert(size: dict[str, Any]) -> str:
    first, build = size.get("meshlake_merge_on_read_first"), size.get("limit_first_build")
    if first is None:
        return "— | —"
    against = "—" if build is None else f"{wall_cpu(build)} ({size['ratio_first_to_build_limit']:.2f} ×)"
    return f"{wall_cpu(first)} ({size['ratio_first_to_limit']:.2f} ×) | {against}"


def wall_cpu(timing: dict[str, Any]) -> str:
    return f"{ms(timing)} ({timing['cpu_median_s'] * 1000:,.0f} ms CPU)"


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "# Upserts: merge-on-read vs copy-on-write vs the changed rows as Parquet",
        "",
        f"`{results['command']}` — {results['machine']['cpus']} CPUs, pyiceberg {results['machine']['pyiceberg']}, "
        f"DuckDB {results['machine']['duckdb']}, Polars {results['machine']['polars']}; median of "
        f"{results['repeat']}. Each upsert: {results['share']:.0%} of the port's rows, half changed (spread over the "
        "port), half new. Wall time, with this process's CPU time in brackets (DuckDB's and Arrow's threads "
        "included).",
        "",
        "| port rows | upsert rows | upserted rows as Parquet (the limit) | merge-on-read | MoR / limit "
        "| first upsert (builds the key index) | a build's limit (first / it) | clustered keys "
        "| gated (4 expectations) | copy-on-write | CoW / MoR | pyiceberg `upsert` | load avg |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for size in results["sizes"]:
        if "upsert_rows" not in size:  # --reads-only
            continue
        pyiceberg = size.get("pyiceberg_upsert")
        if pyiceberg is None:
            peer = "not run"
        elif pyiceberg.get("finished"):
            peer = f"{pyiceberg['median_s'] * 1000:,.0f} ms"
        elif pyiceberg.get("failed"):
            peer = f"crashed (exit {pyiceberg['exit_code']}) after {pyiceberg['elapsed_s']:.1f} s"
        else:
            peer = f"cut off after {pyiceberg['timeout_s']:.0f} s"
        load = size["load_average"]
        lines.append(
            f"| {size['base_rows']:,} | {size['upsert_rows']:,} | {wall_cpu(size['limit_changed_rows_parquet'])} "
            f"| {wall_cpu(size['meshlake_merge_on_read'])} | {size['ratio_mor_to_limit']:.2f} × "
            f"| {first_upsert(size)} "
            f"| {wall_cpu(size['meshlake_merge_on_read_clustered'])} ({size['ratio_clustered_to_limit']:.2f} ×) "
            f"| {wall_cpu(size['meshlake_merge_on_read_gated'])} ({size['ratio_gated_to_limit']:.2f} ×) "
            f"| {ms(size['meshlake_copy_on_write'])} | {size['speedup_mor_vs_cow']:.1f} × | {peer} "
            f"| {load['before']:.1f} → {load['after']:.1f} |"
        )
    upserted = [size for size in results["sizes"] if "upsert_rows" in size]
    if not upserted:  # --reads-only: no upsert table
        del lines[-3:]
    else:
        lines += [
            "",
            "Targets: merge-on-read ≤ 3 × the limit and ≥ 5 × faster than copy-on-write. Merge-on-read, clustered "
            "and gated: the steady state, where the key index exists for the base snapshot (each timed upsert is "
            "rolled back to it); the first upsert of a port has no index and builds it from its full scan of the "
            "keys (its index removed before each run). A build's limit: the port's key columns read by pyarrow "
            "(two files at a time) and one vector sort of a 64-bit value per row, what any build must do. The limit "
            "is the fastest raw writer of the upserted rows: "
            + ", ".join(sorted({size["limit_changed_rows_parquet"]["writer"] for size in upserted}))
            + ".",
            "",
            "### Where a merge-on-read upsert's time goes (median seconds by phase, `WriteResult.phases`)",
            "",
            "`write rows` runs in a thread alongside `key lookup`, so the phases add up to more than the wall time. "
            "`key index`: bringing the key index to the committed snapshot, after the commit: on the keeper thread "
            "after the write returned (not in its wall time) unless kept inline.",
            "",
            "| port rows | keys | " + " | ".join(PHASES) + " | wall |",
            "|---:|---|" + "---:|" * (len(PHASES) + 1),
        ]
    for size in upserted:
        for label, key in (
            ("spread, first (builds the index)", "meshlake_merge_on_read_first"),
            ("spread", "meshlake_merge_on_read"),
            ("clustered", "meshlake_merge_on_read_clustered"),
            ("spread, gated", "meshlake_merge_on_read_gated"),
        ):
            timing = size.get(key)
            if timing is None:  # results from before the key index
                continue
            cells = [f"{timing['phases'][p] * 1000:,.0f} ms" if p in timing["phases"] else "—" for p in PHASES]
            lines.append(f"| {size['base_rows']:,} | {label} | " + " | ".join(cells) + f" | {ms(timing)} |")
    if any("back_to_back" in size for size in upserted):
        lines += [
            "",
            "### Keeping the key index inline vs in the background (alternating, ABAB…)",
            "",
            "`returned`: the upsert's latency (rolled back to the same base each time, the previous keeping done); "
            "`keeping`: the key index keeping's own time (inside the write when inline, on the keeper thread after "
            "the write returned when in the background). `back-to-back`: a series of "
            "upserts each on top of the previous one, no wait in between, so a lookup pays any keeping still running "
            "(a change-data-capture stream's steady state): the median upsert, its wait for the previous keeping "
            "(alongside `write rows`: it waits until the keeping has the index in memory, not for its saving), its "
            "key lookup, and the series' total until its last keeping is done. `background, no wait`: the next "
            "lookup does not wait for the keeping: it takes the index from memory if it is ready, else catches up "
            "from the ancestor's index itself.",
            "",
            "| port rows | keeping | returned | keeping | back-to-back upsert | / limit | its wait | its key lookup "
            "| series total |",
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
    for size in upserted:
        if "back_to_back" not in size:
            continue
        limit_s = size["limit_changed_rows_parquet"]["median_s"]
        for mode in SERIES_KEEPINGS:
            series = size["back_to_back"][mode]
            single = size["keeping_ab"].get(mode)
            returned = f"{wall_cpu(single)} | {single['key_index_s'] * 1000:,.0f} ms" if single else "— | —"
            lines.append(
                f"| {size['base_rows']:,} | {mode} | {returned} "
                f"| {wall_cpu(series)} | {series['median_s'] / limit_s:.2f} × "
                f"| {series['wait_median_s'] * 1000:,.0f} ms | {series['lookup_median_s'] * 1000:,.0f} ms "
                f"| {series['series_total_median_s'] * 1000:,.0f} ms ({series['length']} upserts) |"
            )
    lines += reads_markdown(results)
    lines.append("")
    return "\n".join(lines)


READ_PATHS = (
    ("duckdb", "DuckDB, meshlake's extension (the default)", "duckdb_first_read"),
    ("duckdb_filter", "DuckDB, `MESHLAKE_NATIVE_DELETES=filter`", None),
    ("duckdb_sql", "DuckDB, SQL (the fallback)", None),
    ("polars", "Polars", "polars_first_read"),
)
"""The rows of the reads table: the results' key prefix, its label, the key of its first read (None: no state kept
per snapshot)."""


def reads_markdown(results: dict[str, Any]) -> list[str]:
    """The table of reads with pending deletes against the compacted read: a row per read path and port size."""
    sized = [size for size in results["sizes"] if "reads" in size]
    if not sized:
        return []
    lines = [
        "",
        "## Reading with pending deletes vs after compaction (TPC-H Q1-like aggregate)",
        "",
        "DuckDB reads through `lake.sql` on three connections of `lake.duckdb()`: meshlake's own, where its DuckDB "
        "extensions are loaded (the default: the position deletes become one row mask per scan, applied inside "
        "DuckDB's Parquet scan by `meshlake_scan`, a C++ extension built for DuckDB 2.0.1; with "
        "`MESHLAKE_NATIVE_DELETES=filter`, or another DuckDB, tested in a filter above the scan by the C "
        "extension's `meshlake_kept`, timed on a third connection; both are compiled on first use and kept in the "
        "cache folder, `MESHLAKE_NATIVE_DELETES=off` turns them off), and one with DuckDB's defaults, "
        "which refuse unsigned extensions, so the deletes are applied in SQL (anti joins, or masks from "
        "`bitstring_agg` joined by file index: the fallback where no C compiler is found or on a caller's connection "
        "that does not allow unsigned extensions). Each engine is timed on its own, DuckDB first, then Polars (a "
        "Polars read right after a DuckDB query ran ~30 % slower): its reads alternate (pending, compacted, …, after "
        "one untimed read of each); median wall time, with the CPU time of all of the process's threads in "
        "brackets, and the ratio of the medians of each; the load average when the reads ended. `first read`: the "
        "pending snapshot's first read, with what the path keeps per snapshot dropped before each run (DuckDB's row "
        "mask and the delete files' positions it is built from, after it the mask build alone; Polars' kept "
        "positions and checked row counts); later reads of the snapshot reuse them.",
        "",
        "| port rows | upserts | data / delete files pending | read path | pending | compacted | ratio (CPU) "
        "| first read | same answers | load average |",
        "|---:|---:|---|---|---:|---:|---:|---:|---|---|",
    ]
    for size in sized:
        reads = size["reads"]
        load = reads.get("load_average")
        for path, label, first_key in READ_PATHS:
            if f"{path}_pending" not in reads:  # results from before the SQL path had a row of its own
                continue
            first = reads.get(first_key) if first_key else None
            native = path == "duckdb" and reads.get("native", {}).get("loaded")
            built = reads.get("duckdb_mask_build") if native else None  # no mask where the extension was not loaded
            first_cell = "—" if first is None else ms_cpu(first) + (f"; mask {ms(built)}" if built else "")
            lines.append(
                f"| {size['base_rows']:,} | {reads['upserts']} | {reads['pending']['data_files']} / "
                f"{reads['pending']['delete_files']} | {path_label(reads, path, label)} "
                f"| {ms_cpu(reads[f'{path}_pending'])} "
                f"| {ms_cpu(reads[f'{path}_compacted'])} | {ratio(reads, path)} | {first_cell} "
                f"| {reads['same_answers']} | {' / '.join(f'{x:.1f}' for x in load) if load else '—'} |"
            )
    lines += ["", "Target: a read with pending deletes ≤ 1.3 × the compacted read."]
    return lines + extension_markdown(results)


def path_label(reads: dict[str, Any], path: str, label: str) -> str:
    """`label`, unless the DuckDB path ran without meshlake's extension (not loaded, or results from before it)."""
    native = reads.get("native")
    if path != "duckdb" or (native is not None and native["loaded"]):
        return label
    if native is None:
        return "DuckDB"
    return f"DuckDB, extension not loaded ({native['unavailable'] or 'refused'}): SQL"


def extension_markdown(results: dict[str, Any]) -> list[str]:
    """The peer's table: DuckDB's iceberg extension on the same snapshots, next to meshlake's DuckDB ratio."""
    peers = [(size, size["reads"].get("duckdb_iceberg_extension")) for size in results["sizes"] if "reads" in size]
    ran = [(size, peer) for size, peer in peers if peer and "skipped" not in peer]
    if not ran:
        reasons = {peer["skipped"] for _, peer in peers if peer and "skipped" in peer}
        return ["", f"DuckDB's own iceberg extension was not timed: {'; '.join(sorted(reasons)) or 'not run'}."]
    version = ran[0][1]["duckdb_version"]
    lines = [
        "",
        f"### The peer: DuckDB's own iceberg extension (DuckDB {version}) on the same two snapshots",
        "",
        "It applies the position deletes inside its Parquet scan; it is not built for the DuckDB 2.x meshlake uses, "
        "so it runs in the interop venv (`.ci/interop-venv.sh`) in a child process, its two reads alternating the "
        "same way. Its ratio is the yardstick for meshlake's DuckDB ratio: the same deletes over the same files.",
        "",
        "| port rows | extension pending | extension compacted | extension ratio (CPU) | meshlake DuckDB ratio (CPU) "
        "| same answers |",
        "|---:|---:|---:|---:|---:|---|",
    ]
    for size, peer in ran:
        reads = size["reads"]
        lines.append(
            f"| {size['base_rows']:,} | {ms_cpu(peer['pending'])} | {ms_cpu(peer['compacted'])} "
            f"| {peer['ratio']:.2f} × ({peer['ratio_cpu']:.2f} ×) | {ratio(reads, 'duckdb')} | {peer['same_answers']} |"
        )
    return lines


def run(
    sizes: list[int],
    *,
    share: float = 0.01,
    repeat: int = 3,
    upserts: int = 10,
    pyiceberg_timeout: float | None = 120.0,
    command: str = "python -m benchmarks.bench_upsert",
    name: str = "upsert",
    reads_only: bool = False,
    reads: bool = True,
    series_length: int = 5,
) -> dict[str, Any]:
    """Run the benchmark for each port size; returns the results (also written to benchmarks/results/<name>).
    `series_length`: upserts per back-to-back series (every fifth upsert of a series merges its key index's small
    runs into a middle run: `key_merge.SMALL_RUNS`)."""
    root = fresh_dir("upsert")
    os.environ["MESHLAKE_CACHE_DIR"] = str(root / "cache")  # this run's key indexes and manifests, not the user's
    # Timed upserts are rolled back to their base again and again: keep more manifests than a pipeline moving
    # forward needs, so that the base's index is never pruned by the manifests of the runs after it.
    kept, key_index_store.KEEP = key_index_store.KEEP, 64
    measured: list[dict[str, Any]] = []
    results: dict[str, Any] = {
        "machine": machine(),
        "command": command,
        "share": share,
        "repeat": repeat,
        "sizes": measured,
    }
    try:
        for rows in sizes:
            measured.append(
                bench_size(rows, share, root, repeat, upserts, pyiceberg_timeout, reads_only, reads, series_length)
            )
            save(name, results, markdown(results))  # each size as it is done: a later failure keeps it
    finally:
        key_index_store.KEEP = kept
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000000,6000000")
    parser.add_argument("--share", type=float, default=0.01)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--upserts", type=int, default=10)
    parser.add_argument("--pyiceberg-timeout", type=float, default=120.0)
    parser.add_argument("--skip-pyiceberg", action="store_true")
    parser.add_argument("--skip-reads", action="store_true", help="skip the reads with pending deletes")
    parser.add_argument("--name", default="upsert", help="results file name under benchmarks/results/")
    parser.add_argument("--reads-only", action="store_true", help="only the reads with pending deletes")
    parser.add_argument(
        "--series-length",
        type=int,
        default=5,
        help="upserts per back-to-back series (every fifth merges its key index's small runs)",
    )
    parser.add_argument(
        "--key-type", choices=["decimal", "uuid"], help="only a port keyed by one such column: index vs scan lookups"
    )
    args = parser.parse_args()
    import sys

    if args.key_type:
        from benchmarks import upsert_key_types

        upsert_key_types.run(
            [int(size) for size in args.sizes.split(",")],
            args.key_type,
            share=args.share,
            repeat=args.repeat,
            command="python -m benchmarks.bench_upsert " + " ".join(sys.argv[1:]),
            name=args.name if args.name != "upsert" else f"upsert_{args.key_type}",
        )
        return

    run(
        [int(size) for size in args.sizes.split(",")],
        share=args.share,
        repeat=args.repeat,
        upserts=args.upserts,
        pyiceberg_timeout=None if args.skip_pyiceberg else args.pyiceberg_timeout,
        command="python -m benchmarks.bench_upsert " + " ".join(sys.argv[1:]),
        name=args.name,
        reads_only=args.reads_only,
        reads=not args.skip_reads,
        series_length=args.series_length,
    )


if __name__ == "__main__":
    main()
