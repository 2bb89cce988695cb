"""Filters DuckDB offers a restricted source: rendered as SQL with parameters, never pasted, or left to DuckDB."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import duckdb
import pytest

from meshlake.query.pushdown import predicate_sql

nodes = pytest.importorskip("duckdb._sources.nodes", reason="this DuckDB has no Arrow source protocol")

COLUMNS = ["id", "name", "price", "day", "at", "amount", "flag"]
TABLE = """
SELECT * FROM (VALUES
    (1, 'ann', 1.5, DATE '2026-01-01', TIMESTAMPTZ '2026-01-01 10:00:00+00', 1.25::DECIMAL(10,2), true),
    (2, 'o''brien', 2.5, DATE '2026-02-01', TIMESTAMPTZ '2026-02-01 10:00:00+00', 2.50::DECIMAL(10,2), false),
    (3, NULL, NULL, NULL, NULL, NULL, NULL)
) AS t(id, name, price, day, "at", amount, flag)
"""


def col(name: str) -> Any:
    return nodes.Col((name,))


def lit(value: object, kind: str) -> Any:
    return nodes.Lit(value, kind)


CASES = [
    nodes.Binary("=", col("name"), lit("o'brien", "VARCHAR")),
    nodes.Binary("=", col("name"), lit("x'); SELECT * FROM read_text('/etc/hostname'); --", "VARCHAR")),
    nodes.Binary(
        "AND", nodes.Binary(">", col("id"), lit(1, "INTEGER")), nodes.Binary("<=", col("price"), lit(2.5, "DOUBLE"))
    ),
    nodes.Binary("OR", nodes.Postfix("IS NULL", col("name")), nodes.Binary("!=", col("id"), lit(1, "INTEGER"))),
    nodes.Unary("NOT", nodes.In(col("id"), [lit(1, "INTEGER"), lit(3, "INTEGER")])),
    nodes.Binary(">=", col("day"), lit(dt.date(2026, 1, 15), "DATE")),
    nodes.Binary("<", col("at"), lit(1_769_000_000_000_000, "TIMESTAMP WITH TIME ZONE")),
    nodes.Binary("=", col("amount"), lit(Decimal("2.50"), "DECIMAL(10,2)")),
    nodes.Binary("=", col("flag"), lit(True, "BOOLEAN")),
    nodes.Postfix("IS NOT NULL", col("price")),
]


@pytest.mark.parametrize("node", CASES, ids=[n.fragment()[:40] for n in CASES])
def test_rendered_filter_keeps_exactly_the_rows_duckdb_keeps(node: Any) -> None:
    rendered = predicate_sql(node, COLUMNS)
    assert rendered is not None
    text, params = rendered
    assert "'" not in text  # every constant is a parameter
    con = duckdb.connect()
    ours = con.sql(f"SELECT id FROM ({TABLE}) WHERE {text} ORDER BY id", params=params or None).fetchall()
    theirs = con.sql(f"SELECT id FROM ({TABLE}) WHERE {node.fragment()} ORDER BY id").fetchall()
    assert ours == theirs


@pytest.mark.parametrize(
    "node",
    [
        nodes.Binary("=", nodes.Col(("name", "first")), lit("a", "VARCHAR")),  # a struct field
        nodes.Binary("=", col("secret"), lit("a", "VARCHAR")),  # not a column of the source
        nodes.Binary("=", col("name"), lit(b"\x00", "BLOB")),  # a type it does not render
        nodes.Binary("=", col("price"), lit(float("nan"), "DOUBLE")),
        nodes.Binary("=", col("name"), lit("a", "VARCHAR); DROP TABLE t; --")),
        nodes.In(col("id"), []),
    ],
)
def test_filters_it_cannot_render_exactly_are_left_to_duckdb(node: Any) -> None:
    assert predicate_sql(node, COLUMNS) is None


def test_deep_filters_are_left_to_duckdb() -> None:
    node = nodes.Binary("=", col("id"), lit(1, "INTEGER"))
    for _ in range(200):
        node = nodes.Binary("AND", node, nodes.Binary("=", col("id"), lit(1, "INTEGER")))
    assert predicate_sql(node, COLUMNS) is None
