"""`meshlake write FILES`: CSV null rules, JSON-lines with nested columns, and errors that name file, line, column."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from pyiceberg.io.pyarrow import schema_to_pyarrow

import meshlake as ml
from meshlake.errors import ContractViolationError, InputFileError
from meshlake.write.files import open_files
from tests.conftest import main_snapshot_id

SHIPMENTS = "logistics.shipments.daily"
HEADER = "shipment_id,shipped_at,weight_kg,customer_email\n"


def write_file(port: Any, path: Path) -> Any:
    """What `meshlake write` does with a file: open it in the contract's types and write it."""
    return port.write(open_files([path], schema_to_pyarrow(port.table().schema())))


def cli(*args: str) -> Result:
    from meshlake.cli import commands  # noqa: F401 - registers commands
    from meshlake.cli.main import cli as group

    return CliRunner().invoke(group, list(args), catch_exceptions=False)


def published(port: Any) -> list[dict[str, Any]]:
    return sorted(port.latest().to_arrow().to_pylist(), key=lambda r: r["shipment_id"])


def seeded(port: Any, tmp_path: Path) -> int | None:
    seed = tmp_path / "seed.csv"
    seed.write_text(HEADER + "seed,2026-11-01T08:00:00Z,1.0,\n")
    write_file(port, seed)
    return main_snapshot_id(port)


# -- CSV nulls ------------------------------------------------------------------------------------------


def test_an_empty_unquoted_csv_field_is_null_so_a_required_column_refuses_it(port: Any, tmp_path: Path) -> None:
    before = seeded(port, tmp_path)
    path = tmp_path / "empty.csv"
    path.write_text(HEADER + "a,2026-11-01T08:00:00Z,1.0,\n,2026-11-01T09:00:00Z,2.0,\n")
    with pytest.raises(ContractViolationError) as caught:
        write_file(port, path)
    assert caught.value.column == "shipment_id"
    assert "null" in str(caught.value)
    assert main_snapshot_id(port) == before
    result = cli("write", SHIPMENTS, str(path))
    assert result.exit_code == 1 and "shipment_id" in result.output
    assert main_snapshot_id(port) == before


def test_a_quoted_empty_csv_field_stays_an_empty_string(port: Any, tmp_path: Path) -> None:
    path = tmp_path / "quoted.csv"
    path.write_text(HEADER + '"",2026-11-01T08:00:00Z,,""\nb,2026-11-01T08:00:00Z,,\n')
    write_file(port, path)
    rows = published(port)
    assert [(r["shipment_id"], r["customer_email"], r["weight_kg"]) for r in rows] == [
        ("", "", None),
        ("b", None, None),
    ]


def test_only_an_empty_field_means_null_in_csv(port: Any, tmp_path: Path) -> None:
    path = tmp_path / "markers.csv"
    path.write_text(HEADER + "NA,2026-11-01T08:00:00Z,1,NULL\nnull,2026-11-01T08:00:00Z,1,N/A\n")
    write_file(port, path)
    assert [(r["shipment_id"], r["customer_email"]) for r in published(port)] == [("NA", "NULL"), ("null", "N/A")]


def test_write_help_states_the_csv_null_rule() -> None:
    text = cli("write", "--help").output
    assert "empty unquoted" in text and '""' in text


# -- JSON-lines with nested columns ----------------------------------------------------------------------

NESTED: dict[str, Any] = {
    "apiVersion": "meshlake/v1",
    "domain": "shop",
    "name": "baskets",
    "version": "1.0.0",
    "owner": {"team": "shop_data", "email": "shop@example.com"},
    "outputs": [
        {
            "name": "contents",
            "columns": [
                {"name": "id", "type": "long", "required": True},
                {"name": "tags", "type": "list<string>"},
                {"name": "items", "type": "list<struct<sku: string, price: decimal(10,2), qty: int>>"},
                {"name": "attrs", "type": "map<string, long>"},
                {"name": "nested", "type": "map<string, list<struct<at: timestamptz>>>"},
                {"name": "box", "type": "struct<w: double, h: double>"},
                {"name": "day", "type": "date"},
            ],
            "primary_key": ["id"],
        }
    ],
}
BASKETS = "shop.baskets.contents"


@pytest.fixture
def baskets(lake: ml.Lake, tmp_path: Path) -> Any:
    path = tmp_path / "baskets" / "dataproduct.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(NESTED, sort_keys=False))
    lake.deploy(path)
    return lake.port(BASKETS)


ROWS = [
    {
        "id": 1,
        "tags": ["a", "b"],
        "items": [{"sku": "x", "price": 2.5, "qty": 1}, {"sku": "y", "price": "0.10", "qty": 3}],
        "attrs": {"colour": 1, "size": 42},
        "nested": {"k": [{"at": "2026-11-01T08:00:00+01:00"}]},
        "box": {"w": 1.5, "h": 2},
        "day": "2026-11-01",
    },
    {"id": 2, "tags": [], "items": None, "attrs": {}, "box": None},
    {"id": 3},
]


def jsonl(tmp_path: Path, rows: list[dict[str, Any]] | list[str], name: str = "rows.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def test_jsonl_with_list_struct_and_map_columns_loads_exactly(baskets: Any, tmp_path: Path) -> None:
    import datetime as dt

    result = cli("write", BASKETS, str(jsonl(tmp_path, ROWS)))
    assert result.exit_code == 0, result.output
    rows = sorted(baskets.latest().to_arrow().to_pylist(), key=lambda r: r["id"])
    assert rows[0]["tags"] == ["a", "b"]
    assert rows[0]["items"] == [
        {"sku": "x", "price": Decimal("2.50"), "qty": 1},
        {"sku": "y", "price": Decimal("0.10"), "qty": 3},
    ]
    assert sorted(rows[0]["attrs"]) == [("colour", 1), ("size", 42)]
    assert rows[0]["nested"] == [("k", [{"at": dt.datetime(2026, 11, 1, 7, 0, tzinfo=dt.UTC)}])]
    assert rows[0]["box"] == {"w": 1.5, "h": 2.0}
    assert rows[0]["day"] == dt.date(2026, 11, 1)
    assert (rows[1]["tags"], rows[1]["attrs"], rows[1]["items"]) == ([], [], None)
    assert rows[2]["tags"] is None and rows[2]["attrs"] is None


@pytest.mark.parametrize(
    ("line", "column"),
    [
        ('{"id": 9, "attrs": {"a": "x"}}', "attrs.value"),
        ('{"id": 9, "attrs": {"a": 1.5}}', "attrs.value"),
        ('{"id": 9, "attrs": [1]}', "attrs"),
        ('{"id": 9, "nested": {"k": [{"at": "2026-11-01T08:00:00Z", "zz": 1}]}}', "nested.value[].zz"),
        ('{"id": 9, "nested": {"k": [{"at": "2026-11-01 08:00:00"}]}}', "nested"),
        ('{"id": 9, "items": [{"price": 1.234}]}', "items"),
        ('{"id": 9, "tags": "a"}', "tags"),
        ('{"id": 9, "day": "2026-02-30"}', "day"),
    ],
)
def test_a_bad_nested_value_in_jsonl_names_its_line_and_column(
    baskets: Any, tmp_path: Path, line: str, column: str
) -> None:
    baskets.write(open_files([jsonl(tmp_path, ROWS[:1], "seed.jsonl")], _contract(baskets)))
    before = main_snapshot_id(baskets)
    path = jsonl(tmp_path, [json.dumps(ROWS[2]), "", line])
    with pytest.raises(InputFileError) as caught:
        baskets.write(open_files([path], _contract(baskets)))
    assert (caught.value.file, caught.value.line, caught.value.column) == (str(path), 3, column)
    assert main_snapshot_id(baskets) == before


def test_an_unknown_nested_field_in_jsonl_is_refused_not_dropped(baskets: Any, tmp_path: Path) -> None:
    path = jsonl(tmp_path, ['{"id": 9, "box": {"w": 1, "h": 2, "d": 3}}'])
    with pytest.raises(ContractViolationError) as caught:
        baskets.write(open_files([path], _contract(baskets)))
    assert caught.value.column == "box.d"
    assert main_snapshot_id(baskets) is None


def _contract(port: Any) -> Any:
    return schema_to_pyarrow(port.table().schema())


# -- errors name the file, the 1-based line, the column and the value ------------------------------------

CSV_ERRORS = [
    (
        "bad-number.csv",
        HEADER + "a,2026-11-01T08:00:00Z,1.5,\nb,2026-11-01T08:00:00Z,heavy,\n",
        3,
        "weight_kg",
        "heavy",
    ),
    ("ragged.csv", HEADER + "a,2026-11-01T08:00:00Z,1.5,\nb,2026-11-01T08:00:00Z,1,x,extra\n", 3, None, None),
    (
        "multiline.csv",
        HEADER + 'a,2026-11-01T08:00:00Z,1,"two\nlines"\nb,2026-11-01T08:00:00Z,x1,\n',
        4,
        "weight_kg",
        "x1",
    ),
    ("bad-date.csv", HEADER + "a,2026-11-31T08:00:00Z,1,\n", 2, "shipped_at", "2026-11-31T08:00:00Z"),
]
JSON_ERRORS = [
    (
        "syntax.jsonl",
        '{"shipment_id": "a", "shipped_at": "2026-11-01T08:00:00Z"}\n\n{"shipment_id": "b",\n',
        3,
        None,
        None,
    ),
    ("not-object.jsonl", '{"shipment_id": "a", "shipped_at": "2026-11-01T08:00:00Z"}\n[1, 2]\n', 2, None, None),
    (
        "wrong-kind.jsonl",
        '{"shipment_id": "a", "shipped_at": "2026-11-01T08:00:00Z"}\n'
        '{"shipment_id": "b", "shipped_at": "2026-11-01T08:00:00Z", "weight_kg": "heavy"}\n',
        2,
        "weight_kg",
        '"heavy"',
    ),
    ("bad-bytes.jsonl", '{"shipment_id": "a"}\n{"shipment_id": "\udcff"}\n', 2, None, None),
]


@pytest.mark.parametrize(("name", "text", "line", "column", "value"), CSV_ERRORS + JSON_ERRORS)
def test_a_file_that_does_not_parse_names_file_line_column_and_value(
    port: Any, tmp_path: Path, name: str, text: str, line: int, column: str | None, value: str | None
) -> None:
    before = seeded(port, tmp_path)
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8", errors="surrogateescape"))
    with pytest.raises(InputFileError) as caught:
        write_file(port, path)
    error = caught.value
    assert (error.file, error.line, error.column) == (str(path), line, column)
    if value is not None:
        assert error.value is not None and value in error.value
    assert f"line {line}" in str(error) and name in str(error)
    assert main_snapshot_id(port) == before
    result = cli("write", SHIPMENTS, str(path))
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and f"line {line}" in result.output
    assert "looks like a bug" not in result.output
    assert main_snapshot_id(port) == before


def test_a_bad_value_deep_in_a_large_csv_names_its_line(port: Any, tmp_path: Path) -> None:
    """pyarrow reads CSV in blocks; the line is counted in the file, not in the block."""
    path = tmp_path / "large.csv"
    good = "".join(f"s{i},2026-11-01T08:00:00Z,{i},\n" for i in range(60_000))
    path.write_text(HEADER + good + "bad,2026-11-01T08:00:00Z,1..5,\n")
    with pytest.raises(InputFileError) as caught:
        write_file(port, path)
    assert (caught.value.line, caught.value.column, caught.value.value) == (60_002, "weight_kg", "'1..5'")
    assert main_snapshot_id(port) is None


# -- naive times into timestamptz ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        ("naive.csv", HEADER + "a,2026-11-01T08:00:00Z,1,\nb,2026-11-01 09:00:00,1,\n", 3),
        (
            "naive.jsonl",
            '{"shipment_id": "a", "shipped_at": "2026-11-01T08:00:00Z"}\n'
            '{"shipment_id": "b", "shipped_at": "2026-11-01 09:00:00"}\n',
            2,
        ),
    ],
)
def test_a_time_without_zone_for_a_timestamptz_column_says_what_to_do(
    port: Any, tmp_path: Path, name: str, text: str, line: int
) -> None:
    before = seeded(port, tmp_path)
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InputFileError) as caught:
        write_file(port, path)
    error = caught.value
    assert (error.line, error.column) == (line, "shipped_at")
    assert error.value is not None and "2026-11-01 09:00:00" in error.value
    message = str(error)
    assert "timestamptz" in message and "+00:00" in message and "`timestamp`" in message
    assert "assume_timezone" not in message
    result = cli("write", SHIPMENTS, str(path))
    assert result.exit_code == 1 and "assume_timezone" not in result.output and "shipped_at" in result.output
    assert main_snapshot_id(port) == before


def test_a_zoned_time_for_a_timestamp_column_in_jsonl_is_refused_not_shifted(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: Any, tmp_path: Path
) -> None:
    descriptor["outputs"][0]["columns"][1]["type"] = "timestamp"
    lake.deploy(write_descriptor(descriptor))
    port = lake.port(SHIPMENTS)
    path = jsonl(tmp_path, [{"shipment_id": "a", "shipped_at": "2026-11-01T08:00:00+02:00"}])
    with pytest.raises(InputFileError) as caught:
        write_file(port, path)
    assert (caught.value.line, caught.value.column) == (1, "shipped_at")
    assert "zone" in str(caught.value)
    assert main_snapshot_id(port) is None
