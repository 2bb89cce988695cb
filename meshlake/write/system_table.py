"""meshlake's own record tables in the system namespace `meshlake.system` (quality results, the access log).

Each is an ordinary Iceberg table, so it reads through `lake.duckdb()` like any port
(`SELECT * FROM meshlake.system.<name>`). Rows are appended with meshlake's own commit: one data file and
one snapshot per append (a caller batches what it has: a gated write's results and any recovered verdicts go
together), re-applied on `main`'s head when another process appended first, so concurrent writers never lose
rows. A table is created on first use; one made by an older version gets the columns it lacks (optional, NULL
in older rows) and `RECORD_PROPERTIES` the first time this version opens it. The table handle is kept per
catalog (a stale one costs a retry, never a lost row).

An append costs the same however much the lake did before: commits merge the table's manifests
(`meshlake.write.manifest_merge`), past `TRIM_ABOVE` snapshots the oldest are expired (so that the metadata
every append writes stays small), and only the last 10 metadata files are kept.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from dataclasses import dataclass
from functools import cached_property

import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import CommitFailedException, NoSuchTableError, TableAlreadyExistsError
from pyiceberg.schema import Schema
from pyiceberg.table import Table
from pyiceberg.table.refs import MAIN_BRANCH
from pyiceberg.types import IcebergType, NestedField

from meshlake.catalog.catalogs import create_namespace_once
from meshlake.contract.address import SYSTEM_DOMAIN, location_under
from meshlake.contract.deploy import MANIFEST_MERGING, METADATA_RETENTION

SYSTEM_PRODUCT = "system"
TRIM_ABOVE = 300
KEEP_SNAPSHOTS = 100
APPEND_ATTEMPTS = 100
RECORD_PROPERTIES = {**METADATA_RETENTION, **MANIFEST_MERGING}
"""Set on every record table (added to older ones on first use): old metadata files deleted, manifests merged."""


@dataclass(frozen=True, eq=False)
class SystemTable:
    """One record table `meshlake.system.<name>`: its columns (name, type, required) and a comment.

    Nested types carry their own field ids; they need only be distinct from the top-level ids 1..n
    (the catalog assigns fresh ids when it creates the table).
    """

    name: str
    fields: tuple[tuple[str, IcebergType, bool], ...]
    comment: str

    @property
    def identifier(self) -> tuple[str, str, str]:
        return (SYSTEM_DOMAIN, SYSTEM_PRODUCT, self.name)

    @property
    def address(self) -> str:
        return ".".join(self.identifier)

    @cached_property
    def schema(self) -> Schema:
        return Schema(
            *(NestedField(i + 1, name, kind, required=req) for i, (name, kind, req) in enumerate(self.fields))
        )

    @cached_property
    def arrow_schema(self) -> pa.Schema:
        from pyiceberg.io.pyarrow import schema_to_pyarrow

        return schema_to_pyarrow(self.schema)

    def table(self, catalog: Catalog, warehouse: str | None) -> Table:
        """The table, created on first use (under `warehouse`, else where the catalog puts it) and migrated."""
        with contextlib.suppress(NoSuchTableError):
            return self._migrated(catalog.load_table(self.identifier))
        namespace = (SYSTEM_DOMAIN, SYSTEM_PRODUCT)
        create_namespace_once(catalog, namespace, {"owner": "meshlake", "description": "meshlake records"})
        location = location_under(warehouse, *self.identifier) if warehouse and "://" in warehouse else None
        try:
            return catalog.create_table(
                self.identifier,
                schema=self.schema,
                location=location,
                properties={
                    "format-version": "2",
                    "write.parquet.compression-codec": "zstd",
                    "comment": self.comment,
                    **RECORD_PROPERTIES,
                },
            )
        except TableAlreadyExistsError:
            return self._migrated(catalog.load_table(self.identifier))

    def _migrated(self, table: Table) -> Table:
        """The table with every column of `fields` (added as optional columns where missing), and the
        properties that keep its metadata small (`RECORD_PROPERTIES`, set where missing)."""
        for _ in range(5):
            present = {field.name for field in table.schema().fields}
            missing = [(name, kind) for name, kind, _ in self.fields if name not in present]
            unset = {k: v for k, v in RECORD_PROPERTIES.items() if k not in table.properties}
            if not missing and not unset:
                return table
            try:
                if missing:
                    with table.update_schema() as update:
                        for name, kind in missing:
                            update.add_column(name, kind)
                if unset:
                    table.refresh().transaction().set_properties(unset).commit_transaction()
            except (CommitFailedException, ValueError):
                pass  # another process migrated it first (or raced us): look again
            table = table.refresh()
        return table

    def append(self, catalog: Catalog, warehouse: str | None, rows: pa.Table) -> Table:
        """Append `rows` (in `arrow_schema`) as one snapshot; the table is created first if it does not exist.

        Raises what the catalog or the storage raise; nothing is committed then (the files written are deleted).
        """
        from meshlake.contract.stamps import Stamps, default_writer, new_run_id

        with _HANDLES_LOCK:
            table = _HANDLES.get(catalog, {}).get(self.name)
        if table is None:
            table = self.table(catalog, warehouse)
        stamps = Stamps(writer=default_writer(), run_id=new_run_id(), product_version="1", mode="append")
        try:
            table = _append(catalog, table, rows, stamps.properties())
        except NoSuchTableError:  # dropped since this process last wrote it: create it again
            table = _append(catalog, self.table(catalog, warehouse), rows, stamps.properties())
        table = _trim(catalog, table)
        with _HANDLES_LOCK:
            _HANDLES.setdefault(catalog, {})[self.name] = table
        return table


_HANDLES: weakref.WeakKeyDictionary[Catalog, dict[str, Table]] = weakref.WeakKeyDictionary()
"""Each system table as this process last committed it, per catalog and table name."""
_HANDLES_LOCK = threading.Lock()


def forget_handles() -> None:
    """Drop the kept table handles (the next append loads each table again)."""
    with _HANDLES_LOCK:
        _HANDLES.clear()


def _append(catalog: Catalog, table: Table, rows: pa.Table, properties: dict[str, str]) -> Table:
    """Commit `rows` as one appended data file on `main`, re-applied on the head when `main` moved."""
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    from meshlake.write.commit import Change, LostRaces, MainMovedError, commit_snapshot, main_head
    from meshlake.write.datafiles import DataFileWriter

    target = schema_to_pyarrow(table.schema(), include_field_ids=True)
    batches = rows.select(target.names).cast(target).to_batches()
    writer = DataFileWriter(table.metadata, table.io)
    added = tuple(writer.write_all(batches))
    change = Change("append", added, new_rows=added)
    base_id = main_head(table)
    try:
        with LostRaces(APPEND_ATTEMPTS - 1) as races:
            while True:
                try:
                    table, _snapshot = commit_snapshot(
                        catalog, table, change, branch=MAIN_BRANCH, base_id=base_id, properties=properties, races=races
                    )
                    return table
                except MainMovedError as moved:  # another writer appended first: an append applies on any head
                    if not races.lost(moved.table):
                        raise CommitFailedException(
                            f"{table.name()}: main kept moving; the rows were not appended"
                        ) from None
                    table, base_id = moved.table, moved.head
    except BaseException:
        for path in writer.written_paths:
            with contextlib.suppress(Exception):
                table.io.delete(path)
        raise


def _trim(catalog: Catalog, table: Table) -> Table:
    """Keep a record table's metadata small: past `TRIM_ABOVE` snapshots, expire all but the newest 100.

    Every append adds a snapshot to the metadata each commit writes, so an untrimmed record table makes every
    append slower. Its rows stay (expiry removes snapshots, not data); only time travel on the record table
    itself is bounded. `meshlake maintain` removes the data files nothing needs. The expiry is one commit
    that asserts every ref it saw; if another process moved one, the next append trims.
    """
    from pyiceberg.table.update import AssertRefSnapshotId, RemoveSnapshotsUpdate

    from meshlake.catalog.commits import commit_table
    from meshlake.catalog.loading import snapshot_count
    from meshlake.write.commit import updated_table

    if snapshot_count(table.metadata) <= TRIM_ABOVE:
        return table
    snapshots = table.metadata.snapshots
    keep = {ref.snapshot_id for ref in table.metadata.refs.values()}
    newest = sorted(snapshots, key=lambda s: s.timestamp_ms)[-KEEP_SNAPSHOTS:]
    keep.update(s.snapshot_id for s in newest)
    expired = [s.snapshot_id for s in snapshots if s.snapshot_id not in keep]
    refs = table.metadata.refs.items()
    seen = tuple(AssertRefSnapshotId(ref=name, snapshot_id=ref.snapshot_id) for name, ref in refs)
    try:
        response = commit_table(catalog, table, seen, (RemoveSnapshotsUpdate(snapshot_ids=expired),))
    except Exception:
        return table
    return updated_table(table, response.metadata, response.metadata_location)
