"""Cast Arrow arrays to a port's contract types without changing a value, at any nesting depth.

The rule: a cast is applied only when it cannot lose information. Widening casts always pass (int → long,
int → decimal with room for the digits, float → double, a timestamp made finer); a narrowing or cross-kind
cast passes when every value reads back the same from the contract type (long 5 → int; float 1.25 →
decimal(10,2), since 1.25 reads back as the same float, as 0.1 → 0.10 does; float 1.234 or 1e-09 →
decimal(10,2) do not: they would be stored as 1.23 and 0.00). Structs match fields by name, exactly (case
included); lists, maps and lists of structs cast their elements by the same rule. Anything else — an unknown
or missing required nested field, another kind of value, a value that would change — raises `CastRefusedError`
naming the path (`st.a`, `items[].price`, `tags.key`, `tags.value`), both types and an example value.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc


class CastRefusedError(Exception):
    """Why `source` values at `path` cannot go into the contract's `target` type (`value`: an example)."""

    def __init__(self, path: str, source: pa.DataType, target: pa.DataType, problem: str, value: object = None) -> None:
        self.path = path
        self.source = source
        self.target = target
        self.problem = problem
        self.value = value
        super().__init__(problem)


def cast_column(array: pa.Array, target: pa.Field, path: str) -> pa.Array:
    """`array` in the type of `target`, every value unchanged; raises `CastRefusedError` otherwise."""
    result = _cast(array, target.type, path)
    if not target.nullable and result.null_count:
        _required(result, None, target, path)
    return result


def check_type(source: pa.DataType, target: pa.Field, path: str) -> None:
    """Refuse a `source` type that no value could fit (another kind, unknown or missing fields): no rows needed."""
    cast_column(_empty(source), target, path)


def contract_type_name(kind: pa.DataType) -> str:
    """An Arrow type of a contract in the descriptor's own spelling (`decimal(10,2)`, `list<string>`)."""
    names = {
        pa.int32(): "int",
        pa.int64(): "long",
        pa.float32(): "float",
        pa.float64(): "double",
        pa.large_string(): "string",
        pa.string(): "string",
        pa.large_binary(): "binary",
        pa.binary(): "binary",
        pa.bool_(): "boolean",
        pa.date32(): "date",
        pa.time64("us"): "time",
        pa.timestamp("us"): "timestamp",
    }
    if kind in names:
        return names[kind]
    if pa.types.is_timestamp(kind) and kind.tz:
        return "timestamptz"
    if pa.types.is_decimal(kind):
        return f"decimal({kind.precision},{kind.scale})"
    if _is_uuid(kind):
        return "uuid"
    if pa.types.is_map(kind):
        return f"map<{contract_type_name(kind.key_type)},{contract_type_name(kind.item_type)}>"
    if _is_list(kind):
        return f"list<{contract_type_name(kind.value_type)}>"
    if pa.types.is_struct(kind):
        return "struct<" + ", ".join(f"{f.name}: {contract_type_name(f.type)}" for f in kind) + ">"
    return str(kind)


def _cast(array: pa.Array, target: pa.DataType, path: str) -> pa.Array:
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if pa.types.is_float16(array.type):
        # Arrow's half-float kernels are partial (no comparison; a cast to an integer reads the raw bits):
        # widen to float32 first, which holds every half float exactly.
        array = pc.cast(array, pa.float32())
    source = array.type
    if source == target:
        return array
    if pa.types.is_null(source):
        return pa.nulls(len(array), target)
    if _is_uuid(target):
        return _to_uuid(array, target, path)
    if pa.types.is_struct(target):
        return _struct(array, target, path)
    if pa.types.is_map(target):
        return _map(array, target, path)
    if _is_list(target):
        return _list(array, target, path)
    return _primitive(array, target, path)


def _struct(array: pa.Array, target: pa.DataType, path: str) -> pa.Array:
    if not pa.types.is_struct(array.type):
        raise _kind(array.type, target, path)
    names = [array.type.field(i).name for i in range(array.type.num_fields)]
    wanted = [field.name for field in target]
    for name in names:
        if names.count(name) > 1:
            raise CastRefusedError(f"{path}.{name}", array.type, target, f"field '{name}' appears more than once")
        if name not in wanted:
            raise CastRefusedError(
                f"{path}.{name}",
                array.type,
                target,
                f"field '{name}' is not in the contract (fields of '{path}': {', '.join(wanted)}; names match "
                "exactly, case included)",
            )
    children = array.flatten()  # slice-aware, parent nulls folded in
    valid = array.is_valid()
    columns = []
    for field in target:
        if field.name in names:
            child = _cast(children[names.index(field.name)], field.type, f"{path}.{field.name}")
        elif field.nullable:
            child = pa.nulls(len(array), field.type)
        else:
            raise CastRefusedError(
                f"{path}.{field.name}", array.type, target, f"required field '{field.name}' is missing"
            )
        if not field.nullable and child.null_count:
            _required(child, valid, field, f"{path}.{field.name}")
        columns.append(child)
    mask = array.is_null() if array.null_count else None
    return pa.StructArray.from_arrays(columns, fields=list(target), mask=mask)


def _list(array: pa.Array, target: pa.DataType, path: str) -> pa.Array:
    if not _is_list(array.type):
        raise _kind(array.type, target, path)
    values = _cast(pc.list_flatten(array), target.value_type, f"{path}[]")
    if not target.value_field.nullable and values.null_count:
        _required(values, None, target.value_field, f"{path}[]")
    offsets = _offsets(array, pa.int64() if pa.types.is_large_list(target) else pa.int32())
    mask = array.is_null() if array.null_count else None
    builder = pa.LargeListArray if pa.types.is_large_list(target) else pa.ListArray
    return builder.from_arrays(offsets, values, type=target, mask=mask)


def _map(array: pa.Array, target: pa.DataType, path: str) -> pa.Array:
    if not pa.types.is_map(array.type):
        raise _kind(array.type, target, path)
    offsets = array.offsets  # of the slice, into the whole entries array
    start = offsets[0].as_py()
    entries = array.values.slice(start, offsets[-1].as_py() - start)
    key_values, item_values = entries.flatten()
    keys = _cast(key_values, target.key_type, f"{path}.key")
    items = _cast(item_values, target.item_type, f"{path}.value")
    if not target.item_field.nullable and items.null_count:
        _required(items, None, target.item_field, f"{path}.value")
    mask = array.is_null() if array.null_count else None
    rebased = pc.subtract(offsets, pa.scalar(start, offsets.type))
    return pa.MapArray.from_arrays(rebased, keys, items, type=target, mask=mask)


def _offsets(array: pa.Array, kind: pa.DataType) -> pa.Array:
    """Offsets of `array`'s lists into its flattened values (null lists are empty)."""
    lengths = pc.fill_null(pc.list_value_length(array), 0).cast(kind)
    return pa.concat_arrays([pa.array([0], kind), pc.cumulative_sum(lengths).cast(kind)])


def _primitive(array: pa.Array, target: pa.DataType, path: str) -> pa.Array:
    source = array.type
    problem = _kind_problem(source, target)
    if problem:
        raise CastRefusedError(path, source, target, problem)
    if pa.types.is_decimal(source) != pa.types.is_decimal(target) and (
        pa.types.is_floating(source) or pa.types.is_floating(target)
    ):
        # Through the shortest text that reads back as the same number: exact both ways (Arrow's direct
        # float → decimal cast rounds silently and its decimal → float cast is not correctly rounded).
        cast = _checked(_via_text(target), array, target, path)
        _round_trip(array, cast, _via_text(source), path)
        return cast
    convert: Callable[[pa.Array], pa.Array] = lambda part: pc.cast(part, target, safe=True)  # noqa: E731
    if pa.types.is_integer(source) and pa.types.is_decimal(target):
        digits = 20 + target.scale  # every 64-bit integer fits, then the target's precision is checked
        wide = pa.decimal128(digits, target.scale) if digits <= 38 else pa.decimal256(digits, target.scale)
        convert = lambda part: pc.cast(pc.cast(part, wide), target, safe=True)  # noqa: E731
    cast = _checked(convert, array, target, path)
    if pa.types.is_floating(source) or pa.types.is_floating(target):
        _round_trip(array, cast, lambda part: pc.cast(part, source, safe=False), path)
    return cast


def _via_text(target: pa.DataType) -> Callable[[pa.Array], pa.Array]:
    return lambda part: pc.cast(pc.cast(part, pa.string()), target, safe=True)


def _checked(convert: Callable[[pa.Array], pa.Array], array: pa.Array, target: pa.DataType, path: str) -> pa.Array:
    """`convert(array)`; when it fails, the error names the first value that cannot be converted."""
    try:
        return convert(array)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as exc:
        index = first_failing(array, convert)
        if index is None:
            raise CastRefusedError(path, array.type, target, f"cannot be converted ({exc})") from exc
        value = array[index].as_py()
        try:
            convert(array.slice(index, 1))
            detail = str(exc)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as single:
            detail = str(single)
        if "data loss" in detail or "truncated" in detail:  # rounding: show what would have been stored
            with contextlib.suppress(pa.ArrowInvalid, pa.ArrowNotImplementedError):
                detail = f"it would be stored as {pc.cast(array.slice(index, 1), target, safe=False)[0].as_py()}"
        raise CastRefusedError(path, array.type, target, _would_change(value, target, detail), value) from exc


def _round_trip(array: pa.Array, cast: pa.Array, back: Callable[[pa.Array], pa.Array], path: str) -> None:
    """Refuse a cast whose values do not read back as they were (floating point involved)."""
    source, target = array.type, cast.type
    try:
        again = back(cast)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        index = first_failing(cast, back) or 0
    else:
        same = pc.equal(again, array)
        if pa.types.is_floating(source):
            same = pc.or_kleene(same, pc.and_(pc.is_nan(again), pc.is_nan(array)))
        changed = pc.invert(pc.fill_null(same, True))
        if not pc.any(changed).as_py():
            return
        index = pc.index(changed, True).as_py()
    value = array[index].as_py()
    problem = _would_change(value, target, f"it would be stored as {cast[index].as_py()}")
    raise CastRefusedError(path, source, target, problem, value)


def _would_change(value: object, target: pa.DataType, detail: str) -> str:
    return (
        f"value {shown(value)} does not fit {contract_type_name(target)} exactly ({detail}); round or convert it "
        "in the data, or give the column a type that holds it"
    )


def shown(value: object) -> str:
    """A value as it appears in an error message (at most 80 characters)."""
    text = repr(value) if isinstance(value, (str, bytes)) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def first_failing(array: pa.Array, convert: Callable[[pa.Array], pa.Array]) -> int | None:
    """The index of the first value `convert` fails on (bisecting prefixes), or None if every prefix converts."""

    def fails(length: int) -> bool:
        try:
            convert(_prefix(array, length))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
            return True
        return False

    if not fails(len(array)):
        return None
    good, bad = 0, len(array)
    while bad - good > 1:
        middle = (good + bad) // 2
        if fails(middle):
            bad = middle
        else:
            good = middle
    return bad - 1


def _prefix(array: pa.Array, length: int) -> pa.Array:
    """The first `length` values; nested ones copied, since Arrow casts a slice's whole child arrays."""
    if not pa.types.is_nested(array.type):
        return array.slice(0, length)
    return array.take(pa.array(range(length), pa.int64()))


def _required(values: pa.Array, parent_valid: pa.Array | None, field: pa.Field, path: str) -> None:
    """Refuse nulls in a required field (nested ones only count where their parent is present)."""
    nulls = values.is_null()
    if parent_valid is not None:
        nulls = pc.and_(nulls, parent_valid)
    count = int(pc.sum(nulls.cast(pa.int64())).as_py() or 0)
    if count:
        what = "column" if "." not in path and "[" not in path else "field"
        raise CastRefusedError(path, values.type, field.type, f"required {what} '{path}' has {count} null value(s)")


def _to_uuid(array: pa.Array, target: pa.DataType, path: str) -> pa.Array:
    source = array.type
    if source == target:
        return array
    if pa.types.is_fixed_size_binary(source) and source.byte_width == 16:
        return pa.ExtensionArray.from_storage(target, array)
    if _family(source) not in ("text", "bytes"):
        raise _kind(source, target, path)
    storage = []
    for value in array.to_pylist():
        try:
            storage.append(None if value is None else _uuid_bytes(value))
        except ValueError as exc:
            problem = f"value {shown(value)} is not a UUID ({exc})"
            raise CastRefusedError(path, source, target, problem, value) from exc
    return pa.ExtensionArray.from_storage(target, pa.array(storage, pa.binary(16)))


def _uuid_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        if len(value) == 16:
            return value
        value = value.decode("ascii", errors="replace")
    return uuid.UUID(str(value)).bytes


def _kind(source: pa.DataType, target: pa.DataType, path: str) -> CastRefusedError:
    return CastRefusedError(
        path,
        source,
        target,
        f"holds {_family(source)} values ({source}) but the contract says {contract_type_name(target)}",
    )


def _kind_problem(source: pa.DataType, target: pa.DataType) -> str | None:
    """Why no value of `source` can go into `target`, or None when the values decide."""
    have, want = _family(source), _family(target)
    if have != want:
        return f"holds {have} values ({source}) but the contract says {contract_type_name(target)}"
    if have == "timestamp":
        if target.tz and not source.tz:
            return (
                "holds timestamps without a zone but the contract says timestamptz; attach the zone the times are "
                "in (e.g. UTC) before writing, or make the column a `timestamp` (no zone) in dataproduct.yaml"
            )
        if source.tz and not target.tz:
            return (
                "holds zoned timestamps but the contract says timestamp (no zone); convert them to the zone the "
                "port means and drop the zone before writing, or make the column a `timestamptz`"
            )
    return None


def _family(kind: pa.DataType) -> str:
    checks: tuple[tuple[str, Callable[[pa.DataType], bool]], ...] = (
        ("boolean", pa.types.is_boolean),
        ("number", lambda t: pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)),
        ("text", lambda t: pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)),
        (
            "bytes",
            lambda t: (
                pa.types.is_binary(t)
                or pa.types.is_large_binary(t)
                or pa.types.is_fixed_size_binary(t)
                or pa.types.is_binary_view(t)
            ),
        ),
        ("timestamp", pa.types.is_timestamp),
        ("date", pa.types.is_date),
        ("time", pa.types.is_time),
        ("map", pa.types.is_map),
        ("list", _is_list),
        ("struct", pa.types.is_struct),
        ("null", pa.types.is_null),
    )
    if pa.types.is_dictionary(kind):
        return _family(kind.value_type)
    if _is_uuid(kind):
        return "uuid"
    return next((name for name, check in checks if check(kind)), str(kind))


def _is_list(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_list(kind)
        or pa.types.is_large_list(kind)
        or pa.types.is_fixed_size_list(kind)
        or pa.types.is_list_view(kind)
        or pa.types.is_large_list_view(kind)
    )


def _is_uuid(kind: pa.DataType) -> bool:
    return isinstance(kind, pa.BaseExtensionType) and kind.extension_name == "arrow.uuid"


def _empty(kind: pa.DataType) -> pa.Array:
    return pa.array([], type=kind)
