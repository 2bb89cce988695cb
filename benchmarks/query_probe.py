"""Read-engine probe: in-place scans against the raw Parquet floor, and attaching a 1,000-port mesh.

    python benchmarks/query_probe.py [--rows 5000000] [--ports 1000] [--repeat 5]

Part 1 reads one table (5 files) with the same query three ways per engine: the raw floor
(`read_parquet(files)` / `pl.scan_parquet(files)`), meshlake's planned relation / lazy frame, and (DuckDB)
the `logistics.shipments.daily`-style view. The target is meshlake <= 1.05 x floor + 20 ms. It also times
planning and the merge-on-read path (position + equality deletes), which has no floor to meet.

Part 2 creates `--ports` tables in a SQLite catalog and times `MeshViews.attach()` (target < 2 s), the
first query of one port (load + plan + bind) and `refresh()`.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import sqlalchemy as sa
from pyiceberg.catalog.sql import SqlCatalog

from benchmarks.common import fresh_dir, machine, save, timed
from meshlake.query.plan import PlanCache, plan_scan
from meshlake.query.polars_scan import to_polars
from meshlake.query.sql import scan_sql
from meshlake.query.views import MeshViews, PortEntry
from tests.query.conftest import commit_files, equality_deletes, position_deletes

QUERY = "SELECT k, sum(v) AS sv FROM {t} WHERE x > 900000 GROUP BY k"


def polars_query(frame: pl.LazyFrame) -> pl.DataFrame:
    return frame.filter(pl.col("x") > 900_000).group_by("k").agg(pl.col("v").sum().alias("sv")).collect()


def data(rows: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "k": pa.array(rng.integers(0, 1000, rows), pa.int32()),
            "v": pa.array(rng.random(rows)),
            "x": pa.array(rng.integers(0, 1_000_000, rows), pa.int64()),
            "s": pa.array(np.char.add("s", rng.integers(0, 100_000, rows).astype(str))),
        }
    )


def ratio(result: dict[str, Any], floor: dict[str, Any]) -> str:
    target = 1.05 * floor["median_s"] + 0.020
    verdict = "ok" if result["median_s"] <= target else "OVER"
    return f"{result['median_s'] / floor['median_s']:.3f}x ({verdict}, target {target * 1000:.0f} ms)"


def read_speed(rows: int, repeat: int) -> dict[str, Any]:
    root = fresh_dir("query_probe")
    catalog = SqlCatalog("b", uri=f"sqlite:///{root}/c.db", warehouse=f"file://{root}/wh")
    catalog.create_namespace("logistics.shipments")
    table = catalog.create_table("logistics.shipments.daily", schema=data(1, 0).schema)
    for seed in range(5):
        table.append(data(rows // 5, seed + 1).cast(table.schema().as_arrow()))
    snapshot = table.current_snapshot().snapshot_id
    plan = plan_scan(table, snapshot)
    files = [t.path.removeprefix("file://") for t in plan.tasks]
    con = duckdb.connect()
    con.execute("SET threads = 2")
    raw_sql = "read_parquet([" + ", ".join(f"'{f}'" for f in files) + "])"
    ml_sql = f"({scan_sql(plan)})"
    views = MeshViews(
        con,
        ports=lambda: [PortEntry("logistics.shipments.daily", table.metadata_location)],
        load=lambda e: catalog.load_table(e.address),
    ).attach()

    def duck(relation: str) -> Any:
        return lambda: con.sql(QUERY.format(t=relation)).fetchall()

    out: dict[str, Any] = {"rows": rows, "files": len(files)}
    cache = PlanCache()
    cases = {
        "duckdb_raw_read_parquet": duck(raw_sql),
        "duckdb_meshlake_relation": duck(ml_sql),
        "duckdb_meshlake_view": duck("logistics.shipments.daily"),
        "polars_raw_scan_parquet": lambda: polars_query(pl.scan_parquet(files)),
        "polars_meshlake_to_polars": lambda: polars_query(to_polars(plan)),
        "plan_cold_load_table_plus_plan": lambda: plan_scan(catalog.load_table("logistics.shipments.daily"), snapshot),
        "plan_cached": lambda: cache.get(table, snapshot),
    }
    for name, function in cases.items():
        function()  # warm-up
        out[name] = timed(function, repeat)
    same = lambda rows: sorted((k, round(sv, 6)) for k, sv in rows)  # noqa: E731 (sum order varies)
    assert same(duck(raw_sql)()) == same(duck(ml_sql)())

    # Merge-on-read: 1% of one file's rows by position, 500 keys by equality.
    first = plan.tasks[0].path
    deletes = [
        position_deletes(table, [(first, i) for i in range(0, rows // 5, 100)]),
        equality_deletes(table, {"k": list(range(500))}),
    ]
    commit_files(table, deletes=deletes)
    table = catalog.load_table("logistics.shipments.daily")
    mor = plan_scan(table, table.current_snapshot().snapshot_id)
    mor_sql = f"({scan_sql(mor)})"
    for name, function in {
        "duckdb_with_deletes": duck(mor_sql),
        "polars_with_deletes": lambda: polars_query(to_polars(mor)),
    }.items():
        function()
        out[name] = timed(function, repeat)
    expected = len(polars_query(to_polars(mor)))
    assert len(duck(mor_sql)()) == expected == 500
    views.close()
    con.close()
    return out


def attach_speed(ports: int, repeat: int) -> dict[str, Any]:
    root = fresh_dir("query_probe_mesh")
    catalog = SqlCatalog("m", uri=f"sqlite:///{root}/c.db", warehouse=f"file://{root}/wh")
    schema = pa.schema([("id", pa.int64()), ("name", pa.string())])
    start = time.perf_counter()
    addresses = []
    for n in range(ports):
        namespace = f"d{n // 100}.p{n // 10}"
        if n % 10 == 0:
            catalog.create_namespace(namespace)
        address = f"{namespace}.port{n % 10}"
        table = catalog.create_table(address, schema=schema)
        if n < 20:
            table.append(pa.table({"id": [n], "name": [f"n{n}"]}, schema=table.schema().as_arrow()))
        addresses.append(address)
    build_s = time.perf_counter() - start

    query = sa.text("SELECT table_namespace, table_name, metadata_location FROM iceberg_tables")

    def list_ports() -> list[PortEntry]:
        with catalog.engine.connect() as conn:
            return [PortEntry(f"{ns}.{t}", loc) for ns, t, loc in conn.execute(query)]

    out: dict[str, Any] = {"ports": ports, "build_catalog_s": build_s}
    out["list_ports"] = timed(list_ports, repeat)
    entries = list_ports()
    attach_times, first_query, second_query, refresh_times = [], [], [], []
    for _ in range(repeat):
        con = duckdb.connect()
        start = time.perf_counter()
        views = MeshViews(con, ports=lambda: entries, load=lambda e: catalog.load_table(e.address), plans=PlanCache())
        views.attach()
        attach_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        con.sql("SELECT count(*) FROM d0.p0.port0").fetchall()
        first_query.append(time.perf_counter() - start)
        start = time.perf_counter()
        con.sql("SELECT count(*) FROM d0.p0.port0").fetchall()
        second_query.append(time.perf_counter() - start)
        start = time.perf_counter()
        views.refresh()
        refresh_times.append(time.perf_counter() - start)
        views.close()
        con.close()
    for name, values in {
        "attach": attach_times,
        "first_query_load_plan_bind": first_query,
        "second_query": second_query,
        "refresh_unchanged": refresh_times,
    }.items():
        out[name] = {"median_s": statistics.median(values), "min_s": min(values), "runs_s": values}
    out["attach_profile"] = _profile_attach(entries, catalog)
    return out


def _profile_attach(entries: list[PortEntry], catalog: SqlCatalog) -> dict[str, float]:
    """Where attach time goes: validation, DuckDB DDL (ATTACH/SCHEMA/VIEW binding incl. the UDF)."""
    con = duckdb.connect()
    views = MeshViews(con, ports=lambda: entries, load=lambda e: catalog.load_table(e.address))
    start = time.perf_counter()
    views._register()
    registered = time.perf_counter()
    listed = views._list()
    validated = time.perf_counter()
    views._ports = {}
    views._create(listed)
    created = time.perf_counter()
    views.close()
    con.close()
    return {
        "register_udf_s": registered - start,
        "list_and_validate_addresses_s": validated - registered,
        "duckdb_ddl_s": created - validated,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--ports", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    read = read_speed(args.rows, args.repeat)
    mesh = attach_speed(args.ports, args.repeat)
    ms = lambda r: f"{r['median_s'] * 1000:.1f} ms (min {r['min_s'] * 1000:.1f})"  # noqa: E731
    lines = [
        "# Read-engine probe",
        "",
        f"{read['rows']:,} rows in {read['files']} files; `{QUERY.format(t='t')}`; median of {args.repeat} runs.",
        "",
        "| case | median (min) | vs floor |",
        "|---|---|---|",
        f"| DuckDB raw `read_parquet(files)` (floor) | {ms(read['duckdb_raw_read_parquet'])} | 1.000x |",
        f"| DuckDB meshlake relation | {ms(read['duckdb_meshlake_relation'])} | "
        f"{ratio(read['duckdb_meshlake_relation'], read['duckdb_raw_read_parquet'])} |",
        f"| DuckDB meshlake view (`ml_scan` UDF) | {ms(read['duckdb_meshlake_view'])} | "
        f"{ratio(read['duckdb_meshlake_view'], read['duckdb_raw_read_parquet'])} |",
        f"| DuckDB with deletes (1% pos + 500 eq keys) | {ms(read['duckdb_with_deletes'])} | "
        f"{read['duckdb_with_deletes']['median_s'] / read['duckdb_raw_read_parquet']['median_s']:.2f}x |",
        f"| Polars raw `scan_parquet(files)` (floor) | {ms(read['polars_raw_scan_parquet'])} | 1.000x |",
        f"| Polars meshlake `to_polars(plan)` | {ms(read['polars_meshlake_to_polars'])} | "
        f"{ratio(read['polars_meshlake_to_polars'], read['polars_raw_scan_parquet'])} |",
        f"| Polars with deletes | {ms(read['polars_with_deletes'])} | "
        f"{read['polars_with_deletes']['median_s'] / read['polars_raw_scan_parquet']['median_s']:.2f}x |",
        f"| plan: load_table + plan (cold) | {ms(read['plan_cold_load_table_plus_plan'])} | |",
        f"| plan: cached | {ms(read['plan_cached'])} | |",
        "",
        f"## Mesh of {mesh['ports']} ports (SQLite catalog; built in {mesh['build_catalog_s']:.1f} s)",
        "",
        "| step | median (min) |",
        "|---|---|",
        f"| list ports + metadata locations (1 SQL query) | {ms(mesh['list_ports'])} |",
        f"| `MeshViews.attach()` | {ms(mesh['attach'])} |",
        f"| first query of a port (load + plan + bind) | {ms(mesh['first_query_load_plan_bind'])} |",
        f"| same query again | {ms(mesh['second_query'])} |",
        f"| `refresh()` with nothing changed | {ms(mesh['refresh_unchanged'])} |",
        "",
        "attach profile: " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in mesh["attach_profile"].items()),
        "",
    ]
    save("query_probe", {"machine": machine(), "read": read, "mesh": mesh}, "\n".join(lines))


if __name__ == "__main__":
    main()
