"""A table's name mapping matters only when some of its files lack Parquet field ids.

Some Iceberg REST catalogs (SeaweedFS's) put `schema.name-mapping.default` on every table they create; a
port whose files were all written by meshlake must still read in DuckDB. Files imported without field ids
(`add_files`) are read by column name through the mapping, by DuckDB and Polars alike (and the gate checks them).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import meshlake as ml
from meshlake.errors import QualityGateError
from tests.workers import batch


def test_a_name_mapping_does_not_stop_duckdb_when_every_file_has_field_ids(port: Any, shipments: ml.Lake) -> None:
    port.write(batch("a", 1))
    table = port.table()
    mapping = table.schema().name_mapping.model_dump_json()
    table.transaction().set_properties({"schema.name-mapping.default": mapping}).commit_transaction()
    port.write(batch("b", 2))

    latest = port.latest()
    assert latest.metadata.name_mapping() is not None
    assert latest.plan.name_mapping is None  # every planned file carries field ids
    assert latest.to_arrow().num_rows == 6
    assert shipments.sql("SELECT count(*) FROM logistics.shipments.daily").fetchall() == [(6,)]


def _import_without_field_ids(port: Any, tmp_path: Path) -> str:
    """A Parquet file written by another tool (no field ids, columns in another order, no customer_email),
    registered with pyiceberg's `add_files`, as a migration would."""
    import pyarrow.parquet as pq

    path = tmp_path / "imported.parquet"
    schema = pa.schema(
        [
            pa.field("weight_kg", pa.float64()),
            pa.field("shipment_id", pa.string(), nullable=False),
            pa.field("shipped_at", pa.timestamp("us", tz="UTC"), nullable=False),
        ]
    )
    when = datetime(2026, 11, 2, tzinfo=UTC)
    data = pa.table({"weight_kg": [7.5, 8.5], "shipment_id": ["imp-1", "imp-2"], "shipped_at": [when] * 2}, schema)
    pq.write_table(data, path)
    port.table().add_files([f"file://{path}"])
    return f"file://{path}"


def test_meshlake_reads_files_imported_without_field_ids_in_duckdb_and_polars(
    port: Any, shipments: ml.Lake, tmp_path: Path
) -> None:
    port.write(batch("a", 1))
    imported = _import_without_field_ids(port, tmp_path)
    latest = port.latest()
    assert list(latest.plan.unmapped) == [imported]

    from_duckdb = latest.to_arrow().sort_by("shipment_id").to_pylist()
    from_polars = latest.to_polars().sort("shipment_id").collect().to_dicts()
    from_sql = shipments.sql(
        "SELECT shipment_id, weight_kg, customer_email FROM logistics.shipments.daily ORDER BY shipment_id"
    ).fetchall()

    assert from_duckdb == from_polars
    assert [r["shipment_id"] for r in from_duckdb] == ["a-1-0", "a-1-1", "a-1-2", "imp-1", "imp-2"]
    assert from_sql[-2:] == [("imp-1", 7.5, None), ("imp-2", 8.5, None)]


def test_a_gated_write_checks_a_port_holding_files_without_field_ids(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: Any, tmp_path: Path
) -> None:
    descriptor["outputs"][0]["expectations"] = [{"expect_column_values_to_be_unique": {"column": "shipment_id"}}]
    lake.deploy(write_descriptor(descriptor))
    port = lake.port("logistics.shipments.daily")
    port.write(batch("a", 1))
    _import_without_field_ids(port, tmp_path)
    head = port.table().metadata.snapshot_by_name("main").snapshot_id
    duplicate = pa.table(
        {
            "shipment_id": ["imp-1"],
            "shipped_at": pa.array([datetime(2026, 11, 2, tzinfo=UTC)], pa.timestamp("us", tz="UTC")),
            "weight_kg": [1.0],
        }
    )

    with pytest.raises(QualityGateError) as raised:
        port.write(duplicate)  # the imported rows are read by name: the duplicate key is found

    assert raised.value.report.results[0].unexpected_count == 2
    assert port.table().metadata.snapshot_by_name("main").snapshot_id == head
    assert port.write(batch("b", 2)).quality.passed


def _new_process() -> None:
    """Forget what this process planned and read of footers, as a new process would not know it."""
    from meshlake.query import fieldids
    from meshlake.query.plan import clear_plan_cache

    clear_plan_cache()
    with fieldids._lock:
        fieldids._verdicts.clear()
        fieldids._kept.clear()


def _data_file(port: Any) -> Path:
    path = next(t.path for t in port.latest().plan.tasks if "imported" not in t.path)
    return Path(path.removeprefix("file://"))


def test_a_new_process_plans_from_the_kept_field_id_verdicts_without_reading_footers(
    port: Any, shipments: ml.Lake, tmp_path: Path
) -> None:
    port.write(batch("a", 1))
    imported = _import_without_field_ids(port, tmp_path)
    port.write(batch("b", 2))
    first = port.latest().plan.unmapped  # footers read, verdicts kept per manifest
    _new_process()
    moved = _data_file(port).with_suffix(".away")
    _data_file(port).rename(moved)  # a footer read now fails
    Path(imported.removeprefix("file://")).rename(tmp_path / "imported.away")

    assert dict(port.latest().plan.unmapped) == dict(first)
    assert list(first) == [imported] and first[imported] == ("weight_kg", "shipment_id", "shipped_at")


def test_a_damaged_or_stale_field_id_entry_is_ignored_and_the_footers_decide(
    port: Any, shipments: ml.Lake, tmp_path: Path
) -> None:
    from meshlake.catalog.disk_cache import cache_folder

    port.write(batch("a", 1))
    imported = _import_without_field_ids(port, tmp_path)
    port.latest().plan  # noqa: B018  (reads the footers, keeps the entries)
    folder = cache_folder("fieldids")
    assert folder is not None
    entries = sorted(folder.glob("*/*.json"))
    assert len(entries) == 2  # one per data manifest
    for entry in entries:  # one counts other files, the other is not JSON: neither may be trusted
        found = json.loads(entry.read_text())
        entry.write_text(json.dumps({**found, "files": found["files"] + 1, "without": {}}) if found["without"] else "{")
    _new_process()

    assert list(port.latest().plan.unmapped) == [imported]
    rewritten = [json.loads(entry.read_text()) for entry in entries]
    assert sorted(len(e["without"]) for e in rewritten) == [0, 1] and all(e["files"] == 1 for e in rewritten)


def test_the_writer_knows_its_files_have_field_ids_and_keeps_that_for_the_next_process(
    port: Any, shipments: ml.Lake
) -> None:
    port.write(batch("a", 1))
    table = port.table()
    mapping = table.schema().name_mapping.model_dump_json()
    table.transaction().set_properties({"schema.name-mapping.default": mapping}).commit_transaction()
    port.write(batch("b", 2))
    files = sorted(Path(port.table().metadata.location.removeprefix("file://")).rglob("*.parquet"))
    assert len(files) == 2
    for path in files:  # before any planning read them: a footer read now fails
        path.rename(path.with_suffix(".away"))

    assert port.latest().plan.name_mapping is None  # planned by the writer: no footer read
    _new_process()
    assert port.latest().plan.name_mapping is None  # a new process: the entries the writer's planning kept
