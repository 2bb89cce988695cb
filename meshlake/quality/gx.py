"""The optional Great Expectations engine, and import of existing GE suites.

GE 1.x validates pandas only (its DuckDB SQL datasource is broken), so the checked data is materialised as
a pandas DataFrame and validated in an ephemeral context, progress bars off. The conversion is chosen so
GE's verdicts are the ones a user means:

* plain `to_pandas()`: NaN and NULL are both missing, as pandas users expect (ints with NULLs become
  float64: exact up to 2**53);
* decimals become float64, so a bound written `0.1` equals the stored `0.10` (GE compares Python
  `Decimal` with binary floats otherwise, and casts decimals to float for mean and sum anyway);
* timestamps become nanosecond `datetime64`, which GE's vectorised datetime path needs (a `us` column
  makes `expect_column_values_to_be_between` raise), and ISO-8601 bounds and set values of temporal
  columns are parsed to timestamps/dates before they reach GE.

`unexpected_rows_expectation` has no pandas implementation in GE, so it is evaluated with DuckDB over the
same data (the Arrow table, as `{batch}`), through the native engine and its sandbox.

GE runs in this process, where a Python regex search cannot be interrupted, and pandas hands some patterns
to Python's `re` (those RE2 cannot evaluate, or evaluates differently on the data). So each regex expectation
is first run on the column's distinct values in a worker process bounded by the time budget
(`meshlake.quality.regex_worker`); one that does not finish in time is reported `errored` and never reaches GE.
"""

from __future__ import annotations

import difflib
import functools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meshlake.contract.expectations import (
    REGISTRY,
    TEMPORAL,
    Expectation,
    ExpectationConfigError,
    parse_temporal,
    spec_for,
    type_family,
    validate_expectation,
)
from meshlake.errors import require
from meshlake.quality.budget import DEFAULT_SECONDS, Budget
from meshlake.quality.regex_worker import RegexTimeoutError, RegexWorkerError, check
from meshlake.quality.report import ExpectationResult, Scope

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from meshlake.quality.native import OtherRows

DROPPED_KWARGS = frozenset(
    [
        "result_format",
        "catch_exceptions",
        "include_config",
        "meta",
        "notes",
        "id",
        "rendered_content",
        "batch_id",
        "windows",
    ]
)
"""GE kwargs that never change a verdict in meshlake; `import_suite` drops them."""

_RESULT_FORMAT = {"result_format": "SUMMARY", "include_unexpected_rows": True}
NATIVE_ONLY = frozenset(
    {
        "expect_column_values_to_match_like_pattern",
        "expect_column_values_to_not_match_like_pattern",
        "expect_column_values_to_match_like_pattern_list",
        "expect_column_values_to_not_match_like_pattern_list",
        "expect_multicolumn_values_to_be_unique",
        "expect_table_row_count_to_equal_other_table",
        "expect_column_pair_cramers_phi_value_to_be_less_than",
        "expect_column_bootstrapped_ks_test_p_value_to_be_greater_than",
        "expect_column_chisquare_test_p_value_to_be_greater_than",
        "expect_column_parameterized_distribution_ks_test_p_value_to_be_greater_than",
    }
)
"""Types GE 1.x has no pandas implementation of (the last four none at all): the engine evaluates them natively."""


def run_great_expectations(
    table: pa.Table,
    expectations: Sequence[Expectation],
    *,
    new_rows: pa.Table | None = None,
    sample_size: int = 5,
    time_budget: float = DEFAULT_SECONDS,
    other_rows: OtherRows | None = None,
) -> tuple[ExpectationResult, ...]:
    """Validate `expectations` with Great Expectations; one result per expectation, in order.

    With `new_rows`, row-level checks read only the new rows and table checks the whole `table`. Regexes and
    SQL expectations get `time_budget` seconds (see the module docstring). The types GE has no pandas
    implementation of (`NATIVE_ONLY`) are evaluated by the native engine on the same data.
    """
    require("great_expectations", extra="great-expectations", feature="the great_expectations quality engine")
    budget = Budget(time_budget)
    types = {f.name: _type_name(f.type) for f in table.schema}
    results: dict[int, ExpectationResult] = {}
    wanted: dict[str, dict[int, Expectation]] = {"table": {}, "new": {}}
    for i, exp in enumerate(expectations):
        row_level = new_rows is not None and exp.type in REGISTRY and REGISTRY[exp.type].row_level
        try:
            validate_expectation(exp, types)
        except ExpectationConfigError as exc:
            scope: Scope = "new_rows" if row_level else "table"
            results[i] = ExpectationResult(exp.type, dict(exp.kwargs), "errored", scope, error=exc.problem)
            continue
        checked = new_rows if row_level and new_rows is not None else table
        overrun = _python_overrun(checked, exp, budget)
        if overrun is not None:
            results[i] = ExpectationResult(
                exp.type, dict(exp.kwargs), "errored", "new_rows" if row_level else "table", error=overrun
            )
        elif exp.spec.kind == "query" or exp.type in NATIVE_ONLY:
            left = max(budget.deadline - _now(), 0.001)
            results[i] = _native(table, checked, row_level, exp, sample_size, left, other_rows)
        else:
            wanted["new" if row_level else "table"][i] = exp
    for source, chosen in wanted.items():
        if chosen:
            data = new_rows if source == "new" and new_rows is not None else table
            results.update(_validate(data, chosen, types, "new_rows" if source == "new" else "table", sample_size))
    return tuple(results[i] for i in range(len(expectations)))


@functools.lru_cache(maxsize=1)
def _batch_definition() -> Any:
    """One ephemeral context per process: a pandas asset whose batches take the DataFrame as parameter."""
    gx = require("great_expectations", extra="great-expectations", feature="the great_expectations quality engine")
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("meshlake").add_dataframe_asset("port")
    return asset.add_batch_definition_whole_dataframe("snapshot")


def _validate(
    data: pa.Table,
    chosen: Mapping[int, Expectation],
    types: Mapping[str, str],
    scope: Scope,
    sample_size: int,
) -> dict[int, ExpectationResult]:
    """Validate one DataFrame with a suite of the chosen expectations (GE dedupes and reorders suites)."""
    import great_expectations as gx
    import numpy

    batch_definition = _batch_definition()
    batch = batch_definition.get_batch(batch_parameters={"dataframe": to_pandas(data)})
    result_format = _RESULT_FORMAT | {"partial_unexpected_count": max(sample_size, 1)}
    firsts: dict[str, int] = {}
    suite = gx.ExpectationSuite(name="meshlake")
    out: dict[int, ExpectationResult] = {}
    for i, exp in list(chosen.items()):
        key = json.dumps([exp.type, exp.kwargs], sort_keys=True, default=str)
        if firsts.setdefault(key, i) != i:
            continue
        try:
            suite.add_expectation(_gx_expectation(exp, types, meta={"meshlake_index": i}))
        except Exception as exc:  # GE refuses the configuration (pydantic)
            out[i] = ExpectationResult(exp.type, dict(exp.kwargs), "errored", scope, error=_first_line(exc))
    by_index: dict[int, Any] = {}
    with numpy.errstate(all="ignore"):  # e.g. the mean of +inf and -inf is NaN, which GE reports as such
        validated = batch.validate(suite, result_format=result_format)
    for result in validated.results:
        index = (result.expectation_config.meta or {}).get("meshlake_index")
        if index is not None:
            by_index[int(index)] = result
    for i, exp in chosen.items():
        if i in out:
            continue
        first = firsts[json.dumps([exp.type, exp.kwargs], sort_keys=True, default=str)]
        if first in out:
            out[i] = out[first]
            continue
        result = by_index.get(first)
        if result is None:  # GE merged it with another expectation it considers equal
            with numpy.errstate(all="ignore"):
                result = batch.validate(_gx_expectation(exp, types), result_format=result_format)
        out[i] = _from_gx(exp, result, scope, sample_size)
    return out


def _gx_expectation(exp: Expectation, types: Mapping[str, str], meta: dict[str, Any] | None = None) -> Any:
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    kwargs = _coerce(exp, types)
    return ExpectationConfiguration(type=exp.type, kwargs=kwargs, meta=meta).to_domain_obj()


def _coerce(exp: Expectation, types: Mapping[str, str]) -> dict[str, Any]:
    """Temporal bounds and set values parsed to what the pandas column holds; meshlake's `severity` left out."""
    kwargs = {k: v for k, v in exp.kwargs.items() if k != "severity"}
    if kwargs.get("row_condition") is not None:  # GE's own parser reads only a condition's first comparison
        kwargs["row_condition"] = pandas_query(exp, types)
        kwargs["condition_parser"] = "pandas"
    column = kwargs.get("column")
    family = type_family(types[column]) if isinstance(column, str) and column in types else None
    if family not in TEMPORAL:
        return kwargs
    assert family is not None

    def parse(value: Any, field: str) -> Any:
        if value is None:
            return None
        parsed = parse_temporal(value, family, field=field)
        return _timestamp(parsed) if isinstance(parsed, datetime) else parsed

    for field in ("min_value", "max_value"):
        if field in kwargs:
            kwargs[field] = parse(kwargs[field], field)
    if "value_set" in kwargs:
        kwargs["value_set"] = [parse(v, "value_set") for v in kwargs["value_set"]]
    return kwargs


def pandas_query(exp: Expectation, types: Mapping[str, str]) -> str:
    """The expectation's `row_condition` as a pandas `DataFrame.query` string (same tree, same meaning)."""
    from meshlake.contract.filters import And, Comparison, IsNull, Node, Not, Or
    from meshlake.contract.row_conditions import parse_row_condition

    def text(node: Node) -> str:
        if isinstance(node, And):
            return f"({text(node.left)}) & ({text(node.right)})"
        if isinstance(node, Or):
            return f"({text(node.left)}) | ({text(node.right)})"
        if isinstance(node, Not):
            return f"~({text(node.child)})"
        if isinstance(node, IsNull):
            return f"`{node.column.name}`.{'notnull' if node.negated else 'isnull'}()"
        assert isinstance(node, Comparison)
        value = node.value
        if isinstance(value, datetime | date | time):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = float(value)  # the engine's DataFrame holds decimals as floats
        elif not isinstance(value, bool | int | float | str):
            value = str(value)
        shown = repr(value)
        return f"`{node.column.name}` {'==' if node.op == '=' else node.op} {shown}"

    kw = exp.kwargs
    return text(parse_row_condition(kw["row_condition"], kw.get("condition_parser"), types))


def _timestamp(value: datetime) -> Any:
    import pandas as pd

    return pd.Timestamp(value)


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """The DataFrame GE validates: decimals as float64, timestamps in nanoseconds (see module docstring)."""
    import pyarrow as pa

    columns = []
    for column, f in zip(table.columns, table.schema, strict=True):
        if pa.types.is_decimal(f.type):  # through text: pyarrow's direct cast turns 99.99 into 99.99000000000001
            columns.append(column.cast(pa.string()).cast(pa.float64()))
        elif pa.types.is_timestamp(f.type):
            columns.append(column.cast(pa.timestamp("ns", tz=f.type.tz)))
        else:
            columns.append(column)
    frame: pd.DataFrame = pa.Table.from_arrays(columns, names=table.column_names).to_pandas()
    return frame


def _from_gx(exp: Expectation, result: Any, scope: Scope, sample_size: int) -> ExpectationResult:
    error = _exception(result.exception_info)
    if error is not None:
        return ExpectationResult(exp.type, dict(exp.kwargs), "errored", scope, error=error)
    r = dict(result.result or {})
    sample: list[dict[str, Any]] = []
    rows = r.get("unexpected_rows")
    if rows is not None and hasattr(rows, "to_dict") and not result.success:
        sample = [{k: _plain(v) for k, v in row.items()} for row in rows.head(sample_size).to_dict("records")]
    mismatched = (r.get("details") or {}).get("mismatched")
    if mismatched:
        sample = [{"missing": mismatched.get("missing", []), "unexpected": mismatched.get("unexpected", [])}]
    unexpected = r.get("unexpected_count")
    if exp.type == "expect_table_columns_to_match_set":
        unexpected = None
    return ExpectationResult(
        exp.type,
        dict(exp.kwargs),
        "passed" if result.success else "failed",
        scope,
        observed_value=_plain(r.get("observed_value")),
        element_count=_plain(r.get("element_count")),
        unexpected_count=_plain(unexpected),
        unexpected_percent=_plain(r.get("unexpected_percent")),
        sample=sample,
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _exception(info: Any) -> str | None:
    """GE reports an exception either flat or per metric; return its message."""
    if not isinstance(info, Mapping):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "raised an exception")
    for value in info.values():
        if isinstance(value, Mapping) and value.get("raised_exception"):
            return str(value.get("exception_message") or "raised an exception")
    return None


def _plain(value: Any) -> Any:
    """numpy/pandas scalars as Python values; NaN/NaT/NA as None."""
    import pandas as pd

    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist") and getattr(value, "ndim", 0) > 0:
        return _plain(value.tolist())
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _python_overrun(data: pa.Table, exp: Expectation, budget: Budget) -> str | None:
    """Run the Python checks GE would run in this process (regexes, JSON schemas, dateutil) on the column's
    distinct values in a worker within the budget; return the reason one could not finish in time, or None
    (also for anything GE will report itself)."""
    import pyarrow.compute as pc

    column = exp.kwargs.get("column")
    checks = [("regex", p) for p in [exp.kwargs.get("regex"), *(exp.kwargs.get("regex_list") or [])] if p is not None]
    if exp.type == "expect_column_values_to_match_json_schema":
        checks.append(("json_schema", json.dumps(exp.kwargs.get("json_schema"), sort_keys=True)))
    if exp.type == "expect_column_values_to_be_dateutil_parseable":
        checks.append(("dateutil", ""))
    if not checks or not isinstance(column, str) or column not in data.column_names:
        return None
    values = pc.unique(data.column(column).drop_null()).to_pylist()
    for kind, argument in checks:
        if not isinstance(argument, str):
            continue
        try:
            for start in range(0, len(values), _CHUNK):
                chunk = [str(v) for v in values[start : start + _CHUNK]]
                check(kind, [argument], [0] * len(chunk), chunk, budget.deadline)
        except RegexTimeoutError:
            what = f"Python regex {argument!r}" if kind == "regex" else f"the Python {kind} check"
            return budget.reason(f"{what} was still running")
        except RegexWorkerError:
            return None
    return None


_CHUNK = 4096


def _now() -> float:
    import time

    return time.monotonic()


def _native(
    table: pa.Table,
    checked: pa.Table,
    row_level: bool,
    exp: Expectation,
    sample_size: int,
    time_budget: float,
    other_rows: OtherRows | None,
) -> ExpectationResult:
    """GE runs SQL expectations on SQL datasources only and has no pandas implementation of `NATIVE_ONLY`:
    evaluate with DuckDB over the Arrow table (SQL in the native engine's sandbox)."""
    import duckdb

    from meshlake.quality.native import run_native
    from meshlake.quality.sandbox import in_memory

    con = duckdb.connect()
    try:
        con.register("__meshlake_arrow", table)
        con.register("__meshlake_new", checked)
        (result,) = run_native(
            con,
            relation_sql="__meshlake_arrow",
            new_rows_sql="__meshlake_new" if row_level else None,
            expectations=[exp],
            sample_size=sample_size,
            sandbox=lambda: in_memory(table),
            time_budget=time_budget,
            other_rows=other_rows,
        )
    finally:
        con.close()
    return result


def _type_name(t: pa.DataType) -> str:
    """A meshlake type name for an Arrow type (enough for `validate_expectation`)."""
    import pyarrow as pa

    checks = (
        (pa.types.is_boolean, "boolean"),
        (pa.types.is_integer, "long"),
        (pa.types.is_floating, "double"),
        (pa.types.is_decimal, "decimal(38,9)"),
        (
            lambda x: pa.types.is_string(x) or pa.types.is_large_string(x) or pa.types.is_string_view(x),
            "string",
        ),
        (pa.types.is_date, "date"),
        (pa.types.is_time, "time"),
        (lambda x: pa.types.is_timestamp(x) and x.tz is not None, "timestamptz"),
        (pa.types.is_timestamp, "timestamp"),
        (
            lambda x: pa.types.is_binary(x) or pa.types.is_large_binary(x) or pa.types.is_fixed_size_binary(x),
            "binary",
        ),
        (pa.types.is_nested, "list<unknown>"),
    )
    for matches, name in checks:
        if matches(t):
            return name
    return str(t)


@dataclass(frozen=True)
class Skipped:
    """A suite entry that was not imported, and why."""

    index: int
    expectation: str | None
    reason: str


@dataclass(frozen=True)
class SuiteImport:
    """The expectations read from a GE suite, and the entries skipped."""

    expectations: list[Expectation]
    skipped: list[Skipped]
    positions: list[int] = dataclass_field(default_factory=list)
    """The suite index of each imported expectation."""


_SEVERITIES = {"critical": "error", "error": "error", "warning": "warn", "warn": "warn", "info": "warn"}
"""GE 1.x severities (critical, warning, info) as meshlake's (error, warn)."""


def import_suite(path: str | Path) -> SuiteImport:
    """Read a GE suite JSON file (1.x `type` or 0.x `expectation_type` entries) as descriptor expectations.

    Drops kwargs that never change a verdict (`meta`, `notes`, `id` …) and maps GE's `severity`; an entry meshlake
    cannot check (an unknown type or argument, a bad value, a suite parameter) is skipped with the reason, and the
    rest is imported. Raises `ExpectationConfigError` only for a file that is not a suite.
    """
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    entries = document.get("expectations") if isinstance(document, Mapping) else None
    if not isinstance(entries, list):
        raise ExpectationConfigError(f"{path} is not a Great Expectations suite (no 'expectations' list)")
    out: list[Expectation] = []
    positions: list[int] = []
    skipped: list[Skipped] = []
    for index, entry in enumerate(entries):
        name = entry.get("type") or entry.get("expectation_type") if isinstance(entry, Mapping) else None
        if not isinstance(name, str):
            skipped.append(Skipped(index, None, "the entry has no expectation type"))
            continue
        try:
            out.append(_entry(name, entry))
        except ExpectationConfigError as exc:
            at = f" (field '{exc.field}')" if exc.field else ""
            skipped.append(Skipped(index, name, exc.problem + at))
            continue
        positions.append(index)
    return SuiteImport(out, skipped, positions)


def _entry(name: str, entry: Mapping[str, Any]) -> Expectation:
    spec = spec_for(name)
    kwargs = {k: v for k, v in dict(entry.get("kwargs") or {}).items() if k not in DROPPED_KWARGS}
    if entry.get("description") and "description" not in kwargs:
        kwargs["description"] = entry["description"]
    severity = entry.get("severity") or kwargs.pop("severity", None)
    if severity is not None:
        if str(severity).lower() not in _SEVERITIES:
            raise ExpectationConfigError(f"unknown severity {severity!r}", field="severity")
        if _SEVERITIES[str(severity).lower()] == "warn":
            kwargs["severity"] = "warn"  # error is the default
    if kwargs.get("parse_strings_as_datetimes") in (False, None):
        kwargs.pop("parse_strings_as_datetimes", None)  # GE 0.x: off changes nothing
    if "$PARAMETER" in json.dumps(kwargs, default=str):
        raise ExpectationConfigError("suite parameters ($PARAMETER) are evaluated by GE at run time: give the value")
    for key in kwargs:
        if key not in spec.allowed:
            close = difflib.get_close_matches(key, spec.allowed, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ExpectationConfigError(f"meshlake does not support the argument '{key}'{hint}", field=key)
    return Expectation(name, kwargs)


def to_yaml_items(expectations: Iterable[Expectation]) -> list[dict[str, Any]]:
    """Expectations as `dataproduct.yaml` items: `[{expect_…: {kwargs}}]` with plain YAML values."""
    return [{exp.type: {k: _yaml_value(v) for k, v in exp.kwargs.items()}} for exp in expectations]


def _yaml_value(value: Any) -> Any:
    if isinstance(value, tuple | list | set | frozenset):
        items = [_yaml_value(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
