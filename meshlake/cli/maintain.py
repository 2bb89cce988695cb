"""`meshlake maintain`: expire snapshots, remove orphan files, compact small files (a dry run by default)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from meshlake.cli.main import Context, cli, json_option, pass_context

if TYPE_CHECKING:
    from meshlake.maintenance.maintain import PortMaintenance


@cli.command()
@click.argument("product", required=False)
@click.option("--apply", is_flag=True, help="Do it. Without --apply nothing changes: the report says what would.")
@click.option("--no-expire", "no_expire", is_flag=True, help="Skip expiring snapshots and stale branches.")
@click.option("--no-orphans", "no_orphans", is_flag=True, help="Skip finding (and removing) orphan files.")
@click.option("--no-compact", "no_compact", is_flag=True, help="Skip compacting small data files.")
@click.option(
    "--orphan-age",
    default="1h",
    show_default=True,
    help="Only files older than this can be orphans (a writer may not have committed younger ones).",
)
@json_option
@pass_context
def maintain(
    ctx: Context, product: str | None, apply: bool, no_expire: bool, no_orphans: bool, no_compact: bool, orphan_age: str
) -> None:
    """Keep every port (or PRODUCT's, or one port's) history within its retention and its files tidy.

    \b
    1. expire: quarantine branches older than the lake's quarantine_retention, other meshlake-*
       branches older than a day, then snapshots older than the port's retention.time_travel,
       always keeping tagged and branch snapshots and the newest retention.min_snapshots;
    2. orphans: data, delete, manifest and metadata files under the table's data/ and metadata/
       that no live snapshot or metadata file refers to, older than --orphan-age (symbolic links
       are never followed nor removed, other kinds of files are left alone);
    3. compact: partitions with many small data files rewritten into few (one `compact` snapshot).

    A dry run unless --apply. meshlake.system.quality_results is maintained too (a day of snapshots,
    at least the newest 100) when no PRODUCT is given. A port or product that cannot be loaded is
    reported and the others are maintained. In a lake with a mesh policy, --apply is for owners and
    admins: other products are skipped (named ones refused). Exits non-zero on any error.
    """
    from meshlake.contract.durations import parse_duration
    from meshlake.maintenance.maintain import check_owned, run, targets

    try:
        age = parse_duration(orphan_age)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--orphan-age") from exc
    tables = targets(ctx.lake, product)
    if apply and product is not None:
        check_owned(ctx.lake, tables)
    steps = {"expire": not no_expire, "orphans": not no_orphans, "compact": not no_compact}
    with ctx.out.progress("maintaining", total=len(tables)) as bar:

        def progress(address: str, step: str) -> None:
            if step == "done":
                bar.advance()
            else:
                bar.describe(f"{address}: {step}")

        report = run(ctx.lake, tables, apply=apply, steps=steps, orphan_age=age, progress=progress)
    if ctx.out.json_mode:
        ctx.out.emit(report.to_dict())
    else:
        rows = [_row(port) for port in report.ports]
        verb = "maintained" if apply else "dry run"
        ctx.out.table(rows, list(rows[0]) if rows else [], title=f"{verb}: {len(rows)} table(s)")
        ctx.out.emit(
            {},
            "applied." if apply else "dry run: nothing was changed; run again with --apply to do the above.",
        )
    for address, reason in report.skipped.items():
        ctx.out.note(f"skipped {address}: {reason}")
    for error in report.errors:
        ctx.out.note(f"error: {error}")
    if report.errors:
        sys.exit(1)


def _row(port: PortMaintenance) -> dict[str, Any]:
    branches = [*port.quarantine_removed, *port.stale_branches_removed]
    compacted = f"{port.files_compacted.before} → {port.files_compacted.after}" if port.files_compacted else ""
    planning = ""
    if port.planning_ms_before is not None:
        after = f"{port.planning_ms_after:.1f}" if port.planning_ms_after is not None else "?"
        planning = f"{port.planning_ms_before:.1f} → {after}"
    orphans = f"{len(port.orphan_files)} ({_size(port.orphan_bytes)})" if port.orphan_files else "0"
    if port.orphan_files_removed:
        orphans += f", {len(port.orphan_files_removed)} removed"
    return {
        "table": port.address,
        "expired": len(port.snapshots_expired),
        "kept": port.snapshots_kept,
        "branches": len(branches),
        "orphans": orphans,
        "compacted": compacted,
        "plan ms": planning,
        "errors": len(port.errors),
    }


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"
