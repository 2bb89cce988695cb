"""`meshlake plan` / `lake.plan`: every change classified major, minor or patch; deploy refuses an undershoot."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import meshlake as ml
from meshlake.cli import commands  # noqa: F401 - registers the commands
from meshlake.cli.main import cli
from meshlake.contract.changes import next_version, plan_changes, version_bump
from meshlake.contract.descriptor import Descriptor
from meshlake.errors import BreakingChangeError, DescriptorError, ProductNotFoundError, VersionBumpError
from tests.conftest import SHIPMENTS, DescriptorWriter

Edit = Callable[[dict[str, Any]], None]


def _port(d: dict[str, Any]) -> dict[str, Any]:
    port: dict[str, Any] = d["outputs"][0]
    return port


def _cols(d: dict[str, Any]) -> list[dict[str, Any]]:
    cols: list[dict[str, Any]] = _port(d)["columns"]
    return cols


def _col(d: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in _cols(d) if c["name"] == name)


def _with_pieces(d: dict[str, Any]) -> None:
    _cols(d).append({"name": "pieces", "type": "int"})


CASES: list[tuple[str, Edit, str]] = [
    ("drop a column", lambda d: _cols(d).pop(2), "major"),
    ("rename a column", lambda d: _col(d, "weight_kg").update(name="weight"), "major"),
    ("narrow double to float", lambda d: _col(d, "weight_kg").update(type="float"), "major"),
    ("change double to string", lambda d: _col(d, "weight_kg").update(type="string"), "major"),
    ("change string to long", lambda d: _col(d, "customer_email").update(type="long"), "major"),
    ("add a required column", lambda d: _cols(d).append({"name": "hub", "type": "string", "required": True}), "major"),
    ("make an optional column required", lambda d: _col(d, "weight_kg").update(required=True), "major"),
    ("change the primary key", lambda d: _port(d).update(primary_key=["shipment_id", "shipped_at"]), "major"),
    ("remove the primary key", lambda d: _port(d).update(primary_key=[]), "major"),
    ("change timestamptz to date", lambda d: _col(d, "shipped_at").update(type="date"), "major"),
    ("retype to a struct", lambda d: _col(d, "weight_kg").update(type="struct<kg:double>"), "major"),
    ("add an optional column", lambda d: _cols(d).append({"name": "hub", "type": "string"}), "minor"),
    ("add an optional struct column", lambda d: _cols(d).append({"name": "dims", "type": "struct<w:int>"}), "minor"),
    ("add an optional list column", lambda d: _cols(d).append({"name": "tags", "type": "list<string>"}), "minor"),
    ("make a required column optional", lambda d: _col(d, "shipped_at").update(required=False), "minor"),
    ("change partitioning", lambda d: _port(d).update(partition_by=["month(shipped_at)"]), "minor"),
    ("drop partitioning", lambda d: _port(d).update(partition_by=[]), "minor"),
    ("describe a column", lambda d: _col(d, "weight_kg").update(description="Weight in kilograms"), "patch"),
    ("change a column description", lambda d: _col(d, "shipment_id").update(description="The key"), "patch"),
    ("describe the port", lambda d: _port(d).update(description="Parcels by day."), "patch"),
    ("tag the port", lambda d: _port(d).update(tags=["finance"]), "patch"),
    (
        "add an expectation",
        lambda d: _port(d).update(expectations=[{"expect_column_values_to_not_be_null": {"column": "weight_kg"}}]),
        "patch",
    ),
    ("reorder nothing, describe the product", lambda d: d.update(description="Parcels."), "patch"),
]


@pytest.mark.parametrize(("case", "edit", "level"), CASES, ids=[c[0] for c in CASES])
def test_each_schema_change_is_classified(case: str, edit: Edit, level: str) -> None:
    before = Descriptor.model_validate(SHIPMENTS)
    data = copy.deepcopy(SHIPMENTS)
    edit(data)
    plan = plan_changes(before, Descriptor.model_validate(data))
    assert plan.required == level, [str(c) for c in plan.changes]


PROMOTIONS = [("int", "long"), ("float", "double"), ("decimal(9,2)", "decimal(18,2)")]


@pytest.mark.parametrize(("old", "new"), PROMOTIONS)
def test_a_type_promotion_is_minor(old: str, new: str) -> None:
    data = copy.deepcopy(SHIPMENTS)
    _cols(data).append({"name": "amount", "type": old})
    promoted = copy.deepcopy(data)
    _col(promoted, "amount")["type"] = new
    plan = plan_changes(Descriptor.model_validate(data), Descriptor.model_validate(promoted))
    assert plan.required == "minor"
    assert "promoted" in plan.changes[0].what


CONTRACT_CASES: list[tuple[str, Edit, str]] = [
    ("remove a port", lambda d: d["outputs"].append(copy.deepcopy(_port(d)) | {"name": "weekly"}), "major"),
    ("weaken freshness", lambda d: _port(d)["slo"].update(freshness="48h"), "major"),
    ("tighten freshness", lambda d: _port(d)["slo"].update(freshness="1h"), "minor"),
    ("drop an SLO", lambda d: _port(d).pop("slo"), "major"),
    ("tighten min_rows", lambda d: _port(d)["slo"].update(min_rows=100), "minor"),
    ("narrow readers", lambda d: _port(d).update(access={"readers": ["group:ops"]}), "major"),
    (
        "add a row filter",
        lambda d: _port(d).update(access={"row_filters": [{"principals": ["group:ops"], "where": "weight_kg > 1"}]}),
        "major",
    ),
    ("mask a column", lambda d: _col(d, "customer_email").update(mask="replace-with-null"), "major"),
    ("remove an expectation", lambda d: _port(d).update(expectations=[]), "major"),
]


def test_a_new_port_is_minor() -> None:
    data = copy.deepcopy(SHIPMENTS)
    data["outputs"].append(copy.deepcopy(_port(data)) | {"name": "weekly"})
    plan = plan_changes(Descriptor.model_validate(SHIPMENTS), Descriptor.model_validate(data))
    assert plan.required == "minor" and plan.changes[0].port == "weekly"


@pytest.mark.parametrize(("case", "edit", "level"), CONTRACT_CASES, ids=[c[0] for c in CONTRACT_CASES])
def test_each_contract_change_is_classified(case: str, edit: Edit, level: str) -> None:
    base = copy.deepcopy(SHIPMENTS)
    if case == "remove an expectation":
        _port(base)["expectations"] = [{"expect_column_values_to_not_be_null": {"column": "weight_kg"}}]
    if case == "remove a port":  # the edit adds the port to the *deployed* side
        edit(base)
        after = copy.deepcopy(SHIPMENTS)
    else:
        after = copy.deepcopy(base)
        edit(after)
    plan = plan_changes(Descriptor.model_validate(base), Descriptor.model_validate(after))
    assert plan.required == level, [str(c) for c in plan.changes]


def test_the_required_bump_is_the_largest_of_the_ports() -> None:
    data = copy.deepcopy(SHIPMENTS)
    _col(data, "weight_kg")["description"] = "kg"  # patch
    _with_pieces(data)  # minor
    _cols(data).pop(0)  # major (and the primary key goes with it)
    _port(data)["primary_key"] = []
    plan = plan_changes(Descriptor.model_validate(SHIPMENTS), Descriptor.model_validate(data))
    assert {c.level for c in plan.changes} == {"patch", "minor", "major"}
    assert plan.required == "major" and not plan.ok and plan.suggested_version == "2.0.0"


def test_version_arithmetic() -> None:
    assert version_bump("1.4.2", "1.5.0") == "minor"
    assert version_bump("1.4.2", "2.0.0") == "major"
    assert version_bump("1.4.2", "1.4.3") == "patch"
    assert version_bump("1.4.2", "1.4.2") is None
    assert next_version("1.4.2", "minor") == "1.5.0"
    assert next_version("1.4.2", "patch") == "1.4.3"


def test_plan_names_the_deployed_tables_field_ids(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    lake.deploy(write_descriptor(descriptor))
    descriptor["outputs"][0]["columns"].pop(2)  # weight_kg, field id 3 in the table
    descriptor["outputs"][0]["columns"].append({"name": "pieces", "type": "int"})
    plan = lake.plan(write_descriptor(descriptor))
    ids = {c.what.split("'")[1]: c.field_id for c in plan.changes}
    table_ids = {f.name: f.field_id for f in lake.catalog.load_table("logistics.shipments.daily").schema().fields}
    assert ids["weight_kg"] == table_ids["weight_kg"]
    assert plan.required == "major" and plan.suggested_version == "2.0.0"


def test_deploy_refuses_a_version_that_undershoots_and_names_the_one_to_declare(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    lake.deploy(write_descriptor(descriptor))
    before = lake.catalog.load_table("logistics.shipments.daily").metadata_location
    _with_pieces(descriptor)
    descriptor["version"] = "1.4.1"  # a patch bump for a minor change
    with pytest.raises(VersionBumpError) as caught:
        lake.deploy(write_descriptor(descriptor))
    assert caught.value.required == "minor" and caught.value.suggested == "1.5.0"
    assert isinstance(caught.value, BreakingChangeError)
    assert lake.catalog.load_table("logistics.shipments.daily").metadata_location == before
    descriptor["version"] = "1.5.0"
    lake.deploy(write_descriptor(descriptor))
    assert "pieces" in [f.name for f in lake.catalog.load_table("logistics.shipments.daily").schema().fields]


def test_a_patch_change_deploys_with_a_patch_bump(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    lake.deploy(write_descriptor(descriptor))
    _port(descriptor)["description"] = "Parcels by day."
    with pytest.raises(VersionBumpError):
        lake.deploy(write_descriptor(descriptor))
    descriptor["version"] = "1.4.1"
    lake.deploy(write_descriptor(descriptor))
    assert lake.product("logistics.shipments").version == "1.4.1"


def test_plan_of_a_product_that_is_not_deployed_is_refused(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    with pytest.raises(ProductNotFoundError) as caught:
        lake.plan(write_descriptor(descriptor))
    assert caught.value.name == "logistics.shipments"


def test_plan_of_a_bad_descriptor_is_a_descriptor_error(lake: ml.Lake, tmp_path: Path) -> None:
    bad = tmp_path / "dataproduct.yaml"
    bad.write_text("apiVersion: meshlake/v1\ndomain: x\n", encoding="utf-8")
    with pytest.raises(DescriptorError):
        lake.plan(bad)


def test_cli_plan_exits_1_on_an_undershoot_and_prints_the_version_to_declare(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    lake.deploy(write_descriptor(descriptor))
    _with_pieces(descriptor)
    path = write_descriptor(descriptor)
    result = CliRunner().invoke(cli, ["plan", str(path), "--json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    assert data["required_bump"] == "minor" and data["suggested_version"] == "1.5.0"
    assert data["changes"][0]["level"] == "minor"
    descriptor["version"] = "1.5.0"
    ok = CliRunner().invoke(cli, ["plan", str(write_descriptor(descriptor))])
    assert ok.exit_code == 0 and "minor" in ok.output and "ok" in ok.output


def test_lint_reports_a_version_that_undershoots_as_gov013(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    lake.deploy(write_descriptor(descriptor))
    _with_pieces(descriptor)
    findings = [f for f in lake.lint([write_descriptor(descriptor)]).findings if f.code == "GOV013"]
    assert len(findings) == 1 and "declare 1.5.0" in findings[0].message
    descriptor["version"] = "1.5.0"
    assert not [f for f in lake.lint([write_descriptor(descriptor)]).findings if f.code == "GOV013"]
