"""A key index's full build (`meshlake.write.key_index.build`) made fast: its sort (`key_sorting.sorted_by`) gives
exactly the stable argsort's order, its hash on two threads exactly the one-thread hash, and its read of whole files
by pyarrow (`key_scan`) exactly DuckDB's scan: the same index, bit for bit, on every key kind."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest

import meshlake as ml
from meshlake.query.plan import cached_plan
from meshlake.write import index_keeper, key_hashing, key_index, key_index_store, key_scan, key_sorting
from tests.write.test_key_index import assert_same, head_id, index_folder
from tests.write.test_key_index_types import PORTS, key_of, kinds_lake, typed_rows

__all__ = ["kinds_lake"]  # the fixture, used by name

RNG = np.random.default_rng(18)
N = 3 * key_sorting.PARALLEL_FROM  # large enough for the packed sort, its threads and the hash's


def _keys(case: str) -> np.ndarray:
    """Sort keys of each shape the packed sort meets: hashes (all 64 bits, groups sorted again), a narrow span
    (packed exactly), repeated keys (stable order of equals), and keys too uneven to pack (the argsort fallback)."""
    if case == "hashes":
        return RNG.integers(-(2**63), 2**63 - 1, N, dtype=np.int64)
    if case == "narrow":
        return RNG.integers(-1000, 1000, N, dtype=np.int64)
    if case == "repeated hashes":
        return np.repeat(RNG.integers(-(2**63), 2**63 - 1, N // 4, dtype=np.int64), 4)[RNG.permutation(N)]
    if case in ("uneven", "very uneven"):  # groups sorted again one by one; too many of them: argsort
        near = RNG.integers(0, 1 << (30 if case == "uneven" else 36), N // 2, dtype=np.int64)
        return np.concatenate([near, near - 2**62 - 2**61, [2**63 - 1]]).astype(np.int64)
    if case == "descending":
        return np.arange(N, 0, -1, dtype=np.int64) * 7
    if case == "small":
        return RNG.integers(-5, 5, 1000, dtype=np.int64)
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case", ["hashes", "narrow", "repeated hashes", "uneven", "very uneven", "descending", "small"]
)
def test_the_packed_sort_gives_the_stable_argsort_order(case: str) -> None:
    keys = _keys(case)
    payload = RNG.integers(0, 1 << 40, len(keys), dtype=np.int64)
    before = keys.copy()
    ordered, order, (taken,) = key_sorting.sorted_by(keys, [payload])
    expected = np.argsort(before, kind="stable")
    assert np.array_equal(order, expected)
    assert np.array_equal(ordered, before[expected]) and np.array_equal(taken, payload[expected])
    assert np.array_equal(keys, before), "the caller's keys are left as they were"


def test_the_hash_on_two_threads_is_the_hash_on_one() -> None:
    numbers = RNG.integers(-(2**63), 2**63 - 1, N, dtype=np.int64)
    strings = pa.array([f"key {i} " * (i % 4 + 1) for i in range(N)], pa.large_binary())
    for columns in ([numbers, numbers % 7], [strings], [numbers[1:], strings.slice(1)]):
        two = key_hashing.sort_key(columns)
        assert np.array_equal(two, key_hashing._hashed(columns))
        assert len(np.unique(two)) > 0.99 * len(two), "a hash, not a constant"


def _runs(index: Any) -> list[tuple[np.ndarray, ...]]:
    found = []
    for run in index.runs:
        columns = [
            np.asarray(c) if isinstance(c, np.ndarray) else c.to_numpy(zero_copy_only=False) for c in run.columns
        ]
        found.append((np.asarray(run.keys), np.asarray(run.rows), *columns))
    return found


@pytest.mark.parametrize("name", sorted(PORTS))
def test_a_build_reading_files_by_pyarrow_is_the_build_duckdb_scans(
    kinds_lake: ml.Lake, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three files (one with deletes: scanned by DuckDB) of each key kind: both builds hold the same runs, and the
    index finds what the scan finds."""
    port = kinds_lake.port(f"keys.kinds.{name}")
    kinds = PORTS[name]
    port.write(typed_rows(kinds, list(range(0, 300)), 1.0))
    port.write(typed_rows(kinds, list(range(300, 500)), 1.0))
    port.write(typed_rows(kinds, list(range(100, 120)), 2.0), mode="upsert", write_mode="merge-on-read")
    index_keeper.wait_all()
    table = port.table()
    plan = cached_plan(table, head_id(port))
    key = tuple(f"k{i}" for i in range(len(kinds)))
    found_kinds = key_hashing.key_kinds(plan.schema, key)
    assert found_kinds is not None
    read: list[str] = []
    monkeypatch.setattr(key_scan, "_names_of", _spy(key_scan._names_of, read))
    by_pyarrow = key_index.build(table, plan, key, found_kinds)
    assert len(read) == sum(not task.position_deletes for task in plan.tasks) >= 2, "whole files read by pyarrow"
    monkeypatch.setattr(key_scan, "plain", lambda task: False)
    by_duckdb = key_index.build(table, plan, key, found_kinds)
    for mine, theirs in zip(_runs(by_pyarrow), _runs(by_duckdb), strict=True):
        assert all(np.array_equal(a, b) for a, b in zip(mine, theirs, strict=True))
    monkeypatch.undo()
    assert_same(port, key_of(kinds, [0, 5, 101, 119, 299, 300, 499, 500]))


def _spy(function: Any, calls: list[str]) -> Any:
    def spied(*args: Any) -> Any:
        calls.append("read")
        return function(*args)

    return spied


def test_a_file_whose_key_column_has_no_field_id_is_left_to_the_scan() -> None:
    with_ids = pa.schema([pa.field("k0", pa.int64(), metadata={b"PARQUET:field_id": b"1"})])
    assert key_scan._names_of(with_ids, [1]) == ["k0"]
    assert key_scan._names_of(pa.schema([pa.field("k0", pa.int64())]), [1]) is None
    assert key_scan._names_of(with_ids, [2]) is None
    nested = pa.schema([pa.field("k0", pa.struct([("a", pa.int64())]), metadata={b"PARQUET:field_id": b"1"})])
    assert key_scan._names_of(nested, [1]) is None


@pytest.mark.parametrize("keeping", ["background", "inline"])
def test_a_built_index_is_saved_aside_and_found_by_the_next_process(
    kinds_lake: ml.Lake, keeping: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first upsert's build is saved on the keeper thread (inline: before the write returns); once the keeper
    is done the manifest of the base snapshot is on disk and loads as the index the lookup used."""
    monkeypatch.setenv(index_keeper.KEEPING, keeping)
    port = kinds_lake.port("keys.kinds.dec")
    kinds = PORTS["dec"]
    base = port.write(typed_rows(kinds, list(range(400)), 1.0)).snapshot_id
    port.write(typed_rows(kinds, [3, 4, 900], 2.0), mode="upsert", write_mode="merge-on-read")
    if keeping == "inline":
        assert (index_folder(port) / f"snap-{base}.json").exists(), "saved before the write returned"
    assert index_keeper.wait_all(60)
    table = port.table()
    plan = cached_plan(table, base)
    field_ids = (plan.schema.find_field("k0").field_id,)
    loaded = key_index_store.load(index_folder(port), table, base, ("k0",), field_ids, ("decimal:2",))
    assert loaded is not None and len(loaded.runs[0].rows) == 400
    assert_same(port, key_of(kinds, [3, 4, 5, 900, 901]))
