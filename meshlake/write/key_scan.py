"""Reading the key columns of data files without delete files for a key index (`meshlake.write.key_index`): by
pyarrow, straight from each Parquet file's column chunks, files on threads of their own.

A full build reads every live key of the port. Through DuckDB (`key_index._read_keys`: its scan with the file
index and row number of each row, delete files applied) 6 M rows of a two-column key cost ~220 ms of CPU here;
read by pyarrow, ~50 ms: a file with no delete file holds its live rows at positions 0…n-1, so only the key
columns are read, matched to the schema by their field ids. A file whose columns cannot be matched that way (no
field ids, a key column nested or of another field id) or whose row count is not its manifest entry's is left to
DuckDB's scan (`None`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from meshlake.write.key_hashing import Column, key_values
from meshlake.write.key_sorting import in_parallel

if TYPE_CHECKING:
    from pyiceberg.io import FileIO

    from meshlake.query.plan import DataTask

FieldKeys = tuple[np.ndarray, list[Column]]
"""The positions of a file's rows with no null key column, and its key columns at them (as `key_values` holds
them)."""


def plain(task: DataTask) -> bool:
    """Whether `task` is read here: a Parquet data file with no delete file."""
    return not task.position_deletes and not task.equality_deletes and task.file_format.upper() == "PARQUET"


def read_keys(
    io: FileIO, tasks: Sequence[DataTask], field_ids: Sequence[int], kinds: Sequence[str]
) -> list[FieldKeys | None]:
    """For each of `tasks` (all `plain`), its keys (`FieldKeys`), or None when it is left to DuckDB's scan."""
    return in_parallel(lambda task: _file_keys(io, task, field_ids, kinds), tasks, sum(t.record_count for t in tasks))


def _file_keys(io: FileIO, task: DataTask, field_ids: Sequence[int], kinds: Sequence[str]) -> FieldKeys | None:
    import pyarrow.parquet as pq

    with io.new_input(task.path).open() as stream:
        parquet = pq.ParquetFile(stream)
        if parquet.metadata.num_rows != task.record_count:
            return None
        names = _names_of(parquet.schema_arrow, field_ids)
        if names is None:
            return None
        read = parquet.read(columns=names, use_threads=False)
    valid: np.ndarray | None = None
    for column in read.columns:
        if column.null_count:
            present = np.asarray(column.is_valid().to_numpy(zero_copy_only=False), bool)
            valid = present if valid is None else valid & present
    if valid is None:
        positions = np.arange(read.num_rows, dtype=np.int64)
    else:
        positions = np.flatnonzero(valid).astype(np.int64)
        read = read.filter(pa.array(valid))
    try:
        return positions, [key_values(read.column(i), kind) for i, kind in enumerate(kinds)]
    except (ValueError, pa.ArrowException):
        return None  # a value the kind cannot hold as DuckDB's scan gives it (e.g. a finer time unit): scanned


def _names_of(schema: pa.Schema, field_ids: Sequence[int]) -> list[str] | None:
    """The names of the top-level columns of `schema` whose Parquet field ids are `field_ids`, in that order; None
    when one is missing, nested, or there twice."""
    by_id: dict[int, list[pa.Field]] = {}
    for field in schema:
        found = (field.metadata or {}).get(b"PARQUET:field_id")
        if found is not None and found.isdigit():
            by_id.setdefault(int(found), []).append(field)
    names = []
    for field_id in field_ids:
        fields = by_id.get(field_id, [])
        if len(fields) != 1 or pa.types.is_nested(fields[0].type):
            return None
        names.append(fields[0].name)
    return names if len(set(names)) == len(names) else None
