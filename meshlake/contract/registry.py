"""What is deployed: descriptors kept in Iceberg namespace properties, readable by any Iceberg client.

Keys on the namespace `(domain, product)`:
`owner`, `description`, `meshlake.version`, `meshlake.api-version`, and the descriptor's canonical
JSON in chunks of at most 900 characters (`meshlake.descriptor.part-000`, …; count in
`meshlake.descriptor.parts`), because SQL catalogs store a property value in VARCHAR(1000).

A product that cannot be read (its stored descriptor incomplete or invalid, or a port's table metadata
gone) is a `BrokenProductError` when asked for by name, and is listed with its problem by `scan_products`,
so one broken product never stops a lake-wide listing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError
from pyiceberg.exceptions import ValidationError as IcebergValidationError
from pyiceberg.table import Table

from meshlake.catalog.storage import storage_refused
from meshlake.contract.address import SYSTEM_DOMAIN, Address, ProductName
from meshlake.contract.descriptor import Descriptor
from meshlake.errors import AccessDeniedError, BrokenProductError, MeshlakeError

PARTS_KEY = "meshlake.descriptor.parts"
PART_KEY = "meshlake.descriptor.part-{:03d}"
CHUNK = 900


def descriptor_properties(descriptor: Descriptor) -> dict[str, str]:
    """Namespace properties that store `descriptor`."""
    text = descriptor.to_json()
    chunks = [text[i : i + CHUNK] for i in range(0, len(text), CHUNK)] or [""]
    props = {
        "owner": descriptor.owner.team,
        "meshlake.version": descriptor.version,
        "meshlake.api-version": descriptor.api_version,
        PARTS_KEY: str(len(chunks)),
    }
    if descriptor.owner.email:
        props["owner.email"] = descriptor.owner.email
    if descriptor.description:
        props["description"] = descriptor.description[:CHUNK]
    for index, chunk in enumerate(chunks):
        props[PART_KEY.format(index)] = chunk
    return props


def read_descriptor(properties: Mapping[str, str], *, name: str = "this product") -> Descriptor | None:
    """The descriptor stored in namespace properties, or None if meshlake did not deploy this namespace.

    Raises `BrokenProductError` (naming `name`) when the stored descriptor is incomplete or invalid.
    """
    if PARTS_KEY not in properties:
        return None
    count_text = properties[PARTS_KEY]
    if not count_text.isdigit():
        raise BrokenProductError(name, f"{PARTS_KEY} is {count_text!r}, not a number")
    keys = [PART_KEY.format(index) for index in range(int(count_text))]
    missing = [key for key in keys if key not in properties]
    if missing:
        raise BrokenProductError(name, f"the stored descriptor lacks {missing[0]} of {len(keys)} parts")
    try:
        return Descriptor.from_json("".join(properties[key] for key in keys))
    except (ValueError, RecursionError) as exc:  # pydantic's ValidationError is a ValueError
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise BrokenProductError(name, f"the stored descriptor is not valid: {first}") from exc


def load_descriptor_of(catalog: Catalog, name: ProductName) -> Descriptor | None:
    """The deployed descriptor of `name`, None if it is not deployed; `BrokenProductError` if unreadable."""
    try:
        properties = catalog.load_namespace_properties(name.namespace)
    except NoSuchNamespaceError:
        return None
    return read_descriptor(properties, name=str(name))


@dataclass(frozen=True)
class ProductEntry:
    """One deployed product as the registry finds it: its descriptor, or why it cannot be read."""

    name: ProductName
    descriptor: Descriptor | None
    problem: str | None = None


def scan_products(catalog: Catalog) -> list[ProductEntry]:
    """Every deployed product, in name order; one whose descriptor cannot be read is listed with the problem.

    Namespaces meshlake did not deploy (no stored descriptor) are left out. On a SQL catalog every product's
    properties come from one query (a lake of 1,000 products: one query instead of 3,000).
    """
    bulk = _sql_product_properties(catalog)
    if bulk is not None:
        found = (_entry(name, props) for name, props in sorted(bulk.items(), key=lambda item: str(item[0])))
        return [entry for entry in found if entry is not None]
    entries: list[ProductEntry] = []
    for name in list_products(catalog):
        try:
            descriptor = load_descriptor_of(catalog, name)
        except BrokenProductError as exc:
            entries.append(ProductEntry(name, None, exc.reason))
            continue
        if descriptor is not None:
            entries.append(ProductEntry(name, descriptor))
    return entries


STORAGE_CREDENTIALS = "this process's storage credentials"
"""Who `AccessDeniedError` names when the storage refuses a read and no principal was given."""


def _entry(name: ProductName, properties: Mapping[str, str]) -> ProductEntry | None:
    try:
        descriptor = read_descriptor(properties, name=str(name))
    except BrokenProductError as exc:
        return ProductEntry(name, None, exc.reason)
    return None if descriptor is None else ProductEntry(name, descriptor)


def _sql_product_properties(catalog: Catalog) -> dict[ProductName, dict[str, str]] | None:
    """The properties of every two-level namespace of a pyiceberg SQL catalog, in one query; None for others."""
    from pyiceberg.catalog.sql import SqlCatalog

    if not isinstance(catalog, SqlCatalog):
        return None
    from sqlalchemy import text

    query = text(
        "SELECT namespace, property_key, property_value FROM iceberg_namespace_properties WHERE catalog_name = :name"
    )
    with catalog.engine.connect() as connection:
        rows = connection.execute(query, {"name": catalog.name}).fetchall()
    found: dict[ProductName, dict[str, str]] = {}
    for namespace, key, value in rows:
        parts = str(namespace).split(".")
        if len(parts) != 2 or parts[0] == SYSTEM_DOMAIN:
            continue
        found.setdefault(ProductName(parts[0], parts[1]), {})[str(key)] = str(value)
    return found


def load_port_table(catalog: Catalog, address: Address, *, principal: str | None = None) -> Table:
    """The table of an output port, freshly loaded.

    Raises `NoSuchTableError` when there is none, `AccessDeniedError` (naming `principal`) when the object
    store refuses the credentials its metadata is read with (403, access denied: the storage level's policies
    at work, not a broken port), and `BrokenProductError` when its metadata cannot be read otherwise (a
    metadata file gone, invalid, or nested beyond what pyiceberg can load).
    """
    try:
        return catalog.load_table(address.identifier)
    except (NoSuchTableError, MeshlakeError):
        raise
    except (OSError, ValueError, RecursionError, IcebergValidationError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        if isinstance(exc, OSError) and storage_refused(exc):
            raise AccessDeniedError(
                principal or STORAGE_CREDENTIALS,
                str(address.unpinned),
                f"storage refused the read of its table metadata ({first})",
                action="read",
                hint="The object store's policy gives these storage credentials no read of the port's files "
                "(see `meshlake access storage-policy`); a reader with masks or a row filter reads through a "
                "process holding broader credentials.",
            ) from exc
        raise BrokenProductError(
            str(address.product_name), f"its table cannot be loaded: {type(exc).__name__}: {first}", port=address.port
        ) from exc


def stale_keys(current: Mapping[str, str], wanted: Mapping[str, str]) -> set[str]:
    """Descriptor keys present in the catalog that the new descriptor no longer writes."""
    ours = {key for key in current if key.startswith("meshlake.descriptor.part-")}
    optional = {key for key in ("owner.email", "description") if key in current}
    return {key for key in ours | optional if key not in wanted}


def list_products(catalog: Catalog) -> list[ProductName]:
    """Every deployed data product (namespaces of two levels holding a meshlake descriptor)."""
    names = [ProductName(ns[0], ns[1]) for ns in product_namespaces(catalog) if ns[0] != SYSTEM_DOMAIN]
    return sorted(set(names), key=str)


def product_namespaces(catalog: Catalog) -> list[tuple[str, str]]:
    """Every two-level namespace `(domain, product)`, meshlake's system namespace included.

    pyiceberg's SQL and REST catalogs list one level at a time (`('logistics',)`, then its children as
    full identifiers); a catalog that lists nested namespaces at the top level is handled too.
    """
    found: set[tuple[str, str]] = set()
    for top in catalog.list_namespaces():
        for namespace in _children(catalog, tuple(top)):
            if len(namespace) == 2:
                found.add((namespace[0], namespace[1]))
    return sorted(found)


def _children(catalog: Catalog, top: tuple[str, ...]) -> list[tuple[str, ...]]:
    if len(top) >= 2:
        return [top]
    try:
        return [tuple(ns) for ns in catalog.list_namespaces(top)]
    except NoSuchNamespaceError:
        return []
