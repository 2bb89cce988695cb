"""Does the storage enforce the policy? Probe each principal's own keys, and remember who passed.

For every port (and every table of `meshlake.system`), each principal's keys try to GET the table's current
metadata file and one of its data files, to LIST its location, and to PUT a small probe object under it
(deleted again at once). Each outcome is compared with what the principal's storage policy says
(`meshlake.access.storage_policy`): a read that should fail but succeeds, or a write that should succeed but
fails, is a mismatch. Files are found with the caller's catalog and keys (an admin's: they reach everything).

A principal whose probes all match is recorded in the system namespace's properties
(`meshlake.storage-verified.<principal>`: the fingerprint of its rights, the mesh policy version, when and by
whom); one whose probes do not loses any earlier record. `explain` then reports the `storage` level for a
recorded principal as long as neither its rights (a descriptor or the mesh policy changed what it reaches) nor
the mesh policy version changed since.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, Literal

from meshlake.access.identity import Identity
from meshlake.access.policy import SYSTEM_NAMESPACE, MeshPolicy
from meshlake.access.storage_credentials import StorageCredential
from meshlake.access.storage_layout import Layout, StoragePrefix, object_key
from meshlake.access.storage_policy import PolicySet, PrincipalPolicy, storage_rights
from meshlake.catalog.catalogs import create_namespace_once
from meshlake.catalog.settings import Settings
from meshlake.contract.principals import Principal
from meshlake.errors import ConfigError, require

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table

    from meshlake.access.rights import Decision

RECORD_KEY: Final = "meshlake.storage-verified.{principal}"
PROBE_FOLDER: Final = "meshlake-verify"
Operation = Literal["get", "list", "put"]
Outcome = str
"""`allowed`, `denied`, `missing` (the object is not there), or `error: …`."""


@dataclass(frozen=True)
class Target:
    """What the probes try on one table: its location, current metadata file and one data file."""

    name: str
    location: StoragePrefix
    metadata_file: str | None
    data_file: str | None


@dataclass(frozen=True)
class Probe:
    """One request made with a principal's keys, what the policy expects, and what the storage answered."""

    target: str
    operation: Operation
    uri: str
    what: str
    expected: bool
    observed: Outcome

    @property
    def ok(self) -> bool:
        return self.observed == ("allowed" if self.expected else "denied")

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "operation": self.operation.upper(),
            "uri": self.uri,
            "what": self.what,
            "expected": "allowed" if self.expected else "denied",
            "observed": self.observed,
            "ok": self.ok,
        }

    def __str__(self) -> str:
        expected = "allowed" if self.expected else "denied"
        return f"{self.operation.upper()} {self.uri} ({self.target} {self.what}): expected {expected}, {self.observed}"


@dataclass(frozen=True)
class PrincipalCheck:
    """Every probe of one principal's keys."""

    policy: PrincipalPolicy
    probes: tuple[Probe, ...]
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return all(probe.ok for probe in self.probes)

    @property
    def mismatches(self) -> list[Probe]:
        return [probe for probe in self.probes if not probe.ok]

    def to_dict(self) -> dict[str, Any]:
        return {
            "principal": str(self.policy.principal),
            "ok": self.ok,
            "fingerprint": self.policy.fingerprint,
            "probes": len(self.probes),
            "mismatches": [probe.to_dict() for probe in self.mismatches],
            "notes": list(self.notes),
        }


def probe_targets(catalog: Catalog, layout: Layout) -> list[Target]:
    """The tables to probe: every port of `layout` and every system table, loaded with the caller's keys."""
    found = []
    for port in layout.ports:
        found.append(_target(str(port.address), catalog.load_table(port.address.identifier)))
    for table in layout.system_tables:
        found.append(_target(table.name, catalog.load_table(table.identifier)))
    return found


def _target(name: str, table: Table) -> Target:
    from pyiceberg.manifest import ManifestContent

    data_file = None
    snapshot = table.current_snapshot()
    if snapshot is not None:
        for manifest in snapshot.manifests(table.io):
            if manifest.content != ManifestContent.DATA:
                continue
            entries = manifest.fetch_manifest_entry(table.io, discard_deleted=True)
            if entries:
                data_file = entries[0].data_file.file_path
                break
    return Target(name, StoragePrefix.of(table.location()), table.metadata_location, data_file)


class _Client:
    """S3 requests with one key pair, each answered as an `Outcome`."""

    def __init__(self, settings: Settings, access_key: str, secret_key: str) -> None:
        botocore_session = require("botocore.session", extra="s3", feature="probing storage credentials")
        from botocore.config import Config

        session = botocore_session.get_session()
        self._client = session.create_client(
            "s3",
            endpoint_url=settings.s3_endpoint,
            region_name=settings.s3_region,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3, "mode": "standard"}),
        )

    def get(self, uri: str) -> Outcome:
        bucket, key = object_key(uri)
        return self._call("get_object", Bucket=bucket, Key=key, Range="bytes=0-0")

    def list(self, prefix: StoragePrefix) -> Outcome:
        return self._call("list_objects_v2", Bucket=prefix.bucket, Prefix=prefix.key, MaxKeys=1)

    def put(self, uri: str) -> Outcome:
        bucket, key = object_key(uri)
        body = b"meshlake access verify: a probe of write access; safe to delete\n"
        return self._call("put_object", Bucket=bucket, Key=key, Body=body)

    def delete(self, uri: str) -> Outcome:
        bucket, key = object_key(uri)
        return self._call("delete_object", Bucket=bucket, Key=key)

    def _call(self, operation: str, **arguments: Any) -> Outcome:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = getattr(self._client, operation)(**arguments)
            if "Body" in answer:
                answer["Body"].read()
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 403 or code in ("AccessDenied", "Forbidden", "403"):
                return "denied"
            if status == 404 or code in ("NoSuchKey", "NotFound", "404"):
                return "missing"
            return f"error: {code or status} {error.get('Message', '')}".rstrip()
        except BotoCoreError as exc:
            return f"error: {exc}"
        return "allowed"


def verify_storage(
    settings: Settings,
    policies: PolicySet,
    targets: Iterable[Target],
    credentials: Mapping[Principal, StorageCredential],
) -> list[PrincipalCheck]:
    """Probe the keys of every principal of `policies` that `credentials` holds (see the module doc)."""
    targets = list(targets)
    cleaner = _Client(settings, settings.s3_access_key_id or "", settings.s3_secret_access_key or "")
    checks = []
    for policy in policies.policies:
        credential = credentials.get(policy.principal)
        if credential is None:
            continue
        client = _Client(settings, credential.access_key, credential.secret_key)
        probes: list[Probe] = []
        notes: list[str] = []
        for target in targets:
            probes += _probe(client, cleaner, policy, target, notes)
        checks.append(PrincipalCheck(policy, tuple(probes), tuple(notes)))
    return checks


def _probe(client: _Client, cleaner: _Client, policy: PrincipalPolicy, target: Target, notes: list[str]) -> list[Probe]:
    probes = []
    for what, uri in (("metadata file", target.metadata_file), ("data file", target.data_file)):
        if uri is None:
            notes.append(f"{target.name}: no {what} to probe yet")
            continue
        probes.append(Probe(target.name, "get", uri, what, policy.allows(uri, "get"), client.get(uri)))
    listed = str(target.location)
    probes.append(
        Probe(target.name, "list", listed, "location", policy.allows(listed, "list"), client.list(target.location))
    )
    probe = f"{target.location}{PROBE_FOLDER}/{uuid.uuid4().hex}.probe"
    put = client.put(probe)
    probes.append(Probe(target.name, "put", probe, "probe object", policy.allows(probe, "put"), put))
    if put == "allowed" and client.delete(probe) != "allowed" and cleaner.delete(probe) != "allowed":
        notes.append(f"{probe}: the probe object could not be deleted; delete it (or let `meshlake maintain` do it)")
    return probes


# -- the record of who passed, and the `storage` level ----------------------------------------------------
def record_verified(
    catalog: Catalog,
    checks: Iterable[PrincipalCheck],
    policy: MeshPolicy,
    *,
    by: Identity,
    now: datetime | None = None,
) -> list[str]:
    """Record every principal whose probes all matched, and forget an earlier record of every principal whose
    probes did not (its storage no longer matches); returns the names recorded."""
    from pyiceberg.exceptions import NoSuchNamespaceError

    when = (now or datetime.now(UTC)).isoformat()
    updates = {}
    failed = []
    for check in checks:
        key = RECORD_KEY.format(principal=check.policy.principal)
        if not check.ok:
            failed.append(key)
            continue
        updates[key] = json.dumps(
            {
                "fingerprint": check.policy.fingerprint,
                "policy_version": policy.version,
                "verified_at": when,
                "verified_by": str(by.principal),
                "probes": len(check.probes),
            },
            sort_keys=True,
        )
    try:
        present = catalog.load_namespace_properties(SYSTEM_NAMESPACE)
    except NoSuchNamespaceError:
        present = {}
    removals = {key for key in failed if key in present}
    if updates or removals:
        create_namespace_once(catalog, SYSTEM_NAMESPACE, {"owner": "meshlake", "description": "meshlake records"})
        catalog.update_namespace_properties(SYSTEM_NAMESPACE, removals=removals, updates=updates)
    return sorted(key.removeprefix(RECORD_KEY.format(principal="")) for key in updates)


def verified_record(catalog: Catalog, principal: object) -> dict[str, Any] | None:
    """The last recorded successful verification of `principal`'s keys, or None."""
    from pyiceberg.exceptions import NoSuchNamespaceError

    try:
        text = catalog.load_namespace_properties(SYSTEM_NAMESPACE).get(RECORD_KEY.format(principal=principal))
    except NoSuchNamespaceError:
        return None
    if text is None:
        return None
    try:
        record = json.loads(text)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def storage_verified(
    catalog: Catalog, identity: Identity, policy: MeshPolicy | None, location_root: str | None
) -> dict[str, Any] | None:
    """The verification record of `identity` if it is still current: same rights, same mesh policy version."""
    from meshlake.contract.registry import scan_products

    if policy is None:
        return None
    record = verified_record(catalog, identity.principal)
    if record is None or record.get("policy_version") != policy.version:
        return None
    try:
        root = StoragePrefix.of(location_root) if location_root else None
    except ConfigError:
        return None
    descriptors = [entry.descriptor for entry in scan_products(catalog) if entry.descriptor is not None]
    if storage_rights(identity, descriptors, policy).fingerprint(root) != record.get("fingerprint"):
        return None
    return record


def with_storage_level(
    decision: Decision, catalog: Catalog, identity: Identity, policy: MeshPolicy | None, location_root: str | None
) -> Decision:
    """`decision` at the `storage` level when `identity`'s keys were verified against its current rights."""
    if decision.level != "library" or storage_verified(catalog, identity, policy, location_root) is None:
        return decision
    return replace(decision, level="storage")


@dataclass(frozen=True)
class VerifyReport:
    """What `meshlake access verify` found: each probed principal's check, and who was recorded."""

    checks: tuple[PrincipalCheck, ...]
    recorded: tuple[str, ...]
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "principals": [check.to_dict() for check in self.checks],
            "recorded": list(self.recorded),
            "notes": list(self.notes),
        }


def verify_lake(
    catalog: Catalog,
    settings: Settings,
    location_root: str | None,
    policy: MeshPolicy | None,
    caller: Identity,
    credentials: Mapping[Principal, StorageCredential] | None = None,
    *,
    principal: str | Principal | None = None,
) -> VerifyReport:
    """Probe the keys in `credentials` (default: the caller's own, from `settings`) and record who passed.

    Only mesh admins verify: they record the result, and their keys find the files to probe.
    """
    from meshlake.access.guard import require_admin
    from meshlake.access.storage_layout import load_layout
    from meshlake.access.storage_policy import policy_set, require_policy

    mesh = require_policy(policy)
    require_admin(caller, mesh, action="verify the storage of")
    if credentials is None:
        if not settings.s3_access_key_id or not settings.s3_secret_access_key:
            raise ConfigError(
                "no --credentials file and no storage keys in the settings: nothing to probe", key="credentials"
            )
        credentials = {
            caller.principal: StorageCredential(
                caller.principal, settings.s3_access_key_id, settings.s3_secret_access_key, caller.groups
            )
        }
    keys = dict(credentials)
    if principal is not None:
        wanted = Principal.parse(principal)
        if wanted not in keys:
            raise ConfigError(f"the credentials hold no keys of {wanted}: nothing to probe", key="principal")
        keys = {wanted: keys[wanted]}
    layout = load_layout(catalog, location_root)
    identities = [Identity(c.principal, c.groups, source="argument") for c in keys.values()]
    policies = [policy_set(layout, mesh, keys, only=identity).policies[0] for identity in identities]
    checks = verify_storage(settings, PolicySet(layout, tuple(policies), keys), probe_targets(catalog, layout), keys)
    recorded = record_verified(catalog, checks, mesh, by=caller)
    return VerifyReport(tuple(checks), tuple(recorded), layout.notes)
