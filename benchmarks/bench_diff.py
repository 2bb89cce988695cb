"""Diff of two snapshots of a port where 1 % of the rows changed: files read, and speed against a brute-force join.

    python -m benchmarks.bench_diff [--rows 10000000] [--files 100] [--runs 3] [--keep]

One port `bench.diffs.orders` (id long key, amount double, status string, qty int, at timestamptz) is written in
`--files` appends of equal size (one data file each, ids ascending; automatic compaction off, so they stay so).
Snapshot A is its head. Then 1 % of the rows change: half of them are updated in place (`upsert` of the newest
ids: corrections hit recent records, which sit in the newest files), half are new rows (an append). Snapshot B is
the head after that.

* **diff**: `port.diff(A, B)` (reads only the data files the snapshots do not share), median of `--runs`;
* **brute force**: DuckDB reads both whole snapshots in place and computes the same counts with a FULL OUTER
  JOIN on the key (`IS DISTINCT FROM` on every column), median of `--runs`;
* **files read**: the share of the two snapshots' data and delete files the diff read.

Both must agree on the counts (checked). A second scenario, **scattered**, upserts 1 % of the rows spread over
every file: meshlake's writes are copy-on-write, so every data file is rewritten and the diff reads them all —
it shows the bound of the method, not a target. Targets (issue 14): files read < 5 % and diff ≥ 10 × faster than
the brute-force join, for the clustered 1 % change. Writes benchmarks/results/diff.json and diff.md.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

import meshlake as ml
from benchmarks.common import fresh_dir, machine, save

DESCRIPTOR = """\
apiVersion: meshlake/v1
domain: bench
name: diffs
version: 1.0.0
owner: {team: bench}
outputs:
  - name: orders
    columns:
      - {name: id, type: long, required: true}
      - {name: amount, type: double}
      - {name: status, type: string}
      - {name: qty, type: int}
      - {name: at, type: timestamptz}
    primary_key: [id]
    auto_compact: false
"""
STATUSES = np.array(["placed", "paid", "shipped", "delivered", "returned"])


def rows(ids: np.ndarray, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    n = len(ids)
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "amount": pa.array(np.round(rng.uniform(1, 500, n), 2)),
            "status": pa.array(STATUSES[rng.integers(0, len(STATUSES), n)]),
            "qty": pa.array(rng.integers(1, 20, n).astype(np.int32)),
            "at": pa.array((1_700_000_000_000_000 + ids * 1_000_000).astype("datetime64[us]")).cast(
                pa.timestamp("us", tz="UTC")
            ),
        }
    )


def brute_force(a: Any, b: Any) -> tuple[int, int, int]:
    """Added, removed and changed rows by a FULL OUTER JOIN of both whole snapshots, read in place by DuckDB."""
    con = duckdb.connect()
    try:
        changed = " OR ".join(f"a.{c} IS DISTINCT FROM b.{c}" for c in ("amount", "status", "qty", "at"))
        ((added, removed, changes),) = con.execute(
            f"""SELECT count(*) FILTER (a.id IS NULL), count(*) FILTER (b.id IS NULL),
                       count(*) FILTER (a.id IS NOT NULL AND b.id IS NOT NULL AND ({changed}))
                FROM ({a.sql()}) a FULL OUTER JOIN ({b.sql()}) b ON a.id = b.id"""
        ).fetchall()
    finally:
        con.close()
    return int(added), int(removed), int(changes)


def measure(port: Any, a: int, b: int, runs: int) -> dict[str, Any]:
    diff_times, brute_times = [], []
    found = None
    for _ in range(runs):
        start = time.perf_counter()
        found = port.diff(a, b, samples=5)
        diff_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        expected = brute_force(port.at(a), port.at(b))
        brute_times.append(time.perf_counter() - start)
    assert found is not None
    assert (found.added, found.removed, found.changed) == expected, (found.to_dict(), expected)
    diff_s, brute_s = statistics.median(diff_times), statistics.median(brute_times)
    return {
        "added": found.added,
        "removed": found.removed,
        "changed": found.changed,
        "files_read": found.files_read,
        "files_total": found.files_total,
        "files_read_share": found.files_read / found.files_total,
        "diff_s": diff_s,
        "brute_force_s": brute_s,
        "speedup": brute_s / diff_s,
        "diff_runs_s": diff_times,
        "brute_force_runs_s": brute_times,
    }


def build(lake: ml.Lake, total: int, files: int, seed: int) -> tuple[Any, int]:
    port = lake.port("bench.diffs.orders")
    per_file = total // files
    for i in range(files):
        port.write(rows(np.arange(i * per_file, (i + 1) * per_file), seed + i))
    head = port.latest().snapshot_id
    assert head is not None
    return port, head


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-scattered", action="store_true")
    args = parser.parse_args()
    results: dict[str, Any] = {"machine": machine(), "rows": args.rows, "files": args.files, "runs": args.runs}
    home = fresh_dir("diff")
    (home / "p").mkdir()
    (home / "p" / "dataproduct.yaml").write_text(DESCRIPTOR)
    lake = ml.connect(home=str(home / ".meshlake"))
    lake.deploy(home / "p")
    start = time.perf_counter()
    port, a = build(lake, args.rows, args.files, seed=1)
    results["build_s"] = time.perf_counter() - start
    change = args.rows // 100
    updated = np.arange(args.rows - change // 2, args.rows)  # the newest ids: the newest file(s)
    port.write(rows(updated, seed=10_000), mode="upsert")
    port.write(rows(np.arange(args.rows, args.rows + change - len(updated)), seed=10_001))
    b = port.latest().snapshot_id
    assert b is not None
    results["clustered"] = measure(port, a, b, args.runs)
    if not args.skip_scattered:
        rng = np.random.default_rng(7)
        scattered = np.sort(rng.choice(args.rows, change, replace=False))
        port.write(rows(scattered, seed=20_000), mode="upsert")
        c = port.latest().snapshot_id
        assert c is not None
        results["scattered"] = measure(port, b, c, 1)
    save("diff", results, markdown(results))


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "# Diff of two snapshots (issue 14)",
        "",
        f"{results['rows']:,} rows in {results['files']} data files (one append each), 1 % of the rows changed. "
        f"Machine: {results['machine']['cpus']} CPUs shared with other jobs, Python {results['machine']['python']}, "
        f"DuckDB {results['machine']['duckdb']}; median of {results['runs']} runs. "
        "`python -m benchmarks.bench_diff`.",
        "",
        "| scenario | added | removed | changed | files read | share | diff | brute-force join | speed-up |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in ("clustered", "scattered"):
        r = results.get(name)
        if r is None:
            continue
        lines.append(
            f"| {name} | {r['added']:,} | {r['removed']:,} | {r['changed']:,} | {r['files_read']} of {r['files_total']}"
            f" | {r['files_read_share']:.1%} | {r['diff_s']:.3f} s | {r['brute_force_s']:.3f} s | {r['speedup']:.1f}× |"
        )
    lines += [
        "",
        "*clustered*: half of the 1 % updated in place (an upsert of the newest ids, which live in the newest file), "
        "half appended. Targets: files read < 5 %, diff ≥ 10 × faster than the join. *scattered*: 1 % upserted "
        "across every file: copy-on-write rewrites every file, so the diff reads them all (the method's bound).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
