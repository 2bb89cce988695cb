"""Manifests kept on disk: a new process plans from the kept entries, and never from a corrupt or stale one."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.table import Table
from pyiceberg.transforms import IdentityTransform

from meshlake.query import plan as planning
from meshlake.query.manifest_cache import cache_folder, entry_path
from meshlake.query.plan import ScanPlan, clear_plan_cache, plan_scan

from .conftest import Files


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MESHLAKE_CACHE_DIR", str(tmp_path / "cache"))
    found = cache_folder()
    assert found == tmp_path / "cache" / "manifests"
    return found


def _table(catalog: SqlCatalog, mor: type[Files], appends: int = 3) -> Table:
    catalog.create_namespace("sales")
    table = catalog.create_table("sales.orders", schema=pa.schema([("id", pa.int64()), ("region", pa.string())]))
    for i in range(appends):
        table = mor.append(table, [{"id": i, "region": "eu"}])
    return table


def _described(plan: ScanPlan) -> list[tuple[object, ...]]:
    return [
        (t.path, t.file_format, t.sequence_number, t.record_count, t.file_size, plan.partitions[t.partition])
        for t in plan.tasks
    ]


def _new_process(monkeypatch: pytest.MonkeyPatch, *, decode: bool) -> None:
    """Forget what this process planned; with `decode=False`, any manifest decoded fails the test."""
    clear_plan_cache()
    if not decode:

        def refuse(*_: object, **__: object) -> None:
            raise AssertionError("a kept manifest was decoded again")

        monkeypatch.setattr(planning, "read_manifest", refuse)


def test_a_new_process_plans_from_the_kept_manifests(
    catalog: SqlCatalog, mor: type[Files], folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = _table(catalog, mor)
    clear_plan_cache()
    expected = _described(plan_scan(table, table.current_snapshot().snapshot_id))  # type: ignore[union-attr]
    manifests = table.current_snapshot().manifests(table.io)  # type: ignore[union-attr]
    assert all(entry_path(folder, m).is_file() for m in manifests)
    _new_process(monkeypatch, decode=False)
    assert _described(plan_scan(table, table.current_snapshot().snapshot_id)) == expected  # type: ignore[union-attr]


def test_kept_manifests_keep_their_partition_values(
    catalog: SqlCatalog, mor: type[Files], folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = _table(catalog, mor, appends=1)
    with table.update_spec() as spec:
        spec.add_field("region", IdentityTransform(), "region")
    table = mor.commit(table, add=[mor.data_file(table, [{"id": 7, "region": "us"}], partition=["us"])])
    clear_plan_cache()
    expected = _described(plan_scan(table, table.current_snapshot().snapshot_id))  # type: ignore[union-attr]
    assert {key for *_, key in expected} == {(0, ()), (1, ("us",))}
    _new_process(monkeypatch, decode=False)
    assert _described(plan_scan(table, table.current_snapshot().snapshot_id)) == expected  # type: ignore[union-attr]


@pytest.mark.parametrize("damage", ["garbage", "truncated", "other length", "other path", "extra file", "bad type"])
def test_a_corrupt_or_stale_kept_manifest_is_ignored(
    catalog: SqlCatalog, mor: type[Files], folder: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    table = _table(catalog, mor)
    snapshot = table.current_snapshot()
    assert snapshot is not None
    clear_plan_cache()
    expected = _described(plan_scan(table, snapshot.snapshot_id))
    entry = entry_path(folder, snapshot.manifests(table.io)[0])
    text = entry.read_text()
    kept = json.loads(text)
    forged = "/elsewhere/forged.parquet"
    if damage == "garbage":
        entry.write_bytes(b"\x00\xffnot json")
    elif damage == "truncated":
        entry.write_text(text[: len(text) // 2])
    else:
        if damage == "other length":
            kept["length"] += 1
        elif damage == "other path":
            kept["path"] += ".old"
        elif damage == "extra file":
            kept["tasks"].append([forged, "PARQUET", 1, 1, 1, 0, []])
        else:
            kept["tasks"][0][3] = "1"
        kept["tasks"][0][0] = forged  # were the entry used, the plan would read this file
        entry.write_text(json.dumps(kept))
    _new_process(monkeypatch, decode=True)
    assert _described(plan_scan(table, snapshot.snapshot_id)) == expected
    assert forged not in entry.read_text()  # the entry was written again from the manifest


def test_delete_manifests_are_decoded_every_time(
    catalog: SqlCatalog, mor: type[Files], folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = _table(catalog, mor)
    first = mor.files_of(table)[0]
    table = mor.commit(table, deletes=[mor.position_deletes(table, [(first, 0)])])
    snapshot = table.current_snapshot()
    assert snapshot is not None
    clear_plan_cache()
    plan = plan_scan(table, snapshot.snapshot_id)
    assert plan.has_deletes
    deletes = [m for m in snapshot.manifests(table.io) if m.content != 0]
    assert deletes and not any(entry_path(folder, m).exists() for m in deletes)
    _new_process(monkeypatch, decode=True)
    again = plan_scan(table, snapshot.snapshot_id)
    assert [(t.path, [d.path for d in t.position_deletes]) for t in again.tasks] == [
        (t.path, [d.path for d in t.position_deletes]) for t in plan.tasks
    ]


def test_the_manifest_cache_can_be_turned_off(
    catalog: SqlCatalog, mor: type[Files], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MESHLAKE_CACHE_DIR", "off")
    assert cache_folder() is None
    table = _table(catalog, mor)
    clear_plan_cache()
    assert len(plan_scan(table, table.current_snapshot().snapshot_id).tasks) == 3  # type: ignore[union-attr]
    names = {entry_path(tmp_path, m).name for m in table.current_snapshot().manifests(table.io)}  # type: ignore[union-attr]
    assert names and not [p for p in tmp_path.rglob("*") if p.name in names]


def test_an_unwritable_cache_folder_only_means_no_cache(
    catalog: SqlCatalog, mor: type[Files], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("MESHLAKE_CACHE_DIR", str(blocker))
    table = _table(catalog, mor)
    clear_plan_cache()
    assert len(plan_scan(table, table.current_snapshot().snapshot_id).tasks) == 3  # type: ignore[union-attr]


def test_a_pruned_cache_plans_the_same(
    catalog: SqlCatalog, mor: type[Files], folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pruning may delete any entry at any time: planning then decodes the manifest again, with the same tasks."""
    from meshlake.catalog import disk_cache

    table = _table(catalog, mor)
    snapshot = table.current_snapshot()
    assert snapshot is not None
    clear_plan_cache()
    expected = _described(plan_scan(table, snapshot.snapshot_id))
    deleted, kept = disk_cache.prune(folder, max_bytes=0, max_age=0)
    assert deleted >= len(snapshot.manifests(table.io)) and kept == 0
    _new_process(monkeypatch, decode=True)
    assert _described(plan_scan(table, snapshot.snapshot_id)) == expected
    assert all(entry_path(folder, m).is_file() for m in snapshot.manifests(table.io))
