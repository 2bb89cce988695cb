"""The Great Expectations engine, and importing existing GE suites into a descriptor."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pyarrow as pa
import pytest
import yaml

from meshlake.contract.expectations import Expectation, ExpectationConfigError, validate_expectation
from meshlake.quality.gx import import_suite, run_great_expectations, to_pandas, to_yaml_items
from tests.quality.corpus import COLUMNS, DATASETS

SUITE_1X = {
    "name": "shipments_quality",
    "id": "0f7c…",
    "meta": {"great_expectations_version": "1.24.1"},
    "notes": None,
    "expectations": [
        {
            "type": "expect_column_values_to_not_be_null",
            "kwargs": {"column": "id", "result_format": "BASIC", "catch_exceptions": True},
            "meta": {"owner": "logistics"},
            "id": "a1",
            "severity": "critical",
        },
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "x", "min_value": 0, "max_value": 50, "mostly": 0.99},
            "description": "weights are plausible",
            "meta": {},
        },
        {
            "type": "unexpected_rows_expectation",
            "kwargs": {"unexpected_rows_query": "SELECT * FROM {batch} WHERE k > 5"},
        },
    ],
}
SUITE_0X = {
    "expectation_suite_name": "legacy",
    "data_asset_type": "Dataset",
    "meta": {"great_expectations_version": "0.18.19"},
    "expectations": [
        {
            "expectation_type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "t", "value_set": ["red", "green"], "include_config": True},
            "meta": {"notes": "colours"},
        },
        {"expectation_type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}},
    ],
}


def _write(tmp_path: Path, doc: Any, name: str = "suite.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_import_suite_reads_the_1x_format(tmp_path: Path) -> None:
    result = import_suite(_write(tmp_path, SUITE_1X))
    imported = result.expectations
    assert not result.skipped
    assert imported == [
        Expectation("expect_column_values_to_not_be_null", {"column": "id"}),
        Expectation(
            "expect_column_values_to_be_between",
            {"column": "x", "min_value": 0, "max_value": 50, "mostly": 0.99, "description": "weights are plausible"},
        ),
        Expectation("unexpected_rows_expectation", {"unexpected_rows_query": "SELECT * FROM {batch} WHERE k > 5"}),
    ]
    for exp in imported:
        validate_expectation(exp, COLUMNS)


def test_import_suite_reads_the_0x_format(tmp_path: Path) -> None:
    imported = import_suite(_write(tmp_path, SUITE_0X)).expectations
    assert imported == [
        Expectation("expect_column_values_to_be_in_set", {"column": "t", "value_set": ["red", "green"]}),
        Expectation("expect_table_row_count_to_be_between", {"min_value": 1}),
    ]


def test_import_suite_skips_what_it_cannot_translate_and_imports_the_rest(tmp_path: Path) -> None:
    entries = [
        {"type": "expect_column_values_to_be_awesome", "kwargs": {"column": "x"}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "x", "min_valu": 1}},
        {"kwargs": {"column": "x"}},
        {"type": "expect_column_max_to_be_between", "kwargs": {"column": "x", "max_value": {"$PARAMETER": "now()"}}},
        {"type": "expect_column_kl_divergence_to_be_less_than", "kwargs": {"column": "x", "threshold": 0.1}},
        {
            "type": "expect_column_values_to_not_be_null",
            "kwargs": {"column": "x", "row_condition": 'col("k") > 1', "condition_parser": "great_expectations"},
            "severity": "warning",
        },
    ]
    result = import_suite(_write(tmp_path, {"name": "s", "expectations": entries}))
    assert [e.type for e in result.expectations] == [
        "expect_column_kl_divergence_to_be_less_than",
        "expect_column_values_to_not_be_null",
    ]
    assert result.expectations[1].kwargs["severity"] == "warn"
    assert [(s.index, s.expectation) for s in result.skipped] == [
        (0, "expect_column_values_to_be_awesome"),
        (1, "expect_column_values_to_not_be_null"),
        (2, None),
        (3, "expect_column_max_to_be_between"),
    ]
    assert "did you mean 'mostly'" in result.skipped[1].reason or "min_valu" in result.skipped[1].reason
    for exp in result.expectations:
        validate_expectation(exp, COLUMNS)


def test_import_suite_refuses_a_file_that_is_not_a_suite(tmp_path: Path) -> None:
    with pytest.raises(ExpectationConfigError):
        import_suite(_write(tmp_path, {"name": "s"}))


def test_yaml_items_round_trip_through_a_descriptor(tmp_path: Path) -> None:
    from datetime import date

    exps = [
        *import_suite(_write(tmp_path, SUITE_1X)).expectations,
        Expectation("expect_column_values_to_be_between", {"column": "dt", "min_value": date(2026, 11, 1)}),
    ]
    items = to_yaml_items(exps)
    assert items[0] == {"expect_column_values_to_not_be_null": {"column": "id"}}
    text = yaml.safe_dump({"expectations": items}, sort_keys=False)
    back = [Expectation.from_item(item) for item in yaml.safe_load(text)["expectations"]]
    assert back[:3] == exps[:3]
    assert back[3].kwargs["min_value"] == "2026-11-01"
    for exp in back:
        validate_expectation(exp, COLUMNS)


def test_pandas_conversion_keeps_what_ge_needs() -> None:
    frame = to_pandas(DATASETS["edge"])
    assert str(frame["ts"].dtype) == "datetime64[ns, UTC]"
    assert str(frame["tn"].dtype) == "datetime64[ns]"
    assert frame["d"].dtype.kind == "f"
    assert frame["d"].tolist()[3] == 99.99  # through text, not pyarrow's inexact decimal cast
    assert frame["x"].isna().sum() == 2  # NaN and NULL are both missing to pandas


def test_ge_engine_scopes_row_checks_to_new_rows(gx: ModuleType) -> None:
    old = pa.table({"id": [1, 2], "w": [99.0, 1.0]})
    new = pa.table({"id": [1, 3], "w": [2.0, 3.0]})
    between, unique = run_great_expectations(
        pa.concat_tables([old, new]),
        [
            Expectation("expect_column_values_to_be_between", {"column": "w", "max_value": 50}),
            Expectation("expect_column_values_to_be_unique", {"column": "id"}),
        ],
        new_rows=new,
    )
    assert (between.status, between.scope, between.element_count) == ("passed", "new_rows", 2)
    assert (unique.status, unique.scope, unique.unexpected_count) == ("failed", "table", 2)
    assert sorted(row["id"] for row in unique.sample) == [1, 1]


def test_ge_engine_reports_errors_as_errored(gx: ModuleType) -> None:
    table = pa.table({"s": ["a", "b"]})
    bad_config, bad_sql, fine = run_great_expectations(
        table,
        [
            Expectation("expect_column_values_to_not_be_null", {"column": "nope"}),
            Expectation("unexpected_rows_expectation", {"unexpected_rows_query": "SELECT nope FROM {batch}"}),
            Expectation("expect_column_values_to_not_be_null", {"column": "s"}),
        ],
    )
    assert bad_config.status == bad_sql.status == "errored"
    assert bad_config.error and bad_sql.error
    assert fine.status == "passed"


def test_ge_engine_handles_duplicate_expectations(gx: ModuleType) -> None:
    """GE suites merge equal expectations; every input still gets its own result."""
    exp = Expectation("expect_column_values_to_be_between", {"column": "w", "min_value": 0, "max_value": 1})
    results = run_great_expectations(pa.table({"w": [0.5, 2.0]}), [exp, exp, exp])
    assert [(r.status, r.unexpected_count) for r in results] == [("failed", 1)] * 3


def test_ge_engine_gives_compound_conditions_their_meaning_and_runs_types_ge_lacks_natively(gx: ModuleType) -> None:
    import duckdb

    from meshlake.quality.native import run_native

    table = pa.table({"i": [1, 2, 3, None], "c": ["red", "red", "blue", "red"]})
    expectations = [
        Expectation(
            "expect_column_values_to_be_in_set",
            {"column": "c", "value_set": ["red"], "row_condition": 'col("i") > 1 & col("c") == "red"'},
        ),
        Expectation("expect_column_values_to_match_like_pattern", {"column": "c", "like_pattern": "r%", "mostly": 0.5}),
        Expectation("expect_column_values_to_not_match_like_pattern", {"column": "c", "like_pattern": "b%"}),
    ]
    reference = run_great_expectations(table, expectations)
    con = duckdb.connect()
    con.register("t", table)
    native = run_native(con, relation_sql="t", new_rows_sql=None, expectations=expectations)
    assert [r.status for r in reference] == [r.status for r in native] == ["passed", "passed", "failed"]
    assert reference[0].element_count == native[0].element_count == 1  # GE's own parser would keep 2 rows
