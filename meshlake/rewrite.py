"""Copy-on-write row changes: which files a `where` filter or a set of keys touches, and their rewrites.

A file whose rows all match is dropped; a file with some matching rows is rewritten without them.
Files are planned with pyiceberg (partition and column-metrics pruning), rows read with its Arrow
scan, so renamed columns and older schemas resolve by field id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.expressions import (
    AlwaysTrue,
    And,
    BooleanExpression,
    GreaterThanOrEqual,
    LessThanOrEqual,
)
from pyiceberg.expressions.visitors import bind
from pyiceberg.io.pyarrow import ArrowScan, _expression_to_complementary_pyarrow
from pyiceberg.manifest import DataFile
from pyiceberg.table import Table
from pyiceberg.table.snapshots import Snapshot

from meshlake.datafiles import DataFileWriter


@dataclass(frozen=True)
class Rewrite:
    """Files to drop, files written in their place, and how many rows were removed."""

    deleted: tuple[DataFile, ...]
    added: tuple[DataFile, ...]
    rows_removed: int
    written_paths: tuple[str, ...] = ()


def parse_filter(where: str | BooleanExpression, table: Table) -> BooleanExpression:
    """Parse and bind a row filter (pyiceberg syntax: `region = 'eu' and day >= '2026-11-01'`)."""
    from pyiceberg.expressions.parser import parse

    expression = parse(where) if isinstance(where, str) else where
    bind(table.schema(), expression, case_sensitive=True)  # raises on unknown columns
    return expression


def rewrite_where(table: Table, snapshot: Snapshot | None, where: BooleanExpression) -> Rewrite:
    """Remove the rows matching `where` from the files of `snapshot`."""
    if snapshot is None:
        return Rewrite((), (), 0)
    bound = bind(table.schema(), where, case_sensitive=True)
    keep = _expression_to_complementary_pyarrow(bound, table.schema())
    deleted: list[DataFile] = []
    kept_tables: list[pa.Table] = []
    removed = 0
    for task in table.scan(row_filter=where, snapshot_id=snapshot.snapshot_id).plan_files():
        rows = _read(table, [task])
        remaining = rows.filter(keep)
        if remaining.num_rows == rows.num_rows:
            continue
        removed += rows.num_rows - remaining.num_rows
        deleted.append(task.file)
        if remaining.num_rows:
            kept_tables.append(remaining)
    return _rewrite(table, deleted, kept_tables, removed)


def key_filter(keys: pa.Table) -> BooleanExpression:
    """A pruning filter covering every key: one min/max range per key column."""
    expression: BooleanExpression = AlwaysTrue()
    for name in keys.column_names:
        bounds = pc.min_max(keys.column(name))
        low, high = bounds["min"].as_py(), bounds["max"].as_py()
        if low is None:
            continue
        bounds_filter = And(GreaterThanOrEqual(name, low), LessThanOrEqual(name, high))  # type: ignore[call-arg,misc]
        expression = And(expression, bounds_filter)
    return expression


def rewrite_keys(table: Table, snapshot: Snapshot | None, keys: pa.Table) -> Rewrite:
    """Remove the rows whose primary key is in `keys` from the files of `snapshot`."""
    if snapshot is None or keys.num_rows == 0:
        return Rewrite((), (), 0)
    names = keys.column_names
    key_schema = table.schema().select(*names)
    tasks = list(table.scan(row_filter=key_filter(keys), snapshot_id=snapshot.snapshot_id).plan_files())
    deleted: list[DataFile] = []
    kept_tables: list[pa.Table] = []
    removed = 0
    marker = keys.append_column("__meshlake_hit", pa.array([True] * keys.num_rows))
    for task in tasks:
        existing_keys = _read(table, [task], key_schema)
        hits = _matches(existing_keys, marker, names)
        hit_count = int(pc.sum(hits).as_py() or 0)
        if hit_count == 0:
            continue
        rows = _read(table, [task])
        remaining = rows.filter(pc.invert(hits))
        removed += hit_count
        deleted.append(task.file)
        if remaining.num_rows:
            kept_tables.append(remaining)
    return _rewrite(table, deleted, kept_tables, removed)


def _matches(existing: pa.Table, marker: pa.Table, names: Sequence[str]) -> pa.Array:
    """A boolean mask over `existing`: True where its key is among the marked keys (order kept)."""
    if len(names) == 1:
        return pc.fill_null(pc.is_in(existing.column(names[0]), value_set=marker.column(names[0])), False)
    indexed = existing.append_column("__meshlake_row", pa.array(range(existing.num_rows), pa.int64()))
    joined = indexed.join(marker, keys=list(names), join_type="left outer")
    ordered = joined.sort_by("__meshlake_row")
    return pc.fill_null(ordered.column("__meshlake_hit"), False).combine_chunks()


def _read(table: Table, tasks: list[object], schema: object | None = None) -> pa.Table:
    scan = ArrowScan(
        table_metadata=table.metadata,
        io=table.io,
        projected_schema=schema or table.schema(),  # type: ignore[arg-type]
        row_filter=AlwaysTrue(),
    )
    return scan.to_table(tasks)  # type: ignore[arg-type]


def _rewrite(table: Table, deleted: list[DataFile], kept: list[pa.Table], removed: int) -> Rewrite:
    if not kept:
        return Rewrite(tuple(deleted), (), removed)
    target = _file_schema(table)
    writer = DataFileWriter(table.metadata, table.io)
    batches = (batch for part in kept for batch in part.cast(target).to_batches())
    added = writer.write_all(batches)
    return Rewrite(tuple(deleted), tuple(added), removed, tuple(writer.written_paths))


def _file_schema(table: Table) -> pa.Schema:
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    return schema_to_pyarrow(table.schema(), include_field_ids=True)
