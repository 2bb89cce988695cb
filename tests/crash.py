"""Crash runs: SIGKILL writer processes again and again while a reader polls the port, then check.

    run = crash_run(settings, address, workdir, kills=20, rng=random.Random(1))
    run.torn_reads, run.lost_commits, run.duplicates, run.orphans_found, run.orphans_removed
    run = crash_run(..., roles=("upsert:merge-on-read", "delete:merge-on-read", "append"))  # writers × modes

Each killed writer has a role (`tests.writers.write_one`), cycled over the kills: appends, or upserts and deletes
of seeded keys, merge-on-read or copy-on-write. The port's rows are checked by content, after every kill and at
the end: the committed writes of its history (each found by the run id stamped on its snapshot) are replayed
into the exact key → row table the port must hold (`expected_rows`), and the port read by DuckDB and by Polars
must equal it: no row lost or stale, none resurrected after a delete, none from an uncommitted write, no
duplicate key, and every delete file of the snapshot exists and references a live data file.

Half the kills (by default) hit an exact phase of a write through meshlake's crash seam
(`MESHLAKE_CRASH_AT`, see `meshlake.write.faults`): after its data files are written, after the quality gate,
right before the catalog commit, or right after it. The others land at a random instant; the writer's
phase trace (`MESHLAKE_CRASH_TRACE`) tells which phase they interrupted. Nothing is mocked: the writer is
a real process on the real backend, killed with SIGKILL.

Used by `tests/integration/test_crash.py` (a few kills per catalog) and `benchmarks/bench_reliability.py`.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import meshlake as ml
from meshlake.contract.stamps import MODE, RUN_ID
from meshlake.write import faults
from tests.writers import ROW_CHANGES, appended, change, crash_writer, poll_reader, seed

# What a writer was doing when it died, by the last phase marker it passed (see meshlake.write.faults).
INTERRUPTED = {
    None: "writing data files",
    "files": "checking (quality gate)",
    "checked": "staging the commit (manifests)",
    "commit": "committing (catalog)",
    "committed": "recording the quality verdict",
}
RECORDING = "recording the quality verdict"
EXACT_PHASES = ("files", "checked", "commit", "committed")
SEED_RUN = "seed"
_PRELOAD = ["meshlake", "tests.writers", "duckdb", "pyarrow.parquet", "pyiceberg.catalog.sql", "pyiceberg.catalog.rest"]


@dataclass
class CrashRun:
    kills: list[dict[str, Any]] = field(default_factory=list)
    acknowledged: dict[str, list[str]] = field(default_factory=dict)
    reads: int = 0
    snapshots_seen: int = 0
    read_errors: list[str] = field(default_factory=list)
    torn_reads: list[dict[str, Any]] = field(default_factory=list)
    lost_commits: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    unknown_rows: list[str] = field(default_factory=list)
    lost_rows: list[str] = field(default_factory=list)
    """Rows a committed write left in the port missing, or holding another write's version (after a kill: `k3: …`)."""
    resurrected_rows: list[str] = field(default_factory=list)
    """Rows a committed delete or upsert removed, back in the port."""
    unknown_commits: list[str] = field(default_factory=list)
    """Snapshots of the port's history that no writer of the run made (their run ids)."""
    dangling_deletes: list[str] = field(default_factory=list)
    """Delete files of the published snapshot that are missing or reference no live data file."""
    engine_mismatches: list[str] = field(default_factory=list)
    """Snapshots read differently by the DuckDB and the Polars path."""
    delete_files: int = 0
    """Delete files of the final snapshot (pending merge-on-read deletes)."""
    load_failures: list[str] = field(default_factory=list)
    read_retries: int = 0
    committed_snapshots: int = 0
    final_rows: int = 0
    orphans_found: int = 0
    orphans_found_in_quality_history: int = 0
    orphans_by_kind: Counter[str] = field(default_factory=Counter)
    """Of `orphans_found`, those of `meshlake.system.quality_results` (shared by every port of the lake)."""
    orphans_removed: int = 0
    orphans_left: int = 0
    rows_after_cleanup: int = 0
    maintain_errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def kills_by_phase(self) -> dict[str, int]:
        return dict(Counter(kill["interrupted"] for kill in self.kills))

    @property
    def ok(self) -> bool:
        return not (
            self.torn_reads
            or self.lost_commits
            or self.duplicates
            or self.unknown_rows
            or self.lost_rows
            or self.resurrected_rows
            or self.unknown_commits
            or self.dangling_deletes
            or self.engine_mismatches
            or self.load_failures
            or self.read_errors
            or any(kill["how"] not in ("exact", "random") for kill in self.kills)
            or self.maintain_errors
            or self.orphans_left
            or self.rows_after_cleanup != self.final_rows
        )

    def summary(self) -> dict[str, Any]:
        return {
            "kills": len(self.kills),
            "kills_by_phase": self.kills_by_phase,
            "kills_exact": sum(1 for k in self.kills if k["how"] == "exact"),
            "kills_random": sum(1 for k in self.kills if k["how"] == "random"),
            "acknowledged_commits": len(self.acknowledged),
            "committed_snapshots": self.committed_snapshots,
            "reads": self.reads,
            "snapshots_seen_by_reader": self.snapshots_seen,
            "torn_reads": len(self.torn_reads),
            "lost_commits": len(self.lost_commits),
            "duplicate_rows": len(self.duplicates),
            "rows_from_no_write": len(self.unknown_rows),
            "lost_rows": len(self.lost_rows),
            "resurrected_rows": len(self.resurrected_rows),
            "unknown_commits": len(self.unknown_commits),
            "dangling_delete_files": len(self.dangling_deletes),
            "duckdb_polars_mismatches": len(self.engine_mismatches),
            "delete_files": self.delete_files,
            "load_failures": len(self.load_failures),
            "read_errors": len(self.read_errors),
            "read_retries": self.read_retries,
            "orphan_files_found": self.orphans_found,
            "orphan_files_found_in_quality_history": self.orphans_found_in_quality_history,
            "orphan_files_by_kind": dict(self.orphans_by_kind),
            "orphan_files_removed": self.orphans_removed,
            "orphan_files_left": self.orphans_left,
            "rows": self.final_rows,
            "rows_after_cleanup": self.rows_after_cleanup,
            "seconds": round(self.seconds, 1),
        }


def _crash_child(
    settings: dict[str, Any],
    address: str,
    writer: str,
    first_seq: int,
    ack_file: str,
    crash_at: str | None,
    trace_file: str,
    role: str,
) -> None:
    os.environ[faults.CRASH_TRACE] = trace_file
    if crash_at:
        os.environ[faults.CRASH_AT] = crash_at
    crash_writer(settings, address, writer, first_seq, ack_file, role)


def crash_run(
    settings: dict[str, Any],
    address: str,
    workdir: Path,
    *,
    kills: int,
    rng: random.Random,
    schedule: list[str | None] | None = None,
    exact_share: float = 0.5,
    random_delay: tuple[float, float] = (0.05, 1.2),
    product: str | None = None,
    start_method: str = "forkserver",
    roles: Sequence[str] = ("append",),
) -> CrashRun:
    """Kill `kills` writers of `address` (deployed already) with SIGKILL while a reader polls; then check.

    Each kill is exact (a `MESHLAKE_CRASH_AT` spec, e.g. `commit:2`) with probability `exact_share`, else at a
    random instant; `schedule` fixes the sequence instead (one spec, or None for a random instant, per kill).
    The i-th writer writes in `roles[i % len(roles)]`; with row changers among them, the port is seeded first.
    """
    started = time.perf_counter()
    workdir.mkdir(parents=True, exist_ok=True)
    context: Any = multiprocessing.get_context(start_method)
    if start_method == "forkserver":
        context.set_forkserver_preload(_PRELOAD)
    run = CrashRun()
    reads_log, stop_file = workdir / "reads.jsonl", workdir / "stop"
    reader = context.Process(target=poll_reader, args=(settings, address, str(reads_log), str(stop_file)))
    reader.start()
    lake = ml.connect(**settings)
    if any(role.partition(":")[0] in ROW_CHANGES for role in roles):
        lake.port(address).write(seed(), mode="append", run_id=SEED_RUN)
    try:
        if schedule is None:
            schedule = [_random_spec(rng) if rng.random() < exact_share else None for _ in range(kills)]
        for index, crash_at in enumerate(schedule):
            role = roles[index % len(roles)]
            run.kills.append(_kill_one(context, settings, address, workdir, index, crash_at, rng, random_delay, role))
            try:  # the table always loads, and reads what its committed writes say, after every crash
                _check_content(run, lake, address, f"after kill {index}")
            except Exception as exc:
                run.load_failures.append(f"after kill {index}: {type(exc).__name__}: {exc}"[:500])
    finally:
        stop_file.touch()
        reader.join(timeout=60)
        if reader.is_alive():
            reader.kill()
    _check(run, lake, address, workdir, reads_log)
    _clean(run, lake, address, product)
    run.seconds = time.perf_counter() - started
    return run


def _kill_one(
    context: Any,
    settings: dict[str, Any],
    address: str,
    workdir: Path,
    index: int,
    crash_at: str | None,
    rng: random.Random,
    random_delay: tuple[float, float],
    role: str = "append",
) -> dict[str, Any]:
    writer = f"k{index}"
    ack_file, trace_file = workdir / f"{writer}.acks", workdir / f"{writer}.trace"
    exact = crash_at is not None
    process = context.Process(
        target=_crash_child, args=(settings, address, writer, 0, str(ack_file), crash_at, str(trace_file), role)
    )
    process.start()
    _wait_until_ready(ack_file, process)
    if exact:
        process.join(timeout=120)
    else:
        time.sleep(rng.uniform(*random_delay))
    if process.is_alive():
        os.kill(process.pid, signal.SIGKILL)
        how = "random" if not exact else "timeout"
    else:
        how = "exact" if process.exitcode == -signal.SIGKILL else f"died (exit status {process.exitcode})"
    process.join(timeout=30)
    trace = [line.split() for line in trace_file.read_text().splitlines()] if trace_file.exists() else []
    _, last, table = trace[-1] if trace else (None, None, None)
    return {
        "writer": writer,
        "role": role,
        "how": how,
        "crash_at": crash_at,
        "exitcode": process.exitcode,
        "last_phase": last,
        "last_table": table,
        "interrupted": _interrupted(last, table, address),
    }


def _interrupted(phase: str | None, table: str | None, address: str) -> str:
    """A port write passes files → checked → commit → committed, then the same for its quality verdict."""
    if table is None or table == address:
        return INTERRUPTED[phase]
    return "writing data files" if phase == "committed" else RECORDING


def _random_spec(rng: random.Random) -> str:
    """A phase, and which time it is reached (each write passes every phase twice: port, quality record)."""
    return f"{rng.choice(EXACT_PHASES)}:{rng.randint(1, 4)}"


def _wait_until_ready(ack_file: Path, process: Any, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ack_file.exists() and b"ready" in ack_file.read_bytes()[:200]:
            return
        if not process.is_alive():
            return
        time.sleep(0.005)
    raise TimeoutError(f"writer {process.pid} did not start within {timeout}s")


def _lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    lines = []
    for raw in path.read_text().splitlines():
        try:
            lines.append(json.loads(raw))
        except json.JSONDecodeError:  # a line cut by the kill (never an acknowledged one: acks are one write)
            continue
    return lines


def _check(run: CrashRun, lake: ml.Lake, address: str, workdir: Path, reads_log: Path) -> None:
    for kill in run.kills:
        for line in _lines(workdir / f"{kill['writer']}.acks"):
            if "run_id" in line:
                run.acknowledged[line["run_id"]] = line["ids"]
    port = lake.port(address)
    lineage = _main_lineage(port.table())
    published = {s.snapshot_id: _live_records(s) for s in lineage}
    committed = {_run_id(s) for s in lineage}
    run.committed_snapshots = len(lineage)
    seen: set[int] = set()
    for read in _lines(reads_log):
        run.read_retries += "retried" in read
        if "error" in read:
            run.read_errors.append(read["error"])
            continue
        run.reads += 1
        snapshot_id = read["snapshot_id"]
        if snapshot_id is not None:
            seen.add(snapshot_id)
        live = 0 if snapshot_id is None else published.get(snapshot_id)
        if read["rows"] != live or read["rows"] != read["summary_rows"]:
            run.torn_reads.append(read)
    run.snapshots_seen = len(seen)
    run.lost_commits = sorted(r for r in run.acknowledged if r not in committed)
    rows = _check_content(run, lake, address, "at the end")
    run.final_rows = len(rows)


def expected_rows(
    run_ids: Sequence[str | None], roles: dict[str, str]
) -> tuple[dict[str, tuple[Any, ...]], set[str], list[str]]:
    """Replay committed writes (their run ids, oldest first) of writers in `roles` (writer → role).

    Returns the rows the port must hold (key → row), every key a committed write ever wrote, and the run ids
    no writer of the run made."""
    rows: dict[str, tuple[Any, ...]] = {}
    written: set[str] = set()
    unknown: list[str] = []
    for run_id in run_ids:
        writer, _, seq = (run_id or "").rpartition("-")
        if run_id == SEED_RUN:
            data, keys = seed(), []
        elif writer in roles and seq.isdigit():
            role = roles[writer]
            data, keys = change(writer, role, int(seq)) if role != "append" else (appended(writer, int(seq)), [])
        else:
            unknown.append(str(run_id))
            continue
        if data is None:
            for key in keys:
                rows.pop(key, None)
            continue
        for row in data.to_pylist():
            rows[row["shipment_id"]] = tuple(row.values())
            written.add(row["shipment_id"])
    return rows, written, unknown


def _check_content(run: CrashRun, lake: ml.Lake, address: str, when: str) -> list[tuple[Any, ...]]:
    """Check the port's published snapshot row by row against its committed writes; its rows (DuckDB path)."""
    port = lake.port(address)
    snapshot = port.latest()
    table = port.table()
    lineage = list(reversed(_main_lineage(table)))
    roles = {kill["writer"]: kill["role"] for kill in run.kills}
    # a compaction (automatic after a write once the port holds enough small files) rewrites files, not rows
    writes = [s for s in lineage if not _is_compaction(s)]
    run_ids = [_run_id(s) for s in writes if _run_id(s) is not None or _live_records(s) != 0]
    expected, written, unknown = expected_rows(run_ids, roles)
    run.unknown_commits = unknown
    rows = sorted(tuple(r.values()) for r in snapshot.to_arrow().to_pylist())
    polars_rows = sorted(tuple(r.values()) for r in snapshot.to_polars().collect().to_arrow().to_pylist())
    if polars_rows != rows:
        run.engine_mismatches.append(f"{when}: snapshot {snapshot.snapshot_id}")
    keys = Counter(row[0] for row in rows)
    present = {row[0]: row for row in rows}
    run.duplicates = sorted(k for k, n in keys.items() if n > 1)
    run.lost_rows = [f"{when}: {k}" for k, row in expected.items() if present.get(k) != row]
    run.resurrected_rows = [f"{when}: {k}" for k in present if k not in expected and k in written]
    run.unknown_rows = sorted(k for k in present if k not in written)
    run.dangling_deletes = [
        f"{when}: {problem}" for problem in _dangling_deletes(table, lineage[-1] if lineage else None)
    ]
    run.delete_files = sum(len(t.position_deletes) for t in snapshot.plan.tasks)
    return rows


def _run_id(snapshot: Any) -> str | None:
    return snapshot.summary.additional_properties.get(RUN_ID) if snapshot.summary else None


def _is_compaction(snapshot: Any) -> bool:
    return bool(snapshot.summary and snapshot.summary.additional_properties.get(MODE) == "compact")


def _live_records(snapshot: Any) -> int:
    from meshlake.query.provenance import live_records

    return live_records(snapshot.summary.additional_properties) if snapshot.summary else 0


def _dangling_deletes(table: Any, snapshot: Any) -> list[str]:
    """Delete files of `snapshot` that are missing, or whose `file_path` bounds name no live data file of it."""
    from pyiceberg.conversions import from_bytes
    from pyiceberg.manifest import ManifestContent
    from pyiceberg.types import StringType

    from meshlake.query.plan import FILE_PATH_FIELD_ID

    if snapshot is None:
        return []
    data: set[str] = set()
    deletes = []
    for manifest in snapshot.manifests(table.io):
        for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True):
            if manifest.content == ManifestContent.DATA:
                data.add(entry.data_file.file_path)
            else:
                deletes.append(entry.data_file)
    problems = []
    for delete in deletes:
        bounds = delete.lower_bounds or {}, delete.upper_bounds or {}
        names = {str(from_bytes(StringType(), b[FILE_PATH_FIELD_ID])) for b in bounds if FILE_PATH_FIELD_ID in b}
        if len(names) != 1 or not names <= data:
            problems.append(f"{delete.file_path} references {sorted(names) or 'no single file'}, not a live data file")
        if not table.io.new_input(delete.file_path).exists():
            problems.append(f"{delete.file_path} is missing")
    return problems


def _main_lineage(table: Any) -> list[Any]:
    from pyiceberg.table.snapshots import ancestors_of

    head = table.metadata.snapshot_by_name("main")
    return list(ancestors_of(head, table.metadata)) if head else []


def orphan_kind(path: str) -> str:
    """`data` (Parquet), `manifests` (Avro manifests and manifest lists) or `metadata` (table metadata JSON).

    Old `metadata.json` files that fall out of the metadata log (the last 10, `write.metadata.previous-versions-max`)
    are deleted at commit; one is an orphan when its writer was killed between writing it and the catalog's
    UPDATE.
    """
    if path.endswith(".parquet"):
        return "data"
    if path.endswith(".avro"):
        return "manifests"
    return "metadata" if path.endswith(".metadata.json") else "other"


def _clean(run: CrashRun, lake: ml.Lake, address: str, product: str | None) -> None:
    """Orphan files left by the kills: listed by a dry run, removed by `apply=True`, none left after."""
    for selection in (product or address, "meshlake.system"):  # the port, and the quality history

        def maintain(apply: bool, selection: str = selection) -> Any:
            report = lake.maintain(selection, apply=apply, expire=False, compact=False, orphan_age=timedelta(0))
            run.maintain_errors.extend(report.errors)
            return report

        files = [f for p in maintain(False).ports for f in p.orphan_files]
        run.orphans_found += len(files)
        run.orphans_by_kind.update(orphan_kind(f) for f in files)
        if selection == "meshlake.system":
            run.orphans_found_in_quality_history = len(files)
        run.orphans_removed += sum(len(p.orphan_files_removed) for p in maintain(True).ports)
        run.orphans_left += sum(len(p.orphan_files) for p in maintain(False).ports)
    run.rows_after_cleanup = len(_check_content(run, lake, address, "after removing orphan files"))
