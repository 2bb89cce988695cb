"""Commands about products: init, deploy, products, describe."""

from __future__ import annotations

from typing import Any

import click

from meshlake.cli.main import Context, cli, json_option, pass_context


@cli.command()
@click.option(
    "--admin",
    "admins",
    multiple=True,
    metavar="PRINCIPAL",
    help="Give the lake a mesh policy with this admin (e.g. group:platform; repeatable), so access is enforced.",
)
@json_option
@pass_context
def init(ctx: Context, admins: tuple[str, ...]) -> None:
    """Create the lake if needed (the embedded default lives in ./.meshlake/) and check it opens.

    Safe to run again: an existing lake is left as it is. Like `git init`, it makes the working
    folder's own lake even inside the folder of another one (unless --config or MESHLAKE_* say
    otherwise). Without --admin (and until a mesh policy is published) the lake enforces no access
    rules: they are metadata only (level `declared`).
    """
    lake = ctx.lake_or_new(here=True)
    policy = lake.init_access(admins) if admins else lake.mesh_policy
    products = lake.products()
    settings = lake.settings
    data = {
        "catalog": settings.catalog,
        "catalog_uri": _hide_password(settings.resolved_catalog_uri),
        "warehouse": lake.warehouse,
        "settings_from": settings.source,
        "products": len(products),
        "access_level": lake.access_level,
        "admins": [str(a) for a in policy.admins] if policy else [],
    }
    admin_names = ", ".join(str(a) for a in policy.admins) if policy else ""
    access = (
        f"access enforced by meshlake (mesh policy version {policy.version}, admins {admin_names})"
        if policy
        else "access not enforced (no mesh policy: run meshlake init --admin PRINCIPAL)"
    )
    ctx.out.emit(
        data,
        f"lake ready: {data['catalog']} catalog {data['catalog_uri']}, warehouse {data['warehouse']} "
        f"({len(products)} product(s); settings from {settings.source}); {access}\n"
        "next: meshlake new DOMAIN.PRODUCT --template source-aligned, or meshlake deploy PATH",
    )


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@json_option
@pass_context
def deploy(ctx: Context, paths: tuple[str, ...]) -> None:
    """Create or evolve the products that PATHS (dataproduct.yaml files or their folders) declare.

    Idempotent: an unchanged descriptor writes nothing. Compatible changes apply; breaking ones
    (dropped or retyped column, new required column) need a higher major version, and every change needs
    the version bump `meshlake plan PATH` classifies it as (minor for a new optional column, patch for a
    description): a smaller one is refused, naming the version to declare. A deploy that fails
    leaves the catalog as it was. An input whose product is not deployed yet is a warning (on stderr).
    Creates the lake in the working folder when none is found.
    """
    reports = []
    lake = ctx.lake_or_new()
    for path in paths:
        product = lake.deploy(path)
        report = lake.last_deploy
        assert report is not None
        reports.append(report)
        if not ctx.out.json_mode:
            ctx.out.emit(None, _deploy_text(str(product.name), report))
            for warning in report.warnings:
                ctx.out.note(f"warning: {product.name}: {warning}")
    if ctx.out.json_mode:
        ctx.out.emit([r.__dict__ | {"changed": r.changed} for r in reports])


def _deploy_text(name: str, report: Any) -> str:
    if not report.changed:
        return f"{name} {report.version}: up to date (nothing written)"
    parts = []
    if report.created:
        parts.append("created " + ", ".join(report.created))
    for port, notes in report.evolved.items():
        parts.append(f"evolved {port} ({'; '.join(notes)})")
    if report.dropped:
        parts.append("dropped " + ", ".join(report.dropped))
    if not parts:
        parts.append("descriptor updated")
    return f"{name} {report.version}: " + "; ".join(parts)


@cli.command()
@json_option
@pass_context
def products(ctx: Context) -> None:
    """List the deployed data products with their owners and ports."""
    rows = [
        {
            "product": str(p.name),
            "version": p.version,
            "owner": p.owner,
            "ports": [port.name for port in p.descriptor.outputs],
            "description": p.descriptor.description,
        }
        for p in ctx.lake.products()
    ]
    ctx.out.table(rows, ["product", "version", "owner", "ports", "description"], title="data products")


@cli.command()
@click.argument("name")
@json_option
@pass_context
def describe(ctx: Context, name: str) -> None:
    """Describe a product (DOMAIN.PRODUCT) or one port (DOMAIN.PRODUCT.PORT) from metadata only."""
    parts = name.split(".")
    product = ctx.lake.product(".".join(parts[:2]))
    description = product.describe()
    ports = description.ports
    if len(parts) == 3:
        ports = [p for p in ports if p.address == name]
        if not ports:
            product.port(parts[2])  # raises PortNotFoundError with the known ports
    if ctx.out.json_mode:
        data = description.to_dict()
        data["ports"] = [p for p in data["ports"] if p["address"] in {x.address for x in ports}]
        ctx.out.emit(data)
        return
    lines = [
        f"{description.name} {description.version} — owner {description.owner}"
        + (f" <{description.owner_email}>" if description.owner_email else ""),
    ]
    if description.description:
        lines.append(description.description)
    if description.inputs:
        lines.append("inputs: " + ", ".join(f"{k} ← {v}" for k, v in description.inputs.items()))
    ctx.out.text("\n".join(lines))
    for port in ports:
        when = port.latest_committed_at.isoformat(timespec="seconds") if port.latest_committed_at else "never written"
        ctx.out.text(
            f"\n{port.address}: {port.rows:,} rows, {port.snapshots} snapshot(s), latest {port.latest_snapshot_id} "
            f"({when})"
            + (f", tags {', '.join(port.tags)}" if port.tags else "")
            + (f", {port.foreign_snapshots} FOREIGN snapshot(s)" if port.foreign_snapshots else "")
        )
        if port.description:
            ctx.out.text(f"  {port.description}")
        extras = []
        if port.primary_key:
            extras.append("primary key " + ", ".join(port.primary_key))
        if port.partition_by:
            extras.append("partitioned by " + ", ".join(port.partition_by))
        extras.append(f"{port.expectations} expectation(s)")
        ctx.out.text("  " + "; ".join(extras))
        rows = [c.__dict__ for c in port.columns]
        ctx.out.table(rows, ["name", "type", "required", "classification", "description"])


def _hide_password(uri: str) -> str:
    from meshlake.catalog.settings import redact_uri

    return redact_uri(uri)
