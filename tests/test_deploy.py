"""Deploy is idempotent, applies compatible changes and refuses breaking ones without a major bump."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pyiceberg.types import DoubleType, LongType

import meshlake as ml
from meshlake.errors import BreakingChangeError, DescriptorError
from tests.conftest import DescriptorWriter


def metadata_files(tmp_path: Path, port: str = "daily") -> list[Path]:
    return sorted((tmp_path / ".meshlake" / "warehouse" / "logistics" / "shipments" / port / "metadata").glob("*.json"))


def columns(data: dict[str, Any]) -> list[dict[str, Any]]:
    return data["outputs"][0]["columns"]  # type: ignore[no-any-return]


def test_deploy_creates_namespace_and_table_at_the_product_prefix(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter, tmp_path: Path
) -> None:
    product = lake.deploy(write_descriptor(descriptor))
    assert product.name.namespace == ("logistics", "shipments")
    table = lake.catalog.load_table("logistics.shipments.daily")
    assert table.location() == (tmp_path / ".meshlake" / "warehouse" / "logistics" / "shipments" / "daily").as_uri()
    schema = table.schema()
    assert schema.find_field("shipment_id").required
    assert schema.find_field("shipment_id").doc == "Unique shipment key"
    assert schema.identifier_field_names() == {"shipment_id"}
    assert [(f.name, str(f.transform)) for f in table.spec().fields] == [("shipped_at_day", "day")]
    assert lake.last_deploy is not None and lake.last_deploy.created == ["daily"]


def test_descriptor_is_readable_from_namespace_properties_without_meshlake(shipments: ml.Lake) -> None:
    props = shipments.catalog.load_namespace_properties(("logistics", "shipments"))
    assert props["owner"] == "logistics_data"
    assert props["meshlake.version"] == "1.4.0"
    parts = int(props["meshlake.descriptor.parts"])
    text = "".join(props[f"meshlake.descriptor.part-{i:03d}"] for i in range(parts))
    assert json.loads(text)["outputs"][0]["name"] == "daily"
    assert all(len(value) <= 1000 for value in props.values())


def test_redeploying_an_unchanged_descriptor_writes_nothing(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter, tmp_path: Path
) -> None:
    path = write_descriptor(descriptor)
    lake.deploy(path)
    before_files = metadata_files(tmp_path)
    before_props = lake.catalog.load_namespace_properties(("logistics", "shipments"))
    lake.deploy(path)
    assert metadata_files(tmp_path) == before_files
    assert lake.catalog.load_namespace_properties(("logistics", "shipments")) == before_props
    assert lake.last_deploy is not None and not lake.last_deploy.changed


def test_compatible_changes_apply(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    columns(descriptor).append({"name": "pieces", "type": "int"})
    columns(descriptor).append({"name": "ratio", "type": "float"})
    lake.deploy(write_descriptor(descriptor))
    descriptor["version"] = "1.5.0"
    cols = columns(descriptor)
    cols[4]["type"] = "long"
    cols[5]["type"] = "double"
    cols[2]["description"] = "Weight in kilograms"
    cols.append({"name": "channel", "type": "string", "description": "Sales channel"})
    descriptor["outputs"].append({"name": "weekly", "columns": [{"name": "week", "type": "date"}]})
    lake.deploy(write_descriptor(descriptor))
    schema = lake.catalog.load_table("logistics.shipments.daily").schema()
    assert schema.find_field("pieces").field_type == LongType()
    assert schema.find_field("ratio").field_type == DoubleType()
    assert schema.find_field("weight_kg").doc == "Weight in kilograms"
    assert not schema.find_field("channel").required
    assert lake.catalog.table_exists("logistics.shipments.weekly")
    assert lake.product("logistics.shipments").version == "1.5.0"


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda d: columns(d).pop(2), "weight_kg"),
        (lambda d: columns(d)[2].update(type="string"), "weight_kg"),
        (lambda d: columns(d).append({"name": "zone", "type": "string", "required": True}), "zone"),
        (lambda d: columns(d)[2].update(type="float"), "weight_kg"),
    ],
    ids=["dropped", "retyped", "new-required", "narrowed"],
)
def test_breaking_changes_are_refused_and_listed(
    lake: ml.Lake,
    descriptor: dict[str, Any],
    write_descriptor: DescriptorWriter,
    tmp_path: Path,
    edit: Any,
    expected: str,
) -> None:
    lake.deploy(write_descriptor(descriptor))
    before = metadata_files(tmp_path)
    edit(descriptor)
    descriptor["version"] = "1.5.0"
    with pytest.raises(BreakingChangeError) as caught:
        lake.deploy(write_descriptor(descriptor))
    assert any(expected in change for change in caught.value.changes)
    assert caught.value.address == "logistics.shipments"
    assert metadata_files(tmp_path) == before
    assert lake.product("logistics.shipments").version == "1.4.0"


def test_every_breaking_change_is_listed(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    lake.deploy(write_descriptor(descriptor))
    columns(descriptor).pop(3)
    columns(descriptor)[2]["type"] = "string"
    with pytest.raises(BreakingChangeError) as caught:
        lake.deploy(write_descriptor(descriptor))
    assert len(caught.value.changes) == 2


def test_raising_the_major_version_accepts_breaking_changes(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    lake.deploy(write_descriptor(descriptor))
    columns(descriptor).pop(3)
    columns(descriptor)[2]["type"] = "string"
    descriptor["version"] = "2.0.0"
    lake.deploy(write_descriptor(descriptor))
    schema = lake.catalog.load_table("logistics.shipments.daily").schema()
    assert "customer_email" not in [f.name for f in schema.fields]
    assert str(schema.find_field("weight_kg").field_type) == "string"


def test_removing_a_port_is_breaking(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    descriptor["outputs"].append({"name": "weekly", "columns": [{"name": "week", "type": "date"}]})
    lake.deploy(write_descriptor(descriptor))
    descriptor["outputs"].pop()
    with pytest.raises(BreakingChangeError, match="weekly"):
        lake.deploy(write_descriptor(descriptor))
    descriptor["version"] = "2.0.0"
    lake.deploy(write_descriptor(descriptor))
    assert not lake.catalog.table_exists("logistics.shipments.weekly")


def test_version_going_down_is_refused(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    lake.deploy(write_descriptor(descriptor))
    descriptor["version"] = "1.3.9"
    with pytest.raises(BreakingChangeError, match="lower"):
        lake.deploy(write_descriptor(descriptor))


def test_partitioning_evolves(lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter) -> None:
    lake.deploy(write_descriptor(descriptor))
    descriptor["outputs"][0]["partition_by"] = ["month(shipped_at)"]
    descriptor["version"] = "1.5.0"  # a partitioning change is a minor bump
    lake.deploy(write_descriptor(descriptor))
    spec = lake.catalog.load_table("logistics.shipments.daily").spec()
    assert [str(f.transform) for f in spec.fields] == ["month"]


def test_the_system_domain_is_reserved(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    descriptor["domain"] = "meshlake"
    with pytest.raises(DescriptorError, match="reserved"):
        lake.deploy(write_descriptor(descriptor))
