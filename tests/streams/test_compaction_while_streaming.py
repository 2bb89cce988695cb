"""Small files compacted while a stream runs: every row stays exactly once, and the files stay few."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from meshlake.streams.compactor import ENV
from meshlake.streams.memory import MemorySource
from tests.streams.conftest import order, port_ids
from tests.streams.feeding import compaction_landed, feed_until


@pytest.mark.parametrize("mode", ["process", "thread"])
def test_compaction_runs_while_streaming_and_loses_or_repeats_nothing(
    orders: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    monkeypatch.setenv(ENV, mode)
    port = orders()
    source = MemorySource("orders")

    fed: list[tuple[int, bool]] = []

    def feed() -> None:  # 240 orders at least, then on until a compaction landed (a worker starts slowly)
        fed.append(feed_until(source.publish, lambda: compaction_landed(port), at_least=240, pause=0.1))

    feeder = threading.Thread(target=feed)
    feeder.start()
    report = port.stream(source, max_rows=5, max_wait=0.02, idle=1.5, compact_every=0.4)
    feeder.join()
    ((sent, _),) = fed
    assert report.compactions, report.to_dict()
    assert port_ids(port) == list(range(sent))
    files = len(port.table().inspect.files())
    assert files < len(report.batches), (files, len(report.batches))
    modes = [s.mode for s in port.history()]
    assert "compact" in modes


@pytest.mark.parametrize("every", [0, -1.0, float("nan"), float("inf")])
def test_compact_every_must_be_positive(orders: Callable[..., Any], every: float) -> None:
    port = orders()
    with pytest.raises(ValueError, match="compact_every"):
        port.stream(MemorySource("orders"), compact_every=every)
    assert port.table().metadata.snapshot_by_name("main") is None


def test_compaction_wins_the_race_for_main_against_a_stream_in_the_same_process(
    orders: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A compaction whose commit takes longer than the stream's interval (a big table, a slow store) used to lose
    every race for `main` to the stream, re-base 20 times and give up: after losing once, it now holds the
    process's commit lock across its re-base and commit. The slow commit is made by a pause before each of the
    compaction's commits."""
    import meshlake.maintenance.compact as compact_module
    from meshlake.catalog.catalogs import open_catalog
    from meshlake.streams.compactor import Compactor

    commit = compact_module.commit_snapshot

    def slow_commit(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.3)
        return commit(*args, **kwargs)

    monkeypatch.setattr(compact_module, "commit_snapshot", slow_commit)
    port = orders()
    source = MemorySource("orders")
    for i in range(120):
        source.publish(order(i))
    streaming = threading.Thread(target=lambda: port.stream(source, max_rows=1, max_wait=0.001, idle=0.5))
    streaming.start()
    compactor = Compactor(port, every=1.0, min_files=2)
    catalog = open_catalog(port.lake.settings)
    try:
        while not compactor.done.runs and not compactor.done.errors and streaming.is_alive():
            compactor.once(catalog)
    finally:
        streaming.join()
    assert not compactor.done.errors, compactor.done.errors
    assert [run["rebases"] <= 1 for run in compactor.done.runs] == [True], compactor.done.runs
    assert port_ids(port) == list(range(120))


def test_a_batch_that_waits_for_another_commit_says_so_in_its_phases(
    orders: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stream benchmark tells a slow batch that waited for a compaction's commit from one that was slow on its
    own by the `commit lock wait` phase: held here by another thread for 0.3 s after the batch starts committing."""
    from meshlake.write import flow
    from meshlake.write.commit import commit_lock

    committing = threading.Event()
    commit_loop = flow.commit_loop  # looked up in `flow` by `publish`

    def announced(*args: Any, **kwargs: Any) -> Any:
        committing.set()
        return commit_loop(*args, **kwargs)

    monkeypatch.setattr(flow, "commit_loop", announced)
    port = orders()
    source = MemorySource("orders")
    for i in range(5):
        source.publish(order(i))
    lock = commit_lock(port.table())
    held = threading.Event()

    def hold() -> None:
        with lock:
            held.set()
            committing.wait(30)
            time.sleep(0.3)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    report = port.stream(source, max_rows=5, max_wait=0.02, idle=0.2)
    holder.join()
    (batch,) = report.batches
    assert batch.phases["commit lock wait"] >= 0.2, batch.phases
    assert batch.phases["commit"] >= batch.phases["commit lock wait"]
    assert batch.rebases == 0
    assert port_ids(port) == list(range(5))


def test_batches_compact_after_their_commits_only_when_the_stream_has_no_compactor(
    orders: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from meshlake.contract.autocompact import MIN_FILES_PROPERTY

    monkeypatch.setenv(ENV, "thread")
    port = orders()
    port.table().transaction().set_properties({MIN_FILES_PROPERTY: "5"}).commit_transaction()
    source = MemorySource("orders")
    for i in range(12):
        source.publish(order(i))
    port.stream(source, max_rows=1, max_wait=0.001, idle=0.3, compact_every=3600)  # its compactor never runs
    assert len(port.latest().plan.tasks) == 12 and "compact" not in [s.mode for s in port.history()]

    for i in range(12, 15):
        source.publish(order(i))
    port.stream(source, max_rows=1, max_wait=0.001, idle=0.3)

    assert "compact" in [s.mode for s in port.history()]
    assert len(port.latest().plan.tasks) < 15 and port_ids(port) == list(range(15))
