"""Access control on the read path: a masked + filtered principal, and an unrestricted one, against no policy.

    python -m benchmarks.bench_access [--rows 6000000] [--appends 6] [--repeat 7]

Writes `--rows` lineitem-like rows through meshlake (`bench.tpch.lineitem`, in `--appends` appends) with a
descriptor whose port declares

- a row filter for `group:analysts`: `l_returnflag != 'R'` (about a third of the rows dropped), and masks for
  every reader not in `unmasked`: `l_comment` `mask-alphanum`, `l_shipinstruct` `mask-to-default`;
- `group:readers` in `unmasked` and in no row filter: they read it unrestricted;

then times the same queries (TPC-H Q1 and Q6, which touch no masked column; a group-by over the masked
`l_comment`; `LIMIT 100` of every column) along three callers, warm (median of `--repeat` runs after a warm-up,
callers interleaved run by run):

- `none`: today's lake, without a mesh policy (a `Lake` opened before the policy was published keeps none);
- `unrestricted`: a member of `group:readers`, once the lake has a policy;
- `restricted`: a member of `group:analysts`;

on the DuckDB path (`lake.sql(query)`) and the Polars path (`port.latest().to_polars()` + the same query in
the expression API, collected). The restricted answers differ (fewer rows, masked values): that is the point.

Targets (issue 11): a masked + filtered read ≤ 1.15 × the same query with no policy, on both paths; an
unrestricted principal ≤ 1.02 × today's.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

import meshlake as ml
from benchmarks.common import LINEITEM_YAML, fresh_dir, lineitem, machine, save
from meshlake.access.identity import Identity
from meshlake.contract.principals import Principal

THREADS = os.cpu_count() or 1
ADDRESS = "bench.tpch.lineitem"
ROWS_PER_ORDER = 4
ACCESS_YAML = """\
    access:
      readers: [group:analysts, group:readers]
      unmasked: [group:readers]
      row_filters:
        - {principals: [group:analysts], where: "l_returnflag != 'R'"}
"""
MASKS = {"l_shipinstruct": "mask-to-default", "l_comment": "mask-alphanum"}
CALLERS = ("none", "unrestricted", "restricted")
PATHS = ("duckdb", "polars")
RESTRICTED_TARGET = 1.15
UNRESTRICTED_TARGET = 1.02


def descriptor_text() -> str:
    text = LINEITEM_YAML.replace("owner: {team: bench}", "owner: {team: bench, principals: [group:bench]}")
    text = text.replace("  - name: lineitem\n", "  - name: lineitem\n" + ACCESS_YAML)
    for column, action in MASKS.items():
        plain = f"{{name: {column}, type: string}}"
        assert plain in text, plain
        text = text.replace(plain, f"{{name: {column}, type: string, mask: {action}}}")
    return text


# -- the queries ----------------------------------------------------------------------------------------


def _q1(frame: pl.LazyFrame) -> pl.LazyFrame:
    price, discount, tax = pl.col("l_extendedprice"), pl.col("l_discount"), pl.col("l_tax")
    return (
        frame.filter(pl.col("l_shipdate") <= pl.date(1998, 9, 2))
        .group_by("l_returnflag", "l_linestatus")
        .agg(
            pl.col("l_quantity").sum().alias("sum_qty"),
            price.sum().alias("sum_base_price"),
            (price * (1 - discount)).sum().alias("sum_disc_price"),
            (price * (1 - discount) * (1 + tax)).sum().alias("sum_charge"),
            pl.col("l_quantity").mean().alias("avg_qty"),
            price.mean().alias("avg_price"),
            discount.mean().alias("avg_disc"),
            pl.len().alias("count_order"),
        )
        .sort("l_returnflag", "l_linestatus")
    )


def _q6(frame: pl.LazyFrame) -> pl.LazyFrame:
    return frame.filter(
        (pl.col("l_shipdate") >= pl.date(1994, 1, 1))
        & (pl.col("l_shipdate") < pl.date(1995, 1, 1))
        & pl.col("l_discount").is_between(0.05, 0.07)
        & (pl.col("l_quantity") < 24)
    ).select((pl.col("l_extendedprice") * pl.col("l_discount")).sum().alias("revenue"))


def _masked(frame: pl.LazyFrame) -> pl.LazyFrame:
    return (
        frame.group_by("l_shipmode")
        .agg(pl.len().alias("n"), pl.col("l_comment").max().alias("comment"))
        .sort("l_shipmode")
    )


@dataclass(frozen=True)
class Query:
    name: str
    title: str
    sql: str
    polars: Callable[[pl.LazyFrame], pl.LazyFrame]


QUERIES = (
    Query(
        "q1",
        "TPC-H Q1 (no masked column)",
        "SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty, sum(l_extendedprice) AS sum_base_price, "
        "sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price, "
        "sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge, avg(l_quantity) AS avg_qty, "
        "avg(l_extendedprice) AS avg_price, avg(l_discount) AS avg_disc, count(*) AS count_order "
        f"FROM {ADDRESS} WHERE l_shipdate <= DATE '1998-09-02' GROUP BY l_returnflag, l_linestatus ORDER BY 1, 2",
        _q1,
    ),
    Query(
        "q6",
        "TPC-H Q6 (no masked column)",
        f"SELECT sum(l_extendedprice * l_discount) AS revenue FROM {ADDRESS} WHERE l_shipdate >= DATE '1994-01-01' "
        "AND l_shipdate < DATE '1995-01-01' AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24",
        _q6,
    ),
    Query(
        "masked",
        "group by l_shipmode, max(l_comment) (a masked column)",
        f"SELECT l_shipmode, count(*) AS n, max(l_comment) AS comment FROM {ADDRESS} GROUP BY 1 ORDER BY 1",
        _masked,
    ),
    Query("limit", "LIMIT 100 (every column)", f"SELECT * FROM {ADDRESS} LIMIT 100", lambda f: f.head(100)),
)


# -- the callers ----------------------------------------------------------------------------------------


class Callers:
    """The lake as each caller, on each path: `run(caller, path, query)` returns the answer's row count."""

    def __init__(self, home: Path) -> None:
        settings = ml.connect(home=str(home)).settings
        self.lakes: dict[str, ml.Lake] = {"none": ml.connect(home=str(home))}
        assert self.lakes["none"].mesh_policy is None  # read once: this Lake keeps seeing no policy
        self.lakes["none"].sql(f"SET threads = {THREADS}")
        admin = ml.Lake(settings, identity=_identity("user:bench", "bench"))
        admin.init_access(["group:platform"])
        self.lakes["unrestricted"] = ml.Lake(settings, identity=_identity("user:rita", "readers"))
        self.lakes["restricted"] = ml.Lake(settings, identity=_identity("user:ann", "analysts"))
        for caller in ("unrestricted", "restricted"):
            assert self.lakes[caller].mesh_policy is not None
            self.lakes[caller].sql(f"SET threads = {THREADS}")
        self.ports = {caller: lake.port(ADDRESS) for caller, lake in self.lakes.items()}

    def run(self, caller: str, path: str, query: Query) -> int:
        if path == "duckdb":
            return len(self.lakes[caller].sql(query.sql).fetchall())
        return query.polars(self.ports[caller].latest().to_polars()).collect().height

    def answer(self, caller: str, path: str, query: Query) -> Any:
        if path == "duckdb":
            return self.lakes[caller].sql(query.sql).fetchall()
        return query.polars(self.ports[caller].latest().to_polars()).collect().rows()

    def how(self, caller: str) -> str:
        """How the DuckDB path serves the port to `caller`: in place, or through the private database."""
        con = self.lakes[caller].duckdb()
        relation = str(con.sql(f"SELECT ml_scan('{ADDRESS}')").fetchall()[0][0])
        return "in place" if "read_parquet" in relation else "private database"


def _identity(principal: str, group: str) -> Identity:
    return Identity(Principal.parse(principal), frozenset({Principal.parse(f"group:{group}")}))


# -- measuring ------------------------------------------------------------------------------------------


def same(a: Any, b: Any) -> bool:
    """Equal answers, floats to 1e-9 relative (parallel sums add in any order)."""
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and math.isclose(a, b, rel_tol=1e-9)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def build(root: Path, rows: int, appends: int) -> dict[str, Any]:
    root.mkdir(parents=True, exist_ok=True)
    descriptor = root / "tpch.yaml"
    descriptor.write_text(descriptor_text())
    lake = ml.connect(home=str(root / ".meshlake"))
    port = lake.deploy(descriptor).port("lineitem")
    each = rows // appends
    started = time.perf_counter()
    for i in range(appends):
        port.write(lineitem(each, seed=i + 1, first_order=i * each // ROWS_PER_ORDER))
    latest = port.latest()
    return {"rows": latest.rows, "files": len(latest.plan.files), "write_s": time.perf_counter() - started}


def bench(callers: Callers, repeat: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    pairs = [(caller, path) for path in PATHS for caller in CALLERS]
    for query in QUERIES:
        print(f"  {query.name} ...", flush=True)
        answers = {f"{c}/{p}": callers.answer(c, p, query) for c, p in pairs}  # warm-up, and the answers
        for path in PATHS:
            if not same(answers[f"none/{path}"], answers[f"unrestricted/{path}"]):
                raise AssertionError(f"{query.name}: the unrestricted {path} answer differs from no policy's")
        wall: dict[str, list[float]] = {f"{c}/{p}": [] for c, p in pairs}
        cpu: dict[str, list[float]] = {f"{c}/{p}": [] for c, p in pairs}
        for run in range(repeat):  # interleaved, in alternating order, so drift hits every caller alike
            for caller, path in pairs[:: 1 if run % 2 == 0 else -1]:
                started, cpu_started = time.perf_counter(), time.process_time()
                callers.run(caller, path, query)
                wall[f"{caller}/{path}"].append(time.perf_counter() - started)
                cpu[f"{caller}/{path}"].append(time.process_time() - cpu_started)
        entry: dict[str, Any] = {"title": query.title, "sql": query.sql, "paths": {}}
        for path in PATHS:
            base = statistics.median(wall[f"none/{path}"])
            base_cpu = statistics.median(cpu[f"none/{path}"])
            for caller in CALLERS:
                key = f"{caller}/{path}"
                median = statistics.median(wall[key])
                ratio = median / base
                target = {"restricted": RESTRICTED_TARGET, "unrestricted": UNRESTRICTED_TARGET}.get(caller)
                entry["paths"][key] = {
                    "median_s": median,
                    "min_s": min(wall[key]),
                    "runs_s": wall[key],
                    "cpu_median_s": statistics.median(cpu[key]),
                    "ratio": ratio,
                    "ratio_cpu": statistics.median(cpu[key]) / base_cpu,
                    "target": target,
                    "meets_target": None if target is None else ratio <= target,
                    "rows": len(answers[key]),
                }
        results[query.name] = entry
    return results


def markdown(results: dict[str, Any]) -> str:
    table = results["table"]
    lines = [
        "# Access control on the read path",
        "",
        f"`{results['command']}`",
        "",
        f"Load average before / after the run: {results['load_before'][0]:.1f} / {results['load_after'][0]:.1f} "
        "(other work may share the machine).",
        "",
        f"{results['machine']['cpus']} CPUs, DuckDB {results['machine']['duckdb']}, Polars "
        f"{results['machine']['polars']}, pyarrow {results['machine']['pyarrow']}, Python "
        f"{results['machine']['python']}.",
        "",
        f"Port `{ADDRESS}`: {table['rows']:,} rows in {table['files']} files. Restricted caller: row filter "
        "`l_returnflag != 'R'`, `l_comment` mask-alphanum, `l_shipinstruct` mask-to-default. DuckDB path served "
        f"{results['how']['unrestricted']} to the unrestricted caller and through the "
        f"{results['how']['restricted']} to the restricted one.",
        "",
        f"Warm: median of {results['repeat']} runs after a warm-up, callers interleaved. Ratio = median / the "
        f"same query with no policy on the same path. Targets: restricted ≤ {RESTRICTED_TARGET}×, unrestricted "
        f"≤ {UNRESTRICTED_TARGET}×. CPU = this process's CPU time (every thread of both DuckDB databases).",
        "",
        "| query | path | caller | rows | warm ms (min) | × no policy | CPU ms | × no policy | target | met |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    for name, entry in results["queries"].items():
        for key, value in entry["paths"].items():
            caller, path = key.split("/")
            target = "" if value["target"] is None else f"≤ {value['target']}"
            met = "" if value["meets_target"] is None else ("met" if value["meets_target"] else "**missed**")
            lines.append(
                f"| {name} | {path} | {caller} | {value['rows']} | {value['median_s'] * 1000:,.0f} "
                f"({value['min_s'] * 1000:,.0f}) | {value['ratio']:.2f} | {value['cpu_median_s'] * 1000:,.0f} "
                f"| {value['ratio_cpu']:.2f} | {target} | {met} |"
            )
    lines += ["", *NOTES]
    return "\n".join(lines) + "\n"


NOTES = [
    "Reading the results:",
    "",
    "- **Unrestricted** callers read in place, exactly as without a policy (the same SQL, the same files); what",
    "  they add is a dictionary lookup per bind. Their wall-time ratios are the machine's noise (compare the CPU",
    "  column, and the `min`).",
    "- **Restricted, DuckDB path — the limit.** A restricted port is computed twice over: the private database",
    "  scans, filters and masks it and exports Arrow batches; the caller's DuckDB imports them and runs the",
    "  query. Only the columns a query needs are computed, and the filters DuckDB can hand over are applied in",
    "  the private database (so a selective query like Q6 moves few rows and stays near 1×), but a scan-bound",
    "  query over most rows (Q1) pays the export and import of every row it reads: about 2× the CPU of the",
    "  same query in place. No restricted read can be served in place: the caller's connection would then read",
    "  the port's files, and with them the unmasked values and the filtered-out rows.",
    "- **Masks cost what they compute.** A query over a masked column computes the mask for every row it",
    "  reads (`mask-alphanum` is a regular expression over each value, on either engine); that, not the access",
    "  path, is the `masked` row.",
    "- **LIMIT** over a restricted port starts a parallel scan in the private database that masks a row group",
    "  per thread before the first rows arrive: a fixed cost of a few hundred ms with a string mask.",
    "- **Polars path**: the restrictions are expressions on the lazy frame (`meshlake.access.mask_polars`), so",
    "  no second engine is involved and Q1/Q6 stay near 1×. Every mask is elementwise, so `head(100)` is pushed",
    "  below the masks (filter, then limit, then mask): only the 100 rows returned are masked. What the `limit`",
    "  row still pays is the row filter: the scan decodes and filters a row group before the limit stops it.",
    "- Wall times were taken on a shared 2-CPU machine (see the load average): judge by the CPU columns.",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=6_000_000)
    parser.add_argument("--appends", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    command = "python -m benchmarks.bench_access " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()
    )
    root = fresh_dir("access")
    results: dict[str, Any] = {"machine": machine(), "command": command, "load_before": os.getloadavg()}
    print("building the port", flush=True)
    results["table"] = build(root / "tpch", args.rows, args.appends)
    callers = Callers(root / "tpch" / ".meshlake")
    results["how"] = {caller: callers.how(caller) for caller in ("unrestricted", "restricted")}
    results["repeat"] = args.repeat
    print("queries", flush=True)
    results["queries"] = bench(callers, args.repeat)
    results["load_after"] = os.getloadavg()
    save("access", results, markdown(results))


if __name__ == "__main__":
    main()
