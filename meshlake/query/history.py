"""A port's history: one row per published snapshot, with meshlake's stamps, from metadata.

Given the table's `io`, each of the newest `VERIFY_DEPTH` snapshots is also checked for who wrote it (`foreign`,
see `meshlake.query.provenance`: that reads the manifests each snapshot wrote, once per process; older ones only
by their summary), and a snapshot whose summary has no row total (another engine's commit) gets it from its
manifest list instead of 0.

`main` is moved by commits and by rollbacks (back, or forward again to a snapshot it left): Iceberg's
snapshot log records every move, so `History.moves` lists the rollbacks next to the snapshots.

A new process does not read the whole `metadata.json` for it: each commit of the lake's SQL catalog adds the
rows of what it added to the table's history journal (`meshlake.query.history_journal`), where every snapshot is
one short row holding what history shows of it, decided once (its stamps decoded, whether its summary alone makes
it foreign, its row total from its manifests when the summary has none, and who wrote it when that is known: the
committing process knows its own). History in a process that loaded the metadata lazily reads the journal when it
stands for that very metadata file, and builds its rows only when they are read. A journal that does not match,
or lacks a verdict or a row total a row needs, is ignored: history reads the metadata file as without it, and
writes the journal again from what it read.
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

from meshlake.catalog.commits import on_append, on_commit
from meshlake.catalog.loading import HistoryEntries, SnapshotEntry, lazy_history_entries, lazy_source
from meshlake.catalog.metadata import ancestors, snapshot_by_id, snapshot_by_name, snapshot_index
from meshlake.contract.stamps import INPUTS, MODE, PRODUCT_VERSION, QUALITY, RUN_ID, WRITER, read_stamps
from meshlake.query.history_journal import (
    append_journal,
    journal_enabled,
    no_collection,
    read_journal,
    write_journal,
)
from meshlake.query.provenance import (
    FOREIGN,
    MESHLAKE,
    Provenance,
    known_provenance,
    live_records,
    removed_records,
    summary_provenance,
    total_records,
)

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

    def __init__(self, entries: Sequence[SnapshotInfo], moves: Sequence[MainMove] = ()) -> None:
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
    source = lazy_source(metadata)
    journal = read_journal(str(metadata.table_uuid), *source, metadata.last_updated_ms) if source else None
    if journal is not None and journal.snapshots is not None:
        with no_collection():
            journaled = _journal_history(metadata, journal.snapshots, journal.log, io)
        if journaled is not None:
            return journaled
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
    tags = _tags(metadata)
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
    if source is not None and entries is not None and journal is not None and not journal.newer:
        _rebuild_journal(metadata, source, entries, {info.snapshot_id: info for info in infos}, io)
    return History(infos, _moves(log, index))


def _tags(metadata: TableMetadata) -> dict[int, list[str]]:
    tags: dict[int, list[str]] = {}
    for name, tag in metadata.refs.items():
        if tag.snapshot_ref_type == SnapshotRefType.TAG:
            tags.setdefault(tag.snapshot_id, []).append(name)
    return tags


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


# -- the history journal ---------------------------------------------------------------------------------------------
# A row: [snapshot id, parent id, timestamp ms, operation, rows added, rows removed, rows total (from the summary),
# writer, run id, product version, mode, inputs (null: none), quality verdict, foreign by its summary alone ([kind,
# reason], or null when it has a digest), rows total from its manifests (null: the summary has one; false: not
# known), who wrote it (true: meshlake, verified; [kind, reason] as `meshlake.query.provenance` found it otherwise;
# null: not known)].
_TOTAL, _SUMMARY_FOUND, _FILES_TOTAL, _FOUND = 6, 13, 14, 15
_MESHLAKE = [MESHLAKE, None]


class _Row(list[Any]):
    """A journal row as a node of the history (`_Node`)."""

    __slots__ = ()

    @property
    def snapshot_id(self) -> int:
        return int(self[0])

    @property
    def parent_snapshot_id(self) -> int | None:
        parent: int | None = self[1]
        return parent

    @property
    def timestamp_ms(self) -> int:
        return int(self[2])


def _journal_history(
    metadata: TableMetadata, rows: list[list[Any]], log: list[tuple[int, int]], io: FileIO | None
) -> History | None:
    """History from the journal's `rows` and `log` of the metadata; None when they lack what a row needs (who wrote
    one of the newest snapshots, a row total only manifests give)."""
    uuid = str(metadata.table_uuid)
    index = {row[0]: _Row(row) for row in reversed(rows)}  # the first of an id wins
    ref = metadata.refs[MAIN_BRANCH]
    chain = list(_chain(index, index.get(ref.snapshot_id)))
    resolved = []
    for depth, node in enumerate(chain):
        mode = _PLAIN if io is None else _VERIFIED if depth < VERIFY_DEPTH else _SUMMARY
        found = _resolve(uuid, node, mode)  # type: ignore[arg-type]
        if found is None:
            return None
        resolved.append(found)
    chain.reverse()
    resolved.reverse()
    tags = {snapshot_id: tuple(sorted(names)) for snapshot_id, names in _tags(metadata).items()}
    return History(_JournalInfos(chain, resolved, tags), _moves(log, index))  # type: ignore[arg-type]


def _resolve(uuid: str, row: _Row, mode: int) -> tuple[bool | None, str | None, int] | None:
    """(foreign, reason, rows total) of a row as history shows it in `mode`; None when the journal cannot say."""
    if mode == _PLAIN:
        return None, None, row[_TOTAL]
    files = row[_FILES_TOTAL]
    if files is False:
        return None
    total = row[_TOTAL] if files is None else files
    found = row[_SUMMARY_FOUND]
    if found is None and mode == _VERIFIED:
        found = _MESHLAKE if row[_FOUND] is True else row[_FOUND]
        if found is None:
            known = known_provenance(uuid, row[0])
            if known is None:
                return None
            found = [known.kind, known.reason]
    if found is None:
        return None, None, total
    return found[0] == FOREIGN, found[1], total


class _JournalInfos(Sequence[SnapshotInfo]):
    """The rows of a history read from the journal, each built on first read."""

    def __init__(
        self, rows: list[_Row], resolved: list[tuple[bool | None, str | None, int]], tags: dict[int, tuple[str, ...]]
    ) -> None:
        self._rows = rows
        self._resolved = resolved
        self._tags = tags
        self._made: list[SnapshotInfo | None] = [None] * len(rows)

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> SnapshotInfo: ...
    @overload
    def __getitem__(self, index: slice) -> list[SnapshotInfo]: ...
    def __getitem__(self, index: int | slice) -> SnapshotInfo | list[SnapshotInfo]:
        if isinstance(index, slice):
            return [self[n] for n in range(*index.indices(len(self)))]
        n = index + len(self._rows) if index < 0 else index
        if not 0 <= n < len(self._rows):
            raise IndexError(index)
        made = self._made[n]
        if made is None:
            made = self._made[n] = self._info(n)
        return made

    def __iter__(self) -> Iterator[SnapshotInfo]:
        if None in self._made:
            with no_collection():  # thousands of new objects, none cyclic
                self._made = [self._info(n) if made is None else made for n, made in enumerate(self._made)]
        return iter(self._made)  # type: ignore[arg-type]

    def _info(self, n: int) -> SnapshotInfo:
        """The row's `SnapshotInfo`, its fields set as its `__init__` would (which sets them one by one, through
        the frozen dataclass's guard: half the cost of reading 10,000 rows)."""
        row = self._rows[n]
        foreign, reason, total = self._resolved[n]
        info: SnapshotInfo = object.__new__(SnapshotInfo)
        info.__dict__.update(
            snapshot_id=row[0],
            parent_id=row[1],
            committed_at=datetime.fromtimestamp(row[2] / 1000, tz=UTC),
            operation=row[3],
            rows_added=row[4],
            rows_removed=row[5],
            rows_total=total,
            writer=row[7],
            run_id=row[8],
            product_version=row[9],
            mode=row[10],
            inputs=dict(row[11] or ()),
            quality=row[12],
            tags=self._tags.get(row[0], ()),
            foreign=foreign,
            foreign_reason=reason,
        )
        return info


def _journal_row(uuid: str, entry: SnapshotEntry, info: SnapshotInfo, files_total: int | bool | None) -> list[Any]:
    props = entry.properties
    summary = summary_provenance(props)
    known = known_provenance(uuid, entry.snapshot_id)
    return [
        info.snapshot_id,
        info.parent_id,
        entry.timestamp_ms,
        info.operation,
        info.rows_added,
        info.rows_removed,
        live_records(props),
        info.writer,
        info.run_id,
        info.product_version,
        info.mode,
        info.inputs or None,
        info.quality,
        None if summary is None else [summary.kind, summary.reason],
        files_total,
        None if known is None else True if known == Provenance(MESHLAKE) else [known.kind, known.reason],
    ]


def _rebuild_journal(
    metadata: TableMetadata,
    source: tuple[str, int],
    entries: HistoryEntries,
    infos: Mapping[int, SnapshotInfo],
    io: FileIO | None,
) -> None:
    """Write the journal of the metadata file read from `source`, from what history just read of it (`infos`: the
    rows of `main`'s snapshots, with their row totals from manifests when `io` was given)."""
    if not journal_enabled():
        return
    uuid = str(metadata.table_uuid)
    rows = []
    for entry in entries.snapshots:
        info = infos.get(entry.snapshot_id)
        files: int | bool | None = None
        if "total-records" not in entry.properties:
            files = info.rows_total if info is not None and io is not None else False
        rows.append(_journal_row(uuid, entry, info or _info(entry), files))
    write_journal(uuid, *source, metadata.last_updated_ms, rows, entries.log)


def _record_commit(
    replaced: str, base: TableMetadata, location: str, length: int, new: TableMetadata, io: FileIO
) -> None:
    """Keep the journal of the table the lake's SQL catalog just committed (`meshlake.catalog.commits.on_commit`):
    append what the commit added, else (snapshots expired, no journal, another writer's) write it whole."""
    if new.format_version != 2 or not journal_enabled():
        return
    uuid = str(new.table_uuid)
    added = _added(base, new)
    if added is not None:
        snapshots, log = added
        rows = [_commit_row(uuid, snapshot, io) for snapshot in snapshots]
        outcome = append_journal(uuid, replaced, location, length, new.last_updated_ms, rows, log)
        if outcome != "mismatch":
            return  # appended, or the journal stands for a later commit (another writer's): leave it
    rows = [_commit_row(uuid, snapshot, None) for snapshot in new.snapshots]
    log = [(entry.snapshot_id, entry.timestamp_ms) for entry in new.snapshot_log]
    write_journal(uuid, location, length, new.last_updated_ms, rows, log)


def _added(base: TableMetadata, new: TableMetadata) -> tuple[list[Snapshot], list[tuple[int, int]]] | None:
    """The snapshots and log entries `new` added to `base`, when it only added (else None: a rewrite)."""
    old, now = base.snapshots, new.snapshots
    if len(now) < len(old) or (old and (now[0] != old[0] or now[len(old) - 1] != old[-1])):
        return None
    old_log, new_log = base.snapshot_log, new.snapshot_log
    if len(new_log) < len(old_log) or (old_log and new_log[len(old_log) - 1] != old_log[-1]):
        return None
    return now[len(old) :], [(entry.snapshot_id, entry.timestamp_ms) for entry in new_log[len(old_log) :]]


def _commit_row(uuid: str, snapshot: Snapshot, io: FileIO | None) -> list[Any]:
    entry = _entry(snapshot)
    files: int | bool | None = None
    if "total-records" not in entry.properties:
        files = total_records(snapshot, io) if io is not None else False
    return _journal_row(uuid, entry, _info(entry), files)


def _record_append(
    replaced: str,
    location: str,
    length: int,
    new: TableMetadata,
    snapshots: list[Snapshot],
    log: list[tuple[int, int]],
    io: FileIO,
) -> None:
    """Add what a commit of the lake's REST catalog client added to the table's journal
    (`meshlake.catalog.commits.on_append`), when the journal stands for the file it replaced (else leave it: the
    next `history()` reads the metadata file and writes it whole)."""
    if new.format_version != 2 or not journal_enabled():
        return
    uuid = str(new.table_uuid)
    rows = [_commit_row(uuid, snapshot, io) for snapshot in snapshots]
    append_journal(uuid, replaced, location, length, new.last_updated_ms, rows, log)


on_commit(_record_commit)
on_append(_record_append)
