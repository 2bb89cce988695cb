"""A port's history: one row per published snapshot, with meshlake's stamps, from metadata.

Given the table's `io`, each of the newest `VERIFY_DEPTH` snapshots is also checked for who wrote it (`foreign`,
see `meshlake.query.provenance`: that reads the manifests each snapshot wrote, once per process; older ones only
by their summary), and a snapshot whose summary has no row total (another engine's commit) gets it from its
manifest list instead of 0.

`main` is moved by commits and by rollbacks (back, or forward again to a snapshot it left): Iceberg's
snapshot log records every move, so `History.moves` lists the rollbacks next to the snapshots.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, overload

import pyarrow as pa
from pyiceberg.io import FileIO
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.table.refs import MAIN_BRANCH, SnapshotRefType
from pyiceberg.table.snapshots import Snapshot

from meshlake.catalog.metadata import ancestors, snapshot_by_id, snapshot_by_name, snapshot_index
from meshlake.contract.stamps import INPUTS, MODE, PRODUCT_VERSION, QUALITY, RUN_ID, WRITER, read_stamps
from meshlake.query.provenance import live_records, removed_records

if TYPE_CHECKING:
    import pandas
    import polars


@dataclass(frozen=True)
class SnapshotInfo:
    """One snapshot of a port as history shows it."""

    snapshot_id: int
    parent_id: int | None
    committed_at: datetime
    operation: str
    rows_added: int
    rows_removed: int
    rows_total: int
    writer: str | None
    run_id: str | None
    product_version: str | None
    mode: str | None
    inputs: dict[str, int] = field(default_factory=dict)
    quality: str | None = None
    tags: tuple[str, ...] = ()
    foreign: bool | None = None
    """True when meshlake did not write the snapshot (or its stamps do not match it); None when not verified."""
    foreign_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["committed_at"] = self.committed_at.isoformat()
        data["tags"] = list(self.tags)
        return data


@dataclass(frozen=True)
class MainMove:
    """`main` pointed at a snapshot that already existed (a rollback, or a roll forward), not a new commit."""

    moved_at: datetime
    from_snapshot_id: int | None
    to_snapshot_id: int
    direction: str
    """`back` (to an ancestor of where main was), `forward` (to a descendant) or `across` (another line)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"moved_at": self.moved_at.isoformat()}


class History(Sequence[SnapshotInfo]):
    """The published history of a port, oldest first; also as Arrow, Polars or pandas.

    `moves` lists, oldest first, every time `main` was rolled back or forward (still in the snapshot log).
    """

    def __init__(self, entries: list[SnapshotInfo], moves: Sequence[MainMove] = ()) -> None:
        self._entries = entries
        self.moves: tuple[MainMove, ...] = tuple(moves)

    @overload
    def __getitem__(self, index: int) -> SnapshotInfo: ...
    @overload
    def __getitem__(self, index: slice) -> History: ...
    def __getitem__(self, index: int | slice) -> SnapshotInfo | History:
        if isinstance(index, slice):
            return History(self._entries[index], self.moves)
        return self._entries[index]

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[SnapshotInfo]:
        return iter(self._entries)

    def __repr__(self) -> str:
        return f"History({len(self)} snapshots)"

    def to_arrow(self) -> pa.Table:
        rows = [entry.to_dict() | {"committed_at": entry.committed_at} for entry in self._entries]
        schema = pa.schema(
            [
                ("snapshot_id", pa.int64()),
                ("parent_id", pa.int64()),
                ("committed_at", pa.timestamp("ms", tz="UTC")),
                ("operation", pa.string()),
                ("rows_added", pa.int64()),
                ("rows_removed", pa.int64()),
                ("rows_total", pa.int64()),
                ("writer", pa.string()),
                ("run_id", pa.string()),
                ("product_version", pa.string()),
                ("mode", pa.string()),
                ("inputs", pa.map_(pa.string(), pa.int64())),
                ("quality", pa.string()),
                ("tags", pa.list_(pa.string())),
                ("foreign", pa.bool_()),
                ("foreign_reason", pa.string()),
            ]
        )
        for row in rows:
            row["inputs"] = list(row["inputs"].items())
        return pa.Table.from_pylist(rows, schema=schema)

    def to_polars(self) -> polars.DataFrame:
        import polars as pl

        return pl.from_arrow(self.to_arrow())  # type: ignore[return-value]

    def to_pandas(self) -> pandas.DataFrame:
        frame: pandas.DataFrame = self.to_arrow().to_pandas()
        return frame


def port_history(metadata: TableMetadata, io: FileIO | None = None) -> History:
    """The snapshots `main` is made of, oldest first; with `io`, each marked foreign or not, with its row total."""
    head = snapshot_by_name(metadata, MAIN_BRANCH)
    if head is None:
        return History([])
    tags: dict[int, list[str]] = {}
    for name, ref in metadata.refs.items():
        if ref.snapshot_ref_type == SnapshotRefType.TAG:
            tags.setdefault(ref.snapshot_id, []).append(name)
    chain = list(ancestors(metadata, head))
    uuid = str(metadata.table_uuid)
    modes = [_PLAIN] * len(chain)
    if io is not None:
        modes = [_VERIFIED if n < VERIFY_DEPTH else _SUMMARY for n in range(len(chain))]
        _verify_unknown(uuid, chain[:VERIFY_DEPTH], io)
    entries = [
        _cached_info(uuid, s, tuple(sorted(tags.get(s.snapshot_id, ()))), io, mode)
        for s, mode in zip(reversed(chain), reversed(modes), strict=True)
    ]
    return History(entries, main_moves(metadata))


VERIFY_DEPTH = 100
"""How many of the newest snapshots `port_history` verifies against their files (`meshlake.query.provenance`);
older ones are foreign when their summary alone says so (no digest), else not verified (`foreign` None):
`meshlake doctor` verifies every one."""
_PLAIN, _SUMMARY, _VERIFIED = 0, 1, 2


def _verify_unknown(uuid: str, chain: Sequence[Snapshot], io: FileIO) -> None:
    """Verify, in parallel, the snapshots of `chain` whose verified row this process does not have yet."""
    unknown = [s for s in chain if (uuid, s.snapshot_id, _VERIFIED) not in _INFOS]
    if len(unknown) > 1:
        from pyiceberg.utils.concurrent import ExecutorFactory

        list(ExecutorFactory.get_or_create().map(lambda s: _cached_info(uuid, s, (), io, _VERIFIED), unknown))


def _verified(uuid: str, snapshot: Snapshot, entry: SnapshotInfo, io: FileIO, mode: int) -> SnapshotInfo:
    from meshlake.query.provenance import provenance, total_records, unverified

    found = provenance(uuid, snapshot, io) if mode == _VERIFIED else unverified(snapshot)
    props = snapshot.summary.additional_properties if snapshot.summary is not None else {}
    total = entry.rows_total if "total-records" in props else total_records(snapshot, io)
    foreign = found.foreign if found is not None else None
    return replace(entry, foreign=foreign, foreign_reason=found.reason if found else None, rows_total=total)


def main_moves(metadata: TableMetadata) -> list[MainMove]:
    """Every move of `main` to a snapshot committed earlier (a rollback or roll forward), from the snapshot log.

    A commit enters the log at its own commit time; a move enters it later than the snapshot was made.
    """
    moves = []
    previous: int | None = None
    index = snapshot_index(metadata)
    for entry in metadata.snapshot_log:
        snapshot = index.get(entry.snapshot_id)
        if snapshot is not None and entry.timestamp_ms > snapshot.timestamp_ms and entry.snapshot_id != previous:
            moves.append(
                MainMove(
                    moved_at=datetime.fromtimestamp(entry.timestamp_ms / 1000, tz=UTC),
                    from_snapshot_id=previous,
                    to_snapshot_id=entry.snapshot_id,
                    direction=_direction(metadata, previous, entry.snapshot_id),
                )
            )
        previous = entry.snapshot_id
    return moves


def published_snapshot_ids(metadata: TableMetadata) -> set[int]:
    """Snapshots that are or were on `main` and are still kept: main's history, and every line main was on.

    Snapshots only ever committed to a branch (quarantined or staged writes) are not among them.
    """
    index = snapshot_index(metadata)
    heads = [snapshot_by_name(metadata, MAIN_BRANCH)]
    heads += [index.get(entry.snapshot_id) for entry in metadata.snapshot_log]
    found: set[int] = set()
    for head in heads:
        if head is None or head.snapshot_id in found:
            continue
        for snapshot in ancestors(metadata, head):
            if snapshot.snapshot_id in found:
                break
            found.add(snapshot.snapshot_id)
    return found


def is_ancestor(metadata: TableMetadata, ancestor_id: int, snapshot_id: int | None) -> bool:
    """Whether `ancestor_id` is `snapshot_id` or one of its ancestors."""
    return any(s.snapshot_id == ancestor_id for s in ancestors(metadata, snapshot_by_id(metadata, snapshot_id)))


def _direction(metadata: TableMetadata, before: int | None, after: int) -> str:
    if before is not None and is_ancestor(metadata, after, before):
        return "back"
    if before is not None and is_ancestor(metadata, before, after):
        return "forward"
    return "across"


def snapshot_info(snapshot: Snapshot, tags: tuple[str, ...] = ()) -> SnapshotInfo:
    """One snapshot as history shows it (the stamps decoded as `read_stamps` decodes them)."""
    summary = snapshot.summary
    props = summary.additional_properties if summary is not None else {}
    inputs = _inputs(props.get(INPUTS))
    return SnapshotInfo(
        snapshot_id=snapshot.snapshot_id,
        parent_id=snapshot.parent_snapshot_id,
        committed_at=datetime.fromtimestamp(snapshot.timestamp_ms / 1000, tz=UTC),
        operation=str(summary.operation.value) if summary is not None else "unknown",
        rows_added=int(props.get("added-records", 0)),
        rows_removed=removed_records(props),
        rows_total=live_records(props),
        writer=props.get(WRITER),
        run_id=props.get(RUN_ID),
        product_version=props.get(PRODUCT_VERSION),
        mode=props.get(MODE),
        inputs={str(k): int(v) for k, v in inputs.items()} if isinstance(inputs, dict) else {},
        quality=_verdict(props.get(QUALITY)),
        tags=tags,
    )


def _inputs(text: str | None) -> Any:
    if text is None or text == "{}":
        return {}
    return read_stamps({INPUTS: text}).get("inputs")


_VERDICTS = {f'{{"verdict":"{v}",': v for v in ("passed", "failed")}


def _verdict(text: str | None) -> str | None:
    """The verdict of a `meshlake.quality` stamp: meshlake writes it first, so it is read without decoding
    the whole stamp (which carries the aggregates of the incremental checks)."""
    if text is None:
        return None
    known = _VERDICTS.get(text[:20])
    if known is not None and text.endswith("}"):
        return known
    quality = read_stamps({QUALITY: text}).get("quality")
    verdict = quality.get("verdict") if isinstance(quality, dict) else quality
    return str(verdict) if verdict is not None else None


_INFOS: dict[tuple[str, int, int], SnapshotInfo] = {}
"""Per (table uuid, snapshot id, how verified): the snapshot as history shows it, without tags (a snapshot never
changes); verified rows also say whether it is foreign, and carry a row total computed when the summary has none."""
_INFOS_LIMIT = 1_000_000
_INFOS_LOCK = threading.Lock()


def _cached_info(
    table_uuid: str, snapshot: Snapshot, tags: tuple[str, ...], io: FileIO | None, mode: int = _PLAIN
) -> SnapshotInfo:
    key = (table_uuid, snapshot.snapshot_id, mode)
    info = _INFOS.get(key)
    if info is None:
        info = snapshot_info(snapshot)
        if io is not None and mode != _PLAIN:
            info = _verified(table_uuid, snapshot, info, io, mode)
        with _INFOS_LOCK:
            if len(_INFOS) >= _INFOS_LIMIT:
                _INFOS.clear()
            _INFOS[key] = info
    return replace(info, tags=tags) if tags else info
