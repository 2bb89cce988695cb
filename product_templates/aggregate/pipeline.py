"""Aggregate pipeline: one day of `daily` from the pinned `events` input, replacing that day.

    meshlake run PATH --param day=2026-11-01    # default: the latest day present in the input

The input is read in place through DuckDB (`inputs.duckdb()` has one view per input port, named by the
input's name), at the snapshot pinned when the run started.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from meshlake.pipelines import Inputs, Output, RunContext

SQL = """
SELECT CAST(occurred_at AT TIME ZONE 'UTC' AS DATE) AS day,
       event_type,
       count(*) AS events,
       count(DISTINCT entity_id) AS entities,
       CAST(sum(amount) AS DECIMAL(18, 2)) AS total_amount
FROM events
WHERE CAST(occurred_at AT TIME ZONE 'UTC' AS DATE) = $day
GROUP BY ALL
ORDER BY event_type
"""
LATEST_DAY = "SELECT max(CAST(occurred_at AT TIME ZONE 'UTC' AS DATE)) FROM events"


def build(inputs: Inputs, context: RunContext) -> dict[str, Any]:
    """The rows of one day (`--param day=…`, default the input's latest day), replacing that day."""
    con = inputs.duckdb()
    given = context.params.get("day")
    day = date.fromisoformat(given) if given else con.sql(LATEST_DAY).fetchall()[0][0]
    if day is None:
        return {}  # the input has no events yet: nothing to replace
    table = con.sql(SQL, params={"day": day}).to_arrow_table()
    return {"daily": Output(table, mode="replace", where=f"day = '{day.isoformat()}'")}
