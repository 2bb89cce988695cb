"""Whether Parquet files carry Iceberg field ids, read from their footers and remembered per file.

A table with a name mapping (`schema.name-mapping.default`) may hold files without field ids (imported by
`add_files`), which DuckDB's `read_parquet(schema=MAP{field_id: …})` would read as NULLs. Some REST
catalogs (SeaweedFS) put a name mapping on every table, though, so the mapping alone says nothing: the
planner asks the files. Data files never change, so each verdict is kept for the life of the process.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

from pyiceberg.io import FileIO
from pyiceberg.utils.concurrent import ExecutorFactory

_FIELD_ID = b"PARQUET:field_id"
_MAX_REMEMBERED = 200_000
_verdicts: OrderedDict[str, bool] = OrderedDict()
_lock = threading.Lock()


def carry_field_ids(io: FileIO, paths: Sequence[str]) -> bool:
    """True if every file in `paths` has a field id on each top-level column (footers read once per file)."""
    with _lock:
        unknown = [p for p in dict.fromkeys(paths) if p not in _verdicts]
        if any(_verdicts.get(p) is False for p in paths):
            return False
    if len(unknown) > 1 and not all(p.startswith(("/", "file:")) for p in unknown):
        found = list(ExecutorFactory.get_or_create().map(lambda p: _has_field_ids(io, p), unknown))
    else:
        found = [_has_field_ids(io, p) for p in unknown]
    with _lock:
        for path, verdict in zip(unknown, found, strict=True):
            _verdicts[path] = verdict
        while len(_verdicts) > _MAX_REMEMBERED:
            _verdicts.popitem(last=False)
    return all(found)


def _has_field_ids(io: FileIO, path: str) -> bool:
    import pyarrow.parquet as pq

    with io.new_input(path).open() as stream:
        schema = pq.ParquetFile(stream).schema_arrow
    return all(_FIELD_ID in (field.metadata or {}) for field in schema)
