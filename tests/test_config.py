"""Settings precedence: keyword > MESHLAKE_* environment > meshlake.yaml > embedded default."""

from __future__ import annotations

from pathlib import Path

import pytest

import meshlake as ml
from meshlake.catalog.settings import load_settings
from meshlake.errors import ConfigError


def test_default_is_the_embedded_lake_under_dot_meshlake(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.catalog == "sql"
    assert settings.resolved_catalog_uri == f"sqlite:///{tmp_path / '.meshlake' / 'catalog.db'}"
    assert settings.resolved_warehouse == (tmp_path / ".meshlake" / "warehouse").as_uri()
    assert settings.source == "embedded default"


def test_connect_creates_the_embedded_lake_on_first_use(tmp_path: Path) -> None:
    lake = ml.connect()
    assert lake.products() == []
    assert (tmp_path / ".meshlake" / "catalog.db").is_file()
    assert (tmp_path / ".meshlake" / "warehouse").is_dir()


def test_precedence_keyword_over_env_over_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "meshlake.yaml"
    config.write_text("warehouse: file:///from-file\ncatalog_uri: sqlite:///from-file.db\ns3:\n  region: eu-west-1\n")
    assert load_settings(config).warehouse == "file:///from-file"
    assert load_settings(config).s3_region == "eu-west-1"
    monkeypatch.setenv("MESHLAKE_WAREHOUSE", "file:///from-env")
    assert load_settings(config).warehouse == "file:///from-env"
    assert load_settings(config).catalog_uri == "sqlite:///from-file.db"
    assert load_settings(config, warehouse="file:///from-kw").warehouse == "file:///from-kw"


def test_meshlake_yaml_in_the_working_folder_is_read(tmp_path: Path) -> None:
    (tmp_path / "meshlake.yaml").write_text("home: lakehome\n")
    assert load_settings().home_path == tmp_path / "lakehome"


def test_unknown_key_in_file_names_key_and_file(tmp_path: Path) -> None:
    config = tmp_path / "meshlake.yaml"
    config.write_text("warehouse: file:///x\nwarehous: typo\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert caught.value.key == "warehous"
    assert caught.value.source == str(config)
    assert str(config) in str(caught.value)


def test_unknown_key_in_a_section_is_named_with_its_section(tmp_path: Path) -> None:
    config = tmp_path / "meshlake.yaml"
    config.write_text("s3:\n  endpiont: http://x\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert caught.value.key == "s3.endpiont"


def test_unknown_keyword_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        ml.connect(warehous="x")
    assert caught.value.key == "warehous"


def test_rest_catalog_needs_its_uri() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(catalog="rest", warehouse="wh")
    assert caught.value.key == "catalog_uri"


def test_secrets_are_masked_when_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MESHLAKE_S3_SECRET_ACCESS_KEY", "hunter2")
    settings = load_settings()
    assert settings.s3_secret_access_key == "hunter2"
    assert settings.redacted()["s3_secret_access_key"] == "***"
    assert "hunter2" not in repr(settings)


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_settings(tmp_path / "nope.yaml")
