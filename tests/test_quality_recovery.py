"""The verdict stamped on a snapshot is the truth: a writer killed between its commit and its quality record
leaves a gap in the quality history, which the next write or check of the port fills from the stamp."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from typing import Any

import pytest

import meshlake as ml
from meshlake.errors import QualityGateError
from meshlake.quality.records import RECOVERY_GRACE, read_results, reports_from_rows
from meshlake.write import faults
from tests.conftest import DescriptorWriter
from tests.test_gate import EXPECTATIONS
from tests.test_write import shipments

ADDRESS = "logistics.shipments.daily"

# One gated write, in a process of its own; MESHLAKE_CRASH_AT kills it at the phase the test names.
WRITER = """
import sys
from datetime import UTC, datetime
import pyarrow as pa
import meshlake as ml

home, shipment, weight = sys.argv[1], sys.argv[2], float(sys.argv[3])
data = pa.table({
    "shipment_id": pa.array([shipment], pa.string()),
    "shipped_at": pa.array([datetime(2026, 11, 1, tzinfo=UTC)], pa.timestamp("us", tz="UTC")),
    "weight_kg": pa.array([weight], pa.float64()),
})
ml.connect(home=home).port("logistics.shipments.daily").write(data)
"""


def killed_after_commit(lake: ml.Lake, shipment: str, weight: float) -> None:
    """Write in a child process that is SIGKILLed right after the port's commit, before its quality record."""
    env = {**os.environ, faults.CRASH_AT: "committed:1"}  # the 1st commit of a write is the port's own
    script = textwrap.dedent(WRITER)
    home = lake.settings.home
    done = subprocess.run([sys.executable, "-c", script, str(home), shipment, str(weight)], env=env, check=False)
    assert done.returncode == -signal.SIGKILL


def verdicts(port: Any) -> dict[int, list[tuple[str, bool]]]:
    """Per snapshot: the (trigger-free) gate verdicts the history holds, as (run id, passed)."""
    rows = [r for r in read_results(port.lake.catalog, address=ADDRESS) if r["trigger"] != "check"]
    found: dict[int, list[tuple[str, bool]]] = {}
    for report in reports_from_rows(rows):
        assert report.snapshot_id is not None
        found.setdefault(report.snapshot_id, []).append((report.run_id, report.passed))
    return found


def stamped(port: Any, snapshot_id: int) -> tuple[str, bool]:
    props = port.table().metadata.snapshot_by_id(snapshot_id).summary.additional_properties
    return props["meshlake.run-id"], json.loads(props["meshlake.quality"])["verdict"] == "passed"


def wait_out_the_grace() -> None:
    time.sleep(RECOVERY_GRACE.total_seconds() + 0.1)


@pytest.fixture
def gated(lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter) -> Any:
    descriptor["outputs"][0]["expectations"] = EXPECTATIONS[:3]
    lake.deploy(write_descriptor(descriptor))
    return lake.port(ADDRESS)


def test_a_write_killed_before_its_quality_record_is_recorded_by_the_next_write(gated: Any) -> None:
    gated.write(shipments(["a"], weight=1.0))
    killed_after_commit(gated.lake, "b", 1.0)
    killed_after_commit(gated.lake, "c", 2.0)
    lost = [h.snapshot_id for h in gated.history()][-2:]
    assert set(verdicts(gated)).isdisjoint(lost), "the killed writers recorded nothing"
    wait_out_the_grace()

    gated.write(shipments(["d"], weight=1.0))

    history = verdicts(gated)
    published = [h.snapshot_id for h in gated.history()]
    assert len(published) == 4
    for snapshot_id in published:
        assert history[snapshot_id] == [stamped(gated, snapshot_id)], f"snapshot {snapshot_id}"
    gated.write(shipments(["e"], weight=1.0))
    assert all(len(verdicts(gated)[s]) == 1 for s in published), "recovered once, not at every write"


def test_a_quarantined_write_killed_before_its_record_is_recorded_by_the_next_check(gated: Any) -> None:
    gated.write(shipments(["a"], weight=1.0))
    killed_after_commit(gated.lake, "bad", 99.0)  # fails the gate: committed to a quarantine branch
    [quarantined] = gated.quarantine()
    assert quarantined.report is None
    wait_out_the_grace()

    assert gated.check().passed

    [quarantined] = gated.quarantine()
    assert quarantined.report is not None and not quarantined.report.passed
    assert [r.expectation for r in quarantined.report.failed] == ["expect_column_values_to_be_between"]
    assert verdicts(gated)[quarantined.snapshot_id] == [(quarantined.run_id, False)]
    published = verdicts(gated)[gated.history()[-1].snapshot_id]
    assert published == [stamped(gated, gated.history()[-1].snapshot_id)]
    rows = gated.lake.sql(
        "SELECT DISTINCT trigger, published FROM meshlake.system.quality_results WHERE trigger = 'recovered'"
    ).fetchall()
    assert rows == [("recovered", False)]
    with pytest.raises(QualityGateError):
        gated.write(shipments(["worse"], weight=99.0))
    assert len(verdicts(gated)[quarantined.snapshot_id]) == 1
