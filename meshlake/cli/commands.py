"""Importing this module registers every command on the `meshlake` group."""

from meshlake.cli import maintain, pipelines, ports, products, quality, query

__all__ = ["maintain", "pipelines", "ports", "products", "quality", "query"]
