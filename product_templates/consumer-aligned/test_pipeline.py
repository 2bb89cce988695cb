"""Tests of {{domain}}.{{product}}: a real embedded lake in a temporary folder, the real pipeline, no mocks.

The input products are created here with minimal descriptors (only the columns the pipeline reads) and a
few sample rows, so the test needs nothing but this folder.

    pytest {{dir}}/test_pipeline.py
"""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml

import meshlake as ml

PRODUCT = Path(__file__).resolve().parent
REPORT = "{{domain}}.{{product}}.weekly_report"
DAILY = "{{inputs.daily}}"
DAILY_COLUMNS = [
    {"name": "day", "type": "date", "required": True},
    {"name": "event_type", "type": "string", "required": True},
    {"name": "events", "type": "long", "required": True},
    {"name": "total_amount", "type": "decimal(18,2)"},
]


def daily(*rows: tuple[str, str, int, str]) -> pa.Table:
    """Input rows: (ISO day, event_type, events, total_amount)."""
    return pa.table(
        {
            "day": pa.array([date.fromisoformat(r[0]) for r in rows], pa.date32()),
            "event_type": [r[1] for r in rows],
            "events": pa.array([r[2] for r in rows], pa.int64()),
            "total_amount": pa.array([Decimal(r[3]) for r in rows], pa.decimal128(18, 2)),
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
    deploy_inputs(lake, tmp_path, {DAILY: DAILY_COLUMNS})
    lake.deploy(PRODUCT)
    lake.port(DAILY).write(
        daily(
            ("2026-11-02", "created", 10, "100.00"),
            ("2026-11-03", "created", 6, "60.00"),
            ("2026-11-09", "created", 12, "150.00"),
            ("2026-11-10", "cancelled", 2, "0.00"),
        )
    )
    return lake


def report_rows(lake: ml.Lake) -> list[dict[str, Any]]:
    table = lake.port(REPORT).latest().to_arrow()
    return table.sort_by([("week_start", "ascending"), ("event_type", "ascending")]).to_pylist()


def test_the_report_has_one_row_per_week_and_event_type(lake: ml.Lake) -> None:
    read = lake.port(DAILY).latest().snapshot_id

    result = lake.run(PRODUCT)

    assert report_rows(lake) == [
        {
            "week_start": date(2026, 11, 2),
            "event_type": "created",
            "events": 16,
            "total_amount": Decimal("160.00"),
            "avg_events_per_day": 8.0,
            "change_vs_prior_week": None,
        },
        {
            "week_start": date(2026, 11, 9),
            "event_type": "cancelled",
            "events": 2,
            "total_amount": Decimal("0.00"),
            "avg_events_per_day": 2.0,
            "change_vs_prior_week": None,
        },
        {
            "week_start": date(2026, 11, 9),
            "event_type": "created",
            "events": 12,
            "total_amount": Decimal("150.00"),
            "avg_events_per_day": 12.0,
            "change_vs_prior_week": -0.25,
        },
    ]
    written = result.outputs["weekly_report"]
    assert written.quality is not None and written.quality.passed
    assert lake.port(REPORT).latest().stamps["inputs"] == {DAILY: read}


def test_each_run_overwrites_the_report(lake: ml.Lake) -> None:
    lake.run(PRODUCT)

    lake.run(PRODUCT, params={"weeks": "1"})

    assert {row["week_start"] for row in report_rows(lake)} == {date(2026, 11, 9)}
    assert [entry.mode for entry in lake.port(REPORT).history()] == ["overwrite", "overwrite"]
