"""pyiceberg's REST catalog with loads and commits whose client-side cost does not grow with the history.

`RestCatalog.load_table` asks the server for every snapshot the table keeps and validates each with pydantic,
and `commit_table` validates the whole metadata the server answers with in the same way: 370 ms each for a
`metadata.json` of 10,000 snapshots (12 MB), on every write (a write loads its port's table, then commits).
`LakeRestCatalog` does the same requests, but:

1. loads ask for the snapshots the refs point at only (`snapshots=refs`, the Iceberg REST spec's
   snapshot-loading mode; a server that ignores it answers with all of them, which costs only the JSON parse);
2. both answers are read as `meshlake.catalog.loading` reads a metadata file lazily: the JSON is parsed, but
   only the metadata without its per-snapshot lists, plus the snapshots the refs name, is validated; the lists
   (`snapshots`, `snapshot-log`, ...) are read from the metadata file the answer names on first use (`history()`,
   time travel), by pyiceberg's own parse of that file, so they are exactly what pyiceberg would have loaded.

Anything else (a v1 table, an answer that does not validate) goes through pyiceberg's parse, with its errors.
Setting `snapshot-loading-mode` in the catalog's properties keeps pyiceberg's own load. What the server does
per commit (read and rewrite the whole `metadata.json`) still grows with the history: that is the server's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar, cast

from pydantic import TypeAdapter
from pyiceberg.catalog import TOKEN
from pyiceberg.catalog.rest import (
    _RETRY_ARGS,
    AUTHORIZATION_HEADER,
    BEARER_PREFIX,
    SNAPSHOT_LOADING_MODE,
    Capability,
    Endpoints,
    RestCatalog,
    TableResponse,
)
from pyiceberg.catalog.rest.response import _handle_non_200_response
from pyiceberg.catalog.rest.scan_planning import StorageCredential
from pyiceberg.exceptions import CommitFailedException, CommitStateUnknownException, NoSuchTableError
from pyiceberg.io import FileIO
from pyiceberg.table import CommitTableRequest, CommitTableResponse, Table, TableIdentifier
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.table.snapshots import Snapshot
from pyiceberg.table.update import AddSnapshotUpdate, TableRequirement, TableUpdate
from pyiceberg.typedef import UTF8, Identifier
from requests import HTTPError
from tenacity import retry

from meshlake.catalog.commits import has_append_listeners, tell_appended
from meshlake.catalog.loading import known_counts, lazy_metadata
from meshlake.catalog.metadata import MetadataCache

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _retried(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """pyiceberg's retry of its REST requests (once more after the token expired: `_RETRY_ARGS`)."""
    return cast(Callable[_P, _R], cast(Any, retry)(**_RETRY_ARGS)(function))


_CREDENTIALS = TypeAdapter(list[StorageCredential])
_SNAPSHOTS = TypeAdapter(list[Snapshot])
_COMMIT_ERRORS: dict[int, type[Exception]] = {
    409: CommitFailedException,
    500: CommitStateUnknownException,
    502: CommitStateUnknownException,
    504: CommitStateUnknownException,
}


class LakeRestCatalog(RestCatalog):
    """`RestCatalog`, loading and committing without validating every snapshot the table keeps."""

    @_retried
    def load_table(self, identifier: str | Identifier) -> Table:
        if self.properties.get(SNAPSHOT_LOADING_MODE):  # the caller's choice: pyiceberg's own load
            loaded: Table = super().load_table(identifier)
            return loaded
        self._check_endpoint(Capability.V1_LOAD_TABLE)
        url = self.url(Endpoints.load_table, prefixed=True, **self._split_identifier_for_path(identifier))
        response = self._session.get(url, params={"snapshots": "refs"})
        try:
            response.raise_for_status()
        except HTTPError as exc:
            _handle_non_200_response(exc, {404: NoSuchTableError})
        answer = _json_object(response.text)
        table = self._lazy_table(self.identifier_to_tuple(identifier), answer) if answer is not None else None
        if table is not None:
            return table
        return self._response_to_table(
            self.identifier_to_tuple(identifier), TableResponse.model_validate_json(response.text)
        )

    @_retried
    def commit_table(
        self, table: Table, requirements: tuple[TableRequirement, ...], updates: tuple[TableUpdate, ...]
    ) -> CommitTableResponse:
        self._check_endpoint(Capability.V1_UPDATE_TABLE)
        identifier = table.name()
        request = CommitTableRequest(
            identifier=TableIdentifier(namespace=identifier[:-1], name=identifier[-1]),
            requirements=requirements,
            updates=updates,
        )
        headers = self._session.headers
        if table_token := table.config.get(TOKEN):
            headers[AUTHORIZATION_HEADER] = f"{BEARER_PREFIX} {table_token}"
        response = self._session.post(
            self.url(Endpoints.update_table, prefixed=True, **self._split_identifier_for_path(request.identifier)),
            data=request.model_dump_json().encode(UTF8),
            headers=headers,
        )
        try:
            response.raise_for_status()
        except HTTPError as exc:
            _handle_non_200_response(exc, _COMMIT_ERRORS)
        answer = _json_object(response.text)
        location = answer.get("metadata-location") if answer is not None else None
        raw = answer.get("metadata") if answer is not None else None
        if isinstance(location, str) and isinstance(raw, dict):
            io = table.io  # (as the table meshlake makes of the answer: `meshlake.write.commit.updated_table`)
            metadata = lazy_metadata(raw, io, location, every_snapshot=True)
            if metadata is not None:
                _COMMITTED.put(self._cached(identifier), location, metadata)
                if has_append_listeners():
                    _tell_appended(table, updates, location, raw, metadata, io)
                return CommitTableResponse.model_construct(metadata=metadata, metadata_location=location)
        return CommitTableResponse.model_validate_json(response.text)

    def _lazy_table(self, identifier: tuple[str, ...], answer: dict[str, Any]) -> Table | None:
        """The table of a load's answer, its metadata read lazily (or the metadata of this process's own commit
        that wrote that very file); None when that cannot be done."""
        location, raw = answer.get("metadata-location"), answer.get("metadata")
        if not isinstance(location, str) or not isinstance(raw, dict):
            return None
        config = _strings(answer.get("config"))
        credentials = self._resolve_storage_credentials(
            _CREDENTIALS.validate_python(answer.get("storage-credentials") or []), location
        )
        io = self._load_file_io({**_strings(raw.get("properties")), **config, **credentials}, location)
        metadata = self._committed(identifier, location, raw) or lazy_metadata(raw, io, location, every_snapshot=False)
        if metadata is None:
            return None
        return Table(
            identifier=identifier, metadata_location=location, metadata=metadata, io=io, catalog=self, config=config
        )

    def _cached(self, identifier: tuple[str, ...]) -> tuple[str, ...]:
        return (self.properties.get("uri", ""), self.properties.get("warehouse", ""), self.name, *identifier)

    def _committed(self, identifier: tuple[str, ...], location: str, raw: dict[str, Any]) -> TableMetadata | None:
        """The metadata this process's last commit to the table got back, if the load's answer is that very file
        (the same location and table uuid: a metadata file is never rewritten; SeaweedFS's load answers do not
        repeat the file's `last-updated-ms`): it has `main`'s newest snapshots read, a load's answer only the refs'
        (a gated write looks back at the newest)."""
        kept = _COMMITTED.get(self._cached(identifier), location)
        return kept if kept is not None and str(kept.table_uuid) == raw.get("table-uuid") else None


_COMMITTED = MetadataCache(maxsize=256)
"""Per table, the metadata the newest commit this process made got back from the catalog."""


def _tell_appended(
    table: Table,
    updates: tuple[TableUpdate, ...],
    location: str,
    raw: dict[str, Any],
    new: TableMetadata,
    io: FileIO,
) -> None:
    """Tell the append listeners (the history journal) what the commit added, when the answer is the held metadata
    plus exactly the snapshots this commit added, at the end of its lists (known from the counts: no list read)."""
    counts = known_counts(table.metadata)
    listed, log = raw.get("snapshots"), raw.get("snapshot-log")
    if counts is None or not isinstance(listed, list) or not isinstance(log, list) or table.metadata_location is None:
        return
    ours = {update.snapshot.snapshot_id for update in updates if isinstance(update, AddSnapshotUpdate)}
    added, logged = listed[counts[0] :], log[counts[1] :]
    if len(listed) - counts[0] != len(ours) or {entry.get("snapshot-id") for entry in added} != ours:
        return  # the server's answer is not (only) the held metadata plus this commit's snapshots
    try:
        snapshots = _SNAPSHOTS.validate_python(added)
        entries = [(int(entry["snapshot-id"]), int(entry["timestamp-ms"])) for entry in logged]
        length = len(io.new_input(location))
    except (ValueError, TypeError, KeyError, OSError):
        return
    tell_appended(table.metadata_location, location, length, new, snapshots, entries, io)


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        found = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return found if isinstance(found, dict) else None


def _strings(found: Any) -> dict[str, str]:
    """A JSON object of properties as strings (pyiceberg's `Properties`); nothing when it is not an object."""
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}
