"""Enforcement points: deploy refuses exactly what lint reports as errors; runs and writes obey runtime rules;
findings are recorded in meshlake.system.governance_findings."""

from __future__ import annotations

import copy
from pathlib import Path

import pyarrow as pa
import pytest

import meshlake as ml
from meshlake.errors import GovernanceViolationError, ProductNotFoundError
from meshlake.governance.checks import GOVERNANCE_VERSION
from tests.access.conftest import as_caller
from tests.governance.conftest import compliant, write
from tests.governance.meshgen import generated_mesh


def _publish(lake: ml.Lake, tmp_path: Path, text: str = "rules: {GOV010: error}\n") -> None:
    (tmp_path / "governance.yaml").write_text(text, encoding="utf-8")
    lake.publish_governance(tmp_path / "governance.yaml")


def _deploy_outcome(lake: ml.Lake, file: Path) -> list[str] | None:
    """The findings a refused deploy names (None: the deploy went through)."""
    try:
        lake.deploy(file)
    except GovernanceViolationError as refused:
        return [str(f) for f in refused.findings]
    return None


@pytest.mark.slow
def test_deploy_refuses_exactly_what_lint_reports_as_errors_on_generated_products(
    lake: ml.Lake, tmp_path: Path
) -> None:
    _publish(lake, tmp_path)
    refused = passed = 0
    for data in generated_mesh(40, seed=11):
        file = write(tmp_path / "products", data)
        report = lake.lint([file])
        outcome = _deploy_outcome(lake, file)
        assert outcome == ([str(f) for f in report.blocking] or None), file
        refused += outcome is not None
        passed += outcome is None
    # the second version of each deployed product drops a column without a major bump: GOV013 everywhere
    for product in lake.products():
        data = copy.deepcopy(product.descriptor.model_dump(mode="json", by_alias=True, exclude_none=True))
        data["version"] = "1.1.0"
        data["outputs"][0]["columns"] = data["outputs"][0]["columns"][:-1]
        file = write(tmp_path / "v2", data)
        report = lake.lint([file])
        assert "GOV013" in {f.code for f in report.blocking}
        assert _deploy_outcome(lake, file) == [str(f) for f in report.blocking]
    assert refused > 5 and passed > 5


def test_a_refused_deploy_changes_nothing_and_records_its_findings(lake: ml.Lake, tmp_path: Path) -> None:
    _publish(lake, tmp_path)
    data = compliant()
    del data["description"]
    with pytest.raises(GovernanceViolationError) as caught:
        lake.deploy(write(tmp_path / "products", data))
    assert [f.code for f in caught.value.findings] == ["GOV002"] and caught.value.policy_version == 1
    with pytest.raises(ProductNotFoundError):
        lake.product("sales.orders")
    rows = lake.sql(
        "SELECT point, product, address, code, blocking, policy_version FROM meshlake.system.governance_findings"
    ).fetchall()
    assert rows == [("deploy", "sales.orders", "sales.orders", "GOV002", True, 1)]


def test_a_redeploy_refused_by_governance_leaves_the_deployed_product_as_it_was(lake: ml.Lake, tmp_path: Path) -> None:
    file = write(tmp_path / "products", compliant())
    lake.deploy(file)
    _publish(lake, tmp_path)
    changed = compliant(version="1.1.0")
    changed["outputs"][0]["columns"].append({"name": "note", "type": "string"})  # no classification: GOV005
    with pytest.raises(GovernanceViolationError):
        lake.deploy(write(tmp_path / "products", changed))
    product = lake.product("sales.orders")
    assert product.version == "1.0.0" and [c.name for c in product.port("placed").contract.columns] == [
        "order_id",
        "email",
    ]


def test_a_deploy_that_passes_is_stamped_with_the_governance_version(lake: ml.Lake, tmp_path: Path) -> None:
    _publish(lake, tmp_path)
    lake.deploy(write(tmp_path / "products", compliant()))
    properties = lake.catalog.load_namespace_properties(("sales", "orders"))
    assert properties[GOVERNANCE_VERSION] == "1"
    _publish(lake, tmp_path, "rules: {GOV004: error}\n")
    lake.deploy(write(tmp_path / "products", compliant()))
    assert lake.catalog.load_namespace_properties(("sales", "orders"))[GOVERNANCE_VERSION] == "2"


def test_without_a_published_policy_deploy_checks_nothing(lake: ml.Lake, tmp_path: Path) -> None:
    data = compliant()
    del data["description"]
    lake.deploy(write(tmp_path / "products", data))
    assert not lake.lint([tmp_path / "products"]).passed  # lint still checks the default policy
    assert GOVERNANCE_VERSION not in lake.catalog.load_namespace_properties(("sales", "orders"))


def test_owners_read_only_the_findings_of_their_own_products(lake: ml.Lake, tmp_path: Path) -> None:
    lake.init_access(["group:platform"])
    admin = as_caller(lake, "user:pat", "platform")
    for name, team in (("orders", "sales"), ("drones", "fleet")):
        data = compliant(name=name)
        data["owner"]["principals"] = [f"group:{team}"]
        del data["outputs"][0]["columns"][0]["description"]  # a warning: recorded, not refused
        admin.deploy(write(tmp_path / "products", data))
    admin.lint(mesh=True, record=True)
    query = "SELECT DISTINCT product FROM meshlake.system.governance_findings ORDER BY 1"
    assert admin.sql(query).fetchall() == [("sales.drones",), ("sales.orders",)]
    assert as_caller(lake, "user:sam", "sales").sql(query).fetchall() == [("sales.orders",)]
    assert as_caller(lake, "user:ann", "analytics").sql(query).fetchall() == []


PIPELINE = """
from pathlib import Path

def build(inputs, context):
    Path(__file__).with_name("called").write_text("yes")
    return {}
"""


def _producer(readers: list[str], version: str = "1.0.0") -> dict[str, object]:
    data = compliant(domain="finance", name="ledger", version=version)
    data["outputs"][0]["access"] = {"readers": readers}
    return data


def test_a_run_reading_an_input_it_is_no_longer_granted_stops_before_the_pipeline_runs(
    lake: ml.Lake, tmp_path: Path
) -> None:
    lake.deploy(write(tmp_path / "products", _producer(["product:sales.forecast"])))
    consumer = compliant(name="forecast", inputs=[{"name": "ledger", "port": "finance.ledger.placed", "snapshot": 1}])
    file = write(tmp_path / "products", consumer)
    (file.parent / "pipeline.py").write_text(PIPELINE)
    _publish(lake, tmp_path)
    lake.deploy(file)
    lake.deploy(write(tmp_path / "products", _producer(["group:finance"], "2.0.0")))  # the grant is revoked (major)
    with pytest.raises(GovernanceViolationError) as caught:
        lake.run(file.parent)
    assert [f.code for f in caught.value.findings] == ["GOV009"] and caught.value.action == "run"
    assert not (file.parent / "called").exists()
    points = lake.sql("SELECT point, code FROM meshlake.system.governance_findings").fetchall()
    assert ("run", "GOV009") in points


def test_a_write_naming_an_ungranted_input_is_refused_and_publishes_nothing(lake: ml.Lake, tmp_path: Path) -> None:
    lake.deploy(write(tmp_path / "products", _producer(["group:finance"])))
    lake.deploy(write(tmp_path / "products", compliant()))
    _publish(lake, tmp_path)
    port = lake.port("sales.orders.placed")
    rows = pa.table({"order_id": pa.array([1], pa.int64()), "email": ["a@example.com"]})
    port.write(rows)
    before = port.latest().snapshot_id
    with pytest.raises(GovernanceViolationError) as caught:
        port.write(rows, inputs={"finance.ledger.placed": 1})
    assert caught.value.action == "write"
    assert port.latest().snapshot_id == before
    port.write(rows, mode="overwrite", inputs={"sales.orders.placed": before or 0})  # its own port: granted
