"""Building and trusting meshlake's DuckDB extension: the setting, the cache folder's permissions, the compiler.
Whenever the extension is not loaded, reads apply deletes in plain SQL and stay right."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import meshlake as ml
from meshlake.errors import ConfigError
from meshlake.query.native import build
from meshlake.query.native.masks import connect, loaded, native_mode
from meshlake.query.sql import scan_sql

from .conftest import current, forget_build, read, sorted_rows

PORT = "logistics.shipments.daily"


def reads_right_without_the_extension(lake: ml.Lake, port: Any) -> None:
    """`lake.duckdb()` gets a connection without the extension, whose views still apply the deletes."""
    con = lake.duckdb()
    assert not loaded(con)
    rows = read(con, f"SELECT * FROM {PORT}")
    assert rows == sorted_rows(port.table().scan().to_arrow()) and len(rows) == 1998


def built(cache: Path) -> Path:
    path = build.extension_path()
    if path is None:
        pytest.skip(f"meshlake's DuckDB extension cannot be built here: {build.unavailable_reason()}")
    assert path.is_relative_to(cache)
    return path


def test_a_setting_other_than_on_or_off_is_a_config_error(monkeypatch: pytest.MonkeyPatch, fresh_build: Path) -> None:
    monkeypatch.setenv("MESHLAKE_NATIVE_DELETES", "bogus")
    with pytest.raises(ConfigError, match="MESHLAKE_NATIVE_DELETES must be 'on', 'filter' or 'off', not 'bogus'"):
        connect()


def test_off_gives_connections_without_the_extension_that_read_right(
    monkeypatch: pytest.MonkeyPatch, shipments: ml.Lake, deleted: Any, fresh_build: Path
) -> None:
    monkeypatch.setenv("MESHLAKE_NATIVE_DELETES", "off")
    assert not loaded(connect())
    assert build.unavailable_reason() == "MESHLAKE_NATIVE_DELETES=off"
    assert not fresh_build.exists(), "nothing is compiled when the extension is off"
    reads_right_without_the_extension(shipments, deleted)


@pytest.mark.parametrize("writable", ["folder", "file"])
def test_a_cached_extension_others_may_write_is_not_loaded(
    monkeypatch: pytest.MonkeyPatch, shipments: ml.Lake, deleted: Any, fresh_build: Path, writable: str
) -> None:
    path = built(fresh_build)
    forget_build(monkeypatch)
    (path.parent if writable == "folder" else path).chmod(0o770 if writable == "folder" else 0o622)
    assert build.extension_path() is None
    assert build.unavailable_reason() == f"{path.parent if writable == 'folder' else path} is writable by other " \
        "users: not loading it"  # fmt: skip
    assert not loaded(connect())
    reads_right_without_the_extension(shipments, deleted)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="giving a file to another user needs root")
def test_a_cached_extension_another_user_owns_is_not_loaded(
    monkeypatch: pytest.MonkeyPatch, shipments: ml.Lake, deleted: Any, fresh_build: Path
) -> None:
    path = built(fresh_build)
    forget_build(monkeypatch)
    os.chown(path, os.getuid() + 4242, -1)
    assert build.extension_path() is None
    assert build.unavailable_reason() == f"{path} belongs to another user: not loading it"
    assert not loaded(connect())
    reads_right_without_the_extension(shipments, deleted)


@pytest.mark.parametrize(
    ("compiler", "reason"),
    [("/nonexistent/cc", "cannot run the compiler (/nonexistent/cc)"), ("false", "the compiler failed (false)")],
)
def test_without_a_working_compiler_the_extension_is_not_loaded(
    monkeypatch: pytest.MonkeyPatch,
    shipments: ml.Lake,
    deleted: Any,
    fresh_build: Path,
    compiler: str,
    reason: str,
) -> None:
    monkeypatch.setenv("CC", compiler)
    assert build.extension_path() is None
    assert (build.unavailable_reason() or "").startswith(reason)
    assert not loaded(connect())
    assert not list(fresh_build.rglob("*.duckdb_extension")) and not list(fresh_build.rglob("*.tmp"))
    reads_right_without_the_extension(shipments, deleted)


def test_a_cached_extension_is_reused_not_rebuilt(monkeypatch: pytest.MonkeyPatch, fresh_build: Path) -> None:
    path = built(fresh_build)
    made = path.stat().st_mtime_ns
    forget_build(monkeypatch)
    monkeypatch.setenv("CC", "/nonexistent/cc")  # a compile would fail; the digest covers the command, so keep it
    monkeypatch.setattr(build, "_digest", lambda platform, spec: path.parent.name)
    assert build.extension_path() == path and path.stat().st_mtime_ns == made
    assert oct(path.stat().st_mode & 0o777) == oct(0o600) and oct(path.parent.stat().st_mode & 0o777) == oct(0o700)


def scan_reads_right(shipments: ml.Lake, port: Any, expected: str) -> None:
    """A new connection applies deletes by `expected` (`scan` or `filter`), and `lake.duckdb()`'s views read right."""
    assert native_mode(connect()) == expected
    con = shipments.duckdb()
    assert native_mode(con) == expected
    rows = read(con, f"SELECT * FROM {PORT}")
    assert rows == sorted_rows(port.table().scan().to_arrow()) and len(rows) == 1998


def test_meshlake_scan_is_compiled_aside_into_the_cache_folder_while_connections_filter(
    monkeypatch: pytest.MonkeyPatch, shipments: ml.Lake, deleted: Any, fresh_build: Path
) -> None:
    """A connection opened while `meshlake_scan` is not in the cache does not wait ~15 s for its compile: it filters
    (the C extension), the compile runs in a process of its own (watched by a thread), and connections opened after
    it scan."""
    forget_build(monkeypatch, scan=True)
    con = connect()
    if build.scan_unavailable_reason() != "it is being compiled in a process of its own (once per machine, about 15 s)":
        pytest.skip(f"meshlake_scan cannot be built here: {build.scan_unavailable_reason()}")
    assert native_mode(con) == "filter"
    expected = sorted_rows(deleted.table().scan().to_arrow())
    assert read(con, scan_sql(current(deleted.table()), native="filter")) == expected
    [compiling] = build._compiling.values()
    assert native_mode(connect()) == "filter" and [*build._compiling.values()] == [compiling], "one compile at a time"
    path = build.scan_extension_path()  # waits for the compile under way
    assert path is not None, build.scan_unavailable_reason()
    assert path.is_relative_to(fresh_build) and path.name == "meshlake_scan.duckdb_extension"
    assert oct(path.stat().st_mode & 0o777) == oct(0o600) and oct(path.parent.stat().st_mode & 0o777) == oct(0o700)
    assert not list(path.parent.glob("*.tmp"))
    footer = path.read_bytes()[-512:]
    assert b"CPP" in footer and f"v{build.SCAN_DUCKDB_VERSION}".encode() in footer and b"C_STRUCT" not in footer
    scan_reads_right(shipments, deleted, "scan")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("filter", "MESHLAKE_NATIVE_DELETES=filter"),
        ("no C++ compiler", "the compiler failed (false)"),
        ("another DuckDB", "it is built for DuckDB 0.0.1's C++ API only, and this is DuckDB "),
    ],
)
def test_where_meshlake_scan_cannot_be_had_the_c_extension_filters(
    monkeypatch: pytest.MonkeyPatch, shipments: ml.Lake, deleted: Any, fresh_build: Path, change: str, reason: str
) -> None:
    forget_build(monkeypatch, scan=True)
    if change == "filter":
        monkeypatch.setenv("MESHLAKE_NATIVE_DELETES", "filter")
    elif change == "no C++ compiler":
        monkeypatch.setenv("CXX", "false")
    else:
        monkeypatch.setattr(build, "SCAN_DUCKDB_VERSION", "0.0.1")
    built(fresh_build)
    assert build.scan_extension_path() is None
    assert (build.scan_unavailable_reason() or "").startswith(reason)
    assert not list(fresh_build.rglob("meshlake_scan*"))
    scan_reads_right(shipments, deleted, "filter")


def test_a_compile_aside_leaves_the_folder_to_another_process_compiling_into_it(
    monkeypatch: pytest.MonkeyPatch, fresh_build: Path
) -> None:
    """Processes sharing a cache folder (a pool of workers reading) compile `meshlake_scan` once between them: a
    compile on a thread of its own gives up while another process holds the folder's compile lock."""
    import subprocess
    import sys

    forget_build(monkeypatch, scan=True)
    built(fresh_build)  # the C library, which the scan needs
    import duckdb

    if duckdb.__version__ != build.SCAN_DUCKDB_VERSION:
        pytest.skip(f"meshlake_scan is built for DuckDB {build.SCAN_DUCKDB_VERSION} only, not {duckdb.__version__}")
    root = build.cache_root()
    assert root is not None
    folder = root / build._digest(build._platform(), build._scan_spec())
    folder.mkdir(parents=True, mode=0o700)
    hold = (
        "import fcntl, os, sys; d = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600); "
        "fcntl.flock(d, fcntl.LOCK_EX); print('held', flush=True); sys.stdin.read()"
    )
    lock = str(folder / ".meshlake_scan.lock")
    # another process holding the lock, as one compiling would
    holder = subprocess.Popen(
        [sys.executable, "-c", hold, lock], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert native_mode(connect()) == "filter"
        [compiling] = build._compiling.values()
        compiling.join(timeout=60)
        assert not compiling.is_alive()
        assert build.scan_unavailable_reason() == (
            "another process is compiling it (connections opened after it finished will load it)"
        )
        assert not list(folder.glob("*.tmp")) and not (folder / "meshlake_scan.duckdb_extension").exists()
    finally:
        holder.communicate("", timeout=30)


def test_a_child_forked_while_a_compile_holds_its_lock_can_still_compile() -> None:
    """A child forked while a compile thread holds the extension's lock has no such thread: its copy of the lock
    would stay held forever, so it starts with fresh locks (`scan_extension_path()` would hang otherwise)."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork on this platform")
    key = f"{build.SCAN_NAME}:test"
    lock = build._key_lock(key)
    assert lock.acquire(timeout=5)  # as a compile on a thread of its own holds it
    try:
        with multiprocessing.get_context("fork").Pool(1) as pool:
            assert pool.apply(_takes_the_lock, (key,)) is True
    finally:
        lock.release()
        build._key_locks.pop(key, None)


def _takes_the_lock(key: str) -> bool:
    return build._key_lock(key).acquire(timeout=5)


def test_a_process_that_exits_before_the_compile_still_leaves_meshlake_scan_built(fresh_build: Path) -> None:
    """A short command on a new machine (one `meshlake sql`) starts the compile and exits at once: the compile runs
    in a session of its own and finishes anyway, so the next process loads `meshlake_scan`."""
    import subprocess
    import sys
    import time

    import duckdb

    if duckdb.__version__ != build.SCAN_DUCKDB_VERSION:
        pytest.skip(f"meshlake_scan is built for DuckDB {build.SCAN_DUCKDB_VERSION} only, not {duckdb.__version__}")
    code = (
        "from meshlake.query.native import build\n"
        "from meshlake.query.native.masks import connect, native_mode\n"
        "print(native_mode(connect()), build.scan_unavailable_reason())\n"
    )
    env = {**os.environ, "MESHLAKE_CACHE_DIR": str(fresh_build)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("filter it is being compiled in a process of its own"), done.stdout
    deadline = time.monotonic() + 150
    while not list(fresh_build.rglob("meshlake_scan.duckdb_extension")) and time.monotonic() < deadline:
        time.sleep(0.5)
    [built_scan] = fresh_build.rglob("meshlake_scan.duckdb_extension")
    after = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert after.stdout.split()[0] == "scan", after.stdout + after.stderr
    assert not list(built_scan.parent.glob("*.tmp"))
