"""`lake.explain_access` and `meshlake access explain|whoami`: effective rights and how far they hold."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

import meshlake as ml
from meshlake.contract.principals import Principal
from meshlake.errors import InvalidPrincipalError, PortNotFoundError
from tests.access.conftest import as_caller, run_cli
from tests.conftest import SHIPMENTS, DescriptorWriter

ADDRESS = "logistics.shipments.daily"


def policed() -> dict[str, Any]:
    data = copy.deepcopy(SHIPMENTS)
    data["owner"]["principals"] = ["group:logistics"]
    port = data["outputs"][0]
    port["access"] = {
        "readers": ["group:analytics", "group:support"],
        "unmasked": ["group:support"],
        "row_filters": [{"principals": ["group:analytics"], "where": "weight_kg < 20"}],
    }
    port["columns"][3]["mask"] = "mask-alphanum"
    return data


@pytest.fixture
def config(lake: ml.Lake, write_descriptor: DescriptorWriter, tmp_path: Path) -> Path:
    lake.deploy(write_descriptor(policed()))
    path = tmp_path / "meshlake.yaml"
    path.write_text(f"home: {lake.settings.home}\n")
    return path


def test_explain_reports_read_rows_masks_write_and_level(lake: ml.Lake, config: Path) -> None:
    decision = lake.explain_access("user:ann", ADDRESS, groups=["analytics"])
    assert decision.read and not decision.write
    assert decision.row_filter is not None and decision.row_filter.clauses == ("weight_kg < 20",)
    assert {k: str(v) for k, v in decision.masks.items()} == {"customer_email": "mask-alphanum"}
    assert decision.level == "declared"

    lake.init_access(["group:platform"])
    assert lake.explain_access("user:ann", ADDRESS, groups=["analytics"]).level == "library"
    assert lake.explain_access(Principal.parse("user:olga"), ADDRESS, groups=["logistics"]).write
    assert as_caller(lake, "user:x").explain_access(lake.identity, ADDRESS).principal == lake.principal


def test_explain_refuses_a_bad_principal_or_address(lake: ml.Lake, config: Path) -> None:
    with pytest.raises(InvalidPrincipalError):
        lake.explain_access("ann", ADDRESS)
    with pytest.raises(PortNotFoundError):
        lake.explain_access("user:ann", "logistics.shipments.weekly")


def test_cli_explain_prints_effective_rights(config: Path) -> None:
    text = run_cli(f"--config={config}", "access", "explain", "user:ann", ADDRESS, "--group", "analytics")
    assert text.exit_code == 0, text.output
    assert "read:  yes (reader via group:analytics)" in text.output
    assert "rows:  (weight_kg < 20)" in text.output
    assert "masks: customer_email: mask-alphanum" in text.output
    assert "write: no (writing is for the product's owners (group:logistics) and mesh admins)" in text.output
    assert "level: declared" in text.output

    denied = run_cli(f"--config={config}", "access", "explain", "user:eve", ADDRESS)
    assert "read:  no (reading needs a grant in the port's readers" in denied.output
    assert "rows:" not in denied.output


def test_cli_explain_json_for_a_port_and_for_a_product(lake: ml.Lake, config: Path) -> None:
    lake.init_access(["group:platform"])
    one = run_cli(f"--config={config}", "access", "explain", "user:sam", ADDRESS, "--group", "support", "--json")
    data = json.loads(one.output)
    assert data["read"] and data["masks"] == {} and data["row_filter"] is None
    assert data["level"] == "library" and data["role"] == "reader"

    every = run_cli(f"--config={config}", "--json", "access", "explain", "group:platform", "logistics.shipments")
    assert [d["role"] for d in json.loads(every.output)] == ["admin"]  # any member of the admins' group
    every = run_cli(
        f"--config={config}", "--json", "access", "explain", "user:p", "logistics.shipments", "--group", "platform"
    )
    assert [d["role"] for d in json.loads(every.output)] == ["admin"]


def test_cli_whoami_shows_the_caller(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MESHLAKE_PRINCIPAL", "user:ann")
    monkeypatch.setenv("MESHLAKE_GROUPS", "analytics")
    shown = run_cli(f"--config={config}", "access", "whoami", "--json")
    data = json.loads(shown.output)
    assert data == {
        "principal": "user:ann",
        "groups": ["group:analytics"],
        "verified": False,
        "source": "environment",
        "ignored_groups": [],
        "level": "declared",
    }
    monkeypatch.setenv("MESHLAKE_PRINCIPAL", "ann")
    refused = run_cli(f"--config={config}", "access", "whoami")
    assert refused.exit_code == 1 and "invalid principal 'ann'" in refused.output


def test_explain_of_a_group_says_what_any_member_may_do_through_it(lake: ml.Lake, config: Path) -> None:
    lake.init_access(["group:platform"])
    analysts = lake.explain_access("group:analytics", ADDRESS)
    assert (str(analysts.principal), analysts.read, analysts.write) == ("group:analytics", True, False)
    assert analysts.row_filter is not None and set(analysts.masks) == {"customer_email"}
    assert lake.explain_access("group:analytics", ADDRESS, groups=["support"]).masks == {}
    assert not lake.explain_access("group:marketing", ADDRESS).read
    assert lake.explain_access("group:logistics", ADDRESS).write

    shown = run_cli(f"--config={config}", "access", "explain", "group:analytics", ADDRESS)
    assert shown.exit_code == 0, shown.output
    assert "group:analytics on logistics.shipments.daily" in shown.output and "(weight_kg < 20)" in shown.output


def test_a_group_is_never_a_caller(lake: ml.Lake) -> None:
    with pytest.raises(InvalidPrincipalError):
        ml.connect(home=str(lake.settings.home), principal="group:platform")
