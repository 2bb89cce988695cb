"""Importing this module registers every command on the `meshlake` group."""

from meshlake.cli import pipelines, ports, products, quality, query

__all__ = ["pipelines", "ports", "products", "quality", "query"]
