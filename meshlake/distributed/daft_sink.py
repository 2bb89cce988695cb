"""A Daft `DataSink` that writes a port through meshlake's gate: `df.write_sink(port.daft_sink(mode=…))`.

Each worker conforms its micropartitions to the contract and writes Parquet data files with meshlake's writer
(`meshlake.distributed.staging`); the driver (`finalize`, which Daft runs on the driver) gates the files and
commits one stamped snapshot, or quarantines it (`meshlake.distributed.driver`). Daft wraps a worker's error in a
`RuntimeError` unless the sink says otherwise: this sink lets meshlake's own (picklable) errors through.

`port.write_daft(df, mode=…)` is the safe way to run it: it checks the frame's schema on the driver before any
worker starts, runs the sink, and when anything fails deletes every file the write left (`DistributedWrite.abort`)
and raises meshlake's error as it was raised on the worker. A bare `df.write_sink(sink)` that fails leaves the
files of partitions that finished: call `sink.abort()` (or `meshlake maintain --apply` finds them as orphans).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from daft.io import DataSink
from daft.io.sink import WriteResult as DaftWriteResult
from daft.recordbatch import MicroPartition

from meshlake.distributed.driver import SINK_MODES, DistributedWrite
from meshlake.distributed.keyed import KeyEngine
from meshlake.distributed.staging import WORKER_PHASE, WORKER_ROW_GROUP_ROWS, Share, lanes_for, write_partition
from meshlake.errors import MeshlakeError, QualityGateError
from meshlake.write.phases import PhaseClock

if TYPE_CHECKING:
    from meshlake.port import Port
    from meshlake.write.results import WriteResult


class PortDaftSink(DataSink):  # type: ignore[misc]  # daft is untyped here
    """Writes a Daft DataFrame to a port as one gated snapshot (see the module docstring)."""

    def __init__(self, write: DistributedWrite) -> None:
        self._write: DistributedWrite | None = write
        self.spec = write.spec

    def __getstate__(self) -> dict[str, Any]:
        return {"_write": None, "spec": self.spec}  # workers get the spec only, never the lake

    @property
    def write_state(self) -> DistributedWrite:
        if self._write is None:
            raise RuntimeError("the driver's side of a meshlake sink is not available on a worker")
        return self._write

    @property
    def result(self) -> WriteResult | None:
        """What the write published, once `finalize` ran."""
        return self.write_state.result

    def name(self) -> str:
        return f"meshlake port {self.spec.address}"

    def schema(self) -> Any:
        import daft

        return daft.Schema.from_pydict(
            {"snapshot_id": daft.DataType.int64(), "rows": daft.DataType.int64(), "files": daft.DataType.int64()}
        )

    def write(self, micropartitions: Iterator[MicroPartition]) -> Iterator[DaftWriteResult[Share]]:
        # Daft runs a Python sink's calls one after another (one thread at a time per worker), and hands each call
        # its morsel in memory: on a worker of many cores the call writes it as several files at once (`lanes_for`).
        clock = PhaseClock()
        with clock.phase("call"):
            parts = clock.timed("receive", (part.to_arrow() for part in micropartitions))
            batches = [batch for part in parts for batch in part.to_batches()]
            rows = sum(batch.num_rows for batch in batches)
            share = write_partition(self.spec, batches, lanes=lanes_for(rows), clock=clock)
        share = share._replace(phases=clock.seconds(WORKER_PHASE))
        size = sum(f.file_size_in_bytes for f in share.files)
        yield DaftWriteResult(result=share, bytes_written=size, rows_written=share.rows)

    def safe_write(self, micropartitions: Iterator[MicroPartition]) -> Iterator[DaftWriteResult[Share]]:
        """`write`, letting meshlake's errors through as they are (they pickle); others as Daft wraps them."""
        try:
            yield from self.write(micropartitions)
        except MeshlakeError:
            raise
        except Exception as exc:
            raise RuntimeError(f"{self.name()}: {type(exc).__name__}: {exc}") from exc

    def finalize(self, write_results: list[DaftWriteResult[Share]]) -> MicroPartition:
        shares = [result.result for result in write_results]
        files = [f for share in shares for f in share.files]
        rows = sum(share.rows for share in shares)
        from meshlake.distributed.daft_keyed import DaftKeys

        published = self.write_state.commit(files, rows, shares, engine=DaftKeys())
        return MicroPartition.from_pydict(
            {"snapshot_id": [published.snapshot_id], "rows": [published.rows], "files": [published.files_added]}
        )

    def abort(self) -> list[str]:
        """Delete every file this write left (after a failed `df.write_sink(sink)`)."""
        return self.write_state.abort()


def daft_sink(port: Port, **options: Any) -> PortDaftSink:
    """A sink writing to `port` (`mode`, `run_id`, `writer`, `stamps`, `write_mode` as for `port.write`)."""
    check_sink_mode(port, options.get("mode", "append"))
    return PortDaftSink(DistributedWrite(port, **options))


def check_sink_mode(port: Port, mode: str) -> None:
    """A sink writes rows: a delete (which writes none) runs through `write_daft` / `write_ray` instead."""
    if mode == "delete":
        raise ValueError(
            f"a sink of {port.address} supports mode {' or '.join(repr(m) for m in SINK_MODES)}, not 'delete': "
            "delete with port.write_daft(keys, mode='delete') or port.write_ray(keys, mode='delete')"
        )


def write_daft(port: Port, frame: Any, **options: Any) -> WriteResult:
    """Write a Daft DataFrame to `port` through the sink; on any failure delete the write's files and raise
    meshlake's own error (see the module docstring). `mode='delete'`: remove the rows whose primary key is in
    `frame` (or, with `frame=None`, the rows matching `where=`) as position deletes written on Daft's workers."""
    if options.get("mode") == "delete":
        return delete_on(port, frame, "daft", **options)
    sink = daft_sink(port, **options)
    sink.write_state.check_schema(frame.schema().to_pyarrow_schema())
    try:
        with partition_per_call():
            frame.write_sink(sink).collect()
    except BaseException as exc:
        found = meshlake_error(exc)
        if not isinstance(found, QualityGateError):  # a quarantined write keeps its files on its branch
            sink.abort()
        if found is exc:
            raise
        raise found from None
    result = sink.result
    assert result is not None
    return result


def delete_on(port: Port, frame: Any, engine: str, **options: Any) -> WriteResult:
    """A distributed delete (see `DistributedWrite.delete`) on `engine` ("daft" or "ray"), raising meshlake's own
    error as it was raised on a worker; every file it wrote is deleted first."""
    write = DistributedWrite(port, **options)
    if frame is not None:
        if engine == "daft":
            schema = frame.schema().to_pyarrow_schema()
        else:
            found = frame.schema()
            schema = found.base_schema if found is not None and hasattr(found, "base_schema") else None
        if schema is not None:
            write.check_schema(schema)
    if engine == "daft":
        from meshlake.distributed.daft_keyed import DaftKeys

        keys: KeyEngine = DaftKeys()
    else:
        from meshlake.distributed.ray_keyed import RayKeys

        keys = RayKeys()
    try:
        return write.delete(keys, frame)
    except BaseException as exc:
        found_error = meshlake_error(exc)
        if found_error is exc:
            raise
        raise found_error from None


def partition_per_call() -> Any:
    """Daft calls a sink once per morsel (131,072 rows by default), one call after another, and each call writes
    its own files: with morsels of a worker's row group (`WORKER_ROW_GROUP_ROWS`, 2 M rows), a partition of up to
    that many rows is one call (the per-call costs once per partition), written as one file of one row group, or
    as one file per two cores at once on a worker of more cores (`lanes_for`)."""
    import daft

    return daft.execution_config_ctx(default_morsel_size=WORKER_ROW_GROUP_ROWS)


def meshlake_error(exc: BaseException) -> BaseException:
    """The meshlake error behind an engine's wrapper (Ray's `RayTaskError(ContractViolationError)`, Daft's
    `RuntimeError`), as it was raised; `exc` itself when there is none."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, MeshlakeError) and not type(seen).__module__.startswith("ray."):
            return seen
        seen = seen.__cause__ or seen.__context__
    return exc
