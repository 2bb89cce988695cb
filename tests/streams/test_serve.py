"""`serve: [table, stream]`: each committed snapshot's new rows published once, by snapshot id, even after a crash."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

import meshlake as ml
from meshlake.errors import DescriptorError, StreamNotServedError
from meshlake.streams.memory import MemorySource
from meshlake.streams.serve import MemorySink
from tests.streams.conftest import order, orders_descriptor

FAST = {"max_wait": 0.05, "idle": 0.3}


def _bodies(sink: MemorySink) -> list[dict[str, Any]]:
    return [json.loads(payload) for _, _, payload in sink.messages]


def test_a_streamed_port_serves_each_snapshot_once_with_its_id(orders: Callable[..., Any]) -> None:
    port = orders(serve=["table", "stream"])
    source, sink = MemorySource("orders"), MemorySink()
    for i in range(7):
        source.publish(order(i))
    report = port.stream(source, max_rows=3, serve=sink, **FAST)
    snapshots = [b.snapshot_id for b in report.batches]
    assert report.served == snapshots
    bodies = _bodies(sink)
    assert [b["snapshot_id"] for b in bodies] == snapshots
    assert {m[0] for m in sink.messages} == {"sales.orders.placed"}
    assert [m[1] for m in sink.messages] == [f"{s}:0/1" for s in snapshots]
    assert sorted(r["order_id"] for b in bodies for r in b["rows"]) == list(range(7))
    assert bodies[0]["rows"][0]["placed_at"].startswith("2026-12-04T08:00:00")


def test_a_crash_between_commit_and_publish_republishes_without_duplicates(orders: Callable[..., Any]) -> None:
    port = orders(serve=["table", "stream"])
    sink = MemorySink()
    port.stream(_source(range(3)), serve=sink, **FAST)
    port.write(_source_rows(port, range(3, 5)))  # committed, never published (as if the publisher died)
    port.write(_source_rows(port, range(5, 9)))
    report = port.serve_stream(sink, rows_per_message=3)
    assert len(report.published) == 2
    again = port.serve_stream(sink)
    assert again.published == [] and again.messages == 0
    ids = sorted(r["order_id"] for b in _bodies(sink) for r in b["rows"])
    assert ids == list(range(9))
    assert len({m[1] for m in sink.messages}) == len(sink.messages)


def test_a_publish_cut_midway_resumes_at_the_next_part(orders: Callable[..., Any]) -> None:
    port = orders(serve=["table", "stream"])
    port.write(_source_rows(port, range(10)))
    sink = MemorySink()
    sink.fail_after = 2  # the broker goes away after two of the four parts
    with pytest.raises(ConnectionError):
        port.serve_stream(sink, rows_per_message=3)
    sink.fail_after = None
    port.serve_stream(sink, rows_per_message=3)
    assert [b["part"] for b in _bodies(sink)] == [0, 1, 2, 3]
    assert sorted(r["order_id"] for b in _bodies(sink) for r in b["rows"]) == list(range(10))


def test_serving_a_port_that_does_not_declare_it_is_refused(orders: Callable[..., Any]) -> None:
    port = orders()
    sink = MemorySink()
    with pytest.raises(StreamNotServedError):
        port.serve_stream(sink)
    with pytest.raises(StreamNotServedError):
        port.stream(MemorySource("orders"), serve=sink, **FAST)
    assert sink.messages == []


def _restricted_orders(**access: Any) -> dict[str, Any]:
    """The orders port serving a stream, its `drone` column masked and a row filter for heavy orders' staff."""
    descriptor = orders_descriptor(serve=["table", "stream"])
    port = descriptor["outputs"][0]
    port["columns"][1]["mask"] = "mask-alphanum"
    port["expectations"] = []
    port["access"] = {
        "readers": ["*"],
        "row_filters": [{"principals": ["group:light"], "where": "weight_kg < 10"}],
        **access,
    }
    return descriptor


def test_a_served_stream_carries_what_every_broker_reader_may_read(
    lake: ml.Lake, write_descriptor: Callable[..., Any]
) -> None:
    """A broker's subscribers are outside meshlake's checks: masked columns are published masked, and only rows
    every row filter lets through (a filtered reader may be among the subscribers)."""
    from meshlake.access.masks import mask_alphanum

    port = lake.deploy(write_descriptor(_restricted_orders())).port("placed")
    source, sink = MemorySource("orders"), MemorySink()
    for i in range(6):
        source.publish(order(i, weight=2.5 if i % 2 else 20.0))
    report = port.stream(source, max_rows=3, serve=sink, **FAST)

    rows = [r for b in _bodies(sink) for r in b["rows"]]
    assert report.served == [b.snapshot_id for b in report.batches]
    assert sorted(r["order_id"] for r in rows) == [1, 3, 5], "only rows the row filter lets through"
    assert {r["drone"] for r in rows} == {mask_alphanum(f"d{i % 7}") for i in (1, 3, 5)} != {"d1", "d3", "d5"}
    assert sorted(port.latest().to_arrow().column("order_id").to_pylist()) == list(range(6)), "the table is whole"


def test_broker_readers_who_are_all_unmasked_get_the_columns_as_they_are(
    lake: ml.Lake, write_descriptor: Callable[..., Any]
) -> None:
    descriptor = _restricted_orders(broker_readers=["group:support"], unmasked=["group:support"])
    port = lake.deploy(write_descriptor(descriptor)).port("placed")
    source, sink = MemorySource("orders"), MemorySink()
    source.publish(order(1, weight=2.5))
    port.stream(source, serve=sink, **FAST)
    assert [r["drone"] for b in _bodies(sink) for r in b["rows"]] == ["d1"]


@pytest.mark.parametrize(
    ("access", "serve"),
    [
        ({"readers": ["group:finance"]}, ["table", "stream"]),  # broker readers default to `*`: not all readers
        ({"readers": ["group:finance"], "broker_readers": ["group:support"]}, ["table", "stream"]),
        ({"readers": ["*"], "broker_readers": ["group:support"]}, ["table"]),  # says who reads no stream
    ],
)
def test_a_stream_reaching_principals_who_may_not_read_the_port_is_refused(
    lake: ml.Lake, write_descriptor: Callable[..., Any], access: dict[str, Any], serve: list[str]
) -> None:
    descriptor = orders_descriptor(serve=serve)
    descriptor["outputs"][0]["access"] = access
    with pytest.raises(DescriptorError, match="broker_readers"):
        lake.deploy(write_descriptor(descriptor))
    assert lake.products() == [], "nothing deployed"


def _source(ids: range) -> MemorySource:
    source = MemorySource("orders")
    for i in ids:
        source.publish(order(i))
    return source


def _source_rows(port: Any, ids: range) -> Any:
    from meshlake.streams.decode import decode_batch

    source = _source(ids)
    messages = source.fetch({}, max_messages=1000, timeout=0)
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    rows, _ = decode_batch(messages, schema_to_pyarrow(port.table().schema(), include_field_ids=True), "x")
    return rows


def test_serving_to_everyone_a_port_whose_default_readers_are_fewer_is_refused(
    tmp_path: Any, write_descriptor: Callable[..., Any]
) -> None:
    """A port without `readers` falls back to the mesh's default readers, known only when serving: a stream that
    would reach everyone is refused when they are fewer, and nothing is published."""
    from meshlake.access.policy import MeshPolicy
    from meshlake.contract.principals import Principal
    from meshlake.errors import AccessDeniedError

    admin = ml.connect(home=str(tmp_path / "mesh"), principal="user:root", groups=["platform"])
    admin.init_access(["group:platform"])
    policy = MeshPolicy(admins=[Principal.parse("group:platform")], default_readers=[Principal.parse("group:staff")])
    admin.publish_access_policy(policy)
    port = admin.deploy(write_descriptor(orders_descriptor(serve=["table", "stream"]))).port("placed")
    source, sink = MemorySource("orders"), MemorySink()
    source.publish(order(1))
    port.stream(source, **FAST)
    with pytest.raises(AccessDeniedError) as refused:
        port.serve_stream(sink)
    assert "*" in str(refused.value) and sink.messages == []
