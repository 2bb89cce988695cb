"""The driver's side of a distributed write: prepare it, then gate and commit what the workers wrote, or clean up.

`DistributedWrite` is made on the driver before any worker starts: it checks that the caller may write the
port and the mode, stamps the write (run id, writer, product version, extra stamps) and hands workers a
`WorkerSpec`. When every worker is done, `commit` stages their files as one append, overwrite or replace (the
rows of `main`'s head matching `where` are rewritten away on the driver) or upsert (the written keys are read back
from the staged files, one column each, and the base rows holding them rewritten away) of `main`'s head,
runs the port's quality gate over the staged files in place (DuckDB reads them from storage: the driver never
holds the data; the aggregates that merge were measured by the workers while they wrote, and are merged from their
partials, `meshlake.quality.metrics`) and publishes one stamped snapshot, or quarantines it (`QualityGateError`).
`abort` deletes every file of the write, found by its name prefix under the table's data folder, whichever worker
wrote it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pyiceberg.manifest import DataFile

from meshlake.distributed.staging import Share, WorkerSpec
from meshlake.errors import ContractViolationError
from meshlake.write.commit import QUARANTINE_PREFIX
from meshlake.write.flow import WriteResult, stage_files

if TYPE_CHECKING:
    import pyarrow as pa

    from meshlake.port import Port

MODES = ("append", "overwrite", "replace", "upsert")
"""The modes a distributed write supports (delete runs through `port.delete`)."""


class DistributedWrite:
    """One distributed write of a port (see the module docstring)."""

    def __init__(
        self,
        port: Port,
        *,
        mode: str = "append",
        where: str | None = None,
        run_id: str | None = None,
        writer: str | None = None,
        stamps: dict[str, str] | None = None,
    ) -> None:
        port._check_write("write")
        if mode not in MODES:
            raise ValueError(
                f"a distributed write of {port.address} supports mode {' or '.join(repr(m) for m in MODES)}, "
                f"not {mode!r}; write other modes with port.write()"
            )
        if (mode == "replace") != (where is not None) or not isinstance(where, str | None):
            raise ValueError(
                f"a distributed write of {port.address} takes where='…' (meshlake's filter text) with mode='replace' "
                "and only then"
            )
        if mode == "upsert" and not port.contract.primary_key:
            raise ContractViolationError(
                f"{port.address}: upsert needs a primary_key in the port's contract; add one to dataproduct.yaml and "
                "deploy",
                address=str(port.address),
            )
        self.port = port
        self.mode = mode
        self.stamps = port._stamps(mode, None, run_id, writer, stamps)
        table = port.table()
        if where is not None:
            from meshlake.write.rowfilter import row_filter

            row_filter(where, table.schema())  # InvalidFilterError now, before any worker starts
        gate = port.lake._gate_for(port)
        self.spec = WorkerSpec(
            str(port.address),
            table.metadata,
            dict(table.io.properties),
            self.stamps.run_id,
            where=where,
            metrics=gate.metric_plan(table, mode) if gate is not None else None,
        )
        self.result: WriteResult | None = None

    def check_schema(self, schema: pa.Schema) -> None:
        """Refuse, before any worker starts, data whose columns do not fit the contract (`ContractViolationError`)."""
        self.spec.conformer().check_schema(schema)

    def commit(self, files: Sequence[DataFile], rows: int, shares: Sequence[Share] | None = None) -> WriteResult:
        """Gate the workers' files and publish them as one snapshot (or quarantine them: `QualityGateError`);
        `shares`: what each worker returned, whose partials the gate merges."""
        from meshlake.quality.metrics import MetricPartials

        lake = self.port.lake
        streamed = MetricPartials.join([share.partials for share in shares]) if shares else None
        staged = stage_files(
            lake.catalog,
            self.port.table(),
            files,
            address=self.spec.address,
            mode=self.mode,
            rows=rows,
            stamps=self.stamps,
            gate=lake._gate_for(self.port),
            quarantine_name=f"{QUARANTINE_PREFIX}{self.stamps.run_id}",
            where=self.spec.where,
            primary_key=list(self.port.contract.primary_key),
            streamed=streamed,
        )
        self.result = self.port.publish(staged)
        return self.result

    def abort(self, settle_seconds: float = 0.5, at_most_seconds: float = 30.0) -> list[str]:
        """Delete every data file of this write that exists (workers' finished and unfinished files alike).

        An engine reports the first failed task while its other tasks may still be writing: the files are listed
        and deleted again until a listing `settle_seconds` after the last deletion finds none of this write's
        (for at most `at_most_seconds`), so a file a late task finishes is not left behind."""
        import time

        from meshlake.maintenance.storage import Storage

        table = self.port.table()
        data = f"{table.metadata.location.rstrip('/')}/data"
        storage = Storage(table.io, data)
        deleted: list[str] = []
        deadline = time.monotonic() + at_most_seconds
        waited = False
        while True:
            doomed = [f for f in storage.list(data) if f.key.rsplit("/", 1)[-1].startswith(self.spec.file_prefix)]
            for found in doomed:
                storage.delete(found.key)
            deleted += [found.location for found in doomed]
            if (waited and not doomed) or time.monotonic() > deadline:
                break
            time.sleep(settle_seconds)
            waited = True
        return deleted
