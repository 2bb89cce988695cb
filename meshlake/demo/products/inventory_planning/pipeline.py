"""Consumer-aligned: one table for the supply-chain planners' weekly report, rebuilt on every run."""

from __future__ import annotations

from typing import Any

from meshlake.pipelines import Output

SQL = """
WITH recent AS (
    SELECT hub, count(*) AS orders, sum(weight_kg) AS kg_ordered, count(DISTINCT CAST(placed_at AS DATE)) AS days
    FROM orders
    WHERE placed_at >= (SELECT max(placed_at) FROM orders) - INTERVAL 7 DAY
    GROUP BY hub
)
SELECT r.hub, r.orders, round(r.kg_ordered, 1) AS kg_ordered,
       round(avg(h.on_time_rate), 3) AS avg_on_time_rate,
       CAST(round(r.orders * 7.0 / r.days * 1.05) AS BIGINT) AS forecast_next_week
FROM recent r LEFT JOIN hub_daily h USING (hub)
GROUP BY r.hub, r.orders, r.kg_ordered, r.days
ORDER BY r.hub
"""


def build(inputs: Any) -> dict[str, Any]:
    table = inputs.duckdb().sql(SQL).to_arrow_table()
    return {"weekly_demand": Output(table, mode="overwrite")}
