"""Locking a caller's DuckDB connection to the files of the ports it may read as they are.

    lock_connection(con, ["/lake/warehouse/sales/orders/placed/data/"])

After the lock the connection reads files only under the given directories (DuckDB's `allowed_directories`;
its temporary directory is always allowed), with `enable_external_access=false` and `lock_configuration=true`:
`read_parquet`, `glob`, `read_text`, `read_csv`, `ATTACH`, `COPY … TO`, `INSTALL`/`LOAD` and `SET` of anything
but the harmless settings in `CHANGEABLE` fail for every other path, local or `s3://`, and nobody can undo
it on that connection. The directories are the data directories of the ports the caller reads unrestricted
(`table_directory`); every other port is served to it through a private database (`meshlake.query.private`).

What it does not stop: reading and writing files under the allowed directories (the caller may read those
ports' files anyway; `COPY … TO` there can add or, with OVERWRITE, replace files — on S3 the filesystem
meshlake registers on a locked connection is read-only, so it cannot).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from meshlake.errors import ConfigError
from meshlake.query.types import quote_literal

if TYPE_CHECKING:
    import duckdb

CHANGEABLE = (
    "TimeZone",
    "Calendar",
    "threads",
    "memory_limit",
    "schema",
    "search_path",
    "default_order",
    "default_null_order",
    "preserve_insertion_order",
    "enable_progress_bar",
    "enable_progress_bar_print",
    "progress_bar_time",
    "errors_as_json",
)
"""Settings a locked connection may still change: none of them reaches a file, an extension or the lock."""

_GLOB = frozenset("*?[]{}")


def lock_connection(con: duckdb.DuckDBPyConnection, directories: Iterable[str]) -> list[str]:
    """Allow `con` to read files only under `directories`, then lock its configuration; returns them.

    A connection whose configuration is locked already cannot be locked to these directories:
    `ConfigError` (open a new one, or let `lake.duckdb()` make it).
    """
    refuse_locked(con)
    allowed = sorted({_as_directory(d) for d in directories})
    listed = ", ".join(quote_literal(d) for d in allowed)
    changeable = ", ".join(quote_literal(name) for name in CHANGEABLE)
    con.execute(f"SET allowed_directories = [{listed}]")
    con.execute(f"SET allowed_configs = [{changeable}]")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return allowed


def refuse_locked(con: duckdb.DuckDBPyConnection) -> None:
    """`ConfigError` when `con`'s file access can no longer be narrowed to given directories.

    That is when its configuration is locked, or its external access is off already (DuckDB then refuses to
    change `allowed_directories`).
    """
    locked, external = _settings(con)
    if locked or not external:
        why = "configuration is locked" if locked else "external access is disabled already"
        raise ConfigError(
            f"this DuckDB connection's {why}, so meshlake cannot restrict it to the ports you may read; pass a "
            "connection with DuckDB's default settings, or call lake.duckdb() without one",
            key="con",
        )


def is_locked(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether `con`'s configuration is locked (`lock_configuration`)."""
    return _settings(con)[0]


def _settings(con: duckdb.DuckDBPyConnection) -> tuple[bool, bool]:
    """(`lock_configuration`, `enable_external_access`) of `con`."""
    rows = con.sql("SELECT current_setting('lock_configuration'), current_setting('enable_external_access')").fetchall()
    locked, external = rows[0]
    return str(locked).lower() == "true", str(external).lower() == "true"


def table_directory(metadata_location: str | None) -> str | None:
    """The data directory (`<table>/data/`) of a table whose metadata file is at `metadata_location`.

    None when the location does not have the standard layout (`<table>/metadata/<file>`) or holds characters
    DuckDB would read as a glob: such a port is served through the private database instead.
    """
    if not metadata_location:
        return None
    path = opened_path(metadata_location)
    parent, _, _file = path.rpartition("/")
    table, _, folder = parent.rpartition("/")
    if folder != "metadata" or not table or _GLOB & set(table) or "/../" in f"{table}/" or "/./" in f"{table}/":
        return None
    return f"{table}/data/"


def opened_path(location: str) -> str:
    """A file location as DuckDB opens it (local `file:` URIs as paths), without glob escaping."""
    if location.startswith("file://"):
        location = location[len("file://") :]
        return location[len("localhost") :] if location.startswith("localhost/") else location
    if location.startswith("file:/"):
        return location[len("file:") :]
    return location


def within(paths: Iterable[str], directories: Iterable[str]) -> bool:
    """Whether every file of `paths` lies under one of `directories` (as `lock_connection` allowed them)."""
    allowed = tuple(directories)
    for location in paths:
        path = opened_path(location)
        if _GLOB & set(path) or "/../" in path or "/./" in path or not path.startswith(allowed):
            return False
    return True


def _as_directory(path: str) -> str:
    return path if path.endswith("/") else path + "/"
