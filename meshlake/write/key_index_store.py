"""Where the key index lives on disk (`meshlake.write.key_index`): its manifests (`snap-<snapshot id>.json`) and
run files (`.npy`), written atomically and checked (version, table, snapshot, key, kinds, sizes, CRC-32) before use;
pruning of old manifests and of the runs only they named."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from meshlake.catalog import disk_cache
from meshlake.write import faults
from meshlake.write.key_hashing import Column, held_as_bytes, holds_columns, string_hash
from meshlake.write.key_runs import BrokenIndexError, FileEntry, KeyIndex, Run, kinds_of

if TYPE_CHECKING:
    from pyiceberg.table import Table

VERSION = 2
KEEP = 8
"""Manifests kept per table (the newest); older ones and the runs only they named are deleted."""
GRACE_SECONDS = 600.0
FULL_CHECK_BYTES = 8 << 20
SAMPLES = 64
BLOCK = 4096
HASH_PROBE = ("", "a", "meshlake", "ünïcode ✓", "x" * 23)
"""Strings whose `string_hash` a manifest records: an index of keys held as bytes is loaded only where they hash the
same."""


def folder_of(table: Table) -> Path | None:
    """The index folder of `table`, None when the caches are off."""
    base = disk_cache.cache_folder("keyindex")
    return None if base is None else base / str(table.metadata.table_uuid)


# ---------------------------------------------------------------------------------------------------- storage


def save(folder: Path, index: KeyIndex) -> bool:
    """Write `index` (its new runs first, then its manifest); False when it could not be written."""
    runs = []
    for run in (*index.runs, *index.tombstones):
        described = written_run(folder, run)
        if described is None:
            return False
        runs.append(described)
    faults.reached("key index")  # its runs are written, the manifest naming them is next
    manifest = {
        "version": VERSION,
        "table": index.table_uuid,
        "snapshot": index.snapshot_id,
        "key": list(index.key),
        "field_ids": list(index.field_ids),
        "kinds": list(kinds_of(index)),
        "hash_probe": _hash_probe(),
        "next_row": index.next_row,
        "files": [[e.path, e.offset, e.count, sorted(e.deletes), e.live] for e in index.files],
        "runs": runs[: len(index.runs)],
        "tombstones": runs[len(index.runs) :],
    }
    kept = disk_cache.write_atomically(_manifest_path(folder, index.snapshot_id), json.dumps(manifest).encode())
    if kept:
        prune(folder)
    return kept


def written_run(folder: Path, run: Run) -> dict[str, Any] | None:
    """Write `run`'s files unless this process wrote or checked them already (runs never change); how a manifest
    describes it, None when it could not be written. Files no manifest names are pruned after `GRACE_SECONDS`."""
    described: dict[str, Any] = {"name": run.name, "count": len(run.rows), "unique": run.unique}
    if run.level:
        described["level"] = run.level
    for kind, array in _arrays_of(run).items():
        target = folder / f"{run.name}.{kind}.npy"
        if target.exists() and _memo.get(target) is not None:
            described[kind] = _memo_check(target)
        else:
            values = np.asarray(array(), np.int64)
            written = _write_array(target, values)
            if written is None:
                return None
            described[kind] = {"size": written[0], "crc": written[1]}
            _memo[target] = written
        if kind.startswith("b"):
            described[kind]["words"] = (target.stat().st_size - _npy_header(target)) // 8
    return described


def _hash_probe() -> list[int]:
    """`string_hash` of `HASH_PROBE`: an index of keys held as bytes is used only where they hash as when it was
    written."""
    return [int(h) for h in string_hash(pa.array(HASH_PROBE, pa.large_string()))]


def _arrays_of(run: Run) -> dict[str, Any]:
    """The int64 arrays a run is stored as, by file kind, each computed when called: `keys`, `rows`, and per key
    column `c<i>` (int64 values; for strings, offsets into `b<i>`, their UTF-8 bytes in 8-byte words)."""
    arrays: dict[str, Any] = {"rows": lambda: run.rows}
    if run.keys is not None:
        arrays["keys"] = lambda: run.keys
    for i, column in enumerate(run.columns):
        if isinstance(column, pa.Array):
            offsets, data = _string_buffers(column)
            arrays[f"c{i}"] = lambda offsets=offsets: offsets
            arrays[f"b{i}"] = lambda data=data: data
        else:
            arrays[f"c{i}"] = lambda column=column: column
    return arrays


def _string_buffers(strings: pa.LargeBinaryArray) -> tuple[np.ndarray, np.ndarray]:
    """`strings`' offsets (from 0) and bytes (zero-padded to 8-byte words), as int64 arrays."""
    buffers = strings.buffers()
    n = len(strings)
    offsets = np.frombuffer(buffers[1], np.int64)[strings.offset : strings.offset + n + 1]
    first, last = (int(offsets[0]), int(offsets[-1])) if n else (0, 0)
    data = np.frombuffer(buffers[2], np.uint8)[first:last] if buffers[2] is not None else np.empty(0, np.uint8)
    words = np.zeros((len(data) + 7) // 8 * 8, np.uint8)
    words[: len(data)] = data
    return offsets - first, words.view(np.int64)


def _npy_header(path: Path) -> int:
    with path.open("rb") as stream:
        np.lib.format.read_magic(stream)
        np.lib.format.read_array_header_1_0(stream)
        return stream.tell()


def prune(folder: Path, *, keep: int | None = None, grace_seconds: float = GRACE_SECONDS) -> None:
    """Delete all but the `keep` (by default `KEEP`) most recently written or loaded manifests of `folder`, and the
    run files none of them names that are older than `grace_seconds` (another process may be writing runs for a
    manifest it has not renamed yet)."""
    keep = KEEP if keep is None else keep
    try:
        manifests = sorted(folder.glob("snap-*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in manifests[keep:]:
            old.unlink(missing_ok=True)
        named = set()
        for manifest in manifests[:keep]:
            try:
                found = json.loads(manifest.read_bytes())
                named |= {run["name"] for run in (*found["runs"], *found["tombstones"])}
            except (OSError, ValueError, TypeError, KeyError):
                continue
        now = time.time()
        for array in folder.glob("*.npy"):
            if array.name.split(".")[0] not in named and now - array.stat().st_mtime > grace_seconds:
                array.unlink(missing_ok=True)
                _memo.pop(array, None)
        for torn in folder.glob("*.tmp"):  # left by a process killed while writing
            if now - torn.stat().st_mtime > grace_seconds:
                torn.unlink(missing_ok=True)
    except OSError:
        return


def load(
    folder: Path,
    table: Table,
    snapshot_id: int,
    key: tuple[str, ...],
    field_ids: tuple[int, ...],
    kinds: tuple[str, ...] = (),
) -> KeyIndex | None:
    """The index kept for `snapshot_id` of `table` on `key` (of `kinds`: integers when empty), None when there is
    none or it fails a check."""
    kinds = kinds or ("integer",) * len(key)
    try:
        path = _manifest_path(folder, snapshot_id)
        found = json.loads(path.read_bytes())
        with contextlib.suppress(OSError):
            os.utime(path)  # used: `prune` keeps the most recently used manifests
        if not (
            isinstance(found, dict)
            and found.get("version") == VERSION
            and found.get("table") == str(table.metadata.table_uuid)
            and found.get("snapshot") == snapshot_id
            and found.get("key") == list(key)
            and found.get("field_ids") == list(field_ids)
            and found.get("kinds") == list(kinds)
            and (not any(held_as_bytes(k) for k in kinds) or found.get("hash_probe") == _hash_probe())
            and type(found.get("next_row")) is int
        ):
            return None
        files: list[FileEntry] = []
        for path, offset, count, deletes, live in found["files"]:
            if not (type(path) is str and type(offset) is int and type(count) is int and isinstance(deletes, list)):
                return None
            if type(live) is not bool or any(type(d) is not str for d in deletes):
                return None
            files.append(FileEntry(path, offset, count, frozenset(deletes), live))
        if any(b.offset < a.offset + a.count for a, b in itertools.pairwise(files)):
            return None
        held = kinds if holds_columns(kinds) else ()
        runs = tuple(_load_run(folder, r, columns=held) for r in found["runs"])
        tombs = tuple(_load_run(folder, r, columns=None) for r in found["tombstones"])
        next_row = found["next_row"]
        return KeyIndex(found["table"], snapshot_id, key, field_ids, tuple(files), runs, tombs, next_row, kinds)
    except (OSError, ValueError, TypeError, KeyError, BrokenIndexError):
        return None


def _manifest_path(folder: Path, snapshot_id: int) -> Path:
    return folder / f"snap-{snapshot_id}.json"


def _load_run(folder: Path, described: Mapping[str, Any], *, columns: tuple[str, ...] | None) -> Run:
    """A run as described in a manifest: a key run holding key columns of `columns` kinds, or (None) a tombstone
    run."""
    name, count = described["name"], described["count"]
    if not (isinstance(name, str) and name.isalnum() and type(count) is int):
        raise BrokenIndexError("a malformed run")
    rows = _load_array(folder / f"{name}.rows.npy", described["rows"], count)
    if columns is None:
        return Run(name, rows)
    keys = _load_array(folder / f"{name}.keys.npy", described["keys"], count)
    kept = tuple(_load_column(folder, name, i, kind, described, count) for i, kind in enumerate(columns))
    level = described.get("level", 0)
    if level not in (0, 1) or type(level) is not int:
        raise BrokenIndexError("a malformed run level")
    return Run(name, rows, keys, described["unique"] is True, kept, level)


def _load_column(folder: Path, name: str, i: int, kind: str, described: Mapping[str, Any], count: int) -> Column:
    if not held_as_bytes(kind):
        return _load_array(folder / f"{name}.c{i}.npy", described[f"c{i}"], count)
    offsets = _load_array(folder / f"{name}.c{i}.npy", described[f"c{i}"], count + 1)
    words = described[f"b{i}"].get("words")
    if type(words) is not int or words < 0:
        raise BrokenIndexError("a malformed string column")
    data = _load_array(folder / f"{name}.b{i}.npy", described[f"b{i}"], words)
    if offsets[0] != 0 or offsets[-1] > 8 * words:
        raise BrokenIndexError("a string column's offsets do not fit its bytes")
    held: pa.LargeBinaryArray = pa.Array.from_buffers(
        pa.large_binary(), count, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )
    return held


_memo: dict[Path, tuple[int, int] | None] = {}
"""Arrays this process wrote or checked: path -> (size, checksum); runs never change once written."""


def _memo_check(path: Path) -> dict[str, int]:
    size, crc = _memo[path]  # type: ignore[misc]
    return {"size": size, "crc": crc}


def _load_array(path: Path, described: Mapping[str, Any], count: int) -> np.ndarray:
    size, crc = described["size"], described["crc"]
    stat = path.stat()
    if stat.st_size != size:
        raise BrokenIndexError(f"{path.name} has the wrong size")
    identity = (size, crc, stat.st_mtime_ns, stat.st_ino)
    with _mapped_lock:
        mapped = _mapped.get(path)
        if mapped is not None:
            _mapped.move_to_end(path)
    if mapped is not None and mapped[0] == identity and _memo.get(path) == (size, crc):
        return _shaped(path, mapped[1], count)
    if _memo.get(path) != (size, crc):
        with path.open("rb") as stream:
            if _checksum_file(stream, size) != crc:
                raise BrokenIndexError(f"{path.name} fails its checksum")
        _memo[path] = (size, crc)
    array: np.ndarray = np.load(path, mmap_mode="r", allow_pickle=False)
    with _mapped_lock:
        _mapped[path] = (identity, array)
        while len(_mapped) > MAPPED:
            _mapped.popitem(last=False)
    return _shaped(path, array, count)


def _shaped(path: Path, array: np.ndarray, count: int) -> np.ndarray:
    if array.dtype != np.dtype("<i8") or array.shape != (count,):
        raise BrokenIndexError(f"{path.name} has the wrong shape")
    return array


MAPPED = 64
_mapped_lock = threading.Lock()
_mapped: OrderedDict[Path, tuple[tuple[int, int, int, int], np.ndarray]] = OrderedDict()
"""Run files this process mapped, with the (size, checksum, mtime, inode) they had: a later lookup reuses the
mapping, whose pages are already mapped in (a new mapping of a 20 M-row base run faults its pages in again)."""


def _write_array(target: Path, array: np.ndarray) -> tuple[int, int] | None:
    """Write `array` as `.npy` to a temporary file renamed to `target` (streamed: no copy in memory); its size and
    checksum, None when it could not be written."""
    temporary = disk_cache.temporary_for(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with temporary.open("wb") as stream:
            np.save(stream, array, allow_pickle=False)
        size = temporary.stat().st_size
        with temporary.open("rb") as stream:
            crc = _checksum_file(stream, size)
        os.replace(temporary, target)
    except OSError:
        temporary.unlink(missing_ok=True)
        return None
    return size, crc


def _sample_offsets(size: int) -> list[int]:
    if size <= FULL_CHECK_BYTES:
        return []
    step = (size - BLOCK) // SAMPLES
    return [*(i * step for i in range(SAMPLES)), size - BLOCK]


def _checksum_file(stream: Any, size: int) -> int:
    offsets = _sample_offsets(size)
    if not offsets:
        return zlib.crc32(stream.read())
    crc = 0
    for at in offsets:
        stream.seek(at)
        crc = zlib.crc32(stream.read(BLOCK), crc)
    return crc
