"""Shared fixtures: every test runs against a real embedded lake (SQLite catalog + local warehouse)."""

from __future__ import annotations

import copy
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import meshlake as ml

SHIPMENTS: dict[str, Any] = {
    "apiVersion": "meshlake/v1",
    "domain": "logistics",
    "name": "shipments",
    "version": "1.4.0",
    "owner": {"team": "logistics_data", "email": "logistics-data@example.com"},
    "description": "Every parcel handed to a drone, one row per shipment.",
    "inputs": [{"name": "orders", "port": "sales.orders.placed"}],
    "outputs": [
        {
            "name": "daily",
            "description": "Shipments by day.",
            "columns": [
                {
                    "name": "shipment_id",
                    "type": "string",
                    "required": True,
                    "description": "Unique shipment key",
                },
                {"name": "shipped_at", "type": "timestamptz", "required": True},
                {"name": "weight_kg", "type": "double"},
                {"name": "customer_email", "type": "string", "classification": "pii"},
            ],
            "primary_key": ["shipment_id"],
            "partition_by": ["day(shipped_at)"],
            "slo": {"freshness": "24h", "min_rows": 1},
        }
    ],
}


@pytest.fixture(scope="session")
def _compiled_extensions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder of meshlake's compiled DuckDB extensions for the whole run, shared by the xdist workers: every
    test's cache folder links its `duckdb/` here, so `meshlake_scan`'s ~15 s compile runs once per run rather than
    in each test's processes (tests of the build itself use a folder of their own: `fresh_build`)."""
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "meshlake-duckdb-extensions"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


@pytest.fixture(autouse=True)
def _isolate_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, _compiled_extensions: Path) -> None:
    """Hide the user's MESHLAKE_* settings and any meshlake.yaml: each test starts in its own folder, with its own
    cache folder (but the compiled DuckDB extensions of the run)."""
    for name in list(os.environ):
        if name.startswith("MESHLAKE_") and not name.startswith("MESHLAKE_TEST_"):
            monkeypatch.delenv(name)
    cache = tmp_path / ".meshlake-cache"
    cache.mkdir(mode=0o700)
    (cache / "duckdb").symlink_to(_compiled_extensions, target_is_directory=True)
    monkeypatch.setenv("MESHLAKE_CACHE_DIR", str(cache))  # not the user's cache folder
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True)
def _access_log_entries_stay_with_their_test() -> Iterator[None]:
    """Entries a test leaves in an access-log buffer are dropped after it, not written when the run exits."""
    yield
    log = sys.modules.get("meshlake.access.log")
    if log is not None:
        for pending in list(log._PENDING):
            pending._entries.clear()
        log._PENDING.clear()


@pytest.fixture(autouse=True)
def _key_index_keeping_ends_with_its_test() -> Iterator[None]:
    """Key index keepings a test's upserts left on the keeper thread finish before its folders go."""
    yield
    keeper = sys.modules.get("meshlake.write.index_keeper")
    if keeper is not None:
        keeper.wait_all(60.0)


@pytest.fixture
def lake(tmp_path: Path) -> ml.Lake:
    """A fresh embedded lake under the test's folder."""
    return ml.connect(home=str(tmp_path / ".meshlake"))


@pytest.fixture
def descriptor() -> dict[str, Any]:
    """A fresh copy of the shipments descriptor, to edit per test."""
    return copy.deepcopy(SHIPMENTS)


DescriptorWriter = Callable[[dict[str, Any]], Path]


@pytest.fixture
def write_descriptor(tmp_path: Path) -> DescriptorWriter:
    """Write a descriptor dict as YAML and return its path (a new file each call)."""
    counter = iter(range(1_000_000))

    def write(data: dict[str, Any]) -> Path:
        folder = tmp_path / "products" / f"p{next(counter)}"
        folder.mkdir(parents=True)
        path = folder / "dataproduct.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path

    return write


@pytest.fixture
def shipments(lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter) -> ml.Lake:
    """The lake with the shipments product deployed."""
    lake.deploy(write_descriptor(descriptor))
    return lake


def raise_major(descriptor: dict[str, Any]) -> None:
    """Raise the descriptor's major version, so that a redeploy accepts any change (`meshlake plan` classifies
    changed expectations, masks and readers as major, minor or patch bumps; a major bump covers them all)."""
    descriptor["version"] = f"{int(str(descriptor['version']).split('.')[0]) + 1}.0.0"


def main_snapshot_id(port: Any) -> int | None:
    """The id `main` points at, read straight from the catalog."""
    snapshot = port.table().metadata.snapshot_by_name("main")
    return snapshot.snapshot_id if snapshot else None


def data_files_on_disk(tmp_path: Path) -> set[Path]:
    return set((tmp_path / ".meshlake" / "warehouse").rglob("*.parquet"))


@pytest.fixture
def port(shipments: ml.Lake) -> Iterator[Any]:
    yield shipments.port("logistics.shipments.daily")
