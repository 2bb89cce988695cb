"""Whether Parquet files carry Iceberg field ids, read from their footers and remembered per file.

A table with a name mapping (`schema.name-mapping.default`) may hold files without field ids (imported by
`add_files`), which DuckDB's `read_parquet(schema=MAP{field_id: …})` would read as NULLs. Some REST
catalogs (SeaweedFS) put a name mapping on every table, though, so the mapping alone says nothing: the
planner asks the files. Data files never change, so each verdict is kept for the life of the process, with
the file's top-level column names: DuckDB reads a file without field ids by those names, through the mapping.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

from pyiceberg.io import FileIO
from pyiceberg.utils.concurrent import ExecutorFactory

_FIELD_ID = b"PARQUET:field_id"
_MAX_REMEMBERED = 200_000
_verdicts: OrderedDict[str, tuple[bool, tuple[str, ...]]] = OrderedDict()
"""Per file: whether every top-level column has a field id, and the top-level column names."""
_lock = threading.Lock()


def without_field_ids(io: FileIO, paths: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """The files of `paths` lacking a field id on some top-level column, with their top-level column names
    (footers read once per file)."""
    with _lock:
        known = {p: _verdicts[p] for p in dict.fromkeys(paths) if p in _verdicts}
    unknown = [p for p in dict.fromkeys(paths) if p not in known]
    if len(unknown) > 1 and not all(p.startswith(("/", "file:")) for p in unknown):
        found = list(ExecutorFactory.get_or_create().map(lambda p: _footer(io, p), unknown))
    else:
        found = [_footer(io, p) for p in unknown]
    known.update(zip(unknown, found, strict=True))
    with _lock:
        _verdicts.update(zip(unknown, found, strict=True))
        while len(_verdicts) > _MAX_REMEMBERED:
            _verdicts.popitem(last=False)
    return {path: names for path, (has_ids, names) in known.items() if not has_ids}


def _footer(io: FileIO, path: str) -> tuple[bool, tuple[str, ...]]:
    import pyarrow.parquet as pq

    with io.new_input(path).open() as stream:
        schema = pq.ParquetFile(stream).schema_arrow
    return all(_FIELD_ID in (field.metadata or {}) for field in schema), tuple(schema.names)
