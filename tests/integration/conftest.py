"""Fixtures for the integration suite: real SeaweedFS (S3 + Iceberg REST catalog) and PostgreSQL.

A service that is not installed or not reachable skips the tests that need it, with the reason shown by
``pytest -ra``; set ``MESHLAKE_TEST_REQUIRE_SERVICES=1`` (CI) to make that a failure instead. SeaweedFS
starts once per session (per xdist worker) on its own free ports; each session gets its own PostgreSQL
database, dropped at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

import meshlake as ml
from tests.backends import (
    BACKENDS,
    Backend,
    backend_settings,
    product_descriptor,
    product_domain,
    unique_tag,
    write_descriptor,
)
from tests.services import (
    SeaweedFS,
    ServiceUnavailableError,
    check_postgres,
    configured_postgres_url,
    drop_postgres_database,
    drop_stale_postgres_databases,
    fresh_postgres_database,
    start_seaweedfs,
    unique_database_name,
)

REQUIRE_SERVICES_ENV = "MESHLAKE_TEST_REQUIRE_SERVICES"
_HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/integration is an integration test (`-m "not integration"` skips it)."""
    for item in items:
        if _HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.integration)


def service_unavailable(reason: str) -> NoReturn:
    """Skip (default) or fail (when $MESHLAKE_TEST_REQUIRE_SERVICES is set) with ``reason``."""
    if os.environ.get(REQUIRE_SERVICES_ENV, "").strip() not in ("", "0", "false", "no"):
        pytest.fail(f"{reason} (required because {REQUIRE_SERVICES_ENV} is set)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    """One ``weed mini`` for the session: bucket ``lake`` and table bucket ``warehouse``."""
    try:
        server = start_seaweedfs(tmp_path_factory.mktemp("seaweedfs"))
    except ServiceUnavailableError as exc:
        service_unavailable(str(exc))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_warehouse(seaweedfs: SeaweedFS) -> str:
    """A fresh ``s3://<bucket>/wh/<id>`` prefix per test."""
    return f"s3://{seaweedfs.bucket}/wh/{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def postgres_base_url() -> str:
    """URL of the PostgreSQL server's base database (``$MESHLAKE_TEST_POSTGRES_URL`` or the default)."""
    url = configured_postgres_url()
    try:
        check_postgres(url)
    except ServiceUnavailableError as exc:
        service_unavailable(str(exc))
    return url


@pytest.fixture(scope="session")
def postgres_catalog_url(postgres_base_url: str) -> Iterator[str]:
    """A database of its own for this session (dropped at the end), for a pyiceberg SqlCatalog."""
    drop_stale_postgres_databases(postgres_base_url)
    url = fresh_postgres_database(postgres_base_url, unique_database_name())
    try:
        yield url
    finally:
        drop_postgres_database(postgres_base_url, url)


# ------------------------------------------------------------------------------------------------------
# meshlake on every backend


@dataclass
class BackendLake:
    """One backend ready for a test: settings for `ml.connect`, and names of its own."""

    backend: Backend
    settings: dict[str, Any]
    root: Path
    tag: str

    @property
    def name(self) -> str:
        return self.backend.name

    @property
    def domain(self) -> str:
        return product_domain(self.tag)

    @property
    def address(self) -> str:
        return f"{self.domain}.shipments.daily"

    def connect(self) -> ml.Lake:
        return ml.connect(**self.settings)

    def descriptor_path(self, descriptor: dict[str, Any] | None = None, *, folder: str = "product") -> Path:
        return write_descriptor(self.root / folder, descriptor or product_descriptor(self.domain))

    def deploy(self) -> ml.Lake:
        lake = self.connect()
        lake.deploy(self.descriptor_path())
        return lake


def backend_lake(request: pytest.FixtureRequest, name: str, root: Path) -> BackendLake:
    """Settings for backend `name`; skips (or fails, see REQUIRE_SERVICES_ENV) when a service is missing."""
    backend = BACKENDS[name]
    seaweed = request.getfixturevalue("seaweedfs") if backend.needs_seaweedfs else None
    postgres = request.getfixturevalue("postgres_catalog_url") if backend.needs_postgres else None
    tag = unique_tag()
    settings = backend_settings(name, root=root, tag=tag, seaweedfs=seaweed, postgres_url=postgres)
    return BackendLake(backend, settings, root, tag)


@pytest.fixture(params=list(BACKENDS))
def any_backend(request: pytest.FixtureRequest, tmp_path: Path) -> BackendLake:
    """Each of the five backends in turn: SQLite or PostgreSQL catalog on local disk or S3, REST + S3."""
    return backend_lake(request, request.param, tmp_path)


CATALOG_BACKENDS = ("sqlite-local", "postgres-local", "rest-s3")


@pytest.fixture(params=CATALOG_BACKENDS)
def any_catalog(request: pytest.FixtureRequest, tmp_path: Path) -> BackendLake:
    """Each catalog in turn (SQLite, PostgreSQL, REST), for tests about commits rather than storage."""
    return backend_lake(request, request.param, tmp_path)
