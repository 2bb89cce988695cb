"""The expectation vocabulary: every Great Expectations 1.x core expectation type, with GE's arguments and defaults.

One `ExpectationSpec` per type (the modules of `great_expectations/expectations/core/`, GE 1.2), saying:

- `kind`: `map` (each row passes or fails: an unexpected count, `mostly`), `aggregate` (a value of the column or
  table compared with bounds or sets: an observed value), `schema` (the columns and their types; reads no row)
  or `query` (a SQL expectation);
- `scope`: `new_rows` (a write checks only the rows it adds) or `table` (the whole staged snapshot);
- `required` and `optional` arguments (GE's names), `column_args` (the arguments that name columns of the port),
  `defaults` (GE's defaults for optional arguments), the column type `families` it applies to, and what GE
  does on another column type (`elsewhere`, said when meshlake refuses one);
- `group`: GE's family (`column_map`, `column_aggregate`, `column_pair_map`, `multicolumn_map`,
  `distribution`, `table`, `query`).

Every type also takes `COMMON_KWARGS` (never changing a verdict, except `severity`), and those with a batch
domain `row_condition` and `condition_parser` (see `meshlake.contract.row_conditions`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["map", "aggregate", "query", "schema"]
Scope = Literal["new_rows", "table"]
Group = Literal[
    "column_map", "column_aggregate", "column_pair_map", "multicolumn_map", "distribution", "table", "query"
]

BOUNDS = ("min_value", "max_value", "strict_min", "strict_max")
COMMON_KWARGS = ("description", "severity", "result_format", "catch_exceptions", "include_config", "meta", "notes")
"""Arguments every expectation accepts. Only `severity` (`error`, the default, or `warn`) changes what a verdict
does: a failed `warn` expectation is reported and recorded but does not stop a write."""
ROW_CONDITION = ("row_condition", "condition_parser")

NUMERIC = frozenset({"integer", "float", "decimal"})
TEMPORAL = frozenset({"date", "time", "timestamp", "timestamptz"})
SCALAR = NUMERIC | TEMPORAL | frozenset({"string", "boolean", "uuid", "binary"})
ORDERED = NUMERIC | TEMPORAL
"""Families GE compares with bounds (GE 1.x bounds are numbers, dates or timestamps, never strings)."""
STRING = frozenset({"string"})
ANY: frozenset[str] = frozenset()
"""No restriction: the expectation applies to every column, nested ones included."""

_RAISES = "raises an error when it computes the metric"
_MAPS_ERROR = "raises an error on the first value (it expects text)"
_LIKE = "has no pandas implementation; its SQL backends compare the column's text"


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
    """Column type families the expectation applies to (see `type_family`); empty: every column."""
    group: Group = "column_map"
    defaults: Mapping[str, Any] = field(default_factory=dict)
    """GE's default for each optional argument that has one."""
    elsewhere: str = _RAISES
    """What Great Expectations does when the column is of another type (shown when meshlake refuses it)."""
    conditional: bool = True
    """Takes `row_condition` / `condition_parser` (every type with a batch or column domain)."""

    @property
    def row_level(self) -> bool:
        """True when each row passes or fails on its own, so only new rows need checking."""
        return self.scope == "new_rows"

    @property
    def allowed(self) -> tuple[str, ...]:
        return self.required + self.optional + (ROW_CONDITION if self.conditional else ()) + COMMON_KWARGS


def _map(
    name: str,
    *args: str,
    optional: tuple[str, ...] = (),
    families: frozenset[str] = SCALAR,
    defaults: Mapping[str, Any] | None = None,
    scope: Scope = "new_rows",
    elsewhere: str = _RAISES,
) -> ExpectationSpec:
    return ExpectationSpec(
        name,
        "map",
        scope,
        ("column", *args),
        (*optional, "mostly"),
        ("column",),
        families,
        "column_map",
        {"mostly": 1, **(defaults or {})},
        elsewhere,
    )


def _stat(
    name: str, families: frozenset[str], *args: str, optional: tuple[str, ...] = BOUNDS, elsewhere: str = _RAISES
) -> ExpectationSpec:
    defaults = {"strict_min": False, "strict_max": False} if "strict_min" in optional else {}
    return ExpectationSpec(
        name,
        "aggregate",
        "table",
        ("column", *args),
        optional,
        ("column",),
        families,
        "column_aggregate",
        defaults,
        elsewhere,
    )


def _multi(name: str, *args: str, families: frozenset[str] = SCALAR, scope: Scope = "new_rows") -> ExpectationSpec:
    return ExpectationSpec(
        name,
        "map",
        scope,
        ("column_list", *args),
        ("ignore_row_if", "mostly"),
        ("column_list",),
        families,
        "multicolumn_map",
        {"ignore_row_if": "all_values_are_missing", "mostly": 1},
    )


def _pair(name: str, *args: str, optional: tuple[str, ...] = (), families: frozenset[str] = SCALAR) -> ExpectationSpec:
    return ExpectationSpec(
        name,
        "map",
        "new_rows",
        ("column_A", "column_B", *args),
        (*optional, "ignore_row_if", "mostly"),
        ("column_A", "column_B"),
        families,
        "column_pair_map",
        {"ignore_row_if": "both_values_are_missing", "mostly": 1},
    )


def _distribution(name: str, *args: str, optional: tuple[str, ...], defaults: Mapping[str, Any]) -> ExpectationSpec:
    return ExpectationSpec(
        name, "aggregate", "table", ("column", *args), optional, ("column",), SCALAR, "distribution", defaults
    )


def _table(
    name: str, *args: str, optional: tuple[str, ...] = (), kind: Kind = "aggregate", conditional: bool = True
) -> ExpectationSpec:
    defaults = {"strict_min": False, "strict_max": False} if "strict_min" in optional else {}
    return ExpectationSpec(name, kind, "table", args, optional, (), ANY, "table", defaults, conditional=conditional)


_SPECS = (
    # -- column map: one verdict per row, `mostly` of the non-missing values -----------------------------------
    _map("expect_column_values_to_not_be_null", families=ANY),
    _map("expect_column_values_to_be_null", families=ANY),
    _map(
        "expect_column_values_to_be_between",
        optional=BOUNDS,
        families=ORDERED,
        defaults={"strict_min": False, "strict_max": False},
    ),
    _map("expect_column_values_to_be_in_set", "value_set"),
    _map("expect_column_values_to_not_be_in_set", "value_set"),
    _map(
        "expect_column_values_to_match_regex",
        optional=("regex",),
        families=STRING,
        defaults={"regex": "(?s).*"},
        elsewhere="searches the text of each value (str(3.0) is '3.0')",
    ),
    _map(
        "expect_column_values_to_not_match_regex", "regex", families=STRING, elsewhere="searches the text of each value"
    ),
    _map(
        "expect_column_values_to_match_regex_list",
        "regex_list",
        optional=("match_on",),
        families=STRING,
        defaults={"match_on": "any"},
        elsewhere="searches the text of each value",
    ),
    _map(
        "expect_column_values_to_not_match_regex_list",
        "regex_list",
        families=STRING,
        elsewhere="searches the text of each value",
    ),
    _map(
        "expect_column_values_to_match_like_pattern",
        "like_pattern",
        optional=("escape",),
        families=STRING,
        elsewhere=_LIKE,
    ),
    _map(
        "expect_column_values_to_not_match_like_pattern",
        "like_pattern",
        optional=("escape",),
        families=STRING,
        elsewhere=_LIKE,
    ),
    _map(
        "expect_column_values_to_match_like_pattern_list",
        "like_pattern_list",
        optional=("match_on", "escape"),
        families=STRING,
        defaults={"match_on": "any"},
        elsewhere=_LIKE,
    ),
    _map(
        "expect_column_values_to_not_match_like_pattern_list",
        "like_pattern_list",
        optional=("escape",),
        families=STRING,
        elsewhere=_LIKE,
    ),
    _map(
        "expect_column_value_lengths_to_be_between",
        optional=BOUNDS,
        families=STRING,
        elsewhere="measures the text of each value (len(str(3.0)) is 3)",
    ),
    _map("expect_column_value_lengths_to_equal", "value", families=STRING, elsewhere="measures the text of each value"),
    _map("expect_column_values_to_be_json_parseable", families=STRING, elsewhere="fails every value that is not text"),
    _map(
        "expect_column_values_to_match_json_schema",
        "json_schema",
        families=STRING,
        elsewhere="fails every value that is not text",
    ),
    _map("expect_column_values_to_be_dateutil_parseable", families=STRING, elsewhere=_MAPS_ERROR),
    _map("expect_column_values_to_match_strftime_format", "strftime_format", families=STRING, elsewhere=_MAPS_ERROR),
    ExpectationSpec(
        "expect_column_values_to_be_of_type",
        "schema",
        "table",
        ("column", "type_"),
        ("mostly",),
        ("column",),
        ANY,
        "column_map",
        {"mostly": 1},
    ),
    ExpectationSpec(
        "expect_column_values_to_be_in_type_list",
        "schema",
        "table",
        ("column",),
        ("type_list", "mostly"),
        ("column",),
        ANY,
        "column_map",
        {"mostly": 1},
    ),
    _map("expect_column_values_to_be_unique", scope="table"),
    _map(
        "expect_column_values_to_be_increasing",
        optional=("strictly",),
        families=ORDERED,
        scope="table",
        defaults={"strictly": False},
    ),
    _map(
        "expect_column_values_to_be_decreasing",
        optional=("strictly",),
        families=ORDERED,
        scope="table",
        defaults={"strictly": False},
    ),
    _map("expect_column_value_z_scores_to_be_less_than", "threshold", "double_sided", families=NUMERIC, scope="table"),
    # -- column pairs ------------------------------------------------------------------------------------------
    _pair(
        "expect_column_pair_values_a_to_be_greater_than_b",
        optional=("or_equal",),
        families=ORDERED | frozenset({"string"}),
    ),
    _pair("expect_column_pair_values_to_be_equal"),
    _pair("expect_column_pair_values_to_be_in_set", "value_pairs_set"),
    # -- several columns ---------------------------------------------------------------------------------------
    _multi("expect_compound_columns_to_be_unique", scope="table"),
    _multi("expect_multicolumn_sum_to_equal", "sum_total", families=NUMERIC),
    _multi("expect_select_column_values_to_be_unique_within_record"),
    _multi("expect_multicolumn_values_to_be_unique"),
    # -- column aggregates -------------------------------------------------------------------------------------
    _stat("expect_column_min_to_be_between", ORDERED),
    _stat("expect_column_max_to_be_between", ORDERED),
    _stat("expect_column_mean_to_be_between", NUMERIC | frozenset({"boolean"})),
    _stat("expect_column_median_to_be_between", NUMERIC | frozenset({"boolean"})),
    _stat("expect_column_sum_to_be_between", NUMERIC | frozenset({"boolean"})),
    _stat("expect_column_stdev_to_be_between", NUMERIC),
    _stat("expect_column_proportion_of_unique_values_to_be_between", SCALAR),
    _stat("expect_column_unique_value_count_to_be_between", SCALAR),
    _stat(
        "expect_column_quantile_values_to_be_between", NUMERIC, "quantile_ranges", optional=("allow_relative_error",)
    ),
    _stat("expect_column_most_common_value_to_be_in_set", SCALAR, "value_set", optional=("ties_okay",)),
    _stat("expect_column_distinct_values_to_be_in_set", SCALAR, "value_set", optional=()),
    _stat("expect_column_distinct_values_to_contain_set", SCALAR, "value_set", optional=()),
    _stat("expect_column_distinct_values_to_equal_set", SCALAR, "value_set", optional=()),
    # -- distributions -----------------------------------------------------------------------------------------
    _distribution(
        "expect_column_kl_divergence_to_be_less_than",
        optional=(
            "partition_object",
            "threshold",
            "internal_weight_holdout",
            "tail_weight_holdout",
            "bucketize_data",
            "min_value",
            "max_value",
        ),
        defaults={"internal_weight_holdout": 0, "tail_weight_holdout": 0, "bucketize_data": True},
    ),
    _distribution(
        "expect_column_chisquare_test_p_value_to_be_greater_than",
        "partition_object",
        optional=("p", "tail_weight_holdout"),
        defaults={"p": 0.05, "tail_weight_holdout": 0},
    ),
    _distribution(
        "expect_column_bootstrapped_ks_test_p_value_to_be_greater_than",
        "partition_object",
        optional=("p", "bootstrap_samples", "bootstrap_sample_size"),
        defaults={"p": 0.05},
    ),
    _distribution(
        "expect_column_parameterized_distribution_ks_test_p_value_to_be_greater_than",
        "distribution",
        optional=("p_value", "params"),
        defaults={"p_value": 0.05},
    ),
    ExpectationSpec(
        "expect_column_pair_cramers_phi_value_to_be_less_than",
        "aggregate",
        "table",
        ("column_A", "column_B"),
        ("bins_A", "bins_B", "n_bins_A", "n_bins_B", "threshold"),
        ("column_A", "column_B"),
        SCALAR,
        "distribution",
        {"threshold": 0.1},
    ),
    # -- the table ---------------------------------------------------------------------------------------------
    _table("expect_table_row_count_to_be_between", optional=BOUNDS),
    _table("expect_table_row_count_to_equal", "value"),
    _table("expect_table_row_count_to_equal_other_table", "other_table_name"),
    _table("expect_column_to_exist", "column", optional=("column_index",), kind="schema", conditional=False),
    _table(
        "expect_table_column_count_to_be_between", optional=("min_value", "max_value"), kind="schema", conditional=False
    ),
    _table("expect_table_column_count_to_equal", "value", kind="schema", conditional=False),
    _table("expect_table_columns_to_match_ordered_list", "column_list", kind="schema", conditional=False),
    _table(
        "expect_table_columns_to_match_set", "column_set", optional=("exact_match",), kind="schema", conditional=False
    ),
    ExpectationSpec(
        "unexpected_rows_expectation",
        "query",
        "table",
        ("unexpected_rows_query",),
        (),
        (),
        ANY,
        "query",
        conditional=False,
    ),
)
REGISTRY: dict[str, ExpectationSpec] = {spec.name: spec for spec in _SPECS}
"""Every supported expectation type, by GE name."""

NULLABLE_REQUIRED = frozenset(
    {
        ("expect_column_distinct_values_to_be_in_set", "value_set"),
        ("expect_table_columns_to_match_set", "column_set"),
        ("expect_table_columns_to_match_ordered_list", "column_list"),
    }
)
"""Required arguments GE accepts as `null` (an empty set or list)."""

IGNORE_ROW_IF = {
    "column_pair_map": ("both_values_are_missing", "either_value_is_missing", "neither"),
    "multicolumn_map": ("all_values_are_missing", "any_value_is_missing", "never"),
}
CONDITION_PARSERS = ("great_expectations", "great_expectations__experimental__", "pandas")
"""`condition_parser` values: GE's own syntax (`col("x") > 5 & col("y") == "a"`) or the pandas query subset
(`x > 5 & y == "a"`); both are parsed into the same tree, never pasted into SQL."""
SEVERITIES = ("error", "warn")
RESULT_FORMATS = ("BOOLEAN_ONLY", "BASIC", "SUMMARY", "COMPLETE")
