"""Expectations in the Great Expectations vocabulary: config, column type families, and validation.

A port's `expectations:` list holds single-key mappings, as in GE suites::

    - expect_column_values_to_be_between: {column: weight_kg, min_value: 0, max_value: 50, mostly: 0.99}

`REGISTRY` (`meshlake.contract.expectation_types`) says, for each of GE's core types, whether it is a row-level
check (run over the rows a write adds) or a table check (run over the whole staged snapshot), which kwargs it
takes and which of them name columns. `validate_expectation` refuses a bad config before any data is read:
unknown arguments (with the closest known one), wrong argument types (`meshlake.contract.expectation_args`),
unknown columns, a column type the expectation does not apply to (saying what GE does there), and a
`row_condition` that does not parse (`meshlake.contract.row_conditions`).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from meshlake.contract.expectation_args import ExpectationConfigError, check_argument, check_regex, is_number
from meshlake.contract.expectation_sql import QueryRefusedError, check_query
from meshlake.contract.expectation_types import (
    ANY,
    BOUNDS,
    COMMON_KWARGS,
    NULLABLE_REQUIRED,
    NUMERIC,
    ORDERED,
    REGISTRY,
    SCALAR,
    TEMPORAL,
    ExpectationSpec,
    Kind,
    Scope,
)

__all__ = [
    "ANY",
    "BOUNDS",
    "COMMON_KWARGS",
    "NUMERIC",
    "ORDERED",
    "REGISTRY",
    "SCALAR",
    "TEMPORAL",
    "Expectation",
    "ExpectationConfigError",
    "ExpectationSpec",
    "Kind",
    "Scope",
    "check_literal",
    "check_regex",
    "parse_temporal",
    "render_query",
    "spec_for",
    "type_family",
    "validate_expectation",
]


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

    @property
    def severity(self) -> str:
        """`error` (the default: a failure stops the write) or `warn` (reported and recorded only)."""
        return "warn" if self.kwargs.get("severity") == "warn" else "error"


_COMMON_PREFIX = "expect_column_values_to_be"
"""The types an unknown expectation's error names as examples start so."""


def spec_for(name: str) -> ExpectationSpec:
    """The registry entry for an expectation type, or an error listing what is supported."""
    try:
        return REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(str(name), list(REGISTRY), n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        common = ", ".join(sorted(n for n in REGISTRY if n.startswith(_COMMON_PREFIX)))
        raise ExpectationConfigError(
            f"unknown expectation type '{name}'.{hint} meshlake supports the {len(REGISTRY)} types "
            f"docs/expectations.md lists, among them {common}"
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
        _check_condition(spec, exp.kwargs, columns)
    except ExpectationConfigError as exc:
        if exc.expectation is None:
            raise ExpectationConfigError(exc.problem, field=exc.field, expectation=exp.type) from None
        raise


def _check_storable(kwargs: Mapping[str, Any]) -> None:
    """Refuse values the descriptor's JSON (what the catalog stores) cannot hold as they are: NaN (no value
    equals it, so no check could mean it) and binary data. Infinities are stored as JSON constants."""
    for name, value in kwargs.items():
        stack, seen = [value], set()
        while stack:
            item = stack.pop()
            if isinstance(item, float) and math.isnan(item):
                raise ExpectationConfigError(
                    f"{name} holds NaN, which is not a number; leave a bound out for no bound", field=name
                )
            if isinstance(item, bytes | bytearray):
                raise ExpectationConfigError(f"{name} holds binary data; write values as text", field=name)
            if isinstance(item, Mapping | list | tuple | set | frozenset) and id(item) not in seen:
                seen.add(id(item))  # an anchored value repeated by aliases is looked at once
                stack.extend(item.values() if isinstance(item, Mapping) else item)


def _check_kwargs(spec: ExpectationSpec, kwargs: Mapping[str, Any]) -> None:
    for name in kwargs:
        if name not in spec.allowed:
            close = difflib.get_close_matches(str(name), spec.allowed, n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ExpectationConfigError(
                f"unknown argument '{name}'{hint}; {spec.name} takes {', '.join(spec.allowed)}", field=str(name)
            )
    for name in spec.required:
        if kwargs.get(name) is None and (spec.name, name) not in NULLABLE_REQUIRED:
            raise ExpectationConfigError(f"missing required argument '{name}'", field=name)
        if name not in kwargs:
            raise ExpectationConfigError(f"missing required argument '{name}' (null is allowed)", field=name)
    for name, value in kwargs.items():
        check_argument(spec, name, value)


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
                close = difflib.get_close_matches(name, list(columns), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise ExpectationConfigError(f"column '{name}' does not exist{hint}; the port has: {known}", field=arg)
            family = type_family(columns[name])
            allowed = spec.families
            if arg == "column_list" and family == "nested":
                allowed = NO_NESTED  # hashing nested values is not supported by GE (pandas)
            if allowed and family not in allowed:
                takes = ", ".join(sorted(allowed))
                raise ExpectationConfigError(
                    f"{spec.name} does not apply to column '{name}' of type {columns[name]}: it takes {takes} "
                    f"columns (Great Expectations on pandas {spec.elsewhere})",
                    field=arg,
                )


NO_NESTED = SCALAR


def _check_values(spec: ExpectationSpec, exp: Expectation, columns: Mapping[str, str]) -> None:
    kwargs = exp.kwargs
    column = kwargs.get("column") if "column" in spec.column_args else None
    family = type_family(columns[column]) if isinstance(column, str) else None
    if spec.group == "column_pair_map" or spec.name == "expect_column_pair_cramers_phi_value_to_be_less_than":
        a, b = (type_family(columns[kwargs[c]]) for c in ("column_A", "column_B"))
        if spec.name in _COMPARED_PAIRS and a != b and not (a in NUMERIC and b in NUMERIC):
            raise ExpectationConfigError(f"cannot compare a {a} column with a {b} column", field="column_B")
        if spec.name == "expect_column_pair_values_to_be_in_set":
            for pair in kwargs["value_pairs_set"]:
                for value, side in zip(pair, (a, b), strict=True):
                    if value is not None:
                        check_literal(value, side, field="value_pairs_set")
    if "min_value" in spec.optional and spec.group != "distribution":
        _check_bounds(spec, kwargs, family)
    if "value_set" in spec.required:
        for value in kwargs["value_set"] or ():
            if value is not None:
                check_literal(value, family or "unknown", field="value_set")
    if spec.name == "unexpected_rows_expectation":
        _check_query(kwargs["unexpected_rows_query"])
    if spec.name == "expect_column_values_to_match_regex" and "regex" not in kwargs:
        return
    if spec.name in _CATEGORIES_CHECKED and kwargs.get("partition_object") is not None:
        _check_partition_values(kwargs["partition_object"], family or "unknown")
    if spec.group == "distribution":
        from meshlake.contract.partition_objects import check_distribution

        check_distribution(spec.name, kwargs)


_COMPARED_PAIRS = frozenset(
    {"expect_column_pair_values_a_to_be_greater_than_b", "expect_column_pair_values_to_be_equal"}
)
_CATEGORIES_CHECKED = frozenset(
    {"expect_column_kl_divergence_to_be_less_than", "expect_column_chisquare_test_p_value_to_be_greater_than"}
)


def _check_partition_values(partition: Mapping[str, Any], family: str) -> None:
    from meshlake.contract.partition_objects import partition_kind

    if partition_kind(partition) == "categorical":
        for value in partition["values"]:
            if value is not None:
                check_literal(value, family, field="partition_object")
    elif family not in NUMERIC:
        raise ExpectationConfigError(
            f"a partition with bins applies to numeric columns, not {family} ones", field="partition_object"
        )


def _check_condition(spec: ExpectationSpec, kwargs: Mapping[str, Any], columns: Mapping[str, str]) -> None:
    if kwargs.get("row_condition") is None:
        return
    from meshlake.contract.row_conditions import RowConditionError, parse_row_condition

    try:
        parse_row_condition(kwargs["row_condition"], kwargs.get("condition_parser"), columns)
    except RowConditionError as exc:
        field = "condition_parser" if "condition_parser" in exc.problem else "row_condition"
        raise ExpectationConfigError(str(exc), field=field) from None


_LENGTHS = ("expect_column_value_lengths_to_be_between", "expect_table_row_count_to_be_between")
_FRACTIONS = ("expect_column_proportion_of_unique_values_to_be_between",)
_REAL = (
    "expect_column_mean_to_be_between",
    "expect_column_median_to_be_between",
    "expect_column_stdev_to_be_between",
    "expect_column_sum_to_be_between",
    "expect_column_unique_value_count_to_be_between",
    "expect_table_column_count_to_be_between",
)
_BOUND_NEEDED = frozenset({"expect_column_min_to_be_between", "expect_column_sum_to_be_between"})
"""Aggregates GE 1.2 refuses without a bound (the others pass vacuously, as in GE)."""
_JUDGED_EMPTY = frozenset(
    {
        "expect_column_values_to_be_between",
        "expect_table_row_count_to_be_between",
        "expect_table_column_count_to_be_between",
    }
)
"""Types for which GE refuses min_value > max_value (elsewhere GE judges it: nothing is in range, so it fails)."""


def _check_bounds(spec: ExpectationSpec, kwargs: Mapping[str, Any], family: str | None) -> None:
    lo, hi = kwargs.get("min_value"), kwargs.get("max_value")
    if (spec.kind == "map" or spec.name in _BOUND_NEEDED) and lo is None and hi is None:
        raise ExpectationConfigError("give min_value, max_value or both", field="min_value")
    if spec.name in _LENGTHS:
        target = "integer"
    elif spec.name in _FRACTIONS or spec.name in _REAL or family == "boolean":
        target = "float"
    else:
        target = family or "unknown"
    parsed = [
        check_literal(v, target, field=f) if v is not None else None for f, v in (("min_value", lo), ("max_value", hi))
    ]
    if spec.name in _JUDGED_EMPTY and parsed[0] is not None and parsed[1] is not None and parsed[0] > parsed[1]:
        raise ExpectationConfigError(
            f"min_value {lo!r} is greater than max_value {hi!r} (Great Expectations refuses it too)", field="min_value"
        )


def check_literal(value: Any, family: str, *, field: str) -> Any:
    """Check that `value` compares with a column of `family`; return it parsed (ISO text → datetime)."""
    if family in NUMERIC:
        if not is_number(value):
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
