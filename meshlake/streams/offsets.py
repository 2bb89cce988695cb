"""The offsets a port has consumed, read from its own snapshots (never from the broker's acknowledgements).

Every batch a stream commits carries, in its snapshot summary:

- `meshlake.stream.<source-id>`: JSON `{partition: next position}` after the batch;
- `meshlake.stream-source.<source-id>`: which stream that is (`StreamSource.identity`);
- `meshlake.stream-policy`: the port's `on_failure` when the batch was consumed.

A batch that failed its gate is committed to a quarantine branch with the same stamps. Resuming takes the
newest stamped snapshot of `main`'s history, plus — per partition, the later position wins — quarantined
batches consumed under `skip` and batches released from quarantine onto `main` since (a release carries its
batch's older offsets, so it must not move the stream back).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pyiceberg.table.refs import MAIN_BRANCH, SnapshotRefType

from meshlake.catalog.metadata import snapshot_index
from meshlake.errors import CommitConflictError
from meshlake.write.commit import QUARANTINE_PREFIX

if TYPE_CHECKING:
    from pyiceberg.table import Table
    from pyiceberg.table.snapshots import Snapshot

    from meshlake.streams.source import Position
    from meshlake.write.results import RebaseCheck

STREAM_PREFIX = "meshlake.stream."
SOURCE_PREFIX = "meshlake.stream-source."
POLICY = "meshlake.stream-policy"
RELEASED_FROM = "meshlake.released-from"


def offsets_key(source_id: str) -> str:
    return STREAM_PREFIX + source_id


def stream_stamps(source_id: str, identity: str, positions: Mapping[str, Position], policy: str) -> dict[str, str]:
    """The summary entries of one batch (keys under `meshlake.`)."""
    return {
        offsets_key(source_id): json.dumps(dict(sorted(positions.items())), separators=(",", ":")),
        SOURCE_PREFIX + source_id: identity,
        POLICY: policy,
    }


def unprefixed(stamps: Mapping[str, str]) -> dict[str, str]:
    """`stamps` as a write takes them: named without `meshlake.`, which the write adds back."""
    return {key.removeprefix("meshlake."): value for key, value in stamps.items()}


@dataclass(frozen=True)
class Recorded:
    """What the port has consumed of one source: the positions to resume from, the stream's identity, and the
    snapshot they were read from."""

    positions: dict[str, Position] = field(default_factory=dict)
    identity: str | None = None
    snapshot_id: int | None = None


def _summary(snapshot: Snapshot) -> Mapping[str, str]:
    return snapshot.summary.additional_properties if snapshot.summary else {}


def _positions(text: str) -> dict[str, Position]:
    value = json.loads(text)
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}


def recorded_offsets(table: Table, source_id: str) -> Recorded:
    """Where the port resumes consuming `source_id` (empty `Recorded` when it never consumed it)."""
    from meshlake.streams.source import later

    key = offsets_key(source_id)
    index = snapshot_index(table.metadata)
    found: list[Snapshot] = []
    ref = table.metadata.refs.get(MAIN_BRANCH)
    snapshot = index.get(ref.snapshot_id) if ref is not None else None
    while snapshot is not None:
        summary = _summary(snapshot)
        if key in summary:
            found.append(snapshot)
            if RELEASED_FROM not in summary:
                break
        snapshot = index.get(snapshot.parent_snapshot_id) if snapshot.parent_snapshot_id is not None else None
    for name, branch in table.metadata.refs.items():
        if branch.snapshot_ref_type != SnapshotRefType.BRANCH or not name.startswith(QUARANTINE_PREFIX):
            continue
        head = index.get(branch.snapshot_id)
        if head is not None and key in _summary(head) and _summary(head).get(POLICY) == "skip":
            found.append(head)
    if not found:
        return Recorded()
    positions: dict[str, Position] = {}
    for snapshot in found:
        for partition, position in _positions(_summary(snapshot)[key]).items():
            positions[partition] = later(position, positions[partition]) if partition in positions else position
    newest = max(found, key=lambda s: s.sequence_number or 0)
    return Recorded(positions, _summary(newest).get(SOURCE_PREFIX + source_id), newest.snapshot_id)


def refuse_concurrent_consumer(source_id: str, address: str) -> RebaseCheck:
    """A `rebase_check` for a stream batch: `main` moved under it; refuse when what moved it consumed the same
    source (two consumers of one stream would commit its messages twice)."""
    key = offsets_key(source_id)

    def check(table: Table, old_base: int | None, new_head: int | None) -> None:
        index = snapshot_index(table.metadata)
        snapshot = index.get(new_head) if new_head is not None else None
        while snapshot is not None and snapshot.snapshot_id != old_base:
            if key in _summary(snapshot):
                raise CommitConflictError(
                    f"another consumer of stream '{source_id}' committed snapshot {snapshot.snapshot_id} while this "
                    "batch was staged; one port consumes a source through one consumer at a time.",
                    address=address,
                )
            parent = snapshot.parent_snapshot_id
            snapshot = index.get(parent) if parent is not None else None

    return check
