"""List and delete a table's files through its FileIO, on a local disk or an object store alike.

Both FileIOs meshlake configures are supported: `PyArrowFileIO` lends its pyarrow filesystem (one recursive
listing call), `FsspecFileIO` its fsspec filesystem (`find`, with each store's own modification-time field).
Files are named by `file_key`: the path the filesystem uses (`/abs/path` locally, `bucket/key` on S3), so
references written as `file:///…`, `/…`, `s3://…` or `s3a://…` compare equal to what a listing returns.
A file whose modification time cannot be read counts as new (it is never an orphan).

On a local disk the listing never leaves the folder it was asked for: symbolic links (to files or to
folders) are neither followed nor listed, and a file is listed only when its resolved path is the path it
was found at, under the listed folder (so nothing outside the warehouse can ever be deleted through it).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pyarrow import fs as pafs
from pyiceberg.io import FileIO
from pyiceberg.io.pyarrow import PyArrowFileIO

_MTIME_KEYS = ("mtime", "LastModified", "last_modified", "updated", "modified")


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file found under a table's location."""

    key: str
    location: str
    size: int
    modified: datetime | None


def file_key(location: str) -> str:
    """The filesystem path of a location: what listings return, so references and listings compare."""
    return PyArrowFileIO.parse_location(location)[2]


class Storage:
    """The filesystem behind a table's FileIO, for one scheme (`file`, `s3`, …)."""

    def __init__(self, io: FileIO, location: str) -> None:
        scheme, netloc, _ = PyArrowFileIO.parse_location(location, io.properties)
        self.scheme = scheme
        self._arrow: pafs.FileSystem | None = None
        self._fsspec: Any = None
        if isinstance(io, PyArrowFileIO):
            self._arrow = io.fs_by_scheme(scheme, netloc)
        elif hasattr(io, "get_fs"):  # pyiceberg's FsspecFileIO
            self._fsspec = io.get_fs(scheme)
        else:
            raise TypeError(
                f"listing files needs a PyArrowFileIO or FsspecFileIO, not {type(io).__name__}; "
                "set io: pyarrow (the default) or io: fsspec in meshlake.yaml"
            )

    def list(self, location: str) -> Iterator[StoredFile]:
        """Every file under `location` (recursively); nothing if it does not exist.

        Locally, symbolic links are skipped and never followed (see the module docstring).
        """
        root = file_key(location).rstrip("/")
        if self.scheme == "file":
            yield from (StoredFile(key, key, size, modified) for key, size, modified in _walk_local(root))
            return
        if self._arrow is not None:
            selector = pafs.FileSelector(root, recursive=True, allow_not_found=True)
            for info in self._arrow.get_file_info(selector):
                if info.type == pafs.FileType.File:
                    yield StoredFile(info.path, self.location_of(info.path), int(info.size or 0), info.mtime)
            return
        if not self._fsspec.exists(root):
            return
        for path, info in self._fsspec.find(root, detail=True).items():
            if info.get("type", "file") == "file":
                key = path.removeprefix("file://")
                yield StoredFile(key, self.location_of(key), int(info.get("size") or 0), _modified(info))

    def delete(self, key: str) -> None:
        if self.scheme == "file":
            _delete_local(key)
        elif self._arrow is not None:
            self._arrow.delete_file(key)
        else:
            self._fsspec.rm_file(key)

    def location_of(self, key: str) -> str:
        return key if self.scheme == "file" else f"{self.scheme}://{key}"


def _walk_local(root: str) -> Iterator[tuple[str, int, datetime]]:
    """(path, size, modified) of the regular files under `root`, without following or listing symlinks."""
    real_root = os.path.realpath(root)
    if os.path.islink(root) or not os.path.isdir(root):
        return
    for folder, subfolders, files in os.walk(root, followlinks=False):
        subfolders[:] = [name for name in subfolders if not os.path.islink(os.path.join(folder, name))]
        for name in files:
            path = os.path.join(folder, name)
            try:
                info = os.lstat(path)
            except OSError:
                continue
            if not stat.S_ISREG(info.st_mode) or not _stays_under(path, root, real_root):
                continue
            yield path, info.st_size, datetime.fromtimestamp(info.st_mtime, tz=UTC)


def _stays_under(path: str, root: str, real_root: str) -> bool:
    """Whether `path` (found under `root`) resolves to itself under the resolved root: no link on the way."""
    relative = os.path.relpath(path, root)
    return not relative.startswith("..") and os.path.realpath(path) == os.path.join(real_root, relative)


def _delete_local(key: str) -> None:
    """Delete a regular file; a path that became a symbolic link meanwhile is refused, not followed."""
    info = os.lstat(key)
    if not stat.S_ISREG(info.st_mode):
        raise IsADirectoryError(f"{key} is not a regular file (a symbolic link or folder): left alone")
    os.unlink(key)


def _modified(info: Mapping[str, Any]) -> datetime | None:
    for name in _MTIME_KEYS:
        value = info.get(name)
        if isinstance(value, datetime):
            return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        if isinstance(value, int | float):
            return datetime.fromtimestamp(value, tz=UTC)
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    return None
