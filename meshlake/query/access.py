"""The seam between the mesh's views and access control: what the caller may read, asked port by port.

`meshlake.access` (a higher layer) implements `MeshAccess`; the query layer never imports it. A mesh without
an access object (a lake without a mesh policy) reads every port in place and locks nothing.

For each port the access object says one of:

- `in_place`: the caller reads the port as it is (an owner, a mesh admin, or no mask and no row filter apply),
  so its view reads the Parquet files in place, as without a policy;
- `restricted`: the caller sees what `restrict` selects over the port's relation (row filter first, masks
  after), computed in a private database the caller never gets (`meshlake.query.private`);
- or it raises (`AccessDeniedError`, naming principal, port and the missing grant) when the caller may not
  read the port at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    import duckdb
    from pyiceberg.schema import Schema

ReadMode = Literal["in_place", "restricted"]


class MeshAccess(Protocol):
    """The caller's rights on the mesh's ports, as the DuckDB views need them."""

    def mode(self, address: str) -> ReadMode:
        """How the caller reads the port at `address`; raises when it may not read it at all."""
        ...

    def restrict(
        self, address: str, relation: str, schema: Schema, *, contract: Schema | None = None, salt: bytes | None = None
    ) -> str:
        """A SELECT over `relation` (the port's rows, with `schema`) returning only what the caller may see.

        `contract`: the port's current schema, which the rights' column names refer to when `relation` is an
        older snapshot. `salt`: the `sha-256-query-local` salt of the statement the scan serves (at least 16
        bytes); None draws a new one, so that one call serves one scan.
        """
        ...

    def salted(self, address: str) -> bool:
        """Whether the caller's restricted reads of the port hash a column with a per-query salt."""
        ...

    def prepare(self, con: duckdb.DuckDBPyConnection) -> None:
        """Register on `con` (a private connection) the functions the SQL of `restrict` calls."""
        ...
