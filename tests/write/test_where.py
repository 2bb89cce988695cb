"""`where=` filters mean what a SQL user reads: the rows deleted are exactly those DuckDB's WHERE selects.

Filters are meshlake's own small grammar (meshlake/contract/filters.py), evaluated with Arrow, never pasted into
SQL; anything outside it is an `InvalidFilterError` that shows where reading stopped.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
import yaml
from pyiceberg.expressions import GreaterThan
from pyiceberg.io.pyarrow import schema_to_pyarrow
from pyiceberg.schema import Schema
from pyiceberg.types import NestedField

import meshlake as ml
from meshlake.contract.types import parse_type
from meshlake.errors import ContractViolationError, InvalidFilterError
from meshlake.write.rowfilter import row_filter

ADDRESS = "geo.sites.visits"
COLUMNS = {
    "id": "long",
    "region": "string",
    "n": "long",
    "x": "double",
    "d": "date",
    "ts": "timestamptz",
    "b": "boolean",
    "p": "decimal(10,2)",
}
SCHEMA = Schema(*[NestedField(i + 1, n, parse_type(t), required=n == "id") for i, (n, t) in enumerate(COLUMNS.items())])
ARROW = schema_to_pyarrow(SCHEMA)
STRINGS = ["eu", "e_", "ex", "us", "", "a%b", "a_b", "a\\b", "a!b", "Eu", "é", "éu", "a\nb", "it's", "%", "_", "EU"]
START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def generated_rows(rng: random.Random, count: int) -> pa.Table:
    def maybe(value: Any) -> Any:
        return None if rng.random() < 0.15 else value

    rows = [
        {
            "id": i,
            "region": maybe(rng.choice(STRINGS)),
            "n": maybe(rng.randint(-5, 5)),
            "x": maybe(rng.choice([0.0, -0.0, 1.5, -2.25, float("nan"), 3.0, 0.1, 1e300])),
            "d": maybe(dt.date(2026, 11, 1) + dt.timedelta(days=rng.randint(0, 4))),
            "ts": maybe(START + dt.timedelta(hours=rng.randint(0, 96))),
            "b": maybe(rng.random() < 0.5),
            "p": maybe(Decimal(rng.randint(-500, 500)) / 100),
        }
        for i in range(count)
    ]
    return pa.Table.from_pylist(rows, schema=ARROW)


class FilterGenerator:
    """Random filters in the grammar, written as a SQL user would (mixed case, quoted names, typed literals)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def text(self, depth: int = 0) -> str:
        rng = self.rng
        roll = rng.random()
        if depth > 3 or roll < 0.4:
            return self.predicate()
        if roll < 0.55:
            return f"NOT {self.text(depth + 1)}" if rng.random() < 0.5 else f"NOT ({self.text(depth + 1)})"
        if roll < 0.8:
            return f"({self.text(depth + 1)}) {rng.choice(['AND', 'and', 'OR'])} {self.text(depth + 1)}"
        return f"{self.text(depth + 1)} {rng.choice(['AND', 'OR', 'or'])} {self.text(depth + 1)}"

    def predicate(self) -> str:
        rng = self.rng
        column = rng.choice([c for c in COLUMNS if c != "id"])
        name = rng.choice([column, column.upper(), f'"{column}"'])
        roll = rng.random()
        negation = rng.choice(["", "NOT "])
        if roll < 0.1:
            return f"{name} IS {negation}NULL"
        if column == "b" and roll < 0.4:
            return name  # a boolean column on its own, as in `WHERE active`
        if column == "region" and roll < 0.6:
            pattern = self.pattern()
            escape = " ESCAPE '!'" if "!" in pattern else ""
            return f"{name} {negation}LIKE {quote(pattern)}{escape}"
        if roll < 0.2 and column != "b":
            values = ", ".join(self.literal(column) for _ in range(rng.randint(1, 3)))
            return f"{name} {negation}IN ({values})"
        if roll < 0.3 and column != "b":
            return f"{name} {negation}BETWEEN {self.literal(column)} AND {self.literal(column)}"
        ops = ["=", "!=", "<>", "<", "<=", ">", ">=", "=="] if column != "b" else ["=", "!=", "<>"]
        op = rng.choice(ops)
        if rng.random() < 0.2:
            return f"{self.literal(column)} {op} {name}"
        return f"{name} {op} {self.literal(column)}"

    def pattern(self) -> str:
        pieces = ["%", "_", "e", "u", "a", "!_", "!%", "!!", "\\", "é", "\n", "'", " "]
        return "".join(self.rng.choice(pieces) for _ in range(self.rng.randint(0, 4)))

    def literal(self, column: str) -> str:
        rng = self.rng
        if column == "n":
            return str(rng.randint(-6, 6))
        if column == "x":
            return rng.choice(["0", "1.5", "-2.25", "3", "0.1", "1e300", "-0.0", "2"])
        if column == "region":
            return quote(rng.choice(STRINGS))
        if column == "d":
            return rng.choice(["", "DATE "]) + quote(str(dt.date(2026, 11, 1) + dt.timedelta(days=rng.randint(0, 4))))
        if column == "ts":
            moment = START + dt.timedelta(hours=rng.randint(0, 96))
            spelled = [moment.isoformat(), moment.strftime("%Y-%m-%d %H:%M:%S+00"), moment.strftime("%Y-%m-%dT%H:%MZ")]
            return rng.choice(["", "TIMESTAMPTZ "]) + quote(rng.choice(spelled))
        if column == "b":
            return rng.choice(["TRUE", "false"])
        return str(Decimal(rng.randint(-500, 500)) / 100)


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class DuckDB:
    """The reference: DuckDB's WHERE with the same text, on the same rows."""

    def __init__(self, table: pa.Table) -> None:
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.register("t", table)

    def ids(self, where: str) -> set[int]:
        return {row[0] for row in self.con.sql(f"SELECT id FROM t WHERE {where}").fetchall()}


def meshlake_ids(table: pa.Table, where: str) -> set[int]:
    matched = row_filter(where, SCHEMA).matches(table)
    return set(table.filter(matched).column("id").to_pylist())


def test_filters_select_exactly_the_rows_duckdb_selects_on_generated_data() -> None:
    table = generated_rows(random.Random(1), 300)
    reference = DuckDB(table)
    generator = FilterGenerator(seed=2)
    for _ in range(600):
        where = generator.text()
        assert meshlake_ids(table, where) == reference.ids(where), where


# -- through a real port --------------------------------------------------------------------------------


def descriptor() -> dict[str, Any]:
    return {
        "apiVersion": "meshlake/v1",
        "domain": "geo",
        "name": "sites",
        "version": "1.0.0",
        "owner": {"team": "geo_data", "email": "geo@example.com"},
        "outputs": [
            {
                "name": "visits",
                "columns": [{"name": n, "type": t, "required": n == "id"} for n, t in COLUMNS.items()],
                "partition_by": ["day(ts)"],
            }
        ],
    }


@pytest.fixture
def port(tmp_path: Path) -> Iterator[Any]:
    lake = ml.connect(home=str(tmp_path / ".meshlake"))
    path = tmp_path / "product" / "dataproduct.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(descriptor(), sort_keys=False))
    lake.deploy(path)
    yield lake.port(ADDRESS)


def published_ids(port: Any) -> set[int]:
    return set(port.latest().to_arrow().column("id").to_pylist())


def main_id(port: Any) -> int | None:
    snapshot = port.table().metadata.snapshot_by_name("main")
    return snapshot.snapshot_id if snapshot else None


@pytest.mark.slow
def test_delete_removes_exactly_the_rows_duckdb_selects(port: Any) -> None:
    """Generated filters through `port.delete`: partitioned files, pruning and rewrites included."""
    table = generated_rows(random.Random(3), 200)
    reference = DuckDB(table)
    generator = FilterGenerator(seed=4)
    everything = set(range(table.num_rows))
    for _ in range(20):
        where = generator.text()
        port.write(table, mode="overwrite")
        port.delete(where)
        assert everything - published_ids(port) == reference.ids(where), where


def test_a_filter_of_thousands_of_conditions_deletes_what_sql_means(port: Any) -> None:
    """A long AND/OR chain (a generated `id = 0 OR id = 2 OR …`) is read as a shallow tree: every part of the
    write path walks it without running out of stack."""
    table = generated_rows(random.Random(5), 60)
    port.write(table)
    port.delete(" OR ".join(f"id = {i}" for i in range(0, 3000, 2)))
    assert published_ids(port) == {i for i in range(60) if i % 2}
    where = " AND ".join(["n IS NOT NULL"] * 3000)
    left = published_ids(port) - DuckDB(table).ids(where)
    port.delete(where)
    assert published_ids(port) == left


def region_rows() -> pa.Table:
    regions = ["eu", "e_", "ex", "eu-west", "us", "neu", "e", None, "E_"]
    return pa.table(
        {
            "id": pa.array(range(len(regions)), pa.int64()),
            "region": pa.array(regions, pa.large_string()),
            "ts": pa.array([START] * len(regions), pa.timestamp("us", tz="UTC")),
        }
    )


def remaining_regions(port: Any) -> list[str | None]:
    rows = port.latest().to_arrow()
    return sorted(rows.column("region").to_pylist(), key=lambda r: (r is None, r or ""))


@pytest.mark.parametrize(
    ("where", "left"),
    [
        ("region NOT LIKE 'e_'", ["e_", "eu", "ex", None]),
        ("region LIKE 'e_'", ["E_", "e", "eu-west", "neu", "us", None]),
        ("region LIKE '%eu%'", ["E_", "e", "e_", "ex", "us", None]),
        ("region LIKE 'e!_' ESCAPE '!'", ["E_", "e", "eu", "eu-west", "ex", "neu", "us", None]),
        ("region LIKE 'e\\_'", ["E_", "e", "e_", "eu", "eu-west", "ex", "neu", "us", None]),
        ("region NOT LIKE '%'", ["E_", "e", "e_", "eu", "eu-west", "ex", "neu", "us", None]),
        ("region IS NULL", ["E_", "e", "e_", "eu", "eu-west", "ex", "neu", "us"]),
    ],
)
def test_like_and_not_like_delete_what_sql_means(port: Any, where: str, left: list[str | None]) -> None:
    port.write(region_rows())
    port.delete(where)
    assert remaining_regions(port) == left


MALFORMED = [
    ("region = 'eu", 10),
    ("region = 'eu' AN", 15),
    ("region", 7),
    ("region =", 9),
    ("region ILIKE 'e%'", 8),
    ("region LIKE 'e!' ESCAPE '!'", 13),
    ("region LIKE 'e' ESCAPE '!!'", 24),
    ("region LIKE region", 13),
    ("lower(region) = 'eu'", 1),
    ("region = other_region", 10),
    ("(region = 'eu'", 15),
    ("region = 'eu')", 14),
    ("region IN ()", 12),
    ("region IN ('eu',)", 17),
    ("n BETWEEN 1", 12),
    ("n IS 1", 6),
    ("n = NULL", 5),
    ("n IN (1, NULL)", 10),
    ("1 = 1", 1),
    ("region = 'eu'; DROP TABLE x", 14),
    ("region = 'eu' -- comment", 15),
    ("st.a = 1", 3),
    ('region = "eu', 10),
    ("", None),
    ("   ", None),
    ("NOT", 4),
    ("region = 'eu' AND", 18),
    ("n = 1.5", 5),
    ("n = '1'", 5),
    ("n = 99999999999999999999", 5),
    ("region = 1", 10),
    ("p = 1.234", 5),
    ("b = 1", 5),
    ("ts > '2026-11-01 00:00:00'", 6),
    ("ts > '2026-13-01T00:00:00Z'", 6),
    ("d = '2026/11/01'", 5),
    ("d = TIMESTAMP '2026-11-01 00:00:00'", 5),
    ("x > 1e999", 5),
    ("n LIKE '1%'", 8),
    ("(" * 200 + "n = 1" + ")" * 200, 101),
    ("n = 1 OR", 9),
    ("n >> 1", 4),
    ("n = #1", 5),
]


@pytest.mark.parametrize(("where", "position"), MALFORMED)
def test_a_filter_outside_the_grammar_is_refused_showing_where(port: Any, where: str, position: int | None) -> None:
    port.write(region_rows())
    before, rows = main_id(port), published_ids(port)
    with pytest.raises(InvalidFilterError) as caught:
        port.delete(where)
    error = caught.value
    assert error.where == where
    assert error.position == position
    assert len(str(error)) < 600, "the message shows the part it could not read, not a grammar dump"
    if position is not None:
        assert f"character {position}" in str(error)
    assert main_id(port) == before and published_ids(port) == rows


def test_a_filter_naming_an_unknown_column_names_it_and_the_known_columns(port: Any) -> None:
    port.write(region_rows())
    before = main_id(port)
    with pytest.raises(InvalidFilterError) as caught:
        port.delete("regoin = 'eu'")
    assert caught.value.column == "regoin"
    assert caught.value.known == list(COLUMNS)
    assert "regoin" in str(caught.value) and "region" in str(caught.value)
    assert main_id(port) == before


def test_a_malformed_filter_refuses_a_replace_too(port: Any) -> None:
    port.write(region_rows())
    before = main_id(port)
    with pytest.raises(InvalidFilterError):
        port.write(region_rows(), mode="replace", where="region NOT LIKE")
    assert main_id(port) == before


def test_replace_with_like_refuses_rows_outside_the_pattern(port: Any) -> None:
    port.write(region_rows())
    before = main_id(port)
    with pytest.raises(ContractViolationError):
        port.write(region_rows(), mode="replace", where="region LIKE 'e%'")
    assert main_id(port) == before
    inside = region_rows().filter(pa.compute.match_substring_regex(region_rows().column("region"), "^e"))
    result = port.write(inside, mode="replace", where="region LIKE 'e%'")
    assert result.rows_deleted == inside.num_rows
    assert remaining_regions(port) == ["E_", "e", "e_", "eu", "eu-west", "ex", "neu", "us", None]


def test_a_replace_refusing_rows_outside_a_long_filter_quotes_the_filter_short(port: Any) -> None:
    port.write(region_rows())
    before = main_id(port)
    where = " OR ".join(f"id = {i}" for i in range(2000))
    outside = region_rows().set_column(0, "id", pa.array([5000 + i for i in range(9)], pa.int64()))
    with pytest.raises(ContractViolationError) as caught:
        port.write(outside, mode="replace", where=where)
    assert len(str(caught.value)) < 600, "a 20 KB filter is not repeated in the message"
    assert "9 row(s) of the data fall outside where='id = 0 OR id = 1" in str(caught.value)
    assert main_id(port) == before


def test_unquoted_names_and_keywords_are_case_insensitive_quoted_names_are_exact(port: Any) -> None:
    port.write(region_rows())
    port.delete("REGION = 'us' or \"region\" = 'neu'")
    assert "us" not in remaining_regions(port) and "neu" not in remaining_regions(port)
    with pytest.raises(InvalidFilterError) as caught:
        port.delete("\"REGION\" = 'eu'")
    assert caught.value.column == "REGION"


def test_a_pyiceberg_expression_is_still_accepted(port: Any) -> None:
    port.write(region_rows())
    port.delete(GreaterThan("id", 6))  # type: ignore[call-arg]
    assert published_ids(port) == set(range(7))


def test_timestamptz_literals_compare_as_instants(port: Any) -> None:
    port.write(region_rows())
    port.delete("ts >= '2026-11-01T01:00:00+01:00' AND ts < TIMESTAMPTZ '2026-11-01 00:00:01Z'")
    assert published_ids(port) == set()


def test_a_filter_naming_a_huge_unknown_column_is_refused_in_a_short_message(port: Any) -> None:
    port.write(region_rows())
    before = main_id(port)
    with pytest.raises(InvalidFilterError) as caught:
        port.delete("x" * 50_000 + " = 1")
    assert caught.value.column == "x" * 50_000
    assert len(str(caught.value)) < 2_000, "the 50 KB name is not repeated in full"
    assert "unknown column 'xxx" in str(caught.value)
    assert main_id(port) == before
