"""The live entries of a commit's parent manifests, read once per commit and only where a manifest may hold one.

pyiceberg's overwrite reads every manifest of the parent snapshot twice, with its own reader (which builds an Avro
reader tree per file): once to find the entries of the files it removes (`_deleted_entries`) and once to rewrite
the manifests that list them (`_existing_manifests`), and it reads the manifests of only removed files (every
earlier overwrite and compaction lists one) to find nothing in them. A compaction committed between two batches of
a stream does this on the stream's thread. `ReadOnceOverwrite` gives pyiceberg's overwrite the same two steps with
each manifest read at most once per commit, with meshlake's reader (`meshlake.query.manifests`), and none read
whose counts in the manifest list say it holds no live entry (`holds_live_entries`).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from pyiceberg.manifest import DataFileContent, ManifestEntry, ManifestEntryStatus, ManifestFile
from pyiceberg.typedef import KeyDefaultDict
from pyiceberg.utils.concurrent import ExecutorFactory

from meshlake.query.manifests import read_manifest
from meshlake.write.staged_manifests import manifest_list


def holds_live_entries(manifest: ManifestFile) -> bool:
    """Whether a manifest may hold live (added or existing) entries, by its counts in the manifest list (True when
    they are unknown): one that does not records only files removed by the commit that wrote it."""
    return manifest.has_added_files() or manifest.has_existing_files()


class ReadOnceOverwrite:
    """pyiceberg's `_OverwriteFiles._deleted_entries` and `_existing_manifests`, reading each parent manifest at most
    once (a mixin placed before `_OverwriteFiles`)."""

    _transaction: Any
    _io: Any
    _snapshot_id: int
    _parent_snapshot_id: int | None
    _target_branch: str | None
    _deleted_data_files: set[Any]
    _read: dict[str, list[ManifestEntry]] | None = None

    def _live(self, manifest: ManifestFile) -> list[ManifestEntry]:
        """The live entries of `manifest`, read once per commit."""
        if self._read is None:
            self._read = {}
        path = manifest.manifest_path
        if path not in self._read:
            self._read[path] = read_manifest(self._io, manifest)
        return self._read[path]

    def _candidates(self, manifest: ManifestFile, evaluators: dict[int, Any]) -> bool:
        """Whether `manifest` may list a removed file (it holds live entries in a partition the removal touches);
        on one thread at a time only (the evaluators are not thread-safe)."""
        return holds_live_entries(manifest) and bool(evaluators[manifest.partition_spec_id](manifest))

    def _deleted_entries(self) -> list[ManifestEntry]:
        if self._parent_snapshot_id is None:
            self._validate_required_deletes([])
            return []
        parent = self._transaction.table_metadata.snapshot_by_id(self._parent_snapshot_id)
        if parent is None:
            raise ValueError(f"Could not find the previous snapshot: {self._parent_snapshot_id}")
        evaluators: dict[int, Any] = KeyDefaultDict(self._build_manifest_evaluator)

        def removed(manifest: ManifestFile) -> list[ManifestEntry]:
            return [
                ManifestEntry.from_args(
                    status=ManifestEntryStatus.DELETED,
                    snapshot_id=self._snapshot_id,
                    sequence_number=entry.sequence_number,
                    file_sequence_number=entry.file_sequence_number,
                    data_file=entry.data_file,
                )
                for entry in self._live(manifest)
                if entry.data_file.content == DataFileContent.DATA and entry.data_file in self._deleted_data_files
            ]

        # pyiceberg's manifest evaluator keeps the manifest it tests on itself (`_ManifestEvalVisitor.eval`): tested
        # on the executor's threads, a manifest could be judged by another's partition summaries and skipped
        candidates = [m for m in manifest_list(parent, self._transaction._table) if self._candidates(m, evaluators)]
        entries = list(itertools.chain(*ExecutorFactory.get_or_create().map(removed, candidates)))
        self._validate_required_deletes(entries)
        return entries

    def _existing_manifests(self) -> list[ManifestFile]:
        snapshot = self._transaction.table_metadata.snapshot_by_name(name=self._target_branch)
        if snapshot is None:
            return []
        evaluators: dict[int, Any] = KeyDefaultDict(self._build_manifest_evaluator)
        existing: list[ManifestFile] = []
        for manifest in manifest_list(snapshot, self._transaction._table):
            if not self._candidates(manifest, evaluators):
                existing.append(manifest)
                continue
            entries = self._live(manifest)
            kept = [e for e in entries if e.data_file not in self._deleted_data_files]
            if len(kept) == len(entries):
                existing.append(manifest)
                continue
            if not kept:
                continue
            with self.new_manifest_writer(self.spec(manifest.partition_spec_id)) as writer:
                for entry in kept:
                    writer.existing(entry)
            existing.append(writer.to_manifest_file())
        return existing

    if TYPE_CHECKING:  # pyiceberg's producer provides these

        def _validate_required_deletes(self, deleted_entries: list[ManifestEntry]) -> None: ...

        def _build_manifest_evaluator(self, spec_id: int) -> Any: ...

        def new_manifest_writer(self, spec: Any) -> Any: ...

        def spec(self, spec_id: int) -> Any: ...
