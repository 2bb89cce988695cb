"""`port.stream`: micro-batches committed exactly once, offsets in the port, every bad input refused or kept."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

import meshlake as ml
from meshlake.errors import (
    CommitConflictError,
    DescriptorError,
    InvalidNameError,
    StreamGapError,
    StreamSourceMismatchError,
    StreamSourceUnavailableError,
    StreamStoppedError,
)
from meshlake.streams.memory import MemorySource
from meshlake.streams.offsets import recorded_offsets, refuse_concurrent_consumer, stream_stamps, unprefixed
from tests.streams.conftest import order, orders_descriptor, port_ids

FAST = {"max_wait": 0.05, "idle": 0.3}


def _publish(source: MemorySource, ids: range, *, partitions: int = 1, weight: float = 2.5) -> None:
    for i in ids:
        source.publish(order(i, weight), partition=str(i % partitions))


def _summary(port: Any) -> dict[str, str]:
    return dict(port.table().metadata.snapshot_by_name("main").summary.additional_properties)


def _head(port: Any) -> int | None:
    snapshot = port.table().metadata.snapshot_by_name("main")
    return snapshot.snapshot_id if snapshot else None


def test_stream_commits_one_snapshot_per_batch_with_next_offsets(orders: Callable[..., Any]) -> None:
    port = orders()
    source = MemorySource("orders", partitions=2)
    _publish(source, range(30), partitions=2)
    report = port.stream(source, max_rows=10, **FAST)
    assert [b.rows for b in report.batches] == [10, 10, 10]
    assert len(port.history()) == 3
    assert port_ids(port) == list(range(30))
    assert json.loads(_summary(port)["meshlake.stream.orders"]) == {"0": 15, "1": 15}
    assert _summary(port)["meshlake.stream-source.orders"] == "memory:orders"
    assert report.offsets == {"0": 15, "1": 15}


def test_stream_resumes_from_the_ports_offsets_not_the_brokers_acknowledgements(orders: Callable[..., Any]) -> None:
    port = orders()
    source = MemorySource("orders")
    _publish(source, range(12))
    port.stream(source, max_rows=5, **FAST)
    source.acknowledged = {}  # the broker forgot every ack: resuming must not care
    _publish(source, range(12, 20))
    again = MemorySource("orders")  # a new consumer process, same stream
    again._messages, again._first = source._messages, source._first
    report = port.stream(again, max_rows=100, **FAST)
    assert report.resumed_from == {"0": 12}
    assert port_ids(port) == list(range(20))


@pytest.mark.parametrize(
    ("limits", "sizes"),
    [({"max_rows": 4}, [4, 4, 2]), ({"max_bytes": 300}, None), ({"max_rows": 1000, "max_wait": 0.05}, [10])],
    ids=["rows", "bytes", "time"],
)
def test_a_batch_closes_on_rows_bytes_or_time(
    orders: Callable[..., Any], limits: dict[str, Any], sizes: list[int] | None
) -> None:
    port = orders()
    source = MemorySource("orders")
    _publish(source, range(10))
    report = port.stream(source, **{**FAST, **limits})
    got = [b.rows for b in report.batches]
    if sizes is not None:
        assert got == sizes
    else:
        per_message = len(order(0))
        assert all((rows - 1) * per_message < 300 for rows in got) and len(got) > 1
    assert port_ids(port) == list(range(10))


def test_stream_stops_after_max_batches(orders: Callable[..., Any]) -> None:
    port = orders()
    source = MemorySource("orders")
    _publish(source, range(10))
    report = port.stream(source, max_rows=3, max_batches=2, **FAST)
    assert len(report.batches) == 2
    assert port_ids(port) == list(range(6))


def test_source_id_reused_for_another_stream_is_refused(orders: Callable[..., Any]) -> None:
    port = orders()
    first = MemorySource("orders", name="eu-orders")
    _publish(first, range(3))
    port.stream(first, **FAST)
    head = _head(port)
    other = MemorySource("orders", name="us-orders")
    _publish(other, range(100, 103))
    with pytest.raises(StreamSourceMismatchError) as refused:
        port.stream(other, **FAST)
    assert refused.value.recorded == "memory:eu-orders"
    assert refused.value.given == "memory:us-orders"
    assert _head(port) == head
    assert other.fetches == 0


def test_offsets_the_broker_dropped_are_refused_with_the_gap_named(orders: Callable[..., Any]) -> None:
    port = orders()
    source = MemorySource("orders")
    _publish(source, range(5))
    port.stream(source, **FAST)
    head = _head(port)
    _publish(source, range(5, 10))
    source.trim("0", before=8)  # retention dropped offsets 5..7, which the port still needs
    with pytest.raises(StreamGapError) as refused:
        port.stream(source, **FAST)
    assert refused.value.gaps == [("0", "5", "8")]
    assert _head(port) == head
    report = port.stream(source, start={"0": 8}, **FAST)  # accepting the gap is explicit
    assert report.resumed_from == {"0": 8}
    assert port_ids(port) == [0, 1, 2, 3, 4, 8, 9]


def test_a_gap_opening_while_the_stream_runs_stops_it_with_the_gap_named(orders: Callable[..., Any]) -> None:
    port = orders()
    source = MemorySource("orders")
    _publish(source, range(30))

    def retention_drops_unconsumed(batch: Any) -> None:
        if batch.offsets == {"0": 10}:
            source.trim("0", before=25)  # offsets 10..24 dropped while the port still needs them

    with pytest.raises(StreamGapError) as refused:
        port.stream(source, max_rows=10, on_batch=retention_drops_unconsumed, **FAST)
    assert refused.value.gaps == [("0", "10", "25")] and refused.value.mid_run
    assert port_ids(port) == list(range(10)), "nothing after the gap was committed"
    assert recorded_offsets(port.table(), "orders").positions == {"0": 10}
    with pytest.raises(StreamGapError):  # and a restart refuses it as well
        port.stream(source, **FAST)


class _DropsAfterFirstFetch(MemorySource):
    """Retention runs between two fetches of one batch: offsets 10..14 go before the port reads them."""

    def fetch(self, positions: Any, *, max_messages: int, timeout: float) -> list[Any]:
        if self.fetches == 1:
            _publish(self, range(10, 20))
            self.trim("0", before=15)
        return super().fetch(positions, max_messages=max_messages, timeout=timeout)


def test_a_gap_inside_a_batch_commits_the_messages_before_it_then_stops(orders: Callable[..., Any]) -> None:
    port = orders()
    source = _DropsAfterFirstFetch("orders")
    _publish(source, range(10))
    with pytest.raises(StreamGapError) as refused:
        port.stream(source, max_rows=100, max_wait=0.5, idle=0.3)
    assert refused.value.gaps == [("0", "10", "15")]
    assert port_ids(port) == list(range(10))
    assert recorded_offsets(port.table(), "orders").positions == {"0": 10}


def test_retention_of_consumed_messages_while_streaming_is_no_gap(orders: Callable[..., Any]) -> None:
    port = orders()
    source = MemorySource("orders")
    _publish(source, range(30))

    def retention_drops_consumed(batch: Any) -> None:
        source.trim("0", before=int(batch.offsets["0"]))

    report = port.stream(source, max_rows=10, on_batch=retention_drops_consumed, **FAST)
    assert report.rows == 30 and port_ids(port) == list(range(30))


def test_malformed_messages_are_kept_with_their_offsets_under_skip(lake: ml.Lake, orders: Callable[..., Any]) -> None:
    port = orders(on_failure="skip")
    source = MemorySource("orders")
    _publish(source, range(3))
    bad = [
        source.publish(b"not json"),
        source.publish(b"[1, 2]"),
        source.publish(b'{"order_id": "seven", "placed_at": "2026-12-04T08:00:00Z"}'),
        source.publish(b'{"order_id": 8}'),  # a required column missing
        source.publish(b'{"order_id": 9, "placed_at": "2026-12-04T08:00:00", "drone": "x"}'),  # no zone
        source.publish(b'{"order_id": 10, "placed_at": "2026-12-04T08:00:00Z", "colour": "red"}'),
    ]
    _publish(source, range(20, 23))
    report = port.stream(source, **FAST)
    assert report.rejected == len(bad)
    assert port_ids(port) == [0, 1, 2, 20, 21, 22]
    rows = lake.sql(
        "SELECT position, payload, reason FROM meshlake.system.stream_rejects WHERE source_id = 'orders' "
        "ORDER BY CAST(position AS INT)"
    ).fetchall()
    assert [int(r[0]) for r in rows] == bad
    assert rows[0][1] == b"not json"
    assert "order_id" in rows[2][2] and "placed_at" in rows[3][2] and "colour" in rows[5][2]
    assert json.loads(_summary(port)["meshlake.stream.orders"]) == {"0": 12}


def test_a_malformed_message_stops_the_stream_under_stop(lake: ml.Lake, orders: Callable[..., Any]) -> None:
    port = orders()
    source = MemorySource("orders")
    _publish(source, range(3))
    source.publish(b"{broken")
    with pytest.raises(StreamStoppedError) as stopped:
        port.stream(source, **FAST)
    assert stopped.value.quarantine_branch is None
    assert _head(port) is None
    assert lake.sql("SELECT count(*) FROM meshlake.system.stream_rejects").fetchall() == [(1,)]
    with pytest.raises(StreamStoppedError):  # started again: the same message stops it again
        port.stream(source, **FAST)
    assert lake.sql("SELECT count(*) FROM meshlake.system.stream_rejects").fetchall() == [(1,)], "recorded once"


def test_a_batch_failing_its_gate_is_quarantined_with_offsets_and_stops(orders: Callable[..., Any]) -> None:
    port = orders()
    source = MemorySource("orders")
    _publish(source, range(3))
    port.stream(source, **FAST)
    head = _head(port)
    _publish(source, range(3, 6), weight=99.0)  # the gate allows 0..50 kg
    with pytest.raises(StreamStoppedError) as stopped:
        port.stream(source, **FAST)
    branch = stopped.value.quarantine_branch
    assert branch is not None and _head(port) == head
    quarantined = port.table().metadata.snapshot_by_name(branch)
    assert json.loads(quarantined.summary.additional_properties["meshlake.stream.orders"]) == {"0": 6}
    with pytest.raises(StreamStoppedError):  # a restart does not skip the failed batch under `stop`
        port.stream(source, **FAST)
    assert _head(port) == head


def test_skip_consumes_past_a_failing_batch_and_a_restart_does_not_read_it_again(orders: Callable[..., Any]) -> None:
    port = orders(on_failure="skip")
    source = MemorySource("orders")
    _publish(source, range(3))
    _publish(source, range(3, 6), weight=99.0)
    report = port.stream(source, max_rows=3, **FAST)
    assert len(report.quarantined) == 1
    assert port_ids(port) == [0, 1, 2]
    report = port.stream(source, max_rows=3, **FAST)
    assert report.resumed_from == {"0": 6} and report.batches == []
    _publish(source, range(6, 9))
    port.stream(source, max_rows=3, **FAST)
    assert port_ids(port) == [0, 1, 2, 6, 7, 8]


def test_releasing_a_skipped_batch_does_not_move_the_stream_back(orders: Callable[..., Any]) -> None:
    port = orders(on_failure="skip")
    source = MemorySource("orders")
    _publish(source, range(3), weight=99.0)
    _publish(source, range(3, 6))
    report = port.stream(source, max_rows=3, **FAST)
    port.quarantine().release(report.quarantined[0], force=True, reason="weights re-checked")
    assert recorded_offsets(port.table(), "orders").positions == {"0": 6}
    assert port.stream(source, **FAST).batches == []
    assert port_ids(port) == list(range(6))


def test_an_unreachable_broker_is_retried_with_backoff(orders: Callable[..., Any]) -> None:
    port = orders()
    source = MemorySource("orders")
    _publish(source, range(4))
    source.fail_next(3)
    report = port.stream(source, **FAST)
    assert report.retries == 3
    assert port_ids(port) == list(range(4))


def test_a_broker_down_beyond_retry_for_stops_with_a_clear_error(orders: Callable[..., Any]) -> None:
    port = orders()
    source = MemorySource("orders")
    _publish(source, range(4))
    source.fail_next(1000)
    with pytest.raises(StreamSourceUnavailableError) as down:
        port.stream(source, retry_for=0.5, **FAST)
    assert down.value.attempts >= 2 and "unreachable" in down.value.cause
    assert _head(port) is None


def test_a_second_consumer_of_the_same_source_is_refused_on_rebase(orders: Callable[..., Any]) -> None:
    port = orders()
    port.write(_rows(1))
    base = _head(port)
    check = refuse_concurrent_consumer("orders", str(port.address))
    port.write(_rows(2))  # another writer, not a stream: rebasing onto it is fine
    check(port.table(), base, _head(port))
    port.write(_rows(3), stamps=unprefixed(stream_stamps("orders", "memory:orders", {"0": 3}, "stop")))
    with pytest.raises(CommitConflictError):
        check(port.table(), base, _head(port))


def _rows(order_id: int) -> Any:
    import pyarrow as pa

    return pa.Table.from_pylist([json.loads(order(order_id))]).set_column(
        3, "placed_at", pa.array([__import__("datetime").datetime(2026, 12, 4, tzinfo=__import__("datetime").UTC)])
    )


def test_a_bad_source_id_is_refused(orders: Callable[..., Any]) -> None:
    port = orders()
    with pytest.raises(InvalidNameError):
        port.stream(MemorySource("Orders-EU"), **FAST)


@pytest.mark.parametrize("limits", [{"max_rows": 0}, {"max_bytes": 0}, {"max_wait": 0}, {"max_batches": 0}])
def test_limits_outside_their_range_are_refused(orders: Callable[..., Any], limits: dict[str, Any]) -> None:
    port = orders()
    with pytest.raises(ValueError, match=next(iter(limits))):
        port.stream(MemorySource("orders"), **limits)


@pytest.mark.parametrize(
    ("port_fields", "field"),
    [({"stream": {"on_failure": "retry"}}, "on_failure"), ({"serve": ["stream"]}, "serve")],
)
def test_descriptor_refuses_a_bad_stream_policy_or_serve(
    lake: ml.Lake, write_descriptor: Callable[[dict[str, Any]], Any], port_fields: dict[str, Any], field: str
) -> None:
    descriptor = orders_descriptor()
    descriptor["outputs"][0].update(port_fields)
    with pytest.raises(DescriptorError, match=field):
        lake.deploy(write_descriptor(descriptor))
