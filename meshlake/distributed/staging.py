"""What a worker does with its partitions: conform them to the port's contract, write them as data files.

A `WorkerSpec` is all a worker needs (it pickles): the port's address, the table metadata the write started
from, the FileIO properties and the write's run id. Files are written by meshlake's own writer
(`meshlake.write.datafiles`) and named `ml-<run id>-…`, so the driver can find and delete every file of a write
that fails anywhere (`meshlake.distributed.driver`). A worker whose partition breaks the contract deletes the
files it wrote and raises `ContractViolationError` (meshlake's errors pickle: the driver gets it as it is); in
mode 'replace' a row outside the write's `where` breaks it too, as for `port.write`.

With the spec's `metrics` (the gate's mergeable aggregates, `meshlake.quality.metrics`), the worker measures them on
each row group it writes and returns the partials with its files: the driver merges every worker's instead of
reading their files for those aggregates.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

import pyarrow as pa
from pyiceberg.manifest import DataFile
from pyiceberg.table.metadata import TableMetadata

from meshlake.quality.metrics import MetricPartials, MetricPlan
from meshlake.write.datafiles import ROW_GROUP_ROWS, DataFileWriter
from meshlake.write.ingest import Conformer
from meshlake.write.phases import PhaseClock


@dataclass(frozen=True)
class WorkerSpec:
    """What workers need to write files of one distributed write."""

    address: str
    metadata: TableMetadata
    io_properties: dict[str, str] = field(default_factory=dict)
    run_id: str = ""
    where: str | None = None
    """mode='replace': every row written must match it (meshlake's filter grammar)."""
    metrics: MetricPlan | None = None
    """The gate's aggregates that merge, measured on the workers (None: the port has no such check)."""
    row_group_rows: int = 0
    """How many rows a row group of a worker's file holds at most (0: `WORKER_ROW_GROUP_ROWS`)."""

    @property
    def file_prefix(self) -> str:
        """How every data file of this write is named."""
        return f"ml-{self.run_id}-"

    def target(self) -> pa.Schema:
        """The port's Arrow schema (with Iceberg field ids), as the write conforms to it."""
        from pyiceberg.io.pyarrow import schema_to_pyarrow

        return schema_to_pyarrow(self.metadata.schema(), include_field_ids=True)

    def conformer(self) -> Conformer:
        return Conformer(self.target(), self.address)

    def checked_conformer(self, schema: pa.Schema) -> Conformer:
        """This write's conformer, having refused `schema` if it does not fit the contract (`check_schema`).

        A worker process makes the conformer and checks each input schema once per write, not once per call: an
        engine calls a sink once per partition (Daft: once per morsel), and the check costs milliseconds."""
        key = (self.address, self.run_id)
        prepared = _PREPARED.get(key)
        if prepared is None:
            if len(_PREPARED) >= 8:  # a worker serves a few writes at a time: forget the oldest
                del _PREPARED[next(iter(_PREPARED))]
            prepared = _PREPARED[key] = (self.conformer(), set())
        conformer, checked = prepared
        if schema not in checked:
            conformer.check_schema(schema)
            checked.add(schema)
        return conformer


WORKER_ROW_GROUP_ROWS = 2 * ROW_GROUP_ROWS
"""A worker's row groups hold up to this many rows, twice a local write's (unless the table's
`write.parquet.row-group-limit` says less; `ROW_GROUP_BYTES` still caps them): an engine hands a sink call its
rows in memory (Daft: a morsel of up to this many rows, `daft_sink.partition_per_call`), so cutting them at 1 M
rows saves no memory, while the short second row group (of a 1.25 M-row partition: 0.25 M rows) starts a
dictionary of its own for every column — measured, 98 against 80 ms of encoding CPU per 1.25 M rows and 25 %
larger files. A local write cuts at `ROW_GROUP_ROWS` to spread row groups over its parallel files; a sink call
is one file per lane."""

_PREPARED: dict[tuple[str, str], tuple[Conformer, set[pa.Schema]]] = {}
"""Per worker process: each write's conformer and the input schemas it accepted (`WorkerSpec.checked_conformer`)."""


class Share(NamedTuple):
    """What one worker wrote (it pickles back to the driver)."""

    files: list[DataFile]
    rows: int
    partials: MetricPartials | None = None
    """The gate's mergeable aggregates over those rows (see `WorkerSpec.metrics`)."""
    phases: dict[str, float] = {}  # noqa: RUF012  # a NamedTuple's default, never mutated
    """Where the worker's time went, wall and CPU seconds by phase (`WORKER_PHASE` + name; see `write_partition`)."""


WORKER_PHASE = "worker "
"""How a worker's phases are named in the write's `WriteResult.phases` (`worker encode`, `worker encode cpu`)."""


def write_partition(
    spec: WorkerSpec, batches: Iterable[pa.RecordBatch], *, lanes: int = 1, clock: PhaseClock | None = None
) -> Share:
    """Conform and write `batches` (one worker's share) as data files, measuring the gate's mergeable aggregates.

    With `lanes` > 1 the share (held in memory: an engine's partition, which it holds anyway) is conformed, then
    cut into that many contiguous slices of equal rows, and each slice is written as its own file by its own
    writer thread, all at once: Parquet encoding releases the GIL, so one engine call uses that many cores (Daft
    runs a Python sink's calls one after another). The default streams the batches into one writer.

    The share's `phases` are `clock`'s (a new one by default): `conform` here, and the writer's `encode` (Parquet
    encoding and writing), `metrics` (the gate's aggregates) and `close` (footers and statistics), each in the
    thread that spends it; an engine's sink adds how long it took to receive the rows (`receive`) and the whole
    call (`call`: wall time; its CPU is the calling thread's only, encoding runs in the writer's threads).

    On any error every file written here (by any lane) is deleted before the error is raised.
    """
    from pyiceberg.io import load_file_io

    clock = clock if clock is not None else PhaseClock()
    io = load_file_io(spec.io_properties, spec.metadata.location)
    tap = spec.metrics.tap() if spec.metrics is not None else None
    counted = [0]

    def conformed() -> Iterator[pa.RecordBatch]:
        for batch in batches:
            conformer = spec.checked_conformer(batch.schema)
            if batch.num_rows:
                counted[0] += batch.num_rows
                with clock.phase("conform"):
                    found = conformer.conform_batch(batch)
                yield found

    batches_out: Iterator[pa.RecordBatch] = conformed()
    if spec.where is not None:
        from meshlake.write.row_changes import only_matching
        from meshlake.write.rowfilter import row_filter

        batches_out = only_matching(batches_out, row_filter(spec.where, spec.metadata.schema()), spec.address)

    def writer() -> DataFileWriter:  # engine: many
        return DataFileWriter(
            spec.metadata,
            io,
            name_prefix=spec.file_prefix,
            parallel=1,
            observer=tap,
            clock=clock,
            row_group_rows=spec.row_group_rows or WORKER_ROW_GROUP_ROWS,
        )

    if lanes <= 1:
        files = writer().write_all(batches_out)
    else:
        files = _write_lanes([writer() for _ in range(lanes)], list(batches_out))
    return Share(files, counted[0], tap.partials() if tap is not None else None, clock.seconds(WORKER_PHASE))


def lanes_for(rows: int, cores: int | None = None) -> int:
    """How many files a sink call of `rows` writes at once: one per two cores of the worker (at most `MAX_LANES`),
    each of at least `MIN_LANE_ROWS` rows.

    Half the cores, because the engine's own work (reading, computing the frame) goes on in parallel on the
    others while the sink's calls run one after another: measured with Daft on 2 cores, a sink call takes about a
    third of the write's CPU time, and a second lane there cost 15–25 % more CPU (two threads on two busy cores,
    smaller row groups) without shortening the write. So a 2-core worker writes one file per call."""
    import os

    found = cores if cores is not None else (os.cpu_count() or 1)
    return max(1, min(found // 2, MAX_LANES, rows // MIN_LANE_ROWS))


MAX_LANES = 4
MIN_LANE_ROWS = 500_000
"""A lane's file is at least this many rows (half a row group): smaller calls are written by one thread."""


def _write_lanes(writers: list[DataFileWriter], batches: list[pa.RecordBatch]) -> list[DataFile]:
    """Write contiguous, equal slices of `batches` with one writer each, in threads; on any error, every
    writer's files are deleted."""
    from concurrent.futures import ThreadPoolExecutor

    table = pa.Table.from_batches(batches) if batches else None
    if table is None or table.num_rows == 0:
        return writers[0].write_all([])
    step = -(-table.num_rows // len(writers))
    slices = [table.slice(start, step).to_batches() for start in range(0, table.num_rows, step)]
    used = writers[: len(slices)]
    with ThreadPoolExecutor(len(used), thread_name_prefix="meshlake-lane") as pool:
        futures = [pool.submit(w.write_all, part) for w, part in zip(used, slices, strict=True)]
        errors = [f.exception() for f in futures]
    failed = next((error for error in errors if error is not None), None)
    if failed is not None:
        for w in used:
            w.abort()  # a lane that finished keeps no file either
        raise failed
    return [data_file for future in futures for data_file in future.result()]
