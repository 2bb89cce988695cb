"""Versioned documents kept in the properties of the system namespace `meshlake.system` (policies of the mesh).

A document is JSON text stored under a key prefix, every version kept, so any Iceberg client reads it and its
history (the catalog stores a property value in VARCHAR(1000), so the text is split in chunks):

    <prefix>current            the version in force
    <prefix>v<N>.parts         how many chunks version N has
    <prefix>v<N>.part-000 …    its text

The mesh access policy (`meshlake.access-policy.`) and the governance policy (`meshlake.governance.`) are two
such documents. Who may store a version is decided by the caller.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchNamespaceError

from meshlake.catalog.catalogs import create_namespace_once
from meshlake.contract.address import SYSTEM_DOMAIN
from meshlake.errors import CommitConflictError, ConfigError

SYSTEM_NAMESPACE: Final = (SYSTEM_DOMAIN, "system")
CHUNK: Final = 900


@dataclass(frozen=True)
class VersionedDocument:
    """One kind of versioned document, by its key `prefix` (e.g. `meshlake.governance.`) and a name for errors."""

    prefix: str
    title: str

    @property
    def current_key(self) -> str:
        return self.prefix + "current"

    def parts_key(self, version: int) -> str:
        return f"{self.prefix}v{version}.parts"

    def part_key(self, version: int, index: int) -> str:
        return f"{self.prefix}v{version}.part-{index:03d}"

    def current_version(self, catalog: Catalog) -> int | None:
        """The version in force, or None when the lake has never had one."""
        current = system_properties(catalog).get(self.current_key)
        return None if current is None else int(current)

    def read(self, catalog: Catalog, version: int | None = None) -> str | None:
        """The text of the version in force (or of `version`); None when there is none at all."""
        properties = system_properties(catalog)
        current = properties.get(self.current_key)
        if current is None:
            return None
        wanted = int(current) if version is None else version
        parts = properties.get(self.parts_key(wanted))
        if parts is None:
            raise ConfigError(
                f"{self.title} has no version {wanted}; versions: {', '.join(map(str, self.versions(catalog)))}",
                key="version",
            )
        return "".join(properties.get(self.part_key(wanted, i), "") for i in range(int(parts)))

    def versions(self, catalog: Catalog) -> list[int]:
        """Every stored version, oldest first."""
        found = []
        for key in system_properties(catalog):
            if key.startswith(self.prefix + "v") and key.endswith(".parts"):
                number = key[len(self.prefix) + 1 : -len(".parts")]
                if number.isdigit():
                    found.append(int(number))
        return sorted(found)

    def store(self, catalog: Catalog, render: Callable[[int], str], *, address: str) -> int:
        """Store `render(version)` as the next version and make it current; returns the version.

        Two publishers racing for the same version: the one whose text is not what the catalog then holds gets
        `CommitConflictError` (naming `address`), since the catalog's property update is not a compare-and-set.
        """
        create_namespace_once(catalog, SYSTEM_NAMESPACE, {"owner": "meshlake", "description": "meshlake records"})
        version = (self.current_version(catalog) or 0) + 1
        text = render(version)
        chunks = [text[i : i + CHUNK] for i in range(0, len(text), CHUNK)] or [""]
        updates = {self.part_key(version, i): chunk for i, chunk in enumerate(chunks)}
        updates[self.parts_key(version)] = str(len(chunks))
        updates[self.current_key] = str(version)
        catalog.update_namespace_properties(SYSTEM_NAMESPACE, updates=updates)
        if self.read(catalog, version) != text:
            raise CommitConflictError(
                f"another publisher stored {self.title} version {version} at the same time.", address=address
            )
        return version


def system_properties(catalog: Catalog) -> dict[str, str]:
    """The properties of the system namespace (empty when it does not exist yet)."""
    try:
        return dict(catalog.load_namespace_properties(SYSTEM_NAMESPACE))
    except NoSuchNamespaceError:
        return {}
