"""Who reads meshlake's own tables (`meshlake.system.*`: the quality history, the access log).

Their rows are about other products' ports, and some carry those ports' values (failing-row samples), so:

- **mesh admins** read them whole;
- **everyone else** reads only the rows whose `address` is a product they own or one of its ports — a row
  filter `address IN (...)` on the table's `address` column (nothing, when they own none);
- a system table without an `address` column is for the admins alone.

Without a mesh policy nothing is enforced (the `declared` level), as for ports.
"""

from __future__ import annotations

from collections.abc import Iterable

from meshlake.access.identity import Identity
from meshlake.access.policy import MeshPolicy
from meshlake.access.rights import Decision, RowFilter, level_of, write_grant
from meshlake.contract.address import SYSTEM_DOMAIN
from meshlake.contract.descriptor import Descriptor
from meshlake.contract.principals import matches
from meshlake.query.types import quote_literal

ADDRESS_COLUMN = "address"


def is_system(address: str) -> bool:
    """Whether `address` names one of meshlake's own tables (`meshlake.<product>.<table>`)."""
    return address.split(".", 1)[0] == SYSTEM_DOMAIN


def owned_ports(identity: Identity, descriptors: Iterable[Descriptor]) -> list[str]:
    """The addresses of the products `identity` owns (named in `owner.principals`) and of their output ports.

    A product's own address (`domain.product`) is what a record about the whole product carries (a governance
    finding about its description, say).
    """
    owned: list[str] = []
    for descriptor in descriptors:
        if matches(descriptor.owners, identity.principals) is not None:
            owned.append(f"{descriptor.domain}.{descriptor.name}")
            owned.extend(f"{descriptor.domain}.{descriptor.name}.{port.name}" for port in descriptor.outputs)
    return sorted(set(owned))


def system_decision(
    identity: Identity,
    address: str,
    policy: MeshPolicy | None,
    *,
    owned: Iterable[str],
    columns: Iterable[str] = (ADDRESS_COLUMN,),
) -> Decision:
    """The rights of `identity` on the system table `address` (with `columns`), owning the ports `owned`."""
    level = level_of(policy)
    admin = (policy or MeshPolicy()).admin_grant(identity)
    writes = write_grant(identity, (), policy)
    if admin is not None or policy is None:
        reason = f"admin via {admin}" if admin is not None else "no mesh policy: nothing is enforced"
        return Decision(
            identity.principal, address, True, writes.allowed, reason, level, "admin" if admin else "reader"
        )
    admins = ", ".join(str(a) for a in policy.admins)
    if ADDRESS_COLUMN not in set(columns):
        return Decision(
            identity.principal,
            address,
            False,
            False,
            "meshlake's own table, without an address column",
            level,
            "none",
            missing_read=f"only mesh admins ({admins}) read {address}",
            missing_write=writes.missing,
        )
    ports = sorted(set(owned))
    clause = (
        f"{ADDRESS_COLUMN} IN ({', '.join(quote_literal(p) for p in ports)})"
        if ports
        else f"{ADDRESS_COLUMN} = '' AND {ADDRESS_COLUMN} != ''"  # true for no row: the caller owns no port
    )
    reason = f"rows of the {len(ports)} product(s) and port(s) it owns" if ports else "it owns no port, so no row"
    return Decision(
        identity.principal,
        address,
        True,
        False,
        f"{reason}; mesh admins ({admins}) read every row",
        level,
        "reader",
        row_filter=RowFilter((clause,)),
        missing_write=writes.missing,
    )
