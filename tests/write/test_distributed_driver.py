"""The engine-free halves of a distributed write: what workers write, what the driver gates, commits or deletes.

`meshlake.distributed.staging` and `.driver` need no Daft or Ray: here "workers" are plain calls, so every
failure can be placed exactly (a worker that already finished, one that breaks the contract). The engines'
sinks over them are tested in tests/distributed (through the distributed venv).
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import meshlake as ml
from meshlake.distributed.driver import DistributedWrite
from meshlake.distributed.staging import Share, write_partition
from meshlake.errors import (
    AccessDeniedError,
    ContractViolationError,
    InvalidFilterError,
    InvalidNameError,
    MeshlakeError,
    QualityGateError,
)
from meshlake.quality.metrics import MetricPartials
from meshlake.query import history as history_module
from meshlake.query.provenance import _CACHE
from tests.conftest import DescriptorWriter, main_snapshot_id

ADDRESS = "logistics.shipments.daily"


def _rows(ids: Sequence[str | None]) -> pa.Table:
    return pa.table(
        {
            "shipment_id": pa.array(ids, pa.string()),
            "shipped_at": pa.array([datetime(2026, 11, 1, tzinfo=UTC)] * len(ids), pa.timestamp("us", tz="UTC")),
            "weight_kg": [1.0] * len(ids),
        }
    )


@pytest.fixture
def unique_port(lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter) -> Any:
    descriptor["outputs"][0]["expectations"] = [{"expect_column_values_to_be_unique": {"column": "shipment_id"}}]
    lake.deploy(write_descriptor(descriptor))
    return lake.port(ADDRESS)


def _files(port: Any) -> set[Path]:
    return set((Path(port.table().metadata.location.removeprefix("file://")) / "data").rglob("*.parquet"))


def _worker(write: DistributedWrite, table: pa.Table) -> tuple[list[Any], int]:
    """A worker as an engine runs it: the spec crosses a pickle, the batches are its share."""
    share = _share(write, table)
    return share.files, share.rows


def _share(write: DistributedWrite, table: pa.Table) -> Share:
    """All a worker returns (files, rows, the gate's partials), as it crosses back to the driver."""
    spec = pickle.loads(pickle.dumps(write.spec))
    share: Share = pickle.loads(pickle.dumps(write_partition(spec, table.to_batches(max_chunksize=2))))
    return share


def test_the_driver_commits_what_several_workers_wrote_as_one_stamped_snapshot(unique_port: Any) -> None:
    unique_port.write(_rows(["seed"]))
    write = DistributedWrite(unique_port, mode="append", stamps={"engine": "test"})
    shares = [_worker(write, _rows([f"w{n}-{i}" for i in range(5)])) for n in range(3)]

    result = write.commit([f for files, _ in shares for f in files], sum(rows for _, rows in shares))

    _CACHE.clear()
    history_module._INFOS.clear()
    head = unique_port.history()[-1]
    assert (result.rows, head.rows_total, head.quality, head.foreign) == (15, 16, "passed", False)
    assert all(Path(f.file_path).name.startswith(write.spec.file_prefix) for files, _ in shares for f in files)
    assert unique_port.latest().stamps["engine"] == "test"


def test_a_worker_breaking_the_contract_deletes_its_files_and_abort_deletes_the_others(unique_port: Any) -> None:
    unique_port.write(_rows(["seed"]))
    head, before = main_snapshot_id(unique_port), _files(unique_port)
    write = DistributedWrite(unique_port)
    finished, _ = _worker(write, _rows(["a", "b", "c"]))
    assert all(Path(f.file_path.removeprefix("file://")).exists() for f in finished)

    with pytest.raises(ContractViolationError) as raised:
        _worker(write, _rows(["d", "e", "f", None]))
    removed = write.abort()

    assert raised.value.column == "shipment_id"
    assert sorted(removed) == sorted(f.file_path.removeprefix("file://") for f in finished)
    assert _files(unique_port) == before
    assert main_snapshot_id(unique_port) == head


def test_a_distributed_write_the_gate_refuses_is_quarantined_not_published(unique_port: Any) -> None:
    unique_port.write(_rows(["dup"]))
    head = main_snapshot_id(unique_port)
    write = DistributedWrite(unique_port)
    files, rows = _worker(write, _rows(["dup", "new"]))

    with pytest.raises(QualityGateError) as raised:
        write.commit(files, rows)

    assert raised.value.quarantine_branch in unique_port.table().metadata.refs
    assert main_snapshot_id(unique_port) == head


def test_an_overwrite_through_the_driver_replaces_every_row(unique_port: Any) -> None:
    unique_port.write(_rows(["old-1", "old-2"]))
    write = DistributedWrite(unique_port, mode="overwrite")
    files, rows = _worker(write, _rows(["new"]))

    result = write.commit(files, rows)

    assert (result.mode, result.rows_deleted) == ("overwrite", 2)
    assert unique_port.to_arrow().column("shipment_id").to_pylist() == ["new"]


def _day_rows(ids: list[str], day: int) -> pa.Table:
    return _rows(ids).set_column(
        1, "shipped_at", pa.array([datetime(2026, 11, day, tzinfo=UTC)] * len(ids), pa.timestamp("us", tz="UTC"))
    )


REPLACED = "shipped_at >= TIMESTAMPTZ '2026-11-02T00:00:00Z'"


def test_a_replace_through_the_driver_swaps_only_the_rows_matching_where(unique_port: Any) -> None:
    unique_port.write(_day_rows(["d1-a", "d1-b"], 1))
    unique_port.write(_day_rows(["d2-a", "d2-b"], 2))
    write = DistributedWrite(unique_port, mode="replace", where=REPLACED)
    files, rows = _worker(write, _day_rows(["d2-new"], 2))

    result = write.commit(files, rows)

    assert (result.mode, result.rows_deleted, result.rows) == ("replace", 2, 1)
    assert sorted(unique_port.to_arrow().column("shipment_id").to_pylist()) == ["d1-a", "d1-b", "d2-new"]


def test_a_worker_writing_a_row_outside_where_stops_the_replace(unique_port: Any) -> None:
    unique_port.write(_day_rows(["d2-a"], 2))
    head, before = main_snapshot_id(unique_port), _files(unique_port)
    write = DistributedWrite(unique_port, mode="replace", where=REPLACED)

    with pytest.raises(ContractViolationError) as raised:
        _worker(write, _day_rows(["d1-late"], 1))
    write.abort()

    assert raised.value.address == ADDRESS
    assert main_snapshot_id(unique_port) == head and _files(unique_port) == before


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"mode": "replace"}, ValueError),
        ({"mode": "append", "where": REPLACED}, ValueError),
        ({"mode": "replace", "where": "shipped_at >>> 1"}, InvalidFilterError),
        ({"mode": "replace", "where": "no_such_column = 1"}, InvalidFilterError),
    ],
)
def test_a_distributed_replace_refuses_a_missing_or_bad_where_before_any_worker(
    unique_port: Any, options: dict[str, Any], error: type
) -> None:
    unique_port.write(_rows(["seed"]))
    head = main_snapshot_id(unique_port)

    with pytest.raises(error):
        DistributedWrite(unique_port, **options)

    assert main_snapshot_id(unique_port) == head


def test_an_upsert_through_the_driver_updates_and_inserts_by_primary_key(unique_port: Any) -> None:
    unique_port.write(_rows(["a", "b"]))
    write = DistributedWrite(unique_port, mode="upsert")
    first = _worker(write, _rows(["a"]).set_column(2, "weight_kg", pa.array([9.5])))
    second = _worker(write, _rows(["c"]))

    result = write.commit([*first[0], *second[0]], first[1] + second[1])

    assert (result.rows_updated, result.rows_inserted) == (1, 1)
    rows = {r["shipment_id"]: r["weight_kg"] for r in unique_port.to_arrow().to_pylist()}
    assert rows == {"a": 9.5, "b": 1.0, "c": 1.0}


def test_an_upsert_whose_workers_repeat_a_key_is_refused_and_leaves_nothing(unique_port: Any) -> None:
    unique_port.write(_rows(["a"]))
    head, before = main_snapshot_id(unique_port), _files(unique_port)
    write = DistributedWrite(unique_port, mode="upsert")
    first, second = _worker(write, _rows(["k"])), _worker(write, _rows(["k"]))

    with pytest.raises(ContractViolationError) as raised:
        write.commit([*first[0], *second[0]], 2)

    assert raised.value.column == "shipment_id"
    assert main_snapshot_id(unique_port) == head and _files(unique_port) == before


def test_an_upsert_needs_a_primary_key_before_any_worker_starts(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    del descriptor["outputs"][0]["primary_key"]
    lake.deploy(write_descriptor(descriptor))

    with pytest.raises(ContractViolationError) as raised:
        DistributedWrite(lake.port(ADDRESS), mode="upsert")

    assert raised.value.address == ADDRESS


@pytest.mark.parametrize("mode", ["sideways", "append ", "merge"])
def test_a_distributed_write_refuses_a_mode_it_does_not_run(unique_port: Any, mode: str) -> None:
    unique_port.write(_rows(["seed"]))
    head = main_snapshot_id(unique_port)

    with pytest.raises(ValueError, match="supports mode"):
        DistributedWrite(unique_port, mode=mode)

    assert main_snapshot_id(unique_port) == head


def test_a_distributed_delete_takes_keys_or_where_exactly(unique_port: Any) -> None:
    unique_port.write(_rows(["seed"]))
    head = main_snapshot_id(unique_port)

    with pytest.raises(ValueError, match="exactly one"):
        DistributedWrite(unique_port, mode="delete").delete(None, None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="where="):
        DistributedWrite(unique_port, mode="append", where="shipment_id = 'seed'")

    assert main_snapshot_id(unique_port) == head


def test_a_copy_on_write_distributed_delete_where_runs_on_the_driver_and_says_why(unique_port: Any) -> None:
    unique_port.write(_rows(["a", "b", "c"]))
    write = DistributedWrite(unique_port, mode="delete", where="shipment_id = 'b'", write_mode="copy-on-write")

    result = write.delete(None, None)  # type: ignore[arg-type]  # the driver's path needs no engine

    assert (result.mode, result.rows_deleted, result.write_mode) == ("delete", 1, "copy-on-write")
    assert result.fallback is not None and "copy-on-write" in result.fallback
    assert sorted(unique_port.to_arrow().column("shipment_id").to_pylist()) == ["a", "c"]


def test_a_distributed_write_refuses_a_forged_stamp_before_any_worker_starts(unique_port: Any) -> None:
    with pytest.raises(InvalidNameError):
        DistributedWrite(unique_port, stamps={"quality": '{"verdict":"passed"}'})


def test_the_driver_refuses_a_schema_the_contract_does_not_allow(unique_port: Any) -> None:
    write = DistributedWrite(unique_port)

    with pytest.raises(ContractViolationError) as raised:
        write.check_schema(_rows(["a"]).append_column("extra", pa.array([1])).schema)

    assert raised.value.column == "extra"


@pytest.mark.parametrize(
    "error",
    [
        ContractViolationError("bad value", address=ADDRESS, column="weight_kg", value=-1.5),
        AccessDeniedError("user:eve", ADDRESS, "read", action="read"),
        InvalidNameError("bad name", name="Bad"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_meshlake_errors_cross_a_pickle_as_themselves(error: MeshlakeError) -> None:
    again = pickle.loads(pickle.dumps(error))

    assert type(again) is type(error)
    assert str(again) == str(error)
    assert vars(again) == vars(error)


def test_workers_measure_the_gates_mergeable_aggregates_and_the_driver_merges_them(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    descriptor["outputs"][0]["expectations"] = [
        {"expect_column_values_to_be_unique": {"column": "shipment_id"}},
        {"expect_column_values_to_match_regex": {"column": "shipment_id", "regex": "^w[0-9]-", "mostly": 0.5}},
        {"expect_column_values_to_not_be_null": {"column": "weight_kg", "mostly": 0.5}},
        {"expect_column_max_to_be_between": {"column": "weight_kg", "max_value": 10}},
    ]
    lake.deploy(write_descriptor(descriptor))
    port = lake.port(ADDRESS)
    write = DistributedWrite(port)
    shares = [_share(write, _rows([f"w{n}-{i}" if i % 3 else f"x{n}-{i}" for i in range(7)])) for n in range(3)] + [
        _share(write, _rows([]))
    ]
    joined = MetricPartials.join([share.partials for share in shares])
    assert joined is not None and joined.row_count == 21 and joined.rows.num_rows == 4  # one row per worker here

    result = write.commit([f for share in shares for f in share.files], sum(s.rows for s in shares), shares)

    assert result.quality is not None
    assert repr(result.quality.results) == repr(port.check().results)  # the pass over the files, whole table
    assert result.quality.results[1].unexpected_count == 9
