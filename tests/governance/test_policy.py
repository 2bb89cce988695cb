"""governance.yaml: every bad input is a GovernanceError naming file and line; severities, scopes and domains."""

from __future__ import annotations

from pathlib import Path

import pytest

import meshlake as ml
from meshlake.errors import AccessDeniedError, GovernanceError
from meshlake.governance.engine import evaluate
from meshlake.governance.policy import load_governance, parse_policy, read_policy_file
from meshlake.governance.subjects import descriptor_files, load_files
from tests.access.conftest import as_caller
from tests.governance.conftest import compliant, write


def _error(text: str, tmp_path: Path) -> GovernanceError:
    (tmp_path / "governance.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(GovernanceError) as caught:
        read_policy_file(tmp_path / "governance.yaml")
    assert caught.value.file.endswith("governance.yaml")
    return caught.value


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        ("rules:\n  GOV004: [warn\n", 3, None),  # malformed YAML
        ("rules:\n  GOV004: warn\nrulez: {}\n", 3, "rulez"),  # unknown field
        ("rules:\n  GOV004: warn\n  GOV777: error\n", 3, "rules.GOV777"),  # unknown rule code
        ("rules:\n  GOV004: fatal\n", 2, "rules.GOV004[0].severity"),  # not a severity
        ("rules:\n  GOV013: warn\n", 2, "rules.GOV013.severity"),  # a rule that cannot be lowered
        ("naming:\n  column: '(a'\n", 2, "naming.column"),  # not RE2
        ("naming:\n  column: '(?=a)a'\n", 2, "naming.column"),  # lookahead: not RE2
        ("naming:\n  column: '" + "a" * 300 + "'\n", 2, "naming.column"),  # too long
        ("naming:\n  colour: 'a'\n", 2, "naming.colour"),  # unknown kind of name
        (
            "rules:\n  GOV005: error\ndomains:\n  sales:\n    rules: {GOV005: warn}\n",
            5,
            "domains.sales.rules.GOV005.severity",
        ),
        ("domains:\n  sales:\n    rules:\n      GOV004: off\n", 4, "domains.sales.rules.GOV004.severity"),
        ("custom:\n  - {code: GOV500, title: t, rego: 'package x'}\n", 2, "custom[0].code"),
        (
            "custom:\n  - {code: ACME001, title: t, rego: 'package x'}\n"
            "  - {code: ACME001, title: u, rego: 'package y'}\n",
            3,
            "custom[1].code",
        ),
        ("custom:\n  - {code: ACME001, title: t}\n", 2, "custom[0].rego"),  # neither rego nor module
        ("custom:\n  - {code: ACME001, title: t, module: ../outside.rego}\n", 2, "custom[0].module"),
        ("custom:\n  - {code: ACME001, title: t, module: missing.rego}\n", 2, "custom[0].module"),
        ("rules:\n  GOV004: {severity: warn, scope: {classifications: [secret]}}\n", 2, None),
        ("version: 3\n", 1, "version"),  # set by publishing, not by the file
    ],
)
def test_a_bad_policy_is_a_governance_error_naming_file_line_and_field(
    text: str, line: int, field: str | None, tmp_path: Path
) -> None:
    pytest.importorskip("regopy", reason="custom rules are compiled with the governance extra (regopy)")
    error = _error(text, tmp_path)
    assert error.line == line, error
    if field is not None:
        assert error.field == field, error


def _subjects(folder: Path, *products: dict[str, object]) -> list[object]:
    for data in products:
        write(folder, data)
    subjects, _ = load_files(descriptor_files([folder]))
    return subjects  # type: ignore[return-value]


def test_severities_scopes_and_the_strictest_matching_entry(tmp_path: Path) -> None:
    plain = compliant(name="plain")
    tagged = compliant(name="tagged")
    for data in (plain, tagged):
        del data["outputs"][0]["columns"][0]["description"]  # GOV004 on an internal column
    tagged["outputs"][0]["tags"] = ["finance"]
    subjects = _subjects(tmp_path, plain, tagged)
    policy = parse_policy(
        "rules:\n  GOV004:\n    - {severity: warn}\n    - {severity: error, scope: {tags: [finance]}}\n"
    )
    found = {(f.product, f.severity) for f in evaluate(subjects, policy=policy).findings}  # type: ignore[arg-type]
    assert found == {("sales.plain", "warn"), ("sales.tagged", "error")}
    only_pii = parse_policy("rules:\n  GOV004: {severity: error, scope: {classifications: [pii]}}\n")
    assert evaluate(subjects, policy=only_pii).findings == []  # type: ignore[arg-type]
    off = parse_policy("rules:\n  GOV004: off\n")
    assert evaluate(subjects, policy=off).findings == []  # type: ignore[arg-type]


def test_a_domain_section_raises_severities_and_adds_patterns_for_its_own_products_only(tmp_path: Path) -> None:
    sales = compliant(domain="sales", name="orders")
    fleet = compliant(domain="fleet", name="drones")
    for data in (sales, fleet):
        del data["outputs"][0]["columns"][0]["description"]
        data["outputs"][0]["columns"].append(
            {"name": "v2", "type": "long", "description": "v", "classification": "public"}
        )
    subjects = _subjects(tmp_path, sales, fleet)
    policy = parse_policy("domains:\n  sales:\n    rules: {GOV004: error}\n    naming: {column: '[a-z_]+'}\n")
    found = sorted((f.product, f.code, f.severity, f.column) for f in evaluate(subjects, policy=policy).findings)  # type: ignore[arg-type]
    assert found == [
        ("fleet.drones", "GOV004", "warn", "order_id"),
        ("sales.orders", "GOV004", "error", "order_id"),
        ("sales.orders", "GOV011", "error", "v2"),
    ]


def test_publish_stores_versions_that_read_back_with_their_lines_and_history(lake: ml.Lake, tmp_path: Path) -> None:
    lake.init_access(["group:platform"])
    admin = as_caller(lake, "user:pat", "platform")
    (tmp_path / "governance.yaml").write_text("rules:\n  GOV004: error\n")
    first = admin.publish_governance(tmp_path / "governance.yaml")
    (tmp_path / "governance.yaml").write_text("rules:\n  GOV004: off\n  GOV010: error\n")
    second = admin.publish_governance(tmp_path / "governance.yaml")
    assert (first.version, second.version) == (1, 2)
    assert second.published_by == "user:pat" and second.published_at is not None
    old = load_governance(lake.catalog, 1)
    assert old is not None and old.rules["GOV004"][0].severity == "error"
    assert old.line_of(("rules", "GOV004")) == 2
    current = load_governance(lake.catalog)
    assert current is not None and (current.version, current.text, current.rules) == (2, second.text, second.rules)


def test_only_mesh_admins_publish_once_the_lake_has_a_mesh_policy(lake: ml.Lake, tmp_path: Path) -> None:
    lake.init_access(["group:platform"])
    (tmp_path / "governance.yaml").write_text("rules: {GOV004: error}\n")
    with pytest.raises(AccessDeniedError) as caught:
        as_caller(lake, "user:eve", "sales").publish_governance(tmp_path / "governance.yaml")
    assert caught.value.address == "the governance policy"
    assert load_governance(lake.catalog) is None


def test_a_scope_that_matches_no_deployed_product_is_refused_at_publish_and_at_lint_mesh(
    lake: ml.Lake, tmp_path: Path
) -> None:
    lake.deploy(write(tmp_path / "products", compliant()))
    (tmp_path / "governance.yaml").write_text("rules:\n  GOV004: {severity: error, scope: {domains: [salse]}}\n")
    with pytest.raises(GovernanceError) as caught:
        lake.publish_governance(tmp_path / "governance.yaml")
    assert caught.value.line == 2 and caught.value.field == "rules.GOV004.scope"
    assert load_governance(lake.catalog) is None
    with pytest.raises(GovernanceError):
        lake.lint(mesh=True, policy=tmp_path / "governance.yaml")
