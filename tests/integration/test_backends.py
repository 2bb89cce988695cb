"""meshlake behaves the same on every backend: SQLite or PostgreSQL catalogs on local disk or S3, and an
Iceberg REST catalog on S3 (SeaweedFS). Each test runs once per backend; a backend whose service is
missing is skipped with the reason (`pytest -ra`), or fails under MESHLAKE_TEST_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from meshlake.contract.address import location_under
from meshlake.errors import QualityGateError
from meshlake.pipelines.run import Inputs
from tests.backends import DAY2, DAY2_WHERE, product_descriptor, shipments
from tests.integration.conftest import BackendLake

pytestmark = pytest.mark.integration


def ids(table: pa.Table) -> list[str]:
    return sorted(table["shipment_id"].to_pylist())


def ids_of(*batches: pa.Table) -> list[str]:
    return sorted(i for batch in batches for i in batch["shipment_id"].to_pylist())


def test_deploy_creates_the_product_once_and_a_redeploy_changes_nothing(any_backend: BackendLake) -> None:
    lake = any_backend.connect()
    path = any_backend.descriptor_path()

    lake.deploy(path)
    assert lake.last_deploy is not None
    assert lake.last_deploy.created == ["daily"]
    lake.deploy(path)
    assert not lake.last_deploy.changed
    assert lake.last_deploy.unchanged == ["daily"]
    assert f"{any_backend.domain}.shipments" in [str(p.name) for p in lake.products()]

    location = lake.port(any_backend.address).table().location()
    if any_backend.backend.catalog == "rest":  # the REST catalog places tables in its table bucket
        assert location.startswith(f"s3://{any_backend.settings['warehouse']}/")
    else:
        assert location == location_under(lake.warehouse, any_backend.domain, "shipments", "daily")

    evolved = product_descriptor(any_backend.domain)
    evolved["version"] = "1.1.0"
    evolved["outputs"][0]["columns"].append({"name": "note", "type": "string"})
    lake.deploy(any_backend.descriptor_path(evolved, folder="v1_1"))
    assert list(lake.last_deploy.evolved) == ["daily"]
    assert "note" in lake.port(any_backend.address).table().schema().column_names


def test_a_deploy_that_lost_the_race_to_create_a_port_still_ends_with_its_descriptor(any_backend: BackendLake) -> None:
    """Two deploys both found no table and both create it. SQL catalogs raise for the second create; the
    REST catalog returns the first table, ignoring the schema given. Either way the loser converges."""
    from meshlake.contract.deploy import DeployReport, _apply_port, _PortPlan
    from meshlake.contract.descriptor import load_descriptor
    from meshlake.contract.schema import port_partition_spec, port_schema

    lake = any_backend.deploy()  # the winner: version 1.0.0
    newer = product_descriptor(any_backend.domain)
    newer["version"] = "1.1.0"
    newer["outputs"][0]["columns"].append({"name": "note", "type": "string"})
    descriptor = load_descriptor(any_backend.descriptor_path(newer, folder="loser"))
    port = descriptor.outputs[0]
    schema = port_schema(port)
    stale = _PortPlan(None, schema, port_partition_spec(port, schema), None)  # what the loser had planned
    report = DeployReport(str(descriptor.product_name), descriptor.version)

    _apply_port(lake.catalog, descriptor, port, stale, lake.location_root, report)

    assert report.evolved == {"daily": ["add column note string"]}
    assert "note" in lake.port(any_backend.address).table().schema().column_names


def test_every_write_mode_gives_the_same_rows_on_every_backend(any_backend: BackendLake) -> None:
    lake = any_backend.deploy()
    port = lake.port(any_backend.address)

    port.write(shipments("a", 1))
    port.write(shipments("b", 2, day=DAY2))
    assert ids(port.to_arrow()) == ids_of(shipments("a", 1), shipments("b", 2))

    overwrite = port.write(shipments("c", 3), mode="overwrite")
    assert overwrite.rows_deleted == 6
    port.write(shipments("d", 4, day=DAY2))
    replace = port.write(shipments("e", 5, size=2, day=DAY2), mode="replace", where=DAY2_WHERE)
    assert replace.rows_deleted == 3
    assert ids(port.to_arrow()) == ids_of(shipments("c", 3), shipments("e", 5, size=2))

    changed = shipments("c", 3, size=1, weight=7.0)
    upsert = port.write(pa.concat_tables([changed, shipments("f", 6, size=1)]), mode="upsert")
    assert (upsert.rows_updated, upsert.rows_inserted) == (1, 1)
    deleted = port.delete("shipment_id = 'c-3-1'")
    assert deleted.rows_deleted == 1

    final = port.to_arrow()
    assert ids(final) == ["c-3-0", "c-3-2", "e-5-0", "e-5-1", "f-6-0"]
    weights = dict(zip(final["shipment_id"].to_pylist(), final["weight_kg"].to_pylist(), strict=True))
    assert weights["c-3-0"] == 7.0
    assert [entry.mode for entry in port.history()] == [
        "append",
        "append",
        "overwrite",
        "append",
        "replace",
        "upsert",
        "delete",
    ]


def test_the_gate_publishes_good_data_and_quarantines_bad_data(any_backend: BackendLake) -> None:
    lake = any_backend.deploy()
    port = lake.port(any_backend.address)
    good = port.write(shipments("ok", 1))
    assert good.quality is not None
    assert good.quality.passed

    with pytest.raises(QualityGateError) as caught:
        port.write(shipments("bad", 2, weight=99.0))

    assert caught.value.report.passed is False
    assert port.latest().snapshot_id == good.snapshot_id  # main did not move
    assert ids(port.to_arrow()) == ids_of(shipments("ok", 1))
    [kept] = port.quarantine()
    assert kept.rows_added == 3
    assert kept.report is not None
    assert not kept.report.passed
    assert ids(port.at(kept.branch).to_arrow()) == ids_of(shipments("ok", 1), shipments("bad", 2))
    recorded = lake.sql(
        "SELECT count(*) FILTER (WHERE published), count(*) FILTER (WHERE NOT published) "
        f"FROM meshlake.system.quality_results WHERE address = '{any_backend.address}' AND NOT success"
    ).fetchall()
    assert recorded == [(0, 1)]


def test_sql_and_python_regex_expectations_read_the_staged_files_in_their_sandbox(any_backend: BackendLake) -> None:
    """The SQL sandbox may read exactly the staged files, wherever they are (local paths, S3 URLs)."""
    descriptor = product_descriptor(any_backend.domain)
    descriptor["outputs"][0]["expectations"] = [
        {"expect_column_values_to_match_regex": {"column": "shipment_id", "regex": r"^(?!bad)\w"}},
        {"unexpected_rows_expectation": {"unexpected_rows_query": "SELECT * FROM {batch} WHERE weight_kg > 40"}},
    ]
    lake = any_backend.connect()
    lake.deploy(any_backend.descriptor_path(descriptor))
    port = lake.port(any_backend.address)
    good = port.write(shipments("ok", 1, weight=1.0))
    assert good.quality is not None
    assert [r.status for r in good.quality.results] == ["passed", "passed"]

    with pytest.raises(QualityGateError) as caught:
        port.write(shipments("bad", 2, weight=45.0))

    regex, sql = caught.value.report.results
    assert (regex.status, regex.unexpected_count) == ("failed", 3)
    assert (sql.status, sql.observed_value) == ("failed", 3)
    assert port.latest().snapshot_id == good.snapshot_id


def test_the_sql_sandbox_reads_no_other_file_even_past_the_query_check(
    any_backend: BackendLake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fault injection: the query check lets everything through; the sandbox alone refuses the table's own
    metadata file (not part of the batch), on local disk and on S3 alike."""
    from meshlake.contract import expectations
    from meshlake.contract.expectation_sql import BATCH
    from meshlake.quality import compile as compile_module

    lake = any_backend.deploy()
    port = lake.port(any_backend.address)
    port.write(shipments("ok", 1, weight=1.0))
    monkeypatch.setattr(expectations, "_check_query", lambda query: None)
    monkeypatch.setattr(compile_module, "render_query", lambda query: query.format(batch=BATCH))
    metadata = port.table().metadata_location
    query = f"SELECT content AS shipment_id FROM read_text('{metadata}'), {{batch}}"
    port.contract.expectations.append({"unexpected_rows_expectation": {"unexpected_rows_query": query}})
    report = port.check()
    result = report.results[-1]
    assert result.status == "errored"
    assert "Permission Error" in (result.error or "")
    assert '"format-version"' not in str(report.to_dict())


def test_time_travel_by_snapshot_id_tag_and_time(any_backend: BackendLake) -> None:
    lake = any_backend.deploy()
    port = lake.port(any_backend.address)
    first = port.write(shipments("a", 1))
    port.tag("v1")
    second = port.write(shipments("b", 2))
    assert first.snapshot_id is not None
    first_at = port.at(first.snapshot_id).committed_at
    assert first_at is not None

    assert ids(port.at(first.snapshot_id).to_arrow()) == ids_of(shipments("a", 1))
    assert ids(port.at("v1").to_arrow()) == ids_of(shipments("a", 1))
    assert port.as_of(first_at).snapshot_id == first.snapshot_id
    assert lake.read(f"{any_backend.address}@v1").snapshot_id == first.snapshot_id
    assert port.latest().snapshot_id == second.snapshot_id
    assert ids(port.latest().to_arrow()) == ids_of(shipments("a", 1), shipments("b", 2))


def test_duckdb_reads_every_port_in_place_at_any_version(any_backend: BackendLake) -> None:
    lake = any_backend.deploy()
    port = lake.port(any_backend.address)
    first = port.write(shipments("a", 1))
    port.tag("v1")
    port.write(shipments("b", 2, size=4))
    address = any_backend.address

    con = lake.duckdb()
    assert con.sql(f"SELECT count(*) FROM {address}").fetchall() == [(7,)]
    files = port.latest().plan.files
    if any_backend.backend.storage == "s3":  # read where they are, through the s3fs registered on con
        assert all(path.startswith("s3://") for path in files)
        assert "s3" in con.list_filesystems()
    assert lake.sql(f"SELECT count(*) FROM {address} AT (VERSION => {first.snapshot_id})").fetchall() == [(3,)]
    assert lake.sql(f"SELECT count(*) FROM {address} AT (VERSION => 'v1')").fetchall() == [(3,)]
    first_at = port.at("v1").committed_at
    assert lake.duckdb(as_of=first_at).sql(f"SELECT count(*) FROM {address}").fetchall() == [(3,)]

    inputs = Inputs({"daily": port.at("v1")}).duckdb()  # what a pipeline reads
    try:
        assert inputs.sql("SELECT count(*) FROM daily").fetchall() == [(3,)]
    finally:
        inputs.close()


def test_polars_reads_the_same_rows_as_duckdb(any_backend: BackendLake) -> None:
    import polars as pl

    lake = any_backend.deploy()
    port = lake.port(any_backend.address)
    port.write(shipments("a", 1, size=5))
    port.write(shipments("b", 45, size=5))  # weight 5.0

    frame = port.latest().to_polars().filter(pl.col("weight_kg") > 2).select("shipment_id").collect()
    assert sorted(frame["shipment_id"].to_list()) == ids_of(shipments("b", 45, size=5))
    assert port.to_polars().select(pl.len()).collect().item() == port.to_arrow().num_rows == 10
