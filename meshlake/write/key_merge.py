"""Merging the key index's runs (`meshlake.write.key_index`): when a merge is due, and the merge itself."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from meshlake.write.key_hashing import Column
from meshlake.write.key_runs import KeyIndex, concat, new_run, select, take

MERGE_SHARE = 0.125
"""Merge deltas and tombstones into a new base once they hold this share of the base's rows (or `MAX_RUNS`)."""
MAX_RUNS = 12


def due(index: KeyIndex) -> bool:
    base = len(index.runs[0].rows) if index.runs else 0
    return len(index.runs) + len(index.tombstones) > MAX_RUNS or index.delta_rows > MERGE_SHARE * max(base, 1)


def merged(index: KeyIndex) -> KeyIndex:
    """`index` with its runs and tombstones merged into one base run (same snapshot, same row space)."""
    alive = np.zeros(index.next_row, bool)
    for entry in index.files:
        if entry.live:
            alive[entry.offset : entry.offset + entry.count] = True
    for tomb in index.tombstones:
        alive[tomb.rows] = False
    kept: list[list[Column]] = []
    for run in index.runs:
        assert run.keys is not None
        mask = alive[run.rows]
        kept.append([np.asarray(run.keys)[mask], np.asarray(run.rows)[mask], *(select(c, mask) for c in run.columns)])
    if not kept:
        return replace(index, tombstones=())
    base = kept[0]
    if len(kept) > 1:
        delta = [concat(arrays) for arrays in zip(*kept[1:], strict=True)]
        order = np.argsort(delta[0], kind="stable")
        delta = [take(a, order) for a in delta]
        at = np.searchsorted(np.asarray(base[0]), np.asarray(delta[0]), side="right")
        placed = np.insert(np.arange(len(base[0])), at, len(base[0]) + np.arange(len(delta[0])))
        base = [
            np.insert(b, at, d) if isinstance(b, np.ndarray) else take(concat([b, d]), placed)
            for b, d in zip(base, delta, strict=True)
        ]
    keys, rows = np.asarray(base[0]), np.asarray(base[1])
    return replace(index, runs=(new_run(keys, rows, base[2:]),), tombstones=())
