"""Manifests merged in the commit: a short manifest list whatever the history, the same rows in every snapshot."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import meshlake as ml
from meshlake.write import manifest_merge
from meshlake.write.live_entries import holds_live_entries
from meshlake.write.manifest_merge import MergePolicy
from tests.conftest import DescriptorWriter

ADDRESS = "logistics.shipments.daily"


def _rows(ids: range, weight: float = 1.0) -> pa.Table:
    return pa.table(
        {
            "shipment_id": [f"s{i:04d}" for i in ids],
            "shipped_at": [datetime(2026, 1, 1 + i % 3, tzinfo=UTC) for i in ids],
            "weight_kg": [weight + i for i in ids],
            "customer_email": [None for _ in ids],
        }
    )


@pytest.fixture
def merging(lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter) -> Any:
    """The shipments port, unpartitioned, merging manifests from 4 on (so that a test needs few commits)."""
    descriptor["outputs"][0]["partition_by"] = []
    lake.deploy(write_descriptor(descriptor))
    port = lake.port(ADDRESS)
    port.table().transaction().set_properties({"commit.manifest.min-count-to-merge": "4"}).commit_transaction()
    return port


def manifest_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The manifests opened for reading from now on (by any table's file IO; manifest lists are not counted)."""
    from pyiceberg.io.pyarrow import PyArrowFileIO

    opened: list[str] = []
    new_input = PyArrowFileIO.new_input

    def counted(self: PyArrowFileIO, location: str) -> Any:
        if location.endswith(".avro") and "/snap-" not in location:
            opened.append(location)
        return new_input(self, location)

    monkeypatch.setattr(PyArrowFileIO, "new_input", counted)
    return opened


def _manifests(port: Any, snapshot_id: int | None = None) -> list[Any]:
    table = port.table()
    snapshot = table.metadata.snapshot_by_id(snapshot_id) if snapshot_id else table.metadata.current_snapshot()
    return list(snapshot.manifests(table.io))


def test_appends_keep_the_manifest_list_short(merging: Any) -> None:
    for i in range(40):
        merging.write(_rows(range(i, i + 1)))

    manifests = _manifests(merging)
    assert len(manifests) < 4 * 3, "fewer than min-count manifests per tier (40 appends: tiers 0, 1 and 2)"
    assert sum(m.existing_files_count + m.added_files_count for m in manifests) == 40
    assert merging.latest().to_arrow().num_rows == 40


def test_every_snapshot_reads_the_same_after_merges(merging: Any) -> None:
    """Appends, copy-on-write deletes, replaces and upserts through many merges: each snapshot, read by meshlake
    and by pyiceberg's own scan, holds what was written up to it."""
    expected: dict[int, set[str]] = {}
    live: set[str] = set()
    for i in range(30):
        if i % 7 == 6:
            doomed = sorted(live)[0]
            result = merging.delete(f"shipment_id = '{doomed}'")
            live.discard(doomed)
        elif i % 5 == 4:
            result = merging.write(_rows(range(i - 1, i + 1), weight=50.0), mode="upsert")
            live |= {f"s{i - 1:04d}", f"s{i:04d}"}
        else:
            result = merging.write(_rows(range(i, i + 1)))
            live.add(f"s{i:04d}")
        expected[result.snapshot_id] = set(live)

    table = merging.table()
    for snapshot_id, ids in expected.items():
        ours = set(merging.at(snapshot_id).to_arrow().column("shipment_id").to_pylist())
        theirs = set(table.scan(snapshot_id=snapshot_id).to_arrow().column("shipment_id").to_pylist())
        assert ours == theirs == ids, snapshot_id
    assert len(_manifests(merging)) < 12


def test_merging_honours_the_table_properties(merging: Any) -> None:
    for i in range(3):
        merging.write(_rows(range(i, i + 1)))
    assert len(_manifests(merging)) == 3, "below min-count-to-merge nothing merges"
    merging.write(_rows(range(3, 4)))
    assert len(_manifests(merging)) == 1, "at min-count-to-merge the tier merges"

    merging.table().transaction().set_properties({"commit.manifest-merge.enabled": "false"}).commit_transaction()
    for i in range(4, 10):
        merging.write(_rows(range(i, i + 1)))
    assert len(_manifests(merging)) == 7, "merging off: one more manifest per append"

    merging.table().transaction().set_properties(
        {"commit.manifest-merge.enabled": "true", "commit.manifest.target-size-bytes": "10"}
    ).commit_transaction()
    merging.write(_rows(range(10, 11)))
    assert len(_manifests(merging)) == 8, "no manifest is below a 10-byte target: none is rewritten"


def test_a_writer_that_cannot_read_manifests_appends_without_merging(
    merging: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(3):
        merging.write(_rows(range(i, i + 1)))

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError("AccessDenied: GetObject on a manifest")

    monkeypatch.setattr(manifest_merge, "read_manifest", refused)
    merging.write(_rows(range(3, 4)))

    assert len(_manifests(merging)) == 4, "the commit went on as a plain append"
    metadata = Path(merging.table().metadata.location.removeprefix("file://"), "metadata")
    listed = {str(m.manifest_path).removeprefix("file://") for m in _manifests(merging)}
    on_disk = {str(p) for p in metadata.glob("*-m*.avro")}
    assert on_disk == listed, "the merged manifest it began writing was deleted"
    monkeypatch.undo()
    merging.write(_rows(range(4, 5)))
    assert len(_manifests(merging)) == 1, "the next writer that can read them merges"


def test_a_policy_reads_meshlakes_defaults_where_the_table_sets_none() -> None:
    assert MergePolicy.of({}) == MergePolicy(enabled=True, min_count=100, target_bytes=8 * 1024 * 1024)
    policy = MergePolicy.of(
        {
            "commit.manifest-merge.enabled": "false",
            "commit.manifest.min-count-to-merge": "1",
            "commit.manifest.target-size-bytes": "1024",
        }
    )
    assert policy == MergePolicy(enabled=False, min_count=2, target_bytes=1024)


def test_a_commit_that_merges_says_how_long_the_merge_took(merging: Any) -> None:
    """`merge in commit` (inside `commit`) tells a commit slowed by a merge from one slowed by anything else."""
    written = [merging.write(_rows(range(i, i + 1))) for i in range(4)]
    assert [("merge in commit" in w.phases) for w in written] == [False, False, False, True]
    merged = written[-1].phases
    assert 0 < merged["merge in commit"] <= merged["commit"]


def test_merge_in_commit_counts_the_merges_of_the_quality_records_the_commit_appends(
    lake: ml.Lake, tmp_path: Path
) -> None:
    """Each gated write appends its verdict to `meshlake.system.quality_results` in its commit; that table merges
    its manifests too (16 at a time), and its merges sit on the write's path as the port's own do."""
    from tests.streams.conftest import deploy_orders

    port = deploy_orders(lake, tmp_path / "orders")
    port.table().transaction().set_properties({"commit.manifest-merge.enabled": "false"}).commit_transaction()
    placed = datetime(2026, 12, 4, 8, tzinfo=UTC)
    written = [
        port.write(pa.table({"order_id": [i], "drone": ["d1"], "weight_kg": [2.5], "placed_at": [placed]}))
        for i in range(20)
    ]
    assert all(w.quality is not None for w in written), "every write is gated"
    merged = [i for i, w in enumerate(written) if "merge in commit" in w.phases]
    assert len(merged) == 1, [w.phases for w in written]
    assert len(_manifests(port)) == 20, "the port itself merged nothing"


def test_a_manifest_that_holds_only_removed_files_merges_away_unread(
    merging: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A delete of four whole files lists a manifest of its four removed entries (tier 1 from 4): the commit whose
    tier merge takes it in drops it without reading it."""
    for i in range(4):
        merging.write(_rows(range(i, i + 1)))
    merging.delete("shipment_id IN ('s0000', 's0001', 's0002', 's0003')")
    policy = MergePolicy.of(merging.table().metadata.properties)
    dead = [m for m in _manifests(merging) if not holds_live_entries(m)]
    assert [policy.tier(m) for m in dead] == [1]
    reads = manifest_reads(monkeypatch)
    kept: list[str] = []
    for i in range(10, 30):  # a tier-1 manifest every 4 appends: the fourth fills the tier
        merging.write(_rows(range(i, i + 1)))
        kept.append(f"s{i:04d}")
        if dead[0].manifest_path not in {m.manifest_path for m in _manifests(merging)}:
            break
        reads.clear()
    else:
        pytest.fail("no commit merged the tier")
    assert reads, "the commit read the other manifests of the tier"
    assert dead[0].manifest_path not in reads, "not the one of removed files"
    assert sorted(merging.latest().to_arrow().column("shipment_id").to_pylist()) == kept
    assert sorted(merging.table().scan().to_arrow().column("shipment_id").to_pylist()) == kept


def test_an_overwrite_reads_each_manifest_once_and_none_of_removed_files(
    merging: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pyiceberg's overwrite read every parent manifest twice (to find the removed files' entries, then to rewrite
    their manifests) and read the manifests of only removed files too: a compaction committed between a stream's
    batches did that on the stream's thread."""
    from meshlake.write.commit import Change, commit_snapshot

    for i in range(6):
        merging.write(_rows(range(i, i + 1)))
    merging.delete("shipment_id = 's0000'")
    table = merging.table()
    dead = {m.manifest_path for m in _manifests(merging) if not holds_live_entries(m)}
    assert dead, "the delete listed a manifest of the file it removed"
    live = [
        entry.data_file
        for manifest in _manifests(merging)
        for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True)
    ]
    assert len(live) == 5
    reads = manifest_reads(monkeypatch)

    commit_snapshot(
        merging.lake.catalog,
        table,
        Change("overwrite", (), (live[0],)),
        branch="main",
        base_id=table.metadata.current_snapshot_id,
        properties={},
    )

    assert reads, "the overwrite read the manifests that list what it removes"
    assert not dead & set(reads), "no manifest of removed files read"
    assert len(reads) == len(set(reads)), "none read twice"
    monkeypatch.undo()
    table = merging.table()
    after = sorted(table.scan().to_arrow().column("shipment_id").to_pylist())
    assert len(after) == 4 and set(after) < {f"s{i:04d}" for i in range(1, 6)}
    snapshot = table.metadata.current_snapshot()
    assert snapshot is not None and snapshot.summary is not None
    assert snapshot.summary["deleted-data-files"] == "1" and snapshot.summary["total-data-files"] == "4"


def test_an_overwrite_finds_its_files_while_threads_read_the_manifests(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    """The partition summaries of every parent manifest are tested before the reads go to threads: pyiceberg's
    manifest evaluator keeps the manifest it tests on itself, so two threads testing at once could each see the
    other's summaries, skip the manifest that lists a removed file and refuse the overwrite with "Missing required
    files to delete" (a fuzz case in CI)."""
    import sys

    from meshlake.write.commit import Change, _Transaction

    lake.deploy(write_descriptor(descriptor))  # partitioned by day(shipped_at): one partition per manifest here
    port = lake.port(ADDRESS)
    port.table().transaction().set_properties({"commit.manifest.min-count-to-merge": "1000"}).commit_transaction()
    days = 28
    for day in range(days):
        rows = _rows(range(day, day + 1))
        stamp = pa.array([datetime(2026, 2, 1 + day, tzinfo=UTC)], pa.timestamp("us", tz="UTC"))
        port.write(rows.set_column(1, "shipped_at", stamp))
    table = port.table()
    files = [e.data_file for m in _manifests(port) for e in m.fetch_manifest_entry(table.io)]
    assert len(files) == days
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # hand the GIL over as often as possible, so that the threads interleave
    try:
        for attempt in range(150):
            removed = files[attempt % days]
            producer = _Transaction(table).producer(Change("overwrite", (), (removed,)), "main", {})
            producer.delete_data_file(removed)
            producer._build_delete_files_partition_predicate()
            found = [entry.data_file.file_path for entry in producer._deleted_entries()]
            assert found == [removed.file_path], f"attempt {attempt}"
    finally:
        sys.setswitchinterval(switch)
