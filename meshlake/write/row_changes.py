"""How a write removes old rows: replace, overwrite and delete, as position deletes (merge-on-read) or files
rewritten without them (copy-on-write), as the write mode and `AUTO_MAX_SHARE` choose."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pyarrow as pa
from pyiceberg.expressions import AlwaysTrue
from pyiceberg.manifest import DataFile
from pyiceberg.table import Table

from meshlake.errors import ContractViolationError, WriteModeError
from meshlake.write.casts import shown
from meshlake.write.commit import Change
from meshlake.write.modes import ROW_CHANGE_MODES
from meshlake.write.positions import PositionDeletes, deletes_where, scoped_deletes
from meshlake.write.results import Prepared
from meshlake.write.rewrite import rewrite_where
from meshlake.write.rowfilter import RowFilter

AUTO_MAX_SHARE = 0.2
"""`write_mode: auto` records old rows as position deletes while they are under this share of the live rows of
the files holding them, and rewrites those files otherwise: merge-on-read saves rewriting the other 80 % of a
file, and readers anti-join a delete list of at most a fifth of its rows until compaction folds it in."""


def row_change_mode(table: Table, write_mode: str, address: str) -> str:
    """The row-change mode a write on `table` uses: `write_mode`, or copy-on-write where deletes cannot be held."""
    if write_mode not in ROW_CHANGE_MODES:
        raise WriteModeError(
            f"unknown write_mode {write_mode!r}; use one of {', '.join(ROW_CHANGE_MODES)}",
            address=address,
            write_mode=write_mode,
        )
    if write_mode != "copy-on-write" and table.metadata.format_version < 2:
        if write_mode == "merge-on-read":
            raise WriteModeError(
                f"write_mode='merge-on-read' needs an Iceberg format-version 2 table (this one is version "
                f"{table.metadata.format_version}, which cannot hold delete files); use write_mode='copy-on-write', "
                "or upgrade the table (pyiceberg: table.transaction().upgrade_table_version(2)). Nothing was written.",
                address=address,
                write_mode=write_mode,
            )
        return "copy-on-write"
    return write_mode


def position_deletes(write_mode: str, find: Callable[[float | None], PositionDeletes | None]) -> PositionDeletes | None:
    """The position deletes a merge-on-read change records, or None when it copies on write instead."""
    if write_mode == "copy-on-write":
        return None
    from meshlake.query.errors import UnsupportedScanError

    try:
        return find(AUTO_MAX_SHARE if write_mode == "auto" else None)
    except UnsupportedScanError:
        if write_mode == "merge-on-read":
            raise
        return None  # files read by name (imported without field ids): rewrite them


def prepare_delete(table: Table, base: Any, doomed: RowFilter, write_mode: str = "copy-on-write") -> Prepared:
    """Remove the rows of `base` matching `doomed`: recorded as position deletes, or files rewritten without them."""
    deletes = position_deletes(write_mode, lambda limit: deletes_where(table, base, doomed, max_share=limit))
    if deletes is not None:
        change = Change(
            "overwrite",
            conflict_filter=doomed.prune,
            delete_files=deletes.delete_files,
            referenced=deletes.referenced,
        )
        paths = list(deletes.written_paths)
        return Prepared(change, 0, deletes.rows_removed, written_paths=paths, write_mode="merge-on-read")
    rewrite = rewrite_where(table, base, doomed)
    change = Change("overwrite", rewrite.added, rewrite.deleted, conflict_filter=doomed.prune)
    return Prepared(
        change, 0, rewrite.rows_removed, written_paths=list(rewrite.written_paths), write_mode="copy-on-write"
    )


def replace_rows(
    table: Table,
    base: Any,
    replaced: RowFilter,
    added: tuple[DataFile, ...],
    rows: int,
    write_mode: str = "copy-on-write",
) -> Prepared:
    """Remove the rows of `base` matching `replaced` (recorded as position deletes, or files rewritten without
    them) and add `added`."""
    deletes = position_deletes(write_mode, lambda limit: deletes_where(table, base, replaced, max_share=limit))
    if deletes is not None:
        change = Change(
            "overwrite",
            added,
            (),
            replaced.prune,
            new_rows=added,
            delete_files=deletes.delete_files,
            referenced=deletes.referenced,
        )
        paths = list(deletes.written_paths)
        return Prepared(change, rows, deletes.rows_removed, written_paths=paths, write_mode="merge-on-read")
    rewrite = rewrite_where(table, base, replaced)
    change = Change("overwrite", (*rewrite.added, *added), rewrite.deleted, replaced.prune, new_rows=added)
    paths = list(rewrite.written_paths)
    return Prepared(change, rows, rewrite.rows_removed, written_paths=paths, write_mode="copy-on-write")


def with_scoped_deletes_removed(table: Table, base_id: int | None, change: Change) -> Change:
    """`change` also removing the file-scoped position deletes of the data files it removes (a copy-on-write
    rewrite or an overwrite): once their file is gone they apply to nothing, and left in the snapshot they would
    be dangling records every reader plans. Removed in the same commit, as compaction does."""
    if base_id is None or not change.deleted:
        return change
    from meshlake.query.plan import cached_plan

    scoped = scoped_deletes(cached_plan(table, base_id), {f.file_path for f in change.deleted})
    if not scoped:
        return change
    return replace(change, removed_deletes=tuple(sorted({*change.removed_deletes, *scoped})))


def overwrite_all(table: Table, base: Any, added: tuple[DataFile, ...], rows: int) -> Prepared:
    """Replace every live file of `base` by `added`."""
    live = tuple(task.file for task in table.scan(snapshot_id=base.snapshot_id).plan_files()) if base else ()
    removed = sum(f.record_count for f in live)
    return Prepared(Change("overwrite", added, live, AlwaysTrue(), new_rows=added), rows, removed)


def only_matching(batches: Iterator[pa.RecordBatch], where: RowFilter, address: str) -> Iterator[pa.RecordBatch]:
    """`batches`, raising `ContractViolationError` at the first row outside `where` (mode='replace')."""
    import pyarrow.compute as pc

    for batch in batches:
        matching = int(pc.sum(where.matches(pa.Table.from_batches([batch]))).as_py() or 0)
        if matching != batch.num_rows:
            raise ContractViolationError(
                f"{address}: {batch.num_rows - matching} row(s) of the data fall outside where={shown(where.text)}; "
                "mode='replace' only writes rows inside the replaced range. Nothing was written.",
                address=address,
            )
        yield batch
