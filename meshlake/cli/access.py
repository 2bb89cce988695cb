"""Commands about access: who am I, what may a principal do with a port, and the mesh policy."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from meshlake.cli.main import Context, cli, json_option, pass_context

if TYPE_CHECKING:
    from meshlake.access.policy import MeshPolicy
    from meshlake.access.rights import Decision


@cli.group()
def access() -> None:
    """Who the caller is, what a principal may do with a port, and the mesh policy.

    \b
    The caller is MESHLAKE_PRINCIPAL (with MESHLAKE_GROUPS), or who the verified JWT in
    MESHLAKE_TOKEN names, or the OS user (unverified). A lake without a mesh policy enforces
    nothing (level `declared`); `meshlake init --admin PRINCIPAL` gives it one.
    """


@access.command()
@json_option
@pass_context
def whoami(ctx: Context) -> None:
    """Print the caller's principal, groups, whether a token verified it, and the lake's enforcement level."""
    lake = ctx.lake
    data = lake.identity.to_dict() | {"level": lake.access_level}
    groups = ", ".join(data["groups"]) or "none"
    trust = "verified token" if data["verified"] else f"unverified ({data['source']})"
    ctx.out.emit(data, f"{data['principal']} — groups: {groups}; {trust}; enforcement level: {data['level']}")


@access.command()
@click.argument("principal")
@click.argument("address")
@click.option("--group", "groups", multiple=True, help="A group PRINCIPAL belongs to (repeatable).")
@json_option
@pass_context
def explain(ctx: Context, principal: str, address: str, groups: tuple[str, ...]) -> None:
    """Print what PRINCIPAL may do with ADDRESS (DOMAIN.PRODUCT.PORT, or every port of DOMAIN.PRODUCT).

    PRINCIPAL may be a group (group:analytics): what any member of it may do through it.

    \b
    For each port: read (and why), the row filter applied, the columns masked and how, write,
    and the enforcement level:
      declared  the lake has no mesh policy: the rules are metadata, nothing enforces them
      library   every meshlake path enforces them; not a boundary against storage credentials
      storage   the principal's storage credentials cannot reach files outside its grants
                (`meshlake access verify` found them to match its current grants)
    """
    lake = ctx.lake
    parts = address.split(".")
    ports = [address] if len(parts) != 2 else [str(port.address) for port in lake.product(address).ports]
    decisions = [lake.explain_access(principal, port, groups=groups) for port in ports]
    if ctx.out.json_mode:
        ctx.out.emit([d.to_dict() for d in decisions] if len(parts) == 2 else decisions[0].to_dict())
        return
    ctx.out.emit(None, "\n\n".join(_explain_text(d) for d in decisions))


def _explain_text(decision: Decision) -> str:
    from meshlake.access.rights import LEVELS

    read = f"yes ({decision.reason})" if decision.read else f"no ({decision.missing_read})"
    rows = str(decision.row_filter) if decision.row_filter else "all rows"
    masks = "; ".join(f"{column}: {mask}" for column, mask in decision.masks.items()) or "none"
    write = f"yes ({decision.reason})" if decision.write else f"no ({decision.missing_write})"
    lines = [f"{decision.principal} on {decision.address}", f"  read:  {read}"]
    if decision.read:
        lines += [f"  rows:  {rows}", f"  masks: {masks}"]
    lines += [f"  write: {write}", f"  level: {decision.level} — {LEVELS[decision.level]}"]
    return "\n".join(lines)


@access.group()
def policy() -> None:
    """Show or publish the mesh policy stored in the lake (admins, default readers, masks)."""


@policy.command()
@click.option("--version", "version", type=int, default=None, help="An earlier version (default: the one in force).")
@json_option
@pass_context
def show(ctx: Context, version: int | None) -> None:
    """Print the mesh policy in force (or an earlier --version) and who published it."""
    from meshlake.access.policy import load_policy, policy_versions

    found = load_policy(ctx.lake.catalog, version)
    if found is None:
        ctx.out.emit(
            None if not ctx.out.json_mode else {"policy": None},
            "no mesh policy: nothing is enforced (level `declared`). Give the lake one with "
            "`meshlake init --admin PRINCIPAL`.",
        )
        return
    versions = policy_versions(ctx.lake.catalog)
    ctx.out.emit(found.model_dump(mode="json") | {"versions": versions}, _policy_text(found, versions))


@policy.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@pass_context
def publish(ctx: Context, file: Path) -> None:
    """Publish FILE (YAML) as the next version of the mesh policy; only its admins may.

    \b
    admins: [group:platform]          # publish this policy, write every product
    default_readers: ["*"]            # readers of a port that names none ("*": the mesh)
    classification_masks: {pii: mask-to-default}
    require_verified: false           # true: only verified tokens may use the lake
    """
    published = ctx.lake.publish_access_policy(file)
    ctx.out.emit(
        published.model_dump(mode="json"),
        f"published mesh policy version {published.version} (by {published.published_by})",
    )


def _policy_text(found: MeshPolicy, versions: list[int]) -> str:
    masks = ", ".join(f"{name}: {mask}" for name, mask in found.classification_masks.items()) or "none"
    when = found.published_at.isoformat(timespec="seconds") if found.published_at else "?"
    return "\n".join(
        [
            f"mesh policy version {found.version} of {len(versions)}, published by {found.published_by} at {when}",
            f"  admins:               {', '.join(map(str, found.admins))}",
            f"  default readers:      {', '.join(map(str, found.default_readers)) or 'owners only'}",
            f"  classification masks: {masks}",
            f"  require verified:     {'yes' if found.require_verified else 'no'}",
        ]
    )
