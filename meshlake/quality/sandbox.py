"""The sandbox SQL expectations run in: a DuckDB database of their own that can read the batch and nothing else.

`unexpected_rows_query` is checked before it runs (`meshlake.contract.expectation_sql`); the sandbox is the
second wall, should a query that ought not to ever pass that check. Its database:

* reads only the batch's files: `allowed_paths` is exactly the staged snapshot's data and delete files, then
  `enable_external_access = false`, so no other file or URL, no `COPY`, `ATTACH`, `INSTALL` or `LOAD`;
  a batch already in memory (`in_memory`) leaves no file readable at all;
* cannot be reconfigured by what runs in it (`lock_configuration`), resolves no Python variable by name
  (`python_enable_replacements = false`), autoloads no extension, and spills to a private temporary folder;
* holds one relation, `__meshlake_batch` (what `{batch}` names), and nothing else of the process: no other
  port, no quality history, no registered secret or function.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from meshlake.contract.expectation_sql import BATCH
from meshlake.query.sql import duckdb_path
from meshlake.query.types import quote_literal

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

Prepare = Callable[["duckdb.DuckDBPyConnection"], object]


@contextmanager
def on_files(
    relation_sql: str, paths: Sequence[str], prepare: Prepare | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A sandbox whose `__meshlake_batch` is `relation_sql`, which reads `paths` (and may read nothing else).

    `prepare` runs before access is locked down, e.g. to register the filesystems the paths are on.
    """
    with _sandbox(_allowed(paths), prepare) as con:
        con.execute(f"CREATE TEMP VIEW {BATCH} AS SELECT * FROM {relation_sql} AS __batch")
        con.execute("SET lock_configuration = true")
        yield con


@contextmanager
def in_memory(table: pa.Table) -> Iterator[duckdb.DuckDBPyConnection]:
    """A sandbox whose `__meshlake_batch` is an Arrow table; it can read no file at all."""
    with _sandbox([], None) as con:
        con.register(BATCH, table)
        con.execute("SET lock_configuration = true")
        yield con


@contextmanager
def _sandbox(allowed: Sequence[str], prepare: Prepare | None) -> Iterator[duckdb.DuckDBPyConnection]:
    import duckdb

    spill = tempfile.mkdtemp(prefix="meshlake-sandbox-")
    con = duckdb.connect(config={"autoload_known_extensions": False, "autoinstall_known_extensions": False})
    try:
        if prepare is not None:
            prepare(con)
        con.execute(f"SET temp_directory = {quote_literal(spill)}")
        con.execute(f"SET allowed_paths = [{', '.join(quote_literal(p) for p in allowed)}]")
        con.execute("SET allowed_directories = []")
        con.execute("SET enable_external_access = false")
        con.execute("SET python_enable_replacements = false")
        yield con
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)


_ESCAPED = re.compile(r"\[([\[*?])\]")


def _allowed(paths: Sequence[str]) -> list[str]:
    """Each file as DuckDB is asked to read it (glob characters escaped) and as it opens it (unescaped)."""
    allowed: list[str] = []
    for path in paths:
        escaped = duckdb_path(path)
        allowed += [escaped, _ESCAPED.sub(r"\1", escaped)]
    return sorted(set(allowed))
