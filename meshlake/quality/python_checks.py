"""GE's Python value checks, called from DuckDB: `meshlake_py_check(kind, argument, value, deadline)`.

Four column map expectations are defined by Python code in GE, which meshlake runs as it is:

| kind | GE's check (pandas) | where it runs |
|---|---|---|
| `json` | `json.loads(value)` succeeds | in the check's process (linear time) |
| `strftime` | `datetime.strptime(value, format)` succeeds | in the check's process (no backtracking) |
| `json_schema` | `jsonschema.validate(json.loads(value), schema)` (not JSON: an error, as in GE) | a worker |
| `dateutil` | `dateutil.parser.parse(value)` succeeds | a worker |

A DuckDB scalar function gets a chunk of values at a time: each distinct value is checked once and remembered
(`_CACHE`), so a column of few distinct values costs few calls. Worker calls stop at the check's deadline
(`meshlake.quality.regex_worker`); the budget's watchdog interrupts DuckDB between chunks of in-process calls.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from meshlake.quality.budget import DEADLINE_VARIABLE, DEFAULT_SECONDS
from meshlake.quality.regex import quote
from meshlake.quality.regex_worker import SITE_KINDS, RegexTimeoutError, check

if TYPE_CHECKING:
    import duckdb

UDF_NAME = "meshlake_py_check"
KINDS = ("json", "json_schema", "dateutil", "strftime")
_CACHE: dict[tuple[str, str, str], bool] = {}
_CACHE_LIMIT = 200_000


def check_sql(kind: str, argument: str, value_sql: str) -> str:
    """SQL: does `value_sql` pass the `kind` check with `argument` (NULL for a NULL value)."""
    return f"{UDF_NAME}({quote(kind)}, {quote(argument)}, {value_sql}, getvariable('{DEADLINE_VARIABLE}'))"


def register_udf(con: duckdb.DuckDBPyConnection) -> None:
    """Register `meshlake_py_check` on `con` (idempotent)."""
    import duckdb
    from duckdb.func import ARROW, SPECIAL

    rows = con.execute("SELECT 1 FROM duckdb_functions() WHERE function_name = ?", [UDF_NAME]).fetchall()
    if rows:
        return
    varchar = duckdb.sqltype("VARCHAR")
    con.create_function(
        UDF_NAME,
        _check_arrow,
        [varchar, varchar, varchar, duckdb.sqltype("DOUBLE")],
        duckdb.sqltype("BOOLEAN"),
        type=ARROW,
        null_handling=SPECIAL,
        side_effects=False,
    )


def _check_arrow(kinds: Any, arguments: Any, values: Any, deadlines: Any) -> Any:
    # Annotations stay `Any`: DuckDB evaluates them at registration, when pyarrow is not imported here.
    import pyarrow as pa

    given = [d for d in deadlines.to_pylist() if d is not None]
    deadline = min(given) if given else time.monotonic() + DEFAULT_SECONDS
    rows = list(zip(kinds.to_pylist(), arguments.to_pylist(), values.to_pylist(), strict=True))
    missing = {row for row in rows if row[2] is not None and row not in _CACHE}
    if len(_CACHE) + len(missing) > _CACHE_LIMIT:
        _CACHE.clear()
    by_check: dict[tuple[str, str], list[str]] = {}
    for kind, argument, value in missing:
        by_check.setdefault((kind, argument), []).append(value)
    for (kind, argument), pending in by_check.items():
        for value, ok in zip(pending, _run(kind, argument, pending, deadline), strict=True):
            _CACHE[(kind, argument, value)] = ok
    return pa.array([None if row[2] is None else _CACHE[row] for row in rows], type=pa.bool_())


def _run(kind: str, argument: str, values: list[str], deadline: float) -> list[bool]:
    if kind in SITE_KINDS:
        try:
            found = check(kind, [argument], [0] * len(values), values, deadline)
        except RegexTimeoutError:
            raise RegexTimeoutError(f"the Python {kind} check was still running") from None
        return [bool(f) for f in found]
    if time.monotonic() > deadline:
        raise RegexTimeoutError(f"the Python {kind} check was still running")
    if kind == "json":
        return [_json(v) for v in values]
    if kind == "strftime":
        return [_strptime(v, argument) for v in values]
    raise ValueError(f"unknown Python check {kind!r}")


def _json(value: str) -> bool:
    try:
        json.loads(value)
    except Exception:  # GE: any exception means "not parseable" (RecursionError included)
        return False
    return True


def _strptime(value: str, fmt: str) -> bool:
    try:
        datetime.strptime(value, fmt)
    except ValueError:
        return False
    return True
