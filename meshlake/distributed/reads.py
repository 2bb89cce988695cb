"""A port snapshot as a Daft DataFrame or a Ray Dataset: lazy, distributed, pinned to the snapshot.

An unrestricted reader gets Daft's own Iceberg scan of exactly this snapshot (`daft.read_iceberg(table,
snapshot_id=…)`: predicates and projections push down, files are planned by Daft and read on the workers) with the
schema the snapshot was written with. Masks and row filters are meshlake's SQL: a reader whose reads are
restricted gets the snapshot as meshlake's own masked, filtered read returns it (DuckDB on the driver), handed to
the engine as an in-memory frame. Never the files as they are.

`to_ray` is Daft's frame as a Ray Dataset (`DataFrame.to_ray_dataset`), or, restricted, `ray.data.from_arrow`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from meshlake.errors import require
from meshlake.query.policy import restricted

if TYPE_CHECKING:
    import pyarrow as pa

    from meshlake.snapshot import PortSnapshot


def to_daft(snapshot: PortSnapshot) -> Any:
    """The snapshot as a lazy Daft DataFrame (see the module docstring)."""
    daft = require("daft", extra="daft", feature="to_daft()")
    if restricted(snapshot.policy) or snapshot.snapshot is None:
        return daft.from_arrow(_meshlake_read(snapshot))
    from pyiceberg.catalog.noop import NoopCatalog
    from pyiceberg.table import StaticTable

    identifier = tuple(snapshot.address.split("."))
    table = StaticTable(
        identifier, snapshot.metadata, snapshot.metadata_location, snapshot.io, NoopCatalog("meshlake-snapshot")
    )
    return daft.read_iceberg(table, snapshot_id=snapshot.snapshot.snapshot_id)


def to_ray(snapshot: PortSnapshot) -> Any:
    """The snapshot as a Ray Dataset (see the module docstring)."""
    ray_data = require("ray.data", extra="ray", feature="to_ray()")
    if restricted(snapshot.policy) or snapshot.snapshot is None:
        return ray_data.from_arrow(_meshlake_read(snapshot))
    require("daft", extra="daft", feature="to_ray() (Ray reads a port through Daft's Iceberg scan)")
    return to_daft(snapshot).to_ray_dataset()


def _meshlake_read(snapshot: PortSnapshot) -> pa.Table:
    from meshlake.query.engine import read_arrow

    return read_arrow(snapshot.plan, io=snapshot.io, policy=snapshot.policy)
