"""What the gate keeps between checks: one DuckDB database per storage, the results-table handle, base plans."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import meshlake as ml
from meshlake.errors import QualityGateError
from meshlake.quality import session
from meshlake.quality.records import read_results
from tests.conftest import DescriptorWriter
from tests.test_write import shipments

CHECKS = [
    {"expect_column_values_to_not_be_null": {"column": "shipment_id"}},
    {"expect_column_values_to_be_unique": {"column": "shipment_id"}},
    {"expect_column_values_to_be_between": {"column": "weight_kg", "min_value": 0, "max_value": 50}},
]


@pytest.fixture
def gated(lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter) -> Any:
    descriptor["outputs"][0]["expectations"] = CHECKS
    lake.deploy(write_descriptor(descriptor))
    return lake.port("logistics.shipments.daily")


def test_checks_share_one_duckdb_database_per_storage(gated: Any) -> None:
    session.clear()
    gated.write(shipments(["a"], weight=1.0))
    gated.write(shipments(["b"], weight=1.0))
    gated.check()
    assert len(session._databases) == 1


def test_a_failed_query_leaves_the_shared_database_usable(gated: Any) -> None:
    gated.write(shipments(["a"], weight=1.0))
    with pytest.raises(QualityGateError):
        gated.write(shipments(["a"], weight=1.0))  # a duplicate: the failing path runs its sample queries
    assert gated.write(shipments(["b"], weight=2.0)).quality.passed


def test_records_of_two_lake_handles_on_one_warehouse_all_land(gated: Any, tmp_path: Path) -> None:
    other = ml.connect(home=str(tmp_path / ".meshlake")).port("logistics.shipments.daily")
    for i, port in enumerate([gated, other, gated, other]):  # each handle's results table goes stale in turn
        port.write(shipments([f"k{i}"], weight=1.0))
    runs = {row["run_id"] for row in read_results(gated.lake.catalog, address=str(gated.address))}
    assert len(runs) == 4


def test_appends_after_a_rollback_check_against_the_rolled_back_snapshot(gated: Any) -> None:
    first = gated.write(shipments(["a"], weight=1.0)).snapshot_id
    gated.write(shipments(["b"], weight=1.0))
    gated.rollback(to=first)
    result = gated.write(shipments(["b"], weight=1.0))  # 'b' is no longer published: not a duplicate
    unique = result.quality.results[1]
    assert (unique.method, unique.unexpected_count, unique.element_count) == ("incremental", 0, 2)
    with pytest.raises(QualityGateError) as caught:
        gated.write(shipments(["a"], weight=1.0))
    assert caught.value.report.results[1].unexpected_count == 2
