"""The storage level on a real SeaweedFS: generated identities applied with `weed shell`, then probed.

A lake with a SQLite catalog and its warehouse on SeaweedFS S3 holds two products. The SeaweedFS form of
`meshlake access storage-policy` is applied to the running server (`s3.iam.import -file FILE -apply`), and each
principal then uses ITS OWN keys: a granted reader scans the port through meshlake and through plain
pyiceberg; a reader of the other product gets 403 on this product's data and metadata files; a reader's PUT
is refused; an owner writes through meshlake; a masked reader gets no storage read at all; listings reach
exactly the granted locations. `meshlake access verify` finds no mismatch, records the principals, and
`explain` reports the `storage` level — until the grants or the mesh policy change.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml

import meshlake as ml
from meshlake.access.storage_verify import RECORD_KEY
from meshlake.contract.principals import Principal
from meshlake.errors import AccessDeniedError
from tests.access.conftest import run_cli
from tests.backends import write_descriptor
from tests.services import SeaweedFS

pytestmark = pytest.mark.integration

ADMIN = "user:root"
PRINCIPALS = ("user:alice", "user:bob", "user:carol", "user:dave", "product:sales.orders", "product:hr.people")


def _orders() -> dict[str, Any]:
    return {
        "apiVersion": "meshlake/v1",
        "domain": "sales",
        "name": "orders",
        "version": "1.0.0",
        "owner": {"team": "sales"},
        "outputs": [
            {
                "name": "daily",
                "access": {"readers": ["user:alice", "user:dave"]},
                "columns": [
                    {"name": "order_id", "type": "long", "required": True},
                    {"name": "amount", "type": "double"},
                ],
                "expectations": [{"expect_column_values_to_not_be_null": {"column": "order_id"}}],
            },
            {
                "name": "customers",
                "access": {"readers": ["user:alice", "user:carol"], "unmasked": ["user:carol"]},
                "columns": [
                    {"name": "customer_id", "type": "long", "required": True},
                    {"name": "email", "type": "string", "classification": "pii"},
                ],
            },
        ],
    }


def _people() -> dict[str, Any]:
    return {
        "apiVersion": "meshlake/v1",
        "domain": "hr",
        "name": "people",
        "version": "1.0.0",
        "owner": {"team": "hr"},
        "outputs": [
            {
                "name": "staff",
                "access": {"readers": ["user:bob"]},
                "columns": [
                    {"name": "person_id", "type": "long", "required": True},
                    {"name": "name", "type": "string"},
                ],
            }
        ],
    }


@dataclass
class StorageLake:
    """The lake, its settings file, every principal's keys, and the SeaweedFS it lives on."""

    seaweed: SeaweedFS
    root: Path
    settings: dict[str, Any]
    config: Path
    credentials: Path
    keys: dict[str, tuple[str, str]]
    identities: Path

    def connect(self, principal: str = ADMIN, *groups: str) -> ml.Lake:
        """The lake as `principal`, with ITS keys (the admin's are the server's admin keys)."""
        settings = dict(self.settings)
        if principal != ADMIN:
            settings["s3_access_key_id"], settings["s3_secret_access_key"] = self.keys[principal]
        return ml.connect(
            principal=principal, groups=list(groups) or (["platform"] if principal == ADMIN else []), **settings
        )

    def client(self, principal: str) -> Any:
        """A plain S3 client with `principal`'s keys (ADMIN: the server's admin keys)."""
        import botocore.session
        from botocore.config import Config

        key, secret = self.keys[principal] if principal != ADMIN else (self.seaweed.access_key, self.seaweed.secret_key)
        return botocore.session.get_session().create_client(
            "s3",
            endpoint_url=self.seaweed.s3_endpoint,
            region_name=self.seaweed.region,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )

    def cli(self, *args: str, principal: str = ADMIN, groups: str = "platform") -> Any:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("MESHLAKE_PRINCIPAL", principal)
            patch.setenv("MESHLAKE_GROUPS", groups)
            return run_cli(*args, "--config", str(self.config))


def weed_shell(seaweed: SeaweedFS, *commands: str) -> str:
    """Run `commands` in `weed shell` against `seaweed`; its output."""
    ports = seaweed.ports
    command = [
        str(seaweed.weed),
        "shell",
        f"-master={seaweed.host}:{ports.master}.{ports.master_grpc}",
        f"-filer={seaweed.host}:{ports.filer}.{ports.filer_grpc}",
    ]
    script = "".join(f"{line}\n" for line in (*commands, "exit"))
    done = subprocess.run(command, input=script, capture_output=True, text=True, timeout=60, check=False)
    return done.stdout + done.stderr


def apply_identities(
    seaweed: SeaweedFS, path: Path, until: Callable[[], bool], policies: dict[str, Path] | None = None
) -> None:
    """Replace the server's IAM configuration with the identities in `path` (`s3.iam.import -file FILE -apply`),
    store the IAM `policies` they attach (`s3.policy -put`: 4.48's import leaves a file's policies out), then wait
    until `until()` sees it in force."""
    output = weed_shell(seaweed, f"s3.iam.import -file {path} -apply")
    assert "Imported IAM configuration" in output, output
    if policies:
        output = weed_shell(seaweed, *(f"s3.policy -put -name={name} -file={file}" for name, file in policies.items()))
        listed = weed_shell(seaweed, "s3.policy -list")
        assert all(f"Name: {name}" in listed for name in policies), output + listed
    deadline = time.monotonic() + 30
    while not until():
        assert time.monotonic() < deadline, f"the identities of {path} did not come into force"
        time.sleep(0.1)


def _error_code(call: Any, **arguments: Any) -> str:
    from botocore.exceptions import ClientError

    try:
        call(**arguments)
    except ClientError as exc:
        return f"{exc.response['ResponseMetadata']['HTTPStatusCode']} {exc.response['Error']['Code']}"
    return "200 OK"


@pytest.fixture(scope="module")
def storage_lake(seaweedfs: SeaweedFS, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StorageLake]:
    root = tmp_path_factory.mktemp("storage_lake")
    settings = {
        "home": str(root / ".meshlake"),
        "catalog_uri": f"sqlite:///{root / 'catalog.db'}",
        "warehouse": f"s3://{seaweedfs.bucket}/storage_{secrets.token_hex(4)}",
        "s3_endpoint": seaweedfs.s3_endpoint,
        "s3_access_key_id": seaweedfs.access_key,
        "s3_secret_access_key": seaweedfs.secret_key,
        "s3_region": seaweedfs.region,
    }
    config = root / "meshlake.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "catalog_uri": settings["catalog_uri"],
                "warehouse": settings["warehouse"],
                "home": settings["home"],
                "s3": {
                    "endpoint": seaweedfs.s3_endpoint,
                    "access_key_id": seaweedfs.access_key,
                    "secret_access_key": seaweedfs.secret_key,
                    "region": seaweedfs.region,
                },
            }
        ),
        encoding="utf-8",
    )
    keys = {p: (f"K{secrets.token_hex(8).upper()}", secrets.token_urlsafe(24)) for p in PRINCIPALS}
    credentials = root / "credentials.yaml"
    credentials.write_text(
        yaml.safe_dump({"principals": {p: {"access_key": k, "secret_key": s} for p, (k, s) in keys.items()}}),
        encoding="utf-8",
    )
    lake = StorageLake(seaweedfs, root, settings, config, credentials, keys, root / "identities.json")
    admin = lake.connect()
    admin.init_access(["group:platform"])
    admin.deploy(write_descriptor(root / "orders", _orders()))
    admin.deploy(write_descriptor(root / "people", _people()))
    admin.port("sales.orders.daily").write(pa.table({"order_id": [1, 2, 3], "amount": [10.0, 20.0, 30.0]}))
    admin.port("sales.orders.customers").write(pa.table({"customer_id": [1, 2], "email": ["a@x.io", "b@y.io"]}))
    admin.port("hr.people.staff").write(pa.table({"person_id": [7], "name": ["Kim"]}))

    generated = lake.cli(
        "access", "storage-policy", "--format", "seaweedfs", "--credentials", str(credentials), "--out",
        str(lake.identities),
    )  # fmt: skip
    assert generated.exit_code == 0, generated.output
    apply_identities(seaweedfs, lake.identities, lambda: _can_get(lake, "user:alice", "sales.orders.daily"))
    yield lake


def _can_get(lake: StorageLake, principal: str, address: str) -> bool:
    data = _files(lake, address)[1]
    return _error_code(lake.client(principal).get_object, Bucket=lake.seaweed.bucket, Key=data) == "200 OK"


def _files(lake: StorageLake, address: str) -> tuple[str, str]:
    """(metadata key, data key) of a port's current snapshot, as the admin sees them."""
    table = lake.connect().port(address).table()
    data = next(iter(table.inspect.files().column("file_path").to_pylist()))
    return _key(table.metadata_location), _key(data)


def _key(uri: str) -> str:
    return uri.split("/", 3)[3]


def test_generated_seaweedfs_identities_grant_exactly_the_port_locations(storage_lake: StorageLake) -> None:
    identities = {i["name"]: i for i in json.loads(storage_lake.identities.read_text())["identities"]}
    assert set(identities) == set(PRINCIPALS)
    warehouse = storage_lake.settings["warehouse"].removeprefix("s3://")
    daily = storage_lake.connect().port("sales.orders.daily").table().location().removeprefix("s3://")
    record = [
        f"Read:{warehouse}/meshlake/system/*metadata/*.metadata.json",
        f"Read:{warehouse}/meshlake/system/*metadata/snap-*.avro",
        f"List:{warehouse}/meshlake/system/*metadata/*.metadata.json/",
        f"Write:{warehouse}/meshlake/system/*",
    ]
    assert sorted(identities["user:alice"]["actions"]) == sorted([f"Read:{daily}/*", f"List:{daily}/*", *record])
    assert identities["user:alice"]["credentials"] == [
        {"accessKey": storage_lake.keys["user:alice"][0], "secretKey": storage_lake.keys["user:alice"][1]}
    ]
    owner = f"{warehouse}/sales/orders"
    assert sorted(identities["product:sales.orders"]["actions"]) == sorted(
        [f"Read:{owner}/*", f"List:{owner}/*", f"Write:{owner}/*", *record]
    )


def test_granted_reader_scans_the_port_through_meshlake_and_pyiceberg_with_its_own_keys(
    storage_lake: StorageLake,
) -> None:
    from pyiceberg.catalog.sql import SqlCatalog

    alice = storage_lake.connect("user:alice")
    rows = alice.port("sales.orders.daily").latest().to_arrow()
    assert sorted(rows.column("order_id").to_pylist()) == [1, 2, 3]

    key, secret = storage_lake.keys["user:alice"]
    catalog = SqlCatalog(
        "meshlake",
        uri=storage_lake.settings["catalog_uri"],
        warehouse=storage_lake.settings["warehouse"],
        **{
            "s3.endpoint": storage_lake.seaweed.s3_endpoint,
            "s3.access-key-id": key,
            "s3.secret-access-key": secret,
            "s3.region": storage_lake.seaweed.region,
            "s3.path-style-access": "true",
        },
    )
    scanned = catalog.load_table(("sales", "orders", "daily")).scan().to_arrow()
    assert sorted(scanned.column("amount").to_pylist()) == [10.0, 20.0, 30.0]


def test_reader_of_another_product_gets_403_on_this_products_data_and_metadata_files(
    storage_lake: StorageLake,
) -> None:
    bucket = storage_lake.seaweed.bucket
    metadata, data = _files(storage_lake, "sales.orders.daily")
    bob = storage_lake.client("user:bob")
    assert _error_code(bob.get_object, Bucket=bucket, Key=metadata) == "403 AccessDenied"
    assert _error_code(bob.get_object, Bucket=bucket, Key=data) == "403 AccessDenied"
    assert _error_code(bob.head_object, Bucket=bucket, Key=data).startswith("403")
    staff_metadata, staff_data = _files(storage_lake, "hr.people.staff")
    assert _error_code(bob.get_object, Bucket=bucket, Key=staff_data) == "200 OK"  # its own grant works
    alice = storage_lake.client("user:alice")
    assert _error_code(alice.get_object, Bucket=bucket, Key=staff_metadata) == "403 AccessDenied"
    assert _error_code(alice.get_object, Bucket=bucket, Key=staff_data) == "403 AccessDenied"


def test_reader_write_and_delete_under_the_port_are_refused(storage_lake: StorageLake) -> None:
    bucket = storage_lake.seaweed.bucket
    metadata, data = _files(storage_lake, "sales.orders.daily")
    alice = storage_lake.client("user:alice")
    folder = data.rsplit("/", 1)[0]
    assert _error_code(alice.put_object, Bucket=bucket, Key=f"{folder}/forged.parquet", Body=b"x") == "403 AccessDenied"
    assert _error_code(alice.put_object, Bucket=bucket, Key=metadata, Body=b"{}") == "403 AccessDenied"
    assert _error_code(alice.delete_object, Bucket=bucket, Key=data) == "403 AccessDenied"
    assert _error_code(storage_lake.client(ADMIN).head_object, Bucket=bucket, Key=data) == "200 OK"


def test_owner_writes_through_meshlake_with_its_own_keys(storage_lake: StorageLake) -> None:
    owner = storage_lake.connect("product:sales.orders")
    written = owner.port("sales.orders.daily").write(pa.table({"order_id": [4], "amount": [40.0]}))
    admin = storage_lake.connect()
    assert admin.port("sales.orders.daily").latest().snapshot_id == written.snapshot_id
    assert sorted(admin.port("sales.orders.daily").latest().to_arrow().column("order_id").to_pylist()) == [1, 2, 3, 4]
    history = admin.sql("SELECT snapshot_id FROM meshlake.system.quality_results WHERE address = 'sales.orders.daily'")
    assert str(written.snapshot_id) in {str(row[0]) for row in history.fetchall()}  # its quality record landed
    staff = _files(storage_lake, "hr.people.staff")[1]
    owner_client = storage_lake.client("product:sales.orders")
    assert _error_code(owner_client.get_object, Bucket=storage_lake.seaweed.bucket, Key=staff) == "403 AccessDenied"


def test_masked_reader_gets_no_storage_read_of_the_port(storage_lake: StorageLake) -> None:
    bucket = storage_lake.seaweed.bucket
    metadata, data = _files(storage_lake, "sales.orders.customers")
    alice = storage_lake.client("user:alice")  # reads customers with email masked: never the raw files
    assert _error_code(alice.get_object, Bucket=bucket, Key=metadata) == "403 AccessDenied"
    assert _error_code(alice.get_object, Bucket=bucket, Key=data) == "403 AccessDenied"
    carol = storage_lake.client("user:carol")  # unmasked reader
    assert _error_code(carol.get_object, Bucket=bucket, Key=data) == "200 OK"


def test_listing_reaches_exactly_the_granted_locations(storage_lake: StorageLake) -> None:
    bucket = storage_lake.seaweed.bucket
    warehouse = storage_lake.settings["warehouse"].removeprefix(f"s3://{bucket}/")
    alice = storage_lake.client("user:alice")
    listed = alice.list_objects_v2(Bucket=bucket, Prefix=f"{warehouse}/sales/orders/daily/")
    assert listed["KeyCount"] > 0
    assert all(item["Key"].startswith(f"{warehouse}/sales/orders/daily/") for item in listed["Contents"])
    for prefix in (f"{warehouse}/sales/orders/", f"{warehouse}/sales/orders/customers/", f"{warehouse}/hr/", ""):
        assert _error_code(alice.list_objects_v2, Bucket=bucket, Prefix=prefix) == "403 AccessDenied", prefix
    owner = storage_lake.client("product:sales.orders")
    assert owner.list_objects_v2(Bucket=bucket, Prefix=f"{warehouse}/sales/orders/")["KeyCount"] > 0
    assert _error_code(owner.list_objects_v2, Bucket=bucket, Prefix=f"{warehouse}/hr/people/") == "403 AccessDenied"


def test_records_metadata_is_readable_but_their_rows_are_not(storage_lake: StorageLake) -> None:
    table = storage_lake.connect().catalog.load_table(("meshlake", "system", "quality_results"))
    data = table.inspect.files().column("file_path").to_pylist()[0]
    alice = storage_lake.client("user:alice")
    bucket = storage_lake.seaweed.bucket
    assert _error_code(alice.get_object, Bucket=bucket, Key=_key(table.metadata_location)) == "200 OK"
    assert _error_code(alice.get_object, Bucket=bucket, Key=_key(data)) == "403 AccessDenied"


def test_verify_finds_no_mismatch_and_explain_reports_the_storage_level(storage_lake: StorageLake) -> None:
    result = storage_lake.cli("access", "verify", "--credentials", str(storage_lake.credentials), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert sorted(report["recorded"]) == sorted(PRINCIPALS)
    assert all(p["probes"] >= 12 for p in report["principals"])

    explained = storage_lake.cli("access", "explain", "user:alice", "sales.orders.daily", "--json")
    assert json.loads(explained.stdout)["level"] == "storage"
    masked = storage_lake.cli("access", "explain", "user:alice", "sales.orders.customers", "--json")
    assert json.loads(masked.stdout)["level"] == "storage"  # no raw files at all for a masked reader
    unverified = storage_lake.cli("access", "explain", "user:erin", "sales.orders.daily", "--json")
    assert json.loads(unverified.stdout)["level"] == "library"


def test_verify_reports_a_storage_that_grants_more_than_the_policy(storage_lake: StorageLake) -> None:
    identities = json.loads(storage_lake.identities.read_text())
    bob = next(i for i in identities["identities"] if i["name"] == "user:bob")
    warehouse = storage_lake.settings["warehouse"].removeprefix("s3://")
    bob["actions"].append(f"Read:{warehouse}/sales/*")
    loose = storage_lake.root / "loose.json"
    loose.write_text(json.dumps(identities), encoding="utf-8")
    assert storage_lake.connect().explain_access("user:bob", "hr.people.staff").level == "storage"
    apply_identities(storage_lake.seaweed, loose, lambda: _can_get(storage_lake, "user:bob", "sales.orders.daily"))
    try:
        result = storage_lake.cli("access", "verify", "--credentials", str(storage_lake.credentials))
        assert result.exit_code == 1, result.output
        assert "user:bob: " in result.stdout and "MISMATCH" in result.stdout
        assert "expected denied, allowed" in result.stdout
        assert "user:alice: ok" in result.stdout
        recorded = storage_lake.connect().catalog.load_namespace_properties(("meshlake", "system"))
        assert RECORD_KEY.format(principal="user:alice") in recorded
        assert RECORD_KEY.format(principal="user:bob") not in recorded  # its earlier record is forgotten
        assert storage_lake.connect().explain_access("user:bob", "hr.people.staff").level == "library"
    finally:
        apply_identities(
            storage_lake.seaweed,
            storage_lake.identities,
            lambda: not _can_get(storage_lake, "user:bob", "sales.orders.daily"),
        )


def test_storage_level_goes_stale_when_grants_or_policy_change(storage_lake: StorageLake) -> None:
    verified = storage_lake.cli("access", "verify", "--credentials", str(storage_lake.credentials))
    assert verified.exit_code == 0, verified.output
    admin = storage_lake.connect()
    assert admin.explain_access("user:dave", "sales.orders.daily").level == "storage"

    policy = admin.mesh_policy
    assert policy is not None
    deployed = admin.product("sales.orders").descriptor.version
    admin.publish_access_policy(policy.model_copy(update={"require_verified": False}))
    try:
        assert storage_lake.connect().explain_access("user:dave", "sales.orders.daily").level == "library"

        assert storage_lake.cli("access", "verify", "--credentials", str(storage_lake.credentials)).exit_code == 0
        assert storage_lake.connect().explain_access("user:dave", "sales.orders.daily").level == "storage"
        descriptor = _orders()
        descriptor["version"] = f"{int(deployed.split('.')[0]) + 1}.0.0"  # narrowing the readers is a major change
        descriptor["outputs"][0]["access"]["readers"] = ["user:alice"]  # dave loses the port
        admin.deploy(write_descriptor(storage_lake.root / "orders", descriptor))
        stale = storage_lake.connect().explain_access("user:dave", "sales.orders.daily")
        assert (stale.read, stale.level) == (False, "library")
        alice = Principal.parse("user:alice")
        assert storage_lake.connect().explain_access(alice, "sales.orders.daily").level == "storage"
    finally:
        # The lake is shared by this module's tests, which xdist may run in any order: put back what was changed.
        admin.publish_access_policy(policy)
        restored = _orders()
        restored["version"] = f"{int(deployed.split('.')[0]) + 2}.0.0"
        admin.deploy(write_descriptor(storage_lake.root / "orders", restored))
        storage_lake.cli("access", "verify", "--credentials", str(storage_lake.credentials))


def test_aws_iam_document_of_one_principal_goes_to_stdout_and_the_summary_to_stderr(storage_lake: StorageLake) -> None:
    result = storage_lake.cli("access", "storage-policy", "--format", "aws-iam", "--principal", "user:alice")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["Version"] == "2012-10-17"
    daily = storage_lake.connect().port("sales.orders.daily").table().location().removeprefix("s3://")
    read = next(s for s in document["Statement"] if s["Sid"] == "MeshlakeRead")
    assert f"arn:aws:s3:::{daily}/*" in read["Resource"]
    assert "sales.orders.customers: masks on email" in result.stderr


def test_the_aws_iam_documents_hold_the_same_lines_in_an_iam_policy_engine(storage_lake: StorageLake) -> None:
    """SeaweedFS evaluates attached IAM policies as AWS does (resources, `s3:prefix` conditions): the aws-iam
    form, attached to each principal instead of the identities' actions, draws the same lines."""
    credentials = str(storage_lake.credentials)
    result = storage_lake.cli("access", "storage-policy", "--format", "aws-iam", "--credentials", credentials)
    assert result.exit_code == 0, result.output
    documents = json.loads(result.stdout)
    identities, policies = [], {}
    for index, principal in enumerate(PRINCIPALS):
        name = f"meshlake-{index}"
        policies[name] = storage_lake.root / f"{name}.json"
        policies[name].write_text(json.dumps(documents[principal]), encoding="utf-8")
        key, secret = storage_lake.keys[principal]
        identities.append(
            {"name": principal, "credentials": [{"accessKey": key, "secretKey": secret}], "policyNames": [name]}
        )
    iam = storage_lake.root / "iam.json"
    iam.write_text(json.dumps({"identities": identities}), encoding="utf-8")

    def ready() -> bool:
        return _can_get(storage_lake, "user:alice", "sales.orders.daily")

    apply_identities(storage_lake.seaweed, iam, ready, policies)
    try:
        bucket = storage_lake.seaweed.bucket
        warehouse = storage_lake.settings["warehouse"].removeprefix(f"s3://{bucket}/")
        metadata, data = _files(storage_lake, "sales.orders.daily")
        alice, bob = storage_lake.client("user:alice"), storage_lake.client("user:bob")
        assert _error_code(bob.get_object, Bucket=bucket, Key=data) == "403 AccessDenied"
        assert _error_code(bob.get_object, Bucket=bucket, Key=metadata) == "403 AccessDenied"
        assert _error_code(alice.put_object, Bucket=bucket, Key=f"{data}.forged", Body=b"x") == "403 AccessDenied"
        assert alice.list_objects_v2(Bucket=bucket, Prefix=f"{warehouse}/sales/orders/daily/")["KeyCount"] > 0
        assert _error_code(alice.list_objects_v2, Bucket=bucket, Prefix=f"{warehouse}/sales/") == "403 AccessDenied"
        customers = _files(storage_lake, "sales.orders.customers")[1]
        assert _error_code(alice.get_object, Bucket=bucket, Key=customers) == "403 AccessDenied"
        owner = storage_lake.connect("product:sales.orders")
        written = owner.port("sales.orders.daily").write(pa.table({"order_id": [5], "amount": [50.0]}))
        assert storage_lake.connect().port("sales.orders.daily").latest().snapshot_id == written.snapshot_id
        scanned = storage_lake.connect("user:alice").port("sales.orders.daily").latest().to_arrow()
        assert sorted(scanned["order_id"].to_pylist()) == [1, 2, 3, 4, 5]
        verified = storage_lake.cli("access", "verify", "--credentials", credentials)
        assert verified.exit_code == 0, verified.output
    finally:
        apply_identities(
            storage_lake.seaweed,
            storage_lake.identities,
            lambda: _can_get(storage_lake, "user:alice", "sales.orders.daily"),
        )


def test_a_read_the_storage_refuses_is_access_denied_not_a_broken_port(storage_lake: StorageLake) -> None:
    alice = storage_lake.connect("user:alice")  # reads customers masked: her keys reach none of its files
    reads = {
        "latest": lambda: alice.port("sales.orders.customers").latest(),
        "sql": lambda: alice.sql("SELECT * FROM sales.orders.customers").fetchall(),
    }
    for path, read in reads.items():
        with pytest.raises(AccessDeniedError) as denied:
            read()
        assert (denied.value.principal, denied.value.address) == ("user:alice", "sales.orders.customers"), path
        assert denied.value.missing.startswith("storage refused the read"), path

    with pytest.MonkeyPatch.context() as patch:  # the CLI, as alice with her keys
        patch.setenv("MESHLAKE_PRINCIPAL", "user:alice")
        patch.setenv("MESHLAKE_S3_ACCESS_KEY_ID", storage_lake.keys["user:alice"][0])
        patch.setenv("MESHLAKE_S3_SECRET_ACCESS_KEY", storage_lake.keys["user:alice"][1])
        shown = run_cli("sql", "SELECT * FROM sales.orders.customers", "--config", str(storage_lake.config))
    assert shown.exit_code == 1
    assert "user:alice may not read sales.orders.customers: storage refused the read" in shown.output

    assert alice.products(check_tables=True).broken == []  # refused to alice's keys, not broken
    ports = {info.address: info for info in alice.product("sales.orders").describe().ports}
    assert (ports["sales.orders.customers"].problem or "").startswith("storage refused the read")
    assert ports["sales.orders.daily"].problem is None
    assert sorted(alice.port("sales.orders.daily").latest().to_arrow().column("order_id").to_pylist())[:3] == [1, 2, 3]
