"""Staging changes whose files already exist: a quarantined write's, whose files belong to another snapshot
(`stage_change`), and distributed workers' (`stage_files`, `stage_written_change`), whose files belong to the write."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from pyiceberg.catalog import Catalog
from pyiceberg.manifest import DataFile
from pyiceberg.table import Table
from pyiceberg.table.refs import MAIN_BRANCH

from meshlake.contract.stamps import Stamps
from meshlake.errors import ContractViolationError
from meshlake.write import commit
from meshlake.write.commit import Change
from meshlake.write.flow import check_mode
from meshlake.write.gate_protocol import Gate, checked
from meshlake.write.results import Prepared, StagedWrite
from meshlake.write.rewrite import parse_filter, rewrite_keys
from meshlake.write.row_changes import overwrite_all, replace_rows, with_scoped_deletes_removed
from meshlake.write.staged_manifests import delete_all
from meshlake.write.upsert import check_unique_keys, keys_of, upsert_by_rewrite


def stage_change(
    catalog: Catalog,
    table: Table,
    change: Change,
    *,
    address: str,
    rows: int,
    base_id: int | None,
    stamps: Stamps,
    gate: Gate | None,
    quarantine_name: str,
) -> StagedWrite:
    """Stage files that already exist (a quarantined write, for one) as a write on `base_id`, and run the gate.

    The files belong to another snapshot: whatever happens to this write, none of them is ever deleted.
    """
    started = time.perf_counter()
    report = gate.check(table, base_id, change, stamps) if gate is not None and not change.is_empty else None
    prepared = Prepared(change, rows, written_paths=[])
    return StagedWrite(
        catalog, table, address, stamps.mode, stamps, gate, quarantine_name, prepared, base_id, report, started
    )


def stage_files(
    catalog: Catalog,
    table: Table,
    added: Sequence[DataFile],
    *,
    address: str,
    mode: str,
    rows: int,
    stamps: Stamps,
    gate: Gate | None,
    quarantine_name: str,
    where: str | None = None,
    primary_key: Sequence[str] = (),
    streamed: Any = None,
) -> StagedWrite:
    """Stage data files written elsewhere for this write (by distributed workers) as an append, overwrite, replace
    (`where`: the rows of `main`'s head they replace; the workers checked that every row they wrote matches it) or
    upsert (by `primary_key`: the keys are read back from the files, only those columns) on `main`'s head, and run
    the gate (`streamed`: what the gate's taps measured on the workers, joined). Unlike `stage_change`, the files
    belong to this write: a write that is not published deletes them."""
    started = time.perf_counter()
    check_mode(mode, where, list(primary_key), address)
    if mode not in ("append", "overwrite", "replace", "upsert"):
        raise ValueError(f"mode={mode!r} is not supported for files written by workers")
    base_id = commit.main_head(table)
    base = table.metadata.snapshot_by_name(MAIN_BRANCH)
    files = tuple(added)
    if mode == "append":
        prepared = Prepared(Change("append", files, new_rows=files), rows)
    elif mode == "overwrite":
        prepared = overwrite_all(table, base, files, rows)
    elif mode == "upsert":
        keys = keys_of(table, files, primary_key)
        try:
            check_unique_keys(keys, primary_key, address)
        except ContractViolationError:
            delete_all(table, [f.file_path for f in files])
            raise
        prepared = upsert_by_rewrite(rewrite_keys(table, base, keys), keys, files, rows)
    else:
        assert where is not None
        prepared = replace_rows(table, base, parse_filter(where, table), files, rows)
    prepared.written_paths = [*(f.file_path for f in files), *prepared.written_paths]
    report = checked(gate, table, base_id, prepared, stamps, streamed)
    return StagedWrite(catalog, table, address, mode, stamps, gate, quarantine_name, prepared, base_id, report, started)


def stage_written_change(
    catalog: Catalog,
    table: Table,
    change: Change,
    *,
    address: str,
    mode: str,
    rows: int,
    base_id: int | None,
    stamps: Stamps,
    gate: Gate | None,
    quarantine_name: str,
    rows_deleted: int = 0,
    rows_updated: int = 0,
    written_paths: Sequence[str] = (),
    write_mode: str | None = None,
    streamed: Any = None,
) -> StagedWrite:
    """Stage a change whose files were all written elsewhere (a distributed upsert or delete: the workers wrote its
    data and position delete files) as a write on `base_id`, the snapshot the change was computed from, and run the
    gate. The files in `written_paths` belong to this write: a write that is not published deletes them; the commit
    rebases or raises `CommitConflictError` as a local write of the same change would."""
    started = time.perf_counter()
    change = with_scoped_deletes_removed(table, base_id, change)
    prepared = Prepared(change, rows, rows_deleted, rows_updated, list(written_paths), write_mode)
    report = checked(gate, table, base_id, prepared, stamps, streamed)
    return StagedWrite(catalog, table, address, mode, stamps, gate, quarantine_name, prepared, base_id, report, started)
