"""The mesh in DuckDB and Polars: ports as views by address, time travel in SQL, refresh, as_of."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest
from click.testing import CliRunner

import meshlake as ml
from meshlake.errors import SnapshotNotFoundError
from tests.conftest import DescriptorWriter
from tests.test_write import shipments


@pytest.fixture
def history(port: Any) -> dict[str, int]:
    """Snapshots: a (2 rows, tagged v1) → b (3 rows) → c (1 row, overwrite)."""
    ids = {"a": port.write(shipments(["a1", "a2"], weight=1.0)).snapshot_id}
    port.tag("v1")
    time.sleep(0.02)
    ids["b"] = port.write(shipments(["b1"], weight=2.0)).snapshot_id
    time.sleep(0.02)
    ids["c"] = port.write(shipments(["c1"], weight=3.0), mode="overwrite").snapshot_id
    return ids


def count(con: Any, sql: str) -> int:
    return int(con.sql(sql).fetchall()[0][0])


def test_every_port_is_a_view_named_by_its_address(shipments: ml.Lake, history: dict[str, int]) -> None:
    con = shipments.duckdb()
    assert count(con, "SELECT count(*) FROM logistics.shipments.daily") == 1
    views = con.sql("SELECT database_name, schema_name, view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    assert ("logistics", "shipments", "daily") in views
    tables = con.sql("SELECT count(*) FROM duckdb_tables()").fetchall()[0][0]
    assert tables == 0, "nothing is materialised into DuckDB storage"
    plan = "\n".join(row[1] for row in con.sql("EXPLAIN SELECT * FROM logistics.shipments.daily").fetchall())
    assert "READ_PARQUET" in plan.upper() or "PARQUET_SCAN" in plan.upper()


def test_a_passed_connection_gets_the_views(shipments: ml.Lake, history: dict[str, int]) -> None:
    import duckdb

    con = duckdb.connect()
    assert shipments.duckdb(con) is con
    assert count(con, "SELECT count(*) FROM logistics.shipments.daily") == 1


def test_time_travel_in_sql_by_id_tag_and_timestamp(shipments: ml.Lake, history: dict[str, int]) -> None:
    base = "SELECT count(*) FROM logistics.shipments.daily"
    assert shipments.sql(f"{base} AT (VERSION => {history['a']})").fetchall() == [(2,)]
    assert shipments.sql(f"{base} AT (VERSION => {history['b']})").fetchall() == [(3,)]
    assert shipments.sql(f"{base} AT (VERSION => 'v1')").fetchall() == [(2,)]
    entry = shipments.port("logistics.shipments.daily").history()[1]
    instant = (entry.committed_at + timedelta(milliseconds=5)).strftime("%Y-%m-%d %H:%M:%S.%f+00")
    assert shipments.sql(f"{base} AT (TIMESTAMP => TIMESTAMPTZ '{instant}')").fetchall() == [(3,)]


def test_several_versions_in_one_query(shipments: ml.Lake, history: dict[str, int]) -> None:
    query = f"""
        SELECT now.n AS now, before.n AS before
        FROM (SELECT count(*) AS n FROM logistics.shipments.daily) AS now,
             (SELECT count(*) AS n FROM logistics.shipments.daily AT (VERSION => {history["b"]})) AS before
    """
    assert shipments.sql(query).fetchall() == [(1, 3)]
    joined = """
        SELECT count(*) FROM logistics.shipments.daily AS cur
        JOIN logistics.shipments.daily AS old AT (VERSION => 'v1') ON cur.shipment_id = old.shipment_id
    """
    assert shipments.sql(joined).fetchall() == [(0,)]


def test_unknown_version_is_a_clear_error(shipments: ml.Lake, history: dict[str, int]) -> None:
    with pytest.raises(SnapshotNotFoundError):
        shipments.sql("SELECT * FROM logistics.shipments.daily AT (VERSION => 'v404')").fetchall()


def test_as_of_freezes_the_whole_mesh(
    shipments: ml.Lake, history: dict[str, int], descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    frozen_at = shipments.port("logistics.shipments.daily").history()[1].committed_at + timedelta(milliseconds=5)
    descriptor.update(domain="sales", name="orders", inputs=[])
    shipments.deploy(write_descriptor(descriptor))
    shipments.port("sales.orders.daily").write(shipments_rows(["o1"]))
    con = shipments.duckdb(as_of=frozen_at)
    assert count(con, "SELECT count(*) FROM logistics.shipments.daily") == 3
    with pytest.raises(SnapshotNotFoundError):
        shipments.sql("SELECT count(*) FROM sales.orders.daily", con=con).fetchall()
    import duckdb

    with pytest.raises(duckdb.Error, match=r"SnapshotNotFoundError: sales\.orders\.daily has no snapshot"):
        con.sql("SELECT count(*) FROM sales.orders.daily").fetchall()
    with pytest.raises(ml.InvalidNameError):
        shipments.duckdb(as_of=datetime(2026, 11, 1))


def shipments_rows(ids: list[str]) -> pa.Table:
    return shipments(ids)


def test_refresh_replans_only_changed_ports(
    shipments: ml.Lake, history: dict[str, int], descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    descriptor.update(domain="sales", name="orders", inputs=[])
    shipments.deploy(write_descriptor(descriptor))
    con = shipments.duckdb()
    assert count(con, "SELECT count(*) FROM logistics.shipments.daily") == 1
    shipments.port("logistics.shipments.daily").write(shipments_rows(["x"]))
    assert count(con, "SELECT count(*) FROM logistics.shipments.daily") == 1, "a session stays pinned"
    assert shipments.refresh(con) == ["logistics.shipments.daily"]
    assert count(con, "SELECT count(*) FROM logistics.shipments.daily") == 2
    assert shipments.refresh(con) == []


def test_ports_named_like_keywords_are_queryable(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    descriptor.update(domain="order", name="select")
    descriptor["outputs"] = [{"name": "from", "columns": [{"name": "group", "type": "long"}]}]
    lake.deploy(write_descriptor(descriptor))
    lake.port("order.select.from").write(pa.table({"group": [1, 2, 3]}))
    assert lake.sql('SELECT sum("group") FROM "order"."select"."from"').fetchall() == [(6,)]


def test_views_follow_schema_evolution(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    descriptor["outputs"][0]["columns"].append({"name": "pieces", "type": "int"})
    lake.deploy(write_descriptor(descriptor))
    port = lake.port("logistics.shipments.daily")
    port.write(shipments(["a"]).append_column("pieces", pa.array([1], pa.int32())))
    descriptor["version"] = "1.5.0"
    descriptor["outputs"][0]["columns"][4]["type"] = "long"
    descriptor["outputs"][0]["columns"].append({"name": "channel", "type": "string"})
    lake.deploy(write_descriptor(descriptor))
    port = lake.port("logistics.shipments.daily")
    port.write(shipments(["b"]).append_column("pieces", pa.array([2**40])).append_column("channel", pa.array(["web"])))
    rows = lake.sql("SELECT shipment_id, pieces, channel FROM logistics.shipments.daily ORDER BY 1").fetchall()
    assert rows == [("a", 1, None), ("b", 2**40, "web")]


def test_polars_scans_lazily_with_pushdown(port: Any, history: dict[str, int]) -> None:
    import polars as pl

    frame = port.at("v1").to_polars().filter(pl.col("shipment_id") == "a2").select("shipment_id", "weight_kg")
    assert isinstance(frame, pl.LazyFrame)
    plan = frame.explain()
    assert "SELECTION" in plan.upper() or "FILTER" in plan.upper()
    assert "PROJECT 2/" in plan.upper() or "2/4" in plan
    assert frame.collect().to_dicts() == [{"shipment_id": "a2", "weight_kg": 1.0}]


def cli(*args: str, stdin: str | None = None) -> Any:
    from meshlake.cli import commands  # noqa: F401
    from meshlake.cli.main import cli as group

    return CliRunner().invoke(group, list(args), input=stdin)


def test_cli_sql_prints_a_table_json_and_csv(shipments: ml.Lake, history: dict[str, int]) -> None:
    result = cli("sql", "SELECT shipment_id FROM logistics.shipments.daily AT (VERSION => 'v1') ORDER BY 1")
    assert result.exit_code == 0, result.output
    assert "a1" in result.output and "a2" in result.output
    rows = json.loads(cli("sql", "--json", "SELECT count(*) AS n FROM logistics.shipments.daily").output)
    assert rows == [{"n": 1}]
    csv_out = cli("sql", "--csv", "SELECT shipment_id FROM logistics.shipments.daily").output
    assert csv_out.splitlines()[:2] == ['"shipment_id"', '"c1"']


def test_cli_sql_reads_statements_from_stdin(shipments: ml.Lake, history: dict[str, int]) -> None:
    stdin = "SELECT count(*) AS n FROM logistics.shipments.daily AT (VERSION => 'v1');\nSELECT 42 AS answer;\n"
    result = cli("sql", "--json", stdin=stdin)
    assert result.exit_code == 0, result.output
    assert [json.loads(line) for line in result.output.splitlines() if line.startswith("[")] == [
        [{"n": 2}],
        [{"answer": 42}],
    ]


def test_cli_sql_error_is_one_line(shipments: ml.Lake) -> None:
    result = cli("sql", "SELECT * FROM logistics.shipments.nope")
    assert result.exit_code == 1
    assert result.output.strip().startswith("error: ") and len(result.output.strip().splitlines()) == 1
    assert UTC  # zoned times are the norm in this module


def test_nan_values_are_found_and_ordered_like_duckdb_does(port: Any) -> None:
    mixed = shipments(["a", "b", "c"]).set_column(2, "weight_kg", pa.array([1.0, float("nan"), 0.5]))
    port.write(mixed)  # one file: its statistics say max 1.0, leaving the NaN out
    lake = port.lake
    assert lake.sql("SELECT count(*) FROM logistics.shipments.daily WHERE isnan(weight_kg)").fetchall() == [(1,)]
    assert lake.sql("SELECT count(*) FROM logistics.shipments.daily WHERE weight_kg > 5").fetchall() == [(1,)]
    assert port.latest().to_arrow().num_rows == 3
