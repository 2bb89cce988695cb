"""Uniqueness counted in a bitmap when the data files' bounds say the integer key is dense."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import meshlake as ml
from meshlake.contract.expectations import Expectation
from meshlake.errors import QualityGateError
from meshlake.quality.bitmap import MAX_BITS, IntRange, RangeLookup, staged_ranges
from meshlake.quality.compile import Column, compile_plan
from meshlake.quality.native import run_native
from meshlake.quality.report import ExpectationResult
from tests.quality.conftest import relation, write_parquet

UNIQUE = "expect_column_values_to_be_unique"
COMPOUND = "expect_compound_columns_to_be_unique"


def exact_ranges(table: pa.Table) -> RangeLookup:
    """The ranges a file's metrics would give, computed from the data itself."""

    def lookup(names: Sequence[str]) -> Mapping[str, IntRange]:
        found = {}
        for name in names:
            column = table.column(name)
            bounds = pc.min_max(column)
            if bounds["min"].as_py() is not None:
                found[name] = IntRange(bounds["min"].as_py(), bounds["max"].as_py(), column.null_count > 0)
        return found

    return lookup


def narrowed(lookup: RangeLookup) -> RangeLookup:
    """Stale metrics: every range one value too narrow at both ends, and NULLs claimed absent."""
    return lambda names: {n: IntRange(r.low + 1, r.high - 1, False) for n, r in lookup(names).items()}


def verdicts(results: Sequence[ExpectationResult]) -> list[tuple[Any, ...]]:
    return [(r.status, r.unexpected_count, r.element_count, r.unexpected_percent) for r in results]


DATASETS: dict[str, dict[str, list[Any]]] = {
    "unique": {"a": [3, 1, 2, 7, 5], "b": [0, 0, 0, 1, 1]},
    "duplicates": {"a": [1, 1, 1, 2, 3, 3, -4, 9], "b": [5, 5, 6, 7, 7, 7, 8, 8]},
    "nulls": {"a": [1, None, None, 2, 2, 3], "b": [1, None, 2, None, None, 1]},
    "negative": {"a": [-(2**40), -(2**40) + 5, -(2**40) + 5, -(2**40) + 1], "b": [-1, -2, -2, -3]},
}
EXPECTATIONS = [
    Expectation(UNIQUE, {"column": "a"}),
    Expectation(UNIQUE, {"column": "a", "mostly": 0.5}),
    Expectation(COMPOUND, {"column_list": ["a", "b"]}),
    Expectation(COMPOUND, {"column_list": ["a", "b"], "ignore_row_if": "any_value_is_missing"}),
    Expectation(COMPOUND, {"column_list": ["b", "a"], "ignore_row_if": "never"}),
]


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_bitmap_counts_agree_with_hashing_even_on_stale_bounds(name: str, tmp_path: Path) -> None:
    table = pa.table({k: pa.array(v, pa.int64()) for k, v in DATASETS[name].items()})
    sql = relation([write_parquet(table, tmp_path / "t.parquet")])

    def run(ranges: RangeLookup | None) -> list[tuple[Any, ...]]:
        results = run_native(
            duckdb.connect(), relation_sql=sql, new_rows_sql=None, expectations=EXPECTATIONS, ranges=ranges
        )
        return verdicts(results)

    hashed = run(None)
    assert run(exact_ranges(table)) == hashed
    assert run(narrowed(exact_ranges(table))) == hashed


def test_the_bitmap_is_used_only_for_a_known_small_integer_range() -> None:
    columns = {"a": Column("a", "BIGINT"), "b": Column("b", "INTEGER"), "s": Column("s", "VARCHAR")}

    def distinct(exp: Expectation, ranges: Mapping[str, IntRange]) -> str:
        plan = compile_plan(exp, columns, source="table", source_sql="t", ranges=lambda _: ranges)
        return plan.aggregates["distinct"]

    single, pair = Expectation(UNIQUE, {"column": "a"}), Expectation(COMPOUND, {"column_list": ["a", "b"]})
    small = {"a": IntRange(0, 999, False), "b": IntRange(-5, 5, False)}
    assert "bitstring_agg" in distinct(single, small)
    assert "bitstring_agg" in distinct(pair, small)
    assert "bitstring_agg" in distinct(single, {"a": IntRange(0, MAX_BITS - 1, True)})
    assert "bitstring_agg" not in distinct(single, {"a": IntRange(0, MAX_BITS, False)})
    assert "bitstring_agg" not in distinct(pair, {"a": IntRange(0, MAX_BITS // 8, False), "b": small["b"]})
    assert "bitstring_agg" not in distinct(single, {})
    assert "bitstring_agg" not in distinct(Expectation(UNIQUE, {"column": "s"}), small)
    with_nulls = small | {"b": IntRange(-5, 5, True)}
    assert "bitstring_agg" not in distinct(pair, with_nulls)
    ignoring = Expectation(COMPOUND, {"column_list": ["a", "b"], "ignore_row_if": "any_value_is_missing"})
    assert "bitstring_agg" in distinct(ignoring, with_nulls)


DESCRIPTOR = """\
apiVersion: meshlake/v1
domain: keys
name: orders
version: 1.0.0
owner: {team: keys}
outputs:
  - name: lines
    columns:
      - {name: order_id, type: long, required: true}
      - {name: line, type: int}
      - {name: note, type: string}
    expectations:
      - expect_column_values_to_be_unique: {column: order_id}
      - expect_compound_columns_to_be_unique: {column_list: [order_id, line]}
"""


@pytest.fixture
def lines(lake: ml.Lake, tmp_path: Path) -> Any:
    path = tmp_path / "dataproduct.yaml"
    path.write_text(DESCRIPTOR)
    lake.deploy(path)
    return lake.port("keys.orders.lines")


def batch(ids: list[int], lines: list[int | None]) -> pa.Table:
    return pa.table({"order_id": pa.array(ids, pa.int64()), "line": pa.array(lines, pa.int32())})


def test_key_ranges_come_from_the_metrics_of_new_and_base_files(lines: Any) -> None:
    lines.write(batch([10, 11, 12], [1, 2, None]))
    lines.write(batch([-3, 40], [7, 8]))
    snapshot = lines.latest()
    lookup = staged_ranges(snapshot.metadata, snapshot.io, snapshot.snapshot_id, snapshot.plan, ())
    assert lookup(["order_id", "line", "note"]) == {
        "order_id": IntRange(-3, 40, False),
        "line": IntRange(1, 8, True),
    }
    first = lines.table().metadata.snapshots[0].snapshot_id
    assert staged_ranges(snapshot.metadata, snapshot.io, first, snapshot.plan, ())(["order_id"]) == {}, (
        "a file the base does not list has no metrics at hand: no range"
    )


def test_an_overwrite_with_duplicate_keys_is_stopped_with_exact_counts(lines: Any) -> None:
    lines.write(batch([1, 2, 3], [1, 1, 1]))
    before = lines.latest().snapshot_id
    with pytest.raises(QualityGateError) as caught:
        lines.write(batch([5, 5, 5, 6, 7], [1, 2, 2, 1, 1]), mode="overwrite")
    failed = {r.expectation: r.unexpected_count for r in caught.value.report.failed}
    assert failed == {UNIQUE: 3, COMPOUND: 2}
    assert lines.latest().snapshot_id == before
    assert lines.write(batch([5, 6, 7], [1, 1, 1]), mode="overwrite").quality.passed
    report = lines.check()
    assert report.passed and {r.element_count for r in report.results} == {3}


def test_an_append_of_new_keys_counts_them_in_a_bitmap_of_the_new_files_ranges() -> None:
    from meshlake.quality.incremental import Incremental, incremental_plan

    columns = {"a": Column("a", "BIGINT"), "b": Column("b", "INTEGER"), "s": Column("s", "VARCHAR")}
    state = {"unexpected": 0, "nonnull": 3}
    small = {"a": IntRange(100, 199, False), "b": IntRange(1, 2, False)}

    def new_distinct(exp: Expectation, ranges: Mapping[str, IntRange] | None) -> str:
        lookup = (lambda _: ranges) if ranges is not None else None
        incremental = Incremental(lambda: "base", 9, {}, lambda _names, _nulls: None, lookup)
        plan = incremental_plan(exp, columns, state, incremental, new_sql="new", sample_size=5)
        assert plan is not None
        return str(plan.aggregates["new_distinct"])

    single, pair = Expectation(UNIQUE, {"column": "a"}), Expectation(COMPOUND, {"column_list": ["a", "b"]})
    assert "bitstring_agg" in new_distinct(single, small)
    assert "bitstring_agg" in new_distinct(pair, small)
    assert "bitstring_agg" not in new_distinct(single, None)
    assert "bitstring_agg" not in new_distinct(single, {"a": IntRange(0, MAX_BITS, False)})
    assert "bitstring_agg" not in new_distinct(Expectation(UNIQUE, {"column": "s"}), small)


def test_an_append_of_duplicated_new_keys_is_stopped_with_the_counts_of_a_full_check(lines: Any) -> None:
    lines.write(batch([1, 2, 3], [1, 1, 1]))
    before = lines.latest().snapshot_id

    with pytest.raises(QualityGateError) as caught:
        lines.write(batch([100, 100, 100, 101, 102], [1, 2, 2, 1, None]))  # no base file holds 100…102

    failed = {r.expectation: r.unexpected_count for r in caught.value.report.failed}
    assert failed == {UNIQUE: 3, COMPOUND: 2}
    assert lines.latest().snapshot_id == before
    assert all(r.method == "incremental" for r in caught.value.report.results if r.expectation in failed)
    full = lines.check(caught.value.quarantine_branch)  # every row of the quarantined snapshot, no stamps
    assert {r.expectation: r.unexpected_count for r in full.failed} == failed
