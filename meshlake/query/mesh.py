"""The mesh in DuckDB: every port of a lake as a view named by its address, planned on first use."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchNamespaceError
from pyiceberg.table import Table

from meshlake.catalog.storage import is_s3, register_s3
from meshlake.contract.address import NAME_PATTERN, Address
from meshlake.query.access import MeshAccess
from meshlake.query.read_log import ReadRecorder
from meshlake.query.timetravel import referenced_names
from meshlake.query.views import MeshViews, PortEntry

if TYPE_CHECKING:
    import duckdb


def port_entries(catalog: Catalog) -> list[PortEntry]:
    """Every table named like `domain.product.port`, with its metadata location when the catalog has it.

    A SQL catalog answers in one query; other catalogs are listed namespace by namespace.
    """
    if hasattr(catalog, "engine"):
        return _sql_entries(catalog)
    from meshlake.contract.registry import product_namespaces

    entries: list[PortEntry] = []
    for namespace in product_namespaces(catalog):
        try:
            identifiers = catalog.list_tables(namespace)
        except NoSuchNamespaceError:  # dropped while we listed
            continue
        for identifier in identifiers:
            entries.extend(_entry(tuple(identifier), None))
    return sorted(entries, key=lambda e: e.address)


def _sql_entries(catalog: Catalog) -> list[PortEntry]:
    from sqlalchemy import text

    query = text("SELECT table_namespace, table_name, metadata_location FROM iceberg_tables WHERE catalog_name = :name")
    with catalog.engine.connect() as connection:  # type: ignore[attr-defined]
        rows = connection.execute(query, {"name": catalog.name}).fetchall()
    entries: list[PortEntry] = []
    for namespace, name, location in rows:
        entries.extend(_entry((*str(namespace).split("."), str(name)), location))
    return sorted(entries, key=lambda e: e.address)


def _entry(identifier: tuple[str, ...], location: str | None) -> Iterable[PortEntry]:
    if len(identifier) == 3 and all(NAME_PATTERN.fullmatch(part) for part in identifier):
        yield PortEntry(".".join(identifier), location)


class MeshSession:
    """One DuckDB connection holding the mesh's views, kept fresh on demand.

    With `access` (a lake with a mesh policy) the views apply the caller's rights and the connection is locked
    (see `meshlake.query.views`); its S3 filesystem is then read-only.
    """

    def __init__(
        self,
        catalog: Catalog,
        con: duckdb.DuckDBPyConnection,
        *,
        as_of: datetime | None = None,
        access: MeshAccess | None = None,
        read_log: ReadRecorder | None = None,
        principal: str | None = None,
        held_by_connection: bool = True,
    ) -> None:
        self.catalog = catalog
        self.con = con
        self.access = access
        self.principal = principal
        """Who reads (named when the object store refuses a port's files to this process's credentials)."""
        self.views = MeshViews(
            con,
            ports=lambda: port_entries(catalog),
            load=self._load,
            as_of=as_of,
            access=access,
            read_log=read_log,
            held_by_connection=held_by_connection,
        ).attach()

    def _load(self, entry: PortEntry) -> Table:
        from meshlake.contract.registry import load_port_table

        table = load_port_table(self.catalog, Address.parse(entry.address), principal=self.principal)
        if is_s3(table.metadata.location):
            # Usually registered from the lake's settings already; a REST catalog may place tables on S3
            # with no S3 setting given (credentials from the environment or vended with the table).
            register_s3(self.con, table.io.properties, read_only=self.access is not None)
        return table

    def refresh(self, only: Iterable[str] | None = None) -> list[str]:
        """Re-plan only the ports whose metadata changed (and add new ports); returns their addresses.

        `only`: the addresses a query reads; see `MeshViews.refresh`.
        """
        return self.views.refresh(only)

    def refresh_for(self, query: str) -> list[str]:
        """`refresh` before running `query`: only the ports it references when that is known and cheaper."""
        if self.views.lists_locations:
            return self.refresh()  # one listing query finds every change: no need to parse the query
        names = referenced_names(query)
        addresses = None if names is None else {".".join(n) for n in names if len(n) == 3}
        return self.refresh(addresses)

    def sql(self, query: str) -> duckdb.DuckDBPyRelation:
        """Run DuckDB SQL; `AT (VERSION => …)` and `AT (TIMESTAMP => …)` on ports are resolved first."""
        return self.views.sql(query)

    def close(self) -> None:
        self.views.close()
