"""Property: `port.diff` equals a brute-force DuckDB FULL OUTER JOIN of the two whole snapshots, on random histories
of appends, upserts, deletes and overwrites (meshlake's copy-on-write), and merge-on-read position and equality
deletes as Spark and Flink write them (delete files)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import meshlake as ml
from tests.lifecycle.conftest import TWO_PORTS, write_product
from tests.query.conftest import commit_files, equality_deletes, files_of, position_deletes

KEYS = st.integers(min_value=1, max_value=40)
AMOUNTS = st.one_of(st.none(), st.sampled_from([0.0, 1.5, 2.5, -3.0]))
EMAILS = st.one_of(st.none(), st.sampled_from(["a@x.io", "b@x.io", "c@x.io"]))
ROWS = st.dictionaries(KEYS, st.tuples(AMOUNTS, EMAILS), min_size=1, max_size=8)
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("append"), ROWS),
        st.tuples(st.just("upsert"), ROWS),
        st.tuples(st.just("delete"), st.lists(KEYS, min_size=1, max_size=4)),
        st.tuples(st.just("overwrite"), ROWS),
    ),
    min_size=1,
    max_size=6,
)
MERGE_ON_READ = st.lists(
    st.one_of(
        st.tuples(st.just("equality-delete"), st.lists(KEYS, min_size=1, max_size=4)),
        st.tuples(st.just("position-delete"), st.integers(min_value=0, max_value=7)),
    ),
    max_size=3,
)
"""Delete files come last: meshlake's own writes refuse a table with equality deletes (pyiceberg cannot rewrite it)."""


def _table(rows: dict[int, tuple[Any, Any]]) -> pa.Table:
    ids = sorted(rows)
    return pa.table(
        {
            "order_id": pa.array(ids, pa.int64()),
            "amount": pa.array([rows[i][0] for i in ids], pa.float64()),
            "email": pa.array([rows[i][1] for i in ids], pa.string()),
        }
    )


def brute_force(a: pa.Table, b: pa.Table) -> tuple[int, int, int, dict[str, int]]:
    con = duckdb.connect()
    con.register("a", a)
    con.register("b", b)
    both = "a.order_id IS NOT NULL AND b.order_id IS NOT NULL"
    (row,) = con.execute(
        f"""
        SELECT count(*) FILTER (a.order_id IS NULL),
               count(*) FILTER (b.order_id IS NULL),
               count(*) FILTER ({both} AND (a.amount IS DISTINCT FROM b.amount OR a.email IS DISTINCT FROM b.email)),
               count(*) FILTER ({both} AND a.amount IS DISTINCT FROM b.amount),
               count(*) FILTER ({both} AND a.email IS DISTINCT FROM b.email)
        FROM a FULL OUTER JOIN b ON a.order_id = b.order_id
        """
    ).fetchall()
    con.close()
    columns = {name: int(n) for name, n in (("amount", row[3]), ("email", row[4])) if n}
    return int(row[0]), int(row[1]), int(row[2]), columns


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(written=OPS, deleted=MERGE_ON_READ, pick_a=st.integers(0, 8), pick_b=st.integers(0, 8))
@example(written=[("append", {1: (1.5, "a@x.io"), 2: (None, None)})], deleted=[("position-delete", 0)], pick_a=0,
         pick_b=1)  # a data file both snapshots share, a delete file in one: must be read  # fmt: skip
@example(written=[("append", {1: (1.5, None)}), ("append", {2: (0.0, None)})], deleted=[("equality-delete", [1, 3])],
         pick_a=2, pick_b=0)  # fmt: skip
def test_diff_equals_a_full_outer_join_of_both_snapshots(
    written: list[tuple[str, Any]], deleted: list[tuple[str, Any]], pick_a: int, pick_b: int
) -> None:
    ops = written + deleted
    with tempfile.TemporaryDirectory() as home:
        lake = ml.connect(home=home + "/.meshlake")
        lake.deploy(write_product(Path(home) / "p", TWO_PORTS))
        port = lake.port("sales.orders.placed")
        current: dict[int, tuple[Any, Any]] = {}
        snapshots = []
        for op, arg in ops:
            if op == "append":
                fresh = {k: v for k, v in arg.items() if k not in current}
                if not fresh:
                    continue
                port.write(_table(fresh))
                current.update(fresh)
            elif op == "upsert":
                port.write(_table(arg), mode="upsert")
                current.update(arg)
            elif op == "delete":
                port.delete(f"order_id IN ({', '.join(map(str, arg))})")
                for key in arg:
                    current.pop(key, None)
            elif op == "overwrite":
                port.write(_table(arg), mode="overwrite")
                current = dict(arg)
            elif op == "equality-delete":  # merge-on-read, as Flink writes it
                table = port.table()
                commit_files(table, deletes=[equality_deletes(table, {"order_id": arg})])
                for key in arg:
                    current.pop(key, None)
            else:  # a position delete of row `arg` of each data file, as Spark writes it
                table = port.table()
                if table.current_snapshot() is None:
                    continue
                targets = [(path, arg) for path in files_of(table) if pq.read_metadata(path).num_rows > arg]
                if not targets:
                    continue
                commit_files(table, deletes=[position_deletes(table, targets, bounds=False)])
                live = port.latest().to_arrow().to_pylist()
                current = {r["order_id"]: (r["amount"], r["email"]) for r in live}
            head = port.latest().snapshot_id
            if head is not None:  # a delete on a port never written commits nothing
                snapshots.append(head)
        if not snapshots:
            return
        a, b = snapshots[pick_a % len(snapshots)], snapshots[pick_b % len(snapshots)]
        found = port.diff(a, b)
        expected = brute_force(port.at(a).to_arrow(), port.at(b).to_arrow())
        assert (found.added, found.removed, found.changed, found.column_changes) == expected
        assert found.files_read <= found.files_total
        latest = port.latest().to_arrow().column("order_id").to_pylist()
        assert sorted(latest) == sorted(current)  # the history did what the test thinks it did
