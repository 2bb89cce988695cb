"""A write that keeps losing the race for `main` still ends: this process's other writers wait for it once it lost a
race, and against writers elsewhere it gives up after `MAX_REBASES` re-bases with `CommitConflictError`, committing
nothing. Real commits race it: meshlake's own writes on a thread, and pyiceberg appends (a foreign engine, which
takes no meshlake lock) made right before each of its commit attempts."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pytest

import meshlake as ml
from meshlake.errors import CommitConflictError
from meshlake.write import commit, commit_loop
from tests.conftest import DescriptorWriter
from tests.test_maintain import deploy, files_on_disk, referenced, rows

KEPT = ["k0", "k1", "k2"]
DELETED = ["d0", "d1"]


def ids(port: Any) -> list[str]:
    return sorted(str(r["shipment_id"]) for r in port.latest().to_arrow().to_pylist())


@pytest.fixture
def port(lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter) -> Any:
    port = deploy(lake, descriptor, write_descriptor)
    port.write(rows([*KEPT, *DELETED]))
    return port


def foreign_append(port: Any, shipment_id: str) -> None:
    """An append by another engine: pyiceberg's own commit, outside meshlake's process-wide commit lock."""
    table = port.table()
    schema = table.schema().as_arrow()
    row = rows([shipment_id])
    missing = [pa.nulls(1, field.type) for field in schema if field.name not in row.column_names]
    full = pa.table(
        [*row.columns, *missing], names=[*row.column_names, *(f.name for f in schema if f.name not in row.column_names)]
    )
    table.append(full.select(schema.names).cast(schema))


def before_main_commits(monkeypatch: pytest.MonkeyPatch, action: Callable[[int], None]) -> list[int]:
    """Run `action(n)` before the n-th attempt (from 0) of this thread's write to commit on `main` (other threads'
    writes commit untouched); returns the attempts."""
    attempts: list[int] = []
    real = commit.commit_snapshot
    racer = threading.current_thread()

    def racing(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("branch") == "main" and threading.current_thread() is racer:
            action(len(attempts))
            attempts.append(len(attempts))
        return real(*args, **kwargs)

    monkeypatch.setattr(commit, "commit_snapshot", racing)
    return attempts


class AppendInThisProcess:
    """A meshlake append of `t0` on another thread of this process, started while a write that lost a race holds (or
    should hold) this process's commit lock on the table."""

    def __init__(self, port: Any) -> None:
        self.port = port
        self.thread: threading.Thread | None = None
        self.failures: list[BaseException] = []

    def start(self, blocked: str) -> None:
        """Start the append and give it 3 s: it must still be waiting for the lock (`blocked` says why not)."""
        self.thread = threading.Thread(target=self._append)
        self.thread.start()
        self.thread.join(timeout=3)
        assert self.thread.is_alive(), blocked

    def _append(self) -> None:
        try:
            self.port.write(rows(["t0"]))
        except BaseException as exc:  # pragma: no cover - reported by `join`
            self.failures.append(exc)

    def join(self) -> list[BaseException]:
        """Wait for the append; its failures."""
        assert self.thread is not None
        self.thread.join()
        return self.failures


def test_a_write_that_others_keep_beating_gives_up_and_commits_nothing(
    port: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(commit_loop, "MAX_REBASES", 3)
    attempts = before_main_commits(monkeypatch, lambda n: foreign_append(port, f"f{n}"))
    on_disk = set(files_on_disk(port))

    with pytest.raises(CommitConflictError, match="main moved 4 times while this delete was committing"):
        port.delete("shipment_id IN ('d0', 'd1')", write_mode="copy-on-write")

    assert len(attempts) == 4
    assert ids(port) == sorted([*KEPT, *DELETED, "f0", "f1", "f2", "f3"]), "every foreign append kept, no delete"
    left = {p for p in set(files_on_disk(port)) - on_disk if p.endswith(".parquet")}
    assert left <= referenced(port), "the delete's own files were removed"


def test_a_write_that_lost_once_makes_this_processs_writers_wait_for_it(
    port: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After its first lost race (to a foreign append), a meshlake append on another thread of this process starts
    during the delete's re-base: it must wait for the delete's commit, not move `main` under it again."""
    appender = AppendInThisProcess(port)

    def race(attempt: int) -> None:
        if attempt == 0:
            foreign_append(port, "f0")
        elif attempt == 1:  # the re-base is done and this process's commit lock held: the append must block
            appender.start("the append committed while the delete that lost a race was re-basing")

    before_main_commits(monkeypatch, race)
    result = port.delete("shipment_id IN ('d0', 'd1')", write_mode="copy-on-write")
    failures = appender.join()

    assert not failures
    assert result.rebases == 1
    assert ids(port) == sorted([*KEPT, "f0", "t0"])
    assert port.history()[-1].mode == "append", "the waiting append committed after the delete"


def test_the_waiting_writers_go_as_soon_as_the_write_lands(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commit lock a write took after its lost race is let go once its snapshot is on `main`: the process's
    other writers need not wait while the gate appends its verdict to the quality history."""
    from meshlake.quality.gate import PortGate

    expectations = [{"expect_column_values_to_be_between": {"column": "weight_kg", "min_value": 0, "max_value": 50}}]
    port = deploy(lake, descriptor, write_descriptor, expectations=expectations)
    port.write(rows([*KEPT, *DELETED]))

    free_while_recording: list[bool] = []
    record = PortGate.record

    def recording(self: PortGate, report: Any, snapshot_id: int, *, published: bool) -> Any:
        lock = commit.commit_lock(port.table())
        taken: list[bool] = []

        def take() -> None:
            taken.append(lock.acquire(timeout=2))
            if taken[-1]:
                lock.release()

        other = threading.Thread(target=take)
        other.start()
        other.join()
        free_while_recording.append(taken == [True])
        return record(self, report, snapshot_id, published=published)

    monkeypatch.setattr(PortGate, "record", recording)
    before_main_commits(monkeypatch, lambda n: foreign_append(port, "f0") if n == 0 else None)
    result = port.delete("shipment_id IN ('d0', 'd1')", write_mode="copy-on-write")

    assert result.rebases == 1, "the delete lost a race, so it held the lock"
    assert free_while_recording == [True], "another thread could take the commit lock while the verdict was recorded"
    assert ids(port) == sorted([*KEPT, "f0"])


@pytest.mark.parametrize("writer", ["delete", "compaction"])
def test_no_writer_of_this_process_commits_between_a_lost_race_and_its_rebase(
    lake: ml.Lake, port: Any, monkeypatch: pytest.MonkeyPatch, writer: str
) -> None:
    """A meshlake append on another thread of this process, waiting for the commit lock while a write loses its first
    race (to a foreign append), must not get the lock before the re-base: the write would re-base onto a `main` that
    already moved again and lose a second race."""
    import meshlake.maintenance.compact as compact_module
    from meshlake.maintenance.compact import compact

    module: Any = commit if writer == "delete" else compact_module
    real = module.commit_snapshot
    racer = threading.current_thread()
    appender = AppendInThisProcess(port)

    def racing(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("branch") != "main" or threading.current_thread() is not racer or appender.thread:
            return real(*args, **kwargs)
        foreign_append(port, "f0")
        try:
            return real(*args, **kwargs)
        except commit.MainMovedError:
            appender.start("another writer of this process committed between the lost race and the re-base")
            raise

    monkeypatch.setattr(module, "commit_snapshot", racing)
    if writer == "delete":
        rebases = port.delete("shipment_id IN ('d0', 'd1')", write_mode="copy-on-write").rebases
        expected = [*KEPT, "f0", "t0"]
    else:
        for index in range(5):
            port.write(rows([f"s{index}"]))
        _, done = compact(lake.catalog, port.table(), product_version="1", run_id="r", apply=True)
        assert done.files_before == 6
        rebases = done.rebases
        expected = [*KEPT, *DELETED, *(f"s{index}" for index in range(5)), "f0", "t0"]
    failures = appender.join()

    assert not failures
    assert rebases == 1
    assert ids(port) == sorted(expected)
    assert port.history()[-1].mode == "append", "the waiting append committed after the write that lost a race"
