"""Importing this module registers every command on the `meshlake` group."""

from meshlake.cli import access, doctor, governance, maintain, pipelines, ports, products, quality, query, storage

__all__ = [
    "access",
    "doctor",
    "governance",
    "maintain",
    "pipelines",
    "ports",
    "products",
    "quality",
    "query",
    "storage",
]
