"""The keyed write's pipelines on Ray Data (see `meshlake.distributed.keyed`): one task per chunk runs meshlake's
readers on the workers, a left-semi join and a group-by by data file, and the delete files written on the workers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import ray
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

if TYPE_CHECKING:
    from meshlake.distributed.unique import KeyChunk, UniqueCheck
    from meshlake.quality.metrics import KeyCounts

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
    """`meshlake.distributed.keyed.KeyEngine` and `meshlake.distributed.unique.UniqueEngine` on Ray Data."""

    name = "ray"

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
        counted = keys.groupby(names, num_partitions=_partitions(keys.num_blocks())).count()
        repeated = counted.filter(lambda row: row[COUNT] > 1).materialize()
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
        matched = live.join(keys, join_type="left_semi", num_partitions=_partitions(len(plan.chunks)), on=on)
        files = plan.files

        def write(group: pa.Table) -> pa.Table:
            return write_grouped_deletes(spec, files, group_positions(group))

        grouped = matched.groupby(FILE_INDEX, num_partitions=_partitions(len(plan.chunks)))
        return _collect(grouped.map_groups(write, batch_format="pyarrow"))

    def where_deletes(self, spec: KeyedSpec, plan: KeyedPlan, where: str) -> pa.Table:
        makers = [
            partial(write_where_deletes, spec, plan.chunk_files(i), chunk, where) for i, chunk in enumerate(plan.chunks)
        ]
        return _collect(_chunks(makers, DELETES_SCHEMA))

    def key_counts(self, spec: KeyedSpec, check: UniqueCheck, chunks: Sequence[KeyChunk]) -> KeyCounts:
        from meshlake.distributed.unique import NEW, NEW_ROWS, ROWS, SUMS_SCHEMA, checked_schema, read_checked_keys

        names = list(check.columns)
        if not chunks:
            return check.counts(self.name, SUMS_SCHEMA.empty_table(), [])
        makers = [partial(read_checked_keys, spec, check, chunk) for chunk in chunks]
        flags = [f"{NULL_FLAG}{j}" for j in range(len(names))] if len(names) > 1 else []
        rows = _chunks(makers, checked_schema(spec, check))
        if flags:
            rows = rows.map_batches(partial(_flag_nulls, names), batch_format="pyarrow")

        def per_key(group: pa.Table) -> pa.Table:
            counted = group.group_by([*names, *flags], use_threads=False).aggregate([(NEW, "count"), (NEW, "sum")])
            found = {ROWS: counted.column(f"{NEW}_count"), NEW_ROWS: counted.column(f"{NEW}_sum")}
            return pa.table(found | _with_nulls(counted, names, flags))

        shuffled = rows.groupby([*names, *flags], num_partitions=_partitions(len(chunks)))
        groups = shuffled.map_groups(per_key, batch_format="pyarrow").materialize()

        def summed(batch: pa.Table) -> pa.Table:
            return check.summarise(batch).cast(SUMS_SCHEMA)

        parts = ray.get(groups.map_batches(summed, batch_format="pyarrow").to_arrow_refs())
        sums = pa.concat_tables([SUMS_SCHEMA.empty_table(), *(p.cast(SUMS_SCHEMA) for p in parts if p.num_rows)])
        limit = max(check.examples, 1)

        def repeated(batch: pa.Table) -> pa.Table:
            found = batch.filter(check.duplicated(batch)).select(names)
            return found.sort_by([(n, "ascending") for n in names], null_placement="at_end").slice(0, limit)

        shown = groups.map_batches(repeated, batch_format="pyarrow").take_all()  # the smallest `limit` of each block
        examples = [tuple(row[n] for n in names) for row in shown]
        return check.counts(self.name, sums, examples)


def _partitions(tasks: int) -> int:
    """How many partitions a shuffle by key of `tasks` tasks' output has: as many (at least one), as the join's.
    Ray Data's default (`DataContext.default_hash_shuffle_parallelism`, 200) made a check of a few thousand keys
    cost tens of seconds of scheduling on a 2-core machine."""
    return max(tasks, 1)


NULL_FLAG = "__ml_null_"
"""Ray Data's hash shuffle sends equal compound keys to different groups when one block holds a NULL in a key
column and another none (Ray 2.59): a compound key is grouped by its columns with NULLs filled and one flag per
column saying which were NULL, and the NULLs restored after."""


def _flag_nulls(names: Sequence[str], batch: pa.Table) -> pa.Table:
    import pyarrow.compute as pc

    for j, name in enumerate(names):
        column = batch.column(name)
        filled = pc.fill_null(column, _filler(column.type))
        batch = batch.set_column(batch.schema.get_field_index(name), name, filled)
        batch = batch.append_column(f"{NULL_FLAG}{j}", pc.is_null(column))
    return batch


def _filler(kind: pa.DataType) -> pa.Scalar:
    """Any value of type `kind` (its flag tells a filled NULL from it)."""
    for value in (pa.scalar(0, pa.int32()), pa.scalar(0, pa.int64()), pa.scalar("0")):
        try:
            return value.cast(kind)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
    raise TypeError(f"no filler for {kind}")


def _with_nulls(counted: pa.Table, names: Sequence[str], flags: Sequence[str]) -> dict[str, Any]:
    """The key columns of `counted`, their NULLs restored from their flags (if any)."""
    import pyarrow.compute as pc

    if not flags:
        return {n: counted.column(n) for n in names}
    return {
        n: pc.if_else(counted.column(flag), pa.scalar(None, counted.column(n).type), counted.column(n))
        for n, flag in zip(names, flags, strict=True)
    }


def _collect(dataset: Any) -> pa.Table:
    import ray

    parts = ray.get(dataset.to_arrow_refs())
    return pa.concat_tables([DELETES_SCHEMA.empty_table(), *(p.cast(DELETES_SCHEMA) for p in parts if p.num_rows)])


def _scalar(value: Any) -> Any:
    return value.as_py() if isinstance(value, pa.Scalar) else value


def _arrow(dataset: Any) -> pa.Table:
    import ray

    parts = ray.get(dataset.to_arrow_refs())
    kept = [p for p in parts if p.num_rows] or parts[:1]  # an empty block may type a column otherwise (nullable)
    return pa.concat_tables(kept, promote_options="permissive") if kept else pa.table({})
