"""Source-aligned pipeline: append one batch of events from the operational system.

    meshlake run PATH --param source=drop/      # every .csv, .parquet and .jsonl file of a drop folder (or one file)
    meshlake run PATH --param day=2026-11-01    # no source: a day of generated sample rows

Files are parsed with the port's contract types (CSV text becomes timestamps and decimals); the quality
gate refuses a batch whose event ids are already published, so a drop cannot be loaded twice.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
from pyiceberg.io.pyarrow import schema_to_pyarrow

from meshlake.pipelines import Inputs, Output, RunContext, open_files

PORT = "events"
SUFFIXES = (".csv", ".parquet", ".jsonl")
EVENT_TYPES = ["created", "updated", "completed", "cancelled"]
CHANNELS = ["web", "app", "store"]


def build(inputs: Inputs, context: RunContext) -> dict[str, Any]:
    """The batch to append: the files of `source`, else sample rows for `day` (default: today)."""
    source = context.params.get("source")
    if source:
        files = drop_files(Path(source))
        if not files:
            return {}  # an empty drop is not an error: nothing to append
        return {PORT: Output(open_files(files, contract(context)), mode="append")}
    day = date.fromisoformat(context.params.get("day") or date.today().isoformat())
    return {PORT: Output(sample_events(day), mode="append")}


def drop_files(source: Path) -> list[Path]:
    """`source` itself, or the data files directly inside it, in name order."""
    if not source.exists():
        raise FileNotFoundError(f"source {source} does not exist; give a drop folder or a file with --param source=…")
    if source.is_file():
        return [source]
    return sorted(path for path in source.iterdir() if path.suffix.lower() in SUFFIXES)


def contract(context: RunContext) -> pa.Schema:
    """The Arrow schema of the output port, to parse untyped files with."""
    port = context.lake.product(str(context.descriptor.product_name)).port(PORT)
    return schema_to_pyarrow(port.table().schema())


def sample_events(day: date, count: int = 24) -> pa.Table:
    """Deterministic sample rows for one day, so the product runs before any real source is wired."""
    start = datetime(day.year, day.month, day.day, 8, tzinfo=UTC)
    return pa.table(
        {
            "event_id": [f"EVT-{day:%Y%m%d}-{i:04d}" for i in range(count)],
            "occurred_at": pa.array(
                [start + timedelta(minutes=20 * i) for i in range(count)], pa.timestamp("us", "UTC")
            ),
            "entity_id": [f"C{(i * 7) % 10:04d}" for i in range(count)],
            "event_type": [EVENT_TYPES[i % len(EVENT_TYPES)] for i in range(count)],
            "amount": pa.array(
                [Decimal(f"{5 + (i * 37 + day.toordinal()) % 200}.{i % 100:02d}") for i in range(count)],
                pa.decimal128(12, 2),
            ),
            "channel": [CHANNELS[i % len(CHANNELS)] for i in range(count)],
        }
    )
