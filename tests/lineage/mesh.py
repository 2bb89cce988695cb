"""A small mesh with known lineage, generated in code: orders → picking → report, plus a gate-stopped write.

sales.orders.placed      s1, s2 (appends)                       no inputs
logistics.picking.daily  p1 (read s1), p2 (read s2)             derived_from / influenced_by / source_sql
finance.report.weekly    r1 (read p1 and a dropped port), r2 (read p2 and an expired snapshot id)
logistics.picking.daily  stopped write (read s2): quarantined by its expectation
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml

import meshlake as ml
from meshlake.errors import QualityGateError

ORDERS = "sales.orders.placed"
PICKING = "logistics.picking.daily"
REPORT = "finance.report.weekly"
DROPPED = "legacy.crm.customers"
EXPIRED_ID = 111

ORDERS_PRODUCT: dict[str, Any] = {
    "apiVersion": "meshlake/v1",
    "domain": "sales",
    "name": "orders",
    "version": "1.0.0",
    "owner": {"team": "storefront", "email": "storefront@example.com"},
    "description": "Orders placed in the web shop.",
    "outputs": [
        {
            "name": "placed",
            "description": "Every order placed, one row per order.",
            "tags": ["sales"],
            "columns": [
                {"name": "order_id", "type": "string", "required": True, "description": "Order key"},
                {"name": "hub", "type": "string"},
                {"name": "customer_email", "type": "string", "classification": "pii"},
                {"name": "amount", "type": "double"},
            ],
        }
    ],
}
PICKING_PRODUCT: dict[str, Any] = {
    "apiVersion": "meshlake/v1",
    "domain": "logistics",
    "name": "picking",
    "version": "1.0.0",
    "owner": {"team": "warehouse"},
    "description": "What each hub picks.",
    "inputs": [{"name": "orders", "port": ORDERS}],
    "outputs": [
        {
            "name": "daily",
            "description": "Amount picked per hub.",
            "columns": [
                {"name": "hub", "type": "string", "derived_from": ["orders.hub"]},
                {
                    "name": "amount",
                    "type": "double",
                    "derived_from": ["orders.amount"],
                    "influenced_by": ["orders.hub"],
                },
            ],
            "expectations": [{"expect_column_values_to_be_between": {"column": "amount", "min_value": 0}}],
            "source_sql": "SELECT hub, sum(amount) AS amount FROM orders WHERE amount > 0 GROUP BY hub",
        }
    ],
}
REPORT_PRODUCT: dict[str, Any] = {
    "apiVersion": "meshlake/v1",
    "domain": "finance",
    "name": "report",
    "version": "2.1.0",
    "owner": {"team": "finance"},
    "inputs": [{"name": "picking", "port": PICKING}, {"name": "customers", "port": DROPPED}],
    "outputs": [
        {
            "name": "weekly",
            "tags": ["finance"],
            "columns": [{"name": "total", "type": "double", "derived_from": ["picking.amount"]}],
        }
    ],
}


@dataclass
class Mesh:
    lake: ml.Lake
    home: Path
    s1: int
    s2: int
    p1: int
    p2: int
    r1: int
    r2: int
    stopped: int


def deploy(lake: ml.Lake, folder: Path, descriptor: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dataproduct.yaml").write_text(yaml.safe_dump(descriptor, sort_keys=False), encoding="utf-8")
    lake.deploy(folder)


def orders(n: int, first: int = 0) -> pa.Table:
    return pa.table(
        {
            "order_id": [f"o{i}" for i in range(first, first + n)],
            "hub": [("north", "south")[i % 2] for i in range(first, first + n)],
            "customer_email": [f"person{i}@example.com" for i in range(first, first + n)],
            "amount": [float(i) for i in range(first, first + n)],
        }
    )


def build_mesh(home: Path) -> Mesh:
    lake = ml.connect(home=str(home))
    for name, product in (("orders", ORDERS_PRODUCT), ("picking", PICKING_PRODUCT), ("report", REPORT_PRODUCT)):
        deploy(lake, home.parent / "products" / name, product)
    placed, daily, weekly = lake.port(ORDERS), lake.port(PICKING), lake.port(REPORT)
    s1 = placed.write(orders(4)).snapshot_id
    p1 = daily.write(pa.table({"hub": ["north"], "amount": [1.0]}), inputs={ORDERS: s1}).snapshot_id
    r1 = weekly.write(pa.table({"total": [1.0]}), inputs={PICKING: p1, DROPPED: 42}).snapshot_id
    s2 = placed.write(orders(4, first=4)).snapshot_id
    p2 = daily.write(pa.table({"hub": ["south"], "amount": [2.0]}), inputs={ORDERS: s2}, mode="overwrite").snapshot_id
    r2 = weekly.write(pa.table({"total": [2.0]}), inputs={PICKING: p2, ORDERS: EXPIRED_ID}).snapshot_id
    with pytest.raises(QualityGateError):
        daily.write(pa.table({"hub": ["bad"], "amount": [-5.0]}), inputs={ORDERS: s2}, run_id="stoppedrun")
    stopped = next(s.snapshot_id for s in daily.table().metadata.snapshots if s.snapshot_id not in (p1, p2))
    return Mesh(lake, home, s1, s2, p1, p2, r1, r2, stopped)
