"""Keyed writes on the engine: a distributed upsert's join and a distributed delete run on Daft's or Ray's workers,
which write file-scoped position deletes; the driver commits data and delete files in one gated snapshot.

Each test checks what the port holds afterwards against the rows it must hold, that nothing but the expected
files were written, and for every failure that `main` did not move and no file of the write is left.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import meshlake as ml
from tests.conftest import DescriptorWriter

pytest.importorskip("daft", reason="Daft is not installed here: run through .ci/distributed-venv.sh's venv")
pytest.importorskip("ray", reason="Ray is not installed here: run through .ci/distributed-venv.sh's venv")

ADDRESS = "logistics.shipments.daily"
UNIQUE = [{"expect_column_values_to_be_unique": {"column": "shipment_id"}}]
ENGINES = ["daft", "ray"]


def _rows(ids: list[str], day: int = 1, weight: float = 1.0) -> pa.Table:
    return pa.table(
        {
            "shipment_id": ids,
            "shipped_at": pa.array([datetime(2026, 11, day, tzinfo=UTC)] * len(ids), pa.timestamp("us", tz="UTC")),
            "weight_kg": [weight + i for i in range(len(ids))],
        }
    )


@pytest.fixture
def port(ray_cluster: Any, lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter) -> Any:
    descriptor["outputs"][0]["expectations"] = UNIQUE
    lake.deploy(write_descriptor(descriptor))
    port = lake.port(ADDRESS)
    for day in (1, 2, 3):  # three partitions, one data file each
        port.write(_rows([f"d{day}-{i:02d}" for i in range(20)], day=day))
    return port


def _frame(engine: str, table: pa.Table, partitions: int = 3) -> Any:
    if engine == "daft":
        import daft

        return daft.from_arrow(table).repartition(partitions)
    import ray.data

    return ray.data.from_arrow(table).repartition(partitions)


def _write(port: Any, engine: str, data: Any, **options: Any) -> Any:
    if engine == "daft":
        return port.write_daft(data, **options)
    return port.write_ray(data, **options)


def _files(port: Any) -> set[str]:
    root = Path(port.table().metadata.location.removeprefix("file://")) / "data"
    return {str(p) for p in root.rglob("*.parquet")}


def _weights(port: Any) -> dict[str, float]:
    return {r["shipment_id"]: r["weight_kg"] for r in port.to_arrow().to_pylist()}


@pytest.mark.parametrize("engine", ENGINES)
def test_distributed_upsert_joins_on_the_engine_and_commits_position_deletes_in_one_snapshot(
    port: Any, engine: str
) -> None:
    before, snapshots, files = _weights(port), len(port.history()), _files(port)
    changed = _rows(["d1-03", "d3-07", "new-1", "new-2"], day=1, weight=100.0)

    result = _write(port, engine, _frame(engine, changed), mode="upsert")

    assert (result.write_mode, result.fallback) == ("merge-on-read", None)
    assert (result.rows, result.rows_updated, result.rows_inserted) == (4, 2, 2)
    assert (result.files_deleted, result.delete_files_added) == (0, 2)  # one delete file per data file touched
    assert len(port.history()) == snapshots + 1
    expected = before | {"d1-03": 100.0, "d3-07": 101.0, "new-1": 102.0, "new-2": 103.0}
    assert _weights(port) == expected and len(port.to_arrow()) == 62
    new = {Path(f).name for f in _files(port) - files}
    prefix = f"ml-{result.run_id}-"
    assert all(name.startswith(prefix) for name in new)
    assert len([n for n in new if n.endswith("-deletes.parquet")]) == 2
