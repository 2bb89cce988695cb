"""A quality check has a time budget: what runs past it is stopped and reported, never passed, never a hang."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

import meshlake as ml
from meshlake.contract.expectations import Expectation
from meshlake.errors import ConfigError, QualityGateError
from meshlake.quality.budget import DEFAULT_SECONDS, budget_seconds
from meshlake.quality.native import run_native
from meshlake.quality.records import read_results
from meshlake.quality.regex_worker import RegexTimeoutError, search
from tests.conftest import DescriptorWriter, main_snapshot_id

CATASTROPHIC = r"^(?=a)(a+)+$"
"""Python-only (lookahead), and exponential on a run of `a` that does not end the string."""
SLOW_VALUE = "a" * 30 + "!"
"""Minutes of backtracking for `re` (about 2**30 steps)."""
BOUND = 30.0
"""How long a check with a 1-2 s budget may take at most, on a loaded machine (it never hangs)."""
ADDRESS = "logistics.orders.codes"


def _descriptor(expectations: list[dict[str, Any]], engine: str = "native") -> dict[str, Any]:
    return {
        "apiVersion": "meshlake/v1",
        "domain": "logistics",
        "name": "orders",
        "version": "1.0.0",
        "owner": {"team": "logistics_data"},
        "outputs": [
            {
                "name": "codes",
                "columns": [{"name": "id", "type": "long", "required": True}, {"name": "code", "type": "string"}],
                "expectations": expectations,
                "quality": {"engine": engine},
            }
        ],
    }


def _codes(*codes: str | None) -> pa.Table:
    return pa.table({"id": pa.array(range(len(codes)), pa.int64()), "code": pa.array(codes, pa.string())})


@pytest.fixture
def budgeted(tmp_path: Path) -> ml.Lake:
    return ml.connect(home=str(tmp_path / ".meshlake"), quality_time_budget="2s")


def test_a_catastrophic_regex_fails_the_gate_when_its_budget_runs_out(
    budgeted: ml.Lake, write_descriptor: DescriptorWriter
) -> None:
    regex = {"expect_column_values_to_match_regex": {"column": "code", "regex": CATASTROPHIC}}
    budgeted.deploy(write_descriptor(_descriptor([regex, {"expect_column_values_to_not_be_null": {"column": "id"}}])))
    port = budgeted.port(ADDRESS)
    started = time.monotonic()
    with pytest.raises(QualityGateError) as caught:
        port.write(_codes("aaa", SLOW_VALUE))
    assert time.monotonic() - started < BOUND
    report = caught.value.report
    assert not report.passed
    for result in report.results:
        assert result.status == "errored"
        assert "time budget of 2 s" in (result.error or "")
        assert "quality_time_budget" in (result.error or "")
    assert CATASTROPHIC in (report.results[0].error or "")
    assert main_snapshot_id(port) is None
    recorded = read_results(budgeted.catalog, address=ADDRESS)
    assert recorded and not any(row["success"] for row in recorded)


def test_a_check_of_a_published_snapshot_stops_at_its_budget_too(
    tmp_path: Path, write_descriptor: DescriptorWriter
) -> None:
    lake = ml.connect(home=str(tmp_path / ".meshlake"))
    lake.deploy(write_descriptor(_descriptor([])))
    lake.port(ADDRESS).write(_codes("aaa", SLOW_VALUE))
    regex = {"expect_column_values_to_match_regex": {"column": "code", "regex": CATASTROPHIC}}
    budgeted = ml.connect(home=str(tmp_path / ".meshlake"), quality_time_budget="1")
    budgeted.deploy(write_descriptor(_descriptor([regex]) | {"version": "1.0.1"}))  # an added expectation: patch
    started = time.monotonic()
    report = budgeted.port(ADDRESS).check()
    assert time.monotonic() - started < BOUND
    assert [r.status for r in report.results] == ["errored"]
    assert "time budget of 1 s" in (report.results[0].error or "")


def test_a_normal_python_regex_gate_is_unaffected(budgeted: ml.Lake, write_descriptor: DescriptorWriter) -> None:
    """Lookbehind needs Python's `re` (the worker path); its verdicts are Python's own."""
    regex = {"expect_column_values_to_match_regex": {"column": "code", "regex": r"(?<=A)\d{3}$"}}
    budgeted.deploy(write_descriptor(_descriptor([regex])))
    port = budgeted.port(ADDRESS)
    good = port.write(_codes("A123", "xA999", None))  # type: ignore[arg-type]
    assert good.quality is not None
    assert [(r.status, r.unexpected_count) for r in good.quality.results] == [("passed", 0)]
    with pytest.raises(QualityGateError) as caught:
        port.write(_codes("A12", "B123", "A123\n"))
    (result,) = caught.value.report.results
    assert (result.status, result.unexpected_count) == ("failed", 2)  # `$` matches before a final newline
    assert main_snapshot_id(port) == good.snapshot_id


def test_a_slow_sql_expectation_is_interrupted_at_the_budget(
    budgeted: ml.Lake, write_descriptor: DescriptorWriter
) -> None:
    query = "SELECT b.* FROM {batch} b, range(100000000000) r WHERE r.range % 1000000007 = 1000000006 + b.id"
    sql = {"unexpected_rows_expectation": {"unexpected_rows_query": query}}
    budgeted.deploy(write_descriptor(_descriptor([sql])))
    port = budgeted.port(ADDRESS)
    started = time.monotonic()
    with pytest.raises(QualityGateError) as caught:
        port.write(_codes("a"))
    assert time.monotonic() - started < BOUND
    (result,) = caught.value.report.results
    assert result.status == "errored"
    assert "time budget of 2 s" in (result.error or "")


def test_the_great_expectations_engine_stops_a_catastrophic_regex(
    budgeted: ml.Lake, write_descriptor: DescriptorWriter
) -> None:
    pytest.importorskip("great_expectations", reason="the great-expectations extra is not installed")
    regex = {"expect_column_values_to_match_regex": {"column": "code", "regex": CATASTROPHIC}}
    not_null = {"expect_column_values_to_not_be_null": {"column": "id"}}
    budgeted.deploy(write_descriptor(_descriptor([regex, not_null], engine="great_expectations")))
    port = budgeted.port(ADDRESS)
    started = time.monotonic()
    with pytest.raises(QualityGateError) as caught:
        port.write(_codes("aaa", SLOW_VALUE))
    assert time.monotonic() - started < BOUND
    stopped, other = caught.value.report.results
    assert stopped.status == "errored"
    assert "time budget of 2 s" in (stopped.error or "")
    assert other.status == "passed"
    assert main_snapshot_id(port) is None


def test_run_native_reports_every_unfinished_expectation_with_the_reason() -> None:
    con = duckdb.connect()
    con.register("t", _codes("aaa", SLOW_VALUE))
    checks = [
        Expectation("expect_column_values_to_match_regex", {"column": "code", "regex": CATASTROPHIC}),
        Expectation("expect_column_values_to_be_unique", {"column": "id"}),
        Expectation("unexpected_rows_expectation", {"unexpected_rows_query": "SELECT * FROM {batch} WHERE id < 0"}),
    ]
    started = time.monotonic()
    results = run_native(con, relation_sql="t", new_rows_sql=None, expectations=checks, time_budget=1.0)
    assert time.monotonic() - started < BOUND
    assert [r.status for r in results] == ["errored", "errored", "errored"]
    assert all("time budget of 1 s" in (r.error or "") for r in results)
    fast = run_native(con, relation_sql="t", new_rows_sql=None, expectations=checks[1:], time_budget=1.0)
    assert [r.status for r in fast] == ["passed", "passed"]  # the connection is usable after the interrupt


def test_the_regex_worker_gives_pythons_answers_and_stops_at_its_deadline() -> None:
    patterns = [r"(?<=a)b", r"^\w+$", r"(a)\1"]
    values = ["ab", "xb", None, "é_1", "a b", "aa"]
    index = [0, 0, 0, 1, 1, 2]
    found = search(patterns, index, values, time.monotonic() + DEFAULT_SECONDS)
    expected = [
        None if v is None else re.search(patterns[i], v) is not None for i, v in zip(index, values, strict=True)
    ]
    assert found == expected
    started = time.monotonic()
    with pytest.raises(RegexTimeoutError):
        search([CATASTROPHIC], [0], [SLOW_VALUE], time.monotonic() + 0.5)
    assert time.monotonic() - started < BOUND
    assert search([r"a"], [0], ["a"], time.monotonic() + DEFAULT_SECONDS) == [True]  # a new worker took over


@pytest.mark.parametrize(("value", "seconds"), [("90s", 90.0), ("5m", 300.0), ("1h", 3600.0), ("2.5", 2.5)])
def test_the_budget_setting_takes_durations_and_seconds(value: str, seconds: float) -> None:
    assert budget_seconds(value) == seconds


@pytest.mark.parametrize("value", ["0", "0s", "-1", "soon", "1.5m", "", "inf"])
def test_a_bad_budget_setting_is_a_config_error(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        budget_seconds(value)
    assert caught.value.key == "quality_time_budget"


def test_the_default_budget_is_five_minutes(tmp_path: Path) -> None:
    lake = ml.connect(home=str(tmp_path / ".meshlake"))
    assert budget_seconds(lake.settings.quality_time_budget) == DEFAULT_SECONDS == 300.0


@pytest.mark.parametrize("engine", ["native", "great_expectations"])
@pytest.mark.parametrize(
    ("expectation", "quote"),
    [
        ({"expect_column_values_to_match_regex_list": {"column": "code", "regex_list": ["^b", CATASTROPHIC]}}, ""),
        (
            {
                "expect_column_values_to_match_json_schema": {
                    "column": "code",
                    "json_schema": {"type": "string", "pattern": "^(a+)+$"},
                }
            },
            '"',
        ),
    ],
    ids=["regex-list", "json-schema-pattern"],
)
def test_python_checks_of_the_new_types_stop_at_the_budget(
    budgeted: ml.Lake, write_descriptor: DescriptorWriter, engine: str, expectation: dict[str, Any], quote: str
) -> None:
    """A regex list and a JSON schema's `pattern` run in worker processes killed at the deadline (GE would hang)."""
    if engine == "great_expectations":
        pytest.importorskip("great_expectations", reason="the great_expectations engine needs its extra")
    budgeted.deploy(write_descriptor(_descriptor([expectation], engine)))
    port = budgeted.port(ADDRESS)
    started = time.monotonic()
    with pytest.raises(QualityGateError) as caught:
        port.write(_codes(f"{quote}aaa{quote}", f"{quote}{SLOW_VALUE}{quote}"))
    assert time.monotonic() - started < BOUND
    (result,) = caught.value.report.results
    assert result.status == "errored" and result.error is not None and "time budget" in result.error
    assert main_snapshot_id(port) is None
