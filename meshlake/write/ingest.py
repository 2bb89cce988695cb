"""Turn anything that exports Arrow into batches that fit a port's contract, or refuse it precisely.

Input columns are matched to the contract by name and cast safely: widening and exact casts pass,
a lossy cast, a different kind of value (text into a number), a missing required column, an unknown
column, or a null in a required column raise `ContractViolationError` naming the column.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa
import pyarrow.compute as pc

from meshlake.errors import ContractViolationError


@runtime_checkable
class ArrowStreamExportable(Protocol):
    """Any object that exports an Arrow C stream (pyarrow, Polars, DuckDB, nanoarrow, …)."""

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...


def to_reader(data: Any) -> pa.RecordBatchReader:
    """A RecordBatchReader over `data`: Arrow, Polars (lazy or not), pandas, DuckDB, or an Arrow stream."""
    if isinstance(data, pa.RecordBatchReader):
        return data
    if isinstance(data, pa.Table):
        return data.to_reader()
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data]).to_reader()
    module = type(data).__module__.split(".")[0]
    if module == "polars":
        return _polars_reader(data)
    if module == "pandas":
        return pa.Table.from_pandas(data, preserve_index=False).to_reader()
    if module in ("duckdb", "_duckdb") and hasattr(data, "to_arrow_reader"):
        return data.to_arrow_reader(256 * 1024)
    if isinstance(data, ArrowStreamExportable):
        return pa.RecordBatchReader.from_stream(data)
    raise TypeError(
        f"cannot write a {type(data).__name__}: give a pyarrow Table or RecordBatchReader, a Polars or pandas "
        "DataFrame, a Polars LazyFrame, a DuckDB relation, or any object with __arrow_c_stream__"
    )


def _polars_reader(data: Any) -> pa.RecordBatchReader:
    import polars as pl

    if isinstance(data, pl.LazyFrame):
        schema = data.collect_schema()
        first = pl.DataFrame(schema=schema).to_arrow().schema

        def batches() -> Iterator[pa.RecordBatch]:
            for frame in data.collect_batches():
                yield from frame.to_arrow().to_batches()

        return pa.RecordBatchReader.from_batches(first, _cast_batches(batches(), first))
    return pa.RecordBatchReader.from_stream(data)


def _cast_batches(batches: Iterator[pa.RecordBatch], schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        yield batch if batch.schema.equals(schema) else batch.cast(schema)


class Conformer:
    """Casts input batches to a port's Arrow schema, checking every rule of the contract."""

    def __init__(self, target: pa.Schema, address: str) -> None:
        self.target = target
        self.address = address

    def check_schema(self, source: pa.Schema) -> None:
        """Refuse unknown columns, missing required columns and incompatible kinds before any row is read."""
        target_names = set(self.target.names)
        for name in source.names:
            if name not in target_names:
                self._fail(
                    f"column '{name}' is not in the contract (known columns: {', '.join(self.target.names)}); "
                    "add it to dataproduct.yaml and deploy, or drop it from the data",
                    name,
                )
        if len(set(source.names)) != len(source.names):
            duplicate = next(n for n in source.names if source.names.count(n) > 1)
            self._fail(f"column '{duplicate}' appears more than once in the data", duplicate)
        for target_field in self.target:
            if target_field.name not in source.names:
                if not target_field.nullable:
                    self._fail(f"required column '{target_field.name}' is missing from the data", target_field.name)
                continue
            source_type = source.field(target_field.name).type
            problem = _kind_problem(source_type, target_field.type)
            if problem:
                self._fail(f"column '{target_field.name}' {problem}", target_field.name)

    def conform(self, reader: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
        """Yield batches in the target schema; raises on the first batch that breaks the contract."""
        self.check_schema(reader.schema)
        for batch in reader:
            if batch.num_rows:
                yield self.conform_batch(batch)

    def conform_batch(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        columns = []
        for target_field in self.target:
            index = batch.schema.get_field_index(target_field.name)
            if index < 0:
                column: pa.Array = pa.nulls(batch.num_rows, target_field.type)
            else:
                column = self._cast(batch.column(index), target_field)
            if not target_field.nullable and column.null_count:
                self._fail(
                    f"required column '{target_field.name}' has {column.null_count} null value(s)",
                    target_field.name,
                )
            columns.append(column)
        return pa.RecordBatch.from_arrays(columns, schema=self.target)

    def _cast(self, column: pa.Array, target_field: pa.Field) -> pa.Array:
        target_type = target_field.type
        if column.type == target_type:
            return column
        if pa.types.is_dictionary(column.type):
            column = column.dictionary_decode()
        if isinstance(target_type, pa.ExtensionType) and target_type.extension_name == "arrow.uuid":
            return self._to_uuid(column, target_field.name)
        try:
            cast = pc.cast(column, target_type, safe=True)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            self._fail(f"cannot be cast from {column.type} to {target_type} without loss: {exc}", target_field.name)
        if pa.types.is_floating(column.type) and pa.types.is_floating(target_type):
            back = pc.cast(cast, column.type)
            same = pc.or_(pc.equal(back, column), pc.and_(pc.is_nan(back), pc.is_nan(column)))
            if not pc.all(pc.fill_null(same, True)).as_py():
                self._fail(f"cannot be narrowed from {column.type} to {target_type} without loss", target_field.name)
        return cast

    def _to_uuid(self, column: pa.Array, name: str) -> pa.Array:
        uuid_type = pa.uuid()
        if column.type == uuid_type:
            return column
        try:
            if pa.types.is_fixed_size_binary(column.type) and column.type.byte_width == 16:
                storage = column
            else:
                values = column.to_pylist()
                storage = pa.array(
                    [
                        None if v is None else (v.bytes if isinstance(v, uuid.UUID) else uuid.UUID(str(v)).bytes)
                        for v in values
                    ],
                    pa.binary(16),
                )
        except ValueError as exc:
            self._fail(f"holds a value that is not a UUID: {exc}", name)
        return pa.ExtensionArray.from_storage(uuid_type, storage)

    def _fail(self, problem: str, column: str) -> Any:
        raise ContractViolationError(
            f"{self.address}: {problem}. Nothing was written.", address=self.address, column=column
        )


def _family(kind: pa.DataType) -> str:
    checks = (
        ("boolean", pa.types.is_boolean),
        ("number", lambda t: pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)),
        (
            "text",
            lambda t: pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t),
        ),
        (
            "bytes",
            lambda t: pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t),
        ),
        ("timestamp", pa.types.is_timestamp),
        ("date", pa.types.is_date),
        ("time", pa.types.is_time),
        ("list", lambda t: pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_list_view(t)),
        ("struct", pa.types.is_struct),
        ("map", pa.types.is_map),
        ("null", pa.types.is_null),
    )
    if pa.types.is_dictionary(kind):
        return _family(kind.value_type)
    if isinstance(kind, pa.ExtensionType) and kind.extension_name == "arrow.uuid":
        return "uuid"
    return next((name for name, check in checks if check(kind)), str(kind))


def _kind_problem(source: pa.DataType, target: pa.DataType) -> str | None:
    """Why values of `source` cannot go into a `target` column, or None when a safe cast may work."""
    have, want = _family(source), _family(target)
    if have in ("null", want):
        if have == "timestamp" and want == "timestamp":
            return _zone_problem(source, target)
        return None
    if want == "uuid" and have in ("text", "bytes"):
        return None
    if have == "number" and want == "number":
        return None
    return f"holds {have} values ({source}) but the contract says {want} ({target})"


def _zone_problem(source: pa.DataType, target: pa.DataType) -> str | None:
    source_zone = getattr(source, "tz", None)
    target_zone = getattr(target, "tz", None)
    if target_zone and not source_zone:
        return "holds timestamps without a zone but the contract says timestamptz; attach a zone (e.g. UTC) first"
    if source_zone and not target_zone:
        return "holds zoned timestamps but the contract says timestamp (no zone); drop the zone explicitly first"
    return None
