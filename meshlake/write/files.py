"""Read Parquet, CSV and JSON-lines files as one Arrow stream, typed by a port's contract.

CSV and JSON carry no types of their own, so known columns are parsed with the contract's types
(ids stay text, zoned times become timestamptz); unknown columns are kept so the write can name them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pyarrow as pa

from meshlake.write.modes import FILE_FORMATS

FORMATS = FILE_FORMATS
_SUFFIXES = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".tsv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}


def detect_format(path: Path, given: str | None = None) -> str:
    """The file format from `given` or the file's suffix."""
    if given:
        if given not in FORMATS:
            raise ValueError(f"unknown format {given!r}; use one of {', '.join(FORMATS)}")
        return given
    kind = _SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise ValueError(f"cannot tell the format of {path.name}; pass --format {'|'.join(FORMATS)}")
    return kind


def count_rows(paths: Sequence[Path], fmt: str | None = None) -> int | None:
    """Total rows when cheap to know (Parquet footers), else None."""
    total = 0
    for path in paths:
        if detect_format(path, fmt) != "parquet":
            return None
        import pyarrow.parquet as pq

        total += pq.ParquetFile(path).metadata.num_rows
    return total


def open_files(
    paths: Sequence[Path],
    contract: pa.Schema,
    fmt: str | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> pa.RecordBatchReader:
    """One stream over every file, in the contract's types; columns keep each file's order."""
    if not paths:
        raise ValueError("no input files given")
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"input file {path} does not exist")
    first = _open(paths[0], contract, detect_format(paths[0], fmt))
    schema = first.schema

    def batches() -> Iterator[pa.RecordBatch]:
        readers = [first]
        for index, reader in enumerate(_lazy(paths, contract, fmt, readers)):
            for raw in reader:
                batch = raw if raw.schema.equals(schema) else _align(raw, schema, paths[index])
                if on_batch is not None:
                    on_batch(batch.num_rows)
                yield batch

    return pa.RecordBatchReader.from_batches(schema, batches())


def _lazy(
    paths: Sequence[Path], contract: pa.Schema, fmt: str | None, opened: list[pa.RecordBatchReader]
) -> Iterator[pa.RecordBatchReader]:
    yield opened[0]
    for path in paths[1:]:
        yield _open(path, contract, detect_format(path, fmt))


def _align(batch: pa.RecordBatch, schema: pa.Schema, path: Path) -> pa.RecordBatch:
    if set(batch.schema.names) != set(schema.names):
        raise ValueError(f"{path.name} has columns {batch.schema.names}, unlike the first file's {schema.names}")
    return batch.select(schema.names).cast(schema)


def _open(path: Path, contract: pa.Schema, fmt: str) -> pa.RecordBatchReader:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(path)
        return pa.RecordBatchReader.from_batches(parquet.schema_arrow, parquet.iter_batches(batch_size=128 * 1024))
    plain = pa.schema([pa.field(f.name, _plain(f.type)) for f in contract])
    if fmt == "csv":
        from pyarrow import csv

        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
        return csv.open_csv(
            path,
            parse_options=csv.ParseOptions(delimiter=delimiter),
            convert_options=csv.ConvertOptions(column_types={f.name: f.type for f in plain if _csv_ok(f.type)}),
        )
    import pyarrow.json as pj

    table = pj.read_json(path, parse_options=pj.ParseOptions(explicit_schema=plain, unexpected_field_behavior="infer"))
    present = [name for name in table.column_names if name in _keys(path)]
    return table.select(present or table.column_names).to_reader()


def _keys(path: Path) -> set[str]:
    """Column names that actually occur in a JSON-lines file (explicit schemas add absent ones)."""
    import json

    names: set[str] = set()
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                names.update(json.loads(line).keys())
    return names


def _plain(kind: pa.DataType) -> pa.DataType:
    if isinstance(kind, pa.ExtensionType):
        return pa.string()
    if pa.types.is_large_string(kind):
        return pa.string()
    return kind


def _csv_ok(kind: pa.DataType) -> bool:
    return not (pa.types.is_nested(kind) or pa.types.is_time(kind))
