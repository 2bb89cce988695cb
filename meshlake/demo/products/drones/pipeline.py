"""Source-aligned: the fleet system's registry and telemetry, simulated for one day (`--param day=YYYY-MM-DD`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from meshlake.pipelines import Output

HUBS = {"north": (59.35, 18.06), "south": (59.28, 18.07), "east": (59.33, 18.15), "west": (59.33, 17.95)}
MODELS = [("Hopper-S", 2.5), ("Hopper-M", 5.0), ("Condor-XL", 12.0)]


def registry() -> pa.Table:
    rows = []
    for index in range(24):
        model, payload = MODELS[index % 3]
        rows.append(
            {
                "drone_id": f"DR-{index + 1:03d}",
                "model": model,
                "max_payload_kg": payload,
                "home_hub": list(HUBS)[index % 4],
            }
        )
    return pa.Table.from_pylist(rows)


def telemetry(day: date) -> pa.Table:
    rng = np.random.default_rng(day.toordinal())
    fleet = registry().to_pylist()
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    rows: dict[str, list[Any]] = {k: [] for k in ("drone_id", "reported_at", "battery_pct", "lat", "lon", "status")}
    for drone in fleet:
        battery = 100.0
        lat, lon = HUBS[drone["home_hub"]]
        for slot in range(96):
            status = str(rng.choice(["idle", "flying", "charging"], p=[0.3, 0.5, 0.2]))
            battery = min(100.0, battery + 12) if status == "charging" else max(5.0, battery - rng.uniform(0, 6))
            rows["drone_id"].append(drone["drone_id"])
            rows["reported_at"].append(start + timedelta(minutes=15 * slot))
            rows["battery_pct"].append(round(battery, 1))
            rows["lat"].append(lat + rng.normal(0, 0.02))
            rows["lon"].append(lon + rng.normal(0, 0.03))
            rows["status"].append(status)
    return pa.table(rows)


def build(inputs: Any, context: Any) -> dict[str, Any]:
    day = date.fromisoformat(context.params.get("day", date.today().isoformat()))
    return {"registry": Output(registry(), mode="overwrite"), "telemetry": telemetry(day)}
