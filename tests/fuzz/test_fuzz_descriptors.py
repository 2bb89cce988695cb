"""Fuzz `lake.deploy` with generated descriptors: each is deployed, or refused by a clear error that changed nothing.

For every case: a failure is a `MeshlakeError` (a `DescriptorError` names the file it read), no case takes longer
than the time limit, and a refused deploy leaves the catalog's rows exactly as they were. An accepted deploy
stores the descriptor it read, its ports' tables load back, and deploying the same file again changes nothing.
At the end, lake-wide listing still reads every product.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

import meshlake as ml
from meshlake.contract.descriptor import load_descriptor
from tests.fuzz.descriptors import DOMAIN, DescriptorCase, base_descriptor, descriptor_cases
from tests.fuzz.harness import SEED, Report, error_problem, run_case

CASES = 320
CLI_EVERY = 4
"""Every fourth refused descriptor is deployed with the CLI too: one `error:` line, exit status 1."""


def catalog_rows(lake: ml.Lake) -> list[tuple[Any, ...]]:
    """Every row of the embedded SQLite catalog: namespaces with their properties, tables with their metadata."""
    with sqlite3.connect(lake.settings.embedded_catalog) as connection:
        tables = connection.execute("SELECT * FROM iceberg_tables ORDER BY 1, 2, 3").fetchall()
        namespaces = connection.execute("SELECT * FROM iceberg_namespace_properties ORDER BY 1, 2, 3").fetchall()
    connection.close()
    return [*tables, *namespaces]


@pytest.fixture
def fuzz_lake(tmp_path: Path) -> ml.Lake:
    """A lake with the input port the descriptors read (`fuzz.source.rows`) and the base product deployed."""
    lake = ml.connect(home=str(tmp_path / ".meshlake"))
    source = {
        "apiVersion": "meshlake/v1",
        "domain": DOMAIN,
        "name": "source",
        "version": "1.0.0",
        "owner": {"team": "fuzz"},
        "outputs": [{"name": "rows", "columns": [{"name": "id", "type": "long", "required": True}]}],
    }
    for name, data in (("source", source), ("base", base_descriptor("base"))):
        folder = tmp_path / "products" / name
        folder.mkdir(parents=True)
        (folder / "dataproduct.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        lake.deploy(folder)
    return lake


def json_loss(declared: Any, stored: Any, path: str = "") -> str | None:
    """Where the stored JSON of a descriptor says something other than what was declared (None: nowhere).

    Dates and times may be stored as ISO text, and sets and tuples as lists: they mean the same.
    """
    if isinstance(declared, dt.date | dt.time):
        same = isinstance(stored, str) and _iso(declared, stored)
    elif isinstance(declared, dict):
        if not isinstance(stored, dict) or set(map(str, declared)) != set(stored):
            return f"{path or 'top'}: {declared!r} stored as {stored!r}"
        for key, value in declared.items():
            lost = json_loss(value, stored[str(key)], f"{path}.{key}")
            if lost:
                return lost
        return None
    elif isinstance(declared, list | tuple | set | frozenset):
        items = sorted(declared, key=repr) if isinstance(declared, set | frozenset) else list(declared)
        stored_items = sorted(stored, key=repr) if isinstance(declared, set | frozenset) else stored
        if not isinstance(stored, list) or len(items) != len(stored):
            return f"{path}: {declared!r} stored as {stored!r}"
        for index, (value, kept) in enumerate(zip(items, stored_items, strict=True)):
            lost = json_loss(value, kept, f"{path}[{index}]")
            if lost:
                return lost
        return None
    else:
        same = type(declared) is type(stored) and declared == stored
        same = same or (type(declared) is float and type(stored) is int and declared == stored)
    return None if same else f"{path}: {declared!r} stored as {stored!r}"


def _iso(value: dt.date | dt.time, text: str) -> bool:
    kind = type(value)
    try:
        return bool(kind.fromisoformat(text.replace("Z", "+00:00")) == value)
    except ValueError:
        return False


def check_refused(report: Report, case: DescriptorCase, path: Path, error: BaseException, lake: ml.Lake) -> None:
    problem = error_problem(error)
    if problem:
        report.fail(case.describe(), problem, error)
        return
    if isinstance(error, ml.DescriptorError):
        lines = case.data.count(b"\n") + 1
        if error.file != str(path):
            report.fail(case.describe(), f"DescriptorError names the file {error.file!r}, not {str(path)!r}")
        elif error.line is not None and not 1 <= error.line <= lines:
            report.fail(case.describe(), f"DescriptorError names line {error.line} of a {lines}-line file")
    report.count(type(error).__name__)


def check_cli_refuses(report: Report, case: DescriptorCase, path: Path) -> None:
    """`meshlake deploy PATH` refuses the file too, with one `error: …` line and exit status 1."""
    from meshlake.cli import commands  # noqa: F401 - registers the commands
    from meshlake.cli.main import cli

    outcome = run_case(lambda: CliRunner().invoke(cli, ["deploy", str(path)]))
    if outcome.error is not None:
        report.fail(case.describe(), f"the CLI raised {outcome.error!r}", outcome.error)
        return
    result = outcome.result
    lines = result.stderr.strip().splitlines()
    if result.exit_code != 1 or len(lines) != 1 or not lines[0].startswith("error: ") or result.stdout.strip():
        report.fail(case.describe(), f"meshlake deploy exited {result.exit_code} printing {result.output[:500]!r}")
    elif "looks like a bug" in lines[0]:
        report.fail(case.describe(), f"meshlake deploy calls a user error a bug: {lines[0][:500]}")
    report.count("refused by the CLI too")


def check_accepted(report: Report, case: DescriptorCase, path: Path, lake: ml.Lake) -> None:
    """The deployed product reads back as the descriptor, its tables load, and a second deploy changes nothing."""
    report.count("deployed")
    declared = load_descriptor(path)
    name = f"{declared.domain}.{declared.name}"

    def read_back() -> None:
        product = lake.product(name)
        if product.descriptor.to_json() != declared.to_json():
            report.fail(case.describe(), f"{name} stored a descriptor other than the one deployed")
        lost = json_loss(declared.model_dump(by_alias=True), json.loads(product.descriptor.to_json()))
        if lost:
            report.fail(case.describe(), f"{name} was stored with a value changed: {lost}")
        for port in declared.outputs:
            product.port(port.name).table()

    outcome = run_case(read_back)
    if outcome.failed:
        assert outcome.error is not None
        report.fail(case.describe(), f"the deployed product cannot be read back: {outcome.error!r}", outcome.error)
        return
    before = catalog_rows(lake)
    again = run_case(lambda: lake.deploy(path))
    if again.failed:
        assert again.error is not None
        report.fail(case.describe(), f"deploying the same file again failed: {again.error!r}", again.error)
    elif catalog_rows(lake) != before:
        report.fail(case.describe(), "deploying the same file again changed the catalog")


@pytest.mark.slow
def test_fuzz_deploy_refuses_bad_descriptors_clearly_and_changes_nothing(fuzz_lake: ml.Lake, tmp_path: Path) -> None:
    lake = fuzz_lake
    report = Report(f"deploy fuzz (seed {SEED}), {CASES} descriptors")
    rng = random.Random(SEED)
    refused = 0
    for case in descriptor_cases(rng, CASES):
        folder = tmp_path / "cases" / str(case.number)
        folder.mkdir(parents=True)
        path = folder / "dataproduct.yaml"
        path.write_bytes(case.data)
        before = catalog_rows(lake)
        outcome = run_case(lambda path=path: lake.deploy(path))  # type: ignore[misc]
        report.timed(outcome.seconds, f"case {case.number} [{case.label}]")
        if outcome.error is not None:
            check_refused(report, case, path, outcome.error, lake)
            if catalog_rows(lake) != before:
                report.fail(case.describe(), f"the refused deploy ({type(outcome.error).__name__}) changed the catalog")
            refused += 1
            if refused % CLI_EVERY == 0:
                check_cli_refuses(report, case, path)
        else:
            check_accepted(report, case, path, lake)
    listing = run_case(lambda: lake.products(check_tables=True))
    if listing.error is not None:
        report.fail("listing every product after the fuzz", f"failed: {listing.error!r}", listing.error)
    elif listing.result.broken:
        report.fail("listing every product after the fuzz", f"broken products: {listing.result.broken!r}")
    report.check()
    assert report.counts.get("deployed", 0) >= CASES // 10, f"too few descriptors were accepted: {report.summary()}"
    assert report.counts.get("DescriptorError", 0) >= CASES // 3, f"too few were refused: {report.summary()}"
