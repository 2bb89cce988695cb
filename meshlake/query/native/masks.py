"""Row masks of position deletes, loaded into meshlake's DuckDB extensions, and connections that can use them.

    con = connect()                        # a DuckDB connection with the extensions loaded, if they can be
    if native_mode(con) == "scan":
        key = masks.ensure(tasks)          # one bit per row of each data file with deletes
        sql = f"... FROM meshlake_scan([...], meshlake_mask = '{key}')"
    elif native_mode(con) == "filter":
        sql = f"... WHERE meshlake_kept('{key}', file_index, file_row_number)"

A mask covers the data files of one scan, in `file_index` order: a file with (file-scoped) position deletes gets
its record count's bits, set where a row is deleted; a file without deletes keeps every row. Masks are built from
the positions the Polars reader already keeps (`polars_scan.delete_positions`: each delete file read once), keyed by
a digest of the files and their delete files, and kept in an LRU bounded by bytes (`MaskRegistry.max_bytes`). A
query bound to a mask keeps it alive when it is dropped; a query text whose mask was dropped fails at bind with a
clear error rather than reading deleted rows.
"""

from __future__ import annotations

import ctypes
import hashlib
import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from meshlake.query.native.build import extension_path, scan_extension_path
from meshlake.query.plan import DataTask
from meshlake.query.types import quote_literal

if TYPE_CHECKING:
    import duckdb

FUNCTION = "meshlake_kept"
SCAN = "meshlake_scan"
_KEYS = re.compile(r"(?:meshlake_kept\(|meshlake_mask = )'(ml[0-9a-f]+)'")
Native = Literal["scan", "filter"]
"""How a connection applies position deletes: `meshlake_scan` (inside the Parquet scan) or `meshlake_kept`."""


class _Library:
    """The extension's mask functions, called through ctypes (the same loaded library DuckDB uses)."""

    def __init__(self, path: Path) -> None:
        lib = ctypes.CDLL(str(path))
        i64 = ctypes.c_int64
        pointer = ctypes.c_void_p
        lib.meshlake_mask_put.argtypes = [ctypes.c_char_p, i64, pointer, pointer, pointer, i64]
        lib.meshlake_mask_put.restype = ctypes.c_int
        lib.meshlake_mask_drop.argtypes = [ctypes.c_char_p]
        lib.meshlake_mask_drop.restype = ctypes.c_int
        lib.meshlake_mask_count.argtypes = []
        lib.meshlake_mask_count.restype = i64
        self._lib = lib

    def put(self, key: str, offsets: np.ndarray, counts: np.ndarray, words: np.ndarray, bits: int) -> None:
        """Load a mask (`build_mask`'s arrays); `ValueError` for arrays the C side would read past, or that it
        refuses (a file's bits outside `bits`), `MemoryError` when it cannot allocate the copy."""
        offsets = np.ascontiguousarray(offsets, dtype=np.int64)
        counts = np.ascontiguousarray(counts, dtype=np.int64)
        words = np.ascontiguousarray(words, dtype=np.uint64)
        if len(counts) != len(offsets) or bits < 0 or len(words) * 64 < bits:
            raise ValueError(
                f"the row mask {key} is malformed: {len(offsets)} offsets, {len(counts)} counts, {len(words)} "
                f"words for {bits} bits"
            )
        done = self._lib.meshlake_mask_put(
            key.encode(), len(offsets), offsets.ctypes.data, counts.ctypes.data, words.ctypes.data, bits
        )
        if done == -2:
            raise MemoryError(f"the DuckDB extension could not allocate the row mask {key}")
        if done != 0:
            raise ValueError(f"the DuckDB extension refused the row mask {key} (a file's bits lie outside its bits)")

    def drop(self, key: str) -> None:
        self._lib.meshlake_mask_drop(key.encode())

    def count(self) -> int:
        return int(self._lib.meshlake_mask_count())


class _ScanLibrary:
    """`meshlake_scan`'s library, told where the C library's masks are (`meshlake_scan_use_registry`) before any
    DuckDB loads it: ctypes and DuckDB's LOAD open the same file, so they share its state."""

    def __init__(self, path: Path) -> None:
        lib = ctypes.CDLL(str(path))
        lib.meshlake_scan_use_registry.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        lib.meshlake_scan_use_registry.restype = None
        lib.meshlake_scan_has_registry.argtypes = []
        lib.meshlake_scan_has_registry.restype = ctypes.c_int
        self._lib = lib
        self._path = path
        self.registry: _Library | None = None

    def use(self, registry: _Library) -> None:
        """Look masks up in `registry` (the C library `masks` loads them into) from now on."""
        acquire = ctypes.cast(registry._lib.meshlake_mask_acquire, ctypes.c_void_p)
        release = ctypes.cast(registry._lib.meshlake_mask_release, ctypes.c_void_p)
        self._lib.meshlake_scan_use_registry(acquire, release)
        if not self._lib.meshlake_scan_has_registry():
            raise OSError(f"{self._path} did not take meshlake's mask registry")
        self.registry = registry


_libraries: dict[Path, _Library] = {}
_scan_libraries: dict[Path, _ScanLibrary] = {}
_library_lock = threading.Lock()


def _lib() -> _Library | None:
    path = extension_path()
    if path is None:
        return None
    with _library_lock:
        if path not in _libraries:
            _libraries[path] = _Library(path)
        return _libraries[path]


def _scan_lib() -> Path | None:
    """`meshlake_scan`'s file, its library ready to load (None when it is unavailable, or being compiled)."""
    path = scan_extension_path(wait=False)
    registry = _lib()
    if path is None or registry is None:
        return None
    with _library_lock:
        library = _scan_libraries.get(path)
        if library is None:
            library = _scan_libraries[path] = _ScanLibrary(path)
        if library.registry is not registry:
            library.use(registry)  # the C library's file changes only when its cache folder does (tests)
    return path


def connect(config: Mapping[str, Any] | None = None) -> duckdb.DuckDBPyConnection:
    """A new DuckDB connection with meshlake's extension loaded when it can be (`loaded` says whether).

    Unsigned extensions are allowed only while meshlake loads its own: then the setting is off again (DuckDB lets
    it be switched off, never back on), so SQL run on the connection cannot load another unsigned library. A
    `config` that sets `allow_unsigned_extensions` itself is left as it says."""
    import duckdb

    settings = dict(config or {})
    ours = extension_path() is not None and "allow_unsigned_extensions" not in settings
    if ours:
        settings["allow_unsigned_extensions"] = "true"
    con = duckdb.connect(config=settings)
    load(con)
    if ours:
        con.execute("SET allow_unsigned_extensions = false")
    return con


_loaded: weakref.WeakSet[duckdb.DuckDBPyConnection] = weakref.WeakSet()
_scanning: weakref.WeakSet[duckdb.DuckDBPyConnection] = weakref.WeakSet()
_loaded_lock = threading.Lock()


def load(con: duckdb.DuckDBPyConnection) -> bool:
    """Load the extension into `con`; False when it is unavailable or `con` refuses unsigned extensions."""
    import duckdb

    path = extension_path()
    if path is None or _lib() is None:
        return False
    try:
        con.execute(f"LOAD {quote_literal(str(path))}")
    except duckdb.Error:
        return False
    with _loaded_lock:
        _loaded.add(con)
    scan = _scan_lib()
    if scan is not None:
        try:
            con.execute(f"LOAD {quote_literal(str(scan))}")
        except duckdb.Error:
            return True
        with _loaded_lock:
            _scanning.add(con)
    return True


def loaded(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether `load` loaded the extension into `con` (this very connection object)."""
    with _loaded_lock:
        return con in _loaded


def native_mode(con: duckdb.DuckDBPyConnection) -> Native | None:
    """How `con` applies position deletes natively: `scan` (`meshlake_scan` loaded too), `filter` (the C
    extension's `meshlake_kept` only) or None (plain SQL)."""
    with _loaded_lock:
        if con in _scanning:
            return "scan"
        return "filter" if con in _loaded else None


class MaskRegistry:
    """The masks loaded into the extension, an LRU bounded by `max_bytes`; the `min_kept` most recently used are
    kept whatever their size, so a mask handed to one thread's query is not dropped by another thread's `ensure`
    before that query binds it (unless `min_kept` others were used in between)."""

    def __init__(self, max_bytes: int = 1 << 30, min_kept: int = 8) -> None:
        self.max_bytes = max_bytes
        self.min_kept = max(1, min_kept)
        self._sizes: OrderedDict[str, int] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def ensure(self, tasks: Sequence[DataTask], options: dict[str, Any] | None = None) -> str:
        """The key of the mask of `tasks` (one scan's data files, in order), loading it when it is not loaded.

        Only file-scoped position deletes may be on `tasks` (`maskable`). Deleted positions outside a file's rows
        delete nothing."""
        lib = _lib()
        if lib is None:
            raise RuntimeError("meshlake's DuckDB extension is not available")
        key = mask_key(tasks)
        with self._lock:
            if key in self._sizes:
                self._sizes.move_to_end(key)
                return key
        offsets, counts, words, bits = build_mask(tasks, options)
        lib.put(key, offsets, counts, words, bits)
        dropped: list[str] = []
        with self._lock:
            if key not in self._sizes:
                self._sizes[key] = int(words.nbytes)
                self._bytes += int(words.nbytes)
            while self._bytes > self.max_bytes and len(self._sizes) > self.min_kept:
                old, size = self._sizes.popitem(last=False)
                self._bytes -= size
                dropped.append(old)
        for old in dropped:
            lib.drop(old)
        return key

    def holds(self, sql: str) -> bool:
        """Whether every mask `sql` (a native `scan_sql` text) tests rows against is still loaded; those are marked
        used. A text kept across reads (a view's) is planned again when one was dropped."""
        keys = _KEYS.findall(sql) if FUNCTION in sql or SCAN in sql else []
        with self._lock:
            if not all(key in self._sizes for key in keys):
                return False
            for key in keys:
                self._sizes.move_to_end(key)
        return True

    def clear(self) -> None:
        lib = _lib()
        with self._lock:
            keys = list(self._sizes)
            self._sizes.clear()
            self._bytes = 0
        if lib is not None:
            for key in keys:
                lib.drop(key)

    @property
    def bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._sizes)


masks = MaskRegistry()


def maskable(tasks: Sequence[DataTask]) -> bool:
    """Whether a mask can apply `tasks`' deletes: no equality deletes, and each position delete file lists rows of
    its own data file only (as meshlake writes them)."""
    return all(
        not t.equality_deletes and all(d.referenced_file == t.path for d in t.position_deletes) for t in tasks
    ) and all(t.record_count >= 0 for t in tasks if t.position_deletes)


def mask_key(tasks: Sequence[DataTask]) -> str:
    """A digest of the scan's files, their record counts and their delete files: equal keys, equal masks."""
    h = hashlib.sha256()
    for task in tasks:
        h.update(f"{task.path}\0{task.record_count}\0".encode())
        for delete in sorted(d.path for d in task.position_deletes):
            h.update(f"{delete}\0".encode())
        h.update(b"\1")
    return "ml" + h.hexdigest()[:40]


def build_mask(
    tasks: Sequence[DataTask], options: dict[str, Any] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(offsets, counts, words, bits) of `tasks`' mask: per file its first bit (-1 without deletes) and record
    count; the bits packed little-endian into 64-bit words."""
    from meshlake.query.polars_scan import delete_positions

    dirty = [t for t in tasks if t.position_deletes]
    sets = delete_positions.load(dirty, options) if dirty else {}
    offsets = np.full(len(tasks), -1, dtype=np.int64)
    counts = np.array([max(t.record_count, 0) for t in tasks], dtype=np.int64)
    bits = 0
    for index, task in enumerate(tasks):
        if task.position_deletes:
            offsets[index] = bits
            bits += int(counts[index])
    deleted = np.zeros(bits, dtype=bool)
    for index, task in enumerate(tasks):
        if task.position_deletes:
            positions = sets[tuple(sorted(d.path for d in task.position_deletes))].to_numpy().astype(np.int64)
            positions = positions[(positions >= 0) & (positions < counts[index])]
            deleted[offsets[index] + positions] = True
    packed = np.packbits(deleted, bitorder="little")
    packed = np.concatenate([packed, np.zeros((-len(packed)) % 8, dtype=np.uint8)])
    words = np.ascontiguousarray(packed.view(np.uint64)) if len(packed) else np.zeros(1, dtype=np.uint64)
    return offsets, counts, words, bits
