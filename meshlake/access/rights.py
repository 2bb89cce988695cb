"""What a principal may do with a port: `decide(identity, descriptor, port, policy) -> Decision`, a pure function.

The rules, in order:

- **Owners** (`owner.principals`, default `product:<domain>.<name>`) and **mesh admins** read every row and column
  as it is, and write. Writing (deploy, write, delete, tag, roll back, maintain with apply, run) is theirs alone.
- Anyone else **reads** when a port's `access.readers` names them, one of their groups, or `*`; a port that
  declares no readers falls back to the mesh policy's `default_readers` (by default `*`, the whole mesh).
- **Row filters** whose `principals` name the reader apply; several that match are AND-ed (fail closed). A
  reader no filter names sees every row.
- **Masks** apply to every reader not in the port's `access.unmasked`: a column's own `mask:`, else the mesh
  policy's mask for the column's classification (when that action cannot apply to the column's type, the column
  is masked to its type's default instead: never shown unmasked).

A `Decision` also carries the **enforcement level**: `declared` when the lake has no mesh policy (the rules are
metadata, nothing enforces them), `library` when every meshlake path enforces them. (`storage` — object-store
policies that hold even against direct file access — is set by `meshlake.access.storage_verify` for a principal
whose storage keys `meshlake access verify` found to match its current grants.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from meshlake.access.identity import Identity
from meshlake.access.policy import MeshPolicy
from meshlake.contract.access import ColumnMask, mask_problem
from meshlake.contract.descriptor import Column, Descriptor, OutputPort
from meshlake.contract.principals import EVERYONE, Principal, matches
from meshlake.contract.types import parse_type

Level = Literal["declared", "library", "storage"]
Role = Literal["admin", "owner", "reader", "none"]
LEVELS: Final[dict[Level, str]] = {
    "declared": "metadata only: the lake has no mesh policy, so nothing enforces these rights "
    "(run `meshlake init --admin PRINCIPAL` to enforce them)",
    "library": "every meshlake path enforces these rights; not a boundary against someone holding storage "
    "or catalog credentials",
    "storage": "the principal's storage credentials cannot reach files outside its grants",
}
MASK_TO_DEFAULT: Final = ColumnMask(action="mask-to-default")


@dataclass(frozen=True)
class RowFilter:
    """The rows a reader sees: those where every clause is true (a clause false or NULL drops the row).

    Each clause is the `where` text of one matching row filter, validated against the port's columns when the
    descriptor was loaded; a read compiles each with the filter grammar and ANDs them — never pastes the text.
    """

    clauses: tuple[str, ...]

    def __str__(self) -> str:
        return " AND ".join(f"({clause})" for clause in self.clauses)


@dataclass(frozen=True)
class Decision:
    """One principal's rights on one port, and why."""

    principal: Principal
    address: str
    read: bool
    write: bool
    reason: str
    """Why the principal reads (or not): e.g. 'owner via group:logistics', 'reader via *'."""
    level: Level
    role: Role
    row_filter: RowFilter | None = None
    masks: Mapping[str, ColumnMask] = field(default_factory=dict)
    """Column name → the mask applied to it for this principal (empty for owners, admins, `unmasked`)."""
    missing_read: str | None = None
    """The grant a denied read lacks (None when reading is allowed)."""
    missing_write: str | None = None
    """The grant a denied write lacks (None when writing is allowed)."""

    @property
    def enforced(self) -> bool:
        """Whether meshlake enforces this decision (False at the `declared` level)."""
        return self.level != "declared"

    @property
    def unrestricted(self) -> bool:
        """Reads everything as it is: no row filter, no mask."""
        return self.read and self.row_filter is None and not self.masks

    def to_dict(self) -> dict[str, Any]:
        return {
            "principal": str(self.principal),
            "address": self.address,
            "level": self.level,
            "level_means": LEVELS[self.level],
            "role": self.role,
            "read": self.read,
            "write": self.write,
            "reason": self.reason,
            "row_filter": list(self.row_filter.clauses) if self.row_filter else None,
            "masks": {name: str(mask) for name, mask in self.masks.items()},
            "missing_read": self.missing_read,
            "missing_write": self.missing_write,
        }


@dataclass(frozen=True)
class WriteGrant:
    """Whether a principal writes a product: as an admin or owner (`via` names the matching entry), or not."""

    role: Literal["admin", "owner"] | None
    via: Principal | None
    missing: str | None

    @property
    def allowed(self) -> bool:
        return self.role is not None


def level_of(policy: MeshPolicy | None) -> Level:
    """`declared` without a mesh policy, `library` with one."""
    return "declared" if policy is None else "library"


def write_grant(identity: Identity, owners: tuple[Principal, ...], policy: MeshPolicy | None) -> WriteGrant:
    """Whether `identity` may write a product owned by `owners`: mesh admins and owners may, nobody else."""
    effective = policy or MeshPolicy()
    admin = effective.admin_grant(identity)
    if admin is not None:
        return WriteGrant("admin", admin, None)
    owner = matches(owners, identity.principals)
    if owner is not None:
        return WriteGrant("owner", owner, None)
    if not owners:
        return WriteGrant(None, None, "only mesh admins write meshlake's own tables")
    shown = ", ".join(str(o) for o in owners)
    return WriteGrant(None, None, f"writing is for the product's owners ({shown}) and mesh admins")


def decide(identity: Identity, descriptor: Descriptor, port_name: str, policy: MeshPolicy | None) -> Decision:
    """The rights of `identity` on the output port `port_name` of `descriptor`, under the mesh `policy`.

    `policy=None` (a lake without a mesh policy) applies the default policy's rules at the `declared` level.
    """
    port = descriptor.output(port_name)
    address = f"{descriptor.domain}.{descriptor.name}.{port.name}"
    level = level_of(policy)
    effective = policy or MeshPolicy()
    grant = write_grant(identity, descriptor.owners, policy)
    if grant.allowed:
        assert grant.role is not None
        return Decision(identity.principal, address, True, True, f"{grant.role} via {grant.via}", level, grant.role)
    readers = port.access.readers if port.access and port.access.readers is not None else None
    declared = readers if readers is not None else effective.default_readers
    via = matches(declared, identity.principals)
    if via is None:
        source = "the port's readers" if readers is not None else "the mesh's default readers"
        shown = ", ".join(str(r) for r in declared) or "nobody but its owners"
        return Decision(
            identity.principal,
            address,
            False,
            False,
            f"not among {source}",
            level,
            "none",
            missing_read=f"reading needs a grant in {source} ({shown})",
            missing_write=grant.missing,
        )
    return Decision(
        identity.principal,
        address,
        True,
        False,
        f"reader via {via}" + ("" if readers is not None else " (mesh default)"),
        level,
        "reader",
        row_filter=_row_filter(identity, port),
        masks=_masks(identity, port, effective),
        missing_write=grant.missing,
    )


BROKER: Final = Principal("service", "meshlake-broker")
"""The principal a served stream is read as: whoever can read the broker's subject (`broker_decision`)."""


def broker_decision(descriptor: Descriptor, port_name: str, policy: MeshPolicy | None) -> Decision:
    """What the port's served stream may carry: what every one of its `access.broker_readers` (default `*`) may
    read, since meshlake cannot tell which of them reads the broker. Masks apply unless all of them are
    `unmasked`; every row filter applies (AND-ed: any filtered reader may be among them). Masks apply whether
    or not the lake has a mesh policy: what reaches a broker is out of every check. `read` is False when one of
    them is not among the port's readers (`missing_read` says who)."""
    port = descriptor.output(port_name)
    address = f"{descriptor.domain}.{descriptor.name}.{port.name}"
    effective = policy or MeshPolicy()
    access = port.access
    audience = access.broker_readers if access is not None and access.broker_readers is not None else [EVERYONE]
    readers = access.readers if access is not None and access.readers is not None else effective.default_readers
    shown = ", ".join(str(p) for p in audience)
    outside = [str(p) for p in audience if matches(readers, [p]) is None]
    unmasked = access.unmasked if access is not None else []
    masks: dict[str, ColumnMask] = {}
    if any(matches(unmasked, [p]) is None for p in audience):
        masks = {column.name: mask for column in port.columns if (mask := column_mask(column, effective))}
    clauses = tuple(dict.fromkeys(rule.where for rule in access.row_filters)) if access is not None else ()
    return Decision(
        BROKER,
        address,
        not outside,
        False,
        f"the broker's readers ({shown})",
        level_of(policy),
        "reader" if not outside else "none",
        row_filter=RowFilter(clauses) if clauses else None,
        masks=masks,
        missing_read=f"{', '.join(outside)} would read the stream but not the port" if outside else None,
    )


def _row_filter(identity: Identity, port: OutputPort) -> RowFilter | None:
    if port.access is None:
        return None
    clauses = tuple(
        rule.where for rule in port.access.row_filters if matches(rule.principals, identity.principals) is not None
    )
    return RowFilter(tuple(dict.fromkeys(clauses))) if clauses else None


def _masks(identity: Identity, port: OutputPort, policy: MeshPolicy) -> dict[str, ColumnMask]:
    if port.access is not None and matches(port.access.unmasked, identity.principals) is not None:
        return {}
    masks: dict[str, ColumnMask] = {}
    for column in port.columns:
        mask = column_mask(column, policy)
        if mask is not None:
            masks[column.name] = mask
    return masks


def column_mask(column: Column, policy: MeshPolicy) -> ColumnMask | None:
    """The mask a masked reader gets for `column`: its own, else its classification's (or its type's default)."""
    if column.mask is not None:
        return column.mask
    if column.classification is None:
        return None
    mask = policy.classification_masks.get(column.classification)
    if mask is None:
        return None
    if mask_problem(mask.action, parse_type(column.type), required=column.required) is not None:
        return MASK_TO_DEFAULT
    return mask
