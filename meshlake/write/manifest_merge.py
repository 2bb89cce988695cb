"""Small manifests merged as part of a commit, so a table's manifest list stays short however long its history.

Every append writes one manifest; unmerged, a port appended to 10,000 times has 10,000 manifests, each
commit rewrites a manifest list naming all of them and planning opens every one. Iceberg merges them in the
commit, under three table properties that meshlake honours: `commit.manifest-merge.enabled` (meshlake's
default: on, as in Iceberg's Java library; pyiceberg's is off), `commit.manifest.min-count-to-merge` (m,
default 100) and `commit.manifest.target-size-bytes` (default 8 MiB).

Manifests merge in tiers, like the levels of an LSM tree: one of fewer than m file entries is tier 0, fewer
than m² tier 1, and so on. When a tier holds m manifests of one partition spec (the commit's own included),
they are rewritten as one manifest of a higher tier, packed in bins of at most the target size; a manifest
at the target size is never rewritten. So a file entry is rewritten about log_m(files) times in its life, a
snapshot keeps fewer than m manifests per tier (about 100 for the first 10,000 appends), and a merge reads at
most m manifests of one tier: the costly merges are rare (one of 10,000 entries every 10,000 appends).
Iceberg's Java library instead rewrites the newest bin whole every m commits, so the same up-to-8 MiB
manifest is rewritten again and again as it grows.

The rewrite follows Iceberg's rules (pyiceberg's `_ManifestMergeManager`): entries this commit adds stay
added, entries it deletes stay deleted, other live entries become existing (with their sequence numbers), and
entries deleted by earlier commits are dropped. The manifest of the files this commit adds is never read back
(its entries are known); a committed manifest whose counts in the manifest list say it holds no live entry (the
one of the files an overwrite or a compaction removed) is not read, as it merges to nothing; other manifests are
read with meshlake's manifest reader. If one cannot be read
(a principal that may append to meshlake's records but not read their manifests), nothing is merged: the
commit goes on as a plain append, and a later commit by someone who can read them merges.

A merge may also be built ahead of the commit (`meshlake.write.manifest_premerge`, a stream's background thread):
a commit on `main` whose parent lists every manifest it replaces lists it instead of them, before its own tiers
are merged.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from pyiceberg.manifest import (
    DataFile,
    ManifestContent,
    ManifestEntry,
    ManifestEntryStatus,
    ManifestFile,
    ManifestWriter,
    ManifestWriterV2,
)
from pyiceberg.partitioning import PartitionSpec
from pyiceberg.table import TableProperties
from pyiceberg.table.snapshots import Summary
from pyiceberg.table.update.snapshot import _FastAppendFiles, _OverwriteFiles, _SnapshotProducer
from pyiceberg.typedef import EMPTY_DICT
from pyiceberg.utils.properties import property_as_bool, property_as_int

from meshlake.query.manifests import read_manifest
from meshlake.write import manifest_premerge as premerge
from meshlake.write.live_entries import ReadOnceOverwrite, holds_live_entries
from meshlake.write.manifest_schemas import DataManifestWriter, KeptSchemas
from meshlake.write.staged_manifests import StagedManifests, added_entry, manifest_list

MERGE_ENABLED = TableProperties.MANIFEST_MERGE_ENABLED
MIN_COUNT_TO_MERGE = TableProperties.MANIFEST_MIN_MERGE_COUNT
TARGET_SIZE_BYTES = TableProperties.MANIFEST_TARGET_SIZE_BYTES
DEFAULT_MIN_COUNT = TableProperties.MANIFEST_MIN_MERGE_COUNT_DEFAULT
DEFAULT_TARGET_BYTES = TableProperties.MANIFEST_TARGET_SIZE_BYTES_DEFAULT


@dataclass(frozen=True)
class MergePolicy:
    """When a commit merges manifests (see the module docstring)."""

    enabled: bool = True
    min_count: int = DEFAULT_MIN_COUNT
    target_bytes: int = DEFAULT_TARGET_BYTES

    @classmethod
    def of(cls, properties: dict[str, str]) -> MergePolicy:
        """The policy a table's properties set (meshlake's defaults where they set none)."""
        return cls(
            enabled=bool(property_as_bool(properties, MERGE_ENABLED, True)),
            min_count=max(2, property_as_int(properties, MIN_COUNT_TO_MERGE, DEFAULT_MIN_COUNT) or DEFAULT_MIN_COUNT),
            target_bytes=max(1, property_as_int(properties, TARGET_SIZE_BYTES, DEFAULT_TARGET_BYTES) or 1),
        )

    def tier(self, manifest: ManifestFile) -> int:
        """0 for fewer than `min_count` file entries, 1 for fewer than `min_count`², …"""
        entries = _entry_count(manifest)
        return 0 if entries < self.min_count else int(math.log(entries) / math.log(self.min_count) + 1e-9)


@dataclass
class MergeClock:
    """What the manifest merges inside commits took while `merge_clock()`'s block ran (`seconds`, `manifests`
    rewritten): the write's own commit and the records it appends (`meshlake.system.quality_results`)."""

    seconds: float = 0.0
    manifests: int = 0


_MERGE_CLOCK: contextvars.ContextVar[MergeClock | None] = contextvars.ContextVar("merge_clock", default=None)


@contextlib.contextmanager
def merge_clock() -> Iterator[MergeClock]:
    """Time the merges of the commits made in this thread (context) while the block runs."""
    clock = MergeClock()
    token = _MERGE_CLOCK.set(clock)
    try:
        yield clock
    finally:
        _MERGE_CLOCK.reset(token)


class _Merging(_SnapshotProducer):  # type: ignore[type-arg]
    """A snapshot producer that merges its snapshot's data manifests by tier before writing the manifest list,
    and that adds delete files in a DELETES manifest of their own (pyiceberg 0.12 writes only data manifests).

    When it removes no data file, its snapshot keeps the parent's manifests as they are (pyiceberg's overwrite would
    still plan deletes against every one of them), and it may use manifests written before the commit
    (`use_staged`) instead of writing its own."""

    merged: int = 0
    """Manifests this producer rewrote (0 when it merged nothing)."""
    _delete_files: tuple[DataFile, ...] = ()
    _removed_delete_files: frozenset[str] = frozenset()
    _removed_found: tuple[DataFile, ...] = ()
    _staged: StagedManifests | None = None
    listed: list[ManifestFile] | None = None
    """The manifests its manifest list names, once known (when it removes no data file)."""
    _swapped: frozenset[str] = frozenset()
    """A manifest merged ahead of the commit that it listed instead of those it replaces (`manifest_premerge`)."""

    def new_manifest_writer(self, spec: PartitionSpec) -> ManifestWriter:
        """pyiceberg's, a v2 data manifest written with kept schemas (`manifest_schemas`)."""
        if self._transaction.table_metadata.format_version != 2:
            return super().new_manifest_writer(spec)
        output = self.new_manifest_output()
        return DataManifestWriter(spec, self.schema(), output, self._snapshot_id, self._compression)

    def use_staged(self, staged: StagedManifests) -> None:
        """Commit as snapshot `staged.snapshot_id`, with `staged`'s manifests of the added data and delete files
        (they must list exactly the files added to this producer)."""
        self._snapshot_id = staged.snapshot_id
        self._staged = staged

    def wrote(self, path: str) -> bool:
        """Whether the manifest at `path` was written for this snapshot (by this producer, or staged for it)."""
        return (
            path in self._written_manifests
            or path in self._swapped
            or (self._staged is not None and path in self._staged.paths)
        )

    def _manifests(self) -> list[ManifestFile]:
        if self._deleted_data_files:
            return super()._manifests()
        added = list(self._staged.data) if self._staged is not None else self._added_manifests()
        self.listed = self._process_manifests([*added, *self._parent_manifests()])
        return self.listed

    def _added_manifests(self) -> list[ManifestFile]:
        """The manifest of the added data files, under the default spec (as pyiceberg's producers write it)."""
        if not self._added_data_files:
            return []
        with self.new_manifest_writer(spec=self._transaction.table_metadata.spec()) as writer:
            for data_file in self._added_data_files:
                writer.add(added_entry(self._snapshot_id, data_file))
        return [writer.to_manifest_file()]

    def _parent_manifests(self) -> list[ManifestFile]:
        if self._parent_snapshot_id is None:
            return []
        parent = self._transaction.table_metadata.snapshot_by_id(self._parent_snapshot_id)
        if parent is None:
            raise ValueError(f"Snapshot could not be found: {self._parent_snapshot_id}")
        return manifest_list(parent, self._transaction._table)

    def add_delete_file(self, delete_file: DataFile) -> None:
        """Add a position or equality delete file to the snapshot."""
        self._delete_files = (*self._delete_files, delete_file)

    def remove_delete_file(self, path: str) -> None:
        """Remove a delete file from the snapshot (one that applies to no live data file any more)."""
        self._removed_delete_files = self._removed_delete_files | {path}

    def _summary(self, snapshot_properties: dict[str, str] = EMPTY_DICT) -> Summary:
        # pyiceberg's summary counts what `_added_data_files` and `_deleted_data_files` hold, delete files by their
        # content (added-delete-files, added-position-deletes, removed-position-deletes, total-position-deletes …).
        data_files, deleted = self._added_data_files, self._deleted_data_files
        self._added_data_files = [*data_files, *self._delete_files]
        self._deleted_data_files = deleted | set(self._removed_found)
        try:
            return super()._summary(snapshot_properties)
        finally:
            self._added_data_files, self._deleted_data_files = data_files, deleted

    def _without_removed_deletes(self, manifests: list[ManifestFile]) -> list[ManifestFile]:
        """`manifests` with each delete manifest that lists a removed delete file rewritten to mark it deleted."""
        found: list[DataFile] = []
        out: list[ManifestFile] = []
        for manifest in manifests:
            if manifest.content != ManifestContent.DELETES or self.wrote(manifest.manifest_path):
                out.append(manifest)
                continue
            entries = read_manifest(self._io, manifest)
            if not any(e.data_file.file_path in self._removed_delete_files for e in entries):
                out.append(manifest)
                continue
            spec = self.spec(manifest.partition_spec_id)
            writer = DeleteManifestWriter(
                spec, self.schema(), self.new_manifest_output(), self._snapshot_id, self._compression
            )
            with writer:
                for entry in entries:
                    status = ManifestEntryStatus.EXISTING
                    if entry.data_file.file_path in self._removed_delete_files:
                        status = ManifestEntryStatus.DELETED
                        found.append(entry.data_file)
                    writer.add_entry(
                        ManifestEntry.from_args(
                            status=status,
                            snapshot_id=self._snapshot_id
                            if status == ManifestEntryStatus.DELETED
                            else entry.snapshot_id,
                            sequence_number=entry.sequence_number,
                            file_sequence_number=entry.file_sequence_number,
                            data_file=entry.data_file,
                        )
                    )
            out.append(writer.to_manifest_file())
        self._removed_found = tuple(found)
        return out

    def _delete_manifests(self) -> list[ManifestFile]:
        if self._staged is not None:
            return list(self._staged.deletes)
        by_spec: dict[int, list[DataFile]] = {}
        for delete_file in self._delete_files:
            by_spec.setdefault(delete_file.spec_id, []).append(delete_file)
        manifests = []
        for spec_id, files in by_spec.items():
            writer = DeleteManifestWriter(
                self.spec(spec_id), self.schema(), self.new_manifest_output(), self._snapshot_id, self._compression
            )
            with writer:
                for delete_file in files:
                    writer.add(added_entry(self._snapshot_id, delete_file))
            manifests.append(writer.to_manifest_file())
        return manifests

    def _process_manifests(self, manifests: list[ManifestFile]) -> list[ManifestFile]:
        if self._removed_delete_files:
            manifests = self._without_removed_deletes(manifests)
        if self._delete_files:
            manifests = [*self._delete_manifests(), *manifests]
        policy = MergePolicy.of(self._transaction.table_metadata.properties)
        if not policy.enabled:
            return manifests
        manifests = self._swap_premerged(manifests)
        written_before = len(self._written_manifests)
        began = time.perf_counter()
        try:
            return merge_manifests(self, manifests, policy)
        except OSError:
            # Some manifest cannot be read here (a record grant, for one): commit without merging.
            for path in self._written_manifests[written_before:]:
                with contextlib.suppress(OSError):  # else an orphan for `meshlake maintain`
                    self._io.delete(path)
            del self._written_manifests[written_before:]
            self.merged = 0
            return manifests
        finally:
            clock = _MERGE_CLOCK.get()
            if clock is not None and self.merged:
                clock.seconds += time.perf_counter() - began
                clock.manifests += self.merged

    def _swap_premerged(self, manifests: list[ManifestFile]) -> list[ManifestFile]:
        """`manifests` with a merge built ahead of the commit in place of what it replaces, if one is offered."""
        table_uuid = str(self._transaction.table_metadata.table_uuid)
        if premerge.offered(table_uuid) is None:
            return manifests
        before = {m.manifest_path for m in manifests}
        manifests = premerge.swap_in(table_uuid, self._target_branch, self._snapshot_id, manifests)
        self._swapped = frozenset(m.manifest_path for m in manifests) - before
        return manifests

    def own_entries(self, manifest: ManifestFile) -> list[ManifestEntry] | None:
        """The entries of a manifest this producer wrote for its added files (not read back), else None."""
        if manifest.added_snapshot_id != self._snapshot_id or not self.wrote(manifest.manifest_path):
            return None
        if manifest.content != ManifestContent.DATA:
            return None  # this commit's delete manifest: merged by a later commit
        added = manifest.added_files_count
        if manifest.existing_files_count or manifest.deleted_files_count or added != len(self._added_data_files):
            return None  # a manifest of deleted or kept entries this commit wrote (an overwrite's)
        if not added:
            return None
        return [added_entry(self._snapshot_id, data_file) for data_file in self._added_data_files]


class DeleteManifestWriter(KeptSchemas, ManifestWriterV2):
    """A v2 manifest of delete files (content `deletes`), written with kept schemas (`manifest_schemas`)."""

    def content(self) -> ManifestContent:
        return ManifestContent.DELETES

    @property
    def _meta(self) -> dict[str, str]:
        return {**super()._meta, "content": "deletes"}


class MergingAppend(_Merging, _FastAppendFiles):
    """pyiceberg's fast append, merging manifests by tier (see the module docstring)."""


class MergingOverwrite(_Merging, ReadOnceOverwrite, _OverwriteFiles):
    """pyiceberg's overwrite, merging manifests by tier (see the module docstring), reading each parent manifest
    at most once (`meshlake.write.live_entries`)."""


def merge_manifests(producer: _Merging, manifests: list[ManifestFile], policy: MergePolicy) -> list[ManifestFile]:
    """The snapshot's manifests with every full tier merged, data and delete manifests apart (a merge-on-read
    write adds a delete manifest, so those grow as the data manifests do)."""
    by_kind: dict[tuple[ManifestContent, int], list[ManifestFile]] = {}
    for manifest in manifests:
        by_kind.setdefault((manifest.content, manifest.partition_spec_id), []).append(manifest)
    merged: list[ManifestFile] = []
    for (content, spec_id), group in by_kind.items():
        merged += _merge_tiers(producer, spec_id, group, policy, content)
    return merged


def _merge_tiers(
    producer: _Merging,
    spec_id: int,
    manifests: list[ManifestFile],
    policy: MergePolicy,
    content: ManifestContent = ManifestContent.DATA,
) -> list[ManifestFile]:
    current = [(policy.tier(m), m) for m in manifests]
    tier = 0
    while tier <= max(t for t, _ in current):
        members = [m for t, m in current if t == tier and _mergeable(producer, m, policy)]
        if len(members) >= policy.min_count:
            outputs: list[tuple[int, ManifestFile]] = []
            chosen: set[str] = set()
            for group in _bins(members, policy.target_bytes):
                if len(group) > 1:
                    merged = _rewrite(producer, spec_id, group, content)
                    if merged is not None:
                        outputs.append((policy.tier(merged), merged))
                    chosen.update(m.manifest_path for m in group)
            current = [*outputs, *((t, m) for t, m in current if m.manifest_path not in chosen)]
        tier += 1
    return [m for _, m in current]


def _mergeable(producer: _Merging, manifest: ManifestFile, policy: MergePolicy) -> bool:
    """Below the target size, and either committed already or the manifest of this commit's added files
    (other manifests this commit wrote, such as merged ones, are merged by a later commit)."""
    if manifest.manifest_length >= policy.target_bytes:
        return False
    return not producer.wrote(manifest.manifest_path) or producer.own_entries(manifest) is not None


def _bins(manifests: Sequence[ManifestFile], target: int) -> list[list[ManifestFile]]:
    """Consecutive manifests (newest first) packed into bins of at most `target` bytes."""
    bins: list[list[ManifestFile]] = []
    size = 0
    for manifest in manifests:
        if bins and size + manifest.manifest_length <= target:
            bins[-1].append(manifest)
            size += manifest.manifest_length
        else:
            bins.append([manifest])
            size = manifest.manifest_length
    return bins


def _rewrite(
    producer: _Merging, spec_id: int, group: list[ManifestFile], content: ManifestContent = ManifestContent.DATA
) -> ManifestFile | None:
    """One manifest (of `content`) holding what the manifests of `group` hold; None when they hold nothing but
    entries earlier commits deleted (the merge drops those, and an empty manifest is not written)."""
    snapshot_id = producer.snapshot_id
    kept: list[tuple[ManifestEntryStatus, ManifestEntry]] = []
    for entry in _entries(producer, group):
        if entry.status == ManifestEntryStatus.DELETED:
            if entry.snapshot_id == snapshot_id:
                kept.append((ManifestEntryStatus.DELETED, entry))
        elif entry.status == ManifestEntryStatus.ADDED and entry.snapshot_id == snapshot_id:
            kept.append((ManifestEntryStatus.ADDED, entry))
        else:
            kept.append((ManifestEntryStatus.EXISTING, entry))
    producer.merged += len(group)
    if not kept:
        return None
    if content == ManifestContent.DATA:
        writer = producer.new_manifest_writer(spec=producer.spec(spec_id))
    else:
        spec, schema, output = producer.spec(spec_id), producer.schema(), producer.new_manifest_output()
        writer = DeleteManifestWriter(spec, schema, output, snapshot_id, producer._compression)
    with writer:
        for status, entry in kept:
            if status == ManifestEntryStatus.DELETED:
                writer.delete(entry)
            elif status == ManifestEntryStatus.ADDED:
                writer.add(entry)
            else:
                writer.existing(entry)
    return writer.to_manifest_file()


def _entries(producer: _Merging, group: Iterable[ManifestFile]) -> Iterable[ManifestEntry]:
    for manifest in group:
        own = producer.own_entries(manifest)
        if own is not None:
            yield from own
        elif holds_live_entries(manifest):  # else only entries earlier commits deleted, which the merge drops
            yield from read_manifest(producer._io, manifest, discard_deleted=False)


def _entry_count(manifest: ManifestFile) -> int:
    counts = (manifest.added_files_count, manifest.existing_files_count, manifest.deleted_files_count)
    known = [c for c in counts if c is not None]
    return max(1, sum(known)) if known else 1
