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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, overload

import pyarrow as pa
from pyiceberg.io import FileIO
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.table.refs import MAIN_BRANCH, SnapshotRefType
from pyiceberg.table.snapshots import Snapshot

from meshlake.catalog.loading import SnapshotEntry, lazy_history_entries
from meshlake.catalog.metadata import ancestors, snapshot_by_id, snapshot_by_name, snapshot_index
from meshlake.contract.stamps import INPUTS, MODE, PRODUCT_VERSION, QUALITY, RUN_ID, WRITER, read_stamps
from meshlake.query.provenance import Provenance, live_records, removed_records

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


class _Node(Protocol):
    """What walking a history needs of a snapshot: a pyiceberg `Snapshot` or a `SnapshotEntry`."""

    @property
    def snapshot_id(self) -> int: ...
    @property
    def parent_snapshot_id(self) -> int | None: ...
    @property
    def timestamp_ms(self) -> int: ...


def port_history(metadata: TableMetadata, io: FileIO | None = None) -> History:
    """The snapshots `main` is made of, oldest first; with `io`, each marked foreign or not, with its row total.

    Metadata loaded lazily (a new process) is not completed: its snapshots are read from the file's JSON as
    `lazy_history_entries` gives them, so history never builds pyiceberg's models of every snapshot kept."""
    ref = metadata.refs.get(MAIN_BRANCH)
    if ref is None:
        return History([])
    entries = lazy_history_entries(metadata)
    index: Mapping[int, _Node]
    log: Iterable[tuple[int, int]]
    if entries is None:
        index = snapshot_index(metadata)
        log = [(entry.snapshot_id, entry.timestamp_ms) for entry in metadata.snapshot_log]
    else:
        index = {entry.snapshot_id: entry for entry in reversed(entries.snapshots)}  # the first of an id wins
        log = entries.log
    head = index.get(ref.snapshot_id)
    if head is None:
        return History([])
    tags: dict[int, list[str]] = {}
    for name, tag in metadata.refs.items():
        if tag.snapshot_ref_type == SnapshotRefType.TAG:
            tags.setdefault(tag.snapshot_id, []).append(name)
    chain = list(_chain(index, head))
    uuid = str(metadata.table_uuid)
    modes = [_PLAIN] * len(chain)
    if io is not None:
        modes = [_VERIFIED if n < VERIFY_DEPTH else _SUMMARY for n in range(len(chain))]
        _verify_unknown(uuid, chain[:VERIFY_DEPTH], io)
    infos = [
        _cached_info(uuid, node, tuple(sorted(tags.get(node.snapshot_id, ()))), io, mode)
        for node, mode in zip(reversed(chain), reversed(modes), strict=True)
    ]
    return History(infos, _moves(log, index))


def _chain(index: Mapping[int, _Node], node: _Node | None) -> Iterator[_Node]:
    """`node`, its parent, and so on (one dict lookup per step)."""
    while node is not None:
        yield node
        parent = node.parent_snapshot_id
        node = index.get(parent) if parent is not None else None


def _entry(node: _Node) -> SnapshotEntry:
    if isinstance(node, SnapshotEntry):
        return node
    assert isinstance(node, Snapshot)
    summary = node.summary
    operation = summary.operation.value if summary is not None else None
    props = summary.additional_properties if summary is not None else {}
    return SnapshotEntry(node.snapshot_id, node.parent_snapshot_id, node.timestamp_ms, operation, props, {})


def _snapshot(node: _Node) -> Snapshot:
    """The pyiceberg snapshot of a node (an entry's is validated by pyiceberg from the file's JSON)."""
    return node.snapshot() if isinstance(node, SnapshotEntry) else node  # type: ignore[return-value]


VERIFY_DEPTH = 100
"""How many of the newest snapshots `port_history` verifies against their files (`meshlake.query.provenance`);
older ones are foreign when their summary alone says so (no digest), else not verified (`foreign` None):
`meshlake doctor` verifies every one."""
_PLAIN, _SUMMARY, _VERIFIED = 0, 1, 2


def _verify_unknown(uuid: str, chain: Sequence[_Node], io: FileIO) -> None:
    """Verify, in parallel, the snapshots of `chain` whose verified row this process does not have yet."""
    unknown = [e for e in chain if (uuid, e.snapshot_id, _VERIFIED) not in _INFOS]
    if len(unknown) > 1:
        from pyiceberg.utils.concurrent import ExecutorFactory

        executor = ExecutorFactory.get_or_create()
        list(executor.map(lambda node: _cached_info(uuid, node, (), io, _VERIFIED), unknown))


def _verified(uuid: str, node: _Node, io: FileIO, mode: int) -> SnapshotInfo:
    from meshlake.query.provenance import provenance, summary_provenance, total_records

    entry = _entry(node)
    props = entry.properties
    found = provenance(uuid, _snapshot(node), io) if mode == _VERIFIED else summary_provenance(props)
    total = None if "total-records" in props else total_records(_snapshot(node), io)
    return _info(entry, found=found, rows_total=total)


def main_moves(metadata: TableMetadata) -> list[MainMove]:
    """Every move of `main` to a snapshot committed earlier (a rollback or roll forward), from the snapshot log.

    A commit enters the log at its own commit time; a move enters it later than the snapshot was made.
    """
    return _moves(
        [(entry.snapshot_id, entry.timestamp_ms) for entry in metadata.snapshot_log], snapshot_index(metadata)
    )


def _moves(log: Iterable[tuple[int, int]], index: Mapping[int, _Node]) -> list[MainMove]:
    moves = []
    previous: int | None = None
    for snapshot_id, timestamp_ms in log:
        node = index.get(snapshot_id)
        if node is not None and timestamp_ms > node.timestamp_ms and snapshot_id != previous:
            moves.append(
                MainMove(
                    moved_at=datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC),
                    from_snapshot_id=previous,
                    to_snapshot_id=snapshot_id,
                    direction=_direction(index, previous, snapshot_id),
                )
            )
        previous = snapshot_id
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


def _descends(index: Mapping[int, _Node], ancestor_id: int, snapshot_id: int) -> bool:
    return any(node.snapshot_id == ancestor_id for node in _chain(index, index.get(snapshot_id)))


def _direction(index: Mapping[int, _Node], before: int | None, after: int) -> str:
    if before is not None and _descends(index, after, before):
        return "back"
    if before is not None and _descends(index, before, after):
        return "forward"
    return "across"


def snapshot_info(snapshot: Snapshot, tags: tuple[str, ...] = ()) -> SnapshotInfo:
    """One snapshot as history shows it (the stamps decoded as `read_stamps` decodes them)."""
    return _info(_entry(snapshot), tags)


def _info(
    entry: SnapshotEntry, tags: tuple[str, ...] = (), found: Provenance | None = None, rows_total: int | None = None
) -> SnapshotInfo:
    """The snapshot's row, with who wrote it (`found`) and its row total when the summary has none."""
    props = entry.properties
    inputs = _inputs(props.get(INPUTS))
    return SnapshotInfo(
        snapshot_id=entry.snapshot_id,
        parent_id=entry.parent_snapshot_id,
        committed_at=datetime.fromtimestamp(entry.timestamp_ms / 1000, tz=UTC),
        operation=str(entry.operation) if entry.operation is not None else "unknown",
        rows_added=int(props.get("added-records", 0)),
        rows_removed=removed_records(props),
        rows_total=live_records(props) if rows_total is None else rows_total,
        writer=props.get(WRITER),
        run_id=props.get(RUN_ID),
        product_version=props.get(PRODUCT_VERSION),
        mode=props.get(MODE),
        inputs={str(k): int(v) for k, v in inputs.items()} if isinstance(inputs, dict) else {},
        quality=_verdict(props.get(QUALITY)),
        tags=tags,
        foreign=found.foreign if found is not None else None,
        foreign_reason=found.reason if found is not None else None,
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
    table_uuid: str, node: _Node, tags: tuple[str, ...], io: FileIO | None, mode: int = _PLAIN
) -> SnapshotInfo:
    key = (table_uuid, node.snapshot_id, mode)
    info = _INFOS.get(key)
    if info is None:
        verify = io is not None and mode != _PLAIN
        info = _verified(table_uuid, node, io, mode) if io is not None and verify else _info(_entry(node))
        with _INFOS_LOCK:
            if len(_INFOS) >= _INFOS_LIMIT:
                _INFOS.clear()
            _INFOS[key] = info
    return replace(info, tags=tags) if tags else info
