"""Redis Streams as a stream source, through redis-py (`pip install 'meshlake[streams]'`).

    source = RedisStreamSource("devices", url="redis://127.0.0.1:6379/0", key="telemetry")

One partition (`"0"`); positions are entry ids `<ms>-<seq>`, and the next position after an entry is
`<ms>-<seq+1>` (XRANGE's start is inclusive). Ids are not contiguous and XTRIM records nothing of what it
dropped, so a stream trimmed past the last entry the port consumed is a gap (entries may have lain between
it and the first entry left); trimming that keeps it is not. Entries carry field/value pairs: the message is the field
`data` when present, else the entry's fields as one JSON object. Nothing is acknowledged (no consumer group
is needed: the port's snapshots keep the offsets).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from meshlake.errors import require
from meshlake.streams.source import Message, Position

PARTITION = "0"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _next_id(entry_id: str) -> str:
    ms, seq = entry_id.split("-")
    return f"{ms}-{int(seq) + 1}"


class RedisStreamSource:
    """One Redis stream key."""

    def __init__(self, source_id: str, *, url: str, key: str) -> None:
        redis = require("redis", extra="streams", feature="Redis streams")
        self.source_id = source_id
        self.key = key
        self.url = url
        self.identity = f"{url.split('?', maxsplit=1)[0]}/{key}"
        self._client = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
        self._errors = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(self._client, name)(*args, **kwargs)
        except self._errors as exc:
            raise ConnectionError(f"{self.identity}: {exc}") from exc

    def fetch(self, positions: Mapping[str, Position], *, max_messages: int, timeout: float) -> list[Message]:
        start = str(positions.get(PARTITION, "0-0"))
        deadline = time.monotonic() + timeout
        while True:
            entries = self._call("xrange", self.key, min=start, max="+", count=max_messages)
            if entries or time.monotonic() >= deadline:
                break
            time.sleep(min(0.01, max(deadline - time.monotonic(), 0)))
        found = []
        for raw_id, fields in entries:
            entry_id = _text(raw_id)
            found.append(Message(PARTITION, entry_id, _next_id(entry_id), _payload(fields)))
        return found

    def first_positions(self) -> dict[str, Position]:
        try:
            info = self._call("xinfo_stream", self.key)
        except Exception as exc:
            if "no such key" in str(exc).lower():
                return {}
            raise
        first = info.get("first-entry")
        if first:
            return {PARTITION: _text(first[0])}
        return {PARTITION: _next_id(_text(info.get("last-generated-id") or "0-0"))}

    def acknowledge(self, positions: Mapping[str, Position]) -> None:
        return None

    def close(self) -> None:
        self._client.close()


def _payload(fields: Mapping[Any, Any]) -> bytes:
    decoded = {_text(k): v for k, v in fields.items()}
    if "data" in decoded:
        value = decoded["data"]
        return value if isinstance(value, bytes) else str(value).encode()
    return json.dumps({k: _text(v) for k, v in decoded.items()}).encode()
