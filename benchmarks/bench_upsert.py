"""Upserts at the limit: merge-on-read vs copy-on-write vs writing only the changed rows, and reads with deletes.

    python -m benchmarks.bench_upsert [--sizes 1000000,6000000] [--share 0.01] [--repeat 3] [--upserts 10]
                                      [--pyiceberg-timeout 120] [--skip-pyiceberg] [--reads-only] [--name upsert]

For each port size, one upsert of `share` of the rows (half changed rows spread over the port, half new keys),
side by side in one run:

- the limit: `pq.write_table` of only the changed rows (zstd), what any writer must at least do;
- meshlake `write(mode="upsert", write_mode="merge-on-read")`: new rows + position deletes;
- meshlake `write(mode="upsert", write_mode="copy-on-write")`: every touched file rewritten;
- pyiceberg's `upsert` (in a child process, cut off after `--pyiceberg-timeout`; crashes are reported).

Then `--upserts` such upserts in a row (merge-on-read) and a TPC-H Q1-like aggregate on the DuckDB
(`lake.sql`) and Polars (`to_polars`) paths, with the pending deletes and after compaction folded them in:
wall and CPU time (of every thread of the process) and the load average, as the machine may be shared.
`--reads-only` runs only this part.

Targets (issue 18): merge-on-read upsert ≤ 3 × the changed-rows Parquet write and ≥ 5 × faster than
copy-on-write; a read with pending deletes ≤ 1.3 × the compacted read. `run(...)` returns the results dict so
`bench_write` can include it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from benchmarks.bench_write import new_port, run_pyiceberg_upsert
from benchmarks.common import fresh_dir, lineitem, machine, save, timed

ADDRESS = "bench.tpch.lineitem"
Q1 = f"""
SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty, sum(l_extendedprice) AS sum_base_price,
       sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price, avg(l_quantity) AS avg_qty, count(*) AS n
FROM {ADDRESS} WHERE l_shipdate <= DATE '1998-09-02' GROUP BY ALL ORDER BY ALL
"""


def change_of(base: pa.Table, rows: int, seed: int, first_new: int) -> pa.Table:
    """Half changed rows of `base` (random, spread over the port), half new orders from `first_new`."""
    rng = np.random.default_rng(seed)
    picked = np.sort(rng.choice(base.num_rows, rows // 2, replace=False))
    changed = base.take(pa.array(picked))
    changed = changed.set_column(4, "l_quantity", pc.add(changed["l_quantity"], 1.0))
    new = lineitem(rows - changed.num_rows, seed=seed + 1000, first_order=first_new)
    return pa.concat_tables([changed, new])


def q1_polars(port: Any) -> Any:
    import datetime

    import polars as pl

    frame = port.latest().to_polars()
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


def bench_size(
    rows: int,
    share: float,
    root: Path,
    repeat: int,
    upserts: int,
    pyiceberg_timeout: float | None,
    reads_only: bool = False,
) -> dict[str, Any]:
    base = lineitem(rows)
    first_new = int(pc.max(base["l_orderkey"]).as_py()) + 1
    if reads_only:
        return {"base_rows": rows, "reads": bench_reads(root, base, rows, share, upserts, first_new, repeat)}
    change = change_of(base, int(rows * share), seed=1, first_new=first_new)
    limit_path = root / f"changed-{rows}.parquet"
    limit = timed(lambda: pq.write_table(change, limit_path, compression="zstd"), repeat)
    port = new_port(root, f"upsert_{rows}")
    start_id = port.write(base).snapshot_id
    outcomes: dict[str, Any] = {}

    def upsert(mode: str) -> None:
        outcomes[mode] = port.write(change, mode="upsert", write_mode=mode)

    rollback = lambda: port.rollback(to=start_id)  # noqa: E731
    mor = timed(lambda: upsert("merge-on-read"), repeat, setup=rollback)
    mor_rows = port.latest().to_arrow().num_rows
    cow = timed(lambda: upsert("copy-on-write"), repeat, setup=rollback)
    cow_rows = port.latest().to_arrow().num_rows
    result: dict[str, Any] = {
        "base_rows": rows,
        "upsert_rows": change.num_rows,
        "changed_rows": change.num_rows // 2,
        "limit_changed_rows_parquet": limit,
        "meshlake_merge_on_read": mor,
        "meshlake_copy_on_write": cow,
        "rows_after": {"merge-on-read": mor_rows, "copy-on-write": cow_rows, "expected": rows + change.num_rows // 2},
        "delete_files_added": outcomes["merge-on-read"].delete_files_added,
        "files_rewritten_by_copy_on_write": outcomes["copy-on-write"].files_deleted,
        "ratio_mor_to_limit": mor["median_s"] / limit["median_s"],
        "speedup_mor_vs_cow": cow["median_s"] / mor["median_s"],
    }
    result["meets_targets"] = result["ratio_mor_to_limit"] <= 3 and result["speedup_mor_vs_cow"] >= 5
    if pyiceberg_timeout is not None:
        result["pyiceberg_upsert"] = run_pyiceberg_upsert(root, port, base, change, pyiceberg_timeout)
    result["reads"] = bench_reads(root, base, rows, share, upserts, first_new, repeat)
    return result


def bench_reads(
    root: Path, base: pa.Table, rows: int, share: float, upserts: int, first_new: int, repeat: int
) -> dict[str, Any]:
    """Q1 on DuckDB and Polars after `upserts` merge-on-read upserts, then after compaction."""
    from meshlake.maintenance.compact import Options, compact

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
    lake.sql(Q1).fetchall()  # the views and the plan are made once, as for any later query
    q1_polars(port)
    duck_pending = timed_cpu(lambda: lake.sql(Q1).fetchall(), repeat)
    polars_pending = timed_cpu(lambda: q1_polars(port), repeat)
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
    lake.sql(Q1).fetchall()
    q1_polars(port)
    duck_compacted = timed_cpu(lambda: lake.sql(Q1).fetchall(), repeat)
    polars_compacted = timed_cpu(lambda: q1_polars(port), repeat)
    same = _close(answer, lake.sql(Q1).fetchall()) and _close(polars_answer.rows(), q1_polars(port).rows())
    return {
        "upserts": upserts,
        "pending": pending,
        "files_compacted": done.files_before,
        "duckdb_pending": duck_pending,
        "duckdb_compacted": duck_compacted,
        "polars_pending": polars_pending,
        "polars_compacted": polars_compacted,
        "ratio_duckdb": duck_pending["median_s"] / duck_compacted["median_s"],
        "ratio_polars": polars_pending["median_s"] / polars_compacted["median_s"],
        "ratio_duckdb_cpu": duck_pending["median_cpu_s"] / duck_compacted["median_cpu_s"],
        "ratio_polars_cpu": polars_pending["median_cpu_s"] / polars_compacted["median_cpu_s"],
        "load_average": os.getloadavg(),
        "same_answers": same,
    }


def timed_cpu(function: Callable[[], Any], repeat: int) -> dict[str, Any]:
    """`timed`, with the process's CPU time (all threads) of each run beside its wall time."""
    walls, cpus = [], []
    for _ in range(repeat):
        cpu, wall = time.process_time(), time.perf_counter()
        function()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return {
        "median_s": statistics.median(walls),
        "min_s": min(walls),
        "runs_s": walls,
        "median_cpu_s": statistics.median(cpus),
        "runs_cpu_s": cpus,
    }


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
    cpu = timing.get("median_cpu_s")
    return ms(timing) + (f" ({cpu * 1000:,.0f} ms)" if cpu is not None else "")


def ratio(reads: dict[str, Any], engine: str) -> str:
    cpu = reads.get(f"ratio_{engine}_cpu")
    return f"{reads[f'ratio_{engine}']:.2f} ×" + (f" ({cpu:.2f} ×)" if cpu is not None else "")


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "# Upserts: merge-on-read vs copy-on-write vs the changed rows as Parquet",
        "",
        f"`{results['command']}` — {results['machine']['cpus']} CPUs, pyiceberg {results['machine']['pyiceberg']}, "
        f"DuckDB {results['machine']['duckdb']}, Polars {results['machine']['polars']}; median of "
        f"{results['repeat']}. Each upsert: {results['share']:.0%} of the port's rows, half changed (spread over the "
        "port), half new.",
        "",
        "| port rows | upsert rows | changed rows as Parquet (the limit) | merge-on-read | copy-on-write "
        "| MoR / limit | CoW / MoR | pyiceberg `upsert` |",
        "|---:|---:|---:|---:|---:|---:|---:|---|",
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
        lines.append(
            f"| {size['base_rows']:,} | {size['upsert_rows']:,} | {ms(size['limit_changed_rows_parquet'])} "
            f"| {ms(size['meshlake_merge_on_read'])} | {ms(size['meshlake_copy_on_write'])} "
            f"| {size['ratio_mor_to_limit']:.2f} × | {size['speedup_mor_vs_cow']:.1f} × | {peer} |"
        )
    if any("upsert_rows" in size for size in results["sizes"]):
        lines += ["", "Targets: merge-on-read ≤ 3 × the limit and ≥ 5 × faster than copy-on-write."]
    else:  # --reads-only: no upsert table
        del lines[-3:]
    lines += [
        "",
        "## Reading with pending deletes vs after compaction (TPC-H Q1-like aggregate)",
        "",
        "Wall time (CPU time of all threads in brackets); the load average when the reads ended.",
        "",
        "| port rows | upserts | data / delete files pending | DuckDB pending | DuckDB compacted | ratio (CPU) "
        "| Polars pending | Polars compacted | ratio (CPU) | same answers | load average |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for size in results["sizes"]:
        reads = size["reads"]
        load = reads.get("load_average")
        lines.append(
            f"| {size['base_rows']:,} | {reads['upserts']} | {reads['pending']['data_files']} / "
            f"{reads['pending']['delete_files']} | {ms_cpu(reads['duckdb_pending'])} "
            f"| {ms_cpu(reads['duckdb_compacted'])} | {ratio(reads, 'duckdb')} | {ms_cpu(reads['polars_pending'])} "
            f"| {ms_cpu(reads['polars_compacted'])} | {ratio(reads, 'polars')} | {reads['same_answers']} "
            f"| {' / '.join(f'{x:.1f}' for x in load) if load else '—'} |"
        )
    lines += ["", "Target: a read with pending deletes ≤ 1.3 × the compacted read.", ""]
    return "\n".join(lines)


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
) -> dict[str, Any]:
    """Run the benchmark for each port size; returns the results (also written to benchmarks/results/<name>)."""
    root = fresh_dir("upsert")
    results: dict[str, Any] = {
        "machine": machine(),
        "command": command,
        "share": share,
        "repeat": repeat,
        "sizes": [bench_size(rows, share, root, repeat, upserts, pyiceberg_timeout, reads_only) for rows in sizes],
    }
    save(name, results, markdown(results))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000000,6000000")
    parser.add_argument("--share", type=float, default=0.01)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--upserts", type=int, default=10)
    parser.add_argument("--pyiceberg-timeout", type=float, default=120.0)
    parser.add_argument("--skip-pyiceberg", action="store_true")
    parser.add_argument("--name", default="upsert", help="results file name under benchmarks/results/")
    parser.add_argument("--reads-only", action="store_true", help="only the reads with pending deletes")
    args = parser.parse_args()
    import sys

    run(
        [int(size) for size in args.sizes.split(",")],
        share=args.share,
        repeat=args.repeat,
        upserts=args.upserts,
        pyiceberg_timeout=None if args.skip_pyiceberg else args.pyiceberg_timeout,
        command="python -m benchmarks.bench_upsert " + " ".join(sys.argv[1:]),
        name=args.name,
        reads_only=args.reads_only,
    )


if __name__ == "__main__":
    main()
