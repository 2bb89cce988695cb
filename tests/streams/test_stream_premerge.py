"""Manifest merges built in the background while a stream runs: swapped into the commits, every row exactly once."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

import meshlake.streams.premerge as premerge_module
from meshlake.errors import ConfigError
from meshlake.quality.records import RESULTS
from meshlake.streams.memory import MemorySource
from meshlake.streams.premerge import ENV
from meshlake.write import manifest_premerge
from tests.streams.conftest import order, port_ids


def _merging_from_3(port: Any) -> Any:
    port.table().transaction().set_properties({"commit.manifest.min-count-to-merge": "3"}).commit_transaction()
    return port


def _feed(source: MemorySource, count: int, every: float) -> threading.Thread:
    def feed() -> None:
        for i in range(count):
            source.publish(order(i))
            time.sleep(every)

    feeder = threading.Thread(target=feed)
    feeder.start()
    return feeder


def test_merges_built_in_the_background_are_swapped_in_and_rows_land_once(
    orders: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(premerge_module, "LOOK_EVERY", 0.0)  # tiers of 3 stay one short for only 3 commits
    port = _merging_from_3(orders())
    source = MemorySource("orders")
    feeder = _feed(source, 45, 0.1)
    report = port.stream(source, max_rows=1, max_wait=0.02, idle=1.5, compact_every=1.0)
    feeder.join()
    assert report.premerges is not None and not report.premerges.errors, report.premerges
    assert report.premerges.swapped >= 1, report.premerges
    assert port_ids(port) == list(range(45))
    table = port.table()
    listed: Counter[str] = Counter()
    snapshot = table.metadata.current_snapshot()
    assert snapshot is not None
    for manifest in snapshot.manifests(table.io):
        for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True):
            listed[entry.data_file.file_path] += 1
    assert listed and set(listed.values()) == {1}, "every live file listed once"
    assert sorted(table.scan().to_arrow().column("order_id").to_pylist()) == list(range(45))
    assert not manifest_premerge._offers, "the offer is settled or withdrawn when the stream ends"


def test_premerging_can_be_turned_off_and_an_unknown_mode_is_refused(
    orders: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    port = orders()
    source = MemorySource("orders")
    for i in range(5):
        source.publish(order(i))
    monkeypatch.setenv(ENV, "no")
    with pytest.raises(ConfigError, match=ENV):
        port.stream(source, max_rows=2, max_wait=0.02, idle=0.3)
    assert port.table().metadata.current_snapshot_id is None
    monkeypatch.setenv(ENV, "off")
    report = port.stream(source, max_rows=2, max_wait=0.02, idle=0.3)
    assert report.premerges is None
    assert port_ids(port) == list(range(5))


def test_the_quality_records_manifests_are_merged_ahead_too(
    orders: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every gated batch appends its verdict to the lake's quality records: their merges are built ahead as well."""
    monkeypatch.setattr(premerge_module, "LOOK_EVERY", 0.0)
    port = orders()
    records = RESULTS.table(port.lake.catalog, None)  # as the first verdict creates it
    records.transaction().set_properties({"commit.manifest.min-count-to-merge": "3"}).commit_transaction()
    source = MemorySource("orders")
    feeder = _feed(source, 45, 0.1)
    report = port.stream(source, max_rows=1, max_wait=0.02, idle=1.5)
    feeder.join()
    assert report.premerges is not None and not report.premerges.errors, report.premerges
    assert report.premerges.records_swapped >= 1, report.premerges
    records = records.refresh()
    snapshot = records.metadata.current_snapshot()
    assert snapshot is not None
    listed: Counter[str] = Counter()
    for manifest in snapshot.manifests(records.io):
        for entry in manifest.fetch_manifest_entry(records.io, discard_deleted=True):
            listed[entry.data_file.file_path] += 1
    assert listed and set(listed.values()) == {1}, "every live records file listed once"
    assert records.scan().to_arrow().num_rows == len(report.batches) == 45, "one verdict row per batch, kept"
    assert not manifest_premerge._offers, "the offers are settled or withdrawn when the stream ends"


def test_a_port_without_expectations_leaves_the_quality_records_alone(
    lake: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No expectations, no gate: its batches append no verdict, so the background thread does not load the quality
    records at every look (it would, for nothing)."""
    import yaml

    from tests.streams.conftest import orders_descriptor

    monkeypatch.setattr(premerge_module, "LOOK_EVERY", 0.0)
    descriptor = orders_descriptor()
    del descriptor["outputs"][0]["expectations"]
    (tmp_path / "orders").mkdir()
    (tmp_path / "orders" / "dataproduct.yaml").write_text(yaml.safe_dump(descriptor), encoding="utf-8")
    port = _merging_from_3(lake.deploy(tmp_path / "orders" / "dataproduct.yaml").port("placed"))
    RESULTS.table(port.lake.catalog, None)  # the lake has quality records (another port's gate made them)
    looked: list[Any] = []
    records = premerge_module._quality_records

    def spied(catalog: Any) -> Any:
        looked.append(catalog)
        return records(catalog)

    monkeypatch.setattr(premerge_module, "_quality_records", spied)
    source = MemorySource("orders")
    feeder = _feed(source, 15, 0.05)
    report = port.stream(source, max_rows=1, max_wait=0.02, idle=1.0)
    feeder.join()
    assert report.premerges is not None and not report.premerges.errors, report.premerges
    assert report.premerges.swapped >= 1, "the port's own merges are still built ahead"
    assert not looked, "the quality records were loaded for a port that writes none"
    assert port_ids(port) == list(range(15))
    assert RESULTS.table(port.lake.catalog, None).scan().to_arrow().num_rows == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a niceness per thread is Linux's")
def test_the_background_merges_run_below_the_streams_batches(
    orders: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tier's merge reads every manifest of the tier: at ~4,600 snapshots the thread building it ahead made the
    stream's commits 120-290 ms for a minute and a half of the 10-minute benchmark, sharing the 2 cores at the same
    priority. It runs below them now."""
    from meshlake.write.priority import BACKGROUND_NICENESS

    port = _merging_from_3(orders())
    stream_niceness = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen: list[int] = []
    once = premerge_module.Premerger.once

    def spied(self: Any, catalog: Any) -> None:
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        once(self, catalog)

    monkeypatch.setattr(premerge_module.Premerger, "once", spied)
    source = MemorySource("orders")
    feeder = _feed(source, 6, 0.05)
    report = port.stream(source, max_rows=1, max_wait=0.02, idle=1.0)
    feeder.join()
    assert seen, "the background thread looked at the port"
    assert set(seen) == {min(stream_niceness + BACKGROUND_NICENESS, 19)}
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == stream_niceness
    assert report.premerges is not None and not report.premerges.errors
    assert port_ids(port) == list(range(6))


def _order_rows(ids: range) -> Any:
    import pyarrow as pa

    return pa.table(
        {
            "order_id": pa.array(list(ids), pa.int64()),
            "drone": [f"d{i % 7}" for i in ids],
            "weight_kg": [2.5 for _ in ids],
            "placed_at": pa.array([1_796_371_200_000_000 for _ in ids], pa.timestamp("us", tz="UTC")),
        }
    )


def test_a_look_reads_no_manifest_of_compacted_files_and_none_twice(
    orders: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each compaction lists a manifest of the files it removed. In the 10-minute stream 15 of them filled a tier
    one short of merging, and every look read all of them again (4,500 removed entries, nothing to merge) for half
    a minute, holding the GIL the stream's commits wait for. The looks drop them unread now, and read no manifest
    twice."""
    from meshlake.catalog.catalogs import open_catalog
    from meshlake.maintenance.compact import compact
    from meshlake.write.live_entries import holds_live_entries
    from meshlake.write.manifest_premerge import withdraw
    from tests.write.test_manifest_merge import manifest_reads

    port = _merging_from_3(orders())
    catalog = open_catalog(port.lake.settings)
    premerger = premerge_module.Premerger(port)
    reads = manifest_reads(monkeypatch)
    looks: list[list[str]] = []
    dead: set[str] = set()
    written = 0

    def write_and_look(count: int) -> None:
        nonlocal written
        for _ in range(count):
            port.write(_order_rows(range(written, written + 1)))
            written += 1
            reads.clear()
            premerger.once(catalog)
            looks.append(list(reads))

    try:
        for round_ in range(3):
            write_and_look(9)
            compact(port.lake.catalog, port.table(), product_version="1.0.0", run_id=f"r{round_}", apply=True)
            table = port.table()
            head = table.metadata.current_snapshot()
            assert head is not None
            dead |= {m.manifest_path for m in head.manifests(table.io) if not holds_live_entries(m)}
        write_and_look(9)
    finally:
        withdraw(port.table())
    assert len(dead) == 3, "each compaction listed a manifest of the files it removed"
    assert premerger.done.errors == []
    assert not dead & {path for look in looks for path in look}, "no manifest of removed files read"
    every = [path for look in looks for path in look]
    assert every, "the tiers' merges were built ahead"
    assert len(every) == len(set(every)), "no manifest read twice"
    assert premerger.done.swapped >= 3
    table = port.table()
    head = table.metadata.current_snapshot()
    assert head is not None
    assert not dead & {m.manifest_path for m in head.manifests(table.io)}, "dropped from the list"
    assert port_ids(port) == list(range(written))
