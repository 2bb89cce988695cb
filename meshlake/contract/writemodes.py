"""How a port's upserts, replaces and deletes remove old rows (the descriptor's `write_mode`), and the Iceberg
table properties that tell other engines the same."""

from typing import Literal

RowChangeMode = Literal["copy-on-write", "merge-on-read", "auto"]
ROW_CHANGE_MODES: tuple[str, ...] = ("copy-on-write", "merge-on-read", "auto")
DEFAULT_ROW_CHANGE_MODE: RowChangeMode = "auto"
ICEBERG_MODE_PROPERTIES = ("write.update.mode", "write.delete.mode", "write.merge.mode")
"""Iceberg's row-level operation modes (Spark's UPDATE, DELETE and MERGE INTO follow them)."""


def iceberg_mode_properties(mode: str) -> dict[str, str]:
    """The table properties for a port's `write_mode`: `auto` is merge-on-read for other engines (meshlake's auto
    rewrites files instead only when a change removes a large share of them)."""
    value = "copy-on-write" if mode == "copy-on-write" else "merge-on-read"
    return dict.fromkeys(ICEBERG_MODE_PROPERTIES, value)
