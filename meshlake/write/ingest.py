"""Turn anything that exports Arrow into batches that fit a port's contract, or refuse it precisely.

Input columns are matched to the contract by name and cast without changing a value (the rule is in
`casts`): a lossy cast at any depth, a different kind of value (text into a number), a missing required
column, an unknown column or nested field, or a null in a required column raise `ContractViolationError`
naming the column path, both types and an example value.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa

from meshlake.errors import ContractViolationError
from meshlake.write.casts import CastRefusedError, cast_column, check_type, contract_type_name


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
    """Casts input batches to a port's Arrow schema, checking every rule of the contract (see `casts`)."""

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
            try:
                check_type(source.field(target_field.name).type, target_field, target_field.name)
            except CastRefusedError as refused:
                self._refuse(refused)

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
            column = batch.column(index) if index >= 0 else pa.nulls(batch.num_rows)
            try:
                columns.append(cast_column(column, target_field, target_field.name))
            except CastRefusedError as refused:
                self._refuse(refused)
        return pa.RecordBatch.from_arrays(columns, schema=self.target)

    def _refuse(self, refused: CastRefusedError) -> Any:
        kinds = f"input {refused.source}, contract {contract_type_name(refused.target)}"
        raise ContractViolationError(
            f"{self.address}: column '{refused.path}' ({kinds}): {refused.problem}. Nothing was written.",
            address=self.address,
            column=refused.path,
            value=refused.value,
        ) from refused

    def _fail(self, problem: str, column: str) -> Any:
        raise ContractViolationError(
            f"{self.address}: {problem}. Nothing was written.", address=self.address, column=column
        )
