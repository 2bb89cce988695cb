"""DuckDB's own Iceberg reader as the peer of meshlake's reads with pending deletes.

DuckDB's `iceberg` extension applies position deletes inside its Parquet scan (a delete filter on the scan's
row numbers), where meshlake's views join them to `read_parquet`'s `file_row_number`. The extension is not built
for the DuckDB 2.x meshlake uses, so it runs where the interop tests run it: DuckDB 1.4.4 with the extension's PyPI
wheels, in the venv `.ci/interop-venv.sh` makes (`MESHLAKE_INTEROP_VENV`, default `.venv-interop`). A child
process there times the same query on both snapshots, alternating, and prints its timings as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from benchmarks.common import runs_summary

VENV = Path(os.environ.get("MESHLAKE_INTEROP_VENV", Path(__file__).resolve().parents[1] / ".venv-interop"))

_CHILD = r"""
import json, sys, time
import duckdb, duckdb_ext
job = json.load(sys.stdin)
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")  # a query over 2 s would draw the bar on stdout, before the JSON
duckdb_ext.init(con)
con.execute("LOAD avro")
con.execute("LOAD iceberg")
queries = {
    name: job["query"].replace("{scan}", f"iceberg_scan('{job['metadata']}', snapshot_from_id = {snapshot})")
    for name, snapshot in job["snapshots"].items()
}
answers = {name: con.execute(q).fetchall() for name, q in queries.items()}
walls = {name: [] for name in queries}
cpus = {name: [] for name in queries}
for _ in range(job["repeat"]):
    for name, q in queries.items():
        wall, cpu = time.perf_counter(), time.process_time()
        con.execute(q).fetchall()
        walls[name].append(time.perf_counter() - wall)
        cpus[name].append(time.process_time() - cpu)
print(json.dumps({
    "duckdb_version": duckdb.__version__,
    "walls": walls,
    "cpus": cpus,
    "answers": {name: [list(map(str, row)) for row in rows] for name, rows in answers.items()},
}))
"""


def unavailable() -> str | None:
    """Why the peer cannot run here, or None."""
    if not (VENV / "bin" / "python").exists():
        return f"no interop venv at {VENV.name} (make it with `bash .ci/interop-venv.sh`)"
    return None


def time_snapshots(metadata_location: str, snapshots: dict[str, int], query: str, repeat: int) -> dict[str, Any]:
    """`query` (with `{scan}` where the table goes) on each of `snapshots` of the table whose metadata file is
    `metadata_location`, read by DuckDB's iceberg extension in a child process, alternating `repeat` rounds after
    one untimed read of each: {"duckdb_version", "timings": {name: alternating's keys}, "answers": {name: rows as
    text}}. A failure of the child raises `RuntimeError` with its stderr."""
    path = metadata_location.removeprefix("file://")
    job = {"metadata": path, "snapshots": snapshots, "query": query, "repeat": repeat}
    done = subprocess.run(
        [str(VENV / "bin" / "python"), "-c", _CHILD],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"DuckDB's iceberg extension failed (exit {done.returncode}): {done.stderr[-2000:]}")
    lines = done.stdout.strip().splitlines()
    try:
        found = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError) as exc:
        raise RuntimeError(f"DuckDB's iceberg extension printed no timings ({exc}): {done.stdout[-2000:]!r}") from None
    timings = {name: runs_summary(found["walls"][name], found["cpus"][name]) for name in snapshots}
    return {"duckdb_version": found["duckdb_version"], "timings": timings, "answers": found["answers"]}
