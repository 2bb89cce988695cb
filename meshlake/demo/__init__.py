"""`meshlake demo`: the drone-delivery mesh — five products, five teams, several days of history, and who may
read what.

The products live in `products/` next to this file and are copied into the demo folder, so every step
can be re-run by hand (`meshlake run products/orders --param day=…`, as one of the product's owners).

The lake is initialised with `group:platform` as its admins (`meshlake init --admin group:platform`) and built
by `BUILDER`, a member of it. Each product names its owning team's group; `sales.orders.placed` is read by the
whole mesh with customer emails masked (`mask-alphanum`) for everyone but the storefront (its owners) and
`group:support`, and the north hub's staff (`group:north_hub`) read the north hub's orders only;
`sales.orders.revenue` is for `group:finance` only; `fleet.drones.telemetry` for route science and the
pipeline of `analytics.routing_analysis`, which reads it as `product:analytics.routing_analysis`.

May import every layer below the CLI: it builds the mesh through the public facades.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import meshlake as ml
from meshlake.demo.streaming import StreamDemo, serve_orders, stream_telemetry
from meshlake.errors import GovernanceViolationError, QualityGateError

PRODUCTS = ["drones", "orders", "shipping", "routing_analysis", "inventory_planning"]
ADMINS = ["group:platform"]
BUILDER = ("service:meshlake-demo", "platform")
"""Who builds the mesh: a service of the platform team (a mesh admin deploys and runs every product)."""
ACCESS_TOUR = [
    ("group:analytics", "sales.orders.placed"),
    ("group:north_hub", "sales.orders.placed"),
    ("group:support", "sales.orders.placed"),
    ("group:analytics", "sales.orders.revenue"),
    ("group:finance", "sales.orders.revenue"),
    ("product:analytics.routing_analysis", "fleet.drones.telemetry"),
]
"""The decisions the demo prints (`meshlake access explain PRINCIPAL PORT`)."""
MARKER = ".meshlake-demo"
SOURCE = Path(__file__).parent / "products"
GOVERNANCE = ["governance.yaml", "proposed/campaigns/dataproduct.yaml"]
"""The mesh's governance policy and a proposed product it refuses (copied into the demo folder)."""


@dataclass
class DemoResult:
    """What the demo built, for the summary it prints (and for tests)."""

    directory: Path
    lake: ml.Lake
    days: list[date]
    release_tag: str
    stopped: QualityGateError | None = None
    refused: GovernanceViolationError | None = None
    runs: int = 0
    seconds: float = 0.0
    streaming: StreamDemo | None = None
    served: StreamDemo | None = None
    steps: list[str] = field(default_factory=list)


def prepare(directory: Path) -> None:
    """Create the demo folder, or refresh the demo's own files in it; files anyone else put there are kept.

    Refuses a folder that is not empty and was not made by the demo. The demo's lake (`.meshlake/`) is made
    afresh; the files the demo wrote last time (listed in its marker file) are replaced by fresh copies.
    """
    marker = directory / MARKER
    if directory.exists() and any(directory.iterdir()) and not marker.exists():
        raise FileExistsError(f"{directory} is not empty and was not made by `meshlake demo`; choose another folder")
    for name in _written_before(marker):
        (directory / name).unlink(missing_ok=True)
    shutil.rmtree(directory / ".meshlake", ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "meshlake.yaml").write_text(
        "# The demo's own embedded lake: `meshlake …` in this folder, or ml.connect('<this file>') from anywhere.\n"
        "home: .meshlake\n"
    )
    written = ["meshlake.yaml"]
    for product in PRODUCTS:
        for source in sorted((SOURCE / product).rglob("*")):
            if source.is_file() and "__pycache__" not in source.parts:
                relative = Path("products", product, source.relative_to(SOURCE / product))
                (directory / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, directory / relative)
                written.append(relative.as_posix())
    for name in GOVERNANCE:
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(__file__).parent / name, directory / name)
        written.append(name)
    marker.write_text(
        "# made by `meshlake demo`; safe to delete. Running it again rebuilds .meshlake/ and replaces these files:\n"
        + "".join(f"{name}\n" for name in written)
    )


def _written_before(marker: Path) -> list[str]:
    """The files a previous `meshlake demo` wrote, from its marker (only plain paths inside the folder)."""
    if not marker.is_file():
        return []
    names = [line.strip() for line in marker.read_text(encoding="utf-8", errors="replace").splitlines()]
    return [n for n in names if n and not n.startswith("#") and ".." not in Path(n).parts and not Path(n).is_absolute()]


def demo_lake(directory: Path) -> ml.Lake:
    """The demo folder's own embedded lake as `BUILDER`, whatever the environment's MESHLAKE_* settings say."""
    home = directory / ".meshlake"
    principal, group = BUILDER
    return ml.connect(
        catalog="sql",
        home=str(home),
        catalog_uri=f"sqlite:///{home / 'catalog.db'}",
        warehouse=(home / "warehouse").as_uri(),
        principal=principal,
        groups=[group],
    )


def build(directory: Path, *, days: int = 5, step: Callable[[str], None] = lambda _: None) -> DemoResult:
    """Build the mesh in `directory`: deploy, then run every product for `days` (at least 2) simulated days."""
    if days < 2:
        raise ValueError(f"the demo needs at least 2 simulated days (two releases and a day after one), not {days}")
    started = datetime.now(UTC)
    prepare(directory)
    lake = demo_lake(directory)
    step(f"init --admin {' '.join(ADMINS)}")
    lake.init_access(ADMINS)
    products = directory / "products"
    for name in PRODUCTS:
        step(f"deploy {name}")
        lake.deploy(products / name)
    first = datetime.now(UTC).date() - timedelta(days=days)
    calendar = [first + timedelta(days=i) for i in range(days)]
    # two releases on two different days, whatever `days` is (at least 2)
    releases = {calendar[1 if days > 2 else 0]: "release-1", calendar[min(3, days - 1)]: "release-2"}
    result = DemoResult(directory, lake, calendar, release_tag="release-1")
    for number, day in enumerate(calendar, start=1):
        params = {"day": day.isoformat()}
        for name in ("drones", "orders"):
            if name == "orders" and number == min(4, days):
                step(f"day {number}/{days}: orders (a broken export)")
                try:
                    lake.run(products / name, params={**params, "bad": "true"})
                except QualityGateError as stopped:
                    result.stopped = stopped
                result.runs += 1
            step(f"day {number}/{days}: {name}")
            lake.run(products / name, params=params)
            result.runs += 1
        for name in ("shipping", "routing_analysis", "inventory_planning"):
            step(f"day {number}/{days}: {name}")
            lake.run(products / name, params=params)
            result.runs += 1
        if day in releases:
            step(f"tag {releases[day]}")
            for product in lake.products():
                for port in product.ports:
                    port.tag(releases[day])
    step("streams: drone telemetry through NATS JetStream (when a broker is there)")
    result.streaming = stream_telemetry(lake, calendar[-1])
    step("streams: orders served to NATS JetStream, as the north hub's broker readers may read them")
    result.served = serve_orders(lake)
    step("governance: publish governance.yaml, then deploy a product it refuses")
    lake.publish_governance(directory / "governance.yaml")
    try:
        lake.deploy(directory / "proposed" / "campaigns")
    except GovernanceViolationError as refused:
        result.refused = refused
    lake.close()  # writes the access log: every read of the build, the pipelines' as their products
    result.seconds = (datetime.now(UTC) - started).total_seconds()
    return result


def summary(result: DemoResult) -> list[tuple[str, Any]]:
    """The sections the demo prints: (title, rows or text)."""
    lake = result.lake
    owners = [
        {
            "product": str(p.name),
            "owner": p.owner,
            "principals": ", ".join(str(o) for o in p.descriptor.owners),
            "version": p.version,
            "ports": ", ".join(x.contract.name for x in p.ports),
        }
        for p in lake.products()
    ]
    access = []
    for principal, address in ACCESS_TOUR:
        decision = lake.explain_access(principal, address)
        access.append(
            {
                "principal": principal,
                "port": address,
                "read": "yes" if decision.read else "no",
                "rows": (str(decision.row_filter) if decision.row_filter else "all") if decision.read else "",
                "masks": "; ".join(f"{c}: {m}" for c, m in decision.masks.items()) or ("none" if decision.read else ""),
            }
        )
    cross = (
        lake.sql(
            """
        SELECT r.model, d.hub, count(*) AS deliveries, round(avg(o.weight_kg), 2) AS avg_kg,
               round(avg(d.distance_km), 1) AS avg_km
        FROM logistics.shipping.deliveries AS d
        JOIN fleet.drones.registry AS r USING (drone_id)
        JOIN sales.orders.placed AS o USING (order_id)
        GROUP BY ALL ORDER BY r.model, d.hub
        """
        )
        .to_arrow_table()
        .to_pylist()
    )
    travel = (
        lake.sql(
            f"""
        SELECT now.hub, now.orders AS orders_now, rel.orders AS orders_at_release, now.orders - rel.orders AS added
        FROM (SELECT hub, count(*) AS orders FROM sales.orders.placed GROUP BY hub) AS now
        JOIN (SELECT hub, count(*) AS orders FROM sales.orders.placed AT (VERSION => '{result.release_tag}')
              GROUP BY hub) AS rel USING (hub)
        ORDER BY hub
        """
        )
        .to_arrow_table()
        .to_pylist()
    )
    quarantined = []
    for write in lake.port("sales.orders.placed").quarantine():
        for failed in write.report.failed if write.report else []:
            quarantined.append(
                {
                    "branch": write.branch,
                    "rows": write.rows_added,
                    "expectation": failed.expectation,
                    "column": failed.column,
                    "unexpected": failed.unexpected_count,
                }
            )
    slos = [
        {
            "port": report.address,
            "status": report.status,
            "reasons": "; ".join(f"{c.objective}: {c.reason}" for c in report.checks),
        }
        for product in lake.products()
        for report in (port.slo() for port in product.ports)
    ]
    refused = [
        {"code": f.code, "rule": f.name, "where": f.address + (f".{f.column}" if f.column else ""), "line": f.line}
        for f in (result.refused.findings if result.refused else [])
    ]
    return [
        ("Data products and their owners", owners),
        (f"Who reads what (admins: {', '.join(ADMINS)}; meshlake access explain PRINCIPAL PORT)", access),
        ("Across products: deliveries by drone model and hub", cross),
        (f"Time travel: orders per hub now vs at tag {result.release_tag}", travel),
        ("Stopped by the quality gate (kept in quarantine)", quarantined),
        ("Service-level objectives", slos),
        ("Refused by the governance policy: meshlake deploy proposed/campaigns", refused),
        (
            "Streams: meshlake stream ADDRESS --from SOURCE; meshlake serve ADDRESS --to BROKER",
            [s.row() for s in (result.streaming, result.served) if s is not None],
        ),
    ]


def _activate() -> list[str]:
    """How to put `meshlake` on PATH when it runs from a virtual environment that is not active."""
    if shutil.which("meshlake") or sys.prefix == sys.base_prefix:
        return []
    return [f"source {Path(sys.prefix) / 'bin' / 'activate'}"]


ANALYST = "MESHLAKE_PRINCIPAL=user:ana MESHLAKE_GROUPS=analytics"
NORTH_HUB = "MESHLAKE_PRINCIPAL=user:nils MESHLAKE_GROUPS=north_hub"
STOREFRONT = "MESHLAKE_PRINCIPAL=user:sam MESHLAKE_GROUPS=storefront"
ADMIN = "MESHLAKE_GROUPS=platform"


def next_commands(result: DemoResult) -> str:
    """The tour: each command as you (the OS user: a reader of the mesh) unless it says who it runs as.

    A name given in MESHLAKE_PRINCIPAL / MESHLAKE_GROUPS is a claim (unverified); a real mesh requires
    verified tokens (`require_verified`, see docs/security.md).
    """
    folder = result.directory
    placed = "sales.orders.placed"
    return "\n".join(
        [
            *_activate(),
            f"cd {folder}",
            "meshlake products",
            "meshlake describe sales.orders",
            f"meshlake history {placed}",
            'meshlake sql "SELECT hub, count(*) FROM logistics.shipping.deliveries GROUP BY hub"',
            f"meshlake sql \"SELECT count(*) FROM {placed} AT (VERSION => '{result.release_tag}')\"",
            f"meshlake quarantine {placed}",
            "meshlake check analytics.routing_analysis.hub_daily",
            "meshlake slo",
            f"meshlake access explain group:analytics {placed}",
            f'{ANALYST} meshlake sql "SELECT order_id, customer_email, hub FROM {placed} LIMIT 3"',
            f'{NORTH_HUB} meshlake sql "SELECT hub, count(*) AS orders FROM {placed} GROUP BY hub"',
            "meshlake access explain group:analytics sales.orders.revenue",
            f"{STOREFRONT} meshlake run products/orders --param day={datetime.now(UTC).date().isoformat()}",
            f'{ADMIN} meshlake sql "SELECT principal, address, path, count(*) AS reads '
            'FROM meshlake.system.access_log GROUP BY ALL ORDER BY ALL"',
            "meshlake lint proposed/campaigns",
            "meshlake governance show",
        ]
    )
