"""Storage credentials per principal: which object-store keys belong to whom (for SeaweedFS and `verify`).

    principals:
      user:alice:
        access_key: AKIA...
        secret_key: ...
        groups: [analytics]            # optional: the groups whose grants this key also carries
      product:sales.orders:            # a product's pipeline identity
        access_key: ...
        secret_key: ...

A key belongs to one user, service or product: a group is not a key holder, its grants reach the keys of its
members (`groups:`). Errors name the file and the principal, never a secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from meshlake.contract.principals import Principal
from meshlake.contract.yamlsource import YamlSource, YamlSourceError
from meshlake.errors import ConfigError, InvalidPrincipalError

_FIELDS = frozenset({"access_key", "secret_key", "groups"})


@dataclass(frozen=True)
class StorageCredential:
    """One principal's object-store key pair, and the groups it belongs to."""

    principal: Principal
    access_key: str
    secret_key: str = field(repr=False)
    groups: frozenset[Principal] = frozenset()


def read_credentials(path: str | Path) -> dict[Principal, StorageCredential]:
    """The credentials in a YAML (or JSON) file, by principal."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the credentials file {file}: {exc.strerror}", source=str(file)) from None
    return parse_credentials(text, file=str(file))


def parse_credentials(text: str, *, file: str = "<credentials>") -> dict[Principal, StorageCredential]:
    """Validate credentials text (see the module doc)."""
    try:
        source = YamlSource.parse(text)
    except YamlSourceError as exc:
        raise ConfigError(f"{file}:{exc.line or 1}: {exc.problem}", source=file) from None
    data = source.data
    if not isinstance(data, Mapping) or set(data) != {"principals"} or not isinstance(data["principals"], Mapping):
        raise ConfigError(
            f"{file}:1: a credentials file is `principals:` mapping each principal to its access_key and secret_key",
            source=file,
        )
    found: dict[Principal, StorageCredential] = {}
    for name, entry in data["principals"].items():
        line = source.line_of(("principals", name))
        where = f"{file}:{line}: {name}"
        try:
            principal = Principal.parse(name)
        except InvalidPrincipalError as exc:
            raise ConfigError(f"{where}: not a principal ({exc.reason})", key=str(name), source=file) from None
        if principal.kind == "group":
            raise ConfigError(
                f"{where}: a group holds no keys; list it under `groups:` of its members' entries",
                key=str(name),
                source=file,
            )
        found[principal] = _credential(principal, entry, where, file)
    return found


def _credential(principal: Principal, entry: object, where: str, file: str) -> StorageCredential:
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where}: give access_key and secret_key", key=str(principal), source=file)
    unknown = sorted(set(entry) - _FIELDS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown field {unknown[0]!r} (fields: access_key, secret_key, groups)",
            key=str(principal),
            source=file,
        )
    keys = {}
    for name in ("access_key", "secret_key"):
        value = entry.get(name)
        if not isinstance(value, str) or not value.strip() or value != value.strip():
            raise ConfigError(
                f"{where}: {name} must be a non-empty string without surrounding spaces",
                key=str(principal),
                source=file,
            )
        keys[name] = value
    groups = entry.get("groups", [])
    if not isinstance(groups, list):
        raise ConfigError(f"{where}: groups is a list of group names", key=str(principal), source=file)
    members = set()
    for group in groups:
        try:
            parsed = Principal.parse(group if isinstance(group, str) and ":" in group else f"group:{group}")
        except InvalidPrincipalError as exc:
            raise ConfigError(f"{where}: group {group!r}: {exc.reason}", key=str(principal), source=file) from None
        if parsed.kind != "group":
            raise ConfigError(f"{where}: {parsed} is not a group", key=str(principal), source=file)
        members.add(parsed)
    return StorageCredential(principal, keys["access_key"], keys["secret_key"], frozenset(members))
