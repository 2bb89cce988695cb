"""How meshlake commits table metadata: `commit_table`, which also deletes the metadata files a commit supersedes.

With `write.metadata.delete-after-commit.enabled`, a metadata file is deleted once it falls out of the table's
metadata log (`write.metadata.previous-versions-max` entries). pyiceberg does that only inside its `Table`
transactions, never in `Catalog.commit_table`, which is how meshlake commits: so meshlake does it here (its
SQL catalog, `meshlake.catalog.sql_catalog.LakeSqlCatalog`, does it inside its own `commit_table`).

Layers above may keep their own records of each commit the lake's SQL catalog makes (`on_commit`: the history
journal, `meshlake.query.history_journal`): a listener is told after the catalog row points at the new file, and
what it does is best effort (an error is logged, never raised: the commit has happened).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from pyiceberg.catalog import Catalog
from pyiceberg.io import FileIO
from pyiceberg.table import CommitTableResponse, Table, TableProperties
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.table.snapshots import Snapshot
from pyiceberg.table.update import TableRequirement, TableUpdate
from pyiceberg.utils.properties import property_as_bool

from meshlake.catalog.metadata import superseded_metadata_files

_log = logging.getLogger(__name__)

CommitListener = Callable[[str, TableMetadata, str, int, TableMetadata, FileIO], None]
"""Called as `listener(replaced, base, location, length, new, io)`: the table's metadata went from `base`, read
from the file `replaced`, to `new`, written to `location` (`length` bytes, not compressed)."""
_LISTENERS: list[CommitListener] = []


def on_commit(listener: CommitListener) -> None:
    """Have `listener` told of every commit the lake's SQL catalog makes in this process (once per listener)."""
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)


def tell_listeners(
    replaced: str, base: TableMetadata, location: str, length: int, new: TableMetadata, io: FileIO
) -> None:
    """Tell every listener of a commit that has happened (a listener's error is logged, not raised)."""
    for listener in _LISTENERS:
        try:
            listener(replaced, base, location, length, new, io)
        except Exception:  # the commit has happened: a record not kept only costs a slower read later
            _log.warning("after the commit of %s: %r failed", location, listener, exc_info=True)


AppendListener = Callable[[str, str, int, TableMetadata, list[Snapshot], list[tuple[int, int]], FileIO], None]
"""Called as `listener(replaced, location, length, new, snapshots, log, io)`: a commit that only added `snapshots`
and snapshot-log entries `log` (`(snapshot id, timestamp ms)`) took the table from the metadata file `replaced` to
`new`, at `location` (`length` bytes); `new` may be loaded lazily (its snapshot lists are not to be read)."""
_APPEND_LISTENERS: list[AppendListener] = []


def on_append(listener: AppendListener) -> None:
    """Have `listener` told of every commit the lake's REST catalog client makes in this process that only added
    snapshots (once per listener): it knows what was added without reading the history (`on_commit` is told the
    whole metadata before and after)."""
    if listener not in _APPEND_LISTENERS:
        _APPEND_LISTENERS.append(listener)


def has_append_listeners() -> bool:
    return bool(_APPEND_LISTENERS)


def tell_appended(
    replaced: str,
    location: str,
    length: int,
    new: TableMetadata,
    snapshots: list[Snapshot],
    log: list[tuple[int, int]],
    io: FileIO,
) -> None:
    """Tell every append listener of a commit that has happened (a listener's error is logged, not raised)."""
    for listener in _APPEND_LISTENERS:
        try:
            listener(replaced, location, length, new, snapshots, log, io)
        except Exception:  # the commit has happened: a record not kept only costs a slower read later
            _log.warning("after the commit of %s: %r failed", location, listener, exc_info=True)


def commit_table(
    catalog: Catalog, table: Table, requirements: tuple[TableRequirement, ...], updates: tuple[TableUpdate, ...]
) -> CommitTableResponse:
    """`catalog.commit_table`, then the superseded metadata files deleted as the table's properties say."""
    response = catalog.commit_table(table, requirements, updates)
    if not getattr(catalog, "deletes_superseded_metadata", False):
        delete_superseded(table.io, table.metadata, response.metadata)
    return response


def delete_superseded(io: FileIO, base: TableMetadata, new: TableMetadata) -> None:
    """Delete the metadata files `new`'s log dropped, when the table's properties ask for it (best effort:
    a file left behind is an orphan that `meshlake maintain` removes)."""
    enabled = property_as_bool(
        new.properties,
        TableProperties.METADATA_DELETE_AFTER_COMMIT_ENABLED,
        TableProperties.METADATA_DELETE_AFTER_COMMIT_ENABLED_DEFAULT,
    )
    if not enabled:
        return
    for path in sorted(superseded_metadata_files(base, new)):
        delete_file(io, path)


def delete_file(io: FileIO, location: str) -> None:
    """Delete a file; one that cannot be deleted is left (an orphan that `meshlake maintain` removes)."""
    try:
        io.delete(location)
    except FileNotFoundError:
        return
    except Exception as exc:  # e.g. a principal allowed to put files but not to delete them
        _log.debug("could not delete %s: %s", location, exc)
