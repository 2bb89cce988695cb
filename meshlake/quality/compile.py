"""Compile expectations to DuckDB aggregate expressions with Great Expectations' (pandas) semantics.

Each expectation becomes a `Plan`: a few aggregates (`count(*)`, `count(v)`, `count(*) FILTER (WHERE NOT
cond)`, `min(v)` …) that the native engine evaluates, shared and deduplicated, in one SELECT per source,
plus a predicate that selects failing rows for samples. The semantics mirrored from GE on pandas:

* `v` is the column with NaN turned into NULL for float columns: pandas treats NaN as missing.
* Map expectations ignore missing values (except `not_null`/`null`); `unexpected_percent` is over the
  non-missing values, success is `(nonmissing - unexpected) / nonmissing >= mostly`, and no non-missing
  value at all is a vacuous success. `not_null`/`null` count over all rows.
* Column pairs and compound keys drop rows per `ignore_row_if` first; a pair row with one missing side
  (default `both_values_are_missing`) is unexpected. pandas' `duplicated` treats NULLs as equal, as does
  SQL GROUP BY.
* `_to_be_unique` counts every row whose value occurs more than once: exact, in two steps. The main pass
  compares `count(v)` with `count(DISTINCT v)`; only when they differ does a GROUP BY count the rows.
* Aggregates: min/max/mean/median of no value is NULL, a failure (observed None); the sum of no value is 0
  (pandas); the proportion of unique values with no value is 0. Decimals are averaged, summed and
  medianed as doubles (GE converts them to float); the median of an even count is the midpoint.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Literal

from meshlake.contract.expectations import (
    Expectation,
    ExpectationConfigError,
    ExpectationSpec,
    check_literal,
    render_query,
    type_family,
)
from meshlake.contract.filters import And, Comparison, IsNull, Node, Not, Or
from meshlake.quality.bitmap import RangeLookup, distinct_count
from meshlake.quality.regex import RegexPlan, quote
from meshlake.quality.report import Method

Source = Literal["new", "table"]


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str

    @property
    def family(self) -> str:
        return type_family(self.sql_type)

    @property
    def ident(self) -> str:
        return ident(self.name)

    @property
    def value(self) -> str:
        """The column as GE on pandas sees it: NaN is missing.

        Not `isnan(x)` nor `x = 'NaN'`: Parquet min/max statistics leave NaN out, and DuckDB 2.0 folds
        those to false from the statistics, so NaN rows would count as values. `isfinite`/`isinf` are
        not folded (the test corpus has a Parquet file that shows the difference).
        """
        q = self.ident
        return f"(CASE WHEN isfinite({q}) OR isinf({q}) THEN {q} END)" if self.family == "float" else q


@dataclass
class Plan:
    """How to evaluate one expectation in SQL."""

    exp: Expectation
    spec: ExpectationSpec
    source: Source
    aggregates: dict[str, str] = field(default_factory=dict)
    """role → aggregate SQL, e.g. {"total": "count(*)", "unexpected": "count(*) FILTER (WHERE …)"}."""
    failing: str | None = None
    """Predicate selecting failing rows (for samples)."""
    sample_order: str | None = None
    """ORDER BY of the sampled failing rows, when which rows are sampled must not depend on the scan order (a
    uniqueness check's: the smallest duplicated keys, as a distributed engine's count picks them too)."""
    followup: str | None = None
    """Scalar SQL run only when needed (exact duplicate count of a uniqueness check)."""
    query: str | None = None
    """SQL expectation: the checked query returning unexpected rows (it reads `__meshlake_batch`)."""
    regex: RegexPlan | None = None
    family: str | None = None
    """Family of the checked column (for observed values)."""
    needs_followup: Callable[[Mapping[str, Any]], bool] | None = None
    followup_sql: Callable[[Mapping[str, Any]], str | None] | None = None
    """Builds the follow-up from the aggregates (e.g. with the new keys' range); None: nothing to follow up."""
    followup_role: str = "duplicated"
    """The role the follow-up's value gets among the aggregates."""
    reads: Source | None = None
    """The source the aggregates read, when not `source` (an incremental table check reads the new rows)."""
    known: dict[str, Any] = field(default_factory=dict)
    """Values known without a query (row count from metadata, the base's aggregates); queries override."""
    method: Method = "full"
    relation: str | None = None
    """The rows the expectation reads when not the whole source: the source filtered by its `row_condition`."""
    subqueries: dict[str, str] = field(default_factory=dict)
    """role → scalar SQL with a scan of its own (a window over the rows, a GROUP BY), run in the same statement."""
    verdict: Callable[[Mapping[str, Any]], tuple[bool, Any]] | None = None
    """(success, observed value) from the aggregates, for checks that are not bounds on one value."""
    python: frozenset[str] = frozenset()
    """Python functions of `meshlake.quality.python_checks` the SQL calls (registered before it runs)."""

    @property
    def aggregate_source(self) -> Source:
        return self.reads or self.source


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value: Any, family: str) -> str:
    """A SQL literal for a bound or set value compared with a column of `family`."""
    value = check_literal(value, family, field="value")
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"'{value}'::DOUBLE" if not math.isfinite(value) else repr(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        kind = "TIMESTAMPTZ" if value.tzinfo is not None else "TIMESTAMP"
        return f"{kind} '{value.isoformat()}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, time):
        return f"TIME '{value.isoformat()}'"
    if family == "uuid":
        return f"{quote(str(value))}::UUID"
    return quote(str(value))


def compile_plan(
    exp: Expectation,
    columns: Mapping[str, Column],
    *,
    source: Source,
    source_sql: str,
    sample_size: int = 5,
    ranges: RangeLookup | None = None,
) -> Plan:
    """Compile one (already validated) expectation.

    `source_sql` is the relation the expectation reads (the new rows or the whole snapshot); a SQL expectation
    gets its checked query, which reads `{batch}` in a sandbox (`meshlake.quality.sandbox`). `ranges` gives the
    bounds of integer columns over `source_sql`'s files, which let uniqueness checks count keys in a bitmap.
    A `row_condition` narrows `source_sql` to the rows it selects (`plan.relation`).
    """
    from meshlake.quality import compile_multi, compile_stats, compile_values, distribution

    spec = exp.spec
    kw = exp.kwargs
    plan = Plan(exp, spec, source)
    if spec.kind == "query":
        plan.query = render_query(kw["unexpected_rows_query"])
        return plan
    if spec.kind == "schema":
        return plan
    if kw.get("row_condition") is not None:
        plan.relation = f"(SELECT * FROM {source_sql} AS __rc WHERE {condition_sql(exp, columns)})"
        source_sql = plan.relation
        ranges = None  # the files' bounds are of every row, not of the selected ones
    name = spec.name.removeprefix("expect_")
    if spec.group == "table":
        return compile_stats.table_plan(plan, name)
    if spec.group == "distribution":
        return distribution.distribution_plan(plan, columns, source_sql)
    if name == "compound_columns_to_be_unique":
        return _unique(plan, [columns[c] for c in kw["column_list"]], source_sql, sample_size, ranges)
    if spec.group in ("column_pair_map", "multicolumn_map"):
        return compile_multi.multi_plan(plan, columns)
    col = columns[kw["column"]]
    plan.family = col.family
    v = col.value
    plan.aggregates["total"] = "count(*)"
    plan.aggregates["nonnull"] = f"count({v})"
    if name in ("column_values_to_not_be_null", "column_values_to_be_null"):
        plan.failing = f"{v} IS NULL" if "not" in name else f"{v} IS NOT NULL"
        return plan
    if name == "column_values_to_be_unique":
        return _unique(plan, [col], source_sql, sample_size, ranges)
    if spec.kind == "aggregate":
        compile_stats.aggregate(plan, name, col, source_sql)
        return plan
    if spec.scope == "table":  # row checks that need every row: order, z-scores
        return compile_stats.window_plan(plan, name, col, source_sql)
    condition = compile_values.map_condition(plan, name, col)
    plan.aggregates["unexpected"] = f"count(*) FILTER (WHERE NOT ({condition}))"
    plan.failing = f"NOT ({condition})"
    return plan


def condition_sql(exp: Expectation, columns: Mapping[str, Column]) -> str:
    """The SQL of an expectation's `row_condition`, with GE's pandas semantics (see
    `meshlake.contract.row_conditions`): missing values compare false, except with `!=`, which is true."""
    from meshlake.contract.row_conditions import parse_row_condition

    kw = exp.kwargs
    node = parse_row_condition(
        kw["row_condition"], kw.get("condition_parser"), {c.name: c.sql_type for c in columns.values()}
    )
    return _node_sql(node, columns)


def _node_sql(node: Node, columns: Mapping[str, Column]) -> str:
    if isinstance(node, And):
        return f"({_node_sql(node.left, columns)} AND {_node_sql(node.right, columns)})"
    if isinstance(node, Or):
        return f"({_node_sql(node.left, columns)} OR {_node_sql(node.right, columns)})"
    if isinstance(node, Not):
        return f"(NOT {_node_sql(node.child, columns)})"
    if isinstance(node, IsNull):
        col = columns[node.column.name]
        return f"({col.value} IS {'NOT ' if node.negated else ''}NULL)"
    if isinstance(node, Comparison):
        col = columns[node.column.name]
        value = node.value
        shown = literal(str(value) if isinstance(value, uuid.UUID) else value, col.family)
        compared = f"({col.value} {node.op} {shown})"
        return f"({compared} IS NOT FALSE)" if node.op == "!=" else f"({compared} IS TRUE)"
    raise ExpectationConfigError(f"row_condition: {type(node).__name__} is not supported")  # pragma: no cover


def between(expr: str, kw: Mapping[str, Any], family: str) -> str:
    parts = []
    if kw.get("min_value") is not None:
        parts.append(f"{expr} {'>' if kw.get('strict_min') else '>='} {literal(kw['min_value'], family)}")
    if kw.get("max_value") is not None:
        parts.append(f"{expr} {'<' if kw.get('strict_max') else '<='} {literal(kw['max_value'], family)}")
    return " AND ".join(parts) or "true"


def bitmap_distinct(exp: Expectation, cols: list[Column], ranges: RangeLookup | None, where: str | None) -> str | None:
    """The bitmap count of an integer key's distinct values, when its range is known and small enough.

    A compound key with a possible NULL part is left to hashing (unless such rows are ignored): its rows
    would all fall to the exact GROUP BY.
    """
    if ranges is None or not all(c.family == "integer" for c in cols):
        return None
    known = ranges([c.name for c in cols])
    found = [known.get(c.name) for c in cols]
    ignored = exp.kwargs.get("ignore_row_if") == "any_value_is_missing"
    if len(cols) > 1 and not ignored and any(r is None or r.nulls for r in found):
        return None
    return distinct_count([c.value for c in cols], found, where=where)


def unique_key(exp: Expectation, cols: list[Column]) -> tuple[str, str]:
    """A uniqueness check's domain (the rows GE considers, per `ignore_row_if`) and its key expression."""
    values = [c.value for c in cols]
    if len(cols) == 1:
        return f"{values[0]} IS NOT NULL", values[0]
    ignore = exp.kwargs.get("ignore_row_if") or "all_values_are_missing"
    domain = {
        "all_values_are_missing": "NOT (" + " AND ".join(f"{v} IS NULL" for v in values) + ")",
        "any_value_is_missing": " AND ".join(f"{v} IS NOT NULL" for v in values),
        "never": "true",
    }[ignore]
    return domain, "{" + ", ".join(f"{quote(f'c{i}')}: {v}" for i, v in enumerate(values)) + "}"


def key_order(values: Sequence[str]) -> str:
    """Key order (NULL parts last), as `meshlake.distributed.unique` sorts the duplicated keys it shows."""
    return ", ".join(f"{v} NULLS LAST" for v in values)


def sample_duplicates(plan: Plan, domain: str, key: str, values: Sequence[str], grouped: str, sample_size: int) -> None:
    """A uniqueness check's samples: the rows of the smallest duplicated keys (`grouped`: `FROM … GROUP BY the key
    HAVING count(*) > 1`) in key order, then by the whole row, so that every engine picks the same rows."""
    order = key_order(values)
    plan.failing = f"({domain}) AND {key} IN (SELECT {key} {grouped} ORDER BY {order} LIMIT {max(sample_size, 1)})"
    plan.sample_order = f"{order}, __src"


def _unique(plan: Plan, cols: list[Column], source_sql: str, sample_size: int, ranges: RangeLookup | None) -> Plan:
    """GE's unexpected_count: every row whose (non-missing) key occurs more than once."""
    values = [c.value for c in cols]
    domain, key = unique_key(plan.exp, cols)
    if len(cols) > 1:
        plan.aggregates["total"] = "count(*)"
        plan.aggregates["nonnull"] = f"count(*) FILTER (WHERE {domain})"
    # Equal keys hash equally, so fewer distinct hashes than rows means duplicates *or* a collision: the
    # exact GROUP BY settles it. Hashing a compound key is cheaper than building a hash table of structs;
    # a dense integer key is cheaper still to count in a bitmap (a NULL or stray key falls to the GROUP BY).
    bitmap = bitmap_distinct(plan.exp, cols, ranges, None if len(cols) == 1 else domain)
    if bitmap is not None:
        plan.aggregates["distinct"] = bitmap
    else:
        plan.aggregates["distinct"] = (
            f"count(DISTINCT {key})"
            if len(cols) == 1
            else f"count(DISTINCT hash({', '.join(values)})) FILTER (WHERE {domain})"
        )
    grouped = f"FROM {source_sql} AS __src WHERE {domain} GROUP BY {', '.join(values)} HAVING count(*) > 1"
    plan.followup = f"(SELECT sum(c) FROM (SELECT count(*) AS c {grouped}))"
    sample_duplicates(plan, domain, key, values, grouped, sample_size)
    plan.needs_followup = lambda r: bool(r["nonnull"] != r["distinct"])
    return plan
