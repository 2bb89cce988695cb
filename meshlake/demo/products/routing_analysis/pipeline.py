"""Aggregate: per hub and day, deliveries, distance, on-time rate and battery level; replaces that day."""

from __future__ import annotations

from typing import Any

from meshlake.pipelines import Output

SQL = """
WITH flights AS (
    SELECT day, hub, distance_km,
           (epoch(delivered_at) - epoch(dispatched_at)) / 60 <= promised_minutes AS on_time
    FROM deliveries WHERE day = $day
), battery AS (
    SELECT r.home_hub AS hub, avg(t.battery_pct) AS avg_battery_pct
    FROM telemetry t JOIN registry_hubs r USING (drone_id)
    WHERE CAST(t.reported_at AT TIME ZONE 'UTC' AS DATE) = $day
    GROUP BY ALL
)
SELECT f.day, f.hub, count(*) AS deliveries, round(avg(f.distance_km), 2) AS avg_distance_km,
       round(avg(CAST(f.on_time AS DOUBLE)), 3) AS on_time_rate,
       round(any_value(b.avg_battery_pct), 1) AS avg_battery_pct
FROM flights f LEFT JOIN battery b USING (hub)
GROUP BY f.day, f.hub ORDER BY f.hub
"""


def build(inputs: Any, context: Any) -> dict[str, Any]:
    con = inputs.duckdb()
    con.execute("CREATE VIEW registry_hubs AS SELECT DISTINCT drone_id, hub AS home_hub FROM deliveries")
    day = context.params.get("day") or con.sql("SELECT max(day)::VARCHAR FROM deliveries").fetchall()[0][0]
    table = con.sql(SQL, params={"day": day}).to_arrow_table()
    return {"hub_daily": Output(table, mode="replace", where=f"day = '{day}'")}
