"""DuckDB's time-travel syntax over mesh ports, rewritten before DuckDB binds it.

    SELECT … FROM logistics.shipments.daily AT (VERSION => 1234)
    SELECT … FROM logistics.shipments.daily AS d AT (TIMESTAMP => TIMESTAMPTZ '2026-11-01 00:00:00+00')
    SELECT … FROM logistics.shipments.daily AT (VERSION => 'v1.2.0')          -- a tag or branch

DuckDB's own parser finds the table references (`json_serialize_sql` reports each `BASE_TABLE` with its
`at_clause` and byte location); each reference that `resolve` claims is spliced out and replaced by a
parenthesised subquery under the same alias (or the port's name), and its AT clause is removed. Everything
else in the text is left byte for byte. Statements that are not SELECTs (INSERT, CREATE TABLE AS, COPY …)
are searched for the SELECTs inside them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from meshlake.errors import MeshlakeError
from meshlake.query.types import quote_ident

if TYPE_CHECKING:
    import duckdb


@dataclass(frozen=True)
class AtSpec:
    """What an AT clause asks for: a snapshot id or tag/branch name (`version`), or an instant."""

    version: int | str | None = None
    timestamp: datetime | None = None

    def __str__(self) -> str:
        if self.timestamp is not None:
            return f"TIMESTAMP => {self.timestamp.isoformat()}"
        return f"VERSION => {self.version!r}"


Resolve = Callable[[tuple[str, ...], AtSpec | None], str | None]
"""(name parts, AT clause or None) -> the relation SQL to read instead, or None to leave the reference."""


class TimeTravelError(MeshlakeError, ValueError):
    """An AT clause meshlake cannot evaluate (a parameter, a subquery, a value of the wrong type or out of range)."""


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FIRST_US = (datetime.min.replace(tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)
_LAST_US = (datetime.max.replace(tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)
"""The instants a snapshot can be looked up at, in microseconds since 1970: years 1 to 9999 UTC (Python's range)."""


_local = threading.local()


def _parser() -> duckdb.DuckDBPyConnection:
    con: duckdb.DuckDBPyConnection | None = getattr(_local, "con", None)
    if con is None:
        import duckdb

        con = _local.con = duckdb.connect()
    return con


def rewrite(sql: str, resolve: Resolve, *, con: duckdb.DuckDBPyConnection | None = None) -> str:
    """`sql` with every reference that `resolve` claims replaced by its relation.

    `con` evaluates AT expressions that are not plain literals (`now() - INTERVAL 1 DAY`, a naive
    `TIMESTAMP` in the session time zone); by default a private connection does. Text DuckDB cannot parse
    is returned unchanged, so DuckDB reports the error itself.
    """
    import duckdb

    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error:
        return sql
    texts = [s.query for s in statements]
    if "".join(texts) != sql:  # statement texts do not tile the input: rewrite it as one piece
        texts = [sql]
    return "".join(_rewrite_statement(text, resolve, con) for text in texts)


def referenced_names(sql: str) -> set[tuple[str, ...]] | None:
    """The table names `sql` references (parts as written, unquoted), or None when some statement is not a
    query DuckDB's serializer can describe (then any table may be touched)."""
    import duckdb

    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error:
        return None
    names: set[tuple[str, ...]] = set()
    for statement in statements:
        parsed = _serialize(statement.query.encode("utf-8"))
        if parsed is None:
            return None
        for ref in _base_tables(parsed):
            parts = tuple(p for p in (ref.get("catalog_name"), ref.get("schema_name"), ref.get("table_name")) if p)
            names.add(parts)
    return names


def _rewrite_statement(text: str, resolve: Resolve, con: duckdb.DuckDBPyConnection | None) -> str:
    data = text.encode("utf-8")
    parsed = _serialize(data)
    if parsed is not None:
        return _apply(data, parsed, resolve, con).decode("utf-8")
    # Not a SELECT: rewrite each SELECT inside it (INSERT … SELECT, CREATE TABLE … AS, COPY (…) TO …).
    edits: list[tuple[int, int, bytes]] = []
    done = -1
    for start, end in _candidates(data):
        if start < done:
            continue
        piece = data[start:end]
        parsed = _serialize(piece)
        if parsed is not None:
            edits.append((start, end, _apply(piece, parsed, resolve, con)))
            done = end
    for start, end, new in reversed(edits):
        data = data[:start] + new + data[end:]
    return data.decode("utf-8")


def _serialize(data: bytes) -> list[dict[str, Any]] | None:
    text = data.decode("utf-8").rstrip().rstrip(";")
    if not text.strip():
        return None
    rows = _parser().execute("SELECT json_serialize_sql(?)", [text]).fetchall()
    result: dict[str, Any] = json.loads(rows[0][0]) if rows else {"error": True}
    if result.get("error"):
        return None
    statements: list[dict[str, Any]] = result["statements"]
    return statements


def _candidates(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of each place a SELECT may start, ending where its parenthesis level closes."""
    import duckdb

    tokens = _tokens(data.decode("utf-8"), duckdb)
    out: list[tuple[int, int]] = []
    opens: list[int] = []
    for i, (pos, kind, word) in enumerate(tokens):
        if word == "(":
            opens.append(i)
        elif word == ")" and opens:
            opens.pop()
        elif kind != "comment" and word.upper() in {"SELECT", "WITH", "FROM", "VALUES"}:
            depth = len(opens)
            end = len(data)
            level = depth
            for later_pos, _, later in tokens[i + 1 :]:
                level += later == "("
                level -= later == ")"
                if level < depth:
                    end = later_pos
                    break
            out.append((pos, end))
    return out


def _tokens(text: str, duckdb: Any) -> list[tuple[int, str, str]]:
    """(byte offset, kind, text) of each token; the text is stripped of the whitespace that follows it."""
    raw = duckdb.tokenize(text)
    data = text.encode("utf-8")
    out = []
    for i, (pos, kind) in enumerate(raw):
        end = raw[i + 1][0] if i + 1 < len(raw) else len(data)
        out.append((pos, kind.name, data[pos:end].decode("utf-8").strip()))
    return out


def _apply(
    data: bytes, statements: list[dict[str, Any]], resolve: Resolve, con: duckdb.DuckDBPyConnection | None
) -> bytes:
    """Apply the edits for every claimed reference; offsets in `statements` are relative to `data`."""
    edits: list[tuple[int, int, bytes]] = []
    for ref in _base_tables(statements):
        edits.extend(_edits_for(data, ref, resolve, con))
    for start, end, new in sorted(edits, reverse=True):
        data = data[:start] + new + data[end:]
    return data


def _base_tables(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") == "BASE_TABLE":
            found.append(node)
        for value in node.values():
            found.extend(_base_tables(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_base_tables(value))
    return found


def _edits_for(
    data: bytes, ref: dict[str, Any], resolve: Resolve, con: duckdb.DuckDBPyConnection | None
) -> list[tuple[int, int, bytes]]:
    import duckdb

    parts = tuple(p for p in (ref.get("catalog_name"), ref.get("schema_name"), ref.get("table_name")) if p)
    start, length = ref["query_location"], ref["query_location_length"]
    if start >= len(data) or not parts:
        return []
    span = data[start : start + length].decode("utf-8")
    tokens = [t for t in _tokens(span, duckdb) if t[1] != "comment"]
    name_end = _name_end(tokens, parts, len(span.encode("utf-8")))
    if name_end is None:
        return []
    at_range = _at_range(tokens, name_end) if ref.get("at_clause") else None
    if ref.get("at_clause") and at_range is None:
        return []
    spec = _at_spec(ref["at_clause"], span, at_range, con) if at_range is not None else None
    relation = resolve(parts, spec)
    if relation is None:
        return []
    alias = "" if ref.get("alias") else f" AS {quote_ident(parts[-1])}"
    edits = [(start, start + name_end, f"({relation}){alias} ".encode())]
    if at_range is not None:
        edits.append((start + at_range[0], start + at_range[1], b""))
    return edits


def _name_end(tokens: list[tuple[int, str, str]], parts: tuple[str, ...], span_end: int) -> int | None:
    """Byte offset just past the qualified name at the start of the span, if the tokens spell it."""
    expected = 2 * len(parts) - 1
    if len(tokens) < expected:
        return None
    for i, part in enumerate(parts):
        word = tokens[2 * i][2]
        if word.startswith('"'):
            word = word[1:-1].replace('""', '"')
        if word.lower() != part.lower() or (i and tokens[2 * i - 1][2] != "."):
            return None
    return tokens[expected][0] if len(tokens) > expected else span_end


def _at_range(tokens: list[tuple[int, str, str]], name_end: int) -> tuple[int, int, int, int] | None:
    """(start, end, expression start, expression end) of `AT ( unit => expr )` after the name."""
    depth = 0
    for i, (pos, _, word) in enumerate(tokens):
        if pos < name_end:
            continue
        if word == "(":
            depth += 1
        elif word == ")":
            depth -= 1
        elif depth == 0 and word.upper() == "AT" and i + 3 < len(tokens) and tokens[i + 1][2] == "(":
            arrow = next((j for j in range(i + 2, len(tokens)) if tokens[j][2] == "=>"), None)
            if arrow is None or arrow + 1 >= len(tokens):
                return None
            level = 1
            for j in range(i + 2, len(tokens)):
                level += tokens[j][2] == "("
                level -= tokens[j][2] == ")"
                if level == 0:
                    return pos, tokens[j][0] + 1, tokens[arrow + 1][0], tokens[j][0]
            return None
    return None


def _at_spec(
    clause: dict[str, Any],
    span: str,
    at_range: tuple[int, int, int, int],
    con: duckdb.DuckDBPyConnection | None,
) -> AtSpec:
    unit = str(clause.get("unit", "")).upper()
    expr = clause.get("expr") or {}
    raw = span.encode("utf-8")[at_range[2] : at_range[3]].decode("utf-8").strip()
    if _contains(expr, "PARAMETER") or _contains(expr, "SUBQUERY"):
        raise TimeTravelError(f"AT ({unit} => {raw}): parameters and subqueries are not allowed; use a literal")
    literal = expr.get("literal") if expr.get("class") == "CONSTANT" else None
    engine = con if con is not None else _parser()
    if unit == "VERSION":
        if literal and literal.get("kind") == "INTEGER":
            return AtSpec(version=int(literal["text"]))
        if literal and literal.get("kind") == "STRING":
            return AtSpec(version=str(literal["text"]))
        value = _evaluate(engine, f"SELECT ({raw})", f"AT (VERSION => {raw})")
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise TimeTravelError(f"AT (VERSION => {raw}) must be a snapshot id or a tag/branch name")
        return AtSpec(version=value)
    if unit == "TIMESTAMP":
        shown = f"AT (TIMESTAMP => {raw})"
        micros = _evaluate(engine, f"SELECT epoch_us(CAST(({raw}) AS TIMESTAMPTZ))", shown)
        if micros is None:
            raise TimeTravelError(
                f"{shown} is NULL or not a finite instant; give one like TIMESTAMPTZ '2026-11-01 00:00:00+00'"
            )
        if not _FIRST_US <= int(micros) <= _LAST_US:
            raise TimeTravelError(
                f"{shown} is outside the instants a snapshot can be looked up at (years 1 to 9999 UTC); "
                "give one like TIMESTAMPTZ '2026-11-01 00:00:00+00'"
            )
        return AtSpec(timestamp=_EPOCH + timedelta(microseconds=int(micros)))
    raise TimeTravelError(f"AT ({unit} => …) is not supported: use VERSION or TIMESTAMP")


def _evaluate(engine: duckdb.DuckDBPyConnection, query: str, clause: str) -> Any:
    """The one value `query` gives, or a `TimeTravelError` naming `clause` when DuckDB cannot compute it."""
    import duckdb

    try:
        rows = engine.execute(query).fetchall()
    except duckdb.Error as exc:
        reason = str(exc).split("\n", 1)[0]
        raise TimeTravelError(f"{clause} cannot be evaluated: {reason}") from None
    return rows[0][0] if rows else None


def _contains(node: Any, cls: str) -> bool:
    if isinstance(node, dict):
        return node.get("class") == cls or any(_contains(v, cls) for v in node.values())
    if isinstance(node, list):
        return any(_contains(v, cls) for v in node)
    return False
