"""Open the pyiceberg catalog a lake's settings describe (SQLite, PostgreSQL or REST)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from meshlake.catalog.settings import Settings, redact_uri
from meshlake.errors import CatalogUnavailableError, ConfigError, MeshlakeError, require

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog


def storage_properties(settings: Settings) -> dict[str, str]:
    """FileIO properties for the warehouse (S3 endpoint and keys, which FileIO to use)."""
    props: dict[str, str] = {}
    if settings.s3_endpoint:
        props["s3.endpoint"] = settings.s3_endpoint
    if settings.s3_access_key_id:
        props["s3.access-key-id"] = settings.s3_access_key_id
    if settings.s3_secret_access_key:
        props["s3.secret-access-key"] = settings.s3_secret_access_key
    if settings.s3_endpoint or settings.resolved_warehouse.startswith("s3"):
        props["s3.region"] = settings.s3_region
        props["s3.path-style-access"] = "true"
    if settings.io == "fsspec":
        props["py-io-impl"] = "pyiceberg.io.fsspec.FsspecFileIO"
    else:
        props["py-io-impl"] = "pyiceberg.io.pyarrow.PyArrowFileIO"
    return props


def open_catalog(settings: Settings) -> Catalog:
    """Build the catalog; the embedded default creates its directory on first use.

    A catalog that cannot be reached or refuses the credentials is a `CatalogUnavailableError` naming
    the catalog with its password masked, here and on any later connection of a SQL catalog.
    """
    try:
        catalog = _open(settings)
    except MeshlakeError:
        raise
    except Exception as exc:
        if not _is_connection_failure(exc):
            raise
        raise unavailable(settings, exc) from None
    engine = getattr(catalog, "engine", None)
    if engine is not None:
        _raise_unavailable_on_connect_failure(engine, settings)
    return catalog


def unavailable(settings: Settings, error: BaseException) -> CatalogUnavailableError:
    """The error for a catalog connection that failed with `error`; no secret of `settings` is in it."""
    cause = getattr(error, "orig", None) or error  # SQLAlchemy wraps the driver's error
    lines = [line.strip() for line in str(cause).strip().splitlines() if line.strip()]
    reason = " ".join((lines[0] if lines else type(cause).__name__).split())
    return CatalogUnavailableError(
        redact_uri(settings.resolved_catalog_uri, settings.secrets), redact_uri(reason, settings.secrets)
    )


def _is_connection_failure(exc: Exception) -> bool:
    import requests
    from pyiceberg.exceptions import ForbiddenError, OAuthError, ServiceUnavailableError, UnauthorizedError

    if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        return True
    if isinstance(exc, (UnauthorizedError, ForbiddenError, OAuthError, ServiceUnavailableError)):
        return True
    if type(exc).__module__.startswith("sqlalchemy"):
        from sqlalchemy.exc import InterfaceError, OperationalError

        return isinstance(exc, (OperationalError, InterfaceError))
    return False


def _raise_unavailable_on_connect_failure(engine: Any, settings: Settings) -> None:
    """Turn a later failure to connect (the server went away, the password changed) into the same error."""
    from sqlalchemy import event

    @event.listens_for(engine, "handle_error")
    def _unavailable(context: Any) -> None:
        if context.connection is None or context.is_disconnect:
            raise unavailable(settings, context.original_exception) from None


def _open(settings: Settings) -> Catalog:
    props = storage_properties(settings) | dict(settings.properties)
    if settings.catalog == "rest":
        from meshlake.catalog.rest_catalog import LakeRestCatalog

        rest = {"uri": settings.resolved_catalog_uri, "warehouse": settings.resolved_warehouse}
        if settings.rest_credential:
            rest["credential"] = settings.rest_credential
        if settings.rest_token:
            rest["token"] = settings.rest_token
        if settings.rest_credential or settings.rest_token:
            # pyiceberg's own default, said explicitly: it warns on every catalog load when left implicit
            rest["oauth2-server-uri"] = f"{rest['uri'].rstrip('/')}/v1/oauth/tokens"
        return LakeRestCatalog(settings.catalog_name, **(rest | props))
    uri = settings.resolved_catalog_uri
    _create_local_folders(uri, settings.resolved_warehouse)
    if uri.startswith("postgresql"):
        require("psycopg2", extra="postgres", feature="a PostgreSQL catalog")
    elif not uri.startswith("sqlite"):
        raise ConfigError(
            f"catalog_uri {redact_uri(uri, settings.secrets)!r} is neither sqlite:// nor postgresql://.",
            key="catalog_uri",
        )
    if settings.resolved_warehouse.startswith("s3"):
        require("s3fs", extra="s3", feature="S3 storage") if settings.io == "fsspec" else None
    from meshlake.catalog.sql_catalog import LakeSqlCatalog

    catalog = LakeSqlCatalog(settings.catalog_name, uri=uri, warehouse=settings.resolved_warehouse, **props)
    if uri.startswith("sqlite"):
        _tune_sqlite(catalog)
    return catalog


def _create_local_folders(uri: str, warehouse: str) -> None:
    """A SQLite catalog file and a file:// warehouse are created on first use, wherever they are."""
    from pathlib import Path
    from urllib.parse import urlparse

    if uri.startswith("sqlite:///") and uri != "sqlite:///:memory:":
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if warehouse.startswith("file:"):
        Path(urlparse(warehouse).path).mkdir(parents=True, exist_ok=True)


def _tune_sqlite(catalog: Catalog) -> None:
    """WAL journal, NORMAL sync and a busy timeout for the embedded catalog.

    Readers no longer wait for writers, concurrent writers queue instead of failing with "database is
    locked", and a commit costs one fsync of the WAL instead of two of the rollback journal (a commit is
    still durable across a crash of the process; only an OS crash may lose the last commits).
    """
    from sqlalchemy import event

    engine = catalog.engine  # type: ignore[attr-defined]

    @event.listens_for(engine, "connect")
    def _pragmas(connection: object, _record: object) -> None:
        cursor = connection.cursor()  # type: ignore[attr-defined]
        cursor.execute("PRAGMA busy_timeout=30000")  # first: switching to WAL waits for a lock too
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    engine.dispose()


def create_namespace_once(catalog: Catalog, namespace: tuple[str, ...], properties: dict[str, str]) -> bool:
    """Create `namespace` unless it exists; True when this call created it.

    Losing a race to a concurrent creator is not an error. pyiceberg's SqlCatalog checks, then inserts, so the
    loser gets the database's unique violation (an `IntegrityError`), not `NamespaceAlreadyExistsError`.
    """
    from pyiceberg.exceptions import NamespaceAlreadyExistsError

    try:
        catalog.create_namespace(namespace, properties)
    except NamespaceAlreadyExistsError:
        return False
    except Exception:
        if catalog.namespace_exists(namespace):
            return False
        raise
    return True
