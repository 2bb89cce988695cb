"""`meshlake access storage-policy` and `meshlake access verify`: the storage level of access control."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

from meshlake.cli.access import access
from meshlake.cli.main import Context, json_option, pass_context
from meshlake.cli.output import json_text

if TYPE_CHECKING:
    from meshlake.access.storage_policy import PolicySet, PrincipalPolicy
    from meshlake.access.storage_verify import VerifyReport

CREDENTIALS_ENV = "MESHLAKE_STORAGE_CREDENTIALS"
_CREDENTIALS = click.Path(exists=True, dir_okay=False, path_type=Path)


@access.command("storage-policy")
@click.option(
    "--format",
    "form",
    type=click.Choice(["aws-iam", "seaweedfs"]),
    required=True,
    help="The object store's policy form.",
)
@click.option("--principal", default=None, help="Only this principal (a user, service or product).")
@click.option("--group", "groups", multiple=True, help="A group --principal belongs to (repeatable).")
@click.option(
    "--credentials",
    type=_CREDENTIALS,
    envvar=CREDENTIALS_ENV,
    default=None,
    help=f"YAML file of each principal's storage keys (and groups); also ${CREDENTIALS_ENV}.",
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write the policy here.")
@json_option
@pass_context
def storage_policy(
    ctx: Context, form: str, principal: str | None, groups: tuple[str, ...], credentials: Path | None, out: Path | None
) -> None:
    """Generate per-principal object-store policies from the grants (table locations from the catalog).

    \b
    admins      everything under the warehouse
    owners      read, list, write, delete under <warehouse>/<domain>/<product>/
    readers     read and list the whole table location (data and metadata) of each port
                they read UNRESTRICTED; a reader that masks or row filters apply to gets
                no storage read (with the files it would read around them)
    everyone    meshlake's records: read the metadata files of meshlake.system.* tables and
                put files there (the quality history, the access log), never read their rows
    Nothing else.

    \b
    --format aws-iam    one IAM policy document per principal (s3:GetObject, s3:ListBucket
                        with s3:prefix conditions, s3:PutObject/s3:DeleteObject for owners)
    --format seaweedfs  the s3 identities JSON for `weed s3 -config FILE`, or on a running
                        cluster: `weed shell` > s3.iam.import -file FILE -apply

    \b
    --credentials FILE:
      principals:
        user:alice: {access_key: AK..., secret_key: ..., groups: [analytics]}
    Without it, SeaweedFS identities get a placeholder access key and a random secret.
    Without --out the policy goes to standard output and the summary to standard error.
    """
    from meshlake.access.storage_credentials import read_credentials
    from meshlake.access.storage_formats import Format, placeholders, render
    from meshlake.access.storage_policy import lake_policy_set

    lake = ctx.lake
    keys = read_credentials(credentials) if credentials is not None else {}
    found = lake_policy_set(
        lake.catalog, lake.location_root, lake.mesh_policy, keys, principal=principal, groups=groups
    )
    chosen = cast("Format", form)
    text = json_text(render(found, chosen, single=principal is not None))
    summary = _summary(found, placeholders(found, chosen))
    if out is None:
        ctx.out.text(text)  # JSON escapes everything a terminal would act on
        ctx.out.note(summary)
        return
    _write_private(out, text + "\n")
    data = {"format": form, "out": str(out), "principals": [p.to_dict() for p in found.policies]}
    ctx.out.emit(data | {"notes": list(found.notes)}, f"wrote {form} policies to {out}\n{summary}")


def _write_private(path: Path, text: str) -> None:
    """Write `text` readable by its owner only: a policy file may hold secret keys."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)


def _summary(found: PolicySet, placeholder_for: list[str]) -> str:
    lines = [_policy_line(policy) for policy in found.policies]
    lines += [f"note: {note}" for note in found.notes]
    if placeholder_for:
        lines.append(
            "note: placeholder keys (REPLACE-ME-…, random secrets) for "
            + ", ".join(placeholder_for)
            + ": put their real keys in before applying, or pass --credentials"
        )
    return "\n".join(lines)


def _policy_line(policy: PrincipalPolicy) -> str:
    grants = "; ".join(f"{grant.access} {grant.prefix}" for grant in policy.grants) or "nothing"
    lines = [f"{policy.principal}: {grants}"]
    lines += [f"  {note}" for note in policy.notes]
    return "\n".join(lines)


@access.command()
@click.option(
    "--credentials",
    type=_CREDENTIALS,
    envvar=CREDENTIALS_ENV,
    default=None,
    help=f"YAML file of each principal's storage keys; also ${CREDENTIALS_ENV} (default: the caller's own keys).",
)
@click.option("--principal", default=None, help="Only this principal of the credentials file.")
@json_option
@pass_context
def verify(ctx: Context, credentials: Path | None, principal: str | None) -> None:
    """Probe each principal's storage keys against its storage policy; exit 1 on any mismatch.

    \b
    With each principal's own keys, for every port and meshlake.system table: GET its current
    metadata file and a data file, LIST its location, PUT a probe object (deleted at once), and
    compare each answer with the policy `meshlake access storage-policy` generates. A principal
    whose probes all match is recorded in the lake: `meshlake access explain` then reports
    the `storage` level for it until its grants or the mesh policy change. Admins only (their
    keys find the files to probe).
    """
    from meshlake.access.storage_credentials import read_credentials
    from meshlake.access.storage_verify import verify_lake

    lake = ctx.lake
    keys = read_credentials(credentials) if credentials is not None else None
    report = verify_lake(
        lake.catalog, lake.settings, lake.location_root, lake.mesh_policy, lake.identity, keys, principal=principal
    )
    ctx.out.emit(report.to_dict(), _report_text(report))
    if not report.ok:
        sys.exit(1)


def _report_text(report: VerifyReport) -> str:
    lines: list[str] = []
    for check in report.checks:
        count = len(check.probes)
        if check.ok:
            lines.append(f"{check.policy.principal}: ok, {count} probes match its storage policy")
        else:
            lines.append(f"{check.policy.principal}: {len(check.mismatches)} of {count} probes MISMATCH its policy")
            lines += [f"  {probe}" for probe in check.mismatches]
        lines += [f"  note: {note}" for note in check.notes]
    if report.recorded:
        lines.append("recorded (explain reports level `storage`): " + ", ".join(report.recorded))
    lines += [f"note: {note}" for note in report.notes]
    return "\n".join(lines) or "no principal to probe"
