"""The mesh policy: what holds across every product, kept IN the lake, so no local file can weaken it.

    admins: [group:platform]               # may publish this document and write every product
    default_readers: ["*"]                 # who reads a port that declares no `access.readers` ("*": the mesh)
    classification_masks:                  # the mask of a classified column that declares no `mask:`
      pii: mask-to-default
    require_verified: false                # true: only callers with a verified token may use the lake

The document is stored as JSON in the properties of the system namespace `meshlake.system`, every version
kept (`meshlake.access-policy.v<N>.part-000`, …, in chunks like descriptors; `meshlake.access-policy.current`
says which is in force), so any Iceberg client can read it and its history. `meshlake init --admin PRINCIPAL`
publishes the first version; after that only its admins publish (`meshlake access policy publish FILE`).
Settings (`meshlake.yaml`, `MESHLAKE_*`) have no key that reaches it. A lake without a policy enforces nothing:
its access declarations are metadata only (the `declared` level).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pyiceberg.catalog import Catalog

from meshlake.access.identity import Identity
from meshlake.contract.access import Classification, ClassificationField, ColumnMask, GranteeField, PrincipalField
from meshlake.contract.documents import SYSTEM_NAMESPACE, VersionedDocument
from meshlake.contract.principals import EVERYONE, Principal, matches
from meshlake.contract.yamlsource import YamlSource, YamlSourceError, format_path
from meshlake.errors import ConfigError

__all__ = [
    "CURRENT_KEY",
    "SYSTEM_NAMESPACE",
    "MeshPolicy",
    "load_policy",
    "parse_policy",
    "policy_versions",
    "read_policy_file",
    "store_policy",
]

PREFIX: Final = "meshlake.access-policy."
DOCUMENT: Final = VersionedDocument(PREFIX, "the mesh policy")
CURRENT_KEY: Final = DOCUMENT.current_key
POLICY_ADDRESS: Final = "the mesh policy"
"""What `AccessDeniedError.address` says when publishing the policy is refused."""
_SET_BY_PUBLISH: Final = ("version", "published_by", "published_at")


def _default_masks() -> dict[Classification, ColumnMask]:
    return {"pii": ColumnMask(action="mask-to-default")}


class MeshPolicy(BaseModel):
    """The mesh-wide access policy; `version`, `published_by` and `published_at` are set when it is published."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    admins: list[PrincipalField] = Field(default_factory=list)
    default_readers: list[GranteeField] = Field(default_factory=lambda: [EVERYONE])
    classification_masks: dict[ClassificationField, ColumnMask] = Field(default_factory=_default_masks)
    require_verified: bool = False
    version: int = Field(default=0, ge=0)
    published_by: str | None = None
    published_at: datetime | None = None

    @field_validator("classification_masks")
    @classmethod
    def _no_expressions(cls, value: dict[str, ColumnMask]) -> dict[str, ColumnMask]:
        for name, mask in value.items():
            if mask.action == "apply-expression":
                raise ValueError(
                    f"classification '{name}': apply-expression names one port's columns; use it per column"
                )
        return value

    def admin_grant(self, identity: Identity) -> Principal | None:
        """The admin entry that names `identity` (its principal or one of its groups), if any."""
        return matches(self.admins, identity.principals)

    def document(self) -> dict[str, Any]:
        """The policy as its author writes it (without what publishing sets)."""
        return self.model_dump(mode="json", exclude=set(_SET_BY_PUBLISH))

    def to_json(self) -> str:
        return self.model_dump_json()


def load_policy(catalog: Catalog, version: int | None = None) -> MeshPolicy | None:
    """The policy in force (or an earlier `version`); None when the lake has never had one."""
    text = DOCUMENT.read(catalog, version)
    return None if text is None else MeshPolicy.model_validate_json(text)


def policy_versions(catalog: Catalog) -> list[int]:
    """Every stored version of the policy, oldest first."""
    return DOCUMENT.versions(catalog)


def store_policy(catalog: Catalog, policy: MeshPolicy, *, by: Identity, now: datetime | None = None) -> MeshPolicy:
    """Store `policy` as the next version and make it current (who may do this is checked by the caller).

    Two publishers racing for the same version: the one whose document is not what the catalog then holds
    gets `CommitConflictError` (the catalog's property update is not a compare-and-set).
    """
    if not policy.admins:
        raise ConfigError("a mesh policy names at least one admin (admins: [group:platform])", key="admins")
    published: list[MeshPolicy] = []

    def render(version: int) -> str:
        published.append(
            policy.model_copy(
                update={"version": version, "published_by": str(by.principal), "published_at": now or datetime.now(UTC)}
            )
        )
        return published[-1].to_json()

    DOCUMENT.store(catalog, render, address=POLICY_ADDRESS)
    return published[-1]


def read_policy_file(path: str | Path) -> MeshPolicy:
    """A policy document from YAML (or JSON); errors name the file, line and field."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the policy file {file}: {exc.strerror}", source=str(file)) from None
    return parse_policy(text, file=str(file))


def parse_policy(text: str, *, file: str = "<policy>") -> MeshPolicy:
    """Validate policy YAML text."""
    try:
        source = YamlSource.parse(text)
    except YamlSourceError as exc:
        raise ConfigError(f"{file}:{exc.line or 1}: {exc.problem}", key=exc.field, source=file) from None
    if not isinstance(source.data, Mapping):
        raise ConfigError(f"{file}:1: a mesh policy is a mapping with admins, default_readers, …", source=file)
    for key in _SET_BY_PUBLISH:
        if key in source.data:
            raise ConfigError(
                f"{file}:{source.line_of((key,))}: '{key}' is set when the policy is published; remove it",
                key=key,
                source=file,
            )
    try:
        return MeshPolicy.model_validate(source.data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        path = tuple(first["loc"])
        problem = str(first["msg"]).removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            problem = f"unknown field '{path[-1]}' (fields: admins, default_readers, classification_masks, …)"
        line = source.line_of(path)
        raise ConfigError(
            f"{file}:{line}: {problem} (field '{format_path(path)}')", key=format_path(path), source=file
        ) from None
