"""A stream source from its URL (what `meshlake stream ADDRESS --from SOURCE` takes).

    nats://127.0.0.1:4222/STREAM[/SUBJECT]    NATS JetStream: a stream, optionally one subject of it
    redis://127.0.0.1:6379/DB/KEY             Redis Streams: the stream at KEY in database DB
    kafka://HOST:PORT[,HOST:PORT]/TOPIC       Kafka (confluent-kafka; untested against a real broker)

Served streams (`serve: [table, stream]`) go to `nats://HOST:PORT` (`open_sink`).

The source id defaults to the stream, key or topic name, lower-cased with anything outside `[a-z0-9_]` as `_`.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from meshlake.streams.serve import StreamSink
from meshlake.streams.source import StreamSource

SCHEMES = ("nats", "redis", "kafka")


def default_source_id(url: str) -> str:
    """`orders` for `nats://h:4222/ORDERS`: the last part of the URL's path, as a meshlake name."""
    last = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    name = re.sub(r"[^a-z0-9_]", "_", last.lower()).strip("_") or "stream"
    return name if name[0].isalpha() else f"s_{name}"[:63]


def open_source(url: str, source_id: str | None = None) -> StreamSource:
    """The source `url` names; `ValueError` saying the accepted shapes when it names none."""
    parts = urlsplit(url)
    path = [p for p in parts.path.split("/") if p]
    sid = source_id or default_source_id(url)
    if parts.scheme == "nats" and 1 <= len(path) <= 2:
        from meshlake.streams.nats import JetStreamSource

        subject = path[1] if len(path) == 2 else None
        return JetStreamSource(sid, url=f"nats://{parts.netloc}", stream=path[0], subject=subject)
    if parts.scheme == "redis" and len(path) == 2 and path[0].isdigit():
        from meshlake.streams.redis import RedisStreamSource

        return RedisStreamSource(sid, url=f"redis://{parts.netloc}/{path[0]}", key=path[1])
    if parts.scheme == "kafka" and len(path) == 1:
        from meshlake.streams.kafka import KafkaSource

        return KafkaSource(sid, bootstrap=parts.netloc, topic=path[0])
    raise ValueError(
        f"cannot read a stream from {url!r}; give nats://HOST:PORT/STREAM[/SUBJECT], "
        "redis://HOST:PORT/DB/KEY or kafka://HOST:PORT/TOPIC"
    )


def open_sink(url: str) -> StreamSink:
    """The broker a port's stream is served to: `nats://HOST:PORT` (JetStream; subjects are port addresses)."""
    parts = urlsplit(url)
    if parts.scheme == "nats" and parts.netloc and parts.path in ("", "/"):
        from meshlake.streams.nats import JetStreamSink

        return JetStreamSink(url=f"nats://{parts.netloc}")
    raise ValueError(f"cannot serve a stream to {url!r}; give nats://HOST:PORT (JetStream)")
