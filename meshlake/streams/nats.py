"""NATS JetStream as a stream source and a stream sink, through nats-py (`pip install 'meshlake[streams]'`).

    source = JetStreamSource("devices", url="nats://127.0.0.1:4222", stream="TELEMETRY", subject="telemetry.>")

One partition (`"0"`); positions are the stream's sequence numbers. Each run reads through an ephemeral
pull consumer created at the sequence the port recorded (`deliver_policy: by_start_sequence`), so nothing
on the broker's side decides where consuming resumes; `acknowledge` acks what was committed (for the
broker's bookkeeping only). The stream's identity includes its creation time: a stream deleted and created
again under the same name is another stream, and its sequence numbers are refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Coroutine, Mapping
from typing import Any, TypeVar

from meshlake.errors import require
from meshlake.streams.source import Message, Position

T = TypeVar("T")
PARTITION = "0"


class _Loop:
    """A private event loop for nats-py's async client, driven synchronously."""

    def __init__(self, url: str) -> None:
        self.loop = asyncio.new_event_loop()
        nats = require("nats", extra="streams", feature="NATS JetStream streams")
        try:
            self.nc: Any = self.run(
                nats.connect(url, connect_timeout=5, max_reconnect_attempts=3, allow_reconnect=True)
            )
        except Exception as exc:  # nats-py raises its own errors, or OSError, for a broker it cannot reach
            raise ConnectionError(f"nats: cannot connect to {url}: {exc}") from exc
        self.js: Any = self.nc.jetstream()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def close(self) -> None:
        try:
            self.run(self.nc.close())
        except Exception:  # a connection already gone: nothing to flush
            pass
        finally:
            pending = asyncio.all_tasks(self.loop)
            for task in pending:
                task.cancel()
            if pending:
                self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self.loop.close()


def _broker_errors(exc: Exception) -> bool:
    module = type(exc).__module__
    return module.startswith("nats") or isinstance(exc, OSError | asyncio.TimeoutError)


class JetStreamSource:
    """One JetStream stream (optionally one subject filter of it)."""

    def __init__(self, source_id: str, *, url: str, stream: str, subject: str | None = None) -> None:
        self.source_id = source_id
        self.url = url
        self.stream = stream
        self.subject = subject
        self._io = _Loop(url)
        info = self._call(self._io.js.stream_info(stream))
        created = getattr(info, "created", None) or ""
        self.identity = f"nats://{url.rsplit('://', maxsplit=1)[-1]}/{stream}/{subject or '*'}@{created}"
        self._sub: Any = None
        self._next: int | None = None
        self._last: Any = None

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        try:
            return self._io.run(coroutine)
        except Exception as exc:
            if _broker_errors(exc):
                raise ConnectionError(f"{self.url} stream {self.stream}: {type(exc).__name__}: {exc}") from exc
            raise

    def _subscribe(self, start: int) -> None:
        api = require("nats.js.api", extra="streams", feature="NATS JetStream streams")
        if self._sub is not None:
            with contextlib.suppress(ConnectionError):
                self._call(self._sub.unsubscribe())
        config = api.ConsumerConfig(
            deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=max(start, 1),
            ack_policy=api.AckPolicy.ALL,
            inactive_threshold=60.0,
        )
        subject = self.subject or self._call(self._io.js.stream_info(self.stream)).config.subjects[0]
        self._sub = None
        self._sub = self._call(self._io.js.pull_subscribe(subject, stream=self.stream, config=config))
        self._next = start

    def _reconnect(self) -> None:
        """A new connection when the client gave up on the old one (a broker down longer than its reconnects)."""
        if self._io.nc.is_closed:
            self._io.loop.close()
            self._io = _Loop(self.url)
            self._sub = None

    def fetch(self, positions: Mapping[str, Position], *, max_messages: int, timeout: float) -> list[Message]:
        start = int(positions.get(PARTITION, 1))
        self._reconnect()
        if self._sub is None or self._next != start:
            self._subscribe(start)
        try:
            batch = self._io.run(self._sub.fetch(max_messages, timeout=max(timeout, 0.001)))
        except Exception as exc:
            if type(exc).__name__ in ("TimeoutError", "FetchTimeoutError") or isinstance(exc, asyncio.TimeoutError):
                return []
            if _broker_errors(exc):
                self._sub = None
                raise ConnectionError(f"{self.url} stream {self.stream}: {type(exc).__name__}: {exc}") from exc
            raise
        found = []
        for msg in batch:
            sequence = int(msg.metadata.sequence.stream)
            found.append(Message(PARTITION, sequence, sequence + 1, bytes(msg.data)))
            self._last = msg
            self._next = sequence + 1
        return found

    def first_positions(self) -> dict[str, Position]:
        self._reconnect()
        state = self._call(self._io.js.stream_info(self.stream)).state
        return {PARTITION: int(state.first_seq) if state.messages else int(state.last_seq) + 1}

    def acknowledge(self, positions: Mapping[str, Position]) -> None:
        if self._last is not None:
            self._call(self._last.ack())
            self._last = None

    def close(self) -> None:
        self._io.close()


class JetStreamSink:
    """Publishes a port's snapshots to JetStream; each message's `Nats-Msg-Id` makes a re-publish a no-op.

    A subject no stream captures gets one: `MESHLAKE_<DOMAIN>_<PRODUCT>_<PORT>` on exactly that subject.
    """

    def __init__(self, *, url: str) -> None:
        self.url = url
        self._io = _Loop(url)
        self._streams: dict[str, str] = {}

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        try:
            return self._io.run(coroutine)
        except Exception as exc:
            if _broker_errors(exc) and type(exc).__name__ != "NotFoundError":
                raise ConnectionError(f"{self.url}: {type(exc).__name__}: {exc}") from exc
            raise

    def stream_for(self, subject: str) -> str:
        """The stream capturing `subject`, created when there is none."""
        if subject in self._streams:
            return self._streams[subject]
        try:
            name = self._run(self._io.js.find_stream_name_by_subject(subject))
        except Exception as exc:
            if type(exc).__name__ != "NotFoundError":
                raise
            name = "MESHLAKE_" + re.sub(r"[^A-Za-z0-9_]", "_", subject).upper()
            self._run(self._io.js.add_stream(name=name, subjects=[subject]))
        self._streams[subject] = str(name)
        return str(name)

    def publish(self, subject: str, payload: bytes, *, message_id: str) -> bool:
        """Publish one message; False when the broker already had `message_id` (a duplicate it dropped)."""
        stream = self.stream_for(subject)
        ack = self._run(self._io.js.publish(subject, payload, stream=stream, headers={"Nats-Msg-Id": message_id}))
        return not bool(getattr(ack, "duplicate", False))

    def last_message_id(self, subject: str) -> str | None:
        stream = self.stream_for(subject)
        try:
            message = self._run(self._io.js.get_last_msg(stream, subject))
        except Exception as exc:
            if type(exc).__name__ == "NotFoundError":
                return None
            raise
        headers = message.headers or {}
        found = headers.get("Nats-Msg-Id")
        return str(found) if found else None

    def close(self) -> None:
        self._io.close()
