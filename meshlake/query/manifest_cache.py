"""What a data manifest adds to a plan, kept on disk, so that a new process does not decode every manifest again.

A manifest file never changes once written, so what planning derives from it can be kept by its location and
length: a new process planning a port appended to 10,000 times reads one small JSON file per manifest instead
of decoding 10,000 Avro entries (the first query's main cost in a notebook or a CLI call).

- Folder: `manifests/` in meshlake's cache folder (`meshlake.catalog.disk_cache`: `MESHLAKE_CACHE_DIR`, `off`
  turns the cache off). Deleting the folder is always safe.
- Key: the manifest's location and length, hashed into the file name and written in the entry too. An entry is
  used only if it names the same location and length, holds as many files as the manifest list says the
  manifest has (added + existing), and every value has the expected type; anything else (a corrupt, truncated,
  foreign or stale entry) is ignored and the manifest is decoded as without a cache (the entry is then
  rewritten).
- Only data manifests whose partition values are null, booleans, integers or strings are kept; delete
  manifests and other partition values are decoded every time.
- Writing is best effort (an unwritable folder only means no cache) and atomic (a temporary file renamed).
- Bounded: once a day (`disk_cache.prune_soon`, in a background thread), entries not used for `MAX_AGE` go,
  then the least recently used until the folder holds at most `MAX_BYTES` (a long stream's merged manifests
  would otherwise pile up: each commit's manifest is new).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyiceberg.manifest import ManifestContent, ManifestFile

from meshlake.catalog import disk_cache
from meshlake.catalog.disk_cache import CACHE_DIR_ENV, write_atomically

if TYPE_CHECKING:
    from meshlake.query.plan import DataTask, PartitionKey

__all__ = ["CACHE_DIR_ENV", "cache_folder", "entry_path", "load_tasks", "store_tasks"]

VERSION = 1
MAX_BYTES = 1 << 30
MAX_AGE = 30 * 24 * 3600.0
_SIMPLE = (bool, int, str, type(None))


def cache_folder() -> Path | None:
    """The folder manifest entries are kept in, None when the cache is off (read at every call)."""
    return disk_cache.cache_folder("manifests")


def entry_path(folder: Path, manifest: ManifestFile) -> Path:
    """Where the entry of `manifest` is kept: a hash of its location and length."""
    key = hashlib.sha256(f"{manifest.manifest_path}\x00{manifest.manifest_length}".encode()).hexdigest()
    return folder / key[:2] / f"{key}.json"


def load_tasks(
    folder: Path, manifest: ManifestFile, number: Callable[[PartitionKey], int]
) -> tuple[DataTask, ...] | None:
    """The data tasks kept for `manifest`, their partition keys numbered by `number`; None when there is no
    usable entry."""
    from meshlake.query.plan import DataTask

    if manifest.content != ManifestContent.DATA:
        return None
    entry = entry_path(folder, manifest)
    try:
        found = json.loads(entry.read_bytes())
        if (
            not isinstance(found, dict)
            or found.get("version") != VERSION
            or found.get("path") != manifest.manifest_path
            or found.get("length") != manifest.manifest_length
        ):
            return None
        rows = found["tasks"]
        expected = _file_count(manifest)
        if not isinstance(rows, list) or (expected is not None and len(rows) != expected):
            return None
        tasks = []
        partitions: dict[tuple[int, tuple[Any, ...]], int] = {}  # the files of a manifest share few partitions
        for path, file_format, sequence, records, size, spec_id, values in rows:
            if not (type(path) is str and type(file_format) is str and type(values) is list):
                return None
            if not (type(sequence) is int and type(records) is int and type(size) is int and type(spec_id) is int):
                return None
            key = (spec_id, tuple(values))
            partition = partitions.get(key)
            if partition is None:
                if not all(isinstance(v, _SIMPLE) for v in values):
                    return None
                partition = partitions[key] = number(key)
            tasks.append(DataTask(path, file_format, sequence, records, size, partition))
        disk_cache.touch(entry)
        return tuple(tasks)
    except (OSError, ValueError, TypeError, KeyError):
        return None


def store_tasks(folder: Path, manifest: ManifestFile, tasks: list[tuple[PartitionKey, DataTask]]) -> bool:
    """Keep the data tasks of `manifest` (a data manifest with no delete file); False when not kept."""
    if manifest.content != ManifestContent.DATA:
        return False
    rows: list[list[Any]] = []
    for (spec_id, values), task in tasks:
        if not all(isinstance(v, _SIMPLE) for v in values):
            return False
        numbers = [task.sequence_number, task.record_count, task.file_size, spec_id]
        rows.append([task.path, task.file_format, *numbers, list(values)])
    entry = {"version": VERSION, "path": manifest.manifest_path, "length": manifest.manifest_length, "tasks": rows}
    kept = write_atomically(entry_path(folder, manifest), json.dumps(entry, separators=(",", ":")).encode())
    disk_cache.prune_soon(folder, max_bytes=MAX_BYTES, max_age=MAX_AGE)
    return kept


def _file_count(manifest: ManifestFile) -> int | None:
    added, existing = manifest.added_files_count, manifest.existing_files_count
    return None if added is None or existing is None else added + existing
