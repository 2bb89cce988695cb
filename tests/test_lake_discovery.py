"""Which lake a command opens: the nearest meshlake.yaml or .meshlake/ upwards, as git finds a repository;
read-only commands never create one, and say where they looked when there is none."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

import meshlake as ml
from meshlake.catalog.settings import discover, load_settings
from tests.conftest import SHIPMENTS

ADDRESS = "logistics.shipments.daily"


def run(*args: str) -> Result:
    from meshlake.cli import commands  # noqa: F401 - registers commands
    from meshlake.cli.main import cli

    return CliRunner().invoke(cli, list(args))


def product(folder: Path) -> Path:
    path = folder / "dataproduct.yaml"
    path.write_text(yaml.safe_dump(SHIPMENTS, sort_keys=False))
    return path


def everything_under(folder: Path) -> set[Path]:
    return set(folder.rglob("*"))


def json_products(result: Result) -> list[str]:
    assert result.exit_code == 0, result.output
    return [row["product"] for row in json.loads(result.stdout)]


@pytest.fixture
def nested(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A lake in tmp_path with the shipments product, and the working folder two levels below it."""
    ml.connect(home=str(tmp_path / ".meshlake")).deploy(product(tmp_path))
    inner = tmp_path / "a" / "b"
    inner.mkdir(parents=True)
    monkeypatch.chdir(inner)
    return inner


def test_a_command_in_a_nested_folder_opens_the_lake_of_a_parent_and_says_so(nested: Path, tmp_path: Path) -> None:
    result = run("products")

    assert result.exit_code == 0, result.output
    assert "logistics.shipments" in result.stdout
    assert f"lake: {tmp_path / '.meshlake'}" in result.stderr
    assert not (nested / ".meshlake").exists() and not (tmp_path / "a" / ".meshlake").exists()


def test_connect_in_a_nested_folder_opens_the_lake_of_a_parent(nested: Path) -> None:
    assert [str(p.name) for p in ml.connect().products()] == ["logistics.shipments"]
    assert not (nested / ".meshlake").exists()


def test_a_meshlake_yaml_above_is_found_and_its_home_is_next_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "meshlake.yaml").write_text("catalog: sql\n")  # no home: the .meshlake/ next to the file
    ml.connect(tmp_path / "meshlake.yaml").deploy(product(tmp_path))
    inner = tmp_path / "deep" / "er"
    inner.mkdir(parents=True)
    monkeypatch.chdir(inner)

    settings = load_settings()

    assert settings.source == str(tmp_path / "meshlake.yaml")
    assert settings.home_path == tmp_path / ".meshlake"
    assert json_products(run("products", "--json")) == ["logistics.shipments"]


def test_the_nearest_folder_wins_and_a_meshlake_yaml_before_a_home_in_the_same_folder(tmp_path: Path) -> None:
    (tmp_path / ".meshlake").mkdir()
    (tmp_path / "meshlake.yaml").write_text("home: .meshlake\n")
    inner = tmp_path / "inner"
    (inner / ".meshlake").mkdir(parents=True)

    assert discover(tmp_path).config == tmp_path / "meshlake.yaml"
    assert discover(inner).home == inner / ".meshlake"
    assert discover(inner / "x", search_parents=False).searched == (inner / "x",)


READ_ONLY = [
    ["products"],
    ["describe", "logistics.shipments"],
    ["history", ADDRESS],
    ["sql", "SELECT 1"],
    ["check", ADDRESS],
    ["slo"],
    ["quarantine", ADDRESS],
    ["maintain"],
    ["tag", ADDRESS, "v1"],
    ["rollback", ADDRESS, "--to", "v1"],
    ["write", ADDRESS, "FILE"],
    ["run", "PRODUCT"],
]


@pytest.mark.parametrize("args", READ_ONLY, ids=[a[0] for a in READ_ONLY])
def test_commands_that_need_a_lake_refuse_an_empty_folder_and_create_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    data = tmp_path / "a.csv"
    data.write_text("shipment_id,shipped_at,weight_kg\na,2026-11-01T10:00:00Z,1\n")
    source = tmp_path / "source"
    source.mkdir()
    (source / "pipeline.py").write_text("def build(inputs):\n    return {}\n")
    args = [{"FILE": str(data), "PRODUCT": str(product(source))}.get(a, a) for a in args]
    before = everything_under(tmp_path)

    monkeypatch.chdir(folder)
    result = run(*args)

    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"error: no lake found: looked for meshlake.yaml or .meshlake/ in {folder} ")
    assert "meshlake init" in result.stderr and "(none)" not in result.output
    assert everything_under(tmp_path) == before, "nothing was created"


def test_a_configured_lake_that_does_not_exist_yet_is_named(tmp_path: Path) -> None:
    (tmp_path / "meshlake.yaml").write_text("home: lake\n")

    result = run("products")

    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: there is no lake at {tmp_path / 'lake'} yet")
    assert str(tmp_path / "meshlake.yaml") in result.stderr
    assert not (tmp_path / "lake").exists()


def test_init_makes_the_working_folders_own_lake_even_inside_another(nested: Path) -> None:
    result = run("init")

    assert result.exit_code == 0, result.output
    assert (nested / ".meshlake" / "catalog.db").is_file()
    assert json_products(run("products", "--json")) == []


def test_deploy_creates_a_lake_in_the_working_folder_when_none_is_found(tmp_path: Path) -> None:
    result = run("deploy", str(product(tmp_path)))

    assert result.exit_code == 0, result.output
    assert f"creating a new lake in {tmp_path / '.meshlake'}" in result.stderr
    assert (tmp_path / ".meshlake" / "catalog.db").is_file()


def test_deploy_in_a_nested_folder_uses_the_lake_above(nested: Path, tmp_path: Path) -> None:
    assert run("deploy", str(product(nested))).exit_code == 0
    assert not (nested / ".meshlake").exists()
    assert json_products(run("products", "--json")) == ["logistics.shipments"]
