"""The native engine and Great Expectations agree on every (dataset, expectation) pair of the corpus."""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from meshlake.contract.expectations import Expectation
from meshlake.quality.gx import run_great_expectations
from meshlake.quality.native import run_native
from meshlake.quality.report import ExpectationResult
from tests.quality.conftest import relation, write_parquet
from tests.quality.corpus import DATASETS, EXPECTATIONS

Results = dict[str, tuple[tuple[ExpectationResult, ...], tuple[ExpectationResult, ...]]]


@pytest.fixture(scope="session")
def results(corpus_files: dict[str, Path], gx: ModuleType) -> Results:
    """Both engines on every dataset, computed once for the session."""
    out: Results = {}
    for name, path in corpus_files.items():
        con = duckdb.connect()
        native = run_native(con, relation_sql=relation([path]), new_rows_sql=None, expectations=EXPECTATIONS)
        reference = run_great_expectations(pq.read_table(path), EXPECTATIONS)
        out[name] = (native, reference)
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=1e-9)
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a == b and (a.tzinfo is None) == (b.tzinfo is None)
    return bool(a == b)


def assert_same(native: ExpectationResult, reference: ExpectationResult) -> None:
    """Same verdict, same counts, same observed value; an errored expectation is errored on both."""
    assert native.status == reference.status, (native, reference)
    assert native.success == reference.success
    assert native.unexpected_count == reference.unexpected_count, (native, reference)
    assert native.element_count == reference.element_count, (native, reference)
    assert (native.unexpected_percent is None) == (reference.unexpected_percent is None), (native, reference)
    if native.unexpected_percent is not None:
        assert _same(native.unexpected_percent, reference.unexpected_percent)
    assert _same(native.observed_value, reference.observed_value), (native, reference)


CASES = [
    pytest.param(name, i, id=f"{name}-{i:03d}-{exp.type.removeprefix('expect_')}")
    for name in DATASETS
    for i, exp in enumerate(EXPECTATIONS)
]


@pytest.mark.parametrize(("dataset", "index"), CASES)
def test_native_engine_matches_great_expectations(results: Results, dataset: str, index: int) -> None:
    native, reference = results[dataset]
    assert_same(native[index], reference[index])


def test_corpus_exercises_passes_failures_and_vacuous_truth(results: Results) -> None:
    statuses = {r.status for native, _ in results.values() for r in native}
    assert statuses == {"passed", "failed"}
    for native, _ in results.values():
        assert len(native) == len(EXPECTATIONS)


def test_engines_agree_on_scope_with_new_rows(tmp_path: Path, gx: ModuleType) -> None:
    """Row checks over the new rows only, table checks over old + new, on both engines."""
    edge, clean = DATASETS["edge"], DATASETS["clean"]
    old = write_parquet(edge, tmp_path / "old.parquet")
    new = write_parquet(clean, tmp_path / "new.parquet")
    native = run_native(
        duckdb.connect(),
        relation_sql=relation([old, new]),
        new_rows_sql=relation([new]),
        expectations=EXPECTATIONS,
    )
    reference = run_great_expectations(pa.concat_tables([edge, clean]), EXPECTATIONS, new_rows=clean)
    for exp, a, b in zip(EXPECTATIONS, native, reference, strict=True):
        assert a.scope == b.scope == ("new_rows" if exp.spec.row_level else "table")
        assert_same(a, b)


@pytest.mark.parametrize(
    "expectation",
    [
        Expectation("expect_column_values_to_be_between", {"column": "x", "max_value": math.inf}),
        Expectation("expect_column_values_to_be_in_set", {"column": "x", "value_set": [math.nan, math.inf, 1]}),
        Expectation("expect_column_values_to_not_be_in_set", {"column": "x", "value_set": [-math.inf]}),
        Expectation("expect_column_max_to_be_between", {"column": "x", "max_value": math.inf, "strict_max": True}),
    ],
    ids=["between-inf", "set-nan-inf", "not-in-set-minus-inf", "max-strict-inf"],
)
def test_infinite_bounds_and_set_values_agree(
    corpus_files: dict[str, Path], gx: ModuleType, expectation: Expectation
) -> None:
    path = corpus_files["edge"]
    (native,) = run_native(
        duckdb.connect(), relation_sql=relation([path]), new_rows_sql=None, expectations=[expectation]
    )
    (reference,) = run_great_expectations(pq.read_table(path), [expectation])
    assert_same(native, reference)
