"""Object storage for the readers that open files themselves: DuckDB (through fsspec) and Polars.

DuckDB 2.0 reads `s3://` files without its httpfs extension through an fsspec filesystem registered on the
connection; `register_s3(con, properties)` registers one s3fs filesystem per connection, built
from Iceberg FileIO properties (`s3.endpoint`, `s3.access-key-id`, …), with s3fs's read-ahead cache off
(DuckDB's parallel range reads defeat it and fetch the same bytes 4–6 times; DuckDB caches files itself).
Polars reads through its own object_store client instead (see `meshlake.query.polars_scan`).

The planner tells this module the sizes of the files a plan reads (`remember_sizes`, from the manifests): DuckDB
checks that each file of a `read_parquet` list exists and asks its size (a HEAD request per file, one after
another, 2 ms each on a local SeaweedFS: 1.1 s for 500 files), which the manifests already answer.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from meshlake.errors import require

if TYPE_CHECKING:
    import duckdb

S3_SCHEMES = frozenset({"s3", "s3a", "s3n"})


_REFUSAL = re.compile(r"ACCESS_DENIED|AccessDenied|Access Denied|\b403 Forbidden\b|\bHTTP 403\b|\(403\)")
"""How pyarrow (`AWS Error ACCESS_DENIED`), botocore/s3fs (`AccessDenied`, `403 Forbidden`) and DuckDB
(`HTTP 403`) say the object store refused the request's credentials."""


def is_s3(location: str) -> bool:
    return urlparse(location).scheme in S3_SCHEMES


def storage_refused(exc: BaseException) -> bool:
    """Whether a failed file read is the storage refusing the caller's credentials (403 / access denied)."""
    return isinstance(exc, PermissionError) or bool(_REFUSAL.search(str(exc)))


def s3_filesystem(properties: Mapping[str, str], *, read_only: bool = False) -> Any:
    """An `s3fs.S3FileSystem` for the FileIO `properties`, without a read-ahead cache, that remembers files.

    `read_only`: every write (open for writing, put, copy, move, delete, mkdir) raises `PermissionError`; the
    filesystem of a DuckDB connection locked to the ports a caller may read (`COPY … TO` cannot write there).

    DuckDB asks an fsspec filesystem for a file's details several times per file and query (7 HEAD requests
    per file measured on SeaweedFS, more than the data reads themselves). Iceberg never rewrites a data or
    delete file in place, so what `info` said about a file stays true: it is asked once per process.
    """
    require("s3fs", extra="s3", feature="reading s3:// files from DuckDB")
    client_kwargs: dict[str, Any] = {}
    if endpoint := properties.get("s3.endpoint"):
        client_kwargs["endpoint_url"] = endpoint
    if region := properties.get("s3.region") or properties.get("client.region"):
        client_kwargs["region_name"] = region
    config_kwargs: dict[str, Any] = {}
    if properties.get("s3.force-virtual-addressing", "").lower() == "true":
        config_kwargs["s3"] = {"addressing_style": "virtual"}
    elif properties.get("s3.path-style-access", "").lower() == "true":
        config_kwargs["s3"] = {"addressing_style": "path"}
    kind = _read_only_s3fs() if read_only else _file_remembering_s3fs()
    return kind(
        key=properties.get("s3.access-key-id") or properties.get("client.access-key-id"),
        secret=properties.get("s3.secret-access-key") or properties.get("client.secret-access-key"),
        token=properties.get("s3.session-token") or properties.get("client.session-token"),
        anon=properties.get("s3.anonymous", "").lower() == "true",
        client_kwargs=client_kwargs,
        config_kwargs=config_kwargs,
        default_cache_type="none",
    )


_REMEMBERED_FILES = 100_000
_known_sizes: OrderedDict[tuple[str, str], int] = OrderedDict()
"""Per (S3 endpoint, `bucket/key`): the size the manifests give the file (`remember_sizes`)."""
_known_lock = threading.Lock()


def remember_sizes(properties: Mapping[str, str], files: Iterable[tuple[str, int]]) -> None:
    """Remember the sizes of `s3://` data and delete files on the S3 service of the FileIO `properties`, as the
    table's manifests record them (`file_size_in_bytes`), so that the filesystems of `s3_filesystem` answer
    DuckDB's existence and size checks without a request. A file named in a manifest is never rewritten (its
    name carries a UUID); a manifest that states a wrong size makes the read fail (the footer is not where it
    says), as it does in Iceberg's own readers, which trust the size too."""
    endpoint = properties.get("s3.endpoint", "")
    with _known_lock:
        for path, size in files:
            scheme, sep, rest = path.partition("://")
            if sep and scheme in S3_SCHEMES and size >= 0:
                _known_sizes[(endpoint, rest)] = size
        while len(_known_sizes) > _REMEMBERED_FILES:
            _known_sizes.popitem(last=False)


_NEVER_MODIFIED = datetime(2000, 1, 1, tzinfo=UTC)
"""The modification time `modified` gives a file whose size came from the manifests (see `remember_sizes`)."""


def _known_size(endpoint: str, name: str) -> int | None:
    with _known_lock:
        return _known_sizes.get((endpoint, name))


@cache
def _file_remembering_s3fs() -> type[Any]:
    """`s3fs.S3FileSystem` whose `info` on a file is answered from memory after the first time, or from the
    size the manifests gave it (`remember_sizes`): a name, a size and the type `file`. `modified` on such a file
    is `_NEVER_MODIFIED` (DuckDB asks it per file to validate its caches: a file a manifest names is never
    rewritten, so one fixed time keeps them valid, without a HEAD request per file).

    Defined on first use, since s3fs is an optional (and slow) import.
    """
    import s3fs

    class FileRememberingS3FileSystem(s3fs.S3FileSystem):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._files: OrderedDict[str, dict[str, Any]] = OrderedDict()
            self._endpoint = str(self.client_kwargs.get("endpoint_url") or "")

        async def _info(
            self,
            path: str,
            bucket: str | None = None,
            key: str | None = None,
            refresh: bool = False,
            version_id: str | None = None,
        ) -> dict[str, Any]:
            name = self._strip_protocol(path)
            known = None if refresh or version_id else self._files.get(name)
            if known is not None:
                return dict(known)
            size = None if refresh or version_id else _known_size(self._endpoint, name)
            if size is not None:
                return {"name": name, "size": size, "type": "file"}
            info: dict[str, Any] = await super()._info(path, bucket, key, refresh, version_id)
            if info.get("type") == "file":  # directories change; files are never rewritten
                self._files[name] = dict(info)
                while len(self._files) > _REMEMBERED_FILES:
                    self._files.popitem(last=False)
            return info

        def modified(self, path: str, version_id: str | None = None, refresh: bool = False) -> Any:
            name = self._strip_protocol(path)
            remembered = name in self._files or refresh or version_id
            if not remembered and _known_size(self._endpoint, name) is not None:
                return _NEVER_MODIFIED
            return super().modified(path, version_id=version_id, refresh=refresh)

    return FileRememberingS3FileSystem


@cache
def _read_only_s3fs() -> type[Any]:
    """`_file_remembering_s3fs()` refusing every write."""

    def refuse(self: Any, path: Any = None, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError(f"{path}: this S3 filesystem is read-only")

    def refuse_open(self: Any, path: str, mode: str = "rb", *args: Any, **kwargs: Any) -> Any:
        if any(flag in mode for flag in "wax+"):
            raise PermissionError(f"{path}: this S3 filesystem is read-only")
        return super(read_only, self)._open(path, mode, *args, **kwargs)

    writes = {
        name: refuse
        for name in (
            "_rm", "rm", "_rm_file", "rm_file", "_rmdir", "rmdir", "_mkdir", "mkdir", "_makedirs", "makedirs",
            "_pipe_file", "pipe_file", "_put_file", "put_file", "_cp_file", "cp_file", "_mv", "mv", "touch",
            "_touch", "_put", "put", "_copy", "copy", "_pipe", "pipe",
        )
    }  # fmt: skip
    read_only: type[Any] = type("ReadOnlyS3FileSystem", (_file_remembering_s3fs(),), {**writes, "_open": refuse_open})
    return read_only


def register_s3(con: duckdb.DuckDBPyConnection, properties: Mapping[str, str], *, read_only: bool = False) -> bool:
    """Register an S3 filesystem built from FileIO `properties` on `con`, once per connection.

    Returns True when this call registered it. A connection reads one S3 service: the first registration
    wins, so ports on two S3 endpoints with different credentials need a connection each. `read_only`: see
    `s3_filesystem`.
    """
    if con.filesystem_is_registered("s3"):
        return False
    con.register_filesystem(s3_filesystem(properties, read_only=read_only))
    return True
