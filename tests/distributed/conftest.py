"""Daft on Ray, started as the project's rules say: two CPUs, no dashboard, every listener on 127.0.0.1.

These tests need Daft and Ray, which live in their own venv (`.ci/distributed-venv.sh`); in any other venv they
are skipped with that reason, and tests/integration/test_distributed.py runs them through the distributed venv.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pytest

# Read by Ray when it is imported: with it (and _node_ip_address below) every listener binds 127.0.0.1.
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
os.environ.setdefault("DAFT_PROGRESS_BAR", "0")

ADDRESS = "logistics.shipments.daily"
UNIQUE = [{"expect_column_values_to_be_unique": {"column": "shipment_id"}}]


def shipment_rows(ids: list[str], day: int = 1, weight: float = 1.0) -> pa.Table:
    """Shipments of the demo-like port `ADDRESS`: `ids`, shipped on November `day`, weights from `weight` up."""
    return pa.table(
        {
            "shipment_id": ids,
            "shipped_at": pa.array([datetime(2026, 11, day, tzinfo=UTC)] * len(ids), pa.timestamp("us", tz="UTC")),
            "weight_kg": [weight + i for i in range(len(ids))],
        }
    )


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[Any]:
    """A local Ray cluster bound to loopback only, with Daft running on it; shut down after the session."""
    import daft
    import ray

    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    daft.set_runner_ray()
    yield ray
    ray.shutdown()
