"""A Ray Data `Datasink` that writes a port through meshlake's gate: `dataset.write_datasink(port.ray_sink(…))`.

Each write task conforms its blocks and writes data files with meshlake's writer; `on_write_complete` (on the
driver) gates them and commits one stamped snapshot, or quarantines it; `on_write_failed` deletes every file of
the write. `port.write_ray(dataset, mode=…)` checks the schema first and raises meshlake's own error.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ray.data import Datasink

from meshlake.distributed.daft_sink import check_sink_mode, delete_on, meshlake_error
from meshlake.distributed.driver import DistributedWrite
from meshlake.distributed.staging import WORKER_PHASE, Share, write_partition
from meshlake.errors import QualityGateError
from meshlake.write.phases import PhaseClock

if TYPE_CHECKING:
    from meshlake.port import Port
    from meshlake.write.results import WriteResult


class PortRayDatasink(Datasink):  # type: ignore[misc]  # ray is untyped here
    """Writes a Ray Dataset to a port as one gated snapshot (see the module docstring)."""

    def __init__(self, write: DistributedWrite) -> None:
        self._write: DistributedWrite | None = write
        self.spec = write.spec
        self.failed = False

    def __getstate__(self) -> dict[str, Any]:
        return {"_write": None, "spec": self.spec, "failed": False}

    @property
    def write_state(self) -> DistributedWrite:
        if self._write is None:
            raise RuntimeError("the driver's side of a meshlake sink is not available on a worker")
        return self._write

    @property
    def result(self) -> WriteResult | None:
        return self.write_state.result

    def get_name(self) -> str:
        return "MeshlakePort"

    def write(self, blocks: Iterable[Any], ctx: Any) -> Share:
        from ray.data.block import BlockAccessor

        clock = PhaseClock()
        with clock.phase("call"):
            tables = clock.timed("receive", (BlockAccessor.for_block(block).to_arrow() for block in blocks))
            share = write_partition(self.spec, (b for table in tables for b in table.to_batches()), clock=clock)
        return share._replace(phases=clock.seconds(WORKER_PHASE))

    def on_write_complete(self, write_result: Any) -> None:
        shares: list[Share] = list(write_result.write_returns)
        files = [f for share in shares for f in share.files]
        rows = sum(share.rows for share in shares)
        from meshlake.distributed.ray_keyed import RayKeys

        self.write_state.commit(files, rows, shares, engine=RayKeys())

    def on_write_failed(self, error: Exception) -> None:
        self.failed = True
        if not isinstance(meshlake_error(error), QualityGateError):
            self.write_state.abort()


def ray_sink(port: Port, **options: Any) -> PortRayDatasink:
    """A Datasink writing to `port` (`mode`, `run_id`, `writer`, `stamps`, `write_mode` as for `port.write`)."""
    check_sink_mode(port, options.get("mode", "append"))
    return PortRayDatasink(DistributedWrite(port, **options))


def write_ray(port: Port, dataset: Any, **options: Any) -> WriteResult:
    """Write a Ray Dataset to `port` through the sink; raise meshlake's own error on failure (nothing left).
    `mode='delete'`: remove the rows whose primary key is in `dataset` (or, with None, those matching `where=`)."""
    if options.get("mode") == "delete":
        return delete_on(port, dataset, "ray", **options)
    sink = ray_sink(port, **options)
    schema = dataset.schema()
    if schema is not None and hasattr(schema, "base_schema"):
        sink.write_state.check_schema(schema.base_schema)
    try:
        dataset.write_datasink(sink)
    except BaseException as exc:
        found = meshlake_error(exc)
        if not sink.failed and not isinstance(found, QualityGateError):
            sink.write_state.abort()
        if found is exc:
            raise
        raise found from None
    result = sink.result
    assert result is not None
    return result
