"""The history journal: a table's history rows on disk, so that `history()` in a new process need not read the
whole `metadata.json` (9 MB at 10,000 snapshots).

One file per table (`history/` in meshlake's cache folder, `meshlake.catalog.disk_cache`; `MESHLAKE_CACHE_DIR=off`
turns it off; deleting it is always safe), named by the table's uuid and metadata folder, of JSON lines:

- a header, `{"journal": 1, "table-uuid": …}`;
- then the rows of the snapshots the metadata file keeps, in its order (`meshlake.query.history` says what a row
  holds: what history shows of a snapshot, decided once), and its snapshot-log entries (`[snapshot id, timestamp
  ms]`; when a commit's entries are its snapshots' own, as an append's, a flag ending each row instead);
- last, a *marker*, `["@", name, length, updated, snapshots, log, offset, crc]`: the metadata file the journal
  stands for (its name in the journal's folder, its length and last-updated ms), the number of snapshot rows and
  log entries before it, its own byte offset and the CRC-32 of every byte before it.

A commit whose metadata only adds to the one it replaced, when the marker names that one, writes its rows and a
new marker over the old marker (O(1): the tail is read back and the CRC continued); anything else (no journal, a
torn one, snapshots expired) has the journal written whole (a temporary file renamed). A reader trusts the
journal only when its marker names the very metadata file (location and length) the catalog gave it, ends the
file, and its counts, offset and CRC match what precedes it: a torn, truncated, damaged, stale or foreign journal
is ignored (history then reads the metadata file, and writes the journal again unless it stands for a later
commit). The CRC finds damage, not forgery: the journal is as trusted as the rest of the cache.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from meshlake.catalog.disk_cache import cache_folder, write_atomically

JOURNAL_VERSION = 1
SNAPSHOT_FIELDS = 16
"""Length of a snapshot row (a log entry has 2)."""
_TAIL_BYTES = 4096


@dataclass(frozen=True)
class Marker:
    """Where a journal stands: the metadata file it holds the history of (`name`, in the folder the journal is
    named by), and what precedes the marker."""

    name: str
    length: int
    updated: int
    snapshots: int
    log: int
    offset: int
    crc: int

    def line(self) -> bytes:
        fields = [_MARK, self.name, self.length, self.updated, self.snapshots, self.log, self.offset, self.crc]
        return _dumps(fields) + b"\n"


_MARK = "@"
_MARKER_FIELDS = 8


@dataclass(frozen=True)
class Journal:
    """A journal as read: the snapshot rows and log entries of the metadata file asked for, or None when the
    journal does not hold it; `newer` when it is intact and stands for a later metadata file (keep it)."""

    snapshots: list[list[Any]] | None
    log: list[tuple[int, int]]
    newer: bool = False


_MISSING = Journal(None, [])


def journal_path(folder: Path, table_uuid: str, location: str) -> Path:
    """The journal of the table `table_uuid` whose metadata files are next to `location`."""
    key = hashlib.sha256(f"{table_uuid}\n{location.rsplit('/', 1)[0]}".encode()).hexdigest()
    return folder / key[:2] / f"{key}.jsonl"


def _name(location: str) -> str:
    return location.rsplit("/", 1)[-1]


def read_journal(table_uuid: str, location: str, length: int, updated: int) -> Journal:
    """The rows the journal holds for the metadata file at `location` (`length` bytes, last updated at `updated`
    ms), checked as the module says."""
    folder = cache_folder("history")
    if folder is None:
        return _MISSING
    try:
        data = journal_path(folder, table_uuid, location).read_bytes()
    except OSError:
        return _MISSING
    if not data.endswith(b"\n"):
        return _MISSING  # torn: the last write did not finish
    with no_collection():  # the parse makes ~200,000 objects, none of them cyclic: collecting is wasted work
        try:
            lines = json.loads(b"[" + data[:-1].replace(b"\n", b",") + b"]")
        except (ValueError, RecursionError):
            return _MISSING
        return _select(lines, data, table_uuid, _name(location), length, updated)


@contextlib.contextmanager
def no_collection() -> Iterator[None]:
    """The garbage collector paused (it walks every object of the process: most of a large parse's time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _select(lines: list[Any], data: bytes, table_uuid: str, name: str, length: int, updated: int) -> Journal:
    """The rows before the marker ending the journal, when it names the metadata file `name` (`length` bytes) and
    its counts, offset and CRC match."""
    header = lines[0] if lines else None
    if not isinstance(header, dict) or header != {"journal": JOURNAL_VERSION, "table-uuid": table_uuid}:
        return _MISSING
    snapshots: list[list[Any]] = []
    log: list[tuple[int, int]] = []
    for item in lines[1:-1]:
        if type(item) is not list:
            return _MISSING
        size = len(item)
        if size == SNAPSHOT_FIELDS or size == SNAPSHOT_FIELDS + 1:
            if type(item[0]) is not int or type(item[2]) is not int or not _id_or_none(item[1]):
                return _MISSING
            snapshots.append(item)
            if size > SNAPSHOT_FIELDS:  # and its own log entry: main moved to it as it was made
                log.append((item[0], item[2]))
        elif size == 2 and type(item[0]) is int and type(item[1]) is int:
            log.append((item[0], item[1]))
        else:
            return _MISSING
    marker = _marker(lines[-1]) if len(lines) > 1 else None
    if marker is None or (marker.snapshots, marker.log) != (len(snapshots), len(log)) or not _intact(marker, data):
        return _MISSING
    if marker.name != name or marker.length != length:
        return Journal(None, [], newer=marker.updated > updated)
    return Journal(snapshots, log)


def _intact(marker: Marker, data: bytes) -> bool:
    """Whether the marker is where it says it is, ending the journal, and the CRC of what precedes it matches."""
    line = marker.line()
    return (
        len(data) == marker.offset + len(line)
        and data.endswith(line)
        and zlib.crc32(data[: marker.offset]) == marker.crc
    )


def _id_or_none(value: Any) -> bool:
    return value is None or type(value) is int


def _marker(item: Any) -> Marker | None:
    if type(item) is not list or len(item) != _MARKER_FIELDS or item[0] != _MARK or not isinstance(item[1], str):
        return None
    if not all(type(value) is int for value in item[2:]):
        return None
    return Marker(*item[1:])


def write_journal(
    table_uuid: str,
    location: str,
    length: int,
    updated: int,
    snapshots: list[list[Any]],
    log: list[tuple[int, int]],
) -> bool:
    """Write the whole journal of the metadata file at `location`; False when it could not be written."""
    folder = cache_folder("history")
    if folder is None:
        return False
    header = _dumps({"journal": JOURNAL_VERSION, "table-uuid": table_uuid}) + b"\n"
    body = _lines(snapshots, log)
    offset = len(header) + len(body)
    crc = zlib.crc32(body, zlib.crc32(header))
    marker = Marker(_name(location), length, updated, len(snapshots), len(log), offset, crc)
    return write_atomically(journal_path(folder, table_uuid, location), header + body + marker.line())


def append_journal(
    table_uuid: str,
    replaced: str,
    location: str,
    length: int,
    updated: int,
    snapshots: list[list[Any]],
    log: list[tuple[int, int]],
) -> Literal["appended", "newer", "mismatch"]:
    """Add what one commit added (its rows, and a new marker over the old one), when the journal's marker names the
    metadata file it `replaced` (`appended`); `newer` when the journal stands for a later commit than `updated`
    (leave it); else `mismatch` (the journal is off, missing, torn, unwritable or of another commit): write it
    whole instead."""
    folder = cache_folder("history")
    if folder is None:
        return "mismatch"
    try:
        with journal_path(folder, table_uuid, location).open("r+b") as stream:
            end = stream.seek(0, os.SEEK_END)
            start = stream.seek(max(0, end - _TAIL_BYTES))
            tail = stream.read()
            cut = tail.rfind(b"\n", 0, len(tail) - 1)
            if not tail.endswith(b"\n") or (cut < 0 and start > 0):
                return "mismatch"
            line = tail[cut + 1 :]
            try:
                last = _marker(json.loads(line))
            except (ValueError, RecursionError):
                return "mismatch"
            if last is None or last.offset != end - len(line) or line != last.line():
                return "mismatch"
            if last.name != _name(replaced):
                return "newer" if last.updated > updated else "mismatch"
            body = _lines(snapshots, log)
            counts = (last.snapshots + len(snapshots), last.log + len(log))
            crc = zlib.crc32(body, last.crc)
            marker = Marker(_name(location), length, updated, *counts, last.offset + len(body), crc)
            stream.seek(last.offset)
            stream.write(body + marker.line())  # over the old marker: the journal keeps one, at its end
            stream.truncate()
    except OSError:
        return "mismatch"
    return "appended"


def journal_enabled() -> bool:
    """Whether journals are kept (the cache is not off)."""
    return cache_folder("history") is not None


def _lines(snapshots: list[list[Any]], log: list[tuple[int, int]]) -> bytes:
    """The lines of `snapshots` and `log`; when the log is each snapshot's own entry, in order (main moved to each
    as it was made: an append), the entry is a flag ending the snapshot's row instead of a line of its own."""
    if log and len(log) == len(snapshots) and all(e == (r[0], r[2]) for e, r in zip(log, snapshots, strict=True)):
        return b"".join(_dumps([*row, 1]) + b"\n" for row in snapshots)
    return b"".join(_dumps(row) + b"\n" for row in snapshots) + b"".join(b"[%d,%d]\n" % entry for entry in log)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True).encode()
