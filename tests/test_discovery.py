"""Discovery from catalog metadata: products, a product, describe()."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import meshlake as ml
from meshlake.errors import PortNotFoundError, ProductNotFoundError
from tests.conftest import DescriptorWriter
from tests.test_write import shipments


def test_products_lists_what_is_deployed(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    assert lake.products() == []
    lake.deploy(write_descriptor(descriptor))
    descriptor.update(domain="sales", name="orders", inputs=[])
    lake.deploy(write_descriptor(descriptor))
    assert [str(p.name) for p in lake.products()] == ["logistics.shipments", "sales.orders"]


def test_unknown_product_and_port_name_what_exists(shipments: ml.Lake) -> None:
    with pytest.raises(ProductNotFoundError) as caught:
        shipments.product("logistics.nope")
    assert caught.value.known == ["logistics.shipments"]
    with pytest.raises(PortNotFoundError) as port_error:
        shipments.port("logistics.shipments.weekly")
    assert port_error.value.known == ["daily"]


def test_describe_reads_metadata_only(shipments: ml.Lake, tmp_path: Path) -> None:
    port = shipments.port("logistics.shipments.daily")
    port.write(shipments_rows := shipments_data())
    port.tag("v1")
    for parquet in (tmp_path / ".meshlake" / "warehouse").rglob("*.parquet"):
        parquet.unlink()  # describe must not need the data files
    described = shipments.product("logistics.shipments").describe()
    assert described.owner == "logistics_data"
    assert described.owner_email == "logistics-data@example.com"
    assert described.version == "1.4.0"
    assert described.inputs == {"orders": "sales.orders.placed"}
    info = described.ports[0]
    assert info.address == "logistics.shipments.daily"
    assert info.rows == shipments_rows.num_rows
    assert info.latest_snapshot_id == port.table().metadata.current_snapshot_id
    assert info.tags == ["v1"]
    assert [(c.name, c.type, c.required) for c in info.columns][:2] == [
        ("shipment_id", "string", True),
        ("shipped_at", "timestamptz", True),
    ]
    assert info.columns[3].classification == "pii"
    assert info.columns[0].description == "Unique shipment key"
    assert described.to_dict()["ports"][0]["latest_committed_at"].endswith("+00:00")


def shipments_data() -> Any:
    return shipments(["a", "b", "c"])
