"""Functions run in separate processes by the concurrency tests (importable for spawn)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

import meshlake as ml
from meshlake.errors import CommitConflictError


def batch(writer: str, seq: int, size: int = 3) -> pa.Table:
    ids = [f"{writer}-{seq}-{i}" for i in range(size)]
    return pa.table(
        {
            "shipment_id": ids,
            "shipped_at": pa.array([datetime(2026, 11, 1, tzinfo=UTC)] * size, pa.timestamp("us", tz="UTC")),
            "weight_kg": [float(seq)] * size,
        }
    )


def run_writer(home: str, writer: str, mode: str, count: int) -> list[dict[str, Any]]:
    """Write `count` batches in `mode`; report each write's run id, rows and outcome."""
    port = ml.connect(home=home).port("logistics.shipments.daily")
    outcomes = []
    for seq in range(count):
        data = batch(writer, seq)
        run_id = f"{writer}-{seq}"
        try:
            result = port.write(data, mode=mode, run_id=run_id)  # type: ignore[arg-type]
            outcomes.append(
                {
                    "run_id": run_id,
                    "mode": mode,
                    "ids": data["shipment_id"].to_pylist(),
                    "ok": True,
                    "snapshot_id": result.snapshot_id,
                    "rebases": result.rebases,
                }
            )
        except CommitConflictError:
            outcomes.append({"run_id": run_id, "mode": mode, "ids": [], "ok": False, "snapshot_id": None, "rebases": 0})
    return outcomes
