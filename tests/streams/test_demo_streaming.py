"""The demo streams drone telemetry when a broker is there, and says how to turn streaming on when not."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

import meshlake as ml
from meshlake.demo import streaming
from tests.stream_services import free_port


def _drones(lake: ml.Lake, tmp_path: Path) -> None:
    folder = tmp_path / "drones"
    shutil.copytree(Path(ml.__file__).parent / "demo" / "products" / "drones", folder)
    lake.deploy(folder)


def test_without_a_broker_the_demo_says_how_to_turn_streaming_on(
    lake: ml.Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _drones(lake, tmp_path)
    monkeypatch.setenv(streaming.NATS_ENV, f"nats://127.0.0.1:{free_port()}")
    done = streaming.stream_telemetry(lake, date(2026, 12, 3))
    assert done.rows == 0 and "streaming off" in done.note and ".ci/nats.sh" in done.note
    assert lake.port(streaming.TELEMETRY).table().metadata.snapshot_by_name("main") is None
