"""Whether a port compacts its small files right after a write (the descriptor's `auto_compact`), and the Iceberg
table properties that carry the setting, so that it is visible to anyone who looks at the table and switchable
there too (`meshlake.maintenance.auto_compact` reads them after each commit)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from meshlake.errors import ConfigError

ENABLED_PROPERTY = "meshlake.auto-compact.enabled"
MIN_FILES_PROPERTY = "meshlake.auto-compact.min-files"
MIN_FILES = 50
"""Small files a partition holds before a write compacts them: Delta's `autoCompact.minNumFiles` default. Planning
at 50 files costs about what it costs at 10 (benchmarks/results/history_planning.md: 5.3 ms at 10 files, 20 ms at
10,000), and an append that triggers compaction rewrites about 50 appends' rows, not one's."""


@dataclass(frozen=True)
class AutoCompact:
    """A port's automatic compaction: on or off, and the small files a partition needs before it runs."""

    enabled: bool = True
    min_files: int = MIN_FILES


def auto_compact_properties(setting: AutoCompact) -> dict[str, str]:
    """The table properties that say `setting` (deploy sets them from the descriptor)."""
    return {ENABLED_PROPERTY: str(setting.enabled).lower(), MIN_FILES_PROPERTY: str(setting.min_files)}


def auto_compact_setting(properties: Mapping[str, str]) -> AutoCompact:
    """The setting the table properties say; absent properties (a table deployed before them) mean the default.
    A malformed value is a `ConfigError` naming the property."""
    enabled_text = properties.get(ENABLED_PROPERTY, "true").strip().lower()
    if enabled_text not in ("true", "false"):
        raise ConfigError(
            f"table property {ENABLED_PROPERTY} must be 'true' or 'false', got {enabled_text!r}; set it again, or "
            "redeploy the product to take `auto_compact` from its descriptor",
            key=ENABLED_PROPERTY,
            source="table property",
        )
    min_text = properties.get(MIN_FILES_PROPERTY, str(MIN_FILES)).strip()
    try:
        min_files = int(min_text)
    except ValueError:
        min_files = 0
    if min_files < 2:
        raise ConfigError(
            f"table property {MIN_FILES_PROPERTY} must be a whole number of at least 2, got {min_text!r}; set it "
            "again, or redeploy the product to take `auto_compact` from its descriptor",
            key=MIN_FILES_PROPERTY,
            source="table property",
        )
    return AutoCompact(enabled=enabled_text == "true", min_files=min_files)
