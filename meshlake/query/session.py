"""DuckDB connections for library work (quality checks, the key lookups of merge-on-read writes), reused.

Opening a DuckDB database costs about 12 ms and closing it 3 ms: more than checking a 1,000-row append, or a
fifth of a merge-on-read upsert of 10,000 rows into a million. So that work shares one in-memory database per
process and storage configuration (the FileIO properties: the filesystems registered on a database serve all
its connections, and one reads a single S3 service), and each use takes a cursor of it (a connection of its
own, cheap, safe to use from its thread; what it registers is its own). Nothing a use creates outlives it except
the regex function of quality checks (`meshlake_re_search`) and registered filesystems. A database whose use
ended in an error that is not DuckDB's own (an interrupt, say) is dropped.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from pyiceberg.io import FileIO

from meshlake.query.plan import ScanPlan

if TYPE_CHECKING:
    import duckdb

MAX_DATABASES = 8

_Key = tuple[tuple[str, str], ...]
_lock = threading.Lock()
_databases: OrderedDict[_Key, duckdb.DuckDBPyConnection] = OrderedDict()
_owner = [os.getpid()]
"""The process the databases belong to."""
_inherited: list[duckdb.DuckDBPyConnection] = []
"""A forked child's copies of its parent's databases: kept, never used nor closed (DuckDB is not fork-safe:
closing one in the child joins threads the child does not have, and crashes it)."""


@contextmanager
def connection(plan: ScanPlan, io: FileIO) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection that reads `plan`'s files (filesystems registered), for one check or lookup."""
    import duckdb

    from meshlake.query.engine import register_filesystems

    key = tuple(sorted({**plan.io_properties, **io.properties}.items()))
    with _lock:
        database = _database(key)
        cursor = database.cursor()
    try:
        with _lock:
            register_filesystems(cursor, plan, io)  # registered on the database, once
        yield cursor
    except duckdb.Error:
        raise
    except BaseException:
        with _lock:
            if _databases.get(key) is database:
                del _databases[key]
        raise
    finally:
        cursor.close()


def clear() -> None:
    """Forget the shared databases (they close once no check uses them)."""
    with _lock:
        _databases.clear()


def _database(key: _Key) -> duckdb.DuckDBPyConnection:
    import duckdb

    if os.getpid() != _owner[0]:  # a forked child (not through os.fork: `_forget_in_child` ran) never touches them
        _forget_in_child()
    database = _databases.get(key)
    if database is None:
        database = duckdb.connect()
        # Data files never change once written: their footers are cached across uses. This is library work: no
        # progress bar on the user's terminal.
        database.execute("SET parquet_metadata_cache = true; SET enable_progress_bar = false")
        _databases[key] = database
        while len(_databases) > MAX_DATABASES:
            _databases.popitem(last=False)
    _databases.move_to_end(key)
    return database


def _forget_in_child() -> None:
    """In a forked child: the parent's databases set aside (not closed: see `_inherited`), the lock anew."""
    global _lock  # noqa: PLW0603 -- a lock a parent thread held at the fork stays held in the child
    _lock = threading.Lock()
    _inherited.extend(_databases.values())
    _databases.clear()
    _owner[0] = os.getpid()


os.register_at_fork(after_in_child=_forget_in_child)
