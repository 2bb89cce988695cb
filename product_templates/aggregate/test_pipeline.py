"""Tests of {{domain}}.{{product}}: a real embedded lake in a temporary folder, the real pipeline, no mocks.

The input products are created here with minimal descriptors (only the columns the pipeline reads) and a
few sample rows, so the test needs nothing but this folder.

    pytest {{dir}}/test_pipeline.py
"""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml

import meshlake as ml

PRODUCT = Path(__file__).resolve().parent
DAILY = "{{domain}}.{{product}}.daily"
EVENTS = "{{inputs.events}}"
EVENT_COLUMNS = [
    {"name": "event_id", "type": "string", "required": True},
    {"name": "occurred_at", "type": "timestamptz", "required": True},
    {"name": "entity_id", "type": "string", "required": True},
    {"name": "event_type", "type": "string", "required": True},
    {"name": "amount", "type": "decimal(12,2)"},
]


def events(*rows: tuple[str, str, str, str, str | None]) -> pa.Table:
    """Input rows: (event_id, ISO time, entity_id, event_type, amount)."""
    return pa.table(
        {
            "event_id": [r[0] for r in rows],
            "occurred_at": pa.array([datetime.fromisoformat(r[1]) for r in rows], pa.timestamp("us", "UTC")),
            "entity_id": [r[2] for r in rows],
            "event_type": [r[3] for r in rows],
            "amount": pa.array([Decimal(r[4]) if r[4] else None for r in rows], pa.decimal128(12, 2)),
        }
    )


def deploy_inputs(lake: ml.Lake, folder: Path, ports: dict[str, list[dict[str, Any]]]) -> None:
    """Deploy one minimal product per input product, with the given ports (address → columns)."""
    by_product: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for address, columns in ports.items():
        domain, name, port = address.split(".")
        by_product[f"{domain}.{name}"].append({"name": port, "columns": columns})
    for product, outputs in by_product.items():
        domain, name = product.split(".")
        descriptor = {
            "apiVersion": "meshlake/v1",
            "domain": domain,
            "name": name,
            "version": "1.0.0",
            "owner": {"team": "upstream"},
            "outputs": outputs,
        }
        path = folder / "inputs" / product / "dataproduct.yaml"
        path.parent.mkdir(parents=True)
        path.write_text(yaml.safe_dump(descriptor, sort_keys=False))
        lake.deploy(path)


@pytest.fixture
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ml.Lake:
    """A fresh embedded lake with the inputs and this product deployed; MESHLAKE_* and meshlake.yaml are ignored."""
    for name in list(os.environ):
        if name.startswith("MESHLAKE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    lake = ml.connect(home=str(tmp_path / ".meshlake"))
    deploy_inputs(lake, tmp_path, {EVENTS: EVENT_COLUMNS})
    lake.deploy(PRODUCT)
    lake.port(EVENTS).write(
        events(
            ("E-1", "2026-11-01T09:00:00+00:00", "C1", "created", "10.00"),
            ("E-2", "2026-11-01T11:30:00+00:00", "C2", "created", "5.50"),
            ("E-3", "2026-11-01T23:59:00+00:00", "C1", "completed", "10.00"),
            ("E-4", "2026-11-02T00:01:00+00:00", "C3", "created", None),
        )
    )
    return lake


def daily_rows(lake: ml.Lake) -> list[dict[str, Any]]:
    return lake.port(DAILY).latest().to_arrow().sort_by([("day", "ascending"), ("event_type", "ascending")]).to_pylist()


def test_a_run_writes_one_day_stamped_with_the_input_snapshot_it_read(lake: ml.Lake) -> None:
    read = lake.port(EVENTS).latest().snapshot_id

    result = lake.run(PRODUCT, params={"day": "2026-11-01"})

    assert daily_rows(lake) == [
        {
            "day": date(2026, 11, 1),
            "event_type": "completed",
            "events": 1,
            "entities": 1,
            "total_amount": Decimal("10.00"),
        },
        {
            "day": date(2026, 11, 1),
            "event_type": "created",
            "events": 2,
            "entities": 2,
            "total_amount": Decimal("15.50"),
        },
    ]
    written = result.outputs["daily"]
    assert written.quality is not None and written.quality.passed
    assert result.inputs == {EVENTS: read}
    assert lake.port(DAILY).latest().stamps["inputs"] == {EVENTS: read}


def test_rerunning_a_day_replaces_only_that_day(lake: ml.Lake) -> None:
    lake.run(PRODUCT, params={"day": "2026-11-01"})
    lake.run(PRODUCT)  # default: the latest day of the input, 2026-11-02
    lake.port(EVENTS).write(events(("E-5", "2026-11-01T15:00:00+00:00", "C4", "created", "1.25")))  # a late event

    lake.run(PRODUCT, params={"day": "2026-11-01"})

    counts = {(row["day"].isoformat(), row["event_type"]): row["events"] for row in daily_rows(lake)}
    assert counts == {("2026-11-01", "completed"): 1, ("2026-11-01", "created"): 3, ("2026-11-02", "created"): 1}
    assert [entry.mode for entry in lake.port(DAILY).history()] == ["replace", "replace", "replace"]
