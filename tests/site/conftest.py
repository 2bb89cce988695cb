"""A governed mesh for the site: PII masked for analysts, a port analysts may not read, XSS payloads everywhere."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import meshlake as ml
from tests.lineage.mesh import ORDERS_PRODUCT, PICKING_PRODUCT, Mesh, build_mesh, deploy

PAYLOAD = "<script>alert('xss')</script><img src=x onerror=alert(1)>javascript:alert(2)"
"""What a hostile descriptor or row puts in every text field it can."""
ADMIN = "user:root"
ANALYST = ("user:ana", "analytics")


@dataclass
class GovernedMesh:
    home: Path
    emails: list[str]
    admin: ml.Lake

    def as_analyst(self) -> ml.Lake:
        return ml.connect(home=str(self.home), principal=ANALYST[0], groups=[ANALYST[1]])


def governed_products(payload: str = "") -> tuple[dict[str, Any], dict[str, Any]]:
    orders = copy.deepcopy(ORDERS_PRODUCT)
    orders["owner"] = {"team": "storefront", "email": "storefront@example.com", "principals": ["group:storefront"]}
    port = orders["outputs"][0]
    port["access"] = {"readers": ["group:analytics", "product:logistics.picking"]}
    port["columns"][2]["mask"] = "mask-alphanum"
    picking = copy.deepcopy(PICKING_PRODUCT)
    picking["owner"] = {"team": "warehouse", "principals": ["group:warehouse"]}
    picking["outputs"][0]["access"] = {"readers": ["group:warehouse"]}  # analysts may not read it
    if payload:
        orders["description"] = payload
        orders["owner"]["email"] = "<img/src=x/onerror=alert(3)>@example.com"
        port["description"] = payload
        for column in port["columns"]:
            column["description"] = payload
        port["expectations"] = [
            {"expect_column_values_to_be_in_set": {"column": "hub", "value_set": ["north", "south", payload]}}
        ]
        picking["description"] = payload
        picking["outputs"][0]["source_sql"] = (
            f"SELECT hub, sum(amount) AS amount FROM orders WHERE hub <> '{payload}' GROUP BY hub"
        )
    return orders, picking


def build_governed(home: Path, *, payload: str = "") -> GovernedMesh:
    admin = ml.connect(home=str(home), principal=ADMIN)
    admin.init_access([ADMIN])
    orders, picking = governed_products(payload)
    deploy(admin, home.parent / "products" / "orders", orders)
    deploy(admin, home.parent / "products" / "picking", picking)
    emails = [f"secret-{i}-person@example.com" for i in range(12)]
    data = pa.table(
        {
            "order_id": [f"o{i}" for i in range(12)],
            "hub": [payload or "north"] * 6 + ["south"] * 6,
            "customer_email": emails,
            "amount": [float(i) for i in range(12)],
        }
    )
    written = admin.port("sales.orders.placed").write(data).snapshot_id
    admin.port("logistics.picking.daily").write(
        pa.table({"hub": ["north"], "amount": [1.0]}), inputs={"sales.orders.placed": written}
    )
    return GovernedMesh(home, emails, admin)


@pytest.fixture
def governed(tmp_path: Path) -> GovernedMesh:
    return build_governed(tmp_path / ".meshlake")


@pytest.fixture
def mesh(tmp_path: Path) -> Mesh:
    """The lineage test mesh (tests/lineage/mesh.py)."""
    return build_mesh(tmp_path / ".meshlake")
