"""Custom rules in Rego: the same findings as the built-in rules they restate, and never a silent pass."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from meshlake.errors import GovernanceError
from meshlake.governance.engine import Report, evaluate
from meshlake.governance.policy import parse_policy, read_policy_file
from meshlake.governance.subjects import descriptor_files, load_files
from tests.governance.conftest import compliant, write
from tests.governance.meshgen import generated_mesh

pytest.importorskip("regopy", reason="custom rules need the governance extra (regopy)")

PACK = Path(__file__).resolve().parents[2] / "meshlake" / "governance" / "rego_pack" / "governance.yaml"


def _subjects(folder: Path, products: list[dict[str, object]]) -> list[object]:
    for data in products:
        write(folder, data)
    subjects, invalid = load_files(descriptor_files([folder]))
    assert invalid == []
    return subjects  # type: ignore[return-value]


def _located(report: Report, rename: dict[str, str] | None = None) -> Counter[tuple[object, ...]]:
    rename = rename or {}
    return Counter((rename.get(f.code, f.code), f.severity, f.product, f.port, f.column) for f in report.findings)


def test_the_rego_pack_finds_exactly_what_the_builtin_rules_find(tmp_path: Path) -> None:
    subjects = _subjects(tmp_path, generated_mesh(60, seed=3))
    builtin = evaluate(subjects, policy=parse_policy("rules: {GOV011: off}"))  # type: ignore[arg-type]
    pack = evaluate(subjects, policy=read_policy_file(PACK))  # type: ignore[arg-type]
    rename = {f"PACK{code[3:]}": code for code in (f"GOV{n:03d}" for n in range(1, 13))}
    assert _located(builtin), "the generated mesh must break the rules"
    assert _located(pack, rename) == _located(builtin)
    codes = {f.code for f in builtin.findings}
    assert {"GOV001", "GOV002", "GOV005", "GOV006", "GOV008", "GOV009", "GOV010", "GOV012"} <= codes


def _policy(tmp_path: Path, rego: str, *, budget: str = "30s", extra: str = "") -> object:
    text = (
        f"rego_time_budget: {budget}\n"
        "custom:\n"
        "  - code: ACME001\n"
        "    title: A custom rule\n"
        "    rego: |\n" + "".join(f"      {line}\n" for line in rego.splitlines()) + extra
    )
    (tmp_path / "governance.yaml").write_text(text, encoding="utf-8")
    return read_policy_file(tmp_path / "governance.yaml")


def test_a_custom_rule_that_raises_is_an_error_finding_for_every_product_in_scope(tmp_path: Path) -> None:
    policy = _policy(tmp_path, "package acme\nimport rego.v1\ndeny contains f if {\n  f := 1 / 0\n}")
    subjects = _subjects(tmp_path / "p", [compliant(name="a"), compliant(name="b")])
    report = evaluate(subjects, policy=policy)  # type: ignore[arg-type]
    failed = [f for f in report.findings if f.code == "GOV099"]
    assert sorted(f.product for f in failed) == ["sales.a", "sales.b"]
    assert all(f.blocking and "ACME001" in f.message and "governance.yaml:3" in f.message for f in failed)
    assert not report.passed


def test_a_custom_rule_that_loops_is_stopped_at_its_time_budget_and_the_next_rule_still_runs(
    tmp_path: Path,
) -> None:
    looping = "package acme\nimport rego.v1\ndeny contains n if {\n  some n in numbers.range(1, 1000000000)\n  n < 0\n}"
    second = (
        "  - code: ACME002\n    title: Every product is flagged\n    rego: |\n"
        "      package acme2\n      import rego.v1\n"
        '      deny := [f | some p in input.products; f := {"product": p.name}]\n'
    )
    policy = _policy(tmp_path, looping, budget="2s", extra=second)
    subjects = _subjects(tmp_path / "p", [compliant()])
    report = evaluate(subjects, policy=policy)  # type: ignore[arg-type]
    codes = sorted(f.code for f in report.findings)
    assert codes == ["ACME002", "GOV099"]
    failed = next(f for f in report.findings if f.code == "GOV099")
    assert "time budget of 2 s" in failed.message


@pytest.mark.parametrize(
    "result",
    [
        '[{"port": "placed"}]',  # no product
        '[{"product": "sales.orders", "port": "nope"}]',  # a port the product lacks
        '[{"product": "sales.orders", "column": "order_id"}]',  # a column without its port
        '"everything"',  # not a list
    ],
)
def test_a_custom_rule_returning_what_names_no_product_port_or_column_fails_rather_than_passes(
    tmp_path: Path, result: str
) -> None:
    policy = _policy(tmp_path, f"package acme\nimport rego.v1\ndeny := {result}")
    subjects = _subjects(tmp_path / "p", [compliant()])
    report = evaluate(subjects, policy=policy)  # type: ignore[arg-type]
    assert [f.code for f in report.findings] == ["GOV099"]


def test_custom_findings_land_on_their_port_and_column_with_the_descriptor_line(tmp_path: Path) -> None:
    rego = (
        "package acme\nimport rego.v1\n"
        'deny := [{"product": "sales.orders", "port": "placed", "column": "email", "message": "no emails"}]'
    )
    policy = _policy(tmp_path, rego, extra="    severity: warn\n")
    subjects = _subjects(tmp_path / "p", [compliant()])
    (finding,) = evaluate(subjects, policy=policy).findings  # type: ignore[arg-type]
    assert (finding.code, finding.severity, finding.port, finding.column, finding.message) == (
        "ACME001",
        "warn",
        "placed",
        "email",
        "no emails",
    )
    lines = Path(subjects[0].file).read_text().splitlines()  # type: ignore[attr-defined]
    assert "email" in lines[finding.line - 1]  # type: ignore[operator]


def test_a_rego_syntax_error_names_the_policy_file_and_the_line_inside_the_inline_module(tmp_path: Path) -> None:
    with pytest.raises(GovernanceError) as caught:
        _policy(tmp_path, "package acme\nimport rego.v1\ndeny contains f if {\n  f := 1 +\n}")
    error = caught.value
    assert error.code == "ACME001" and error.file.endswith("governance.yaml")
    text = (tmp_path / "governance.yaml").read_text().splitlines()
    assert "f := 1 +" in text[error.line - 1]  # type: ignore[operator]


def test_a_rego_syntax_error_in_a_module_file_names_that_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "bad.rego").write_text("package acme\n\nimport rego.v1\n\ndeny := [x | x := ]\n")
    (tmp_path / "governance.yaml").write_text(
        yaml.safe_dump({"custom": [{"code": "ACME001", "title": "t", "module": "rules/bad.rego"}]})
    )
    with pytest.raises(GovernanceError) as caught:
        read_policy_file(tmp_path / "governance.yaml")
    assert caught.value.file.endswith("bad.rego") and caught.value.line == 5


def test_a_rule_that_raises_does_not_stop_the_rules_after_it(tmp_path: Path) -> None:
    second = (
        "  - code: ACME002\n    title: Every product is flagged\n    rego: |\n"
        "      package acme2\n      import rego.v1\n"
        '      deny := [f | some p in input.products; f := {"product": p.name}]\n'
    )
    policy = _policy(tmp_path, "package acme\nimport rego.v1\ndeny contains f if {\n  f := 1 / 0\n}", extra=second)
    subjects = _subjects(tmp_path / "p", [compliant()])
    report = evaluate(subjects, policy=policy)  # type: ignore[arg-type]
    assert sorted(f.code for f in report.findings) == ["ACME002", "GOV099"]


def test_two_rules_of_the_same_package_in_different_modules_are_evaluated_apart(tmp_path: Path) -> None:
    same = (
        "  - code: ACME002\n    title: The other module of package acme\n    rego: |\n"
        "      package acme\n      import rego.v1\n"
        '      deny := [f | some p in input.products; f := {"product": p.name, "message": "second"}]\n'
    )
    first = (
        "package acme\nimport rego.v1\n"
        'deny := [f | some p in input.products; f := {"product": p.name, "message": "first"}]'
    )
    policy = _policy(tmp_path, first, extra=same)
    subjects = _subjects(tmp_path / "p", [compliant()])
    found = sorted((f.code, f.message) for f in evaluate(subjects, policy=policy).findings)  # type: ignore[arg-type]
    assert found == [("ACME001", "first"), ("ACME002", "second")]
