"""Mergeable metrics (`meshlake.quality.metrics`): merged partials give exactly the results of the DuckDB pass.

Every applicable case of Great Expectations' own test definitions runs twice on the native engine: once scanning
the rows (the pass over the files), once with the aggregates that merge measured per row group (the rows cut
into pieces, one of them empty) and merged. The results, observed values and samples included, are identical.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from typing import Any, Literal

import duckdb
import pyarrow as pa
import pytest

from meshlake.contract.expectations import Expectation
from meshlake.quality.metrics import MetricPartials, MetricPlan, measurable, merge_kind
from meshlake.quality.native import describe, evaluate_native
from tests.quality.test_ge_definitions import _exclusion, _id, cases, table


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("count(*)", "count"),
        ('count("a")', "count"),
        ("count(*) FILTER (WHERE NOT (\"a\" IN ('x', 'y)')))", "count"),
        ('min("a")', "min"),
        ('MAX((CASE WHEN isfinite("f") OR isinf("f") THEN "f" END))', "max"),
        ('sum("n")', "sum"),
        ('count("select")', "count"),
        ('count("a") - count("b")', None),
        ('count(DISTINCT "a")', None),
        ('avg("a")', None),
        ('count(*) FILTER (WHERE "a" IN (SELECT 1))', None),
        ('count(*) FILTER (WHERE meshlake_re_search("a", 1))', None),
        ('count(*) FILTER (WHERE "a" > 1) + 1', None),
        ('min("a") OVER ()', None),
        ('coalesce(sum("n"), 0)', "sum"),
        ('count(*) FILTER (WHERE "t" > now())', None),
        ("count(*) FILTER (WHERE \"now\" > 'current_date')", "count"),
        ('CAST(coalesce(sum("n"), 0) AS VARCHAR)', "sum"),
        ('CAST(max("a") AS VARCHAR)', "max"),
        ('coalesce(min("a"), 0)', None),
        ('CAST(min("a") AS VARCHAR) || CAST(max("a") AS VARCHAR)', None),
    ],
)
def test_merge_kind_takes_only_one_row_at_a_time_aggregates(sql: str, kind: str | None) -> None:
    assert merge_kind(sql) == kind


def _applicable() -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    return [case for case in cases() if _exclusion(*case) is None and not isinstance(case[2]["data"], list)]


def _pieces(rows: pa.Table) -> list[pa.Table]:
    """The rows cut as a writer cuts them: uneven row groups, one empty."""
    cut = max(1, rows.num_rows // 3)
    return [rows.slice(0, cut), rows.slice(cut, 0), rows.slice(cut, 1), rows.slice(cut + 1)]


def _run(con: duckdb.DuckDBPyConnection, exp: Expectation, streamed: Any) -> Any:
    return evaluate_native(con, relation_sql="__t", new_rows_sql=None, expectations=[exp], streamed=streamed).results


@pytest.mark.parametrize("case", _applicable(), ids=_id)
def test_merged_partials_give_the_results_of_the_pass_over_the_rows(
    case: tuple[str, str, dict[str, Any], dict[str, Any]],
) -> None:
    kind, _, dataset, test = case
    rows, _ = table(dataset["data"], dataset.get("pandas_schema"))
    exp = Expectation(kind, dict(test["in"]))
    con = duckdb.connect()
    try:
        con.register("__t", rows)
        plan = measurable([exp], describe(con, "__t"), whole=True)
        if plan is None:
            pytest.skip(f"{kind}: nothing of it merges, or its configuration is refused here (the pass computes it)")
        tap = plan.tap()
        for piece in _pieces(rows):
            tap.observe(piece)
        partials = tap.partials()
        assert partials is not None and partials.row_count == rows.num_rows
        partials = pickle.loads(pickle.dumps(partials))  # as a distributed worker returns them
        assert repr(_run(con, exp, ("table", partials))) == repr(_run(con, exp, None))
    finally:
        con.close()


def test_partials_of_several_workers_join_and_give_the_same_results() -> None:
    rows = pa.table(
        {
            "v": pa.array([1.5, None, float("nan"), -2.0, 7.25, None], pa.float64()),
            "n": pa.array([3, 4, None, 4, 9, 1], pa.int64()),
            "s": pa.array(["ab", "abc", None, "", "zz", "a"], pa.string()),
        }
    )
    exps = [
        Expectation("expect_column_values_to_be_between", {"column": "v", "min_value": -1, "max_value": 5}),
        Expectation("expect_column_values_to_not_be_null", {"column": "n"}),
        Expectation("expect_column_value_lengths_to_be_between", {"column": "s", "min_value": 1}),
        Expectation("expect_column_values_to_match_regex", {"column": "s", "regex": "^a"}),
        Expectation("expect_column_max_to_be_between", {"column": "n", "max_value": 8}),
        Expectation("expect_column_min_to_be_between", {"column": "v", "min_value": -3}),
        Expectation("expect_column_sum_to_be_between", {"column": "n", "min_value": 0}),
        Expectation("expect_column_values_to_be_in_set", {"column": "n", "value_set": [1, 3, 4]}),
    ]
    con = duckdb.connect()
    try:
        con.register("__t", rows)
        plan = measurable(exps, describe(con, "__t"), whole=True)
        assert isinstance(plan, MetricPlan)
        workers = []
        for start, length in ((0, 2), (2, 0), (2, 4)):
            tap = pickle.loads(pickle.dumps(plan)).tap()
            tap.observe(rows.slice(start, length))
            workers.append(pickle.loads(pickle.dumps(tap.partials())))
        joined = MetricPartials.join(workers)
        assert joined is not None and joined.row_count == rows.num_rows
        streamed: tuple[Literal["table"], MetricPartials] = ("table", joined)
        merged = evaluate_native(con, relation_sql="__t", new_rows_sql=None, expectations=exps, streamed=streamed)
        scanned = evaluate_native(con, relation_sql="__t", new_rows_sql=None, expectations=exps)
        assert repr(merged) == repr(scanned)
        statuses = [r.status for r in merged.results]
        assert statuses == ["failed", "failed", "failed", "failed", "failed", "passed", "passed", "failed"]
    finally:
        con.close()


def test_a_tap_that_meets_rows_of_another_shape_stops_and_measures_nothing() -> None:
    rows = pa.table({"n": pa.array([1, 2], pa.int64())})
    con = duckdb.connect()
    try:
        con.register("__t", rows)
        plan = measurable(
            [Expectation("expect_column_values_to_not_be_null", {"column": "n"})], describe(con, "__t"), whole=True
        )
    finally:
        con.close()
    assert plan is not None
    tap = plan.tap()
    tap.observe(pa.table({"n": pa.array(["1", "2"], pa.string())}))
    assert tap.stopped and tap.partials() is None
    assert MetricPartials.join([None]) is None


def test_every_merge_kind_is_exercised_by_the_definitions() -> None:
    """The parity above is not vacuous: counts, minima, maxima and exact sums all merged in some case."""
    plans = []
    for kind, _, dataset, test in _applicable():
        rows, _ = table(dataset["data"], dataset.get("pandas_schema"))
        con = duckdb.connect()
        try:
            con.register("__t", rows)
            plan = measurable([Expectation(kind, dict(test["in"]))], describe(con, "__t"), whole=True)
        finally:
            con.close()
        if plan is not None:
            plans.append(plan)
    assert {"count", "min", "max", "sum"} <= {k for plan in plans for k in plan.kinds}
    assert len(plans) > 300


# -- keys proved distinct while streaming (`key_runs`, `MetricPartials.distinct_keys`) ----------------------------

UNIQUE_ID = Expectation("expect_column_values_to_be_unique", {"column": "id"})
UNIQUE_PAIR = Expectation("expect_compound_columns_to_be_unique", {"column_list": ["id", "line"]})


def _keys(ids: Sequence[int | None], lines: Sequence[int | None] | None = None) -> pa.Table:
    return pa.table(
        {
            "id": pa.array(list(ids), pa.int64()),
            "line": pa.array(list(lines) if lines is not None else [1] * len(ids), pa.int32()),
        }
    )


def _streamed(rows: pa.Table, exps: list[Expectation], cuts: list[int]) -> tuple[MetricPartials, Any, Any]:
    """The partials of `rows` cut at `cuts` (row groups), and the merged and scanned results."""
    con = duckdb.connect()
    try:
        con.register("__t", rows)
        plan = measurable(exps, describe(con, "__t"), whole=True)
        assert plan is not None
        tap = plan.tap()
        for start, end in zip([0, *cuts], [*cuts, rows.num_rows], strict=True):
            tap.observe(rows.slice(start, end - start))
        partials = tap.partials()
        assert partials is not None
        partials = pickle.loads(pickle.dumps(partials))
        streamed: tuple[Literal["table"], MetricPartials] = ("table", partials)
        merged = evaluate_native(con, relation_sql="__t", new_rows_sql=None, expectations=exps, streamed=streamed)
        scanned = evaluate_native(con, relation_sql="__t", new_rows_sql=None, expectations=exps)
        return partials, merged, scanned
    finally:
        con.close()


def test_keys_sorted_in_each_row_group_and_apart_across_them_are_proved_distinct() -> None:
    rows = _keys([10, 11, 12, 1, 3, 5, 2**40, 2**41], [1, 1, 1, 1, 1, 1, 1, 1])  # wider than any bitmap
    partials, merged, scanned = _streamed(rows, [UNIQUE_ID, UNIQUE_PAIR], [3, 6])
    assert partials.distinct_keys(["id"]) == 8
    assert partials.distinct_keys(["id", "line"]) == 8
    assert repr(merged) == repr(scanned)
    assert [r.status for r in merged.results] == ["passed", "passed"]


def test_a_compound_key_whose_leading_value_spans_two_row_groups_is_proved_distinct() -> None:
    rows = _keys([1, 1, 2, 2, 2, 3], [1, 2, 1, 2, 3, 1])  # order 2's lines cut between row groups
    partials, merged, scanned = _streamed(rows, [UNIQUE_PAIR], [4])
    assert partials.distinct_keys(["id", "line"]) == 6
    assert repr(merged) == repr(scanned)


def test_a_duplicate_key_split_across_two_row_groups_is_still_caught() -> None:
    rows = _keys([1, 2, 3, 3, 4, 5])
    partials, merged, scanned = _streamed(rows, [UNIQUE_ID, UNIQUE_PAIR], [3])
    assert partials.distinct_keys(["id"]) is None and partials.distinct_keys(["id", "line"]) is None
    assert repr(merged) == repr(scanned)
    assert [(r.status, r.unexpected_count) for r in merged.results] == [("failed", 2), ("failed", 2)]


def test_a_duplicate_key_inside_one_row_group_is_still_caught() -> None:
    rows = _keys([1, 2, 2, 7, 9])
    partials, merged, scanned = _streamed(rows, [UNIQUE_ID], [])
    assert partials.distinct_keys(["id"]) is None
    assert repr(merged) == repr(scanned)
    assert merged.results[0].unexpected_count == 2


def test_a_duplicate_key_of_two_workers_is_still_caught() -> None:
    rows = _keys([1, 2, 3, 3, 7, 8])
    con = duckdb.connect()
    try:
        con.register("__t", rows)
        plan = measurable([UNIQUE_ID], describe(con, "__t"), whole=True)
        assert plan is not None
        workers = []
        for start in (0, 3):
            tap = pickle.loads(pickle.dumps(plan)).tap()
            tap.observe(rows.slice(start, 3))
            workers.append(tap.partials())
        alone = [w.distinct_keys(["id"]) for w in workers if w is not None]
        joined = MetricPartials.join(workers)
        assert alone == [3, 3] and joined is not None and joined.distinct_keys(["id"]) is None
        streamed: tuple[Literal["table"], MetricPartials] = ("table", joined)
        merged = evaluate_native(
            con, relation_sql="__t", new_rows_sql=None, expectations=[UNIQUE_ID], streamed=streamed
        )
        assert merged.results[0].status == "failed" and merged.results[0].unexpected_count == 2
    finally:
        con.close()


def test_null_keys_are_left_out_of_a_one_column_key_and_stop_the_proof_of_a_compound_one() -> None:
    rows = _keys([None, 1, None, 2, 3, None], [1, 1, None, 1, 1, 1])
    partials, merged, scanned = _streamed(rows, [UNIQUE_ID, UNIQUE_PAIR], [3])
    assert partials.distinct_keys(["id"]) == 3  # NULLs are not values: GE ignores them
    assert partials.distinct_keys(["id", "line"]) is None  # (NULL, 1) twice is a duplicate: the pass counts it
    assert repr(merged) == repr(scanned)
    assert [(r.status, r.unexpected_count) for r in merged.results] == [("passed", 0), ("failed", 2)]


@pytest.mark.parametrize(
    "ids", [[1, 3, 5, 2, 4, 6], [3, 1, 2, 4, 5, 6]], ids=["overlapping-row-groups", "a-row-group-out-of-order"]
)
def test_distinct_keys_not_in_sorted_runs_fall_back_to_the_pass_over_the_rows(ids: list[int]) -> None:
    partials, merged, scanned = _streamed(_keys(ids), [UNIQUE_ID], [3])
    assert partials.distinct_keys(["id"]) is None  # not proved: the pass over the rows counts them
    assert repr(merged) == repr(scanned)
    assert merged.results[0].status == "passed"


def test_string_date_and_timestamp_keys_are_proved_and_other_types_are_not() -> None:
    from datetime import UTC, date, datetime

    rows = pa.table(
        {
            "s": pa.array(["a", "b", "z", "é"], pa.string()),  # byte order: "é" (0xC3 0xA9) after "z"
            "d": pa.array([date(2026, 1, i) for i in (1, 2, 3, 4)], pa.date32()),
            "t": pa.array([datetime(2026, 1, 1, i, tzinfo=UTC) for i in (1, 2, 3, 4)], pa.timestamp("us", "UTC")),
            "f": pa.array([0.5, 1.5, 2.5, 3.5], pa.float64()),
        }
    )
    exps = [Expectation("expect_column_values_to_be_unique", {"column": c}) for c in ("s", "d", "t", "f")]
    partials, merged, scanned = _streamed(rows, exps, [2])
    assert [partials.distinct_keys([c]) for c in ("s", "d", "t", "f")] == [4, 4, 4, None]
    assert partials.plan.keys == (("s",), ("d",), ("t",))  # a float (NaN, -0.0) is left to the pass
    assert repr(merged) == repr(scanned)


def test_a_proved_key_is_not_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """The distinct count of a proved key is taken from the partials: the statement reads no row for it."""
    from meshlake.quality import native

    statements: list[str] = []
    real = native._one

    def recording(con: duckdb.DuckDBPyConnection, sql: str, *, arrow: bool = True) -> dict[str, Any]:
        statements.append(sql)
        return real(con, sql, arrow=arrow)

    monkeypatch.setattr(native, "_one", recording)
    _streamed(_keys(list(range(100))), [UNIQUE_PAIR], [40, 70])
    merged_statement, scanned_statement = statements
    assert "DISTINCT" not in merged_statement and "FROM __t" not in merged_statement
    assert "DISTINCT" in scanned_statement


def test_a_count_added_to_a_base_count_merges_exactly_and_nothing_else_around_it_does() -> None:
    rows = _keys([1, None, 3, 4])
    con = duckdb.connect()
    try:
        con.register("__t", rows)
        plan = MetricPlan.of(['count("id")'], dict(describe_types(con)))
        assert plan is not None
        tap = plan.tap()
        for piece in _pieces(rows):
            tap.observe(piece)
        partials = tap.partials()
        assert partials is not None
        wanted = {'7 + count("id")': "a", '7 + count("id") * 2': "b", '(7 + count("id"))': "c"}
        select, covered = partials.merged_select(wanted, "__p")
        assert covered == {'7 + count("id")'}
        con.register("__p", partials.rows)
        merged = con.sql(f"SELECT * FROM {select}")
        scanned = con.sql('SELECT 7 + count("id") AS a FROM __t')
        assert merged.fetchall() == scanned.fetchall() == [(10,)]
        assert merged.dtypes == scanned.dtypes
    finally:
        con.close()


def describe_types(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return {c.name: c.sql_type for c in describe(con, "__t").values()}
