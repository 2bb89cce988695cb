"""meshlake's DuckDB extension is compiled into meshlake's cache folder, and not at all with the caches off."""

from __future__ import annotations

import os
import shlex
import shutil
import stat
from pathlib import Path

import pytest

from meshlake.query.native import build, masks
from tests.query.native.conftest import forget_build


@pytest.fixture
def fresh_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process's record of the extension forgotten for the test (restored after it)."""
    forget_build(monkeypatch)


@pytest.mark.usefixtures("fresh_build")
def test_extension_is_not_built_when_the_caches_are_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MESHLAKE_CACHE_DIR", "off")
    assert build.extension_path() is None
    assert "MESHLAKE_CACHE_DIR" in (build.unavailable_reason() or "")
    assert not (tmp_path / "off").exists()  # no folder named after the setting in the working folder
    assert not masks.loaded(masks.connect())  # reads apply the deletes in SQL


@pytest.mark.usefixtures("fresh_build")
def test_extension_is_built_into_the_private_cache_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    compiler = shlex.split(os.environ.get("CC") or "cc")[0]
    if shutil.which(compiler) is None:
        pytest.skip(f"no C compiler ({compiler}) on this machine: the extension cannot be built")
    cache = tmp_path / "cache"
    monkeypatch.setenv("MESHLAKE_CACHE_DIR", str(cache))
    path = build.extension_path()
    assert path is not None, build.unavailable_reason()
    assert path.is_relative_to(cache / "duckdb")
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert masks.loaded(masks.connect())


@pytest.mark.usefixtures("fresh_build")
def test_a_connection_of_meshlakes_own_refuses_other_unsigned_extensions_once_its_own_is_loaded(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    compiler = shlex.split(os.environ.get("CC") or "cc")[0]
    if shutil.which(compiler) is None:
        pytest.skip(f"no C compiler ({compiler}) on this machine: the extension cannot be built")
    import duckdb

    monkeypatch.setenv("MESHLAKE_CACHE_DIR", str(tmp_path / "cache"))
    con = masks.connect()
    assert masks.loaded(con)
    assert con.execute("SELECT current_setting('allow_unsigned_extensions')").fetchone() == (False,)
    assert con.execute("SELECT count(*) FROM duckdb_functions() WHERE function_name = 'meshlake_kept'").fetchone() == (
        1,
    )
    path = build.extension_path()
    assert path is not None
    other = tmp_path / "other.duckdb_extension"
    shutil.copy(path, other)
    with pytest.raises(duckdb.IOException, match="signature"):  # not loaded for want of a signature
        con.execute(f"LOAD '{other}'")
    asked = masks.connect({"allow_unsigned_extensions": "true"})  # the caller's setting stands
    assert asked.execute("SELECT current_setting('allow_unsigned_extensions')").fetchone() == (True,)
