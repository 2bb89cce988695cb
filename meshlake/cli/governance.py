"""Commands about governance: lint products against the mesh's rules, publish and show the governance policy."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from meshlake.cli.main import Context, cli, json_option, pass_context

if TYPE_CHECKING:
    from meshlake.governance.engine import Report
    from meshlake.governance.policy import GovernancePolicy
    from meshlake.lake import Lake


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--mesh", is_flag=True, help="Check every product deployed in the lake (instead of, or besides, PATHS).")
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Check against this governance.yaml (default: the policy published in the lake, else the default policy).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "junit", "sarif", "github"]),
    default=None,
    help="Output: text (default), json, junit (XML), sarif (SARIF 2.1.0) or github (workflow annotations).",
)
@click.option("--output", "output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here.")
@click.option("--record", is_flag=True, help="Append the findings to meshlake.system.governance_findings.")
@json_option
@pass_context
def lint(
    ctx: Context,
    paths: tuple[Path, ...],
    mesh: bool,
    policy_file: Path | None,
    fmt: str | None,
    output: Path | None,
    record: bool,
) -> None:
    """Check products against the governance policy's rules; exit 1 on any error not waived.

    \b
    PATHS are dataproduct.yaml files or folders (searched for dataproduct.yaml below them).
    The policy is --policy FILE, else the one published in the lake (`meshlake governance
    publish`), else the default policy (every built-in rule at its default severity). Without a
    lake, PATHS are checked alone (inputs of undeployed products are not decided).
    `meshlake deploy` refuses exactly the errors this command reports (against the lake's policy).
    Rule codes and examples: docs/governance.md.
    """
    from meshlake.errors import LakeNotFoundError
    from meshlake.governance.checks import check_files
    from meshlake.governance.formats import render
    from meshlake.governance.policy import read_policy_file

    if not paths and not mesh:
        raise click.UsageError("give PATHS to check, or --mesh to check every deployed product")
    chosen_format = fmt or ("json" if ctx.out.json_mode else "text")
    policy = read_policy_file(policy_file) if policy_file is not None else None
    lake: Lake | None
    try:
        lake = ctx.lake
    except LakeNotFoundError:
        if mesh or record:
            raise
        lake = None
    reports: list[Report] = []
    if lake is not None:
        if mesh:
            reports.append(lake.lint(mesh=True, policy=policy, record=record))
        if paths:
            reports.append(lake.lint(paths, policy=policy, record=record))
    else:
        reports.append(check_files(paths, catalog=None, policy=policy, access_policy=None))
    report = _merged(reports)
    if lake is None and policy is None and chosen_format == "text":
        ctx.out.note("no lake found: checking against the default governance policy")
    rendered = render(report, chosen_format)
    if output is not None:
        output.write_text(rendered + "\n", encoding="utf-8")
        ctx.out.note(f"wrote {chosen_format} report to {output}")
        ctx.out.note(render(report, "text").splitlines()[-1])
    elif chosen_format == "text":
        ctx.out.text(rendered)
    else:
        ctx.out.machine(rendered)
    if not report.passed:
        sys.exit(1)


def _merged(reports: list[Report]) -> Report:
    from meshlake.governance.engine import Report

    first = reports[0]
    if len(reports) == 1:
        return first
    findings = list(dict.fromkeys(f for r in reports for f in r.findings))
    products = sorted({p for r in reports for p in r.products})
    return Report(first.policy, products, findings)


@cli.group()
def governance() -> None:
    """The mesh's governance policy: publish it (mesh admins), show it, list its versions.

    \b
    A governance.yaml selects rules, severities (error, warn, off) and scopes, adds custom
    rules in Rego and stricter rules per domain (docs/governance.md). Once published, every
    `meshlake deploy` is checked against it (and stamped with its version), and so are runs.
    """


@governance.command("publish")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@pass_context
def publish_command(ctx: Context, file: Path) -> None:
    """Publish FILE (governance.yaml, with the Rego files it names) as the policy's next version.

    Mesh admins only (in a lake with a mesh policy). A scope that matches no deployed product is
    refused, as is anything wrong in the file (each error names the file and line).
    """
    published = ctx.lake.publish_governance(file)
    ctx.out.emit(
        _summary(published),
        f"published governance policy version {published.version} (by {published.published_by}); "
        "deploys are now checked against it",
    )


@governance.command("show")
@click.option("--version", "version", type=int, default=None, help="An earlier version (default: the one in force).")
@json_option
@pass_context
def show_command(ctx: Context, version: int | None) -> None:
    """Print the governance policy in force (or --version N): its text, who published it and when."""
    from meshlake.governance.policy import load_governance

    found = load_governance(ctx.lake.catalog, version)
    if found is None:
        ctx.out.emit(
            {"policy": None},
            "no governance policy is published: deploys are not checked; `meshlake lint` checks the default "
            "policy. Publish one with `meshlake governance publish governance.yaml`.",
        )
        return
    data = _summary(found) | {"text": found.text, "modules": found.modules}
    when = found.published_at.isoformat(timespec="seconds") if found.published_at else "?"
    ctx.out.emit(
        data,
        f"# governance policy version {found.version}, published by {found.published_by} at {when} "
        f"(from {found.file})\n{found.text}",
    )


@governance.command("history")
@json_option
@pass_context
def history_command(ctx: Context) -> None:
    """List every version of the governance policy, and which products' last deploy passed each."""
    from meshlake.governance.checks import deployed_versions
    from meshlake.governance.policy import governance_versions, load_governance

    catalog = ctx.lake.catalog
    passed = deployed_versions(catalog)
    rows = []
    for version in reversed(governance_versions(catalog)):
        found = load_governance(catalog, version)
        assert found is not None
        rows.append(
            {
                "version": version,
                "published_at": found.published_at,
                "published_by": found.published_by,
                "file": found.file,
                "deploys_passed": sorted(name for name, v in passed.items() if v == str(version)),
            }
        )
    ctx.out.table(
        rows,
        ["version", "published_at", "published_by", "file", "deploys_passed"],
        title="governance policy versions (newest first)",
    )


def _summary(policy: GovernancePolicy) -> dict[str, object]:
    return {
        "version": policy.version,
        "published_by": policy.published_by,
        "published_at": policy.published_at,
        "file": policy.file,
        "rules": sorted(policy.rules),
        "custom": [rule.code for _, rule, _ in policy.custom_rules()],
        "domains": sorted(policy.domains),
    }
