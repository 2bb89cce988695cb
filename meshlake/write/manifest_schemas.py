"""Manifest writers that build their Avro schemas once per (kind, format version, partition spec, table schema).

For every manifest it writes, pyiceberg's `ManifestWriter` builds the manifest entry schema with the spec's
partition type, the tree of Avro writers resolving it, the header's Avro schema as JSON and the table schema's
JSON: about 0.5 ms of the ~1.3 ms a one-entry manifest costs, paid by every merge-on-read upsert for its data
manifest and its delete manifest. They depend on nothing else, and the Avro writers hold no state (each call is
handed its encoder), so one set serves every manifest of that kind, in every thread. The files are byte for byte
what pyiceberg writes (but for the random sync marker every Avro file has).
"""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from pyiceberg.avro.codecs import AVRO_CODEC_KEY, CODEC_MAPPING_ICEBERG_TO_AVRO
from pyiceberg.avro.file import _SCHEMA_KEY, MAGIC, META_SCHEMA, SYNC_SIZE, AvroFileHeader, AvroOutputFile
from pyiceberg.avro.resolver import construct_writer, resolve_writer
from pyiceberg.avro.writer import Writer
from pyiceberg.io import OutputFile
from pyiceberg.manifest import DEFAULT_READ_VERSION, ManifestEntry, ManifestWriter, ManifestWriterV2
from pyiceberg.partitioning import PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.table import TableProperties
from pyiceberg.types import ListType, MapType, NestedField, StructType
from pyiceberg.utils.schema_conversion import AvroSchemaConversion

KEPT = 64
"""Schema sets kept (the newest used): one per kind of manifest of each table schema and spec a process writes."""


@dataclass(frozen=True)
class _Schemas:
    """What every manifest of one kind, format version, spec and table schema shares."""

    spec: PartitionSpec
    schema: Schema
    file_schema: Schema
    writer: Writer
    header_schema: str
    metadata: dict[str, str]


_kept: OrderedDict[tuple[object, ...], _Schemas] = OrderedDict()
_lock = threading.Lock()
_header_writer = construct_writer(META_SCHEMA)


def schemas_of(manifest: ManifestWriter) -> _Schemas:
    """The schemas of `manifest`'s kind, format version, spec and table schema: kept, or built (and kept)."""
    spec, schema = manifest._spec, manifest._schema
    key = (type(manifest), manifest.version, manifest._compression, spec.spec_id, schema.schema_id)
    with _lock:
        found = _kept.get(key)
        if found is not None:
            _kept.move_to_end(key)
    if found is not None and (found.spec is spec or found.spec == spec) and _same(found.schema, schema):
        return found
    file_schema = manifest._with_partition(manifest.version)
    record_schema = manifest._with_partition(DEFAULT_READ_VERSION)
    built = _Schemas(
        spec,
        schema,
        file_schema,
        resolve_writer(record_schema=record_schema, file_schema=file_schema),
        json.dumps(AvroSchemaConversion().iceberg_to_avro(file_schema, schema_name="manifest_entry")),
        manifest._meta,
    )
    with _lock:
        _kept[key] = built
        _kept.move_to_end(key)
        while len(_kept) > KEPT:
            _kept.popitem(last=False)
    return built


def _same(kept: Schema, schema: Schema) -> bool:
    """Whether two table schemas are one, down to the JSON a manifest's header holds (an id is reused by tables of
    another shape). `==` compares every field's id, name, type, requiredness, doc and defaults, nested ones too;
    equal defaults may still be written otherwise (0.0 and -0.0, 1 and 1.0, Decimal 1.0 and 1.00), so those are
    compared by type and repr: ~30 µs, where rendering both schemas as JSON took ~200 µs for 20 columns."""
    return kept is schema or (kept == schema and _defaults(kept) == _defaults(schema))


def _defaults(schema: Schema) -> list[tuple[int, str, str]]:
    """Each field's (id, default values' type and repr), for the fields, nested too, that have a default."""
    return [
        (field.field_id, _shown(field.initial_default), _shown(field.write_default))
        for field in _fields(schema.fields)
        if field.initial_default is not None or field.write_default is not None
    ]


def _shown(value: object) -> str:
    return f"{type(value).__qualname__}:{value!r}"


def _fields(fields: Iterable[NestedField]) -> Iterator[NestedField]:
    for field in fields:
        yield field
        kind = field.field_type
        if isinstance(kind, StructType):
            yield from _fields(kind.fields)
        elif isinstance(kind, ListType):
            yield from _fields((kind.element_field,))
        elif isinstance(kind, MapType):
            yield from _fields((kind.key_field, kind.value_field))


class _ManifestFile(AvroOutputFile[ManifestEntry]):
    """An Avro manifest file written with kept schemas (see the module docstring)."""

    def __init__(self, output_file: OutputFile, schemas: _Schemas) -> None:  # builds nothing: `schemas` holds it
        self.output_file = output_file
        self.file_schema = schemas.file_schema
        self.schema_name = "manifest_entry"
        self.sync_bytes = os.urandom(SYNC_SIZE)
        self.writer = schemas.writer
        self.metadata = dict(schemas.metadata)
        self.header_schema = schemas.header_schema

    def _write_header(self) -> None:
        codec = self.metadata.get(AVRO_CODEC_KEY, TableProperties.WRITE_AVRO_COMPRESSION_DEFAULT)
        codec = CODEC_MAPPING_ICEBERG_TO_AVRO.get(codec) or codec
        meta = {**self.metadata, _SCHEMA_KEY: self.header_schema, AVRO_CODEC_KEY: codec}
        _header_writer.write(self.encoder, AvroFileHeader(MAGIC, meta, self.sync_bytes))


class KeptSchemas(ManifestWriter):
    """Mixed into a manifest writer: its Avro file is written with kept schemas."""

    def new_writer(self) -> AvroOutputFile[ManifestEntry]:
        return _ManifestFile(self._output_file, schemas_of(self))


class DataManifestWriter(KeptSchemas, ManifestWriterV2):
    """pyiceberg's v2 data manifest writer, with kept schemas."""
