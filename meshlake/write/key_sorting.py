"""Sorting a key index's run fast (`meshlake.write.key_runs.new_run`): in the order `np.argsort(keys, kind="stable")`
gives, found by a plain vector sort of one packed array on two threads, the run's arrays gathered on two threads.

`np.argsort` of 20 M random int64 sort keys (a compound or string key's hashes) costs seconds here: it sorts
indices by an indirect comparison. `np.sort` of integers uses the CPU's vector sort and is several times faster,
so each key is packed with its index into one uint64: the key, made unsigned in the same order and less the
smallest, shifted right by as few bits as leave room for the index below it. When the keys' span leaves room (a
key column of values spread over less than 2^(64 - index bits)), the packed order is exactly the stable order;
else (hashes: all 64 bits) keys whose leading bits are equal are sorted by their index, and those few groups
(about n² / 2^(65 - index bits): a few hundred at 20 M) are sorted again by their whole key. Each half of the
packed values is sorted on a thread of its own, then the two are merged. The result is the stable argsort's
permutation: equal keys keep their order in the input, so an index built either way holds the same runs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np

PACKED_FROM = 1 << 15
"""Runs shorter than this are sorted by `np.argsort` (the packing's passes cost more than they save)."""
THREADS = 2
CHUNK = 1 << 20
PARALLEL_FROM = 1 << 18
"""Arrays of at least this many values are sorted and gathered on `THREADS` threads."""
REGROUPED_MAX = 4096
"""More groups of keys equal in their packed bits than this (keys spread unevenly over a span too wide to pack
whole): sorted by `np.argsort` instead of group by group."""

_T = TypeVar("_T")
_R = TypeVar("_R")


def sorted_by(keys: np.ndarray, arrays: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """`keys` (int64) sorted, the order that sorts them (`np.argsort(keys, kind="stable")`, found faster: see the
    module docstring), and each of `arrays` (as long as `keys`) in that order."""
    keys = np.asarray(keys, np.int64)
    n = len(keys)
    if n < PACKED_FROM:
        order = np.asarray(np.argsort(keys, kind="stable"), np.int64)
        return keys[order], order, [np.asarray(a)[order] for a in arrays]
    index_bits = (n - 1).bit_length()
    packed = keys.view(np.uint64) ^ np.uint64(1 << 63)  # unsigned, in the same order as the signed keys
    low = packed.min()
    packed -= low
    shift = max(int(packed.max()).bit_length() + index_bits - 64, 0)
    if shift:
        packed >>= np.uint64(shift)
    packed <<= np.uint64(index_bits)
    for start in range(0, n, CHUNK):  # the index, without a second array of n values
        packed[start : start + CHUNK] |= np.arange(start, min(start + CHUNK, n), dtype=np.uint64)
    _sort(packed)
    if not shift:  # the packed values are the keys, exactly: no gather needed
        order = (packed & np.uint64((1 << index_bits) - 1)).view(np.int64)
        packed >>= np.uint64(index_bits)
        packed += low
        packed ^= np.uint64(1 << 63)
        return packed.view(np.int64), order, gathered(arrays, order)
    packed &= np.uint64((1 << index_bits) - 1)
    order = packed.view(np.int64)
    ordered, *taken = gathered([keys, *arrays], order)
    coarse = ordered.view(np.uint64) ^ np.uint64(1 << 63)  # the keys' packed bits, as sorted
    coarse -= low
    coarse >>= np.uint64(shift)
    if not _regrouped(ordered, [order, *taken], coarse):
        order = np.asarray(np.argsort(keys, kind="stable"), np.int64)
        return keys[order], order, [np.asarray(a)[order] for a in arrays]
    return ordered, order, taken


def _sort(values: np.ndarray) -> None:
    """Sort `values` (uint64) in place; when large, its two halves on one thread each, then merged (a stable sort
    of two sorted runs is one merge pass)."""
    if len(values) < PARALLEL_FROM:
        values.sort()
        return
    half = len(values) // 2
    in_parallel(lambda part: part.sort(), [values[:half], values[half:]])
    values.sort(kind="stable")


def _regrouped(ordered: np.ndarray, taken: list[np.ndarray], coarse: np.ndarray) -> bool:
    """Sort by the whole key, in place, each run of equal `coarse` values (the keys' packed leading bits, by which
    and then by index `ordered` and `taken` are sorted) whose keys are out of order (stable: equal keys stay in
    index order); False when there are more than `REGROUPED_MAX` such runs (left as they are)."""
    broken = np.flatnonzero(ordered[1:] < ordered[:-1])
    if not len(broken):
        return True
    starts = np.unique(np.searchsorted(coarse, coarse[broken], side="left"))
    if len(starts) > REGROUPED_MAX:
        return False
    ends = np.searchsorted(coarse, coarse[starts], side="right")
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        local = np.argsort(ordered[start:end], kind="stable")
        for array in (ordered, *taken):
            array[start:end] = array[start:end][local]
    return True


def gathered(arrays: Sequence[np.ndarray], order: np.ndarray) -> list[np.ndarray]:
    """Each of `arrays` taken at `order`, on `THREADS` threads when large (NumPy's gathers release the GIL)."""
    return in_parallel(lambda array: np.ascontiguousarray(np.asarray(array)[order]), arrays, len(order))


def in_parallel(work: Callable[[_T], _R], items: Sequence[_T], size: int = PARALLEL_FROM) -> list[_R]:
    """`work` on each of `items`, on `THREADS` threads when there are several and `size` is at least
    `PARALLEL_FROM`."""
    if len(items) < 2 or size < PARALLEL_FROM:
        return [work(item) for item in items]
    with ThreadPoolExecutor(THREADS, thread_name_prefix="meshlake-key-sort") as pool:
        return list(pool.map(work, items))
