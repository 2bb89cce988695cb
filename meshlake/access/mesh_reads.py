"""A caller's read rights on every port of the mesh, as the DuckDB views need them (`lake.duckdb()`, `lake.sql`).

`MeshReads` implements `meshlake.query.access.MeshAccess`: for each address it decides once (per connection)
from the product's stored descriptor and the mesh policy (`rights.decide`; `system.system_decision` for
meshlake's own tables), and answers

- `mode`: `in_place` (owner, admin, or no mask and no row filter apply), `restricted`, or raises
  `AccessDeniedError` naming the principal, the port and the missing grant;
- `restrict`: the restricted SELECT over the port's relation (`enforce.PortReader.relation`, i.e.
  `mask_sql.restricted_sql`: row filter first on the original values, masks after), with the salt of the
  statement it serves when the views give one (`salted` says when a port needs one);
- `prepare`: the mask functions a private connection needs.

Fails closed: a table in the mesh whose product has no readable descriptor, or that its descriptor does not
declare, is read by the mesh admins (and the product's owners) only.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from pyiceberg.catalog import Catalog

from meshlake.access.enforce import PortReader
from meshlake.access.guard import check_verified
from meshlake.access.identity import Identity
from meshlake.access.policy import MeshPolicy
from meshlake.access.rights import Decision, decide, level_of, write_grant
from meshlake.access.system import is_system, owned_ports, system_decision
from meshlake.contract.address import Address, ProductName
from meshlake.contract.descriptor import Descriptor
from meshlake.contract.principals import Principal
from meshlake.errors import BrokenProductError
from meshlake.query.access import ReadMode

if TYPE_CHECKING:
    import duckdb
    from pyiceberg.schema import Schema


class MeshReads:
    """The read rights of one caller on the mesh's ports, decided port by port on first use and kept."""

    def __init__(self, identity: Identity, policy: MeshPolicy, catalog: Catalog) -> None:
        check_verified(identity, policy)
        self.identity = identity
        self.policy = policy
        self.catalog = catalog
        self._decisions: dict[str, Decision] = {}
        self._descriptors: dict[ProductName, Descriptor | None] = {}
        self._owned: list[str] | None = None
        self._lock = threading.RLock()

    # -- MeshAccess ------------------------------------------------------------------------------------

    def mode(self, address: str) -> ReadMode:
        reader = self.reader(address)
        reader.check()
        return "in_place" if reader.unrestricted else "restricted"

    def restrict(
        self, address: str, relation: str, schema: Schema, *, contract: Schema | None = None, salt: bytes | None = None
    ) -> str:
        reader = self.reader(address)
        return (reader if contract is None else reader.bind(contract)).relation(relation, schema, salt=salt)

    def salted(self, address: str) -> bool:
        from meshlake.access.masks import needs_salt

        return needs_salt(self.decision(address))

    def prepare(self, con: duckdb.DuckDBPyConnection) -> None:
        from meshlake.access.mask_sql import register_mask_functions

        register_mask_functions(con)

    # -- decisions -------------------------------------------------------------------------------------

    def decision(self, address: str) -> Decision:
        """The caller's rights on the port (or system table) at `address`, decided on first use."""
        with self._lock:
            known = self._decisions.get(address)
            if known is None:
                known = self._decisions[address] = self._decide(Address.parse(address))
            return known

    def reader(self, address: str) -> PortReader:
        """The caller's reads of the port at `address` (`check()` raises `AccessDeniedError` when denied)."""
        return PortReader(self.decision(address), {})

    def _decide(self, address: Address) -> Decision:
        text = str(address.unpinned)
        if is_system(text):
            owned = [] if self.policy.admin_grant(self.identity) is not None else self._owned_ports()
            return system_decision(self.identity, text, self.policy, owned=owned, columns=self._columns(address))
        descriptor = self._descriptor(address.product_name)
        if descriptor is None:
            return self._undeclared(text, (), "its product has no readable descriptor")
        if not any(port.name == address.port for port in descriptor.outputs):
            return self._undeclared(text, descriptor.owners, "its product's descriptor does not declare it")
        return decide(self.identity, descriptor, address.port, self.policy)

    def _undeclared(self, address: str, owners: tuple[Principal, ...], why: str) -> Decision:
        """A table nothing grants reading: its product's owners and the mesh admins read it, nobody else."""
        grant = write_grant(self.identity, owners, self.policy)
        level = level_of(self.policy)
        if grant.allowed:
            return Decision(
                self.identity.principal,
                address,
                True,
                True,
                f"{grant.role} via {grant.via}",
                level,
                grant.role or "admin",
            )
        return Decision(
            self.identity.principal,
            address,
            False,
            False,
            why,
            level,
            "none",
            missing_read=f"{why}, so nothing grants reading it; only its owners and mesh admins read it",
            missing_write=grant.missing,
        )

    def _descriptor(self, name: ProductName) -> Descriptor | None:
        from meshlake.contract.registry import load_descriptor_of

        with self._lock:
            if name not in self._descriptors:
                try:
                    self._descriptors[name] = load_descriptor_of(self.catalog, name)
                except BrokenProductError:
                    self._descriptors[name] = None
            return self._descriptors[name]

    def _owned_ports(self) -> list[str]:
        from meshlake.contract.registry import scan_products

        with self._lock:
            if self._owned is None:
                descriptors = [
                    entry.descriptor for entry in scan_products(self.catalog) if entry.descriptor is not None
                ]
                self._owned = owned_ports(self.identity, descriptors)
            return self._owned

    def _columns(self, address: Address) -> list[str]:
        try:
            table = self.catalog.load_table(address.identifier)
        except Exception:  # gone or unreadable: no columns, so admins only
            return []
        return [field.name for field in table.schema().fields]
