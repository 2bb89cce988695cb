"""`meshlake doctor`: drift from the descriptor, foreign snapshots, missing row totals and quality records."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pytest
from click.testing import CliRunner, Result
from pyiceberg.io.pyarrow import schema_to_pyarrow
from pyiceberg.table.update import AddSnapshotUpdate
from pyiceberg.types import StringType

import meshlake as ml
from meshlake.cli.main import cli
from meshlake.errors import InvalidNameError, PortNotFoundError, ProductNotFoundError
from meshlake.query import history as history_module
from meshlake.query.provenance import _CACHE
from tests.conftest import main_snapshot_id

ADDRESS = "logistics.shipments.daily"


def run(*args: str) -> Result:
    from meshlake.cli import commands  # noqa: F401 - registers commands

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _rows(ids: list[str]) -> pa.Table:
    return pa.table(
        {
            "shipment_id": ids,
            "shipped_at": pa.array([datetime(2026, 11, 1, tzinfo=UTC)] * len(ids), pa.timestamp("us", tz="UTC")),
            "weight_kg": [1.0] * len(ids),
        }
    )


def _foreign_append_without_totals(port: Any, ids: list[str]) -> None:
    """Another engine's append whose summary has no totals (as a DuckDB INSERT through a REST catalog wrote)."""
    table = port.table()
    data = _rows(ids).append_column("customer_email", pa.array([None] * len(ids), pa.string()))
    tx = table.transaction()
    tx.append(data.cast(schema_to_pyarrow(table.schema(), include_field_ids=False)))
    for update in tx._updates:
        if isinstance(update, AddSnapshotUpdate) and update.snapshot.summary is not None:
            props = update.snapshot.summary.additional_properties
            for key in [k for k in props if k.startswith("total-")]:
                del props[key]
    tx.commit_transaction()


def test_doctor_finds_nothing_on_a_port_meshlake_wrote(port: Any, shipments: ml.Lake) -> None:
    port.write(_rows(["a", "b"]))
    port.write(_rows(["c"]))

    report = shipments.doctor()

    assert report.healthy, report.findings
    assert report.ports == [ADDRESS]
    assert run("doctor").exit_code == 0


def test_doctor_reports_a_foreign_snapshot_and_its_computed_row_total(port: Any, shipments: ml.Lake) -> None:
    port.write(_rows(["a", "b"]))
    _foreign_append_without_totals(port, ["c", "d", "e"])
    _CACHE.clear()
    history_module._INFOS.clear()
    foreign_id = main_snapshot_id(port)

    report = shipments.doctor(ADDRESS)

    codes = {(f.code, f.snapshot_id) for f in report.findings}
    assert codes == {("foreign-snapshot", foreign_id), ("missing-row-totals", foreign_id)}
    assert port.history()[-1].rows_total == 5  # from the manifests, not 0
    assert shipments.product("logistics.shipments").describe().ports[0].rows == 5


def test_doctor_reports_schema_and_property_drift_with_json_and_exit_code(port: Any, shipments: ml.Lake) -> None:
    port.write(_rows(["a"]))
    table = port.table()
    with table.update_schema() as update:
        update.add_column("added_by_another_engine", StringType())
    port.table().transaction().set_properties({"write.parquet.compression-codec": "snappy"}).commit_transaction()
    head = main_snapshot_id(port)

    result = run("doctor", "logistics.shipments", "--json")

    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["healthy"] is False
    messages = [f["message"] for f in data["findings"] if f["code"] == "descriptor-drift"]
    assert any("added_by_another_engine" in m for m in messages)
    assert any("write.parquet.compression-codec" in m for m in messages)
    assert main_snapshot_id(port) == head  # doctor changes nothing


def test_doctor_reports_a_gated_snapshot_without_quality_record(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from meshlake.quality.gate import PortGate

    descriptor["outputs"][0]["expectations"] = [{"expect_column_values_to_be_unique": {"column": "shipment_id"}}]
    lake.deploy(write_descriptor(descriptor))
    port = lake.port(ADDRESS)
    monkeypatch.setattr(PortGate, "record", lambda self, report, snapshot_id, *, published: report)  # writer died
    written = port.write(_rows(["a"]))
    monkeypatch.undo()

    findings = lake.doctor(ADDRESS).findings

    assert [(f.code, f.snapshot_id) for f in findings] == [("missing-quality-record", written.snapshot_id)]
    port.check()  # records the stamped verdict the history lacks
    assert lake.doctor(ADDRESS).healthy


@pytest.mark.parametrize(
    ("address", "error"),
    [
        ("logistics.nowhere", ProductNotFoundError),
        ("logistics.shipments.nowhere", PortNotFoundError),
        ("Logistics.Shipments", InvalidNameError),
    ],
)
def test_doctor_refuses_an_unknown_or_invalid_address(shipments: ml.Lake, address: str, error: type) -> None:
    with pytest.raises(error):
        shipments.doctor(address)
