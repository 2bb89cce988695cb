"""Write conformed Arrow batches as Iceberg data files: streaming, partition fan-out, files in parallel.

Memory stays bounded: each open file holds at most one row group in memory and one being encoded.
Unpartitioned data is spread over one file per core, so encoding uses every core: each row group is cut at
`ROW_GROUP_ROWS` and the next one goes to the next file. An `observer` sees every row group in the thread that
encodes it (the quality gate measures its mergeable metrics there: `meshlake.quality.metrics`).

A column the table keeps no metrics for (`write.metadata.metrics.column.<name>=none`, which deploy sets for
`pii` and `confidential` columns) gets no bounds in the manifests (pyiceberg's statistics plan honours the
property) and no statistics in the Parquet footer either: its minimum and maximum are written nowhere but in
the data itself. A file's size is what was written to it, not asked of the storage afterwards.
"""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.io import FileIO, OutputFile
from pyiceberg.io.fileformat import DataFileStatistics
from pyiceberg.io.pyarrow import (
    MetricModeTypes,
    ParquetFormatWriter,
    StatisticsCollector,
    compute_statistics_plan,
    data_file_statistics_from_parquet_metadata,
    parquet_path_to_id_mapping,
)
from pyiceberg.manifest import DataFile, DataFileContent, FileFormat
from pyiceberg.partitioning import PartitionFieldValue, PartitionKey, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.table.locations import load_location_provider
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.typedef import Record

from meshlake.contract.deploy import METRICS_COLUMN
from meshlake.query.fieldids import remember_written
from meshlake.write.phases import PhaseClock

ROW_GROUP_BYTES = 256 * 1024 * 1024
ROW_GROUP_ROWS = 1_000_000
ROW_GROUP_LIMIT = "write.parquet.row-group-limit"
"""The table property capping a row group's rows (pyiceberg's; Iceberg's own default cuts by bytes only)."""
TARGET_FILE_BYTES = 512 * 1024 * 1024
MAX_OPEN_FILES = 64
BUFFER_BUDGET_BYTES = 512 * 1024 * 1024


def unmeasured_paths(schema: Schema, properties: dict[str, str]) -> set[str]:
    """The Parquet column paths of `schema` whose metrics mode is `none`, with everything nested under them."""
    hidden = {
        key.removeprefix(METRICS_COLUMN)
        for key, value in properties.items()
        if key.startswith(METRICS_COLUMN) and value.strip().lower() == "none"
    }
    plan = compute_statistics_plan(schema, properties)
    found = set()
    for path, field_id in parquet_path_to_id_mapping(schema).items():
        collector = plan.get(field_id)
        if (collector is not None and collector.mode.type == MetricModeTypes.NONE) or any(
            path == name or path.startswith(f"{name}.") for name in hidden
        ):
            found.add(path)
    return found


class RowGroupObserver(Protocol):
    """Sees each row group a `DataFileWriter` encodes, in the encoding thread (so: thread-safe)."""

    def observe(self, rows: pa.Table) -> None: ...


class _ParquetWriter(ParquetFormatWriter):
    """pyiceberg's Parquet writer, without footer statistics for unmeasured columns, measuring what it wrote; its
    statistics plan and column mapping are the writer's (`_Columns`), worked out once for all its files."""

    def __init__(self, output: OutputFile, columns: _Columns, row_group_rows: int) -> None:
        super().__init__(output, columns.schema, columns.properties)
        if ROW_GROUP_LIMIT not in columns.properties:
            self._row_group_size = row_group_rows  # the table does not say: a row group is what the writer hands over
        if columns.measured is not None:
            self._parquet_writer_kwargs["write_statistics"] = columns.measured
        self.columns = columns
        self.size: int | None = None

    def close(self) -> DataFileStatistics:
        if self._result is None and self._writer is not None and self._fos is not None:
            with self._fos:
                self._writer.close()  # the footer is written: the stream's position is the file's size
                self.size = self._fos.tell()
                self._result = data_file_statistics_from_parquet_metadata(
                    parquet_metadata=self._writer.writer.metadata,
                    stats_columns=self.columns.plan,
                    parquet_column_mapping=self.columns.mapping,
                )
        return super().close()


@dataclass(frozen=True)
class _Columns:
    """What every file of one writer shares: the schema and table properties, which Parquet columns get footer
    statistics (`measured`; None: all), the statistics plan and the column path -> field id mapping."""

    schema: Schema
    properties: dict[str, str]
    measured: list[str] | None
    plan: dict[int, StatisticsCollector]
    mapping: dict[str, int]

    @classmethod
    def of(cls, schema: Schema, properties: dict[str, str]) -> _Columns:
        """Those of `schema` under `properties`: kept per schema object and properties (a table's metadata holds
        one schema object from commit to commit; building them costs ~0.3 ms, on every small write's critical
        path). They are only read."""
        key = (id(schema), tuple(sorted(properties.items())))
        with _columns_lock:
            found = _columns_kept.get(key)
        if found is not None and found.schema is schema:  # kept, it holds `schema`: its id is not another's
            return found
        hidden = unmeasured_paths(schema, properties)
        mapping = parquet_path_to_id_mapping(schema)
        measured = [path for path in mapping if path not in hidden] if hidden else None
        built = cls(schema, dict(properties), measured, compute_statistics_plan(schema, properties), mapping)
        with _columns_lock:
            _columns_kept[key] = built
            while len(_columns_kept) > COLUMNS_KEPT:
                _columns_kept.pop(next(iter(_columns_kept)))
        return built


COLUMNS_KEPT = 32
_columns_kept: dict[tuple[object, ...], _Columns] = {}
_columns_lock = threading.Lock()


@dataclass
class _OpenFile:
    key: tuple[object, ...]
    partition_key: PartitionKey | None
    path: str
    output: OutputFile
    writer: _ParquetWriter
    written_bytes: int = 0
    rows: int = 0
    pending: Future[None] | None = None


@dataclass
class _Lane:
    """Rows waiting to become a row group of one partition (or one parallel lane)."""

    key: tuple[object, ...]
    partition_key: PartitionKey | None
    buffer: list[pa.RecordBatch] = field(default_factory=list)
    buffered_rows: int = 0
    buffered_bytes: int = 0
    file: _OpenFile | None = None


class DataFileWriter:
    """Writes batches of one table's Arrow schema into data files and returns their `DataFile`s."""

    def __init__(
        self,
        metadata: TableMetadata,
        io: FileIO,
        *,
        schema: Schema | None = None,
        name_prefix: str = "",
        parallel: int | None = None,
        observer: RowGroupObserver | None = None,
        clock: PhaseClock | None = None,
        row_group_rows: int | None = None,
        threads: bool = True,
    ) -> None:
        """`name_prefix` starts every file name (a distributed write names its files by its run, so that the
        files of an aborted run can be found and deleted: `meshlake.distributed`); `parallel` is how many files
        encode at once (default: one per core, at most 4; a distributed worker uses 1, the engine runs many);
        `observer` sees every row group written; `clock` times `encode` (Parquet encoding and writing),
        `metrics` (the observer) and `close` (footers and statistics); `row_group_rows` is how many rows a row
        group holds at most (default `ROW_GROUP_ROWS`; the table's `write.parquet.row-group-limit` caps it);
        `threads=False` encodes in the calling thread instead (a small write, already off the main thread, saves
        starting and handing over to an encoding thread)."""
        self.metadata = metadata
        self.observer = observer
        self.clock = clock
        self.row_group_rows = row_group_rows if row_group_rows is not None else ROW_GROUP_ROWS
        self.name_prefix = name_prefix
        self.io = io
        self.schema = schema or metadata.schema()
        self.spec: PartitionSpec = metadata.spec()
        self.locations = load_location_provider(metadata.location, metadata.properties)
        self.write_id = uuid.uuid4()
        self.parallel = parallel if parallel is not None else max(1, min(4, os.cpu_count() or 1))
        self.target_file_bytes = int(metadata.properties.get("write.target-file-size-bytes", TARGET_FILE_BYTES))
        self._executor = ThreadPoolExecutor(self.parallel, thread_name_prefix="meshlake-write") if threads else None
        self._columns = _Columns.of(self.schema, metadata.properties)
        self._lanes: dict[tuple[object, ...], _Lane] = {}
        self._files: list[DataFile] = []
        self._counter = 0
        self._next_lane = 0
        self._written_paths: list[str] = []
        self._buffered_bytes = 0

    # -- public -----------------------------------------------------------------------------------
    def write_all(self, batches: Iterable[pa.RecordBatch]) -> list[DataFile]:
        """Write every batch and return the data files; on error, delete what was written."""
        try:
            for batch in batches:
                self.add(batch)
            return self.finish()
        except BaseException:
            self.abort()
            raise

    def add(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        if self.spec.is_unpartitioned():
            # Each lane's row group is cut at exactly row_group_rows, then the next lane fills: files encode in
            # parallel from the first row group on, and no lane holds more rows than another when the data ends.
            while batch.num_rows:
                lane = self._lane((self._next_lane,), None)
                room = self.row_group_rows - lane.buffered_rows
                self._append(lane, batch.slice(0, room))
                batch = batch.slice(room)
                if not lane.buffer:  # flushed a row group: move on so files encode in parallel
                    self._next_lane = (self._next_lane + 1) % self.parallel
            return
        for key, partition_key, part in self._split(batch):
            self._append(self._lane(key, partition_key), part)

    def finish(self) -> list[DataFile]:
        for lane in list(self._lanes.values()):
            self._flush(lane)
            self._close(lane)
        if self._executor is not None:
            self._executor.shutdown(wait=True)
        return list(self._files)

    def abort(self) -> None:
        """Stop and delete every file this writer created (they are referenced by no snapshot)."""
        for lane in self._lanes.values():
            if lane.file is not None:
                with contextlib.suppress(Exception):  # the file is deleted below anyway
                    _wait(lane.file)
                    lane.file.writer.close()
        if self._executor is not None:
            self._executor.shutdown(wait=True)
        for path in self._written_paths:
            with contextlib.suppress(Exception):  # a leftover is an orphan that `meshlake maintain` lists
                self.io.delete(path)

    @property
    def written_paths(self) -> list[str]:
        return list(self._written_paths)

    # -- internals --------------------------------------------------------------------------------
    def _lane(self, key: tuple[object, ...], partition_key: PartitionKey | None) -> _Lane:
        lane = self._lanes.get(key)
        if lane is None:
            if len(self._lanes) >= MAX_OPEN_FILES:
                oldest = next(iter(self._lanes.values()))
                self._flush(oldest)
                self._close(oldest)
                del self._lanes[oldest.key]
            lane = self._lanes[key] = _Lane(key, partition_key)
        return lane

    def _append(self, lane: _Lane, batch: pa.RecordBatch) -> None:
        lane.buffer.append(batch)
        lane.buffered_rows += batch.num_rows
        lane.buffered_bytes += batch.nbytes
        self._buffered_bytes += batch.nbytes
        if lane.buffered_rows >= self.row_group_rows or lane.buffered_bytes >= ROW_GROUP_BYTES:
            self._flush(lane)
        while self._buffered_bytes > BUFFER_BUDGET_BYTES:
            self._flush(max(self._lanes.values(), key=lambda candidate: candidate.buffered_bytes))

    def _flush(self, lane: _Lane) -> None:
        if not lane.buffer:
            return
        table = pa.Table.from_batches(lane.buffer)
        rows, size = lane.buffered_rows, lane.buffered_bytes
        self._buffered_bytes -= size
        lane.buffer, lane.buffered_rows, lane.buffered_bytes = [], 0, 0
        if lane.file is None:
            lane.file = self._open(lane)
        open_file = lane.file
        _wait(open_file)  # back-pressure: at most one row group in flight per file
        if self._executor is None:
            self._encode(open_file.writer, table)
        else:
            open_file.pending = self._executor.submit(self._encode, open_file.writer, table)
        open_file.rows += rows
        open_file.written_bytes += size
        if open_file.written_bytes >= self.target_file_bytes:
            self._close(lane)

    def _encode(self, writer: _ParquetWriter, table: pa.Table) -> None:
        with self._phase("encode"):
            writer.write(table)
        if self.observer is not None:
            with self._phase("metrics"):
                self.observer.observe(table)

    def _phase(self, name: str) -> contextlib.AbstractContextManager[None]:
        return self.clock.phase(name) if self.clock is not None else contextlib.nullcontext()

    def _open(self, lane: _Lane) -> _OpenFile:
        self._counter += 1
        name = f"{self.name_prefix}{self.write_id}-{self._counter:05d}.parquet"
        path = self.locations.new_data_location(data_file_name=name, partition_key=lane.partition_key)
        output = self.io.new_output(path)
        writer = _ParquetWriter(output, self._columns, self.row_group_rows)
        self._written_paths.append(path)
        return _OpenFile(lane.key, lane.partition_key, path, output, writer)

    def _close(self, lane: _Lane) -> None:
        open_file, lane.file = lane.file, None
        if open_file is None:
            return
        _wait(open_file)
        with self._phase("close"):
            statistics = open_file.writer.close()
        data_file = DataFile.from_args(
            content=DataFileContent.DATA,
            file_path=open_file.path,
            file_format=FileFormat.PARQUET,
            partition=open_file.partition_key.partition if open_file.partition_key else Record(),
            file_size_in_bytes=open_file.writer.size if open_file.writer.size is not None else len(open_file.output),
            sort_order_id=None,
            spec_id=self.metadata.default_spec_id,
            equality_ids=None,
            key_metadata=None,
            **statistics.to_serialized_dict(),
        )
        data_file.spec_id = self.metadata.default_spec_id  # not a manifest field: from_args drops it
        remember_written([open_file.path])
        self._files.append(data_file)

    def _split(self, batch: pa.RecordBatch) -> list[tuple[tuple[object, ...], PartitionKey, pa.RecordBatch]]:
        """Group a batch's rows by partition value."""
        transformed = []
        for partition_field in self.spec.fields:
            source = self.schema.find_field(partition_field.source_id)
            column = batch.column(self.schema.find_column_name(partition_field.source_id) or source.name)
            transformed.append(partition_field.transform.pyarrow_transform(source.field_type)(column))
        names = [f"p{i}" for i in range(len(transformed))]
        keys = pa.table(dict(zip(names, transformed, strict=True)))
        indexed = keys.append_column("__row", pa.array(range(batch.num_rows), pa.int64()))
        groups = indexed.group_by(names, use_threads=False).aggregate([("__row", "list")])
        parts = []
        for row in range(groups.num_rows):
            values = tuple(groups.column(name)[row].as_py() for name in names)
            rows = groups.column("__row_list")[row].values
            partition_key = PartitionKey(
                field_values=[
                    PartitionFieldValue(field=f, value=v) for f, v in zip(self.spec.fields, values, strict=True)
                ],
                partition_spec=self.spec,
                schema=self.schema,
            )
            parts.append((values, partition_key, pc.take(batch, rows)))
        return parts


def _wait(open_file: _OpenFile) -> None:
    if open_file.pending is not None:
        open_file.pending.result()
        open_file.pending = None
