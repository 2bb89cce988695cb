"""Copy-on-write row changes: which files a `where` filter or a set of keys touches, and their rewrites.

A file whose rows all match is dropped; a file with some matching rows is rewritten without them.
Files are planned with pyiceberg (partition and column-metrics pruning); their rows are read with meshlake's
read engine, by field id (so older schemas resolve) and exactly as readers see them: pyiceberg 0.12's Arrow
scan reads a null list of structs as an empty list (apache/iceberg-python#3833), which a rewrite would store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import cast

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.expressions import (
    AlwaysTrue,
    And,
    BooleanExpression,
    GreaterThanOrEqual,
    LessThanOrEqual,
)
from pyiceberg.io.pyarrow import schema_to_pyarrow
from pyiceberg.manifest import DataFile
from pyiceberg.schema import Schema
from pyiceberg.table import FileScanTask, Table
from pyiceberg.table.snapshots import Snapshot

from meshlake.query.engine import read_lossless
from meshlake.query.plan import cached_plan
from meshlake.write.datafiles import DataFileWriter
from meshlake.write.rowfilter import RowFilter, row_filter


@dataclass(frozen=True)
class Rewrite:
    """Files to drop, files written in their place, and how many rows were removed."""

    deleted: tuple[DataFile, ...]
    added: tuple[DataFile, ...]
    rows_removed: int
    written_paths: tuple[str, ...] = ()


def parse_filter(where: str | BooleanExpression, table: Table) -> RowFilter:
    """Parse a row filter in meshlake's grammar (`where.py`: `region = 'eu' AND day >= '2026-11-01'`)."""
    return row_filter(where, table.schema())


def rewrite_where(table: Table, snapshot: Snapshot | None, where: RowFilter) -> Rewrite:
    """Remove the rows matching `where` from the files of `snapshot`."""
    if snapshot is None:
        return Rewrite((), (), 0)
    rewriter = _Rewriter(table)
    reader = _Reader(table, snapshot)
    with rewriter:
        for task in plan_files(table, snapshot, where.prune):
            rows = reader.read(task)
            matched = where.matches(rows)
            removed = int(pc.sum(matched).as_py() or 0)
            if removed:
                rewriter.replace(task.file, rows.filter(pc.invert(matched)), removed)
    return rewriter.result()


def plan_files(table: Table, snapshot: Snapshot, prune: BooleanExpression) -> list[FileScanTask]:
    """The files of `snapshot` that may hold rows matching `prune` (partition and column-metrics pruning)."""
    try:
        return list(table.scan(row_filter=prune, snapshot_id=snapshot.snapshot_id).plan_files())
    except TypeError:
        # pyiceberg 0.12's residual evaluator compares a null partition value with `<` and fails;
        # every file is then read and its rows tested, which selects the same rows.
        return list(table.scan(snapshot_id=snapshot.snapshot_id).plan_files())


# pyiceberg's predicates take (term, literal) positionally; the pydantic mypy plugin
# types their constructors by field name, so they are called through untyped aliases.
_at_least = cast(Callable[[str, object], BooleanExpression], GreaterThanOrEqual)
_at_most = cast(Callable[[str, object], BooleanExpression], LessThanOrEqual)


def key_filter(keys: pa.Table) -> BooleanExpression:
    """A pruning filter covering every key: one min/max range per key column."""
    expression: BooleanExpression = AlwaysTrue()
    for name in keys.column_names:
        if isinstance(keys.schema.field(name).type, pa.BaseExtensionType):
            continue  # UUIDs (no min/max kernel; random ones span every file anyway): not pruned by range
        bounds = pc.min_max(keys.column(name))
        low, high = bounds["min"].as_py(), bounds["max"].as_py()
        if low is None:
            continue
        bounds_filter = And(_at_least(name, low), _at_most(name, high))
        expression = And(expression, bounds_filter)
    return expression


def extension_storage(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """`column`, or for an extension type (UUIDs, which Arrow's kernels do not take) the values it stores."""
    if not isinstance(column.type, pa.BaseExtensionType):
        return column
    return pa.chunked_array([chunk.storage for chunk in column.chunks], column.type.storage_type)


def rewrite_keys(table: Table, snapshot: Snapshot | None, keys: pa.Table) -> Rewrite:
    """Remove the rows whose primary key is in `keys` from the files of `snapshot`."""
    if snapshot is None or keys.num_rows == 0:
        return Rewrite((), (), 0)
    names = keys.column_names
    key_schema = table.schema().select(*names)
    tasks = list(table.scan(row_filter=key_filter(keys), snapshot_id=snapshot.snapshot_id).plan_files())
    rewriter = _Rewriter(table)
    reader = _Reader(table, snapshot)
    with rewriter:
        for task in tasks:
            # A file with deletes is read once: its live rows come back from an anti-join, whose row order
            # may differ between two reads, so a mask from one read must not filter another.
            whole = reader.read(task) if reader.has_deletes(task) else None
            hits = key_matches(whole.select(names) if whole is not None else reader.read(task, key_schema), keys, names)
            hit_count = int(pc.sum(hits).as_py() or 0)
            if hit_count:
                rows = whole if whole is not None else reader.read(task)
                rewriter.replace(task.file, rows.filter(pc.invert(hits)), hit_count)
    return rewriter.result()


def key_matches(existing: pa.Table, keys: pa.Table, names: Sequence[str]) -> pa.Array:
    """A boolean mask over `existing`: True where its key is among `keys` (row order kept)."""
    if len(names) == 1:
        values, wanted = (extension_storage(t.column(names[0])) for t in (existing, keys))
        return pc.fill_null(pc.is_in(values, value_set=wanted), False)
    import duckdb
    import numpy as np

    from meshlake.query.types import quote_ident

    con = duckdb.connect()
    try:
        indexed = existing.select(list(names)).append_column("__row", pa.array(np.arange(existing.num_rows)))
        con.register("existing", indexed)
        con.register("wanted", keys.select(list(names)))
        on = " AND ".join(f"e.{quote_ident(n)} = w.{quote_ident(n)}" for n in names)
        rows = con.sql(f"SELECT e.__row FROM existing AS e SEMI JOIN wanted AS w ON {on}").to_arrow_table()
    finally:
        con.close()
    mask = np.zeros(existing.num_rows, dtype=bool)
    mask[rows.column(0).to_numpy()] = True
    return pa.array(mask)


class _Rewriter:
    """Streams the kept rows of rewritten files into new data files, one source file at a time."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.target = _file_schema(table)
        self.writer: DataFileWriter | None = None
        self.deleted: list[DataFile] = []
        self.removed = 0

    def __enter__(self) -> _Rewriter:
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        if error is not None and self.writer is not None:
            self.writer.abort()

    def replace(self, old: DataFile, kept: pa.Table, removed: int) -> None:
        self.deleted.append(old)
        self.removed += removed
        if kept.num_rows:
            if self.writer is None:
                self.writer = DataFileWriter(self.table.metadata, self.table.io)
            for batch in kept.cast(self.target).to_batches():
                self.writer.add(batch)

    def result(self) -> Rewrite:
        if self.writer is None:
            return Rewrite(tuple(self.deleted), (), self.removed)
        try:
            added = self.writer.finish()
        except BaseException:
            self.writer.abort()
            raise
        return Rewrite(tuple(self.deleted), tuple(added), self.removed, tuple(self.writer.written_paths))


class _Reader:
    """Reads one planned file of a snapshot at a time, in the table's current schema (or `schema`)."""

    def __init__(self, table: Table, snapshot: Snapshot) -> None:
        self.table = table
        self.plan = cached_plan(table, snapshot.snapshot_id)
        self.tasks = {task.path: task for task in self.plan.tasks}

    def has_deletes(self, task: FileScanTask) -> bool:
        return self.tasks[task.file.file_path].has_deletes

    def read(self, task: FileScanTask, schema: Schema | None = None) -> pa.Table:
        """The live rows of `task`'s file (deletes applied), in the Arrow types of `schema`."""
        schema = schema or self.table.schema()
        plan = replace(self.plan, schema=schema, tasks=(self.tasks[task.file.file_path],))
        target = schema_to_pyarrow(schema, include_field_ids=True)
        batches = [batch.cast(target) for batch in read_lossless(plan, io=self.table.io)]
        return pa.Table.from_batches(batches, schema=target)


def _file_schema(table: Table) -> pa.Schema:
    return schema_to_pyarrow(table.schema(), include_field_ids=True)
