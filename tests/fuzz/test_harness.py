"""The fuzz harness itself: a hanging case is stopped and reported, and only clear meshlake errors pass."""

from __future__ import annotations

import time

import pytest

from meshlake.errors import ContractViolationError, DescriptorError
from tests.fuzz.harness import CaseTimeout, Report, error_problem, run_case


def test_the_time_limit_stops_a_case_that_hangs_and_reports_it() -> None:
    started = time.perf_counter()
    outcome = run_case(lambda: time.sleep(30), seconds=0.2)
    assert isinstance(outcome.error, CaseTimeout)
    assert time.perf_counter() - started < 5
    assert error_problem(outcome.error) == "hung: the case ran longer than 0.2 s"


def test_a_case_that_ends_in_time_keeps_its_result() -> None:
    outcome = run_case(lambda: 42, seconds=5)
    assert outcome.result == 42 and not outcome.failed


@pytest.mark.parametrize(
    ("error", "problem"),
    [
        (DescriptorError("bad", file="d.yaml", line=1), None),
        (ValueError("bare"), "raised builtins.ValueError, not a MeshlakeError: bare"),
        (RecursionError("deep"), "raised builtins.RecursionError, not a MeshlakeError: deep"),
        (ContractViolationError("x" * 5000, address="a.b.c"), "ContractViolationError message is 5,000 characters"),
    ],
)
def test_only_a_clear_meshlake_error_is_an_acceptable_failure(error: Exception, problem: str | None) -> None:
    found = error_problem(error)
    assert found == problem if problem is None else (found or "").startswith(problem)


def test_a_report_with_failures_fails_with_the_seed_and_the_cases() -> None:
    report = Report("harness")
    report.fail("case 7", "raised builtins.KeyError")
    with pytest.raises(AssertionError, match=r"MESHLAKE_FUZZ_SEED=\d+[\s\S]*case 7"):
        report.check()
