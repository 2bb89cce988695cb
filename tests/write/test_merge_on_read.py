"""Merge-on-read upsert, replace and delete: old rows recorded as Iceberg v2 position deletes, read right everywhere."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyiceberg.manifest import DataFileContent

import meshlake as ml
from meshlake.contract.stamps import Stamps
from meshlake.errors import CommitConflictError, QualityGateError, WriteModeError
from meshlake.write.commit import main_head
from meshlake.write.flow import write_port
from tests.conftest import DescriptorWriter
from tests.workers import batch


def rows_of(port: Any) -> dict[str, float]:
    table = port.latest().to_arrow()
    return dict(zip(table["shipment_id"].to_pylist(), table["weight_kg"].to_pylist(), strict=True))


def changes(ids: list[str], weight: float) -> pa.Table:
    size = len(ids)
    return pa.table(
        {
            "shipment_id": ids,
            "shipped_at": pa.array([datetime(2026, 11, 1, tzinfo=UTC)] * size, pa.timestamp("us", tz="UTC")),
            "weight_kg": [weight] * size,
        }
    )


def delete_files(port: Any) -> list[Any]:
    files = port.table().inspect.files()
    return [row for row in files.to_pylist() if row["content"] == DataFileContent.POSITION_DELETES]


def positions(port: Any) -> list[tuple[str, int]]:
    """Every (file_path, pos) the live delete files of `main` list."""
    found = []
    for row in delete_files(port):
        with port.table().io.new_input(row["file_path"]).open() as stream:
            table = pq.read_table(stream)
        found += list(zip(table["file_path"].to_pylist(), table["pos"].to_pylist(), strict=True))
    return found


@pytest.fixture
def filled(port: Any) -> Any:
    port.write(batch("a", 0, 10))
    port.write(batch("b", 0, 10))
    return port


def test_merge_on_read_upsert_records_old_rows_as_position_deletes(filled: Any) -> None:
    before = {f["file_path"] for f in filled.table().inspect.files().to_pylist() if f["content"] == 0}
    result = filled.write(changes(["a-0-1", "new-1"], 5.0), mode="upsert", write_mode="merge-on-read")
    assert (result.write_mode, result.files_deleted, result.delete_files_added) == ("merge-on-read", 0, 1)
    assert (result.rows_updated, result.rows_inserted) == (1, 1)
    after = {f["file_path"] for f in filled.table().inspect.files().to_pylist() if f["content"] == 0}
    assert before < after, "merge-on-read must not remove or rewrite a data file"
    found = rows_of(filled)
    assert len(found) == 21 and found["a-0-1"] == 5.0 and found["new-1"] == 5.0
    summary = filled.table().current_snapshot().summary
    assert summary.operation.value == "overwrite"
    assert summary["added-position-deletes"] == "1" and summary["added-delete-files"] == "1"
    assert summary["added-records"] == "2" and summary["total-records"] == "22"
    assert summary["total-position-deletes"] == "1"
    [(path, pos)] = positions(filled)
    assert path.endswith(".parquet") and pos == 1


def test_delete_files_are_file_scoped_with_file_path_bounds_and_the_partition(filled: Any) -> None:
    filled.delete("shipment_id IN ('a-0-2', 'b-0-7')", write_mode="merge-on-read")
    data = {f["file_path"]: f for f in filled.table().inspect.files().to_pylist() if f["content"] == 0}
    entries = delete_files(filled)
    assert len(entries) == 2
    for entry in entries:
        with filled.table().io.new_input(entry["file_path"]).open() as stream:
            [listed] = set(pq.read_table(stream)["file_path"].to_pylist())
        lower, upper = dict(entry["lower_bounds"]), dict(entry["upper_bounds"])
        assert lower[2147483546].decode() == upper[2147483546].decode() == listed
        assert entry["partition"] == data[listed]["partition"]


def test_merge_on_read_delete_commits_a_delete_snapshot(filled: Any) -> None:
    result = filled.delete("shipment_id = 'b-0-3'", write_mode="merge-on-read")
    assert (result.write_mode, result.rows_deleted) == ("merge-on-read", 1)
    assert filled.table().current_snapshot().summary.operation.value == "delete"
    assert "b-0-3" not in rows_of(filled) and len(rows_of(filled)) == 19


def test_row_counts_and_history_subtract_pending_position_deletes(filled: Any) -> None:
    filled.write(changes(["a-0-1", "new-1"], 5.0), mode="upsert", write_mode="merge-on-read")
    filled.delete("shipment_id = 'b-0-3'", write_mode="merge-on-read")
    assert filled.latest().rows == len(rows_of(filled)) == 20
    *_, upsert, delete = filled.history()
    assert (upsert.rows_added, upsert.rows_removed, upsert.rows_total) == (2, 1, 21)
    assert (delete.rows_added, delete.rows_removed, delete.rows_total) == (0, 1, 20)
    assert not upsert.foreign and not delete.foreign


def test_positions_are_physical_rows_and_deleted_rows_are_never_listed_again(filled: Any) -> None:
    filled.delete("shipment_id = 'a-0-3'", write_mode="merge-on-read")
    filled.delete("shipment_id = 'a-0-5'", write_mode="merge-on-read")
    assert sorted(pos for _, pos in positions(filled)) == [3, 5]
    again = filled.delete("shipment_id IN ('a-0-3', 'a-0-5')", write_mode="merge-on-read")
    assert not again.changed and again.rows_deleted == 0
    assert sorted(pos for _, pos in positions(filled)) == [3, 5]


def test_an_upserted_key_upserted_again_deletes_the_newer_row(filled: Any) -> None:
    filled.write(changes(["a-0-1"], 5.0), mode="upsert", write_mode="merge-on-read")
    filled.write(changes(["a-0-1"], 7.0), mode="upsert", write_mode="merge-on-read")
    found = filled.latest().to_arrow()["shipment_id"].to_pylist()
    assert found.count("a-0-1") == 1 and rows_of(filled)["a-0-1"] == 7.0
    assert len(positions(filled)) == 2  # the original row, then the first upsert's row: two different files


def test_merge_on_read_replace_deletes_the_range_and_adds_the_rows(filled: Any) -> None:
    where = "shipment_id >= 'b-0-0' AND shipment_id <= 'b-0-1'"
    result = filled.write(changes(["b-0-0", "b-0-1"], 9.0), mode="replace", where=where, write_mode="merge-on-read")
    assert (result.write_mode, result.rows_deleted, result.files_deleted) == ("merge-on-read", 2, 0)
    found = rows_of(filled)
    assert len(found) == 20 and found["b-0-0"] == 9.0 and found["b-0-1"] == 9.0


def test_auto_uses_merge_on_read_for_a_small_share_and_rewrites_for_a_large_one(filled: Any) -> None:
    assert filled.contract.write_mode == "auto"
    small = filled.write(changes(["a-0-1"], 1.0), mode="upsert")
    assert small.write_mode == "merge-on-read"
    large = filled.write(changes([f"b-0-{i}" for i in range(5)], 1.0), mode="upsert")
    assert large.write_mode == "copy-on-write" and large.files_deleted == 1
    assert len(rows_of(filled)) == 20


def test_copy_on_write_after_merge_on_read_reads_the_same_rows(filled: Any) -> None:
    """A port switched between write modes with pending deletes: the rewrite reads live rows only."""
    filled.write(changes(["a-0-1", "a-0-2"], 3.0), mode="upsert", write_mode="merge-on-read")
    filled.delete("shipment_id = 'a-0-4'", write_mode="merge-on-read")
    expected = rows_of(filled)
    filled.write(changes(["a-0-1", "a-0-6"], 4.0), mode="upsert", write_mode="copy-on-write")
    expected |= {"a-0-1": 4.0, "a-0-6": 4.0}
    assert rows_of(filled) == expected
    filled.delete("shipment_id = 'a-0-2'", write_mode="copy-on-write")
    del expected["a-0-2"]
    assert rows_of(filled) == expected
    assert sorted(filled.table().scan().to_arrow()["shipment_id"].to_pylist()) == sorted(expected)


def test_a_copy_on_write_rewrite_removes_the_deletes_of_the_files_it_replaces(filled: Any) -> None:
    """Deletes scoped to a file that a rewrite or overwrite removes apply to nothing: they leave in the same commit."""
    filled.write(changes(["a-0-1", "a-0-2"], 3.0), mode="upsert", write_mode="merge-on-read")
    filled.delete("shipment_id = 'a-0-4'", write_mode="merge-on-read")
    expected = rows_of(filled)

    def dangling() -> list[str]:
        """Delete files of the head snapshot that no live data file's plan carries."""
        attached = {d.path for task in filled.latest().plan.tasks for d in task.position_deletes}
        recorded = filled.table().inspect.delete_files().column("file_path").to_pylist()
        return [path for path in recorded if path not in attached]

    assert filled.latest().plan.has_deletes and dangling() == []
    filled.write(changes(["a-0-1", "a-0-6"], 4.0), mode="upsert", write_mode="copy-on-write")
    expected |= {"a-0-1": 4.0, "a-0-6": 4.0}
    assert rows_of(filled) == expected
    assert dangling() == []
    filled.write(changes(["b-0-1"], 5.0), mode="overwrite")
    assert rows_of(filled) == {"b-0-1": 5.0}
    assert filled.table().inspect.delete_files().num_rows == 0


def test_the_descriptor_write_mode_sets_iceberg_row_level_properties(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    lake.deploy(write_descriptor(descriptor))
    table = lake.port("logistics.shipments.daily").table()
    assert {table.properties[f"write.{op}.mode"] for op in ("update", "delete", "merge")} == {"merge-on-read"}
    descriptor["outputs"][0]["write_mode"] = "copy-on-write"
    descriptor["version"] = "1.4.1"
    path = write_descriptor(descriptor)
    assert any("write_mode changes from auto to copy-on-write" in str(c) for c in lake.plan(path).changes)
    lake.deploy(path)
    assert lake.last_deploy is not None
    assert any("write.delete.mode" in note for notes in lake.last_deploy.evolved.values() for note in notes)
    port = lake.port("logistics.shipments.daily")
    assert port.table().properties["write.update.mode"] == "copy-on-write"
    port.write(batch("a", 0, 10))
    assert port.write(changes(["a-0-1"], 1.0), mode="upsert").write_mode == "copy-on-write"
    assert port.write(changes(["a-0-2"], 1.0), mode="upsert", write_mode="merge-on-read").write_mode == "merge-on-read"


def test_an_unknown_write_mode_is_refused(filled: Any) -> None:
    before = main_head(filled.table())
    with pytest.raises(WriteModeError) as caught:
        filled.write(changes(["a-0-1"], 1.0), mode="upsert", write_mode="sideways")
    assert caught.value.write_mode == "sideways" and caught.value.address == "logistics.shipments.daily"
    assert main_head(filled.table()) == before


def _stamps(mode: str) -> Stamps:
    return Stamps(writer="t", run_id=f"r-{mode}", product_version="1.4.0", mode=mode)


def _v1_table(port: Any) -> Any:
    catalog = port.lake.catalog
    catalog.create_namespace_if_not_exists("v1ns")
    table = catalog.create_table("v1ns.t", schema=port.table().schema(), properties={"format-version": "1"})
    rows = batch("a", 0, 10).append_column("customer_email", pa.nulls(10, pa.string()))
    table.append(rows.cast(table.schema().as_arrow()))
    return catalog.load_table("v1ns.t")


def test_merge_on_read_on_a_format_version_1_table_is_refused(port: Any) -> None:
    table = _v1_table(port)
    before = main_head(table)
    with pytest.raises(WriteModeError) as caught:
        write_port(
            port.lake.catalog,
            table,
            changes(["a-0-1"], 1.0),
            address="v1ns.t",
            mode="upsert",
            where=None,
            primary_key=["shipment_id"],
            stamps=_stamps("upsert"),
            gate=None,
            quarantine_name="q",
            write_mode="merge-on-read",
        )
    assert caught.value.write_mode == "merge-on-read" and "format-version 2" in str(caught.value)
    assert main_head(port.lake.catalog.load_table("v1ns.t")) == before


def test_auto_on_a_format_version_1_table_copies_on_write(port: Any) -> None:
    table = _v1_table(port)
    result = write_port(
        port.lake.catalog,
        table,
        changes(["a-0-1"], 1.0),
        address="v1ns.t",
        mode="upsert",
        where=None,
        primary_key=["shipment_id"],
        stamps=_stamps("upsert"),
        gate=None,
        quarantine_name="q",
        write_mode="auto",
    )
    assert result.write_mode == "copy-on-write" and result.delete_files_added == 0
    assert len(port.lake.catalog.load_table("v1ns.t").scan().to_arrow()) == 10


def _stale_write(port: Any, stale: Any, data: Any, mode: str, where: str | None = None) -> Any:
    return write_port(
        port.lake.catalog,
        stale,
        data,
        address=str(port.address),
        mode=mode,
        where=where,
        primary_key=["shipment_id"],
        stamps=_stamps(mode),
        gate=None,
        quarantine_name="q",
        write_mode="merge-on-read",
    )


def test_deletes_for_a_file_rewritten_concurrently_fail_with_a_conflict(filled: Any) -> None:
    stale = filled.table()
    filled.write(changes([f"a-0-{i}" for i in range(6)], 2.0), mode="upsert", write_mode="copy-on-write")
    before, expected = main_head(filled.table()), rows_of(filled)
    with pytest.raises(CommitConflictError):
        _stale_write(filled, stale, None, "delete", "shipment_id = 'a-0-8'")
    assert main_head(filled.table()) == before and rows_of(filled) == expected


def test_deletes_racing_deletes_on_the_same_file_fail_with_a_conflict(filled: Any) -> None:
    stale = filled.table()
    filled.delete("shipment_id = 'a-0-1'", write_mode="merge-on-read")
    before = main_head(filled.table())
    with pytest.raises(CommitConflictError):
        _stale_write(filled, stale, None, "delete", "shipment_id = 'a-0-2'")
    assert main_head(filled.table()) == before and "a-0-2" in rows_of(filled) and "a-0-1" not in rows_of(filled)


def test_check_references_refuses_a_data_file_removed_since_the_base(filled: Any) -> None:
    from meshlake.write.commit import RebaseConflictError, check_references

    base = main_head(filled.table())
    data = [task.file for task in filled.table().scan().plan_files()]
    filled.write(changes([f"a-0-{i}" for i in range(6)], 2.0), mode="upsert", write_mode="copy-on-write")
    table = filled.table()
    with pytest.raises(RebaseConflictError, match="removed or rewritten"):
        check_references(table, data, old_base=base, new_head=main_head(table))


def test_deletes_on_other_files_are_rebased(filled: Any) -> None:
    stale = filled.table()
    filled.delete("shipment_id = 'a-0-1'", write_mode="merge-on-read")
    result = _stale_write(filled, stale, None, "delete", "shipment_id = 'b-0-2'")
    assert result.rebases == 1
    found = rows_of(filled)
    assert "a-0-1" not in found and "b-0-2" not in found and len(found) == 18


def test_an_upsert_racing_an_append_of_the_same_key_fails_with_a_conflict(filled: Any) -> None:
    stale = filled.table()
    filled.write(changes(["new-9"], 1.0))
    with pytest.raises(CommitConflictError):
        _stale_write(filled, stale, changes(["new-9", "a-0-1"], 2.0), "upsert")
    assert list(filled.latest().to_arrow()["shipment_id"].to_pylist()).count("new-9") == 1


UNIQUE = [{"expect_column_values_to_be_unique": {"column": "shipment_id"}}]


@pytest.fixture
def unique_port(lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter) -> Any:
    descriptor["outputs"][0]["expectations"] = UNIQUE
    lake.deploy(write_descriptor(descriptor))
    port = lake.port("logistics.shipments.daily")
    port.write(batch("a", 0, 10))
    return port


def test_the_gate_does_not_count_rows_a_merge_on_read_upsert_replaces(unique_port: Any) -> None:
    result = unique_port.write(changes(["a-0-1", "a-0-2"], 3.0), mode="upsert", write_mode="merge-on-read")
    assert result.quality is not None and result.quality.passed
    assert result.write_mode == "merge-on-read"


def test_a_key_deleted_by_position_may_be_appended_again_but_not_twice(unique_port: Any) -> None:
    unique_port.delete("shipment_id = 'a-0-3'", write_mode="merge-on-read")
    assert unique_port.write(changes(["a-0-3"], 1.0)).quality.passed
    before = main_head(unique_port.table())
    with pytest.raises(QualityGateError):
        unique_port.write(changes(["a-0-4"], 1.0))
    assert main_head(unique_port.table()) == before


def unique_result(result: Any) -> Any:
    [found] = [r for r in result.quality.results if r.expectation == "expect_column_values_to_be_unique"]
    return found


def test_an_upsert_derives_the_key_uniqueness_from_its_key_lookup_without_a_scan(unique_port: Any) -> None:
    result = unique_port.write(changes(["a-0-1", "new-1"], 3.0), mode="upsert", write_mode="merge-on-read")
    found = unique_result(result)
    assert (found.method, found.success, found.element_count, found.unexpected_count) == ("incremental", True, 11, 0)
    again = unique_port.write(changes(["a-0-1", "new-2"], 4.0), mode="upsert", write_mode="merge-on-read")
    assert (unique_result(again).method, unique_result(again).element_count) == ("incremental", 12)
    assert unique_port.latest().to_arrow().num_rows == 12
    before = main_head(unique_port.table())
    with pytest.raises(QualityGateError):  # the stamp the upserts left still catches an appended duplicate
        unique_port.write(changes(["new-2"], 1.0))
    assert main_head(unique_port.table()) == before


def test_an_upsert_onto_duplicated_keys_counts_them_in_full(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    descriptor["outputs"][0]["expectations"] = [
        {"expect_column_values_to_be_unique": {"column": "shipment_id", "mostly": 0.5}}
    ]
    lake.deploy(write_descriptor(descriptor))
    port = lake.port("logistics.shipments.daily")
    port.write(batch("a", 0, 10))
    port.write(changes(["a-0-1"], 1.0))  # a second a-0-1: 2 of 11 rows duplicated, within mostly=0.5
    kept = port.write(changes(["new-1"], 2.0), mode="upsert", write_mode="merge-on-read")
    assert (unique_result(kept).method, unique_result(kept).unexpected_count) == ("full", 2)
    cleared = port.write(changes(["a-0-1"], 3.0), mode="upsert", write_mode="merge-on-read")
    assert (unique_result(cleared).method, unique_result(cleared).unexpected_count) == ("full", 0)
    assert rows_of(port)["a-0-1"] == 3.0 and port.latest().to_arrow().num_rows == 11


def test_other_table_checks_after_an_upsert_count_the_replaced_rows_out(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    descriptor["outputs"][0]["expectations"] = [
        *UNIQUE,
        {"expect_column_sum_to_be_between": {"column": "weight_kg", "min_value": 0, "max_value": 12}},
        {"expect_table_row_count_to_be_between": {"min_value": 10, "max_value": 10}},
    ]
    lake.deploy(write_descriptor(descriptor))
    port = lake.port("logistics.shipments.daily")
    port.write(changes([f"k{i}" for i in range(10)], 1.0))  # sum 10
    result = port.write(changes([f"k{i}" for i in range(5)], 1.0), mode="upsert", write_mode="merge-on-read")
    assert result.quality.passed, "the sum is 10 again, not 15: the 5 replaced rows are not counted"
    methods = {r.expectation: r.method for r in result.quality.results}
    assert methods["expect_column_sum_to_be_between"] == "full"
    assert methods["expect_table_row_count_to_be_between"] == "incremental"


def test_every_read_path_sees_the_deletes_and_time_travels_before_them(filled: Any) -> None:
    lake = filled.lake
    old = main_head(filled.table())
    filled.write(changes(["a-0-1", "new-1"], 5.0), mode="upsert", write_mode="merge-on-read")
    filled.delete("shipment_id = 'b-0-3'", write_mode="merge-on-read")
    new = main_head(filled.table())
    expected = rows_of(filled)
    assert len(expected) == 20 and "b-0-3" not in expected and expected["a-0-1"] == 5.0
    name = "logistics.shipments.daily"
    sql = f"SELECT shipment_id, weight_kg FROM {name}"
    assert dict(lake.sql(sql).fetchall()) == expected
    assert dict(lake.sql(f"SELECT shipment_id, weight_kg FROM {name} AT (VERSION => {new})").fetchall()) == expected
    before = dict(lake.sql(f"SELECT shipment_id, weight_kg FROM {name} AT (VERSION => {old})").fetchall())
    assert len(before) == 20 and before["a-0-1"] == 0.0 and "b-0-3" in before and "new-1" not in before
    polars = filled.latest().to_polars().select("shipment_id", "weight_kg").collect()
    assert dict(zip(polars["shipment_id"].to_list(), polars["weight_kg"].to_list(), strict=True)) == expected
    assert filled.at(old).to_polars().collect().height == 20
    pyiceberg = filled.table().scan().to_arrow()
    assert dict(zip(pyiceberg["shipment_id"].to_pylist(), pyiceberg["weight_kg"].to_pylist(), strict=True)) == expected
    diff = filled.diff(old)
    assert (diff.added, diff.removed, diff.changed) == (1, 1, 1)


def test_a_delete_file_naming_a_missing_data_file_deletes_nothing_else(filled: Any, tmp_path: Path) -> None:
    """Readers apply position deletes by path: rows listed for a file that is not in the snapshot are ignored."""
    from tests.query.conftest import commit_files, position_deletes

    table = filled.table()
    data = next(iter(table.scan().plan_files())).file
    missing = data.file_path.replace(".parquet", "-gone.parquet")
    partition = tuple(data.partition[i] for i in range(len(data.partition)))
    deletes = position_deletes(table, [(missing, 0), (missing, 1)], partition=partition)
    commit_files(table, deletes=[deletes])
    assert len(rows_of(filled)) == 20


def test_a_corrupted_delete_file_is_refused_not_read_as_no_deletes(filled: Any) -> None:
    filled.delete("shipment_id = 'a-0-3'", write_mode="merge-on-read")
    [entry] = delete_files(filled)
    path = entry["file_path"].removeprefix("file://")
    Path(path).write_bytes(b"not a parquet file" * 10)
    with pytest.raises(Exception) as caught:
        filled.latest().to_arrow()
    assert "parquet" in str(caught.value).lower() or "magic" in str(caught.value).lower()
    before = main_head(filled.table())
    with pytest.raises(Exception):  # noqa: B017 - any read error: the write must not go on with wrong positions
        filled.delete("shipment_id = 'a-0-4'", write_mode="merge-on-read")
    assert main_head(filled.table()) == before


def test_an_upsert_whose_key_lookup_fails_leaves_none_of_the_rows_it_wrote_meanwhile(filled: Any) -> None:
    filled.delete("shipment_id = 'a-0-3'", write_mode="merge-on-read")
    [entry] = delete_files(filled)
    Path(entry["file_path"].removeprefix("file://")).write_bytes(b"not a parquet file" * 10)
    folder = Path(entry["file_path"].removeprefix("file://")).parent
    before, head = sorted(folder.rglob("*.parquet")), main_head(filled.table())
    with pytest.raises(Exception):  # noqa: B017 - the lookup reads the corrupted delete file
        filled.write(changes(["a-0-4", "new-1"], 5.0), mode="upsert", write_mode="merge-on-read")
    assert sorted(folder.rglob("*.parquet")) == before, "the new rows were written alongside the lookup"
    assert main_head(filled.table()) == head


def test_an_upsert_reports_where_its_time_went(filled: Any) -> None:
    result = filled.write(changes(["a-0-1", "new-1"], 5.0), mode="upsert", write_mode="merge-on-read")
    assert set(result.phases) == {"conform", "key lookup", "write rows", "deletes", "commit"}
    assert all(seconds >= 0 for seconds in result.phases.values())
    assert result.to_dict()["phases"] == result.phases
    rewritten = filled.write(changes(["a-0-2"], 6.0), mode="upsert", write_mode="copy-on-write")
    assert "key lookup and rewrite" in rewritten.phases and "deletes" not in rewritten.phases


@pytest.fixture
def compound(lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter) -> Any:
    """A port keyed by (shipment_id, shipped_at): rows a/day 1, a/day 2, b/day 1."""
    descriptor["outputs"][0]["primary_key"] = ["shipment_id", "shipped_at"]
    lake.deploy(write_descriptor(descriptor))
    port = lake.port("logistics.shipments.daily")
    port.write(compound_rows([("a", 1, 1.0), ("a", 2, 1.0), ("b", 1, 1.0)]))
    return port


def compound_rows(rows: list[tuple[str, int, float]]) -> pa.Table:
    return pa.table(
        {
            "shipment_id": [r[0] for r in rows],
            "shipped_at": pa.array([datetime(2026, 11, r[1], tzinfo=UTC) for r in rows], pa.timestamp("us", tz="UTC")),
            "weight_kg": [r[2] for r in rows],
        }
    )


def compound_state(port: Any) -> dict[tuple[str, int], float]:
    table = port.latest().to_arrow()
    keys = zip(table["shipment_id"].to_pylist(), (t.day for t in table["shipped_at"].to_pylist()), strict=True)
    return dict(zip(keys, table["weight_kg"].to_pylist(), strict=True))


@pytest.mark.parametrize(
    "upsert",
    [
        [("a", 2, 9.0), ("b", 2, 9.0)],  # narrowed by shipment_id (2 values): a/day 1 and b/day 1 match it only
        [("a", 2, 9.0), ("a", 3, 9.0)],  # narrowed by shipped_at (2 values): b/day 1 matches it only
    ],
)
def test_a_compound_key_upsert_replaces_only_rows_matching_every_key_column(
    compound: Any, upsert: list[tuple[str, int, float]]
) -> None:
    result = compound.write(compound_rows(upsert), mode="upsert", write_mode="merge-on-read")
    assert result.rows_updated == 1 and result.delete_files_added == 1
    expected = {("a", 1): 1.0, ("a", 2): 1.0, ("b", 1): 1.0} | {(k, d): w for k, d, w in upsert}
    assert compound_state(compound) == expected


# -- compaction folds pending deletes into the data files ------------------------------------------------


def test_compaction_rewrites_files_whose_pending_deletes_pass_the_threshold(filled: Any) -> None:
    from meshlake.maintenance.compact import Options, compact

    filled.delete("shipment_id = 'a-0-3'", write_mode="merge-on-read")  # 10 % of file a
    expected = rows_of(filled)
    lake = filled.lake
    _, skipped = compact(
        lake.catalog,
        filled.table(),
        product_version="1.4.0",
        run_id="c0",
        apply=True,
        options=Options(deleted_share=0.2),
    )
    assert skipped.deletes_folded == 0 and skipped.snapshot_id is None
    _, done = compact(lake.catalog, filled.table(), product_version="1.4.0", run_id="c1", apply=True)
    assert done.deletes_folded == 1 and done.files_before == 1 and done.rows == 9
    assert rows_of(filled) == expected
    assert not any(task.has_deletes for task in filled.latest().plan.tasks)
    assert filled.table().scan().to_arrow().num_rows == 19
    assert delete_files(filled) == [], "the folded delete file is removed with its data file"
    summary = filled.table().current_snapshot().summary
    assert summary["removed-position-deletes"] == "1" and summary["total-position-deletes"] == "0"
    assert filled.latest().rows == 19 and filled.history()[-1].rows_total == 19
    assert not filled.history()[-1].foreign


def test_a_merge_on_read_write_racing_compaction_of_its_files_fails_cleanly(filled: Any) -> None:
    from meshlake.maintenance.compact import compact

    filled.delete("shipment_id = 'a-0-3'", write_mode="merge-on-read")
    stale = filled.table()
    compact(filled.lake.catalog, filled.table(), product_version="1.4.0", run_id="c1", apply=True)
    before, expected = main_head(filled.table()), rows_of(filled)
    with pytest.raises(CommitConflictError):
        _stale_write(filled, stale, None, "delete", "shipment_id = 'a-0-4'")
    assert main_head(filled.table()) == before and rows_of(filled) == expected


def test_compaction_gives_up_when_deletes_land_on_its_files_meanwhile(filled: Any) -> None:
    from meshlake.maintenance.compact import CompactionError, compact

    filled.delete("shipment_id = 'a-0-3'", write_mode="merge-on-read")

    def delete() -> None:
        filled.delete("shipment_id = 'a-0-4'", write_mode="merge-on-read")

    with pytest.raises(CompactionError):
        compact(
            filled.lake.catalog, filled.table(), product_version="1.4.0", run_id="c", apply=True, before_commit=delete
        )
    found = rows_of(filled)
    assert "a-0-3" not in found and "a-0-4" not in found and len(found) == 18


def test_a_quarantined_merge_on_read_upsert_is_released_with_its_deletes(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    limit = {"expect_column_values_to_be_between": {"column": "weight_kg", "min_value": 0, "max_value": 50}}
    descriptor["outputs"][0]["expectations"] = [limit]
    lake.deploy(write_descriptor(descriptor))
    port = lake.port("logistics.shipments.daily")
    port.write(batch("a", 0, 10))
    with pytest.raises(QualityGateError):
        port.write(changes(["a-0-1", "new-1"], 99.0), mode="upsert", write_mode="merge-on-read", run_id="heavy")
    assert rows_of(port)["a-0-1"] == 0.0
    limit["expect_column_values_to_be_between"]["max_value"] = 100
    descriptor["version"] = "2.0.0"
    lake.deploy(write_descriptor(descriptor))
    port = lake.port("logistics.shipments.daily")
    released = port.quarantine().release("heavy")
    assert released.quality is not None and released.quality.passed
    found = port.latest().to_arrow()["shipment_id"].to_pylist()
    assert len(found) == len(set(found)) == 11, "the replaced row must not come back next to its new version"
    assert rows_of(port)["a-0-1"] == 99.0 and rows_of(port)["new-1"] == 99.0


def test_a_view_reads_right_after_its_row_mask_was_dropped(filled: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The mesh view caches its relation text, which names a row mask: once the LRU drops the mask (here: every
    other mask it makes), the next query loads it again instead of failing or reading deleted rows."""
    from meshlake.query.native import masks as native

    lake = filled.lake
    con = lake.duckdb()
    if not native.loaded(con):
        from meshlake.query.native.build import unavailable_reason

        pytest.skip(f"meshlake's DuckDB extension is not available here: {unavailable_reason()}")
    filled.write(changes(["a-0-1", "new-1"], 5.0), mode="upsert", write_mode="merge-on-read")
    old = main_head(filled.table())
    filled.delete("shipment_id = 'b-0-3'", write_mode="merge-on-read")
    monkeypatch.setattr(native.masks, "max_bytes", 1)
    monkeypatch.setattr(native.masks, "min_kept", 1)
    name = "logistics.shipments.daily"
    expected = rows_of(filled)
    sql = f"SELECT shipment_id, weight_kg FROM {name}"
    assert dict(con.sql(sql).fetchall()) == expected
    before = dict(lake.sql(f"SELECT shipment_id, weight_kg FROM {name} AT (VERSION => {old})").fetchall())
    assert "b-0-3" in before and before["a-0-1"] == 5.0  # its own mask: the latest one's was dropped for it
    assert dict(con.sql(sql).fetchall()) == expected
    assert "b-0-3" not in dict(con.sql(sql).fetchall())
