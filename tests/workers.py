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


def run_row_changer(home: str, writer: str, mode: str, write_mode: str, count: int) -> list[dict[str, Any]]:
    """`count` upserts (of the writer's keys k0..k2, weight = seq, plus one new key), appends (of new keys) or
    deletes (of one of the upserter u0's keys) in `write_mode`; report each write's run id, outcome and what
    it did to which keys."""
    port = ml.connect(home=home).port("logistics.shipments.daily")
    outcomes = []
    for seq in range(count):
        run_id = f"{writer}-{seq}"
        ids = [f"{writer}-k{i}" for i in range(3)] + [f"{writer}-n{seq}"]
        if mode == "append":
            ids = [f"{writer}-n{seq}-{i}" for i in range(3)]
        try:
            if mode == "delete":
                ids = [f"u0-k{seq % 3}"]  # the keys the upserter u0 writes
                where = f"shipment_id = '{ids[0]}'"
                result = port.delete(where, run_id=run_id, write_mode=write_mode)  # type: ignore[arg-type]
            else:
                data = batch(writer, seq, len(ids)).set_column(0, "shipment_id", pa.array(ids))
                result = port.write(data, mode=mode, run_id=run_id, write_mode=write_mode)  # type: ignore[arg-type]
            outcomes.append(
                {
                    "run_id": run_id,
                    "mode": mode,
                    "ids": ids,
                    "weight": float(seq),
                    "ok": True,
                    "changed": result.changed,
                    "used": result.write_mode,
                }
            )
        except CommitConflictError:
            outcomes.append({"run_id": run_id, "mode": mode, "ids": ids, "weight": float(seq), "ok": False})
    return outcomes
