"""ODPS export: input, output and management ports, valid against the official ODPS 1.1.0 schema."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import meshlake as ml
from meshlake.cli import commands  # noqa: F401 - registers the commands
from meshlake.cli.main import cli
from meshlake.contract.descriptor import load_descriptor, parse_descriptor
from meshlake.standards.odcs import schema_errors
from meshlake.standards.odps import export_odps
from tests.standards.test_odcs import DEMO, RICH

SCHEMA = json.loads((Path(__file__).parents[1] / "data" / "odps-1.1.0.schema.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("folder", sorted(p.name for p in DEMO.iterdir() if (p / "dataproduct.yaml").exists()))
def test_every_demo_product_exports_valid_odps(folder: str) -> None:
    document = export_odps(load_descriptor(DEMO / folder))
    assert schema_errors(json.loads(json.dumps(document)), SCHEMA) == []
    assert {p["content"] for p in document["managementPorts"]} == {
        "discoverability", "observability", "dictionary", "control"
    }  # fmt: skip


def test_input_and_output_ports_carry_pins_and_contracts() -> None:
    document = export_odps(parse_descriptor(yaml.safe_dump(copy.deepcopy(RICH))))
    assert schema_errors(json.loads(json.dumps(document)), SCHEMA) == []
    orders, hubs = document["inputPorts"]
    assert orders["contractId"] == "sales.orders" and orders["version"] == "^1.4"
    assert {"property": "meshlakeSnapshot", "value": 42, "vendor": "meshlake"} in hubs["customProperties"]
    assert [p["name"] for p in document["outputPorts"]] == ["daily", "empty_slo"]
    assert document["outputPorts"][0]["contractId"] == "logistics.shipments"


def test_the_schema_check_finds_a_broken_odps_document() -> None:
    document = export_odps(parse_descriptor(yaml.safe_dump(copy.deepcopy(RICH))))
    document["kind"] = "DataContract"
    del document["outputPorts"][0]["name"]
    paths = [path for path, _ in schema_errors(document, SCHEMA)]
    assert "kind" in paths and "outputPorts[0]" in paths


def test_cli_export_odps(tmp_path: Path) -> None:
    lake = ml.connect(home=str(tmp_path / ".meshlake"))
    lake.deploy(DEMO / "orders")
    result = CliRunner().invoke(cli, ["export", "odps", "sales.orders"])
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(result.output)["id"] == "sales.orders"
