"""A forked child shares none of its parent's DuckDB databases (`meshlake.query.session`): DuckDB is not fork-safe,
so the child opens its own, and the parent's go on serving the parent."""

from __future__ import annotations

import multiprocessing
import shutil
import sys
from typing import Any

import pytest

import meshlake as ml
from meshlake.write import index_keeper, key_index_store
from tests.conftest import DescriptorWriter
from tests.write.test_key_index import KEYED, _indexed_port, index_folder, rows, state


def _upsert_in_child(home: str) -> None:
    port = ml.connect(home=home).port("keys.idx.single")
    shutil.rmtree(index_folder(port))  # the lookup reads the keys through DuckDB (`key_index._read_keys`)
    key_index_store._memo.clear()
    result = port.write(rows([5, 6, 500], 7.0), mode="upsert", write_mode="merge-on-read")
    sys.exit(0 if result.rows_updated == 2 and index_keeper.wait_all(60) else 1)


@pytest.mark.skipif(sys.platform == "win32", reason="fork is POSIX only")
def test_a_forked_child_upserts_with_databases_of_its_own(lake: ml.Lake, write_descriptor: DescriptorWriter) -> None:
    lake.deploy(write_descriptor(KEYED))
    port: Any = _indexed_port(lake)  # the parent's shared database has read the keys (the lookup)
    child = multiprocessing.get_context("fork").Process(target=_upsert_in_child, args=(str(lake.settings.home),))
    child.start()
    child.join(120)
    assert child.exitcode == 0, f"the forked child's upsert ended with {child.exitcode}"
    result = port.write(rows([8, 9, 900], 8.0), mode="upsert", write_mode="merge-on-read")
    assert result.rows_updated == 2, "the parent's database still serves the parent"
    found = state(port)
    assert found[(5,)] == 7.0 and found[(500,)] == 7.0 and found[(8,)] == 8.0 and found[(900,)] == 8.0
