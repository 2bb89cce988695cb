"""Mergeable metrics: a gate's aggregates computed while the rows stream through the writer, merged at check time.

A count, a minimum, a maximum or an exact sum (integers, decimals) over every row of a write is the merge of the
same aggregate over each row group: the sum of the counts, the least of the minima, the sum of the sums. Before a
write, the gate compiles its expectations as the native engine will (`PortGate.metric_plan`) and keeps the
aggregates that merge (`merge_kind`): non-null counts, unexpected-row counts of set membership, ranges, regexes
(DuckDB's own), lengths, pairs, … . The writer hands each row group it encodes to a `MetricTap`, which evaluates
those aggregates on it with DuckDB (the rows are in memory: nothing is read back) and keeps one row of partials.

Partials concatenate: over row groups, files and distributed workers alike (`MetricPartials` pickles; a worker
returns its own and the driver joins them). The native engine merges them in its aggregate pass, in the same
statement and with DuckDB, so every merged value has the type and the Python value the scan of the written files
would give (`merged_select`). The other aggregates (distinct counts, float sums, means, medians, anything with a
subquery, a window or a Python function) and every expectation with a `row_condition` are computed by the
existing pass over the written files, which then reads only the columns they need.

A uniqueness check's distinct count does not merge as such, but its answer is what the gate needs: whether every
key is distinct. The tap proves it while streaming (`key_runs`) when the rows come in key order, as appends of
sequential ids, order keys or event times do: each row group's keys must strictly increase row after row (a sorted
run), and the runs of all row groups (files, lanes, workers) must not overlap. Then every key of the write is
distinct and the distinct count is the number of keys considered, exactly. A repeated key, rows out of key order,
runs that overlap, a NULL in a compound key or a column of another type leave the proof unfinished (at the cost of
one comparison per row), and the pass over the files counts as before. Integer, string, date and timestamp keys are
measured: their order and equality are the same in Arrow, in Python and in DuckDB.

A tap that meets rows of another shape than the table's, or an aggregate that fails on them, stops: the gate
then checks the written files as before. Partials are used only for the relation of exactly the rows they saw
(their row count must match the written files').
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa

if TYPE_CHECKING:
    import duckdb
    from pyiceberg.schema import Schema

    from meshlake.contract.expectations import Expectation
    from meshlake.quality.compile import Column, Plan

Kind = Literal["count", "min", "max", "sum"]
Key = tuple[str, ...]
"""The columns of a uniqueness check's key, in order."""

UNIQUE = ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique")
KEY_FAMILIES = frozenset({"integer", "string", "date", "timestamp", "timestamptz"})
"""Key types whose order and equality are the same in Arrow, in Python (once read as ints or str) and in DuckDB."""

ROWS = "count(*)"
"""Always measured: the partials' row count, which must match the written files' before they are used."""

_HEAD = re.compile(r"(count|min|max|sum)\s*\(", re.IGNORECASE)
_FILTER = re.compile(r"filter\s*\(\s*where\b", re.IGNORECASE)
_BARRED = re.compile(
    r"\b(select|over|distinct|meshlake_\w*|random|gen_random_uuid|now|today|current_\w+)\b", re.IGNORECASE
)
"""What keeps an aggregate from merging: another scan, a window, a Python function, a value of the moment."""
_EXACT_SUM = re.compile(r"^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|DECIMAL\(\d+,\s*\d+\))$", re.IGNORECASE)
_PLAIN = re.compile(
    r"^(BOOLEAN|TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|"
    r"DECIMAL\(\d+,\s*\d+\)|DATE|TIME|TIMESTAMP|TIMESTAMP WITH TIME ZONE|VARCHAR|BLOB)$",
    re.IGNORECASE,
)
"""Value types that travel through Arrow and back into DuckDB unchanged (or, HUGEINT, cast back exactly)."""


_OFFSET = re.compile(r"^(\d+) \+ (.+)$", re.DOTALL)
_COALESCE = re.compile(r"^coalesce\((.*),\s*0\s*\)$", re.IGNORECASE | re.DOTALL)
_TEXT = re.compile(r"^CAST\((.*)\s+AS\s+VARCHAR\)$", re.IGNORECASE | re.DOTALL)


def merge_kind(sql: str) -> Kind | None:
    """How an aggregate merges across row groups, or None (see `split`)."""
    found = split(sql)
    return found[0] if found is not None else None


def split(sql: str) -> tuple[Kind, str, str] | None:
    """(kind, the aggregate, its wrapping) of a mergeable aggregate, or None. Mergeable: `count(…)`, `min(…)`,
    `max(…)` or `sum(…)`, optionally `FILTER (WHERE …)`, over one row at a time (no subquery, window, DISTINCT or
    meshlake Python function); wrapped, at most, in `coalesce(sum(…), 0)` and `CAST(… AS VARCHAR)`, which apply
    as well to the merged value (`{}` in the wrapping)."""
    text = sql.strip()
    for pattern, wrap in ((_TEXT, "CAST({} AS VARCHAR)"), (_COALESCE, "coalesce({}, 0)")):
        matched = pattern.match(text)
        if matched is not None and _closing(text, text.index("(")) == len(text) - 1:
            inner = split(matched.group(1))
            if inner is None or (wrap.startswith("coalesce") and inner[0] != "sum"):
                return None
            return inner[0], inner[1], wrap.format(inner[2])
    kind = _bare(text)
    return (kind, text, "{}") if kind is not None else None


def _bare(text: str) -> Kind | None:
    head = _HEAD.match(text)
    if head is None or _BARRED.search(_unquoted(text)):
        return None
    end = _closing(text, head.end() - 1)
    if end is None:
        return None
    rest = text[end + 1 :].strip()
    if rest:
        found = _FILTER.match(rest)
        if found is None or _closing(rest, rest.index("(")) != len(rest) - 1:
            return None
    kind: Kind = head.group(1).lower()  # type: ignore[assignment]
    return kind


def _unquoted(text: str) -> str:
    """`text` with the content of quoted literals and identifiers blanked (a column named "select" is a name)."""
    out, quote = [], ""
    for char in text:
        if quote:
            out.append(" " if char != quote else char)
            if char == quote:
                quote = ""
        else:
            out.append(char)
            if char in "'\"":
                quote = char
    return "".join(out)


def _closing(text: str, start: int) -> int | None:
    """The index of the parenthesis closing the one at `start` (quotes respected), or None."""
    depth, quote = 0, ""
    for i in range(start, len(text)):
        char = text[i]
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return i
    return None


@dataclass(frozen=True)
class MetricPlan:
    """The mergeable aggregates of one gate over one table schema (it pickles: workers get it in their spec)."""

    aggregates: tuple[str, ...]
    """Aggregate SQL texts, exactly as the native engine compiles them; partial column `m<i>` is the i-th."""
    kinds: tuple[Kind, ...]
    measured: tuple[str, ...]
    """The aggregate each partial column measures (the i-th aggregate without its wrapping)."""
    wraps: tuple[str, ...]
    """How the merged value becomes the i-th aggregate's (`{}`: the merged value)."""
    types: tuple[tuple[str, str], ...]
    """The table's columns as DuckDB reads its files: (name, type). Rows of another shape stop the tap."""
    keys: tuple[Key, ...] = ()
    """Keys of uniqueness checks whose distinctness the tap proves while streaming (`key_runs`)."""

    @staticmethod
    def of(aggregates: Sequence[str], types: Mapping[str, str], keys: Sequence[Key] = ()) -> MetricPlan | None:
        """The plan measuring those of `aggregates` that merge (and the row count) and the distinctness of `keys`,
        or None if there is nothing to measure."""
        kept: dict[str, tuple[Kind, str, str]] = {}
        for sql in (ROWS, *aggregates):
            found = split(sql)
            if found is not None:
                kept.setdefault(sql, found)
        unique_keys = tuple(dict.fromkeys(keys))
        if len(kept) == 1 and not unique_keys:
            return None
        kinds, measured, wraps = zip(*kept.values(), strict=True)
        return MetricPlan(tuple(kept), kinds, measured, wraps, tuple(types.items()), unique_keys)

    def tap(self) -> MetricTap:
        return MetricTap(self)

    @property
    def select(self) -> str:
        return ", ".join(f"{sql} AS m{i}" for i, sql in enumerate(self.measured))

    @property
    def empty_sql(self) -> str:
        """No rows, the table's columns: the partials of a write that saw none."""
        from meshlake.query.types import quote_ident

        cols = ", ".join(f"CAST(NULL AS {sql_type}) AS {quote_ident(name)}" for name, sql_type in self.types)
        return f"(SELECT {cols} WHERE false)"


@dataclass(frozen=True)
class MetricPartials:
    """One row of partial aggregates per row group (or per worker, once joined); picklable."""

    plan: MetricPlan
    rows: pa.Table
    result_types: tuple[str, ...]
    """The DuckDB type of each aggregate over the rows (what the merge casts back to)."""
    runs: tuple[tuple[KeyRun, ...] | None, ...] = ()
    """For each of the plan's keys, the sorted runs of its keys in each row group, or None (not all distinct)."""

    @property
    def row_count(self) -> int:
        import pyarrow.compute as pc

        return int(pc.sum(self.rows.column("m0")).as_py() or 0)

    @staticmethod
    def join(parts: Sequence[MetricPartials | None]) -> MetricPartials | None:
        """The partials of all `parts` together; None if any is missing or they measured different things."""
        if not parts or any(p is None for p in parts):
            return None
        first = parts[0]
        assert first is not None
        if any(p is None or p.plan != first.plan or p.result_types != first.result_types for p in parts):
            return None
        rows = pa.concat_tables([p.rows for p in parts if p is not None])
        runs: list[tuple[KeyRun, ...] | None] = []
        for j in range(len(first.plan.keys)):
            found = [p.runs[j] if p is not None and j < len(p.runs) else None for p in parts]
            runs.append(None if any(r is None for r in found) else tuple(run for r in found if r for run in r))
        return MetricPartials(first.plan, rows, first.result_types, tuple(runs))

    def distinct_keys(self, key: Sequence[str]) -> int | None:
        """The number of keys (of columns `key`) the uniqueness check considers, when the tap proved them all
        distinct (sorted runs, no two overlapping): then that is also their distinct count. Else None."""
        try:
            runs = self.runs[self.plan.keys.index(tuple(key))]
        except (ValueError, IndexError):
            return None
        if runs is None:
            return None
        ordered = sorted(runs, key=lambda run: run.low)
        if any(before.high >= after.low for before, after in pairwise(ordered)):
            return None
        return sum(run.rows for run in runs)

    def merged_select(self, wanted: Mapping[str, str], table_name: str) -> tuple[str, set[str]]:
        """`SELECT <merge of each covered aggregate> AS <its alias> FROM table_name` for the aggregates of `wanted`
        (sql → alias) that these partials cover exactly, and the set of their SQL texts."""
        index = {sql: i for i, sql in enumerate(self.plan.aggregates)}
        parts, covered = [], set()
        for sql, alias in wanted.items():
            i, offset = index.get(sql), ""
            if i is None:  # `<n> + count(…)`: a count added to a base's (an append's incremental check)
                matched = _OFFSET.match(sql.strip())
                i = index.get(matched.group(2)) if matched is not None else None
                if matched is None or i is None or self.plan.kinds[i] != "count" or self.plan.wraps[i] != "{}":
                    continue
                offset = f"{matched.group(1)} + "
            kind, result_type = self.plan.kinds[i], self.result_types[i]
            if kind == "count":
                merged = f"CAST(sum(m{i}) AS {result_type})"
            elif (kind == "sum" and not _EXACT_SUM.match(result_type)) or not _PLAIN.match(result_type):
                continue  # a float sum depends on the order of its terms: the pass over the files computes it
            else:
                merged = f"CAST({kind}(m{i}) AS {result_type})"
            parts.append(f"{offset}{self.plan.wraps[i].format(merged)} AS {alias}")
            covered.add(sql)
        return (f"(SELECT {', '.join(parts)} FROM {table_name})" if parts else ""), covered


@dataclass
class MetricTap:
    """Evaluates a `MetricPlan` on each row group the writer encodes (`observe`, thread-safe)."""

    plan: MetricPlan
    stopped: bool = False
    _rows: list[pa.Table] = field(default_factory=list)
    _types: tuple[str, ...] | None = None
    _checked: list[pa.Schema] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _runs: list[list[KeyRun] | None] | None = None

    def observe(self, rows: pa.Table) -> None:
        if self.stopped:
            return
        import duckdb

        cursor = _database().cursor()
        try:
            cursor.register("__meshlake_rows", rows)
            if not any(rows.schema.equals(seen) for seen in self._checked):
                rel = cursor.sql("SELECT * FROM __meshlake_rows")
                found = tuple((name, str(dtype)) for name, dtype in zip(rel.columns, rel.dtypes, strict=True))
                if found != self.plan.types:
                    self.stopped = True
                    return
                with self._lock:
                    self._checked.append(rows.schema)
            self._add(cursor, "__meshlake_rows")
        except duckdb.Error:
            self.stopped = True  # the pass over the files evaluates (and reports) what failed here
        finally:
            cursor.close()
        for j, key in enumerate(self.plan.keys):
            if not self.stopped:
                self._measure_key(j, rows, key)

    def partials(self) -> MetricPartials | None:
        """What the tap measured, or None when it stopped."""
        if self.stopped:
            return None
        if not self._rows:
            cursor = _database().cursor()
            try:
                self._add(cursor, self.plan.empty_sql)
            finally:
                cursor.close()
        assert self._types is not None
        with self._lock:
            runs = self._runs or [[] for _ in self.plan.keys]
            found = tuple(tuple(r) if r is not None else None for r in runs)
        return MetricPartials(self.plan, pa.concat_tables(self._rows), self._types, found)

    def _measure_key(self, j: int, rows: pa.Table, key: Key) -> None:
        """Add the sorted run of `key` in `rows` to the key's runs, or give the proof up (see `key_runs`)."""
        with self._lock:
            if self._runs is None:
                self._runs = [[] for _ in self.plan.keys]
            if self._runs[j] is None:
                return
        found = key_runs(rows, key)
        with self._lock:
            runs = self._runs[j]
            if runs is None:
                return
            if found is None or any(_overlap(run, other) for run in found for other in runs):
                self._runs[j] = None
            else:
                runs += found

    def _add(self, cursor: duckdb.DuckDBPyConnection, relation: str) -> None:
        rel = cursor.sql(f"SELECT {self.plan.select} FROM {relation} AS __src")
        types = tuple(str(t) for t in rel.dtypes)
        row = rel.to_arrow_table()
        with self._lock:
            if self._types is None:
                self._types = types
            elif self._types != types:
                self.stopped = True
            self._rows.append(row)


@dataclass(frozen=True)
class KeyRun:
    """The keys of one row group that a uniqueness check considers, all distinct: how many, the least and the
    greatest (compared as tuples: lexicographically, as a sort orders them)."""

    rows: int
    low: tuple[Any, ...]
    high: tuple[Any, ...]


def _overlap(a: KeyRun, b: KeyRun) -> bool:
    return not (a.high < b.low or b.high < a.low)


def key_runs(rows: pa.Table, key: Key) -> list[KeyRun] | None:
    """The run of `key` in `rows` ([] when no row has a key to consider) when its keys strictly increase row after
    row (so all are distinct), else None.

    The keys considered: the non-NULL values of a one-column key; every row of a compound key without a NULL part
    (a NULL part gives None: GE and GROUP BY count NULLs as equal). Dates and timestamps are compared as their
    integer values, which order and compare as DuckDB compares them; strings byte by byte, as Arrow and DuckDB do
    (and as Python does, UTF-8 keeping the order of code points).
    """
    import pyarrow.compute as pc

    if any(name not in rows.column_names for name in key):
        return None
    columns = [_comparable(rows.column(name)) for name in key]
    if any(column is None for column in columns):
        return None
    arrays: list[pa.ChunkedArray] = [c for c in columns if c is not None]
    if any(c.null_count for c in arrays):
        if len(arrays) > 1:
            return None
        arrays = [pc.drop_null(arrays[0])]
    count = len(arrays[0])
    if count == 0:
        return []
    if not _increasing(arrays):
        return None  # a key repeats, or the rows are not in key order (sorting them would cost more than the
        # pass over the files saves: keys in no order overlap across row groups anyway)
    low = tuple(a[0].as_py() for a in arrays)
    high = tuple(a[count - 1].as_py() for a in arrays)
    return [KeyRun(count, low, high)]


def _comparable(column: pa.ChunkedArray) -> pa.ChunkedArray | None:
    """`column` as values that compare in Arrow and Python as in DuckDB, or None for another type."""
    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return column
    if pa.types.is_date32(kind):
        return column.cast(pa.int32())
    if pa.types.is_timestamp(kind) or pa.types.is_date64(kind):
        return column.cast(pa.int64())
    return None


def _increasing(arrays: Sequence[pa.ChunkedArray]) -> bool:
    """Whether the keys made of `arrays` (one per key column, no NULL) strictly increase row after row."""
    import pyarrow.compute as pc

    count = len(arrays[0])
    if count < 2:
        return True
    greater: Any = None
    equal: Any = None
    for array in arrays:
        before, after = array.slice(0, count - 1), array.slice(1)
        above, same = pc.greater(after, before), pc.equal(after, before)
        if greater is None:
            greater, equal = above, same
        else:
            greater = pc.or_(greater, pc.and_(equal, above))
            equal = pc.and_(equal, same)
    return bool(pc.all(greater).as_py())


def unique_key(exp: Expectation, columns: Mapping[str, Column]) -> Key | None:
    """The key of a uniqueness check whose distinctness a tap can prove, or None (another check, a `row_condition`,
    a column of another type)."""
    if exp.spec.name not in UNIQUE or exp.kwargs.get("row_condition") is not None:
        return None
    names = [exp.kwargs["column"]] if "column" in exp.kwargs else list(exp.kwargs.get("column_list") or ())
    if not names or any(name not in columns or columns[name].family not in KEY_FAMILIES for name in names):
        return None
    return tuple(names)


def use_distinct_keys(plan: Plan, partials: MetricPartials) -> None:
    """Take a uniqueness plan's distinct count (`distinct`, or `new_distinct` of an append's new keys) from
    `partials` when the tap proved every key distinct: the count is then known, not read from the files."""
    from meshlake.quality.compile import Column

    if plan.spec.name not in UNIQUE or plan.relation is not None:
        return
    role = next((r for r in ("distinct", "new_distinct") if r in plan.aggregates), None)
    key = unique_key(plan.exp, {n: Column(n, t) for n, t in partials.plan.types}) if role else None
    found = partials.distinct_keys(key) if key is not None else None
    if role is not None and found is not None:
        plan.known[role] = found
        del plan.aggregates[role]


def _keys_considered(exp: Expectation, cols: list[Column]) -> str:
    """The count of the rows whose key a uniqueness check considers, as an append's incremental check counts
    its new keys (`meshlake.quality.incremental`)."""
    from meshlake.quality.compile import unique_key as key_domain

    domain, _ = key_domain(exp, cols)
    return f"count({cols[0].value})" if len(cols) == 1 else f"count(*) FILTER (WHERE {domain})"


def measurable(expectations: Sequence[Expectation], columns: Mapping[str, Column], *, whole: bool) -> MetricPlan | None:
    """The plan measuring the mergeable aggregates of `expectations` on rows with `columns`, compiled as the native
    engine compiles them: of row checks, and, with `whole` (the rows are the whole staged snapshot), of table checks.
    """
    from meshlake.contract.expectations import ExpectationConfigError, validate_expectation
    from meshlake.quality.compile import compile_plan

    types = {c.name: c.sql_type for c in columns.values()}
    aggregates: list[str] = []
    keys: list[Key] = []
    for exp in expectations:
        try:
            validate_expectation(exp, types)
            key = unique_key(exp, columns)
            if key is not None:
                keys.append(key)  # the new rows' keys: all of them (`whole`), or an append's (`incremental`)
                aggregates.append(_keys_considered(exp, [columns[name] for name in key]))
            row_level = exp.spec.row_level
            if not (row_level or whole) or exp.spec.kind in ("query", "schema"):
                continue
            plan = compile_plan(exp, columns, source="new" if row_level else "table", source_sql="__rows")
        except (ExpectationConfigError, KeyError, LookupError, ValueError, TypeError):
            continue  # the check reports it
        if plan.relation is None and not plan.python and not (plan.regex is not None and plan.regex.needs_udf):
            aggregates += plan.aggregates.values()
    return MetricPlan.of(aggregates, types, keys)


def table_columns(schema: Schema) -> dict[str, Column]:
    """The columns of a table as DuckDB reads its files (names and types), as the native engine describes them."""
    from meshlake.quality.native import describe_schema
    from meshlake.query.sql import empty_relation

    cursor = _database().cursor()
    try:
        return describe_schema(cursor, f"({empty_relation(schema)})")
    finally:
        cursor.close()


_DATABASE: dict[int, duckdb.DuckDBPyConnection] = {}
_DATABASE_LOCK = threading.Lock()


def _database() -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB database per process for the taps (each observation takes a cursor of it); a forked
    child opens its own."""
    import os

    import duckdb

    with _DATABASE_LOCK:
        database = _DATABASE.get(os.getpid())
        if database is None:
            _DATABASE.clear()
            database = _DATABASE[os.getpid()] = duckdb.connect()
            # One thread per observation: the writer already observes as many row groups at once as it encodes.
            database.execute("SET enable_progress_bar = false; SET threads = 1")
        return database


@dataclass(frozen=True)
class KeyCounts:
    """A uniqueness check's answer computed elsewhere (a distributed engine's shuffle by key), handed to the gate
    instead of the aggregates it would read (`use_key_counts`): exactly the numbers the native engine computes."""

    ran_on: str
    """Where the check ran (`daft`, `ray`): the result's `ran_on`, recorded in the quality history."""
    nonnull: int
    """The rows whose key the check considers (per `ignore_row_if`) in the staged snapshot."""
    duplicated: int
    """GE's unexpected count: the considered rows whose key occurs more than once in the staged snapshot."""
    examples: tuple[tuple[Any, ...], ...] = ()
    """A few duplicated keys (one value per key column, None for NULL): the failing rows sampled are theirs."""
    total: int | None = None
    """The staged snapshot's rows, when the check counted them (an incremental check knows them from metadata)."""


def use_key_counts(plan: Plan, counts: KeyCounts, columns: Mapping[str, Column]) -> None:
    """Make a uniqueness plan (full or incremental, as compiled) take its answer from `counts`: nothing is read for
    it, and its failing rows (samples) are those holding the example keys."""
    from meshlake.quality.compile import key_order
    from meshlake.quality.compile import unique_key as key_domain

    names = [plan.exp.kwargs["column"]] if "column" in plan.exp.kwargs else list(plan.exp.kwargs["column_list"])
    cols = [columns[name] for name in names]
    total = plan.aggregates.get("total")  # `count(*)` of the staged files: from their metadata
    plan.aggregates.clear()
    if total is not None and counts.total is None:
        plan.aggregates["total"] = total
    plan.subqueries.clear()
    plan.followup = plan.followup_sql = plan.needs_followup = None
    plan.known |= {"nonnull": counts.nonnull, "duplicated": counts.duplicated, "unexpected": counts.duplicated}
    if counts.total is not None:
        plan.known["total"] = counts.total
    domain, _ = key_domain(plan.exp, cols)
    matches = [
        " AND ".join(
            f"{c.value} IS NULL" if v is None else f"{c.value} = {_key_literal(c, v)}"
            for c, v in zip(cols, key, strict=True)
        )
        for key in counts.examples
    ]
    plan.failing = f"({domain}) AND (({') OR ('.join(matches)}))" if matches else None
    plan.sample_order = f"{key_order([c.value for c in cols])}, __src"


def _key_literal(col: Column, value: Any) -> str:
    """A SQL literal of an example key's value in `col` (bytes as hex: their text would be Python's repr)."""
    from meshlake.quality.regex import quote

    if isinstance(value, bytes | bytearray | memoryview):
        return f"from_hex({quote(bytes(value).hex())})"
    return f"CAST({quote(str(value))} AS {col.sql_type})"
