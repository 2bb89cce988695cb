"""What a SQL expectation may say: one read-only SELECT over `{batch}`, checked with DuckDB's own parser.

A descriptor is written by one team and its SQL runs in the processes of others (every writer of the port,
`meshlake check`, CI), so `unexpected_rows_query` is parsed before it is accepted, at deploy and again at every
check, and refused unless all of this holds:

* the text is exactly one statement, and that statement is a SELECT (`extract_statements`);
* every table it reads is `{batch}` (the staged snapshot of the port's own table, rendered as the relation
  `__meshlake_batch`) or a CTE of the query in scope where it is read, unqualified and without `AT (...)`;
  nothing else: no other table or view, no catalog or system table, no file path (`FROM 'x.csv'`);
* its only table functions are `range`, `generate_series`, `unnest`, `json_each` and `json_tree`, which read
  nothing but their arguments; every other one (`read_text`, `read_csv`, `read_parquet`, `glob`, `query`,
  `duckdb_settings`, …) is refused, as are `SUMMARIZE`/`DESCRIBE`/`SHOW` and any construct not listed here;
* every function it calls is one of DuckDB's built-in scalar, aggregate, window or macro functions,
  unqualified, except those that reveal the process's settings or act on it (`current_setting`,
  `getvariable`, `write_log`, `sleep_ms`, `pg_sleep`, `nextval`, `currval`, `setval`, `setseed`) and the
  macros that read the catalog.

The check reads DuckDB's syntax tree (`json_serialize_sql`), so comments and string literals that look like
SQL are what they are. The query that runs is the very text that was checked (see `render_query`); it runs in
a sandbox that can read nothing but the batch's files (`meshlake.quality.sandbox`).
"""

from __future__ import annotations

import functools
import json
import os
import string
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

BATCH = "__meshlake_batch"
"""The relation `{batch}` stands for in the query that runs."""
TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest", "json_each", "json_tree"})
"""Table functions a query may use: they read nothing but their arguments."""
DENIED_FUNCTIONS = frozenset(
    {"current_setting", "getvariable", "write_log", "sleep_ms", "pg_sleep", "nextval", "currval", "setval", "setseed"}
)
"""Built-in functions a query may not call: they reveal the process's settings or act on it."""
PARSER_FUNCTIONS = frozenset({"unnest", "coalesce", "ifnull", "grouping", "grouping_id", "row"})
"""Functions the parser names that `duckdb_functions()` does not list (special forms)."""
_QUERY_NODES = frozenset({"SELECT_NODE", "SET_OPERATION_NODE", "RECURSIVE_CTE_NODE", "CTE_NODE"})
_TABLE_REFS = frozenset({"BASE_TABLE", "JOIN", "SUBQUERY", "TABLE_FUNCTION", "EMPTY", "EXPRESSION_LIST", "PIVOT"})
_PARTS = frozenset(
    {
        "ORDER_MODIFIER",
        "LIMIT_MODIFIER",
        "LIMIT_PERCENT_MODIFIER",
        "DISTINCT_MODIFIER",
        "ORDER_DEFAULT",
        "ASCENDING",
        "DESCENDING",
    }
)
"""Other typed parts of a SELECT's tree (modifiers, sort orders)."""


class QueryRefusedError(ValueError):
    """The query is not one read-only SELECT over `{batch}`; `.problem` names the forbidden part."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(problem)


def render_query(query: str) -> str:
    """The SQL to check and run: `{batch}` becomes `__meshlake_batch` (`{{`/`}}` are literal braces, as in GE).

    Raises `QueryRefusedError` for a placeholder other than a plain `{batch}` or an unpaired brace.
    """
    try:
        fields = list(string.Formatter().parse(query))
    except ValueError as exc:
        raise QueryRefusedError(f"it has an unpaired brace ({exc}); write literal braces as {{{{ and }}}}") from None
    names = {name for _, name, _, _ in fields if name is not None}
    if names != {"batch"}:
        extra = ", ".join(sorted(names - {"batch"}))
        problem = f"it has unknown placeholder(s) {extra}" if extra else "it never reads {batch}"
        raise QueryRefusedError(f"{problem}; select the failing rows FROM {{batch}}")
    for _, name, spec, conversion in fields:
        if name is not None and (spec or conversion):
            raise QueryRefusedError("write the placeholder as {batch}, without a conversion or format")
    return query.rstrip("; \t\r\n\v\f").format(batch=BATCH)


@functools.lru_cache(maxsize=512)
def check_query(query: str) -> str:
    """Render `query` and check that it is one read-only SELECT over `{batch}`; return the SQL to run.

    Raises `QueryRefusedError` naming the forbidden part and its line in the query.
    """
    import duckdb

    sql = render_query(query)
    with _parser() as con:
        try:
            statements = con.extract_statements(sql)
        except duckdb.Error as exc:
            raise QueryRefusedError(f"it is not valid SQL: {_first_line(exc)}") from None
        if len(statements) != 1:
            raise QueryRefusedError(f"it has {len(statements)} statements; write exactly one SELECT")
        kind = statements[0].type.name
        if kind != "SELECT":
            raise QueryRefusedError(f"its statement is {kind}, not SELECT; write exactly one SELECT")
        (text,) = con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone() or (None,)
        functions = _functions(con)
    tree = json.loads(str(text))
    if tree.get("error") or len(tree.get("statements", ())) != 1:
        raise QueryRefusedError(f"it is not a plain SELECT ({tree.get('error_message', 'not serialisable')})")
    _Walk(sql, functions).node(tree["statements"][0]["node"], frozenset())
    return sql


class _Walk:
    """Walks a SELECT's syntax tree, refusing anything but the batch, its CTEs and harmless functions."""

    def __init__(self, sql: str, functions: frozenset[str]) -> None:
        self.sql = sql
        self.functions = functions

    def node(self, node: Any, scope: frozenset[str]) -> None:
        if isinstance(node, list):
            for item in node:
                self.node(item, scope)
            return
        if not isinstance(node, dict):
            return
        kind = node.get("type") if isinstance(node.get("type"), str) else None
        if "class" in node:  # an expression
            if node["class"] in ("FUNCTION", "WINDOW", "AGGREGATE"):
                self.function(node)
        elif kind is not None and kind.endswith("_NODE"):
            if kind not in _QUERY_NODES:
                self.refuse(f"a {_spoken(kind)} is not allowed", node)
            scope = self.ctes(node.get("cte_map"), scope)
        elif kind is not None and kind not in _PARTS:
            if kind not in _TABLE_REFS:
                self.refuse(f"a {_spoken(kind)} is not allowed (only SELECTs over {{batch}})", node)
            if kind == "BASE_TABLE":
                self.table(node, scope)
                return
            if kind == "TABLE_FUNCTION":
                self.table_function(node, scope)
                return
        for key, value in node.items():
            if key != "cte_map":
                self.node(value, scope)

    def ctes(self, cte_map: Any, scope: frozenset[str]) -> frozenset[str]:
        """Walk each CTE with the names defined before it (and its own, for recursion); return the scope."""
        for entry in (cte_map or {}).get("map", ()):
            name = str(entry["key"]).lower()
            self.node(entry["value"], scope | {name})
            scope = scope | {name}
        return scope

    def table(self, node: dict[str, Any], scope: frozenset[str]) -> None:
        name = str(node.get("table_name", ""))
        qualified = ".".join(p for p in (node.get("catalog_name"), node.get("schema_name"), name) if p)
        if node.get("catalog_name") or node.get("schema_name") or name.lower() not in scope | {BATCH}:
            self.refuse(f"table '{qualified}' is not allowed: a query reads only {{batch}} and its own CTEs", node)
        if node.get("at_clause") is not None:
            self.refuse(f"time travel on '{name}' (AT ...) is not allowed", node)

    def table_function(self, node: dict[str, Any], scope: frozenset[str]) -> None:
        function = node.get("function") or {}
        name = str(function.get("function_name", ""))
        if function.get("schema") or function.get("catalog") or name.lower() not in TABLE_FUNCTIONS:
            allowed = ", ".join(sorted(TABLE_FUNCTIONS))
            self.refuse(f"table function {name}(...) is not allowed (allowed: {allowed})", node)
        for value in function.values():
            self.node(value, scope)

    def function(self, node: dict[str, Any]) -> None:
        name = str(node.get("function_name", ""))
        schema = node.get("schema") or node.get("catalog")
        if schema:
            self.refuse(f"function {schema}.{name}(...) is not allowed: call built-in functions unqualified", node)
        if name.lower() in DENIED_FUNCTIONS:
            self.refuse(f"function {name}(...) is not allowed: it reads the process's settings or acts on it", node)
        if name.lower() not in self.functions:
            self.refuse(f"function {name}(...) is not allowed: it is not one of DuckDB's built-in functions", node)

    def refuse(self, problem: str, node: dict[str, Any]) -> None:
        location = node.get("query_location")
        if isinstance(location, int) and 0 <= location < len(self.sql):
            problem += f" (line {self.sql.count(chr(10), 0, location) + 1} of the query)"
        raise QueryRefusedError(problem)


def _spoken(kind: str) -> str:
    if kind == "SHOW_REF":
        return "DESCRIBE, SHOW or SUMMARIZE"
    return kind.lower().removesuffix("_node").removesuffix("_ref").replace("_", " ")


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


# -- one parser connection per process (DuckDB's parser needs a database; opening one costs ~15 ms) ---------
_lock = threading.Lock()
_connection: dict[int, duckdb.DuckDBPyConnection] = {}
_known: list[frozenset[str]] = []


@contextmanager
def _parser() -> Iterator[duckdb.DuckDBPyConnection]:
    """The process's parser connection, held under a lock (a connection serves one thread at a time)."""
    import duckdb

    with _lock:
        con = _connection.get(os.getpid())
        if con is None:  # first use, or a forked child, which must not use its parent's database
            _connection.clear()
            con = _connection[os.getpid()] = duckdb.connect(config={"enable_external_access": False})
        yield con


def _functions(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """Built-in scalar, aggregate, window and macro functions, less the denied ones and the macros that query
    the catalog (their body is a SELECT)."""
    if not _known:
        rows = con.execute(
            "SELECT lower(function_name), lower(coalesce(macro_definition, '')) FROM duckdb_functions() "
            "WHERE function_type IN ('scalar', 'aggregate', 'window', 'macro')"
        ).fetchall()
        reads = {name for name, body in rows if "select " in body or "from " in body}
        _known.append(frozenset({name for name, _ in rows} | PARSER_FUNCTIONS) - reads - DENIED_FUNCTIONS)
    return _known[0]
