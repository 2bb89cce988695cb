"""A scan plan as a lazy Polars frame over the planned Parquet files, read in place.

Polars' own Iceberg reader does the heavy lifting: `scan_parquet` with the (private, but what
`pl.scan_iceberg` itself uses) Iceberg column mapping resolves every column, nested ones included, by field
id, applies the table's name mapping to files without ids and casts widened types. The lazy frame keeps
predicate and projection pushdown.

Data files with file-scoped position deletes (each delete file lists rows of that file only, as meshlake writes them)
are read with the files around them in one scan with a row index running across the files, keeping the rows whose
index is not among the deleted positions, each file's shifted by the record counts before it (`is_in` on one sorted
list; each delete file is read once and kept, `DeletePositions`; each file's row count is checked once against its
manifest entry, `RowCounts`). One scan costs about what the compacted read costs; a scan per dirty file, as before,
cost 0.2-0.3x of it more, and a keep mask gathered at the row index stops the query's filters from going into the
scan (docs/write-modes.md, "Polars"). Polars 2.1 can apply such delete files itself (`_deletion_files`), but then
reads every row group of the file whatever the query's filter. Past `FILTERED_MAX_FILES` dirty files the native
reader takes them.

Polars' native reader refuses position delete files that span several data files and does not do equality
deletes, so data files with such deletes are read with a row index and anti-joined instead:

- position deletes on (data file, row number), with delete sequence number >= the data file's;
- equality deletes on the equality columns (NULL matches NULL): a row goes if a delete row with the same
  values is newer than its data file and global or of its partition.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import pyarrow as pa
from pyiceberg.io import FileIO
from pyiceberg.schema import Schema

from meshlake.query.errors import UnsupportedScanError
from meshlake.query.plan import DataTask, DeleteFile, ScanPlan
from meshlake.query.policy import ReadPolicy, restricted

if TYPE_CHECKING:
    import polars as pl

_FILE = "__ml_file"
_K = TypeVar("_K")
_ROW = "__ml_row"
_DELETE_FILE = "__ml_delete_file"


def to_polars(
    plan: ScanPlan,
    *,
    io: FileIO | None = None,
    storage_options: Mapping[str, Any] | None = None,
    policy: ReadPolicy | None = None,
) -> pl.LazyFrame:
    """A lazy frame reading `plan`; an empty plan gives an empty frame with the snapshot's schema.

    Object-store credentials come from `storage_options`, else from `io` (or the plan's) FileIO properties.
    With a restricting `policy`, the frame is filtered and masked for its reader.
    """
    frame = _frame(plan, io, storage_options)
    if restricted(policy):
        return policy.frame(frame, plan.schema)
    return frame


def _frame(plan: ScanPlan, io: FileIO | None, storage_options: Mapping[str, Any] | None) -> pl.LazyFrame:
    import polars as pl

    try:
        _check_readable(plan)
        if storage_options is not None:
            options: dict[str, Any] | None = dict(storage_options)
        else:
            options = object_store_options(io.properties if io is not None else plan.io_properties)
        arrow_schema = schema_to_pyarrow(plan.schema)
        if not plan.tasks:
            return pl.LazyFrame(pl.from_arrow(arrow_schema.empty_table()))
        native = [t for t in plan.tasks if _native(t)]
        joined = [t for t in plan.tasks if not _native(t)]
        frames = _scan_file_scoped(plan, native, options) if native else []
        if joined:
            frames.append(_scan_joined(plan, joined, options))
        return frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical")
    except UnsupportedScanError as exc:
        raise exc.at(plan.name) from None


def polars_path(path: str) -> str:
    """A file location as Polars opens it (local `file:` URIs as plain paths)."""
    if path.startswith("file://"):
        path = path[len("file://") :]
        return path[len("localhost") :] if path.startswith("localhost/") else path
    if path.startswith("file:/"):
        return path[len("file:") :]
    return path


def schema_to_pyarrow(schema: Schema) -> pa.Schema:
    """pyiceberg's Arrow schema (with field ids); imported late, as `pyiceberg.io.pyarrow` pulls in pandas."""
    from pyiceberg.io.pyarrow import schema_to_pyarrow as convert

    converted: pa.Schema = convert(schema)
    return converted


def _check_readable(plan: ScanPlan) -> None:
    if plan.tasks and plan.name_mapping and plan.identity_sources & set(plan.schema.field_ids):
        # Files imported without field ids (migrated Hive data) may lack their identity-partition columns,
        # whose values then live only in the manifests; this reader does not fill them in.
        raise UnsupportedScanError(
            "the table has a name mapping and identity partitions: imported files may lack partition columns",
            hint="read it with pyiceberg, or rewrite the imported files",
        )
    for task in plan.tasks:
        files: list[DataTask | DeleteFile] = [task, *task.position_deletes, *task.equality_deletes]
        for file in files:
            if file.file_format.upper() != "PARQUET":
                raise UnsupportedScanError(
                    f"file {file.path} is {file.file_format} (only Parquet data and delete files are read)",
                    hint="compact the table, or read it with an engine that applies deletion vectors",
                )


def _native(task: DataTask) -> bool:
    return not task.equality_deletes and all(d.referenced_file == task.path for d in task.position_deletes)


def object_store_options(properties: Mapping[str, str]) -> dict[str, Any] | None:
    """Polars (object_store) options for a FileIO's properties; None for local files."""
    if not properties:
        return None
    try:
        from polars.io.iceberg._dataset import _convert_iceberg_to_object_store_storage_options
    except ImportError:  # pragma: no cover - a later Polars moved it; pass storage_options explicitly
        return None
    options: dict[str, Any] = _convert_iceberg_to_object_store_storage_options(dict(properties))
    if str(options.get("aws_endpoint_url", "")).startswith("http://"):
        options.setdefault("aws_allow_http", "true")  # object_store refuses plain-HTTP endpoints otherwise
    return options or None


def _scan(
    plan: ScanPlan,
    paths: Sequence[str],
    options: dict[str, Any] | None,
    arrow_schema: pa.Schema,
    **kwargs: Any,
) -> pl.LazyFrame:
    import polars as pl
    from polars.io.scan_options.cast_options import ScanCastOptions

    mapping = {k: list(v) for k, v in plan.name_mapping.items()} if plan.name_mapping else None
    defaults = _initial_defaults(plan.schema)
    if defaults:
        kwargs["_default_values"] = ("iceberg", ({}, defaults))
    return pl.scan_parquet(
        [polars_path(p) for p in paths],
        glob=False,
        cast_options=ScanCastOptions._default_iceberg(),
        missing_columns="insert",
        extra_columns="ignore",
        storage_options=options,
        # Without an explicit schema Polars 2.1 takes the first file's names (and panics on some layouts).
        schema=pl.Schema(arrow_schema),
        _column_mapping=("iceberg-column-mapping", arrow_schema, mapping),
        **kwargs,
    )


def _initial_defaults(schema: Schema) -> dict[int, pl.Series]:
    import polars as pl

    out: dict[int, pl.Series] = {}
    for f in schema.fields:
        value = getattr(f, "initial_default", None)
        if value is not None:
            _, dtype = pl.Schema(schema_to_pyarrow(Schema(f))).popitem()
            out[f.field_id] = pl.Series([value], dtype=dtype)
    return out


def _scan_native(
    plan: ScanPlan, tasks: Sequence[DataTask], options: dict[str, Any] | None, arrow_schema: pa.Schema
) -> pl.LazyFrame:
    deletes = {i: [polars_path(d.path) for d in t.position_deletes] for i, t in enumerate(tasks) if t.position_deletes}
    extra: dict[str, Any] = {"_deletion_files": ("iceberg", (deletes, {}))} if deletes else {}
    return _scan(plan, [t.path for t in tasks], options, arrow_schema, **extra)


FILTERED_MAX_FILES = 256
"""Up to this many data files with file-scoped position deletes are filtered by row index in one scan; more go to
Polars' native deletion-file reader (the positions of thousands of delete files are not worth keeping)."""


def _scan_file_scoped(plan: ScanPlan, tasks: Sequence[DataTask], options: dict[str, Any] | None) -> list[pl.LazyFrame]:
    """`tasks` (no equality or shared deletes) in plan order: the files from the first dirty one to the last in one
    scan with a row index running across them, keeping the rows whose index is not among the deleted positions
    (each file's shifted by the rows before it), the clean files before and after in plain scans; one native scan
    past `FILTERED_MAX_FILES` dirty files or when the row index cannot hold the span's rows."""
    import polars as pl

    arrow_schema = schema_to_pyarrow(plan.schema)
    dirty = [i for i, t in enumerate(tasks) if t.position_deletes]
    if not 0 < len(dirty) <= FILTERED_MAX_FILES:
        return [_scan_native(plan, tasks, options, arrow_schema)]
    before, span, after = tasks[: dirty[0]], tasks[dirty[0] : dirty[-1] + 1], tasks[dirty[-1] + 1 :]
    top = (1 << 32) - 1 if pl.get_index_type() == pl.UInt32 else (1 << 63) - 1
    if any(t.record_count < 0 for t in span) or sum(t.record_count for t in span) > top:
        return [_scan_native(plan, tasks, options, arrow_schema)]
    row_counts.check(span, options)
    deleted = delete_positions.across(span, options)
    frame = _scan(plan, [t.path for t in span], options, arrow_schema, row_index_name=_ROW)
    frame = frame.filter(~pl.col(_ROW).is_in(deleted.implode())).drop(_ROW)
    head = [_scan_native(plan, before, options, arrow_schema)] if before else []
    tail = [_scan_native(plan, after, options, arrow_schema)] if after else []
    return [*head, frame, *tail]


class RowCounts:
    """Each data file's rows as its Parquet footer counts them, checked once per file against its manifest entry's
    record count (data files never change), so a row index running across files cannot be shifted by a wrong
    count: a mismatch refuses the read. Keeps up to `max_files` checked paths (an LRU)."""

    def __init__(self, max_files: int = 1 << 16) -> None:
        self.max_files = max_files
        self._checked: OrderedDict[tuple[str, int], None] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, tasks: Sequence[DataTask], options: dict[str, Any] | None) -> None:
        import polars as pl

        with self._lock:
            wanted = [t for t in tasks if (t.path, t.record_count) not in self._checked]
        for task in wanted:
            counted = (
                pl.scan_parquet(polars_path(task.path), glob=False, storage_options=options).select(pl.len()).collect()
            ).item()
            if counted != task.record_count:
                raise UnsupportedScanError(
                    f"data file {task.path} holds {counted} rows, its manifest entry says {task.record_count}",
                    hint="its position deletes cannot be placed: rewrite its manifest entry or compact the table",
                )
            with self._lock:
                self._checked[(task.path, task.record_count)] = None
                while len(self._checked) > self.max_files:
                    self._checked.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._checked.clear()


row_counts = RowCounts()


class DeletePositions:
    """The positions file-scoped delete files list, read once and kept (delete files never change): per delete file
    as read, per data file's set of delete files as one sorted, distinct Series of Polars' row-index type, and per
    span of data files read in one scan as their positions shifted into its row index (`across`). A snapshot after
    an upsert reads only its new delete files. All three are LRUs bounded by `max_positions` each."""

    def __init__(self, max_positions: int = 1 << 24) -> None:
        self.max_positions = max_positions
        self._files: _Kept[str] = _Kept(max_positions)
        self._sets: _Kept[tuple[str, ...]] = _Kept(max_positions)
        self._across: _Kept[tuple[str, ...]] = _Kept(max_positions)
        self._lock = threading.Lock()

    def of(self, task: DataTask, options: dict[str, Any] | None) -> pl.Series:
        """The rows `task`'s position deletes remove (positions past the row index's range remove nothing)."""
        return self.load([task], options)[_key(task)]

    def load(self, tasks: Sequence[DataTask], options: dict[str, Any] | None) -> dict[tuple[str, ...], pl.Series]:
        """`of` for each of `tasks`, by its key; the delete files not kept are read in one scan."""
        import polars as pl

        keys = list(dict.fromkeys(map(_key, tasks)))
        with self._lock:
            found = {key: kept for key in keys if (kept := self._sets.get(key)) is not None}
            wanted = sorted({path for key in keys if key not in found for path in key})
            files = {path: kept for path in wanted if (kept := self._files.get(path)) is not None}
        read = _read_positions([path for path in wanted if path not in files], options)
        files |= read
        index_type = pl.get_index_type()
        made = {
            key: pl.concat([files[path] for path in key]).unique().sort().cast(index_type)
            for key in keys
            if key not in found
        }
        with self._lock:
            for path, positions in read.items():
                self._files.put(path, positions)
            for key, positions in made.items():
                self._sets.put(key, positions)
        return found | made

    def across(self, tasks: Sequence[DataTask], options: dict[str, Any] | None) -> pl.Series:
        """The deleted rows of `tasks` read as one scan, in its row index: each file's positions shifted by the
        record counts of the files before it (one sorted Series, kept like the sets)."""
        import polars as pl

        key = tuple(f"{t.path}\0{t.record_count}\0{chr(0).join(_key(t))}" for t in tasks)
        with self._lock:
            kept = self._across.get(key)
        if kept is not None:
            return kept
        sets = self.load([t for t in tasks if t.position_deletes], options)
        index_type = pl.get_index_type()
        shifted, offset = [], 0
        for task in tasks:
            if task.position_deletes:
                positions = sets[_key(task)]
                shifted.append(positions.filter(positions < task.record_count).cast(pl.Int64) + offset)
            offset += task.record_count
        across = pl.concat(shifted).cast(index_type) if shifted else pl.Series("pos", [], dtype=index_type)
        with self._lock:
            self._across.put(key, across)
        return across

    def clear(self) -> None:
        with self._lock:
            self._files.clear()
            self._sets.clear()
            self._across.clear()


class _Kept(Generic[_K]):
    """An LRU of Series, bounded by their total length (the newest is kept whatever its length)."""

    def __init__(self, max_length: int) -> None:
        self.max_length = max_length
        self._items: OrderedDict[_K, pl.Series] = OrderedDict()
        self._length = 0

    def get(self, key: _K) -> pl.Series | None:
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        return None

    def put(self, key: _K, value: pl.Series) -> None:
        if key not in self._items:
            self._items[key] = value
            self._length += len(value)
        while self._length > self.max_length and len(self._items) > 1:
            _, dropped = self._items.popitem(last=False)
            self._length -= len(dropped)

    def clear(self) -> None:
        self._items.clear()
        self._length = 0

    def __len__(self) -> int:
        return self._length


delete_positions = DeletePositions()


def _key(task: DataTask) -> tuple[str, ...]:
    return tuple(sorted(d.path for d in task.position_deletes))


def _read_positions(paths: Sequence[str], options: dict[str, Any] | None) -> dict[str, pl.Series]:
    """The positions each delete file of `paths` lists that a row index can hold (Int64), all read in one scan."""
    import polars as pl

    if not paths:
        return {}
    top = (1 << 32) - 1 if pl.get_index_type() == pl.UInt32 else (1 << 63) - 1
    pos = pl.col("pos").cast(pl.Int64)
    rows = (
        pl.scan_parquet(
            [polars_path(p) for p in paths],
            glob=False,
            storage_options=options,
            include_file_paths=_DELETE_FILE,
            schema={"pos": pl.Int64},  # a delete file may hold `row` too (the spec's deleted row), or not
            extra_columns="ignore",
        )
        .select(pos, pl.col(_DELETE_FILE).cast(pl.Categorical))
        .filter(pos.is_between(0, top))
        .collect()
    )
    by_file = {
        str(name[0]): frame.get_column("pos") for name, frame in rows.partition_by(_DELETE_FILE, as_dict=True).items()
    }
    empty = pl.Series("pos", [], dtype=pl.Int64)
    return {path: by_file.get(polars_path(path), empty) for path in paths}


def _scan_joined(plan: ScanPlan, tasks: Sequence[DataTask], options: dict[str, Any] | None) -> pl.LazyFrame:
    """Files whose deletes Polars cannot apply natively: row index + anti-joins."""
    import polars as pl

    names = {f.field_id: f.name for f in plan.schema.fields}
    hidden = [f for i, f in plan.equality_fields.items() if i not in names]
    read_schema = Schema(*plan.schema.fields, *(f.model_copy(update={"name": f"__ml_c{f.field_id}"}) for f in hidden))
    for f in hidden:
        names[f.field_id] = f"__ml_c{f.field_id}"
    data = _scan(
        plan,
        [t.path for t in tasks],
        options,
        schema_to_pyarrow(read_schema),
        row_index_name=_ROW,
        include_file_paths=_FILE,
    )
    # The row index runs across the files in order: each file's rows start at the sum of earlier counts.
    offsets, total = [], 0
    for t in tasks:
        if t.record_count < 0:
            raise UnsupportedScanError(f"data file {t.path} has no record count", hint="compact the table")
        offsets.append(total)
        total += t.record_count
    meta = pl.LazyFrame(
        {
            _FILE: [polars_path(t.path) for t in tasks],
            "__ml_target": [t.path for t in tasks],
            "__ml_offset": offsets,
            "__ml_seq": [t.sequence_number for t in tasks],
            "__ml_part": [t.partition for t in tasks],
        },
        schema={
            _FILE: pl.String,
            "__ml_target": pl.String,
            "__ml_offset": pl.Int64,
            "__ml_seq": pl.Int64,
            "__ml_part": pl.Int64,
        },
    )
    data = data.with_columns(pl.col(_ROW).cast(pl.Int64))
    position = _distinct(d for t in tasks for d in t.position_deletes)
    if position:
        data = data.join(_position_rows(position, meta, options), on=_ROW, how="anti")
    groups: dict[tuple[int, ...], list[DeleteFile]] = {}
    for delete in _distinct(d for t in tasks for d in t.equality_deletes):
        groups.setdefault(delete.equality_ids, []).append(delete)
    if groups:
        data = data.join(meta.select(_FILE, "__ml_seq", "__ml_part"), on=_FILE)
        for eq_ids, deletes in groups.items():
            data = _drop_equal(data, eq_ids, deletes=deletes, names=names, plan=plan, options=options)
    return data.select([f.name for f in plan.schema.fields])


def _distinct(deletes: Any) -> list[DeleteFile]:
    seen: dict[str, DeleteFile] = {}
    for d in deletes:
        seen.setdefault(d.path, d)
    return list(seen.values())


def _position_rows(deletes: Sequence[DeleteFile], meta: pl.LazyFrame, options: dict[str, Any] | None) -> pl.LazyFrame:
    """The row index (in the joined scan) of every deleted row."""
    import polars as pl

    seqs = pl.LazyFrame(
        {
            "__ml_del": [polars_path(d.path) for d in deletes],
            "__ml_del_seq": [d.sequence_number for d in deletes],
        },
        schema={"__ml_del": pl.String, "__ml_del_seq": pl.Int64},
    )
    rows = pl.scan_parquet(
        [polars_path(d.path) for d in deletes],
        glob=False,
        storage_options=options,
        include_file_paths="__ml_del",
    ).select(pl.col("file_path").cast(pl.String).alias("__ml_target"), pl.col("pos").cast(pl.Int64), "__ml_del")
    return (
        rows.join(seqs, on="__ml_del")
        .join(meta, on="__ml_target")
        .filter(pl.col("__ml_seq") <= pl.col("__ml_del_seq"))
        .select((pl.col("__ml_offset") + pl.col("pos")).alias(_ROW))
        .unique()
    )


def _drop_equal(
    data: pl.LazyFrame,
    eq_ids: tuple[int, ...],
    *,
    deletes: Sequence[DeleteFile],
    names: dict[int, str],
    plan: ScanPlan,
    options: dict[str, Any] | None,
) -> pl.LazyFrame:
    import polars as pl

    cols = [names[i] for i in eq_ids]
    fields = [plan.equality_fields[i].model_copy(update={"name": names[i]}) for i in eq_ids]
    delete_schema = schema_to_pyarrow(Schema(*fields))
    scopes = pl.LazyFrame(
        {
            "__ml_del": [polars_path(d.path) for d in deletes],
            "__ml_del_seq": [d.sequence_number for d in deletes],
            "__ml_del_part": [d.partition for d in deletes],
        },
        schema={"__ml_del": pl.String, "__ml_del_seq": pl.Int64, "__ml_del_part": pl.Int64},
    )
    rows = pl.scan_parquet(
        [polars_path(d.path) for d in deletes],
        glob=False,
        storage_options=options,
        include_file_paths="__ml_del",
        cast_options=_cast_options(),
        missing_columns="insert",
        extra_columns="ignore",
        schema=pl.Schema(delete_schema),
        _column_mapping=("iceberg-column-mapping", delete_schema, None),
    ).join(scopes, on="__ml_del")
    # Newest delete per key, globally and per partition: a row goes if either is newer than its file.
    newest_global = (
        rows.filter(pl.col("__ml_del_part").is_null()).group_by(cols).agg(pl.col("__ml_del_seq").max().alias("__ml_g"))
    )
    newest_local = (
        rows.filter(pl.col("__ml_del_part").is_not_null())
        .group_by([*cols, "__ml_del_part"])
        .agg(pl.col("__ml_del_seq").max().alias("__ml_p"))
    )
    joined = data.join(newest_global, on=cols, how="left", nulls_equal=True).join(
        newest_local,
        left_on=[*cols, "__ml_part"],
        right_on=[*cols, "__ml_del_part"],
        how="left",
        nulls_equal=True,
    )
    seq = pl.col("__ml_seq")
    deleted = (pl.col("__ml_g") > seq).fill_null(False) | (pl.col("__ml_p") > seq).fill_null(False)
    return joined.filter(~deleted).drop("__ml_g", "__ml_p")


def _cast_options() -> Any:
    from polars.io.scan_options.cast_options import ScanCastOptions

    return ScanCastOptions._default_iceberg()
