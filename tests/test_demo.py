"""`meshlake demo`: the drone-delivery mesh, its history, its stopped batch, and its tour."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import meshlake as ml
from meshlake.demo import PRODUCTS, DemoResult, build, next_commands


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo") / "mesh"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MESHLAKE_")}
    script = Path(sys.executable).parent / "meshlake"
    done = subprocess.run(
        [str(script), "--json", "demo", str(folder)], capture_output=True, text=True, env=env, check=False, timeout=300
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    print(f"meshlake demo took {report['seconds']} s for {report['runs']} runs")
    (folder / "report.json").write_text(done.stdout)
    return folder


def test_the_demo_builds_five_products_of_five_teams(demo: Path) -> None:
    lake = ml.connect(demo / "meshlake.yaml")
    products = lake.products()
    assert len(products) == len(PRODUCTS) == 5
    assert len({p.owner for p in products}) == 5
    assert {str(p.name) for p in products} >= {"fleet.drones", "sales.orders", "logistics.shipping"}


def test_the_demo_has_history_tags_and_a_stopped_batch(demo: Path) -> None:
    lake = ml.connect(demo / "meshlake.yaml")
    orders = lake.port("sales.orders.placed")
    assert len(orders.history()) == 5
    assert orders.at("release-1").rows < orders.at("release-2").rows < orders.latest().rows
    stopped = orders.quarantine()
    assert len(stopped) == 1 and stopped[0].report is not None
    assert {r.expectation for r in stopped[0].report.failed} == {
        "expect_column_values_to_be_between",
        "expect_column_values_to_be_in_set",
    }
    planning = lake.port("planning.inventory_planning.weekly_demand").latest()
    assert set(planning.stamps["inputs"]) == {"sales.orders.placed", "analytics.routing_analysis.hub_daily"}


def test_the_demo_prints_its_tour(demo: Path) -> None:
    report = json.loads((demo / "report.json").read_text())
    sections = report["sections"]
    assert any("owners" in title for title in sections)
    assert any(title.startswith("Across products") and rows for title, rows in sections.items())
    travel = next(rows for title, rows in sections.items() if title.startswith("Time travel"))
    assert all(row["orders_now"] > row["orders_at_release"] for row in travel)
    assert any(title.startswith("Stopped") and rows for title, rows in sections.items())
    assert "meshlake sql" in report["next"]


def test_the_demo_shows_a_deploy_refused_by_its_governance_policy(demo: Path) -> None:
    report = json.loads((demo / "report.json").read_text())
    refused = next(rows for title, rows in report["sections"].items() if title.startswith("Refused by the governance"))
    assert {"GOV001", "GOV005", "GOV006", "GOV008"} <= {row["code"] for row in refused}
    lake = ml.connect(demo / "meshlake.yaml")
    assert lake.governance_policy is not None and lake.governance_policy.version == 1
    assert "marketing.campaigns" not in {str(p.name) for p in lake.products()}
    assert not lake.lint([demo / "proposed" / "campaigns"]).passed
    assert lake.lint([demo / "products"]).passed  # the five products pass the policy they were built under
    assert "meshlake lint proposed/campaigns" in report["next"]


def test_the_demo_can_run_again_but_never_in_a_foreign_folder(demo: Path, tmp_path: Path) -> None:
    build(demo, days=2)
    assert len(ml.connect(demo / "meshlake.yaml").port("sales.orders.placed").history()) == 2
    (tmp_path / "mine.txt").write_text("not a demo")
    with pytest.raises(FileExistsError):
        build(tmp_path, days=2)


def test_the_tour_says_how_to_activate_a_virtual_environment_missing_from_path(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = DemoResult(directory=demo, lake=ml.connect(demo / "meshlake.yaml"), days=[], release_tag="release-1")
    monkeypatch.setenv("PATH", str(demo))
    first = next_commands(result).splitlines()[0]
    in_venv = sys.prefix != sys.base_prefix
    assert first == (f"source {Path(sys.prefix) / 'bin' / 'activate'}" if in_venv else f"cd {demo}")
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))
    assert next_commands(result).splitlines()[0] == f"cd {demo}"


def test_the_demo_builds_with_the_fewest_days_its_help_allows(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from meshlake.cli import commands  # noqa: F401 - registers commands
    from meshlake.cli.main import cli

    result = CliRunner().invoke(cli, ["--json", "demo", str(tmp_path / "mesh"), "--days", "2"])

    assert result.exit_code == 0, result.output
    lake = ml.connect(tmp_path / "mesh" / "meshlake.yaml")
    orders = lake.port("sales.orders.placed")
    assert len(orders.history()) == 2
    assert orders.at("release-1").rows < orders.at("release-2").rows == orders.latest().rows


def test_running_the_demo_again_keeps_files_a_user_added_and_refreshes_its_own(tmp_path: Path) -> None:
    folder = tmp_path / "mesh"
    build(folder, days=2)
    mine = [
        folder / "notes.md",
        folder / "products" / "mine" / "dataproduct.yaml",
        folder / "products" / "orders" / "x.py",
    ]
    for path in mine:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("mine")
    pipeline = folder / "products" / "orders" / "pipeline.py"
    pipeline.write_text("# edited")
    (folder / "products" / "stale.txt").write_text("a file an earlier demo wrote")
    marker = folder / ".meshlake-demo"
    marker.write_text(marker.read_text() + "products/stale.txt\n../outside.txt\n")
    (tmp_path / "outside.txt").write_text("never the demo's")

    build(folder, days=2)

    assert all(path.read_text() == "mine" for path in mine)
    assert (
        pipeline.read_text() == (Path(ml.__file__).parent / "demo" / "products" / "orders" / "pipeline.py").read_text()
    )
    assert not (folder / "products" / "stale.txt").exists()
    assert (tmp_path / "outside.txt").exists()
    assert len(ml.connect(folder / "meshlake.yaml").port("sales.orders.placed").history()) == 2
