"""Aggregate: match one day's orders to drones of their hub and record each flight; replaces that day."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import polars as pl

from meshlake.pipelines import Output


def build(inputs: Any, context: Any) -> dict[str, Any]:
    orders = inputs.orders.to_polars().with_columns(day=pl.col("placed_at").dt.date())
    day = (
        date.fromisoformat(context.params["day"])
        if "day" in context.params
        else orders.select(pl.col("day").max()).collect().item()
    )
    todays = orders.filter(pl.col("day") == day).sort("order_id").collect()
    fleet = inputs.registry.to_polars().sort("drone_id").collect()
    rng = np.random.default_rng(2000 + day.toordinal())
    by_hub = {hub: group["drone_id"].to_list() for (hub,), group in fleet.group_by("home_hub")}
    position = todays.with_row_index("n").with_columns(slot=pl.col("n").cum_count().over("hub"))
    drones = [by_hub[hub][slot % len(by_hub[hub])] for hub, slot in zip(position["hub"], position["slot"], strict=True)]
    distance = np.round(rng.gamma(3.0, 1.6, todays.height) + 0.4, 2)
    wait = rng.integers(5, 50, todays.height)
    flight = distance / 0.9 + rng.normal(6, 3, todays.height).clip(1)
    deliveries = todays.select(
        pl.concat_str(pl.lit("DLV-"), pl.col("order_id").str.slice(4)).alias("delivery_id"),
        "order_id",
        pl.Series("drone_id", drones),
        "hub",
        "day",
        (pl.col("placed_at") + pl.duration(minutes=pl.lit(pl.Series(wait)))).alias("dispatched_at"),
    ).with_columns(
        (pl.col("dispatched_at") + pl.duration(seconds=pl.lit(pl.Series((flight * 60).astype(int))))).alias(
            "delivered_at"
        ),
        pl.Series("distance_km", distance),
        pl.lit(60, pl.Int32).alias("promised_minutes"),
    )
    return {"deliveries": Output(deliveries, mode="replace", where=f"day = '{day.isoformat()}'")}
