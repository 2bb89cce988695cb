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
    from meshlake.distributed.unique import BaseSnapshot, UniqueCheck
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

    def key_counts(
        self, spec: KeyedSpec, check: UniqueCheck, chunks: Sequence[Sequence[str]], base: BaseSnapshot | None
    ) -> KeyCounts:
        """The old rows are read with Daft's Iceberg scan of the base snapshot, handed to Ray Data."""
        from dataclasses import replace

        import pyarrow.compute as pc

        from meshlake.distributed.unique import NEW, NEW_ROWS, ROWS, SUMS_SCHEMA

        names = list(check.columns)
        keyed = replace(spec, primary_key=check.columns)
        schema = keyed.key_schema()

        def considered(tag: int, ranges: dict[str, tuple[Any, Any]]) -> Callable[[pa.Table], pa.Table]:
            def keep(batch: pa.Table) -> pa.Table:
                keys = pa.Table.from_arrays([batch.column(f.name).cast(f.type) for f in schema], schema=schema)
                mask = check.considered(keys)
                for name, (lo, hi) in ranges.items():
                    column = keys.column(name)
                    inside = pc.and_(pc.greater_equal(column, lo), pc.less_equal(column, hi))
                    mask = pc.and_(mask, pc.fill_null(inside, False))
                kept = keys.filter(mask)
                return kept.append_column(pa.field(NEW, pa.int64()), pa.array([tag] * kept.num_rows, pa.int64()))

            return keep

        new = _chunks([partial(read_staged_keys, keyed, list(p)) for p in chunks], schema)
        rows = new.map_batches(considered(1, {}), batch_format="pyarrow").materialize()
        if base is not None:
            import daft

            ranges = base.ranges(check, _ranges(rows, names))
            old = daft.read_iceberg(base.table, snapshot_id=base.snapshot_id).select(*names).to_ray_dataset()
            rows = rows.union(old.map_batches(considered(0, ranges), batch_format="pyarrow"))

        def per_key(group: pa.Table) -> pa.Table:
            counted = group.group_by(names, use_threads=False).aggregate([(NEW, "count"), (NEW, "sum")])
            found = {ROWS: counted.column(f"{NEW}_count"), NEW_ROWS: counted.column(f"{NEW}_sum")}
            return pa.table(found | {n: counted.column(n) for n in names})

        groups = rows.groupby(names).map_groups(per_key, batch_format="pyarrow").materialize()

        def summed(batch: pa.Table) -> pa.Table:
            return check.summarise(batch).cast(SUMS_SCHEMA)

        sums = pa.concat_tables(
            [
                SUMS_SCHEMA.empty_table(),
                *(
                    p.cast(SUMS_SCHEMA)
                    for p in ray.get(groups.map_batches(summed, batch_format="pyarrow").to_arrow_refs())
                    if p.num_rows
                ),
            ]
        )
        limit = max(check.examples, 1)

        def repeated(batch: pa.Table) -> pa.Table:
            return batch.filter(check.duplicated(batch)).select(names).slice(0, limit)

        shown = groups.map_batches(repeated, batch_format="pyarrow").take(limit * 4)
        examples = [tuple(row[n] for n in names) for row in shown]
        return check.counts(self.name, sums, examples)


def _ranges(rows: Any, names: Sequence[str]) -> dict[str, tuple[Any, Any, int]]:
    """Per key column of `rows` (a Ray Dataset): its least and greatest value and its NULL count."""
    import pyarrow.compute as pc

    def measure(batch: pa.Table) -> pa.Table:
        out: dict[str, list[Any]] = {}
        for i, name in enumerate(names):
            found = pc.min_max(batch.column(name))
            out[f"lo_{i}"] = [found["min"].as_py()]
            out[f"hi_{i}"] = [found["max"].as_py()]
            out[f"nulls_{i}"] = [batch.column(name).null_count]
        return pa.table(out)

    parts = [p for p in ray.get(rows.map_batches(measure, batch_format="pyarrow").to_arrow_refs()) if p.num_rows]
    ranges: dict[str, tuple[Any, Any, int]] = {}
    for i, name in enumerate(names):
        lows = [v for p in parts for v in p.column(f"lo_{i}").to_pylist() if v is not None]
        highs = [v for p in parts for v in p.column(f"hi_{i}").to_pylist() if v is not None]
        nulls = sum(v for p in parts for v in p.column(f"nulls_{i}").to_pylist())
        ranges[name] = (min(lows) if lows else None, max(highs) if highs else None, nulls)
    return ranges


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
