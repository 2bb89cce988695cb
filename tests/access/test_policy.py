"""The mesh policy: stored versioned in the lake, published by admins only, out of reach of local settings."""

from __future__ import annotations

from pathlib import Path

import pytest

import meshlake as ml
from meshlake.access.policy import (
    CURRENT_KEY,
    SYSTEM_NAMESPACE,
    MeshPolicy,
    load_policy,
    parse_policy,
    policy_versions,
)
from meshlake.contract.principals import EVERYONE, Principal
from meshlake.errors import AccessDeniedError, AuthenticationError, ConfigError
from tests.access.conftest import as_caller, run_cli

POLICY_FILE = """\
admins: [group:platform, user:root_admin]
default_readers: [group:employees]
classification_masks:
  pii: mask-to-default
  confidential: replace-with-null
require_verified: false
"""


@pytest.fixture
def governed(lake: ml.Lake) -> ml.Lake:
    """The lake with a first mesh policy naming group:platform its admin."""
    lake.init_access(["group:platform"])
    return lake


def test_lake_without_policy_is_declared_only(lake: ml.Lake) -> None:
    assert lake.mesh_policy is None
    assert lake.access_level == "declared"
    assert load_policy(lake.catalog) is None


def test_init_access_stores_the_first_policy_in_the_system_namespace(governed: ml.Lake) -> None:
    properties = governed.catalog.load_namespace_properties(SYSTEM_NAMESPACE)
    assert properties[CURRENT_KEY] == "1"
    stored = load_policy(governed.catalog)
    assert stored is not None
    assert stored.admins == [Principal.parse("group:platform")]
    assert stored.default_readers == [EVERYONE]
    assert stored.classification_masks["pii"].action == "mask-to-default"
    assert not stored.require_verified
    assert (stored.version, stored.published_by) == (1, str(governed.principal))
    assert stored.published_at is not None
    assert governed.access_level == "library"
    assert ml.connect(home=governed.settings.home).mesh_policy == stored, "another connection reads the same policy"


def test_init_access_again_with_its_admins_changes_nothing(governed: ml.Lake) -> None:
    assert governed.init_access(["group:platform"]).version == 1
    with pytest.raises(ConfigError, match="already has a mesh policy"):
        governed.init_access(["user:mallory"])
    assert policy_versions(governed.catalog) == [1]


def test_admin_publishes_new_versions_and_every_version_is_kept(governed: ml.Lake, tmp_path: Path) -> None:
    file = tmp_path / "policy.yaml"
    file.write_text(POLICY_FILE)
    admin = as_caller(governed, "user:pat", "platform")

    published = admin.publish_access_policy(file)

    assert (published.version, published.published_by) == (2, "user:pat")
    assert published.default_readers == [Principal.parse("group:employees")]
    assert policy_versions(governed.catalog) == [1, 2]
    first = load_policy(governed.catalog, 1)
    assert first is not None and first.default_readers == [EVERYONE]
    assert governed.refresh_policy() == published


def test_non_admin_cannot_publish_and_the_policy_stays(governed: ml.Lake, tmp_path: Path) -> None:
    file = tmp_path / "policy.yaml"
    file.write_text("admins: [user:mallory]\ndefault_readers: ['*']\nclassification_masks: {}\n")
    mallory = as_caller(governed, "user:mallory", "analytics")

    with pytest.raises(AccessDeniedError) as denied:
        mallory.publish_access_policy(file)

    assert denied.value.principal == "user:mallory"
    assert denied.value.address == "the mesh policy"
    assert "group:platform" in denied.value.missing
    assert isinstance(denied.value, PermissionError)
    assert "meshlake access policy show" in str(denied.value)
    assert policy_versions(governed.catalog) == [1]
    stored = load_policy(governed.catalog)
    assert stored is not None and stored.admins == [Principal.parse("group:platform")]


def test_policy_without_admins_is_refused(lake: ml.Lake) -> None:
    with pytest.raises(ConfigError, match="at least one admin"):
        lake.publish_access_policy(MeshPolicy())
    assert lake.mesh_policy is None


def test_long_policy_is_stored_in_chunks(governed: ml.Lake) -> None:
    admins = [Principal.parse(f"user:admin_number_{i:03d}@example.com") for i in range(60)]
    published = as_caller(governed, "user:pat", "platform").publish_access_policy(MeshPolicy(admins=admins))
    properties = governed.catalog.load_namespace_properties(SYSTEM_NAMESPACE)
    assert int(properties["meshlake.access-policy.v2.parts"]) > 1
    assert all(len(value) <= 1000 for value in properties.values())
    assert load_policy(governed.catalog) == published


@pytest.mark.parametrize(
    ("text", "problem", "line"),
    [
        ("admins: [platform]\n", "no kind", 1),
        ("admins: [group:platform]\ndefault_readers: [user:*]\n", "stands alone", 2),
        ('admins: ["*"]\n', "only grant reading", 1),
        ("admins: [group:platform]\nreaders: ['*']\n", "unknown field 'readers'", 2),
        ("admins: [group:platform]\nclassification_masks: {pii: blur}\n", "unknown mask action", 2),
        ("admins: [group:platform]\nclassification_masks: {secret: mask-to-default}\n", "unknown classification", 2),
        (
            "admins: [group:platform]\nclassification_masks:\n  pii: {apply-expression: 'true'}\n",
            "apply-expression",
            2,
        ),
        ("admins: [group:platform]\nversion: 7\n", "set when the policy is published", 2),
        ("admins: [group:platform\n", "malformed YAML", 2),
        ("- admins\n", "is a mapping", 1),
    ],
)
def test_bad_policy_file_names_line_and_problem(text: str, problem: str, line: int) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_policy(text, file="policy.yaml")
    assert problem in str(caught.value)
    assert f"policy.yaml:{line}:" in str(caught.value)
    assert caught.value.source == "policy.yaml"


def test_local_settings_cannot_weaken_the_mesh_policy(
    governed: ml.Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    as_caller(governed, "user:pat", "platform").publish_access_policy(
        MeshPolicy(admins=[Principal.parse("group:platform")], require_verified=True)
    )
    config = tmp_path / "meshlake.yaml"
    for key in ("require_verified: false", "admins: ['user:me']", "default_readers: ['*']", "access_policy: {}"):
        config.write_text(f"home: {governed.settings.home}\n{key}\n")
        with pytest.raises(ConfigError, match="unknown setting"):
            ml.connect(config)
    config.write_text(f"home: {governed.settings.home}\n")
    for name, value in [
        ("MESHLAKE_REQUIRE_VERIFIED", "false"),
        ("MESHLAKE_ADMINS", "user:me"),
        ("MESHLAKE_DEFAULT_READERS", "*"),
        ("MESHLAKE_PROPERTIES", "x"),
    ]:
        monkeypatch.setenv(name, value)
    me = ml.connect(config, principal="user:me")

    policy = me.mesh_policy
    assert policy is not None and policy.require_verified and policy.admins == [Principal.parse("group:platform")]
    with pytest.raises(AuthenticationError, match="requires a verified identity"):
        me.publish_access_policy(MeshPolicy(admins=[Principal.parse("user:me")]))
    assert policy_versions(governed.catalog) == [1, 2]


def test_require_verified_refuses_an_unverified_admin_but_not_a_verified_one(governed: ml.Lake) -> None:
    strict = MeshPolicy(admins=[Principal.parse("group:platform")], require_verified=True)
    as_caller(governed, "user:pat", "platform").publish_access_policy(strict)

    with pytest.raises(AuthenticationError) as refused:
        as_caller(governed, "user:pat", "platform").publish_access_policy(strict)
    assert refused.value.source == "argument"
    assert "MESHLAKE_TOKEN" in str(refused.value)

    published = as_caller(governed, "user:pat", "platform", verified=True).publish_access_policy(strict)
    assert published.version == 3


# -- the CLI ----------------------------------------------------------------------------------------
def test_cli_init_with_admin_then_show_and_publish(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = f"--config={tmp_path / 'meshlake.yaml'}"
    (tmp_path / "meshlake.yaml").write_text("home: lake\n")

    missing = run_cli(*[home, "access", "policy", "show"])  # a read-only command creates no lake
    assert missing.exit_code == 1 and not (tmp_path / "lake").exists()
    assert run_cli(*[home, "init"]).exit_code == 0
    shown = run_cli(*[home, "access", "policy", "show"])
    assert shown.exit_code == 0 and "no mesh policy" in shown.output

    created = run_cli(*[home, "init", "--admin", "group:platform", "--json"])
    assert created.exit_code == 0, created.output
    assert '"access_level": "library"' in created.output

    shown = run_cli(*[home, "access", "policy", "show"])
    assert "version 1 of 1" in shown.output and "group:platform" in shown.output

    file = tmp_path / "policy.yaml"
    file.write_text(POLICY_FILE)
    monkeypatch.setenv("MESHLAKE_PRINCIPAL", "user:mallory")
    refused = run_cli(*[home, "access", "policy", "publish", str(file)])
    assert refused.exit_code == 1
    assert "user:mallory may not publish the mesh policy" in refused.output

    monkeypatch.setenv("MESHLAKE_GROUPS", "platform")
    published = run_cli(*[home, "access", "policy", "publish", str(file)])
    assert published.exit_code == 0, published.output
    assert "version 2" in published.output
    older = run_cli(*[home, "access", "policy", "show", "--version", "1", "--json"])
    assert '"version": 1' in older.output and '"versions": [' in older.output
