"""A sink call written as several files at once (`write_partition(..., lanes=n)`), with every guarantee kept.

Daft runs a Python sink's calls one after another, so a call that holds a large partition cuts it into contiguous
slices written by as many threads. These tests need no engine: a "worker" is a plain call.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import meshlake as ml
from meshlake.distributed.driver import DistributedWrite
from meshlake.distributed.staging import MAX_LANES, MIN_LANE_ROWS, lanes_for, write_partition
from meshlake.errors import ContractViolationError
from meshlake.write import datafiles
from tests.conftest import DescriptorWriter, main_snapshot_id
from tests.distributed.conftest import ADDRESS, UNIQUE
from tests.distributed.conftest import shipment_rows as _rows


@pytest.fixture
def port(lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter) -> Any:
    descriptor["outputs"][0]["expectations"] = UNIQUE
    lake.deploy(write_descriptor(descriptor))
    return lake.port(ADDRESS)


def _run_files(port: Any, prefix: str) -> list[Path]:
    root = Path(port.table().metadata.location.removeprefix("file://")) / "data"
    return [p for p in root.rglob("*.parquet") if p.name.startswith(prefix)]


def _ids(count: int) -> list[str]:
    return [f"s{i:07d}" for i in range(count)]  # in key order, as sequential ids arrive


def test_lanes_are_one_per_two_cores_of_at_least_min_lane_rows_and_at_most_max_lanes() -> None:
    assert lanes_for(MIN_LANE_ROWS * 100, cores=2) == 1  # the engine's own work keeps the other core busy
    assert lanes_for(MIN_LANE_ROWS * 2 - 1, cores=8) == 1
    assert lanes_for(MIN_LANE_ROWS * 2, cores=8) == 2
    assert lanes_for(MIN_LANE_ROWS * 100, cores=6) == 3
    assert lanes_for(MIN_LANE_ROWS * 100, cores=64) == MAX_LANES
    assert lanes_for(0, cores=4) == 1


def test_a_call_written_in_lanes_is_one_file_per_lane_with_every_row_and_the_gates_partials(port: Any) -> None:
    write = DistributedWrite(port)
    table = _rows(_ids(9))

    share = write_partition(write.spec, table.to_batches(max_chunksize=2), lanes=3)

    assert [f.record_count for f in share.files] == [3, 3, 3]
    assert share.rows == 9
    assert share.partials is not None and share.partials.row_count == 9
    assert share.partials.distinct_keys(("shipment_id",)) == 9  # contiguous slices keep the sorted-run proof
    result = write.commit(share.files, share.rows, [share])
    assert (result.rows, result.files_added) == (9, 3)
    assert sorted(port.latest().to_arrow().column("shipment_id").to_pylist()) == _ids(9)


def test_a_repeated_key_across_lanes_is_not_proven_distinct(port: Any) -> None:
    write = DistributedWrite(port)
    table = _rows(["a", "b", "c", "a", "d", "e"])  # lane 1: a b c, lane 2: a d e — the runs overlap

    share = write_partition(write.spec, table.to_batches(), lanes=2)

    assert share.partials is not None and share.partials.distinct_keys(("shipment_id",)) is None


def test_a_contract_violation_in_a_call_written_in_lanes_writes_no_file(port: Any) -> None:
    write = DistributedWrite(port)
    good = _rows(_ids(4)).to_batches()[0]
    extra = _rows(["x"]).append_column("extra", pa.array([1])).to_batches()[0]

    with pytest.raises(ContractViolationError) as raised:
        write_partition(write.spec, [good, extra], lanes=2)

    assert raised.value.column == "extra"
    assert _run_files(port, write.spec.file_prefix) == []


def test_a_lane_that_fails_takes_the_files_of_every_lane_with_it(port: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    head = main_snapshot_id(port)
    write = DistributedWrite(port)
    encode = datafiles.DataFileWriter._encode
    lock, calls = threading.Lock(), [0]

    def second_fails(self: datafiles.DataFileWriter, writer: Any, table: pa.Table) -> None:
        with lock:
            calls[0] += 1
            fail = calls[0] == 2
        if fail:
            raise OSError("disk full")
        encode(self, writer, table)

    monkeypatch.setattr(datafiles.DataFileWriter, "_encode", second_fails)

    with pytest.raises(OSError, match="disk full"):
        write_partition(write.spec, _rows(_ids(6)).to_batches(), lanes=2)

    assert _run_files(port, write.spec.file_prefix) == []
    assert main_snapshot_id(port) == head


def test_a_share_says_where_its_workers_time_went_in_every_lane(port: Any) -> None:
    from meshlake.write.phases import PhaseClock

    write = DistributedWrite(port)
    clock = PhaseClock()
    with clock.phase("receive"):
        batches = _rows(_ids(8)).to_batches(max_chunksize=3)

    share = write_partition(write.spec, batches, lanes=2, clock=clock)

    for name in ("receive", "conform", "encode", "metrics", "close"):
        assert share.phases[f"worker {name}"] > 0, name
        assert share.phases[f"worker {name} cpu"] >= 0, name
    other = write_partition(write.spec, _rows(["z1", "z2"]).to_batches())
    result = write.commit(share.files + other.files, share.rows + other.rows, [share, other])
    added = share.phases["worker encode"] + other.phases["worker encode"]
    assert result.phases["worker encode"] == pytest.approx(added)  # added up over the shares
    assert "commit" in result.phases and result.rows == 10
    assert result.phases["gate"] > 0  # the driver's gate over the staged files (the port has expectations)


def _row_groups(files: list[Any]) -> list[list[int]]:
    import pyarrow.parquet as pq

    found = []
    for data_file in files:
        meta = pq.ParquetFile(data_file.file_path.removeprefix("file://")).metadata
        found.append([meta.row_group(i).num_rows for i in range(meta.num_row_groups)])
    return found


def test_a_worker_writes_its_calls_rows_as_one_row_group_with_field_ids(
    port: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow.parquet as pq

    from meshlake.distributed import staging

    monkeypatch.setattr(datafiles, "ROW_GROUP_ROWS", 3)  # a local write would cut 9 rows into 3 row groups
    monkeypatch.setattr(staging, "WORKER_ROW_GROUP_ROWS", 6)
    write = DistributedWrite(port)

    share = write_partition(write.spec, _rows(_ids(9)).to_batches(max_chunksize=2))

    assert _row_groups(share.files) == [[6, 3]]
    schema = pq.read_schema(share.files[0].file_path.removeprefix("file://"))
    field_ids = [int(f.metadata[b"PARQUET:field_id"]) for f in schema]
    assert field_ids == [f.field_id for f in port.table().schema().fields]
    assert share.partials is not None and share.partials.row_count == 9  # measured on both row groups
    result = write.commit(share.files, share.rows, [share])
    assert result.quality is not None and result.quality.passed
    assert sorted(port.latest().to_arrow().column("shipment_id").to_pylist()) == _ids(9)


def test_the_tables_row_group_limit_caps_a_workers_row_groups(port: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from meshlake.distributed import staging

    monkeypatch.setattr(staging, "WORKER_ROW_GROUP_ROWS", 6)
    with port.table().transaction() as transaction:
        transaction.set_properties({"write.parquet.row-group-limit": "4"})
    write = DistributedWrite(port)

    share = write_partition(write.spec, _rows(_ids(9)).to_batches(max_chunksize=2))

    assert _row_groups(share.files) == [[4, 2, 3]]
    assert write.commit(share.files, share.rows, [share]).rows == 9
