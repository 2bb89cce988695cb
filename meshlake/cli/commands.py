"""Importing this module registers every command on the `meshlake` group."""

from meshlake.cli import access, governance, lifecycle, maintain, pipelines, ports, products, quality, query, storage

__all__ = [
    "access",
    "governance",
    "lifecycle",
    "maintain",
    "pipelines",
    "ports",
    "products",
    "quality",
    "query",
    "storage",
]
