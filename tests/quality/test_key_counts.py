"""A uniqueness check answered elsewhere (a distributed engine's shuffle by key) is taken as the check's answer.

`evaluate_native(…, key_counts=…)` fills the uniqueness plans from `KeyCounts` instead of reading the rows: the
result has the native engine's shape and verdict, its failing rows are those of the example keys, and every
uniqueness result says where it ran. The engines themselves are tested against the driver in
tests/distributed/test_unique_on_engine.py.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from meshlake.contract.expectations import Expectation
from meshlake.quality.metrics import KeyCounts
from meshlake.quality.native import evaluate_native

CHECKS = [
    Expectation("expect_column_values_to_be_unique", {"column": "id"}),
    Expectation("expect_compound_columns_to_be_unique", {"column_list": ["lane", "slot"]}),
    Expectation("expect_column_values_to_not_be_null", {"column": "id"}),
]


def _con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    rows = pa.table(
        {"id": ["a", "a", "b", None], "lane": ["x", "x", None, None], "slot": pa.array([1, 1, 2, None], pa.int64())}
    )
    con.register("t", rows)
    return con


def _run(key_counts: dict[int, KeyCounts] | None) -> tuple[object, ...]:
    run = evaluate_native(
        _con(), relation_sql="t", new_rows_sql=None, expectations=CHECKS, sample_size=5, key_counts=key_counts
    )
    return run.results


def test_counts_from_an_engine_give_the_verdict_the_driver_computes() -> None:
    engine = {0: KeyCounts("daft", 3, 2, (("a",),)), 1: KeyCounts("daft", 3, 2, (("x", 1),))}

    on_engine, on_driver = _run(engine), _run({})

    for a, b in zip(on_engine[:2], on_driver[:2], strict=True):
        assert (a.status, a.element_count, a.unexpected_count, a.unexpected_percent, a.method) == (
            b.status,
            b.element_count,
            b.unexpected_count,
            b.unexpected_percent,
            b.method,
        )
        assert sorted(map(repr, a.sample)) == sorted(map(repr, b.sample))
    assert [r.ran_on for r in on_engine] == ["daft", "daft", None]  # a null check is no uniqueness check
    assert [r.ran_on for r in on_driver] == ["driver", "driver", None]
    assert [r.ran_on for r in _run(None)] == [None, None, None]  # not a distributed write: nothing to say


def test_the_gate_takes_the_engines_counts_without_reading_the_rows_for_them() -> None:
    claimed = _run({0: KeyCounts("ray", 3, 0)})  # the rows repeat "a", but the engine counted none

    assert claimed[0].status == "passed" and claimed[0].unexpected_count == 0 and claimed[0].ran_on == "ray"
    assert claimed[0].element_count == 4  # the row count is still the relation's (from the files' metadata)
    assert claimed[1].unexpected_count == 2 and claimed[1].ran_on == "driver"  # not handed in: counted here
