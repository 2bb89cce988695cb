"""Settings: which catalog and warehouse a lake uses.

Precedence: keyword arguments > `MESHLAKE_*` environment variables > `meshlake.yaml` > embedded default.
The embedded default is a SQLite catalog and a local warehouse under `./.meshlake/`.

A YAML file may group keys in sections (`s3: {endpoint: …}`) or use flat names (`s3_endpoint: …`);
the environment always uses flat upper-case names (`MESHLAKE_S3_ENDPOINT`).

The `auth_*` keys say how a token in `MESHLAKE_TOKEN` is verified (see `meshlake.access.identity`); who the
caller is and what the mesh allows are never settings.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

import yaml

from meshlake.errors import ConfigError

CatalogKind = Literal["sql", "rest"]
ENV_PREFIX = "MESHLAKE_"
CONFIG_FILE_NAME = "meshlake.yaml"
SECRET_KEYS = frozenset({"s3_secret_access_key", "rest_credential", "rest_token"})


@dataclass(frozen=True)
class Settings:
    """Resolved settings of one lake; build them with `load_settings`."""

    catalog: CatalogKind = "sql"
    catalog_name: str = "meshlake"
    catalog_uri: str | None = None
    warehouse: str | None = None
    home: str = ".meshlake"
    s3_endpoint: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = field(default=None, repr=False)
    s3_region: str = "us-east-1"
    io: Literal["pyarrow", "fsspec"] = "pyarrow"
    rest_credential: str | None = field(default=None, repr=False)
    rest_token: str | None = field(default=None, repr=False)
    quarantine_retention: str = "7d"
    auth_jwks_file: str | None = None
    auth_issuer_key: str | None = None
    auth_issuer: str | None = None
    auth_audience: str | None = None
    auth_groups_claim: str = "groups"
    auth_principal_claim: str = "sub"
    properties: Mapping[str, str] = field(default_factory=dict)
    source: str = "embedded default"

    @property
    def home_path(self) -> Path:
        return Path(self.home).expanduser().resolve()

    @property
    def resolved_catalog_uri(self) -> str:
        if self.catalog_uri:
            return self.catalog_uri
        if self.catalog == "rest":
            raise ConfigError(
                "catalog 'rest' needs catalog_uri (the REST endpoint): set MESHLAKE_CATALOG_URI or catalog_uri.",
                key="catalog_uri",
            )
        return f"sqlite:///{self.home_path / 'catalog.db'}"

    @property
    def resolved_warehouse(self) -> str:
        if self.warehouse:
            return self.warehouse.rstrip("/")
        if self.catalog == "rest":
            raise ConfigError(
                "catalog 'rest' needs warehouse (the catalog's warehouse name): set MESHLAKE_WAREHOUSE.",
                key="warehouse",
            )
        return (self.home_path / "warehouse").as_uri()

    @property
    def is_embedded(self) -> bool:
        return self.catalog == "sql" and self.catalog_uri is None

    @property
    def uses_s3(self) -> bool:
        """True when the lake's files are (or may be) on S3: an `s3://` warehouse or S3 settings given."""
        warehouse = self.warehouse or ""
        return warehouse.startswith(("s3://", "s3a://")) or bool(self.s3_endpoint or self.s3_access_key_id)

    def redacted(self) -> dict[str, Any]:
        """Settings as a dict with secrets masked, for display."""
        shown: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            shown[item.name] = "***" if item.name in SECRET_KEYS and value else value
        return shown


_KEYS = {item.name for item in fields(Settings)} - {"source"}
_SECTIONS = {"s3", "rest", "auth"}


def load_settings(config_file: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
    """Resolve settings from keywords, `MESHLAKE_*` environment, a YAML file and the defaults."""
    values: dict[str, Any] = {}
    sources: list[str] = []
    path = _config_path(config_file)
    if path is not None:
        values.update(_read_file(path))
        sources.append(str(path))
    env_values = _read_env(os.environ)
    if env_values:
        values.update(env_values)
        sources.append("environment")
    for key in overrides:
        if key not in _KEYS:
            raise ConfigError(f"unknown setting '{key}'. Known settings: {', '.join(sorted(_KEYS))}.", key=key)
    given = {key: value for key, value in overrides.items() if value is not None}
    if given:
        values.update(given)
        sources.append("keywords")
    settings = replace(Settings(), **_validated(values), source=" + ".join(sources) or "embedded default")
    settings.resolved_catalog_uri  # noqa: B018  (validates that a REST catalog has its URI)
    settings.resolved_warehouse  # noqa: B018
    return settings


def _config_path(config_file: str | os.PathLike[str] | None) -> Path | None:
    if config_file is not None:
        path = Path(config_file)
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist.", source=str(path))
        return path
    env_path = os.environ.get(f"{ENV_PREFIX}CONFIG")
    if env_path:
        return _config_path(env_path)
    local = Path(CONFIG_FILE_NAME)
    return local if local.is_file() else None


def _read_file(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}", source=str(path)) from exc
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level.", source=str(path))
    flat: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _SECTIONS and isinstance(value, dict):
            for sub_key, sub_value in value.items():
                flat[f"{key}_{sub_key}"] = sub_value
                _check_known(f"{key}_{sub_key}", f"{key}.{sub_key}", path)
        else:
            _check_known(str(key), str(key), path)
            flat[str(key)] = value
    if "home" in flat and not Path(str(flat["home"])).is_absolute():
        flat["home"] = str((path.parent / str(flat["home"])).resolve())
    return flat


def _check_known(key: str, shown: str, path: Path) -> None:
    if key not in _KEYS:
        raise ConfigError(
            f"{path}: unknown setting '{shown}'. Known settings: {', '.join(sorted(_KEYS))}.",
            key=shown,
            source=str(path),
        )


def _read_env(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        key = name[len(ENV_PREFIX) :].lower()
        if key in _KEYS and key != "properties":
            values[key] = value
    return values


def _validated(values: dict[str, Any]) -> dict[str, Any]:
    catalog = values.get("catalog", "sql")
    if catalog not in ("sql", "rest"):
        raise ConfigError(f"catalog must be 'sql' or 'rest', got {catalog!r}.", key="catalog")
    if values.get("io", "pyarrow") not in ("pyarrow", "fsspec"):
        raise ConfigError(f"io must be 'pyarrow' or 'fsspec', got {values['io']!r}.", key="io")
    properties = values.get("properties", {})
    if not isinstance(properties, Mapping):
        raise ConfigError("properties must be a mapping of catalog properties.", key="properties")
    cleaned = {key: (str(value) if key not in ("properties",) else value) for key, value in values.items()}
    cleaned["properties"] = {str(k): str(v) for k, v in properties.items()}
    return cleaned
