"""Object-store policies per principal, from the grants: what each principal's storage keys may reach.

The rules (rendered for AWS IAM or SeaweedFS by `meshlake.access.storage_formats`):

- **Mesh admins**: everything under the warehouse (read, list, write, delete).
- **Owners** of a product: read, list, write and delete under the product's prefix `<root>/<domain>/<product>/`
  (and its ports' table locations, when the catalog put a table elsewhere).
- **Readers** of a port (its `access.readers`, the mesh's `default_readers`, `*`): read and list the port's
  whole table location, data and metadata — only when they read it **unrestricted**. A reader that masks or
  row filters apply to gets no storage read at all: with the files it would read around its restrictions. It
  reads such a port through meshlake, under credentials that can (the `library` level).
- **Records**: meshlake appends to its own tables (`meshlake.system.*`: the quality history on every gated
  write, the access log on reads) as the caller, so every principal may read those tables' current metadata
  (`*.metadata.json`, manifest lists `snap-*.avro`) and put files under the system prefix; their rows (data
  files and manifests) stay readable by admins only.
- Nothing else.

A policy is computed in two steps: `storage_rights` (pure, from descriptors and the mesh policy: which products a
principal owns, which ports it reads unrestricted) and `principal_policy` (the rights placed on the prefixes of
a `Layout` loaded from the catalog). The rights' `fingerprint` is what `meshlake access verify` records and
`explain` compares: it changes whenever a descriptor or the mesh policy changes what the principal reaches.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Final, Literal

from meshlake.access.identity import Identity
from meshlake.access.policy import MeshPolicy
from meshlake.access.rights import decide, write_grant
from meshlake.access.storage_credentials import StorageCredential
from meshlake.access.storage_layout import Layout, StoragePrefix, object_key
from meshlake.contract.descriptor import Descriptor
from meshlake.contract.principals import Principal
from meshlake.errors import ConfigError

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

Access = Literal["read", "write", "record"]
RECORD_READABLE: Final = ("*metadata/*.metadata.json", "*metadata/snap-*.avro")
"""What an append to a system table reads, as key patterns under a record grant's prefix (`*` spans `/`, as in
object-store policies): table metadata and manifest lists, never manifests (they hold column bounds) or data."""
RECORD_LISTABLE: Final = ("*metadata/*.metadata.json/",)
"""What an append to a system table lists: before writing a new metadata file, pyarrow's S3 client asks whether
a "folder" of that name exists (an empty listing under `<file>/`)."""
_RANK: Final[dict[Access, int]] = {"record": 0, "read": 1, "write": 2}


@dataclass(frozen=True)
class StorageRights:
    """What a principal's storage keys should reach, by product and port (before any location is known)."""

    principal: Principal
    groups: frozenset[Principal]
    admin: str | None
    """Why the principal is a mesh admin (`admin via group:platform`), or None."""
    owns: tuple[str, ...]
    """The products it owns (writes), sorted."""
    reads: tuple[str, ...]
    """The ports (of products it does not own) it reads unrestricted, sorted: these it reads from storage."""
    withheld: tuple[tuple[str, str], ...] = ()
    """(address, why) of ports it reads only through meshlake: masks or row filters apply to it."""

    def fingerprint(self, root: StoragePrefix | None) -> str:
        """A digest of these rights (and the warehouse root): equal digests mean equal storage grants."""
        document = {
            "principal": str(self.principal),
            "groups": sorted(str(group) for group in self.groups),
            "admin": self.admin is not None,
            "owns": list(self.owns),
            "reads": list(self.reads),
            "root": None if root is None else str(root),
        }
        return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def storage_rights(identity: Identity, descriptors: Iterable[Descriptor], policy: MeshPolicy) -> StorageRights:
    """The storage rights of `identity` in a mesh of `descriptors` under the mesh `policy` (see the module doc)."""
    admin = policy.admin_grant(identity)
    owns: list[str] = []
    reads: list[str] = []
    withheld: list[tuple[str, str]] = []
    for descriptor in descriptors:
        if admin is not None:
            break
        if write_grant(identity, descriptor.owners, policy).role == "owner":
            owns.append(str(descriptor.product_name))
            continue
        for port in descriptor.outputs:
            decision = decide(identity, descriptor, port.name, policy)
            if not decision.read:
                continue
            if decision.unrestricted:
                reads.append(decision.address)
            else:
                withheld.append((decision.address, _why_withheld(decision.masks, decision.row_filter)))
    return StorageRights(
        identity.principal,
        identity.groups,
        None if admin is None else f"mesh admin via {admin}",
        tuple(sorted(owns)),
        tuple(sorted(reads)),
        tuple(sorted(withheld)),
    )


def _why_withheld(masks: Mapping[str, object], row_filter: object | None) -> str:
    parts = []
    if masks:
        parts.append("masks on " + ", ".join(f"{column} ({mask})" for column, mask in masks.items()))
    if row_filter is not None:
        parts.append(f"the row filter {row_filter}")
    return (
        f"{' and '.join(parts)} apply: with the files it would read around them, so no storage read; "
        "it reads this port through meshlake only"
    )


@dataclass(frozen=True)
class Grant:
    """Access to everything under one prefix, and why."""

    prefix: StoragePrefix
    access: Access
    why: str


@dataclass(frozen=True)
class PrincipalPolicy:
    """A principal's storage policy: its rights placed on the layout's prefixes."""

    rights: StorageRights
    grants: tuple[Grant, ...]
    fingerprint: str
    notes: tuple[str, ...] = ()

    @property
    def principal(self) -> Principal:
        return self.rights.principal

    def allows(self, uri: str, operation: Literal["get", "list", "put"]) -> bool:
        """Whether the policy lets the principal GET the object `uri`, LIST under the prefix `uri`, or PUT `uri`."""
        for grant in self.grants:
            if not grant.prefix.holds(uri):
                continue
            if grant.access == "write" or (grant.access == "read" and operation != "put"):
                return True
            if grant.access == "record" and (
                operation == "put" or (operation == "get" and is_record_readable(grant.prefix, uri))
            ):
                return True
        return False

    def to_dict(self) -> dict[str, object]:
        return {
            "principal": str(self.principal),
            "groups": sorted(str(group) for group in self.rights.groups),
            "fingerprint": self.fingerprint,
            "admin": self.rights.admin,
            "owns": list(self.rights.owns),
            "reads": list(self.rights.reads),
            "withheld": [{"address": address, "why": why} for address, why in self.rights.withheld],
            "grants": [{"prefix": str(g.prefix), "access": g.access, "why": g.why} for g in self.grants],
            "notes": list(self.notes),
        }


def is_record_readable(prefix: StoragePrefix, uri: str) -> bool:
    """Whether `uri` is a metadata file (not a manifest, not data) of a system table under `prefix`."""
    bucket, key = object_key(uri)
    if bucket != prefix.bucket or not key.startswith(prefix.key):
        return False
    return any(fnmatchcase(key[len(prefix.key) :], pattern) for pattern in RECORD_READABLE)


def principal_policy(rights: StorageRights, layout: Layout) -> PrincipalPolicy:
    """Place `rights` on the prefixes of `layout`."""
    grants: list[Grant] = []
    notes: list[str] = []
    if rights.admin is not None:
        if layout.root is not None:
            grants.append(Grant(layout.root, "write", rights.admin))
        grants += [Grant(p, "write", rights.admin) for port in layout.ports for p in port.prefixes]
        grants += [Grant(p, "write", rights.admin) for table in layout.system_tables for p in table.prefixes]
    owned = set(rights.owns)
    for product in layout.products:
        if str(product.name) not in owned:
            continue
        why = f"owner of {product.name}"
        if product.prefix is not None:
            grants.append(Grant(product.prefix, "write", why))
        else:
            notes.append(f"{product.name}: the catalog places its tables; ports it adds need a new policy")
        grants += [Grant(p, "write", why) for port in product.ports for p in port.prefixes]
    readable = set(rights.reads)
    for port in layout.ports:
        if str(port.address) in readable:
            grants += [Grant(p, "read", f"reader of {port.address}") for p in port.prefixes]
    if rights.admin is None:
        why = "appends meshlake's records (quality history, access log)"
        if layout.system_prefix is not None:
            grants.append(Grant(layout.system_prefix, "record", why))
        else:
            grants += [Grant(p, "record", why) for table in layout.system_tables for p in table.prefixes]
    notes += [f"{address}: {why}" for address, why in rights.withheld]
    return PrincipalPolicy(rights, _minimal(grants), rights.fingerprint(layout.root), tuple(notes))


def _minimal(grants: Sequence[Grant]) -> tuple[Grant, ...]:
    """Drop grants another one covers (a wider prefix with at least the same access); sorted by prefix."""
    kept: list[Grant] = []
    for grant in sorted(grants, key=lambda g: (g.prefix, -_RANK[g.access])):
        if any(_covers(other, grant) for other in kept):
            continue
        kept.append(grant)
    return tuple(kept)


def _covers(wide: Grant, narrow: Grant) -> bool:
    if not wide.prefix.contains(narrow.prefix):
        return False
    return wide.access in (narrow.access, "write")


@dataclass(frozen=True)
class PolicySet:
    """The storage policies of several principals over one layout."""

    layout: Layout
    policies: tuple[PrincipalPolicy, ...]
    credentials: Mapping[Principal, StorageCredential] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def policy_of(self, principal: Principal) -> PrincipalPolicy:
        for found in self.policies:
            if found.principal == principal:
                return found
        raise KeyError(str(principal))


def named_principals(descriptors: Iterable[Descriptor], policy: MeshPolicy) -> set[Principal]:
    """Every user, service and product principal the grants name (groups and `*` hold no keys)."""
    named: set[Principal] = set(policy.admins) | set(policy.default_readers)
    for descriptor in descriptors:
        named |= set(descriptor.owners)
        for port in descriptor.outputs:
            if port.access is None:
                continue
            named |= set(port.access.readers or ()) | set(port.access.unmasked)
            for rule in port.access.row_filters:
                named |= set(rule.principals)
    return {p for p in named if not p.is_everyone and p.kind != "group"}


def policy_set(
    layout: Layout,
    policy: MeshPolicy | None,
    credentials: Mapping[Principal, StorageCredential] | None = None,
    *,
    only: Identity | None = None,
) -> PolicySet:
    """The policy of every principal the grants name or `credentials` hold keys for (or of `only`)."""
    policy = require_policy(policy)
    keys = dict(credentials or {})
    if only is not None:
        identities = [only]
    else:
        principals = named_principals(layout.descriptors, policy) | set(keys)
        identities = [
            Identity(p, keys[p].groups if p in keys else frozenset(), source="argument") for p in sorted(principals)
        ]
    policies = tuple(principal_policy(storage_rights(i, layout.descriptors, policy), layout) for i in identities)
    return PolicySet(layout, policies, keys, layout.notes)


def require_policy(policy: MeshPolicy | None) -> MeshPolicy:
    """`policy`, or `ConfigError` when the lake has none (its rules are metadata only: no storage policy follows)."""
    if policy is None:
        raise ConfigError(
            "the lake has no mesh policy, so its access rules are metadata only and no storage policy follows from "
            "them; give it one with `meshlake init --admin PRINCIPAL`",
            key="policy",
        )
    return policy


def identity_with_groups(
    principal: str | Principal, groups: Iterable[str | Principal], credentials: Mapping[Principal, StorageCredential]
) -> Identity:
    """The key holder `principal`, a member of `groups` (else of the groups its credentials entry lists)."""
    from meshlake.access.identity import claimed

    parsed = Principal.parse(principal)
    given = list(groups)
    if not given and parsed in credentials:
        given = list(credentials[parsed].groups)
    return claimed(parsed, given, source="argument")


def lake_policy_set(
    catalog: Catalog,
    location_root: str | None,
    policy: MeshPolicy | None,
    credentials: Mapping[Principal, StorageCredential] | None = None,
    *,
    principal: str | Principal | None = None,
    groups: Iterable[str | Principal] = (),
) -> PolicySet:
    """The storage policies of a lake (of one `principal`, a member of `groups`, when given)."""
    from meshlake.access.storage_layout import load_layout

    require_policy(policy)
    keys = dict(credentials or {})
    only = identity_with_groups(principal, groups, keys) if principal is not None else None
    if only is None and groups:
        raise ConfigError("groups are given for one principal: add --principal", key="group")
    return policy_set(load_layout(catalog, location_root), policy, keys, only=only)
