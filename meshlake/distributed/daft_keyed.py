"""The keyed write's pipelines on Daft (see `meshlake.distributed.keyed`): sources whose tasks run meshlake's
readers on the workers, a semi-join and a group-by by data file, and the delete files written on the workers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import daft
import pyarrow as pa
from daft.io import DataSink
from daft.io.sink import WriteResult as DaftWriteResult
from daft.io.source import DataSource, DataSourceTask
from daft.recordbatch import MicroPartition, RecordBatch

from meshlake.distributed.keyed import (
    DELETES_SCHEMA,
    EXAMPLES,
    FILE_INDEX,
    POS,
    KeyedPlan,
    KeyedSpec,
    KeyStats,
    read_live_keys,
    read_staged_keys,
    write_grouped_deletes,
    write_where_deletes,
)

if TYPE_CHECKING:
    from pyiceberg.manifest import DataFile

    from meshlake.distributed.unique import KeyChunk, UniqueCheck
    from meshlake.quality.metrics import KeyCounts


class _Task(DataSourceTask):  # type: ignore[misc]  # daft is untyped here
    def __init__(self, schema: pa.Schema, make: Callable[[], pa.Table]) -> None:
        self._schema = schema
        self._make = make

    @property
    def schema(self) -> Any:
        return daft.Schema.from_pyarrow_schema(self._schema)

    async def read(self) -> AsyncIterator[Any]:
        table = self._make()
        yield RecordBatch.from_arrow_table(table.cast(self._schema))


class _Chunks(DataSource):  # type: ignore[misc]
    """A frame of what `make(i)` returns for each chunk i, each run as one task on a worker."""

    def __init__(self, name: str, schema: pa.Schema, makers: Sequence[Callable[[], pa.Table]]) -> None:
        self._name = name
        self._schema = schema
        self._makers = list(makers)

    @property
    def name(self) -> str:
        return self._name

    @property
    def schema(self) -> Any:
        return daft.Schema.from_pyarrow_schema(self._schema)

    async def get_tasks(self, pushdowns: Any) -> AsyncIterator[DataSourceTask]:
        for make in self._makers:
            yield _Task(self._schema, make)


class _DeleteFilesSink(DataSink):  # type: ignore[misc]
    """Writes one position delete file per row (data file, its positions) of the grouped frame, on the workers."""

    def __init__(self, spec: KeyedSpec, files: Sequence[DataFile]) -> None:
        self.spec = spec
        self.files = list(files)
        self.written: pa.Table = DELETES_SCHEMA.empty_table()

    def name(self) -> str:
        return f"meshlake position deletes of {self.spec.address}"

    def schema(self) -> Any:
        return daft.Schema.from_pyarrow_schema(DELETES_SCHEMA)

    def write(self, micropartitions: Iterator[MicroPartition]) -> Iterator[DaftWriteResult[pa.Table]]:
        for part in micropartitions:
            written = write_grouped_deletes(self.spec, self.files, part.to_arrow())
            yield DaftWriteResult(result=written, bytes_written=0, rows_written=written.num_rows)

    def finalize(self, write_results: list[DaftWriteResult[pa.Table]]) -> MicroPartition:
        self.written = pa.concat_tables([DELETES_SCHEMA.empty_table(), *(r.result for r in write_results)])
        return MicroPartition.from_arrow(self.written)


class DaftKeys:
    """`meshlake.distributed.keyed.KeyEngine` and `meshlake.distributed.unique.UniqueEngine` on Daft."""

    name = "daft"

    def staged_keys(self, spec: KeyedSpec, chunks: Sequence[Sequence[str]]) -> Any:
        makers = [partial(read_staged_keys, spec, list(paths)) for paths in chunks]
        return _Chunks(f"meshlake staged keys of {spec.address}", spec.key_schema(), makers).read()

    def frame_keys(self, spec: KeyedSpec, frame: Any) -> Any:
        schema = spec.key_schema()
        return frame.select(*[daft.col(f.name).cast(daft.DataType.from_arrow_type(f.type)) for f in schema])

    def stats(self, spec: KeyedSpec, keys: Any) -> tuple[Any, KeyStats]:
        names = list(spec.primary_key)
        keys = keys.collect()  # read once: the counts, duplicates and range below all reuse it
        counted = keys.groupby(*names).agg(daft.col(names[0]).count("all").alias("__ml_n"))
        repeated = counted.where(daft.col("__ml_n") > 1)
        totals = repeated.agg(daft.col("__ml_n").sum().alias("rows")).to_pydict()
        duplicated = int(totals["rows"][0] or 0) if totals["rows"] else 0
        examples: tuple[tuple[Any, ...], ...] = ()
        if duplicated:
            shown = repeated.sort(names).limit(EXAMPLES).to_pydict()
            examples = tuple(zip(*(shown[n] for n in names), strict=True))
        ranges = keys.agg(
            daft.col(names[0]).count("all").alias("__ml_rows"),
            *[daft.col(n).min().alias(f"lo_{i}") for i, n in enumerate(names)],
            *[daft.col(n).max().alias(f"hi_{i}") for i, n in enumerate(names)],
        ).to_pydict()
        rows = int(ranges["__ml_rows"][0] or 0) if ranges["__ml_rows"] else 0
        low = tuple(ranges[f"lo_{i}"][0] for i in range(len(names))) if rows else ()
        high = tuple(ranges[f"hi_{i}"][0] for i in range(len(names))) if rows else ()
        return keys, KeyStats(rows, duplicated, examples, low, high)

    def collect(self, keys: Any) -> pa.Table:
        return keys.to_arrow()

    def join_deletes(self, spec: KeyedSpec, keys: Any, plan: KeyedPlan, broadcast: bool) -> pa.Table:
        makers = [
            partial(read_live_keys, spec, chunk, first) for chunk, first in zip(plan.chunks, plan.starts, strict=True)
        ]
        live = _Chunks(f"meshlake live keys of {spec.address}", spec.live_schema(), makers).read()
        strategy = "broadcast" if broadcast else "hash"
        matched = live.join(keys, on=list(spec.primary_key), how="semi", strategy=strategy)
        grouped = matched.groupby(FILE_INDEX).agg(daft.col(POS).list_agg().alias(POS))
        sink = _DeleteFilesSink(spec, plan.files)
        grouped.write_sink(sink).collect()
        return sink.written

    def where_deletes(self, spec: KeyedSpec, plan: KeyedPlan, where: str) -> pa.Table:
        makers = [
            partial(write_where_deletes, spec, plan.chunk_files(i), chunk, where) for i, chunk in enumerate(plan.chunks)
        ]
        written = _Chunks(f"meshlake deletes of {spec.address}", DELETES_SCHEMA, makers).read().to_arrow()
        return written.cast(DELETES_SCHEMA)

    def key_counts(self, spec: KeyedSpec, check: UniqueCheck, chunks: Sequence[KeyChunk]) -> KeyCounts:
        from daft.functions import when

        from meshlake.distributed.unique import NEW, NEW_ROWS, ROWS, SUMS_SCHEMA, checked_schema, read_checked_keys

        names = list(check.columns)
        if not chunks:
            return check.counts(self.name, SUMS_SCHEMA.empty_table(), [])
        makers = [partial(read_checked_keys, spec, check, chunk) for chunk in chunks]
        rows = _Chunks(f"meshlake keys checked of {spec.address}", checked_schema(spec, check), makers).read()
        groups = rows.groupby(*names).agg(daft.col(NEW).count("all").alias(ROWS), daft.col(NEW).sum().alias(NEW_ROWS))
        groups = groups.collect()
        count, new_rows = daft.col(ROWS), daft.col(NEW_ROWS)
        counted = when(count > 1, count).otherwise(0)
        if check.incremental:
            old_rows = count - new_rows
            change = when(new_rows > 0, counted - when(old_rows > 1, old_rows).otherwise(0)).otherwise(0)
            duplicated = (count > 1) & (new_rows > 0)
            sums = groups.agg(new_rows.sum().alias("considered"), change.sum().alias("unexpected"))
        else:
            duplicated = count > 1
            sums = groups.agg(count.sum().alias("considered"), counted.sum().alias("unexpected"))
        found = pa.table(sums.to_pydict()).cast(SUMS_SCHEMA)
        first = groups.where(duplicated).sort(names, nulls_first=[False] * len(names))  # key order, as DuckDB's
        shown = first.limit(max(check.examples, 1)).to_pydict()
        examples = list(zip(*(shown[n] for n in names), strict=True))
        return check.counts(self.name, found, examples)
