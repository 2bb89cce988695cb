"""A deploy that fails leaves the catalog exactly as it found it, and refuses what pyiceberg would refuse up front."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

import meshlake as ml
from meshlake.contract import types
from meshlake.contract.registry import product_namespaces
from meshlake.errors import DescriptorError
from tests.conftest import DescriptorWriter


def catalog_state(lake: ml.Lake) -> dict[str, Any]:
    """Namespaces with their properties, tables with their metadata location and metadata, files on disk."""
    catalog = lake.catalog
    state: dict[str, Any] = {}
    for namespace in product_namespaces(catalog):
        state[".".join(namespace)] = dict(catalog.load_namespace_properties(namespace))
        for identifier in catalog.list_tables(namespace):
            table = catalog.load_table(identifier)
            state[".".join(identifier)] = (table.metadata_location, table.metadata.model_dump_json())
    warehouse = lake.settings.home_path / "warehouse"
    state["files"] = sorted(str(p) for p in warehouse.rglob("*") if p.is_file())
    return state


def contract_state(lake: ml.Lake) -> dict[str, Any]:
    """What a deploy may change, without the metadata history: namespace properties, schema, spec, properties."""
    catalog = lake.catalog
    state: dict[str, Any] = {}
    for namespace in product_namespaces(catalog):
        state[".".join(namespace)] = dict(catalog.load_namespace_properties(namespace))
        for identifier in catalog.list_tables(namespace):
            table = catalog.load_table(identifier)
            state[".".join(identifier)] = (str(table.schema()), table.schema().identifier_field_ids, str(table.spec()))
            state[".".join(identifier) + " properties"] = dict(table.properties)
    return state


def three_ports(descriptor: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(descriptor)
    first = data["outputs"][0]
    data["outputs"] = [first] + [{**copy.deepcopy(first), "name": name} for name in ("weekly", "monthly")]
    return data


def fail_on_call(number: int, function: Callable[..., Any]) -> Callable[..., Any]:
    """`function`, except that its `number`-th call raises (a catalog failing midway)."""
    calls = [0]

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == number:
            raise RuntimeError("injected catalog failure")
        return function(*args, **kwargs)

    return wrapper


def nested_struct(levels: int) -> str:
    text = "int"
    for _ in range(levels):
        text = f"struct<f: {text}>"
    return text


REFUSED: dict[str, Callable[[dict[str, Any]], None]] = {
    "struct-nested-too-deep": lambda port: port["columns"].append(
        {"name": "deep", "type": nested_struct(types.MAX_NESTING + 1)}
    ),
    "double-primary-key": lambda port: (
        port.update(primary_key=["weight_kg"]) or port["columns"][2].update(required=True)
    ),
    "struct-primary-key": lambda port: (
        port["columns"].append({"name": "key", "type": "struct<a: int>", "required": True})
        or port.update(primary_key=["key"])
    ),
    "duplicate-partition": lambda port: port.update(partition_by=["day(shipped_at)", "day(shipped_at)"]),
    "two-partitions-of-one-column": lambda port: port.update(partition_by=["year(shipped_at)", "day(shipped_at)"]),
    "partition-name-is-a-column": lambda port: port["columns"].append({"name": "shipped_at_day", "type": "date"}),
    "bucket-on-double": lambda port: port.update(partition_by=["bucket[8](weight_kg)"]),
    "day-on-string": lambda port: port.update(partition_by=["day(shipment_id)"]),
    "absurd-bucket-count": lambda port: port.update(partition_by=["bucket[1000000000](shipment_id)"]),
    "overflowing-freshness": lambda port: port.update(slo={"freshness": "99999999999999d"}),
    "overflowing-retention": lambda port: port.update(retention={"time_travel": "9999999999w"}),
}


@pytest.mark.parametrize("change", list(REFUSED))
def test_a_new_product_pyiceberg_would_refuse_is_refused_before_anything_is_created(
    change: str, shipments: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    bad = copy.deepcopy(descriptor)
    bad["name"] = "parcels"
    REFUSED[change](bad["outputs"][0])
    before = catalog_state(shipments)
    with pytest.raises(DescriptorError) as caught:
        shipments.deploy(write_descriptor(bad))
    assert caught.value.line is not None
    assert caught.value.field is not None and caught.value.field.startswith("outputs[0]")
    assert catalog_state(shipments) == before


@pytest.mark.parametrize("change", list(REFUSED))
def test_an_evolution_pyiceberg_would_refuse_leaves_the_product_as_it_was(
    change: str, shipments: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    bad = copy.deepcopy(descriptor)
    bad["version"] = "2.0.0"
    REFUSED[change](bad["outputs"][0])
    before = catalog_state(shipments)
    with pytest.raises(DescriptorError):
        shipments.deploy(write_descriptor(bad))
    assert catalog_state(shipments) == before


def test_a_type_nested_to_the_bound_deploys_and_loads_back(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    descriptor["outputs"][0]["columns"].append({"name": "deep", "type": nested_struct(types.MAX_NESTING)})
    lake.deploy(write_descriptor(descriptor))
    table = lake.catalog.load_table(("logistics", "shipments", "daily"))
    assert "deep" in table.schema().column_names
    assert lake.product("logistics.shipments").describe().ports[0].problem is None


def test_what_pyiceberg_cannot_load_back_is_refused_even_past_the_descriptor_checks(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deploy builds each new table's metadata in memory and reads it back before creating anything."""
    monkeypatch.setattr(types, "MAX_NESTING", 1000)
    descriptor["outputs"][0]["columns"].append({"name": "deep", "type": nested_struct(70)})
    before = catalog_state(lake)
    with pytest.raises(DescriptorError) as caught:
        lake.deploy(write_descriptor(descriptor))
    assert caught.value.field == "outputs[0]"
    assert caught.value.line is not None
    assert "pyiceberg refuses" in caught.value.problem
    assert catalog_state(lake) == before


def test_a_deploy_failing_midway_through_creating_tables_leaves_the_catalog_as_it_was(
    shipments: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    product = three_ports(descriptor)
    product["name"] = "parcels"
    before = catalog_state(shipments)
    catalog = shipments.catalog
    monkeypatch.setattr(catalog, "create_table", fail_on_call(2, catalog.create_table))
    with pytest.raises(RuntimeError, match="injected"):
        shipments.deploy(write_descriptor(product))
    assert catalog_state(shipments) == before
    assert not catalog.namespace_exists(("logistics", "parcels"))


def test_a_deploy_failing_while_storing_its_descriptor_drops_what_it_created(
    shipments: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new port created and another evolved, then the namespace update fails: both are undone."""
    newer = three_ports(descriptor)
    newer["version"] = "1.5.0"
    newer["outputs"][0]["columns"].append({"name": "note", "type": "string"})
    newer["outputs"][0]["description"] = "Shipments by day, with notes."
    before = contract_state(shipments)
    files_before = catalog_state(shipments)["files"]
    catalog = shipments.catalog
    monkeypatch.setattr(catalog, "update_namespace_properties", fail_on_call(1, catalog.update_namespace_properties))
    with pytest.raises(RuntimeError, match="injected"):
        shipments.deploy(write_descriptor(newer))
    assert contract_state(shipments) == before
    assert catalog.list_tables(("logistics", "shipments")) == [("logistics", "shipments", "daily")]
    new_files = set(catalog_state(shipments)["files"]) - set(files_before)
    assert all("/daily/" in path for path in new_files)  # only the evolved table's new metadata versions


def test_a_deploy_failing_while_evolving_its_second_table_restores_the_first(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    product = three_ports(descriptor)
    lake.deploy(write_descriptor(product))
    newer = copy.deepcopy(product)
    newer["version"] = "1.5.0"
    for port in newer["outputs"]:
        port["columns"].append({"name": "note", "type": "string"})
        port["partition_by"] = ["month(shipped_at)"]
    before = contract_state(lake)
    catalog = lake.catalog
    monkeypatch.setattr(catalog, "commit_table", fail_on_call(2, catalog.commit_table))
    with pytest.raises(RuntimeError, match="injected"):
        lake.deploy(write_descriptor(newer))
    assert contract_state(lake) == before
    assert lake.product("logistics.shipments").version == "1.4.0"


def test_deploy_refuses_an_input_port_its_product_does_not_have(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    producer = copy.deepcopy(descriptor)
    producer.update(domain="sales", name="orders", inputs=[])
    producer["outputs"][0]["name"] = "placed"
    lake.deploy(write_descriptor(producer))
    descriptor["inputs"] = [{"name": "orders", "port": "sales.orders.cancelled"}]
    path = write_descriptor(descriptor)
    before = catalog_state(lake)
    with pytest.raises(DescriptorError) as caught:
        lake.deploy(path)
    assert caught.value.field == "inputs[0].port"
    assert caught.value.line == 11
    assert "placed" in caught.value.problem  # names the ports it has
    assert catalog_state(lake) == before


def test_deploy_warns_when_an_input_product_is_not_deployed_yet(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    lake.deploy(write_descriptor(descriptor))  # its input sales.orders.placed is not deployed
    assert lake.last_deploy is not None
    [warning] = lake.last_deploy.warnings
    assert "sales.orders.placed" in warning and "not deployed yet" in warning
    assert lake.product("logistics.shipments").version == "1.4.0"


def test_deploy_accepts_an_input_port_that_exists_without_warning(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    producer = copy.deepcopy(descriptor)
    producer.update(domain="sales", name="orders", inputs=[])
    producer["outputs"][0]["name"] = "placed"
    lake.deploy(write_descriptor(producer))
    lake.deploy(write_descriptor(descriptor))
    assert lake.last_deploy is not None and lake.last_deploy.warnings == []


def test_the_cli_prints_deploy_warnings(tmp_path: Path, descriptor: dict[str, Any]) -> None:
    from meshlake.cli import commands  # noqa: F401 - registers commands
    from meshlake.cli.main import cli

    path = tmp_path / "dataproduct.yaml"
    path.write_text(yaml.safe_dump(descriptor, sort_keys=False), encoding="utf-8")
    result = CliRunner().invoke(cli, ["deploy", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "warning: logistics.shipments: input 'orders' reads sales.orders.placed" in result.stderr
