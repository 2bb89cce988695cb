"""The mesh policy and owner-only writes on real catalogs: PostgreSQL keeps a namespace property in VARCHAR(1000).

Only catalogs a test has to itself: the SeaweedFS REST catalog is shared by every test of a run, and a mesh
policy is lake-wide, so publishing one there would switch every other test's lake to enforcement.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from meshlake.access.policy import MeshPolicy, load_policy, policy_versions
from meshlake.contract.principals import Principal
from meshlake.errors import AccessDeniedError
from tests.access.conftest import as_caller
from tests.backends import product_descriptor, shipments
from tests.integration.conftest import BackendLake, backend_lake

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite-local", "postgres-local"])
def own_catalog(request: pytest.FixtureRequest, tmp_path: Path) -> BackendLake:
    return backend_lake(request, request.param, tmp_path)


def test_policy_is_stored_in_chunks_and_enforces_owner_only_writes(own_catalog: BackendLake) -> None:
    lake = own_catalog.connect()
    lake.init_access(["group:platform"])
    admins = [Principal.parse(f"user:admin_{i:03d}@example.com") for i in range(80)] + [
        Principal.parse("group:platform")
    ]
    published = as_caller(lake, "user:pat", "platform").publish_access_policy(MeshPolicy(admins=admins))
    assert load_policy(own_catalog.connect().catalog) == published
    assert policy_versions(lake.catalog) == [1, 2]

    descriptor = product_descriptor(own_catalog.domain)
    descriptor["owner"]["principals"] = ["group:logistics"]
    owner = as_caller(lake, "user:olga", "logistics")
    owner.deploy(own_catalog.descriptor_path(descriptor))
    written = owner.port(own_catalog.address).write(shipments("olga", 1))

    with pytest.raises(AccessDeniedError):
        as_caller(lake, "user:eve").port(own_catalog.address).write(shipments("eve", 1))
    assert lake.port(own_catalog.address).latest().snapshot_id == written.snapshot_id
