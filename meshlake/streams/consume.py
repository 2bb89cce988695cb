"""The consume loop: micro-batches from a stream source, each conformed, gated and committed as one snapshot.

    report = port.stream(source, max_rows=1000, max_wait=0.1, idle=5)

1. Resume from the offsets the port's own snapshots record (`offsets.py`); a source id recorded for another
   stream is refused, and so is a broker that no longer holds an offset the port still needs (a gap).
2. Read messages until the batch holds `max_rows` rows, `max_bytes` bytes, or `max_wait` seconds passed. A
   fetch whose first message is not where the port reads is checked for a gap the same way: the messages
   before it are committed, then the stream stops with the same `StreamGapError`.
3. Decode them in the contract's types (`decode.py`); malformed messages go to `meshlake.system.stream_rejects`,
   once each: those an earlier run recorded past the port's offsets (it ended before their batch committed)
   are read at start and not recorded again (`rejects.py`).
4. Stage, gate and commit the rows as one append whose summary carries the batch's next offsets. A batch that
   fails the gate is committed to a quarantine branch with the same offsets; the port's `stream: {on_failure}`
   says whether the stream stops there (`StreamStoppedError`) or consumes on.
5. Acknowledge to the broker (informational: a crash before it just means the broker re-sends, and the
   offsets in the port skip what is already committed).

A crash at any point leaves the port at a committed batch with its offsets, so rows land exactly once.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from meshlake.contract.address import validate_name
from meshlake.errors import (
    QualityGateError,
    StreamGapError,
    StreamSourceMismatchError,
    StreamSourceUnavailableError,
    StreamStoppedError,
)
from meshlake.maintenance.auto_compact import suspended
from meshlake.streams.collection import Collection, gc_mode, steady_collection
from meshlake.streams.compactor import (
    BackgroundCompactor,
    background_compactor,
    check_every,
    compaction_mode,
    compaction_options,
)
from meshlake.streams.decode import decode_batch
from meshlake.streams.offsets import recorded_offsets, refuse_concurrent_consumer, stream_stamps, unprefixed
from meshlake.streams.premerge import Premerger, Premerges, premerge_mode
from meshlake.streams.source import Message, Position, StreamSource, position_order
from meshlake.write import faults

if TYPE_CHECKING:
    from meshlake.port import Port
    from meshlake.streams.serve import StreamSink
    from meshlake.write.results import RebaseCheck

_LOG = logging.getLogger("meshlake.streams")


@dataclass(frozen=True)
class BatchResult:
    """One micro-batch: the snapshot it committed (None when none), its rows and rejects, its next offsets."""

    snapshot_id: int | None
    rows: int
    rejected: int
    offsets: dict[str, Position]
    quarantine_branch: str | None = None
    seconds: float = 0.0
    commit_seconds: float = 0.0
    commit_cpu_seconds: float = 0.0
    """The CPU time of the process (all threads) during the commit: what the commit cost, whatever the neighbours."""
    phases: dict[str, float] = field(default_factory=dict)
    """The commit's phases (`WriteResult.phases`: gate, commit, commit lock wait …) in seconds."""
    rebases: int = 0
    """How often the commit was re-based onto a snapshot committed meanwhile (a compaction, say)."""
    commit_started: float = 0.0
    """When the commit (stage + gate + commit) started, in `time.monotonic()` seconds."""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class StreamReport:
    """What one run of the consume loop did."""

    address: str
    source_id: str
    resumed_from: dict[str, Position]
    batches: list[BatchResult] = field(default_factory=list)
    offsets: dict[str, Position] = field(default_factory=dict)
    retries: int = 0
    ended: str = ""
    compactions: list[dict[str, Any]] = field(default_factory=list)
    """Compactions committed while the stream ran (`compact_every`)."""
    compaction_spans: list[tuple[float, float]] = field(default_factory=list)
    """When each compaction attempt ran (`time.monotonic()` at its start and end), committed or not."""
    compaction_errors: list[str] = field(default_factory=list)
    """Why compactions failed (the stream went on; the next interval tried again)."""
    served: list[int] = field(default_factory=list)
    """Snapshot ids published to the port's own stream (`serve: [table, stream]`)."""
    collection: Collection | None = None
    """What the garbage collector's tuning did while consuming (`meshlake.streams.collection`)."""
    serve_errors: list[str] = field(default_factory=list)
    premerges: Premerges | None = None
    """What merging manifests ahead of the commits did (`meshlake.streams.premerge`; None when off)."""

    @property
    def rows(self) -> int:
        return sum(b.rows for b in self.batches if b.quarantine_branch is None)

    @property
    def rejected(self) -> int:
        return sum(b.rejected for b in self.batches)

    @property
    def quarantined(self) -> list[str]:
        return [b.quarantine_branch for b in self.batches if b.quarantine_branch]

    def to_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "source_id": self.source_id,
            "resumed_from": self.resumed_from,
            "offsets": self.offsets,
            "batches": len(self.batches),
            "rows": self.rows,
            "rejected": self.rejected,
            "quarantined": self.quarantined,
            "retries": self.retries,
            "ended": self.ended,
            "compactions": len(self.compactions),
            "compaction_errors": self.compaction_errors,
            "served": self.served,
            "serve_errors": self.serve_errors,
        }


@dataclass(frozen=True)
class Limits:
    """When a batch closes, when the loop ends, and how long an unreachable broker is retried."""

    max_rows: int = 10_000
    max_bytes: int = 64 << 20
    max_wait: float = 1.0
    max_batches: int | None = None
    idle: float | None = None
    """End the loop after this many seconds without a message (None: run until stopped)."""
    retry_for: float = 30.0
    """Seconds of broker failures in a row (retried with backoff from 0.1 s up to 5 s) before giving up."""
    compact_every: float | None = None
    """Compact the port's small files every this many seconds while consuming (None: never)."""

    def __post_init__(self) -> None:
        for name in ("max_rows", "max_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.max_wait <= 0:
            raise ValueError(f"max_wait must be positive (seconds), got {self.max_wait}")
        if self.max_batches is not None and self.max_batches < 1:
            raise ValueError(f"max_batches must be at least 1, got {self.max_batches}")
        if self.compact_every is not None:
            check_every(self.compact_every)


def consume(
    port: Port,
    source: StreamSource,
    limits: Limits,
    *,
    start: Mapping[str, Position] | None = None,
    on_batch: Callable[[BatchResult], None] | None = None,
    serve: StreamSink | None = None,
) -> StreamReport:
    """Consume `source` into `port` until a limit ends the loop (see the module docstring)."""
    address = str(port.address)
    validate_name(source.source_id, "stream source id")
    gc_mode()  # an unknown MESHLAKE_STREAM_GC, _PREMERGE, _COMPACTION(_CLASSES) is refused before anything is read
    premerging = premerge_mode() == "on"
    if limits.compact_every is not None:
        compaction_mode()
        compaction_options()
    policy = port.contract.stream_options.on_failure
    recorded = recorded_offsets(port.table(), source.source_id)
    if recorded.identity is not None and recorded.identity != source.identity:
        raise StreamSourceMismatchError(
            address=address, source_id=source.source_id, recorded=recorded.identity, given=source.identity
        )
    positions: dict[str, Position] = dict(start) if start is not None else dict(recorded.positions)
    report = StreamReport(address, source.source_id, dict(positions), offsets=dict(positions))
    retry = _Retry(limits.retry_for, address, source.source_id, report)
    _check_gaps(retry.call(source.first_positions), positions, address, source.source_id)
    check = refuse_concurrent_consumer(source.source_id, address)
    recorded_rejects = _pending_rejects(port, source.source_id, positions)
    if serve is not None:
        _serve(port, serve, report)  # what a crash after a commit left unpublished
    compactor = background_compactor(port, limits.compact_every) if limits.compact_every is not None else None
    premerger = Premerger(port) if premerging else None
    with (
        compactor or contextlib.nullcontext(),
        suspended() if compactor is not None else contextlib.nullcontext(),  # its compactor compacts, not each batch
        premerger or contextlib.nullcontext(),
        steady_collection() as collection,
    ):
        _loop(
            port,
            source,
            limits,
            report,
            positions,
            retry,
            policy,
            check,
            on_batch,
            serve,
            recorded_rejects,
            collection,
            premerger,
            compactor,
        )
    report.collection = collection
    if premerger is not None:
        report.premerges = premerger.done
    if compactor is not None:
        report.compactions = compactor.done.runs
        report.compaction_spans = compactor.done.spans
        report.compaction_errors = compactor.done.errors
    return report


def _loop(
    port: Port,
    source: StreamSource,
    limits: Limits,
    report: StreamReport,
    positions: dict[str, Position],
    retry: _Retry,
    policy: str,
    check: RebaseCheck,
    on_batch: Callable[[BatchResult], None] | None,
    serve: StreamSink | None,
    recorded_rejects: frozenset[tuple[str, str]],
    collection: Collection,
    premerger: Premerger | None = None,
    compactor: BackgroundCompactor | None = None,
) -> None:
    while limits.max_batches is None or len(report.batches) < limits.max_batches:
        started = time.monotonic()
        messages, gap = _collect(source, positions, limits, retry)
        if not messages:
            if gap is not None:
                raise gap
            report.ended = f"idle for {limits.idle:g} s"
            break
        faults.reached("stream-fetched", port.address.identifier)
        after = dict(positions)
        for message in messages:
            after[message.partition] = message.next
        result = _commit_batch(port, source, messages, after, policy, check, recorded_rejects)
        result = BatchResult(**{**result.__dict__, "seconds": time.monotonic() - started})
        report.batches.append(result)
        positions = after
        report.offsets = dict(after)
        if result.snapshot_id is not None and premerger is not None:
            premerger.committed()
        if result.snapshot_id is not None and serve is not None:
            _serve(port, serve, report)
        try:
            source.acknowledge(after)
        except (ConnectionError, OSError) as exc:
            _LOG.warning(
                "%s: acknowledging offsets to the broker failed (%s); offsets stay in the port", port.address, exc
            )
        faults.reached("stream-acknowledged", port.address.identifier)
        if on_batch is not None:
            on_batch(result)
        if gap is not None:
            raise gap  # the messages before it are committed: stop, as a gap found at start does
        if compactor is not None:
            compactor.between_batches()  # a finished compaction commits here, where no batch races it
        collection.between_batches()
    else:
        report.ended = f"{limits.max_batches} batch(es)"


def _pending_rejects(port: Port, source_id: str, positions: Mapping[str, Position]) -> frozenset[tuple[str, str]]:
    """The malformed messages an earlier run recorded past the offsets the port committed (it crashed or stopped
    before committing their batch): this run does not record them again."""
    from meshlake.streams.rejects import pending_rejects

    return pending_rejects(port.lake.catalog, address=str(port.address), source_id=source_id, committed=positions)


def _serve(port: Port, sink: StreamSink, report: StreamReport) -> None:
    """Publish the committed snapshots the port's stream lacks; a broker failure waits for the next batch."""
    from meshlake.streams.serve import serve_snapshots

    try:
        report.served.extend(serve_snapshots(port, sink).published)
    except (ConnectionError, OSError) as exc:
        report.serve_errors.append(str(exc))
        _LOG.warning("%s: serving the stream failed (%s); the next batch publishes what is missing", port.address, exc)
    faults.reached("stream-served", port.address.identifier)


def _collect(
    source: StreamSource, positions: Mapping[str, Position], limits: Limits, retry: _Retry
) -> tuple[list[Message], StreamGapError | None]:
    """One batch's messages (empty when the loop should end idle), and the gap that ended it early, if the broker
    no longer holds the position the next message should be at (`_gap`): the batch then holds what came before."""
    idle_since = time.monotonic()
    messages: list[Message] = []
    size = 0
    reading = dict(positions)
    deadline: float | None = None
    while len(messages) < limits.max_rows and size < limits.max_bytes:
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            break
        wait = (deadline - now) if deadline is not None else limits.max_wait
        if limits.idle is not None and not messages:
            left = limits.idle - (now - idle_since)
            if left <= 0:
                return [], None
            wait = min(wait, left)
        got = retry.call(source.fetch, reading, max_messages=limits.max_rows - len(messages), timeout=wait)
        gap = _gap(got, reading, source, retry)
        if gap is not None:
            return messages, gap
        for message in got:
            if size >= limits.max_bytes:
                break  # the rest is read again by the next batch
            messages.append(message)
            size += len(message.payload)
            reading[message.partition] = message.next
        if messages and deadline is None:
            deadline = time.monotonic() + limits.max_wait
    return messages, None


def _gap(
    got: list[Message], reading: Mapping[str, Position], source: StreamSource, retry: _Retry
) -> StreamGapError | None:
    """A retention gap under a fetch: a partition whose first message is not at the position the port reads from
    (sequence numbers skipped, or positions that are never contiguous, as Redis ids) is checked against what the
    broker still holds, with the rule of the check at start (`_check_gaps`). A fetch that continues exactly where
    the port reads costs no broker call."""
    firsts: dict[str, Position] = {}
    for message in got:
        firsts.setdefault(message.partition, message.position)
    jumped = {p: reading[p] for p, position in firsts.items() if p in reading and position != reading[p]}
    if not jumped:
        return None
    try:
        _check_gaps(retry.call(source.first_positions), jumped, retry.address, retry.source_id, mid_run=True)
    except StreamGapError as found:
        return found
    return None


def _commit_batch(
    port: Port,
    source: StreamSource,
    messages: list[Message],
    after: dict[str, Position],
    policy: str,
    check: Any,
    recorded_rejects: frozenset[tuple[str, str]] = frozenset(),
) -> BatchResult:
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    from meshlake.contract.stamps import new_run_id
    from meshlake.streams.rejects import record_rejects

    address = str(port.address)
    table = port.table()
    rows, rejected = decode_batch(messages, schema_to_pyarrow(table.schema(), include_field_ids=True), address)
    run_id = new_run_id()
    stamps = stream_stamps(source.source_id, source.identity, after, policy)
    if rejected:
        record_rejects(
            port.lake.catalog,
            port.lake.warehouse,
            address=address,
            source_id=source.source_id,
            identity=source.identity,
            run_id=run_id,
            rejected=rejected,
            recorded=recorded_rejects,
        )
        faults.reached("stream-rejected", port.address.identifier)
        if policy == "stop":
            first = rejected[0]
            raise StreamStoppedError(
                f"{len(rejected)} message(s) are not rows of the port (first: partition {first.message.partition}, "
                f"offset {first.message.position}: {first.reason}); they are in meshlake.system.stream_rejects",
                address=address,
                source_id=source.source_id,
                offsets={k: str(v) for k, v in after.items()},
                quarantine_branch=None,
            )
    if rows is None or rows.num_rows == 0:
        return BatchResult(None, 0, len(rejected), after)
    committing, cpu = time.monotonic(), time.process_time()
    try:
        written = port.write(rows, mode="append", run_id=run_id, stamps=unprefixed(stamps), rebase_check=check)
    except QualityGateError as failed:
        if policy == "stop":
            raise StreamStoppedError(
                f"a batch of {rows.num_rows} row(s) failed its quality gate",
                address=address,
                source_id=source.source_id,
                offsets={k: str(v) for k, v in after.items()},
                quarantine_branch=failed.quarantine_branch,
            ) from failed
        _LOG.warning("%s: batch quarantined on %s; skipping it (on_failure: skip)", address, failed.quarantine_branch)
        return BatchResult(None, rows.num_rows, len(rejected), after, failed.quarantine_branch)
    faults.reached("stream-committed", port.address.identifier)
    return BatchResult(
        written.snapshot_id,
        rows.num_rows,
        len(rejected),
        after,
        commit_seconds=time.monotonic() - committing,
        commit_cpu_seconds=time.process_time() - cpu,
        phases=dict(written.phases),
        rebases=written.rebases,
        commit_started=committing,
    )


def _check_gaps(
    first: Mapping[str, Position],
    positions: Mapping[str, Position],
    address: str,
    source_id: str,
    *,
    mid_run: bool = False,
) -> None:
    gaps = [
        (partition, str(needed), str(first[partition]))
        for partition, needed in sorted(positions.items())
        if partition in first and position_order(first[partition]) > position_order(needed)
    ]
    if gaps:
        raise StreamGapError(address=address, source_id=source_id, gaps=gaps, mid_run=mid_run)


class _Retry:
    """Calls to the broker, retried with backoff while failures last less than `retry_for` seconds."""

    def __init__(self, retry_for: float, address: str, source_id: str, report: StreamReport) -> None:
        self.retry_for = retry_for
        self.address = address
        self.source_id = source_id
        self.report = report

    def call(self, action: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        failing_since: float | None = None
        attempts = 0
        delay = 0.1
        while True:
            try:
                return action(*args, **kwargs)
            except (ConnectionError, OSError, TimeoutError) as exc:
                attempts += 1
                self.report.retries += 1
                now = time.monotonic()
                failing_since = failing_since if failing_since is not None else now
                if now - failing_since + delay > self.retry_for:
                    raise StreamSourceUnavailableError(
                        address=self.address, source_id=self.source_id, attempts=attempts, cause=str(exc)
                    ) from exc
                _LOG.warning("%s: broker failed (%s); retry %d in %.1f s", self.address, exc, attempts, delay)
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
