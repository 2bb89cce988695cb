"""ODCS export validates against the official schema; meshlake → ODCS → meshlake gives the same descriptor; an invalid
ODCS file lists every schema error with its path."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

import meshlake as ml
from meshlake.cli import commands  # noqa: F401 - registers the commands
from meshlake.cli.main import cli
from meshlake.contract.descriptor import Descriptor, load_descriptor, parse_descriptor
from meshlake.errors import DescriptorError, StandardDocumentError
from meshlake.standards.odcs import export_odcs, import_odcs, odcs_schema, schema_errors
from tests.conftest import SHIPMENTS

DEMO = Path(ml.__file__).parent / "demo" / "products"
SERVER = {"catalog": "meshlake", "catalogUrl": "sqlite:///tmp/catalog.db"}

RICH: dict[str, Any] = copy.deepcopy(SHIPMENTS) | {
    "owner": {"team": "logistics_data", "email": "ops@example.com", "principals": ["group:logistics", "user:ana"]},
    "inputs": [
        {"name": "orders", "port": "sales.orders.placed", "release": "^1.4"},
        {"name": "hubs", "port": "ops.hubs.list", "snapshot": 42},
    ],
    "pipeline": {"module": "build.py", "function": "make"},
    "waivers": [{"rule": "GOV012", "reason": "legacy", "owner": "ana", "expires": "2027-01-31", "target": "daily"}],
}
RICH["outputs"][0] |= {
    "partition_by": ["day(shipped_at)", "bucket[8](shipment_id)"],
    "expectations": [
        {"expect_column_values_to_not_be_null": {"column": "weight_kg"}},
        {"expect_table_row_count_to_be_between": {"min_value": 1, "max_value": 1000}},
        {"expect_column_values_to_be_between": {"column": "weight_kg", "min_value": 0, "max_value": 50, "mostly": 0.9}},
        {"expect_column_values_to_be_unique": {"column": "shipment_id"}},
        {"expect_column_values_to_be_in_set": {"column": "customer_email", "value_set": ["a", "b"]}},
        {"expect_table_row_count_to_be_between": {"min_value": 5}},
    ],
    "quality": {"engine": "native", "sample_size": 20},
    "slo": {"freshness": "24h", "min_rows": 1, "max_row_change": 0.5, "quality_pass_rate": 0.99, "window": "14d"},
    "retention": {"time_travel": "30d", "min_snapshots": 5},
    "access": {
        "readers": ["group:analytics", "*"],
        "unmasked": ["user:ana"],
        "row_filters": [{"principals": ["group:north"], "where": "weight_kg > 1"}],
    },
    "tags": ["finance", "ops"],
}
RICH["outputs"][0]["columns"][3] |= {"mask": "mask-alphanum", "description": "who ordered"}
RICH["outputs"].append(
    {"name": "empty_slo", "columns": [{"name": "id", "type": "struct<a:int,b:list<string>>"}], "slo": {}}
)


def _descriptor(data: dict[str, Any]) -> Descriptor:
    return parse_descriptor(yaml.safe_dump(data, sort_keys=False))


def _round_trip(descriptor: Descriptor) -> Descriptor:
    document = yaml.safe_load(yaml.safe_dump(export_odcs(descriptor, server=SERVER), sort_keys=False))
    return _descriptor(import_odcs(document))


def _demo_descriptors() -> list[Descriptor]:
    return [load_descriptor(folder) for folder in sorted(DEMO.iterdir()) if (folder / "dataproduct.yaml").exists()]


@pytest.mark.parametrize("name", ["shipments", "rich", *[d.name for d in _demo_descriptors()]])
def test_every_export_validates_against_the_official_odcs_schema(name: str) -> None:
    descriptor = _named(name)
    document = export_odcs(descriptor, server=SERVER)
    assert schema_errors(json.loads(json.dumps(document)), odcs_schema()) == []
    assert document["servers"][0]["type"] == "iceberg"


@pytest.mark.parametrize("name", ["shipments", "rich", *[d.name for d in _demo_descriptors()]])
def test_meshlake_to_odcs_to_meshlake_is_lossless(name: str) -> None:
    descriptor = _named(name)
    assert _round_trip(descriptor) == descriptor


def _named(name: str) -> Descriptor:
    if name == "shipments":
        return _descriptor(copy.deepcopy(SHIPMENTS))
    if name == "rich":
        return _descriptor(copy.deepcopy(RICH))
    return next(d for d in _demo_descriptors() if d.name == name)


def test_native_fields_carry_the_contract() -> None:
    document = export_odcs(_descriptor(copy.deepcopy(RICH)), server=SERVER)
    daily = document["schema"][0]
    props = {p["name"]: p for p in daily["properties"]}
    assert props["shipment_id"]["primaryKey"] and props["shipment_id"]["primaryKeyPosition"] == 1
    assert props["shipped_at"]["partitionKeyPosition"] == 1 and props["shipment_id"]["partitionKeyPosition"] == 2
    assert props["shipped_at"]["logicalType"] == "timestamp" and props["shipped_at"]["physicalType"] == "timestamptz"
    assert props["customer_email"]["classification"] == "pii"
    assert props["weight_kg"]["quality"][0]["metric"] == "nullValues"
    assert daily["quality"][0] == daily["quality"][0] | {"metric": "rowCount", "mustBeBetween": [1, 1000]}
    assert props["weight_kg"]["quality"][1]["type"] == "custom"  # `mostly` is no library metric
    assert {"property": "latency", "value": "24h", "element": "daily"} in document["slaProperties"]
    assert document["team"]["name"] == "logistics_data"
    assert {r["role"] for r in document["roles"]} == {"group:analytics", "*"}


def test_a_foreign_odcs_file_with_library_metrics_imports() -> None:
    document = {
        "apiVersion": "v3.0.2",
        "kind": "DataContract",
        "id": "urn:x",
        "version": "2.1.0",
        "status": "active",
        "domain": "sales",
        "dataProduct": "invoices",
        "team": {"name": "billing"},
        "schema": [
            {
                "name": "issued",
                "properties": [
                    {"name": "invoice_id", "logicalType": "integer", "required": True, "primaryKey": True,
                     "quality": [{"metric": "duplicateValues", "mustBe": 0}]},
                    {"name": "total", "logicalType": "number"},
                ],
                "quality": [{"metric": "rowCount", "mustBeGreaterOrEqualTo": 1}],
            }
        ],
    }  # fmt: skip
    descriptor = _descriptor(import_odcs(document))
    port = descriptor.output("issued")
    assert port.primary_key == ["invoice_id"] and port.column("invoice_id").type == "long"
    assert port.expectations == [
        {"expect_table_row_count_to_be_between": {"min_value": 1}},
        {"expect_column_values_to_be_unique": {"column": "invoice_id"}},
    ]


def test_an_invalid_odcs_file_lists_every_schema_error_with_its_path() -> None:
    document = {
        "apiVersion": "v9",
        "kind": "DataContract",
        "version": "1.0.0",
        "schema": [{"name": "t", "properties": [{"name": "a", "logicalType": "text", "bogus": 1}]}],
        "servers": [{"server": "x", "type": "iceberg"}],
    }
    with pytest.raises(StandardDocumentError) as caught:
        import_odcs(document, file="bad.yaml")
    paths = {path for path, _ in caught.value.errors}
    assert {"", "apiVersion", "schema[0].properties[0].logicalType", "servers[0]"} <= paths
    assert any(p.startswith("schema[0].properties[0]") and "bogus" in m for p, m in caught.value.errors)
    assert caught.value.file == "bad.yaml" and len(caught.value.errors) >= 5


def test_a_valid_odcs_file_meshlake_cannot_map_is_refused_naming_each_field() -> None:
    document = {
        "apiVersion": "v3.2.0",
        "kind": "DataContract",
        "id": "x",
        "version": "1.0.0",
        "status": "draft",
        "schema": [
            {"name": "t", "properties": [{"name": "a", "logicalType": "array"}],
             "quality": [{"type": "sql", "query": "SELECT 1", "mustBe": 1}]}
        ],
    }  # fmt: skip
    with pytest.raises(StandardDocumentError) as caught:
        import_odcs(document)
    paths = [path for path, _ in caught.value.errors]
    assert paths == [
        "domain",
        "dataProduct",
        "team.name",
        "schema[0].properties[0].physicalType",
        "schema[0].quality[0]",
    ]


def test_cli_export_and_import_round_trip_through_files(tmp_path: Path) -> None:
    lake = ml.connect(home=str(tmp_path / ".meshlake"))
    folder = tmp_path / "rich"
    folder.mkdir()
    (folder / "dataproduct.yaml").write_text(yaml.safe_dump(RICH, sort_keys=False), encoding="utf-8")
    (folder / "build.py").write_text("def make(inputs):\n    return {}\n")
    lake.deploy(folder)
    runner = CliRunner()
    exported = runner.invoke(cli, ["export", "odcs", "logistics.shipments", "-o", str(tmp_path / "c.yaml")])
    assert exported.exit_code == 0, exported.output
    imported = runner.invoke(cli, ["import", "odcs", str(tmp_path / "c.yaml"), "-o", str(tmp_path / "d.yaml")])
    assert imported.exit_code == 0, imported.output
    assert load_descriptor(tmp_path / "d.yaml") == lake.product("logistics.shipments").descriptor
    port_only = runner.invoke(cli, ["export", "odcs", "logistics.shipments.daily", "--json"])
    assert [o["name"] for o in json.loads(port_only.output)["schema"]] == ["daily"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v3.2.0\nkind: Nope\n", encoding="utf-8")
    refused = runner.invoke(cli, ["import", "odcs", str(bad)])
    assert refused.exit_code == 1 and "kind" in refused.output and "'id' is a required property" in refused.output


def test_an_import_that_is_no_valid_descriptor_is_a_descriptor_error(tmp_path: Path) -> None:
    document = export_odcs(_descriptor(copy.deepcopy(SHIPMENTS)), server=SERVER) | {"version": "one"}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    result = CliRunner().invoke(cli, ["import", "odcs", str(path)])
    assert result.exit_code == 1 and "semantic version" in result.output
    with pytest.raises(DescriptorError):
        _descriptor(import_odcs(document))


def test_a_port_that_consumes_and_serves_streams_round_trips_through_odcs() -> None:
    raw = copy.deepcopy(SHIPMENTS)
    raw["outputs"][0]["stream"] = {"on_failure": "skip"}
    raw["outputs"][0]["serve"] = ["table", "stream"]
    descriptor = _descriptor(raw)
    back = _round_trip(descriptor)
    assert back.outputs[0].stream_options.on_failure == "skip" and back.outputs[0].serve == ["table", "stream"]
    assert back == descriptor
