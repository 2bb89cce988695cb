"""`meshlake maintain`: expiry by retention, orphan files, compaction — on real embedded lakes."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from click.testing import CliRunner, Result

import meshlake as ml
from meshlake.errors import QualityGateError
from meshlake.maintenance.compact import CompactionError, Options, compact
from meshlake.write.datafiles import DataFileWriter
from tests.conftest import DescriptorWriter, raise_major

DAY1 = datetime(2026, 11, 1, tzinfo=UTC)
LATER = timedelta(days=30)
ADDRESS = "logistics.shipments.daily"


def rows(ids: list[str], day: int = 1, weight: float = 1.5) -> pa.Table:
    return pa.table(
        {
            "shipment_id": pa.array(ids, pa.string()),
            "shipped_at": pa.array([DAY1 + timedelta(days=day - 1)] * len(ids), pa.timestamp("us", tz="UTC")),
            "weight_kg": pa.array([weight] * len(ids), pa.float64()),
        }
    )


def deploy(lake: ml.Lake, descriptor: dict[str, Any], write: DescriptorWriter, **output: Any) -> Any:
    descriptor["outputs"][0].update(output)
    raise_major(descriptor)  # whatever changed deploys (meshlake plan)
    lake.deploy(write(descriptor))
    return lake.port(ADDRESS)


def table_dir(port: Any) -> Path:
    return Path(port.table().metadata.location.removeprefix("file://"))


def files_on_disk(port: Any) -> dict[str, float]:
    """Every file under the port's table location, with its modification time."""
    return {str(p): p.stat().st_mtime for p in table_dir(port).rglob("*") if p.is_file()}


def age_everything(port: Any, hours: float = 3) -> None:
    """Make every file of the port look `hours` old (so only references protect them)."""
    when = time.time() - hours * 3600
    for path in files_on_disk(port):
        os.utime(path, (when, when))


def referenced(port: Any) -> set[str]:
    """What the table's metadata refers to, read with pyiceberg's own manifest reader (an independent oracle)."""
    table = port.table()
    found = {table.metadata_location, *(e.metadata_file for e in table.metadata.metadata_log)}
    for snapshot in table.metadata.snapshots:
        found.add(snapshot.manifest_list)
        for manifest in snapshot.manifests(table.io):
            found.add(manifest.manifest_path)
            found.update(e.data_file.file_path for e in manifest.fetch_manifest_entry(table.io))
    return {path.removeprefix("file://") for path in found}


def superseded_metadata(port: Any, files: set[str]) -> set[str]:
    """The metadata files among `files` that the table's metadata log no longer names (deleted at commit)."""
    table = port.table()
    logged = {table.metadata_location, *(e.metadata_file for e in table.metadata.metadata_log)}
    logged = {path.removeprefix("file://") for path in logged}
    return {f for f in files if f.endswith(".metadata.json") and f not in logged}


def sorted_rows(port: Any, ref: int | str | None = None) -> list[dict[str, Any]]:
    snapshot = port.latest() if ref is None else port.at(ref)
    return sorted(snapshot.to_arrow().to_pylist(), key=lambda r: r["shipment_id"])


def timestamps(port: Any) -> dict[int, int]:
    return {s.snapshot_id: s.timestamp_ms for s in port.table().metadata.snapshots}


def write_distinct(port: Any, count: int, **kwargs: Any) -> list[int]:
    """`count` appends with distinct commit milliseconds; their snapshot ids, oldest first."""
    ids = []
    for index in range(count):
        ids.append(port.write(rows([f"s{index:03d}"], **kwargs)).snapshot_id)
        time.sleep(0.003)
    return ids


@pytest.fixture
def port(lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter) -> Any:
    # automatic compaction off: these tests count the small files that maintenance's compaction finds
    retention = {"time_travel": "7d", "min_snapshots": 3}
    return deploy(lake, descriptor, write_descriptor, retention=retention, auto_compact=False)


# -- dry run --------------------------------------------------------------------------------------


def test_a_dry_run_changes_nothing_and_says_what_it_would_do(lake: ml.Lake, port: Any) -> None:
    write_distinct(port, 8)
    port.tag("v1", snapshot=port.history()[0].snapshot_id)
    stray = table_dir(port) / "data" / "stray.parquet"
    stray.write_bytes(b"not referenced")
    age_everything(port)
    location, files = port.table().metadata_location, files_on_disk(port)

    report = lake.maintain(now=datetime.now(UTC) + LATER)

    assert not report.applied and report.ok
    assert port.table().metadata_location == location
    assert files_on_disk(port) == files, "no file created, deleted or touched"
    done = report.port(ADDRESS)
    assert len(done.snapshots_expired) == 4  # 8 - tag - newest 3
    assert str(stray) in done.orphan_files and not done.orphan_files_removed
    assert done.files_compacted is not None and done.files_compacted.before == 8


# -- expiry ---------------------------------------------------------------------------------------


def test_expiry_keeps_tags_branches_min_snapshots_and_the_window(lake: ml.Lake, port: Any) -> None:
    s = write_distinct(port, 12)
    port.tag("v1", snapshot=s[1])
    port.table().manage_snapshots().create_branch(s[2], "audit").commit()
    ts = timestamps(port)
    # the window opens 1 ms before s6: s6..s11 are inside it, and s5 is what `main` was at when it opens
    now = datetime.fromtimestamp((ts[s[6]] - 1) / 1000, tz=UTC) + timedelta(days=7)

    dry = lake.maintain(ADDRESS, now=now, orphans=False, compact=False).port(ADDRESS)
    assert sorted(dry.snapshots_expired) == sorted([s[0], s[3], s[4]])
    applied = lake.maintain(ADDRESS, apply=True, now=now, orphans=False, compact=False).port(ADDRESS)
    assert applied.snapshots_expired == dry.snapshots_expired

    left = set(timestamps(port))
    assert left == set(s) - {s[0], s[3], s[4]}
    assert {"v1", "audit", "main"} <= set(port.table().metadata.refs)
    assert [r["shipment_id"] for r in sorted_rows(port, "v1")] == ["s000", "s001"]
    assert port.as_of(now - timedelta(days=7)).snapshot_id == s[5], "time travel to the window's start reads"


def test_expiry_beyond_the_window_keeps_only_refs_and_the_newest_min_snapshots(lake: ml.Lake, port: Any) -> None:
    s = write_distinct(port, 12)
    port.tag("v1", snapshot=s[1])
    port.table().manage_snapshots().create_branch(s[2], "audit").commit()
    files = set(files_on_disk(port))

    report = lake.maintain(ADDRESS, apply=True, now=datetime.now(UTC) + LATER, orphans=False, compact=False)

    assert set(timestamps(port)) == {s[1], s[2], s[9], s[10], s[11]}
    gone = files - set(files_on_disk(port))
    assert gone <= superseded_metadata(port, files), "expiry deletes no file but superseded metadata files"
    assert sorted(report.port(ADDRESS).snapshots_expired) == sorted(set(s) - {s[1], s[2], s[9], s[10], s[11]})
    assert [h.snapshot_id for h in port.history()] == s[9:]


def test_nothing_inside_the_window_expires(lake: ml.Lake, port: Any) -> None:
    write_distinct(port, 6)
    report = lake.maintain(ADDRESS, apply=True, orphans=False, compact=False)
    assert report.port(ADDRESS).snapshots_expired == [] and len(timestamps(port)) == 6


def test_old_quarantine_and_staging_branches_go_first(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    expectations = [{"expect_column_values_to_be_between": {"column": "weight_kg", "min_value": 0, "max_value": 50}}]
    port = deploy(lake, descriptor, write_descriptor, expectations=expectations)
    good = port.write(rows(["a"])).snapshot_id
    with pytest.raises(QualityGateError):
        port.write(rows(["b"], weight=99.0), run_id="bad")
    port.table().manage_snapshots().create_branch(good, "meshlake-staging-x").create_branch(good, "audit").commit()
    quarantine = "meshlake-quarantine-bad"

    two_days = lake.maintain(ADDRESS, apply=True, now=datetime.now(UTC) + timedelta(days=2)).port(ADDRESS)
    assert two_days.stale_branches_removed == ["meshlake-staging-x"] and two_days.quarantine_removed == []
    assert quarantine in port.table().metadata.refs

    later = lake.maintain(ADDRESS, apply=True, now=datetime.now(UTC) + LATER).port(ADDRESS)
    assert later.quarantine_removed == [quarantine]
    assert set(port.table().metadata.refs) == {"main", "audit"}
    assert len(later.snapshots_expired) == 1, "the quarantined snapshot expires once its branch is gone"


# -- orphans --------------------------------------------------------------------------------------


def test_orphans_are_strays_and_unfinished_writes_never_referenced_files(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    expectations = [{"expect_column_values_to_be_between": {"column": "weight_kg", "min_value": 0, "max_value": 50}}]
    port = deploy(lake, descriptor, write_descriptor, expectations=expectations)
    for index in range(3):
        port.write(rows([f"k{index}"], day=index + 1))
    port.write(rows(["k9"]), mode="overwrite")
    port.tag("before-overwrite", snapshot=port.history()[-2].snapshot_id)
    with pytest.raises(QualityGateError):  # its files stay referenced by the quarantine branch
        port.write(rows(["bad"], weight=99.0))
    stray = table_dir(port) / "data" / "stray.parquet"
    stray.write_bytes(b"written by hand")
    table = port.table()
    killed = DataFileWriter(table.metadata, table.io)  # a writer that died before committing
    lost = rows(["lost"]).append_column("customer_email", pa.array([None], pa.string()))
    killed.write_all(lost.cast(table.schema().as_arrow()).to_batches())
    leftovers = {path.removeprefix("file://") for path in killed.written_paths}
    age_everything(port)
    before = sorted_rows(port)

    found = lake.maintain(ADDRESS, expire=False, compact=False).port(ADDRESS)
    assert set(found.orphan_files) == {str(stray), *leftovers}
    assert not set(found.orphan_files) & referenced(port)
    assert found.orphan_bytes == sum(Path(p).stat().st_size for p in found.orphan_files)

    removed = lake.maintain(ADDRESS, apply=True, expire=False, compact=False).port(ADDRESS)
    assert set(removed.orphan_files_removed) == set(found.orphan_files)
    assert not stray.exists() and not any(Path(p).exists() for p in leftovers)
    assert all(Path(p).exists() for p in referenced(port))
    assert sorted_rows(port) == before
    assert [r["shipment_id"] for r in sorted_rows(port, "before-overwrite")] == ["k0", "k1", "k2"]
    assert port.quarantine()[0].rows_added == 1


def test_orphans_younger_than_the_safety_age_are_left_alone(lake: ml.Lake, port: Any) -> None:
    port.write(rows(["a"]))
    stray = table_dir(port) / "data" / "in-flight.parquet"
    stray.write_bytes(b"a writer has not committed this yet")
    half_hour_ago = time.time() - 1800
    os.utime(stray, (half_hour_ago, half_hour_ago))

    default = lake.maintain(ADDRESS, apply=True, expire=False, compact=False).port(ADDRESS)
    assert default.orphan_files == [] and default.orphan_files_too_young == 1 and stray.exists()
    future = lake.maintain(ADDRESS, apply=True, now=datetime.now(UTC) + LATER, compact=False).port(ADDRESS)
    assert future.orphan_files == [] and stray.exists(), "a future `now` does not age files"

    shorter = lake.maintain(ADDRESS, apply=True, expire=False, compact=False, orphan_age="10m").port(ADDRESS)
    assert shorter.orphan_files_removed == [str(stray)] and not stray.exists()


def test_orphans_are_found_through_an_fsspec_file_io_too(
    tmp_path: Path, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    lake = ml.connect(home=str(tmp_path / "fsspec-lake"), io="fsspec")
    port = deploy(lake, descriptor, write_descriptor)
    port.write(rows(["a"]))
    old, young = table_dir(port) / "data" / "old.parquet", table_dir(port) / "data" / "young.parquet"
    old.write_bytes(b"x")
    young.write_bytes(b"y")
    age_everything(port)
    os.utime(young, None)

    done = lake.maintain(ADDRESS, apply=True, expire=False, compact=False).port(ADDRESS)

    assert done.orphan_files_removed == [str(old)] and done.orphan_files_too_young == 1
    assert not old.exists() and young.exists() and sorted_rows(port)[0]["shipment_id"] == "a"


def test_time_travel_to_a_kept_tag_reads_after_expiry_and_orphan_removal(lake: ml.Lake, port: Any) -> None:
    port.write(rows(["a", "b"]))
    port.tag("v1")
    dropped = []
    for name in ("c", "d", "e", "f"):
        dropped.append(port.write(rows([name]), mode="overwrite").snapshot_id)
    doomed = set(port.at(dropped[0]).plan.files)
    kept_files = set(port.at("v1").plan.files)
    age_everything(port)

    report = lake.maintain(ADDRESS, apply=True, now=datetime.now(UTC) + LATER, compact=False)

    done = report.port(ADDRESS)
    assert report.ok and dropped[0] in done.snapshots_expired
    removed = set(done.orphan_files_removed)
    assert {p.removeprefix("file://") for p in doomed} <= removed
    assert not {p.removeprefix("file://") for p in kept_files} & removed
    assert [r["shipment_id"] for r in sorted_rows(port, "v1")] == ["a", "b"]
    assert lake.sql(f"SELECT count(*) FROM {ADDRESS} AT (VERSION => 'v1')").fetchall() == [(2,)]
    assert [r["shipment_id"] for r in sorted_rows(port)] == ["f"]


# -- compaction -----------------------------------------------------------------------------------


def test_compaction_turns_200_small_appends_into_few_files_with_the_same_rows(lake: ml.Lake, port: Any) -> None:
    for index in range(200):
        port.write(rows([f"s{index:03d}"], day=1 + index % 2, weight=float(index)))
    before, history = sorted_rows(port), len(port.history())
    assert len(port.latest().plan.tasks) == 200

    report = lake.maintain(ADDRESS, apply=True, expire=False, orphans=False)

    done = report.port(ADDRESS)
    assert report.ok and done.files_compacted == (200, 2)  # one file per day partition
    assert len(port.latest().plan.tasks) == 2
    assert sorted_rows(port) == before
    assert len(port.history()) == history + 1
    last = port.history()[-1]
    assert last.mode == "compact" and last.run_id and last.operation == "overwrite"
    assert last.rows_total == 200 and last.quality is None
    assert done.planning_ms_before is not None and done.planning_ms_after is not None  # speed: bench_maintain
    again = lake.maintain(ADDRESS, apply=True, expire=False, orphans=False).port(ADDRESS)
    assert again.files_compacted is None, "compacted files are not compacted again"


def test_a_byte_limit_compacts_the_oldest_small_files_and_leaves_the_rest(lake: ml.Lake, port: Any) -> None:
    for index in range(6):
        port.write(rows([f"s{index}"]))
    before = sorted_rows(port)
    oldest = sorted(port.latest().plan.tasks, key=lambda task: task.sequence_number)
    limit = sum(task.file_size for task in oldest[:3]) + 1

    _, done = compact(
        lake.catalog, port.table(), product_version="1", run_id="r", apply=True, options=Options(max_bytes=limit)
    )

    assert done.files_before == 3 and done.bytes_before <= limit and done.files_after == 1
    assert len(port.latest().plan.tasks) == 4 and sorted_rows(port) == before


def test_compaction_does_not_go_through_the_quality_gate(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    port = deploy(lake, descriptor, write_descriptor)
    for index in range(6):
        port.write(rows([f"s{index}"]))
    strict = [{"expect_table_row_count_to_be_between": {"min_value": 1, "max_value": 2}}]
    port = deploy(lake, descriptor, write_descriptor, expectations=strict)  # the data now fails its checks
    report = lake.maintain(ADDRESS, apply=True, expire=False, orphans=False)
    assert report.ok and report.port(ADDRESS).files_compacted == (6, 1)
    assert port.quarantine() == [] and port.latest().rows == 6


def test_a_concurrent_append_during_compaction_is_kept(lake: ml.Lake, port: Any) -> None:
    for index in range(6):
        port.write(rows([f"s{index}"]))

    def append() -> None:
        port.write(rows(["late"]))

    _, done = compact(
        lake.catalog, port.table(), product_version="1.4.0", run_id="r1", apply=True, before_commit=append
    )

    assert done.rebases == 1 and done.files_before == 6 and done.files_after == 1
    assert sorted(r["shipment_id"] for r in sorted_rows(port)) == sorted([f"s{i}" for i in range(6)] + ["late"])
    assert len(port.latest().plan.tasks) == 2, "the compacted file and the appended one"
    assert port.history()[-1].mode == "compact" and port.history()[-2].mode == "append"


def test_a_compaction_rebased_onto_appends_reads_none_of_their_manifests(
    lake: ml.Lake, port: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A compaction commits between a stream's batches, on the stream's thread, re-based onto the batches committed
    since it read: the files it replaces must still be there, but no added file can conflict with it (its conflict
    filter matches none), so the manifests the batches added are not read to find none."""
    from meshlake.maintenance.compact import Options, commit_rewrite, find_groups, rewrite
    from meshlake.write.commit import check_rebase
    from tests.write.test_manifest_merge import manifest_reads

    for index in range(6):
        port.write(rows([f"s{index}"]))
    table = port.table()
    base = table.metadata.current_snapshot_id
    assert base is not None
    found = find_groups(table, Options())
    rewritten = rewrite(table, found, base, product_version="1.4.0", run_id="r1")
    for late in ("late1", "late2"):
        port.write(rows([late]))
    table = port.table()
    head = table.metadata.current_snapshot_id
    reads = manifest_reads(monkeypatch)

    check_rebase(table, rewritten.change, old_base=base, new_head=head)

    assert reads == [], "no manifest read"
    monkeypatch.undo()
    commit_rewrite(lake.catalog, table, rewritten, found)
    assert found.rebases == 1 and found.files_after == 1
    expected = sorted([f"s{i}" for i in range(6)] + ["late1", "late2"])
    assert sorted(r["shipment_id"] for r in sorted_rows(port)) == expected


def test_compaction_gives_up_when_a_concurrent_commit_replaces_its_files(lake: ml.Lake, port: Any) -> None:
    for index in range(6):
        port.write(rows([f"s{index}"]))
    on_disk = set(files_on_disk(port))
    written: list[str] = []

    def overwrite() -> None:
        port.write(rows(["new"]), mode="overwrite")
        written.extend(set(files_on_disk(port)) - on_disk)

    with pytest.raises(CompactionError):
        compact(lake.catalog, port.table(), product_version="1.4.0", run_id="r2", apply=True, before_commit=overwrite)

    assert [r["shipment_id"] for r in sorted_rows(port)] == ["new"]
    leftover = set(files_on_disk(port)) - on_disk - set(written)
    assert not leftover, "compaction deletes the files it wrote when it gives up"


def test_a_compaction_does_not_make_a_stale_port_look_fresh(lake: ml.Lake, port: Any) -> None:
    for index in range(6):
        port.write(rows([f"s{index}"]))
    from meshlake.quality.slo import evaluate_slo

    last_write = port.history()[-1].committed_at
    time.sleep(0.01)
    lake.maintain(ADDRESS, apply=True, expire=False, orphans=False)
    assert port.history()[-1].mode == "compact" and port.history()[-1].committed_at > last_write
    at = last_write + timedelta(days=2)
    checks = {c.objective: c for c in evaluate_slo(lake, port, at=at).checks}
    assert checks["freshness"].observed == (at - last_write).total_seconds(), "age of the last write, not of compaction"
    assert checks["freshness"].status == "violated" and checks["min_rows"].observed == 6


# -- the system table, port.maintain and the CLI ------------------------------------------------------


def test_the_quality_history_keeps_a_bounded_number_of_snapshots(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    from meshlake.quality.records import RESULTS_ADDRESS, RESULTS_TABLE, append_results

    expectations = [{"expect_column_values_to_not_be_null": {"column": "shipment_id"}}]
    port = deploy(lake, descriptor, write_descriptor, expectations=expectations)
    port.write(rows(["a"]))
    report = port.check()
    for _ in range(105):
        append_results(lake.catalog, lake.warehouse, [(report, "check", True)])
    results = lake.catalog.load_table(RESULTS_TABLE)
    count = len(results.metadata.snapshots)
    assert count >= 107

    done = lake.maintain(apply=True, now=datetime.now(UTC) + timedelta(days=2), orphans=False)

    system = done.port(RESULTS_ADDRESS)
    assert len(system.snapshots_expired) == count - 100 and system.files_compacted is not None
    assert len(lake.catalog.load_table(RESULTS_TABLE).metadata.snapshots) == 101  # 100 kept + compaction
    assert len(port.quarantine()) == 0, "the quality history still reads"


def test_port_maintain_covers_that_port_only(lake: ml.Lake, port: Any) -> None:
    for index in range(6):
        port.write(rows([f"s{index}"]))
    report = port.maintain()
    assert [p.address for p in report.ports] == [ADDRESS] and not report.applied
    assert report.ports[0].files_compacted == (6, 1)
    assert json.loads(json.dumps(report.to_dict()))["ports"][0]["files_compacted"] == {"before": 6, "after": 1}


def cli(*args: str) -> Result:
    from meshlake.cli import commands  # noqa: F401 - registers commands
    from meshlake.cli.main import cli as group

    return CliRunner().invoke(group, list(args), catch_exceptions=False)


def test_the_cli_is_a_dry_run_by_default_and_applies_with_apply(lake: ml.Lake, port: Any, tmp_path: Path) -> None:
    Path("meshlake.yaml").write_text(f"home: {tmp_path / '.meshlake'}\n")
    for index in range(6):
        port.write(rows([f"s{index}"]))
    location = port.table().metadata_location

    dry = cli("maintain", "--json")
    assert dry.exit_code == 0, dry.output
    data = json.loads(dry.stdout)
    assert data["applied"] is False and data["ports"][0]["files_compacted"] == {"before": 6, "after": 1}
    assert port.table().metadata_location == location
    assert "dry run" in cli("maintain", "logistics.shipments").stdout

    applied = cli("maintain", "logistics.shipments", "--apply", "--no-expire", "--no-orphans", "--json")
    assert applied.exit_code == 0, applied.output
    assert json.loads(applied.stdout)["steps"] == {"expire": False, "orphans": False, "compact": True}
    assert port.history()[-1].mode == "compact"


def test_the_cli_exits_non_zero_on_errors(lake: ml.Lake, port: Any, tmp_path: Path) -> None:
    Path("meshlake.yaml").write_text(f"home: {tmp_path / '.meshlake'}\n")
    lake.catalog.drop_table(("logistics", "shipments", "daily"))
    result = cli("maintain", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["errors"] and "does not exist" in result.stderr
    assert cli("maintain", "--orphan-age", "soon").exit_code == 2


# -- the warehouse is a boundary -------------------------------------------------------------------


def test_orphan_removal_never_follows_symlinks_out_of_the_table(lake: ml.Lake, port: Any, tmp_path: Path) -> None:
    port.write(rows(["a"]))
    outside = tmp_path / "unrelated"
    (outside / "folder").mkdir(parents=True)
    targets = {
        "in_folder_data": outside / "folder" / "part-0.parquet",
        "in_folder_manifest": outside / "folder" / "snap-1.avro",
        "in_folder_metadata": outside / "folder" / "00001-x.metadata.json",
        "file_data": outside / "lone.parquet",
        "file_metadata": outside / "lone.metadata.json",
    }
    for target in targets.values():
        target.write_bytes(b"someone else's file")
    root = table_dir(port)
    links = {
        root / "data" / "linked-folder": outside / "folder",
        root / "metadata" / "linked-folder": outside / "folder",
        root / "data" / "linked.parquet": targets["file_data"],
        root / "metadata" / "99999-linked.metadata.json": targets["file_metadata"],
    }
    for link, target in links.items():
        link.symlink_to(target)
    notes = root / "data" / "README.txt"  # not a kind of file a table owns
    notes.write_text("kept by whoever wrote it")
    stray = root / "data" / "stray.parquet"
    stray.write_bytes(b"a real orphan")
    age_everything(port)
    before = sorted_rows(port)

    Path("meshlake.yaml").write_text(f"home: {tmp_path / '.meshlake'}\n")

    applied = cli("maintain", "--apply", "--no-expire", "--no-compact", "--json")

    assert applied.exit_code == 0, applied.output
    done = json.loads(applied.stdout)["ports"][0]
    assert done["address"] == ADDRESS and done["orphan_files_removed"] == [str(stray)] and not stray.exists()
    assert all(link.is_symlink() for link in links), "no link was removed"
    assert all(target.read_bytes() == b"someone else's file" for target in targets.values())
    assert notes.exists()
    assert sorted_rows(port) == before
    again = lake.maintain(apply=True, expire=False, compact=False, orphan_age=timedelta(0)).port(ADDRESS)
    assert again.orphan_files == [] and all(link.is_symlink() for link in links)


def test_lake_wide_maintenance_reports_a_broken_port_and_maintains_the_others(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter, tmp_path: Path
) -> None:
    broken = deploy(lake, descriptor, write_descriptor)
    broken.write(rows(["a"]))
    other = dict(descriptor, name="parcels", inputs=[])
    lake.deploy(write_descriptor(other))
    healthy = lake.port("logistics.parcels.daily")
    healthy.write(rows(["b"]))
    stray = table_dir(healthy) / "data" / "stray.parquet"
    stray.write_bytes(b"orphan")
    age_everything(healthy)
    Path(broken.table().metadata_location.removeprefix("file://")).unlink()  # its current metadata file is gone

    report = lake.maintain(apply=True, expire=False, compact=False)

    assert [p.address for p in report.ports][:2] == ["logistics.parcels.daily", ADDRESS]
    assert report.port("logistics.parcels.daily").orphan_files_removed == [str(stray)]
    assert not report.ok and len(report.errors) == 1
    assert report.errors[0].startswith(f"{ADDRESS}: the port's table cannot be loaded: BrokenProductError")

    Path("meshlake.yaml").write_text(f"home: {tmp_path / '.meshlake'}\n")
    result = cli("maintain", "--apply")
    assert result.exit_code == 1
    assert "logistics.parcels.daily" in result.stdout
    assert f"error: {ADDRESS}: the port's table cannot be loaded" in result.stderr


def test_lake_wide_maintenance_reports_an_unreadable_product_and_goes_on(
    lake: ml.Lake, port: Any, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    lake.deploy(write_descriptor(dict(descriptor, name="parcels", inputs=[])))
    lake.catalog.update_namespace_properties(
        ("logistics", "parcels"), updates={"meshlake.descriptor.part-000": "{not a descriptor"}
    )
    port.write(rows(["a"]))

    report = lake.maintain(expire=False, compact=False)

    assert [p.address for p in report.ports][:2] == ["logistics.parcels", ADDRESS]
    assert report.port(ADDRESS).errors == []
    assert len(report.errors) == 1 and report.errors[0].startswith("logistics.parcels: the product cannot be read")
