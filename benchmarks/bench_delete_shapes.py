"""Read shapes for pending position deletes on DuckDB and Polars, each alternated with the compacted read (issue 18).

    python -m benchmarks.bench_delete_shapes [--sizes 1000000,6000000] [--rounds 5] [--upserts 10]
                                             [--name delete_shapes]

For each size, `bench_upsert`'s read port: a lineitem port, then `--upserts` merge-on-read upserts of 1 % of its
rows (half changed rows spread over the port, half new), then compacted. Both snapshots stay readable, so every
shape below reads the same pending snapshot on one DuckDB connection, in rounds that alternate the shapes
(A B C … A B C …); medians of wall and CPU time (of every thread of the process), the answer checked against the
compacted read. Two queries: Q1 (an aggregate over ~98 % of the rows) and a selective one (an `l_orderkey` range,
which the compacted read answers from one row group of each file by its statistics).

Shapes (docs/write-modes.md, "Reading pending deletes", says why each was or was not kept):

- `compacted`: meshlake's scan of the compacted snapshot — the reference, the target is ≤ 1.3 × of it;
- `meshlake native`: meshlake's default scan of the pending snapshot (`scan_sql(plan, native=native_mode(con))` on
  a connection from `meshlake.query.native.masks.connect()`: every file in one `meshlake_scan`, which applies the
  row mask inside DuckDB's Parquet scan; left out, with the reason, where the extensions cannot be built or loaded);
- `meshlake filter`: the C extension's shape (`native="filter"`, the default where `meshlake_scan` cannot be built):
  every file in one `read_parquet`, or the clean files plain and the dirty ones masked when those hold under half
  the rows, filtered by `meshlake_kept`;
- `meshlake native, first read`: the same with its mask and the delete files' positions it is built from dropped
  before each run (a snapshot's first read);
- `meshlake SQL`: meshlake's scan of the pending snapshot without the extension, its fallback (`scan_sql`: a bit
  mask per dirty file, joined by file index);
- `anti joins`: `meshlake SQL` with anti joins on (file index, position) instead of masks (`MASK_BITS = 0`: meshlake's
  shape before the masks);
- `one anti join`: every dirty file in one anti join (one scan, so a port's row groups spread over all threads; one
  larger hash table);
- `no deletes`: the pending data files read plainly — a wrong answer on purpose: the floor of any shape that
  reads the pending files, so a shape can beat it only by reading less;
- `positional join`: each dirty file's `read_parquet` `POSITIONAL JOIN` a registered Arrow table holding a `keep`
  column, filtered on it;
- `constant bitmap`: one `read_parquet` of the dirty files filtered on `get_bit(mask, offset + file_row_number)`,
  the mask a `BIT` constant (`from_base64(…)`) in the SQL;
- `bitmap join`: masks made in SQL from the delete files (`bitstring_agg(pos)` per file), inner-joined by file
  index, filtered with `get_bit` (meshlake's masks without the `LEFT JOIN` and the row-count check);
- `arrow stream` (Q1 only): pyarrow reads Q1's columns of each file and drops the deleted rows per batch;
  DuckDB aggregates the stream;
- `merged layout`: `meshlake SQL` with each data file's delete files merged into one (the layout of one delete
  file per data file kept across upserts, which the writer does not produce: it measures what that layout would
  save readers).

Polars shapes (the same queries as lazy frames, `--skip-polars` leaves them out):

- `compacted` and `meshlake`: `to_polars` of the two snapshots (the files in one scan with a row index running
  across them, filtered on their deleted positions shifted by the rows before each file, kept after the first read);
- `meshlake, first read`: the same with the kept positions and checked row counts dropped before each run (the
  first read of a snapshot);
- `a scan per dirty file (before)`: each dirty file its own scan with its own row index, filtered on its deleted
  positions (kept), the clean files between them in plain scans;
- `native deletion files`: every file in one scan, Polars applying the delete files itself (`_deletion_files`,
  meshlake's read before);
- `native, merged layout`: the same with each data file's delete files merged into one;
- `no deletes`: the pending files read plainly (the floor, a wrong answer on purpose).
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from benchmarks.bench_upsert import ADDRESS, Q1, _close, change_of, new_port, q1_of
from benchmarks.common import fresh_dir, lineitem, machine, save

SELECTIVE_KEYS = (1000, 2000)
SELECTIVE = (
    "SELECT count(*) AS n, sum(l_extendedprice) AS s FROM {port} "
    f"WHERE l_orderkey BETWEEN {SELECTIVE_KEYS[0]} AND {SELECTIVE_KEYS[1]}"
)
Q1_COLUMNS = ["l_returnflag", "l_linestatus", "l_quantity", "l_extendedprice", "l_discount", "l_shipdate"]


def build_port(root: Path, rows: int, upserts: int, share: float) -> tuple[Any, Any]:
    """The scan plans of a port with pending deletes and of the same port after compaction."""
    from meshlake.maintenance.compact import Options, compact
    from meshlake.query.plan import cached_plan

    base = lineitem(rows)
    first_new = int(pc.max(base["l_orderkey"]).as_py()) + 1
    port = new_port(root, f"shapes_{rows}")
    port.write(base)
    size = int(rows * share)
    for index in range(upserts):
        change = change_of(base, size, seed=10 + index, first_new=first_new + index * size)
        port.write(change, mode="upsert", write_mode="merge-on-read")
    pending = port.latest().snapshot_id
    options = Options(deleted_share=0.0)
    compact(port.lake.catalog, port.table(), product_version="1.0.0", run_id="bench", apply=True, options=options)
    table = port.table()
    return cached_plan(table, pending), cached_plan(table, port.latest().snapshot_id)


def _local(path: str) -> str:
    return path.removeprefix("file://")


def _split(plan: Any) -> tuple[list[Any], list[Any]]:
    dirty = [t for t in plan.tasks if t.position_deletes]
    return dirty, [t for t in plan.tasks if not t.position_deletes]


def keep_masks(plan: Any) -> list[np.ndarray]:
    """Per dirty file, True for each row its (file-scoped) position deletes keep."""
    masks = []
    for task in _split(plan)[0]:
        keep = np.ones(task.record_count, dtype=bool)
        for delete in task.position_deletes:
            assert delete.referenced_file == task.path, "the benchmark's deletes are file-scoped"
            keep[pq.read_table(_local(delete.path), columns=["pos"])["pos"].to_numpy()] = False
        masks.append(keep)
    return masks


def _columns(plan: Any) -> str:
    from meshlake.query.types import quote_ident

    return ", ".join(quote_ident(f.name) for f in plan.schema.fields)


def _union(plan: Any, clean: Sequence[Any], dirty_parts: list[str]) -> str:
    from meshlake.query.sql import _read, schema_map

    plain = [f"SELECT {_columns(plan)} FROM {_read(clean, schema_map(plan.schema.fields))}"] if clean else []
    return " UNION ALL ".join([*plain, *dirty_parts])


def no_deletes(plan: Any) -> str:
    from meshlake.query.sql import _read, schema_map

    return f"SELECT {_columns(plan)} FROM {_read(plan.tasks, schema_map(plan.schema.fields))}"


def anti_joins(plan: Any, *, one_group: bool = False) -> str:
    """meshlake's scan with anti joins instead of masks, grouped as meshlake groups or all in one group."""
    from meshlake.query import sql

    kept = sql.GROUP_DELETES, sql.MASK_BITS
    sql.MASK_BITS = 0
    sql.GROUP_DELETES = 1 << 62 if one_group else kept[0]
    try:
        return sql.scan_sql(plan)
    finally:
        sql.GROUP_DELETES, sql.MASK_BITS = kept


def positional_join(plan: Any, con: Any) -> str:
    from meshlake.query.sql import _read, schema_map

    dirty, clean = _split(plan)
    parts = []
    for index, (task, keep) in enumerate(zip(dirty, keep_masks(plan), strict=True)):
        con.register(f"__keep{index}", pa.table({"__keep": keep}))
        read = _read([task], schema_map(plan.schema.fields))
        parts.append(f"SELECT {_columns(plan)} FROM {read} POSITIONAL JOIN __keep{index} WHERE __keep")
    return _union(plan, clean, parts)


def constant_bitmap(plan: Any) -> str:
    from meshlake.query.sql import _read, schema_map

    dirty, clean = _split(plan)
    keeps = keep_masks(plan)
    offsets = ",".join(str(int(n)) for n in np.cumsum([0] + [len(k) for k in keeps[:-1]]))
    bits = base64.b64encode(np.packbits(~np.concatenate(keeps))).decode()  # bit i (from the left) = row i
    read = _read(dirty, schema_map(plan.schema.fields), ", file_row_number = true")
    row = f"(CAST([{offsets}] AS BIGINT[]))[CAST(file_index AS BIGINT) + 1] + file_row_number"
    test = f"get_bit(CAST(from_base64('{bits}') AS BIT), CAST({row} AS INTEGER)) = 0"
    return _union(plan, clean, [f"SELECT {_columns(plan)} FROM {read} WHERE {test}"])


def bitmap_join(plan: Any) -> str:
    from meshlake.query.sql import _POS_ENTRY, _read, path_list, schema_map
    from meshlake.query.types import quote_ident

    dirty, clean = _split(plan)
    index = {t.path: i for i, t in enumerate(dirty)}
    deletes = [(d, index[t.path]) for t in dirty for d in t.position_deletes]
    numbers = ",".join(str(i) for _, i in deletes)
    target = f"(CAST(string_split('{numbers}', ',') AS BIGINT[]))[CAST(p.file_index AS BIGINT) + 1]"
    top = max(t.record_count for t in dirty) - 1
    masks = (
        f"SELECT {target} AS file_index, bitstring_agg(p.pos, 0, {top}) AS mask "
        f"FROM read_parquet({path_list([d.path for d, _ in deletes])}, schema = MAP {{{_POS_ENTRY}}}) AS p GROUP BY 1"
    )
    read = _read(dirty, schema_map(plan.schema.fields), ", file_row_number = true")
    select = ", ".join(f"d.{quote_ident(f.name)}" for f in plan.schema.fields)
    body = (
        f"SELECT {select} FROM (SELECT *, CAST(file_index AS BIGINT) AS fi FROM {read}) AS d "
        f"JOIN ({masks}) AS m ON m.file_index = d.fi WHERE get_bit(m.mask, CAST(d.file_row_number AS INTEGER)) = 0"
    )
    return _union(plan, clean, [body])


def arrow_stream(plan: Any) -> Callable[[], pa.RecordBatchReader]:
    """A reader of Q1's columns with the deletes applied in pyarrow (the best case: only the columns Q1 reads)."""
    dirty, clean = _split(plan)
    keeps = keep_masks(plan)
    schema = pq.ParquetFile(_local(plan.tasks[0].path)).schema_arrow
    schema = pa.schema([schema.field(name) for name in Q1_COLUMNS])

    def batches() -> Any:
        for task in clean:
            yield from pq.ParquetFile(_local(task.path)).iter_batches(batch_size=1 << 16, columns=Q1_COLUMNS)
        for task, keep in zip(dirty, keeps, strict=True):
            offset = 0
            for batch in pq.ParquetFile(_local(task.path)).iter_batches(batch_size=1 << 16, columns=Q1_COLUMNS):
                yield batch.filter(pa.array(keep[offset : offset + batch.num_rows]))
                offset += batch.num_rows

    return lambda: pa.RecordBatchReader.from_batches(schema, batches())


def merged_layout(plan: Any, folder: Path) -> Any:
    """`plan` with each dirty file's (file-scoped) delete files merged into one, written under `folder`."""
    import dataclasses

    folder.mkdir(parents=True, exist_ok=True)
    tasks = []
    for index, task in enumerate(plan.tasks):
        if task.position_deletes:
            rows = pa.concat_tables([pq.read_table(_local(d.path)) for d in task.position_deletes]).sort_by("pos")
            path = folder / f"{index}-deletes.parquet"
            pq.write_table(rows, path, compression="zstd")
            newest = max(task.position_deletes, key=lambda d: d.sequence_number)
            merged = dataclasses.replace(newest, path=str(path), record_count=rows.num_rows)
            tasks.append(dataclasses.replace(task, position_deletes=(merged,)))
        else:
            tasks.append(task)
    return dataclasses.replace(plan, tasks=tuple(tasks))


def polars_q1(frame: Any) -> Any:
    return q1_of(frame).rows()


def polars_selective(frame: Any) -> Any:
    import polars as pl

    low, high = SELECTIVE_KEYS
    keys = frame.filter(pl.col("l_orderkey").is_between(low, high))
    return keys.select(pl.len().alias("n"), pl.col("l_extendedprice").sum().alias("s")).collect().rows()


def polars_shapes(pending: Any, compacted: Any, merged: Any) -> dict[str, Callable[[], Any]]:
    """Lazy frames of each Polars shape (module docstring)."""
    from meshlake.query import polars_scan
    from meshlake.query.polars_scan import _scan, schema_to_pyarrow, to_polars

    def native(plan: Any) -> Any:
        kept = polars_scan.FILTERED_MAX_FILES
        polars_scan.FILTERED_MAX_FILES = 0
        try:
            return to_polars(plan)
        finally:
            polars_scan.FILTERED_MAX_FILES = kept

    def first_read() -> Any:
        polars_scan.delete_positions.clear()
        polars_scan.row_counts.clear()
        return to_polars(pending)

    def per_file() -> Any:
        """meshlake's shape before: each dirty file a scan of its own with its own row index, the clean files between
        them in plain scans."""
        import polars as pl

        schema = schema_to_pyarrow(pending.schema)
        frames: list[Any] = []
        run: list[str] = []
        for task in pending.tasks:
            if not task.position_deletes:
                run.append(task.path)
                continue
            frames += [_scan(pending, run, None, schema)] if run else []
            run = []
            deleted = polars_scan.delete_positions.of(task, None).implode()
            frame = _scan(pending, [task.path], None, schema, row_index_name="__ml_row")
            frames.append(frame.filter(~pl.col("__ml_row").is_in(deleted)).drop("__ml_row"))
        frames += [_scan(pending, run, None, schema)] if run else []
        return pl.concat(frames)

    def plain() -> Any:
        return _scan(pending, [t.path for t in pending.tasks], None, schema_to_pyarrow(pending.schema))

    return {
        "compacted": lambda: to_polars(compacted),
        "meshlake": lambda: to_polars(pending),
        "meshlake, first read": first_read,
        "a scan per dirty file (before)": per_file,
        "native deletion files": lambda: native(pending),
        "native, merged layout": lambda: native(merged),
        "no deletes": plain,
    }


def race(runs: dict[str, Callable[[], Any]], rounds: int) -> dict[str, dict[str, Any]]:
    """Each run once to warm up, then `rounds` rounds in which every run takes its turn (in reverse every other
    round); medians."""
    answers = {name: run() for name, run in runs.items()}
    walls: dict[str, list[float]] = {name: [] for name in runs}
    cpus: dict[str, list[float]] = {name: [] for name in runs}
    for round_ in range(rounds):
        for name, run in runs.items() if round_ % 2 == 0 else reversed(runs.items()):
            wall, cpu = time.perf_counter(), time.process_time()
            run()
            walls[name].append(time.perf_counter() - wall)
            cpus[name].append(time.process_time() - cpu)
    reference = answers["compacted"]
    return {
        name: {
            "median_s": statistics.median(walls[name]),
            "cpu_median_s": statistics.median(cpus[name]),
            "runs_s": walls[name],
            "cpu_runs_s": cpus[name],
            "same_answer": _close(reference, answers[name]),
        }
        for name in runs
    }


def bench_size(root: Path, rows: int, rounds: int, upserts: int, share: float, polars: bool = True) -> dict[str, Any]:
    from meshlake.query.native.masks import connect
    from meshlake.query.sql import scan_sql

    pending, compacted = build_port(root, rows, upserts, share)
    merged = merged_layout(pending, root / f"merged_{rows}")
    from meshlake.query.native.build import scan_extension_path

    scan_extension_path()  # compiled now (once per machine), not aside while `connect` filters
    con = connect()  # meshlake's extensions loaded, as on meshlake's own connections, when they can be built here
    con.execute("SET parquet_metadata_cache = true; SET enable_progress_bar = false")  # as meshlake's sessions
    shapes = {
        "compacted": scan_sql(compacted),
        **native_shapes(pending, con),
        "meshlake SQL": scan_sql(pending),
        "anti joins": anti_joins(pending),
        "one anti join": anti_joins(pending, one_group=True),
        "no deletes": no_deletes(pending),
        "positional join": positional_join(pending, con),
        "constant bitmap": constant_bitmap(pending),
        "bitmap join": bitmap_join(pending),
        "merged layout": scan_sql(merged),
    }
    result: dict[str, Any] = {
        "rows": rows,
        "native": native_state(con),
        "data_files": len(pending.tasks),
        "delete_files": len({d.path for t in pending.tasks for d in t.position_deletes}),
        "deleted_rows": sum(d.record_count for t in pending.tasks for d in t.position_deletes),
        "sql_chars": {name: len(sql) for name, sql in shapes.items()},
    }
    for query_name, query in (("q1", Q1), ("selective", SELECTIVE)):
        text = query.replace(ADDRESS, "{port}")
        runs = {name: _runner(con, text.format(port=f"({sql}) AS t")) for name, sql in shapes.items()}
        if NATIVE in runs:  # the first read builds the mask again (the query text names it by its digest)
            first = text.format(port="({sql}) AS t")
            items = list(runs.items())
            at = [name for name, _ in items].index(NATIVE) + 1
            first_read = (f"{NATIVE}, first read", lambda first=first: _first_native_read(con, pending, first))
            runs = dict([*items[:at], first_read, *items[at:]])
        if query_name == "q1":
            stream = arrow_stream(pending)
            runs["arrow stream"] = lambda text=text, stream=stream: _arrow_run(con, text, stream)
        timings = race(runs, rounds)
        result[query_name] = timings
        result[f"{query_name}_load_average"] = os.getloadavg()
    if polars:
        frames = polars_shapes(pending, compacted, merged)
        for query_name, polars_query in (("q1", polars_q1), ("selective", polars_selective)):
            runs = {name: (lambda frame=frame, q=polars_query: q(frame())) for name, frame in frames.items()}
            result[f"polars_{query_name}"] = race(runs, rounds)
            result[f"polars_{query_name}_load_average"] = os.getloadavg()
    return result


NATIVE = "meshlake native"
"""The shape meshlake reads pending deletes with by default: `scan_sql(plan, native=native_mode(con))` on a
connection with its DuckDB extensions loaded (`meshlake.query.native`): `meshlake_scan` where it can be built."""


FILTER = "meshlake filter"
"""The C extension's shape (`scan_sql(plan, native="filter")`): the mask tested by `meshlake_kept` in a filter above
`read_parquet`, what meshlake reads with where `meshlake_scan` cannot be built."""


def native_shapes(pending: Any, con: Any) -> dict[str, str]:
    """`NATIVE`'s text (and `FILTER`'s, when `NATIVE` is `meshlake_scan`) when `con` loaded meshlake's extensions
    (their mask built and loaded now), else nothing."""
    from meshlake.query.native.masks import native_mode
    from meshlake.query.sql import scan_sql

    mode = native_mode(con)
    if mode is None:
        return {}
    filtered = {FILTER: scan_sql(pending, native="filter")} if mode == "scan" else {}
    return {NATIVE: scan_sql(pending, native=mode), **filtered}


def native_state(con: Any) -> dict[str, Any]:
    """Whether `con` loaded meshlake's extensions (`mode`: `scan` or `filter`), and why not."""
    from meshlake.query.native.build import scan_unavailable_reason, unavailable_reason
    from meshlake.query.native.masks import loaded, native_mode

    return {
        "loaded": loaded(con),
        "mode": native_mode(con),
        "unavailable": None if loaded(con) else unavailable_reason() or "refused",
        "scan_unavailable": scan_unavailable_reason(),
    }


def _first_native_read(con: Any, pending: Any, text: str) -> Any:
    """`NATIVE`'s first read of the snapshot: its mask, and the delete files' positions it is built from, dropped
    first, so the query text's building builds them again."""
    from meshlake.query.native.masks import masks, native_mode
    from meshlake.query.polars_scan import delete_positions
    from meshlake.query.sql import scan_sql

    masks.clear()
    delete_positions.clear()
    return con.execute(text.format(sql=scan_sql(pending, native=native_mode(con)))).fetchall()


def _runner(con: Any, sql: str) -> Callable[[], Any]:
    return lambda: con.execute(sql).fetchall()


def _arrow_run(con: Any, text: str, stream: Callable[[], pa.RecordBatchReader]) -> Any:
    reader = stream()
    con.register("__arrow_stream", reader)
    try:
        return con.execute(text.format(port="__arrow_stream")).fetchall()
    finally:
        con.unregister("__arrow_stream")


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "# Reading pending position deletes on DuckDB and Polars: shapes vs the compacted read",
        "",
        f"`{results['command']}` — {results['machine']['cpus']} CPUs, DuckDB {results['machine']['duckdb']}; "
        f"each shape is a relation over the same pending snapshot, rounds alternate the shapes, median of "
        f"{results['rounds']}. Wall time, CPU time of all threads in brackets, ratio to `compacted` (CPU ratio). "
        f"Polars {results['machine']['polars']}: the same queries as lazy frames.",
        "",
        f"`{NATIVE}` is how meshlake reads pending position deletes on DuckDB by default (`lake.sql`, "
        "`lake.duckdb()`, `read_arrow`, the private database): one `meshlake_scan` (DuckDB's `read_parquet` with "
        "meshlake's row mask applied inside the Parquet scan, a C++ extension for DuckDB 2.0.1 compiled on first "
        f"use); `{FILTER}` is the same mask tested in a filter above `read_parquet` by the C extension's "
        "`meshlake_kept` (what other DuckDB versions get, or `MESHLAKE_NATIVE_DELETES=filter`); "
        f"`{NATIVE}, first read` builds its mask from the delete files before each run. `meshlake SQL` "
        "is meshlake's fallback where the extension is not loaded (no C compiler, `MESHLAKE_NATIVE_DELETES=off`, a "
        "caller's connection that refuses unsigned extensions): anti joins, or masks from `bitstring_agg` joined by "
        "file index. On Polars, `meshlake` is `to_polars`, the default.",
        *_native_missing(results),
    ]
    for size in results["sizes"]:
        lines += [
            "",
            f"## {size['rows']:,} rows: {size['data_files']} data files, {size['delete_files']} delete files, "
            f"{size['deleted_rows']:,} deleted rows",
        ]
        for engine, prefix in (("DuckDB", ""), ("Polars", "polars_")):
            if f"{prefix}q1" not in size:
                continue
            lines += ["", *_table(size, prefix, engine)]
            loads = " / ".join(f"{size[f'{prefix}{q}_load_average'][0]:.1f}" for q in ("q1", "selective"))
            lines += ["", f"Load average (1 min) when {engine}'s Q1 / selective query ended: {loads}."]
    lines += [
        "",
        "",
        "`no deletes` reads the pending files without applying their deletes (a wrong answer, on purpose): the "
        "floor of any shape that reads them. The target (issue 18) is ≤ 1.3 × the compacted read.",
        "",
    ]
    return "\n".join(lines)


def _native_missing(results: dict[str, Any]) -> list[str]:
    """A line saying why the native shape is missing from a size's table, if it is."""
    missing = {
        f"{size['rows']:,} rows: {size['native']['unavailable']}"
        for size in results["sizes"]
        if "native" in size and not size["native"]["loaded"]
    }
    return [f"Not timed, meshlake's extension was not loaded ({'; '.join(sorted(missing))})."] if missing else []


def _table(size: dict[str, Any], prefix: str, engine: str) -> list[str]:
    q1s, selectives = size[f"{prefix}q1"], size[f"{prefix}selective"]
    lines = [
        f"| {engine} shape | Q1 | Q1 ratio | selective | selective ratio | same answers |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, q1 in q1s.items():
        sel = selectives.get(name)
        same = q1["same_answer"] and (sel is None or sel["same_answer"])
        lines.append(
            f"| {name} | {_ms(q1)} | {_ratio(q1, q1s['compacted'])} | {_ms(sel) if sel else '—'} "
            f"| {_ratio(sel, selectives['compacted']) if sel else '—'} | {same} |"
        )
    return lines


def _ms(timing: dict[str, Any]) -> str:
    return f"{timing['median_s'] * 1000:,.0f} ms ({timing['cpu_median_s'] * 1000:,.0f} ms)"


def _ratio(timing: dict[str, Any], reference: dict[str, Any]) -> str:
    wall = timing["median_s"] / reference["median_s"]
    return f"{wall:.2f} × ({timing['cpu_median_s'] / reference['cpu_median_s']:.2f} ×)"


def run(
    sizes: list[int],
    *,
    rounds: int = 5,
    upserts: int = 10,
    share: float = 0.01,
    name: str = "delete_shapes",
    command: str = "python -m benchmarks.bench_delete_shapes",
    polars: bool = True,
) -> dict[str, Any]:
    """Run the comparison for each port size; returns the results (also written to benchmarks/results/<name>)."""
    root = fresh_dir("delete_shapes")
    os.environ["MESHLAKE_CACHE_DIR"] = str(root / "cache")
    measured: list[dict[str, Any]] = []
    results: dict[str, Any] = {
        "machine": machine(),
        "command": command,
        "rounds": rounds,
        "upserts": upserts,
        "share": share,
        "sizes": measured,
    }
    for rows in sizes:
        measured.append(bench_size(root, rows, rounds, upserts, share, polars))
        save(name, results, markdown(results))  # each size as it is done: a later failure keeps it
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000000,6000000")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--upserts", type=int, default=10)
    parser.add_argument("--share", type=float, default=0.01)
    parser.add_argument("--name", default="delete_shapes", help="results file name under benchmarks/results/")
    parser.add_argument("--skip-polars", action="store_true", help="only the DuckDB shapes")
    args = parser.parse_args()
    run(
        [int(size) for size in args.sizes.split(",")],
        rounds=args.rounds,
        upserts=args.upserts,
        share=args.share,
        name=args.name,
        command="python -m benchmarks.bench_delete_shapes " + " ".join(sys.argv[1:]),
        polars=not args.skip_polars,
    )


if __name__ == "__main__":
    main()
