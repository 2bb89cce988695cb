"""Importing this module registers every command on the `meshlake` group."""

from meshlake.cli import access, governance, maintain, pipelines, ports, products, quality, query, storage, streams

__all__ = [
    "access",
    "governance",
    "maintain",
    "pipelines",
    "ports",
    "products",
    "quality",
    "query",
    "storage",
    "streams",
]
