"""`meshlake demo`: the drone-delivery mesh, its history, its stopped batch, and its tour."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import meshlake as ml
from meshlake.contract.principals import Principal
from meshlake.demo import PRODUCTS, DemoResult, build, next_commands
from meshlake.errors import AccessDeniedError


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


def test_the_demo_lake_tells_who_reads_what(demo: Path) -> None:
    config = demo / "meshlake.yaml"
    lake = ml.connect(config)  # the OS user: a reader of the mesh
    assert lake.mesh_policy is not None and lake.mesh_policy.admins == [Principal.parse("group:platform")]
    assert {p.owner: [str(o) for o in p.descriptor.owners] for p in lake.products()} == {
        p.owner: [f"group:{p.owner}"] for p in lake.products()
    }  # each product names its team's group

    def as_(principal: str, group: str) -> ml.Lake:
        return ml.connect(config, principal=principal, groups=[group])

    query = "SELECT DISTINCT customer_email, hub FROM sales.orders.placed"
    analyst = as_("user:ana", "analytics").sql(query).fetchall()
    assert analyst and all(re.fullmatch(r"x+n+@x+\.x+", email) for email, _ in analyst)  # mask-alphanum
    assert {hub for _, hub in analyst} == {"north", "south", "east", "west"}
    support = as_("user:sue", "support").sql(query).fetchall()
    assert all(re.fullmatch(r"customer\d+@example\.com", email) for email, _ in support)
    north = as_("user:nils", "north_hub").port("sales.orders.placed").latest().to_arrow()
    assert set(north.column("hub").to_pylist()) == {"north"}
    with pytest.raises(AccessDeniedError):
        as_("user:ana", "analytics").port("sales.orders.revenue").latest()
    assert as_("user:fay", "finance").port("sales.orders.revenue").latest().rows > 0
    with pytest.raises(AccessDeniedError):
        lake.sql("SELECT count(*) FROM fleet.drones.telemetry").fetchall()


def test_the_demo_pipelines_read_their_inputs_as_their_products(demo: Path) -> None:
    admin = ml.connect(demo / "meshlake.yaml", principal="user:root", groups=["platform"])
    reads = admin.sql(
        "SELECT DISTINCT principal, address, masks FROM meshlake.system.access_log WHERE path = 'pipeline'"
    ).fetchall()
    by_reader = {(principal, address): dict(masks) for principal, address, masks in reads}
    assert by_reader[("product:logistics.shipping", "sales.orders.placed")] == {"customer_email": "mask-alphanum"}
    assert by_reader[("product:analytics.routing_analysis", "fleet.drones.telemetry")] == {}
    assert ("product:planning.inventory_planning", "sales.orders.placed") in by_reader


def test_the_tour_explains_access_and_queries_as_an_analyst(demo: Path) -> None:
    report = json.loads((demo / "report.json").read_text())
    access = next(rows for title, rows in report["sections"].items() if title.startswith("Who reads what"))
    assert {(row["principal"], row["port"], row["read"]) for row in access} >= {
        ("group:analytics", "sales.orders.placed", "yes"),
        ("group:analytics", "sales.orders.revenue", "no"),
        ("group:finance", "sales.orders.revenue", "yes"),
    }
    tour = report["next"].splitlines()
    assert "meshlake access explain group:analytics sales.orders.placed" in tour
    shown = {}
    env = {k: v for k, v in os.environ.items() if not k.startswith("MESHLAKE_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    for line in tour:
        words = shlex.split(line)
        assigned = dict(w.split("=", 1) for w in words if re.fullmatch(r"MESHLAKE_[A-Z_]+=.*", w))
        command = words[len(assigned) :]
        if command[:2] not in (["meshlake", "access"], ["meshlake", "sql"]) or not assigned:
            continue  # the commands run as another principal than the OS user
        done = subprocess.run(command, cwd=demo, env=env | assigned, capture_output=True, text=True, check=False)
        assert done.returncode == 0, f"{line}\n{done.stdout}{done.stderr}"
        shown[assigned.get("MESHLAKE_PRINCIPAL", "admin")] = done.stdout
    assert "xxxxxxxxnnnn@xxxxxxx.xxx" in shown["user:ana"] and "@example.com" not in shown["user:ana"]
    assert "north" in shown["user:nils"] and "south" not in shown["user:nils"]
    assert "user:ana" in shown["admin"]  # the access log, read by an admin, shows the analyst's read


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
