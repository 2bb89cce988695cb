"""Keyed writes on the engine: the upsert join and deletes run on the workers, as merge-on-read position deletes.

A distributed upsert (or delete by key) of a port whose rows can be removed by position deletes (format v2, its
`write_mode` merge-on-read or auto) never brings the keys to the driver:

1. the new keys are read on the workers (an upsert's from the files the workers just staged, one column each; a
   delete's from the frame), and their count, duplicates (a few examples) and per-column range come back;
2. the driver prunes the data files of the pinned snapshot by that range (manifest bounds) and hands each worker
   some of them (`KeyedPlan`);
3. each worker reads the key columns and row positions of its files, their delete files applied
   (`meshlake.write.positions.live_positions`), the engine semi-joins them with the new keys (a shuffle by key)
   and groups the matched positions by data file; each group is written as one file-scoped position delete file
   (`meshlake.write.positions.write_file_deletes`), named by the write's run like its data files, so an aborted
   write's `DistributedWrite.abort` finds and deletes them too.

`where=` deletes need no join: each worker matches meshlake's filter on the live rows of its files and writes
their delete files. Only the delete files' metadata comes back to the driver, which commits new data files and
delete files in one gated snapshot on the pinned snapshot (`meshlake.write.prewritten.stage_written_change`).

What runs on a worker (`read_*`, `write_*`) takes a `KeyedSpec`, which pickles; the engines' pipelines are in
`daft_keyed` and `ray_keyed`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

import pyarrow as pa
from pyiceberg.manifest import DataFile
from pyiceberg.table.metadata import TableMetadata

from meshlake.errors import ContractViolationError

if TYPE_CHECKING:
    from pyiceberg.table import Table

    from meshlake.distributed.unique import KeyChunk, UniqueCheck
    from meshlake.quality.metrics import KeyCounts
    from meshlake.query.plan import ScanPlan
    from meshlake.write.positions import PositionDeletes

FILE_INDEX = "__ml_file"
"""A live row's data file, as its index in `KeyedPlan.files` (an integer shuffles cheaper than a path)."""
POS = "__ml_pos"
FILE = "__ml_delete_file"
"""A written delete file's `DataFile`, pickled (what a worker hands back to the driver)."""
REMOVED = "__ml_removed"
BROADCAST_KEYS = 1_000_000
"""Up to this many new keys, the join sends them to every worker (Daft's broadcast join) instead of shuffling the
old rows by key too: a 1 % upsert then moves its keys, not the table's."""
FILES_PER_TASK = 4
"""Data files one worker reads per task of the join (fewer tasks than files: each costs a DuckDB connection)."""
EXAMPLES = 5
"""Duplicate keys shown in an error (the count is exact)."""


@dataclass(frozen=True)
class KeyedSpec:
    """What a worker of a keyed write needs (it pickles)."""

    address: str
    metadata: TableMetadata
    io_properties: dict[str, str]
    file_prefix: str
    primary_key: tuple[str, ...]

    def table(self) -> Table:
        """The port's table as the write started from it (for its FileIO and data file locations)."""
        from pyiceberg.catalog.noop import NoopCatalog
        from pyiceberg.io import load_file_io
        from pyiceberg.table import Table

        io = load_file_io(self.io_properties, self.metadata.location)
        identifier = tuple(self.address.split("."))
        return Table(identifier, self.metadata, self.metadata.location, io, NoopCatalog("meshlake-worker"))

    def key_schema(self) -> pa.Schema:
        """The primary-key columns as the port's schema types them (no field ids)."""
        from pyiceberg.io.pyarrow import schema_to_pyarrow

        target = schema_to_pyarrow(self.metadata.schema(), include_field_ids=False)
        return pa.schema([target.field(name) for name in self.primary_key])

    def live_schema(self) -> pa.Schema:
        """What `read_live_keys` returns."""
        return self.key_schema().append(pa.field(FILE_INDEX, pa.int32())).append(pa.field(POS, pa.int64()))


DELETES_SCHEMA = pa.schema([pa.field(FILE, pa.binary()), pa.field(REMOVED, pa.int64())])
"""What `write_grouped_deletes` and `write_where_deletes` return: one row per delete file written."""


# -- on the workers ------------------------------------------------------------------------------------------------


def read_staged_keys(spec: KeyedSpec, paths: Sequence[str]) -> pa.Table:
    """The primary-key columns of data files this write staged (written by meshlake: columns named as the schema)."""
    import pyarrow.parquet as pq

    io = spec.table().io
    schema = spec.key_schema()
    parts = []
    for path in paths:
        with io.new_input(path).open() as stream:
            parts.append(pq.read_table(stream, columns=list(spec.primary_key)).cast(schema))
    return pa.concat_tables(parts) if parts else schema.empty_table()


def read_live_keys(spec: KeyedSpec, plan: ScanPlan, first: int) -> pa.Table:
    """The key columns, data file (its index in `KeyedPlan.files`: `first` is the index of `plan`'s first file) and
    row position of the live rows of `plan`'s files (its schema: the keys)."""
    import pyarrow.compute as pc

    from meshlake.write.positions import live_positions

    rows = live_positions(plan, spec.table().io)
    schema = spec.live_schema()
    index = pc.add(rows.column(FILE_INDEX), first).cast(pa.int32())
    rows = rows.set_column(rows.schema.get_field_index(FILE_INDEX), FILE_INDEX, index)
    return pa.Table.from_arrays([rows.column(f.name).cast(f.type) for f in schema], schema=schema)


def write_grouped_deletes(spec: KeyedSpec, files: Sequence[DataFile], groups: pa.Table) -> pa.Table:
    """Write one position delete file per row of `groups` (`__ml_file`: an index in `files`, `__ml_pos`: the list
    of its rows' positions); on any error the files written here are deleted first."""
    import pickle

    from meshlake.write.positions import write_file_deletes

    table = spec.table()
    written: list[DataFile] = []
    removed: list[int] = []
    try:
        indexes = groups.column(FILE_INDEX).to_pylist()
        positions = groups.column(POS)
        for i, index in enumerate(indexes):
            values = positions[i].values
            written.append(write_file_deletes(table, files[index], values, name_prefix=spec.file_prefix))
            removed.append(len(values))
    except BaseException:
        _delete(table, written)
        raise
    return pa.table({FILE: [pickle.dumps(f) for f in written], REMOVED: removed}, schema=DELETES_SCHEMA)


def group_positions(matched: pa.Table) -> pa.Table:
    """(`__ml_file`, `__ml_pos`) rows as one row per data file with the list of its positions."""
    return matched.group_by(FILE_INDEX).aggregate([(POS, "list")]).rename_columns([FILE_INDEX, POS])


def write_where_deletes(spec: KeyedSpec, files: Sequence[DataFile], plan: ScanPlan, where: str) -> pa.Table:
    """Position delete files for the live rows of `plan`'s files (`files`: their `DataFile`s, in order) matching
    `where` (meshlake's filter text, parsed here), one per data file holding any."""
    import pyarrow.compute as pc
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    from meshlake.write.positions import live_positions
    from meshlake.write.rowfilter import row_filter

    rows = live_positions(plan, spec.table().io)
    target = schema_to_pyarrow(plan.schema, include_field_ids=True)
    data = pa.Table.from_arrays([rows.column(f.name).cast(f.type) for f in target], schema=target)
    matches = pc.fill_null(row_filter(where, spec.metadata.schema()).matches(data), False)
    return write_grouped_deletes(spec, files, group_positions(rows.select([FILE_INDEX, POS]).filter(matches)))


def _delete(table: Table, files: Sequence[DataFile]) -> None:
    for f in files:
        try:
            table.io.delete(f.file_path)
        except Exception:
            continue


# -- what comes back to the driver ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyStats:
    """The new keys of a keyed write, as the engine counted them: never the keys themselves."""

    rows: int
    duplicated: int = 0
    """Rows whose key occurs more than once among the new rows."""
    examples: tuple[tuple[Any, ...], ...] = ()
    low: tuple[Any, ...] = ()
    high: tuple[Any, ...] = ()
    """Per key column, the smallest and largest new value (what the driver prunes the old files by)."""

    def bounds(self, schema: pa.Schema) -> pa.Table:
        """The keys' range as a two-row table (`meshlake.write.rewrite.key_filter` makes it a pruning filter)."""
        return pa.Table.from_arrays(
            [pa.array([lo, hi], f.type) for f, lo, hi in zip(schema, self.low, self.high, strict=True)], schema=schema
        )

    def check_unique(self, address: str, primary_key: Sequence[str]) -> None:
        """`ContractViolationError` when a key repeats among the new rows (an upsert needs one row per key)."""
        if not self.duplicated:
            return
        shown = ", ".join("(" + ", ".join(repr(v) for v in key) + ")" for key in self.examples)
        raise ContractViolationError(
            f"{address}: the data repeats a primary key ({', '.join(primary_key)}): {self.duplicated} row(s) share "
            f"a key with another, e.g. {shown}; upsert needs one row per key. Nothing was written.",
            address=address,
            column=primary_key[0],
            value=self.examples[0] if self.examples else None,
        )


class KeyEngine(Protocol):
    """What an engine runs of a keyed write (`daft_keyed.DaftKeys`, `ray_keyed.RayKeys`)."""

    name: str

    def staged_keys(self, spec: KeyedSpec, chunks: Sequence[Sequence[str]]) -> Any:
        """The key columns of the staged files, read on the workers (a lazy frame of the engine)."""
        ...

    def frame_keys(self, spec: KeyedSpec, frame: Any) -> Any:
        """The key columns of a caller's frame, cast to the port's key types."""
        ...

    def stats(self, spec: KeyedSpec, keys: Any) -> tuple[Any, KeyStats]:
        """Count the keys, their duplicates and range on the engine; the keys are read once, and returned
        materialised on the workers for the join."""
        ...

    def collect(self, keys: Any) -> pa.Table:
        """The keys on the driver (the copy-on-write fallback of a delete by key)."""
        ...

    def join_deletes(self, spec: KeyedSpec, keys: Any, plan: KeyedPlan, broadcast: bool) -> pa.Table:
        """Semi-join the live keys of `plan`'s chunks with `keys` (`broadcast`: the keys are few enough to send to
        every worker instead of shuffling both sides by key), write the delete files: `DELETES_SCHEMA` rows."""
        ...

    def where_deletes(self, spec: KeyedSpec, plan: KeyedPlan, where: str) -> pa.Table:
        """Write the delete files of the rows matching `where`, one worker per chunk: `DELETES_SCHEMA` rows."""
        ...

    def key_counts(self, spec: KeyedSpec, check: UniqueCheck, chunks: Sequence[KeyChunk]) -> KeyCounts:
        """A gate's uniqueness check of the staged snapshot on the engine (`meshlake.distributed.unique`)."""
        ...


# -- on the driver -------------------------------------------------------------------------------------------------


@dataclass
class KeyedPlan:
    """The data files of the pinned snapshot a keyed write may touch, in chunks for the workers."""

    chunks: list[ScanPlan]
    files: list[DataFile]
    """Every file of the chunks, in order: chunk i holds `files[starts[i]:starts[i] + len(chunks[i].tasks)]`."""
    starts: list[int] = field(default_factory=list)
    record_counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        table: Table,
        base_id: int | None,
        prune: Any,
        columns: Sequence[str] | None,
        per_task: int = FILES_PER_TASK,
    ) -> KeyedPlan:
        """The files of snapshot `base_id` that `prune` (a pyiceberg expression) may match, their plan narrowed to
        `columns` (None: every column)."""
        from meshlake.query.plan import cached_plan

        if base_id is None:
            return cls([], [])
        scan = table.scan(row_filter=prune, snapshot_id=base_id)
        found = {task.file.file_path: task.file for task in scan.plan_files()}
        plan = cached_plan(table, base_id)
        schema = table.schema().select(*columns) if columns is not None else plan.schema
        tasks = [task for task in plan.tasks if task.path in found]
        starts = list(range(0, len(tasks), per_task))
        chunks = [replace(plan, schema=schema, tasks=tuple(tasks[i : i + per_task])) for i in starts]
        files = [found[task.path] for task in tasks]
        return cls(chunks, files, starts, {task.path: task.record_count for task in tasks})

    def chunk_files(self, i: int) -> list[DataFile]:
        """The `DataFile`s of chunk i, in order."""
        return self.files[self.starts[i] : self.starts[i] + len(self.chunks[i].tasks)]

    def deletes(self, written: pa.Table) -> PositionDeletes:
        """The delete files the workers wrote (`DELETES_SCHEMA` rows), as a local merge-on-read change has them."""
        import pickle

        from meshlake.write.positions import PositionDeletes

        files = sorted((pickle.loads(b) for b in written.column(FILE).to_pylist()), key=lambda f: f.file_path)
        by_path = {f.file_path: f for f in self.files}
        referenced = sorted({self._referenced(f) for f in files})
        removed = sum(written.column(REMOVED).to_pylist())
        touched = sum(self.record_counts[path] for path in referenced)
        return PositionDeletes(tuple(files), tuple(by_path[p] for p in referenced), removed, touched)

    @staticmethod
    def _referenced(delete_file: DataFile) -> str:
        from pyiceberg.conversions import from_bytes
        from pyiceberg.types import StringType

        from meshlake.query.plan import FILE_PATH_FIELD_ID

        return str(from_bytes(StringType(), delete_file.lower_bounds[FILE_PATH_FIELD_ID]))
