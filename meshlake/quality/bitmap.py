"""Distinct counts of integer keys as bitmaps, when the data files' bounds say the keys are dense.

A uniqueness check compares a key's distinct count with its row count. DuckDB's `count(DISTINCT k)` builds
a hash table of every key (about 60 ns a row); when Iceberg's per-file bounds say every key lies in a
range of at most `MAX_BITS` values, `bitstring_agg` sets one bit per key in a bitmap of that range instead,
about ten times faster. A compound key of integer columns is numbered densely (mixed radix) the same way.

The bounds only choose the method, they never decide the verdict: a row whose key is NULL or outside the
bounds sets no bit, so the bitmap's count falls short of the row count and the exact GROUP BY follow-up
(`meshlake.quality.compile`) counts the duplicates, as it does for a true duplicate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from pyiceberg.conversions import from_bytes
from pyiceberg.io import FileIO
from pyiceberg.manifest import DataFile, ManifestContent
from pyiceberg.schema import Schema
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.types import IntegerType, LongType

from meshlake.quality.pruning import snapshot_manifests
from meshlake.query.manifests import read_manifest
from meshlake.query.plan import ScanPlan

MAX_BITS = 1 << 27
"""Largest bitmap: 16 MiB per thread; a key range wider than this is counted by hashing."""


@dataclass(frozen=True)
class IntRange:
    """Exact bounds of an integer column over some data files, and whether any of them may hold a NULL."""

    low: int
    high: int
    nulls: bool


RangeLookup = Callable[[Sequence[str]], Mapping[str, IntRange]]
"""Column names → the ranges known for them (columns without exact integer bounds are left out)."""


def int_ranges(files: Iterable[DataFile], schema: Schema, names: Sequence[str]) -> dict[str, IntRange]:
    """The bounds of the integer columns `names` over `files`, from their Iceberg metrics; a column is left
    out when a file holding values gives no bounds for it."""
    fields = {name: schema.find_field(name) for name in names if _is_int(schema, name)}
    lows: dict[str, list[int]] = {name: [] for name in fields}
    highs: dict[str, list[int]] = {name: [] for name in fields}
    nulls: set[str] = set()
    unknown: set[str] = set()
    for file in (f for f in files if f.record_count > 0):
        lower, upper, null_counts = file.lower_bounds or {}, file.upper_bounds or {}, file.null_value_counts or {}
        for name, field in fields.items():
            count = null_counts.get(field.field_id)
            if count != 0:
                nulls.add(name)
            low, high = lower.get(field.field_id), upper.get(field.field_id)
            if low is not None and high is not None:
                kind = field.field_type
                assert isinstance(kind, IntegerType | LongType)
                lows[name].append(int(from_bytes(kind, low)))
                highs[name].append(int(from_bytes(kind, high)))
            elif count != file.record_count:  # values without bounds
                unknown.add(name)
    return {
        name: IntRange(min(lows[name]), max(highs[name]), name in nulls)
        for name in fields
        if lows[name] and name not in unknown
    }


def distinct_count(values: Sequence[str], ranges: Sequence[IntRange | None], *, where: str | None = None) -> str | None:
    """`count(DISTINCT key) FILTER (WHERE where)` of the key made of `values` (SQL of integer columns) as a
    bitmap count, or None when a bound is unknown or the key range is wider than `MAX_BITS`. NULL and
    out-of-range keys set no bit.
    """
    known = [r for r in ranges if r is not None]
    if not values or len(known) != len(values):
        return None
    spans = [r.high - r.low + 1 for r in known]
    bits = math.prod(spans)
    if bits > MAX_BITS:
        return None
    guard = " AND ".join(f"{v} BETWEEN {r.low} AND {r.high}" for v, r in zip(values, known, strict=True))
    strides = [math.prod(spans[i + 1 :]) for i in range(len(spans))]
    key = " + ".join(f"({v}::BIGINT - {r.low}) * {stride}" for v, r, stride in zip(values, known, strides, strict=True))
    only = f" FILTER (WHERE {where})" if where else ""
    return f"coalesce(bit_count(bitstring_agg(CASE WHEN {guard} THEN {key} END, 0, {bits - 1}){only}), 0)"


def _is_int(schema: Schema, name: str) -> bool:
    try:
        return isinstance(schema.find_field(name).field_type, IntegerType | LongType)
    except ValueError:
        return False


def staged_ranges(
    metadata: TableMetadata, io: FileIO, base_id: int | None, staged: ScanPlan, added: Sequence[DataFile]
) -> RangeLookup:
    """A lookup of the ranges over the data files of a `staged` plan: its `added` files and files of the base
    snapshot `base_id`, whose metrics the base's manifests hold (all read only when a check asks)."""

    def lookup(names: Sequence[str]) -> Mapping[str, IntRange]:
        wanted = {task.path for task in staged.tasks}
        files = [f for f in added if f.file_path in wanted]
        rest = wanted - {f.file_path for f in files}
        snapshot = metadata.snapshot_by_id(base_id) if base_id is not None and rest else None
        if snapshot is not None:
            for manifest in snapshot_manifests(snapshot, io):
                if manifest.content == ManifestContent.DATA:
                    files += [e.data_file for e in read_manifest(io, manifest) if e.data_file.file_path in rest]
        if len(files) != len(wanted):
            return {}  # a file whose metrics are not at hand: count by hashing
        return int_ranges(files, metadata.schema(), names)

    return lookup
