"""`lake.sql` for a restricted principal on real storage: local `file://` warehouses and SeaweedFS S3.

On S3 the caller's connection reads through an fsspec filesystem registered on it; DuckDB's
`allowed_directories` holds for `s3://bucket/prefix/` paths as for local ones, and the filesystem meshlake
registers on a locked connection is read-only, so `COPY … TO` cannot write into a port's directory either.
Only catalogs a test has to itself (a mesh policy is lake-wide; the SeaweedFS REST catalog is shared).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from tests.access.conftest import as_caller
from tests.backends import DAY1, product_descriptor
from tests.integration.conftest import BackendLake, backend_lake

pytestmark = pytest.mark.integration


@pytest.fixture(params=["postgres-local", "sqlite-s3", "postgres-s3"])
def own_catalog(request: pytest.FixtureRequest, tmp_path: Path) -> BackendLake:
    return backend_lake(request, request.param, tmp_path)


def policed(domain: str) -> dict[str, Any]:
    descriptor = product_descriptor(domain)
    descriptor["owner"]["principals"] = ["group:logistics"]
    daily = descriptor["outputs"][0]
    daily["access"] = {
        "readers": ["group:analytics"],
        "row_filters": [{"principals": ["group:analytics"], "where": "weight_kg < 20"}],
    }
    daily["columns"][0]["mask"] = "mask-alphanum"
    descriptor["outputs"].append(
        {"name": "weights", "columns": [{"name": "shipment_id", "type": "string", "required": True}]}
    )
    return descriptor


def test_restricted_reads_and_the_lock_hold_on_real_storage(own_catalog: BackendLake) -> None:
    lake = own_catalog.connect()
    lake.deploy(own_catalog.descriptor_path(policed(own_catalog.domain)))
    daily = f"{own_catalog.domain}.shipments.daily"
    weights = f"{own_catalog.domain}.shipments.weights"
    rows = pa.table(
        {
            "shipment_id": ["ab-1", "cd-2", "ef-3"],
            "shipped_at": pa.array([DAY1] * 3, pa.timestamp("us", tz="UTC")),
            "weight_kg": [10.0, 30.0, 5.0],
        }
    )
    lake.port(daily).write(rows)
    lake.port(weights).write(pa.table({"shipment_id": ["ab-1", "cd-2"]}))
    restricted_file = lake.port(daily).latest().plan.files[0].removeprefix("file://")
    public_file = lake.port(weights).latest().plan.files[0].removeprefix("file://")
    lake.init_access(["group:platform"])

    ann = as_caller(lake, "user:ann", "analytics")
    con = ann.duckdb()
    assert con.sql(f"SELECT shipment_id FROM {daily} ORDER BY 1").fetchall() == [("xx-n",), ("xx-n",)]
    joined = con.sql(f"SELECT count(*) FROM {daily} d JOIN {weights} w ON w.shipment_id = 'ab-1'").fetchall()
    assert joined == [(2,)]
    assert "read_parquet" in con.sql(f"SELECT ml_scan('{weights}')").fetchall()[0][0]  # read in place
    assert con.sql(f"SELECT count(*) FROM read_parquet('{public_file}')").fetchall() == [(2,)]

    with pytest.raises(duckdb.Error, match="disabled by configuration"):
        con.sql(f"SELECT * FROM read_parquet('{restricted_file}')").fetchall()
    warehouse_root = restricted_file[: restricted_file.index("/shipments/daily/")]
    with pytest.raises(duckdb.Error, match="disabled by configuration"):
        con.sql(f"SELECT * FROM glob('{warehouse_root}/**')").fetchall()
    owner = as_caller(lake, "user:olga", "logistics").duckdb()
    assert owner.sql(f"SELECT count(*) FROM {daily}").fetchall() == [(3,)]
    if own_catalog.backend.storage == "s3":  # a reader cannot write into a directory it reads in place
        target = public_file.rsplit("/", 1)[0] + "/written-by-a-reader.csv"
        with pytest.raises(duckdb.Error, match="read-only"):
            con.sql(f"COPY (SELECT 1 AS x) TO '{target}'").fetchall()
        with pytest.raises(duckdb.Error, match="read-only"):
            con.sql(f"COPY (SELECT 1 AS x) TO '{public_file}' (FORMAT parquet)").fetchall()
        assert con.sql(f"SELECT count(*) FROM {weights}").fetchall() == [(2,)]
