"""Fixtures for the quality engines: the corpus as Parquet files, and Great Expectations imported once."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.quality.corpus import DATASETS


def relation(paths: Sequence[Path | str]) -> str:
    """What the write gate checks: a DuckDB relation over Parquet files."""
    listed = ", ".join(f"'{p}'" for p in paths)
    return f"(SELECT * FROM read_parquet([{listed}]))"


def write_parquet(table: pa.Table, path: Path) -> Path:
    pq.write_table(table, path)
    return path


@pytest.fixture(scope="session")
def corpus_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every corpus dataset written once as a Parquet file."""
    folder = tmp_path_factory.mktemp("corpus")
    return {name: write_parquet(table, folder / f"{name}.parquet") for name, table in DATASETS.items()}


@pytest.fixture(scope="session")
def gx() -> ModuleType:
    """Great Expectations, imported once per session (about 3 s)."""
    return pytest.importorskip("great_expectations")
