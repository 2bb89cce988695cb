"""Whether Parquet files carry Iceberg field ids, read from their footers and remembered per file.

A table with a name mapping (`schema.name-mapping.default`) may hold files without field ids (imported by
`add_files`), which DuckDB's `read_parquet(schema=MAP{field_id: …})` would read as NULLs. Some REST
catalogs (SeaweedFS) put a name mapping on every table, though, so the mapping alone says nothing: the
planner asks the files. Data files never change, so each verdict is kept for the life of the process, with
the file's top-level column names: DuckDB reads a file without field ids by those names, through the mapping.

The verdicts of a data manifest's files are kept on disk too (`fieldids/` in meshlake's cache folder, next to the
manifest cache), one small entry per manifest keyed by its location and length (a manifest never changes, nor do
the files it names): which of its files lack field ids, with their names. A new process planning a port of
1,000 files on S3 reads one entry per manifest instead of 1,000 footers (1.1 s on a local SeaweedFS, the
first query's largest cost). An entry is used only if it names the same manifest and counts the same files;
anything else is ignored and the footers are read (the entry is then rewritten). The files meshlake's writer
writes carry field ids (`remember_written`): a process planning what it wrote reads none of their footers and
keeps the entries of their manifests for the next process.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pyiceberg.io import FileIO
from pyiceberg.utils.concurrent import ExecutorFactory

from meshlake.catalog import disk_cache
from meshlake.catalog.disk_cache import cache_folder, write_atomically

_FIELD_ID = b"PARQUET:field_id"
_MAX_REMEMBERED = 200_000
_verdicts: OrderedDict[str, tuple[bool, tuple[str, ...]]] = OrderedDict()
"""Per file: whether every top-level column has a field id, and the top-level column names."""
_lock = threading.Lock()
VERSION = 1
MAX_BYTES = 256 << 20
MAX_AGE = 30 * 24 * 3600.0

Manifest = tuple[str, int]
"""A data manifest's location and length (what its entry on disk is kept by)."""
_MAX_KEPT = 100_000
_kept: OrderedDict[Manifest, None] = OrderedDict()
"""The manifests whose entry this process wrote or read (the cache folder has it)."""


def without_field_ids(
    io: FileIO, paths: Sequence[str], manifests: Sequence[tuple[Manifest, Sequence[str]]] = ()
) -> dict[str, tuple[str, ...]]:
    """The files of `paths` lacking a field id on some top-level column, with their top-level column names
    (footers read once per file). `manifests`: data manifests with the files of `paths` they list, whose
    verdicts are read from and kept in the cache folder."""
    with _lock:
        known = {p: _verdicts[p] for p in dict.fromkeys(paths) if p in _verdicts}
    folder = cache_folder("fieldids")
    with _lock:
        unkept = [(m, tuple(dict.fromkeys(files))) for m, files in manifests if m not in _kept] if folder else []
    for manifest, files in unkept:
        if all(p in known for p in files):
            continue  # known here (this process read or wrote them): kept below
        kept = _load(folder, manifest, files) if folder is not None else None
        if kept is not None:
            known.update(kept)
            _remember(kept, manifest)
    unknown = [p for p in dict.fromkeys(paths) if p not in known]
    if len(unknown) > 1 and not all(p.startswith(("/", "file:")) for p in unknown):
        found = list(ExecutorFactory.get_or_create().map(lambda p: _footer(io, p), unknown))
    else:
        found = [_footer(io, p) for p in unknown]
    known.update(zip(unknown, found, strict=True))
    _remember(dict(zip(unknown, found, strict=True)))
    with _lock:
        unkept = [(m, files) for m, files in unkept if m not in _kept]
    for manifest, files in unkept:
        if folder is not None:
            _store(folder, manifest, {p: known[p] for p in files})
            _remember({}, manifest)
    return {path: names for path, (has_ids, names) in known.items() if not has_ids}


def remember_written(paths: Sequence[str]) -> None:
    """Note files this process wrote with a field id on every column (meshlake's writer writes no other), so that
    planning them reads no footer, and the entries of the manifests listing them are kept without one."""
    _remember(dict.fromkeys(paths, (True, ())))


def _remember(verdicts: dict[str, tuple[bool, tuple[str, ...]]], kept: Manifest | None = None) -> None:
    with _lock:
        _verdicts.update(verdicts)
        while len(_verdicts) > _MAX_REMEMBERED:
            _verdicts.popitem(last=False)
        if kept is not None:
            _kept[kept] = None
            while len(_kept) > _MAX_KEPT:
                _kept.popitem(last=False)


def _entry(folder: Path, manifest: Manifest) -> Path:
    key = hashlib.sha256(f"{manifest[0]}\x00{manifest[1]}".encode()).hexdigest()
    return folder / key[:2] / f"{key}.json"


def _load(folder: Path, manifest: Manifest, files: Sequence[str]) -> dict[str, tuple[bool, tuple[str, ...]]] | None:
    """The verdicts kept for the files of `manifest`; None without a usable entry."""
    entry = _entry(folder, manifest)
    try:
        found: Any = json.loads(entry.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    if (
        not isinstance(found, dict)
        or found.get("version") != VERSION
        or found.get("path") != manifest[0]
        or found.get("length") != manifest[1]
        or found.get("files") != len(files)
        or not isinstance(without := found.get("without"), dict)
        or not set(without) <= set(files)
        or not all(isinstance(names, list) and all(type(n) is str for n in names) for names in without.values())
    ):
        return None
    disk_cache.touch(entry)
    return {p: (False, tuple(without[p])) if p in without else (True, ()) for p in files}


def _store(folder: Path, manifest: Manifest, verdicts: dict[str, tuple[bool, tuple[str, ...]]]) -> None:
    without = {p: list(names) for p, (has_ids, names) in verdicts.items() if not has_ids}
    entry = {"version": VERSION, "path": manifest[0], "length": manifest[1], "files": len(verdicts), "without": without}
    write_atomically(_entry(folder, manifest), json.dumps(entry, separators=(",", ":")).encode())
    disk_cache.prune_soon(folder, max_bytes=MAX_BYTES, max_age=MAX_AGE)


def _footer(io: FileIO, path: str) -> tuple[bool, tuple[str, ...]]:
    import pyarrow.parquet as pq

    with io.new_input(path).open() as stream:
        schema = pq.ParquetFile(stream).schema_arrow
    return all(_FIELD_ID in (field.metadata or {}) for field in schema), tuple(schema.names)
