"""The checks the facades run before they change anything: only owners and admins write, only admins govern.

Each check is a no-op in a lake without a mesh policy (the `declared` level, see `meshlake.access.rights`), and
raises `AccessDeniedError` (naming principal, address and the missing grant) or `AuthenticationError` (an
unverified caller where the policy requires verified ones) before any file or catalog entry is touched.
"""

from __future__ import annotations

from meshlake.access.identity import Identity
from meshlake.access.policy import POLICY_ADDRESS, MeshPolicy
from meshlake.access.rights import WriteGrant, write_grant
from meshlake.contract.principals import Principal
from meshlake.errors import AccessDeniedError, AuthenticationError

WRITE_ACTIONS = frozenset(
    {
        "deploy",
        "write",
        "stage",
        "publish",
        "delete",
        "tag",
        "rollback",
        "maintain",
        "run",
        "release",
        "quarantine",
        "stream",
    }
)
"""The operations that change a product: each needs `write_grant`."""


def check_verified(identity: Identity, policy: MeshPolicy | None) -> None:
    """Refuse an unverified caller when the mesh policy says `require_verified`."""
    if policy is not None and policy.require_verified and not identity.verified:
        raise AuthenticationError(
            f"the mesh policy (version {policy.version}) requires a verified identity, but {identity.principal} "
            f"comes from {_SOURCES[identity.source]}: set MESHLAKE_TOKEN to a token from the identity provider",
            source=identity.source,
        )


def require_write(
    identity: Identity, owners: tuple[Principal, ...], policy: MeshPolicy | None, *, action: str, address: str
) -> WriteGrant | None:
    """Raise unless `identity` may `action` the product owned by `owners` (at `address`); None when not enforced."""
    if action not in WRITE_ACTIONS:
        raise ValueError(f"unknown write action {action!r}; actions: {', '.join(sorted(WRITE_ACTIONS))}")
    if policy is None:
        return None
    check_verified(identity, policy)
    grant = write_grant(identity, owners, policy)
    if not grant.allowed:
        assert grant.missing is not None
        raise AccessDeniedError(str(identity.principal), address, grant.missing, action=action)
    return grant


def require_admin(identity: Identity, policy: MeshPolicy | None, *, action: str, address: str = POLICY_ADDRESS) -> None:
    """Raise unless `identity` is a mesh admin (or the lake has no policy yet: the first publisher bootstraps it)."""
    if policy is None:
        return
    check_verified(identity, policy)
    if policy.admin_grant(identity) is None:
        admins = ", ".join(str(a) for a in policy.admins)
        raise AccessDeniedError(
            str(identity.principal),
            address,
            f"only mesh admins ({admins}) may {action} it",
            action=action,
            hint="Ask one of them; `meshlake access policy show` prints the policy in force.",
        )


_SOURCES = {
    "argument": "a name given to connect()",
    "environment": "MESHLAKE_PRINCIPAL",
    "token": "a token",
    "os-user": "the operating-system user",
    "pipeline": "a pipeline run by an unverified caller",
}
