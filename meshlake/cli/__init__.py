"""The `meshlake` command line: mirrors the Python API, human output by default, `--json` for machines.

May import every layer; nothing imports it (it is the top, with `demo`).
"""

from meshlake.cli.main import cli, main

__all__ = ["cli", "main"]
