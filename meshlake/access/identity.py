"""Who is calling: the caller's principal, its groups, and whether anything vouches for them.

Resolved once, when the lake is opened, from the first of:

1. `connect(principal="user:alice", groups=[...])` (or `connect(token=...)`);
2. `MESHLAKE_PRINCIPAL` (with `MESHLAKE_GROUPS`, comma-separated);
3. a JWT in `MESHLAKE_TOKEN`, verified with pyjwt against the JWKS file `auth_jwks_file` or the PEM public key
   `auth_issuer_key` (text or a file), checking `exp`, and `auth_issuer` / `auth_audience` when set. The principal
   comes from the `auth_principal_claim` claim (default `sub`; `user:` unless it names a kind), the groups from
   `auth_groups_claim` (default `groups`; no claim, no groups);
4. the operating-system user, as `user:<login>`.

Only a verified token makes a *verified* identity; a name given by argument or environment, and the OS user, are
claims. A mesh policy with `require_verified: true` refuses them (`meshlake.access.guard`). A token that does not
verify is an `AuthenticationError` when the lake is opened; it never falls back to a weaker source.
"""

from __future__ import annotations

import getpass
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal

from meshlake.catalog.settings import Settings
from meshlake.contract.address import ProductName
from meshlake.contract.principals import Principal
from meshlake.errors import AuthenticationError, ConfigError, InvalidPrincipalError, require

IdentitySource = Literal["argument", "environment", "token", "os-user", "pipeline", "explain"]
PRINCIPAL_ENV: Final = "MESHLAKE_PRINCIPAL"
GROUPS_ENV: Final = "MESHLAKE_GROUPS"
TOKEN_ENV: Final = "MESHLAKE_TOKEN"
ALGORITHMS: Final = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
"""Public-key signatures only: a shared-secret (HS*) or unsigned (`none`) token never verifies."""
LEEWAY_SECONDS: Final = 30


@dataclass(frozen=True)
class Identity:
    """The caller: a principal, the groups it belongs to, and whether a verified token says so."""

    principal: Principal
    groups: frozenset[Principal] = frozenset()
    verified: bool = False
    source: IdentitySource = "argument"
    ignored_groups: tuple[str, ...] = field(default=(), compare=False)
    """Group names from a token that are not valid principal names: they grant nothing."""

    def __post_init__(self) -> None:
        if self.principal.is_everyone or (self.principal.kind == "group" and self.source != "explain"):
            raise InvalidPrincipalError(
                str(self.principal), "a caller is a user, service or product; groups are memberships (groups=...)"
            )
        for group in self.groups:
            if group.kind != "group":
                raise InvalidPrincipalError(str(group), "only group: principals can be groups of a caller")

    @property
    def principals(self) -> frozenset[Principal]:
        """The principal and its groups: everything a grant may name to include this caller."""
        return self.groups | {self.principal}

    def __str__(self) -> str:
        return str(self.principal)

    def to_dict(self) -> dict[str, Any]:
        return {
            "principal": str(self.principal),
            "groups": sorted(str(g) for g in self.groups),
            "verified": self.verified,
            "source": self.source,
            "ignored_groups": list(self.ignored_groups),
        }


def resolve_identity(
    settings: Settings,
    *,
    principal: str | Principal | None = None,
    groups: Iterable[str | Principal] | None = None,
    token: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Identity:
    """The caller's identity from arguments, then the environment, then the OS user (see the module doc)."""
    env = os.environ if environ is None else environ
    if principal is not None and token is not None:
        raise ConfigError("give either principal= or token=, not both: a token names its own principal", key="token")
    env_groups = env.get(GROUPS_ENV)
    if principal is not None:
        return claimed(principal, groups if groups is not None else _split(env_groups), source="argument")
    if token is not None:
        _refuse_groups_with_token(groups, env_groups)
        return TokenVerifier.from_settings(settings).verify(token)
    if env.get(PRINCIPAL_ENV):
        return claimed(env[PRINCIPAL_ENV], groups if groups is not None else _split(env_groups), source="environment")
    if env.get(TOKEN_ENV):
        _refuse_groups_with_token(groups, env_groups)
        return TokenVerifier.from_settings(settings).verify(env[TOKEN_ENV])
    return os_user_identity(groups if groups is not None else _split(env_groups))


def claimed(principal: str | Principal, groups: Iterable[str | Principal] = (), *, source: IdentitySource) -> Identity:
    """An unverified identity: what the caller says it is."""
    return Identity(Principal.parse(principal), parse_groups(groups), verified=False, source=source)


def group_member(group: Principal, groups: Iterable[str | Principal] = ()) -> Identity:
    """Any member of `group` (and of `groups`) with no grant of its own: what `explain group:NAME` decides for.

    Never a caller: `connect` and `resolve_identity` refuse a group as the caller's principal.
    """
    if group.kind != "group":
        raise InvalidPrincipalError(str(group), "only a group: principal stands for its members")
    return Identity(group, parse_groups(groups), verified=False, source="explain")


def os_user_identity(groups: Iterable[str | Principal] = ()) -> Identity:
    """`user:<login>` of the operating system (characters a principal cannot hold become `_`), unverified."""
    try:
        login = getpass.getuser()
    except (OSError, KeyError):
        login = "unknown"
    name = re.sub(r"[^A-Za-z0-9_.@+\-]", "_", login)[:128] or "unknown"
    if not re.match(r"[A-Za-z0-9_]", name):
        name = "_" + name[:127]
    return Identity(Principal("user", name), parse_groups(groups), verified=False, source="os-user")


def pipeline_identity(product: ProductName | str, caller: Identity) -> Identity:
    """The identity a product's pipeline reads its inputs with: `product:<domain>.<name>`, vouched for by its caller."""
    return Identity(Principal.product(product), frozenset(), verified=caller.verified, source="pipeline")


def parse_groups(groups: Iterable[str | Principal]) -> frozenset[Principal]:
    """Groups given as `group:NAME` or bare `NAME`."""
    found = set()
    for item in groups:
        text = item if isinstance(item, Principal) else (item if ":" in item else f"group:{item}")
        group = Principal.parse(text)
        if group.kind != "group":
            raise InvalidPrincipalError(str(group), "only group: principals can be groups of a caller")
        found.add(group)
    return frozenset(found)


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _refuse_groups_with_token(groups: Iterable[object] | None, env_groups: str | None) -> None:
    if groups is not None or env_groups:
        raise ConfigError(
            f"groups= / {GROUPS_ENV} cannot add groups to a token: its groups come from its verified claim",
            key="groups",
        )


@dataclass(frozen=True)
class TokenVerifier:
    """How a JWT is verified: which keys, which issuer and audience, which claims name the caller."""

    jwks_file: str | None = None
    issuer_key: str | None = None
    issuer: str | None = None
    audience: str | None = None
    groups_claim: str = "groups"
    principal_claim: str = "sub"

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenVerifier:
        return cls(
            jwks_file=settings.auth_jwks_file,
            issuer_key=settings.auth_issuer_key,
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
            groups_claim=settings.auth_groups_claim,
            principal_claim=settings.auth_principal_claim,
        )

    def verify(self, token: str) -> Identity:
        """The identity a token proves; `AuthenticationError` saying why when it proves nothing."""
        jwt = require("jwt", extra="access", feature="verifying MESHLAKE_TOKEN")
        key = self._key(jwt, token)
        options: dict[str, Any] = {"require": ["exp"] + (["iss"] if self.issuer else [])}
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=list(ALGORITHMS),
                issuer=self.issuer,
                audience=self.audience,
                options=options,
                leeway=LEEWAY_SECONDS,
            )
        except jwt.PyJWTError as exc:
            raise AuthenticationError(_token_problem(jwt, exc, token, self), source="token") from None
        return self._identity(claims)

    def _key(self, jwt: Any, token: str) -> Any:
        if self.jwks_file:
            return _jwks_key(jwt, self.jwks_file, token)
        if self.issuer_key:
            return _pem_key(self.issuer_key)
        raise AuthenticationError(
            "a token was given but nothing can verify it: set auth_jwks_file (MESHLAKE_AUTH_JWKS_FILE) or "
            "auth_issuer_key (MESHLAKE_AUTH_ISSUER_KEY) to the identity provider's public keys",
            source="token",
        )

    def _identity(self, claims: Mapping[str, Any]) -> Identity:
        subject = claims.get(self.principal_claim)
        if not isinstance(subject, str) or not subject:
            raise AuthenticationError(
                f"the token has no '{self.principal_claim}' claim naming the caller (auth_principal_claim)",
                source="token",
            )
        text = subject if ":" in subject else f"user:{subject}"
        try:
            principal = Principal.parse(text)
        except InvalidPrincipalError as exc:
            raise AuthenticationError(
                f"the token's '{self.principal_claim}' claim is not a principal name: {exc.reason}", source="token"
            ) from None
        raw = claims.get(self.groups_claim, [])
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
            raise AuthenticationError(
                f"the token's '{self.groups_claim}' claim must be a list of group names (auth_groups_claim)",
                source="token",
            )
        groups, ignored = set(), []
        for name in raw:
            try:
                groups.add(Principal("group", name.removeprefix("group:")))
            except InvalidPrincipalError:
                ignored.append(name)
        return Identity(principal, frozenset(groups), verified=True, source="token", ignored_groups=tuple(ignored))


def _jwks_key(jwt: Any, path: str, token: str) -> Any:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        keys = jwt.PyJWKSet.from_dict(data)
    except OSError as exc:
        raise AuthenticationError(f"cannot read the JWKS file {path}: {exc.strerror or exc}", source="jwks") from None
    except (ValueError, jwt.PyJWTError) as exc:
        raise AuthenticationError(f"the JWKS file {path} holds no usable keys: {exc}", source="jwks") from None
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError as exc:
        raise AuthenticationError(f"MESHLAKE_TOKEN is not a JWT: {exc}", source="token") from None
    if kid is None and len(keys.keys) == 1:
        return keys.keys[0]
    for key in keys.keys:
        if key.key_id == kid:
            return key
    known = ", ".join(str(k.key_id) for k in keys.keys)
    raise AuthenticationError(
        f"the token's key id {kid!r} is not in the JWKS file {path} (ids: {known})", source="token"
    )


def _pem_key(value: str) -> Any:
    text = value
    if not value.lstrip().startswith("-----BEGIN"):
        try:
            text = Path(value).read_text(encoding="utf-8")
        except OSError as exc:
            raise AuthenticationError(
                f"cannot read the issuer key file {value}: {exc.strerror or exc}", source="issuer-key"
            ) from None
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        return load_pem_public_key(text.encode())
    except (ValueError, TypeError) as exc:
        raise AuthenticationError(f"the issuer key is not a PEM public key: {exc}", source="issuer-key") from None


def _token_problem(jwt: Any, exc: Exception, token: str, verifier: TokenVerifier) -> str:
    if isinstance(exc, jwt.ExpiredSignatureError):
        expiry = jwt.decode(token, options={"verify_signature": False}).get("exp")
        when = datetime.fromtimestamp(expiry, tz=UTC).isoformat() if isinstance(expiry, int | float) else "?"
        return f"the token expired at {when}; get a fresh one from the identity provider"
    if isinstance(exc, jwt.InvalidSignatureError):
        return "the token's signature does not verify against the configured keys: it was not issued by them"
    if isinstance(exc, jwt.InvalidIssuerError):
        return f"the token was not issued by {verifier.issuer!r} (auth_issuer)"
    if isinstance(exc, jwt.InvalidAudienceError):
        wanted = repr(verifier.audience) if verifier.audience else "no audience (set auth_audience)"
        return f"the token's audience does not match {wanted}"
    if isinstance(exc, jwt.InvalidAlgorithmError):
        return f"the token's signing algorithm is not accepted (accepted: {', '.join(ALGORITHMS)})"
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"the token has no '{exc.claim}' claim, which verification requires"
    if isinstance(exc, jwt.DecodeError):
        return f"MESHLAKE_TOKEN is not a valid JWT: {exc}"
    return f"the token does not verify: {exc}"
