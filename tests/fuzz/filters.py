"""Generated `where` filters for the fuzz port, and their meaning according to DuckDB.

`make_filter` builds a filter in meshlake's grammar from values the port holds (so that filters match some
rows), in every spelling the grammar allows (operators, case, quoted names, literal first, NOT, parentheses,
ESCAPE); `mangle` breaks one (cut, wrong literal, unknown column, function, statement, deep nesting…).

The grammar promises SQL's meaning, DuckDB's included, so `duckdb_matches` is the oracle: the rows DuckDB
selects with the same WHERE over the same values are the rows a delete removes and a replace replaces.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import uuid
from decimal import Decimal
from typing import Any

import pyarrow as pa

FILTERABLE = {
    "id": "long",
    "name": "string",
    "i": "int",
    "l": "long",
    "f": "float",
    "d": "double",
    "dec": "decimal(10,2)",
    "big": "decimal(38,6)",
    "flag": "boolean",
    "day": "date",
    "t": "time",
    "ts": "timestamp",
    "tstz": "timestamptz",
    "u": "uuid",
}
OPERATORS = {"=": ["=", "=="], "!=": ["!=", "<>"], "<": ["<"], "<=": ["<="], ">": [">"], ">=": [">="]}
FLIP = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _keyword(rng: random.Random, word: str) -> str:
    return rng.choice([word.upper(), word.lower(), word.capitalize()])


def _column(rng: random.Random, name: str) -> str:
    return rng.choice([name, name, name.upper(), f'"{name}"'])


def literal(rng: random.Random, kind: str, value: Any) -> str:
    """`value` written as a literal of the grammar for a column of contract type `kind`."""
    if kind in ("long", "int"):
        return str(value)
    if kind in ("float", "double"):
        return rng.choice([repr(float(value)), f"{float(value):e}"]) if isinstance(value, float) else str(value)
    if kind.startswith("decimal"):
        return rng.choice([str(value), f"{value:f}"])
    if kind == "boolean":
        return _keyword(rng, "true" if value else "false")
    if kind == "string":
        return "'" + str(value).replace("'", "''") + "'"
    if kind == "date":
        return rng.choice([f"DATE '{value.isoformat()}'", f"'{value.isoformat()}'"])
    if kind == "time":
        return f"'{value.isoformat()}'"
    if kind == "timestamp":
        text = value.isoformat(sep=rng.choice([" ", "T"]))
        return rng.choice([f"TIMESTAMP '{text}'", f"'{text}'"])
    if kind == "timestamptz":
        text = value.isoformat(sep=rng.choice([" ", "T"]))
        if rng.random() < 0.3:
            text = text.replace("+00:00", "Z")
        elif rng.random() < 0.3:
            hours = -5 if value.year == 9999 else 5  # the same instant, written in another zone
            text = value.astimezone(dt.timezone(dt.timedelta(hours=hours, minutes=30 * hours // 5))).isoformat(sep=" ")
        return rng.choice([f"TIMESTAMPTZ '{text}'", f"'{text}'"])
    if kind == "uuid":
        return f"'{value}'"
    raise AssertionError(kind)


def _random_value(rng: random.Random, kind: str) -> Any:
    if kind in ("long", "int"):
        return rng.choice([0, 1, -1, 7, 1000, 2**31 - 1, -(2**31)])
    if kind == "float":
        return rng.choice([0.0, 0.5, -2.25, 1e6, 0.1])
    if kind == "double":
        return rng.choice([0.0, 0.1, -1.5, 1e9, 1e-300])
    if kind == "decimal(10,2)":
        return rng.choice([Decimal("0.00"), Decimal("1.25"), Decimal("-99999999.99")])
    if kind == "decimal(38,6)":
        return rng.choice([Decimal("0"), Decimal("1.000001"), Decimal("-1E+20")])
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "string":
        return rng.choice(["", "eu", "ok", "a", "zz"])
    if kind == "date":
        return dt.date(2000, 1, 1) + dt.timedelta(days=rng.randint(-20000, 20000))
    if kind == "time":
        return dt.time(rng.randrange(24), rng.randrange(60))
    if kind == "timestamp":
        return dt.datetime(2000, 1, 1) + dt.timedelta(seconds=rng.randint(-(10**9), 10**9))
    if kind == "timestamptz":
        return dt.datetime(2000, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=rng.randint(-(10**9), 10**9))
    if kind == "uuid":
        return uuid.UUID(int=rng.getrandbits(128))
    raise AssertionError(kind)


def _value(rng: random.Random, kind: str, seen: list[Any]) -> Any:
    """A value the port holds (most often), or another one."""
    present = [v for v in seen if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if kind in ("float", "double"):
        present = [v for v in present if abs(v) != float("inf")]
    if present and rng.random() < 0.7:
        return rng.choice(present)
    return _random_value(rng, kind)


def _like_pattern(rng: random.Random, seen: list[Any]) -> tuple[str, str | None]:
    texts = [v for v in seen if isinstance(v, str)] or ["eu"]
    text = rng.choice(texts)[:6]
    pieces = []
    for char in text:
        roll = rng.random()
        pieces.append("_" if roll < 0.2 else "%" if roll < 0.3 else char)
    if rng.random() < 0.5:
        pieces.append("%")
    if rng.random() < 0.3:
        pieces.insert(0, "%")
    pattern = "".join(pieces)
    escape = None
    if rng.random() < 0.25:
        escape = rng.choice(["!", "\\", "#"])
        pattern = pattern.replace(escape, escape + escape) + escape + rng.choice(["%", "_", escape])
    return pattern.replace("'", "''"), escape


def predicate(rng: random.Random, values: dict[str, list[Any]]) -> str:
    name = rng.choice(list(FILTERABLE))
    kind = FILTERABLE[name]
    seen = values.get(name, [])
    column = _column(rng, name)
    roll = rng.random()
    if roll < 0.1:
        negated = _keyword(rng, "not") + " " if rng.random() < 0.5 else ""
        return f"{column} {_keyword(rng, 'is')} {negated}{_keyword(rng, 'null')}"
    if kind == "boolean" and roll < 0.3:
        return column if rng.random() < 0.5 else f"{_keyword(rng, 'not')} {column}"
    if kind == "string" and roll < 0.45:
        pattern, escape = _like_pattern(rng, seen)
        negated = _keyword(rng, "not") + " " if rng.random() < 0.3 else ""
        escaped = f" {_keyword(rng, 'escape')} '{escape}'" if escape else ""
        return f"{column} {negated}{_keyword(rng, 'like')} '{pattern}'{escaped}"
    if roll < 0.6:
        items = ", ".join(literal(rng, kind, _value(rng, kind, seen)) for _ in range(rng.randint(1, 4)))
        negated = _keyword(rng, "not") + " " if rng.random() < 0.3 else ""
        return f"{column} {negated}{_keyword(rng, 'in')} ({items})"
    if roll < 0.7 and kind not in ("uuid", "boolean"):
        low, high = sorted([_value(rng, kind, seen), _value(rng, kind, seen)])
        negated = _keyword(rng, "not") + " " if rng.random() < 0.3 else ""
        between = _keyword(rng, "between")
        return (
            f"{column} {negated}{between} {literal(rng, kind, low)} {_keyword(rng, 'and')} {literal(rng, kind, high)}"
        )
    ops = ["=", "!="] if kind in ("uuid", "boolean") else list(OPERATORS)
    op = rng.choice(ops)
    value = literal(rng, kind, _value(rng, kind, seen))
    if rng.random() < 0.2:
        return f"{value} {rng.choice(OPERATORS[FLIP[op]])} {column}"
    return f"{column} {rng.choice(OPERATORS[op])} {value}"


def make_filter(rng: random.Random, values: dict[str, list[Any]], depth: int = 0) -> str:
    """A valid filter over the fuzz port, built from the values it holds."""
    roll = rng.random()
    if depth >= 3 or roll < 0.45:
        return predicate(rng, values)
    if roll < 0.55:
        return f"{_keyword(rng, 'not')} ({make_filter(rng, values, depth + 1)})"
    if roll < 0.65:
        return f"({make_filter(rng, values, depth + 1)})"
    joiner = _keyword(rng, rng.choice(["and", "or"]))
    return f"{make_filter(rng, values, depth + 1)} {joiner} {make_filter(rng, values, depth + 1)}"


def mangle(rng: random.Random, text: str) -> str:
    """A filter broken on purpose (it may, by chance, still parse: the oracle then decides its meaning)."""
    cut = rng.randrange(len(text) + 1)
    return rng.choice(
        [
            text[:cut],
            text[:cut]
            + rng.choice(["'", '"', "(", ")", ";", ".", "@", "\x00", "é", "`", "--", "/*", "%"])
            + text[cut:],
            f"{text} AND",
            f"{text} {rng.choice(['LIMIT 1', 'GROUP BY id', '; DELETE FROM x', 'OR 1=1', 'AND missing = 1'])}",
            f"missing = 1 OR {text}",
            f"lower(name) = 'eu' AND {text}",
            "l = name",
            "st.a = 1",
            "tags IS NULL AND items = 1",
            "bin = 'x'",
            "dec = 1.234",
            "i = 2147483648",
            "l = 99999999999999999999",
            "l = 1.5",
            "d > 1e999",
            "f = 'x'",
            "name = 5",
            "name > NULL",
            "name = NULL",
            "flag = 1",
            "u < '00000000-0000-0000-0000-000000000000'",
            "u = 'not-a-uuid'",
            "tstz = '2026-01-01 00:00:00'",
            "ts = '2026-01-01T00:00:00+00:00'",
            "ts = TIMESTAMP '294246-01-01 00:00:00'",
            "tstz > TIMESTAMPTZ '9999-12-31 23:59:59+14:00'",
            "day = DATE '2026-02-30'",
            "t = '25:00:00'",
            "i IN ()",
            "i IN (1,)",
            "name LIKE 'a' ESCAPE ''",
            "name LIKE 'a!' ESCAPE '!'",
            "name LIKE 'a' ESCAPE 'ab'",
            "name LIKE l",
            "l LIKE '1%'",
            "id BETWEEN 5",
            "NOT",
            "()",
            "",
            "   ",
            "(" * 150 + "flag" + ")" * 150,
            "NOT " * 150 + "flag",
            " AND ".join(["flag"] * 3000),
            "id = " + "9" * 100_000,
            "id = " + "9" * 50_000,
            "name = '" + "x" * 50_000,
            "dec = 0." + "1" * 50_000,
            "x" * 50_000 + " = 1",
            "x" * 100_001,
            "ünïcode = 1",
            '"id"" = 1',
            "TRUE",
            "1 = 1",
            "id IS NOT",
            "id ISNULL",
            "id = -",
            "id = - - 1",
            "id = 1e",
            "id = .",
            "id = 0x10",
        ]
    )


def duckdb_matches(rows: pa.Table, where: str) -> list[bool]:
    """For each row, whether DuckDB's `WHERE <where>` selects it (an exception if DuckDB cannot run it)."""
    import duckdb

    numbered = rows.append_column("__fuzz_row", pa.array(range(rows.num_rows), pa.int64()))
    connection = duckdb.connect()
    try:
        connection.execute("SET TimeZone = 'UTC'")
        connection.execute("SET enable_external_access = false")
        connection.register("port_rows", numbered)
        selected = connection.execute(f"SELECT __fuzz_row FROM port_rows WHERE {where}").fetchall()
    finally:
        connection.close()
    chosen = {row for (row,) in selected}
    return [index in chosen for index in range(rows.num_rows)]
