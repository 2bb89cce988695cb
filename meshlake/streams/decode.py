"""Messages (JSON objects) to rows in the port's contract types; a message that does not fit is rejected alone.

The batch is read as JSON lines with the port's own reader (`write.jsonl_input`: dates and times parsed from
text, lossless casts only) and conformed like any write. When that fails, the batch is split in halves until
each failing message stands alone: one bad message costs about log2(batch) extra reads, and every other
message of the batch is kept. A rejected message keeps its partition, position, bytes and the reason.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from meshlake.errors import ContractViolationError, InputFileError, MeshlakeError
from meshlake.streams.source import Message, position_order
from meshlake.write.ingest import Conformer
from meshlake.write.jsonl_input import read_jsonl


@dataclass(frozen=True)
class Rejected:
    """A message that is not a row of the port: where it was, and why."""

    message: Message
    reason: str


def decode_batch(
    messages: Sequence[Message], target: pa.Schema, address: str
) -> tuple[pa.Table | None, list[Rejected]]:
    """The rows of `messages` in `target` (None when none fits), and the messages rejected."""
    rejected: list[Rejected] = []
    lines: list[tuple[Message, bytes]] = []
    for message in messages:
        try:
            value = json.loads(message.payload)
        except (UnicodeDecodeError, ValueError) as exc:
            rejected.append(Rejected(message, f"not JSON: {exc}"))
            continue
        if not isinstance(value, dict):
            rejected.append(Rejected(message, f"a JSON {type(value).__name__}, not an object (one row per message)"))
            continue
        lines.append((message, json.dumps(value, ensure_ascii=False, allow_nan=True).encode()))
    if not lines:
        return None, rejected
    conformer = Conformer(target, address)
    with tempfile.TemporaryDirectory(prefix="meshlake-stream-") as folder:
        tables, bad = _read(lines, conformer, Path(folder))
    rejected.extend(bad)
    rejected.sort(key=lambda r: (r.message.partition, position_order(r.message.position)))
    return (pa.concat_tables(tables) if tables else None), rejected


def _read(
    lines: Sequence[tuple[Message, bytes]], conformer: Conformer, folder: Path
) -> tuple[list[pa.Table], list[Rejected]]:
    try:
        return [_conformed(lines, conformer, folder)], []
    except (MeshlakeError, pa.ArrowException, ValueError) as exc:
        if len(lines) == 1:
            return [], [Rejected(lines[0][0], _reason(exc))]
    half = len(lines) // 2
    left, left_bad = _read(lines[:half], conformer, folder)
    right, right_bad = _read(lines[half:], conformer, folder)
    return left + right, left_bad + right_bad


def _conformed(lines: Sequence[tuple[Message, bytes]], conformer: Conformer, folder: Path) -> pa.Table:
    path = folder / "batch.jsonl"
    path.write_bytes(b"\n".join(line for _, line in lines) + b"\n")
    reader = read_jsonl(path, conformer.target)
    return pa.Table.from_batches(list(conformer.conform(reader)), schema=conformer.target)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, InputFileError):
        at = f"column '{exc.column}'" if exc.column else "the message"
        shown = f" (value {exc.value})" if exc.value is not None else ""
        return f"{at}{shown}: {exc.problem}"
    if isinstance(exc, ContractViolationError):
        return str(exc).removesuffix(" Nothing was written.").split(": ", 1)[-1]
    return f"{type(exc).__name__}: {exc}"
