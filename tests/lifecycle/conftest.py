"""A product with two output ports (orders and lines), deployed in a fresh lake, for release and diff tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml

import meshlake as ml

TWO_PORTS: dict[str, Any] = {
    "apiVersion": "meshlake/v1",
    "domain": "sales",
    "name": "orders",
    "version": "1.4.0",
    "owner": {"team": "sales_data"},
    "outputs": [
        {
            "name": "placed",
            "columns": [
                {"name": "order_id", "type": "long", "required": True},
                {"name": "amount", "type": "double"},
                {"name": "email", "type": "string", "classification": "pii"},
            ],
            "primary_key": ["order_id"],
        },
        {
            "name": "lines",
            "columns": [
                {"name": "line_id", "type": "long", "required": True},
                {"name": "sku", "type": "string"},
            ],
            "primary_key": ["line_id"],
        },
    ],
}


def write_product(folder: Path, data: dict[str, Any]) -> Path:
    path = folder / str(data["name"]) / "dataproduct.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def orders(ids: list[int], amount: float = 1.0) -> pa.Table:
    return pa.table(
        {
            "order_id": pa.array(ids, pa.int64()),
            "amount": pa.array([amount * i for i in ids], pa.float64()),
            "email": [f"u{i}@example.com" for i in ids],
        }
    )


def lines(ids: list[int]) -> pa.Table:
    return pa.table({"line_id": pa.array(ids, pa.int64()), "sku": [f"s{i}" for i in ids]})


@pytest.fixture
def sales(lake: ml.Lake, tmp_path: Path) -> ml.Lake:
    """The lake with sales.orders (ports placed and lines) deployed and written once."""
    lake.deploy(write_product(tmp_path / "products", TWO_PORTS))
    lake.port("sales.orders.placed").write(orders([1, 2, 3]))
    lake.port("sales.orders.lines").write(lines([10, 11]))
    return lake
