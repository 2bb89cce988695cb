"""Expectation configs: the registry, and validation errors with a precise `.field`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from meshlake.contract.expectations import (
    REGISTRY,
    Expectation,
    ExpectationConfigError,
    type_family,
    validate_expectation,
)
from tests.quality.corpus import COLUMNS, EXPECTATIONS

BETWEEN = "expect_column_values_to_be_between"


def _error(type_: str, **kwargs: Any) -> ExpectationConfigError:
    with pytest.raises(ExpectationConfigError) as caught:
        validate_expectation(Expectation(type_, kwargs), COLUMNS)
    assert isinstance(caught.value, ValueError)
    assert caught.value.problem in str(caught.value)
    return caught.value


def test_every_corpus_expectation_is_valid_for_the_corpus_columns() -> None:
    for exp in EXPECTATIONS:
        validate_expectation(exp, COLUMNS)


def test_unknown_expectation_type_lists_what_is_supported() -> None:
    error = _error("expect_column_values_to_be_awesome", column="x")
    assert error.field is None
    assert "expect_column_values_to_be_between" in error.problem
    assert "docs/expectations.md" in error.problem


@pytest.mark.parametrize(
    ("type_", "kwargs", "field"),
    [
        ("expect_column_values_to_not_be_null", {}, "column"),
        ("expect_column_values_to_be_in_set", {"column": "t"}, "value_set"),
        ("expect_column_values_to_not_match_regex", {"column": "s"}, "regex"),
        ("expect_compound_columns_to_be_unique", {}, "column_list"),
        ("expect_column_pair_values_a_to_be_greater_than_b", {"column_A": "x"}, "column_B"),
        ("unexpected_rows_expectation", {}, "unexpected_rows_query"),
        ("expect_table_columns_to_match_set", {}, "column_set"),
    ],
)
def test_missing_required_argument_names_it(type_: str, kwargs: dict[str, Any], field: str) -> None:
    error = _error(type_, **kwargs)
    assert error.field == field
    assert error.expectation == type_


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"column": "x", "min_value": 0, "row_condtion": "x > 1"}, "row_condtion"),
        ({"column": "x", "min_value": 0, "result_formats": "COMPLETE"}, "result_formats"),
        ({"column": "x", "min": 0}, "min"),
    ],
)
def test_unknown_argument_is_refused(kwargs: dict[str, Any], field: str) -> None:
    assert _error(BETWEEN, **kwargs).field == field


def test_missing_column_names_the_known_columns() -> None:
    error = _error(BETWEEN, column="weight", min_value=0)
    assert error.field == "column"
    assert "weight" in error.problem
    assert all(name in error.problem for name in COLUMNS)


def test_missing_column_in_a_list_or_pair_names_the_argument() -> None:
    assert _error("expect_compound_columns_to_be_unique", column_list=["k", "nope"]).field == "column_list"
    pair = "expect_column_pair_values_a_to_be_greater_than_b"
    assert _error(pair, column_A="x", column_B="nope").field == "column_B"


@pytest.mark.parametrize("mostly", [-0.1, 1.5, "most", True])
def test_mostly_must_be_a_fraction(mostly: Any) -> None:
    assert _error("expect_column_values_to_not_be_null", column="x", mostly=mostly).field == "mostly"


@pytest.mark.parametrize(
    ("type_", "kwargs"),
    [
        (BETWEEN, {"column": "x", "min_value": 5, "max_value": 1}),
        ("expect_table_row_count_to_be_between", {"min_value": 10, "max_value": 1}),
        (BETWEEN, {"column": "ts", "min_value": "2026-12-01T00:00:00Z", "max_value": "2026-11-01T00:00:00Z"}),
    ],
)
def test_min_greater_than_max_is_refused(type_: str, kwargs: dict[str, Any]) -> None:
    assert _error(type_, **kwargs).field == "min_value"


def test_row_level_range_needs_a_bound() -> None:
    assert _error(BETWEEN, column="x").field == "min_value"
    assert _error("expect_column_value_lengths_to_be_between", column="s").field == "min_value"


@pytest.mark.parametrize(
    ("column", "value", "words"),
    [
        ("ts", "2026-11-01T00:00:00", "time zone"),
        ("ts", datetime(2026, 11, 1), "time zone"),
        ("tn", "2026-11-01T00:00:00+02:00", "time zone"),
        ("dt", "1st of November", "ISO-8601"),
        ("dt", datetime(2026, 11, 1, tzinfo=UTC), "ISO-8601"),
        ("x", "10", "number"),
        ("k", True, "number"),
    ],
)
def test_bounds_must_fit_the_column_type(column: str, value: Any, words: str) -> None:
    error = _error(BETWEEN, column=column, min_value=value)
    assert error.field == "min_value"
    assert words in error.problem


def test_zoned_and_plain_temporal_bounds_are_accepted() -> None:
    for column, value in [
        ("ts", "2026-11-01T00:00:00Z"),
        ("ts", "2026-11-01T02:00:00+02:00"),
        ("ts", datetime(2026, 11, 1, tzinfo=UTC)),
        ("tn", "2026-11-01T00:00:00"),
        ("tn", date(2026, 11, 1)),
        ("dt", "2026-11-01"),
        ("dt", date(2026, 11, 1)),
    ]:
        validate_expectation(Expectation(BETWEEN, {"column": column, "min_value": value}), COLUMNS)


def test_string_bounds_are_refused_as_in_great_expectations() -> None:
    error = _error(BETWEEN, column="s", min_value="a")
    assert error.field == "column"
    assert "does not apply" in error.problem


@pytest.mark.parametrize(
    ("type_", "kwargs", "field"),
    [
        ("expect_column_values_to_match_regex", {"column": "x", "regex": "1"}, "column"),
        ("expect_column_value_lengths_to_be_between", {"column": "k", "max_value": 3}, "column"),
        ("expect_column_mean_to_be_between", {"column": "s", "min_value": 1}, "column"),
        ("expect_column_values_to_match_regex", {"column": "s", "regex": "(unclosed"}, "regex"),
        ("expect_column_values_to_match_regex", {"column": "s", "regex": 5}, "regex"),
        ("expect_column_values_to_be_in_set", {"column": "t", "value_set": "red"}, "value_set"),
        ("expect_column_values_to_be_in_set", {"column": "t", "value_set": ["red", 1]}, "value_set"),
        ("expect_column_values_to_be_in_set", {"column": "dt", "value_set": ["tomorrow"]}, "value_set"),
        ("expect_compound_columns_to_be_unique", {"column_list": ["k"]}, "column_list"),
        ("expect_compound_columns_to_be_unique", {"column_list": ["k", "k"]}, "column_list"),
        ("expect_compound_columns_to_be_unique", {"column_list": ["k", "t"], "ignore_row_if": "no"}, "ignore_row_if"),
        (BETWEEN, {"column": "x", "min_value": 0, "strict_min": "yes"}, "strict_min"),
        ("expect_column_pair_values_a_to_be_greater_than_b", {"column_A": "x", "column_B": "ts"}, "column_B"),
        ("unexpected_rows_expectation", {"unexpected_rows_query": "SELECT * FROM t"}, "unexpected_rows_query"),
        ("unexpected_rows_expectation", {"unexpected_rows_query": "SELECT {x} FROM {batch}"}, "unexpected_rows_query"),
        ("unexpected_rows_expectation", {"unexpected_rows_query": "SELECT '{' FROM {batch}"}, "unexpected_rows_query"),
        ("expect_table_columns_to_match_set", {"column_set": "id"}, "column_set"),
        ("expect_column_values_to_not_be_null", {"column": "x", "description": 3}, "description"),
    ],
)
def test_bad_arguments_name_the_field(type_: str, kwargs: dict[str, Any], field: str) -> None:
    assert _error(type_, **kwargs).field == field


def test_sql_expectation_escapes_literal_braces() -> None:
    query = "SELECT * FROM {batch} WHERE s = '{{json}}'"
    validate_expectation(Expectation("unexpected_rows_expectation", {"unexpected_rows_query": query}), COLUMNS)


def test_registry_kinds_and_scopes() -> None:
    assert REGISTRY["expect_column_values_to_not_be_null"].row_level
    assert REGISTRY["expect_column_pair_values_a_to_be_greater_than_b"].row_level
    for name in (
        "expect_column_values_to_be_unique",
        "expect_compound_columns_to_be_unique",
        "expect_column_mean_to_be_between",
        "expect_table_row_count_to_be_between",
        "unexpected_rows_expectation",
    ):
        assert REGISTRY[name].scope == "table", name
    for spec in REGISTRY.values():
        typed = spec.name in ("expect_column_values_to_be_of_type", "expect_column_values_to_be_in_type_list")
        assert ("mostly" in spec.optional) == (spec.kind == "map" or typed), spec.name
        assert set(spec.column_args) <= set(spec.required)


def test_descriptor_items_round_trip() -> None:
    item = {BETWEEN: {"column": "x", "min_value": 0, "mostly": 0.99}}
    exp = Expectation.from_item(item)
    assert exp == Expectation(BETWEEN, {"column": "x", "min_value": 0, "mostly": 0.99})
    assert exp.to_item() == item
    assert exp.columns == ("x",)
    assert Expectation.from_item({"expect_table_row_count_to_be_between": None}).kwargs == {}
    with pytest.raises(ExpectationConfigError):
        Expectation.from_item({BETWEEN: {}, "other": {}})
    with pytest.raises(ExpectationConfigError):
        Expectation.from_item({BETWEEN: ["x"]})


@pytest.mark.parametrize(
    ("name", "family"),
    [
        ("long", "integer"),
        ("BIGINT", "integer"),
        ("double", "float"),
        ("FLOAT", "float"),
        ("decimal(10,2)", "decimal"),
        ("DECIMAL(38,9)", "decimal"),
        ("string", "string"),
        ("VARCHAR", "string"),
        ("timestamptz", "timestamptz"),
        ("TIMESTAMP WITH TIME ZONE", "timestamptz"),
        ("timestamp", "timestamp"),
        ("TIMESTAMP_NS", "timestamp"),
        ("date", "date"),
        ("boolean", "boolean"),
        ("list<string>", "nested"),
        ("INTEGER[]", "nested"),
        ("STRUCT(a INTEGER)", "nested"),
        ("fixed[16]", "binary"),
        ("uuid", "uuid"),
        ("geometry", "unknown"),
    ],
)
def test_type_family(name: str, family: str) -> None:
    assert type_family(name) == family


def test_nested_columns_take_null_checks_only() -> None:
    columns = {"tags": "list<string>"}
    validate_expectation(Expectation("expect_column_values_to_not_be_null", {"column": "tags"}), columns)
    with pytest.raises(ExpectationConfigError) as caught:
        validate_expectation(Expectation("expect_column_values_to_be_unique", {"column": "tags"}), columns)
    assert caught.value.field == "column"
