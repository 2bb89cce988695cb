"""Manifest reading with reused Avro readers: the same entries as pyiceberg, whatever the spec or content."""

from __future__ import annotations

import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.manifest import DataFileContent, ManifestEntry, ManifestEntryStatus
from pyiceberg.table import Table
from pyiceberg.transforms import IdentityTransform

from meshlake.query.manifests import clear_readers, read_manifest
from meshlake.query.plan import plan_scan

from .conftest import Files


def _described(entries: list[ManifestEntry]) -> list[tuple[object, ...]]:
    return [
        (
            e.status,
            e.snapshot_id,
            e.sequence_number,
            e.file_sequence_number,
            e.data_file.content,
            e.data_file.file_path,
            e.data_file.spec_id,
            tuple(e.data_file.partition),
            e.data_file.record_count,
            e.data_file.file_size_in_bytes,
            e.data_file.lower_bounds,
            e.data_file.upper_bounds,
            e.data_file.equality_ids,
        )
        for e in entries
    ]


def _table(catalog: SqlCatalog) -> Table:
    catalog.create_namespace("sales")
    schema = pa.schema([("id", pa.int64()), ("region", pa.string())])
    return catalog.create_table("sales.orders", schema=schema)


def test_read_manifest_returns_the_entries_pyiceberg_reads(catalog: SqlCatalog, mor: type[Files]) -> None:
    table = _table(catalog)
    mor.append(table, [{"id": 1, "region": "eu"}, {"id": 2, "region": "us"}, {"id": 5, "region": "us"}])
    first = mor.files_of(table)[0]
    with table.update_spec() as spec:  # a second partition spec: manifests with another Avro schema
        spec.add_field("region", IdentityTransform(), "region")
    eu = [mor.data_file(table, [{"id": i, "region": "eu"}], partition=["eu"]) for i in (3, 4)]
    mor.commit(table, add=eu)
    table.delete("id = 3")  # drops one file of a two-file manifest: DELETED and EXISTING entries
    deletes = [mor.position_deletes(table, [(first, 0)]), mor.equality_deletes(table, {"id": [5]})]
    mor.commit(table, deletes=deletes, delete_spec_id=0)
    manifests = table.current_snapshot().manifests(table.io)
    every = [e for m in manifests for e in m.fetch_manifest_entry(table.io, discard_deleted=False)]
    assert {e.status for e in every} == set(ManifestEntryStatus)
    assert {e.data_file.content for e in every} == set(DataFileContent)
    assert len({m.partition_spec_id for m in manifests}) == 2
    clear_readers()
    for _ in range(2):  # the second pass reuses every reader
        for manifest in manifests:
            expected = manifest.fetch_manifest_entry(table.io, discard_deleted=True)
            assert _described(read_manifest(table.io, manifest)) == _described(expected)


def test_a_snapshot_deep_in_a_long_history_plans_like_pyiceberg(catalog: SqlCatalog, mor: type[Files]) -> None:
    table = _table(catalog)
    for i in range(30):
        mor.append(table, [{"id": i, "region": "eu"}])
    snapshots = table.snapshots()
    for snapshot in (snapshots[0], snapshots[14], snapshots[-1]):
        plan = plan_scan(table, snapshot.snapshot_id)
        expected = {t.file.file_path for t in table.scan(snapshot_id=snapshot.snapshot_id).plan_files()}
        assert set(plan.files) == expected
        assert [s.schema_id for s in plan.schemas] == [s.schema_id for s in table.schemas().values()]
