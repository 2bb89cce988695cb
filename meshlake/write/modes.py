"""Write modes (kept apart so the CLI can name them without importing the write path)."""

from typing import Literal

WriteMode = Literal["append", "overwrite", "upsert", "replace"]
MODES: tuple[str, ...] = ("append", "overwrite", "upsert", "replace")
FILE_FORMATS: tuple[str, ...] = ("parquet", "csv", "jsonl")
