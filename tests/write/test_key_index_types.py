"""The key index on decimal, UUID, binary, fixed, boolean and time keys (`meshlake.write.key_index`): the same
rows as the scan, always.

As in `test_key_index.py`, the reference is `deletes_for_keys(..., use_index=False)`, today's scan of every live
key: every check compares the index's (data file, position) pairs with it.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from datetime import time
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from pyiceberg.io.pyarrow import schema_to_pyarrow
from pyiceberg.schema import Schema
from pyiceberg.types import BinaryType, DecimalType, FixedType, LongType, NestedField, UUIDType

import meshlake as ml
from meshlake.maintenance.compact import compact
from meshlake.query.plan import cached_plan
from meshlake.write import index_keeper, key_hashing, key_index, key_index_store, key_runs
from tests.conftest import DescriptorWriter
from tests.write.test_key_index import (
    assert_same,
    force_hash_collisions,
    head_id,
    index_folder,
    indexed,
    keyed_descriptor,
    scanned,
)

PORTS: dict[str, list[str]] = {
    "dec": ["decimal(10,2)"],
    "wide": ["decimal(30,4)"],
    "uid": ["uuid"],
    "bin": ["binary"],
    "clock": ["time"],
    "uid_dec": ["uuid", "decimal(12,3)"],
    "flag_n": ["boolean", "long"],
    "bin_clock": ["binary", "time"],
}

TYPED = keyed_descriptor("kinds", {**PORTS, "flag": ["boolean"]})


def value(kind: str, i: int) -> Any:
    """The i-th key value of `kind`, one per i: negative and positive decimals, random-looking UUIDs, byte strings
    of 0 to ~20 bytes with zero and 0xff bytes (so 0 to 3 words of 8), times across the day."""
    if kind == "decimal(10,2)":
        return Decimal(i * 3_711 - 400_000) / 100
    if kind == "decimal(12,3)":
        return Decimal(-i * 7 - 1) / 1000
    if kind == "decimal(30,4)":
        return Decimal((i - 100) * 10**21 + i * 7) / 10**4  # 26 digits: beyond int64
    if kind == "uuid":
        return uuid.UUID(bytes=hashlib.md5(str(i).encode()).digest())
    if kind == "binary":
        return b"" if i == 0 else str(i).encode() + b"\x00" * (i % 9) + b"\xff" * (i % 3)
    if kind == "boolean":
        return i % 2 == 0
    if kind == "long":
        return i // 2
    if kind == "time":
        micros = (i * 1_234_567_891) % 86_400_000_000
        return time(micros // 3_600_000_000, micros // 60_000_000 % 60, micros // 1_000_000 % 60, micros % 1_000_000)
    raise AssertionError(kind)


def arrow_type(kind: str) -> pa.DataType:
    if kind.startswith("decimal("):
        precision, scale = kind[len("decimal(") : -1].split(",")
        return pa.decimal128(int(precision), int(scale))
    return {
        "uuid": pa.uuid(),
        "binary": pa.large_binary(),
        "boolean": pa.bool_(),
        "long": pa.int64(),
        "time": pa.time64("us"),
    }[kind]


def column(kind: str, ids: list[int]) -> pa.Array:
    values = [value(kind, i) for i in ids]
    if kind == "uuid":
        return pa.ExtensionArray.from_storage(pa.uuid(), pa.array([u.bytes for u in values], pa.binary(16)))
    return pa.array(values, arrow_type(kind))


def typed_rows(kinds: list[str], ids: list[int], v: float) -> pa.Table:
    columns = {f"k{c}": column(kind, ids) for c, kind in enumerate(kinds)}
    return pa.table({**columns, "n": pa.array(ids, pa.int64()), "v": pa.array([v] * len(ids), pa.float64())})


def key_of(kinds: list[str], ids: list[int]) -> pa.Table:
    return typed_rows(kinds, ids, 0.0).select([f"k{i}" for i in range(len(kinds))])


@pytest.fixture
def kinds_lake(lake: ml.Lake, write_descriptor: DescriptorWriter) -> ml.Lake:
    lake.deploy(write_descriptor(TYPED))
    return lake


def values_by_n(port: Any) -> dict[int, float]:
    table = port.latest().to_arrow()
    found = table["n"].to_pylist()
    assert len(found) == len(set(found)), "a row is live twice"
    return dict(zip(found, table["v"].to_pylist(), strict=True))


class TypedStory:
    """A port of `kinds` written at random through meshlake and pyiceberg; `model`: n -> v of its live rows."""

    OPERATIONS = ("upsert",) * 5 + ("delete", "append", "cow", "compact", "py-append", "py-delete", "rollback")

    def __init__(self, lake: ml.Lake, port: Any, kinds: list[str]) -> None:
        self.lake, self.port, self.kinds = lake, port, kinds
        self.rng = random.Random(18)
        self.model: dict[int, float] = {}
        self.next_id = 0
        self.snapshots: list[int] = []

    def fresh(self, count: int) -> list[int]:
        self.next_id += count
        return list(range(self.next_id - count, self.next_id))

    def rows(self, ids: list[int], v: float) -> pa.Table:
        self.model.update(dict.fromkeys(ids, v))
        return typed_rows(self.kinds, ids, v)

    def step(self, n: int) -> None:
        port, rng, v = self.port, self.rng, float(n)
        live = sorted(self.model)
        some = rng.sample(live, min(len(live), rng.randint(1, 8)))
        op = rng.choice(self.OPERATIONS)
        if op == "upsert":
            port.write(self.rows(some + self.fresh(rng.randint(0, 5)), v), mode="upsert", write_mode="merge-on-read")
        elif op == "cow" and some:
            port.write(self.rows(some, v), mode="upsert", write_mode="copy-on-write")
        elif op == "delete" and some:
            port.delete(f"n IN ({', '.join(map(str, some))})", write_mode="merge-on-read")
            self.model = {k: x for k, x in self.model.items() if k not in some}
        elif op == "append":
            port.write(self.rows(self.fresh(rng.randint(1, 20)), v))
        elif op == "compact":
            compact(self.lake.catalog, port.table(), product_version="1.0.0", run_id=f"c{n}", apply=True)
        elif op == "py-append":
            table = port.table()
            added = self.rows(self.fresh(rng.randint(1, 10)), v)
            table.append(added.cast(schema_to_pyarrow(table.schema(), include_field_ids=False)))
        elif op == "py-delete" and some:
            port.table().delete(f"n IN ({', '.join(map(str, some))})")  # pyiceberg's own delete: rewrites files
            self.model = {k: x for k, x in self.model.items() if k not in some}
        elif op == "rollback" and len(self.snapshots) > 3:
            back = self.snapshots[-3]
            port.rollback(to=back)
            self.model = values_by_n(port)
            self.snapshots = self.snapshots[: self.snapshots.index(back) + 1]
        head = port.table().current_snapshot()
        if head is not None and (not self.snapshots or self.snapshots[-1] != head.snapshot_id):
            self.snapshots.append(head.snapshot_id)
        probe = sorted({*rng.sample(live, min(len(live), 12)), *self.fresh(2)})
        assert_same(port, key_of(self.kinds, probe))


@pytest.mark.parametrize("name", sorted(PORTS))
def test_the_index_finds_the_same_rows_as_the_scan_for_every_key_type_after_any_sequence_of_writes(
    kinds_lake: ml.Lake, name: str
) -> None:
    """Decimals narrow and wide, UUIDs, binary, time, and compounds with booleans: upserts, deletes,
    copy-on-write, compaction, pyiceberg's writes and rollbacks; the index finds what the scan finds after each."""
    kinds, port = PORTS[name], kinds_lake.port(f"keys.kinds.{name}")
    story = TypedStory(kinds_lake, port, kinds)
    port.write(story.rows(story.fresh(60), 1.0))
    first = port.write(story.rows([0, 1, 2, 100], 2.0), mode="upsert", write_mode="merge-on-read")
    assert first.rows_updated == 3 and first.index_keeping is not None, "the index serves this key"
    assert first.index_keeping.wait(60) is not None and first.index_keeping.error is None
    for n in range(40):
        story.step(n)
        if n % 10 == 9:
            assert values_by_n(port) == story.model
    assert values_by_n(port) == story.model
    assert index_keeper.wait_all(60)
    assert any(index_folder(port).glob("snap-*.json"))


def test_a_single_boolean_key_is_served_by_the_index(kinds_lake: ml.Lake) -> None:
    port = kinds_lake.port("keys.kinds.flag")
    port.write(typed_rows(["boolean"], [0], 1.0))  # True
    result = port.write(typed_rows(["boolean"], [1, 2], 2.0), mode="upsert", write_mode="merge-on-read")
    assert result.rows_updated == 1 and result.index_keeping is not None and index_keeper.wait_all(60)
    assert values_by_n(port) == {1: 2.0, 2: 2.0}
    for ids in ([0], [1], [0, 1]):
        assert_same(port, key_of(["boolean"], ids))


def test_each_key_kind_is_what_the_manifest_records(kinds_lake: ml.Lake) -> None:
    expected = {
        "dec": ["decimal:2"],
        "wide": ["decimal128:4"],
        "uid": ["uuid"],
        "bin": ["binary"],
        "clock": ["time"],
        "uid_dec": ["uuid", "decimal:3"],
        "flag_n": ["boolean", "integer"],
        "bin_clock": ["binary", "time"],
    }
    for name, kinds in PORTS.items():
        port = kinds_lake.port(f"keys.kinds.{name}")
        port.write(typed_rows(kinds, list(range(20)), 1.0))
        port.write(typed_rows(kinds, [3, 30], 2.0), mode="upsert", write_mode="merge-on-read")
        assert index_keeper.wait_all(60)
        manifest = index_folder(port) / f"snap-{head_id(port)}.json"
        assert manifest.exists(), name
        import json

        assert json.loads(manifest.read_bytes())["kinds"] == expected[name], name


@pytest.mark.parametrize("name", ["bin", "wide", "uid", "uid_dec", "bin_clock"])
def test_hash_collisions_of_a_bytes_key_are_told_apart_by_its_bytes(
    kinds_lake: ml.Lake, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    force_hash_collisions(monkeypatch)
    kinds, port = PORTS[name], kinds_lake.port(f"keys.kinds.{name}")
    port.write(typed_rows(kinds, list(range(60)), 1.0))
    change = typed_rows(kinds, [1, 2, 70], 2.0)
    assert_same(port, key_of(kinds, [1, 2, 70]))
    result = port.write(change, mode="upsert", write_mode="merge-on-read")
    assert result.rows_updated == 2 and index_keeper.wait_all(60)
    values = values_by_n(port)
    assert len(values) == 61 and values[1] == 2.0 and values[3] == 1.0 and values[70] == 2.0
    assert_same(port, key_of(kinds, list(range(0, 80, 2))))


def test_the_index_holds_exactly_the_bytes_and_digits_of_each_key() -> None:
    """Keys equal but for a trailing zero byte, a digit beyond int64, or a UUID's last bit hash apart and never
    compare equal; decimals at their scale are their unscaled values."""
    binary = key_hashing.key_values(pa.array([b"ab", b"ab\x00", b"", b"\x00"], pa.binary()), "binary")
    assert len(set(key_hashing.string_hash(binary).tolist())) == 4
    wide = key_hashing.key_values(
        pa.array([Decimal(10**25), Decimal(10**25 + 1)], pa.decimal128(30, 0)), "decimal128:0"
    )
    assert isinstance(wide, pa.LargeBinaryArray) and wide[0].as_py() != wide[1].as_py()
    assert int.from_bytes(wide[1].as_py(), "little", signed=True) == 10**25 + 1
    narrow = key_hashing.key_values(pa.array([Decimal("-1.25"), Decimal("123.40")], pa.decimal128(10, 2)), "decimal:2")
    assert isinstance(narrow, np.ndarray) and narrow.tolist() == [-125, 12340]
    rescaled = key_hashing.key_values(pa.array([Decimal("1.5")], pa.decimal128(5, 1)), "decimal:3")
    assert isinstance(rescaled, np.ndarray) and rescaled.tolist() == [1500], "a needle is brought to the column's scale"
    with pytest.raises(ValueError, match="18 digits"):
        key_hashing.key_values(pa.array([Decimal(10**20)], pa.decimal128(30, 0)), "decimal:0")
    ids = [uuid.UUID(int=1 << 127), uuid.UUID(int=(1 << 127) | 1)]
    uuids = pa.ExtensionArray.from_storage(pa.uuid(), pa.array([u.bytes for u in ids], pa.binary(16)))
    held = key_hashing.key_values(uuids, "uuid")
    assert isinstance(held, pa.LargeBinaryArray) and held.to_pylist() == [u.bytes for u in ids]
    assert key_hashing.key_values(pa.array([True, False]), "boolean").tolist() == [1, 0]
    nanos = pa.array([1_000, 2_000_000], pa.timestamp("ns", "UTC"))
    assert key_hashing.key_values(nanos, "timestamp").tolist() == [1, 2_000], "held in the column's microseconds"
    assert key_hashing.key_values(pa.array([5_000], pa.time64("ns")), "time").tolist() == [5]
    with pytest.raises(ValueError):  # a nanosecond no microsecond column holds
        key_hashing.key_values(pa.array([1_001], pa.timestamp("ns")), "timestamp")


def test_float_and_double_keys_stay_on_the_scan() -> None:
    from pyiceberg.types import DoubleType, FloatType

    assert key_hashing.key_kind(FloatType()) is None and key_hashing.key_kind(DoubleType()) is None


# -- trust: damaged bytes, another scale or precision, NULL keys ---------------------------------------------------


@pytest.mark.parametrize("target", ["b0", "c0"])
def test_a_damaged_bytes_column_is_refused_and_the_index_rebuilt(kinds_lake: ml.Lake, target: str) -> None:
    kinds, port = PORTS["uid_dec"], kinds_lake.port("keys.kinds.uid_dec")
    port.write(typed_rows(kinds, list(range(100)), 1.0))
    port.write(typed_rows(kinds, [1, 2, 300], 2.0), mode="upsert", write_mode="merge-on-read")
    assert index_keeper.wait_all(60)
    folder, table, head = index_folder(port), port.table(), head_id(port)
    kinds_held = ("uuid", "decimal:3")

    def load() -> key_runs.KeyIndex | None:
        key_index_store._memo.clear()  # as a new process: check the files again
        return key_index_store.load(folder, table, head, ("k0", "k1"), (1, 2), kinds_held)

    assert load() is not None
    damaged = list(folder.glob(f"*.{target}.npy"))
    assert damaged
    for path in damaged:
        data = bytearray(path.read_bytes())
        data[len(data) // 2 + 3] ^= 0x40
        path.write_bytes(bytes(data))
    assert load() is None
    key_index_store._memo.clear()
    result = port.write(typed_rows(kinds, [1, 5, 301], 3.0), mode="upsert", write_mode="merge-on-read")
    assert result.rows_updated == 2 and index_keeper.wait_all(60)
    assert len(values_by_n(port)) == 102
    assert_same(port, key_of(kinds, list(range(0, 310, 3))))


def test_an_index_of_another_scale_or_precision_class_is_refused(kinds_lake: ml.Lake) -> None:
    port = kinds_lake.port("keys.kinds.dec")
    port.write(typed_rows(["decimal(10,2)"], list(range(50)), 1.0))
    port.write(typed_rows(["decimal(10,2)"], [1, 60], 2.0), mode="upsert", write_mode="merge-on-read")
    assert index_keeper.wait_all(60)
    folder, table, head = index_folder(port), port.table(), head_id(port)
    key_index_store._memo.clear()
    assert key_index_store.load(folder, table, head, ("k0",), (1,), ("decimal:2",)) is not None
    for other in [("decimal:3",), ("decimal128:2",), ("integer",), ("string",)]:
        assert key_index_store.load(folder, table, head, ("k0",), (1,), other) is None, other


@pytest.mark.parametrize(("wider", "kind"), [(16, "decimal:2"), (24, "decimal128:2")])
def test_a_decimal_key_widened_by_schema_evolution_is_served_right(kinds_lake: ml.Lake, wider: int, kind: str) -> None:
    """decimal(10,2) widened to (16,2) keeps the index's kind (the same unscaled values); to (24,2) it changes kind
    (16 bytes): the old index is refused and a new one built. Either way: the rows the scan finds."""
    port = kinds_lake.port("keys.kinds.dec")
    port.write(typed_rows(["decimal(10,2)"], list(range(80)), 1.0))
    port.write(typed_rows(["decimal(10,2)"], [1, 2, 90], 2.0), mode="upsert", write_mode="merge-on-read")
    assert index_keeper.wait_all(60)
    before = head_id(port)
    table = port.table()
    with table.update_schema() as update:
        update.update_column("k0", DecimalType(wider, 2))
    table = port.table()
    assert key_hashing.key_kinds(table.schema(), ("k0",)) == (kind,)
    big = Decimal(10 ** (wider - 3)) + Decimal("0.01")  # needs the new precision
    added = pa.table(
        {
            "k0": pa.array([big, -big], pa.decimal128(wider, 2)),
            "n": pa.array([500, 501], pa.int64()),
            "v": pa.array([3.0, 3.0]),
        }
    )
    table.append(added.cast(schema_to_pyarrow(table.schema(), include_field_ids=False)))
    table = port.table()
    probe = pa.table({"k0": pa.array([value("decimal(10,2)", i) for i in range(0, 95, 3)] + [big, -big])})
    probe = probe.cast(pa.schema([pa.field("k0", pa.decimal128(wider, 2))]))
    assert len(indexed(table, probe)) == 27 + 1 + 2, "0, 3 … 78 of the first rows, the upserted 90, the wide two"
    assert indexed(table, probe) == scanned(table, probe)
    plan = cached_plan(table, head_id(port))
    index, _, _ = key_index.lookup(table, plan, probe) or (None, None, None)
    assert index is not None and index.kinds == (kind,)
    key_index_store._memo.clear()
    old = key_index_store.load(index_folder(port), table, before, ("k0",), (1,), (kind,))
    assert (old is not None) == (kind == "decimal:2"), "the old index is refused only where the kind changed"


def _raw_table(lake: ml.Lake, name: str, key_type: Any, *, required: bool) -> Any:
    catalog = lake.catalog
    catalog.create_namespace_if_not_exists("raw")
    schema = Schema(
        NestedField(1, "k", key_type, required=required),
        NestedField(2, "n", LongType(), required=True),
        identifier_field_ids=[1] if required else [],
    )
    return catalog.create_table(f"raw.{name}", schema, properties={"format-version": "2"})


def _raw_rows(table: Any, keys: list[Any], ns: list[int]) -> pa.Table:
    data = pa.table({"k": pa.array(keys), "n": pa.array(ns, pa.int64())})
    target = schema_to_pyarrow(table.schema(), include_field_ids=False)
    if isinstance(target.field("k").type, pa.BaseExtensionType):
        storage = pa.array(keys, pa.binary(16))
        data = data.set_column(0, "k", pa.ExtensionArray.from_storage(pa.uuid(), storage))
    return data.cast(target)


@pytest.mark.parametrize(
    ("name", "key_type", "make"),
    [
        ("fixed", FixedType(5), lambda i: b"fx" + i.to_bytes(3, "big")),
        ("blob", BinaryType(), lambda i: b"\x00" * (i % 4) + str(i).encode()),
        ("wide", DecimalType(38, 10), lambda i: Decimal(i * 10**24 - 7) / 10**10),
        ("uid", UUIDType(), lambda i: hashlib.md5(str(i).encode()).digest()),
    ],
)
def test_null_keys_are_found_by_neither_and_a_table_written_elsewhere_is_served(
    kinds_lake: ml.Lake, name: str, key_type: Any, make: Any
) -> None:
    """A table another engine keeps (pyiceberg here), with an optional key column holding NULLs and a fixed key
    no contract declares: NULL rows and NULL needles match nothing, in the index as in the scan, and the index
    follows pyiceberg's appends and rewrites."""
    table = _raw_table(kinds_lake, name, key_type, required=False)
    keys = [None if i % 10 == 0 else make(i) for i in range(200)]
    table.append(_raw_rows(table, keys, list(range(200))))
    table.append(_raw_rows(table, [make(i) for i in range(200, 260)] + [None], list(range(200, 261))))
    probe_ids = [0, 1, 5, 10, 77, 150, 230, 999]
    probe = _raw_rows(table, [make(i) for i in probe_ids] + [None], [0] * (len(probe_ids) + 1)).select(["k"])
    found = indexed(table, probe)
    assert len(found) == 4, "1, 5, 77, 230; 0, 10 and 150 hold NULL, 999 is absent, the NULL needle finds nothing"
    assert found == scanned(table, probe)
    table.delete("n IN (1, 150, 231)")  # pyiceberg's copy-on-write delete
    table = kinds_lake.catalog.load_table(f"raw.{name}")
    table.append(_raw_rows(table, [make(999), None], [999, 1000]))
    table = kinds_lake.catalog.load_table(f"raw.{name}")
    found = indexed(table, probe)
    assert len(found) == 4 and found == scanned(table, probe), "5, 77, 230 and the new 999"


def test_a_string_index_keeps_the_layout_of_format_version_2(kinds_lake: ml.Lake) -> None:
    """Strings are held as bytes now, in the files they had: an index written before (format 2) reads as it was,
    so the format version did not change. Decoded here with plain numpy, as format 2 lays it out: `c0` int64
    offsets from 0, `b0` the UTF-8 bytes in int64 words, zero-padded."""
    import json

    from pyiceberg.types import StringType

    table = _raw_table(kinds_lake, "text", StringType(), required=True)
    words = ["", "a", "ключ", "x" * 23, "meshlake\x00"]
    table.append(
        pa.table({"k": pa.array(words), "n": pa.array(range(5), pa.int64())}).cast(
            schema_to_pyarrow(table.schema(), include_field_ids=False)
        )
    )
    table = kinds_lake.catalog.load_table("raw.text")
    assert indexed(table, pa.table({"k": pa.array(["a", "zz"])})) == scanned(table, pa.table({"k": ["a", "zz"]}))
    folder = key_index_store.folder_of(table)
    assert folder is not None
    manifest = json.loads(next(folder.glob("snap-*.json")).read_bytes())
    assert manifest["version"] == key_index_store.VERSION == 2 and manifest["kinds"] == ["string"]
    run = manifest["runs"][0]["name"]
    offsets = np.load(folder / f"{run}.c0.npy")
    data = np.load(folder / f"{run}.b0.npy").view(np.uint8).tobytes()
    held = [data[offsets[i] : offsets[i + 1]].decode() for i in range(len(offsets) - 1)]
    assert sorted(held) == sorted(words) and len(data) % 8 == 0
