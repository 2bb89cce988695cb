"""The folder of meshlake's on-disk caches (decoded manifests, read views of table metadata, history journals).

`MESHLAKE_CACHE_DIR` (`off`, `0`, `false`, `no` or empty turns every cache off), else `$XDG_CACHE_HOME/meshlake`,
else `~/.cache/meshlake`; each cache has its own subfolder. Read at every call; deleting the folder is always
safe. Writing an entry is best effort and atomic (`write_atomically`: a temporary file renamed).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

CACHE_DIR_ENV = "MESHLAKE_CACHE_DIR"
_OFF = {"", "off", "0", "false", "no"}


def cache_folder(kind: str) -> Path | None:
    """The folder of the cache `kind` (`manifests`, `metadata`, `history`), None when the caches are off."""
    configured = os.environ.get(CACHE_DIR_ENV)
    if configured is not None:
        return None if configured.strip().lower() in _OFF else Path(configured) / kind
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "meshlake" / kind


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
