"""Read a JSON-lines file in a contract's types, lists, structs and maps included; errors name file, line, column.

pyarrow's JSON reader parses the columns it can read exactly (numbers, text, lists, structs; decimals refuse
extra digits); dates and times are read as text and parsed by `text_types` (so a time without a zone never
lands in a `timestamptz` column), and maps — which pyarrow cannot read — are built from Python's parse of
each line. Fields the contract does not know are kept, so the write can name them.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any

import pyarrow as pa

from meshlake.errors import InputFileError
from meshlake.write.casts import contract_type_name, first_failing
from meshlake.write.text_types import explain, has_text_dates, parse_dates, read_type

_CHUNK = 2_000


@dataclass
class _Scan:
    """What one pass of Python's JSON parser learns: the keys present and the values of map columns."""

    keys: set[str] = field(default_factory=set)
    maps: dict[str, list[Any]] = field(default_factory=dict)


def read_jsonl(path: Path, contract: pa.Schema) -> pa.RecordBatchReader:
    """The rows of `path` in the contract's types for the columns it knows."""
    import pyarrow.json as pj

    wanted = {f.name: f.type for f in contract}
    maps = [name for name, kind in wanted.items() if _has_map(kind)]
    scan = _scan(path, {name: read_type(wanted[name], parses_dates=False) for name in maps})
    plain = pa.schema([pa.field(n, read_type(t, parses_dates=False)) for n, t in wanted.items() if n not in maps])
    options = pj.ParseOptions(explicit_schema=plain, unexpected_field_behavior="infer")
    try:
        table = pj.read_json(path, parse_options=options)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise _located(path, exc, options, wanted) from exc
    table = table.select([n for n in table.column_names if n in scan.keys and n not in maps])
    for name in maps:
        if name in scan.keys:
            table = table.append_column(name, _map_column(path, scan.maps[name], name, wanted[name]))
    for index, name in enumerate(table.column_names):
        if name in wanted and has_text_dates(wanted[name]):
            table = table.set_column(index, name, _dates(path, table.column(index).combine_chunks(), name, wanted))
    return table.to_reader()


def _map_column(path: Path, values: list[Any], name: str, kind: pa.DataType) -> pa.Array:
    read = read_type(kind, parses_dates=False)
    try:
        return pa.array(values, read)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
        for row, value in enumerate(values):
            try:
                pa.array([value], read)
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as failure:
                problem, fix = explain(str(failure), kind)
                shown = json.dumps(value, default=str)[:80]
                line = _line_of_row(path, row)
                raise InputFileError(problem, file=str(path), line=line, column=name, value=shown, fix=fix) from exc
        raise


def _dates(path: Path, column: pa.Array, name: str, wanted: dict[str, pa.DataType]) -> pa.Array:
    kind = wanted[name]
    try:
        return parse_dates(column, kind)
    except pa.ArrowInvalid as exc:
        row = first_failing(column, lambda part: parse_dates(part, kind)) or 0
        problem, fix = explain(str(exc), kind)
        value = json.dumps(column[row].as_py(), default=str)
        raise InputFileError(
            problem, file=str(path), line=_line_of_row(path, row), column=name, value=value, fix=fix
        ) from exc


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(1-based line number, bytes) of every line that is not blank."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if raw.strip():
                yield number, raw


def _line_of_row(path: Path, row: int) -> int | None:
    return next((number for index, (number, _) in enumerate(_lines(path)) if index == row), None)


def _scan(path: Path, maps: dict[str, pa.DataType]) -> _Scan:
    """Check every line is a JSON object, collect the keys, and build map columns' values."""
    scan = _Scan(maps={name: [] for name in maps})
    for number, raw in _lines(path):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputFileError(
                f"the line is not valid UTF-8 (byte {exc.start + 1})",
                file=str(path),
                line=number,
                fix="save the file as UTF-8",
            ) from exc
        try:
            row = json.loads(text, parse_float=Decimal) if maps else json.loads(text)
        except (json.JSONDecodeError, RecursionError) as exc:
            detail = (
                f"{exc.msg} at character {exc.colno}" if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
            )
            raise InputFileError(
                f"the line is not valid JSON ({detail})", file=str(path), line=number, fix="fix the line"
            ) from exc
        if not isinstance(row, dict):
            raise InputFileError(
                f"the line is a JSON {_json_kind(row)}, not an object",
                file=str(path),
                line=number,
                fix='write one JSON object per line, e.g. {"id": 1}',
            )
        scan.keys.update(row)
        for name, kind in maps.items():
            try:
                scan.maps[name].append(_python(row.get(name), kind, name))
            except _MisfitError as misfit:
                raise InputFileError(
                    misfit.problem,
                    file=str(path),
                    line=number,
                    column=misfit.path,
                    value=misfit.value,
                    fix="fix the value in the file",
                ) from None
    return scan


class _MisfitError(Exception):
    def __init__(self, path: str, problem: str, value: Any) -> None:
        self.path = path
        self.problem = problem
        self.value = json.dumps(value, default=str)[:80]
        super().__init__(problem)


def _python(value: Any, kind: pa.DataType, path: str) -> Any:
    """A parsed JSON value as pyarrow builds `kind` from Python (maps as key-value pairs), checked on the way."""
    if value is None:
        return None
    if pa.types.is_map(kind):
        if not isinstance(value, dict):
            raise _MisfitError(path, f"a JSON {_json_kind(value)} where the map column expects an object", value)
        return [(_key(k, kind.key_type, path), _python(v, kind.item_type, f"{path}.value")) for k, v in value.items()]
    if pa.types.is_list(kind):
        if not isinstance(value, list):
            raise _MisfitError(path, f"a JSON {_json_kind(value)} where the list expects an array", value)
        return [_python(item, kind.value_type, f"{path}[]") for item in value]
    if pa.types.is_struct(kind):
        if not isinstance(value, dict):
            raise _MisfitError(path, f"a JSON {_json_kind(value)} where the struct expects an object", value)
        names = [f.name for f in kind]
        for key in value:
            if key not in names:
                raise _MisfitError(
                    f"{path}.{key}", f"field '{key}' is not in the contract (fields: {', '.join(names)})", value
                )
        return {f.name: _python(value.get(f.name), f.type, f"{path}.{f.name}") for f in kind}
    return _leaf(value, kind, path)


def _leaf(value: Any, kind: pa.DataType, path: str) -> Any:
    number = isinstance(value, (int, Decimal)) and not isinstance(value, bool)
    if pa.types.is_string(kind) and isinstance(value, str):
        return value
    if pa.types.is_boolean(kind) and isinstance(value, bool):
        return value
    if pa.types.is_integer(kind) and number and value == int(value):
        return int(value)
    if pa.types.is_floating(kind) and number:
        return float(value)
    if pa.types.is_decimal(kind) and number:
        exact = Decimal(value)
        with localcontext(prec=100):
            if exact.quantize(Decimal(1).scaleb(-kind.scale)) != exact:
                problem = f"the number has more decimal places than {contract_type_name(kind)} holds"
                raise _MisfitError(path, problem, value)
        return exact
    if pa.types.is_binary(kind) and isinstance(value, str):
        return value.encode("utf-8")
    raise _MisfitError(path, f"a JSON {_json_kind(value)} where {contract_type_name(kind)} is expected", value)


def _key(key: str, kind: pa.DataType, path: str) -> Any:
    if pa.types.is_integer(kind):
        try:
            return int(key)
        except ValueError:
            raise _MisfitError(
                f"{path}.key", f"the key is not a whole number ({contract_type_name(kind)})", key
            ) from None
    return _leaf(key, kind, f"{path}.key")


def _json_kind(value: Any) -> str:
    kinds = ((bool, "boolean"), (dict, "object"), (list, "array"), (str, "string"), ((int, float, Decimal), "number"))
    return "null" if value is None else next(name for kind, name in kinds if isinstance(value, kind))


def _has_map(kind: pa.DataType) -> bool:
    if pa.types.is_map(kind):
        return True
    if pa.types.is_large_list(kind) or pa.types.is_list(kind):
        return _has_map(kind.value_type)
    if pa.types.is_struct(kind):
        return any(_has_map(f.type) for f in kind)
    return False


def _located(path: Path, exc: Exception, options: Any, wanted: dict[str, pa.DataType]) -> InputFileError:
    """Find the line and field pyarrow could not read (chunk by chunk, then line by line)."""
    import pyarrow.json as pj

    def fails(lines: list[bytes]) -> Exception | None:
        try:
            pj.read_json(io.BytesIO(b"".join(lines)), parse_options=options)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
            failure: Exception = error
            return failure
        return None

    def first_bad(chunk: list[tuple[int, bytes]]) -> InputFileError | None:
        if fails([raw for _, raw in chunk]) is None:
            return None
        for number, raw in chunk:
            error = fails([raw])
            if error is not None:
                return _field_error(path, number, raw, error, options, wanted)
        return None

    chunk: list[tuple[int, bytes]] = []
    for number, raw in _lines(path):
        chunk.append((number, raw if raw.endswith(b"\n") else raw + b"\n"))
        if len(chunk) == _CHUNK:
            found = first_bad(chunk)
            if found is not None:
                return found
            chunk = []
    found = first_bad(chunk) if chunk else None
    if found is not None:
        return found
    problem, fix = explain(str(exc), None)
    return InputFileError(problem, file=str(path), fix=fix)


def _field_error(
    path: Path, number: int, raw: bytes, error: Exception, options: Any, wanted: dict[str, pa.DataType]
) -> InputFileError:
    import pyarrow.json as pj

    row = json.loads(raw)
    for key, value in row.items():
        single = json.dumps({key: value}).encode() + b"\n"
        try:
            pj.read_json(io.BytesIO(single), parse_options=options)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as failure:
            problem, fix = explain(str(failure), wanted.get(key))
            shown = json.dumps(value)[:80]
            return InputFileError(problem, file=str(path), line=number, column=key, value=shown, fix=fix)
    problem, fix = explain(str(error), None)
    return InputFileError(problem, file=str(path), line=number, fix=fix)
