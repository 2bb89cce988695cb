"""Manifest merges built ahead of the commit: swapped in only over exactly what they replace, harmless if unused."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from meshlake.write import manifest_premerge
from meshlake.write.live_entries import holds_live_entries
from meshlake.write.manifest_premerge import offer, offered, premerge, settle
from tests.write.test_manifest_merge import ADDRESS, _manifests, _rows, manifest_reads, merging

__all__ = ["merging"]  # the fixture: a port merging manifests from 4 on


@pytest.fixture(autouse=True)
def _no_offers_left() -> Any:
    yield
    manifest_premerge._offers.clear()


def _live_files(port: Any) -> Counter[str]:
    """How often each live data file is listed by the current snapshot's manifests."""
    table = port.table()
    listed: Counter[str] = Counter()
    for manifest in _manifests(port):
        for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True):
            listed[entry.data_file.file_path] += 1
    return listed


def _ids_everywhere(port: Any) -> tuple[list[str], list[str], list[str]]:
    """The shipment ids as meshlake, pyiceberg's scan and DuckDB (through `lake.sql`) read them."""
    ours = sorted(port.latest().to_arrow().column("shipment_id").to_pylist())
    theirs = sorted(port.table().scan().to_arrow().column("shipment_id").to_pylist())
    duck = sorted(r[0] for r in port.lake.sql(f"SELECT shipment_id FROM {ADDRESS}").fetchall())
    return ours, theirs, duck


def _path(location: str) -> Path:
    return Path(location.removeprefix("file://"))


def _appended(port: Any, count: int) -> list[str]:
    for i in range(count):
        port.write(_rows(range(i, i + 1)))
    return [f"s{i:04d}" for i in range(count)]


def test_the_next_commit_swaps_the_merge_in_for_exactly_what_it_replaces(merging: Any) -> None:
    ids = _appended(merging, 12)  # min-count 4: three tier-1 manifests of 4 entries, one short of merging
    table = merging.table()
    merged = premerge(table)
    assert merged is not None
    assert len(merged.replaces) == 3
    before = {m.manifest_path for m in _manifests(merging)}
    assert merged.replaces <= before and merged.path not in before
    offer(merged)

    written = merging.write(_rows(range(12, 13)))
    ids.append("s0012")

    listed = {m.manifest_path: m for m in _manifests(merging)}
    assert merged.path in listed and not merged.replaces & listed.keys()
    assert listed[merged.path].added_snapshot_id == written.snapshot_id
    assert listed[merged.path].existing_files_count == 12
    live = _live_files(merging)
    assert len(live) == 13 and set(live.values()) == {1}, "every live file listed once"
    ours, theirs, duck = _ids_everywhere(merging)
    assert ours == theirs == duck == sorted(ids)
    assert settle(merging.table()) == "swapped"
    assert offered(str(table.metadata.table_uuid)) is None
    for older in merging.table().metadata.snapshots:  # time travel unchanged: each snapshot reads what it held
        assert merging.at(older.snapshot_id).to_arrow().num_rows == int(older.summary["total-records"])


def test_a_commit_that_rewrote_a_replaced_manifest_meanwhile_makes_the_merge_dropped(merging: Any) -> None:
    ids = _appended(merging, 12)
    merged = premerge(merging.table())
    assert merged is not None
    offer(merged)
    merging.delete("shipment_id = 's0000'")  # a copy-on-write delete rewrites the manifest listing s0000
    ids.remove("s0000")
    assert not merged.replaces <= {m.manifest_path for m in _manifests(merging)}
    assert merged.path not in {m.manifest_path for m in _manifests(merging)}

    merging.write(_rows(range(12, 13)))
    ids.append("s0012")

    assert merged.path not in {m.manifest_path for m in _manifests(merging)}, "not swapped in over a changed list"
    assert settle(merging.table()) == "dropped"
    assert not _path(merged.path).exists(), "its file deleted"
    live = _live_files(merging)
    assert len(live) == 12 and set(live.values()) == {1}
    ours, theirs, duck = _ids_everywhere(merging)
    assert ours == theirs == duck == sorted(ids)


def test_a_crash_before_the_swap_leaves_the_table_as_it_was(merging: Any) -> None:
    ids = _appended(merging, 12)
    head = merging.table().metadata.current_snapshot_id
    merged = premerge(merging.table())
    assert merged is not None
    offer(merged)
    manifest_premerge._offers.clear()  # the process dies: the offer is gone, its file stays behind

    assert merging.table().metadata.current_snapshot_id == head
    assert _path(merged.path).exists()
    for i in range(12, 20):  # the commits that follow merge in the commit, as without the offer
        merging.write(_rows(range(i, i + 1)))
        ids.append(f"s{i:04d}")
    for snapshot in merging.table().metadata.snapshots:
        assert merged.path not in {m.manifest_path for m in _manifests(merging, snapshot.snapshot_id)}
    live = _live_files(merging)
    assert len(live) == 20 and set(live.values()) == {1}
    ours, theirs, duck = _ids_everywhere(merging)
    assert ours == theirs == duck == sorted(ids)


def test_nothing_is_merged_ahead_while_no_tier_is_close(merging: Any) -> None:
    _appended(merging, 7)  # one tier-1 manifest and three of tier 0
    assert premerge(merging.table()) is None


def test_an_offer_is_not_used_on_another_branch(merging: Any) -> None:
    _appended(merging, 12)
    table = merging.table()
    merged = premerge(table)
    assert merged is not None
    offer(merged)
    manifests = _manifests(merging)
    same = manifest_premerge.swap_in(str(table.metadata.table_uuid), "quarantine-1", 1, manifests)
    assert same == manifests and not merged.used_by
    swapped = manifest_premerge.swap_in(str(table.metadata.table_uuid), "main", 1, manifests)
    assert [m.manifest_path for m in swapped] == [
        merged.path,
        *(m.manifest_path for m in manifests if m.manifest_path not in merged.replaces),
    ]
    assert merged.used_by == {1}


def test_manifests_of_only_deleted_entries_merge_away(merging: Any) -> None:
    """Manifests whose every entry an earlier commit deleted (a compaction's, a delete's) fill a tier like any
    other: merged, they leave nothing, and neither the commit nor the merge ahead of it fails on an empty manifest."""
    kept: list[str] = []
    for round_ in range(5):
        ids = range(round_ * 4, round_ * 4 + 4)
        for i in ids:
            merging.write(_rows(range(i, i + 1)))
        merging.delete(f"shipment_id IN ({', '.join(repr(f's{i:04d}') for i in ids)})")
        premerge(merging.table())  # built or not (nothing live to merge), it must not raise
        manifest_premerge._offers.clear()
    merging.write(_rows(range(100, 101)))
    kept.append("s0100")
    ours, theirs, duck = _ids_everywhere(merging)
    assert ours == theirs == duck == kept


def test_manifests_that_hold_only_removed_files_are_dropped_unread(
    merging: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A delete (an overwrite, a compaction) writes a manifest of the files it removed: a merge drops it whole, so it
    is offered at once, without a read or a write (the 10-minute stream read 15 of them, 4,500 removed entries, at
    every look for half a minute)."""
    ids = _appended(merging, 6)
    merging.delete("shipment_id IN ('s0000', 's0001')")  # two whole files removed
    ids = ids[2:]
    dead = {m.manifest_path for m in _manifests(merging) if not holds_live_entries(m)}
    assert dead, "the delete listed a manifest of the files it removed"
    history = {s.snapshot_id: int(s.summary["total-records"]) for s in merging.table().metadata.snapshots}
    reads = manifest_reads(monkeypatch)

    merged = premerge(merging.table())

    assert merged is not None and merged.manifest is None and merged.path is None
    assert merged.replaces == dead
    assert reads == [], "no manifest read"
    offer(merged)
    merging.write(_rows(range(6, 7)))
    ids.append("s0006")
    assert not dead & {m.manifest_path for m in _manifests(merging)}
    assert settle(merging.table()) == "swapped"
    live = _live_files(merging)
    assert len(live) == 5 and set(live.values()) == {1}
    ours, theirs, duck = _ids_everywhere(merging)
    assert ours == theirs == duck == sorted(ids)
    for snapshot_id, rows in history.items():  # time travel unchanged
        assert merging.at(snapshot_id).to_arrow().num_rows == rows
