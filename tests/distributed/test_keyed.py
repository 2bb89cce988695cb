"""Keyed writes on the engine: a distributed upsert's join and a distributed delete run on Daft's or Ray's workers,
which write file-scoped position deletes; the driver commits data and delete files in one gated snapshot.

Each test checks what the port holds afterwards against the rows it must hold, that nothing but the expected
files were written, and for every failure that `main` did not move and no file of the write is left.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import meshlake as ml
from meshlake.errors import CommitConflictError, ContractViolationError
from tests.conftest import DescriptorWriter, main_snapshot_id
from tests.distributed.conftest import ADDRESS, UNIQUE
from tests.distributed.conftest import shipment_rows as _rows

pytest.importorskip("daft", reason="Daft is not installed here: run through .ci/distributed-venv.sh's venv")
pytest.importorskip("ray", reason="Ray is not installed here: run through .ci/distributed-venv.sh's venv")

ENGINES = ["daft", "ray"]


@pytest.fixture
def port(ray_cluster: Any, lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter) -> Any:
    descriptor["outputs"][0]["expectations"] = UNIQUE
    lake.deploy(write_descriptor(descriptor))
    port = lake.port(ADDRESS)
    for day in (1, 2, 3):  # three partitions, one data file each
        port.write(_rows([f"d{day}-{i:02d}" for i in range(20)], day=day))
    return port


def _frame(engine: str, table: pa.Table, partitions: int = 3) -> Any:
    if engine == "daft":
        import daft

        return daft.from_arrow(table).repartition(partitions)
    import ray.data

    return ray.data.from_arrow(table).repartition(partitions)


def _write(port: Any, engine: str, data: Any, **options: Any) -> Any:
    if engine == "daft":
        return port.write_daft(data, **options)
    return port.write_ray(data, **options)


def _files(port: Any) -> set[str]:
    root = Path(port.table().metadata.location.removeprefix("file://")) / "data"
    return {str(p) for p in root.rglob("*.parquet")}


def _weights(port: Any) -> dict[str, float]:
    return {r["shipment_id"]: r["weight_kg"] for r in port.to_arrow().to_pylist()}


@pytest.mark.parametrize("engine", ENGINES)
def test_distributed_upsert_joins_on_the_engine_and_commits_position_deletes_in_one_snapshot(
    port: Any, engine: str
) -> None:
    before, snapshots, files = _weights(port), len(port.history()), _files(port)
    changed = _rows(["d1-03", "d3-07", "new-1", "new-2"], day=1, weight=100.0)

    result = _write(port, engine, _frame(engine, changed), mode="upsert")

    assert (result.write_mode, result.fallback) == ("merge-on-read", None)
    assert (result.rows, result.rows_updated, result.rows_inserted) == (4, 2, 2)
    assert (result.files_deleted, result.delete_files_added) == (0, 2)  # one delete file per data file touched
    assert len(port.history()) == snapshots + 1
    expected = before | {"d1-03": 100.0, "d3-07": 101.0, "new-1": 102.0, "new-2": 103.0}
    assert _weights(port) == expected and len(port.to_arrow()) == 62
    new = {Path(f).name for f in _files(port) - files}
    prefix = f"ml-{result.run_id}-"
    assert all(name.startswith(prefix) for name in new)
    assert len([n for n in new if n.endswith("-deletes.parquet")]) == 2


@pytest.mark.parametrize("engine", ENGINES)
def test_a_copy_on_write_port_upserts_on_the_driver_and_says_why(port: Any, engine: str) -> None:
    result = _write(
        port, engine, _frame(engine, _rows(["d2-05", "n-1"], weight=7.0)), mode="upsert", write_mode="copy-on-write"
    )

    assert result.write_mode == "copy-on-write" and result.delete_files_added == 0 and result.files_deleted == 1
    assert result.fallback is not None and "copy-on-write" in result.fallback
    assert _weights(port)["d2-05"] == 7.0 and len(port.to_arrow()) == 61


def test_write_mode_auto_rewrites_on_the_driver_when_the_upsert_replaces_a_large_share(port: Any) -> None:
    files = _files(port)
    changed = _rows([f"d1-{i:02d}" for i in range(10)], weight=5.0)  # half of the rows of day 1's file

    result = port.write_daft(_frame("daft", changed), mode="upsert", write_mode="auto")

    assert result.write_mode == "copy-on-write" and result.delete_files_added == 0
    assert result.fallback is not None and "auto" in result.fallback
    assert _weights(port)["d1-09"] == 14.0 and len(port.to_arrow()) == 60
    assert not [f for f in _files(port) - files if f.endswith("-deletes.parquet")]  # the engine's were deleted


def test_a_format_version_1_table_falls_back_to_copy_on_write_with_its_reason(port: Any) -> None:
    from meshlake.distributed.driver import _row_changes

    table = port.table()
    v1 = table.metadata.model_copy(update={"format_version": 1})
    old = type(table)(table.name(), v1, table.metadata_location, table.io, table.catalog)

    mode, reason = _row_changes(old, "upsert", "merge-on-read", port)

    assert mode == "copy-on-write" and reason is not None and "format version 1" in reason


@pytest.mark.parametrize("engine", ENGINES)
def test_an_upsert_repeating_a_key_is_refused_on_the_engine_with_examples_and_leaves_no_file(
    port: Any, engine: str
) -> None:
    head, files = main_snapshot_id(port), _files(port)
    repeated = _rows(["d1-01", "x-1", "x-1", "x-2", "d1-01", "d1-01"])

    with pytest.raises(ContractViolationError) as raised:
        _write(port, engine, _frame(engine, repeated), mode="upsert")

    assert raised.value.column == "shipment_id" and raised.value.value == ("d1-01",)
    assert "5 row(s) share a key" in str(raised.value) and "('d1-01'), ('x-1')" in str(raised.value)
    assert main_snapshot_id(port) == head and _files(port) == files


@pytest.mark.parametrize("engine", ENGINES)
def test_distributed_delete_by_key_removes_the_rows_as_position_deletes_in_one_snapshot(port: Any, engine: str) -> None:
    before, snapshots = _weights(port), len(port.history())
    keys = pa.table({"shipment_id": ["d1-00", "d3-19", "never-written", "d1-00"]})

    result = _write(port, engine, _frame(engine, keys, partitions=2), mode="delete")

    assert (result.mode, result.write_mode, result.rows_deleted, result.delete_files_added) == (
        "delete",
        "merge-on-read",
        2,
        2,
    )
    assert len(port.history()) == snapshots + 1 and port.history()[-1].quality == "passed"
    assert _weights(port) == {k: v for k, v in before.items() if k not in ("d1-00", "d3-19")}


@pytest.mark.parametrize("engine", ENGINES)
def test_distributed_delete_where_writes_the_deletes_on_the_workers(port: Any, engine: str) -> None:
    where = "shipped_at >= TIMESTAMPTZ '2026-11-02T00:00:00Z' AND weight_kg < 3.5"

    result = _write(port, engine, None, mode="delete", where=where)

    assert (result.write_mode, result.rows_deleted, result.delete_files_added) == ("merge-on-read", 6, 2)
    gone = {"d2-00", "d2-01", "d2-02", "d3-00", "d3-01", "d3-02"}
    assert (
        set(port.to_arrow().column("shipment_id").to_pylist())
        == {f"d{d}-{i:02d}" for d in (1, 2, 3) for i in range(20)} - gone
    )


def test_a_copy_on_write_delete_by_key_runs_on_the_driver(port: Any) -> None:
    result = port.write_daft(
        _frame("daft", pa.table({"shipment_id": ["d2-04"]})), mode="delete", write_mode="copy-on-write"
    )

    assert (result.write_mode, result.rows_deleted, result.files_deleted) == ("copy-on-write", 1, 1)
    assert result.fallback is not None and "d2-04" not in _weights(port)


def test_a_delete_frame_without_the_key_column_is_refused_on_the_driver(port: Any) -> None:
    head, files = main_snapshot_id(port), _files(port)

    with pytest.raises(ContractViolationError) as raised:
        port.write_daft(_frame("daft", pa.table({"id": ["d1-00"]})), mode="delete")

    assert raised.value.column == "shipment_id"
    assert main_snapshot_id(port) == head and _files(port) == files


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"mode": "delete"}, ValueError),  # neither keys nor where
        ({"mode": "delete", "where": "weight_kg >"}, ml.errors.InvalidFilterError),
        ({"mode": "upsert", "where": "weight_kg > 1"}, ValueError),
    ],
)
def test_bad_keyed_writes_are_refused_before_anything_runs(port: Any, options: dict[str, Any], error: type) -> None:
    head, files = main_snapshot_id(port), _files(port)

    with pytest.raises(error):
        port.write_daft(None, **options)

    assert main_snapshot_id(port) == head and _files(port) == files


def test_a_port_without_primary_key_refuses_a_delete_by_key(
    ray_cluster: Any, lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    del descriptor["outputs"][0]["primary_key"]
    lake.deploy(write_descriptor(descriptor))
    port = lake.port(ADDRESS)

    with pytest.raises(ContractViolationError, match="primary_key"):
        port.write_daft(_frame("daft", pa.table({"shipment_id": ["a"]})), mode="delete")


# -- concurrency and failures ------------------------------------------------------------------------------------


def test_a_file_rewritten_after_the_join_read_it_makes_the_upsert_a_conflict_and_leaves_no_file(port: Any) -> None:
    head, files = main_snapshot_id(port), _files(port)
    sink = port.daft_sink(mode="upsert")  # pins main's head: the join reads it
    moved = port.write(_rows(["d1-05"], weight=9.0), mode="upsert", write_mode="copy-on-write")  # rewrites day 1
    assert moved.files_deleted == 1

    with pytest.raises(CommitConflictError):
        _frame("daft", _rows(["d1-06", "n-1"], weight=3.0)).write_sink(sink)

    assert main_snapshot_id(port) == moved.snapshot_id != head
    prefix = f"ml-{sink.spec.run_id}-"
    assert not [f for f in _files(port) - files if Path(f).name.startswith(prefix)]
    assert _weights(port)["d1-05"] == 9.0 and "n-1" not in _weights(port)


def test_an_unrelated_commit_after_the_join_is_rebased_onto(port: Any) -> None:
    sink = port.daft_sink(mode="upsert")
    port.write(_rows(["z-1"], day=4))  # a new file the upsert's keys cannot be in

    _frame("daft", _rows(["d2-06", "n-1"], day=2, weight=3.0)).write_sink(sink)

    assert sink.result.rebases == 1 and sink.result.write_mode == "merge-on-read"
    weights = _weights(port)
    assert (weights["d2-06"], weights["n-1"], weights["z-1"]) == (3.0, 4.0, 1.0) and len(weights) == 62


class _FailingAfterWriting:
    """An engine whose join writes its delete files on the workers, then fails (a task lost after they finished)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.written: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)

    def join_deletes(self, *args: Any) -> Any:
        import pickle

        written = self.engine.join_deletes(*args)
        self.written = [pickle.loads(b).file_path for b in written.column("__ml_delete_file").to_pylist()]
        raise RuntimeError("worker lost")


@pytest.mark.parametrize("engine", ENGINES)
def test_a_delete_failing_after_workers_wrote_delete_files_leaves_none_behind(port: Any, engine: str) -> None:
    from meshlake.distributed.daft_keyed import DaftKeys
    from meshlake.distributed.driver import DistributedWrite
    from meshlake.distributed.ray_keyed import RayKeys

    head, files = main_snapshot_id(port), _files(port)
    failing = _FailingAfterWriting(DaftKeys() if engine == "daft" else RayKeys())
    write = DistributedWrite(port, mode="delete")

    with pytest.raises(RuntimeError, match="worker lost"):
        write.delete(failing, _frame(engine, pa.table({"shipment_id": ["d1-01", "d2-02"]})))

    assert len(failing.written) == 2  # they were written, then removed by the abort
    assert main_snapshot_id(port) == head and _files(port) == files


def test_keyed_errors_pickle_as_they_are(port: Any) -> None:
    import pickle

    from meshlake.distributed.keyed import KeyStats

    stats = KeyStats(10, 2, (("a",),), ("a",), ("z",))
    with pytest.raises(ContractViolationError) as raised:
        stats.check_unique(ADDRESS, ["shipment_id"])

    again = pickle.loads(pickle.dumps(raised.value))
    assert (type(again), again.address, again.column, again.value) == (
        ContractViolationError,
        ADDRESS,
        "shipment_id",
        ("a",),
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_the_engine_join_and_the_driver_path_give_the_gate_the_same_snapshot_and_verdict(
    ray_cluster: Any, lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter, engine: str
) -> None:
    weights_unique = [*UNIQUE, {"expect_column_values_to_be_unique": {"column": "weight_kg"}}]
    ports = {}
    for name, write_mode in (("engine", "merge-on-read"), ("driver", "copy-on-write")):
        descriptor["name"] = f"shipments_{name}"
        descriptor["outputs"][0]["expectations"] = weights_unique
        descriptor["outputs"][0]["write_mode"] = write_mode
        lake.deploy(write_descriptor(descriptor))
        port = lake.port(f"logistics.shipments_{name}.daily")
        for day in (1, 2):
            port.write(_rows([f"d{day}-{i:02d}" for i in range(20)], day=day, weight=100.0 * day))
        ports[name] = port
    # d1-03 is replaced; n-1 repeats a new row's weight, n-2 an old row's kept (d2-05), n-3 a replaced row's
    changed = pa.table(
        {
            "shipment_id": ["d1-03", "n-1", "n-2", "n-3"],
            "shipped_at": _rows(["x"] * 4)["shipped_at"],
            "weight_kg": [500.0, 500.0, 205.0, 103.0],
        }
    )
    reports = {}
    for name, port in ports.items():
        with pytest.raises(ml.errors.QualityGateError) as raised:
            _write(port, engine, _frame(engine, changed), mode="upsert")
        reports[name] = raised.value.report
        staged = port.table().metadata.refs[raised.value.quarantine_branch].snapshot_id
        assert sorted(port.at(staged).to_arrow().column("shipment_id").to_pylist()) == sorted(
            [f"d{d}-{i:02d}" for d in (1, 2) for i in range(20)] + ["n-1", "n-2", "n-3"]
        )

    def same(report: Any) -> list[Any]:  # sample rows come in file order, and copy-on-write moved rows to new files
        return [replace(r, sample=sorted(r.sample, key=lambda row: row["shipment_id"])) for r in report.results]

    engine_results, driver_results = same(reports["engine"]), same(reports["driver"])
    # the key's uniqueness after the engine's join is derived from the base's stamp (what the join established,
    # `ReplacedKeys`, as for a local merge-on-read upsert); the copy-on-write path counts it
    assert [r.method for r in engine_results] == ["incremental", "full"]
    assert [r.method for r in driver_results] == ["full", "full"]
    assert repr([replace(r, method="") for r in engine_results]) == repr(
        [replace(r, method="") for r in driver_results]
    )
    assert [r.success for r in engine_results] == [True, False]
    assert engine_results[1].unexpected_count == 4  # 500.0 twice among the new rows, 205.0 new and old
