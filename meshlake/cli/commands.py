"""Importing this module registers every command on the `meshlake` group."""

from meshlake.cli import (
    access,
    doctor,
    governance,
    lifecycle,
    lineage,
    maintain,
    pipelines,
    ports,
    products,
    quality,
    query,
    site,
    storage,
    streams,
)

__all__ = [
    "access",
    "doctor",
    "governance",
    "lifecycle",
    "lineage",
    "maintain",
    "pipelines",
    "ports",
    "products",
    "quality",
    "query",
    "site",
    "storage",
    "streams",
]
