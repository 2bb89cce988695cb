"""Tests of {{domain}}.{{product}}: a real embedded lake in a temporary folder, the real pipeline, no mocks.

pytest {{dir}}/test_pipeline.py
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

import meshlake as ml

PRODUCT = Path(__file__).resolve().parent
EVENTS = "{{domain}}.{{product}}.events"


@pytest.fixture
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ml.Lake:
    """A fresh embedded lake with this product deployed; your MESHLAKE_* settings and meshlake.yaml are ignored."""
    for name in list(os.environ):
        if name.startswith("MESHLAKE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    lake = ml.connect(home=str(tmp_path / ".meshlake"))
    lake.deploy(PRODUCT)
    return lake


def test_sample_batches_are_appended_day_by_day(lake: ml.Lake) -> None:
    first = lake.run(PRODUCT, params={"day": "2026-11-01"})
    lake.run(PRODUCT, params={"day": "2026-11-02"})

    written = first.outputs["events"]
    assert written.rows == 24
    assert written.quality is not None and written.quality.passed
    port = lake.port(EVENTS)
    assert port.latest().to_arrow().num_rows == 48
    assert [entry.mode for entry in port.history()] == ["append", "append"]
    assert port.latest().stamps["quality"]["verdict"] == "passed"


def test_drop_folder_files_are_parsed_with_the_contract_types(lake: ml.Lake, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "batch-0001.csv").write_text(
        "event_id,occurred_at,entity_id,event_type,amount,channel\n"
        "E-1,2026-11-01T09:30:00Z,C0001,created,19.90,web\n"
        "E-2,2026-11-01T10:00:00Z,C0002,completed,,app\n"
    )
    lake.run(PRODUCT, params={"source": str(drop)})

    rows = lake.port(EVENTS).latest().to_arrow().sort_by("event_id").to_pylist()
    assert rows == [
        {
            "event_id": "E-1",
            "occurred_at": datetime(2026, 11, 1, 9, 30, tzinfo=UTC),
            "entity_id": "C0001",
            "event_type": "created",
            "amount": Decimal("19.90"),
            "channel": "web",
        },
        {
            "event_id": "E-2",
            "occurred_at": datetime(2026, 11, 1, 10, 0, tzinfo=UTC),
            "entity_id": "C0002",
            "event_type": "completed",
            "amount": None,
            "channel": "app",
        },
    ]


def test_a_batch_loaded_twice_is_stopped_by_the_gate(lake: ml.Lake) -> None:
    lake.run(PRODUCT, params={"day": "2026-11-01"})
    published = lake.port(EVENTS).latest().snapshot_id

    with pytest.raises(ml.QualityGateError) as stopped:
        lake.run(PRODUCT, params={"day": "2026-11-01"})

    assert [result.expectation for result in stopped.value.report.failed] == ["expect_column_values_to_be_unique"]
    assert lake.port(EVENTS).latest().snapshot_id == published
