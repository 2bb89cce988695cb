"""Orphan files: files under a table's `data/` and `metadata/` that nothing live refers to.

A file is kept when any of these holds, and is an orphan otherwise:

- the current metadata file, or a previous one still in the metadata log, names it (it *is* one);
- a live snapshot (any snapshot left in the metadata: on `main`, a tag, a quarantine branch, or kept
  for time travel) refers to it: its manifest list, its manifests, their data and delete files;
- it is a statistics file of the metadata;
- it was modified less than `older_than` ago: a writer may have written it and not committed yet;
- it is not a kind of file the table can own: data and delete files in `data/` (`.parquet`, `.orc`,
  `.avro`, `.puffin`), manifests, manifest lists, metadata and statistics files in `metadata/`
  (left to whoever wrote it);
- it is a symbolic link, or lies behind one (see `meshlake.maintenance.storage`: never listed).

Before deleting, the table is loaded again and anything a newer metadata refers to is taken back out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from pyiceberg.io import FileIO
from pyiceberg.manifest import ManifestFile
from pyiceberg.table import Table
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.table.snapshots import Snapshot

from meshlake.maintenance.storage import Storage, StoredFile, file_key
from meshlake.query.manifests import read_manifest

T = TypeVar("T")
R = TypeVar("R")

METADATA_SUFFIXES = (".metadata.json", ".metadata.json.gz", ".gz.metadata.json", ".avro", ".puffin", ".stats")
DATA_SUFFIXES = (".parquet", ".orc", ".avro", ".puffin")
"""Data files (Parquet, ORC, Avro) and delete files (Parquet position/equality deletes, Puffin deletion vectors)."""


@dataclass
class References:
    """The files live metadata refers to, by `file_key`, and what was read to know it."""

    keys: set[str] = field(default_factory=set)
    snapshots: set[int] = field(default_factory=set)
    manifests: set[str] = field(default_factory=set)

    def add_metadata(self, metadata: TableMetadata, location: str | None) -> None:
        if location:
            self.keys.add(file_key(location))
        self.keys.update(file_key(entry.metadata_file) for entry in metadata.metadata_log)
        self.keys.update(file_key(s.statistics_path) for s in metadata.statistics)
        self.keys.update(file_key(s.statistics_path) for s in metadata.partition_statistics)

    def add_snapshots(self, io: FileIO, snapshots: Iterable[Snapshot]) -> None:
        """Add each snapshot's manifest list, manifests and files (a manifest is read once)."""
        new: list[ManifestFile] = []
        for snapshot in snapshots:
            if snapshot.snapshot_id in self.snapshots:
                continue
            self.snapshots.add(snapshot.snapshot_id)
            if snapshot.manifest_list:
                self.keys.add(file_key(snapshot.manifest_list))
            for manifest in snapshot.manifests(io):
                if manifest.manifest_path not in self.manifests:
                    self.manifests.add(manifest.manifest_path)
                    new.append(manifest)
        self.keys.update(file_key(m.manifest_path) for m in new)
        for entries in _map(lambda m: read_manifest(io, m), new, local=all(_is_local(m.manifest_path) for m in new)):
            self.keys.update(file_key(entry.data_file.file_path) for entry in entries)


@dataclass
class OrphanScan:
    """Unreferenced files of one table: old enough to remove, and too young to touch."""

    orphans: list[StoredFile]
    young: list[StoredFile]
    listed: int
    references: References

    @property
    def orphan_bytes(self) -> int:
        return sum(f.size for f in self.orphans)


def find_orphans(table: Table, snapshots: Sequence[Snapshot], *, older_than: datetime) -> OrphanScan:
    """List the table's files and keep those `snapshots` and the metadata do not refer to."""
    references = References()
    references.add_metadata(table.metadata, table.metadata_location)
    references.add_snapshots(table.io, snapshots)
    location = table.metadata.location.rstrip("/")
    storage = Storage(table.io, location)
    orphans: list[StoredFile] = []
    young: list[StoredFile] = []
    listed = 0
    for folder, kinds in ((f"{location}/data", DATA_SUFFIXES), (f"{location}/metadata", METADATA_SUFFIXES)):
        prefix = file_key(folder).rstrip("/") + "/"
        for stored in storage.list(folder):
            listed += 1
            if stored.key in references.keys:
                continue
            if not stored.key.startswith(prefix) or not stored.key.endswith(kinds):
                continue
            if stored.modified is None or stored.modified >= older_than:
                young.append(stored)
            else:
                orphans.append(stored)
    return OrphanScan(sorted(orphans, key=lambda f: f.key), young, listed, references)


def delete_orphans(table: Table, scan: OrphanScan) -> tuple[list[StoredFile], list[str]]:
    """Delete the scan's orphans, after checking again against the table's newest metadata.

    Returns the files deleted and the errors (a file that could not be deleted stays listed next time).
    """
    fresh = table.refresh()
    if fresh.metadata_location != table.metadata_location:
        scan.references.add_metadata(fresh.metadata, fresh.metadata_location)
        scan.references.add_snapshots(fresh.io, fresh.metadata.snapshots)
    doomed = [f for f in scan.orphans if f.key not in scan.references.keys]
    storage = Storage(table.io, table.metadata.location)

    def delete(stored: StoredFile) -> str | None:
        try:
            storage.delete(stored.key)
        except FileNotFoundError:
            return None
        except OSError as exc:
            return f"could not delete {stored.location}: {exc}"
        return None

    outcomes = list(_map(delete, doomed, local=storage.scheme == "file"))
    deleted = [f for f, error in zip(doomed, outcomes, strict=True) if error is None]
    return deleted, [error for error in outcomes if error is not None]


def _map(function: Callable[[T], R], items: Sequence[T], *, local: bool) -> list[R]:
    """`map` for cheap local work, threads for object stores (each call waits on the network)."""
    if local or len(items) < 2:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=16, thread_name_prefix="meshlake-maintain") as pool:
        return list(pool.map(function, items))


def _is_local(path: str) -> bool:
    return path.startswith(("/", "file:"))
