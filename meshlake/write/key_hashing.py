"""How a key index holds and orders key columns: each column's kind (`key_kind`), its values as int64 or bytes
(`key_values`), and the sort key of a row (`sort_key`): the key itself for one int64 column, else a 64-bit hash of the
columns (`string_hash` for bytes, splitmix64's finalizer for int64s). The hash is defined here, not by a library, so
it never changes under a saved index (`meshlake.write.key_index` records `HASH_PROBE`'s hashes in each manifest)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeAlias

import numpy as np
import pyarrow as pa

if TYPE_CHECKING:
    from pyiceberg.schema import Schema
    from pyiceberg.types import IcebergType

Column: TypeAlias = "np.ndarray | pa.LargeBinaryArray"
"""A key column as an index holds it: int64 values (integers, booleans, dates as days, times and timestamps as
microseconds, decimals of precision ≤ 18 as unscaled values), or bytes (strings as UTF-8, UUIDs as their 16
bytes, binary and fixed values, wider decimals as 16-byte little-endian unscaled values)."""

_BYTES_KINDS = ("string", "uuid", "binary")
"""Kinds held as bytes (with `fixed:<length>` and `decimal128:<scale>`), indexed by `string_hash`."""


def key_kind(type_: IcebergType) -> str | None:
    """How an index holds a key column of Iceberg type `type_`: "integer", "boolean", "date" (days), "time" and
    "timestamp" (microseconds), "decimal:<scale>" (precision ≤ 18: unscaled int64), "decimal128:<scale>" (wider: 16
    bytes), "string", "uuid", "binary", "fixed:<length>"; None when it cannot: float and double (a contract
    refuses them as keys, and their equality is not the bytes'), nanosecond timestamps (format v3, which meshlake
    cannot commit to), anything nested (the scan serves such keys)."""
    from pyiceberg import types as t

    simple: dict[type[t.IcebergType], str] = {
        t.IntegerType: "integer",
        t.LongType: "integer",
        t.BooleanType: "boolean",
        t.DateType: "date",
        t.TimeType: "time",
        t.TimestampType: "timestamp",
        t.TimestamptzType: "timestamp",
        t.StringType: "string",
        t.UUIDType: "uuid",
        t.BinaryType: "binary",
    }
    if type(type_) in simple:
        return simple[type(type_)]
    if isinstance(type_, t.DecimalType):
        return f"decimal:{type_.scale}" if type_.precision <= 18 else f"decimal128:{type_.scale}"
    if isinstance(type_, t.FixedType):
        return f"fixed:{len(type_)}"
    return None


def key_kinds(schema: Schema, key: Sequence[str]) -> tuple[str, ...] | None:
    """The `key_kind`s of the key columns `key` of `schema`, None when an index cannot serve one of them."""
    try:
        kinds = tuple(key_kind(schema.find_field(name).field_type) for name in key)
    except ValueError:
        return None
    return None if not kinds or None in kinds else tuple(str(k) for k in kinds)


def held_as_bytes(kind: str) -> bool:
    """Whether an index holds a key column of `kind` as bytes (hashed by `string_hash`, compared exactly)."""
    return kind in _BYTES_KINDS or kind.startswith(("fixed:", "decimal128:"))


def key_values(column: pa.Array | pa.ChunkedArray, kind: str) -> Column:
    """`column` (no nulls) as the index holds a key column of `kind`; ValueError for a decimal that does not fit
    it (more digits than its kind holds: a key no row of such a column can have)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if isinstance(column, pa.ExtensionArray):  # UUIDs as pyiceberg and DuckDB's lossless Arrow give them
        column = column.storage
    if kind.startswith(("decimal:", "decimal128:")):
        return _decimal_values(column, int(kind.split(":")[1]), wide=kind.startswith("decimal128:"))
    if held_as_bytes(kind):
        held: pa.LargeBinaryArray = column.cast(pa.large_binary())
        return held
    if kind == "date":
        column = column.cast(pa.int32())
    elif pa.types.is_timestamp(column.type) and column.type.unit != "us":  # the column's unit (raises if inexact)
        column = column.cast(pa.timestamp("us", column.type.tz))
    elif pa.types.is_time(column.type) and column.type != pa.time64("us"):
        column = column.cast(pa.time64("us"))
    return np.asarray(column.cast(pa.int64()).to_numpy(zero_copy_only=False), np.int64)


def _decimal_values(column: pa.Array, scale: int, *, wide: bool) -> Column:
    """Decimals at `scale` as their unscaled values: int64 (not `wide`), or 16 bytes little-endian two's
    complement (`wide`: Arrow's decimal128 layout). Cast exactly (Arrow raises rather than drop a digit)."""
    try:
        exact = column.cast(pa.decimal128(38, scale))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        raise ValueError(f"a decimal key that does not fit scale {scale}: {error}") from None
    n = len(exact)
    data = exact.buffers()[1]
    words = np.frombuffer(data, "<i8")[2 * exact.offset : 2 * (exact.offset + n)] if n else np.zeros(0, np.int64)
    if wide:
        offsets = np.arange(0, 16 * n + 1, 16, dtype=np.int64)
        packed = np.ascontiguousarray(words).view(np.uint8)
        bytes_: pa.LargeBinaryArray = pa.Array.from_buffers(
            pa.large_binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(packed)]
        )
        return bytes_
    low, high = words[0::2], words[1::2]
    if np.any(high != (low >> 63)):
        raise ValueError("a decimal key with more than 18 digits")
    return np.ascontiguousarray(low, np.int64)


def holds_columns(kinds: Sequence[str]) -> bool:
    """Whether an index of a key of `kinds` keeps the key columns next to their sort key: a compound or a string
    key (or one held as bytes) is sorted by a 64-bit hash, whose matches are checked against them."""
    return len(kinds) > 1 or any(held_as_bytes(kind) for kind in kinds)


def sort_key(columns: Sequence[Column]) -> np.ndarray:
    """What an index sorts by: the key itself (one column of int64 values), or a 64-bit hash of the key columns
    (compound or string keys; a hash match is a candidate, checked against the key columns the index also holds)."""
    if len(columns) == 1 and isinstance(columns[0], np.ndarray):
        return np.asarray(columns[0], np.int64)
    n = len(columns[0])
    if n >= PARALLEL_FROM:  # two halves, one thread each (NumPy's arithmetic releases the GIL)
        from meshlake.write.key_sorting import in_parallel

        halves = [slice(0, n // 2), slice(n // 2, n)]
        return np.concatenate(in_parallel(lambda at: _hashed([c[at] for c in columns]), halves, n))
    return _hashed(columns)


PARALLEL_FROM = 1 << 18
"""Sort keys of at least this many rows are hashed on two threads."""


def _hashed(columns: Sequence[Column]) -> np.ndarray:
    hashed = np.zeros(len(columns[0]), np.uint64)
    with np.errstate(over="ignore"):
        for column in columns:
            bits = string_hash(column) if isinstance(column, pa.Array) else np.asarray(column, np.int64).view(np.uint64)
            hashed = _mix(hashed ^ (bits + np.uint64(0x9E3779B97F4A7C15)))
    return hashed.view(np.int64)


def string_hash(strings: pa.LargeBinaryArray | pa.LargeStringArray) -> np.ndarray:
    """A 64-bit hash of each string (no nulls): its UTF-8 bytes read 8 at a time (little-endian), each word mixed
    in with splitmix64's finalizer, seeded by the length. Defined here, not by a library, so it never changes
    under an index (manifests record `HASH_PROBE`'s hashes and are refused when they differ)."""
    n = len(strings)
    buffers = strings.buffers()
    offsets = (
        np.frombuffer(buffers[1], np.int64)[strings.offset : strings.offset + n + 1] if n else np.zeros(1, np.int64)
    )
    starts, lengths = offsets[:-1], np.diff(offsets)
    width = int(lengths[0]) if n else 0
    if width and width % 8 == 0 and bool(np.all(lengths == width)):
        return _fixed_width_hash(buffers[2], int(offsets[0]), n, width)
    data = np.frombuffer(buffers[2], np.uint8) if buffers[2] is not None else np.empty(0, np.uint8)
    padded = np.zeros(len(data) + 8, np.uint8)
    padded[: len(data)] = data
    words = np.ndarray((len(padded) - 7,), np.dtype("<u8"), padded, strides=(1,))
    with np.errstate(over="ignore"):
        hashed = _mix(lengths.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15))
        active = np.arange(n)
        for word in range(int(lengths.max()) + 7 >> 3 if n else 0):
            active = active[lengths[active] > 8 * word]
            left = (lengths[active] - 8 * word).astype(np.uint64)
            mask = np.where(left >= 8, ~np.uint64(0), (np.uint64(1) << (np.minimum(left, 7) * np.uint64(8))) - 1)
            value = words[starts[active] + 8 * word] & mask
            hashed[active] = _mix(hashed[active] ^ (value + np.uint64(0x9E3779B97F4A7C15)))
    return hashed


def _fixed_width_hash(data: pa.Buffer, start: int, n: int, width: int) -> np.ndarray:
    """`string_hash` of `n` values of `width` bytes each (a multiple of 8: UUIDs, 8- or 16-byte fixed, wide
    decimals), stored one after the other from byte `start`: the same words mixed in the same order, read as one
    matrix instead of gathered value by value (a 6 M-row UUID index hashed ~8 × faster)."""
    words = np.frombuffer(data, np.dtype("<u8"), count=n * width // 8, offset=start).reshape(n, width // 8)
    with np.errstate(over="ignore"):
        hashed = _mix(np.full(n, width, np.uint64) + np.uint64(0x9E3779B97F4A7C15))
        for word in range(width // 8):
            hashed = _mix(hashed ^ (words[:, word] + np.uint64(0x9E3779B97F4A7C15)))
    return hashed


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer of uint64 `x`, computed in place (every caller passes an array of its own, made for
    it: the in-place steps allocate one scratch array instead of five new ones) and returned."""
    scratch = np.right_shift(x, np.uint64(30))
    np.bitwise_xor(x, scratch, out=x)
    np.multiply(x, np.uint64(0xBF58476D1CE4E5B9), out=x)
    np.right_shift(x, np.uint64(27), out=scratch)
    np.bitwise_xor(x, scratch, out=x)
    np.multiply(x, np.uint64(0x94D049BB133111EB), out=x)
    np.right_shift(x, np.uint64(31), out=scratch)
    np.bitwise_xor(x, scratch, out=x)
    return x
