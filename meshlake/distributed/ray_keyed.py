"""The keyed write's pipelines on Ray Data (see `meshlake.distributed.keyed`): one task per chunk runs meshlake's
readers on the workers, a left-semi join and a group-by by data file, and the delete files written on the workers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import pyarrow as pa
import ray.data

from meshlake.distributed.keyed import (
    DELETES_SCHEMA,
    EXAMPLES,
    FILE_INDEX,
    KeyedPlan,
    KeyedSpec,
    KeyStats,
    group_positions,
    read_live_keys,
    read_staged_keys,
    write_grouped_deletes,
    write_where_deletes,
)

COUNT = "count()"
"""The column Ray Data's `groupby(…).count()` names."""


def _chunks(makers: Sequence[Callable[[], pa.Table]], schema: pa.Schema) -> Any:
    """A dataset of what each maker returns, one task per maker."""
    run = list(makers)

    def made(batch: pa.Table) -> pa.Table:
        parts = [run[i]().cast(schema) for i in batch.column("id").to_pylist()]
        return pa.concat_tables([schema.empty_table(), *parts])

    return ray.data.range(len(run), override_num_blocks=max(len(run), 1)).map_batches(
        made, batch_size=1, batch_format="pyarrow"
    )


class RayKeys:
    """`meshlake.distributed.keyed.KeyEngine` on Ray Data."""

    def staged_keys(self, spec: KeyedSpec, chunks: Sequence[Sequence[str]]) -> Any:
        return _chunks([partial(read_staged_keys, spec, list(paths)) for paths in chunks], spec.key_schema())

    def frame_keys(self, spec: KeyedSpec, frame: Any) -> Any:
        schema = spec.key_schema()

        def cast(batch: pa.Table) -> pa.Table:
            return pa.Table.from_arrays([batch.column(f.name).cast(f.type) for f in schema], schema=schema)

        return frame.map_batches(cast, batch_format="pyarrow")

    def stats(self, spec: KeyedSpec, keys: Any) -> tuple[Any, KeyStats]:
        names = list(spec.primary_key)
        keys = keys.materialize()  # read once: the counts, duplicates and range below all reuse it
        rows = keys.count()
        if not rows:
            return keys, KeyStats(0)
        repeated = keys.groupby(names).count().filter(lambda row: row[COUNT] > 1).materialize()
        duplicated = int(repeated.sum(COUNT) or 0) if repeated.count() else 0
        examples: tuple[tuple[Any, ...], ...] = ()
        if duplicated:
            shown = repeated.sort(names).take(EXAMPLES)
            examples = tuple(tuple(row[n] for n in names) for row in shown)
        low = tuple(_scalar(keys.min(n)) for n in names)
        high = tuple(_scalar(keys.max(n)) for n in names)
        return keys, KeyStats(rows, duplicated, examples, low, high)

    def collect(self, keys: Any) -> pa.Table:
        return _arrow(keys)

    def join_deletes(self, spec: KeyedSpec, keys: Any, plan: KeyedPlan, broadcast: bool) -> pa.Table:
        """Ray Data's join shuffles both sides by key (`broadcast` has no counterpart there)."""
        makers = [
            partial(read_live_keys, spec, chunk, first) for chunk, first in zip(plan.chunks, plan.starts, strict=True)
        ]
        live = _chunks(makers, spec.live_schema())
        on = tuple(spec.primary_key)
        matched = live.join(keys, join_type="left_semi", num_partitions=max(len(plan.chunks), 1), on=on)
        files = plan.files

        def write(group: pa.Table) -> pa.Table:
            return write_grouped_deletes(spec, files, group_positions(group))

        return _collect(matched.groupby(FILE_INDEX).map_groups(write, batch_format="pyarrow"))

    def where_deletes(self, spec: KeyedSpec, plan: KeyedPlan, where: str) -> pa.Table:
        makers = [
            partial(write_where_deletes, spec, plan.chunk_files(i), chunk, where) for i, chunk in enumerate(plan.chunks)
        ]
        return _collect(_chunks(makers, DELETES_SCHEMA))


def _collect(dataset: Any) -> pa.Table:
    import ray

    parts = ray.get(dataset.to_arrow_refs())
    return pa.concat_tables([DELETES_SCHEMA.empty_table(), *(p.cast(DELETES_SCHEMA) for p in parts if p.num_rows)])


def _scalar(value: Any) -> Any:
    return value.as_py() if isinstance(value, pa.Scalar) else value


def _arrow(dataset: Any) -> pa.Table:
    import ray

    parts = ray.get(dataset.to_arrow_refs())
    return pa.concat_tables(parts) if parts else pa.table({})
