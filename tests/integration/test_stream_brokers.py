"""Streams from real brokers: NATS JetStream and Redis Streams, started by the test on free loopback ports.

The protocol contract (tests/streams/contract.py) runs against each; then a port consumes each end to end,
through the API and the `meshlake stream` command, across a broker restart and a retention gap.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import meshlake as ml
from meshlake.errors import StreamGapError
from meshlake.streams.redis import _next_id
from tests.integration.conftest import service_unavailable
from tests.services import LOOPBACK, ServiceUnavailableError
from tests.stream_services import Broker, listening_addresses, start_nats, start_redis
from tests.streams.conftest import deploy_orders, order, port_ids
from tests.streams.contract import CHECKS, Harness

FAST = {"max_wait": 0.05, "idle": 1.0}


def _client(module: str) -> None:
    try:
        __import__(module)
    except ImportError:
        service_unavailable(f"the Python client `{module}` is not installed: pip install 'meshlake[streams]'")


@pytest.fixture(scope="module")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    _client("nats")
    try:
        server = start_nats(tmp_path_factory.mktemp("nats"))
    except ServiceUnavailableError as exc:
        service_unavailable(str(exc))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    _client("redis")
    try:
        server = start_redis(tmp_path_factory.mktemp("redis"))
    except ServiceUnavailableError as exc:
        service_unavailable(str(exc))
    yield server
    server.stop()


class NatsStream:
    """A fresh JetStream stream `S<id>` on subject `s<id>.orders`, and a publisher for it."""

    def __init__(self, url: str) -> None:
        from meshlake.streams.nats import JetStreamSink

        tag = uuid.uuid4().hex[:8]
        self.name, self.subject, self.url = f"S{tag}", f"s{tag}.orders", url
        self.sink = JetStreamSink(url=url)
        self.sink._io.run(self.sink._io.js.add_stream(name=self.name, subjects=[self.subject]))

    def publish(self, payload: bytes) -> int:
        ack = self.sink._io.run(self.sink._io.js.publish(self.subject, payload))
        return int(ack.seq)

    def purge_before(self, sequence: int) -> None:
        self.sink._io.run(self.sink._io.js.purge_stream(self.name, seq=int(sequence)))

    def source(self, source_id: str = "orders") -> Any:
        from meshlake.streams.nats import JetStreamSource

        return JetStreamSource(source_id, url=self.url, stream=self.name)


class RedisStream:
    def __init__(self, url: str) -> None:
        import redis

        self.key = f"orders-{uuid.uuid4().hex[:8]}"
        self.url = f"{url}/0"
        self.client = redis.Redis.from_url(self.url)

    def publish(self, payload: bytes) -> str:
        entry = self.client.xadd(self.key, {"data": payload})
        return entry.decode() if isinstance(entry, bytes) else str(entry)

    def trim_before(self, entry_id: str) -> None:
        self.client.xtrim(self.key, minid=entry_id, approximate=False)

    def source(self, source_id: str = "orders") -> Any:
        from meshlake.streams.redis import RedisStreamSource

        return RedisStreamSource(source_id, url=self.url, key=self.key)


def test_brokers_listen_on_loopback_only(nats_server: Broker, redis_server: Broker) -> None:
    for server in (nats_server, redis_server):
        assert listening_addresses(server.process.pid) == {LOOPBACK}, server.name


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
def test_jetstream_keeps_the_protocol_contract(nats_server: Broker, check: Callable[[Harness], Any]) -> None:
    stream = NatsStream(nats_server.url)
    source = stream.source()
    try:
        check(Harness(source, stream.publish, stream.purge_before))
    finally:
        source.close()
        stream.sink.close()


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
def test_redis_streams_keep_the_protocol_contract(redis_server: Broker, check: Callable[[Harness], Any]) -> None:
    stream = RedisStream(redis_server.url)
    source = stream.source()
    try:
        check(Harness(source, stream.publish, stream.trim_before))
    finally:
        source.close()


def test_port_consumes_jetstream_exactly_once_across_runs(nats_server: Broker, lake: ml.Lake, tmp_path: Path) -> None:
    port = deploy_orders(lake, tmp_path / "orders")
    stream = NatsStream(nats_server.url)
    for i in range(250):
        stream.publish(order(i))
    source = stream.source()
    report = port.stream(source, max_rows=100, **FAST)
    source.close()
    assert [b.rows for b in report.batches] == [100, 100, 50]
    for i in range(250, 300):
        stream.publish(order(i))
    source = stream.source()
    report = port.stream(source, max_rows=100, **FAST)
    source.close()
    stream.sink.close()
    assert report.resumed_from == {"0": 251}
    assert port_ids(port) == list(range(300))


def test_port_consumes_redis_and_refuses_a_retention_gap(redis_server: Broker, lake: ml.Lake, tmp_path: Path) -> None:
    port = deploy_orders(lake, tmp_path / "orders")
    stream = RedisStream(redis_server.url)
    for i in range(20):
        stream.publish(order(i))
    port.stream(stream.source(), max_rows=8, **FAST)
    assert port_ids(port) == list(range(20))
    ids = [stream.publish(order(i)) for i in range(20, 30)]
    stream.trim_before(ids[5])
    with pytest.raises(StreamGapError) as refused:
        port.stream(stream.source(), **FAST)
    assert refused.value.gaps[0][2] == ids[5]
    assert port_ids(port) == list(range(20))


def test_a_jetstream_purged_while_streaming_stops_with_the_gap_named(
    nats_server: Broker, lake: ml.Lake, tmp_path: Path
) -> None:
    port = deploy_orders(lake, tmp_path / "orders")
    stream = NatsStream(nats_server.url)
    for i in range(30):
        stream.publish(order(i))

    def purge_unconsumed(batch: Any) -> None:
        if batch.offsets == {"0": 11}:
            stream.purge_before(26)  # sequences 11..25 (orders 10..24) dropped before the port read them

    source = stream.source()
    try:
        with pytest.raises(StreamGapError) as refused:
            port.stream(source, max_rows=10, on_batch=purge_unconsumed, **FAST)
    finally:
        source.close()
        stream.sink.close()
    assert refused.value.gaps == [("0", "11", "26")] and refused.value.mid_run
    assert port_ids(port) == list(range(10))


def test_a_redis_stream_trimmed_while_streaming_stops_with_the_gap_named(
    redis_server: Broker, lake: ml.Lake, tmp_path: Path
) -> None:
    port = deploy_orders(lake, tmp_path / "orders")
    stream = RedisStream(redis_server.url)
    ids = [stream.publish(order(i)) for i in range(30)]

    def trim_unconsumed(batch: Any) -> None:
        if len(port_ids(port)) == 10:
            stream.trim_before(ids[25])  # entries of orders 10..24 dropped before the port read them

    with pytest.raises(StreamGapError) as refused:
        port.stream(stream.source(), max_rows=10, on_batch=trim_unconsumed, **FAST)
    assert refused.value.mid_run and refused.value.gaps[0][1] == _next_id(ids[9])
    assert port_ids(port) == list(range(10))


def test_a_redis_stream_trimmed_while_streaming_up_to_the_last_consumed_entry_is_no_gap(
    redis_server: Broker, lake: ml.Lake, tmp_path: Path
) -> None:
    """Redis ids are not contiguous, so every fetch is checked against the stream's first entry: while the last
    entry the port consumed is still held, nothing after it can have been trimmed."""
    port = deploy_orders(lake, tmp_path / "orders")
    stream = RedisStream(redis_server.url)
    ids = []
    for i in range(30):
        ids.append(stream.publish(order(i)))
        time.sleep(0.002)  # a new millisecond per entry: the next id is never `<ms>-<seq+1>`

    def trim_consumed(batch: Any) -> None:
        stream.trim_before(ids[len(port_ids(port)) - 1])

    report = port.stream(stream.source(), max_rows=10, on_batch=trim_consumed, **FAST)
    assert report.rows == 30 and port_ids(port) == list(range(30))


def test_jetstream_restarted_mid_stream_loses_and_repeats_nothing(
    nats_server: Broker, lake: ml.Lake, tmp_path: Path
) -> None:
    server = start_nats(tmp_path / "own", store=tmp_path / "store")
    port = deploy_orders(lake, tmp_path / "orders")
    stream = NatsStream(server.url)
    for i in range(100):
        stream.publish(order(i))
    source = stream.source()
    result: dict[str, Any] = {}

    def consume() -> None:
        try:
            result["report"] = port.stream(source, max_rows=30, max_wait=0.05, idle=4.0, retry_for=30)
        except Exception as exc:  # reported below
            result["error"] = exc

    worker = threading.Thread(target=consume)
    worker.start()
    time.sleep(0.5)
    server.kill()
    time.sleep(1.0)
    restarted = start_nats(tmp_path / "own", port=server.port, store=tmp_path / "store")
    stream.sink.close()
    stream.sink = type(stream.sink)(url=restarted.url)
    for i in range(100, 150):
        stream.publish(order(i))
    worker.join(timeout=60)
    source.close()
    stream.sink.close()
    restarted.stop()
    assert "error" not in result, result.get("error")
    assert port_ids(port) == list(range(150))


def test_meshlake_stream_command_consumes_a_jetstream(nats_server: Broker, lake: ml.Lake, tmp_path: Path) -> None:
    from meshlake.cli.main import cli

    port = deploy_orders(lake, tmp_path / "orders")
    stream = NatsStream(nats_server.url)
    for i in range(40):
        stream.publish(order(i))
    source_url = f"{nats_server.url}/{stream.name}"
    from meshlake.cli import commands  # noqa: F401 - registers commands

    args = ["--json", "stream", str(port.address), "--from", source_url, "--idle", "1", "--max-wait", "0.05"]
    result = CliRunner().invoke(cli, args)
    stream.sink.close()
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["rows"] == 40 and out["source_id"] == stream.name.lower()
    assert port_ids(port) == list(range(40))


def test_killed_jetstream_consumers_commit_every_message_exactly_once(
    nats_server: Broker, lake: ml.Lake, tmp_path: Path
) -> None:
    import random

    from tests.stream_crash import stream_crash_run, summary
    from tests.streams.conftest import ADDRESS

    deploy_orders(lake, tmp_path / "orders", on_failure="skip")
    stream = NatsStream(nats_server.url)
    stream.sink.close()
    spec = {"kind": "nats", "url": nats_server.url, "stream": stream.name, "subject": stream.subject}
    settings = {"home": str(tmp_path / ".meshlake")}
    run = stream_crash_run(settings, ADDRESS, spec, tmp_path / "crash", kills=6, rng=random.Random(7))
    assert run.ok, summary(run)
    assert run.killed >= 3, summary(run)


def test_a_port_serves_its_snapshots_to_jetstream_once_even_after_a_crash(
    nats_server: Broker, lake: ml.Lake, tmp_path: Path
) -> None:
    from meshlake.streams.nats import JetStreamSink

    port = deploy_orders(lake, tmp_path / "orders", serve=["table", "stream"])
    sink = JetStreamSink(url=nats_server.url)
    stream = NatsStream(nats_server.url)
    for i in range(10):
        stream.publish(order(i))
    source = stream.source()
    report = port.stream(source, max_rows=4, serve=sink, **FAST)
    source.close()
    assert report.served == [b.snapshot_id for b in report.batches]
    # a crash after the commit, before the publish: the next serve call publishes just what is missing
    source = stream.source()
    for i in range(10, 13):
        stream.publish(order(i))
    port.stream(source, max_rows=100, **FAST)  # no sink: committed, not published
    source.close()
    caught_up = port.serve_stream(sink)
    assert len(caught_up.published) == 1 and caught_up.duplicates == 0
    assert port.serve_stream(sink).messages == 0
    # the de-duplication id makes a re-sent message a no-op on the broker itself
    last = sink.last_message_id(str(port.address))
    assert last is not None
    assert sink.publish(str(port.address), b"{}", message_id=last) is False
    served = sink._run(sink._io.js.stream_info(sink.stream_for(str(port.address))))
    assert served.state.messages == len(report.served) + 1
    rows = []
    for seq in range(served.state.first_seq, served.state.last_seq + 1):
        message = sink._run(sink._io.js.get_msg(sink.stream_for(str(port.address)), seq))
        rows += [r["order_id"] for r in json.loads(message.data)["rows"]]
    assert sorted(rows) == list(range(13))
    sink.close()
    stream.sink.close()


def test_meshlake_serve_command_publishes_to_jetstream(nats_server: Broker, lake: ml.Lake, tmp_path: Path) -> None:
    from meshlake.cli import commands  # noqa: F401 - registers commands
    from meshlake.cli.main import cli

    port = deploy_orders(lake, tmp_path / "orders", serve=["table", "stream"])
    stream = NatsStream(nats_server.url)
    for i in range(5):
        stream.publish(order(i))
    source = stream.source()
    port.stream(source, **FAST)
    source.close()
    stream.sink.close()
    result = CliRunner().invoke(cli, ["--json", "serve", str(port.address), "--to", nats_server.url])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["messages"] == 1
    again = CliRunner().invoke(cli, ["--json", "serve", str(port.address), "--to", nats_server.url])
    assert json.loads(again.output)["messages"] == 0


def test_the_demo_streams_drone_telemetry_through_jetstream(
    nats_server: Broker, lake: ml.Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime as dt
    import shutil

    from meshlake.demo import streaming

    folder = tmp_path / "drones"
    shutil.copytree(Path(ml.__file__).parent / "demo" / "products" / "drones", folder)
    lake.deploy(folder)
    monkeypatch.setenv(streaming.NATS_ENV, nats_server.url)
    done = streaming.stream_telemetry(lake, dt.date(2026, 12, 3))
    assert done.rows == 16 and done.batches == 2, done
    from meshlake.errors import StreamSourceMismatchError

    # the stream deleted and created again under its name is another stream: its sequence numbers are refused
    with pytest.raises(StreamSourceMismatchError) as refused:
        streaming.stream_telemetry(lake, dt.date(2026, 12, 3))
    assert refused.value.recorded != refused.value.given
    assert lake.port(streaming.TELEMETRY).latest().rows == 16


def test_the_demo_serves_its_orders_through_jetstream_as_its_broker_readers_read_them(
    nats_server: Broker, lake: ml.Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime as dt
    import shutil
    from decimal import Decimal

    import pyarrow as pa

    from meshlake.demo import streaming
    from meshlake.streams.nats import JetStreamSink

    folder = tmp_path / "orders"
    shutil.copytree(Path(ml.__file__).parent / "demo" / "products" / "orders", folder)
    lake.deploy(folder)
    hubs = ["north", "south", "north", "east"]
    emails = [f"pii-{uuid.uuid4()}@example.com" for _ in hubs]
    lake.port(streaming.ORDERS).write(
        pa.table(
            {
                "order_id": [f"ORD-{i:08d}" for i in range(len(hubs))],
                "customer_id": [f"C{i}" for i in range(len(hubs))],
                "customer_email": emails,
                "placed_at": pa.array(
                    [dt.datetime(2026, 12, 3, 9, tzinfo=dt.UTC)] * len(hubs), pa.timestamp("us", "UTC")
                ),
                "hub": hubs,
                "items": pa.array([1] * len(hubs), pa.int32()),
                "weight_kg": [1.5] * len(hubs),
                "total_eur": pa.array([Decimal("9.90")] * len(hubs), pa.decimal128(10, 2)),
            }
        )
    )
    sink = JetStreamSink(url=nats_server.url)
    stream = sink.stream_for(streaming.ORDERS)
    sink._run(sink._io.js.purge_stream(stream))  # a fresh subject: what this test serves only
    monkeypatch.setenv(streaming.NATS_ENV, nats_server.url)

    done = streaming.serve_orders(lake)

    info = sink._run(sink._io.js.stream_info(stream))
    bodies = [
        json.loads(sink._run(sink._io.js.get_msg(stream, seq)).data)
        for seq in range(info.state.first_seq, info.state.last_seq + 1)
    ]
    sink.close()
    rows = [row for body in bodies for row in body["rows"]]
    assert done.rows == len(bodies) == 1 and done.batches == 1, done
    assert [row["order_id"] for row in rows] == ["ORD-00000000", "ORD-00000002"], "the north hub's orders only"
    assert all(row["customer_email"] not in emails and "pii-" not in row["customer_email"] for row in rows)
