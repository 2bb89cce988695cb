"""Automatic compaction: right after a write commits, the port's small files are compacted once a partition holds
`min_files` of them of one size class, as Delta's `autoCompact` does, so a port fed by batch appends does not slow
its queries down with its age (planning grows with the number of data files,
benchmarks/results/history_planning.md).

It is maintenance's compaction (`meshlake.maintenance.compact`) with a bounded run: only files under
`SMALL_FILE_BYTES`, of one size class (`compact.size_class`: under 256 KB, to 2 MB, to 8 MB), at most `MAX_BYTES`
of them per run (oldest first), no folding of large files' deletes (that stays `meshlake maintain`'s). Fifty files
of a class make one of a higher class, which waits for 49 more of its size: a row is rewritten once per class
(at most three times), where compacting every small file together rewrote the growing compacted file with each
run (2.2 s for the run at 1,000 1,000-row appends on the loaded machine). Small files with pending merge-on-read
deletes are rewritten with the deletes applied and their file-scoped delete files removed.

It runs inline, in the writing thread after the commit (`after_write`): a CLI write or a cron pipeline exits right
after its write, so a background thread would be abandoned before it committed. The write is committed first and
stays committed whatever compaction does: a compaction that loses a race it cannot re-base (its files were
replaced, or a delete file landed meanwhile) gives up, deletes the files it wrote and is reported in
`WriteResult.auto_compaction`, never raised. Its commit is an ordinary atomic commit, so a process killed during it
leaves either the snapshot before or the rewrite; the files of an unfinished rewrite are orphans for
`meshlake maintain`. Snapshots before the rewrite keep their files, so time travel reads the same rows.

Streams compact with their own compactor (`compact_every`), so the consume loop turns this off around its writes
(`suspended`); system tables are written by `meshlake.write.system_table`, not by a port's write, and are left to
`meshlake maintain`.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from pyiceberg.catalog import Catalog
from pyiceberg.table import Table
from pyiceberg.table.refs import MAIN_BRANCH

from meshlake.contract.autocompact import AutoCompact, auto_compact_setting
from meshlake.maintenance.compact import Options, compact, size_class
from meshlake.query.plan import plan_snapshot
from meshlake.write import faults

_LOG = logging.getLogger("meshlake.maintenance")
SMALL_FILE_BYTES = 8 * 1024 * 1024
"""A file under this size is small: 1/64 of Iceberg's 512 MB target file size. A port holds at most `min_files` - 1
small files per size class and partition, so at most about 150 per partition whatever its age."""
MAX_BYTES = 32 * 1024 * 1024
"""Bytes of small files one run rewrites at most: the extra an append that triggers compaction pays is bounded by
reading and writing this much (files past it wait for the next run)."""

_suspended: contextvars.ContextVar[bool] = contextvars.ContextVar("meshlake_auto_compact_suspended", default=False)


@contextlib.contextmanager
def suspended() -> Iterator[None]:
    """No automatic compaction for writes in this block (a stream's consume loop, which has its own compactor)."""
    token = _suspended.set(True)
    try:
        yield
    finally:
        _suspended.reset(token)


def options(setting: AutoCompact) -> Options:
    """The compaction options of an automatic run."""
    return Options(
        small_file_bytes=SMALL_FILE_BYTES,
        min_files=setting.min_files,
        max_bytes=MAX_BYTES,
        fold_deletes=False,
        size_classes=True,
    )


def is_due(table: Table, setting: AutoCompact) -> bool:
    """Whether a partition of `main`'s head holds at least `setting.min_files` small files of one size class. A head
    with fewer data
    files in all (its summary's `total-data-files`) is not; otherwise the plan comes from the process's plan cache,
    which after an append holds the staged plan: counting costs a pass over the file list."""
    head = table.metadata.snapshot_by_name(MAIN_BRANCH)
    if head is None:
        return False
    total = head.summary.additional_properties.get("total-data-files") if head.summary else None
    if total is not None and int(total) < setting.min_files:
        return False
    plan = plan_snapshot(table.metadata, table.io, head.snapshot_id, metadata_location=table.metadata_location)
    small = Counter(
        (task.partition, size_class(task.file_size)) for task in plan.tasks if task.file_size < SMALL_FILE_BYTES
    )
    return any(count >= setting.min_files for count in small.values())


def _before_commit(table: Table, then: Callable[[], None] | None) -> None:
    faults.reached("auto compact commit", table.name())
    if then is not None:
        then()


def after_write(
    catalog: Catalog,
    table: Table,
    *,
    product_version: str,
    run_id: str,
    before_commit: Callable[[], None] | None = None,
) -> dict[str, Any] | None:
    """Compact `table` (as its write committed it) if its setting says so and it is due; what happened, or None
    when nothing ran. Never raises: a failure is logged and returned as `{"error": …}`. `before_commit` runs
    between rewriting and committing (a seam for tests that race a concurrent write against it)."""
    if _suspended.get():
        return None
    started = time.perf_counter()
    try:
        setting = auto_compact_setting(table.properties)
        if not setting.enabled or not is_due(table, setting):
            return None
        faults.reached("auto compact", table.name())
        _, found = compact(
            catalog,
            table,
            product_version=product_version,
            run_id=run_id,
            apply=True,
            options=options(setting),
            before_commit=lambda: _before_commit(table, before_commit),
            measure_planning=False,
        )
    except Exception as exc:  # the write is committed: compaction only reports
        _LOG.warning("%s: automatic compaction after the write failed (%s)", ".".join(table.name()), exc)
        return {"error": f"{type(exc).__name__}: {exc}"[:500], "seconds": round(time.perf_counter() - started, 6)}
    if found.snapshot_id is None:
        return None
    return {
        "snapshot_id": found.snapshot_id,
        "files_before": found.files_before,
        "files_after": found.files_after,
        "bytes_before": found.bytes_before,
        "rebases": found.rebases,
        "seconds": round(time.perf_counter() - started, 6),
    }
