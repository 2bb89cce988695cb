"""Column pair and multicolumn map expectations, with GE's pandas semantics.

Rows are first dropped per `ignore_row_if` (pairs: `both_values_are_missing` by default, `either_value_is_missing`,
`neither`; several columns: `all_values_are_missing` by default, `any_value_is_missing`, `never`); of the rest:

* `a_to_be_greater_than_b` (`or_equal`), `to_be_equal`: a row with one missing side is unexpected (NaN
  compares false in pandas); `to_be_in_set`: the pair, missing values as null, is one of `value_pairs_set`;
* `multicolumn_sum_to_equal`: the row's sum, missing values making it missing (`skipna=False`), equals
  `sum_total`; decimals are added as doubles, as GE's float conversion does;
* `select_column_values_to_be_unique_within_record` (and its older name `multicolumn_values_to_be_unique`): no
  two of the row's values are equal — missing values equal each other (`nunique(dropna=False)`), values of
  different types never do (a number equals a number of another width).
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations
from typing import TYPE_CHECKING

from meshlake.contract.expectations import NUMERIC

if TYPE_CHECKING:
    from meshlake.quality.compile import Column, Plan


def multi_plan(plan: Plan, columns: Mapping[str, Column]) -> Plan:
    from meshlake.quality.compile import literal

    kw = plan.exp.kwargs
    name = plan.spec.name.removeprefix("expect_")
    if plan.spec.group == "column_pair_map":
        a, b = columns[kw["column_A"]], columns[kw["column_B"]]
        cols = [a, b]
        ignore = kw.get("ignore_row_if") or "both_values_are_missing"
        domain = {
            "both_values_are_missing": f"NOT ({a.value} IS NULL AND {b.value} IS NULL)",
            "either_value_is_missing": f"{a.value} IS NOT NULL AND {b.value} IS NOT NULL",
            "neither": "true",
        }[ignore]
        if name == "column_pair_values_a_to_be_greater_than_b":
            ok = f"{a.value} {'>=' if kw.get('or_equal') else '>'} {b.value}"
        elif name == "column_pair_values_to_be_equal":
            ok = f"{a.value} = {b.value}"
        else:
            ok = " OR ".join(
                "(" + f"{_is(a, x, literal)} AND {_is(b, y, literal)}" + ")" for x, y in kw["value_pairs_set"]
            )
    else:
        cols = [columns[c] for c in kw["column_list"]]
        values = [c.value for c in cols]
        ignore = kw.get("ignore_row_if") or "all_values_are_missing"
        domain = {
            "all_values_are_missing": "NOT (" + " AND ".join(f"{v} IS NULL" for v in values) + ")",
            "any_value_is_missing": " AND ".join(f"{v} IS NOT NULL" for v in values),
            "never": "true",
        }[ignore]
        if name == "multicolumn_sum_to_equal":
            terms = [f"{c.value}::DOUBLE" if c.family == "decimal" else c.value for c in cols]
            ok = f"({' + '.join(terms)}) = {float(kw['sum_total'])!r}"
        else:
            ok = " AND ".join(_distinct(x, y) for x, y in combinations(cols, 2))
    plan.family = cols[0].family
    plan.aggregates["total"] = "count(*)"
    plan.aggregates["nonnull"] = f"count(*) FILTER (WHERE {domain})"
    plan.aggregates["unexpected"] = f"count(*) FILTER (WHERE ({domain}) AND ({ok}) IS NOT TRUE)"
    plan.failing = f"({domain}) AND ({ok}) IS NOT TRUE"
    return plan


def _is(col: Column, value: object, literal: object) -> str:
    if value is None:
        return f"{col.value} IS NULL"
    return f"{col.value} IS NOT DISTINCT FROM {literal(value, col.family)}"  # type: ignore[operator]


def _distinct(a: Column, b: Column) -> str:
    """pandas' `nunique(dropna=False)`: two missing values are the same value; different types never are."""
    comparable = a.family == b.family or (a.family in NUMERIC and b.family in NUMERIC)
    if comparable:
        return f"({a.value} IS DISTINCT FROM {b.value})"
    return f"NOT ({a.value} IS NULL AND {b.value} IS NULL)"
