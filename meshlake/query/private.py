"""Restricted reads: a private DuckDB database the caller never gets, streamed into the caller's connection.

A port the caller may read only in part (a row filter, masks), or whose files lie outside what the caller's
locked connection may open, is read by a separate `duckdb.connect()` that meshlake keeps to itself (external
access on, the object-store filesystems registered, the mask functions of `MeshAccess.prepare`). The caller's
connection gets an Arrow source per port (`con.register(name, source)`), and the port's view selects from it:

- binding a query asks the source only for its schema (`__arrow_c_schema__`: what the caller sees of the port,
  from table metadata; nothing is planned or read);
- running it asks for a stream, once per scan, with the columns the query needs and the filters DuckDB offers
  (`stream(columns, filters)`, DuckDB 2's source protocol): only then does the private database run the
  restricted SELECT — row filter first, masks after — narrowed to those columns and filtered by what it
  accepted (`meshlake.query.pushdown`), and the rows flow back as Arrow batches.

Without that protocol (another DuckDB build) the source is a plain object with `__arrow_c_stream__`, whose
reader starts the private query when the first batch is pulled (DuckDB may ask for streams it never reads).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from pyiceberg.io import FileIO
from pyiceberg.schema import Schema

from meshlake.query.access import MeshAccess
from meshlake.query.native.masks import connect, native_mode
from meshlake.query.plan import ScanPlan
from meshlake.query.pushdown import predicate_sql
from meshlake.query.sql import empty_relation, scan_sql
from meshlake.query.types import quote_ident

if TYPE_CHECKING:
    import duckdb

SALT_BYTES = 16
"""Bytes of a statement's `sha-256-query-local` salt (the specification asks for at least 16)."""
BATCH_ROWS = 16_384
"""Rows per Arrow batch handed over: small enough that a LIMIT stops the private query early."""


@dataclass(frozen=True)
class Served:
    """What a source serves: a port's address, and how to get its plan and its schema at the pinned snapshot."""

    address: str
    plan: Callable[[], tuple[ScanPlan, FileIO]]
    """The plan to read (planned at most once per snapshot) and the table's FileIO."""
    schema: Callable[[], Schema]
    """The snapshot's schema, from table metadata (nothing planned)."""
    contract: Callable[[], Schema]
    """The port's current schema (the rights name its columns), from table metadata."""
    salt: bytes | None = None
    """The `sha-256-query-local` salt of the one statement this source serves; None: a fresh salt per scan."""


class PrivateDatabase:
    """The DuckDB database restricted reads run in; nothing of it is reachable from the caller's connection."""

    def __init__(self, access: MeshAccess) -> None:
        self.access = access
        self.db = connect()
        self.native = native_mode(self.db)
        """Whether meshlake's DuckDB extension applies position deletes here (`meshlake.query.native`)."""
        self._lock = threading.Lock()
        self._schemas: dict[tuple[str, str, str], pa.Schema] = {}

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A connection to the private database with the mask functions registered."""
        cursor = self.db.cursor()
        self.access.prepare(cursor)
        return cursor

    def register_filesystems(self, plan: ScanPlan, io: FileIO) -> None:
        from meshlake.query.engine import register_filesystems

        with self._lock:
            register_filesystems(self.db, plan, io)

    def schema(self, address: str, schema: Schema, contract: Schema) -> pa.Schema:
        """The Arrow schema of what the caller sees of `address` when the port has `schema` (binds, reads nothing)."""
        key = (address, schema.model_dump_json(), contract.model_dump_json())
        known = self._schemas.get(key)
        if known is not None:
            return known
        sql = self.access.restrict(address, empty_relation(schema), schema, contract=contract)
        cursor = self.cursor()
        try:
            result: pa.Schema = cursor.sql(f"SELECT * FROM ({sql}) AS __ml_restricted LIMIT 0").to_arrow_table().schema
        finally:
            cursor.close()
        self._schemas[key] = result
        return result

    def reader(
        self, served: Served, columns: Sequence[str] | None, where: tuple[str, list[Any]] | None
    ) -> pa.RecordBatchReader:
        """The restricted rows of a port (only `columns`, only rows matching `where`), run when first pulled."""
        plan, io = served.plan()
        self.register_filesystems(plan, io)
        contract = served.contract()
        restricted = self.access.restrict(
            served.address, scan_sql(plan, native=self.native), plan.schema, contract=contract, salt=served.salt
        )
        full = self.schema(served.address, plan.schema, contract)
        wanted = list(columns) if columns is not None else full.names
        select = ", ".join(quote_ident(name) for name in wanted)
        text = f"SELECT {select} FROM ({restricted}) AS __ml_restricted"
        params: list[Any] = []
        if where is not None:
            text += f" WHERE {where[0]}"
            params = where[1]
        schema = pa.schema([full.field(name) for name in wanted])

        def batches() -> Iterator[pa.RecordBatch]:
            cursor = self.cursor()
            try:
                reader = cursor.sql(text, params=params or None).to_arrow_reader(BATCH_ROWS)
                for batch in reader:
                    yield batch if batch.schema.equals(schema) else _conformed(batch, schema)
            finally:
                cursor.close()

        return pa.RecordBatchReader.from_batches(schema, batches())


def _conformed(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(batch.columns, schema=schema)


def make_source(private: PrivateDatabase, served: Served, placeholder: Callable[[], bool]) -> object:
    """The Arrow source registered on the caller's connection for one port (see the module doc).

    While `placeholder()` is true (the views are being created) its schema is a one-column placeholder, so
    registering reads no table metadata.
    """
    return _source_class()(private, served, placeholder)


_PLACEHOLDER = pa.schema([pa.field("__ml_unplanned", pa.null())])


@cache
def _source_class() -> type[Any]:
    """The source class, on DuckDB 2's `ArrowScanSource` when this DuckDB has it (projection/filter pushdown)."""
    base: type[Any]
    try:
        from duckdb._sources import ArrowScanSource

        base = ArrowScanSource
    except ImportError:  # pragma: no cover - another DuckDB build: full streams, filters applied by DuckDB
        base = object

    class RestrictedSource(base):  # type: ignore[misc]
        """A port as the caller may see it; every stream runs a fresh restricted query in the private database."""

        schema_is_stable = False

        def __init__(self, private: PrivateDatabase, served: Served, placeholder: Callable[[], bool]) -> None:
            if base is not object:
                super().__init__(None)
            self._private = private
            self._served = served
            self._placeholder = placeholder

        def _schema(self) -> pa.Schema:
            if self._placeholder():
                return _PLACEHOLDER
            return self._private.schema(self._served.address, self._served.schema(), self._served.contract())

        def __arrow_c_schema__(self) -> object:
            return self._schema().__arrow_c_schema__()

        def __arrow_c_stream__(self, requested_schema: object = None) -> object:
            return self._private.reader(self._served, None, None).__arrow_c_stream__()

        def accepts(self, predicate: Any) -> bool:
            return predicate_sql(predicate, self._schema().names) is not None

        def stream(self, columns: Sequence[int] | None, filters: Sequence[Any]) -> tuple[object, bool]:
            names = self._schema().names
            chosen = None if columns is None or not columns else [names[i] for i in columns]
            where = None
            rendered = [predicate_sql(f, names) for f in filters]
            if rendered:
                if any(r is None for r in rendered):  # accepted before, so this cannot happen; never drop one
                    raise ValueError("a filter DuckDB handed over could not be rendered")
                where = (
                    " AND ".join(r[0] for r in rendered if r is not None),
                    [p for r in rendered if r is not None for p in r[1]],
                )
            reader = self._private.reader(self._served, chosen, where)
            return reader.__arrow_c_stream__(), chosen is not None

    return RestrictedSource
