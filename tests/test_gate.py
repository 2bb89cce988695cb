"""Write-audit-publish: the quality gate stops bad data before anyone can read it, and leaves records."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from click.testing import CliRunner

import meshlake as ml
from meshlake.contract.stamps import Stamps
from meshlake.errors import QualityGateError
from meshlake.write.flow import write_port
from tests.conftest import DescriptorWriter, main_snapshot_id
from tests.test_write import shipments

EXPECTATIONS = [
    {"expect_column_values_to_not_be_null": {"column": "shipment_id"}},
    {"expect_column_values_to_be_unique": {"column": "shipment_id"}},
    {"expect_column_values_to_be_between": {"column": "weight_kg", "min_value": 0, "max_value": 50}},
    {"expect_table_row_count_to_be_between": {"min_value": 1, "max_value": 10}},
]


@pytest.fixture
def gated(lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter) -> Any:
    descriptor["outputs"][0]["expectations"] = EXPECTATIONS
    descriptor["outputs"][0]["slo"] = {
        "freshness": "24h",
        "min_rows": 1,
        "max_row_change": 1.0,
        "quality_pass_rate": 0.5,
        "window": "1d",
    }
    lake.deploy(write_descriptor(descriptor))
    return lake.port("logistics.shipments.daily")


def referenced_files(port: Any) -> set[str]:
    return {task.file.file_path for task in port.table().scan().plan_files()}


def test_a_passing_write_is_published_with_its_verdict(gated: Any) -> None:
    result = gated.write(shipments(["a", "b"], weight=2.0))
    assert result.quality is not None and result.quality.passed
    assert result.quality.snapshot_id == result.snapshot_id == main_snapshot_id(gated)
    summary = gated.table().metadata.snapshot_by_id(result.snapshot_id).summary.additional_properties
    verdict = json.loads(summary["meshlake.quality"])
    assert verdict["verdict"] == "passed" and verdict["expectations"] == 4
    assert gated.history()[-1].quality == "passed"


def test_a_failing_write_raises_with_the_report_and_publishes_nothing(gated: Any) -> None:
    gated.write(shipments(["a"], weight=2.0))
    before, files = main_snapshot_id(gated), referenced_files(gated)
    with pytest.raises(QualityGateError) as caught:
        gated.write(shipments(["b", "c"], weight=99.0))
    error = caught.value
    assert error.address == "logistics.shipments.daily"
    failed = {r.expectation: r for r in error.report.failed}
    assert set(failed) == {"expect_column_values_to_be_between"}
    between = failed["expect_column_values_to_be_between"]
    assert between.unexpected_count == 2
    assert {row["shipment_id"] for row in between.sample} == {"b", "c"}
    assert main_snapshot_id(gated) == before
    assert referenced_files(gated) == files, "no new file is referenced by main"
    assert sorted(gated.latest().to_arrow()["shipment_id"].to_pylist()) == ["a"]


def test_the_staged_snapshot_is_kept_in_quarantine_with_its_report(gated: Any) -> None:
    with pytest.raises(QualityGateError) as caught:
        gated.write(shipments(["b"], weight=99.0), run_id="bad-run")
    kept = gated.quarantine()
    assert [w.branch for w in kept] == ["meshlake-quarantine-bad-run"] == [caught.value.quarantine_branch]
    assert kept[0].run_id == "bad-run" and kept[0].rows_added == 1
    assert kept[0].report is not None and not kept[0].report.passed
    assert kept[0].report.failed[0].sample[0]["shipment_id"] == "b"
    staged = gated.at("meshlake-quarantine-bad-run").to_arrow()
    assert staged["weight_kg"].to_pylist() == [99.0]
    assert gated.at(kept[0].snapshot_id).stamps["quality"]["verdict"] == "failed"


def test_old_quarantine_is_cleaned_after_the_retention(
    lake: ml.Lake, tmp_path: Path, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    descriptor["outputs"][0]["expectations"] = EXPECTATIONS
    short = ml.connect(home=str(tmp_path / ".meshlake"), quarantine_retention="1s")
    short.deploy(write_descriptor(descriptor))
    port = short.port("logistics.shipments.daily")
    for run in ("first", "second"):
        with pytest.raises(QualityGateError):
            port.write(shipments(["x"], weight=99.0), run_id=run)
        time.sleep(1.1)
    assert [w.run_id for w in port.quarantine()] == ["second"]


def test_row_checks_read_new_rows_and_table_checks_the_whole_snapshot(gated: Any) -> None:
    gated.write(shipments(["a", "b"], weight=1.0))
    with pytest.raises(QualityGateError) as caught:
        gated.write(shipments(["c", "a"], weight=1.0))  # 'a' exists already: unique across old and new rows
    unique = next(r for r in caught.value.report.results if r.expectation == "expect_column_values_to_be_unique")
    assert not unique.success and unique.scope == "table" and unique.unexpected_count == 2
    between = next(r for r in caught.value.report.results if r.expectation == "expect_column_values_to_be_between")
    assert between.success and between.scope == "new_rows" and between.element_count == 2
    with pytest.raises(QualityGateError) as too_many:
        gated.write(shipments([f"n{i}" for i in range(9)], weight=1.0))  # 2 + 9 rows > max 10
    count = next(r for r in too_many.value.report.results if r.expectation == "expect_table_row_count_to_be_between")
    assert count.observed_value == 11


def test_a_rebased_write_is_checked_again(gated: Any) -> None:
    gated.write(shipments(["a"], weight=1.0))
    stale = gated.table()
    gated.write(shipments(["b"], weight=1.0))
    stamps = Stamps(writer="t", run_id="late", product_version="1.4.0", mode="append")
    gate = gated.lake._gate_for(gated)
    with pytest.raises(QualityGateError):  # 'b' is only a duplicate against the new head
        write_port(
            gated.lake.catalog,
            stale,
            shipments(["b"], weight=1.0),
            address=str(gated.address),
            mode="append",
            where=None,
            primary_key=["shipment_id"],
            stamps=stamps,
            gate=gate,
            quarantine_name="meshlake-quarantine-late",
        )
    assert sorted(gated.latest().to_arrow()["shipment_id"].to_pylist()) == ["a", "b"]


def test_every_check_run_lands_in_the_quality_history(gated: Any) -> None:
    gated.write(shipments(["a"], weight=1.0))
    with pytest.raises(QualityGateError):
        gated.write(shipments(["b"], weight=99.0))
    report = gated.check()
    assert report.passed and report.snapshot_id == main_snapshot_id(gated)
    rows = gated.lake.sql(
        "SELECT trigger, published, count(*) AS n, bool_and(success) AS ok FROM meshlake.system.quality_results "
        "WHERE address = 'logistics.shipments.daily' GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    assert rows == [("check", None, 4, True), ("gate", False, 4, False), ("gate", True, 4, True)]
    columns = gated.lake.sql("SELECT * FROM meshlake.system.quality_results LIMIT 0").columns
    for needed in (
        "address",
        "snapshot_id",
        "run_id",
        "expectation",
        "success",
        "observed_value",
        "unexpected_count",
        "checked_at",
    ):
        assert needed in columns


def test_an_expectation_that_errors_is_never_a_pass(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    query = "SELECT * FROM {batch} WHERE no_such_column > 1"
    descriptor["outputs"][0]["expectations"] = [{"unexpected_rows_expectation": {"unexpected_rows_query": query}}]
    lake.deploy(write_descriptor(descriptor))
    port = lake.port("logistics.shipments.daily")
    with pytest.raises(QualityGateError) as caught:
        port.write(shipments(["a"]))
    assert caught.value.report.results[0].status == "errored"
    assert caught.value.report.results[0].error
    assert main_snapshot_id(port) is None


def test_the_great_expectations_engine_gates_too(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    pytest.importorskip("great_expectations", reason="the great-expectations extra is not installed")
    descriptor["outputs"][0]["expectations"] = EXPECTATIONS[:3]
    descriptor["outputs"][0]["quality"] = {"engine": "great_expectations"}
    lake.deploy(write_descriptor(descriptor))
    port = lake.port("logistics.shipments.daily")
    assert port.write(shipments(["a"], weight=1.0)).quality.engine == "great_expectations"
    with pytest.raises(QualityGateError) as caught:
        port.write(shipments(["b"], weight=99.0))
    assert [r.expectation for r in caught.value.report.failed] == ["expect_column_values_to_be_between"]


def test_slo_report_from_metadata_and_history(gated: Any) -> None:
    report = gated.slo()
    assert report.status == "unknown"
    gated.write(shipments(["a"], weight=1.0))
    gated.write(shipments(["b", "c", "d"], weight=1.0))
    report = gated.slo()
    by_name = {c.objective: c for c in report.checks}
    assert by_name["freshness"].status == "met"
    assert by_name["min_rows"].status == "met" and by_name["min_rows"].observed == 4
    assert by_name["max_row_change"].status == "violated"  # 1 → 4 rows is +300 %
    assert by_name["quality_pass_rate"].status == "met"
    assert report.status == "violated"
    from meshlake.quality.slo import evaluate_slo

    later = evaluate_slo(gated.lake, gated, at=datetime.now(UTC) + timedelta(days=2))
    assert {c.objective: c.status for c in later.checks}["freshness"] == "violated"


def cli(*args: str) -> Any:
    from meshlake.cli import commands  # noqa: F401
    from meshlake.cli.main import cli as group

    return CliRunner().invoke(group, list(args))


def test_cli_check_slo_and_quarantine(gated: Any) -> None:
    first = gated.write(shipments(["a"], weight=1.0)).snapshot_id
    result = cli("check", f"logistics.shipments.daily@{first}", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["passed"] is True
    with pytest.raises(QualityGateError):
        gated.write(shipments(["b"], weight=99.0))
    listed = json.loads(cli("quarantine", "logistics.shipments.daily", "--json").output)
    assert len(listed) == 1 and listed[0]["report"]["passed"] is False
    slo = cli("slo", "logistics.shipments", "--json")
    assert slo.exit_code == 0, slo.output
    assert json.loads(slo.output)[0]["status"] == "unknown"  # one snapshot: row change cannot be judged yet
    gated.write(shipments(["c", "d", "e"], weight=1.0))  # +300 % rows: max_row_change violated
    assert cli("slo").exit_code == 1
    human = cli("slo")
    assert "violated" in human.output


def test_cli_check_exits_non_zero_on_failure(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    lake.deploy(write_descriptor(descriptor))
    lake.port("logistics.shipments.daily").write(shipments(["a"], weight=99.0))
    descriptor["version"] = "1.5.0"
    descriptor["outputs"][0]["expectations"] = EXPECTATIONS
    lake.deploy(write_descriptor(descriptor))
    result = cli("check", "logistics.shipments.daily")
    assert result.exit_code == 1
    assert "FAILED" in result.output


def test_import_a_great_expectations_suite(
    tmp_path: Path, write_descriptor: DescriptorWriter, descriptor: dict[str, Any]
) -> None:
    suite = tmp_path / "suite.json"
    suite.write_text(
        json.dumps(
            {
                "name": "shipments",
                "expectations": [
                    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "shipment_id"}, "meta": {}},
                    {
                        "type": "expect_column_values_to_be_between",
                        "kwargs": {"column": "weight_kg", "min_value": 0, "max_value": 50, "result_format": "BASIC"},
                    },
                ],
            }
        )
    )
    path = write_descriptor(descriptor)
    result = cli("import-suite", str(suite), str(path), "--port", "daily", "--write")
    assert result.exit_code == 0, result.output
    from meshlake.contract.descriptor import load_descriptor

    imported = load_descriptor(path).output("daily").expectation_list
    assert [e.type for e in imported] == ["expect_column_values_to_not_be_null", "expect_column_values_to_be_between"]
    assert "result_format" not in imported[1].kwargs
    assert pa  # arrow is the lingua franca of these tests


def test_import_suite_imports_what_it_can_and_lists_what_it_skipped(
    tmp_path: Path, write_descriptor: DescriptorWriter, descriptor: dict[str, Any]
) -> None:
    entries = [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "shipment_id"}},
        {"type": "expect_column_values_to_be_sparkly", "kwargs": {"column": "shipment_id"}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "no_such_column", "min_value": 0}},
        {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "shipment_id", "regx": "^s"}},
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "weight_kg", "max_value": 50, "row_condition": 'col("weight_kg") > 0'},
            "severity": "warning",
        },
    ]
    suite = tmp_path / "suite.json"
    suite.write_text(json.dumps({"name": "s", "expectations": entries}))
    path = write_descriptor(descriptor)
    result = cli("import-suite", str(suite), str(path), "--port", "daily", "--write", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["added"] == 2
    assert [(s["index"], s["expectation"]) for s in out["skipped"]] == [
        (1, "expect_column_values_to_be_sparkly"),
        (2, "expect_column_values_to_be_between"),
        (3, "expect_column_values_to_match_regex"),
    ]
    assert "no_such_column" in out["skipped"][1]["reason"] and "did you mean 'regex'" in out["skipped"][2]["reason"]
    from meshlake.contract.descriptor import load_descriptor

    imported = load_descriptor(path).output("daily").expectation_list
    assert imported[-1].kwargs["severity"] == "warn" and imported[-1].kwargs["row_condition"]
    text = cli("import-suite", str(suite), str(path), "--port", "daily")
    assert "skipped entry 1 (expect_column_values_to_be_sparkly)" in text.output


def test_the_quality_history_keeps_its_rows_but_trims_its_snapshots(
    gated: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from meshlake.quality import records
    from meshlake.write import system_table

    monkeypatch.setattr(system_table, "TRIM_ABOVE", 6)
    monkeypatch.setattr(system_table, "KEEP_SNAPSHOTS", 3)
    for index in range(8):
        gated.write(shipments([f"s{index}"], weight=1.0))
    history = gated.lake.catalog.load_table(records.RESULTS_TABLE)
    assert len(history.metadata.snapshots) <= 6
    runs = gated.lake.sql("SELECT count(DISTINCT run_id) FROM meshlake.system.quality_results").fetchall()
    assert runs == [(8,)], "trimming snapshots never drops recorded results"


# -- what counts in the quality SLO -----------------------------------------------------------------


def test_ad_hoc_checks_of_quarantine_and_old_tags_do_not_count_in_the_slo(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    descriptor["outputs"][0]["expectations"] = EXPECTATIONS[:3]
    descriptor["outputs"][0]["slo"] = {"quality_pass_rate": 0.7, "window": "1d"}
    lake.deploy(write_descriptor(descriptor))
    port = lake.port("logistics.shipments.daily")
    port.write(shipments(["a"], weight=1.0))
    port.tag("v0")
    port.write(shipments(["b"], weight=1.0))
    with pytest.raises(QualityGateError):
        port.write(shipments(["bad"], weight=99.0))  # the gate's verdict counts: 2 of 3 passed
    branch = port.quarantine()[0].branch
    assert port.slo().checks[0].observed == pytest.approx(2 / 3)

    quarantined = cli("check", f"logistics.shipments.daily@{branch}", "--json")
    old = port.check("v0")
    head = port.check()

    assert quarantined.exit_code == 1 and json.loads(quarantined.output)["ad_hoc"] is True
    assert old.ad_hoc and old.passed and not head.ad_hoc
    slo = port.slo()
    assert slo.status == "met" and slo.checks[0].observed == pytest.approx(3 / 4), slo.checks[0].reason
    assert cli("slo", "logistics.shipments").exit_code == 0
    assert "ad-hoc" in cli("check", "logistics.shipments.daily@v0").output
    rows = lake.sql(
        "SELECT run_id, ad_hoc, bool_and(success) AS ok FROM meshlake.system.quality_results "
        "WHERE trigger = 'check' GROUP BY ALL ORDER BY min(checked_at)"
    ).fetchall()
    assert [(ad_hoc, ok) for _, ad_hoc, ok in rows] == [(True, False), (True, True), (False, True), (True, True)]


def test_a_history_table_without_the_ad_hoc_column_gains_it_and_counts_its_old_checks(gated: Any) -> None:
    from pyiceberg.schema import Schema

    from meshlake.quality import records
    from meshlake.quality.report import ExpectationResult, QualityReport
    from meshlake.write import system_table

    catalog = gated.lake.catalog
    old_fields = [f for f in records.RESULTS_SCHEMA.fields if f.name not in ("method", "ad_hoc")]
    catalog.create_namespace_if_not_exists(records.RESULTS_TABLE[:2])
    old_table = catalog.create_table(records.RESULTS_TABLE, schema=Schema(*old_fields))
    report = QualityReport(
        str(gated.address), 1, "old", "native", datetime.now(UTC), (ExpectationResult("x", {}, "failed"),)
    )
    old_row = records.report_rows(report, trigger="check", published=None).drop_columns(["method", "ad_hoc"])
    old_table.append(old_row.cast(old_table.schema().as_arrow()))
    system_table.forget_handles()

    gated.write(shipments(["a"], weight=1.0))

    names = [f.name for f in catalog.load_table(records.RESULTS_TABLE).schema().fields]
    assert names == [*(f.name for f in old_fields), "method", "ad_hoc"]
    assert gated.slo().checks[-1].observed == pytest.approx(1 / 2), "an old check counts as it did"


# -- severity: warn ---------------------------------------------------------------------------------------


def test_a_warn_expectation_that_fails_is_recorded_but_does_not_stop_the_write(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    descriptor["outputs"][0]["expectations"] = [
        {"expect_column_values_to_not_be_null": {"column": "shipment_id"}},
        {"expect_column_values_to_be_between": {"column": "weight_kg", "max_value": 50, "severity": "warn"}},
    ]
    descriptor["outputs"][0]["slo"] = {"quality_pass_rate": 1.0, "window": "1d"}
    lake.deploy(write_descriptor(descriptor))
    port = lake.port("logistics.shipments.daily")

    result = port.write(shipments(["heavy"], weight=99.0))

    report = result.quality
    assert report is not None and report.passed
    assert [r.expectation for r in report.warnings] == ["expect_column_values_to_be_between"]
    assert report.warnings[0].unexpected_count == 1 and not report.failed
    assert sorted(port.latest().to_arrow()["shipment_id"].to_pylist()) == ["heavy"]
    stamp = json.loads(port.table().metadata.snapshot_by_id(result.snapshot_id).summary["meshlake.quality"])
    assert (
        stamp["verdict"] == "passed" and stamp["failed"] == [] and stamp["warned"] == [report.warnings[0].expectation]
    )
    rows = lake.sql(
        "SELECT expectation, success FROM meshlake.system.quality_results WHERE trigger = 'gate' ORDER BY expectation"
    ).fetchall()
    assert rows == [("expect_column_values_to_be_between", False), ("expect_column_values_to_not_be_null", True)]
    quality = port.slo().checks[0]
    assert quality.objective == "quality_pass_rate" and quality.status == "met" and quality.observed == 1.0


def test_an_error_expectation_next_to_a_warn_one_still_stops_the_write(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    descriptor["outputs"][0]["expectations"] = [
        {"expect_column_values_to_be_between": {"column": "weight_kg", "max_value": 50, "severity": "warn"}},
        {"expect_column_values_to_be_between": {"column": "weight_kg", "max_value": 60, "severity": "error"}},
    ]
    lake.deploy(write_descriptor(descriptor))
    port = lake.port("logistics.shipments.daily")
    with pytest.raises(QualityGateError) as caught:
        port.write(shipments(["heavy"], weight=99.0))
    assert [r.kwargs["max_value"] for r in caught.value.report.failed] == [60]
    assert [r.kwargs["max_value"] for r in caught.value.report.warnings] == [50]
    assert main_snapshot_id(port) is None


def test_row_count_equal_to_another_port_compares_with_its_current_rows(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    import copy

    weekly = copy.deepcopy(descriptor["outputs"][0]) | {"name": "weekly"}
    descriptor["outputs"][0]["expectations"] = [
        {"expect_table_row_count_to_equal_other_table": {"other_table_name": "logistics.shipments.weekly"}}
    ]
    descriptor["outputs"].append(weekly)
    lake.deploy(write_descriptor(descriptor))
    lake.port("logistics.shipments.weekly").write(shipments(["a", "b"], weight=1.0))
    daily = lake.port("logistics.shipments.daily")
    with pytest.raises(QualityGateError) as caught:
        daily.write(shipments(["a"], weight=1.0))
    assert caught.value.report.failed[0].observed_value == {"self": 1, "other": 2}
    assert daily.write(shipments(["a", "b"], weight=1.0)).quality.passed
