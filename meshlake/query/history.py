"""A port's history: one row per published snapshot, with meshlake's stamps, from metadata only."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, overload

import pyarrow as pa
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.table.refs import MAIN_BRANCH, SnapshotRefType
from pyiceberg.table.snapshots import Snapshot, ancestors_of

from meshlake.contract.stamps import read_stamps

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

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["committed_at"] = self.committed_at.isoformat()
        data["tags"] = list(self.tags)
        return data


class History(Sequence[SnapshotInfo]):
    """The published history of a port, oldest first; also as Arrow, Polars or pandas."""

    def __init__(self, entries: list[SnapshotInfo]) -> None:
        self._entries = entries

    @overload
    def __getitem__(self, index: int) -> SnapshotInfo: ...
    @overload
    def __getitem__(self, index: slice) -> History: ...
    def __getitem__(self, index: int | slice) -> SnapshotInfo | History:
        if isinstance(index, slice):
            return History(self._entries[index])
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


def port_history(metadata: TableMetadata) -> History:
    """The snapshots `main` is made of, oldest first."""
    head = metadata.snapshot_by_name(MAIN_BRANCH)
    if head is None:
        return History([])
    tags: dict[int, list[str]] = {}
    for name, ref in metadata.refs.items():
        if ref.snapshot_ref_type == SnapshotRefType.TAG:
            tags.setdefault(ref.snapshot_id, []).append(name)
    chain = list(ancestors_of(head, metadata))
    return History([snapshot_info(s, tuple(sorted(tags.get(s.snapshot_id, [])))) for s in reversed(chain)])


def snapshot_info(snapshot: Snapshot, tags: tuple[str, ...] = ()) -> SnapshotInfo:
    summary = snapshot.summary
    props = summary.additional_properties if summary else {}
    stamps = read_stamps(props)
    quality = stamps.get("quality")
    verdict = quality.get("verdict") if isinstance(quality, dict) else quality
    inputs = stamps.get("inputs")
    return SnapshotInfo(
        snapshot_id=snapshot.snapshot_id,
        parent_id=snapshot.parent_snapshot_id,
        committed_at=datetime.fromtimestamp(snapshot.timestamp_ms / 1000, tz=UTC),
        operation=str(summary.operation.value) if summary else "unknown",
        rows_added=int(props.get("added-records", 0)),
        rows_removed=int(props.get("deleted-records", 0)),
        rows_total=int(props.get("total-records", 0)),
        writer=stamps.get("writer"),
        run_id=stamps.get("run-id"),
        product_version=stamps.get("product-version"),
        mode=stamps.get("mode"),
        inputs={str(k): int(v) for k, v in inputs.items()} if isinstance(inputs, dict) else {},
        quality=str(verdict) if verdict is not None else None,
        tags=tags,
    )
