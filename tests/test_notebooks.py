"""The walkthrough notebooks run top to bottom against a fresh demo mesh, and are committed without outputs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The demo mesh in `<tmp>/meshlake-demo`, built once for the module (as `meshlake demo meshlake-demo` does)."""
    from meshlake.demo import build

    folder = tmp_path_factory.mktemp("repo") / "meshlake-demo"
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("MESHLAKE_")]:
            patch.delenv(name)
        build(folder, days=5)
    yield folder


def execute(name: str, cwd: Path) -> Any:
    """Run a notebook in a fresh kernel started in `cwd`; a cell error fails the test."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute()
    return notebook


def output_of(notebook: Any, code: str) -> str:
    """Everything the code cell containing `code` printed or displayed, as plain text."""
    cell = next(c for c in notebook.cells if c.cell_type == "code" and code in c.source)
    parts = []
    for output in cell.outputs:
        parts.append(output.get("text", ""))
        parts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def test_analyst_notebook_runs_against_the_lake_named_by_meshlake_home(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MESHLAKE_HOME", str(demo / ".meshlake"))

    notebook = execute("analyst.ipynb", cwd=demo.parent)

    products = output_of(notebook, "lake.products()")
    assert "logistics.shipping" in products and "storefront" in products
    joined = output_of(notebook, "JOIN fleet.drones.registry")
    assert all(model in joined for model in ("Condor-XL", "Hopper-M", "Hopper-S"))
    travelled = output_of(notebook, "AT (TIMESTAMP =>")
    assert "tag release-" in travelled and "first snapshot" in travelled


def test_time_travel_notebook_finds_the_demo_next_to_the_notebooks_folder(demo: Path) -> None:
    """A person runs `meshlake demo meshlake-demo` at the repository root, then opens notebooks/ in Jupyter."""
    opened_from = demo.parent / "notebooks"
    opened_from.mkdir()

    notebook = execute("time_travel.ipynb", cwd=opened_from)

    as_of = " ".join(output_of(notebook, "port.as_of(instant)").split())
    assert as_of.startswith("(True, PortSnapshot(analytics.routing_analysis.hub_daily@")
    assert "'inputs': {'fleet.drones.registry':" in output_of(notebook, "deliveries.stamps")
    delivered, with_order = _last_row_numbers(output_of(notebook, "with_their_order"))
    assert delivered == with_order > 0, "every delivery's order is in the snapshot its run read"


def _last_row_numbers(text: str) -> list[int]:
    """The integers of the last data row of a DuckDB relation printed as a box."""
    rows = [line for line in text.splitlines() if line.startswith("│")]
    return [int(cell) for cell in rows[-1].strip("│").split("│")]


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_committed_notebooks_carry_no_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)

    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code, "a walkthrough has code"
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code), (
        f"strip outputs before committing: jupyter nbconvert --clear-output --inplace {path.name}"
    )
