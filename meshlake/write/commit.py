"""Commit a write's files as one snapshot on `main` (or a quarantine branch), with meshlake's own retries.

A staged write is the set of data files it adds and removes, checked before anything is committed;
the commit then asserts that `main` is still at the snapshot the write was based on. meshlake commits
through `catalog.commit_table` with explicit requirements (pyiceberg's own retry would re-parent a
snapshot silently) and retries on its own terms:

- a lost race on the catalog row (nothing we depend on moved), or a table object refused as stale for its
  sequence number (`ValueError` from SQL catalogs, `BadRequestError` from REST), is retried as is;
- a commit whose outcome the catalog could not tell (`CommitStateUnknownException`) is looked up: if the
  snapshot is on the branch it succeeded, otherwise it is retried like a lost race;
- `main` moving under a staged write is a rebase: appends are re-applied on the new head, other
  writes only when pyiceberg's conflict validation shows that no concurrent commit touched their data.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import (
    BadRequestError,
    CommitFailedException,
    CommitStateUnknownException,
    ValidationException,
)
from pyiceberg.expressions import AlwaysFalse, AlwaysTrue, BooleanExpression
from pyiceberg.manifest import DataFile
from pyiceberg.table import Table, Transaction
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.table.refs import MAIN_BRANCH, SnapshotRefType
from pyiceberg.table.snapshots import Operation
from pyiceberg.table.update import (
    AssertRefSnapshotId,
    RemoveSnapshotRefUpdate,
    SetSnapshotRefUpdate,
    TableRequirement,
    TableUpdate,
)
from pyiceberg.table.update.validate import _validate_added_data_files, _validate_data_files_exist

from meshlake.catalog.commits import commit_table
from meshlake.catalog.loading import has_snapshot
from meshlake.catalog.metadata import ancestors, apply_updates, snapshot_by_id, snapshot_by_name
from meshlake.contract.stamps import DIGEST, content_digest
from meshlake.query.plan import cached_plan
from meshlake.query.provenance import remember_own
from meshlake.write import faults
from meshlake.write.known_length import KnownLengthIO
from meshlake.write.manifest_merge import MergingAppend, MergingOverwrite, _Merging
from meshlake.write.staged_manifests import StagedManifests, remember_written

QUARANTINE_PREFIX = "meshlake-quarantine-"
MAX_ATTEMPTS = 40


class MainMovedError(Exception):
    """`main` is no longer at the snapshot a write was based on; `table` is the table as just loaded, with
    `main` at `head` (rebase onto exactly that: it is what the next commit will build on)."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.head = main_head(table)
        super().__init__(f"main moved to {self.head}")


class RebaseConflictError(Exception):
    """A concurrent commit touched the data this write deletes or filters on."""


@dataclass
class CommitStats:
    """Counts what committing one write took: catalog-level retries (lost races where `main` did not move)."""

    retries: int = 0
    lock_wait: float = 0.0
    """Seconds spent waiting for this process's commit lock on the table (`commit_lock`), held by another
    thread's commit (a compaction behind a stream, say)."""


@dataclass(frozen=True)
class ReplacedKeys:
    """What a merge-on-read upsert's key lookup established: its `delete_files` list every live row of snapshot
    `base_id` whose key (`columns`) is among the new rows' keys — `rows` rows — and the new rows' keys are
    unique. So no live row of the staged snapshot shares a key with another unless two rows of `base_id` already
    did: the gate derives the key's uniqueness from that of `base_id` without scanning (`meshlake.quality`)."""

    columns: tuple[str, ...]
    base_id: int
    rows: int


@dataclass(frozen=True)
class Change:
    """What one write does to a table: files added and removed, and what it must not race with."""

    kind: Literal["append", "overwrite"]
    added: tuple[DataFile, ...] = ()
    deleted: tuple[DataFile, ...] = ()
    conflict_filter: BooleanExpression | None = None
    new_rows: tuple[DataFile, ...] = ()
    """The added files that hold the written rows (the rest of `added` re-writes rows that were kept)."""
    delete_files: tuple[DataFile, ...] = ()
    """Position delete files this change adds (merge-on-read, `meshlake.write.positions`)."""
    referenced: tuple[DataFile, ...] = ()
    """The data files `delete_files` name: they must still be live, with no new deletes, where it commits."""
    removed_deletes: tuple[str, ...] = ()
    """Paths of delete files this change removes (compaction: they name only files it rewrote)."""
    replaced_keys: ReplacedKeys | None = None
    """A merge-on-read upsert's key lookup (see `ReplacedKeys`); None for any other change."""
    staged: StagedManifests | None = None
    """Manifests of `added` and `delete_files` written before the commit (`meshlake.write.staged_manifests`): the
    commit, and each of its retries and rebases, uses them instead of writing its own."""

    @property
    def is_empty(self) -> bool:
        return not self.added and not self.deleted and not self.delete_files

    @property
    def operation(self) -> Operation:
        """The snapshot operation the spec names for this change on an existing branch."""
        if self.kind == "append":
            return Operation.APPEND
        if self.delete_files and not self.added and not self.deleted:
            return Operation.DELETE
        return Operation.OVERWRITE


class _Transaction(Transaction):
    """A transaction whose staged metadata costs what its updates change, not what the table holds.

    pyiceberg recomputes `table_metadata` on every access as a deep copy of the whole metadata, and a
    snapshot producer reads it dozens of times: on a table with a long history that dominated commit time.
    Here the updates are applied without the copy (`meshlake.catalog.metadata.apply_updates`), once per
    staged update (staged updates only ever grow, so their count keys the result). Its snapshot producers
    merge manifests (`meshlake.write.manifest_merge`) and write them through `KnownLengthIO`, so a commit
    never reads back a file it just wrote.
    """

    _cached: tuple[int, TableMetadata] | None = None

    def producer(self, change: Change, branch: str, properties: dict[str, str]) -> _Merging:
        """The snapshot producer of `change` on `branch`."""
        io = KnownLengthIO(self._table.io)
        if change.kind == "append":
            return MergingAppend(Operation.APPEND, self, io, snapshot_properties=properties, branch=branch)
        operation = change.operation if snapshot_by_name(self.table_metadata, branch) else Operation.APPEND
        return MergingOverwrite(operation, self, io, snapshot_properties=properties, branch=branch)

    @property
    def table_metadata(self) -> TableMetadata:
        count = len(self._updates)
        if self._cached is None or self._cached[0] != count:
            self._cached = (count, apply_updates(self._table.metadata, self._updates)[0])
        return self._cached[1]

    def _stage(self, updates: tuple[TableUpdate, ...], requirements: tuple[TableRequirement, ...] = ()) -> Transaction:
        """pyiceberg's, but a requirement on `main`'s snapshot is checked without the snapshot list: pyiceberg's
        check counts the snapshots first (only a branch other than `main` needs the count), which reads every
        snapshot of metadata loaded lazily (`meshlake.catalog.loading`: a REST catalog's answers)."""
        metadata = self.table_metadata
        for requirement in requirements:
            if isinstance(requirement, AssertRefSnapshotId) and requirement.ref == MAIN_BRANCH:
                _check_main(requirement, metadata)
            else:
                requirement.validate(metadata)
        self._updates += updates
        kinds = {type(requirement) for requirement in self._requirements}
        self._requirements += tuple(requirement for requirement in requirements if type(requirement) not in kinds)
        return self


def _check_main(requirement: AssertRefSnapshotId, metadata: TableMetadata) -> None:
    """`requirement.validate(metadata)` for `main` (the same errors), reading only the refs."""
    ref = metadata.refs.get(MAIN_BRANCH)
    if ref is not None:
        if requirement.snapshot_id is None:
            raise CommitFailedException(f"Requirement failed: {ref.snapshot_ref_type} main was created concurrently")
        if requirement.snapshot_id != ref.snapshot_id:
            raise CommitFailedException(
                f"Requirement failed: {ref.snapshot_ref_type} main has changed: "
                f"expected id {requirement.snapshot_id}, found {ref.snapshot_id}"
            )
    elif requirement.snapshot_id is not None:
        raise CommitFailedException(
            f"Requirement failed: branch or tag main is missing, expected {requirement.snapshot_id}"
        )


def main_head(table: Table) -> int | None:
    ref = table.metadata.refs.get(MAIN_BRANCH)
    return ref.snapshot_id if ref is not None else None


_COMMIT_LOCKS: dict[str, threading.RLock] = {}
_COMMIT_LOCKS_GUARD = threading.Lock()


def commit_lock(table: Table) -> threading.RLock:
    """The lock every commit of this process to `table` takes (`commit_snapshot`). A writer that keeps losing the
    race for `main` to writers of the same process (compaction behind a stream committing every 100 ms) holds it
    across its re-base and its commit, so they wait for it once instead of winning every time."""
    key = str(table.metadata.table_uuid)
    with _COMMIT_LOCKS_GUARD:
        return _COMMIT_LOCKS.setdefault(key, threading.RLock())


class LostRaces:
    """A commit's lost races for `main`. From the first, it holds this process's commit lock on the table
    (`commit_lock`) until `close`: the process's other writers wait for this one instead of moving `main` under it
    again. `lost` turns False once `limit` races are lost, since writers elsewhere (other processes, other engines)
    take no meshlake lock and could beat it forever.

    Passed to `commit_snapshot`, it takes the lock over before the lost commit lets it go: a writer of this process
    waiting for the lock cannot commit between the lost race and the re-base, which would make the table the
    re-base starts from stale and lose the next race too."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0
        self._held = contextlib.ExitStack()
        self._holding = False

    def __enter__(self) -> LostRaces:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def lost(self, table: Table) -> bool:
        """Count a lost race for `main` on `table`; False when the limit was already reached (give up)."""
        if self.count >= self.limit:
            return False
        self.hold(commit_lock(table))
        self.count += 1
        return True

    def hold(self, lock: threading.RLock) -> None:
        """Hold `lock` until `close` (once: later calls do nothing)."""
        if not self._holding:
            self._held.enter_context(lock)
            self._holding = True

    def close(self) -> None:
        """Let the process's other writers go: the commit landed (or the write gave up)."""
        self._held.close()
        self._holding = False


def commit_snapshot(
    catalog: Catalog,
    table: Table,
    change: Change,
    *,
    branch: str,
    base_id: int | None,
    properties: dict[str, str],
    stats: CommitStats | None = None,
    races: LostRaces | None = None,
) -> tuple[Table, int]:
    """Commit `change` as one snapshot on `branch`, parented on `base_id`; returns the table and snapshot id.

    For `main`, raises `MainMovedError` if `main` is not at `base_id`; a staging branch is (re)pointed at
    `base_id` in the same commit. Each catalog-level retry is counted in `stats`. `meshlake.digest` binds the
    stamps in `properties` to the change's files (`meshlake.query.provenance`). Holds `commit_lock(table)`, and
    on `MainMovedError` hands it to `races` (see `LostRaces`) so that `MainMovedError.table` stays current.
    """
    lock = commit_lock(table)
    waiting = time.perf_counter()
    with lock:
        if stats is not None:
            stats.lock_wait += time.perf_counter() - waiting
        try:
            return _commit_snapshot(
                catalog, table, change, branch=branch, base_id=base_id, properties=properties, stats=stats
            )
        except MainMovedError:
            if races is not None:
                races.hold(lock)
            raise


def _commit_snapshot(
    catalog: Catalog,
    table: Table,
    change: Change,
    *,
    branch: str,
    base_id: int | None,
    properties: dict[str, str],
    stats: CommitStats | None,
) -> tuple[Table, int]:
    added = [(f.file_path, f.file_size_in_bytes, f.record_count) for f in (*change.added, *change.delete_files)]
    removed = [*(f.file_path for f in change.deleted), *change.removed_deletes]
    properties = properties | {DIGEST: content_digest(added, removed, properties)}
    for attempt in range(MAX_ATTEMPTS):
        if branch == MAIN_BRANCH and main_head(table) != base_id:
            # The snapshot is built on the table's `main`: it must be the base the commit asserts, or files
            # committed in between would be carried into it without any rebase check.
            raise MainMovedError(table)
        tx = _Transaction(table)
        ref_updates, ref_requirements = _point_branch(table, branch, base_id)
        if ref_updates:
            tx._stage(ref_updates, ref_requirements)
        producer = tx.producer(change, branch, properties)
        staged = change.staged
        if (
            staged is not None
            and staged.serves(change.added, change.delete_files)
            and not has_snapshot(table.metadata, staged.snapshot_id)
        ):
            producer.use_staged(staged)
        for data_file in change.deleted:
            producer.delete_data_file(data_file)
        for data_file in change.added:
            producer.append_data_file(data_file)
        for delete_file in change.delete_files:
            producer.add_delete_file(delete_file)
        for path in change.removed_deletes:
            producer.remove_delete_file(path)
        updates, requirements = producer._commit()
        if branch != MAIN_BRANCH and not table.metadata.snapshots:  # (main's commits read no snapshot list)
            requirements = tuple(r for r in requirements if not isinstance(r, AssertRefSnapshotId))
        tx._stage(updates, requirements)
        faults.reached("commit", table.name())
        # known before the catalog's commit, so that what it tells its listeners (the history journal) says so;
        # a snapshot id that does not land is never looked up
        remember_own(str(table.metadata.table_uuid), producer.snapshot_id)
        try:
            response = commit_table(catalog, table, tx._requirements, tx._updates)
        except CommitStateUnknownException as exc:
            # The catalog may have applied it (a REST server answering 500/502/504): look before cleaning
            # up or retrying, as Iceberg's own clients do. SeaweedFS does this on rare concurrent commits.
            table = table.refresh()
            if _landed(table, branch, producer.snapshot_id):
                faults.reached("committed", table.name())
                return table, producer.snapshot_id
            failure: Exception = exc
        except (CommitFailedException, ValueError, BadRequestError) as exc:
            if not isinstance(exc, CommitFailedException) and "sequence number" not in str(exc):
                producer._clean_all_uncommitted()
                raise
            table = table.refresh()
            failure = exc
        else:
            faults.reached("committed", table.name())
            table = updated_table(table, response.metadata, response.metadata_location)
            snapshot = table.metadata.snapshot_by_id(producer.snapshot_id)
            if producer.listed is not None and snapshot is not None:  # the next commit on it need not read it back
                remember_written(snapshot, producer.listed, table.metadata.format_version)
            return table, producer.snapshot_id
        producer._clean_all_uncommitted()
        if branch == MAIN_BRANCH and main_head(table) != base_id:
            raise MainMovedError(table) from failure
        if stats is not None:
            stats.retries += 1
        _backoff(attempt)
    raise CommitFailedException(f"gave up committing to {table.name()} after {MAX_ATTEMPTS} attempts")


def _landed(table: Table, branch: str, snapshot_id: int) -> bool:
    """Whether `snapshot_id` is on `branch` of the freshly loaded `table`."""
    head = snapshot_by_name(table.metadata, branch)
    return any(s.snapshot_id == snapshot_id for s in ancestors(table.metadata, head))


def drop_branch(catalog: Catalog, table: Table, branch: str) -> Table:
    if branch not in table.metadata.refs:
        return table
    return _commit_refs(catalog, table, (RemoveSnapshotRefUpdate(ref_name=branch),), None, check_main=False)


def check_rebase(table: Table, change: Change, *, old_base: int | None, new_head: int | None) -> None:
    """Raise `RebaseConflictError` unless `change` can be re-applied on `new_head` without losing anything."""
    if change.kind == "append" or new_head is None:
        return
    head = snapshot_by_id(table.metadata, new_head)
    base = snapshot_by_id(table.metadata, old_base)
    assert head is not None
    try:
        if change.deleted:
            _validate_data_files_exist(table, head, set(change.deleted), base)
        if not isinstance(change.conflict_filter, AlwaysFalse):
            # (a filter no file matches, a compaction's, finds no conflict: pyiceberg would read every manifest
            # added since the base to find none, in the stream's thread when a compaction commits between batches)
            _validate_added_data_files(table, head, change.conflict_filter or AlwaysTrue(), base)
    except ValidationException as exc:
        raise RebaseConflictError(str(exc)) from exc
    if change.referenced:
        check_references(table, change.referenced, old_base=old_base, new_head=new_head)


def check_references(table: Table, referenced: Iterable[DataFile], *, old_base: int | None, new_head: int) -> None:
    """Raise `RebaseConflictError` unless every data file that position deletes name is still live on `new_head`
    with no delete file it did not have on `old_base` (Iceberg's validateDataFilesExist and
    validateNoConflictingDeleteFiles): positions name rows of one physical file, so a file removed or rewritten
    in between would make them delete nothing, or the wrong rows, and another writer's deletes may hold the
    same rows."""
    before = {task.path: task for task in cached_plan(table, old_base).tasks} if old_base is not None else {}
    after = {task.path: task for task in cached_plan(table, new_head).tasks}
    for data_file in referenced:
        now = after.get(data_file.file_path)
        if now is None:
            raise RebaseConflictError(f"data file {data_file.file_path} was removed or rewritten concurrently")
        was = before.get(data_file.file_path)
        old = {d.path for d in (*was.position_deletes, *was.equality_deletes)} if was is not None else set()
        new = {d.path for d in (*now.position_deletes, *now.equality_deletes)} - old
        if new:
            raise RebaseConflictError(
                f"delete file(s) {', '.join(sorted(new))} now apply to {data_file.file_path}, which this write also "
                "deletes rows from"
            )


def _point_branch(
    table: Table, branch: str, base_id: int | None
) -> tuple[tuple[TableUpdate, ...], tuple[TableRequirement, ...]]:
    if branch == MAIN_BRANCH:
        return (), (AssertRefSnapshotId(ref=MAIN_BRANCH, snapshot_id=base_id),)
    ref = table.metadata.refs.get(branch)
    current = ref.snapshot_id if ref else None
    # pyiceberg refuses any ref assertion but main's on a table without snapshots; branch names are per run
    requirement = (AssertRefSnapshotId(ref=branch, snapshot_id=current),) if table.metadata.snapshots else ()
    if base_id is None:
        return ((RemoveSnapshotRefUpdate(ref_name=branch),) if ref else ()), requirement
    if current == base_id:
        return (), requirement
    return (_set_ref(branch, base_id),), requirement


def _commit_refs(
    catalog: Catalog,
    table: Table,
    updates: tuple[TableUpdate, ...],
    base_id: int | None,
    *,
    check_main: bool = True,
) -> Table:
    requirements: tuple[TableRequirement, ...] = (
        (AssertRefSnapshotId(ref=MAIN_BRANCH, snapshot_id=base_id),) if check_main else ()
    )
    for attempt in range(MAX_ATTEMPTS):
        try:
            response = commit_table(catalog, table, requirements, updates)
        except CommitFailedException as exc:
            table = table.refresh()
            if check_main and main_head(table) != base_id:
                raise MainMovedError(table) from exc
            _backoff(attempt)
            continue
        return updated_table(table, response.metadata, response.metadata_location)
    raise CommitFailedException(f"gave up updating refs of {table.name()} after {MAX_ATTEMPTS} attempts")


def _set_ref(name: str, snapshot_id: int) -> SetSnapshotRefUpdate:
    return SetSnapshotRefUpdate(
        ref_name=name,
        type=SnapshotRefType.BRANCH,
        snapshot_id=snapshot_id,
        max_ref_age_ms=None,
        max_snapshot_age_ms=None,
        min_snapshots_to_keep=None,
    )


def updated_table(table: Table, metadata: object, location: str) -> Table:
    """`table` at the metadata a commit returned."""
    return Table(
        identifier=table.name(),
        metadata=metadata,  # type: ignore[arg-type]
        metadata_location=location,
        io=table.io,
        catalog=table.catalog,
    )


def _backoff(attempt: int) -> None:
    time.sleep(min(0.005 * (2 ** min(attempt, 7)), 0.5) * (0.5 + random.random()))
