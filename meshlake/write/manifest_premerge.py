"""Manifest merges built ahead of the commit that uses them, so a large merge does not sit on a commit's path.

A commit merges a tier of manifests when it fills (`meshlake.write.manifest_merge`): the merges of the higher
tiers read and rewrite hundreds or thousands of entries, and the commit that happens to fill the tier waits for
them (a spike of several hundred milliseconds in a stream committing every 100 ms). Instead, a stream's
background thread (`meshlake.streams.premerge`) watches `main`: when a tier of one or more entries per manifest
(`MIN_TIER`) is one manifest short of merging, it rewrites those manifests now as one (`premerge`) and offers
it for the table (`offer`). The next commit on `main` whose parent still lists every manifest it replaces swaps it
in for them (`swap_in`, called by the commit's producer); the tier then never fills inside a commit. Iceberg's
merge is correct only over exactly what it replaced, so if any of them is gone from `main` (a compaction or an
overwrite rewrote it), the offer is dropped and its file deleted (`settle`).

The merged manifest holds the live entries of the manifests it replaces as existing entries (with their snapshot
ids and sequence numbers), and drops the entries they record as deleted (deleted by earlier commits, as a merge in
the commit would). It is written without a snapshot: the commit that swaps it in becomes its `added_snapshot_id`,
and the manifest list assigns it that commit's sequence number, as for a manifest the commit wrote itself. Until a
commit lands with it, nothing refers to the file: a crash before the swap leaves an unreferenced manifest (an
orphan for `meshlake maintain`), never a changed table.

A manifest whose counts in the manifest list say it holds no live entry (every overwrite and compaction lists one,
of the files it removed) is never read: a merge drops it whole. So such manifests are offered for dropping as soon
as one is on `main`, without a read or a write (an offer without a manifest: the commit lists nothing in their
place). Left in the list, they filled a tier in the 10-minute stream (one per compaction, every 30 s), and the
thread read the 15 of them (4,500 removed entries, nothing to merge) again at every look for half a minute, until
the 16th came.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from pyiceberg.manifest import (
    MANIFEST_LIST_FILE_SCHEMAS,
    ManifestContent,
    ManifestEntry,
    ManifestFile,
)
from pyiceberg.table import Table

from meshlake.query.manifests import read_manifest
from meshlake.write.staged_manifests import manifest_list, new_manifest

MIN_TIER = 1
"""The lowest tier merged ahead of the commit (tier 0, the one-entry manifests of single appends, merges cheaply
in the commit)."""
MAIN = "main"
ADDED_SNAPSHOT_ID = [f.name for f in MANIFEST_LIST_FILE_SCHEMAS[2].fields].index("added_snapshot_id")
"""The position of `added_snapshot_id` among a `ManifestFile`'s fields (the manifest list's field order)."""


@dataclass
class Premerged:
    """A merged manifest offered for `table_uuid`'s next commit on `main`, replacing the manifests at `replaces`."""

    table_uuid: str
    replaces: frozenset[str]
    manifest: ManifestFile | None
    """None when nothing takes their place (they held no live entry)."""
    used_by: set[int] = field(default_factory=set)
    """Snapshot ids of the commits that swapped it in (landed or not)."""

    @property
    def path(self) -> str | None:
        return None if self.manifest is None else str(self.manifest.manifest_path)


_offers: dict[str, Premerged] = {}
_lock = threading.Lock()


def offered(table_uuid: str) -> Premerged | None:
    """The merged manifest offered for a table, if any."""
    with _lock:
        return _offers.get(table_uuid)


def offer(premerged: Premerged) -> None:
    """Offer `premerged` to the table's next commits on `main` (replacing any earlier offer)."""
    with _lock:
        _offers[premerged.table_uuid] = premerged


def swap_in(table_uuid: str, branch: str | None, snapshot_id: int, manifests: list[ManifestFile]) -> list[ManifestFile]:
    """`manifests` (a commit's, on `branch`) with the table's offered merge in place of the manifests it replaces,
    when the commit is on `main` and they are all among `manifests`; else `manifests` unchanged."""
    with _lock:
        premerged = _offers.get(table_uuid)
        if premerged is None or branch != MAIN:
            return manifests
        paths = {m.manifest_path for m in manifests}
        if premerged.path in paths or not premerged.replaces <= paths:
            return manifests
        premerged.used_by.add(snapshot_id)
    kept = [m for m in manifests if m.manifest_path not in premerged.replaces]
    if premerged.manifest is None:
        return kept
    fields = [premerged.manifest[i] for i in range(len(premerged.manifest))]
    fields[ADDED_SNAPSHOT_ID] = snapshot_id
    return [ManifestFile(*fields), *kept]


def settle(table: Table) -> str | None:
    """Look at the table's offer against its `main`: None when there is none, "swapped" when a snapshot of the
    table lists it (the offer is withdrawn, the file belongs to the table now), "dropped" when a manifest it
    replaces is no longer on `main` and no snapshot lists it (withdrawn and deleted), else "pending"."""
    table_uuid = str(table.metadata.table_uuid)
    with _lock:
        premerged = _offers.get(table_uuid)
        if premerged is None:
            return None
        if any(table.metadata.snapshot_by_id(s) is not None for s in premerged.used_by):
            del _offers[table_uuid]
            return "swapped"
        head = table.metadata.snapshot_by_name(MAIN)
        listed = {m.manifest_path for m in manifest_list(head, table)} if head is not None else set()
        if premerged.path is not None and premerged.path in listed:
            del _offers[table_uuid]
            return "swapped"
        if premerged.replaces <= listed:
            return "pending"
        del _offers[table_uuid]
    # A commit on `main` with this merge would have to be parented on a snapshot listing all it replaces, which
    # `main` is past: none can land with it any more.
    if premerged.path is not None:
        _delete(table, premerged.path)
    return "dropped"


def withdraw(table: Table) -> None:
    """Withdraw the table's offer (a stream ending); its file is deleted unless a landed snapshot lists it."""
    if settle(table) == "pending":
        table_uuid = str(table.metadata.table_uuid)
        with _lock:
            premerged = _offers.pop(table_uuid, None)
        if premerged is not None and premerged.path is not None and not premerged.used_by:
            _delete(table, premerged.path)
        # else a commit swapped it in and may land after this look: left (an orphan for maintenance if not)


def premerge(table: Table, *, min_tier: int = MIN_TIER) -> Premerged | None:
    """A merge of the manifests of `main` that the next commits would merge, built now: first those that hold no
    live entry (dropped, unread), else a tier of at least `min_tier` one manifest short of `min_count` (read and
    rewritten as one); None when there is neither."""
    from meshlake.write.live_entries import holds_live_entries
    from meshlake.write.manifest_merge import MergePolicy, _bins

    head = table.metadata.snapshot_by_name(MAIN)
    if head is None:
        return None
    policy = MergePolicy.of(table.metadata.properties)
    if not policy.enabled:
        return None
    table_uuid = str(table.metadata.table_uuid)
    listed = manifest_list(head, table)
    dead = frozenset(m.manifest_path for m in listed if not holds_live_entries(m))
    if dead:
        return Premerged(table_uuid, dead, None)
    groups: dict[tuple[ManifestContent, int, int], list[ManifestFile]] = {}
    for manifest in listed:
        tier = policy.tier(manifest)
        if tier >= min_tier and manifest.manifest_length < policy.target_bytes:
            groups.setdefault((manifest.content, manifest.partition_spec_id, tier), []).append(manifest)
    for (content, spec_id, _), members in sorted(groups.items(), key=lambda g: -g[0][2]):
        if len(members) < policy.min_count - 1:
            continue
        for group in _bins(members, policy.target_bytes):
            if len(group) < 2:
                continue
            replaces = frozenset(m.manifest_path for m in group)
            entries = [entry for manifest in group for entry in read_manifest(table.io, manifest)]
            if not entries:  # counts the list did not give (a v1 list): removed entries only, merged away
                return Premerged(table_uuid, replaces, None)
            return Premerged(table_uuid, replaces, _write(table, head.snapshot_id, spec_id, content, entries))
    return None


def _write(
    table: Table, snapshot_id: int, spec_id: int, content: ManifestContent, entries: list[ManifestEntry]
) -> ManifestFile:
    writer, location = new_manifest(table, spec_id, snapshot_id, deletes=content != ManifestContent.DATA)
    try:
        with writer:
            for entry in entries:
                writer.existing(entry)
    except BaseException:
        _delete(table, location)
        raise
    return writer.to_manifest_file()


def _delete(table: Table, path: str) -> None:
    try:
        table.io.delete(path)
    except Exception:  # an orphan for `meshlake maintain`
        return
