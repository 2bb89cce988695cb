"""What a written value must read back as, in the contract's type: the fuzz's own statement of the cast rule.

`to_contract(value, kind)` is the value a port of Arrow type `kind` stores for the Python `value` that was
written (as `pyarrow` gives it back with `as_py`), or `UNFIT` when no value of `kind` is exactly equal to it
(then the write must be refused). `same(expected, stored)` compares exactly: same Python type, NaN equals NaN,
-0.0 differs from 0.0, a zoned time is equal only to a zoned time of the same instant.

The rule, as docs/design.md states it: a cast that cannot lose information is applied (int → long, int →
decimal with enough precision, float → double, nested fields by name); a float goes into a decimal when its
shortest text fits the decimal's scale and precision (0.1 → 0.10, 1.234 → refused for decimal(10,2)); anything
else is refused.
"""

from __future__ import annotations

import datetime as dt
import math
import struct
import uuid
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any

import numpy as np
import pyarrow as pa


class _Unfit:
    """No value of the contract type equals the written one: the write must be refused."""

    def __repr__(self) -> str:
        return "UNFIT"


UNFIT: Any = _Unfit()


class Lossy:
    """A written value that Python cannot show exactly (nanoseconds): it fits no microsecond type."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"Lossy({self.text})"


def to_contract(value: Any, kind: pa.DataType) -> Any:
    """The value of contract type `kind` equal to the written `value`, or `UNFIT`."""
    if value is None:
        return None
    if isinstance(value, Lossy):
        return UNFIT
    if pa.types.is_struct(kind):
        return _struct(value, kind)
    if pa.types.is_map(kind):
        return _map(value, kind)
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        if not isinstance(value, list):
            return UNFIT
        items = [to_contract(item, kind.value_type) for item in value]
        return UNFIT if any(item is UNFIT for item in items) else items
    if isinstance(kind, pa.BaseExtensionType) and kind.extension_name == "arrow.uuid":
        return _uuid(value)
    if pa.types.is_integer(kind):
        return _integer(value, kind.bit_width)
    if pa.types.is_floating(kind):
        return _floating(value, kind.bit_width)
    if pa.types.is_decimal(kind):
        return _decimal(value, kind.precision, kind.scale)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return value if isinstance(value, str) else UNFIT
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        return value if isinstance(value, bytes) else UNFIT
    if pa.types.is_boolean(kind):
        return value if isinstance(value, bool) else UNFIT
    if pa.types.is_date(kind):
        return value if type(value) is dt.date else UNFIT
    if pa.types.is_time(kind):
        return value if isinstance(value, dt.time) else UNFIT
    if pa.types.is_timestamp(kind):
        return _timestamp(value, zoned=kind.tz is not None)
    raise AssertionError(f"the fuzz has no rule for contract type {kind}")


def type_fits(source: pa.DataType, target: pa.DataType) -> bool:
    """Whether values of Arrow type `source` may go into contract type `target` at all (the values decide the rest).

    The kinds: numbers (integers, floats, decimals; not booleans), text, bytes, booleans, dates, times,
    timestamps (zoned only into zoned), lists, maps and structs (whose fields all exist in the contract, by exact
    name); a uuid takes uuids, text and bytes. A column of nulls fits anything.
    """
    if isinstance(source, pa.DictionaryType):
        source = source.value_type
    if pa.types.is_null(source):
        return True
    if isinstance(target, pa.BaseExtensionType) and target.extension_name == "arrow.uuid":
        uuid_source = isinstance(source, pa.BaseExtensionType) and source.extension_name == "arrow.uuid"
        return uuid_source or _kind(source) in ("text", "bytes")
    if pa.types.is_struct(target):
        names = [target.field(i).name for i in range(target.num_fields)]
        if not pa.types.is_struct(source):
            return False
        fields = [source.field(i) for i in range(source.num_fields)]
        return all(f.name in names and type_fits(f.type, target.field(f.name).type) for f in fields)
    if pa.types.is_map(target):
        return (
            pa.types.is_map(source)
            and type_fits(source.key_type, target.key_type)
            and type_fits(source.item_type, target.item_type)
        )
    if pa.types.is_list(target) or pa.types.is_large_list(target):
        return _kind(source) == "list" and type_fits(source.value_type, target.value_type)
    if pa.types.is_timestamp(target):
        return pa.types.is_timestamp(source) and (source.tz is None) == (target.tz is None)
    return _kind(source) == _kind(target)


def _kind(kind: pa.DataType) -> str:
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return "number"
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return "text"
    if (
        pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
        or pa.types.is_binary_view(kind)
        or pa.types.is_fixed_size_binary(kind)
    ):
        return "bytes"
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        return "list"
    if pa.types.is_list_view(kind) or pa.types.is_large_list_view(kind):
        return "list"
    for name in ("boolean", "date", "time", "timestamp", "map", "struct"):
        if getattr(pa.types, f"is_{name}")(kind):
            return name
    return str(kind)


def _number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _integer(value: Any, bits: int) -> Any:
    if isinstance(value, np.floating):
        value = float(value)
    if not _number(value):
        return UNFIT
    if isinstance(value, float) and not math.isfinite(value):
        return UNFIT
    whole = int(value)
    if whole != value or not -(2 ** (bits - 1)) <= whole < 2 ** (bits - 1):
        return UNFIT
    return whole


def _floating(value: Any, bits: int) -> Any:
    if isinstance(value, np.floating):  # a float32 (or half float) written as such: exact as a float
        value = float(value)
    if not _number(value):
        return UNFIT
    if isinstance(value, Decimal):  # read back through the float's shortest text, in the contract's width
        number = float(np.float32(str(value))) if bits == 32 else float(value)
        if not math.isfinite(number) or Decimal(_shortest(number, bits)) != value:
            return UNFIT
        return number
    if isinstance(value, int):
        number = float(value)
        if number != value:
            return UNFIT
    else:
        number = value
    if bits == 32 and math.isfinite(number):
        narrowed: float = struct.unpack("f", struct.pack("f", number))[0] if abs(number) < 3.5e38 else math.inf
        if narrowed != number:
            return UNFIT
    return number


def _shortest(number: float, bits: int) -> str:
    """The shortest text that reads back as the same float of `bits` bits."""
    return str(np.float32(number)) if bits == 32 else repr(number)


def _decimal(value: Any, precision: int, scale: int) -> Any:
    if isinstance(value, np.floating):  # a float32 (or a half float, widened to one): its shortest float32 text
        value = Decimal(str(np.float32(value))) if math.isfinite(value) else float(value)
    if not _number(value):
        return UNFIT
    if isinstance(value, float):
        if not math.isfinite(value):
            return UNFIT
        value = Decimal(repr(value))
    exact = Decimal(value)
    with localcontext(prec=200):
        try:
            fitted = exact.quantize(Decimal(1).scaleb(-scale))
        except InvalidOperation:
            return UNFIT
    if fitted != exact or len(fitted.as_tuple().digits) > precision:
        return UNFIT
    return fitted


def _timestamp(value: Any, *, zoned: bool) -> Any:
    if type(value) is not dt.datetime or (value.tzinfo is not None) != zoned:
        return UNFIT
    return value.astimezone(dt.UTC) if zoned else value


def _uuid(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, bytes):
        return uuid.UUID(bytes=value) if len(value) == 16 else UNFIT
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            return UNFIT
    return UNFIT


def _struct(value: Any, kind: pa.DataType) -> Any:
    if not isinstance(value, dict):
        return UNFIT
    names = [kind.field(i).name for i in range(kind.num_fields)]
    if any(key not in names for key in value):
        return UNFIT  # a field the contract does not have would be dropped
    result = {}
    for index, name in enumerate(names):
        result[name] = to_contract(value.get(name), kind.field(index).type)
        if result[name] is UNFIT:
            return UNFIT
    return result


def _map(value: Any, kind: pa.DataType) -> Any:
    if not isinstance(value, list):
        return UNFIT
    entries = [(to_contract(k, kind.key_type), to_contract(v, kind.item_type)) for k, v in value]
    if any(k is UNFIT or k is None or v is UNFIT for k, v in entries):
        return UNFIT
    return entries


def same(expected: Any, stored: Any) -> bool:
    """Exact equality of a contract value and a stored one (types, NaN, the sign of zero, zones)."""
    if expected is None or stored is None:
        return expected is None and stored is None
    if isinstance(expected, float):
        if type(stored) is not float:
            return False
        if math.isnan(expected):
            return math.isnan(stored)
        return expected == stored and math.copysign(1, expected) == math.copysign(1, stored)
    if isinstance(expected, dict):
        return (
            isinstance(stored, dict)
            and list(stored) == list(expected)
            and all(same(expected[k], stored[k]) for k in expected)
        )
    if isinstance(expected, list | tuple):
        return (
            isinstance(stored, list | tuple)
            and len(stored) == len(expected)
            and all(same(e, s) for e, s in zip(expected, stored, strict=True))
        )
    if isinstance(expected, dt.datetime):
        return (
            type(stored) is dt.datetime and (stored.tzinfo is None) == (expected.tzinfo is None) and stored == expected
        )
    return type(stored) is type(expected) and bool(stored == expected)
