"""Loading table metadata at the cost of what a read needs, not of the history the file keeps.

pyiceberg parses and validates every snapshot a `metadata.json` keeps when it loads a table (680 ms at 10,000
snapshots), although a read needs only the snapshot it reads. `load_metadata` validates the rest of the file
(schemas, specs, properties, refs) and only the snapshots the refs point at (`main`'s, the tags' and branches'),
and returns `LazyTableMetadataV2`: pyiceberg's v2 metadata whose per-snapshot lists (`snapshots`, `snapshot_log`,
`metadata_log`, `statistics`, `partition_statistics`) are read on first use, by pyiceberg's own parse of the
whole file (`TableMetadataUtil.parse_raw`), so they are exactly what pyiceberg loads. Anything that sees the
metadata whole (a commit, a copy, a dump, `==`, pickling) completes it first, so a commit writes what
pyiceberg's eager load would have led to. History does not complete it: `lazy_history_entries` reads the
snapshot list and the snapshot log from the file's JSON, checked field by field, as plain entries (no pydantic
model per snapshot: that is most of pyiceberg's parse). Nor does finding a snapshot by id: it answers from the
snapshots validated first when it can (`main`, a tag), else from the file's JSON snapshots by id, validating the
one it returns (a walk of ancestors, as the gate's recovery, builds only the snapshots it visits).

The partial read itself is kept on disk, next to the manifest cache (`metadata/` in meshlake's cache folder,
`meshlake.catalog.disk_cache`), by the file's location and length, as a *read view* (the metadata without its
per-snapshot lists, plus the ref snapshots, as JSON): a metadata file never changes once written, and its name
carries a random UUID. The lake's commits leave the view of the file they write and drop the one of the file
they replace (`store_view`), and a load that found none leaves the one it made; a new process then reads a few
kilobytes, not the whole file. An entry that
does not name the same location and length, or does not validate, is ignored (the file is read). Only plain
(not gzipped) v2 files are read lazily; others, and files that are not valid JSON or not a JSON object, are
parsed by pyiceberg, which raises as it always does.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import PrivateAttr, TypeAdapter
from pyiceberg.exceptions import ValidationError as IcebergValidationError
from pyiceberg.io import FileIO
from pyiceberg.serializers import FromInputFile
from pyiceberg.table.metadata import TableMetadata, TableMetadataUtil, _generate_snapshot_id
from pyiceberg.table.refs import MAIN_BRANCH
from pyiceberg.table.snapshots import MetadataLogEntry, Operation, Snapshot

from meshlake.catalog.disk_cache import cache_folder, write_atomically
from meshlake.catalog.metadata import IndexedTableMetadataV2, indexed
from meshlake.errors import TableMetadataError

LAZY_FIELDS = ("snapshots", "snapshot_log", "metadata_log", "statistics", "partition_statistics")
"""The fields that grow with the history: read on first use."""
_ALIASES = {"snapshots", "snapshot-log", "metadata-log", "statistics", "partition-statistics"}
VIEW_VERSION = 1


class _Pending:
    """Where the rest of a lazily loaded metadata is, and the snapshots validated in the first read."""

    __slots__ = (
        "_length", "by_id", "count", "entries", "full", "io", "location", "lock", "log_count", "snapshots", "uuid"
    )  # fmt: skip

    def __init__(self, io: FileIO, location: str, length: int | None, snapshots: dict[int, Snapshot]) -> None:
        self.io = io
        self.location = location
        self._length = length
        self.snapshots = snapshots
        self.lock = threading.Lock()
        self.full: TableMetadata | None = None
        self.entries: tuple[HistoryEntries, str] | None = None
        self.by_id: dict[int, dict[str, Any]] | None = None
        """The file's snapshots as its JSON has them, by id (`raw_snapshots`)."""
        self.uuid = ""
        self.count: int | None = None
        """How many snapshots the file lists, when known without reading them."""
        self.log_count: int | None = None
        """How many snapshot-log entries the file lists, when known without reading them."""

    @property
    def length(self) -> int:
        """The file's length; asked of the storage on first use when the load did not know it (a REST catalog
        answers with the metadata, not the file)."""
        if self._length is None:
            try:
                self._length = len(self.io.new_input(self.location))
            except OSError as exc:
                raise TableMetadataError(self.location, _reason(exc)) from exc
        return self._length

    def read_entries(self) -> tuple[HistoryEntries, str]:
        """The file's snapshots and snapshot log as plain, checked entries (once): no pydantic models."""
        with self.lock:
            if self.entries is None:
                self.entries = read_history_entries(self.location, self._read_json())
            return self.entries

    def raw_snapshots(self) -> tuple[dict[int, dict[str, Any]], str]:
        """The file's snapshots as its JSON has them, by id (the first of an id wins, as in `snapshot_index`),
        and its table uuid (once; `_UnexpectedEntryError` when an entry is not an object with an integer id)."""
        with self.lock:
            if self.by_id is None:
                if self.entries is not None:  # history read them: no second read of the file
                    self.by_id = {e.snapshot_id: e.raw for e in reversed(self.entries[0].snapshots)}
                    self.uuid = self.entries[1]
                    return self.by_id, self.uuid
                raw = self._read_json()
                listed = raw.get("snapshots", []) if isinstance(raw, dict) else None
                if not isinstance(listed, list):
                    raise _UnexpectedEntryError("its snapshots is not a list")
                by_id = {}
                for n, item in enumerate(reversed(listed)):
                    if not isinstance(item, dict) or not _int(item.get("snapshot-id")):
                        raise _UnexpectedEntryError(f"snapshot {len(listed) - 1 - n} has no integer snapshot-id")
                    by_id[item["snapshot-id"]] = item
                self.by_id, self.uuid = by_id, str(raw.get("table-uuid"))
            return self.by_id, self.uuid

    def read_updated(self) -> int:
        """The file's `last-updated-ms`, from its first `HEAD_BYTES` when its top-level keys get there before
        anything larger (Iceberg's writers put it among the first), else from pyiceberg's parse of the file."""
        try:
            with self.io.new_input(self.location).open() as stream:
                head = stream.read(HEAD_BYTES)
        except OSError as exc:
            raise TableMetadataError(self.location, _reason(exc)) from exc
        found = _top_level_value(head.decode("utf-8", errors="replace"), "last-updated-ms")
        return found if _int(found) else self.load().last_updated_ms

    def _read_json(self) -> Any:
        try:
            with self.io.new_input(self.location).open() as stream:
                return json.loads(stream.read())
        except (OSError, ValueError, RecursionError) as exc:
            raise TableMetadataError(self.location, _reason(exc)) from exc

    def load(self) -> TableMetadata:
        """pyiceberg's parse of the whole file (once)."""
        with self.lock:
            if self.full is None:
                try:
                    self.full = FromInputFile.table_metadata(self.io.new_input(self.location))
                except (OSError, ValueError, IcebergValidationError) as exc:
                    raise TableMetadataError(self.location, _reason(exc)) from exc
            return self.full


class LazyTableMetadataV2(IndexedTableMetadataV2):
    """pyiceberg's v2 table metadata whose per-snapshot lists (`LAZY_FIELDS`) are read on first use."""

    _pending: _Pending | None = PrivateAttr(default=None)

    @property
    def is_complete(self) -> bool:
        """Whether the per-snapshot lists are read (a commit, `history()` or time travel read them)."""
        private = self.__pydantic_private__
        return private is None or private.get("_pending") is None

    def complete(self) -> None:
        """Read the per-snapshot lists now (`TableMetadataError` when the file is gone or not valid)."""
        private = self.__pydantic_private__
        pending = private.get("_pending") if private is not None else None
        if pending is None:
            return
        full = pending.load()
        if full.table_uuid != self.__dict__.get("table_uuid") or full.format_version != 2:
            raise TableMetadataError(pending.location, "it is not the file its first read saw (another table's)")
        for name in (*LAZY_FIELDS, "last_updated_ms"):
            self.__dict__.setdefault(name, getattr(full, name))
        self.__pydantic_fields_set__ |= full.model_fields_set & set(LAZY_FIELDS)
        private["_pending"] = None  # type: ignore[index]

    def __getattr__(self, name: str) -> Any:
        if name in LAZY_FIELDS:
            self.complete()
            return self.__dict__[name]
        if name == "last_updated_ms":  # not known from a REST catalog's load answer (`lazy_metadata`)
            private = self.__pydantic_private__
            pending: _Pending | None = private.get("_pending") if private is not None else None
            if pending is not None:
                return self.__dict__.setdefault(name, pending.read_updated())
        return super().__getattr__(name)  # type: ignore[misc]

    def snapshot_by_id(self, snapshot_id: int) -> Snapshot | None:
        """The snapshot of the id: one validated first, else the file's entry of that id, validated alone (a walk
        of the ancestors, such as the gate's recovery of `RECOVERY_DEPTH` verdicts, builds the snapshots it
        visits, not every snapshot the file keeps); the lists are read only when the entries are not as Iceberg
        writes them (pyiceberg's parse then decides)."""
        private = self.__pydantic_private__
        pending: _Pending | None = private.get("_pending") if private is not None else None
        if pending is None:
            return super().snapshot_by_id(snapshot_id)
        if (known := pending.snapshots.get(snapshot_id)) is not None:
            return known
        try:
            index, uuid = pending.raw_snapshots()
        except _UnexpectedEntryError:
            return super().snapshot_by_id(snapshot_id)
        if uuid != str(self.__dict__.get("table_uuid")):
            raise TableMetadataError(pending.location, "it is not the file its first read saw (another table's)")
        raw = index.get(snapshot_id)
        if raw is None:
            return None
        try:
            snapshot = Snapshot.model_validate(raw)
        except (ValueError, IcebergValidationError) as exc:
            raise TableMetadataError(pending.location, f"snapshot {snapshot_id}: {_first_line(exc)}") from exc
        return pending.snapshots.setdefault(snapshot_id, snapshot)

    def new_snapshot_id(self) -> int:
        """A random snapshot id no snapshot read so far has (pyiceberg's draws until no snapshot of the table has
        it, which would read the whole history; Iceberg's Java producers draw once, and the catalog refuses a
        snapshot whose id exists: at 63 random bits, one collision in 10^15 commits on a 10,000-snapshot table)."""
        if self.is_complete:
            return super().new_snapshot_id()
        while (snapshot_id := _generate_snapshot_id()) in self._known():
            pass
        return snapshot_id

    def has_snapshot(self, snapshot_id: int) -> bool:
        """Whether a snapshot has the id, answered from the snapshots read so far while the lists are not read:
        for an id this process drew for its own next commit (`new_snapshot_id`), which can be in the table
        only if that commit landed."""
        return snapshot_id in self._known() if not self.is_complete else self.snapshot_by_id(snapshot_id) is not None

    def _known(self) -> dict[int, Snapshot]:
        private = self.__pydantic_private__
        pending: _Pending | None = private.get("_pending") if private is not None else None
        return pending.snapshots if pending is not None else {}

    # what sees the metadata whole completes it first
    def __iter__(self) -> Any:
        self.complete()
        return super().__iter__()

    def __eq__(self, other: object) -> bool:
        self.complete()
        if isinstance(other, LazyTableMetadataV2):
            other.complete()
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]

    def __copy__(self) -> LazyTableMetadataV2:
        self.complete()
        return super().__copy__()

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> LazyTableMetadataV2:
        self.complete()
        return super().__deepcopy__(memo)

    def __getstate__(self) -> dict[Any, Any]:
        self.complete()
        return super().__getstate__()

    def __repr_args__(self) -> Any:
        self.complete()
        return super().__repr_args__()

    def model_dump(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self.complete()
        return super().model_dump(*args, **kwargs)

    def model_dump_json(self, *args: Any, **kwargs: Any) -> str:
        self.complete()
        return super().model_dump_json(*args, **kwargs)


def has_snapshot(metadata: TableMetadata, snapshot_id: int) -> bool:
    """Whether a snapshot of `metadata` has the id this process drew for its next commit (see
    `LazyTableMetadataV2.has_snapshot`: metadata loaded lazily is not completed for it)."""
    if isinstance(metadata, LazyTableMetadataV2):
        return metadata.has_snapshot(snapshot_id)
    return metadata.snapshot_by_id(snapshot_id) is not None


def known_counts(metadata: TableMetadata) -> tuple[int, int] | None:
    """How many snapshots and snapshot-log entries `metadata` has, when known without reading them; else None."""
    if not isinstance(metadata, LazyTableMetadataV2) or metadata.is_complete:
        return len(metadata.snapshots), len(metadata.snapshot_log)
    pending: _Pending = metadata.__pydantic_private__["_pending"]  # type: ignore[index]
    if pending.count is None or pending.log_count is None:
        return None
    return pending.count, pending.log_count


def snapshot_count(metadata: TableMetadata) -> int:
    """`len(metadata.snapshots)`, without reading them when the load already counted them."""
    if isinstance(metadata, LazyTableMetadataV2) and not metadata.is_complete:
        pending: _Pending = metadata.__pydantic_private__["_pending"]  # type: ignore[index]
        if pending.count is not None:
            return pending.count
    return len(metadata.snapshots)


def complete(metadata: TableMetadata) -> TableMetadata:
    """`metadata` with every list read (what a commit starts from)."""
    if isinstance(metadata, LazyTableMetadataV2):
        metadata.complete()
    return metadata


def is_complete(metadata: TableMetadata) -> bool:
    return not isinstance(metadata, LazyTableMetadataV2) or metadata.is_complete


def load_metadata(io: FileIO, location: str) -> TableMetadata:
    """The metadata in the file at `location`, for reading: lazy when it is a plain v2 file (see the module)."""
    input_file = io.new_input(location)
    if not location.endswith(".metadata.json") or location.endswith(".gz.metadata.json"):
        return indexed(FromInputFile.table_metadata(input_file))
    length = len(input_file)  # FileNotFoundError when it is gone, as pyiceberg's load
    folder = cache_folder("metadata")
    if folder is not None:
        view = _read_view(folder, location, length)
        lazy = _lazy(view, io, location, length) if view is not None else None
        if lazy is not None:
            return lazy
    with input_file.open() as stream:
        data = stream.read()
    try:
        raw = json.loads(data)
    except (ValueError, RecursionError):  # pyiceberg's parse below raises its own error
        raw = None
    view = _view_of(raw) if isinstance(raw, dict) else None
    lazy = _lazy(view, io, location, len(data)) if view is not None else None
    if lazy is None:
        return indexed(TableMetadataUtil.parse_raw(data))  # type: ignore[arg-type]  # pyiceberg's load and errors
    if folder is not None:
        _write_view(folder, location, len(data), view)  # type: ignore[arg-type]
    return lazy


def lazy_metadata(raw: dict[str, Any], io: FileIO, location: str, *, every_snapshot: bool) -> TableMetadata | None:
    """The metadata of the file at `location`, of which `raw` is the parsed JSON (as a REST catalog answers a load
    or a commit with it), validated as `load_metadata` validates a file it reads lazily: its per-snapshot lists
    are read from the file on first use. None when it cannot be read lazily (not v2, or not valid: pyiceberg's
    parse of it then decides). `every_snapshot`: `raw` lists every snapshot the file does (a commit's answer; a
    load's answer may list only the refs')."""
    view = _view_of(raw)
    metadata = _lazy(view, io, location, None) if view is not None else None
    if metadata is not None:
        _read_newest(metadata, raw, every_snapshot)
        if not every_snapshot:  # SeaweedFS answers such loads with the time of the request: read from the file
            del metadata.__dict__["last_updated_ms"]
    log = raw.get("metadata-log", [])
    if metadata is not None and isinstance(log, list) and len(log) <= _KEPT_LOG:
        # short (the table keeps `write.metadata.previous-versions-max` entries): read now, so that deleting the
        # files a commit drops from it (`meshlake.catalog.commits.delete_superseded`) reads no snapshot
        try:
            metadata.__dict__["metadata_log"] = _METADATA_LOG.validate_python(log)
        except ValueError:
            return metadata  # pyiceberg's parse of the whole file decides, on first use
        metadata.__pydantic_fields_set__.add("metadata_log")
    return metadata


def _read_newest(metadata: LazyTableMetadataV2, raw: dict[str, Any], every_snapshot: bool) -> None:
    """Validate `main`'s newest `NEWEST` snapshots of `raw` ahead (what a gated write looks back at: its quality
    records' recovery) and note how many snapshots the file lists, when `raw` lists them all."""
    pending: _Pending = metadata.__pydantic_private__["_pending"]  # type: ignore[index]
    listed = raw.get("snapshots")
    if not isinstance(listed, list):
        return
    if every_snapshot:
        pending.count = len(listed)
        log = raw.get("snapshot-log", [])
        pending.log_count = len(log) if isinstance(log, list) else None
    by_id = {s.get("snapshot-id"): s for s in listed if isinstance(s, dict)}
    ref = metadata.refs.get(MAIN_BRANCH)
    wanted: list[dict[str, Any]] = []
    step = ref.snapshot_id if ref is not None else None
    while step is not None and len(wanted) < NEWEST and (entry := by_id.get(step)) is not None:
        wanted.append(entry)
        step = entry.get("parent-snapshot-id")
    try:
        newest = _SNAPSHOTS.validate_python(wanted)
    except ValueError:
        return  # pyiceberg's parse of the whole file decides, on first use
    for snapshot in newest:
        pending.snapshots.setdefault(snapshot.snapshot_id, snapshot)


HEAD_BYTES = 16 * 1024
"""How much of a metadata file's start is read for its `last-updated-ms` (`_Pending.read_updated`)."""
NEWEST = 128
"""How many of `main`'s newest snapshots a REST catalog's answer has validated ahead (see `lazy_metadata`)."""
_SNAPSHOTS = TypeAdapter(list[Snapshot])
_KEPT_LOG = 1_000
"""A metadata log longer than this is read with the rest of the lists (on first use)."""
_METADATA_LOG = TypeAdapter(list[MetadataLogEntry])


def _view_of(raw: dict[str, Any]) -> dict[str, Any] | None:
    """The read view of a parsed v2 metadata file: no per-snapshot lists, but the snapshots its refs name."""
    if raw.get("format-version") != 2 or not all(isinstance(raw.get(key, []), list) for key in _ALIASES):
        return None
    refs = raw.get("refs")
    wanted = [raw.get("current-snapshot-id")]
    if isinstance(refs, dict):
        wanted += [ref.get("snapshot-id") for ref in refs.values() if isinstance(ref, dict)]
    ids = {i for i in wanted if type(i) is int}  # anything else is pyiceberg's to refuse
    view = {key: value for key, value in raw.items() if key not in _ALIASES}
    view["snapshots"] = [
        s
        for s in raw.get("snapshots", [])
        if isinstance(s, dict) and type(s.get("snapshot-id")) is int and s["snapshot-id"] in ids
    ]
    return view


def _lazy(view: dict[str, Any], io: FileIO, location: str, length: int | None) -> LazyTableMetadataV2 | None:
    """The lazy metadata of a read view; None when the view does not validate (the whole file then decides)."""
    try:
        metadata = LazyTableMetadataV2.model_validate_json(json.dumps(view))
    except (ValueError, TypeError, RecursionError, IcebergValidationError):  # pyiceberg's own checks are no
        return None  # ValueErrors; whatever fails here, the whole file decides, through pyiceberg's parse
    snapshots: dict[int, Snapshot] = {}
    for snapshot in reversed(metadata.__dict__["snapshots"]):  # the first of an id wins, as in `snapshot_index`
        snapshots[snapshot.snapshot_id] = snapshot
    for name in LAZY_FIELDS:
        metadata.__dict__.pop(name, None)
    metadata.__pydantic_fields_set__ -= set(LAZY_FIELDS)
    metadata.__pydantic_private__["_pending"] = _Pending(io, location, length, snapshots)  # type: ignore[index]
    return metadata


def _top_level_value(text: str, key: str) -> Any:
    """The value of `key` in the JSON object `text` starts (its top level only; the text may be cut short), when
    the keys before it parse whole; else None."""
    decoder = json.JSONDecoder()
    position = _space(text, 0)
    if not text.startswith("{", position):
        return None
    position += 1
    try:
        while True:
            name, position = decoder.raw_decode(text, _space(text, position))
            position = _space(text, position)
            if not isinstance(name, str) or not text.startswith(":", position):
                return None
            value, position = decoder.raw_decode(text, _space(text, position + 1))
            position = _space(text, position)
            if name == key:  # whole only if something follows it (a number may be cut short)
                return value if text.startswith((",", "}"), position) else None
            if not text.startswith(",", position):
                return None
            position += 1
    except ValueError:  # cut short, or not JSON
        return None


def _first_line(exc: BaseException) -> str:
    """The first line of `exc`'s message (its type's name when it has none)."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _reason(exc: BaseException) -> str:
    """Why a metadata file could not be read, as `TableMetadataError` says it: the error's type and first line."""
    return f"{type(exc).__name__}: {_first_line(exc)}"


def _space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


# -- the history without pyiceberg's models ----------------------------------------------------------------------

_OPERATIONS = {operation.value for operation in Operation}


@dataclass(frozen=True, slots=True)
class SnapshotEntry:
    """One snapshot of a metadata file as history reads it: checked, but not a pyiceberg model (building those
    for every snapshot kept is what a full parse costs)."""

    snapshot_id: int
    parent_snapshot_id: int | None
    timestamp_ms: int
    operation: str | None
    """None when the snapshot has no summary."""
    properties: dict[str, str]
    """The summary (read from a file, with its `operation`; from a pyiceberg snapshot, without)."""
    raw: dict[str, Any]
    """The entry in the file (empty when made from a pyiceberg snapshot)."""
    location: str = ""
    """The metadata file it was read from."""

    def snapshot(self) -> Snapshot:
        """The pyiceberg snapshot (validated by pyiceberg), for what needs one (its manifests)."""
        try:
            return Snapshot.model_validate(self.raw)
        except (ValueError, IcebergValidationError) as exc:
            raise TableMetadataError(self.location, f"snapshot {self.snapshot_id}: {_first_line(exc)}") from exc


@dataclass(frozen=True, slots=True)
class HistoryEntries:
    """A metadata file's snapshots, in file order, and its snapshot log as (snapshot id, timestamp ms)."""

    snapshots: list[SnapshotEntry]
    log: list[tuple[int, int]]


def lazy_source(metadata: TableMetadata) -> tuple[str, int] | None:
    """The location and length of the file metadata loaded lazily, and not completed, was read from; else None."""
    if not isinstance(metadata, LazyTableMetadataV2):
        return None
    private = metadata.__pydantic_private__
    pending: _Pending | None = private.get("_pending") if private is not None else None
    return (pending.location, pending.length) if pending is not None else None


def lazy_history_entries(metadata: TableMetadata) -> HistoryEntries | None:
    """The snapshots and snapshot log of metadata loaded lazily and not completed, read from its file's JSON
    without building pyiceberg's models (what `history()` in a new process needs: a fraction of pyiceberg's
    parse), checked as pyiceberg would check them (`TableMetadataError` naming the file and the entry otherwise);
    read once per metadata. None for other metadata: its own lists are there."""
    if not isinstance(metadata, LazyTableMetadataV2):
        return None
    private = metadata.__pydantic_private__
    pending: _Pending | None = private.get("_pending") if private is not None else None
    if pending is None:
        return None
    try:
        entries, uuid = pending.read_entries()
    except _UnexpectedEntryError as unexpected:  # pyiceberg decides: it may accept what it can coerce
        try:
            metadata.complete()
        except TableMetadataError as refused:
            raise TableMetadataError(pending.location, f"{unexpected}; pyiceberg: {refused.reason}") from refused
        return None
    if uuid != str(metadata.table_uuid):
        raise TableMetadataError(pending.location, "it is not the file its first read saw (another table's)")
    return entries


class _UnexpectedEntryError(ValueError):
    """A metadata file's snapshot list or log is not as Iceberg writes it (pyiceberg's parse then decides)."""


def _int(value: Any) -> bool:
    return type(value) is int


def read_history_entries(location: str, raw: Any) -> tuple[HistoryEntries, str]:
    """The checked `HistoryEntries` of a metadata file's parsed JSON, and its table uuid
    (`_UnexpectedEntryError` when an entry is not as Iceberg writes it)."""
    if not isinstance(raw, dict):
        raise TableMetadataError(location, "it is not a JSON object")
    snapshots, log = raw.get("snapshots", []), raw.get("snapshot-log", [])
    if not isinstance(snapshots, list) or not isinstance(log, list):
        raise _UnexpectedEntryError("its snapshots or snapshot-log is not a list")
    found = []
    for n, item in enumerate(snapshots):
        found.append(_entry_of(location, n, item))
    checked_log = []
    for n, item in enumerate(log):
        if not (isinstance(item, dict) and _int(item.get("snapshot-id")) and _int(item.get("timestamp-ms"))):
            raise _UnexpectedEntryError(
                f"snapshot-log entry {n} is not a snapshot id and a timestamp: {str(item)[:200]}"
            )
        checked_log.append((item["snapshot-id"], item["timestamp-ms"]))
    return HistoryEntries(found, checked_log), str(raw.get("table-uuid"))


def _entry_of(location: str, n: int, item: Any) -> SnapshotEntry:
    def bad(what: str) -> _UnexpectedEntryError:
        return _UnexpectedEntryError(f"snapshot {n} of its snapshots list {what}: {str(item)[:200]}")

    if not isinstance(item, dict):
        raise bad("is not a JSON object")
    if not _int(item.get("snapshot-id")):
        raise bad("has no integer snapshot-id")
    parent = item.get("parent-snapshot-id")
    if parent is not None and not _int(parent):
        raise bad("has a parent-snapshot-id that is not an integer")
    if not _int(item.get("timestamp-ms")):
        raise bad("has no integer timestamp-ms")
    if not isinstance(item.get("manifest-list"), str):
        raise bad("has no manifest-list")
    for key in ("sequence-number", "schema-id"):
        if item.get(key) is not None and not _int(item[key]):
            raise bad(f"has a {key} that is not an integer")
    summary = item.get("summary")
    operation: str | None = None
    if summary is None:
        summary = {}
    else:
        if not isinstance(summary, dict) or not set(map(type, summary.values())) <= _STRING:
            raise bad("has a summary that is not a map of strings")
        operation = summary.get("operation", "overwrite")  # pyiceberg's default, with its warning
        if operation not in _OPERATIONS:
            raise bad(f"has an unknown operation {operation!r}")
    return SnapshotEntry(item["snapshot-id"], parent, item["timestamp-ms"], operation, summary, item, location)


_STRING = {str}


# -- read views on disk ------------------------------------------------------------------------------------------


def _entry(folder: Path, location: str) -> Path:
    """Where the view of the file at `location` is kept (the entry also records the file's length)."""
    key = hashlib.sha256(location.encode()).hexdigest()
    return folder / key[:2] / f"{key}.json"


def _read_view(folder: Path, location: str, length: int) -> dict[str, Any] | None:
    try:
        found = json.loads(_entry(folder, location).read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    if (
        not isinstance(found, dict)
        or found.get("version") != VIEW_VERSION
        or found.get("location") != location
        or found.get("length") != length
        or not isinstance(found.get("metadata"), dict)
    ):
        return None
    view: dict[str, Any] = found["metadata"]
    return view


def _write_view(folder: Path, location: str, length: int, view: dict[str, Any]) -> bool:
    entry = {"version": VIEW_VERSION, "location": location, "length": length, "metadata": view}
    return write_atomically(_entry(folder, location), json.dumps(entry, separators=(",", ":")).encode())


def store_view(location: str, length: int, metadata: TableMetadata, *, replaces: str | None = None) -> bool:
    """Keep the read view of `metadata`, just written to `location` (`length` bytes, not compressed), for the
    next process that loads it, and drop the view of the file it `replaces` (the table's previous metadata file:
    loads read the current one, so the views kept stay one per table); False when not kept (the cache is off, or
    the metadata is not v2)."""
    folder = cache_folder("metadata")
    if folder is None:
        return False
    if replaces is not None:
        with contextlib.suppress(OSError):  # best effort, as writing
            _entry(folder, replaces).unlink(missing_ok=True)
    if metadata.format_version != 2:
        return False
    complete(metadata)
    view = json.loads(metadata.model_dump_json(exclude=set(LAZY_FIELDS)))
    view["snapshots"] = [json.loads(s.model_dump_json()) for s in _ref_snapshots(metadata)]
    return _write_view(folder, location, length, view)


def _ref_snapshots(metadata: TableMetadata) -> Iterable[Snapshot]:
    wanted = {metadata.current_snapshot_id} | {ref.snapshot_id for ref in metadata.refs.values()}
    for snapshot_id in sorted(i for i in wanted if i is not None):
        snapshot = metadata.snapshot_by_id(snapshot_id)
        if snapshot is not None:
            yield snapshot
