"""Commits whose cost does not grow with the history: updates applied to the metadata held, JSON rendered once.

`LakeSqlCatalog` (the SQL catalog of every meshlake lake) commits on the metadata its caller holds, renders the
new metadata file from the previous render plus what changed, and serves loads from parsed metadata by
location. Outcomes must be pyiceberg's own: these tests compare with it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import CommitFailedException
from pyiceberg.table import Table
from pyiceberg.table.update import AssertRefSnapshotId, SetPropertiesUpdate

import meshlake as ml
from meshlake.catalog.metadata import ancestors, apply_updates, metadata_json, snapshot_by_id, snapshot_index
from meshlake.catalog.sql_catalog import LakeSqlCatalog
from tests.conftest import DescriptorWriter


def _catalog(tmp_path: Path, name: str = "lake") -> LakeSqlCatalog:
    return LakeSqlCatalog(name, uri=f"sqlite:///{tmp_path}/catalog.db", warehouse=(tmp_path / "wh").as_uri())


def _table(catalog: SqlCatalog, appends: int = 3) -> Table:
    catalog.create_namespace_if_not_exists("ns")
    schema = pa.schema([("id", pa.int64()), ("name", pa.string())])
    table = catalog.create_table("ns.t", schema=schema, properties={"format-version": "2"})
    for i in range(appends):
        table.append(pa.table({"id": [i], "name": [f"n{i}"]}, schema=schema))
    return catalog.load_table("ns.t")


def _files(table: Table) -> set[Path]:
    return set(Path(table.metadata.location.removeprefix("file://"), "metadata").glob("*.metadata.json"))


def test_a_commit_shares_the_unchanged_snapshots_with_the_metadata_it_was_made_from(tmp_path: Path) -> None:
    table = _table(_catalog(tmp_path))
    before = table.metadata.snapshots

    table.append(pa.table({"id": [9], "name": ["x"]}, schema=table.schema().as_arrow()))

    after = table.metadata.snapshots
    assert len(after) == len(before) + 1
    assert all(a is b for a, b in zip(after, before, strict=False)), "snapshots were copied, not shared"


def test_apply_updates_is_pyicebergs_update_without_the_copy(tmp_path: Path) -> None:
    from pyiceberg.table.update import update_table_metadata

    table = _table(_catalog(tmp_path))
    updates = (SetPropertiesUpdate(updates={"owner": "me"}),)

    ours, changed = apply_updates(table.metadata, updates, metadata_location=table.metadata_location)
    theirs = update_table_metadata(table.metadata, updates, metadata_location=table.metadata_location)

    assert changed
    assert ours.model_dump(exclude={"last_updated_ms"}) == theirs.model_dump(exclude={"last_updated_ms"})
    assert ours.snapshots is table.metadata.snapshots


@pytest.mark.parametrize("change", ["append", "expire", "parse"])
def test_metadata_json_is_what_pyiceberg_writes(tmp_path: Path, change: str) -> None:
    catalog = _catalog(tmp_path)
    table = _table(catalog, appends=4)
    metadata_json(table.metadata)  # a first render, which the next ones build on
    if change == "append":
        table.append(pa.table({"id": [9], "name": ["x"]}, schema=table.schema().as_arrow()))
    elif change == "expire":  # snapshots removed from the front: the previous render does not apply
        oldest = table.metadata.snapshots[0].snapshot_id
        table.maintenance.expire_snapshots().by_id(oldest).commit()
    else:  # parsed from the file again: equal snapshots, other objects
        catalog.metadata_cache.clear()
        table = catalog.load_table("ns.t")

    rendered = json.loads(b"".join(metadata_json(table.metadata)))

    assert rendered == json.loads(table.metadata.model_dump_json())
    on_disk = Path(table.metadata_location.removeprefix("file://")).read_bytes()
    assert json.loads(on_disk) == json.loads(table.metadata.model_dump_json())


@pytest.mark.parametrize("block_bytes", [1, 2500, 1 << 20])
def test_metadata_json_renders_only_what_differs_from_another_versions_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block_bytes: int
) -> None:
    """A commit that lost the race for `main` (to a compaction in the same process) rendered its version, then
    the retry renders the winner's plus its own: each render re-uses the items the two versions share, cut at
    any point of a block of the previous render, and is still exactly what pyiceberg writes."""
    import meshlake.catalog.metadata as metadata_module

    monkeypatch.setattr(metadata_module, "_BLOCK_BYTES", block_bytes)
    catalog = _catalog(tmp_path)
    table = _table(catalog, appends=8)
    schema = table.schema().as_arrow()
    shared = len(table.metadata.snapshots)
    table.append(pa.table({"id": [10], "name": ["a"]}, schema=schema))
    table.append(pa.table({"id": [11], "name": ["b"]}, schema=schema))
    winner = table.metadata  # 8 shared snapshots, then a and b
    snapshots = winner.snapshots
    loser = winner.model_copy(update={"snapshots": [*snapshots[:shared], snapshots[-1]]})  # b right after them
    rendered: list[bytes] = []
    add = metadata_module._Rendered.add

    def counted(self: Any, item: bytes) -> None:
        rendered.append(item)
        add(self, item)

    monkeypatch.setattr(metadata_module._Rendered, "add", counted)

    # the winner was rendered by its own commit; then only the snapshots after the 8 shared ones are rendered
    for metadata, new in ((winner, 0), (loser, 1), (winner, 2), (loser, 1)):
        rendered.clear()
        out = json.loads(b"".join(metadata_json(metadata)))
        assert out == json.loads(metadata.model_dump_json())
        assert len(rendered) == new, (metadata is winner, len(rendered))


def test_a_load_reuses_the_parsed_metadata_until_another_writer_commits(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    _table(catalog)
    first = catalog.load_table("ns.t")
    assert catalog.load_table("ns.t").metadata is first.metadata

    other = SqlCatalog("lake", uri=f"sqlite:///{tmp_path}/catalog.db", warehouse=(tmp_path / "wh").as_uri())
    other.load_table("ns.t").transaction().set_properties(owner="other").commit_transaction()  # another process

    again = catalog.load_table("ns.t")
    assert again.metadata is not first.metadata
    assert again.properties["owner"] == "other"


def test_catalogs_of_one_process_share_the_metadata_they_commit(tmp_path: Path) -> None:
    """A stream's catalog and its compactor's (each opens its own) load what the other committed without parsing
    the metadata file again: at 6,000 snapshots that parse was 221 ms of a compaction's 370 ms commit."""
    writer = _catalog(tmp_path)
    _table(writer)
    writer.load_table("ns.t").transaction().set_properties(owner="writer").commit_transaction()
    held = writer.load_table("ns.t")

    other = _catalog(tmp_path)

    assert other.load_table("ns.t").metadata is held.metadata
    other.load_table("ns.t").transaction().set_properties(owner="other").commit_transaction()
    assert writer.load_table("ns.t").metadata is other.load_table("ns.t").metadata
    assert writer.load_table("ns.t").properties["owner"] == "other"


def test_the_shared_metadata_cache_keeps_each_catalogs_tables_apart(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = _catalog(tmp_path / "a"), _catalog(tmp_path / "b")
    _table(first, appends=1)
    _table(second, appends=2)

    assert len(first.load_table("ns.t").metadata.snapshots) == 1
    assert len(second.load_table("ns.t").metadata.snapshots) == 2
    assert first.load_table("ns.t").metadata_location != second.load_table("ns.t").metadata_location


def test_a_commit_on_stale_metadata_gets_pyicebergs_outcome(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    stale = _table(catalog)
    fresh = catalog.load_table("ns.t")
    fresh.manage_snapshots().create_tag(fresh.metadata.snapshots[0].snapshot_id, "v1").commit()

    # pyiceberg checks the requirements against the current metadata: a property change still applies
    stale.transaction().set_properties(owner="me").commit_transaction()

    current = catalog.load_table("ns.t")
    assert current.properties["owner"] == "me"
    assert "v1" in current.metadata.refs, "the concurrent tag was kept"


def test_a_commit_whose_requirement_fails_leaves_no_metadata_file(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    stale = _table(catalog)
    catalog.load_table("ns.t").append(pa.table({"id": [7], "name": ["y"]}, schema=stale.schema().as_arrow()))
    files = _files(stale)
    main = stale.metadata.refs["main"].snapshot_id

    with pytest.raises(CommitFailedException):
        catalog.commit_table(
            stale,
            (AssertRefSnapshotId(ref="main", snapshot_id=main),),
            (SetPropertiesUpdate(updates={"owner": "me"}),),
        )

    assert _files(stale) == files
    assert "owner" not in catalog.load_table("ns.t").properties


def test_snapshot_lookups_by_index_find_what_pyiceberg_finds(tmp_path: Path) -> None:
    table = _table(_catalog(tmp_path), appends=5)
    metadata = table.metadata
    for snapshot in metadata.snapshots:
        assert snapshot_by_id(metadata, snapshot.snapshot_id) is metadata.snapshot_by_id(snapshot.snapshot_id)
    assert snapshot_by_id(metadata, 12345) is None
    head = metadata.current_snapshot()
    assert [s.snapshot_id for s in ancestors(metadata, head)] == [s.snapshot_id for s in reversed(metadata.snapshots)]
    assert snapshot_index(metadata) is snapshot_index(metadata)


def test_a_port_keeps_a_bounded_number_of_metadata_files_and_every_snapshot_reads(
    port: Any, write_descriptor: DescriptorWriter
) -> None:
    written = []
    for i in range(25):
        result = port.write(_rows(i))
        written.append((result.snapshot_id, i + 1))

    table = port.table()
    assert len(_files(table)) <= 11, "the current metadata file and the 10 the log keeps"
    assert len(table.metadata.metadata_log) == 10
    for snapshot_id, rows in written:
        assert port.at(snapshot_id).to_arrow().num_rows == rows


def test_redeploying_bounds_the_metadata_files_a_port_kept_before(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    from datetime import timedelta

    product = lake.deploy(write_descriptor(descriptor))
    port = product.port("daily")
    old = {"write.metadata.delete-after-commit.enabled": "false", "write.metadata.previous-versions-max": "5"}
    port.table().transaction().set_properties(old).commit_transaction()  # as deployed by an older meshlake
    for i in range(20):
        port.write(_rows(i))
    assert len(_files(port.table())) > 20

    lake.deploy(write_descriptor(descriptor))  # gives the table the metadata retention of this version
    lake.maintain("logistics.shipments.daily", apply=True, expire=False, compact=False, orphan_age=timedelta(0))

    table = port.table()
    assert table.properties["write.metadata.delete-after-commit.enabled"] == "true"
    assert len(_files(table)) <= 11
    assert port.latest().to_arrow().num_rows == 20


def _rows(i: int) -> pa.Table:
    from datetime import UTC, datetime

    return pa.table(
        {
            "shipment_id": [f"s{i:04d}"],
            "shipped_at": [datetime(2026, 1, 1 + i % 28, tzinfo=UTC)],
            "weight_kg": [1.0 + i],
            "customer_email": [f"c{i}@example.com"],
        }
    )
