"""Column and table aggregates, and the row checks that need every row, with GE's pandas semantics.

* min/max/mean/median/sum/stdev of no value is NULL — a failure (observed None) — except the sum, which is 0
  (pandas); booleans average, sum and median as 0/1 (GE: the mean of true is 1); decimals are averaged,
  summed and medianed as doubles (GE converts them to float); the standard deviation is the sample one (ddof 1);
* quantiles are pandas' `Series.quantile(q, interpolation)` (`nearest` unless `allow_relative_error` names
  another): the order statistics numpy would pick are fetched with `quantile_disc`, and interpolated as numpy does;
* the most common value: every mode (pandas' `mode()`), then GE's `ties_okay` rule; distinct value sets compare the
  column's distinct non-missing values with `value_set`;
* increasing/decreasing compare each non-missing value with the previous one in the snapshot's row order (pandas'
  `diff()`: an undefined difference, as `inf - inf`, is in order); z-scores use the sample deviation, and a
  column whose deviation is 0 or undefined has no outlier.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from meshlake.contract.expectations import check_literal

if TYPE_CHECKING:
    from meshlake.quality.compile import Column, Plan


def table_plan(plan: Plan, name: str) -> Plan:
    """Row counts: of the (selected) rows, compared with bounds, a number or another port's row count."""
    plan.aggregates["value"] = "count(*)"
    kw = plan.exp.kwargs
    if name == "table_row_count_to_equal":
        plan.verdict = lambda got: (int(got["value"]) == int(kw["value"]), int(got["value"]))
    elif name == "table_row_count_to_equal_other_table":

        def same(got: Mapping[str, Any]) -> tuple[bool, Any]:
            other = got.get("other_rows")
            if isinstance(other, BaseException):
                raise other
            return int(got["value"]) == other, {"self": int(got["value"]), "other": other}

        plan.verdict = same
    return plan


def aggregate(plan: Plan, name: str, col: Column, source_sql: str) -> None:
    """One column aggregate (`plan.aggregates["value"]`, or a verdict of its own)."""
    v = col.value
    number = f"{v}::DOUBLE" if col.family == "decimal" else f"{v}::INTEGER" if col.family == "boolean" else v
    simple = {
        "column_min_to_be_between": f"min({v})",
        "column_max_to_be_between": f"max({v})",
        "column_mean_to_be_between": f"avg({number})",
        "column_median_to_be_between": f"median({number})",
        "column_sum_to_be_between": f"coalesce(sum({v if col.family != 'boolean' else number}), 0)",
        "column_stdev_to_be_between": f"stddev_samp({number})",
        "column_proportion_of_unique_values_to_be_between": f"count(DISTINCT {v})",
        "column_unique_value_count_to_be_between": f"count(DISTINCT {v})",
    }
    if name in simple:
        plan.aggregates["value"] = simple[name]
        # What an incremental check of the next append builds on (`meshlake.quality.incremental`): the exact
        # value as DuckDB text (it casts back losslessly), and for the mean the exact sum.
        if col.family != "boolean":
            if name in ("column_min_to_be_between", "column_max_to_be_between", "column_sum_to_be_between"):
                plan.aggregates["text"] = f"CAST({plan.aggregates['value']} AS VARCHAR)"
            elif name == "column_mean_to_be_between":
                plan.aggregates["sum_text"] = f"CAST(sum({v}) AS VARCHAR)"
            elif name == "column_stdev_to_be_between":
                x = f"{v}::DOUBLE"
                plan.aggregates |= {"n": f"count({x})", "mean": f"avg({x})", "m2": f"var_pop({x}) * count({x})"}
        return
    if name == "column_quantile_values_to_be_between":
        _quantiles(plan, col, source_sql)
    elif name == "column_most_common_value_to_be_in_set":
        _most_common(plan, col, source_sql)
    else:
        _distinct_set(plan, name, col)


# -- quantiles ---------------------------------------------------------------------------------------------


def _quantiles(plan: Plan, col: Column, source_sql: str) -> None:
    kw = plan.exp.kwargs
    ranges = kw["quantile_ranges"]
    quantiles = [float(q) for q in ranges["quantiles"]]
    method = kw.get("allow_relative_error") or "nearest"
    v = f"{col.value}::DOUBLE" if col.family == "decimal" else col.value
    plan.followup_role = "order"

    def verdict(got: Mapping[str, Any]) -> tuple[bool, Any]:
        n = int(got["nonnull"])
        if n == 0:
            return False, {"quantiles": quantiles, "values": [None] * len(quantiles)}
        found = dict(zip(_positions(n, quantiles, method), got["order"], strict=True))
        values = []
        for q in quantiles:
            lo, hi, gamma = _order_statistics(n, q, method)
            values.append(_lerp(found[lo], found[hi], gamma) if gamma else found[lo])
        ok = all(
            (a is None or value >= a) and (b is None or value <= b)
            for value, (a, b) in zip(values, ranges["value_ranges"], strict=True)
        )
        return ok, {"quantiles": quantiles, "values": values}

    def followup(got: Mapping[str, Any]) -> str | None:
        n = int(got["nonnull"])
        return (
            None
            if n == 0
            else f"(SELECT quantile_disc({v}, {_fractions(n, quantiles, method)}) FROM {source_sql} AS __src)"
        )

    plan.followup_sql = followup
    plan.verdict = verdict


def _positions(n: int, quantiles: list[float], method: str) -> list[int]:
    return sorted({k for q in quantiles for k in _order_statistics(n, q, method)[:2]})


def _fractions(n: int, quantiles: list[float], method: str) -> str:
    """The `quantile_disc` fractions that pick exactly the order statistics numpy needs ((k + 0.5) / n: DuckDB
    picks index floor(n * f), which is k for any rounding of the fraction)."""
    return "[" + ", ".join(repr((k + 0.5) / n) for k in _positions(n, quantiles, method)) + "]"


def _order_statistics(n: int, q: float, method: str) -> tuple[int, int, float]:
    """(lower index, upper index, weight of the upper) of numpy's quantile `method` for `n` sorted values.

    pandas hands numpy percentiles (q * 100), which numpy divides by 100 again: the same rounding is kept.
    """
    q = (q * 100.0) / 100.0
    virtual = (n - 1) * q
    if method == "lower":
        k = math.floor(virtual)
        return k, k, 0.0
    if method == "higher":
        k = math.ceil(virtual)
        return k, k, 0.0
    if method == "nearest":
        k = round(virtual)  # numpy.around: half to even, as Python's round
        return k, k, 0.0
    lo = math.floor(virtual)
    hi = min(lo + 1, n - 1)
    if virtual >= n - 1:
        return n - 1, n - 1, 0.0
    gamma = virtual - lo
    if method == "midpoint":
        gamma = 0.0 if virtual == lo else 0.5
    return lo, hi, gamma


def _lerp(a: float, b: float, t: float) -> float:
    """numpy's `_lerp`: a + (b - a) * t, computed from b for t >= 0.5."""
    diff = b - a
    return b - diff * (1 - t) if t >= 0.5 else a + diff * t


# -- the most common value, distinct value sets ----------------------------------------------------------------


def _set_values(plan: Plan, col: Column) -> list[Any]:
    return [check_literal(x, col.family, field="value_set") for x in plan.exp.kwargs["value_set"] if x is not None]


def _same(values: list[Any]) -> set[Any]:
    """Values as sets compare them in Python (1 == 1.0; dates and times as parsed)."""
    return {_plain(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))}


def _plain(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.timestamp(), "tz"
    if isinstance(value, datetime | date):
        return value
    return value


def _most_common(plan: Plan, col: Column, source_sql: str) -> None:
    v = col.value
    grouped = f"SELECT {v} AS __v, count(*) AS __c FROM {source_sql} AS __src WHERE {v} IS NOT NULL GROUP BY 1"
    plan.subqueries["modes"] = (
        f"(SELECT list(__v ORDER BY __v) FROM (SELECT __v, __c, max(__c) OVER () AS __m FROM ({grouped})) "
        "WHERE __c = __m)"
    )
    expected = _same(_set_values(plan, col))
    ties_okay = plan.exp.kwargs.get("ties_okay")

    def verdict(got: Mapping[str, Any]) -> tuple[bool, Any]:
        modes = list(got["modes"] or [])
        common = len(expected & _same(modes))
        ok = common > 0 if ties_okay else len(modes) == 1 and common == 1
        return ok, modes

    plan.verdict = verdict


def _distinct_set(plan: Plan, name: str, col: Column) -> None:
    from meshlake.quality.compile import literal

    v = col.value
    if plan.exp.kwargs["value_set"] is None:  # GE 1.2: no set is the universal set
        plan.verdict = lambda got: (True, None)
        return
    values = [literal(x, col.family) for x in plan.exp.kwargs["value_set"] if x is not None]
    member = f"{v} IN ({', '.join(values)})" if values else "false"
    expected = _same(_set_values(plan, col))
    if name != "column_distinct_values_to_contain_set":
        plan.aggregates["outside"] = (
            f"list(DISTINCT {v} ORDER BY {v}) FILTER (WHERE {v} IS NOT NULL AND NOT ({member}))"
        )
    if name != "column_distinct_values_to_be_in_set":
        plan.aggregates["inside"] = f"list(DISTINCT {v}) FILTER (WHERE {member})"

    def verdict(got: Mapping[str, Any]) -> tuple[bool, Any]:
        outside = list(got.get("outside") or [])
        found = _same(list(got.get("inside") or []))
        missing = [] if "inside" not in got else sorted((x for x in expected if x not in found), key=str)
        ok = not outside and not missing
        return ok, {"unexpected": outside, "missing": missing}

    plan.verdict = verdict  # the values are the observed value (not a sample): dropped for a masked column


# -- row checks over every row --------------------------------------------------------------------------------


def window_plan(plan: Plan, name: str, col: Column, source_sql: str) -> Plan:
    """increasing / decreasing (each value against the previous one) and z-scores (against the column's mean)."""
    kw = plan.exp.kwargs
    v = col.value
    present = f"(SELECT {v} AS __v FROM {source_sql} AS __src WHERE {v} IS NOT NULL)"
    if name in ("column_values_to_be_increasing", "column_values_to_be_decreasing"):
        op = (">" if kw.get("strictly") else ">=") if "increasing" in name else ("<" if kw.get("strictly") else "<=")
        undefined = "isinf(__v) AND __v = __p" if col.family == "float" else "false"
        ok = f"__p IS NULL OR __v {op} __p OR {undefined}"
        ordered = f"(SELECT __v, lag(__v) OVER () AS __p FROM {present})"
        plan.subqueries["unexpected"] = f"(SELECT count(*) FILTER (WHERE NOT ({ok})) FROM {ordered})"
        return plan
    threshold = float(kw["threshold"])
    x = f"{v}::DOUBLE"
    stats = f"(SELECT avg({x}) AS __m, stddev_samp({x}) AS __s FROM {source_sql} AS __src)"
    z = "CASE WHEN __s IS NULL OR __s = 0 OR isnan(__s) THEN NULL ELSE (__v::DOUBLE - __m) / __s END"
    under = f"abs(__z) < {abs(threshold)!r}" if kw.get("double_sided") else f"__z < {threshold!r}"
    scores = f"(SELECT {z} AS __z FROM {present}, {stats})"
    plan.subqueries["unexpected"] = (
        f"(SELECT count(*) FILTER (WHERE NOT (__z IS NULL OR isnan(__z) OR {under})) FROM {scores})"
    )
    plan.failing = None
    return plan
