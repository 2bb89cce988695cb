"""A port snapshot as a Daft DataFrame or a Ray Dataset: lazy, distributed, pinned to the snapshot.

An unrestricted reader gets Daft's own Iceberg scan of exactly this snapshot (`daft.read_iceberg(table,
snapshot_id=…)`: predicates and projections push down, files are read on the workers) with the schema the
snapshot was written with. Masks and row filters are meshlake's SQL: a reader whose reads are restricted gets
the snapshot as meshlake's own masked, filtered read returns it (DuckDB on the driver), handed to the engine as
an in-memory frame. Never the files as they are.

`to_ray` is Daft's frame as a Ray Dataset (`DataFrame.to_ray_dataset`), or, restricted, `ray.data.from_arrow`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from meshlake.errors import require
from meshlake.query.policy import restricted

if TYPE_CHECKING:
    import pyarrow as pa
    from pyiceberg.io import FileIO
    from pyiceberg.table.metadata import TableMetadata
    from pyiceberg.table.snapshots import Snapshot

    from meshlake.query.plan import ScanPlan
    from meshlake.query.policy import ReadPolicy


def to_daft(
    address: str,
    metadata: TableMetadata,
    io: FileIO,
    snapshot: Snapshot | None,
    metadata_location: str,
    plan: ScanPlan,
    policy: ReadPolicy | None,
) -> Any:
    """The snapshot as a lazy Daft DataFrame (see the module docstring)."""
    daft = require("daft", extra="daft", feature="to_daft()")
    if restricted(policy) or snapshot is None:
        return daft.from_arrow(_restricted_arrow(plan, io, policy))
    from pyiceberg.catalog.noop import NoopCatalog
    from pyiceberg.table import StaticTable

    identifier = tuple(address.split("."))
    table = StaticTable(identifier, metadata, metadata_location, io, NoopCatalog("meshlake-snapshot"))
    return daft.read_iceberg(table, snapshot_id=snapshot.snapshot_id)


def to_ray(
    address: str,
    metadata: TableMetadata,
    io: FileIO,
    snapshot: Snapshot | None,
    metadata_location: str,
    plan: ScanPlan,
    policy: ReadPolicy | None,
) -> Any:
    """The snapshot as a Ray Dataset (see the module docstring)."""
    ray_data = require("ray.data", extra="ray", feature="to_ray()")
    if restricted(policy) or snapshot is None:
        return ray_data.from_arrow(_restricted_arrow(plan, io, policy))
    require("daft", extra="daft", feature="to_ray() (Ray reads a port through Daft's Iceberg scan)")
    frame = to_daft(address, metadata, io, snapshot, metadata_location, plan, policy)
    return frame.to_ray_dataset()


def _restricted_arrow(plan: ScanPlan, io: FileIO, policy: ReadPolicy | None) -> pa.Table:
    from meshlake.query.engine import read_arrow

    return read_arrow(plan, io=io, policy=policy)
