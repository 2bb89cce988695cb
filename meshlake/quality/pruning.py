"""Which data files of a snapshot may hold keys in a range, by the column bounds Iceberg keeps for each file.

The incremental uniqueness check (`meshlake.quality.incremental`) joins the new keys with the base rows
that share them. DuckDB skips the base's row groups outside the new keys' range by their Parquet
statistics, but it still opens every file to read them (about 0.2 ms each): a port fed by many small
appends pays that per file and per check. The manifests already say, per file, the lowest and highest
value of each column, and the new files' `DataFile`s say the same of the new keys (`new_range`); base
files whose bounds lie outside are left out of the lookup, and with no base file left there is none.

Bounds are compared for integer and string columns (exact; string bounds may be truncated, as Iceberg
truncates them, which only widens them). Anything else, a missing bound, or a file the manifests do not
list keeps the file: pruning never drops a file that could hold a key in range. Manifests never change,
so what one says about its files is cached by its path.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pyiceberg.conversions import from_bytes
from pyiceberg.io import FileIO
from pyiceberg.manifest import DataFile, ManifestContent, ManifestFile
from pyiceberg.schema import Schema
from pyiceberg.table.snapshots import Snapshot
from pyiceberg.types import IntegerType, LongType, NestedField, PrimitiveType, StringType

from meshlake.query.manifests import read_manifest

MAX_MANIFESTS = 4096
_COMPARED = (IntegerType, LongType, StringType)


@dataclass(frozen=True)
class _Bounds:
    """What one manifest says of some columns: per file path, (lower, upper) per requested field id, in request
    order (None: no bound); and the envelope of its files (None where some file has no bound)."""

    files: dict[str, tuple[tuple[Any, Any], ...]]
    envelope: tuple[tuple[Any, Any], ...]


_cache: OrderedDict[tuple[str, tuple[int, ...]], _Bounds] = OrderedDict()
_lock = threading.Lock()


def new_range(files: Sequence[DataFile], field: NestedField, *, nulls_match: bool) -> tuple[Any, Any] | None:
    """The (lowest, highest) value of a column over new data files, by their Iceberg bounds; None when a
    bound is unknown, the type is not compared here, or (`nulls_match`) a NULL could match a base NULL."""
    if not isinstance(field.field_type, _COMPARED):
        return None
    low: Any = None
    high: Any = None
    for file in files:
        nulls = (file.null_value_counts or {}).get(field.field_id)
        if nulls_match and nulls != 0:
            return None
        lower, upper = (file.lower_bounds or {}).get(field.field_id), (file.upper_bounds or {}).get(field.field_id)
        if lower is None or upper is None:
            if nulls is not None and nulls == file.record_count:
                continue  # only NULLs here: no key (NULLs do not match, or we returned above)
            return None
        lower, upper = _decode(field.field_type, lower), _decode(field.field_type, upper)
        low = lower if low is None or lower < low else low
        high = upper if high is None or upper > high else high
    return None if low is None else (low, high)


def inside(snapshot: Snapshot, io: FileIO, schema: Schema, ranges: Mapping[str, tuple[Any, Any]]) -> set[str] | None:
    """Paths of the snapshot's data files that may hold a value inside `ranges` (column → (low, high)) for
    every column; None when no column of `ranges` is compared here (then every file may).

    A manifest whose files' bounds, taken together, lie outside a range is passed over whole: with merged
    manifests and keys that grow, a check looks at a handful of manifests, not at every file of the snapshot.
    """
    fields = [(schema.find_field(name), low, high) for name, (low, high) in ranges.items()]
    fields = [(f, low, high) for f, low, high in fields if isinstance(f.field_type, _COMPARED)]
    if not fields:
        return None
    ids = tuple(f.field_id for f, _, _ in fields)
    types = [f.field_type for f, _, _ in fields]
    found: set[str] = set()
    for manifest in snapshot_manifests(snapshot, io):
        if manifest.content != ManifestContent.DATA:
            continue
        bounds = _bounds(io, manifest, ids, types)
        if any(_apart(envelope, low, high) for envelope, (_, low, high) in zip(bounds.envelope, fields, strict=True)):
            continue
        for path, file_bounds in bounds.files.items():
            if not any(_apart(b, low, high) for b, (_, low, high) in zip(file_bounds, fields, strict=True)):
                found.add(path)
    return found


def _apart(bounds: tuple[Any, Any], low: Any, high: Any) -> bool:
    lower, upper = bounds
    return (upper is not None and upper < low) or (lower is not None and lower > high)


def clear() -> None:
    with _lock:
        _cache.clear()
        _lists.clear()


_lists: OrderedDict[str, tuple[ManifestFile, ...]] = OrderedDict()


def snapshot_manifests(snapshot: Snapshot, io: FileIO) -> tuple[ManifestFile, ...]:
    """The snapshot's manifests; a manifest list never changes either (pyiceberg re-reads it on every call)."""
    key = snapshot.manifest_list
    with _lock:
        cached = _lists.get(key)
    if cached is None:
        cached = tuple(snapshot.manifests(io))
        with _lock:
            _lists[key] = cached
            while len(_lists) > 64:
                _lists.popitem(last=False)
    return cached


def _bounds(io: FileIO, manifest: ManifestFile, ids: tuple[int, ...], types: Iterable[object]) -> _Bounds:
    key = (manifest.manifest_path, ids)
    with _lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return cached
    kinds = list(types)
    files: dict[str, tuple[tuple[Any, Any], ...]] = {}
    for entry in read_manifest(io, manifest):
        file = entry.data_file
        lower, upper = file.lower_bounds or {}, file.upper_bounds or {}
        files[file.file_path] = tuple(
            (_decode(kind, lower.get(i)), _decode(kind, upper.get(i))) for i, kind in zip(ids, kinds, strict=True)
        )
    found = _Bounds(files, tuple(_envelope([b[n] for b in files.values()]) for n in range(len(ids))))
    with _lock:
        _cache[key] = found
        while len(_cache) > MAX_MANIFESTS:
            _cache.popitem(last=False)
    return found


def _envelope(bounds: list[tuple[Any, Any]]) -> tuple[Any, Any]:
    lowers, uppers = [b[0] for b in bounds], [b[1] for b in bounds]
    low = None if not lowers or any(v is None for v in lowers) else min(lowers)
    high = None if not uppers or any(v is None for v in uppers) else max(uppers)
    return low, high


def _decode(kind: object, raw: bytes | None) -> Any:
    if raw is None or not isinstance(kind, PrimitiveType):
        return None
    return from_bytes(kind, raw)
