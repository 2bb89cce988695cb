"""Every CLI error is a clear one: one line in CLI terms; the bug notice only for bugs; `--debug` for tracebacks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner, Result

import meshlake as ml
from meshlake.cli.failure import is_bug
from tests.conftest import SHIPMENTS, DescriptorWriter
from tests.test_gate import EXPECTATIONS

ADDRESS = "logistics.shipments.daily"
BUG = "this looks like a bug"


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    from meshlake.cli import commands  # noqa: F401 - registers commands
    from meshlake.cli.main import cli

    return CliRunner(env=env).invoke(cli, list(args))


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


@pytest.fixture
def deployed(tmp_path: Path) -> Path:
    path = tmp_path / "dataproduct.yaml"
    path.write_text(yaml.safe_dump(SHIPMENTS, sort_keys=False))
    assert run("deploy", str(path)).exit_code == 0
    return path


def broken_products(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("internal state went wrong")


# -- 2. user errors vs bugs, --debug -------------------------------------------------------------------------
def test_a_meshlake_error_is_one_line_naming_the_next_step_without_the_bug_notice(deployed: Path) -> None:
    result = run("describe", "nope.product")

    assert result.exit_code == 1
    assert lines(result.stderr) == [
        "error: data product 'nope.product' is not deployed. Deployed products: logistics.shipments. "
        "Run `meshlake deploy PATH` first."
    ]
    assert BUG not in result.stderr and "Traceback" not in result.stderr


def test_a_real_bug_says_so_and_points_at_debug(deployed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ml.Lake, "products", broken_products)

    result = run("products")

    assert result.exit_code == 1
    assert lines(result.stderr) == [
        f"error: RuntimeError: internal state went wrong ({BUG}; please report it with the output of --debug)"
    ]


@pytest.mark.parametrize(
    "how",
    [["--debug", "products"], ["products", "--debug"], ["--json", "products", "--debug"], ["env"]],
    ids=["before", "after", "after-with-json", "MESHLAKE_DEBUG"],
)
def test_debug_prints_the_full_traceback_before_or_after_the_command(
    deployed: Path, monkeypatch: pytest.MonkeyPatch, how: list[str]
) -> None:
    monkeypatch.setattr(ml.Lake, "products", broken_products)

    result = run("products", env={"MESHLAKE_DEBUG": "1"}) if how == ["env"] else run(*how)

    assert result.exit_code == 1
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert 'raise RuntimeError("internal state went wrong")' in result.stderr
    assert lines(result.stderr)[-1].startswith("error: RuntimeError: internal state went wrong")


def test_without_debug_there_is_no_traceback(deployed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ml.Lake, "products", broken_products)
    assert "Traceback" not in run("products", env={"MESHLAKE_DEBUG": "0"}).stderr


def test_only_errors_meant_for_users_are_not_bugs() -> None:
    import duckdb

    from meshlake.contract.durations import parse_duration

    try:
        parse_duration("soon")  # meshlake's own ValueError, with a message for users
    except ValueError as exc:
        assert not is_bug(exc)
    try:
        int("x")  # a ValueError from outside meshlake: nobody checked this input
    except ValueError as exc:
        assert is_bug(exc)
    assert not is_bug(ml.ProductNotFoundError("a.b"))
    assert not is_bug(FileNotFoundError("x.csv"))
    assert not is_bug(duckdb.ParserException("syntax error"))
    assert is_bug(RuntimeError("x")) and is_bug(RecursionError()) and is_bug(AttributeError("x"))


# -- 5. errors in CLI terms, --config anywhere -------------------------------------------------------------
def test_gate_failures_list_one_failed_expectation_per_line_and_name_the_cli_command(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter, tmp_path: Path
) -> None:
    descriptor["outputs"][0]["expectations"] = EXPECTATIONS
    lake.deploy(write_descriptor(descriptor))
    bad = tmp_path / "bad.csv"
    bad.write_text("shipment_id,shipped_at,weight_kg\na,2026-11-01T10:00:00Z,99\na,2026-11-01T10:00:00Z,1\n")

    result = run("write", ADDRESS, str(bad))

    assert result.exit_code == 1
    first, *failed, kept = lines(result.stderr)
    assert first == (f"error: quality gate failed for {ADDRESS}: 2 of 4 expectations failed; nothing was published.")
    assert [line.split("(")[0] for line in failed] == [
        "  - expect_column_values_to_be_unique",
        "  - expect_column_values_to_be_between",
    ]
    assert f"`meshlake quarantine {ADDRESS}`" in kept
    assert "port.quarantine()" not in result.stderr and "where=" not in result.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--mode", "replace"], "--mode replace needs --where"),
        (["--where", "weight_kg > 1"], "--where only applies to --mode replace"),
    ],
)
def test_write_mode_errors_name_the_flags(deployed: Path, tmp_path: Path, args: list[str], needle: str) -> None:
    data = tmp_path / "a.csv"
    data.write_text("shipment_id,shipped_at,weight_kg\na,2026-11-01T10:00:00Z,1\n")

    result = run("write", ADDRESS, str(data), *args)

    assert result.exit_code == 2
    assert needle in result.stderr and "where=…" not in result.stderr and "mode='" not in result.stderr


@pytest.mark.parametrize("command", [["history", "ADDRESS"], ["tag", "ADDRESS", "v2"], ["write", "ADDRESS", "FILE"]])
def test_an_address_with_a_ref_names_the_sql_syntax_not_the_python_api(
    deployed: Path, tmp_path: Path, command: list[str]
) -> None:
    data = tmp_path / "a.csv"
    data.write_text("shipment_id,shipped_at,weight_kg\na,2026-11-01T10:00:00Z,1\n")
    args = [{"ADDRESS": f"{ADDRESS}@v1", "FILE": str(data)}.get(a, a) for a in command]

    result = run(*args)

    assert result.exit_code == 2
    assert "AT (VERSION => 'v1')" in result.stderr
    assert "lake.read" not in result.stderr and "port.at" not in result.stderr


@pytest.mark.parametrize("where", ["before", "after"])
def test_config_is_accepted_before_or_after_the_command(tmp_path: Path, where: str) -> None:
    elsewhere = tmp_path / "elsewhere"
    config = tmp_path / "conf" / "lake.yaml"
    config.parent.mkdir()
    config.write_text(f"home: {elsewhere}\n")
    product = tmp_path / "dataproduct.yaml"
    product.write_text(yaml.safe_dump(SHIPMENTS, sort_keys=False))

    deploy = ["--config", str(config), "deploy", str(product)]
    listed = ["--config", str(config), "products", "--json"]
    if where == "after":
        deploy = [*deploy[2:], *deploy[:2]]
        listed = [*listed[2:], *listed[:2]]

    assert run(*deploy).exit_code == 0
    assert (elsewhere / "catalog.db").is_file() and not (tmp_path / ".meshlake").exists()
    result = run(*listed)
    assert result.exit_code == 0, result.output
    assert "logistics.shipments" in result.stdout


def test_every_command_accepts_the_shared_options() -> None:
    from meshlake.cli import commands  # noqa: F401 - registers commands
    from meshlake.cli.main import cli

    def leaves(group: click.Group, prefix: str) -> Iterator[tuple[str, click.Command]]:
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                yield from leaves(command, f"{prefix}{name} ")
            else:
                yield f"{prefix}{name}", command

    for name, command in leaves(cli, ""):
        options = {opt for param in command.params for opt in getattr(param, "opts", [])}
        assert {"--config", "--debug", "--json"} <= options, name
