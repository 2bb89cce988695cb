"""Where a lake's files are in object storage: each port's table location, read from the catalog.

A storage policy grants object-key prefixes, so it must name the prefixes the tables really use: each port's
location comes from its loaded table (`table.location()`, plus `write.data.path` / `write.metadata.path`
when a table writes elsewhere), never from a guess. Only what does not exist yet is derived the way meshlake
places new tables (`<root>/<domain>/<product>/<port>`, see `Lake.location_root`): a product's prefix (its
owners create new ports there) and the system namespace's (`<root>/meshlake/system/`, where the quality
history and the access log are created on first use). A catalog that chooses locations itself (REST) has no
root: then only the existing tables' locations are known.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

from meshlake.access.policy import SYSTEM_NAMESPACE
from meshlake.catalog.storage import S3_SCHEMES
from meshlake.contract.address import Address, ProductName
from meshlake.contract.registry import load_port_table, scan_products
from meshlake.errors import BrokenProductError, ConfigError

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table

    from meshlake.contract.descriptor import Descriptor

_WILDCARDS = frozenset("*?")
_PATH_PROPERTIES = ("write.data.path", "write.metadata.path", "write.object-storage.path")


@dataclass(frozen=True, order=True)
class StoragePrefix:
    """An object-key prefix in a bucket: `s3://bucket/key/` (`key` ends with `/`; empty for the whole bucket)."""

    bucket: str
    key: str

    @classmethod
    def of(cls, location: str) -> StoragePrefix:
        """The prefix holding everything under `location` (`s3://bucket/path`, with or without a final `/`)."""
        parsed = urlparse(location)
        if parsed.scheme not in S3_SCHEMES or not parsed.netloc:
            raise ConfigError(
                f"{location!r} is not in an object store (s3://bucket/...): storage policies apply to warehouses "
                "on S3-compatible storage; on a local disk, file permissions are the operating system's",
                key="warehouse",
            )
        key = parsed.path.strip("/")
        if _WILDCARDS & set(parsed.netloc + key):
            raise ConfigError(
                f"the location {location!r} contains '*' or '?', which object-store policies read as wildcards: "
                "a grant on it would reach other files",
                key="warehouse",
            )
        return cls(parsed.netloc, f"{key}/" if key else "")

    def contains(self, other: StoragePrefix) -> bool:
        return self.bucket == other.bucket and other.key.startswith(self.key)

    def holds(self, uri: str) -> bool:
        """Whether the object `uri` (`s3://bucket/key`) is under this prefix."""
        parsed = urlparse(uri)
        return parsed.netloc == self.bucket and parsed.path.lstrip("/").startswith(self.key)

    def child(self, name: str) -> StoragePrefix:
        return StoragePrefix(self.bucket, f"{self.key}{name}/")

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def object_key(uri: str) -> tuple[str, str]:
    """(bucket, key) of an object URI `s3://bucket/key`."""
    parsed = urlparse(uri)
    return parsed.netloc, parsed.path.lstrip("/")


@dataclass(frozen=True)
class PortFiles:
    """One port: its address, the descriptor that declares it, and the prefixes its table's files are under."""

    address: Address
    descriptor: Descriptor
    prefixes: tuple[StoragePrefix, ...]


@dataclass(frozen=True)
class ProductFiles:
    """One deployed product: its prefix (None when the catalog places tables) and its ports' files."""

    name: ProductName
    descriptor: Descriptor
    prefix: StoragePrefix | None
    ports: tuple[PortFiles, ...]


@dataclass(frozen=True)
class SystemFiles:
    """A table of meshlake's own namespace (`meshlake.system.*`): the quality history, the access log."""

    identifier: tuple[str, ...]
    prefixes: tuple[StoragePrefix, ...]

    @property
    def name(self) -> str:
        return ".".join(self.identifier)


@dataclass(frozen=True)
class Layout:
    """Every deployed product's files, and meshlake's own, as the catalog says."""

    root: StoragePrefix | None
    products: tuple[ProductFiles, ...]
    system_prefix: StoragePrefix | None
    system_tables: tuple[SystemFiles, ...]
    notes: tuple[str, ...] = ()
    """What the layout leaves out, and why (a broken product, a port without a table)."""

    @property
    def ports(self) -> tuple[PortFiles, ...]:
        return tuple(port for product in self.products for port in product.ports)

    @property
    def descriptors(self) -> tuple[Descriptor, ...]:
        return tuple(product.descriptor for product in self.products)


def table_prefixes(table: Table) -> tuple[StoragePrefix, ...]:
    """The prefixes a table's files are under: its location, and any write path set elsewhere."""
    found = [StoragePrefix.of(table.location())]
    for key in _PATH_PROPERTIES:
        path = table.properties.get(key)
        if path:
            prefix = StoragePrefix.of(path)
            if not any(known.contains(prefix) for known in found):
                found.append(prefix)
    return tuple(found)


def load_layout(catalog: Catalog, location_root: str | None) -> Layout:
    """Load every product's and system table's location from `catalog` (one table load each).

    `location_root` is `Lake.location_root`: where meshlake places new tables (None: the catalog chooses).
    """
    root = StoragePrefix.of(location_root) if location_root else None
    notes: list[str] = []
    products: list[ProductFiles] = []
    for entry in scan_products(catalog):
        if entry.descriptor is None:
            notes.append(
                f"{entry.name}: left out, its descriptor cannot be read ({entry.problem}); only admins reach it"
            )
            continue
        descriptor = entry.descriptor
        ports: list[PortFiles] = []
        for port in descriptor.outputs:
            address = descriptor.product_name.port(port.name)
            try:
                table = load_port_table(catalog, address)
            except NoSuchTableError:
                notes.append(f"{address}: left out, it has no table (deploy the product again)")
                continue
            except BrokenProductError as exc:
                notes.append(f"{address}: left out, {exc.reason}; only admins reach it")
                continue
            ports.append(PortFiles(address, descriptor, table_prefixes(table)))
        prefix = root.child(descriptor.domain).child(descriptor.name) if root else None
        products.append(ProductFiles(descriptor.product_name, descriptor, prefix, tuple(ports)))
    system_prefix = root.child(SYSTEM_NAMESPACE[0]).child(SYSTEM_NAMESPACE[1]) if root else None
    return Layout(root, tuple(products), system_prefix, _system_tables(catalog), tuple(notes))


def _system_tables(catalog: Catalog) -> tuple[SystemFiles, ...]:
    try:
        identifiers = catalog.list_tables(SYSTEM_NAMESPACE)
    except NoSuchNamespaceError:
        return ()
    found = []
    for identifier in sorted(tuple(i) for i in identifiers):
        try:
            table = catalog.load_table(identifier)
        except NoSuchTableError:
            continue
        found.append(SystemFiles(identifier, table_prefixes(table)))
    return tuple(found)
