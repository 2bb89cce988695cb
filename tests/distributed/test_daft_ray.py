"""Daft on Ray and Ray Data read and write ports through meshlake, with every guarantee intact.

Reads are pinned to a snapshot and agree with meshlake's own; writes run in parallel on Ray's workers with
meshlake's conformer and file writer, and the driver gates the files and commits one stamped snapshot. A contract
violation on one worker stops the write with meshlake's own error and leaves no file behind; a failed gate
quarantines. Ray listens on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import meshlake as ml
from meshlake.errors import ContractViolationError, QualityGateError
from tests.conftest import DescriptorWriter, main_snapshot_id
from tests.distributed.conftest import ADDRESS, UNIQUE
from tests.distributed.conftest import shipment_rows as _rows

pytest.importorskip("daft", reason="Daft is not installed here: run through .ci/distributed-venv.sh's venv")
pytest.importorskip("ray", reason="Ray is not installed here: run through .ci/distributed-venv.sh's venv")


@pytest.fixture
def port(ray_cluster: Any, lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter) -> Any:
    descriptor["outputs"][0]["expectations"] = UNIQUE
    lake.deploy(write_descriptor(descriptor))
    return lake.port(ADDRESS)


def _frame(table: pa.Table, partitions: int = 4) -> Any:
    import daft

    return daft.from_arrow(table).repartition(partitions)


def _data_files(port: Any) -> set[str]:
    root = Path(port.table().metadata.location.removeprefix("file://")) / "data"
    return {str(p) for p in root.rglob("*.parquet")}


def _sorted(table: pa.Table) -> list[dict[str, Any]]:
    return table.select(["shipment_id", "shipped_at", "weight_kg", "customer_email"]).sort_by("shipment_id").to_pylist()


# -- Ray's listeners -----------------------------------------------------------------------------------------------


def test_ray_listens_on_loopback_only(ray_cluster: Any) -> None:
    import psutil

    ours = {os.getpid(), *(child.pid for child in psutil.Process().children(recursive=True))}
    listing = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    found = []
    for line in listing.splitlines():
        pids = {int(pid) for pid in re.findall(r"pid=(\d+)", line)}
        if pids & ours:
            found.append(line.split()[3])
    assert found, f"no listener of Ray's processes found in:\n{listing}"
    loopback = ("127.0.0.1:", "[::1]:", "[::ffff:127.0.0.1]:")
    elsewhere = [address for address in found if not address.startswith(loopback)]
    assert not elsewhere, f"Ray listens off loopback: {elsewhere}"


# -- reads ---------------------------------------------------------------------------------------------------------


def test_to_daft_and_to_ray_read_each_snapshot_as_meshlake_does(port: Any) -> None:
    first = port.write(_rows(["a", "b", "c"]))
    port.write(_rows(["d", "e"], day=2))
    port.tag("v1")

    latest = port.to_daft()
    pinned = port.at(first.snapshot_id).to_daft()
    ray_rows = port.to_ray().to_arrow_refs()

    import ray

    assert _sorted(latest.to_arrow()) == _sorted(port.to_arrow())
    assert _sorted(pinned.to_arrow()) == _sorted(port.at(first.snapshot_id).to_arrow())
    assert _sorted(port.at("v1").to_daft().to_arrow()) == _sorted(port.to_arrow())
    assert _sorted(pa.concat_tables(ray.get(ray_rows))) == _sorted(port.to_arrow())


def test_to_daft_and_to_ray_apply_merge_on_read_deletes_and_time_travel_before_them(port: Any) -> None:
    first = port.write(_rows([f"s{i}" for i in range(10)]))
    port.write(_rows(["s1", "new"], weight=9.0), mode="upsert", write_mode="merge-on-read")
    deleted = port.delete("shipment_id = 's4'", write_mode="merge-on-read")
    assert deleted.write_mode == "merge-on-read"

    import ray

    assert _sorted(port.to_daft().to_arrow()) == _sorted(port.to_arrow())
    assert len(port.to_arrow()) == 10
    assert _sorted(port.at(first.snapshot_id).to_daft().to_arrow()) == _sorted(port.at(first.snapshot_id).to_arrow())
    assert _sorted(pa.concat_tables(ray.get(port.to_ray().to_arrow_refs()))) == _sorted(port.to_arrow())


def test_to_daft_pushes_predicates_down_to_the_pinned_snapshot(port: Any) -> None:
    import daft

    port.write(_rows(["a", "b", "c"]))
    frame = port.to_daft().where(daft.col("weight_kg") > 1.5).select("shipment_id")

    assert sorted(frame.to_pydict()["shipment_id"]) == ["b", "c"]


def test_to_daft_of_an_unrestricted_reader_plans_exactly_dafts_own_iceberg_scan(port: Any) -> None:
    import daft

    port.write(_rows(["a", "b"]))
    port.write(_rows(["c"]))
    snapshot = port.latest()

    ours = snapshot.to_daft()
    own = daft.read_iceberg(port.table(), snapshot_id=snapshot.snapshot_id)

    # No projection, cast or in-memory copy on top: the same scan of the same snapshot.
    assert ours.schema() == own.schema()
    assert ours._builder.pretty_print() == own._builder.pretty_print()
    assert "IcebergDataSource" in ours._builder.pretty_print()


# -- writes through the Daft sink ----------------------------------------------------------------------------------


def test_write_daft_commits_one_stamped_gated_snapshot(port: Any) -> None:
    port.write(_rows(["seed"]))
    before = len(port.history())

    result = port.write_daft(_frame(_rows([f"s{i:03d}" for i in range(200)])), stamps={"engine": "daft"})

    history = port.history()
    assert len(history) == before + 1
    assert result.rows == 200 and result.files_added >= 1
    head = history[-1]
    assert (head.snapshot_id, head.rows_total, head.quality, head.foreign) == (result.snapshot_id, 201, "passed", False)
    assert port.latest().stamps["engine"] == "daft"
    assert result.quality is not None and result.quality.passed


def test_daft_sink_overwrite_replaces_every_row_in_one_snapshot(port: Any) -> None:
    port.write(_rows(["old-1", "old-2"]))
    sink = port.daft_sink(mode="overwrite")

    _frame(_rows([f"n{i}" for i in range(50)])).write_sink(sink)

    assert sink.result.mode == "overwrite" and sink.result.rows_deleted == 2
    assert sorted(port.to_arrow().column("shipment_id").to_pylist()) == sorted(f"n{i}" for i in range(50))


def test_a_contract_violation_on_one_worker_aborts_with_meshlakes_error_and_no_orphan(port: Any) -> None:
    port.write(_rows(["seed"]))
    head, files = main_snapshot_id(port), _data_files(port)
    ids = [f"s{i:03d}" for i in range(100)]
    weights = pa.array([float(i) if i != 77 else None for i in range(100)], pa.float64())
    bad = _rows(ids).set_column(0, "shipment_id", pa.array([i if i != "s077" else None for i in ids]))
    bad = bad.set_column(2, "weight_kg", weights)

    with pytest.raises(ContractViolationError) as raised:
        port.write_daft(_frame(bad))

    assert raised.value.address == ADDRESS and raised.value.column == "shipment_id"
    assert main_snapshot_id(port) == head
    assert _data_files(port) == files


def test_a_schema_the_contract_refuses_is_stopped_on_the_driver(port: Any) -> None:
    port.write(_rows(["seed"]))
    head, files = main_snapshot_id(port), _data_files(port)

    with pytest.raises(ContractViolationError) as raised:
        port.write_daft(_frame(_rows(["x"]).append_column("extra", pa.array([1]))))

    assert raised.value.column == "extra"
    assert main_snapshot_id(port) == head and _data_files(port) == files


def test_write_daft_writes_one_file_per_partition_not_one_per_morsel(port: Any) -> None:
    import daft

    # Two partitions of 150,000 rows generated on the workers: two Daft morsels each (131,072 rows by default).
    frame = daft.range(0, 300_000, partitions=2).select(
        daft.col("id").cast(daft.DataType.string()).alias("shipment_id"),
        daft.lit(datetime(2026, 11, 1, tzinfo=UTC)).alias("shipped_at"),
        daft.col("id").cast(daft.DataType.float64()).alias("weight_kg"),
    )

    result = port.write_daft(frame)

    assert (result.rows, result.files_added) == (300_000, 2)


def test_write_daft_writes_a_large_partition_in_as_many_files_as_its_workers_lanes(port: Any) -> None:
    import daft

    from meshlake.distributed.staging import MIN_LANE_ROWS, lanes_for

    rows = 2 * MIN_LANE_ROWS  # one partition, one sink call: Daft runs a sink's calls one after another
    frame = daft.range(0, rows, partitions=1).select(
        daft.col("id").cast(daft.DataType.string()).alias("shipment_id"),
        daft.lit(datetime(2026, 11, 1, tzinfo=UTC)).alias("shipped_at"),
        daft.col("id").cast(daft.DataType.float64()).alias("weight_kg"),
    )

    result = port.write_daft(frame)

    lanes = lanes_for(rows)  # the worker is this machine: one lane per two of its cores
    assert (result.rows, result.files_added) == (rows, lanes)
    assert sorted(task.file.record_count for task in port.table().scan().plan_files()) == [rows // lanes] * lanes


@pytest.mark.parametrize("engine", ["daft", "ray"])
def test_a_distributed_write_reports_its_workers_phases_added_up(port: Any, engine: str) -> None:
    rows = _rows([f"p{i:03d}" for i in range(120)])
    if engine == "daft":
        result = port.write_daft(_frame(rows, partitions=3))
    else:
        import ray.data

        result = port.write_ray(ray.data.from_arrow(rows).repartition(3))

    worker = {name for name in result.phases if name.startswith("worker ")}
    phases = ("receive", "conform", "encode", "metrics", "close", "call")
    assert worker == {f"worker {n}" for n in phases} | {f"worker {n} cpu" for n in phases}
    assert result.phases["worker call"] >= result.phases["worker encode"] > 0  # encoding runs within the calls
    assert result.rows == 120 and "commit" in result.phases and result.phases["gate"] > 0


def test_a_worker_refuses_a_later_batch_whose_columns_the_contract_does_not_have(port: Any) -> None:
    from meshlake.distributed.driver import DistributedWrite
    from meshlake.distributed.staging import write_partition

    spec = DistributedWrite(port).spec
    good = _rows(["a"]).to_batches()[0]
    extra = _rows(["b"]).append_column("extra", pa.array([1])).to_batches()[0]

    with pytest.raises(ContractViolationError) as raised:
        write_partition(spec, [good, extra])

    assert raised.value.column == "extra"
    assert not [f for f in _data_files(port) if Path(f).name.startswith(spec.file_prefix)]


def test_a_failed_gate_quarantines_the_distributed_write(port: Any) -> None:
    port.write(_rows(["dup-1", "dup-2"]))
    head = main_snapshot_id(port)

    with pytest.raises(QualityGateError) as raised:
        port.write_daft(_frame(_rows(["dup-1", "fresh"])))

    assert raised.value.quarantine_branch and raised.value.quarantine_branch in port.table().metadata.refs
    assert main_snapshot_id(port) == head


def test_write_daft_replace_swaps_the_rows_matching_where_in_one_snapshot(port: Any) -> None:
    port.write(_rows(["d1-a", "d1-b"], day=1))
    port.write(_rows(["d2-a", "d2-b"], day=2))
    where = "shipped_at >= TIMESTAMPTZ '2026-11-02T00:00:00Z'"

    result = port.write_daft(_frame(_rows([f"d2-n{i}" for i in range(20)], day=2)), mode="replace", where=where)

    assert (result.mode, result.rows_deleted, result.rows) == ("replace", 2, 20)
    kept = sorted(i for i in port.to_arrow().column("shipment_id").to_pylist() if not i.startswith("d2-n"))
    assert kept == ["d1-a", "d1-b"]


def test_write_daft_upsert_updates_and_inserts_by_primary_key(port: Any) -> None:
    port.write(_rows(["a", "b"]))

    result = port.write_daft(_frame(_rows(["b", "c", "d"], weight=50.0), partitions=3), mode="upsert")

    assert (result.rows_updated, result.rows_inserted) == (1, 2)
    weights = {r["shipment_id"]: r["weight_kg"] for r in port.to_arrow().to_pylist()}
    assert weights == {"a": 1.0, "b": 50.0, "c": 51.0, "d": 52.0}


@pytest.mark.parametrize("mode", ["delete", "sideways"])
def test_distributed_writes_refuse_modes_they_do_not_run(port: Any, mode: str) -> None:
    port.write(_rows(["seed"]))
    head = main_snapshot_id(port)

    with pytest.raises(ValueError, match="supports mode"):
        port.daft_sink(mode=mode)

    assert main_snapshot_id(port) == head


# -- writes through the Ray Datasink -------------------------------------------------------------------------------


def test_write_ray_commits_one_gated_snapshot(port: Any) -> None:
    import ray.data

    port.write(_rows(["seed"]))
    before = len(port.history())
    dataset = ray.data.from_arrow(_rows([f"r{i:03d}" for i in range(120)])).repartition(3)

    result = port.write_ray(dataset)

    assert len(port.history()) == before + 1
    assert result.rows == 120 and port.history()[-1].rows_total == 121
    assert not port.history()[-1].foreign


def test_a_contract_violation_in_a_ray_task_aborts_with_meshlakes_error_and_no_orphan(port: Any) -> None:
    import ray.data

    port.write(_rows(["seed"]))
    head, files = main_snapshot_id(port), _data_files(port)
    ids: list[str | None] = [f"r{i:03d}" for i in range(90)]
    ids[45] = None
    bad = _rows([i or "" for i in ids]).set_column(0, "shipment_id", pa.array(ids, pa.string()))

    with pytest.raises(ContractViolationError) as raised:
        port.write_ray(ray.data.from_arrow(bad).repartition(3))

    assert raised.value.column == "shipment_id"
    assert main_snapshot_id(port) == head
    assert _data_files(port) == files


MEASURED = [
    *UNIQUE,
    {"expect_column_values_to_match_regex": {"column": "shipment_id", "regex": "^m[0-9]+$", "mostly": 0.5}},
    {"expect_column_values_to_be_between": {"column": "weight_kg", "min_value": 0, "max_value": 100, "mostly": 0.3}},
    {"expect_column_max_to_be_between": {"column": "weight_kg", "max_value": 1000}},
]


@pytest.mark.parametrize("engine", ["daft", "ray"])
def test_workers_partials_merged_on_the_driver_give_the_results_of_checking_the_files(
    ray_cluster: Any, lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter, engine: str
) -> None:
    descriptor["outputs"][0]["expectations"] = MEASURED
    lake.deploy(write_descriptor(descriptor))
    port = lake.port(ADDRESS)
    rows = _rows([f"m{i}" if i % 4 else f"x{i}" for i in range(300)], weight=-20.0)
    if engine == "daft":
        result = port.write_daft(_frame(rows, partitions=5))
    else:
        import ray.data

        result = port.write_ray(ray.data.from_arrow(rows).repartition(3))

    assert result.quality is not None
    assert repr(result.quality.results) == repr(port.check().results)  # the pass over the files, whole table
    assert [r.unexpected_count for r in result.quality.results[:3]] == [0, 75, 199]
