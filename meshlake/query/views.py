"""The lazy mesh: every port a DuckDB view named by its address, planned on first use.

    ATTACH ':memory:' AS "logistics";  CREATE SCHEMA "logistics"."shipments";
    CREATE VIEW "logistics"."shipments"."daily" AS SELECT * FROM query(ml_scan('logistics.shipments.daily'))

`ml_scan` is a Python scalar UDF without side effects, so DuckDB folds it while binding `query(...)`: the
port's table is loaded and its snapshot planned only when a query first uses the view, then cached. While
the views are being created the UDF returns a one-column placeholder, so attaching 1,000 ports reads no
table metadata at all (DuckDB 2.0 re-binds a view on every use and does not check it against the types it
had when created). `refresh()` re-plans only ports whose metadata location changed. With `as_of`, every view
reads the snapshot that was current at that instant; a port that did not exist then raises
`SnapshotNotFoundError` when a query uses it.

With an access object (`meshlake.query.access.MeshAccess`, a lake with a mesh policy) every port is decided
for the caller when the views are attached: a port it reads unrestricted is read in place as above; a port it
reads restricted (row filter, masks) — or whose files lie outside what the caller may open — is served from
a private database through an Arrow source registered on the connection (`meshlake.query.private`); a port
it may not read raises `AccessDeniedError` when a query uses it. Then the connection is locked to the data
directories of the ports read in place (`meshlake.query.lockdown`). `AT` clauses follow the same rules at the
snapshot they name. A `sql` statement draws one `sha-256-query-local` salt: its references to ports the caller
reads with such a hash are rewritten to sources of the statement's own, so all its scans hash alike.

DuckDB's catalog (`SHOW ALL TABLES`, `information_schema.columns`, `duckdb_columns()`) lists the columns a
view had when last bound, so before `sql` runs a statement that reads it, `describe` binds every view not
bound yet to its port's schema (table metadata only, nothing planned): the placeholder never shows.
"""

from __future__ import annotations

import atexit
import contextlib
import re
import secrets
import threading
import uuid
import weakref
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from pyiceberg.table import Table

from meshlake.contract.address import RELEASE_REF, Address, validate_release_range
from meshlake.errors import InvalidNameError, PortNotFoundError, SnapshotNotFoundError
from meshlake.query.access import MeshAccess, ReadMode
from meshlake.query.lockdown import lock_connection, table_directory, within
from meshlake.query.native.masks import masks, native_mode
from meshlake.query.plan import PlanCache, ScanPlan, cached_plan
from meshlake.query.sql import empty_relation, scan_sql
from meshlake.query.timetravel import AtSpec, rewrite
from meshlake.query.types import quote_ident, quote_literal

if TYPE_CHECKING:
    import duckdb
    from pyiceberg.io import FileIO
    from pyiceberg.schema import Schema

    from meshlake.query.plan import ScanPlan
    from meshlake.query.private import PrivateDatabase
    from meshlake.query.read_log import ReadRecorder

_T = TypeVar("_T")
FUNCTION = "ml_scan"
SOURCE_PREFIX = "__meshlake_"
"""Registered sources are named `__meshlake_<address>` (time travel: `__meshlake_<address>@<snapshot id>`; one
`sql` statement's: `__meshlake_<address>@<snapshot id>#<statement id>`)."""
TIME_TRAVEL_SOURCES = 64
"""How many `AT` sources of restricted ports a connection keeps registered (the oldest is dropped first)."""
STATEMENT_SOURCES = 256
"""How many statement sources (a restricted port salted for one `sql` statement) a connection keeps registered."""
_OPEN_AT_EXIT: weakref.WeakSet[MeshViews] = weakref.WeakSet()
"""Sessions with a Python UDF registered: an open connection holding one at interpreter exit makes nanobind
report leaks, so what is still alive then is closed (one exit hook for all, held weakly)."""


@atexit.register
def _close_open_sessions() -> None:
    for views in list(_OPEN_AT_EXIT):
        views.close()


_PLACEHOLDER = 'SELECT NULL AS "__ml_unplanned" WHERE false'
_READS_CATALOG = re.compile(
    r"\b(show|describe|summarize|information_schema|duckdb_(views|columns|tables)|pragma_\w+|table_info)\b",
    re.IGNORECASE,
)
"""Words of a statement that may list views with their columns (a false match only costs a `describe`)."""


@dataclass(frozen=True)
class _Statement:
    """A statement `MeshViews.sql` binds: its id, and the salt its `sha-256-query-local` hashes use."""

    id: str
    salt: bytes


@dataclass(frozen=True)
class PortEntry:
    """A port the mesh lists: its address and, when the catalog gives it cheaply, its metadata location."""

    address: str
    metadata_location: str | None = None


@dataclass
class _Port:
    entry: PortEntry
    table: Table | None = None
    sql: str | None = None
    plan: ScanPlan | None = None
    bound: bool = False
    """Whether DuckDB bound the view to the port since it was created, so its catalog shows the real columns."""
    mode: ReadMode | None = None
    """How the caller reads the port (with an access object): in place, or restricted; None: not decided."""
    denial: BaseException | None = None
    """Why the caller may not read the port at all (raised when a query uses it)."""
    local: bool | None = None
    """Whether every file of `plan` lies in a directory the locked connection may read (None: not checked)."""


class MeshViews:
    """Every port of the mesh as a view in one DuckDB connection, optionally frozen at one instant.

    >>> views = MeshViews(con, ports=lambda: [PortEntry("sales.orders.placed")], load=load).attach()
    >>> con.sql("SELECT count(*) FROM sales.orders.placed")
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        ports: Callable[[], Iterable[PortEntry]],
        load: Callable[[PortEntry], Table],
        *,
        as_of: datetime | None = None,
        plans: PlanCache | None = None,
        access: MeshAccess | None = None,
        read_log: ReadRecorder | None = None,
        held_by_connection: bool = True,
    ) -> None:
        if as_of is not None and as_of.tzinfo is None:
            raise InvalidNameError("as_of must be an aware datetime (give it a tzinfo, e.g. UTC)", name=str(as_of))
        self.con = con
        self.as_of = as_of
        self.held_by_connection = held_by_connection
        """Whether the connection keeps these views alive (one handed to a caller); False: whoever holds the
        views keeps them (the connection fails once they are gone)."""
        self._list_ports = ports
        self._load = load
        self._plans = plans
        self._ports: dict[str, _Port] = {}
        self._lock = threading.RLock()
        self._creating = False
        self._describing = False
        self._errors = threading.local()
        self._registered = False
        self.access = access
        self.allowed: tuple[str, ...] = ()
        """The directories the locked connection may read (with an access object), as DuckDB was told."""
        self._private: PrivateDatabase | None = None
        self._sources: dict[str, object] = {}
        self._time_travel: OrderedDict[tuple[str, int | None, str | None], str] = OrderedDict()
        self._statements: OrderedDict[tuple[str, int | None, str | None], str] = OrderedDict()
        self._read_log = read_log
        self._query = threading.local()
        """The `sql` statement being bound in this thread: `statement` (its id and `sha-256-query-local` salt) and,
        with a read log, `current` (its id and the reads logged for it)."""
        self.log_unbound_scans = True
        """Log scans outside `sql` too (statements run on the connection itself); False when only `sql` runs on it."""
        self._credits: Counter[tuple[str, int | None]] = Counter()
        """Scans `sql` bound and logged, which DuckDB repeats when it runs the statement: those are not logged again."""

    # -- building the views -------------------------------------------------------------------

    def attach(self) -> MeshViews:
        """Register `ml_scan` and create one view per listed port."""
        self._register()
        entries = self._list()
        with self._lock:
            self._ports = {e.address: _Port(e) for e in entries}
        self._create(entries)
        if self.access is not None:
            self._guard(entries)
            self.allowed = tuple(lock_connection(self.con, self._in_place_directories()))
        return self

    def refresh(self, only: Iterable[str] | None = None) -> list[str]:
        """Pick up new, changed and removed ports; returns the addresses whose views changed.

        With `only` (the addresses a query is about to read) and a catalog that does not list metadata
        locations in one query (REST), just those ports are checked, one table load each, instead of
        listing the whole mesh; an address not attached yet still lists it, to find the new port.
        """
        if only is not None:
            quick = self._refresh_known(set(only))
            if quick is not None:
                return quick
        entries = {e.address: e for e in self._list()}
        changed: list[str] = []
        with self._lock:
            for address in [a for a in self._ports if a not in entries]:
                del self._ports[address]
                self.con.execute(f"DROP VIEW IF EXISTS {_qualified(address)}")
                self._drop_source(address)
                changed.append(address)
            new = [e for a, e in entries.items() if a not in self._ports]
            for address, entry in entries.items():
                port = self._ports.get(address)
                if port is not None and self._moved(port, entry):
                    self._ports[address] = _Port(entry, mode=port.mode, denial=port.denial)
                    changed.append(address)
            for entry in new:
                self._ports[entry.address] = _Port(entry)
        self._create(new)
        if self.access is not None:
            self._guard(new)  # files of new ports are outside the locked directories: served privately
        return changed + [e.address for e in new]

    def _refresh_known(self, wanted: set[str]) -> list[str] | None:
        """`refresh` of attached ports whose entries carry no metadata location; None: list the mesh instead."""
        if self.lists_locations:
            return None
        with self._lock:
            ports = {a: self._ports.get(a) for a in wanted}
        if any(p is None for p in ports.values()):
            return None
        changed: list[str] = []
        for address, port in ports.items():
            assert port is not None
            if port.table is None:
                continue  # never used: planned on first use anyway
            try:
                table = self._load(port.entry)
            except Exception:  # dropped, or the catalog cannot say: the full listing decides
                return None
            if table.metadata_location != port.table.metadata_location:
                with self._lock:
                    self._ports[address] = _Port(port.entry, table=table, mode=port.mode, denial=port.denial)
                changed.append(address)
        return changed

    def close(self) -> None:
        """Unregister `ml_scan` (the views stay, but fail until `attach()` is called again).

        With an access object the private database is closed too (restricted ports fail likewise).
        """
        if self._registered:
            self._registered = False
            with contextlib.suppress(Exception):  # the connection may be closed already
                self.con.remove_function(FUNCTION)
        if self._private is not None:
            private, self._private = self._private, None
            with contextlib.suppress(Exception):
                private.db.close()

    @property
    def lists_locations(self) -> bool:
        """Whether the mesh's listing carries metadata locations (a SQL catalog: one query finds every change)."""
        with self._lock:
            return any(p.entry.metadata_location is not None for p in self._ports.values())

    @property
    def addresses(self) -> list[str]:
        return sorted(self._ports)

    # -- reading ---------------------------------------------------------------------------------

    def relation(self, address: str, at: AtSpec | None = None) -> str:
        """The relation SQL for a port: at `at`, else at the session's pinned snapshot (files read in place)."""
        port = self._port(address)
        if at is None and port.sql is not None and masks.holds(port.sql):
            return port.sql
        plan, _ = self._planned(port, at)
        sql = scan_sql(plan, native=native_mode(self.con))
        if at is None:
            port.sql = sql
        return sql

    def readable(self, address: str, at: AtSpec | None = None, *, statement: _Statement | None = None) -> str:
        """What the caller's connection reads for a port: its relation in place, or its restricted source.

        Raises the port's denial when the caller may not read it. Without an access object: `relation`. With a
        `statement`, a restricted port is served by a source of its own, hashing with the statement's salt.
        """
        if self.access is None:
            return self.relation(address, at)
        port = self._port(address)
        mode = self._mode(port)
        if mode == "in_place":
            plan, _ = self._planned(port, at)
            local = port.local if at is None else None
            if local is None:
                local = bool(self.allowed) and within(_plan_files(plan), self.allowed)
                if at is None:
                    port.local = local
            if local:
                return self.relation(address, at)
        plan, table = self._planned(port, at)  # plan now: planning errors surface here, not in the stream
        assert self._private is not None
        self._private.schema(address, plan.schema, table.schema())  # and those of the restriction
        if at is None and statement is None:
            return f"SELECT * FROM {quote_ident(SOURCE_PREFIX + address)}"
        return f"SELECT * FROM {quote_ident(self._pinned_source(port, at, statement))}"

    def resolve(self, parts: tuple[str, ...], at: AtSpec | None) -> str | None:
        """A `timetravel.Resolve`: AT clauses on known ports become pinned relations, and so does every reference
        of a `sql` statement to a port the caller reads with a query-local hash (all of the statement's scans of
        it then hash with one salt)."""
        address = ".".join(parts)
        if address not in self._ports:
            return None
        statement = self._salting(address)
        if at is None and statement is None:
            return None
        return self._read(address, at, scan=False, statement=statement)

    def _salting(self, address: str) -> _Statement | None:
        """The `sql` statement being bound, when the caller reads `address` restricted with a query-local hash."""
        statement: _Statement | None = getattr(self._query, "statement", None)
        if statement is None or self.access is None:
            return None
        try:
            restricted = self._mode(self._port(address)) == "restricted"
        except Exception:  # denied: the view raises it when the statement uses it
            return None
        return statement if restricted and self.access.salted(address) else None

    def describe(self) -> None:
        """Bind every view not bound yet to its port's schema, so that DuckDB's catalog lists the real columns.

        Loads each such port's table metadata; plans nothing. A port that cannot be loaded keeps the placeholder.
        """
        import duckdb

        with self._lock:
            pending = [address for address, port in self._ports.items() if not port.bound]
            if not pending:
                return
            self._describing = True
            try:
                for address in pending:
                    with contextlib.suppress(duckdb.Error):
                        self.con.execute(f"SELECT * FROM {_qualified(address)} LIMIT 0")
            finally:
                self._describing = False
                self._errors.last = None

    def sql(self, query: str, params: object = None) -> duckdb.DuckDBPyRelation:
        """Run `query` on the connection, with `AT (VERSION => …)` / `AT (TIMESTAMP => …)` on ports.

        The statement gets one `sha-256-query-local` salt: every scan of a port it reads (a self-join included)
        hashes with it, however often the statement runs.
        """
        from meshlake.query.private import SALT_BYTES

        statement = _Statement(uuid.uuid4().hex, secrets.token_bytes(SALT_BYTES))
        self._query.statement = statement
        if self._read_log is not None:
            self._query.current = (statement.id, set())  # the reads it binds are logged once, with this id
        try:
            return self._sql(query, params)
        finally:
            self._query.current = None
            self._query.statement = None

    def _sql(self, query: str, params: object) -> duckdb.DuckDBPyRelation:
        import duckdb

        if _READS_CATALOG.search(query):
            self.describe()
        text = rewrite(query, self.resolve, con=self.con)
        self._errors.last = None
        try:
            return self.con.sql(text, params=params)
        except duckdb.Error as exc:
            error: BaseException | None = getattr(self._errors, "last", None)
            self._errors.last = None
            if error is not None:
                raise error from exc
            raise

    # -- internals -------------------------------------------------------------------------------

    def _register(self) -> None:
        import duckdb

        if self._registered:
            return
        with contextlib.suppress(duckdb.Error):  # a previous MeshViews on this connection
            self.con.remove_function(FUNCTION)
        me = weakref.ref(self)
        # DuckDB holds the UDF where Python's collector cannot see it: holding these views from there keeps
        # them, their connection and the lake alive for the life of the process. A connection handed to the
        # caller must keep its views (`held_by_connection`); the lake's own connection holds them weakly.
        held = self if self.held_by_connection else None

        def scan(address: str) -> str:
            views = held or me()
            if views is None:
                raise InvalidNameError("the mesh session was closed; connect again", name=address)
            return views._scan(address)

        self.con.create_function(FUNCTION, scan, ["VARCHAR"], "VARCHAR", side_effects=False)
        self._registered = True
        _OPEN_AT_EXIT.add(self)

    def _list(self) -> list[PortEntry]:
        entries = list(self._list_ports())
        for entry in entries:
            Address.parse(entry.address)  # refuse anything that is not domain.product.port
        return entries

    def _create(self, entries: Iterable[PortEntry]) -> None:
        entries = list(entries)
        if not entries:
            return
        known = {row[0] for row in self.con.execute("SELECT database_name FROM duckdb_databases()").fetchall()}
        statements: list[str] = []
        schemas: set[tuple[str, str]] = set()
        for entry in entries:
            address = Address.parse(entry.address)
            if address.domain not in known:
                statements.append(f"ATTACH ':memory:' AS {quote_ident(address.domain)}")
                known.add(address.domain)
            if (address.domain, address.product) not in schemas:
                schemas.add((address.domain, address.product))
                schema = f"{quote_ident(address.domain)}.{quote_ident(address.product)}"
                statements.append(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            statements.append(
                f"CREATE OR REPLACE VIEW {_qualified(entry.address)} AS "
                f"SELECT * FROM query({FUNCTION}({quote_literal(entry.address)}))"
            )
        with self._lock:
            self._creating = True
            try:
                self.con.execute(";\n".join(statements))
            finally:
                self._creating = False

    def _scan(self, address: str) -> str:
        """The UDF: the relation SQL of a port (a placeholder while views are being created)."""
        if self._creating:
            return _PLACEHOLDER
        try:
            port = self._port(address)
            if self.access is not None and self._describing and port.sql is None:
                # Columns for DuckDB's catalog only, from table metadata: a denied port shows its (published)
                # columns, a restricted one its source's (what the caller sees); nothing is planned or read.
                mode = None if port.denial is not None else self._mode(port)
                if mode == "restricted":
                    sql = f"SELECT * FROM {quote_ident(SOURCE_PREFIX + address)}"
                else:
                    sql = empty_relation(self._snapshot_schema(port))
            elif self._describing and port.sql is None:
                sql = empty_relation(self._table(port).schema())
            else:
                sql = self._read(address, None, scan=True)
            port.bound = True
            return sql
        except BaseException as exc:
            self._errors.last = exc
            raise

    def _read(self, address: str, at: AtSpec | None, *, scan: bool, statement: _Statement | None = None) -> str:
        """`readable`, reported to the access log (a `scan` is a use of the view; False: bound by `sql`)."""
        sql = self.readable(address, at, statement=statement)
        if self._read_log is not None and not self._describing:
            plan, _ = self._planned(self._port(address), at)
            self._log_read(address, plan, scan=scan)
        return sql

    def _log_read(self, address: str, plan: ScanPlan, *, scan: bool) -> None:
        """Report a read to the access log: once per port and snapshot in a `sql` statement (path `sql`, with
        its id), and each scan of statements run on the connection itself (path `duckdb`).

        DuckDB binds a statement when `sql` is called and again each time it runs. The first run's scans of a
        statement `sql` logged are not logged again (each bound `scan` leaves a credit that one later scan of
        the same port and snapshot takes); later runs are. On a connection only `sql` uses
        (`log_unbound_scans=False`) nothing else is logged.
        """
        if self._read_log is None:
            return
        key = (address, plan.snapshot_id)
        query: tuple[str, set[tuple[str, int | None]]] | None = getattr(self._query, "current", None)
        if query is None:
            if self.log_unbound_scans and not self._take_credit(key):
                self._read_log(address, plan.snapshot_id, _columns(plan), path="duckdb")
            return
        query_id, logged = query
        if scan and self.log_unbound_scans:
            with self._lock:
                self._credits[key] += 1
        if key not in logged:
            logged.add(key)
            self._read_log(address, plan.snapshot_id, _columns(plan), path="sql", query_id=query_id)

    def _take_credit(self, key: tuple[str, int | None]) -> bool:
        with self._lock:
            if self._credits[key] <= 0:
                return False
            self._credits[key] -= 1
            return True

    def _port(self, address: str) -> _Port:
        port = self._ports.get(address)
        if port is None:
            raise PortNotFoundError(address, sorted(self._ports)[:20])
        return port

    def _table(self, port: _Port) -> Table:
        with self._lock:
            if port.table is None:
                port.table = self._load(port.entry)
            return port.table

    def _planned(self, port: _Port, at: AtSpec | None) -> tuple[ScanPlan, Table]:
        """The plan a port is read with (at `at`, else at the session's pinned snapshot) and its table."""
        address = port.entry.address
        if at is None and port.plan is not None:
            return port.plan, self._table(port)
        table = self._table(port)
        try:
            snapshot_id = _snapshot_for(table, address, at, self.as_of)
        except SnapshotNotFoundError:
            if at is None:
                raise
            # The view is pinned to the metadata it first loaded; an AT clause may name a newer snapshot.
            table = self._load(port.entry)
            snapshot_id = _snapshot_for(table, address, at, self.as_of)
        plan = self._plans.get(table, snapshot_id) if self._plans else cached_plan(table, snapshot_id)
        if at is None:
            port.plan = plan
        return plan, table

    def _snapshot_schema(self, port: _Port) -> Schema:
        """The schema of the snapshot the view reads, from table metadata (nothing planned)."""
        if port.plan is not None:
            return port.plan.schema
        table = self._table(port)
        snapshot_id = _snapshot_for(table, port.entry.address, None, self.as_of)
        snapshot = table.metadata.snapshot_by_id(snapshot_id) if snapshot_id is not None else None
        schema = (
            table.metadata.schema_by_id(snapshot.schema_id) if snapshot and snapshot.schema_id is not None else None
        )
        return schema or table.metadata.schema()

    # -- access (only with an access object) ----------------------------------------------------------

    def _mode(self, port: _Port) -> ReadMode:
        """How the caller reads `port`; raises its denial."""
        if port.denial is not None:
            raise port.denial
        if port.mode is None:
            assert self.access is not None
            try:
                port.mode = self.access.mode(port.entry.address)
            except Exception as exc:
                port.denial = exc
                raise
        return port.mode

    def _guard(self, entries: Iterable[PortEntry]) -> None:
        """Decide each port for the caller and register the Arrow source restricted reads go through."""
        from meshlake.query.private import PrivateDatabase, Served, make_source

        assert self.access is not None
        if self._private is None:
            self._private = PrivateDatabase(self.access)
        for entry in entries:
            port = self._ports.get(entry.address)
            if port is None:
                continue
            with contextlib.suppress(Exception):  # a denial is kept on the port and raised when it is used
                self._mode(port)
            if port.denial is not None:
                continue
            served = Served(
                entry.address,
                self._served_plan(entry.address),
                self._served_schema(entry.address),
                self._served_contract(entry.address),
            )
            creating = _weakly(self, lambda views: views._creating)
            self._register_source(SOURCE_PREFIX + entry.address, make_source(self._private, served, creating))

    def _served_plan(self, address: str) -> Callable[[], tuple[ScanPlan, FileIO]]:
        def plan(views: MeshViews) -> tuple[ScanPlan, FileIO]:
            port = views._port(address)
            views._mode(port)  # a source is read directly too: never serve a port the caller may not read
            planned, table = views._planned(port, None)
            return planned, table.io

        return _weakly(self, plan)

    def _served_schema(self, address: str) -> Callable[[], Schema]:
        return _weakly(self, lambda views: views._snapshot_schema(views._port(address)))

    def _served_contract(self, address: str) -> Callable[[], Schema]:
        return _weakly(self, lambda views: views._table(views._port(address)).schema())

    def _pinned_source(self, port: _Port, at: AtSpec | None, statement: _Statement | None) -> str:
        """The name of a source serving `port` restricted at the snapshot `at` names (else the view's), for one
        `statement` (with its salt) or any; registered on first use, the least recently used dropped first."""
        from meshlake.query.private import Served, make_source

        assert self._private is not None
        plan, table = self._planned(port, at)
        key = (port.entry.address, plan.snapshot_id, statement.id if statement else None)
        kept, limit = (self._statements, STATEMENT_SOURCES) if statement else (self._time_travel, TIME_TRAVEL_SOURCES)
        with self._lock:
            name = kept.get(key)
            if name is not None:
                kept.move_to_end(key)
                return name
            name = f"{SOURCE_PREFIX}{port.entry.address}@{plan.snapshot_id}" + (f"#{key[2]}" if statement else "")
            served = Served(
                port.entry.address,
                lambda: (plan, table.io),
                lambda: plan.schema,
                table.schema,
                salt=statement.salt if statement else None,
            )
            self._register_source(name, make_source(self._private, served, lambda: False))
            kept[key] = name
            while len(kept) > limit:
                _, oldest = kept.popitem(last=False)
                self._unregister_source(oldest)
        return name

    def _register_source(self, name: str, source: object) -> None:
        with self._lock:
            self._creating = True
            try:
                self.con.register(name, source)
            finally:
                self._creating = False
            self._sources[name] = source

    def _unregister_source(self, name: str) -> None:
        import duckdb

        with self._lock:
            if self._sources.pop(name, None) is not None:
                with contextlib.suppress(duckdb.Error):
                    self.con.unregister(name)

    def _drop_source(self, address: str) -> None:
        for name in [
            n for n in self._sources if n == SOURCE_PREFIX + address or n.startswith(f"{SOURCE_PREFIX}{address}@")
        ]:
            self._unregister_source(name)
        for kept in (self._time_travel, self._statements):
            for key in [k for k in kept if k[0] == address]:
                del kept[key]

    def _in_place_directories(self) -> list[str]:
        """The data directories of the ports the caller reads in place (none shared with any other port)."""
        allowed: set[str] = set()
        others: set[str] = set()
        for port in self._ports.values():
            directory = table_directory(port.entry.metadata_location)
            if directory is None:
                continue
            (allowed if port.mode == "in_place" else others).add(directory)
        return sorted(d for d in allowed if not any(d.startswith(o) or o.startswith(d) for o in others))

    def _moved(self, port: _Port, entry: PortEntry) -> bool:
        if entry.metadata_location is not None:
            return entry.metadata_location != port.entry.metadata_location
        if port.table is None:  # never used: nothing planned to invalidate
            return False
        return self._load(entry).metadata_location != port.table.metadata_location


def _plan_files(plan: ScanPlan) -> list[str]:
    """Every file a plan reads: data files and their delete files."""
    files = [task.path for task in plan.tasks]
    files += [d.path for task in plan.tasks for d in (*task.position_deletes, *task.equality_deletes)]
    return files


def _columns(plan: ScanPlan) -> list[str]:
    return [column.name for column in plan.schema.fields]


def _qualified(address: str) -> str:
    parsed = Address.parse(address)
    return ".".join(quote_ident(p) for p in (parsed.domain, parsed.product, parsed.port))


def _snapshot_for(table: Table, address: str, at: AtSpec | None, as_of: datetime | None) -> int | None:
    """The snapshot id an AT clause (or the session's `as_of`, or `main`) selects; None for an empty table."""
    if at is not None and at.version is not None:
        version = at.version
        if isinstance(version, str) and version.startswith(RELEASE_REF):
            from meshlake.contract.releases import release_snapshot

            spec = validate_release_range(version[len(RELEASE_REF) :])
            version = release_snapshot(table.catalog, Address.parse(address), spec)[1]
        snapshot = table.snapshot_by_id(version) if isinstance(version, int) else table.snapshot_by_name(version)
        if snapshot is None:
            raise SnapshotNotFoundError(address, str(version), exists=describe_history(table))
        return snapshot.snapshot_id
    instant = at.timestamp if at is not None else as_of
    if instant is None:
        current = table.current_snapshot()
        return current.snapshot_id if current is not None else None
    snapshot = table.snapshot_as_of_timestamp(int(instant.timestamp() * 1000))
    if snapshot is not None:
        return snapshot.snapshot_id
    if _created_ms(table) <= instant.timestamp() * 1000:
        return None  # the table existed, but had no data yet
    raise SnapshotNotFoundError(address, instant.isoformat(), exists=describe_history(table))


def _created_ms(table: Table) -> float:
    log = table.metadata.metadata_log
    return float(log[0].timestamp_ms if log else table.metadata.last_updated_ms)


def describe_history(table: Table) -> str:
    """A short account of what a table's history offers, for `SnapshotNotFoundError` messages."""
    snapshots = table.snapshots()
    refs = sorted(table.metadata.refs)
    if not snapshots:
        return "It has no snapshot yet."
    first = datetime.fromtimestamp(snapshots[0].timestamp_ms / 1000).astimezone().isoformat()
    last = datetime.fromtimestamp(snapshots[-1].timestamp_ms / 1000).astimezone().isoformat()
    named = ", ".join(refs) or "none"
    return f"It has {len(snapshots)} snapshots, from {first} to {last}; tags and branches: {named}."


def _weakly(views: MeshViews, call: Callable[[MeshViews], _T]) -> Callable[[], _T]:
    """`call(views)` as a function holding `views` weakly: what is registered on the connection lives inside
    DuckDB, where Python's collector cannot see it, so a strong reference would keep the views, their
    connection and the lake alive for the life of the process."""
    me = weakref.ref(views)

    def bound() -> _T:
        alive = me()
        if alive is None:
            raise InvalidNameError("the mesh session was closed; connect again", name=FUNCTION)
        return call(alive)

    return bound
