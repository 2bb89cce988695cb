"""`meshlake_kept` itself, fed (file index, row number) pairs in every order a scan could hand it: runs of
consecutive rows (its fast path), gaps, reversed and interleaved files, chunks that cross files. Each answer is
checked against the mask bit by bit; a row outside its file fails the query wherever it stands in the chunk."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from meshlake.query.native import masks as native_masks

KEY = "ml-test-kept"
COUNTS = [3000, 50, 4100]  # file 1 has no deletes (offset -1); files 0 and 2 are masked
RNG = np.random.default_rng(18)
DELETED = [np.flatnonzero(RNG.random(n) < 0.3) for n in COUNTS]


@pytest.fixture
def mask(native_con: Any) -> Iterator[duckdb.DuckDBPyConnection]:
    library = native_masks._lib()
    assert library is not None
    offsets = np.array([0, -1, COUNTS[0]], np.int64)
    bits = COUNTS[0] + COUNTS[2]
    flags = np.zeros(bits, bool)
    flags[DELETED[0]] = True
    flags[COUNTS[0] + DELETED[2]] = True
    packed = np.packbits(flags, bitorder="little")
    words = np.pad(packed, (0, (-len(packed)) % 8)).view(np.uint64)
    library.put(KEY, offsets, np.array(COUNTS, np.int64), words, bits)
    yield native_con
    library.drop(KEY)


def kept(con: duckdb.DuckDBPyConnection, files: list[int], rows: list[int | None]) -> list[bool]:
    pairs = pa.table({"f": pa.array(files, pa.uint64()), "r": pa.array(rows, pa.int64()), "i": range(len(files))})
    con.register("pairs", pairs)
    try:
        answer = con.sql(f"SELECT meshlake_kept('{KEY}', f, r) FROM pairs ORDER BY i").fetchall()
    finally:
        con.unregister("pairs")
    return [value for (value,) in answer]


def expected(files: list[int], rows: list[int]) -> list[bool]:
    deleted = [set(d.tolist()) for d in DELETED]
    return [f == 1 or r not in deleted[f] for f, r in zip(files, rows, strict=True)]


def orders() -> dict[str, tuple[list[int], list[int]]]:
    every = [(f, r) for f, n in enumerate(COUNTS) for r in range(n)]
    shuffled = [every[i] for i in RNG.permutation(len(every))]
    gaps = [(f, r) for f, r in every if r % 3 != 1]
    reversed_rows = [(f, r) for f in (2, 0) for r in range(COUNTS[f] - 1, -1, -1)]
    interleaved = [(i % 3 and 2, r) for i, r in enumerate(range(COUNTS[0]))]
    # consecutive in length but not in order: first and last are n - 1 apart, the middle is swapped
    swapped = [(0, r) for r in [0, 2, 1, *range(3, 2048)]]
    return {
        name: ([f for f, _ in pairs], [r for _, r in pairs])
        for name, pairs in {
            "files in order": every,
            "shuffled": shuffled,
            "gaps": gaps,
            "reversed": reversed_rows,
            "interleaved": interleaved,
            "swapped in a run": swapped,
        }.items()
    }


@pytest.mark.parametrize("order", list(orders()))
def test_every_row_is_answered_from_its_own_files_bits(mask: duckdb.DuckDBPyConnection, order: str) -> None:
    files, rows = orders()[order]
    answers = kept(mask, files, list(rows))
    assert answers == expected(files, rows)
    assert answers.count(False) > 0, "the order must include deleted rows"


@pytest.mark.parametrize(
    ("files", "rows", "error"),
    [
        ([0] * 2048, [*range(2047), COUNTS[0]], "holds more rows than its manifest entry counts"),
        ([0] * 3001, list(range(3001)), "holds more rows than its manifest entry counts"),
        ([2, 2, 2], [5, -1, 6], "holds more rows than its manifest entry counts"),
        ([0, 0, 0], [7, 1 << 62, 8], "holds more rows than its manifest entry counts"),
        ([0, 3], [1, 1], "a file index past the files of its mask"),
        ([0, 0], [1, None], "a NULL file index or row number"),
    ],
    ids=[
        "past the end closing a run",
        "a run one row too long",
        "a negative row",
        "a huge row",
        "a file past the mask",
        "NULL",
    ],
)
def test_a_row_outside_its_file_fails_the_query(
    mask: duckdb.DuckDBPyConnection, files: list[int], rows: list[int | None], error: str
) -> None:
    with pytest.raises(duckdb.InvalidInputException, match=error):
        kept(mask, files, rows)
