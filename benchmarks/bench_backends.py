"""The same meshlake operations on every backend: what S3 (and each catalog) costs against the embedded lake.

    python -m benchmarks.bench_backends [--small-writes 20] [--rows 500000] [--repeat 5]

Backends: SQLite + local disk (the embedded default), PostgreSQL + local, SQLite + S3, PostgreSQL + S3 and
SeaweedFS's Iceberg REST catalog + S3. S3 is SeaweedFS on the same machine (no network latency: the
ratios show protocol and client costs, a floor for a real object store). Starts its own SeaweedFS; uses
the PostgreSQL server of `.ci/postgres.sh` (a database of its own).

Per backend: deploy; a 10-row append through the quality gate (median of `--small-writes`); a `--rows` row
append; reading the port to Arrow (DuckDB, in place); a DuckDB aggregate through `lake.duckdb()`, cold (new
connection) and warm (same connection, DuckDB's file cache); the same aggregate in Polars; `AT (VERSION =>)`.
Writes benchmarks/results/backends.json and .md.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from benchmarks.bench_reliability import Services
from benchmarks.common import fresh_dir, machine, save
from tests.backends import BACKENDS, backend_settings, product_descriptor, product_domain, unique_tag, write_descriptor

AGGREGATE = "SELECT count(*), sum(weight_kg), count(DISTINCT shipment_id) FROM {address}"


def big_batch(rows: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    return pa.table(
        {
            "shipment_id": pa.array([f"b{seed}-{i}" for i in range(rows)]),
            "shipped_at": pa.array(
                [start + timedelta(seconds=int(s)) for s in rng.integers(0, 5 * 86400, rows)],
                pa.timestamp("us", tz="UTC"),
            ),
            "weight_kg": pa.array(rng.uniform(0, 50, rows)),
        }
    )


def small_batch(seq: int) -> pa.Table:
    ids = [f"s{seq}-{i}" for i in range(10)]
    return pa.table(
        {
            "shipment_id": ids,
            "shipped_at": pa.array([datetime(2026, 11, 1, tzinfo=UTC)] * 10, pa.timestamp("us", tz="UTC")),
            "weight_kg": [1.0] * 10,
        }
    )


def median_ms(function: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def measure(name: str, services: Services, args: argparse.Namespace) -> dict[str, Any]:
    import meshlake as ml

    tag = unique_tag()
    root = fresh_dir(f"backends/{name}")
    settings = backend_settings(
        name, root=root, tag=tag, seaweedfs=services.seaweedfs, postgres_url=services.postgres_url
    )
    domain = product_domain(tag)
    address = f"{domain}.shipments.daily"
    lake = ml.connect(**settings)
    started = time.perf_counter()
    lake.deploy(write_descriptor(root / "product", product_descriptor(domain)))
    result: dict[str, Any] = {"deploy_ms": (time.perf_counter() - started) * 1000}
    port = lake.port(address)
    port.write(small_batch(-1))  # warm-up: the first write in a process sets up clients
    sequence = iter(range(1_000_000))
    result["append_10_rows_ms"] = median_ms(lambda: port.write(small_batch(next(sequence))), args.small_writes)
    batches = [big_batch(args.rows, seed) for seed in range(3)]
    result["append_big_ms"] = median_ms(lambda: port.write(batches.pop()), 3)
    snapshot = port.latest()
    result["rows"] = snapshot.rows
    result["files"] = len(snapshot.plan.files)
    result["to_arrow_ms"] = median_ms(lambda: port.latest().to_arrow(), args.repeat)
    query = AGGREGATE.format(address=address)
    result["duckdb_cold_ms"] = median_ms(lambda: _cold_duckdb(lake, query), args.repeat)
    con = lake.duckdb()
    con.sql(query).fetchall()
    result["duckdb_warm_ms"] = median_ms(lambda: con.sql(query).fetchall(), args.repeat)
    result["polars_ms"] = median_ms(lambda: _polars(port), args.repeat)
    first = port.history()[0].snapshot_id
    at = f"SELECT count(*) FROM {address} AT (VERSION => {first})"
    result["duckdb_at_version_ms"] = median_ms(lambda: lake.sql(at).fetchall(), args.repeat)
    return result


def warm_up() -> None:
    """Import and initialise what every backend shares, so the first backend measured pays no extra."""
    import meshlake as ml

    root = fresh_dir("backends/warm-up")
    lake = ml.connect(home=str(root / ".meshlake"))
    lake.deploy(write_descriptor(root / "product", product_descriptor()))
    port = lake.port("logistics.shipments.daily")
    port.write(small_batch(0))
    port.to_polars().collect()
    lake.sql("SELECT count(*) FROM logistics.shipments.daily").fetchall()


def _cold_duckdb(lake: Any, query: str) -> None:
    con = lake.duckdb()
    con.execute("SET enable_external_file_cache = false")
    try:
        con.sql(query).fetchall()
    finally:
        con.close()


def _polars(port: Any) -> None:
    import polars as pl

    port.latest().to_polars().select(pl.len(), pl.col("weight_kg").sum()).collect()


METRICS = [
    ("deploy_ms", "deploy"),
    ("append_10_rows_ms", "append 10 rows (gate + commit)"),
    ("append_big_ms", "append {rows} rows"),
    ("to_arrow_ms", "latest().to_arrow()"),
    ("duckdb_cold_ms", "DuckDB aggregate, cold"),
    ("duckdb_warm_ms", "DuckDB aggregate, warm"),
    ("polars_ms", "Polars aggregate"),
    ("duckdb_at_version_ms", "`AT (VERSION => …)` count"),
]


def markdown(results: dict[str, Any]) -> str:
    measured = results["backends"]
    base = measured.get("sqlite-local")
    names = list(measured)
    lines = [
        "# Backends: the same operations on every catalog and storage",
        "",
        f"Regenerate: `python -m benchmarks.bench_backends {results['command']}`. "
        f"{results['machine']['cpus']} cores, run {results['machine']['when']}. Median ms; in brackets the ratio to",
        "SQLite + local disk. S3 is SeaweedFS on the same machine, so this is the protocol and client cost only.",
        f"The port holds {next(iter(measured.values()))['rows']} rows after the writes.",
        "",
    ]
    for backend, reason in results["skipped"].items():
        lines.append(f"- **{backend} skipped**: {reason}")
    lines += ["", "| operation | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for key, label in METRICS:
        cells = []
        for name in names:
            value = measured[name][key]
            ratio = f" ({value / base[key]:.1f}×)" if base and name != "sqlite-local" and base[key] else ""
            cells.append(f"{value:.0f}{ratio}")
        lines.append(f"| {label.format(rows=results['rows'])} | " + " | ".join(cells) + " |")
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small-writes", type=int, default=20)
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=list(BACKENDS))
    args = parser.parse_args()
    services = Services(fresh_dir("backends"))
    results: dict[str, Any] = {
        "machine": machine(),
        "command": f"--small-writes {args.small_writes} --rows {args.rows} --repeat {args.repeat}",
        "rows": args.rows,
        "skipped": {},
        "backends": {},
    }
    try:
        warm_up()
        for name in args.backends:
            backend = BACKENDS[name]
            missing = [
                services.unavailable[k] for k in ("rest",) if backend.needs_seaweedfs and k in services.unavailable
            ]
            if backend.needs_postgres and "postgres" in services.unavailable:
                missing.append(services.unavailable["postgres"])
            if missing:
                results["skipped"][name] = "; ".join(missing)
                continue
            print(f"{name} …", flush=True)
            results["backends"][name] = measure(name, services, args)
    finally:
        services.stop()
    save("backends", results, markdown(results))


if __name__ == "__main__":
    main()
