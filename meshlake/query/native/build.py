"""Compiling meshlake's DuckDB extensions once per machine, into the user's cache.

    path = extension_path()        # the C library (`meshlake_kept`, the masks); None: `unavailable_reason()`
    scan = scan_extension_path()   # the C++ `meshlake_scan`; None: `scan_unavailable_reason()`

`meshlake_deletes.c` is compiled with the C compiler (`$CC`, else `cc`) against the DuckDB C extension API headers
this package ships (`include/`, from DuckDB 2.0.1, MIT licensed); its footer says C API v1.5.6, ABI `C_STRUCT`.
`meshlake_scan.cpp` is compiled with the C++ compiler (`$CXX`, else `c++`) against DuckDB 2.0.1's C++ headers
(`include_cpp/`, MIT licensed) and linked against the duckdb wheel's own library (`_duckdb`), only when the running
DuckDB is 2.0.1 (its C++ API changes between versions); its footer says `v2.0.1`, ABI `CPP`. DuckDB's 534-byte
metadata footer is appended to each (unsigned). They land in meshlake's cache folder (`meshlake.catalog.disk_cache`:
`$MESHLAKE_CACHE_DIR`, else `$XDG_CACHE_HOME/meshlake`, else `~/.cache/meshlake`) under `duckdb/<digest>/`, where
the digest covers the source, the headers, the compiler command and the platform, so a change to any of them builds
anew; with the caches off (`MESHLAKE_CACHE_DIR=off`) or their folder not private, nothing is built. A file is
written to a temporary name and renamed, so concurrent processes never load half a library; a cached file is loaded
only when it and its folder belong to the current user and nobody else may write them.

`meshlake_scan` takes about 15 s to compile: connections load it with `scan_extension_path(wait=False)`, which,
when it is not in the cache, runs `python -m meshlake.query.native.build CACHE_FOLDER` in a session of its own
(watched by a daemon thread; it finishes even if this process exits first) and gives None meanwhile (those
connections use `meshlake_kept`). A lock file per folder makes processes sharing it compile once between them.

`MESHLAKE_NATIVE_DELETES`: `on`, the default, uses `meshlake_scan` where it can be built, else `meshlake_kept`;
`filter` uses `meshlake_kept` only; `off` neither (every read applies deletes in plain SQL). Any other value is a
`ConfigError`.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shlex
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import NamedTuple

from meshlake.catalog.disk_cache import CACHE_DIR_ENV, cache_folder
from meshlake.errors import ConfigError

SOURCE = Path(__file__).with_name("meshlake_deletes.c")
INCLUDE = Path(__file__).with_name("include")
NAME = "meshlake_deletes"
C_API_VERSION = "v1.5.6"
"""The C extension API version the source is written against (its `DUCKDB_EXTENSION_API_VERSION_*`)."""
SCAN_SOURCE = Path(__file__).with_name("meshlake_scan.cpp")
SCAN_INCLUDE = Path(__file__).with_name("include_cpp")
SCAN_NAME = "meshlake_scan"
SCAN_DUCKDB_VERSION = "2.0.1"
"""The DuckDB whose C++ headers `include_cpp/` holds: the only one `meshlake_scan` is built for."""
SETTING = "MESHLAKE_NATIVE_DELETES"
MODES = ("on", "filter", "off")
COMPILE_SECONDS = 180

_lock = threading.Lock()
_built: dict[str, Path] = {}
_failed: dict[str, str] = {}
_why: dict[str, str] = {}


def mode() -> str:
    """`MESHLAKE_NATIVE_DELETES`: `on` (the default: `meshlake_scan` where it can be built, else the C extension's
    filter), `filter` (the C extension's filter only) or `off` (deletes applied in plain SQL)."""
    value = os.environ.get(SETTING, "on").strip().lower()
    if value not in MODES:
        raise ConfigError(f"{SETTING} must be 'on', 'filter' or 'off', not {value!r}", key=SETTING)
    return value


def enabled() -> bool:
    """Whether `MESHLAKE_NATIVE_DELETES` allows the extension (`on` or `filter`)."""
    return mode() != "off"


class _Spec(NamedTuple):
    """One of meshlake's DuckDB extensions: how it is compiled and which metadata its footer carries."""

    name: str
    source: Path
    inputs: tuple[Path, ...]
    """The files whose bytes decide the build (the source and the headers it includes)."""
    command: Callable[[Path], list[str]]
    version: str
    abi: str


def extension_path() -> Path | None:
    """The compiled C extension (built on first use); None when it is turned off or cannot be built here.

    A build that worked is kept for the life of the process (every connection loads the same library, so they share
    its masks); one that failed is not tried again while the cache folder stays the same."""
    if not enabled():
        _why[_platform()] = f"{SETTING}=off"
        return None
    return _get(_platform(), _c_spec)


def scan_extension_path(*, wait: bool = True) -> Path | None:
    """The compiled C++ extension `meshlake_scan`, which needs the C extension's masks; None when the setting is not
    `on`, the C extension is unavailable, DuckDB is not the version of the vendored headers, or it cannot be built
    here (`scan_unavailable_reason()` says why).

    Compiling it takes about 15 s, once per machine. `wait=False` (how connections load it) never waits for that:
    when it is not in the cache yet, it is compiled in a process of its own (`_compile_aside`) and None is returned
    meanwhile (reads use the C extension's filter until a later connection finds it built)."""
    key = f"{SCAN_NAME}:{_platform()}"
    current = mode()
    if current != "on":
        _why[key] = f"{SETTING}={current}"
        return None
    if extension_path() is None:
        _why[key] = f"the C extension it shares masks with is unavailable: {unavailable_reason()}"
        return None
    import duckdb

    if duckdb.__version__ != SCAN_DUCKDB_VERSION:
        found = duckdb.__version__
        _why[key] = f"it is built for DuckDB {SCAN_DUCKDB_VERSION}'s C++ API only, and this is DuckDB {found}"
        return None
    if wait:
        return _get(key, _scan_spec)
    try:
        return _get(key, _scan_spec, compile=False)
    except _NotBuiltError:
        _compile_aside(key, _scan_spec)
        return None


def _get(
    key: str, spec: Callable[[], _Spec], *, compile: bool = True, aside: bool = False, root: Path | None = None
) -> Path | None:
    """The extension of `key`: built already in this process, found in the cache, or compiled now (`compile`; else
    `_NotBuiltError`, also when another thread is compiling it). `aside`: a compile started aside (`main`), which
    gives up (`_NotBuiltError`) rather than wait for another process compiling into the same folder. `root`: the
    cache folder (default: the current)."""
    root = root or cache_root()
    attempt = f"{key}:{root}"
    lock = _key_lock(key)
    if not lock.acquire(blocking=compile):
        raise _NotBuiltError(key)
    try:
        built = _built.get(key)
        if built is not None:
            return built
        if attempt in _failed:
            _why[key] = _failed[attempt]
            return None
        try:
            _built[key] = _build(_platform(), spec(), root, compile=compile, aside=aside)
        except _UnavailableError as exc:
            _failed[attempt] = _why[key] = str(exc)
            return None
        _why.pop(key, None)
        return _built[key]
    finally:
        lock.release()


_key_locks: dict[str, threading.Lock] = {}
_compiling: dict[str, threading.Thread] = {}


def _forget_compiles_in_child() -> None:
    """A forked child has no compile thread: a key lock its parent's compile held stays held in the child's copy,
    so the child starts with none (`_lock` itself is never held across a compile)."""
    _key_locks.clear()
    _compiling.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_compiles_in_child)


def _key_lock(key: str) -> threading.Lock:
    """One lock per extension and platform: a compile of one never holds up a lookup of the other."""
    with _lock:
        return _key_locks.setdefault(key, threading.Lock())


def _compile_aside(key: str, spec: Callable[[], _Spec]) -> None:
    """Compile `key`'s extension into the current cache folder in a process of its own (`_compile_detached`),
    watched by a daemon thread of this one; once at a time."""
    root = cache_root()
    _why[key] = "it is being compiled in a process of its own (once per machine, about 15 s)"
    with _lock:
        running = _compiling.get(key)
        if running is not None and running.is_alive():
            return
        thread = threading.Thread(
            target=_compile_detached, args=(key, spec, root), name=f"meshlake-build-{key}", daemon=True
        )
        _compiling[key] = thread
        thread.start()


GAVE_WAY = 3
"""The exit status of `python -m meshlake.query.native.build` when another process holds the folder's compile
lock."""


def _compile_detached(key: str, spec: Callable[[], _Spec], root: Path | None) -> None:
    """Run `python -m meshlake.query.native.build ROOT` in a session of its own and take its result. The compile
    finishes even if this process exits first (a short command on a new machine still leaves the extension built
    for the next one); a compile that failed is not tried again by this process."""
    if root is None:
        _why[key] = f"meshlake's cache folder is off or not private ({CACHE_DIR_ENV}): nowhere to keep it"
        return
    command = [sys.executable, "-m", "meshlake.query.native.build", str(root)]
    attempt = f"{key}:{root}"
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=COMPILE_SECONDS + 60, start_new_session=True, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        _failed[attempt] = _why[key] = f"its compile could not be run ({exc})"
        return
    if done.returncode == GAVE_WAY:
        _why[key] = "another process is compiling it (connections opened after it finished will load it)"
        return
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        _failed[attempt] = _why[key] = tail[0]
        return
    with suppress(_NotBuiltError):
        _get(key, spec, compile=False, root=root)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m meshlake.query.native.build ROOT`: compile `meshlake_scan` into the cache folder ROOT, unless
    another process holds its compile lock (exit status `GAVE_WAY`); a failure's reason goes to stderr (status 1)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m meshlake.query.native.build CACHE_FOLDER", file=sys.stderr)
        return 2
    key = f"{SCAN_NAME}:{_platform()}"
    try:
        found = _get(key, _scan_spec, aside=True, root=Path(args[0]))
    except _NotBuiltError:
        return GAVE_WAY
    if found is None:
        print(_why.get(key, "it could not be compiled"), file=sys.stderr)
        return 1
    return 0


def unavailable_reason() -> str | None:
    """Why `extension_path()` gave None (None when it gave a path or was not asked)."""
    return _why.get(_platform())


def scan_unavailable_reason() -> str | None:
    """Why `scan_extension_path()` gave None (None when it gave a path or was not asked)."""
    return _why.get(f"{SCAN_NAME}:{_platform()}")


class _UnavailableError(Exception):
    """The extension cannot be built or trusted here (the message says why)."""


class _NotBuiltError(Exception):
    """The extension is not in the cache yet, and the caller does not wait for it to be compiled."""


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


def _compiler(variable: str, default: str) -> list[str]:
    return shlex.split(os.environ.get(variable) or default)


def _command(output: Path) -> list[str]:
    flags = ["-O3", "-std=c11", "-fPIC", "-shared", "-fvisibility=hidden", "-D_POSIX_C_SOURCE=200809L"]
    return [*_compiler("CC", "cc"), *flags, "-I", str(INCLUDE), "-o", str(output), str(SOURCE), "-lpthread"]


def _c_spec() -> _Spec:
    inputs = (SOURCE, INCLUDE / "duckdb.h", INCLUDE / "duckdb_extension.h")
    return _Spec(NAME, SOURCE, inputs, _command, C_API_VERSION, "C_STRUCT")


def _duckdb_library() -> Path:
    """The Python wheel's DuckDB library (`_duckdb`), which `meshlake_scan` links against: Python loads it with
    RTLD_LOCAL, so the extension finds DuckDB's C++ symbols only through its own reference to that very file."""
    import duckdb  # noqa: F401  (loads _duckdb)

    module = sys.modules.get("_duckdb") or sys.modules.get("duckdb.duckdb")
    location = getattr(module, "__file__", None)
    if not location or not Path(location).is_file():
        raise _UnavailableError("cannot find the DuckDB library of the duckdb package (_duckdb) to link against")
    return Path(location).resolve()


def _scan_command(output: Path) -> list[str]:
    flags = ["-O3", "-DNDEBUG", "-std=c++17", "-fPIC", "-shared"]
    compiler = _compiler("CXX", "c++")
    includes = ["-I", str(SCAN_INCLUDE), "-I", str(INCLUDE)]  # `duckdb.h`, the C API, is the C library's
    return [*compiler, *flags, *includes, "-o", str(output), str(SCAN_SOURCE), str(_duckdb_library())]


@functools.lru_cache(maxsize=1)
def _scan_headers() -> tuple[Path, ...]:
    return tuple(sorted(p for p in SCAN_INCLUDE.rglob("*") if p.is_file()))


def _scan_spec() -> _Spec:
    headers = (*_scan_headers(), INCLUDE / "duckdb.h")
    return _Spec(SCAN_NAME, SCAN_SOURCE, (SCAN_SOURCE, *headers), _scan_command, f"v{SCAN_DUCKDB_VERSION}", "CPP")


def _digest(platform: str, spec: _Spec) -> str:
    h = hashlib.sha256(_contents_digest(spec.inputs))
    h.update(" ".join(spec.command(Path("out"))).encode())
    h.update(platform.encode())
    h.update(f"{spec.version}:{spec.abi}".encode())
    return h.hexdigest()[:24]


@functools.lru_cache(maxsize=8)
def _contents_digest(inputs: tuple[Path, ...]) -> bytes:
    """The digest of the files' bytes, read once per process: `meshlake_scan`'s 354 headers take ~20 ms to hash,
    and a connection looks the extension up again until it is built."""
    h = hashlib.sha256()
    for part in inputs:
        h.update(part.read_bytes())
    return h.digest()


def cache_root() -> Path | None:
    """Where compiled extensions are kept: `duckdb/` in meshlake's cache folder (`MESHLAKE_CACHE_DIR`, else the XDG
    cache folder; `meshlake.catalog.disk_cache`); None when the caches are off or their folder is not private."""
    return cache_folder("duckdb")


def _build(platform: str, spec: _Spec, root: Path | None, *, compile: bool = True, aside: bool = False) -> Path:
    if sys.platform.startswith("win"):
        raise _UnavailableError("meshlake's DuckDB extensions are not built on Windows")
    if root is None:
        raise _UnavailableError(f"meshlake's cache folder is off or not private ({CACHE_DIR_ENV}): nowhere to keep it")
    folder = root / _digest(platform, spec)
    target = folder / f"{spec.name}.duckdb_extension"
    if target.exists():
        _check_private(folder)
        _check_private(target)
        return target
    if not compile:
        raise _NotBuiltError(spec.name)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise _UnavailableError(f"cannot create the extension cache {folder}: {exc}") from None
    _check_private(folder)
    with _compile_lock(folder / f".{spec.name}.lock", wait=not aside):
        if target.exists():  # compiled by the process that held the lock
            _check_private(target)
            return target
        _remove_stale(folder, spec.name)
        _compile_into(spec, folder, target)
    return target


@contextmanager
def _compile_lock(path: Path, *, wait: bool) -> Iterator[None]:
    """One compile of an extension at a time per folder, across processes (`flock`); `_NotBuiltError` when
    another process holds it and `wait` is false."""
    import fcntl

    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise _NotBuiltError(path.name) from None
        yield
    finally:
        os.close(descriptor)  # lets the lock go


def _compile_into(spec: _Spec, folder: Path, target: Path) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=f".{spec.name}-", suffix=".tmp")
    os.close(descriptor)
    partial = Path(temporary)
    try:
        command = spec.command(partial)
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=COMPILE_SECONDS, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise _UnavailableError(f"cannot run the compiler ({command[0]}): {exc}") from None
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
            raise _UnavailableError(f"the compiler failed ({command[0]}): {' | '.join(tail)}")
        with partial.open("ab") as out:
            out.write(metadata_footer(_duckdb_platform(), version=spec.version, abi=spec.abi))
        partial.chmod(0o600)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _remove_stale(folder: Path, name: str) -> None:
    """Remove temporary files of compiles that cannot still be running (a process that exited mid-compile leaves
    its compiler's output behind)."""
    import time

    for partial in folder.glob(f".{name}-*.tmp"):
        try:
            if time.time() - partial.stat().st_mtime > 2 * COMPILE_SECONDS:
                partial.unlink()
        except OSError:
            pass


def _check_private(path: Path) -> None:
    """Refuse a cached file or folder another user owns or may write (it could have been swapped for theirs)."""
    info = path.stat()
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise _UnavailableError(f"{path} belongs to another user: not loading it")
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise _UnavailableError(f"{path} is writable by other users: not loading it")


def metadata_footer(
    platform: str, *, version: str = C_API_VERSION, extension_version: str = "meshlake", abi: str = "C_STRUCT"
) -> bytes:
    """DuckDB's extension metadata: a WebAssembly-style custom section `duckdb_signature` holding eight 32-byte
    fields (written last to first) and an empty 256-byte signature (DuckDB's scripts/append_metadata.cmake).

    `abi` is `C_STRUCT` (the C extension API; `version` is its version) or `CPP` (DuckDB's C++ API; `version` is
    DuckDB's own, which must match the loading DuckDB's exactly)."""
    fields = ["4", platform, version, extension_version, abi, "", "", ""]

    def field(text: str) -> bytes:
        raw = text.encode()
        if len(raw) > 32:
            raise ValueError(f"metadata field too long: {text!r}")
        return raw.ljust(32, b"\0")

    header = b"\x00" + bytes([147, 4, 16]) + b"duckdb_signature" + bytes([128, 4])
    return header + b"".join(field(f) for f in reversed(fields)) + b"\0" * 256


if __name__ == "__main__":
    raise SystemExit(main())
