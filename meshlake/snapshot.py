"""`PortSnapshot`: an immutable handle on one snapshot of a port, read in place."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from pyiceberg.io import FileIO
from pyiceberg.schema import Schema
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.table.snapshots import Snapshot

from meshlake.contract.stamps import read_stamps
from meshlake.errors import require

if TYPE_CHECKING:
    import pandas
    import polars

    from meshlake.query.plan import ScanPlan
    from meshlake.query.policy import ReadPolicy
    from meshlake.query.read_log import ReadRecorder


@dataclass(frozen=True, eq=False)
class PortSnapshot:
    """One port at one snapshot: `to_arrow()`, `to_polars()` (lazy), `to_pandas()`, `schema`, stamps.

    A snapshot reads with the schema it was written with. `snapshot_id` is None for a port that has
    never been written (it reads as an empty table with the current schema).

    Every read returns what the caller may see: with a `policy` (the caller's rights, handed over by
    `Port.latest/at/as_of` in a lake with a mesh policy) the rows are filtered and the columns masked;
    an owner, an admin or an unrestricted reader reads the files as they are.
    """

    address: str
    metadata: TableMetadata
    io: FileIO
    snapshot: Snapshot | None
    metadata_location: str = ""
    policy: ReadPolicy | None = None
    read_log: ReadRecorder | None = field(default=None, repr=False)
    """Called for each read (the access log); None when reads are not logged."""

    @property
    def snapshot_id(self) -> int | None:
        return self.snapshot.snapshot_id if self.snapshot else None

    @property
    def committed_at(self) -> datetime | None:
        if self.snapshot is None:
            return None
        return datetime.fromtimestamp(self.snapshot.timestamp_ms / 1000, tz=UTC)

    @property
    def schema(self) -> Schema:
        """The Iceberg schema as of this snapshot."""
        if self.snapshot is not None and self.snapshot.schema_id is not None:
            for schema in self.metadata.schemas:
                if schema.schema_id == self.snapshot.schema_id:
                    return schema
        return self.metadata.schema()

    @property
    def stamps(self) -> dict[str, Any]:
        """meshlake's stamps (writer, run-id, product-version, inputs, quality) on this snapshot."""
        if self.snapshot is None or self.snapshot.summary is None:
            return {}
        return read_stamps(self.snapshot.summary.additional_properties)

    @property
    def rows(self) -> int:
        """The rows readers see, from the summary (pending position deletes subtracted; `live_records`)."""
        from meshlake.query.provenance import live_records

        if self.snapshot is None or self.snapshot.summary is None:
            return 0
        return live_records(self.snapshot.summary.additional_properties)

    @cached_property
    def plan(self) -> ScanPlan:
        """The data and delete files of this snapshot (planned once, cached)."""
        from meshlake.query.plan import plan_snapshot

        return plan_snapshot(self.metadata, self.io, self.snapshot_id, metadata_location=self.metadata_location)

    def sql(self) -> str:
        """A DuckDB relation (SQL text) reading this snapshot's files in place, filtered and masked for the caller."""
        from meshlake.query.policy import restricted
        from meshlake.query.sql import relation_sql

        sql = relation_sql(self.plan)
        if restricted(self.policy):
            sql = self.policy.relation(sql, self.plan.schema)
        self._logged("relation")
        return sql

    def to_arrow(self) -> pa.Table:
        """Read the snapshot into an Arrow table (DuckDB reads the Parquet files in place), as the caller may see it."""
        table = self._read_arrow()
        self._logged("arrow")
        return table

    def to_polars(self) -> polars.LazyFrame:
        """A lazy Polars scan of the same files, with predicate and projection pushdown."""
        from meshlake.query.polars_scan import to_polars

        frame = to_polars(self.plan, io=self.io, policy=self.policy)
        self._logged("polars")
        return frame

    def to_daft(self) -> Any:
        """A lazy, distributed Daft DataFrame of exactly this snapshot (`meshlake[daft]`), as the caller may see it.

        Unrestricted readers get Daft's own Iceberg scan pinned to the snapshot; masked or row-filtered readers
        get meshlake's masked read as an in-memory frame (`meshlake.distributed.reads`).
        """
        from meshlake.distributed.reads import to_daft

        frame = to_daft(self)
        self._logged("daft")
        return frame

    def to_ray(self) -> Any:
        """This snapshot as a Ray Dataset (`meshlake[daft]`: read through Daft's scan), as the caller may see it."""
        from meshlake.distributed.reads import to_ray

        dataset = to_ray(self)
        self._logged("ray")
        return dataset

    def to_pandas(self) -> pandas.DataFrame:
        require("pandas", extra="pandas", feature="to_pandas()")
        frame: pandas.DataFrame = self._read_arrow().to_pandas()
        self._logged("pandas")
        return frame

    def _read_arrow(self) -> pa.Table:
        from meshlake.query.engine import read_arrow

        return read_arrow(self.plan, io=self.io, policy=self.policy)

    def _logged(self, path: str) -> None:
        """Report this read to the access log (every column of the snapshot's schema: the read returns them all)."""
        if self.read_log is not None:
            self.read_log(self.address, self.snapshot_id, [f.name for f in self.schema.fields], path=path)

    def __repr__(self) -> str:
        when = self.committed_at.isoformat() if self.committed_at else "never written"
        return f"PortSnapshot({self.address}@{self.snapshot_id}, {when})"
