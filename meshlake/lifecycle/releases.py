"""Cut a release of a product (tag every port, then store the manifest), list them, verify and repair them.

Cutting is atomic for readers: the manifest, stored last in one catalog call, is what `release:<version>`
reads. A cut that dies between tagging two ports leaves `release-<version>` tags without a manifest: readers
still get the previous release, `verify` reports the stray tags and `verify(repair=True)` removes them (then the
cut can run again). `verify` also reports a manifest whose snapshot is gone and re-creates a missing tag.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pyiceberg.table.refs import MAIN_BRANCH, SnapshotRefType

from meshlake.contract.releases import TAG_PREFIX, Release, read_releases, release_tag, store_release
from meshlake.contract.semver import SEMVER, sort_key
from meshlake.errors import ReleaseError
from meshlake.write import faults

if TYPE_CHECKING:
    from meshlake.product import Product

TAGGED = "release-tagged"
"""The crash seam's phase after each port is tagged (`MESHLAKE_CRASH_AT=release-tagged:1` dies after the first)."""


def cut_release(product: Product, version: str | None = None) -> Release:
    """Tag every output port's published snapshot `release-<version>` and store the release manifest.

    `version` defaults to the descriptor's version. Refused (`ReleaseError`, nothing changed) when it is not a
    semantic version, when that release exists, when a port has never been written, or when a stray tag of an
    interrupted cut of that version sits on another snapshot (`verify(repair=True)` removes it).
    """
    lake, name = product.lake, str(product.name)
    wanted = version or product.version
    if not SEMVER.match(wanted):
        raise ReleaseError(name, f"release version {wanted!r} is not a semantic version like 1.4.0", version=wanted)
    releases = read_releases(lake.catalog, name)
    if any(r.version == wanted for r in releases):
        newest = max((r.version for r in releases), key=sort_key)
        raise ReleaseError(
            name,
            f"release {wanted} exists already (the newest is {newest}); releases never move — cut another version "
            "with --version",
            version=wanted,
        )
    lake.check_write(product.descriptor, action="release", address=name)
    tag = release_tag(wanted)
    heads: dict[str, int] = {}
    tables = {}
    for port in product.ports:
        table = port.table()
        head = table.metadata.snapshot_by_name(MAIN_BRANCH)
        if head is None:
            raise ReleaseError(
                name, f"port {port.contract.name} has never been written; write it before a release", version=wanted
            )
        existing = table.metadata.refs.get(tag)
        if existing is not None and existing.snapshot_id != head.snapshot_id:
            raise ReleaseError(
                name,
                f"{port.name} already has a ref '{tag}' at snapshot {existing.snapshot_id} (an interrupted cut?); "
                f"run `meshlake release verify {name} --repair` first",
                version=wanted,
            )
        heads[port.contract.name], tables[port.contract.name] = head.snapshot_id, table
    for port_name, snapshot_id in heads.items():
        table = tables[port_name]
        if tag not in table.metadata.refs:
            table.manage_snapshots().create_tag(snapshot_id, tag).commit()
        faults.reached(TAGGED, table.name())
    release = Release(
        product=name,
        version=wanted,
        ports=heads,
        cut_at=datetime.now(UTC).isoformat(timespec="seconds"),
        cut_by=str(lake.principal),
        descriptor_version=product.version,
    )
    store_release(lake.catalog, release)
    return release


@dataclass
class VerifyReport:
    """What `verify` found (and, with repair, fixed) in a product's releases."""

    product: str
    releases: int
    problems: list[dict[str, Any]] = field(default_factory=list)
    repaired: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether no problem is left (repaired ones do not count)."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "product": self.product,
            "releases": self.releases,
            "ok": self.ok,
            "problems": self.problems,
            "repaired": self.repaired,
        }


def verify_releases(product: Product, *, repair: bool = False) -> VerifyReport:
    """Check every release of `product` against its ports; with `repair`, fix what can be fixed.

    Problems: a stray `release-*` tag no manifest names (an interrupted cut: repair removes it), a manifest
    whose port has no tag at its snapshot (repair tags it), a manifest whose snapshot is gone (expired or the
    port dropped: reported, cannot be repaired).
    """
    lake, name = product.lake, str(product.name)
    if repair:
        lake.check_write(product.descriptor, action="release", address=name)
    releases = read_releases(lake.catalog, name)
    report = VerifyReport(name, len(releases))
    named = {r.tag: r for r in releases}
    ports = {port.contract.name: port for port in product.ports}
    for port_name, port in ports.items():
        table = port.table()
        for ref_name, found in list(table.metadata.refs.items()):
            if found.snapshot_ref_type != SnapshotRefType.TAG or not ref_name.startswith(TAG_PREFIX):
                continue
            if ref_name not in named:
                problem = {
                    "port": port_name,
                    "tag": ref_name,
                    "snapshot_id": found.snapshot_id,
                    "problem": "tag of an interrupted cut: no release manifest names it",
                }
                if repair:
                    table.manage_snapshots().remove_tag(ref_name).commit()
                    report.repaired.append(problem | {"action": "tag removed"})
                else:
                    report.problems.append(problem)
    for release in releases:
        for port_name, snapshot_id in release.ports.items():
            owner = ports.get(port_name)
            base = {"port": port_name, "release": release.version, "snapshot_id": snapshot_id}
            if owner is None:
                report.problems.append(base | {"problem": "the port is no longer deployed"})
                continue
            table = owner.table()
            if table.metadata.snapshot_by_id(snapshot_id) is None:
                report.problems.append(base | {"problem": "the snapshot is gone (expired); the release cannot be read"})
                continue
            ref = table.metadata.refs.get(release.tag)
            if ref is not None and ref.snapshot_id == snapshot_id:
                continue
            problem = base | {
                "problem": f"tag {release.tag} is missing"
                if ref is None
                else f"tag {release.tag} points at snapshot {ref.snapshot_id}"
            }
            if repair:
                manage = table.manage_snapshots()
                if ref is not None:
                    manage = manage.remove_tag(release.tag)
                manage.create_tag(snapshot_id, release.tag).commit()
                report.repaired.append(problem | {"action": "tag set"})
            else:
                report.problems.append(problem)
    return report
