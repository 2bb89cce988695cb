"""The native quality engine: expectations compiled to DuckDB SQL, evaluated in place.

Passes over the data, for a suite that passes:

1. one SELECT of aggregates per source (the rows this write adds, and the whole staged snapshot), sent
   as one statement; identical aggregates are computed once;
2. one SELECT per SQL expectation (`unexpected_rows_expectation`), in a sandbox that reads only the batch
   (`meshlake.quality.sandbox`; the query was checked by `meshlake.contract.expectation_sql`).

Only when something needs it: a GROUP BY for each uniqueness check whose distinct count showed duplicates
(to count GE's unexpected rows exactly), and one small UNION ALL query fetching sample rows of the failed
checks. If the combined statement fails (a cast or type error at run time, a column gone from the files),
every expectation is evaluated on its own, so one broken expectation is reported `errored` and never hides
the others. A SQL expectation that passes costs one query (`LIMIT` of the sample size, counted only if full).

With `incremental` (an append onto a snapshot the gate published, see `meshlake.quality.incremental`), the
table checks that can be are combined from the base's stamped aggregates and the new rows: the whole
snapshot is then not read at all unless some table check (median, SQL, …) needs it.

Everything a run executes shares one time budget (`meshlake.quality.budget`): what it had not finished when the
budget ran out is reported `errored` with the reason, never passed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import date, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from meshlake.contract.expectations import (
    TEMPORAL,
    Expectation,
    ExpectationConfigError,
    check_literal,
    validate_expectation,
)
from meshlake.quality.bitmap import RangeLookup
from meshlake.quality.budget import DEADLINE_VARIABLE, DEFAULT_SECONDS, Budget, BudgetExceededError, guarded
from meshlake.quality.compile import Column, Plan, compile_plan
from meshlake.quality.incremental import Incremental, basis, incremental_plan
from meshlake.quality.python_checks import register_udf as register_python_checks
from meshlake.quality.regex import register_udf
from meshlake.quality.report import ExpectationResult, Scope, Status
from meshlake.quality.schema_checks import judge as judge_schema

if TYPE_CHECKING:
    import duckdb

    from meshlake.quality.metrics import KeyCounts, MetricPartials

_CHECK = "__meshlake_check"
_PARTIALS = "__meshlake_partials"
Sandbox = Callable[[], AbstractContextManager["duckdb.DuckDBPyConnection"]]
"""Opens the sandbox SQL expectations run in (`meshlake.quality.sandbox`)."""
OtherRows = Callable[[str], int]
"""The current row count of another port, by address (`expect_table_row_count_to_equal_other_table`)."""


@dataclass(frozen=True)
class NativeRun:
    """The results of one native run, and the aggregates its table checks leave for the next append."""

    results: tuple[ExpectationResult, ...]
    aggregates: dict[str, Any] = field(default_factory=dict)
    """Exact aggregates behind each table check, by expectation index (see `incremental.basis`)."""


def run_native(
    con: duckdb.DuckDBPyConnection,
    *,
    relation_sql: str,
    new_rows_sql: str | None,
    expectations: Sequence[Expectation],
    sample_size: int = 5,
    incremental: Incremental | None = None,
    schema_sql: str | None = None,
    ranges: RangeLookup | None = None,
    sandbox: Sandbox | None = None,
    time_budget: float = DEFAULT_SECONDS,
    other_rows: OtherRows | None = None,
) -> tuple[ExpectationResult, ...]:
    """Evaluate `expectations` on a DuckDB relation; one result per expectation, in order.

    `relation_sql` is the whole staged snapshot (e.g. `(SELECT * FROM read_parquet([...]))`). With
    `new_rows_sql` (the rows this write adds), row-level checks read only the new rows (older rows passed
    when they were written) and table checks (uniqueness, aggregates, row count, SQL) the whole snapshot,
    or, with `incremental`, the new rows and the base's aggregates where that is exact.

    SQL expectations run in `sandbox` (by default one holding `relation_sql` read into memory); the whole run
    gets `time_budget` seconds.
    """
    return evaluate_native(
        con,
        relation_sql=relation_sql,
        new_rows_sql=new_rows_sql,
        expectations=expectations,
        sample_size=sample_size,
        incremental=incremental,
        schema_sql=schema_sql,
        ranges=ranges,
        sandbox=sandbox,
        time_budget=time_budget,
        other_rows=other_rows,
    ).results


def evaluate_native(
    con: duckdb.DuckDBPyConnection,
    *,
    relation_sql: str,
    new_rows_sql: str | None,
    expectations: Sequence[Expectation],
    sample_size: int = 5,
    incremental: Incremental | None = None,
    schema_sql: str | None = None,
    ranges: RangeLookup | None = None,
    sandbox: Sandbox | None = None,
    time_budget: float = DEFAULT_SECONDS,
    other_rows: OtherRows | None = None,
    streamed: tuple[Literal["table", "new"], MetricPartials] | None = None,
    key_counts: Mapping[int, KeyCounts] | None = None,
) -> NativeRun:
    """`run_native`, also returning the aggregates to stamp for the next append's incremental check.

    `schema_sql` is a relation with the columns and types of `relation_sql` and no rows (`empty_relation`):
    its description is cached, where describing `relation_sql` would bind every file's scan. `ranges` gives
    the bounds of integer columns over `relation_sql`'s files (see `meshlake.quality.bitmap`). `streamed` names
    a relation ("table": `relation_sql`, "new": `new_rows_sql`) and gives the partials of its aggregates measured
    while its rows were written (`meshlake.quality.metrics`): the aggregates they cover are merged, not computed
    from the files. `key_counts` gives, by expectation index, uniqueness checks already answered elsewhere (a
    distributed engine's shuffle by key, `meshlake.quality.metrics.KeyCounts`); with it, every uniqueness result
    says where it ran (`ran_on`).
    """
    import duckdb

    results: dict[int, ExpectationResult] = {}
    aggregates: dict[str, Any] = {}
    budget = Budget(time_budget)
    with budget.active():
        try:
            _evaluate(
                con,
                results,
                aggregates,
                relation_sql=relation_sql,
                new_rows_sql=new_rows_sql,
                expectations=expectations,
                sample_size=sample_size,
                incremental=incremental,
                schema_sql=schema_sql,
                ranges=ranges,
                sandbox=sandbox or _in_memory(con, relation_sql),
                budget=budget,
                error=duckdb.Error,
                other_rows=other_rows,
                streamed=streamed,
                key_counts=key_counts,
            )
        except BudgetExceededError as exc:
            for i, exp in enumerate(expectations):
                if i not in results:
                    results[i] = _errored(exp, _scope(exp, new_rows_sql), exc.reason)
            return NativeRun(tuple(results[i] for i in range(len(expectations))))
    return NativeRun(tuple(results[i] for i in range(len(expectations))), aggregates)


def _evaluate(
    con: duckdb.DuckDBPyConnection,
    results: dict[int, ExpectationResult],
    aggregates: dict[str, Any],
    *,
    relation_sql: str,
    new_rows_sql: str | None,
    expectations: Sequence[Expectation],
    sample_size: int,
    incremental: Incremental | None,
    schema_sql: str | None,
    ranges: RangeLookup | None,
    sandbox: Sandbox,
    budget: Budget,
    error: type[Exception],
    other_rows: OtherRows | None = None,
    streamed: tuple[Literal["table", "new"], MetricPartials] | None = None,
    key_counts: Mapping[int, KeyCounts] | None = None,
) -> None:
    """The body of `evaluate_native`: fills `results` (and `aggregates`) as each expectation is finished."""
    columns = describe_schema(con, schema_sql) if schema_sql else describe(con, relation_sql)
    if streamed is not None and tuple((c.name, c.sql_type) for c in columns.values()) != streamed[1].plan.types:
        streamed = None  # measured on rows of another shape (the schema changed since): read the files
    types = {c.name: c.sql_type for c in columns.values()}
    plans: dict[int, Plan] = {}
    for i, exp in enumerate(expectations):
        try:
            validate_expectation(exp, types)
            row_level = new_rows_sql is not None and exp.spec.row_level
            plan = None
            if incremental is not None and new_rows_sql is not None and not exp.spec.row_level:
                state = incremental.aggregates.get(str(i))
                if isinstance(state, Mapping):
                    plan = incremental_plan(
                        exp, columns, state, incremental, new_sql=new_rows_sql, sample_size=sample_size
                    )
            plans[i] = plan or compile_plan(
                exp,
                columns,
                source="new" if row_level else "table",
                source_sql=new_rows_sql if row_level and new_rows_sql else relation_sql,
                sample_size=sample_size,
                ranges=None if row_level else ranges,
            )
        except ExpectationConfigError as exc:
            results[i] = _errored(exp, _scope(exp, new_rows_sql), exc.problem + _at(exc))
    sources = {"table": relation_sql, "new": new_rows_sql or relation_sql}
    _prepare(con, plans, budget, other_rows)
    relation = {"table": relation_sql, "new": new_rows_sql}.get(streamed[0]) if streamed else None
    covered = (relation, streamed[1]) if streamed is not None and relation is not None else None
    _use_measured(plans, sources, covered, key_counts, columns)
    values = _aggregate_pass(con, plans, sources, error, covered)
    values = _followup_pass(con, plans, values, error)
    for i, plan in plans.items():
        scope: Scope = "new_rows" if plan.source == "new" else "table"
        got = values.get(i)
        if isinstance(got, BaseException):
            results[i] = _errored(plan.exp, scope, _message(got))
        elif plan.spec.kind == "query":
            continue
        elif plan.spec.kind == "schema":
            results[i] = judge_schema(plan, columns)
        else:
            known = plan.known | (got or {})
            try:
                results[i] = finish(plan, known, scope)
            except (ArithmeticError, ValueError, TypeError, KeyError, LookupError) as exc:
                results[i] = _errored(plan.exp, scope, _message(exc))
                continue
            state = basis(plan, known, results[i])
            if state is not None:
                aggregates[str(i)] = state
    if key_counts is not None:
        _say_where_keys_were_counted(results, plans, key_counts)
    queries = {i: p for i, p in plans.items() if p.spec.kind == "query" and i not in results}
    if queries:
        results.update(_run_queries(sandbox, queries, sample_size, error))
    failed = {i: plans[i] for i, r in results.items() if r.status == "failed" and i in plans}
    for i, rows in _samples(con, failed, sources, sample_size, error).items():
        results[i] = _with_sample(results[i], rows)


def _use_measured(
    plans: Mapping[int, Plan],
    sources: Mapping[str, str],
    covered: tuple[str, MetricPartials] | None,
    key_counts: Mapping[int, KeyCounts] | None,
    columns: Mapping[str, Column],
) -> None:
    """Give plans what was measured elsewhere: the keys a writer's tap proved distinct (`covered`: a relation and
    its partials), and the uniqueness checks a distributed engine answered (nothing is read for them)."""
    from meshlake.quality.metrics import use_distinct_keys, use_key_counts

    if covered is not None:
        for plan in plans.values():
            if _relation(plan, sources) == covered[0]:
                use_distinct_keys(plan, covered[1])  # keys proved distinct while they were written
    for i, counts in (key_counts or {}).items():
        if i in plans:
            use_key_counts(plans[i], counts, columns)


def _say_where_keys_were_counted(
    results: dict[int, ExpectationResult], plans: Mapping[int, Plan], key_counts: Mapping[int, KeyCounts]
) -> None:
    """Stamp each uniqueness result with where it ran: the engine that answered it, or the driver."""
    from meshlake.quality.metrics import UNIQUE

    for i, result in results.items():
        if i in plans and plans[i].spec.name in UNIQUE:
            found = key_counts.get(i)
            results[i] = replace(result, ran_on=found.ran_on if found is not None else "driver")


def _prepare(
    con: duckdb.DuckDBPyConnection, plans: Mapping[int, Plan], budget: Budget, other_rows: OtherRows | None
) -> None:
    """Register the Python functions the plans call (they stop at the budget's deadline, which they read from a
    DuckDB variable) and look up the other ports' row counts."""
    python = set().union(*(p.python for p in plans.values())) if plans else set()
    if any(p.regex is not None and p.regex.needs_udf for p in plans.values()):
        python.add("regex")
    if python:
        if "regex" in python:
            register_udf(con)
        if python - {"regex"}:
            register_python_checks(con)
        con.execute(f"SET VARIABLE {DEADLINE_VARIABLE} = {budget.deadline!r}::DOUBLE")
    for plan in plans.values():
        if plan.spec.name == "expect_table_row_count_to_equal_other_table":
            plan.known["other_rows"] = _other_rows(other_rows, plan.exp.kwargs["other_table_name"])


def describe(con: duckdb.DuckDBPyConnection, relation_sql: str) -> dict[str, Column]:
    """Column names and DuckDB types of a relation (binds the query, reads no rows)."""
    rel = con.sql(f"SELECT * FROM {relation_sql} AS __rel")
    return {name: Column(name, str(dtype)) for name, dtype in zip(rel.columns, rel.dtypes, strict=True)}


_DESCRIBED: dict[str, dict[str, Column]] = {}


def describe_schema(con: duckdb.DuckDBPyConnection, schema_sql: str) -> dict[str, Column]:
    """`describe` of a relation that depends on nothing but its text (no file, no table): cached by text."""
    columns = _DESCRIBED.get(schema_sql)
    if columns is None:
        columns = describe(con, schema_sql)
        if len(_DESCRIBED) >= 256:
            _DESCRIBED.clear()
        _DESCRIBED[schema_sql] = columns
    return dict(columns)


def _relation(plan: Plan, sources: Mapping[str, str]) -> str:
    """The rows a plan's aggregates read: its source, or the source narrowed by its `row_condition`."""
    return plan.relation or sources[plan.aggregate_source]


def _aggregate_pass(
    con: duckdb.DuckDBPyConnection,
    plans: Mapping[int, Plan],
    sources: Mapping[str, str],
    error: type[Exception],
    streamed: tuple[str, MetricPartials] | None = None,
) -> dict[int, dict[str, Any] | BaseException]:
    """Evaluate every plan's aggregates: one SELECT per relation read, and the scalar subqueries, in one statement.

    The aggregates of the `streamed` relation that its partials cover are merged from them, in the same statement;
    that relation's files are read only for the others.
    """
    wanted = {i: p for i, p in plans.items() if p.aggregates or p.subqueries}
    if not wanted:
        return {}
    aliases: dict[str, dict[str, str]] = {}
    prefixes: dict[str, str] = {}
    for plan in wanted.values():
        relation = _relation(plan, sources)
        prefix = prefixes.setdefault(relation, f"{plan.aggregate_source[0]}{len(prefixes)}_")
        names = aliases.setdefault(relation, {})
        for sql in plan.aggregates.values():
            names.setdefault(sql, f"{prefix}{len(names)}")
    scalars: dict[str, str] = {}
    for plan in wanted.values():
        for sql in plan.subqueries.values():
            scalars.setdefault(sql, f"q{len(scalars)}")
    merged_sql, covered = "", set[str]()
    if streamed is not None and streamed[0] in aliases:
        merged_sql, covered = streamed[1].merged_select(aliases[streamed[0]], _PARTIALS)
    selects = [
        "(SELECT " + ", ".join(read) + f" FROM {relation} AS __src) AS __r{k}"
        for k, (relation, names) in enumerate(aliases.items())
        if (
            read := [
                f"{sql} AS {alias}"
                for sql, alias in names.items()
                if not (covered and relation == streamed[0] and sql in covered)  # type: ignore[index]
            ]
        )
    ]
    if merged_sql:
        selects.append(f"{merged_sql} AS __streamed")
    if scalars:
        selects.append("(SELECT " + ", ".join(f"{sql} AS {alias}" for sql, alias in scalars.items()) + ") AS __q")
    # Temporal observed values come back through Arrow; everything else (counts, numbers, text) through the
    # DB-API, which binds the query once where the relation API binds it twice (~5 ms per statement).
    arrow = any(p.family in TEMPORAL and (p.spec.kind == "aggregate" or p.verdict is not None) for p in wanted.values())
    try:
        if merged_sql:
            assert streamed is not None
            con.register(_PARTIALS, streamed[1].rows)
        try:
            row = _one(con, "SELECT * FROM " + ", ".join(selects), arrow=arrow)
        finally:
            if merged_sql:
                con.unregister(_PARTIALS)
    except error:
        return {i: _aggregate_alone(con, p, _relation(p, sources), error, arrow=arrow) for i, p in wanted.items()}
    return {
        i: {role: row[aliases[_relation(p, sources)][sql]] for role, sql in p.aggregates.items()}
        | {role: row[scalars[sql]] for role, sql in p.subqueries.items()}
        for i, p in wanted.items()
    }


def _aggregate_alone(
    con: duckdb.DuckDBPyConnection, plan: Plan, source_sql: str, error: type[Exception], *, arrow: bool
) -> dict[str, Any] | BaseException:
    roles = list(plan.aggregates)
    sql = ", ".join(f"{plan.aggregates[r]} AS a{k}" for k, r in enumerate(roles))
    extra = list(plan.subqueries)
    scalars = ", ".join(f"{plan.subqueries[r]} AS s{k}" for k, r in enumerate(extra))
    try:
        row = _one(con, f"SELECT {sql} FROM {source_sql} AS __src", arrow=arrow) if roles else {}
        if extra:
            row |= _one(con, f"SELECT {scalars}", arrow=True)
    except error as exc:
        return exc
    return {r: row[f"a{k}"] for k, r in enumerate(roles)} | {r: row[f"s{k}"] for k, r in enumerate(extra)}


def _followup_pass(
    con: duckdb.DuckDBPyConnection,
    plans: Mapping[int, Plan],
    values: dict[int, dict[str, Any] | BaseException],
    error: type[Exception],
) -> dict[int, dict[str, Any] | BaseException]:
    """Scalar follow-ups, all in one SELECT: the exact duplicate count of uniqueness checks whose distinct
    count showed duplicates, and the new keys' duplicates of incremental uniqueness checks."""
    todo: dict[int, str] = {}
    for i, plan in plans.items():
        got = values.get(i)
        if not isinstance(got, dict):
            continue
        got = plan.known | got  # a count the tap measured is known, not aggregated (`metrics.use_distinct_keys`)
        if plan.followup and plan.needs_followup and plan.needs_followup(got):
            todo[i] = plan.followup
        elif plan.followup_sql is not None and (sql := plan.followup_sql(got)) is not None:
            todo[i] = sql
    if not todo:
        return values
    try:
        found: dict[int, Any] = dict(zip(todo, _scalars(con, "SELECT " + ", ".join(todo.values())), strict=True))
    except error:
        found = {}
        for i, sql in todo.items():
            try:
                found[i] = _scalars(con, f"SELECT {sql}")[0]
            except error as exc:
                found[i] = exc
    for i, value in found.items():
        got = values[i]
        assert isinstance(got, dict)
        role = plans[i].followup_role
        if isinstance(value, BaseException):
            values[i] = value
        else:
            values[i] = got | {role: int(value or 0) if role in ("duplicated", "unexpected") else value}
    return values


def finish(plan: Plan, got: Mapping[str, Any], scope: Scope) -> ExpectationResult:
    """Turn a plan's aggregate values into a result with GE's verdict and conventions."""
    exp, spec = plan.exp, plan.spec
    kw = exp.kwargs
    if plan.verdict is not None:
        ok, observed = plan.verdict(got)
        return ExpectationResult(
            exp.type,
            dict(kw),
            "passed" if ok else "failed",
            scope,
            observed_value=_plain(observed, plan.family),
            method=plan.method,
        )
    if spec.kind == "aggregate":
        observed = _observed(plan, got)
        ok = observed is not None and in_range(observed, kw, plan.family)
        return ExpectationResult(
            exp.type,
            dict(kw),
            "passed" if ok else "failed",
            scope,
            observed_value=_plain(observed, plan.family),
            method=plan.method,
        )
    total = int(got["total"])
    considered = int(got["nonnull"])
    if spec.name == "expect_column_values_to_not_be_null":
        unexpected, considered = total - considered, total
    elif spec.name == "expect_column_values_to_be_null":
        unexpected, considered = considered, total
    elif "distinct" in got:
        unexpected = int(got.get("duplicated", 0))
    else:
        unexpected = int(got["unexpected"])
    mostly = kw.get("mostly")
    mostly = 1.0 if mostly is None else float(mostly)
    vacuous = total == 0 or considered == 0
    ok = vacuous or (float(considered) - float(unexpected)) / float(considered) >= mostly
    return ExpectationResult(
        exp.type,
        dict(kw),
        "passed" if ok else "failed",
        scope,
        element_count=total,
        unexpected_count=unexpected,
        unexpected_percent=unexpected / considered * 100 if considered else None,
        method=plan.method,
    )


def _observed(plan: Plan, got: Mapping[str, Any]) -> Any:
    value = got["value"]
    if plan.spec.name == "expect_column_proportion_of_unique_values_to_be_between":
        nonnull = int(got["nonnull"])
        return int(value) / nonnull if nonnull else 0
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def in_range(value: Any, kw: Mapping[str, Any], family: str | None) -> bool:
    lo, hi = kw.get("min_value"), kw.get("max_value")
    if lo is not None:
        bound = _comparable(value, lo, family, "min_value")
        if value < bound or (kw.get("strict_min") and value == bound):
            return False
    if hi is not None:
        bound = _comparable(value, hi, family, "max_value")
        if value > bound or (kw.get("strict_max") and value == bound):
            return False
    return True


def _comparable(value: Any, bound: Any, family: str | None, field: str) -> Any:
    """Temporal bounds are parsed; a float bound against an exact decimal is read as written (0.1 = 1/10)."""
    if isinstance(value, date | time) and family in TEMPORAL:
        return check_literal(bound, family, field=field)
    if isinstance(value, Decimal) and isinstance(bound, float) and math.isfinite(bound):
        return Decimal(repr(bound))
    return bound


def _plain(value: Any, family: str | None) -> Any:
    """Observed values as GE reports them: decimals as floats, integer sums as ints."""
    if isinstance(value, Decimal):
        return int(value) if family == "integer" else float(value)
    return value


def _run_queries(
    sandbox: Sandbox, plans: Mapping[int, Plan], sample_size: int, error: type[Exception]
) -> dict[int, ExpectationResult]:
    """Run the SQL expectations in one sandbox; a sandbox that cannot be opened errors them all."""
    try:
        with sandbox() as box:
            return {i: _run_query(box, plan, sample_size, error) for i, plan in plans.items()}
    except error as exc:
        return {i: _errored(p.exp, "table", f"cannot open the SQL sandbox: {_message(exc)}") for i, p in plans.items()}


def _run_query(
    con: duckdb.DuckDBPyConnection, plan: Plan, sample_size: int, error: type[Exception]
) -> ExpectationResult:
    """A SQL expectation passes when its query returns no row; observed = number of rows (as GE).

    The checked query runs as it is, never composed into other SQL: its rows are streamed, the first
    `sample_size` kept and the rest counted.
    """
    exp = plan.exp
    assert plan.query is not None
    query = plan.query

    def run() -> tuple[list[dict[str, Any]], int]:
        if len(con.extract_statements(query)) != 1:  # checked before; a sandbox never runs a second statement
            raise ExpectationConfigError("unexpected_rows_query must be exactly one SELECT")
        sample: list[dict[str, Any]] = []
        count = 0
        for batch in con.sql(query).to_arrow_reader(2048):
            if len(sample) < sample_size:
                sample += batch.slice(0, sample_size - len(sample)).to_pylist()
            count += batch.num_rows
        return sample, count

    try:
        rows, count = guarded(con, run)
    except (error, ExpectationConfigError) as exc:
        return _errored(exp, "table", _message(exc))
    status: Status = "passed" if count == 0 else "failed"
    return ExpectationResult(
        exp.type,
        dict(exp.kwargs),
        status,
        "table",
        observed_value=count,
        unexpected_count=count,
        sample=rows,
    )


def _in_memory(con: duckdb.DuckDBPyConnection, relation_sql: str) -> Sandbox:
    """A sandbox holding `relation_sql` read from `con` into memory (for relations not planned from files)."""
    from meshlake.quality.sandbox import in_memory

    def read() -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        table = guarded(con, lambda: con.sql(f"SELECT * FROM {relation_sql} AS __rel").to_arrow_table())
        return in_memory(table)

    return read


def _samples(
    con: duckdb.DuckDBPyConnection,
    failed: Mapping[int, Plan],
    sources: Mapping[str, str],
    sample_size: int,
    error: type[Exception],
) -> dict[int, list[dict[str, Any]]]:
    """Up to `sample_size` failing rows per failed row check, in one UNION ALL query."""
    branches = {
        i: f"(SELECT {i} AS {_CHECK}, * FROM {p.relation or sources[p.source]} AS __src WHERE {p.failing} "
        f"{f'ORDER BY {p.sample_order} ' if p.sample_order else ''}LIMIT {sample_size})"
        for i, p in failed.items()
        if p.failing and sample_size > 0
    }
    if not branches:
        return {}
    try:
        rows = _rows(con, " UNION ALL ".join(branches.values()))
    except error:
        rows = []
        for sql in branches.values():
            try:
                rows.extend(_rows(con, sql))
            except error:
                continue
    out: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(row.pop(_CHECK), []).append(row)
    return out


def _with_sample(result: ExpectationResult, rows: list[dict[str, Any]]) -> ExpectationResult:
    return replace(result, sample=rows)


def _one(con: duckdb.DuckDBPyConnection, sql: str, *, arrow: bool = True) -> dict[str, Any]:
    """The first row. Without `arrow`, through the DB-API: only for rows without TIMESTAMPTZ values (whose
    Python conversion there needs pytz) and where DB-API and Arrow give the same Python values."""
    if arrow:
        return _rows(con, sql)[0]

    def run() -> dict[str, Any]:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description or ()]
        (row,) = cursor.fetchall()  # fetchall, not fetchone: DuckDB 2 keeps an unfinished result open
        return dict(zip(names, row, strict=True))

    return guarded(con, run)


def _scalars(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[Any, ...]:
    """The one row of a query returning numbers only (the DB-API path binds once; `_rows` twice)."""
    # fetchall, not fetchone: DuckDB 2 keeps an unfinished result open
    (row,) = guarded(con, lambda: con.execute(sql).fetchall())
    return tuple(row)


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    # Arrow, not fetchall(): DuckDB's Python conversion of TIMESTAMPTZ needs pytz.
    rows: list[dict[str, Any]] = guarded(con, lambda: con.sql(sql).to_arrow_table().to_pylist())
    return rows


def _errored(exp: Expectation, scope: Scope, message: str) -> ExpectationResult:
    return ExpectationResult(exp.type, dict(exp.kwargs), "errored", scope, error=message)


def _scope(exp: Expectation, new_rows_sql: str | None) -> Scope:
    try:
        return "new_rows" if new_rows_sql is not None and exp.spec.row_level else "table"
    except ExpectationConfigError:
        return "table"


def _at(exc: ExpectationConfigError) -> str:
    return f" (field '{exc.field}')" if exc.field else ""


def _message(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _other_rows(other_rows: OtherRows | None, address: str) -> int | BaseException:
    """Another port's row count, or the reason it is not known (the expectation is then errored)."""
    if other_rows is None:
        return LookupError(f"the row count of {address} is not known here: check the port through its lake")
    try:
        return int(other_rows(address))
    except Exception as exc:
        return LookupError(f"cannot read the row count of {address}: {_message(exc)}")
