"""Storage policies rendered for an object store: AWS IAM policy documents, SeaweedFS s3 identities.

**AWS IAM** — one policy document per principal (attach it to the IAM user or role that holds its keys):
`s3:GetObject` on the granted prefixes, `s3:ListBucket` on their buckets with an `s3:prefix` condition,
`s3:PutObject` and `s3:DeleteObject` where the principal writes; for meshlake's records, `s3:GetObject` on the
system tables' metadata files only and `s3:PutObject` (never `s3:DeleteObject`) under the system prefix.

**SeaweedFS** — the s3 identities JSON that `weed` reads (`weed s3 -config=FILE`, `weed mini -s3.config=FILE`,
or `weed shell` → `s3.iam.import -file FILE -apply` on a running cluster): one identity per principal, named
after it, with its keys and actions `Read:`, `List:`, `Write:` on `bucket/prefix/*`. SeaweedFS matches an
action with a wildcard against `Action:bucket/key` (for a listing, the key is the request's prefix) and an
action without one only against a whole bucket, so every prefix is granted as `bucket/prefix/*`. Its `Write`
covers PUT and DELETE alike, so meshlake's records are deletable by any principal there (AWS keeps them
append-only).
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from typing import Any, Final, Literal

from meshlake.access.storage_policy import RECORD_LISTABLE, RECORD_READABLE, PolicySet, PrincipalPolicy

Format = Literal["aws-iam", "seaweedfs"]
FORMATS: Final[tuple[Format, ...]] = ("aws-iam", "seaweedfs")
IAM_VERSION: Final = "2012-10-17"
PLACEHOLDER_ACCESS_KEY: Final = "REPLACE-ME-access-key-of-{principal}"


def aws_iam_document(policy: PrincipalPolicy) -> dict[str, Any]:
    """The IAM policy document (Version 2012-10-17) granting `policy`."""
    get: list[str] = []
    put: list[str] = []
    delete: list[str] = []
    listed: dict[str, list[str]] = defaultdict(list)
    for grant in policy.grants:
        objects = f"arn:aws:s3:::{grant.prefix.bucket}/{grant.prefix.key}*"
        if grant.access == "record":
            get += [f"arn:aws:s3:::{grant.prefix.bucket}/{grant.prefix.key}{pattern}" for pattern in RECORD_READABLE]
            listed[grant.prefix.bucket] += [f"{grant.prefix.key}{pattern}" for pattern in RECORD_LISTABLE]
            put.append(objects)
            continue
        get.append(objects)
        listed[grant.prefix.bucket].append(f"{grant.prefix.key}*")
        if grant.access == "write":
            put.append(objects)
            delete.append(objects)
    statements: list[dict[str, Any]] = []
    if get:
        statements.append(_statement("MeshlakeRead", ["s3:GetObject"], get))
    for index, (bucket, prefixes) in enumerate(sorted(listed.items())):
        statement = _statement(f"MeshlakeList{index}", ["s3:ListBucket"], [f"arn:aws:s3:::{bucket}"])
        statement["Condition"] = {"StringLike": {"s3:prefix": prefixes}}
        statements.append(statement)
    if put:
        statements.append(_statement("MeshlakePut", ["s3:PutObject"], put))
    if delete:
        statements.append(_statement("MeshlakeDelete", ["s3:DeleteObject"], delete))
    return {"Version": IAM_VERSION, "Statement": statements}


def _statement(sid: str, actions: list[str], resources: list[str]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}


def seaweedfs_actions(policy: PrincipalPolicy) -> list[str]:
    """The SeaweedFS actions granting `policy` (`Read:bucket/prefix/*`, …)."""
    actions: list[str] = []
    for grant in policy.grants:
        target = f"{grant.prefix.bucket}/{grant.prefix.key}*"
        if grant.access == "record":
            actions += [f"Read:{grant.prefix.bucket}/{grant.prefix.key}{pattern}" for pattern in RECORD_READABLE]
            actions += [f"List:{grant.prefix.bucket}/{grant.prefix.key}{pattern}" for pattern in RECORD_LISTABLE]
            actions.append(f"Write:{target}")
            continue
        actions += [f"Read:{target}", f"List:{target}"]
        if grant.access == "write":
            actions.append(f"Write:{target}")
    return actions


def seaweedfs_identities(policies: PolicySet) -> dict[str, Any]:
    """The s3 identities JSON for every policy of `policies`, with the keys of its credentials.

    A principal without credentials gets a placeholder: an access key saying what to put there, and a secret
    drawn at random for this output (so an unreplaced placeholder is never a key anyone knows).
    """
    identities = []
    for policy in policies.policies:
        credential = policies.credentials.get(policy.principal)
        if credential is not None:
            keys = {"accessKey": credential.access_key, "secretKey": credential.secret_key}
        else:
            keys = {
                "accessKey": PLACEHOLDER_ACCESS_KEY.format(principal=policy.principal),
                "secretKey": secrets.token_urlsafe(30),
            }
        identities.append({"name": str(policy.principal), "credentials": [keys], "actions": seaweedfs_actions(policy)})
    return {"identities": identities}


def render(policies: PolicySet, form: Format, *, single: bool = False) -> dict[str, Any]:
    """The policy file of `form`: SeaweedFS identities, or IAM documents by principal (`single`: the document of
    the one principal, to attach as it is)."""
    if form == "seaweedfs":
        return seaweedfs_identities(policies)
    if form == "aws-iam":
        documents = {str(p.principal): aws_iam_document(p) for p in policies.policies}
        if single:
            if len(documents) != 1:
                raise ValueError(f"single asks for one principal's document, but there are {len(documents)}")
            return next(iter(documents.values()))
        return documents
    raise ValueError(f"unknown storage policy format {form!r}; formats: {', '.join(FORMATS)}")


def placeholders(policies: PolicySet, form: Format) -> list[str]:
    """The principals whose keys the SeaweedFS form leaves as placeholders."""
    if form != "seaweedfs":
        return []
    return [str(p.principal) for p in policies.policies if p.principal not in policies.credentials]
