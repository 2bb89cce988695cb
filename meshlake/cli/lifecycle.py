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


@cli.group()
def release() -> None:
    """Releases of a whole product: one snapshot of every output port, cut together.

    `release cut` tags every port `release-<version>` at its published snapshot and records the release
    manifest in the system namespace; readers ask for `ADDRESS@release:1.4.0`, `AT (VERSION => 'release:1.4.0')`
    in SQL, or `port.at(release="1.4.0")`, and input ports may pin `release: "^1.4"` (the newest match).
    """


@release.command("cut")
@click.argument("product")
@click.option("--version", "version", metavar="X.Y.Z", help="The release's version (default: the descriptor's).")
@json_option
@pass_context
def release_cut(ctx: Context, product: str, version: str | None) -> None:
    """Release PRODUCT (domain.product): every output port at its published snapshot, atomically for readers.

    Refused (nothing changed) for a version that is not semver or exists already, or a port never written.
    A cut that dies midway leaves readers on the previous release; `meshlake release verify PRODUCT --repair`
    cleans up after it. Owners only.
    """
    made = ctx.lake.product(product).cut_release(version)
    ports = ", ".join(f"{port}@{snapshot}" for port, snapshot in sorted(made.ports.items()))
    ctx.out.emit(made.to_dict(), f"{made.product} release {made.version}: {ports} (tag {made.tag})")


@release.command("list")
@click.argument("product")
@json_option
@pass_context
def release_list(ctx: Context, product: str) -> None:
    """List the releases of PRODUCT, oldest version first."""
    rows = [
        {"version": r.version, "cut_at": r.cut_at, "cut_by": r.cut_by, "ports": len(r.ports)}
        for r in ctx.lake.product(product).releases()
    ]
    ctx.out.table(rows, ["version", "cut_at", "cut_by", "ports"], title=f"releases of {product}")


@release.command("show")
@click.argument("product")
@click.argument("version")
@json_option
@pass_context
def release_show(ctx: Context, product: str, version: str) -> None:
    """Show the manifest of release VERSION of PRODUCT (a range such as ^1.4 shows the newest match)."""
    found = ctx.lake.product(product).release(version)
    lines = [f"{found.product} release {found.version}, cut {found.cut_at} by {found.cut_by} (tag {found.tag})"]
    lines += [f"  {port}: snapshot {snapshot}" for port, snapshot in sorted(found.ports.items())]
    ctx.out.emit(found.to_dict(), "\n".join(lines))


@release.command("verify")
@click.argument("product")
@click.option("--repair", is_flag=True, help="Remove tags an interrupted cut left and re-create missing tags.")
@json_option
@pass_context
def release_verify(ctx: Context, product: str, repair: bool) -> None:
    """Check every release of PRODUCT against its ports' tags and snapshots; exit 1 when a problem is left.

    Finds tags of an interrupted cut (no manifest names them), missing or moved release tags, and snapshots a
    release needs that are gone. With --repair (owners only) the tags are fixed; a snapshot that is gone cannot be.
    """
    import sys

    report = ctx.lake.product(product).verify_releases(repair=repair)
    lines = [
        f"{report.product}: {report.releases} release(s); "
        + ("ok" if report.ok else f"{len(report.problems)} problem(s)")
    ]
    lines += [f"  repaired {item['port']}: {item['problem']} ({item['action']})" for item in report.repaired]
    lines += [f"  {item['port']}: {item['problem']}" for item in report.problems]
    ctx.out.emit(report.to_dict(), "\n".join(lines))
    if not report.ok:
        sys.exit(1)


@cli.command()
@click.argument("a", metavar="ADDRESS@A")
@click.argument("b", metavar="ADDRESS@B")
@click.option("--key", help="Key columns, comma-separated (default: the port's primary key).")
@click.option("--samples", default=5, show_default=True, help="Sample rows shown of each kind of change.")
@click.option("--check-keys", is_flag=True, help="Also check the key against the files both snapshots share.")
@json_option
@pass_context
def diff(ctx: Context, a: str, b: str, key: str | None, samples: int, check_keys: bool) -> None:
    """Diff two snapshots of a port: schema changes, then rows added, removed and changed by key; exit 1 if they differ.

    A and B are addresses with a ref: a snapshot id, tag, branch, time or release
    (`sales.orders.placed@release:1.4.0 sales.orders.placed@v2`); without a ref, the published snapshot. Rows
    are compared by the port's primary key (or --key), column by column (NULLs compare equal); changes per
    column and sample rows are shown as you may see them (masks and row filters apply). Only the data files
    the two snapshots do not share are read. A key that is not unique is refused with examples. Exit codes:
    0 the same, 1 different (for CI), 2 usage errors.
    """
    import sys

    columns = [c.strip() for c in key.split(",") if c.strip()] if key else None
    found = ctx.lake.diff(a, b, key=columns, samples=samples, check_keys=check_keys)
    lines = [f"{found.address}: {found.a} → {found.b} (key {', '.join(found.key)})"]
    for item in found.schema:
        extra = f" ({item['before']} → {item.get('after', item['column'])})" if "before" in item else ""
        lines.append(f"  schema: {item['change']} {item['column']}{extra} [field id {item['field_id']}]")
    lines.append(f"  rows: {found.added:,} added, {found.removed:,} removed, {found.changed:,} changed")
    for column, count in found.column_changes.items():
        lines.append(f"    {column}: {count:,} changed")
    for kind, rows in found.samples.items():
        for row in rows:
            lines.append(f"  {kind}: {row}")
    shared = found.files_total - found.files_read
    lines.append(f"  read {found.files_read} of {found.files_total} files ({shared} shared by both: not read)")
    ctx.out.emit(found.to_dict(), "\n".join(lines))
    if found.different:
        sys.exit(1)


@cli.group("export")
def export() -> None:
    """Export a product's contract in the open standards: ODCS (data contract) and ODPS (data product)."""


def _write_document(ctx: Context, document: dict[str, object], out: str | None) -> None:
    import yaml

    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    if out is None:
        if ctx.out.json_mode:
            ctx.out.emit(document)
        else:
            ctx.out.text(text.rstrip("\n"))
        return
    from pathlib import Path

    Path(out).write_text(text, encoding="utf-8")
    ctx.out.emit({"written": out}, f"wrote {out}")


@export.command("odcs")
@click.argument("target", metavar="PRODUCT|PORT")
@click.option("-o", "--out", type=click.Path(dir_okay=False), help="Write the YAML here (default: stdout).")
@json_option
@pass_context
def export_odcs(ctx: Context, target: str, out: str | None) -> None:
    """Write the Open Data Contract Standard 3.2 YAML of a product (domain.product) or one port (domain.product.port).

    The server is `type: iceberg`; each port is a schema object with its columns (logical and physical types,
    required, primary key and partition positions, classification), quality rules (ODCS library metrics where an
    expectation is one, `custom` otherwise), SLOs as slaProperties, the owner team and reader roles. What ODCS cannot
    hold is kept in customProperties (vendor meshlake), so `meshlake import odcs` gives the descriptor back.
    """
    _write_document(ctx, ctx.lake.export_odcs(target), out)


@export.command("odps")
@click.argument("product")
@click.option("-o", "--out", type=click.Path(dir_okay=False), help="Write the YAML here (default: stdout).")
@json_option
@pass_context
def export_odps(ctx: Context, product: str, out: str | None) -> None:
    """Write the Open Data Product Standard 1.1 YAML of PRODUCT: input, output and management ports."""
    _write_document(ctx, ctx.lake.export_odps(product), out)


@cli.group("import")
def import_() -> None:
    """Import a contract written in an open standard as a meshlake descriptor."""


@import_.command("odcs")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--out", type=click.Path(dir_okay=False), help="Write the dataproduct.yaml here (default: stdout).")
@json_option
@pass_context
def import_odcs(ctx: Context, file: str, out: str | None) -> None:
    """Turn an ODCS 3.x YAML FILE into a meshlake descriptor (dataproduct.yaml); deploy it with `meshlake deploy`.

    The file is validated against the official ODCS JSON Schema first: every error is listed with its path
    (exit 1). meshlake's own customProperties (from `meshlake export odcs`) restore what ODCS cannot hold.
    Needs the `standards` extra (pip install 'meshlake[standards]').
    """
    from pathlib import Path

    import yaml

    from meshlake.contract.descriptor import parse_descriptor
    from meshlake.errors import StandardDocumentError
    from meshlake.standards.odcs import import_odcs as to_descriptor

    try:
        document = yaml.safe_load(Path(file).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise StandardDocumentError(file, [("", f"not YAML: {exc}")], standard="ODCS") from None
    data = to_descriptor(document, file=file)
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    parse_descriptor(text, file=out or file)  # a descriptor meshlake accepts, or a DescriptorError naming the field
    if out is None:
        ctx.out.emit(data, text.rstrip("\n"))
        return
    Path(out).write_text(text, encoding="utf-8")
    ctx.out.emit({"written": out}, f"wrote {out}; deploy it with: meshlake deploy {out}")
