"""Quality engines side by side: meshlake's native engine, Great Expectations on pandas, and the limit.

6 million generated rows in 6 Parquet files (as an Iceberg port's data files), 16 expectations of the
kinds a port declares (not-null keys, a unique and a compound unique key, ranges, sets, regexes, lengths,
a column pair, a mean, the row count). Timed, median of 5 interleaved runs after one warm-up, as wall time
and as process CPU time (all threads; the stable measure on a shared machine), plus peak RSS:

* native: `run_native` over `read_parquet([...])`, everything included (describe, compile, query);
* limit: one hand-written DuckDB SELECT computing every check's aggregate in a single pass;
* great_expectations: `run_great_expectations` (Arrow → pandas conversion + GE validation).

Every engine must agree on every verdict and unexpected count before anything is timed.

    python benchmarks/quality_probe.py [--rows 6000000] [--runs 5] [--skip-ge]

Writes benchmarks/results/quality_probe.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

from meshlake.quality.expectations import Expectation
from meshlake.quality.gx import run_great_expectations, to_pandas
from meshlake.quality.native import run_native

ROOT = Path(__file__).resolve().parent
WORK = ROOT / ".work" / "quality"
THREADS = os.cpu_count() or 2

EXPECTATIONS = [
    Expectation("expect_column_values_to_not_be_null", {"column": "id"}),
    Expectation("expect_column_values_to_not_be_null", {"column": "customer_id"}),
    Expectation("expect_column_values_to_be_unique", {"column": "id"}),
    Expectation("expect_compound_columns_to_be_unique", {"column_list": ["customer_id", "seq"]}),
    Expectation("expect_column_values_to_be_between", {"column": "weight_kg", "min_value": 0, "max_value": 50}),
    Expectation("expect_column_values_to_be_between", {"column": "price", "min_value": 0, "max_value": 1000}),
    Expectation(
        "expect_column_values_to_be_between",
        {"column": "shipped_at", "min_value": "2026-01-01T00:00:00Z", "max_value": "2027-01-01T00:00:00Z"},
    ),
    Expectation(
        "expect_column_values_to_be_in_set",
        {"column": "status", "value_set": ["new", "shipped", "delivered", "returned"]},
    ),
    Expectation("expect_column_values_to_not_be_in_set", {"column": "country", "value_set": ["XX", "ZZ"]}),
    Expectation(
        "expect_column_values_to_match_regex",
        {"column": "email", "regex": r"^[a-z0-9.]+@[a-z]+\.[a-z]{2,3}$"},
    ),
    Expectation("expect_column_values_to_match_regex", {"column": "code", "regex": r"^[A-Z]{2}\d{4}$"}),
    Expectation("expect_column_value_lengths_to_be_between", {"column": "code", "min_value": 6, "max_value": 6}),
    Expectation(
        "expect_column_pair_values_a_to_be_greater_than_b",
        {"column_A": "delivered_at", "column_B": "shipped_at", "or_equal": True},
    ),
    Expectation("expect_column_mean_to_be_between", {"column": "weight_kg", "min_value": 20, "max_value": 30}),
    Expectation("expect_table_row_count_to_be_between", {"min_value": 1, "max_value": 10_000_000}),
    Expectation(
        "expect_column_values_to_be_between",
        {"column": "seq", "min_value": 0, "max_value": 9, "mostly": 0.99},
    ),
]

# The limit: what a DuckDB expert writes by hand, one pass, same semantics (weight_kg has no NaN here).
LIMIT_SQL = """
SELECT
  count(*) AS n,
  count(id) AS id_nn,
  count(customer_id) AS cust_nn,
  count(DISTINCT id) AS id_distinct,
  count(DISTINCT (customer_id, seq)) AS key_distinct,
  count(weight_kg) AS w_nn,
  count(*) FILTER (WHERE NOT (weight_kg BETWEEN 0 AND 50)) AS w_bad,
  count(price) AS p_nn,
  count(*) FILTER (WHERE NOT (price BETWEEN 0 AND 1000)) AS p_bad,
  count(shipped_at) AS s_nn,
  count(*) FILTER (WHERE NOT (shipped_at >= TIMESTAMPTZ '2026-01-01 00:00:00+00'
                              AND shipped_at <= TIMESTAMPTZ '2027-01-01 00:00:00+00')) AS s_bad,
  count(status) AS st_nn,
  count(*) FILTER (WHERE status NOT IN ('new', 'shipped', 'delivered', 'returned')) AS st_bad,
  count(country) AS c_nn,
  count(*) FILTER (WHERE country IN ('XX', 'ZZ')) AS c_bad,
  count(email) AS e_nn,
  count(*) FILTER (WHERE NOT regexp_matches(email, '^[a-z0-9.]+@[a-z]+\\.[a-z]{2,3}$')) AS e_bad,
  count(code) AS code_nn,
  count(*) FILTER (WHERE NOT regexp_matches(code, '^[A-Z]{2}[0-9]{4}$')) AS code_bad,
  count(*) FILTER (WHERE length(code) <> 6) AS len_bad,
  count(*) FILTER (WHERE NOT (delivered_at IS NULL AND shipped_at IS NULL)) AS pair_n,
  count(*) FILTER (WHERE NOT (delivered_at IS NULL AND shipped_at IS NULL)
                   AND (delivered_at >= shipped_at) IS NOT TRUE) AS pair_bad,
  avg(weight_kg) AS w_mean,
  count(seq) AS seq_nn,
  count(*) FILTER (WHERE NOT (seq BETWEEN 0 AND 9)) AS seq_bad
FROM read_parquet($files)
"""


def generate(rows: int, files: int = 6) -> list[str]:
    """Write `rows` generated rows as `files` Parquet files (skipped when they exist)."""
    WORK.mkdir(parents=True, exist_ok=True)
    paths = [str(WORK / f"part-{i}-{rows}.parquet") for i in range(files)]
    if all(Path(p).exists() for p in paths):
        return paths
    con = duckdb.connect()
    per = rows // files
    for i, path in enumerate(paths):
        con.execute(
            f"""
            COPY (
              SELECT
                r AS id,
                r // 10 AS customer_id,
                (r % 10)::INTEGER AS seq,
                CASE WHEN r % 97 = 0 THEN NULL ELSE (hash(r) % 5000) / 100.0 END AS weight_kg,
                ((hash(r * 7) % 100000) / 100.0)::DECIMAL(10, 2) AS price,
                T0 + to_seconds((hash(r * 3) % 20000000)::BIGINT) AS shipped_at,
                T0 + to_seconds((hash(r * 3) % 20000000)::BIGINT)
                  + to_seconds((hash(r * 5) % 400000)::BIGINT) AS delivered_at,
                ['new', 'shipped', 'delivered', 'returned'][1 + (hash(r * 11) % 4)::INTEGER] AS status,
                ['DE', 'FR', 'NL', 'US', 'JP'][1 + (hash(r * 13) % 5)::INTEGER] AS country,
                'user' || (r % 100000)::VARCHAR || '@example.'
                  || ['com', 'org', 'de'][1 + (r % 3)::INTEGER] AS email,
                chr(65 + (r % 26)::INTEGER) || chr(65 + (r // 26 % 26)::INTEGER)
                  || lpad((r % 10000)::VARCHAR, 4, '0') AS code
              FROM range({i * per}, {(i + 1) * per}) t(r),
                   (SELECT TIMESTAMPTZ '2026-03-01 00:00:00+00' AS T0)
            ) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 122880)
            """
        )
    return paths


def cpu_seconds() -> float:
    """CPU time of this process, all threads: stable on a shared machine where wall time is not."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(engines: dict[str, Callable[[], Any]], runs: int) -> dict[str, dict[str, Any]]:
    """One warm-up each, then `runs` rounds with the engines interleaved (fair on a noisy machine)."""
    out = {name: {"result": fn(), "wall": [], "cpu": []} for name, fn in engines.items()}
    for _ in range(runs):
        for name, fn in engines.items():
            wall, cpu = time.perf_counter(), cpu_seconds()
            fn()
            out[name]["wall"].append(time.perf_counter() - wall)
            out[name]["cpu"].append(cpu_seconds() - cpu)
    for stats in out.values():
        stats["wall_s"] = statistics.median(stats["wall"])
        stats["cpu_s"] = statistics.median(stats["cpu"])
    return out


def verdicts(results: Any) -> list[tuple[str, int | None]]:
    return [(r.status, r.unexpected_count) for r in results]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=6_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-ge", action="store_true")
    args = parser.parse_args()

    paths = generate(args.rows)
    size_mb = sum(Path(p).stat().st_size for p in paths) / 1e6
    con = duckdb.connect()
    con.execute(f"SET threads = {THREADS}")
    listed = ", ".join(f"'{p}'" for p in paths)
    relation = f"(SELECT * FROM read_parquet([{listed}]))"
    load_before = os.getloadavg()[0]

    t = timed(
        {
            "native": lambda: run_native(con, relation_sql=relation, new_rows_sql=None, expectations=EXPECTATIONS),
            "limit": lambda: con.execute(LIMIT_SQL, {"files": paths}).fetchall(),
        },
        args.runs,
    )
    native, limit = t["native"], t["limit"]
    report: dict[str, Any] = {
        "rows": args.rows,
        "parquet_mb": round(size_mb, 1),
        "expectations": len(EXPECTATIONS),
        "threads": THREADS,
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
        "duckdb": duckdb.__version__,
        "runs": args.runs,
        "load_average_at_start": round(load_before, 1),
        "native": _summary(native),
        "limit": _summary(limit),
        "native_over_limit": {
            "wall": round(native["wall_s"] / limit["wall_s"], 2),
            "cpu": round(native["cpu_s"] / limit["cpu_s"], 2),
        },
        "peak_rss_mb_native_and_limit": round(peak_rss_mb()),
        "failed_expectations": [r.summary() for r in native["result"] if not r.success],
    }
    if not args.skip_ge:
        import great_expectations

        table = pq.read_table(paths)
        ge_runs = min(args.runs, 3) if args.rows > 1_000_000 else args.runs
        g = timed(
            {
                "to_pandas": lambda: to_pandas(table),
                "ge": lambda: run_great_expectations(table, EXPECTATIONS),
            },
            ge_runs,
        )
        ge = g["ge"]
        if verdicts(ge["result"]) != verdicts(native["result"]):
            pairs = zip(EXPECTATIONS, verdicts(native["result"]), verdicts(ge["result"]), strict=True)
            raise SystemExit(f"engines disagree: {[(e.type, a, b) for e, a, b in pairs if a != b]}")
        report |= {
            "great_expectations": great_expectations.__version__,
            "ge": _summary(ge),
            "ge_to_pandas_part": _summary(g["to_pandas"]),
            "ge_over_native": {
                "wall": round(ge["wall_s"] / native["wall_s"], 1),
                "cpu": round(ge["cpu_s"] / native["cpu_s"], 1),
            },
            "peak_rss_mb_after_ge": round(peak_rss_mb()),
        }
    report["load_average_at_end"] = round(os.getloadavg()[0], 1)
    out = ROOT / "results"
    out.mkdir(exist_ok=True)
    (out / "quality_probe.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (out / "quality_probe.md").write_text(_markdown(report, len(paths)), encoding="utf-8")
    print(json.dumps(report, indent=2))


def _summary(stats: dict[str, Any]) -> dict[str, Any]:
    return {
        "wall_s": round(stats["wall_s"], 3),
        "cpu_s": round(stats["cpu_s"], 3),
        "wall_runs": [round(x, 3) for x in stats["wall"]],
        "cpu_runs": [round(x, 3) for x in stats["cpu"]],
    }


def _markdown(r: dict[str, Any], files: int) -> str:
    lines = [
        "# Quality engines: native vs the limit vs Great Expectations",
        "",
        f"{r['rows']:,} rows, {r['parquet_mb']:.0f} MB Parquet in {files} files, {r['expectations']} expectations, "
        f"{r['threads']} threads, duckdb {r['duckdb']}; median of {r['runs']} interleaved runs. Load average "
        f"{r['load_average_at_start']} → {r['load_average_at_end']} (shared machine: CPU time is the stable "
        "measure).",
        "",
        "| engine | wall s | CPU s | wall ratio | CPU ratio |",
        "|---|---|---|---|---|",
        f"| limit (one hand-written SELECT) | {r['limit']['wall_s']:.2f} | {r['limit']['cpu_s']:.2f} | 1.00 | 1.00 |",
        f"| meshlake native | {r['native']['wall_s']:.2f} | {r['native']['cpu_s']:.2f} | "
        f"{r['native_over_limit']['wall']:.2f} | {r['native_over_limit']['cpu']:.2f} |",
    ]
    if "ge" in r:
        ge, nat = r["ge"], r["native"]
        lines.append(
            f"| Great Expectations on pandas | {ge['wall_s']:.2f} | {ge['cpu_s']:.2f} | "
            f"{ge['wall_s'] / r['limit']['wall_s']:.2f} | {ge['cpu_s'] / r['limit']['cpu_s']:.2f} |"
        )
        lines += [
            "",
            f"GE / native: {r['ge_over_native']['wall']}× wall, {r['ge_over_native']['cpu']}× CPU "
            f"(Arrow → pandas alone: {r['ge_to_pandas_part']['wall_s']:.2f} s of GE's {ge['wall_s']:.2f} s; "
            f"native {nat['wall_s']:.2f} s). Peak RSS: {r['peak_rss_mb_native_and_limit']} MB for native and the "
            f"limit, {r['peak_rss_mb_after_ge']} MB once GE has run.",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
