"""What the CLI prints: safe human text, exact JSON with ids as strings, tables that never cut an id."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import meshlake as ml
from meshlake.cli.output import Output, safe_text, to_jsonable
from tests.conftest import SHIPMENTS, DescriptorWriter
from tests.test_gate import EXPECTATIONS
from tests.test_pipelines import ORDERS, PICKING, PICKING_PIPELINE, UPSTREAM, make_product, orders
from tests.test_write import shipments

ROOT = Path(__file__).resolve().parent.parent
ADDRESS = "logistics.shipments.daily"
HOSTILE = "clear\x1b[2Jtitle\x1b]0;pwned\x07hidden\x1b[8msecret\x1b[0m \u202eevil\u202c bell\x07 c1\x9b end"


def run(*args: str) -> Result:
    from meshlake.cli import commands  # noqa: F401 - registers commands
    from meshlake.cli.main import cli

    return CliRunner().invoke(cli, list(args))


def visible_controls(text: str) -> set[str]:
    """Characters a terminal would act on: what must never reach it from descriptor data."""
    return {c for c in text if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F or c in "\u202e\u202c"}


# -- 1. terminal escapes --------------------------------------------------------------------------------
def test_descriptions_cannot_send_terminal_escapes_but_json_keeps_them_exact(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    descriptor["description"] = HOSTILE
    descriptor["outputs"][0]["description"] = HOSTILE
    descriptor["outputs"][0]["columns"][0]["description"] = HOSTILE
    lake.deploy(write_descriptor(descriptor))

    for args in (["products"], ["describe", "logistics.shipments"], ["describe", ADDRESS]):
        human = run(*args)
        assert human.exit_code == 0, human.output
        assert visible_controls(human.output) == set(), args
        assert "\\x1b[2J" in human.output and "\\u202e" in human.output, "escaped, not dropped"
    as_json = json.loads(run("describe", "logistics.shipments", "--json").stdout)
    assert as_json["description"] == HOSTILE
    assert json.loads(run("products", "--json").stdout)[0]["description"] == HOSTILE


def test_safe_text_escapes_c0_del_c1_and_bidi_controls_but_keeps_newlines_and_tabs() -> None:
    assert safe_text("a\tb\nc") == "a\tb\nc"
    assert safe_text("\x1b[2J\x07\r\x7f\x85\u202e\u2066") == "\\x1b[2J\\x07\\x0d\\x7f\\x85\\u202e\\u2066"
    assert safe_text("héllo – ok ✓") == "héllo – ok ✓"


def test_human_output_goes_through_output() -> None:
    """Every command prints through `Output`, the one place that escapes: no print/echo/stdout elsewhere."""
    offenders = []
    for path in sorted((ROOT / "meshlake" / "cli").glob("*.py")):
        if path.name in ("output.py", "reference.py"):  # reference.py prints docs/cli.md, not a command's output
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                called = ast.unparse(node.func)
                if called in ("print", "click.echo", "click.secho") or re.match(r"sys\.std(out|err)\.", called):
                    offenders.append(f"{path.name}:{node.lineno}: {called}")
    assert offenders == []


# -- 4. JSON ids ------------------------------------------------------------------------------------------
def id_values(data: Any, key: str = "") -> list[Any]:
    """Every value under an id key, anywhere in a JSON document."""
    found = []
    if isinstance(data, dict):
        for k, v in data.items():
            if re.search(r"(^|_)ids?$|^snapshots_expired$", k) and not isinstance(v, dict | list):
                found.append(v)
            elif k == "inputs" and isinstance(v, dict):
                found.extend(v.values())
            else:
                found.extend(id_values(v, k))
    elif isinstance(data, list):
        for v in data:
            found.extend(id_values(v, key))
    return found


def assert_ids_are_strings(data: Any, *expected: int) -> None:
    ids = [v for v in id_values(data) if v is not None]
    assert ids, "the command printed ids"
    assert all(isinstance(v, str) for v in ids), ids
    assert {str(e) for e in expected} <= set(ids)


@pytest.fixture
def gated_port(lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter) -> Any:
    descriptor["outputs"][0]["expectations"] = EXPECTATIONS
    lake.deploy(write_descriptor(descriptor))
    return lake.port(ADDRESS)


def test_json_snapshot_ids_are_strings_in_every_command(gated_port: Any, tmp_path: Path) -> None:
    csv = tmp_path / "a.csv"
    csv.write_text("shipment_id,shipped_at,weight_kg\na,2026-11-01T10:00:00Z,1\n")
    written = json.loads(run("write", ADDRESS, str(csv), "--json").stdout)
    first = gated_port.latest().snapshot_id
    assert written["snapshot_id"] == str(first) and written["quality"]["snapshot_id"] == str(first)
    assert written["rows"] == 1, "counts stay numbers"
    gated_port.write(shipments(["b"], weight=2.0))
    second = gated_port.latest().snapshot_id
    with pytest.raises(ml.QualityGateError):
        gated_port.write(shipments(["c"], weight=99.0))

    history = json.loads(run("history", ADDRESS, "--json").stdout)
    assert_ids_are_strings(history, first, second)
    assert history[1]["parent_id"] == str(first)
    assert_ids_are_strings(json.loads(run("tag", ADDRESS, "v1", "--json").stdout), second)
    assert_ids_are_strings(json.loads(run("describe", ADDRESS, "--json").stdout), second)
    assert_ids_are_strings(json.loads(run("check", ADDRESS, "--json").stdout), second)
    quarantined = json.loads(run("quarantine", ADDRESS, "--json").stdout)
    assert_ids_are_strings(quarantined)
    assert quarantined[0]["snapshot_id"] == str(gated_port.quarantine()[0].snapshot_id)
    assert_ids_are_strings(json.loads(run("rollback", ADDRESS, "--to", str(first), "--json").stdout), first)
    checked = json.loads(run("sql", "SELECT snapshot_id FROM meshlake.system.quality_results", "--json").stdout)
    assert_ids_are_strings(checked, first, second)


def test_json_ids_of_a_pipeline_run_are_strings(lake: ml.Lake, tmp_path: Path) -> None:
    lake.deploy(make_product(tmp_path / "products" / "orders", UPSTREAM, "def build(inputs):\n    return {}\n"))
    picking = make_product(tmp_path / "products" / "picking", PICKING, PICKING_PIPELINE)
    lake.deploy(picking)
    lake.port(ORDERS).write(orders(("o1", 10.0)))

    result = run("run", str(picking), "--json")

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert_ids_are_strings(data, lake.port(ORDERS).latest().snapshot_id)
    assert data["outputs"]["seen"]["snapshot_id"] == str(lake.port("logistics.picking.seen").latest().snapshot_id)


def test_json_writes_ids_and_unsafe_integers_as_strings_and_keeps_other_numbers() -> None:
    data = {
        "snapshot_id": 7215648231920011325,
        "parent_id": 3,
        "snapshots_expired": [1, 2],
        "inputs": {"a.b.c": 9},
        "rows": 12,
        "passed": True,
        "ratio": 0.5,
        "total": 2**60,
        "nested": [{"latest_snapshot_id": 5, "count": -(2**53)}],
    }
    assert to_jsonable(data) == {
        "snapshot_id": "7215648231920011325",
        "parent_id": "3",
        "snapshots_expired": ["1", "2"],
        "inputs": {"a.b.c": "9"},
        "rows": 12,
        "passed": True,
        "ratio": 0.5,
        "total": str(2**60),
        "nested": [{"latest_snapshot_id": "5", "count": str(-(2**53))}],
    }


def test_the_cli_reference_says_ids_are_strings() -> None:
    reference = " ".join((ROOT / "docs" / "cli.md").read_text().split())
    assert "--json prints snapshot ids (and every other 64-bit id) as strings" in reference


# -- 5. tables ------------------------------------------------------------------------------------------
def test_tables_never_cut_ids_on_a_narrow_terminal(
    gated_port: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("meshlake.cli.output._terminal_width", lambda: 40)
    for name in ("a", "b"):
        gated_port.write(shipments([name], weight=1.0))
    rows = [{"snapshot_id": e.snapshot_id, "committed_at": e.committed_at, "tags": "x"} for e in gated_port.history()]
    Output().table(
        [
            {**row, "description": "a long text that may wrap " * 3, "branch": "meshlake-quarantine-" + "f" * 32}
            for row in rows
        ],
        ["snapshot_id", "committed_at", "tags", "description", "branch"],
        title="history",
    )
    printed = capsys.readouterr().out
    for row in rows:
        assert str(row["snapshot_id"]) in printed
    assert "meshlake-quarantine-" + "f" * 32 in printed
    assert "…" not in printed


def test_a_piped_table_prints_one_line_per_row(capsys: pytest.CaptureFixture[str]) -> None:
    text = "a description long enough to wrap in any terminal " * 4
    Output().table([{"id": 1, "description": text}], ["id", "description"])
    assert text.strip() in capsys.readouterr().out


# -- 5. SHOW ALL TABLES ------------------------------------------------------------------------------------
def test_show_all_tables_lists_ports_with_their_columns_and_nothing_internal(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    lake.deploy(write_descriptor(descriptor))
    lake.port(ADDRESS).write(shipments(["a"], weight=1.0))

    listed = {f"{row[0]}.{row[1]}.{row[2]}": list(row[3]) for row in lake.sql("SHOW ALL TABLES").fetchall()}
    columns = lake.sql("SELECT DISTINCT column_name FROM information_schema.columns").fetchall()

    assert listed[ADDRESS] == [c["name"] for c in SHIPMENTS["outputs"][0]["columns"]]
    assert set(listed) <= {ADDRESS, "meshlake.system.quality_results"}
    assert not any(name.startswith("__") for names in listed.values() for name in names)
    assert not any(str(name).startswith("__") for (name,) in columns)
    human = run("sql", "SHOW ALL TABLES")
    assert human.exit_code == 0, human.output
    assert "__ml" not in human.output and "shipment_id" in human.output
    assert run("sql", "SHOW ALL TABLES", "--csv").exit_code == 0, "nested columns are written as text in CSV"
