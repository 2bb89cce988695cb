"""What is deployed: descriptors kept in Iceberg namespace properties, readable by any Iceberg client.

Keys on the namespace `(domain, product)`:
`owner`, `description`, `meshlake.version`, `meshlake.api-version`, and the descriptor's canonical
JSON in chunks of at most 900 characters (`meshlake.descriptor.part-000`, …; count in
`meshlake.descriptor.parts`), because SQL catalogs store a property value in VARCHAR(1000).
"""

from __future__ import annotations

from collections.abc import Mapping

from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchNamespaceError

from meshlake.contract.address import SYSTEM_DOMAIN, ProductName
from meshlake.contract.descriptor import Descriptor

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


def read_descriptor(properties: Mapping[str, str]) -> Descriptor | None:
    """The descriptor stored in namespace properties, or None if meshlake did not deploy this namespace."""
    if PARTS_KEY not in properties:
        return None
    count = int(properties[PARTS_KEY])
    text = "".join(properties.get(PART_KEY.format(index), "") for index in range(count))
    return Descriptor.from_json(text)


def load_descriptor_of(catalog: Catalog, name: ProductName) -> Descriptor | None:
    try:
        properties = catalog.load_namespace_properties(name.namespace)
    except NoSuchNamespaceError:
        return None
    return read_descriptor(properties)


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
