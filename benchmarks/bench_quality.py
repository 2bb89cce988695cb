"""The quality gate: native engine vs the limit vs Great Expectations, and what the gate adds to small appends.

    python -m benchmarks.bench_quality [--rows 6000000] [--runs 3] [--ge-runs 1] [--appends 20]
                                       [--skip-ge] [--skip-engines] [--skip-overhead]

Targets (issues 3 and 16): native ≤ 1.3 × the limit; ≥ 10 × faster than Great Expectations; the gate adds at
most 50 ms to a 1,000-row append — for the 15-expectation gate and for the 40-expectation gate that covers every
GE family but the SQL one (`FULL_EXPECTATIONS`), side by side.

1. **Engines on a staged write.** A port with 15 expectations (not-null keys, a unique key and a unique
   compound key, ranges, sets, regexes, lengths, a column pair, a mean, the row count), and one with the 40,
   receive `--rows`
   generated rows: the data files are written with `DataFileWriter` and the `Change` is built, nothing is
   committed. Timed, after one warm-up, interleaved, median of `--runs`, as wall time and as CPU time of
   the process (all threads; the machine is shared, so CPU time is the stable measure):
   * native: `PortGate.check` on the staged change (plan, describe, compile, every query);
   * limit: one hand-written DuckDB SELECT computing every check's aggregate in one pass over the files
     (`LIMIT_SQL`, and `FULL_LIMIT_SQL` for the 40);
   * bitmap limit: the same SELECT by an expert who knows the keys are dense integers (`bitstring_agg` for
     the distinct counts, as the native engine does when the files' bounds allow);
   * Great Expectations: `evaluate("great_expectations", ...)` (DuckDB → Arrow → pandas → GE), fewer runs.
   Native and GE must agree on every verdict and unexpected count, and the limit on every count.
2. **Gate overhead.** `--appends` appends of 1,000 rows through `port.write`, alternating between the gated
   port and an identical port without expectations; medians and their difference, (a) on ports of 3,000
   rows and (b) on ports holding `--rows` rows. The check and the record (the quality-history append) are
   timed inside the gated writes too.

Writes benchmarks/results/quality.json and quality.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from pyiceberg.io.pyarrow import schema_to_pyarrow

import meshlake as ml
from benchmarks.common import fresh_dir, machine, save
from meshlake.contract.stamps import Stamps
from meshlake.quality.gate import PortGate, evaluate, make_gate, staged_plans
from meshlake.query.plan import plan_snapshot
from meshlake.write.commit import Change
from meshlake.write.datafiles import DataFileWriter
from meshlake.write.ingest import Conformer

COLUMNS = """\
      - {name: id, type: long, required: true}
      - {name: customer_id, type: long}
      - {name: seq, type: int}
      - {name: weight_kg, type: double}
      - {name: price, type: "decimal(10,2)"}
      - {name: shipped_at, type: timestamptz}
      - {name: delivered_at, type: timestamptz}
      - {name: status, type: string}
      - {name: country, type: string}
      - {name: email, type: string}
      - {name: code, type: string}
"""
EXPECTATIONS = r"""
      - expect_column_values_to_not_be_null: {column: id}
      - expect_column_values_to_not_be_null: {column: customer_id}
      - expect_column_values_to_be_unique: {column: id}
      - expect_compound_columns_to_be_unique: {column_list: [customer_id, seq]}
      - expect_column_values_to_be_between: {column: weight_kg, min_value: 0, max_value: 50}
      - expect_column_values_to_be_between: {column: price, min_value: 0, max_value: 1000}
      - expect_column_values_to_be_between:
          {column: shipped_at, min_value: "2026-01-01T00:00:00Z", max_value: "2027-01-01T00:00:00Z"}
      - expect_column_values_to_be_in_set: {column: status, value_set: [new, shipped, delivered, returned]}
      - expect_column_values_to_not_be_in_set: {column: country, value_set: [XX, ZZ]}
      - expect_column_values_to_match_regex: {column: email, regex: '^[a-z0-9.]+@[a-z]+\.[a-z]{2,3}$'}
      - expect_column_values_to_match_regex: {column: code, regex: '^[A-Z]{2}\d{4}$'}
      - expect_column_value_lengths_to_be_between: {column: code, min_value: 6, max_value: 6}
      - expect_column_pair_values_a_to_be_greater_than_b:
          {column_A: delivered_at, column_B: shipped_at, or_equal: true}
      - expect_column_mean_to_be_between: {column: weight_kg, min_value: 20, max_value: 30}
      - expect_table_row_count_to_be_between: {min_value: 1, max_value: 100000000}
"""
FULL_EXPECTATIONS = r"""
      - expect_column_values_to_not_be_null: {column: id}
      - expect_column_values_to_not_be_null: {column: customer_id}
      - expect_column_values_to_be_between: {column: weight_kg, min_value: 0, max_value: 50}
      - expect_column_values_to_be_between: {column: price, min_value: 0, max_value: 1000}
      - expect_column_values_to_be_between:
          {column: shipped_at, min_value: "2026-01-01T00:00:00Z", max_value: "2027-01-01T00:00:00Z"}
      - expect_column_values_to_be_in_set: {column: status, value_set: [new, shipped, delivered, returned]}
      - expect_column_values_to_not_be_in_set: {column: country, value_set: [XX, ZZ]}
      - expect_column_values_to_match_regex: {column: email, regex: '^[a-z0-9.]+@[a-z]+\.[a-z]{2,3}$'}
      - expect_column_values_to_match_regex: {column: code, regex: '^[A-Z]{2}\d{4}$'}
      - expect_column_values_to_not_match_regex: {column: email, regex: '\s'}
      - expect_column_values_to_match_regex_list: {column: code, regex_list: ['^[A-Z]{2}', '\d{4}$'], match_on: all}
      - expect_column_values_to_not_match_regex_list: {column: email, regex_list: ['@evil\.', '\.\.']}
      - expect_column_values_to_match_like_pattern: {column: email, like_pattern: '%@example.%'}
      - expect_column_values_to_not_match_like_pattern: {column: email, like_pattern: '%@evil%'}
      - expect_column_values_to_match_like_pattern_list:
          {column: status, like_pattern_list: [new, 'ship%', 'deliver%', 'return%']}
      - expect_column_values_to_not_match_like_pattern_list: {column: country, like_pattern_list: ['X%', 'Z%']}
      - expect_column_value_lengths_to_be_between: {column: code, min_value: 6, max_value: 6}
      - expect_column_value_lengths_to_equal: {column: code, value: 6}
      - expect_column_value_lengths_to_be_between: {column: country, min_value: 2, max_value: 2}
      - expect_column_pair_values_a_to_be_greater_than_b:
          {column_A: delivered_at, column_B: shipped_at, or_equal: true}
      - expect_column_pair_values_to_be_equal: {column_A: seq, column_B: seq}
      - expect_column_pair_values_to_be_in_set:
          {column_A: status, column_B: country, value_pairs_set: [[new, DE], [new, FR], [new, NL], [new, US],
           [new, JP], [shipped, DE], [shipped, FR], [shipped, NL], [shipped, US], [shipped, JP], [delivered, DE],
           [delivered, FR], [delivered, NL], [delivered, US], [delivered, JP], [returned, DE], [returned, FR],
           [returned, NL], [returned, US], [returned, JP]]}
      - expect_compound_columns_to_be_unique: {column_list: [customer_id, seq]}
      - expect_select_column_values_to_be_unique_within_record: {column_list: [id, customer_id, seq], mostly: 0.99}
      - expect_multicolumn_sum_to_equal: {column_list: [seq, customer_id], sum_total: 0, mostly: 0}
      - expect_column_values_to_be_unique: {column: id}
      - expect_column_min_to_be_between: {column: weight_kg, min_value: 0}
      - expect_column_max_to_be_between: {column: price, max_value: 1000}
      - expect_column_mean_to_be_between: {column: weight_kg, min_value: 20, max_value: 30}
      - expect_column_sum_to_be_between: {column: price, min_value: 0}
      - expect_column_stdev_to_be_between: {column: weight_kg, min_value: 10, max_value: 20}
      - expect_column_kl_divergence_to_be_less_than:
          {column: weight_kg, threshold: 0.1,
           partition_object: {bins: [0, 10, 20, 30, 40, 50], weights: [0.2, 0.2, 0.2, 0.2, 0.2]}}
      - expect_column_chisquare_test_p_value_to_be_greater_than:
          {column: status, p: 0.001,
           partition_object: {values: [new, shipped, delivered, returned], weights: [0.25, 0.25, 0.25, 0.25]}}
      - expect_table_row_count_to_be_between: {min_value: 1, max_value: 100000000}
      - expect_table_column_count_to_equal: {value: 11}
      - expect_table_columns_to_match_set:
          {column_set: [id, customer_id, seq, weight_kg, price, shipped_at, delivered_at, status, country, email, code]}
      - expect_table_columns_to_match_ordered_list:
          {column_list: [id, customer_id, seq, weight_kg, price, shipped_at, delivered_at, status, country, email,
           code]}
      - expect_column_to_exist: {column: code, column_index: 10}
      - expect_column_values_to_be_of_type: {column: id, type_: int64}
      - expect_column_values_to_be_in_type_list: {column: weight_kg, type_list: [float, int]}
"""
"""40 expectations, every GE family but the SQL one: column map (values, sets, regexes, regex lists, LIKE
patterns and lists, lengths), column pairs, several columns, uniqueness, column aggregates, distributions
(KL divergence, chi-square), the table and its columns."""
DESCRIPTOR = f"""\
apiVersion: meshlake/v1
domain: bench
name: quality
version: 1.0.0
owner: {{team: bench}}
outputs:
  - name: gated
    columns:
{COLUMNS}    expectations:{EXPECTATIONS}
  - name: full
    columns:
{COLUMNS}    expectations:{FULL_EXPECTATIONS}
  - name: plain
    columns:
{COLUMNS}"""

# The limit: what a DuckDB expert writes by hand, one pass, the same aggregates (weight_kg has no NaN here).
LIMIT_SQL = r"""
SELECT
  count(*) AS n,
  count(id) AS id_nn,
  count(customer_id) AS cust_nn,
  count(DISTINCT id) AS id_distinct,
  count(DISTINCT (customer_id, seq)) AS key_distinct,
  count(*) FILTER (WHERE NOT (weight_kg BETWEEN 0 AND 50)) AS w_bad,
  count(*) FILTER (WHERE NOT (price BETWEEN 0 AND 1000)) AS p_bad,
  count(*) FILTER (WHERE NOT (shipped_at >= TIMESTAMPTZ '2026-01-01 00:00:00+00'
                              AND shipped_at <= TIMESTAMPTZ '2027-01-01 00:00:00+00')) AS s_bad,
  count(*) FILTER (WHERE status NOT IN ('new', 'shipped', 'delivered', 'returned')) AS st_bad,
  count(*) FILTER (WHERE country IN ('XX', 'ZZ')) AS c_bad,
  count(*) FILTER (WHERE NOT regexp_matches(email, '^[a-z0-9.]+@[a-z]+\.[a-z]{2,3}$')) AS e_bad,
  count(*) FILTER (WHERE NOT regexp_matches(code, '^[A-Z]{2}[0-9]{4}$')) AS code_bad,
  count(*) FILTER (WHERE length(code) <> 6) AS len_bad,
  count(*) FILTER (WHERE NOT (delivered_at IS NULL AND shipped_at IS NULL)
                   AND (delivered_at >= shipped_at) IS NOT TRUE) AS pair_bad,
  avg(weight_kg) AS w_mean
FROM read_parquet($files)
"""
# The same by an expert who also knows the keys are dense integers in [0, rows): distinct counts as bitmaps.
LIMIT_BITMAP_SQL = LIMIT_SQL.replace("count(DISTINCT id)", "bit_count(bitstring_agg(id, 0, $top))").replace(
    "count(DISTINCT (customer_id, seq))", "bit_count(bitstring_agg(customer_id * 10 + seq, 0, $top))"
)
# Which limit column is each expectation's unexpected count (None: checked otherwise).
LIMIT_UNEXPECTED = [None, None, None, None, "w_bad", "p_bad", "s_bad", "st_bad", "c_bad", "e_bad", "code_bad",
                    "len_bad", "pair_bad", None, None]  # fmt: skip

# The limit of the 40-expectation gate: every verdict's aggregates in one hand-written pass.
PAIRS = ", ".join(
    f"'{a}|{b}'" for a in ("new", "shipped", "delivered", "returned") for b in ("DE", "FR", "NL", "US", "JP")
)
FULL_LIMIT_SQL = rf"""
SELECT
  count(*) AS n,
  count(id) AS id_nn,
  count(customer_id) AS cust_nn,
  count(*) FILTER (WHERE NOT (weight_kg BETWEEN 0 AND 50)) AS w_bad,
  count(*) FILTER (WHERE NOT (price BETWEEN 0 AND 1000)) AS p_bad,
  count(*) FILTER (WHERE NOT (shipped_at >= TIMESTAMPTZ '2026-01-01 00:00:00+00'
                              AND shipped_at <= TIMESTAMPTZ '2027-01-01 00:00:00+00')) AS s_bad,
  count(*) FILTER (WHERE status NOT IN ('new', 'shipped', 'delivered', 'returned')) AS st_bad,
  count(*) FILTER (WHERE country IN ('XX', 'ZZ')) AS c_bad,
  count(*) FILTER (WHERE NOT regexp_matches(email, '^[a-z0-9.]+@[a-z]+\.[a-z]{{2,3}}$')) AS e_bad,
  count(*) FILTER (WHERE NOT regexp_matches(code, '^[A-Z]{{2}}[0-9]{{4}}$')) AS code_bad,
  count(*) FILTER (WHERE regexp_matches(email, '\s')) AS e_space,
  count(*) FILTER (WHERE NOT (regexp_matches(code, '^[A-Z]{{2}}') AND regexp_matches(code, '[0-9]{{4}}$'))) AS cl_bad,
  count(*) FILTER (WHERE regexp_matches(email, '@evil\.') OR regexp_matches(email, '\.\.')) AS el_bad,
  count(*) FILTER (WHERE NOT (email LIKE '%@example.%')) AS like_bad,
  count(*) FILTER (WHERE email LIKE '%@evil%') AS notlike_bad,
  count(*) FILTER (WHERE NOT (status LIKE 'new' OR status LIKE 'ship%' OR status LIKE 'deliver%'
                              OR status LIKE 'return%')) AS likes_bad,
  count(*) FILTER (WHERE country LIKE 'X%' OR country LIKE 'Z%') AS notlikes_bad,
  count(*) FILTER (WHERE length(code) <> 6) AS len_bad,
  count(*) FILTER (WHERE length(country) <> 2) AS clen_bad,
  count(*) FILTER (WHERE NOT (delivered_at IS NULL AND shipped_at IS NULL)
                   AND (delivered_at >= shipped_at) IS NOT TRUE) AS pair_bad,
  count(*) FILTER (WHERE seq IS DISTINCT FROM seq) AS eq_bad,
  count(*) FILTER (WHERE status || '|' || country NOT IN ({PAIRS})) AS pairs_bad,
  count(DISTINCT (customer_id, seq)) AS key_distinct,
  count(*) FILTER (WHERE id = customer_id OR id = seq OR customer_id = seq) AS rec_bad,
  count(*) FILTER (WHERE seq + customer_id <> 0) AS sum_bad,
  count(DISTINCT id) AS id_distinct,
  min(weight_kg) AS w_min,
  max(price) AS p_max,
  avg(weight_kg) AS w_mean,
  sum(price) AS p_sum,
  stddev_samp(weight_kg) AS w_sd,
  count(weight_kg) AS w_nn,
  count(*) FILTER (WHERE weight_kg < 0) AS below,
  count(*) FILTER (WHERE weight_kg > 50) AS above,
  count(*) FILTER (WHERE weight_kg >= 0 AND weight_kg < 10) AS b0,
  count(*) FILTER (WHERE weight_kg >= 10 AND weight_kg < 20) AS b1,
  count(*) FILTER (WHERE weight_kg >= 20 AND weight_kg < 30) AS b2,
  count(*) FILTER (WHERE weight_kg >= 30 AND weight_kg < 40) AS b3,
  count(*) FILTER (WHERE weight_kg >= 40 AND weight_kg <= 50) AS b4,
  histogram(status) AS status_counts
FROM read_parquet($files)
"""
# Which limit column is each of the 40 expectations' unexpected count (None: checked otherwise).
FULL_UNEXPECTED = ["-id_nn", "-cust_nn", "w_bad", "p_bad", "s_bad", "st_bad", "c_bad", "e_bad", "code_bad",
                   "e_space", "cl_bad", "el_bad", "like_bad", "notlike_bad", "likes_bad", "notlikes_bad", "len_bad",
                   "len_bad", "clen_bad", "pair_bad", "eq_bad", "pairs_bad", None, "rec_bad", "sum_bad"]  # fmt: skip

GENERATE = """
SELECT
  r AS id,
  r // 10 AS customer_id,
  (r % 10)::INTEGER AS seq,
  CASE WHEN r % 97 = 0 THEN NULL ELSE (hash(r) % 5000) / 100.0 END AS weight_kg,
  ((hash(r * 7) % 100000) / 100.0)::DECIMAL(10, 2) AS price,
  TIMESTAMPTZ '2026-03-01 00:00:00+00' + to_seconds((hash(r * 3) % 20000000)::BIGINT) AS shipped_at,
  TIMESTAMPTZ '2026-03-01 00:00:00+00' + to_seconds((hash(r * 3) % 20000000)::BIGINT)
    + to_seconds((hash(r * 5) % 400000)::BIGINT) AS delivered_at,
  ['new', 'shipped', 'delivered', 'returned'][1 + (hash(r * 11) % 4)::INTEGER] AS status,
  ['DE', 'FR', 'NL', 'US', 'JP'][1 + (hash(r * 13) % 5)::INTEGER] AS country,
  'user' || (r % 100000)::VARCHAR || '@example.' || ['com', 'org', 'de'][1 + (r % 3)::INTEGER] AS email,
  chr(65 + (r % 26)::INTEGER) || chr(65 + (r // 26 % 26)::INTEGER) || lpad((r % 10000)::VARCHAR, 4, '0') AS code
FROM range({start}, {stop}) t(r)
"""


def generate(start: int, rows: int) -> pa.RecordBatchReader:
    """Rows `start` … `start + rows - 1`, streamed (the keys are sequential: appends extend the key range)."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    reader: pa.RecordBatchReader = con.sql(GENERATE.format(start=start, stop=start + rows)).to_arrow_reader(1 << 17)
    return reader


def cpu_seconds() -> float:
    """CPU time of this process, all threads: stable on a shared machine where wall time is not."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(engines: dict[str, Callable[[], Any]], runs: int) -> dict[str, dict[str, Any]]:
    """One warm-up each, then `runs` rounds with the engines interleaved (fair on a noisy machine)."""
    out: dict[str, dict[str, Any]] = {name: {"result": fn(), "wall": [], "cpu": []} for name, fn in engines.items()}
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


def open_lake(root: Path) -> ml.Lake:
    descriptor = root / "dataproduct.yaml"
    descriptor.write_text(DESCRIPTOR)
    lake = ml.connect(home=str(root / ".meshlake"))
    lake.deploy(descriptor)
    return lake


def stage(port: Any, reader: pa.RecordBatchReader) -> Change:
    """Write the data files of an append (as `port.write` does) and build its change; nothing is committed."""
    table = port.table()
    conformer = Conformer(schema_to_pyarrow(table.schema(), include_field_ids=True), str(port.address))
    added = tuple(DataFileWriter(table.metadata, table.io).write_all(conformer.conform(reader)))
    return Change("append", added, new_rows=added)


def bench_engines(
    lake: ml.Lake, rows: int, runs: int, ge_runs: int, with_ge: bool, *, suite: str = "gated"
) -> dict[str, Any]:
    port = lake.port(f"bench.quality.{suite}")
    started = time.perf_counter()
    change = stage(port, generate(0, rows))
    staging_s = time.perf_counter() - started
    table = port.table()
    gate = make_gate(lake, port)
    stamps = Stamps("bench", "bench", "1.0.0", "append")
    staged, _ = staged_plans(plan_snapshot(table.metadata, table.io, None), change, table.metadata)
    files = [f.file_path.removeprefix("file://") for f in change.added]
    con = duckdb.connect()
    if suite == "full":
        return _bench_full(
            lake, gate, table, change, stamps, staged, files, con, rows, runs, ge_runs, with_ge, staging_s
        )
    t = timed(
        {
            "native": lambda: gate.check(table, None, change, stamps),
            "limit": lambda: con.execute(LIMIT_SQL, {"files": files}).fetchall(),
            "limit_bitmap": lambda: con.execute(LIMIT_BITMAP_SQL, {"files": files, "top": rows - 1}).fetchall(),
        },
        runs,
    )
    report = t["native"]["result"]
    limit_row = dict(zip([d[0] for d in con.description or []], t["limit"]["result"][0], strict=True))
    _agree_with_limit(report, limit_row)
    bitmap_row = t["limit_bitmap"]["result"][0]
    if [v for v in bitmap_row if not isinstance(v, float)] != [
        v for v in t["limit"]["result"][0] if not isinstance(v, float)
    ]:
        raise SystemExit(f"the bitmap limit and the limit disagree: {bitmap_row} {t['limit']['result'][0]}")
    out: dict[str, Any] = {
        "rows": rows,
        "files": len(files),
        "parquet_mb": round(sum(f.file_size_in_bytes for f in change.added) / 1e6, 1),
        "expectations": len(report.results),
        "staging_s": round(staging_s, 2),
        "runs": runs,
        "native": _summary(t["native"]),
        "limit": _summary(t["limit"]),
        "native_over_limit": _ratio(t["native"], t["limit"]),
        "limit_bitmap": _summary(t["limit_bitmap"]),
        "native_over_limit_bitmap": _ratio(t["native"], t["limit_bitmap"]),
        "verdict": "passed" if report.passed else [r.summary() for r in report.failed],
    }
    if with_ge:
        g = timed(
            {"ge": lambda: evaluate("great_expectations", staged, None, gate.expectations, gate.sample_size, table.io)},
            ge_runs,
        )
        ge_results = g["ge"]["result"]
        mismatch = [
            (r.expectation, (r.status, r.unexpected_count), (s.status, s.unexpected_count))
            for r, s in zip(report.results, ge_results, strict=True)
            if (r.status, r.unexpected_count) != (s.status, s.unexpected_count)
        ]
        if mismatch:
            raise SystemExit(f"native and Great Expectations disagree: {mismatch}")
        out |= {"ge_runs": ge_runs, "ge": _summary(g["ge"]), "ge_over_native": _ratio(g["ge"], t["native"])}
    return out


def _bench_full(
    lake: ml.Lake,
    gate: PortGate,
    table: Any,
    change: Change,
    stamps: Stamps,
    staged: Any,
    files: list[str],
    con: duckdb.DuckDBPyConnection,
    rows: int,
    runs: int,
    ge_runs: int,
    with_ge: bool,
    staging_s: float,
) -> dict[str, Any]:
    """The 40-expectation gate against one hand-written SELECT computing the same verdicts, and GE."""

    def limit() -> dict[str, Any]:
        cursor = con.execute(FULL_LIMIT_SQL, {"files": files})
        names = [d[0] for d in cursor.description or []]
        return dict(zip(names, cursor.fetchall()[0], strict=True))

    t = timed({"native": lambda: gate.check(table, None, change, stamps), "limit": limit}, runs)
    report = t["native"]["result"]
    row = t["limit"]["result"]
    checks = [
        (report.results[i].unexpected_count, row["n"] - row[col[1:]] if col.startswith("-") else row[col])
        for i, col in enumerate(FULL_UNEXPECTED)
        if col
    ]
    checks += [
        (report.results[22].unexpected_count == 0, row["key_distinct"] == row["n"]),
        (report.results[25].unexpected_count == 0, row["id_distinct"] == row["n"]),
        (report.results[26].observed_value, row["w_min"]),
        (report.results[28].observed_value, row["w_mean"]),
        (report.results[30].observed_value, row["w_sd"]),
    ]
    wrong = [(a, b) for a, b in checks if a != b and not (isinstance(a, float) and abs(a - b) <= 1e-9 * abs(b))]
    if wrong:
        raise SystemExit(f"native and the limit disagree: {wrong}")
    out: dict[str, Any] = {
        "rows": rows,
        "files": len(files),
        "parquet_mb": round(sum(f.file_size_in_bytes for f in change.added) / 1e6, 1),
        "expectations": len(report.results),
        "families": sorted({r.expectation.removeprefix("expect_") for r in report.results}),
        "staging_s": round(staging_s, 2),
        "runs": runs,
        "native": _summary(t["native"]),
        "limit": _summary(t["limit"]),
        "native_over_limit": _ratio(t["native"], t["limit"]),
        "verdict": "passed" if report.passed else [r.summary() for r in report.failed],
    }
    if with_ge:
        g = timed(
            {"ge": lambda: evaluate("great_expectations", staged, None, gate.expectations, gate.sample_size, table.io)},
            ge_runs,
        )
        mismatch = [
            (r.expectation, (r.status, r.unexpected_count), (s.status, s.unexpected_count))
            for r, s in zip(report.results, g["ge"]["result"], strict=True)
            if r.status != s.status or (r.unexpected_count != s.unexpected_count and s.unexpected_count is not None)
        ]
        if mismatch:
            raise SystemExit(f"native and Great Expectations disagree: {mismatch}")
        out |= {"ge_runs": ge_runs, "ge": _summary(g["ge"]), "ge_over_native": _ratio(g["ge"], t["native"])}
    return out


def _agree_with_limit(report: Any, row: dict[str, Any]) -> None:
    results = report.results
    checks = [
        (results[0].unexpected_count, row["n"] - row["id_nn"]),
        (results[1].unexpected_count, row["n"] - row["cust_nn"]),
        (results[2].unexpected_count == 0, row["id_distinct"] == row["id_nn"]),
        (results[3].unexpected_count == 0, row["key_distinct"] == row["n"]),
        (results[13].observed_value, row["w_mean"]),
        (results[14].observed_value, row["n"]),
    ]
    checks += [(results[i].unexpected_count, row[col]) for i, col in enumerate(LIMIT_UNEXPECTED) if col]
    wrong = [(a, b) for a, b in checks if a != b and not (isinstance(a, float) and abs(a - b) < 1e-9 * abs(b))]
    if wrong:
        raise SystemExit(f"native and the limit disagree: {wrong}")


class _GateTimer:
    """Times `PortGate.check` and `PortGate.record` inside `port.write` (restored on exit)."""

    def __init__(self) -> None:
        self.check: list[float] = []
        self.record: list[float] = []

    def __enter__(self) -> _GateTimer:
        self._check, self._record = PortGate.check, PortGate.record
        timer = self

        def check(gate: PortGate, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return timer._check(gate, *args, **kwargs)
            finally:
                timer.check.append(time.perf_counter() - started)

        def record(gate: PortGate, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return timer._record(gate, *args, **kwargs)
            finally:
                timer.record.append(time.perf_counter() - started)

        PortGate.check, PortGate.record = check, record  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        PortGate.check, PortGate.record = self._check, self._record  # type: ignore[method-assign]


def bench_appends(lake: ml.Lake, base_rows: int, appends: int, first: int, *, suite: str = "gated") -> dict[str, Any]:
    """`appends` 1,000-row appends to each port, alternating; the ports hold `base_rows` rows first."""
    gated, plain = lake.port(f"bench.quality.{suite}"), lake.port("bench.quality.plain")
    published = {}
    for port in (gated, plain):
        started = time.perf_counter()
        port.write(generate(first, base_rows))
        published[port.address.port] = round(time.perf_counter() - started, 2)
    start = first + base_rows
    for i in range(2):  # warm-up: imports, first plan, first DuckDB database
        gated.write(generate(start + i * 1000, 1000))
        plain.write(generate(start + i * 1000, 1000))
    start += 2000
    times: dict[str, list[float]] = {"gated": [], "plain": []}
    cpu: dict[str, list[float]] = {"gated": [], "plain": []}
    methods: set[str] = set()
    checked = 0
    with _GateTimer() as timer:
        for i in range(appends):
            for name, port in (("gated", gated), ("plain", plain)):
                data = generate(start + i * 1000, 1000).read_all()
                started, used = time.perf_counter(), cpu_seconds()
                result = port.write(data)
                times[name].append(time.perf_counter() - started)
                cpu[name].append(cpu_seconds() - used)
                if result.quality is not None:
                    assert result.quality.passed, [r.summary() for r in result.quality.failed]
                    checked = len(result.quality.results)
                    methods |= {getattr(r, "method", "full") for r in result.quality.results if r.scope == "table"}
    gated_ms, plain_ms = (statistics.median(times[n]) * 1000 for n in ("gated", "plain"))
    gated_cpu, plain_cpu = (statistics.median(cpu[n]) * 1000 for n in ("gated", "plain"))
    return {
        "suite": suite,
        "expectations": checked,
        "base_rows": base_rows,
        "appends": appends,
        "first_write_s": published,
        "gated_ms": round(gated_ms, 1),
        "plain_ms": round(plain_ms, 1),
        "overhead_ms": round(gated_ms - plain_ms, 1),
        "gated_cpu_ms": round(gated_cpu, 1),
        "plain_cpu_ms": round(plain_cpu, 1),
        "overhead_cpu_ms": round(gated_cpu - plain_cpu, 1),
        "check_ms": round(statistics.median(timer.check) * 1000, 1),
        "record_ms": round(statistics.median(timer.record) * 1000, 1),
        "table_check_methods": sorted(methods),
        "gated_runs_ms": [round(x * 1000, 1) for x in times["gated"]],
        "plain_runs_ms": [round(x * 1000, 1) for x in times["plain"]],
        "key_lookup": _key_lookup(gated, start + appends * 1000) if base_rows > 100_000 else None,
    }


def _key_lookup(port: Any, start: int) -> dict[str, Any] | None:
    """What the check of one more sequential 1,000-row append reads: its statements, run again under
    EXPLAIN ANALYZE, and which of the base's data files they name."""
    import re

    from meshlake.quality import native

    captured: list[str] = []
    one, scalars = native._one, getattr(native, "_scalars", None)
    if scalars is None:  # the engine before incremental checks
        return None

    def capture_one(con: Any, sql: str, *, arrow: bool = True) -> Any:
        captured.append(sql)
        return one(con, sql, arrow=arrow)

    def capture_scalars(con: Any, sql: str) -> Any:
        captured.append(sql)
        return scalars(con, sql)

    native._one, native._scalars = capture_one, capture_scalars
    try:
        port.write(generate(start, 1000).read_all())
    finally:
        native._one, native._scalars = one, scalars
    files = [path.removeprefix("file://") for path in port.table().inspect.files()["file_path"].to_pylist()]
    named = {path for path in files if any(path in sql for sql in captured)}
    con = duckdb.connect()
    profiles = [con.sql("EXPLAIN ANALYZE " + sql).fetchall()[0][1] for sql in captured]
    return {
        "statements": len(captured),
        "files_in_base": len(files) - 1,
        "base_files_read": len(named) - 1,  # all but the new rows' file
        "row_groups_scanned_of_total": [
            tuple(map(int, m)) for p in profiles for m in re.findall(r"Row Groups Scanned: (\d+) / (\d+)", p)
        ],
        "data_read": [m.strip() for p in profiles for m in re.findall(r"Data Read: *([^│]+?) *│", p)],
    }


def _summary(stats: dict[str, Any]) -> dict[str, Any]:
    return {
        "wall_s": round(stats["wall_s"], 3),
        "cpu_s": round(stats["cpu_s"], 3),
        "wall_runs": [round(x, 3) for x in stats["wall"]],
        "cpu_runs": [round(x, 3) for x in stats["cpu"]],
    }


def _ratio(a: dict[str, Any], b: dict[str, Any]) -> dict[str, float]:
    return {"wall": round(a["wall_s"] / b["wall_s"], 2), "cpu": round(a["cpu_s"] / b["cpu_s"], 2)}


def markdown(r: dict[str, Any]) -> str:
    lines = ["# Quality gate", "", "`python -m benchmarks.bench_quality` — " + _load_line(r), ""]
    for key in ("engines", "engines_full"):
        if r.get(key):
            lines += _engines_markdown(r[key], full=key == "engines_full")
    if r.get("appends"):
        lines += [
            "## Gate overhead on 1,000-row appends",
            "",
            "Median of the appends through `port.write`, alternating between a gated port (the 15 expectations, or "
            "the 40) and an identical port without expectations. `check` and `record` are timed inside the gated "
            "writes.",
            "",
            "| expectations | port size | gated ms | ungated ms | overhead ms | overhead CPU ms | check ms "
            "| record ms | table checks |",
            "|---:|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for a in r["appends"]:
            lines.append(
                f"| {a.get('expectations', 15)} | {a['base_rows']:,} rows + appends | {a['gated_ms']:.1f} | "
                f"{a['plain_ms']:.1f} | "
                f"**{a['overhead_ms']:.1f}** | {a['overhead_cpu_ms']:.1f} | {a['check_ms']:.1f} | "
                f"{a['record_ms']:.1f} | {', '.join(a['table_check_methods'])} |"
            )
        lines += ["", "Target: overhead ≤ 50 ms (wall; CPU time of the process alongside).", ""]
        for a in r["appends"]:
            if a.get("key_lookup"):
                k = a["key_lookup"]
                lines.append(
                    f"What the check of one more 1,000-row append of sequential keys reads on {a['base_rows']:,} "
                    f"rows (its statements under EXPLAIN ANALYZE): {k['statements']} statement(s), "
                    f"{k['base_files_read']} of the base's {k['files_in_base']} data files, row groups scanned / "
                    f"total {k['row_groups_scanned_of_total']}, data read {', '.join(k['data_read'])}."
                )
        lines.append("")
    return "\n".join(lines)


def _engines_markdown(e: dict[str, Any], *, full: bool) -> list[str]:
    lines: list[str] = []
    lines += [
        f"## Engines on a staged {e['rows']:,}-row write: {e['expectations']} expectations",
        "",
        f"{e['expectations']} expectations on {e['files']} data files ({e['parquet_mb']:.0f} MB Parquet), "
        f"written with `DataFileWriter` and not committed. Median of {e['runs']} interleaved runs after a "
        f"warm-up (GE: {e.get('ge_runs', 0)}). CPU time is the process's, all threads.",
        "",
        "| engine | wall s | CPU s | wall × limit | CPU × limit |",
        "|---|---:|---:|---:|---:|",
        _row("limit (one hand-written SELECT)", e["limit"], e["limit"]),
        _row("meshlake native (`PortGate.check`)", e["native"], e["limit"]),
    ]
    if "limit_bitmap" in e:
        lines.append(
            _row(
                "limit, distinct counts as bitmaps (hand-written with the key ranges)",
                e["limit_bitmap"],
                e["limit"],
            )
        )
    if "ge" in e:
        lines.append(_row("Great Expectations on pandas (incl. Arrow → pandas)", e["ge"], e["limit"]))
    lines += [
        "",
        f"native / limit: **{e['native_over_limit']['wall']:.2f}× wall, {e['native_over_limit']['cpu']:.2f}× "
        "CPU** (target ≤ 1.3)."
        + (
            f" native / bitmap limit: {e['native_over_limit_bitmap']['wall']:.2f}× wall, "
            f"{e['native_over_limit_bitmap']['cpu']:.2f}× CPU."
            if "limit_bitmap" in e
            else ""
        )
        + (
            f" GE / native: **{e['ge_over_native']['wall']:.1f}× wall, {e['ge_over_native']['cpu']:.1f}× CPU** "
            "(target ≥ 10)."
            if "ge" in e
            else ""
        ),
        "",
    ]
    if full:
        lines[2:2] = [
            "The 40-expectation gate covers every GE family but the SQL one (`unexpected_rows_expectation`): "
            "column map (values, sets, regexes and regex lists, LIKE patterns and lists, lengths), column pairs, "
            "several columns, uniqueness, column aggregates (min, max, mean, sum, stdev), distributions (KL "
            "divergence, chi-square) and the table and its columns (row and column counts, column set and order, "
            "column types). The limit is one hand-written SELECT of every aggregate those verdicts need.",
            "",
        ]
    return lines


def _row(name: str, s: dict[str, Any], limit: dict[str, Any]) -> str:
    return (
        f"| {name} | {s['wall_s']:.2f} | {s['cpu_s']:.2f} | {s['wall_s'] / limit['wall_s']:.2f} | "
        f"{s['cpu_s'] / limit['cpu_s']:.2f} |"
    )


def _load_line(r: dict[str, Any]) -> str:
    m = r["machine"]
    return (
        f"{m['cpus']} CPUs, duckdb {m['duckdb']}, pyiceberg {m['pyiceberg']}, Python {m['python']}; load average "
        f"{r['load_start']} → {r['load_end']} (the machine is shared: CPU time is the stable measure, wall time "
        "moves with the other engineers' work)."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=6_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ge-runs", type=int, default=1)
    parser.add_argument("--appends", type=int, default=20)
    parser.add_argument("--skip-ge", action="store_true")
    parser.add_argument("--skip-engines", action="store_true")
    parser.add_argument("--skip-overhead", action="store_true")
    args = parser.parse_args()
    results: dict[str, Any] = {"machine": machine(), "load_start": round(os.getloadavg()[0], 1)}

    def checkpoint() -> None:
        """Save what is measured so far: a failure in a later part keeps the parts done."""
        results["load_end"] = round(os.getloadavg()[0], 1)
        save("quality", results, markdown(results))

    if not args.skip_engines:
        lake = open_lake(fresh_dir("quality/engines"))
        results["engines"] = bench_engines(lake, args.rows, args.runs, args.ge_runs, not args.skip_ge)
        checkpoint()
        results["engines_full"] = bench_engines(
            lake, args.rows, args.runs, args.ge_runs, not args.skip_ge, suite="full"
        )
        checkpoint()
    if not args.skip_overhead:
        results["appends"] = []
        for suite in ("gated", "full"):
            for n in (3_000, args.rows):
                lake = open_lake(fresh_dir(f"quality/appends{n}-{suite}"))
                results["appends"].append(bench_appends(lake, n, args.appends, first=0, suite=suite))
                checkpoint()
    checkpoint()


if __name__ == "__main__":
    main()
