"""The first hour of a new user: the README's two commands work, in order, from a clean clone, quietly.

`test_the_readme_commands_run_in_order_from_a_clean_clone` clones the repository and runs `make demo` then
`make test` in the clone, for real and in that order: `make demo` builds meshlake-demo/ (five products with
their pipeline.py files) inside the clone with the clone's code, and `make test` then runs `ruff check`,
`ruff format --check` and `mypy` over the clone — with the demo folder in it — and then pytest.

`make test` runs the whole suite, this test included, so the clone cannot run all of it: it would recurse,
and take as long again. The Makefile passes `PYTEST_ARGS` to pytest; here it keeps pytest's default
collection (so every test module of the clone is collected, and the demo folder must not be) and selects
a few quick tests with `-k`, in one process (`PYTEST_WORKERS=0`: no xdist workers to start for so few).
CI's `make test` passes nothing and runs everything, one xdist worker per core.

Nothing is installed: `VENV` points the Makefile at a folder of symlinks to this run's virtualenv, with its
own fresh `.ready` marker, and `PYTHONPATH` makes the `meshlake` script and pytest import the clone's code.
The clone is of the committed state (`git clone`): commit before running this test on a change.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SUBSET = "-q -p no:cacheprovider -m 'not slow and not integration' -k 'test_layers or readme_starts or reference'"


def clean_clone(target: Path) -> Path:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout of meshlake to clone")
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(target)], check=True, capture_output=True)
    return target


def borrowed_venv(folder: Path) -> Path:
    """A virtualenv folder whose entries are this run's virtualenv's, with its own `.ready` marker."""
    real = Path(sys.prefix)
    if real == Path(sys.base_prefix):
        pytest.skip("needs to run from a virtualenv (make sets one up) to lend it to the clone")
    folder.mkdir()
    for entry in real.iterdir():
        if entry.name != ".ready":
            (folder / entry.name).symlink_to(entry)
    (folder / ".ready").touch()  # newer than the clone's pyproject.toml: make installs nothing
    return folder


def make(target: str, clone: Path, env: dict[str, str], *variables: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", target, *variables], cwd=clone, env=env, capture_output=True, text=True, check=False, timeout=900
    )


@pytest.mark.slow
def test_the_readme_commands_run_in_order_from_a_clean_clone(tmp_path: Path) -> None:
    if shutil.which("make") is None:
        pytest.skip("needs make to run the README's commands")
    clone = clean_clone(tmp_path / "clone")
    venv = borrowed_venv(tmp_path / "venv")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MESHLAKE_") or k.startswith("MESHLAKE_TEST_")}
    env["PYTHONPATH"] = str(clone)

    demo = make("demo", clone, env, f"VENV={venv}")
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert (clone / "meshlake-demo" / "products" / "orders" / "pipeline.py").is_file()
    test = make("test", clone, env, f"VENV={venv}", f"PYTEST_ARGS={SUBSET}", "PYTEST_WORKERS=0")

    assert test.returncode == 0, test.stdout[-4000:] + test.stderr[-4000:]
    assert "ruff check ." in test.stdout and "mypy" in test.stdout
    assert " passed" in test.stdout and " failed" not in test.stdout
    status = subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True, check=True)
    assert status.stdout == "", "the demo folder and every cache are ignored, nothing to commit"


@pytest.mark.slow
def test_building_meshlake_prints_no_setuptools_warnings(tmp_path: Path) -> None:
    """The first `make demo` installs meshlake; setuptools used to warn about every product folder."""
    clone = clean_clone(tmp_path / "clone")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path / "wheel"), str(clone)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if built.returncode != 0 and "No matching distribution found for setuptools" in built.stderr:
        pytest.skip(f"pip cannot fetch setuptools to build the wheel here: {built.stderr.strip()[-300:]}")
    assert built.returncode == 0, built.stderr
    assert "is absent from the `packages` configuration" not in built.stderr
    assert "Package would be ignored" not in built.stderr
    import zipfile

    wheel = next((tmp_path / "wheel").glob("meshlake-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "meshlake/demo/products/orders/pipeline.py" in names
    assert "meshlake/product_templates/aggregate/dataproduct.yaml" in names
    assert "meshlake/py.typed" in names
