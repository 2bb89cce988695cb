"""Commands that build products: run (and new, demo)."""

from __future__ import annotations

import click

from meshlake.cli.main import Context, cli, json_option, pass_context


def _params(values: tuple[str, ...]) -> dict[str, str]:
    params = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{value!r} is not KEY=VALUE", param_hint="--param")
        params[key] = text
    return params


@cli.command()
@click.argument("path", type=click.Path(exists=True))
@click.option("--replay", help="Run again against the exact input snapshots of an earlier run (run or snapshot id).")
@click.option("--param", "param_values", multiple=True, metavar="KEY=VALUE", help="A parameter for the pipeline.")
@json_option
@pass_context
def run(ctx: Context, path: str, replay: str | None, param_values: tuple[str, ...]) -> None:
    """Run the pipeline of the product at PATH (its folder or dataproduct.yaml).

    Input ports are pinned to their current snapshots (or, with --replay, to those an earlier run read);
    each output is written through its quality gate and stamped with the snapshots read.
    """
    params = _params(param_values) if param_values else None
    with ctx.out.progress("running pipeline"):
        result = ctx.lake.run(path, replay=replay, params=params)
    if ctx.out.json_mode:
        ctx.out.emit(result.to_dict())
        return
    lines = [
        f"run {result.run_id} of {result.product}" + (f" (replay of {result.replay_of})" if result.replay_of else "")
    ]
    for address, snapshot in result.inputs.items():
        lines.append(f"  read  {address}@{snapshot}")
    for name, written in result.outputs.items():
        lines.append(
            f"  wrote {result.product}.{name}: {written.mode} {written.rows:,} rows → snapshot {written.snapshot_id}"
        )
    if not result.outputs:
        lines.append("  (the pipeline returned no data)")
    ctx.out.emit(None, "\n".join(lines))


@cli.command()
@click.argument("directory", required=False, default="meshlake-demo", type=click.Path(file_okay=False))
@click.option("--days", type=click.IntRange(2, 60), default=5, show_default=True, help="Simulated days of history.")
@json_option
@pass_context
def demo(ctx: Context, directory: str, days: int) -> None:
    """Build the drone-delivery mesh in DIRECTORY (default: ./meshlake-demo) and tour it.

    Five data products owned by five teams (fleet.drones, sales.orders, logistics.shipping,
    analytics.routing_analysis, planning.inventory_planning), several simulated days of history,
    a release tag, one broken batch stopped by the quality gate, access policies (the lake's
    admins are group:platform, customer emails are masked for all but their owners and group:support,
    group:north_hub reads the north hub's orders only, sales.orders.revenue is for group:finance),
    and a proposed product whose deploy the mesh's governance policy refuses.
    The tour shows them as other principals (MESHLAKE_PRINCIPAL, MESHLAKE_GROUPS). Uses its own embedded lake in
    DIRECTORY/.meshlake, whatever your settings say. Safe to run again: it rebuilds that lake and
    refreshes the product files it copied; files you added to DIRECTORY are kept.
    """
    from pathlib import Path

    from meshlake.demo import build, next_commands, summary

    folder = Path(directory).resolve()
    with ctx.out.progress("building the drone-delivery mesh", total=None) as progress:
        result = build(folder, days=days, step=progress.describe)
    sections = summary(result)
    if ctx.out.json_mode:
        ctx.out.emit(
            {
                "directory": str(folder),
                "seconds": round(result.seconds, 1),
                "runs": result.runs,
                "release_tag": result.release_tag,
                "sections": {title: rows for title, rows in sections},
                "next": next_commands(result),
            }
        )
        return
    ctx.out.text(
        f"Built the drone-delivery mesh in {folder} — {result.runs} pipeline runs over {days} days "
        f"in {result.seconds:.1f} s.\n"
    )
    for title, rows in sections:
        columns = list(rows[0]) if rows else []
        ctx.out.table(rows, columns, title=title)
        ctx.out.text()
    ctx.out.text("Next, try:\n" + "\n".join(f"  {line}" for line in next_commands(result).splitlines()))


class _NewCommand(click.Command):
    """`new` lists the templates (read when help is shown, not at start-up)."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from meshlake.pipelines.scaffold import templates

        rows = []
        for item in templates().values():
            needs = " ".join(f"--input {name}=ADDRESS" for name in item.inputs)
            rows.append((item.name, item.summary + (f" (needs {needs})" if needs else "")))
        with formatter.section("Templates"):
            formatter.write_dl(rows)
        super().format_epilog(ctx, formatter)


@cli.command(cls=_NewCommand)
@click.argument("product", metavar="DOMAIN.PRODUCT")
@click.option(
    "--template",
    "template_name",
    default="source-aligned",
    show_default=True,
    metavar="NAME",
    help="Template to copy (see below).",
)
@click.option(
    "--dir", "directory", type=click.Path(file_okay=False), help="Folder to create [default: products/PRODUCT]."
)
@click.option(
    "--input",
    "input_values",
    multiple=True,
    metavar="NAME=ADDRESS",
    help="Address of an input port the template reads.",
)
@json_option
@pass_context
def new(ctx: Context, product: str, template_name: str, directory: str | None, input_values: tuple[str, ...]) -> None:
    """Create a data product from a template.

    Writes dataproduct.yaml, pipeline.py, test_pipeline.py and README.md for DOMAIN.PRODUCT, with the
    addresses of the input ports the template reads (--input NAME=DOMAIN.PRODUCT.PORT). Refuses a
    folder that already exists and is not empty. Needs no lake: it only writes files; the
    product is then ready to deploy, run and test.
    """
    from meshlake.pipelines.scaffold import create_product

    inputs = {}
    for value in input_values:
        name, sep, address = value.partition("=")
        if not sep or not name or not address:
            raise click.BadParameter(f"{value!r} is not NAME=DOMAIN.PRODUCT.PORT", param_hint="--input")
        inputs[name] = address
    created = create_product(product, template=template_name, directory=directory, inputs=inputs)
    if ctx.out.json_mode:
        ctx.out.emit(created.to_dict())
        return
    lines = [f"created {created.product} from the {created.template} template in {created.directory}:"]
    lines += [f"  {path.relative_to(created.directory).as_posix()}" for path in created.files]
    lines += [f"  input {name} ← {address}" for name, address in created.inputs.items()]
    lines += ["next:", *(f"  {command}" for command in created.next_commands)]
    ctx.out.emit(None, "\n".join(lines))
