"""Merging the key index's runs (`meshlake.write.key_index`), in two tiers, so a merge costs what changed, amortised.

An index holds a base run (`runs[0]`), at most one middle run (`level` 1) and small runs (one per catch-up), and
tombstone runs (one per catch-up that saw deletes). Every run holds rows numbered after those of the runs before it
(a catch-up numbers the rows it adds from `next_row` on), so a tombstone of a row below the first row of the runs
after the base can only delete a row of the base.

- A **middle merge** (`SMALL_RUNS` small runs, or more tombstone runs): the middle and small runs become one middle
  run (the sorted small runs inserted into the sorted middle: O(middle + small)), the tombstones of their rows are
  applied and dropped, the base's tombstones become one run. The base is neither read nor rewritten.
- A **base merge** (the runs after the base and the tombstones pass `MERGE_SHARE` of the base's rows): everything
  becomes one base run (O(port)), as rarely as once per `MERGE_SHARE` of the port changed.

Either writes only its new runs (`key_index_store.written_run`): the base's files stay as they are until a base merge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pyarrow as pa

from meshlake.write.key_hashing import Column
from meshlake.write.key_runs import KeyIndex, Run, concat, new_run, select, take, tombstone_run
from meshlake.write.key_sorting import sorted_by

MERGE_SHARE = 0.25
"""Merge all runs into a new base once the runs after the base and the tombstones hold this share of its rows."""
SMALL_RUNS = 4
"""Merge the small runs into the middle run once there are more than this many (or more tombstone runs than one
more): each one is searched by every lookup."""


def due(index: KeyIndex) -> bool:
    """Whether a merge of `index`'s runs is due (`merged` says which)."""
    return _base_due(index) or _middle_due(index)


def _base_due(index: KeyIndex) -> bool:
    base = len(index.runs[0].rows) if index.runs else 0
    return index.delta_rows > MERGE_SHARE * max(base, 1)


def _middle_due(index: KeyIndex) -> bool:
    return len(_small_runs(index)) > SMALL_RUNS or len(index.tombstones) > SMALL_RUNS + 1


def _small_runs(index: KeyIndex) -> tuple[Run, ...]:
    after_base = index.runs[1:]
    return after_base[1:] if after_base and after_base[0].level == 1 else after_base


def merged(index: KeyIndex, *, full: bool | None = None) -> KeyIndex:
    """`index` with its runs merged (same snapshot, same row space): all into one base run when `full` (by default
    when a base merge is due), else its middle and small runs into one middle run (see the module docstring)."""
    if not index.runs:
        return replace(index, tombstones=())
    if full if full is not None else _base_due(index):
        return _merged_into_base(index)
    return _merged_into_middle(index)


def _merged_into_base(index: KeyIndex) -> KeyIndex:
    alive = _alive(index, 0)
    for tomb in index.tombstones:
        alive[tomb.rows] = False
    kept = [_kept(run, alive, 0) for run in index.runs]
    keys, rows, *columns = _inserted(kept[0], kept[1:])
    return replace(index, runs=(new_run(np.asarray(keys), np.asarray(rows), columns),), tombstones=())


def _merged_into_middle(index: KeyIndex) -> KeyIndex:
    base, after = index.runs[0], index.runs[1:]
    firsts = [int(np.min(run.rows)) for run in after if len(run.rows)]
    low = min(firsts) if firsts else index.next_row  # rows from `low` on are the runs' after the base
    alive = _alive(index, low)
    kept_below = []
    for tomb in index.tombstones:
        rows = np.asarray(tomb.rows)
        cut = int(np.searchsorted(rows, low))  # tombstone rows are sorted
        kept_below.append(rows[:cut])
        alive[rows[cut:] - low] = False
    below = np.concatenate(kept_below) if kept_below else np.empty(0, np.int64)
    if len(index.tombstones) == 1 and len(below) == len(index.tombstones[0].rows):
        tombstones: tuple[Run, ...] = index.tombstones  # unchanged: its files stay
    else:
        tombstones = (tombstone_run(below),) if len(below) else ()
    runs: tuple[Run, ...] = (base,)
    if after:
        kept = [_kept(run, alive, low) for run in after]
        keys, rows, *columns = _inserted(kept[0], kept[1:]) if after[0].level == 1 else _inserted(None, kept)
        if len(rows):
            runs = (base, replace(new_run(np.asarray(keys), np.asarray(rows), columns), level=1))
    return replace(index, runs=runs, tombstones=tombstones)


def _alive(index: KeyIndex, low: int) -> np.ndarray:
    """Whether each row from `low` to `next_row` lies in a live file (tombstones not applied)."""
    alive = np.zeros(max(index.next_row - low, 0), bool)
    for entry in index.files:
        if entry.live and entry.offset + entry.count > low:
            alive[max(entry.offset - low, 0) : entry.offset + entry.count - low] = True
    return alive


def _kept(run: Run, alive: np.ndarray, low: int) -> list[Column]:
    """`run`'s keys, rows and columns whose row is alive (`alive` from row `low` on)."""
    assert run.keys is not None
    mask = alive[np.asarray(run.rows) - low]
    return [np.asarray(run.keys)[mask], np.asarray(run.rows)[mask], *(select(c, mask) for c in run.columns)]


def _inserted(first: list[Column] | None, others: Sequence[list[Column]]) -> list[Column]:
    """The sorted run `first` with the entries of `others` inserted in order (O(n): sorted `others` placed by one
    `np.insert`; `first` is not sorted again); without `first`, `others` sorted."""
    if not others:
        assert first is not None
        return first
    delta = [concat(arrays) for arrays in zip(*others, strict=True)]
    ints = [np.asarray(a) for a in delta[1:] if not isinstance(a, pa.Array)]
    keys, order, taken = sorted_by(np.asarray(delta[0]), ints)  # the stable argsort's order (`key_sorting`)
    held = iter(taken)
    delta = [keys, *(take(a, order) if isinstance(a, pa.Array) else next(held) for a in delta[1:])]
    if first is None:
        return delta
    at = np.searchsorted(np.asarray(first[0]), np.asarray(delta[0]), side="right")
    placed = np.insert(np.arange(len(first[0])), at, len(first[0]) + np.arange(len(delta[0])))
    return [
        np.insert(b, at, d) if isinstance(b, np.ndarray) else take(concat([b, d]), placed)
        for b, d in zip(first, delta, strict=True)
    ]
