"""The OpenLineage export: deterministic events, FAIL for stopped writes, the same over HTTP as in a file."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from meshlake.errors import DiscoveryError
from meshlake.lineage.openlineage import run_uuid
from tests.access.conftest import run_cli
from tests.lineage.mesh import ORDERS, PICKING, REPORT, Mesh

pytest.importorskip("openlineage.client", reason="the OpenLineage export needs meshlake[lineage]")


class Receiver(ThreadingHTTPServer):
    """An OpenLineage endpoint on 127.0.0.1 that keeps every body it is sent (or answers `status`)."""

    def __init__(self, status: int = 201) -> None:
        self.bodies: list[bytes] = []
        self.status = status
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/api/v1/lineage"


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.server.status < 300:
            self.server.bodies.append(body)
        self.send_response(self.server.status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_exporting_the_same_history_twice_gives_byte_identical_files(mesh: Mesh, tmp_path: Path) -> None:
    mesh.lake.export_lineage(tmp_path / "a.jsonl")
    again = type(mesh.lake)(mesh.lake.settings)  # another process would open the lake anew
    again.export_lineage(tmp_path / "b.jsonl")

    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert len(_events(tmp_path / "a.jsonl")) == 14  # 7 runs: START and COMPLETE/FAIL each


def test_each_run_has_a_start_and_an_end_with_inputs_and_outputs_at_their_snapshots(mesh: Mesh, tmp_path: Path) -> None:
    mesh.lake.export_lineage(tmp_path / "events.jsonl")
    events = _events(tmp_path / "events.jsonl")
    report = [e for e in events if e["job"]["name"] == "finance.report"]
    complete = next(
        e
        for e in report
        if e["eventType"] == "COMPLETE" and e["outputs"][0]["facets"]["version"]["datasetVersion"] == str(mesh.r2)
    )

    assert complete["job"]["namespace"] == "meshlake"
    assert {e["run"]["runId"] for e in report if e["run"]["runId"] == complete["run"]["runId"]}
    assert [e["eventType"] for e in report if e["run"]["runId"] == complete["run"]["runId"]] == ["START", "COMPLETE"]
    output = complete["outputs"][0]
    assert output["namespace"] == "file" and output["name"].endswith("/warehouse/finance/report/weekly")
    assert output["facets"]["symlinks"]["identifiers"] == [{"namespace": "meshlake", "name": REPORT, "type": "TABLE"}]
    versions = {
        i["facets"]["symlinks"]["identifiers"][0]["name"]: i["facets"]["version"]["datasetVersion"]
        for i in complete["inputs"]
    }
    assert versions == {PICKING: str(mesh.p2), ORDERS: "111"}  # the expired snapshot id too, as stamped
    lineage = output["facets"]["columnLineage"]["fields"]["total"]["inputFields"]
    assert [(f["field"], f["transformations"][0]["type"]) for f in lineage] == [("amount", "DIRECT")]


def test_a_write_the_gate_stopped_is_a_fail_event_with_its_failed_assertions(mesh: Mesh, tmp_path: Path) -> None:
    mesh.lake.export_lineage(tmp_path / "events.jsonl")
    events = _events(tmp_path / "events.jsonl")
    failed = [e for e in events if e["eventType"] == "FAIL"]

    assert len(failed) == 1 and failed[0]["run"]["runId"] == run_uuid("stoppedrun")
    output = failed[0]["outputs"][0]
    assert output["facets"]["version"]["datasetVersion"] == str(mesh.stopped)
    assertions = output["facets"]["dataQualityAssertions"]["assertions"]
    assert [(a["assertion"], a["column"], a["success"]) for a in assertions] == [
        ("expect_column_values_to_be_between", "amount", False)
    ]
    passed = next(e for e in events if e["eventType"] == "COMPLETE" and e["job"]["name"] == "logistics.picking")
    assert passed["outputs"][0]["facets"]["dataQualityAssertions"]["assertions"][0]["success"] is True


def test_what_arrives_over_http_equals_the_file_export(mesh: Mesh, tmp_path: Path, receiver: Receiver) -> None:
    mesh.lake.export_lineage(tmp_path / "events.jsonl")
    report = mesh.lake.export_lineage(receiver.url)

    sent = [body.decode("utf-8") for body in receiver.bodies]
    assert sent == (tmp_path / "events.jsonl").read_text(encoding="utf-8").splitlines()
    assert report.events == len(sent) == 14 and report.failed_runs == 1


def test_since_leaves_out_snapshots_committed_before_it(mesh: Mesh, tmp_path: Path) -> None:
    r2 = mesh.lake.lineage().graph.snapshot(REPORT, mesh.r2)
    assert r2 is not None
    mesh.lake.export_lineage(tmp_path / "later.jsonl", since=r2.committed_at)
    later = _events(tmp_path / "later.jsonl")

    assert later and all(e["eventTime"] >= r2.committed_at.isoformat(timespec="milliseconds")[:23] for e in later)
    assert mesh.lake.export_lineage(tmp_path / "none.jsonl", since=r2.committed_at + timedelta(days=1)).events == 0


@pytest.mark.parametrize("target", ["ftp://127.0.0.1/x", "missing-folder/events.jsonl", "."])
def test_an_export_target_that_cannot_be_written_is_refused(mesh: Mesh, tmp_path: Path, target: str) -> None:
    with pytest.raises(DiscoveryError):
        mesh.lake.export_lineage(target if "://" in target else tmp_path / target)


def test_a_naive_since_is_refused(mesh: Mesh, tmp_path: Path) -> None:
    with pytest.raises(DiscoveryError):
        mesh.lake.export_lineage(tmp_path / "x.jsonl", since=datetime(2026, 1, 1))


def test_a_receiver_that_refuses_or_is_unreachable_is_an_error_saying_how_many_were_sent(mesh: Mesh) -> None:
    refusing = Receiver(status=500)
    thread = threading.Thread(target=refusing.serve_forever, daemon=True)
    thread.start()
    try:
        with pytest.raises(DiscoveryError) as refused:
            mesh.lake.export_lineage(refusing.url)
        assert refused.value.value == "500" and "0 were sent" in str(refused.value)
    finally:
        refusing.shutdown()
        refusing.server_close()
    with pytest.raises(DiscoveryError, match="cannot send"):
        mesh.lake.export_lineage(refusing.url, timeout=1)  # nothing listens there any more


def test_the_cli_exports_and_refuses_a_bad_since(mesh: Mesh, tmp_path: Path) -> None:
    (mesh.home.parent / "meshlake.yaml").write_text(f"home: {mesh.home}\n", encoding="utf-8")
    config = f"--config={mesh.home.parent / 'meshlake.yaml'}"
    out = tmp_path / "cli.jsonl"

    result = run_cli(config, "--json", "lineage", "export", "--to", str(out), "--since", "2000-01-01T00:00:00Z")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["events"] == 14 == len(_events(out))
    bad = run_cli(config, "lineage", "export", "--to", str(out), "--since", "yesterday")
    assert bad.exit_code == 1 and "zoned ISO-8601" in bad.output
