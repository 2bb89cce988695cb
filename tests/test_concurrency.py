"""Several processes writing one port: appends all land, conflicting overwrites fail, nothing is dropped."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import meshlake as ml
from meshlake.contract.stamps import Stamps
from meshlake.errors import CommitConflictError
from meshlake.write.commit import Change, MainMovedError, commit_snapshot, main_head
from meshlake.write.flow import write_port
from tests.workers import batch, run_row_changer, run_writer


def published_runs(port: Any) -> list[tuple[str | None, str | None]]:
    return [(entry.run_id, entry.mode) for entry in port.history()]


def run_all(home: Path, jobs: list[tuple[str, str, int]]) -> list[dict[str, Any]]:
    context = multiprocessing.get_context("spawn")
    with context.Pool(len(jobs)) as pool:
        results = pool.starmap(run_writer, [(str(home), writer, mode, count) for writer, mode, count in jobs])
    return [outcome for outcomes in results for outcome in outcomes]


@pytest.mark.slow
def test_concurrent_appends_all_land_exactly_once(shipments: ml.Lake, tmp_path: Path) -> None:
    outcomes = run_all(tmp_path / ".meshlake", [(f"w{i}", "append", 8) for i in range(4)])
    assert all(o["ok"] for o in outcomes)
    port = shipments.port("logistics.shipments.daily")
    found = port.table().scan().to_arrow()["shipment_id"].to_pylist()
    expected = [i for o in outcomes for i in o["ids"]]
    assert sorted(found) == sorted(expected)
    assert len(found) == len(set(found))
    runs = {run for run, _ in published_runs(port)}
    assert runs == {o["run_id"] for o in outcomes}


@pytest.mark.slow
@pytest.mark.parametrize("modes", [("merge-on-read", "merge-on-read"), ("merge-on-read", "copy-on-write")])
def test_row_changes_racing_each_other_never_lose_or_resurrect_rows(
    shipments: ml.Lake, tmp_path: Path, modes: tuple[str, str]
) -> None:
    """Upserts and deletes in both write modes, from four processes on the same files: every acknowledged write is
    in main's history, and main's rows are exactly what replaying that history gives."""
    port = shipments.port("logistics.shipments.daily")
    port.write(batch("seed", 0, 20))
    jobs = [
        ("u0", "upsert", modes[0], 5),
        ("u1", "upsert", modes[1], 5),
        ("d0", "delete", modes[0], 4),
        ("a0", "append", modes[1], 5),
    ]
    context = multiprocessing.get_context("spawn")
    with context.Pool(len(jobs)) as pool:
        results = pool.starmap(run_row_changer, [(str(tmp_path / ".meshlake"), *job) for job in jobs])
    outcomes = {o["run_id"]: o for found in results for o in found}
    published = [run for run, _ in published_runs(port)]
    acknowledged = {run for run, o in outcomes.items() if o["ok"] and o["changed"]}  # a no-op publishes nothing
    assert acknowledged == {run for run in published if run in outcomes}
    expected: dict[str, float] = {f"seed-0-{i}": 0.0 for i in range(20)}
    for run in published:
        outcome = outcomes.get(run)
        if outcome is None:
            continue
        for key in outcome["ids"]:
            if outcome["mode"] == "delete":
                expected.pop(key, None)
            else:
                expected[key] = outcome["weight"]
    table = port.latest().to_arrow()
    found = table["shipment_id"].to_pylist()
    assert len(found) == len(set(found)), "a key was resurrected or duplicated"
    assert dict(zip(found, table["weight_kg"].to_pylist(), strict=True)) == expected
    assert sum(o["ok"] for o in outcomes.values()) >= len(jobs)
    assert any(o.get("used") == "merge-on-read" for o in outcomes.values())


@pytest.mark.slow
def test_overwrites_racing_appends_never_drop_an_acknowledged_write(shipments: ml.Lake, tmp_path: Path) -> None:
    jobs = [("a0", "append", 8), ("a1", "append", 8), ("o0", "overwrite", 6)]
    outcomes = run_all(tmp_path / ".meshlake", jobs)
    by_run = {o["run_id"]: o for o in outcomes}
    port = shipments.port("logistics.shipments.daily")
    published = published_runs(port)
    acknowledged = {o["run_id"] for o in outcomes if o["ok"]}
    assert acknowledged == {run for run, _ in published}, "an acknowledged write is missing from main's history"
    last_overwrite = max((i for i, (_, mode) in enumerate(published) if mode == "overwrite"), default=0)
    expected = [i for run, _ in published[last_overwrite:] for i in by_run[run]["ids"]]
    found = port.table().scan().to_arrow()["shipment_id"].to_pylist()
    assert sorted(found) == sorted(expected)


def test_an_overwrite_based_on_a_stale_snapshot_fails_with_a_conflict(port: Any) -> None:
    port.write(batch("seed", 0))
    stale = port.table()
    port.write(batch("other", 1))
    before = main_head(port.table())
    stamps = Stamps(writer="t", run_id="stale", product_version="1.4.0", mode="overwrite")
    with pytest.raises(CommitConflictError) as caught:
        write_port(
            port.lake.catalog,
            stale,
            batch("late", 2),
            address=str(port.address),
            mode="overwrite",
            where=None,
            primary_key=["shipment_id"],
            stamps=stamps,
            gate=None,
            quarantine_name="q",
        )
    assert caught.value.address == "logistics.shipments.daily"
    assert main_head(port.table()) == before
    assert "other-1-0" in port.table().scan().to_arrow()["shipment_id"].to_pylist()


def test_an_append_based_on_a_stale_snapshot_is_rebased(port: Any) -> None:
    port.write(batch("seed", 0))
    stale = port.table()
    port.write(batch("other", 1))
    stamps = Stamps(writer="t", run_id="late", product_version="1.4.0", mode="append")
    result = write_port(
        port.lake.catalog,
        stale,
        batch("late", 2),
        address=str(port.address),
        mode="append",
        where=None,
        primary_key=["shipment_id"],
        stamps=stamps,
        gate=None,
        quarantine_name="q",
    )
    assert result.rebases == 1
    assert len(port.table().scan().to_arrow()) == 9


def test_a_replace_of_another_partition_is_rebased(port: Any) -> None:
    from datetime import UTC, datetime

    port.write(batch("seed", 0))
    stale = port.table()
    day2 = batch("day2", 1).set_column(
        1, "shipped_at", pa.array([datetime(2026, 11, 2, tzinfo=UTC)] * 3, pa.timestamp("us", tz="UTC"))
    )
    port.write(day2)
    stamps = Stamps(writer="t", run_id="replace", product_version="1.4.0", mode="replace")
    where = "shipped_at < '2026-11-02T00:00:00+00:00'"
    result = write_port(
        port.lake.catalog,
        stale,
        batch("fresh", 2),
        address=str(port.address),
        mode="replace",
        where=where,
        primary_key=["shipment_id"],
        stamps=stamps,
        gate=None,
        quarantine_name="q",
    )
    assert result.rebases == 1
    found = sorted(port.table().scan().to_arrow()["shipment_id"].to_pylist())
    assert found == sorted(batch("fresh", 2)["shipment_id"].to_pylist() + day2["shipment_id"].to_pylist())


def test_a_commit_never_builds_on_a_main_other_than_the_base_it_asserts(port: Any) -> None:
    """The snapshot is built on the table object's `main`; if that is not the asserted base (here the table was
    loaded before a rollback), the commit must stop instead of carrying the newer files into `main`."""
    port.write(batch("seed", 0))
    base = main_head(port.table())
    port.write(batch("undone", 1))
    newer = port.table()
    port.rollback(to=base)
    with pytest.raises(MainMovedError) as caught:
        commit_snapshot(port.lake.catalog, newer, Change("append"), branch="main", base_id=base, properties={})
    assert caught.value.head == main_head(caught.value.table) != base
    assert main_head(port.table()) == base
    assert "undone-1-0" not in port.table().scan().to_arrow()["shipment_id"].to_pylist()
