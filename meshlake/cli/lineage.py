"""`meshlake lineage` (upstream, downstream, columns, export) and `meshlake search`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from meshlake.cli.main import Context, cli, json_option, pass_context

if TYPE_CHECKING:
    from datetime import datetime

    from meshlake.lineage.trace import Trace

_DEPTH = click.IntRange(min=1)


@cli.group()
def lineage() -> None:
    """Where a snapshot's data came from, and what was built from it (from `meshlake.inputs` stamps).

    Every snapshot meshlake writes records the exact input snapshots its run read. `upstream` follows
    those stamps back from a port's snapshot; `downstream` finds every later snapshot of every port that
    read it (the impact of a bad batch). A stamp naming a port or snapshot that no longer exists is shown
    as `missing-port` / `missing-snapshot`, a port you may not read as `hidden`. See docs/lineage.md.
    """


def _print_trace(ctx: Context, trace: Trace) -> None:
    arrow = "<-" if trace.direction == "upstream" else "->"
    lines = [f"{trace.address}@{trace.snapshot_id} ({trace.direction})"]
    for step in trace.steps:
        when = step.committed_at.isoformat(timespec="seconds") if step.committed_at else ""
        details = [when, step.verdict or "", "" if step.on_main in (None, True) else "not on main"]
        if step.status != "ok":
            details.append(f"[{step.status}]")
        if step.reason:
            details.append(step.reason)
        text = "  ".join(d for d in details if d)
        lines.append(f"{'  ' * step.depth}{arrow} {step.address}@{step.snapshot_id}  {text}".rstrip())
    if not trace.steps:
        lines.append("  (no stamped inputs)" if trace.direction == "upstream" else "  (no snapshot read it)")
    if trace.hidden_readers:
        lines.append(f"  also declared as readers, which you may not read: {', '.join(trace.hidden_readers)}")
    ctx.out.emit(trace.to_dict(), "\n".join(lines))


@lineage.command()
@click.argument("address")
@click.option("--depth", type=_DEPTH, default=None, help="Follow stamps at most N levels back (default: all).")
@json_option
@pass_context
def upstream(ctx: Context, address: str, depth: int | None) -> None:
    """The exact input snapshots ADDRESS[@REF] was built from, recursively.

    REF is a snapshot id, tag, branch or zoned time; without it, the published snapshot. These are the
    snapshots the run pinned and stamped, not today's.

    \b
      meshlake lineage upstream logistics.shipping.deliveries
      meshlake lineage upstream logistics.shipping.deliveries@release-1 --depth 1 --json
    """
    _print_trace(ctx, ctx.lake.lineage().upstream(address, depth=depth))


@lineage.command()
@click.argument("address")
@click.option("--depth", type=_DEPTH, default=None, help="Follow readers at most N levels on (default: all).")
@json_option
@pass_context
def downstream(ctx: Context, address: str, depth: int | None) -> None:
    """Every kept snapshot of every port built from ADDRESS@REF, and what was built from those.

    REF is required: the snapshot whose impact you want (a snapshot id works even after it expired).

    \b
      meshlake lineage downstream sales.orders.placed@4403116856157639797
    """
    from meshlake.contract.address import Address

    if Address.parse(address).ref is None:
        raise click.BadParameter(
            f"{address}: name the snapshot, e.g. {address}@<snapshot id or tag> (`meshlake history {address}`)",
            param_hint="ADDRESS",
        )
    _print_trace(ctx, ctx.lake.lineage().downstream(address, depth=depth))


@lineage.command()
@json_option
@pass_context
def columns(ctx: Context) -> None:
    """Column lineage of every product: `derived_from:` / `influenced_by:` on columns, and each port's
    `source_sql` read by sqlglot (meshlake[lineage]). DIRECT: values computed from the source column;
    INDIRECT: the source decides which rows or groups exist. Cycles in declared lineage are listed too."""
    found = ctx.lake.lineage()
    result = found.columns()
    cycles = found.cycles()
    lines = [
        f"{e.source_port}.{e.source_column} -> {e.target_port}.{e.target_column}  {e.transformation} ({e.origin})"
        + ("" if e.known else "  [source column not declared by its port]")
        for e in result.edges
    ]
    lines += [f"problem: {p}" for p in result.problems]
    lines += [f"cycle: {' -> '.join(c)}" for c in cycles]
    ctx.out.emit(result.to_dict() | {"cycles": cycles}, "\n".join(lines) or "(no column lineage declared)")


@cli.command()
@click.argument("words", nargs=-1, required=True, metavar="TEXT...")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Results to show.")
@json_option
@pass_context
def search(ctx: Context, words: tuple[str, ...], limit: int) -> None:
    """Find products, ports and columns by name, owner, tag, classification or description.

    Every word must match (a whole word scores more than a prefix); results are ranked exactly
    as `lake.search(TEXT)` and the catalog site's search box rank them.

    \b
      meshlake search orders email
      meshlake search "logistics pii" --json
    """
    text = " ".join(words)
    hits = ctx.lake.search(text, limit=limit)
    ctx.out.table([h.to_dict() for h in hits], ["kind", "address", "score", "summary"], title=f"results for {text!r}")


@lineage.command("export")
@click.option(
    "--to",
    "to",
    required=True,
    metavar="FILE|URL",
    help="A file (JSON lines, replaced whole) or an http(s):// URL to POST each event to.",
)
@click.option(
    "--since",
    metavar="TIME",
    default=None,
    help="Only snapshots committed at or after this zoned ISO-8601 time (e.g. 2026-11-01T00:00:00Z).",
)
@click.option("--timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True, help="Seconds per POST.")
@json_option
@pass_context
def export(ctx: Context, to: str, since: str | None, timeout: float) -> None:
    """Export the mesh's history as OpenLineage run events (needs meshlake[lineage]).

    One run per meshlake run id: START at its first commit, COMPLETE at its last, or FAIL when the quality
    gate stopped one of its writes (with a dataQualityAssertions facet). Inputs and outputs are named by
    storage location, with `symlinks` to the port's address and `version.datasetVersion` = snapshot id.
    Run ids and times come from the stamps, so exporting the same history twice gives byte-identical
    events: back-fills and re-sends are safe.

    \b
      meshlake lineage export --to lineage.jsonl
      meshlake lineage export --since 2026-11-01T00:00:00Z --to http://127.0.0.1:5000/api/v1/lineage
    """
    instant = _instant(since) if since is not None else None
    report = ctx.lake.export_lineage(to, since=instant, timeout=timeout)
    ctx.out.emit(
        report.to_dict(),
        f"{report.events} OpenLineage event(s) of {report.runs} run(s) ({report.failed_runs} failed) to {report.to}",
    )


def _instant(text: str) -> datetime:
    from datetime import datetime

    from meshlake.errors import DiscoveryError

    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise DiscoveryError(
            f"--since {text!r} is not a zoned ISO-8601 time; write e.g. 2026-11-01T00:00:00Z", value=text
        )
    return when
