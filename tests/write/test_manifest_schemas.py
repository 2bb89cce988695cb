"""Manifests written with kept Avro schemas (`meshlake.write.manifest_schemas`) are the manifests pyiceberg writes:
same header, same entries, read back by pyiceberg; a schema or spec they were not built for is never used."""

from __future__ import annotations

from typing import Any

import pytest
from pyiceberg.manifest import ManifestContent, write_manifest
from pyiceberg.schema import Schema
from pyiceberg.types import LongType, NestedField, StringType

from meshlake.write import manifest_schemas
from meshlake.write.manifest_merge import DeleteManifestWriter
from meshlake.write.manifest_schemas import DataManifestWriter
from meshlake.write.staged_manifests import added_entry, write_manifests
from tests.workers import batch


@pytest.fixture
def filled(port: Any) -> Any:
    port.write(batch("a", 0, 10))
    port.write(batch("b", 0, 10))
    return port


def header_and_records(table: Any, path: str) -> tuple[dict[str, str], list[Any]]:
    """A manifest's Avro header metadata and its entries as pyiceberg reads them."""
    from pyiceberg.avro.file import AvroFile
    from pyiceberg.manifest import (
        MANIFEST_ENTRY_SCHEMAS,
        DataFile,
        DataFileContent,
        FileFormat,
        ManifestEntry,
        ManifestEntryStatus,
    )

    with AvroFile[ManifestEntry](
        table.io.new_input(path),
        MANIFEST_ENTRY_SCHEMAS[2],
        read_types={-1: ManifestEntry, 2: DataFile},
        read_enums={0: ManifestEntryStatus, 101: FileFormat, 134: DataFileContent},
    ) as reader:
        return dict(reader.header.meta), [plain(entry) for entry in reader]


def plain(value: Any) -> Any:
    """A record read from Avro as lists and dicts, to compare by value."""
    from collections.abc import Mapping

    from pyiceberg.typedef import Record

    if isinstance(value, Record):
        return [plain(value[i]) for i in range(len(value))]
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def pyiceberg_manifest(table: Any, files: list[Any], snapshot_id: int, path: str) -> Any:
    metadata = table.metadata
    output = table.io.new_output(path)
    with write_manifest(2, metadata.spec(), metadata.schema(), output, snapshot_id, "gzip") as writer:
        for file in files:
            writer.add(added_entry(snapshot_id, file))
    return writer.to_manifest_file()


def data_files(table: Any) -> list[Any]:
    return [task.file for task in table.scan().plan_files()]


def test_a_data_manifest_is_the_one_pyiceberg_writes(filled: Any, tmp_path: Any) -> None:
    table = filled.table()
    files, snapshot_id = data_files(table), table.metadata.new_snapshot_id()
    ours = [write_manifests(table, files, snapshot_id, deletes=False)[0] for _ in range(2)]  # the second: kept
    theirs = pyiceberg_manifest(table, files, snapshot_id, str(tmp_path / "theirs.avro"))
    expected = header_and_records(table, theirs.manifest_path)
    for manifest in ours:
        assert header_and_records(table, manifest.manifest_path) == expected
        assert manifest.content == ManifestContent.DATA and manifest.added_files_count == len(files) == 2
        entries = manifest.fetch_manifest_entry(table.io)
        assert {e.data_file.file_path for e in entries} == {f.file_path for f in files}
        assert manifest.partitions == theirs.partitions and manifest.added_rows_count == theirs.added_rows_count


def test_a_delete_manifest_says_so_in_its_header(filled: Any, tmp_path: Any) -> None:
    table = filled.table()
    metadata, snapshot_id = table.metadata, table.metadata.new_snapshot_id()
    output = table.io.new_output(str(tmp_path / "deletes.avro"))
    files = data_files(table)
    with DeleteManifestWriter(metadata.spec(), metadata.schema(), output, snapshot_id, "gzip") as writer:
        writer.add(added_entry(snapshot_id, files[0]))
    meta, records = header_and_records(table, str(tmp_path / "deletes.avro"))
    _, data_records = header_and_records(
        table, write_manifests(table, files[:1], snapshot_id, deletes=False)[0].manifest_path
    )
    assert meta["content"] == "deletes" and records == data_records
    assert writer.to_manifest_file().content == ManifestContent.DELETES


def test_kept_schemas_serve_only_the_schema_and_spec_they_were_built_for(filled: Any) -> None:
    table = filled.table()
    metadata, snapshot_id = table.metadata, table.metadata.new_snapshot_id()
    schema, spec = metadata.schema(), metadata.spec()
    output = table.io.new_output(f"{metadata.location}/metadata/probe.avro")
    writer = DataManifestWriter(spec, schema, output, snapshot_id, "gzip")
    kept = manifest_schemas.schemas_of(writer)
    assert manifest_schemas.schemas_of(writer) is kept
    other = Schema(
        NestedField(1, "id", LongType(), required=True),
        NestedField(2, "other", StringType(), required=False),
        schema_id=schema.schema_id,
    )  # another table's schema with the same id
    changed = manifest_schemas.schemas_of(DataManifestWriter(spec, other, output, snapshot_id, "gzip"))
    assert changed is not kept and '"other"' in changed.metadata["schema"]
    assert manifest_schemas.schemas_of(DataManifestWriter(spec, other, output, snapshot_id, "gzip")) is changed
    assert manifest_schemas.schemas_of(DataManifestWriter(spec, other, output, snapshot_id, "deflate")) is not changed
    assert manifest_schemas.schemas_of(writer) is not kept, "replaced by the other schema's: built again"


def test_a_schema_is_the_kept_one_only_if_its_manifest_header_would_be_the_same() -> None:
    from pyiceberg.types import DoubleType, ListType, StructType

    def schema(*, name: str = "id", doc: str | None = None, default: float = 0.0, inner: str = "x") -> Schema:
        point = StructType(NestedField(4, inner, LongType(), required=False))
        return Schema(
            NestedField(1, name, LongType(), required=True, doc=doc),
            NestedField(2, "v", DoubleType(), required=False, initial_default=default, write_default=default),
            NestedField(3, "points", ListType(5, point, element_required=False), required=False),
            schema_id=3,
        )

    kept = schema()
    assert manifest_schemas._same(kept, kept) and manifest_schemas._same(kept, schema())
    for other in (schema(name="key"), schema(doc="the key"), schema(inner="y"), schema(default=1.0)):
        assert not manifest_schemas._same(kept, other)
    negative = schema(default=-0.0)  # equal to 0.0, written otherwise
    assert negative == kept and negative.model_dump_json() != kept.model_dump_json()
    assert not manifest_schemas._same(kept, negative)
