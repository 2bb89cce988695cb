"""PII and confidential columns leave no minimum or maximum anywhere but in the data: not in manifests, not in
Parquet footers; existing tables gain that on redeploy; and the quality gate still checks such a key exactly."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyiceberg.manifest import DataFile

import meshlake as ml
from meshlake.errors import QualityGateError
from tests.conftest import DescriptorWriter

ADDRESS = "crm.accounts.people"
METRICS = "write.metadata.metrics.column."


def accounts(*, classify: bool = True, version: str = "1.0.0") -> dict[str, Any]:
    columns: list[dict[str, Any]] = [
        {"name": "customer_id", "type": "long", "required": True},
        {"name": "email", "type": "string"},
        {"name": "salary", "type": "double"},
        {"name": "city", "type": "string", "classification": "internal"},
        {"name": "visits", "type": "int", "classification": "public"},
    ]
    if classify:
        columns[0]["classification"] = "pii"
        columns[1]["classification"] = "pii"
        columns[2]["classification"] = "confidential"
    return {
        "apiVersion": "meshlake/v1",
        "domain": "crm",
        "name": "accounts",
        "version": version,
        "owner": {"team": "crm"},
        "outputs": [
            {
                "name": "people",
                "columns": columns,
                "primary_key": ["customer_id"],
                "expectations": [{"expect_column_values_to_be_unique": {"column": "customer_id"}}],
            }
        ],
    }


def rows(ids: list[int]) -> pa.Table:
    return pa.table(
        {
            "customer_id": pa.array(ids, pa.int64()),
            "email": [f"person{i}@example.com" for i in ids],
            "salary": [1000.0 + i for i in ids],
            "city": ["Oslo" if i % 2 else "Lima" for i in ids],
            "visits": pa.array([i % 7 for i in ids], pa.int32()),
        }
    )


def data_files(lake: ml.Lake) -> list[DataFile]:
    """Every data file of every snapshot's manifests, read with pyiceberg."""
    table = lake.port(ADDRESS).table()
    found: dict[str, DataFile] = {}
    for snapshot in table.metadata.snapshots:
        for manifest in snapshot.manifests(table.io):
            for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=False):
                found[entry.data_file.file_path] = entry.data_file
    return list(found.values())


def field_ids(lake: ml.Lake, *names: str) -> dict[str, int]:
    schema = lake.port(ADDRESS).table().schema()
    return {name: schema.find_field(name).field_id for name in names}


def footer_min_max(path: str) -> dict[str, bool]:
    """Column name → whether any row group of the Parquet file at `path` carries a min/max for it."""
    metadata = pq.ParquetFile(path.removeprefix("file://")).metadata
    found: dict[str, bool] = {}
    for group in range(metadata.num_row_groups):
        for index in range(metadata.num_columns):
            column = metadata.row_group(group).column(index)
            stats = column.statistics
            found[column.path_in_schema] = found.get(column.path_in_schema, False) or bool(
                stats is not None and stats.has_min_max
            )
    return found


def test_pii_and_confidential_columns_have_no_bounds_in_any_manifest_nor_parquet_footer(
    lake: ml.Lake, write_descriptor: DescriptorWriter
) -> None:
    lake.deploy(write_descriptor(accounts()))
    properties = lake.port(ADDRESS).table().properties
    assert {k: v for k, v in properties.items() if k.startswith(METRICS)} == {
        f"{METRICS}customer_id": "none",
        f"{METRICS}email": "none",
        f"{METRICS}salary": "none",
    }
    port = lake.port(ADDRESS)
    port.write(rows([1, 2, 3]))
    port.write(rows([4, 5]))
    port.write(rows([5, 6]), mode="upsert")
    ids = field_ids(lake, "customer_id", "email", "salary", "city", "visits")
    files = data_files(lake)
    assert len(files) >= 3
    for file in files:
        for hidden in ("customer_id", "email", "salary"):
            assert ids[hidden] not in (file.lower_bounds or {}), (hidden, file.file_path)
            assert ids[hidden] not in (file.upper_bounds or {}), (hidden, file.file_path)
        for shown in ("city", "visits"):  # the others keep their bounds: pruning still works on them
            assert ids[shown] in (file.lower_bounds or {}) and ids[shown] in (file.upper_bounds or {})
        footer = footer_min_max(file.file_path)
        assert footer == {"customer_id": False, "email": False, "salary": False, "city": True, "visits": True}


def test_existing_tables_gain_the_property_on_redeploy_and_lose_it_when_declassified(
    lake: ml.Lake, write_descriptor: DescriptorWriter
) -> None:
    lake.deploy(write_descriptor(accounts(classify=False)))
    port = lake.port(ADDRESS)
    port.write(rows([1, 2]))
    email = field_ids(lake, "email")["email"]
    (before,) = data_files(lake)
    assert email in (before.lower_bounds or {})

    lake.deploy(write_descriptor(accounts(version="1.1.0")))
    assert lake.port(ADDRESS).table().properties[f"{METRICS}email"] == "none"
    lake.port(ADDRESS).write(rows([3]))
    (after,) = [f for f in data_files(lake) if f.file_path != before.file_path]
    assert email not in (after.lower_bounds or {}) and email not in (after.upper_bounds or {})
    assert not footer_min_max(after.file_path)["email"]

    lake.deploy(write_descriptor(accounts(classify=False, version="1.2.0")))
    assert not any(key.startswith(METRICS) for key in lake.port(ADDRESS).table().properties)


def test_a_pii_primary_key_without_bounds_is_still_checked_exactly_for_uniqueness(
    lake: ml.Lake, write_descriptor: DescriptorWriter
) -> None:
    lake.deploy(write_descriptor(accounts()))
    port = lake.port(ADDRESS)
    port.write(rows([1, 2, 3]))
    second = port.write(rows([10, 11, 12]))
    assert {r.method for r in second.quality.results} == {"incremental"}  # the base's bounds were never needed
    key = field_ids(lake, "customer_id")["customer_id"]
    assert all(key not in (f.lower_bounds or {}) for f in data_files(lake))
    before = lake.port(ADDRESS).latest().snapshot_id

    with pytest.raises(QualityGateError) as caught:
        port.write(rows([2, 20]))  # 2 is a key of the first write: no bound says which file may hold it
    (unique,) = caught.value.report.results
    assert (unique.success, unique.unexpected_count) == (False, 2)
    assert lake.port(ADDRESS).latest().snapshot_id == before
    with pytest.raises(QualityGateError):
        port.write(rows([30, 30]))  # a duplicate within the batch
    assert lake.port(ADDRESS).latest().snapshot_id == before


def test_no_min_max_sum_or_mean_of_a_classified_column_is_stamped_in_snapshot_metadata(
    lake: ml.Lake, write_descriptor: DescriptorWriter
) -> None:
    descriptor = accounts()
    descriptor["outputs"][0]["expectations"] += [
        {"expect_column_max_to_be_between": {"column": "salary", "max_value": 10_000}},  # confidential
        {"expect_column_min_to_be_between": {"column": "customer_id", "min_value": 0}},  # pii
        {"expect_column_sum_to_be_between": {"column": "salary", "min_value": 0}},
        {"expect_column_mean_to_be_between": {"column": "customer_id", "min_value": 0}},
        {"expect_column_max_to_be_between": {"column": "visits", "max_value": 100}},  # public
    ]
    lake.deploy(write_descriptor(descriptor))
    port = lake.port(ADDRESS)
    port.write(rows([1, 2, 3]))
    second = port.write(rows([41, 42]))

    revealing = ["1003", "3006", "1042", "5089", "17.8"]  # max and sum of salary, mean of the ids, after each write
    for snapshot in port.table().metadata.snapshots:
        stamp = (snapshot.summary.additional_properties if snapshot.summary else {})["meshlake.quality"]
        assert not [value for value in revealing if value in stamp], stamp
        assert set(json.loads(stamp)["aggregates"]) == {"0", "5"}  # uniqueness counts; the public maximum
    methods = {(r.expectation, r.kwargs["column"]): r.method for r in second.quality.results}
    assert methods[("expect_column_max_to_be_between", "visits")] == "incremental"
    assert methods[("expect_column_max_to_be_between", "salary")] != "incremental"  # recomputed in full
    assert methods[("expect_column_mean_to_be_between", "customer_id")] != "incremental"
    assert all(r.success for r in second.quality.results)
    assert second.quality.results[1].observed_value == 1042.0
