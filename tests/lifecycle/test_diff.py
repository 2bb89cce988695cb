"""`port.diff` / `meshlake diff`: schema and row changes by key, reading only the files two snapshots do not share."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner

import meshlake as ml
from meshlake.cli import commands  # noqa: F401 - registers the commands
from meshlake.cli.main import cli
from meshlake.errors import DiffError
from tests.lifecycle.conftest import TWO_PORTS, orders, write_product


def test_a_diff_counts_added_removed_and_changed_rows_per_column(sales: ml.Lake) -> None:
    port = sales.port("sales.orders.placed")
    first = port.latest().snapshot_id
    port.write(orders([2, 3], amount=5.0), mode="upsert")  # order 2 and 3: amount changes
    port.write(orders([4]))
    port.delete("order_id = 1")
    found = port.diff(first)
    assert (found.added, found.removed, found.changed) == (1, 1, 2)
    assert found.column_changes == {"amount": 2}
    assert [r["order_id"] for r in found.samples["added"]] == [4]
    assert [r["order_id"] for r in found.samples["removed"]] == [1]
    assert found.samples["changed"][0] == {"order_id": 2, "amount": [2.0, 10.0]}
    assert found.different


def test_a_diff_of_a_snapshot_with_itself_is_empty_and_reads_nothing(sales: ml.Lake) -> None:
    port = sales.port("sales.orders.placed")
    found = port.diff(port.latest().snapshot_id)
    assert not found.different and found.files_read == 0 and found.files_total > 0


def test_a_diff_after_an_append_reads_only_the_new_file(sales: ml.Lake) -> None:
    port = sales.port("sales.orders.placed")
    for batch in range(5):
        port.write(orders([100 + batch]))
    before = port.latest().snapshot_id
    port.write(orders([200]))
    found = port.diff(before)
    assert found.added == 1 and found.files_read == 1 and found.files_total == 7


def test_schema_changes_are_reported_by_field_id(sales: ml.Lake, tmp_path: Path) -> None:
    port = sales.port("sales.orders.placed")
    first = port.latest().snapshot_id
    data = json.loads(json.dumps(TWO_PORTS)) | {"version": "1.5.0"}
    data["outputs"][0]["columns"].append({"name": "channel", "type": "string"})
    sales.deploy(write_product(tmp_path / "v2", data))
    rows = orders([9]).append_column("channel", pa.array(["web"]))
    sales.port("sales.orders.placed").write(rows)
    found = sales.port("sales.orders.placed").diff(first)
    assert found.schema == [{"change": "added", "column": "channel", "field_id": 4, "type": "string"}]
    assert found.added == 1


def test_a_key_that_is_not_unique_is_refused_with_examples(sales: ml.Lake) -> None:
    port = sales.port("sales.orders.placed")
    first = port.latest().snapshot_id
    port.write(pa.table({"order_id": pa.array([7, 8], pa.int64()), "amount": [1.0, 1.0], "email": ["x", "y"]}))
    with pytest.raises(DiffError) as caught:
        port.diff(first, key=["amount"])
    assert caught.value.examples and "appears 2 times" in caught.value.examples[0]


def test_a_duplicate_of_a_key_in_a_shared_file_is_found_with_check_keys(sales: ml.Lake) -> None:
    port = sales.port("sales.orders.placed")
    first = port.latest().snapshot_id
    port.write(orders([3]))  # order 3 again: the port now holds it twice
    assert port.diff(first).added == 1  # the rows read alone cannot tell
    with pytest.raises(DiffError) as caught:
        port.diff(first, check_keys=True)
    assert "'order_id': 3" in caught.value.examples[0]


def test_snapshots_of_different_ports_are_refused(sales: ml.Lake) -> None:
    with pytest.raises(DiffError, match="different ports"):
        sales.diff("sales.orders.placed", "sales.orders.lines")
    other = sales.port("sales.orders.lines").latest()
    with pytest.raises(DiffError, match="different tables"):
        sales.port("sales.orders.placed").diff(other)


def test_a_key_column_that_does_not_exist_is_refused(sales: ml.Lake) -> None:
    port = sales.port("sales.orders.placed")
    with pytest.raises(DiffError, match="not columns"):
        port.diff(port.latest().snapshot_id, key=["nope"])


def test_a_port_without_a_primary_key_needs_a_key(lake: ml.Lake, tmp_path: Path) -> None:
    data = json.loads(json.dumps(TWO_PORTS))
    data["outputs"][1]["primary_key"] = []
    lake.deploy(write_product(tmp_path / "p", data))
    port = lake.port("sales.orders.lines")
    port.write(pa.table({"line_id": pa.array([1], pa.int64()), "sku": ["a"]}))
    with pytest.raises(DiffError, match="no primary key"):
        port.diff(port.latest().snapshot_id)
    assert not port.diff(port.latest().snapshot_id, key=["line_id"]).different


def test_cli_diff_exits_1_when_different_and_0_when_equal(sales: ml.Lake) -> None:
    port = sales.port("sales.orders.placed")
    first = port.latest().snapshot_id
    port.tag("v1")
    port.write(orders([4]))
    runner = CliRunner()
    same = runner.invoke(cli, ["diff", f"sales.orders.placed@{first}", "sales.orders.placed@v1"])
    assert same.exit_code == 0, same.output
    changed = runner.invoke(cli, ["diff", "sales.orders.placed@v1", "sales.orders.placed", "--json"])
    assert changed.exit_code == 1
    data = json.loads(changed.output)
    assert data["added"] == 1 and data["different"] is True
    bad = runner.invoke(cli, ["diff", "sales.orders.placed@v1", "sales.orders.placed", "--key", "amount,email"])
    assert bad.exit_code == 1 and "(key amount, email)" in bad.output and "1 added" in bad.output


def test_a_delete_file_on_a_shared_data_file_is_read(sales: ml.Lake) -> None:
    """A data file both snapshots hold, with a position delete in B only: its rows are read and diffed."""
    from tests.query.conftest import commit_files, files_of, position_deletes

    port = sales.port("sales.orders.placed")
    before = port.latest().snapshot_id
    table = port.table()
    (path,) = files_of(table)
    commit_files(table, deletes=[position_deletes(table, [(path, 1)], bounds=False)])  # order 2, as Spark would
    found = port.diff(before)
    assert (found.added, found.removed, found.changed) == (0, 1, 0)
    assert [r["order_id"] for r in found.samples["removed"]] == [2]
    assert found.files_read == 2  # the data file, read on both sides, and the delete file
