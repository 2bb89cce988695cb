"""Consumer-aligned pipeline: rebuild the weekly report from the pinned `daily` input, overwriting it.

meshlake run PATH --param weeks=8     # how many recent weeks the report keeps (default 8)
"""

from __future__ import annotations

from typing import Any

from meshlake.pipelines import Inputs, Output, RunContext

SQL = """
WITH weeks AS (
    SELECT CAST(date_trunc('week', day) AS DATE) AS week_start, event_type,
           CAST(sum(events) AS BIGINT) AS events,
           CAST(sum(total_amount) AS DECIMAL(18, 2)) AS total_amount,
           count(DISTINCT day) AS days
    FROM daily
    GROUP BY ALL
)
SELECT w.week_start, w.event_type, w.events, w.total_amount,
       round(w.events / w.days, 2) AS avg_events_per_day,
       round((w.events - p.events) / p.events, 3) AS change_vs_prior_week
FROM weeks AS w
LEFT JOIN weeks AS p ON p.event_type = w.event_type AND p.week_start = w.week_start - 7
WHERE w.week_start > (SELECT max(week_start) FROM weeks) - 7 * $weeks
ORDER BY w.week_start, w.event_type
"""


def build(inputs: Inputs, context: RunContext) -> dict[str, Any]:
    """The whole report, recomputed: it replaces the previous one (mode="overwrite")."""
    weeks = int(context.params.get("weeks", "8"))
    if weeks < 1:
        raise ValueError(f"--param weeks must be at least 1, got {weeks}")
    report = inputs.duckdb().sql(SQL, params={"weeks": weeks}).to_arrow_table()
    return {"weekly_report": Output(report, mode="overwrite")}
