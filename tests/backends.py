"""The five lake backends meshlake runs on, as keyword settings for ``ml.connect(**settings)``.

    settings = backend_settings("postgres-s3", root=tmp, tag="t1", seaweedfs=sw, postgres_url=url)
    lake = ml.connect(**settings)

Settings are plain values, so a worker process receives them as they are (``multiprocessing`` spawn).
Used by the integration tests and by the benchmarks (which start their own services); no pytest here.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from tests.services import SeaweedFS, ServiceUnavailableError


@dataclass(frozen=True)
class Backend:
    name: str
    catalog: str  # sqlite | postgres | rest
    storage: str  # local | s3

    @property
    def needs_seaweedfs(self) -> bool:
        return self.storage == "s3"

    @property
    def needs_postgres(self) -> bool:
        return self.catalog == "postgres"


BACKENDS = {
    b.name: b
    for b in (
        Backend("sqlite-local", "sqlite", "local"),
        Backend("postgres-local", "postgres", "local"),
        Backend("sqlite-s3", "sqlite", "s3"),
        Backend("postgres-s3", "postgres", "s3"),
        Backend("rest-s3", "rest", "s3"),
    )
}
"""Every backend, by name: catalog (SQLite, PostgreSQL, Iceberg REST) + warehouse (local disk, S3)."""


def unique_tag() -> str:
    return uuid.uuid4().hex[:10]


def backend_settings(
    name: str,
    *,
    root: Path,
    tag: str,
    seaweedfs: SeaweedFS | None = None,
    postgres_url: str | None = None,
) -> dict[str, Any]:
    """Settings for backend `name`, with every file under `root` and every name unique to `tag`.

    SQLite + local is the embedded default (only `home` is set). PostgreSQL catalogs get a catalog name of
    their own (a SqlCatalog sees only its own rows), S3 warehouses a prefix of their own. SeaweedFS's REST
    catalog serves one shared table bucket, so tests on it use product names of their own (`product_domain`).
    """
    backend = BACKENDS[name]
    settings: dict[str, Any] = {"home": str(root / ".meshlake")}
    if backend.needs_seaweedfs:
        if seaweedfs is None:
            raise ServiceUnavailableError(f"backend {name} needs SeaweedFS")
        settings |= {
            "s3_endpoint": seaweedfs.s3_endpoint,
            "s3_access_key_id": seaweedfs.access_key,
            "s3_secret_access_key": seaweedfs.secret_key,
            "s3_region": seaweedfs.region,
        }
    if backend.needs_postgres:
        if postgres_url is None:
            raise ServiceUnavailableError(f"backend {name} needs PostgreSQL")
        settings |= {"catalog_uri": postgres_url, "catalog_name": f"meshlake_{tag}"}
    elif backend.catalog == "sqlite" and backend.storage == "s3":
        settings["catalog_uri"] = f"sqlite:///{root / 'catalog.db'}"
    if backend.catalog == "rest":
        assert seaweedfs is not None
        settings |= {
            "catalog": "rest",
            "catalog_uri": seaweedfs.rest_uri,
            "warehouse": seaweedfs.table_bucket,
            "rest_credential": f"{seaweedfs.access_key}:{seaweedfs.secret_key}",
        }
    elif backend.storage == "s3":
        assert seaweedfs is not None
        settings["warehouse"] = f"s3://{seaweedfs.bucket}/{tag}"
    elif backend.catalog != "sqlite":
        settings["warehouse"] = (root / "warehouse").as_uri()
    return settings


# ------------------------------------------------------------------------------------------------------
# the product every backend test deploys

DAY1 = datetime(2026, 11, 1, tzinfo=UTC)
DAY2 = datetime(2026, 11, 2, tzinfo=UTC)
DAY2_WHERE = "shipped_at >= '2026-11-02T00:00:00+00:00'"
MAX_WEIGHT = 50.0

PRODUCT: dict[str, Any] = {
    "apiVersion": "meshlake/v1",
    "domain": "logistics",
    "name": "shipments",
    "version": "1.0.0",
    "owner": {"team": "logistics_data"},
    "description": "Parcels, one row per shipment.",
    "outputs": [
        {
            "name": "daily",
            "columns": [
                {"name": "shipment_id", "type": "string", "required": True},
                {"name": "shipped_at", "type": "timestamptz", "required": True},
                {"name": "weight_kg", "type": "double"},
            ],
            "primary_key": ["shipment_id"],
            "partition_by": ["day(shipped_at)"],
            "expectations": [
                {"expect_column_values_to_not_be_null": {"column": "shipment_id"}},
                {"expect_column_values_to_be_between": {"column": "weight_kg", "min_value": 0, "max_value": 50}},
            ],
        }
    ],
}


def product_descriptor(domain: str = "logistics") -> dict[str, Any]:
    descriptor = copy.deepcopy(PRODUCT)
    descriptor["domain"] = domain
    return descriptor


def product_domain(tag: str) -> str:
    return f"logistics_{tag}"


def write_descriptor(folder: Path, descriptor: dict[str, Any]) -> Path:
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "dataproduct.yaml"
    path.write_text(yaml.safe_dump(descriptor, sort_keys=False), encoding="utf-8")
    return path


def shipments(writer: str, seq: int, size: int = 3, *, day: datetime = DAY1, weight: float | None = None) -> pa.Table:
    """`size` rows with ids `<writer>-<seq>-<i>`: who wrote them and in which write."""
    ids = [f"{writer}-{seq}-{i}" for i in range(size)]
    return pa.table(
        {
            "shipment_id": ids,
            "shipped_at": pa.array([day] * size, pa.timestamp("us", tz="UTC")),
            "weight_kg": [float(seq % 40) if weight is None else weight] * size,
        }
    )
