"""The caches' folder is private: it holds column bounds and key values, and what it holds steers reads."""

from __future__ import annotations

import logging
import os
import stat
import time
from pathlib import Path

import pytest

from meshlake.catalog import disk_cache


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "outer" / "cache"
    monkeypatch.setenv(disk_cache.CACHE_DIR_ENV, str(folder))
    monkeypatch.setattr(disk_cache, "_warned", set())
    return folder


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_missing_folder_is_created_private(root: Path) -> None:
    assert disk_cache.cache_folder("manifests") == root / "manifests"
    assert _mode(root) == 0o700
    assert disk_cache.write_atomically(root / "manifests" / "entry", b"x")
    assert (root / "manifests" / "entry").read_bytes() == b"x"


def test_a_folder_others_can_open_is_made_private(root: Path, caplog: pytest.LogCaptureFixture) -> None:
    root.mkdir(parents=True)
    root.chmod(0o777)
    with caplog.at_level(logging.WARNING, logger=disk_cache.__name__):
        assert disk_cache.cache_folder("keyindex") == root / "keyindex"
    assert _mode(root) == 0o700
    assert "now private" in caplog.text


def test_a_file_in_place_of_the_folder_turns_the_caches_off(root: Path, caplog: pytest.LogCaptureFixture) -> None:
    root.parent.mkdir(parents=True)
    root.write_text("not a folder")
    with caplog.at_level(logging.WARNING, logger=disk_cache.__name__):
        assert disk_cache.cache_folder("metadata") is None
    assert "caches are off" in caplog.text
    assert root.read_text() == "not a folder"


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="needs root to own a folder as another user")
def test_a_folder_another_user_owns_is_not_used(root: Path) -> None:
    root.mkdir(parents=True, mode=0o700)
    os.chown(root, 65534, 65534)
    assert disk_cache.cache_folder("manifests") is None


def test_off_turns_every_cache_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    before = sorted(tmp_path.rglob("*"))  # the test's own cache folder, made by `_isolate_config`
    monkeypatch.setenv(disk_cache.CACHE_DIR_ENV, "off")
    assert disk_cache.cache_folder("manifests") is None
    assert sorted(tmp_path.rglob("*")) == before, "nothing is created when the caches are off"


def test_the_warning_is_given_once(root: Path, caplog: pytest.LogCaptureFixture) -> None:
    root.parent.mkdir(parents=True)
    root.write_text("x")
    with caplog.at_level(logging.WARNING, logger=disk_cache.__name__):
        for _ in range(3):
            assert disk_cache.cache_folder("manifests") is None
    assert caplog.text.count("caches are off") == 1


def _entry(folder: Path, name: str, size: int, age: float) -> Path:
    path = folder / name[:2] / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    when = time.time() - age
    os.utime(path, (when, when))
    return path


def test_pruning_drops_old_entries_then_the_least_recently_used(tmp_path: Path) -> None:
    old = _entry(tmp_path, "aa-old", 10, age=40 * 86400)
    middle = _entry(tmp_path, "bb-middle", 100, age=3600)
    newer = _entry(tmp_path, "cc-newer", 100, age=60)
    newest = _entry(tmp_path, "dd-newest", 100, age=1)
    deleted, kept = disk_cache.prune(tmp_path, max_bytes=250, max_age=30 * 86400)
    assert (deleted, kept) == (2, 200)
    assert [p.exists() for p in (old, middle, newer, newest)] == [False, False, True, True]


def test_touching_an_entry_keeps_it_longest(tmp_path: Path) -> None:
    used = _entry(tmp_path, "aa-used", 100, age=7200)
    unused = _entry(tmp_path, "bb-unused", 100, age=60)
    disk_cache.touch(used)
    disk_cache.prune(tmp_path, max_bytes=100, max_age=86400)
    assert (used.exists(), unused.exists()) == (True, False)


def test_pruning_runs_once_a_day_across_processes(tmp_path: Path) -> None:
    _entry(tmp_path, "aa-old", 10, age=40 * 86400)
    assert disk_cache.prune_soon(tmp_path, max_bytes=1 << 20, max_age=86400)
    assert not disk_cache.prune_soon(tmp_path, max_bytes=1 << 20, max_age=86400)  # .pruned is fresh
    deadline = time.time() + 10
    while (tmp_path / "aa" / "aa-old").exists() and time.time() < deadline:
        time.sleep(0.01)
    assert not (tmp_path / "aa" / "aa-old").exists()
    assert (tmp_path / ".pruned").exists()
    stale = time.time() - disk_cache.PRUNE_EVERY - 1
    os.utime(tmp_path / ".pruned", (stale, stale))
    assert disk_cache.prune_soon(tmp_path, max_bytes=1 << 20, max_age=86400)
