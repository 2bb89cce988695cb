"""Column lineage where it can be known: declared on a column, or read from a port's `source_sql` by sqlglot.

Declared: `derived_from: [orders.total_eur]` (the column's values are computed from that input column: DIRECT)
and `influenced_by: [orders.hub]` (it decides which rows or groups exist: INDIRECT), naming an input port by
its name in the descriptor. From SQL: `source_sql` is parsed (never run) with sqlglot in DuckDB's dialect,
its tables being the product's input names and their columns those the producers' descriptors declare
(without sqlglot installed, that is a problem of the port naming `meshlake[lineage]`);
each output column's DIRECT sources are sqlglot's lineage of it, and the columns the query filters, joins,
groups or orders by are INDIRECT sources of every output column. A query sqlglot cannot read, or that names
a table that is no input, is reported as a problem of the port, and its declared lineage still stands.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from meshlake.contract.descriptor import Descriptor, OutputPort

Transformation = Literal["DIRECT", "INDIRECT"]


@dataclass(frozen=True)
class ColumnEdge:
    """`source` (ADDRESS.COLUMN of an input port) feeds `target` (ADDRESS.COLUMN of an output port)."""

    source_port: str
    source_column: str
    target_port: str
    target_column: str
    transformation: Transformation
    origin: Literal["declared", "sql"]
    known: bool = True
    """False when the producer's descriptor does not declare the source column (or its port is unknown)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": f"{self.source_port}.{self.source_column}",
            "target": f"{self.target_port}.{self.target_column}",
            "transformation": self.transformation,
            "origin": self.origin,
            "known": self.known,
        }


@dataclass(frozen=True)
class ColumnLineage:
    edges: tuple[ColumnEdge, ...]
    problems: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"edges": [e.to_dict() for e in self.edges], "problems": list(self.problems)}


def column_lineage(descriptor: Descriptor, columns_of: Mapping[str, Mapping[str, str]]) -> ColumnLineage:
    """The column edges of every output port of `descriptor`.

    `columns_of` maps a port address to its declared columns (name → type), for every port the mesh knows.
    """
    inputs = {item.name: item.port for item in descriptor.inputs}
    edges: list[ColumnEdge] = []
    problems: list[str] = []
    for output in descriptor.outputs:
        target = f"{descriptor.product_name}.{output.name}"
        for column in output.columns:
            for kind, sources in (("DIRECT", column.derived_from), ("INDIRECT", column.influenced_by)):
                for source in sources:
                    name, source_column = source.split(".")
                    port = inputs[name]
                    known = source_column in columns_of.get(port, {})
                    edges.append(ColumnEdge(port, source_column, target, column.name, kind, "declared", known))  # type: ignore[arg-type]
        if output.source_sql is not None:
            found, problem = _sql_edges(output, target, inputs, columns_of)
            edges.extend(e for e in found if e not in edges)
            if problem:
                problems.append(f"{target}: {problem}")
    return ColumnLineage(tuple(edges), tuple(problems))


def _sql_edges(
    output: OutputPort, target: str, inputs: Mapping[str, str], columns_of: Mapping[str, Mapping[str, str]]
) -> tuple[list[ColumnEdge], str | None]:
    from meshlake.errors import MissingDependencyError, require

    try:
        sqlglot = require("sqlglot", extra="lineage", feature="column lineage from source_sql")
    except MissingDependencyError as exc:
        return [], str(exc)
    from sqlglot import exp
    from sqlglot.errors import SqlglotError
    from sqlglot.lineage import lineage
    from sqlglot.optimizer.qualify import qualify

    sql = output.source_sql or ""
    schema: dict[str, object] = {name: dict(columns_of.get(port, {})) for name, port in inputs.items()}
    try:
        parsed = sqlglot.parse_one(sql, dialect="duckdb")
        if not isinstance(parsed, exp.Query):
            return [], "source_sql is not a query (SELECT …)"
        cte_names = {cte.alias_or_name for cte in parsed.find_all(exp.CTE)}
        unknown = sorted(
            {t.name for t in parsed.find_all(exp.Table) if t.name not in schema and t.name not in cte_names}
        )
        if unknown:
            return [], f"source_sql reads {', '.join(unknown)}, which {'is' if len(unknown) == 1 else 'are'} no input"
        qualified = qualify(parsed.copy(), schema=schema, dialect="duckdb", validate_qualify_columns=False)
    except (SqlglotError, ValueError, KeyError) as exc:
        return [], f"sqlglot cannot read source_sql: {str(exc).splitlines()[0]}"
    edges: list[ColumnEdge] = []
    problems: list[str] = []
    for column in output.columns:
        try:
            node = lineage(column.name, qualified, schema=schema, dialect="duckdb")
        except (SqlglotError, ValueError, KeyError) as exc:
            problems.append(f"column {column.name}: {str(exc).splitlines()[0]}")
            continue
        for leaf in node.walk():
            if leaf.downstream or not isinstance(leaf.source, exp.Table):
                continue
            table = leaf.source.name
            if table not in inputs:
                continue
            source_column = leaf.name.split(".")[-1].strip('"')
            port = inputs[table]
            edge = ColumnEdge(
                port, source_column, target, column.name, "DIRECT", "sql", source_column in columns_of.get(port, {})
            )
            if edge not in edges:
                edges.append(edge)
    for port, source_column in _influencing(qualified, inputs):
        for column in output.columns:
            edge = ColumnEdge(
                port, source_column, target, column.name, "INDIRECT", "sql", source_column in columns_of.get(port, {})
            )
            if edge not in edges:
                edges.append(edge)
    return edges, "; ".join(problems) or None


def _influencing(query: Any, inputs: Mapping[str, str]) -> list[tuple[str, str]]:
    """(input port address, column) for each input column the query filters, joins, groups or orders by."""
    from sqlglot import exp

    found: list[tuple[str, str]] = []
    for select in query.find_all(exp.Select):
        aliases = {table.alias_or_name: table.name for table in select.find_all(exp.Table) if table.name in inputs}
        clauses = [select.args.get(key) for key in ("where", "group", "having", "order", "qualify")]
        clauses += [join.args.get("on") for join in select.args.get("joins") or []]
        for clause in clauses:
            if clause is None:
                continue
            for column in clause.find_all(exp.Column):
                table = aliases.get(column.table)
                if table is not None and (inputs[table], column.name) not in found:
                    found.append((inputs[table], column.name))
    return sorted(found)
