"""A lake with an `orders` port fed by a stream; messages are JSON orders made in code."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import meshlake as ml

ADDRESS = "sales.orders.placed"


def orders_descriptor(on_failure: str = "stop", serve: list[str] | None = None) -> dict[str, Any]:
    port: dict[str, Any] = {
        "name": "placed",
        "columns": [
            {"name": "order_id", "type": "long", "required": True},
            {"name": "drone", "type": "string"},
            {"name": "weight_kg", "type": "double"},
            {"name": "placed_at", "type": "timestamptz", "required": True},
        ],
        "expectations": [
            {"expect_column_values_to_be_between": {"column": "weight_kg", "min_value": 0, "max_value": 50}}
        ],
        "stream": {"on_failure": on_failure},
    }
    if serve is not None:
        port["serve"] = serve
    return {
        "apiVersion": "meshlake/v1",
        "domain": "sales",
        "name": "orders",
        "version": "1.0.0",
        "owner": {"team": "sales"},
        "outputs": [port],
    }


def order(order_id: int, weight: float = 2.5) -> bytes:
    """One order message, as a producer would publish it."""
    return json.dumps(
        {"order_id": order_id, "drone": f"d{order_id % 7}", "weight_kg": weight, "placed_at": "2026-12-04T08:00:00Z"}
    ).encode()


def deploy_orders(lake: ml.Lake, folder: Path, **kwargs: Any) -> Any:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "dataproduct.yaml"
    path.write_text(yaml.safe_dump(orders_descriptor(**kwargs), sort_keys=False), encoding="utf-8")
    return lake.deploy(path).port("placed")


@pytest.fixture
def orders(lake: ml.Lake, tmp_path: Path) -> Callable[..., Any]:
    """Deploy the orders product (`orders(on_failure="skip")`) and return its port."""

    def deploy(**kwargs: Any) -> Any:
        return deploy_orders(lake, tmp_path / "orders", **kwargs)

    return deploy


def port_ids(port: Any) -> list[int]:
    """The order ids on `main`, sorted (duplicates kept)."""
    return sorted(port.latest().to_arrow().column("order_id").to_pylist())
