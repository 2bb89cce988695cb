"""Argument checks of expectations: each argument GE defines, checked for its type and meaning before any data is read.

`check_argument(spec, name, value, context)` raises `ExpectationConfigError` (with `.field`) for a value GE would
refuse or that could never mean what it says; the column-dependent checks (bounds and set values against the
column's type, column names) are in `meshlake.contract.expectations`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from meshlake.contract.expectation_types import (
    CONDITION_PARSERS,
    IGNORE_ROW_IF,
    NULLABLE_REQUIRED,
    RESULT_FORMATS,
    SEVERITIES,
    ExpectationSpec,
)


class ExpectationConfigError(ValueError):
    """An expectation's configuration is invalid; `.problem` says why, `.field` names the kwarg."""

    def __init__(self, problem: str, *, field: str | None = None, expectation: str | None = None) -> None:
        self.problem = problem
        self.field = field
        self.expectation = expectation
        where = f"{expectation}: " if expectation else ""
        at = f" (field '{field}')" if field else ""
        super().__init__(f"{where}{problem}{at}")


MAX_LIST = 100_000
"""Longest value list (`value_set`, `regex_list`, partition weights …) a descriptor may give."""
INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")
DISTRIBUTIONS = ("norm", "beta", "gamma", "uniform", "chi2", "expon", "t")
"""`distribution` of the parameterized KS test, with scipy.stats' parameter names."""


def is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _fail(problem: str, field: str) -> ExpectationConfigError:
    return ExpectationConfigError(problem, field=field)


def _boolean(name: str, value: Any, spec: ExpectationSpec) -> None:
    if value is not None and not isinstance(value, bool):
        raise _fail(f"{name} must be true or false, not {value!r}", name)


def _fraction(name: str, value: Any, spec: ExpectationSpec) -> None:
    if value is not None and (not is_number(value) or not 0 <= value <= 1):
        raise _fail(f"{name} must be a number between 0 and 1, not {value!r}", name)


def _number(name: str, value: Any, spec: ExpectationSpec) -> None:
    if value is not None and (not is_number(value) or (isinstance(value, float) and math.isnan(value))):
        raise _fail(f"{name} must be a number, not {value!r}", name)


def _count(name: str, value: Any, spec: ExpectationSpec) -> None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        raise _fail(f"{name} must be a whole number of at least 0, not {value!r}", name)


def _positive(name: str, value: Any, spec: ExpectationSpec) -> None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise _fail(f"{name} must be a whole number of at least 1, not {value!r}", name)


def _text(name: str, value: Any, spec: ExpectationSpec) -> None:
    if value is not None and not isinstance(value, str):
        raise _fail(f"{name} must be text, not {value!r}", name)


def _choice(choices: Sequence[str]) -> Callable[[str, Any, ExpectationSpec], None]:
    def check(name: str, value: Any, spec: ExpectationSpec) -> None:
        if value is not None and value not in choices:
            raise _fail(f"{name} must be one of {', '.join(choices)}, not {value!r}", name)

    return check


def _list(name: str, value: Any, *, empty: bool = False) -> list[Any]:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence | set | frozenset):
        raise _fail(f"{name} must be a list, not {value!r}", name)
    items = list(value)
    if not items and not empty:
        raise _fail(f"{name} must not be empty", name)
    if len(items) > MAX_LIST:
        raise _fail(f"{name} lists more than {MAX_LIST:,} items", name)
    return items


def _value_set(name: str, value: Any, spec: ExpectationSpec) -> None:
    if value is None and (spec.name, name) in NULLABLE_REQUIRED:
        return
    empty = spec.name in ("expect_column_values_to_be_in_set", "expect_column_values_to_not_be_in_set")
    _list(name, value, empty=empty or spec.name == "expect_column_most_common_value_to_be_in_set")


def _regex(name: str, value: Any, spec: ExpectationSpec) -> None:
    check_regex(value, name)


def check_regex(pattern: Any, field: str) -> None:
    """A Python regular expression (GE on pandas searches with Python's `re`)."""
    if not isinstance(pattern, str):
        raise _fail(f"{field} must be a regular expression (text), not {pattern!r}", field)
    try:
        re.compile(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        raise _fail(f"invalid regular expression {pattern!r}: {exc}", field) from None


def _regex_list(name: str, value: Any, spec: ExpectationSpec) -> None:
    for pattern in _list(name, value):
        check_regex(pattern, name)


def _like(name: str, value: Any, spec: ExpectationSpec) -> None:
    if not isinstance(value, str):
        raise _fail(f"{name} must be a LIKE pattern (text with % and _), not {value!r}", name)


def _escape(name: str, value: Any, spec: ExpectationSpec) -> None:
    if value is not None and (not isinstance(value, str) or len(value) != 1):
        raise _fail(f"{name} must be one character, not {value!r}", name)


def _like_list(name: str, value: Any, spec: ExpectationSpec) -> None:
    for pattern in _list(name, value):
        _like(name, pattern, spec)


def _json_schema(name: str, value: Any, spec: ExpectationSpec) -> None:
    if not isinstance(value, Mapping | bool):
        raise _fail(f"{name} must be a JSON schema (a mapping), not {value!r}", name)
    from meshlake.errors import require

    jsonschema = require("jsonschema", extra="expectations", feature="expect_column_values_to_match_json_schema")
    try:
        json.dumps(value)
        jsonschema.validators.validator_for(value).check_schema(value)
    except (TypeError, ValueError) as exc:
        raise _fail(f"{name} is not JSON: {exc}", name) from None
    except jsonschema.SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(the root)"
        raise _fail(f"{name} is not a valid JSON schema at {where}: {exc.message}", name) from None


def _strftime(name: str, value: Any, spec: ExpectationSpec) -> None:
    if not isinstance(value, str) or not value:
        raise _fail(f"{name} must be a strftime format such as %Y-%m-%d, not {value!r}", name)
    now = datetime.now(UTC)
    try:  # what GE checks on Spark: a time formatted with it parses back
        datetime.strptime(now.strftime(value), value)
    except ValueError as exc:
        raise _fail(f"{name} {value!r} is not a usable strftime format: {exc}", name) from None


def _column_names(name: str, value: Any, spec: ExpectationSpec) -> None:
    if value is None and (spec.name, name) in NULLABLE_REQUIRED:
        return
    for item in _list(name, value, empty=True):
        if not isinstance(item, str):
            raise _fail(f"{name} must list column names, not {item!r}", name)


def _quantile_ranges(name: str, value: Any, spec: ExpectationSpec) -> None:
    if not isinstance(value, Mapping) or set(value) != {"quantiles", "value_ranges"}:
        raise _fail(f"{name} must be a mapping {{quantiles: [...], value_ranges: [[min, max], ...]}}", name)
    quantiles = _list(f"{name}.quantiles", value["quantiles"])
    ranges = _list(f"{name}.value_ranges", value["value_ranges"])
    if len(quantiles) != len(ranges):
        raise _fail(f"{name} gives {len(quantiles)} quantiles but {len(ranges)} value_ranges", name)
    for q in quantiles:
        if not is_number(q) or not 0 <= q <= 1:
            raise _fail(f"{name}.quantiles must be numbers between 0 and 1, not {q!r}", name)
    for pair in ranges:
        if isinstance(pair, str | Mapping) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise _fail(f"{name}.value_ranges must be [min, max] pairs, not {pair!r}", name)
        if any(b is not None and not is_number(b) for b in pair):
            raise _fail(f"{name}.value_ranges bounds must be numbers or null, not {pair!r}", name)


def _relative_error(name: str, value: Any, spec: ExpectationSpec) -> None:
    if value is None or value is False or value in INTERPOLATIONS:
        return
    raise _fail(
        f"{name} must be false or, as GE on pandas takes it, an interpolation ({', '.join(INTERPOLATIONS)}), "
        f"not {value!r}",
        name,
    )


def _pairs(name: str, value: Any, spec: ExpectationSpec) -> None:
    for pair in _list(name, value):
        if isinstance(pair, str | Mapping) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise _fail(f"{name} must list [a, b] pairs, not {pair!r}", name)


def _partition(name: str, value: Any, spec: ExpectationSpec) -> None:
    from meshlake.contract.partition_objects import PartitionError, check_partition

    try:
        check_partition(value)
    except PartitionError as exc:
        raise _fail(f"{name} is not a valid partition object: {exc}", name) from None


def _params(name: str, value: Any, spec: ExpectationSpec) -> None:
    if value is None:
        return
    if isinstance(value, Mapping):
        items = list(value.values())
    elif isinstance(value, Sequence) and not isinstance(value, str):
        items = list(value)
    else:
        raise _fail(f"{name} must be a mapping or list of numbers, not {value!r}", name)
    if not all(is_number(v) for v in items):
        raise _fail(f"{name} must hold numbers only, not {value!r}", name)


def _bins(name: str, value: Any, spec: ExpectationSpec) -> None:
    """Bin edges (increasing numbers) for a numeric column, or groups of values (lists) for any other."""
    if value is None:
        return
    bins = _list(name, value)
    if all(isinstance(b, list) for b in bins):
        return
    if not all(is_number(b) for b in bins) or sorted(bins) != bins:
        raise _fail(f"{name} must be increasing numbers (edges) or lists of values (groups), not {value!r}", name)


def _address(name: str, value: Any, spec: ExpectationSpec) -> None:
    from meshlake.contract.address import Address
    from meshlake.errors import InvalidNameError

    if not isinstance(value, str):
        raise _fail(f"{name} must name another port (domain.product.port), not {value!r}", name)
    try:
        address = Address.parse(value)
    except InvalidNameError as exc:
        raise _fail(f"{name} must name another port as domain.product.port: {exc}", name) from None
    if address.ref is not None:
        raise _fail(f"{name} names the port's current rows: drop '@{address.ref}'", name)


def _row_condition(name: str, value: Any, spec: ExpectationSpec) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise _fail(f'{name} must be a condition such as col("x") > 5, not {value!r}', name)


def _result_format(name: str, value: Any, spec: ExpectationSpec) -> None:
    chosen = value.get("result_format") if isinstance(value, Mapping) else value
    if value is not None and chosen not in RESULT_FORMATS:
        raise _fail(f"{name} must be one of {', '.join(RESULT_FORMATS)} (or a mapping with it), not {value!r}", name)


def _notes(name: str, value: Any, spec: ExpectationSpec) -> None:
    if (
        value is not None
        and not isinstance(value, str)
        and not (isinstance(value, list) and all(isinstance(v, str) for v in value))
    ):
        raise _fail(f"{name} must be text or a list of text", name)


def _meta(name: str, value: Any, spec: ExpectationSpec) -> None:
    if value is not None and not isinstance(value, Mapping):
        raise _fail(f"{name} must be a mapping", name)


def _ignore_row_if(name: str, value: Any, spec: ExpectationSpec) -> None:
    choices = IGNORE_ROW_IF.get(spec.group, ())
    if value is not None and value not in choices:
        raise _fail(f"{name} must be one of {', '.join(choices)}, not {value!r}", name)


def _value(name: str, value: Any, spec: ExpectationSpec) -> None:
    if value is None:
        raise _fail(f"missing required argument '{name}'", name)
    _count(name, value, spec)


def _sum_total(name: str, value: Any, spec: ExpectationSpec) -> None:
    if not is_number(value):
        raise _fail(f"{name} must be a number, not {value!r}", name)


def _type_name(name: str, value: Any, spec: ExpectationSpec) -> None:
    from meshlake.contract.type_names import check_type_name

    check_type_name(value, name)


def _type_list(name: str, value: Any, spec: ExpectationSpec) -> None:
    if value is None:
        return
    for item in _list(name, value):
        _type_name(name, item, spec)


CHECKS: dict[str, Callable[[str, Any, ExpectationSpec], None]] = {
    "mostly": _fraction,
    "strict_min": _boolean,
    "strict_max": _boolean,
    "or_equal": _boolean,
    "exact_match": _boolean,
    "strictly": _boolean,
    "double_sided": _boolean,
    "ties_okay": _boolean,
    "bucketize_data": _boolean,
    "catch_exceptions": _boolean,
    "include_config": _boolean,
    "value_set": _value_set,
    "regex": _regex,
    "regex_list": _regex_list,
    "like_pattern": _like,
    "like_pattern_list": _like_list,
    "escape": _escape,
    "match_on": _choice(("any", "all")),
    "json_schema": _json_schema,
    "strftime_format": _strftime,
    "type_": _type_name,
    "type_list": _type_list,
    "threshold": _number,
    "sum_total": _sum_total,
    "value": _value,
    "column_index": _count,
    "column_set": _column_names,
    "quantile_ranges": _quantile_ranges,
    "allow_relative_error": _relative_error,
    "value_pairs_set": _pairs,
    "partition_object": _partition,
    "internal_weight_holdout": _fraction,
    "tail_weight_holdout": _fraction,
    "p": _fraction,
    "p_value": _fraction,
    "distribution": _choice(DISTRIBUTIONS),
    "params": _params,
    "bootstrap_samples": _positive,
    "bootstrap_sample_size": _positive,
    "bins_A": _bins,
    "bins_B": _bins,
    "n_bins_A": _positive,
    "n_bins_B": _positive,
    "other_table_name": _address,
    "row_condition": _row_condition,
    "condition_parser": _choice(CONDITION_PARSERS),
    "severity": _choice(SEVERITIES),
    "result_format": _result_format,
    "description": _text,
    "notes": _notes,
    "meta": _meta,
    "ignore_row_if": _ignore_row_if,
}
"""Per-argument checks; arguments not listed here (columns, bounds, value sets) are checked with the column."""


def check_argument(spec: ExpectationSpec, name: str, value: Any) -> None:
    """Raise `ExpectationConfigError` when `value` is not a valid `name` argument of `spec`."""
    check = CHECKS.get(name)
    if name == "column_list" and spec.kind == "schema":
        check = _column_names
    if check is not None:
        check(name, value, spec)
