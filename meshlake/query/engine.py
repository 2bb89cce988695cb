"""Run a scan plan in DuckDB: to Arrow, or as a relation on a given connection.

Local files need nothing. For object stores, DuckDB (without extensions) reads through an fsspec filesystem
registered on the connection: `read_arrow(plan, io=table.io)` registers an s3fs filesystem built from the
FileIO's properties for `s3://` files, and the FileIO's own filesystem for other schemes when it is a
pyiceberg `FsspecFileIO`; otherwise register one yourself (`con.register_filesystem(fs)`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pyarrow as pa
from pyiceberg.io import FileIO

from meshlake.query.native.masks import connect, native_mode
from meshlake.query.plan import ScanPlan
from meshlake.query.policy import ReadPolicy, restricted
from meshlake.query.sql import scan_sql

if TYPE_CHECKING:
    import duckdb


def read_arrow(
    plan: ScanPlan,
    *,
    io: FileIO | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    policy: ReadPolicy | None = None,
) -> pa.Table:
    """The snapshot's rows as an Arrow table, read by DuckDB in place (as `policy` lets its reader see them)."""
    import duckdb

    own = con is None
    # meshlake's extension (+8 ms to load) only where it has deletes to apply: a plain read needs a plain connection
    connection = con if con is not None else connect() if plan.has_deletes else duckdb.connect()
    try:
        sql = scan_sql(plan, native=native_mode(connection))
        if restricted(policy):
            sql = policy.relation(sql, plan.schema)
        if io is not None:
            register_filesystems(connection, plan, io)
        # DuckDB 2.0: `.arrow()` is a RecordBatchReader; `to_arrow_table()` is the table.
        table: pa.Table = connection.sql(sql).to_arrow_table()
        return table
    finally:
        if own:
            connection.close()


def read_lossless(plan: ScanPlan, *, io: FileIO, rows: int = 256 * 1024) -> Iterator[pa.RecordBatch]:
    """The plan's rows streamed from DuckDB in types Arrow casts back to the table's without loss (uuids stay
    uuids): what code that rewrites rows into new files reads them with."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SET arrow_lossless_conversion = true")
        register_filesystems(con, plan, io)
        yield from con.sql(scan_sql(plan)).to_arrow_reader(rows)
    finally:
        con.close()


def register_filesystems(con: duckdb.DuckDBPyConnection, plan: ScanPlan, io: FileIO) -> list[str]:
    """Register on `con` the fsspec filesystems for the object-store schemes the plan reads.

    S3 gets an s3fs filesystem built from the FileIO properties, whatever the FileIO (`meshlake.catalog.storage`);
    other schemes the filesystem of a pyiceberg `FsspecFileIO`.
    """
    from meshlake.catalog.storage import S3_SCHEMES, register_s3

    schemes = plan.remote_locations
    registered: list[str] = []
    if any(scheme in S3_SCHEMES for scheme, _ in schemes) and register_s3(con, {**plan.io_properties, **io.properties}):
        registered.append("s3")
    get_fs = getattr(io, "get_fs", None)
    for scheme, netloc in sorted(schemes):
        if scheme in S3_SCHEMES or get_fs is None or con.filesystem_is_registered(scheme):
            continue
        con.register_filesystem(get_fs(scheme, netloc))
        registered.append(scheme)
    return registered
