"""The `meshlake` command line: mirrors the Python API, human output by default, `--json` for machines."""

from meshlake.cli.main import cli, main

__all__ = ["cli", "main"]
