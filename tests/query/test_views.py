"""The lazy mesh: every port a DuckDB view, planned on first use, refreshable, pinnable to an instant."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import NamespaceAlreadyExistsError
from pyiceberg.table import Table
from pyiceberg.types import StringType

from meshlake.errors import PortNotFoundError, SnapshotNotFoundError
from meshlake.query.views import MeshViews, PortEntry

from .conftest import Files


def list_ports(catalog: SqlCatalog) -> list[PortEntry]:
    """Every table of the catalog with its metadata location, in one catalog query."""
    query = sa.text("SELECT table_namespace, table_name, metadata_location FROM iceberg_tables WHERE catalog_name = :c")
    with catalog.engine.connect() as conn:
        rows = conn.execute(query, {"c": catalog.name}).fetchall()
    return [PortEntry(f"{ns}.{name}", location) for ns, name, location in rows]


class Loader:
    def __init__(self, catalog: SqlCatalog) -> None:
        self.catalog = catalog
        self.loaded: list[str] = []

    def __call__(self, entry: PortEntry) -> Table:
        self.loaded.append(entry.address)
        return self.catalog.load_table(entry.address)


def make_port(catalog: SqlCatalog, mor: type[Files], address: str, ids: list[int]) -> Table:
    namespace = tuple(address.split(".")[:2])
    with contextlib.suppress(NamespaceAlreadyExistsError):
        catalog.create_namespace(namespace)

    table = catalog.create_table(address, schema=pa.schema([("id", pa.int64())]))
    if ids:
        mor.append(table, [{"id": i} for i in ids])
    return table


@pytest.fixture
def mesh(catalog: SqlCatalog, mor: type[Files]) -> SqlCatalog:
    make_port(catalog, mor, "logistics.shipments.daily", [1, 2, 3])
    make_port(catalog, mor, "sales.orders.placed", [10])
    make_port(catalog, mor, "kw.select.order", [7])  # SQL keywords as names
    return catalog


def test_attach_creates_every_view_without_loading_any_table(mesh: SqlCatalog, duck: Any) -> None:
    load = Loader(mesh)
    views = MeshViews(duck, ports=lambda: list_ports(mesh), load=load).attach()
    assert views.addresses == ["kw.select.order", "logistics.shipments.daily", "sales.orders.placed"]
    assert load.loaded == []
    assert duck.sql("SELECT count(*), sum(id) FROM logistics.shipments.daily").fetchall() == [(3, 6)]
    assert duck.sql('SELECT id FROM kw."select"."order"').fetchall() == [(7,)]
    duck.sql("SELECT * FROM logistics.shipments.daily").fetchall()
    assert sorted(load.loaded) == ["kw.select.order", "logistics.shipments.daily"]  # each loaded once
    catalog_columns = "SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog = 'sales'"
    # DuckDB records a view's columns when it binds it: an unused view shows the placeholder until used.
    assert duck.sql(catalog_columns).fetchall() == [("__ml_unplanned", '"NULL"')]
    duck.sql("SELECT * FROM sales.orders.placed").fetchall()
    assert duck.sql(catalog_columns).fetchall() == [("id", "BIGINT")]
    views.close()


def test_views_stay_pinned_until_refresh_which_replans_only_changed_ports(
    mesh: SqlCatalog, mor: type[Files], duck: Any
) -> None:
    load = Loader(mesh)
    views = MeshViews(duck, ports=lambda: list_ports(mesh), load=load).attach()
    duck.sql("SELECT * FROM logistics.shipments.daily, sales.orders.placed").fetchall()
    mor.append(mesh.load_table("logistics.shipments.daily"), [{"id": 4}])
    assert duck.sql("SELECT count(*) FROM logistics.shipments.daily").fetchall() == [(3,)]
    assert views.refresh() == ["logistics.shipments.daily"]
    assert duck.sql("SELECT count(*) FROM logistics.shipments.daily").fetchall() == [(4,)]
    assert load.loaded.count("sales.orders.placed") == 1
    views.close()


def test_refresh_adds_new_ports_drops_removed_ones_and_follows_schema_changes(
    mesh: SqlCatalog, mor: type[Files], duck: Any
) -> None:
    views = MeshViews(duck, ports=lambda: list_ports(mesh), load=Loader(mesh)).attach()
    make_port(mesh, mor, "sales.orders.returned", [5])
    mesh.drop_table("kw.select.order")
    table = mesh.load_table("sales.orders.placed")
    with table.update_schema() as update:
        update.add_column("note", StringType())
    mor.append(table, [{"id": 11, "note": "n"}])
    changed = views.refresh()
    assert sorted(changed) == ["kw.select.order", "sales.orders.placed", "sales.orders.returned"]
    assert duck.sql("SELECT id FROM sales.orders.returned").fetchall() == [(5,)]
    assert duck.sql("SELECT id, note FROM sales.orders.placed ORDER BY id").fetchall() == [
        (10, None),
        (11, "n"),
    ]
    with pytest.raises(Exception, match="order"):
        duck.sql('SELECT * FROM kw."select"."order"').fetchall()
    views.close()


def test_refresh_of_a_query_s_ports_lists_nothing_when_the_catalog_cannot_list_cheaply(
    mesh: SqlCatalog, mor: type[Files], duck: Any
) -> None:
    listings: list[int] = []

    def list_like_rest() -> list[PortEntry]:  # a REST catalog lists names, not metadata locations
        listings.append(1)
        return [PortEntry(e.address) for e in list_ports(mesh)]

    load = Loader(mesh)
    views = MeshViews(duck, ports=list_like_rest, load=load).attach()
    duck.sql("SELECT * FROM logistics.shipments.daily, sales.orders.placed").fetchall()
    mor.append(mesh.load_table("logistics.shipments.daily"), [{"id": 4}])
    mor.append(mesh.load_table("sales.orders.placed"), [{"id": 11}])
    load.loaded.clear()
    assert views.refresh(only=["logistics.shipments.daily", "kw.select.order"]) == ["logistics.shipments.daily"]
    assert listings == [1], "the mesh was not listed again"
    assert load.loaded == ["logistics.shipments.daily"], "only the used port it names was loaded"
    assert duck.sql("SELECT count(*) FROM logistics.shipments.daily").fetchall() == [(4,)]
    assert duck.sql("SELECT count(*) FROM sales.orders.placed").fetchall() == [(1,)], "not named: still pinned"
    make_port(mesh, mor, "sales.orders.returned", [5])
    assert views.refresh(only=["sales.orders.returned"]) == ["sales.orders.placed", "sales.orders.returned"]
    assert listings == [1, 1], "an address not attached yet lists the mesh"
    mesh.drop_table("logistics.shipments.daily")
    assert "logistics.shipments.daily" in views.refresh(only=["logistics.shipments.daily"])
    assert len(listings) == 3, "a port that no longer loads lists the mesh"
    views.close()


def test_as_of_pins_every_view_and_a_port_born_later_fails_only_when_used(
    catalog: SqlCatalog, mor: type[Files], duck: Any
) -> None:
    daily = make_port(catalog, mor, "logistics.shipments.daily", [1])
    time.sleep(0.01)
    instant = datetime.now(UTC)
    time.sleep(0.01)
    mor.append(daily, [{"id": 2}])
    make_port(catalog, mor, "sales.orders.placed", [10])
    views = MeshViews(duck, ports=lambda: list_ports(catalog), load=Loader(catalog), as_of=instant).attach()
    assert views.sql("SELECT id FROM logistics.shipments.daily").fetchall() == [(1,)]
    with pytest.raises(SnapshotNotFoundError) as info:
        views.sql("SELECT * FROM sales.orders.placed")
    assert info.value.address == "sales.orders.placed"
    with pytest.raises(Exception, match="SnapshotNotFoundError"):
        duck.sql("SELECT * FROM sales.orders.placed")
    views.close()


def test_at_clauses_read_two_versions_of_a_port_in_one_query(catalog: SqlCatalog, mor: type[Files], duck: Any) -> None:
    daily = make_port(catalog, mor, "logistics.shipments.daily", [1, 2])
    v1 = daily.current_snapshot().snapshot_id
    daily.manage_snapshots().create_tag(v1, "v1.0.0").commit()
    mor.append(daily, [{"id": 3}])
    v2 = daily.current_snapshot().snapshot_id
    views = MeshViews(duck, ports=lambda: list_ports(catalog), load=Loader(catalog)).attach()
    added = views.sql(
        f"SELECT n.id FROM logistics.shipments.daily AS n AT (VERSION => {v2}) "
        "ANTI JOIN logistics.shipments.daily AS o AT (VERSION => 'v1.0.0') USING (id)"
    ).fetchall()
    assert added == [(3,)]
    counts = views.sql(
        "SELECT (SELECT count(*) FROM logistics.shipments.daily AT (TIMESTAMP => now())), "
        f"(SELECT count(*) FROM logistics.shipments.daily AT (VERSION => {v1}))"
    ).fetchall()
    assert counts == [(3, 2)]
    mor.append(daily, [{"id": 4}])  # newer than what the view pinned: AT clauses still find it
    v3 = catalog.load_table("logistics.shipments.daily").current_snapshot().snapshot_id
    assert views.sql(f"SELECT count(*) FROM logistics.shipments.daily AT (VERSION => {v3})").fetchall() == [(4,)]
    assert views.sql("SELECT count(*) FROM logistics.shipments.daily").fetchall() == [(3,)]
    with pytest.raises(SnapshotNotFoundError) as info:
        views.sql("SELECT * FROM logistics.shipments.daily AT (VERSION => 'nope')")
    assert "v1.0.0" in str(info.value)
    with pytest.raises(PortNotFoundError):
        views.relation("logistics.shipments.weekly")
    views.close()


def test_a_session_left_open_at_exit_prints_no_nanobind_leak_report(mesh: SqlCatalog, tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import duckdb
        from pyiceberg.catalog.sql import SqlCatalog
        from meshlake.query.views import MeshViews, PortEntry
        catalog = SqlCatalog("t", uri="sqlite:///{tmp_path}/c.db", warehouse="file://{tmp_path}/wh")
        con = duckdb.connect()
        views = MeshViews(con, ports=lambda: [PortEntry("logistics.shipments.daily")],
                          load=lambda e: catalog.load_table(e.address)).attach()
        print(con.sql("SELECT count(*) FROM logistics.shipments.daily").fetchall()[0][0])
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path.cwd(),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "3"
    assert "nanobind" not in done.stderr


def test_dropped_sessions_leave_nothing_behind_for_exit(mesh: SqlCatalog) -> None:
    import gc

    import duckdb

    from meshlake.query import views as views_module

    before = len(views_module._OPEN_AT_EXIT)
    for _ in range(20):
        con = duckdb.connect()
        session = MeshViews(con, ports=lambda: list_ports(mesh), load=lambda e: mesh.load_table(e.address)).attach()
        assert session in views_module._OPEN_AT_EXIT
        del session
        con.close()
    gc.collect()
    assert len(views_module._OPEN_AT_EXIT) <= before
