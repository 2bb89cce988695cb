"""Table metadata at the cost of what changed: updates applied without a deep copy, JSON written from cached parts.

A table's `metadata.json` holds every snapshot it keeps, so anything done to the whole of it on every commit
grows with the history. pyiceberg does three such things per commit: `update_table_metadata` deep-copies the
whole metadata (twice per meshlake commit, 250 ms at 1,000 snapshots), the SQL catalog parses the file
again before applying the updates, and the JSON is rendered from scratch. Here:

- `apply_updates` applies pyiceberg's own update rules (`_apply_table_update`, which copy only what they
  change) and skips the final deep copy: metadata models are frozen, and nothing mutates the lists and
  dicts the new metadata shares with its base (snapshot removal follows pyiceberg's rule with sets: its
  own searches the whole list once per removed snapshot);
- `metadata_json` renders the snapshots and the snapshot log from the previous render when the lists only
  grew (the usual commit), so a commit renders one snapshot, not all of them, and hands the file over as
  chunks of about 1 MiB that are never copied into one buffer;
- `snapshot_index` finds snapshots by id through a dict built once per snapshot list (pyiceberg searches
  the list linearly on every `snapshot_by_id`); `IndexedTableMetadataV2` is pyiceberg's metadata using it,
  which the lake's SQL catalog hands out, so that pyiceberg's own lookups in a commit use it too;
- `MetadataCache` keeps parsed metadata by location: a metadata file never changes once written.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pyiceberg.table.metadata import TableMetadata, TableMetadataV2
from pyiceberg.table.snapshots import Snapshot
from pyiceberg.table.update import (
    RemoveSnapshotRefUpdate,
    RemoveSnapshotsUpdate,
    RemoveStatisticsUpdate,
    TableUpdate,
    _apply_table_update,
    _TableMetadataUpdateContext,
    _update_table_metadata_log,
)
from pyiceberg.utils.datetime import datetime_to_millis

_RENDERED = ("snapshots", "snapshot_log")


def apply_updates(
    base: TableMetadata, updates: Sequence[TableUpdate], *, metadata_location: str | None = None
) -> tuple[TableMetadata, bool]:
    """`base` with `updates` applied as pyiceberg's `update_table_metadata` does, without its deep copy.

    `metadata_location` (the file `base` was read from) enters the metadata log when anything changed.
    Returns the new metadata and whether anything changed.
    """
    context = _TableMetadataUpdateContext()
    new = base
    for update in updates:
        if isinstance(update, RemoveSnapshotsUpdate):
            new = _remove_snapshots(update, new, context)
        else:
            new = _apply_table_update(update, new, context)
    if context.has_changes():
        if metadata_location:
            new = _update_table_metadata_log(new, metadata_location, base.last_updated_ms)
        if base.last_updated_ms == new.last_updated_ms:
            new = new.model_copy(update={"last_updated_ms": datetime_to_millis(datetime.now().astimezone())})
    new.spec().check_compatible(new.schema())
    new.sort_order().check_compatible(new.schema())
    return new, context.has_changes()


def _remove_snapshots(
    update: RemoveSnapshotsUpdate, base: TableMetadata, context: _TableMetadataUpdateContext
) -> TableMetadata:
    """pyiceberg's rule for `RemoveSnapshotsUpdate`, with sets: pyiceberg searches the snapshot list once per
    removed id, so expiring most of 10,000 snapshots took minutes."""
    doomed = set(update.snapshot_ids)
    index = snapshot_index(base)
    missing = [snapshot_id for snapshot_id in update.snapshot_ids if snapshot_id not in index]
    if missing:
        raise ValueError(f"Snapshot with snapshot id {missing[0]} does not exist")
    snapshots = [
        s.model_copy(update={"parent_snapshot_id": None}) if s.parent_snapshot_id in doomed else s
        for s in base.snapshots
        if s.snapshot_id not in doomed
    ]
    snapshot_log = [entry for entry in base.snapshot_log if entry.snapshot_id not in doomed]
    new = base
    for name, ref in base.refs.items():
        if ref.snapshot_id in doomed:
            new = _apply_table_update(RemoveSnapshotRefUpdate(ref_name=name), new, context)
    for statistics in base.statistics:
        if statistics.snapshot_id in doomed:
            new = _apply_table_update(RemoveStatisticsUpdate(snapshot_id=statistics.snapshot_id), new, context)
    context.add_update(update)
    return new.model_copy(update={"snapshots": snapshots, "snapshot_log": snapshot_log})


# -- rendering ----------------------------------------------------------------------------------------------

_BLOCK_BYTES = 1 << 20


class _Rendered:
    """The JSON of one list of a table's metadata, as blocks of about 1 MiB (never joined into one buffer: a
    commit writes them as they are), the items it renders (to tell which of them a new list shares), and the
    length of each item's JSON (to cut the render back to the items shared)."""

    __slots__ = ("blocks", "counts", "items", "lengths", "size", "tail", "tail_bytes", "tail_count")

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.blocks: list[bytes] = []
        self.counts: list[int] = []
        self.lengths: list[int] = []
        self.tail: list[bytes] = []
        self.tail_bytes = 0
        self.tail_count = 0
        self.size = 0

    def add(self, rendered: bytes) -> None:
        self.tail.append(rendered)
        self.tail_bytes += len(rendered)
        self.tail_count += 1
        self.lengths.append(len(rendered))
        self.size += len(rendered)
        if self.tail_bytes >= _BLOCK_BYTES:
            self.blocks.append(b",".join(self.tail))
            self.counts.append(self.tail_count)
            self.tail, self.tail_bytes, self.tail_count = [], 0, 0

    def keep(self, count: int) -> None:
        """Cut the render back to its first `count` items (bytes sliced, nothing rendered again)."""
        start = 0
        for index, items in enumerate(self.counts):
            if start + items > count:
                piece = self.blocks[index]
                del self.blocks[index:], self.counts[index:]
                break
            start += items
        else:
            piece = b",".join(self.tail)
        kept = count - start
        length = sum(self.lengths[start:count]) + max(0, kept - 1)  # the items and the commas between them
        self.tail = [piece[:length]] if kept else []
        self.tail_bytes, self.tail_count = (length, kept) if kept else (0, 0)
        del self.lengths[count:], self.items[count:]
        self.size = sum(self.lengths)

    def chunks(self) -> list[bytes]:
        """The rendered items, comma-separated, as chunks to write one after the other."""
        parts = [*self.blocks, b",".join(self.tail)] if self.tail else list(self.blocks)
        out: list[bytes] = []
        for part in parts:
            if out:
                out.append(b",")
            out.append(part)
        return out


_renders: OrderedDict[tuple[str, str], _Rendered] = OrderedDict()
_renders_lock = threading.Lock()
_MAX_RENDER_BYTES = 256 << 20
"""Rendered metadata kept, over all tables (about 1 KB per snapshot): least recently committed tables go first."""


def metadata_json(metadata: TableMetadata) -> list[bytes]:
    """The metadata as pyiceberg writes it (`ToOutputFile.table_metadata`), as chunks to write in order.

    The snapshots and the snapshot log are rendered item by item; the items a list shares with the start of the
    previous render of the same table are not rendered again: all of them when a commit adds to that list, all
    but the last few when the previous render was of another version (a commit that lost the race for `main` to
    a compaction in the same process, then its retry on the compaction's snapshot). The rest of
    the metadata (schemas, specs, refs, properties, the metadata log: small) is rendered by pydantic.
    """
    if metadata.format_version < 2 or _legacy_snapshot_id():
        return [metadata.model_dump_json().encode("utf-8")]  # v1 and the legacy -1 id render differently
    head = metadata.model_dump_json(exclude=set(_RENDERED)).encode("utf-8")
    uuid = str(metadata.table_uuid)
    snapshots = _render(uuid, "snapshots", metadata.snapshots)
    log = _render(uuid, "snapshot-log", metadata.snapshot_log)
    return [head[:-1], b',"snapshots":[', *snapshots, b'],"snapshot-log":[', *log, b"]}"]


def _render(uuid: str, name: str, items: list[Any]) -> list[bytes]:
    key = (uuid, name)
    with _renders_lock:
        rendered = _renders.pop(key, None)
    if rendered is None:
        rendered = _Rendered()
    known = _shared(items, rendered.items)
    if known < len(rendered.items):
        rendered.keep(known)
    for item in items[known:]:
        rendered.add(item.model_dump_json().encode("utf-8"))
    rendered.items = list(items)
    chunks = rendered.chunks()
    with _renders_lock:
        _renders[key] = rendered
        total = sum(r.size for r in _renders.values())
        while total > _MAX_RENDER_BYTES and len(_renders) > 1:
            total -= _renders.popitem(last=False)[1].size
    return chunks


def _shared(items: list[Any], rendered: list[Any]) -> int:
    """How many items `items` starts with that `rendered` starts with too (list equality checks identity first: the
    items a new version shares with the last one compare in C), by halving after the common case (all of them)."""
    known = min(len(items), len(rendered))
    if items[:known] == rendered[:known]:
        return known
    low, high = 0, known  # items[:low] is shared, items[:high] is not
    while high - low > 1:
        middle = (low + high) // 2
        if items[:middle] == rendered[:middle]:
            low = middle
        else:
            high = middle
    return low


@functools.cache
def _legacy_snapshot_id() -> bool:
    """pyiceberg's `legacy-current-snapshot-id` setting (read once: it comes from its config file)."""
    from pyiceberg.utils.config import Config

    return bool(Config().get_bool("legacy-current-snapshot-id"))


# -- finding snapshots ----------------------------------------------------------------------------------------

_indexes: OrderedDict[int, tuple[list[Snapshot], dict[int, Snapshot]]] = OrderedDict()
_latest: dict[str, tuple[list[Snapshot], dict[int, Snapshot]]] = {}
"""Per table uuid, the index built last."""
_indexes_lock = threading.Lock()
_MAX_INDEXES = 32


def snapshot_index(metadata: TableMetadata) -> Mapping[int, Snapshot]:
    """The metadata's snapshots by id, built once per snapshot list (lists are shared by metadata versions
    that did not change them, and never change themselves). A list that extends one indexed before (a commit
    adds a snapshot) copies that index and adds to it."""
    snapshots = metadata.snapshots
    key = id(snapshots)
    with _indexes_lock:
        found = _indexes.get(key)
        if found is not None and found[0] is snapshots:
            _indexes.move_to_end(key)
            return found[1]
        latest = _latest.get(str(metadata.table_uuid))
    if latest is not None and len(latest[0]) <= len(snapshots) and snapshots[: len(latest[0])] == latest[0]:
        index = dict(latest[1])  # identical items compare in C: the common prefix costs no Python per snapshot
        for snapshot in snapshots[len(latest[0]) :]:
            index.setdefault(snapshot.snapshot_id, snapshot)
    else:
        index = {snapshot.snapshot_id: snapshot for snapshot in reversed(snapshots)}  # the first of an id wins
    with _indexes_lock:
        _indexes[key] = (snapshots, index)  # the list is held, so its id is not reused while cached
        _latest[str(metadata.table_uuid)] = (snapshots, index)
        while len(_indexes) > _MAX_INDEXES:
            _indexes.popitem(last=False)
        while len(_latest) > _MAX_INDEXES:
            _latest.pop(next(iter(_latest)))
    return index


class IndexedTableMetadataV2(TableMetadataV2):
    """pyiceberg's v2 table metadata, finding snapshots by id through `snapshot_index`: pyiceberg searches the
    list on every `snapshot_by_id`, and a commit calls it about ten times (3 ms at 10,000 snapshots)."""

    def snapshot_by_id(self, snapshot_id: int) -> Snapshot | None:
        return snapshot_index(self).get(snapshot_id)


def indexed(metadata: TableMetadata) -> TableMetadata:
    """`metadata` as `IndexedTableMetadataV2` (the same fields, not validated again) when it is v2."""
    if type(metadata) is not TableMetadataV2:
        return metadata
    return IndexedTableMetadataV2.model_construct(_fields_set=metadata.model_fields_set, **dict(metadata))


def snapshot_by_id(metadata: TableMetadata, snapshot_id: int | None) -> Snapshot | None:
    """`metadata.snapshot_by_id`, through `snapshot_index` (metadata loaded lazily answers from the snapshots it
    read first when it can: `meshlake.catalog.loading`)."""
    if snapshot_id is None:
        return None
    if isinstance(metadata, IndexedTableMetadataV2):
        return metadata.snapshot_by_id(snapshot_id)
    return snapshot_index(metadata).get(snapshot_id)


def snapshot_by_name(metadata: TableMetadata, name: str) -> Snapshot | None:
    """`metadata.snapshot_by_name`, through `snapshot_index`."""
    ref = metadata.refs.get(name)
    return snapshot_by_id(metadata, ref.snapshot_id) if ref is not None else None


def ancestors(metadata: TableMetadata, snapshot: Snapshot | None) -> Any:
    """`pyiceberg.table.snapshots.ancestors_of`, one dict lookup per step: `snapshot`, its parent, and so on
    (metadata loaded lazily answers from the snapshots it read first as long as it can)."""
    lookup = metadata.snapshot_by_id if isinstance(metadata, IndexedTableMetadataV2) else snapshot_index(metadata).get
    while snapshot is not None:
        yield snapshot
        parent = snapshot.parent_snapshot_id
        snapshot = lookup(parent) if parent is not None else None


# -- parsed metadata by location ----------------------------------------------------------------------------


class MetadataCache:
    """The newest parsed metadata of each table, with the location of its file (a metadata file never changes).

    Keyed by table, so that other tables' commits never push out a table's current metadata (a cache by
    location fills with every superseded version); bounded LRU by tables.
    """

    def __init__(self, maxsize: int = 256) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[tuple[str, ...], tuple[str, TableMetadata]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, table: tuple[str, ...], location: str) -> TableMetadata | None:
        """The metadata of `table` if the one kept was read from (or written to) `location`."""
        with self._lock:
            found = self._items.get(table)
            if found is None or found[0] != location:
                return None
            self._items.move_to_end(table)
            return found[1]

    def put(self, table: tuple[str, ...], location: str, metadata: TableMetadata) -> None:
        with self._lock:
            self._items[table] = (location, metadata)
            self._items.move_to_end(table)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)

    def adopt(self, table: tuple[str, ...], location: str, metadata: TableMetadata) -> TableMetadata:
        """Keep `metadata`, just read from `location`, unless the cache holds that very file or a later version of
        the table: then return the one held for that file, or `metadata` without keeping it.

        A second catalog of the process (a stream's background thread, a compactor) races the stream's commits: it
        may read the catalog row before a commit's swap and look in the cache after the commit's `put`, then keep
        its lazily loaded copy of the superseded file; or read the row between the swap and the `put` and keep a
        lazy copy of the new file over the commit's complete one. Either way the stream's next commit started from a
        lazily loaded metadata and parsed the whole file again (0.2-0.3 s of CPU at 5,000 snapshots, and every
        snapshot compared again in its render)."""
        with self._lock:
            found = self._items.get(table)
            if found is not None and found[0] == location:
                self._items.move_to_end(table)
                return found[1]
            if (
                found is not None
                and found[1].table_uuid == metadata.table_uuid  # (a table dropped and created again starts over)
                and metadata_version(found[0]) > metadata_version(location)
            ):
                return metadata  # a commit of this process kept a later version: the row read was stale
            self._items[table] = (location, metadata)
            self._items.move_to_end(table)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)
            return metadata

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def metadata_version(location: str) -> int:
    """The version a metadata file's name starts with (`00042-<uuid>.metadata.json`: 42), -1 when it has none."""
    name = location.rsplit("/", 1)[-1]
    digits = name.split("-", 1)[0]
    return int(digits) if digits.isdigit() and "-" in name else -1


def superseded_metadata_files(base: TableMetadata, new: TableMetadata) -> set[str]:
    """The metadata files `base`'s log names and `new`'s no longer does: what delete-after-commit removes."""
    kept = {entry.metadata_file for entry in new.metadata_log}
    return {entry.metadata_file for entry in base.metadata_log} - kept
