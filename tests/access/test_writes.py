"""Owner-only writes: every facade that changes a product refuses a non-owner and changes nothing.

Both sides of the compatibility rule: a lake without a mesh policy enforces nothing (level `declared`, so
every caller keeps working as before), a lake with one enforces owner-only writes on every meshlake path.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import meshlake as ml
from meshlake.access.policy import MeshPolicy
from meshlake.contract.principals import Principal
from meshlake.errors import AccessDeniedError, AuthenticationError, MeshlakeError
from tests.access.conftest import as_caller, run_cli
from tests.conftest import SHIPMENTS, DescriptorWriter, data_files_on_disk, main_snapshot_id
from tests.test_pipelines import PICKING, PICKING_PIPELINE, UPSTREAM, make_product, orders

ADDRESS = "logistics.shipments.daily"


def shipments_descriptor(*owners: str) -> dict[str, Any]:
    data = copy.deepcopy(SHIPMENTS)
    if owners:
        data["owner"]["principals"] = list(owners)
    return data


def rows(*ids: str) -> pa.Table:
    return pa.table(
        {
            "shipment_id": list(ids),
            "shipped_at": pa.array([datetime(2026, 11, 2, 8, tzinfo=UTC)] * len(ids), pa.timestamp("us", "UTC")),
            "weight_kg": [1.5] * len(ids),
            "customer_email": [f"{i}@example.com" for i in ids],
        }
    )


@pytest.fixture
def governed(lake: ml.Lake, write_descriptor: DescriptorWriter) -> ml.Lake:
    """A lake with a mesh policy (admin group:platform) and logistics.shipments owned by group:logistics,
    written twice and tagged v1 by its owner."""
    lake.init_access(["group:platform"])
    owner = as_caller(lake, "user:olga", "logistics")
    owner.deploy(write_descriptor(shipments_descriptor("group:logistics")))
    port = owner.port(ADDRESS)
    port.write(rows("s1"))
    port.tag("v1")
    port.write(rows("s2"))
    return lake


def state(lake: ml.Lake, tmp_path: Path) -> tuple[Any, ...]:
    """Everything a refused write must leave as it was: main, refs, descriptor, data files."""
    port = lake.port(ADDRESS)
    table = port.table()
    return (
        main_snapshot_id(port),
        sorted((name, ref.snapshot_id) for name, ref in table.metadata.refs.items()),
        len(table.metadata.snapshots),
        lake.product("logistics.shipments").descriptor,
        data_files_on_disk(tmp_path),
    )


# -- the declared side: no mesh policy, nothing enforced -----------------------------------------------
def test_lake_without_policy_lets_any_caller_write_as_before(lake: ml.Lake, write_descriptor: DescriptorWriter) -> None:
    eve = as_caller(lake, "user:eve")
    eve.deploy(write_descriptor(shipments_descriptor("group:logistics")))
    port = eve.port(ADDRESS)
    port.write(rows("s1"))
    port.tag("v1")
    port.write(rows("s2"))
    port.rollback(to="v1")
    port.delete("shipment_id = 's1'")
    assert eve.maintain(apply=True).skipped == {}
    assert eve.access_level == "declared"
    assert eve.explain_access("user:eve", ADDRESS).write is False, "the rule is still declared, just not enforced"


# -- the enforced side -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("action", "call"),
    [
        ("write", lambda port: port.write(rows("s9"))),
        ("write", lambda port: port.write(rows("s9"), mode="overwrite")),
        ("stage", lambda port: port.stage(rows("s9"))),
        ("delete", lambda port: port.delete("shipment_id = 's1'")),
        ("tag", lambda port: port.tag("v2")),
        ("rollback", lambda port: port.rollback(to="v1")),
        ("maintain", lambda port: port.maintain(apply=True)),
    ],
)
def test_non_owner_write_is_refused_and_changes_nothing(
    governed: ml.Lake, tmp_path: Path, action: str, call: Any
) -> None:
    before = state(governed, tmp_path)
    eve = as_caller(governed, "user:eve", "analytics")

    with pytest.raises(AccessDeniedError) as denied:
        call(eve.port(ADDRESS))

    assert (denied.value.principal, denied.value.address, denied.value.action) == ("user:eve", ADDRESS, action)
    assert "group:logistics" in denied.value.missing and "admins" in denied.value.missing
    assert isinstance(denied.value, MeshlakeError) and isinstance(denied.value, PermissionError)
    assert isinstance(denied.value, ml.AccessDeniedError)
    assert state(governed, tmp_path) == before


def test_publishing_an_owners_staged_write_as_non_owner_is_refused(governed: ml.Lake, tmp_path: Path) -> None:
    staged = as_caller(governed, "user:olga", "logistics").port(ADDRESS).stage(rows("s3"))
    before = main_snapshot_id(governed.port(ADDRESS))
    with pytest.raises(AccessDeniedError, match="may not publish"):
        as_caller(governed, "user:eve").port(ADDRESS).publish(staged)
    assert main_snapshot_id(governed.port(ADDRESS)) == before
    governed.port(ADDRESS).discard(staged)


def test_dry_run_maintenance_is_not_a_write(governed: ml.Lake) -> None:
    report = as_caller(governed, "user:eve").port(ADDRESS).maintain()
    assert not report.applied and report.ok


@pytest.mark.parametrize(
    ("caller", "groups"),
    [("user:olga", ("logistics",)), ("user:pat", ("platform",)), ("service:loader", ("logistics", "other"))],
)
def test_owners_and_admins_write(governed: ml.Lake, caller: str, groups: tuple[str, ...]) -> None:
    port = as_caller(governed, caller, *groups).port(ADDRESS)
    result = port.write(rows("s7"))
    assert main_snapshot_id(port) == result.snapshot_id
    port.tag(f"t-{caller.split(':')[1]}")
    assert port.rollback(to="v1").snapshot_id is not None


def test_default_owner_is_the_products_own_principal(governed: ml.Lake, write_descriptor: DescriptorWriter) -> None:
    path = write_descriptor(shipments_descriptor() | {"name": "returns"})
    with pytest.raises(AccessDeniedError) as denied:
        as_caller(governed, "user:olga", "logistics").deploy(path)
    assert "product:logistics.returns" in denied.value.missing
    assert not governed.catalog.namespace_exists(("logistics", "returns"))
    as_caller(governed, "product:logistics.returns").deploy(path)
    assert governed.product("logistics.returns").descriptor.owners[0].name == "logistics.returns"


def test_new_product_is_deployed_by_an_owner_it_names(governed: ml.Lake, write_descriptor: DescriptorWriter) -> None:
    path = write_descriptor(shipments_descriptor("user:nina") | {"name": "parcels"})
    with pytest.raises(AccessDeniedError, match=r"may not deploy logistics\.parcels"):
        as_caller(governed, "user:eve").deploy(path)
    assert not governed.catalog.namespace_exists(("logistics", "parcels"))
    as_caller(governed, "user:nina").deploy(path)
    assert governed.product("logistics.parcels").version == "1.4.0"


def test_redeploy_is_decided_by_the_stored_owners(
    governed: ml.Lake, tmp_path: Path, write_descriptor: DescriptorWriter
) -> None:
    before = state(governed, tmp_path)
    takeover = shipments_descriptor("user:eve") | {"version": "1.5.0"}
    with pytest.raises(AccessDeniedError) as denied:
        as_caller(governed, "user:eve").deploy(write_descriptor(takeover))
    assert denied.value.action == "deploy" and denied.value.address == "logistics.shipments"
    assert state(governed, tmp_path) == before

    handover = shipments_descriptor("user:eve") | {"version": "1.5.0"}
    as_caller(governed, "user:olga", "logistics").deploy(write_descriptor(handover))
    as_caller(governed, "user:eve").port(ADDRESS).write(rows("s8"))
    with pytest.raises(AccessDeniedError):
        as_caller(governed, "user:olga", "logistics").port(ADDRESS).write(rows("s9"))


def test_a_product_whose_stored_owners_cannot_be_read_is_repaired_by_an_admin_only(
    governed: ml.Lake, write_descriptor: DescriptorWriter
) -> None:
    from meshlake.contract.registry import PART_KEY

    governed.catalog.update_namespace_properties(("logistics", "shipments"), updates={PART_KEY.format(0): "{broken"})
    repaired = write_descriptor(shipments_descriptor("group:logistics"))
    with pytest.raises(AccessDeniedError) as denied:
        as_caller(governed, "user:olga", "logistics").deploy(repaired)  # an owner by the new descriptor's word
    assert denied.value.action == "deploy"
    as_caller(governed, "user:pat", "platform").deploy(repaired)
    assert governed.product("logistics.shipments").descriptor.owners == (Principal.parse("group:logistics"),)


def test_admin_deploys_any_product(governed: ml.Lake, write_descriptor: DescriptorWriter) -> None:
    as_caller(governed, "user:pat", "platform").deploy(write_descriptor(shipments_descriptor() | {"version": "1.5.0"}))
    assert governed.product("logistics.shipments").version == "1.5.0"


# -- maintenance across the lake ---------------------------------------------------------------------------
def test_lake_wide_maintenance_by_an_owner_skips_what_it_does_not_own(
    governed: ml.Lake, write_descriptor: DescriptorWriter
) -> None:
    as_caller(governed, "user:nina").deploy(write_descriptor(shipments_descriptor("user:nina") | {"name": "parcels"}))
    as_caller(governed, "user:nina").port("logistics.parcels.daily").write(rows("p1"))
    governed.port(ADDRESS).check()  # creates meshlake.system.quality_results

    report = as_caller(governed, "user:olga", "logistics").maintain(apply=True)

    assert [port.address for port in report.ports] == [ADDRESS]
    assert set(report.skipped) == {"logistics.parcels.daily", "meshlake.system.quality_results"}
    assert "user:nina" in report.skipped["logistics.parcels.daily"]
    assert report.to_dict()["skipped"] == report.skipped

    dry = as_caller(governed, "user:olga", "logistics").maintain()
    assert dry.skipped == {} and len(dry.ports) == 3

    admin = as_caller(governed, "user:pat", "platform").maintain(apply=True)
    assert admin.skipped == {} and len(admin.ports) == 3


def test_maintaining_a_named_product_one_does_not_own_is_refused(governed: ml.Lake) -> None:
    eve = as_caller(governed, "user:eve")
    with pytest.raises(AccessDeniedError, match=r"may not maintain logistics\.shipments\.daily"):
        eve.maintain("logistics.shipments", apply=True)
    with pytest.raises(AccessDeniedError, match="only mesh admins"):
        as_caller(governed, "user:olga", "logistics").maintain("meshlake.system", apply=True)


def test_cli_write_and_maintain_as_non_owner_fail_with_the_grant(
    governed: ml.Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "rows.csv"
    data.write_text("shipment_id,shipped_at,weight_kg\ns5,2026-11-02T08:00:00+00:00,1.0\n")
    config = tmp_path / "meshlake.yaml"
    config.write_text(f"home: {governed.settings.home}\n")
    before = state(governed, tmp_path)
    monkeypatch.setenv("MESHLAKE_PRINCIPAL", "user:eve")

    written = run_cli(f"--config={config}", "write", ADDRESS, str(data))
    maintained = run_cli(f"--config={config}", "maintain", "logistics.shipments", "--apply")
    lake_wide = run_cli(f"--config={config}", "maintain", "--apply")

    assert written.exit_code == 1 and "user:eve may not write logistics.shipments.daily" in written.output
    assert maintained.exit_code == 1 and "may not maintain" in maintained.output
    assert lake_wide.exit_code == 0 and f"skipped {ADDRESS}" in lake_wide.output
    assert state(governed, tmp_path) == before


# -- pipeline runs -------------------------------------------------------------------------------------------
PRINCIPAL_PIPELINE = PICKING_PIPELINE.replace(
    'label = context.params.get("label", "run")', "label = str(context.lake.principal)"
)


@pytest.fixture
def picking(lake: ml.Lake, tmp_path: Path) -> Path:
    """sales.orders (owned by group:sales) and logistics.picking (owned by group:logistics) in a governed lake."""
    lake.init_access(["group:platform"])
    sales = as_caller(lake, "user:sam", "sales")
    sales.deploy(
        make_product(tmp_path / "orders", UPSTREAM | {"owner": {"team": "s", "principals": ["group:sales"]}}, "")
    )
    sales.port("sales.orders.placed").write(orders(("o1", 10.0)))
    descriptor = PICKING | {"owner": {"team": "w", "principals": ["group:logistics"]}}
    path = make_product(tmp_path / "picking", descriptor, PRINCIPAL_PIPELINE)
    as_caller(lake, "user:olga", "logistics").deploy(path)
    return path


def test_run_by_non_owner_is_refused_and_writes_nothing(lake: ml.Lake, picking: Path) -> None:
    with pytest.raises(AccessDeniedError) as denied:
        as_caller(lake, "user:eve").run(picking)
    assert (denied.value.action, denied.value.address) == ("run", "logistics.picking")
    assert lake.port("logistics.picking.seen").latest().snapshot_id is None


def test_run_reads_its_inputs_as_the_products_principal(lake: ml.Lake, picking: Path) -> None:
    result = as_caller(lake, "user:olga", "logistics").run(picking)
    assert result.inputs
    seen = lake.port("logistics.picking.seen").latest().to_arrow()
    assert seen.column("label").to_pylist() == ["product:logistics.picking"]


def test_acting_as_a_product_is_for_its_owners(lake: ml.Lake, picking: Path) -> None:
    with pytest.raises(AccessDeniedError, match=r"may not run logistics\.picking"):
        as_caller(lake, "user:eve").as_product("logistics.picking")
    acting = as_caller(lake, "user:olga", "logistics", verified=True).as_product("logistics.picking")
    assert str(acting.principal) == "product:logistics.picking"
    assert acting.identity.verified and acting.identity.source == "pipeline"


def test_require_verified_refuses_an_unverified_owners_write(governed: ml.Lake, tmp_path: Path) -> None:
    strict = MeshPolicy(admins=[Principal.parse("group:platform")], require_verified=True)
    as_caller(governed, "user:pat", "platform").publish_access_policy(strict)
    before = state(governed, tmp_path)

    with pytest.raises(AuthenticationError, match="requires a verified identity") as refused:
        as_caller(governed, "user:olga", "logistics").port(ADDRESS).write(rows("s6"))

    assert refused.value.source == "argument"
    assert state(governed, tmp_path) == before
    written = as_caller(governed, "user:olga", "logistics", verified=True).port(ADDRESS).write(rows("s6"))
    assert main_snapshot_id(governed.port(ADDRESS)) == written.snapshot_id
