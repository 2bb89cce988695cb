"""Maintenance: what compacting a port of many small appends buys readers, and what `maintain` costs.

    python -m benchmarks.bench_maintain [--appends 500] [--rows 2000] [--repeat 5]

A lineitem-like port (unpartitioned, automatic compaction off) gets `--appends` appends of `--rows` rows each.
Before and after `lake.maintain(apply=True)` (which compacts it), it measures:

- planning: `plan_snapshot` of the published snapshot, cold (plan cache and manifest readers cleared),
  median of `--repeat`;
- a DuckDB query through `lake.duckdb()` (TPC-H Q1 shape): cold = a fresh lake object and connection with
  nothing planned, median of `--repeat`; warm = median of `--repeat` on one connection after a warm-up;
- data files and manifests of the published snapshot.

It also times `maintain` itself: a dry run, then the applied run, with its per-step seconds. Results must be
the same before and after (checked). No target: this documents the effect; compaction must not change rows.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from pathlib import Path
from typing import Any

import meshlake as ml
from benchmarks.common import LINEITEM_YAML, NO_AUTO_COMPACT, fresh_dir, lineitem, machine, save
from meshlake.query.plan import clear_plan_cache, plan_snapshot

ADDRESS = "bench.tpch.lineitem"
QUERY = f"""
SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty, sum(l_extendedprice) AS sum_base_price,
       sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price, avg(l_discount) AS avg_disc, count(*) AS n
FROM {ADDRESS}
WHERE l_shipdate <= DATE '1998-09-02'
GROUP BY ALL ORDER BY ALL
"""


def build(home: Path, appends: int, rows: int) -> ml.Lake:
    descriptor = home.parent / "lineitem.yaml"
    descriptor.write_text(LINEITEM_YAML + NO_AUTO_COMPACT)  # maintain compacts here, not each append
    lake = ml.connect(home=str(home))
    port = lake.deploy(descriptor).port("lineitem")
    started = time.perf_counter()
    for index in range(appends):
        port.write(lineitem(rows, seed=index, first_order=index * rows))
        if (index + 1) % 100 == 0:
            print(f"  {index + 1} appends, {time.perf_counter() - started:.1f} s", flush=True)
    return lake


def planning_ms(home: Path, repeat: int) -> float:
    table = ml.connect(home=str(home)).port(ADDRESS).table()
    times = []
    for _ in range(repeat):
        clear_plan_cache()
        started = time.perf_counter()
        plan_snapshot(table.metadata, table.io, table.metadata.current_snapshot_id)
        times.append((time.perf_counter() - started) * 1000)
    clear_plan_cache()
    return statistics.median(times)


def query(home: Path, repeat: int) -> dict[str, Any]:
    cold, answers = [], []
    for _ in range(repeat):
        clear_plan_cache()
        started = time.perf_counter()
        con = ml.connect(home=str(home)).duckdb()
        answers.append(con.sql(QUERY).fetchall())
        cold.append((time.perf_counter() - started) * 1000)
        con.close()
    con = ml.connect(home=str(home)).duckdb()
    con.sql(QUERY).fetchall()
    warm = []
    for _ in range(repeat):
        started = time.perf_counter()
        answers.append(con.sql(QUERY).fetchall())
        warm.append((time.perf_counter() - started) * 1000)
    con.close()
    assert all(same(answer, answers[0]) for answer in answers)
    return {"cold_ms": statistics.median(cold), "warm_ms": statistics.median(warm), "answer": answers[0]}


def same(left: list[tuple[Any, ...]], right: list[tuple[Any, ...]]) -> bool:
    """Equal rows, floats to 1e-9 relative: parallel sums differ in the last bits from run to run."""
    if len(left) != len(right):
        return False
    for a_row, b_row in zip(left, right, strict=True):
        for a, b in zip(a_row, b_row, strict=True):
            close = math.isclose(a, b, rel_tol=1e-9) if isinstance(a, float) and isinstance(b, float) else a == b
            if not close:
                return False
    return True


def shape(home: Path) -> dict[str, int]:
    table = ml.connect(home=str(home)).port(ADDRESS).table()
    snapshot = table.metadata.current_snapshot()
    assert snapshot is not None
    plan = plan_snapshot(table.metadata, table.io, snapshot.snapshot_id)
    return {
        "data_files": len(plan.tasks),
        "manifests": len(snapshot.manifests(table.io)),
        "rows": sum(task.record_count for task in plan.tasks),
        "snapshots": len(table.metadata.snapshots),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--appends", type=int, default=500)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    root = fresh_dir("maintain")
    home = root / "lake"
    print(f"writing {args.appends} appends of {args.rows} rows")
    started = time.perf_counter()
    lake = build(home, args.appends, args.rows)
    write_s = time.perf_counter() - started

    before: dict[str, Any] = {
        "shape": shape(home),
        "planning_ms": planning_ms(home, args.repeat),
        "query": query(home, args.repeat),
    }
    started = time.perf_counter()
    dry = lake.maintain()
    dry_s = time.perf_counter() - started
    started = time.perf_counter()
    applied = lake.maintain(apply=True)
    apply_s = time.perf_counter() - started
    assert applied.ok, applied.errors
    after: dict[str, Any] = {
        "shape": shape(home),
        "planning_ms": planning_ms(home, args.repeat),
        "query": query(home, args.repeat),
    }
    assert same(after["query"]["answer"], before["query"]["answer"]), "compaction changed the query's answer"
    assert after["shape"]["rows"] == before["shape"]["rows"]

    port = applied.port(ADDRESS)
    results = {
        "machine": machine(),
        "appends": args.appends,
        "rows_per_append": args.rows,
        "repeat": args.repeat,
        "write_s": write_s,
        "load_average_1m": {"start": load_before, "end": os.getloadavg()[0]},
        "before": _strip(before),
        "after": _strip(after),
        "maintain": {
            "dry_run_s": dry_s,
            "apply_s": apply_s,
            "apply_steps_s": port.seconds,
            "dry_run_steps_s": dry.port(ADDRESS).seconds,
            "report": port.to_dict() | {"orphan_files": len(port.orphan_files)},
        },
    }
    save("maintain", results, _markdown(results))


def _strip(measured: dict[str, Any]) -> dict[str, Any]:
    query_result = {k: v for k, v in measured["query"].items() if k != "answer"}
    return {**measured, "query": query_result}


def _markdown(r: dict[str, Any]) -> str:
    b, a, m = r["before"], r["after"], r["maintain"]
    compacted = m["report"]["files_compacted"]

    def row(name: str, before: float, after: float, unit: str = "ms") -> str:
        ratio = before / after if after else float("inf")
        return f"| {name} | {before:,.1f} {unit} | {after:,.1f} {unit} | {ratio:.1f}× |"

    lines = [
        "# Maintenance benchmark",
        "",
        f"`python -m benchmarks.bench_maintain --appends {r['appends']} --rows {r['rows_per_append']} "
        f"--repeat {r['repeat']}` on {r['machine']['cpus']} CPUs, {r['machine']['when']} "
        f"(pyiceberg {r['machine']['pyiceberg']}, duckdb {r['machine']['duckdb']}); 1-minute load average "
        f"{r['load_average_1m']['start']:.1f} at the start, {r['load_average_1m']['end']:.1f} at the end.",
        "",
        f"A lineitem-like port, {r['appends']} appends of {r['rows_per_append']:,} rows "
        f"({b['shape']['rows']:,} rows; writing took {r['write_s']:.1f} s), then `lake.maintain(apply=True)`.",
        "",
        "| measure | before compaction | after | speed-up |",
        "|---|---|---|---|",
        row("planning, cold (median)", b["planning_ms"], a["planning_ms"]),
        row("DuckDB Q1-shape query via `lake.duckdb()`, cold (median)", b["query"]["cold_ms"], a["query"]["cold_ms"]),
        row("same query, warm (median)", b["query"]["warm_ms"], a["query"]["warm_ms"]),
        f"| data files of the published snapshot | {b['shape']['data_files']} | {a['shape']['data_files']} | |",
        f"| manifests of the published snapshot | {b['shape']['manifests']} | {a['shape']['manifests']} | |",
        "",
        f"`maintain`: dry run {m['dry_run_s']:.2f} s (steps: {_steps(m['dry_run_steps_s'])}); "
        f"applied {m['apply_s']:.2f} s (steps: {_steps(m['apply_steps_s'])}). "
        f"Compaction rewrote {compacted['before']} files into {compacted['after']}; "
        f"the query's answer is identical before and after.",
        "",
    ]
    return "\n".join(lines)


def _steps(steps: dict[str, float]) -> str:
    return ", ".join(f"{name} {seconds:.2f} s" for name, seconds in steps.items())


if __name__ == "__main__":
    main()
