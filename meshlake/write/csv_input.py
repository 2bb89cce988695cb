"""Read a CSV (or TSV) file in a contract's types; a value that does not parse names its file, line and column.

Nulls: an empty unquoted field is NULL (the usual CSV convention); a quoted `""` is an empty string, and no
other text (`NULL`, `NA`, `-`) means NULL. Columns the contract knows are parsed with its types (ids stay text,
zoned times become timestamptz); unknown columns are kept so the write can name them.
"""

from __future__ import annotations

import csv as pycsv
import re
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from meshlake.errors import InputFileError
from meshlake.write.casts import first_failing
from meshlake.write.text_types import explain, has_text_dates, parse_dates, read_type

_CHUNK = 65_536


def open_csv(path: Path, contract: pa.Schema) -> pa.RecordBatchReader:
    """A stream of batches of `path`, with the contract's types for the columns it knows."""
    from pyarrow import csv

    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    types = {f.name: read_type(f.type, parses_dates=True) for f in contract if _csv_ok(f.type)}
    options = csv.ConvertOptions(
        column_types=types, null_values=[""], strings_can_be_null=True, quoted_strings_can_be_null=False
    )
    wanted = {f.name: f.type for f in contract}
    try:
        reader = csv.open_csv(path, parse_options=csv.ParseOptions(delimiter=delimiter), convert_options=options)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise _located(path, delimiter, exc, wanted) from exc
    dated = [name for name in reader.schema.names if name in wanted and has_text_dates(wanted[name])]
    dated = [name for name in dated if pa.types.is_string(reader.schema.field(name).type)]
    schema = reader.schema
    for name in dated:
        schema = schema.set(schema.get_field_index(name), pa.field(name, wanted[name]))

    def batches() -> Iterator[pa.RecordBatch]:
        rows = 0
        try:
            for raw in reader:
                batch = raw
                for name in dated:
                    index = batch.schema.get_field_index(name)
                    try:
                        column = parse_dates(batch.column(index), wanted[name])
                    except pa.ArrowInvalid as exc:
                        raise _bad_row(path, delimiter, batch.column(index), rows, name, wanted[name], exc) from exc
                    batch = batch.set_column(index, name, column)
                rows += batch.num_rows
                yield batch
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise _located(path, delimiter, exc, wanted) from exc

    return pa.RecordBatchReader.from_batches(schema, batches())


def _csv_ok(kind: pa.DataType) -> bool:
    return not pa.types.is_nested(kind)


def _bad_row(
    path: Path, delimiter: str, column: pa.Array, before: int, name: str, kind: pa.DataType, exc: Exception
) -> InputFileError:
    """The error for the first value of `column` (rows `before`… of the file) that does not parse."""
    index = first_failing(column, lambda part: parse_dates(part, kind)) or 0
    value = column[index].as_py()
    problem, fix = explain(str(exc), kind)
    line = _line_of_row(path, delimiter, before + index)
    return InputFileError(problem, file=str(path), line=line, column=name, value=repr(value), fix=fix)


def _located(path: Path, delimiter: str, exc: Exception, wanted: dict[str, pa.DataType]) -> InputFileError:
    """Turn a pyarrow CSV error into one naming the file, the 1-based line, the column and the value."""
    message = str(exc)
    structure = re.search(r"Expected (\d+) columns, got (\d+)", message)
    if structure:
        line = _ragged_line(path, delimiter, int(structure.group(1)))
        problem = f"the row has {structure.group(2)} fields but the header has {structure.group(1)}"
        return InputFileError(problem, file=str(path), line=line, fix="fix the row or quote its separators")
    cell = re.search(r"In CSV column #(\d+): (.*)", message, re.S)
    if cell is None:
        problem, fix = explain(message, None)
        return InputFileError(problem, file=str(path), fix=fix)
    position, detail = int(cell.group(1)), cell.group(2)
    header = _header(path, delimiter)
    name = header[position] if position < len(header) else f"#{position + 1}"
    kind = wanted.get(name)
    problem, fix = explain(detail, kind)
    quoted = re.search(r"invalid value '(.*)'$", detail, re.S) or re.search(r"offset in '(.*?)'\.", detail, re.S)
    if "UTF8" in detail:
        found = _first_bad_utf8(path)
    else:
        found = _find_value(path, delimiter, position, kind, quoted.group(1) if quoted else None)
    if found is None:
        return InputFileError(problem, file=str(path), column=name, fix=fix)
    line, value = found
    return InputFileError(problem, file=str(path), line=line, column=name, value=repr(value), fix=fix)


def _records(path: Path, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(first line, fields) of each record, header included; lines count from 1, quoted newlines included."""
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        reader = pycsv.reader(handle, delimiter=delimiter)
        consumed = 0
        for fields in reader:
            start, consumed = consumed + 1, reader.line_num
            if fields:
                yield start, fields


def _header(path: Path, delimiter: str) -> list[str]:
    return next((fields for _, fields in _records(path, delimiter)), [])


def _ragged_line(path: Path, delimiter: str, width: int) -> int | None:
    return next((line for line, fields in _records(path, delimiter) if len(fields) != width), None)


def _line_of_row(path: Path, delimiter: str, row: int) -> int | None:
    for index, (line, _) in enumerate(_records(path, delimiter)):
        if index == row + 1:  # the header is record 0
            return line
    return None


def _find_value(
    path: Path, delimiter: str, position: int, kind: pa.DataType | None, value: str | None
) -> tuple[int, str] | None:
    """The first (line, text) in column `position` equal to `value`, or (without a value) that `kind` refuses."""
    if value is None and kind is None:
        return None
    records = _records(path, delimiter)
    next(records, None)  # the header
    chunk: list[tuple[int, str]] = []
    for line, fields in records:
        text = fields[position] if position < len(fields) else ""
        if value is not None:
            if text == value:
                return line, text
            continue
        chunk.append((line, text))
        if len(chunk) == _CHUNK:
            found = _first_unparsed(chunk, kind)
            if found:
                return found
            chunk = []
    return _first_unparsed(chunk, kind) if value is None and chunk else None


def _first_unparsed(chunk: list[tuple[int, str]], kind: pa.DataType | None) -> tuple[int, str] | None:
    if kind is None:
        return None
    target = read_type(kind, parses_dates=True)
    try:
        pa.array([text or None for _, text in chunk], pa.string()).cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    else:
        return None
    for line, text in chunk:
        try:
            pa.array([text or None], pa.string()).cast(target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return line, text
    return None


def _first_bad_utf8(path: Path) -> tuple[int, str] | None:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return number, raw[:60].decode("utf-8", errors="replace").rstrip("\n")
    return None
