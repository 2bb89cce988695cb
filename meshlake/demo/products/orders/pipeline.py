"""Source-aligned: the shop's orders of one day (`--param day=YYYY-MM-DD`), appended as they happened, and
that day's revenue and margin per hub (a port for finance only).

`--param bad=true` simulates a broken export (negative weights, an unknown hub) that the gate must stop.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa

from meshlake.pipelines import Output

HUBS = ["north", "south", "east", "west"]


def orders(day: date, *, bad: bool = False) -> pa.Table:
    rng = np.random.default_rng(1000 + day.toordinal())
    count = int(rng.integers(380, 460))
    start = datetime(day.year, day.month, day.day, 7, tzinfo=UTC)
    minutes = np.sort(rng.integers(0, 14 * 60, count))
    weight = np.round(rng.gamma(2.0, 1.4, count) + 0.1, 2)
    items = rng.integers(1, 6, count)
    hubs = rng.choice(HUBS, count, p=[0.35, 0.25, 0.2, 0.2])
    if bad:
        weight[:25] = -weight[:25]
        hubs[25:30] = "mars"
    customers = rng.integers(1, 5000, count)
    return pa.table(
        {
            "order_id": [f"ORD-{day:%m%d}{i:04d}" for i in range(count)],
            "customer_id": [f"C{c:05d}" for c in customers],
            "customer_email": [f"customer{c}@example.com" for c in customers],
            "placed_at": [start + timedelta(minutes=int(m)) for m in minutes],
            "hub": hubs.tolist(),
            "items": pa.array(items, pa.int32()),
            "weight_kg": weight,
            "total_eur": pa.array(
                [Decimal(f"{9.9 + 7.5 * i + 2 * w:.2f}") for i, w in zip(items, weight, strict=True)],
                pa.decimal128(10, 2),
            ),
        }
    )


def revenue(day: date, placed: pa.Table) -> pa.Table:
    """Per hub: orders, revenue, and the margin after delivery cost (a base fee plus a rate per kg)."""
    totals: dict[str, list[Any]] = {}
    for hub, total, weight in zip(
        *(placed.column(c).to_pylist() for c in ("hub", "total_eur", "weight_kg")), strict=True
    ):
        count, earned, cost = totals.get(hub, [0, Decimal(0), Decimal(0)])
        totals[hub] = [count + 1, earned + total, cost + Decimal("3.80") + Decimal("0.95") * Decimal(str(weight))]
    hubs = sorted(totals)
    money = pa.decimal128(12, 2)
    return pa.table(
        {
            "day": pa.array([day] * len(hubs), pa.date32()),
            "hub": hubs,
            "orders": pa.array([totals[h][0] for h in hubs], pa.int64()),
            "revenue_eur": pa.array([totals[h][1].quantize(Decimal("0.01")) for h in hubs], money),
            "margin_eur": pa.array([(totals[h][1] - totals[h][2]).quantize(Decimal("0.01")) for h in hubs], money),
        }
    )


def build(inputs: Any, context: Any) -> dict[str, Any]:
    day = date.fromisoformat(context.params.get("day", date.today().isoformat()))
    placed = orders(day, bad=context.params.get("bad") == "true")
    return {"placed": placed, "revenue": Output(revenue(day, placed), mode="replace", where=f"day = '{day}'")}
