"""Product lifecycle commands: plan (the version a change needs), release, diff, export and import of ODCS/ODPS."""

from __future__ import annotations

import click

from meshlake.cli.main import Context, cli, json_option, pass_context


@cli.command()
@click.argument("path", type=click.Path(exists=True))
@json_option
@pass_context
def plan(ctx: Context, path: str) -> None:
    """Show what deploying PATH would change, each change classified major, minor or patch, before deploying.

    Columns are compared with the deployed tables' columns (each change names its Iceberg field id). Major:
    a column dropped or renamed, a type narrowed or changed, a new required column, the primary key changed,
    a port removed, readers or row filters narrowed, an SLO weakened. Minor: an optional column added, a type
    promoted, a new port, an SLO tightened, partitioning changed. Patch: docs, tags, added expectations. The
    product needs the largest bump among its changes; `meshlake deploy` refuses a declared version that makes
    a smaller one. Exits 1 when the declared version undershoots (the output names the version to declare).
    Writes nothing. The product must be deployed already (a first deploy needs no plan).
    """
    import sys

    result = ctx.lake.plan(path)
    lines = [
        f"{result.product}: deployed {result.deployed_version}, declared {result.declared_version}; "
        f"changes need {result.required or 'no'} bump, the declared version makes {result.declared or 'none'}"
    ]
    for port, changes in result.by_port().items():
        lines.append(f"  {port or '(product)'}:")
        lines += [f"    {change.level:<5}  {change.what}" + _fid(change.field_id) for change in changes]
    if not result.changes:
        lines.append("  nothing changes")
    verdict = "ok" if result.ok else f"refused: declare version {result.suggested_version}"
    lines.append(verdict)
    ctx.out.emit(result.to_dict(), "\n".join(lines))
    if not result.ok:
        sys.exit(1)


def _fid(field_id: int | None) -> str:
    return "" if field_id is None else f"  (field id {field_id})"
