"""`meshlake site build` and `meshlake site serve`: the static catalog site."""

from __future__ import annotations

from pathlib import Path

import click

from meshlake.cli.main import Context, cli, json_option, pass_context


@cli.group()
def site() -> None:
    """A static catalog site of the mesh: products, ports, lineage and search, browsable from file://.

    See docs/site.md.
    """


@site.command()
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--as",
    "audience",
    metavar="PRINCIPAL",
    default=None,
    help="Build the site for this audience: a user, service or product (user:ana), or group:NAME for any member "
    "of the group with no grant of its own. Sample rows are masked and filtered as it may read them; ports it "
    "may not read show no rows. Default: the caller.",
)
@click.option(
    "--group",
    "groups",
    multiple=True,
    metavar="GROUP",
    help="A group the audience is a member of (repeatable), like MESHLAKE_GROUPS.",
)
@click.option(
    "--sample-rows", type=click.IntRange(0, 1000), default=10, show_default=True, help="Rows per port (0: none)."
)
@json_option
@pass_context
def build(ctx: Context, out: Path, audience: str | None, groups: tuple[str, ...], sample_rows: int) -> None:
    """Write the catalog site into OUT (a new or empty folder, or a site built before, replaced whole).

    Pages: a home with search across products, ports, columns, owners, tags and descriptions; one page per
    product (owner, version, ports, SLOs, compliance findings) and per port (schema with classification and
    mask badges, quality history, freshness, snapshot timeline, sample rows, DuckDB and Polars snippets,
    lineage); a lineage picture of the mesh. No page loads anything from the network, and the same mesh
    gives the same files.

    \b
      meshlake site build site/ --as user:ana --group analytics
      meshlake site serve site/
    """
    from meshlake.site.build import build_site

    lake = ctx.lake
    if audience is not None or groups:
        from meshlake.access.identity import group_member, resolve_identity
        from meshlake.contract.principals import Principal
        from meshlake.lake import Lake

        who = audience or str(lake.identity.principal)
        if who.startswith("group:"):  # any member of the group, with no grant of its own
            identity = group_member(Principal.parse(who), groups)
        else:
            identity = resolve_identity(lake.settings, principal=who, groups=groups)
        lake = Lake(lake.settings, identity=identity)
    report = build_site(lake, out, sample_rows=sample_rows)
    ctx.out.emit(
        report.to_dict(),
        f"site of {report.products} product(s), {report.ports} port(s) for {report.audience}: "
        f"{report.pages} page(s) in {report.out}\nopen {out / 'index.html'} or run: meshlake site serve {out}",
    )


@site.command()
@click.argument("folder", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port on 127.0.0.1 (0: any free)."
)
@json_option
@pass_context
def serve(ctx: Context, folder: Path, port: int) -> None:
    """Serve a built site on http://127.0.0.1:PORT until interrupted (Ctrl-C). Only this machine can reach it.

    Prints the URL first (with --json: one line, {"url": …, "folder": …}).
    """
    from meshlake.site.serve import site_server

    server = site_server(folder, port=port)
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    if ctx.out.json_mode:
        ctx.out.json_line({"url": url, "folder": str(folder)})
    else:
        ctx.out.text(f"serving {folder} on {url} (Ctrl-C stops)")
    ctx.out.flush()
    try:
        server.serve_forever()
    finally:
        server.server_close()
