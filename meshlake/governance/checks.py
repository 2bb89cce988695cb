"""The enforcement points, each one call of the engine: lint files, lint the deployed mesh, check a deploy, check a
run or a write at run time. `meshlake deploy` checks a descriptor with `check_files`, exactly as `meshlake lint`
does, so a deploy refuses exactly what lint reports as errors.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from meshlake.contract.descriptor import Descriptor
from meshlake.errors import BrokenProductError
from meshlake.governance.engine import Report, evaluate
from meshlake.governance.policy import GovernancePolicy, unmatched_scopes
from meshlake.governance.subjects import Subject, deployed_mesh, descriptor_files, load_files, with_deployed

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

    from meshlake.access.policy import MeshPolicy


def check_files(
    paths: Iterable[str | Path],
    *,
    catalog: Catalog | None,
    policy: GovernancePolicy | None,
    access_policy: MeshPolicy | None,
    today: date | None = None,
) -> Report:
    """Lint descriptor files (folders are searched); with a lake, against what it has deployed."""
    subjects, invalid = load_files(descriptor_files(paths))
    known: dict[str, Descriptor] = {}
    if catalog is not None:
        wanted = {s.name for s in subjects} | {
            str(i.address.product_name) for s in subjects for i in s.descriptor.inputs
        }
        known = _deployed(catalog, wanted)
        subjects = with_deployed(subjects, known)
    return evaluate(subjects, policy=policy, known=known, access_policy=access_policy, today=today, invalid=invalid)


def check_mesh(
    catalog: Catalog,
    *,
    policy: GovernancePolicy | None,
    access_policy: MeshPolicy | None,
    today: date | None = None,
) -> Report:
    """Lint every deployed product; a scope of the policy that matches none of them is a `GovernanceError`."""
    deployed, broken = deployed_mesh(catalog)
    if policy is not None:
        unmatched_scopes(policy, deployed.values())
    subjects = [Subject(descriptor, deployed=descriptor) for descriptor in deployed.values()]
    lineage = None
    if policy is not None and policy.lineage and policy.custom_rules():
        from meshlake.governance.mesh_json import port_lineage

        addresses = [f"{s.name}.{port.name}" for s in subjects for port in s.descriptor.outputs]
        lineage = port_lineage(catalog, addresses)
    return evaluate(
        subjects,
        policy=policy,
        known=deployed,
        access_policy=access_policy,
        today=today,
        invalid=broken,
        lineage=lineage,
    )


def check_runtime(
    catalog: Catalog,
    descriptor: Descriptor,
    *,
    policy: GovernancePolicy,
    access_policy: MeshPolicy | None,
    inputs: Iterable[str] | None = None,
) -> Report:
    """The rules that hold while a product runs (GOV009: it reads only ports it is granted), for `descriptor`.

    `inputs` (addresses a write says it read) are checked as if the descriptor declared them.
    """
    from meshlake.contract.descriptor import InputPort

    checked = descriptor
    if inputs is not None:
        declared = {i.port for i in descriptor.inputs}
        extra = [a for a in dict.fromkeys(inputs) if a not in declared]
        if extra:
            named = [InputPort(name=f"stamped_{n}", port=address) for n, address in enumerate(extra)]
            checked = descriptor.model_copy(update={"inputs": [*descriptor.inputs, *named]})
    wanted = {str(i.address.product_name) for i in checked.inputs}
    known = _deployed(catalog, wanted)
    return evaluate([Subject(checked)], policy=policy, known=known, access_policy=access_policy, runtime=True)


def _deployed(catalog: Catalog, names: Iterable[str]) -> dict[str, Descriptor]:
    from meshlake.contract.address import ProductName
    from meshlake.contract.registry import load_descriptor_of

    found: dict[str, Descriptor] = {}
    for name in sorted(set(names)):
        try:
            descriptor = load_descriptor_of(catalog, ProductName.parse(name))
        except BrokenProductError:
            continue
        if descriptor is not None:
            found[name] = descriptor
    return found


def deployed_versions(catalog: Catalog) -> Mapping[str, str]:
    """Which governance version each deployed product last passed (`meshlake.governance-version`), by name."""
    from meshlake.contract.registry import list_products

    found: dict[str, str] = {}
    for name in list_products(catalog):
        try:
            properties = catalog.load_namespace_properties(name.namespace)
        except Exception:  # a product that cannot be read has no version to show
            continue
        version = properties.get(GOVERNANCE_VERSION)
        if version is not None:
            found[str(name)] = version
    return found


GOVERNANCE_VERSION = "meshlake.governance-version"
"""Namespace property: the governance policy version the product's last deploy passed."""
