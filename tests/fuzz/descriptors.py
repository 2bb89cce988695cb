"""Generated `dataproduct.yaml` files: a valid descriptor, mutated in its fields or in its YAML text and bytes.

`descriptor_cases(rng, count)` yields `DescriptorCase`s: the bytes of the file and a label saying how they were
made (the label and the case number reproduce a failure). Structural mutations edit the descriptor as data
(wrong types, unknown and missing fields, bad names, types, partition clauses, expectations, durations,
numbers and access fields); text mutations edit the YAML (aliases and alias bombs, recursion, deep nesting,
tags, documents) and the bytes (non-UTF-8, control characters, truncation).
"""

from __future__ import annotations

import copy
import datetime as dt
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import yaml

DOMAIN = "fuzz"
SOURCE = "fuzz.source.rows"
"""A port the fixture deploys first, so that inputs can name one that exists."""


def base_descriptor(name: str) -> dict[str, Any]:
    """A valid descriptor that uses every part of the format, named `fuzz.<name>`."""
    return {
        "apiVersion": "meshlake/v1",
        "domain": DOMAIN,
        "name": name,
        "version": "1.0.0",
        "owner": {
            "team": "Fuzz team-1.b",
            "email": "fuzz@example.com",
            "principals": ["group:fuzzers", "service:loader", "user:alice@example.com"],
        },
        "description": "A generated product: ünïcode, quotes ' \" and a colon: fine.",
        "inputs": [{"name": "source", "port": SOURCE}],
        "outputs": [
            {
                "name": "events",
                "description": "One row per event.",
                "columns": [
                    {"name": "id", "type": "long", "required": True, "description": "key"},
                    {"name": "at", "type": "timestamptz", "required": True},
                    {"name": "region", "type": "string", "classification": "internal"},
                    {"name": "amount", "type": "decimal(12,2)"},
                    {"name": "email", "type": "string", "classification": "pii", "mask": "mask-alphanum"},
                    {"name": "born", "type": "date", "mask": "truncate-to-year"},
                    {"name": "vip", "type": "boolean", "mask": {"apply-expression": "region = 'eu'"}},
                    {"name": "tags", "type": "map<string,long>"},
                    {"name": "items", "type": "list<struct<sku: string, qty: int>>"},
                    {"name": "score", "type": "double"},
                ],
                "primary_key": ["id"],
                "partition_by": ["day(at)", "bucket[4](id)"],
                "expectations": [
                    {"expect_column_values_to_not_be_null": {"column": "region"}},
                    {"expect_column_values_to_be_between": {"column": "amount", "min_value": 0, "max_value": 1000}},
                    {"expect_column_values_to_match_regex": {"column": "region", "regex": "^[a-z]+$"}},
                    {"expect_column_values_to_be_in_set": {"column": "region", "value_set": ["eu", "us"]}},
                    {"expect_table_row_count_to_be_between": {"min_value": 0, "max_value": 1000000}},
                    {"expect_column_values_to_be_unique": {"column": "id"}},
                    {
                        "unexpected_rows_expectation": {
                            "unexpected_rows_query": "SELECT * FROM {batch} WHERE amount < 0",
                        }
                    },
                ],
                "quality": {"engine": "native", "sample_size": 5},
                "slo": {"freshness": "24h", "min_rows": 1, "quality_pass_rate": 0.9, "window": "7d"},
                "retention": {"time_travel": "7d", "min_snapshots": 5},
                "access": {
                    "readers": ["group:analytics", "product:fuzz.other", "*"],
                    "unmasked": ["group:support"],
                    "row_filters": [{"principals": ["group:analytics", "*"], "where": "region = 'eu' AND amount > 10"}],
                },
            },
            {
                "name": "daily",
                "columns": [
                    {"name": "day", "type": "date", "required": True},
                    {"name": "total", "type": "decimal(38,6)"},
                    {"name": "peak", "type": "timestamp"},
                ],
                "primary_key": ["day"],
                "partition_by": ["month(day)"],
                "slo": {"max_row_change": 0.5},
            },
        ],
        "pipeline": {"module": "pipeline.py", "function": "build"},
    }


@dataclass(frozen=True)
class DescriptorCase:
    number: int
    label: str
    data: bytes
    name: str
    """The product name the case was generated for (`fuzz.<name>`), before any mutation."""

    def describe(self) -> str:
        shown = self.data[:600].decode("utf-8", errors="backslashreplace")
        more = f"\n      … ({len(self.data):,} bytes)" if len(self.data) > 600 else ""
        return f"descriptor case {self.number} [{self.label}]:\n      " + shown.replace("\n", "\n      ") + more


# -- values a field may be given instead of the right one -------------------------------------------------

HUGE = 10**400


def weird_value(rng: random.Random) -> Any:
    """A value of the wrong type, or of the right type with an absurd content."""
    choices: list[Callable[[], Any]] = [
        lambda: None,
        lambda: True,
        lambda: 0,
        lambda: -1,
        lambda: 2**63,
        lambda: -(2**64) - 1,
        lambda: HUGE,
        lambda: -HUGE,
        lambda: float("nan"),
        lambda: float("inf"),
        lambda: -float("inf"),
        lambda: 1e-320,
        lambda: 3.5,
        lambda: "",
        lambda: " ",
        lambda: "x" * rng.choice([64, 1000, 70_000]),
        lambda: "ünï\u200bcode\u202e",
        lambda: "\x1b[2J\x1b]0;owned\x07",
        lambda: "a\x00b",
        lambda: "1; DROP TABLE x",
        lambda: "../../etc/passwd",
        lambda: "{batch}",
        lambda: [],
        lambda: [1, "two", None],
        lambda: {},
        lambda: {"nested": {"deeper": [1, {"x": None}]}},
        lambda: dt.date(2026, 11, 1),
        lambda: dt.datetime(2026, 11, 1, 8, 30, tzinfo=dt.UTC),
        lambda: b"\x00\xff binary",
        lambda: {1, 2, 3},
    ]
    return rng.choice(choices)()


BAD_NAMES = [
    "",
    "A",
    "Upper",
    "1abc",
    "_x",
    "a-b",
    "a.b",
    "a b",
    "x" * 63,
    "x" * 64,
    "ünï",
    "a/b",
    "..",
    "meshlake",
    "system",
    "select",
    "a\x00",
    "a\nb",
]
GOOD_NAMES = ["a", "x" * 63, "a1_b2", "select", "order", "from", "main", "null", "true", "a__b"]
TYPES = [
    "long",
    "int",
    "boolean",
    "float",
    "double",
    "string",
    "binary",
    "date",
    "time",
    "timestamp",
    "timestamptz",
    "uuid",
    "decimal(1,0)",
    "decimal(38,38)",
    "decimal(38,0)",
    "list<string>",
    "map<string,list<long>>",
    "struct<a: int, b: struct<c: string>>",
    "LONG",
    "Decimal(10, 2)",
    " long ",
]
BAD_TYPES = [
    "",
    "integer",
    "varchar",
    "decimal",
    "decimal()",
    "decimal(0,0)",
    "decimal(39,2)",
    "decimal(10,11)",
    "decimal(10,-1)",
    "decimal(99999999999999999999999,2)",
    "decimal(10,2",
    "decimal(10;2)",
    "list",
    "list<>",
    "list<long",
    "list<long>>",
    "map<string>",
    "map<string,long,long>",
    "struct<>",
    "struct<a int>",
    "struct<a: int, a: long>",
    "struct<A: int>",
    "struct<a: int,>",
    "struct<1: int>",
    "struct<a: unknown>",
    "timestamp_ns",
    "timestamptz(6)",
    "fixed[16]",
    "long; DROP TABLE x",
    "<<<>>>",
    "\x00",
    "ü",
]
PARTITIONS = [
    "id",
    "day(at)",
    "hour(at)",
    "month(at)",
    "year(born)",
    "bucket[1](id)",
    "bucket[100000](id)",
    "truncate[3](region)",
    "truncate[2147483647](region)",
    "identity(region)",
    "bucket[16](region)",
    " day ( at ) ",
]
BAD_PARTITIONS = [
    "",
    "day(at",
    "day at",
    "day()",
    "bucket(id)",
    "bucket[](id)",
    "bucket[0](id)",
    "bucket[00](id)",
    "bucket[-1](id)",
    "bucket[100001](id)",
    "bucket[99999999999999999999999999](id)",
    "truncate[0](region)",
    "truncate[2147483648](region)",
    "bucket[16](score)",
    "truncate[4](score)",
    "day(region)",
    "hour(born)",
    "year(amount)",
    "day(tags)",
    "identity(items)",
    "day(missing)",
    "foo(id)",
    "day[3](at)",
    "DAY(at)",
    "day(at), month(at)",
    "region_day",
    "id; DROP TABLE x",
    "bucket[4](id)(id)",
]
DURATIONS = ["1s", "30m", "24h", "7d", "2w", " 3d ", "0d", "36525d", "5218w"]
BAD_DURATIONS = [
    "",
    "1",
    "h",
    "1y",
    "1.5h",
    "-1h",
    "P1D",
    "24 hours",
    "36526d",
    "5219w",
    "99999999999999999999999999d",
    "1" + "0" * 400 + "s",
    "1e9d",
    "１d",
    "1d2h",
]


def bad_expectation(rng: random.Random, columns: list[str]) -> dict[str, Any]:
    """An expectation with a wrong, missing or absurd argument (or an unknown type)."""
    column = rng.choice([*columns, "missing", "", "ID", "tags", "items"])
    number = rng.choice([0, -1, 1.5, HUGE, -HUGE, float("nan"), float("inf"), "ten", None, [1], True, 2**63])
    choices: list[dict[str, Any]] = [
        {"expect_nothing_at_all": {"column": column}},
        {"expect_column_values_to_not_be_null": {}},
        {"expect_column_values_to_not_be_null": None},
        {"expect_column_values_to_not_be_null": {"column": column}},
        {"expect_column_values_to_not_be_null": {"column": [column]}},
        {"expect_column_values_to_not_be_null": {"column": column, "mostly": number}},
        {"expect_column_values_to_not_be_null": "region"},
        {"expect_column_values_to_not_be_null": ["region"]},
        {"expect_column_values_to_be_between": {"column": column, "min_value": number, "max_value": number}},
        {"expect_column_values_to_be_between": {"column": column}},
        {"expect_column_values_to_be_between": {"column": "at", "min_value": "2026-01-01", "max_value": "soon"}},
        {"expect_column_values_to_be_between": {"column": "born", "min_value": dt.datetime(2026, 1, 1)}},
        {"expect_column_values_to_be_between": {"column": "amount", "min_value": 5, "max_value": 1}},
        {"expect_column_values_to_be_between": {"column": "amount", "strict_min": "yes", "min_value": 1}},
        {"expect_column_values_to_be_in_set": {"column": column, "value_set": number}},
        {"expect_column_values_to_be_in_set": {"column": column, "value_set": "eu"}},
        {"expect_column_values_to_be_in_set": {"column": "amount", "value_set": ["eu", 1]}},
        {"expect_column_values_to_be_in_set": {"column": "born", "value_set": ["not a date"]}},
        {"expect_column_values_to_match_regex": {"column": column, "regex": rng.choice(REGEXES)}},
        {"expect_column_values_to_not_match_regex": {"column": "region", "regex": rng.choice(REGEXES)}},
        {"expect_column_value_lengths_to_be_between": {"column": "region", "min_value": number}},
        {"expect_compound_columns_to_be_unique": {"column_list": column}},
        {"expect_compound_columns_to_be_unique": {"column_list": [column, column]}},
        {"expect_compound_columns_to_be_unique": {"column_list": ["id", "tags"], "ignore_row_if": "sometimes"}},
        {"expect_column_pair_values_a_to_be_greater_than_b": {"column_A": "id", "column_B": "region"}},
        {"expect_column_pair_values_a_to_be_greater_than_b": {"column_A": "id", "column_B": "amount"}},
        {"expect_column_mean_to_be_between": {"column": column, "min_value": number}},
        {"expect_column_mean_to_be_between": {"column": "region", "min_value": 1}},
        {"expect_column_proportion_of_unique_values_to_be_between": {"column": column, "max_value": number}},
        {"expect_table_row_count_to_be_between": {"min_value": number, "max_value": number}},
        {"expect_table_row_count_to_be_between": {"min_value": "1"}},
        {"expect_table_columns_to_match_set": {"column_set": column}},
        {"expect_table_columns_to_match_set": {"column_set": ["id"], "exact_match": "no"}},
        {"unexpected_rows_expectation": {"unexpected_rows_query": rng.choice(QUERIES)}},
        {"expect_column_values_to_not_be_null": {"column": "region", "description": number}},
        {"expect_column_values_to_not_be_null": {"column": "region", "unknown_arg": 1}},
        {"expect_a": {"column": "id"}, "expect_b": {"column": "id"}},
        {},
    ]
    return copy.deepcopy(rng.choice(choices))


REGEXES = [
    "^(?=a)(a+)+$",
    "(a+)+b",
    "(",
    "[z-a]",
    "(?P<x>a)(?P<x>b)",
    "\\",
    "a{99999999999}",
    "a{4294967296}",
    "(" * 1000 + "a" + ")" * 1000,
    "(?:" * 2000 + "a" + ")" * 2000,
    "(" * 300 + ")" * 300,
    "(?<=a+)b",
    "x" * 5000,
    "[[:alpha:]]",
    "(?i)^eu$",
    "",
]
QUERIES = [
    "SELECT 1",
    "SELECT * FROM {batch}; DROP TABLE x",
    "SELECT * FROM {batch}) AS q; COPY (SELECT 1) TO '/tmp/x'; SELECT * FROM (SELECT 1",
    "SELECT content FROM read_text('/etc/passwd')",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_parquet('s3://bucket/x.parquet')",
    "SELECT * FROM glob('/*')",
    "SELECT * FROM 'https://example.com/x.csv'",
    "COPY (SELECT 1) TO '/tmp/x'",
    "ATTACH '/tmp/x.db'",
    "INSTALL httpfs",
    "PRAGMA version",
    "SELECT * FROM {batch} WHERE",
    "SELECT * FROM other_table",
    "SELECT getenv('HOME') FROM {batch}",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT * FROM r",
    "SELECT * FROM {batch} " + "WHERE (" * 500 + "1=1" + ")" * 500,
    "",
    "   ",
    "{batch}",
]


def bad_principal(rng: random.Random) -> Any:
    return rng.choice(
        [
            "*",
            "alice",
            "user:",
            ":alice",
            "user:*",
            "group:a b",
            "robot:x",
            "product:fuzz",
            "product:Fuzz.X",
            "product:a.b.c",
            "user:" + "x" * 129,
            "user:\x1b[2J",
            "user:ünï",
            "",
            None,
            7,
            ["group:x"],
            {"group": "x"},
        ]
    )


def bad_row_filter(rng: random.Random) -> Any:
    return rng.choice(
        [
            "",
            "   ",
            "region = 'eu'; DROP TABLE x",
            "region = 'eu\x00'",
            "region = 'eu",
            "lower(region) = 'eu'",
            "region = amount",
            "missing = 1",
            "amount = 1.234",
            "amount > 'ten'",
            "region LIKE 5",
            "tags = 1",
            "items IS NULL",
            "id = 99999999999999999999999",
            "score > 1e999",
            "at > '2026-01-01'",
            "at > TIMESTAMPTZ '294246-01-01 00:00:00+00'",
            "born = DATE '2026-02-30'",
            "vip",
            "vip AND",
            "NOT " * 150 + "vip",
            "(" * 150 + "vip" + ")" * 150,
            "region IN ()",
            "region IN ('eu',)",
            "region NOT LIKE 'e_' ESCAPE 'xy'",
            "region LIKE 'eu\\' ESCAPE '\\'",
            "id BETWEEN 1 AND",
            "id = NULL",
            'region = "eu"',
            "st.a = 1",
            "1 = 1",
            "x" * 100_001,
            7,
            None,
            ["region = 'eu'"],
        ]
    )


# -- structural mutations: edit the descriptor as data ----------------------------------------------------


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*path, index))


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def _set(data: Any, path: tuple[Any, ...], value: Any) -> None:
    _get(data, path[:-1])[path[-1]] = value


def _port(rng: random.Random, data: dict[str, Any]) -> dict[str, Any]:
    outputs = data.get("outputs")
    if isinstance(outputs, list) and outputs and isinstance(outputs[0], dict):
        port: dict[str, Any] = rng.choice([o for o in outputs if isinstance(o, dict)] or [outputs[0]])
        return port
    data["outputs"] = [base_descriptor("x")["outputs"][0]]
    return data["outputs"][0]  # type: ignore[no-any-return]


def _column(rng: random.Random, data: dict[str, Any]) -> dict[str, Any]:
    port = _port(rng, data)
    columns = port.get("columns")
    if not isinstance(columns, list) or not columns or not all(isinstance(c, dict) for c in columns):
        port["columns"] = [{"name": "id", "type": "long", "required": True}]
        columns = port["columns"]
    return rng.choice(columns)


def _column_names(data: dict[str, Any]) -> list[str]:
    port = data["outputs"][0] if isinstance(data.get("outputs"), list) and data["outputs"] else {}
    columns = port.get("columns", []) if isinstance(port, dict) else []
    return [c["name"] for c in columns if isinstance(c, dict) and isinstance(c.get("name"), str)]


def m_retype(rng: random.Random, data: dict[str, Any]) -> str:
    path = rng.choice([p for p in _paths(data) if p])
    _set(data, path, weird_value(rng))
    return f"retype {'.'.join(map(str, path))}"


def m_unknown_field(rng: random.Random, data: dict[str, Any]) -> str:
    mappings = [p for p in _paths(data) if isinstance(_get(data, p), dict)]
    path = rng.choice(mappings)
    key = rng.choice(["colums", "Type", "x-extra", "__proto__", "", "apiversion", "required ", "ownr", "masks"])
    _get(data, path)[key] = weird_value(rng)
    return f"unknown field {key!r} at {'.'.join(map(str, path)) or 'top'}"


def m_drop_field(rng: random.Random, data: dict[str, Any]) -> str:
    mappings = [p for p in _paths(data) if isinstance(_get(data, p), dict) and _get(data, p)]
    path = rng.choice(mappings)
    key = rng.choice(list(_get(data, path)))
    del _get(data, path)[key]
    return f"drop {'.'.join(map(str, (*path, key)))}"


def m_duplicate_item(rng: random.Random, data: dict[str, Any]) -> str:
    lists = [p for p in _paths(data) if isinstance(_get(data, p), list) and _get(data, p)]
    path = rng.choice(lists)
    items = _get(data, path)
    items.append(copy.deepcopy(rng.choice(items)))
    return f"duplicate an item of {'.'.join(map(str, path))}"


def m_name(rng: random.Random, data: dict[str, Any]) -> str:
    target = rng.choice(["domain", "name", "port", "column", "input", "struct field"])
    name = rng.choice(BAD_NAMES + GOOD_NAMES)
    if target in ("domain", "name"):
        data[target] = name
    elif target == "port":
        _port(rng, data)["name"] = name
    elif target == "column":
        _column(rng, data)["name"] = name
    elif target == "input":
        data["inputs"] = [{"name": name, "port": rng.choice([SOURCE, "fuzz.source.nope", "fuzz.nothere.rows"])}]
    else:
        _column(rng, data)["type"] = f"struct<{name}: int>"
    return f"{target} named {name!r}"


def m_type(rng: random.Random, data: dict[str, Any]) -> str:
    column = _column(rng, data)
    roll = rng.random()
    if roll < 0.4:
        column["type"] = rng.choice(BAD_TYPES)
    elif roll < 0.7:
        column["type"] = rng.choice(TYPES)
    else:
        depth = rng.choice([31, 32, 33, 64, 200, 2000])
        kind = rng.choice(["list", "struct", "map", "mixed"])
        column["type"] = nested_type(depth, kind)
        return f"type nested {depth} deep ({kind})"
    return f"type {column['type']!r}"


def nested_type(depth: int, kind: str) -> str:
    text = "long"
    for level in range(depth):
        choice = kind if kind != "mixed" else ("list", "struct", "map")[level % 3]
        if choice == "list":
            text = f"list<{text}>"
        elif choice == "map":
            text = f"map<string,{text}>"
        else:
            text = f"struct<f{level}: {text}>"
    return text


def m_partition(rng: random.Random, data: dict[str, Any]) -> str:
    port = _port(rng, data)
    clauses = [rng.choice(BAD_PARTITIONS + PARTITIONS) for _ in range(rng.randint(1, 3))]
    if rng.random() < 0.2:
        clauses = [weird_value(rng)]
    port["partition_by"] = clauses
    return f"partition_by {clauses!r}"[:200]


def m_expectation(rng: random.Random, data: dict[str, Any]) -> str:
    port = _port(rng, data)
    item = bad_expectation(rng, _column_names(data))
    if not isinstance(port.get("expectations"), list):
        port["expectations"] = []
    port["expectations"].append(item)
    return f"expectation {item!r}"[:200]


def m_duration(rng: random.Random, data: dict[str, Any]) -> str:
    port = _port(rng, data)
    field = rng.choice(["slo.freshness", "slo.window", "retention.time_travel"])
    section, key = field.split(".")
    value = rng.choice(BAD_DURATIONS + DURATIONS + [7, 24.5, None])
    if not isinstance(port.get(section), dict):
        port[section] = {}
    port[section][key] = value
    return f"{field} = {value!r}"[:200]


def m_number(rng: random.Random, data: dict[str, Any]) -> str:
    port = _port(rng, data)
    field = rng.choice(
        [
            "slo.min_rows",
            "slo.max_row_change",
            "slo.quality_pass_rate",
            "quality.sample_size",
            "retention.min_snapshots",
        ]
    )
    section, key = field.split(".")
    value = rng.choice([0, -1, 1, 2, 0.5, 1001, 2**31, 2**63, 2**64, HUGE, -HUGE, float("nan"), float("inf"), "5"])
    if not isinstance(port.get(section), dict):
        port[section] = {}
    port[section][key] = value
    return f"{field} = {value!r}"[:200]


def m_version(rng: random.Random, data: dict[str, Any]) -> str:
    data["version"] = rng.choice(
        ["1", "1.0", "v1.0.0", "01.0.0", "1.0.0-", "1.0.0-rc.1+build.5", "9" * 400 + ".0.0", "2.0.0", 1.0, 1, ""]
    )
    return f"version {data['version']!r}"[:200]


def m_access(rng: random.Random, data: dict[str, Any]) -> str:
    port = _port(rng, data)
    access = port.setdefault("access", {}) if isinstance(port.get("access", {}), dict) else {}
    port["access"] = access
    target = rng.choice(["readers", "unmasked", "row_filter", "owners", "mask", "classification", "principals"])
    if target in ("readers", "unmasked"):
        access[target] = [bad_principal(rng) for _ in range(rng.randint(1, 3))]
        return f"access.{target} = {access[target]!r}"[:200]
    if target == "row_filter":
        rule = {"principals": [rng.choice(["group:x", "*", bad_principal(rng)])], "where": bad_row_filter(rng)}
        if rng.random() < 0.2:
            rule = rng.choice([{"principals": []}, {"where": "vip"}, {"principals": ["*"], "where": "vip", "x": 1}])
        access["row_filters"] = [rule]
        return f"access.row_filters = {[rule]!r}"[:200]
    if target == "owners":
        owner: dict[str, Any] = data["owner"] if isinstance(data.get("owner"), dict) else {"team": "t"}
        data["owner"] = owner
        owner["principals"] = rng.choice([[], ["*"], [bad_principal(rng)], "group:x", None])
        return f"owner.principals = {owner['principals']!r}"[:200]
    if target == "principals":
        owner = data["owner"] if isinstance(data.get("owner"), dict) else {"team": "t"}
        data["owner"] = owner
        owner["team"] = rng.choice(["", " x", "x ", "a" * 101, "logistics-data", "Ops & Co", "\x1b[2J", "ünï team"])
        return f"owner.team = {owner['team']!r}"
    column = _column(rng, data)
    if target == "mask":
        column["mask"] = rng.choice(
            [
                "mask-alphanum",
                "show-last-4",
                "truncate-to-month",
                "sha-256-global",
                "replace-with-null",
                "mask-to-default",
                "apply-expression",
                "blur",
                {"apply-expression": bad_row_filter(rng)},
                {"apply-expression": "amount > 10"},
                {"action": "mask-alphanum", "expression": "x"},
                {"action": "apply-expression"},
                {"apply-expression": "vip", "other": 1},
                7,
                None,
            ]
        )
        return f"column {column.get('name')!r} mask {column['mask']!r}"[:200]
    column["classification"] = rng.choice(["pii", "secret", "PII", "", None, 3])
    return f"column {column.get('name')!r} classification {column['classification']!r}"


def m_key(rng: random.Random, data: dict[str, Any]) -> str:
    port = _port(rng, data)
    port["primary_key"] = rng.choice(
        [[], ["score"], ["region"], ["tags"], ["missing"], ["id", "id"], ["at", "id"], "id", [1], [None], ["ID"]]
    )
    return f"primary_key {port['primary_key']!r}"


def m_valid(rng: random.Random, data: dict[str, Any]) -> str:
    """A change that keeps the descriptor valid (so the fuzz also deploys what it should accept)."""
    port = _port(rng, data)
    roll = rng.randrange(5)
    if roll == 0 and isinstance(port.get("columns"), list):
        port["columns"].append({"name": f"extra_{rng.randrange(1000)}", "type": rng.choice(TYPES[:15])})
        return "add an optional column"
    if roll == 1:
        port["description"] = rng.choice(["", "ünï\ncode", "x" * 5000, "🙂" * 100, "tab\tand 'quote'"])
        return "change a port description"
    if roll == 2 and isinstance(port.get("columns"), list):
        rng.shuffle(port["columns"])
        return "reorder columns"
    if roll == 3:
        port.pop("expectations", None)
        port.pop("access", None)
        return "drop expectations and access"
    data["version"] = rng.choice(["1.0.1", "1.1.0", "2.0.0", "1.0.0-rc.1"])
    return f"version {data['version']}"


STRUCTURAL: list[tuple[Callable[[random.Random, dict[str, Any]], str], int]] = [
    (m_retype, 8),
    (m_unknown_field, 4),
    (m_drop_field, 5),
    (m_duplicate_item, 4),
    (m_name, 5),
    (m_type, 8),
    (m_partition, 7),
    (m_expectation, 8),
    (m_duration, 4),
    (m_number, 4),
    (m_version, 2),
    (m_access, 8),
    (m_key, 3),
    (m_valid, 10),
]


def structural_case(rng: random.Random, name: str) -> tuple[str, bytes]:
    data = base_descriptor(name)
    labels = []
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        mutate = rng.choices([m for m, _ in STRUCTURAL], weights=[w for _, w in STRUCTURAL])[0]
        labels.append(mutate(rng, data))
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=rng.random() < 0.5, width=rng.choice([80, 10_000]))
    return "; ".join(labels), text.encode("utf-8")


# -- text and byte mutations: edit the YAML and the file ---------------------------------------------------


def _text(name: str) -> str:
    return yaml.safe_dump(base_descriptor(name), sort_keys=False, allow_unicode=True)


def alias_bomb(levels: int, width: int) -> str:
    """`levels` anchors, each a list of `width` aliases of the previous one: width**levels nodes once expanded."""
    lines = ["x-bomb:", "  - &a0 [lol, lol]"]
    for level in range(1, levels + 1):
        aliases = ", ".join(f"*a{level - 1}" for _ in range(width))
        lines.append(f"  - &a{level} [{aliases}]")
    return "\n".join(lines) + "\n"


def t_alias_bomb(rng: random.Random, name: str) -> tuple[str, str]:
    levels, width = rng.choice([(3, 3), (5, 5), (8, 9), (9, 10), (12, 10), (20, 2), (40, 2), (64, 2)])
    bomb = alias_bomb(levels, width)
    place = rng.choice(["top", "description", "expectation", "value_set"])
    text = _text(name)
    if place == "top":
        return f"alias bomb {levels}x{width} under an unknown key", text + bomb
    if place == "description":
        body = bomb.replace("x-bomb:", "description:")
        return f"alias bomb {levels}x{width} as the description", text.replace(
            "description: A generated", "x-old: A generated", 1
        ) + body
    anchor = f"*a{levels}"
    text = bomb + text
    if place == "expectation":
        return f"alias bomb {levels}x{width} as expectations", text.replace(
            "    expectations:\n", f"    expectations: {anchor}\n    x-was:\n", 1
        )
    return f"alias bomb {levels}x{width} as a value_set", text.replace(
        "value_set:\n", f"value_set: {anchor}\n  x:\n", 1
    )


def t_aliases_reused(rng: random.Random, name: str) -> tuple[str, str]:
    """Aliases used as YAML means them: one anchored list of columns, reused (valid)."""
    text = f"""apiVersion: meshlake/v1
domain: {DOMAIN}
name: {name}
version: 1.0.0
owner: &owner {{team: fuzz, email: fuzz@example.com}}
outputs:
  - name: a
    columns: &cols
      - {{name: id, type: long, required: true}}
      - &amount {{name: amount, type: 'decimal(10,2)'}}
    primary_key: &key [id]
  - name: b
    columns: *cols
    primary_key: *key
  - name: c
    columns: [{{name: id, type: long, required: true}}, *amount]
"""
    if rng.random() < 0.5:
        text = text.replace("  - name: c\n", "  - <<: {name: c, description: merged}\n")
        return "aliases and a merge key", text
    return "aliases reused", text


def t_recursive_alias(rng: random.Random, name: str) -> tuple[str, str]:
    text = _text(name)
    where = rng.choice(
        [
            ("description: A generated", "description: &r [*r] \nx-old: A generated"),
            ("    columns:\n", "    columns: &c [{name: id, type: long, x: *c}]\n    x-old:\n"),
            ("owner:\n", "owner: &o {team: t, x: *o}\nx-old:\n"),
        ]
    )
    return "recursive alias", text.replace(where[0], where[1], 1)


def t_undefined_alias(rng: random.Random, name: str) -> tuple[str, str]:
    return "undefined alias", _text(name).replace("version: 1.0.0", "version: *nowhere", 1)


def t_deep_nesting(rng: random.Random, name: str) -> tuple[str, str]:
    depth = rng.choice([31, 32, 33, 100, 1000, 20_000])
    style = rng.choice(["flow list", "flow map", "block"])
    if style == "flow list":
        deep = "[" * depth + "]" * depth
    elif style == "flow map":
        deep = "{a: " * depth + "1" + "}" * depth
    else:
        depth = min(depth, 2000)
        deep = "\n" + "".join("  " * (level + 1) + "a:\n" for level in range(depth)) + "  " * (depth + 1) + "1"
    text = _text(name).replace("description: A generated", "x-old: A generated", 1)
    return f"nested {depth} levels ({style})", text + f"description: {deep}\n"


def t_tags(rng: random.Random, name: str) -> tuple[str, str]:
    tag = rng.choice(
        [
            "!!python/object/apply:os.system ['echo pwned']",
            "!!python/name:os.system",
            "!!binary aGVsbG8=",
            "!!set {a, b}",
            "!!timestamp 2026-11-01",
            "!!float 1e999",
            "!!int 0x7fffffffffffffffffff",
            "!custom thing",
            "!!omap [a: 1]",
            "!!str 1.0.0",
        ]
    )
    return f"tag {tag.split()[0]}", _text(name).replace("version: 1.0.0", f"version: {tag}", 1)


def t_scalar_forms(rng: random.Random, name: str) -> tuple[str, str]:
    """YAML 1.1 scalars that are not what they look like (booleans, sexagesimal, octal, huge floats)."""
    field, value = rng.choice(
        [
            ("required: true", "required: yes"),
            ("required: true", "required: on"),
            ("required: true", "required: 'true'"),
            ("min_rows: 1", "min_rows: 1_000"),
            ("min_rows: 1", "min_rows: 0x10"),
            ("min_rows: 1", "min_rows: 1e999"),
            ("min_rows: 1", "min_rows: 1:30"),
            ("min_rows: 1", "min_rows: .nan"),
            ("min_rows: 1", "min_rows: 123456789012345678901234567890"),
            ("freshness: 24h", "freshness: 24:00:00"),
            ("max_value: 1000", "max_value: .inf"),
            ("max_value: 1000", "max_value: -.inf"),
            ("max_value: 1000", "max_value: 1e400"),
            ("min_value: 0", "min_value: ~"),
            ("version: 1.0.0", "version: 2026-11-01"),
            ("version: 1.0.0", "version: 1.0"),
            ("name: id", "name: null"),
            ("team: Fuzz team-1.b", 'team: "Fuzz\\uD800team"'),
            ("description: One row per event.", 'description: "lone \\uDC00 surrogate"'),
            ("description: One row per event.", 'description: "NUL \\0 and bell \\a and escape \\e[2J"'),
            ("description: key", 'description: "\\U0001F600 \\x80 \\N \\_ \\L \\P"'),
            ("regex: ^[a-z]+$", 'regex: "^[a-z\\uD800]+$"'),
            ("where: region = 'eu' AND amount > 10", "where: \"region = '\\uD800'\""),
            ("name: id", "name: 0o17"),
            ("type: long", "type: NO"),
        ]
    )
    return f"scalar {value!r}", _text(name).replace(field, value, 1)


def t_document(rng: random.Random, name: str) -> tuple[str, str]:
    text = _text(name)
    label, result = rng.choice(
        [
            ("empty file", ""),
            ("only white space", "   \n\n\t\n"),
            ("only a comment", "# nothing here\n"),
            ("null document", "null\n"),
            ("a scalar document", "42\n"),
            ("a list document", "- 1\n- 2\n"),
            ("two documents", text + "---\n" + text),
            ("document end marker", text + "...\n"),
            ("tab indentation", text.replace("  ", "\t", 3)),
            ("duplicate key", text + "name: again\n"),
            ("duplicate nested key", text.replace("    name: events\n", "    name: events\n    name: events2\n")),
            ("complex key", text + "? [a, b]\n: 1\n"),
            ("integer key", text + "1: one\n"),
            ("null key", text + "~: nothing\n"),
            ("unclosed flow", text + "x: [1, 2\n"),
            ("unclosed quote", text + "x: 'open\n"),
            ("directive", "%YAML 1.2\n---\n" + text),
            ("bad directive", "%YAML 9.9\n---\n" + text),
            ("long line", text + "x: " + "y" * 200_000 + "\n"),
            ("many keys", text + "".join(f"k{i}: {i}\n" for i in range(5000))),
            ("anchor on everything", text.replace(": ", ": &x ", 1)),
        ]
    )
    return label, result


def t_bytes(rng: random.Random, name: str) -> tuple[str, bytes]:
    data = _text(name).encode("utf-8")
    position = rng.randrange(len(data))
    label, result = rng.choice(
        [
            ("byte 0x80", data[:position] + b"\x80" + data[position:]),
            ("byte 0xff", data[:position] + b"\xff" + data[position:]),
            ("NUL byte", data[:position] + b"\x00" + data[position:]),
            ("escape sequence", data.replace(b"A generated", b"\x1b[2J\x1b]0;t\x07 generated", 1)),
            ("C1 control", data.replace(b"A generated", "\u0085\u009b generated".encode(), 1)),
            ("UTF-8 BOM", b"\xef\xbb\xbf" + data),
            ("UTF-16", _text(name).encode("utf-16")),
            ("UTF-16 without BOM", _text(name).encode("utf-16-le")),
            ("Latin-1", _text(name).encode("latin-1", errors="replace")),
            ("truncated", data[:position]),
            ("cut inside a character", data.replace("ünï".encode(), "ünï".encode()[:1], 1)),
            ("surrogate bytes", data[:position] + b"\xed\xa0\x80" + data[position:]),
            ("overlong encoding", data[:position] + b"\xc0\xaf" + data[position:]),
            ("random bytes", bytes(rng.randrange(256) for _ in range(rng.choice([1, 64, 4096])))),
            ("flipped bytes", _flip(rng, data)),
            ("CR line ends", data.replace(b"\n", b"\r")),
            ("CRLF line ends", data.replace(b"\n", b"\r\n")),
            ("private-use character", data.replace(b"A generated", "\ue000\U0010fffd generated".encode(), 1)),
        ]
    )
    return label, result


def _flip(rng: random.Random, data: bytes) -> bytes:
    mutable = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        mutable[rng.randrange(len(mutable))] = rng.randrange(256)
    return bytes(mutable)


TEXTUAL: list[tuple[Callable[[random.Random, str], tuple[str, str | bytes]], int]] = [
    (t_alias_bomb, 6),
    (t_aliases_reused, 3),
    (t_recursive_alias, 2),
    (t_undefined_alias, 1),
    (t_deep_nesting, 5),
    (t_tags, 3),
    (t_scalar_forms, 5),
    (t_document, 5),
    (t_bytes, 7),
]


def descriptor_cases(rng: random.Random, count: int) -> Iterator[DescriptorCase]:
    """`count` generated descriptor files: about 60 % mutated as data, 40 % as YAML text or bytes.

    One case in five keeps the name of the product the fixture deployed (`fuzz.base`), so redeploys,
    evolutions and breaking changes are thrown too; the others name a product of their own.
    """
    for number in range(count):
        name = "base" if rng.random() < 0.2 else f"p{number}"
        if rng.random() < 0.6:
            label, data = structural_case(rng, name)
        else:
            make = rng.choices([t for t, _ in TEXTUAL], weights=[w for _, w in TEXTUAL])[0]
            label, text = make(rng, name)
            data = text.encode("utf-8") if isinstance(text, str) else text
        yield DescriptorCase(number, label, data, name)
