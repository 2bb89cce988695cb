"""Release manifests: which snapshot of each output port a product release is, kept in the system namespace.

A release is JSON text in the properties of `meshlake.system` (split in chunks, as `meshlake.contract.documents`
stores its documents), under `meshlake.release.<domain>.<product>@<version>.`; one catalog call stores it whole,
so a release exists for readers all at once or not at all. `ADDRESS@release:1.4.0`, `AT (VERSION =>
'release:1.4.0')`, `port.at(release="1.4.0")` and input ports' `release:` pins read a port's snapshot from the
manifest (a range, `release:^1.4`, reads the newest matching release). Each port also carries the tag
`release-<version>` at that snapshot, for other Iceberg engines and so maintenance keeps the snapshot; cutting
and checking releases is `meshlake.lifecycle.releases`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pyiceberg.catalog import Catalog

from meshlake.catalog.catalogs import create_namespace_once
from meshlake.contract.address import Address
from meshlake.contract.documents import CHUNK, SYSTEM_NAMESPACE, system_properties
from meshlake.contract.semver import VersionRange, sort_key
from meshlake.errors import CommitConflictError, ReleaseError, SnapshotNotFoundError

PREFIX = "meshlake.release."
TAG_PREFIX = "release-"


def release_tag(version: str) -> str:
    """The tag a release puts on each of its ports (`release-1.4.0`)."""
    return TAG_PREFIX + version.replace("+", "_")


@dataclass(frozen=True)
class Release:
    """One release of a product: the snapshot of each output port, who cut it and when."""

    product: str
    version: str
    ports: Mapping[str, int] = field(default_factory=dict)
    cut_at: str = ""
    cut_by: str = ""
    descriptor_version: str = ""

    @property
    def tag(self) -> str:
        return release_tag(self.version)

    def to_dict(self) -> dict[str, Any]:
        return {
            "product": self.product,
            "version": self.version,
            "ports": dict(sorted(self.ports.items())),
            "cut_at": self.cut_at,
            "cut_by": self.cut_by,
            "descriptor_version": self.descriptor_version,
            "tag": self.tag,
        }

    def to_json(self) -> str:
        data = self.to_dict()
        data.pop("tag")
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Release:
        data = json.loads(text)
        return cls(
            product=str(data["product"]),
            version=str(data["version"]),
            ports={str(k): int(v) for k, v in data["ports"].items()},
            cut_at=str(data.get("cut_at", "")),
            cut_by=str(data.get("cut_by", "")),
            descriptor_version=str(data.get("descriptor_version", "")),
        )


def _base(product: str, version: str) -> str:
    return f"{PREFIX}{product}@{version}."


def read_releases(catalog: Catalog, product: str, properties: Mapping[str, str] | None = None) -> list[Release]:
    """Every release of `product` (`domain.product`), oldest version first."""
    props = system_properties(catalog) if properties is None else properties
    head = f"{PREFIX}{product}@"
    found = []
    for key, parts in props.items():
        if key.startswith(head) and key.endswith(".parts"):
            version = key[len(head) : -len(".parts")]
            base = _base(product, version)
            text = "".join(props.get(f"{base}part-{i:03d}", "") for i in range(int(parts)))
            try:
                found.append(Release.from_json(text))
            except (ValueError, KeyError, TypeError) as exc:
                raise ReleaseError(
                    product, f"the manifest of release {version} cannot be read ({exc})", version=version
                ) from None
    return sorted(found, key=lambda r: sort_key(r.version))


def find_release(catalog: Catalog, product: str, spec: str) -> Release:
    """The release `spec` names (a version, or the newest matching a range); `ReleaseError` when none does."""
    wanted = VersionRange.parse(spec)
    releases = read_releases(catalog, product)
    version = wanted.newest([r.version for r in releases])
    if version is None:
        known = ", ".join(r.version for r in releases) or "none"
        raise ReleaseError(
            product,
            f"no release matches {spec!r}; its releases: {known}. Cut one with `meshlake release cut {product}`.",
            version=spec,
        )
    return next(r for r in releases if r.version == version)


def release_snapshot(catalog: Catalog, address: Address, spec: str) -> tuple[Release, int]:
    """The release `spec` names and its snapshot of the port at `address`."""
    release = find_release(catalog, str(address.product_name), spec)
    snapshot_id = release.ports.get(address.port)
    if snapshot_id is None:
        raise SnapshotNotFoundError(
            str(address.unpinned),
            f"release:{spec}",
            exists=f"Release {release.version} has no snapshot of this port (its ports: "
            f"{', '.join(sorted(release.ports)) or 'none'}).",
        )
    return release, snapshot_id


def store_release(catalog: Catalog, release: Release) -> None:
    """Store a new release manifest in one catalog call; `ReleaseError` if the version exists already."""
    create_namespace_once(catalog, SYSTEM_NAMESPACE, {"owner": "meshlake", "description": "meshlake records"})
    if any(r.version == release.version for r in read_releases(catalog, release.product)):
        raise ReleaseError(release.product, f"release {release.version} exists already", version=release.version)
    text = release.to_json()
    chunks = [text[i : i + CHUNK] for i in range(0, len(text), CHUNK)] or [""]
    base = _base(release.product, release.version)
    updates = {f"{base}part-{i:03d}": chunk for i, chunk in enumerate(chunks)}
    updates[f"{base}parts"] = str(len(chunks))
    catalog.update_namespace_properties(SYSTEM_NAMESPACE, updates=updates)
    stored = [r for r in read_releases(catalog, release.product) if r.version == release.version]
    if not stored or stored[0] != release:
        raise CommitConflictError(
            f"another process cut release {release.version} of {release.product} at the same time.",
            address=release.product,
        )
