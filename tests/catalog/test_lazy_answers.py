"""Metadata read lazily from a REST catalog's answers (`meshlake.catalog.loading.lazy_metadata`), and what a commit
asks of it: nothing here may read the per-snapshot lists of the file, and what is answered is pyiceberg's own (these
tests compare with pyiceberg's parse of the same file).

A REST catalog answers a load or a commit with the metadata as JSON; here that JSON is the metadata file of a local
table (what the answer holds), so the tests need no server (tests/integration/test_rest_catalog.py has one).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import CommitFailedException
from pyiceberg.serializers import FromInputFile
from pyiceberg.table import Table
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.table.update import AssertRefSnapshotId

from meshlake.catalog import loading
from meshlake.catalog.loading import has_snapshot, is_complete, lazy_metadata, snapshot_count
from meshlake.catalog.metadata import ancestors
from meshlake.write.commit import _Transaction

SCHEMA = pa.schema([("id", pa.int64())])


def _table(tmp_path: Path, appends: int) -> Table:
    catalog = SqlCatalog("lake", uri=f"sqlite:///{tmp_path}/catalog.db", warehouse=(tmp_path / "wh").as_uri())
    catalog.create_namespace("ns")
    table = catalog.create_table(
        "ns.t", schema=SCHEMA, properties={"format-version": "2", "write.metadata.previous-versions-max": "5"}
    )
    for i in range(appends):
        table.append(pa.table({"id": [i]}, schema=SCHEMA))
    return catalog.load_table("ns.t")


def _raw(table: Table) -> dict[str, Any]:
    """The metadata as a REST catalog's answer holds it."""
    found: dict[str, Any] = json.loads(Path(table.metadata_location.removeprefix("file://")).read_bytes())
    return found


def _eager(table: Table) -> TableMetadata:
    return FromInputFile.table_metadata(table.io.new_input(table.metadata_location))


def _answer(table: Table, *, refs_only: bool = False) -> TableMetadata:
    raw = _raw(table)
    if refs_only:  # a load's answer with `snapshots=refs`
        wanted = {ref["snapshot-id"] for ref in raw["refs"].values()}
        raw["snapshots"] = [s for s in raw["snapshots"] if s["snapshot-id"] in wanted]
    metadata = lazy_metadata(raw, table.io, table.metadata_location, every_snapshot=not refs_only)
    assert metadata is not None and not is_complete(metadata)
    return metadata


def test_a_commits_answer_counts_logs_and_holds_mains_newest_snapshots_without_reading_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    newest_kept = 4
    monkeypatch.setattr(loading, "NEWEST", newest_kept)  # (128: as many appends would make a slow test)
    table = _table(tmp_path, appends=newest_kept + 6)
    eager = _eager(table)
    metadata = _answer(table)

    assert snapshot_count(metadata) == len(eager.snapshots) == newest_kept + 6
    assert metadata.metadata_log == eager.metadata_log and len(metadata.metadata_log) == 5
    newest = list(ancestors(eager, eager.current_snapshot()))[:newest_kept]
    walked = ancestors(metadata, metadata.current_snapshot())
    assert [next(walked) for _ in newest] == newest
    assert not is_complete(metadata), "main's newest snapshots read the whole history"

    assert list(walked) == list(ancestors(eager, eager.current_snapshot()))[newest_kept:]  # the rest: on demand
    assert not is_complete(metadata), "walking the ancestors built every snapshot of the file"
    assert metadata.snapshots == eager.snapshots and metadata.snapshot_log == eager.snapshot_log


def test_a_loads_answer_with_the_refs_snapshots_only_counts_every_snapshot_of_the_file(tmp_path: Path) -> None:
    table = _table(tmp_path, appends=6)
    metadata = _answer(table, refs_only=True)

    assert metadata.current_snapshot() == _eager(table).current_snapshot()
    assert not is_complete(metadata)
    assert snapshot_count(metadata) == 6  # not the one snapshot the answer listed: the file's, read for it
    assert is_complete(metadata)


def test_a_new_snapshot_id_and_the_check_of_it_read_no_snapshot_list(tmp_path: Path) -> None:
    table = _table(tmp_path, appends=4)
    eager = _eager(table)
    metadata = _answer(table)

    fresh = metadata.new_snapshot_id()

    assert eager.snapshot_by_id(fresh) is None
    assert not has_snapshot(metadata, fresh)
    assert has_snapshot(metadata, eager.snapshots[-1].snapshot_id)  # main's head: known without the list
    assert not is_complete(metadata)
    assert has_snapshot(eager, eager.snapshots[0].snapshot_id) and not has_snapshot(eager, fresh)


@pytest.mark.parametrize("expected", ["head", "other", "none"])
def test_a_requirement_on_main_is_checked_as_pyiceberg_checks_it_without_the_snapshot_list(
    tmp_path: Path, expected: str
) -> None:
    table = _table(tmp_path, appends=3)
    eager = _eager(table)
    head = eager.current_snapshot()
    assert head is not None
    snapshot_id = {"head": head.snapshot_id, "other": eager.snapshots[0].snapshot_id, "none": None}[expected]
    requirement = AssertRefSnapshotId(ref="main", snapshot_id=snapshot_id)
    lazy = Table(table.name(), _answer(table), table.metadata_location, table.io, table.catalog)

    try:
        requirement.validate(eager)
        pyicebergs = None
    except CommitFailedException as exc:
        pyicebergs = str(exc)
    if pyicebergs is None:
        _Transaction(lazy)._stage((), (requirement,))
    else:
        with pytest.raises(CommitFailedException) as raised:
            _Transaction(lazy)._stage((), (requirement,))
        assert str(raised.value) == pyicebergs
    assert (pyicebergs is None) == (expected == "head")
    assert not is_complete(lazy.metadata)


def test_an_answer_that_is_not_v2_or_not_valid_is_left_to_pyicebergs_parse(tmp_path: Path) -> None:
    table = _table(tmp_path, appends=2)
    raw = _raw(table)

    assert lazy_metadata({**raw, "format-version": 1}, table.io, table.metadata_location, every_snapshot=True) is None
    assert lazy_metadata({**raw, "schemas": "no"}, table.io, table.metadata_location, every_snapshot=True) is None


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ('{"format-version": 2, "table-uuid": "u", "last-updated-ms": 1700000000123, "schemas": [', 1700000000123),
        ('{"properties": {"last-updated-ms": 5}, "last-updated-ms": 7}', 7),  # a nested key is not the file's
        ('{"schemas": [{"type": "struct", "fields": [', None),  # cut short before the key: the whole file decides
        ('{"last-updated-ms": 12', None),  # the number itself may be cut short
        ("[1, 2]", None),
    ],
)
def test_the_last_updated_time_is_read_from_the_top_level_keys_a_metadata_files_start_holds(
    text: str, found: int | None
) -> None:
    assert loading._top_level_value(text, "last-updated-ms") == found
