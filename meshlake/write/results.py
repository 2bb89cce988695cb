"""What a write passes along: its prepared change (`Prepared`), the change staged and checked but not committed
(`StagedWrite`), and what it published (`WriteResult`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pyiceberg.catalog import Catalog
from pyiceberg.table import Table

from meshlake.contract.stamps import Stamps
from meshlake.write.commit import Change
from meshlake.write.index_keeper import Keeping

if TYPE_CHECKING:
    from meshlake.quality.report import QualityReport  # the gate is handed in; see `gate_protocol.Gate`
    from meshlake.write.gate_protocol import Gate

    RebaseCheck = Callable[[Table, int | None, int | None], None]
    """Called with the table, the old base and `main`'s new head before a write is re-applied on a moved `main`;
    raising `CommitConflictError` there stops the write (a stream refuses a second consumer this way)."""


@dataclass(frozen=True)
class WriteResult:
    """What a write published."""

    address: str
    mode: str
    snapshot_id: int | None
    rows: int
    run_id: str
    rows_deleted: int = 0
    rows_updated: int = 0
    rows_inserted: int = 0
    files_added: int = 0
    files_deleted: int = 0
    rebases: int = 0
    """Times `main` moved under the write and it was re-applied on the new head."""
    commit_retries: int = 0
    """Catalog commits retried after a lost race in which `main` did not move."""
    quality: QualityReport | None = None
    seconds: float = 0.0
    changed: bool = True
    write_mode: str | None = None
    """How old rows were removed: "copy-on-write" or "merge-on-read" (None when none were)."""
    delete_files_added: int = 0
    fallback: str | None = None
    """Why a distributed write ran part of its work on the driver instead of the engine (None: it did not)."""
    phases: Mapping[str, float] = field(default_factory=dict)
    """Seconds by phase of the write, where it measures them: `conform` (incl. the new keys' uniqueness, checked
    while the rows are encoded), `key lookup` (finding the old rows of a merge-on-read upsert's keys; `key lookup
    and rewrite` for a copy-on-write one), `write rows` (encoding the new rows, and for merge-on-read their
    manifest; an upsert runs it alongside the key lookup, so phases may add up to more than `seconds`), `deletes`
    (writing the delete files and their manifest), `gate`, `commit` (incl.
    any rebase and re-check), and within it `commit lock wait` (waiting for another thread of the process to
    finish committing to the same table; only when it did wait) and `merge in commit` (merging full tiers of
    manifests, `meshlake.write.manifest_merge`, of the port or of the quality records the commit appends; only
    when one merged), `key index wait` (before its key lookup, waiting
    for this process to finish keeping the key index of the previous upsert; only when it did wait, alongside
    `write rows`), then `key index` (a merge-on-read upsert bringing its key index to the snapshot it committed,
    when that runs inside the write: `MESHLAKE_KEY_INDEX_KEEPING=inline`; by default it runs after the write
    returns, see `index_keeping`). An upsert measures them all; other writes `gate` and
    `commit`. A distributed write adds its workers' phases, added up over every sink call (`worker receive`,
    `worker conform`, `worker encode`, `worker metrics`, `worker close`, `worker call`: see
    `meshlake.distributed.staging.write_partition`), each also as CPU seconds (`worker encode cpu`, …)."""
    index_keeping: Keeping | None = None
    """A merge-on-read upsert's keeping of its key index, running on the keeper thread after the write returned
    (`meshlake.write.index_keeper`): `index_keeping.wait()` gives the seconds it took; None when there is none."""
    auto_compaction: Mapping[str, Any] | None = None
    """What the automatic compaction after the write did (`meshlake.maintenance.auto_compact`): its snapshot id,
    files before and after, re-bases and seconds, or an `error` (the write stays committed); None when none ran."""

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k not in ("quality", "index_keeping")}
        data["phases"] = dict(self.phases)
        data["auto_compaction"] = dict(self.auto_compaction) if self.auto_compaction is not None else None
        keeping = self.index_keeping
        data["key_index_seconds"] = keeping.seconds if keeping is not None else None
        data["quality"] = self.quality.to_dict() if self.quality else None
        return data


@dataclass
class Prepared:
    """A write's change with its files written, before the gate: counts, the files it wrote (deleted if it is not
    published), phases, and what runs after its commit."""

    change: Change
    rows: int
    rows_deleted: int = 0
    rows_updated: int = 0
    written_paths: list[str] = field(default_factory=list)
    write_mode: str | None = None
    phases: dict[str, float] = field(default_factory=dict)
    after_commit: Callable[[Table, int], Keeping] | None = None
    """Run once the change is committed (the table as committed, the new snapshot id): keeps the key index current
    (inline, or handed to the keeper thread)."""


@dataclass
class StagedWrite:
    """A write whose files are written and whose expectations ran, not yet committed (see `stage_write`)."""

    catalog: Catalog
    table: Table
    address: str
    mode: str
    stamps: Stamps
    gate: Gate | None
    quarantine_name: str
    prepared: Prepared
    base_id: int | None
    report: QualityReport | None
    started: float
    rebase_check: RebaseCheck | None = None
    committed: Table | None = None
    """The table as `publish` committed it to `main` (None before, or when nothing was committed)."""

    @property
    def passed(self) -> bool:
        """False when the gate refused the staged snapshot."""
        return self.report is None or self.report.passed

    @property
    def changed(self) -> bool:
        return not self.prepared.change.is_empty
