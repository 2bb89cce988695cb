"""Fixtures for the read engine: a real SQLite-backed Iceberg catalog, and a writer of the files other
engines produce (merge-on-read position and equality deletes) that pyiceberg itself never writes.

The delete files follow the Iceberg spec as Spark and Flink write them: position deletes carry
`file_path` (field id 2147483546) and `pos` (2147483545), sorted; equality deletes carry the equality
columns under their table field ids, and the `DataFile` lists them in `equality_ids`. They are committed
in a DELETES manifest of a new snapshot whose manifest list assigns the next sequence number.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.conversions import to_bytes
from pyiceberg.manifest import (
    DataFile,
    DataFileContent,
    FileFormat,
    ManifestContent,
    ManifestEntry,
    ManifestEntryStatus,
    ManifestFile,
    ManifestWriterV2,
    write_manifest_list,
)
from pyiceberg.table import Table
from pyiceberg.table.snapshots import Operation, Snapshot, Summary
from pyiceberg.table.update import AddSnapshotUpdate, AssertRefSnapshotId, SetSnapshotRefUpdate
from pyiceberg.typedef import Record
from pyiceberg.types import LongType, StringType

FILE_PATH_ID = 2147483546
POS_ID = 2147483545


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[SqlCatalog]:
    cat = SqlCatalog("t", uri=f"sqlite:///{tmp_path}/c.db", warehouse=f"file://{tmp_path}/wh")
    yield cat
    cat.engine.dispose()


@pytest.fixture
def duck() -> Iterator[Any]:
    import duckdb

    con = duckdb.connect()
    yield con
    con.close()


class _DeleteManifestWriter(ManifestWriterV2):
    """pyiceberg 0.12 writes only DATA manifests; Spark and Flink also write DELETES manifests."""

    def content(self) -> ManifestContent:
        return ManifestContent.DELETES

    @property
    def _meta(self) -> dict[str, str]:
        return {**super()._meta, "content": "deletes"}


def _write(table: Table, data: pa.Table, name: str) -> tuple[str, int]:
    path = f"{table.location()}/data/{name}-{uuid.uuid4().hex[:8]}.parquet"
    with table.io.new_output(path).create() as out:
        pq.write_table(data, out)
    return path, len(table.io.new_input(path))


def data_file(table: Table, rows: pa.Table | list[dict[str, Any]], *, partition: Sequence[Any] = ()) -> DataFile:
    """Write a data file as another engine would (current schema, field ids) and describe it."""
    schema = table.schema().as_arrow()
    arrow = rows if isinstance(rows, pa.Table) else pa.Table.from_pylist(rows, schema=schema)
    arrow = arrow.select(schema.names).cast(schema)
    path, size = _write(table, arrow, "data")
    return DataFile.from_args(
        content=DataFileContent.DATA,
        file_path=path,
        file_format=FileFormat.PARQUET,
        partition=Record(*partition),
        record_count=arrow.num_rows,
        file_size_in_bytes=size,
    )


def position_deletes(
    table: Table,
    rows: Iterable[tuple[str, int]],
    *,
    partition: Sequence[Any] = (),
    bounds: bool = True,
    file_format: FileFormat = FileFormat.PARQUET,
) -> DataFile:
    """Write a position delete file (sorted by path, pos), optionally with `file_path` bounds like Spark."""
    ordered = sorted(rows)
    schema = pa.schema(
        [
            pa.field("file_path", pa.string(), False, {b"PARQUET:field_id": str(FILE_PATH_ID).encode()}),
            pa.field("pos", pa.int64(), False, {b"PARQUET:field_id": str(POS_ID).encode()}),
        ]
    )
    arrow = pa.table({"file_path": [p for p, _ in ordered], "pos": [i for _, i in ordered]}, schema=schema)
    path, size = _write(table, arrow, "pos-deletes")
    lower: dict[int, bytes] = {}
    upper: dict[int, bytes] = {}
    if bounds and ordered:
        lower = {
            FILE_PATH_ID: to_bytes(StringType(), ordered[0][0]),
            POS_ID: to_bytes(LongType(), ordered[0][1]),
        }
        upper = {
            FILE_PATH_ID: to_bytes(StringType(), ordered[-1][0]),
            POS_ID: to_bytes(LongType(), ordered[-1][1]),
        }
    return DataFile.from_args(
        content=DataFileContent.POSITION_DELETES,
        file_path=path,
        file_format=file_format,
        partition=Record(*partition),
        record_count=arrow.num_rows,
        file_size_in_bytes=size,
        lower_bounds=lower,
        upper_bounds=upper,
    )


def equality_deletes(
    table: Table, rows: dict[str, list[Any]], *, partition: Sequence[Any] = (), spec_id: int | None = None
) -> DataFile:
    """Write an equality delete file holding the given columns (Flink style: just the key columns)."""
    names = list(rows)
    schema = table.schema().select(*names).as_arrow()
    arrow = pa.table(rows).select(schema.names).cast(schema)
    path, size = _write(table, arrow, "eq-deletes")
    file = DataFile.from_args(
        content=DataFileContent.EQUALITY_DELETES,
        file_path=path,
        file_format=FileFormat.PARQUET,
        partition=Record(*partition),
        record_count=arrow.num_rows,
        file_size_in_bytes=size,
        equality_ids=[table.schema().find_field(n).field_id for n in names],
    )
    if spec_id is not None:
        file.spec_id = spec_id
    return file


def commit_files(
    table: Table,
    *,
    add: Sequence[DataFile] = (),
    deletes: Sequence[DataFile] = (),
    delete_spec_id: int | None = None,
) -> Table:
    """Commit data and delete files in one new snapshot on `main`, keeping every existing manifest."""
    meta = table.metadata
    snapshot_id = meta.new_snapshot_id()
    parent = table.current_snapshot()
    sequence_number = meta.next_sequence_number()
    provider = table.location_provider()
    commit = uuid.uuid4()
    manifests: list[ManifestFile] = list(parent.manifests(table.io)) if parent else []

    def write(writer_cls: type[ManifestWriterV2], files: Sequence[DataFile], spec_id: int, n: int) -> ManifestFile:
        spec = meta.specs()[spec_id]
        out = table.io.new_output(provider.new_metadata_location(f"{commit}-m{n}.avro"))
        with writer_cls(spec, table.schema(), out, snapshot_id, "deflate") as writer:
            for file in files:
                writer.add(
                    ManifestEntry.from_args(status=ManifestEntryStatus.ADDED, snapshot_id=snapshot_id, data_file=file)
                )
        return writer.to_manifest_file()

    if add:
        manifests.append(write(ManifestWriterV2, add, meta.default_spec_id, 0))
    if deletes:
        spec_id = meta.default_spec_id if delete_spec_id is None else delete_spec_id
        manifests.append(write(_DeleteManifestWriter, deletes, spec_id, 1))
    list_path = provider.new_metadata_location(f"snap-{snapshot_id}-{commit}.avro")
    with write_manifest_list(
        format_version=2,
        output_file=table.io.new_output(list_path),
        snapshot_id=snapshot_id,
        parent_snapshot_id=parent.snapshot_id if parent else None,
        sequence_number=sequence_number,
        avro_compression="deflate",
    ) as writer:
        writer.add_manifests(manifests)
    snapshot = Snapshot(
        snapshot_id=snapshot_id,
        parent_snapshot_id=parent.snapshot_id if parent else None,
        sequence_number=sequence_number,
        manifest_list=list_path,
        summary=Summary(Operation.OVERWRITE if add else Operation.DELETE),
        schema_id=meta.current_schema_id,
    )
    with table.transaction() as tx:
        tx._apply(
            (
                AddSnapshotUpdate(snapshot=snapshot),
                SetSnapshotRefUpdate(ref_name="main", type="branch", snapshot_id=snapshot_id),
            ),
            (AssertRefSnapshotId(ref="main", snapshot_id=parent.snapshot_id if parent else None),),
        )
    return table


def append(table: Table, rows: list[dict[str, Any]]) -> Table:
    """Append rows the way pyiceberg writes (one data file), returning the refreshed table."""
    table.append(pa.Table.from_pylist(rows, schema=table.schema().as_arrow()))
    return table


def files_of(table: Table) -> list[str]:
    """The live data file paths of the current snapshot (read from the manifests by pyiceberg)."""
    files = table.inspect.files()
    return [p for p, c in zip(files["file_path"].to_pylist(), files["content"].to_pylist(), strict=True) if c == 0]


class Files:
    """Writers of what other engines write; used through the `mor` fixture."""

    data_file = staticmethod(data_file)
    position_deletes = staticmethod(position_deletes)
    equality_deletes = staticmethod(equality_deletes)
    commit = staticmethod(commit_files)
    append = staticmethod(append)
    files_of = staticmethod(files_of)


@pytest.fixture
def mor() -> type[Files]:
    """Merge-on-read table builders (Spark/Flink-style delete files) and small write helpers."""
    return Files


def duck_rows(con: Any, sql: str, order: str = "1") -> list[dict[str, Any]]:
    """Rows of a relation as dicts, in a fixed order (Arrow fetch: no pytz needed for TIMESTAMPTZ)."""
    table = con.sql(f"SELECT * FROM ({sql}) ORDER BY {order}").to_arrow_table()
    return list(table.to_pylist())


@pytest.fixture
def rows() -> Callable[..., list[dict[str, Any]]]:
    return duck_rows
