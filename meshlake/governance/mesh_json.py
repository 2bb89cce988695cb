"""The normalised JSON of the mesh that custom Rego rules read as `input` (schema: docs/governance-mesh.schema.json).

    {"meshlake": "governance-input/v1",
     "today": "2026-12-01",
     "access": {"level": "library", "admins": [...], "default_readers": ["*"], "classification_masks": {...}},
     "products": [{"name": "sales.orders", "domain": "sales", "product": "orders", "version": "1.2.0",
                   "file": "products/orders/dataproduct.yaml", "deployed_version": "1.1.0",
                   "owner": {"team": ..., "email": ..., "principals": [...]}, "description": ...,
                   "inputs": [{"name": ..., "port": "d.p.port", "snapshot": null, "release": null}],
                   "ports": [{"name": ..., "address": ..., "description": ..., "tags": [...], "primary_key": [...],
                              "slo": {...} | null, "retention": {...} | null, "readers": [...],
                              "readers_declared": bool, "unmasked": [...], "row_filters": [...],
                              "serve": ["table", "stream"?], "broker_readers": [...] | null,
                              "expectations": [{"type": ..., "kwargs": {...}}],
                              "columns": [{"name", "type", "required", "description", "classification",
                                           "mask", "effective_mask"}],
                              "lineage": {"snapshot_id": ..., "inputs": {"d.p.port": snapshot_id}} | null}],
                   "waivers": [{"rule", "reason", "owner", "expires", "target"}]}],
     "grants": [{"product": "sales.orders", "input": "events", "port": "d.p.port", "principal": "product:sales.orders",
                 "read": true, "reason": "reader via *", "missing": null}]}

Every value is plain JSON; absent optional fields are `null`, never missing, so a rule can test `x == null`.
`grants` holds, for each input whose producer is known, the decision of `meshlake.access.rights.decide` for the
product's own principal. `lineage` (when the policy asks for it) is what the port's current snapshot stamped in
`meshlake.inputs`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, Final

from meshlake.contract.descriptor import Descriptor, OutputPort

if TYPE_CHECKING:
    from meshlake.access.policy import MeshPolicy
    from meshlake.governance.subjects import Subject

FORMAT: Final = "governance-input/v1"


def mesh_document(
    subjects: Iterable[Subject],
    *,
    producers: Mapping[str, Descriptor],
    access_policy: MeshPolicy | None,
    today: date,
    lineage: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The mesh as custom rules see it: `subjects` (the products checked) with what the rules need of the rest."""
    from meshlake.access.policy import MeshPolicy
    from meshlake.access.rights import level_of

    policy = access_policy or MeshPolicy()
    listed = list(subjects)
    return {
        "meshlake": FORMAT,
        "today": today.isoformat(),
        "access": {
            "level": level_of(access_policy),
            "admins": [str(a) for a in policy.admins],
            "default_readers": [str(r) for r in policy.default_readers],
            "classification_masks": {k: str(v) for k, v in policy.classification_masks.items()},
        },
        "products": [_product(s, policy, lineage or {}) for s in listed],
        "grants": [g for s in listed for g in _grants(s.descriptor, producers, access_policy)],
    }


def _product(subject: Subject, policy: MeshPolicy, lineage: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    d = subject.descriptor
    return {
        "name": str(d.product_name),
        "domain": d.domain,
        "product": d.name,
        "version": d.version,
        "file": subject.file,
        "deployed_version": subject.deployed.version if subject.deployed else None,
        "owner": {
            "team": d.owner.team,
            "email": d.owner.email,
            "principals": [str(p) for p in d.owners],
        },
        "description": d.description,
        "inputs": [{"name": i.name, "port": i.port, "snapshot": i.snapshot, "release": i.release} for i in d.inputs],
        "ports": [_port(d, port, policy, lineage) for port in d.outputs],
        "waivers": [
            {"rule": w.rule, "reason": w.reason, "owner": w.owner, "expires": w.expires.isoformat(), "target": w.target}
            for w in d.waivers
        ],
    }


def _port(
    d: Descriptor, port: OutputPort, policy: MeshPolicy, lineage: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    from meshlake.access.rights import column_mask

    address = f"{d.domain}.{d.name}.{port.name}"
    access = port.access
    declared = access is not None and access.readers is not None
    readers = access.readers if access is not None and access.readers is not None else policy.default_readers
    slo = port.slo
    return {
        "name": port.name,
        "address": address,
        "description": port.description,
        "tags": list(port.tags),
        "primary_key": list(port.primary_key),
        "slo": None if slo is None else slo.model_dump(mode="json"),
        "retention": None if port.retention is None else port.retention.model_dump(mode="json"),
        "readers": [str(r) for r in readers],
        "readers_declared": declared,
        "unmasked": [str(p) for p in access.unmasked] if access else [],
        "row_filters": [
            {"principals": [str(p) for p in rule.principals], "where": rule.where}
            for rule in (access.row_filters if access else [])
        ],
        "serve": list(port.serve),
        "broker_readers": [str(p) for p in access.broker_readers]
        if access is not None and access.broker_readers is not None
        else None,
        "expectations": [{"type": e.type, "kwargs": e.kwargs} for e in port.expectation_list],
        "columns": [
            {
                "name": c.name,
                "type": c.type,
                "required": c.required,
                "description": c.description,
                "classification": c.classification,
                "mask": None if c.mask is None else str(c.mask),
                "effective_mask": None if (mask := column_mask(c, policy)) is None else str(mask),
            }
            for c in port.columns
        ],
        "lineage": dict(lineage[address]) if address in lineage else None,
    }


def _grants(
    d: Descriptor, producers: Mapping[str, Descriptor], access_policy: MeshPolicy | None
) -> list[dict[str, Any]]:
    from meshlake.access.identity import Identity
    from meshlake.access.rights import decide
    from meshlake.contract.principals import Principal

    reader = Identity(Principal.product(d.product_name), frozenset(), verified=False, source="pipeline")
    found = []
    for item in d.inputs:
        address = item.address
        producer = d if address.product_name == d.product_name else producers.get(str(address.product_name))
        if producer is None or address.port not in {p.name for p in producer.outputs}:
            continue
        decision = decide(reader, producer, address.port, access_policy)
        found.append(
            {
                "product": str(d.product_name),
                "input": item.name,
                "port": item.port,
                "principal": str(reader.principal),
                "read": decision.read,
                "reason": decision.reason,
                "missing": decision.missing_read,
            }
        )
    return found


def port_lineage(catalog: Any, addresses: Iterable[str]) -> dict[str, dict[str, Any]]:
    """For each port address: its current snapshot and the input snapshots it stamped (`meshlake.inputs`)."""
    import json

    from pyiceberg.exceptions import NoSuchTableError

    from meshlake.contract.address import Address
    from meshlake.contract.stamps import INPUTS

    found: dict[str, dict[str, Any]] = {}
    for address in addresses:
        try:
            table = catalog.load_table(Address.parse(address).identifier)
        except (NoSuchTableError, OSError, ValueError):
            continue
        snapshot = table.current_snapshot()
        if snapshot is None:
            found[address] = {"snapshot_id": None, "inputs": {}}
            continue
        props = snapshot.summary.additional_properties if snapshot.summary else {}
        try:
            inputs = {str(k): int(v) for k, v in json.loads(props.get(INPUTS, "{}")).items()}
        except (TypeError, ValueError):
            inputs = {}
        found[address] = {"snapshot_id": snapshot.snapshot_id, "inputs": inputs}
    return found
