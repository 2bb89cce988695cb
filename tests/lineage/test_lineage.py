"""Lineage at snapshot granularity: pinned inputs up, readers down, vanished stamps and cycles shown."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from meshlake.cli.output import to_jsonable
from meshlake.contract.descriptor import parse_descriptor
from meshlake.errors import DescriptorError, DiscoveryError, PortNotFoundError, SnapshotNotFoundError
from meshlake.lineage.graph import LineageGraph, PortRecord, SnapshotRecord, declared_cycles
from meshlake.lineage.trace import downstream, upstream
from tests.access.conftest import run_cli
from tests.lineage.mesh import DROPPED, EXPIRED_ID, ORDERS, PICKING, PICKING_PRODUCT, REPORT, Mesh


def _steps(trace: Any) -> list[tuple[int, str, int, str]]:
    return [(s.depth, s.address, s.snapshot_id, s.status) for s in trace.steps]


def test_upstream_lists_the_input_snapshots_that_were_pinned_not_todays(mesh: Mesh) -> None:
    trace = mesh.lake.lineage().upstream(f"{REPORT}@{mesh.r1}")

    assert _steps(trace) == [
        (1, DROPPED, 42, "missing-port"),
        (1, PICKING, mesh.p1, "ok"),
        (2, ORDERS, mesh.s1, "ok"),  # s2 is today's: the stamp says s1
    ]


def test_upstream_without_a_ref_starts_at_the_published_snapshot(mesh: Mesh) -> None:
    trace = mesh.lake.lineage().upstream(REPORT)

    assert trace.snapshot_id == mesh.r2
    assert _steps(trace) == [
        (1, PICKING, mesh.p2, "ok"),
        (2, ORDERS, mesh.s2, "ok"),
        (1, ORDERS, EXPIRED_ID, "missing-snapshot"),
    ]


def test_upstream_depth_stops_after_that_many_stamps(mesh: Mesh) -> None:
    trace = mesh.lake.lineage().upstream(f"{REPORT}@{mesh.r1}", depth=1)

    assert {s.depth for s in trace.steps} == {1}


def test_a_stamp_naming_a_port_no_product_has_is_shown_as_missing_not_dropped(mesh: Mesh) -> None:
    step = next(s for s in mesh.lake.lineage().upstream(f"{REPORT}@{mesh.r1}").steps if s.address == DROPPED)

    assert step.status == "missing-port" and step.reason and "no deployed product" in step.reason


def test_downstream_lists_every_later_snapshot_that_read_it_including_stopped_writes(mesh: Mesh) -> None:
    trace = mesh.lake.lineage().downstream(f"{ORDERS}@{mesh.s2}")

    assert _steps(trace) == [(1, PICKING, mesh.p2, "ok"), (2, REPORT, mesh.r2, "ok"), (1, PICKING, mesh.stopped, "ok")]
    stopped = trace.steps[-1]
    assert stopped.verdict == "failed" and stopped.on_main is False and "gate stopped" in (stopped.reason or "")


def test_downstream_of_an_expired_snapshot_id_still_finds_its_readers(mesh: Mesh) -> None:
    trace = mesh.lake.lineage().downstream(f"{ORDERS}@{EXPIRED_ID}")

    assert _steps(trace) == [(1, REPORT, mesh.r2, "ok")]


def test_downstream_of_a_dropped_port_finds_the_snapshots_that_read_it(mesh: Mesh) -> None:
    assert _steps(mesh.lake.lineage().downstream(f"{DROPPED}@42")) == [(1, REPORT, mesh.r1, "ok")]


def _record(address: str, snapshot_id: int, inputs: dict[str, int]) -> SnapshotRecord:
    return SnapshotRecord(address, snapshot_id, datetime(2026, 1, 1, tzinfo=UTC), None, None, None, inputs, None, True)


def test_a_cycle_in_stamps_is_marked_and_not_followed_forever() -> None:
    a = PortRecord("d.a.x", "ok", snapshots={1: _record("d.a.x", 1, {"d.b.x": 2})})
    b = PortRecord("d.b.x", "ok", snapshots={2: _record("d.b.x", 2, {"d.a.x": 1})})
    graph = LineageGraph({}, {"d.a.x": a, "d.b.x": b}, [("d.a.x", "d.b.x"), ("d.b.x", "d.a.x")])

    assert _steps(upstream(graph, "d.a.x", 1)) == [(1, "d.b.x", 2, "ok"), (2, "d.a.x", 1, "cycle")]
    assert _steps(downstream(graph, "d.a.x", 1)) == [(1, "d.b.x", 2, "ok"), (2, "d.a.x", 1, "cycle")]
    assert graph.cycles() == [["d.a.x", "d.b.x", "d.a.x"]]


def test_cycles_in_declared_lineage_are_reported_once_each() -> None:
    edges = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("e", "e"), ("d", "f")]

    assert declared_cycles(edges) == [["a", "b", "c", "a"], ["e", "e"]]


def test_a_declared_cycle_between_two_products_is_reported(mesh: Mesh, tmp_path: Path) -> None:
    from tests.lineage.mesh import ORDERS_PRODUCT, deploy

    looped = json.loads(json.dumps(ORDERS_PRODUCT)) | {
        "inputs": [{"name": "report", "port": REPORT}],
        "version": "1.0.1",
    }
    deploy(mesh.lake, tmp_path / "looped", looped)

    assert mesh.lake.lineage().cycles() == [[REPORT, ORDERS, PICKING, REPORT]]  # from its smallest address


def test_lineage_refuses_a_depth_below_one(mesh: Mesh) -> None:
    with pytest.raises(DiscoveryError):
        mesh.lake.lineage().upstream(REPORT, depth=0)


def test_lineage_of_an_unknown_port_or_ref_names_what_exists(mesh: Mesh) -> None:
    lineage = mesh.lake.lineage()
    with pytest.raises(PortNotFoundError) as missing:
        lineage.upstream("finance.report.monthly@1")
    assert missing.value.known == [REPORT]
    with pytest.raises(SnapshotNotFoundError) as no_tag:
        lineage.upstream(f"{REPORT}@no-such-tag")
    assert no_tag.value.address == REPORT
    with pytest.raises(SnapshotNotFoundError):
        lineage.upstream(f"{REPORT}@12345")  # upstream needs a snapshot the port keeps


def test_column_lineage_from_declarations_and_source_sql(mesh: Mesh) -> None:
    edges = {
        (e.source_column, e.target_port, e.target_column, e.transformation, e.origin)
        for e in mesh.lake.lineage().columns().edges
    }

    assert ("amount", PICKING, "amount", "DIRECT", "declared") in edges
    assert ("hub", PICKING, "amount", "INDIRECT", "declared") in edges
    assert ("amount", PICKING, "amount", "DIRECT", "sql") in edges
    assert ("amount", PICKING, "hub", "INDIRECT", "sql") in edges  # the WHERE decides which rows exist
    assert ("amount", REPORT, "total", "DIRECT", "declared") in edges


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        ("SELECT hub FROM customers", "customers, which is no input"),
        ("SELEKT nonsense FROM", "cannot read source_sql"),
        ("INSERT INTO orders VALUES (1)", "not a query"),
    ],
)
def test_a_source_sql_that_cannot_be_read_is_a_problem_of_its_port(sql: str, problem: str) -> None:
    from meshlake.lineage.columns import column_lineage

    data = json.loads(json.dumps(PICKING_PRODUCT))
    data["outputs"][0]["source_sql"] = sql
    found = column_lineage(parse_descriptor(yaml.safe_dump(data)), {ORDERS: {"hub": "string", "amount": "double"}})

    assert len(found.problems) == 1 and problem in found.problems[0]
    assert {e.origin for e in found.edges} == {"declared"}  # the declared lineage still stands


def test_a_source_column_its_port_does_not_declare_is_marked_unknown() -> None:
    from meshlake.lineage.columns import column_lineage

    data = json.loads(json.dumps(PICKING_PRODUCT))
    data["outputs"][0]["columns"][0]["derived_from"] = ["orders.no_such_column"]
    data["outputs"][0].pop("source_sql")
    found = column_lineage(parse_descriptor(yaml.safe_dump(data)), {ORDERS: {"hub": "string"}})

    assert [e.known for e in found.edges if e.source_column == "no_such_column"] == [False]


@pytest.mark.parametrize(
    ("value", "field"),
    [
        (["customers.hub"], "outputs[0].columns[0].derived_from[0]"),
        (["orders"], "outputs[0].columns[0].derived_from[0]"),
        (["orders.Hub"], "outputs[0].columns[0].derived_from[0]"),
    ],
)
def test_derived_from_must_name_an_input_and_a_column(value: list[str], field: str) -> None:
    data = json.loads(json.dumps(PICKING_PRODUCT))
    data["outputs"][0]["columns"][0]["derived_from"] = value

    with pytest.raises(DescriptorError) as error:
        parse_descriptor(yaml.safe_dump(data), file="dataproduct.yaml")
    assert error.value.field == field and error.value.line is not None


def test_the_cli_prints_the_same_trace_as_the_api(mesh: Mesh) -> None:
    config = f"--config={mesh.home.parent / 'meshlake.yaml'}"
    (mesh.home.parent / "meshlake.yaml").write_text(f"home: {mesh.home}\n", encoding="utf-8")
    result = run_cli(config, "--json", "lineage", "upstream", f"{REPORT}@{mesh.r1}", "--depth", "2")

    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    expected = mesh.lake.lineage().upstream(f"{REPORT}@{mesh.r1}", depth=2).to_dict()
    assert printed == to_jsonable(expected)  # ids as strings, as every --json output
    human = run_cli(config, "lineage", "downstream", f"{ORDERS}@{mesh.s2}")
    assert human.exit_code == 0 and f"{PICKING}@{mesh.stopped}" in human.output and "not on main" in human.output


def test_the_cli_refuses_downstream_without_a_ref_and_a_zero_depth(mesh: Mesh) -> None:
    config = f"--config={mesh.home.parent / 'meshlake.yaml'}"
    (mesh.home.parent / "meshlake.yaml").write_text(f"home: {mesh.home}\n", encoding="utf-8")

    assert run_cli(config, "lineage", "downstream", ORDERS).exit_code == 2
    assert run_cli(config, "lineage", "upstream", ORDERS, "--depth", "0").exit_code == 2
    unknown = run_cli(config, "lineage", "upstream", "sales.orders.nope")
    assert unknown.exit_code == 1 and "does not exist" in unknown.output


def test_a_port_the_caller_may_not_read_is_hidden_and_named_as_a_possible_reader(tmp_path: Path) -> None:
    from meshlake.errors import AccessDeniedError
    from tests.site.conftest import build_governed

    governed = build_governed(tmp_path / ".meshlake")
    lineage = governed.as_analyst().lineage()
    orders = lineage.graph.port(ORDERS)

    assert lineage.graph.port(PICKING).status == "hidden" and lineage.graph.port(PICKING).snapshots == {}
    trace = lineage.downstream(f"{ORDERS}@{orders.main_id}")
    assert trace.steps == () and trace.hidden_readers == (PICKING,)
    with pytest.raises(AccessDeniedError):
        lineage.upstream(PICKING)
    admin = governed.admin.lineage().downstream(f"{ORDERS}@{orders.main_id}")
    assert [s.address for s in admin.steps] == [PICKING] and admin.hidden_readers == ()


def test_the_cli_lists_column_lineage_and_declared_cycles(mesh: Mesh) -> None:
    (mesh.home.parent / "meshlake.yaml").write_text(f"home: {mesh.home}\n", encoding="utf-8")
    result = run_cli(f"--config={mesh.home.parent / 'meshlake.yaml'}", "--json", "lineage", "columns")

    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed["edges"] == [e.to_dict() for e in mesh.lake.lineage().columns().edges]
    assert printed["cycles"] == [] and printed["problems"] == []
