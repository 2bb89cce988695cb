"""Commands about ports: write, history, tag, rollback."""

from __future__ import annotations

from pathlib import Path

import click

from meshlake.cli.main import Context, cli, json_option, pass_context
from meshlake.write.modes import FILE_FORMATS, MODES, ROW_CHANGE_MODES


@cli.command()
@click.argument("address")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--mode", type=click.Choice(MODES), default="append", show_default=True, help="How the rows land.")
@click.option(
    "--where",
    help="Rows to replace with --mode replace: a SQL condition such as \"day = '2026-11-01'\" (grammar below).",
)
@click.option("--format", "fmt", type=click.Choice(FILE_FORMATS), help="File format (default: from the file suffix).")
@click.option(
    "--write-mode",
    type=click.Choice(ROW_CHANGE_MODES),
    help="How upsert and replace remove old rows (default: the port's write_mode; see docs/write-modes.md).",
)
@click.option("--run-id", help="Run id to stamp on the snapshot (default: a new one).")
@json_option
@pass_context
def write(
    ctx: Context,
    address: str,
    files: tuple[Path, ...],
    mode: str,
    where: str | None,
    fmt: str | None,
    write_mode: str | None,
    run_id: str | None,
) -> None:
    """Write Parquet, CSV or JSON-lines FILES to the port ADDRESS as one checked snapshot.

    CSV and JSON columns are parsed with the port's contract types; JSON-lines may hold lists,
    structs and maps. In CSV an empty unquoted field is NULL (so a required column refuses it), a
    quoted "" is an empty string, and no other text (NULL, NA) means NULL. A value is never
    rounded or dropped: 1.234 for a decimal(10,2) column, a float too precise for a float column
    or an unknown struct field is refused. A time without a zone is refused for a timestamptz
    column. Errors name the file, line, column and value. Exits non-zero, publishing nothing, when
    the data breaks the contract or the quality gate fails.

    \b
    --where is a SQL condition on the port's columns (meshlake's own grammar):
      col = 'eu'   col != 5   col <> 5   <   <=   >   >=     (or a literal first: 5 < col)
      col [NOT] IN ('eu', 'us')        col [NOT] BETWEEN 1 AND 9
      col [NOT] LIKE 'e_%' [ESCAPE '!']   % any run, _ one character, case-sensitive
      col IS [NOT] NULL                AND   OR   NOT   ( )
    Literals: 'text' ('' for a quote), 12, -2.5, 1e3, TRUE, FALSE, DATE '2026-11-01',
    TIMESTAMP '2026-11-01 08:00:00', TIMESTAMPTZ '2026-11-01T08:00:00+00:00' (or a quoted
    string for a date/time column; a timestamptz needs a zone). Literals must fit the column's
    type. A comparison with NULL selects nothing, as in SQL. Functions, column-to-column
    comparisons and nested fields are refused with the part that could not be read.
    """
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    from meshlake.write.files import count_rows, open_files

    if mode == "replace" and not where:
        raise click.UsageError("--mode replace needs --where (the rows to replace); --mode overwrite replaces all")
    if where and mode != "replace":
        raise click.UsageError(f"--where only applies to --mode replace, not --mode {mode}")
    port = ctx.port(address)
    contract = schema_to_pyarrow(port.table().schema())
    total = count_rows(list(files), fmt)
    with ctx.out.progress(f"writing {address}", total=total) as progress:
        reader = open_files(list(files), contract, fmt, on_batch=progress.advance)
        result = port.write(reader, mode=mode, where=where, run_id=run_id, write_mode=write_mode)  # type: ignore[arg-type]
    if not result.changed:
        ctx.out.emit(result, f"{address}: nothing to write (no rows); published snapshot unchanged")
        return
    detail = f"{result.rows:,} rows"
    if mode == "upsert":
        detail += f" ({result.rows_updated:,} updated, {result.rows_inserted:,} inserted)"
    if result.rows_deleted:
        detail += f", {result.rows_deleted:,} removed"
    if result.write_mode == "merge-on-read":
        detail += f" (merge-on-read: {result.delete_files_added} delete file(s))"
    checks = f"; quality: {len(result.quality.results)} expectations passed" if result.quality else ""
    ctx.out.emit(
        result,
        f"{address}: {mode} {detail} → snapshot {result.snapshot_id} in {result.seconds:.2f} s{checks}",
    )


@cli.command()
@click.argument("address")
@click.option("--limit", type=int, default=50, show_default=True, help="Show the newest N snapshots.")
@click.option("--moves", is_flag=True, help="Show only the moves of main (rollbacks back or forward).")
@json_option
@pass_context
def history(ctx: Context, address: str, limit: int, moves: bool) -> None:
    """Show the published snapshots of ADDRESS, oldest first, with meshlake's stamps.

    Rollbacks (moves of main back, or forward again) follow as a second table; --moves shows only them.
    A snapshot meshlake did not write (or whose stamps do not match its files) is marked FOREIGN.
    """
    entries = ctx.port(address).history()
    moved = [
        {
            "moved_at": m.moved_at,
            "direction": m.direction,
            "from_snapshot_id": m.from_snapshot_id,
            "to_snapshot_id": m.to_snapshot_id,
        }
        for m in entries.moves
    ]
    if moves:
        ctx.out.table(
            moved, ["moved_at", "direction", "from_snapshot_id", "to_snapshot_id"], title=f"{address}: moves of main"
        )
        return
    shown = list(entries)[-limit:] if limit > 0 else list(entries)
    rows = [
        {
            "snapshot_id": e.snapshot_id,
            "committed_at": e.committed_at,
            "operation": e.operation,
            "mode": e.mode,
            "added": e.rows_added,
            "removed": e.rows_removed,
            "total": e.rows_total,
            "version": e.product_version,
            "quality": e.quality,
            "tags": e.tags,
            "foreign": "FOREIGN" if e.foreign else "",
        }
        for e in shown
    ]
    if ctx.out.json_mode:
        ctx.out.emit([e.to_dict() for e in shown])
        return
    ctx.out.table(rows, list(rows[0]) if rows else [], title=f"{address}: {len(entries)} snapshot(s)")
    if moved:
        ctx.out.table(
            moved, ["moved_at", "direction", "from_snapshot_id", "to_snapshot_id"], title="moves of main (rollbacks)"
        )


@cli.command()
@click.argument("address")
@click.argument("name")
@click.option("--snapshot", help="Snapshot id, tag or zoned time to tag (default: the published one).")
@json_option
@pass_context
def tag(ctx: Context, address: str, name: str, snapshot: str | None) -> None:
    """Tag a snapshot of ADDRESS as NAME (e.g. v1.2.0); tags never move and survive maintenance."""
    target = ctx.port(address).tag(name, snapshot=snapshot)
    ctx.out.emit(
        {"address": address, "tag": name, "snapshot_id": target.snapshot_id},
        f"{address}@{name} → snapshot {target.snapshot_id}",
    )


@cli.command()
@click.argument("address")
@click.option("--to", "to", required=True, help="Snapshot id, tag or zoned time to move main to.")
@click.option("--yes", "-y", "yes", is_flag=True, help="Do not ask before moving main off its own history.")
@json_option
@pass_context
def rollback(ctx: Context, address: str, to: str, yes: bool) -> None:
    """Point ADDRESS's published snapshot (main) at another one it was on (by id, tag or time).

    Goes back along main's history, or forward again to a snapshot main left by an earlier rollback
    (asks first, unless --yes, since that snapshot is not in main's current history). Only snapshots
    that were published and are still kept qualify; `meshlake history` lists the moves.
    """
    port = ctx.lake.port(address)
    if not port.is_on_main(to) and not yes:
        click.confirm(
            f"{to} is not in the current history of {address}'s main; move main to it?",
            abort=True,
            err=True,
        )
    target = port.rollback(to=to)
    ctx.out.emit(
        {"address": address, "snapshot_id": target.snapshot_id},
        f"{address}: main now at snapshot {target.snapshot_id} ({to})",
    )
