"""A shared corpus of edge-case datasets and expectation configs, generated in code.

Every dataset has the same columns, so every expectation applies to every dataset:

    id long · k long (duplicates, duplicate nulls) · x, y double (NULL, NaN, ±inf, ±0.0) · d decimal(10,2)
    s string (unicode: combining marks, emoji, Arabic digits, whitespace) · t string (categories)
    ts timestamptz · tn timestamp · dt date · b boolean
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pyarrow as pa

from meshlake.contract.expectations import Expectation

NAN, INF = math.nan, math.inf
SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("k", pa.int64()),
        ("x", pa.float64()),
        ("y", pa.float64()),
        ("d", pa.decimal128(10, 2)),
        ("s", pa.string()),
        ("t", pa.string()),
        ("ts", pa.timestamp("us", tz="UTC")),
        ("tn", pa.timestamp("us")),
        ("dt", pa.date32()),
        ("b", pa.bool_()),
    ]
)
COLUMNS = {
    "id": "long",
    "k": "long",
    "x": "double",
    "y": "double",
    "d": "decimal(10,2)",
    "s": "string",
    "t": "string",
    "ts": "timestamptz",
    "tn": "timestamp",
    "dt": "date",
    "b": "boolean",
}
T0 = datetime(2026, 11, 1, tzinfo=UTC)
PLUS2 = timezone(timedelta(hours=2))


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=SCHEMA)


def _edge_rows() -> list[dict[str, Any]]:
    xs = [1.0, NAN, None, INF, -INF, -0.0, 0.0, 49.5, 50.0, 51.0, 2.5, 2.5, -3.0, 10.0]
    ys = [0.0, 1.0, None, NAN, 5.0, 0.0, None, 49.5, 60.0, 50.0, 2.5, 1.0, NAN, None]
    ks = [1, 1, None, None, 2, 3, 3, 3, 4, 5, 6, 7, 8, 9]
    ds = [
        "0.10",
        "0.10",
        None,
        "99.99",
        "-1.00",
        "0.00",
        "12.34",
        None,
        "50.00",
        "0.09",
        "1.5",
        "100",
        "7",
        "7",
    ]
    ss = [
        "abc",
        "é",
        "e\u0301",
        "😀",
        "👨\u200d👩\u200d👧",
        "",
        " ",
        None,
        "١٢٣",
        "a\n",
        "ABC",
        "abc",
        "x_y",
        "a b",
    ]
    tt = [
        "red",
        "green",
        "blue",
        None,
        "red",
        "purple",
        "red",
        "green",
        "blue",
        "blue",
        None,
        "red",
        "x",
        "red",
    ]
    out = []
    for i in range(len(xs)):
        ts = T0 + timedelta(hours=7 * i) if i != 3 else None
        out.append(
            {
                "id": i,
                "k": ks[i],
                "x": xs[i],
                "y": ys[i],
                "d": Decimal(ds[i]) if ds[i] is not None else None,
                "s": ss[i],
                "t": tt[i],
                "ts": ts,
                "tn": ts.replace(tzinfo=None) if ts is not None and i != 5 else None,
                "dt": ts.date() if ts is not None else None,
                "b": None if i % 5 == 4 else i % 2 == 0,
            }
        )
    return out


def _clean_rows() -> list[dict[str, Any]]:
    return [
        {
            "id": i,
            "k": i,
            "x": float(i),
            "y": float(i) / 2,
            "d": Decimal(i) / 4,
            "s": f"name{i}",
            "t": ("red", "green", "blue")[i % 3],
            "ts": T0 + timedelta(days=i),
            "tn": datetime(2026, 11, 1) + timedelta(days=i),
            "dt": date(2026, 11, 1) + timedelta(days=i),
            "b": True,
        }
        for i in range(1, 13)
    ]


def _all_null_rows() -> list[dict[str, Any]]:
    return [{"id": i} for i in range(6)]


def _dups_rows() -> list[dict[str, Any]]:
    return [
        {
            "id": i,
            "k": i % 3 if i % 4 else None,
            "x": float(i % 2) if i % 5 else NAN,
            "y": 1.0,
            "d": Decimal("1.25") * (i % 2),
            "s": ("a", "b", "a", None)[i % 4],
            "t": ("red", "red", None)[i % 3],
            "ts": T0,
            "tn": datetime(2026, 11, 1),
            "dt": date(2026, 11, 1),
            "b": i % 2 == 0,
        }
        for i in range(11)
    ]


DATASETS: dict[str, pa.Table] = {
    "edge": _table(_edge_rows()),
    "clean": _table(_clean_rows()),
    "empty": SCHEMA.empty_table(),
    "all_null": _table(_all_null_rows()),
    "dups": _table(_dups_rows()),
}


def _e(type_: str, **kwargs: Any) -> Expectation:
    return Expectation(type_, kwargs)


B = "expect_column_values_to_be_between"
EXPECTATIONS: list[Expectation] = [
    # nulls
    *[_e("expect_column_values_to_not_be_null", column=c) for c in ("id", "x", "s", "ts", "b", "d")],
    _e("expect_column_values_to_not_be_null", column="x", mostly=0.5),
    _e("expect_column_values_to_be_null", column="x"),
    _e("expect_column_values_to_be_null", column="s", mostly=0.05),
    # uniqueness
    *[_e("expect_column_values_to_be_unique", column=c) for c in ("id", "k", "x", "d", "s", "ts", "dt")],
    _e("expect_column_values_to_be_unique", column="k", mostly=0.6),
    _e("expect_compound_columns_to_be_unique", column_list=["k", "t"]),
    _e("expect_compound_columns_to_be_unique", column_list=["k", "t"], ignore_row_if="any_value_is_missing"),
    _e("expect_compound_columns_to_be_unique", column_list=["k", "t"], ignore_row_if="never"),
    _e("expect_compound_columns_to_be_unique", column_list=["x", "s", "b"]),
    # ranges
    _e(B, column="x", min_value=0, max_value=50),
    _e(B, column="x", min_value=0, max_value=50, strict_min=True, strict_max=True),
    _e(B, column="x", min_value=0, max_value=50, mostly=0.6),
    _e(B, column="x", min_value=-1.5),
    _e(B, column="x", max_value=50, strict_max=True),
    _e(B, column="k", min_value=1, max_value=5),
    _e(B, column="d", min_value=0.1, max_value=99.99),
    _e(B, column="d", min_value=0.1, strict_min=True),
    _e(B, column="ts", min_value="2026-11-01T00:00:00Z", max_value="2026-11-03T12:00:00+02:00"),
    _e(B, column="ts", min_value="2026-11-01T07:00:00Z", strict_min=True),
    _e(B, column="tn", max_value="2026-11-02T00:00:00"),
    _e(B, column="dt", min_value="2026-11-02", max_value=date(2026, 11, 10)),
    # sets
    _e("expect_column_values_to_be_in_set", column="t", value_set=["red", "green", "blue"]),
    _e("expect_column_values_to_be_in_set", column="t", value_set=["red", "green", "blue"], mostly=0.8),
    _e("expect_column_values_to_be_in_set", column="t", value_set=[]),
    _e("expect_column_values_to_be_in_set", column="k", value_set=[1, 2, 3, None]),
    _e("expect_column_values_to_be_in_set", column="x", value_set=[1, 2.5, 0.0]),
    _e("expect_column_values_to_be_in_set", column="b", value_set=[True]),
    _e("expect_column_values_to_be_in_set", column="d", value_set=[0.1, 7]),
    _e("expect_column_values_to_be_in_set", column="dt", value_set=["2026-11-01", date(2026, 11, 2)]),
    _e(
        "expect_column_values_to_be_in_set",
        column="ts",
        value_set=["2026-11-01T00:00:00Z", "2026-11-01T09:00:00+02:00"],
    ),
    _e("expect_column_values_to_not_be_in_set", column="tn", value_set=["2026-11-01T00:00:00"]),
    _e("expect_column_values_to_not_be_in_set", column="t", value_set=["purple", "x"]),
    _e("expect_column_values_to_not_be_in_set", column="s", value_set=["", " "]),
    _e("expect_column_values_to_not_be_in_set", column="s", value_set=[]),
    # regular expressions (Python re.search semantics)
    *[
        _e("expect_column_values_to_match_regex", column="s", regex=r)
        for r in (
            r"^[a-z]+$",
            r"^\w+$",
            r"\d",
            r"^$",
            r"\s",
            r"(?i)abc",
            r"\bab",
            r"(?<=a)b",
            "e\u0301",
            r"^.$",
            r"^.{1,2}$",
            r"^a$",
            r"\S",
            r"[\W\d]",
            r"name\d+",
        )
    ],
    _e("expect_column_values_to_match_regex", column="s", regex=r"^[a-z]+\d*$", mostly=0.3),
    _e("expect_column_values_to_not_match_regex", column="s", regex=r"\d"),
    _e("expect_column_values_to_not_match_regex", column="s", regex=r"^$|\s"),
    # lengths (characters, not bytes)
    _e("expect_column_value_lengths_to_be_between", column="s", min_value=1, max_value=3),
    _e("expect_column_value_lengths_to_be_between", column="s", min_value=1, strict_min=True),
    _e("expect_column_value_lengths_to_be_between", column="s", max_value=5, mostly=0.9),
    # column pairs
    _e("expect_column_pair_values_a_to_be_greater_than_b", column_A="x", column_B="y"),
    _e("expect_column_pair_values_a_to_be_greater_than_b", column_A="x", column_B="y", or_equal=True),
    _e(
        "expect_column_pair_values_a_to_be_greater_than_b",
        column_A="x",
        column_B="y",
        ignore_row_if="either_value_is_missing",
        mostly=0.5,
    ),
    _e("expect_column_pair_values_a_to_be_greater_than_b", column_A="ts", column_B="ts", or_equal=True),
    # aggregates
    *[
        _e(f"expect_column_{stat}_to_be_between", column=c, min_value=lo, max_value=hi)
        for stat in ("min", "max", "mean", "median", "sum")
        for c, lo, hi in (("x", -10, 60), ("y", 0, 10), ("k", 1, 100), ("d", 0.1, 200))
    ],
    _e("expect_column_mean_to_be_between", column="k", min_value=3),
    _e("expect_column_median_to_be_between", column="k", max_value=4, strict_max=True),
    _e("expect_column_sum_to_be_between", column="x", min_value=0, max_value=0),
    _e("expect_column_pair_values_a_to_be_greater_than_b", column_A="s", column_B="t"),
    _e(
        "expect_column_max_to_be_between",
        column="ts",
        min_value="2026-11-01T00:00:00Z",
        max_value="2026-12-01T00:00Z",
    ),
    _e("expect_column_min_to_be_between", column="dt", min_value="2026-11-01"),
    _e("expect_column_min_to_be_between", column="tn", min_value="2026-11-01T00:00:00", strict_min=True),
    _e("expect_column_proportion_of_unique_values_to_be_between", column="k", min_value=0.5, max_value=1),
    _e("expect_column_proportion_of_unique_values_to_be_between", column="x", min_value=0.9),
    _e("expect_column_proportion_of_unique_values_to_be_between", column="s", max_value=0.5, strict_max=True),
    # table
    _e("expect_table_row_count_to_be_between", min_value=1, max_value=12),
    _e("expect_table_row_count_to_be_between", max_value=0),
    _e("expect_table_row_count_to_be_between", min_value=14, strict_min=True),
    _e("expect_table_columns_to_match_set", column_set=list(COLUMNS)),
    _e("expect_table_columns_to_match_set", column_set=["id", "k"], exact_match=False),
    _e("expect_table_columns_to_match_set", column_set=["id", "nope"]),
    # SQL
    _e("unexpected_rows_expectation", unexpected_rows_query="SELECT * FROM {batch} WHERE k > 5"),
    _e(
        "unexpected_rows_expectation",
        unexpected_rows_query="SELECT k, count(*) FROM {batch} GROUP BY k HAVING count(*) > 1",
        description="k is a key",
    ),
]
