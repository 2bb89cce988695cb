"""`meshlake doctor`: drift between the mesh and meshlake's account of it (descriptor, stamps, quality records)."""

from __future__ import annotations

import sys

import click

from meshlake.cli.main import Context, cli, json_option, pass_context


@cli.command()
@click.argument("address", required=False)
@json_option
@pass_context
def doctor(ctx: Context, address: str | None) -> None:
    """Report drift of every port (or of ADDRESS: DOMAIN.PRODUCT or DOMAIN.PRODUCT.PORT), from metadata.

    \b
    descriptor-drift        table schema, partitioning or properties differ from the descriptor
    foreign-snapshot        a snapshot on main meshlake did not write (or whose stamps do not match
                            its files): its rows never passed the gate
    missing-row-totals      a snapshot without total-records (shown from its manifests instead)
    missing-quality-record  a gated snapshot whose verdict is not in the quality history
    unreadable              a product or port that cannot be loaded

    Exits 1 when anything drifted (for CI), 0 when the ports are healthy.
    """
    report = ctx.lake.doctor(address)
    if ctx.out.json_mode:
        ctx.out.emit(report.to_dict())
    else:
        rows = [
            {"port": f.address, "finding": f.code, "snapshot": f.snapshot_id, "what": f.message, "fix": f.fix}
            for f in report.findings
        ]
        if rows:
            ctx.out.table(rows, ["port", "finding", "snapshot", "what", "fix"], title="drift")
        ctx.out.note(f"{len(report.ports)} port(s) looked at, {len(report.findings)} finding(s)")
    if not report.healthy:
        sys.exit(1)
