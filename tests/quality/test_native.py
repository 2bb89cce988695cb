"""The native engine on real Parquet files: scope, errors, samples, and DuckDB pitfalls."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from meshlake.contract.expectations import Expectation
from meshlake.quality.native import run_native
from meshlake.quality.regex import UDF_NAME
from meshlake.quality.report import ExpectationResult
from tests.quality.conftest import relation, write_parquet


def _e(type_: str, **kwargs: Any) -> Expectation:
    return Expectation(type_, kwargs)


def _files(tmp_path: Path, **tables: dict[str, list[Any]]) -> dict[str, Path]:
    return {name: write_parquet(pa.table(data), tmp_path / f"{name}.parquet") for name, data in tables.items()}


def _run(
    paths: list[Path], expectations: list[Expectation], new: list[Path] | None = None, **kw: Any
) -> tuple[ExpectationResult, ...]:
    con = duckdb.connect()
    return run_native(
        con,
        relation_sql=relation(paths),
        new_rows_sql=relation(new) if new else None,
        expectations=expectations,
        **kw,
    )


@pytest.fixture
def old_and_new(tmp_path: Path) -> dict[str, Path]:
    return _files(
        tmp_path,
        old={"id": [1, 2, 3], "weight": [10.0, 99.0, None], "code": ["AB12", "bad", "CD34"]},
        new={"id": [4, 5, 1], "weight": [1.0, 2.0, 3.0], "code": ["EF56", "GH78", "IJ90"]},
    )


def test_row_level_checks_read_only_the_new_rows(old_and_new: dict[str, Path]) -> None:
    checks = [
        _e("expect_column_values_to_be_between", column="weight", min_value=0, max_value=50),
        _e("expect_column_values_to_match_regex", column="code", regex=r"^[A-Z]{2}\d{2}$"),
        _e("expect_column_values_to_not_be_null", column="weight"),
    ]
    paths = [old_and_new["old"], old_and_new["new"]]
    on_new = _run(paths, checks, new=[old_and_new["new"]])
    assert [r.status for r in on_new] == ["passed"] * 3
    assert {r.scope for r in on_new} == {"new_rows"}
    assert [r.element_count for r in on_new] == [3, 3, 3]
    whole = _run(paths, checks)
    assert [(r.status, r.unexpected_count, r.scope) for r in whole] == [
        ("failed", 1, "table"),
        ("failed", 1, "table"),
        ("failed", 1, "table"),
    ]


def test_uniqueness_spans_old_and_new_rows(old_and_new: dict[str, Path]) -> None:
    checks = [
        _e("expect_column_values_to_be_unique", column="id"),
        _e("expect_compound_columns_to_be_unique", column_list=["id", "id2"]),
        _e("expect_table_row_count_to_be_between", min_value=6, max_value=6),
        _e("expect_column_mean_to_be_between", column="id", min_value=2.66, max_value=2.67),
    ]
    paths = [old_and_new["old"], old_and_new["new"]]
    con = duckdb.connect()
    rel = f"(SELECT *, id * 10 AS id2 FROM read_parquet([{', '.join(repr(str(p)) for p in paths)}]))"
    new = f"(SELECT *, id * 10 AS id2 FROM read_parquet(['{old_and_new['new']}']))"
    unique, compound, count, mean = run_native(con, relation_sql=rel, new_rows_sql=new, expectations=checks)
    assert (unique.status, unique.unexpected_count, unique.scope) == ("failed", 2, "table")
    assert sorted(row["id"] for row in unique.sample) == [1, 1]
    assert (compound.status, compound.unexpected_count) == ("failed", 2)
    assert sorted((row["id"], row["id2"]) for row in compound.sample) == [(1, 10), (1, 10)]
    assert (count.status, count.observed_value) == ("passed", 6)
    assert mean.status == "passed"


def test_unique_counts_every_row_of_a_duplicated_value_and_ignores_nulls(tmp_path: Path) -> None:
    files = _files(tmp_path, t={"k": [1, 1, 1, 2, 3, 3, None, None]})
    (plain, mostly) = _run(
        [files["t"]],
        [
            _e("expect_column_values_to_be_unique", column="k"),
            _e("expect_column_values_to_be_unique", column="k", mostly=1 / 6),
        ],
    )
    assert (plain.unexpected_count, plain.element_count) == (5, 8)
    assert plain.unexpected_percent == pytest.approx(5 / 6 * 100)
    assert mostly.status == "passed"


def test_nan_in_parquet_counts_as_missing_despite_statistics(tmp_path: Path) -> None:
    """Parquet min/max leave NaN out; DuckDB must not conclude from them that no value is NaN."""
    x = [math.nan, 0.0, 1.0, 0.0, 1.0, math.nan]
    table = pa.table({"x": x, "f": pa.array(x, pa.float32()), "all_nan": [math.nan] * 6})
    path = write_parquet(table, tmp_path / "nan.parquet")
    con = duckdb.connect()
    stats_fold = con.sql(f"SELECT count(*) FROM read_parquet('{path}') WHERE isnan(x)").fetchall()
    assert stats_fold in ([(0,)], [(2,)])  # (0,) is the DuckDB 2.0 bug this engine works around
    checks = [
        _e("expect_column_values_to_not_be_null", column="x"),
        _e("expect_column_values_to_be_between", column="x", min_value=0, max_value=1),
        _e("expect_column_max_to_be_between", column="x", max_value=1),
        _e("expect_column_values_to_not_be_null", column="f"),
        _e("expect_column_values_to_be_null", column="all_nan"),
    ]
    not_null, between, mx, not_null_f, all_nan = _run([path], checks)
    assert (not_null.status, not_null.unexpected_count) == ("failed", 2)
    assert (between.status, between.unexpected_count, between.unexpected_percent) == ("passed", 0, 0.0)
    assert (mx.status, mx.observed_value) == ("passed", 1.0)
    assert (not_null_f.status, not_null_f.unexpected_count) == ("failed", 2)
    assert all_nan.status == "passed"


def test_broken_sql_expectation_is_errored_and_the_others_still_run(tmp_path: Path) -> None:
    files = _files(tmp_path, t={"id": [1, 2], "s": ["a", "12"]})
    checks = [
        _e("unexpected_rows_expectation", unexpected_rows_query="SELEC * FROM {batch}"),
        _e("unexpected_rows_expectation", unexpected_rows_query="SELECT * FROM {batch} WHERE s::INTEGER > 5"),
        _e("unexpected_rows_expectation", unexpected_rows_query="SELECT * FROM {batch} WHERE nope > 1"),
        _e("expect_column_values_to_not_be_null", column="id"),
        _e("unexpected_rows_expectation", unexpected_rows_query="SELECT * FROM {batch} WHERE id > 1;"),
    ]
    syntax, runtime, binder, not_null, sql = _run([files["t"]], checks)
    for result in (syntax, runtime, binder):
        assert result.status == "errored"
        assert not result.success
        assert result.error
    assert "syntax" in (syntax.error or "").lower()
    assert not_null.status == "passed"
    assert (sql.status, sql.observed_value, sql.unexpected_count) == ("failed", 1, 1)
    assert sql.sample == [{"id": 2, "s": "12"}]


def test_a_runtime_failure_in_the_combined_query_is_isolated(tmp_path: Path) -> None:
    """One column fails only while rows are read: its checks error, the others are still right."""
    files = _files(tmp_path, t={"id": [1, 2, 2], "s": ["1", "2", "x"]})
    rel = f"(SELECT id, s::INTEGER AS n FROM read_parquet(['{files['t']}']))"
    checks = [
        _e("expect_column_values_to_be_unique", column="id"),
        _e("expect_column_values_to_be_between", column="n", min_value=0),
        _e("expect_column_max_to_be_between", column="id", max_value=2),
        _e("expect_column_values_to_not_be_null", column="n"),
    ]
    unique, between, mx, not_null = run_native(
        duckdb.connect(), relation_sql=rel, new_rows_sql=None, expectations=checks
    )
    assert (unique.status, unique.unexpected_count) == ("failed", 2)
    assert (mx.status, mx.observed_value) == ("passed", 2)
    for result in (between, not_null):
        assert result.status == "errored"
        assert "Conversion" in (result.error or "")


def test_invalid_config_at_run_time_is_errored(tmp_path: Path) -> None:
    files = _files(tmp_path, t={"id": [1]})
    missing, unknown, ok = _run(
        [files["t"]],
        [
            _e("expect_column_values_to_not_be_null", column="gone"),
            _e("expect_column_values_to_be_awesome", column="id"),
            _e("expect_column_values_to_not_be_null", column="id"),
        ],
    )
    assert missing.status == unknown.status == "errored"
    assert "gone" in (missing.error or "") and "field 'column'" in (missing.error or "")
    assert ok.status == "passed"


def test_samples_are_failing_rows_of_failed_checks_only(tmp_path: Path) -> None:
    files = _files(tmp_path, t={"id": list(range(20)), "w": [float(i) for i in range(20)]})
    failed, passed, none = _run(
        [files["t"]],
        [
            _e("expect_column_values_to_be_between", column="w", max_value=5),
            _e("expect_column_values_to_be_between", column="w", max_value=5, mostly=0.2),
            _e("expect_column_values_to_be_between", column="w", max_value=100),
        ],
        sample_size=3,
    )
    assert failed.status == "failed" and len(failed.sample) == 3
    assert all(row["w"] > 5 for row in failed.sample)
    assert passed.status == "passed" and passed.sample == []
    assert none.sample == []


def test_empty_new_rows_pass_row_checks_vacuously(tmp_path: Path) -> None:
    files = _files(tmp_path, old={"id": [1, 1]}, new={"id": pa.array([], pa.int64())})
    not_null, unique = _run(
        [files["old"], files["new"]],
        [_e("expect_column_values_to_not_be_null", column="id"), _e("expect_column_values_to_be_unique", column="id")],
        new=[files["new"]],
    )
    assert (not_null.status, not_null.element_count, not_null.unexpected_percent) == ("passed", 0, None)
    assert (unique.status, unique.unexpected_count) == ("failed", 2)


def test_regex_features_rejected_by_re2_run_in_python(tmp_path: Path) -> None:
    files = _files(tmp_path, t={"s": ["ab", "cb", "Straße", "x\n", None]})
    con = duckdb.connect()
    look, word, dollar = run_native(
        con,
        relation_sql=relation([files["t"]]),
        new_rows_sql=None,
        expectations=[
            _e("expect_column_values_to_match_regex", column="s", regex=r"(?<=a)b"),
            _e("expect_column_values_to_match_regex", column="s", regex=r"\bStra\w+\b"),
            _e("expect_column_values_to_match_regex", column="s", regex=r"^x$"),
        ],
    )
    assert look.unexpected_count == 3  # "cb", "Straße", "x\n"
    assert word.unexpected_count == 3  # only "Straße" has a word starting with Stra
    assert dollar.unexpected_count == 3  # Python's $ also matches before a trailing newline
    found = con.execute("SELECT count(*) FROM duckdb_functions() WHERE function_name = ?", [UDF_NAME]).fetchall()
    assert found == [(1,)]


def test_zoned_timestamps_and_decimals(tmp_path: Path) -> None:
    from decimal import Decimal

    ts = [datetime(2026, 11, 1, 23, 30, tzinfo=UTC), datetime(2026, 11, 2, 0, 30, tzinfo=UTC)]
    table = pa.table(
        {
            "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
            "d": pa.array([Decimal("0.10"), Decimal("99.99")], pa.decimal128(10, 2)),
        }
    )
    path = write_parquet(table, tmp_path / "t.parquet")
    between, mx, dec, total = _run(
        [path],
        [
            _e("expect_column_values_to_be_between", column="ts", max_value="2026-11-02T01:00:00+01:00"),
            _e("expect_column_max_to_be_between", column="ts", min_value="2026-11-02T01:30:00+01:00"),
            _e("expect_column_values_to_be_between", column="d", min_value=0.1, max_value=99.99),
            _e("expect_column_sum_to_be_between", column="d", min_value=100.09, max_value=100.09),
        ],
    )
    assert (between.status, between.unexpected_count) == ("failed", 1)
    assert mx.status == "passed" and mx.observed_value == ts[1]
    assert (dec.status, dec.unexpected_count) == ("passed", 0)
    assert (total.status, total.observed_value) == ("passed", pytest.approx(100.09))


def test_results_keep_the_input_order(tmp_path: Path) -> None:
    files = _files(tmp_path, t={"a": [1, 2], "b": ["x", "y"]})
    checks = [
        _e("expect_table_row_count_to_be_between", min_value=2),
        _e("unexpected_rows_expectation", unexpected_rows_query="SELECT * FROM {batch} WHERE a > 5"),
        _e("expect_column_values_to_be_unique", column="b"),
        _e("expect_table_columns_to_match_set", column_set=["a", "b"]),
        _e("expect_column_values_to_not_be_null", column="a"),
    ]
    results = _run([files["t"]], checks)
    assert [r.expectation for r in results] == [e.type for e in checks]
    assert all(r.success for r in results)
