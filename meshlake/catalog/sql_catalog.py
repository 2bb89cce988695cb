"""pyiceberg's SQL catalog (SQLite, PostgreSQL) with commits and loads whose cost does not grow with the history.

`SqlCatalog.commit_table` loads the table again (parsing its whole `metadata.json`), applies the updates to
a deep copy, compares the result with the whole current metadata and renders the new file from scratch:
each step costs as much as the history the table keeps. `LakeSqlCatalog` does the same commit on the
metadata the caller holds instead:

1. check the requirements against the held metadata and apply the updates to it without copying what did not
   change (`meshlake.catalog.metadata.apply_updates`);
2. write the new metadata file, rendered from the previous render plus what changed (`metadata_json`);
3. swap the catalog row's metadata location *only if it is still the held one* (one `UPDATE … WHERE
   metadata_location = <held>`, the same compare-and-swap pyiceberg's own commit ends with).

If the swap finds another location (the held metadata was stale), the file is deleted and the commit is
handed to pyiceberg's `commit_table`, which checks the requirements against the current metadata: the
outcome is pyiceberg's in every case, only the common case is cheaper. Loads are served from a cache of
parsed metadata by location (one `SELECT` of the location when nothing changed), and every commit puts
its result there (a load still asks the storage whether the file exists: one that was deleted fails the
load as it would without the cache). A table not in that cache is loaded lazily (`meshlake.catalog.loading`:
the snapshots a read does not ask for are parsed on first use), from the read view its last commit left on
disk when there is one, and a commit leaves the read view of the file it writes (and tells the layers above, which
keep the history journal: `meshlake.catalog.commits.on_commit`). Metadata files that fall out
of the metadata log are deleted after a commit when `write.metadata.delete-after-commit.enabled` says so
(pyiceberg does it only in `Table` transactions).
"""

from __future__ import annotations

from typing import Any

from pyiceberg.catalog import Catalog
from pyiceberg.catalog.sql import IcebergTables, SqlCatalog
from pyiceberg.io import FileIO, load_file_io
from pyiceberg.serializers import Compressor, NoopCompressor
from pyiceberg.table import CommitTableResponse, Table
from pyiceberg.table.locations import load_location_provider
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.table.update import TableRequirement, TableUpdate

from meshlake.catalog.commits import delete_file, delete_superseded, tell_listeners
from meshlake.catalog.loading import complete, load_metadata, store_view
from meshlake.catalog.metadata import MetadataCache, apply_updates, metadata_json

_PROCESS_METADATA = MetadataCache(maxsize=512)
"""The metadata every `LakeSqlCatalog` of this process committed or parsed last, per catalog and table: a stream's
catalog and its compactor's see each other's commits without parsing the metadata file again (each kept entry is
used only for the exact metadata file it was read from or written to)."""


def forget_parsed_metadata() -> None:
    """Empty the process's metadata cache: the next load of every table reads its metadata file (as a new process
    would)."""
    _PROCESS_METADATA.clear()


class LakeSqlCatalog(SqlCatalog):
    """`SqlCatalog`, loading through a cache of parsed metadata and committing on the metadata held."""

    deletes_superseded_metadata = True
    """`commit_table` deletes the metadata files a commit drops from the log (see `meshlake.catalog.commits`)."""

    def __init__(self, name: str, **properties: str) -> None:
        super().__init__(name, **properties)
        self.metadata_cache = _PROCESS_METADATA
        self._cache_scope = (str(self.engine.url), name)

    def _cached(self, identifier: tuple[str, ...]) -> tuple[str, ...]:
        """`identifier`'s key in the process's metadata cache: scoped by this catalog's database and name."""
        return (*self._cache_scope, *identifier)

    def _convert_orm_to_iceberg(self, orm_table: IcebergTables) -> Table:
        location = orm_table.metadata_location
        if not (location and orm_table.table_namespace and orm_table.table_name):
            return super()._convert_orm_to_iceberg(orm_table)  # pyiceberg's errors for a broken row
        identifier = (*Catalog.identifier_to_tuple(orm_table.table_namespace), orm_table.table_name)
        metadata = self.metadata_cache.get(self._cached(identifier), location)
        if metadata is not None:
            io = self._load_file_io(metadata.properties, location)
            if io.new_input(location).exists():
                return Table(identifier, metadata, location, io, self)
            # its file is gone: loading it again raises as pyiceberg would without the cache
        metadata = load_metadata(load_file_io(properties=self.properties, location=location), location)
        metadata = self.metadata_cache.adopt(self._cached(identifier), location, metadata)
        return Table(identifier, metadata, location, self._load_file_io(metadata.properties, location), self)

    def commit_table(
        self, table: Table, requirements: tuple[TableRequirement, ...], updates: tuple[TableUpdate, ...]
    ) -> CommitTableResponse:
        base = complete(table.metadata)  # a commit sees the whole metadata (a read loads it lazily)
        held = table.metadata_location
        if not held or not self.engine.dialect.supports_sane_rowcount:
            return self._commit_and_clean(table, requirements, updates)
        for requirement in requirements:
            requirement.validate(base)
        new, changed = apply_updates(base, updates, metadata_location=held)
        if not changed:
            return self._commit_and_clean(table, requirements, updates)  # pyiceberg's no-op answer
        location = self._new_location(new, held)
        io = table.io if new.properties == base.properties else self._load_file_io(new.properties, location)
        length = _write(io, location, new)
        try:
            swapped = self._swap(table, held, location)
        except BaseException:
            delete_file(io, location)
            raise
        if not swapped:
            delete_file(io, location)
            return self._commit_and_clean(table, requirements, updates)
        self.metadata_cache.put(self._cached(table.name()), location, new)
        if length is not None:
            store_view(location, length, new, replaces=held)  # a new process reading the port need not parse it
            tell_listeners(held, base, location, length, new, io)  # the history journal (`meshlake.query`)
        delete_superseded(io, base, new)
        return CommitTableResponse(metadata=new, metadata_location=location)

    @staticmethod
    def _delete_old_metadata(io: FileIO, base: TableMetadata, metadata: TableMetadata) -> None:
        """Nothing: `commit_table` deletes superseded metadata files itself, for every caller."""

    def _commit_and_clean(
        self, table: Table, requirements: tuple[TableRequirement, ...], updates: tuple[TableUpdate, ...]
    ) -> CommitTableResponse:
        response = super().commit_table(table, requirements, updates)
        if response.metadata_location != table.metadata_location:
            self.metadata_cache.put(self._cached(table.name()), response.metadata_location, response.metadata)
            delete_superseded(table.io, table.metadata, response.metadata)
        return response

    def _new_location(self, metadata: TableMetadata, held: str) -> str:
        provider = load_location_provider(metadata.location, metadata.properties)
        return provider.new_table_metadata_file_location(self._parse_metadata_version(held) + 1)

    def _swap(self, table: Table, held: str, location: str) -> bool:
        """Point the catalog row at `location` if it still points at `held`; False if it does not."""
        from sqlalchemy import update

        identifier = table.name()
        namespace = Catalog.namespace_to_string(Catalog.namespace_from(identifier))
        statement = (
            update(IcebergTables)
            .where(
                IcebergTables.catalog_name == self.name,
                IcebergTables.table_namespace == namespace,
                IcebergTables.table_name == Catalog.table_name_from(identifier),
                IcebergTables.metadata_location == held,
            )
            .values(metadata_location=location, previous_metadata_location=held)
        )
        with self.engine.begin() as connection:  # a Core transaction: an ORM session costs more than the update
            result: Any = connection.execute(statement)
            return bool(result.rowcount >= 1)  # none updated: the transaction changed nothing


def _write(io: FileIO, location: str, metadata: TableMetadata) -> int | None:
    """Write the metadata file; its length when it is not compressed."""
    chunks = metadata_json(metadata)
    compressor = Compressor.get_compressor(location)
    compressed = not isinstance(compressor, NoopCompressor)
    if compressed:
        chunks = [compressor.bytes_compressor()(b"".join(chunks))]
    with io.new_output(location).create(overwrite=False) as stream:
        for chunk in chunks:
            stream.write(chunk)
    return None if compressed else sum(len(chunk) for chunk in chunks)
