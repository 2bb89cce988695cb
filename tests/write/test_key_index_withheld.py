"""A key whose values the port keeps out of its metadata (`pii`, `confidential`) is never copied into the key index."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyarrow as pa

import meshlake as ml
from tests.conftest import DescriptorWriter


def descriptor(classification: str | None) -> dict[str, Any]:
    key: dict[str, Any] = {"name": "customer_id", "type": "long", "required": True}
    if classification:
        key["classification"] = classification
    return {
        "apiVersion": "meshlake/v1",
        "domain": "keys",
        "name": "held",
        "version": "1.0.0",
        "owner": {"team": "keys"},
        "outputs": [
            {
                "name": "customers",
                "columns": [key, {"name": "v", "type": "double"}],
                "primary_key": ["customer_id"],
            }
        ],
    }


def upsert_twice(lake: ml.Lake) -> dict[int, float]:
    port = lake.port("keys.held.customers")
    port.write(pa.table({"customer_id": pa.array(range(1000), pa.int64()), "v": [1.0] * 1000}))
    port.write(
        pa.table({"customer_id": pa.array([5, 500, 2000], pa.int64()), "v": [2.0] * 3}),
        mode="upsert",
        write_mode="merge-on-read",
    )
    port.write(
        pa.table({"customer_id": pa.array([6, 500], pa.int64()), "v": [3.0] * 2}),
        mode="upsert",
        write_mode="merge-on-read",
    )
    table = port.latest().to_arrow()
    return dict(zip(table["customer_id"].to_pylist(), table["v"].to_pylist(), strict=True))


def index_files() -> list[Path]:
    root = Path(os.environ["MESHLAKE_CACHE_DIR"]) / "keyindex"
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def test_a_pii_key_is_looked_up_by_scan_and_never_cached(lake: ml.Lake, write_descriptor: DescriptorWriter) -> None:
    lake.deploy(write_descriptor(descriptor("pii")))
    found = upsert_twice(lake)
    assert len(found) == 1001
    assert (found[5], found[6], found[500], found[2000], found[7]) == (2.0, 3.0, 3.0, 2.0, 1.0)
    assert index_files() == []


def test_an_unclassified_key_is_indexed(lake: ml.Lake, write_descriptor: DescriptorWriter) -> None:
    lake.deploy(write_descriptor(descriptor(None)))
    found = upsert_twice(lake)
    assert (len(found), found[500]) == (1001, 3.0)
    assert any(path.suffix == ".npy" for path in index_files())
