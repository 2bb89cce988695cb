"""A merge-on-read upsert writes the manifests of its rows and delete files before its commit: they are what the
snapshot lists, they survive a rebase, and nothing of them is left when the write does not land."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pyiceberg.manifest import ManifestContent, read_manifest_list

from meshlake.errors import CommitConflictError, ContractViolationError
from meshlake.write import staged_manifests
from meshlake.write.commit import main_head
from tests.workers import batch
from tests.write.test_merge_on_read import changes, rows_of


@pytest.fixture
def filled(port: Any) -> Any:
    port.write(batch("a", 0, 10))
    port.write(batch("b", 0, 10))
    return port


def avro_files(port: Any) -> set[Path]:
    """Every manifest and manifest list in the table's metadata folder."""
    location = Path(port.table().metadata.location.removeprefix("file://"))
    return set((location / "metadata").glob("*.avro"))


def listed_manifests(port: Any) -> list[Any]:
    table = port.table()
    return list(table.current_snapshot().manifests(table.io))


def test_a_merge_on_read_upsert_commits_the_manifests_it_wrote_alongside_its_lookup(filled: Any) -> None:
    staged = filled.stage(changes(["a-0-1", "new-1"], 5.0), mode="upsert", write_mode="merge-on-read")
    early = staged.prepared.change.staged
    assert early is not None and len(early.data) == 1 and len(early.deletes) == 1
    assert all(Path(path.removeprefix("file://")).exists() for path in early.paths)
    result = filled.publish(staged)
    assert result.snapshot_id == early.snapshot_id
    manifests = {m.manifest_path: m for m in listed_manifests(filled)}
    assert set(early.paths) <= set(manifests)
    [deletes] = early.deletes
    assert manifests[deletes.manifest_path].content == ManifestContent.DELETES
    sequence = filled.table().current_snapshot().sequence_number
    assert {manifests[path].sequence_number for path in early.paths} == {sequence}
    found = rows_of(filled)
    assert found["a-0-1"] == 5.0 and found["new-1"] == 5.0 and len(found) == 21
    pyiceberg_rows = filled.table().scan().to_arrow()  # another reader applies the staged delete manifest
    assert pyiceberg_rows.num_rows == 21 and pyiceberg_rows["shipment_id"].to_pylist().count("a-0-1") == 1


def test_an_upsert_rebased_onto_a_concurrent_append_commits_its_staged_manifests(filled: Any) -> None:
    staged = filled.stage(changes(["a-0-2", "a-1-0"], 7.0), mode="upsert", write_mode="merge-on-read")
    filled.write(batch("c", 0, 3))  # main moves under the staged upsert, outside its keys
    result = filled.publish(staged)
    early = staged.prepared.change.staged
    assert early is not None and result.rebases == 1 and result.snapshot_id == early.snapshot_id
    assert set(early.paths) <= {m.manifest_path for m in listed_manifests(filled)}
    pyiceberg_rows = filled.table().scan().to_arrow()
    ids = pyiceberg_rows["shipment_id"].to_pylist()
    assert len(ids) == 24 and ids.count("a-0-2") == 1 and "c-0-2" in ids
    assert rows_of(filled)["a-0-2"] == 7.0


def test_a_conflicting_upsert_leaves_none_of_its_staged_manifests(filled: Any) -> None:
    staged = filled.stage(changes(["a-0-3"], 9.0), mode="upsert", write_mode="merge-on-read")
    early = staged.prepared.change.staged
    assert early is not None
    filled.write(changes([f"a-0-{i}" for i in range(6)], 2.0), mode="upsert", write_mode="copy-on-write")
    head, expected = main_head(filled.table()), rows_of(filled)
    with pytest.raises(CommitConflictError):
        filled.publish(staged)
    assert not any(Path(path.removeprefix("file://")).exists() for path in early.paths)
    assert main_head(filled.table()) == head and rows_of(filled) == expected


def test_an_upsert_repeating_a_key_leaves_no_file_it_wrote(filled: Any) -> None:
    before, head = avro_files(filled), main_head(filled.table())
    folder = Path(filled.table().metadata.location.removeprefix("file://")) / "data"
    data_before = sorted(folder.rglob("*.parquet"))
    with pytest.raises(ContractViolationError):
        filled.write(changes(["a-0-1", "a-0-1"], 1.0), mode="upsert", write_mode="merge-on-read")
    assert avro_files(filled) == before and sorted(folder.rglob("*.parquet")) == data_before
    assert main_head(filled.table()) == head


def test_an_auto_upsert_that_copies_on_write_leaves_no_staged_manifest(filled: Any) -> None:
    result = filled.write(changes([f"a-0-{i}" for i in range(8)], 3.0), mode="upsert", write_mode="auto")
    assert result.write_mode == "copy-on-write"
    table = filled.table()
    referenced = set()
    for snapshot in table.metadata.snapshots:
        referenced.add(snapshot.manifest_list)
        referenced |= {m.manifest_path for m in snapshot.manifests(table.io)}
    assert avro_files(filled) == {Path(r.removeprefix("file://")) for r in referenced}


def test_the_manifest_list_kept_after_a_commit_is_the_one_written(filled: Any) -> None:
    filled.write(changes(["b-0-1", "new-3"], 4.0), mode="upsert", write_mode="merge-on-read")
    table = filled.table()
    snapshot = table.current_snapshot()
    kept = staged_manifests._lists.get(snapshot.manifest_list)
    assert kept is not None
    written = tuple(read_manifest_list(table.io.new_input(snapshot.manifest_list)))
    assert kept == written


def test_manifests_of_files_are_written_for_the_snapshot_id_given(filled: Any) -> None:
    table = filled.table()
    data = [task.file for task in table.scan().plan_files()]
    [manifest] = staged_manifests.write_manifests(table, data, 1234, deletes=False)
    assert manifest.added_snapshot_id == 1234 and manifest.added_files_count == len(data)
    assert staged_manifests.write_manifests(table, [], 1234, deletes=True) == []
    staged_manifests.delete_all(table, [manifest.manifest_path])
    assert not Path(manifest.manifest_path.removeprefix("file://")).exists()


def test_keeping_a_written_list_leaves_the_manifests_handed_to_its_writer_unassigned() -> None:
    from pyiceberg.manifest import UNASSIGNED_SEQ, ManifestFile
    from pyiceberg.table.snapshots import Snapshot

    from meshlake.write.staged_manifests import manifest_list, remember_written

    new = ManifestFile.from_args(
        manifest_path="memory://m0.avro",
        manifest_length=1,
        partition_spec_id=0,
        content=0,
        sequence_number=UNASSIGNED_SEQ,
        min_sequence_number=UNASSIGNED_SEQ,
        added_snapshot_id=7,
    )
    snapshot = Snapshot(snapshot_id=7, sequence_number=3, timestamp_ms=0, manifest_list="memory://snap-7.avro")
    remember_written(snapshot, [new], 2)
    kept = manifest_list(snapshot, None)  # type: ignore[arg-type]  # kept: the table is not read
    assert [m.sequence_number for m in kept] == [3] and kept[0].min_sequence_number == 3
    assert new.sequence_number == UNASSIGNED_SEQ and new.min_sequence_number == UNASSIGNED_SEQ
