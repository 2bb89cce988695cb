"""Write modes and row-change modes (kept apart so the CLI and the descriptor can name them without importing
the write path)."""

from typing import Literal

from meshlake.contract.writemodes import ROW_CHANGE_MODES, RowChangeMode

__all__ = ["FILE_FORMATS", "MODES", "ROW_CHANGE_MODES", "RowChangeMode", "WriteMode"]

WriteMode = Literal["append", "overwrite", "upsert", "replace"]
MODES: tuple[str, ...] = ("append", "overwrite", "upsert", "replace")
FILE_FORMATS: tuple[str, ...] = ("parquet", "csv", "jsonl")
