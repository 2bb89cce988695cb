"""Generated Arrow batches for one port with a column of every contract type, right and wrong.

Rows are generated as Python values (with edge values: overflowing ints, NaN and infinities, decimals at
their limits, extreme dates, unicode), then each column is encoded in an Arrow type: the contract's own,
another one that holds the values exactly (int32 for long, a decimal with more scale, timestamps in
nanoseconds, a dictionary, a string view, a struct with its fields reordered…), or a wrong one (text for a
number, a decimal with too many digits, a float into a decimal, a naive timestamp for a timestamptz, a struct
with an extra, missing or renamed field…). Batch-level mutations drop, add, rename, repeat and null columns,
slice, split and empty the batch. What was written is read off the Arrow arrays (`written`), so the checks
never trust the generator's intent.
"""

from __future__ import annotations

import datetime as dt
import random
import string
import struct
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tests.fuzz.values import Lossy

ADDRESS = "fuzz.writes.rows"
CONTRACT: dict[str, str] = {
    "id": "long",
    "name": "string",
    "i": "int",
    "l": "long",
    "f": "float",
    "d": "double",
    "dec": "decimal(10,2)",
    "big": "decimal(38,6)",
    "flag": "boolean",
    "day": "date",
    "t": "time",
    "ts": "timestamp",
    "tstz": "timestamptz",
    "bin": "binary",
    "u": "uuid",
    "st": "struct<a: long, b: string, inner: struct<x: decimal(10,2)>>",
    "items": "list<struct<price: decimal(10,2), qty: int>>",
    "tags": "map<string, long>",
    "nums": "list<long>",
    "meta": "map<string, struct<v: long>>",
}
REQUIRED = ("id", "name")
GATE_LIMIT = 10**15
"""The port's expectations: `l` between ±GATE_LIMIT, and no `name` starting with FAIL."""


PARTITIONINGS = (["bucket[2](id)", "flag"], ["bucket[4](id)", "day(tstz)"])
"""Few partitions (files hold several rows, so deletes and upserts rewrite the rows they keep), or many (a
timestamp partition over years 1 to 9999)."""


def descriptor(partition_by: list[str]) -> dict[str, Any]:
    return {
        "apiVersion": "meshlake/v1",
        "domain": "fuzz",
        "name": "writes",
        "version": "1.0.0",
        "owner": {"team": "fuzz"},
        "outputs": [
            {
                "name": "rows",
                "columns": [{"name": n, "type": t, "required": n in REQUIRED} for n, t in CONTRACT.items()],
                "primary_key": ["id"],
                "partition_by": partition_by,
                "expectations": [
                    {
                        "expect_column_values_to_be_between": {
                            "column": "l",
                            "min_value": -GATE_LIMIT,
                            "max_value": GATE_LIMIT,
                        }
                    },
                    {"expect_column_values_to_not_match_regex": {"column": "name", "regex": "^FAIL"}},
                ],
            }
        ],
    }


# -- Python values, with the edges --------------------------------------------------------------------------

UTC = dt.UTC
DECIMAL_10_2 = Decimal("99999999.99")


def _f32(value: float) -> float:
    return float(struct.unpack("f", struct.pack("f", value))[0])


def _text(rng: random.Random) -> str:
    return rng.choice(
        [
            "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(1, 8))),
            "",
            "eu",
            "e_",
            "50%",
            "it's",
            'say "hi"',
            "ünïcödé",
            "日本語",
            "🙂🙃",
            "a\x00b",
            "line\nbreak",
            "\\%_",
            "FAIL-gate",
            "x" * 300,
        ]
    )


def _datetime(rng: random.Random, *, wide: bool) -> dt.datetime:
    if wide and rng.random() < 0.3:
        return rng.choice(
            [dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59, 999999), dt.datetime(1970, 1, 1)]
        )
    seconds = rng.randint(-5_000_000_000, 5_000_000_000)
    return dt.datetime(1970, 1, 1) + dt.timedelta(seconds=seconds, microseconds=rng.randrange(1_000_000))


def _value(rng: random.Random, kind: str) -> Any:
    """A value of contract type `kind` (a top-level column type), edges included."""
    edge = rng.random() < 0.25
    if kind == "long":
        if edge:
            return rng.choice([0, -1, 2**31, -(2**31) - 1, 2**53 + 1, 2**63 - 1, -(2**63), GATE_LIMIT + 1])
        return rng.randint(-(10**6), 10**6)
    if kind == "int":
        return rng.choice([0, 2**31 - 1, -(2**31)]) if edge else rng.randint(-1000, 1000)
    if kind == "float":
        if edge:
            return rng.choice([float("nan"), float("inf"), -float("inf"), -0.0, _f32(3.4e38), _f32(1e-45), 0.5])
        return _f32(rng.uniform(-1e6, 1e6))
    if kind == "double":
        if edge:
            return rng.choice([float("nan"), float("inf"), -0.0, 0.1, 1e308, 5e-324, float(2**53), 1.25])
        return rng.uniform(-1e9, 1e9)
    if kind == "decimal(10,2)":
        if edge:
            return rng.choice([DECIMAL_10_2, -DECIMAL_10_2, Decimal("0.00"), Decimal("-0.01"), Decimal("1.25")])
        return Decimal(rng.randint(-(10**8) + 1, 10**8 - 1)).scaleb(-2)
    if kind == "decimal(38,6)":
        if edge:
            return rng.choice([Decimal("9" * 32 + ".999999"), Decimal("-0.000001"), Decimal("1E+20")])
        return Decimal(rng.randint(-(10**20), 10**20)).scaleb(-6)
    if kind == "string":
        return _text(rng)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "date":
        if edge:
            return rng.choice([dt.date(1, 1, 1), dt.date(9999, 12, 31), dt.date(1970, 1, 1)])
        return dt.date(1970, 1, 1) + dt.timedelta(days=rng.randint(-50_000, 50_000))
    if kind == "time":
        return dt.time(rng.randrange(24), rng.randrange(60), rng.randrange(60), rng.randrange(1_000_000))
    if kind == "timestamp":
        return _datetime(rng, wide=edge)
    if kind == "timestamptz":
        return _datetime(rng, wide=edge).replace(tzinfo=UTC)
    if kind == "binary":
        return bytes(rng.randrange(256) for _ in range(rng.choice([0, 1, 4, 16, 33])))
    if kind == "uuid":
        return uuid.UUID(int=rng.getrandbits(128))
    if kind.startswith("struct"):
        return {
            "a": _maybe(rng, lambda: _value(rng, "long")),
            "b": _maybe(rng, lambda: _text(rng)),
            "inner": _maybe(rng, lambda: {"x": _maybe(rng, lambda: _value(rng, "decimal(10,2)"))}),
        }
    if kind.startswith("list<struct"):
        return [
            _maybe(
                rng,
                lambda: {
                    "price": _maybe(rng, lambda: _value(rng, "decimal(10,2)")),
                    "qty": _maybe(rng, lambda: _value(rng, "int")),
                },
            )
            for _ in range(rng.randint(0, 3))
        ]
    if kind == "map<string, long>":
        keys = rng.sample(["a", "b", "c", "ü", "", "k" * 40], rng.randint(0, 3))
        return [(key, _maybe(rng, lambda: _value(rng, "long"))) for key in keys]
    if kind.startswith("map<string, struct"):
        keys = rng.sample(["a", "b", "c"], rng.randint(0, 2))
        return [(key, _maybe(rng, lambda: {"v": _maybe(rng, lambda: _value(rng, "long"))})) for key in keys]
    if kind == "list<long>":
        return [_maybe(rng, lambda: _value(rng, "long")) for _ in range(rng.randint(0, 4))]
    raise AssertionError(kind)


def _maybe(rng: random.Random, make: Callable[[], Any]) -> Any:
    return None if rng.random() < 0.15 else make()


def make_row(rng: random.Random, row_id: int) -> dict[str, Any]:
    row = {name: (None if rng.random() < 0.1 else _value(rng, kind)) for name, kind in CONTRACT.items()}
    row["id"] = row_id
    if row["name"] is None:
        row["name"] = _text(rng)
    if rng.random() < 0.85 and isinstance(row["name"], str) and row["name"].startswith("FAIL"):
        row["name"] = "ok"
    if rng.random() < 0.85 and isinstance(row["l"], int) and abs(row["l"]) > GATE_LIMIT:
        row["l"] = 7
    return row


# -- Arrow encodings of a column --------------------------------------------------------------------------

Encoder = Callable[[list[Any]], pa.Array]
UUID_TYPE = pa.uuid()


def _arr(kind: pa.DataType) -> Encoder:
    return lambda values: pa.array(values, type=kind)


def _mapped(convert: Callable[[Any], Any], kind: pa.DataType) -> Encoder:
    return lambda values: pa.array([None if v is None else convert(v) for v in values], type=kind)


def _dictionary(kind: pa.DataType) -> Encoder:
    return lambda values: pa.array(values, type=kind).dictionary_encode()


def _float_value(value: Any) -> float:
    return float(value)


def _int_value(value: Any) -> int:
    return int(value)


def _decimal_text(value: Any) -> Decimal:
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


INTEGER: list[tuple[str, Encoder]] = [
    ("int64", _arr(pa.int64())),
    ("int32", _arr(pa.int32())),
    ("int16", _arr(pa.int16())),
    ("int8", _arr(pa.int8())),
    ("uint8", _arr(pa.uint8())),
    ("uint32", _arr(pa.uint32())),
    ("uint64", _arr(pa.uint64())),
    ("float64", _mapped(_float_value, pa.float64())),
    ("float32", _mapped(_float_value, pa.float32())),
    ("float16", _mapped(_float_value, pa.float16())),
    ("decimal(20,0)", _mapped(Decimal, pa.decimal128(20, 0))),
    ("decimal(38,2)", _mapped(Decimal, pa.decimal128(38, 2))),
    ("decimal256(76,0)", _mapped(Decimal, pa.decimal256(76, 0))),
    ("string", _mapped(str, pa.string())),
    ("boolean", _mapped(bool, pa.bool_())),
    ("dictionary", _dictionary(pa.int64())),
    ("null", lambda values: pa.nulls(len(values))),
    ("uint64 overflow", _mapped(lambda v: int(v) + 2**63, pa.uint64())),
]
FLOATING: list[tuple[str, Encoder]] = [
    ("float64", _arr(pa.float64())),
    ("float32", _arr(pa.float32())),
    ("float16", _arr(pa.float16())),
    ("int64", _mapped(_int_value, pa.int64())),
    ("decimal(38,10)", _mapped(_decimal_text, pa.decimal128(38, 10))),
    ("decimal256(60,20)", _mapped(_decimal_text, pa.decimal256(60, 20))),
    ("string", _mapped(repr, pa.string())),
    ("dictionary", _dictionary(pa.float64())),
]
DECIMAL: list[tuple[str, Encoder]] = [
    ("decimal(10,2)", _arr(pa.decimal128(10, 2))),
    ("decimal(12,4)", _arr(pa.decimal128(12, 4))),
    ("decimal(38,6)", _arr(pa.decimal128(38, 6))),
    ("decimal(38,10) with more digits", _mapped(lambda v: v + Decimal("0.0000000001"), pa.decimal128(38, 10))),
    ("decimal(9,1) rounded", _mapped(lambda v: round(v, 1), pa.decimal128(38, 1))),
    ("decimal256(50,2)", _arr(pa.decimal256(50, 2))),
    ("decimal(5,2)", _arr(pa.decimal128(5, 2))),
    ("float64", _mapped(_float_value, pa.float64())),
    ("float64 with digits", _mapped(lambda v: float(v) + 0.001, pa.float64())),
    ("float64 tiny", _mapped(lambda v: 1e-09, pa.float64())),
    ("float64 nan", _mapped(lambda v: float("nan"), pa.float64())),
    ("float32", _mapped(_float_value, pa.float32())),
    ("int64", _mapped(_int_value, pa.int64())),
    ("string", _mapped(str, pa.string())),
]
TEXT: list[tuple[str, Encoder]] = [
    ("string", _arr(pa.string())),
    ("large_string", _arr(pa.large_string())),
    ("string_view", _arr(pa.string_view())),
    ("dictionary", _dictionary(pa.string())),
    ("binary", _mapped(lambda v: v.encode(), pa.binary())),
    ("int64", _mapped(len, pa.int64())),
    ("null", lambda values: pa.nulls(len(values))),
]
BOOLEAN: list[tuple[str, Encoder]] = [
    ("bool", _arr(pa.bool_())),
    ("int8", _mapped(int, pa.int8())),
    ("string", _mapped(lambda v: "true" if v else "false", pa.string())),
]
DATE: list[tuple[str, Encoder]] = [
    ("date32", _arr(pa.date32())),
    ("date64", _arr(pa.date64())),
    ("date64 with time", lambda vs: pc.add(pa.array(vs, pa.date64()).cast(pa.int64()), 1).cast(pa.date64())),
    ("timestamp", _mapped(lambda v: dt.datetime(v.year, v.month, v.day), pa.timestamp("us"))),
    ("string", _mapped(str, pa.string())),
]
TIME: list[tuple[str, Encoder]] = [
    ("time64[us]", _arr(pa.time64("us"))),
    ("time64[ns]", _arr(pa.time64("ns"))),
    (
        "time64[ns] with nanos",
        lambda vs: pc.add(pa.array(vs, pa.time64("ns")).cast(pa.int64()), 1).cast(pa.time64("ns")),
    ),
    ("time32[ms]", _mapped(lambda v: v.replace(microsecond=v.microsecond // 1000 * 1000), pa.time32("ms"))),
    ("time32[s] of rounded", _mapped(lambda v: v.replace(microsecond=0), pa.time32("s"))),
    ("string", _mapped(str, pa.string())),
]


def _timestamps(zoned: bool) -> list[tuple[str, Encoder]]:
    tz = "UTC" if zoned else None
    return [
        ("timestamp[us]", _arr(pa.timestamp("us", tz=tz))),
        ("timestamp[ns]", _arr(pa.timestamp("ns", tz=tz))),
        (
            "timestamp[ns] with nanos",
            lambda vs: pc.add(pa.array(vs, pa.timestamp("ns", tz=tz)).cast(pa.int64()), 1).cast(
                pa.timestamp("ns", tz=tz)
            ),
        ),
        ("timestamp[ms] of rounded", _mapped(lambda v: v.replace(microsecond=0), pa.timestamp("ms", tz=tz))),
        ("timestamp[s] of rounded", _mapped(lambda v: v.replace(microsecond=0), pa.timestamp("s", tz=tz))),
        ("zoned Paris", _arr(pa.timestamp("us", tz="Europe/Paris")) if zoned else _arr(pa.timestamp("us", tz="UTC"))),
        ("zoned +05:30", _mapped(lambda v: v.replace(tzinfo=UTC), pa.timestamp("us", tz="+05:30"))),
        ("naive", _mapped(lambda v: v.replace(tzinfo=None), pa.timestamp("us"))),
        ("date32", _mapped(lambda v: v.date(), pa.date32())),
        ("string", _mapped(lambda v: v.isoformat(), pa.string())),
    ]


BINARY: list[tuple[str, Encoder]] = [
    ("binary", _arr(pa.binary())),
    ("large_binary", _arr(pa.large_binary())),
    ("binary_view", _arr(pa.binary_view())),
    ("fixed_size_binary(4)", _mapped(lambda v: (v + b"\0" * 4)[:4], pa.binary(4))),
    ("string", _mapped(lambda v: v.hex(), pa.string())),
]
UUIDS: list[tuple[str, Encoder]] = [
    ("uuid", _mapped(lambda v: v.bytes, UUID_TYPE)),
    ("fixed_size_binary(16)", _mapped(lambda v: v.bytes, pa.binary(16))),
    ("binary", _mapped(lambda v: v.bytes, pa.binary())),
    ("string", _mapped(str, pa.string())),
    ("string upper", _mapped(lambda v: str(v).upper(), pa.string())),
    ("string not a uuid", _mapped(lambda v: str(v)[:-1] + "g", pa.string())),
    ("binary of 15 bytes", _mapped(lambda v: v.bytes[:15], pa.binary())),
    ("large_string", _mapped(str, pa.large_string())),
]

LONG = pa.int64()
DEC = pa.decimal128(10, 2)
INNER = pa.struct([("x", DEC)])
ST = pa.struct([("a", LONG), ("b", pa.string()), ("inner", INNER)])


def _struct_with(fields: list[tuple[str, pa.DataType]], convert: Callable[[dict[str, Any]], dict[str, Any]]) -> Encoder:
    kind = pa.struct(fields)
    return lambda values: pa.array([None if v is None else convert(v) for v in values], type=kind)


def _same(value: dict[str, Any]) -> dict[str, Any]:
    return value


def _null_over_values(values: list[Any]) -> pa.Array:
    """Null structs whose children still hold values (Arrow allows it; the values are not part of the data)."""
    filled = [{"a": 1, "b": "hidden", "inner": {"x": Decimal("1.00")}} if v is None else v for v in values]
    children = pa.array(filled, type=ST).flatten()
    return pa.StructArray.from_arrays(children, fields=list(ST), mask=pa.array([v is None for v in values]))


STRUCT: list[tuple[str, Encoder]] = [
    ("exact", _arr(ST)),
    ("fields reordered", _struct_with([("inner", INNER), ("b", pa.string()), ("a", LONG)], _same)),
    ("b missing", _struct_with([("a", LONG), ("inner", INNER)], _same)),
    ("extra field c", _struct_with([*ST, ("c", pa.int64())], lambda v: {**v, "c": 1})),
    ("extra null field c", _struct_with([*ST, ("c", pa.int64())], _same)),
    ("a renamed A", _struct_with([("A", LONG), ("b", pa.string()), ("inner", INNER)], lambda v: {**v, "A": v["a"]})),
    ("a as int32", _struct_with([("a", pa.int32()), ("b", pa.string()), ("inner", INNER)], _same)),
    (
        "a as string",
        _struct_with([("a", pa.string()), ("b", pa.string()), ("inner", INNER)], lambda v: {**v, "a": str(v["a"])}),
    ),
    (
        "inner.x as float64",
        _struct_with(
            [("a", LONG), ("b", pa.string()), ("inner", pa.struct([("x", pa.float64())]))],
            lambda v: {**v, "inner": None if v["inner"] is None else {"x": _opt(float, v["inner"]["x"])}},
        ),
    ),
    (
        "inner.x with 3 decimals",
        _struct_with(
            [("a", LONG), ("b", pa.string()), ("inner", pa.struct([("x", pa.decimal128(12, 3))]))],
            lambda v: {
                **v,
                "inner": None if v["inner"] is None else {"x": _opt(lambda x: x + Decimal("0.001"), v["inner"]["x"])},
            },
        ),
    ),
    (
        "inner as string",
        _struct_with(
            [("a", LONG), ("b", pa.string()), ("inner", pa.string())], lambda v: {**v, "inner": str(v["inner"])}
        ),
    ),
    ("not a struct", _mapped(str, pa.string())),
    ("sliced", lambda values: pa.array([None, *values], type=ST).slice(1)),
    ("null structs over values", _null_over_values),
]


def _opt(convert: Callable[[Any], Any], value: Any) -> Any:
    return None if value is None else convert(value)


ITEM = pa.struct([("price", DEC), ("qty", pa.int32())])


def _items(item: pa.DataType, convert: Callable[[dict[str, Any]], dict[str, Any]], *, large: bool = False) -> Encoder:
    kind = pa.large_list(item) if large else pa.list_(item)
    return lambda values: pa.array([None if v is None else [_opt(convert, e) for e in v] for v in values], type=kind)


ITEMS: list[tuple[str, Encoder]] = [
    ("exact", _arr(pa.list_(ITEM))),
    ("large_list", _items(ITEM, _same, large=True)),
    ("list_view", lambda values: pa.array(values, type=pa.list_view(ITEM))),
    ("sliced", lambda values: pa.array([[{"price": Decimal(1), "qty": 1}], *values], type=pa.list_(ITEM)).slice(1)),
    (
        "price as float64",
        _items(
            pa.struct([("price", pa.float64()), ("qty", pa.int32())]), lambda e: {**e, "price": _opt(float, e["price"])}
        ),
    ),
    ("price with 4 decimals", _items(pa.struct([("price", pa.decimal128(14, 4)), ("qty", pa.int32())]), _same)),
    (
        "price with a digit more",
        _items(
            pa.struct([("price", pa.decimal128(14, 3)), ("qty", pa.int32())]),
            lambda e: {**e, "price": _opt(lambda p: p + Decimal("0.005"), e["price"])},
        ),
    ),
    ("qty as int64", _items(pa.struct([("price", DEC), ("qty", pa.int64())]), _same)),
    (
        "qty overflowing",
        _items(
            pa.struct([("price", DEC), ("qty", pa.int64())]),
            lambda e: {**e, "qty": _opt(lambda q: q + 2**40, e["qty"])},
        ),
    ),
    (
        "extra field",
        _items(pa.struct([("price", DEC), ("qty", pa.int32()), ("sku", pa.string())]), lambda e: {**e, "sku": "x"}),
    ),
    ("renamed Price", _items(pa.struct([("Price", DEC), ("qty", pa.int32())]), lambda e: {**e, "Price": e["price"]})),
    ("qty missing", _items(pa.struct([("price", DEC)]), _same)),
    (
        "list of strings",
        lambda values: pa.array([None if v is None else [str(e) for e in v] for v in values], pa.list_(pa.string())),
    ),
]


def _entries(key: pa.DataType, item: pa.DataType, convert: Callable[[Any], Any] = lambda v: v) -> Encoder:
    kind = pa.map_(key, item)
    return lambda values: pa.array(
        [None if v is None else [(k, _opt(convert, x)) for k, x in v] for v in values], type=kind
    )


TAGS: list[tuple[str, Encoder]] = [
    ("exact", _arr(pa.map_(pa.string(), LONG))),
    ("large_string keys, int32 values", _entries(pa.large_string(), pa.int32())),
    ("float64 values", _entries(pa.string(), pa.float64(), float)),
    ("decimal values", _entries(pa.string(), pa.decimal128(38, 0), Decimal)),
    ("overflowing values", _entries(pa.string(), pa.decimal128(38, 0), lambda v: Decimal(v) * 10**19)),
    (
        "binary keys",
        lambda values: pa.array(
            [None if v is None else [(k.encode(), x) for k, x in v] for v in values], pa.map_(pa.binary(), LONG)
        ),
    ),
    (
        "list of key-value structs",
        lambda values: pa.array(
            [None if v is None else [{"key": k, "value": x} for k, x in v] for v in values],
            pa.list_(pa.struct([("key", pa.string()), ("value", LONG)])),
        ),
    ),
    ("sliced", lambda values: pa.array([[("z", 1)], *values], type=pa.map_(pa.string(), LONG)).slice(1)),
    (
        "entries named k and v",
        _arr(pa.map_(pa.field("k", pa.string(), nullable=False), pa.field("v", LONG))),
    ),
    (
        "a key twice",
        lambda values: pa.array([None if v is None else [*v, *v[:1]] for v in values], type=pa.map_(pa.string(), LONG)),
    ),
]
NUMS: list[tuple[str, Encoder]] = [
    ("exact", _arr(pa.list_(LONG))),
    ("int32 elements", _arr(pa.list_(pa.int32()))),
    ("large_list", _arr(pa.large_list(LONG))),
    ("list_view", _arr(pa.list_view(LONG))),
    (
        "float64 elements",
        lambda values: pa.array(
            [None if v is None else [_opt(float, e) for e in v] for v in values], pa.list_(pa.float64())
        ),
    ),
    ("uint64 elements", _arr(pa.list_(pa.uint64()))),
    (
        "string elements",
        lambda values: pa.array(
            [None if v is None else [_opt(str, e) for e in v] for v in values], pa.list_(pa.string())
        ),
    ),
    (
        "fixed_size_list",
        lambda values: pa.array([None if v is None else [*v, 0, 0][:2] for v in values], pa.list_(LONG, 2)),
    ),
    ("sliced", lambda values: pa.array([[1], *values], type=pa.list_(LONG)).slice(1)),
]
META = pa.map_(pa.string(), pa.struct([("v", LONG)]))
METAS: list[tuple[str, Encoder]] = [
    ("exact", _arr(META)),
    ("value v as int32", _arr(pa.map_(pa.string(), pa.struct([("v", pa.int32())])))),
    (
        "value with an extra field",
        _entries(pa.string(), pa.struct([("v", LONG), ("w", LONG)]), lambda x: {**x, "w": 1}),
    ),
    ("sliced", lambda values: pa.array([[("z", {"v": 1})], *values], type=META).slice(1)),
]
ENCODERS: dict[str, list[tuple[str, Encoder]]] = {
    "long": INTEGER,
    "int": INTEGER,
    "float": FLOATING,
    "double": FLOATING,
    "decimal(10,2)": DECIMAL,
    "decimal(38,6)": DECIMAL,
    "string": TEXT,
    "boolean": BOOLEAN,
    "date": DATE,
    "time": TIME,
    "timestamp": _timestamps(zoned=False),
    "timestamptz": _timestamps(zoned=True),
    "binary": BINARY,
    "uuid": UUIDS,
    CONTRACT["st"]: STRUCT,
    CONTRACT["items"]: ITEMS,
    CONTRACT["tags"]: TAGS,
    CONTRACT["nums"]: NUMS,
    CONTRACT["meta"]: METAS,
}
CANONICAL: dict[str, Encoder] = {
    **{kind: encoders[0][1] for kind, encoders in ENCODERS.items()},
    "int": _arr(pa.int32()),
    "float": _arr(pa.float32()),
    "decimal(38,6)": _arr(pa.decimal128(38, 6)),
}


# -- batches --------------------------------------------------------------------------------------------


@dataclass
class Batch:
    """A generated batch: the data handed to the write, and how it was made."""

    data: Any
    table: pa.Table
    labels: list[str] = field(default_factory=list)

    def describe(self) -> str:
        shown = self.table.slice(0, 3).to_pylist()
        text = repr(shown)
        text = text if len(text) <= 1500 else text[:1500] + "…"
        schema = ", ".join(f"{f.name}: {f.type}" for f in self.table.schema)
        made = "; ".join(self.labels) or "canonical"
        return f"[{made}] {self.table.num_rows} rows\n    schema: {schema}\n    rows: {text}"


def encode(rng: random.Random, rows: list[dict[str, Any]], *, mutate: int) -> tuple[dict[str, pa.Array], list[str]]:
    """Each column's values as an Arrow array: the contract's encoding, or for `mutate` columns another one."""
    arrays: dict[str, pa.Array] = {}
    labels = []
    mutated = set(rng.sample(list(CONTRACT), mutate))
    for name, kind in CONTRACT.items():
        values = [row[name] for row in rows]
        if name in mutated:
            label, encoder = rng.choice(ENCODERS[kind])
            try:
                arrays[name] = encoder(values)
                labels.append(f"{name} as {label}")
                continue
            except (pa.ArrowException, ArithmeticError, ValueError, TypeError):
                pass  # the values do not fit this encoding: keep the contract's
        arrays[name] = CANONICAL[kind](values)
    return arrays, labels


def make_batch(rng: random.Random, rows: list[dict[str, Any]]) -> Batch:
    """A batch of `rows`, encoded and then mutated at the batch level."""
    arrays, labels = encode(rng, rows, mutate=rng.choices([0, 1, 2, 3], weights=[35, 40, 18, 7])[0])
    roll = rng.random()
    if roll < 0.05:
        arrays.pop(rng.choice(REQUIRED))
        labels.append("a required column missing")
    elif roll < 0.12:
        name = rng.choice([n for n in CONTRACT if n not in REQUIRED])
        arrays.pop(name)
        labels.append(f"optional column {name} missing")
    elif roll < 0.16:
        arrays["extra"] = pa.array([1] * len(rows), pa.int64())
        labels.append("an extra column")
    elif roll < 0.19:
        name = rng.choice(list(arrays))
        arrays[name.upper() if name.upper() != name else name + "_"] = arrays.pop(name)
        labels.append(f"column {name} renamed")
    elif roll < 0.24 and rows:
        name = rng.choice(REQUIRED)
        values = arrays[name].to_pylist()
        values[rng.randrange(len(values))] = None
        arrays[name] = pa.array(values, arrays[name].type)
        labels.append(f"a null in required column {name}")
    names = list(arrays)
    if rng.random() < 0.2:
        rng.shuffle(names)
        labels.append("columns shuffled")
    columns = [arrays[n] for n in names]
    if rng.random() < 0.03 and names:
        names.append(names[0])
        columns.append(columns[0])
        labels.append(f"column {names[0]} twice")
    table = pa.Table.from_arrays(columns, names=names)
    data: Any = table
    form = rng.random()
    if form < 0.15 and table.num_rows > 1:
        cut = rng.randrange(1, table.num_rows)
        batches = [*table.slice(0, cut).to_batches(), *table.slice(cut).to_batches()]
        empty = table.schema.empty_table().to_batches() or [pa.RecordBatch.from_pylist([], schema=table.schema)]
        data = pa.RecordBatchReader.from_batches(table.schema, [batches[0], empty[0], *batches[1:]])
        labels.append(f"a reader of batches split at row {cut}, with an empty batch between")
    elif form < 0.25 and table.num_rows:
        data = table.combine_chunks().to_batches()[0]
        labels.append("one RecordBatch")
    elif form < 0.35 and table.num_rows > 1:
        data = pa.concat_tables([table.slice(0, 1), table.slice(1)])
        labels.append("a table of two chunks")
    return Batch(data, table, labels)


def written(table: pa.Table) -> dict[str, list[Any]]:
    """The values a table holds, column by column, exactly (nanoseconds and sub-day dates kept as `Lossy`)."""
    result: dict[str, list[Any]] = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        kind = column.type
        if isinstance(kind, pa.DictionaryType):
            kind = kind.value_type
            column = column.cast(kind)  # noqa: PLW2901 - the values, decoded
        if pa.types.is_time64(kind) and kind.unit == "ns":
            raw = column.cast(pa.int64()).to_pylist()
            result[name] = [_time_of(v) for v in raw]
        elif pa.types.is_timestamp(kind):
            raw = column.cast(pa.int64()).to_pylist()
            result[name] = [_instant_of(v, kind) for v in raw]
        elif pa.types.is_float32(kind) or pa.types.is_float16(kind):
            result[name] = [None if v is None else np.float32(v) for v in column.to_pylist()]
        elif pa.types.is_date64(kind):
            raw = column.cast(pa.int64()).to_pylist()
            result[name] = [_date_of(v) for v in raw]
        else:
            result[name] = column.to_pylist()
    return result


def _instant_of(count: int | None, kind: pa.TimestampType) -> Any:
    """A timestamp's value from its raw count of units (a zoned one in UTC: the zone only changes how it shows)."""
    if count is None:
        return None
    per_second = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[kind.unit]
    if kind.unit == "ns" and count % 1000:
        return Lossy(f"{count} ns")
    micros = count * 1_000_000 // per_second
    value = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=micros)
    return value.replace(tzinfo=UTC) if kind.tz is not None else value


def _time_of(nanos: int | None) -> Any:
    if nanos is None:
        return None
    if nanos % 1000:
        return Lossy(f"{nanos} ns")
    return (dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=nanos // 1000)).time()


def _date_of(millis: int | None) -> Any:
    if millis is None:
        return None
    if millis % 86_400_000:
        return Lossy(f"{millis} ms")
    return dt.date(1970, 1, 1) + dt.timedelta(days=millis // 86_400_000)
