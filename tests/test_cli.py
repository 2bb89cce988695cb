"""The CLI: every command works, prints text or --json, fails with one line and a non-zero exit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from click.testing import CliRunner, Result

from meshlake.cli.main import cli, main  # noqa: F401
from tests.conftest import SHIPMENTS

COMMANDS = ["init", "deploy", "products", "describe", "write", "history", "tag", "rollback"]


def run(*args: str) -> Result:
    from meshlake.cli import commands  # noqa: F401 - registers commands

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def deployed(tmp_path: Path) -> Path:
    path = tmp_path / "dataproduct.yaml"
    path.write_text(yaml.safe_dump(SHIPMENTS, sort_keys=False))
    result = run("deploy", str(path))
    assert result.exit_code == 0, result.output
    return path


def csv_file(tmp_path: Path, name: str, rows: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("shipment_id,shipped_at,weight_kg\n" + "\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_useful_help(command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "Usage: " in result.output
    assert len(result.output.splitlines()) > 4


def test_init_creates_the_embedded_lake(tmp_path: Path) -> None:
    result = run("init")
    assert result.exit_code == 0
    assert "lake ready" in result.output
    assert (tmp_path / ".meshlake" / "catalog.db").exists()
    data = json.loads(run("init", "--json").output)
    assert data["catalog"] == "sql" and data["products"] == 0


def test_deploy_then_products_and_describe(deployed: Path) -> None:
    again = run("deploy", str(deployed))
    assert "up to date" in again.output
    listed = json.loads(run("products", "--json").output)
    assert listed[0]["product"] == "logistics.shipments"
    assert listed[0]["owner"] == "logistics_data"
    described = json.loads(run("--json", "describe", "logistics.shipments.daily").output)
    assert described["ports"][0]["columns"][0]["name"] == "shipment_id"
    assert "Unique shipment key" in run("describe", "logistics.shipments").output


def test_write_csv_jsonl_and_parquet_then_history(deployed: Path, tmp_path: Path) -> None:
    first = run(
        "write",
        "logistics.shipments.daily",
        str(csv_file(tmp_path, "a.csv", ["001,2026-11-01T10:00:00Z,2.5"])),
    )
    assert first.exit_code == 0, first.output
    assert "1 rows" in first.output
    jsonl = tmp_path / "b.jsonl"
    jsonl.write_text(json.dumps({"shipment_id": "002", "shipped_at": "2026-11-01T11:00:00Z"}) + "\n")
    assert run("write", "logistics.shipments.daily", str(jsonl)).exit_code == 0
    parquet = tmp_path / "c.parquet"
    pq.write_table(
        pa.table(
            {
                "shipment_id": ["003"],
                "shipped_at": pa.array([0], pa.timestamp("us", tz="UTC")),
                "weight_kg": [1.0],
            }
        ),
        parquet,
    )
    data = json.loads(run("write", "logistics.shipments.daily", str(parquet), "--json").output)
    assert data["rows"] == 1 and data["snapshot_id"]
    history = json.loads(run("history", "logistics.shipments.daily", "--json").output)
    assert [h["rows_total"] for h in history] == [1, 2, 3]
    from meshlake import connect

    ids = sorted(connect().read("logistics.shipments.daily").to_arrow()["shipment_id"].to_pylist())
    assert ids == ["001", "002", "003"], "CSV ids keep their leading zeros: parsed with the contract's types"


def test_write_upsert_and_replace_modes(deployed: Path, tmp_path: Path) -> None:
    run(
        "write",
        "logistics.shipments.daily",
        str(csv_file(tmp_path, "a.csv", ["a,2026-11-01T10:00:00Z,1", "b,2026-11-01T10:00:00Z,1"])),
    )
    result = run(
        "write",
        "logistics.shipments.daily",
        str(csv_file(tmp_path, "u.csv", ["b,2026-11-01T10:00:00Z,5"])),
        "--mode",
        "upsert",
        "--json",
    )
    assert json.loads(result.output)["rows_updated"] == 1


def test_tag_and_rollback(deployed: Path, tmp_path: Path) -> None:
    run("write", "logistics.shipments.daily", str(csv_file(tmp_path, "a.csv", ["a,2026-11-01T10:00:00Z,1"])))
    assert run("tag", "logistics.shipments.daily", "v1.0.0").exit_code == 0
    run("write", "logistics.shipments.daily", str(csv_file(tmp_path, "b.csv", ["b,2026-11-01T10:00:00Z,1"])))
    result = run("rollback", "logistics.shipments.daily", "--to", "v1.0.0", "--json")
    assert result.exit_code == 0
    history = json.loads(run("history", "logistics.shipments.daily", "--json").output)
    assert len(history) == 1 and history[0]["tags"] == ["v1.0.0"]


def test_rolling_forward_again_asks_first_and_is_recorded(deployed: Path, tmp_path: Path) -> None:
    address = "logistics.shipments.daily"
    run("write", address, str(csv_file(tmp_path, "a.csv", ["a,2026-11-01T10:00:00Z,1"])))
    run("tag", address, "a")
    run("write", address, str(csv_file(tmp_path, "b.csv", ["b,2026-11-01T10:00:00Z,1"])))
    run("tag", address, "v1")
    assert run("rollback", address, "--to", "a").exit_code == 0  # back along main: no question

    declined = CliRunner().invoke(cli, ["rollback", address, "--to", "v1"], input="n\n")
    assert declined.exit_code == 1 and "not in the current history" in declined.stderr
    assert len(json.loads(run("history", address, "--json").output)) == 1, "declined: main did not move"

    confirmed = CliRunner().invoke(cli, ["rollback", address, "--to", "v1"], input="y\n")
    assert confirmed.exit_code == 0, confirmed.output
    assert len(json.loads(run("history", address, "--json").output)) == 2
    assert run("rollback", address, "--to", "a", "--yes").exit_code == 0
    assert run("rollback", address, "--to", "v1", "--yes", "--json").exit_code == 0
    moves = json.loads(run("history", address, "--moves", "--json").output)
    assert [m["direction"] for m in moves] == ["back", "forward", "back", "forward"]
    assert "moves of main" in run("history", address).output


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["describe", "nope.product"], "not deployed"),
        (["history", "logistics.shipments.missing"], "does not exist"),
        (["history", "../etc.passwd.x"], "invalid"),
        (["tag", "logistics.shipments.daily", "bad name"], "invalid tag"),
        (["rollback", "logistics.shipments.daily", "--to", "v9"], "no snapshot"),
    ],
)
def test_failures_print_one_line_and_exit_non_zero(deployed: Path, args: list[str], needle: str) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert needle in lines[0]
    assert "Traceback" not in result.output


def test_contract_violation_exits_non_zero_and_publishes_nothing(deployed: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("shipment_id,shipped_at,weight_kg,extra\nx,2026-11-01T10:00:00Z,1,2\n")
    result = CliRunner().invoke(cli, ["write", "logistics.shipments.daily", str(bad)])
    assert result.exit_code == 1
    assert "extra" in result.output
    assert json.loads(run("history", "logistics.shipments.daily", "--json").output) == []


def test_the_installed_script_runs_without_a_traceback(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "meshlake"
    done = subprocess.run([str(script), "describe", "a.b"], capture_output=True, text=True, cwd=tmp_path, check=False)
    assert done.returncode == 1
    assert done.stderr.startswith("error: ") and "Traceback" not in done.stderr
    assert "meshlake" in subprocess.run([str(script), "--help"], capture_output=True, text=True, check=True).stdout


def test_the_cli_reference_in_docs_is_current() -> None:
    from meshlake.cli.reference import render

    reference = Path(__file__).parent.parent / "docs" / "cli.md"
    assert reference.read_text() == render(), "run: python -m meshlake.cli.reference > docs/cli.md"
