"""The key index of merge-on-read upserts (`meshlake.write.key_index`): the same rows as the scan, always.

The reference is `deletes_for_keys(..., use_index=False)` (today's scan of every live key); every check compares
the index's (data file, position) pairs with it, after writes through meshlake and through pyiceberg directly.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyiceberg.io.pyarrow import schema_to_pyarrow

import meshlake as ml
from meshlake.contract.stamps import Stamps
from meshlake.errors import ContractViolationError
from meshlake.query.plan import cached_plan
from meshlake.write import index_keeper, key_hashing, key_index, key_index_keeping, key_index_store, key_merge, key_runs
from meshlake.write.flow import write_port
from meshlake.write.positions import deletes_for_keys
from tests.conftest import DescriptorWriter

KEYED: dict[str, Any] = {
    "apiVersion": "meshlake/v1",
    "domain": "keys",
    "name": "idx",
    "version": "1.0.0",
    "owner": {"team": "keys"},
    "outputs": [
        {
            "name": "single",
            "columns": [
                {"name": "id", "type": "long", "required": True},
                {"name": "part", "type": "int", "required": True},
                {"name": "v", "type": "double"},
            ],
            "primary_key": ["id"],
        },
        {
            "name": "pair",
            "columns": [
                {"name": "id", "type": "long", "required": True},
                {"name": "part", "type": "int", "required": True},
                {"name": "v", "type": "double"},
            ],
            "primary_key": ["id", "part"],
        },
        {
            "name": "named",
            "columns": [{"name": "name", "type": "string", "required": True}, {"name": "v", "type": "double"}],
            "primary_key": ["name"],
        },
    ],
}


@pytest.fixture
def keyed(lake: ml.Lake, write_descriptor: DescriptorWriter) -> ml.Lake:
    lake.deploy(write_descriptor(KEYED))
    return lake


def rows(ids: list[int], v: float, parts: list[int] | None = None) -> pa.Table:
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "part": pa.array(parts if parts is not None else [i % 3 for i in ids], pa.int32()),
            "v": pa.array([v] * len(ids), pa.float64()),
        }
    )


def state(port: Any, key: tuple[str, ...] = ("id",)) -> dict[tuple[Any, ...], float]:
    table = port.latest().to_arrow()
    found = list(zip(*(table[k].to_pylist() for k in key), strict=True))
    assert len(found) == len(set(found)), "a key is live twice"
    return dict(zip(found, table["v"].to_pylist(), strict=True))


def scanned(table: Any, keys: pa.Table) -> set[tuple[str, int]]:
    """The (data file, position) pairs today's scan finds for `keys` (its delete files read, then removed)."""
    found = deletes_for_keys(table, table.current_snapshot(), keys, use_index=False)
    assert found is not None
    pairs: set[tuple[str, int]] = set()
    for file in found.delete_files:
        with table.io.new_input(file.file_path).open() as stream:
            data = pq.read_table(stream)
        pairs |= set(zip(data["file_path"].to_pylist(), data["pos"].to_pylist(), strict=True))
        table.io.delete(file.file_path)
    return pairs


def indexed(table: Any, keys: pa.Table) -> set[tuple[str, int]]:
    plan = cached_plan(table, table.current_snapshot().snapshot_id)
    found = key_index.lookup(table, plan, keys)
    assert found is not None, "the index must serve an integer key"
    _, tasks, positions = found
    return {(plan.tasks[t].path, int(p)) for t, p in zip(tasks.tolist(), positions.tolist(), strict=True)}


def assert_same(port: Any, keys: pa.Table) -> None:
    table = port.table()
    assert indexed(table, keys) == scanned(table, keys)


def index_folder(port: Any) -> Path:
    folder = key_index_store.folder_of(port.table())
    assert folder is not None
    return folder


# -- the property: same positions as the scan over random writes by meshlake and by pyiceberg --------------------


class Story:
    """A port written at random through meshlake and pyiceberg, with the rows it must hold (`model`)."""

    OPERATIONS = ("upsert",) * 6 + (
        "delete",
        "delete",
        "append",
        "cow",
        "compact",
        "py-append",
        "py-delete",
        "rollback",
    )

    def __init__(self, lake: ml.Lake, port: Any, key: tuple[str, ...]) -> None:
        self.lake, self.port, self.key = lake, port, key
        self.rng = random.Random(18)
        self.model: dict[tuple[Any, ...], float] = {}
        self.next_id = 0
        self.snapshots: list[int] = []

    def fresh(self, count: int) -> list[int]:
        self.next_id += count
        return list(range(self.next_id - count, self.next_id))

    def put(self, table: pa.Table) -> None:
        for row in table.to_pylist():
            self.model[tuple(row[k] for k in self.key)] = row["v"]

    def drop(self, ids: list[int]) -> None:
        self.model = {k: v for k, v in self.model.items() if k[0] not in ids}

    def step(self, n: int) -> None:
        from meshlake.maintenance.compact import compact

        port, rng, value = self.port, self.rng, float(n)
        live = sorted({k[0] for k in self.model})
        some = rng.sample(live, min(len(live), rng.randint(1, 8)))
        op = rng.choice(self.OPERATIONS)
        if op == "upsert":
            change = rows(some + self.fresh(rng.randint(0, 5)), value)
            port.write(change, mode="upsert", write_mode="merge-on-read")
            self.put(change)
        elif op == "cow" and some:
            port.write(rows(some, value), mode="upsert", write_mode="copy-on-write")
            self.put(rows(some, value))
        elif op == "delete" and some:
            port.delete(f"id IN ({', '.join(map(str, some))})", write_mode="merge-on-read")
            self.drop(some)
        elif op == "append":
            change = rows(self.fresh(rng.randint(1, 20)), value)
            port.write(change)
            self.put(change)
        elif op == "compact":
            compact(self.lake.catalog, port.table(), product_version="1.0.0", run_id=f"c{n}", apply=True)
        elif op == "py-append":
            table, change = port.table(), rows(self.fresh(rng.randint(1, 10)), value)
            table.append(change.cast(schema_to_pyarrow(table.schema(), include_field_ids=False)))
            self.put(change)
        elif op == "py-delete" and some:
            port.table().delete(f"id IN ({', '.join(map(str, some))})")  # pyiceberg's own delete: rewrites the files
            self.drop(some)
        elif op == "rollback" and len(self.snapshots) > 3:
            back = self.snapshots[-3]
            port.rollback(to=back)
            self.model = state(port, self.key)
            self.snapshots = self.snapshots[: self.snapshots.index(back) + 1]
        head = port.table().current_snapshot()
        if head is not None and (not self.snapshots or self.snapshots[-1] != head.snapshot_id):
            self.snapshots.append(head.snapshot_id)
        probe = sorted({*rng.sample(live, min(len(live), 12)), *self.fresh(2)})
        assert_same(port, rows(probe, 0.0).select(list(self.key)))


@pytest.mark.parametrize(
    ("name", "key", "steps", "keeping"),
    [
        ("single", ("id",), 120, "background"),
        ("single", ("id",), 60, "inline"),
        ("pair", ("id", "part"), 60, "background"),
    ],
)
def test_the_index_finds_the_same_rows_as_the_scan_after_any_sequence_of_writes(
    keyed: ml.Lake, name: str, key: tuple[str, ...], steps: int, keeping: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kept inline or in the background (the next lookup waits for or catches up past it), the index finds what
    the scan finds after every step: upserts, deletes, copy-on-write, compaction, pyiceberg's writes, rollbacks."""
    monkeypatch.setenv(index_keeper.KEEPING, keeping)
    port = keyed.port(f"keys.idx.{name}")
    story = Story(keyed, port, key)
    first = rows(story.fresh(60), 1.0)
    port.write(first)
    story.put(first)
    for n in range(steps):
        story.step(n)
        if n % 10 == 9:
            assert state(port, key) == story.model
    assert state(port, key) == story.model
    assert any(index_folder(port).glob("snap-*.json"))


def test_each_upsert_leaves_an_index_of_the_snapshot_it_committed(keyed: ml.Lake) -> None:
    port = keyed.port("keys.idx.single")
    port.write(rows(list(range(100)), 1.0))
    first = port.write(rows([3, 50, 200], 2.0), mode="upsert", write_mode="merge-on-read")
    assert first.index_keeping is not None and first.index_keeping.wait(60) is not None  # its deferred save runs now
    second = port.write(rows([4, 51, 201], 2.0), mode="upsert", write_mode="merge-on-read")
    assert second.index_keeping is not None and (second.index_keeping.wait(60) or 0.0) > 0.0
    assert not first.index_keeping.superseded and not second.index_keeping.superseded
    assert second.to_dict()["key_index_seconds"] == second.index_keeping.seconds
    folder = index_folder(port)
    assert {p.name for p in folder.glob("snap-*.json")} >= {
        f"snap-{first.snapshot_id}.json",
        f"snap-{second.snapshot_id}.json",
    }
    assert "key index" not in second.phases, "kept after the write returned"
    assert second.rows_updated == 2
    assert_same(port, rows(list(range(0, 210, 7)), 0.0).select(["id"]))


def test_inline_keeping_is_a_phase_of_the_write_and_background_keeping_never_is(
    keyed: ml.Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = _indexed_port(keyed)
    monkeypatch.setenv(index_keeper.KEEPING, "inline")
    inline = port.write(rows([5, 6, 400], 2.0), mode="upsert", write_mode="merge-on-read")
    assert inline.index_keeping is not None and inline.index_keeping.inline
    assert inline.phases["key index"] == inline.index_keeping.seconds
    assert (index_folder(port) / f"snap-{inline.snapshot_id}.json").exists(), "kept before the write returned"
    monkeypatch.setenv(index_keeper.KEEPING, "background")
    later = port.write(rows([7, 401], 2.0), mode="upsert", write_mode="merge-on-read")
    assert later.index_keeping is not None and not later.index_keeping.inline
    later.index_keeping.wait(60)
    assert "key index" not in later.phases, "even a keeping done before the write returned is not its phase"


def test_merging_the_runs_into_a_new_base_keeps_the_rows(keyed: ml.Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(key_merge, "MERGE_SHARE", 0.0)  # merge at every catch-up
    port = keyed.port("keys.idx.pair")
    port.write(rows(list(range(50)), 1.0))
    for n in range(4):
        port.write(rows([n, 10 + n, 100 + n], 2.0), mode="upsert", write_mode="merge-on-read")
        assert index_keeper.wait_all(60)  # the merge (aside) ended and the index of the head was rebased onto it
    table = port.table()
    folder = index_folder(port)
    found = key_index_store.load(folder, table, head_id(port), ("id", "part"), (1, 2))
    assert found is not None and len(found.runs) == 1 and found.tombstones == ()
    assert_same(port, rows(list(range(110)), 0.0).select(["id", "part"]))
    assert len(state(port, ("id", "part"))) == 54


# -- trust: a broken, foreign or stale entry is never used ------------------------------------------------------


def _indexed_port(keyed: ml.Lake) -> Any:
    port = keyed.port("keys.idx.single")
    port.write(rows(list(range(100)), 1.0))
    port.write(rows([1, 2, 300], 2.0), mode="upsert", write_mode="merge-on-read")
    assert index_keeper.wait_all(60)
    return port


def head_id(port: Any) -> int:
    head = port.table().current_snapshot()
    assert head is not None
    snapshot_id: int = head.snapshot_id
    return snapshot_id


def _load_current(port: Any) -> key_runs.KeyIndex | None:
    key_index_store._memo.clear()  # as a new process: check the files again
    return key_index_store.load(index_folder(port), port.table(), head_id(port), ("id",), (1,))


@pytest.mark.parametrize("damage", ["flip", "truncate", "zeros"])
def test_a_corrupted_run_is_never_trusted_and_the_index_is_rebuilt(keyed: ml.Lake, damage: str) -> None:
    port = _indexed_port(keyed)
    assert _load_current(port) is not None
    for path in index_folder(port).glob("*.keys.npy"):
        data = bytearray(path.read_bytes())
        if damage == "flip":
            data[-3] ^= 0x10
        elif damage == "truncate":
            data = data[: len(data) // 2]
        else:
            data[128:] = bytes(len(data) - 128)
        path.write_bytes(bytes(data))
    assert _load_current(port) is None
    result = port.write(rows([5, 6, 301], 3.0), mode="upsert", write_mode="merge-on-read")
    assert result.rows_updated == 2 and index_keeper.wait_all(60)
    found = state(port)
    assert len(found) == 102 and found[(5,)] == 3.0 and found[(1,)] == 2.0 and found[(301,)] == 3.0
    assert _load_current(port) is not None, "a new index is written in place of the broken one"
    assert_same(port, rows(list(range(0, 310, 3)), 0.0).select(["id"]))


def test_a_torn_manifest_is_ignored(keyed: ml.Lake) -> None:
    port = _indexed_port(keyed)
    for path in index_folder(port).glob("snap-*.json"):
        path.write_bytes(path.read_bytes()[:40])
    assert _load_current(port) is None
    port.write(rows([7, 302], 4.0), mode="upsert", write_mode="merge-on-read")
    found = state(port)
    assert len(found) == 102 and found[(7,)] == 4.0
    assert_same(port, rows(list(range(0, 310, 3)), 0.0).select(["id"]))


def test_a_row_number_outside_its_file_makes_the_index_rebuilt(keyed: ml.Lake) -> None:
    port = _indexed_port(keyed)
    index = _load_current(port)
    assert index is not None
    bad = key_runs.Run("bad", np.array([10_000], np.int64), np.array([8], np.int64))
    key_index_store.save(index_folder(port), key_runs.KeyIndex(**{**index.__dict__, "runs": (*index.runs, bad)}))
    assert_same(port, rows([8, 9], 0.0).select(["id"]))


def test_an_index_of_another_table_or_snapshot_is_never_used(keyed: ml.Lake) -> None:
    port = _indexed_port(keyed)
    other = keyed.port("keys.idx.pair")
    other.write(rows(list(range(100)), 1.0))
    table, mine = port.table(), index_folder(port)
    head = table.current_snapshot()
    assert head is not None and head.parent_snapshot_id is not None
    parent: int = head.parent_snapshot_id
    # this table's manifest, named for another snapshot, and copied under the other table's folder
    manifest = (mine / f"snap-{head.snapshot_id}.json").read_bytes()
    (mine / f"snap-{parent}.json").write_bytes(manifest)
    assert key_index_store.load(mine, table, parent, ("id",), (1,)) is None
    theirs = index_folder(other)
    theirs.mkdir(parents=True, exist_ok=True)
    other_head = head_id(other)
    entry = json.loads(manifest)
    entry["snapshot"] = other_head
    (theirs / f"snap-{other_head}.json").write_text(json.dumps(entry))
    assert key_index_store.load(theirs, other.table(), other_head, ("id",), (1,)) is None
    assert key_index_store.load(mine, table, head.snapshot_id, ("id", "part"), (1, 2)) is None, "another key"


def test_a_rebased_upsert_keeps_an_index_of_the_snapshot_it_committed(keyed: ml.Lake) -> None:
    port = keyed.port("keys.idx.single")
    port.write(rows(list(range(100)), 1.0))
    port.write(rows([0], 1.5), mode="upsert", write_mode="merge-on-read")  # the index exists for the base
    stale = port.table()
    port.write(rows(list(range(500, 510)), 2.0))  # another writer appends, meanwhile
    result = write_port(
        keyed.catalog,
        stale,
        rows([20, 21, 40], 3.0),
        address="keys.idx.single",
        mode="upsert",
        where=None,
        primary_key=["id"],
        stamps=Stamps(writer="t", run_id="r", product_version="1.0.0", mode="upsert"),
        gate=None,
        quarantine_name="q",
        write_mode="merge-on-read",
    )
    assert result.rebases == 1 and result.rows_updated == 3 and index_keeper.wait_all(60)
    found = state(port)
    assert len(found) == 110 and found[(505,)] == 2.0 and found[(20,)] == 3.0 and found[(0,)] == 1.5
    key_index_store._memo.clear()
    assert result.snapshot_id is not None
    assert key_index_store.load(index_folder(port), port.table(), result.snapshot_id, ("id",), (1,)) is not None
    assert_same(port, rows(list(range(0, 610, 5)), 0.0).select(["id"]))


# -- where there is no index ------------------------------------------------------------------------------------


def test_with_the_caches_off_an_upsert_scans_and_keeps_no_index(
    keyed: ml.Lake, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MESHLAKE_CACHE_DIR", "off")
    port = keyed.port("keys.idx.single")
    port.write(rows(list(range(100)), 1.0))
    result = port.write(rows([1, 2, 300], 2.0), mode="upsert", write_mode="merge-on-read")
    assert result.rows_updated == 2 and "key index" not in result.phases
    assert key_index_store.folder_of(port.table()) is None
    found = state(port)
    assert len(found) == 101 and found[(2,)] == 2.0
    assert not list(tmp_path.rglob("snap-*.json"))


def keyed_descriptor(name: str, ports: dict[str, list[str]]) -> dict[str, Any]:
    """Product `keys.<name>`: one port per entry of `ports`, keyed by columns k0, k1, … of the listed types."""
    return {
        "apiVersion": "meshlake/v1",
        "domain": "keys",
        "name": name,
        "version": "1.0.0",
        "owner": {"team": "keys"},
        "outputs": [
            {
                "name": port,
                "columns": [
                    *({"name": f"k{i}", "type": kind, "required": True} for i, kind in enumerate(kinds)),
                    {"name": "n", "type": "long", "required": True},
                    {"name": "v", "type": "double"},
                ],
                "primary_key": [f"k{i}" for i in range(len(kinds))],
            }
            for port, kinds in ports.items()
        ],
    }


TYPED_KEYS = keyed_descriptor(
    "typed", {"text": ["string"], "day": ["date"], "moment": ["timestamptz"], "mixed": ["string", "date"]}
)


def typed_value(kind: str, i: int) -> Any:
    """The i-th key value of `kind`: strings of 0 to ~40 UTF-8 bytes (so 0 to 6 words of 8), dates, timestamps."""
    if kind == "string":
        return "" if i == 0 else f"ключ-{i}" + "x" * (i % 23)
    if kind == "date":
        return date(1960, 1, 1) + timedelta(days=i * 37)  # before and after 1970
    return datetime(1969, 12, 31, tzinfo=UTC) + timedelta(microseconds=i * 1_234_567_891)


def typed_rows(kinds: list[str], ids: list[int], v: float) -> pa.Table:
    types = {"string": pa.large_string(), "date": pa.date32(), "timestamptz": pa.timestamp("us", tz="UTC")}
    columns = {f"k{c}": pa.array([typed_value(kind, i) for i in ids], types[kind]) for c, kind in enumerate(kinds)}
    return pa.table({**columns, "n": pa.array(ids, pa.int64()), "v": pa.array([v] * len(ids), pa.float64())})


TYPED = {"text": ["string"], "day": ["date"], "moment": ["timestamptz"], "mixed": ["string", "date"]}


@pytest.fixture
def typed(lake: ml.Lake, write_descriptor: DescriptorWriter) -> ml.Lake:
    lake.deploy(write_descriptor(TYPED_KEYS))
    return lake


@pytest.mark.parametrize("name", sorted(TYPED))
def test_string_date_and_timestamp_keys_are_served_by_the_index_as_the_scan_finds_them(
    typed: ml.Lake, name: str
) -> None:
    from meshlake.maintenance.compact import compact

    kinds, port = TYPED[name], typed.port(f"keys.typed.{name}")
    key = tuple(f"k{i}" for i in range(len(kinds)))
    model: dict[int, float] = {}

    def put(ids: list[int], v: float) -> pa.Table:
        model.update(dict.fromkeys(ids, v))
        return typed_rows(kinds, ids, v)

    def check() -> None:
        index_keeper.wait_all(60)
        probe = typed_rows(kinds, list(range(0, 260, 3)), 0.0).select(list(key))
        assert_same(port, probe)
        table = port.latest().to_arrow()
        assert dict(zip(table["n"].to_pylist(), table["v"].to_pylist(), strict=True)) == model

    port.write(put(list(range(200)), 1.0))
    first = port.write(put([0, 3, 17, 150, 201], 2.0), mode="upsert", write_mode="merge-on-read")
    assert first.rows_updated == 4 and first.index_keeping is not None, "the first upsert builds the index"
    check()
    port.write(put([3, 4, 5, 202], 3.0), mode="upsert", write_mode="merge-on-read")  # caught up from its base's
    check()
    port.delete("n IN (6, 7, 150)", write_mode="merge-on-read")
    for gone in (6, 7, 150):
        del model[gone]
    table = port.table()
    table.append(put([210, 211], 4.0).cast(schema_to_pyarrow(table.schema(), include_field_ids=False)))
    check()
    compact(typed.catalog, port.table(), product_version="1.0.0", run_id="c", apply=True)
    last = port.write(put([4, 6, 150, 210, 220], 5.0), mode="upsert", write_mode="merge-on-read")
    assert last.rows_updated == 2
    check()
    assert_same(port, typed_rows(kinds, [6, 150, 999], 0.0).select(list(key)))


def test_a_string_key_index_is_refused_where_strings_hash_otherwise_or_its_bytes_are_damaged(
    typed: ml.Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = typed.port("keys.typed.text")
    port.write(typed_rows(["string"], list(range(100)), 1.0))
    port.write(typed_rows(["string"], [1, 2, 300], 2.0), mode="upsert", write_mode="merge-on-read")
    assert index_keeper.wait_all(60)
    folder, table, head = index_folder(port), port.table(), head_id(port)

    def load() -> key_runs.KeyIndex | None:
        key_index_store._memo.clear()
        return key_index_store.load(folder, table, head, ("k0",), (1,), ("string",))

    assert load() is not None
    assert key_index_store.load(folder, table, head, ("k0",), (1,)) is None, "not an index of integer keys"
    with monkeypatch.context() as patched:
        patched.setattr(key_index_store, "HASH_PROBE", ("another probe",))  # as if strings now hashed otherwise
        assert load() is None
    for path in folder.glob("*.b0.npy"):
        data = bytearray(path.read_bytes())
        data[-9] ^= 0x01
        path.write_bytes(bytes(data))
    assert load() is None
    result = port.write(typed_rows(["string"], [1, 5, 301], 3.0), mode="upsert", write_mode="merge-on-read")
    assert result.rows_updated == 2 and index_keeper.wait_all(60)
    assert port.latest().to_arrow().num_rows == 102
    assert_same(port, typed_rows(["string"], list(range(0, 310, 3)), 0.0).select(["k0"]))


def force_hash_collisions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every key share its `sort_key` hash with a third of the others."""
    original = key_hashing.sort_key

    def colliding(columns: Any) -> np.ndarray:
        return np.asarray(original(columns) % 3)

    monkeypatch.setattr(key_hashing, "sort_key", colliding)


@pytest.mark.parametrize("name", ["text", "mixed"])
def test_hash_collisions_of_a_string_key_are_told_apart_by_its_strings(
    typed: ml.Lake, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    force_hash_collisions(monkeypatch)
    kinds, port = TYPED[name], typed.port(f"keys.typed.{name}")
    key = [f"k{i}" for i in range(len(kinds))]
    port.write(typed_rows(kinds, list(range(60)), 1.0))
    change = typed_rows(kinds, [1, 2, 70], 2.0)
    assert_same(port, change.select(key))
    result = port.write(change, mode="upsert", write_mode="merge-on-read")
    assert result.rows_updated == 2 and index_keeper.wait_all(60)
    found = port.latest().to_arrow()
    values = dict(zip(found["n"].to_pylist(), found["v"].to_pylist(), strict=True))
    assert len(values) == 61 and values[1] == 2.0 and values[3] == 1.0 and values[70] == 2.0
    assert_same(port, typed_rows(kinds, list(range(0, 80, 2)), 0.0).select(key))


def test_the_string_hash_is_fixed_and_reads_every_byte() -> None:
    strings = pa.array(["", "a", "ab", "abcdefgh", "abcdefghi", "abcdefgh\x00", "ünïcode ✓"], pa.large_string())
    hashed = key_hashing.string_hash(strings)
    assert len(set(hashed.tolist())) == len(strings), "the length and each byte count"
    sliced = key_hashing.string_hash(pa.array(["zz", *strings.to_pylist()], pa.large_string()).slice(1))
    assert hashed.tolist() == sliced.tolist(), "an array's offset is honoured"
    assert hashed.tolist() == [reference_hash(text) for text in strings.to_pylist()]


def test_values_of_one_width_hash_as_any_string_does() -> None:
    """UUIDs, fixed and wide decimals (every value 8, 16 or 24 bytes) take a faster path: the same hashes."""
    rng = np.random.default_rng(7)
    for width in (8, 16, 24):
        values = [rng.bytes(width) for _ in range(50)]
        held = pa.array([b"x" * 5, *values], pa.large_binary()).slice(1)  # an offset into the bytes, unaligned
        assert key_hashing.string_hash(held).tolist() == [reference_hash(v) for v in values]
    mixed = pa.array([b"a" * 16, b"b" * 8], pa.large_binary())  # two widths: the general path
    assert key_hashing.string_hash(mixed).tolist() == [reference_hash(b"a" * 16), reference_hash(b"b" * 8)]


def reference_hash(text: str | bytes) -> int:
    """`string_hash` of one string, written out in plain Python: the index's hash must never drift from it."""
    mask, golden = (1 << 64) - 1, 0x9E3779B97F4A7C15

    def mix(x: int) -> int:
        x ^= x >> 30
        x = (x * 0xBF58476D1CE4E5B9) & mask
        x ^= x >> 27
        x = (x * 0x94D049BB133111EB) & mask
        return x ^ (x >> 31)

    data = text if isinstance(text, bytes) else text.encode()
    hashed = mix((len(data) + golden) & mask)
    for at in range(0, len(data), 8):
        hashed = mix(hashed ^ ((int.from_bytes(data[at : at + 8], "little") + golden) & mask))
    return hashed


def test_hash_collisions_of_a_compound_key_are_told_apart_by_its_columns(
    keyed: ml.Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = key_hashing.sort_key

    def colliding(columns: Any) -> np.ndarray:
        keys = original(columns)
        return keys if len(columns) == 1 else keys % 3  # every key shares its hash with a third of the others

    monkeypatch.setattr(key_hashing, "sort_key", colliding)
    port = keyed.port("keys.idx.pair")
    port.write(rows(list(range(60)), 1.0))
    change = rows([1, 2, 4, 70], 2.0, parts=[1, 0, 0, 1])  # (1, 1) exists; (2, 0), (4, 0) and (70, 1) do not
    assert_same(port, change.select(["id", "part"]))
    result = port.write(change, mode="upsert", write_mode="merge-on-read")
    assert result.rows_updated == 1
    found = state(port, ("id", "part"))
    assert len(found) == 63 and found[(1, 1)] == 2.0 and found[(2, 2)] == 1.0 and found[(2, 0)] == 2.0


def test_old_manifests_and_the_runs_only_they_name_are_pruned(keyed: ml.Lake) -> None:
    port = _indexed_port(keyed)
    for n in range(3):
        port.write(rows([10 + n, 400 + n], 5.0), mode="upsert", write_mode="merge-on-read")
    assert index_keeper.wait_all(60)
    folder = index_folder(port)
    (folder / "snap-1.json.123-456.tmp").write_bytes(b"{")  # as left by a killed writer
    key_index_store.prune(folder, keep=1, grace_seconds=0.0)
    assert not list(folder.glob("*.tmp"))
    assert [p.name for p in folder.glob("snap-*.json")] == [f"snap-{head_id(port)}.json"]
    named = json.loads((folder / f"snap-{head_id(port)}.json").read_text())
    runs = {run["name"] for run in (*named["runs"], *named["tombstones"])}
    assert {p.name.split(".")[0] for p in folder.glob("*.npy")} == runs
    assert _load_current(port) is not None
    assert_same(port, rows(list(range(0, 410, 3)), 0.0).select(["id"]))


def test_an_index_that_does_not_cover_its_own_snapshot_is_caught_up_not_used(keyed: ml.Lake) -> None:
    port = _indexed_port(keyed)
    index = _load_current(port)
    assert index is not None
    first = index.files[0]
    files = (key_runs.FileEntry(first.path, 0, first.count, frozenset()), *index.files[1:])
    forged = key_runs.KeyIndex(**{**index.__dict__, "files": files, "tombstones": ()})
    assert not key_index.covers(forged, cached_plan(port.table(), head_id(port)))
    key_index_store.save(index_folder(port), forged)  # as if the delete file of rows 1 and 2 had been forgotten
    assert_same(port, rows([1, 2, 3, 300], 0.0).select(["id"]))


WRITER = """
import sys
import pyarrow as pa
import meshlake as ml
from meshlake.errors import CommitConflictError

home, first = sys.argv[1], int(sys.argv[2])
port = ml.connect(home=home).port("keys.idx.single")
for n in range(6):
    ids = [first + (n * 7 + i * 13) % 100 for i in range(5)]
    change = pa.table({"id": pa.array(ids, pa.int64()), "part": pa.array([i % 3 for i in ids], pa.int32()),
                       "v": pa.array([float(first + n)] * 5)})
    for attempt in range(20):
        try:
            port.write(change, mode="upsert", write_mode="merge-on-read")
            break
        except CommitConflictError:
            continue
    else:
        raise SystemExit("never committed")
"""


def test_two_processes_upserting_with_one_cache_folder_keep_the_index_right(keyed: ml.Lake, tmp_path: Path) -> None:
    import subprocess
    import sys

    port = keyed.port("keys.idx.single")
    port.write(rows(list(range(100)), 1.0))
    port.write(rows(list(range(100, 200)), 1.0))
    port.write(rows([0, 100], 1.5), mode="upsert", write_mode="merge-on-read")  # an index for both to start from
    home = str(tmp_path / ".meshlake")
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, home, str(first)], stderr=subprocess.PIPE) for first in (0, 100)
    ]
    for writer in writers:
        _, error = writer.communicate(timeout=300)
        assert writer.returncode == 0, error.decode()
    found = state(port)
    assert len(found) == 200
    for first in (0, 100):
        assert found[(first + 5 * 7 % 100,)] == float(first + 5)
    key_index_store._memo.clear()
    assert_same(port, rows(list(range(0, 200, 3)), 0.0).select(["id"]))


def test_a_large_run_is_checked_by_sampled_blocks(tmp_path: Path) -> None:
    target = tmp_path / "big.rows.npy"
    array = np.arange(2_000_000, dtype=np.int64)  # 16 MB: above the size checked whole
    written = key_index_store._write_array(target, array)
    assert written is not None
    described = {"size": written[0], "crc": written[1]}
    assert np.array_equal(key_index_store._load_array(target, described, len(array)), array)
    data = bytearray(target.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 4096 * 70] = bytes(4096 * 70)  # zeros over at least one sampled block
    target.write_bytes(bytes(data))
    key_index_store._memo.clear()
    with pytest.raises(key_runs.BrokenIndexError, match="checksum"):
        key_index_store._load_array(target, described, len(array))
    with pytest.raises(key_runs.BrokenIndexError, match="size"):
        key_index_store._load_array(target, {**described, "size": written[0] + 8}, len(array))


def test_a_failing_index_update_leaves_the_committed_upsert_and_the_next_one_right(
    keyed: ml.Lake, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    port = _indexed_port(keyed)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk gone")

    with monkeypatch.context() as patched:
        patched.setattr(key_index, "catch_up", broken)
        result = port.write(rows([3, 4, 310], 6.0), mode="upsert", write_mode="merge-on-read")
        assert result.index_keeping is not None and result.index_keeping.wait(60) is not None
    assert isinstance(result.index_keeping.error, RuntimeError)
    assert result.rows_updated == 2 and "key index of" in caplog.text and "disk gone" in caplog.text
    assert not (index_folder(port) / f"snap-{result.snapshot_id}.json").exists()
    port.write(rows([3, 5, 311], 7.0), mode="upsert", write_mode="merge-on-read")
    found = state(port)
    assert len(found) == 103 and found[(3,)] == 7.0 and found[(4,)] == 6.0 and found[(310,)] == 6.0
    assert_same(port, rows(list(range(0, 320, 3)), 0.0).select(["id"]))


KILLED_WHILE_KEEPING = """
import sys
import threading
import pyarrow as pa
import meshlake as ml
from meshlake.write import faults, key_merge

printed = threading.Event()
reached = faults.reached


def reached_after_the_print(phase, table=()):
    # The keeping runs on its own thread while write() returns: its faults wait until the snapshot id is printed,
    # else a kill in the keeping could come before the print and the parent could not tell what was committed.
    if phase.startswith("key index"):
        printed.wait(60)
    reached(phase, table)


faults.reached = reached_after_the_print
if "merge" in sys.argv[2:]:
    key_merge.MERGE_SHARE = 0.0  # the keeping merges, and the process dies there
port = ml.connect(home=sys.argv[1]).port("keys.idx.single")
ids = [5, 6, 700]
change = pa.table({"id": pa.array(ids, pa.int64()), "part": pa.array([i % 3 for i in ids], pa.int32()),
                   "v": pa.array([9.0] * 3)})
result = port.write(change, mode="upsert", write_mode="merge-on-read")
print(result.snapshot_id, flush=True)
printed.set()
if "wait" in sys.argv[2:]:
    result.index_keeping.wait()  # the keeping reaches its fault and kills the process
"""


def assert_right_after_the_killed_upsert(port: Any) -> None:
    """After `KILLED_WHILE_KEEPING`'s child upserted (5, 6, 700) and was killed in its keeping: the port holds its
    rows, the next upsert is right, and its keeping saves an index."""
    assert_same(port, rows(list(range(0, 710, 3)), 0.0).select(["id"]))
    port.write(rows([6, 7, 701], 10.0), mode="upsert", write_mode="merge-on-read")
    found = state(port)
    assert len(found) == 103 and found[(5,)] == 9.0 and found[(6,)] == 10.0 and found[(700,)] == 9.0
    assert index_keeper.wait_all(60) and _load_current(port) is not None
    assert_same(port, rows(list(range(0, 710, 3)), 0.0).select(["id"]))


@pytest.mark.parametrize("killed", [True, False])
def test_a_process_ending_with_its_keeping_pending_leaves_no_torn_index_that_is_trusted(
    keyed: ml.Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, killed: bool
) -> None:
    """Killed between writing the runs and the manifest naming them: no index of its snapshot, the next upsert
    right. Exiting normally: the exit waits for the keeping, so the index of its snapshot is there."""
    import subprocess
    import sys

    port = _indexed_port(keyed)
    if killed:
        monkeypatch.setenv("MESHLAKE_CRASH_AT", "key index")
    args = [sys.executable, "-c", KILLED_WHILE_KEEPING, str(tmp_path / ".meshlake"), *(["wait"] if killed else [])]
    child = subprocess.run(args, check=False, capture_output=True, timeout=300)
    assert child.returncode == (-9 if killed else 0), child.stderr.decode()
    committed = int(child.stdout.split()[0])
    monkeypatch.delenv("MESHLAKE_CRASH_AT", raising=False)
    assert head_id(port) == committed, "the upsert committed before its keeping"
    manifest = index_folder(port) / f"snap-{committed}.json"
    assert manifest.exists() is not killed
    assert (_load_current(port) is None) is killed
    assert_same(port, rows(list(range(0, 710, 3)), 0.0).select(["id"]))
    port.write(rows([6, 7, 701], 10.0), mode="upsert", write_mode="merge-on-read")
    found = state(port)
    assert len(found) == 103 and found[(5,)] == 9.0 and found[(6,)] == 10.0 and found[(700,)] == 9.0
    assert index_keeper.wait_all(60)
    assert_same(port, rows(list(range(0, 710, 3)), 0.0).select(["id"]))


def test_a_lookup_waits_for_the_keeping_of_its_base_snapshot(keyed: ml.Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    """Back to back: the second upsert's lookup waits for the first one's keeping instead of catching up itself,
    so it finds the index of its base ready (no delete file is read back)."""
    port = _indexed_port(keyed)
    release = __import__("threading").Event()
    original = key_index_keeping.keep_current

    def slow(*args: Any, **kwargs: Any) -> None:
        release.wait(30)
        original(*args, **kwargs)

    monkeypatch.setattr(key_index_keeping, "keep_current", slow)
    wait_for = index_keeper.wait_for

    def released_later(*args: Any, **kwargs: Any) -> float:
        __import__("threading").Timer(0.3, release.set).start()  # once the second upsert waits
        return wait_for(*args, **kwargs)

    first = port.write(rows([10, 11, 800], 2.0), mode="upsert", write_mode="merge-on-read")
    assert first.index_keeping is not None and not first.index_keeping.done
    monkeypatch.setattr(index_keeper, "wait_for", released_later)
    second = port.write(rows([11, 12, 801], 3.0), mode="upsert", write_mode="merge-on-read")
    assert first.index_keeping.wait(60) is not None and second.phases["key index wait"] >= 0.25
    assert second.rows_updated == 2
    found = state(port)
    assert len(found) == 103 and found[(10,)] == 2.0 and found[(11,)] == 3.0 and found[(800,)] == 2.0
    assert index_keeper.wait_all(60)
    assert_same(port, rows(list(range(0, 810, 3)), 0.0).select(["id"]))


def test_threads_of_one_process_upserting_one_port_keep_one_index_right(keyed: ml.Lake) -> None:
    """Two threads upsert the same port back to back while the keeper thread keeps the index of each commit: every
    lookup waits for or catches up past the keepings, and the index finds what the scan finds."""
    from concurrent.futures import ThreadPoolExecutor

    from meshlake.errors import CommitConflictError

    port = _indexed_port(keyed)

    def upserts(first: int) -> None:
        for n in range(5):
            change = rows([first + n, first + 40 + n, 1000 + first + n], float(first + n))
            for _ in range(30):
                try:
                    keyed.port("keys.idx.single").write(change, mode="upsert", write_mode="merge-on-read")
                    break
                except CommitConflictError:
                    continue
            else:
                raise AssertionError("never committed")

    with ThreadPoolExecutor(2) as pool:
        for done in [pool.submit(upserts, first) for first in (0, 10)]:
            done.result()
    assert index_keeper.wait_all(60)
    found = state(port)
    assert len(found) == 101 + 10
    for first in (0, 10):
        for n in range(5):
            assert found[(first + n,)] == found[(first + 40 + n,)] == found[(1000 + first + n,)] == float(first + n)
    key_index_store._memo.clear()
    assert_same(port, rows([*range(0, 110, 3), *range(1000, 1020)], 0.0).select(["id"]))


def test_the_keeping_takes_the_new_rows_keys_from_memory_not_from_their_file(
    keyed: ml.Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The keys an upsert wrote go into the index as written (their file is not read back), at their positions."""
    port = _indexed_port(keyed)
    read: list[int] = []
    original = key_index._read_keys

    def counting(*args: Any, **kwargs: Any) -> pa.Table:
        read.append(len(args[2]))
        return original(*args, **kwargs)

    monkeypatch.setattr(key_index, "_read_keys", counting)
    shuffled = [901, 5, 950, 7, 900, 12]  # new and old keys, not in key order: positions follow the file's order
    result = port.write(rows(shuffled, 3.0), mode="upsert", write_mode="merge-on-read")
    assert result.index_keeping is not None and result.index_keeping.wait(60) is not None
    assert result.index_keeping.error is None and read == []
    index = _load_current(port)
    assert index is not None and index.snapshot_id == result.snapshot_id
    assert_same(port, rows([*shuffled, 6, 100], 0.0).select(["id"]))
    again = port.write(rows([950, 5, 902], 4.0), mode="upsert", write_mode="merge-on-read")
    assert again.rows_updated == 2 and state(port)[(950,)] == 4.0 and state(port)[(5,)] == 4.0


def test_keys_held_in_memory_are_used_only_for_the_file_they_describe() -> None:
    task = type("Task", (), {"path": "f", "position_deletes": (), "equality_deletes": (), "record_count": 2})()
    keys = pa.table({"id": pa.array([1, 2], pa.int64())})
    assert key_index._held(task, {"f": keys}) is keys  # type: ignore[arg-type]
    assert key_index._held(task, {"g": keys}) is None  # type: ignore[arg-type]
    assert key_index._held(task, {"f": keys.slice(1)}) is None  # type: ignore[arg-type]
    task.position_deletes = ("d",)
    assert key_index._held(task, {"f": keys}) is None  # type: ignore[arg-type]


def test_a_lookup_uses_the_index_a_keeping_is_still_saving(keyed: ml.Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    """Back to back, the second upsert's lookup takes the first one's caught-up index from memory: it neither waits
    for its saving nor catches up itself."""
    import threading

    port = _indexed_port(keyed)
    release = threading.Event()
    save, catch_up = key_index_store.save, key_index.catch_up
    catching: list[str] = []

    def slow_save(folder: Path, index: key_runs.KeyIndex) -> bool:
        if threading.current_thread().name == "meshlake-key-index-keeper":
            release.wait(30)
        return save(folder, index)

    def recorded(*args: Any, **kwargs: Any) -> key_runs.KeyIndex | None:
        catching.append(threading.current_thread().name)
        return catch_up(*args, **kwargs)

    monkeypatch.setattr(key_index_store, "save", slow_save)
    monkeypatch.setattr(key_index, "catch_up", recorded)
    monkeypatch.setattr(index_keeper, "SAVE_DELAY_SECONDS", 0.0)  # the first's save starts at once, and blocks
    try:
        first = port.write(rows([20, 21, 820], 2.0), mode="upsert", write_mode="merge-on-read")
        second = port.write(rows([21, 22, 821], 3.0), mode="upsert", write_mode="merge-on-read")
        assert first.index_keeping is not None and not first.index_keeping.done, "still saving"
    finally:
        release.set()
    assert index_keeper.wait_all(60) and set(catching) == {"meshlake-key-index-keeper"}
    assert second.rows_updated == 2
    found = state(port)
    assert len(found) == 103 and found[(20,)] == 2.0 and found[(21,)] == 3.0 and found[(820,)] == 2.0
    assert_same(port, rows(list(range(0, 830, 3)), 0.0).select(["id"]))


# -- one sort of the upsert's keys: uniqueness check, lookup and keeping; merges after the index is ready ---------


@pytest.mark.parametrize("output", ["single", "pair"])
def test_a_repeated_key_is_refused_by_the_sorted_check_even_among_hash_collisions(
    keyed: ml.Lake, monkeypatch: pytest.MonkeyPatch, output: str
) -> None:
    """An integer key is sorted by its value; a compound key by a hash, forced here to collide (a third of the keys
    share each one), whose equal sort keys are then compared exactly."""
    if output == "pair":
        original = key_hashing.sort_key
        monkeypatch.setattr(key_hashing, "sort_key", lambda columns: original(columns) % 3)
    port = keyed.port(f"keys.idx.{output}")
    port.write(rows(list(range(20)), 1.0))
    key = ("id",) if output == "single" else ("id", "part")
    head, before = head_id(port), state(port, key)
    with pytest.raises(ContractViolationError):
        port.write(rows([3, 4, 5, 3], 2.0), mode="upsert", write_mode="merge-on-read")
    assert head_id(port) == head and state(port, key) == before
    result = port.write(rows([3, 6, 9, 30], 2.0), mode="upsert", write_mode="merge-on-read")  # colliding, unique
    assert result.rows_updated == 3 and index_keeper.wait_all(60)
    found = state(port, key)
    assert len(found) == 21 and found[(3, 0) if output == "pair" else (3,)] == 2.0
    assert_same(port, rows(list(range(40)), 0.0).select(list(key)))


def test_sorted_keys_name_the_rows_sharing_a_sort_key_and_refuse_nulls(monkeypatch: pytest.MonkeyPatch) -> None:
    keys = pa.table({"id": pa.array([5, 1, 4, 2], pa.int64()), "part": pa.array([1, 1, 1, 2], pa.int32())})
    found = key_runs.sorted_keys(keys, ("integer", "integer"))
    assert found is not None and found.source is keys and len(found.repeated()) == 0
    assert np.all(found.keys[1:] >= found.keys[:-1]) and sorted(found.order.tolist()) == [0, 1, 2, 3]
    assert found.columns[0].tolist() == [[5, 1, 4, 2][i] for i in found.order.tolist()]  # type: ignore[union-attr]
    original = key_hashing.sort_key
    monkeypatch.setattr(key_hashing, "sort_key", lambda columns: original(columns) * 0)  # one sort key for all
    colliding = key_runs.sorted_keys(keys, ("integer", "integer"))
    assert colliding is not None and sorted(colliding.repeated().tolist()) == [0, 1, 2, 3]
    with_null = pa.table({"id": pa.array([1, None], pa.int64()), "part": pa.array([1, 1], pa.int32())})
    assert key_runs.sorted_keys(with_null, ("integer", "integer")) is None


def test_the_keeping_takes_the_new_rows_run_from_the_lookups_sort(
    keyed: ml.Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    port = _indexed_port(keyed)
    original, sorted_on = key_hashing.sort_key, []

    def recorded(columns: Any) -> np.ndarray:
        sorted_on.append(threading.current_thread().name)
        return original(columns)

    monkeypatch.setattr(key_hashing, "sort_key", recorded)
    port.write(rows([30, 31, 900, 901], 2.0), mode="upsert", write_mode="merge-on-read")
    assert index_keeper.wait_all(60)
    assert sorted_on == [threading.current_thread().name], "sorted once, by the write, none by the keeper"
    assert len(state(port)) == 103
    assert_same(port, rows(list(range(0, 910, 3)), 0.0).select(["id"]))


def test_neither_the_next_lookup_nor_the_next_keeping_waits_for_a_merge(
    keyed: ml.Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The merge of the runs (O(port)) runs aside: while it runs, the next upsert looks its rows up and its keeping
    catches up from the unmerged index; when it ends, the newest index is rebased onto it, and the keeping after
    that catches up from the rebased one."""
    import threading

    port = _indexed_port(keyed)
    monkeypatch.setattr(key_merge, "MERGE_SHARE", 0.0)  # a merge due at every keeping
    merging, release = threading.Event(), threading.Event()
    merged, catch_up = key_merge.merged, key_index.catch_up
    caught_from: list[int] = []

    def slow(index: key_runs.KeyIndex) -> key_runs.KeyIndex:
        merging.set()
        release.wait(30)
        return merged(index)

    def recorded(table: Any, index: key_runs.KeyIndex, *args: Any, **kwargs: Any) -> key_runs.KeyIndex | None:
        caught_from.append(len(index.runs) + len(index.tombstones))
        return catch_up(table, index, *args, **kwargs)

    monkeypatch.setattr(key_merge, "merged", slow)
    monkeypatch.setattr(key_index, "catch_up", recorded)
    try:
        port.write(rows([40, 41, 940], 2.0), mode="upsert", write_mode="merge-on-read")
        assert merging.wait(30)
        second = port.write(rows([41, 42, 941], 3.0), mode="upsert", write_mode="merge-on-read")
        assert second.index_keeping is not None and second.index_keeping.wait(30) is not None
        assert not release.is_set(), "the second keeping ended while the first merge still ran"
    finally:
        release.set()
    assert index_keeper.wait_all(60)
    third = port.write(rows([42, 43, 942], 4.0), mode="upsert", write_mode="merge-on-read")
    assert index_keeper.wait_all(60)
    # from the index the first upsert found (a base, a delta, a tombstone run); the second from the first's
    # caught-up index (two more), the merge still running; the third from the second's rebased onto the merge
    assert caught_from == [3, 5, 3]
    assert second.rows_updated == 2 and third.rows_updated == 2
    found = state(port)
    assert len(found) == 104 and found[(40,)] == 2.0 and found[(41,)] == 3.0 and found[(42,)] == 4.0
    saved = _load_current(port)
    assert saved is not None and len(saved.runs) == 1 and saved.tombstones == ()
    assert_same(port, rows(list(range(0, 950, 3)), 0.0).select(["id"]))


def test_a_process_killed_while_merging_its_index_leaves_a_usable_one(
    keyed: ml.Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed in the merge (aside; its keeping's save of the caught-up index may or may not have run): no merged
    index of that snapshot is saved, whatever is saved is right, and the next upsert is right."""
    import subprocess
    import sys

    port = _indexed_port(keyed)
    monkeypatch.setenv("MESHLAKE_CRASH_AT", "key index merge")
    args = [sys.executable, "-c", KILLED_WHILE_KEEPING, str(tmp_path / ".meshlake"), "merge", "wait"]
    child = subprocess.run(args, check=False, capture_output=True, timeout=300)
    monkeypatch.delenv("MESHLAKE_CRASH_AT")
    assert child.returncode == -9, child.stderr.decode()
    assert head_id(port) == int(child.stdout.split()[0]), "the upsert committed before its keeping"
    kept = _load_current(port)
    assert kept is None or len(kept.runs) + len(kept.tombstones) > 1, "at most the caught-up index, not merged"
    assert_right_after_the_killed_upsert(port)


def test_a_run_searched_through_its_fences_finds_what_a_binary_search_finds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(key_runs, "FENCED_RUN", 1)  # every run through its fences
    rng = np.random.default_rng(7)
    big = np.iinfo(np.int64)
    for n in (1, 2, 63, 64, 65, 127, 128, 129, 1000, 4097):
        for spread in (10, 2**62):  # many repeated keys, or nearly none
            keys = np.sort(rng.integers(-spread, spread, n, dtype=np.int64))
            run = key_runs.Run(f"r{n}s{spread.bit_length()}", np.arange(n, dtype=np.int64), keys, False)
            needles = np.sort(
                np.concatenate([keys[rng.integers(0, n, 50)], rng.integers(-spread, spread, 50), [big.min, big.max]])
            )
            assert np.array_equal(key_runs._search(run, needles), np.searchsorted(keys, needles, side="left")), n
            assert len(key_runs.fences_of(run)) == n // key_runs.FENCE_STRIDE
