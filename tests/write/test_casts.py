"""Casting written data to the contract: what cannot lose information is applied, everything else refused.

One port holds a column of every contract type; each case writes one row into one column and either reads
the exact value back or expects a `ContractViolationError` naming the column path, with `main` unchanged.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from itertools import count
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml
from click.testing import CliRunner

import meshlake as ml
from meshlake.errors import ContractViolationError, InputFileError

ADDRESS = "shop.orders.lines"
COLUMNS = {
    "id": "long",
    "dec": "decimal(10,2)",
    "dec_wide": "decimal(12,2)",
    "lng": "long",
    "int_": "int",
    "dbl": "double",
    "flt": "float",
    "st": "struct<a: long, b: string>",
    "deep": "struct<inner: struct<x: decimal(10,2)>>",
    "items": "list<struct<price: decimal(10,2), qty: int>>",
    "tags": "map<string, long>",
    "nums": "list<long>",
    "ts": "timestamptz",
    "day": "date",
}
DESCRIPTOR: dict[str, Any] = {
    "apiVersion": "meshlake/v1",
    "domain": "shop",
    "name": "orders",
    "version": "1.0.0",
    "owner": {"team": "shop_data", "email": "shop@example.com"},
    "outputs": [
        {
            "name": "lines",
            "columns": [{"name": n, "type": t, "required": n == "id"} for n, t in COLUMNS.items()],
            "primary_key": ["id"],
        }
    ],
}
UTC = dt.UTC
PARIS = "Europe/Paris"
_ids = count(1)


def deploy(home: Path, products: Path) -> ml.Lake:
    lake = ml.connect(home=str(home))
    products.mkdir(parents=True, exist_ok=True)
    (products / "dataproduct.yaml").write_text(yaml.safe_dump(DESCRIPTOR, sort_keys=False))
    lake.deploy(products / "dataproduct.yaml")
    return lake


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One deployed port shared by the table-driven cases (each case writes its own id)."""
    folder = tmp_path_factory.mktemp("casts")
    yield deploy(folder / ".meshlake", folder / "product").port(ADDRESS)


def main_id(port: Any) -> int | None:
    snapshot = port.table().metadata.snapshot_by_name("main")
    return snapshot.snapshot_id if snapshot else None


def one_row(column: str, values: pa.Array, row_id: int) -> pa.Table:
    return pa.table({"id": pa.array([row_id] * len(values), pa.int64()), column: values})


def stored(port: Any, row_id: int, column: str) -> Any:
    """The value as the Parquet file holds it (pyiceberg 0.12's scan reads a null list of structs as [])."""
    rows = port.latest().to_arrow()
    rows = rows.filter(pc.equal(rows.column("id"), row_id))
    assert rows.num_rows == 1
    return rows.column(column)[0].as_py()


def struct(**fields: pa.Array) -> pa.Array:
    return pa.StructArray.from_arrays(list(fields.values()), names=list(fields))


def dec(text: str, precision: int = 10, scale: int = 2) -> pa.Array:
    return pa.array([Decimal(text)], pa.decimal128(precision, scale))


# (column, input values (one row), the exact value stored)
ACCEPTED: list[tuple[str, pa.Array, Any]] = [
    ("dec_wide", pa.array([1], pa.int64()), Decimal("1.00")),
    ("dec", pa.array([-99_999_999], pa.int64()), Decimal("-99999999.00")),
    ("dec", pa.array([1.25]), Decimal("1.25")),
    ("dec", pa.array([0.1]), Decimal("0.10")),
    ("dec", pa.array([0.5], pa.float32()), Decimal("0.50")),
    ("dec", dec("1.5", 5, 1), Decimal("1.50")),
    ("dec", pa.array([None], pa.float64()), None),
    ("lng", pa.array([7], pa.int32()), 7),
    ("lng", pa.array([2**40], pa.uint64()), 2**40),
    ("int_", pa.array([-(2**31)], pa.int64()), -(2**31)),
    ("int_", pa.array([2.0]), 2),
    ("dbl", pa.array([1.5], pa.float32()), 1.5),
    ("dbl", pa.array([2**53], pa.int64()), float(2**53)),
    ("dbl", dec("2.01"), 2.01),
    ("flt", pa.array([0.5]), 0.5),
    ("st", struct(b=pa.array(["x"]), a=pa.array([1], pa.int32())), {"a": 1, "b": "x"}),
    ("st", struct(a=pa.array([1])), {"a": 1, "b": None}),
    ("deep", struct(inner=struct(x=pa.array([1.5]))), {"inner": {"x": Decimal("1.50")}}),
    (
        "items",
        pa.array([[{"qty": 2, "price": 2.5}, {"qty": 1, "price": 0.1}]]),
        [{"price": Decimal("2.50"), "qty": 2}, {"price": Decimal("0.10"), "qty": 1}],
    ),
    ("items", pa.array([None], pa.list_(pa.struct([("price", pa.float64())]))), None),
    ("tags", pa.array([[("a", 1), ("b", 2)]], pa.map_(pa.string(), pa.int32())), [("a", 1), ("b", 2)]),
    ("nums", pa.array([[1, None, 3]], pa.list_(pa.int32())), [1, None, 3]),
    ("nums", pa.array([[4, 5]], pa.list_(pa.int16(), 2)), [4, 5]),
    (
        "ts",
        pa.array([dt.datetime(2026, 11, 1, 9, 30, tzinfo=ZoneInfo(PARIS))], pa.timestamp("ns", tz=PARIS)),
        dt.datetime(2026, 11, 1, 8, 30, tzinfo=UTC),
    ),
    ("day", pa.array([dt.date(2026, 11, 1)], pa.date64()), dt.date(2026, 11, 1)),
]

# (column, input values, the refused path, the example value, or None for a type-level refusal)
REFUSED: list[tuple[str, pa.Array, str, Any]] = [
    ("dec", pa.array([1.234]), "dec", 1.234),
    ("dec", pa.array([1e-09]), "dec", 1e-09),
    ("dec", pa.array([1.0, float("nan")]), "dec", None),
    ("dec", pa.array([1e20]), "dec", 1e20),
    ("dec", pa.array([10**8], pa.int64()), "dec", 10**8),
    ("dec", dec("1.234", 10, 3), "dec", Decimal("1.234")),
    ("flt", pa.array([0.1]), "flt", 0.1),
    ("dbl", pa.array([2**53 + 1], pa.int64()), "dbl", 2**53 + 1),
    ("dbl", dec("12345678901234567.89", 20, 2), "dbl", Decimal("12345678901234567.89")),
    ("int_", pa.array([2**40], pa.int64()), "int_", 2**40),
    ("lng", pa.array([2.5]), "lng", 2.5),
    ("lng", pa.array(["1"]), "lng", None),
    ("st", struct(a=pa.array([1]), b=pa.array(["x"]), extra=pa.array([1])), "st.extra", None),
    ("st", struct(A=pa.array([1])), "st.A", None),
    ("st", struct(a=pa.array(["one"])), "st.a", None),
    ("deep", struct(inner=struct(x=pa.array([1.234]))), "deep.inner.x", 1.234),
    ("items", pa.array([[{"price": 2.5}, {"price": 2.001}]]), "items[].price", 2.001),
    ("items", pa.array([[{"price": 2.5, "zzz": 1}]]), "items[].zzz", None),
    ("tags", pa.array([[("a", 1.5)]], pa.map_(pa.string(), pa.float64())), "tags.value", 1.5),
    ("tags", pa.array([[(1, 1)]], pa.map_(pa.int64(), pa.int64())), "tags.key", None),
    ("nums", pa.array([[1.0, 1.5]]), "nums[]", 1.5),
    ("ts", pa.array([dt.datetime(2026, 11, 1)], pa.timestamp("us")), "ts", None),
    ("ts", pa.array([1_762_000_000_000_000_123], pa.timestamp("ns", tz="UTC")), "ts", None),
]


@pytest.mark.parametrize(("column", "values", "expected"), ACCEPTED, ids=lambda v: str(v)[:30])
def test_a_cast_that_cannot_lose_information_stores_the_exact_value(
    port: Any, column: str, values: pa.Array, expected: Any
) -> None:
    row_id = next(_ids)
    port.write(one_row(column, values, row_id))
    assert stored(port, row_id, column) == expected


@pytest.mark.parametrize(("column", "values", "path", "example"), REFUSED, ids=lambda v: str(v)[:30])
def test_write_refuses_lossy_cast_naming_the_path_types_and_value(
    port: Any, column: str, values: pa.Array, path: str, example: Any
) -> None:
    before = main_id(port)
    with pytest.raises(ContractViolationError) as caught:
        port.write(one_row(column, values, next(_ids)))
    error = caught.value
    assert error.column == path
    assert error.address == ADDRESS
    if example is not None:
        assert error.value == example
    assert f"'{path}'" in str(error) and "contract" in str(error)
    assert main_id(port) == before


def test_float_to_decimal_is_refused_unless_every_value_reads_back_the_same(port: Any) -> None:
    """The rule for float → decimal: one inexact value refuses the whole write, and nothing is rounded."""
    before = main_id(port)
    with pytest.raises(ContractViolationError) as caught:
        port.write(one_row("dec", pa.array([1.25, 0.1, 3.0, 1.234, 2.5]), next(_ids)))
    assert caught.value.value == 1.234
    assert "1.23" in str(caught.value), "the error shows what would have been stored"
    assert main_id(port) == before


@pytest.mark.parametrize("mode", ["append", "overwrite", "upsert", "replace"])
def test_every_write_mode_refuses_a_lossy_nested_cast(port: Any, mode: str) -> None:
    port.write(one_row("lng", pa.array([1]), next(_ids)))
    before, rows = main_id(port), port.table().scan().to_arrow().num_rows
    data = one_row("items", pa.array([[{"price": 1.0}, {"price": 0.125}]]), next(_ids))
    where = "id >= 0" if mode == "replace" else None
    with pytest.raises(ContractViolationError) as caught:
        port.write(data, mode=mode, where=where)
    assert caught.value.column == "items[].price"
    assert main_id(port) == before
    assert port.table().scan().to_arrow().num_rows == rows


def test_write_widens_half_floats_exactly_or_refuses_them_clearly(port: Any) -> None:
    """Half floats (Arrow's float16) go in as the numbers they hold; Arrow's own half-float kernels would
    compare nothing and cast 2.0 to the integer of its raw bits (16384)."""
    for column, expected in (("lng", 2), ("int_", 2), ("dbl", 2.0), ("flt", 2.0), ("dec", Decimal("2.00"))):
        row_id = next(_ids)
        port.write(one_row(column, pa.array([2.0], pa.float16()), row_id))
        assert stored(port, row_id, column) == expected
    before = main_id(port)
    with pytest.raises(ContractViolationError) as caught:
        port.write(one_row("lng", pa.array([2.5], pa.float16()), next(_ids)))
    assert caught.value.column == "lng" and caught.value.value == 2.5
    assert main_id(port) == before


@pytest.mark.parametrize("mode", ["delete", "replace", "upsert"])
def test_a_rewrite_keeps_a_null_list_of_structs_null(port: Any, mode: str) -> None:
    """A delete, replace or upsert copies the rows it keeps into a new file; pyiceberg 0.12's Arrow scan reads a
    null list of structs back as an empty list (apache/iceberg-python#3833), so they were stored as []."""
    kept, touched = next(_ids), next(_ids)
    items = pa.array(
        [None, [{"price": Decimal("1.00"), "qty": 1}]],
        pa.list_(pa.struct([("price", pa.decimal128(10, 2)), ("qty", pa.int32())])),
    )
    port.write(pa.table({"id": pa.array([kept, touched], pa.int64()), "items": items}))
    if mode == "delete":
        port.delete(f"id = {touched}")
    else:
        where = f"id = {touched}" if mode == "replace" else None
        port.write(one_row("lng", pa.array([1]), touched), mode=mode, where=where)
    assert stored(port, kept, "items") is None


def test_a_sliced_batch_is_checked_on_its_own_rows_only(port: Any) -> None:
    """Values outside a slice (here a lossy 1.234) are not part of the data and do not refuse it."""
    values = pa.array([[{"price": 1.234}], [{"price": 2.5}]]).slice(1)
    row_id = next(_ids)
    port.write(one_row("items", values, row_id))
    assert stored(port, row_id, "items") == [{"price": Decimal("2.50"), "qty": None}]


def cli(*args: str) -> Any:
    from meshlake.cli import commands  # noqa: F401 - registers commands
    from meshlake.cli.main import cli as group

    return CliRunner().invoke(group, list(args), catch_exceptions=False)


@pytest.fixture
def cli_lake(tmp_path: Path) -> ml.Lake:
    """The port deployed in the test's folder, where the CLI finds its embedded lake."""
    return deploy(tmp_path / ".meshlake", tmp_path / "product")


def test_cli_write_refuses_a_lossy_cast_from_a_parquet_file(cli_lake: ml.Lake, tmp_path: Path) -> None:
    port = cli_lake.port(ADDRESS)
    port.write(one_row("dec", pa.array([1.5]), 1))
    before = main_id(port)
    path = tmp_path / "lines.parquet"
    pq.write_table(one_row("deep", struct(inner=struct(x=pa.array([1.234]))), 2), path)
    result = cli("write", ADDRESS, str(path))
    assert result.exit_code == 1
    assert "deep.inner.x" in result.output and "1.234" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert main_id(port) == before


@pytest.mark.parametrize(
    ("name", "text", "column"),
    [
        ("lines.csv", "id,dec\n1,1.25\n2,1.234\n", "dec"),
        ("lines.jsonl", '{"id": 1, "dec": 1.25}\n{"id": 2, "items": [{"price": 1.234}]}\n', "items"),
    ],
)
def test_cli_write_refuses_too_many_decimals_in_text_files(
    cli_lake: ml.Lake, tmp_path: Path, name: str, text: str, column: str
) -> None:
    port = cli_lake.port(ADDRESS)
    before = main_id(port)
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InputFileError) as caught:
        from meshlake.write.files import open_files

        port.write(open_files([path], _contract(port)))
    assert (caught.value.line, caught.value.column) == (3 if name.endswith(".csv") else 2, column)
    result = cli("write", ADDRESS, str(path))
    assert result.exit_code == 1 and "decimal places" in result.output
    assert main_id(port) == before


def _contract(port: Any) -> pa.Schema:
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    return schema_to_pyarrow(port.table().schema())


def test_the_error_reads_in_the_contract_s_words(port: Any) -> None:
    with pytest.raises(ContractViolationError) as caught:
        port.write(one_row("dec", pa.array([1.234]), next(_ids)))
    message = str(caught.value)
    assert "input double" in message and "contract decimal(10,2)" in message
    assert json.dumps(ADDRESS)[1:-1] in message


def test_cli_write_of_several_files_refuses_a_lossy_cast_between_them(cli_lake: ml.Lake, tmp_path: Path) -> None:
    """Files of one write are aligned to the first file's types by the same rule: nothing is rounded."""
    port = cli_lake.port(ADDRESS)
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    pq.write_table(one_row("dec", dec("1.50"), 1), first)
    pq.write_table(one_row("dec", pa.array([1.234]), 2), second)
    with pytest.raises(InputFileError) as caught:
        from meshlake.write.files import open_files

        port.write(open_files([first, second], _contract(port)))
    assert (caught.value.file, caught.value.column) == (str(second), "dec")
    result = cli("write", ADDRESS, str(first), str(second))
    assert result.exit_code == 1 and "1.234" in result.output
    assert main_id(port) is None
