"""Table metadata loaded lazily for reads (`meshlake.catalog.loading`): what a read needs is validated at load,
the per-snapshot lists on first use, and the outcome is always pyiceberg's own (these tests compare with it).

A new `LakeSqlCatalog` on the same database stands for a new process: the process's in-memory metadata cache, which
every catalog of a process shares, is emptied first (`forget_parsed_metadata`).
"""

from __future__ import annotations

import json
import pickle
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import ValidationError
from pyiceberg.serializers import FromInputFile
from pyiceberg.table import Table
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.table.update import SetPropertiesUpdate

import meshlake as ml
from meshlake.catalog.disk_cache import cache_folder
from meshlake.catalog.loading import LAZY_FIELDS, LazyTableMetadataV2, is_complete, lazy_history_entries, load_metadata
from meshlake.catalog.sql_catalog import LakeSqlCatalog, forget_parsed_metadata
from meshlake.errors import BrokenProductError, TableMetadataError
from tests.conftest import DescriptorWriter
from tests.test_write import shipments

SCHEMA = pa.schema([("id", pa.int64()), ("name", pa.string())])


def _catalog(tmp_path: Path) -> LakeSqlCatalog:
    """A catalog as a new process opens it."""
    forget_parsed_metadata()
    return LakeSqlCatalog("lake", uri=f"sqlite:///{tmp_path}/catalog.db", warehouse=(tmp_path / "wh").as_uri())


def _table(catalog: SqlCatalog, appends: int = 4) -> Table:
    catalog.create_namespace_if_not_exists("ns")
    table = catalog.create_table("ns.t", schema=SCHEMA, properties={"format-version": "2"})
    for i in range(appends):
        table.append(pa.table({"id": [i], "name": [f"n{i}"]}, schema=SCHEMA))
    return catalog.load_table("ns.t")


def _eager(table: Table) -> TableMetadata:
    """pyiceberg's own parse of the table's metadata file."""
    return FromInputFile.table_metadata(table.io.new_input(table.metadata_location))


def _lazy(tmp_path: Path) -> Table:
    """The table as a new process loads it."""
    table = _catalog(tmp_path).load_table("ns.t")
    assert isinstance(table.metadata, LazyTableMetadataV2) and not table.metadata.is_complete
    return table


def _same(metadata: TableMetadata, other: TableMetadata) -> bool:
    """Equal field by field (pydantic's `==` also compares the classes)."""
    return metadata.model_dump() == other.model_dump()


def _path(location: str) -> Path:
    return Path(location.removeprefix("file://"))


def test_a_load_for_reading_validates_only_the_snapshots_the_refs_name(tmp_path: Path) -> None:
    table = _table(_catalog(tmp_path))
    table.manage_snapshots().create_tag(table.metadata.snapshots[1].snapshot_id, "v1").commit()
    eager = _eager(table)

    lazy = _lazy(tmp_path).metadata

    assert lazy.current_snapshot() == eager.current_snapshot()
    assert lazy.snapshot_by_name("v1") == eager.snapshot_by_name("v1")
    assert lazy.refs == eager.refs and lazy.schemas == eager.schemas and lazy.properties == eager.properties
    assert not is_complete(lazy), "answering for main and a tag read the whole history"
    assert not any(name in lazy.__dict__ for name in LAZY_FIELDS)


def test_every_snapshot_and_log_of_a_lazy_load_is_pyicebergs(tmp_path: Path) -> None:
    table = _table(_catalog(tmp_path), appends=6)
    eager = _eager(table)

    lazy = _lazy(tmp_path).metadata
    oldest = eager.snapshots[0].snapshot_id

    assert lazy.snapshot_by_id(oldest) == eager.snapshot_by_id(oldest)  # not a ref: its entry in the file
    assert lazy.snapshot_by_id(-1) is None
    assert not is_complete(lazy), "finding one snapshot built every snapshot of the file"
    for name in LAZY_FIELDS:  # reads the rest
        assert getattr(lazy, name) == getattr(eager, name), name
    assert _same(lazy, eager)
    assert json.loads(lazy.model_dump_json()) == json.loads(eager.model_dump_json())


@pytest.mark.parametrize("touch", ["copy", "dump", "iterate", "pickle", "equal"])
def test_whatever_sees_the_metadata_whole_reads_the_rest_first(tmp_path: Path, touch: str) -> None:
    table = _table(_catalog(tmp_path))
    eager = _eager(table)
    lazy = _lazy(tmp_path).metadata

    if touch == "copy":
        seen: Any = lazy.model_copy(update={"properties": {"owner": "me"}})
        assert seen.snapshots == eager.snapshots and seen.properties == {"owner": "me"}
    elif touch == "dump":
        assert lazy.model_dump()["snapshots"] == eager.model_dump()["snapshots"]
    elif touch == "iterate":
        assert dict(lazy)["snapshot_log"] == eager.snapshot_log
    elif touch == "pickle":
        assert _same(pickle.loads(pickle.dumps(lazy)), eager)
    else:
        assert lazy != eager and lazy == LazyTableMetadataV2.model_construct(**dict(eager))
    assert is_complete(lazy)


def test_a_commit_on_a_lazy_load_writes_what_pyiceberg_would(tmp_path: Path) -> None:
    from pyiceberg.table.update import update_table_metadata

    table = _table(_catalog(tmp_path))
    table.manage_snapshots().create_tag(table.metadata.snapshots[0].snapshot_id, "first").commit()
    base = _eager(table)
    updates = (SetPropertiesUpdate(updates={"owner": "me"}),)
    lazy = _lazy(tmp_path)

    response = lazy.catalog.commit_table(lazy, (), updates)

    written = json.loads(_path(response.metadata_location).read_bytes())
    pyicebergs = update_table_metadata(base, updates, metadata_location=lazy.metadata_location)
    expected = json.loads(pyicebergs.model_dump_json())
    written.pop("last-updated-ms"), expected.pop("last-updated-ms")
    assert written == expected
    assert [entry.metadata_file for entry in response.metadata.metadata_log][-1] == table.metadata_location


def test_appends_after_a_lazy_load_keep_every_snapshot_ref_and_log(tmp_path: Path) -> None:
    table = _table(_catalog(tmp_path))
    table.manage_snapshots().create_tag(table.metadata.snapshots[0].snapshot_id, "first").commit()
    before = _eager(table)
    lazy = _lazy(tmp_path)

    lazy.append(pa.table({"id": [9], "name": ["x"]}, schema=SCHEMA))

    after = _eager(_catalog(tmp_path).load_table("ns.t"))
    assert after.snapshots[:-1] == before.snapshots
    assert after.snapshot_log[:-1] == before.snapshot_log
    assert after.refs["first"] == before.refs["first"]
    assert [e.metadata_file for e in after.metadata_log][:-1] == [e.metadata_file for e in before.metadata_log]


def test_fields_pyiceberg_does_not_know_fare_as_with_pyicebergs_own_load(tmp_path: Path) -> None:
    """Summary entries and properties meshlake does not know are kept; a top-level field no Iceberg spec has is
    treated as pyiceberg treats it (dropped on the next commit, as Java's writer does): the same file either way."""
    table = _table(_catalog(tmp_path))
    path = _path(table.metadata_location)
    raw = json.loads(path.read_bytes())
    raw["x-engine-extension"] = {"keep": "?"}
    raw["properties"]["x.unknown.property"] = "kept"
    raw["snapshots"][0]["summary"]["x-unknown-summary"] = "kept"
    raw["snapshots"][0]["x-unknown-snapshot-field"] = 1
    path.write_text(json.dumps(raw))  # a file of another engine, never loaded before (its length is new)
    eager = FromInputFile.table_metadata(table.io.new_input(table.metadata_location))
    updates = (SetPropertiesUpdate(updates={"owner": "me"}),)

    lazy = _lazy(tmp_path)
    response = lazy.catalog.commit_table(lazy, (), updates)

    from pyiceberg.table.update import update_table_metadata

    written = json.loads(_path(response.metadata_location).read_bytes())
    pyicebergs = update_table_metadata(eager, updates, metadata_location=lazy.metadata_location)
    expected = json.loads(pyicebergs.model_dump_json())
    assert written["properties"]["x.unknown.property"] == "kept"
    assert written["snapshots"][0]["summary"]["x-unknown-summary"] == "kept"
    written.pop("last-updated-ms"), expected.pop("last-updated-ms")
    assert written == expected


def test_time_travel_by_id_tag_and_timestamp_after_a_lazy_load(
    tmp_path: Path, lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    lake.deploy(write_descriptor(descriptor))
    port = lake.port("logistics.shipments.daily")
    made = []
    for name in ("a", "b", "c"):
        made.append(port.write(shipments([name])).snapshot_id)
        time.sleep(0.01)
    port.tag("v1", made[0])
    middle = port.history()[1].committed_at

    forget_parsed_metadata()  # a new process
    reader = ml.connect(home=str(tmp_path / ".meshlake")).port("logistics.shipments.daily")

    def ids(snapshot: Any) -> list[str]:
        return sorted(snapshot.to_arrow()["shipment_id"].to_pylist())

    assert ids(reader.latest()) == ["a", "b", "c"]
    assert ids(reader.at("v1")) == ["a"]
    assert ids(reader.at(made[1])) == ["a", "b"]
    assert reader.as_of(middle).snapshot_id == made[1]
    assert [h.snapshot_id for h in reader.history()] == made


def test_a_metadata_file_that_is_not_json_is_still_a_clear_load_error(tmp_path: Path, port: Any) -> None:
    port.write(shipments(["a"]))
    table = port.table()
    _path(table.metadata_location).write_text('{"format-version": 2, "snapshots": [')

    forget_parsed_metadata()  # a new process
    with pytest.raises(BrokenProductError) as caught:
        ml.connect(home=str(tmp_path / ".meshlake")).port("logistics.shipments.daily").table()
    assert caught.value.port == "daily" and "cannot be loaded" in str(caught.value)
    with pytest.raises(ValidationError):  # pyiceberg's own error, as its load raises
        load_metadata(table.io, table.metadata_location)


@pytest.mark.parametrize(
    "damage",
    [
        {"refs": {"main": {"snapshot-id": [1], "type": "branch"}}},
        {"current-snapshot-id": {"id": 1}},
        {"snapshots": {"not": "a list"}},
        {"schemas": "none"},
    ],
)
def test_a_metadata_file_with_values_of_the_wrong_type_fails_as_pyicebergs_load(
    tmp_path: Path, damage: dict[str, Any]
) -> None:
    table = _table(_catalog(tmp_path))
    path = _path(table.metadata_location)
    path.write_text(json.dumps(json.loads(path.read_bytes()) | damage))

    with pytest.raises(ValidationError):
        FromInputFile.table_metadata(table.io.new_input(table.metadata_location))
    with pytest.raises(ValidationError):
        _catalog(tmp_path).load_table("ns.t")


def test_a_metadata_file_invalid_where_reads_do_not_look_fails_clearly_when_history_needs_it(
    tmp_path: Path,
) -> None:
    table = _table(_catalog(tmp_path))
    path = _path(table.metadata_location)
    raw = json.loads(path.read_bytes())
    raw["snapshots"][0]["timestamp-ms"] = "yesterday"  # an old snapshot, not named by a ref
    path.write_text(json.dumps(raw))
    with pytest.raises(ValidationError):
        FromInputFile.table_metadata(table.io.new_input(table.metadata_location))  # pyiceberg refuses it whole

    lazy = _lazy(tmp_path)
    assert lazy.metadata.current_snapshot() is not None  # reading the current snapshot needs none of it
    with pytest.raises(TableMetadataError) as caught:
        lazy.metadata.snapshots  # noqa: B018 - history and time travel read the rest
    assert caught.value.location == table.metadata_location
    assert "ValidationError" in caught.value.reason and isinstance(caught.value, ValueError)


def test_a_metadata_file_gone_after_a_lazy_load_is_a_clear_error(tmp_path: Path) -> None:
    table = _table(_catalog(tmp_path))
    lazy = _lazy(tmp_path)
    _path(table.metadata_location).unlink()

    with pytest.raises(TableMetadataError) as caught:
        lazy.metadata.snapshot_log  # noqa: B018
    assert caught.value.location == table.metadata_location and "FileNotFoundError" in caught.value.reason


def test_a_commit_leaves_a_read_view_that_a_new_process_loads_without_the_file(tmp_path: Path) -> None:
    table = _table(_catalog(tmp_path))
    folder = cache_folder("metadata")
    assert folder is not None and any(folder.rglob("*.json")), "the commit left no read view"
    text = _path(table.metadata_location).read_bytes()
    _path(table.metadata_location).write_bytes(b" " * len(text))  # same length: only the view can answer

    lazy = _lazy(tmp_path).metadata

    assert lazy.current_snapshot() == table.metadata.current_snapshot()
    assert lazy.schema() == table.metadata.schema()


def test_the_read_views_kept_are_one_per_table_not_one_per_commit(tmp_path: Path) -> None:
    table = _table(_catalog(tmp_path), appends=5)
    folder = cache_folder("metadata")
    assert folder is not None

    views = [json.loads(entry.read_bytes()) for entry in folder.rglob("*.json")]

    assert [view["location"] for view in views] == [table.metadata_location]


@pytest.mark.parametrize("damage", [b"", b"{not json", b'{"version": 1, "location": "elsewhere"}', b"[]"])
def test_a_damaged_or_foreign_read_view_is_ignored(tmp_path: Path, damage: bytes) -> None:
    table = _table(_catalog(tmp_path))
    folder = cache_folder("metadata")
    assert folder is not None
    for entry in folder.rglob("*.json"):
        entry.write_bytes(damage)

    lazy = _lazy(tmp_path).metadata

    assert _same(lazy, _eager(table))


def test_a_read_view_whose_metadata_does_not_validate_is_ignored(tmp_path: Path) -> None:
    table = _table(_catalog(tmp_path))
    folder = cache_folder("metadata")
    assert folder is not None
    for entry in folder.rglob("*.json"):
        found = json.loads(entry.read_bytes())
        found["metadata"]["current-schema-id"] = 42  # no such schema
        entry.write_text(json.dumps(found))

    lazy = _lazy(tmp_path).metadata

    assert lazy.current_schema_id == _eager(table).current_schema_id
    assert _same(lazy, _eager(table))


def test_with_the_cache_off_a_load_is_still_lazy_and_complete_on_demand(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MESHLAKE_CACHE_DIR", "off")
    table = _table(_catalog(tmp_path))

    lazy = _lazy(tmp_path).metadata

    assert lazy.current_snapshot() == table.metadata.current_snapshot()
    assert _same(lazy, _eager(table))


def _reader(tmp_path: Path) -> Any:
    """The port as a new process opens it."""
    forget_parsed_metadata()
    return ml.connect(home=str(tmp_path / ".meshlake")).port("logistics.shipments.daily")


def _written(port: Any) -> list[int]:
    made = []
    for name in ("a", "b", "c", "d"):
        made.append(port.write(shipments([name])).snapshot_id)
        time.sleep(0.002)
    port.tag("v1", made[1])
    port.rollback(to=made[1])  # a move in the snapshot log
    port.rollback(to=made[3])
    return made


def test_history_in_a_new_process_never_builds_pyicebergs_model_of_every_snapshot(tmp_path: Path, port: Any) -> None:
    _written(port)
    written = port.history()

    reader = _reader(tmp_path)
    found = reader.history()

    assert [h.to_dict() for h in found] == [h.to_dict() for h in written]
    assert found.moves == written.moves and len(found.moves) == 2
    assert [h.tags for h in found] == [(), ("v1",), (), ()]
    assert not is_complete(reader.table().metadata), "history() parsed every snapshot with pyiceberg"


def test_history_of_a_new_process_reads_each_snapshot_as_pyiceberg_does(tmp_path: Path, port: Any) -> None:
    made = _written(port)
    table = port.table()
    eager = _eager(table)

    entries = lazy_history_entries(_reader(tmp_path).table().metadata)

    assert entries is not None
    assert [e.snapshot() for e in entries.snapshots] == eager.snapshots
    assert [e.snapshot_id for e in entries.snapshots] == [s.snapshot_id for s in eager.snapshots] == made
    assert entries.log == [(e.snapshot_id, e.timestamp_ms) for e in eager.snapshot_log]
    assert lazy_history_entries(eager) is None  # metadata that holds its lists answers with them


@pytest.mark.parametrize(
    ("field", "value"),
    [("summary", {"operation": "explode"}), ("snapshot-id", "one"), ("parent-snapshot-id", [1]), ("summary", [])],
)
def test_history_of_a_corrupted_snapshot_entry_is_a_table_metadata_error_naming_the_file(
    tmp_path: Path, port: Any, field: str, value: Any
) -> None:
    _written(port)
    location = port.table().metadata_location
    path = _path(location)
    raw = json.loads(path.read_bytes())
    raw["snapshots"][0][field] = value  # an old snapshot: no ref names it, so the load for reading does not look
    path.write_text(json.dumps(raw))
    reader = _reader(tmp_path)
    assert reader.latest().snapshot_id == raw["current-snapshot-id"]

    with pytest.raises(TableMetadataError) as caught:
        reader.history()

    assert caught.value.location == location and "snapshot 0 " in caught.value.reason
    assert isinstance(caught.value, ValueError)


def test_history_of_a_value_pyiceberg_accepts_after_coercion_is_pyicebergs(tmp_path: Path, port: Any) -> None:
    _written(port)
    path = _path(port.table().metadata_location)
    raw = json.loads(path.read_bytes())
    raw["snapshots"][0]["timestamp-ms"] = str(raw["snapshots"][0]["timestamp-ms"])  # pyiceberg reads it as a number
    path.write_text(json.dumps(raw))
    written = port.history()

    found = _reader(tmp_path).history()

    assert [h.to_dict() for h in found] == [h.to_dict() for h in written]


def test_the_gates_recovery_walk_on_a_lazy_load_is_the_full_ones_without_building_every_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from meshlake.quality import records

    table = _table(_catalog(tmp_path), appends=8)
    eager = _eager(table)
    lazy = _lazy(tmp_path).metadata
    head = eager.current_snapshot_id
    recorded = {s.snapshot_id for s in eager.snapshots}  # counted without a stamp (pyiceberg's appends have none)
    monkeypatch.setattr(records, "RECOVERY_DEPTH", 5)

    walked = records._gated_snapshots(lazy, head, recorded)

    assert walked == records._gated_snapshots(eager, head, recorded)
    assert [s.snapshot_id for s, _ in walked] == [s.snapshot_id for s in eager.snapshots[::-1][:5]]
    assert not is_complete(lazy), "the walk built every snapshot of the file"


def test_snapshots_found_by_id_after_history_read_the_file_are_pyicebergs(tmp_path: Path) -> None:
    table = _table(_catalog(tmp_path), appends=4)
    eager = _eager(table)
    lazy = _lazy(tmp_path).metadata
    assert lazy_history_entries(lazy) is not None  # the file's entries, as history reads them

    for snapshot in eager.snapshots:  # each found among them, more than once
        assert lazy.snapshot_by_id(snapshot.snapshot_id) == snapshot
        assert lazy.snapshot_by_id(snapshot.snapshot_id) == snapshot
    assert not is_complete(lazy)


def test_a_load_racing_a_commit_does_not_replace_the_commits_metadata_with_a_lazy_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second catalog of the process (a stream's background thread) that reads the catalog row between a commit's
    swap and the commit's `put` misses the cache and loads the file lazily; stored after the commit's `put`, its copy
    made the stream's next commit parse the whole file again (0.2-0.3 s at 5,000 snapshots). The commit's complete
    metadata stays."""
    catalog = _catalog(tmp_path)
    table = _table(catalog)
    held = catalog.load_table("ns.t").metadata
    assert is_complete(held)
    other = LakeSqlCatalog("lake", uri=f"sqlite:///{tmp_path}/catalog.db", warehouse=(tmp_path / "wh").as_uri())
    monkeypatch.setattr(other.metadata_cache, "get", lambda *_: None)  # it looked before the commit's put
    raced = other.load_table("ns.t")
    monkeypatch.undo()
    assert raced.metadata_location == table.metadata_location
    assert raced.metadata is held, "the load adopts the metadata the cache holds for the same file"
    assert catalog.load_table("ns.t").metadata is held


def test_a_load_that_read_the_row_before_a_commit_keeps_no_stale_copy(tmp_path: Path) -> None:
    """The other order of the race: the row read before a commit's swap, the cache looked at after its `put`. The
    superseded file's lazy copy is returned to that reader, and the commit's later metadata stays kept."""
    catalog = _catalog(tmp_path)
    table = _table(catalog, appends=2)
    older = table.metadata_location
    table.append(pa.table({"id": [7], "name": ["n7"]}, schema=SCHEMA))
    held = catalog.load_table("ns.t").metadata
    assert is_complete(held) and catalog.load_table("ns.t").metadata_location != older
    stale = load_metadata(table.io, older)

    kept = catalog.metadata_cache.adopt(catalog._cached(("ns", "t")), older, stale)

    assert kept is stale
    assert catalog.load_table("ns.t").metadata is held


def test_a_table_dropped_and_created_again_is_kept_in_the_cache_from_its_first_version(tmp_path: Path) -> None:
    """The new table's versions start over: the old table's later version in the cache does not make every load of
    the new one parse its file again."""
    catalog = _catalog(tmp_path)
    _table(catalog, appends=3)
    catalog.drop_table("ns.t")
    catalog.create_table("ns.t", schema=SCHEMA, properties={"format-version": "2"})
    first = catalog.load_table("ns.t")
    assert catalog.load_table("ns.t").metadata is first.metadata
