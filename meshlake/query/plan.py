"""Scan planning: which Parquet files make up one snapshot of a port, and which delete files apply.

pyiceberg 0.12's `plan_files` refuses equality deletes, so the plan is built from the manifests directly,
with the Iceberg spec's rules (https://iceberg.apache.org/spec/#scan-planning):

- a position delete applies to a data file of the same partition (spec and values) whose data sequence
  number is <= the delete's, and only if the delete may reference that file (its `file_path` bounds);
- an equality delete applies to data files whose data sequence number is < the delete's, in the same
  partition, or in every partition when the delete was written with an unpartitioned spec.

A snapshot never changes, so its plan is cached (`cached_plan`); nor does a manifest, so what each manifest
adds to a plan is kept too (`_manifest_part`): planning a new snapshot of a port appended to 10,000 times
reads its manifest list and the one or two manifests the last commit wrote, and joins the tasks the others
gave before. Partition keys are numbered per table (`ScanPlan.partitions` may list keys of other snapshots).
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from itertools import chain
from typing import TYPE_CHECKING, Any, Literal

from pyiceberg.io import FileIO
from pyiceberg.manifest import DataFile, DataFileContent, ManifestContent, ManifestEntry, ManifestFile
from pyiceberg.schema import Schema
from pyiceberg.table import Table
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.table.name_mapping import MappedField
from pyiceberg.table.snapshots import Snapshot
from pyiceberg.transforms import IdentityTransform
from pyiceberg.typedef import Record
from pyiceberg.types import NestedField
from pyiceberg.utils.concurrent import ExecutorFactory

from meshlake.catalog.metadata import snapshot_by_id
from meshlake.catalog.storage import is_s3, remember_sizes
from meshlake.errors import SnapshotNotFoundError
from meshlake.query.errors import UnsupportedScanError
from meshlake.query.fieldids import without_field_ids
from meshlake.query.manifest_cache import cache_folder, load_tasks, store_tasks
from meshlake.query.manifests import clear_readers, read_manifest

if TYPE_CHECKING:
    import polars as pl

FILE_PATH_FIELD_ID = 2147483546
POS_FIELD_ID = 2147483545

PartitionKey = tuple[int, tuple[object, ...]]


@dataclass(frozen=True, slots=True)
class DeleteFile:
    """A position or equality delete file."""

    path: str
    content: Literal["position", "equality"]
    file_format: str
    sequence_number: int
    record_count: int
    partition: int | None
    """Index into `ScanPlan.partitions`; None for an equality delete that applies to every partition."""
    equality_ids: tuple[int, ...] = ()
    referenced_file: str | None = None
    """The single data file whose rows this position delete file lists, when its bounds say so."""
    path_bounds: tuple[bytes, bytes] | None = None
    file_size: int | None = None
    """Its size in bytes, as its manifest says (None when made without one)."""


@dataclass(frozen=True, slots=True)
class DataTask:
    """One data file of the snapshot, with the delete files that apply to it."""

    path: str
    file_format: str
    sequence_number: int
    record_count: int
    file_size: int
    partition: int
    position_deletes: tuple[DeleteFile, ...] = ()
    equality_deletes: tuple[DeleteFile, ...] = ()

    @property
    def has_deletes(self) -> bool:
        return bool(self.position_deletes or self.equality_deletes)


@dataclass(frozen=True, eq=False)
class ScanPlan:
    """Everything a reader needs to read one snapshot in place, without touching the catalog again."""

    name: str
    snapshot_id: int | None
    schema: Schema
    tasks: tuple[DataTask, ...] = ()
    partitions: tuple[PartitionKey, ...] = ()
    equality_fields: Mapping[int, NestedField] = field(default_factory=dict)
    """Every column an equality delete compares on, by field id (it may be absent from `schema`)."""
    schemas: tuple[Schema, ...] = ()
    """All the table's schemas, so readers can tell whether nested names were ever reused or renamed."""
    name_mapping: Mapping[int, tuple[str, ...]] | None = None
    """The table's name mapping (field id -> names) when some planned file lacks field ids, else None."""
    unmapped: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """The planned files without field ids (`add_files` imports), with their top-level column names: read by name
    through `name_mapping`."""
    io_properties: Mapping[str, str] = field(default_factory=dict)
    """The table's FileIO properties (storage endpoint and credentials), for readers that open files."""
    identity_sources: frozenset[int] = frozenset()
    """Field ids that some partition spec partitions by identity (their values live in the manifests too)."""

    @property
    def files(self) -> list[str]:
        return [task.path for task in self.tasks]

    @cached_property
    def has_deletes(self) -> bool:
        return any(task.position_deletes or task.equality_deletes for task in self.tasks)

    @cached_property
    def file_formats(self) -> frozenset[str]:
        """The formats of the data files."""
        return frozenset(task.file_format for task in self.tasks)

    @cached_property
    def path_texts(self) -> tuple[str, ...] | None:
        """The data files' paths joined by `\\x1f`, one text per manifest, in task order; None when not known.

        Planning sets it from what each manifest's part kept (a plan with 10,000 files joins a dozen texts, not
        10,000 paths); like every cached value it is not carried over by `dataclasses.replace`, which may change
        the tasks."""
        return None

    @cached_property
    def record_count(self) -> int:
        """The rows of the data files (before any delete file applies)."""
        return sum(task.record_count for task in self.tasks)

    @cached_property
    def remote_locations(self) -> frozenset[tuple[str, str]]:
        """(scheme, netloc) of every data and delete file not on a local disk (what readers register filesystems
        for)."""
        return _remote_locations(self.tasks)

    def appended(self, added: tuple[DataTask, ...], **changes: Any) -> ScanPlan:
        """This plan with `added` tasks after its own (and `changes`), what it derived carried over, not
        recomputed from every task: a staged append costs what it adds."""
        plan = replace(self, tasks=(*self.tasks, *added), **changes)
        # cached_property values live in the instance dict: set them from this plan's
        plan.__dict__["has_deletes"] = self.has_deletes or any(t.has_deletes for t in added)
        plan.__dict__["file_formats"] = self.file_formats.union(t.file_format for t in added)
        texts = self.path_texts
        if texts is not None and added:
            texts = (*texts, "\x1f".join(t.path for t in added))
            if len(texts) > _MAX_PATH_TEXTS:  # one text again: each of a long chain of appends adds one
                texts = ("\x1f".join(texts),)
        plan.__dict__["path_texts"] = texts
        plan.__dict__["record_count"] = self.record_count + sum(t.record_count for t in added)
        plan.__dict__["remote_locations"] = self.remote_locations | _remote_locations(added)
        return plan

    def to_duckdb_sql(self) -> str:
        """One DuckDB relation (SELECT text) reading this snapshot in place."""
        from meshlake.query.sql import scan_sql

        return scan_sql(self)

    def to_polars(self) -> pl.LazyFrame:
        """A lazy Polars frame reading this snapshot in place."""
        from meshlake.query.polars_scan import to_polars

        return to_polars(self)


_MAX_PATH_TEXTS = 32
"""`ScanPlan.appended` joins the path texts into one past this many (escaping a new text costs its length)."""

_URI = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://([^/\n]*)", re.MULTILINE)
_LOCAL_SCHEMES = frozenset({"", "file"})


def _remote_locations(tasks: tuple[DataTask, ...]) -> frozenset[tuple[str, str]]:
    paths = [t.path for t in tasks]
    for task in tasks:
        if task.position_deletes or task.equality_deletes:
            paths += [d.path for d in (*task.position_deletes, *task.equality_deletes)]
    lines = "\n" + "\n".join(paths)
    if lines.count("\n/") + lines.count("\nfile:") == len(paths):
        return frozenset()  # every file is local (two scans in C instead of a pass per file)
    found = {(scheme.lower(), netloc) for scheme, netloc in _URI.findall(lines)}
    return frozenset((scheme, netloc) for scheme, netloc in found if scheme not in _LOCAL_SCHEMES)


def plan_scan(table: Table, snapshot_id: int | None) -> ScanPlan:
    """Plan a snapshot of `table` (None: the table has no snapshot yet, an empty plan). Not cached."""
    return _plan(table.metadata, table.io, snapshot_id, ".".join(table.name()))


def plan_snapshot(
    metadata: TableMetadata,
    io: FileIO,
    snapshot_id: int | None,
    *,
    metadata_location: str | None = None,
    name: str | None = None,
    cache: PlanCache | None = None,
) -> ScanPlan:
    """Plan a snapshot from table metadata and its FileIO, through `cache` (default: process-wide)."""
    return (cache or _default_cache).plan(metadata, io, snapshot_id, metadata_location=metadata_location, name=name)


def cached_plan(table: Table, snapshot_id: int | None) -> ScanPlan:
    """`plan_scan` through the process-wide plan cache."""
    return _default_cache.get(table, snapshot_id)


def clear_plan_cache() -> None:
    """Forget every plan of the process-wide cache, the planned manifests and the manifest readers (to measure
    cold reads)."""
    _default_cache.clear()
    _manifest_parts.clear()
    clear_readers()


class PlanCache:
    """A bounded LRU of plans; a snapshot's plan never changes, so entries never go stale.

    The key is (table uuid, snapshot id) when the snapshot records its schema, since the plan is then the
    same in every later metadata version; otherwise (metadata location, snapshot id).
    """

    def __init__(self, maxsize: int = 256) -> None:
        self.maxsize = maxsize
        self._plans: OrderedDict[tuple[str, int | None], ScanPlan] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, table: Table, snapshot_id: int | None) -> ScanPlan:
        """The plan of `snapshot_id` of `table`, planned on first use."""
        return self.plan(
            table.metadata,
            table.io,
            snapshot_id,
            metadata_location=table.metadata_location,
            name=".".join(table.name()),
        )

    def plan(
        self,
        metadata: TableMetadata,
        io: FileIO,
        snapshot_id: int | None,
        *,
        metadata_location: str | None = None,
        name: str | None = None,
    ) -> ScanPlan:
        """The plan of `snapshot_id`, planned on first use."""
        key = _cache_key(metadata, snapshot_id, metadata_location)
        with self._lock:
            plan = self._plans.get(key) if key is not None else None
            if plan is not None:
                self._plans.move_to_end(key)  # type: ignore[arg-type]
                return plan
        plan = _plan(metadata, io, snapshot_id, name or f"table {metadata.table_uuid}")
        if key is not None:
            with self._lock:
                self._plans[key] = plan
                while len(self._plans) > self.maxsize:
                    self._plans.popitem(last=False)
        return plan

    def clear(self) -> None:
        with self._lock:
            self._plans.clear()

    def __len__(self) -> int:
        return len(self._plans)


_default_cache = PlanCache()


def _cache_key(
    metadata: TableMetadata, snapshot_id: int | None, metadata_location: str | None
) -> tuple[str, int | None] | None:
    snapshot = metadata.snapshot_by_id(snapshot_id) if snapshot_id is not None else None
    if snapshot is not None and snapshot.schema_id is not None:
        return (f"uuid:{metadata.table_uuid}", snapshot_id)
    return (metadata_location, snapshot_id) if metadata_location else None


def _plan(metadata: TableMetadata, io: FileIO, snapshot_id: int | None, name: str) -> ScanPlan:
    meta = metadata
    schemas = tuple(meta.schemas)
    mapping = _name_mapping(meta)
    io_properties = dict(io.properties)
    if snapshot_id is None:
        # no file to read: the table's name mapping (if any) cannot matter
        return ScanPlan(name, None, meta.schema(), schemas=schemas, io_properties=io_properties)
    snapshot = meta.snapshot_by_id(snapshot_id)
    if snapshot is None:
        known = ", ".join(str(s.snapshot_id) for s in meta.snapshots[-5:]) or "none"
        raise SnapshotNotFoundError(name, str(snapshot_id), exists=f"Recent snapshots: {known}.")
    schema = meta.schema_by_id(snapshot.schema_id) if snapshot.schema_id is not None else None
    schema = schema or meta.schema()
    schemas = _schemas_until(meta, snapshot)

    parts = _manifest_parts.get(meta, io, _wanted(snapshot.manifests(io)))
    position: dict[int, list[DeleteFile]] = {}
    equality: dict[int | None, list[DeleteFile]] = {}
    for part in parts:
        for delete in part.deletes:
            if delete.content == "position":
                position.setdefault(delete.partition, []).append(delete)  # type: ignore[arg-type]
            else:
                equality.setdefault(delete.partition, []).append(delete)
    clean = chain.from_iterable(part.tasks for part in parts)
    deletes = bool(position or equality)
    if deletes:
        index = _DeleteIndex(position, equality)
        tasks = tuple(index.attach(task) for task in clean)
    else:
        tasks = tuple(clean)  # the common case: the manifests' tasks as they were planned the first time
    if tasks and is_s3(tasks[0].path):
        deleted = [(d.path, d.file_size) for part in parts for d in part.deletes if d.file_size is not None]
        remember_sizes(io_properties, chain(((task.path, task.file_size) for task in tasks), deleted))
    unmapped: dict[str, tuple[str, ...]] = {}
    if mapping is not None:
        paths = [task.path for task in tasks] + [d.path for part in parts for d in part.deletes]
        manifests = [(part.source, [task.path for task in part.tasks]) for part in parts if part.source]
        unmapped = without_field_ids(io, paths, manifests)
        if not unmapped:
            mapping = None  # some REST catalogs put a name mapping on every table; the files decide if it matters
    eq_ids = {i for found in equality.values() for d in found for i in d.equality_ids}
    plan = ScanPlan(
        name=name,
        snapshot_id=snapshot_id,
        schema=schema,
        tasks=tasks,
        partitions=_manifest_parts.partitions(meta).keys(),
        equality_fields=_equality_fields(eq_ids, schema, schemas, name),
        schemas=schemas,
        name_mapping=mapping,
        unmapped=unmapped,
        io_properties=io_properties,
        identity_sources=_identity_sources(meta),
    )
    # what each manifest's part derived once, so that a plan of many files costs what its manifests count
    if not deletes:
        plan.__dict__["has_deletes"] = False
    plan.__dict__["file_formats"] = frozenset().union(*(part.formats for part in parts))
    plan.__dict__["path_texts"] = tuple(part.path_text for part in parts if part.tasks)
    return plan


# -- the plan of one manifest, kept: a manifest never changes ----------------------------------------------------


@dataclass(frozen=True)
class _ManifestPart:
    """What one manifest adds to a plan: its data files as tasks (no deletes attached) and its delete files."""

    tasks: tuple[DataTask, ...]
    deletes: tuple[DeleteFile, ...]
    source: tuple[str, int] | None = None
    """The data manifest's location and length (None for a manifest of delete files)."""

    @cached_property
    def formats(self) -> frozenset[str]:
        return frozenset(task.file_format for task in self.tasks)

    @cached_property
    def path_text(self) -> str:
        """The data files' paths joined by `\\x1f` (`ScanPlan.path_texts`)."""
        return "\x1f".join(task.path for task in self.tasks)


class _PartitionIndex:
    """Partition keys of one table, numbered in the order first seen (shared by all its plans, so that a
    manifest's tasks keep their partition numbers in every snapshot that lists it)."""

    def __init__(self) -> None:
        self._numbers: dict[PartitionKey, int] = {}
        self._keys: tuple[PartitionKey, ...] = ()
        self._lock = threading.Lock()

    def number(self, key: PartitionKey) -> int:
        found = self._numbers.get(key)
        if found is None:
            with self._lock:
                found = self._numbers.setdefault(key, len(self._numbers))
                if len(self._keys) < len(self._numbers):
                    self._keys = tuple(self._numbers)
        return found

    def keys(self) -> tuple[PartitionKey, ...]:
        return self._keys


class _ManifestParts:
    """The planned parts of manifests, over all tables: a bounded LRU by the number of files they hold."""

    def __init__(self, max_files: int = 500_000) -> None:
        self.max_files = max_files
        self._parts: OrderedDict[str, _ManifestPart] = OrderedDict()
        self._files = 0
        self._lock = threading.Lock()
        self._partitions: dict[str, _PartitionIndex] = {}

    def partitions(self, meta: TableMetadata) -> _PartitionIndex:
        with self._lock:
            return self._partitions.setdefault(str(meta.table_uuid), _PartitionIndex())

    def get(self, meta: TableMetadata, io: FileIO, manifests: list[ManifestFile]) -> list[_ManifestPart]:
        """The parts of `manifests`, reading those not kept (in threads when they are not on a local disk)."""
        keys = [f"{meta.table_uuid}:{m.manifest_path}" for m in manifests]
        with self._lock:
            found = [self._parts.get(key) for key in keys]
            for key, part in zip(keys, found, strict=True):
                if part is not None:
                    self._parts.move_to_end(key)
        missing = [m for m, part in zip(manifests, found, strict=True) if part is None]
        if missing:
            folder = cache_folder()

            def plan(manifest: ManifestFile) -> _ManifestPart:
                partitions = self.partitions(meta)
                kept = load_tasks(folder, manifest, partitions.number) if folder is not None else None
                source = (manifest.manifest_path, manifest.manifest_length)
                if kept is not None:
                    return _ManifestPart(kept, (), source)
                part = _plan_manifest(meta, read_manifest(io, manifest), partitions)
                if manifest.content == ManifestContent.DATA:
                    part = replace(part, source=source)
                if folder is not None and not part.deletes:
                    keys = partitions.keys()
                    store_tasks(folder, manifest, [(keys[t.partition], t) for t in part.tasks])
                return part

            if all(_is_local(m.manifest_path) for m in missing):
                # Local manifests decode in ~50 µs each: handing them to threads costs more than it saves.
                planned = iter([plan(m) for m in missing])
            else:
                planned = iter(list(ExecutorFactory.get_or_create().map(plan, missing)))
            found = [part if part is not None else next(planned) for part in found]
            with self._lock:
                for key, part in zip(keys, found, strict=True):
                    if key not in self._parts and part is not None:
                        self._parts[key] = part
                        self._files += len(part.tasks) + len(part.deletes)
                while self._files > self.max_files and len(self._parts) > 1:
                    _, dropped = self._parts.popitem(last=False)
                    self._files -= len(dropped.tasks) + len(dropped.deletes)
        return [part for part in found if part is not None]

    def clear(self) -> None:
        with self._lock:
            self._parts.clear()
            self._files = 0


_manifest_parts = _ManifestParts()


def _plan_manifest(meta: TableMetadata, entries: list[ManifestEntry], partitions: _PartitionIndex) -> _ManifestPart:
    tasks: list[DataTask] = []
    deletes: list[DeleteFile] = []
    for entry in entries:
        file = entry.data_file
        key = partitions.number(partition_key(file))
        if file.content == DataFileContent.DATA:
            tasks.append(
                DataTask(
                    path=file.file_path,
                    file_format=str(file.file_format.value),
                    sequence_number=_sequence_number(entry),
                    record_count=file.record_count,
                    file_size=file.file_size_in_bytes,
                    partition=key,
                )
            )
        elif file.content == DataFileContent.POSITION_DELETES:
            deletes.append(_delete_file(entry, "position", key))
        elif file.content == DataFileContent.EQUALITY_DELETES:
            scope = None if meta.specs()[file.spec_id].is_unpartitioned() else key
            deletes.append(_delete_file(entry, "equality", scope))
        else:
            raise UnsupportedScanError(f"unknown file content {file.content}", hint="upgrade meshlake")
    return _ManifestPart(tuple(tasks), tuple(deletes))


def _identity_sources(meta: TableMetadata) -> frozenset[int]:
    return frozenset(
        f.source_id for spec in meta.partition_specs for f in spec.fields if isinstance(f.transform, IdentityTransform)
    )


def _schemas_until(meta: TableMetadata, snapshot: Snapshot) -> tuple[Schema, ...]:
    """The schemas the snapshot's files can have been written with: none newer than its lineage used."""
    top = max((s.schema_id for s in meta.schemas), default=-1)
    newest = -1
    current: Snapshot | None = snapshot
    while current is not None:
        if current.schema_id is None:
            return tuple(meta.schemas)
        newest = max(newest, current.schema_id)
        if newest >= top:  # every schema is in range already: no need to walk a long history
            break
        parent = current.parent_snapshot_id
        current = snapshot_by_id(meta, parent)  # a dict lookup, not pyiceberg's linear search
    return tuple(s for s in meta.schemas if s.schema_id <= newest)


def _wanted(manifests: Iterable[ManifestFile]) -> list[ManifestFile]:
    """The manifests a plan reads: delete manifests older than every data file apply to nothing (pyiceberg skips
    them too), and a manifest that only records removed files (every overwrite writes one) holds no live entry."""
    manifests = list(manifests)
    floor = min((m.min_sequence_number for m in manifests if m.content == ManifestContent.DATA), default=0)
    wanted = [m for m in manifests if m.content == ManifestContent.DATA or m.sequence_number >= floor]
    return [m for m in wanted if m.has_added_files() or m.has_existing_files()]


def _is_local(path: str) -> bool:
    return path.startswith(("/", "file:"))


def _name_mapping(metadata: TableMetadata) -> dict[int, tuple[str, ...]] | None:
    mapping = metadata.name_mapping()
    if mapping is None:
        return None
    out: dict[int, tuple[str, ...]] = {}

    def visit(fields: Iterable[MappedField]) -> None:
        for f in fields:
            if f.field_id is not None:
                out[f.field_id] = tuple(f.names)
            visit(f.fields)

    visit(mapping.root)
    return out


def partition_key(file: DataFile) -> PartitionKey:
    partition: Record = file.partition
    return (file.spec_id, tuple(partition[i] for i in range(len(partition))))


def _delete_file(entry: ManifestEntry, content: Literal["position", "equality"], partition: int | None) -> DeleteFile:
    return delete_file_of(entry.data_file, partition, _sequence_number(entry), content)


def delete_file_of(
    file: DataFile, partition: int | None, sequence_number: int, content: Literal["position", "equality"] = "position"
) -> DeleteFile:
    """The plan's record of delete file `file` (`partition`: its index in `ScanPlan.partitions`)."""
    lower = (file.lower_bounds or {}).get(FILE_PATH_FIELD_ID)
    upper = (file.upper_bounds or {}).get(FILE_PATH_FIELD_ID)
    bounds = (lower, upper) if content == "position" and lower is not None and upper is not None else None
    referenced = None
    if bounds is not None and bounds[0] == bounds[1]:
        try:
            referenced = bounds[0].decode("utf-8")
        except UnicodeDecodeError:
            referenced = None
    return DeleteFile(
        path=file.file_path,
        content=content,
        file_format=str(file.file_format.value),
        sequence_number=sequence_number,
        record_count=file.record_count,
        partition=partition,
        equality_ids=tuple(file.equality_ids or ()) if content == "equality" else (),
        referenced_file=referenced,
        path_bounds=bounds,
        file_size=file.file_size_in_bytes,
    )


def _sequence_number(entry: ManifestEntry) -> int:
    # v1 tables have no sequence numbers: every file has sequence number 0.
    return entry.sequence_number if entry.sequence_number is not None else 0


class _DeleteIndex:
    """Delete files by partition, sorted by sequence number, matched to data files with the spec's rules."""

    def __init__(self, position: dict[int, list[DeleteFile]], equality: dict[int | None, list[DeleteFile]]) -> None:
        self._position = {k: _by_seq(v) for k, v in position.items()}
        self._equality = {k: _by_seq(v) for k, v in equality.items()}

    def attach(self, task: DataTask) -> DataTask:
        """`task` with the delete files that apply to it."""
        seq, path, partition = task.sequence_number, task.path, task.partition
        pos: list[DeleteFile] = []
        if partition in self._position:
            seqs, files = self._position[partition]
            pos = [d for d in files[bisect_left(seqs, seq) :] if may_reference(d, path)]
        eq: list[DeleteFile] = []
        for scope in (partition, None):
            if scope in self._equality:
                seqs, files = self._equality[scope]
                eq.extend(files[bisect_right(seqs, seq) :])
        if not pos and not eq:
            return task
        return replace(task, position_deletes=tuple(pos), equality_deletes=tuple(eq))


def _by_seq(files: list[DeleteFile]) -> tuple[list[int], list[DeleteFile]]:
    ordered = sorted(files, key=lambda d: d.sequence_number)
    return [d.sequence_number for d in ordered], ordered


def may_reference(delete: DeleteFile, data_path: str) -> bool:
    if delete.path_bounds is None:
        return True
    lower, upper = delete.path_bounds
    return lower <= data_path.encode("utf-8") <= upper


def _equality_fields(ids: set[int], schema: Schema, schemas: tuple[Schema, ...], name: str) -> dict[int, NestedField]:
    found: dict[int, NestedField] = {}
    for field_id in sorted(ids):
        # The snapshot's own schema first, then newer-to-older: a column may have been dropped since.
        for candidate in (schema, *reversed(schemas)):
            top = {f.field_id: f for f in candidate.fields}
            if field_id in top:
                found[field_id] = top[field_id]
                break
            try:
                candidate.find_field(field_id)
            except ValueError:
                continue
            raise UnsupportedScanError(
                f"an equality delete compares nested field id {field_id}",
                hint="equality deletes on nested fields are not applied by meshlake; compact the table",
                address=name,
            )
        else:
            raise UnsupportedScanError(
                f"an equality delete compares field id {field_id}, which no schema of the table has",
                hint="the table metadata is inconsistent; compact or repair the table",
                address=name,
            )
    return found
