"""Storage policies from grants: who reaches which prefix, rendered for AWS IAM and SeaweedFS, and refused input.

The layouts here are built in code (the catalog's part, `load_layout`, and the policies applied to a real
object store are in tests/integration/test_storage_policy.py).
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest

import meshlake as ml
from meshlake.access.identity import Identity
from meshlake.access.policy import MeshPolicy
from meshlake.access.storage_credentials import parse_credentials, read_credentials
from meshlake.access.storage_formats import aws_iam_document, render, seaweedfs_actions, seaweedfs_identities
from meshlake.access.storage_layout import Layout, PortFiles, ProductFiles, StoragePrefix, SystemFiles
from meshlake.access.storage_policy import (
    PolicySet,
    lake_policy_set,
    named_principals,
    policy_set,
    principal_policy,
    storage_rights,
)
from meshlake.access.storage_verify import PrincipalCheck, Probe, record_verified, storage_verified
from meshlake.contract.descriptor import Descriptor, parse_descriptor
from meshlake.contract.principals import Principal
from meshlake.errors import ConfigError, InvalidPrincipalError
from tests.access.conftest import run_cli
from tests.conftest import DescriptorWriter

ROOT = StoragePrefix.of("s3://lake/wh")
POLICY = MeshPolicy(admins=[Principal.parse("group:platform")])

ORDERS = parse_descriptor(
    """\
apiVersion: meshlake/v1
domain: sales
name: orders
version: 1.0.0
owner: {team: sales, principals: [group:sales]}
outputs:
  - name: daily
    access: {readers: [user:alice, group:analytics]}
    columns:
      - {name: order_id, type: long, required: true}
  - name: customers
    access:
      readers: [user:alice, user:carol, group:analytics]
      unmasked: [user:carol]
      row_filters: [{principals: [group:analytics], where: "region = 'eu'"}]
    columns:
      - {name: region, type: string}
      - {name: email, type: string, classification: pii}
  - name: daily_eu
    columns:
      - {name: order_id, type: long}
"""
)
PEOPLE = parse_descriptor(
    """\
apiVersion: meshlake/v1
domain: hr
name: people
version: 1.0.0
owner: {team: hr}
outputs:
  - name: staff
    access: {readers: [user:bob]}
    columns:
      - {name: person_id, type: long}
"""
)


def layout(*descriptors: Descriptor, root: StoragePrefix | None = ROOT) -> Layout:
    products = []
    for descriptor in descriptors:
        prefix = root.child(descriptor.domain).child(descriptor.name) if root else None
        ports = tuple(
            PortFiles(
                descriptor.product_name.port(port.name),
                descriptor,
                (StoragePrefix.of(f"s3://lake/wh/{descriptor.domain}/{descriptor.name}/{port.name}"),),
            )
            for port in descriptor.outputs
        )
        products.append(ProductFiles(descriptor.product_name, descriptor, prefix, ports))
    results = StoragePrefix.of("s3://lake/wh/meshlake/system/quality_results")
    system = (SystemFiles(("meshlake", "system", "quality_results"), (results,)),)
    system_prefix = root.child("meshlake").child("system") if root else None
    return Layout(root, tuple(products), system_prefix, system)


def who(principal: str, *groups: str) -> Identity:
    return Identity(Principal.parse(principal), frozenset(Principal.parse(f"group:{g}") for g in groups))


def grants_of(
    principal: str, *groups: str, descriptors: tuple[Descriptor, ...] = (ORDERS, PEOPLE)
) -> set[tuple[str, str]]:
    rights = storage_rights(who(principal, *groups), descriptors, POLICY)
    return {(str(g.prefix), g.access) for g in principal_policy(rights, layout(*descriptors)).grants}


RECORD = ("s3://lake/wh/meshlake/system/", "record")
DAILY_EU = ("s3://lake/wh/sales/orders/daily_eu/", "read")
"""A port that names no readers: the mesh's default readers (`*`) read it."""


def test_readers_read_only_the_ports_they_read_unrestricted() -> None:
    assert grants_of("user:alice") == {("s3://lake/wh/sales/orders/daily/", "read"), DAILY_EU, RECORD}
    assert grants_of("user:carol") == {("s3://lake/wh/sales/orders/customers/", "read"), DAILY_EU, RECORD}
    assert grants_of("user:bob") == {("s3://lake/wh/hr/people/staff/", "read"), DAILY_EU, RECORD}


def test_a_reader_that_masks_or_row_filters_apply_to_gets_no_storage_read_and_is_told_why() -> None:
    rights = storage_rights(who("user:ann", "analytics"), (ORDERS,), POLICY)
    assert rights.reads == ("sales.orders.daily", "sales.orders.daily_eu")
    ((address, why),) = rights.withheld
    assert address == "sales.orders.customers"
    assert "email (mask-to-default)" in why and "region = 'eu'" in why and "through meshlake only" in why
    policy = principal_policy(rights, layout(ORDERS))
    assert not policy.allows("s3://lake/wh/sales/orders/customers/data/x.parquet", "get")
    assert any("sales.orders.customers" in note for note in policy.notes)


def test_mesh_default_readers_grant_every_principal_a_port_without_readers() -> None:
    assert DAILY_EU in grants_of("user:bob")
    closed = POLICY.model_copy(update={"default_readers": []})
    rights = storage_rights(who("user:bob"), (ORDERS, PEOPLE), closed)
    assert rights.reads == ("hr.people.staff",)


def test_owners_write_their_product_prefix_and_admins_the_whole_warehouse() -> None:
    assert grants_of("user:sam", "sales") == {("s3://lake/wh/sales/orders/", "write"), RECORD}
    assert grants_of("product:hr.people") == {("s3://lake/wh/hr/people/", "write"), RECORD, DAILY_EU}
    assert grants_of("user:root", "platform") == {("s3://lake/wh/", "write")}


def test_a_port_prefix_never_covers_a_sibling_with_a_longer_name() -> None:
    closed = POLICY.model_copy(update={"default_readers": []})  # daily_eu: owners only
    rights = storage_rights(who("user:alice"), (ORDERS,), closed)
    policy = principal_policy(rights, layout(ORDERS))
    assert policy.allows("s3://lake/wh/sales/orders/daily/metadata/v1.metadata.json", "get")
    assert not policy.allows("s3://lake/wh/sales/orders/daily_eu/data/x.parquet", "get")
    assert not policy.allows("s3://lake/wh/sales/orders/daily/data/x.parquet", "put")
    assert policy.allows("s3://lake/wh/sales/orders/daily/", "list")
    assert not policy.allows("s3://lake/wh/sales/orders/", "list")


def test_records_allow_appending_and_reading_metadata_but_never_rows_or_manifests() -> None:
    policy = principal_policy(storage_rights(who("user:zoe"), (), POLICY), layout())
    base = "s3://lake/wh/meshlake/system/quality_results"
    assert policy.allows(f"{base}/metadata/00003-ab.metadata.json", "get")
    assert policy.allows(f"{base}/metadata/snap-1-0-ab.avro", "get")
    assert not policy.allows(f"{base}/metadata/ab-m0.avro", "get")
    assert not policy.allows(f"{base}/data/ab.parquet", "get")
    assert policy.allows(f"{base}/data/ab.parquet", "put")
    assert not policy.allows(f"{base}/", "list")


def test_without_a_warehouse_root_grants_name_each_table_location() -> None:
    rights = storage_rights(who("user:sam", "sales"), (ORDERS,), POLICY)
    policy = principal_policy(rights, layout(ORDERS, root=None))
    assert {str(g.prefix) for g in policy.grants if g.access == "write"} == {
        "s3://lake/wh/sales/orders/daily/",
        "s3://lake/wh/sales/orders/customers/",
        "s3://lake/wh/sales/orders/daily_eu/",
    }
    assert any("the catalog places its tables" in note for note in policy.notes)
    assert ("s3://lake/wh/meshlake/system/quality_results/", "record") in {
        (str(g.prefix), g.access) for g in policy.grants
    }


def test_the_fingerprint_changes_with_what_a_principal_reaches_and_only_then() -> None:
    alice = who("user:alice")
    before = storage_rights(alice, (ORDERS, PEOPLE), POLICY).fingerprint(ROOT)
    assert storage_rights(alice, (ORDERS, PEOPLE), POLICY).fingerprint(ROOT) == before
    renamed = ORDERS.model_copy(update={"version": "1.0.1"})
    assert storage_rights(alice, (renamed, PEOPLE), POLICY).fingerprint(ROOT) == before
    closed = POLICY.model_copy(update={"default_readers": []})
    assert storage_rights(alice, (ORDERS, PEOPLE), closed).fingerprint(ROOT) != before
    assert storage_rights(who("user:alice", "sales"), (ORDERS, PEOPLE), POLICY).fingerprint(ROOT) != before
    assert storage_rights(alice, (ORDERS, PEOPLE), POLICY).fingerprint(StoragePrefix.of("s3://lake/other")) != before


def test_named_principals_are_the_key_holders_the_grants_name() -> None:
    assert {str(p) for p in named_principals((ORDERS, PEOPLE), POLICY)} == {
        "user:alice",
        "user:carol",
        "user:bob",
        "product:hr.people",
    }


def _set(*principals: Identity) -> PolicySet:
    lay = layout(ORDERS, PEOPLE)
    policies = tuple(principal_policy(storage_rights(i, lay.descriptors, POLICY), lay) for i in principals)
    return PolicySet(lay, policies)


def test_aws_iam_documents_grant_get_list_with_prefix_conditions_and_put_delete_to_owners() -> None:
    alice = aws_iam_document(_set(who("user:alice")).policies[0])
    assert alice["Version"] == "2012-10-17"
    statements = {s["Sid"]: s for s in alice["Statement"]}
    assert set(statements) == {"MeshlakeRead", "MeshlakeList0", "MeshlakePut"}
    assert "arn:aws:s3:::lake/wh/sales/orders/daily/*" in statements["MeshlakeRead"]["Resource"]
    assert statements["MeshlakeList0"]["Resource"] == ["arn:aws:s3:::lake"]
    assert statements["MeshlakeList0"]["Condition"]["StringLike"]["s3:prefix"] == [
        "wh/meshlake/system/*metadata/*.metadata.json/",
        "wh/sales/orders/daily/*",
        "wh/sales/orders/daily_eu/*",
    ]
    assert statements["MeshlakePut"]["Resource"] == ["arn:aws:s3:::lake/wh/meshlake/system/*"]  # records only

    owner = aws_iam_document(_set(who("user:sam", "sales")).policies[0])
    owner_statements = {s["Sid"]: s for s in owner["Statement"]}
    assert owner_statements["MeshlakeDelete"]["Resource"] == ["arn:aws:s3:::lake/wh/sales/orders/*"]
    assert "arn:aws:s3:::lake/wh/sales/orders/*" in owner_statements["MeshlakePut"]["Resource"]


def test_seaweedfs_actions_use_wildcard_prefixes_that_match_what_the_policy_allows() -> None:
    policy = _set(who("user:alice")).policies[0]
    actions = seaweedfs_actions(policy)
    assert "Read:lake/wh/sales/orders/daily/*" in actions and "List:lake/wh/sales/orders/daily/*" in actions
    assert not any(action.startswith("Write:lake/wh/sales") for action in actions)
    for uri in (
        "s3://lake/wh/sales/orders/daily/data/a.parquet",
        "s3://lake/wh/sales/orders/daily_eu/data/a.parquet",
        "s3://lake/wh/meshlake/system/quality_results/metadata/00001-a.metadata.json",
        "s3://lake/wh/meshlake/system/quality_results/metadata/a-m0.avro",
        "s3://lake/wh/meshlake/system/quality_results/data/a.parquet",
    ):
        target = uri.removeprefix("s3://")
        matched = any(fnmatchcase(f"Read:{target}", action) for action in actions if "*" in action)
        assert matched == policy.allows(uri, "get"), uri  # SeaweedFS's wildcard matching: `*` spans `/`


def test_seaweedfs_identities_carry_the_given_keys_or_unusable_placeholders(tmp_path: Path) -> None:
    found = _set(who("user:alice"), who("user:bob"))
    keys = parse_credentials("principals:\n  user:alice: {access_key: AKALICE, secret_key: s3cr3t}\n")
    with_keys = seaweedfs_identities(PolicySet(found.layout, found.policies, keys))
    by_name = {i["name"]: i for i in with_keys["identities"]}
    assert by_name["user:alice"]["credentials"] == [{"accessKey": "AKALICE", "secretKey": "s3cr3t"}]
    bob = by_name["user:bob"]["credentials"][0]
    assert bob["accessKey"] == "REPLACE-ME-access-key-of-user:bob"
    again = {i["name"]: i for i in seaweedfs_identities(found)["identities"]}["user:bob"]["credentials"][0]
    assert len(bob["secretKey"]) >= 30 and again["secretKey"] != bob["secretKey"], "a fresh random secret each time"


def test_render_gives_one_iam_document_for_a_single_principal_and_a_mapping_otherwise() -> None:
    two = _set(who("user:alice"), who("user:bob"))
    assert set(render(two, "aws-iam")) == {"user:alice", "user:bob"}
    one = _set(who("user:alice"))
    assert render(one, "aws-iam", single=True)["Version"] == "2012-10-17"
    assert set(render(one, "seaweedfs")) == {"identities"}


def test_credentials_files_are_validated_without_echoing_secrets(tmp_path: Path) -> None:
    good = parse_credentials(
        "principals:\n  user:alice: {access_key: AK1, secret_key: SK1, groups: [analytics, group:sales]}\n"
    )
    assert good[Principal.parse("user:alice")].groups == {
        Principal.parse("group:analytics"),
        Principal.parse("group:sales"),
    }
    bad = {
        "principals:\n  group:analytics: {access_key: AK1, secret_key: TOPSECRET}\n": "a group holds no keys",
        "principals:\n  alice: {access_key: AK1, secret_key: TOPSECRET}\n": "not a principal",
        "principals:\n  user:alice: {access_key: AK1}\n": "secret_key must be",
        "principals:\n  user:alice: {access_key: AK1, secret_key: TOPSECRET, token: x}\n": "unknown field 'token'",
        "principals:\n  user:alice: {access_key: AK1, secret_key: TOPSECRET, groups: [user:bob]}\n": "not a group",
        "user:alice: {access_key: AK1, secret_key: TOPSECRET}\n": "a credentials file is `principals:`",
    }
    for text, problem in bad.items():
        with pytest.raises(ConfigError) as caught:
            parse_credentials(text, file="keys.yaml")
        assert problem in str(caught.value) and "keys.yaml:" in str(caught.value)
        assert "TOPSECRET" not in str(caught.value)
    with pytest.raises(ConfigError, match="cannot read the credentials file"):
        read_credentials(tmp_path / "missing.yaml")


def test_locations_outside_an_object_store_or_with_wildcards_are_refused() -> None:
    with pytest.raises(ConfigError, match="not in an object store"):
        StoragePrefix.of("file:///tmp/wh")
    with pytest.raises(ConfigError, match="wildcards"):
        StoragePrefix.of("s3://lake/wh/odd*name")
    assert str(StoragePrefix.of("s3://lake")) == "s3://lake/"


def test_no_storage_policy_without_a_mesh_policy_nor_for_a_group(
    lake: ml.Lake, write_descriptor: DescriptorWriter
) -> None:
    with pytest.raises(ConfigError, match="no mesh policy"):
        policy_set(layout(ORDERS), None)
    with pytest.raises(ConfigError, match="no mesh policy"):
        lake_policy_set(lake.catalog, lake.location_root, None)
    with pytest.raises(InvalidPrincipalError):
        lake_policy_set(lake.catalog, "s3://lake/wh", POLICY, principal="group:sales")
    with pytest.raises(ConfigError, match="groups are given for one principal"):
        lake_policy_set(lake.catalog, "s3://lake/wh", POLICY, groups=["sales"])


def test_storage_policy_and_verify_refuse_a_lake_on_local_disk(lake: ml.Lake, tmp_path: Path) -> None:
    lake.init_access(["user:root"])
    config = tmp_path / "meshlake.yaml"
    config.write_text(f"home: {lake.settings.home}\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MESHLAKE_PRINCIPAL", "user:root")
        result = run_cli("access", "storage-policy", "--format", "aws-iam", "--config", str(config))
        assert result.exit_code == 1 and "not in an object store" in result.output
        refused = run_cli("access", "verify", "--config", str(config))
        assert refused.exit_code == 1 and "no --credentials file and no storage keys" in refused.output
        patch.setenv("MESHLAKE_PRINCIPAL", "user:eve")
        denied = run_cli("access", "verify", "--config", str(config))
        assert denied.exit_code == 1 and "only mesh admins" in denied.output


def test_a_recorded_verification_holds_until_the_rights_or_the_policy_version_change(
    lake: ml.Lake, write_descriptor: DescriptorWriter, descriptor: dict[str, Any]
) -> None:
    lake.init_access(["user:root"])
    lake.deploy(write_descriptor(descriptor))
    policy = lake.mesh_policy
    assert policy is not None
    root = "s3://lake/wh"
    alice = who("user:alice")
    descriptors = [lake.product("logistics.shipments").descriptor]
    passed = PrincipalCheck(principal_policy(storage_rights(alice, descriptors, policy), layout(root=ROOT)), ())
    failed_policy = principal_policy(storage_rights(who("user:bob"), descriptors, policy), layout(root=ROOT))
    failed = PrincipalCheck(failed_policy, (Probe("x.y.z", "get", "s3://lake/wh/x", "data file", False, "allowed"),))
    assert storage_verified(lake.catalog, alice, policy, root) is None

    assert record_verified(lake.catalog, [passed, failed], policy, by=who("user:root")) == ["user:alice"]
    record = storage_verified(lake.catalog, alice, policy, root)
    assert record is not None and record["policy_version"] == policy.version and record["verified_by"] == "user:root"
    assert storage_verified(lake.catalog, who("user:bob"), policy, root) is None
    assert storage_verified(lake.catalog, who("user:alice", "analytics"), policy, root) is None  # other rights
    assert storage_verified(lake.catalog, alice, policy, "s3://lake/elsewhere") is None
    assert storage_verified(lake.catalog, alice, policy, lake.location_root) is None  # a lake on local disk
    assert lake.explain_access("user:alice", "logistics.shipments.daily").level == "library"

    again = PrincipalCheck(passed.policy, failed.probes)  # alice's storage no longer matches
    assert record_verified(lake.catalog, [again], policy, by=who("user:root")) == []
    assert storage_verified(lake.catalog, alice, policy, root) is None

    record_verified(lake.catalog, [passed], policy, by=who("user:root"))
    newer = lake.publish_access_policy(policy)
    assert storage_verified(lake.catalog, alice, newer, root) is None
