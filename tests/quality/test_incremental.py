"""Incremental table checks on appends: the same verdicts, counts and observed values as a full evaluation."""

from __future__ import annotations

import json
import math
import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from pyiceberg.io.pyarrow import schema_to_pyarrow
from pyiceberg.manifest import DataFile

import meshlake as ml
from meshlake.errors import QualityGateError
from meshlake.quality.gate import evaluate
from meshlake.quality.incremental import on_snapshot
from meshlake.quality.records import RESULTS_TABLE, read_results, reports_from_rows
from meshlake.quality.report import ExpectationResult, QualityReport
from meshlake.query.plan import plan_scan
from meshlake.write.datafiles import DataFileWriter
from meshlake.write.ingest import Conformer
from tests.conftest import DescriptorWriter, raise_major

T0 = datetime(2026, 3, 1, tzinfo=UTC)
AT = pa.timestamp("us", "UTC")
COLUMNS = [
    {"name": "id", "type": "long", "required": True},
    {"name": "code", "type": "string"},
    {"name": "a", "type": "int"},
    {"name": "b", "type": "string"},
    {"name": "c", "type": "int"},
    {"name": "qty", "type": "int"},
    {"name": "price", "type": "decimal(10,2)"},
    {"name": "weight", "type": "double"},
    {"name": "day", "type": "date"},
    {"name": "at", "type": "timestamptz"},
    {"name": "serial", "type": "long"},
]
EXPECTATIONS: list[dict[str, Any]] = [
    {"expect_column_values_to_be_unique": {"column": "id"}},
    {"expect_column_values_to_be_unique": {"column": "code", "mostly": 0.8}},
    {"expect_compound_columns_to_be_unique": {"column_list": ["c", "b"], "mostly": 0.7}},
    {"expect_compound_columns_to_be_unique": {"column_list": ["a", "b"], "ignore_row_if": "any_value_is_missing"}},
    {"expect_table_row_count_to_be_between": {"min_value": 1, "max_value": 220}},
    {"expect_column_min_to_be_between": {"column": "qty", "min_value": -5}},
    {"expect_column_max_to_be_between": {"column": "qty", "max_value": 1000}},
    {"expect_column_sum_to_be_between": {"column": "qty", "min_value": 0}},
    {"expect_column_mean_to_be_between": {"column": "qty", "min_value": 0, "max_value": 200}},
    {"expect_column_min_to_be_between": {"column": "price", "min_value": 0}},
    {"expect_column_max_to_be_between": {"column": "price", "max_value": 999.99}},
    {"expect_column_sum_to_be_between": {"column": "price", "min_value": 0}},
    {"expect_column_mean_to_be_between": {"column": "price", "min_value": 0, "max_value": 999.99}},
    {"expect_column_min_to_be_between": {"column": "weight", "min_value": -1.0}},
    {"expect_column_max_to_be_between": {"column": "weight", "max_value": 100.0}},
    {"expect_column_sum_to_be_between": {"column": "weight", "min_value": -1000.0}},
    {"expect_column_mean_to_be_between": {"column": "weight", "min_value": -1.0, "max_value": 100.0}},
    {"expect_column_min_to_be_between": {"column": "day", "min_value": "2026-01-01"}},
    {"expect_column_max_to_be_between": {"column": "day", "max_value": "2027-12-31"}},
    {"expect_column_min_to_be_between": {"column": "at", "min_value": "2026-01-01T00:00:00Z"}},
    {"expect_column_max_to_be_between": {"column": "at", "max_value": "2028-01-01T00:00:00Z"}},
    {"expect_column_median_to_be_between": {"column": "qty", "min_value": 0, "max_value": 1000}},
    {"expect_column_proportion_of_unique_values_to_be_between": {"column": "code", "min_value": 0.1}},
    {"expect_column_values_to_be_between": {"column": "qty", "min_value": -50, "max_value": 5000}},
    {"unexpected_rows_expectation": {"unexpected_rows_query": "SELECT * FROM {batch} WHERE qty > 4000"}},
    {"expect_column_values_to_be_unique": {"column": "serial", "mostly": 0.9}},
    {"expect_compound_columns_to_be_unique": {"column_list": ["serial", "qty"], "mostly": 0.9}},
    {"expect_column_stdev_to_be_between": {"column": "weight", "min_value": 10, "max_value": 25, "severity": "warn"}},
    {"expect_table_row_count_to_equal": {"value": 40, "severity": "warn"}},
    {
        "expect_column_kl_divergence_to_be_less_than": {
            "column": "qty",
            "partition_object": {"bins": [0, 100, 200, 301], "weights": [0.3, 0.3, 0.3], "tail_weights": [0.05, 0.05]},
            "threshold": 0.1,
            "severity": "warn",
        }
    },
    {
        "expect_column_chisquare_test_p_value_to_be_greater_than": {
            "column": "b",
            "partition_object": {"values": ["x", "y"], "weights": [0.5, 0.5]},
            "tail_weight_holdout": 0.2,
            "severity": "warn",
        }
    },
]
INCREMENTAL = {*range(21), 25, 26, 27, 28, 29, 30}
"""Indexes of the table checks evaluated incrementally on a stamped base (median, proportion, SQL: full)."""


@pytest.fixture
def port_with(lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter) -> Any:
    def deploy(expectations: list[dict[str, Any]], *, engine: str = "native") -> Any:
        output = descriptor["outputs"][0]
        output.update({"columns": COLUMNS, "expectations": expectations, "primary_key": ["id"]})
        output.pop("partition_by", None)
        output["quality"] = {"engine": engine}
        raise_major(descriptor)  # any change of the expectations deploys
        lake.deploy(write_descriptor(descriptor))
        return lake.port("logistics.shipments.daily")

    return deploy


class Appends:
    """Random appends: fresh keys mostly, some duplicates (old and within the batch), some values out of range."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.next_id = 0

    def batch(self, *, clean: bool = False) -> pa.Table:
        """The next append; `clean`: no duplicate key, no value out of range."""
        r = self.random
        n = r.randint(3, 25)
        ids = list(range(self.next_id, self.next_id + n))
        self.next_id += n
        if not clean and self.next_id > n and r.random() < 0.2:
            ids[r.randrange(n)] = r.randrange(self.next_id - n)  # a key that is already published
        if not clean and r.random() < 0.1:
            ids[0] = ids[-1]  # a duplicate within the batch
        qty = [r.randint(0, 300) for _ in range(n)]
        if not clean and r.random() < 0.15:
            qty[r.randrange(n)] = r.choice([-40, 4500])
        weight = [
            r.choice([r.uniform(-0.5, 60), math.nan, None]) if r.random() < 0.2 else r.uniform(0, 60) for _ in ids
        ]
        codes = [f"C{self.next_id}-{i}" for i in range(n)] if clean else [f"C{r.randrange(400)}" for _ in ids]
        serial = [self.next_id * 2 + i if clean or r.random() > 0.1 else self.next_id * 2 for i in range(n)]
        return pa.table(
            {
                "id": pa.array(ids, pa.int64()),
                "code": pa.array([code if r.random() > 0.1 else None for code in codes]),
                "a": pa.array([r.randrange(10**6) if r.random() > 0.15 else None for _ in ids], pa.int32()),
                "b": pa.array([r.choice("xyz") if r.random() > 0.15 else None for _ in ids]),
                "c": pa.array([r.randrange(60) if r.random() > 0.15 else None for _ in ids], pa.int32()),
                "qty": pa.array(qty, pa.int32()),
                "price": pa.array([Decimal(r.randrange(0, 99999)) / 100 for _ in ids], pa.decimal128(10, 2)),
                "weight": pa.array(weight, pa.float64()),
                "day": pa.array([date(2026, 1, 1) + timedelta(days=r.randrange(700)) for _ in ids], pa.date32()),
                "at": pa.array([T0 + timedelta(seconds=r.randrange(5 * 10**7)) for _ in ids], AT),
                "serial": pa.array(serial, pa.int64()),  # new values only, at times duplicated within a batch
            }
        )


def stage(port: Any, data: pa.Table) -> tuple[DataFile, ...]:
    """The data files of an append of `data`, written and not committed."""
    table = port.table()
    target = schema_to_pyarrow(table.schema(), include_field_ids=True)
    return tuple(DataFileWriter(table.metadata, table.io).write_all(Conformer(target, "t").conform(data.to_reader())))


def write(port: Any, data: pa.Table) -> tuple[QualityReport, int]:
    """The gate's report of an append, and the snapshot it checked (published or quarantined)."""
    try:
        result = port.write(data)
    except QualityGateError as failed:
        assert failed.report.snapshot_id is not None
        return failed.report, failed.report.snapshot_id
    assert result.quality is not None and result.snapshot_id is not None
    return result.quality, result.snapshot_id


def full_evaluation(port: Any, snapshot_id: int, parent_id: int | None) -> tuple[ExpectationResult, ...]:
    """Every expectation over the whole snapshot, without any stamped aggregate (the reference)."""
    table = port.table()
    staged = plan_scan(table, snapshot_id)
    before = {task.path for task in plan_scan(table, parent_id).tasks} if parent_id is not None else set()
    new = replace(staged, tasks=tuple(task for task in staged.tasks if task.path not in before))
    expectations = port.contract.expectation_list
    return evaluate("native", staged, new if before else None, expectations, 5, table.io)


def same_value(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)  # float sums: summation order
    return type(a) is type(b) and a == b


def assert_same(incremental: ExpectationResult, full: ExpectationResult) -> None:
    assert incremental.status == full.status, (incremental, full)
    assert incremental.unexpected_count == full.unexpected_count, (incremental, full)
    assert incremental.element_count == full.element_count, (incremental, full)
    assert (incremental.unexpected_percent is None) == (full.unexpected_percent is None)
    if full.unexpected_percent is not None:
        assert math.isclose(incremental.unexpected_percent or 0.0, full.unexpected_percent, rel_tol=1e-12)
    assert same_value(incremental.observed_value, full.observed_value), (incremental, full)


@pytest.mark.parametrize("seed", range(4))
def test_incremental_checks_of_random_appends_equal_a_full_evaluation(port_with: Any, seed: int) -> None:
    port = port_with(EXPECTATIONS)
    appends = Appends(seed)
    statuses: set[str] = set()
    incremental = 0
    for _ in range(12):
        parent = port.table().metadata.snapshot_by_name("main")
        report, snapshot_id = write(port, appends.batch())
        full = full_evaluation(port, snapshot_id, parent.snapshot_id if parent else None)
        for i, (mine, reference) in enumerate(zip(report.results, full, strict=True)):
            assert_same(mine, reference)
            if mine.method == "incremental":
                assert i in INCREMENTAL
                incremental += 1
        statuses.add("passed" if report.passed else "failed")
    assert statuses == {"passed", "failed"}, "the appends should both pass and break the expectations"
    assert incremental >= 3 * len(INCREMENTAL), "most checks after the first append should be incremental"


def test_a_duplicate_of_an_old_key_counts_both_rows(port_with: Any) -> None:
    port = port_with([{"expect_column_values_to_be_unique": {"column": "id"}}])
    appends = Appends(7)
    first = appends.batch(clean=True)
    port.write(first)
    port.write(appends.batch(clean=True))
    old = first.slice(0, 1)
    with pytest.raises(QualityGateError) as caught:
        port.write(old)
    (unique,) = caught.value.report.results
    assert (unique.method, unique.scope, unique.unexpected_count) == ("incremental", "table", 2)
    assert [row["id"] for row in unique.sample] == [old["id"][0].as_py()] * 2


def test_the_stamp_keeps_the_verdict_and_adds_what_the_next_append_builds_on(port_with: Any) -> None:
    port = port_with(EXPECTATIONS[:5])
    snapshot_id = port.write(Appends(1).batch(clean=True)).snapshot_id
    summary = port.table().metadata.snapshot_by_id(snapshot_id).summary.additional_properties
    stamp = json.loads(summary["meshlake.quality"])
    assert stamp["verdict"] == "passed" and stamp["engine"] == "native"
    assert stamp["expectations"] == 5 and stamp["failed"] == []
    assert stamp["rows"] == port.latest().to_arrow().num_rows
    assert set(stamp["aggregates"]) == {"0", "1", "2", "3", "4"}
    assert stamp["aggregates"]["0"] == {"nonnull": stamp["rows"], "unexpected": 0}
    assert port.history()[-1].quality == "passed"


@pytest.mark.parametrize("mode", ["overwrite", "upsert"])
def test_writes_other_than_appends_are_checked_in_full_and_the_next_append_builds_on_them(
    port_with: Any, mode: str
) -> None:
    port = port_with(EXPECTATIONS[:9])
    appends = Appends(3)
    port.write(appends.batch(clean=True))
    rewritten = port.write(appends.batch(clean=True).slice(0, 1), mode=mode, write_mode="copy-on-write").quality
    assert {r.method for r in rewritten.results} == {"full"}
    following = port.write(appends.batch(clean=True)).quality
    assert {r.method for r in following.results} == {"incremental"}


def test_a_merge_on_read_upsert_derives_its_key_uniqueness_and_row_count_and_checks_the_rest_in_full(
    port_with: Any,
) -> None:
    port = port_with(EXPECTATIONS[:9])
    appends = Appends(3)
    first = appends.batch(clean=True)
    port.write(first)
    upserted = port.write(first.slice(0, 2), mode="upsert", write_mode="merge-on-read").quality
    methods = [r.method for r in upserted.results]
    assert methods[0] == methods[4] == "incremental", "the key's uniqueness and the row count"
    assert set(methods[1:4] + methods[5:]) == {"full"}
    assert upserted.results[4].observed_value == first.num_rows
    following = port.write(appends.batch(clean=True)).quality
    assert {r.method for r in following.results} == {"incremental"}


def test_changed_expectations_are_checked_in_full_once(port_with: Any) -> None:
    port = port_with(EXPECTATIONS[:4])
    appends = Appends(5)
    port.write(appends.batch(clean=True))
    assert {r.method for r in port.write(appends.batch(clean=True)).quality.results} == {"incremental"}
    port = port_with(EXPECTATIONS[:5])
    assert {r.method for r in port.write(appends.batch(clean=True)).quality.results} == {"full"}
    assert {r.method for r in port.write(appends.batch(clean=True)).quality.results} == {"incremental"}


def test_a_base_the_gate_did_not_publish_is_checked_in_full(port_with: Any) -> None:
    port = port_with(EXPECTATIONS[:4])
    appends = Appends(6)
    port.write(appends.batch(clean=True))
    table = port.table()
    table.append(appends.batch(clean=True).cast(table.schema().as_arrow()))  # pyiceberg itself: no meshlake stamp
    assert {r.method for r in port.write(appends.batch(clean=True)).quality.results} == {"full"}
    assert {r.method for r in port.write(appends.batch(clean=True)).quality.results} == {"incremental"}


def test_the_great_expectations_engine_stamps_no_aggregates(port_with: Any) -> None:
    pytest.importorskip("great_expectations", reason="the great-expectations extra is not installed")
    port = port_with(EXPECTATIONS[:1], engine="great_expectations")
    appends = Appends(8)
    port.write(appends.batch(clean=True))
    result = port.write(appends.batch(clean=True))
    assert {r.method for r in result.quality.results} == {"full"}
    stamp = json.loads(port.table().metadata.snapshot_by_id(result.snapshot_id).summary["meshlake.quality"])
    assert "aggregates" not in stamp and stamp["verdict"] == "passed"


def test_key_lookups_read_only_base_files_whose_bounds_overlap_the_new_keys(port_with: Any) -> None:
    port = port_with(EXPECTATIONS[:1])
    appends = Appends(9)
    first = appends.batch(clean=True)
    port.write(first)
    for _ in range(3):
        port.write(appends.batch(clean=True))
    table = port.table()
    snapshot = table.metadata.snapshot_by_name("main")
    base = plan_scan(table, snapshot.snapshot_id)
    oldest = base.tasks[-1].path  # the manifests list the newest append first
    old_keys, fresh_keys = stage(port, first.slice(0, 2)), stage(port, appends.batch(clean=True))
    lookup = on_snapshot(base, snapshot, table.io, 0, {}, old_keys).base_for_keys
    fresh = on_snapshot(base, snapshot, table.io, 0, {}, fresh_keys).base_for_keys
    assert lookup is not None and fresh is not None
    overlapping = lookup(["id"], False)
    assert overlapping is not None
    assert [task.path for task in base.tasks if task.path.removeprefix("file://") in overlapping] == [oldest]
    assert fresh(["id"], False) is None, "fresh sequential keys: no base file to look in"


def test_every_check_run_records_how_its_checks_were_evaluated(port_with: Any) -> None:
    port = port_with(EXPECTATIONS[:5])
    appends = Appends(2)
    port.write(appends.batch(clean=True))
    port.write(appends.batch(clean=True))
    rows = read_results(port.lake.catalog, address=str(port.address))
    assert [r["method"] for r in rows[-5:]] == ["incremental"] * 5
    assert {r.method for r in reports_from_rows(rows)[0].results} == {"full"}


def test_a_history_table_of_an_older_version_gains_the_method_column(port_with: Any) -> None:
    from pyiceberg.schema import Schema

    from meshlake.quality import records
    from meshlake.write import system_table

    port = port_with(EXPECTATIONS[:1])
    catalog = port.lake.catalog
    old_fields = [f for f in records.RESULTS_SCHEMA.fields if f.name != "method"]
    catalog.create_namespace_if_not_exists(RESULTS_TABLE[:2])
    old_table = catalog.create_table(RESULTS_TABLE, schema=Schema(*old_fields))
    report = QualityReport(str(port.address), 1, "old-run", "native", T0, (ExpectationResult("x", {}, "passed"),))
    old_row = records.report_rows(report, trigger="check", published=None).drop_columns(["method"])
    old_table.append(old_row.cast(old_table.schema().as_arrow()))
    system_table.forget_handles()
    port.write(Appends(4).batch(clean=True))
    names = [f.name for f in catalog.load_table(RESULTS_TABLE).schema().fields]
    assert names[-1] == "method" and names[:-1] == [f.name for f in old_fields]
    rows = read_results(catalog, address=str(port.address))
    assert [row["method"] for row in rows] == [None, "full"]
    assert [r.results[0].method for r in reports_from_rows(rows)] == ["full", "full"]


def test_appends_after_merge_on_read_deletes_are_checked_incrementally_and_equal_a_full_evaluation(
    port_with: Any,
) -> None:
    """Position deletes in the base: its stamped aggregates are of its live rows, so the next append still
    builds on them, and a key deleted by position is not counted as a duplicate."""
    port = port_with(EXPECTATIONS)
    appends = Appends(11)
    port.write(appends.batch(clean=True))
    second = appends.batch(clean=True)
    port.write(second)
    kept = second.slice(1, second.num_rows - 1)
    changed = port.write(kept.slice(0, 1), mode="upsert", write_mode="merge-on-read")
    deleted = port.delete(f"id = {second['id'][0].as_py()}", write_mode="merge-on-read")
    assert changed.write_mode == deleted.write_mode == "merge-on-read"
    stamp = json.loads(port.table().current_snapshot().summary.additional_properties["meshlake.quality"])
    assert stamp["rows"] == port.latest().to_arrow().num_rows
    incremental = 0
    for data in (appends.batch(clean=True), second.slice(0, 1), appends.batch()):
        parent = port.table().metadata.snapshot_by_name("main")
        report, snapshot_id = write(port, data)
        full = full_evaluation(port, snapshot_id, parent.snapshot_id)
        for mine, reference in zip(report.results, full, strict=True):
            assert_same(mine, reference)
            incremental += mine.method == "incremental"
    assert incremental >= 2 * len(INCREMENTAL)
