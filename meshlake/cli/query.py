"""`meshlake sql`: DuckDB SQL over the whole mesh, with time travel."""

from __future__ import annotations

import sys
from typing import Any

import click

from meshlake.cli.main import Context, cli, json_option, pass_context


@cli.command()
@click.argument("query", required=False)
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV instead of a table.")
@click.option("--max-rows", type=int, default=200, show_default=True, help="Rows to show in a table (0: all).")
@json_option
@pass_context
def sql(ctx: Context, query: str | None, as_csv: bool, max_rows: int) -> None:
    """Run DuckDB SQL over every port of the mesh, each a view named DOMAIN.PRODUCT.PORT.

    Time travel uses DuckDB's syntax on any port:

    \b
      ... FROM logistics.shipments.daily AT (VERSION => 1234)
      ... FROM logistics.shipments.daily AT (VERSION => 'v1.2.0')        -- a tag or branch
      ... FROM logistics.shipments.daily AT (TIMESTAMP => TIMESTAMPTZ '2026-11-01 00:00:00+00')

    With no QUERY, statements are read from standard input and run one after another. With --csv,
    nested values (lists, structs, maps) are written as DuckDB's text for them.

    In a lake with a mesh policy every port is read with the caller's rights (MESHLAKE_PRINCIPAL,
    MESHLAKE_TOKEN): masked columns masked, rows outside its row filter left out, a port it may not
    read an error; and the connection reads no file but those of the ports it reads unrestricted.
    """
    import duckdb

    text = query if query is not None else sys.stdin.read()
    statements = [s.query.strip() for s in duckdb.extract_statements(text)] if text.strip() else []
    if not statements:
        raise click.UsageError("give a QUERY, or SQL statements on standard input")
    con = ctx.lake.duckdb()
    for index, statement in enumerate(statements):
        relation = ctx.lake.sql(statement, con=con)
        if relation is None:
            continue
        if index and not ctx.out.json_mode and not as_csv:
            ctx.out.text()
        _print(ctx, relation, as_csv, max_rows, lines=len(statements) > 1)


def _print(ctx: Context, relation: Any, as_csv: bool, max_rows: int, *, lines: bool) -> None:
    if as_csv:
        ctx.out.csv(_flat(relation).to_arrow_table())
        return
    table = relation.to_arrow_table()
    rows = table.to_pylist()
    if ctx.out.json_mode:
        if lines:  # several statements: one JSON document per line
            ctx.out.json_line(rows)
        else:
            ctx.out.emit(rows)
        return
    shown = rows if max_rows <= 0 else rows[:max_rows]
    ctx.out.table(shown, table.column_names)
    if len(shown) < len(rows):
        ctx.out.note(f"({len(rows) - len(shown)} more rows; use --max-rows 0, --csv or --json for all)")
    else:
        ctx.out.note(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")


def _flat(relation: Any) -> Any:
    """`relation` with nested columns (lists, structs, maps) as DuckDB's text for them: CSV has no nesting."""
    from meshlake.query.types import quote_ident

    nested = {"LIST", "STRUCT", "MAP", "ARRAY", "UNION"}
    if not any(str(kind.id).upper() in nested for kind in relation.types):
        return relation
    columns = []
    for name, kind in zip(relation.columns, relation.types, strict=True):
        quoted = quote_ident(name)
        columns.append(f"CAST({quoted} AS VARCHAR) AS {quoted}" if str(kind.id).upper() in nested else quoted)
    return relation.project(", ".join(columns))
