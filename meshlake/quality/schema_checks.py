"""Expectations on the table's columns and their types: judged from the schema, no row is read (GE's semantics).

* `expect_column_to_exist`: the column is there, and at `column_index` when one is given (GE ignores index 0);
* `expect_table_column_count_to_be_between` / `_to_equal`: the number of columns;
* `expect_table_columns_to_match_ordered_list`: the same names in the same order (a null list always matches);
* `expect_table_columns_to_match_set`: no expected column missing and, when `exact_match` is true (the
  default when the argument is absent, not when it is null), no other column; a null set expects no column;
* `expect_column_values_to_be_of_type` / `_in_type_list`: the column's type is (one of) the named type(s)
  (`meshlake.contract.type_names`); a null `type_list` always matches.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import zip_longest
from typing import TYPE_CHECKING, Any

from meshlake.contract.type_names import type_matches
from meshlake.quality.report import ExpectationResult

if TYPE_CHECKING:
    from meshlake.quality.compile import Column, Plan


def judge(plan: Plan, columns: Mapping[str, Column]) -> ExpectationResult:
    """The result of a schema expectation on a relation with `columns` (in order)."""
    kw = plan.exp.kwargs
    name = plan.spec.name
    actual = list(columns)
    detail: list[dict[str, Any]] = []
    observed: Any = actual
    if name == "expect_column_to_exist":
        index = kw.get("column_index")
        ok = index < len(actual) and actual[index] == kw["column"] if index else kw["column"] in actual
        observed = None
    elif name == "expect_table_column_count_to_be_between":
        count = len(actual)
        lo, hi = kw.get("min_value"), kw.get("max_value")
        ok = (lo is None or count >= lo) and (hi is None or count <= hi)
        observed = count
    elif name == "expect_table_column_count_to_equal":
        observed = len(actual)
        ok = observed == kw["value"]
    elif name == "expect_table_columns_to_match_ordered_list":
        expected = kw.get("column_list")
        ok = expected is None or actual == list(expected)
        if not ok:
            detail = [
                {"position": i, "expected": e, "found": f}
                for i, (e, f) in enumerate(zip_longest(expected or [], actual))
                if e != f
            ]
    elif name == "expect_table_columns_to_match_set":
        expected = set(kw.get("column_set") or [])
        missing, unexpected = sorted(expected - set(actual)), sorted(set(actual) - expected)
        exact = kw.get("exact_match", True) is True
        ok = not missing and (not unexpected or not exact)
        observed = sorted(actual)
        if missing or unexpected:
            detail = [{"missing": missing, "unexpected": unexpected}]
    else:  # of type, in type list
        column = columns[kw["column"]]
        names = [kw["type_"]] if "type_" in kw else kw.get("type_list")
        ok = names is None or any(type_matches(n, column.sql_type, column.family) for n in names)
        observed = column.sql_type
    return ExpectationResult(
        plan.exp.type, dict(kw), "passed" if ok else "failed", "table", observed_value=observed, sample=detail
    )
