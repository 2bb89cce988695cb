"""Waivers: in the product's descriptor, with a reason, an owner and an expiry date."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from meshlake.errors import DescriptorError
from meshlake.governance.engine import evaluate
from meshlake.governance.policy import parse_policy
from meshlake.governance.subjects import descriptor_files, load_files
from tests.governance.conftest import compliant, write


def _report(tmp_path: Path, waivers: list[dict[str, object]], *, today: date = date(2026, 12, 1)) -> object:
    data = compliant()
    del data["outputs"][0]["columns"][1]["classification"]  # GOV005 on placed.email
    del data["outputs"][0]["columns"][0]["description"]  # GOV004 (warn) on placed.order_id
    data["waivers"] = waivers
    write(tmp_path, data)
    subjects, invalid = load_files(descriptor_files([tmp_path]))
    assert invalid == []
    return evaluate(subjects, policy=parse_policy("{}"), today=today)


def _waiver(**fields: object) -> dict[str, object]:
    return {
        "rule": "GOV005",
        "reason": "Classified in DATA-142",
        "owner": "sales@example.com",
        "expires": "2027-03-31",
    } | fields


def test_a_current_waiver_excuses_its_rule_and_the_product_passes(tmp_path: Path) -> None:
    report = _report(tmp_path, [_waiver()])
    waived = [f for f in report.findings if f.waived]  # type: ignore[attr-defined]
    assert [(f.code, f.column, f.waived.owner) for f in waived] == [("GOV005", "email", "sales@example.com")]
    assert report.passed  # type: ignore[attr-defined]


def test_an_expired_waiver_fails_the_product(tmp_path: Path) -> None:
    report = _report(tmp_path, [_waiver(expires="2026-11-30")])
    codes = sorted(f.code for f in report.blocking)  # type: ignore[attr-defined]
    assert codes == ["GOV005", "GOV090"]
    expired = next(f for f in report.findings if f.code == "GOV090")  # type: ignore[attr-defined]
    assert expired.field == "waivers[0]" and expired.line is not None


def test_a_waiver_targets_one_port_or_column(tmp_path: Path) -> None:
    assert _report(tmp_path / "a", [_waiver(target="placed.email")]).passed  # type: ignore[attr-defined]
    assert not _report(tmp_path / "b", [_waiver(target="placed.order_id")]).passed  # type: ignore[attr-defined]
    assert _report(tmp_path / "c", [_waiver(target="placed")]).passed  # type: ignore[attr-defined]


@pytest.mark.parametrize("rule", ["GOV777", "GOV013", "ACME001"])
def test_a_waiver_of_a_rule_the_policy_lacks_or_that_cannot_be_waived_is_an_error(tmp_path: Path, rule: str) -> None:
    report = _report(tmp_path, [_waiver(), _waiver(rule=rule)])
    assert [f.code for f in report.blocking] == ["GOV091"]  # type: ignore[attr-defined]


def test_a_waiver_without_expiry_is_refused_when_the_descriptor_loads(tmp_path: Path) -> None:
    data = compliant(waivers=[{"rule": "GOV005", "reason": "r", "owner": "o@example.com"}])
    file = write(tmp_path, data)
    from meshlake.contract.descriptor import load_descriptor

    with pytest.raises(DescriptorError) as caught:
        load_descriptor(file)
    assert caught.value.field == "waivers[0]" and "expiry" in caught.value.problem
    assert "- rule: GOV005" in file.read_text().splitlines()[caught.value.line - 1]  # type: ignore[operator]
    _, invalid = load_files([file])
    assert [f.code for f in invalid] == ["GOV000"] and invalid[0].line == caught.value.line


@pytest.mark.parametrize("field", [{"reason": " "}, {"owner": ""}, {"rule": "gov5"}, {"expires": None}])
def test_a_waiver_needs_a_rule_code_a_reason_an_owner_and_a_date(tmp_path: Path, field: dict[str, object]) -> None:
    from meshlake.contract.descriptor import load_descriptor

    with pytest.raises(DescriptorError) as caught:
        load_descriptor(write(tmp_path, compliant(waivers=[_waiver(**field)])))
    assert caught.value.line is not None and (caught.value.field or "").startswith("waivers[0]")
