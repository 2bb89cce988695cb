"""`meshlake lint` and `meshlake governance`: exit codes, every output format, SARIF checked against its schema."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import pytest

import meshlake as ml
from meshlake.pipelines.scaffold import create_product, templates
from tests.governance.conftest import compliant, run_cli, write

SARIF_SCHEMA = Path(__file__).resolve().parents[1] / "data" / "sarif-2.1.0.schema.json"


def _mixed(folder: Path) -> Path:
    """Two products: one compliant, one with an error (no description) and a waived finding."""
    write(folder, compliant(name="good"))
    bad = compliant(name="bad")
    del bad["description"]
    del bad["outputs"][0]["columns"][1]["classification"]
    bad["waivers"] = [{"rule": "GOV005", "reason": "legacy", "owner": "o@example.com", "expires": "2099-01-01"}]
    write(folder, bad)
    return folder


def test_lint_exits_1_on_errors_and_0_on_warnings_only(tmp_path: Path) -> None:
    failing = run_cli("lint", str(_mixed(tmp_path / "mixed")))
    assert failing.exit_code == 1, failing.output
    assert "GOV002 product-description" in failing.output and "1 error(s)" in failing.output
    warned = compliant()
    del warned["outputs"][0]["columns"][0]["description"]
    passing = run_cli("lint", str(write(tmp_path / "ok", warned)))
    assert passing.exit_code == 0, passing.output
    assert "warn GOV004" in passing.output


def test_lint_sarif_output_validates_against_the_sarif_2_1_0_schema(tmp_path: Path) -> None:
    import jsonschema

    result = run_cli("lint", str(_mixed(tmp_path / "mixed")), "--format", "sarif")
    assert result.exit_code == 1
    log = json.loads(result.stdout)
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(log)
    results = log["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"GOV002", "GOV005"}
    waived = next(r for r in results if r["ruleId"] == "GOV005")
    assert waived["suppressions"][0]["kind"] == "inSource"
    located = next(r for r in results if r["ruleId"] == "GOV002")
    assert located["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("bad/dataproduct.yaml")
    broken = dict(log, version="2.0.0")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(schema).validate(broken)


def test_lint_junit_github_and_json_formats(tmp_path: Path) -> None:
    folder = _mixed(tmp_path / "mixed")
    junit = ElementTree.fromstring(run_cli("lint", str(folder), "--format", "junit").stdout)
    suite = junit.find("testsuite")
    assert suite is not None and (suite.get("tests"), suite.get("failures")) == ("2", "1")
    failed = [case.get("classname") for case in suite.iter("testcase") if case.find("failure") is not None]
    assert failed == ["sales.bad"]
    github = run_cli("lint", str(folder), "--format", "github").stdout.splitlines()
    assert github[0].startswith("::error file=") and ",line=" in github[0] and "title=GOV002" in github[0]
    assert not any("GOV005" in line for line in github)  # waived
    report = json.loads(run_cli("--json", "lint", str(folder)).stdout)
    assert (report["errors"], report["waived"], report["passed"]) == (1, 1, False)


def test_lint_writes_the_report_to_a_file_and_reads_a_policy_file(tmp_path: Path) -> None:
    folder = _mixed(tmp_path / "mixed")
    (tmp_path / "governance.yaml").write_text("rules:\n  GOV002: off\n")
    out = tmp_path / "report.sarif"
    result = run_cli(
        "lint", str(folder), "--policy", str(tmp_path / "governance.yaml"), "--format", "sarif", "--output", str(out)
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["version"] == "2.1.0"


def test_lint_reports_an_invalid_descriptor_and_still_checks_the_others(tmp_path: Path) -> None:
    folder = _mixed(tmp_path / "mixed")
    (folder / "broken").mkdir()
    (folder / "broken" / "dataproduct.yaml").write_text("apiVersion: meshlake/v1\ndomain: sales\nname: [x\n")
    result = run_cli("--json", "lint", str(folder))
    codes = sorted(f["code"] for f in json.loads(result.stdout)["findings"])
    assert codes == ["GOV000", "GOV002", "GOV005"]


def test_lint_mesh_needs_a_lake_and_checks_every_deployed_product(tmp_path: Path) -> None:
    missing = run_cli("lint", "--mesh")
    assert missing.exit_code == 1 and "no lake found" in missing.output
    lake = ml.connect(home=str(tmp_path / ".meshlake"))
    lake.deploy(write(tmp_path / "products", compliant()))
    result = run_cli("--json", "lint", "--mesh", "--record")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["products"] == ["sales.orders"]


def test_governance_publish_show_and_history(tmp_path: Path) -> None:
    ml.connect(home=str(tmp_path / ".meshlake")).deploy(write(tmp_path / "products", compliant()))
    (tmp_path / "governance.yaml").write_text("rules:\n  GOV004: error\n")
    assert run_cli("governance", "publish", "governance.yaml").exit_code == 0
    run_cli("deploy", "products/orders")
    shown = json.loads(run_cli("--json", "governance", "show").stdout)
    assert (shown["version"], shown["rules"], shown["text"]) == (1, ["GOV004"], "rules:\n  GOV004: error\n")
    history = json.loads(run_cli("--json", "governance", "history").stdout)
    assert history[0]["version"] == 1 and history[0]["deploys_passed"] == ["sales.orders"]
    (tmp_path / "bad.yaml").write_text("rules:\n  GOV404: error\n")
    refused = run_cli("governance", "publish", "bad.yaml")
    assert refused.exit_code == 1 and "bad.yaml:2" in refused.output and "unknown rule code GOV404" in refused.output


@pytest.mark.parametrize("name", sorted(templates()))
def test_each_template_scaffolds_a_product_that_passes_lint_with_the_default_policy(name: str, tmp_path: Path) -> None:
    template = templates()[name]
    inputs = {item: f"shop.upstream{n}.events" for n, item in enumerate(template.inputs)}
    created = create_product("shop.made", template=name, directory=tmp_path / "made", inputs=inputs)
    result = run_cli("--json", "lint", str(created.directory))
    report = json.loads(result.stdout)
    assert result.exit_code == 0 and report["errors"] == 0, report["findings"]
    assert {f["code"] for f in report["findings"]} <= {"GOV010"}  # floating inputs are a warning by default
