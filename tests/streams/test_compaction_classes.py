"""The stream's compactor keeps to size classes (`MESHLAKE_STREAM_COMPACTION_CLASSES`): a file it compacted is not
rewritten with every later run's small files — on a real embedded lake."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pytest

from meshlake.catalog.catalogs import open_catalog
from meshlake.errors import ConfigError
from meshlake.maintenance.auto_compact import suspended
from meshlake.maintenance.compact import size_class
from meshlake.streams.compactor import CLASSES_ENV, MIN_FILES, Compactor
from meshlake.streams.memory import MemorySource
from tests.streams.conftest import order, port_ids


def orders_table(ids: range, drone: Callable[[int], str] = lambda i: f"d{i % 7}") -> pa.Table:
    return pa.table(
        {
            "order_id": pa.array(list(ids), pa.int64()),
            "drone": pa.array([drone(i) for i in ids], pa.string()),
            "weight_kg": pa.array([2.5] * len(ids), pa.float64()),
            "placed_at": pa.array([datetime(2026, 12, 4, tzinfo=UTC)] * len(ids), pa.timestamp("us", tz="UTC")),
        }
    )


def paths(port: Any) -> set[str]:
    return {task.path for task in port.latest().plan.tasks}


@pytest.mark.parametrize("classes", ["on", "off"])
def test_a_compacted_file_is_rewritten_only_with_files_of_its_size(
    orders: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, classes: str
) -> None:
    monkeypatch.setenv(CLASSES_ENV, classes)
    port = orders()
    with suspended():
        port.write(orders_table(range(40_000), drone=lambda _: os.urandom(16).hex()))
        (big,) = port.latest().plan.tasks
        assert size_class(big.file_size) == 1, "256 KB to 2 MB: small for compaction, of a class above one batch's"
        for index in range(MIN_FILES):
            port.write(orders_table(range(100_000 + index * 10, 100_000 + index * 10 + 10)))
    compactor = Compactor(port, every=60.0)

    compactor.once(open_catalog(port.lake.settings))

    assert not compactor.done.errors, compactor.done.errors
    (run,) = compactor.done.runs
    if classes == "on":
        assert run["files_before"] == MIN_FILES and big.path in paths(port) and len(paths(port)) == 2
    else:
        assert run["files_before"] == MIN_FILES + 1 and big.path not in paths(port) and len(paths(port)) == 1
    assert port_ids(port) == [*range(40_000), *range(100_000, 100_000 + MIN_FILES * 10)]


def test_an_unknown_classes_switch_is_refused_before_the_stream_reads_a_message(
    orders: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CLASSES_ENV, "sometimes")
    port = orders()
    source = MemorySource("orders")
    source.publish(order(0))

    with pytest.raises(ConfigError) as refused:
        port.stream(source, compact_every=1.0, idle=0.2)

    assert refused.value.key == CLASSES_ENV and "on, off" in str(refused.value)
    assert port.table().metadata.snapshot_by_name("main") is None
    monkeypatch.delenv(CLASSES_ENV)
    report = port.stream(source, idle=0.2)
    assert port_ids(port) == [0] and len(report.batches) == 1, "the message was left for the next run"
