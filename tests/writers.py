"""Writer processes for the concurrency and crash tests and benchmarks (importable by spawned children).

Every row a writer appends is tagged `<writer>-<seq>-<i>`, so the final table tells which batches landed.
Row changers (`upsert:<write_mode>`, `delete:<write_mode>`) change the seeded keys `base-<n>` (`seed()`) by a
rule of their name and sequence number only (`change()`), so a checker replays the committed writes of the
port's history into the exact key → row table the port must hold (`tests.crash.expected_rows`).
Outcomes come back as plain dicts; `ack_file` (crash runs) gets one line per acknowledged write, written
with `os.write` right after `port.write` returns, so it survives a SIGKILL of the writer.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

import meshlake as ml
from meshlake.errors import CommitConflictError, QualityGateError
from tests.backends import DAY1, DAY2, DAY2_WHERE, shipments

BASE_KEYS = 24
"""Keys `base-0` … `base-23`, written by `seed()`, that upserts and deletes change."""
ROW_CHANGES = ("upsert", "delete")
WRITE_MODES = ("merge-on-read", "copy-on-write")


def seed() -> pa.Table:
    """The rows row changers start from: `base-<n>` with weight 1.0 on day 1."""
    return _rows([f"base-{n}" for n in range(BASE_KEYS)], 1.0)


def _rows(ids: list[str], weight: float) -> pa.Table:
    return pa.table(
        {
            "shipment_id": ids,
            "shipped_at": pa.array([DAY1] * len(ids), pa.timestamp("us", tz="UTC")),
            "weight_kg": [weight] * len(ids),
        }
    )


def appended(writer: str, seq: int, size: int = 3) -> pa.Table:
    """The rows append `seq` of `writer` writes (on day 1 or 2, alternately)."""
    return shipments(writer, seq, size, day=DAY1 if seq % 2 == 0 else DAY2)


def change(writer: str, role: str, seq: int) -> tuple[pa.Table | None, list[str]]:
    """What write `seq` of `writer` in `role` does, from its name and number only: the rows an upsert writes (two
    seeded keys and a new one, weighted by writer and seq) or, for a delete (rows None), the keys it removes."""
    kind = role.partition(":")[0]
    shift = sum(map(ord, writer)) * (3 if kind == "delete" else 1)
    keys = [f"base-{(shift + 2 * seq + j) % BASE_KEYS}" for j in (0, 1)]
    if kind == "delete":
        return None, keys
    weight = float(seq % 40) + (shift % 97) / 100
    return _rows([*keys, f"{writer}-{seq}-0"], weight), keys


def wait_for_peers(barrier: str | None, writer: str, peers: int, timeout: float = 120.0) -> None:
    """A barrier across processes: each writer drops a file in `barrier`, then waits for `peers` files."""
    if barrier is None:
        return
    folder = Path(barrier)
    (folder / f"{writer}.ready").touch()
    deadline = time.monotonic() + timeout
    while len(list(folder.glob("*.ready"))) < peers:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{writer}: only {len(list(folder.glob('*.ready')))} of {peers} writers started")
        time.sleep(0.005)


def run_writers(
    settings: dict[str, Any], address: str, jobs: list[tuple[str, str, int]], barrier: Path
) -> list[dict[str, Any]]:
    """Run (writer, role, count) jobs in a process each, released together; every write's outcome."""
    import multiprocessing

    barrier.mkdir(parents=True)
    context = multiprocessing.get_context("spawn")
    with context.Pool(len(jobs)) as pool:
        pending = [
            pool.apply_async(
                run_writer, (settings, address, writer, role, count), {"barrier": str(barrier), "peers": len(jobs)}
            )
            for writer, role, count in jobs
        ]
        results = [job.get(timeout=1800) for job in pending]
    return [outcome for outcomes in results for outcome in outcomes]


def run_writer(
    settings: dict[str, Any],
    address: str,
    writer: str,
    role: str,
    count: int,
    *,
    barrier: str | None = None,
    peers: int = 1,
    size: int = 3,
) -> list[dict[str, Any]]:
    """Write `count` batches as `role`: `append` (alternating days), `replace` (day 2) or `bad` (fails the gate)."""
    port = ml.connect(**settings).port(address)
    port.table()  # connect and load before the start line
    wait_for_peers(barrier, writer, peers)
    outcomes = []
    for seq in range(count):
        outcomes.append(write_one(port, writer, role, seq, size=size))
    return outcomes


def write_one(port: Any, writer: str, role: str, seq: int, *, size: int = 3) -> dict[str, Any]:
    """One write; what happened to it, as a dict (never raises for the outcomes a role expects).

    Roles: `append` (alternating days), `replace` (day 2), `bad` (fails the gate), or `upsert:<write_mode>` /
    `delete:<write_mode>` (the rows `change()` names, merge-on-read or copy-on-write)."""
    kind, _, write_mode = role.partition(":")
    delete_keys: list[str] | None = None
    if kind in ROW_CHANGES:
        changed, keys = change(writer, role, seq)
        if changed is None:
            data, mode, where, delete_keys = None, "delete", None, keys
        else:
            data, mode, where = changed, "upsert", None
    elif role == "append":
        data, mode, where = appended(writer, seq, size), "append", None
    elif role == "replace":
        data, mode, where = shipments(writer, seq, size, day=DAY2), "replace", DAY2_WHERE
    elif role == "bad":
        data, mode, where = shipments(writer, seq, size, weight=99.0), "append", None
    else:
        raise ValueError(f"unknown role {role!r}")
    run_id = f"{writer}-{seq}"
    outcome: dict[str, Any] = {
        "writer": writer,
        "role": role,
        "seq": seq,
        "run_id": run_id,
        "ids": delete_keys if data is None else data["shipment_id"].to_pylist(),
        "ok": False,
        "error": None,
        "snapshot_id": None,
        "rebases": 0,
        "commit_retries": 0,
    }
    started = time.perf_counter()
    try:
        if data is None:
            keys = ", ".join(f"'{key}'" for key in outcome["ids"])
            result = port.delete(f"shipment_id IN ({keys})", run_id=run_id, writer=writer, write_mode=write_mode)
        elif write_mode:
            result = port.write(data, mode=mode, run_id=run_id, writer=writer, write_mode=write_mode)
        else:
            result = port.write(data, mode=mode, where=where, run_id=run_id, writer=writer)
    except CommitConflictError:
        outcome["error"] = "conflict"
    except QualityGateError:
        outcome["error"] = "gate"
    except Exception as exc:  # anything else is a bug to report, not a reason to stop the other writers
        outcome["error"] = f"{type(exc).__name__}: {exc}"[:500]
    else:
        outcome |= {
            "ok": True,
            "snapshot_id": result.snapshot_id,
            "rebases": result.rebases,
            "commit_retries": result.commit_retries,
        }
    outcome["seconds"] = time.perf_counter() - started
    return outcome


def crash_writer(
    settings: dict[str, Any], address: str, writer: str, first_seq: int, ack_file: str, role: str = "append"
) -> None:
    """Write batches in `role` until killed (the parent SIGKILLs it, or `MESHLAKE_CRASH_AT` does); ack each one."""
    port = ml.connect(**settings).port(address)
    port.table()
    fd = os.open(ack_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, json.dumps({"ready": writer}).encode() + b"\n")
    seq = first_seq
    while True:
        outcome = write_one(port, writer, role, seq)
        if outcome["ok"]:
            os.write(fd, json.dumps({"run_id": outcome["run_id"], "ids": outcome["ids"]}).encode() + b"\n")
        seq += 1


def poll_reader(settings: dict[str, Any], address: str, log_file: str, stop_file: str) -> None:
    """Read the port's published snapshot over and over, logging `(snapshot id, rows read)` each time.

    Rows are counted by reading the files (DuckDB, in place, pending deletes applied), not from metadata, so
    a torn or partial snapshot would show up as a count other than the live rows its summary records.
    Errors are logged too (never expected).
    """
    lake = ml.connect(**settings)
    fd = os.open(log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    while not os.path.exists(stop_file):
        line: dict[str, Any] = {}
        for attempt in (1, 2):  # one retry: S3 reads have rare transient errors (docs/s3-notes.md)
            try:
                snapshot = lake.port(address).latest()
                rows = snapshot.to_arrow().num_rows
                line |= {"snapshot_id": snapshot.snapshot_id, "rows": rows, "summary_rows": snapshot.rows}
                break
            except Exception as exc:  # a reader must never fail; log it for the test to report
                line["error" if attempt == 2 else "retried"] = f"{type(exc).__name__}: {exc}"[:500]
        os.write(fd, json.dumps(line).encode() + b"\n")
        time.sleep(0.01)
