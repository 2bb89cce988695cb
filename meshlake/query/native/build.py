"""Compiling meshlake's DuckDB extension (`meshlake_deletes.c`) once per machine, into the user's cache.

    path = extension_path()   # None when it cannot be had here: `unavailable_reason()` says why

The library is compiled with the C compiler (`$CC`, else `cc`) against the DuckDB C extension API headers this
package ships (`include/`, from DuckDB 2.0.1, MIT licensed), then DuckDB's 534-byte metadata footer is appended
(platform, C API version v1.5.6, ABI `C_STRUCT`; unsigned). It lands in meshlake's cache folder
(`meshlake.catalog.disk_cache`: `$MESHLAKE_CACHE_DIR`, else `$XDG_CACHE_HOME/meshlake`, else `~/.cache/meshlake`)
under `duckdb/<digest>/`, where the digest covers the source, the headers, the compiler command and the platform,
so a change to any of them builds anew; with the caches off (`MESHLAKE_CACHE_DIR=off`) or their folder not private,
it is not built. The file is written to a temporary name and renamed, so concurrent processes never load half a
library; a cached file is loaded only when it and its folder belong to the current user and nobody else may write
them.

`MESHLAKE_NATIVE_DELETES=off` turns the extension off (every read applies deletes in plain SQL); `on`, the default,
uses it where it can be built. Any other value is a `ConfigError`.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import stat
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from meshlake.catalog.disk_cache import CACHE_DIR_ENV, cache_folder
from meshlake.errors import ConfigError

SOURCE = Path(__file__).with_name("meshlake_deletes.c")
INCLUDE = Path(__file__).with_name("include")
NAME = "meshlake_deletes"
C_API_VERSION = "v1.5.6"
"""The C extension API version the source is written against (its `DUCKDB_EXTENSION_API_VERSION_*`)."""
SETTING = "MESHLAKE_NATIVE_DELETES"
COMPILE_SECONDS = 120

_lock = threading.Lock()
_built: dict[str, Path] = {}
_failed: dict[str, str] = {}
_why: dict[str, str] = {}


def enabled() -> bool:
    """Whether `MESHLAKE_NATIVE_DELETES` allows the extension (`on`, the default, or `off`)."""
    value = os.environ.get(SETTING, "on").strip().lower()
    if value not in ("on", "off"):
        raise ConfigError(f"{SETTING} must be 'on' or 'off', not {value!r}", key=SETTING)
    return value == "on"


def extension_path() -> Path | None:
    """The compiled extension (built on first use); None when it is turned off or cannot be built here.

    A build that worked is kept for the life of the process (every connection loads the same library, so they share
    its masks); one that failed is not tried again while the cache folder stays the same."""
    if not enabled():
        _why[_platform()] = f"{SETTING}=off"
        return None
    platform = _platform()
    with _lock:
        built = _built.get(platform)
        if built is not None:
            return built
        attempt = f"{platform}:{cache_root()}"
        if attempt in _failed:
            _why[platform] = _failed[attempt]
            return None
        try:
            _built[platform] = _build(platform)
        except _UnavailableError as exc:
            _failed[attempt] = _why[platform] = str(exc)
            return None
        _why.pop(platform, None)
        return _built[platform]


def unavailable_reason() -> str | None:
    """Why `extension_path()` gave None (None when it gave a path or was not asked)."""
    return _why.get(_platform())


class _UnavailableError(Exception):
    """The extension cannot be built or trusted here (the message says why)."""


def _platform() -> str:
    import duckdb

    return f"{duckdb.__version__}:{_duckdb_platform()}"


_platforms: dict[str, str] = {}


def _duckdb_platform() -> str:
    """DuckDB's platform name (`linux_amd64`, `osx_arm64`, ...), which the metadata footer must carry."""
    import duckdb

    if duckdb.__version__ not in _platforms:
        con = duckdb.connect()
        try:
            row = con.execute("PRAGMA platform").fetchone()
        finally:
            con.close()
        _platforms[duckdb.__version__] = str(row[0]) if row else ""
    return _platforms[duckdb.__version__]


def _compiler() -> list[str]:
    return shlex.split(os.environ.get("CC") or "cc")


def _command(output: Path) -> list[str]:
    flags = ["-O3", "-std=c11", "-fPIC", "-shared", "-fvisibility=hidden", "-D_POSIX_C_SOURCE=200809L"]
    return [*_compiler(), *flags, "-I", str(INCLUDE), "-o", str(output), str(SOURCE), "-lpthread"]


def _digest(platform: str) -> str:
    h = hashlib.sha256()
    for part in (SOURCE, INCLUDE / "duckdb.h", INCLUDE / "duckdb_extension.h"):
        h.update(part.read_bytes())
    h.update(" ".join(_command(Path("out"))).encode())
    h.update(platform.encode())
    h.update(C_API_VERSION.encode())
    return h.hexdigest()[:24]


def cache_root() -> Path | None:
    """Where compiled extensions are kept: `duckdb/` in meshlake's cache folder (`MESHLAKE_CACHE_DIR`, else the XDG
    cache folder; `meshlake.catalog.disk_cache`); None when the caches are off or their folder is not private."""
    return cache_folder("duckdb")


def _build(platform: str) -> Path:
    if sys.platform.startswith("win"):
        raise _UnavailableError("the native delete extension is not built on Windows")
    root = cache_root()
    if root is None:
        raise _UnavailableError(f"meshlake's cache folder is off or not private ({CACHE_DIR_ENV}): nowhere to keep it")
    folder = root / _digest(platform)
    target = folder / f"{NAME}.duckdb_extension"
    if target.exists():
        _check_private(folder)
        _check_private(target)
        return target
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise _UnavailableError(f"cannot create the extension cache {folder}: {exc}") from None
    _check_private(folder)
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=f".{NAME}-", suffix=".tmp")
    os.close(descriptor)
    partial = Path(temporary)
    try:
        command = _command(partial)
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=COMPILE_SECONDS, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise _UnavailableError(f"cannot run the C compiler ({command[0]}): {exc}") from None
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
            raise _UnavailableError(f"the C compiler failed ({command[0]}): {' | '.join(tail)}")
        with partial.open("ab") as out:
            out.write(metadata_footer(_duckdb_platform()))
        partial.chmod(0o600)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def _check_private(path: Path) -> None:
    """Refuse a cached file or folder another user owns or may write (it could have been swapped for theirs)."""
    info = path.stat()
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise _UnavailableError(f"{path} belongs to another user: not loading it")
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise _UnavailableError(f"{path} is writable by other users: not loading it")


def metadata_footer(platform: str, *, version: str = C_API_VERSION, extension_version: str = "meshlake") -> bytes:
    """DuckDB's extension metadata: a WebAssembly-style custom section `duckdb_signature` holding eight 32-byte
    fields (written last to first) and an empty 256-byte signature (DuckDB's scripts/append_metadata.cmake)."""
    fields = ["4", platform, version, extension_version, "C_STRUCT", "", "", ""]

    def field(text: str) -> bytes:
        raw = text.encode()
        if len(raw) > 32:
            raise ValueError(f"metadata field too long: {text!r}")
        return raw.ljust(32, b"\0")

    header = b"\x00" + bytes([147, 4, 16]) + b"duckdb_signature" + bytes([128, 4])
    return header + b"".join(field(f) for f in reversed(fields)) + b"\0" * 256
