"""Every read path, tried as unprivileged principals on every protected port of a mesh with the demo's policies.

The mesh is the demo's five products, deployed from their own descriptors (`meshlake/demo/products`: the same
owners, readers, masks and row filters as `meshlake demo`), filled with generated data whose PII cannot be
mistaken for anything else (`pii-<uuid>@example.com` in `sales.orders.placed.customer_email`) and whose order
ids say which side of the north hub's row filter a row is on. Then, for each principal and protected port, every
read path in `READ_PATHS` runs, and everything it returns — every value, stringified, recursively through
nested values, objects and text — is searched:

- zero PII values written to the port (the test knows every one);
- zero order ids of rows outside the principal's row filter;
- a port the principal may not read raises `AccessDeniedError` naming the principal and the port (a CLI command
  exits 1 saying so; a statement run directly on a `lake.duckdb()` connection fails with DuckDB's error carrying
  it); a quality review by a row-filtered reader is refused the same way;
- and a path that returns rows returns some the principal may see (so an empty answer cannot pass for a safe one).

What each principal may do is asked of the rule book (`lake.explain_access`), and the first test pins those
decisions, so a change of the demo's policies shows here.

Every new read path (the site, diff, distributed reads, …) is added to `READ_PATHS`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa
import pytest

import meshlake as ml
from meshlake.errors import AccessDeniedError, QualityGateError
from meshlake.quality.records import read_results
from tests.access.conftest import run_cli
from tests.test_pipelines import make_product

DEMO = Path(ml.__file__).parent / "demo" / "products"
PLACED = "sales.orders.placed"
REVENUE = "sales.orders.revenue"
TELEMETRY = "fleet.drones.telemetry"
ADMIN = ("user:root", "platform")
PRINCIPALS = {"user:ana": "analytics", "user:nils": "north_hub"}
"""An analyst (emails masked, every row) and the north hub's staff (emails masked, the north hub's rows only)."""
CASES = [("user:ana", PLACED), ("user:nils", PLACED), ("user:ana", REVENUE), ("user:nils", TELEMETRY)]
"""(principal, protected port): the two ways of reading orders, and two ports they may not read at all."""
HUBS = ("north", "south", "east", "west")


# -- the mesh ---------------------------------------------------------------------------------------------


@dataclass
class Mesh:
    """The lake, what was written to it, and how to open it as anyone."""

    home: Path
    config: Path
    tag: str
    first_snapshot: int
    first_written_at: dt.datetime
    branch: str
    """The quarantine branch of a stopped write (its rows carry PII too)."""
    pii: set[str]
    ids_by_hub: dict[str, set[str]]
    probes: dict[str, Path]
    """Port address → the folder of a product whose pipeline reads it (as `product:audit.<port>_probe`)."""
    warehouse: Path = field(init=False)

    def __post_init__(self) -> None:
        self.warehouse = self.home / "warehouse"

    def connect(self, principal: str, *groups: str) -> ml.Lake:
        return ml.connect(home=str(self.home), principal=principal, groups=list(groups))

    @property
    def admin(self) -> ml.Lake:
        return self.connect(ADMIN[0], ADMIN[1])


def _reject_a_message(placed: Any, pii: set[str]) -> None:
    """A streamed message that is not a row (no order id) but carries PII: kept in meshlake.system.stream_rejects."""
    from meshlake.errors import StreamStoppedError
    from meshlake.streams.memory import MemorySource

    email = f"pii-{uuid.uuid4()}@example.com"
    pii.add(email)
    source = MemorySource("orders_feed")
    source.publish(json.dumps({"customer_email": email, "hub": "north"}).encode())
    with pytest.raises(StreamStoppedError):
        placed.stream(source, max_wait=0.05, idle=0.5)


def _orders(hubs: list[str], first: int, *, day: dt.date, pii: set[str], ids: dict[str, set[str]]) -> pa.Table:
    """Orders with unmistakable emails (every third one NULL); order ids `ORD-7…` in the north, `ORD-8…` elsewhere."""
    rows = []
    for n, hub in enumerate(hubs, start=first):
        order_id = f"ORD-{7 if hub == 'north' else 8}{n:07d}"
        ids.setdefault(hub, set()).add(order_id)
        email = None if n % 3 == 0 else f"pii-{uuid.uuid4()}@example.com"
        if email:
            pii.add(email)
        rows.append(
            {
                "order_id": order_id,
                "customer_id": f"C{n:05d}",
                "customer_email": email,
                "placed_at": dt.datetime(day.year, day.month, day.day, 8, n % 60, tzinfo=dt.UTC),
                "hub": hub,
                "items": n % 5 + 1,
                "weight_kg": -1.0 if hub == "mars" else 1.5 + n % 4,
                "total_eur": Decimal(f"{10 + n}.50"),
            }
        )
    schema = pa.schema(
        [
            pa.field("order_id", pa.string(), nullable=False),
            pa.field("customer_id", pa.string(), nullable=False),
            ("customer_email", pa.string()),
            pa.field("placed_at", pa.timestamp("us", tz="UTC"), nullable=False),
            pa.field("hub", pa.string(), nullable=False),
            ("items", pa.int32()),
            ("weight_kg", pa.float64()),
            ("total_eur", pa.decimal128(10, 2)),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)


def _deliveries(orders: pa.Table, day: dt.date) -> pa.Table:
    start = dt.datetime(day.year, day.month, day.day, 9, tzinfo=dt.UTC)
    ids = orders.column("order_id").to_pylist()
    return pa.table(
        {
            "delivery_id": [f"DLV-{i[4:]}" for i in ids],
            "order_id": ids,
            "drone_id": ["DR-001"] * len(ids),
            "hub": orders.column("hub").to_pylist(),
            "day": pa.array([day] * len(ids), pa.date32()),
            "dispatched_at": pa.array([start] * len(ids), pa.timestamp("us", tz="UTC")),
            "delivered_at": pa.array([start + dt.timedelta(minutes=20)] * len(ids), pa.timestamp("us", tz="UTC")),
            "distance_km": [3.5] * len(ids),
            "promised_minutes": pa.array([60] * len(ids), pa.int32()),
        }
    )


PROBE_PIPELINE = """
import json

import pyarrow as pa


def build(inputs, context):
    source = inputs.source
    address = context.descriptor.inputs[0].port
    seen = {
        "arrow": source.to_arrow(),
        "polars": source.to_polars().collect().to_arrow(),
        "pandas": pa.Table.from_pandas(source.to_pandas(), preserve_index=False),
        "duckdb": inputs.duckdb().sql("SELECT * FROM source").to_arrow_table(),
        "context.lake": context.lake.sql(f"SELECT * FROM {address}").to_arrow_table(),
    }
    rows = [{"engine": e, "row": json.dumps(r, default=str)} for e, t in seen.items() for r in t.to_pylist()]
    schema = pa.schema([pa.field("engine", pa.string(), nullable=False), ("row", pa.string())])
    return {"seen": pa.Table.from_pylist(rows, schema=schema)}
"""


def _probe_product(folder: Path, address: str) -> Path:
    """A product of the audit team whose pipeline reads `address` every way a pipeline can and keeps what it saw."""
    name = f"{address.rsplit('.', maxsplit=1)[-1]}_probe"
    descriptor = {
        "apiVersion": "meshlake/v1",
        "domain": "audit",
        "name": name,
        "version": "1.0.0",
        "owner": {"team": "audit", "principals": ["group:audit"]},
        "inputs": [{"name": "source", "port": address}],
        "outputs": [
            {
                "name": "seen",
                "columns": [
                    {"name": "engine", "type": "string", "required": True},
                    {"name": "row", "type": "string"},
                ],
            }
        ],
    }
    return make_product(folder / name, descriptor, PROBE_PIPELINE)


@pytest.fixture(scope="module")
def mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    root = tmp_path_factory.mktemp("every_read_path")
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("MESHLAKE_") and not n.startswith("MESHLAKE_TEST_")]:
            patch.delenv(name)
        home = root / ".meshlake"
        admin = ml.connect(home=str(home), principal=ADMIN[0], groups=[ADMIN[1]])
        admin.init_access(["group:platform"])
        for product in ("drones", "orders", "shipping", "routing_analysis", "inventory_planning"):
            shutil.copytree(DEMO / product, root / "products" / product, ignore=shutil.ignore_patterns("__pycache__"))
            admin.deploy(root / "products" / product)
        pii: set[str] = set()
        ids: dict[str, set[str]] = {}
        day = dt.date(2026, 11, 2)
        placed = admin.port(PLACED)
        first = _orders([HUBS[i % 4] for i in range(12)], 1, day=day, pii=pii, ids=ids)
        written = placed.write(first)
        placed.tag("v1")
        first_written_at = dt.datetime.now(dt.UTC)
        time.sleep(0.01)
        second = _orders([HUBS[i % 4] for i in range(12)], 101, day=day + dt.timedelta(days=1), pii=pii, ids=ids)
        placed.write(second)
        # pending merge-on-read deletes (new emails for two orders, one order gone): reads go through meshlake's
        # DuckDB extension (`test_the_orders_are_read_through_the_native_row_mask`)
        changed = _orders(["north", "south"], 101, day=day + dt.timedelta(days=1), pii=pii, ids=ids)
        placed.write(changed, mode="upsert", write_mode="merge-on-read")
        placed.delete("order_id = 'ORD-80000103'", write_mode="merge-on-read")
        with pytest.raises(QualityGateError) as stopped:  # an unknown hub and negative weights: quarantined
            placed.write(_orders(["mars", "north", "mars", "south", "mars"], 202, day=day, pii=pii, ids=ids))
        assert stopped.value.quarantine_branch is not None
        _reject_a_message(placed, pii)
        admin.port("logistics.shipping.deliveries").write(_deliveries(pa.concat_tables([first, second]), day))
        admin.port(REVENUE).write(
            pa.table(
                {
                    "day": pa.array([day] * 4, pa.date32()),
                    "hub": list(HUBS),
                    "orders": pa.array([3] * 4, pa.int64()),
                    "revenue_eur": pa.array([Decimal("99.00")] * 4, pa.decimal128(12, 2)),
                    "margin_eur": pa.array([Decimal("12.00")] * 4, pa.decimal128(12, 2)),
                }
            )
        )
        moment = dt.datetime(2026, 11, 2, 8, tzinfo=dt.UTC)
        admin.port(TELEMETRY).write(
            pa.table(
                {
                    "drone_id": ["DR-001"],
                    "reported_at": pa.array([moment], pa.timestamp("us", tz="UTC")),
                    "battery_pct": [80.0],
                    "lat": [59.3],
                    "lon": [18.0],
                    "status": ["idle"],
                }
            )
        )
        admin.product("sales.orders").cut_release("1.0.0")  # both ports written: the release read paths read it
        probes = {}
        for address in (PLACED, REVENUE, TELEMETRY):
            probes[address] = _probe_product(root / "probes", address)
            admin.deploy(probes[address])
        config = root / "meshlake.yaml"
        config.write_text(f"home: {home}\n")
        admin.port(PLACED).latest().to_arrow()  # a read: the access log exists from here on
        admin.close()
        assert written.snapshot_id is not None
        yield Mesh(home, config, "v1", written.snapshot_id, first_written_at, stopped.value.quarantine_branch, pii,
                   ids, probes)  # fmt: skip


# -- the registry of read paths ------------------------------------------------------------------------------

Kind = Literal["data", "review", "metadata", "catalog", "records", "around", "broker"]
"""How a path answers a principal:

- `data`: the port's rows (filtered and masked); denied: `AccessDeniedError`;
- `review`: quality results over every row: masked for a masked reader, refused for a filtered one or a denied one;
- `metadata`: what the port's readers see of it (history, stamps); denied: `AccessDeniedError`;
- `catalog`: what every descriptor publishes (`describe`): never refused, never a value;
- `records`: meshlake's own tables (quality history, access log): the principal's rows of them, none here;
- `around`: an attempt to read around the restrictions: any error, or only what the principal may see;
- `broker`: what a port's owner publishes to a broker, which hands it to any subscriber meshlake cannot check:
  never refused, so only what the principal may see (nothing from a port that serves no stream).
"""


@dataclass(frozen=True)
class Probe:
    """One read path's call: the port, the lake opened as the principal, and what the mesh holds."""

    mesh: Mesh
    principal: str
    groups: tuple[str, ...]
    address: str
    opened: list[ml.Lake] = field(default_factory=list)

    @property
    def lake(self) -> ml.Lake:
        """A fresh lake as the principal (a new DuckDB session for each: nothing carried over between paths)."""
        lake = self.mesh.connect(self.principal, *self.groups)
        self.opened.append(lake)
        return lake

    def close(self) -> None:
        """Close the DuckDB connections the lakes opened (a connection's Python functions keep it alive)."""
        for lake in self.opened:
            for session in lake._sessions.values():
                session.close()
                session.con.close()

    @property
    def port(self) -> Any:
        return self.lake.port(self.address)

    @property
    def instant(self) -> str:
        return self.mesh.first_written_at.isoformat()

    def cli(self, *args: str, fails: bool = False) -> str:
        """`meshlake ARGS` as the principal (MESHLAKE_PRINCIPAL / MESHLAKE_GROUPS): its output.

        A command refused for the principal exits 1 saying `<principal> may not …`: raised here as the
        `AccessDeniedError` it reported; any other failure fails the test unless the command `fails` by design
        (a check that finds failing rows exits 1).
        """
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("MESHLAKE_PRINCIPAL", self.principal)
            patch.setenv("MESHLAKE_GROUPS", ",".join(self.groups))
            result = run_cli(f"--config={self.mesh.config}", *args)
        if result.exit_code != 0:
            if f"{self.principal} may not" in result.output:
                raise AccessDeniedError(self.principal, self.address, result.output, action="read")
            if not (fails and result.exit_code == 1):
                raise AssertionError(f"meshlake {' '.join(args)} failed: {result.output}")
        return result.output


@dataclass(frozen=True)
class ReadPath:
    read: Callable[[Probe], Any]
    kind: Kind = "data"
    rows: bool = True
    """Whether it returns rows of the port (then some the principal may see must show)."""
    reader: Callable[[Probe], tuple[str, tuple[str, ...]]] | None = None
    """Who actually reads, when it is not the principal (a pipeline reads as its product)."""


def _snapshot_reads() -> dict[str, ReadPath]:
    refs: dict[str, Callable[[Probe], Any]] = {
        "latest()": lambda p: p.port.latest(),
        "at(tag)": lambda p: p.port.at(p.mesh.tag),
        "at(snapshot id)": lambda p: p.port.at(_first_snapshot(p)),
        "as_of(time)": lambda p: p.port.as_of(p.mesh.first_written_at),
        "at(quarantine branch)": lambda p: p.port.at(p.mesh.branch),
    }
    outputs: dict[str, Callable[[Any], Any]] = {
        "to_arrow()": lambda s: s.to_arrow(),
        "to_polars().collect()": lambda s: s.to_polars().collect(),
        "to_polars().head(3).collect()": lambda s: s.to_polars().head(3).collect(),
        "to_pandas()": lambda s: s.to_pandas(),
        "sql() in DuckDB": lambda s: duckdb.connect().sql(s.sql()).fetchall(),
    }
    return {
        f"port.{ref}.{out}": ReadPath(lambda p, r=read_ref, o=read_out: o(r(p)))
        for ref, read_ref in refs.items()
        for out, read_out in outputs.items()
    }


def _first_snapshot(probe: Probe) -> int:
    """The id of the port's first snapshot (read as the admin: an id is no secret)."""
    return int(probe.mesh.admin.port(probe.address).history()[0].snapshot_id)


def _sql(probe: Probe, query: str, *, on_connection: bool = False) -> Any:
    """`query` through `lake.sql` (with `con=` a connection from the same lake's `duckdb()`, `on_connection`)."""
    lake = probe.lake
    con = lake.duckdb() if on_connection else None
    return lake.sql(query.format(a=probe.address, p=probe, t=probe.mesh.tag), con=con).fetchall()


def _on_connection(probe: Probe, query: str, **duckdb_args: Any) -> Any:
    """`query` run directly on a `lake.duckdb()` connection (not through lake.sql)."""
    con = probe.lake.duckdb(**duckdb_args)
    return con.sql(query.format(a=probe.address, p=probe, t=probe.mesh.tag)).fetchall()


def _self_join(probe: Probe) -> str:
    columns = "a.*, b.*" if probe.address == PLACED else "*"
    on = "a.order_id = b.order_id" if probe.address == PLACED else "true"
    return f"SELECT {columns} FROM {probe.address} a JOIN {probe.address} b ON {on}"


def _join_deliveries(probe: Probe) -> str:
    if probe.address != PLACED:
        return f"SELECT * FROM {probe.address} x JOIN logistics.shipping.deliveries d ON true"
    return f"SELECT o.*, d.delivery_id FROM {PLACED} o JOIN logistics.shipping.deliveries d USING (order_id)"


def _served_stream(probe: Probe) -> list[dict[str, Any]]:
    """The messages a subscriber of the port's subject gets: its owner serves the port (`serve: [table, stream]`,
    as an admin here), and the broker hands every message to whoever subscribes."""
    from meshlake.errors import StreamNotServedError
    from meshlake.streams.serve import MemorySink

    sink = MemorySink()
    try:
        probe.mesh.admin.port(probe.address).serve_stream(sink)
    except StreamNotServedError:
        return []
    return [json.loads(payload) for _, _, payload in sink.messages]


def _pipeline(probe: Probe) -> Any:
    """Run the audit product whose pipeline reads the port (as the admin: the run reads as the product)."""
    admin = probe.mesh.admin
    admin.run(probe.mesh.probes[probe.address])
    name = f"audit.{probe.address.rsplit('.', maxsplit=1)[-1]}_probe.seen"
    return admin.port(name).latest().to_arrow()


def _probe_product_of(probe: Probe) -> tuple[str, tuple[str, ...]]:
    return f"product:audit.{probe.address.rsplit('.', maxsplit=1)[-1]}_probe", ()


def _files(probe: Probe) -> str:
    """A glob over the port's files in the warehouse."""
    domain, product, port = probe.address.split(".")
    return str(probe.mesh.warehouse / domain / product / port / "**" / "*")


def _site(probe: Probe, *, cli: bool = False) -> str:
    """Build the catalog site for the principal (its page of the port, and the home page with the search index)."""
    import tempfile

    from meshlake.site.build import build_site

    out = Path(tempfile.mkdtemp(prefix="site-"))
    try:
        if cli:
            audience = ["--as", probe.principal] + [arg for g in probe.groups for arg in ("--group", g)]
            probe.cli("site", "build", str(out / "site"), *audience)
        else:
            build_site(probe.lake, out / "site")
        pages = [out / "site" / "ports" / f"{probe.address}.html", out / "site" / "index.html"]
        return "\n".join(page.read_text(encoding="utf-8") for page in pages)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _distributed(engine: str) -> Any:
    """Daft or Ray Data, which live in their own venv: skipped (with the reason) elsewhere, run by
    tests/integration/test_distributed.py through `.ci/distributed-venv.sh`'s venv. Ray is started on loopback."""
    if engine == "ray":
        os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # read when Ray is imported: listeners on 127.0.0.1
        ray = pytest.importorskip("ray", reason="Ray is not installed here: it runs in the distributed venv")
        if not ray.is_initialized():
            ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
        return ray
    return pytest.importorskip("daft", reason="Daft is not installed here: it runs in the distributed venv")


def _daft(probe: Probe, ref: str | None = None) -> Any:
    _distributed("daft")
    snapshot = probe.port.latest() if ref is None else probe.port.at(ref)
    return snapshot.to_daft().to_arrow()


def _ray(probe: Probe) -> Any:
    _distributed("ray")
    _distributed("daft")
    return probe.port.to_ray().take_all()


READ_PATHS: dict[str, ReadPath] = {
    # Every new read path is added here: a name, and how it reads `probe.address` as `probe.principal`.
    # -- the Python API
    **_snapshot_reads(),
    "port.to_arrow()": ReadPath(lambda p: p.port.to_arrow()),
    "port.to_polars()": ReadPath(lambda p: p.port.to_polars().collect()),
    "port.to_pandas()": ReadPath(lambda p: p.port.to_pandas()),
    "lake.read(addr)": ReadPath(lambda p: p.lake.read(p.address).to_arrow()),
    "lake.read(addr@tag)": ReadPath(lambda p: p.lake.read(f"{p.address}@{p.mesh.tag}").to_arrow()),
    "lake.read(addr@id)": ReadPath(lambda p: p.lake.read(f"{p.address}@{_first_snapshot(p)}").to_polars().collect()),
    "lake.read(addr@time)": ReadPath(lambda p: p.lake.read(f"{p.address}@{p.instant}").to_pandas()),
    "port.at(release=…)": ReadPath(lambda p: p.port.at(release="^1").to_arrow()),
    "lake.read(addr@release:…)": ReadPath(lambda p: p.lake.read(f"{p.address}@release:1.0.0").to_polars().collect()),
    "port.diff(tag, latest)": ReadPath(lambda p: p.port.diff(p.mesh.tag, samples=50).to_dict()),
    "lake.diff(addr@tag, addr@release:…)": ReadPath(
        lambda p: p.lake.diff(f"{p.address}@{p.mesh.tag}", f"{p.address}@release:1.0.0", key=["order_id"]).to_dict()
    ),
    "port.to_daft()": ReadPath(_daft),
    "port.at(tag).to_daft()": ReadPath(lambda p: _daft(p, p.mesh.tag)),
    "port.at(quarantine branch).to_daft()": ReadPath(lambda p: _daft(p, p.mesh.branch)),
    "port.to_ray()": ReadPath(_ray),
    "port.history()": ReadPath(lambda p: [e.to_dict() for e in p.port.history()], "metadata", rows=False),
    "snapshot stamps": ReadPath(lambda p: p.port.latest().stamps, "metadata", rows=False),
    "product.describe()": ReadPath(lambda p: p.lake.product(p.address.rsplit(".", 1)[0]).describe(), "catalog", False),
    "port.slo()": ReadPath(lambda p: p.port.slo().to_dict(), "catalog", rows=False),
    # -- DuckDB: lake.sql, lake.duckdb() views, time travel, joins
    "lake.sql SELECT *": ReadPath(lambda p: _sql(p, "SELECT * FROM {a}")),
    "lake.sql AT (VERSION => tag)": ReadPath(lambda p: _sql(p, "SELECT * FROM {a} AT (VERSION => '{t}')")),
    "lake.sql AT (VERSION => id)": ReadPath(
        lambda p: _sql(p, f"SELECT * FROM {p.address} AT (VERSION => {_first_snapshot(p)})")
    ),
    "lake.sql AT (TIMESTAMP => …)": ReadPath(
        lambda p: _sql(p, f"SELECT * FROM {p.address} AT (TIMESTAMP => TIMESTAMPTZ '{p.instant}')")
    ),
    "lake.sql AT (VERSION => quarantine branch)": ReadPath(
        lambda p: _sql(p, f"SELECT * FROM {p.address} AT (VERSION => '{p.mesh.branch}')")
    ),
    "lake.sql AT (VERSION => 'release:…')": ReadPath(
        lambda p: _sql(p, "SELECT * FROM {a} AT (VERSION => 'release:1.0.0')")
    ),
    "lake.sql self-join": ReadPath(lambda p: _sql(p, _self_join(p))),
    "lake.sql join with another product": ReadPath(lambda p: _sql(p, _join_deliveries(p))),
    "lake.sql aggregate of every value": ReadPath(lambda p: _sql(p, "SELECT list(COLUMNS(*)) FROM {a}"), rows=True),
    "lake.sql filter on the masked column": ReadPath(
        lambda p: _sql(p, "SELECT * FROM {a} WHERE CAST(COLUMNS(*) AS VARCHAR) LIKE '%pii-%'"), rows=False
    ),
    "lake.sql(con=lake.duckdb())": ReadPath(lambda p: _sql(p, "SELECT * FROM {a}", on_connection=True)),
    "lake.sql(con=lake.duckdb()) AT (VERSION => tag)": ReadPath(
        lambda p: _sql(p, "SELECT * FROM {a} AT (VERSION => '{t}')", on_connection=True)
    ),
    "lake.duckdb() SELECT *": ReadPath(lambda p: _on_connection(p, "SELECT * FROM {a}")),
    "lake.duckdb() join": ReadPath(lambda p: _on_connection(p, _join_deliveries(p))),
    "lake.duckdb(as_of=…)": ReadPath(lambda p: _on_connection(p, "SELECT * FROM {a}", as_of=p.mesh.first_written_at)),
    "lake.duckdb() SHOW ALL TABLES": ReadPath(
        lambda p: p.lake.duckdb().sql("SHOW ALL TABLES").fetchall(), "catalog", rows=False
    ),
    # -- around the views: every one fails, or returns only what the principal may see
    "read_parquet over the port's files": ReadPath(
        lambda p: _on_connection(p, f"SELECT * FROM read_parquet('{_files(p)}.parquet')"), "around"
    ),
    "glob over the warehouse": ReadPath(lambda p: _on_connection(p, f"SELECT * FROM glob('{_files(p)}')"), "around"),
    "read_text of the table metadata": ReadPath(
        lambda p: _on_connection(p, f"SELECT * FROM read_text('{_files(p)}.json')"), "around"
    ),
    "ml_scan relation": ReadPath(lambda p: _on_connection(p, "SELECT * FROM query(ml_scan('{a}'))"), "around"),
    "the private source by name": ReadPath(lambda p: _on_connection(p, 'SELECT * FROM "__meshlake_{a}"'), "around"),
    # -- pipelines: a product's run reads its inputs as the product
    "pipeline inputs (arrow, polars, pandas, duckdb, context.lake)": ReadPath(_pipeline, reader=_probe_product_of),
    # -- quality: checks, quarantine, the quality history, the access log
    "port.check()": ReadPath(lambda p: p.port.check(), "review", rows=False),
    "port.check(quarantine branch)": ReadPath(lambda p: p.port.check(p.mesh.branch), "review"),
    "port.quarantine()": ReadPath(lambda p: [w.to_dict() for w in p.port.quarantine()], "review"),
    "quarantine().show(branch)": ReadPath(lambda p: p.port.quarantine().show(p.mesh.branch).to_dict(), "review"),
    "quality_results through lake.sql": ReadPath(
        lambda p: _sql(p, "SELECT * FROM meshlake.system.quality_results WHERE address = '{a}'"), "records", False
    ),
    "served stream (port.serve_stream, read off the broker)": ReadPath(_served_stream, "broker"),
    "stream_rejects through lake.sql": ReadPath(
        lambda p: _sql(p, "SELECT * FROM meshlake.system.stream_rejects WHERE address = '{a}'"), "records", False
    ),
    "access_log through lake.sql": ReadPath(
        lambda p: _sql(p, "SELECT * FROM meshlake.system.access_log"), "records", rows=False
    ),
    # -- the command line, as the principal
    "meshlake sql": ReadPath(lambda p: p.cli("sql", f"SELECT * FROM {p.address}")),
    "meshlake --json sql AT": ReadPath(
        lambda p: p.cli("--json", "sql", f"SELECT * FROM {p.address} AT (VERSION => '{p.mesh.tag}')")
    ),
    "meshlake --json diff": ReadPath(
        lambda p: p.cli("--json", "diff", f"{p.address}@{p.mesh.tag}", p.address, "--samples", "50", fails=True)
    ),
    "meshlake describe": ReadPath(lambda p: p.cli("describe", p.address), "catalog", rows=False),
    "meshlake --json describe": ReadPath(lambda p: p.cli("--json", "describe", p.address), "catalog", rows=False),
    "meshlake history": ReadPath(lambda p: p.cli("history", p.address), "metadata", rows=False),
    "meshlake quarantine list": ReadPath(lambda p: p.cli("--json", "quarantine", "list", p.address), "review"),
    "meshlake quarantine show": ReadPath(lambda p: p.cli("quarantine", "show", p.address, p.mesh.branch), "review"),
    "meshlake check": ReadPath(lambda p: p.cli("--json", "check", p.address), "review", rows=False),
    "meshlake check @branch": ReadPath(
        lambda p: p.cli("--json", "check", f"{p.address}@{p.mesh.branch}", fails=True), "review"
    ),
    # the catalog site: sample rows as its audience; a port the audience may not read is shown without rows
    "site build (port page, samples as the audience)": ReadPath(_site, "catalog"),
    "meshlake site build --as": ReadPath(lambda p: _site(p, cli=True), "catalog"),
    "lake.lineage() upstream": ReadPath(lambda p: p.lake.lineage().upstream(p.address).to_dict(), "metadata", False),
}


# -- searching what came back --------------------------------------------------------------------------------


def texts(value: Any, depth: int = 0) -> Iterator[str]:
    """Every value inside `value`, stringified: containers, tables and frames, dataclasses and objects."""
    if depth > 50:
        yield repr(value)
        return
    nested = depth + 1
    if value is None:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        yield raw.decode("utf-8", "replace")
        yield raw.hex()
    elif isinstance(value, int | float | Decimal | dt.date | dt.time | dt.timedelta | uuid.UUID):
        yield str(value)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from texts(key, nested)
            yield from texts(item, nested)
    elif isinstance(value, pa.Table | pa.RecordBatch):
        yield from texts(value.to_pylist(), nested)
    elif type(value).__module__.startswith("polars"):
        frame = value.collect() if hasattr(value, "collect") else value
        yield from texts(frame.to_dicts(), nested)
    elif type(value).__module__.startswith("pandas"):
        yield from texts(value.to_dict("records"), nested)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in dataclasses.fields(value):
            yield from texts(getattr(value, item.name), nested)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from texts(item, nested)
    else:
        yield repr(value)
        if hasattr(value, "__dict__"):
            yield from texts(vars(value), nested)


def pii_in(text: str, mesh: Mesh) -> list[str]:
    """The PII values written that show in `text`: whole, their unique part, or any start of one (`pii-`: masked,
    an email reads `xxx-nnnnnnnn-…`, so even a value cut short in a table shows)."""
    return [value for value in mesh.pii if value in text or value[4:-12] in text] + (["pii-"] if "pii-" in text else [])


def outside(mesh: Mesh, decision: Any) -> set[str]:
    """Order ids of rows outside the reader's row filter (the demo filters `hub = 'north'`)."""
    if decision.row_filter is None:
        return set()
    assert decision.row_filter.clauses == ("hub = 'north'",)
    return {order for hub, orders in mesh.ids_by_hub.items() if hub != "north" for order in orders}


def visible(mesh: Mesh, decision: Any) -> set[str]:
    hubs = ["north"] if decision.row_filter is not None else list(mesh.ids_by_hub)
    return {order for hub in hubs for order in mesh.ids_by_hub.get(hub, ())}


def is_denial(exc: BaseException, principal: str, address: str) -> bool:
    """`AccessDeniedError` naming the principal and port, or DuckDB's error carrying it (a direct statement)."""
    if isinstance(exc, AccessDeniedError):
        return exc.principal == principal and exc.address == address
    return isinstance(exc, duckdb.Error) and f"AccessDeniedError: {principal} may not read {address}" in str(exc)


# -- the tests -----------------------------------------------------------------------------------------------


def test_the_principals_rights_are_the_demos(mesh: Mesh) -> None:
    admin = mesh.admin
    ana = admin.explain_access("user:ana", PLACED, groups=["analytics"])
    nils = admin.explain_access("user:nils", PLACED, groups=["north_hub"])
    assert (
        ana.read
        and ana.row_filter is None
        and {c: str(m) for c, m in ana.masks.items()} == {"customer_email": "mask-alphanum"}
    )
    assert nils.read and str(nils.row_filter) == "(hub = 'north')" and set(nils.masks) == {"customer_email"}
    assert not admin.explain_access("user:ana", REVENUE, groups=["analytics"]).read
    assert not admin.explain_access("user:nils", TELEMETRY, groups=["north_hub"]).read
    probe = admin.explain_access("product:audit.placed_probe", PLACED)
    assert probe.read and probe.row_filter is None and set(probe.masks) == {"customer_email"}
    assert len(mesh.pii) > 15 and len(mesh.ids_by_hub["north"]) > 5


@pytest.mark.parametrize(("principal", "address"), CASES, ids=[f"{p}-{a}" for p, a in CASES])
@pytest.mark.parametrize("path", READ_PATHS)
def test_every_read_path_returns_no_pii_and_no_row_outside_the_filter(
    mesh: Mesh, path: str, principal: str, address: str
) -> None:
    read = READ_PATHS[path]
    probe = Probe(mesh, principal, (PRINCIPALS[principal],), address)
    reader, groups = read.reader(probe) if read.reader else (principal, probe.groups)
    decision = mesh.admin.explain_access(reader, address, groups=list(groups))
    refused = (not decision.read and read.kind in ("data", "review", "metadata")) or (
        decision.row_filter is not None and read.kind == "review"
    )

    try:
        got = read.read(probe)
    except Exception as exc:
        if refused or read.kind == "around":
            assert read.kind == "around" or is_denial(exc, reader, address), f"{path}: {exc!r}"
            return
        raise
    finally:
        probe.close()
    assert not refused, f"{path}: {reader} read {address}, which it may not"

    text = "\n".join(texts(got))
    assert not pii_in(text, mesh), f"{path}: unmasked PII in what {reader} got back"
    leaked = sorted(order for order in outside(mesh, decision) if order in text)
    assert not leaked, f"{path}: rows outside {reader}'s row filter: {leaked}"
    if read.rows and decision.read and read.kind != "around":
        assert any(order in text for order in visible(mesh, decision)), f"{path}: none of the rows {reader} may read"


@pytest.mark.parametrize("native", ["scan", "filter"])
def test_the_orders_are_read_through_the_native_row_mask(
    mesh: Mesh, monkeypatch: pytest.MonkeyPatch, native: str
) -> None:
    """The reads above meet pending position deletes on the orders, applied by meshlake's DuckDB extensions where
    they load: a restricted read (the private database) and a view of `lake.duckdb()` each load a row mask, and
    apply it inside the Parquet scan (`meshlake_scan`) or in a filter above it (`MESHLAKE_NATIVE_DELETES=filter`),
    with the same rows and masks either way."""
    from meshlake.query import sql as scan_texts
    from meshlake.query.native.build import scan_extension_path, scan_unavailable_reason, unavailable_reason
    from meshlake.query.native.masks import masks

    if native == "filter":
        monkeypatch.setenv("MESHLAKE_NATIVE_DELETES", "filter")
    elif scan_extension_path() is None:
        pytest.skip(f"meshlake_scan cannot be loaded here: {scan_unavailable_reason()}")
    if unavailable_reason() is not None:
        pytest.skip(f"meshlake's DuckDB extension cannot be loaded here: {unavailable_reason()}")
    texts: dict[str, int] = {"scan": 0, "filter": 0}
    for name, kind in (("_scanned", "scan"), ("_masked", "filter")):
        monkeypatch.setattr(scan_texts, name, _counted(getattr(scan_texts, name), texts, kind))
    table = mesh.admin.port(PLACED).table()
    assert any(t["content"] == 1 for t in table.inspect.files().to_pylist()), "position delete files are pending"
    for principal, group in PRINCIPALS.items():
        masks.clear()
        lake = mesh.connect(principal, group)
        rows = lake.sql(f"SELECT order_id FROM {PLACED}").fetchall()
        assert rows and "ORD-80000103" not in {r[0] for r in rows}
        assert len(masks) == 1, f"{principal}'s read applied the deletes with a row mask"
        lake.close()
    masks.clear()
    con = mesh.admin.duckdb()
    assert con.sql(f"SELECT count(*) FROM {PLACED}").fetchall() == [(23,)] and len(masks) == 1
    other = "filter" if native == "scan" else "scan"
    assert texts[native] >= len(PRINCIPALS) + 1 and texts[other] == 0, texts


def _counted(real: Any, counts: dict[str, int], kind: str) -> Any:
    """`real`, adding 1 to `counts[kind]` at each call."""

    def counted(*args: Any, **kwargs: Any) -> Any:
        counts[kind] += 1
        return real(*args, **kwargs)

    return counted


def test_the_quality_history_of_a_pii_port_read_whole_by_an_admin_holds_no_unmasked_sample(mesh: Mesh) -> None:
    rows = read_results(mesh.admin.catalog, address=PLACED)
    samples = [row for row in rows if row["sample"]]
    assert samples, "the stopped write and the checks recorded failing-row samples"
    text = "\n".join(texts(rows))
    assert not pii_in(text, mesh)
    assert "xxx-" in text  # the emails are there, masked (mask-alphanum keeps the shape)
    recorded = mesh.admin.sql(f"SELECT * FROM meshlake.system.quality_results WHERE address = '{PLACED}'").fetchall()
    assert recorded and not pii_in("\n".join(texts(recorded)), mesh)


def test_the_access_log_read_whole_by_an_admin_holds_no_pii(mesh: Mesh) -> None:
    reader = mesh.connect("user:ana", "analytics")
    reader.port(PLACED).latest().to_arrow()
    reader.close()
    log = mesh.admin.sql("SELECT * FROM meshlake.system.access_log").fetchall()
    assert any("user:ana" in row for row in log)
    assert not pii_in("\n".join(texts(log)), mesh)
    assert not pii_in(json.dumps(log, default=str), mesh)
