"""Writes: every input kind, every mode, and every way data can break the contract."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import meshlake as ml
from meshlake.errors import ContractViolationError
from tests.conftest import DescriptorWriter, data_files_on_disk, main_snapshot_id

DAY1 = datetime(2026, 11, 1, 8, tzinfo=UTC)
DAY2 = datetime(2026, 11, 2, 8, tzinfo=UTC)


def shipments(ids: list[str], when: datetime = DAY1, weight: float = 1.5) -> pa.Table:
    return pa.table(
        {
            "shipment_id": pa.array(ids, pa.string()),
            "shipped_at": pa.array([when] * len(ids), pa.timestamp("us", tz="UTC")),
            "weight_kg": pa.array([weight] * len(ids), pa.float64()),
        }
    )


def rows(port: Any) -> list[dict[str, Any]]:
    """The published rows, read by pyiceberg (an oracle independent of meshlake's read path)."""
    return sorted(port.table().scan().to_arrow().to_pylist(), key=lambda r: r["shipment_id"])


def ids(port: Any) -> list[str]:
    return [r["shipment_id"] for r in rows(port)]


class StreamOnly:
    """An object that only exports the Arrow C stream interface."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        return self.table.__arrow_c_stream__(requested_schema)


def as_kind(kind: str, table: pa.Table) -> Any:
    if kind == "arrow":
        return table
    if kind == "reader":
        return table.to_reader(max_chunksize=1)
    if kind == "polars":
        import polars as pl

        return pl.from_arrow(table)
    if kind == "lazy":
        import polars as pl

        return pl.from_arrow(table).lazy()  # type: ignore[union-attr]
    if kind == "pandas":
        return table.to_pandas()
    if kind == "duckdb":
        import duckdb

        con = duckdb.connect()
        con.register("t", table)
        return con.sql("SELECT * FROM t")
    return StreamOnly(table)


@pytest.mark.parametrize("kind", ["arrow", "reader", "polars", "lazy", "pandas", "duckdb", "stream"])
def test_append_accepts_every_arrow_source(port: Any, kind: str) -> None:
    result = port.write(as_kind(kind, shipments(["a", "b", "c"])))
    assert result.rows == 3
    assert result.snapshot_id == main_snapshot_id(port)
    assert ids(port) == ["a", "b", "c"]
    assert rows(port)[0]["shipped_at"] == DAY1


def test_every_snapshot_carries_meshlake_stamps(port: Any) -> None:
    result = port.write(shipments(["a"]), run_id="run-1", writer="pipeline-x")
    port.write(shipments(["b"]), inputs={"sales.orders.placed": 42})
    snapshots = {s.snapshot_id: s.summary.additional_properties for s in port.table().snapshots()}
    first = snapshots[result.snapshot_id]
    assert first["meshlake.writer"] == "pipeline-x"
    assert first["meshlake.run-id"] == "run-1"
    assert first["meshlake.product-version"] == "1.4.0"
    assert json.loads(first["meshlake.inputs"]) == {}
    second = snapshots[main_snapshot_id(port)]
    assert json.loads(second["meshlake.inputs"]) == {"sales.orders.placed": 42}
    assert second["meshlake.writer"]


def test_nullable_input_into_required_column_is_fine_without_nulls(port: Any) -> None:
    data = shipments(["a"])
    assert data.schema.field("shipment_id").nullable
    port.write(data)
    assert ids(port) == ["a"]


def test_missing_optional_column_is_written_as_null(port: Any) -> None:
    port.write(shipments(["a"]).drop_columns(["weight_kg"]))
    assert rows(port)[0]["weight_kg"] is None


def test_safe_casts_widen_and_reorder(port: Any) -> None:
    data = pa.table(
        {
            "weight_kg": pa.array([2], pa.int32()),
            "shipped_at": pa.array([datetime(2026, 11, 1, 9, 30)], pa.timestamp("ns", tz="Europe/Paris")),
            "shipment_id": pa.array(["a"], pa.large_string()),
        }
    )
    port.write(data)
    assert rows(port)[0]["weight_kg"] == 2.0


def assert_refused(port: Any, tmp_path: Path, data: Any, column: str | None, **kwargs: Any) -> ContractViolationError:
    port.write(shipments(["seed"]))
    before, files = main_snapshot_id(port), data_files_on_disk(tmp_path)
    with pytest.raises(ContractViolationError) as caught:
        port.write(data, **kwargs)
    assert caught.value.column == column
    assert caught.value.address == "logistics.shipments.daily"
    assert main_snapshot_id(port) == before
    assert data_files_on_disk(tmp_path) == files, "a refused write left data files behind"
    assert ids(port) == ["seed"]
    return caught.value


def test_missing_required_column_is_refused(port: Any, tmp_path: Path) -> None:
    assert_refused(port, tmp_path, shipments(["a"]).drop_columns(["shipped_at"]), "shipped_at")


def test_unknown_column_is_refused(port: Any, tmp_path: Path) -> None:
    assert_refused(port, tmp_path, shipments(["a"]).append_column("zzz", pa.array([1])), "zzz")


@pytest.mark.parametrize("name", ["../x", "a;drop table t", '"quoted"', "select", "Weight_KG"])
def test_malicious_or_unknown_column_names_are_refused(port: Any, tmp_path: Path, name: str) -> None:
    assert_refused(port, tmp_path, shipments(["a"]).append_column(name, pa.array([1])), name)


def test_retyped_column_is_refused(port: Any, tmp_path: Path) -> None:
    data = shipments(["a"]).set_column(2, "weight_kg", pa.array(["heavy"]))
    error = assert_refused(port, tmp_path, data, "weight_kg")
    assert "string" in str(error)


def test_naive_timestamp_into_timestamptz_is_refused(port: Any, tmp_path: Path) -> None:
    data = shipments(["a"]).set_column(1, "shipped_at", pa.array([datetime(2026, 11, 1)], pa.timestamp("us")))
    assert_refused(port, tmp_path, data, "shipped_at")


def test_lossy_cast_is_refused(port: Any, tmp_path: Path) -> None:
    nanos = pa.array([1_762_000_000_000_000_123], pa.timestamp("ns", tz="UTC"))
    assert_refused(port, tmp_path, shipments(["a"]).set_column(1, "shipped_at", nanos), "shipped_at")


def test_nulls_in_a_required_column_are_refused_even_in_a_later_batch(port: Any, tmp_path: Path) -> None:
    good = shipments(["a", "b"])
    bad = pa.table(
        {
            "shipment_id": pa.array([None], pa.string()),
            "shipped_at": good["shipped_at"][:1],
            "weight_kg": good["weight_kg"][:1],
        }
    )
    reader = pa.RecordBatchReader.from_batches(good.schema, [*good.to_batches(), *bad.to_batches()])
    error = assert_refused(port, tmp_path, reader, "shipment_id")
    assert "null" in str(error)


def test_overwrite_replaces_everything(port: Any) -> None:
    port.write(shipments(["a", "b"]))
    result = port.write(shipments(["c"]), mode="overwrite")
    assert ids(port) == ["c"]
    assert result.rows_deleted == 2


def test_replace_where_swaps_one_day(port: Any) -> None:
    port.write(shipments(["a", "b"], DAY1))
    port.write(shipments(["c"], DAY2))
    where = "shipped_at >= '2026-11-02T00:00:00+00:00'"
    result = port.write(shipments(["d", "e"], DAY2), mode="replace", where=where)
    assert ids(port) == ["a", "b", "d", "e"]
    assert result.rows_deleted == 1


def test_replace_refuses_rows_outside_its_filter(port: Any, tmp_path: Path) -> None:
    where = "shipped_at >= '2026-11-02T00:00:00+00:00'"
    assert_refused(port, tmp_path, shipments(["x"], DAY1), None, mode="replace", where=where)


def test_replace_needs_where_and_other_modes_refuse_it(port: Any) -> None:
    with pytest.raises(ValueError, match="where"):
        port.write(shipments(["a"]), mode="replace")
    with pytest.raises(ValueError, match="where"):
        port.write(shipments(["a"]), mode="append", where="weight_kg > 1")
    with pytest.raises(ValueError, match="mode"):
        port.write(shipments(["a"]), mode="merge")


def test_upsert_updates_and_inserts_by_primary_key(port: Any) -> None:
    port.write(shipments(["a", "b", "c"], weight=1.0))
    result = port.write(shipments(["b", "z"], weight=9.0), mode="upsert")
    assert (result.rows_updated, result.rows_inserted) == (1, 1)
    weights = {r["shipment_id"]: r["weight_kg"] for r in rows(port)}
    assert weights == {"a": 1.0, "b": 9.0, "c": 1.0, "z": 9.0}


def test_upsert_refuses_repeated_keys(port: Any, tmp_path: Path) -> None:
    assert_refused(port, tmp_path, shipments(["a", "a"]), "shipment_id", mode="upsert")


def test_upsert_needs_a_primary_key(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    descriptor["outputs"][0]["primary_key"] = []
    lake.deploy(write_descriptor(descriptor))
    with pytest.raises(ContractViolationError, match="primary_key"):
        lake.port("logistics.shipments.daily").write(shipments(["a"]), mode="upsert")


def test_delete_removes_matching_rows_only(port: Any) -> None:
    port.write(shipments(["a", "b"], weight=1.0))
    port.write(shipments(["c"], weight=5.0))
    result = port.delete("weight_kg > 2")
    assert ids(port) == ["a", "b"]
    assert result.rows_deleted == 1


def test_delete_rewrites_a_file_that_matches_partly(port: Any) -> None:
    port.write(shipments(["a", "b", "c"]))
    port.delete("shipment_id = 'b'")
    assert ids(port) == ["a", "c"]


def test_delete_on_unknown_column_is_an_error(port: Any) -> None:
    port.write(shipments(["a"]))
    before = main_snapshot_id(port)
    with pytest.raises(ValueError):
        port.delete("ghost = 1")
    assert main_snapshot_id(port) == before


def test_an_empty_append_publishes_nothing(port: Any) -> None:
    port.write(shipments(["a"]))
    before = main_snapshot_id(port)
    result = port.write(shipments([]))
    assert not result.changed
    assert main_snapshot_id(port) == before


def test_ports_named_like_sql_keywords_work(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    descriptor["outputs"] = [
        {
            "name": "select",
            "columns": [
                {"name": "order", "type": "long", "required": True},
                {"name": "from", "type": "string"},
            ],
            "primary_key": ["order"],
        }
    ]
    lake.deploy(write_descriptor(descriptor))
    port = lake.port("logistics.shipments.select")
    port.write(pa.table({"order": [1, 2], "from": ["x", "y"]}))
    port.write(pa.table({"order": [2], "from": ["z"]}), mode="upsert")
    assert sorted(port.table().scan().to_arrow().to_pylist(), key=lambda r: r["order"]) == [
        {"order": 1, "from": "x"},
        {"order": 2, "from": "z"},
    ]


def test_partitioned_write_lands_in_day_folders(port: Any, tmp_path: Path) -> None:
    port.write(pa.concat_tables([shipments(["a"], DAY1), shipments(["b"], DAY2)]))
    folders = {p.parent.name for p in data_files_on_disk(tmp_path)}
    assert folders == {"shipped_at_day=2026-11-01", "shipped_at_day=2026-11-02"}


def test_upsert_by_a_compound_key(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    descriptor["outputs"] = [
        {
            "name": "lines",
            "columns": [
                {"name": "order_id", "type": "long", "required": True},
                {"name": "line", "type": "int", "required": True},
                {"name": "qty", "type": "double"},
            ],
            "primary_key": ["order_id", "line"],
        }
    ]
    lake.deploy(write_descriptor(descriptor))
    port = lake.port("logistics.shipments.lines")
    port.write(pa.table({"order_id": [1, 1, 2, 2], "line": pa.array([1, 2, 1, 2], pa.int32()), "qty": [1.0] * 4}))
    port.write(
        pa.table({"order_id": [1, 2, 3], "line": pa.array([2, 2, 1], pa.int32()), "qty": [5.0] * 3}), mode="upsert"
    )
    found = sorted((r["order_id"], r["line"], r["qty"]) for r in port.table().scan().to_arrow().to_pylist())
    assert found == [(1, 1, 1.0), (1, 2, 5.0), (2, 1, 1.0), (2, 2, 5.0), (3, 1, 5.0)]
