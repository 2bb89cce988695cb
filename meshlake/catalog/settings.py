"""Settings: which catalog and warehouse a lake uses.

Precedence: keyword arguments > `MESHLAKE_*` environment variables > `meshlake.yaml` > embedded default.
The embedded default is a SQLite catalog and a local warehouse under `./.meshlake/`.

Without a config file (argument or `MESHLAKE_CONFIG`), the lake is found as git finds a repository: the
nearest folder, from the working folder up, holding a `meshlake.yaml` (read as the config file) or a
`.meshlake/` folder (the embedded lake's home). When there is none, the embedded default in the working
folder is used (`connect()` creates it on first use; the CLI's read-only commands refuse, see `discover`).

A YAML file may group keys in sections (`s3: {endpoint: …}`) or use flat names (`s3_endpoint: …`);
the environment always uses flat upper-case names (`MESHLAKE_S3_ENDPOINT`).

Secrets never show: `repr(settings)`, `settings.redacted()` and meshlake's errors mask the S3 secret key,
REST credential and token, the password of any URI (`scheme://user:***@host`, and `password=` style query
parameters), and every catalog property whose key names a secret: password, passwd, pwd, secret, token,
credential, private/account/api key, authorization, signature, sas. Key *ids* (`s3.access-key-id`) are
identifiers, not secrets, and stay visible so a wrong key can be spotted.

The `auth_*` keys say how a token in `MESHLAKE_TOKEN` is verified (see `meshlake.access.identity`); who the
caller is and what the mesh allows are never settings.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

import yaml

from meshlake.errors import ConfigError

CatalogKind = Literal["sql", "rest"]
ENV_PREFIX = "MESHLAKE_"
CONFIG_FILE_NAME = "meshlake.yaml"
HOME_NAME = ".meshlake"
EMBEDDED_CATALOG_NAME = "catalog.db"
DEFAULT_SOURCE = "embedded default"
SECRET_KEYS = frozenset({"s3_secret_access_key", "rest_credential", "rest_token"})
MASK = "***"
_SECRET_KEY = re.compile(
    r"pass(word|wd)?|pwd|secret|token|credential|(private|account|api)[-_.]?key|authorization|signature|\bsas\b",
    re.IGNORECASE,
)
_URI_PASSWORD = re.compile(
    r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^:/@?#\s]*:)(?P<password>.*?)@(?=[^@/?#\s]*(?:[/?#\s]|$))", re.DOTALL
)
_QUERY_PARAMETER = re.compile(r"(?P<head>[?&;](?P<key>[^=&;#\s]*)=)(?P<value>[^&;#\s]*)")


def is_secret_key(key: str) -> bool:
    """True when a setting or property key names a secret (see the module docstring for the rule)."""
    return bool(_SECRET_KEY.search(key))


def redact_uri(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every URI password (`user:***@host`), secret query parameter and given secret masked."""
    text = _URI_PASSWORD.sub(lambda m: f"{m['head']}{MASK}@" if m["password"] else m[0], text)
    text = _QUERY_PARAMETER.sub(lambda m: f"{m['head']}{MASK}" if is_secret_key(m["key"]) else m[0], text)
    for secret in sorted({s for s in secrets if s and len(s) >= 3 and s != MASK}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


@dataclass(frozen=True)
class Settings:
    """Resolved settings of one lake; build them with `load_settings`."""

    catalog: CatalogKind = "sql"
    catalog_name: str = "meshlake"
    catalog_uri: str | None = None
    warehouse: str | None = None
    home: str = HOME_NAME
    s3_endpoint: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = field(default=None, repr=False)
    s3_region: str = "us-east-1"
    io: Literal["pyarrow", "fsspec"] = "pyarrow"
    rest_credential: str | None = field(default=None, repr=False)
    rest_token: str | None = field(default=None, repr=False)
    quarantine_retention: str = "7d"
    quality_time_budget: str = "5m"
    """How long one quality check may run (a duration or seconds); see `meshlake.quality.budget`."""
    auth_jwks_file: str | None = None
    auth_issuer_key: str | None = None
    auth_issuer: str | None = None
    auth_audience: str | None = None
    auth_groups_claim: str = "groups"
    auth_principal_claim: str = "sub"
    access_log: str = "auto"
    """Log every read to `meshlake.system.access_log`: `auto` (when the lake has a mesh policy), `on` or `off`."""
    access_log_flush_entries: str = "1000"
    """Write the access log once this many entries are buffered; see `meshlake.access.log`."""
    access_log_flush_interval: str = "30s"
    """…or once this long (a duration or seconds) has passed since the last write, checked at each read."""
    access_log_max_entries: str = "100000"
    """How many entries the access log buffers while it cannot be written; past that, reads are refused."""
    properties: Mapping[str, str] = field(default_factory=dict)
    source: str = DEFAULT_SOURCE

    @property
    def home_path(self) -> Path:
        return Path(self.home).expanduser().resolve()

    @property
    def embedded_catalog(self) -> Path:
        """The SQLite file of the embedded catalog (whether or not this lake uses it)."""
        return self.home_path / EMBEDDED_CATALOG_NAME

    @property
    def resolved_catalog_uri(self) -> str:
        if self.catalog_uri:
            return self.catalog_uri
        if self.catalog == "rest":
            raise ConfigError(
                "catalog 'rest' needs catalog_uri (the REST endpoint): set MESHLAKE_CATALOG_URI or catalog_uri.",
                key="catalog_uri",
            )
        return f"sqlite:///{self.embedded_catalog}"

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
            if item.name in SECRET_KEYS and value:
                value = MASK
            elif isinstance(value, str):
                value = redact_uri(value)
            elif isinstance(value, Mapping):
                value = {k: MASK if is_secret_key(k) and v else redact_uri(str(v)) for k, v in value.items()}
            shown[item.name] = value
        return shown

    @property
    def secrets(self) -> list[str]:
        """The secret values these settings hold, to mask them wherever they could be echoed (errors)."""
        found = [getattr(self, key) for key in SECRET_KEYS]
        found += [value for key, value in self.properties.items() if is_secret_key(key)]
        found += [m["password"] for m in _URI_PASSWORD.finditer(self.catalog_uri or "")]
        return [value for value in found if value]

    def __repr__(self) -> str:
        shown = ", ".join(f"{key}={value!r}" for key, value in self.redacted().items())
        return f"Settings({shown})"


_KEYS = {item.name for item in fields(Settings)} - {"source"}
_SECTIONS = {"s3", "rest", "auth"}


@dataclass(frozen=True)
class Discovery:
    """Where `discover` found a lake: its `meshlake.yaml` or its `.meshlake/` home (or neither), and the
    folders it looked in."""

    config: Path | None
    home: Path | None
    searched: tuple[Path, ...]


def discover(start: str | os.PathLike[str] | None = None, *, search_parents: bool = True) -> Discovery:
    """The nearest folder, from `start` (default: the working folder) up to the root, with a `meshlake.yaml`
    or a `.meshlake/` folder; in one folder the file wins. `search_parents=False` looks in `start` only."""
    here = Path(start if start is not None else Path.cwd()).resolve()
    searched: list[Path] = []
    for folder in (here, *here.parents) if search_parents else (here,):
        searched.append(folder)
        if (folder / CONFIG_FILE_NAME).is_file():
            return Discovery(folder / CONFIG_FILE_NAME, None, tuple(searched))
        if (folder / HOME_NAME).is_dir():
            return Discovery(None, folder / HOME_NAME, tuple(searched))
    return Discovery(None, None, tuple(searched))


def load_settings(
    config_file: str | os.PathLike[str] | None = None, *, search_parents: bool = True, **overrides: Any
) -> Settings:
    """Resolve settings from keywords, `MESHLAKE_*` environment, a YAML file and the defaults.

    Without `config_file` or `MESHLAKE_CONFIG`, the lake is `discover`ed from the working folder (and, with
    `search_parents`, the folders above it).
    """
    values: dict[str, Any] = {}
    sources: list[str] = []
    path = _config_path(config_file)
    found = discover(search_parents=search_parents) if path is None else None
    if found is not None and found.config is not None:
        path = found.config
    if path is not None:
        values.update(_read_file(path))
        sources.append(str(path))
    elif found is not None and found.home is not None and found.home != Path(HOME_NAME).resolve():
        values["home"] = str(found.home)
        sources.append(str(found.home))
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
    settings = replace(Settings(), **_validated(values), source=" + ".join(sources) or DEFAULT_SOURCE)
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
    return None


def _read_file(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as exc:  # its str quotes the line, which may hold a password
        line = f":{exc.problem_mark.line + 1}" if exc.problem_mark else ""
        raise ConfigError(f"{path}{line}: not valid YAML: {exc.problem}", source=str(path)) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {type(exc).__name__}", source=str(path)) from None
    if raw is None:
        raw = {}
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
    # the embedded lake's home is relative to the file (by default, the .meshlake/ next to it)
    flat["home"] = str((path.parent / str(flat.get("home", HOME_NAME))).resolve())
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
