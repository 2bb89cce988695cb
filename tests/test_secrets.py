"""Secrets never show: not in repr(settings), settings.redacted(), nor in the errors meshlake raises."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

import meshlake as ml
from meshlake.catalog.settings import is_secret_key, load_settings, redact_uri
from meshlake.errors import CatalogUnavailableError, ConfigError

PASSWORD = "hunter2-Pa55"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        (f"postgresql+psycopg2://meshlake:{PASSWORD}@db:5432/lake", "postgresql+psycopg2://meshlake:***@db:5432/lake"),
        (f"postgresql://u:{PASSWORD}@x@db/lake", "postgresql://u:***@db/lake"),
        (f"mysql://:{PASSWORD}@db", "mysql://:***@db"),
        (f"https://client:{PASSWORD}@iceberg.internal:8181/api", "https://client:***@iceberg.internal:8181/api"),
        (
            f"postgresql://db/lake?sslmode=require&password={PASSWORD}",
            "postgresql://db/lake?sslmode=require&password=***",
        ),
        ("postgresql://meshlake@db/lake", "postgresql://meshlake@db/lake"),
        ("sqlite:////home/me/.meshlake/catalog.db", "sqlite:////home/me/.meshlake/catalog.db"),
    ],
)
def test_redact_uri_masks_the_password_of_any_scheme(uri: str, shown: str) -> None:
    assert redact_uri(uri) == shown


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("password", True),
        ("s3.secret-access-key", True),
        ("s3.session-token", True),
        ("rest.credential", True),
        ("adls.account-key", True),
        ("gcs.oauth2.token", True),
        ("header.Authorization", True),
        ("s3.access-key-id", False),
        ("s3.endpoint", False),
        ("warehouse", False),
    ],
)
def test_which_property_keys_are_secret(key: str, secret: bool) -> None:
    assert is_secret_key(key) is secret


def test_settings_never_show_the_catalog_password_or_secret_properties() -> None:
    settings = load_settings(
        catalog_uri=f"postgresql+psycopg2://meshlake:{PASSWORD}@db:5432/lake",
        warehouse="s3://lake/wh",
        s3_access_key_id="AKIAEXAMPLE",
        properties={"s3.session-token": "tok-" + PASSWORD, "client.region": "eu-west-1"},
    )
    for shown in (repr(settings), str(settings), str(settings.redacted())):
        assert PASSWORD not in shown
    redacted = settings.redacted()
    assert redacted["catalog_uri"] == "postgresql+psycopg2://meshlake:***@db:5432/lake"
    assert redacted["properties"] == {"s3.session-token": "***", "client.region": "eu-west-1"}
    assert redacted["s3_access_key_id"] == "AKIAEXAMPLE"  # a key id names the key; it is not the secret
    assert repr(ml.connect(catalog_uri=settings.catalog_uri, warehouse="s3://lake/wh")).count(PASSWORD) == 0


def test_an_unknown_catalog_scheme_error_does_not_show_the_password(tmp_path: Path) -> None:
    lake = ml.connect(catalog_uri=f"mysql://meshlake:{PASSWORD}@db/lake", warehouse=(tmp_path / "wh").as_uri())
    with pytest.raises(ConfigError) as caught:
        lake.products()
    assert PASSWORD not in str(caught.value)
    assert "mysql://meshlake:***@db/lake" in str(caught.value)


def test_a_malformed_config_file_error_does_not_quote_its_lines(tmp_path: Path) -> None:
    config = tmp_path / "meshlake.yaml"
    config.write_text(f"catalog_uri: postgresql://u:{PASSWORD}@db/lake\nwarehouse: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert PASSWORD not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_an_unreachable_rest_catalog_is_a_catalog_unavailable_error(tmp_path: Path) -> None:
    lake = ml.connect(
        catalog="rest",
        catalog_uri=f"http://client:{PASSWORD}@127.0.0.1:{closed_port()}",
        warehouse="analytics",
        rest_credential="client:" + PASSWORD,
    )
    with pytest.raises(CatalogUnavailableError) as caught:
        lake.products()
    assert PASSWORD not in str(caught.value)
    assert caught.value.catalog == f"http://client:***@127.0.0.1:{caught.value.catalog.rsplit(':', 1)[1]}"


def test_a_sqlite_catalog_that_becomes_unreachable_is_a_catalog_unavailable_error(tmp_path: Path) -> None:
    folder = tmp_path / "catalog"
    lake = ml.connect(catalog_uri=f"sqlite:///{folder / 'catalog.db'}", warehouse=(tmp_path / "wh").as_uri())
    assert lake.products() == []
    for item in folder.iterdir():
        item.unlink()
    folder.rmdir()
    folder.write_text("the catalog's folder is now a file", encoding="utf-8")
    lake.catalog.engine.dispose()  # type: ignore[attr-defined]  # the next query opens a new connection
    with pytest.raises(CatalogUnavailableError) as caught:
        lake.products()
    assert caught.value.catalog.startswith("sqlite:///")
    assert "unable to open database file" in caught.value.reason
