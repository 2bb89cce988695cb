"""The folder of meshlake's on-disk caches (decoded manifests, read views of table metadata, history journals, the
compiled DuckDB extensions).

`MESHLAKE_CACHE_DIR` (`off`, `0`, `false`, `no` or empty turns every cache off), else `$XDG_CACHE_HOME/meshlake`,
else `~/.cache/meshlake`; each cache has its own subfolder. Read at every call; deleting the folder is always
safe. Writing an entry is best effort and atomic (`write_atomically`: a temporary file renamed).

The caches hold what the lake holds: decoded manifests carry column bounds, the key index carries key values. So
the cache folder is private (`_private`): created `0700`; one of the user's own made readable by others is made
`0700` again (with a warning); one owned by another user, or that others can still write to (anyone able to
plant an entry could steer a read), is not used at all: the caches are off, with a warning saying why.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import threading
import time
from pathlib import Path

CACHE_DIR_ENV = "MESHLAKE_CACHE_DIR"
_OFF = {"", "off", "0", "false", "no"}
_LOG = logging.getLogger(__name__)
_warned: set[str] = set()


def cache_root() -> Path | None:
    """The caches' folder as configured (not checked), None when the caches are off."""
    configured = os.environ.get(CACHE_DIR_ENV)
    if configured is not None:
        return None if configured.strip().lower() in _OFF else Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "meshlake"


def cache_folder(kind: str) -> Path | None:
    """The folder of the cache `kind` (`manifests`, `fieldids`, `metadata`, `keyindex`, `history`, `duckdb`: the
    compiled DuckDB extensions), None when the
    caches are off or their folder is not private to this user."""
    root = cache_root()
    if root is None or not _private(root):
        return None
    return root / kind


def _private(root: Path) -> bool:
    """Whether `root` is this user's alone, creating it (`0700`) when missing."""
    try:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        found = root.stat()
    except OSError as error:
        return _refuse(root, f"it cannot be created ({error})")
    if not stat.S_ISDIR(found.st_mode):
        return _refuse(root, "it is not a folder")
    if hasattr(os, "getuid") and found.st_uid != os.getuid():
        return _refuse(root, "another user owns it")
    if stat.S_IMODE(found.st_mode) & 0o077:
        try:
            root.chmod(0o700)
        except OSError as error:
            return _refuse(root, f"others can open it and it cannot be made private ({error})")
        _warn(root, f"meshlake's cache folder {root} was open to other users; it is now private (0700)")
    return True


def _refuse(root: Path, why: str) -> bool:
    _warn(
        root,
        f"meshlake's caches are off: their folder {root} is not private to this user ({why}); set "
        f"{CACHE_DIR_ENV} to a folder of your own, or to off",
    )
    return False


def _warn(root: Path, message: str) -> None:
    if str(root) not in _warned:
        _warned.add(str(root))
        _LOG.warning("%s", message)


def temporary_for(target: Path) -> Path:
    """The temporary file a writer of this process and thread fills before renaming it to `target` (`*.tmp`: what
    a killed writer leaves behind)."""
    return target.with_name(f"{target.name}.{os.getpid()}-{threading.get_ident()}.tmp")


def write_atomically(target: Path, data: bytes) -> bool:
    """Write `data` to `target` through a temporary file renamed over it; False when it could not be written."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = temporary_for(target)
        temporary.write_bytes(data)
        os.replace(temporary, target)
    except OSError:
        return False
    return True


PRUNE_EVERY = 24 * 3600.0
"""Seconds between two prunings of one cache folder (by any process: `.pruned`'s time says when it last was)."""


def prune_soon(folder: Path, *, max_bytes: int, max_age: float) -> bool:
    """Prune `folder` in a background thread if it was not pruned for `PRUNE_EVERY`: entries untouched for
    `max_age` seconds go, then the oldest until the rest hold at most `max_bytes`. True when a pruning started.

    An entry is a cache's own file: another process reading one being deleted finds it gone (a cache miss)."""
    stamp = folder / ".pruned"
    try:
        if time.time() - stamp.stat().st_mtime < PRUNE_EVERY:
            return False
    except FileNotFoundError:
        pass
    except OSError:
        return False
    try:
        stamp.touch()  # first, so that other processes do not prune it too
    except OSError:
        return False
    threading.Thread(
        target=prune, args=(folder, max_bytes, max_age), name="meshlake cache pruning", daemon=True
    ).start()
    return True


def prune(folder: Path, max_bytes: int, max_age: float) -> tuple[int, int]:
    """Delete `folder`'s entries untouched for `max_age` seconds, then the oldest until the rest hold at most
    `max_bytes`; returns (entries deleted, bytes kept)."""
    entries: list[tuple[float, int, Path]] = []
    for path in folder.rglob("*"):
        if path.name == ".pruned":
            continue
        try:
            found = path.lstat()
        except OSError:
            continue
        if stat.S_ISREG(found.st_mode):
            entries.append((found.st_mtime, found.st_size, path))
    entries.sort()
    oldest = time.time() - max_age
    kept = sum(size for _, size, _ in entries)
    deleted = 0
    for modified, size, path in entries:
        if modified >= oldest and kept <= max_bytes:
            break
        try:
            path.unlink()
        except OSError:
            continue
        kept -= size
        deleted += 1
    return deleted, kept


def touch(path: Path) -> None:
    """Mark the entry at `path` as used now (what pruning keeps longest); best effort."""
    with contextlib.suppress(OSError):
        os.utime(path)
