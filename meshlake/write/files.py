"""Read Parquet, CSV and JSON-lines files as one Arrow stream, typed by a port's contract.

CSV and JSON carry no types of their own, so known columns are parsed with the contract's types
(ids stay text, zoned times become timestamptz; `csv_input`, `jsonl_input`); unknown columns are kept so
the write can name them. A value that does not parse raises `InputFileError` naming file, line and column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pyarrow as pa

from meshlake.errors import InputFileError
from meshlake.write.casts import CastRefusedError, cast_column
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
        raise InputFileError(
            f"the file has columns {batch.schema.names}, unlike the first file's {schema.names}",
            file=str(path),
            fix="write files with the same columns together, or write them one at a time",
        )
    try:
        columns = [cast_column(batch.column(f.name), f, f.name) for f in schema]
    except CastRefusedError as refused:
        raise InputFileError(
            f"its values ({refused.source}) do not fit the first file's type ({refused.target}): {refused.problem}",
            file=str(path),
            column=refused.path,
            fix="write files of different types one at a time",
        ) from refused
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _open(path: Path, contract: pa.Schema, fmt: str) -> pa.RecordBatchReader:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(path)
        return pa.RecordBatchReader.from_batches(parquet.schema_arrow, parquet.iter_batches(batch_size=128 * 1024))
    if fmt == "csv":
        from meshlake.write.csv_input import open_csv

        return open_csv(path, contract)
    from meshlake.write.jsonl_input import read_jsonl

    return read_jsonl(path, contract)
