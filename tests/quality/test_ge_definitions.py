"""Parity on Great Expectations' own test definitions (release 1.2.0): meshlake's verdict is GE's expected one.

Which cases apply is decided as GE's own runner decides for its pandas backend (`tests/test_definitions/
test_expectations_v3_api.py`: the dataset's and the test's `only_for` / `suppress_test_for`, and GE's list of
types not implemented on pandas). Where GE has no pandas implementation, its SQL cases apply — those GE runs on
PostgreSQL (`postgresql` or `sqlalchemy` in `only_for`, or no `only_for`); the four distribution types GE 1.x
ships without an implementation keep the expected results of their GE 0.x pandas implementation. A case that
expects an error (`traceback_substring`) agrees when meshlake refuses the configuration or reports `errored`.

Excluded, with reasons (counted by `test_every_type_has_applicable_cases_and_exclusions_are_explained`):
cases GE itself cannot state for a typed table (a column mixing Python types, which pandas keeps as `object`;
positional arguments) and the few listed in `EXCLUDED`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import cache
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from meshlake.contract.expectations import REGISTRY, Expectation
from meshlake.quality.native import run_native
from tests.quality.ge_definitions import load

PANDAS_NOT_IMPLEMENTED = frozenset(
    {  # great_expectations/self_check/util.py: candidate_test_is_on_temporary_notimplemented_list_v3_api
        "expect_table_row_count_to_equal_other_table",
        "expect_column_values_to_match_like_pattern",
        "expect_column_values_to_not_match_like_pattern",
        "expect_column_values_to_match_like_pattern_list",
        "expect_column_values_to_not_match_like_pattern_list",
        "expect_multicolumn_values_to_be_unique",
        "expect_column_pair_cramers_phi_value_to_be_less_than",
        "expect_column_bootstrapped_ks_test_p_value_to_be_greater_than",
        "expect_column_chisquare_test_p_value_to_be_greater_than",
        "expect_column_parameterized_distribution_ks_test_p_value_to_be_greater_than",
    }
)
UNIMPLEMENTED_IN_1X = frozenset(
    {
        "expect_column_pair_cramers_phi_value_to_be_less_than",
        "expect_column_bootstrapped_ks_test_p_value_to_be_greater_than",
        "expect_column_chisquare_test_p_value_to_be_greater_than",
        "expect_column_parameterized_distribution_ks_test_p_value_to_be_greater_than",
    }
)
SQL_ONLY = PANDAS_NOT_IMPLEMENTED - UNIMPLEMENTED_IN_1X | {"unexpected_rows_expectation"}
"""Types GE implements on SQL backends only: their PostgreSQL cases apply."""
ALIASES = {"expect_multicolumn_values_to_be_unique": "expect_select_column_values_to_be_unique_within_record"}
"""Types without test definitions of their own, checked on the cases of the type they are GE's older name for."""
PANDAS = ("pandas", "pandas_v3_api", "pandas>=024")
POSTGRES = ("postgresql", "sqlalchemy")
MIXED = "a column mixing Python types (pandas object dtype) cannot be a typed port column"
POSITIONAL = "positional arguments are not a descriptor form"
PARAMETER = "suite parameters ($PARAMETER expressions) are not descriptor values"
TEXT_FOR_NUMBER = (
    "meshlake refuses, at deploy, text where the column holds numbers (GE on pandas compares them: never equal)"
)
NOT_TEXT = "meshlake refuses, at deploy, a text check on a column that is not text (GE fails every value)"
NOT_A_NUMBER = "meshlake refuses, at deploy, a count given as text (GE 1.2 compares 'hello' with the count: fails)"
EXCLUDED: dict[tuple[str, str], str] = {
    ("expect_column_values_to_be_in_set", "test_conditional_expectation_passes"): TEXT_FOR_NUMBER,
    ("expect_column_values_to_be_in_set", "test_empty_column_should_be_vacuously_true"): TEXT_FOR_NUMBER,
    ("expect_column_values_to_be_json_parseable", "negative_test_integers"): NOT_TEXT,
    ("expect_table_column_count_to_equal", "invalid_arguments_throws_exception"): NOT_A_NUMBER,
    ("expect_table_row_count_to_equal", "invalid_arguments_throws_exception"): NOT_A_NUMBER,
}
"""(type, title) → why the case does not apply to meshlake."""


def _listed(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value] if value else []


def _applies(expectation_type: str, dataset: dict[str, Any], test: dict[str, Any]) -> bool:
    """Whether GE runs the case on the backend whose semantics meshlake follows (pandas, else PostgreSQL)."""
    if test["success"] is None and test["error"] is None:
        return False  # the case states no verdict (it checks observed values only)
    sql = expectation_type in SQL_ONLY
    backends = POSTGRES if sql else ("pandas",)
    only, suppressed = _listed(dataset.get("only_for")), _listed(dataset.get("suppress_test_for"))
    if only and not any(b in only for b in backends):
        return False
    if any(b in suppressed for b in backends):
        return False
    only, suppressed = _listed(test.get("only_for")), _listed(test.get("suppress_test_for"))
    names = POSTGRES if sql else PANDAS
    if only and not any(b in only for b in names):
        return False
    return not any(b in suppressed for b in names)


@cache
def cases() -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    out = []
    for definition in load()["definitions"]:
        kind = definition["expectation_type"]
        for dataset in definition["datasets"]:
            for test in dataset["tests"]:
                if _applies(kind, dataset, test):
                    out.append((kind, test["title"], dataset, test))
    for alias, kind in ALIASES.items():
        out += [(alias, title, dataset, test) for k, title, dataset, test in list(out) if k == kind]
    return out


def frame(data: dict[str, Any], schema: dict[str, str] | None) -> Any:
    """The DataFrame GE's test runner builds (`_get_test_validator_with_data_pandas`)."""
    import numpy as np
    import pandas as pd

    df = pd.DataFrame(data)
    if schema:
        types = {}
        for key, given in schema.items():
            value = given
            if value.lower() in ("timestamp", "datetime64[ns, tz]"):
                df[key] = pd.to_datetime(df[key], utc=True)
                continue
            if value.lower() in ("datetime", "datetime64", "datetime64[ns]"):
                df[key] = pd.to_datetime(df[key])
                continue
            if value.lower() == "date":
                df[key] = pd.to_datetime(df[key]).dt.date
                value = "object"
            try:
                types[key] = np.dtype(value)
            except TypeError:
                types[key] = getattr(pd, value)()
        df = df.astype(types)
    return df


def table(data: dict[str, Any], schema: dict[str, str] | None) -> tuple[pa.Table, set[str]]:
    """The data as a typed Arrow table, and the columns left out because they mix Python types."""
    df = frame(data, schema)
    columns, names, mixed = [], [], set()
    for name in df.columns:
        try:
            column = pa.array(df[name], from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            mixed.add(str(name))
            continue
        if pa.types.is_null(column.type):  # an all-missing object column: text, as pandas keeps it
            column = pa.nulls(len(column), pa.string())
        columns.append(column)
        names.append(str(name))
    return pa.Table.from_arrays(columns, names=names), mixed


def _named(kwargs: dict[str, Any]) -> set[str] | None:
    """The columns an expectation reads (None: the whole table's columns matter)."""
    names = {str(kwargs[k]) for k in ("column", "column_A", "column_B") if isinstance(kwargs.get(k), str)}
    names |= {str(c) for c in kwargs.get("column_list") or ()}
    condition = kwargs.get("row_condition")
    if isinstance(condition, str):
        names |= set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", condition))
    return names or None


def verdict(kind: str, dataset: dict[str, Any], test: dict[str, Any]) -> str:
    """meshlake's verdict: passed, failed or errored (a refused configuration is errored)."""
    data = dataset["data"]
    others: dict[str, int] = {}
    if isinstance(data, list):  # several tables: the first is checked, the others are other ports
        first = data[0]
        others = {f"ge.tables.{d['dataset_name']}": len(next(iter(d["data"].values()))) for d in data[1:]}
        data = first["data"]
        kwargs = dict(test["in"])
        if "other_table_name" in kwargs:
            kwargs["other_table_name"] = f"ge.tables.{kwargs['other_table_name']}"
    else:
        kwargs = dict(test["in"])
    checked, _ = table(data, dataset.get("pandas_schema"))
    con = duckdb.connect()
    try:
        con.register("__t", checked)
        (result,) = run_native(
            con,
            relation_sql="__t",
            new_rows_sql=None,
            expectations=[Expectation(kind, kwargs)],
            other_rows=lambda address: others[address],
        )
    finally:
        con.close()
    return result.status


def _id(case: tuple[str, str, dict[str, Any], dict[str, Any]]) -> str:
    return f"{case[0].removeprefix('expect_')}:{case[1]}"


def _exclusion(kind: str, title: str, dataset: dict[str, Any], test: dict[str, Any]) -> str | None:
    if (kind, title) in EXCLUDED:
        return EXCLUDED[(kind, title)]
    if isinstance(test["in"], list):
        return POSITIONAL
    if "$PARAMETER" in json.dumps(test["in"]):
        return PARAMETER
    data = dataset["data"]
    named = _named(test["in"])
    for part in data if isinstance(data, list) else [{"data": data}]:
        _, mixed = table(part["data"], dataset.get("pandas_schema"))
        if mixed and (named is None or mixed & named):
            return MIXED
    return None


@pytest.mark.parametrize("case", cases(), ids=_id)
def test_verdict_equals_great_expectations_expected_success(
    case: tuple[str, str, dict[str, Any], dict[str, Any]],
) -> None:
    kind, title, dataset, test = case
    reason = _exclusion(kind, title, dataset, test)
    if reason is not None:
        pytest.skip(f"excluded: {reason}")
    got = verdict(kind, dataset, test)
    if test["success"] is None:
        assert got == "errored", (title, test["error"])
    else:
        assert got == ("passed" if test["success"] else "failed"), (title, test["in"])


def test_every_type_has_applicable_cases_and_exclusions_are_explained() -> None:
    applicable: Counter[str] = Counter()
    excluded: Counter[str] = Counter()
    for kind, title, dataset, test in cases():
        reason = _exclusion(kind, title, dataset, test)
        if reason is None:
            applicable[kind] += 1
        else:
            excluded[reason] += 1
    assert set(applicable) == set(REGISTRY), sorted(set(REGISTRY) - set(applicable))
    assert set(excluded) <= {MIXED, POSITIONAL, PARAMETER, *EXCLUDED.values()}
    assert sum(excluded.values()) < sum(applicable.values()) / 10
