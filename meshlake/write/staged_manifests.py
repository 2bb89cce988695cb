"""Manifests written before the commit, and the manifest lists of recent snapshots kept in memory.

A commit writes a manifest of the data files it adds, one of the delete files it adds, then the manifest list
naming them and the parent's manifests. The first two depend on nothing but the files and the new snapshot's id:
a merge-on-read upsert writes them while its key lookup runs (`StagedManifests`), so its commit writes only the
manifest list and the metadata. As Iceberg's Java `SnapshotProducer` keeps its new manifests across retries, they
serve every attempt and every rebase of the commit (the snapshot id is fixed when they are written; a sequence
number is assigned to them in the manifest list, as to any manifest a commit adds).

Manifest lists never change once written: `manifest_list` keeps the newest few this process read or wrote, so the
next commit on a snapshot (a stream of upserts, each on the previous) does not read its parent's list back.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from pyiceberg.manifest import (
    UNASSIGNED_SEQ,
    DataFile,
    ManifestEntry,
    ManifestEntryStatus,
    ManifestFile,
    ManifestWriter,
    write_manifest,
)
from pyiceberg.table import Table, TableProperties
from pyiceberg.table.snapshots import Snapshot

from meshlake.write.known_length import KnownLengthIO


@dataclass(frozen=True)
class StagedManifests:
    """Manifests of a change's `added` data files and `delete_files`, written for snapshot `snapshot_id` before its
    commit (see the module docstring)."""

    snapshot_id: int
    added: tuple[DataFile, ...]
    delete_files: tuple[DataFile, ...]
    data: tuple[ManifestFile, ...]
    deletes: tuple[ManifestFile, ...]

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(m.manifest_path for m in (*self.data, *self.deletes))

    def serves(self, added: Sequence[DataFile], delete_files: Sequence[DataFile]) -> bool:
        """Whether these manifests list exactly `added` and `delete_files`."""
        return tuple(added) == self.added and tuple(delete_files) == self.delete_files


def write_manifests(table: Table, files: Sequence[DataFile], snapshot_id: int, *, deletes: bool) -> list[ManifestFile]:
    """Manifests listing `files` as added by snapshot `snapshot_id`: data files under the table's default partition
    spec (as pyiceberg's producers write them), delete files one manifest per spec."""
    if not files:
        return []
    groups: dict[int, list[DataFile]] = {}
    for file in files:
        groups.setdefault(file.spec_id if deletes else table.metadata.default_spec_id, []).append(file)
    manifests: list[ManifestFile] = []
    for spec_id, group in groups.items():
        writer, location = new_manifest(table, spec_id, snapshot_id, deletes=deletes)
        try:
            with writer:
                for file in group:
                    writer.add(added_entry(snapshot_id, file))
        except BaseException:
            delete_all(table, [location, *(m.manifest_path for m in manifests)])
            raise
        manifests.append(writer.to_manifest_file())
    return manifests


def new_manifest(table: Table, spec_id: int, snapshot_id: int, *, deletes: bool) -> tuple[ManifestWriter, str]:
    """A writer of a new manifest of the table's data files (or `deletes` files) under spec `spec_id`, written as
    snapshot `snapshot_id` with the table's Avro compression, and the manifest's location."""
    from meshlake.write.manifest_merge import DeleteManifestWriter
    from meshlake.write.manifest_schemas import DataManifestWriter

    metadata = table.metadata
    compression = metadata.properties.get(
        TableProperties.WRITE_AVRO_COMPRESSION, TableProperties.WRITE_AVRO_COMPRESSION_DEFAULT
    )
    output = KnownLengthIO(table.io).new_output(
        table.location_provider().new_metadata_location(f"{uuid.uuid4()}-m0.avro")
    )
    spec, schema = metadata.specs()[spec_id], metadata.schema()
    writer: ManifestWriter
    if deletes:
        writer = DeleteManifestWriter(spec, schema, output, snapshot_id, compression)  # type: ignore[arg-type]
    elif metadata.format_version == 2:
        writer = DataManifestWriter(spec, schema, output, snapshot_id, compression)  # type: ignore[arg-type]
    else:
        writer = write_manifest(metadata.format_version, spec, schema, output, snapshot_id, compression)  # type: ignore[arg-type]
    return writer, output.location


def added_entry(snapshot_id: int, file: DataFile) -> ManifestEntry:
    """The manifest entry of `file` added by snapshot `snapshot_id`, its sequence numbers inherited from the
    manifest list (assigned when the list is written)."""
    return ManifestEntry.from_args(
        status=ManifestEntryStatus.ADDED,
        snapshot_id=snapshot_id,
        sequence_number=None,
        file_sequence_number=None,
        data_file=file,
    )


def delete_all(table: Table, paths: Sequence[str]) -> None:
    """Delete files this process wrote and will not commit (one that cannot be deleted is an orphan for
    `meshlake maintain`)."""
    for path in paths:
        try:
            table.io.delete(path)
        except Exception:
            continue


LISTS_KEPT = 32
_lists: OrderedDict[str, tuple[ManifestFile, ...]] = OrderedDict()
_lists_lock = threading.Lock()


def manifest_list(snapshot: Snapshot, table: Table) -> list[ManifestFile]:
    """`snapshot.manifests(table.io)`, read once per process for the newest `LISTS_KEPT` lists."""
    path = snapshot.manifest_list
    with _lists_lock:
        found = _lists.get(path)
        if found is not None:
            _lists.move_to_end(path)
            return list(found)
    read = tuple(snapshot.manifests(table.io))
    remember_list(path, read)
    return list(read)


def remember_written(snapshot: Snapshot, manifests: Sequence[ManifestFile], format_version: int) -> None:
    """Keep the manifest list just committed for `snapshot`, listing `manifests` (as handed to its writer): each as
    the list holds it, with the snapshot's sequence number where it had none (v2; a v1 list is read back)."""
    if format_version != 2 or snapshot.sequence_number is None:
        return
    listed = []
    for manifest in manifests:
        held = ManifestFile(*(manifest[i] for i in range(len(manifest))))  # `copy` would share the fields' list
        if held.sequence_number == UNASSIGNED_SEQ:
            held.sequence_number = snapshot.sequence_number
        if held.min_sequence_number == UNASSIGNED_SEQ:
            held.min_sequence_number = snapshot.sequence_number
        listed.append(held)
    remember_list(snapshot.manifest_list, listed)


def remember_list(path: str, manifests: Sequence[ManifestFile]) -> None:
    """Keep the manifests of the manifest list at `path` (just written or read)."""
    with _lists_lock:
        _lists[path] = tuple(manifests)
        _lists.move_to_end(path)
        while len(_lists) > LISTS_KEPT:
            _lists.popitem(last=False)
