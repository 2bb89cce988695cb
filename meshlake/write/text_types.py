"""Values written as text (CSV, JSON-lines) read into a contract's types, or an error saying why not.

A text parser reads what it reads exactly or not at all: dates and times are parsed from their text here
(pyarrow's JSON reader silently moves a zoned time into a zone-less column and cannot read dates), a time
without a zone never lands in a `timestamptz` column, and every failure is explained in the contract's words.
"""

from __future__ import annotations

import datetime as dt
import re

import pyarrow as pa
import pyarrow.compute as pc

from meshlake.write.casts import contract_type_name


def read_type(kind: pa.DataType, *, parses_dates: bool) -> pa.DataType:
    """The type a text reader should produce for a contract type (text where the reader would misread).

    `parses_dates`: the reader turns ISO dates and times into date and timestamp values correctly (CSV does).
    """
    if isinstance(kind, pa.BaseExtensionType) or pa.types.is_large_string(kind) or pa.types.is_time(kind):
        return pa.string()
    if (pa.types.is_timestamp(kind) or pa.types.is_date(kind)) and not parses_dates:
        return pa.string()
    if pa.types.is_large_binary(kind):
        return pa.binary()
    if pa.types.is_large_list(kind) or pa.types.is_list(kind):
        return pa.list_(read_type(kind.value_type, parses_dates=parses_dates))
    if pa.types.is_struct(kind):
        return pa.struct([pa.field(f.name, read_type(f.type, parses_dates=parses_dates)) for f in kind])
    if pa.types.is_map(kind):
        key = read_type(kind.key_type, parses_dates=parses_dates)
        return pa.map_(key, read_type(kind.item_type, parses_dates=parses_dates))
    return kind


def has_text_dates(kind: pa.DataType) -> bool:
    """True when values of `kind` are read as text and parsed by `parse_dates` (dates and times at any depth)."""
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind) or pa.types.is_time(kind):
        return True
    if pa.types.is_map(kind):
        return has_text_dates(kind.key_type) or has_text_dates(kind.item_type)
    if pa.types.is_large_list(kind) or pa.types.is_list(kind):
        return has_text_dates(kind.value_type)
    if pa.types.is_struct(kind):
        return any(has_text_dates(f.type) for f in kind)
    return False


def parse_dates(array: pa.Array, kind: pa.DataType) -> pa.Array:
    """Parse the text of dates and times in `array` into the contract's `kind` (at any depth).

    Raises `pa.ArrowInvalid` (explained by `explain`) for a value that is not a valid date or time of its column.
    """
    if pa.types.is_string(array.type) and pa.types.is_time(kind):
        return pa.array([_time(text) for text in array.to_pylist()], kind)
    target = _with_dates(array.type, kind)
    return array if target == array.type else pc.cast(array, target, safe=True)


def _with_dates(read: pa.DataType, kind: pa.DataType) -> pa.DataType:
    """`read` with its text leaves replaced by the date and timestamp types `kind` has there."""
    if pa.types.is_string(read) and (pa.types.is_timestamp(kind) or pa.types.is_date(kind)):
        return kind
    if pa.types.is_string(read) and pa.types.is_time(kind):
        raise pa.ArrowInvalid("times of day inside lists, structs or maps cannot be read from text; write Parquet")
    if pa.types.is_list(read) and (pa.types.is_list(kind) or pa.types.is_large_list(kind)):
        return pa.list_(_with_dates(read.value_type, kind.value_type))
    if pa.types.is_struct(read) and pa.types.is_struct(kind):
        wanted = {f.name: f.type for f in kind}
        return pa.struct(
            [pa.field(f.name, _with_dates(f.type, wanted[f.name]) if f.name in wanted else f.type) for f in read]
        )
    if pa.types.is_map(read) and pa.types.is_map(kind):
        return pa.map_(_with_dates(read.key_type, kind.key_type), _with_dates(read.item_type, kind.item_type))
    return read


def _time(text: str | None) -> dt.time | None:
    if text is None:
        return None
    try:
        value = dt.time.fromisoformat(text)
    except ValueError as exc:
        raise pa.ArrowInvalid(f"Failed to parse string: '{text}' as a time of day") from exc
    if value.tzinfo is not None:
        raise pa.ArrowInvalid(f"Failed to parse string: '{text}': expected no zone offset.")
    return value


_RULES: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (
        re.compile(r"expected a zone offset"),
        "the time has no zone but the column is timestamptz",
        "write each time with its offset (e.g. 2026-11-01T08:00:00+00:00 or …Z), or make the column a "
        "`timestamp` (no zone) in dataproduct.yaml",
    ),
    (
        re.compile(r"expected no zone offset"),
        "the time has a zone offset but the column is a timestamp without zone",
        "write local times without an offset, or make the column a `timestamptz` in dataproduct.yaml",
    ),
    (
        re.compile(r"Rescaling Decimal|requires scale"),
        "the number has more decimal places than {type} holds",
        "round it in the file (meshlake never rounds), or give the column a larger scale",
    ),
    (
        re.compile(r"does not fit in precision|out of range|not in range|too big|overflow"),
        "the number is too large for {type}",
        "fix the value, or give the column a wider type",
    ),
    (
        re.compile(r"changed from (\w+) to (\w+)"),
        "a JSON {found} where {type} expects a JSON {expected}",
        "fix the value (or its quotes) in the file",
    ),
    (
        re.compile(r"invalid UTF8|invalid UTF-8|utf-8"),
        "the text is not valid UTF-8",
        "save the file as UTF-8",
    ),
)


def explain(message: str, kind: pa.DataType | None) -> tuple[str, str]:
    """(problem, next step) in the contract's words for a reader's or parser's error `message`."""
    if kind is None:
        name = "the column's type"
    elif pa.types.is_nested(kind):
        name = f"its field of {contract_type_name(kind)}"
    else:
        name = contract_type_name(kind)
    for pattern, problem, fix in _RULES:
        match = pattern.search(message)
        if match:
            found = match.groups()
            extra = {"expected": found[0], "found": found[1]} if len(found) == 2 else {}
            return problem.format(type=name, **extra), fix
    detail = re.sub(r"\s+in row \d+$", "", message.strip()).removeprefix("JSON parse error: ")
    return f"the value is not a valid {name} ({detail})", "fix the value in the file"
