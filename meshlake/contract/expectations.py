"""Expectations in the Great Expectations vocabulary: what meshlake supports, and config validation.

A port's `expectations:` list holds single-key mappings, as in GE suites::

    - expect_column_values_to_be_between: {column: weight_kg, min_value: 0, max_value: 50, mostly: 0.99}

`REGISTRY` says, for each supported type, whether it is a row-level check (run over the rows a write adds)
or a table check (run over the whole staged snapshot), which kwargs it takes and which of them name columns.
`validate_expectation` refuses a bad config before any data is read.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Literal

from meshlake.contract.expectation_sql import QueryRefusedError, check_query

Kind = Literal["map", "aggregate", "query", "schema"]
Scope = Literal["new_rows", "table"]

BOUNDS = ("min_value", "max_value", "strict_min", "strict_max")
COMMON_KWARGS = ("description",)
"""Kwargs every expectation accepts (GE 1.x `description`); they never change the verdict."""

NUMERIC = frozenset({"integer", "float", "decimal"})
TEMPORAL = frozenset({"date", "time", "timestamp", "timestamptz"})
SCALAR = NUMERIC | TEMPORAL | frozenset({"string", "boolean", "uuid", "binary"})
ORDERED = NUMERIC | TEMPORAL
"""Families GE compares with bounds (GE 1.x bounds are numbers, dates or timestamps, never strings)."""


@dataclass(frozen=True)
class Expectation:
    """One configured expectation: a GE type name and its kwargs."""

    type: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Expectation:
        """Build from a descriptor item, a single-key mapping `{type: {kwargs}}`."""
        if not isinstance(item, Mapping) or len(item) != 1:
            raise ExpectationConfigError(
                "each expectation must be a mapping with exactly one key, the expectation type, "
                "e.g. {expect_column_values_to_not_be_null: {column: id}}"
            )
        ((name, kwargs),) = item.items()
        if kwargs is None:
            kwargs = {}
        if not isinstance(kwargs, Mapping):
            raise ExpectationConfigError(f"the arguments of {name} must be a mapping, not {kwargs!r}")
        return cls(str(name), dict(kwargs))

    def to_item(self) -> dict[str, Any]:
        """The descriptor form, `{type: {kwargs}}`."""
        return {self.type: dict(self.kwargs)}

    @property
    def spec(self) -> ExpectationSpec:
        """The registry entry (raises `ExpectationConfigError` for an unsupported type)."""
        return spec_for(self.type)

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column this expectation names, in kwarg order."""
        names: list[str] = []
        for arg in spec_for(self.type).column_args:
            value = self.kwargs.get(arg)
            if isinstance(value, str):
                names.append(value)
            elif isinstance(value, Sequence):
                names.extend(str(v) for v in value)
        return tuple(names)


class ExpectationConfigError(ValueError):
    """An expectation's configuration is invalid; `.problem` says why, `.field` names the kwarg."""

    def __init__(self, problem: str, *, field: str | None = None, expectation: str | None = None) -> None:
        self.problem = problem
        self.field = field
        self.expectation = expectation
        where = f"{expectation}: " if expectation else ""
        at = f" (field '{field}')" if field else ""
        super().__init__(f"{where}{problem}{at}")


@dataclass(frozen=True)
class ExpectationSpec:
    """What one supported expectation type takes and how it is evaluated."""

    name: str
    kind: Kind
    scope: Scope
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    column_args: tuple[str, ...] = ()
    families: frozenset[str] = SCALAR
    """Column type families the expectation applies to (see `type_family`)."""

    @property
    def row_level(self) -> bool:
        """True when each row passes or fails on its own, so only new rows need checking."""
        return self.scope == "new_rows"

    @property
    def allowed(self) -> tuple[str, ...]:
        return self.required + self.optional + COMMON_KWARGS


def _map(name: str, *args: str, optional: tuple[str, ...] = (), families: frozenset[str] = SCALAR) -> ExpectationSpec:
    return ExpectationSpec(name, "map", "new_rows", ("column", *args), (*optional, "mostly"), ("column",), families)


def _stat(name: str, families: frozenset[str]) -> ExpectationSpec:
    return ExpectationSpec(name, "aggregate", "table", ("column",), BOUNDS, ("column",), families)


_SPECS = (
    _map("expect_column_values_to_not_be_null", families=frozenset()),
    _map("expect_column_values_to_be_null", families=frozenset()),
    _map("expect_column_values_to_be_between", optional=BOUNDS, families=ORDERED),
    _map("expect_column_values_to_be_in_set", "value_set"),
    _map("expect_column_values_to_not_be_in_set", "value_set"),
    _map("expect_column_values_to_match_regex", "regex", families=frozenset({"string"})),
    _map("expect_column_values_to_not_match_regex", "regex", families=frozenset({"string"})),
    _map("expect_column_value_lengths_to_be_between", optional=BOUNDS, families=frozenset({"string"})),
    ExpectationSpec("expect_column_values_to_be_unique", "map", "table", ("column",), ("mostly",), ("column",)),
    ExpectationSpec(
        "expect_compound_columns_to_be_unique",
        "map",
        "table",
        ("column_list",),
        ("ignore_row_if", "mostly"),
        ("column_list",),
    ),
    ExpectationSpec(
        "expect_column_pair_values_a_to_be_greater_than_b",
        "map",
        "new_rows",
        ("column_A", "column_B"),
        ("or_equal", "ignore_row_if", "mostly"),
        ("column_A", "column_B"),
        ORDERED | frozenset({"string"}),
    ),
    _stat("expect_column_min_to_be_between", ORDERED),
    _stat("expect_column_max_to_be_between", ORDERED),
    _stat("expect_column_mean_to_be_between", NUMERIC),
    _stat("expect_column_median_to_be_between", NUMERIC),
    _stat("expect_column_sum_to_be_between", NUMERIC),
    _stat("expect_column_proportion_of_unique_values_to_be_between", SCALAR),
    ExpectationSpec("expect_table_row_count_to_be_between", "aggregate", "table", (), BOUNDS),
    ExpectationSpec("expect_table_columns_to_match_set", "schema", "table", ("column_set",), ("exact_match",)),
    ExpectationSpec("unexpected_rows_expectation", "query", "table", ("unexpected_rows_query",)),
)
REGISTRY: dict[str, ExpectationSpec] = {spec.name: spec for spec in _SPECS}
"""Every supported expectation type, by GE name."""

IGNORE_ROW_IF = {
    "expect_compound_columns_to_be_unique": ("all_values_are_missing", "any_value_is_missing", "never"),
    "expect_column_pair_values_a_to_be_greater_than_b": (
        "both_values_are_missing",
        "either_value_is_missing",
        "neither",
    ),
}


def spec_for(name: str) -> ExpectationSpec:
    """The registry entry for an expectation type, or an error listing what is supported."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ExpectationConfigError(
            f"unknown expectation type '{name}'. Supported: {', '.join(sorted(REGISTRY))}"
        ) from None


_DECIMAL = re.compile(r"^(decimal|numeric)\s*\(", re.IGNORECASE)
_FAMILIES = {
    "integer": "int|integer|long|short|byte|bigint|smallint|tinyint|hugeint|int1|int2|int4|int8|int16|int32|int64"
    "|ubigint|uinteger|usmallint|utinyint|uhugeint",
    "float": "float|double|real|float4|float8|float32|float64|double precision",
    "decimal": "decimal|numeric",
    "string": "string|varchar|text|char|bpchar|large_string|utf8",
    "boolean": "boolean|bool",
    "date": "date|date32",
    "time": "time|time without time zone",
    "timestamp": "timestamp|timestamp_ns|timestamp_us|timestamp_ms|timestamp_s|datetime|timestamp without time zone",
    "timestamptz": "timestamptz|timestamptz_ns|timestamp with time zone",
    "binary": "binary|blob|bytea|varbinary|fixed",
    "uuid": "uuid",
}
_BY_NAME = {alias: family for family, aliases in _FAMILIES.items() for alias in aliases.split("|")}


def type_family(type_name: str) -> str:
    """Classify a meshlake ('long', 'decimal(10,2)', 'list<string>') or DuckDB ('BIGINT') type name.

    Returns one of integer, float, decimal, string, boolean, date, time, timestamp, timestamptz, binary,
    uuid, nested or unknown.
    """
    name = type_name.strip().lower()
    if name.endswith("[]") or name.startswith(("list", "map", "struct", "array", "union")):
        return "nested"
    if _DECIMAL.match(name):
        return "decimal"
    if name.startswith("fixed"):
        return "binary"
    return _BY_NAME.get(name, "unknown")


def validate_expectation(exp: Expectation, columns: Mapping[str, str]) -> None:
    """Check one expectation against the port's columns (name → type); raise `ExpectationConfigError`."""
    spec = spec_for(exp.type)
    try:
        _check_storable(exp.kwargs)
        _check_kwargs(spec, exp.kwargs)
        _check_columns(spec, exp, columns)
        _check_values(spec, exp, columns)
    except ExpectationConfigError as exc:
        if exc.expectation is None:
            raise ExpectationConfigError(exc.problem, field=exc.field, expectation=exp.type) from None
        raise


def _check_storable(kwargs: Mapping[str, Any]) -> None:
    """Refuse values the descriptor's JSON (what the catalog stores) cannot hold as they are: NaN and infinities
    (JSON has no such numbers: they would be stored as null) and binary data."""
    for name, value in kwargs.items():
        stack, seen = [value], set()
        while stack:
            item = stack.pop()
            if isinstance(item, float) and not math.isfinite(item):
                raise ExpectationConfigError(
                    f"{name} holds {item}, which is not a finite number (leave a bound out for no bound)", field=name
                )
            if isinstance(item, bytes | bytearray):
                raise ExpectationConfigError(f"{name} holds binary data; write values as text", field=name)
            if isinstance(item, Mapping | list | tuple | set | frozenset) and id(item) not in seen:
                seen.add(id(item))  # an anchored value repeated by aliases is looked at once
                stack.extend(item.values() if isinstance(item, Mapping) else item)


def _check_kwargs(spec: ExpectationSpec, kwargs: Mapping[str, Any]) -> None:
    for name in spec.required:
        if kwargs.get(name) is None:
            raise ExpectationConfigError(f"missing required argument '{name}'", field=name)
    for name in kwargs:
        if name not in spec.allowed:
            raise ExpectationConfigError(
                f"unknown argument '{name}'; {spec.name} takes {', '.join(spec.allowed)}", field=name
            )
    mostly = kwargs.get("mostly")
    if mostly is not None and (not _is_number(mostly) or not 0 <= mostly <= 1):
        raise ExpectationConfigError(f"mostly must be a number between 0 and 1, not {mostly!r}", field="mostly")
    for flag in ("strict_min", "strict_max", "or_equal", "exact_match"):
        if kwargs.get(flag) is not None and not isinstance(kwargs[flag], bool):
            raise ExpectationConfigError(f"{flag} must be true or false, not {kwargs[flag]!r}", field=flag)
    choices = IGNORE_ROW_IF.get(spec.name)
    if choices and kwargs.get("ignore_row_if") is not None and kwargs["ignore_row_if"] not in choices:
        raise ExpectationConfigError(
            f"ignore_row_if must be one of {', '.join(choices)}, not {kwargs['ignore_row_if']!r}",
            field="ignore_row_if",
        )
    description = kwargs.get("description")
    if description is not None and not isinstance(description, str):
        raise ExpectationConfigError("description must be a string", field="description")


def _check_columns(spec: ExpectationSpec, exp: Expectation, columns: Mapping[str, str]) -> None:
    for arg in spec.column_args:
        value = exp.kwargs[arg]
        if arg == "column_list":
            if isinstance(value, str) or not isinstance(value, Sequence) or len(value) < 2:
                raise ExpectationConfigError("column_list must list at least two columns", field=arg)
            if len(set(value)) != len(value):
                raise ExpectationConfigError("column_list names a column twice", field=arg)
            names = list(value)
        else:
            names = [value]
        for name in names:
            if not isinstance(name, str):
                raise ExpectationConfigError(f"{arg} must name a column, not {name!r}", field=arg)
            if name not in columns:
                known = ", ".join(columns) or "(none)"
                raise ExpectationConfigError(f"column '{name}' does not exist; the port has: {known}", field=arg)
            family = type_family(columns[name])
            allowed = spec.families
            if arg == "column_list" and family == "nested":
                allowed = frozenset()  # hashing nested values is not supported by GE (pandas)
            if allowed and family not in allowed:
                raise ExpectationConfigError(
                    f"{spec.name} does not apply to column '{name}' of type {columns[name]}", field=arg
                )


def _check_values(spec: ExpectationSpec, exp: Expectation, columns: Mapping[str, str]) -> None:
    kwargs = exp.kwargs
    column = kwargs.get("column")
    family = type_family(columns[column]) if isinstance(column, str) else None
    if spec.name == "expect_column_pair_values_a_to_be_greater_than_b":
        a, b = (type_family(columns[kwargs[c]]) for c in ("column_A", "column_B"))
        if a != b and not (a in NUMERIC and b in NUMERIC):
            raise ExpectationConfigError(f"cannot compare a {a} column with a {b} column", field="column_B")
    if "min_value" in spec.optional:
        _check_bounds(spec, kwargs, family)
    if "value_set" in spec.required:
        values = kwargs["value_set"]
        if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Sequence):
            raise ExpectationConfigError("value_set must be a list", field="value_set")
        for value in values:
            if value is not None:
                check_literal(value, family or "unknown", field="value_set")
    if "regex" in spec.required:
        _check_regex(kwargs["regex"])
    if spec.name == "expect_table_columns_to_match_set":
        value = kwargs["column_set"]
        if isinstance(value, str) or not isinstance(value, Sequence | set | frozenset):
            raise ExpectationConfigError("column_set must be a list of column names", field="column_set")
    if spec.name == "unexpected_rows_expectation":
        _check_query(kwargs["unexpected_rows_query"])


def _check_bounds(spec: ExpectationSpec, kwargs: Mapping[str, Any], family: str | None) -> None:
    lo, hi = kwargs.get("min_value"), kwargs.get("max_value")
    if spec.kind == "map" and lo is None and hi is None:
        raise ExpectationConfigError("give min_value, max_value or both", field="min_value")
    counts = spec.name in (
        "expect_column_value_lengths_to_be_between",
        "expect_table_row_count_to_be_between",
    )
    if counts or spec.name == "expect_column_proportion_of_unique_values_to_be_between":
        target = "integer" if counts else "float"
    elif spec.name in ("expect_column_mean_to_be_between", "expect_column_median_to_be_between"):
        target = "float"
    else:
        target = family or "unknown"
    parsed = [
        check_literal(v, target, field=f) if v is not None else None for f, v in (("min_value", lo), ("max_value", hi))
    ]
    if parsed[0] is not None and parsed[1] is not None and parsed[0] > parsed[1]:
        raise ExpectationConfigError(f"min_value {lo!r} is greater than max_value {hi!r}", field="min_value")


def check_literal(value: Any, family: str, *, field: str) -> Any:
    """Check that `value` compares with a column of `family`; return it parsed (ISO text → datetime)."""
    if family in NUMERIC:
        if not _is_number(value):
            raise ExpectationConfigError(f"{field} must be a number for a {family} column, not {value!r}", field=field)
        return value
    if family in ("string", "uuid") and not isinstance(value, str):
        raise ExpectationConfigError(f"{field} must be a string for a {family} column, not {value!r}", field=field)
    if family == "boolean" and not isinstance(value, bool):
        raise ExpectationConfigError(f"{field} must be true or false for a boolean column", field=field)
    if family in TEMPORAL:
        return parse_temporal(value, family, field=field)
    return value


def parse_temporal(value: Any, family: str, *, field: str = "value") -> date | time | datetime:
    """Parse a bound for a date/time/timestamp/timestamptz column; zones must match the column type."""
    try:
        if family == "time":
            return value if isinstance(value, time) else time.fromisoformat(str(value))
        if family == "date":
            if isinstance(value, datetime):
                raise TypeError
            return value if isinstance(value, date) else date.fromisoformat(str(value))
        parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        if isinstance(value, date) and not isinstance(value, datetime):
            parsed = datetime(value.year, value.month, value.day)
    except (TypeError, ValueError):
        raise ExpectationConfigError(
            f"{field} {value!r} is not an ISO-8601 {family} (e.g. {_EXAMPLE[family]})", field=field
        ) from None
    if family == "timestamptz" and parsed.tzinfo is None:
        raise ExpectationConfigError(
            f"{field} {value!r} needs a time zone for a timestamptz column (e.g. {_EXAMPLE[family]})",
            field=field,
        )
    if family == "timestamp" and parsed.tzinfo is not None:
        raise ExpectationConfigError(
            f"{field} {value!r} has a time zone but the column is a timestamp without one", field=field
        )
    return parsed


_EXAMPLE = {
    "date": "2026-11-01",
    "time": "12:30:00",
    "timestamp": "2026-11-01T00:00:00",
    "timestamptz": "2026-11-01T00:00:00Z",
}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _check_regex(pattern: Any) -> None:
    if not isinstance(pattern, str):
        raise ExpectationConfigError("regex must be a string", field="regex")
    try:
        re.compile(pattern)
    except (re.error, OverflowError) as exc:  # Python's parser: OverflowError for a repeat count past 2**32 - 1
        raise ExpectationConfigError(f"invalid regular expression {pattern!r}: {exc}", field="regex") from None
    except RecursionError:
        raise ExpectationConfigError(
            f"invalid regular expression {pattern!r}: it nests groups too deeply for Python's parser", field="regex"
        ) from None


def _check_query(query: Any) -> None:
    if not isinstance(query, str) or not query.strip():
        raise ExpectationConfigError("unexpected_rows_query must be a SQL query", field="unexpected_rows_query")
    try:
        check_query(query)
    except QueryRefusedError as exc:
        raise ExpectationConfigError(
            f"unexpected_rows_query must be one read-only SELECT over {{batch}}: {exc.problem}",
            field="unexpected_rows_query",
        ) from None


def render_query(query: str) -> str:
    """The checked SQL of a SQL expectation: `{batch}` is the relation `__meshlake_batch` (see
    `meshlake.contract.expectation_sql`); raises `ExpectationConfigError` for a query that is refused."""
    _check_query(query)
    return check_query(query)
