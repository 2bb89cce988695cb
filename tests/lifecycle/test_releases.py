"""Releases: a manifest of every port's snapshot, tags, readers by release, atomic cuts, verify --repair."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import meshlake as ml
from meshlake.cli import commands  # noqa: F401 - registers the commands
from meshlake.cli.main import cli
from meshlake.errors import InvalidNameError, ReleaseError, SnapshotNotFoundError
from meshlake.write.faults import CRASH_AT
from tests.lifecycle.conftest import TWO_PORTS, lines, orders, write_product


def _head(lake: ml.Lake, address: str) -> int | None:
    return lake.port(address).latest().snapshot_id


def test_a_cut_records_every_ports_snapshot_and_tags_them(sales: ml.Lake) -> None:
    release = sales.product("sales.orders").cut_release()
    assert release.version == "1.4.0"
    assert release.ports == {"placed": _head(sales, "sales.orders.placed"), "lines": _head(sales, "sales.orders.lines")}
    for port in ("placed", "lines"):
        table = sales.port(f"sales.orders.{port}").table()
        assert table.metadata.refs["release-1.4.0"].snapshot_id == release.ports[port]
    assert [r.version for r in sales.product("sales.orders").releases()] == ["1.4.0"]


def test_readers_get_the_releases_snapshot_by_every_path(sales: ml.Lake) -> None:
    sales.product("sales.orders").cut_release("1.4.0")
    port = sales.port("sales.orders.placed")
    port.write(orders([4, 5]))
    assert port.latest().to_arrow().num_rows == 5
    assert port.at(release="1.4.0").to_arrow().num_rows == 3
    assert port.at("release:1.4.0").to_arrow().num_rows == 3
    assert sales.read("sales.orders.placed@release:1.4.0").to_arrow().num_rows == 3
    sql = "SELECT count(*) FROM sales.orders.placed AT (VERSION => 'release:1.4.0')"
    assert sales.sql(sql).fetchall() == [(3,)]


def test_a_range_reads_the_newest_matching_release(sales: ml.Lake) -> None:
    product = sales.product("sales.orders")
    product.cut_release("1.4.0")
    sales.port("sales.orders.placed").write(orders([4]))
    product.cut_release("1.5.0")
    sales.port("sales.orders.placed").write(orders([5]))
    product.cut_release("2.0.0")
    port = sales.port("sales.orders.placed")
    assert port.at(release="^1.4").to_arrow().num_rows == 4
    assert port.at(release="~1.4").to_arrow().num_rows == 3
    assert port.at(release="2.x").to_arrow().num_rows == 5
    assert product.release("^1").version == "1.5.0"


@pytest.mark.parametrize("version", ["1.4", "v1.4.0", "1.4.0.1", "latest", "01.2.3"])
def test_a_version_that_is_not_semver_is_refused(sales: ml.Lake, version: str) -> None:
    with pytest.raises(ReleaseError) as caught:
        sales.product("sales.orders").cut_release(version)
    assert caught.value.version == version
    assert sales.product("sales.orders").releases() == []
    assert "release-" + version not in sales.port("sales.orders.placed").table().metadata.refs


def test_an_existing_version_is_refused_and_nothing_moves(sales: ml.Lake) -> None:
    product = sales.product("sales.orders")
    first = product.cut_release("1.4.0")
    sales.port("sales.orders.placed").write(orders([9]))
    with pytest.raises(ReleaseError, match="exists already"):
        product.cut_release("1.4.0")
    assert product.release("1.4.0") == first
    table = sales.port("sales.orders.placed").table()
    assert table.metadata.refs["release-1.4.0"].snapshot_id == first.ports["placed"]


def test_a_port_never_written_is_refused(lake: ml.Lake, tmp_path: Path) -> None:
    lake.deploy(write_product(tmp_path / "products", TWO_PORTS))
    lake.port("sales.orders.placed").write(orders([1]))
    with pytest.raises(ReleaseError, match="never been written"):
        lake.product("sales.orders").cut_release()
    assert "release-1.4.0" not in lake.port("sales.orders.placed").table().metadata.refs


def test_an_unknown_release_is_refused_listing_the_releases(sales: ml.Lake) -> None:
    sales.product("sales.orders").cut_release("1.4.0")
    with pytest.raises(ReleaseError, match=r"1\.4\.0") as caught:
        sales.port("sales.orders.placed").at(release="1.9.0")
    assert caught.value.version == "1.9.0"
    with pytest.raises(InvalidNameError):
        sales.port("sales.orders.placed").at("release:not-a-version")


def test_a_release_without_the_port_says_so(sales: ml.Lake, tmp_path: Path) -> None:
    sales.product("sales.orders").cut_release("1.4.0")
    data = json.loads(json.dumps(TWO_PORTS)) | {"version": "1.5.0"}
    data["outputs"].append({"name": "refunds", "columns": [{"name": "id", "type": "long"}]})
    sales.deploy(write_product(tmp_path / "v2", data))
    with pytest.raises(SnapshotNotFoundError, match="no snapshot of this port"):
        sales.port("sales.orders.refunds").at(release="1.4.0")


def _cut_in_child(home: Path, version: str, crash_at: str) -> subprocess.CompletedProcess[str]:
    code = f"import meshlake as ml; ml.connect(home={str(home)!r}).product('sales.orders').cut_release({version!r})"
    env = dict(os.environ, **{CRASH_AT: crash_at})
    return subprocess.run(
        [sys.executable, "-c", code], check=False, env=env, capture_output=True, text=True, timeout=120
    )


def test_a_cut_killed_between_two_ports_leaves_readers_on_the_previous_release_and_repair_converges(
    sales: ml.Lake, tmp_path: Path
) -> None:
    product = sales.product("sales.orders")
    product.cut_release("1.4.0")
    sales.port("sales.orders.placed").write(orders([7, 8]))
    sales.port("sales.orders.lines").write(lines([12]))
    killed = _cut_in_child(tmp_path / ".meshlake", "1.5.0", "release-tagged:1")
    assert killed.returncode == -9, killed.stderr
    tagged = [
        p for p in ("placed", "lines") if "release-1.5.0" in sales.port(f"sales.orders.{p}").table().metadata.refs
    ]
    assert len(tagged) == 1  # one port was tagged, then the process died
    assert [r.version for r in product.releases()] == ["1.4.0"]
    assert sales.port("sales.orders.placed").at(release="^1").to_arrow().num_rows == 3  # still 1.4.0
    with pytest.raises(ReleaseError):
        sales.port("sales.orders.placed").at(release="1.5.0")
    found = product.verify_releases()
    assert not found.ok and [p["tag"] for p in found.problems] == ["release-1.5.0"]
    repaired = product.verify_releases(repair=True)
    assert repaired.ok and len(repaired.repaired) == 1
    assert product.verify_releases().ok
    done = product.cut_release("1.5.0")
    assert sales.port("sales.orders.placed").at(release="^1").to_arrow().num_rows == 5
    assert done.ports["lines"] == _head(sales, "sales.orders.lines")


def test_verify_repairs_a_missing_tag(sales: ml.Lake) -> None:
    product = sales.product("sales.orders")
    product.cut_release("1.4.0")
    sales.port("sales.orders.lines").table().manage_snapshots().remove_tag("release-1.4.0").commit()
    report = product.verify_releases()
    assert [p["problem"] for p in report.problems] == ["tag release-1.4.0 is missing"]
    assert product.verify_releases(repair=True).ok
    assert "release-1.4.0" in sales.port("sales.orders.lines").table().metadata.refs


def test_input_ports_pin_a_release_range_resolved_at_run_time_and_stamped(sales: ml.Lake, tmp_path: Path) -> None:
    product = sales.product("sales.orders")
    product.cut_release("1.4.0")
    sales.port("sales.orders.placed").write(orders([4]))
    product.cut_release("1.5.0")
    sales.port("sales.orders.placed").write(orders([5]))
    product.cut_release("2.0.0")
    consumer = {
        "apiVersion": "meshlake/v1",
        "domain": "sales",
        "name": "report",
        "version": "1.0.0",
        "owner": {"team": "sales_data"},
        "inputs": [{"name": "placed", "port": "sales.orders.placed", "release": "^1.4"}],
        "outputs": [{"name": "totals", "columns": [{"name": "n", "type": "long"}]}],
    }
    path = write_product(tmp_path / "products", consumer)
    (path.parent / "pipeline.py").write_text(
        "import pyarrow as pa\n"
        "def build(inputs):\n"
        "    return {'totals': pa.table({'n': pa.array([inputs.placed.to_arrow().num_rows], pa.int64())})}\n"
    )
    sales.deploy(path)
    result = sales.run(path.parent)
    assert result.input_releases == {"sales.orders.placed": "1.5.0"}
    assert result.inputs["sales.orders.placed"] == product.release("1.5.0").ports["placed"]
    assert sales.port("sales.report.totals").to_arrow().column("n").to_pylist() == [4]
    summary = sales.port("sales.report.totals").table().current_snapshot().summary.additional_properties
    assert json.loads(summary["meshlake.input-releases"]) == {"sales.orders.placed": "1.5.0"}
    assert sales.port("sales.report.totals").latest().stamps["input-releases"] == {"sales.orders.placed": "1.5.0"}


def test_a_bad_release_range_in_a_descriptor_is_a_descriptor_error(lake: ml.Lake, tmp_path: Path) -> None:
    from meshlake.errors import DescriptorError

    data = json.loads(json.dumps(TWO_PORTS))
    data["inputs"] = [{"name": "x", "port": "a.b.c", "release": "^one"}]
    with pytest.raises(DescriptorError) as caught:
        lake.deploy(write_product(tmp_path / "p", data))
    assert caught.value.field == "inputs[0].release"


def test_cli_release_cut_list_show_verify(sales: ml.Lake) -> None:
    runner = CliRunner()
    cut = runner.invoke(cli, ["release", "cut", "sales.orders", "--version", "1.4.1", "--json"])
    assert cut.exit_code == 0, cut.output
    assert json.loads(cut.output)["tag"] == "release-1.4.1"
    listed = runner.invoke(cli, ["release", "list", "sales.orders", "--json"])
    assert [r["version"] for r in json.loads(listed.output)] == ["1.4.1"]
    shown = runner.invoke(cli, ["release", "show", "sales.orders", "1.4.1"])
    assert "placed: snapshot" in shown.output
    assert runner.invoke(cli, ["release", "verify", "sales.orders"]).exit_code == 0
    again = runner.invoke(cli, ["release", "cut", "sales.orders", "--version", "1.4.1"])
    assert again.exit_code == 1 and "exists already" in again.output


def test_only_owners_cut_or_repair_releases_and_a_refused_cut_changes_nothing(lake: ml.Lake, tmp_path: Path) -> None:
    from meshlake.errors import AccessDeniedError
    from tests.access.conftest import as_caller

    lake.init_access(["group:platform"])
    data = json.loads(json.dumps(TWO_PORTS))
    data["owner"]["principals"] = ["group:sales"]
    owner = as_caller(lake, "user:olga", "sales")
    owner.deploy(write_product(tmp_path / "products", data))
    owner.port("sales.orders.placed").write(orders([1]))
    owner.port("sales.orders.lines").write(lines([1]))
    eve = as_caller(lake, "user:eve")
    with pytest.raises(AccessDeniedError) as caught:
        eve.product("sales.orders").cut_release("1.4.0")
    assert caught.value.action == "release"
    with pytest.raises(AccessDeniedError):
        eve.product("sales.orders").verify_releases(repair=True)
    assert owner.product("sales.orders").releases() == []
    assert "release-1.4.0" not in owner.port("sales.orders.placed").table().metadata.refs
    assert owner.product("sales.orders").cut_release("1.4.0").version == "1.4.0"
