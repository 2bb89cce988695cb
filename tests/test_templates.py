"""`meshlake new`: every template becomes a product that deploys and whose own generated test passes."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from importlib import resources
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import meshlake as ml
from meshlake.contract.descriptor import load_descriptor
from meshlake.errors import InvalidNameError, NotFoundError
from meshlake.pipelines.scaffold import TEMPLATE_FILES, create_product, templates

ROOT = Path(__file__).resolve().parent.parent
INPUTS = {
    "source-aligned": [],
    "aggregate": ["--input", "events=shop.orders.events"],
    "consumer-aligned": ["--input", "daily=shop.orders_daily.daily"],
}


def meshlake(*args: str) -> Result:
    from meshlake.cli import commands  # noqa: F401 - registers commands
    from meshlake.cli.main import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_there_are_the_three_documented_templates_each_complete() -> None:
    assert set(INPUTS) <= set(templates())
    for template in templates().values():
        present = {item.name for item in template.root.iterdir()}
        assert set(TEMPLATE_FILES) <= present, template.name
        assert template.summary, f"{template.name}/README.md needs a one-line summary paragraph"


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_generated_product_deploys_and_its_generated_test_passes(name: str, tmp_path: Path) -> None:
    folder = tmp_path / "products" / "generated"
    created = meshlake("new", "shop.generated", "--template", name, "--dir", str(folder), *INPUTS[name])
    assert created.exit_code == 0, created.output
    assert "meshlake deploy" in created.output and "pytest" in created.output

    lake = ml.connect(home=str(tmp_path / ".meshlake"))
    product = lake.deploy(folder)
    assert lake.last_deploy is not None and lake.last_deploy.created
    assert [port.contract.name for port in product.ports] == [port.name for port in product.descriptor.outputs]
    for path in folder.iterdir():
        assert "{{" not in path.read_text(), f"{path.name} has an unfilled placeholder"

    tested = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder / "test_pipeline.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert tested.returncode == 0, tested.stdout[-3000:] + tested.stderr[-2000:]
    assert " passed" in tested.stdout and "failed" not in tested.stdout


def test_new_fills_names_and_input_addresses_into_the_descriptor(tmp_path: Path) -> None:
    result = meshlake("new", "shop.orders_daily", "--template", "aggregate", "--input", "events=shop.orders.events")
    assert result.exit_code == 0, result.output

    descriptor = load_descriptor(tmp_path / "products" / "orders_daily")
    assert (descriptor.domain, descriptor.name) == ("shop", "orders_daily")
    assert [(i.name, i.port) for i in descriptor.inputs] == [("events", "shop.orders.events")]
    readme = (tmp_path / "products" / "orders_daily" / "README.md").read_text()
    assert "meshlake run products/orders_daily" in readme
    assert not (tmp_path / ".meshlake").exists(), "`new` only writes files: it opens no lake"


def test_new_json_lists_the_files_and_next_commands(tmp_path: Path) -> None:
    data = json.loads(meshlake("new", "shop.orders", "--json").output)

    assert data["template"] == "source-aligned"
    assert sorted(Path(f).name for f in data["files"]) == sorted(TEMPLATE_FILES)
    assert data["next"] == [
        "meshlake deploy products/orders",
        "meshlake run products/orders",
        "pytest products/orders/test_pipeline.py",
    ]


def test_new_help_lists_the_templates_and_their_inputs() -> None:
    result = meshlake("new", "--help")

    assert result.exit_code == 0
    for name in INPUTS:
        assert name in result.output
    assert "--input events=ADDRESS" in result.output


@pytest.mark.parametrize("product", ["Shop.orders", "shop", "shop.orders.events", "shop.../etc"])
def test_new_refuses_an_invalid_product_name(product: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidNameError):
        create_product(product)

    result = meshlake("new", product)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: invalid") and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "products").exists()


def test_new_refuses_an_unknown_template_and_names_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="source-aligned"):
        create_product("shop.orders", template="kitchen-sink")

    result = meshlake("new", "shop.orders", "--template", "kitchen-sink")
    assert result.exit_code == 1 and "aggregate" in result.stderr
    assert not (tmp_path / "products").exists()


def test_new_refuses_to_overwrite_an_existing_folder(tmp_path: Path) -> None:
    folder = tmp_path / "products" / "orders"
    folder.mkdir(parents=True)
    (folder / "pipeline.py").write_text("# mine\n")

    with pytest.raises(FileExistsError):
        create_product("shop.orders")

    result = meshlake("new", "shop.orders")
    assert result.exit_code == 1 and "already exists" in result.stderr
    assert (folder / "pipeline.py").read_text() == "# mine\n"
    assert sorted(p.name for p in folder.iterdir()) == ["pipeline.py"]


@pytest.mark.parametrize(
    ("inputs", "error"),
    [
        ({}, ValueError),  # the aggregate template needs the address of `events`
        ({"events": "shop.orders.events", "extra": "a.b.c"}, ValueError),
        ({"events": "shop.Orders.events"}, InvalidNameError),
        ({"events": "shop.orders.events@v1"}, ValueError),
        ({"events": "shop.daily.events"}, ValueError),  # a product cannot read its own port
    ],
)
def test_new_checks_the_input_addresses(inputs: dict[str, str], error: type[Exception], tmp_path: Path) -> None:
    with pytest.raises(error):
        create_product("shop.daily", template="aggregate", inputs=inputs)

    assert not (tmp_path / "products").exists()


def test_templates_are_package_data_of_the_installed_meshlake() -> None:
    """The editable install maps meshlake.product_templates onto the repository's product_templates/."""
    assert Path(str(resources.files("meshlake.product_templates"))) == ROOT / "product_templates"


def test_pyproject_ships_every_meshlake_package() -> None:
    """Packages are listed (not found) in pyproject.toml because of the template mapping: keep the list whole."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "meshlake").rglob("__init__.py")}

    assert on_disk | {"meshlake.product_templates"} == set(setuptools["packages"]), "update [tool.setuptools] packages"
    assert setuptools["package-dir"] == {"meshlake.product_templates": "product_templates"}
