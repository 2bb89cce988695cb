"""One broken product never stops lake-wide listings: it is reported with the reason, the others go on."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from click.testing import CliRunner

import meshlake as ml
from meshlake.contract.registry import PART_KEY, PARTS_KEY
from meshlake.errors import AccessDeniedError, BrokenProductError
from tests.conftest import DescriptorWriter


@pytest.fixture
def two_products(lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter) -> ml.Lake:
    """logistics.shipments (ports daily, weekly) and logistics.parcels (port daily)."""
    shipments = copy.deepcopy(descriptor)
    shipments["outputs"].append({**copy.deepcopy(descriptor["outputs"][0]), "name": "weekly"})
    lake.deploy(write_descriptor(shipments))
    parcels = copy.deepcopy(descriptor)
    parcels["name"] = "parcels"
    lake.deploy(write_descriptor(parcels))
    return lake


def corrupt_descriptor(lake: ml.Lake, product: tuple[str, str]) -> None:
    lake.catalog.update_namespace_properties(product, updates={PART_KEY.format(0): '{"apiVersion": "meshlake/v1",'})


def delete_metadata_file(lake: ml.Lake, address: str) -> None:
    table = lake.port(address).table()
    Path(urlparse(table.metadata_location).path).unlink()


def test_a_product_with_a_corrupt_descriptor_is_listed_as_broken_and_the_others_go_on(two_products: ml.Lake) -> None:
    corrupt_descriptor(two_products, ("logistics", "parcels"))
    products = two_products.products()
    assert [str(p.name) for p in products] == ["logistics.shipments"]
    [broken] = products.broken
    assert (broken.name, broken.port) == ("logistics.parcels", None)
    assert "not valid" in broken.reason
    with pytest.raises(BrokenProductError) as caught:
        two_products.product("logistics.parcels")
    assert (caught.value.name, caught.value.port) == ("logistics.parcels", None)


def test_a_product_missing_a_descriptor_part_is_listed_as_broken(two_products: ml.Lake) -> None:
    two_products.catalog.update_namespace_properties(("logistics", "parcels"), removals={PART_KEY.format(0)})
    products = two_products.products()
    assert [b.name for b in products.broken] == ["logistics.parcels"]
    assert PART_KEY.format(0) in products.broken[0].reason


def test_a_product_whose_part_count_is_not_a_number_is_listed_as_broken(two_products: ml.Lake) -> None:
    two_products.catalog.update_namespace_properties(("logistics", "parcels"), updates={PARTS_KEY: "many"})
    assert [b.name for b in two_products.products().broken] == ["logistics.parcels"]


def test_deploying_again_repairs_a_broken_descriptor(
    two_products: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    corrupt_descriptor(two_products, ("logistics", "parcels"))
    parcels = copy.deepcopy(descriptor)
    parcels["name"] = "parcels"
    two_products.deploy(write_descriptor(parcels))
    assert two_products.last_deploy is not None
    assert any("could not be read" in warning for warning in two_products.last_deploy.warnings)
    products = two_products.products()
    assert [str(p.name) for p in products] == ["logistics.parcels", "logistics.shipments"]
    assert products.broken == []


def test_a_port_whose_table_metadata_is_gone_is_reported_and_the_other_ports_work(two_products: ml.Lake) -> None:
    delete_metadata_file(two_products, "logistics.shipments.weekly")
    with pytest.raises(BrokenProductError) as caught:
        two_products.port("logistics.shipments.weekly").table()
    assert (caught.value.name, caught.value.port) == ("logistics.shipments", "weekly")

    products = two_products.products(check_tables=True)
    assert [str(p.name) for p in products] == ["logistics.parcels", "logistics.shipments"]
    assert [(b.name, b.port) for b in products.broken] == [("logistics.shipments", "weekly")]
    assert two_products.products().broken == []  # without check_tables only descriptors are read

    ports = {info.address: info for info in two_products.product("logistics.shipments").describe().ports}
    assert ports["logistics.shipments.daily"].problem is None
    problem = ports["logistics.shipments.weekly"].problem
    assert problem is not None and "cannot be loaded" in problem


def test_the_products_command_lists_the_readable_products_when_one_is_broken(two_products: ml.Lake) -> None:
    from meshlake.cli import commands  # noqa: F401 - registers commands
    from meshlake.cli.main import cli

    corrupt_descriptor(two_products, ("logistics", "parcels"))
    result = CliRunner().invoke(cli, ["products", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "logistics.shipments" in result.output


@pytest.mark.parametrize(
    "refusal",
    [
        "When reading information for key 'wh/x/metadata/00001.metadata.json' in bucket 'lake': AWS Error "
        "ACCESS_DENIED during HeadObject operation: No response body.",  # pyarrow
        "An error occurred (AccessDenied) when calling the GetObject operation: Access Denied",  # botocore
        "HTTP Error: HTTP GET error on 's3://lake/wh/x.json' (HTTP 403)",  # DuckDB
    ],
)
def test_a_table_the_storage_refuses_to_read_is_access_denied_not_broken(
    two_products: ml.Lake, monkeypatch: pytest.MonkeyPatch, refusal: str
) -> None:
    load = type(two_products.catalog).load_table

    def refused(catalog: Any, identifier: Any) -> Any:
        if tuple(identifier) == ("logistics", "shipments", "weekly"):
            raise OSError(refusal)
        return load(catalog, identifier)

    monkeypatch.setattr(type(two_products.catalog), "load_table", refused)
    reader = ml.Lake(two_products.settings, identity=two_products.identity)
    with pytest.raises(AccessDeniedError) as denied:
        reader.port("logistics.shipments.weekly").latest()
    assert (denied.value.principal, denied.value.address) == (str(two_products.principal), "logistics.shipments.weekly")
    assert denied.value.missing.startswith("storage refused the read")
    with pytest.raises(AccessDeniedError):
        reader.sql("SELECT count(*) FROM logistics.shipments.weekly").fetchall()
    assert reader.products(check_tables=True).broken == []
    assert reader.port("logistics.shipments.daily").latest().to_arrow().num_rows == 0


def test_any_other_error_reading_table_metadata_still_reports_a_broken_port(
    two_products: ml.Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreadable(*_: Any) -> Any:
        raise OSError("Connection timed out")

    monkeypatch.setattr(type(two_products.catalog), "load_table", unreadable)
    with pytest.raises(BrokenProductError):
        two_products.port("logistics.shipments.weekly").table()
    assert len(two_products.products(check_tables=True).broken) == 3
