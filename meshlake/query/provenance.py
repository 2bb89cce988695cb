"""Who wrote a snapshot: meshlake (its `meshlake.digest` matches the snapshot's files) or someone else (foreign).

meshlake stamps every snapshot it commits with `meshlake.digest` (`meshlake.contract.stamps.content_digest`).
Verifying it reads the manifests the snapshot itself wrote (those whose `added_snapshot_id` is the snapshot),
and takes from them the entries the snapshot added and removed. A snapshot is **foreign** when it carries no
digest (another engine wrote it, or a meshlake older than the digest), or when the digest does not match (its
stamps were copied from another snapshot or edited). Foreign snapshots are shown as such by `history`,
`describe`, `slo` and `doctor`; the quality gate never builds on their stamps.

A snapshot never changes, so each verdict is cached per (table uuid, snapshot id); a process that commits a
snapshot records it as verified (`remember_own`) and never reads its manifests back.

Also here: a snapshot's row total from its manifest list, for snapshots whose summary has none (another
engine's commit): the sum of the added and existing rows of its data manifests, as Iceberg's `total-records`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass

from pyiceberg.io import FileIO
from pyiceberg.manifest import ManifestContent, ManifestEntryStatus
from pyiceberg.table.snapshots import Snapshot

from meshlake.contract.stamps import DIGEST, PREFIX, content_digest
from meshlake.query.manifests import read_manifest

MESHLAKE = "meshlake"
FOREIGN = "foreign"


@dataclass(frozen=True)
class Provenance:
    """Whether meshlake wrote a snapshot (`kind` is `meshlake` or `foreign`), and why not when it did not."""

    kind: str
    reason: str | None = None

    @property
    def foreign(self) -> bool:
        return self.kind == FOREIGN


_VERIFIED = Provenance(MESHLAKE)
_CACHE: dict[tuple[str, int], Provenance] = {}
_CACHE_LIMIT = 1_000_000
_LOCK = threading.Lock()


def remember_own(table_uuid: str, snapshot_id: int) -> None:
    """Note a snapshot this process committed with its digest (it is not read back)."""
    _store((table_uuid, snapshot_id), _VERIFIED)


def known_provenance(table_uuid: str, snapshot_id: int) -> Provenance | None:
    """What this process already knows of who wrote the snapshot (it committed it, or verified it), else None."""
    with _LOCK:
        return _CACHE.get((table_uuid, snapshot_id))


def provenance(table_uuid: str, snapshot: Snapshot, io: FileIO) -> Provenance:
    """Who wrote `snapshot` (see the module docstring); reads the snapshot's own manifests once per process."""
    key = (table_uuid, snapshot.snapshot_id)
    with _LOCK:
        known = _CACHE.get(key)
    if known is not None:
        return known
    found = _verify(snapshot, io)
    _store(key, found)
    return found


def unverified(snapshot: Snapshot) -> Provenance | None:
    """What the summary alone tells: foreign when it has no digest; None when the files must be read."""
    return summary_provenance(_summary(snapshot))


def summary_provenance(props: Mapping[str, str]) -> Provenance | None:
    """`unverified` of a snapshot whose summary (without its operation) is `props`."""
    if DIGEST in props:
        return None
    if any(key.startswith(PREFIX) for key in props):
        return Provenance(FOREIGN, "meshlake stamps without a meshlake.digest")
    return Provenance(FOREIGN, "not written by meshlake (no meshlake stamps)")


def live_records(props: Mapping[str, str]) -> int:
    """The rows a snapshot's readers see, from its summary: `total-records` (the rows of its data files) less
    `total-position-deletes` (each merge-on-read delete lists a row once; compaction removes the delete files it
    folds in). With equality deletes pending the count cannot be known from metadata: `total-records`."""
    total = int(props.get("total-records") or 0)
    if int(props.get("total-equality-deletes") or 0):
        return total
    return total - int(props.get("total-position-deletes") or 0)


def removed_records(props: Mapping[str, str]) -> int:
    """The rows a snapshot removed as readers see them: rows of removed data files, plus rows its position deletes
    list, less the rows of the position delete files it removed (folded into rewritten files)."""
    return (
        int(props.get("deleted-records") or 0)
        + int(props.get("added-position-deletes") or 0)
        - int(props.get("removed-position-deletes") or 0)
    )


def total_records(snapshot: Snapshot, io: FileIO) -> int:
    """The snapshot's `total-records`, or, when its summary has none, the rows of its data manifests."""
    props = _summary(snapshot)
    if "total-records" in props:
        return live_records(props)
    total = 0
    for manifest in snapshot.manifests(io):
        if manifest.content == ManifestContent.DATA:
            total += int(manifest.added_rows_count or 0) + int(manifest.existing_rows_count or 0)
    return total


def _verify(snapshot: Snapshot, io: FileIO) -> Provenance:
    early = unverified(snapshot)
    if early is not None:
        return early
    props = _summary(snapshot)
    sid = snapshot.snapshot_id
    added: list[tuple[str, int, int]] = []
    deleted: list[str] = []
    for manifest in snapshot.manifests(io):
        if manifest.added_snapshot_id != sid:
            continue
        for entry in read_manifest(io, manifest, discard_deleted=False):
            if entry.snapshot_id != sid:
                continue
            file = entry.data_file
            if entry.status == ManifestEntryStatus.ADDED:
                added.append((file.file_path, int(file.file_size_in_bytes), int(file.record_count)))
            elif entry.status == ManifestEntryStatus.DELETED:
                deleted.append(file.file_path)
    if content_digest(added, deleted, props) != props[DIGEST]:
        return Provenance(FOREIGN, "meshlake.digest does not match the snapshot's files and stamps")
    return _VERIFIED


def _summary(snapshot: Snapshot) -> Mapping[str, str]:
    return snapshot.summary.additional_properties if snapshot.summary is not None else {}


def _store(key: tuple[str, int], value: Provenance) -> None:
    with _LOCK:
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[key] = value
