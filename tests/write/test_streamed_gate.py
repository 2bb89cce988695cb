"""The gate measured while the rows are written (`meshlake.quality.metrics`): the same verdicts as reading the files.

An append's mergeable aggregates are computed on each row group the writer encodes and merged at check time;
every result (status, counts, observed values, samples) equals the pass over the written files, on data with
NULLs, NaN, empty batches and many files. A failing gate or a broken batch leaves `main` as it was.
"""

from __future__ import annotations

import math
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pyiceberg.io.pyarrow import schema_to_pyarrow

import meshlake as ml
from meshlake.errors import ContractViolationError, QualityGateError
from meshlake.write import datafiles
from meshlake.write.datafiles import DataFileWriter
from meshlake.write.ingest import Conformer
from tests.conftest import DescriptorWriter, main_snapshot_id

ADDRESS = "logistics.shipments.daily"
EXPECTATIONS = [
    {"expect_column_values_to_be_unique": {"column": "shipment_id"}},
    {"expect_column_values_to_not_be_null": {"column": "weight_kg", "mostly": 0.5}},
    {"expect_column_values_to_be_between": {"column": "weight_kg", "min_value": 0, "max_value": 1000}},
    {"expect_column_values_to_match_regex": {"column": "shipment_id", "regex": "^s[0-9]+$"}},
    {"expect_column_value_lengths_to_be_between": {"column": "shipment_id", "min_value": 2, "max_value": 8}},
    {"expect_column_values_to_be_in_set": {"column": "kind", "value_set": ["parcel", "pallet"], "mostly": 0.9}},
    {"expect_column_min_to_be_between": {"column": "weight_kg", "min_value": 0}},
    {"expect_column_max_to_be_between": {"column": "shipped_at", "max_value": "2030-01-01T00:00:00+00:00"}},
    {"expect_column_sum_to_be_between": {"column": "pieces", "min_value": 0}},
    {"expect_column_mean_to_be_between": {"column": "weight_kg", "min_value": 0}},
    {"expect_table_row_count_to_be_between": {"min_value": 1}},
]


@pytest.fixture
def gated(lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter) -> Any:
    output = descriptor["outputs"][0]
    output["columns"] += [{"name": "kind", "type": "string"}, {"name": "pieces", "type": "long"}]
    output["expectations"] = EXPECTATIONS
    lake.deploy(write_descriptor(descriptor))
    return lake.port(ADDRESS)


def _rows(start: int, count: int) -> pa.Table:
    weights = [None if i % 7 == 0 else math.nan if i % 11 == 0 else float(i % 50) for i in range(start, start + count)]
    return pa.table(
        {
            "shipment_id": pa.array([f"s{i}" for i in range(start, start + count)], pa.string()),
            "shipped_at": pa.array(
                [datetime(2026, 11, 1, tzinfo=UTC) + timedelta(hours=i) for i in range(start, start + count)],
                pa.timestamp("us", tz="UTC"),
            ),
            "weight_kg": pa.array(weights, pa.float64()),
            "kind": pa.array([None if i % 5 == 0 else "parcel" for i in range(start, start + count)], pa.string()),
            "pieces": pa.array([i % 4 for i in range(start, start + count)], pa.int64()),
        }
    )


def _reader(table: pa.Table) -> pa.RecordBatchReader:
    """The rows in uneven batches, some of them empty."""
    empty = pa.RecordBatch.from_pylist([], schema=table.schema)
    batches = [empty]
    for batch in table.to_batches(max_chunksize=13):
        batches += [batch, empty]
    return pa.RecordBatchReader.from_batches(table.schema, batches)


def _data_files(port: Any) -> set[Path]:
    return set((Path(port.table().metadata.location.removeprefix("file://")) / "data").rglob("*.parquet"))


def test_a_streamed_first_write_gives_the_results_of_checking_the_written_files(
    gated: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(datafiles, "ROW_GROUP_ROWS", 17)  # many row groups, files and partials
    monkeypatch.setattr(datafiles, "TARGET_FILE_BYTES", 1)
    result = gated.write(_reader(_rows(0, 200)))
    assert result.files_added > 5
    assert gated.lake._gate_for(gated).tap(gated.table(), "append") is not None
    checked = gated.check()  # the pass over the files, whole table
    assert repr(result.quality.results) == repr(checked.results)
    assert checked.results[1].unexpected_count == 45  # NULL and NaN weights: missing, as pandas sees them


def test_a_streamed_append_gives_the_results_of_checking_the_new_files(
    gated: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(datafiles, "ROW_GROUP_ROWS", 23)
    monkeypatch.setattr(datafiles, "TARGET_FILE_BYTES", 1)
    gated.write(_rows(0, 100))
    staged = gated.stage(_reader(_rows(100, 150)))
    try:
        again = staged.gate.check(staged.table, staged.base_id, staged.prepared.change, staged.stamps)
        assert repr(staged.report.results) == repr(again.results)
        assert staged.report.basis == again.basis  # the incremental stamp (`meshlake.quality`) is unchanged
        assert staged.report.basis and staged.report.basis["aggregates"]
        assert any(r.scope == "new_rows" for r in again.results)
    finally:
        from meshlake.write.flow import discard

        discard(staged)


def test_a_writer_shows_its_observer_every_row_group_of_every_file(gated: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(datafiles, "ROW_GROUP_ROWS", 10)
    table = gated.table()
    tap = gated.lake._gate_for(gated).tap(table, "append")
    rows = _rows(0, 120)
    writer = DataFileWriter(table.metadata, table.io, observer=tap)
    conformer = Conformer(schema_to_pyarrow(table.schema(), include_field_ids=True), ADDRESS)
    files = writer.write_all(conformer.conform(_reader(rows)))
    partials = tap.partials()
    assert partials is not None and partials.row_count == rows.num_rows == sum(f.record_count for f in files)
    assert partials.rows.num_rows > len(files) > 1  # one row of partials per row group, several per file
    writer.abort()


def test_a_failing_streamed_gate_leaves_main_unchanged(gated: Any) -> None:
    gated.write(_rows(0, 20))
    before = main_snapshot_id(gated)
    bad = _rows(20, 20).set_column(3, "kind", pa.array(["crate"] * 20, pa.string()))
    with pytest.raises(QualityGateError) as stopped:
        gated.write(_reader(bad))
    assert [r.expectation for r in stopped.value.report.failed] == ["expect_column_values_to_be_in_set"]
    assert stopped.value.report.failed[0].unexpected_count == 20
    assert main_snapshot_id(gated) == before


def test_a_batch_breaking_the_contract_mid_write_leaves_no_file_and_main_unchanged(gated: Any) -> None:
    gated.write(_rows(0, 20))
    before, files = main_snapshot_id(gated), _data_files(gated)
    good, broken = _rows(20, 40), _rows(60, 5).set_column(0, "shipment_id", pa.nulls(5, pa.string()))
    source = pa.RecordBatchReader.from_batches(good.schema, [*good.to_batches(max_chunksize=10), *broken.to_batches()])
    with pytest.raises(ContractViolationError):
        gated.write(source)
    assert main_snapshot_id(gated) == before
    assert _data_files(gated) == files


def _padded(start: int, count: int) -> pa.Table:
    """`_rows` with ids that sort as they are written: each row group's keys form a run apart from the others'."""
    ids = pa.array([f"s{i:05d}" for i in range(start, start + count)], pa.string())
    return _rows(start, count).set_column(0, "shipment_id", ids)


def _gate_statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    from meshlake.quality import native

    statements: list[str] = []
    real = native._one

    def recording(con: Any, sql: str, *, arrow: bool = True) -> dict[str, Any]:
        statements.append(sql)
        return real(con, sql, arrow=arrow)

    monkeypatch.setattr(native, "_one", recording)
    return statements


def test_keys_proved_distinct_while_streaming_are_not_read_back(gated: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(datafiles, "ROW_GROUP_ROWS", 10)  # row groups in two lanes, several files
    monkeypatch.setattr(datafiles, "TARGET_FILE_BYTES", 1)
    statements = _gate_statements(monkeypatch)
    result = gated.write(_reader(_padded(0, 95)))
    assert result.files_added > 5 and result.quality.passed
    assert statements and not any("DISTINCT" in sql or "bitstring_agg" in sql for sql in statements)
    assert repr(result.quality.results) == repr(gated.check().results)


@pytest.mark.parametrize("duplicate", [(9, 10), (3, 87)], ids=["adjacent-row-groups", "far-apart-files"])
def test_a_duplicate_key_in_two_row_groups_written_in_parallel_fails_the_streamed_gate(
    gated: Any, monkeypatch: pytest.MonkeyPatch, duplicate: tuple[int, int]
) -> None:
    monkeypatch.setattr(datafiles, "ROW_GROUP_ROWS", 10)
    monkeypatch.setattr(datafiles, "TARGET_FILE_BYTES", 1)
    first, second = duplicate
    rows = _padded(0, 95)
    ids = rows.column("shipment_id").to_pylist()
    ids[second] = ids[first]
    with pytest.raises(QualityGateError) as stopped:
        gated.write(_reader(rows.set_column(0, "shipment_id", pa.array(ids, pa.string()))))
    assert [(r.expectation, r.unexpected_count) for r in stopped.value.report.failed] == [
        ("expect_column_values_to_be_unique", 2)
    ]
    assert main_snapshot_id(gated) is None


def test_an_append_of_keys_proved_distinct_is_checked_without_reading_its_files(
    gated: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The incremental uniqueness check of an append (base count + new keys) merges the new keys' counts and takes
    their distinct count from the proof."""
    monkeypatch.setattr(datafiles, "ROW_GROUP_ROWS", 10)
    monkeypatch.setattr(datafiles, "TARGET_FILE_BYTES", 1)
    port = gated
    port.write(_padded(0, 40))
    statements = _gate_statements(monkeypatch)
    staged = port.stage(_reader(_padded(40, 55)))
    try:
        assert statements and not any("DISTINCT" in sql for sql in statements)
        assert "40 + CAST(sum(" in statements[0]  # the base's keys + the new keys, merged
        assert staged.report.results[0].method == "incremental" and staged.report.passed
        again = staged.gate.check(staged.table, staged.base_id, staged.prepared.change, staged.stamps)
        assert any("DISTINCT" in sql for sql in statements)  # the same check without partials counts them
        assert repr(staged.report.results) == repr(again.results)
        assert staged.report.basis == again.basis
    finally:
        from meshlake.write.flow import discard

        discard(staged)


class _Threads:
    """An observer noting the threads that encoded the row groups."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def observe(self, rows: pa.Table) -> None:
        self.seen.add(threading.current_thread().name)


def test_a_writer_without_threads_encodes_in_the_calling_thread_the_same_files(gated: Any) -> None:
    table = gated.table()
    rows = _rows(0, 50)
    conformer = Conformer(schema_to_pyarrow(table.schema(), include_field_ids=True), ADDRESS)
    found: dict[bool, tuple[set[str], list[Any]]] = {}
    for threads in (True, False):
        observer = _Threads()
        writer = DataFileWriter(table.metadata, table.io, observer=observer, threads=threads)
        files = writer.write_all(conformer.conform(_reader(rows)))
        found[threads] = (observer.seen, files)
        writer.abort()
    assert found[False][0] == {threading.current_thread().name}
    assert threading.current_thread().name not in found[True][0]

    def by_partition(files: list[Any]) -> dict[str, tuple[Any, ...]]:
        return {repr(f.partition): (f.record_count, f.lower_bounds, f.upper_bounds, f.null_value_counts) for f in files}

    threaded, inline = by_partition(found[True][1]), by_partition(found[False][1])
    assert inline == threaded and sum(counts[0] for counts in inline.values()) == 50
