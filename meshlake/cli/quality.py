"""Quality commands: check, slo, quarantine (list, show, release, drop), import-suite."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from meshlake.cli.main import CommandGroup, Context, cli, json_option, pass_context
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
                "status": r.status if r.success or r.blocking else f"{r.status} (warn)",
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


class _QuarantineGroup(CommandGroup):
    """`meshlake quarantine ADDRESS` still lists: an address is not a subcommand name."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["list", *args]
        return super().parse_args(ctx, args)


@cli.group(cls=_QuarantineGroup)
def quarantine() -> None:
    """Review the writes the quality gate stopped: list, show, release (publish) or drop them.

    \b
    A quarantined write is named by its branch (meshlake-quarantine-RUN_ID), its run id or its
    snapshot id. `meshlake quarantine ADDRESS` is short for `meshlake quarantine list ADDRESS`.
    """


@quarantine.command("list")
@click.argument("address")
@json_option
@pass_context
def quarantine_list(ctx: Context, address: str) -> None:
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


@quarantine.command("show")
@click.argument("address")
@click.argument("write_id", metavar="ID")
@click.option("--rows", type=click.IntRange(0, 1000), help="Sample failing rows per expectation (default: the port's).")
@json_option
@pass_context
def quarantine_show(ctx: Context, address: str, write_id: str, rows: int | None) -> None:
    """Show why a quarantined write of ADDRESS was stopped, and its failing rows as the port's checks see them now.

    Runs the port's expectations on the quarantined snapshot (written rows for row checks, the whole
    snapshot for table checks) without recording anything.
    """
    review = ctx.lake.port(address).quarantine().show(write_id, rows=rows)
    if ctx.out.json_mode:
        ctx.out.emit(review.to_dict())
        return
    write = review.write
    ctx.out.emit(
        {},
        f"{address}: {write.branch} (snapshot {write.snapshot_id}, run {write.run_id}, {write.mode}, "
        f"{write.rows_added:,} rows, {write.committed_at:%Y-%m-%d %H:%M:%S%z})",
    )
    stopped = [r.summary() for r in write.report.failed] if write.report else ["(the gate's report was not found)"]
    ctx.out.emit({}, "stopped by:\n" + "\n".join(f"  - {line}" for line in stopped))
    if review.passes_now:
        ctx.out.emit({}, f"it passes the port's expectations now: `meshlake quarantine release {address} {write_id}`")
        return
    ctx.out.emit({}, "failing now:")
    for result in review.failed:
        ctx.out.emit({}, f"  - {result.summary()}")
        if result.sample:
            ctx.out.table(
                result.sample, list(result.sample[0]), title=f"    sample failing rows ({len(result.sample)})"
            )


@quarantine.command("release")
@click.argument("address")
@click.argument("write_id", metavar="ID")
@click.option("--force", is_flag=True, help="Publish without running the gate again (needs --reason).")
@click.option("--reason", help="Why it is published anyway; stamped on the snapshot as meshlake.release-reason.")
@json_option
@pass_context
def quarantine_release(ctx: Context, address: str, write_id: str, force: bool, reason: str | None) -> None:
    """Publish a quarantined write of ADDRESS onto the current main, through the quality gate again.

    Exits non-zero, publishing nothing, while it still fails the gate, or when main has since changed
    data the write replaces. --force --reason TEXT publishes it without the gate and stamps the reason.
    The quarantine branch is dropped once the write is published.
    """
    if force and not (reason and reason.strip()):
        raise click.UsageError("--force needs --reason TEXT (it is stamped on the published snapshot)")
    if reason and not force:
        raise click.UsageError("--reason goes with --force (a release through the gate needs no reason)")
    result = ctx.lake.port(address).quarantine().release(write_id, force=force, reason=reason)
    how = f"forced ({reason})" if force else "passed the gate"
    ctx.out.emit(result, f"{address}: released {write_id} → snapshot {result.snapshot_id}, {result.rows:,} rows; {how}")


@quarantine.command("drop")
@click.argument("address")
@click.argument("write_id", metavar="ID")
@json_option
@pass_context
def quarantine_drop(ctx: Context, address: str, write_id: str) -> None:
    """Drop a quarantined write of ADDRESS (its branch; files go with the next `meshlake maintain --apply`)."""
    dropped = ctx.lake.port(address).quarantine().drop(write_id)
    ctx.out.emit(
        {"address": address, "dropped": dropped.branch, "snapshot_id": dropped.snapshot_id},
        f"{address}: dropped {dropped.branch} (snapshot {dropped.snapshot_id})",
    )


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
    them to the file (after checking the result is a valid descriptor). Entries meshlake cannot check on
    the port (an unknown argument, a column it lacks, a suite parameter …) are skipped and listed with the
    reason; the rest is imported.
    """
    from meshlake.quality.suites import import_into_descriptor

    text, added, skipped = import_into_descriptor(suite, descriptor, port_name)
    listed = [{"index": s.index, "expectation": s.expectation, "reason": s.reason} for s in skipped]
    notes = "".join(f"\nskipped entry {s.index} ({s.expectation or 'no type'}): {s.reason}" for s in skipped)
    if write_back:
        target = descriptor / "dataproduct.yaml" if descriptor.is_dir() else descriptor
        target.write_text(text, encoding="utf-8")
        ctx.out.emit(
            {"descriptor": str(target), "added": added, "skipped": listed},
            f"added {added} expectation(s) to {target}{notes}",
        )
    else:
        ctx.out.emit(
            {"descriptor": text, "added": added, "skipped": listed},
            text + ("#" + notes.replace("\n", "\n# ") if notes else ""),
        )
