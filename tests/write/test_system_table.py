"""meshlake's record tables: an append costs the same however much the lake did before."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from pyiceberg.types import LongType, StringType

import meshlake as ml
from meshlake.write import system_table
from meshlake.write.system_table import RECORD_PROPERTIES, SystemTable

RECORDS = SystemTable("test_records", (("n", LongType(), True), ("note", StringType(), False)), "Test records.")


def _append(lake: ml.Lake, n: int) -> None:
    RECORDS.append(lake.catalog, lake.location_root, pa.table({"n": [n], "note": [f"#{n}"]}, RECORDS.arrow_schema))


def _metadata_files(lake: ml.Lake) -> list[Path]:
    table = lake.catalog.load_table(RECORDS.identifier)
    return list(Path(table.metadata.location.removeprefix("file://"), "metadata").glob("*.metadata.json"))


def test_record_appends_merge_manifests_trim_snapshots_and_keep_ten_metadata_files(
    lake: ml.Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(system_table, "TRIM_ABOVE", 20)
    monkeypatch.setattr(system_table, "KEEP_SNAPSHOTS", 5)
    _append(lake, 0)
    table = lake.catalog.load_table(RECORDS.identifier)
    table.transaction().set_properties({"commit.manifest.min-count-to-merge": "4"}).commit_transaction()

    for n in range(1, 40):
        _append(lake, n)

    table = lake.catalog.load_table(RECORDS.identifier)
    assert len(table.metadata.snapshots) <= 20
    assert len(table.current_snapshot().manifests(table.io)) < 4 * 3
    assert len(_metadata_files(lake)) <= 11
    rows = lake.sql("SELECT count(*), count(DISTINCT n) FROM meshlake.system.test_records").fetchall()
    assert rows == [(40, 40)], "trimming and merging never drop a record"


def test_a_record_table_made_before_gains_the_record_properties(lake: ml.Lake) -> None:
    from meshlake.catalog.catalogs import create_namespace_once

    create_namespace_once(lake.catalog, RECORDS.identifier[:2], {})
    lake.catalog.create_table(RECORDS.identifier, schema=RECORDS.schema, properties={"format-version": "2"})
    system_table.forget_handles()

    _append(lake, 1)

    properties = lake.catalog.load_table(RECORDS.identifier).properties
    assert {k: properties.get(k) for k in RECORD_PROPERTIES} == RECORD_PROPERTIES
