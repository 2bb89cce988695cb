"""Quality commands: check, slo, quarantine, import-suite."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from meshlake.cli.main import Context, cli, json_option, pass_context
from meshlake.contract.address import Address


@cli.command()
@click.argument("address")
@json_option
@pass_context
def check(ctx: Context, address: str) -> None:
    """Run the expectations of ADDRESS[@REF] (default: the published snapshot) and record the results.

    A check of anything but main's head (an older snapshot, a tag, a quarantine branch) is ad hoc:
    recorded as such, and not counted in the port's quality SLO. Exits non-zero when any expectation
    fails or errors, so it can gate CI.
    """
    parsed = Address.parse(address)
    port = ctx.lake.port(parsed.unpinned)
    if not port.contract.expectations:
        raise click.UsageError(f"{parsed.unpinned} declares no expectations in its dataproduct.yaml")
    report = port.check(str(parsed.ref) if parsed.ref else None)
    if ctx.out.json_mode:
        ctx.out.emit(report.to_dict())
    else:
        rows = [
            {
                "expectation": r.expectation,
                "column": r.column,
                "status": r.status,
                "observed": r.observed_value,
                "unexpected": r.unexpected_count,
                "scope": r.scope,
                "error": r.error,
            }
            for r in report.results
        ]
        title = f"{parsed.unpinned}@{report.snapshot_id}: {'passed' if report.passed else 'FAILED'}"
        if report.ad_hoc:
            title += " (ad-hoc check: not main's head, not counted in the SLO)"
        ctx.out.table(rows, list(rows[0]), title=title)
    if not report.passed:
        sys.exit(1)


@cli.command()
@click.argument("product", required=False)
@json_option
@pass_context
def slo(ctx: Context, product: str | None) -> None:
    """Show freshness, volume and quality SLOs of every port (or of PRODUCT): met, violated or unknown.

    Exits non-zero when any objective is violated (for CI and alerting).
    """
    products = [ctx.lake.product(product)] if product else ctx.lake.products()
    reports = [port.slo() for p in products for port in p.ports]
    if ctx.out.json_mode:
        ctx.out.emit([report.to_dict() for report in reports])
    else:
        rows = [
            {"port": report.address, "objective": c.objective, "status": c.status, "reason": c.reason}
            for report in reports
            for c in report.checks
        ]
        ctx.out.table(rows, ["port", "objective", "status", "reason"], title="service-level objectives")
        violated = sum(1 for r in reports if r.status == "violated")
        ctx.out.note(f"{len(reports)} port(s), {violated} with a violated objective")
    if any(report.status == "violated" for report in reports):
        sys.exit(1)


@cli.command()
@click.argument("address")
@json_option
@pass_context
def quarantine(ctx: Context, address: str) -> None:
    """List the writes to ADDRESS that the quality gate stopped, with their failing expectations."""
    writes = ctx.lake.port(address).quarantine()
    if ctx.out.json_mode:
        ctx.out.emit([w.to_dict() for w in writes])
        return
    rows: list[dict[str, Any]] = []
    for write in writes:
        failed = [r.summary() for r in write.report.failed] if write.report else ["(report not found)"]
        rows.append(
            {
                "branch": write.branch,
                "committed_at": write.committed_at,
                "rows": write.rows_added,
                "run_id": write.run_id,
                "failed": "; ".join(failed),
            }
        )
    ctx.out.table(rows, ["branch", "committed_at", "rows", "run_id", "failed"], title=f"{address}: quarantined writes")


@cli.command("import-suite")
@click.argument("suite", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("descriptor", type=click.Path(exists=True, path_type=Path))
@click.option("--port", "port_name", required=True, help="Output port whose expectations receive the suite.")
@click.option("--write", "write_back", is_flag=True, help="Rewrite DESCRIPTOR (comments are not kept).")
@json_option
@pass_context
def import_suite(ctx: Context, suite: Path, descriptor: Path, port_name: str, write_back: bool) -> None:
    """Import a Great Expectations suite (JSON, GE 0.x or 1.x) into a port of DESCRIPTOR.

    Prints the expectations as YAML to paste under the port's `expectations:`, or with --write adds
    them to the file (after checking the result is a valid descriptor).
    """
    from meshlake.quality.suites import import_into_descriptor

    text, added = import_into_descriptor(suite, descriptor, port_name)
    if write_back:
        target = descriptor / "dataproduct.yaml" if descriptor.is_dir() else descriptor
        target.write_text(text, encoding="utf-8")
        ctx.out.emit({"descriptor": str(target), "added": added}, f"added {added} expectation(s) to {target}")
    else:
        ctx.out.emit({"descriptor": text, "added": added}, text)
