"""A PostgreSQL catalog that refuses the password or does not answer is one clear error, without the password."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

import meshlake as ml
from meshlake.errors import CatalogUnavailableError

WRONG = "not-the-Pa55word"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def assert_no_password(error: CatalogUnavailableError, password: str) -> None:
    assert password not in str(error)
    assert password not in error.catalog
    assert error.__cause__ is None or password not in str(error.__cause__)
    assert error.__suppress_context__ or error.__context__ is None or password not in str(error.__context__)


def test_a_wrong_postgres_password_is_a_catalog_unavailable_error(postgres_base_url: str, tmp_path: Path) -> None:
    url = make_url(postgres_base_url).set(password=WRONG).render_as_string(hide_password=False)
    lake = ml.connect(catalog_uri=url, warehouse=(tmp_path / "wh").as_uri())
    with pytest.raises(CatalogUnavailableError) as caught:
        lake.products()
    assert_no_password(caught.value, WRONG)
    assert "password authentication failed" in caught.value.reason
    assert caught.value.catalog == url.replace(WRONG, "***")


def test_a_postgres_catalog_on_a_closed_port_is_a_catalog_unavailable_error(
    postgres_base_url: str, tmp_path: Path
) -> None:
    url = make_url(postgres_base_url).set(port=closed_port(), password=WRONG).render_as_string(hide_password=False)
    lake = ml.connect(catalog_uri=url, warehouse=(tmp_path / "wh").as_uri())
    with pytest.raises(CatalogUnavailableError) as caught:
        lake.product("logistics.shipments")
    assert_no_password(caught.value, WRONG)
    assert "refused" in caught.value.reason.lower()
