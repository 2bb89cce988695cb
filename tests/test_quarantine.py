"""Quarantined writes are reviewed and settled: show why, release (through the gate onto today's main), drop."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner, Result

import meshlake as ml
from meshlake.errors import CommitConflictError, NotFoundError, QualityGateError
from meshlake.quality.records import read_results, reports_from_rows
from tests.conftest import DescriptorWriter, main_snapshot_id, raise_major
from tests.test_write import shipments

ADDRESS = "logistics.shipments.daily"


def between(max_value: float) -> list[dict[str, Any]]:
    return [
        {"expect_column_values_to_not_be_null": {"column": "shipment_id"}},
        {"expect_column_values_to_be_between": {"column": "weight_kg", "min_value": 0, "max_value": max_value}},
    ]


@pytest.fixture
def deploy(lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter) -> Any:
    """Deploy the shipments port with weights allowed up to `max_value`; returns the port."""

    def deploy(max_value: float) -> Any:
        descriptor["outputs"][0]["expectations"] = between(max_value)
        raise_major(descriptor)  # a changed expectation deploys with a major bump (meshlake plan)
        lake.deploy(write_descriptor(descriptor))
        return lake.port(ADDRESS)

    return deploy


@pytest.fixture
def stopped(deploy: Any) -> Any:
    """The port with `a` published and a write of `heavy` (99 kg) in quarantine."""
    port = deploy(50)
    port.write(shipments(["a"], weight=1.0))
    with pytest.raises(QualityGateError):
        port.write(shipments(["heavy"], weight=99.0), run_id="heavyrun")
    return port


def ids(port: Any) -> list[str]:
    return sorted(port.latest().to_arrow()["shipment_id"].to_pylist())


def stamps_of(port: Any) -> dict[str, str]:
    head = port.table().metadata.snapshot_by_name("main")
    return dict(head.summary.additional_properties)


def test_show_names_the_failed_expectations_and_sample_failing_rows(stopped: Any) -> None:
    review = stopped.quarantine().show("heavyrun", rows=1)

    assert review.write.branch == "meshlake-quarantine-heavyrun" and not review.passes_now
    assert [r.expectation for r in review.failed] == ["expect_column_values_to_be_between"]
    assert [row["shipment_id"] for row in review.failed[0].sample] == ["heavy"]
    assert review.write.report is not None and not review.write.report.passed
    assert stopped.quarantine().show(review.write.snapshot_id).write == review.write  # by snapshot id too


def test_release_is_refused_while_the_write_still_fails_its_gate(stopped: Any) -> None:
    before = main_snapshot_id(stopped)

    with pytest.raises(QualityGateError) as refused:
        stopped.quarantine().release("meshlake-quarantine-heavyrun")

    assert refused.value.quarantine_branch == "meshlake-quarantine-heavyrun"
    assert main_snapshot_id(stopped) == before and ids(stopped) == ["a"]
    assert [w.branch for w in stopped.quarantine()] == ["meshlake-quarantine-heavyrun"]
    assert len(stopped.table().metadata.snapshots) == 2, "no new snapshot, not even in quarantine"
    [write] = stopped.quarantine()
    assert write.report is not None and write.report.run_id == "heavyrun" and len(write.report.results) == 2
    attempts = stopped.lake.sql(
        "SELECT DISTINCT trigger, ad_hoc, published FROM meshlake.system.quality_results WHERE trigger = 'release'"
    ).fetchall()
    assert attempts == [("release", True, False)], "the refused release is recorded, as an ad-hoc check"


def test_release_passes_once_the_expectation_is_fixed_and_lands_on_the_current_main(stopped: Any, deploy: Any) -> None:
    stopped.write(shipments(["b"], weight=2.0))  # main moved on since the write was stopped
    port = deploy(100)

    result = port.quarantine().release("heavyrun")

    assert result.snapshot_id == main_snapshot_id(port) and result.quality is not None and result.quality.passed
    assert ids(port) == ["a", "b", "heavy"]
    assert len(port.quarantine()) == 0, "the branch is dropped once the write is published"
    stamps = stamps_of(port)
    assert stamps["meshlake.run-id"] == "heavyrun" and stamps["meshlake.mode"] == "append"
    assert stamps["meshlake.released-from"].startswith("meshlake-quarantine-heavyrun@")
    assert json.loads(stamps["meshlake.quality"])["verdict"] == "passed"
    assert "meshlake.release-reason" not in stamps
    recorded = reports_from_rows(read_results(port.lake.catalog, address=ADDRESS, snapshot_ids=[result.snapshot_id]))
    assert [r.passed for r in recorded] == [True]


def test_release_is_refused_when_main_changed_data_the_write_replaces(deploy: Any) -> None:
    port = deploy(50)
    port.write(shipments(["a"], weight=1.0))
    with pytest.raises(QualityGateError):
        port.write(shipments(["heavy"], weight=99.0), mode="overwrite", run_id="over")
    port.write(shipments(["b"], weight=2.0))  # committed after the overwrite's base: it would replace it
    port = deploy(100)
    before = main_snapshot_id(port)

    with pytest.raises(CommitConflictError):
        port.quarantine().release("over")

    assert main_snapshot_id(port) == before and ids(port) == ["a", "b"]
    assert [w.run_id for w in port.quarantine()] == ["over"]


def test_a_forced_release_needs_a_reason_and_stamps_it(stopped: Any) -> None:
    with pytest.raises(ValueError, match="reason"):
        stopped.quarantine().release("heavyrun", force=True)

    result = stopped.quarantine().release("heavyrun", force=True, reason="weights are in grams, checked by hand")

    assert ids(stopped) == ["a", "heavy"] and result.snapshot_id == main_snapshot_id(stopped)
    stamps = stamps_of(stopped)
    assert stamps["meshlake.release-reason"] == "weights are in grams, checked by hand"
    assert "meshlake.quality" not in stamps, "a forced release claims no verdict"
    assert len(stopped.quarantine()) == 0


def test_drop_removes_the_quarantine_branch_and_nothing_else(stopped: Any) -> None:
    before = main_snapshot_id(stopped)

    dropped = stopped.quarantine().drop("heavyrun")

    assert dropped.branch == "meshlake-quarantine-heavyrun"
    assert "meshlake-quarantine-heavyrun" not in stopped.table().metadata.refs
    assert len(stopped.quarantine()) == 0 and main_snapshot_id(stopped) == before


@pytest.mark.parametrize("action", ["show", "release", "drop"])
def test_an_unknown_quarantined_write_is_a_not_found_error(stopped: Any, action: str) -> None:
    before = main_snapshot_id(stopped)
    with pytest.raises(NotFoundError) as missing:
        getattr(stopped.quarantine(), action)("no-such-run")
    assert "meshlake-quarantine-heavyrun" in str(missing.value)
    assert main_snapshot_id(stopped) == before and len(stopped.quarantine()) == 1


def meshlake(*args: str) -> Result:
    from meshlake.cli import commands  # noqa: F401 - registers commands
    from meshlake.cli.main import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_the_cli_shows_releases_and_drops_quarantined_writes(stopped: Any, deploy: Any) -> None:
    listed = meshlake("quarantine", ADDRESS, "--json")  # the short form still lists
    assert listed.exit_code == 0 and [w["run_id"] for w in json.loads(listed.output)] == ["heavyrun"]
    assert json.loads(meshlake("quarantine", "list", ADDRESS, "--json").output) == json.loads(listed.output)

    shown = meshlake("quarantine", "show", ADDRESS, "heavyrun")
    assert shown.exit_code == 0 and "failing now" in shown.stdout and "heavy" in shown.stdout
    refused = meshlake("quarantine", "release", ADDRESS, "heavyrun")
    assert refused.exit_code == 1 and refused.stderr.startswith("error: quality gate failed")
    assert meshlake("quarantine", "release", ADDRESS, "heavyrun", "--force").exit_code == 2
    missing = meshlake("quarantine", "drop", ADDRESS, "nope")
    assert missing.exit_code == 1 and len(missing.stderr.strip().splitlines()) == 1

    forced = meshlake("quarantine", "release", ADDRESS, "heavyrun", "--force", "--reason", "known outlier", "--json")
    assert forced.exit_code == 0, forced.output
    assert json.loads(forced.output)["snapshot_id"] == str(main_snapshot_id(stopped))
    assert stamps_of(stopped)["meshlake.release-reason"] == "known outlier"

    with pytest.raises(QualityGateError):
        stopped.write(shipments(["heavier"], weight=120.0), run_id="again")
    dropped = meshlake("quarantine", "drop", ADDRESS, "again")
    assert dropped.exit_code == 0 and "dropped meshlake-quarantine-again" in dropped.stdout
    assert len(stopped.quarantine()) == 0
