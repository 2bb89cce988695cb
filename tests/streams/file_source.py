"""A stream source kept in a file (one message per line, positions are line numbers), shared by processes.

What the crash tests consume when no broker runs: the parent appends messages, killed children consume them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path

from meshlake.streams.source import Message, Position


class FileSource:
    def __init__(self, source_id: str, path: Path) -> None:
        self.source_id = source_id
        self.path = Path(path)
        self.identity = f"file:{self.path.name}"

    def publish(self, payload: bytes) -> int:
        """Append one message (the payload must hold no newline); returns its position."""
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, payload + b"\n")
        finally:
            os.close(fd)
        return len(self._lines()) - 1

    def _lines(self) -> list[bytes]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        return data.split(b"\n")[:-1] if data else []

    def fetch(self, positions: Mapping[str, Position], *, max_messages: int, timeout: float) -> list[Message]:
        deadline = time.monotonic() + timeout
        start = int(positions.get("0", 0))
        while True:
            lines = self._lines()[start : start + max_messages]
            if lines or time.monotonic() >= deadline:
                return [Message("0", start + i, start + i + 1, line) for i, line in enumerate(lines)]
            time.sleep(0.01)

    def first_positions(self) -> dict[str, Position]:
        return {"0": 0}

    def acknowledge(self, positions: Mapping[str, Position]) -> None:
        return None

    def close(self) -> None:
        return None
